"""Users → teams → departments (REFERENCE §2.5, §3.4, §6).

Two modes, and every output says which one it used:

* **non-additive** (default): GitHub's daily ``user-teams-1-day`` rows joined with the daily user rows on
  ``(scope, day, user_id)`` — never the 28-day file with a one-day snapshot. A user on three teams counts in
  each; nested teams roll up the parent chain; users in no team land in ``(no team)``. Teams under 5 seated
  users are absent from GitHub's file (and so from here).
* **additive**: an ``org_map`` the enterprise maintains (login or id → team, department, cost centre, with
  ``valid_from``/``valid_to`` for moves). Each user-day belongs to exactly one unit; units sum to the scope total.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from .errors import InputError
from .metrics import as_lazy as _lazy
from .value import gini

NO_TEAM = "(no team)"
UNMAPPED = "(unmapped)"
MAP_COLUMNS = {"user_login", "user_id", "team", "department", "cost_centre", "valid_from", "valid_to"}
_KEY = ["scope", "day", "user_id"]


def latest_teams(teams: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Newest known record of every team across scopes (team ids are global): ``team_id, slug, name, parent_id``.

    An enterprise's ``user-teams`` rows include organization teams, whose names and parents come from the
    organization's team list, so lookups are by ``team_id`` whatever scope fetched them.
    """
    return (
        _lazy(teams)
        .sort("snapshot_day")
        .group_by("team_id")
        .agg(pl.col("slug", "name", "parent_id").last())
        .sort("team_id")
        .collect()
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


def team_user_days(
    user_day: pl.DataFrame | pl.LazyFrame,
    user_team_day: pl.DataFrame | pl.LazyFrame,
    teams: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    rollup: bool = True,
) -> pl.DataFrame:
    """User-day rows attributed to teams (non-additive): one row per (user-day, team).

    Returns every column of ``user_day`` plus ``unit`` (team name or slug; ``(no team)``) and ``unit_id``.
    With ``rollup`` a user-day also counts for each ancestor of its teams (once per ancestor).
    """
    ud = _lazy(user_day)
    rows = _lazy(user_team_day)
    memberships = rows.select(*_KEY, "team_id").unique()
    known = (
        latest_teams(teams)
        if teams is not None
        else pl.DataFrame(schema={"team_id": pl.Int64, "slug": pl.String, "name": pl.String, "parent_id": pl.Int64})
    )
    if rollup and known.height:
        memberships = (
            memberships.join(ancestors(known).lazy(), on="team_id", how="left")
            .select(*_KEY, team_id=pl.coalesce("ancestor_id", "team_id"))
            .unique()
        )
    slugs = rows.group_by("team_id").agg(pl.col("slug").last())
    labels = slugs.join(known.lazy().select("team_id", "name"), on="team_id", how="full", coalesce=True).select(
        "team_id", unit=pl.coalesce("name", "slug", pl.format("team {}", pl.col("team_id")))
    )
    joined = ud.join(
        memberships.join(labels, on="team_id", how="left").rename({"team_id": "unit_id"}), on=_KEY, how="left"
    ).with_columns(unit=pl.col("unit").fill_null(NO_TEAM))
    return joined.collect()


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


def map_user_days(user_day: pl.DataFrame | pl.LazyFrame, org_map: pl.DataFrame) -> pl.DataFrame:
    """Attribute each user-day to exactly one unit of the map (additive): adds ``unit`` (team), ``department``,
    ``cost_centre``; user-days the map does not cover get ``(unmapped)``."""
    ud = _lazy(user_day).with_columns(_login=pl.col("user_login").str.to_lowercase(), _row=pl.int_range(pl.len()))
    by_login = (
        org_map.filter(pl.col("user_login").is_not_null())
        .lazy()
        .select(
            _login="user_login",
            team="team",
            department="department",
            cost_centre="cost_centre",
            valid_from="valid_from",
            valid_to="valid_to",
        )
    )
    by_id = (
        org_map.filter(pl.col("user_id").is_not_null())
        .lazy()
        .select("user_id", "team", "department", "cost_centre", "valid_from", "valid_to")
    )
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
        .agg(pl.col("team", "department", "cost_centre").first())
    )
    return (
        ud.join(hits, on="_row", how="left")
        .with_columns(
            unit=pl.col("team").fill_null(UNMAPPED),
            department=pl.col("department").fill_null(UNMAPPED),
            cost_centre=pl.col("cost_centre").fill_null(UNMAPPED),
        )
        .drop("_row", "_login", "team")
        .collect()
    )


# ---------------------------------------------------------------------- team / department measures
def seat_units(
    seats: pl.DataFrame | pl.LazyFrame,
    unit_days: pl.DataFrame,
    *,
    org_map: pl.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """Seated users and their unit(s): ``user_id, user_login, plan_type, unit``.

    Units come from the organisation map valid on ``as_of`` (additive), else from each user's latest day in
    ``unit_days`` (non-additive: a user can hold several); seated users never seen there are ``(no team)``.
    """
    roster = (
        _lazy(seats)
        .filter(pl.col("snapshot_day") == pl.col("snapshot_day").max())
        .group_by("user_id")
        .agg(pl.col("user_login").first(), pl.col("plan_type").sort().last())
        .collect()
    )
    if org_map is not None:
        day = as_of or dt.datetime.now(dt.UTC).date()
        probe = roster.with_columns(day=pl.lit(day), scope=pl.lit(""))
        mapped = map_user_days(probe, org_map)
        return mapped.select("user_id", "user_login", "plan_type", "unit", "department", "cost_centre")
    last = unit_days.filter(pl.col("day") == pl.col("day").max().over("user_id")).select("user_id", "unit").unique()
    return roster.join(last, on="user_id", how="left").with_columns(pl.col("unit").fill_null(NO_TEAM))


def unit_summary(unit_days: pl.DataFrame, seated: pl.DataFrame, *, scope_credits: float | None) -> pl.DataFrame:
    """Per unit: seated users, active users (distinct), credits, credits per active user and per seat, share of
    the scope total. Shares of a non-additive mode can sum to more than 1."""
    activity = unit_days.group_by("unit").agg(
        active_users=pl.col("user_id").n_unique(),
        credits=pl.col("ai_credits_used").sum(),
    )
    seats_ = seated.group_by("unit").agg(seated_users=pl.col("user_id").n_unique())
    out = seats_.join(activity, on="unit", how="full", coalesce=True).with_columns(
        pl.col("seated_users", "active_users").fill_null(0), pl.col("credits").fill_null(0.0)
    )
    return out.with_columns(
        credits_per_active_user=pl.when(pl.col("active_users") > 0).then(pl.col("credits") / pl.col("active_users")),
        credits_per_seat=pl.when(pl.col("seated_users") > 0).then(pl.col("credits") / pl.col("seated_users")),
        share_of_total=pl.col("credits") / scope_credits if scope_credits else pl.lit(None, dtype=pl.Float64),
        active_share=pl.when(pl.col("seated_users") > 0).then(
            pl.min_horizontal(pl.col("active_users") / pl.col("seated_users"), pl.lit(1.0))
        ),
    ).sort("credits", descending=True)


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
    summary: pl.DataFrame, *, top: int, k_min: int, keep: tuple[str, ...] = (NO_TEAM, UNMAPPED)
) -> pl.DataFrame:
    """Keep the ``top`` units by credits (and the no-team bucket); fold the rest into one "other (n units)" row.
    Units under ``k_min`` active users are folded too, never shown on their own."""
    ranked = summary.with_columns(_rank=pl.col("credits").rank("ordinal", descending=True))
    shown = ranked.filter(((pl.col("_rank") <= top) & (pl.col("active_users") >= k_min)) | pl.col("unit").is_in(keep))
    rest = ranked.join(shown.select("unit"), on="unit", how="anti")
    if rest.height == 0:
        return shown.drop("_rank")
    folded = rest.select(
        unit=pl.lit(f"other ({rest.height} units)"),
        seated_users=pl.col("seated_users").sum(),
        active_users=pl.col("active_users").sum(),
        credits=pl.col("credits").sum(),
    ).with_columns(
        credits_per_active_user=pl.when(pl.col("active_users") > 0).then(pl.col("credits") / pl.col("active_users")),
        credits_per_seat=pl.when(pl.col("seated_users") > 0).then(pl.col("credits") / pl.col("seated_users")),
    )
    return pl.concat([shown.drop("_rank"), folded], how="diagonal_relaxed")


def spread(unit_days: pl.DataFrame) -> pl.DataFrame:
    """Per unit, the distribution of per-user credits: ``users, p10, p25, median, p75, p90, gini, top_user_share``."""
    per_user = unit_days.group_by("unit", "user_id").agg(credits=pl.col("ai_credits_used").sum())
    return (
        per_user.group_by("unit")
        .agg(
            users=pl.len(),
            **{
                name: pl.col("credits").quantile(q, "linear")
                for name, q in (("p10", 0.1), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p90", 0.9))
            },
            gini=gini(pl.col("credits")),
            top_user_share=pl.col("credits").max() / pl.col("credits").sum(),
        )
        .sort("median", descending=True)
    )


def adoption(unit_days: pl.DataFrame, seated: pl.DataFrame, seats: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per unit: seated, active share, surface use shares (distinct users), adoption-phase mix (users by last
    phase), and median days from seat grant to first use / first agent use."""
    firsts = unit_days.group_by("unit", "user_id").agg(
        first_use=pl.col("day").min(),
        first_agent=pl.col("day").filter(pl.col("used_agent").fill_null(False)).min(),
        phase=pl.col("ai_adoption_phase_number").sort_by("day").drop_nulls().last(),
        **{
            s: pl.col(s).fill_null(False).any()
            for s in (
                "used_agent",
                "used_chat",
                "used_cli",
                "used_copilot_code_review_active",
                "used_copilot_cloud_agent",
            )
        },
    )
    since = unit_days["day"].min()
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
    active_pairs = unit_days.select("unit", "user_id").unique()
    idle = (
        seated.join(active_pairs, on=["unit", "user_id"], how="anti")
        .group_by("unit")
        .agg(idle_seats=pl.len().cast(pl.Int64))
    )
    seats_ = seated.group_by("unit").agg(
        seated_users=pl.col("user_id").n_unique().cast(pl.Int64),
        business=(pl.col("plan_type") == "business").sum(),
        enterprise=(pl.col("plan_type") == "enterprise").sum(),
    )
    return (
        seats_.join(per, on="unit", how="full", coalesce=True)
        .join(idle, on="unit", how="left")
        .with_columns(pl.col("active_users").fill_null(0), pl.col("idle_seats").fill_null(0))
        .with_columns(
            active_share=pl.when(pl.col("seated_users") > 0).then(1 - pl.col("idle_seats") / pl.col("seated_users")),
        )
        .sort("unit")
    )


def needs_support(
    adoption_: pl.DataFrame,
    *,
    min_idle: int = 3,
    max_active_share: float = 0.6,
    seat_price_business: float = 0.0,
    seat_price_enterprise: float = 0.0,
) -> pl.DataFrame:
    """Units with at least ``min_idle`` idle seats or an active share under ``max_active_share``, with the monthly
    seat cost of their idle seats (idle seats priced by the unit's plan mix; null when prices are not given)."""
    priced = seat_price_business > 0 or seat_price_enterprise > 0
    mix_price = (pl.col("business") * seat_price_business + pl.col("enterprise") * seat_price_enterprise) / pl.col(
        "seated_users"
    )
    return (
        adoption_.filter(
            (pl.col("seated_users") > 0)
            & ((pl.col("idle_seats") >= min_idle) | (pl.col("active_share") < max_active_share))
        )
        .with_columns(
            idle_seat_cost_month=(pl.col("idle_seats") * mix_price) if priced else pl.lit(None, dtype=pl.Float64),
        )
        .select("unit", "seated_users", "active_users", "idle_seats", "active_share", "idle_seat_cost_month")
        .sort("idle_seats", descending=True)
    )


def weekly_by_unit(unit_days: pl.DataFrame, *, units: pl.Series | None = None) -> pl.DataFrame:
    """``week, unit, credits, active_users, credits_per_active_user`` (distinct users per week), for ``units``."""
    if units is not None:
        unit_days = unit_days.filter(pl.col("unit").is_in(units.implode()))
    return (
        unit_days.group_by(week=pl.col("day").dt.truncate("1w"), unit=pl.col("unit"))
        .agg(
            credits=pl.col("ai_credits_used").sum(),
            active_users=pl.col("user_id").n_unique(),
        )
        .with_columns(credits_per_active_user=pl.col("credits") / pl.col("active_users"))
        .sort("week", "unit")
    )


def movers(weekly: pl.DataFrame, *, weeks: int = 4) -> pl.DataFrame:
    """Last ``weeks`` weeks vs the ``weeks`` before: credits growth and credits-per-active-user change per unit."""
    ordered = weekly["week"].unique().sort()
    if ordered.len() < 2 * weeks:
        weeks = max(ordered.len() // 2, 1)
    recent = ordered.tail(weeks)
    before = ordered.tail(2 * weeks).head(weeks)

    def window(days: pl.Series, name: str) -> pl.DataFrame:
        part = weekly.filter(pl.col("week").is_in(days.implode()))
        return part.group_by("unit").agg(
            pl.col("credits").sum().alias(f"credits_{name}"),
            (pl.col("credits").sum() / pl.col("active_users").sum()).alias(f"credits_per_active_user_{name}"),
        )

    return (
        window(recent, "recent")
        .join(window(before, "before"), on="unit", how="inner")
        .with_columns(
            credits_growth=pl.when(pl.col("credits_before") > 0).then(
                pl.col("credits_recent") / pl.col("credits_before") - 1
            ),
            credits_per_active_user_change=pl.when(pl.col("credits_per_active_user_before") > 0).then(
                pl.col("credits_per_active_user_recent") / pl.col("credits_per_active_user_before") - 1
            ),
        )
        .sort("credits_growth", descending=True, nulls_last=True)
    )
