"""Sections of the team and department distribution report (``notebooks/team_distribution.ipynb``).

Units are GitHub teams (non-additive membership), an organisation map's teams or departments, or GitHub's cost
centres (additive); :func:`team_view` attributes the period once per report and every section reads it.
Parameters (``org_map``, ``unit``, ``top_n``, the value floors, ``bootstrap_iterations``, ``seed``) come from
:attr:`Report.parameters`.

Leadership charts and tables are aggregated (issue 17): charts show the ``top_n`` units by credits and fold the
rest into one "other N teams" row; a per-unit table longer than :data:`FULL_TABLE_MAX` rows keeps the ``top_n``
units by credits with a note saying how many were left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..analysis import cost_centers, github_changes, teams, value
from ..errors import ConfigError
from . import attribution, charts
from .common import CHUNK_DAYS, FULL_TABLE_MAX, change_phrase
from .context import Report
from .html import fmt_num
from .privacy import protect
from .section import Chart, Section, Table, Tile, Tiles, section

# the user_day columns the report reads (a 100,000-seat quarter is 5 M rows of about 40 columns)
USER_DAY = (
    "scope",
    "day",
    "user_id",
    "user_login",
    "ai_credits_used",
    "loc_added_sum",
    "code_acceptance_activity_count",
    "code_generation_activity_count",
    "user_initiated_interaction_count",
    "cli_session_count",
    "ai_adoption_phase_number",
    *teams.ADOPTION_FLAGS,
)

UNITS = ("team", "department", "cost_centre")
HEALTH_COLUMNS = ("report", "status", "day")
SUMMARY_TABLE = (
    "unit",
    "seated_users",
    "active_seated",
    "adoption",
    "active_users",
    "credits",
    "credits_per_active_user",
    "credits_per_seat",
    "share_of_total",
    "credits_change",
    "note",
)
ADOPTION_TABLE = (
    "unit",
    "seated_users",
    "active_seated",
    "idle_seats",
    "adoption",
    "agent_share",
    "chat_share",
    "cli_share",
    "code_review_share",
    "cloud_agent_share",
    "phase_2_share",
    "phase_3_share",
    "median_days_to_first_use",
    "median_days_to_first_agent",
)


# ---------------------------------------------------------------------- the view every section reads
@dataclass(frozen=True)
class TeamView:
    """User-day rows attributed to units (lazy: the period's user-days joined to their units, aggregated by each
    section, never held whole — a user-day counts once per team), the seated users per unit, and the attribution
    mode."""

    unit_days: pl.LazyFrame
    previous: pl.LazyFrame
    seated: pl.DataFrame
    additive: bool
    warnings: tuple[str, ...]
    scope_credits: float
    unit: str = "team"

    @property
    def mode(self) -> str:
        if self.unit == "cost_centre":
            return (
                "additive — GitHub's cost centres: each user in at most one cost centre on a day (a direct "
                "assignment wins over an enterprise team, an enterprise team over an organization), so the cost "
                "centres' credits sum to the scope total"
            )
        return (
            f"additive — one {self.unit} per user-day from the mapping"
            if self.additive
            else "non-additive — GitHub team membership; a user on several teams counts in each, nested teams roll up"
        )

    @property
    def noun(self) -> str:
        return "cost centre" if self.unit == "cost_centre" else self.unit


def _period_usage(r: Report) -> tuple[pl.DataFrame, pl.DataFrame, dt.date]:
    """The period's user-days, the previous period's (empty when the cache does not hold all of it) and the
    previous period's first day."""
    length = r.end - r.start
    prev_end = r.start - dt.timedelta(days=1)
    usage = r.frame("user_day", columns=USER_DAY)
    health = r.frame_between("data_health", None, None, columns=HEALTH_COLUMNS)
    first = health.filter((pl.col("report") == "users-1-day") & (pl.col("status") == "complete"))["day"].min()
    covered = isinstance(first, dt.date) and first <= prev_end - length
    # a previous period the cache only partly holds would show growth that is only missing data: compare none
    previous = r.frame_between("user_day", prev_end - length, prev_end, columns=USER_DAY)
    return usage, previous if covered else previous.clear(), prev_end - length


def _scope_credits(usage: pl.DataFrame) -> float:
    total = usage["ai_credits_used"].sum()
    return float(total) if total is not None else 0.0


def team_view(r: Report) -> TeamView:
    """The period (and the previous period of the same length) attributed to units, once per report.

    ``unit="team"`` without an ``org_map``: GitHub's team membership (non-additive); with one: the map's teams.
    ``unit="department"``: the map's departments (needs ``org_map``). ``unit="cost_centre"``: GitHub's cost
    centres (additive; an ``org_map`` is not used for the units). Any other additive unit plugs in through
    :func:`teams.units_from_mapping` and :func:`mapped_view`.
    """
    return r.memo("team_distribution.view", lambda: _team_view(r))


def _team_view(r: Report) -> TeamView:
    unit = str(r.parameters.get("unit", "team"))
    org_map = str(r.parameters.get("org_map", "") or "")
    if unit not in UNITS:
        msg = f"unit {unit!r} is not one of {', '.join(UNITS)}"
        raise ConfigError(msg)
    if unit == "cost_centre":
        return cost_centre_view(r)
    if unit == "department" and not org_map:
        msg = "unit='department' needs org_map (a CSV/Parquet of user_login or user_id → team, department)"
        raise ConfigError(msg)
    usage, previous, prev_start = _period_usage(r)
    if org_map:
        frame, warnings = teams.load_org_map(org_map, known_users=usage.select("user_id", "user_login").unique())
        mapping = teams.units_from_mapping(frame, unit=unit, source=str(org_map))
        return mapped_view(r, mapping, unit=unit, warnings=warnings)
    seated = attribution.seated(r)
    src = attribution.sources(r)
    no_team = teams.no_team_label(
        seated, src.fetched_orgs, enterprise_teams=src.enterprise_teams, not_fetched=src.not_fetched
    )
    default = teams.NO_TEAM if src.fetched else src.not_fetched
    unit_days = attribution.team_days_query(r, usage)
    prev_days = (
        attribution.team_days_query(r, previous, prev_start, r.start - dt.timedelta(days=1))
        if previous.height
        else unit_days.clear()
    )
    seated_units = teams.seated_teams(
        seated, src.members, src.teams, as_of=r.end, no_team=no_team, default=default, qualify=src.qualify
    )
    notes = (src.note(r), r.not_fetched("seats", "user_team_day"))
    return TeamView(unit_days, prev_days, seated_units, False, notes, _scope_credits(usage))


def mapped_view(
    r: Report,
    mapping: pl.DataFrame,
    *,
    unit: str,
    unassigned: str = teams.UNMAPPED,
    warnings: list[str] | None = None,
) -> TeamView:
    """The additive team view from any user → unit mapping (:func:`teams.units_from_mapping`): each user-day and
    each seated user in exactly one unit; users the mapping does not cover are ``unassigned``."""
    usage, previous, _ = _period_usage(r)
    return TeamView(
        teams.map_user_days(usage, mapping, unassigned=unassigned).lazy(),
        teams.map_user_days(previous, mapping, unassigned=unassigned).lazy(),
        teams.mapped_seats(attribution.seated(r), mapping, as_of=r.end, unassigned=unassigned),
        True,
        (*(warnings or []), r.not_fetched("seats")),
        _scope_credits(usage),
        unit,
    )


def cost_centre_view(r: Report) -> TeamView:
    """The additive view by GitHub cost centre (``cost_center_members``, effective-dated by snapshot); users in
    none are ``(no cost centre)``; the notes say where the membership comes from and what it could not place."""
    members = r.frame("cost_center_members", all_scopes=True)
    mapping = teams.units_from_mapping(cost_centers.mapping(members), unit="unit", source="GitHub's cost centres")
    return mapped_view(
        r, mapping, unit="cost_centre", unassigned=cost_centers.NO_COST_CENTRE, warnings=cost_centre_notes(r, members)
    )


def cost_centre_notes(r: Report, members: pl.DataFrame) -> list[str]:
    """Where cost-centre membership comes from, what it could not place and what is not fetched."""
    if members.height == 0 and not r.fetched("cost_centers"):
        r.not_fetched("cost_centers")  # listed in the data notes
        return [
            "GitHub's cost centres were not fetched: every user is shown as (no cost centre). They need the billing "
            "token (a classic PAT with manage_billing:enterprise): `copilot-usage fetch --enterprise SLUG --reports "
            "cost-centers` fills them."
        ]
    centres = r.frame("cost_centers", all_scopes=True)
    resources = r.frame("cost_center_resources", all_scopes=True)
    newest: dt.date | None = centres["snapshot_day"].max()  # type: ignore[assignment]
    current = centres.filter(pl.col("snapshot_day") == newest)
    now = members.filter(pl.col("snapshot_day") == members["snapshot_day"].max()) if members.height else members
    via = dict(now.group_by("via").len().iter_rows())
    days = centres["snapshot_day"].unique().sort()
    out = [
        f"Cost centres from GitHub's billing settings ({days.len()} snapshot(s), newest {newest}): "
        f"{int((current['state'] == 'active').sum())} active, {int((current['state'] != 'active').sum())} deleted "
        f"(deleted ones have no members). On {newest}: {now.height} users placed — {via.get('User', 0)} directly, "
        f"{via.get('EnterpriseTeam', 0)} through an enterprise team, {via.get('Organization', 0)} through their "
        "organization (from the seat roster: a user of an assigned organization without a seat cannot be placed).",
    ]
    several = int((now["candidates"] > 1).sum()) if now.height else 0
    if several:
        out.append(
            f"{several} users are reached by more than one cost centre and counted once (direct > enterprise team > "
            "organization), as GitHub bills them."
        )
    latest = resources.filter(pl.col("snapshot_day") == newest)
    repos = int((latest["type"] == "Repository").sum())
    if repos:
        out.append(
            f"{repos} repository resource(s) attribute repository-billed usage, not users: not counted in user units."
        )
    unknown = latest.filter(~pl.col("known_type"))
    if unknown.height:
        kinds = ", ".join(sorted(unknown["type"].cast(pl.String).fill_null("null").unique().to_list()))
        out.append(
            f"{unknown.height} resource(s) of a type the kit does not know ({kinds}) are kept in "
            "cost_center_resources and reported as schema drift, not placed."
        )
    return out


# ---------------------------------------------------------------------- derived frames shared by sections
def _top_n(r: Report) -> int:
    return int(r.parameters.get("top_n", 12))


def unit_summary(r: Report) -> pl.DataFrame:
    """Every unit's :func:`teams.unit_summary` with its change against the previous period."""

    def compute() -> pl.DataFrame:
        view = team_view(r)
        return teams.with_change(
            teams.unit_summary(view.unit_days, view.seated, scope_credits=view.scope_credits),
            teams.unit_summary(view.previous, view.seated, scope_credits=None),
        )

    return r.memo("team_distribution.summary", compute)


def shown_units(r: Report) -> pl.DataFrame:
    """The summary as charts show it: the ``top_n`` units by credits, the rest (and units under k_min users)
    folded into one "other N teams" row."""

    def compute() -> pl.DataFrame:
        view = team_view(r)
        return teams.fold_tail(
            unit_summary(r),
            view.unit_days,
            view.seated,
            top=_top_n(r),
            k_min=r.k_min,
            noun=view.noun,
            scope_credits=view.scope_credits,
        )

    return r.memo("team_distribution.shown", compute)


def _long(r: Report, frame: pl.DataFrame, what: str) -> tuple[pl.DataFrame, str]:
    """A per-unit table as shown: whole up to :data:`FULL_TABLE_MAX` rows, else the shown units (top_n by
    credits) and a sentence saying how many were left out."""
    if frame.height <= FULL_TABLE_MAX:
        return frame, ""
    kept = frame.filter(pl.col("unit").is_in(shown_units(r)["unit"].implode()))
    return kept, (
        f"{what}: the {kept.height} largest units by credits of {frame.height} "
        f"(more than {FULL_TABLE_MAX} units; the rest are in the 'other' row of the credits table)."
    )


@dataclass(frozen=True)
class UnitFigures:
    credits: float
    share: float | None
    active_users: int
    seated_users: int | None
    active_seated: int | None
    adoption_share: float | None


@dataclass(frozen=True)
class TeamFigures:
    """The report's headline figures (summary.json)."""

    additivity: str
    unit: str
    credits_total: float
    units_credits_sum: float | None  # additive views: every unit's credits sum to credits_total
    seated_users: int
    active_users: int
    active_seated_users: int
    adoption_share: float | None
    units: dict[str, UnitFigures]
    attribution: attribution.AttributionFigures | None  # GitHub teams: what each source placed


def figures(r: Report) -> TeamFigures:
    """The headline figures, once per report (the adoption section compares units with the scope's adoption)."""

    def compute() -> TeamFigures:
        view = team_view(r)
        summary = unit_summary(r)
        seated_ids = view.seated["user_id"].unique()
        seated = seated_ids.len()
        active = view.unit_days.select("user_id").unique().collect()["user_id"]
        active_seated = int(active.is_in(seated_ids.implode()).sum())
        units = summary.filter(pl.col("active_users") >= r.k_min)
        return TeamFigures(
            additivity="additive" if view.additive else "non-additive",
            unit=view.unit,
            credits_total=view.scope_credits,
            units_credits_sum=float(summary["credits"].sum()) if view.additive else None,
            seated_users=seated,
            active_users=active.len(),
            active_seated_users=active_seated,
            adoption_share=active_seated / seated if seated else None,
            units={
                u["unit"]: UnitFigures(
                    credits=u["credits"],
                    share=u["share_of_total"],
                    active_users=u["active_users"],
                    seated_users=u["seated_users"],
                    active_seated=u["active_seated"],
                    adoption_share=u["adoption"],
                )
                for u in units.iter_rows(named=True)
            },
            attribution=None
            if view.additive or view.unit != "team"
            else attribution.attribution_figures(r, r.frame("user_day", columns=USER_DAY)),
        )

    return r.memo("team_distribution.figures", compute)


# ---------------------------------------------------------------------- sections
def headline(r: Report) -> Section:
    """Tiles, the attribution mode and the notes on where units come from."""
    view = team_view(r)
    fig = figures(r)
    adoption = "n/a" if fig.adoption_share is None else f"{fig.adoption_share:.0%}"
    tiles = Tiles(
        (
            Tile("AI credits in period", fmt_num(fig.credits_total)),
            Tile("Seated users", fmt_num(fig.seated_users)),
            Tile("Active users in the period (usage metrics, distinct)", fmt_num(fig.active_users)),
            Tile("Adoption (active seated / seated)", adoption),
            Tile(f"Units shown ({r.k_min}+ active users)", fmt_num(len(fig.units))),
        )
    )
    how = [
        f"Attribution: {view.mode}.",
        *(attribution.attribution_notes(r, fig.attribution) if fig.attribution else []),
    ]
    if r.audience.leadership and fig.attribution:
        # a leader reads one plain sentence; the recipe, the credits each source placed and the backfill
        # parameter are an analyst's matter, kept in the data notes (and in the analyst's section)
        for note in how:
            r.method_note(note)
        how = [attribution.attribution_sentence(fig.attribution)]
    return section(tiles, [*how, *view.warnings], figures=fig)


def spend_story(summary: pl.DataFrame, *, additive: bool, straddle: list[str] | None = None) -> list[str]:
    """The unit that used the most credits and its change versus the previous period (with ``straddle``: the
    sentences naming definition changes between the two periods)."""
    named = summary.filter(~pl.col("unit").str.starts_with("(") & ~pl.col("unit").str.starts_with("other "))
    if named.height == 0:
        return ["No team in this period has k_min or more active users."]
    top = named.row(0, named=True)
    share = "" if top["share_of_total"] is None else f" ({top['share_of_total']:.0%} of the scope's credits)"
    out = [
        f"{top['unit']} used the most credits: {top['credits']:,.0f}{share}, "
        f"{top['credits_per_active_user'] or 0:,.0f} per active user."
    ]
    if "credits_change" in summary.columns and top.get("credits_change") is not None:
        out.append(change_phrase(f"{top['unit']}'s credits", top["credits_change"], "versus the previous period"))
        out += straddle or []
    if not additive:
        out.append("Team figures overlap (users on several teams count in each) and do not add up to the total.")
    return out


def who_spends(r: Report) -> Section:
    """Credits, seats, adoption and active users per unit, the long tail folded."""
    view = team_view(r)
    shown = shown_units(r)
    return section(
        spend_story(
            shown,
            additive=view.additive,
            straddle=github_changes.straddling(r.register, "credits", end=r.end, days=r.days),
        ),
        Chart(charts.unit_credits(shown, additive=view.additive), data=shown, name="credits"),
        Table(shown.select(c for c in SUMMARY_TABLE if c in shown.columns), name="units"),
    )


def level_summary(r: Report, level: str) -> pl.DataFrame:
    """The unit summary one level up (``department`` or ``cost_centre``); needs an organisation map (else empty)."""
    view = team_view(r)
    if not view.additive or level not in view.unit_days.collect_schema().names():
        return pl.DataFrame()
    days = view.unit_days.with_columns(unit=pl.col(level))
    seated = view.seated.with_columns(unit=pl.col(level))
    out = teams.unit_summary(days, seated, scope_credits=view.scope_credits)
    return protect(out, r.audience, group_users="active_users")


def departments(r: Report) -> Section:
    """Department and cost-centre levels of an organisation map (additive)."""
    return section(
        Table(
            level_summary(r, "department"),
            empty="Department and cost-centre levels need an org_map (GitHub has no departments).",
        ),
        Table(level_summary(r, "cost_centre"), empty="No cost-centre level without an org_map."),
    )


def spread_inside(r: Report) -> Section:
    """Distribution of per-user credits inside each unit with k_min or more users."""
    view = team_view(r)
    inside = protect(
        teams.spread(view.unit_days), r.audience, group_users="users", analyst_only=("gini", "top_user_share")
    )
    charted = inside.filter(pl.col("unit").is_in(shown_units(r)["unit"].implode()))
    more = inside.height - charted.height
    note = (
        f"The chart shows the {charted.height} largest units by credits; {more} more are in the table." if more else ""
    )
    table, cut = _long(r, inside, "The table lists")
    return section(spread_story(inside), note, Chart(charts.unit_spread(charted), data=charted), cut, Table(table))


def _named(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of named units: not the "(no team)"-style buckets nor the folded "other N units"."""
    return frame.filter(~pl.col("unit").str.starts_with("(") & ~pl.col("unit").str.starts_with("other "))


def spread_story(inside: pl.DataFrame) -> list[str]:
    """The units whose typical member uses the most and the fewest credits (medians per user)."""
    rated = _named(inside).drop_nulls("median").sort("median", descending=True)
    if rated.height < 2:
        return []
    high, low = rated.row(0, named=True), rated.row(-1, named=True)
    return [
        f"The typical member (median per user) used {high['median']:,.0f} credits in {high['unit']} and "
        f"{low['median']:,.0f} in {low['unit']}, the highest and lowest of {rated.height} units."
    ]


def adoption_table(r: Report) -> pl.DataFrame:
    """Seated and active seated members per unit, with surface use and phase mix (audience rules applied)."""

    def compute() -> pl.DataFrame:
        view = team_view(r)
        return protect(
            teams.adoption(view.unit_days, view.seated, r.frame("seats"), chunk_days=CHUNK_DAYS),
            r.audience,
            group_users="seated_users",
        )

    return r.memo("team_distribution.adoption", compute)


def lagging_units(r: Report) -> pl.DataFrame:
    """The units that need support (:func:`teams.needs_support`), lowest adoption first."""
    return teams.needs_support(
        adoption_table(r),
        scope_adoption=figures(r).adoption_share,
        seat_price_business=r.prices.seat_business,
        seat_price_enterprise=r.prices.seat_enterprise,
    )


def support_story(r: Report, support: pl.DataFrame) -> list[str]:
    if not r.fetched("seats"):
        return ["Adoption needs the seat roster.", r.not_fetched("seats")]
    if support.height == 0:
        return ["No unit's adoption lags: none is under 60% or well below the scope's adoption."]
    idle = int(support["idle_seats"].sum())
    cost = support["idle_seat_cost_month"].drop_nulls()
    worst = support.row(0, named=True)
    named = [
        f"{row['unit']} ({row['active_seated']} of {row['seated_users']} seated members active, {row['adoption']:.0%})"
        for row in support.head(NAMED_MAX).iter_rows(named=True)
    ]
    rest = f" and {support.height - len(named)} more" if support.height > len(named) else ""
    noun = "unit needs" if support.height == 1 else "units need"
    out = [
        f"{support.height} {noun} support: {'; '.join(named)}{rest}, with {idle} idle seats between them. "
        f"Lowest adoption: {worst['unit']}."
    ]
    out.append(
        f"Their idle seats cost about US${cost.sum():,.0f} a month."
        if cost.len()
        else "Set seat_price_business / seat_price_enterprise to price the idle seats."
    )
    return out


NAMED_MAX = 3  # units a sentence names before "and N more" (the table lists them all)


def adoption_lag(r: Report) -> Section:
    """Seated members versus active ones per unit, surface use and phase mix, and the units that need support."""
    adopt = adoption_table(r)
    table, cut = _long(r, adopt.select(ADOPTION_TABLE), "The adoption table lists")
    support = lagging_units(r)
    listed = support.head(FULL_TABLE_MAX)
    more = f"The {FULL_TABLE_MAX} lowest of {support.height} are listed." if support.height > listed.height else ""
    return section(
        cut,
        Table(table, needs=("seats",)),
        support_story(r, support),
        more,
        Table(listed, empty="No unit needs support.", needs=("seats",)),
    )


def value_by_team(r: Report) -> Section:
    """The value report's value-per-credit measures per unit (same functions)."""
    per_user_unit = value.user_totals(team_view(r).unit_days, by=["unit"], chunk_days=CHUNK_DAYS)
    per_team = protect(
        value.output_per_credit(
            per_user_unit,
            by="unit",
            min_credits=float(r.parameters.get("min_credits", 10.0)),
            min_active_days=int(r.parameters.get("min_active_days", 3)),
            iterations=int(r.parameters.get("bootstrap_iterations", 1000)),
            seed=int(r.parameters.get("seed", 7)),
            outputs={"loc_added_sum": "accepted lines"},
        ),
        r.audience,
        group_users="users",
    )
    table, cut = _long(r, per_team.sort("per_100_credits", descending=True, nulls_last=True), "The table lists")
    groups = protect(value.by_group(per_user_unit, group="unit"), r.audience, group_users="users")
    quad = value.quadrant(groups.filter(pl.col("unit").is_in(shown_units(r)["unit"].implode())))
    more = groups.height - quad.height
    note = f"The chart places the {quad.height} largest units by credits ({more} more not drawn)." if more else ""
    return section(
        value_story(per_team),
        cut,
        Table(table, empty="No unit has k_min users above the floors."),
        note,
        Chart(charts.quadrant(quad, label="unit"), data=quad),
    )


def value_story(per_team: pl.DataFrame) -> list[str]:
    """The units with the most and the fewest accepted lines per 100 credits."""
    rated = _named(per_team).drop_nulls("per_100_credits").sort("per_100_credits", descending=True)
    if rated.height < 2:
        return []
    best, worst = rated.row(0, named=True), rated.row(-1, named=True)
    return [
        f"Accepted lines per 100 credits: {best['per_100_credits']:,.1f} in {best['unit']}, the most, and "
        f"{worst['per_100_credits']:,.1f} in {worst['unit']}, the fewest of {rated.height} units."
    ]


def over_time(r: Report) -> Section:
    """Weekly credits of the shown units and the units that moved most (last four weeks against the four before)."""
    weekly = teams.weekly_by_unit(team_view(r).unit_days, units=shown_units(r)["unit"])
    # the movers compare the last four weeks with the four before; the heat map spans the period
    said = github_changes.bearing_on(r.register, ["credits"], start=r.start, end=r.end, what="the weekly credits")
    moved = teams.movers(weekly)
    return section(
        movers_story(moved),
        said,
        Chart(charts.unit_heatmap(weekly, events=r.events_for("credits")), data=weekly),
        github_changes.straddling(r.register, "credits", end=r.end, days=28),
        Table(moved.head(10), empty="Fewer than two weeks of data."),
    )


def movers_story(moved: pl.DataFrame) -> list[str]:
    """The units whose credits rose and fell most, last four weeks against the four before, each with its credits
    before and after (a growth from a small base reads as what it is: +9,514 % was 12 credits becoming 1,154). A
    unit is said to rise only when its credits rose, and to fall only when they fell."""
    rated = _named(moved).drop_nulls("credits_growth").sort("credits_growth", descending=True)
    if rated.height == 0:
        return []

    def move(row: dict[str, Any], verb: str) -> str:
        return (
            f"{row['unit']}'s credits {verb}, from {row['credits_before']:,.0f} to {row['credits_recent']:,.0f} "
            f"({row['credits_growth']:+,.0%})"
        )

    up, down = rated.row(0, named=True), rated.row(-1, named=True)
    said = [move(up, "rose most")] if up["credits_growth"] > 0 else []
    if down["credits_growth"] < 0 and (rated.height > 1 or not said):
        said.append(move(down, "fell most"))
    if not said:
        return [f"Over the last four weeks against the four before, no unit's credits changed ({rated.height} units)."]
    every = " (every unit's rose)" if down["credits_growth"] > 0 and rated.height > 1 else ""
    every = every or (" (every unit's fell)" if up["credits_growth"] < 0 and rated.height > 1 else "")
    return [f"Over the last four weeks against the four before, {' and '.join(said)}{every}."]


__all__ = [
    "FULL_TABLE_MAX",
    "UNITS",
    "TeamFigures",
    "TeamView",
    "UnitFigures",
    "adoption_lag",
    "cost_centre_notes",
    "cost_centre_view",
    "departments",
    "figures",
    "headline",
    "level_summary",
    "mapped_view",
    "over_time",
    "shown_units",
    "spend_story",
    "spread_inside",
    "support_story",
    "team_view",
    "unit_summary",
    "value_by_team",
    "who_spends",
]
