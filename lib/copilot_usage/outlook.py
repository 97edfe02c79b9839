"""Money over the horizons a budget is planned on, from one :class:`forecast.Projection`.

Per calendar month from the current one: projected credits with the band, the included pool in force that month
(the dated allowance × the seats), net metered credits after the pool, seat licences, and the total in US$. The
horizons (this month, next month, the next three months, the next twelve) are sums of whole months. A month's net is
``max(credits - pool, 0)``: GitHub bills AI credits beyond the month's pooled allowance
(https://docs.github.com/en/copilot/concepts/billing/usage-based-billing-for-organizations-and-enterprises).
The band of a sum of months is the sum of their bands: the forecaster's band is one multiplicative factor for a
period (the log ratio of actual to forecast), so the months of one future move together. Months past the
backtested horizon are a planning range, not a measured one, and are marked so.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from .forecast import Projection
from .pricing import Prices


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``day``'s."""
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Horizon:
    name: str
    first_month: int  # months after as_of's month (0: this month)
    months: int


HORIZONS = (
    Horizon("this_month", 0, 1),
    Horizon("next_month", 1, 1),
    Horizon("next_quarter", 1, 3),
    Horizon("next_12_months", 1, 12),
)

_MONTH_SCHEMA = {
    "month": pl.Date,
    "credits": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
    "actual": pl.Float64,
    "included_pool": pl.Float64,
    "seats_usd": pl.Float64,
    "planning_range": pl.Boolean,
}


def months(
    p: Projection,
    *,
    pool_for: Callable[[dt.date], float | None],
    seats_usd_for: Callable[[dt.date], float | None],
    prices: Prices,
    count: int = 13,
) -> pl.DataFrame:
    """One row per month from ``as_of``'s: credits (actual to date + projected) with the band, the month's included
    pool and seat cost (None when the roster is unknown), then gross, net metered and total US$ (with low/high)."""
    rows = []
    for i in range(count):  # months, not data rows
        first = add_months(p.as_of, i)
        t = p.total(first, month_end(first))
        rows.append(
            {
                "month": first,
                "credits": t.credits,
                "low": t.low,
                "high": t.high,
                "actual": t.actual,
                "included_pool": pool_for(first),
                "seats_usd": seats_usd_for(first),
                "planning_range": t.planning_range,
            }
        )
    frame = pl.DataFrame(rows, schema=_MONTH_SCHEMA)
    price = prices.credit

    def net(col: str) -> pl.Expr:
        return (pl.col(col) - pl.col("included_pool")).clip(lower_bound=0)

    return frame.with_columns(
        usd_gross=pl.col("credits") * price,
        net_credits=net("credits"),
        net_credits_low=net("low"),
        net_credits_high=net("high"),
    ).with_columns(
        usd_net=pl.col("net_credits") * price,
        usd_net_low=pl.col("net_credits_low") * price,
        usd_net_high=pl.col("net_credits_high") * price,
        usd_total=pl.col("seats_usd") + pl.col("net_credits") * price,
        usd_total_low=pl.col("seats_usd") + pl.col("net_credits_low") * price,
        usd_total_high=pl.col("seats_usd") + pl.col("net_credits_high") * price,
    )


def horizons(by_month: pl.DataFrame, *, as_of: dt.date) -> pl.DataFrame:
    """The :data:`HORIZONS` as sums of whole months of :func:`months` (a sum with an unknown part is unknown)."""
    sums = [
        "credits",
        "low",
        "high",
        "included_pool",
        "seats_usd",
        "usd_gross",
        "net_credits",
        "usd_net",
        "usd_net_low",
        "usd_net_high",
        "usd_total",
        "usd_total_low",
        "usd_total_high",
    ]
    parts = []
    for h in HORIZONS:  # four horizons
        first, last = add_months(as_of, h.first_month), add_months(as_of, h.first_month + h.months - 1)
        part = by_month.filter(pl.col("month").is_between(first, last))
        parts.append(
            part.select(
                horizon=pl.lit(h.name),
                start=pl.lit(first),
                end=pl.lit(month_end(last)),
                **{c: pl.when(pl.col(c).null_count() == 0).then(pl.col(c).sum()) for c in sums},
                planning_range=pl.col("planning_range").any(),
            )
        )
    return pl.concat(parts)


def summary(by_horizon: pl.DataFrame) -> dict[str, dict[str, object]]:
    """``{next_month: {month, credits, low, high, usd_net, usd_total}, next_quarter: {...}, next_12_months: {...}}``
    for ``summary.json``."""
    out: dict[str, dict[str, object]] = {}
    for row in by_horizon.iter_rows(named=True):  # four horizons
        out[row["horizon"]] = {
            "month" if row["horizon"] in ("this_month", "next_month") else "start": f"{row['start']:%Y-%m}",
            "end": f"{row['end']:%Y-%m}",
            **{k: row[k] for k in ("credits", "low", "high", "usd_gross", "usd_net", "usd_total")},
            "planning_range": row["planning_range"],
        }
    return out
