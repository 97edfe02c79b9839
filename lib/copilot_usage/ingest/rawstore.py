"""The immutable raw store: ``data/raw/<kind>=<slug>/<report>/<day-or-window>/<sha16>.<ext>`` + sidecar.

Files are content-addressed: re-fetching identical bytes adds nothing; a late correction adds a second
version beside the first, and the newest ``fetched_at`` wins downstream. Writes go to ``raw/.tmp`` and
are moved into place with ``os.replace`` (atomic), so a killed fetch leaves no partial file behind.
Fetch outcomes (including "no data" and "pending" days) are appended to ``raw/_fetch_log.jsonl``.

On an object store (a data dir ``s3://…``, ``gs://…``, ``az://…``) the same promises hold another way: a download
is written to a local temp file, then put with a conditional put (If-None-Match), so an object is written once and
two writers never replace each other's; the fetch log is one object per run and flush under ``raw/_fetch_log/``,
read back as their union; :class:`FetchLock` is an object created the same way, with a lease.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Self

from .. import __version__
from ..catalog import Scope
from ..errors import DownloadError, InputError, StoreError
from ..storage import objstore
from ..storage.objstore import ObjectPath
from .limits import Limits

LOG = "_fetch_log.jsonl"
LOG_PARTS = "_fetch_log"  # on an object store: one object per run and flush
LOCK = "_fetch.lock"


def raw_root(data_dir: Path | str) -> Path:
    return objstore.path(data_dir, "raw")  # type: ignore[return-value]  # an ObjectPath on an object store


def _tmp_root(data_dir: Path | str) -> Path:
    """Where downloads are written before they are stored: beside them, or locally for an object store (put whole
    once complete)."""
    if objstore.is_url(data_dir):
        name = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"copilot-usage-{name}"
    return raw_root(data_dir) / ".tmp"


def tmp_dir(data_dir: Path) -> Path:
    d = _tmp_root(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    return d


def clean_tmp(data_dir: Path) -> None:
    shutil.rmtree(_tmp_root(data_dir), ignore_errors=True)


@contextmanager
def naming(path: Path | None) -> Iterator[None]:
    """An OSError from writing ``path`` names it (a write or close on a full disk raises one without a name)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None or path is None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def open_tmp(data_dir: Path) -> tuple[Path, BinaryIO]:
    """A new temp file, open for writing. The folder is made only when the create finds it missing: a fetch
    writes thousands of files, and a ``mkdir`` that finds the folder is a directory-locked syscall each time."""
    path = _tmp_root(data_dir) / uuid.uuid4().hex
    try:
        return path, path.open("xb", buffering=1 << 16)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path, path.open("xb", buffering=1 << 16)


def write_tmp(data_dir: Path, data: bytes) -> Path:
    """A new temp file holding ``data`` (removed again if it cannot be written whole)."""
    path, fh = open_tmp(data_dir)
    try:
        with naming(path), fh:
            fh.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


FLUSH_BYTES = 1 << 20  # what a download holds in memory before it is written out
GZIP_RATIO_AFTER = 16 << 20  # decompressed bytes before Limits.gzip_ratio is checked
GZIP = b"\x1f\x8b"
_BLANK = b" \t\r\n"


def _until_known(head: bytes, what: str) -> bytes | None:
    """``head`` while its first bytes cannot yet tell whether it is a report, None once they say it is; raises
    :class:`DownloadError` (``what``, and how it begins) when they say it is not."""
    ok = _report_start(head[:64])
    if ok is False:
        msg = f"{what}: it begins {head[:24]!r}"
        raise DownloadError(msg)
    return None if ok else head


def _report_start(head: bytes) -> bool | None:
    """Whether a body beginning ``head`` can be a report (JSON, NDJSON, or gzip of one); None while too few bytes
    tell. A proxy's HTML error page served with a 200 begins ``<``."""
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip(_BLANK)
    if not head or head == GZIP[:1]:
        return None
    return head[:2] == GZIP or head[:1] in (b"{", b"[")


class Incoming:
    """A download being written: its parts (a sharded day's links) streamed one after another into one temp file,
    newline-separated, gzip bodies decompressed as they arrive (GitHub does not document compression, so the
    magic bytes decide). A part can be rewound and received again (a retried link) without touching the parts
    before it. The file is hashed as it is written (no second read).

    ``start_part``, ``write`` and ``rewind`` only queue: the file work (create, decompress, write, hash) happens in
    ``drain``, in order, which the caller runs off the event loop whenever ``write`` says that ``FLUSH_BYTES`` are
    waiting, and ``finish`` drains the rest. A backfill's event loop then spends its time on the network, and a
    body is never held in memory whole.

    Bounds (:class:`~copilot_usage.ingest.limits.Limits`): a part must begin like a report (checked as it arrives, so an
    HTML page fails its download attempt, which is retried); the file stored stays under ``stored_bytes``, and gzip
    bodies under ``gzip_ratio`` (a small gzip that expands to gigabytes fails within its first 16 MiB)."""

    def __init__(self, data_dir: Path, limits: Limits | None = None) -> None:
        self.data_dir = data_dir
        self.limits = limits or Limits()
        self.path: Path | None = None
        self._fh: BinaryIO | None = None
        self.size = 0
        self.gzip = False
        self._ops: list[bytes | str] = []  # chunks, "part" and "rewind" marks, in arrival order
        self._queued = 0
        self._mark = 0
        self._hash = hashlib.sha256()
        self._hash_mark = self._hash.copy()
        self._wire: bytes | None = b""  # the first bytes received of the part, until they tell what it is
        self._new_part()

    def _new_part(self) -> None:
        self._head = b""  # the first bytes of the part, until there are enough to sniff
        self._inflate: Any = None
        self._sniffed = False
        self._last = b""
        self._plain: bytes | None = b""  # the first decompressed bytes of a gzip part, until they tell
        self._gz_in = self._gz_out = 0

    def start_part(self) -> None:
        self._ops.append("part")
        self._wire = b""

    def rewind(self) -> None:
        """Forget what was received of the current part."""
        while self._ops and isinstance(self._ops[-1], bytes):  # not written yet: dropped
            self._queued -= len(self._ops.pop())
        self._ops.append("rewind")
        self._wire = b""

    def write(self, chunk: bytes) -> bool:
        """Queue a chunk; True when ``FLUSH_BYTES`` wait for :meth:`drain`. A part that does not begin like a
        report raises :class:`DownloadError` at once."""
        if self._wire is not None:
            self._wire = _until_known(self._wire + chunk, "download is not a report (JSON, NDJSON or gzip)")
        self._ops.append(chunk)
        self._queued += len(chunk)
        return self._queued >= FLUSH_BYTES

    def drain(self) -> None:
        """Write out everything queued (blocking file work: run it off the event loop)."""
        ops, self._ops, self._queued = self._ops, [], 0
        for op in ops:
            if op == "part":
                self._end_part()
                self._mark = self.size
                self._hash_mark = self._hash.copy()
            elif op == "rewind":
                self._rewind()
            else:
                self._receive(op)  # type: ignore[arg-type]

    def _rewind(self) -> None:
        if self.size != self._mark:
            assert self._fh is not None
            self._fh.seek(self._mark)
            self._fh.truncate()
            self.size = self._mark
            self._hash = self._hash_mark.copy()
        self._new_part()

    def _receive(self, chunk: bytes) -> None:
        if not self._sniffed:
            self._head += chunk
            if len(self._head) < 2:
                return
            chunk, self._head, self._sniffed = self._head, b"", True
            if chunk[:2] == GZIP:
                self.gzip = True
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._inflate is not None:
            self._gunzip(chunk)
        else:
            self._out(chunk)

    def _gunzip(self, data: bytes) -> None:
        """Decompress and write out ``data`` a bounded piece at a time (a bomb never sits in memory whole)."""
        self._gz_in += len(data)
        while data:
            out = self._inflate.decompress(data, FLUSH_BYTES)
            data = self._inflate.unconsumed_tail
            if self._inflate.eof and self._inflate.unused_data:  # concatenated gzip members
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._gz_out += len(out)
            if self._gz_out > GZIP_RATIO_AFTER and self._gz_out > self.limits.gzip_ratio * self._gz_in:
                msg = (
                    f"gzip download expands over {self.limits.gzip_ratio:g} times its size "
                    f"({self._gz_in:,} bytes to over {self._gz_out:,}; --limit gzip_ratio)"
                )
                raise DownloadError(msg, final=True)
            if self._plain is not None and out:
                self._plain = _until_known(self._plain + out, "gzip download is not a report (JSON or NDJSON)")
            self._out(out)

    def _out(self, data: bytes) -> None:
        if data:
            if self.size + len(data) > self.limits.stored_bytes:
                msg = f"download over the {self.limits.stored_bytes:,}-byte bound as stored (--limit stored_bytes)"
                raise DownloadError(msg, final=True)
            if self._fh is None:
                self.path, self._fh = open_tmp(self.data_dir)
            with naming(self.path):
                self._fh.write(data)
            self._hash.update(data)
            self.size += len(data)
            self._last = data[-1:]

    def _end_part(self) -> None:
        if not self._sniffed and self._head:  # a one-byte part
            self._sniffed = True
            self._out(self._head)
        if self._inflate is not None and not self._inflate.eof:
            msg = "truncated gzip body"
            raise ValueError(msg)
        if self._last and self._last != b"\n":
            self._out(b"\n")
        self._new_part()

    @property
    def encoding(self) -> str:
        return "gzip (decompressed on download)" if self.gzip else "identity"

    def finish(self) -> str:
        """Drain, close the file (an empty body gets an empty file); returns its sha256."""
        self.drain()
        self._end_part()
        if self._fh is None:
            self.path, self._fh = open_tmp(self.data_dir)
        with naming(self.path):
            self._fh.close()
        return self._hash.hexdigest()

    def discard(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):  # its buffer could not be written (a full disk): the file goes anyway
                self._fh.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def slot(data_dir: Path, scope: Scope, report: str, key: str) -> Path:
    """The folder of one report day (window, month …). The last check before every write, whatever a caller let
    through: each part is one plain folder name and the folder resolves inside ``data/raw`` (symbolic links
    followed), else :class:`InputError`."""
    root = raw_root(data_dir)
    parts = (f"{scope.kind}={scope.slug}", report, key)
    folder = root.joinpath(*parts)
    plain = all(p and p not in (".", "..") and not _UNSAFE.intersection(p) for p in parts)
    if not plain or not (isinstance(folder, ObjectPath) or folder.resolve().is_relative_to(root.resolve())):
        msg = f"refused to write {str(folder)!r}: not a folder inside {str(root)!r}"
        raise InputError(msg)
    return folder


_UNSAFE = frozenset("/\\\x00")


@dataclass(frozen=True)
class RawFile:
    path: Path
    meta: dict[str, Any]

    @property
    def fetched_at(self) -> str:
        return str(self.meta["fetched_at"])


def put(
    data_dir: Path,
    scope: Scope,
    report: str,
    key: str,
    tmp: Path,
    *,
    ext: str,
    provenance: dict[str, Any],
    sha256: str,
) -> tuple[str, Path]:
    """Move a downloaded temp file into the store (``sha256``: its hash, taken as it was written). Returns
    ``("fetched"|"changed"|"unchanged", path)``."""
    folder = slot(data_dir, scope, report, key)
    target = folder / f"{sha256[:16]}.{ext}"
    sidecar = folder / f"{sha256[:16]}.meta.json"
    if isinstance(folder, ObjectPath):
        meta = {**provenance, "scope": str(scope), "report": report, "key": key, "sha256": sha256}
        return _put_object(folder, target, sidecar, tmp, meta)
    try:
        folder.mkdir(parents=True)
        had_versions = False
    except FileExistsError:
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
        "sha256": sha256,
        "bytes": size,
        "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "kit_version": __version__,
    }
    # sidecar first, data second: a crash in between leaves a sidecar without data (or a cut one), which
    # readers ignore and the next fetch rewrites; a data file is never visible without its whole provenance
    # one line (indent would take json's Python encoder); a buffer size given, so open() skips its isatty() syscall
    with naming(sidecar), sidecar.open("wb", buffering=1 << 12) as fh:
        fh.write(json.dumps(meta).encode())
    os.replace(tmp, target)
    return ("changed" if had_versions else "fetched"), target


def _put_object(
    folder: ObjectPath, target: ObjectPath, sidecar: ObjectPath, tmp: Path, provenance: dict[str, Any]
) -> tuple[str, Path]:
    """:func:`put` on an object store. Both objects are created with a conditional put (If-None-Match), sidecar
    first: an object is never replaced, and of two writers storing the same bytes one writes them and the other
    finds them there ("unchanged"). A crash between the two leaves a sidecar without data, which readers ignore and
    the next fetch completes (its data object is still missing)."""
    names = set(folder.listing())
    try:
        if target.name in names and sidecar.name in names:
            return "unchanged", target  # type: ignore[return-value]
        had_versions = any(n.endswith(".meta.json") and n != sidecar.name for n in names)
        meta = {
            **provenance,
            "file": target.name,
            "bytes": tmp.stat().st_size,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "kit_version": __version__,
        }
        sidecar.write_bytes(json.dumps(meta).encode(), create=True)  # False: a racing writer's, describing these bytes
        stored = target.write_bytes(tmp, create=True)
    finally:
        tmp.unlink(missing_ok=True)
    if not stored:  # another writer stored the same bytes first: nothing was replaced
        return "unchanged", target  # type: ignore[return-value]
    return ("changed" if had_versions else "fetched"), target  # type: ignore[return-value]


def put_bytes(
    data_dir: Path, scope: Scope, report: str, key: str, data: bytes, *, ext: str, provenance: dict[str, Any]
) -> tuple[str, Path]:
    """:func:`put` for a body already in memory (an API answer, an imported file)."""
    sha = hashlib.sha256(data).hexdigest()
    slot(data_dir, scope, report, key)  # refused before a temp file is written
    tmp = write_tmp(data_dir, data)
    try:
        return put(data_dir, scope, report, key, tmp, ext=ext, provenance=provenance, sha256=sha)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def versions(folder: Path) -> list[RawFile]:
    """All complete versions in a slot, oldest first (a sidecar without its data file is ignored)."""
    out = []
    if isinstance(folder, ObjectPath):  # one listing, then the sidecars
        names = set(folder.listing())
        for name in sorted(n for n in names if n.endswith(".meta.json")):
            meta = json.loads((folder / name).read_bytes())
            if meta["file"] in names:
                out.append(RawFile(folder / meta["file"], meta))
        return sorted(out, key=lambda f: f.fetched_at)
    for meta_path in folder.glob("*.meta.json"):
        try:
            meta = json.loads(meta_path.read_text())
        except ValueError:  # cut by a crash while written; its data file was never moved in
            continue
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
    if isinstance(root, ObjectPath):
        return _object_slots(root, report)
    for scope_dir in sorted(root.glob("*=*")):
        kind, _, slug = scope_dir.name.partition("=")
        try:
            scope = Scope(kind, slug)  # type: ignore[arg-type]
        except ValueError:  # not a name this kit writes (a folder put there by hand, or by a kit before the checks)
            continue
        for folder in sorted((scope_dir / report).glob("*")):
            if folder.is_dir():
                out.append((scope, folder.name, folder))
    return out


def slot_versions(data_dir: Path, report: str) -> list[tuple[Scope, str, list[RawFile]]]:
    """Every ``(scope, key, versions)`` of a report in the store (:func:`slots` with :func:`versions`). On an object
    store one listing per scope and the sidecars read 16 at a time: a request per folder and sidecar, one after
    another, made a build on S3 several times slower than on disk."""
    root = raw_root(data_dir)
    if not isinstance(root, ObjectPath):
        return [(scope, key, versions(folder)) for scope, key, folder in slots(data_dir, report)]
    found: list[tuple[Scope, str, ObjectPath, set[str]]] = []
    for name in sorted(n for n in root.folders() if "=" in n):
        kind, _, slug = name.partition("=")
        try:
            scope = Scope(kind, slug)  # type: ignore[arg-type]
        except ValueError:
            continue
        by_key: dict[str, set[str]] = {}
        for rel in (root / name / report).tree():
            key, _, file = rel.rpartition("/")
            if key and "/" not in key:
                by_key.setdefault(key, set()).add(file)
        found += [(scope, key, root / name / report / key, files) for key, files in sorted(by_key.items())]  # type: ignore[misc]
    sidecars = [(folder / f) for _, _, folder, files in found for f in sorted(files) if f.endswith(".meta.json")]
    with ThreadPoolExecutor(max_workers=16) as pool:
        metas = dict(zip(map(str, sidecars), pool.map(lambda p: json.loads(p.read_bytes()), sidecars), strict=True))
    out = []
    for scope, key, folder, files in found:
        here = [metas[str(folder / f)] for f in sorted(files) if f.endswith(".meta.json")]
        day = sorted((RawFile(folder / m["file"], m) for m in here if m["file"] in files), key=lambda f: f.fetched_at)
        out.append((scope, key, day))
    return out


def _object_slots(root: ObjectPath, report: str) -> list[tuple[Scope, str, Path]]:
    out: list[tuple[Scope, str, Path]] = []
    for name in sorted(n for n in root.folders() if "=" in n):
        kind, _, slug = name.partition("=")
        try:
            scope = Scope(kind, slug)  # type: ignore[arg-type]
        except ValueError:
            continue
        folder = root / name / report
        out += [(scope, key, folder / key) for key in sorted(folder.folders())]  # type: ignore[misc]
    return out


class FetchLog:
    """The fetch log held open for a whole fetch. Outcomes are buffered and written out with the first outcome
    that comes ``FLUSH_EVERY_S`` after the last write, and at the end (a backfill records thousands; a write per
    outcome was a syscall on the event loop each). A killed fetch can lose its last unwritten outcomes: the data
    files it stored are the record that matters, and a day whose "no data" outcome was lost is only asked again.
    A log that cannot be written (a full disk, a read-only folder) never raises: ``error`` holds why, and the
    outcomes it lost are only asked again."""

    FLUSH_EVERY_S = 0.5

    def __init__(self, data_dir: Path) -> None:
        self.path = raw_root(data_dir) / LOG
        self.error: OSError | None = None
        self._fh: Any = None

    def __enter__(self) -> Self:
        self._flushed = time.monotonic()
        if isinstance(self.path, ObjectPath):  # objects cannot be appended to: one object per flush
            self._fh = _ObjectLog(self.path.parent / LOG_PARTS)
            self.FLUSH_EVERY_S = _ObjectLog.FLUSH_EVERY_S
            return self
        with self._guard():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a")
        return self

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            with naming(self.path):
                yield
        except OSError as exc:
            self.error = self.error or exc

    def add(self, record: dict[str, Any]) -> None:
        """Append one fetch outcome (no URLs, no tokens)."""
        if self._fh is None or self.error is not None:
            return
        line = json.dumps({**record, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}) + "\n"
        with self._guard():
            self._fh.write(line)
            if (now := time.monotonic()) - self._flushed >= self.FLUSH_EVERY_S:
                self._fh.flush()
                self._flushed = now

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            with self._guard():
                self._fh.close()  # a failed flush still closes the file


class _ObjectLog:
    """The fetch log's lines of one run on an object store, written as a new object per flush
    (``raw/_fetch_log/<UTC time>-<run>-<n>.jsonl``): never an append, so no writer loses another's lines."""

    FLUSH_EVERY_S = 30.0  # an object per flush: fewer, larger objects than the local file's 0.5 s

    def __init__(self, folder: ObjectPath) -> None:
        self.folder, self.n = folder, 0
        self.lines: list[str] = []
        self.run = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"

    def write(self, line: str) -> None:
        self.lines.append(line)

    def flush(self) -> None:
        if self.lines:
            data, self.lines = "".join(self.lines).encode(), []
            self.n += 1
            try:
                (self.folder / f"{self.run}-{self.n:05d}.jsonl").write_bytes(data, create=True)
            except StoreError as exc:
                raise OSError(str(exc)) from exc

    def close(self) -> None:
        self.flush()


def log_outcome(data_dir: Path, record: dict[str, Any]) -> None:
    """Append one fetch outcome (no URLs, no tokens) to the fetch log."""
    with FetchLog(data_dir) as fetch_log:
        fetch_log.add(record)


def read_log(data_dir: Path) -> list[dict[str, Any]]:
    path = raw_root(data_dir) / LOG
    if isinstance(path, ObjectPath):  # the union of every run's objects, in time order
        parts = path.parent / LOG_PARTS
        text = "".join((parts / name).read_text() for name in sorted(parts.listing()))
    elif not path.exists():
        return []
    else:
        text = path.read_text()
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a crash mid-append
    return out


def _gone(owner: str) -> bool:
    """Whether a lock's owner (``host:pid:run``) was a process of this machine that no longer runs (killed)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: it runs
        return False
    return False


class FetchLock:
    """Keeps two fetches of one data dir apart (each would clean the other's temp files and race on the log): a
    lock object ``raw/_fetch.lock`` created only if absent (``open(…, "x")``; on an object store a conditional put,
    If-None-Match), holding who took it and until when. The holder renews the lease every ``LEASE_S / 3``; a lock
    whose lease ran out, or whose process on this machine is gone, is taken over (its fetch was killed), so a crash
    never blocks the data dir for good."""

    LEASE_S = 600.0

    def __init__(self, data_dir: Path | str) -> None:
        self.path = raw_root(data_dir) / LOCK
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _body(self) -> bytes:
        now = dt.datetime.now(dt.UTC)
        until = now + dt.timedelta(seconds=self.LEASE_S)
        return json.dumps({"owner": self.owner, "renewed": now.isoformat(), "expires": until.isoformat()}).encode()

    def _create(self) -> bool:
        if isinstance(self.path, ObjectPath):
            return self.path.write_bytes(self._body(), create=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with naming(self.path), self.path.open("xb") as fh:
                fh.write(self._body())
        except FileExistsError:
            return False
        return True

    def _held(self) -> dict[str, Any]:
        try:
            held: dict[str, Any] = json.loads(self.path.read_bytes())
        except (ValueError, FileNotFoundError):
            return {}
        except Exception as exc:
            if type(exc).__name__ == "NotFoundError":
                return {}
            raise
        return held

    def __enter__(self) -> Self:
        if not self._create():
            held = self._held()
            expires = dt.datetime.fromisoformat(held.get("expires", "1970-01-01T00:00:00+00:00"))
            if expires > dt.datetime.now(dt.UTC) and not _gone(held.get("owner", "")):
                msg = (
                    f"{self.path}: another fetch ({held.get('owner', '?')}) is writing this data dir; its lease "
                    f"ends {expires:%Y-%m-%d %H:%M:%S} UTC unless renewed — wait for it to finish"
                )
                raise StoreError(msg)
            self.path.unlink(missing_ok=True)  # a killed fetch's lock: taken over
            if not self._create():
                msg = f"{self.path}: another fetch took over the expired lock first — wait for it to finish"
                raise StoreError(msg)
        self._renewer = threading.Thread(target=self._renew, name="fetch-lock", daemon=True)
        self._renewer.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.LEASE_S / 3):
            with contextlib.suppress(Exception):  # a missed renewal is retried; the lease outlasts two of them
                self.path.write_bytes(self._body())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self._held().get("owner") == self.owner:
            self.path.unlink(missing_ok=True)
