"""The readers: ``scan`` (and the ``scan_*`` shorthands) of a processed table through its Delta log, by scope and
day range; ``billing_usage`` as a view."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import NotInCache
from . import lake
from .billing import is_ai_credit
from .tables import TABLES, processed


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
