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

_MONTH_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "month": pl.Date,
    "credits": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
    "actual": pl.Float64,
    "included_pool": pl.Float64,
    "seats_usd": pl.Float64,
    "seats": pl.Int64,
    "planning_range": pl.Boolean,
}


def months(
    p: Projection,
    *,
    pool_for: Callable[[dt.date], float | None],
    seats_usd_for: Callable[[dt.date], float | None],
    prices: Prices,
    seats_for: Callable[[dt.date], int | None] = lambda m: None,
    count: int = 13,
) -> pl.DataFrame:
    """One row per month from ``as_of``'s: credits (actual to date + projected) with the band, the month's included
    pool, seat cost and seats held (None when the roster is unknown), then gross, net metered and total US$ (with
    low/high)."""
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
                "seats": seats_for(first),
                "planning_range": t.planning_range,
            }
        )
    return _money(pl.DataFrame(rows, schema=_MONTH_SCHEMA), prices.credit)


def _money(frame: pl.DataFrame, price: float) -> pl.DataFrame:
    """Gross, net metered (beyond the month's pool) and total US$ of a months frame's credits, band and seats."""

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


# ---------------------------------------------------------------------- scenarios beside the baseline
# Deterministic what-ifs on the months frame of :func:`months`: each is the baseline with one assumption changed,
# its central figure only (the baseline's band is the forecaster's; a scenario is arithmetic on it, not a forecast).
BASELINE = "baseline"


def _scenario(by_month: pl.DataFrame, name: str, price: float, **changes: pl.Expr) -> pl.DataFrame:
    return _money(
        by_month.select(list(_MONTH_SCHEMA))
        .with_columns(low=None, high=None, **changes)
        .cast(pl.Schema(_MONTH_SCHEMA)),
        price,
    ).select(pl.lit(name).alias("scenario"), pl.all())


def seats_scenario(
    by_month: pl.DataFrame, *, seats: int, from_day: dt.date, as_of: dt.date, price: float
) -> pl.DataFrame:
    """``seats`` licences added (or removed, when negative) from ``from_day`` (a day after ``as_of`` at the
    earliest: the past is not changed). From that day's month the pool changes by the month's included credits per
    seat (a seat added mid-month grows the month's pool at once; GitHub pools each licence's allowance for the
    month: https://docs.github.com/en/copilot/concepts/billing/usage-based-billing-for-organizations-and-enterprises),
    the seat licences by the month's cost per seat pro rata to the days held (GitHub bills seats added mid-cycle
    pro rata), and the credits by the month's projected credits per seat, pro rata likewise. Removing more seats
    than the roster holds removes them all. With no roster (``seats`` unknown) the scenario is unknown."""
    first = max(from_day, as_of + dt.timedelta(days=1))
    month_days = pl.col("month").dt.month_end().dt.day()
    held = (
        ((pl.col("month").dt.month_end() - pl.max_horizontal(pl.col("month"), pl.lit(first))).dt.total_days() + 1)
        .clip(0)
        .cast(pl.Float64)
    )
    share = held / month_days
    n = pl.max_horizontal(pl.lit(seats), -pl.col("seats"))  # never fewer than no seats
    per_seat = 1 / pl.when(pl.col("seats") > 0).then(pl.col("seats"))
    label = f"{seats:+,} seats from {first:%d %b %Y}"
    return _scenario(
        by_month,
        label,
        price,
        credits=pl.col("credits") + n * pl.col("credits") * per_seat * share,
        included_pool=pl.col("included_pool")
        + pl.when(pl.col("month") >= first.replace(day=1)).then(n * pl.col("included_pool") * per_seat).otherwise(0),
        seats_usd=pl.col("seats_usd") + n * pl.col("seats_usd") * per_seat * share,
        seats=pl.col("seats") + pl.when(pl.col("month") >= first.replace(day=1)).then(n).otherwise(0),
    )


def growth_scenario(by_month: pl.DataFrame, *, growth: float, price: float) -> pl.DataFrame:
    """Credit use after ``as_of`` grows by ``growth`` (0.2: a fifth more, as more seated users become active); the
    days already past are unchanged, seats and pools too."""
    projected = pl.col("credits") - pl.col("actual")
    return _scenario(by_month, f"adoption {growth:+.0%}", price, credits=pl.col("actual") + projected * (1 + growth))


def allowance_scenario(
    by_month: pl.DataFrame, *, pool_for: Callable[[dt.date], float | None], from_day: dt.date, label: str, price: float
) -> pl.DataFrame:
    """The included pool of each month from ``from_day``'s is ``pool_for(month)`` (a changed allowance or price per
    licence); earlier months keep the baseline's. Credits and seats are unchanged."""
    start = from_day.replace(day=1)
    pools = pl.Series(
        [pool_for(m) if m >= start else None for m in by_month["month"].to_list()],  # months, not data rows
        dtype=pl.Float64,
    )
    return _scenario(by_month, label, price, included_pool=pl.coalesce(pl.lit(pools), pl.col("included_pool")))


def scenario_horizons(frames: list[pl.DataFrame], *, as_of: dt.date) -> pl.DataFrame:
    """``scenario, horizon, credits, included_pool, seats_usd, usd_net, usd_total`` for each scenario's months
    frame (the baseline's :func:`months` first, then the ``*_scenario`` ones) over the :data:`HORIZONS`."""
    parts = []
    for frame in frames:  # a handful of scenarios
        name = frame["scenario"][0] if "scenario" in frame.columns else BASELINE
        rows = horizons(frame.drop("scenario", strict=False), as_of=as_of)
        parts.append(
            rows.select(
                pl.lit(name).alias("scenario"),
                "horizon",
                "credits",
                "included_pool",
                "seats_usd",
                "usd_net",
                "usd_total",
            )
        )
    return pl.concat(parts)
