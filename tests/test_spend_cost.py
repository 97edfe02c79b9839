"""The spend report's money figures, closed months first (issue 25, part 7), each recomputed here in plain polars
from the processed Delta tables (a separate code path: the seat-days are expanded day by day, billing is read from its
own table), on the sample cache and on a small demo cache that holds two whole months."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import TODAY, shared_cache
from copilot_usage.cli import main
from copilot_usage.report import open_report
from copilot_usage.report import spend as spend_report
from copilot_usage.report.common import cost_outlook, seat_cost
from independent import included_pool as pool
from independent import month_end as _last_day
from independent import rows as _scope_rows
from independent import seats_usd
from test_forecast_periods import weekday_weekend_estimate

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data" / "sample"
OCT1, SEP1, NOV1, DEC1 = dt.date(2026, 10, 1), dt.date(2026, 9, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)


def billed(data: Path, scope: str, month: dt.date, through: dt.date | None = None) -> tuple[float, float]:
    """Gross AI credits and net US$ from the billing table itself."""
    rows = _scope_rows(data, "billing_ai_credit", scope).filter(
        pl.col("day").is_between(month, through or _last_day(month))
    )
    return float(rows["gross_quantity"].sum()), float(rows["net_amount"].sum())


def metrics_credits(data: Path, scope: str, month: dt.date, through: dt.date | None = None) -> float:
    rows = _scope_rows(data, "user_day", scope).filter(pl.col("day").is_between(month, through or _last_day(month)))
    return float(rows["ai_credits_used"].sum())


def centre_credits(data: Path, scope: str, month: dt.date) -> dict[str, float]:
    """Credits per cost centre: each user's centre from GitHub's (single) member list, the rest in none."""
    members = pl.read_delta(str(data / "processed" / "cost_center_members"))
    unit = members.select("user_id", centre="cost_center_name").unique()
    rows = _scope_rows(data, "user_day", scope).filter(pl.col("day").is_between(month, _last_day(month)))
    per = (
        rows.join(unit, on="user_id", how="left")
        .group_by(pl.col("centre").fill_null("(no cost centre)"))
        .agg(pl.col("ai_credits_used").sum())
    )
    return dict(per.iter_rows())


# ---------------------------------------------------------------------- the sample cache (ends 2026-11-24)
SCOPE = "enterprise:octo-sim"


def _report(data: Path = SAMPLE, scope: str = SCOPE, **parameters: object):  # type: ignore[no-untyped-def]
    return open_report("t", data_dir=str(data), scope=scope, **parameters)  # type: ignore[arg-type]


def test_last_closed_month_on_the_sample_matches_a_plain_polars_recomputation() -> None:
    r = _report()
    closed = spend_report.headline(r).summary()["last_closed_month"]
    gross, net = billed(SAMPLE, SCOPE, OCT1)
    seats = seats_usd(SAMPLE, SCOPE, OCT1)
    assert closed["month"] == OCT1
    assert closed["seats_usd"] == pytest.approx(seats)
    assert closed["credits_gross"] == pytest.approx(gross) and closed["credits_gross_source"] == "billing"
    assert closed["credits_net_usd"] == pytest.approx(net) and closed["credits_net_source"] == "billing"
    assert closed["total_usd"] == pytest.approx(seats + net)
    assert closed["included_pool"] == pool(SAMPLE, SCOPE, OCT1, {"business": 1900, "enterprise": 3900})
    # September starts on the 11th in the sample: no month-over-month change, and the headline says why
    assert closed["total_change_vs_previous"] is None
    assert "September 2026 is not wholly in the data" in " ".join(spend_report.headline(r).sentences)


def test_month_to_date_and_projected_month_cost_on_the_sample() -> None:
    r = _report()
    fig = spend_report.headline(r).summary()
    mtd, projected = fig["month_to_date_cost"], fig["projected_month_cost"]
    end = dt.date(2026, 11, 24)
    gross, net = billed(SAMPLE, SCOPE, NOV1, end)
    assert mtd["credits_gross"] == pytest.approx(gross) and mtd["credits_net_usd"] == pytest.approx(net)
    assert mtd["total_usd"] == pytest.approx(seats_usd(SAMPLE, SCOPE, NOV1, end) + net)
    whole = seats_usd(SAMPLE, SCOPE, NOV1)
    over = max(projected["credits_projected"] - pool(SAMPLE, SCOPE, NOV1, {"business": 1900, "enterprise": 3900}), 0)
    assert projected["total_usd"] == pytest.approx(whole + over * 0.01)


def test_one_seat_cost_call_gives_the_spend_roi_and_outlook_seat_licences_on_the_sample(tmp_path: Path) -> None:
    """The month's seat licences per holder at the report's prices come from one memoised call that the spend
    report's month cost, the outlook and the ROI report's per-unit split all use."""
    from copilot_usage.report import roi as roi_report

    r = _report(audience="analyst", k_min=1)
    october = seat_cost(r, OCT1)
    assert october is not None and october is seat_cost(r, dt.date(2026, 10, 17))  # once per report and month
    assert float(october["seats_usd"].sum()) == pytest.approx(seats_usd(SAMPLE, SCOPE, OCT1))
    end = dt.date(2026, 11, 24)
    to_date = seat_cost(r, NOV1, end)
    assert to_date is not None and float(to_date["seats_usd"].sum()) == pytest.approx(
        seats_usd(SAMPLE, SCOPE, NOV1, end)
    )
    assert spend_report.headline(r).summary()["last_closed_month"]["seats_usd"] == float(october["seats_usd"].sum())
    assert spend_report.headline(r).summary()["month_to_date_cost"]["seats_usd"] == float(to_date["seats_usd"].sum())
    december = cost_outlook(r).filter(pl.col("month") == DEC1).row(0, named=True)
    held = seat_cost(r, DEC1)
    assert held is not None and december["seats_usd"] == float(held["seats_usd"].sum())
    assert december["seats"] == int((held["seat_days"] > 0).sum())
    assert roi_report.centre_costs(r)["seats_usd"].sum() == pytest.approx(float(october["seats_usd"].sum()))
    bare = tmp_path / "noseats"
    (bare / "processed").mkdir(parents=True)
    for table in (SAMPLE / "processed").iterdir():
        if table.is_dir() and table.name != "seats":
            (bare / "processed" / table.name).symlink_to(table)
    assert seat_cost(_report(bare), OCT1) is None  # no roster: unknown, never 0


def test_next_month_and_the_what_if_baseline_are_decembers_own_projection_on_the_sample() -> None:
    r = _report()
    got = spend_report.what_if(r)
    nxt = got.summary()["next_month"]
    daily = (
        _scope_rows(SAMPLE, "user_day", SCOPE).group_by("day").agg(credits=pl.col("ai_credits_used").sum()).sort("day")
    )
    expected = weekday_weekend_estimate(daily, as_of=dt.date(2026, 11, 24), start=DEC1, end=_last_day(DEC1))
    assert nxt["month"] == DEC1
    assert nxt["credits_projected"] == pytest.approx(expected, rel=0.02)
    assert nxt["credits_low"] <= expected <= nxt["credits_high"]
    baseline = got.tables[0].frame.filter(pl.col("scenario") == "baseline")["credits"].item()
    assert baseline == nxt["credits_projected"]
    assert "December 2026" in got.sentences[0] and "this month's pace" not in got.sentences[0]


def test_last_closed_month_chargeback_per_cost_centre_on_the_sample() -> None:
    r = _report(audience="analyst")
    got = spend_report.chargeback(r)
    closed = got.summary()["cost_centres_last_closed_month"]
    expected = centre_credits(SAMPLE, SCOPE, OCT1)
    assert closed["month"] == OCT1
    shown = {c["cost_centre"]: c["credits"] for c in closed["cost_centres"]}
    assert shown == pytest.approx({k: expected[k] for k in shown})
    # the centres left out (too few active users) hold the rest: the rows add up to the scope's credits
    assert sum(expected.values()) == pytest.approx(metrics_credits(SAMPLE, SCOPE, OCT1))
    assert set(shown) >= {"Engineering", "Data & ML"}
    assert got.sentences[0].startswith("Chargeback for October 2026, the last closed month")


def test_budgets_and_the_pool_counting_differently_is_said_on_the_sample() -> None:
    r = _report()
    said = " ".join(spend_report.budget_section(r).sentences)
    budgets = pl.read_delta(str(SAMPLE / "processed" / "budgets")).filter(
        (pl.col("scope") == SCOPE) & (pl.col("budget_scope") != "user")
    )
    top = budgets.sort("consumed_amount", descending=True, nulls_last=True).row(0, named=True)
    _, net = billed(SAMPLE, SCOPE, NOV1, dt.date(2026, 11, 24))
    assert "including the use the included pool covers" in said
    assert f"the {top['budget_entity_name']} budget shows US${top['consumed_amount']:,.2f} consumed" in said
    assert f"come to US${net:,.2f}" in said


@pytest.mark.slow
def test_the_spend_report_summary_through_the_cli_on_the_sample(tmp_path: Path) -> None:
    args = ["render", "spend", "--out", str(tmp_path), "--notebooks-dir", str(ROOT / "notebooks"), "--format", "md"]
    args += ["-p", "data_dir", str(SAMPLE), "-p", "scope", SCOPE]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "spend").glob("*.summary.json")
    summary = json.loads(path.read_text())
    closed, nxt = summary["last_closed_month"], summary["next_month"]
    assert set(closed) >= {"month", "seats_usd", "credits_gross", "credits_net_usd", "total_usd"}
    assert "total_change_vs_previous" in closed and set(nxt) == {
        "month",
        "credits_projected",
        "credits_low",
        "credits_high",
    }
    _, net = billed(SAMPLE, SCOPE, OCT1)
    assert closed["month"] == "2026-10-01" and closed["total_usd"] == pytest.approx(
        seats_usd(SAMPLE, SCOPE, OCT1) + net
    )
    assert nxt["month"] == "2026-12-01"
    html = (tmp_path / "spend").glob("*.html").__next__().read_text()
    assert "October 2026, the last closed month, cost US$" in html and "copilot-usage" not in html.split("1. Does")[0]


# ---------------------------------------------------------------------- a demo cache with two whole months
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return shared_cache(tmp_path_factory, seed=5, users=40, days=100, today=TODAY)


@pytest.mark.slow
def test_last_closed_month_and_its_change_on_a_demo_cache(demo: tuple[Path, str]) -> None:
    data, scope = demo
    closed = spend_report.headline(_report(data, scope)).summary()["last_closed_month"]
    totals = {}
    for month in (SEP1, OCT1):
        _, net = billed(data, scope, month)
        totals[month] = seats_usd(data, scope, month) + net
    assert closed["credits_gross"] == pytest.approx(billed(data, scope, OCT1)[0])
    assert closed["seats_usd"] == pytest.approx(seats_usd(data, scope, OCT1))
    assert closed["total_usd"] == pytest.approx(totals[OCT1])
    assert closed["total_change_vs_previous"] == pytest.approx(totals[OCT1] / totals[SEP1] - 1)


@pytest.mark.slow
def test_net_is_computed_and_said_so_without_billing_on_a_demo_cache(demo: tuple[Path, str], tmp_path: Path) -> None:
    data, scope = demo
    bare = tmp_path / "nobilling"
    (bare / "processed").mkdir(parents=True)
    for table in (data / "processed").iterdir():
        if table.is_dir() and not table.name.startswith("billing"):
            (bare / "processed" / table.name).symlink_to(table)
    included = {"business": 100, "enterprise": 200}  # small allowances: the pool runs out, net is above 0
    r = _report(bare, scope, included_business=100, included_enterprise=200, seat_price_business=10.0)
    headline = spend_report.headline(r)
    closed = headline.summary()["last_closed_month"]
    gross = metrics_credits(data, scope, OCT1)
    net = max(gross - pool(data, scope, OCT1, included), 0) * 0.01
    seats = seats_usd(data, scope, OCT1, prices={"business": 10.0, "enterprise": 39.0})
    assert net > 0
    assert closed["credits_gross"] == pytest.approx(gross) and closed["credits_gross_source"] == "metrics"
    assert closed["credits_net_usd"] == pytest.approx(net) and closed["credits_net_source"] == "computed"
    assert closed["total_usd"] == pytest.approx(seats + net)
    assert "computed: the bill for that month is not in the data" in " ".join(headline.sentences)


def test_the_outlook_in_credits_and_money_against_a_plain_polars_recomputation_on_the_sample() -> None:
    """summary.json's ``forecast``: the model and its backtest, and next month, quarter and twelve months. On the
    sample the backtest picks the weekday/weekend profile, so each month is recomputed by hand (the same estimate,
    written separately), with the pool and seats from the Parquet and the standard 1,900 / 3,900 allowance."""
    r = _report()
    got = spend_report.outlook(r).summary()["forecast"]
    assert got["model"] == "recent_profile" and got["backtest"]["origins"] >= 4
    assert set(got["backtest"]) >= {"origins", "wape", "bias", "coverage", "nominal", "skill_vs_seasonal_naive"}
    assert got["backtest"]["skill_vs_seasonal_naive"] > 0  # better than repeating last week on its own history
    daily = (
        _scope_rows(SAMPLE, "user_day", SCOPE).group_by("day").agg(credits=pl.col("ai_credits_used").sum()).sort("day")
    )
    as_of, standard = dt.date(2026, 11, 24), {"business": 1900, "enterprise": 3900}
    months = [dt.date(2026 + (11 + i) // 12, (11 + i) % 12 + 1, 1) for i in range(12)]  # Dec 2026 … Nov 2027
    credits = [weekday_weekend_estimate(daily, as_of=as_of, start=m, end=_last_day(m)) for m in months]
    pools = [pool(SAMPLE, SCOPE, m, standard) for m in months]
    seats = [seats_usd(SAMPLE, SCOPE, m) for m in months]
    net = [max(c - p, 0) * 0.01 for c, p in zip(credits, pools, strict=True)]
    nxt = got["next_month"]
    assert nxt["month"] == "2026-12" and nxt["credits"] == pytest.approx(credits[0], rel=1e-9)
    assert nxt["low"] <= credits[0] <= nxt["high"]
    assert nxt["usd_gross"] == pytest.approx(credits[0] * 0.01)
    assert nxt["usd_total"] == pytest.approx(seats[0] + net[0])
    quarter = got["next_quarter"]
    assert quarter["credits"] == pytest.approx(sum(credits[:3]), rel=1e-9)
    assert quarter["usd_total"] == pytest.approx(sum(seats[:3]) + sum(net[:3]))
    year = got["next_12_months"]
    assert year["credits"] == pytest.approx(sum(credits), rel=1e-9) and year["planning_range"]
    assert year["usd_total"] == pytest.approx(sum(seats) + sum(net))


def test_trends_and_spend_state_the_same_forecast() -> None:
    """One forecaster: the trends report's forecast section and the spend report's outlook give the same figures."""
    from copilot_usage.report import trends

    r = _report()
    figures = trends.forecast(r).summary()
    assert figures["forecast"] == spend_report.outlook(r).summary()["forecast"]
    assert figures["month_projected"] == pytest.approx(figures["forecast"]["this_month"]["credits"])
    assert any("repeating last week" in s for s in trends.forecast(r).sentences)


def test_outlook_scenarios_beside_the_baseline_on_the_sample() -> None:
    """Issue 26 §2: seats added from a day, adoption growth and an allowance change, each named in the spend
    notebook's parameters, as a horizon × scenario table and as lines of their own on the fan chart."""
    r = _report(
        scenario_seats=10,
        scenario_seats_from="2026-12-15",
        adoption_growth=0.5,
        scenario_included_business=10,
        scenario_included_enterprise=20,
        scenario_included_from="2027-01-01",
    )
    got = spend_report.outlook(r)
    baseline = got.summary()["forecast"]
    table = {(row["scenario"], row["period"]): row for row in got.summary()["outlook_scenarios"]}
    names = {s for s, _ in table}
    assert names == {"baseline", "+10 seats from 15 Dec 2026", "adoption +50%", "allowance 10 / 20 from Jan 2027"}
    # the roster's change mid-horizon: 2 of its 55 seats end on 2026-12-01, so December holds 53 seats and 53 pools
    seats = 53
    december = cost_outlook(r).filter(pl.col("month") == DEC1).row(0, named=True)
    assert december["seats"] == seats and december["included_pool"] == pool(SAMPLE, SCOPE, DEC1, r.prices.included)
    nxt = baseline["next_month"]["credits"]
    # December by hand: 10 more seats for 17 of its 31 days at the scope's projected credits per seat
    assert table[("+10 seats from 15 Dec 2026", "Next month")]["credits"] == pytest.approx(
        nxt * (1 + 10 / seats * 17 / 31)
    )
    assert table[("adoption +50%", "Next month")]["credits"] == pytest.approx(nxt * 1.5)
    assert table[("baseline", "Next month")]["total_usd"] == pytest.approx(baseline["next_month"]["usd_total"])
    # a smaller allowance from January: December unchanged, the quarter costs more
    allowance = "allowance 10 / 20 from Jan 2027"
    assert table[(allowance, "Next month")]["total_usd"] == pytest.approx(baseline["next_month"]["usd_total"])
    assert table[(allowance, "Next three months")]["total_usd"] > baseline["next_quarter"]["usd_total"]
    assert any("Scenarios beside the baseline" in s for s in got.sentences)
    chart = got.charts[0].spec.to_dict()
    assert len(chart["layer"]) == 4  # band, baseline, pool, and the scenarios' own lines


def test_one_week_of_history_gives_a_preliminary_outlook_that_says_why() -> None:
    """Bad input: a scope with one week of history through the spend report's outlook: figures, no band, and the
    sentence why (as AWS declines to forecast from too little history), never a traceback."""
    first = _scope_rows(SAMPLE, "user_day", SCOPE)["day"].min()
    r = _report(start=str(first), end=str(first + dt.timedelta(days=6)), scenario_seats=5)
    got = spend_report.outlook(r)
    text = " ".join(got.sentences)
    assert "Preliminary figure with no interval: only 7 day(s) of history (a band needs 14)" in text
    forecast = got.summary()["forecast"]
    assert forecast["preliminary"] and forecast["backtest"] is None
    assert forecast["next_month"]["credits"] > 0 and forecast["next_month"]["low"] is None
    assert {row["scenario"] for row in got.summary()["outlook_scenarios"]} >= {"baseline", "adoption +20%"}
