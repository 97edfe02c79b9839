"""Sentences and figures more than one report uses: change phrases, calendar periods, the included pool and the
forecast sentences."""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl

from .. import metrics
from ..pricing import CREDIT_PRICE_USD
from .context import Report

FULL_TABLE_MAX = 50  # per-unit tables up to this many rows are shown whole; longer ones keep the largest units
# days read at a time where a period's rows are joined or summed whole (the intensity sums, per-team totals and
# adoption): at 100,000 seats a team attribution is ~2 rows a user-day, never held for a quarter
CHUNK_DAYS = 15


def change_phrase(what: str, change: float | None, period: str) -> str:
    """Deterministic narrative: ``"Credits per active user rose 18% week over week."``"""
    if change is None:
        return f"There is not enough data to compare {what} {period}."
    if abs(change) < 0.01:
        return f"{what[:1].upper()}{what[1:]} was flat {period}."
    verb = "rose" if change > 0 else "fell"
    return f"{what[:1].upper()}{what[1:]} {verb} {abs(change):.0%} {period}."


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def last_closed_month(day: dt.date) -> dt.date:
    """The first day of the newest calendar month complete by ``day`` (its own month when ``day`` is its last
    day): the month finance books."""
    first = day.replace(day=1)
    return first if day == month_end(day) else (first - dt.timedelta(days=1)).replace(day=1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_end(day: dt.date) -> dt.date:
    q_month = ((day.month - 1) // 3 + 1) * 3
    return dt.date(day.year, q_month, calendar.monthrange(day.year, q_month)[1])


def included_pool(r: Report, month: dt.date | None = None) -> float | None:
    """The included pool of the scope's seat roster in ``month`` (the period's end by default; the allowance in
    force then, promotional unless the report's prices say otherwise), or None when the roster was not fetched
    (never 0)."""
    if not r.fetched("seats"):
        return None
    return metrics.included_pool(
        r.frame("seats"), month=month or r.end, promotional=r.prices.promotional, included=r.prices.included
    )


def monthly_pools(r: Report) -> pl.DataFrame | None:
    """``month, included_pool`` for each month the period touches, each at the allowance in force that month
    (a period across 2026-09-01 has two amounts); None when the seat roster was not fetched."""
    if not r.fetched("seats"):
        return None
    months = pl.date_range(r.start.replace(day=1), r.end, interval="1mo", eager=True).to_list()
    return pl.DataFrame(
        {"month": months, "included_pool": [included_pool(r, m) for m in months]},  # months, not rows
        schema={"month": pl.Date, "included_pool": pl.Float64},
    )


def forecast_story(
    fc: metrics.Forecast, *, pool: float | None, period_end: dt.date, label: str, credit_price: float = CREDIT_PRICE_USD
) -> list[str]:
    """Where the period ends at the current pace, and when the included pool runs out (or that it lasts)."""
    if fc.projected is None or fc.low is None or fc.high is None:
        return ["Too few days of credit data to forecast."]
    out = [
        (
            f"At the current pace the {label} ends near {fc.projected:,.0f} credits "
            f"(80% interval {fc.low:,.0f}–{fc.high:,.0f}); {fc.to_date:,.0f} are used so far."
        )
    ]
    if pool:
        if fc.exhausted_on:
            out.append(
                f"The included pool of {pool:,.0f} credits is projected to run out on {fc.exhausted_on:%d %b}"
                f"; overage at US${credit_price:g} a credit would be about "
                f"US${max(fc.projected - pool, 0) * credit_price:,.0f}."
            )
        else:
            out.append(
                f"The included pool of {pool:,.0f} credits is projected to last the month "
                f"({fc.projected / pool:.0%} used by {period_end:%d %b})."
            )
    return out
