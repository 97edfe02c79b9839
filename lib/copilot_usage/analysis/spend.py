"""Spend and budget: reconcile metrics with billing, the included pool, idle seats, and what-if scenarios.

``ai_credits_used`` is a consumption signal; invoices come from billing
(https://github.blog/changelog/2026-06-19-ai-credits-consumed-per-user-now-in-the-copilot-usage-metrics-api). Every
difference between the two is shown with its likely cause, never dropped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from ..cache.billing import is_ai_credit
from ..errors import InputError
from . import measures
from .metrics import as_lazy as _lazy
from .pricing import CREDIT_PRICE_USD, included_credits

CAUSES = {
    "lag": "inside the metrics' processing lag (billing is near real time)",
    "billing_only_user": "user billed here but outside the metrics scope (other org or billing path)",
    "metrics_only_user": "user in the metrics but not billed here (org vs enterprise attribution)",
    "no_credit_field": "metrics rows without ai_credits_used",
    "month_open": "month not complete in the metrics yet (processing lag)",
    "partial_metrics": "the metrics cover only part of this month",
    "not_asked": "user in the metrics but not on a stored seat roster, so not asked per user",
    "unexplained": "late correction or unexplained difference",
}


def _tolerance(a: pl.Expr, b: pl.Expr, *, abs_tol: float, rel_tol: float) -> pl.Expr:
    return (a.fill_null(0) - b.fill_null(0)).abs() > pl.max_horizontal(
        pl.lit(abs_tol), rel_tol * pl.max_horizontal(a.fill_null(0).abs(), b.fill_null(0).abs())
    )


def reconcile_days(
    user_day: pl.DataFrame | pl.LazyFrame,
    billing: pl.DataFrame | pl.LazyFrame,
    *,
    newest_metrics_day: dt.date | None,
    abs_tol: float = 1.0,
    rel_tol: float = 0.001,
    shared: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Per day: metrics credits vs billed gross AI credits, the difference, and a likely cause when it exceeds
    the tolerance. Days present on one side only are kept (the other side null).

    ``shared`` (an organization's bill, :func:`org_licences`): the user-days of users the bill may or may not
    carry (licences from several organizations, GitHub bills one of them; seats since removed). ``user_day`` is
    then the users it certainly carries, and a bill between their credits and those plus ``shared_credits`` is no
    difference: the band is GitHub's choice, not an error.

    Returns ``day, metrics_credits, metrics_rows_without_credits, billed_credits, difference, over_tolerance,
    cause`` (and ``shared_credits`` after ``billed_credits`` with ``shared``).
    """
    if _lazy(billing).select(pl.len()).collect().item() == 0:
        return pl.DataFrame(
            schema={
                "day": pl.Date,
                "metrics_credits": pl.Float64,
                "metrics_rows_without_credits": pl.UInt32,
                "billed_credits": pl.Float64,
                "difference": pl.Float64,
                "over_tolerance": pl.Boolean,
                "cause": pl.String,
            }
        )
    m = (
        _lazy(user_day)
        .group_by("day")
        .agg(
            metrics_credits=pl.col("ai_credits_used").sum(),
            metrics_rows_without_credits=pl.col("ai_credits_used").is_null().sum(),
        )
    )
    b = _lazy(billing).filter(pl.col("is_ai_credit")).group_by("day").agg(billed_credits=pl.col("credits").sum())
    out = m.join(b, on="day", how="full", coalesce=True).with_columns(
        difference=pl.col("billed_credits").fill_null(0) - pl.col("metrics_credits").fill_null(0),
        over_tolerance=_tolerance(
            pl.col("billed_credits"), pl.col("metrics_credits"), abs_tol=abs_tol, rel_tol=rel_tol
        ),
    )
    if shared is not None:
        band = _lazy(shared).group_by("day").agg(shared_credits=pl.col("ai_credits_used").sum())
        upper = pl.col("metrics_credits").fill_null(0) + pl.col("shared_credits")
        out = (
            out.join(band, on="day", how="left")
            .with_columns(pl.col("shared_credits").fill_null(0.0))
            .with_columns(
                over_tolerance=pl.col("over_tolerance")
                & _tolerance(pl.col("billed_credits"), upper, abs_tol=abs_tol, rel_tol=rel_tol)
                & ~pl.col("billed_credits").fill_null(0).is_between(pl.col("metrics_credits").fill_null(0), upper)
            )
        )
    lag = pl.col("day") > pl.lit(newest_metrics_day) if newest_metrics_day else pl.lit(False)
    cause = (
        pl.when(~pl.col("over_tolerance"))
        .then(None)
        .when(lag)
        .then(pl.lit(CAUSES["lag"]))
        .when(pl.col("metrics_rows_without_credits").fill_null(0) > 0)
        .then(pl.lit(CAUSES["no_credit_field"]))
        .otherwise(pl.lit(CAUSES["unexplained"]))
    )
    cols = ["day", "metrics_credits", "metrics_rows_without_credits", "billed_credits"]
    cols += ["shared_credits"] if shared is not None else []
    return out.with_columns(cause=cause).select(*cols, "difference", "over_tolerance", "cause").sort("day").collect()


def login_aliases(
    seats: pl.DataFrame | pl.LazyFrame, user_day: pl.DataFrame | pl.LazyFrame, extra: str | Path | None = None
) -> pl.DataFrame:
    """``billing_username → user_login`` (lower case) where the two differ: Enterprise Managed Users tenants can
    bill a username that is not the metrics login. From the seat roster joined to the metrics on ``user_id``, and
    from ``extra``, a CSV of ``billing_username,user_login`` (its rows win)."""
    roster = _lazy(seats).select("user_id", billing_username=pl.col("user_login").str.to_lowercase()).unique()
    metrics_logins = _lazy(user_day).select("user_id", metric=pl.col("user_login").str.to_lowercase()).unique()
    found = (
        roster.join(metrics_logins, on="user_id")
        .filter(pl.col("billing_username") != pl.col("metric"))
        .select("billing_username", user_login=pl.col("metric"))
        .collect()
    )
    if not extra:
        return found.unique("billing_username").sort("billing_username")
    path = Path(extra)
    try:
        given = pl.read_csv(path, schema_overrides={"billing_username": pl.String, "user_login": pl.String})
        given = given.select(pl.col("billing_username", "user_login").str.to_lowercase())
    except (OSError, pl.exceptions.PolarsError) as exc:
        msg = f"{path}: cannot read the login aliases (a CSV with columns billing_username,user_login): {exc}"
        raise InputError(msg) from None
    return pl.concat([given, found]).unique("billing_username", keep="first").sort("billing_username")


def metrics_login(billing_username: str, aliases: pl.DataFrame | None) -> str:
    """The metrics login (lower case) of a billing username: its alias where ``aliases`` names one, else itself."""
    name = billing_username.lower()
    if aliases is None or aliases.height == 0:
        return name
    hit = aliases.filter(pl.col("billing_username") == name)["user_login"]
    return str(hit[0]) if hit.len() else name


def unmatched_billing(users: pl.DataFrame) -> str | None:
    """One line for billed spend that matches no metrics user (never dropped), or None."""
    rows = users.filter(pl.col("cause") == CAUSES["billing_only_user"])
    if rows.height == 0:
        return None
    credits = rows["billed_credits"].sum()
    return (
        f"Unmatched: {rows['user_login'].n_unique()} billed users, {credits:,.1f} credits, match no metrics user "
        "(another scope, or a billing username unlike the login: pass an aliases CSV)."
    )


def _through_aliases(billed: pl.LazyFrame, column: str, aliases: pl.DataFrame | None) -> pl.LazyFrame:
    """``column`` (a lower-case billing username) replaced by its metrics login where ``aliases`` names one."""
    if aliases is None or aliases.height == 0:
        return billed
    mapping = aliases.lazy().select(pl.col("billing_username").alias(column), _metrics_login=pl.col("user_login"))
    return (
        billed.join(mapping, on=column, how="left")
        .with_columns(pl.coalesce("_metrics_login", column).alias(column))
        .drop("_metrics_login")
    )


def reconcile_users(
    user_day: pl.DataFrame | pl.LazyFrame,
    billing: pl.DataFrame | pl.LazyFrame,
    *,
    newest_metrics_day: dt.date | None,
    abs_tol: float = 0.5,
    rel_tol: float = 0.001,
    aliases: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per user and day where billing names users (the usage-report CSV): metrics vs billed credits; only rows
    over the tolerance, each with its likely cause. Users or days on one side only are shown, not dropped.
    ``aliases`` (:func:`login_aliases`) maps billing usernames to metrics logins first."""
    billed = _lazy(billing).filter(pl.col("is_ai_credit") & pl.col("user").is_not_null())
    if billed.select(pl.len()).collect().item() == 0:
        return pl.DataFrame(
            schema={
                "day": pl.Date,
                "user_login": pl.String,
                "metrics_credits": pl.Float64,
                "billed_credits": pl.Float64,
                "difference": pl.Float64,
                "cause": pl.String,
            }
        )
    billed = _through_aliases(billed.with_columns(user=pl.col("user").str.to_lowercase()), "user", aliases)
    b = billed.group_by("day", user_login=pl.col("user")).agg(billed_credits=pl.col("credits").sum())
    m = (
        _lazy(user_day)
        .group_by("day", user_login=pl.col("user_login").str.to_lowercase())
        .agg(metrics_credits=pl.col("ai_credits_used").sum(), has_field=pl.col("ai_credits_used").is_not_null().all())
    )
    billed_users = b.select("user_login").unique().with_columns(_billed_user=pl.lit(True))
    metric_users = m.select("user_login").unique().with_columns(_metric_user=pl.lit(True))
    days = b.select(pl.col("day").min().alias("_first"), pl.col("day").max().alias("_last"))
    out = (
        m.join(days, how="cross")
        .filter(pl.col("day").is_between(pl.col("_first"), pl.col("_last")))
        .drop("_first", "_last")
        .join(b, on=["day", "user_login"], how="full", coalesce=True)
        .join(billed_users, on="user_login", how="left")
        .join(metric_users, on="user_login", how="left")
        .with_columns(
            difference=pl.col("billed_credits").fill_null(0) - pl.col("metrics_credits").fill_null(0),
            over_tolerance=_tolerance(
                pl.col("billed_credits"), pl.col("metrics_credits"), abs_tol=abs_tol, rel_tol=rel_tol
            ),
        )
    )
    lag = pl.col("day") > pl.lit(newest_metrics_day) if newest_metrics_day else pl.lit(False)
    cause = (
        pl.when(lag)
        .then(pl.lit(CAUSES["lag"]))
        .when(pl.col("_metric_user").is_null())
        .then(pl.lit(CAUSES["billing_only_user"]))
        .when(pl.col("_billed_user").is_null())
        .then(pl.lit(CAUSES["metrics_only_user"]))
        .when(pl.col("has_field").not_())
        .then(pl.lit(CAUSES["no_credit_field"]))
        .otherwise(pl.lit(CAUSES["unexplained"]))
    )
    return (
        out.filter(pl.col("over_tolerance"))
        .with_columns(cause=cause)
        .select("day", "user_login", "metrics_credits", "billed_credits", "difference", "cause")
        .sort("day", "user_login")
        .collect()
    )


def _user_month_billed(
    billing_user_month: pl.DataFrame | pl.LazyFrame, aliases: pl.DataFrame | None = None
) -> pl.LazyFrame:
    """Per month and user asked: billed gross AI credits (0 for a user asked who had no usage); the billing
    username asked mapped to its metrics login through ``aliases``."""
    ai = is_ai_credit(pl.col("sku"), pl.col("unit_type"), pl.col("price_per_unit"))
    asked = _lazy(billing_user_month).with_columns(user_login=pl.col("user_asked").str.to_lowercase())
    return (
        _through_aliases(asked, "user_login", aliases)
        .group_by("month", "user_login")
        .agg(billed_credits=pl.col("gross_quantity").filter(ai).sum())
    )


def reconcile_user_months(
    user_day: pl.DataFrame | pl.LazyFrame,
    billing_user_month: pl.DataFrame | pl.LazyFrame,
    *,
    newest_metrics_day: dt.date | None,
    abs_tol: float = 1.0,
    rel_tol: float = 0.001,
    aliases: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per month and user, where billing was asked per user (``fetch --reports billing-users``): the month's
    metrics credits vs billed gross AI credits; only rows over the tolerance, each with its likely cause. A user
    asked who had no usage counts as 0 billed; a user on one side only is shown, not dropped. ``aliases``
    (:func:`login_aliases`) maps the billing usernames asked to metrics logins first (EMU tenants).

    Returns ``month, user_login, metrics_credits, billed_credits, difference, cause``; the current month's rows
    (differences the processing lag explains) come last.
    """
    b = _user_month_billed(billing_user_month, aliases)
    months = b.select("month").unique()
    ud = _lazy(user_day).with_columns(month=pl.col("day").dt.truncate("1mo"))
    first_metrics_day = ud.select(pl.col("day").min()).collect().item()
    m = (
        ud.join(months, on="month", how="semi")
        .group_by("month", user_login=pl.col("user_login").str.to_lowercase())
        .agg(metrics_credits=pl.col("ai_credits_used").sum(), has_field=pl.col("ai_credits_used").is_not_null().all())
    )
    month_end = pl.col("month").dt.offset_by("1mo") - pl.duration(days=1)
    open_month = month_end > pl.lit(newest_metrics_day) if newest_metrics_day else pl.lit(False)
    partial = pl.col("month") < pl.lit(first_metrics_day) if first_metrics_day else pl.lit(True)
    cause = (
        pl.when(open_month)
        .then(pl.lit(CAUSES["month_open"]))
        .when(partial)
        .then(pl.lit(CAUSES["partial_metrics"]))
        .when(pl.col("billed_credits").is_null())
        .then(pl.lit(CAUSES["not_asked"]))
        .when(pl.col("metrics_credits").is_null())
        .then(pl.lit(CAUSES["billing_only_user"]))
        .when(pl.col("has_field").not_())
        .then(pl.lit(CAUSES["no_credit_field"]))
        .when((pl.col("billed_credits") == 0) & (pl.col("metrics_credits") > 0))
        .then(pl.lit(CAUSES["metrics_only_user"]))
        .otherwise(pl.lit(CAUSES["unexplained"]))
    )
    return (
        m.join(b, on=["month", "user_login"], how="full", coalesce=True)
        .filter(_tolerance(pl.col("billed_credits"), pl.col("metrics_credits"), abs_tol=abs_tol, rel_tol=rel_tol))
        .select(
            "month",
            "user_login",
            "metrics_credits",
            "billed_credits",
            difference=pl.col("billed_credits").fill_null(0) - pl.col("metrics_credits").fill_null(0),
            cause=cause,
        )
        .sort(pl.col("cause") == CAUSES["month_open"], "month", "user_login")  # the open month's expected gaps last
        .collect()
    )


def billing_attribution(
    billing: pl.DataFrame | pl.LazyFrame, billing_user_month: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame:
    """Per month: the scope's billed gross AI credits, the part the per-user answers name, and the rest no user
    asked accounts for (seat holders gone before the roster was taken, or billing without per-user attribution).

    Returns ``month, billed_credits, attributed_credits, unattributed_credits, attributed_share, users_asked,
    users_billed``.
    """
    per_user = _user_month_billed(billing_user_month)
    attributed = per_user.group_by("month").agg(
        attributed_credits=pl.col("billed_credits").sum(),
        users_asked=pl.len(),
        users_billed=(pl.col("billed_credits") > 0).sum(),
    )
    billed = (
        _lazy(billing)
        .filter(pl.col("is_ai_credit"))
        .group_by(month=pl.col("day").dt.truncate("1mo"))
        .agg(billed_credits=pl.col("credits").sum())
    )
    return (
        attributed.join(billed, on="month", how="left")
        .select(
            "month",
            "billed_credits",
            "attributed_credits",
            unattributed_credits=(pl.col("billed_credits") - pl.col("attributed_credits")).round(3),
            attributed_share=pl.col("attributed_credits") / pl.col("billed_credits"),
            users_asked="users_asked",
            users_billed="users_billed",
        )
        .sort("month")
        .collect()
    )


# where each user of an organization's metrics holds a licence, as the organization's bill sees it
LICENCES = {
    "here": "licence from this organization only",
    "shared": "licences from this and another organization (GitHub bills one of them, chosen each month)",
    "elsewhere": "licence from another organization only (billed there)",
    "no_roster": "on no current seat roster (a seat since removed: billed by whichever organization held it)",
}


def org_licences(
    user_day: pl.DataFrame | pl.LazyFrame, seats: pl.DataFrame | pl.LazyFrame, *, organization: str
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """An organization's metrics by where each user's licence comes from, so its bill is compared like with like.

    GitHub's organization metrics count a user in every organization they belong to, while the organization's
    bill covers the licences it grants; a user with licences from several organizations is billed to one of them,
    "chosen at random each month" (GitHub Docs, cost centres: https://docs.github.com/en/billing/concepts/cost-centers).
    The licences are read from the seat rosters of every scope (``organization`` of each seat row; an
    organization's own roster lists the seats it assigns).

    Returns ``user_day`` with ``licence`` (a key of :data:`LICENCES`), lazy, and per licence kind ``licence,
    users, users_with_credits, credits`` (credits null when no row carries the field)."""
    rows = _lazy(seats).select(
        "user_id",
        org=pl.coalesce(
            pl.col("organization"),
            pl.when(pl.col("scope").str.starts_with("org:")).then(pl.col("scope").str.slice(4)),
        ),
    )
    holders = (
        rows.filter(pl.col("org").is_not_null())
        .group_by("user_id")
        .agg(here=(pl.col("org") == organization).any(), elsewhere=(pl.col("org") != organization).any())
    )
    licence = (
        pl.when(pl.col("here").is_null())
        .then(pl.lit("no_roster"))
        .when(pl.col("here") & pl.col("elsewhere"))
        .then(pl.lit("shared"))
        .when(pl.col("here"))
        .then(pl.lit("here"))
        .otherwise(pl.lit("elsewhere"))
    )
    days = (
        _lazy(user_day).join(holders, on="user_id", how="left").with_columns(licence=licence).drop("here", "elsewhere")
    )
    per_user = days.group_by("licence", "user_id").agg(
        credits=pl.when(pl.col("ai_credits_used").is_not_null().any()).then(pl.col("ai_credits_used").sum())
    )
    summary = (
        per_user.group_by("licence")
        .agg(
            users=pl.len(),
            users_with_credits=(pl.col("credits") > 0).sum(),
            credits=pl.when(pl.col("credits").is_not_null().any()).then(pl.col("credits").sum()),
        )
        .collect()
    )
    order = pl.DataFrame({"licence": list(LICENCES)})
    return days, order.join(summary, on="licence", how="left").filter(pl.col("users").is_not_null())


def differences(days: pl.DataFrame) -> pl.DataFrame:
    """The days of :func:`reconcile_days` over the tolerance."""
    return days.filter(pl.col("over_tolerance")).drop("over_tolerance")


def gross_to_net(billing: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per month and source: gross AI credits and US$, discount (included pool), net billed."""
    return (
        _lazy(billing)
        .filter(pl.col("is_ai_credit"))
        .group_by(month=pl.col("day").dt.truncate("1mo"), source=pl.col("source"))
        .agg(
            gross_credits=pl.col("credits").sum(),
            gross_usd=pl.col("gross_amount").sum(),
            discount_usd=pl.col("discount_amount").sum(),
            net_usd=pl.col("net_amount").sum(),
        )
        .sort("month", "source")
        .collect()
    )


def pool_by_day(
    seats: pl.DataFrame | pl.LazyFrame,
    *,
    month: dt.date,
    as_of: dt.date,
    promotional: bool = True,
    removed: pl.DataFrame | None = None,
    included: dict[str, int] | None = None,
) -> pl.DataFrame:
    """The month's pooled included credits, day by day (GitHub Docs, "Usage-based billing for organizations and
    enterprises", linked in ``pricing.py``): seats held at the month start count from day 1, seats added mid-month
    grow the pool on the day they start, removals only next month.

    ``seats`` is the roster (one row per licence holder: ``user_id, plan_type, created_at``); ``removed`` optional
    seats removed during the month (still counted this month). Returns ``day, pool``.
    """
    start = month.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    roster = (
        _lazy(seats)
        .group_by("user_id")
        .agg(pl.col("plan_type").sort().last(), granted=pl.col("created_at").min().dt.date())
        .collect()
    )
    if removed is not None and removed.height:
        roster = pl.concat([roster, removed.select(roster.columns)], how="vertical_relaxed").unique("user_id")
    days = pl.DataFrame({"day": pl.date_range(start, min(end, max(as_of, start)), eager=True)})
    held = roster.filter(pl.col("granted") <= end).with_columns(
        from_day=pl.max_horizontal(pl.col("granted"), pl.lit(start)),
        credits=included_credits(pl.col("plan_type"), pl.lit(start), promotional=promotional, included=included),
    )
    growth = held.group_by("from_day").agg(pl.col("credits").sum()).sort("from_day")
    return days.join_asof(
        growth.with_columns(pool=pl.col("credits").cum_sum()).select("from_day", "pool"),
        left_on="day",
        right_on="from_day",
        strategy="backward",
    ).select("day", pool=pl.col("pool").fill_null(0.0))


def idle_seats(
    seats: pl.DataFrame | pl.LazyFrame,
    *,
    as_of: dt.date,
    inactive_days: int,
    seat_price_business: float,
    seat_price_enterprise: float,
) -> pl.DataFrame:
    """Seats paid for and unused, one row per licence holder: ``status`` = never used / inactive N days /
    pending cancellation / active; ``reassignable`` = unused and not already being cancelled; monthly cost."""
    roster = (
        _lazy(seats)
        .filter(pl.col("snapshot_day") == pl.col("snapshot_day").max())
        .group_by("user_id")
        .agg(
            pl.col("user_login").first(),
            pl.col("plan_type").sort().last(),
            pl.col("organization").sort().first(),
            pl.col("assigning_team").drop_nulls().first(),
            last_activity_at=pl.col("last_activity_at").max(),
            pending=pl.col("pending_cancellation_date").max(),
        )
        .collect()
    )
    price = pl.col("plan_type").replace_strict(
        {"business": seat_price_business, "enterprise": seat_price_enterprise},
        default=seat_price_business,
        return_dtype=pl.Float64,
    )
    last = pl.col("last_activity_at").dt.date()
    status = (
        pl.when(pl.col("pending").is_not_null())
        .then(pl.lit("pending cancellation"))
        .when(pl.col("last_activity_at").is_null())
        .then(pl.lit("never used"))
        .when(last < pl.lit(as_of - dt.timedelta(days=inactive_days)))
        .then(pl.lit(f"inactive {inactive_days}+ days"))
        .otherwise(pl.lit("active"))
    )
    return (
        roster.with_columns(status=status, monthly_cost=price)
        .with_columns(
            reassignable=pl.col("status").is_in(["never used", f"inactive {inactive_days}+ days"]),
            days_since_activity=(pl.lit(as_of) - last).dt.total_days(),
        )
        .sort("status", "user_id")
    )


def idle_cost(idle: pl.DataFrame, *, by: str = "plan_type") -> pl.DataFrame:
    """Seats and monthly cost per status and ``by`` (plan_type, organization, assigning_team)."""
    return idle.group_by("status", by).agg(seats=pl.len(), monthly_cost=pl.col("monthly_cost").sum()).sort("status", by)


def scenarios(
    user_day: pl.DataFrame | pl.LazyFrame,
    idle: pl.DataFrame,
    *,
    forecast: float | None,
    pool: float,
    month: dt.date,
    cap_credits: float,
    growth: float,
    price: float = CREDIT_PRICE_USD,
    included: dict[str, int] | None = None,
    promotional: bool = True,
) -> pl.DataFrame:
    """Next month (``month``, whose included ``pool`` is given at the allowance in force then) under simple,
    printed assumptions (deterministic arithmetic).

    * baseline — ``forecast``, next month's own projection (``metrics.forecast_credits`` over its days only);
      overage = projection − pool;
    * remove reassignable seats — their seat cost saved, their included credits (``month``'s allowance) leave
      the pool;
    * cap each user at ``cap_credits`` a month — credits above the cap (last 30 days per user) removed;
    * adoption grows by ``growth`` — credits × (1 + growth).
    """
    base = forecast or 0.0
    last30 = (
        _lazy(user_day)
        .filter(pl.col("day") > pl.col("day").max() - pl.duration(days=30))
        .group_by("user_id")
        .agg(credits=pl.col("ai_credits_used").sum())
        .collect()
    )
    capped_off = float((last30["credits"] - cap_credits).clip(0).sum()) if last30.height else 0.0
    observed = float(last30["credits"].sum()) or 1.0
    reassignable = idle.filter(pl.col("reassignable"))
    seat_saving = float(reassignable["monthly_cost"].sum())
    pool_loss = float(
        reassignable.select(
            included_credits(
                pl.col("plan_type"), pl.lit(month.replace(day=1)), promotional=promotional, included=included
            ).sum()
        ).item()
        or 0.0
    )

    def row(name: str, credits: float, pool_: float, seats_saved: float, assumption: str) -> dict[str, Any]:
        over = max(credits - pool_, 0.0)
        return {
            "scenario": name,
            "credits": credits,
            "included_pool": pool_,
            "overage_credits": over,
            "overage_usd": over * price,
            "seat_cost_change_usd": -seats_saved if seats_saved else 0.0,
            "total_change_usd": (over - max(base - pool, 0.0)) * price - seats_saved,
            "assumption": assumption,
        }

    return pl.DataFrame(
        [
            row("baseline", base, pool, 0.0, "next month projected at the current pace, current seats"),
            row(
                "remove reassignable seats",
                base,
                pool - pool_loss,
                seat_saving,
                f"{reassignable.height} never-used/inactive seats removed; their usage was ~0",
            ),
            row(
                f"cap users at {cap_credits:,.0f} credits",
                base * (1 - capped_off / observed),
                pool,
                0.0,
                f"credits above the cap in the last 30 days ({capped_off:,.0f}) would be blocked by a user budget",
            ),
            row(
                f"adoption +{growth:.0%}", base * (1 + growth), pool, 0.0, "credits grow in proportion; seats unchanged"
            ),
        ]
    )


def billed_by_model(billing_usage: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Billed gross AI credits per model (``model, billed_credits``) from the ``billing_usage`` view (API items and
    usage-report CSV rows) or from the billing API's own ``billing_ai_credit`` table, whose AI-credit lines are
    picked and counted by gross quantity as the view does (``store.is_ai_credit``). Lines without a model are not
    a model's."""
    lazy = _lazy(billing_usage)
    if "is_ai_credit" not in lazy.collect_schema().names():  # billing_ai_credit: the API's items as stored
        ai = is_ai_credit(pl.col("sku"), pl.col("unit_type"), pl.col("price_per_unit"))
        lazy = lazy.with_columns(is_ai_credit=ai, credits=pl.when(ai).then(pl.col("gross_quantity")))
    return (
        lazy.filter(pl.col("is_ai_credit") & pl.col("model").is_not_null())
        .group_by("model")
        .agg(billed_credits=pl.col("credits").sum())
        .collect()
    )


MODEL_COMPARISON_SCHEMA = {
    "model": pl.String,
    "billed_credits": pl.Float64,
    "billed_share": pl.Float64,
    "estimated_credits": pl.Float64,
    "estimated_low": pl.Float64,
    "estimated_high": pl.Float64,
    "estimated_share": pl.Float64,
    "difference": pl.Float64,
    "share_difference": pl.Float64,
}


def model_comparison(billing_usage: pl.DataFrame | pl.LazyFrame, estimated: pl.DataFrame) -> pl.DataFrame:
    """Billing's credits per model (:func:`billed_by_model`: the ``billing_usage`` view or the ``billing_ai_credit``
    table) next to the metrics-side *estimate* (``ai_credits_used`` is not split by model): ``estimated`` is
    ``value.credit_split(...).credits`` (``kind, name, estimated_credits, estimated_low, estimated_high``; its
    model rows are used). Returns :data:`MODEL_COMPARISON_SCHEMA`: ``difference`` = billed − estimated credits,
    ``share_difference`` = billed − estimated share. A model on one side only is kept."""
    billed = billed_by_model(billing_usage)
    bounds = [c for c in ("estimated_low", "estimated_high") if c in estimated.columns]
    est = (
        estimated.filter(pl.col("kind") == "model")
        .select("estimated_credits", *bounds, model="name")
        .with_columns(
            pl.lit(None, dtype=pl.Float64).alias(c) for c in ("estimated_low", "estimated_high") if c not in bounds
        )
    )
    return (
        billed.join(est, on="model", how="full", coalesce=True)
        .with_columns(
            billed_share=pl.col("billed_credits") / pl.col("billed_credits").sum(),
            estimated_share=pl.col("estimated_credits") / pl.col("estimated_credits").sum(),
        )
        .with_columns(
            difference=pl.col("billed_credits") - pl.col("estimated_credits"),
            share_difference=pl.col("billed_share").fill_null(0) - pl.col("estimated_share").fill_null(0),
        )
        .select(list(MODEL_COMPARISON_SCHEMA))
        .cast(MODEL_COMPARISON_SCHEMA)  # type: ignore[arg-type]
        .sort("billed_credits", descending=True, nulls_last=True)
    )


def share_error(comparison: pl.DataFrame) -> float | None:
    """The estimate's error against billing's split: the sum over models of the absolute difference between the
    billed and the estimated share (0 = the same split, 2 = no overlap; a model on one side counts its whole
    share). None when billing has no per-model rows or there is no estimate."""
    if comparison["billed_credits"].drop_nulls().len() == 0 or comparison["estimated_credits"].drop_nulls().len() == 0:
        return None
    return float(comparison["share_difference"].abs().sum())


def seat_cost_by_user(
    seats: pl.DataFrame | pl.LazyFrame,
    *,
    month: dt.date,
    through: dt.date,
    seat_price_business: float,
    seat_price_enterprise: float,
) -> pl.DataFrame:
    """Seat licences of ``month`` from its first day to ``through`` in US$, one row per licence holder of the
    roster: ``user_id, user_login, plan_type, seat_days, seats_usd``. Each holder has one licence (the highest
    plan, as the pool counts it) for the days it was held, at the plan's monthly price over the month's days. A
    seat is held from the day it was granted until its pending cancellation date, the start of the next billing
    cycle (GitHub bills seats added mid-cycle pro rata: "About billing for GitHub Copilot in organizations and
    enterprises", linked in ``pricing.py``; the REST field
    https://docs.github.com/en/rest/copilot/copilot-user-management). A seat removed before the roster was taken
    is not in it, so not counted."""
    first = month.replace(day=1)
    last = min(through, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1))
    month_days = ((first + dt.timedelta(days=32)).replace(day=1) - first).days
    price = pl.col("plan_type").replace_strict(
        {"business": seat_price_business, "enterprise": seat_price_enterprise},
        default=seat_price_business,
        return_dtype=pl.Float64,
    )
    held_from = pl.max_horizontal(pl.col("granted"), pl.lit(first))
    held_to = pl.min_horizontal(pl.lit(last), pl.col("ends") - pl.duration(days=1))
    days = ((held_to - held_from).dt.total_days() + 1).clip(0)
    return (
        _lazy(seats)
        .group_by("user_id")
        .agg(
            pl.col("user_login").sort_by("snapshot_day").last(),
            pl.col("plan_type").sort().last(),  # "enterprise" > "business", as the pool counts a licence
            granted=pl.col("created_at").min().dt.date(),
            ends=pl.col("pending_cancellation_date").max().fill_null(dt.date.max),
        )
        .select("user_id", "user_login", "plan_type", seat_days=days, seats_usd=price * days / month_days)
        .sort("user_id")
        .collect()
    )


def seat_cost(
    seats: pl.DataFrame | pl.LazyFrame,
    *,
    month: dt.date,
    through: dt.date,
    seat_price_business: float,
    seat_price_enterprise: float,
) -> float:
    """Seat licences of ``month`` from its first day to ``through`` in US$: the sum of :func:`seat_cost_by_user`."""
    per_user = seat_cost_by_user(
        seats,
        month=month,
        through=through,
        seat_price_business=seat_price_business,
        seat_price_enterprise=seat_price_enterprise,
    )
    return float(per_user["seats_usd"].sum() or 0.0)


def month_cost(
    user_day: pl.DataFrame | pl.LazyFrame,
    billing: pl.DataFrame | pl.LazyFrame | None,
    *,
    month: dt.date,
    through: dt.date,
    seats_usd: float | None,
    pool: float | None,
    credit_price: float = CREDIT_PRICE_USD,
) -> dict[str, Any]:
    """The cost of ``month`` from its first day to ``through``: ``seats_usd`` (:func:`seat_cost`), AI credits gross
    (billing's where it has rows for the month, else the metrics'), the ``included_pool``, net metered AI credits
    in US$ (billing's net where it has rows, else computed: gross above the pool at ``credit_price``), any other
    billed Copilot SKU (not AI credits, not seat licences) and the total. ``*_source`` say which. A figure that
    cannot be known is None (no roster: no seats, no pool; no credit field: no credits), and so is the total."""
    first = month.replace(day=1)
    in_month = pl.col("day").is_between(first, through)
    bills = (
        _lazy(billing).filter(in_month).collect()
        if billing is not None
        else pl.DataFrame(schema={"is_ai_credit": pl.Boolean, "credits": pl.Float64, "net_amount": pl.Float64})
    )
    ai = bills.filter(pl.col("is_ai_credit").fill_null(False))
    used = _lazy(user_day).filter(in_month).select(measures.credits_total()).collect().item()
    gross: float | None
    net: float | None
    if ai.height:
        gross, gross_source = float(ai["credits"].sum()), "billing"
        net = float(ai["net_amount"].sum())
        net_source = "billing"
    else:
        gross, gross_source = (None if used is None else float(used)), "metrics"
        net = None if gross is None or pool is None else max(gross - pool, 0.0) * credit_price
        net_source = "computed"
    seat_rows = pl.col("unit_type").fill_null("").str.to_lowercase().str.contains("user")
    other = (
        bills.filter(
            ~pl.col("is_ai_credit").fill_null(False)
            & pl.col("product").fill_null("").str.to_lowercase().str.contains("copilot")
            & ~seat_rows
        )["net_amount"].sum()
        if {"product", "unit_type"} <= set(bills.columns)
        else 0.0
    )
    parts = (seats_usd, net)
    total = None if any(p is None for p in parts) else float(sum(parts)) + float(other)  # type: ignore[arg-type]
    return {
        "month": first,
        "through": through,
        "seats_usd": seats_usd,
        "credits_gross": gross,
        "credits_gross_source": gross_source,
        "included_pool": pool,
        "credits_net_usd": net,
        "credits_net_source": net_source,
        "other_billed_usd": float(other),
        "total_usd": total,
    }
