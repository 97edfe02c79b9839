"""The forecaster (issue 26 §1): chosen by backtest, its stated coverage is the coverage it gets on days it has not
seen, it is at least as good as repeating last week, and too little history gives a preliminary figure, not a band.

The series come from a known process (a weekly pattern, a linear trend, a level shift, log-normal noise), so the
test knows what a right answer is without asking the code under test."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from copilot_usage import forecast

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
    from copilot_usage import outlook
    from copilot_usage.pricing import Prices

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
