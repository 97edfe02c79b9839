"""The ROI report (issue 27): cost facts against plain polars on the sample, break-even by hand, the Monte Carlo and
tornado on priors with known answers, the assumption register, and the event study's recovery of a planted effect
(and of none) on simulated outcomes over several seeds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from copilot_usage.analysis import evidence, roi
from copilot_usage.cli import main
from copilot_usage.errors import ConfigError, InputError
from copilot_usage.report import open_report
from copilot_usage.report import roi as roi_report
from copilot_usage.simulate import outcomes as sim_outcomes
from test_spend_cost import NOV1, OCT1, SCOPE, _last_day, _scope_rows, billed, centre_credits, seats_usd

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data" / "sample"


def _report(**parameters: object):  # type: ignore[no-untyped-def]
    return open_report("t", data_dir=str(SAMPLE), scope=SCOPE, **parameters)  # type: ignore[arg-type]


def _active_developers(month: dt.date) -> int:
    rows = _scope_rows(SAMPLE, "user_day", SCOPE).filter(pl.col("day").is_between(month, _last_day(month)))
    return rows["user_id"].n_unique()


# ---------------------------------------------------------------------- cost facts and break-even
def test_cost_facts_of_the_last_closed_month_equal_a_plain_polars_computation_on_the_sample() -> None:
    cost = roi_report.headline(_report()).summary()["cost"]
    gross, net = billed(SAMPLE, SCOPE, OCT1)
    seats = seats_usd(SAMPLE, SCOPE, OCT1)
    devs = _active_developers(OCT1)
    assert cost["month"] == OCT1
    assert cost["seats_usd"] == pytest.approx(seats)
    assert cost["credits_gross"] == pytest.approx(gross)
    assert cost["credits_net_usd"] == pytest.approx(net)
    assert cost["total_usd"] == pytest.approx(seats + net + cost["other_usd"]) and cost["other_usd"] == 0
    assert cost["active_developers"] == devs
    assert cost["per_active_developer_usd"] == pytest.approx((seats + net) / devs)


def test_cost_per_cost_centre_adds_up_to_the_scope_and_its_credits_match_plain_polars() -> None:
    r = _report(audience="analyst", k_min=1)
    centres = roi_report.centre_costs(r)
    total = roi_report.headline(r).summary()["cost"]["total_usd"]
    assert centres["total_usd"].sum() == pytest.approx(total)  # additive: the scope's cost, to the cent
    credits = centre_credits(SAMPLE, SCOPE, OCT1)
    assert dict(centres.select("unit", "credits_gross").iter_rows()) == pytest.approx(credits)
    assert centres["active_developers"].sum() == _active_developers(OCT1)  # each developer in one cost centre


def test_cost_per_cost_centre_in_each_period_adds_up_to_the_scope_table_on_the_sample() -> None:
    """The last closed month, this month to date and this month projected per cost centre: each period's rows add
    up to the scope's row of the cost table; the projection is the scope's, shared by credits to date."""
    r = _report(audience="analyst", k_min=1)
    got = roi_report.cost_by_unit(r).summary()["cost_by_cost_centre"]
    scope = roi_report.cost(r).tables[0].frame
    for i, period in enumerate(("closed", "mtd", "projected")):
        rows = [g for g in got if g["period"] == period]
        assert len(rows) >= 3 and rows[0]["month"] == (OCT1 if period == "closed" else NOV1)
        for column in ("seats_usd", "credits_net_usd", "other_usd", "total_usd"):
            assert sum(g[column] for g in rows) == pytest.approx(scope[column][i]), (period, column)
    to_date = {g["unit"]: g for g in got if g["period"] == "mtd"}
    assert {u: g["credits_gross"] for u, g in to_date.items()} == pytest.approx(centre_credits(SAMPLE, SCOPE, NOV1))
    projected = {g["unit"]: g for g in got if g["period"] == "projected"}
    all_to_date = sum(g["credits_gross"] for g in to_date.values())
    for unit, row in projected.items():  # the scope's projection in proportion to the credits to date
        share = to_date[unit]["credits_gross"] / all_to_date
        assert row["credits_gross"] == pytest.approx(scope["credits_gross"][2] * share)
        assert row["active_developers"] is None and row["break_even_hours_low"] is None
    assert sum(g["credits_gross"] for g in projected.values()) == pytest.approx(scope["credits_gross"][2])
    assert [g["period"] for g in got[:3]] == ["closed", "mtd", "projected"]  # the last closed month first
    teams = roi_report.cost_by_unit(r).summary()["cost_by_team"]
    assert {g["period"] for g in teams} == {"closed", "mtd", "projected"}
    said = " ".join(roi_report.cost_by_unit(r).sentences)
    assert "shared among the units in proportion to their credits to date" in said and "do not add up" in said


def test_a_unit_under_k_min_is_hidden_per_period_and_its_projection_with_its_month_to_date() -> None:
    """Platform has 2 active developers in October and 4 in November to date on the sample."""
    every = roi_report.centre_periods(_report(audience="analyst", k_min=1))
    developers = {
        p: every.filter((pl.col("unit") == "Platform") & (pl.col("period") == p))["active_developers"].item()
        for p in ("closed", "mtd")
    }
    assert developers == {"closed": 2, "mtd": 4}
    section = roi_report.cost_by_unit(_report(k_min=3))
    shown = {(g["unit"], g["period"]) for g in section.summary()["cost_by_cost_centre"]}
    assert ("Platform", "closed") not in shown and {("Platform", "mtd"), ("Platform", "projected")} <= shown
    section = roi_report.cost_by_unit(_report(k_min=5))
    assert "Platform" not in {g["unit"] for g in section.summary()["cost_by_cost_centre"]}
    assert "Platform" not in section.tables[0].frame["unit"].to_list()
    assert any("row(s) of groups with fewer than 5 active developers are not shown" in s for s in section.sentences)


def test_seat_licences_by_plan_count_each_seat_for_its_days_on_the_sample() -> None:
    from test_roi_costs import LIST, seat_days

    held = seat_days(SAMPLE, SCOPE, OCT1, _last_day(OCT1), LIST)
    assert ((held["days"] > 0) & (held["days"] < 31)).any()  # a seat held part of October
    expected = {
        plan: (rows.height, int(rows["days"].sum()), float(rows["usd"].sum()))
        for (plan,), rows in held.group_by("plan")
    }
    r = _report()
    got = roi_report.headline(r).summary()["cost"]["seats_by_plan"]
    assert {p["plan"]: (p["seats"], p["seat_days"], pytest.approx(p["seats_usd"])) for p in got} == expected
    said = " ".join(roi_report.cost(r).sentences)
    business = expected["business"]
    assert f"Copilot Business US${business[2]:,.0f} ({business[0]} seats, {business[1]} seat-days)" in said


def test_break_even_is_cost_over_developers_times_hourly_cost_by_hand() -> None:
    r = _report(hourly_cost_low=50.0, hourly_cost_high=200.0)
    fig = roi_report.headline(r).summary()
    total = seats_usd(SAMPLE, SCOPE, OCT1) + billed(SAMPLE, SCOPE, OCT1)[1]
    devs = _active_developers(OCT1)
    be = fig["break_even_hours_per_developer_month"]
    assert be["low"] == pytest.approx(total / (devs * 200.0))
    assert be["high"] == pytest.approx(total / (devs * 50.0))
    # the defaults come from the register, in one place
    default = roi_report.headline(_report()).summary()["break_even_hours_per_developer_month"]
    register = json.loads(roi.REGISTER.read_text())["hourly_cost"]
    assert default["high"] == pytest.approx(total / (devs * register["p10"]))


def test_break_even_per_cost_centre_is_its_cost_per_developer_over_the_hourly_cost() -> None:
    r = _report(audience="analyst", k_min=1, hourly_cost_low=80.0, hourly_cost_high=160.0)
    table = roi_report.cost_by_unit(r).tables[0].frame
    row = table.row(0, named=True)
    assert row["break_even_hours_high"] == pytest.approx(row["total_usd"] / row["active_developers"] / 80.0)
    assert row["break_even_hours_low"] == pytest.approx(row["total_usd"] / row["active_developers"] / 160.0)


# ---------------------------------------------------------------------- the value model
def _fixed(**values: float) -> dict[str, roi.Prior]:
    return roi.priors(values)


def test_monte_carlo_on_a_degenerate_prior_is_the_arithmetic() -> None:
    p = _fixed(hours_saved_per_week=2.0, recapture=0.5, hourly_cost=100.0, weeks_per_month=4.0)
    got = roi.monte_carlo(2_000.0, 10, p, draws=1_000, seed=3)
    value = 2.0 * 4.0 * 0.5 * 100.0 * 10  # US$4,000 of delivered work
    assert got["p10"] == got["p50"] == got["p90"] == pytest.approx(value / 2_000.0 - 1)
    assert got["net_p50"] == pytest.approx(value - 2_000.0)
    assert got["p_positive"] == 1.0
    # break-even = 2,000 / (10 × 100) = 2 h a month; 8 h saved a month exceed it
    assert got["p_above_break_even"] == 1.0


def test_monte_carlo_is_reproducible_and_its_median_is_the_median_assumption() -> None:
    p = roi.priors({"hours_saved_per_week": (1.0, 3.0, 5.0), "recapture": 0.5, "hourly_cost": 100.0})
    a = roi.monte_carlo(5_000.0, 20, p, seed=11)
    assert a == roi.monte_carlo(5_000.0, 20, p, seed=11)
    assert a != roi.monte_carlo(5_000.0, 20, p, seed=12)
    analytic = 3.0 * 3.83 * 0.5 * 100.0 * 20 / 5_000.0 - 1  # the ROI is monotone in the one uncertain prior
    assert a["p50"] == pytest.approx(analytic, abs=0.02 * abs(analytic))
    assert a["p10"] == pytest.approx(1.0 * 3.83 * 0.5 * 100.0 * 20 / 5_000.0 - 1, rel=0.05)


def test_the_throughput_model_converts_a_lift_into_hours() -> None:
    p = roi.priors({"throughput_lift": 0.25, "hourly_cost": 100.0, "weeks_per_month": 4.0, "hours_per_week": 40.0})
    got = roi.monte_carlo(1_000.0, 5, p, model="throughput", draws=100)
    hours = 0.25 / 1.25 * 40.0 * 4.0  # 32 h a month of the same output freed
    assert got["p50"] == pytest.approx(hours * 100.0 * 5 / 1_000.0 - 1)


def test_tornado_ranks_each_assumption_by_its_swing_computed_by_hand() -> None:
    p = roi.priors(
        {"hours_saved_per_week": (0.0, 2.0, 6.0), "recapture": (0.4, 0.5, 0.6), "hourly_cost": (90, 100, 110)}
    )
    t = roi.tornado(1_000.0, 10, p)
    assert t["name"].to_list() == ["hours_saved_per_week", "recapture", "hourly_cost"]
    w = 3.83
    at = lambda h, c, s: h * w * c * s * 10 / 1_000.0 - 1
    first = t.row(0, named=True)
    assert first["roi_at_p10"] == pytest.approx(at(0.0, 0.5, 100)) and first["roi_at_p90"] == pytest.approx(
        at(6.0, 0.5, 100)
    )
    assert t["swing"].is_sorted(descending=True)


def test_changing_an_assumption_changes_the_value_model_only() -> None:
    base, bold = _report(), _report(hours_saved_per_week=[2.0, 5.0, 8.0])
    assert roi_report.headline(base).summary()["cost"] == roi_report.headline(bold).summary()["cost"]
    assert (
        roi_report.headline(base).summary()["break_even_hours_per_developer_month"]
        == roi_report.headline(bold).summary()["break_even_hours_per_developer_month"]
    )
    assert roi_report.value_model(bold).summary()["roi"]["p50"] > roi_report.value_model(base).summary()["roi"]["p50"]
    register = {a["name"]: a for a in roi_report.assumptions(bold).summary()["assumptions"]}
    assert register["hours_saved_per_week"]["source"] == "set in this report's parameters"
    assert "getdx.com" in register["recapture"]["source"] or "Faros" in register["recapture"]["source"]


def test_bad_assumptions_are_refused_with_the_parameter_named() -> None:
    with pytest.raises(ConfigError, match="hours_saved_per_week"):
        roi_report.headline(_report(hours_saved_per_week=[5.0, 2.0, 1.0]))
    with pytest.raises(ConfigError, match="hourly_cost_low"):
        roi_report.headline(_report(hourly_cost_low=100.0, hourly_cost_high=50.0))


def test_every_default_assumption_has_a_source_and_a_date() -> None:
    for name, entry in json.loads(roi.REGISTER.read_text()).items():
        if name.startswith("_"):
            continue
        assert entry["source"] and dt.date.fromisoformat(entry["date"]), name
        assert entry["p10"] <= entry["p50"] <= entry["p90"], name


# ---------------------------------------------------------------------- the organisation's own evidence
FIRST = dt.date(2026, 6, 1)


def _simulated(effect: float, seed: int) -> evidence.EventStudy:
    adoption = sim_outcomes.staggered_adoption(200, first_week=FIRST, weeks=20, seed=seed)
    frame = sim_outcomes.outcomes(
        adoption, first_week=FIRST, last_week=FIRST + dt.timedelta(weeks=19), effect=effect, seed=seed
    )
    return evidence.event_study(
        frame, adoption.with_columns(censored=pl.lit(False)), outcome=sim_outcomes.OUTCOME, seed=seed
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_event_study_recovers_a_planted_effect(seed: int) -> None:
    es = _simulated(0.5, seed)
    assert es.ci_low is not None and es.ci_high is not None
    assert es.ci_low <= 0.5 <= es.ci_high and es.ci_low > 0
    assert es.users_treated > 100 and es.users_control == 200


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_event_study_finds_no_effect_where_none_was_planted(seed: int) -> None:
    es = _simulated(0.0, seed)
    assert es.ci_low is not None and es.ci_high is not None
    assert es.ci_low <= 0.0 <= es.ci_high
    assert es.pretrend_p is not None and es.pretrend_p > 0.05


def test_the_cohort_comparison_has_intervals_and_is_labelled_an_association() -> None:
    got = roi_report.cohorts(_report())
    table = got.tables[0].frame
    assert table.height >= 2
    assert (table["prs_low"] <= table["prs_per_developer_week"]).all()
    assert (table["prs_per_developer_week"] <= table["prs_high"]).all()
    assert "association, not effect" in " ".join(got.sentences)
    # merges per engaged developer per week, recomputed for one phase in plain polars
    phases = _scope_rows(SAMPLE, "aggregate_ai_adoption_phase_day", SCOPE).filter(pl.col("phase_number") == 3)
    weekly = phases.group_by(pl.col("day").dt.truncate("1w")).agg(
        pl.col("total_pull_requests_merged").sum() / pl.col("engaged_users").mean()
    )
    row = table.filter(pl.col("phase") == "Phase 3").row(0, named=True)
    assert row["prs_per_developer_week"] == pytest.approx(weekly["total_pull_requests_merged"].mean())


def test_outcomes_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "outcomes.csv"
    bad.write_text("user_login,week,prs\nalice,2026-10-05,3\nbob,5 Oct,2\n")
    with pytest.raises(InputError, match=r"outcomes.csv: line 3: week '5 Oct'"):
        evidence.read_outcomes(bad)
    bad.write_text("user_login,week,prs\nalice,2026-10-05,three\n")
    with pytest.raises(InputError, match=r"outcomes.csv: line 2: prs 'three' is not a number"):
        evidence.read_outcomes(bad)
    bad.write_text("login,week\nalice,2026-10-05\n")
    with pytest.raises(InputError, match="needs columns user_login, week and at least one outcome"):
        evidence.read_outcomes(bad)


def test_simulate_outcomes_writes_the_file_the_report_reads(tmp_path: Path) -> None:
    out = tmp_path / "outcomes.csv"
    result = CliRunner().invoke(
        main,
        ["simulate", "outcomes", str(out), "--data-dir", str(SAMPLE), "--scope", SCOPE, "--effect", "2", "--seed", "4"],
    )
    assert result.exit_code == 0, result.output
    frame = evidence.read_outcomes(out)
    assert frame.columns == ["user_login", "week", "pull_requests_merged"] and frame["user_login"].n_unique() == 49
    es = roi_report.study(_report(outcomes=str(out)))
    assert es is not None and es.users_treated >= 5 and es.estimate is not None
    assert es.ci_low is not None and es.ci_high is not None and es.ci_low < es.ci_high
    shown = roi_report.event_study(_report(outcomes=str(out)))
    assert shown.summary()["event_study"]["users_treated"] == es.users_treated
    assert (shown.tables[0].frame["users"] >= 5).all()  # weeks since adoption with under k_min adopters hidden
    section = roi_report.event_study(_report(outcomes=str(out), k_min=100))  # too few to show a leader
    assert section.summary() == {} and "not shown" in section.sentences[0]


@pytest.mark.slow
def test_the_roi_report_summary_through_the_cli_on_the_sample(tmp_path: Path) -> None:
    outcomes = tmp_path / "outcomes.csv"
    sim_outcomes.write_outcomes(
        outcomes, _scope_rows(SAMPLE, "user_day", SCOPE).select("day", "user_login"), effect=1.0, seed=1
    )
    args = ["render", "roi", "--out", str(tmp_path), "--notebooks-dir", str(ROOT / "notebooks"), "--format", "md"]
    args += ["-p", "data_dir", str(SAMPLE), "-p", "scope", SCOPE, "-p", "outcomes", str(outcomes)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "roi").glob("*.summary.json")
    s = json.loads(path.read_text())
    assert set(s["cost"]) >= {
        "month",
        "seats_usd",
        "credits_gross",
        "credits_net_usd",
        "other_usd",
        "total_usd",
        "per_active_developer_usd",
    }
    assert set(s["break_even_hours_per_developer_month"]) == {"low", "high"}
    assert set(s["roi"]) == {"p10", "p50", "p90", "p_positive", "p_above_break_even"}
    assert s["tornado"] and all({"name", "value", "source"} <= set(a) for a in s["assumptions"])
    assert set(s["event_study"]) == {
        "outcome",
        "estimate",
        "ci_low",
        "ci_high",
        "users_treated",
        "users_control",
        "pretrend_p",
    }
    assert s["cost"]["total_usd"] == pytest.approx(seats_usd(SAMPLE, SCOPE, OCT1) + billed(SAMPLE, SCOPE, OCT1)[1])
    for key in ("cost_by_cost_centre", "cost_by_team"):  # each unit's last closed month, month to date, projected
        assert {g["period"] for g in s[key]} == {"closed", "mtd", "projected"}, key
        assert set(s[key][0]) >= {"unit", "month", "period", "seats_usd", "credits_net_usd", "total_usd"}
    closed = [g for g in s["cost_by_cost_centre"] if g["period"] == "closed"]
    assert [c["unit"] for c in s["cost_centres"]] == [c["unit"] for c in closed]  # the key kept as it was
    html = next((tmp_path / "roi").glob("*.html")).read_text()
    assert "simdev-" not in html and "copilot-usage" not in html.split("Data notes")[0]
    assert np.isfinite(s["roi"]["p50"])


def test_unit_costs_share_the_bill_beyond_the_pool_by_credits_and_add_up() -> None:
    days = pl.DataFrame(
        {"unit": ["a", "a", "b", "c"], "user_id": [1, 2, 3, 4], "ai_credits_used": [20.0, 10.0, 10.0, None]}
    )
    seats = pl.DataFrame({"unit": ["a", "a", "b", "d"], "seats_usd": [19.0, 39.0, 19.0, 19.0]})
    got = {
        r["unit"]: r for r in roi.unit_costs(days, seats, credits_net_usd=100.0, other_usd=8.0).iter_rows(named=True)
    }
    assert got["a"]["credits_net_usd"] == pytest.approx(75.0) and got["b"]["credits_net_usd"] == pytest.approx(25.0)
    assert got["a"]["total_usd"] == pytest.approx(58.0 + 75.0 + 6.0) and got["a"][
        "per_active_developer_usd"
    ] == pytest.approx((58.0 + 75.0 + 6.0) / 2)
    assert got["d"]["active_developers"] == 0 and got["d"]["per_active_developer_usd"] is None  # idle seats only
    assert sum(r["total_usd"] for r in got.values()) == pytest.approx(96.0 + 100.0 + 8.0)


def test_the_tornado_table_shows_each_assumption_with_its_unit_and_keeps_numbers_in_the_summary() -> None:
    """Leader's read of the ROI tornado: its P10/P90 columns mixed hours, shares and US$ row by row as bare
    numbers; each value now carries its unit in the table, and summary.json keeps the numbers."""
    section = roi_report.tornado(_report())
    [table] = section.tables
    shown = {row["assumption"]: (row["at_p10"], row["at_p90"]) for row in table.frame.iter_rows(named=True)}
    assert shown["Share of saved time that becomes delivered work"] == ("20%", "80%")
    assert shown["Hours saved per active developer per week"] == ("0 hours a week", "6 hours a week")
    hourly = next(v for k, v in shown.items() if k.startswith("Loaded cost"))
    assert hourly == ("US$75 an hour", "US$145 an hour")
    assert table.frame.schema["at_p10"] == pl.String and "p10" not in table.frame.columns
    rows = {t["name"]: t for t in section.summary()["tornado"]}
    assert (rows["recapture"]["p10"], rows["hourly_cost"]["p90"]) == (0.2, 145.0)
