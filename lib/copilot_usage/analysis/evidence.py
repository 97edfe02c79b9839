"""The organisation's own evidence: pull requests, review time and cycles per developer by GitHub's adoption phase
(an association, not an effect), review guardrails over time, and a staggered-adoption event study on an outcomes
file the user supplies.

The event study is the imputation estimator of Borusyak, Jaravel and Spiess ("Revisiting Event-Study Designs:
Robust and Efficient Estimation", Review of Economic Studies 2024, https://doi.org/10.1093/restud/rdae007): user and
week fixed effects are fitted on the untreated user-weeks only (users never treated in the panel and users not yet
treated), each treated user-week's counterfactual is imputed from them, and the effect is the mean of outcome minus
counterfactual. Unlike a two-way fixed-effects regression with a treatment dummy it does not compare later adopters
with earlier ones, which biases staggered designs (Goodman-Bacon, Journal of Econometrics 2021). The interval is a
user-cluster bootstrap; the pre-trend test is the same paper's: lead indicators added to the untreated fit, jointly
zero (cluster-robust Wald test, F with the clusters' degrees of freedom). Written with numpy rather than pyfixest, whose 0.60 wheel pulls pandas,
seaborn/matplotlib, formulaic and four more packages for this one estimator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from ..errors import InputError
from .metrics import as_lazy as _lazy

LEVEL = 0.90


# ---------------------------------------------------------------------- adoption cohorts (association)
COHORT_SCHEMA = {
    "phase": pl.String,
    "weeks": pl.UInt32,
    "mean_engaged_users": pl.Float64,
    "prs_per_developer_week": pl.Float64,
    "prs_low": pl.Float64,
    "prs_high": pl.Float64,
    "minutes_to_review": pl.Float64,
    "minutes_low": pl.Float64,
    "minutes_high": pl.Float64,
    "review_cycles": pl.Float64,
    "cycles_low": pl.Float64,
    "cycles_high": pl.Float64,
}


def phase_cohorts(phase_days: pl.DataFrame | pl.LazyFrame, *, level: float = LEVEL) -> pl.DataFrame:
    """Per GitHub adoption phase (``aggregate_ai_adoption_phase_day``): pull requests merged per engaged developer
    per week, the merged-weighted average minutes to review and review cycles, each the mean of its weekly values
    with a ``level`` t interval over the weeks. A phase is chosen by usage, so prolific developers sit in the high
    phases: this is an association, not an effect of Copilot."""
    merged = pl.col("total_pull_requests_merged")

    def weighted(col: str) -> pl.Expr:
        has = pl.col(col).is_not_null() & (merged > 0)
        weight = merged.filter(has).sum()
        return pl.when(weight > 0).then((pl.col(col) * merged).filter(has).sum() / weight)

    weekly = (
        _lazy(phase_days)
        .group_by("phase_number", week=pl.col("day").dt.truncate("1w"))
        .agg(
            phase=pl.col("phase").sort_by("day").last(),
            engaged=pl.col("engaged_users").mean(),
            merged=merged.sum(),
            minutes=weighted("avg_pull_requests_minutes_to_review"),
            cycles=weighted("avg_pull_requests_review_cycles"),
        )
        # a week's daily engaged users average; merges per engaged developer over the week
        .with_columns(prs=pl.when(pl.col("engaged") > 0).then(pl.col("merged") / pl.col("engaged")))
    )

    def band(col: str, low: str, high: str) -> list[pl.Expr]:
        n = pl.col(col).count()
        se = pl.col(col).std() / n.sqrt()
        half = pl.col("_t").first() * se
        return [
            pl.col(col).mean().alias(col),
            (pl.col(col).mean() - half).alias(low),
            (pl.col(col).mean() + half).alias(high),
        ]

    # the t quantile of each phase's number of weeks
    counts = weekly.group_by("phase_number").agg(weeks=pl.len()).collect()
    df = np.maximum(counts["weeks"].to_numpy() - 1, 1)
    tq = counts.with_columns(_t=pl.Series(stats.t.ppf(0.5 + level / 2, df), dtype=pl.Float64))
    return (
        weekly.join(tq.lazy(), on="phase_number")
        .group_by("phase_number")
        .agg(
            pl.col("phase").sort_by("week").last(),
            pl.len().cast(pl.UInt32).alias("weeks"),
            pl.col("engaged").mean().alias("mean_engaged_users"),
            *band("prs", "prs_low", "prs_high"),
            *band("minutes", "minutes_low", "minutes_high"),
            *band("cycles", "cycles_low", "cycles_high"),
        )
        .rename({"prs": "prs_per_developer_week", "minutes": "minutes_to_review", "cycles": "review_cycles"})
        .sort("phase_number")
        .select(list(COHORT_SCHEMA))
        .collect()
    )


def guardrails(aggregate_day: pl.DataFrame | pl.LazyFrame, phase_days: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per week: GitHub's median minutes to merge (the days' medians' median; a median is never averaged into a
    total), pull requests merged, and the share of engaged developers in phases 2–3, so a speed gain bought with
    slower review shows beside the adoption it came with."""
    review = (
        _lazy(aggregate_day)
        .group_by(week=pl.col("day").dt.truncate("1w"))
        .agg(
            median_minutes_to_merge=pl.col("pr_median_minutes_to_merge").median(),
            pull_requests_merged=pl.col("pr_total_merged").sum(),
        )
    )
    phases = (
        _lazy(phase_days)
        .group_by(week=pl.col("day").dt.truncate("1w"))
        .agg(
            high=pl.col("engaged_users").filter(pl.col("phase_number") >= 2).sum(),
            all=pl.col("engaged_users").sum(),
            cycles=(pl.col("avg_pull_requests_review_cycles") * pl.col("total_pull_requests_merged")).sum()
            / pl.col("total_pull_requests_merged")
            .filter(pl.col("avg_pull_requests_review_cycles").is_not_null())
            .sum(),
        )
        .select(
            "week",
            share_in_phases_2_3=pl.when(pl.col("all") > 0).then(pl.col("high") / pl.col("all")),
            review_cycles=pl.col("cycles"),
        )
    )
    return review.join(phases, on="week", how="full", coalesce=True).sort("week").collect()


# ---------------------------------------------------------------------- adoption events
def adoption_weeks(
    user_day: pl.DataFrame | pl.LazyFrame, *, sustained_weeks: int = 2, burn_in_weeks: int = 2
) -> pl.DataFrame:
    """Each user's first sustained Copilot use: the first week (Monday) that starts ``sustained_weeks`` weeks in a
    row with activity. ``censored`` marks a user whose event falls in the data's first ``burn_in_weeks`` weeks
    (the first is often a part week): they may have started before the data, so the date is not known and the
    user is left out of the event study. Users never sustained have a null week. Returns ``user_login`` (lower
    case), ``adoption_week``, ``censored``."""
    weeks = (
        _lazy(user_day)
        .select(user_login=pl.col("user_login").str.to_lowercase(), week=pl.col("day").dt.truncate("1w"))
        .unique()
        .sort("user_login", "week")
    )
    first_week = weeks.select(pl.col("week").min()).collect().item()
    later = pl.col("week").shift(-(sustained_weeks - 1)).over("user_login")
    run = (later - pl.col("week")) == pl.duration(weeks=sustained_weeks - 1) if sustained_weeks > 1 else pl.lit(True)
    return (
        weeks.with_columns(_run=run)
        .group_by("user_login")
        .agg(adoption_week=pl.col("week").filter(pl.col("_run")).min())
        .with_columns(
            censored=(pl.col("adoption_week") < pl.lit(first_week) + pl.duration(weeks=burn_in_weeks)).fill_null(False)
        )
        .sort("user_login")
        .collect()
    )


# ---------------------------------------------------------------------- the outcomes file
def read_outcomes(path: str | Path) -> pl.DataFrame:
    """The user's outcomes CSV: ``user_login, week, <outcome>...`` (one or more numeric outcome columns, per
    developer per week). ``week`` is any day of the week (ISO date); it is moved to its Monday. Raises
    :class:`InputError` naming the file, and the line where a value is wrong."""
    path = Path(path)
    try:
        frame = pl.read_csv(
            path, infer_schema_length=10_000, schema_overrides={"user_login": pl.String, "week": pl.String}
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        msg = f"{path}: cannot read the outcomes file (a CSV of user_login, week, outcome columns): {exc}"
        raise InputError(msg) from None
    missing = {"user_login", "week"} - set(frame.columns)
    outcomes = [c for c in frame.columns if c not in ("user_login", "week")]
    if missing or not outcomes:
        msg = f"{path}: needs columns user_login, week and at least one outcome; has {', '.join(frame.columns)}"
        raise InputError(msg)
    parsed = frame.with_columns(
        _line=pl.int_range(2, pl.len() + 2),
        _week=pl.col("week").str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
        **{c: pl.col(c).cast(pl.Float64, strict=False) for c in outcomes},
    )
    bad_week = parsed.filter(pl.col("_week").is_null())
    if bad_week.height:
        row = bad_week.row(0, named=True)
        msg = f"{path}: line {row['_line']}: week {row['week']!r} is not an ISO date (YYYY-MM-DD)"
        raise InputError(msg)
    for c in outcomes:  # a few named columns
        bad = parsed.filter(pl.col(c).is_null() & frame[c].is_not_null())
        if bad.height:
            msg = f"{path}: line {bad['_line'][0]}: {c} {frame[c][bad['_line'][0] - 2]!r} is not a number"
            raise InputError(msg)
    return parsed.select(
        pl.col("user_login").str.strip_chars().str.to_lowercase(),
        pl.col("_week").dt.truncate("1w").alias("week"),
        *[pl.col(c) for c in outcomes],
    )


# ---------------------------------------------------------------------- the imputation estimator
@dataclass(frozen=True)
class EventStudy:
    """The event study's result (``summary.json``'s ``event_study`` and the report's table)."""

    outcome: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    users_treated: int
    users_control: int
    users_never_treated: int
    users_censored: int
    pretrend_p: float | None
    level: float
    by_event_time: pl.DataFrame = field(repr=False)

    def summary(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "users_treated": self.users_treated,
            "users_control": self.users_control,
            "pretrend_p": self.pretrend_p,
        }


def _fit_fe(
    y: np.ndarray, u: np.ndarray, t: np.ndarray, w: np.ndarray, nu: int, nt: int, start: tuple | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two-way fixed effects of ``y`` on user ``u`` and week ``t`` (weights ``w``) by alternating projections."""
    a = np.zeros(nu) if start is None else start[0].copy()
    g = np.zeros(nt) if start is None else start[1].copy()
    wu = np.bincount(u, w, nu)
    wt = np.bincount(t, w, nt)
    wu[wu == 0], wt[wt == 0] = np.inf, np.inf  # a unit or week without untreated rows has no effect to fit
    for _ in range(1000):  # converges in tens of sweeps on connected panels
        a_new = np.bincount(u, w * (y - g[t]), nu) / wu
        g_new = np.bincount(t, w * (y - a_new[u]), nt) / wt
        done = max(np.abs(a_new - a).max(initial=0), np.abs(g_new - g).max(initial=0)) < 1e-10
        a, g = a_new, g_new
        if done:
            break
    return a, g


def _demean(x: np.ndarray, u: np.ndarray, t: np.ndarray, nu: int, nt: int) -> np.ndarray:
    a, g = _fit_fe(x, u, t, np.ones_like(x), nu, nt)
    return x - a[u] - g[t]


def _pretrend_p(
    y: np.ndarray, u: np.ndarray, t: np.ndarray, rel: np.ndarray, nu: int, nt: int, leads: int
) -> float | None:
    """Untreated rows: y on user and week effects plus indicators of 1…``leads`` weeks before adoption; the Wald
    test that the indicators are jointly zero, cluster-robust by user."""
    cols = [(rel == -k).astype(float) for k in range(1, leads + 1)]
    keep = [c for c in cols if c.sum() > 0]
    if not keep:
        return None
    x = np.column_stack([_demean(c, u, t, nu, nt) for c in keep])
    yd = _demean(y, u, t, nu, nt)
    xtx = x.T @ x
    try:
        inv = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        return None
    beta = inv @ x.T @ yd
    resid = yd - x @ beta
    scores = np.zeros((nu, x.shape[1]))
    np.add.at(scores, u, x * resid[:, None])
    clusters = int((np.bincount(u, minlength=nu) > 0).sum())
    meat = scores.T @ scores * clusters / max(clusters - 1, 1)
    vcov = inv @ meat @ inv
    try:
        wald = float(beta @ np.linalg.solve(vcov, beta))
    except np.linalg.LinAlgError:
        return None
    # F with the clusters' degrees of freedom: a chi-squared test over-rejects with few clusters
    q = len(keep)
    return float(stats.f.sf(wald / q, q, max(clusters - 1, 1)))


def event_study(
    outcomes: pl.DataFrame,
    adoption: pl.DataFrame,
    *,
    outcome: str,
    level: float = LEVEL,
    reps: int = 299,
    seed: int = 0,
    leads: int = 4,
    horizon: int = 8,
    from_week: dt.date | None = None,
) -> EventStudy:
    """The average effect on ``outcome`` per developer-week after each user's adoption week (imputation estimator,
    see the module docstring), its ``level`` interval (user-cluster bootstrap, ``reps`` resamples from ``seed``),
    the pre-trend p-value, and the effect by week since adoption (0…``horizon``).

    ``outcomes``: ``user_login, week, <outcome>``; ``adoption``: ``user_login, adoption_week, censored``
    (:func:`adoption_weeks`). Users without an adoption week are never treated (controls); censored users and
    users with no week before their adoption are left out (their untreated level is unknown). ``from_week``: the
    first week the adoption data covers (earlier outcome weeks are dropped: nobody's use is known then)."""
    panel = (
        outcomes.select("user_login", "week", y=pl.col(outcome).cast(pl.Float64))
        .filter(pl.lit(True) if from_week is None else pl.col("week") >= pl.lit(from_week))
        .drop_nulls("y")
        .join(adoption.select("user_login", "adoption_week", "censored"), on="user_login", how="left")
        .filter(~pl.col("censored").fill_null(False))
        .with_columns(rel=((pl.col("week") - pl.col("adoption_week")).dt.total_days() // 7).cast(pl.Int64))
        .with_columns(treated=pl.col("rel").fill_null(-1) >= 0)
    )
    # a treated user needs untreated weeks in the panel to impute from
    has_pre = panel.group_by("user_login").agg(pre=(~pl.col("treated")).any())
    panel = panel.join(has_pre, on="user_login").filter(pl.col("pre"))
    # a treated week needs untreated users that week
    weeks_ok = panel.group_by("week").agg(ok=(~pl.col("treated")).any())
    panel = panel.join(weeks_ok, on="week").filter(pl.col("ok") | ~pl.col("treated"))
    panel = panel.with_columns(
        u=pl.col("user_login").rank("dense").cast(pl.Int64) - 1, t=pl.col("week").rank("dense").cast(pl.Int64) - 1
    ).sort("u", "t")
    users = panel.group_by("user_login").agg(ever=pl.col("treated").any(), untreated=(~pl.col("treated")).any())
    n_treated = int(users["ever"].sum())
    n_control = int(users["untreated"].sum())
    never = int(panel.filter(pl.col("adoption_week").is_null())["user_login"].n_unique())
    censored = int(adoption["censored"].fill_null(False).sum())
    empty = pl.DataFrame(
        schema={
            "weeks_since_adoption": pl.Int64,
            "estimate": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "users": pl.Int64,
        }
    )
    if n_treated == 0 or panel.filter(~pl.col("treated")).height == 0:
        return EventStudy(outcome, None, None, None, n_treated, n_control, never, censored, None, level, empty)

    y = panel["y"].to_numpy()
    u = panel["u"].to_numpy()
    t = panel["t"].to_numpy()
    rel = panel["rel"].fill_null(-(10**6)).to_numpy()
    treated = panel["treated"].to_numpy()
    nu, nt = int(u.max()) + 1, int(t.max()) + 1
    ctrl = ~treated
    k = np.clip(rel, 0, horizon)  # event time of treated rows, the last bucket holding horizon and later

    def effects(w: np.ndarray, start: tuple | None = None) -> tuple[float, np.ndarray, tuple]:
        a, g = _fit_fe(y[ctrl], u[ctrl], t[ctrl], w[ctrl], nu, nt, start)
        tau = y[treated] - a[u[treated]] - g[t[treated]]
        wt = w[treated]
        overall = float(np.sum(wt * tau) / np.sum(wt)) if np.sum(wt) > 0 else np.nan
        num = np.bincount(k[treated], wt * tau, horizon + 1)
        den = np.bincount(k[treated], wt, horizon + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_k = num / den
        return overall, per_k, (a, g)

    ones = np.ones_like(y)
    point, per_k, fitted = effects(ones)
    rng = np.random.default_rng(seed)
    boot = np.empty(reps)
    boot_k = np.empty((reps, horizon + 1))
    for i in range(reps):  # resample users (clusters): each resample refits the untreated fixed effects
        counts = np.bincount(rng.integers(0, nu, nu), minlength=nu).astype(float)
        boot[i], boot_k[i], _ = effects(counts[u], fitted)
    tail = (1 - level) / 2
    ci = np.nanquantile(boot, [tail, 1 - tail])
    seen = np.isfinite(boot_k).any(axis=0)  # an event time no resample reached has no interval
    ci_k = np.full((2, horizon + 1), np.nan)
    ci_k[:, seen] = np.nanquantile(boot_k[:, seen], [tail, 1 - tail], axis=0)
    users_k = (
        panel.filter(pl.col("treated"))
        .group_by(weeks_since_adoption=pl.col("rel").clip(0, horizon))
        .agg(users=pl.col("user_login").n_unique().cast(pl.Int64))
    )
    by_k = (
        pl.DataFrame(
            {
                "weeks_since_adoption": np.arange(horizon + 1, dtype=np.int64),
                "estimate": per_k,
                "ci_low": ci_k[0],
                "ci_high": ci_k[1],
            }
        )
        .join(users_k, on="weeks_since_adoption", how="inner")
        .with_columns(pl.col("estimate", "ci_low", "ci_high").fill_nan(None))
    )
    pre = _pretrend_p(y[ctrl], u[ctrl], t[ctrl], rel[ctrl], nu, nt, leads)
    return EventStudy(
        outcome, point, float(ci[0]), float(ci[1]), n_treated, n_control, never, censored, pre, level, by_k
    )
