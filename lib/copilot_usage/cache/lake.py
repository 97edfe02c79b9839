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


_held = threading.local()  # per thread: the tables it writes, kept current by reading only new log entries


def _current(data_dir: Path | str, table: str) -> DeltaTable | None:
    """The newest version of a table this thread writes: opened once, then brought up to date with the log entries
    added since (a build commits a table once per month; opening it anew each time replays its whole log, which
    on an object store is a request per entry)."""
    held: dict[str, DeltaTable] = _held.__dict__.setdefault("tables", {})
    where = uri(data_dir, table)
    t = held.get(where)
    if t is None:
        t = open_table(data_dir, table)
        if t is not None:
            held[where] = t
        return t
    with _naming(where):
        t.update_incremental()
    return t


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
                existing = _current(data_dir, table)
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


def delete(data_dir: Path | str, table: str, partition: dict[str, str]) -> None:
    """Remove one partition's rows (a side table's source that has nothing to say any more)."""
    t = open_table(data_dir, table)
    if t is not None:
        with _naming(uri(data_dir, table)):
            t.delete(_predicate(partition))  # a delete that matches nothing commits nothing


def scan(data_dir: Path | str, table: str, version: int | None = None) -> tuple[pl.LazyFrame, list[str]] | None:
    """The table read through its Delta log at ``version`` (None: newest) with its partition column names, or
    None when the cache has no such table."""
    t = open_table(data_dir, table, version)
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
