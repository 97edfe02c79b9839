"""One forecaster for daily AI credits, chosen and checked by a rolling-origin backtest.

A series of daily credits (a scope, a cost centre, a budget's scope) is projected over any horizon by the candidate
that forecast its own recent history best:

* ``seasonal_naive`` — repeat the last week (the baseline every other candidate must beat);
* ``recent_profile`` — the kit's earlier model: the mean of the last 28 days of the same kind (weekday / weekend),
  scaled by the trend of the last 14 days against the 14 before (capped at ±30 %);
* ``ets`` — additive Holt-Winters exponential smoothing with a damped trend and a weekly season (statsmodels'
  ``ExponentialSmoothing``, fitted by maximum likelihood), from 28 days of history.

The backtest forecasts from origins spread over the history (each origin sees only the days before it) for
``horizon_days`` ahead and scores each candidate by WAPE (sum of absolute errors / sum of actuals). The band around a
cumulative total comes from the chosen model's own backtest errors (split-conformal on log ratios of actual to
forecast cumulative credits), so the stated coverage is measured: ``coverage`` is the share of held-out origins whose
actual total fell inside a band calibrated on the other origins. Past the backtested horizon the band is widened as
the square root of the extra length: a planning range, said as such. This follows FinOps practice (AWS Cost Explorer
and Azure Cost Management show an 80 % interval and decline to forecast from too little history:
https://docs.aws.amazon.com/cost-management/latest/userguide/ce-forecast.html) and the conformal recipe in
Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.), §5.5 and §5.10.

GitHub's definition changes that step the credits series (the register's entries for ``credits`` without an
``until``) are level shifts, not trend: history before the latest one inside the window is cut, and the projection
says so.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

NOMINAL = 0.80  #: default interval level (AWS and Azure show 80 %)
MIN_HISTORY_DAYS = 14  #: fewer complete days: a preliminary figure and no band
PROFILE_DAYS = 28
ETS_MIN_DAYS = 28
MAX_ORIGINS = 26  #: backtest origins (a week apart, newest first) at most: half a year
NEFF = 0.5
MIN_ORIGINS = 4  #: fewer: no backtest, a preliminary figure

Model = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def seasonal_naive(y: np.ndarray, weekday: np.ndarray, h: int) -> np.ndarray:
    """Repeat the last seven days."""
    last = y[-7:] if y.size >= 7 else np.full(7, y.mean())
    return np.resize(last, h)


def recent_profile(y: np.ndarray, weekday: np.ndarray, h: int) -> np.ndarray:
    """Mean of the last 28 days of the same kind (weekday/weekend) × the recent trend (capped ±30 %)."""
    recent, kinds = y[-PROFILE_DAYS:], weekday[-PROFILE_DAYS:] >= 5
    last14, prev14 = y[-14:].sum(), y[-28:-14].sum() if y.size >= 28 else 0.0
    trend = float(np.clip(last14 / prev14, 0.7, 1.3)) if prev14 > 0 else 1.0
    means = {k: recent[kinds == k].mean() if (kinds == k).any() else recent.mean() for k in (False, True)}
    future = (weekday[-1] + 1 + np.arange(h)) % 7 >= 5
    return np.where(future, means[True], means[False]) * trend


def ets(y: np.ndarray, weekday: np.ndarray, h: int) -> np.ndarray:
    """Damped additive-trend, additive weekly-season exponential smoothing (statsmodels)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():  # convergence chatter on short or flat series; the backtest judges the fit
        warnings.simplefilter("ignore")
        # least squares without the brute-force start: the same fit (sum of squared errors within 0.01 % on the
        # kit's series) ten to twenty times faster, which a backtest of two dozen origins needs
        model = ExponentialSmoothing(
            y.astype(float), trend="add", damped_trend=True, seasonal="add", seasonal_periods=7
        )
        try:
            fit = model.fit(use_brute=False, method="least_squares")
        except (ValueError, np.linalg.LinAlgError):  # scipy's trust region can fail on a flat stretch
            fit = model.fit(use_brute=False, method="L-BFGS-B")
        out = np.asarray(fit.forecast(h), dtype=float)
    return np.where(np.isfinite(out), out, seasonal_naive(y, weekday, h))


CANDIDATES: dict[str, tuple[Model, int]] = {  # name -> (model, least history it needs)
    "seasonal_naive": (seasonal_naive, 7),
    "recent_profile": (recent_profile, 14),
    "ets": (ets, ETS_MIN_DAYS),
}
LABELS = {
    "seasonal_naive": "repeating last week",
    "recent_profile": "the last 28 days' weekday and weekend averages with their trend",
    "ets": "exponential smoothing with a damped trend and a weekly season",
}


@dataclass(frozen=True)
class Backtest:
    """How the chosen model forecast this series' own history: ``origins`` forecasts of ``horizon_days`` each."""

    model: str
    origins: int
    horizon_days: int
    wape: float
    bias: float  # sum(forecast - actual) / sum(actual): + means over-forecast
    coverage: float | None  # share of held-out origins whose actual total fell inside the band
    nominal: float
    skill_vs_seasonal_naive: float | None  # 1 - WAPE / WAPE of repeating last week
    wape_by_model: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "origins": self.origins,
            "horizon_days": self.horizon_days,
            "wape": self.wape,
            "bias": self.bias,
            "coverage": self.coverage,
            "nominal": self.nominal,
            "skill_vs_seasonal_naive": self.skill_vs_seasonal_naive,
        }


@dataclass(frozen=True)
class Projection:
    """Daily credits after ``as_of`` (``path``: ``day, credits``) with what is known about their accuracy.

    ``preliminary`` holds the reason when there is too little history for a band (then ``total`` gives no interval).
    ``history`` is the series the model saw (after gaps filled and level shifts cut); ``notes`` say what was done."""

    as_of: dt.date
    model: str | None
    path: pl.DataFrame
    history: pl.DataFrame
    backtest: Backtest | None
    log_errors: np.ndarray  # calibration errors: log(actual / forecast) of cumulative totals, per origin
    nominal: float
    preliminary: str | None
    notes: tuple[str, ...] = ()

    def total(self, start: dt.date, end: dt.date) -> PeriodTotal:
        """Credits of ``[start, end]``: actual days up to ``as_of`` plus projected days after it, with the band."""
        hist = self.history.filter(pl.col("day").is_between(start, end))
        actual = float(hist["credits"].sum()) if hist.height else 0.0
        proj = self.path.filter(pl.col("day").is_between(start, end))
        projected = float(proj["credits"].sum()) if proj.height else 0.0
        days = proj.height
        low = high = None
        if days and self.preliminary is None and self.log_errors.size:
            assert self.backtest is not None
            lo_q, hi_q = _band(self.log_errors, self.nominal)
            # the projected days start where they start; a later period's days are further out than the backtest
            lead = (start - self.as_of).days - 1 if start > self.as_of else 0
            widen = max(1.0, np.sqrt((lead + days) / self.backtest.horizon_days)) if self.backtest else 1.0
            low = actual + projected * float(np.exp(lo_q * widen))
            high = actual + projected * float(np.exp(hi_q * widen))
        elif not days:
            low = high = actual
        beyond = bool(self.backtest and (end - self.as_of).days > self.backtest.horizon_days)
        return PeriodTotal(start, end, actual, actual + projected, low, high, days, beyond)

    def cumulative(self, start: dt.date, end: dt.date) -> pl.DataFrame:
        """``day, kind (actual/forecast), credits, low, high`` cumulative over ``[start, end]``: the actual days
        to ``as_of``, then the projected ones with the band widening as the period's total band does."""
        hist = self.history.filter(pl.col("day").is_between(start, min(end, self.as_of))).sort("day")
        actual = hist.select("day", kind=pl.lit("actual"), credits=pl.col("credits").cum_sum()).with_columns(
            low=pl.col("credits"), high=pl.col("credits")
        )
        proj = self.path.filter(pl.col("day").is_between(start, end))
        if not proj.height:
            return actual
        base = float(hist["credits"].sum())
        lo_q, hi_q = _band(self.log_errors, self.nominal) if self.log_errors.size else (0.0, 0.0)
        horizon = self.backtest.horizon_days if self.backtest else 28
        lead = max((proj["day"][0] - self.as_of).days - 1, 0)
        widen = np.maximum(1.0, np.sqrt((lead + np.arange(1, proj.height + 1)) / horizon))
        run = np.cumsum(proj["credits"].to_numpy())
        banded = self.preliminary is None and self.log_errors.size > 0
        forecast = pl.DataFrame(
            {
                "day": proj["day"],
                "kind": "forecast",
                "credits": base + run,
                "low": base + run * np.exp(lo_q * widen) if banded else None,
                "high": base + run * np.exp(hi_q * widen) if banded else None,
            },
            schema={"day": pl.Date, "kind": pl.String, "credits": pl.Float64, "low": pl.Float64, "high": pl.Float64},
        )
        return pl.concat([actual, forecast], how="vertical_relaxed")

    def sentence(self) -> str:
        """How this projection was made and how well it did on this series' own history, for the reader."""
        if self.backtest is None:
            why = self.preliminary or "too little history"
            return f"Preliminary figure with no interval: {why}." + "".join(f" {n}" for n in self.notes)
        bt = self.backtest
        skill = bt.skill_vs_seasonal_naive
        versus = (
            ""
            if skill is None or bt.model == "seasonal_naive"
            else f"; its error is {abs(skill):.0%} {'below' if skill >= 0 else 'above'} repeating last week"
        )
        if bt.coverage is None:
            covered = "too few separate periods yet to measure how often its interval holds"
        else:
            covered = f"its {bt.nominal:.0%} interval held in {bt.coverage:.0%} of the held-out periods"
            if bt.coverage < bt.nominal - 0.10:
                covered += f", more than 10 points under {bt.nominal:.0%}: read the interval as too narrow"
        return (
            f"Forecast by {LABELS[bt.model]}, chosen over {bt.origins} past {bt.horizon_days}-day periods: off by "
            f"{bt.wape:.0%} a day on average, {'over' if bt.bias >= 0 else 'under'}-forecast by "
            f"{abs(bt.bias):.0%} overall{versus}; {covered}." + "".join(f" {n}" for n in self.notes)
        )

    def exhaustion(self, start: dt.date, end: dt.date, amount: float) -> tuple[dt.date | None, dt.date | None]:
        """The day credits counted from ``start`` reach ``amount`` within ``[start, end]``: on the central path
        (P50) and on the band's upper edge (P90: nine times in ten it comes no earlier), or None when they do not.
        A pool already spent by ``as_of`` gives the day it was reached, for both."""
        hist = self.history.filter(pl.col("day").is_between(start, min(end, self.as_of)))
        reached = hist.filter(pl.col("credits").cum_sum() >= amount)
        if reached.height:
            day: dt.date = reached["day"][0]
            return day, day
        proj = self.path.filter(pl.col("day").is_between(start, end))
        if not proj.height:
            return None, None
        lead = np.arange(1, proj.height + 1) + max((proj["day"][0] - self.as_of).days - 1, 0)
        _, hi_q = _band(self.log_errors, self.nominal) if self.log_errors.size else (0.0, 0.0)
        horizon = self.backtest.horizon_days if self.backtest else 28
        widen = np.maximum(1.0, np.sqrt(lead / horizon))
        base = float(hist["credits"].sum())
        central = base + np.cumsum(proj["credits"].to_numpy())
        upper = base + np.cumsum(proj["credits"].to_numpy() * np.exp(hi_q * widen))

        def first(path: np.ndarray) -> dt.date | None:
            idx = np.flatnonzero(path >= amount)
            return proj["day"][int(idx[0])] if idx.size else None

        return first(central), first(upper) if self.preliminary is None else None


@dataclass(frozen=True)
class PeriodTotal:
    start: dt.date
    end: dt.date
    actual: float  # credits of the period's days up to as_of
    credits: float  # actual + projected
    low: float | None
    high: float | None
    projected_days: int
    planning_range: bool  # reaches past the backtested horizon: the band is a planning range, not measured


def _band(log_errors: np.ndarray, nominal: float) -> tuple[float, float]:
    """The band of log(actual / forecast) for one more period: the backtest errors' mean ± Student's t (n - 1
    degrees of freedom) × their spread × √(1 + 1/n), the prediction interval for a new draw; few origins give a wide
    band, as they should. (On series of a known process, weekly origins and 28-day totals, this covered 80 % ± 7
    points of held-back periods; the empirical quantiles of so few, overlapping windows covered under 60 %.)"""
    from scipy.stats import t

    n = log_errors.size
    spread = float(np.std(log_errors, ddof=1)) if n > 1 else 0.0
    half = float(t.ppf((1 + nominal) / 2, df=max(n - 1, 1))) * spread * float(np.sqrt(1 + 1 / max(n, 1)))
    centre = float(np.mean(log_errors)) if n else 0.0
    return min(centre - half, 0.0), max(centre + half, 0.0)


def series(daily: pl.DataFrame, *, as_of: dt.date, by: Sequence[str] = ()) -> tuple[pl.DataFrame, int]:
    """``day, credits`` on every calendar day from the first known day to ``as_of``; a day not fetched (no row or
    null credits) is filled with the mean of its kind (weekday/weekend) over the 28 days before it. Returns the
    series and how many days were filled. With ``by``: one such series per key of ``daily`` (``by, day, credits``),
    each from its own first known day."""
    keys = list(by)
    known = daily.select(*keys, "day", "credits").filter(pl.col("day") <= as_of).drop_nulls().sort(*keys, "day")
    if not known.height:
        return known.cast({"credits": pl.Float64}), 0
    starts = known.group_by(keys).agg(pl.col("day").min()) if keys else known.select(pl.col("day").min())
    days = starts.select(*keys, day=pl.date_ranges("day", as_of)).explode("day")
    full = days.join(known, on=[*keys, "day"], how="left").with_columns(weekend=pl.col("day").dt.weekday() >= 6)
    fill = (
        full.sort(*keys, "day")
        .rolling("day", period="28d", closed="left", group_by=[*keys, "weekend"])
        .agg(fill=pl.col("credits").mean())
        .select(*keys, "day", "fill")
    )
    ahead = pl.col("credits").forward_fill()
    out = (
        full.join(fill, on=[*keys, "day"], how="left")
        .select(*keys, "day", credits=pl.coalesce("credits", "fill", ahead.over(keys) if keys else ahead))
        .cast({"credits": pl.Float64})
        .sort(*keys, "day")
    )
    return out, int(full["credits"].null_count())


def project(
    daily: pl.DataFrame,
    *,
    as_of: dt.date,
    until: dt.date,
    breaks: Sequence[dt.date] = (),
    nominal: float = NOMINAL,
    horizon_days: int | None = None,
    models: Sequence[str] = tuple(CANDIDATES),
) -> Projection:
    """Project ``daily`` (``day, credits``; complete days up to ``as_of``) to ``until``, chosen by backtest.

    ``breaks``: days a definition change stepped the series (history before the latest one is not learned from).
    ``horizon_days``: the backtest's horizon (default: :func:`backtest_horizon`)."""
    full, filled = series(daily, as_of=as_of)
    notes: list[str] = []
    if filled:
        notes.append(f"{filled} day(s) not fetched were filled with the mean of their kind over the 28 days before.")
    first: dt.date | None = full["day"].min() if full.height else None  # type: ignore[assignment]
    cut = max((b for b in breaks if first is not None and first < b <= as_of), default=None)
    if cut is not None:
        full = full.filter(pl.col("day") >= cut)
        notes.append(f"History before {cut} is left out: a definition change stepped credits that day.")
    future = pl.date_range(as_of + dt.timedelta(days=1), until, eager=True) if until > as_of else None
    h = len(future) if future is not None else 0
    y = full["credits"].to_numpy().astype(float)
    weekday = (full["day"].dt.weekday() - 1).to_numpy()  # Monday = 0
    if y.size < MIN_HISTORY_DAYS:
        reason = f"only {y.size} day(s) of history (a band needs {MIN_HISTORY_DAYS})"
        name = "recent_profile" if y.size >= 7 else "seasonal_naive"
        path = _path(future, CANDIDATES[name][0](y, weekday, h) if h and y.size else np.zeros(h))
        empty = np.array([])
        return Projection(as_of, name if y.size else None, path, full, None, empty, nominal, reason, tuple(notes))
    horizon = horizon_days or backtest_horizon(y.size)
    bt, errors = backtest(y, weekday, horizon=horizon, nominal=nominal, models=models)
    model = CANDIDATES[bt.model][0] if bt else recent_profile
    path = _path(future, model(y, weekday, h)) if h else _path(None, np.array([]))
    preliminary = None if bt else f"too little history for a backtest ({y.size} days; a band needs {horizon + 28})"
    return Projection(
        as_of, bt.model if bt else "recent_profile", path, full, bt, errors, nominal, preliminary, tuple(notes)
    )


def backtest_horizon(days: int) -> int:
    """The longest backtest horizon (28, 14 or 7 days) that leaves room for :data:`MIN_ORIGINS` weekly origins
    with a month of history before the first (three months of history backtest four-week periods)."""
    return next((h for h in (28, 14) if days >= h + 28 + 7 * (MIN_ORIGINS - 1)), 7)


def _path(days: pl.Series | None, values: np.ndarray) -> pl.DataFrame:
    if days is None:
        return pl.DataFrame(schema={"day": pl.Date, "credits": pl.Float64})
    return pl.DataFrame({"day": days, "credits": np.clip(values, 0, None)})


def origins(n: int, *, horizon: int, least: int, step: int = 7, most: int = MAX_ORIGINS) -> list[int]:
    """Backtest origins (the number of days each one sees), newest first, a week apart (so each starts on the same
    weekday as the forecast it vouches for): each sees at least ``least`` days and has ``horizon`` days after it."""
    last = n - horizon
    return list(range(last, least - 1, -step))[:most] if last >= least else []


def backtest(
    y: np.ndarray,
    weekday: np.ndarray,
    *,
    horizon: int,
    nominal: float = NOMINAL,
    models: Sequence[str] = tuple(CANDIDATES),
) -> tuple[Backtest | None, np.ndarray]:
    """Rolling-origin backtest of the candidates; the best by WAPE is chosen (ties go to repeating last week).

    Every candidate is scored on the same origins: a candidate that needs more history than allows five origins
    is left out. Returns the chosen model's :class:`Backtest` and its calibration errors (log ratio of actual to
    forecast ``horizon``-day totals, one per origin, newest first)."""
    usable = [m for m in models if len(origins(len(y), horizon=horizon, least=CANDIDATES[m][1])) >= MIN_ORIGINS]
    if "seasonal_naive" not in usable:
        return None, np.array([])
    common = origins(len(y), horizon=horizon, least=max(CANDIDATES[m][1] for m in usable))
    scores: dict[str, tuple[float, float, np.ndarray]] = {}
    for name in usable:
        model = CANDIDATES[name][0]
        fc = np.stack([np.clip(model(y[:o], weekday[:o], horizon), 0, None) for o in common])
        act = np.stack([y[o : o + horizon] for o in common])
        total = float(act.sum())
        if total > 0:
            logs = np.log(np.maximum(act.sum(axis=1), 1e-9) / np.maximum(fc.sum(axis=1), 1e-9))
            scores[name] = (float(np.abs(fc - act).sum()) / total, float((fc - act).sum()) / total, logs)
    if "seasonal_naive" not in scores:
        return None, np.array([])
    best = min(scores, key=lambda m: (scores[m][0], m != "seasonal_naive"))
    wape, bias, logs = scores[best]
    naive = scores["seasonal_naive"][0]
    at = np.array(common)
    coverage = _held_out_coverage(logs, at, horizon, nominal)
    bt = Backtest(
        best,
        len(logs),
        horizon,
        wape,
        bias,
        coverage,
        nominal,
        1 - wape / naive if naive > 0 else None,
        {m: s[0] for m, s in scores.items()},
    )
    return bt, logs


def _held_out_coverage(logs: np.ndarray, at: np.ndarray, horizon: int, nominal: float) -> float | None:
    """Share of origins whose actual total lies inside the band calibrated only on origins whose windows do not
    overlap it (shared days would flatter the band). None when fewer than four origins can be held out that way."""
    checked = []
    for i in range(logs.size):
        apart = np.abs(at - at[i]) >= horizon
        if apart.sum() >= 3:
            lo, hi = _band(logs[apart], nominal)
            checked.append(lo <= logs[i] <= hi)
    return float(np.mean(checked)) if len(checked) >= 4 else None


ONE_STEP_MODELS = ("seasonal_naive", "recent_profile")  #: ETS refits take 0.1–0.2 s each: too slow per day and unit
CALIBRATION_DAYS = 28  #: one-day forecasts checked before the first day assessed
MIN_CALIBRATION = 14  #: fewer checked days (days with data): no band
OUTLIER_SPREADS = 5.0  #: a checked day further than this × 1.4826 × MAD from the median error does not set the band
SHIFT_DAYS = 3  #: this many days in a row outside the band on one side are a new level, kept in the history


@dataclass(frozen=True)
class OneStep:
    """One-day-ahead forecasts of a series with their band (``expected``, ``low``, ``high`` per target index), the
    model and band chosen and calibrated once on the :data:`CALIBRATION_DAYS` before the first target."""

    model: str
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    checked: int  # calibration days (one-day forecasts compared with what happened)


def one_step(
    y: np.ndarray,
    weekday: np.ndarray,
    targets: Sequence[int],
    *,
    level: float,
    known: np.ndarray | None = None,
    min_half_width: float = 0.0,
    models: Sequence[str] = ONE_STEP_MODELS,
) -> OneStep | None:
    """Each target day's forecast from the days before it (horizon 1) with a band at ``level`` (two-sided);
    ``targets`` are indices into ``y``, ascending.

    The candidates forecast each of the :data:`CALIBRATION_DAYS` before the first target (below) from the days before it
    (a rolling-origin backtest at horizon one; only days in ``known`` are checked, the others were gaps the caller
    filled); the best by WAPE is chosen (ties go to repeating last week). Its errors are put on the square-root scale
    of count noise, ``(actual - forecast) / sqrt(forecast + 1)`` (a day's credits are a sum over its active users, so
    their variance grows with the day's size: a weekend or a small team is relatively noisier, and one scale serves
    both), and give the band as :func:`project`'s does (:func:`_band`, the Student-t prediction interval), after
    leaving out days further than :data:`OUTLIER_SPREADS` robust SDs from the median error (a holiday, an earlier
    runaway: what a band is for, not its width). The first target with :data:`MIN_CALIBRATION` such days is where
    the band is calibrated; targets before it get NaN. The band reaches at least ``min_half_width`` credits either
    side of the forecast. Each day, checked or target, outside its calibrated band enters the history of the days
    after it as the median of its kind (weekday/weekend) in the 28 days before, so one runaway or holiday does not
    move the weeks after it (a week's repeat, a mean, a trend); :data:`SHIFT_DAYS` in a row outside it on one side
    are a new level and enter the history as they were (otherwise a lasting step would be flagged day after day).
    None when fewer than :data:`MIN_CALIBRATION` days can be checked."""
    seen = np.ones(y.size, dtype=bool) if known is None else known

    def checkable(first: int, least: int) -> np.ndarray:
        days = np.arange(max(first - CALIBRATION_DAYS, 0), first)
        return days[(days >= least) & seen[days]]

    # the first target with enough days before it to check (the ones before it get no band)
    least = CANDIDATES["seasonal_naive"][1]
    first = next((i for i in targets if checkable(i, least).size >= MIN_CALIBRATION), None)
    if first is None:
        return None
    usable = [m for m in models if checkable(first, CANDIDATES[m][1]).size >= MIN_CALIBRATION]
    common = checkable(first, max(CANDIDATES[m][1] for m in usable))
    act = y[common].astype(float)
    fcs = {
        m: np.clip([CANDIDATES[m][0](y[:o], weekday[:o], 1)[0] for o in common], 0, None).astype(float) for m in usable
    }
    total = float(act.sum())
    wape = {m: float(np.abs(fc - act).sum()) / total if total > 0 else 0.0 for m, fc in fcs.items()}
    best = min(wape, key=lambda m: (wape[m], m != "seasonal_naive"))
    errors = (act - fcs[best]) / np.sqrt(fcs[best] + 1)
    spread = 1.4826 * float(np.median(np.abs(errors - np.median(errors))))
    ordinary = np.abs(errors - np.median(errors)) <= OUTLIER_SPREADS * spread if spread > 0 else np.isfinite(errors)
    lo_q, hi_q = _band(errors[ordinary], level)
    model, clean = CANDIDATES[best][0], y.astype(float)

    run: list[int] = []  # the days in a row outside the band on one side, up to the day being stepped
    side = 0

    def step(i: int) -> tuple[float, float, float]:
        nonlocal side
        centre = max(float(model(clean[:i], weekday[:i], 1)[0]), 0.0)
        low, high = centre + lo_q * np.sqrt(centre + 1), centre + hi_q * np.sqrt(centre + 1)
        out = 0 if low <= clean[i] <= high else (1 if clean[i] > high else -1)  # the calibrated band, floors aside
        run[:] = [*run, i] if out and out == side else ([i] if out else [])
        side = out
        if len(run) >= SHIFT_DAYS:  # a new level (a team onboarded, a price change), not an odd day: kept as it is
            clean[run] = y[run]
        elif out:
            # the median of the same kind of day in the 28 before, not the forecast: a repeat of last week would
            # carry one odd day's value on week after week
            before = np.arange(max(i - PROFILE_DAYS, 0), i)
            same = clean[before[(weekday[before] >= 5) == (weekday[i] >= 5)]]
            clean[i] = float(np.median(same)) if same.size else centre
        return centre, max(min(low, centre - min_half_width), 0.0), max(high, centre + min_half_width)

    for i in common:
        step(int(i))
    nan = (np.nan, np.nan, np.nan)
    bands = [step(i) if i >= first else nan for i in targets]
    expected, low, high = (np.array(v, dtype=float) for v in zip(*bands, strict=True))
    return OneStep(best, expected, low, high, int(common.size))
