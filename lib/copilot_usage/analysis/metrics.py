"""Pure ``DataFrame -> DataFrame`` computations for the reports.

Rules (house style): polars expressions only, never mutate inputs, rates are ratios of sums, nulls are not
zeros (a day whose rows all lack ``ai_credits_used`` has null credits, not 0), weekly/monthly active users
are distinct users over the window and never sums of daily counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from ..catalog import CLI_CUSTOMISATION_KINDS, COUNT_FIELDS
from . import forecast, github_changes, measures
from .forecast import Backtest, Projection
from .pricing import included_credits

SURFACES = {
    "used_agent": "Agent mode",
    "used_chat": "Chat",
    "used_cli": "CLI",
    "used_copilot_code_review_active": "Code review",
    "used_copilot_cloud_agent": "Cloud agent",
    # added by GitHub in 2026 (catalog.FIELD_STARTS); a week's share counts only days that carry the field
    "used_copilot_app": "Copilot app",
    "used_vscode_agent": "VS Code Agents window",
    "used_3rd_party_agent": "Third-party agents",  # the kit's flag: a non-empty totals_by_3rd_party_agent
}
# what a server-side-only row lacks (2026-06-15 changelog: counted as active, breakdowns empty)
DETAIL = [*COUNT_FIELDS, "used_agent", "used_chat", "used_cli", "used_copilot_code_review_active"]
CUSTOMISATION_LABELS = {
    "skill": "Skills",
    "custom_agent": "Custom agents",
    "mcp": "MCP servers",
    "slash_cmd": "Slash commands",
    "plugin": "Plugins (skills from a plugin)",
}


def as_lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """A frame or a lazy frame, as a lazy frame (the report functions accept both)."""
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def day_ranges(first: dt.date, last: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """Consecutive ``(lo, hi)`` windows of ``days`` days covering ``first``…``last`` (the last one cut at
    ``last``): how the reports read a long period a few days at a time."""
    out, lo = [], first
    while lo <= last:
        hi = min(lo + dt.timedelta(days=days - 1), last)
        out.append((lo, hi))
        lo = hi + dt.timedelta(days=1)
    return out


def day_span(lazy: pl.LazyFrame) -> tuple[dt.date | None, dt.date | None]:
    """The first and last ``day`` of ``lazy`` (one pass; None, None without rows)."""
    first, last = lazy.select(first=pl.col("day").min(), last=pl.col("day").max()).collect().row(0)
    return first, last


def day_windows(
    lazy: pl.LazyFrame, chunk_days: int | None, *, span: tuple[dt.date | None, dt.date | None] | None = None
) -> list[pl.Expr]:
    """Filters that split ``lazy``'s days into disjoint windows of ``chunk_days`` (:func:`day_ranges`; one filter
    of every row when None or when it has no rows). ``span``: its :func:`day_span`, when the caller has it."""
    if chunk_days is None:
        return [pl.lit(True)]
    first, last = span if span is not None else day_span(lazy)
    if first is None or last is None:
        return [pl.lit(True)]
    return [pl.col("day").is_between(lo, hi) for lo, hi in day_ranges(first, last, chunk_days)]


_lazy = as_lazy


def daily_activity(user_day: pl.DataFrame | pl.LazyFrame, *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per calendar day of ``[start, end]``: active users, credits and credits per active user.

    Expects ``user_day`` columns ``day, user_id, ai_credits_used``. Returns ``day, active_users, credits,
    credits_per_active_user, credits_7d_mean, credits_per_active_user_7d`` — days without rows have 0 active
    users and null credits; credits are null when no row of the day carries ``ai_credits_used``.
    ``credits_per_active_user`` divides by users whose row carries the field (ratio of sums).
    """
    per_day = (
        _lazy(user_day)
        .group_by("day")
        .agg(
            active_users=pl.col("user_id").n_unique(),
            credits=measures.credits_total(),
            credited_users=measures.credited_users(),
        )
    )
    calendar = pl.LazyFrame({"day": pl.date_range(start, end, eager=True)})
    out = (
        calendar.join(per_day, on="day", how="left")
        .sort("day")
        .with_columns(
            pl.col("active_users").fill_null(0).cast(pl.Int64),
            credits_per_active_user=measures.ratio(pl.col("credits"), pl.col("credited_users")),
        )
        .with_columns(
            credits_7d_mean=pl.col("credits").rolling_mean(7, min_samples=4),
            credits_per_active_user_7d=pl.col("credits").rolling_sum(7, min_samples=4)
            / pl.col("credited_users").rolling_sum(7, min_samples=4),
        )
    )
    return out.drop("credited_users").collect()


def active_users(user_day: pl.DataFrame | pl.LazyFrame, *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Daily, weekly (7-day) and monthly (28-day) active users as distinct users over trailing windows.

    Returns ``day, daily_active_users, weekly_active_users, monthly_active_users`` for each day of
    ``[start, end]``; windows reaching before the data only count what exists (flag with ``full_window``).
    """
    pairs = _lazy(user_day).select("day", "user_id").unique().collect()
    first: dt.date | None = pairs["day"].min() if pairs.height else None  # type: ignore[assignment]
    calendar = pl.LazyFrame({"day": pl.date_range(min(first, start) if first else start, end, eager=True)})
    out = calendar
    ordered = pairs.lazy().sort("user_id", "day")
    for name, width in (("daily_active_users", 1), ("weekly_active_users", 7), ("monthly_active_users", 28)):
        out = out.join(_window_counts(ordered, width, name), on="day", how="left")
    return (
        out.sort("day")  # joins do not keep row order (polars' streaming engine): the running sum needs it
        .with_columns(pl.exclude("day").fill_null(0).cum_sum().cast(pl.Int64))
        .filter(pl.col("day") >= start)
        .with_columns(full_window=(pl.col("day") - pl.lit(first)).dt.total_days() >= 27 if first else pl.lit(False))
        .collect()
    )


def _window_counts(ordered: pl.LazyFrame, width: int, name: str) -> pl.LazyFrame:
    """Per day, the change in the number of distinct users active in the ``width`` days ending on it (summed
    over days, the count itself).

    A user active on day *d* counts on the window-end days *d* … *d* + ``width`` − 1; a user's overlapping spans
    are merged first (a new span starts after a gap of more than ``width`` days), so each user adds 1 where a span
    starts and removes it the day after it ends: distinct counts without expanding every row ``width`` times
    (28 × 5 M user-days for a 100,000-seat quarter)."""
    gap = pl.col("day") - pl.col("day").shift(1).over("user_id")
    spans = (
        ordered.with_columns(span=(gap.is_null() | (gap > pl.duration(days=width))).cum_sum().over("user_id"))
        .group_by("user_id", "span")
        .agg(first=pl.col("day").min(), after=pl.col("day").max() + pl.duration(days=width))
    )
    starts = spans.select(day="first", delta=pl.lit(1))
    ends = spans.select(day="after", delta=pl.lit(-1))
    return pl.concat([starts, ends]).group_by("day").agg(pl.col("delta").sum().alias(name))


def weekly(user_day: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per ISO week (Monday): distinct active users, credits, credits per active user, and each surface's
    adoption share (distinct users who used it / distinct active users)."""
    lf = _with_surfaces(_lazy(user_day)).with_columns(
        week=pl.col("day").dt.truncate("1w"),
        # a surface is reported on a day when any row of the day carries its field (absent before GitHub added it)
        **{f"_{k}_carried": pl.col(k).is_not_null().any().over("day") for k in SURFACES},
    )
    base = {k: pl.col("user_id").filter(pl.col(f"_{k}_carried")).n_unique() for k in SURFACES}
    return (
        lf.group_by("week")
        .agg(
            active_users=pl.col("user_id").n_unique(),
            active_days=pl.col("day").n_unique(),
            credits=measures.credits_total(),
            credits_per_active_user=measures.credits_per_active_user(),
            **{f"{k}_users": pl.col("user_id").filter(pl.col(k).fill_null(False)).n_unique() for k in SURFACES},
            **{f"_{k}_base": v for k, v in base.items()},
        )
        .with_columns(
            **{
                f"{k}_share": pl.col(f"{k}_users") / pl.when(pl.col(f"_{k}_base") > 0).then(pl.col(f"_{k}_base"))
                for k in SURFACES
            },
        )
        .select(pl.exclude("^_.*$"))
        .sort("week")
        .collect()
    )


def _with_surfaces(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Surface flags a cache built before GitHub added them lacks, as nulls (not reported, never False)."""
    names = lf.collect_schema().names()
    return lf.with_columns(pl.lit(None, pl.Boolean).alias(k) for k in SURFACES if k not in names)


def activity_detail(user_day: pl.DataFrame | pl.LazyFrame) -> dict[str, int]:
    """Active users whose rows carry no activity detail: only ``user_id``, ``user_login`` and ``ai_credits_used``
    (server-side telemetry, GitHub's 2026-06-15 change: counted as active, breakdowns empty). They stay active
    users; feature, model, IDE and surface figures cannot include them. Returns ``active_users``,
    ``no_detail_users`` (distinct users none of whose rows in the frame has detail) and ``no_detail_user_days``."""
    lf = _lazy(user_day)
    names = lf.collect_schema().names()
    detail = pl.any_horizontal([pl.col(c).is_not_null() for c in DETAIL if c in names] or [pl.lit(True)])
    row = (
        lf.with_columns(_detail=detail)
        .select(
            active_users=pl.col("user_id").n_unique(),
            no_detail_user_days=(~pl.col("_detail")).sum(),
            no_detail_users=pl.col("user_id").filter(~pl.col("_detail").any().over("user_id")).n_unique(),
        )
        .collect()
        .row(0, named=True)
    )
    return {k: int(v or 0) for k, v in row.items()}


def cli_customisations(
    user_day: pl.DataFrame | pl.LazyFrame, aggregate_day: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame:
    """Which kinds of CLI customisation are used (GitHub reports them from 2026-09-17), one row per kind and never
    a total across kinds (plugins are a subset of skills; MCP counts are connection attempts).

    ``users``: distinct users whose ``distinct_<kind>_use_count`` was above 0 on some day; ``cli_users``: distinct
    users who used the CLI on a day carrying the counts; ``share_of_cli_users`` = users / cli_users;
    ``entities_latest``/``entities_max_day``: GitHub's per-entity distinct count of the scope on its latest day and
    its highest day (distinct counts are never summed over days or users). Kinds never reported are absent.
    """
    ud = _lazy(user_day)
    names = ud.collect_schema().names()
    present = [k for k in CLI_CUSTOMISATION_KINDS if f"distinct_{k}_use_count" in names]
    if not present:
        return _empty_customisations()
    carried = pl.any_horizontal([pl.col(f"distinct_{k}_use_count").is_not_null() for k in present])
    users = (
        ud.filter(carried.any().over("day"))
        .select(
            cli_users=pl.col("user_id").filter(pl.col("used_cli").fill_null(False)).n_unique()
            if "used_cli" in names
            else pl.lit(None, pl.UInt32),
            **{k: pl.col("user_id").filter(pl.col(f"distinct_{k}_use_count") > 0).n_unique() for k in present},
            **{f"_{k}_reported": pl.col(f"distinct_{k}_use_count").is_not_null().any() for k in present},
        )
        .collect()
    )
    if users.height == 0 or not any(users[f"_{k}_reported"].item() for k in present):
        return _empty_customisations()
    ag = _lazy(aggregate_day)
    ag_names = ag.collect_schema().names()
    ent = [k for k in present if f"distinct_{k}_use_count" in ag_names]
    latest = (
        ag.filter(pl.any_horizontal([pl.col(f"distinct_{k}_use_count").is_not_null() for k in ent]))
        .sort("day")
        .select(
            **{f"{k}_latest": pl.col(f"distinct_{k}_use_count").last() for k in ent},
            **{f"{k}_max": pl.col(f"distinct_{k}_use_count").max() for k in ent},
        )
        .collect()
        if ent
        else pl.DataFrame()
    )
    cli = users["cli_users"].item()
    rows = [
        {
            "kind": k,
            "label": CUSTOMISATION_LABELS[k],
            "users": int(users[k].item()),
            "cli_users": cli,
            "share_of_cli_users": users[k].item() / cli if cli else None,
            "entities_latest": latest[f"{k}_latest"].item() if latest.height and k in ent else None,
            "entities_max_day": latest[f"{k}_max"].item() if latest.height and k in ent else None,
        }
        for k in present
        if users[f"_{k}_reported"].item()
    ]
    return pl.DataFrame(rows, schema=_CUSTOMISATION_SCHEMA)


_CUSTOMISATION_SCHEMA = {
    "kind": pl.String,
    "label": pl.String,
    "users": pl.Int64,
    "cli_users": pl.Int64,
    "share_of_cli_users": pl.Float64,
    "entities_latest": pl.Int64,
    "entities_max_day": pl.Int64,
}


def _empty_customisations() -> pl.DataFrame:
    return pl.DataFrame(schema=_CUSTOMISATION_SCHEMA)


def top_customisations(customisation_day: pl.DataFrame | pl.LazyFrame, *, n: int = 5) -> pl.DataFrame:
    """Per kind, the ``n`` names with the most interactions over the period (``kind, name, interaction_count``;
    summed over days within a name of one kind, never across kinds; ``other``/``custom`` are customer-defined).
    ``kind`` is labelled as the reports name it (:data:`CUSTOMISATION_LABELS`; an unknown kind as GitHub sends it)."""
    return (
        _lazy(customisation_day)
        .group_by("kind", "name")
        .agg(pl.col("interaction_count").sum())
        .sort("kind", "interaction_count", "name", descending=[False, True, False])
        .group_by("kind", maintain_order=True)
        .head(n)
        .with_columns(pl.col("kind").replace(CUSTOMISATION_LABELS))
        .collect()
    )


def third_party_agents(
    user_rows: pl.DataFrame | pl.LazyFrame, aggregate_rows: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame:
    """Per third-party agent app (GitHub's ``totals_by_3rd_party_agent``, from 2026-08-07), keyed on ``agent_id``
    with its latest name: ``agent, users`` (distinct users in the rows), ``job_starts`` (the nested
    ``user_initiated_interaction_count``: agent **job starts**, never part of the top-level interaction count;
    the aggregate report's when present), ``sessions`` (aggregate report only, counted per day) and ``days``
    reported. GitHub omits agents it does not recognise, so the rows are not a partition of any total."""
    latest = pl.col("agent_name").sort_by("day").last()
    users = (
        _lazy(user_rows)
        .group_by("agent_id")
        .agg(users=pl.col("user_id").n_unique(), user_starts=pl.col("user_initiated_interaction_count").sum(), u=latest)
    )
    agg = (
        _lazy(aggregate_rows)
        .group_by("agent_id")
        .agg(
            starts=pl.col("user_initiated_interaction_count").sum(),
            sessions=pl.col("session_count").sum(),
            days=pl.col("day").n_unique(),
            a=latest,
        )
    )
    return (
        users.join(agg, on="agent_id", how="full", coalesce=True)
        .select(
            agent=pl.coalesce("a", "u", "agent_id"),
            users="users",
            job_starts=pl.coalesce("starts", "user_starts"),
            sessions="sessions",
            days="days",
        )
        .sort("users", "agent", descending=[True, False], nulls_last=True)
        .collect()
    )


def surface_adoption(user_day: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Long form of :func:`weekly`'s adoption shares: ``week, surface, share`` (0–1)."""
    w = weekly(user_day)
    return w.unpivot(
        index="week", on=[f"{k}_share" for k in SURFACES], variable_name="surface", value_name="share"
    ).with_columns(pl.col("surface").str.strip_suffix("_share").replace_strict(SURFACES))


def mix(
    breakdown: pl.DataFrame | pl.LazyFrame,
    *,
    by: str,
    measure: str = "code_generation_activity_count",
    top: int = 6,
    k_min: int = 0,
) -> pl.DataFrame:
    """Weekly share of ``measure`` by category ``by`` (feature, model, ide).

    The ``top`` largest categories are kept; the rest, and any category used by fewer than ``k_min`` distinct
    users, are folded into "other". Expects ``day, user_id, <by>, <measure>``; returns ``week, <by>, value, share``.
    """
    lf = _lazy(breakdown).with_columns(week=pl.col("day").dt.truncate("1w"))
    totals = (
        lf.group_by(by)
        .agg(pl.col(measure).sum(), users=pl.col("user_id").n_unique())
        .filter(pl.col("users") >= k_min)
        .sort(measure, by, descending=[True, False])
        .collect()
    )
    keep = totals.head(top)[by].to_list()
    folded = lf.with_columns(pl.when(pl.col(by).is_in(keep)).then(pl.col(by)).otherwise(pl.lit("other")).alias(by))
    out = (
        folded.group_by("week", by)
        .agg(value=pl.col(measure).sum())
        .with_columns(share=pl.col("value") / pl.col("value").sum().over("week"))
    )
    return out.sort("week", by).collect()


@dataclass(frozen=True)
class Change:
    """A period against the one before it: ``change`` is current / previous - 1, None when either is missing
    or the previous is 0."""

    current: float | None
    previous: float | None
    change: float | None


def period_change(
    daily: pl.DataFrame, *, column: str, days: int, end: dt.date | None = None, how: str = "sum"
) -> Change:
    """Compare the last ``days`` days with the ``days`` before them (sums, or means with ``how="mean"``)."""
    if end is None:
        newest = daily["day"].max()
        if not isinstance(newest, dt.date):  # no day at all
            return Change(None, None, None)
        end = newest
    cur = daily.filter(pl.col("day").is_between(end - dt.timedelta(days=days - 1), end))
    prev = daily.filter(pl.col("day").is_between(end - dt.timedelta(days=2 * days - 1), end - dt.timedelta(days=days)))

    def agg(frame: pl.DataFrame) -> float | None:
        s = frame[column].drop_nulls()
        if s.len() == 0:
            return None
        return float(s.sum() if how == "sum" else s.mean())  # type: ignore[arg-type]

    c, p = agg(cur), agg(prev)
    return Change(c, p, None if c is None or not p else c / p - 1)


def phase_transitions(user_day: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Adoption-phase cohort matrix: users by phase in one month (last observed) and in the next month.

    Returns ``month, from_phase, to_phase, users`` (phase ``none`` = not active in the next month).
    """
    last = (
        _lazy(user_day)
        .filter(pl.col("ai_adoption_phase_number").is_not_null())
        .with_columns(month=pl.col("day").dt.truncate("1mo"))
        .sort("day")
        .group_by("user_id", "month")
        .agg(phase=pl.col("ai_adoption_phase_number").last())
        .collect()
    )
    nxt = last.with_columns(month=pl.col("month").dt.offset_by("-1mo")).rename({"phase": "to_phase"})
    months = last["month"].unique().sort()
    if months.len() < 2:
        return pl.DataFrame(
            schema={"month": pl.Date, "from_phase": pl.String, "to_phase": pl.String, "users": pl.UInt32}
        )
    return (
        last.filter(pl.col("month") < months.max())
        .join(nxt, on=["user_id", "month"], how="left")
        .with_columns(
            from_phase=pl.format("Phase {}", pl.col("phase")),
            to_phase=pl.when(pl.col("to_phase").is_null())
            .then(pl.lit("not active"))
            .otherwise(pl.format("Phase {}", pl.col("to_phase"))),
        )
        .group_by("month", "from_phase", "to_phase")
        .agg(users=pl.len())
        .sort("month", "from_phase", "to_phase")
    )


def seat_ramp(
    seats: pl.DataFrame | pl.LazyFrame, user_day: pl.DataFrame | pl.LazyFrame, *, since: dt.date
) -> pl.DataFrame:
    """Seats granted on or after ``since``: days from grant to first active day and to first agent day.

    Returns one row per user: ``user_id, granted, days_to_first_use, days_to_first_agent`` (null = not yet).
    """
    grants = (
        _lazy(seats)
        .group_by("user_id")
        .agg(granted=pl.col("created_at").min().dt.date())
        .filter(pl.col("granted") >= since)
    )
    firsts = (
        _lazy(user_day)
        .group_by("user_id")
        .agg(
            first_use=pl.col("day").min(), first_agent=pl.col("day").filter(pl.col("used_agent").fill_null(False)).min()
        )
    )
    return (
        grants.join(firsts, on="user_id", how="left")
        .with_columns(
            days_to_first_use=(pl.col("first_use") - pl.col("granted")).dt.total_days().clip(0),
            days_to_first_agent=(pl.col("first_agent") - pl.col("granted")).dt.total_days().clip(0),
        )
        .select("user_id", "granted", "days_to_first_use", "days_to_first_agent")
        .sort("granted")
        .collect()
    )


def included_pool(
    seats: pl.DataFrame | pl.LazyFrame,
    *,
    month: dt.date | None = None,
    promotional: bool = True,
    included: dict[str, int] | None = None,
) -> float:
    """Monthly included AI credits: distinct licensed users × their plan's credits in force in ``month``
    (the promotional amounts before 2026-09-01 unless ``promotional`` is off; today's amounts without a month).

    A user seated through several orgs holds one licence; the highest plan counts. With a ``month``, a seat whose
    pending cancellation date (the start of the billing cycle it ends at:
    https://docs.github.com/en/rest/copilot/copilot-user-management) is on or before the month's first day is not
    held that month, so it does not count: a roster change within a forecast's horizon changes that month's pool.
    """
    day = pl.lit(month or dt.date.max)
    rows = _lazy(seats)
    if month is not None and "pending_cancellation_date" in rows.collect_schema():
        ends = pl.col("pending_cancellation_date").max().over("user_id")
        rows = rows.filter(ends.is_null() | (ends > month.replace(day=1)))
    per_user = (
        rows.with_columns(
            credits=included_credits(pl.col("plan_type"), day, promotional=promotional, included=included)
        )
        .group_by("user_id")
        .agg(pl.col("credits").max())
    )
    return float(per_user.select(pl.col("credits").sum()).collect().item() or 0.0)


@dataclass(frozen=True)
class Forecast:
    """Credits of a period: used ``to_date``, the ``projected`` total with its interval (``low``-``high``, 80 %
    unless asked otherwise), the day cumulative credits cross the pool (P50 on the central path, and the earliest
    plausible, P90, on the band's upper edge), and ``daily``: ``day, kind (actual/forecast), credits, low, high``
    cumulative, for charting. ``model``, ``backtest`` and ``sentence`` say how it was made and how accurate it has
    been; ``preliminary`` says why there is no interval (too little history). With no history at all every
    projection is None and ``daily`` is empty."""

    to_date: float
    projected: float | None = None
    low: float | None = None
    high: float | None = None
    exhausted_on: dt.date | None = None
    exhausted_earliest: dt.date | None = None
    model: str | None = None
    backtest: Backtest | None = None
    preliminary: str | None = None
    sentence: str = ""
    planning_range: bool = False
    daily: pl.DataFrame = field(default_factory=pl.DataFrame)


def forecast_credits(
    daily: pl.DataFrame,
    *,
    as_of: dt.date,
    period_start: dt.date,
    period_end: dt.date,
    pool: float | None = None,
    breaks: Sequence[dt.date] | None = None,
    projection: Projection | None = None,
) -> Forecast:
    """Project credits of ``[period_start, period_end]`` from ``as_of`` (last complete day) with the kit's one
    forecaster (:mod:`forecast`: the model chosen by backtest on ``daily``, the band calibrated on its errors).

    The period's own days only: a period wholly after ``as_of`` is the projection of its days (nothing of the
    days between ``as_of`` and its start); a period containing ``as_of`` is its actual credits to ``as_of`` plus
    the projection of its remaining days; a period ended by ``as_of`` is its actual credits (no interval).
    ``breaks``: days a definition change stepped credits (default: GitHub's, from the register); ``projection``:
    one already made from the same series (several periods of one series share its backtest).
    """
    if projection is None:
        if breaks is None:
            breaks = github_changes.level_shifts(github_changes.register())
        projection = forecast.project(daily, as_of=as_of, until=max(period_end, as_of), breaks=breaks)
    p = projection
    if p.model is None:  # no history at all
        return Forecast(0.0, preliminary=p.preliminary, sentence=p.sentence())
    total = p.total(period_start, period_end)
    p50, p90 = p.exhaustion(period_start, period_end, pool) if pool is not None else (None, None)
    return Forecast(
        total.actual,
        projected=total.credits,
        low=total.low,
        high=total.high,
        exhausted_on=p50,
        exhausted_earliest=p90,
        model=p.model,
        backtest=p.backtest,
        preliminary=p.preliminary if total.projected_days else None,
        sentence=p.sentence(),
        planning_range=total.planning_range,
        daily=p.cumulative(period_start, period_end),
    )


def top_users(user_day: pl.DataFrame | pl.LazyFrame, *, n: int = 10) -> pl.DataFrame:
    """The ``n`` users with most credits: ``user_id, user_login, credits, active_days, credits_per_active_day,
    agent_days`` (one row per user id: a renamed user is one user, shown by the newest login)."""
    return (
        _lazy(user_day)
        .group_by("user_id")
        .agg(
            pl.col("user_login").sort_by("day").last(),
            # nulls are not zeros: a user none of whose rows carries ai_credits_used has unknown credits
            credits=pl.when(pl.col("ai_credits_used").count() > 0).then(pl.col("ai_credits_used").sum()),
            active_days=pl.col("day").n_unique(),
            agent_days=pl.col("day").filter(pl.col("used_agent").fill_null(False)).n_unique(),
        )
        .with_columns(credits_per_active_day=pl.col("credits") / pl.col("active_days"))
        .sort(["credits", "user_login"], descending=[True, False], nulls_last=True)
        .head(n)
        .collect()
    )
