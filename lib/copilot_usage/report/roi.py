"""The sections of ``notebooks/roi.ipynb`` ("Return on AI credits"): what Copilot cost (measured, from the spend
report's figures), the hours it must save to pay for itself, the value a stated model gives with its uncertainty,
which assumption matters most, the register of every assumption, and the organisation's own evidence.

The arithmetic is in :mod:`copilot_usage.analysis.roi` and :mod:`copilot_usage.analysis.evidence`; the cost figures are the spend
report's (:func:`copilot_usage.report.spend.cost_figures`), never recomputed here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..analysis import cost_centers, evidence, roi, teams
from ..errors import ConfigError
from . import attribution, charts
from . import spend as spend_report
from .common import month_end, seat_cost
from .context import Report
from .html import fmt_usd
from .privacy import protect
from .section import Chart, Section, Table, Tile, Tiles, section

USER_DAY = ("scope", "day", "user_id", "user_login", "ai_credits_used")
NOT_EFFECT = "association, not effect"


@dataclass(frozen=True)
class Settings:
    """The ROI report's parameters (notebook parameters of the same names). An empty list or 0 keeps the
    assumption register's default (``roi_assumptions.json``), so each default lives in one place."""

    hourly_cost_low: float = 0.0  # US$ loaded cost of a developer hour, low end (0: the register's)
    hourly_cost_high: float = 0.0  # high end (0: the register's)
    hours_saved_per_week: tuple[float, ...] = ()  # [P10, median, P90]
    recapture: tuple[float, ...] = ()  # [P10, median, P90] share of saved time that becomes delivered work
    throughput_lift: tuple[float, ...] = ()  # [P10, median, P90] relative change (value_model "throughput")
    value_model: str = "hours"  # "hours" (hours saved) or "throughput" (throughput lift)
    simulations: int = 20_000
    seed: int = 0
    outcomes: str = ""  # CSV of user_login, week, <outcome>...
    outcome: str = ""  # the outcome column to estimate (empty: the file's first)
    sustained_weeks: int = 2  # weeks in a row of use that make a user's adoption


def settings(r: Report) -> Settings:
    given = {f.name: r.parameters[f.name] for f in dataclasses.fields(Settings) if f.name in r.parameters}
    for name in ("hours_saved_per_week", "recapture", "throughput_lift"):
        if name in given:
            given[name] = tuple(float(v) for v in given[name])
    return Settings(**given)


def _overrides(s: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("hours_saved_per_week", "recapture", "throughput_lift"):
        value = getattr(s, name)
        if value and len(value) != 3:
            msg = f"parameter {name} takes [P10, median, P90], got {list(value)}"
            raise ConfigError(msg)
        if value:
            out[name] = value
    if s.hourly_cost_low or s.hourly_cost_high:
        if not 0 < s.hourly_cost_low <= s.hourly_cost_high:
            msg = (
                f"parameters hourly_cost_low ({s.hourly_cost_low}) and hourly_cost_high ({s.hourly_cost_high}) "
                "need 0 < low ≤ high"
            )
            raise ConfigError(msg)
        out["hourly_cost"] = (s.hourly_cost_low, (s.hourly_cost_low + s.hourly_cost_high) / 2, s.hourly_cost_high)
    return out


def priors(r: Report) -> dict[str, roi.Prior]:
    return r.memo("roi.priors", lambda: roi.priors(_overrides(settings(r))))


def _hourly(r: Report) -> tuple[float, float]:
    p = priors(r)["hourly_cost"]
    return p.p10, p.p90


# ---------------------------------------------------------------------- cost facts (the spend report's)
def _usage(r: Report, first: dt.date, last: dt.date) -> pl.DataFrame:
    return r.frame_between("user_day", first, last, columns=USER_DAY)


def cost_facts(r: Report) -> dict[str, Any]:
    """The last closed month's cost (the spend report's figures) with its active developers and cost per active
    developer; the basis of the break-even and the value model."""

    def compute() -> dict[str, Any]:
        closed, _, _ = spend_report.cost_figures(r)
        month = closed["month"]
        return roi.per_developer(closed, roi.active_developers(_usage(r, month, month_end(month))))

    return r.memo("roi.closed", compute)


@dataclass(frozen=True)
class Period:
    """One of the cost table's periods: the last closed month, this month to date, this month projected."""

    key: str  # "closed", "mtd" or "projected" (summary.json)
    label: str
    month: dt.date
    through: dt.date  # the last day of use read (the projection: the use to date it is shared out by)
    seats_through: dt.date  # the last day of seat licences counted
    as_of: dt.date  # the day a seat holder's cost centre is taken from


def periods(r: Report) -> tuple[Period, Period, Period]:
    """The last closed month, this month to the report's end, and this month projected to its end."""
    closed, month = cost_facts(r)["month"], r.end.replace(day=1)
    last = month_end(closed)
    return (
        Period("closed", f"{closed:%B %Y} (last closed month)", closed, last, last, last),
        Period("mtd", f"{month:%B %Y} to {r.end:%d %B}", month, r.end, r.end, r.end),
        Period("projected", f"{month:%B %Y} projected", month, r.end, month_end(month), r.end),
    )


def seats_by_plan(r: Report, month: dt.date) -> list[dict[str, Any]]:
    """The last closed month's (or any whole month's) seat licences by plan: seats, seat-days, US$."""
    held = seat_cost(r, month)
    return [] if held is None else roi.seats_by_plan(held).to_dicts()


def _plans_sentence(month: dt.date, plans: list[dict[str, Any]]) -> str:
    if not plans:
        return ""
    parts = [
        f"Copilot {p['plan'].title()} {fmt_usd(p['seats_usd'])} ({p['seats']:,} seats, {p['seat_days']:,} seat-days)"
        for p in plans
    ]
    return f"Seat licences by plan in {month:%B %Y}, each seat for the days it was held: {'; '.join(parts)}."


def _months(r: Report) -> pl.DataFrame:
    """The cost table: the last closed month, this month to date, this month projected."""
    _, mtd, projected = spend_report.cost_figures(r)
    month = r.end.replace(day=1)
    devs_mtd = roi.active_developers(_usage(r, month, r.end))
    facts = cost_facts(r)
    label = {p.key: p.label for p in periods(r)}
    rows = [
        {
            "period": label["closed"],
            "seats_usd": facts["seats_usd"],
            "credits_gross": facts["credits_gross"],
            "included_pool": facts["included_pool"],
            "credits_net_usd": facts["credits_net_usd"],
            "other_usd": facts["other_billed_usd"],
            "total_usd": facts["total_usd"],
            "active_developers": facts["active_developers"],
            "per_active_developer_usd": facts["per_active_developer_usd"],
        },
        {
            "period": label["mtd"],
            "seats_usd": mtd["seats_usd"],
            "credits_gross": mtd["credits_gross"],
            "included_pool": mtd["included_pool"],
            "credits_net_usd": mtd["credits_net_usd"],
            "other_usd": mtd["other_billed_usd"],
            "total_usd": mtd["total_usd"],
            "active_developers": devs_mtd,
            "per_active_developer_usd": roi.per_developer(mtd, devs_mtd)["per_active_developer_usd"],
        },
        {
            "period": label["projected"],
            "seats_usd": projected["seats_usd"],
            "credits_gross": projected["credits_projected"],
            "included_pool": mtd["included_pool"],
            "credits_net_usd": projected["credits_net_usd"],
            "other_usd": mtd["other_billed_usd"],
            "total_usd": projected["total_usd"],
            "active_developers": None,
            "per_active_developer_usd": None,
        },
    ]
    schema = {
        "period": pl.String,
        "seats_usd": pl.Float64,
        "credits_gross": pl.Float64,
        "included_pool": pl.Float64,
        "credits_net_usd": pl.Float64,
        "other_usd": pl.Float64,
        "total_usd": pl.Float64,
        "active_developers": pl.Int64,
        "per_active_developer_usd": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} h"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


UNIT_PERIOD_SCHEMA = {"unit": pl.String, "period": pl.String, "month": pl.Date, "label": pl.String} | {
    k: v for k, v in roi.UNIT_COST_SCHEMA.items() if k != "unit"
}


def _scope_money(r: Report, period: Period) -> tuple[float | None, float, float | None]:
    """The scope's net AI credits in US$, other billed SKUs and (projected) credits of ``period``: the figures of
    the scope-level cost table (:func:`_months`), shared out among units."""
    _, mtd, projected = spend_report.cost_figures(r)
    if period.key == "closed":
        facts = cost_facts(r)
        return facts["credits_net_usd"], facts["other_billed_usd"], None
    if period.key == "mtd":
        return mtd["credits_net_usd"], mtd["other_billed_usd"], None
    return projected["credits_net_usd"], mtd["other_billed_usd"], projected["credits_projected"]


def _period_costs(r: Report, period: Period, days: pl.DataFrame, seats: pl.DataFrame) -> pl.DataFrame:
    """:func:`roi.unit_costs` (the projection: :func:`roi.projected_unit_costs`) of one period, labelled."""
    net, other, credits = _scope_money(r, period)
    frame = (
        roi.projected_unit_costs(days, seats, credits_projected=credits, credits_net_usd=net, other_usd=other)
        if period.key == "projected"
        else roi.unit_costs(days, seats, credits_net_usd=net, other_usd=other)
    )
    return frame.with_columns(period=pl.lit(period.key), month=pl.lit(period.month), label=pl.lit(period.label))


def _in_order(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The periods' rows of each unit together, the last closed month first; units by their last closed month's
    total, then this month's to date (a unit new this month after those of the closed month)."""
    rank = {p: i for i, p in enumerate(("closed", "mtd", "projected"))}
    total = {p: pl.col("total_usd").filter(pl.col("period") == p).max().over("unit") for p in ("closed", "mtd")}
    return (
        pl.concat([f.select(list(UNIT_PERIOD_SCHEMA)) for f in frames], how="vertical")
        .with_columns(_closed=total["closed"], _mtd=total["mtd"], _rank=pl.col("period").replace_strict(rank))
        .sort(["_closed", "_mtd", "unit", "_rank"], descending=[True, True, False, False], nulls_last=True)
        .drop("_closed", "_mtd", "_rank")
    )


def _centre_period(r: Report, period: Period) -> pl.DataFrame:
    mapping = spend_report.centre_mapping(r)
    unassigned = cost_centers.NO_COST_CENTRE
    days = teams.map_user_days(_usage(r, period.month, period.through), mapping, unassigned=unassigned)
    per_user = seat_cost(r, period.month, period.seats_through)
    seats = (
        pl.DataFrame(schema={"unit": pl.String, "seats_usd": pl.Float64})
        if per_user is None
        else teams.mapped_seats(per_user, mapping, as_of=period.as_of, unassigned=unassigned).select(
            "unit", "seats_usd"
        )
    )
    return _period_costs(r, period, days, seats)


def centre_periods(r: Report) -> pl.DataFrame:
    """Cost per GitHub cost centre in each of :func:`periods` (:data:`UNIT_PERIOD_SCHEMA`): additive, each
    period's rows add up to the scope's total (each seat holder and each user in one cost centre); the projection
    is the scope's, shared by each cost centre's credits to date. Empty when cost centres were not fetched."""

    def compute() -> pl.DataFrame:
        if not r.fetched("cost_centers"):
            return pl.DataFrame(schema=UNIT_PERIOD_SCHEMA)
        return _in_order([_centre_period(r, p) for p in periods(r)])

    return r.memo("roi.centre periods", compute)


def _team_period(r: Report, period: Period) -> pl.DataFrame | None:
    days = attribution.team_days(r, _usage(r, period.month, period.through), period.month, period.through)
    per_user = seat_cost(r, period.month, period.seats_through)
    if days.height == 0 or per_user is None:
        return None
    seats = days.select("unit", "user_id").unique().join(per_user.select("user_id", "seats_usd"), on="user_id")
    return _period_costs(r, period, days, seats)


def team_periods(r: Report) -> pl.DataFrame:
    """Cost per GitHub team in each of :func:`periods`: its active members' seat licences and their share of the
    credits; not additive (a user in several teams counts in each; idle seat holders are in no team's row)."""

    def compute() -> pl.DataFrame:
        if not r.fetched("team_members") and not r.fetched("user_team_day"):
            return pl.DataFrame(schema=UNIT_PERIOD_SCHEMA)
        frames = [f for f in (_team_period(r, p) for p in periods(r)) if f is not None]
        return _in_order(frames) if frames else pl.DataFrame(schema=UNIT_PERIOD_SCHEMA)

    return r.memo("roi.team periods", compute)


def _closed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("period") == "closed").select(list(roi.UNIT_COST_SCHEMA))


def centre_costs(r: Report) -> pl.DataFrame:
    """The last closed month's cost per GitHub cost centre (:func:`centre_periods`)."""
    return _closed(centre_periods(r))


def team_costs(r: Report) -> pl.DataFrame:
    """The last closed month's cost per GitHub team (:func:`team_periods`)."""
    return _closed(team_periods(r))


# ---------------------------------------------------------------------- the value model
def simulation(r: Report) -> dict[str, float] | None:
    s, facts = settings(r), cost_facts(r)
    if facts["total_usd"] is None or not facts["active_developers"]:
        return None
    return r.memo(
        "roi.mc",
        lambda: roi.monte_carlo(
            facts["total_usd"],
            facts["active_developers"],
            priors(r),
            model=s.value_model,
            draws=s.simulations,
            seed=s.seed,
        ),
    )


def _tornado(r: Report) -> pl.DataFrame | None:
    facts = cost_facts(r)
    if facts["total_usd"] is None or not facts["active_developers"]:
        return None
    return r.memo(
        "roi.tornado",
        lambda: roi.tornado(facts["total_usd"], facts["active_developers"], priors(r), model=settings(r).value_model),
    )


def _break_even(r: Report) -> dict[str, float | None]:
    facts = cost_facts(r)
    low, high = _hourly(r)
    return roi.break_even_range(
        facts["total_usd"], facts["active_developers"], hourly_cost_low=low, hourly_cost_high=high
    )


# ---------------------------------------------------------------------- sections
def headline(r: Report) -> Section:
    """Tiles and the story a finance reader needs first: the cost, the break-even hours, the ROI range."""
    facts, be, mc = cost_facts(r), _break_even(r), simulation(r)
    low, high = _hourly(r)
    month = f"{facts['month']:%B %Y}"
    tiles = Tiles(
        (
            Tile(f"Total cost {month}", fmt_usd(facts["total_usd"])),
            Tile("Per active developer", fmt_usd(facts["per_active_developer_usd"])),
            Tile("Break-even hours a developer a month", f"{_hours(be['low'])} – {_hours(be['high'])}"),
            Tile(
                "ROI, median (P10 – P90)",
                "n/a" if mc is None else f"{mc['p50']:.0%} ({mc['p10']:.0%} – {mc['p90']:.0%})",
            ),
            Tile("Chance the ROI is positive", "n/a" if mc is None else f"{mc['p_positive']:.0%}"),
        )
    )
    story = [
        f"In {month}, the last closed month, Copilot cost {fmt_usd(facts['total_usd'])} for "
        f"{facts['active_developers']:,} active developers: {fmt_usd(facts['per_active_developer_usd'])} each."
        if facts["total_usd"] is not None
        else f"The cost of {month} is not known (the seat roster or the AI credits are not in the data), so "
        "neither the break-even nor the return can be given."
    ]
    if be["low"] is not None:
        story.append(
            f"It pays for itself if each active developer saves {_hours(be['low'])} to {_hours(be['high'])} a "
            f"month (at a loaded cost of US${low:,.0f} to US${high:,.0f} an hour): this needs one assumption only, "
            "the hourly cost."
        )
    if mc is not None:
        story.append(
            f"On the stated assumptions the month's return on that cost is {mc['p50']:.0%} at the median, between "
            f"{mc['p10']:.0%} and {mc['p90']:.0%} in 8 cases out of 10; it is positive with probability "
            f"{mc['p_positive']:.0%}. The value is modelled, the cost is measured: they are never added together."
        )
    figures = {
        "cost": {
            "month": facts["month"],
            "seats_usd": facts["seats_usd"],
            "credits_gross": facts["credits_gross"],
            "credits_net_usd": facts["credits_net_usd"],
            "other_usd": facts["other_billed_usd"],
            "total_usd": facts["total_usd"],
            "per_active_developer_usd": facts["per_active_developer_usd"],
            "active_developers": facts["active_developers"],
            "seats_by_plan": seats_by_plan(r, facts["month"]),
        },
        "break_even_hours_per_developer_month": be,
        "hourly_cost": {"low": low, "high": high},
    }
    return section(tiles, story, figures=figures)


def cost(r: Report) -> Section:
    """The measured cost: last closed month, this month so far and projected, per active developer."""
    facts = cost_facts(r)
    closed, mtd, projected = spend_report.cost_figures(r)
    story = spend_report.cost_story(r, closed, mtd, projected)
    story.insert(1, _plans_sentence(facts["month"], seats_by_plan(r, facts["month"])))
    missing = r.not_fetched("seats", "billing_usage")  # named in the data notes whatever the audience
    if missing and not r.audience.leadership:
        story.append(missing)
    if facts["credits_net_source"] != "billing":
        story.append("No bill for that month is in the data, so AI credits beyond the pool are computed.")
    return section(
        story,
        Table(_months(r), needs=("seats",)),
        spend_report.code_review_note(r),
    )


UNIT_FIGURES = (
    "unit",
    "month",
    "period",
    "active_developers",
    "seats_usd",
    "credits_gross",
    "credits_net_usd",
    "other_usd",
    "total_usd",
    "per_active_developer_usd",
    "break_even_hours_low",
    "break_even_hours_high",
)


def _shown_periods(r: Report, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as the audience may see it: a unit's row of a period with fewer than ``k_min`` active developers
    is hidden, and its projection with its month to date (the developers it is shared out by)."""
    to_date = pl.col("active_developers").filter(pl.col("period") == "mtd").max().over("unit")
    counted = frame.with_columns(
        _developers=pl.when(pl.col("period") == "projected").then(to_date).otherwise(pl.col("active_developers"))
    )
    return protect(counted, r.audience, group_users="_developers").drop("_developers")


def _unit_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The table as shown: the period's label, no keys."""
    return frame.drop("period", "month").rename({"label": "period"})


def cost_by_unit(r: Report) -> Section:
    """Cost and break-even per cost centre (additive) and per team (not additive): the last closed month, this
    month to date and this month projected."""
    low, high = _hourly(r)
    centres = roi.with_break_even(centre_periods(r), hourly_cost_low=low, hourly_cost_high=high)
    team_rows = roi.with_break_even(team_periods(r), hourly_cost_low=low, hourly_cost_high=high)
    shown_c, shown_t = _shown_periods(r, centres), _shown_periods(r, team_rows)
    label = {p.key: p.label for p in periods(r)}
    story = []
    if centres.height:
        total = pl.col("total_usd")
        known = pl.when(total.is_null().any()).then(None).otherwise(total.sum())  # a unit unknown: the total too
        totals = dict(centres.group_by("period").agg(known).iter_rows())
        story.append(
            "Per cost centre the costs of each period add up to the scope's: "
            + "; ".join(f"{fmt_usd(totals.get(k))} for {label[k]}" for k in ("closed", "mtd", "projected"))
            + ". Each seat and each user is in one cost centre; AI credits beyond the included pool are shared in "
            "proportion to each cost centre's credits, because the pool is the whole account's."
        )
    else:
        missing = r.not_fetched("cost_centers", "cost_center_members")  # named in the data notes
        story.append(
            "Cost centres are not in the data, so there is no split by cost centre."
            if r.audience.leadership
            else missing
        )
    if team_rows.height:
        story.append(
            "Per team the figures do not add up: a developer in several teams counts in each, and a seat holder "
            "with no activity in the period is in no team's row."
        )
    if centres.height or team_rows.height:
        story.append(
            "The projection is the scope's one forecast of this month's credits, shared among the units in "
            "proportion to their credits to date, with each seat's licence for the whole month; it has no cost per "
            "developer and no break-even, because the month's active developers are known only when it ends."
        )
    hidden = sum(
        frame.select("unit", "period").join(shown.select("unit", "period"), on=["unit", "period"], how="anti").height
        for frame, shown in ((centres, shown_c), (team_rows, shown_t))
    )
    if hidden:
        story.append(f"{hidden} row(s) of groups with fewer than {r.k_min} active developers are not shown.")
    closed_c = shown_c.filter(pl.col("period") == "closed")
    return section(
        story,
        Table(
            _unit_table(shown_c),
            empty="No cost centre has enough active developers to show.",
            needs=("cost_centers",),
        ),
        Table(_unit_table(shown_t), empty="No team has enough active developers to show.", needs=("team_members",)),
        figures={
            "cost_centres": [
                {
                    k: row[k]
                    for k in (
                        "unit",
                        "total_usd",
                        "per_active_developer_usd",
                        "break_even_hours_low",
                        "break_even_hours_high",
                    )
                }
                for row in closed_c.iter_rows(named=True)
            ],
            "cost_by_cost_centre": shown_c.select(UNIT_FIGURES).to_dicts(),
            "cost_by_team": shown_t.select(UNIT_FIGURES).to_dicts(),
        },
    )


def value_model(r: Report) -> Section:
    """The Monte Carlo over the stated priors: net value and ROI ranges, and the two probabilities."""
    mc, s = simulation(r), settings(r)
    if mc is None:
        return section("The cost of the last closed month is not known, so there is no return to compute.")
    p = priors(r)
    used = roi.USES[s.value_model]
    how = (
        "hours saved a week × working weeks a month × the share of saved time that becomes delivered work × the "
        "loaded hourly cost"
        if s.value_model == "hours"
        else "the hours a throughput lift frees (lift ÷ (1 + lift) × working hours) × working weeks a month × "
        "the loaded hourly cost"
    )
    drawn = ", ".join(p[n].label[:1].lower() + p[n].label[1:] for n in used if not p[n].fixed)
    story = [
        f"Value per active developer a month = {how}; {s.simulations:,} draws of the assumptions "
        f"({drawn}), each independent (seed {s.seed}).",
        f"Net value for the month: {fmt_usd(mc['net_p50'])} at the median, {fmt_usd(mc['net_p10'])} to "
        f"{fmt_usd(mc['net_p90'])} (P10 – P90).",
        f"The hours saved exceed the break-even with probability {mc['p_above_break_even']:.0%}; the ROI is "
        f"positive with probability {mc['p_positive']:.0%} (it also needs the saved time to become delivered work).",
    ]
    # one column per measure, so each is formatted as what it is (US$; the ROI as a percentage, 12.1 = +1210%)
    table = pl.DataFrame(
        {
            "percentile": ["P10", "P50", "P90"],
            "net_value_usd": [mc["net_p10"], mc["net_p50"], mc["net_p90"]],
            "roi": [mc["p10"], mc["p50"], mc["p90"]],
        }
    )
    figures = {
        "roi": {k: mc[k] for k in ("p10", "p50", "p90", "p_positive", "p_above_break_even")},
        "net_value_usd": {"p10": mc["net_p10"], "p50": mc["net_p50"], "p90": mc["net_p90"]},
        "value_model": s.value_model,
    }
    return section(story, Table(table), figures=figures)


def tornado(r: Report) -> Section:
    """Which assumption moves the ROI most."""
    frame = _tornado(r)
    if frame is None or frame.height == 0:
        return section("No uncertain assumption to rank.", figures={"tornado": []})
    top = frame.row(0, named=True)
    given = priors(r)
    first = given[top["name"]]
    story = [
        f"{top['assumption']} moves the result most: from {top['roi_at_p10']:.0%} at its P10 "
        f"({first.show(top['p10'])}) to {top['roi_at_p90']:.0%} at its P90 ({first.show(top['p90'])}), the others at "
        "their medians. A survey or study of your own on this assumption narrows the range most."
    ]
    # the P10/P90 columns hold hours, shares and dollars row by row: shown with their units (the chart's numbers
    # and summary.json keep them as numbers)
    units = pl.DataFrame(
        [{"name": n, "p10_shown": p.show(p.p10), "p90_shown": p.show(p.p90)} for n, p in given.items()],
        schema={"name": pl.String, "p10_shown": pl.String, "p90_shown": pl.String},
    )
    shown = frame.join(units, on="name", how="left", maintain_order="left").select(
        "assumption",
        pl.col("p10_shown").alias("at_p10"),
        pl.col("p90_shown").alias("at_p90"),
        "roi_at_p10",
        "roi_at_p90",
        pl.col("swing").alias("roi_swing"),  # a difference of two ROIs: percentage points
    )
    figures = {
        "tornado": [
            {k: row[k] for k in ("name", "p10", "p90", "roi_at_p10", "roi_at_p90", "swing")}
            for row in frame.iter_rows(named=True)
        ]
    }
    return section(
        story,
        Chart(charts.tornado(frame), data=frame, user_column=None),
        Table(shown),
        figures=figures,
    )


def assumptions(r: Report) -> Section:
    """The register: every assumption, its value or distribution, its source and date."""
    s = settings(r)
    table = roi.register_table(priors(r), model=s.value_model)
    figures = {
        "assumptions": [
            {
                "name": row["name"],
                "value": row["value"],
                "source": row["source"],
                "date": row["date"],
                "used": row["used"],
            }
            for row in table.iter_rows(named=True)
        ]
    }
    return section(
        "Every assumption of the value model, with its source. Replace any of them with your own survey or study "
        "through the report's parameters; a changed assumption changes only what depends on it.",
        Table(table.drop("name")),
        figures=figures,
    )


def _interval(row: dict[str, Any]) -> str:
    """A phase's pull-request interval, or why it has none (a phase seen in one week only has no spread)."""
    if row["prs_low"] is None or row["prs_high"] is None:
        return f"(no interval: {row['weeks']} week{'s' if row['weeks'] != 1 else ''} of data)"
    return f"({row['prs_low']:.2f}–{row['prs_high']:.2f})"


def cohorts(r: Report) -> Section:
    """Pull requests, review time and cycles per developer by GitHub's adoption phase, with intervals."""
    phases = r.frame("aggregate_ai_adoption_phase_day")
    table = evidence.phase_cohorts(phases) if phases.height else pl.DataFrame(schema=evidence.COHORT_SCHEMA)
    story = [
        "Pull requests merged per engaged developer a week, the time to review and the review cycles, by GitHub's "
        f"adoption phase, each with its 90 % interval over the weeks: an {NOT_EFFECT}. A phase is chosen by how "
        "much a developer uses Copilot, and prolific developers adopt first, so a higher phase merging more does "
        "not show that Copilot made them merge more."
    ]
    rated = table.drop_nulls("prs_per_developer_week")
    if rated.height >= 2:
        first, last = rated.row(0, named=True), rated.row(-1, named=True)
        story.append(
            f"{last['phase']}: {last['prs_per_developer_week']:.2f} pull requests a developer a week "
            f"{_interval(last)}; {first['phase']}: {first['prs_per_developer_week']:.2f} {_interval(first)}."
        )
    return section(
        story,
        Table(table, empty="GitHub reports pull requests by adoption phase from 2026-06-26: none in this period."),
        figures={"cohorts": table.to_dicts(), "cohorts_label": NOT_EFFECT},
    )


def guardrails(r: Report) -> Section:
    """Review time and cycles week by week beside the share of developers in the higher adoption phases."""
    weekly = evidence.guardrails(r.frame("aggregate_day"), r.frame("aggregate_ai_adoption_phase_day"))
    story = [
        "Beside any gain: GitHub's median minutes to merge and the review cycles a pull request needs, week by week, "
        "with the share of engaged developers in adoption phases 2 and 3. A speed gain bought with slower review "
        "shows here."
    ]
    rated = weekly.drop_nulls("median_minutes_to_merge")
    if rated.height >= 8:
        pick = (pl.col("median_minutes_to_merge").median(), pl.col("review_cycles").mean())
        (m0, c0), (m1, c1) = rated.head(4).select(*pick).row(0), rated.tail(4).select(*pick).row(0)
        story.append(
            f"Median minutes to merge: {m0:,.0f} in the first four weeks, {m1:,.0f} in the last four; review cycles "
            f"{c0:.2f} then {c1:.2f}."
        )
    return section(story, Table(weekly, empty="No pull-request data in this period."))


def _outcomes_file(r: Report) -> pl.DataFrame | None:
    path = settings(r).outcomes
    return r.memo("roi.outcomes", lambda: evidence.read_outcomes(path)) if path else None


def study(r: Report) -> evidence.EventStudy | None:
    frame = _outcomes_file(r)
    if frame is None:
        return None
    s = settings(r)
    columns = [c for c in frame.columns if c not in ("user_login", "week")]
    outcome = s.outcome or columns[0]
    if outcome not in columns:
        msg = f"{s.outcomes}: no outcome column {outcome!r}; columns: {', '.join(columns)}"
        raise ConfigError(msg)

    def compute() -> evidence.EventStudy:
        usage = r.scan_between("user_day", None, r.end, columns=("day", "user_login")).collect()
        adoption = evidence.adoption_weeks(usage, sustained_weeks=s.sustained_weeks)
        first = usage.select(pl.col("day").min()).item()
        from_week = None if first is None else first - dt.timedelta(days=first.weekday())
        return evidence.event_study(frame, adoption, outcome=outcome, seed=s.seed, from_week=from_week)

    return r.memo("roi.event_study", compute)


def event_study(r: Report) -> Section:
    """The staggered-adoption event study on the user's outcomes file (when given)."""
    es = study(r)
    if es is None:
        return section(
            "With an outcomes file of your own (parameter outcomes: a CSV of user login, week and an outcome such "
            "as pull requests merged or story points per developer a week), this section estimates the effect of "
            "adopting Copilot on it, with its interval and a pre-trend check."
        )
    small = min(es.users_treated, es.users_control) < r.k_min
    if es.estimate is None or (r.audience.leadership and small):
        return section(
            f"The event study on {es.outcome.replace('_', ' ')} is not shown: it needs at least {r.k_min} "
            "developers who adopted during the data and as many not yet adopted."
        )
    name = es.outcome.replace("_", " ")
    story = [
        f"Effect of adoption on {name}: {es.estimate:+.2f} a developer a week ({es.level:.0%} interval "
        f"{es.ci_low:+.2f} to {es.ci_high:+.2f}), from {es.users_treated:,} developers who adopted during the data "
        f"compared with {es.users_control:,} not yet or never adopted, each developer's own level and each week's "
        "level taken out.",
        (
            f"Before adoption the adopters did not drift apart from the others (pre-trend check p = {es.pretrend_p:.2f})."
            if es.pretrend_p is not None and es.pretrend_p >= 0.1
            else "Before adoption the adopters already drifted apart from the others (pre-trend check p = "
            f"{es.pretrend_p:.2f}): read the estimate with care."
            if es.pretrend_p is not None
            else "Too few weeks before adoption to check for a pre-trend."
        ),
        f"{es.users_censored:,} developers already used Copilot when the data starts and are left out.",
    ]
    if es.ci_low is not None and es.ci_low > 0:
        story.append("The interval excludes zero: in this organisation adoption went with more of this outcome.")
    elif es.ci_high is not None and es.ci_high < 0:
        story.append("The interval lies below zero: adoption went with less of this outcome.")
    else:
        story.append("The interval contains zero: the data cannot tell an effect from none.")
    by_week = protect(es.by_event_time, r.audience, group_users="users")  # weeks with too few adopters hidden
    return section(
        story,
        Chart(charts.event_time(by_week, outcome=es.outcome), data=by_week, user_column=None),
        Table(by_week),
        figures={"event_study": es.summary()},
    )
