"""Raw report bytes → typed polars frames, tolerant of what GitHub's docs do not promise.

* Shapes: NDJSON, a single JSON object, a JSON array, or an object wrapping rows in ``day_totals``
  (REFERENCE §3.1); a UTF-8 byte-order mark is dropped.
* Types: an explicit Arrow schema for every documented field (REFERENCE §3.2–§3.4); fields we do not know
  are read too (inferred) and reported as schema drift — they never break the read.
* A line that is not JSON is quarantined with file and line number; the rest of the file still loads.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from .reports import COUNT_FIELDS

_NON_SPACE = re.compile(rb"\S")
_I = pa.int64()
_S = pa.string()
_F = pa.float64()
_B = pa.bool_()
_COUNTS = [(name, _I) for name in COUNT_FIELDS]
_NO_INTER = _COUNTS[1:]
_TOKENS = pa.struct([("avg_tokens_per_request", _F), ("output_tokens_sum", _I), ("prompt_tokens_sum", _I)])
_SAMPLED = [("sampled_at", _S)]
BREAKDOWNS: dict[str, tuple[list[str], list[tuple[str, pa.DataType]]]] = {
    "totals_by_ide": (["ide"], _COUNTS),
    "totals_by_feature": (["feature"], _COUNTS),
    "totals_by_language_feature": (["language", "feature"], _NO_INTER),
    "totals_by_language_model": (["language", "model"], _NO_INTER),
    "totals_by_model_feature": (["model", "feature"], _COUNTS),
}
_THIRD = pa.list_(
    pa.struct([("agent_id", _S), ("agent_name", _S), ("user_initiated_interaction_count", _I), ("session_count", _I)])
)
_CLI = pa.struct(
    [
        ("last_known_cli_version", pa.struct([("cli_version", _S), *_SAMPLED])),
        ("prompt_count", _I),
        ("request_count", _I),
        ("session_count", _I),
        ("token_usage", _TOKENS),
    ]
)
_APP = pa.struct([("prompt_count", _I), ("request_count", _I), ("session_count", _I), ("token_usage", _TOKENS)])


def _breakdown_type(name: str, *, user: bool) -> pa.DataType:
    keys, counts = BREAKDOWNS[name]
    fields = [(k, _S) for k in keys] + counts
    if user and name == "totals_by_ide":
        fields += [
            ("last_known_ide_version", pa.struct([("ide_version", _S), *_SAMPLED])),
            ("last_known_plugin_version", pa.struct([("plugin", _S), ("plugin_version", _S), *_SAMPLED])),
        ]
    return pa.list_(pa.struct(fields))


USER_SCHEMA = pa.schema(
    [
        ("day", _S),
        ("report_start_day", _S),
        ("report_end_day", _S),
        ("enterprise_id", _S),
        ("organization_id", _S),
        ("user_id", _I),
        ("user_login", _S),
        ("ai_credits_used", _F),
        *_COUNTS,
        ("used_agent", _B),
        ("used_chat", _B),
        ("used_cli", _B),
        ("used_copilot_code_review_active", _B),
        ("used_copilot_code_review_passive", _B),
        ("used_copilot_coding_agent", _B),
        ("used_copilot_cloud_agent", _B),
        ("ai_adoption_phase", pa.struct([("phase", _S), ("phase_number", _I), ("version", _S)])),
        *[(n, _breakdown_type(n, user=True)) for n in BREAKDOWNS],
        ("totals_by_cli", _CLI),
        ("totals_by_copilot_app", _APP),
        ("totals_by_3rd_party_agent", _THIRD),
        # undocumented internals seen in GitHub's example (REFERENCE §3.2): known, ignored downstream
        ("etl_id", _S),
        ("day_partition", _S),
        ("entity_id_partition", _I),
    ]
)
_PR = pa.struct(
    [
        (k, _I)
        for k in (
            "total_created",
            "total_reviewed",
            "total_merged",
            "total_suggestions",
            "total_applied_suggestions",
            "total_created_by_copilot",
            "total_reviewed_by_copilot",
            "total_merged_created_by_copilot",
            "total_merged_reviewed_by_copilot",
            "total_copilot_suggestions",
            "total_copilot_applied_suggestions",
        )
    ]
    + [
        (k, _F)
        for k in (
            "median_minutes_to_merge",
            "median_minutes_to_merge_copilot_authored",
            "median_minutes_to_merge_copilot_reviewed",
        )
    ]
)
ACTIVE_USER_FIELDS = [
    f"{p}_{k}"
    for k in (
        "active_users",
        "active_copilot_cloud_agent_users",
        "active_copilot_code_review_users",
        "passive_copilot_code_review_users",
    )
    for p in ("daily", "weekly", "monthly")
] + ["monthly_active_chat_users", "monthly_active_agent_users", "daily_active_cli_users"]
AGGREGATE_SCHEMA = pa.schema(
    [
        ("day", _S),
        ("enterprise_id", _S),
        ("organization_id", _S),
        *[(k, _I) for k in ACTIVE_USER_FIELDS],
        *_COUNTS,
        ("pull_requests", _PR),
        *[(n, _breakdown_type(n, user=False)) for n in BREAKDOWNS],
        ("totals_by_cli", _CLI),
        ("totals_by_3rd_party_agent", _THIRD),
        (
            "totals_by_ai_adoption_phase",
            pa.list_(pa.struct([("phase_number", _I), ("phase", _S), ("engaged_users", _I)])),
        ),
    ]
)
USER_TEAMS_SCHEMA = pa.schema(
    [
        ("user_id", _I),
        ("user_login", _S),
        ("day", _S),
        ("enterprise_id", _S),
        ("organization_id", _S),
        ("team_id", _I),
        ("slug", _S),
    ]
)
REPOS_SCHEMA = pa.schema(
    [
        ("day", _S),
        ("enterprise_id", _S),
        ("organization_id", _S),
        ("repository_id", _I),
        ("repository_name", _S),
        ("pull_requests", _PR),
    ]
)
SCHEMAS = {"users": USER_SCHEMA, "aggregate": AGGREGATE_SCHEMA, "user-teams": USER_TEAMS_SCHEMA, "repos": REPOS_SCHEMA}


@dataclass
class Parsed:
    """A parsed file: the rows (an Arrow table, typed by the family's schema plus any unknown fields), what could
    not be read and what was not expected."""

    table: pa.Table
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    unknown_fields: list[str] = field(default_factory=list)

    @property
    def frame(self) -> pl.DataFrame:
        frame = pl.from_arrow(self.table)
        assert isinstance(frame, pl.DataFrame)
        return frame


def to_ndjson_bytes(data: bytes, source: str) -> tuple[bytes, list[dict[str, Any]]]:
    """Normalise the documented shapes to NDJSON bytes. Object/array files are small; NDJSON passes through
    without a copy (only its first line is looked at)."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if _is_ndjson(data):
        return data, []
    try:
        doc = json.loads(data)
    except ValueError as exc:
        return b"", [{"file": source, "line": 0, "reason": f"not JSON: {exc}"}]
    rows = doc if isinstance(doc, list) else [doc]
    flat: list[Any] = []
    for row in rows:  # a handful of documents, not data rows
        if isinstance(row, dict) and isinstance(row.get("day_totals"), list):
            entity = {k: row[k] for k in ("enterprise_id", "organization_id") if k in row}
            flat.extend({**entity, **r} for r in row["day_totals"])
        else:
            flat.append(row)
    return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in flat), []


def _is_ndjson(data: bytes) -> bool:
    """One JSON object per line: the first line alone is a complete object that does not wrap ``day_totals``."""
    head = data[: 1 << 16].lstrip()
    if head[:1] != b"{":
        return False
    end = data.find(b"\n", len(data) - len(data.lstrip()))
    first = data[: end if end >= 0 else len(data)]
    try:
        obj = json.loads(first)
    except ValueError:
        return b"\n{" in head  # a broken first line in an NDJSON file: still NDJSON (quarantined line by line)
    return isinstance(obj, dict) and "day_totals" not in obj


def _read(data: bytes, schema: pa.Schema) -> pa.Table:
    """Arrow's reader with the explicit schema; unknown fields inferred (then reported as drift). Single-threaded:
    callers read several files at once, which beats Arrow's block threads for files of a few MB (measured)."""
    opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer", newlines_in_values=False)
    read = pj.ReadOptions(block_size=1 << 22, use_threads=False)
    return pj.read_json(io.BytesIO(data), parse_options=opts, read_options=read)


def _drift(table: pa.Table, schema: pa.Schema, prefix: str = "") -> list[str]:
    if table.schema.equals(schema):
        return []
    unknown = []
    known = {f.name: f.type for f in schema}
    for f in table.schema:
        if f.name not in known:
            unknown.append(prefix + f.name)
        else:
            unknown += _type_drift(f.type, known[f.name], prefix + f.name)
    return unknown


def _type_drift(got: pa.DataType, want: pa.DataType, name: str) -> list[str]:
    if pa.types.is_list(got) and pa.types.is_list(want):
        return _type_drift(got.value_type, want.value_type, name + "[]")
    if pa.types.is_struct(got) and pa.types.is_struct(want):
        want_fields = {want.field(i).name: want.field(i).type for i in range(want.num_fields)}
        out = []
        for i in range(got.num_fields):
            g = got.field(i)
            out += (
                [f"{name}.{g.name}"]
                if g.name not in want_fields
                else _type_drift(g.type, want_fields[g.name], f"{name}.{g.name}")
            )
        return out
    return []


def parse_rows(data: bytes, family: str, source: str) -> Parsed:
    """Parse a report file of ``family`` (users, aggregate, user-teams, repos) into a typed frame."""
    schema = SCHEMAS[family]
    nd, bad = to_ndjson_bytes(data, source)
    if _NON_SPACE.search(nd) is None:
        return Parsed(schema.empty_table(), bad)
    try:
        table = _read(nd, schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        table, more = _read_line_by_line(nd, schema, source)
        bad += more
    return Parsed(table, bad, _drift(table, schema))


def _read_line_by_line(nd: bytes, schema: pa.Schema, source: str) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Error path only: find the lines that cannot be read, quarantine them, read the rest."""
    good, bad = [], []

    def reject(number: int, reason: str) -> None:
        bad.append({"file": source, "line": number, "reason": reason.splitlines()[0][:200]})

    for number, line in enumerate(nd.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError as exc:
            reject(number, f"not JSON: {exc}")
            continue
        if not isinstance(doc, dict):
            reject(number, "not a JSON object")
            continue
        try:
            _read(line + b"\n", schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            reject(number, f"unexpected type: {exc}")
            continue
        good.append(line)
    if not good:
        return schema.empty_table(), bad
    return _read(b"\n".join(good) + b"\n", schema), bad


def read_file(path: Path) -> bytes:
    return Path(path).read_bytes()
