"""Is it worth it? Cost facts per active developer, team and cost centre; the break-even hours; a Monte Carlo over
stated, editable priors; the tornado of which assumption moves the result; and the register of every assumption.

Cost is measured (:mod:`copilot_usage.analysis.spend` computes it; this module only divides and splits it); value is
modelled, and the two are never added together. GitHub's own "Potential return on investment" card on the impact
dashboard shows cost per developer and pull requests per developer by adoption phase, labelled directional, with no
interval (https://docs.github.com/en/copilot/how-tos/administer-copilot/view-impact-dashboard): this module adds
the break-even a sceptic can check and the uncertainty a finance reader needs.

The value model: value per active developer per month = hours saved a week × working weeks a month × the share of
saved time that becomes delivered work × the loaded hourly cost (or, with ``model="throughput"``, the hours a
throughput lift frees: lift / (1 + lift) × hours worked a week, already delivered work). ROI = (value − cost) / cost.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..errors import ConfigError
from .metrics import as_lazy as _lazy

REGISTER = Path(__file__).with_name("roi_assumptions.json")
Z90 = 1.2815515655446004  # the standard normal's 90th percentile: P10 and P90 are median ∓ Z90 σ
MODELS = ("hours", "throughput")
# the priors each value model draws (the rest of the register is shown but unused)
USES = {
    "hours": ("hours_saved_per_week", "recapture", "hourly_cost", "weeks_per_month"),
    "throughput": ("throughput_lift", "hourly_cost", "weeks_per_month", "hours_per_week"),
}


# ---------------------------------------------------------------------- the assumption register
@dataclass(frozen=True)
class Prior:
    """One assumption: its P10, median and P90 (equal: a fixed value), bounds, unit, source and date."""

    name: str
    label: str
    unit: str
    p10: float
    p50: float
    p90: float
    lower: float | None
    upper: float | None
    source: str
    date: str

    @property
    def fixed(self) -> bool:
        return self.p10 == self.p50 == self.p90

    def describe(self) -> str:
        if self.fixed:
            return f"{self.p50:g} {self.unit} (fixed)"
        return (
            f"P10 {self.p10:g}, median {self.p50:g}, P90 {self.p90:g} {self.unit} "
            "(two-piece normal through these three points"
            + (f", bounded to [{_bound(self.lower)}, {_bound(self.upper)}]" if self.bounded else "")
            + ")"
        )

    def show(self, value: float) -> str:
        """``value`` with this assumption's unit, as a table cell reads it: "20%", "+10%", "US$75 an hour",
        "2.5 hours a week" (one tornado column holds hours, shares and dollars, row by row)."""
        if self.unit == "share":
            return f"{value:.0%}"
        if self.unit == "relative change":
            return f"{value:+.0%}"
        if self.unit.startswith("US$"):
            return f"US${value:,.0f}{self.unit[3:]}"
        return f"{value:g} {self.unit}"

    @property
    def bounded(self) -> bool:
        return self.lower is not None or self.upper is not None

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of a two-piece normal whose 10th, 50th and 90th percentiles are P10, median and P90 (so
        skewed priors such as hours saved keep their stated quantiles), clipped to the bounds."""
        z = rng.standard_normal(n)
        scale = np.where(z < 0, (self.p50 - self.p10) / Z90, (self.p90 - self.p50) / Z90)
        return np.clip(self.p50 + z * scale, self.lower, self.upper)


def _bound(value: float | None) -> str:
    return "-inf" if value is None else f"{value:g}"


def priors(overrides: Mapping[str, Any] | None = None, *, register: Path = REGISTER) -> dict[str, Prior]:
    """The register's priors with ``overrides`` applied: ``{name: value}`` fixes a prior, ``{name: (p10, p50,
    p90)}`` replaces its quantiles; an overridden prior's source says so. Raises :class:`ConfigError` for an
    unknown name or quantiles out of order."""
    raw = {k: v for k, v in json.loads(register.read_text()).items() if not k.startswith("_")}
    out = {name: Prior(name=name, **entry) for name, entry in raw.items()}
    for name, value in (overrides or {}).items():
        if name not in out:
            msg = f"unknown ROI assumption {name!r}; known: {', '.join(out)}"
            raise ConfigError(msg)
        p10, p50, p90 = (value, value, value) if isinstance(value, int | float) else tuple(value)
        if not p10 <= p50 <= p90:
            msg = f"ROI assumption {name}: P10 {p10} ≤ median {p50} ≤ P90 {p90} does not hold"
            raise ConfigError(msg)
        out[name] = dataclasses.replace(
            out[name], p10=float(p10), p50=float(p50), p90=float(p90), source="set in this report's parameters"
        )
    return out


def register_table(given: Mapping[str, Prior], *, model: str = "hours") -> pl.DataFrame:
    """The assumption register as a table: ``name, assumption, value, used, source, date``."""
    return pl.DataFrame(
        [
            {
                "name": p.name,
                "assumption": p.label,
                "value": p.describe(),
                "used": p.name in USES[model],
                "source": p.source,
                "date": p.date,
            }
            for p in given.values()
        ],
        schema={
            "name": pl.String,
            "assumption": pl.String,
            "value": pl.String,
            "used": pl.Boolean,
            "source": pl.String,
            "date": pl.String,
        },
    )


# ---------------------------------------------------------------------- cost facts
def active_developers(user_day: pl.DataFrame | pl.LazyFrame) -> int:
    """Distinct users with a row in ``user_day`` (GitHub lists a user on the days they were active)."""
    return int(_lazy(user_day).select(pl.col("user_id").n_unique()).collect().item() or 0)


def per_developer(cost: Mapping[str, Any], developers: int) -> dict[str, Any]:
    """``cost`` (:func:`copilot_usage.analysis.spend.month_cost`) with ``active_developers`` and the total per active
    developer (None when either is unknown or there is no developer)."""
    total = cost.get("total_usd")
    return {
        **cost,
        "active_developers": developers,
        "per_active_developer_usd": None if total is None or developers == 0 else total / developers,
    }


def seats_by_plan(per_holder: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """``plan, seats, seat_days, seats_usd``: a month's seat licences per holder
    (:func:`copilot_usage.analysis.spend.seat_cost_by_user`) summed by plan; a seat held part of the month counts for its
    days only."""
    return (
        _lazy(per_holder)
        .filter(pl.col("seat_days") > 0)
        .group_by(plan="plan_type")
        .agg(
            seats=pl.len().cast(pl.Int64),
            seat_days=pl.col("seat_days").sum().cast(pl.Int64),
            seats_usd=pl.col("seats_usd").sum(),
        )
        .sort("plan")
        .collect()
    )


UNIT_COST_SCHEMA = {
    "unit": pl.String,
    "active_developers": pl.Int64,
    "seats_usd": pl.Float64,
    "credits_gross": pl.Float64,
    "credits_net_usd": pl.Float64,
    "other_usd": pl.Float64,
    "total_usd": pl.Float64,
    "per_active_developer_usd": pl.Float64,
}


def unit_costs(
    unit_days: pl.DataFrame | pl.LazyFrame,
    unit_seats: pl.DataFrame | pl.LazyFrame,
    *,
    credits_net_usd: float | None,
    other_usd: float,
) -> pl.DataFrame:
    """The month's cost per unit (team or cost centre): seat licences of the unit's seat holders (``unit_seats``:
    ``unit, seats_usd`` per holder, :func:`copilot_usage.analysis.spend.seat_cost_by_user` mapped to units), AI credits used
    by the unit's user-days (``unit_days``: ``unit, user_id, ai_credits_used``), and the scope's net AI credits and
    other billed SKUs shared in proportion to those credits (the included pool is the scope's, so no unit has its
    own bill beyond it). Additive when each user and seat is in one unit (cost centres); a user in several teams
    counts in each."""
    used = (
        _lazy(unit_days)
        .group_by("unit")
        .agg(
            active_developers=pl.col("user_id").n_unique().cast(pl.Int64), credits_gross=pl.col("ai_credits_used").sum()
        )
    )
    seats = _lazy(unit_seats).group_by("unit").agg(seats_usd=pl.col("seats_usd").sum())
    share = pl.col("credits_gross") / pl.col("credits_gross").sum()
    net = pl.lit(credits_net_usd, dtype=pl.Float64)
    return (
        used.join(seats, on="unit", how="full", coalesce=True)
        .with_columns(
            pl.col("active_developers").fill_null(0),
            pl.col("credits_gross").fill_null(0.0),
            pl.col("seats_usd").fill_null(0.0),
        )
        .with_columns(credits_net_usd=net * share, other_usd=other_usd * share)
        .with_columns(total_usd=pl.col("seats_usd") + pl.col("credits_net_usd") + pl.col("other_usd"))
        .with_columns(
            per_active_developer_usd=pl.when(pl.col("active_developers") > 0).then(
                pl.col("total_usd") / pl.col("active_developers")
            )
        )
        .select(list(UNIT_COST_SCHEMA))
        .sort("total_usd", descending=True, nulls_last=True)
        .collect()
    )


def projected_unit_costs(
    unit_days_to_date: pl.DataFrame | pl.LazyFrame,
    unit_seats: pl.DataFrame | pl.LazyFrame,
    *,
    credits_projected: float | None,
    credits_net_usd: float | None,
    other_usd: float,
) -> pl.DataFrame:
    """The month at its end per unit: the scope's projected credits, and its net AI credits and other billed SKUs
    at month end, shared in proportion to each unit's credits to date (``unit_days_to_date``, as in
    :func:`unit_costs`), with ``unit_seats`` for the whole month. One projection (the scope's) shared out, so for
    cost centres the units' projected credits add up to the scope's. No active developers and no cost per
    developer: the month's active developers are known only when it ends."""
    to_date = unit_costs(unit_days_to_date, unit_seats, credits_net_usd=credits_net_usd, other_usd=other_usd)
    share = pl.col("credits_gross") / pl.col("credits_gross").sum()
    return to_date.with_columns(
        credits_gross=pl.lit(credits_projected, dtype=pl.Float64) * share,
        active_developers=pl.lit(None, dtype=pl.Int64),
        per_active_developer_usd=pl.lit(None, dtype=pl.Float64),
    )


# ---------------------------------------------------------------------- break-even
def break_even_hours(total_usd: float | None, developers: int, hourly_cost: float) -> float | None:
    """Hours saved per active developer per month that pay the month's total cost at ``hourly_cost``."""
    if total_usd is None or developers <= 0 or hourly_cost <= 0:
        return None
    return total_usd / (developers * hourly_cost)


def break_even_range(
    total_usd: float | None, developers: int, *, hourly_cost_low: float, hourly_cost_high: float
) -> dict[str, float | None]:
    """``low``: the hours at the high hourly cost; ``high``: at the low hourly cost."""
    return {
        "low": break_even_hours(total_usd, developers, hourly_cost_high),
        "high": break_even_hours(total_usd, developers, hourly_cost_low),
    }


def with_break_even(units: pl.DataFrame, *, hourly_cost_low: float, hourly_cost_high: float) -> pl.DataFrame:
    """:func:`unit_costs` with ``break_even_hours_low`` / ``_high`` per active developer a month (null for a unit
    with no active developer)."""
    per_dev = pl.col("per_active_developer_usd")
    return units.with_columns(
        break_even_hours_low=per_dev / hourly_cost_high,
        break_even_hours_high=per_dev / hourly_cost_low,
    )


# ---------------------------------------------------------------------- the value model
def _hours_month(values: Mapping[str, Any], model: str) -> tuple[Any, Any]:
    """Gross hours saved per developer a month, and the share of them that becomes delivered work."""
    if model == "throughput":
        lift = values["throughput_lift"]
        return lift / (1 + lift) * values["hours_per_week"] * values["weeks_per_month"], 1.0
    return values["hours_saved_per_week"] * values["weeks_per_month"], values["recapture"]


def value_per_developer(values: Mapping[str, Any], model: str = "hours") -> Any:
    """Delivered value per active developer a month (US$) for given values (floats or arrays)."""
    hours, recaptured = _hours_month(values, model)
    return hours * recaptured * values["hourly_cost"]


def _check(model: str, cost_usd: float | None, developers: int) -> float:
    if model not in MODELS:
        msg = f"unknown value model {model!r}; valid: {', '.join(MODELS)}"
        raise ConfigError(msg)
    if cost_usd is None or cost_usd <= 0 or developers <= 0:
        msg = "the ROI needs a known, positive total cost and at least one active developer"
        raise ConfigError(msg)
    return float(cost_usd)


def monte_carlo(
    cost_usd: float | None,
    developers: int,
    given: Mapping[str, Prior],
    *,
    model: str = "hours",
    draws: int = 20_000,
    seed: int = 0,
) -> dict[str, float]:
    """P10 / P50 / P90 of the month's net value (US$) and ROI, P(ROI > 0), and P(hours saved > break-even): the
    gross hours saved per developer a month above the hours that pay the cost at the drawn hourly cost (what a
    survey would measure; ROI > 0 also needs the saved time to become delivered work). Priors are drawn
    independently, ``draws`` at once from ``seed``."""
    cost = _check(model, cost_usd, developers)
    rng = np.random.default_rng(seed)
    values = {name: given[name].draw(rng, draws) for name in USES[model]}  # fixed order: reproducible
    hours, _ = _hours_month(values, model)
    net = value_per_developer(values, model) * developers - cost
    roi = net / cost
    paid = developers * values["hourly_cost"]
    # an hour drawn at no cost (a wide prior clipped at zero) pays for nothing: no break-even
    break_even = np.divide(cost, paid, out=np.full_like(paid, np.inf), where=paid > 0)
    q = np.quantile
    return {
        "net_p10": float(q(net, 0.1)),
        "net_p50": float(q(net, 0.5)),
        "net_p90": float(q(net, 0.9)),
        "p10": float(q(roi, 0.1)),
        "p50": float(q(roi, 0.5)),
        "p90": float(q(roi, 0.9)),
        "p_positive": float(np.mean(roi > 0)),
        "p_above_break_even": float(np.mean(hours > break_even)),
        "draws": float(draws),
        "seed": float(seed),
    }


def roi_at(values: Mapping[str, float], cost_usd: float, developers: int, model: str = "hours") -> float:
    """The ROI for one set of values (no uncertainty)."""
    return float(value_per_developer(values, model) * developers / cost_usd - 1)


def tornado(
    cost_usd: float | None, developers: int, given: Mapping[str, Prior], *, model: str = "hours"
) -> pl.DataFrame:
    """Each uncertain assumption at its P10 and P90 with the others at their medians: the ROI at each end and the
    swing between them, largest first. Fixed assumptions have no swing and are left out."""
    cost = _check(model, cost_usd, developers)
    medians = {name: given[name].p50 for name in USES[model]}
    rows = []
    for name in USES[model]:  # a handful of assumptions: one line each
        p = given[name]
        if p.fixed:
            continue
        low = roi_at({**medians, name: p.p10}, cost, developers, model)
        high = roi_at({**medians, name: p.p90}, cost, developers, model)
        rows.append(
            {
                "name": name,
                "assumption": p.label,
                "p10": p.p10,
                "p90": p.p90,
                "roi_at_p10": low,
                "roi_at_p90": high,
                "swing": abs(high - low),
            }
        )
    schema = {
        "name": pl.String,
        "assumption": pl.String,
        "p10": pl.Float64,
        "p90": pl.Float64,
        "roi_at_p10": pl.Float64,
        "roi_at_p90": pl.Float64,
        "swing": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema).sort("swing", descending=True)
