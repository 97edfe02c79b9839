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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import rawstore
from .catalog import Scope
from .errors import InputError
from .parse import REPO_ALIASES, parse_rows
from .store import DAILY


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
    """``org:<organization_id>`` when the row is org-scoped, else ``enterprise:<enterprise_id>``."""
    if record.get("organization_id") not in (None, ""):
        return Scope("org", f"id-{record['organization_id']}")
    if record.get("enterprise_id") not in (None, ""):
        return Scope("enterprise", f"id-{record['enterprise_id']}")
    return None


def _records(data: bytes, name: str) -> tuple[list[tuple[int, dict[str, Any], bytes]], list[str]]:
    """``(line number, record, bytes)`` of any documented shape (NDJSON lines kept verbatim), plus rejections."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    stripped = data.strip()
    if not stripped:
        return [], [f"{name}: empty file"]
    rejected: list[str] = []
    if stripped[:1] == b"[" or (stripped[:1] == b"{" and b"\n{" not in stripped):
        try:
            doc = json.loads(stripped)
        except ValueError as exc:
            return [], [f"{name}: line {exc.lineno if hasattr(exc, 'lineno') else 1}: not valid JSON ({exc})"]
        docs = doc if isinstance(doc, list) else [doc]
        out: list[tuple[int, dict[str, Any], bytes]] = []
        for i, d in enumerate(docs, start=1):
            if isinstance(d, dict) and isinstance(d.get("day_totals"), list):
                entity = {k: d[k] for k in ("enterprise_id", "organization_id") if k in d}
                rows = [{**entity, **row} for row in d["day_totals"] if isinstance(row, dict)]
                out += [(i, row, _dump(row)) for row in rows]
            elif isinstance(d, dict):
                out.append((i, d, _dump(d)))
            else:
                rejected.append(f"{name}: item {i}: not a JSON object")
        return out, rejected
    out = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as exc:
            rejected.append(f"{name}: line {number}: not valid JSON ({getattr(exc, 'msg', exc)})")
            continue
        if not isinstance(rec, dict):
            rejected.append(f"{name}: line {number}: not a JSON object")
            continue
        out.append((number, rec, line))
    return out, rejected


def _dump(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


BILLING_CSV_SCOPE = Scope("enterprise", "billing-export")


def is_billing_csv(data: bytes) -> bool:
    """GitHub's billing usage-report CSV: a header line naming ``date`` and ``sku`` or ``quantity``."""
    head = data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    cols = {c.strip().strip('"') for c in head.split(",")}
    return "date" in cols and bool({"sku", "quantity"} & cols)


def import_billing_csv(path: Path, data: bytes, data_dir: Path, scope: Scope | None) -> Imported:
    """Store a billing usage CSV verbatim (key: its first and last date); ``build`` reads it into
    ``billing_usage``."""
    import io

    import polars as pl

    result = Imported(str(path))
    try:
        dates = (
            pl.read_csv(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")), columns=["date"], infer_schema_length=0)["date"]
            .str.slice(0, 10)
            .str.to_date(strict=False)
            .drop_nulls()
        )
    except pl.exceptions.PolarsError as exc:
        msg = f"{path}: not a readable CSV ({exc})"
        raise InputError(msg) from exc
    if dates.len() == 0:
        msg = f"{path}: no row with a readable 'date'"
        raise InputError(msg)
    where = scope or BILLING_CSV_SCOPE
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


def import_file(path: Path, data_dir: Path, *, report: str | None = None, scope: Scope | None = None) -> Imported:
    """Import one file; raises :class:`InputError` only if nothing in it can be placed."""
    path = Path(path)
    result = Imported(str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read ({exc.strerror})"
        raise InputError(msg) from exc
    if is_billing_csv(data):
        return import_billing_csv(path, data, data_dir, scope)
    records, result.rejected = _records(data, str(path))
    slots: dict[tuple[Scope, str, str], list[tuple[int, bytes]]] = defaultdict(list)
    for number, rec, raw in records:
        seen = detect_report(rec)
        kind = report or seen
        where = scope or detect_scope(rec)
        day = rec.get("day")
        if kind is None:
            result.rejected.append(
                f"{path}: line {number}: cannot tell which report this record belongs to (give --report)"
            )
            continue
        if seen is not None and seen != kind and not (seen == "users-1-day" and kind == "user-teams-1-day"):
            result.rejected.append(f"{path}: line {number}: a {seen} record, not {kind} (its fields say so)")
            continue
        if where is None:
            result.rejected.append(f"{path}: line {number}: no enterprise_id/organization_id (give --scope)")
            continue
        if not isinstance(day, str) or len(day) != 10:
            result.rejected.append(f"{path}: line {number}: no 'day' field (YYYY-MM-DD)")
            continue
        slots[(where, kind, day)].append((number, raw))
    placed = {key: _readable(path, key, rows, result.rejected) for key, rows in slots.items()}
    placed = {key: rows for key, rows in placed.items() if rows}
    if not placed:
        msg = f"{path}: nothing could be imported" + (
            f"; first problem: {result.rejected[0]}" if result.rejected else ""
        )
        raise InputError(msg)
    for (where, kind, day), rows in sorted(placed.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2])):
        lines = [raw for _, raw in rows]
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
    return result


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
