"""The forecaster (issue 26 §1): chosen by backtest, its stated coverage is the coverage it gets on days it has not
seen, it is at least as good as repeating last week, and too little history gives a preliminary figure, not a band.

The series come from a known process (a weekly pattern, a linear trend, a level shift, log-normal noise), so the
test knows what a right answer is without asking the code under test."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from copilot_usage.analysis import forecast

START = dt.date(2026, 3, 2)  # a Monday
SHIFT_AT = 120


def known_process(seed: int, n: int = 300) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    days = [START + dt.timedelta(days=int(i)) for i in t]
    weekend = np.array([d.weekday() >= 5 for d in days])
    level = 1000 + 3 * t + np.where(t >= SHIFT_AT, 400, 0)
    credits = level * np.where(weekend, 0.25, 1.0) * np.exp(rng.normal(0, 0.15, n))
    return pl.DataFrame({"day": days, "credits": credits})


def _window(frame: pl.DataFrame, first: int, days: int) -> tuple[dt.date, dt.date, float]:
    part = frame.slice(first, days)
    return part["day"][0], part["day"][-1], float(part["credits"].sum())


def test_stated_coverage_is_the_coverage_on_held_back_days_and_the_model_beats_repeating_last_week() -> None:
    stated, inside, err_chosen, err_naive = [], [], 0.0, 0.0
    for seed in range(16):
        frame = known_process(seed)
        for cut in (240, 270):  # 28 held-back days after each cut
            start, end, actual = _window(frame, cut, 28)
            p = forecast.project(
                frame.head(cut), as_of=start - dt.timedelta(days=1), until=end, breaks=[frame["day"][SHIFT_AT]]
            )
            assert p.backtest is not None and p.preliminary is None
            total = p.total(start, end)
            assert total.low is not None and total.high is not None
            stated.append(p.backtest.coverage)
            inside.append(total.low <= actual <= total.high)
            held_back = frame.slice(cut, 28)["credits"].to_numpy()
            err_chosen += float(np.abs(p.path["credits"].to_numpy() - held_back).sum())
            # repeating last week, computed here from the history alone
            last_week = frame.slice(cut - 7, 7)["credits"].to_numpy()
            err_naive += float(np.abs(np.resize(last_week, 28) - held_back).sum())
    realised = float(np.mean(inside))
    claimed = float(np.mean([c for c in stated if c is not None]))
    assert abs(claimed - realised) <= 0.10, (claimed, realised)
    assert abs(realised - forecast.NOMINAL) <= 0.10, realised
    assert err_chosen <= err_naive, (err_chosen, err_naive)


def test_a_level_shift_in_the_register_is_cut_not_learned_as_trend() -> None:
    frame = known_process(1)
    shift = frame["day"][SHIFT_AT]
    p = forecast.project(frame.head(230), as_of=frame["day"][229], until=frame["day"][257], breaks=[shift])
    assert p.history["day"].min() == shift
    assert any(str(shift) in n for n in p.notes)
    unaware = forecast.project(frame.head(230), as_of=frame["day"][229], until=frame["day"][257])
    assert unaware.history["day"].min() == frame["day"][0]


def test_too_little_history_gives_a_preliminary_figure_and_no_band() -> None:
    frame = known_process(2).head(10)
    p = forecast.project(frame, as_of=frame["day"][-1], until=frame["day"][-1] + dt.timedelta(days=20))
    assert p.backtest is None and p.preliminary is not None and "10 day(s)" in p.preliminary
    total = p.total(frame["day"][0], frame["day"][-1] + dt.timedelta(days=20))
    assert total.low is None and total.high is None and total.credits > total.actual


def test_a_later_period_projects_only_its_own_days() -> None:
    """The period arithmetic, against a series whose projection is known: a flat 100 credits a day, every day."""
    days = [START + dt.timedelta(days=i) for i in range(120)]
    flat = pl.DataFrame({"day": days, "credits": [100.0] * 120})
    as_of = days[-1]
    p = forecast.project(flat, as_of=as_of, until=dt.date(2026, 8, 31))
    july = p.total(dt.date(2026, 7, 1), dt.date(2026, 7, 31))  # after as_of (2026-06-29)
    assert july.actual == 0 and july.credits == pytest.approx(3100) and july.projected_days == 31
    june = p.total(dt.date(2026, 6, 1), dt.date(2026, 6, 30))  # as_of inside: 29 actual days + 1 projected
    assert june.actual == pytest.approx(2900) and june.credits == pytest.approx(3000) and june.projected_days == 1
    may = p.total(dt.date(2026, 5, 1), dt.date(2026, 5, 31))  # wholly past: actual only, no band to speak of
    assert may.credits == may.actual == may.low == may.high == pytest.approx(3100)


def test_days_not_fetched_are_filled_and_said() -> None:
    frame = known_process(3).head(100)
    holes = frame.filter(~pl.col("day").is_in(frame["day"].slice(60, 5).implode()))
    p = forecast.project(holes, as_of=frame["day"][-1], until=frame["day"][-1] + dt.timedelta(days=7))
    assert p.history.height == 100
    assert any(n.startswith("5 day(s) not fetched") for n in p.notes)


def _flat(days: int = 120, per_day: float = 100.0) -> tuple[pl.DataFrame, dt.date]:
    frame = pl.DataFrame({"day": [START + dt.timedelta(days=i) for i in range(days)], "credits": [per_day] * days})
    return frame, frame["day"][-1]


def test_money_by_month_and_horizon_against_a_hand_computation() -> None:
    from copilot_usage.analysis import outlook
    from copilot_usage.analysis.pricing import Prices

    frame, as_of = _flat()  # as_of 2026-06-29: two June days left
    p = forecast.project(frame, as_of=as_of, until=dt.date(2027, 6, 30))
    by_month = outlook.months(p, pool_for=lambda m: 2000.0, seats_usd_for=lambda m: 190.0, prices=Prices())
    july = by_month.row(1, named=True)
    assert july["month"] == dt.date(2026, 7, 1)
    # by hand: 31 days × 100 credits, 1,100 over the 2,000 pool at US$0.01, plus US$190 of seats
    assert july["credits"] == pytest.approx(3100)
    assert july["usd_net"] == pytest.approx(11.0) and july["usd_total"] == pytest.approx(201.0)
    june = by_month.row(0, named=True)
    assert june["actual"] == pytest.approx(2900) and june["credits"] == pytest.approx(3000)
    h = {r["horizon"]: r for r in outlook.horizons(by_month, as_of=as_of).iter_rows(named=True)}
    days_jul_sep = 31 + 31 + 30
    assert h["next_quarter"]["credits"] == pytest.approx(100 * days_jul_sep)
    assert h["next_quarter"]["usd_net"] == pytest.approx((100 * days_jul_sep - 3 * 2000) * 0.01)
    assert h["next_12_months"]["credits"] == pytest.approx(100 * 365)
    assert h["next_12_months"]["usd_total"] == pytest.approx(12 * 190 + (100 * 365 - 12 * 2000) * 0.01)
    assert h["next_12_months"]["planning_range"] and not h["this_month"]["planning_range"]
    # an unknown roster leaves money unknown, never 0
    unknown = outlook.months(p, pool_for=lambda m: None, seats_usd_for=lambda m: None, prices=Prices())
    assert unknown["usd_total"].null_count() == unknown.height


def test_exhaustion_on_the_central_path_and_no_later_on_the_upper_edge() -> None:
    noisy = known_process(4).head(200)
    as_of = noisy["day"][-1]
    p = forecast.project(noisy, as_of=as_of, until=as_of + dt.timedelta(days=60))
    start = as_of + dt.timedelta(days=1)
    budget = float(p.path["credits"].head(20).sum())  # the central path reaches it on its 20th day
    p50, p90 = p.exhaustion(start, as_of + dt.timedelta(days=60), budget)
    assert p50 == start + dt.timedelta(days=19)
    assert p90 is not None and p90 <= p50
    # already reached before as_of: the day it was reached, from the actual days
    spent = forecast.project(*_flat()[:1], as_of=_flat()[1], until=_flat()[1] + dt.timedelta(days=5))
    assert spent.exhaustion(dt.date(2026, 6, 1), dt.date(2026, 6, 30), 1500) == (dt.date(2026, 6, 15),) * 2


def _flat_months(seats: int = 10):  # type: ignore[no-untyped-def]
    """The flat series' months with a roster of ``seats`` Business licences: the promotional 3,000 included credits
    each to August, 1,900 from 2026-09-01 (the register's allowance change), US$19 a seat."""
    from copilot_usage.analysis import outlook
    from copilot_usage.analysis.pricing import Prices, included_amount

    frame, as_of = _flat()  # as_of 2026-06-29
    p = forecast.project(frame, as_of=as_of, until=dt.date(2027, 6, 30))
    by_month = outlook.months(
        p,
        pool_for=lambda m: seats * float(included_amount("business", m)),
        seats_usd_for=lambda m: seats * 19.0,
        seats_for=lambda m: seats,
        prices=Prices(),
    )
    return by_month, as_of


def test_each_month_is_netted_against_its_own_pool_across_the_allowance_change_and_a_roster_change() -> None:
    """Bad input: a month where the pool changes. The promotional allowance ends on 2026-09-01 and 5 seats are
    added on 2026-10-16 (mid-horizon): each month's net is its own credits beyond its own pool, by hand."""
    from copilot_usage.analysis import outlook

    by_month, as_of = _flat_months()
    pools = dict(by_month.select("month", "included_pool").iter_rows())
    assert pools[dt.date(2026, 8, 1)] == 30_000 and pools[dt.date(2026, 9, 1)] == 19_000
    more = outlook.seats_scenario(by_month, seats=5, from_day=dt.date(2026, 10, 16), as_of=as_of, price=0.01)
    by = {r["month"]: r for r in more.iter_rows(named=True)}
    sep, oct_, nov = by[dt.date(2026, 9, 1)], by[dt.date(2026, 10, 1)], by[dt.date(2026, 11, 1)]
    # September: 3,000 credits against 19,000 (not the promotional 30,000 nor October's 28,500): nothing net
    assert sep["credits"] == pytest.approx(3000) and sep["included_pool"] == 19_000 and sep["usd_net"] == 0
    # October: 16 of 31 days with 15 seats; the pool grows by 5 × 1,900 at once; seats pro rata
    assert oct_["credits"] == pytest.approx(3100 + 5 * 310 * 16 / 31)
    assert oct_["included_pool"] == 15 * 1900 and oct_["seats"] == 15
    assert oct_["seats_usd"] == pytest.approx(190 + 5 * 19 * 16 / 31)
    assert nov["credits"] == pytest.approx(3000 * 1.5) and nov["seats_usd"] == pytest.approx(285)
    assert by[dt.date(2026, 6, 1)]["credits"] == pytest.approx(3000)  # the past is not changed
    # a pool smaller than the month's credits: net by hand, against that month's own pool
    small = outlook.allowance_scenario(
        by_month, pool_for=lambda m: 100.0, from_day=dt.date(2026, 9, 1), label="100 credits a month", price=0.01
    )
    s = {r["month"]: r for r in small.iter_rows(named=True)}
    assert s[dt.date(2026, 8, 1)]["usd_net"] == 0  # August keeps the promotional 30,000
    assert s[dt.date(2026, 9, 1)]["usd_net"] == pytest.approx((3000 - 100) * 0.01)
    assert s[dt.date(2026, 9, 1)]["usd_total"] == pytest.approx(190 + 29.0)


def test_scenarios_beside_the_baseline_by_hand() -> None:
    from copilot_usage.analysis import outlook

    by_month, as_of = _flat_months()
    fewer = outlook.seats_scenario(by_month, seats=-20, from_day=dt.date(2026, 8, 1), as_of=as_of, price=0.01)
    aug = fewer.filter(pl.col("month") == dt.date(2026, 8, 1)).row(0, named=True)
    assert aug["seats"] == 0 and aug["credits"] == 0 and aug["included_pool"] == 0 and aug["seats_usd"] == 0
    assert fewer["scenario"][0] == "-20 seats from 01 Aug 2026"
    grown = outlook.growth_scenario(by_month, growth=0.2, price=0.01)
    assert grown["credits"][0] == pytest.approx(2900 + 100 * 1.2)  # June: 29 days past, one projected
    assert grown["credits"][1] == pytest.approx(3100 * 1.2)
    assert grown["low"].null_count() == grown.height  # a scenario has no band of its own
    table = outlook.scenario_horizons([by_month, grown], as_of=as_of)
    q = {r["scenario"]: r for r in table.filter(pl.col("horizon") == "next_quarter").iter_rows(named=True)}
    assert q["baseline"]["credits"] == pytest.approx(100 * 92)
    assert q["adoption +20%"]["credits"] == pytest.approx(120 * 92)
    assert q["adoption +20%"]["usd_total"] == pytest.approx(3 * 190)  # still inside the pools
    # the unknown roster: a seats scenario is unknown, never 0
    unknown = outlook.seats_scenario(
        by_month.with_columns(seats=pl.lit(None, pl.Int64)),
        seats=5,
        from_day=dt.date(2026, 8, 1),
        as_of=as_of,
        price=0.01,
    )
    assert unknown.filter(pl.col("month") >= dt.date(2026, 8, 1))["credits"].null_count() == 11


def test_one_step_takes_a_lasting_level_shift_as_a_new_level_not_as_outliers_day_after_day() -> None:
    """A +40 % step that lasts (a department onboarded): each day outside the band used to be replaced in the
    history by the old level's median, so the forecast never learnt the new level and every later day was flagged
    (55 % coverage of a 99.5 % band on such series). Three days in a row on one side are kept as a new level."""
    days = 160
    weekday = np.arange(days) % 7
    rng = np.random.default_rng(3)
    mean = 800 * np.where(weekday >= 5, 0.35, 1.0) * np.where(np.arange(days) >= 100, 1.4, 1.0)
    y = rng.negative_binomial(2000, 2000 / (2000 + mean)).astype(float)
    targets = list(range(60, days))
    fit = forecast.one_step(y, weekday, targets, level=0.995)
    assert fit is not None
    actual = y[targets]
    outside = (actual < fit.low) | (actual > fit.high)
    after = outside[np.array(targets) >= 100]
    assert after[:3].all()  # the step itself is unusual, and said
    assert after[14:].sum() <= 3  # two weeks on, the new level is the ordinary one (was: every day flagged)
    assert outside[np.array(targets) < 100].sum() <= 2  # before the step, a quiet series stays quiet
