"""``build``: raw store → typed Delta Lake tables in ``data/processed/``; and the ``scan_*`` readers.

Layout: ``processed/<table>/`` is a Delta table (:mod:`lake`): daily tables partitioned by ``scope_kind``,
``scope_slug`` and ``month``, side tables by ``written_by`` (the report × scope × month, or the snapshot builder, that
wrote the rows), snapshots whole. A month is rebuilt only when the set of newest raw versions of its days
changed (``processed/_manifest.json``), one month at a time so memory stays flat as history grows, and each
month's partition is replaced in one transaction, so a reader never sees half a build.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
import os
import shutil
import tempfile
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from . import added_fields, budgets, cost_centers, lake, merge, objstore, rawstore
from .catalog import COUNT_FIELDS, Scope
from .errors import NotInCache
from .parse import BREAKDOWNS, REPO_ALIASES, SCHEMAS, Parsed, parse_rows
from .pricing import CREDIT_PRICE_USD

DAILY = {
    "users-1-day": "users",
    "aggregate-1-day": "aggregate",
    "user-teams-1-day": "user-teams",
    "repos-1-day": "repos",
}
_KEY = ["scope", "day", "user_id"]
LAYOUT = 3  # of processed/: bumped when a rebuild from raw is needed (3: Delta Lake tables)
_LINE = {"scope": pl.String, "report": pl.String, "day": pl.String}
SIDE_SCHEMAS: dict[str, dict[str, Any]] = {
    "quarantine": {**_LINE, "file": pl.String, "line": pl.Int64, "reason": pl.String},
    "schema_drift": {**_LINE, "field": pl.String},
    "late_corrections": {
        **_LINE,
        "source": pl.String,
        "file": pl.String,
        "fetched_at": pl.String,
        **{f"users_{k}": pl.Int64 for k in ("before", "after", "added", "removed", "changed")},
        "credits_before": pl.Float64,
        "credits_after": pl.Float64,
    },
}


def processed(data_dir: Path | str) -> Path:
    return objstore.path(data_dir, "processed")  # type: ignore[return-value]  # an ObjectPath on an object store


def _month_partition(scope: Scope, month: str) -> dict[str, str]:
    return dict(zip(lake.DAILY_PARTITIONS, (scope.kind, scope.slug, month), strict=True))


def _write_side(data_dir: Path | str, table: str, source: str, frame: pl.DataFrame | None) -> None:
    """One source's rows of a side table replace what it wrote before (none: its rows are removed)."""
    part = {lake.SIDE_PARTITION: source}
    if frame is None or not frame.height:
        lake.delete(data_dir, table, part)
        return
    schema = SIDE_SCHEMAS.get(table, {})
    frame = frame.with_columns(pl.col(c).cast(t) for c, t in schema.items() if c in frame.columns)
    lake.replace(data_dir, table, frame.with_columns(pl.lit(source).alias(lake.SIDE_PARTITION)).to_arrow(), part)


# ---------------------------------------------------------------------- frames per family
def _dedupe(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Drop repeated keys (keep the last), only paying for it when a file repeats a key."""
    if frame.select(pl.struct(key).n_unique()).item() == frame.height:
        return frame
    return frame.unique(key, keep="last", maintain_order=True)


def _users_tables(frame: pl.DataFrame, scope: str) -> dict[str, pl.DataFrame]:
    base = _dedupe(frame.with_columns(scope=pl.lit(scope), day=pl.col("day").str.to_date()), _KEY).lazy()
    cli = pl.col("totals_by_cli")
    user_day = base.select(
        "scope",
        "day",
        "user_id",
        "user_login",
        "enterprise_id",
        "organization_id",
        "ai_credits_used",
        *COUNT_FIELDS,
        "used_agent",
        "used_chat",
        "used_cli",
        "used_copilot_code_review_active",
        "used_copilot_code_review_passive",
        pl.coalesce("used_copilot_cloud_agent", "used_copilot_coding_agent").alias("used_copilot_cloud_agent"),
        pl.col("ai_adoption_phase").struct.field("phase_number").cast(pl.Int8).alias("ai_adoption_phase_number"),
        pl.col("ai_adoption_phase").struct.field("phase").alias("ai_adoption_phase"),
        *[cli.struct.field(f).alias(f"cli_{f}") for f in ("session_count", "request_count", "prompt_count")],
        cli.struct.field("token_usage").struct.field("output_tokens_sum").alias("cli_output_tokens_sum"),
        cli.struct.field("token_usage").struct.field("prompt_tokens_sum").alias("cli_prompt_tokens_sum"),
        *[
            pl.col("totals_by_copilot_app").struct.field(f).alias(f"app_{f}")
            for f in ("session_count", "request_count", "prompt_count")
        ],
        *added_fields.user_day_columns(),
    )
    lazy = {"user_day": user_day, **added_fields.user_tables(base, _KEY)}
    for name in BREAKDOWNS:
        table = "user_" + name.removeprefix("totals_by_") + "_day"
        lazy[table] = (
            base.select(*_KEY, name).explode(name).drop_nulls(name).unnest(name).select(pl.exclude("^last_known_.*$"))
        )
    lazy["user_3rd_party_agent_day"] = (
        base.select(*_KEY, "totals_by_3rd_party_agent")
        .explode("totals_by_3rd_party_agent")
        .drop_nulls("totals_by_3rd_party_agent")
        .unnest("totals_by_3rd_party_agent")
        .drop("session_count")
    )
    return dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))


def _aggregate_tables(frame: pl.DataFrame, scope: str) -> dict[str, pl.DataFrame]:
    base = frame.with_columns(scope=pl.lit(scope), day=pl.col("day").str.to_date()).unique(
        ["scope", "day"], keep="last"
    )
    pr = base.select("scope", "day", pl.col("pull_requests").struct.unnest().name.prefix("pr_"))
    scalars = [
        c
        for c in base.columns
        if c not in BREAKDOWNS
        and c not in ("pull_requests", "totals_by_cli", "totals_by_3rd_party_agent", *added_fields.AGGREGATE_NESTED)
    ]
    agg = (
        base.select(*scalars, *added_fields.aggregate_day_columns())
        .join(pr, on=["scope", "day"], how="left")
        .with_columns(
            cli_prompt_count=base["totals_by_cli"].struct.field("prompt_count"),
            cli_session_count=base["totals_by_cli"].struct.field("session_count"),
        )
    )
    out = {"aggregate_day": agg, **added_fields.aggregate_tables(base)}
    for name in BREAKDOWNS:  # feature, model-feature, IDE, language-feature, language-model
        table = "aggregate_" + name.removeprefix("totals_by_") + "_day"
        out[table] = base.select("scope", "day", name).explode(name).drop_nulls(name).unnest(name)
    return out


def _simple(frame: pl.DataFrame, scope: str, table: str, key: list[str]) -> dict[str, pl.DataFrame]:
    f = frame.with_columns(scope=pl.lit(scope), day=pl.col("day").str.to_date())
    return {table: f.unique(key, keep="last").sort(key)}


def _repo_tables(frame: pl.DataFrame, scope: str) -> dict[str, pl.DataFrame]:
    """``repo_day``: either spelling of the repo fields in the ``repository_*`` columns, one row per scope, day
    and repository (its id, else its name); a row naming no repository is kept as it is, never merged."""
    present = [a for a in REPO_ALIASES if a in frame.columns]
    f = frame.with_columns(
        [pl.coalesce(REPO_ALIASES[a], a).alias(REPO_ALIASES[a]) for a in present],
        scope=pl.lit(scope),
        day=pl.col("day").str.to_date(),
    ).drop(present)
    f = f.with_columns(pl.col("pull_requests").struct.unnest().name.prefix("pr_")).drop("pull_requests")
    repo = pl.coalesce(pl.col("repository_id").cast(pl.String), "name:" + pl.col("repository_name"))
    named = f.filter(repo.is_not_null()).with_columns(_repo=repo).unique(["scope", "day", "_repo"], keep="last")
    out = pl.concat([named.drop("_repo"), f.filter(repo.is_null())])
    out = out.sort("scope", "day", "repository_id", "repository_name", nulls_last=True)
    return {"repo_day": out.drop("pull_request_review_times", strict=False), **added_fields.repo_tables(out)}


def _tables_for(family: str, frame: pl.DataFrame, scope: str) -> dict[str, pl.DataFrame]:
    if family == "users":
        return _users_tables(frame, scope)
    if family == "aggregate":
        return _aggregate_tables(frame, scope)
    if family == "user-teams":
        return _simple(frame, scope, "user_team_day", ["scope", "day", "user_id", "team_id"])
    return _repo_tables(frame, scope)


# ---------------------------------------------------------------------- build
def _load_manifest(data_dir: Path) -> dict[str, Any]:
    path = processed(data_dir) / "_manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save_manifest(data_dir: Path, manifest: dict[str, Any]) -> None:
    path = processed(data_dir) / "_manifest.json"
    if isinstance(path, objstore.ObjectPath):  # an object is replaced whole by a put
        path.write_bytes(json.dumps(manifest, indent=1, sort_keys=True).encode())
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".manifest.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, path)


def build(data_dir: Path | str, *, full: bool = False) -> dict[str, int]:
    """Rebuild what changed in raw; returns the number of partitions written per table."""
    data_dir = cast(Path, objstore.as_data_dir(data_dir))  # an object-store URL stays text (used as a path)
    lake.release()  # tables held open by an earlier build in this process may be behind another writer's commits
    manifest = {} if full else _load_manifest(data_dir)
    if manifest.get("_layout") != LAYOUT:  # built by an older kit (plain Parquet): rebuilt from raw as Delta tables
        _drop_old_layout(data_dir)
        manifest = {"_layout": LAYOUT}
    written: dict[str, int] = defaultdict(int)
    bad_slots: list[dict[str, Any]] = []
    for report, family in DAILY.items():
        by_month: dict[tuple[Scope, str], list[list[rawstore.RawFile]]] = defaultdict(list)
        for scope, key, day in rawstore.slot_versions(data_dir, report):
            if day and not is_day(key):  # never a folder the kit writes; one bad folder must not stop the build
                bad_slots += [_file_quarantine(scope, report, key, f, f"folder {key!r} is not a day") for f in day]
            elif day:
                by_month[(scope, key[:7])].append(day if family in merge.USER_FAMILIES else day[-1:])
        for (scope, month), files in sorted(by_month.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
            mkey = f"{report}|{scope}|{month}"
            fingerprint = sorted(f"{v[-1].meta['key']}:{'+'.join(f.meta['sha256'] for f in v)}" for v in files)
            if manifest.get(mkey) == fingerprint:
                continue
            dest = functools.partial(_PartWriter, data_dir, partition=_month_partition(scope, month))
            parts, side = _build_month(files, family, str(scope), dest)
            for table in parts:
                written[table] += 1
            for table, rows in side.items():
                # one source per report: reports sharing a scope and month never overwrite each other's lines
                frame = pl.DataFrame(rows, schema=SIDE_SCHEMAS[table], strict=False) if rows else None
                _write_side(data_dir, table, f"{report}@{scope}@{month}", frame)
                if rows:
                    written[table] += 1
            manifest[mkey] = fingerprint
    _write_quarantine(data_dir, "slots", bad_slots)
    snap = _build_snapshots(data_dir, manifest)
    snap.update(_build_cost_centers(data_dir, manifest))
    for k, v in snap.items():
        written[k] += v
    fresh = data_health(data_dir)
    held = lake.read(data_dir, "data_health")
    committed = set(written)
    if held is None or not held.equals(fresh):
        lake.replace(data_dir, "data_health", fresh.to_arrow())
        committed.add("data_health")
    for table in sorted(committed):  # each table this build committed to: readers open it from one checkpoint
        lake.checkpoint(data_dir, table)
    _save_manifest(data_dir, manifest)
    return dict(written)


def old_layout(data_dir: Path | str) -> int | None:
    """The layout number of a processed/ an older kit built (``build`` rebuilds it from raw), else None."""
    manifest = _load_manifest(objstore.as_data_dir(data_dir))  # type: ignore[arg-type]
    return manifest.get("_layout", 1) if manifest and manifest.get("_layout") != LAYOUT else None


def _drop_old_layout(data_dir: Path) -> None:
    """Remove the plain-Parquet tables of a layout before Delta (a table folder without a ``_delta_log``): raw is
    the source of truth, and the build that follows writes every table again."""
    root = processed(data_dir)
    if objstore.is_url(data_dir) or not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.is_dir() and not (folder / "_delta_log").is_dir():
            shutil.rmtree(folder)


def _ahead(pool: ThreadPoolExecutor, fn: Any, items: list[Any], depth: int) -> Iterable[Any]:
    """``pool.map`` with at most ``depth`` results waiting, so read-ahead cannot outgrow memory."""
    pending: deque[Any] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) > depth:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


_BATCH_ROWS = 10_000  # days of a month parsed one by one, turned into tables together (per-call costs amortised)


class _PartWriter:
    """One partition of a table written batch by batch to a local temporary Parquet file (a row group each, so a
    month is never held whole), then committed to the Delta table in one transaction on close. A batch with other
    columns (schema drift) switches to one concatenated write."""

    def __init__(self, data_dir: Path | str, table: str, *, partition: dict[str, str]) -> None:
        self.data_dir, self.table, self.partition = data_dir, table, partition
        self.tmp = Path(tempfile.gettempdir()) / f"copilot-usage-{uuid.uuid4().hex}.parquet"
        self.writer: pq.ParquetWriter | None = None
        self.schema: pl.Schema | None = None
        self.spill: list[pl.DataFrame] = []

    def add(self, frame: pl.DataFrame) -> None:
        frame = frame.with_columns(pl.lit(v).alias(k) for k, v in self.partition.items())
        if self.schema is None:
            self.schema = frame.schema
        if self.spill or frame.schema != self.schema:
            self.spill.append(frame)
            return
        table = frame.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd", compression_level=1)
        self.writer.write_table(table)

    def close(self) -> pl.Schema:
        assert self.schema is not None
        if self.writer is not None:
            self.writer.close()
        try:
            if not self.spill:

                def stream() -> pa.RecordBatchReader:  # streamed into the commit: the month is never in memory whole
                    file = pq.ParquetFile(self.tmp)
                    return pa.RecordBatchReader.from_batches(file.schema_arrow, file.iter_batches(batch_size=65_536))

                lake.replace(self.data_dir, self.table, stream, self.partition)
                return self.schema
            written = [pl.read_parquet(self.tmp)] if self.writer is not None else []
            frame = pl.concat([*written, *self.spill], how="diagonal_relaxed")
            lake.replace(self.data_dir, self.table, frame.to_arrow(), self.partition)
            return frame.schema
        finally:
            self.tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


def _build_month(
    days: list[list[rawstore.RawFile]], family: str, scope: str, dest: Callable[[str], _PartWriter]
) -> tuple[dict[str, pl.Schema], dict[str, list[dict[str, Any]]]]:
    """Parse a month's days and write its tables (``dest(table)`` is each table's partition writer), streaming:
    two days read at once (Arrow, GIL released) while the previous batch's tables are made and written, a few
    days ahead at most. Days with the same schema are batched so small files do not each pay polars' per-query
    cost. A day given as several versions (oldest first) is built from them as :mod:`merge` says. Returns each
    written table's schema and the side tables' rows (quarantined lines, schema drift, late corrections)."""
    writers: dict[str, _PartWriter] = {}
    side: dict[str, list[dict[str, Any]]] = {t: [] for t in SIDE_SCHEMAS}
    ordered = [(v[-1], v) for v in sorted(days, key=lambda v: v[-1].meta["key"])]
    batch: list[pa.Table] = []

    def parse(f: rawstore.RawFile) -> Parsed:
        source = "/".join(f.path.parts[-4:])
        try:
            return _real_days(parse_rows(f.path.read_bytes(), family, source), source)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is quarantined whole, the month goes on
            return Parsed(SCHEMAS[family].empty_table(), [{"file": source, "line": None, "reason": _why(exc)}])

    def read(item: tuple[rawstore.RawFile, list[rawstore.RawFile]]) -> tuple[Parsed, list[dict[str, Any]]]:
        files = item[1]
        versions = [parse(f) for f in files]
        if len(versions) == 1:
            return versions[0], []
        complete = [merge.is_complete(f.meta) for f in files]
        table, changes = merge.resolve([p.table for p in versions], complete, family)
        live = versions[merge.last_complete(complete) :]  # the versions the day's rows come from
        corrections = [
            {
                "scope": scope,
                "report": files[c["version"]].meta.get("report"),
                "day": files[c["version"]].meta["key"],
                "source": "fetch" if complete[c["version"]] else "import",
                "file": "/".join(files[c["version"]].path.parts[-4:]),
                "fetched_at": files[c["version"]].fetched_at,
                **{k: v for k, v in c.items() if k != "version"},
            }
            for c in changes
        ]
        parsed = Parsed(
            table,
            [q for p in live for q in p.quarantine],
            list(dict.fromkeys(u for p in live for u in p.unknown_fields)),
        )
        return parsed, corrections

    def flush() -> None:
        if batch:
            frame = pl.from_arrow(pa.concat_tables(batch))
            assert isinstance(frame, pl.DataFrame)
            for table, out in _tables_for(family, frame, scope).items():
                if table not in writers:
                    writers[table] = dest(table)
                writers[table].add(out)
            batch.clear()

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for (f, _), (parsed, corrections) in zip(ordered, _ahead(pool, read, ordered, 3), strict=True):
                where = {"scope": scope, "report": f.meta.get("report"), "day": f.meta["key"]}
                side["quarantine"] += [{**where, **q} for q in parsed.quarantine]
                side["schema_drift"] += [{**where, "field": u} for u in parsed.unknown_fields]
                side["late_corrections"] += corrections
                if not parsed.table.num_rows:
                    continue
                if batch and (
                    not parsed.table.schema.equals(batch[0].schema) or sum(b.num_rows for b in batch) >= _BATCH_ROWS
                ):
                    flush()
                batch.append(parsed.table)
            flush()
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    return {t: w.close() for t, w in writers.items()}, side


def _snapshot_files(data_dir: Path, report: str) -> list[tuple[Scope, str, rawstore.RawFile]]:
    return [(scope, key, day[-1]) for scope, key, day in rawstore.slot_versions(data_dir, report) if day]


def _readable_snapshots(
    data_dir: Path, report: str
) -> tuple[list[tuple[Scope, str, rawstore.RawFile]], list[dict[str, Any]]]:
    """Per slot the newest version whose body is JSON (an HTML page or an empty body stored by an older kit is
    passed over for the version before it), and the versions passed over, as quarantine rows."""
    out, bad = [], []
    for scope, key, day in rawstore.slot_versions(data_dir, report):
        for f in reversed(day):
            why = _unreadable_json(f, first_line=report == "teams")
            if why is None:
                out.append((scope, key, f))
                break
            bad.append(_file_quarantine(scope, report, key, f, why))
    return out, bad


def _unreadable_json(f: rawstore.RawFile, *, first_line: bool) -> str | None:
    if f.path.suffix not in (".json", ".ndjson"):
        return None  # the billing CSV: its own reader quarantines lines
    data = f.path.read_bytes()
    if first_line:
        data = data.split(b"\n", 1)[0]
    try:
        json.loads(data)
    except ValueError as exc:
        start = data.lstrip()[:1]
        kind = "an HTML page" if start == b"<" else "empty" if not start else "not JSON"
        return f"body is {kind} ({_why(exc)})"
    return None


def _build_each(
    builder: Callable[[list[Any]], dict[str, pl.DataFrame]],
    files: list[tuple[Scope, str, rawstore.RawFile]],
    report: str,
) -> tuple[dict[str, pl.DataFrame], list[dict[str, Any]]]:
    """``builder(files)``; if it fails, the files it fails on alone are left out (quarantined with the reason) and
    it runs on the rest, so one snapshot that is not what the endpoint returns never blocks the others."""
    with contextlib.suppress(Exception):  # the failing files are found one by one below
        return builder(files), []
    good, bad = [], []
    for item in files:
        try:
            builder([item])
            good.append(item)
        except Exception as exc:  # noqa: BLE001
            bad.append(_file_quarantine(item[0], report, item[1], item[2], _why(exc)))
    return (builder(good) if good else {}), bad


def _file_quarantine(scope: Scope, report: str, key: str, f: rawstore.RawFile, reason: str) -> dict[str, Any]:
    file = "/".join(f.path.parts[-4:])
    return {"scope": str(scope), "report": report, "day": key, "file": file, "line": None, "reason": reason}


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def is_day(text: str) -> bool:
    """``YYYY-MM-DD`` naming a real calendar day."""
    if len(text) != 10:
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _real_days(parsed: Parsed, source: str) -> Parsed:
    """Rows whose ``day`` is not a real date are quarantined (its table's day column would not build)."""
    days = pl.from_arrow(parsed.table.select(["day"]))
    assert isinstance(days, pl.DataFrame)
    bad = days.with_row_index("row").filter(
        pl.col("day").is_not_null() & pl.col("day").str.to_date("%Y-%m-%d", strict=False).is_null()
    )
    if not bad.height:
        return parsed
    keep = pa.array(~pl.Series(range(days.height)).is_in(bad["row"]).to_numpy())
    rows = [{"file": source, "line": None, "reason": f"day {d!r} is not a date"} for d in bad["day"].head(20)]
    if bad.height > 20:
        rows.append(
            {"file": source, "line": None, "reason": f"and {bad.height - 20} more rows whose day is not a date"}
        )
    return Parsed(parsed.table.filter(keep), parsed.quarantine + rows, parsed.unknown_fields)


def _write_quarantine(data_dir: Path, name: str, rows: list[dict[str, Any]]) -> None:
    """Whole raw files left out of the build (``line`` null), one partition per source of them."""
    frame = pl.DataFrame(rows, schema=SIDE_SCHEMAS["quarantine"], strict=False) if rows else None
    _write_side(data_dir, "quarantine", name, frame)


def _build_snapshots(data_dir: Path, manifest: dict[str, Any]) -> dict[str, int]:
    written = {}
    builders = (
        ("seats", _seats),
        ("teams", _teams),
        ("billing", _billing),
        ("billing-users", _billing_users),
        ("billing-csv", _billing_csv),
        ("budgets", _budgets),
    )
    for report, builder in builders:
        files = _snapshot_files(data_dir, report)
        fingerprint = sorted(f"{s}:{k}:{f.meta['sha256']}" for s, k, f in files)
        if manifest.get(report) == fingerprint or not files:
            continue
        files, bad = _readable_snapshots(data_dir, report)
        tables, more = _build_each(builder, files, report)
        _write_quarantine(data_dir, f"snapshot-{report}", bad + more)
        for table, frame in tables.items():
            if "/" in table:  # a side table's rows from this builder (quarantine/billing, schema_drift/budgets)
                side, source = table.split("/", 1)
                _write_side(data_dir, side, source, frame)
            else:
                lake.replace(data_dir, table, frame.to_arrow())
            written[table] = 1
        manifest[report] = fingerprint
    return written


def _build_cost_centers(data_dir: Path, manifest: dict[str, Any]) -> dict[str, int]:
    """``cost_centers``, ``cost_center_resources``, ``cost_center_members`` (+ ``schema_drift/cost_centers``) from
    the cost-centre snapshots, resolved against the processed seats and team member lists (rebuilt when any of
    the three changed)."""
    files = _snapshot_files(data_dir, "cost-centers")
    fingerprint = [
        *sorted(f"{s}:{k}:{f.meta['sha256']}" for s, k, f in files),
        manifest.get("seats"),
        manifest.get("teams"),
    ]
    if manifest.get("cost-centers") == fingerprint or not files:
        return {}
    files, bad = _readable_snapshots(data_dir, "cost-centers")
    rows, more = _build_each(
        lambda fs: dict(zip(("centres", "resources"), _cost_center_rows(fs), strict=True)), files, "cost-centers"
    )
    _write_quarantine(data_dir, "snapshot-cost-centers", bad + more)
    if not rows:
        manifest["cost-centers"] = fingerprint
        return {}
    centres, resources = rows["centres"], rows["resources"]

    def table(name: str, schema: dict[str, Any]) -> pl.DataFrame:
        held = lake.read(data_dir, name)
        return held if held is not None else pl.DataFrame(schema=schema)

    seat_schema = {"scope": pl.String, "snapshot_day": pl.Date, "user_id": pl.Int64, "user_login": pl.String}
    members = cost_centers.resolve(
        resources,
        table("seats", {**seat_schema, "organization": pl.String}),
        table("team_members", {**seat_schema, "team_id": pl.Int64}),
        table(
            "teams",
            {"scope": pl.String, "snapshot_day": pl.Date, "team_id": pl.Int64, "slug": pl.String, "name": pl.String},
        ),
    )
    out = {"cost_centers": centres, "cost_center_resources": resources, "cost_center_members": members}
    for name, frame in out.items():
        lake.replace(data_dir, name, frame.to_arrow())
    _write_side(data_dir, "schema_drift", "cost_centers", cost_centers.drift(resources))
    manifest["cost-centers"] = fingerprint
    return dict.fromkeys(out, 1)


def _cost_center_rows(files: list[tuple[Scope, str, rawstore.RawFile]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The stored ``{"costCenters": [...]}`` bodies (active, deleted) → one row per cost centre and snapshot, and
    one per resource (every type kept; ``known_type`` false for types the kit does not know)."""
    centres, resources = [], []
    for scope, key, f in files:
        seen = set()
        for body in json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf")):
            for c in body.get("costCenters") or []:
                if c.get("id") in seen:
                    continue
                seen.add(c.get("id"))
                pool = c.get("ai_credit_pool_state") or {}
                base = {"scope": str(scope), "snapshot_day": key, "cost_center_id": c.get("id")}
                centres.append(
                    {
                        **base,
                        "cost_center_name": c.get("name"),
                        "state": c.get("state"),
                        "azure_subscription": c.get("azure_subscription"),
                        "ai_credit_pool_enabled": c.get("ai_credit_pool_enabled"),
                        "pool_target_usd": pool.get("target_amount"),
                        "pool_current_usd": pool.get("current_amount"),
                        "resources": len(c.get("resources") or []),
                    }
                )
                resources += [
                    {
                        **base,
                        "cost_center_name": c.get("name"),
                        "state": c.get("state"),
                        "type": r.get("type"),
                        "name": r.get("name"),
                        "known_type": r.get("type") in cost_centers.KNOWN_TYPES,
                    }
                    for r in c.get("resources") or []
                ]
    day = pl.col("snapshot_day").str.to_date()
    as_text = {"snapshot_day": pl.String}
    return (
        pl.DataFrame(centres, schema={**cost_centers.CENTERS_SCHEMA, **as_text}).with_columns(day),
        pl.DataFrame(resources, schema={**cost_centers.RESOURCES_SCHEMA, **as_text}).with_columns(day),
    )


def _budgets(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    """Budget snapshots → ``budgets`` and ``budget_user_states`` (+ ``schema_drift/budgets`` for scopes the kit
    does not know, kept as sent)."""
    rows, states = [], []
    for scope, key, f in files:
        stored = json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        base = {"scope": str(scope), "snapshot_day": key}
        for page in stored.get("budgets") or []:
            for b in page.get("budgets") or []:
                alerting = b.get("budget_alerting") or {}
                rows.append(
                    {
                        **base,
                        "budget_id": b.get("id"),
                        "budget_type": b.get("budget_type"),
                        "budget_scope": b.get("budget_scope"),
                        "budget_entity_name": b.get("budget_entity_name"),
                        "budget_product_sku": b.get("budget_product_sku"),
                        "budget_amount": b.get("budget_amount"),
                        "prevent_further_usage": b.get("prevent_further_usage"),
                        "will_alert": alerting.get("will_alert"),
                        "consumed_amount": b.get("consumed_amount"),
                        "user": b.get("user"),
                    }
                )
        for entry in stored.get("user_states") or []:
            for page in entry.get("pages") or []:
                states += [
                    {
                        **base,
                        "budget_id": entry.get("budget_id"),
                        "user": u.get("user"),
                        "consumed_amount": u.get("consumed_amount"),
                        "target_amount": u.get("target_amount"),
                        "override_budget_id": u.get("override_budget_id"),
                    }
                    for u in page.get("user_states") or []
                ]
    as_text = {"snapshot_day": pl.String}
    typed = {k: v for k, v in budgets.BUDGETS_SCHEMA.items() if k not in ("scope_kind", "known_scope")}
    frame = pl.DataFrame(rows, schema={**typed, **as_text}).with_columns(
        pl.col("snapshot_day").str.to_date(),
        scope_kind=budgets.normalise_scope(pl.col("budget_scope")),
    )
    frame = frame.with_columns(known_scope=pl.col("scope_kind").is_in(list(budgets.BUDGET_SCOPES))).select(
        list(budgets.BUDGETS_SCHEMA)
    )
    drift = frame.filter(~pl.col("known_scope")).select(
        "scope",
        report=pl.lit("budgets"),
        day=pl.col("snapshot_day").cast(pl.String),
        field=pl.format("budgets[].budget_scope={}", pl.col("budget_scope").fill_null("null")),
    )
    return {
        "budgets": frame,
        "budget_user_states": pl.DataFrame(states, schema={**budgets.USER_STATES_SCHEMA, **as_text}).with_columns(
            pl.col("snapshot_day").str.to_date()
        ),
        "schema_drift/budgets": drift.unique(maintain_order=True),
    }


def _seats(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    rows = []
    for scope, key, f in files:
        for page in json.loads(f.path.read_bytes()):
            for s in page.get("seats", []):
                a, o, t = s.get("assignee") or {}, s.get("organization") or {}, s.get("assigning_team") or {}
                rows.append(
                    {
                        "scope": str(scope),
                        "snapshot_day": key,
                        "user_id": a.get("id"),
                        "user_login": a.get("login"),
                        "organization": o.get("login"),
                        "plan_type": s.get("plan_type"),
                        "created_at": s.get("created_at"),
                        "last_activity_at": s.get("last_activity_at"),
                        "last_activity_editor": s.get("last_activity_editor"),
                        "pending_cancellation_date": s.get("pending_cancellation_date"),
                        "assigning_team": t.get("slug"),
                    }
                )
    # typed, not inferred: a roster in which no seat has (say) a pending cancellation has an all-null column
    schema = {
        "scope": pl.String,
        "snapshot_day": pl.String,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "organization": pl.String,
        "plan_type": pl.String,
        "created_at": pl.String,
        "last_activity_at": pl.String,
        "last_activity_editor": pl.String,
        "pending_cancellation_date": pl.String,
        "assigning_team": pl.String,
    }
    frame = pl.DataFrame(rows, schema=schema, strict=False).with_columns(
        pl.col("snapshot_day").str.to_date(),
        pl.col("created_at", "last_activity_at").str.to_datetime(time_zone="UTC", strict=False),
        pl.col("pending_cancellation_date").str.to_date(strict=False),
        pl.col("user_id").cast(pl.Int64),
    )
    return {"seats": frame}


def _teams(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    teams, members = [], []
    for scope, key, f in files:
        lines = f.path.read_bytes().splitlines()
        for page in json.loads(lines[0])["teams"]:
            for t in page:
                p = t.get("parent") or {}
                teams.append(
                    {
                        "scope": str(scope),
                        "snapshot_day": key,
                        "team_id": t["id"],
                        "slug": t["slug"],
                        "name": t.get("name"),
                        "parent_id": p.get("id"),
                        "parent_slug": p.get("slug"),
                    }
                )
        for line in lines[1:]:
            doc = json.loads(line)
            for page in doc["members"]:
                for m in page:
                    members.append(
                        {
                            "scope": str(scope),
                            "snapshot_day": key,
                            "team_id": doc["team_id"],
                            "user_id": m.get("id"),
                            "user_login": m.get("login"),
                            "inherited": m.get("inherited"),
                        }
                    )
    schema_t = {
        "scope": pl.String,
        "snapshot_day": pl.String,
        "team_id": pl.Int64,
        "slug": pl.String,
        "name": pl.String,
        "parent_id": pl.Int64,
        "parent_slug": pl.String,
    }
    schema_m = {
        "scope": pl.String,
        "snapshot_day": pl.String,
        "team_id": pl.Int64,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "inherited": pl.Boolean,
    }
    return {
        "teams": pl.DataFrame(teams, schema=schema_t).with_columns(pl.col("snapshot_day").str.to_date()),
        "team_members": pl.DataFrame(members, schema=schema_m).with_columns(pl.col("snapshot_day").str.to_date()),
    }


_BILLING_ITEM_SCHEMA = {
    "user": pl.String,
    "product": pl.String,
    "sku": pl.String,
    "model": pl.String,
    "unit_type": pl.String,
    **dict.fromkeys(
        (
            "price_per_unit",
            "gross_quantity",
            "discount_quantity",
            "net_quantity",
            "gross_amount",
            "discount_amount",
            "net_amount",
        ),
        pl.Float64,
    ),
}


_BILLING_NUMBERS = [c for c, t in _BILLING_ITEM_SCHEMA.items() if t == pl.Float64]
_NOT_FINITE = "not a finite number (NaN or infinite): "


def not_finite(columns: list[str]) -> pl.Expr:
    """Per row, the names of ``columns`` holding NaN or an infinity, comma-separated ('' when none; null is fine)."""
    return pl.concat_str(
        [pl.when(~pl.col(c).is_finite()).then(pl.lit(c)) for c in columns], separator=", ", ignore_nulls=True
    )


BILLING_USER_MONTH_SCHEMA = {"scope": pl.String, "month": pl.Date, "user_asked": pl.String, **_BILLING_ITEM_SCHEMA}


def _billing_items(body: dict[str, Any], user: str | None = None) -> list[dict[str, Any]]:
    """The ``usageItems`` of one AI-credit usage answer as rows (GitHub's billing usage API); an item's own
    ``user`` wins over the answer's echo, which wins over the user asked for."""
    echo = body.get("user", user)
    return [
        {
            "user": item.get("user", echo),
            "product": item.get("product"),
            "sku": item.get("sku"),
            "model": item.get("model"),
            "unit_type": item.get("unitType"),
            "price_per_unit": item.get("pricePerUnit"),
            "gross_quantity": item.get("grossQuantity"),
            "discount_quantity": item.get("discountQuantity"),
            "net_quantity": item.get("netQuantity"),
            "gross_amount": item.get("grossAmount"),
            "discount_amount": item.get("discountAmount"),
            "net_amount": item.get("netAmount"),
        }
        for item in body.get("usageItems") or []
    ]


def _billing(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    """Billing answers → ``billing_ai_credit`` (+ ``quarantine/billing``: an item with a number that is not finite,
    by file and its place among ``usageItems``; Python's json reads ``NaN`` and ``1e309``)."""
    rows = []
    for scope, key, f in files:
        body = json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        rows += [
            {"scope": str(scope), "day": key, "file": f.path.name, "line": i, **item}
            for i, item in enumerate(_billing_items(body), start=1)
        ]
    schema = {"scope": pl.String, "day": pl.String, "file": pl.String, "line": pl.Int64, **_BILLING_ITEM_SCHEMA}
    frame = pl.DataFrame(rows, schema=schema).with_columns(reason=not_finite(_BILLING_NUMBERS))
    bad = frame.filter(pl.col("reason") != "").select(
        "scope", report=pl.lit("billing"), day="day", file="file", line="line", reason=_NOT_FINITE + pl.col("reason")
    )
    good = frame.filter(pl.col("reason") == "").drop("file", "line", "reason")
    return {"billing_ai_credit": good.with_columns(pl.col("day").str.to_date()), "quarantine/billing": bad}


def _billing_users(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    """Per-user billing months → ``billing_user_month``: one row per scope × month × user × usage item, and one
    row with null item fields for a user asked who had no usage (billed nothing, which is not unknown)."""
    rows = []
    for scope, key, f in files:
        stored = json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        for n, (user, body) in enumerate(zip(stored["users"], stored["responses"], strict=True), start=1):
            items = _billing_items(body, user)
            base = {"scope": str(scope), "month": f"{key}-01", "user_asked": user, "file": f.path.name, "line": n}
            rows += [{**base, **item} for item in items] or [{**base, "user": body.get("user", user)}]
    schema = {**BILLING_USER_MONTH_SCHEMA, "month": pl.String, "file": pl.String, "line": pl.Int64}
    frame = pl.DataFrame(rows, schema=schema).with_columns(reason=not_finite(_BILLING_NUMBERS))
    bad = frame.filter(pl.col("reason") != "").select(  # line: the answer's place in the stored file
        "scope",
        report=pl.lit("billing-users"),
        day="month",
        file="file",
        line="line",
        reason=_NOT_FINITE + pl.col("reason"),
    )
    good = frame.filter(pl.col("reason") == "").drop("file", "line", "reason")
    return {
        "billing_user_month": good.with_columns(pl.col("month").str.to_date()),  # read as text, then typed
        "quarantine/billing_users": bad,
    }


BILLING_CSV_COLUMNS = {
    "date": pl.String,
    "username": pl.String,
    "product": pl.String,
    "sku": pl.String,
    "model": pl.String,
    "quantity": pl.Float64,
    "unit_type": pl.String,
    "applied_cost_per_quantity": pl.Float64,
    "gross_amount": pl.Float64,
    "discount_amount": pl.Float64,
    "net_amount": pl.Float64,
    "total_monthly_quota": pl.Float64,
    "organization": pl.String,
    "repository": pl.String,
    "cost_center_name": pl.String,
    "aic_quantity": pl.Float64,
    "aic_gross_amount": pl.Float64,
}


def is_ai_credit(sku: pl.Expr, unit_type: pl.Expr, price: pl.Expr) -> pl.Expr:
    """An AI-credit line, matched case-insensitively by SKU, unit type or price (the spellings GitHub's billing
    returns vary and are not all documented)."""
    s = sku.str.to_lowercase().str.replace_all(r"[\s_-]+", " ")
    u = unit_type.str.to_lowercase().str.replace_all(r"[\s_-]+", " ")
    return (
        s.str.contains("ai credit").fill_null(False)
        | u.is_in(["credits", "ai credits"]).fill_null(False)
        | (price.round(6) == CREDIT_PRICE_USD).fill_null(False)  # GitHub's list price per credit
    )


# the columns a usage-report row cannot mean anything without (an import without one is refused)
BILLING_CSV_REQUIRED = ("date", "username", "quantity")


def billing_csv_missing(data: bytes) -> list[str]:
    """The columns of :data:`BILLING_CSV_REQUIRED` a usage-report CSV's header lacks."""
    header = pl.read_csv(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")), n_rows=0, infer_schema_length=0).columns
    present = {c.strip().lower() for c in header}
    return [c for c in BILLING_CSV_REQUIRED if c not in present]


def billing_csv_rows(data: bytes, file: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One usage-report CSV typed: its readable rows and the unreadable ones (``line``, ``reason``). A row whose
    date does not read, or whose quantity does not read or is not a finite number (NaN, ±inf, an overflow such as
    1e309), is unreadable. Columns are matched case- and space-insensitively; missing ones are null."""
    raw = pl.read_csv(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")), infer_schema_length=0, truncate_ragged_lines=True)
    raw = raw.rename({c: c.strip().lower() for c in raw.columns}).with_columns(
        line=pl.int_range(2, pl.len() + 2), file=pl.lit(file)
    )
    extra_cols = [c for c in raw.columns if c not in BILLING_CSV_COLUMNS and c not in ("line", "file")]
    typed = raw.with_columns(
        [
            pl.col(c).cast(t, strict=False) if c in raw.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in BILLING_CSV_COLUMNS.items()
        ],
        day=pl.col("date").str.slice(0, 10).str.to_date(strict=False) if "date" in raw.columns else pl.lit(None),
        extra=pl.struct(extra_cols).struct.json_encode() if extra_cols else pl.lit(None, dtype=pl.String),
    )
    bad_numbers = not_finite([c for c, t in BILLING_CSV_COLUMNS.items() if t == pl.Float64])
    reason = (
        pl.when(pl.col("day").is_null())
        .then(pl.lit("date is not readable"))
        .when(pl.col("quantity").is_null())
        .then(pl.lit("quantity is not readable"))
        .when(bad_numbers != "")
        .then(_NOT_FINITE + bad_numbers)
    )
    typed = typed.with_columns(reason=reason)
    bad = typed.filter(pl.col("reason").is_not_null()).select("line", "reason")
    return typed.filter(pl.col("reason").is_null()).drop("reason"), bad


def _billing_csv(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    """GitHub's billing usage-report CSVs → ``billing_usage_csv`` (+ ``quarantine/billing_csv``).

    Unknown columns are kept as JSON in ``extra``; missing optional columns are null; a row whose date or
    quantity cannot be read (or a number that is not finite) is quarantined with file and line
    (:func:`billing_csv_rows`). ``credits`` is the quantity of AI-credit lines and ``aic_quantity`` (the AI-credit
    equivalent) of older premium-request lines.
    """
    frames, bad = [], []
    for scope, _key, f in files:
        rows, unreadable = billing_csv_rows(f.path.read_bytes(), f.path.name)
        bad.append(
            unreadable.select(
                scope=pl.lit(str(scope)),
                report=pl.lit("billing-csv"),
                day=pl.lit(None, dtype=pl.String),
                file=pl.lit(f.path.name),
                line="line",
                reason="reason",
            )
        )
        frames.append(rows.with_columns(scope=pl.lit(str(scope))))
    rows = pl.concat(frames, how="diagonal_relaxed")
    ai = is_ai_credit(pl.col("sku"), pl.col("unit_type"), pl.col("applied_cost_per_quantity"))
    usage = rows.select(
        "scope",
        "day",
        user="username",
        organization="organization",
        cost_center="cost_center_name",
        product="product",
        sku="sku",
        model="model",
        unit_type="unit_type",
        price_per_unit="applied_cost_per_quantity",
        quantity="quantity",
        credits=pl.when(ai).then(pl.col("quantity")).otherwise(pl.col("aic_quantity")),
        is_ai_credit=ai,
        gross_amount="gross_amount",
        discount_amount="discount_amount",
        net_amount="net_amount",
        source=pl.lit("csv"),
        file="file",
        line="line",
        extra="extra",
    )
    return {"billing_usage_csv": usage, "quarantine/billing_csv": pl.concat(bad)}


def data_health(data_dir: Path) -> pl.DataFrame:
    """Per scope × report × day: complete / no_data / pending / error (newest outcome), with fetched_at.

    ``missing`` days (never requested) are derived at read time by :func:`health`.
    """
    rows = []
    for report in DAILY:
        for scope, key, stored in rawstore.slot_versions(data_dir, report):
            newest = stored[-1] if stored else None
            if newest and is_day(key):
                rows.append(
                    {
                        "scope": str(scope),
                        "report": report,
                        "day": key,
                        "status": "complete",
                        "fetched_at": newest.fetched_at,
                        "versions": len(stored),
                        "api_host": newest.meta.get("api_host"),  # None for imported files and older fetches
                    }
                )
    seen = {(r["scope"], r["report"], r["day"]) for r in rows}
    latest: dict[tuple[str, str, str], str] = {}
    for rec in rawstore.read_log(data_dir):
        if rec.get("report") in DAILY:
            latest[(rec["scope"], rec["report"], rec["key"])] = rec["status"]
    for (scope_text, report, day), status in latest.items():
        if (scope_text, report, day) not in seen and status in ("no_data", "pending", "failed") and is_day(day):
            rows.append(
                {
                    "scope": scope_text,
                    "report": report,
                    "day": day,
                    "status": "error" if status == "failed" else status,
                    "fetched_at": None,
                    "versions": 0,
                    "api_host": None,
                }
            )
    schema = {
        "scope": pl.String,
        "report": pl.String,
        "day": pl.String,
        "status": pl.String,
        "fetched_at": pl.String,
        "versions": pl.Int64,
        "api_host": pl.String,
    }
    return pl.DataFrame(rows, schema=schema).with_columns(pl.col("day").str.to_date()).sort("scope", "report", "day")


# ---------------------------------------------------------------------- readers
TABLES = (
    "user_day",
    "user_ide_day",
    "user_feature_day",
    "user_language_feature_day",
    "user_language_model_day",
    "user_model_feature_day",
    "user_3rd_party_agent_day",
    "user_cli_customisation_day",
    "aggregate_day",
    "aggregate_feature_day",
    "aggregate_model_feature_day",
    "aggregate_ide_day",
    "aggregate_language_feature_day",
    "aggregate_language_model_day",
    "aggregate_3rd_party_agent_day",
    "aggregate_cli_customisation_day",
    "aggregate_ai_adoption_phase_day",
    "user_team_day",
    "repo_day",
    "repo_review_times_day",
    "seats",
    "teams",
    "team_members",
    "billing_ai_credit",
    "billing_user_month",
    "billing_usage_csv",
    "billing_usage",
    "cost_centers",
    "cost_center_resources",
    "cost_center_members",
    "budgets",
    "budget_user_states",
    "data_health",
    "quarantine",
    "schema_drift",
    "late_corrections",
)


def scan(
    data_dir: Path | str,
    table: str,
    *,
    scope: str | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    version: int | None = None,
    opened: Any = None,
) -> pl.LazyFrame:
    """Lazy scan of a processed table through its Delta log, filtered by scope and inclusive day range when given;
    ``version``: the table as it was at that Delta version (None: the newest); ``opened``: that version's
    ``DeltaTable`` when the caller holds it (:func:`lake.scan`)."""
    if table not in TABLES:
        msg = f"unknown table {table!r}; tables: {', '.join(TABLES)}"
        raise ValueError(msg)
    if table == "billing_usage":
        return _billing_usage(data_dir, scope=scope, start=start, end=end)
    got = lake.scan(data_dir, table, version, opened=opened)
    if got is None:
        msg = f"table {table!r} is empty under {lake.uri(data_dir, table)} — run `copilot-usage build` (or fetch first)"
        raise NotInCache(msg)
    lf, partitions = got
    if scope is not None:
        if "scope_kind" in partitions:  # only the scope's partitions are read
            kind, _, slug = scope.partition(":")
            lf = lf.filter((pl.col("scope_kind") == kind) & (pl.col("scope_slug") == slug))
        lf = lf.filter(pl.col("scope") == scope)
    if "month" in partitions and start is not None:
        lf = lf.filter(pl.col("month") >= _as_date(start).isoformat()[:7])
    if "month" in partitions and end is not None:
        lf = lf.filter(pl.col("month") <= _as_date(end).isoformat()[:7])
    lf = lf.drop(partitions)
    names = lf.collect_schema().names()
    if "day" in names:
        if start is not None:
            lf = lf.filter(pl.col("day") >= pl.lit(_as_date(start)))
        if end is not None:
            lf = lf.filter(pl.col("day") <= pl.lit(_as_date(end)))
    elif "month" in names:  # monthly tables: the months the range touches
        if start is not None:
            lf = lf.filter(pl.col("month") >= pl.lit(_as_date(start).replace(day=1)))
        if end is not None:
            lf = lf.filter(pl.col("month") <= pl.lit(_as_date(end)))
    return lf


def _billing_usage(
    data_dir: Path | str, *, scope: str | None, start: str | dt.date | None, end: str | dt.date | None
) -> pl.LazyFrame:
    """``billing_usage``: the billing API's AI-credit items and the imported usage-report CSV rows, one schema
    (``source`` = api | csv). API items carry no user unless fetched per user; CSV rows usually do. A day an
    imported CSV covers comes from the CSV only."""
    parts = []
    for table in ("billing_ai_credit", "billing_usage_csv"):
        try:
            parts.append(scan(data_dir, table, scope=scope, start=start, end=end))
        except NotInCache:
            continue
    if not parts:
        msg = f"no billing data under {processed(data_dir)}: fetch with a billing token or import a usage-report CSV"
        raise NotInCache(msg)
    frames = []
    for lf in parts:
        cols = lf.collect_schema().names()
        if "gross_quantity" in cols:  # the API
            ai = is_ai_credit(pl.col("sku"), pl.col("unit_type"), pl.col("price_per_unit"))
            lf = lf.select(
                "scope",
                "day",
                "user",
                pl.lit(None, dtype=pl.String).alias("organization"),
                pl.lit(None, dtype=pl.String).alias("cost_center"),
                "product",
                "sku",
                "model",
                "unit_type",
                "price_per_unit",
                quantity=pl.col("gross_quantity"),
                credits=pl.when(ai).then(pl.col("gross_quantity")),
                is_ai_credit=ai,
                gross_amount="gross_amount",
                discount_amount="discount_amount",
                net_amount="net_amount",
                source=pl.lit("api"),
            )
        else:
            lf = lf.drop("file", "line", "extra")
        frames.append(lf)
    both = pl.concat(frames, how="diagonal_relaxed")
    # where an imported CSV covers a day, it is the detailed source: the API's totals for that day would double it
    csv_days = both.filter(pl.col("source") == "csv").select("scope", "day").unique()
    api = both.filter(pl.col("source") == "api").join(csv_days, on=["scope", "day"], how="anti")
    return pl.concat([api, both.filter(pl.col("source") == "csv")], how="vertical_relaxed")


def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _make_scanner(table: str) -> Any:
    def scanner(
        data_dir: Path | str,
        *,
        scope: str | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> pl.LazyFrame:
        return scan(data_dir, table, scope=scope, start=start, end=end)

    scanner.__name__ = f"scan_{table}"
    scanner.__doc__ = f"Lazy scan of ``{table}`` (see :func:`scan`)."
    return scanner


scan_user_day = _make_scanner("user_day")
scan_user_feature_day = _make_scanner("user_feature_day")
scan_user_model_feature_day = _make_scanner("user_model_feature_day")
scan_user_ide_day = _make_scanner("user_ide_day")
scan_aggregate_day = _make_scanner("aggregate_day")
scan_user_team_day = _make_scanner("user_team_day")
scan_repo_day = _make_scanner("repo_day")
scan_seats = _make_scanner("seats")
scan_teams = _make_scanner("teams")
scan_billing_ai_credit = _make_scanner("billing_ai_credit")
scan_billing_user_month = _make_scanner("billing_user_month")
scan_data_health = _make_scanner("data_health")


def health(
    data_dir: Path | str, *, scope: str, start: dt.date, end: dt.date, reports: Iterable[str] = ("users-1-day",)
) -> pl.DataFrame:
    """Status of every day in ``[start, end]`` per report, ``missing`` where nothing was fetched."""
    days = pl.DataFrame({"day": pl.date_range(start, end, eager=True)})
    grid = days.join(pl.DataFrame({"report": list(reports)}), how="cross").with_columns(scope=pl.lit(scope))
    try:
        known = scan(data_dir, "data_health", scope=scope).collect()
    except NotInCache:
        known = pl.DataFrame(schema={"scope": pl.String, "report": pl.String, "day": pl.Date, "status": pl.String})
    return (
        grid.join(known.select("scope", "report", "day", "status"), on=["scope", "report", "day"], how="left")
        .with_columns(pl.col("status").fill_null("missing"))
        .sort("report", "day")
    )
