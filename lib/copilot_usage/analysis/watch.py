"""The watch: days whose AI-credit consumption is unusual, as pure functions over processed tables (issue 26 §3).

Per-user ``ai_credits_used`` is what makes it possible
(https://github.blog/changelog/2026-06-19-ai-credits-consumed-per-user-now-in-the-copilot-usage-metrics-api). Two
tests:

* **a series** (the scope, a cost centre, a team): a day whose credits leave the forecaster's one-day-ahead band,
  computed only from the series' own history before that day (:func:`band`, :func:`copilot_usage.analysis.forecast.one_step`),
  by more than an absolute floor (a departure of a few credits is not worth a message, and a flat history would
  otherwise give a band of zero width); a group above its band only through that day's flagged users is linked to
  them (:func:`link`): one event, not one per level;
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
from . import forecast
from .pricing import CREDIT_PRICE_USD

WINDOW_DAYS = 28  # a user's trailing baseline
HISTORY_DAYS = forecast.CALIBRATION_DAYS + forecast.PROFILE_DAYS  # a series' history read before the first day
# the band's two-sided level: 99.5 % (0.25 % a side under a normal error). Chosen on the simulated enterprise demo
# (seed 7, 400 users, 200 days) with no planted spike: its last week gave 4 scope/cost-centre/team findings at 99 %,
# 1 at 99.5 % and 1 at 99.9 % (of 203 unit-days, enterprise and organisation); over its last four weeks, holidays
# aside, 19 of 812 unit-days at 99.5 % (2.3 %; 10 at 99.9 %): one-day credits are right-skewed (a few heavy users)
LEVEL = 0.995
HEAVY_USER_DAY = 0.99  # a unit's band is at least this quantile of the scope's active user-days wide, either side
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
    # a unit above its band only through that day's flagged users: how many of them (without their excess over
    # their baseline the unit is inside its band); the finding is the users' event, not another one
    "explained_by": pl.UInt32,
}


@dataclass(frozen=True)
class Findings:
    """What the watch flagged (:data:`FINDINGS_SCHEMA`) and sentences on what it could not assess."""

    frame: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FINDINGS_SCHEMA))
    notes: tuple[str, ...] = ()

    def __add__(self, other: Findings) -> Findings:
        return Findings(pl.concat([self.frame, other.frame]), self.notes + other.notes)


def band(
    series: pl.DataFrame,
    days: Sequence[dt.date] | pl.Series,
    *,
    by: Sequence[str] = (),
    level: float = LEVEL,
    min_half_width: float = 0.0,
) -> pl.DataFrame:
    """The band of ordinary values on each of ``days``: ``day, expected, low, high, history_days`` (and the ``by``
    keys of ``series``, one band per key). ``series`` is ``day, credits`` (and ``by``).

    The forecaster's one-day-ahead forecast and band (:func:`copilot_usage.analysis.forecast.one_step`): each day's
    ``expected`` is forecast from the series' days before it only; the model (repeating last week, or the weekday /
    weekend profile of the last 28 days with its trend) is chosen and the band calibrated once per series, on its
    one-day forecasts of the :data:`~copilot_usage.analysis.forecast.CALIBRATION_DAYS` before the first of ``days`` with
    enough of them (the fixed window, not refitted per day: each day only re-forecast), at
    ``level`` (two-sided), on the square-root scale of count noise (a small team's band is as wide, relative to its
    size, as its own noise) and at least ``min_half_width`` credits either side (:func:`heavy_user_day`: a unit is
    never flagged for what one of its users does on a heavy ordinary day). ``low`` is never below 0. A day
    not fetched (no row or null credits) is filled as the forecaster fills it for the days after it, and never
    checked. ``history_days``: days with data in the :data:`HISTORY_DAYS` before the day; when fewer than
    :data:`~copilot_usage.analysis.forecast.MIN_CALIBRATION` days can be checked, ``expected``/``low``/``high`` are null."""
    keys = list(by)
    k = keys or ["_unit"]  # one series: a key of its own
    data = series if keys else series.with_columns(_unit=pl.lit(0))
    targets = pl.DataFrame({"day": days}, schema={"day": pl.Date}).unique().sort("day")
    grid = targets.join(data.select(k).unique(), how="cross")
    known = data.filter(pl.col("credits").is_not_null()).select(*k, "day", credits=pl.col("credits").cast(float))
    last: dt.date | None = targets["day"].max()  # type: ignore[assignment]
    null = pl.lit(None, dtype=pl.Float64)
    if last is None or not known.height:
        out = grid.with_columns(expected=null, low=null, high=null, history_days=pl.lit(0, dtype=pl.UInt32))
    else:
        full, _ = forecast.series(known, as_of=last, by=k)  # gaps filled as the forecaster fills them
        full = (
            full.join(known.select(*k, "day", _known=pl.lit(True)), on=[*k, "day"], how="left")
            .with_columns(pl.col("_known").fill_null(False), _i=pl.int_range(pl.len()).over(k))
            .sort(*k, "day")
        )
        # days with data in the HISTORY_DAYS before each day (a day's own data not counted)
        history = full.rolling("day", period=f"{HISTORY_DAYS}d", closed="left", group_by=k).agg(
            history_days=pl.col("_known").cast(pl.UInt32).sum()
        )
        at = grid.join(full.select(*k, "day", "_i"), on=[*k, "day"], how="inner").sort(*k, "_i")
        wanted = at.partition_by(k, as_dict=True)
        bands = []
        for key, part in (
            full.filter(pl.struct(k).is_in(at.select(pl.struct(k)).to_series().implode()))
            .partition_by(k, as_dict=True)
            .items()
        ):
            fit = forecast.one_step(
                part["credits"].to_numpy().astype(float),
                (part["day"].dt.weekday() - 1).to_numpy(),
                wanted[key]["_i"].to_list(),
                level=level,
                known=part["_known"].to_numpy(),
                min_half_width=min_half_width,
            )
            if fit is not None:
                bands.append(
                    wanted[key]
                    .select(*k, "day")
                    .with_columns(expected=pl.Series(fit.expected), low=pl.Series(fit.low), high=pl.Series(fit.high))
                )
        schema = {c: data.schema[c] for c in k} | {
            "day": pl.Date,
            "expected": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
        }
        banded = pl.concat(bands) if bands else pl.DataFrame(schema=schema)
        out = (
            grid.join(banded.with_columns(pl.col("expected", "low", "high").fill_nan(None)), on=[*k, "day"], how="left")
            .join(history, on=[*k, "day"], how="left")
            .with_columns(pl.col("history_days").fill_null(0).cast(pl.UInt32))
        )
    return out.select(*keys, *BAND_SCHEMA).sort(*keys, "day")


def heavy_user_day(user_day: pl.DataFrame, quantile: float = HEAVY_USER_DAY) -> float:
    """The credits of a heavy ordinary user-day: the ``quantile`` of the active user-days' credits in ``user_day``
    (``ai_credits_used``; 0 with none). A unit's band is at least this wide either side."""
    credits = user_day.filter(pl.col("ai_credits_used") > 0)["ai_credits_used"]
    return float(credits.quantile(quantile) or 0.0) if credits.len() else 0.0


def _credits_sum() -> pl.Expr:
    """Credits of a group: null when no row carries ``ai_credits_used`` (not reported is not zero)."""
    c = pl.col("ai_credits_used")
    return pl.when(c.count() > 0).then(c.sum())


def daily_series(unit_days: pl.DataFrame, fetched: Sequence[dt.date] | pl.Series, *, by: str = "unit") -> pl.DataFrame:
    """``by, day, credits, users`` for every unit of ``unit_days`` (user-day rows with ``by``, ``user_id`` and
    ``ai_credits_used``) on every ``fetched`` day from its first day with rows: a unit with no rows on a fetched day
    after that used 0 credits; days not fetched are absent (gaps)."""
    days = pl.DataFrame({"day": fetched}, schema={"day": pl.Date}).unique()
    sums = unit_days.group_by(by, "day").agg(credits=_credits_sum(), users=pl.col("user_id").n_unique().cast(pl.UInt32))
    # a unit's series starts on its first day with rows (a cost centre or team created mid-window was not a unit
    # using 0 credits before it existed)
    born = unit_days.group_by(by).agg(_born=pl.col("day").min())
    grid = days.join(born, how="cross").filter(pl.col("day") >= pl.col("_born")).drop("_born")
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
    band_level: float = LEVEL,
    min_half_width: float = 0.0,
) -> Findings:
    """Days of ``days`` on which a series of ``series`` (``by, day, credits, users``, :func:`daily_series`) leaves
    its :func:`band` by at least ``floor_credits``, as :data:`FINDINGS_SCHEMA` rows of ``level``; a sentence per
    unit with days it could not assess (too little history)."""
    b = band(series.select(by, "day", "credits"), days, by=[by], level=band_level, min_half_width=min_half_width)
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
    ).with_columns(_money(price), explained_by=pl.lit(None, dtype=pl.UInt32))
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
        f"({_days(fewest, most)} day(s) with data in the {HISTORY_DAYS} days before; at least "
        f"{forecast.MIN_CALIBRATION} needed after a first week, to check one-day forecasts against)."
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
        explained_by=pl.lit(None, dtype=pl.UInt32),
    ).with_columns(_money(price))
    return Findings(frame.select(FINDINGS_SCHEMA.keys()).cast(FINDINGS_SCHEMA).sort("day", "user_login"))  # type: ignore[arg-type]


def link(findings: Findings, members: pl.DataFrame) -> Findings:
    """``findings`` with ``explained_by`` set on each unit finding above its band that the day's flagged users
    account for: without their excess over their own baseline the unit is inside its band (the scope, the cost
    centre and the teams a runaway user belongs to are then one event, the user's, and not three more).
    ``members``: ``level, unit, day, user_login`` for (at least) the flagged users' days: the units each counts in."""
    frame = findings.frame
    users = frame.filter(pl.col("level") == "user").select("day", "user_login", _excess="excess_credits")
    share = (
        members.join(users, on=["day", "user_login"], how="inner")
        .group_by("level", "unit", "day")
        .agg(_n=pl.len().cast(pl.UInt32), _excess=pl.col("_excess").sum())
    )
    explained = (pl.col("direction") == "above") & (pl.col("credits") - pl.col("_excess") <= pl.col("high"))
    linked = (
        frame.join(share, on=["level", "unit", "day"], how="left", nulls_equal=False)
        .with_columns(explained_by=pl.when(explained).then(pl.col("_n")))
        .select(FINDINGS_SCHEMA.keys())
    )
    return Findings(linked, findings.notes)


def events(frame: pl.DataFrame) -> int:
    """How many events ``frame``'s findings are: a unit finding its day's flagged users explain is theirs."""
    return frame.filter(pl.col("explained_by").is_null()).height


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
            explained_by=pl.lit(None, dtype=pl.UInt32),
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
