"""Independent recomputations for the tests: plain polars over the processed Delta tables, written apart from the
kit's code (never calling it), for the cost and headline checks of several test modules. GitHub's seat billing:
a licence is charged for the days of the month it is held (granted on ``created_at``, ended by
``pending_cancellation_date``), one licence per user, Enterprise over Business —
https://docs.github.com/en/billing/managing-billing-for-your-products/about-billing-for-github-copilot"""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

LIST = {"business": 19.0, "enterprise": 39.0}  # list prices a seat a month (US$)


def rows(data: Path, table: str, scope: str | None = None) -> pl.DataFrame:
    """A processed table read whole through its Delta log, partition columns dropped, one scope's rows."""
    path = str(data / "processed" / table)
    out = pl.read_delta(path).drop(DeltaTable(path).metadata().partition_columns)
    return out if scope is None else out.filter(pl.col("scope") == scope)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _holders(data: Path, scope: str) -> pl.DataFrame:
    """One licence a user: its plan (Enterprise over Business), first grant and cancellation."""
    return (
        rows(data, "seats", scope)
        .group_by("user_id")
        .agg(
            plan=pl.when((pl.col("plan_type") == "enterprise").any())
            .then(pl.lit("enterprise"))
            .otherwise(pl.lit("business")),
            granted=pl.col("created_at").min().dt.date(),
            cancel=pl.col("pending_cancellation_date").max(),
        )
    )


def seat_days(
    data: Path, scope: str, month: dt.date, through: dt.date | None = None, prices: dict[str, float] = LIST
) -> pl.DataFrame:
    """``user_id, plan, days, usd``: each holder's licence expanded into the days of [month, through] it was held,
    at the plan's price over the month's days."""
    last = through or month_end(month)
    held = (
        _holders(data, scope)
        .with_columns(
            day=pl.date_ranges(
                pl.max_horizontal("granted", pl.lit(month)),
                pl.min_horizontal(pl.lit(last), pl.col("cancel").fill_null(dt.date(9999, 1, 1)) - dt.timedelta(days=1)),
            )
        )
        .explode("day")
        .drop_nulls("day")
    )
    days_in_month = month_end(month).day
    return (
        held.group_by("user_id", "plan")
        .agg(days=pl.len())
        .with_columns(
            usd=pl.col("plan").replace_strict(prices, return_dtype=pl.Float64) * pl.col("days") / days_in_month
        )
    )


def seats_usd(
    data: Path, scope: str, month: dt.date, through: dt.date | None = None, prices: dict[str, float] = LIST
) -> float:
    """The month's seat licences in US$ (:func:`seat_days` summed)."""
    return float(seat_days(data, scope, month, through, prices)["usd"].sum())


def included_pool(data: Path, scope: str, month: dt.date, included: dict[str, int]) -> float:
    """Licences held at some point of the month (granted by its last day, not cancelled by its first) × the
    allowance a licence of each plan adds."""
    held = _holders(data, scope).filter(
        pl.col("granted") <= month_end(month), pl.col("cancel").is_null() | (pl.col("cancel") > month)
    )
    enterprise = int((held["plan"] == "enterprise").sum())
    return float(enterprise * included["enterprise"] + (held.height - enterprise) * included["business"])
