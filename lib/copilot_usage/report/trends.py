"""The trends report (``notebooks/trends.ipynb``): who uses Copilot, how many AI credits that drives, which
features, models and surfaces take over, how new seats ramp up, and what the month and quarter will cost.

One function per section of the notebook, each ``Report -> Section``. ``user_day`` is read once (with 27 days
before the period, for 28-day distinct counts on its first day) and shared through :meth:`Report.memo`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..analysis import github_changes, metrics
from ..analysis.measures import as_float
from ..catalog import CLI_CUSTOMISATION_KINDS, FIELD_STARTS
from . import charts
from .common import (
    change_phrase,
    forecast_accuracy,
    forecast_story,
    forecast_summary,
    included_pool,
    month_end,
    quarter_end,
    quarter_start,
    scope_forecast,
)
from .context import Report
from .html import fmt_num
from .privacy import protect
from .section import Chart, Section, Table, Tile, Tiles, section

LOOKBACK_DAYS = 27  # 28-day distinct users on the period's first day
NEW_SURFACES = {
    "Copilot app": FIELD_STARTS["copilot_app_user"],
    "VS Code Agents window": FIELD_STARTS["vscode_agent"],
    "Third-party agents": FIELD_STARTS["third_party_agent"],
}
# the user_day columns the report reads (a 100,000-seat quarter is 5 M rows of about 40 columns)
USER_DAY = tuple(
    dict.fromkeys(
        (
            "day",
            "user_id",
            "user_login",
            "ai_credits_used",
            "ai_adoption_phase_number",
            *metrics.SURFACES,
            *metrics.DETAIL,
            *(f"distinct_{kind}_use_count" for kind in CLI_CUSTOMISATION_KINDS),
        )
    )
)


# ---------------------------------------------------------------------- shared frames
def _with_lookback(r: Report) -> pl.DataFrame:
    return r.frame("user_day", lookback_days=LOOKBACK_DAYS, columns=USER_DAY)


def usage(r: Report) -> pl.DataFrame:
    """``user_day`` of the period: a zero-copy slice of the frame with the lookback when that is in day order (as
    the build writes it: at 100,000 seats a filtered copy is another half gigabyte)."""

    def compute() -> pl.DataFrame:
        frame = _with_lookback(r)
        if frame["day"].is_sorted():
            return frame.slice(int(frame["day"].search_sorted(r.start, side="left")))
        return frame.filter(pl.col("day") >= r.start)

    return r.memo("usage", compute)


def daily(r: Report) -> pl.DataFrame:
    """:func:`metrics.daily_activity` of the period."""
    return r.memo("daily", lambda: metrics.daily_activity(usage(r), start=r.start, end=r.end))


def active(r: Report) -> pl.DataFrame:
    """:func:`metrics.active_users` of the period (windows reach into the lookback)."""
    return r.memo("active", lambda: metrics.active_users(_with_lookback(r), start=r.start, end=r.end))


def _cpu_change(d: pl.DataFrame, days: int, end: dt.date) -> float | None:
    c = metrics.period_change(d, column="credits", days=days, end=end)
    u = metrics.period_change(d.filter(pl.col("credits").is_not_null()), column="active_users", days=days, end=end)
    if not (c.current and c.previous and u.current and u.previous):
        return None
    return (c.current / u.current) / (c.previous / u.previous) - 1


# ---------------------------------------------------------------------- headline
@dataclass(frozen=True)
class Headline:
    credits_total: float | None
    credits_at_list_price_usd: float | None
    weekly_active_users: int | None
    monthly_active_users: int | None
    credits_per_active_user_day: float | None
    credits_wow_change: float | None
    credits_per_active_user_wow_change: float | None
    credits_per_active_user_mom_change: float | None


def headline_figures(r: Report) -> Headline:
    d, au = daily(r), active(r)
    credits = d["credits"].drop_nulls()
    total = float(credits.sum()) if credits.len() else None
    last = au.filter(pl.col("day") == r.end)
    billed_days = d.filter(pl.col("credits").is_not_null())
    user_days = float(au.filter(pl.col("day").is_in(billed_days["day"].implode()))["daily_active_users"].sum())
    return Headline(
        credits_total=total,
        credits_at_list_price_usd=None if total is None else total * r.prices.credit,
        weekly_active_users=int(last["weekly_active_users"].item()) if last.height else None,
        monthly_active_users=int(last["monthly_active_users"].item()) if last.height else None,
        credits_per_active_user_day=float(billed_days["credits"].sum()) / user_days if user_days else None,
        credits_wow_change=metrics.period_change(d, column="credits", days=7, end=r.end).change,
        credits_per_active_user_wow_change=_cpu_change(d, 7, r.end),
        credits_per_active_user_mom_change=_cpu_change(d, 28, r.end),
    )


def headline(r: Report) -> Section:
    """KPI tiles: credits and their value at list price, 7- and 28-day active users, credits per active user-day, and the
    last 7 days' credits against the 7 before."""
    h = headline_figures(r)
    week = metrics.period_change(daily(r), column="credits", days=7, end=r.end)
    tiles = (
        Tile("AI credits in period", fmt_num(h.credits_total)),
        Tile(
            "Credits at list price (US$)",
            "n/a" if h.credits_at_list_price_usd is None else f"${h.credits_at_list_price_usd:,.0f}",
        ),
        Tile("Active users, last 7 days (usage metrics, distinct)", fmt_num(h.weekly_active_users)),
        Tile("Active users, last 28 days (usage metrics, distinct)", fmt_num(h.monthly_active_users)),
        Tile(
            "Credits per active user-day",
            fmt_num(h.credits_per_active_user_day, digits=1),
            h.credits_per_active_user_wow_change,
        ),
        Tile("Credits, last 7 days", fmt_num(week.current), h.credits_wow_change),
    )
    # the tiles' week-over-week changes: the definition changes between the two weeks, each once
    week_changes = github_changes.between(
        r.register, ["credits", "credits_per_active_user"], first=r.end - dt.timedelta(days=13), end=r.end
    )
    return section(Tiles(tiles), week_changes, figures=h)


# ---------------------------------------------------------------------- sections
def active_users(r: Report) -> Section:
    """Distinct users active on the day, in the trailing 7 and 28 days; then the users GitHub reports with
    credits but no activity detail."""
    au = active(r)
    return section(
        active_story(au, r.end, register=r.register),
        Chart(charts.active_users(au, events=r.events_for("active_users")), data=au),
        no_detail_story(metrics.activity_detail(usage(r))),
    )


def active_story(au: pl.DataFrame, end: dt.date, *, register: pl.DataFrame) -> list[str]:
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
        out += github_changes.straddling(register, "active_users", end=end, days=28)
    if not row["full_window"]:
        out.append("The cache holds less than 28 days before this date, so the 28-day count is a lower bound.")
    return out


def no_detail_story(detail: dict[str, int]) -> list[str]:
    """The server-side-only users (:func:`metrics.activity_detail`), said as such; nothing when there are none."""
    n, total = detail.get("no_detail_users", 0), detail.get("active_users", 0)
    if not n or not total:
        return []
    return [
        (
            f"{n:,} of the {total:,} active users ({n / total:.0%}) appear with credits but no activity detail "
            "(GitHub's server-side telemetry since 2026-06-15): they count as active users, but no feature, model, "
            "IDE or surface figure can include them."
        )
    ]


def credits(r: Report) -> Section:
    """Credits per day with their 7-day mean, the busiest day and the weekend share."""
    d = daily(r)
    return section(
        credits_story(d, r.end, register=r.register),
        Chart(charts.credits_per_day(d, events=r.events_for("credits")), data=d.drop_nulls("credits")),
    )


def credits_story(d: pl.DataFrame, end: dt.date, *, register: pl.DataFrame) -> list[str]:
    billed = d.drop_nulls("credits")
    if billed.height == 0:
        return ["No day in this period carries `ai_credits_used` (the field exists from 2026-06-19)."]
    peak = billed.sort("credits", descending=True).row(0, named=True)
    wk = billed.with_columns(weekend=pl.col("day").dt.weekday() >= 6).group_by("weekend").agg(pl.col("credits").mean())
    weekday = wk.filter(~pl.col("weekend"))["credits"]
    weekend = wk.filter(pl.col("weekend"))["credits"]
    out = [
        change_phrase(
            "AI credits", metrics.period_change(d, column="credits", days=7, end=end).change, "week over week"
        ),
        *github_changes.straddling(register, "credits", end=end, days=7),
        f"The busiest day was {peak['day']:%a %d %b} with {peak['credits']:,.0f} credits.",
    ]
    if weekday.len() and weekend.len() and weekday.item():
        out.append(f"A weekend day uses {weekend.item() / weekday.item():.0%} of a weekday's credits.")
    return out


def credits_per_active_user(r: Report) -> Section:
    """Credits per active user (ratio of sums over the users whose rows carry ``ai_credits_used``): week over week
    and the last 28 days against the 28 before, and the definition changes between those periods."""
    d = daily(r)
    sentences = cpu_story(d, r.end, register=r.register)
    spec = charts.credits_per_active_user(d, events=r.events_for("credits_per_active_user"))
    return section(sentences, Chart(spec, data=d.drop_nulls("credits_per_active_user")))


def cpu_story(d: pl.DataFrame, end: dt.date, *, register: pl.DataFrame) -> list[str]:
    """Week-over-week and 28-day changes of credits per active user, then the definition changes between the
    28-day comparison's periods (which contain the weekly one's)."""
    return [
        change_phrase("credits per active user", _cpu_change(d, 7, end), "week over week"),
        change_phrase("credits per active user", _cpu_change(d, 28, end), "over the last 28 days versus the 28 before"),
        *github_changes.straddling(register, "credits_per_active_user", end=end, days=28),
    ]


_MIX = {
    "feature": ("user_feature_day", "Code generations by feature (weekly share)"),
    "model": ("user_model_feature_day", "Code generations by model (weekly share, chat models)"),
    "ide": ("user_ide_day", "Code generations by IDE (weekly share)"),
}

MIX_COLUMNS = {by: ("day", "user_id", by, "code_generation_activity_count") for by in _MIX}
# the register's measures each mix can move with: GitHub's 07-28 change added Copilot-app code generations (a
# copilot_app value in the roll-ups), the 10-06 one under-counts agent activity by IDE version and model
MIX_MEASURES = {
    "feature": ["feature_mix", "code_generation"],
    "model": ["code_generation", "agent"],
    "ide": ["code_generation", "agent"],
}


def mix(r: Report, by: str) -> Section:
    """Weekly share of code generations by ``by`` (``feature``, ``model`` or ``ide``); small categories and
    categories under ``k_min`` users are folded into *other*."""
    table, title = _MIX[by]
    # aggregated straight from the scan: the breakdowns are several rows per user-day and are read by no other section
    shares = metrics.mix(r.scan(table, columns=MIX_COLUMNS[by]), by=by, k_min=r.k_min)
    said = mix_story(shares, by, register=r.register, end=r.end)
    events = r.events_for(*MIX_MEASURES[by])
    return section(said, Chart(charts.mix_share(shares, by=by, title=title, events=events), data=shares))


def mix_story(shares: pl.DataFrame, by: str, *, register: pl.DataFrame, end: dt.date) -> list[str]:
    """The largest share of the latest week against the first week, and the definition changes between those
    weeks that can move this mix (:data:`MIX_MEASURES`)."""
    if shares.height == 0:
        return []
    weeks = shares["week"].unique().sort()
    last = shares.filter(pl.col("week") == weeks.max()).sort("share", descending=True)
    first = shares.filter(pl.col("week") == weeks.min())
    top = last.row(0, named=True)
    before = first.filter(pl.col(by) == top[by])["share"]
    out = [f"In the latest week, {top[by]} had the largest share of code generations by {by} ({top['share']:.0%})."]
    if before.len() and weeks.len() > 1:
        out.append(f"That share was {before.item():.0%} in the first week of the period.")
        first_week: dt.date = weeks.min()  # type: ignore[assignment]
        out += github_changes.between(register, MIX_MEASURES[by], first=first_week, end=end)
    return out


def surfaces(r: Report) -> Section:
    """Share of each week's active users on each surface (agent mode, chat, CLI, code review, cloud agent, the
    Copilot app, the VS Code Agents window, third-party agents — the last three only on days GitHub reports them)."""
    adoption = metrics.surface_adoption(usage(r))
    events = r.events_for("agent", "cli")
    chart = Chart(charts.surface_adoption(adoption, events=events), data=adoption)
    agents = protect(
        metrics.third_party_agents(r.frame("user_3rd_party_agent_day"), r.frame("aggregate_3rd_party_agent_day")),
        r.audience,
        group_users="users",
    )
    empty = "No third-party agent activity in this period (GitHub reports it from 2026-08-07; absent is not zero)."
    return section(
        surface_story(adoption, register=r.register, end=r.end),
        chart,
        agents_story(agents),
        Table(agents, empty=empty, needs=("user_3rd_party_agent_day", "aggregate_3rd_party_agent_day")),
    )


def agents_story(agents: pl.DataFrame) -> list[str]:
    """The third-party agent apps of the period, each with its users and job starts."""
    named = agents.drop_nulls("users")
    if named.height == 0:
        return []
    listed = "; ".join(
        f"{row['agent']}: {row['users']:,} users, {row['job_starts'] or 0:,} job starts"
        for row in named.head(5).iter_rows(named=True)
    )
    return [
        f"Third-party agents GitHub recognised in the period — {listed}. A job start is not an interaction: it is "
        "never added to the interaction counts, and agents GitHub does not recognise are not listed."
    ]


def surface_story(adoption: pl.DataFrame, *, register: pl.DataFrame, end: dt.date) -> list[str]:
    """The surface that grew most from the first to the latest week (and the definition changes of agent and CLI
    activity between them), then the surfaces GitHub added in 2026."""
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
        out += github_changes.between(register, ["agent", "cli"], first=weeks.min(), end=end)  # type: ignore[arg-type]
    new = last.filter(pl.col("surface").is_in(list(NEW_SURFACES)) & pl.col("share").is_not_null())
    if new.height:
        listed = ", ".join(
            f"{s} {share:.0%}" for s, share in new.sort("surface").select("surface", "share").iter_rows()
        )
        out.append(
            f"Surfaces GitHub added in 2026, share of the latest week's active users: {listed} (the VS Code Agents "
            "window is separate from in-editor agent mode; third-party agents are apps such as Claude or Codex)."
        )
    missing = [s for s in NEW_SURFACES if s not in set(new["surface"])]
    if missing:
        out.append(f"Not reported in the latest week: {', '.join(missing)} (absent is not zero).")
    return out


def cli_customisations(r: Report) -> Section:
    """Which kinds of CLI customisation are used (from 2026-09-17), per kind and never added across kinds."""
    kinds = protect(metrics.cli_customisations(usage(r), r.frame("aggregate_day")), r.audience, group_users="users")
    empty = "No CLI customisation data in this period (GitHub reports it from 2026-09-17), or groups under k_min."
    top = metrics.top_customisations(r.frame("aggregate_cli_customisation_day"), n=5)
    return section(
        customisation_story(kinds),
        Chart(charts.cli_customisations(kinds), data=kinds, empty=empty),
        "The most used of each kind over the period (GitHub's top five a day per kind; interactions summed over "
        "days within a kind, never across kinds; 'other' and 'custom' are your own):"
        if top.height
        else "",
        Table(top, empty="", needs=("aggregate_cli_customisation_day",)),
    )


def customisation_story(kinds: pl.DataFrame) -> list[str]:
    if kinds.height == 0:
        return []
    cli = int(as_float(kinds["cli_users"].max()) or 0)
    parts = [
        f"{row['label']} {row['users']:,}"
        + (f" ({row['share_of_cli_users']:.0%})" if row["share_of_cli_users"] is not None else "")
        + (f", {row['entities_latest']} in use on the latest day" if row["entities_latest"] is not None else "")
        for row in kinds.iter_rows(named=True)
    ]  # one sentence part per kind (at most five rows)
    return [
        f"Of {cli:,} CLI users, those who used each kind of customisation: " + "; ".join(parts) + ".",
        (
            "Kinds are not added up: plugins are skills that belong to a plugin (counted under skills too), MCP "
            "counts are connection attempts rather than tool calls, and the numbers in use are GitHub's distinct "
            "counts for the whole scope, not sums over users."
        ),
    ]


def phase_transitions(r: Report) -> Section:
    """GitHub's adoption phases: last phase seen in a month against the next month (groups under k_min hidden)."""
    moves = protect(metrics.phase_transitions(usage(r)), r.audience, group_users="users")
    empty = "Fewer than two months of adoption-phase data (or groups under k_min) in this period."
    return section(Chart(charts.phase_transitions(moves), data=moves, empty=empty))


def seat_ramp(r: Report) -> Section:
    """Days from seat grant to first use and to first agent-mode use, for seats granted in the period (hidden
    when fewer than k_min seats were granted)."""
    ramp = metrics.seat_ramp(r.frame("seats"), usage(r), since=r.start)
    shown = ramp.head(ramp.height * (ramp.height >= r.k_min))
    empty = "Fewer than k_min seats were granted in this period."
    return section(ramp_story(ramp), Chart(charts.seat_ramp(ramp), data=shown, empty=empty, needs=("seats",)))


def ramp_story(ramp: pl.DataFrame) -> list[str]:
    if ramp.height == 0:
        return []
    used = ramp["days_to_first_use"].drop_nulls()
    agent = ramp["days_to_first_agent"].drop_nulls()
    out = [
        (
            f"{ramp.height} seats were granted in the period; {used.len()} have been used, a median "
            f"{as_float(used.median()) or 0:.0f} days after the grant."
        )
    ]
    if agent.len():
        out.append(
            f"{agent.len()} reached agent mode, a median {as_float(agent.median()) or 0:.0f} days after the grant."
        )
    return out


@dataclass(frozen=True)
class ForecastFigures:
    included_pool: float | None
    month_projected: float | None
    month_low: float | None
    month_high: float | None
    pool_exhausted_on: dt.date | None
    quarter_projected: float | None
    quarter_low: float | None
    quarter_high: float | None
    forecast: dict[str, Any]


def forecast(r: Report) -> Section:
    """The month and the quarter at the current pace (80 % interval), and when the included pool runs out."""
    pool = included_pool(r)
    month = scope_forecast(r, r.end.replace(day=1), month_end(r.end), pool=pool)
    quarter = scope_forecast(r, quarter_start(r.end), quarter_end(r.end))
    figures = ForecastFigures(
        included_pool=pool,
        month_projected=month.projected,
        month_low=month.low,
        month_high=month.high,
        pool_exhausted_on=month.exhausted_on,
        quarter_projected=quarter.projected,
        quarter_low=quarter.low,
        quarter_high=quarter.high,
        forecast=forecast_summary(r),
    )
    credit = r.prices.credit
    return section(
        [
            *forecast_story(month, pool=pool, period_end=month_end(r.end), label="month", credit_price=credit),
            r.not_fetched("seats"),
        ],
        forecast_story(quarter, pool=None, period_end=quarter_end(r.end), label="quarter", credit_price=credit),
        forecast_accuracy(r),
        Chart(charts.forecast(month.daily, pool=pool, events=r.events_for("credits")), data=month.daily, name="month"),
        figures=figures,
    )


UNUSUAL_DAYS = 28  # the period's last four weeks, each day against the 28 before it (a 90-day period holds both)


@dataclass(frozen=True)
class UnusualFigures:
    days_assessed: int
    findings: int  # events as the audience sees them (leadership: users as one count per day; a group its day's
    # flagged users explain is theirs)
    scope_days: int  # days the scope itself left its band


def unusual(r: Report) -> Section:
    """What changed unusually: the watch's findings (:mod:`copilot_usage.analysis.watch`) on the period's last
    :data:`UNUSUAL_DAYS` days — the scope, cost centres and teams outside their band, users far above their own
    baseline; leadership sees groups of at least ``k_min`` active users and users as a count, an analyst users."""
    from ..analysis import forecast, watch  # here: watch_run imports this package
    from ..outputs import watch_run

    fetched = (
        r.health.filter(pl.col("status") == "complete")["day"] if r.health.height else pl.Series([], dtype=pl.Date)
    )
    days = fetched.filter(fetched > r.end - dt.timedelta(days=UNUSUAL_DAYS)).to_list()
    if not days:
        return section(["No complete day in the period's last four weeks: nothing to assess."])
    # the report's one read of user_day; history counts only the days the period's health calls complete
    frame = _with_lookback(r)
    found = watch.for_audience(watch_run.findings(r, frame, days, fetched, price=r.prices.credit), r.audience)
    shown = found.frame.select(
        "day",
        "level",
        "unit",
        "user_login",
        "direction",
        "credits",
        "expected",
        "low",
        "high",
        "excess_credits",
        "excess_usd",
        "users",
        "explained_by",
    )
    scope_days = shown.filter(pl.col("level") == "scope").height
    events = watch.events(shown)
    lead = (
        f"{events} unusual finding(s) on {shown['day'].n_unique()} of the last {len(days)} complete days"
        + (f"; the scope itself left its usual range on {scope_days} day(s)." if scope_days else ".")
        if shown.height
        else f"Nothing unusual on the last {len(days)} complete days."
    )
    how = (
        f"Each day is set against the kit's forecast of it from the days before: the scope, each cost centre and "
        f"each team against its one-day-ahead forecast and the {watch.LEVEL:.1%} band the forecast's own errors on "
        f"the {forecast.CALIBRATION_DAYS} days before give, at least as wide as one heavy ordinary user-day, and by at "
        f"least {watch.FLOOR_CREDITS:,.0f} credits; a user above {watch.USER_MULTIPLE:g} × their own median active "
        f"day and {watch.FLOOR_CREDITS:,.0f} credits. A group above its band only through the day's flagged users "
        "is counted with them (explained by)."
    )
    return section(
        [lead, how],
        list(found.notes[:10]) + ([f"… and {len(found.notes) - 10} more such notes."] if len(found.notes) > 10 else []),
        Table(shown, user_column="user_login", empty="No unusual day."),
        figures=UnusualFigures(days_assessed=len(days), findings=events, scope_days=scope_days),
    )


def top_users(r: Report, *, n: int = 10) -> Section:
    """The ``n`` users with most credits (analyst audience only)."""
    return section(Table(metrics.top_users(usage(r), n=n), user_column="user_login", analyst_only=True, name="users"))
