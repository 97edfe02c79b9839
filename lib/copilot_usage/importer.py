"""``copilot-usage import``: files downloaded from GitHub's dashboard (or anywhere) into the raw store.

Accepts every documented shape (NDJSON, a single JSON object, a JSON array, an object wrapping rows in
``day_totals``; REFERENCE §3.1), with or without a byte-order mark. The report kind and scope are read from
the records (or given), rows are split by ``day`` into the same raw slots ``fetch`` writes, so ``build`` treats
them alike. A 28-day user file becomes the 1-day user rows of each of its days. A line that cannot be read or
placed is rejected with its file and line number; the rest of the file is imported.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import rawstore
from .errors import InputError
from .reports import Scope


@dataclass
class Imported:
    """What one file gave: ``(scope, report, day, status)`` per stored slot, and rejected lines."""

    file: str
    stored: list[tuple[str, str, str, str]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def detect_report(record: dict[str, Any]) -> str | None:
    """The raw-store report key of a record, from the fields it carries."""
    if "team_id" in record and "user_id" in record:
        return "user-teams-1-day"
    if "user_id" in record:
        return "users-1-day"
    if "repository_id" in record or "repository_name" in record:
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
    slots: dict[tuple[Scope, str, str], list[bytes]] = defaultdict(list)
    for number, rec, raw in records:
        kind = report or detect_report(rec)
        where = scope or detect_scope(rec)
        day = rec.get("day")
        if kind is None:
            result.rejected.append(
                f"{path}: line {number}: cannot tell which report this record belongs to (give --report)"
            )
            continue
        if where is None:
            result.rejected.append(f"{path}: line {number}: no enterprise_id/organization_id (give --scope)")
            continue
        if not isinstance(day, str) or len(day) != 10:
            result.rejected.append(f"{path}: line {number}: no 'day' field (YYYY-MM-DD)")
            continue
        slots[(where, kind, day)].append(raw)
    if not slots:
        msg = f"{path}: nothing could be imported" + (
            f"; first problem: {result.rejected[0]}" if result.rejected else ""
        )
        raise InputError(msg)
    for (where, kind, day), lines in sorted(slots.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2])):
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
