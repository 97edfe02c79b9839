"""Deterministic narrative and headline figures for the reports, built only from computed frames."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from . import metrics, store
from .notebook import Report, fmt_num
from .pricing import CREDIT_PRICE_USD
from .report.common import (
    forecast_story,  # noqa: F401 (the spend notebook calls it until it moves)
    month_end,
)


def included_pool(r: Report, *, promotional: bool = True) -> float | None:
    """The included pool of the scope's seat roster in the month of the period's end (the allowance in force
    then), or None when the roster was not fetched (never 0)."""
    if not r.fetched("seats"):
        return None
    return metrics.included_pool(r.scan("seats"), month=r.end, promotional=promotional)


# ---------------------------------------------------------------------- teams
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
    fc: metrics.Forecast,
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
        projected_month_credits=fc.projected,
        projected_low=fc.low,
        projected_high=fc.high,
        projected_exhaustion_date=fc.exhausted_on,
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
            ("Pool runs out", "not this month" if fc.exhausted_on is None else f"{fc.exhausted_on:%d %b}", None),
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
