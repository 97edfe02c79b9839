"""Users → GitHub teams for one report: where the scope's team lists come from and the user-day attribution,
shared by the team distribution and value per credit reports (one definition, so both attribute alike).

Membership is non-additive: a user on several teams counts in each, nested teams roll up through their parents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from .. import metrics, teams
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
                "fetched team are shown as (teams not fetched), not as team-less, and their teams appear only "
                f"through members' activity (no seats, no adoption). `copilot-usage fetch {flags} --reports teams` "
                "fills them."
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


MEMBERSHIP_DAYS = 7  # the attribution is made a week at a time: its joins never hold a month at once


def memberships(r: Report, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """``day, user_id, unit, unit_id``: every user-day of the scope's ``user_day`` in ``start``…``end`` (the
    period by default) with each of its teams (GitHub's daily team rows and member lists, nested teams rolled up;
    the no-team label when it has none). Computed once per report, :data:`MEMBERSHIP_DAYS` at a time (at 100,000
    seats a month's attribution joins hold a gigabyte; the result is a few bytes per user-day and team)."""
    first, last = start or r.start, end or r.end
    return r.memo(f"attribution.memberships {first} {last}", lambda: _memberships(r, first, last))


def _memberships(r: Report, first: dt.date, last: dt.date) -> pl.DataFrame:
    src = sources(r)
    no_team = teams.no_team_label(seated(r), src.fetched_orgs, enterprise_teams=src.enterprise_teams)
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
            default=teams.NO_TEAM if src.fetched else teams.NOT_FETCHED,
            qualify=src.qualify,
            slugs=slugs,
        )
        parts.append(part.select("day", "user_id", "unit", "unit_id").collect())
    schema = {"day": pl.Date, "user_id": pl.Int64, "unit": pl.String, "unit_id": pl.Int64}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def team_days_query(
    r: Report, frame: pl.DataFrame | pl.LazyFrame, start: dt.date | None = None, end: dt.date | None = None
) -> pl.LazyFrame:
    """:func:`team_days` as a lazy query, for a section that aggregates the attributed rows: ``frame``'s user-days
    (of this report's scope, in ``start``…``end``) joined to their teams (:func:`memberships`)."""
    return frame.lazy().join(memberships(r, start, end).lazy(), on=["day", "user_id"], how="inner")
