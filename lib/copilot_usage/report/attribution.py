"""Users → GitHub teams for one report: where the scope's team lists come from and the user-day attribution,
shared by the team distribution and value per credit reports (one definition, so both attribute alike).

Membership is non-additive: a user on several teams counts in each, nested teams roll up through their parents.
GitHub's daily ``user-teams`` rows come first; member lists fill the teams GitHub leaves out, each from its
snapshot day on; the days before the first list are placed by it only with the ``backfill_members`` parameter,
and :func:`attribution_figures` says what each source placed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from ..analysis import metrics, teams
from .context import Report

USER_TEAM_DAY = ("scope", "day", "user_id", "team_id", "slug")  # the columns the attribution reads


@dataclass(frozen=True)
class TeamSources:
    """GitHub's team lists for a report's scope: which scopes' lists the cache holds and what is missing."""

    members: pl.DataFrame  # teams.member_intervals of those lists
    teams: pl.DataFrame  # the team lists (names, parents)
    fetched: tuple[str, ...]  # scopes whose team lists are in the cache
    missing_orgs: tuple[str, ...]  # organizations of the scope's seats whose teams were not fetched
    qualify: bool  # label organization teams "org/name" (an enterprise's orgs share slugs)

    @property
    def not_fetched(self) -> str:
        """The one line for users and teams of organizations whose team lists were not fetched."""
        return teams.not_fetched_label(self.missing_orgs)

    @property
    def fetched_orgs(self) -> list[str]:
        return [s.removeprefix("org:") for s in self.fetched if s.startswith("org:")]

    @property
    def enterprise_teams(self) -> bool:
        return any(s.startswith("enterprise:") for s in self.fetched)

    def note(self, r: Report) -> str:
        if not self.fetched:
            return (
                f"No team list was fetched for {r.scope}: every seat holder is shown as (teams not fetched). "
                f"`copilot-usage fetch {r.scope_flag} --reports teams` fills it."
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
                f"fetched team and the activity of their teams are one line, {self.not_fetched} (the kit cannot "
                f"name or seat those teams). `copilot-usage fetch {flags} --reports teams` fills them."
            )
        return out


def seated(r: Report) -> pl.DataFrame:
    return r.memo("attribution.seated", lambda: teams.roster(r.frame("seats"), as_of=r.end))


def sources(r: Report) -> TeamSources:
    """The team lists of every organization in the scope (and, for an enterprise, its enterprise teams)."""
    return r.memo("attribution.sources", lambda: _sources(r))


def _sources(r: Report) -> TeamSources:
    roster = seated(r)
    lists = r.frame("teams", all_scopes=True)
    members = r.frame("team_members", all_scopes=True)
    if r.scope.startswith("org:"):
        orgs = [r.scope.removeprefix("org:")]
    else:  # the enterprise's organizations: those its seats are granted through, else every org in the cache
        seat_orgs = roster["organization"].drop_nulls().unique().sort().to_list()
        orgs = seat_orgs or sorted(s.removeprefix("org:") for s in lists["scope"].unique() if s.startswith("org:"))
    scopes = ([r.scope] if r.scope.startswith("enterprise:") else []) + [f"org:{o}" for o in orgs]
    lists = lists.filter(pl.col("scope").is_in(scopes))
    members = members.filter(pl.col("scope").is_in(scopes))
    held = set(lists["scope"].to_list()) | set(members["scope"].to_list())
    fetched = tuple(s for s in scopes if s in held)
    missing = tuple(
        o for o in roster["organization"].drop_nulls().unique().sort().to_list() if f"org:{o}" not in fetched
    )
    return TeamSources(
        teams.member_intervals(members), lists, fetched, missing, qualify=r.scope.startswith("enterprise:")
    )


def team_days(r: Report, frame: pl.DataFrame, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """User-day rows of ``frame`` (days ``start``…``end``, the report's period by default) attributed to GitHub
    teams (non-additive), with a ``unit`` column."""
    return team_days_query(r, frame, start, end).collect()


def backfill(r: Report) -> bool:
    """Whether the first member list also places the days before it (``backfill_members``; off by default: the
    list was taken later, so it is an assumption about those days)."""
    return bool(r.parameters.get("backfill_members", False))


MEMBERSHIP_DAYS = 7  # the attribution is made a week at a time: its joins never hold a month at once


def memberships(r: Report, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """``day, user_id, unit, unit_id, attributed_by``: every user-day of the scope's ``user_day`` in ``start``…``end`` (the
    period by default) with each of its teams (GitHub's daily team rows and member lists, nested teams rolled up;
    the no-team label when it has none). Computed once per report, :data:`MEMBERSHIP_DAYS` at a time (at 100,000
    seats a month's attribution joins hold a gigabyte; the result is a few bytes per user-day and team)."""
    first, last = start or r.start, end or r.end
    return r.memo(f"attribution.memberships {first} {last}", lambda: _memberships(r, first, last))


def _memberships(r: Report, first: dt.date, last: dt.date) -> pl.DataFrame:
    src = sources(r)
    no_team = teams.no_team_label(
        seated(r), src.fetched_orgs, enterprise_teams=src.enterprise_teams, not_fetched=src.not_fetched
    )
    rows = r.scan_between("user_team_day", first, last, columns=USER_TEAM_DAY)
    slugs = rows.group_by("team_id").agg(pl.col("slug").sort_by("day").last()).collect().lazy()  # the period's
    parts = []
    for lo, hi in metrics.day_ranges(first, last, MEMBERSHIP_DAYS):  # a few chunks a report, each its own joins
        keys = r.scan_between("user_day", lo, hi, columns=("scope", "day", "user_id")).unique()
        part = teams.team_user_days_query(
            keys,
            r.scan_between("user_team_day", lo, hi, columns=USER_TEAM_DAY),
            src.teams,
            members=src.members,
            no_team=no_team,
            default=teams.NO_TEAM if src.fetched else src.not_fetched,
            qualify=src.qualify,
            slugs=slugs,
            backfill=backfill(r),
            unknown=src.not_fetched if src.missing_orgs else None,
        )
        parts.append(part.select("day", "user_id", "unit", "unit_id", "attributed_by").collect())
    schema = {"day": pl.Date, "user_id": pl.Int64, "unit": pl.String, "unit_id": pl.Int64, "attributed_by": pl.String}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def team_days_query(
    r: Report, frame: pl.DataFrame | pl.LazyFrame, start: dt.date | None = None, end: dt.date | None = None
) -> pl.LazyFrame:
    """:func:`team_days` as a lazy query, for a section that aggregates the attributed rows: ``frame``'s user-days
    (of this report's scope, in ``start``…``end``) joined to their teams (:func:`memberships`)."""
    return frame.lazy().join(memberships(r, start, end).lazy(), on=["day", "user_id"], how="inner")


@dataclass(frozen=True)
class AttributionFigures:
    """What each source placed in the period (summary.json ``attribution``): credits summed over (user-day,
    team) rows of teams, as the team table adds them (a user-day on two teams counts in each)."""

    first_member_list_day: str | None  # the first team-member snapshot of the scope's lists (ISO date)
    credits_by_github_daily_rows: float  # GitHub's recipe: user-teams-1-day joined to users-1-day
    credits_by_member_lists: float  # teams the daily file leaves out, from each list's snapshot day on
    credits_before_first_member_list: float  # the first list carried back (0 unless backfill_members)
    before_first_member_list: str  # "placed (assumption)" or "left out"


def attribution_figures(r: Report, frame: pl.DataFrame | pl.LazyFrame) -> AttributionFigures:
    """The credits of ``frame`` (the period's user-days) by how their teams were known."""
    src = sources(r)
    listed = src.members.filter(~pl.col("assumed")) if src.members.height else src.members
    first = listed["valid_from"].min() if listed.height else None
    by = dict(
        team_days_query(r, frame.lazy().select("day", "user_id", "ai_credits_used"))
        .filter(pl.col("attributed_by").is_not_null())
        .group_by("attributed_by")
        .agg(pl.col("ai_credits_used").sum())
        .collect()
        .iter_rows()
    )
    return AttributionFigures(
        first_member_list_day=first.isoformat() if isinstance(first, dt.date) else None,
        credits_by_github_daily_rows=float(by.get(teams.BY_GITHUB) or 0.0),
        credits_by_member_lists=float(by.get(teams.BY_MEMBER_LISTS) or 0.0),
        credits_before_first_member_list=float(by.get(teams.BY_FIRST_LIST_BACKWARDS) or 0.0),
        before_first_member_list="placed (assumption)" if backfill(r) else "left out",
    )


def attribution_notes(r: Report, fig: AttributionFigures) -> list[str]:
    """The sentences saying how teams were attributed and what the member lists added."""
    out = [
        "Team credits follow GitHub's recipe (https://docs.github.com/en/copilot/reference/copilot-usage-metrics/"
        f"team-level-metrics): GitHub's daily team rows place {fig.credits_by_github_daily_rows:,.0f} credits "
        "(summed over teams). Member lists fill the teams GitHub's daily file leaves out (under 5 seated users, or "
        f"days not fetched), each from its snapshot day on: {fig.credits_by_member_lists:,.0f} credits."
    ]
    first = fig.first_member_list_day
    if first is None or first <= r.start.isoformat():
        return out
    if backfill(r):
        out.append(
            f"Assumption: the first member list ({first}) also places the days before it, "
            f"{fig.credits_before_first_member_list:,.0f} credits of teams GitHub's daily file does not list; "
            "members may have joined or moved since, so part of these credits may belong to other teams. "
            "Set backfill_members=False to leave them out."
        )
    else:
        out.append(
            f"Before the first member list ({first}) only GitHub's daily rows place activity: teams they leave out "
            "show none then. backfill_members=True places those days by that list (an assumption)."
        )
    return out


def attribution_sentence(fig: AttributionFigures) -> str:
    """For a leader, one sentence: what share of team credits came from GitHub's daily team rows and what share
    from member lists; how it was done (:func:`attribution_notes`) is in the data notes."""
    lists = fig.credits_by_member_lists + fig.credits_before_first_member_list
    total = fig.credits_by_github_daily_rows + lists
    if total <= 0:
        return "No team credits in this period; how users are placed in teams is in the data notes."
    daily = fig.credits_by_github_daily_rows / total
    return (
        f"{daily:.0%} of team credits come from GitHub's daily team records and {1 - daily:.0%} from team member "
        "lists; the method is in the data notes."
    )
