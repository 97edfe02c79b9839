"""Metrics: hand-made frames in, expected frames out."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from copilot_usage.analysis import metrics

D = dt.date(2026, 11, 2)


def _ud(rows: list[tuple[int, int, float | None]], **extra: list[object]) -> pl.DataFrame:
    """user_day rows ``(day offset, user_id, credits)``."""
    return pl.DataFrame(
        {
            "day": [D + dt.timedelta(days=r[0]) for r in rows],
            "user_id": [r[1] for r in rows],
            "user_login": [f"u{r[1]}" for r in rows],
            "ai_credits_used": [r[2] for r in rows],
            **extra,
        },
        schema_overrides={"ai_credits_used": pl.Float64},
    )


def test_daily_activity_keeps_null_credits_null_and_fills_calendar() -> None:
    ud = _ud([(0, 1, 10.0), (0, 2, 30.0), (1, 1, None), (3, 1, 0.0)])
    out = metrics.daily_activity(ud, start=D, end=D + dt.timedelta(days=3))
    expected = pl.DataFrame(
        {
            "day": [D + dt.timedelta(days=k) for k in range(4)],
            "active_users": [2, 1, 0, 1],
            "credits": [40.0, None, None, 0.0],
            "credits_per_active_user": [20.0, None, None, 0.0],
        }
    )
    assert_frame_equal(out.select(expected.columns), expected)


def test_credits_per_active_user_is_a_ratio_of_sums_over_credited_users() -> None:
    # day 0: user 1 uses 10; day 1: users 1-4 use 2 each and user 5's row carries no ai_credits_used.
    # Ratio of sums over credited users: 18 / 4 = 4.5 for the week; the mean of daily ratios would be
    # (10/1 + 8/4) / 2 = 6, and dividing by every active user 18 / 5 = 3.6.
    ud = _ud([(0, 1, 10.0), *[(1, u, 2.0) for u in range(1, 5)], (1, 5, None)])
    flags = {k: [False] * ud.height for k in metrics.SURFACES}
    week = metrics.weekly(ud.with_columns(pl.DataFrame(flags)))
    assert week["credits_per_active_user"].to_list() == [pytest.approx(4.5)]
    assert week["active_users"].to_list() == [5]
    daily = metrics.daily_activity(ud, start=D, end=D + dt.timedelta(days=1))
    assert daily["credits_per_active_user"].to_list() == [pytest.approx(10.0), pytest.approx(2.0)]


def test_weekly_and_monthly_active_users_are_distinct_not_summed() -> None:
    ud = _ud([(k, 1, 1.0) for k in range(10)] + [(9, 2, 1.0)])
    out = metrics.active_users(ud, start=D, end=D + dt.timedelta(days=9))
    last = out.row(-1, named=True)
    assert last["daily_active_users"] == 2 and last["weekly_active_users"] == 2 and last["monthly_active_users"] == 2
    assert out["daily_active_users"].sum() == 11


def test_trailing_window_counts_match_counting_each_window_directly() -> None:
    """Sparse users with gaps shorter, equal to and longer than each window; the period starts after the data."""
    import random

    rng = random.Random(7)
    rows = [(day, user, 1.0) for user in range(40) for day in range(70) if rng.random() < (0.05 + user / 80)]
    ud = _ud(rows)
    start, end = D + dt.timedelta(days=20), D + dt.timedelta(days=75)
    out = metrics.active_users(ud, start=start, end=end)
    assert out["day"].to_list() == pl.date_range(start, end, eager=True).to_list()
    for width, name in ((1, "daily_active_users"), (7, "weekly_active_users"), (28, "monthly_active_users")):
        direct = [
            ud.filter(pl.col("day").is_between(day - dt.timedelta(days=width - 1), day))["user_id"].n_unique()
            for day in out["day"]
        ]
        assert out[name].to_list() == direct, name
    first = ud["day"].min()
    assert out["full_window"].to_list() == [(day - first).days >= 27 for day in out["day"]]  # type: ignore[operator]


def test_weekly_surface_share_counts_distinct_users() -> None:
    flags = {k: [False] * 4 for k in metrics.SURFACES}
    flags["used_agent"] = [True, True, False, False]
    ud = _ud([(0, 1, 1.0), (1, 1, 1.0), (0, 2, 1.0), (1, 3, 1.0)], **flags)
    w = metrics.weekly(ud)
    assert w["active_users"].to_list() == [3]
    assert w["used_agent_share"].to_list() == [pytest.approx(1 / 3)]


def test_mix_folds_categories_under_k_min_users() -> None:
    bd = pl.DataFrame(
        {
            "day": [D] * 4,
            "user_id": [1, 2, 3, 1],
            "feature": ["a", "a", "a", "b"],
            "code_generation_activity_count": [1, 1, 2, 4],
        }
    )
    out = metrics.mix(bd, by="feature", k_min=2)
    assert dict(zip(out["feature"], out["share"], strict=True)) == {"a": 0.5, "other": 0.5}


def test_forecast_is_deterministic_and_brackets_the_projection() -> None:
    days = pl.date_range(dt.date(2026, 10, 1), dt.date(2026, 11, 15), eager=True)
    daily = pl.DataFrame({"day": days, "credits": [100.0 if d.weekday() < 5 else 20.0 for d in days]})
    a = metrics.forecast_credits(
        daily,
        as_of=dt.date(2026, 11, 15),
        period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 30),
        pool=2500,
    )
    b = metrics.forecast_credits(
        daily,
        as_of=dt.date(2026, 11, 15),
        period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 30),
        pool=2500,
    )
    assert a.projected == b.projected and a.low <= a.projected <= a.high
    # 1-15 Nov 2026: 10 weekdays*100 + 5 weekend days*20 = 1100; 16-30 Nov: 11 weekdays + 4 weekend = 1180
    assert a.to_date == 1100 and a.projected == pytest.approx(2280)
    assert a.exhausted_on is None


def test_included_pool_counts_each_licence_once_at_its_highest_plan() -> None:
    seats = pl.DataFrame({"user_id": [1, 1, 2], "plan_type": ["business", "enterprise", "business"]})
    assert metrics.included_pool(seats) == 3900 + 1900


def test_phase_transitions_last_phase_of_month_to_next() -> None:
    ud = pl.DataFrame(
        {
            "day": [dt.date(2026, 9, 3), dt.date(2026, 9, 20), dt.date(2026, 10, 5), dt.date(2026, 9, 1)],
            "user_id": [1, 1, 1, 2],
            "ai_adoption_phase_number": [1, 2, 3, 1],
        }
    )
    out = metrics.phase_transitions(ud)
    assert sorted(zip(out["from_phase"], out["to_phase"], out["users"], strict=True)) == [
        ("Phase 1", "not active", 1),
        ("Phase 2", "Phase 3", 1),
    ]


def test_top_users_keeps_unknown_credits_null() -> None:
    """A user none of whose rows carries ai_credits_used has unknown credits (null, listed last), not 0.0."""
    ud = _ud([(0, 1, 2.0), (1, 1, None), (0, 2, None), (1, 2, None), (0, 3, 0.0)], used_agent=[True] * 5)
    top = metrics.top_users(ud)
    assert top["user_login"].to_list() == ["u1", "u3", "u2"]
    assert top["credits"].to_list() == [2.0, 0.0, None]
    assert top["credits_per_active_day"].to_list() == [1.0, 0.0, None]


def test_day_ranges_cover_the_period_once_and_a_missing_chunk_reads_everything() -> None:
    ranges = metrics.day_ranges(dt.date(2026, 9, 1), dt.date(2026, 9, 16), 7)
    assert ranges == [
        (dt.date(2026, 9, 1), dt.date(2026, 9, 7)),
        (dt.date(2026, 9, 8), dt.date(2026, 9, 14)),
        (dt.date(2026, 9, 15), dt.date(2026, 9, 16)),
    ]
    empty = pl.LazyFrame(schema={"day": pl.Date})
    assert len(metrics.day_windows(empty, 7)) == 1 and len(metrics.day_windows(empty, None)) == 1
