"""``copilot-usage import``: files downloaded from GitHub's dashboard (or anywhere) into the raw store.

Accepts every documented shape (NDJSON, a single JSON object, a JSON array, an object wrapping rows in
``day_totals``; see GitHub's examples at
https://docs.github.com/en/enterprise-cloud@latest/copilot/reference/copilot-usage-metrics/example-schema),
with or without a byte-order mark. The report kind and scope are read from the records (or given), rows are
split by ``day`` into the same raw slots ``fetch`` writes, so ``build`` treats them alike. A 28-day user file
becomes the 1-day user rows of each of its days. A line that cannot be read or placed is rejected with its
file and line number; the rest of the file is imported.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..cache.daily import DAILY
from ..cache.parse import REPO_ALIASES, parse_rows
from ..catalog import ID_PREFIX, Scope, check_day, check_id
from ..errors import InputError
from . import rawstore


@dataclass
class Imported:
    """What one file gave: ``(scope, report, day, status)`` per stored slot, and rejected lines."""

    file: str
    stored: list[tuple[str, str, str, str]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


REPO_KEYS = ("repository_id", "repository_name", *REPO_ALIASES)


def detect_report(record: dict[str, Any]) -> str | None:
    """The raw-store report key of a record, from what its fields mean: a user id makes a user record (with a
    team id, a user-teams one), a repository id or name (either spelling) a repo record, and only a record that
    is none of these can be an aggregate one (repo records carry ``pull_requests`` too)."""
    if "team_id" in record and "user_id" in record:
        return "user-teams-1-day"
    if "user_id" in record:
        return "users-1-day"
    if any(k in record for k in REPO_KEYS):
        return "repos-1-day"
    if "daily_active_users" in record or "totals_by_feature" in record or "pull_requests" in record:
        return "aggregate-1-day"
    return None


def detect_scope(record: dict[str, Any]) -> Scope | None:
    """``org:id-<organization_id>`` when the row is org-scoped, else ``enterprise:id-<enterprise_id>``; an id that
    is not what GitHub documents (digits or a slug) is a ValueError naming it."""
    for field_name, kind in (("organization_id", "org"), ("enterprise_id", "enterprise")):
        if record.get(field_name) not in (None, ""):
            return Scope(kind, ID_PREFIX + check_id(field_name, record[field_name]))  # type: ignore[arg-type]
    return None


# A record (an NDJSON line, an item of a JSON array, a single JSON object) is read whole; a larger one is
# rejected, so an import holds at most this much of a file at a time, whatever the file's size.
MAX_RECORD_MB_ENV = "COPILOT_USAGE_IMPORT_MAX_RECORD_MB"
MAX_RECORD_MB = 64
_CHUNK = 1 << 20


def max_record_chars() -> int:
    """The bound on one record, in characters: ``MAX_RECORD_MB`` unless ``COPILOT_USAGE_IMPORT_MAX_RECORD_MB`` says."""
    try:
        return int(float(os.environ.get(MAX_RECORD_MB_ENV, MAX_RECORD_MB)) * (1 << 20))
    except ValueError:
        msg = f"{MAX_RECORD_MB_ENV}={os.environ[MAX_RECORD_MB_ENV]!r} is not a number of MB"
        raise InputError(msg) from None


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def encoding_of(path: Path) -> str:
    """UTF-8 (with or without a byte-order mark), or UTF-16 with its byte-order mark (what spreadsheet tools save
    as "Unicode text"); other encodings fail as they are read, with a message naming them."""
    with path.open("rb") as fh:
        head = fh.read(4)
    return next((enc for bom, enc in _BOMS if head.startswith(bom)), "utf-8")


Record = tuple[int, dict[str, Any], bytes]


def _records(path: Path, name: str, rejected: list[str]) -> Iterator[Record]:
    """``(line number, record, bytes)`` of any documented shape (NDJSON lines kept verbatim; items of a JSON array
    by their position), streamed a record at a time; what cannot be read goes to ``rejected``."""
    limit = max_record_chars()
    with path.open(encoding=encoding_of(path), newline="") as fh:
        head = fh.read(1 << 16)
        if not head.strip():
            rejected.append(f"{name}: empty file")
            return
        first = head.lstrip()[:1]
        ndjson = False
        if first == "{":
            fh.seek(0)
            line = fh.readline(limit)
            try:
                ndjson = isinstance(doc := json.loads(line), dict) and "day_totals" not in doc
            except (ValueError, RecursionError):
                ndjson = "\n{" in head  # a broken first line in an NDJSON file: still NDJSON, read line by line
        fh.seek(0)
        if ndjson:
            yield from _ndjson(fh, name, limit, rejected)
        else:
            yield from _documents(fh, name, limit, rejected)


def _ndjson(fh: TextIO, name: str, limit: int, rejected: list[str]) -> Iterator[Record]:
    number = 0
    while line := fh.readline(limit):
        number += 1
        if not line.endswith(("\n", "\r")) and len(line) == limit:  # cut at the bound: skip the rest of it
            while (more := fh.readline(limit)) and not more.endswith(("\n", "\r")):
                pass
            rejected.append(f"{name}: line {number}: longer than {limit >> 20} MB ({MAX_RECORD_MB_ENV} raises it)")
            continue
        text = line.strip()
        if not text:
            continue
        try:
            rec = json.loads(text)
        except (ValueError, RecursionError) as exc:
            rejected.append(f"{name}: line {number}: not valid JSON ({getattr(exc, 'msg', exc)})")
            continue
        if not isinstance(rec, dict):
            rejected.append(f"{name}: line {number}: not a JSON object")
            continue
        yield number, rec, text.encode()


def _documents(fh: TextIO, name: str, limit: int, rejected: list[str]) -> Iterator[Record]:
    """A JSON object, a JSON array of objects (or of ``day_totals`` wrappers), decoded an item at a time with
    ``json.JSONDecoder.raw_decode`` over a buffer refilled in chunks: memory holds one item, not the file."""
    decoder = json.JSONDecoder()
    buf, pos, eof = "", 0, False

    def fill(want: int) -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = fh.read(want)
        eof = not chunk
        buf, pos = buf[pos:] + chunk, 0
        return bool(chunk)

    def skip(chars: str) -> str:
        """The next character that is not whitespace or one of ``chars`` (consumed), '' at the end."""
        nonlocal pos
        while True:
            while pos < len(buf) and (buf[pos].isspace() or buf[pos] in chars):
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not fill(_CHUNK):
                return ""

    def value() -> Any:
        nonlocal pos
        want = _CHUNK
        while True:
            try:
                doc, pos = decoder.raw_decode(buf, pos)
                return doc
            except RecursionError:
                msg = "not valid JSON (nested too deeply)"
                raise ValueError(msg) from None
            except ValueError as exc:
                if len(buf) - pos > limit:
                    skip_item()
                    msg = f"larger than {limit >> 20} MB ({MAX_RECORD_MB_ENV} raises it)"
                    raise _TooLarge(msg) from None
                if not fill(want):  # the whole rest of the file does not read: not valid JSON
                    msg = f"not valid JSON ({getattr(exc, 'msg', exc)})"
                    raise ValueError(msg) from None
                want *= 2  # an item larger than a chunk: read on in growing steps, decode again

    def skip_item() -> None:
        """Pass over one object or array without decoding it (strings and nesting followed), dropping what was
        read: an oversized item costs time, not memory, and the items after it are still read."""
        nonlocal buf, pos
        depth, i, in_string = 0, pos, False
        while True:
            hit = (_IN_STRING if in_string else _STRUCTURE).search(buf, i)
            if hit is None:  # drop what was scanned; a lone backslash at the end escapes the next chunk's first
                buf, pos = "\\" if in_string and buf[i:].endswith("\\") else "", 0
                if not fill(_CHUNK):
                    return
                i = 0
                continue
            ch, i = hit.group(), hit.end()
            if ch == '"':
                in_string = not in_string
            elif not in_string:
                depth += 1 if ch in "[{" else -1
            if depth == 0 and not in_string:  # an escape pair ("\\x") is matched whole and changes nothing
                pos = i
                return

    item = 0
    while (c := skip(",")) != "":
        in_array = c == "["
        if in_array:
            pos += 1
        while True:
            c = skip(",") if in_array else c
            if c == "":
                rejected.append(f"{name}: item {item + 1}: the file ends inside a JSON array (cut short?)")
                return
            if c == "]":
                pos += 1
                break
            item += 1
            try:
                doc = value()
            except _TooLarge as exc:
                rejected.append(f"{name}: item {item}: {exc}")
                continue
            except ValueError as exc:
                rejected.append(f"{name}: item {item}: {exc}")
                return
            yield from _flatten(item, doc, name, rejected)
            if not in_array:
                break


class _TooLarge(ValueError):
    """An item over the record bound (skipped; the items after it are read)."""


_STRUCTURE = re.compile(r'["\[\]{}]')
_IN_STRING = re.compile(r'\\.|"', re.DOTALL)


def _flatten(item: int, doc: Any, name: str, rejected: list[str]) -> Iterator[Record]:
    """One document: a record, or a ``day_totals`` wrapper's rows with the wrapper's entity ids."""
    if isinstance(doc, dict) and isinstance(doc.get("day_totals"), list):
        entity = {k: doc[k] for k in ("enterprise_id", "organization_id") if k in doc}
        for row in doc["day_totals"]:
            if isinstance(row, dict):
                rec = {**entity, **row}
                yield item, rec, _dump(rec)
    elif isinstance(doc, dict):
        yield item, doc, _dump(doc)
    else:
        rejected.append(f"{name}: item {item}: not a JSON object")


def _dump(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


BILLING_CSV_SCOPE = Scope("enterprise", "billing-export")


def is_billing_csv(data: bytes) -> bool:
    """GitHub's billing usage-report CSV: a header line naming two of ``date``, ``username``, ``sku`` and
    ``quantity`` (so a CSV that lacks one of the required columns is told so, not read as JSON)."""
    head = data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    cols = {c.strip().strip('"') for c in head.split(",")}
    return len({"date", "username", "sku", "quantity"} & cols) >= 2


def import_billing_csv(path: Path, data: bytes, data_dir: Path, scope: Scope | None) -> Imported:
    """Store a billing usage CSV verbatim (key: its first and last date); ``build`` reads it into
    ``billing_usage``. A CSV without a column ``build`` needs is an error naming it; rows ``build`` would
    quarantine (a date or quantity that does not read, a quantity that is not finite) are listed as rejected
    with their line."""
    import polars as pl

    from ..cache.billing import BILLING_CSV_REQUIRED, billing_csv_missing, billing_csv_rows

    result = Imported(str(path))
    try:
        if missing := billing_csv_missing(data):
            msg = (
                f"{path}: no {', '.join(repr(c) for c in missing)} column (a usage-report CSV has "
                f"{', '.join(BILLING_CSV_REQUIRED)})"
            )
            raise InputError(msg)
        rows, bad = billing_csv_rows(data, path.name)
    except pl.exceptions.PolarsError as exc:
        msg = f"{path}: not a readable CSV ({str(exc).splitlines()[0]})"
        raise InputError(msg) from exc
    result.rejected += [f"{path}: line {line}: {reason}" for line, reason in bad.select("line", "reason").iter_rows()]
    dates = rows["day"].drop_nulls()
    if dates.len() == 0:
        msg = f"{path}: no row with a readable 'date'"
        raise InputError(msg)
    where = scope or BILLING_CSV_SCOPE
    # parsed dates, so always two real days: billing usage goes back before the metrics reports, so the days
    # GitHub's usage-metrics reports cover are no bound here
    key = f"{dates.min()!s}_{dates.max()!s}"
    status, _ = rawstore.put_bytes(
        data_dir,
        where,
        "billing-csv",
        key,
        data,
        ext="csv",
        provenance={"endpoint": f"import:{path.name}", "imported_from": str(path.resolve())},
    )
    result.stored.append((str(where), "billing-csv", key, status))
    return result


class _Slots:
    """Rows grouped by slot (scope, report, day), spilled to temp files under ``raw/.tmp`` once
    ``SPILL_BYTES`` wait in memory, so a large file is held one slot at a time, not whole."""

    SPILL_BYTES = 8 << 20

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.files: dict[tuple[Scope, str, str], Path] = {}
        self.waiting: dict[tuple[Scope, str, str], list[tuple[int, bytes]]] = defaultdict(list)
        self.size = 0

    def add(self, key: tuple[Scope, str, str], number: int, raw: bytes) -> None:
        self.waiting[key].append((number, raw))
        self.size += len(raw)
        if self.size >= self.SPILL_BYTES:
            self.spill()

    def spill(self) -> None:
        for key, rows in self.waiting.items():
            if key not in self.files:
                self.files[key], fh = rawstore.open_tmp(self.data_dir)
            else:
                fh = self.files[key].open("ab")
            with fh:
                fh.writelines(b"%d\t%b\n" % (n, raw) for n, raw in rows)
        self.waiting.clear()
        self.size = 0

    def in_order(self) -> list[tuple[Scope, str, str]]:
        return sorted({*self.files, *self.waiting}, key=lambda k: (str(k[0]), k[1], k[2]))

    def rows(self, key: tuple[Scope, str, str]) -> list[tuple[int, bytes]]:
        out = []
        if key in self.files:
            with self.files[key].open("rb") as fh:
                for line in fh:
                    number, _, raw = line.rstrip(b"\n").partition(b"\t")
                    out.append((int(number), raw))
        return out + self.waiting.get(key, [])

    def discard(self) -> None:
        for path in self.files.values():
            path.unlink(missing_ok=True)


def import_file(path: Path, data_dir: Path, *, report: str | None = None, scope: Scope | None = None) -> Imported:
    """Import one file; raises :class:`InputError` only if nothing in it can be placed."""
    path = Path(path)
    result = Imported(str(path))
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
        if is_billing_csv(head):
            return import_billing_csv(path, path.read_bytes(), data_dir, scope)
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror})"
        raise InputError(msg) from exc
    slots = _Slots(data_dir)
    try:
        for number, rec, raw in _records(path, str(path), result.rejected):
            try:
                kind, where, day = _place(rec, report, scope)
            except ValueError as exc:
                result.rejected.append(f"{path}: line {number}: {exc}")
                continue
            slots.add((where, kind, day), number, raw)
        for key in slots.in_order():  # a slot at a time: read back, checked as build will read it, stored
            if rows := _readable(path, key, slots.rows(key), result.rejected):
                _store(path, data_dir, key, [raw for _, raw in rows], result)
    except UnicodeDecodeError as exc:
        msg = (
            f"{path}: not {exc.encoding} text (byte {exc.object[exc.start : exc.start + 1]!r} cannot be decoded); "
            "the kit reads UTF-8, or UTF-16 with a byte-order mark: save the file as UTF-8"
        )
        raise InputError(msg) from None
    finally:
        slots.discard()
    if not result.stored:
        msg = f"{path}: nothing could be imported" + (
            f"; first problem: {result.rejected[0]}" if result.rejected else ""
        )
        raise InputError(msg)
    return result


def _store(path: Path, data_dir: Path, slot: tuple[Scope, str, str], lines: list[bytes], result: Imported) -> None:
    where, kind, day = slot
    if kind == "aggregate-1-day":
        body, ext = lines[-1] + b"\n", "json"
    else:
        body, ext = b"\n".join(lines) + b"\n", "ndjson"
    status, _ = rawstore.put_bytes(
        data_dir,
        where,
        kind,
        day,
        body,
        ext=ext,
        provenance={
            "endpoint": f"import:{path.name}",
            "report_day": day,
            "imported_from": str(path.resolve()),
            "rows": len(lines),
        },
    )
    result.stored.append((str(where), kind, day, status))
    rawstore.log_outcome(
        data_dir, {"scope": str(where), "report": kind, "key": day, "status": status, "source": "import"}
    )


def _place(rec: dict[str, Any], report: str | None, scope: Scope | None) -> tuple[str, Scope, str]:
    """The slot of one record, ``(report, scope, day)``; a ValueError says why it has none."""
    seen = detect_report(rec)
    kind = report or seen
    if kind is None:
        msg = "cannot tell which report this record belongs to (give --report)"
        raise ValueError(msg)
    if seen is not None and seen != kind and not (seen == "users-1-day" and kind == "user-teams-1-day"):
        msg = f"a {seen} record, not {kind} (its fields say so)"
        raise ValueError(msg)
    where = scope or detect_scope(rec)
    if where is None:
        msg = "no enterprise_id/organization_id (give --scope)"
        raise ValueError(msg)
    if "day" not in rec:
        msg = "no 'day' field (YYYY-MM-DD)"
        raise ValueError(msg)
    return kind, where, check_day(rec["day"], where.kind)


def _readable(
    path: Path, slot: tuple[Scope, str, str], rows: list[tuple[int, bytes]], rejected: list[str]
) -> list[tuple[int, bytes]]:
    """The rows of one slot that ``build`` will read: each is parsed as its report now, and a row that would end
    in quarantine (unreadable, a negative count) is rejected here with the file's own line number, so an import
    never says "new" for rows no table will hold. An aggregate day is one record: earlier ones are named."""
    _, kind, day = slot
    if kind == "aggregate-1-day" and len(rows) > 1:
        kept = rows[-1][0]
        rejected += [f"{path}: line {n}: another {kind} record for {day} (line {kept}) is kept" for n, _ in rows[:-1]]
        rows = rows[-1:]
    parsed = parse_rows(b"\n".join(raw for _, raw in rows) + b"\n", DAILY[kind], str(path))
    bad = {q["line"]: q["reason"] for q in parsed.quarantine}
    rejected += [f"{path}: line {rows[i - 1][0]}: {reason}" for i, reason in sorted(bad.items())]
    return [row for i, row in enumerate(rows, start=1) if i not in bad]
