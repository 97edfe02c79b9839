"""The sections of ``notebooks/spend.ipynb``: does billing agree with the metrics, how much of the included pool
is used and when it runs out, chargeback by cost centre, budgets, idle seats, and what next month could cost.

Each section is a function of the :class:`Report` returning a :class:`Section`; they share the period's tables
(read once through :meth:`Report.frame`) and derived results (through :meth:`Report.memo`). The reconciliation
and pricing arithmetic is in :mod:`copilot_usage.analysis.spend`, :mod:`copilot_usage.analysis.cost_centers` and
:mod:`copilot_usage.analysis.budgets`; this module picks the data, writes the sentences and lays out the section.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..analysis import budgets, cost_centers, forecast, github_changes, metrics, spend, teams
from ..analysis import outlook as money
from ..analysis.outlook import horizons
from ..cache import read
from ..errors import InputError, NotInCache
from . import charts
from .common import (
    cost_outlook,
    forecast_accuracy,
    forecast_story,
    forecast_summary,
    last_closed_month,
    month_end,
    projection,
    scope_forecast,
    seat_cost,
)
from .context import Report
from .html import fmt_num, fmt_usd
from .privacy import protect
from .section import Chart, Section, Table, Tile, Tiles, section
from .value_per_credit import model_credits, model_story, split_method_note

# the user_day columns the spend report reads (collected once per window)
USER_DAY = ("scope", "day", "user_id", "user_login", "ai_credits_used")
COST_CENTRE_TOKEN = " Cost centres need the billing token (a classic PAT with manage_billing:enterprise)."
BUDGET_TOKEN = (
    " Budgets need the billing token (a classic PAT with manage_billing:enterprise, or manage_billing:copilot for a "
    "standalone org)."
)
BUDGET_STATES_SCHEMA = {
    "budget": pl.String,
    "user_login": pl.String,
    "consumed_amount": pl.Float64,
    "target_amount": pl.Float64,
    "share": pl.Float64,
}


@dataclass(frozen=True)
class Settings:
    """The spend report's analysis parameters (notebook parameters of the same names; these defaults otherwise)."""

    inactive_days: int = 30  # a seat with no activity for this many days counts as inactive
    aliases_csv: str = ""  # CSV of billing_username,user_login (EMU tenants)
    tolerance_credits: float = 1.0  # differences up to this many credits (or 0.1 %) are not reported
    cap_credits: float = 3000.0  # what-if: monthly per-user budget in credits
    adoption_growth: float = 0.2  # what-if: relative growth of credit use next month (and the outlook's scenario)
    scenario_seats: int = 0  # outlook scenario: seats added (negative: removed) from scenario_seats_from; 0: none
    scenario_seats_from: str = ""  # ISO day the seats change (empty: the first of next month)
    scenario_included_business: int = 0  # outlook scenario: included credits per Business licence (0: unchanged)
    scenario_included_enterprise: int = 0  # ... per Enterprise licence (0: unchanged)
    scenario_included_from: str = ""  # ISO day (empty: the register's next allowance change, else next month)


def settings(r: Report) -> Settings:
    return Settings(**{f.name: r.parameters[f.name] for f in dataclasses.fields(Settings) if f.name in r.parameters})


@dataclass(frozen=True)
class Headline:
    """The spend report's headline figures (``summary.json``)."""

    month: dt.date
    metrics_credits_mtd: float
    billed_gross_credits_mtd: float | None
    billed_net_usd_mtd: float | None
    included_pool: float | None
    pool_used_share: float | None
    projected_month_credits: float | None
    projected_low: float | None
    projected_high: float | None
    projected_exhaustion_date: dt.date | None
    idle_seat_cost_month: float
    reassignable_seats: int
    reconciliation: str
    # cost in US$, the last closed month first (issue 25 part 7): see _closed_month and _month_costs
    last_closed_month: dict[str, Any]
    month_to_date_cost: dict[str, Any]
    projected_month_cost: dict[str, Any]


# ---------------------------------------------------------------------- shared, computed once per report
def _usage(r: Report) -> pl.DataFrame:
    return r.frame("user_day", columns=USER_DAY)


def _bills(r: Report) -> pl.DataFrame:
    """Billing rows for the scope from the period's start to a week past its end (API items and imported CSV)."""
    return r.frame_between("billing_usage", r.start, r.end + dt.timedelta(days=7))


def _billing_note(r: Report, bills: pl.DataFrame) -> str:
    if not r.fetched("billing_usage"):
        return (
            "No billing data in the cache. Billing needs its own token (COPILOT_BILLING_TOKEN: a classic PAT with "
            "manage_billing:enterprise, or manage_billing:copilot for a standalone org; organizations billed "
            f"through an enterprise answer 404), or import GitHub's usage-report CSV with `copilot-usage import "
            f"FILE.csv --scope {r.scope}`. Every metrics-only section below is complete."
        )
    if bills.height == 0:
        return f"The billing data in the cache has no row for {r.scope} from {r.start}."
    sources = ", ".join(sorted(bills["source"].unique().to_list()))
    return f"Billing rows: {bills.height:,} ({sources})."


# licences an organization's bill may or may not carry (spend.LICENCES): the band around its certain part
UNCERTAIN_LICENCES = ("shared", "no_roster")


def _licences(r: Report) -> tuple[pl.LazyFrame, pl.DataFrame] | None:
    """An organization's metrics by where each user's licence comes from (:func:`spend.org_licences`), so its bill
    is compared like with like; None for an enterprise (it bills everyone) or without a seat roster."""
    if not r.scope.startswith("org:") or not r.fetched("seats"):
        return None
    org = r.scope.split(":", 1)[1]
    return r.memo(
        "spend.licences",
        lambda: spend.org_licences(_usage(r), r.frame("seats", all_scopes=True), organization=org),
    )


def _compared_usage(r: Report) -> pl.DataFrame | pl.LazyFrame:
    """The metrics the scope's bill is compared with: an organization's without users licensed only elsewhere."""
    found = _licences(r)
    return _usage(r) if found is None else found[0].filter(pl.col("licence") != "elsewhere")


def _days(r: Report) -> pl.DataFrame:
    s = settings(r)

    def compute() -> pl.DataFrame:
        found = _licences(r)
        if found is None:
            return spend.reconcile_days(_usage(r), _bills(r), newest_metrics_day=r.end, abs_tol=s.tolerance_credits)
        days = found[0]
        return spend.reconcile_days(
            days.filter(pl.col("licence") == "here"),
            _bills(r),
            newest_metrics_day=r.end,
            abs_tol=s.tolerance_credits,
            shared=days.filter(pl.col("licence").is_in(UNCERTAIN_LICENCES)),
        )

    return r.memo("spend.days", compute)


def licence_story(r: Report) -> str:
    """The multi-organization difference, once, in numbers (empty for an enterprise or without a roster)."""
    found = _licences(r)
    if found is None:
        return ""
    org = r.scope.split(":", 1)[1]
    rows = {row["licence"]: row for row in found[1].iter_rows(named=True)}

    def part(key: str, text: str) -> str:
        row = rows.get(key)
        if row is None or not row["users"]:
            return ""
        who = "1 user active here" if row["users"] == 1 else f"{row['users']:,} users active here"
        return f" {who} ({fmt_num(row['credits'])} credits) {text}."

    here = rows.get("here")
    return (
        f"Like with like: {org}'s bill covers the licences it grants, while its metrics count every member "
        f"(a user in every organization they belong to). The bill is compared with the "
        f"{0 if here is None else here['users']:,} users whose only licence is from {org} "
        f"({fmt_num(None if here is None else here['credits'])} credits)."
        + part("elsewhere", "hold their licence through another organization (billed there, left out)")
        + part(
            "shared",
            "also hold a licence from another organization; GitHub bills each to one of their organizations, "
            "chosen each month, so a day's bill up to their credits above the compared figure is no difference",
        )
        + part("no_roster", "on no current seat roster (seats since removed) count the same way")
    )


def _aliases(r: Report) -> pl.DataFrame:
    """Billing username → metrics login where they differ (seat roster by user id, plus the aliases CSV)."""
    return r.memo(
        "spend.aliases", lambda: spend.login_aliases(r.frame("seats").lazy(), _usage(r), settings(r).aliases_csv)
    )


def _users(r: Report) -> pl.DataFrame:
    s = settings(r)
    return r.memo(
        "spend.users",
        lambda: spend.reconcile_users(
            _compared_usage(r), _bills(r), newest_metrics_day=r.end, abs_tol=s.tolerance_credits, aliases=_aliases(r)
        ),
    )


def _included(r: Report) -> dict[str, int]:
    return r.prices.included


def _pool(r: Report, month: dt.date | None = None) -> float | None:
    """The included pool of ``month`` (the period end's by default): the roster as of the period's end × the
    allowance in force that month (a later month: the promotional amounts end on 2026-09-01); None without a seat
    roster."""
    first = (month or r.end).replace(day=1)

    def compute() -> float | None:
        if not r.fetched("seats"):
            return None
        pool = spend.pool_by_day(
            r.frame("seats").lazy(), month=first, as_of=r.end, promotional=r.prices.promotional, included=_included(r)
        )
        top = pool["pool"].max()
        return None if top is None else float(top)  # type: ignore[arg-type]

    return r.memo(f"spend.pool {first:%Y-%m}", compute)


def _forecast(r: Report, first: dt.date, last: dt.date) -> metrics.Forecast:
    """The projection of ``[first, last]`` from the report's end (its own days only), against that month's pool."""
    return r.memo(f"spend.forecast {first} {last}", lambda: scope_forecast(r, first, last, pool=_pool(r, first)))


def _month(r: Report) -> metrics.Forecast:
    return _forecast(r, r.end.replace(day=1), month_end(r.end))


def _next_month(r: Report) -> metrics.Forecast:
    """Next month's own projection (its days only, from the pace to the report's end): the what-if baseline."""
    first = month_end(r.end) + dt.timedelta(days=1)
    return _forecast(r, first, month_end(first))


def _idle(r: Report) -> pl.DataFrame:
    return r.memo(
        "spend.idle",
        lambda: spend.idle_seats(
            r.frame("seats").lazy(),
            as_of=r.end,
            inactive_days=settings(r).inactive_days,
            seat_price_business=r.prices.seat_business,
            seat_price_enterprise=r.prices.seat_enterprise,
        ),
    )


def _user_differences(r: Report, users: pl.DataFrame, *, unit: str = "user_days") -> Table:
    """Analysts see the user-days (or user-months); leadership sees counts per cause (no logins)."""
    empty = (
        "No user-day differs by more than the tolerance (per user and day, billing comes from the usage-report CSV)."
        if unit == "user_days"
        else "No user-month differs by more than the tolerance, or billing was not asked per user."
    )
    if not r.audience.leadership:
        return Table(users, user_column="user_login", empty=empty)
    counts = (
        users.group_by("cause")
        .agg(pl.len().alias(unit), users=pl.col("user_login").n_unique(), difference=pl.col("difference").sum())
        .sort(unit, descending=True)
    )
    return Table(counts, empty=empty)


def _first_metrics_day(r: Report) -> dt.date | None:
    """The first day the cache holds metrics for the scope (a month before it is not in the data)."""
    return r.memo(
        "spend.first_day",
        lambda: r.scan_between("user_day", None, r.end, columns=("day",)).select(pl.col("day").min()).collect().item(),
    )


def _month_cost(r: Report, month: dt.date, through: dt.date) -> dict[str, Any]:
    """:func:`spend.month_cost` of ``month`` to ``through`` for the scope (seat licences at the report's prices,
    from the seat roster), and whether the data covers the whole month (``complete``) and from which day."""

    def compute() -> dict[str, Any]:
        held = seat_cost(r, month, through)
        seats = None if held is None else float(held["seats_usd"].sum() or 0.0)
        bills = r.frame_between("billing_usage", month, through) if r.fetched("billing_usage") else None
        out = spend.month_cost(
            r.frame_between("user_day", month, through, columns=USER_DAY),
            bills,
            month=month,
            through=through,
            seats_usd=seats,
            pool=_pool(r, month),
            credit_price=r.prices.credit,
        )
        first = _first_metrics_day(r)
        out["data_from"] = None if first is None else max(first, month)
        out["complete"] = first is not None and first <= month and through == month_end(month)
        return out

    return r.memo(f"spend.cost {month} {through}", compute)


def _closed_month(r: Report) -> dict[str, Any]:
    """The last closed month's cost (``summary.json``'s ``last_closed_month``) with its change against the month
    before, only when both months are wholly in the data (a part month is not compared)."""
    month = last_closed_month(r.end)
    before = (month - dt.timedelta(days=1)).replace(day=1)
    cur, prev = _month_cost(r, month, month_end(month)), _month_cost(r, before, month_end(before))
    comparable = cur["complete"] and prev["complete"] and cur["total_usd"] is not None and prev["total_usd"]
    change = cur["total_usd"] / prev["total_usd"] - 1 if comparable else None
    return {
        **{k: cur[k] for k in ("month", "seats_usd", "credits_gross", "credits_net_usd", "total_usd")},
        "total_change_vs_previous": change,
        "previous_month": before,
        "previous_total_usd": prev["total_usd"] if prev["complete"] else None,
        **{
            k: cur[k]
            for k in (
                "included_pool",
                "credits_gross_source",
                "credits_net_source",
                "other_billed_usd",
                "complete",
                "data_from",
            )
        },
    }


def _projected_cost(r: Report) -> dict[str, Any]:
    """This month at its end: seat licences for the whole month (the roster now), the projected credits and the
    part above the pool at the credit price (computed: a bill cannot be projected), other SKUs billed so far."""
    month = r.end.replace(day=1)
    fc, pool, mtd = _month(r), _pool(r, month), _month_cost(r, month, r.end)
    whole = _month_cost(r, month, month_end(month))["seats_usd"]
    net = None if fc.projected is None or pool is None else max(fc.projected - pool, 0.0) * r.prices.credit
    total = None if whole is None or net is None else whole + net + mtd["other_billed_usd"]
    return {
        "month": month,
        "seats_usd": whole,
        "credits_projected": fc.projected,
        "credits_net_usd": net,
        "total_usd": total,
    }


def cost_figures(r: Report) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The headline's cost figures for the reports that build on them (the ROI report): the last closed month's
    (:func:`_closed_month`), this month's to the report's end, and this month's projected."""
    return _closed_month(r), _month_cost(r, r.end.replace(day=1), r.end), _projected_cost(r)


def centre_mapping(r: Report) -> pl.DataFrame:
    """Users → GitHub cost centres, effective-dated, as the chargeback uses them."""
    return _centre_mapping(r)


def cost_story(r: Report, closed: dict[str, Any], mtd: dict[str, Any], projected: dict[str, Any]) -> list[str]:
    """The headline's sentences: the last closed month's total cost and its parts, its change on the month
    before, then this month so far and at its end (plain words: this is what finance reads first)."""
    month = f"{closed['month']:%B %Y}"
    if closed["credits_gross"] is None and closed["seats_usd"] is None:
        return [f"{month} is not in the data, so its cost cannot be given."]
    billed = closed["credits_net_source"] == "billing"
    gross = closed["credits_gross"]
    pool = closed["included_pool"]
    net = closed["credits_net_usd"]
    credits = (
        "AI credit use is unknown"
        if gross is None
        else f"{gross:,.0f} AI credits used ({fmt_usd(gross * r.prices.credit)} at US${r.prices.credit:g} a credit)"
        + ("" if pool is None else f", against an included pool of {pool:,.0f} credits")
        + (
            ", the part beyond the included pool unknown without the seat roster"
            if net is None
            else f", leaving {fmt_usd(net, 2)} billed beyond the pool"
            + (" (from GitHub's bill)" if billed else " (computed: the bill for that month is not in the data)")
        )
    )
    other = f"; other Copilot charges {fmt_usd(closed['other_billed_usd'], 2)}" if closed["other_billed_usd"] else ""
    out = (
        [
            f"{month}, the last closed month, cost {fmt_usd(closed['total_usd'])} in total: seat licences "
            f"{fmt_usd(closed['seats_usd'])} (each seat for the days it was held) and {credits}{other}."
        ]
        if closed["total_usd"] is not None
        else [f"{month}, the last closed month: {credits}{other}. Its total cost needs the seat roster."]
    )
    if not closed["complete"] and closed["data_from"] is not None:
        out.append(f"The data starts on {closed['data_from']:%d %B}, so {month}'s AI credits are a part month.")
    before = f"{closed['previous_month']:%B %Y}"
    change = closed["total_change_vs_previous"]
    if change is not None:
        way = "more" if change > 0 else "less"
        out.append(
            f"That is {abs(change):.0%} {way} than {before} ({fmt_usd(closed['previous_total_usd'])})."
            if abs(change) >= 0.005
            else f"That is the same as {before} ({fmt_usd(closed['previous_total_usd'])})."
        )
    elif closed["total_usd"] is not None and closed["complete"]:
        out.append(f"{before} is not wholly in the data, so there is no month-over-month change.")
    if mtd["total_usd"] is None:
        return out
    out.append(
        f"This month to {mtd['through']:%d %B}: {fmt_usd(mtd['total_usd'])} (seat licences {fmt_usd(mtd['seats_usd'])}, "
        f"AI credits beyond the pool {fmt_usd(mtd['credits_net_usd'], 2)}"
        + (")" if mtd["credits_net_source"] == "billing" else ", computed)")
        + f"; at the current pace the month ends near {fmt_usd(projected['total_usd'])} (seat licences "
        f"{fmt_usd(projected['seats_usd'])}, AI credits beyond the pool {fmt_usd(projected['credits_net_usd'], 2)})."
    )
    return out


# ---------------------------------------------------------------------- sections
def headline(r: Report) -> Section:
    """Tiles: this month's credits, billed credits and US$, pool used, run-out, reassignable seats, reconciliation."""
    month_start = r.end.replace(day=1)
    bills, days, idle, fc, pool = _bills(r), _days(r), _idle(r), _month(r), _pool(r)
    closed, mtd, projected = _closed_month(r), _month_cost(r, month_start, r.end), _projected_cost(r)
    billed = bills.filter((pl.col("day") >= month_start) & pl.col("is_ai_credit")) if bills.height else None
    gross = None if billed is None else float(billed["credits"].sum())
    net = None if billed is None else float(billed["net_amount"].drop_nulls().sum())
    status = (
        "no billing data"
        if days.height == 0
        else ("reconciled" if not days["over_tolerance"].any() else f"{int(days['over_tolerance'].sum())} days differ")
    )
    reassignable = int(idle["reassignable"].sum()) if idle.height else 0
    figures = Headline(
        month=month_start,
        metrics_credits_mtd=fc.to_date,
        billed_gross_credits_mtd=gross,
        billed_net_usd_mtd=net,
        included_pool=pool,
        pool_used_share=fc.to_date / pool if pool else None,
        projected_month_credits=fc.projected,
        projected_low=fc.low,
        projected_high=fc.high,
        projected_exhaustion_date=fc.exhausted_on,
        idle_seat_cost_month=float(idle.filter(pl.col("reassignable"))["monthly_cost"].sum()) if idle.height else 0.0,
        reassignable_seats=reassignable,
        reconciliation=status,
        last_closed_month=closed,
        month_to_date_cost=mtd,
        projected_month_cost=projected,
    )
    tiles = Tiles(
        (
            Tile(
                f"Total cost {closed['month']:%B %Y}", fmt_usd(closed["total_usd"]), closed["total_change_vs_previous"]
            ),
            Tile("Cost this month so far", fmt_usd(mtd["total_usd"])),
            Tile("Projected cost this month", fmt_usd(projected["total_usd"])),
            Tile("Credits this month (metrics)", fmt_num(fc.to_date)),
            Tile("Billed gross credits this month", fmt_num(gross)),
            Tile("Billed net this month (US$)", "n/a" if net is None else f"${net:,.0f}"),
            Tile("Included pool used", "n/a" if not pool else f"{fc.to_date / pool:.0%}"),
            Tile("Pool runs out", "not this month" if fc.exhausted_on is None else f"{fc.exhausted_on:%d %b}"),
            Tile("Reassignable seats", fmt_num(reassignable)),
            Tile("Reconciliation", status),
        )
    )
    return section(tiles, cost_story(r, closed, mtd, projected), code_review_note(r), figures=figures)


ACTIONS_MINUTES_FROM = dt.date(2026, 6, 1)  # GitHub's changelog, 2026-04-27: code review runs on Actions runners


def code_review_note(r: Report) -> str:
    """What these figures leave out when Copilot code review ran this month: on private repositories it also
    uses GitHub Actions minutes, billed as Actions usage, not AI credits (empty when nobody used it)."""
    month_start = max(r.end.replace(day=1), ACTIONS_MINUTES_FROM)
    if r.end < month_start:
        return ""
    days = r.frame_between(
        "user_day", month_start, r.end, columns=("day", "user_id", "used_copilot_code_review_active")
    )
    if "used_copilot_code_review_active" not in days.columns:
        return ""
    users = days.filter(pl.col("used_copilot_code_review_active").fill_null(False))["user_id"].n_unique()
    if users == 0:
        return ""
    return (
        f"Copilot code review was used this month ({users:,} users). Since {ACTIONS_MINUTES_FROM:%Y-%m-%d} it also "
        "runs on GitHub Actions on private repositories, and GitHub bills those minutes as Actions usage, not AI "
        "credits (GitHub changelog, 2026-04-27): they are not in these figures; see the billing usage report's "
        "Actions lines."
    )


def reconciliation(r: Report) -> Section:
    """Metrics `ai_credits_used` per day against billing's gross AI credits; users and days on one side only."""
    bills, days, users = _bills(r), _days(r), _users(r)
    story: list[str] = [_billing_note(r, bills)]
    if days.height:
        story.append(licence_story(r))
        over = days.filter(pl.col("over_tolerance"))
        story.append(f"{days.height} days compared; {over.height} differ by more than the tolerance.")
        causes = over.group_by("cause").len().sort("len", descending=True)
        story += [f"{n} day(s): {c}." for c, n in causes.iter_rows()]
        if users.height:
            story.append(f"Per user: {users.height} user-days differ, listed below with their likely cause.")
    story.append(spend.unmatched_billing(users) or "")
    return section(
        story,
        Table(
            spend.differences(days), empty="No day differs by more than the tolerance (or there is no billing data)."
        ),
        _user_differences(r, users),
        Table(spend.gross_to_net(bills), empty="Gross, discount and net need billing data."),
        figures=licence_figures(r),
    )


def licence_figures(r: Report) -> dict[str, Any] | None:
    """``summary.json``'s ``licences`` of an organization (users and credits per licence kind, see
    :data:`spend.LICENCES`); None for an enterprise or without a seat roster."""
    found = _licences(r)
    if found is None:
        return None
    return {
        "licences": {
            row["licence"]: {"users": row["users"], "credits": row["credits"]} for row in found[1].iter_rows(named=True)
        }
    }


def billing_per_user(r: Report) -> Section:
    """Per user and month where billing was asked per seat holder: metrics credits against what billing charged."""
    first_month = r.start.replace(day=1)
    per_user = r.frame_between("billing_user_month", r.start, r.end)
    if not r.fetched("billing_user_month"):
        note = (
            "Billing was not asked per user. `copilot-usage fetch --reports billing-users` asks it once per seat "
            "holder and month (one API call each); GitHub's usage-report CSV, imported, gives users per day."
        )
    elif per_user.height == 0:
        note = f"The per-user billing in the cache has no month for {r.scope} from {r.start}."
    else:
        months = per_user["month"].unique().sort()
        note = (
            f"Billing asked per user: {per_user['user_asked'].n_unique():,} seat holders, {months.len()} month(s) "
            f"from {months[0]:%B %Y}. A month's bill that no asked user accounts for is the unattributed rest."
        )
    user_months = spend.reconcile_user_months(
        r.frame_between("user_day", first_month, r.end, columns=USER_DAY).lazy(),
        per_user,
        newest_metrics_day=r.end,
        abs_tol=settings(r).tolerance_credits,
        aliases=_aliases(r),
    )
    month_bills = r.frame_between("billing_usage", first_month, month_end(r.end))
    return section(
        [note, spend.unmatched_billing(user_months) or ""],
        Table(
            spend.billing_attribution(month_bills, per_user), empty="No per-user billing months (see the note above)."
        ),
        _user_differences(r, user_months, unit="user_months"),
    )


def models(r: Report) -> Section:
    """Billing's credits per model over the report's days, the estimate beside it and their difference (the value
    report's :func:`value_per_credit.model_credits`)."""
    found = model_credits(r, _usage(r))
    if found.split.credits.height:
        r.method_note(split_method_note(found.split.iterations))
    return section(
        model_story(found, leaders=r.audience.leadership),
        Table(found.table if found.billed else found.table.clear(), empty="No per-model billing rows.", name="models"),
    )


def pool(r: Report) -> Section:
    """The month's forecast against the included pool, and when it runs out."""
    fc, top = _month(r), _pool(r)
    story = forecast_story(fc, pool=top, period_end=month_end(r.end), label="month", credit_price=r.prices.credit)
    return section(
        story,
        Chart(
            charts.forecast(fc.daily, pool=top, events=r.events_for("credits")),
            data=fc.daily,
            needs=("seats",),
            name="month",
        ),
    )


def chargeback(r: Report) -> Section:
    """Credits per GitHub cost centre at list price and billed per cost centre: the last closed month (what finance
    books) first, then this month to date with each pool's run-out."""
    table, note, figures = _chargeback(r, _bills(r), price=r.prices.credit)
    closed, closed_note, closed_figures = _closed_chargeback(r)
    return section(
        closed_note,
        Table(closed, empty="No cost centre has k_min or more active users in the last closed month."),
        note,
        Table(table, empty="No cost centre has k_min or more active users this month."),
        figures={"cost_centres": figures, "cost_centres_last_closed_month": closed_figures},
    )


def budget_section(r: Report) -> Section:
    """Each budget's target, consumption, projection and run-out; per-user budgets' users above 80 % / 100 %."""
    table, users, note, figures = _budget_table(r)
    return section(
        [note, budget_pool_sentence(r, table)],
        Table(table, empty="No budget is set for this scope."),
        Table(users, user_column="user_login", analyst_only=True, empty="No user is above 80 % of a budget."),
        figures={"budgets": figures},
    )


def budget_pool_sentence(r: Report, table: pl.DataFrame) -> str:
    """Where budgets and the bill count differently: a budget counts all AI-credit use, including what the
    included pool covers, while the bill counts only use beyond the pool (GitHub Docs, "Usage-based billing for
    organizations and enterprises", linked in ``pricing.py``). Empty when no budget has consumed more than was
    billed beyond the pool this month."""
    consumed = table.filter(pl.col("consumed_usd").is_not_null() & (pl.col("budget_scope") != "user"))
    net = _month_cost(r, r.end.replace(day=1), r.end)["credits_net_usd"]
    if consumed.height == 0 or net is None:
        return ""
    top = consumed.sort("consumed_usd", descending=True).row(0, named=True)
    if top["consumed_usd"] <= net + 0.005:
        return ""
    return (
        "Budgets count all AI-credit use this month, including the use the included pool covers, while the bill "
        f"counts only use beyond the pool: so the {top['entity']} budget shows {fmt_usd(top['consumed_usd'], 2)} "
        f"consumed while AI credits billed beyond the pool so far this month come to {fmt_usd(net, 2)}."
    )


def idle_seats(r: Report) -> Section:
    """Seats by status, what the reassignable ones cost, per plan and organization; analysts see who."""
    idle = _idle(r)
    if idle.height == 0:
        story = ["No seat roster in the cache (`copilot-usage fetch --reports seats` fetches it)."]
    else:
        counts = dict(idle.group_by("status").len().iter_rows())
        unused = idle.filter(pl.col("reassignable"))
        # "active" here is the seat roster's last activity (within inactive_days), not the usage metrics' count
        story = [
            "Seat roster: "
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            + f" out of {idle.height} licensed users (active: Copilot activity in the last "
            f"{settings(r).inactive_days} days by GitHub's last-activity date)."
        ]
        story.append(
            f"The {unused.height} reassignable seats cost US${unused['monthly_cost'].sum():,.0f} a month "
            f"(seats at US${r.prices.seat_business:,.0f} Business / US${r.prices.seat_enterprise:,.0f} Enterprise "
            "a month)."
        )
    columns = ("user_login", "plan_type", "organization", "status", "days_since_activity", "monthly_cost")
    return section(
        story,
        Table(spend.idle_cost(idle, by="plan_type"), needs=("seats",), name="by_plan"),
        Table(
            protect(spend.idle_cost(idle, by="organization"), r.audience, group_users="seats"),
            empty="No organization has k_min or more seats in a status.",
            name="by_organization",
        ),
        Table(
            idle.filter(pl.col("reassignable")).select(columns) if idle.height else pl.DataFrame(),
            user_column="user_login",
            analyst_only=True,
            empty="No reassignable seat.",
            name="reassignable",
        ),
    )


def what_if(r: Report) -> Section:
    """Next month under simple assumptions (printed in the last column); deterministic arithmetic on next month's
    own projection."""
    month = month_end(r.end) + dt.timedelta(days=1)
    s, top, fc = settings(r), _pool(r, month), _next_month(r)
    figures = {
        "next_month": {
            "month": month,
            "credits_projected": fc.projected,
            "credits_low": fc.low,
            "credits_high": fc.high,
        },
    }
    if top is None:
        return section(r.not_fetched("seats"), Table(pl.DataFrame(), needs=("seats",)), figures=figures)
    if fc.projected is None:
        pace = "too few days of credit data to project it"
    elif fc.low is None or fc.high is None:
        pace = f"projected at {fc.projected:,.0f} credits (preliminary, no interval: {fc.preliminary})"
    else:
        pace = f"projected at {fc.projected:,.0f} credits (80% interval {fc.low:,.0f}–{fc.high:,.0f})"
    story = [
        f"Next month ({month:%B %Y}) is {pace}; its included pool is {top:,.0f} credits at the allowance in force then.",
        forecast_accuracy(r),
    ]
    table = spend.scenarios(
        _usage(r),
        _idle(r),
        forecast=fc.projected,
        pool=top,
        month=month,
        promotional=r.prices.promotional,
        cap_credits=s.cap_credits,
        growth=s.adoption_growth,
        price=r.prices.credit,
        included=_included(r),
    )
    return section(story, Table(table), figures=figures)


HORIZON_LABELS = {
    "this_month": "This month",
    "next_month": "Next month",
    "next_quarter": "Next three months",
    "next_12_months": "Next twelve months",
}


def outlook(r: Report) -> Section:
    """This month, next month, the next three and the next twelve months in credits and US$ (gross, the included
    pool in force each month, net beyond it, seat licences, total), from the scope's one forecast; each with its
    80 % interval, the longer ones marked as planning ranges."""
    by_horizon = outlook_table(r)
    p = projection(r)
    far = by_horizon.filter(pl.col("planning_range"))["period"].to_list()
    story = [
        outlook_answer(by_horizon),
        forecast_accuracy(r),
        (
            f"{', '.join(far)}: a planning range, not a measured one — the forecast was checked over "
            f"{p.backtest.horizon_days}-day periods and its interval is widened beyond them."
            if far and p.backtest
            else ""
        ),
        "" if r.fetched("seats") else r.not_fetched("seats"),
    ]
    monthly = cost_outlook(r).select("month", "credits", "low", "high", "included_pool", "planning_range")
    frames, said = scenarios(r)
    lines = pl.concat([f.select("scenario", "month", "credits") for f in frames[1:]]) if len(frames) > 1 else None
    table = scenario_table(frames, as_of=r.end)
    return section(
        [s for s in story if s],
        Chart(charts.outlook_fan(monthly, scenarios=lines), data=monthly, name="months"),
        Table(by_horizon.drop("planning_range"), name="horizons"),
        said,
        Table(table, name="scenarios", empty="No scenario is set (the spend notebook's scenario_* parameters)."),
        figures={
            "forecast": forecast_summary(r),
            "outlook_scenarios": table.to_dicts(),
        },
    )


def _day(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        msg = f"parameter {name}: {value!r} is not an ISO day (YYYY-MM-DD)"
        raise InputError(msg) from None


def scenarios(r: Report) -> tuple[list[pl.DataFrame], str]:
    """The outlook's months frame (the baseline) and one beside it per scenario the parameters name (arithmetic in
    :mod:`copilot_usage.analysis.outlook`), with a sentence saying what each assumes."""
    s, base = settings(r), cost_outlook(r)
    next_month = money.add_months(r.end, 1)
    frames, said = [base], []
    if s.scenario_seats:
        first = max(_day(s.scenario_seats_from, "scenario_seats_from") or next_month, r.end + dt.timedelta(days=1))
        frames.append(
            money.seats_scenario(base, seats=s.scenario_seats, from_day=first, as_of=r.end, price=r.prices.credit)
        )
        said.append(
            f"{s.scenario_seats:+,} seats from {first:%d %B %Y}: the pool changes by that month's included credits "
            "per seat, seat licences pro rata to the days held, credits by the scope's projected credits per seat"
        )
    if s.adoption_growth:
        frames.append(money.growth_scenario(base, growth=s.adoption_growth, price=r.prices.credit))
        said.append(f"adoption {s.adoption_growth:+.0%}: credit use after {r.end:%d %B} grows by that share")
    if (s.scenario_included_business or s.scenario_included_enterprise) and r.fetched("seats"):
        included = {
            "business": s.scenario_included_business or r.prices.included_business,
            "enterprise": s.scenario_included_enterprise or r.prices.included_enterprise,
        }
        future = github_changes.affecting(
            r.register, "included_credits", start=r.end + dt.timedelta(days=1), end=money.add_months(r.end, 13)
        )["day"]
        upcoming: dt.date | None = future.min() if future.len() else None  # type: ignore[assignment]
        first = _day(s.scenario_included_from, "scenario_included_from") or upcoming or next_month
        roster = r.frame("seats")
        label = f"allowance {included['business']:,} / {included['enterprise']:,} from {first:%b %Y}"
        frames.append(
            money.allowance_scenario(
                base,
                pool_for=lambda m: metrics.included_pool(roster, month=m, promotional=False, included=included),
                from_day=first,
                label=label,
                price=r.prices.credit,
            )
        )
        said.append(
            f"{label}: included credits per Business / Enterprise licence from that month on (the allowance changes "
            "from the month holding the day)"
        )
    sentence = (
        "Scenarios beside the baseline (deterministic arithmetic on the baseline's central figure, no band of "
        "their own): " + "; ".join(said) + "."
        if said
        else ""
    )
    return frames, sentence


def scenario_table(frames: list[pl.DataFrame], *, as_of: dt.date) -> pl.DataFrame:
    """Horizon × scenario: credits and total US$ (seat licences and AI credits beyond the pool)."""
    if len(frames) < 2:
        return pl.DataFrame()
    rows = money.scenario_horizons(frames, as_of=as_of)
    return rows.select(
        "scenario",
        period=pl.col("horizon").replace_strict(HORIZON_LABELS),
        credits=pl.col("credits"),
        total_usd=pl.col("usd_total"),
    )


def outlook_answer(by_horizon: pl.DataFrame) -> str:
    """The section's answer in one sentence: each horizon's total cost (seat licences and AI credits beyond the
    pool) where it is known."""
    known = by_horizon.drop_nulls("total_usd")
    if known.height == 0:
        return ""
    parts = [f"{row['period']} US${row['total_usd']:,.0f}" for row in known.iter_rows(named=True)]
    return f"Total cost (seat licences and AI credits beyond the included pool): {'; '.join(parts)}."


def outlook_table(r: Report) -> pl.DataFrame:
    """The rows of :func:`outlook`, one per horizon, with readable headings."""
    rows = horizons(cost_outlook(r), as_of=r.end)
    return rows.select(
        period=pl.col("horizon").replace_strict(HORIZON_LABELS)
        + pl.lit(" (")
        + pl.col("start").dt.strftime("%b %Y")
        + pl.when(pl.col("start").dt.month_start() == pl.col("end").dt.month_start())
        .then(pl.lit(""))
        .otherwise(pl.lit(" – ") + pl.col("end").dt.strftime("%b %Y"))
        + pl.lit(")"),
        credits=pl.col("credits"),
        credits_low=pl.col("low"),
        credits_high=pl.col("high"),
        gross_usd=pl.col("usd_gross"),
        included_pool_credits=pl.col("included_pool"),
        net_usd=pl.col("usd_net"),
        net_usd_high=pl.col("usd_net_high"),
        seats_usd=pl.col("seats_usd"),
        total_usd=pl.col("usd_total"),
        total_usd_low=pl.col("usd_total_low"),
        total_usd_high=pl.col("usd_total_high"),
        planning_range=pl.col("planning_range"),
    )


# ---------------------------------------------------------------------- cost centres and budgets
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


def _centre_mapping(r: Report) -> pl.DataFrame:
    """Users → GitHub cost centres, effective-dated (:func:`cost_centers.mapping`), once per report."""
    return r.memo(
        "spend.centre_mapping",
        lambda: teams.units_from_mapping(
            cost_centers.mapping(r.frame("cost_center_members", all_scopes=True)),
            unit="unit",
            source="GitHub's cost centres",
        ),
    )


def _closed_chargeback(r: Report) -> tuple[pl.DataFrame, str, dict[str, Any]]:
    """The last closed month's chargeback per cost centre (:func:`cost_centers.chargeback`, without the pools,
    which are this month's), a note, and its figures; empty with a note when cost centres were not fetched."""
    month = last_closed_month(r.end)
    last = month_end(month)
    figures: dict[str, Any] = {"month": month, "cost_centres": []}
    if not r.fetched("cost_centers"):
        return pl.DataFrame(), "", figures
    days = teams.map_user_days(
        r.frame_between("user_day", month, last, columns=USER_DAY),
        _centre_mapping(r),
        unassigned=cost_centers.NO_COST_CENTRE,
    )
    centres = r.frame("cost_centers", all_scopes=True)
    # the list nearest the month: the first one on or after its end, else the newest
    after = centres.filter(pl.col("snapshot_day") >= last)["snapshot_day"]
    snapshot: dt.date = after.min() if after.len() else centres["snapshot_day"].max()  # type: ignore[assignment]
    table = cost_centers.chargeback(
        days,
        r.frame_between("billing_usage", month, last),
        centres.filter(pl.col("snapshot_day") == snapshot),
        price=r.prices.credit,
    ).drop("pool_target_credits", "pool_current_credits")
    shown = protect(table, r.audience, group_users="active_users")
    first = _first_metrics_day(r)
    partial = first is not None and first > month
    note = (
        f"Chargeback for {month:%B %Y}, the last closed month: {table.height} cost centres whose credits sum to "
        f"the scope's {table['credits'].sum():,.0f}"
        + (f" (the data starts on {first:%d %B}, so this is a part month)" if partial else "")
        + f". Members as GitHub listed them on {snapshot:%d %B %Y}; where that list is later than the month, "
        "it is taken to hold for the month too."
    )
    if shown.height < table.height:
        note += f" {table.height - shown.height} cost centre(s) with too few active users to show are left out."
    figures["cost_centres"] = [
        {k: c[k] for k in ("cost_centre", "credits", "list_usd", "billed_gross_credits", "billed_net_usd")}
        for c in shown.iter_rows(named=True)
    ]
    return shown, note, figures


def _chargeback(r: Report, bills: pl.DataFrame, *, price: float) -> tuple[pl.DataFrame, str, list[dict[str, Any]]]:
    """The month's chargeback per GitHub cost centre (month of the report's end; see
    :func:`cost_centers.chargeback`), with each AI-credit pool's projected exhaustion at the current pace
    (:func:`budgets.projection` on the cost centre's own credits), and a note; empty with the fetch command when
    cost centres were not fetched."""
    if not r.fetched("cost_centers"):
        missing = r.not_fetched("cost_centers", "cost_center_members") + COST_CENTRE_TOKEN
        return pl.DataFrame(schema=CHARGEBACK_SCHEMA), missing, []
    month, last = r.end.replace(day=1), month_end(r.end)
    mapping = _centre_mapping(r)
    first = min(month, r.end - dt.timedelta(days=59))
    days = teams.map_user_days(
        r.frame_between("user_day", first, r.end, columns=USER_DAY), mapping, unassigned=cost_centers.NO_COST_CENTRE
    )
    centres = r.frame("cost_centers", all_scopes=True)
    snapshot: dt.date = centres["snapshot_day"].max()  # type: ignore[assignment]
    newest = centres.filter(pl.col("snapshot_day") == snapshot)
    in_month = bills.filter(pl.col("day").is_between(month, last))
    table = cost_centers.chargeback(days.filter(pl.col("day") >= month), in_month, newest, price=price)
    projected: list[dict[str, Any]] = []
    young: list[tuple[str, str]] = []
    pooled = table.filter(pl.col("pool_target_credits").is_not_null())
    # a pool is of the month of its snapshot (it resets on the 1st): projected over that month
    pool_month = snapshot.replace(day=1) if isinstance(snapshot, dt.date) else month
    members = cost_centers.mapping(r.frame("cost_center_members", all_scopes=True))
    for row in pooled.iter_rows(named=True):  # the few cost centres with a pool
        created = cost_centers.created_on(members, row["cost_centre"])
        since = max(first, created) if created else first
        daily = cost_centers.daily_credits(days, row["cost_centre"], first=since, end=r.end)
        if created and created > first:
            young.append((row["cost_centre"], young_centre_sentence(row["cost_centre"], created, daily.height)))
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
                "pool_exhaustion_p90": p["exhausted_p90"],
            }
        )
    proj = pl.DataFrame(
        projected,
        schema={k: CHARGEBACK_SCHEMA[k] for k in ("cost_centre", "pool_projected_credits", "pool_projected_exhaustion")}
        | {"pool_exhaustion_p90": pl.Date},
    )
    p90 = proj.select("cost_centre", "pool_exhaustion_p90")
    table = table.join(proj, on="cost_centre", how="left").select(list(CHARGEBACK_SCHEMA))
    shown = protect(table, r.audience, group_users="active_users")
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
    shown_names = set(shown["cost_centre"].to_list())
    note += "".join(f" {y}" for name, y in young if name in shown_names)
    figures = [
        {
            "cost_centre": c["cost_centre"],
            "credits": c["credits"],
            "list_usd": c["list_usd"],
            "billed_net_usd": c["billed_net_usd"],
            "pool_target_credits": c["pool_target_credits"],
            "pool_current_credits": c["pool_current_credits"],
            "pool_projected_exhaustion_date": c["pool_projected_exhaustion"],
            "exhaustion_p50": c["pool_projected_exhaustion"],
            "exhaustion_p90": c["pool_exhaustion_p90"],
        }
        for c in shown.join(p90, on="cost_centre", how="left").iter_rows(named=True)
    ]
    return shown, note, figures


def young_centre_sentence(centre: str, created: dt.date, days: int) -> str:
    """Why a cost centre created within the history has a short or preliminary pool projection."""
    if days == 0:
        return f"Cost centre {centre} was created on {created}, after the metrics' last day: its pool is not projected."
    how = (
        "a preliminary run-out, with no interval"
        if days < forecast.MIN_HISTORY_DAYS
        else "a run-out from those days only"
    )
    return (
        f"Cost centre {centre} was created on {created}: its pool is projected from its {days} day(s) since "
        f"({how}), not from days before it existed."
    )


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
    "users_over_100pct_at_month_end": pl.Int64,
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
            first: dt.date = recent["day"].min() or r.end  # type: ignore[assignment]
            org = (
                read.scan(r.data_dir, "user_day", scope=f"org:{entity}", start=first, end=r.end)
                .select(USER_DAY)
                .collect()
            )
        except NotInCache:
            org = recent.clear()
        if org.height:
            return org, f"organization {entity}'s metrics (its members in every org they belong to)"
        return None, f"the metrics of organization {entity} are not in the cache (`fetch --org {entity}`)"
    if kind == "cost_center":
        if by_centre is None:
            return None, "cost centres were not fetched (`fetch --reports cost-centers`)"
        return by_centre.filter(pl.col("unit") == entity), f"the metrics of cost centre {entity}'s members"
    if kind == "user":  # a billing username: on EMU tenants it can differ from the metrics login
        login = spend.metrics_login(entity, _aliases(r))
        how = "the user's metrics" + (
            f" (billing username {entity} is metrics login {login})" if login != entity.lower() else ""
        )
        return recent.filter(pl.col("user_login").str.to_lowercase() == login), how
    if kind == "enterprise":
        return None, f"an enterprise budget: the {slug} report holds one organization's metrics"
    return None, f"the kit cannot attribute a {kind} budget to metrics"


def _month_end_ratio(r: Report, start: dt.date, through: dt.date, end: dt.date) -> float | None:
    """The scope's projected credits of ``[start, end]`` over its credits of ``[start, through]`` (the one
    forecaster's projection), or None when there is nothing to scale (no credits to date)."""
    p = projection(r)
    to_date = p.total(start, through).credits
    return p.total(start, end).credits / to_date if to_date > 0 else None


def _budget_table(r: Report) -> tuple[pl.DataFrame, pl.DataFrame, str, list[dict[str, Any]]]:
    """The scope's budgets from the newest snapshot: target, consumed this month (GitHub's figure), projected
    consumption at month end (the trends forecast restricted to the budget's scope, with its 80 % interval, added
    to what was consumed), projected exhaustion date (null when it will not run out), whether it blocks, and for
    per-user budgets how many users are above 80 % and 100 % of their target. Returns the table, the per-user
    states above 80 % (analysts) and a note; empty tables with the fetch command when budgets were not fetched."""
    if not r.fetched("budgets"):
        return (
            pl.DataFrame(schema=BUDGET_TABLE_SCHEMA),
            pl.DataFrame(schema=BUDGET_STATES_SCHEMA),
            r.not_fetched("budgets", "budget_user_states") + BUDGET_TOKEN,
            [],
        )
    frame = r.frame("budgets")
    states_all = r.frame("budget_user_states")
    snapshot = frame["snapshot_day"].max()
    assert isinstance(snapshot, dt.date)
    frame = frame.filter(pl.col("snapshot_day") == snapshot)
    states = states_all.filter(pl.col("snapshot_day") == snapshot).with_columns(
        share=pl.col("consumed_amount") / pl.col("target_amount")
    )
    start, end = snapshot.replace(day=1), month_end(snapshot)
    through = max(snapshot - dt.timedelta(days=1), start)
    first = r.end - dt.timedelta(days=59)
    recent = r.frame_between("user_day", first, r.end, columns=USER_DAY)
    by_centre = None
    if r.fetched("cost_centers"):
        members = r.frame("cost_center_members", all_scopes=True)
        mapping = teams.units_from_mapping(cost_centers.mapping(members), unit="unit", source="GitHub's cost centres")
        by_centre = teams.map_user_days(recent, mapping, unassigned=cost_centers.NO_COST_CENTRE)
    grid = pl.DataFrame({"day": pl.date_range(first, r.end, eager=True)})
    ratio = _month_end_ratio(r, start, through, end)
    per_budget = (
        states.group_by("budget_id")
        .agg(
            users_over_80pct=(pl.col("share") >= 0.8).sum().cast(pl.Int64),
            users_over_100pct=(pl.col("share") >= 1.0).sum().cast(pl.Int64),
        )
        .join(budgets.users_over_at_month_end(states, ratio=ratio), on="budget_id", how="left")
    )
    rows = []
    for b in frame.iter_rows(named=True):  # a budget each: a handful, each its own forecast
        kind, entity = b["scope_kind"] or "", b["budget_entity_name"] or ""
        target = None if b["budget_amount"] is None else b["budget_amount"] / r.prices.credit
        consumed = None if b["consumed_amount"] is None else b["consumed_amount"] / r.prices.credit
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
        usd = {k: None if p[k] is None else round(p[k] * r.prices.credit, 2) for k in ("projected", "low", "high")}
        rows.append(
            {
                "budget_id": b["budget_id"],
                "budget_scope": b["budget_scope"],
                "entity": "(one user)" if kind == "user" and r.audience.leadership else entity,
                "target_usd": b["budget_amount"],
                "consumed_usd": b["consumed_amount"],
                "projected_usd": usd["projected"],
                "projected_low_usd": usd["low"],
                "projected_high_usd": usd["high"],
                "projected_exhaustion_date": p["exhausted_on"],
                "exhaustion_p90": p.get("exhausted_p90"),
                "blocks": b["prevent_further_usage"],
                "attribution": how,
            }
        )
    table = pl.DataFrame(
        rows,
        schema={k: v for k, v in BUDGET_TABLE_SCHEMA.items() if not k.startswith("users_")}
        | {"exhaustion_p90": pl.Date},
    ).join(per_budget, on="budget_id", how="left")
    p90 = table.select("budget_id", "exhaustion_p90")
    table = table.select(list(BUDGET_TABLE_SCHEMA))
    figures = [
        {
            "id": t["budget_id"],
            "scope": t["budget_scope"],
            "entity": t["entity"],
            "target_usd": t["target_usd"],
            "consumed_usd": t["consumed_usd"],
            "projected_usd": t["projected_usd"],
            "projected_exhaustion_date": t["projected_exhaustion_date"],
            "exhaustion_p50": t["projected_exhaustion_date"],
            "exhaustion_p90": t["exhaustion_p90"],
            "blocks": t["blocks"],
            "users_over_100pct_at_month_end": t["users_over_100pct_at_month_end"],
        }
        for t in table.join(p90, on="budget_id", how="left").iter_rows(named=True)
    ]
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
        + (
            f" Per-user budgets at month end: each user's consumption so far × {ratio:.2f}, the scope's projected "
            f"month over its month to date (every user taken to keep the scope's pace)."
            if ratio is not None and states.height
            else ""
        )
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
        figures,
    )
