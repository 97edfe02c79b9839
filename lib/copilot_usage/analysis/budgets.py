"""Headroom: when a budget or a cost centre's AI-credit pool runs out at the current pace.

GitHub's budgets (https://docs.github.com/en/enterprise-cloud@latest/rest/billing/budgets) and cost-centre pools
(https://github.blog/changelog/2026-07-02-cost-centers-now-support-included-usage-caps) give a target and what was
consumed so far this month, in US$ (credits = US$ × 100). The projection adds, to what was consumed, the trends
forecast (:func:`metrics.forecast_credits`, one implementation) of the scope's credits for the days after the
consumed figure, with its 80 % interval.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from . import metrics

# GitHub's budget scopes; it also spells cost-center with a hyphen (matched either way)
BUDGET_SCOPES = (
    "enterprise",
    "organization",
    "repository",
    "cost_center",
    "multi_user_customer",
    "multi_user_cost_center",
    "user",
)
BUDGETS_SCHEMA = {
    "scope": pl.String,
    "snapshot_day": pl.Date,
    "budget_id": pl.String,
    "budget_type": pl.String,
    "budget_scope": pl.String,  # as GitHub sent it
    "scope_kind": pl.String,  # normalised: lower case, "-" → "_"
    "known_scope": pl.Boolean,
    "budget_entity_name": pl.String,
    "budget_product_sku": pl.String,
    "budget_amount": pl.Float64,  # whole US$
    "prevent_further_usage": pl.Boolean,
    "will_alert": pl.Boolean,
    "consumed_amount": pl.Float64,  # US$ this month; null when GitHub did not say
    "user": pl.String,
}
USER_STATES_SCHEMA = {
    "scope": pl.String,
    "snapshot_day": pl.Date,
    "budget_id": pl.String,
    "user": pl.String,
    "consumed_amount": pl.Float64,
    "target_amount": pl.Float64,
    "override_budget_id": pl.String,
}


def normalise_scope(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.to_lowercase().str.replace_all("-", "_")


def _value_on(curve: pl.DataFrame, column: str, day: dt.date) -> float | None:
    """A cumulative curve's value at the end of ``day`` (0 before its first day, its last value after it)."""
    upto = curve.filter(pl.col("day") <= day)
    value = upto[column][-1] if upto.height else 0.0
    return None if value is None else float(value)


def projection(
    daily: pl.DataFrame,
    *,
    target: float | None,
    consumed: float | None,
    consumed_through: dt.date | None,
    as_of: dt.date,
    period_start: dt.date,
    period_end: dt.date,
) -> dict[str, Any]:
    """Projected consumption at ``period_end`` and the day it reaches ``target`` (all in credits).

    ``daily`` is the scope's metrics (``day, credits``) up to ``as_of``; ``consumed`` is what GitHub says was used
    from ``period_start`` through ``consumed_through`` (None: the metrics' own total to ``as_of``). Returns
    ``{"consumed", "projected", "low", "high", "exhausted_on"}``: ``exhausted_on`` is null when the target is not
    reached by ``period_end`` (or there is no target), ``consumed_through`` when it is already reached; every
    projection is null with fewer than 7 days of history.
    """
    fc = metrics.forecast_credits(daily, as_of=as_of, period_start=period_start, period_end=period_end)
    if fc.projected is None:
        return {
            "consumed": consumed,
            "projected": None,
            "low": None,
            "high": None,
            "exhausted_on": None,
            "exhausted_p90": None,
        }
    curve = fc.daily.sort("day")
    if consumed is None or consumed_through is None:
        consumed, consumed_through = fc.to_date, as_of
    out: dict[str, Any] = {"consumed": consumed}
    for name, column in (("projected", "credits"), ("low", "low"), ("high", "high")):
        # the band's edges start from the actual curve; a preliminary projection (too little history) has none
        base, end = _value_on(curve, "credits", consumed_through), _value_on(curve, column, period_end)
        out[name] = None if base is None or end is None else consumed + end - base
    out["exhausted_on"] = out["exhausted_p90"] = None
    if target is not None:
        if consumed >= target:
            out["exhausted_on"] = out["exhausted_p90"] = consumed_through
        else:
            base = _value_on(curve, "credits", consumed_through) or 0.0
            # P50 on the central path; P90 on the band's upper edge (nine times in ten, no earlier than that day)
            for name, column in (("exhausted_on", "credits"), ("exhausted_p90", "high")):
                later = curve.filter(
                    (pl.col("day") > consumed_through)
                    & (pl.col("day") <= period_end)
                    & (consumed + pl.col(column) - base >= target)
                )
                out[name] = later["day"].min() if later.height else None
    return out


def users_over_at_month_end(states: pl.DataFrame, *, ratio: float | None) -> pl.DataFrame:
    """``budget_id, users_over_100pct_at_month_end``: how many users of each per-user budget will be at or over
    their target at month end. Each user's month-to-date consumption is scaled by ``ratio``, the scope's projected
    month total over its month to date from the one forecaster (:func:`forecast.project`): every user is taken to
    keep the scope's pace, a cheap choice that needs no per-user model and, as a count, errs for users whose pace
    differs from the scope's. ``ratio`` None (no projection): the count is unknown (null), never 0."""
    share = pl.col("consumed_amount") * pl.lit(ratio, dtype=pl.Float64) / pl.col("target_amount")
    return states.group_by("budget_id").agg(
        users_over_100pct_at_month_end=pl.when(pl.lit(ratio is not None)).then((share >= 1.0).sum()).cast(pl.Int64)
    )
