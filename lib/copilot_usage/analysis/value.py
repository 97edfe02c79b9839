"""Value per credit: where credits go, what they buy, which work patterns drive them.

``ai_credits_used`` is one total per user-day, not split by feature, model or surface
(https://github.blog/changelog/2026-06-19-ai-credits-consumed-per-user-now-in-the-copilot-usage-metrics-api), so
everything here is either a ratio of sums over the same rows or an *estimate* (the intensity regression),
labelled as such. Pure functions of frames; polars expressions; numpy only for the bootstrap and the fit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy.optimize import nnls

from .metrics import as_lazy as _lazy
from .metrics import day_span, day_windows
from .pricing import CREDIT_PRICE_USD

OUTPUTS = {
    "loc_added_sum": "accepted lines",
    "code_acceptance_activity_count": "acceptances",
    "code_generation_activity_count": "generations",
    "user_initiated_interaction_count": "interactions",
    "agent_days": "agent days",
    "cli_session_count": "CLI sessions",
}
ARCHETYPE_RULE = """\
Per user over the period (active days = days with a usage row):
* completion-only — no user-initiated interaction on any day (only code completions);
* CLI-heavy — used the CLI on at least 40% of active days;
* agent — used agent mode on at least 30% of active days;
* chat — used chat on at least 30% of active days;
* mixed — everything else."""


def user_totals(
    user_day: pl.DataFrame | pl.LazyFrame, *, by: list[str] | None = None, chunk_days: int | None = None
) -> pl.DataFrame:
    """Per user (and ``by`` keys): credits (null if no row carries the field), active days, outputs.

    Returns ``user_id, user_login, *by, credits, credit_days, active_days, <OUTPUTS...>, agent_days,
    cli_days, chat_days, interaction_days``. With ``chunk_days`` the rows are read that many days at a time and
    the partial totals combined (every total is a sum over days, active days included: the windows are
    disjoint), so a lazy team attribution — several rows per user-day — is never joined for the whole period.
    """
    keys = ["user_id", "user_login", *(by or [])]
    lazy = _lazy(user_day)
    if chunk_days is None:
        return _user_totals(lazy, keys).sort(keys).collect()
    parts = [_user_totals(lazy.filter(window), keys).collect() for window in day_windows(lazy, chunk_days)]
    summed = [c for c in parts[0].columns if c not in (*keys, "credits")]
    return (
        pl.concat(parts)
        .group_by(keys)
        .agg(
            pl.col(summed).sum(),
            credits=pl.when(pl.col("credits").is_not_null().any()).then(pl.col("credits").sum()),
        )
        .select(parts[0].columns)
        .sort(keys)
    )


def _user_totals(lazy: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    return lazy.group_by(keys).agg(
        credits=pl.when(pl.col("ai_credits_used").is_not_null().any()).then(pl.col("ai_credits_used").sum()),
        credit_days=pl.col("ai_credits_used").is_not_null().sum(),
        active_days=pl.col("day").n_unique(),
        loc_added_sum=pl.col("loc_added_sum").sum(),
        code_acceptance_activity_count=pl.col("code_acceptance_activity_count").sum(),
        code_generation_activity_count=pl.col("code_generation_activity_count").sum(),
        user_initiated_interaction_count=pl.col("user_initiated_interaction_count").sum(),
        cli_session_count=pl.col("cli_session_count").fill_null(0).sum(),
        agent_days=pl.col("used_agent").fill_null(False).sum(),
        cli_days=pl.col("used_cli").fill_null(False).sum(),
        chat_days=pl.col("used_chat").fill_null(False).sum(),
        interaction_days=(pl.col("user_initiated_interaction_count") > 0).sum(),
    )


def gini(values: pl.Expr) -> pl.Expr:
    """Gini coefficient of ``values`` as an aggregation (in ``group_by().agg`` or ``select``):
    ``sum((2i - n - 1) x_i) / (n sum x)`` with ``i`` the ascending rank."""
    rank = values.rank("ordinal").cast(pl.Float64)
    n = values.len().cast(pl.Float64)
    return ((2 * rank - n - 1) * values).sum() / (n * values.sum())


LORENZ_SCHEMA = {"user_share": pl.Float64, "credit_share": pl.Float64}


@dataclass(frozen=True)
class Concentration:
    """How concentrated credits are across users with credits (more than 0 in the period): how many, their
    credits, the share of the top 1/5/10 % of them (None without credits), the Gini coefficient across them and
    the Lorenz curve (``user_share, credit_share``)."""

    users: int
    credits: float
    top1: float | None = None
    top5: float | None = None
    top10: float | None = None
    gini: float | None = None
    lorenz: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LORENZ_SCHEMA))


def concentration(totals: pl.DataFrame) -> Concentration:
    """Share of credits from the top 1/5/10 % of users, Gini, and the Lorenz curve (100 points).

    Expects ``credits`` per user; users without credits (null or 0) are not counted: a user with a credit figure
    of 0 has used none, and counting them would both inflate "users with credits" and raise the Gini."""
    c = np.sort(totals.filter(pl.col("credits") > 0)["credits"].to_numpy())
    n, total = c.size, float(c.sum()) if c.size else 0.0
    if n == 0 or total <= 0:
        return Concentration(users=n, credits=total)
    desc = c[::-1].cumsum() / total

    def top(p: float) -> float:
        return float(desc[max(int(np.ceil(n * p)), 1) - 1])

    cum = np.concatenate([[0.0], c.cumsum() / total])
    gini = float(1 - 2 * np.trapezoid(cum, dx=1 / n))
    grid = np.linspace(0, 1, 101)
    lorenz = pl.DataFrame({"user_share": grid, "credit_share": np.interp(grid, np.linspace(0, 1, n + 1), cum)})
    return Concentration(
        users=n, credits=total, top1=top(0.01), top5=top(0.05), top10=top(0.10), gini=gini, lorenz=lorenz
    )


def monthly_concentration(user_day: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per month: users with credits, credits, top-10 % share and Gini (``month, users, credits, top10, gini``)."""
    per = (
        _lazy(user_day)
        .with_columns(month=pl.col("day").dt.truncate("1mo"))
        .group_by("month", "user_id")
        .agg(credits=pl.col("ai_credits_used").sum())
        .filter(pl.col("credits") > 0)
        .collect()
    )
    ranked = per.with_columns(
        rank_desc=pl.col("credits").rank("ordinal", descending=True).over("month").cast(pl.Float64),
        n=pl.len().over("month").cast(pl.Float64),
        total=pl.col("credits").sum().over("month"),
    )
    return (
        ranked.group_by("month")
        .agg(
            users=pl.len(),
            credits=pl.col("credits").sum(),
            top10=pl.col("credits").filter(pl.col("rank_desc") <= (pl.col("n") * 0.1).ceil()).sum()
            / pl.col("total").first(),
            gini=gini(pl.col("credits")),
        )
        .sort("month")
    )


def output_per_credit(
    totals: pl.DataFrame,
    *,
    by: str | None = None,
    min_credits: float = 0.0,
    min_active_days: int = 0,
    iterations: int = 1000,
    seed: int = 0,
    outputs: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Output per 100 credits as a ratio of sums per group, with bootstrap 90 % intervals.

    ``totals`` is :func:`user_totals` (one row per user, or per user × ``by``). Users under the floors
    (``credits < min_credits`` or ``active_days < min_active_days``) are left out of numerator *and* denominator;
    a group left with no credits gets no ratio. The interval resamples users within the group (seeded,
    vectorised). Returns ``<by>, output, users, credits, value, per_100_credits, low, high``.
    """
    outputs = outputs or OUTPUTS
    keep = totals.filter(
        (pl.col("credits").fill_null(0) >= min_credits)
        & (pl.col("active_days") >= min_active_days)
        & pl.col("credits").is_not_null()
    )
    group = by or "_scope"
    if by is None:
        keep = keep.with_columns(_scope=pl.lit("scope"))
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for key, part in keep.sort(group).group_by(group, maintain_order=True):  # a loop over groups, not rows
        credits = part["credits"].to_numpy()
        n = credits.size
        values = [part[col].to_numpy().astype(float) for col in outputs]
        sums = _resampled_sums(rng, [credits, *values], iterations) if n > 1 and iterations else None
        for (col, label), v in zip(outputs.items(), values, strict=True):
            total_c, total_v = float(credits.sum()), float(v.sum())
            ratio = 100 * total_v / total_c if total_c > 0 else None
            low = high = None
            if sums is not None and ratio is not None:
                den = sums[0]
                boot = 100 * sums[1 + list(outputs).index(col)] / np.where(den > 0, den, np.nan)
                low, high = (float(x) for x in np.nanpercentile(boot, [5, 95]))
            rows.append(
                {
                    group: key[0],
                    "output": label,
                    "users": n,
                    "credits": total_c,
                    "value": total_v,
                    "per_100_credits": ratio,
                    "low": low,
                    "high": high,
                }
            )
    schema = {
        group: keep.schema.get(group, pl.String),
        "output": pl.String,
        "users": pl.Int64,
        "credits": pl.Float64,
        "value": pl.Float64,
        "per_100_credits": pl.Float64,
        "low": pl.Float64,
        "high": pl.Float64,
    }
    out = pl.DataFrame(rows, schema=schema)
    return out.drop("_scope") if by is None else out


def _resampled_sums(
    rng: np.random.Generator, columns: list[np.ndarray], iterations: int, *, budget: int = 1 << 22
) -> list[np.ndarray]:
    """Per bootstrap iteration, the sum of each column over ``n`` users drawn with replacement (the same draws
    for every column). Drawn in blocks of iterations of at most ``budget`` indices: one draw of all 1,000
    iterations for 100,000 users would hold 800 MB of indices. The generator's stream is the same either way."""
    n = columns[0].size
    step = max(1, budget // n)
    out = [np.empty(iterations) for _ in columns]
    for lo in range(0, iterations, step):  # blocks of iterations, not rows
        idx = rng.integers(0, n, size=(min(step, iterations - lo), n))
        for sums, column in zip(out, columns, strict=True):
            sums[lo : lo + idx.shape[0]] = column[idx].sum(axis=1)
    return out


# the columns :func:`intensity_design` reads from its feature and model tables
DESIGN_COLUMNS = {
    "user_feature_day": ("scope", "day", "user_id", "feature", "code_generation_activity_count"),
    "user_model_feature_day": ("scope", "day", "user_id", "model", "user_initiated_interaction_count"),
}


def intensity_design(
    user_day: pl.DataFrame | pl.LazyFrame,
    user_feature_day: pl.DataFrame | pl.LazyFrame,
    user_model_feature_day: pl.DataFrame | pl.LazyFrame,
) -> pl.LazyFrame:
    """One row per user-day with credits, as a lazy query: ``day``, ``user_id``, ``ai_credits_used`` and the
    regressors — code
    generations per feature (``feature:<name>``) and user-initiated interactions per model (``model:<name>``).
    Lazy: :func:`credit_intensity` reads it as sums (at 100,000 seats a quarter is millions of rows)."""
    key = ["day", "user_id"]  # one scope: a report reads its own
    feat = _per_user_day(_lazy(user_feature_day), key, "feature", "code_generation_activity_count")
    model = _per_user_day(_lazy(user_model_feature_day), key, "model", "user_initiated_interaction_count")
    base = _lazy(user_day).filter(pl.col("ai_credits_used").is_not_null()).select(*key, "ai_credits_used")
    out = base.join(feat, on=key, how="left").join(model, on=key, how="left")
    regressors = sorted(c for c in out.collect_schema().names() if ":" in c)
    return out.select("day", "user_id", "ai_credits_used", pl.col(regressors).fill_null(0).cast(pl.Float64))


def _per_user_day(breakdown: pl.LazyFrame, key: list[str], by: str, measure: str) -> pl.LazyFrame:
    """One column ``<by>:<name>`` per category: the measure's sum per user-day (a pivot as one aggregation of the
    scan, so the per-category rows are never held)."""
    names = breakdown.select(pl.col(by).unique()).collect()[by].drop_nulls().sort().to_list()
    return breakdown.group_by(key).agg(
        **{f"{by}:{name}": pl.col(measure).filter(pl.col(by) == name).sum() for name in names}
    )


COEFFICIENTS_SCHEMA = {"kind": pl.String, "name": pl.String, "credits_per_event": pl.Float64}


@dataclass(frozen=True)
class IntensityFit:
    """The credit-intensity regression: ``coefficients`` (``kind, name, credits_per_event``), R² on training and
    held-out days, mean absolute error on held-out days, the share of the fitted user-days' credits the fit
    accounts for (None when not computable), the number of fitted user-day rows, ``no_detail_share``: the
    share of all credits on user-days with no activity counts (server-side users, GitHub's 2026-06-15 change),
    which no regression on activity can attribute and which the fit leaves out (None without credits),
    ``activity``: each regressor's total over the fitted user-days (for :func:`attributed_credits`), and
    ``credits``: all credits of the design's user-days, with activity detail or without."""

    coefficients: pl.DataFrame
    r2_train: float | None
    r2_holdout: float | None
    mae_holdout: float | None
    explained_share: float | None
    rows: int
    no_detail_share: float | None = None
    activity: dict[str, float] = field(default_factory=dict)
    credits: float = 0.0


def credit_intensity(
    design: pl.DataFrame | pl.LazyFrame,
    *,
    kind: str | None = None,
    holdout_every: int = 5,
    chunk_days: int | None = None,
) -> IntensityFit:
    """Non-negative least squares of daily credits on feature generations and model interactions (``kind``
    ``"model"`` or ``"feature"``: on that kind's regressors alone, as :func:`credit_split` fits them).

    Days are split by calendar day: every ``holdout_every``-th day is held out. An *estimate* of each feature's
    and model's credit intensity — never a billed split.

    Solved from sufficient statistics, never from the rows: the design is read in two aggregating passes (per
    split: row count, sums of y, y², each x, x·y and x·xᵀ; then the held-out absolute errors), and the NNLS runs
    on the Cholesky factor of the scaled XᵀX (‖Xc − y‖² = ‖Lᵀc − z‖² + const, with L z = Xᵀy), which has the same
    minimiser as the NNLS on the rows. Memory is O(regressors²), not O(user-days); with ``chunk_days`` the sums
    are taken that many days at a time and added (the design's joins then never hold the whole period).
    """
    return _intensity(design, kind=kind, holdout_every=holdout_every, chunk_days=chunk_days)[0]


def _intensity(
    design: pl.DataFrame | pl.LazyFrame,
    *,
    kind: str | None,
    holdout_every: int,
    chunk_days: int | None,
    by_user: bool = False,
) -> tuple[IntensityFit, pl.DataFrame | None]:
    """:func:`credit_intensity`, and with ``by_user`` the sufficient statistics of the fitted user-days per user
    and split (``user_id, test, n, y, x<i>, m<i>, xy<i>, g<pair>``; they add up to the fit's): what the
    bootstrap of :func:`credit_split` resamples."""
    lazy = _lazy(design)
    names = lazy.collect_schema().names()
    regressors = [c for c in names if ":" in c and (kind is None or c.startswith(f"{kind}:"))]
    by_user = by_user and "user_id" in names
    # a user-day with credits but no activity counts says nothing about what activity costs: left out of the fit
    # (with it the estimates are unbiased but the R² and the share accounted for fall by its credits)
    detail = pl.sum_horizontal(regressors) > 0 if regressors else pl.lit(False)
    y = pl.col("ai_credits_used")
    span = day_span(lazy)  # one pass over the design for its first day and its windows
    first = span[0]
    test = ((pl.col("day") - pl.lit(first)).dt.total_days() % holdout_every) == holdout_every - 1
    pairs = [(a, b) for i, a in enumerate(regressors) for b in regressors[i:]]
    windows = day_windows(lazy, chunk_days, span=span)
    keys = ["user_id", "detail", "test"] if by_user else ["detail", "test"]
    partial = [
        lazy.filter(window)
        .with_columns(detail=detail, test=test)
        .group_by(keys)
        .agg(
            n=pl.len(),
            y=y.sum(),
            yy=(y * y).sum(),
            **{f"x{i}": pl.col(c).sum() for i, c in enumerate(regressors)},
            **{f"m{i}": pl.col(c).max() for i, c in enumerate(regressors)},
            **{f"xy{i}": (pl.col(c) * y).sum() for i, c in enumerate(regressors)},
            **{f"g{k}": (pl.col(a) * pl.col(b)).sum() for k, (a, b) in enumerate(pairs)},
        )
        .collect()
        for window in windows
    ]
    maxima = [f"m{i}" for i in range(len(regressors))]
    per = pl.concat(partial).group_by(keys).agg(pl.col(maxima).max(), pl.exclude(*keys, *maxima).sum())
    stats = (
        per.group_by("detail", "test").agg(pl.col(maxima).max(), pl.exclude(*keys, *maxima).sum()) if by_user else per
    )
    per_user = per.filter(pl.col("detail")).drop("detail") if by_user else None
    total = float(stats["y"].sum() or 0.0)
    no_detail = float(stats.filter(~pl.col("detail"))["y"].sum() or 0.0)
    no_detail_share = no_detail / total if total else None
    fitted_rows = stats.filter(pl.col("detail"))
    rows = int(fitted_rows["n"].sum() or 0)
    if rows < 20 or not regressors:
        empty = pl.DataFrame(schema=COEFFICIENTS_SCHEMA)
        return IntensityFit(empty, None, None, None, None, rows, no_detail_share, credits=total), None
    k = len(regressors)

    def split(is_test: bool) -> dict[str, Any]:
        part = fitted_rows.filter(pl.col("test") == is_test)
        if part.height == 0:
            return {
                "n": 0,
                "y": 0.0,
                "yy": 0.0,
                "x": np.zeros(k),
                "xy": np.zeros(k),
                "g": np.zeros((k, k)),
                "m": np.zeros(k),
            }
        row = part.row(0, named=True)
        g = _gram(np.array([[row[f"g{idx}"] or 0.0 for idx in range(len(pairs))]]), regressors, pairs)[0]
        vec = {p: np.array([row[f"{p}{i}"] or 0.0 for i in range(k)], dtype=float) for p in ("x", "xy", "m")}
        return {"n": row["n"], "y": row["y"] or 0.0, "yy": row["yy"] or 0.0, "g": g, **vec}

    train, held = split(False), split(True)
    coef = _nnls_from_sums(train["g"], train["xy"], np.maximum(train["m"], 1.0))

    def r2(s: dict[str, Any]) -> float | None:
        if s["n"] < 2:
            return None
        ss_res = s["yy"] - 2 * coef @ s["xy"] + coef @ s["g"] @ coef
        ss_tot = s["yy"] - s["y"] ** 2 / s["n"]
        return float(1 - ss_res / ss_tot) if ss_tot > 0 else None

    mae = None
    if held["n"]:
        prediction = pl.sum_horizontal([pl.col(c) * float(b) for c, b in zip(regressors, coef, strict=True)])
        errors = [
            lazy.filter(window & detail & test).select(total=(y - prediction).abs().sum(), n=pl.len()).collect()
            for window in windows
        ]
        summed = pl.concat(errors).sum()
        mae = summed["total"].item() / summed["n"].item() if summed["n"].item() else None
    activity = train["x"] + held["x"]
    y_fitted = train["y"] + held["y"]
    kinds = [r.split(":", 1) for r in regressors]
    fit = IntensityFit(
        coefficients=pl.DataFrame(
            {"kind": [k for k, _ in kinds], "name": [n for _, n in kinds], "credits_per_event": coef}
        ).sort("kind", "credits_per_event", descending=[False, True]),
        r2_train=r2(train),
        r2_holdout=r2(held),
        mae_holdout=None if mae is None else float(mae),
        explained_share=float(coef @ activity / y_fitted) if y_fitted > 0 else None,
        rows=rows,
        no_detail_share=no_detail_share,
        activity=dict(zip(regressors, activity.tolist(), strict=True)),
        credits=total,
    )
    return fit, per_user


def _gram(pair_sums: np.ndarray, regressors: list[str], pairs: list[tuple[str, str]]) -> np.ndarray:
    """Rows of upper-triangle sums (``g<pair>``) as symmetric XᵀX matrices, one per row (``rows × k × k``)."""
    k = len(regressors)
    pos = {r: i for i, r in enumerate(regressors)}
    i = np.array([pos[a] for a, _ in pairs], dtype=int)
    j = np.array([pos[b] for _, b in pairs], dtype=int)
    out = np.zeros((pair_sums.shape[0], k, k))
    out[:, i, j] = pair_sums
    out[:, j, i] = pair_sums
    return out


def _nnls_from_sums(gram: np.ndarray, xy: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The non-negative ``c`` minimising ‖Xc − y‖² from XᵀX and Xᵀy, columns scaled by ``scale`` (which keeps the
    problem well conditioned); a regressor never non-zero gets coefficient 0."""
    k = xy.size
    scaled = gram / np.outer(scale, scale)
    used = np.diag(scaled) > 0
    coef = np.zeros(k)
    if used.any():
        sub_gram = scaled[np.ix_(used, used)]
        chol = np.linalg.cholesky(sub_gram + np.eye(used.sum()) * 1e-12 * np.trace(sub_gram))
        z = np.linalg.solve(chol, (xy / scale)[used])
        solved, _ = nnls(chol.T, z, maxiter=50 * k)
        coef[used] = solved / scale[used]
    return coef


SPLIT_SCHEMA = {
    "kind": pl.String,
    "name": pl.String,
    "estimated_credits": pl.Float64,
    "estimated_share": pl.Float64,
    "estimated_low": pl.Float64,
    "estimated_high": pl.Float64,
}


@dataclass(frozen=True)
class CreditSplit:
    """All credits of the period split across one kind of driver (``"model"`` or ``"feature"``): ``credits``
    (:data:`SPLIT_SCHEMA`, one row per model or feature, summing to ``total``) from ``fit``, the regression on
    that kind alone, with bootstrap 90 % intervals over ``iterations`` resamples of users (none when 0)."""

    kind: str
    fit: IntensityFit
    credits: pl.DataFrame
    total: float
    iterations: int


def credit_split(
    design: pl.DataFrame | pl.LazyFrame,
    *,
    kind: str,
    iterations: int = 200,
    seed: int = 0,
    holdout_every: int = 5,
    chunk_days: int | None = None,
    budget: int = 1 << 22,
) -> CreditSplit:
    """Estimated credits per model (``kind="model"``) or per feature (``"feature"``) covering *all* credits.

    One fit per kind: in a fit with both, a user-day's credits are shared between its features and its models,
    so neither kind's rows add up to the credits (billing splits every credit by model; a feature split is
    another view of the same credits). Each driver's share is coefficient × activity over the fitted user-days;
    the credits of user-days without activity detail are split in the same shares, so the rows sum to the
    period's credits. The 90 % interval resamples users (with replacement, seeded): their sufficient statistics
    are summed per resample with multinomial weights (vectorised, drawn in blocks of at most ``budget`` weights)
    and each resample is one small NNLS on ``regressors × regressors`` sums — ``iterations`` refits, never a pass
    over the rows. A design without ``user_id`` gets no interval.
    """
    fit, per_user = _intensity(
        design, kind=kind, holdout_every=holdout_every, chunk_days=chunk_days, by_user=iterations > 0
    )
    regressors = list(fit.activity)
    if not regressors:
        return CreditSplit(kind, fit, pl.DataFrame(schema=SPLIT_SCHEMA), fit.credits, 0)
    coef_of = {f"{k}:{n}": c for k, n, c in fit.coefficients.iter_rows()}
    coef = np.array([coef_of[c] for c in regressors])
    activity = np.array(list(fit.activity.values()))
    contribution = coef * activity
    share = contribution / contribution.sum() if contribution.sum() > 0 else np.full(coef.size, np.nan)
    low = high = np.full(coef.size, np.nan)
    drawn = 0
    if per_user is not None and per_user.height and iterations > 0:
        low, high = _bootstrap_shares(per_user, regressors, iterations=iterations, seed=seed, budget=budget)
        drawn = iterations
    out = pl.DataFrame(
        {
            "kind": [c.split(":", 1)[0] for c in regressors],
            "name": [c.split(":", 1)[1] for c in regressors],
            "estimated_credits": share * fit.credits,
            "estimated_share": share,
            "estimated_low": low * fit.credits,
            "estimated_high": high * fit.credits,
        },
        schema=SPLIT_SCHEMA,
    ).with_columns(pl.col(pl.Float64).fill_nan(None))
    return CreditSplit(kind, fit, out.sort("estimated_credits", descending=True), fit.credits, drawn)


def _bootstrap_shares(
    per_user: pl.DataFrame, regressors: list[str], *, iterations: int, seed: int, budget: int
) -> tuple[np.ndarray, np.ndarray]:
    """The 5th and 95th percentiles of each regressor's share of the fitted credits over ``iterations`` resamples
    of users (:func:`credit_split`)."""
    k = len(regressors)
    pairs = [(a, b) for i, a in enumerate(regressors) for b in regressors[i:]]
    train = ~pl.col("test")
    users = (
        per_user.group_by("user_id")
        .agg(
            *[pl.col(f"g{p}").filter(train).sum() for p in range(len(pairs))],
            *[pl.col(f"xy{i}").filter(train).sum() for i in range(k)],
            *[pl.col(f"x{i}").sum() for i in range(k)],  # activity over training and held-out days, as the fit's
        )
        .sort("user_id")
    )  # a fixed order: the seeded draws resample the same users each run
    train_max = per_user.filter(train).select(pl.col(f"m{i}").max() for i in range(k))
    scale = np.maximum(np.nan_to_num(train_max.to_numpy()[0].astype(float)), 1.0)
    gram = _gram(users.select(f"g{p}" for p in range(len(pairs))).to_numpy().astype(float), regressors, pairs)
    gram = gram.reshape(users.height, k * k)
    xy = users.select(f"xy{i}" for i in range(k)).to_numpy().astype(float)
    act = users.select(f"x{i}" for i in range(k)).to_numpy().astype(float)
    n = users.height
    rng = np.random.default_rng(seed)
    step = max(1, budget // n)
    shares = np.full((iterations, k), np.nan)
    for lo in range(0, iterations, step):  # blocks of resamples, not rows
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=min(step, iterations - lo)).astype(float)
        g_b, xy_b, act_b = weights @ gram, weights @ xy, weights @ act
        for b in range(weights.shape[0]):  # one NNLS of k × k sums per resample
            c = _nnls_from_sums(g_b[b].reshape(k, k), xy_b[b], scale) * act_b[b]
            if c.sum() > 0:
                shares[lo + b] = c / c.sum()
    low, high = np.nanpercentile(shares, [5, 95], axis=0)
    return low, high


def attributed_credits(fit: IntensityFit) -> pl.DataFrame:
    """Estimated credits per feature and per model: coefficient × activity over the fitted user-days (``kind,
    name, credits, share``); shares are within kind."""
    coef = dict(
        zip(
            fit.coefficients["kind"] + ":" + fit.coefficients["name"],
            fit.coefficients["credits_per_event"],
            strict=True,
        )
    )
    cols = [c for c in fit.activity if c in coef]
    if not cols:  # no fit (too few user-days): nothing to attribute
        return pl.DataFrame(schema={"kind": pl.String, "name": pl.String, "credits": pl.Float64, "share": pl.Float64})
    out = pl.DataFrame(
        {
            "kind": [c.split(":", 1)[0] for c in cols],
            "name": [c.split(":", 1)[1] for c in cols],
            "credits": [coef[c] * fit.activity[c] for c in cols],
        }
    )
    return out.with_columns(share=pl.col("credits") / pl.col("credits").sum().over("kind")).sort(
        "kind", "credits", descending=[False, True]
    )


def archetypes(totals: pl.DataFrame) -> pl.DataFrame:
    """Add ``archetype`` to :func:`user_totals` rows (the rule is :data:`ARCHETYPE_RULE`)."""
    days = pl.col("active_days")
    return totals.with_columns(
        archetype=pl.when(pl.col("interaction_days") == 0)
        .then(pl.lit("completion-only"))
        .when(pl.col("cli_days") >= 0.4 * days)
        .then(pl.lit("CLI-heavy"))
        .when(pl.col("agent_days") >= 0.3 * days)
        .then(pl.lit("agent"))
        .when(pl.col("chat_days") >= 0.3 * days)
        .then(pl.lit("chat"))
        .otherwise(pl.lit("mixed"))
    )


def by_group(totals: pl.DataFrame, *, group: str) -> pl.DataFrame:
    """Per group: users, credits per user, accepted lines per user, lines per 100 credits (ratio of sums)."""
    return (
        totals.group_by(group)
        .agg(
            users=pl.len(),
            credits=pl.col("credits").sum(),
            loc_added_sum=pl.col("loc_added_sum").sum(),
            active_days=pl.col("active_days").sum(),
        )
        .with_columns(
            credits_per_user=pl.col("credits") / pl.col("users"),
            lines_per_user=pl.col("loc_added_sum") / pl.col("users"),
            lines_per_100_credits=pl.when(pl.col("credits") > 0).then(
                100 * pl.col("loc_added_sum") / pl.col("credits")
            ),
        )
        .sort("credits", descending=True)
    )


QUADRANTS = {
    (True, True): "high cost / high output",
    (True, False): "review: exploration or waste",
    (False, True): "efficient",
    (False, False): "adoption support",
}


def quadrant(entities: pl.DataFrame, *, cost: str = "credits", output: str = "loc_added_sum") -> pl.DataFrame:
    """Place entities by cost and output with thresholds at the medians; adds ``quadrant``, ``cost_median``,
    ``output_median``."""
    c_med = entities[cost].median()
    o_med = entities[output].median()
    high_c = pl.col(cost) > c_med
    high_o = pl.col(output) > o_med
    return entities.with_columns(
        quadrant=pl.when(high_c & high_o)
        .then(pl.lit(QUADRANTS[(True, True)]))
        .when(high_c)
        .then(pl.lit(QUADRANTS[(True, False)]))
        .when(high_o)
        .then(pl.lit(QUADRANTS[(False, True)]))
        .otherwise(pl.lit(QUADRANTS[(False, False)])),
        cost_median=pl.lit(c_med),
        output_median=pl.lit(o_med),
    )


def dominant(breakdown: pl.DataFrame | pl.LazyFrame, *, key: str, by: str, measure: str) -> pl.DataFrame:
    """For each ``key`` (e.g. user_login), the ``by`` value (feature, model) with the largest ``measure``."""
    return (
        _lazy(breakdown)
        .group_by(key, by)
        .agg(pl.col(measure).sum())
        .sort([key, measure, by], descending=[False, True, False])
        .group_by(key, maintain_order=True)
        .agg(pl.col(by).first().alias(f"dominant_{by}"))
        .collect()
    )


def outcomes(aggregate_day: pl.DataFrame | pl.LazyFrame, user_day: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Weekly pull-request outcomes per 1,000 credits (scope level): ``week, credits, pr_created_by_copilot,
    pr_merged_created_by_copilot, pr_median_minutes_to_merge, created_per_1000_credits, merged_per_1000_credits``.
    The median is the median of the days' medians (GitHub publishes no finer grain)."""
    weekly_credits = (
        _lazy(user_day)
        .group_by(week=pl.col("day").dt.truncate("1w"))
        .agg(credits=pl.col("ai_credits_used").sum(), credit_rows=pl.col("ai_credits_used").is_not_null().sum())
    )
    prs = (
        _lazy(aggregate_day)
        .group_by(week=pl.col("day").dt.truncate("1w"))
        .agg(
            pr_created=pl.col("pr_total_created").sum(),
            pr_created_by_copilot=pl.col("pr_total_created_by_copilot").sum(),
            pr_merged_created_by_copilot=pl.col("pr_total_merged_created_by_copilot").sum(),
            pr_median_minutes_to_merge=pl.col("pr_median_minutes_to_merge").median(),
            pr_median_minutes_to_merge_copilot=pl.col("pr_median_minutes_to_merge_copilot_authored").median(),
        )
    )
    return (
        prs.join(weekly_credits, on="week", how="left")
        .with_columns(
            created_per_1000_credits=pl.when(pl.col("credit_rows") > 0).then(
                1000 * pl.col("pr_created_by_copilot") / pl.col("credits")
            ),
            merged_per_1000_credits=pl.when(pl.col("credit_rows") > 0).then(
                1000 * pl.col("pr_merged_created_by_copilot") / pl.col("credits")
            ),
        )
        .drop("credit_rows")
        .sort("week")
        .collect()
    )


REVIEW_STAGES = {
    "ready_to_first_review": "ready for review to first review",
    "first_to_final_review": "first to final review",
    "final_review_to_merge": "final review to merge",
}


def review_stages(review_times: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Weekly time in each review stage from ``repo_review_times_day`` (GitHub's ``pull_request_review_times``,
    from 2026-09-25; human reviews of PRs ready on or after 2026-09-21, attributed to the merge day), per author
    kind (GitHub's ``authored_by``: medians of human- and Copilot-authored PRs are never pooled):
    ``week, authored_by, stage, total_merged, median_minutes, p90_minutes``. GitHub gives medians and p90s per
    repository and day, not the PRs, so the week's figures are the medians of those entries' medians and p90s
    (entries with merged PRs only); ``total_merged`` is a sum of merges, which are additive."""
    weekly = (
        _lazy(review_times)
        .filter(pl.col("total_merged") > 0)
        .group_by(week=pl.col("day").dt.truncate("1w"), authored_by=pl.col("authored_by").fill_null("unknown"))
        .agg(
            pl.col("total_merged").sum(),
            *[pl.col(f"{q}_minutes_{s}").median().alias(f"{q}_{s}") for s in REVIEW_STAGES for q in ("median", "p90")],
        )
    )
    parts = [
        weekly.select(
            "week",
            "authored_by",
            "total_merged",
            stage=pl.lit(label),
            order=pl.lit(i),
            median_minutes=pl.col(f"median_{s}"),
            p90_minutes=pl.col(f"p90_{s}"),
        )
        for i, (s, label) in enumerate(REVIEW_STAGES.items())
    ]
    return pl.concat(parts).sort("week", "authored_by", "order").drop("order").collect()


PHASE_OUTCOMES_SCHEMA = {
    "phase": pl.String,
    "days": pl.UInt32,
    "mean_daily_engaged_users": pl.Float64,
    "pull_requests_merged": pl.Int64,
    "avg_minutes_to_review": pl.Float64,
    "avg_review_cycles": pl.Float64,
}


def phase_outcomes(phase_days: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Pull requests by AI-adoption phase over the period, from the aggregate report's
    ``totals_by_ai_adoption_phase`` (GitHub, from 2026-06-26): ``phase, days, mean_daily_engaged_users`` (daily
    counts are not distinct users over days: their mean, never their sum), ``pull_requests_merged`` (additive),
    and the averages of minutes to review and review cycles weighted by each day's merged pull requests (GitHub
    gives a day's average; a day without merges has none). Days GitHub did not report a phase are not zeros."""
    merged = pl.col("total_pull_requests_merged")

    def weighted(col: str) -> pl.Expr:
        has = pl.col(col).is_not_null() & (merged > 0)
        weight = merged.filter(has).sum()
        return pl.when(weight > 0).then((pl.col(col) * merged).filter(has).sum() / weight)

    return (
        _lazy(phase_days)
        .group_by("phase_number")
        .agg(
            phase=pl.col("phase").sort_by("day").last(),
            days=pl.col("day").n_unique(),
            mean_daily_engaged_users=pl.col("engaged_users").mean(),
            pull_requests_merged=merged.sum(),
            avg_minutes_to_review=weighted("avg_pull_requests_minutes_to_review"),
            avg_review_cycles=weighted("avg_pull_requests_review_cycles"),
        )
        .sort("phase_number")
        .select(list(PHASE_OUTCOMES_SCHEMA))
        .collect()
    )


def money_by_month(
    user_day: pl.DataFrame | pl.LazyFrame, *, pools: pl.DataFrame | None, price: float = CREDIT_PRICE_USD
) -> pl.DataFrame:
    """Per month: credits, credits at list price (US$), included pool, share covered, overage credits and cost (list price).

    ``pools`` is ``month, included_pool``: the current seat roster's included credits at the allowance in force in
    each month (the promotional amounts end on 2026-09-01; the roster of today is an approximation for earlier
    months, the spend report reconciles with billing). ``None`` when the seat roster was not fetched: pool, share
    covered and overage are then null, never zero; so are they for a month ``pools`` lacks."""
    pool_of = (
        (pools if pools is not None else pl.DataFrame(schema=POOLS_SCHEMA))
        .lazy()
        .select(pl.col("month").cast(pl.Date), pl.col("included_pool").cast(pl.Float64))
    )
    return (
        _lazy(user_day)
        .group_by(month=pl.col("day").dt.truncate("1mo"))
        .agg(
            credits=pl.col("ai_credits_used").sum(),
            days=pl.col("day").n_unique(),
            billed_rows=pl.col("ai_credits_used").is_not_null().sum(),
        )
        .filter(pl.col("billed_rows") > 0)
        .join(pool_of, on="month", how="left")
        .with_columns(
            credits_at_list_price_usd=pl.col("credits") * price,
            # min_horizontal skips nulls: without a pool the share is unknown, not 100 %
            covered_share=pl.when(pl.col("included_pool").is_not_null()).then(
                pl.min_horizontal(pl.col("credits"), pl.col("included_pool")) / pl.col("credits")
            ),
            overage_credits=(pl.col("credits") - pl.col("included_pool")).clip(0),
        )
        .with_columns(overage_usd=pl.col("overage_credits") * price)
        .select(
            "month",
            "credits",
            "days",
            "credits_at_list_price_usd",
            "included_pool",
            "covered_share",
            "overage_credits",
            "overage_usd",
        )
        .sort("month")
        .collect()
    )


POOLS_SCHEMA = {"month": pl.Date, "included_pool": pl.Float64}


def period_days(start: dt.date, end: dt.date) -> int:
    return (end - start).days + 1


def last_phase(user_day: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Each user's adoption phase on their last active day of the period (``user_id, phase``)."""
    return (
        _lazy(user_day)
        .sort("day")
        .group_by("user_id")
        .agg(phase=pl.format("Phase {}", pl.col("ai_adoption_phase_number").drop_nulls().last()))
        .with_columns(pl.col("phase").fill_null("unknown"))
        .collect()
    )


def review_entries(quad: pl.DataFrame, *, n: int = 10) -> pl.DataFrame:
    """The ``n`` highest-credit entries of the "review: exploration or waste" quadrant."""
    return quad.filter(pl.col("quadrant") == QUADRANTS[(True, False)]).sort("credits", descending=True).head(n)


def review_list(
    quad: pl.DataFrame,
    *,
    label: str,
    features: pl.DataFrame,
    models: pl.DataFrame,
    n: int = 10,
    key: str | None = None,
) -> pl.DataFrame:
    """The ``n`` highest-credit entries of the "review" quadrant with their dominant feature and model (by
    user-initiated interactions: completions have none and drive no credits).

    ``features``/``models`` are keyed by ``key`` (default ``label``), e.g. ``user_id`` for users."""
    key = key or label
    review = review_entries(quad, n=n)
    cols = [label, "credits", "loc_added_sum", *(c for c in ("users", "active_days") if c in review.columns)]
    out = (
        review.select(list(dict.fromkeys([key, *cols])))
        .join(features, on=key, how="left")
        .join(models, on=key, how="left")
    )
    return out if key == label else out.drop(key)
