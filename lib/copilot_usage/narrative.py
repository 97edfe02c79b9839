"""Deterministic narrative and headline figures for the reports, built only from computed frames."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from . import github_changes, metrics, store
from .catalog import FIELD_STARTS
from .errors import ConfigError
from .notebook import Report, change_phrase, fmt_num
from .pricing import CREDIT_PRICE_USD


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


def credits_story(daily: pl.DataFrame, end: dt.date, *, register: pl.DataFrame | None = None) -> list[str]:
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
        *_straddling(register, "credits", end=end, days=7),
        f"The busiest day was {peak['day']:%a %d %b} with {peak['credits']:,.0f} credits.",
    ]
    if weekday.len() and weekend.len() and weekday.item():
        out.append(f"A weekend day uses {weekend.item() / weekday.item():.0%} of a weekday's credits.")
    return out


def _straddling(register: pl.DataFrame | None, measure: str, *, end: dt.date, days: int) -> list[str]:
    return [] if register is None else github_changes.straddling(register, measure, end=end, days=days)


def cpu_story(daily: pl.DataFrame, end: dt.date, *, register: pl.DataFrame | None = None) -> list[str]:
    """Week-over-week and 28-day changes of credits per active user, then the definition changes (``register``)
    that fall between the 28-day comparison's periods (which contain the weekly one's)."""
    return [
        change_phrase("credits per active user", _cpu_change(daily, 7, end), "week over week"),
        change_phrase(
            "credits per active user", _cpu_change(daily, 28, end), "over the last 28 days versus the 28 before"
        ),
        *_straddling(register, "credits_per_active_user", end=end, days=28),
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
    joined = (
        last.join(first, on="surface", suffix="_first")
        .with_columns(delta=pl.col("share") - pl.col("share_first"))
        .drop_nulls("delta")
    )
    out = []
    if joined.height:
        grew = joined.sort("delta", descending=True).row(0, named=True)
        out.append(
            f"{grew['surface']} grew most: {grew['share_first']:.0%} → {grew['share']:.0%} of weekly active users "
            f"from the first to the latest week."
        )
    new = last.filter(pl.col("surface").is_in(list(_NEW_SURFACES)) & pl.col("share").is_not_null())
    if new.height:
        listed = ", ".join(f"{r['surface']} {r['share']:.0%}" for r in new.sort("surface").iter_rows(named=True))
        out.append(
            f"Surfaces GitHub added in 2026, share of the latest week's active users: {listed} (the VS Code Agents "
            "window is separate from in-editor agent mode; third-party agents are apps such as Claude or Codex)."
        )
    missing = [s for s in _NEW_SURFACES if s not in set(new["surface"])]
    if missing:
        out.append(f"Not reported in the latest week: {', '.join(missing)} (absent is not zero).")
    return out


_NEW_SURFACES = {
    "Copilot app": FIELD_STARTS["copilot_app_user"],
    "VS Code Agents window": FIELD_STARTS["vscode_agent"],
    "Third-party agents": FIELD_STARTS["third_party_agent"],
}


def no_detail_story(detail: dict[str, int]) -> list[str]:
    """The server-side-only users (:func:`metrics.activity_detail`), said as such; nothing when there are none."""
    n, active = detail.get("no_detail_users", 0), detail.get("active_users", 0)
    if not n or not active:
        return []
    return [
        (
            f"{n:,} of the {active:,} active users ({n / active:.0%}) appear with credits but no activity detail "
            "(GitHub's server-side telemetry since 2026-06-15): they count as active users, but no feature, model, "
            "IDE or surface figure can include them."
        )
    ]


def customisation_story(kinds: pl.DataFrame) -> list[str]:
    """One sentence per kind of CLI customisation (never a total across kinds)."""
    if kinds.height == 0:
        return []
    cli = kinds["cli_users"].max()
    parts = [
        f"{r['label']} {r['users']:,}"
        + (f" ({r['share_of_cli_users']:.0%})" if r["share_of_cli_users"] is not None else "")
        + (f", {r['entities_latest']} in use on the latest day" if r["entities_latest"] is not None else "")
        for r in kinds.iter_rows(named=True)
    ]
    return [
        f"Of {cli:,} CLI users, those who used each kind of customisation: " + "; ".join(parts) + ".",
        (
            "Kinds are not added up: plugins are skills that belong to a plugin (counted under skills too), MCP "
            "counts are connection attempts rather than tool calls, and the numbers in use are GitHub's distinct "
            "counts for the whole scope, not sums over users."
        ),
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


def forecast_story(
    fc: dict[str, Any], *, pool: float | None, period_end: dt.date, label: str, credit_price: float = CREDIT_PRICE_USD
) -> list[str]:
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
                f"; overage at US${credit_price:g} a credit would be about "
                f"US${max(fc['projected'] - pool, 0) * credit_price:,.0f}."
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


# ---------------------------------------------------------------------- value per credit
def included_pool(r: Report, *, promotional: bool = True) -> float | None:
    """The included pool of the scope's seat roster in the month of the period's end (the allowance in force
    then), or None when the roster was not fetched (never 0)."""
    if not r.fetched("seats"):
        return None
    return metrics.included_pool(r.scan("seats"), month=r.end, promotional=promotional)


# ---------------------------------------------------------------------- teams
UNITS = ("team", "department", "cost_centre")


@dataclass
class TeamSources:
    """GitHub's team lists for a report's scope: which scopes' lists the cache holds and what is missing."""

    members: pl.DataFrame  # teams.member_intervals of those lists
    teams: pl.DataFrame  # the team lists (names, parents)
    fetched: list[str]  # scopes whose team lists are in the cache
    missing_orgs: list[str]  # organizations of the scope's seats whose teams were not fetched
    qualify: bool  # label organization teams "org/name" (an enterprise's orgs share slugs)

    @property
    def fetched_orgs(self) -> list[str]:
        return [s.removeprefix("org:") for s in self.fetched if s.startswith("org:")]

    @property
    def enterprise_teams(self) -> bool:
        return any(s.startswith("enterprise:") for s in self.fetched)

    def note(self, scope: str) -> str:
        if not self.fetched:
            return (
                f"No team list was fetched for {scope}: every seat holder is shown as (teams not fetched). "
                f"`copilot-usage fetch {_scope_flag(scope)} --reports teams` fills it."
            )
        listed = ", ".join(
            f"enterprise {s.split(':', 1)[1]} (enterprise teams)"
            if s.startswith("enterprise:")
            else f"organization {s.split(':', 1)[1]}"
            for s in self.fetched
        )
        out = f"Team lists fetched for: {listed}."
        if self.missing_orgs:
            flags = " ".join(f"--org {o}" for o in self.missing_orgs)
            out += (
                f" Not fetched for organization(s) {', '.join(self.missing_orgs)}: their seat holders outside any "
                "fetched team are shown as (teams not fetched), not as team-less, and their teams appear only "
                f"through members' activity (no seats, no adoption). `copilot-usage fetch {flags} --reports teams` "
                "fills them."
            )
        return out


def _scope_flag(scope: str) -> str:
    kind, slug = scope.split(":", 1)
    return f"--{'enterprise' if kind == 'enterprise' else 'org'} {slug}"


def team_sources(r: Report, seated: pl.DataFrame) -> TeamSources:
    """The team lists of every organization in the scope (and, for an enterprise, its enterprise teams)."""
    from . import teams

    lists = r.scan("teams", all_scopes=True).collect()
    members = r.scan("team_members", all_scopes=True).collect()
    if r.scope.startswith("org:"):
        orgs = [r.scope.removeprefix("org:")]
    else:  # the enterprise's organizations: those its seats are granted through, else every org in the cache
        seat_orgs = seated["organization"].drop_nulls().unique().sort().to_list()
        orgs = seat_orgs or sorted(s.removeprefix("org:") for s in lists["scope"].unique() if s.startswith("org:"))
    scopes = ([r.scope] if r.scope.startswith("enterprise:") else []) + [f"org:{o}" for o in orgs]
    lists = lists.filter(pl.col("scope").is_in(scopes))
    members = members.filter(pl.col("scope").is_in(scopes))
    fetched = [s for s in scopes if s in set(lists["scope"].to_list()) | set(members["scope"].to_list())]
    missing = [o for o in seated["organization"].drop_nulls().unique().sort().to_list() if f"org:{o}" not in fetched]
    return TeamSources(
        teams.member_intervals(members), lists, fetched, missing, qualify=r.scope.startswith("enterprise:")
    )


def team_days(r: Report, frame: pl.DataFrame | pl.LazyFrame, sources: TeamSources | None = None) -> pl.DataFrame:
    """User-day rows of ``frame`` attributed to GitHub teams (non-additive) as the team report does."""
    from . import teams

    seated = teams.roster(r.scan("seats"), as_of=r.end)
    src = sources or team_sources(r, seated)
    no_team = teams.no_team_label(seated, src.fetched_orgs, enterprise_teams=src.enterprise_teams)
    days = _lazy_days(frame)
    membership = r.scan_between("user_team_day", days[0], days[1])
    return teams.team_user_days(
        frame,
        membership,
        src.teams,
        members=src.members,
        no_team=no_team,
        default=teams.NO_TEAM if src.fetched else teams.NOT_FETCHED,
        qualify=src.qualify,
    )


def _lazy_days(frame: pl.DataFrame | pl.LazyFrame) -> tuple[dt.date, dt.date]:
    span = frame.lazy().select(lo=pl.col("day").min(), hi=pl.col("day").max()).collect().row(0)
    return (span[0] or dt.date(1970, 1, 1), span[1] or dt.date(1970, 1, 1))


@dataclass
class TeamView:
    """User-day rows attributed to units, the seated users per unit, and the attribution mode."""

    unit_days: pl.DataFrame
    previous: pl.DataFrame
    seated: pl.DataFrame
    additive: bool
    warnings: list[str]
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


def team_view(r: Report, *, org_map: str = "", unit: str = "team") -> TeamView:
    """Attribute the period (and the previous period of the same length) to units.

    ``unit="team"`` without an ``org_map``: GitHub's team membership (non-additive); with one: the map's teams.
    ``unit="department"``: the map's departments (needs ``org_map``). ``unit="cost_centre"``: GitHub's cost
    centres (additive; an ``org_map`` is not used for the units). Any other additive unit plugs in through
    :func:`teams.units_from_mapping` and :func:`mapped_view`.
    """
    from . import teams

    if unit not in UNITS:
        msg = f"unit {unit!r} is not one of {', '.join(UNITS)}"
        raise ConfigError(msg)
    if unit == "cost_centre":
        return cost_centre_view(r)
    if unit == "department" and not org_map:
        msg = "unit='department' needs org_map (a CSV/Parquet of user_login or user_id → team, department)"
        raise ConfigError(msg)
    usage, previous = _period_usage(r)
    seated = teams.roster(r.scan("seats"), as_of=r.end)
    if org_map:
        frame, warnings = teams.load_org_map(org_map, known_users=usage.select("user_id", "user_login").unique())
        mapping = teams.units_from_mapping(frame, unit=unit, source=str(org_map))
        return mapped_view(r, mapping, unit=unit, warnings=warnings)
    src = team_sources(r, seated)
    no_team = teams.no_team_label(seated, src.fetched_orgs, enterprise_teams=src.enterprise_teams)
    default = teams.NO_TEAM if src.fetched else teams.NOT_FETCHED
    unit_days = team_days(r, usage, src)
    prev_days = team_days(r, previous, src) if previous.height else unit_days.clear()
    seated_units = teams.seated_teams(
        seated, src.members, src.teams, as_of=r.end, no_team=no_team, default=default, qualify=src.qualify
    )
    notes = [src.note(r.scope), r.not_fetched("seats", "user_team_day")]
    return TeamView(unit_days, prev_days, seated_units, False, notes, usage["ai_credits_used"].sum())


def mapped_view(
    r: Report,
    mapping: pl.DataFrame,
    *,
    unit: str,
    unassigned: str = "(unmapped)",
    warnings: list[str] | None = None,
) -> TeamView:
    """The additive team view from any user → unit mapping (:func:`teams.units_from_mapping`): each user-day and
    each seated user in exactly one unit; users the mapping does not cover are ``unassigned``."""
    from . import teams

    usage, previous = _period_usage(r)
    seated = teams.roster(r.scan("seats"), as_of=r.end)
    return TeamView(
        teams.map_user_days(usage, mapping, unassigned=unassigned),
        teams.map_user_days(previous, mapping, unassigned=unassigned),
        teams.mapped_seats(seated, mapping, as_of=r.end, unassigned=unassigned),
        True,
        [*(warnings or []), r.not_fetched("seats")],
        usage["ai_credits_used"].sum(),
        unit,
    )


def cost_centre_view(r: Report) -> TeamView:
    """The additive view by GitHub cost centre (``cost_center_members``, effective-dated by snapshot); users in
    none are ``(no cost centre)``; the notes say where the membership comes from and what it could not place."""
    from . import cost_centers, teams

    members = r.scan("cost_center_members", all_scopes=True).collect()
    mapping = teams.units_from_mapping(cost_centers.mapping(members), unit="unit", source="GitHub's cost centres")
    return mapped_view(
        r, mapping, unit="cost_centre", unassigned=cost_centers.NO_COST_CENTRE, warnings=cost_centre_notes(r, members)
    )


def cost_centre_notes(r: Report, members: pl.DataFrame) -> list[str]:
    """Where cost-centre membership comes from, what it could not place and what is not fetched."""
    if members.height == 0 and not r.fetched("cost_centers"):
        r.missing["cost_centers"] = "cost-centers"
        return [
            "GitHub's cost centres were not fetched: every user is shown as (no cost centre). They need the billing "
            "token (a classic PAT with manage_billing:enterprise): `copilot-usage fetch --enterprise SLUG --reports "
            "cost-centers` fills them."
        ]
    centres = r.scan("cost_centers", all_scopes=True).collect()
    resources = r.scan("cost_center_resources", all_scopes=True).collect()
    newest = centres["snapshot_day"].max()
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


CHARGEBACK_SCHEMA = {
    "cost_centre": pl.String,
    "active_users": pl.Int64,
    "credits": pl.Float64,
    "list_usd": pl.Float64,
    "share_of_credits": pl.Float64,
    "billed_gross_credits": pl.Float64,
    "billed_net_usd": pl.Float64,
    "share_of_bill": pl.Float64,
    "pool_target_credits": pl.Float64,
    "pool_current_credits": pl.Float64,
    "pool_projected_credits": pl.Float64,
    "pool_projected_exhaustion": pl.Date,
}


def chargeback(r: Report, bills: pl.DataFrame, *, price: float = CREDIT_PRICE_USD) -> tuple[pl.DataFrame, str]:
    """The month's chargeback per GitHub cost centre (month of the report's end; see
    :func:`cost_centers.chargeback`), with each AI-credit pool's projected exhaustion at the current pace
    (:func:`budgets.projection` on the cost centre's own credits), and a note; empty with the fetch command when
    cost centres were not fetched."""
    from . import budgets, cost_centers, teams

    members = r.scan("cost_center_members", all_scopes=True).collect()
    if members.height == 0 and not r.fetched("cost_centers"):
        return pl.DataFrame(schema=CHARGEBACK_SCHEMA), cost_centre_notes(r, members)[0]
    month, last = r.end.replace(day=1), month_end(r.end)
    mapping = teams.units_from_mapping(cost_centers.mapping(members), unit="unit", source="GitHub's cost centres")
    first = min(month, r.end - dt.timedelta(days=59))
    days = teams.map_user_days(
        r.scan_between("user_day", first, r.end).collect(), mapping, unassigned=cost_centers.NO_COST_CENTRE
    )
    centres = r.scan("cost_centers", all_scopes=True).collect()
    snapshot = centres["snapshot_day"].max()
    newest = centres.filter(pl.col("snapshot_day") == snapshot)
    in_month = bills.filter(pl.col("day").is_between(month, last))
    table = cost_centers.chargeback(days.filter(pl.col("day") >= month), in_month, newest, price=price)
    grid = pl.DataFrame({"day": pl.date_range(first, r.end, eager=True)})
    projected = []
    pooled = table.filter(pl.col("pool_target_credits").is_not_null())
    # a pool is of the month of its snapshot (it resets on the 1st): projected over that month
    pool_month = snapshot.replace(day=1) if isinstance(snapshot, dt.date) else month
    for row in pooled.iter_rows(named=True):  # the few cost centres with a pool
        daily = grid.join(
            days.filter(pl.col("unit") == row["cost_centre"])
            .group_by("day")
            .agg(credits=pl.col("ai_credits_used").sum()),
            on="day",
            how="left",
        ).with_columns(pl.col("credits").fill_null(0.0))
        p = budgets.projection(
            daily,
            target=row["pool_target_credits"],
            consumed=row["pool_current_credits"],
            consumed_through=max(snapshot - dt.timedelta(days=1), pool_month),
            as_of=r.end,
            period_start=pool_month,
            period_end=month_end(pool_month),
        )
        projected.append(
            {
                "cost_centre": row["cost_centre"],
                "pool_projected_credits": p["projected"],
                "pool_projected_exhaustion": p["exhausted_on"],
            }
        )
    proj = pl.DataFrame(
        projected,
        schema={
            k: CHARGEBACK_SCHEMA[k] for k in ("cost_centre", "pool_projected_credits", "pool_projected_exhaustion")
        },
    )
    table = table.join(proj, on="cost_centre", how="left").select(list(CHARGEBACK_SCHEMA))
    shown = r.protect(table, group_users="active_users")
    billed = table["billed_gross_credits"].drop_nulls().len() > 0
    note = (
        f"Chargeback for {month:%B %Y} (metrics to {r.end}; cost centres as of {snapshot}): "
        f"{table.height} units whose credits sum to the scope's {table['credits'].sum():,.0f}. "
        + (
            "Billed figures come from GitHub's usage-report CSV (cost_center_name)."
            if billed
            else "Billed per cost centre needs GitHub's usage-report CSV, which names each line's cost centre "
            f"(`copilot-usage import FILE.csv --scope {r.scope}`); the billing API's totals do not."
        )
    )
    if pooled.height and pool_month != month:
        note += (
            f" The AI-credit pools are of {pool_month:%B %Y} (as of {snapshot}); their run-out is projected over that "
            "month from the cost centre's recent pace."
        )
    if shown.height < table.height:
        note += f" {table.height - shown.height} cost centre(s) under k_min active users are not shown."
    r.record(
        cost_centres=[
            {
                "cost_centre": c["cost_centre"],
                "credits": c["credits"],
                "list_usd": c["list_usd"],
                "billed_net_usd": c["billed_net_usd"],
                "pool_target_credits": c["pool_target_credits"],
                "pool_current_credits": c["pool_current_credits"],
                "pool_projected_exhaustion_date": c["pool_projected_exhaustion"],
            }
            for c in shown.iter_rows(named=True)
        ]
    )
    return shown, note


BUDGET_TABLE_SCHEMA = {
    "budget_id": pl.String,
    "budget_scope": pl.String,
    "entity": pl.String,
    "target_usd": pl.Float64,
    "consumed_usd": pl.Float64,
    "projected_usd": pl.Float64,
    "projected_low_usd": pl.Float64,
    "projected_high_usd": pl.Float64,
    "projected_exhaustion_date": pl.Date,
    "blocks": pl.Boolean,
    "users_over_80pct": pl.Int64,
    "users_over_100pct": pl.Int64,
    "attribution": pl.String,
}


def _budget_daily(
    r: Report, kind: str, entity: str, recent: pl.DataFrame, by_centre: pl.DataFrame | None
) -> tuple[pl.DataFrame | None, str]:
    """The metrics' user-days of a budget's scope (None: the kit cannot attribute it) and how they were chosen."""
    slug = r.scope.split(":", 1)[1]
    if kind == "enterprise" and r.scope.startswith("enterprise:"):
        return recent, "the enterprise's metrics"
    if kind == "organization":
        if r.scope == f"org:{entity}":
            return recent, "the organization's metrics"
        try:
            first = recent["day"].min() or r.end
            org = store.scan(r.data_dir, "user_day", scope=f"org:{entity}", start=first, end=r.end).collect()
        except FileNotFoundError:
            org = recent.clear()
        if org.height:
            return org, f"organization {entity}'s metrics (its members in every org they belong to)"
        return None, f"the metrics of organization {entity} are not in the cache (`fetch --org {entity}`)"
    if kind == "cost_center":
        if by_centre is None:
            return None, "cost centres were not fetched (`fetch --reports cost-centers`)"
        return by_centre.filter(pl.col("unit") == entity), f"the metrics of cost centre {entity}'s members"
    if kind == "user":
        return recent.filter(pl.col("user_login").str.to_lowercase() == entity.lower()), "the user's metrics"
    if kind == "enterprise":
        return None, f"an enterprise budget: the {slug} report holds one organization's metrics"
    return None, f"the kit cannot attribute a {kind} budget to metrics"


def budget_table(r: Report) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """The scope's budgets from the newest snapshot: target, consumed this month (GitHub's figure), projected
    consumption at month end (the trends forecast restricted to the budget's scope, with its 80 % interval, added
    to what was consumed), projected exhaustion date (null when it will not run out), whether it blocks, and for
    per-user budgets how many users are above 80 % and 100 % of their target. Returns the table, the per-user
    states above 80 % (analysts) and a note; empty tables with the fetch command when budgets were not fetched."""
    from . import budgets, cost_centers, teams

    frame = r.scan("budgets").collect()
    states_all = r.scan("budget_user_states").collect()
    empty_states = pl.DataFrame(
        schema={
            "budget": pl.String,
            "user_login": pl.String,
            "consumed_amount": pl.Float64,
            "target_amount": pl.Float64,
            "share": pl.Float64,
        }
    )
    if frame.height == 0:
        kind, slug = r.scope.split(":", 1)
        flag = f"--{'enterprise' if kind == 'enterprise' else 'org'} {slug}"
        r.missing["budgets"] = "budgets"
        return (
            pl.DataFrame(schema=BUDGET_TABLE_SCHEMA),
            empty_states,
            f"Budgets were not fetched for {r.scope}. They need the billing token (a classic PAT with "
            f"manage_billing:enterprise, or manage_billing:copilot for a standalone org): `copilot-usage fetch {flag} "
            "--reports budgets` fills this section.",
        )
    snapshot = frame["snapshot_day"].max()
    assert isinstance(snapshot, dt.date)
    frame = frame.filter(pl.col("snapshot_day") == snapshot)
    states = states_all.filter(pl.col("snapshot_day") == snapshot).with_columns(
        share=pl.col("consumed_amount") / pl.col("target_amount")
    )
    start, end = snapshot.replace(day=1), month_end(snapshot)
    through = max(snapshot - dt.timedelta(days=1), start)
    first = r.end - dt.timedelta(days=59)
    recent = r.scan_between("user_day", first, r.end).collect()
    members = r.scan("cost_center_members", all_scopes=True).collect()
    by_centre = None
    if members.height:
        mapping = teams.units_from_mapping(cost_centers.mapping(members), unit="unit", source="GitHub's cost centres")
        by_centre = teams.map_user_days(recent, mapping, unassigned=cost_centers.NO_COST_CENTRE)
    grid = pl.DataFrame({"day": pl.date_range(first, r.end, eager=True)})
    per_budget = states.group_by("budget_id").agg(
        users_over_80pct=(pl.col("share") >= 0.8).sum().cast(pl.Int64),
        users_over_100pct=(pl.col("share") >= 1.0).sum().cast(pl.Int64),
    )
    rows = []
    for b in frame.iter_rows(named=True):  # a budget each: a handful, each its own forecast
        kind, entity = b["scope_kind"] or "", b["budget_entity_name"] or ""
        target = None if b["budget_amount"] is None else b["budget_amount"] * cost_centers.CREDITS_PER_USD
        consumed = None if b["consumed_amount"] is None else b["consumed_amount"] * cost_centers.CREDITS_PER_USD
        p: dict[str, Any] = {"projected": None, "low": None, "high": None, "exhausted_on": None}
        if kind.startswith("multi_user"):
            how = "per user: see the users above 80 % and 100 % of their target"
        elif not b["known_scope"]:
            how = f"a budget scope the kit does not know ({b['budget_scope']}): kept, reported as drift"
        else:
            days, how = _budget_daily(r, kind, entity, recent, by_centre)
            if days is not None:
                daily = grid.join(
                    days.group_by("day").agg(credits=pl.col("ai_credits_used").sum()), on="day", how="left"
                ).with_columns(pl.col("credits").fill_null(0.0))
                p = budgets.projection(
                    daily,
                    target=target,
                    consumed=consumed,
                    consumed_through=through,
                    as_of=r.end,
                    period_start=start,
                    period_end=end,
                )
        usd = {
            k: None if p[k] is None else round(p[k] / cost_centers.CREDITS_PER_USD, 2)
            for k in ("projected", "low", "high")
        }
        rows.append(
            {
                "budget_id": b["budget_id"],
                "budget_scope": b["budget_scope"],
                "entity": "(one user)" if kind == "user" and r.audience == "leadership" else entity,
                "target_usd": b["budget_amount"],
                "consumed_usd": b["consumed_amount"],
                "projected_usd": usd["projected"],
                "projected_low_usd": usd["low"],
                "projected_high_usd": usd["high"],
                "projected_exhaustion_date": p["exhausted_on"],
                "blocks": b["prevent_further_usage"],
                "attribution": how,
            }
        )
    table = (
        pl.DataFrame(rows, schema={k: v for k, v in BUDGET_TABLE_SCHEMA.items() if not k.startswith("users_")})
        .join(per_budget, on="budget_id", how="left")
        .select(list(BUDGET_TABLE_SCHEMA))
    )
    r.record(
        budgets=[
            {
                "id": t["budget_id"],
                "scope": t["budget_scope"],
                "entity": t["entity"],
                "target_usd": t["target_usd"],
                "consumed_usd": t["consumed_usd"],
                "projected_usd": t["projected_usd"],
                "projected_exhaustion_date": t["projected_exhaustion_date"],
                "blocks": t["blocks"],
            }
            for t in table.iter_rows(named=True)
        ]
    )
    running_out = table.filter(pl.col("projected_exhaustion_date").is_not_null())
    note = (
        f"{table.height} budget(s) of {r.scope} as of {snapshot} (month {start:%B %Y}, consumed through {through}); "
        f"{int(table['blocks'].fill_null(False).sum())} block further usage when reached. "
        f"{running_out.height} run out before the month ends at the current pace"
        + (
            ": "
            + ", ".join(
                f"{t['entity']} on {t['projected_exhaustion_date']:%d %b}" for t in running_out.iter_rows(named=True)
            )
            if running_out.height
            else ""
        )
        + ". Consumed is GitHub's figure; the projection adds the trends forecast of the budget's scope (80 % interval)."
    )
    over = states.filter(pl.col("share") >= 0.8).join(
        frame.select("budget_id", budget="budget_entity_name"), on="budget_id", how="left"
    )
    return (
        table.drop("budget_id").with_columns(
            blocks=pl.when(pl.col("blocks")).then(pl.lit("yes")).when(~pl.col("blocks")).then(pl.lit("no"))
        ),
        over.select("budget", "user", "consumed_amount", "target_amount", "share").rename({"user": "user_login"}),
        note,
    )


def _period_usage(r: Report) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The period's user-days and the previous period's (empty when the cache does not hold all of it)."""
    length = r.end - r.start
    prev_end = r.start - dt.timedelta(days=1)
    usage = r.scan("user_day").collect()
    first = (
        store.scan(r.data_dir, "data_health", scope=r.scope)
        .filter((pl.col("report") == "users-1-day") & (pl.col("status") == "complete"))
        .select(pl.col("day").min())
        .collect()
    )
    covered = first.item() is not None and first.item() <= prev_end - length
    # a previous period the cache only partly holds would show growth that is only missing data: compare none
    previous = r.scan_between("user_day", prev_end - length, prev_end).collect()
    return usage, previous if covered else previous.clear()


def department_summary(r: Report, view: TeamView, *, level: str = "department") -> pl.DataFrame:
    """The unit summary one level up (``department`` or ``cost_centre``); needs an organisation map (else empty)."""
    from . import teams

    if not view.additive or level not in view.unit_days.columns:
        return pl.DataFrame()
    days = view.unit_days.with_columns(unit=pl.col(level))
    seated = view.seated.with_columns(unit=pl.col(level))
    out = teams.unit_summary(days, seated, scope_credits=view.scope_credits)
    return r.protect(out, group_users="active_users")


def team_headline(r: Report, view: TeamView, summary: pl.DataFrame) -> None:
    total = view.scope_credits
    seated_ids = view.seated["user_id"].unique()
    seated = seated_ids.len()
    active = view.unit_days["user_id"].n_unique()
    active_seated = view.unit_days.filter(pl.col("user_id").is_in(seated_ids.implode()))["user_id"].n_unique()
    adoption = active_seated / seated if seated else None
    units = summary.filter(pl.col("active_users") >= r.k_min)
    r.record(
        additivity="additive" if view.additive else "non-additive",
        unit=view.unit,
        credits_total=total,
        # additive views: every unit's credits (all of them, not only those shown) sum to credits_total
        units_credits_sum=float(summary["credits"].sum()) if view.additive else None,
        seated_users=seated,
        active_users=active,
        active_seated_users=active_seated,
        adoption_share=adoption,
        units={
            u["unit"]: {
                "credits": u["credits"],
                "share": u["share_of_total"],
                "active_users": u["active_users"],
                "seated_users": u["seated_users"],
                "active_seated": u["active_seated"],
                "adoption_share": u["adoption"],
            }
            for u in units.iter_rows(named=True)
        },
    )
    r.tiles(
        [
            ("AI credits in period", fmt_num(total), None),
            ("Seated users", fmt_num(seated), None),
            ("Active users (distinct)", fmt_num(active), None),
            ("Adoption (active seated / seated)", "n/a" if adoption is None else f"{adoption:.0%}", None),
            ("Units shown (≥ k_min users)", fmt_num(units.height), None),
        ]
    )
    r.say(f"Attribution: {view.mode}.", *view.warnings)


def team_spend_story(summary: pl.DataFrame, *, additive: bool) -> list[str]:
    named = summary.filter(~pl.col("unit").str.starts_with("("))
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
    if not additive:
        out.append("Team figures overlap (users on several teams count in each) and do not add up to the total.")
    return out


def support_story(r: Report, support: pl.DataFrame) -> list[str]:
    if not r.fetched("seats"):
        return ["Adoption needs the seat roster.", r.not_fetched("seats")]
    if support.height == 0:
        return ["No unit's adoption lags: none is under 60% or well below the scope's adoption."]
    idle = int(support["idle_seats"].sum())
    cost = support["idle_seat_cost_month"].drop_nulls()
    worst = support.row(0, named=True)
    out = [
        f"{support.height} units need support: {idle} idle seats between them. Lowest adoption: {worst['unit']}, "
        f"{worst['active_seated']} of {worst['seated_users']} seated members active ({worst['adoption']:.0%})."
    ]
    out.append(
        f"Their idle seats cost about US${cost.sum():,.0f} a month."
        if cost.len()
        else "Set seat_price_business / seat_price_enterprise to price the idle seats."
    )
    return out


# ---------------------------------------------------------------------- spend
BILLING_SCHEMA = {
    "scope": pl.String,
    "day": pl.Date,
    "user": pl.String,
    "organization": pl.String,
    "cost_center": pl.String,
    "product": pl.String,
    "sku": pl.String,
    "model": pl.String,
    "unit_type": pl.String,
    "price_per_unit": pl.Float64,
    "quantity": pl.Float64,
    "credits": pl.Float64,
    "is_ai_credit": pl.Boolean,
    "gross_amount": pl.Float64,
    "discount_amount": pl.Float64,
    "net_amount": pl.Float64,
    "source": pl.String,
}


def billing(r: Report) -> tuple[pl.DataFrame, str]:
    """Billing rows for the scope up to yesterday (API items and imported usage-report CSV) and a note saying
    where they come from — or, when there are none, what is missing and why (the frame is then empty)."""
    try:
        frame = r.scan_between("billing_usage", r.start, r.end + dt.timedelta(days=7)).collect()
    except FileNotFoundError:
        return pl.DataFrame(schema=BILLING_SCHEMA), (
            "No billing data in the cache. Billing needs its own token (COPILOT_BILLING_TOKEN: a classic PAT with "
            "manage_billing:enterprise, or manage_billing:copilot for a standalone org; organizations billed "
            f"through an enterprise answer 404), or import GitHub's usage-report CSV with `copilot-usage import "
            f"FILE.csv --scope {r.scope}`. Every metrics-only section below is complete."
        )
    if frame.height == 0:
        return frame, f"The billing data in the cache has no row for {r.scope} from {r.start}."
    sources = ", ".join(sorted(frame["source"].unique().to_list()))
    return frame, f"Billing rows: {frame.height:,} ({sources})."


def billing_users(r: Report) -> tuple[pl.DataFrame, str]:
    """Per-user billing of the months the report touches (``fetch --reports billing-users``) and a note saying
    what it is — or, when there is none, how to get it (the frame is then empty)."""
    try:
        frame = r.scan_between("billing_user_month", r.start, r.end).collect()
    except FileNotFoundError:
        return pl.DataFrame(schema=store.BILLING_USER_MONTH_SCHEMA), (
            "Billing was not asked per user. `copilot-usage fetch --reports billing-users` asks it once per seat "
            "holder and month (one API call each); GitHub's usage-report CSV, imported, gives users per day."
        )
    if frame.height == 0:
        return frame, f"The per-user billing in the cache has no month for {r.scope} from {r.start}."
    months = frame["month"].unique().sort()
    users = frame["user_asked"].n_unique()
    return frame, (
        f"Billing asked per user: {users:,} seat holders, {months.len()} month(s) from {months[0]:%B %Y}. "
        "A month's bill that no asked user accounts for is the unattributed rest."
    )


def month_bills(r: Report) -> pl.DataFrame:
    """Billing rows of whole months, from the first of the report's first month (for per-month totals)."""
    try:
        return r.scan_between("billing_usage", r.start.replace(day=1), month_end(r.end)).collect()
    except FileNotFoundError:
        return pl.DataFrame(schema=BILLING_SCHEMA)


def recent_daily(r: Report, *, days: int) -> pl.DataFrame:
    """Daily activity of the ``days`` days ending at the report's end (history for forecasts)."""
    first = r.end - dt.timedelta(days=days - 1)
    return metrics.daily_activity(r.scan_between("user_day", first, r.end), start=first, end=r.end)


def reconcile_story(days: pl.DataFrame, users: pl.DataFrame) -> list[str]:
    if days.height == 0:
        return []
    over = days.filter(pl.col("over_tolerance"))
    out = [f"{days.height} days compared; {over.height} differ by more than the tolerance."]
    causes = over.group_by("cause").len().sort("len", descending=True)
    out += [f"{n} day(s): {c}." for c, n in causes.iter_rows()]
    if users.height:
        out.append(f"Per user: {users.height} user-days differ, listed below with their likely cause.")
    return out


def user_differences(r: Report, users: pl.DataFrame, *, unit: str = "user_days") -> pl.DataFrame:
    """Analysts see the user-days (or user-months); leadership sees counts per cause (no logins)."""
    if r.audience == "analyst":
        return r.protect(users, user_column="user_login")
    return (
        users.group_by("cause")
        .agg(pl.len().alias(unit), users=pl.col("user_login").n_unique(), difference=pl.col("difference").sum())
        .sort(unit, descending=True)
    )


def spend_headline(
    r: Report,
    *,
    metrics_mtd: float,
    billing_frame: pl.DataFrame,
    pool: float,
    fc: dict[str, Any],
    idle: pl.DataFrame,
    days: pl.DataFrame,
) -> None:
    month = r.end.replace(day=1)
    billed = (
        None if billing_frame.height == 0 else billing_frame.filter((pl.col("day") >= month) & pl.col("is_ai_credit"))
    )
    gross = None if billed is None else float(billed["credits"].sum())
    net = None if billed is None else float(billed["net_amount"].drop_nulls().sum())
    idle_cost = float(idle.filter(pl.col("reassignable"))["monthly_cost"].sum())
    status = (
        "no billing data"
        if days.height == 0
        else ("reconciled" if not days["over_tolerance"].any() else f"{int(days['over_tolerance'].sum())} days differ")
    )
    r.record(
        month=month,
        metrics_credits_mtd=metrics_mtd,
        billed_gross_credits_mtd=gross,
        billed_net_usd_mtd=net,
        included_pool=pool,
        pool_used_share=metrics_mtd / pool if pool else None,
        projected_month_credits=fc["projected"],
        projected_low=fc["low"],
        projected_high=fc["high"],
        projected_exhaustion_date=fc["exhausted_on"],
        idle_seat_cost_month=idle_cost,
        reassignable_seats=int(idle["reassignable"].sum()),
        reconciliation=status,
    )
    r.tiles(
        [
            ("Credits this month (metrics)", fmt_num(metrics_mtd), None),
            ("Billed gross credits this month", fmt_num(gross), None),
            ("Billed net this month (US$)", "n/a" if net is None else f"${net:,.0f}", None),
            ("Included pool used", "n/a" if not pool else f"{metrics_mtd / pool:.0%}", None),
            ("Pool runs out", "not this month" if fc["exhausted_on"] is None else f"{fc['exhausted_on']:%d %b}", None),
            ("Reassignable seats", fmt_num(int(idle["reassignable"].sum())), None),
            ("Reconciliation", status, None),
        ]
    )


def idle_story(idle: pl.DataFrame, *, priced: bool) -> list[str]:
    if idle.height == 0:
        return ["No seat roster in the cache (`copilot-usage fetch --reports seats` fetches it)."]
    counts = dict(idle.group_by("status").len().iter_rows())
    unused = idle.filter(pl.col("reassignable"))
    out = [", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f" out of {idle.height} licensed users."]
    out.append(
        f"The {unused.height} reassignable seats cost US${unused['monthly_cost'].sum():,.0f} a month."
        if priced
        else "Set seat_price_business / seat_price_enterprise to price them (no list price is assumed)."
    )
    return out
