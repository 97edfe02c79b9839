"""Deterministic narrative and headline figures for the reports, built only from computed frames."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import polars as pl

from . import metrics
from .notebook import Report, change_phrase, fmt_num
from .reports import CREDIT_PRICE_USD


def trends_headline(r: Report, daily: pl.DataFrame, au: pl.DataFrame) -> dict[str, Any]:
    """KPI tiles of the trends report; records the same figures for ``summary.json``."""
    credits = daily["credits"].drop_nulls()
    total = float(credits.sum()) if credits.len() else None
    wow_cpu = _cpu_change(daily, 7, r.end)
    mom_cpu = _cpu_change(daily, 28, r.end)
    wow_credits = metrics.period_change(daily, column="credits", days=7, end=r.end)["change"]
    last = au.filter(pl.col("day") == r.end)
    mau = int(last["monthly_active_users"].item()) if last.height else None
    wau = int(last["weekly_active_users"].item()) if last.height else None
    billed_days = daily.filter(pl.col("credits").is_not_null())
    cpu = (
        (
            float(billed_days["credits"].sum())
            / float(au.filter(pl.col("day").is_in(billed_days["day"].implode()))["daily_active_users"].sum())
        )
        if billed_days.height and au["daily_active_users"].sum()
        else None
    )
    figures = {
        "credits_total": total,
        "cost_usd_list": None if total is None else total * CREDIT_PRICE_USD,
        "weekly_active_users": wau,
        "monthly_active_users": mau,
        "credits_per_active_user_day": cpu,
        "credits_wow_change": wow_credits,
        "credits_per_active_user_wow_change": wow_cpu,
        "credits_per_active_user_mom_change": mom_cpu,
    }
    r.record(**figures)
    r.tiles(
        [
            ("AI credits in period", fmt_num(total), None),
            ("List value (US$)", "n/a" if total is None else f"${total * CREDIT_PRICE_USD:,.0f}", None),
            ("Weekly active users (7-day distinct)", fmt_num(wau), None),
            ("Monthly active users (28-day distinct)", fmt_num(mau), None),
            ("Credits per active user-day", fmt_num(cpu, digits=1), wow_cpu),
            (
                "Credits, last 7 days",
                fmt_num(metrics.period_change(daily, column="credits", days=7, end=r.end)["current"]),
                wow_credits,
            ),
        ]
    )
    return figures


def _cpu_change(daily: pl.DataFrame, days: int, end: dt.date) -> float | None:
    c = metrics.period_change(daily, column="credits", days=days, end=end)
    u = metrics.period_change(daily.filter(pl.col("credits").is_not_null()), column="active_users", days=days, end=end)
    if not c["current"] or not c["previous"] or not u["current"] or not u["previous"]:
        return None
    return (c["current"] / u["current"]) / (c["previous"] / u["previous"]) - 1


def credits_story(daily: pl.DataFrame, end: dt.date) -> list[str]:
    billed = daily.drop_nulls("credits")
    if billed.height == 0:
        return ["No day in this period carries `ai_credits_used` (the field exists from 2026-06-19)."]
    peak = billed.sort("credits", descending=True).row(0, named=True)
    wk = billed.with_columns(weekend=pl.col("day").dt.weekday() >= 6).group_by("weekend").agg(pl.col("credits").mean())
    weekday = wk.filter(~pl.col("weekend"))["credits"]
    weekend = wk.filter(pl.col("weekend"))["credits"]
    out = [
        change_phrase(
            "AI credits", metrics.period_change(daily, column="credits", days=7, end=end)["change"], "week over week"
        ),
        f"The busiest day was {peak['day']:%a %d %b} with {peak['credits']:,.0f} credits.",
    ]
    if weekday.len() and weekend.len() and weekday.item():
        out.append(f"A weekend day uses {weekend.item() / weekday.item():.0%} of a weekday's credits.")
    return out


def cpu_story(daily: pl.DataFrame, end: dt.date) -> list[str]:
    return [
        change_phrase("credits per active user", _cpu_change(daily, 7, end), "week over week"),
        change_phrase(
            "credits per active user", _cpu_change(daily, 28, end), "over the last 28 days versus the 28 before"
        ),
    ]


def active_story(au: pl.DataFrame, end: dt.date) -> list[str]:
    last = au.filter(pl.col("day") == end)
    if last.height == 0:
        return []
    prev = au.filter(pl.col("day") == end - dt.timedelta(days=28))
    row = last.row(0, named=True)
    out = [
        (
            f"On {end:%d %b}, {row['weekly_active_users']:,} people used Copilot in the last 7 days and "
            f"{row['monthly_active_users']:,} in the last 28 days."
        )
    ]
    if prev.height and prev["monthly_active_users"].item():
        out.append(
            change_phrase(
                "28-day active users",
                row["monthly_active_users"] / prev["monthly_active_users"].item() - 1,
                "versus four weeks earlier",
            )
        )
    if not row["full_window"]:
        out.append("The cache holds less than 28 days before this date, so the 28-day count is a lower bound.")
    return out


def mix_story(mix: pl.DataFrame, by: str, label: str) -> list[str]:
    if mix.height == 0:
        return []
    weeks = mix["week"].unique().sort()
    last = mix.filter(pl.col("week") == weeks.max()).sort("share", descending=True)
    first = mix.filter(pl.col("week") == weeks.min())
    top = last.row(0, named=True)
    before = first.filter(pl.col(by) == top[by])["share"]
    out = [f"In the latest week, {top[by]} had the largest share of code generations by {label} ({top['share']:.0%})."]
    if before.len() and weeks.len() > 1:
        out.append(f"That share was {before.item():.0%} in the first week of the period.")
    return out


def surface_story(adoption: pl.DataFrame) -> list[str]:
    if adoption.height == 0:
        return []
    weeks = adoption["week"].unique().sort()
    last = adoption.filter(pl.col("week") == weeks.max())
    first = adoption.filter(pl.col("week") == weeks.min())
    joined = last.join(first, on="surface", suffix="_first").with_columns(delta=pl.col("share") - pl.col("share_first"))
    grew = joined.sort("delta", descending=True).row(0, named=True)
    return [
        (
            f"{grew['surface']} grew most: {grew['share_first']:.0%} → {grew['share']:.0%} of weekly active users "
            f"from the first to the latest week."
        )
    ]


def ramp_story(ramp: pl.DataFrame) -> list[str]:
    if ramp.height == 0:
        return []
    used = ramp["days_to_first_use"].drop_nulls()
    agent = ramp["days_to_first_agent"].drop_nulls()
    out = [
        (
            f"{ramp.height} seats were granted in the period; {used.len()} have been used, a median "
            f"{used.median() or 0:.0f} days after the grant."
        )
    ]
    if agent.len():
        out.append(f"{agent.len()} reached agent mode, a median {agent.median():.0f} days after the grant.")
    return out


def forecast_story(fc: dict[str, Any], *, pool: float | None, period_end: dt.date, label: str) -> list[str]:
    if fc["projected"] is None:
        return ["Too few days of credit data to forecast."]
    out = [
        (
            f"At the current pace the {label} ends near {fc['projected']:,.0f} credits "
            f"(80% interval {fc['low']:,.0f}–{fc['high']:,.0f}); {fc['to_date']:,.0f} are used so far."
        )
    ]
    if pool:
        if fc["exhausted_on"]:
            out.append(
                f"The included pool of {pool:,.0f} credits is projected to run out on {fc['exhausted_on']:%d %b}"
                f"; overage at list price would be about US${max(fc['projected'] - pool, 0) * 0.01:,.0f}."
            )
        else:
            out.append(
                f"The included pool of {pool:,.0f} credits is projected to last the month "
                f"({fc['projected'] / pool:.0%} used by {period_end:%d %b})."
            )
    return out


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def quarter_end(day: dt.date) -> dt.date:
    q_month = ((day.month - 1) // 3 + 1) * 3
    return dt.date(day.year, q_month, calendar.monthrange(day.year, q_month)[1])


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
