"""Sentences and figures more than one report uses: change phrases, calendar periods, the included pool and the
forecast sentences."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import polars as pl

from ..analysis import forecast, github_changes, measures, metrics, outlook, spend
from ..analysis.pricing import CREDIT_PRICE_USD
from .context import Report

FULL_TABLE_MAX = 50  # per-unit tables up to this many rows are shown whole; longer ones keep the largest units
# days read at a time where a period's rows are joined or summed whole (the intensity sums, per-team totals and
# adoption): at 100,000 seats a team attribution is ~2 rows a user-day, never held for a quarter
CHUNK_DAYS = 15
# days of credit history the scope's forecast learns from (its backtest needs three months for four-week periods)
HISTORY_DAYS = 182


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
    if fc.projected is None:
        return ["Too few days of credit data to forecast."]
    band = (
        f"preliminary, no interval: {fc.preliminary}"
        if fc.low is None or fc.high is None
        else f"80% interval {fc.low:,.0f}–{fc.high:,.0f}"
    )
    out = [
        f"At the current pace the {label} ends near {fc.projected:,.0f} credits ({band}); {fc.to_date:,.0f} are used so far."
    ]
    if pool:
        if fc.exhausted_on:
            early = (
                f" (on the interval's upper edge {fc.exhausted_earliest:%d %b}: one month in ten runs out that early)"
                if fc.exhausted_earliest and fc.exhausted_earliest != fc.exhausted_on
                else ""
            )
            out.append(
                f"The included pool of {pool:,.0f} credits is projected to run out on {fc.exhausted_on:%d %b}{early}"
                f"; overage at US${credit_price:g} a credit would be about "
                f"US${max(fc.projected - pool, 0) * credit_price:,.0f}."
            )
        else:
            out.append(
                f"The included pool of {pool:,.0f} credits is projected to last the month "
                f"({fc.projected / pool:.0%} used by {period_end:%d %b})."
            )
    return out


def credit_history(r: Report) -> pl.DataFrame:
    """``day, credits`` of the scope for the :data:`HISTORY_DAYS` to the report's end (not only its period): what
    the forecaster learns from. Summed lazily from the two columns it needs, so a long history costs little."""

    def compute() -> pl.DataFrame:
        first = r.end - dt.timedelta(days=HISTORY_DAYS - 1)
        rows = r.scan_between("user_day", first, r.end, columns=("day", measures.CREDITS))
        return rows.group_by("day").agg(credits=measures.credits_total()).sort("day").collect()

    return r.memo("credit history", compute)


def projection(r: Report) -> forecast.Projection:
    """The scope's credits projected from the report's end over the next twelve months by the kit's one forecaster
    (shared by every section and report that projects the scope), GitHub's level shifts in credits cut."""

    def compute() -> forecast.Projection:
        until = outlook.month_end(outlook.add_months(r.end, 12))
        breaks = github_changes.level_shifts(github_changes.register())
        return forecast.project(credit_history(r), as_of=r.end, until=until, breaks=breaks)

    return r.memo("projection", compute)


def scope_forecast(r: Report, first: dt.date, last: dt.date, *, pool: float | None = None) -> metrics.Forecast:
    """:func:`metrics.forecast_credits` of ``[first, last]`` on the scope's one :func:`projection`."""
    return metrics.forecast_credits(
        credit_history(r), as_of=r.end, period_start=first, period_end=last, pool=pool, projection=projection(r)
    )


def seat_cost(r: Report, month: dt.date, through: dt.date | None = None) -> pl.DataFrame | None:
    """The seat licences of ``month`` (its first day to ``through``, the whole month by default) per holder at the
    report's seat prices (:func:`spend.seat_cost_by_user`: ``user_id, user_login, plan_type, seat_days,
    seats_usd``), computed once per report; None when the seat roster was not fetched (never 0)."""
    if not r.fetched("seats"):
        return None
    first = month.replace(day=1)
    last = through or month_end(first)
    return r.memo(
        f"seat cost {first} {last}",
        lambda: spend.seat_cost_by_user(
            r.frame("seats"),
            month=first,
            through=last,
            seat_price_business=r.prices.seat_business,
            seat_price_enterprise=r.prices.seat_enterprise,
        ),
    )


def cost_outlook(r: Report) -> pl.DataFrame:
    """:func:`outlook.months` of the scope's projection: each month's pool at the allowance in force then and its
    seat licences at the report's seat prices (the roster as of the report's end; unknown without a roster)."""

    def compute() -> pl.DataFrame:
        def held(month: dt.date) -> tuple[float, int] | None:
            """The month's seat licences in US$ and how many seats are held in it."""
            frame = seat_cost(r, month)
            if frame is None:
                return None
            return float(frame["seats_usd"].sum() or 0.0), int((frame["seat_days"] > 0).sum())

        by_month = {m: held(m) for m in (outlook.add_months(r.end, i) for i in range(13))}  # months, not rows

        return outlook.months(
            projection(r),
            pool_for=lambda m: included_pool(r, m),
            seats_usd_for=lambda m: None if (h := by_month[m]) is None else h[0],
            seats_for=lambda m: None if (h := by_month[m]) is None else h[1],
            prices=r.prices,
        )

    return r.memo("cost outlook", compute)


def forecast_summary(r: Report) -> dict[str, Any]:
    """``summary.json``'s ``forecast``: the model, its backtest, and next month, quarter and twelve months in
    credits and US$."""
    p = projection(r)
    by_horizon = outlook.horizons(cost_outlook(r), as_of=r.end)
    return {
        "model": p.model,
        "horizon_days": p.backtest.horizon_days if p.backtest else None,
        "preliminary": p.preliminary,
        "backtest": p.backtest.as_dict() if p.backtest else None,
        **outlook.summary(by_horizon),
    }


def forecast_accuracy(r: Report) -> str:
    """The sentence under every forecast: how it was made and how accurate it has been on this scope's history."""
    return projection(r).sentence()
