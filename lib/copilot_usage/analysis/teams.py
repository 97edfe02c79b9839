"""Users → teams → departments (https://docs.github.com/en/copilot/reference/copilot-usage-metrics/team-level-metrics).

Two modes, and every output says which one it used:

* **non-additive** (default): GitHub's team membership. A seated user's teams come from the teams API's
  member lists (``team_members``: the snapshots of every organization in the scope and, for an enterprise, its
  enterprise teams), each snapshot valid from its day to the next; GitHub lists members of child teams in
  their parent (https://docs.github.com/en/rest/teams/members#list-team-members). An active user-day's teams
  come from GitHub's daily ``user-teams-1-day`` rows (never the 28-day file with a one-day snapshot), and from
  the snapshot for teams that file does not list that day (it omits teams under 5 seated users). A user on
  three teams counts in each; nested teams roll up the parent chain; a user in no team is ``(no team)``, and
  a user of an organization whose teams were not fetched is ``(teams not fetched)``, never "no team".
* **additive**: a mapping of each user to one unit (:func:`units_from_mapping`): the ``org_map`` the
  enterprise maintains (login or id → team, department, cost centre, with ``valid_from``/``valid_to`` for
  moves), or any other user → unit frame (e.g. GitHub cost centres). Each user-day belongs to exactly one
  unit; units sum to the scope total.

Adoption per unit is active seated members / seated members (a member is active with any activity in the
period), never clamped: above 1 is a bug.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from ..errors import InputError
from . import measures
from .cost_centers import NO_COST_CENTRE
from .metrics import as_lazy as _lazy
from .metrics import day_windows
from .value import gini

# the surfaces a unit's adoption row says its users ever used
ADOPTION_FLAGS = ("used_agent", "used_chat", "used_cli", "used_copilot_code_review_active", "used_copilot_cloud_agent")

NO_TEAM = "(no team)"
NOT_FETCHED = "(teams not fetched)"
UNMAPPED = "(unmapped)"
MAP_COLUMNS = {"user_login", "user_id", "team", "department", "cost_centre", "valid_from", "valid_to"}
_KEY = ["scope", "day", "user_id"]
_OPEN_FROM, _OPEN_TO = dt.date(1970, 1, 1), dt.date(9999, 12, 31)


def latest_teams(teams: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Newest known record of every team across scopes (team ids are global): ``team_id, slug, name, parent_id,
    scope`` (the scope whose team list holds it).

    An enterprise's ``user-teams`` rows include organization teams, whose names and parents come from the
    organization's team list, so lookups are by ``team_id`` whatever scope fetched them.
    """
    return (
        _lazy(teams)
        .sort("snapshot_day")
        .group_by("team_id")
        .agg(pl.col("slug", "name", "parent_id", "scope").last())
        .sort("team_id")
        .collect()
    )


def team_labels(known: pl.DataFrame, *, qualify: bool = False) -> pl.DataFrame:
    """``team_id, unit``: each team's unique label, GitHub's display name (else slug); with ``qualify`` an
    organization team is ``org/name`` (an enterprise holds several organizations whose teams share slugs). Two
    teams never share a label: a name two organizations use is qualified by organization, and what still
    collides gets the team id, ``name (#id)``."""
    return _labels(known, None, qualify=qualify, unknown=None).select("team_id", "unit").sort("team_id").collect()


def _labels(known: pl.DataFrame, slugs: pl.LazyFrame | None, *, qualify: bool, unknown: str | None) -> pl.LazyFrame:
    """``team_id, unit, unit_id`` for the teams of the lists (``known``) and those only GitHub's daily rows name
    (``slugs``: ``team_id, slug``). Labels of listed teams depend on the lists alone (so seats and activity
    label a team alike); a team no list holds is ``unknown`` when given (one line, no ``unit_id``), else its
    slug, with its id when that collides or with ``qualify``."""
    frame = known.lazy().select("team_id", "name", "slug", "scope", _listed=pl.lit(True))
    if slugs is not None:
        frame = frame.join(slugs.select("team_id", _slug="slug"), on="team_id", how="full", coalesce=True).with_columns(
            pl.col("_listed").fill_null(False), slug=pl.coalesce("slug", "_slug")
        )
    org = pl.when(pl.col("scope").str.starts_with("org:")).then(pl.col("scope").str.strip_prefix("org:"))
    label = pl.coalesce("name", "slug", pl.format("team {}", pl.col("team_id")))
    listed = pl.col("_listed")
    named_twice = listed.cast(pl.Int32).sum().over("unit") > 1  # two listed teams, one label
    with_id = pl.format("{} (#{})", "unit", "team_id")
    return (
        frame.with_columns(_org=org)
        .with_columns(
            unit=pl.when(listed & pl.lit(qualify) & pl.col("_org").is_not_null())
            .then(pl.format("{}/{}", "_org", label))
            .otherwise(label)
        )
        .with_columns(
            unit=pl.when(listed & named_twice & pl.col("_org").is_not_null() & pl.lit(not qualify))
            .then(pl.format("{}/{}", "_org", "unit"))
            .otherwise("unit")
        )
        .with_columns(unit=pl.when(listed & named_twice).then(with_id).otherwise("unit"))
        .with_columns(
            unit=pl.when(listed)
            .then("unit")
            .when(pl.lit(unknown is not None))
            .then(pl.lit(unknown, dtype=pl.String))
            .when(pl.lit(qualify) | (pl.len().over("unit") > 1))
            .then(with_id)
            .otherwise("unit"),
            unit_id=pl.when(listed | pl.lit(unknown is None)).then("team_id"),
        )
        .select("team_id", "unit", "unit_id")
    )


def member_intervals(team_members: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """GitHub's team member lists effective-dated by snapshot: ``user_id, user_login, team_id, valid_from,
    valid_to, assumed`` (inclusive). A snapshot holds from its day to the day before the next snapshot of the same
    scope. Days before a scope's first snapshot are one more interval with ``assumed`` true: the first list is the
    only knowledge of them, but it was taken later (members may have joined since), so a caller places them only
    as a stated assumption (:func:`team_user_days_query` ``backfill``; seated denominators use them)."""
    lf = _lazy(team_members)
    snaps = (
        lf.select("scope", "snapshot_day")
        .unique()
        .sort("scope", "snapshot_day")
        .with_columns(
            valid_from=pl.col("snapshot_day"),
            valid_to=(pl.col("snapshot_day").shift(-1).over("scope") - pl.duration(days=1)).fill_null(_OPEN_TO),
            assumed=pl.lit(False),
        )
    )
    before = snaps.filter(pl.col("snapshot_day") == pl.col("snapshot_day").min().over("scope")).with_columns(
        valid_from=pl.lit(_OPEN_FROM), valid_to=pl.col("snapshot_day") - pl.duration(days=1), assumed=pl.lit(True)
    )
    return (
        lf.join(pl.concat([snaps, before]), on=["scope", "snapshot_day"])
        .group_by("user_id", "team_id", "valid_from", "valid_to", "assumed")
        .agg(pl.col("user_login").first())
        .select("user_id", "user_login", "team_id", "valid_from", "valid_to", "assumed")
        .sort("team_id", "user_id", "valid_from")
        .collect()
    )


def roster(seats: pl.DataFrame | pl.LazyFrame, *, as_of: dt.date | None = None) -> pl.DataFrame:
    """Seated users of the newest seat snapshot on or before ``as_of`` (else the newest):
    ``user_id, user_login, plan_type, organization``."""
    day = pl.col("snapshot_day")
    pick = day.max() if as_of is None else pl.coalesce(day.filter(day <= as_of).max(), day.max())
    return (
        _lazy(seats)
        .filter(day == pick)
        .group_by("user_id")
        .agg(
            pl.col("user_login").first(),
            pl.col("plan_type").sort().last(),
            pl.col("organization").drop_nulls().sort().first(),
        )
        .sort("user_id")
        .collect()
    )


def not_fetched_label(orgs: tuple[str, ...] | list[str]) -> str:
    """The one unit for users and teams of organizations whose team lists were not fetched, naming them."""
    if not orgs:
        return NOT_FETCHED
    named = ", ".join(orgs[:3]) + (f" and {len(orgs) - 3} more" if len(orgs) > 3 else "")
    return f"{NOT_FETCHED[:-1]}: {named})"


def no_team_label(
    seated: pl.DataFrame, fetched_orgs: list[str], *, enterprise_teams: bool, not_fetched: str = NOT_FETCHED
) -> pl.DataFrame:
    """``user_id, unit`` for users in no known team: ``(no team)`` when their organization's teams were fetched
    (a seat without an organization: when the enterprise's teams were), else ``not_fetched``."""
    org = pl.col("organization")
    known = pl.when(org.is_null()).then(pl.lit(enterprise_teams)).otherwise(org.is_in(fetched_orgs))
    return seated.select("user_id", unit=pl.when(known).then(pl.lit(NO_TEAM)).otherwise(pl.lit(not_fetched))).unique(
        "user_id"
    )


def ancestors(teams: pl.DataFrame, *, max_depth: int = 8) -> pl.DataFrame:
    """Each team with itself and every ancestor: ``team_id, ancestor_id, depth`` (0 = itself)."""
    edges = teams.select("team_id", "parent_id")
    out = [teams.select("team_id", ancestor_id=pl.col("team_id"), depth=pl.lit(0, dtype=pl.Int32))]
    frontier = edges.select("team_id", ancestor_id=pl.col("parent_id")).drop_nulls("ancestor_id")
    for depth in range(1, max_depth + 1):  # walk up one level per step (vectorised join); nesting is shallow
        if frontier.height == 0:
            break
        out.append(frontier.with_columns(depth=pl.lit(depth, dtype=pl.Int32)))
        frontier = (
            frontier.join(edges.rename({"team_id": "ancestor_id", "parent_id": "next"}), on="ancestor_id", how="inner")
            .select("team_id", ancestor_id=pl.col("next"))
            .drop_nulls("ancestor_id")
        )
    return pl.concat(out).unique(["team_id", "ancestor_id"]).sort("team_id", "depth")


def _rolled_up(memberships: pl.LazyFrame, known: pl.DataFrame, key: list[str], *, rollup: bool) -> pl.LazyFrame:
    """Memberships with each team's ancestors added (once per ancestor); other columns (how a membership was
    known) keep their smallest value per ``key`` and team."""
    extra = [c for c in memberships.collect_schema().names() if c not in (*key, "team_id")]
    if rollup and known.height:
        memberships = memberships.join(ancestors(known).lazy(), on="team_id", how="left").with_columns(
            team_id=pl.coalesce("ancestor_id", "team_id")
        )
    if not extra:
        return memberships.select(*key, "team_id").unique()
    return memberships.group_by(*key, "team_id").agg(pl.col(extra).min())


_TEAMS_SCHEMA = {"team_id": pl.Int64, "slug": pl.String, "name": pl.String, "parent_id": pl.Int64, "scope": pl.String}


def team_user_days(
    user_day: pl.DataFrame | pl.LazyFrame,
    user_team_day: pl.DataFrame | pl.LazyFrame,
    teams: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    members: pl.DataFrame | None = None,
    no_team: pl.DataFrame | None = None,
    default: str = NO_TEAM,
    qualify: bool = False,
    rollup: bool = True,
    backfill: bool = False,
    unknown: str | None = None,
) -> pl.DataFrame:
    """:func:`team_user_days_query`, collected."""
    return team_user_days_query(
        user_day,
        user_team_day,
        teams,
        members=members,
        no_team=no_team,
        default=default,
        qualify=qualify,
        rollup=rollup,
        backfill=backfill,
        unknown=unknown,
    ).collect()


# how a (user-day, team) was attributed, first wins: GitHub's daily user-teams rows, a member list from its
# snapshot day on, the first member list carried back before its snapshot day (an assumption)
BY_GITHUB, BY_MEMBER_LISTS, BY_FIRST_LIST_BACKWARDS = "github_daily_rows", "member_lists", "before_first_member_list"
_BY = (BY_GITHUB, BY_MEMBER_LISTS, BY_FIRST_LIST_BACKWARDS)


def team_user_days_query(
    user_day: pl.DataFrame | pl.LazyFrame,
    user_team_day: pl.DataFrame | pl.LazyFrame,
    teams: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    members: pl.DataFrame | None = None,
    no_team: pl.DataFrame | None = None,
    default: str = NO_TEAM,
    qualify: bool = False,
    rollup: bool = True,
    slugs: pl.LazyFrame | None = None,
    backfill: bool = False,
    unknown: str | None = None,
) -> pl.LazyFrame:
    """User-day rows attributed to teams (non-additive): one row per (user-day, team), as a lazy query (a caller
    that only aggregates them never holds every (user-day, team) row: 11 M for a 100,000-seat quarter).

    A user-day's teams are GitHub's daily ``user-teams`` rows (GitHub's recipe: join them to ``users-1-day`` on
    user and day, https://docs.github.com/en/copilot/reference/copilot-usage-metrics/team-level-metrics), plus
    the teams of the effective-dated member lists (``members``, from :func:`member_intervals`) that the daily
    file does not list that day (teams under 5 seated users; days whose user-teams file was not fetched), each
    list from its snapshot day on. With ``backfill`` the first list also places the days before it (an
    assumption: it was taken later). With ``rollup`` a user-day also counts for each ancestor of its teams (once
    per ancestor). Returns every column of ``user_day`` plus ``unit`` (a unique team label, :func:`team_labels`),
    ``unit_id`` and ``attributed_by`` (:data:`BY_GITHUB`, :data:`BY_MEMBER_LISTS` or
    :data:`BY_FIRST_LIST_BACKWARDS`; null for no team); a user-day in no team gets the user's ``no_team`` label
    (:func:`no_team_label`), else ``default``. ``slugs`` (``team_id, slug``) names teams no list knows; by
    default the newest slug in ``user_team_day`` (give it when ``user_team_day`` is one part of a longer period);
    with ``unknown`` those teams are one line of that label (a user-day in several counts once).
    """
    ud = _lazy(user_day)
    rows = _lazy(user_team_day)
    daily = rows.select(*_KEY, "team_id").unique().with_columns(_by=pl.lit(0, dtype=pl.Int8))
    parts = [daily]
    if members is not None and members.height:
        listed = daily.select("scope", "day", "team_id").unique()
        lists = members.lazy()
        if "assumed" not in members.columns:
            lists = lists.with_columns(assumed=pl.lit(False))
        if not backfill:
            lists = lists.filter(~pl.col("assumed"))
        snap = (
            ud.select(_KEY)
            .unique()
            .join(lists.select("user_id", "team_id", "valid_from", "valid_to", "assumed"), on="user_id")
            .filter(pl.col("day").is_between(pl.col("valid_from"), pl.col("valid_to")))
            .select(*_KEY, "team_id", _by=pl.when(pl.col("assumed")).then(2).otherwise(1).cast(pl.Int8))
            .join(listed, on=["scope", "day", "team_id"], how="anti")
        )
        parts.append(snap)
    known = latest_teams(teams) if teams is not None else pl.DataFrame(schema=_TEAMS_SCHEMA)
    memberships = _rolled_up(pl.concat(parts), known, _KEY, rollup=rollup)
    slugs = rows.group_by("team_id").agg(pl.col("slug").last()) if slugs is None else slugs
    labels = _labels(known, slugs, qualify=qualify, unknown=unknown)
    attributed = (
        memberships.join(labels, on="team_id", how="left")
        .group_by(*_KEY, "unit")  # teams one label covers (the unknown line) count a user-day once
        .agg(pl.col("unit_id").min(), pl.col("_by").min())
        .with_columns(attributed_by=pl.col("_by").replace_strict(range(len(_BY)), _BY, return_dtype=pl.String))
        .drop("_by")
    )
    fallback = (
        no_team.lazy().select("user_id", _bucket="unit")
        if no_team is not None
        else pl.LazyFrame(schema={"user_id": pl.Int64, "_bucket": pl.String})
    )
    return (
        ud.join(attributed, on=_KEY, how="left")
        .join(fallback, on="user_id", how="left")
        .with_columns(unit=pl.coalesce("unit", "_bucket", pl.lit(default)))
        .drop("_bucket")
    )


def seated_teams(
    seated: pl.DataFrame,
    members: pl.DataFrame,
    teams: pl.DataFrame | pl.LazyFrame | None,
    *,
    as_of: dt.date,
    no_team: pl.DataFrame | None = None,
    default: str = NO_TEAM,
    qualify: bool = False,
    rollup: bool = True,
) -> pl.DataFrame:
    """Seated users (:func:`roster`) and their teams on ``as_of`` from GitHub's member lists (non-additive:
    a user can hold several): ``user_id, user_login, plan_type, organization, unit, unit_id``. Idle seat
    holders are in their teams like everyone else; users in no team get their ``no_team`` label."""
    known = latest_teams(teams) if teams is not None else pl.DataFrame(schema=_TEAMS_SCHEMA)
    current = members.lazy().filter(pl.lit(as_of).is_between(pl.col("valid_from"), pl.col("valid_to")))
    memberships = _rolled_up(current.select("user_id", "team_id"), known, ["user_id"], rollup=rollup)
    labelled = memberships.join(team_labels(known, qualify=qualify).lazy(), on="team_id", how="left").select(
        "user_id", unit_id="team_id", unit=pl.coalesce("unit", pl.format("team {}", pl.col("team_id")))
    )  # the same labels as team_user_days_query gives listed teams
    fallback = (
        no_team.select("user_id", _bucket="unit")
        if no_team is not None
        else pl.DataFrame(schema={"user_id": pl.Int64, "_bucket": pl.String})
    )
    return (
        seated.lazy()
        .join(labelled, on="user_id", how="left")
        .join(fallback.lazy(), on="user_id", how="left")
        .with_columns(unit=pl.coalesce("unit", "_bucket", pl.lit(default)))
        .drop("_bucket")
        .sort("unit", "user_id")
        .collect()
    )


def load_org_map(path: str | Path, *, known_users: pl.DataFrame | None = None) -> tuple[pl.DataFrame, list[str]]:
    """Read and validate an organisation map (CSV or Parquet).

    Columns: ``user_login`` and/or ``user_id``, ``team``, optional ``department``, ``cost_centre``, ``valid_from``,
    ``valid_to`` (inclusive ISO dates; empty = open). Raises :class:`InputError` naming the file for unknown
    columns, missing keys and overlapping validity; returns the map and warnings (e.g. users missing from it).
    """
    path = Path(path)
    try:
        frame = (
            pl.read_parquet(path)
            if path.suffix == ".parquet"
            else pl.read_csv(path, infer_schema_length=0, encoding="utf8-lossy")
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        msg = f"{path}: cannot read the organisation map ({exc})"
        raise InputError(msg) from exc
    frame = frame.rename({c: c.strip().lstrip("\ufeff").lower() for c in frame.columns})
    unknown = sorted(set(frame.columns) - MAP_COLUMNS)
    if unknown:
        msg = f"{path}: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(sorted(MAP_COLUMNS))}"
        raise InputError(msg)
    if "team" not in frame.columns or not ({"user_login", "user_id"} & set(frame.columns)):
        msg = f"{path}: needs a 'team' column and 'user_login' or 'user_id'"
        raise InputError(msg)
    for col in ("user_login", "department", "cost_centre", "valid_from", "valid_to"):
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    if "user_id" not in frame.columns:
        frame = frame.with_columns(user_id=pl.lit(None, dtype=pl.Int64))
    frame = frame.with_columns(
        pl.col("user_id").cast(pl.Int64, strict=False),
        pl.col("user_login").cast(pl.String).str.strip_chars().str.to_lowercase(),
        pl.col("valid_from").cast(pl.String).str.to_date(strict=False).fill_null(dt.date(1970, 1, 1)),
        pl.col("valid_to").cast(pl.String).str.to_date(strict=False).fill_null(dt.date(9999, 12, 31)),
        line=pl.int_range(2, pl.len() + 2),
    )
    missing_key = frame.filter(pl.col("user_id").is_null() & pl.col("user_login").is_null())
    if missing_key.height:
        msg = f"{path}: line {missing_key['line'][0]}: no user_login or user_id"
        raise InputError(msg)
    frame = frame.with_columns(who=pl.coalesce(pl.col("user_login"), pl.col("user_id").cast(pl.String)))
    bad_range = frame.filter(pl.col("valid_from") > pl.col("valid_to"))
    if bad_range.height:
        msg = f"{path}: line {bad_range['line'][0]}: valid_from is after valid_to"
        raise InputError(msg)
    ordered = frame.sort("who", "valid_from").with_columns(
        prev_to=pl.col("valid_to").shift().over("who"), prev_line=pl.col("line").shift().over("who")
    )
    overlap = ordered.filter(pl.col("prev_to") >= pl.col("valid_from"))
    if overlap.height:
        r = overlap.row(0, named=True)
        msg = (
            f"{path}: lines {r['prev_line']} and {r['line']}: validity periods of {r['who']} overlap "
            f"(a user belongs to one unit per day)"
        )
        raise InputError(msg)
    warnings = []
    if known_users is not None:
        logins = set(frame["user_login"].drop_nulls().to_list())
        ids = set(frame["user_id"].drop_nulls().to_list())
        missing = known_users.filter(
            ~pl.col("user_login").str.to_lowercase().is_in(list(logins)) & ~pl.col("user_id").is_in(list(ids))
        )
        if missing.height:
            warnings.append(
                f"{missing.height} user(s) with activity are missing from {path.name}; they are reported as {UNMAPPED}"
            )
    return frame.drop("line", "who"), warnings


def units_from_mapping(mapping: pl.DataFrame, *, unit: str = "unit", source: str = "the mapping") -> pl.DataFrame:
    """The additive hook: any user → unit frame, normalised for :func:`map_user_days` and :func:`mapped_seats`.

    ``mapping`` has ``user_login`` and/or ``user_id``, the ``unit`` column (e.g. ``team``, ``department`` of an
    org map, or a cost centre's name), optional ``valid_from``/``valid_to`` (inclusive; Date or ISO text; empty
    = open) and any other columns, which ride along (an org map's ``department`` and ``cost_centre``). Returns
    ``user_login`` (lower case), ``user_id``, ``unit``, ``valid_from``, ``valid_to`` and the other columns.
    Raises :class:`InputError` naming ``source`` when a user would be in two units on one day or has no key.
    """
    frame = mapping
    if unit not in frame.columns:
        msg = f"{source}: no {unit!r} column (columns: {', '.join(frame.columns)})"
        raise InputError(msg)
    if not ({"user_login", "user_id"} & set(frame.columns)):
        msg = f"{source}: needs 'user_login' or 'user_id'"
        raise InputError(msg)
    defaults = {"user_login": pl.String, "user_id": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date}
    frame = frame.with_columns(
        pl.lit(None, dtype=kind).alias(col) for col, kind in defaults.items() if col not in frame.columns
    )
    as_date = {c: pl.col(c).cast(pl.String).str.to_date(strict=False) for c in ("valid_from", "valid_to")}
    frame = frame.with_columns(
        pl.col("user_id").cast(pl.Int64, strict=False),
        pl.col("user_login").cast(pl.String).str.strip_chars().str.to_lowercase(),
        valid_from=as_date["valid_from"].fill_null(_OPEN_FROM),
        valid_to=as_date["valid_to"].fill_null(_OPEN_TO),
        _unit=pl.col(unit).cast(pl.String),
        _line=pl.int_range(1, pl.len() + 1),
    )
    keyless = frame.filter(pl.col("user_id").is_null() & pl.col("user_login").is_null())
    if keyless.height:
        msg = f"{source}: row {keyless['_line'][0]}: no user_login or user_id"
        raise InputError(msg)
    who = pl.coalesce(pl.col("user_login"), pl.col("user_id").cast(pl.String))
    ordered = frame.with_columns(_who=who).sort("_who", "valid_from")
    overlap = ordered.filter(pl.col("valid_from") <= pl.col("valid_to").shift().over("_who"))
    if overlap.height:
        r = overlap.row(0, named=True)
        msg = f"{source}: {r['_who']} is in two units on {r['valid_from']} (a user belongs to one unit per day)"
        raise InputError(msg)
    extras = [c for c in mapping.columns if c not in {"user_login", "user_id", "valid_from", "valid_to", "unit"}]
    return frame.select("user_login", "user_id", pl.col("_unit").alias("unit"), "valid_from", "valid_to", *extras)


def map_user_days(
    user_day: pl.DataFrame | pl.LazyFrame, mapping: pl.DataFrame, *, unassigned: str = UNMAPPED
) -> pl.DataFrame:
    """Attribute each user-day to exactly one unit of a :func:`units_from_mapping` frame (additive): adds
    ``unit`` and the mapping's other columns; user-days it does not cover get ``unassigned``."""
    extras = [c for c in mapping.columns if c not in ("user_login", "user_id", "unit", "valid_from", "valid_to")]
    ud = _lazy(user_day).with_columns(_login=pl.col("user_login").str.to_lowercase(), _row=pl.int_range(pl.len()))
    cols = ["unit", "valid_from", "valid_to", *extras]
    by_login = (
        mapping.filter(pl.col("user_login").is_not_null()).lazy().select(pl.col("user_login").alias("_login"), *cols)
    )
    by_id = mapping.filter(pl.col("user_id").is_not_null()).lazy().select("user_id", *cols)
    hits = (
        pl.concat(
            [
                ud.select("_row", "day", "_login").join(by_login, on="_login").drop("_login"),
                ud.select("_row", "day", "user_id").join(by_id, on="user_id").drop("user_id"),
            ],
            how="diagonal",
        )
        .filter(pl.col("day").is_between(pl.col("valid_from"), pl.col("valid_to")))
        .group_by("_row")
        .agg(pl.col("unit", *extras).first())
    )
    return (
        ud.drop([c for c in ("unit", *extras) if c in ud.collect_schema().names()])
        .join(hits, on="_row", how="left")
        .with_columns(pl.col("unit", *extras).cast(pl.String).fill_null(unassigned))
        .drop("_row", "_login")
        .collect()
    )


def mapped_seats(
    seated: pl.DataFrame, mapping: pl.DataFrame, *, as_of: dt.date, unassigned: str = UNMAPPED
) -> pl.DataFrame:
    """Seated users (:func:`roster`) and their one unit of the mapping on ``as_of`` (additive)."""
    probe = seated.with_columns(day=pl.lit(as_of), scope=pl.lit(""))
    return map_user_days(probe, mapping, unassigned=unassigned).drop("day", "scope")


# ---------------------------------------------------------------------- team / department measures
Frame = pl.DataFrame | pl.LazyFrame  # unit-day rows: a report's team view keeps them as a lazy join


def unit_summary(
    unit_days: Frame, seated: pl.DataFrame, *, scope_credits: float | None, active_from: Frame | None = None
) -> pl.DataFrame:
    """Per unit: seated users, active seated users (seated members with any activity in the period), adoption
    (active seated / seated, never clamped), active users (distinct users whose activity the unit holds),
    credits, credits per active user (:func:`measures.credits_per_active_user`: ÷ credited users) and per seat,
    share of the scope total, and a ``note`` saying why a row's counts do not nest (:func:`consistency_note`).
    Shares of a non-additive mode can sum to more than 1. A unit known only from activity (no member list) has
    null seats and adoption. ``active_from``: the rows whose users count as active (default ``unit_days``; a
    folded row passes the whole period's, so its members active in other units stay active)."""
    activity = (
        _lazy(unit_days)
        .group_by("unit")
        .agg(
            active_users=pl.col("user_id").n_unique(),
            credits=pl.col("ai_credits_used").sum(),
            credits_per_active_user=measures.credits_per_active_user(),
        )
        .collect()
    )
    seats_ = _seated_counts(seated, unit_days, active_from=active_from)
    out = seats_.join(activity, on="unit", how="full", coalesce=True).with_columns(
        pl.col("active_users").fill_null(0), pl.col("credits").fill_null(0.0)
    )
    share = measures.ratio(pl.col("credits"), pl.lit(scope_credits)) if scope_credits else pl.lit(None, pl.Float64)
    return (
        out.with_columns(
            credits_per_seat=measures.ratio(pl.col("credits"), pl.col("seated_users")),
            share_of_total=share,
            note=consistency_note(),
        )
        .select(*SUMMARY_COLUMNS)
        .sort("credits", descending=True)
    )


def consistency_note() -> pl.Expr:
    """Why a unit row's counts do not nest as active seated ≤ active users ≤ seated users (null when they do):
    in a non-additive view a unit's activity and its seated members come from different days and sources."""
    not_seated = pl.col("active_users") - pl.col("active_here")
    elsewhere = pl.col("active_seated") - pl.col("active_here")
    return (
        pl.when(pl.col("seated_users").is_null() & (pl.col("active_users") > 0))
        .then(pl.lit("no member list: seats and adoption unknown"))
        .when(pl.col("active_users") > pl.col("seated_users"))
        .then(
            pl.format(
                "{} of its active users are not among its seated members on the last day (moved, left, no seat, or on no member list that day)",
                not_seated,
            )
        )
        .when(pl.col("active_seated") > pl.col("active_users"))
        .then(
            pl.format(
                "{} active seated member(s) have no activity placed here (before a member list, or counted under "
                "other teams)",
                elsewhere,
            )
        )
    )


SUMMARY_COLUMNS = (
    "unit",
    "seated_users",
    "active_seated",
    "adoption",
    "active_users",
    "credits",
    "credits_per_active_user",
    "credits_per_seat",
    "share_of_total",
    "note",
)


def _seated_counts(seated: pl.DataFrame, unit_days: Frame, *, active_from: Frame | None = None) -> pl.DataFrame:
    """``unit, seated_users, active_seated, active_here, idle_seats, adoption, business, enterprise`` from the
    seated roster (``active_here``: seated members with activity the unit holds)."""
    active = (
        _lazy(unit_days if active_from is None else active_from)
        .select("user_id")
        .unique()
        .collect()
        .with_columns(_active=pl.lit(True))
    )
    here = _lazy(unit_days).select("unit", "user_id").unique().collect().with_columns(_here=pl.lit(True))
    return (
        seated.join(active, on="user_id", how="left")
        .join(here, on=["unit", "user_id"], how="left")
        .group_by("unit")
        .agg(
            seated_users=pl.col("user_id").n_unique().cast(pl.Int64),
            active_seated=pl.col("user_id").filter(pl.col("_active").fill_null(False)).n_unique().cast(pl.Int64),
            active_here=pl.col("user_id").filter(pl.col("_here").fill_null(False)).n_unique().cast(pl.Int64),
            business=(pl.col("plan_type") == "business").sum(),
            enterprise=(pl.col("plan_type") == "enterprise").sum(),
        )
        .with_columns(
            idle_seats=pl.col("seated_users") - pl.col("active_seated"),
            adoption=pl.when(pl.col("seated_users") > 0).then(pl.col("active_seated") / pl.col("seated_users")),
        )
    )


def with_change(current: pl.DataFrame, previous: pl.DataFrame, *, column: str = "credits") -> pl.DataFrame:
    """Add ``<column>_change`` (relative change vs the previous period; null when the unit had none)."""
    prev = previous.select("unit", pl.col(column).alias("_prev"))
    return (
        current.join(prev, on="unit", how="left")
        .with_columns(
            (pl.when(pl.col("_prev") > 0).then(pl.col(column) / pl.col("_prev") - 1)).alias(f"{column}_change")
        )
        .drop("_prev")
    )


def fold_tail(
    summary: pl.DataFrame,
    unit_days: Frame,
    seated: pl.DataFrame,
    *,
    top: int,
    k_min: int,
    noun: str = "unit",
    scope_credits: float | None = None,
    keep: tuple[str, ...] = (NO_TEAM, NOT_FETCHED, UNMAPPED, NO_COST_CENTRE),
) -> pl.DataFrame:
    """Keep the ``top`` units of ``summary`` (:func:`unit_summary`) by credits (and the no-team buckets); fold
    the rest into one "other N units" row. Units under ``k_min`` active users are folded too, never shown on
    their own. The folded row is the :func:`unit_summary` of the union of its units (``unit_days`` and
    ``seated``): distinct users and user-days counted once, never sums of distinct counts."""
    ranked = summary.with_columns(_rank=pl.col("credits").rank("ordinal", descending=True))
    bucket = pl.col("unit").is_in(keep) | pl.col("unit").str.starts_with(NOT_FETCHED[:-1])  # not_fetched_label
    shown = ranked.filter(((pl.col("_rank") <= top) & (pl.col("active_users") >= k_min)) | bucket)
    rest = ranked.join(shown.select("unit"), on="unit", how="anti")
    if rest.height == 0:
        return shown.drop("_rank")
    label = pl.lit(f"other {rest.height} {noun}{'' if rest.height == 1 else 's'}")
    folded_units = rest["unit"].implode()
    days = _lazy(unit_days).filter(pl.col("unit").is_in(folded_units)).unique(_KEY).with_columns(unit=label)
    seats = seated.filter(pl.col("unit").is_in(folded_units)).unique("user_id").with_columns(unit=label)
    folded = unit_summary(days, seats, scope_credits=scope_credits, active_from=unit_days)
    return pl.concat([shown.drop("_rank"), folded], how="diagonal_relaxed")


def spread(unit_days: Frame) -> pl.DataFrame:
    """Per unit, the distribution of per-user credits: ``users, p10, p25, median, p75, p90, gini, top_user_share``
    (``gini`` across the unit's users with credits > 0)."""
    per_user = _lazy(unit_days).group_by("unit", "user_id").agg(credits=pl.col("ai_credits_used").sum()).collect()
    return (
        per_user.group_by("unit")
        .agg(
            users=pl.len(),
            **{
                name: pl.col("credits").quantile(q, "linear")
                for name, q in (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9))
            },
            # across users with credits (> 0), as the value report's Gini: a user with 0 credits has none
            gini=gini(pl.col("credits").filter(pl.col("credits") > 0)),
            top_user_share=pl.col("credits").max() / pl.col("credits").sum(),
        )
        .sort("median", descending=True)
    )


def adoption(
    unit_days: Frame, seated: pl.DataFrame, seats: pl.DataFrame | pl.LazyFrame, *, chunk_days: int | None = None
) -> pl.DataFrame:
    """Per unit: seated, active seated, idle seats, adoption (as :func:`unit_summary`), surface use shares and
    adoption-phase mix (users by last phase) of its active users, and median days from seat grant to first use /
    first agent use. With ``chunk_days`` the rows are read that many days at a time (each user's first days,
    latest phase and surfaces combine across the windows)."""
    lazy = _lazy(unit_days)
    has_phase = pl.col("ai_adoption_phase_number").is_not_null()
    parts = [
        lazy.filter(window)
        .group_by("unit", "user_id")
        .agg(
            first_use=pl.col("day").min(),
            first_agent=pl.col("day").filter(pl.col("used_agent").fill_null(False)).min(),
            phase_day=pl.col("day").filter(has_phase).max(),
            phase=pl.col("ai_adoption_phase_number").sort_by("day").drop_nulls().last(),
            **{s: pl.col(s).fill_null(False).any() for s in ADOPTION_FLAGS},
        )
        .collect()
        for window in day_windows(lazy, chunk_days)
    ]
    firsts = (
        pl.concat(parts)
        .group_by("unit", "user_id")
        .agg(
            pl.col("first_use", "first_agent").min(),
            phase=pl.col("phase").sort_by("phase_day").drop_nulls().last(),
            **{s: pl.col(s).any() for s in ADOPTION_FLAGS},
        )
    )
    since = firsts["first_use"].min()  # the first day of any unit's activity
    grants = _lazy(seats).group_by("user_id").agg(granted=pl.col("created_at").min().dt.date()).collect()
    # ramp-up only for seats granted inside the period: older seats' first use is not observed
    firsts = (
        firsts.join(grants, on="user_id", how="left")
        .with_columns(new_seat=pl.col("granted") >= since)
        .with_columns(
            days_to_first_use=pl.when(pl.col("new_seat")).then(
                (pl.col("first_use") - pl.col("granted")).dt.total_days().clip(0)
            ),
            days_to_first_agent=pl.when(pl.col("new_seat")).then(
                (pl.col("first_agent") - pl.col("granted")).dt.total_days().clip(0)
            ),
        )
    )
    per = firsts.group_by("unit").agg(
        active_users=pl.len(),
        agent_share=pl.col("used_agent").mean(),
        chat_share=pl.col("used_chat").mean(),
        cli_share=pl.col("used_cli").mean(),
        code_review_share=pl.col("used_copilot_code_review_active").mean(),
        cloud_agent_share=pl.col("used_copilot_cloud_agent").mean(),
        **{f"phase_{k}_share": (pl.col("phase") == k).mean() for k in range(4)},
        median_days_to_first_use=pl.col("days_to_first_use").median(),
        median_days_to_first_agent=pl.col("days_to_first_agent").median(),
    )
    return (
        _seated_counts(seated, unit_days)
        .join(per, on="unit", how="full", coalesce=True)
        .with_columns(pl.col("active_users").fill_null(0))
        .sort("unit")
    )


def needs_support(
    adoption_: pl.DataFrame,
    *,
    scope_adoption: float | None = None,
    margin: float = 0.05,
    min_idle: int = 3,
    max_adoption: float = 0.6,
    seat_price_business: float = 0.0,
    seat_price_enterprise: float = 0.0,
) -> pl.DataFrame:
    """Units whose adoption lags: under ``max_adoption``, or ``margin`` or more below the scope's adoption with
    at least ``min_idle`` idle seats; with the reason and the monthly seat cost of their idle seats (priced by
    the unit's plan mix; null when prices are not given). Units with no member list (null adoption) are not
    rated."""
    priced = seat_price_business > 0 or seat_price_enterprise > 0
    mix_price = (pl.col("business") * seat_price_business + pl.col("enterprise") * seat_price_enterprise) / pl.col(
        "seated_users"
    )
    low = pl.col("adoption") < max_adoption
    behind = (
        (pl.col("adoption") < scope_adoption - margin) & (pl.col("idle_seats") >= min_idle)
        if scope_adoption is not None
        else pl.lit(False)
    )
    reason = (
        pl.when(low)
        .then(pl.lit(f"adoption under {max_adoption:.0%}"))
        .otherwise(
            pl.lit(
                "" if scope_adoption is None else f"{margin * 100:.0f}+ points below the scope's {scope_adoption:.0%}"
            )
        )
    )
    return (
        adoption_.filter((pl.col("seated_users") > 0) & (low | behind))
        .with_columns(
            reason=reason,
            idle_seat_cost_month=(pl.col("idle_seats") * mix_price) if priced else pl.lit(None, dtype=pl.Float64),
        )
        .select("unit", "seated_users", "active_seated", "idle_seats", "adoption", "reason", "idle_seat_cost_month")
        .sort("adoption", "idle_seats", descending=[False, True])
    )


def weekly_by_unit(unit_days: Frame, *, units: pl.Series | None = None) -> pl.DataFrame:
    """``week, unit, credits, active_users, credited_users, credits_per_active_user`` (distinct users per week;
    :func:`measures.credits_per_active_user`), for ``units``."""
    rows = _lazy(unit_days)
    if units is not None:
        rows = rows.filter(pl.col("unit").is_in(units.implode()))
    return (
        rows.group_by(week=pl.col("day").dt.truncate("1w"), unit=pl.col("unit"))
        .agg(
            credits=pl.col("ai_credits_used").sum(),
            active_users=pl.col("user_id").n_unique(),
            credited_users=measures.credited_users(),
            credits_per_active_user=measures.credits_per_active_user(),
        )
        .sort("week", "unit")
        .collect()
    )


def movers(weekly: pl.DataFrame, *, weeks: int = 4) -> pl.DataFrame:
    """Last ``weeks`` weeks vs the ``weeks`` before, per unit: credits growth and the change of credits per
    user-week (credits ÷ the sum of the weeks' credited users: a user active in three weeks counts three times;
    not credits per active user, whose denominator is distinct users)."""
    ordered = weekly["week"].unique().sort()
    if ordered.len() < 2 * weeks:
        weeks = max(ordered.len() // 2, 1)
    recent = ordered.tail(weeks)
    before = ordered.tail(2 * weeks).head(weeks)

    def window(days: pl.Series, name: str) -> pl.DataFrame:
        part = weekly.filter(pl.col("week").is_in(days.implode()))
        return part.group_by("unit").agg(
            pl.col("credits").sum().alias(f"credits_{name}"),
            measures.ratio(pl.col("credits").sum(), pl.col("credited_users").sum()).alias(
                f"credits_per_user_week_{name}"
            ),
        )

    return (
        window(recent, "recent")
        .join(window(before, "before"), on="unit", how="inner")
        .with_columns(
            credits_growth=pl.when(pl.col("credits_before") > 0).then(
                pl.col("credits_recent") / pl.col("credits_before") - 1
            ),
            credits_per_user_week_change=pl.when(pl.col("credits_per_user_week_before") > 0).then(
                pl.col("credits_per_user_week_recent") / pl.col("credits_per_user_week_before") - 1
            ),
        )
        .sort("credits_growth", descending=True, nulls_last=True)
    )
