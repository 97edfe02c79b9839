"""Raw report bytes → typed polars frames, tolerant of what GitHub's docs do not promise.

* Shapes: NDJSON, a single JSON object, a JSON array, or an object wrapping rows in ``day_totals``
  (as in GitHub's examples,
  https://docs.github.com/en/enterprise-cloud@latest/copilot/reference/copilot-usage-metrics/example-schema);
  a UTF-8 byte-order mark is dropped.
* Types: an explicit Arrow schema for every documented field
  (https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics); fields we do not know
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
import pyarrow.compute as pc
import pyarrow.json as pj

from ..catalog import CLI_CUSTOMISATION_KINDS, COUNT_FIELDS

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
# fields added June–October 2026 (GitHub changelog, https://github.blog/changelog/…; start days in
# catalog.FIELD_STARTS): the VS Code Agents window (2026-09-11), CLI customisations (2026-09-17: top 5 per kind,
# each entry ``{<kind>: name, interaction_count}``; entry key names are not documented, we read the kind's name)
_VSCODE_AGENT = pa.struct([("session_count", _I), ("total_user_messages", _I)])
CUSTOMISATIONS = [
    *[(f"totals_by_{k}", pa.list_(pa.struct([(k, _S), ("interaction_count", _I)]))) for k in CLI_CUSTOMISATION_KINDS],
    *[(f"distinct_{k}_use_count", _I) for k in CLI_CUSTOMISATION_KINDS],
]
_REVIEW_STAGES = ("ready_to_first_review", "first_to_final_review", "final_review_to_merge")
# repos-1-day, 2026-09-25-usage-metrics-api-adds-pull-request-review-stages (minutes; no data before 2026-09-21)
REVIEW_TIMES = pa.list_(
    pa.struct(
        [
            ("authored_by", _S),
            ("reviewed_by", _S),
            ("total_merged", _I),
            *[(f"{q}_minutes_{stage}", _F) for stage in _REVIEW_STAGES for q in ("median", "p90")],
        ]
    )
)
_PHASE = pa.struct(
    [
        ("phase_number", _I),
        ("phase", _S),
        ("engaged_users", _I),
        ("total_pull_requests_merged", _I),  # 2026-06-26
        ("avg_pull_requests_minutes_to_review", _F),  # 2026-07-07
        ("avg_pull_requests_review_cycles", _F),  # 2026-07-07
    ]
)


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
        ("used_copilot_app", _B),  # 2026-07-28
        ("used_vscode_agent", _B),  # 2026-09-11
        ("ai_adoption_phase", pa.struct([("phase", _S), ("phase_number", _I), ("version", _S)])),
        *[(n, _breakdown_type(n, user=True)) for n in BREAKDOWNS],
        ("totals_by_cli", _CLI),
        ("totals_by_copilot_app", _APP),
        ("totals_by_3rd_party_agent", _THIRD),
        ("totals_by_vscode_agent", _VSCODE_AGENT),
        *CUSTOMISATIONS,
        # undocumented internals seen in GitHub's example (known, ignored downstream):
        # https://docs.github.com/en/enterprise-cloud@latest/copilot/reference/copilot-usage-metrics/example-schema
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
] + [
    "monthly_active_chat_users",
    "monthly_active_agent_users",
    "daily_active_cli_users",
    "daily_active_copilot_app_users",  # 2026-07-17
    "daily_active_vscode_agent_users",  # 2026-09-11
]
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
        ("totals_by_copilot_app", _APP),  # 2026-07-17
        ("totals_by_vscode_agent", _VSCODE_AGENT),  # 2026-09-11
        *CUSTOMISATIONS,  # 2026-09-17
        ("totals_by_ai_adoption_phase", pa.list_(_PHASE)),
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
# repo records seen in real-world code spell their keys ``repo_*``; both spellings are read and land in the
# ``repository_*`` columns (the repos report's fields are not documented)
REPO_ALIASES = {
    "repo_id": "repository_id",
    "repo_name": "repository_name",
    "repo_owner_name": "repository_owner_name",
    "repo_visibility": "repository_visibility",
}
_REPO_FIELDS = [
    ("repository_id", _I),
    ("repository_name", _S),
    ("repository_owner_name", _S),
    ("repository_visibility", _S),
]
REPOS_SCHEMA = pa.schema(
    [
        ("day", _S),
        ("enterprise_id", _S),
        ("organization_id", _S),
        *_REPO_FIELDS,
        *[(alias, dict(_REPO_FIELDS)[name]) for alias, name in REPO_ALIASES.items()],
        ("pull_requests", _PR),
        ("pull_request_review_times", REVIEW_TIMES),
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
    if not data.strip():  # a day with no users: GitHub's NDJSON file is empty (zero rows, not a bad file)
        return b"", []
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
    lines: list[int] | None = None  # line of each row; None: row i is the i-th non-blank line
    notes: list[str] = []
    try:
        table = _read(nd, schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        table, lines, more, notes = _read_line_by_line(nd, schema, source)
        bad += more
    table, negative = _without_negatives(table, schema, nd, lines, source)
    return Parsed(table, sorted(bad + negative, key=lambda q: q["line"]), _drift(table, schema) + notes)


def _read_line_by_line(
    nd: bytes, schema: pa.Schema, source: str
) -> tuple[pa.Table, list[int], list[dict[str, Any]], list[str]]:
    """Error path only. Values of another JSON type than documented are coerced where the meaning is plain (an
    id given as a number is a string id, a numeric string in a count is the number); a field that still does
    not read is set to null and reported, the row kept. Only a line that is not a JSON object is quarantined.
    Returns the rows, their line numbers, the quarantined lines and notes on coerced or nulled fields."""
    bad: list[dict[str, Any]] = []
    docs: list[tuple[int, dict[str, Any]]] = []
    notes: dict[str, None] = {}

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
        for name in _coerce(doc, schema):
            notes[f"{name} (coerced to {schema.field(name).type})"] = None
        docs.append((number, doc))
    if not docs:
        return schema.empty_table(), [], bad, list(notes)
    try:
        return _read(_dumps(d for _, d in docs), schema), [n for n, _ in docs], bad, list(notes)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    for number, doc in docs:  # rarer still: find the fields that do not read, line by line
        try:
            _read(_dumps([doc]), schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            for name in [k for k in doc if k in schema.names and not _reads(k, doc[k], schema)]:
                doc[name] = None
                notes[f"{name} (unreadable value set to null, {source} line {number})"] = None
    return _read(_dumps(d for _, d in docs), schema), [n for n, _ in docs], bad, list(notes)


def _dumps(docs: Any) -> bytes:
    return b"".join(json.dumps(d, separators=(",", ":")).encode() + b"\n" for d in docs)


def _reads(name: str, value: Any, schema: pa.Schema) -> bool:
    try:
        _read(_dumps([{name: value}]), pa.schema([schema.field(name)]))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True


def _coerce(doc: dict[str, Any], schema: pa.Schema) -> list[str]:
    """Top-level values whose JSON type differs from the schema's but whose meaning is plain, coerced in place
    (ids documented as strings given as numbers; numbers given as strings); returns the fields coerced."""
    done = []
    for name, value in doc.items():
        if name not in schema.names or value is None or isinstance(value, bool):
            continue
        want = schema.field(name).type
        if pa.types.is_string(want) and isinstance(value, int | float):
            doc[name] = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        elif pa.types.is_integer(want) and (
            (isinstance(value, float) and value.is_integer())
            or (isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value))
        ):
            doc[name] = int(value)
        elif pa.types.is_floating(want) and isinstance(value, str) and _is_number(value):
            doc[name] = float(value)
        else:
            continue
        done.append(name)
    return done


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric_leaves(arr: Any, want: pa.DataType, path: str, rows: pa.Array | None, *, locate: bool = True) -> Any:
    """``(path, values, row of each value or None)`` for every numeric field the schema documents, through
    structs and lists (values of a list are mapped back to their row when ``locate``)."""
    if pa.types.is_integer(want) or pa.types.is_floating(want):
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
            yield path, arr, rows
    elif pa.types.is_struct(want) and pa.types.is_struct(arr.type):
        known = {want.field(i).name: want.field(i).type for i in range(want.num_fields)}
        for i in range(arr.type.num_fields):
            name = arr.type.field(i).name
            if name in known:
                child = pc.struct_field(arr, [i])
                yield from _numeric_leaves(child, known[name], f"{path}.{name}", rows, locate=locate)
    elif pa.types.is_list(want) and (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        parents = (
            (pc.list_parent_indices(arr) if rows is None else pc.take(rows, pc.list_parent_indices(arr)))
            if locate
            else None
        )
        yield from _numeric_leaves(pc.list_flatten(arr), want.value_type, path + "[]", parents, locate=locate)


def _impossible(values: Any) -> Any:
    """Per value: negative, or (floating point) not finite. Python's json and Arrow read ``NaN``, ``Infinity`` and
    an overflow such as ``1e309``; GitHub's counts, credits, tokens and minutes are never any of these."""
    if pa.types.is_floating(values.type):
        return pc.or_kleene(pc.less(values, 0), pc.invert(pc.is_finite(values)))
    return pc.less(values, 0)


def _without_negatives(
    table: pa.Table, schema: pa.Schema, nd: bytes, lines: list[int] | None, source: str
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Rows with a negative or non-finite count (or credits, tokens, minutes) are not data GitHub can mean:
    quarantined with file and line, never loaded silently (a NaN would make every total NaN). Vectorised (Arrow
    kernels over every documented numeric field)."""
    if not table.num_rows:
        return table, []
    names = [n for n in schema.names if n in table.column_names]
    if not any(  # the common case: one pass per field over the whole table, nothing located
        pc.any(_impossible(values)).as_py()
        for name in names
        for _, values, _ in _numeric_leaves(table[name], schema.field(name).type, name, None, locate=False)
    ):
        return table, []
    found: dict[int, dict[str, str]] = {}
    for name in names:
        offset = 0
        for arr in table[name].chunks:  # chunk by chunk: no copy of the table
            for path, values, rows in _numeric_leaves(arr, schema.field(name).type, name, None):
                impossible = _impossible(values)
                if not pc.any(impossible).as_py():
                    continue
                hits = pc.indices_nonzero(impossible)
                finite = pc.is_finite(values) if pa.types.is_floating(values.type) else None
                located = (hits if rows is None else pc.take(rows, hits)).to_pylist()
                for hit, row in zip(hits.to_pylist(), located, strict=True):
                    what = (
                        "negative value"
                        if finite is None or finite[hit].as_py()
                        else "non-finite value (NaN or infinite)"
                    )
                    found.setdefault(offset + row, {}).setdefault(path, what)
            offset += len(arr)
    if not found:
        return table, []
    if lines is None:
        lines = [n for n, line in enumerate(nd.splitlines(), start=1) if line.strip()]
    bad = [{"file": source, "line": lines[row], "reason": _reason(fields)} for row, fields in sorted(found.items())]
    keep = pc.invert(pc.is_in(pa.array(range(table.num_rows)), value_set=pa.array(list(found), pa.int64())))
    return table.filter(keep), bad


def _reason(fields: dict[str, str]) -> str:
    """``negative value in a, b; non-finite value (NaN or infinite) in c``."""
    by_what: dict[str, list[str]] = {}
    for path, what in fields.items():
        by_what.setdefault(what, []).append(path)
    return "; ".join(f"{what} in {', '.join(paths)}" for what, paths in by_what.items())


def read_file(path: Path) -> bytes:
    return Path(path).read_bytes()
