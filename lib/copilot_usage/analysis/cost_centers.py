"""GitHub cost centres → who is in which, per snapshot day (the billing-side department mapping).

GitHub's cost centres (https://docs.github.com/en/enterprise-cloud@latest/rest/billing/cost-centers) list their
``resources``: ``User`` (a login), ``Organization``, ``EnterpriseTeam`` (since 2026-06-25,
https://github.blog/changelog/2026-06-25-assign-enterprise-teams-to-cost-centers) and ``Repository``. Users are
resolved directly, through their organization (the seat roster's organization of each seat) or through an
enterprise team's member list, each from the snapshot nearest the cost-centre snapshot (the newest on or before
it, else the first). A user reached by several resources is in one cost centre: a direct assignment wins over an
enterprise team, which wins over an organization; two of the same kind: the cost centre first by name (counted in
``candidates``). Deleted cost centres keep their rows in ``cost_centers`` but have no members. A resource type
the kit does not know is kept and reported as drift, never dropped.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

KNOWN_TYPES = ("User", "Organization", "EnterpriseTeam", "Repository")
PRECEDENCE = {"User": 0, "EnterpriseTeam": 1, "Organization": 2}
NO_COST_CENTRE = "(no cost centre)"

CENTERS_SCHEMA = {
    "scope": pl.String,
    "snapshot_day": pl.Date,
    "cost_center_id": pl.String,
    "cost_center_name": pl.String,
    "state": pl.String,
    "azure_subscription": pl.String,
    "ai_credit_pool_enabled": pl.Boolean,
    "pool_target_usd": pl.Float64,
    "pool_current_usd": pl.Float64,
    "resources": pl.Int64,
}
RESOURCES_SCHEMA = {
    "scope": pl.String,
    "snapshot_day": pl.Date,
    "cost_center_id": pl.String,
    "cost_center_name": pl.String,
    "state": pl.String,
    "type": pl.String,
    "name": pl.String,
    "known_type": pl.Boolean,
}
MEMBERS_SCHEMA = {
    "scope": pl.String,
    "snapshot_day": pl.Date,
    "cost_center_id": pl.String,
    "cost_center_name": pl.String,
    "user_login": pl.String,
    "user_id": pl.Int64,
    "via": pl.String,
    "via_name": pl.String,
    "candidates": pl.UInt32,
}


def _norm(expr: pl.Expr) -> pl.Expr:
    """A team or organization name as matched: lower case, without an enterprise team's ``ent:`` prefix."""
    return expr.str.strip_chars().str.to_lowercase().str.strip_prefix("ent:")


def _nearest(days: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    """``day, scope, snapshot_day``: for each cost-centre day and each scope's snapshots, the newest snapshot on or
    before the day, else the first."""
    if days.height == 0 or snapshots.height == 0:
        return pl.DataFrame(schema={"day": pl.Date, "scope": pl.String, "snapshot_day": pl.Date})
    return (
        days.join(snapshots.select("scope", "snapshot_day").unique(), how="cross")
        .with_columns(_before=pl.col("snapshot_day") <= pl.col("day"))
        .group_by("day", "scope")
        .agg(
            snapshot_day=pl.coalesce(
                pl.col("snapshot_day").filter(pl.col("_before")).max(), pl.col("snapshot_day").min()
            )
        )
    )


def _at(frame: pl.DataFrame, days: pl.DataFrame) -> pl.DataFrame:
    """Rows of a snapshot table (``scope, snapshot_day, …``) as of each cost-centre day (adds ``day``)."""
    return _nearest(days, frame).join(frame, on=["scope", "snapshot_day"])


def resolve(
    resources: pl.DataFrame,
    seats: pl.DataFrame,
    team_members: pl.DataFrame,
    teams: pl.DataFrame,
) -> pl.DataFrame:
    """``cost_center_members`` (:data:`MEMBERS_SCHEMA`): one row per user × cost centre × snapshot day, each user
    in at most one active cost centre per day (see the module docstring for the rules).

    ``resources`` is :data:`RESOURCES_SCHEMA`; ``seats``, ``team_members`` and ``teams`` are the processed tables
    (every scope in the cache: an enterprise's seats name each seat's organization)."""
    active = resources.filter((pl.col("state") == "active") & pl.col("type").is_in(list(PRECEDENCE)))
    days = active.select(day=pl.col("snapshot_day")).unique()
    head = ["scope", "snapshot_day", "cost_center_id", "cost_center_name", "type", "name"]
    base = active.select(*head, _key=_norm(pl.col("name")))

    logins = pl.concat(
        [
            seats.select("snapshot_day", "user_login", "user_id"),
            team_members.select("snapshot_day", "user_login", "user_id"),
        ]
    ).drop_nulls("user_login")
    ids = (
        logins.sort("snapshot_day")
        .group_by(_login=pl.col("user_login").str.to_lowercase())
        .agg(pl.col("user_id").drop_nulls().last())
    )
    direct = (
        base.filter(pl.col("type") == "User")
        .with_columns(_login=pl.col("name").str.strip_chars().str.to_lowercase())
        .join(ids, on="_login", how="left")
    )
    seated = _at(seats.select("scope", "snapshot_day", "user_login", "user_id", "organization"), days)
    by_org = base.filter(pl.col("type") == "Organization").join(
        seated.select(
            snapshot_day="day",
            _key=_norm(pl.col("organization")),
            _login=pl.col("user_login").str.to_lowercase(),
            user_id="user_id",
        ),
        on=["snapshot_day", "_key"],
    )
    ent = team_members.filter(pl.col("scope").str.starts_with("enterprise:"))
    ent_teams = teams.filter(pl.col("scope").str.starts_with("enterprise:"))
    team_keys = (
        pl.concat(
            [
                ent_teams.select("team_id", _key=_norm(pl.col("slug"))),
                ent_teams.select("team_id", _key=_norm(pl.col("name"))),
            ]
        )
        .drop_nulls()
        .unique()
    )
    in_team = _at(ent.select("scope", "snapshot_day", "team_id", "user_login", "user_id"), days)
    by_team = (
        base.filter(pl.col("type") == "EnterpriseTeam")
        .join(team_keys, on="_key")
        .join(
            in_team.select(
                snapshot_day="day",
                team_id="team_id",
                _login=pl.col("user_login").str.to_lowercase(),
                user_id="user_id",
            ),
            on=["snapshot_day", "team_id"],
        )
    )
    cols = [*head, "_login", "user_id"]
    reached = pl.concat(
        [direct.select(cols), by_team.select(cols), by_org.select(cols)], how="vertical_relaxed"
    ).drop_nulls("_login")
    if reached.height == 0:
        return pl.DataFrame(schema=MEMBERS_SCHEMA)
    ranked = reached.with_columns(
        _rank=pl.col("type").replace_strict(PRECEDENCE, return_dtype=pl.Int8),
        candidates=pl.col("cost_center_id").n_unique().over("scope", "snapshot_day", "_login"),
    ).sort("scope", "snapshot_day", "_login", "_rank", "cost_center_name", "name")
    best = ranked.unique(["scope", "snapshot_day", "_login"], keep="first", maintain_order=True)
    # a user reached without an id (a direct login never seen in seats or teams) keeps a null id
    return best.select(
        "scope",
        "snapshot_day",
        "cost_center_id",
        "cost_center_name",
        user_login="_login",
        user_id=pl.col("user_id").cast(pl.Int64),
        via="type",
        via_name="name",
        candidates=pl.col("candidates").cast(pl.UInt32),
    ).sort("snapshot_day", "cost_center_name", "user_login")


def drift(resources: pl.DataFrame) -> pl.DataFrame:
    """Resource types the kit does not know, as ``schema_drift`` rows (kept in ``cost_center_resources``)."""
    return (
        resources.filter(~pl.col("known_type"))
        .group_by("scope", "snapshot_day", "type")
        .agg(pl.len().alias("resources"))
        .select(
            "scope",
            report=pl.lit("cost-centers"),
            day=pl.col("snapshot_day").cast(pl.String),
            field=pl.format("resources[].type={} ({} resources)", "type", "resources"),
        )
        .sort("day", "field")
    )


def mapping(members: pl.DataFrame) -> pl.DataFrame:
    """Members effective-dated for :func:`teams.units_from_mapping`: ``user_login, user_id, unit`` (the cost
    centre's name), ``valid_from, valid_to``. A snapshot holds from its day to the day before the next one (the first one also back
    to the start: it is the only knowledge of earlier days); a user absent from a snapshot is in no cost centre
    for its days."""
    days = members.select("snapshot_day").unique().sort("snapshot_day")
    spans = days.with_columns(
        valid_from=pl.when(pl.col("snapshot_day") == pl.col("snapshot_day").min())
        .then(None)
        .otherwise(pl.col("snapshot_day")),
        valid_to=pl.col("snapshot_day").shift(-1) - pl.duration(days=1),
    )
    return members.join(spans, on="snapshot_day").select(
        "user_login", "user_id", unit="cost_center_name", valid_from="valid_from", valid_to="valid_to"
    )


def chargeback(unit_days: pl.DataFrame, bills: pl.DataFrame, centres: pl.DataFrame, *, price: float) -> pl.DataFrame:
    """Per cost centre for one month: ``cost_centre, active_users, credits`` (metrics), ``list_usd`` (credits ×
    ``price``), ``share_of_credits``, ``billed_gross_credits``, ``billed_net_usd`` and ``share_of_bill`` (of the
    month's billed gross credits; null unless billing names cost centres: the usage-report CSV's
    ``cost_center_name``), ``pool_target_credits`` and ``pool_current_credits`` (cost centres with an AI-credit
    pool, from the newest snapshot; GitHub gives US$, converted at ``price``). ``unit_days`` are the month's user-days with their cost centre in ``unit``
    (:func:`copilot_usage.report.team_distribution.cost_centre_view`); ``bills`` the month's billing rows (``cost_center``, ``credits``,
    ``net_amount``, ``is_ai_credit``); ``centres`` the ``cost_centers`` rows of one snapshot. Units sum to the
    scope's totals."""
    used = unit_days.group_by(cost_centre="unit").agg(
        active_users=pl.col("user_id").n_unique().cast(pl.Int64), credits=pl.col("ai_credits_used").sum()
    )
    ai = bills.filter(pl.col("is_ai_credit").fill_null(False))
    named = ai.filter(pl.col("cost_center").is_not_null())
    billed = (
        named.group_by(
            cost_centre=pl.when(pl.col("cost_center").str.strip_chars() == "")
            .then(pl.lit(NO_COST_CENTRE))
            .otherwise(pl.col("cost_center"))
        ).agg(billed_gross_credits=pl.col("credits").sum(), billed_net_usd=pl.col("net_amount").sum())
        if named.height
        else pl.DataFrame(
            schema={"cost_centre": pl.String, "billed_gross_credits": pl.Float64, "billed_net_usd": pl.Float64}
        )
    )
    pools = centres.filter((pl.col("state") == "active") & pl.col("ai_credit_pool_enabled").fill_null(False)).select(
        cost_centre="cost_center_name",
        pool_target_credits=(pl.col("pool_target_usd") / price).round(3),
        pool_current_credits=(pl.col("pool_current_usd") / price).round(3),
    )
    active = centres.filter(pl.col("state") == "active").select(cost_centre="cost_center_name")
    total_credits = used["credits"].sum()
    total_billed = billed["billed_gross_credits"].sum() if billed.height else None
    return (
        pl.concat([active, used.select("cost_centre"), billed.select("cost_centre")])
        .unique()
        .join(used, on="cost_centre", how="left")
        .join(billed, on="cost_centre", how="left")
        .join(pools, on="cost_centre", how="left")
        .with_columns(
            pl.col("active_users").fill_null(0),
            pl.col("credits").fill_null(0.0),
        )
        .with_columns(
            list_usd=pl.col("credits") * price,
            share_of_credits=pl.col("credits") / total_credits if total_credits else pl.lit(None, dtype=pl.Float64),
            share_of_bill=pl.col("billed_gross_credits") / total_billed
            if total_billed
            else pl.lit(None, dtype=pl.Float64),
        )
        .select(
            "cost_centre",
            "active_users",
            "credits",
            "list_usd",
            "share_of_credits",
            "billed_gross_credits",
            "billed_net_usd",
            "share_of_bill",
            "pool_target_credits",
            "pool_current_credits",
        )
        .sort("credits", descending=True)
    )


def created_on(mapping: pl.DataFrame, centre: str) -> dt.date | None:
    """The day a cost centre first appears in the member snapshots of :func:`mapping` (its first ``valid_from``),
    or None when it is in the first snapshot (it existed, as far as the cache knows, from the start)."""
    rows = mapping.filter(pl.col("unit") == centre)
    if not rows.height or rows["valid_from"].null_count():
        return None
    day: dt.date = rows["valid_from"].min()  # type: ignore[assignment]
    return day


def daily_credits(unit_days: pl.DataFrame, centre: str, *, first: dt.date, end: dt.date) -> pl.DataFrame:
    """``day, credits`` of one cost centre on every day from ``first`` (its creation day when later: the days
    before it are not zeros of its own, they did not exist) to ``end``; a day with no use is 0."""
    grid = pl.DataFrame({"day": pl.date_range(first, end, eager=True)}) if first <= end else None
    if grid is None:
        return pl.DataFrame(schema={"day": pl.Date, "credits": pl.Float64})
    used = unit_days.filter(pl.col("unit") == centre).group_by("day").agg(credits=pl.col("ai_credits_used").sum())
    return grid.join(used, on="day", how="left").select("day", pl.col("credits").fill_null(0.0).cast(pl.Float64))
