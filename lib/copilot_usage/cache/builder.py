"""``build``: raw store → typed Delta Lake tables in ``data/processed/``.

Layout: ``processed/<table>/`` is a Delta table (:mod:`lake`): daily tables partitioned by ``scope_kind``,
``scope_slug`` and ``month``, side tables by ``written_by`` (the report × scope × month, or the snapshot builder, that
wrote the rows), snapshots whole. A month is rebuilt only when the set of newest raw versions of its days
changed (``processed/_manifest.json``), one month at a time so memory stays flat as history grows, and each
month's partition is replaced in one transaction, so a reader never sees half a build.
"""

from __future__ import annotations

import contextlib
import functools
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

from ..analysis import cost_centers
from ..catalog import Scope
from ..ingest import rawstore
from ..storage import objstore
from . import lake, merge
from .billing import _billing, _billing_csv, _billing_users
from .daily import DAILY, _tables_for, is_day
from .health import data_health
from .parse import SCHEMAS, Parsed, parse_rows
from .snapshots import _budgets, _cost_center_rows, _seats, _teams
from .tables import SIDE_SCHEMAS, processed

LAYOUT = 3  # of processed/: bumped when a rebuild from raw is needed (3: Delta Lake tables)


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
