"""The sections of ``notebooks/value_per_credit.ipynb``: where credits go, what a credit buys, which work
patterns drive the cost, cost against output, patterns and phases, outcomes, money.

Each section is a function of the :class:`Report` returning a :class:`Section`; they share the period's tables
(read once through :meth:`Report.frame`) and derived results (through :meth:`Report.memo`). The analysis is in
:mod:`copilot_usage.analysis.value`; this module picks the data, writes the sentences and lays out the section.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import polars as pl

from ..analysis import github_changes, spend, value
from . import charts
from .attribution import team_days_query
from .common import CHUNK_DAYS, FULL_TABLE_MAX, monthly_pools
from .context import Report
from .html import fmt_num
from .privacy import protect
from .section import Chart, Section, Table, Tile, Tiles, section

# the columns each table is read with (one tuple per table: the table is collected once per report)
USER_DAY = (
    "scope",
    "day",
    "user_id",
    "user_login",
    "ai_credits_used",
    "loc_added_sum",
    "code_acceptance_activity_count",
    "code_generation_activity_count",
    "user_initiated_interaction_count",
    "cli_session_count",
    "used_agent",
    "used_cli",
    "used_chat",
    "ai_adoption_phase_number",
)
USER_FEATURE_DAY = (
    "scope",
    "day",
    "user_id",
    "feature",
    "code_generation_activity_count",
    "user_initiated_interaction_count",
)
USER_MODEL_FEATURE_DAY = ("scope", "day", "user_id", "model", "user_initiated_interaction_count")
AGGREGATE_DAY = (
    "day",
    "pr_total_created",
    "pr_total_created_by_copilot",
    "pr_total_merged_created_by_copilot",
    "pr_median_minutes_to_merge",
    "pr_median_minutes_to_merge_copilot_authored",
)
REVIEW_MEASURE = "user_initiated_interaction_count"
# register measures whose definition changes bias the credit-intensity estimates
INTENSITY_MEASURES = ("credits", "code_generation", "feature_mix", "agent", "cli")


@dataclass(frozen=True)
class Settings:
    """The report's analysis parameters (notebook parameters of the same names; these defaults otherwise)."""

    min_credits: float = 10.0  # users with fewer credits in the period get no ratio
    min_active_days: int = 3  # users with fewer active days in the period get no ratio
    bootstrap_iterations: int = 1000
    seed: int = 7


def settings(r: Report) -> Settings:
    return Settings(**{f.name: r.parameters[f.name] for f in dataclasses.fields(Settings) if f.name in r.parameters})


@dataclass(frozen=True)
class Headline:
    """The value report's headline figures (``summary.json``)."""

    credits_total: float
    credits_at_list_price_usd: float
    users_with_credits: int
    top1_share: float | None
    top5_share: float | None
    top10_share: float | None
    gini: float | None
    accepted_lines_per_100_credits: float | None
    accepted_lines_per_100_credits_ci90: tuple[float | None, float | None]
    intensity_r2_holdout: float | None
    feature_intensity: dict[str, float]
    model_intensity: dict[str, float]


# ---------------------------------------------------------------------- shared, computed once per report
def usage(r: Report) -> pl.DataFrame:
    return r.frame("user_day", columns=USER_DAY)


def totals(r: Report) -> pl.DataFrame:
    return r.memo("value.totals", lambda: value.user_totals(usage(r)))


def concentration(r: Report) -> value.Concentration:
    return r.memo("value.concentration", lambda: value.concentration(totals(r)))


def per_scope(r: Report) -> pl.DataFrame:
    s = settings(r)
    return r.memo(
        "value.per_scope",
        lambda: value.output_per_credit(
            totals(r),
            min_credits=s.min_credits,
            min_active_days=s.min_active_days,
            iterations=s.bootstrap_iterations,
            seed=s.seed,
        ),
    )


def design(r: Report, frame: pl.DataFrame | None = None) -> pl.LazyFrame:
    """The regression's design as a lazy query (read as sums by :func:`value.credit_intensity`), from ``frame``:
    the report's user-days (another report passes the ones it read; the design needs ``day, user_id,
    ai_credits_used``), :func:`usage` by default."""
    return r.memo(
        "value.design",
        lambda: value.intensity_design(
            usage(r) if frame is None else frame,
            # aggregated from the scans: the breakdowns are several rows per user-day (over 20 M at 100,000 seats)
            r.scan("user_feature_day", columns=value.DESIGN_COLUMNS["user_feature_day"]),
            r.scan("user_model_feature_day", columns=value.DESIGN_COLUMNS["user_model_feature_day"]),
        ),
    )


def fit(r: Report) -> value.IntensityFit:
    return r.memo("value.fit", lambda: value.credit_intensity(design(r), chunk_days=CHUNK_DAYS))


# resamples of users for the credit splits' intervals: each is one small NNLS (a bounded number of refits)
SPLIT_REFITS = 200


def split(r: Report, kind: str, frame: pl.DataFrame | None = None) -> value.CreditSplit:
    """All credits of the period split by model or by feature, each kind fitted on its own, with intervals
    (``frame``: see :func:`design`)."""
    s = settings(r)
    return r.memo(
        f"value.split {kind}",
        lambda: value.credit_split(
            design(r, frame),
            kind=kind,
            iterations=min(s.bootstrap_iterations, SPLIT_REFITS),
            seed=s.seed,
            chunk_days=CHUNK_DAYS,
        ),
    )


@dataclass(frozen=True)
class ModelCredits:
    """Credits per model: billing's split where it has one (``billed``), the estimate beside it
    (:func:`spend.model_comparison`), the estimate's error against billing (sum of absolute share differences)."""

    table: pl.DataFrame
    split: value.CreditSplit
    billed: bool
    error: float | None


def model_credits(r: Report, frame: pl.DataFrame | None = None) -> ModelCredits:
    """The period's credits per model: billed (the ``billing_usage`` view over the report's own days, like with
    like) next to the estimate; shared by the value and spend reports (``frame``: see :func:`design`)."""

    def compute() -> ModelCredits:
        est = split(r, "model", frame)
        bills = (
            r.frame_between("billing_usage", r.start, r.end)
            if r.fetched("billing_usage")
            else pl.DataFrame(schema={"is_ai_credit": pl.Boolean, "model": pl.String, "credits": pl.Float64})
        )
        table = spend.model_comparison(bills, est.credits)
        billed = table["billed_credits"].drop_nulls().len() > 0
        return ModelCredits(table, est, billed, spend.share_error(table))

    return r.memo("value.model_credits", compute)


def unit_totals(r: Report) -> pl.DataFrame:
    """Per user and team (GitHub's daily team membership, nested teams rolled up; non-additive)."""
    return r.memo(
        "value.unit_totals", lambda: value.user_totals(team_days_query(r, usage(r)), by=["unit"], chunk_days=CHUNK_DAYS)
    )


# ---------------------------------------------------------------------- headline
def headline(r: Report) -> Section:
    """Tiles and summary figures of the value-per-credit report."""
    conc, coef = concentration(r), fit(r).coefficients
    lines = per_scope(r).filter(pl.col("output") == "accepted lines")
    row = lines.row(0, named=True) if lines.height else {"per_100_credits": None, "low": None, "high": None}
    figures = Headline(
        credits_total=conc.credits,
        credits_at_list_price_usd=conc.credits * r.prices.credit,
        users_with_credits=conc.users,
        top1_share=conc.top1,
        top5_share=conc.top5,
        top10_share=conc.top10,
        gini=conc.gini,
        accepted_lines_per_100_credits=row["per_100_credits"],
        accepted_lines_per_100_credits_ci90=(row["low"], row["high"]),
        intensity_r2_holdout=fit(r).r2_holdout,
        feature_intensity={n: c for k, n, c in coef.iter_rows() if k == "feature"},
        model_intensity={n: c for k, n, c in coef.iter_rows() if k == "model"},
    )
    tiles = Tiles(
        (
            Tile("AI credits in period", fmt_num(conc.credits)),
            Tile("Credits at list price (US$)", f"${conc.credits * r.prices.credit:,.0f}"),
            Tile("Credits from the top 10% of users", "n/a" if conc.top10 is None else f"{conc.top10:.0%}"),
            Tile("Gini across users with credits", fmt_num(conc.gini, digits=2)),
            Tile("Accepted lines per 100 credits", fmt_num(row["per_100_credits"], digits=1)),
        )
    )
    return section(tiles, figures=figures)


# ---------------------------------------------------------------------- 1. where do credits go?
def credit_concentration(r: Report) -> Section:
    conc = concentration(r)
    return section(
        _concentration_story(conc),
        Chart(charts.lorenz(conc.lorenz), data=conc.lorenz),
        Table(value.monthly_concentration(usage(r))),
    )


def _concentration_story(conc: value.Concentration) -> list[str]:
    if conc.top10 is None or conc.top1 is None or conc.top5 is None or conc.gini is None:
        return ["No credits in this period."]
    return [
        f"{conc.users:,} users with credits consumed {conc.credits:,.0f} credits; the top 1% of them used "
        f"{conc.top1:.0%}, the top 5% {conc.top5:.0%} and the top 10% {conc.top10:.0%} of all credits "
        f"(Gini across users with credits {conc.gini:.2f}; 0 = everyone equal, 1 = one user uses everything)."
    ]


# ---------------------------------------------------------------------- 2. what does a credit buy?
def per_credit(r: Report) -> Section:
    scope_rows = per_scope(r)
    return section(
        _per_credit_story(scope_rows, settings(r)),
        Chart(charts.per_100_credits(scope_rows), data=scope_rows.drop_nulls("per_100_credits")),
    )


def _per_credit_story(rows: pl.DataFrame, s: Settings) -> list[str]:
    lines = rows.filter(pl.col("output") == "accepted lines")
    if lines.height == 0 or lines["per_100_credits"][0] is None:
        return ["No user passes the activity floors in this period."]
    row = lines.row(0, named=True)
    ci = "" if row["low"] is None else f" (90% interval {row['low']:,.1f}–{row['high']:,.1f})"
    return [
        f"Every 100 AI credits came with {row['per_100_credits']:,.1f} accepted lines{ci}, across "
        f"{row['users']:,} users with at least {s.min_credits:g} credits and {s.min_active_days} active days.",
        "Ratios are sums over users divided by their summed credits, never averages of per-user ratios.",
    ]


def per_team(r: Report) -> Section:
    """Output per 100 credits per team (teams under k_min users above the floors left out)."""
    s = settings(r)
    rows = value.output_per_credit(
        unit_totals(r),
        by="unit",
        min_credits=s.min_credits,
        min_active_days=s.min_active_days,
        iterations=s.bootstrap_iterations,
        seed=s.seed,
        outputs={"loc_added_sum": "accepted lines"},
    )
    shown = protect(rows, r.audience, group_users="users")
    # at 100,000 seats there are thousands of teams: the table keeps those that used the most credits
    kept = shown.sort("credits", descending=True, nulls_last=True).head(FULL_TABLE_MAX)
    cut = (
        f"The {kept.height} teams that used the most credits are listed, of {shown.height} with k_min users above "
        "the floors."
        if shown.height > kept.height
        else ""
    )
    return section(
        r.not_fetched("user_team_day", "teams"),
        cut,
        Table(
            kept.sort("per_100_credits", descending=True, nulls_last=True),
            empty="No team has k_min users above the floors.",
        ),
    )


# ---------------------------------------------------------------------- 3. which work patterns drive the cost?
def intensity(r: Report) -> Section:
    """The credit-intensity regression's fit and estimates, with what limits them: credits on user-days without
    activity detail, and GitHub's definition changes in the period. A leader reads the answer in plain words; the
    estimator and its fit statistics are the analyst's, and in every audience's data notes."""
    result = fit(r)
    changes = github_changes.bearing_on(
        r.register, list(INTENSITY_MEASURES), start=r.start, end=r.end, what="these estimates"
    )
    models, features = model_credits(r), split(r, "feature")
    for note in (method_note(result), split_method_note(models.split.iterations)):
        if note:
            r.method_note(note)
    leaders = r.audience.leadership
    return section(
        _intensity_story(result, leaders=leaders),
        no_detail_sentence(result.no_detail_share),
        changes,
        Chart(charts.intensity(result.coefficients), data=result.coefficients),
        model_story(models, leaders=leaders),
        Table(_model_table(models), empty="No credits to split by model in this period."),
        feature_story(features, leaders=leaders),
        Table(
            features.credits.drop("kind").rename({"name": "feature"}),
            empty="No credits to split by feature in this period.",
        ),
        figures={"models": model_figures(models), "model_split_error": models.error},
    )


def method_note(result: value.IntensityFit) -> str:
    """The estimator and its fit, for the data notes (a leader's section says what it found, not how)."""
    if result.r2_holdout is None or result.mae_holdout is None:
        return ""
    return (
        "Credit intensities (credits per event) are a non-negative least-squares (NNLS) regression of each "
        "user-day's credits on each model's interactions and each feature's generations, every fifth day held out: "
        f"held-out R² {result.r2_holdout:.3f}, mean absolute error {result.mae_holdout:,.2f} credits per user-day."
    )


def split_method_note(iterations: int) -> str:
    """How the credits per model and per feature are estimated, for the data notes."""
    return (
        "Estimated credits per model and per feature are two separate NNLS fits (models alone, features alone, so "
        f"each split adds up to all credits) with 90% intervals from {iterations} bootstrap resamples of users."
    )


def _model_table(models: ModelCredits) -> pl.DataFrame:
    if models.billed:
        return models.table
    return models.table.select("model", "estimated_credits", "estimated_low", "estimated_high", "estimated_share")


def model_figures(models: ModelCredits) -> list[dict[str, object]]:
    """``summary.json``'s ``models``: billed and estimated credits per model (billed null without billing's split)."""
    cols = ("model", "billed_credits", "estimated_credits", "estimated_low", "estimated_high")
    return [{c: row[c] for c in cols} for row in models.table.iter_rows(named=True)]


def model_story(models: ModelCredits, *, leaders: bool = False) -> list[str]:
    """Credits per model: billing's figure first where it has one, the estimate beside it and its stated error
    (``leaders``: in plain words, the method left to the data notes)."""
    est = models.split
    if est.credits.height == 0:
        return []
    how = f"the estimate splits all {est.total:,.0f} credits of the period by each model's interactions alone " + (
        "(models and features estimated separately, so each split adds up to the total), with a 90% interval"
        if leaders
        else "(one regression for models, another for features, so each split adds up to the total), with a "
        f"90% interval from {est.iterations} resamples of users"
    )
    if not models.billed:
        return [
            f"Credits per model: billing has no per-model split for this scope and period, so {how}. Its error "
            "cannot be measured without billing's split."
        ]
    t = models.table
    gap = t.sort(pl.col("share_difference").abs(), descending=True).row(0, named=True)
    out = [
        f"Credits per model: GitHub's bill splits every credit by model ({t['billed_credits'].sum():,.0f} credits "
        f"billed on these days), so the billed figure is the one to use. Beside it, {how}."
    ]
    if models.error is not None:
        out.append(
            f"The estimate's model shares differ from billing's by {100 * models.error:.1f} percentage points in total (the sum of the "
            f"absolute share differences); the largest gap is {gap['model']}: "
            f"{(gap['estimated_share'] or 0):.1%} estimated, {(gap['billed_share'] or 0):.1%} billed."
        )
    return out


def feature_story(features: value.CreditSplit, *, leaders: bool = False) -> list[str]:
    if features.credits.height == 0:
        return []
    interval = "a 90% interval" if leaders else f"a 90% interval from {features.iterations} resamples of users"
    return [
        f"Credits per feature: GitHub bills by model, not by feature, so this is an estimate only: all "
        f"{features.total:,.0f} credits split by each feature's code generations alone, with {interval}."
    ]


def no_detail_sentence(share: float | None) -> list[str]:
    """The credits no activity-based estimate can attribute (nothing when there are none)."""
    if not share:
        return []
    return [
        f"{share:.1%} of credits are on user-days GitHub reports with no activity detail (server-side users, "
        "GitHub's 2026-06-15 change); the estimate leaves them out and attributes the rest."
    ]


def _intensity_story(result: value.IntensityFit, *, leaders: bool = False) -> list[str]:
    coef = result.coefficients
    if coef.height == 0 or result.r2_holdout is None or result.mae_holdout is None or result.explained_share is None:
        return ["Too few user-days with credits to estimate what drives them."]
    models = coef.filter(pl.col("kind") == "model").sort("credits_per_event", descending=True)
    comp = coef.filter(pl.col("name") == "code_completion")["credits_per_event"]
    if leaders:
        first = (
            f"What each model and feature draws, estimated from users' daily activity, predicts "
            f"{result.r2_holdout:.0%} of the day-to-day differences in credits on days kept out of the estimate "
            f"(off by {result.mae_holdout:,.1f} credits per user and day on average) and accounts for "
            f"{result.explained_share:.0%} of the credits on days with activity."
        )
    else:
        first = (
            f"A regression of daily credits on each model's interactions and each feature's generations explains "
            f"{result.r2_holdout:.0%} of the variation on held-out days (R², mean error "
            f"{result.mae_holdout:,.1f} credits per user-day) and accounts for {result.explained_share:.0%} of the "
            "credits on user-days with activity."
        )
    out = [first]
    if models.height:
        top = models.row(0, named=True)
        out.append(
            f"The most credit-intensive model is {top['name']} at about {top['credits_per_event']:,.1f} "
            f"credits per interaction."
        )
    if comp.len():
        out.append(
            "Code completions cost "
            + (
                "nothing measurable, as GitHub's billing says (completions are not billed in AI credits)."
                if comp[0] < 0.05
                else f"about {comp[0]:.2f} credits per generation, which contradicts "
                "GitHub's billing rules; check the data."
            )
        )
    out.append("These intensities are estimates from activity counts; credits per model as billed follow.")
    return out


# ---------------------------------------------------------------------- 4. cost versus output
@dataclass(frozen=True)
class Quadrant:
    """Entities placed by cost and output: users for the analyst audience, teams (k_min applied) for
    leadership. ``label`` is the frame's label column (``user_login`` or ``unit``)."""

    frame: pl.DataFrame
    label: str

    @property
    def noun(self) -> str:
        return "team" if self.label == "unit" else "user"


def quadrant(r: Report) -> Quadrant:
    return r.memo("value.quadrant", lambda: _quadrant(r))


def _quadrant(r: Report) -> Quadrant:
    if r.audience.leadership:
        units = protect(value.by_group(unit_totals(r), group="unit"), r.audience, group_users="users")
        return Quadrant(value.quadrant(units) if units.height else units, "unit")
    s = settings(r)
    users = totals(r).filter(
        (pl.col("credits").fill_null(0) >= s.min_credits) & (pl.col("active_days") >= s.min_active_days)
    )
    # pseudonyms (when asked) before the chart is built: its spec carries the labels
    users = protect(users, r.audience, user_column="user_login")
    return Quadrant(value.quadrant(users) if users.height else users, "user_login")


CHART_POINTS_MAX = 500  # a scatter of every user or team at 100,000 seats is megabytes of marks nobody can read


def cost_vs_output(r: Report) -> Section:
    quad = quadrant(r)
    charted = quad.frame.sort("credits", descending=True, nulls_last=True).head(CHART_POINTS_MAX)
    cut = (
        f"The chart shows the {charted.height} {quad.noun}s that used the most credits; the medians, the quadrants "
        f"and the counts are of all {quad.frame.height}."
        if quad.frame.height > charted.height
        else ""
    )
    return section(
        _quadrant_story(quad),
        cut,
        # the quadrant is protected already (pseudonyms before the chart is built): not pseudonymised again
        Chart(charts.quadrant(charted, label=quad.label), data=charted, user_column=None),
        Table(review_table(r, quad), empty="No entry in the review quadrant."),
    )


def _quadrant_story(quad: Quadrant) -> list[str]:
    if quad.frame.height == 0:
        return [f"No {quad.noun} passes the floors and the k_min rule."]
    counts = dict(quad.frame.group_by("quadrant").len().iter_rows())
    review = counts.get("review: exploration or waste", 0)
    named = ""
    if quad.label == "unit" and review:  # teams are named (users only in the analyst's table)
        review_units = quad.frame.filter(pl.col("quadrant") == "review: exploration or waste")
        units: list[str] = review_units.sort("credits", descending=True)["unit"].head(3).to_list()
        named = f" ({', '.join(units)}{' and more' if review > len(units) else ''})"
    n, efficient = quad.frame.height, counts.get("efficient", 0)
    # zero said in words: "Of 5 teams, 0 use more credits…" reads as a misprint to a leader
    review_part = (
        "none uses more credits than the median with less output than the median"
        if review == 0
        else f"{review}{named} {'uses' if review == 1 else 'use'} more credits than the median with less output "
        "than the median (review: exploration or waste)"
    )
    efficient_part = (
        "none delivers above-median output on below-median credits"
        if efficient == 0
        else f"{efficient} {'delivers' if efficient == 1 else 'deliver'} above-median output on below-median "
        "credits (efficient)"
    )
    if review == efficient == 0:  # credits and output rise together everywhere: say where each one sits
        high = counts.get(value.QUADRANTS[(True, True)], 0)
        return [
            f"Of {n} {quad.noun}s, each sits where credits and output go together: {high} "
            f"{'uses' if high == 1 else 'use'} more credits than the median with more output, {n - high} fewer "
            "credits with less output (adoption support); none uses more credits for less output, and none "
            "delivers more on fewer credits."
        ]
    return [f"Of {n} {quad.noun}s, {review_part}; {efficient_part}."]


def review_table(r: Report, quad: Quadrant, *, n: int = 10) -> pl.DataFrame:
    """Top "review: exploration or waste" entries with their dominant feature and model (by interactions);
    teams are attributed through GitHub's team membership as in the team report.

    Only the listed entries' user-days are read from the breakdowns, and only the measure: users by id; teams
    through the user-days attributed to them (at 100,000 seats the breakdowns are over 30 M rows a quarter)."""
    day_key = ["scope", "day", "user_id"]
    listed = value.review_entries(quad.frame, n=n)
    key = "user_id" if quad.label == "user_login" else quad.label
    if quad.label == "unit":
        units = (
            team_days_query(r, usage(r).select(day_key))
            .filter(pl.col("unit").is_in(listed["unit"].implode()))
            .select(*day_key, "unit")
            .collect()
        )
    else:
        units = usage(r).filter(pl.col("user_id").is_in(listed["user_id"].implode())).select(day_key)
    days = units.select(day_key).unique().lazy()
    features = (
        r.scan("user_feature_day", columns=USER_FEATURE_DAY)
        .join(days, on=day_key, how="semi")
        .group_by(*day_key, "feature")
        .agg(pl.col(REVIEW_MEASURE).sum())
        .join(units.lazy(), on=day_key)
    )
    models = (
        r.scan("user_model_feature_day", columns=USER_MODEL_FEATURE_DAY)
        .join(days, on=day_key, how="semi")
        .group_by(*day_key, "model")
        .agg(pl.col(REVIEW_MEASURE).sum())
        .join(units.lazy(), on=day_key)
    )
    return value.review_list(
        quad.frame,
        label=quad.label,
        n=n,
        key=key,
        features=value.dominant(features, key=key, by="feature", measure=REVIEW_MEASURE),
        models=value.dominant(models, key=key, by="model", measure=REVIEW_MEASURE),
    )


# ---------------------------------------------------------------------- 5. patterns and phases
def patterns(r: Report) -> Section:
    by_archetype = protect(
        value.by_group(value.archetypes(totals(r)), group="archetype"), r.audience, group_users="users"
    )
    phases = totals(r).join(value.last_phase(usage(r)), on="user_id", how="left")
    by_phase = protect(value.by_group(phases, group="phase"), r.audience, group_users="users")
    chart = charts.group_bars(
        by_archetype,
        group="archetype",
        value="credits_per_user",
        title="AI credits per user by usage archetype",
        axis="AI credits per user in period",
    )
    return section(_group_story(by_archetype, "archetype"), Chart(chart, data=by_archetype), Table(by_phase))


def _group_story(table: pl.DataFrame, group: str) -> list[str]:
    # groups with a sliver of the credits would top any per-credit ranking: rate those with ≥ 1 % of credits
    rated = table.filter(
        pl.col("lines_per_100_credits").is_not_null() & (pl.col("credits") >= 0.01 * pl.col("credits").sum())
    )
    if rated.height == 0:
        return []
    top = rated.sort("credits_per_user", descending=True).row(0, named=True)
    best = rated.sort("lines_per_100_credits", descending=True).row(0, named=True)
    # group values are adjectives or labels ("agent", "CLI-heavy", "Phase 3"): both clauses name their users
    first = f"{top[group]} users"
    return [
        f"{first[:1].upper()}{first[1:]} consume the most per person ({top['credits_per_user']:,.0f} credits); "
        f"{best[group]} users get the most accepted lines per 100 credits ({best['lines_per_100_credits']:,.1f})."
    ]


# ---------------------------------------------------------------------- 6. outcomes
def outcomes(r: Report) -> Section:
    """Pull requests per 1,000 credits (aggregate report), then the review-stage times where GitHub reports them
    (``repo_review_times_day``, issue 16)."""
    weekly = value.outcomes(r.frame("aggregate_day", columns=AGGREGATE_DAY), usage(r))
    stages = value.review_stages(r.frame("repo_review_times_day"))
    phases = value.phase_outcomes(r.frame("aggregate_ai_adoption_phase_day"))
    return section(
        _outcomes_story(weekly),
        Chart(
            charts.outcomes(weekly, events=r.events_for("credits")), data=weekly.drop_nulls("created_per_1000_credits")
        ),
        r.not_fetched("repo_review_times_day") or review_stages_story(stages),
        phase_story(phases),
        Table(phases, empty="GitHub reports pull requests by adoption phase from 2026-06-26: none in this period."),
    )


def phase_story(phases: pl.DataFrame) -> list[str]:
    """Merged pull requests and review time of the first and the last adoption phase (a correlation across
    phases, not an effect of Copilot)."""
    rated = phases.drop_nulls("avg_minutes_to_review")
    if rated.height < 2:
        return []
    low, high = rated.row(0, named=True), rated.row(-1, named=True)
    return [
        f"Pull requests merged by users in {high['phase']}: {high['pull_requests_merged']:,}, reviewed in "
        f"{_hours(high['avg_minutes_to_review'])} on average over {high['avg_review_cycles']:.1f} review cycles; in "
        f"{low['phase']}: {low['pull_requests_merged']:,}, {_hours(low['avg_minutes_to_review'])}, "
        f"{low['avg_review_cycles']:.1f} cycles (GitHub's adoption phases; a comparison, not an effect of Copilot)."
    ]


def _outcomes_story(weekly: pl.DataFrame) -> list[str]:
    rated = weekly.drop_nulls("created_per_1000_credits")
    if rated.height == 0:
        return ["No pull-request figures with credits in this period."]
    created = int(rated["pr_created_by_copilot"].sum())
    return [
        f"Across {rated.height} weeks, Copilot created {created:,} pull requests, "
        f"{created * 1000 / float(rated['credits'].sum()):,.1f} per 1,000 credits. "
        "This is a scope-level correlation from GitHub's aggregate report, not a per-user effect."
    ]


def _hours(minutes: float | None) -> str:
    return "n/a" if minutes is None else f"{minutes / 60:,.1f} h"


def review_stages_story(stages: pl.DataFrame) -> list[str]:
    """The latest week's review-stage times (:func:`value.review_stages`); nothing before GitHub reports them."""
    week: dt.date | None = stages["week"].max()  # type: ignore[assignment]
    if week is None:
        return [
            "GitHub reports review-stage times from 2026-09-25 (pull requests ready for review from 2026-09-21, "
            "human reviews only); none are in this period."
        ]
    last = stages.filter(pl.col("week") == week)
    out = []
    for author in last["authored_by"].unique().sort().to_list():  # a kind of author each: human, copilot, ...
        rows = last.filter(pl.col("authored_by") == author)
        merged = int(rows["total_merged"].max() or 0)  # type: ignore[arg-type]
        parts = "; ".join(
            f"{row['stage']} {_hours(row['median_minutes'])} (p90 {_hours(row['p90_minutes'])})"
            for row in rows.iter_rows(named=True)
        )
        out.append(
            f"Week of {week:%d %b}, {merged:,} merged pull requests authored by {author} with human review timed "
            f"by GitHub: as the median over repositories and days, {parts}."
        )
    out.append(
        "GitHub times human reviews only (Copilot code review and bots are not timed), so these describe the "
        "review process around Copilot; author kinds are shown apart, never pooled."
    )
    return out


# ---------------------------------------------------------------------- 7. money
def money(r: Report) -> Section:
    months = value.money_by_month(usage(r), pools=monthly_pools(r), price=r.prices.credit)
    allowance = github_changes.bearing_on(
        r.register, ["included_credits"], start=r.start, end=r.end, what="each month's included pool"
    )
    # the allowance's step and the credit changes (06-19: the field appears; 07-02: attribution fixed)
    chart = charts.money(months, events=r.events_for("included_credits", "credits"))
    return section(_money_story(months), allowance, Chart(chart, data=months), Table(months))


def _money_story(months: pl.DataFrame) -> list[str]:
    if months.height == 0:
        return ["No credits in this period."]
    last = months.row(-1, named=True)
    over = months["overage_usd"].sum()
    if last["included_pool"] is None:
        return [
            f"In {last['month']:%B %Y} so far, {last['credits']:,.0f} credits (US${last['credits_at_list_price_usd']:,.0f} at "
            "list price). The included pool is unknown: the seat roster was not fetched (`copilot-usage fetch "
            "--reports seats`)."
        ]
    return [
        f"In {last['month']:%B %Y} so far, {last['credits']:,.0f} credits (US${last['credits_at_list_price_usd']:,.0f} at list "
        f"price) against an included pool of {last['included_pool']:,.0f}: {last['covered_share']:.0%} covered.",
        f"Overage over the period at list price: US${over:,.0f}."
        if over
        else "No month in the period exceeded the included pool.",
    ]
