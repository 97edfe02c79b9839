"""Every report's ``summary.json`` headline figures on a demo cache (issue 25, "Done when"), each recomputed here in
plain polars from the processed Delta tables: a separate code path written from GitHub's documented recipes and the
reports' stated definitions, never calling the function under test. The sample has its own recomputations beside
each report's tests; a demo cache is larger, has three months of billing and teams GitHub lists and leaves out.

The figures are taken from the section functions the notebooks show (``summary.json`` is the merge of the
``summary`` outputs those sections display, :func:`copilot_usage.outputs.record.read_summary`), not from executed
notebooks, to stay fast."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest

from conftest import TODAY, shared_cache
from copilot_usage.report import Report, open_report, trends
from copilot_usage.report import roi as roi_report
from copilot_usage.report import summary as glance
from copilot_usage.report import team_distribution as td
from copilot_usage.report import value_per_credit as vpc
from independent import month_end, rows, seats_usd
from test_forecast_periods import weekday_weekend_estimate

pytestmark = pytest.mark.slow  # one demo cache for the module (about a minute), then seconds per test
OCT1, SEP1 = dt.date(2026, 10, 1), dt.date(2026, 9, 1)
HOURLY = (75.0, 145.0)  # the ROI report's default loaded hourly cost range (low, high)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return shared_cache(tmp_path_factory, seed=11, users=60, days=100, today=TODAY)


def _open(demo: tuple[Path, str], title: str, **parameters: object) -> Report:
    data, scope = demo
    return open_report(title, data_dir=str(data), scope=scope, **parameters)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- plain polars, apart from the kit
def between(frame: pl.DataFrame, first: dt.date, last: dt.date) -> pl.DataFrame:
    return frame.filter(pl.col("day").is_between(first, last))


def bill(data: Path, scope: str, first: dt.date, last: dt.date) -> pl.DataFrame:
    return between(rows(data, "billing_ai_credit", scope), first, last)


def seated(data: Path, scope: str) -> pl.Series:
    roster = rows(data, "seats", scope)
    return roster.filter(pl.col("snapshot_day") == pl.col("snapshot_day").max())["user_id"].unique()


def shares_of_top(credits: pl.Series, fraction: float, total: float) -> float:
    """The credits of the top ``fraction`` of users (at least one, rounded up) over all credits."""
    ordered = credits.sort(descending=True)
    return float(ordered.head(math.ceil(ordered.len() * fraction)).sum()) / total


def gini(credits: pl.Series) -> float:
    x = credits.sort()
    n = x.len()
    return float(sum((2 * i - n - 1) * v for i, v in enumerate(x.to_list(), 1)) / (n * x.sum()))


def github_team_credits(data: Path, scope: str, first: dt.date, last: dt.date) -> pl.DataFrame:
    """GitHub's recipe: ``user-teams-1-day`` joined to ``users-1-day`` on user and day, summed per team; a child
    team's members also count for each team above it (the teams API's ``parent``); ``org/name`` labels."""
    usage = between(rows(data, "user_day", scope), first, last).select("day", "user_id", "ai_credits_used")
    listed = between(rows(data, "user_team_day", scope), first, last).select("day", "user_id", "team_id").unique()
    teams = rows(data, "teams").sort("snapshot_day").unique("team_id", keep="last")
    parent = dict(teams.select("team_id", "parent_id").drop_nulls().iter_rows())
    pairs, up = listed, listed
    for _ in range(8):  # nesting depth: GitHub allows a handful of levels
        up = up.filter(pl.col("team_id").is_in(list(parent))).with_columns(
            pl.col("team_id").replace_strict(parent, return_dtype=pl.Int64)
        )
        if up.height == 0:
            break
        pairs = pl.concat([pairs, up.select(pairs.columns).cast(pairs.schema)])
    pairs = pairs.unique()
    per_team = pairs.join(usage, on=["day", "user_id"]).group_by("team_id").agg(credits=pl.col("ai_credits_used").sum())
    return per_team.join(teams, on="team_id").select(
        pl.format("{}/{}", pl.col("scope").str.strip_prefix("org:"), "name").alias("unit"), "credits"
    )


# ---------------------------------------------------------------------- trends
def test_trends_headline_on_a_demo_cache(demo: tuple[Path, str]) -> None:
    data, scope = demo
    r = _open(demo, "Copilot usage trends")
    got = trends.headline(r).summary()
    every = rows(data, "user_day", scope)
    ud = between(every, r.start, r.end)
    total = float(ud["ai_credits_used"].sum())
    assert got["credits_total"] == pytest.approx(total, rel=1e-9)
    assert got["credits_at_list_price_usd"] == pytest.approx(total * 0.01, rel=1e-9)
    # distinct users over trailing windows that reach back before the period
    assert got["weekly_active_users"] == between(every, r.end - dt.timedelta(days=6), r.end)["user_id"].n_unique()
    assert got["monthly_active_users"] == between(every, r.end - dt.timedelta(days=27), r.end)["user_id"].n_unique()
    # credits per active user-day: credits over the user-days of the days whose rows carry a credit figure
    credited_days = ud.filter(pl.col("ai_credits_used").is_not_null())["day"].unique()
    user_days = ud.filter(pl.col("day").is_in(credited_days.implode())).select("day", "user_id").unique().height
    assert got["credits_per_active_user_day"] == pytest.approx(total / user_days, rel=1e-9)

    def window(days: int, back: int) -> tuple[float, int]:
        last = r.end - dt.timedelta(days=back * days)
        w = between(ud, last - dt.timedelta(days=days - 1), last)
        known = w.filter(pl.col("day").is_in(w.filter(pl.col("ai_credits_used").is_not_null())["day"].implode()))
        return float(w["ai_credits_used"].sum()), known.select("day", "user_id").unique().height

    (c7, u7), (p7, q7), (c28, u28), (p28, q28) = window(7, 0), window(7, 1), window(28, 0), window(28, 1)
    assert got["credits_wow_change"] == pytest.approx(c7 / p7 - 1, rel=1e-9)
    assert got["credits_per_active_user_wow_change"] == pytest.approx((c7 / u7) / (p7 / q7) - 1, rel=1e-9)
    assert got["credits_per_active_user_mom_change"] == pytest.approx((c28 / u28) / (p28 / q28) - 1, rel=1e-9)
    # next month is December's own projection (not the rest of November with it): a hand estimate in its band
    month_figures = trends.forecast(r).summary()
    forecast = month_figures["forecast"]
    nxt = forecast["next_month"]
    daily = every.group_by("day").agg(credits=pl.col("ai_credits_used").sum()).sort("day")
    december = weekday_weekend_estimate(daily, as_of=r.end, start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31))
    assert nxt["month"] == "2026-12" and nxt["low"] <= december <= nxt["high"]
    assert nxt["credits"] == pytest.approx(december, rel=0.1)
    # the month's included pool: each licence held in November (granted by its last day, not cancelled by its
    # first) × GitHub's standard allowance (the promotional amounts ended 2026-09-01)
    holders = (
        rows(data, "seats", scope)
        .group_by("user_id")
        .agg(
            enterprise=(pl.col("plan_type") == "enterprise").any(),
            granted=pl.col("created_at").min().dt.date(),
            cancel=pl.col("pending_cancellation_date").max(),
        )
        .filter(
            pl.col("granted") <= dt.date(2026, 11, 30),
            pl.col("cancel").is_null() | (pl.col("cancel") > dt.date(2026, 11, 1)),
        )
    )
    enterprise = int(holders["enterprise"].sum())
    assert month_figures["included_pool"] == 3900 * enterprise + 1900 * (holders.height - enterprise)


# ---------------------------------------------------------------------- value per credit
def test_value_headline_and_billed_models_on_a_demo_cache(demo: tuple[Path, str]) -> None:
    data, scope = demo
    r = _open(demo, "Value per AI credit", bootstrap_iterations=50)
    got = {**vpc.headline(r).summary(), **vpc.intensity(r).summary()}
    ud = between(rows(data, "user_day", scope), r.start, r.end)
    per_user = ud.group_by("user_id").agg(
        credits=pl.col("ai_credits_used").sum(), lines=pl.col("loc_added_sum").sum(), days=pl.col("day").n_unique()
    )
    total = float(ud["ai_credits_used"].sum())
    credited = per_user.filter(pl.col("credits") > 0)["credits"]  # users with credits: above 0, not merely non-null
    assert got["credits_total"] == pytest.approx(total, rel=1e-9)
    assert got["credits_at_list_price_usd"] == pytest.approx(total * 0.01, rel=1e-9)
    assert got["users_with_credits"] == credited.len()
    for key, fraction in (("top1_share", 0.01), ("top5_share", 0.05), ("top10_share", 0.10)):
        assert got[key] == pytest.approx(shares_of_top(credited, fraction, total), rel=1e-9), key
    assert got["gini"] == pytest.approx(gini(credited), rel=1e-9)
    floors = per_user.filter((pl.col("credits") >= 10) & (pl.col("days") >= 3))  # the notebook's default floors
    ratio = 100 * floors["lines"].sum() / floors["credits"].sum()
    assert got["accepted_lines_per_100_credits"] == pytest.approx(ratio, rel=1e-9)
    # billing's credits per model over the report's own days: the figure shown, with the estimate beside it
    billed = bill(data, scope, r.start, r.end).group_by("model").agg(pl.col("gross_quantity").sum())
    models = {m["model"]: m for m in got["models"]}
    assert set(billed["model"]) <= set(models) and billed.height >= 3
    for model, credits in billed.iter_rows():
        assert models[model]["billed_credits"] == pytest.approx(credits, rel=1e-9), model
    estimated = sum(m["estimated_credits"] or 0 for m in models.values())
    assert estimated == pytest.approx(total, rel=1e-6)  # the estimate covers all credits, not a model part of them
    shares = {m: c / billed["gross_quantity"].sum() for m, c in billed.iter_rows()}
    error = sum(abs((m["estimated_credits"] or 0) / estimated - shares.get(name, 0)) for name, m in models.items())
    assert got["model_split_error"] == pytest.approx(error, rel=1e-6)


# ---------------------------------------------------------------------- team distribution
def team_figures(data: Path, scope: str, r: Report) -> dict[str, float]:
    ud = between(rows(data, "user_day", scope), r.start, r.end)
    holders = seated(data, scope)
    active_seated = ud.filter(pl.col("user_id").is_in(holders.implode()))["user_id"].n_unique()
    return {
        "credits_total": float(ud["ai_credits_used"].sum()),
        "active_users": ud["user_id"].n_unique(),
        "seated_users": holders.len(),
        "active_seated_users": active_seated,
        "adoption_share": active_seated / holders.len(),
    }


def test_team_headline_and_units_follow_githubs_recipe_on_a_demo_cache(demo: tuple[Path, str]) -> None:
    data, scope = demo
    r = _open(demo, "Team and department distribution")
    got = td.headline(r).summary()
    for key, expected in team_figures(data, scope, r).items():
        assert got[key] == pytest.approx(expected, rel=1e-9), key
    recipe = github_team_credits(data, scope, r.start, r.end)
    compared = 0
    for unit, credits in recipe.iter_rows():
        if unit in got["units"]:
            assert got["units"][unit]["credits"] == pytest.approx(credits, rel=1e-9), unit
            compared += 1
    assert compared >= 3
    first_list = rows(data, "team_members")["snapshot_day"].min()
    assert got["attribution"]["first_member_list_day"] == first_list.isoformat()
    assert first_list > r.end and got["attribution"]["credits_by_member_lists"] == 0.0  # the lists come after it


# ---------------------------------------------------------------------- ROI and the one-pager
def cost_of(data: Path, scope: str, month: dt.date) -> dict[str, float]:
    """The last closed month: seat licences + AI credits net of the pool as billed; per active developer."""
    billed = bill(data, scope, month, month_end(month))
    seats, net = seats_usd(data, scope, month), float(billed["net_amount"].sum())
    developers = between(rows(data, "user_day", scope), month, month_end(month))["user_id"].n_unique()
    return {
        "seats_usd": seats,
        "credits_gross": float(billed["gross_quantity"].sum()),
        "credits_net_usd": net,
        "total_usd": seats + net,
        "active_developers": developers,
        "per_active_developer_usd": (seats + net) / developers,
    }


def test_roi_cost_and_break_even_on_a_demo_cache(demo: tuple[Path, str]) -> None:
    data, scope = demo
    got = roi_report.headline(_open(demo, "Return on AI credits")).summary()
    expected = cost_of(data, scope, OCT1)
    assert got["cost"]["month"] == OCT1
    for key, value in expected.items():
        assert got["cost"][key] == pytest.approx(value, rel=1e-9), key
    hours = got["break_even_hours_per_developer_month"]
    assert hours["low"] == pytest.approx(expected["per_active_developer_usd"] / HOURLY[1], rel=1e-9)
    assert hours["high"] == pytest.approx(expected["per_active_developer_usd"] / HOURLY[0], rel=1e-9)


def test_the_one_pager_on_a_demo_cache(demo: tuple[Path, str]) -> None:
    data, scope = demo
    r = _open(demo, "Copilot at a glance")
    got = {**glance.cost(r).summary(), **glance.worth(r).summary(), **glance.adoption(r).summary()}
    october, september = cost_of(data, scope, OCT1), cost_of(data, scope, SEP1)
    closed = got["last_closed_month"]
    assert closed["total_usd"] == pytest.approx(october["total_usd"], rel=1e-9)
    assert closed["seats_usd"] == pytest.approx(october["seats_usd"], rel=1e-9)
    assert closed["credits_gross"] == pytest.approx(october["credits_gross"], rel=1e-9)
    assert closed["total_change_vs_previous"] == pytest.approx(october["total_usd"] / september["total_usd"] - 1)
    team = team_figures(data, scope, r)
    assert got["adoption_share"] == pytest.approx(team["adoption_share"], rel=1e-9)
    assert got["seated_users"] == team["seated_users"]
    hours = got["break_even_hours_per_developer_month"]
    assert hours["high"] == pytest.approx(october["per_active_developer_usd"] / HOURLY[0], rel=1e-9)


def test_the_roi_cohorts_say_when_a_phase_has_no_interval_on_a_demo_cache(demo: tuple[Path, str]) -> None:
    """A phase GitHub reports in one week only has no spread: the ROI report failed on this cache
    (``None`` formatted as a number) instead of saying so."""
    data, scope = demo
    phases = rows(data, "aggregate_ai_adoption_phase_day", scope)
    r = _open(demo, "Return on AI credits")
    weeks = between(phases, r.start, r.end).group_by("phase_number").agg(pl.col("day").dt.truncate("1w").n_unique())
    assert weeks["day"].min() == 1  # the case: a phase seen in a single week
    said = " ".join(roi_report.cohorts(r).sentences)
    assert "(no interval: 1 week of data)" in said
