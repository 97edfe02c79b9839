"""The raw store: identical bytes add nothing, changed bytes keep both versions and the newest wins."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from copilot_usage.catalog import Scope
from copilot_usage.ingest import rawstore

S = Scope("org", "acme")


def _put(data_dir: Path, body: bytes) -> str:
    status, _ = rawstore.put_bytes(
        data_dir, S, "users-1-day", "2026-11-02", body, ext="ndjson", provenance={"endpoint": "x"}
    )
    return status


def test_identical_bytes_add_nothing_changed_bytes_keep_both(tmp_path: Path) -> None:
    assert _put(tmp_path, b'{"a":1}\n') == "fetched"
    assert _put(tmp_path, b'{"a":1}\n') == "unchanged"
    time.sleep(0.01)
    assert _put(tmp_path, b'{"a":2}\n') == "changed"
    folder = rawstore.slot(tmp_path, S, "users-1-day", "2026-11-02")
    versions = rawstore.versions(folder)
    assert len(versions) == 2 and versions[-1].path.read_bytes() == b'{"a":2}\n'
    assert rawstore.newest(folder) == versions[-1]
    assert {"endpoint", "sha256", "bytes", "fetched_at", "kit_version", "report", "key"} <= set(versions[0].meta)
    assert not list(rawstore.tmp_dir(tmp_path).iterdir())


def test_a_data_file_without_its_sidecar_is_invisible_and_completed_later(tmp_path: Path) -> None:
    _put(tmp_path, b'{"a":1}\n')
    folder = rawstore.slot(tmp_path, S, "users-1-day", "2026-11-02")
    sidecar = next(folder.glob("*.meta.json"))
    sidecar.unlink()  # as if someone deleted it
    assert rawstore.newest(folder) is None
    assert _put(tmp_path, b'{"a":1}\n') == "fetched"
    assert rawstore.newest(folder) is not None


def test_a_sidecar_cut_by_a_crash_is_ignored_and_rewritten(tmp_path: Path) -> None:
    _put(tmp_path, b'{"a":1}\n')
    folder = rawstore.slot(tmp_path, S, "users-1-day", "2026-11-02")
    sidecar = next(folder.glob("*.meta.json"))
    data = next(p for p in folder.iterdir() if p != sidecar)
    data.unlink()  # a crash after the sidecar was begun: its data file was never moved in
    sidecar.write_bytes(sidecar.read_bytes()[:40])
    assert rawstore.versions(folder) == []
    assert _put(tmp_path, b'{"a":1}\n') == "fetched"
    assert rawstore.newest(folder).meta["bytes"] == 8  # type: ignore[union-attr]


def test_incoming_hash_forgets_a_rewound_part(tmp_path: Path) -> None:
    import hashlib

    incoming = rawstore.Incoming(tmp_path)
    incoming.start_part()
    incoming.write(b'{"a":1}\n')
    incoming.start_part()
    incoming.write(b'{"b":')  # cut mid-body
    incoming.rewind()
    incoming.write(b'{"b":2}\n')
    sha = incoming.finish()
    assert incoming.path.read_bytes() == b'{"a":1}\n{"b":2}\n'
    assert sha == hashlib.sha256(b'{"a":1}\n{"b":2}\n').hexdigest()


def test_incoming_joins_parts_gunzips_and_rewinds_a_retried_part(tmp_path: Path) -> None:
    import gzip
    import hashlib

    incoming = rawstore.Incoming(tmp_path)
    incoming.start_part()
    for chunk in (b'{"a"', b":1}"):  # no trailing newline: one is added between parts
        incoming.write(chunk)
    incoming.start_part()
    body = gzip.compress(b'{"b":2}\n') + gzip.compress(b'{"c":3}\n')  # two gzip members
    incoming.write(body[:1])  # fewer bytes than the magic number
    incoming.write(body[1:9])
    incoming.rewind()  # the link failed mid-body and is fetched again
    for k in range(0, len(body), 7):
        incoming.write(body[k : k + 7])
    incoming.start_part()
    incoming.write(b"[")  # a one-byte part
    sha = incoming.finish()
    data = incoming.path.read_bytes()
    assert data == b'{"a":1}\n{"b":2}\n{"c":3}\n[\n'
    assert sha == hashlib.sha256(data).hexdigest() and incoming.gzip


def test_incoming_refuses_a_truncated_gzip_part(tmp_path: Path) -> None:
    import gzip

    import pytest

    incoming = rawstore.Incoming(tmp_path)
    incoming.start_part()
    incoming.write(gzip.compress(b'{"a":1}\n' * 100)[:-12])
    with pytest.raises(ValueError, match="truncated gzip"):
        incoming.finish()
    incoming.discard()
    assert not incoming.path.exists()


def test_incoming_drains_in_batches_and_a_rewind_after_a_drain_truncates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued chunks are written when FLUSH_BYTES wait; a part rewound after some of it was written is cut back
    to where it began, and the file and its hash hold only what was finally received."""
    import hashlib

    monkeypatch.setattr(rawstore, "FLUSH_BYTES", 8)
    incoming = rawstore.Incoming(tmp_path)
    incoming.start_part()
    assert incoming.write(b'{"a":1}\n') is True  # 8 bytes wait: the caller drains (off the event loop)
    incoming.drain()
    assert incoming.size == 8
    incoming.start_part()
    assert incoming.write(b'{"b":') is False
    assert incoming.write(b'2,"c"') is True
    assert incoming.size == 8  # queued, not written
    incoming.drain()  # part of the second part is written
    assert incoming.size == 18
    incoming.rewind()  # ... and its link failed: received again
    incoming.write(b'{"b":2}\n')
    sha = incoming.finish()
    assert incoming.path is not None and incoming.path.read_bytes() == b'{"a":1}\n{"b":2}\n'
    assert sha == hashlib.sha256(b'{"a":1}\n{"b":2}\n').hexdigest()


def test_an_empty_download_is_an_empty_file(tmp_path: Path) -> None:
    import hashlib

    incoming = rawstore.Incoming(tmp_path)
    incoming.start_part()
    sha = incoming.finish()
    assert incoming.path is not None and incoming.path.read_bytes() == b""
    assert sha == hashlib.sha256(b"").hexdigest()


def test_a_table_the_cache_lacks_is_the_kits_own_error_naming_the_build(tmp_path: Path) -> None:
    from copilot_usage import CopilotUsageError, NotInCache
    from copilot_usage.cache import read

    with pytest.raises(NotInCache, match="run `copilot-usage build`") as info:
        read.scan(tmp_path, "user_day")
    assert isinstance(info.value, CopilotUsageError) and isinstance(info.value, FileNotFoundError)
