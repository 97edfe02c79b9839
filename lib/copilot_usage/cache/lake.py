"""The processed tables as Delta Lake tables: ``<data dir>/processed/<table>/`` (Parquet files + ``_delta_log``).

Every write is one Delta transaction: a partition (a scope's month of a daily table, one source of a side table)
is replaced atomically with an overwrite limited by a predicate, a snapshot table is replaced whole. A reader
(``pl.scan_delta``, DuckDB, Spark …) always sees one committed version, never a half-written month, and can read
an older one again by its number (time travel: the reports' data notes name the versions they read). The same
code writes a local folder and an object store (:mod:`objstore` gives the URL and options).
https://delta-io.github.io/delta-rs/usage/writing/#overwriting-part-of-the-table-data-using-a-predicate
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from ..errors import StoreError
from ..storage import objstore

DAILY_PARTITIONS = ("scope_kind", "scope_slug", "month")  # as the Parquet layout before Delta
SIDE_PARTITION = "written_by"  # side tables: one partition per report × scope × month, or per snapshot builder
_PROPS = WriterProperties(compression="ZSTD", compression_level=1)
ATTEMPTS = 5  # commits of one partition that lost to another writer's, made again


def uri(data_dir: Path | str, table: str) -> str:
    return objstore.join(data_dir, "processed", table)


@contextmanager
def _naming(where: str) -> Iterator[None]:
    """A Delta or store failure as one :class:`StoreError` naming the table's location (first line of the cause:
    the rest is the Rust error chain)."""
    try:
        yield
    except (DeltaError, OSError) as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        msg = f"{where}: {first}"
        raise StoreError(msg) from exc


def open_table(data_dir: Path | str, table: str, version: int | None = None) -> DeltaTable | None:
    """The table at ``version`` (None: the newest), or None when the cache has no such table."""
    where = uri(data_dir, table)
    try:
        with _naming(where):
            return DeltaTable(where, version=version, storage_options=objstore.storage_options(data_dir))
    except StoreError as exc:
        if isinstance(exc.__cause__, TableNotFoundError) and version is None:
            return None
        raise


_held = threading.local()  # per thread: the tables it writes (or None: known absent), opened once a build


def _current(data_dir: Path | str, table: str, *, refresh: bool = False) -> DeltaTable | None:
    """A table this thread writes, opened once (a build commits a table once per month; opening it anew each time
    replays its whole log, which on an object store is a request per entry). Its own commits keep it current;
    ``refresh`` reads the log entries another writer added since (after a commit lost to one). A commit made on a
    version another writer has moved past is checked by deltalake against the commits in between (optimistic
    concurrency: a conflict fails with ``CommitFailedError``, other partitions' commits do not), so a listing of
    the log before every commit is not needed. https://delta.io/blog/2023-07-07-delta-lake-transaction-log-protocol/
    """
    held: dict[str, DeltaTable | None] = _held.__dict__.setdefault("tables", {})
    where = uri(data_dir, table)
    if where not in held or (refresh and held[where] is None):
        held[where] = open_table(data_dir, table)  # None: no such table yet (known until this thread creates it)
    t = held[where]
    if t is None:
        return None
    if refresh:
        with _naming(where):
            t.update_incremental()
    return t


def release() -> None:
    """Forget the tables this thread holds open for writing (a build starts from what the store holds now)."""
    _held.__dict__.pop("tables", None)


def version(data_dir: Path | str, table: str) -> int | None:
    t = open_table(data_dir, table)
    return None if t is None else t.version()


def _predicate(values: dict[str, str]) -> str:
    return " AND ".join(f"{k} = '{v}'" for k, v in values.items())  # values are slugs and dates: no quotes


def replace(
    data_dir: Path | str,
    table: str,
    data: pa.Table | Callable[[], pa.RecordBatchReader],
    partition: dict[str, str] | None = None,
) -> None:
    """Commit ``data`` (a table, or a function giving a stream of it) as the whole table, or as the whole of one
    ``partition`` (``data`` carries its columns). New columns are merged into the table's schema (GitHub adds
    fields); older files read them as null. A commit that loses to another writer's (two builds at once) is made
    again on the newer version, up to ``ATTEMPTS`` times: both builds write what raw says, so the last one wins
    whole and a reader never sees a mix."""
    target = uri(data_dir, table)
    opts = objstore.storage_options(data_dir)
    for attempt in range(1, ATTEMPTS + 1):
        rows = data() if callable(data) else data
        try:
            with _naming(target):
                if partition is None:
                    write_deltalake(
                        target,
                        rows,
                        mode="overwrite",
                        schema_mode="overwrite",
                        storage_options=opts,
                        writer_properties=_PROPS,
                    )
                    return
                existing = _current(data_dir, table, refresh=attempt > 1)
                if existing is None:  # created by this write: opened again when next written
                    _held.__dict__.get("tables", {}).pop(target, None)
                write_deltalake(
                    existing if existing is not None else target,
                    rows,
                    mode="overwrite",
                    partition_by=list(partition),
                    predicate=_predicate(partition) if existing is not None else None,
                    schema_mode="merge",
                    storage_options=opts,
                    writer_properties=_PROPS,
                )
                return
        except StoreError as exc:
            if not isinstance(exc.__cause__, CommitFailedError) or attempt == ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)


def checkpoint(data_dir: Path | str, table: str) -> None:
    """Write a checkpoint of the table's newest version (its log folded into one Parquet file), so a reader opens
    it with a few requests instead of one per log entry (a build commits each table once per month partition; on
    an object store every opening replayed them all). Versions and time travel are unchanged.
    https://github.com/delta-io/delta/blob/master/PROTOCOL.md#checkpoints"""
    t = _current(data_dir, table)
    if t is not None:
        with _naming(uri(data_dir, table)):
            t.create_checkpoint()


def delete(data_dir: Path | str, table: str, partition: dict[str, str]) -> None:
    """Remove one partition's rows (a side table's source that has nothing to say any more)."""
    for attempt in range(1, ATTEMPTS + 1):
        t = _current(data_dir, table, refresh=attempt > 1)
        if t is None:
            return
        try:
            with _naming(uri(data_dir, table)):
                t.delete(_predicate(partition))  # a delete that matches nothing commits nothing
                return
        except StoreError as exc:
            if not isinstance(exc.__cause__, CommitFailedError) or attempt == ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)


def scan(
    data_dir: Path | str, table: str, version: int | None = None, *, opened: DeltaTable | None = None
) -> tuple[pl.LazyFrame, list[str]] | None:
    """The table read through its Delta log at ``version`` (None: newest) with its partition column names, or
    None when the cache has no such table. ``opened``: that version already open (a report reads each table at
    one version many times; on an object store each opening is a request per log entry)."""
    t = opened if opened is not None else open_table(data_dir, table, version)
    if t is None:
        return None
    return pl.scan_delta(t), list(t.metadata().partition_columns)


def read(data_dir: Path | str, table: str) -> pl.DataFrame | None:
    """The newest version of a table without its partition columns (None when the cache has none)."""
    got = scan(data_dir, table)
    return None if got is None else got[0].drop(got[1]).collect()


def arrow_dataset(data_dir: Path | str, table: str, version: int | None = None) -> Any:
    """The table at ``version`` (None: newest) as a ``pyarrow.dataset.Dataset`` of exactly the files of that
    version, for engines that scan Arrow (DuckDB: ``duckdb.sql("select … from ds")``) where their own Delta reader
    is not installed; locally and on an object store alike."""
    t = open_table(data_dir, table, version)
    if t is None:
        msg = f"no table {table!r} at {uri(data_dir, table)}: run `copilot-usage build`"
        raise StoreError(msg)
    return t.to_pyarrow_dataset()
