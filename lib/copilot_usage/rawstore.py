"""The immutable raw store: ``data/raw/<kind>=<slug>/<report>/<day-or-window>/<sha16>.<ext>`` + sidecar.

Files are content-addressed: re-fetching identical bytes adds nothing; a late correction adds a second
version beside the first, and the newest ``fetched_at`` wins downstream. Writes go to ``raw/.tmp`` and
are moved into place with ``os.replace`` (atomic), so a killed fetch leaves no partial file behind.
Fetch outcomes (including "no data" and "pending" days) are appended to ``raw/_fetch_log.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .reports import Scope

LOG = "_fetch_log.jsonl"


def raw_root(data_dir: Path) -> Path:
    return Path(data_dir) / "raw"


def tmp_dir(data_dir: Path) -> Path:
    d = raw_root(data_dir) / ".tmp"
    d.mkdir(parents=True, exist_ok=True)
    return d


def clean_tmp(data_dir: Path) -> None:
    shutil.rmtree(raw_root(data_dir) / ".tmp", ignore_errors=True)


def new_tmp(data_dir: Path) -> Path:
    return tmp_dir(data_dir) / uuid.uuid4().hex


def slot(data_dir: Path, scope: Scope, report: str, key: str) -> Path:
    return raw_root(data_dir) / f"{scope.kind}={scope.slug}" / report / key


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write(path: Path, data: bytes, data_dir: Path) -> None:
    tmp = new_tmp(data_dir)
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class RawFile:
    path: Path
    meta: dict[str, Any]

    @property
    def fetched_at(self) -> str:
        return str(self.meta["fetched_at"])


def put(
    data_dir: Path, scope: Scope, report: str, key: str, tmp: Path, *, ext: str, provenance: dict[str, Any]
) -> tuple[str, Path]:
    """Move a downloaded temp file into the store. Returns ``("fetched"|"changed"|"unchanged", path)``."""
    sha = _sha256(tmp)
    folder = slot(data_dir, scope, report, key)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sha[:16]}.{ext}"
    sidecar = folder / f"{sha[:16]}.meta.json"
    if target.exists() and sidecar.exists():
        tmp.unlink(missing_ok=True)
        return "unchanged", target
    had_versions = bool(versions(folder))
    size = tmp.stat().st_size
    meta = {
        **provenance,
        "scope": str(scope),
        "report": report,
        "key": key,
        "file": target.name,
        "sha256": sha,
        "bytes": size,
        "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "kit_version": __version__,
    }
    # sidecar first, data second: a crash in between leaves a sidecar without data, which readers ignore
    # and the next fetch completes; a data file is never visible without its provenance
    _atomic_write(sidecar, json.dumps(meta, indent=1).encode(), data_dir)
    os.replace(tmp, target)
    return ("changed" if had_versions else "fetched"), target


def versions(folder: Path) -> list[RawFile]:
    """All complete versions in a slot, oldest first (a data file without its sidecar is ignored)."""
    out = []
    for meta_path in folder.glob("*.meta.json"):
        meta = json.loads(meta_path.read_text())
        data = folder / meta["file"]
        if data.exists():
            out.append(RawFile(data, meta))
    return sorted(out, key=lambda f: f.fetched_at)


def newest(folder: Path) -> RawFile | None:
    v = versions(folder)
    return v[-1] if v else None


def slots(data_dir: Path, report: str) -> list[tuple[Scope, str, Path]]:
    """Every ``(scope, key, folder)`` of a report in the store."""
    out = []
    root = raw_root(data_dir)
    for scope_dir in sorted(root.glob("*=*")):
        kind, _, slug = scope_dir.name.partition("=")
        for folder in sorted((scope_dir / report).glob("*")):
            if folder.is_dir():
                out.append((Scope(kind, slug), folder.name, folder))  # type: ignore[arg-type]
    return out


def log_outcome(data_dir: Path, record: dict[str, Any]) -> None:
    """Append one fetch outcome (no URLs, no tokens) to the fetch log."""
    path = raw_root(data_dir) / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({**record, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}) + "\n"
    with path.open("a") as fh:
        fh.write(line)


def read_log(data_dir: Path) -> list[dict[str, Any]]:
    path = raw_root(data_dir) / LOG
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a crash mid-append
    return out
