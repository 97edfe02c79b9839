"""The watch: days whose AI-credit consumption is unusual, as pure functions over processed tables (issue 26 §3).

Per-user ``ai_credits_used`` is what makes it possible
(https://github.blog/changelog/2026-06-19-ai-credits-consumed-per-user-now-in-the-copilot-usage-metrics-api). Two
tests:

* **a series** (the scope, a cost centre, a team): a day whose credits leave a band computed only from the
  series' own history before that day (:func:`band`), by more than an absolute floor (a departure of a few credits
  is not worth a message, and a flat history would otherwise give a band of zero width);
* **a user**: a day above :data:`USER_MULTIPLE` × the user's own trailing baseline (the median of their active
  days in the 28 days before) *and* above the floor (a runaway agent, a script looping on a premium model).
  Five times the median: if a user's day-to-day credits spread lognormally with a log-SD near 0.6, a day above
  5 × the median is about a 1-in-300 event (ln 5 / 0.6 ≈ 2.7 SD) — rare enough to read, common enough to catch
  a loop (the simulated tenant: per-user log-SD median 0.58, 0.14 % of active user-days above 5 × the user's
  median; real tenants should check theirs); the floor keeps light users' 5× days (10 credits instead of 2)
  out. A user with fewer than :data:`USER_MIN_DAYS` active days in those 28 has no baseline and is flagged only
  above 5 × the floor.

Every finding has its size in credits and US$ (prices from :mod:`copilot_usage.analysis.pricing`). Days with too little
history give no finding and a sentence saying so. Nulls are not zeros: a day the cache lacks is a gap (no finding,
not counted as history); a unit with no rows on a day the scope was fetched used 0 credits that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from ..report.privacy import Audience, protect
from .pricing import CREDIT_PRICE_USD

WINDOW_DAYS = 28
MIN_HISTORY_DAYS = 14  # days with data among the 28 before the day; fewer: no band
MIN_SAME_KIND = 4  # values of the same kind (weekday/weekend) among them: four weekends' days at least
# median ± K × 1.4826 × MAD: 1.4826 × MAD estimates the standard deviation of a normal series and 2.326 is its
# 99th percentile, so the band holds ~98 % of ordinary days (two-sided); the median and MAD ignore a past spike
MAD_TO_SD = 1.4826
K = 2.326
USER_MULTIPLE = 5.0
USER_MIN_DAYS = 3
FLOOR_CREDITS = 300.0  # US$3 at the list price
LEVELS = ("scope", "cost_centre", "team", "user")

BAND_SCHEMA = {"day": pl.Date, "expected": pl.Float64, "low": pl.Float64, "high": pl.Float64, "history_days": pl.UInt32}
FINDINGS_SCHEMA = {
    "level": pl.String,  # scope, cost_centre, team, user (leadership: users, a count)
    "unit": pl.String,  # the scope, cost centre or team; null for a user
    "user_login": pl.String,  # user level only
    "day": pl.Date,
    "direction": pl.String,  # above / below
    "credits": pl.Float64,
    "expected": pl.Float64,  # the band's centre; a user's baseline
    "low": pl.Float64,
    "high": pl.Float64,  # the band's top; a user's threshold
    "excess_credits": pl.Float64,  # credits - expected (negative below the band)
    "usd": pl.Float64,
    "excess_usd": pl.Float64,
    "users": pl.UInt32,  # active users of the unit that day (the k-anonymity count); a count for users
}


@dataclass(frozen=True)
class Findings:
    """What the watch flagged (:data:`FINDINGS_SCHEMA`) and sentences on what it could not assess."""

    frame: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FINDINGS_SCHEMA))
    notes: tuple[str, ...] = ()

    def __add__(self, other: Findings) -> Findings:
        return Findings(pl.concat([self.frame, other.frame]), self.notes + other.notes)


def _weekend(day: pl.Expr) -> pl.Expr:
    return day.dt.weekday() >= 6


TREND_DAYS = 14
TREND_CAP = 0.3


def band(series: pl.DataFrame, days: Sequence[dt.date] | pl.Series, *, by: Sequence[str] = ()) -> pl.DataFrame:
    """The band of ordinary values on each of ``days``: ``day, expected, low, high, history_days`` (and the ``by``
    keys of ``series``, one band per key). ``series`` is ``day, credits`` (and ``by``).

    Only the series' history before the day counts: the values of the same kind of day (weekday or weekend) in
    the :data:`WINDOW_DAYS` before it, median ± :data:`K` × 1.4826 × MAD (~98 % two-sided), both scaled by the
    window's trend (its last 14 days over the 14 before, within ±30 %), ``low`` never below 0.
    With fewer than :data:`MIN_HISTORY_DAYS` days of data in the window (``history_days``), or fewer than
    :data:`MIN_SAME_KIND` of the day's kind, ``expected``/``low``/``high`` are null. The one function to swap for
    a forecaster's one-step interval.
    """
    keys = list(by)
    targets = pl.DataFrame({"day": days}, schema={"day": pl.Date}).unique()
    grid = targets.join(series.select(keys).unique(), how="cross") if keys else targets
    history = series.filter(pl.col("credits").is_not_null()).select(*keys, _hday="day", _x="credits")
    window = (
        grid.with_columns(_off=pl.int_ranges(1, WINDOW_DAYS + 1))
        .explode("_off")
        .with_columns(_hday=pl.col("day") - pl.duration(days=pl.col("_off")))
        .join(history, on=[*keys, "_hday"], how="inner")
    )
    same = pl.col("_x").filter(_weekend(pl.col("_hday")) == _weekend(pl.col("day")))
    stats = window.group_by(*keys, "day").agg(
        history_days=pl.len().cast(pl.UInt32),
        _same=same.len(),
        _med=same.median(),
        _mad=(same - same.median()).abs().median(),
        _recent=pl.col("_x").filter(pl.col("_off") <= TREND_DAYS).mean(),
        _older=pl.col("_x").filter(pl.col("_off") > TREND_DAYS).mean(),
    )
    ok = (pl.col("history_days") >= MIN_HISTORY_DAYS) & (pl.col("_same") >= MIN_SAME_KIND)
    # the window's trend (last 14 days over the 14 before, within ±30 %), as the forecaster's weekday/weekend
    # profile has it: a series that grows steadily is not a run of unusual days
    trend = (
        pl.when(pl.col("_older") > 0)
        .then((pl.col("_recent") / pl.col("_older")).clip(1 - TREND_CAP, 1 + TREND_CAP))
        .otherwise(1.0)
        .fill_null(1.0)
    )
    stats = stats.with_columns(_med=pl.col("_med") * trend, _mad=pl.col("_mad") * trend)
    half = K * MAD_TO_SD * pl.col("_mad")
    return (
        grid.join(stats, on=[*keys, "day"], how="left")
        .with_columns(pl.col("history_days").fill_null(0))
        .select(
            *keys,
            "day",
            expected=pl.when(ok).then(pl.col("_med")),
            low=pl.when(ok).then(pl.max_horizontal(pl.col("_med") - half, pl.lit(0.0))),
            high=pl.when(ok).then(pl.col("_med") + half),
            history_days="history_days",
        )
        .sort(*keys, "day")
    )


def _credits_sum() -> pl.Expr:
    """Credits of a group: null when no row carries ``ai_credits_used`` (not reported is not zero)."""
    c = pl.col("ai_credits_used")
    return pl.when(c.count() > 0).then(c.sum())


def daily_series(unit_days: pl.DataFrame, fetched: Sequence[dt.date] | pl.Series, *, by: str = "unit") -> pl.DataFrame:
    """``by, day, credits, users`` for every unit of ``unit_days`` (user-day rows with ``by``, ``user_id`` and
    ``ai_credits_used``) on every ``fetched`` day: a unit with no rows on a fetched day used 0 credits; days not
    fetched are absent (gaps)."""
    days = pl.DataFrame({"day": fetched}, schema={"day": pl.Date}).unique()
    sums = unit_days.group_by(by, "day").agg(credits=_credits_sum(), users=pl.col("user_id").n_unique().cast(pl.UInt32))
    grid = days.join(unit_days.select(by).unique(), how="cross")
    return (
        grid.join(sums, on=[by, "day"], how="left")
        .with_columns(pl.col("credits").fill_null(0.0), pl.col("users").fill_null(0))
        # a day whose rows all lack ai_credits_used (before GitHub reported it) stays null
        .join(
            sums.filter(pl.col("credits").is_null()).select(by, "day", _null=pl.lit(True)), on=[by, "day"], how="left"
        )
        .with_columns(pl.when(pl.col("_null").is_null()).then("credits").alias("credits"))
        .drop("_null")
        .sort(by, "day")
    )


def _money(price: float) -> list[pl.Expr]:
    return [
        (pl.col("credits") * price).alias("usd"),
        (pl.col("excess_credits") * price).alias("excess_usd"),
    ]


def series_findings(
    series: pl.DataFrame,
    days: Sequence[dt.date] | pl.Series,
    *,
    level: str,
    by: str = "unit",
    floor_credits: float = FLOOR_CREDITS,
    price: float = CREDIT_PRICE_USD,
) -> Findings:
    """Days of ``days`` on which a series of ``series`` (``by, day, credits, users``, :func:`daily_series`) leaves
    its :func:`band` by at least ``floor_credits``, as :data:`FINDINGS_SCHEMA` rows of ``level``; a sentence per
    unit with days it could not assess (too little history)."""
    b = band(series.select(by, "day", "credits"), days, by=[by])
    joined = b.join(series, on=[by, "day"], how="inner")  # days not fetched: gaps, nothing to say
    outside = (pl.col("credits") > pl.col("high")) | (pl.col("credits") < pl.col("low"))
    flagged = joined.filter(
        pl.col("expected").is_not_null()
        & pl.col("credits").is_not_null()
        & outside
        & ((pl.col("credits") - pl.col("expected")).abs() >= floor_credits)
    )
    frame = flagged.with_columns(
        level=pl.lit(level),
        unit=pl.col(by).cast(pl.String),
        user_login=pl.lit(None, dtype=pl.String),
        direction=pl.when(pl.col("credits") > pl.col("high")).then(pl.lit("above")).otherwise(pl.lit("below")),
        excess_credits=pl.col("credits") - pl.col("expected"),
    ).with_columns(_money(price))
    short = (
        joined.filter(pl.col("expected").is_null() & pl.col("credits").is_not_null())
        .group_by(by)
        .agg(
            first=pl.col("day").min(),
            last=pl.col("day").max(),
            fewest=pl.col("history_days").min(),
            most=pl.col("history_days").max(),
        )
        .sort(by)
    )
    notes = tuple(
        f"{level.replace('_', ' ')} {unit}: no finding for {_days(first, last)}: too little history "
        f"({_days(fewest, most)} day(s) with data in the {WINDOW_DAYS} days before; at least {MIN_HISTORY_DAYS} "
        f"needed, {MIN_SAME_KIND} of them of the same weekday/weekend kind)."
        for unit, first, last, fewest, most in short.iter_rows()
    )
    return Findings(frame.select(FINDINGS_SCHEMA.keys()).cast(FINDINGS_SCHEMA), notes)  # type: ignore[arg-type]


def _days(first: object, last: object) -> str:
    return f"{first}" if first == last else f"{first} … {last}"


def user_findings(
    user_day: pl.DataFrame,
    days: Sequence[dt.date] | pl.Series,
    *,
    floor_credits: float = FLOOR_CREDITS,
    multiple: float = USER_MULTIPLE,
    price: float = CREDIT_PRICE_USD,
) -> Findings:
    """User-days of ``days`` far above the user's own baseline (module docstring): ``user_day`` has ``day,
    user_id, user_login, ai_credits_used`` and reaches :data:`WINDOW_DAYS` before the first of ``days``."""
    rows = (
        user_day.filter(pl.col("ai_credits_used").is_not_null())
        .select("day", "user_id", "user_login", credits=pl.col("ai_credits_used").cast(pl.Float64))
        .sort("user_id", "day")
    )
    window = f"{WINDOW_DAYS}d"
    scored = rows.with_columns(
        _base=pl.col("credits").rolling_median_by("day", window, closed="left").over("user_id"),
        _n=pl.col("credits").is_not_null().cast(pl.UInt32).rolling_sum_by("day", window, closed="left").over("user_id"),
    ).filter(pl.col("day").is_in(pl.Series(days, dtype=pl.Date).implode()))
    has_base = pl.col("_n").fill_null(0) >= USER_MIN_DAYS
    threshold = pl.when(has_base).then(pl.col("_base") * multiple).otherwise(floor_credits * multiple)
    flagged = scored.with_columns(
        expected=pl.when(has_base).then(pl.col("_base")), high=pl.max_horizontal(threshold, pl.lit(floor_credits))
    ).filter(pl.col("credits") > pl.col("high"))
    frame = flagged.with_columns(
        level=pl.lit("user"),
        unit=pl.lit(None, dtype=pl.String),
        direction=pl.lit("above"),
        low=pl.lit(None, dtype=pl.Float64),
        excess_credits=pl.col("credits") - pl.col("expected").fill_null(0.0),
        users=pl.lit(1, dtype=pl.UInt32),
    ).with_columns(_money(price))
    return Findings(frame.select(FINDINGS_SCHEMA.keys()).cast(FINDINGS_SCHEMA).sort("day", "user_login"))  # type: ignore[arg-type]


def for_audience(findings: Findings, audience: Audience) -> Findings:
    """What ``audience`` may see (:func:`copilot_usage.report.privacy.protect`): a unit active with fewer than
    ``k_min`` users that day is left out (and counted in a sentence); leadership sees users as a count per day, never
    a login."""
    frame = findings.frame
    units = frame.filter(pl.col("level") != "user")
    shown = protect(units, audience, group_users="users")
    if "user_login" not in shown.columns:  # leadership: protect drops the (empty) login column
        shown = shown.with_columns(user_login=pl.lit(None, dtype=pl.String))
    hidden = units.height - shown.height
    users = frame.filter(pl.col("level") == "user")
    if audience.leadership:
        users = users.group_by("day").agg(
            level=pl.lit("users"),
            unit=pl.lit(None, dtype=pl.String),
            user_login=pl.lit(None, dtype=pl.String),
            direction=pl.lit("above"),
            credits=pl.col("credits").sum(),
            expected=pl.lit(None, dtype=pl.Float64),
            low=pl.lit(None, dtype=pl.Float64),
            high=pl.lit(None, dtype=pl.Float64),
            excess_credits=pl.col("excess_credits").sum(),
            usd=pl.col("usd").sum(),
            excess_usd=pl.col("excess_usd").sum(),
            users=pl.len().cast(pl.UInt32),
        )
    else:
        users = protect(users, audience, user_column="user_login")
    cols = list(FINDINGS_SCHEMA)
    out = pl.concat([shown.select(cols).cast(FINDINGS_SCHEMA), users.select(cols).cast(FINDINGS_SCHEMA)])  # type: ignore[arg-type]
    notes = findings.notes
    if hidden:
        notes += (f"{hidden} finding(s) for groups of fewer than {audience.k_min} active users are not shown.",)
    order = pl.col("level").replace_strict({"scope": 0, "cost_centre": 1, "team": 2}, default=3, return_dtype=pl.Int8)
    return Findings(out.sort("day", order, "unit", "user_login", nulls_last=True), notes)
