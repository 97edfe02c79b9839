"""Forecasting any period from history to ``as_of`` (issue 25, part 1): a later period projects only its own days,
a period containing ``as_of`` is actual to date plus the rest, a past period is actual. Checked against a separate
weekday/weekend computation in plain polars, on the sample cache and on series whose answer is known."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from copilot_usage.analysis import metrics

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data" / "sample" / "processed"
AS_OF = dt.date(2026, 11, 24)
DEC1, DEC31 = dt.date(2026, 12, 1), dt.date(2026, 12, 31)


def _sample_daily(scope_slug: str = "octo-sim") -> pl.DataFrame:
    """Credits per day of the enterprise, straight from the Delta table (not through the kit's readers)."""
    rows = pl.scan_delta(str(SAMPLE / "user_day")).filter(
        pl.col("scope_kind") == "enterprise", pl.col("scope_slug") == scope_slug
    )
    return rows.group_by("day").agg(credits=pl.col("ai_credits_used").sum()).sort("day").collect()


def weekday_weekend_estimate(daily: pl.DataFrame, *, as_of: dt.date, start: dt.date, end: dt.date) -> float:
    """The hand computation: mean weekday and weekend credits of the 28 days to ``as_of``, × the trend (last 14
    days over the 14 before, within ±30 %), × the number of weekdays and weekend days in ``[start, end]``."""
    recent = daily.filter(pl.col("day").is_between(as_of - dt.timedelta(days=27), as_of))
    weekend = pl.col("day").dt.weekday() >= 6
    means = recent.group_by(weekend=weekend).agg(pl.col("credits").mean())
    mean = dict(zip(means["weekend"], means["credits"], strict=True))
    split = as_of - dt.timedelta(days=14)
    trend = (
        recent.filter(pl.col("day") > split)["credits"].sum() / recent.filter(pl.col("day") <= split)["credits"].sum()
    )
    trend = min(max(trend, 0.7), 1.3)
    days = pl.DataFrame({"day": pl.date_range(start, end, eager=True)}).group_by(weekend=weekend).len()
    return trend * sum(mean[w] * n for w, n in days.iter_rows())


def test_december_from_november_24_counts_december_only_on_the_sample() -> None:
    daily = _sample_daily()
    expected = weekday_weekend_estimate(daily, as_of=AS_OF, start=DEC1, end=DEC31)
    fc = metrics.forecast_credits(daily, as_of=AS_OF, period_start=DEC1, period_end=DEC31)
    assert fc.to_date == 0
    assert fc.daily["day"].min() == DEC1 and fc.daily.height == 31  # the path is December's own
    assert fc.low is not None and fc.high is not None and fc.projected is not None
    assert fc.low <= expected <= fc.high
    assert fc.projected == pytest.approx(expected, rel=0.02)  # the bootstrap median vs the mean-based estimate


def test_the_current_month_is_actual_to_date_plus_the_rest_on_the_sample() -> None:
    daily = _sample_daily()
    nov1, nov30 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    actual = daily.filter(pl.col("day").is_between(nov1, AS_OF))["credits"].sum()
    rest = weekday_weekend_estimate(daily, as_of=AS_OF, start=AS_OF + dt.timedelta(days=1), end=nov30)
    fc = metrics.forecast_credits(daily, as_of=AS_OF, period_start=nov1, period_end=nov30)
    assert fc.to_date == pytest.approx(actual)
    assert fc.projected == pytest.approx(actual + rest, rel=0.02)


def _known(first: dt.date, last: dt.date) -> pl.DataFrame:
    """100 credits every weekday, 20 every weekend day: the bootstrap has no spread and the trend is 1."""
    days = pl.date_range(first, last, eager=True)
    return pl.DataFrame({"day": days, "credits": [100.0 if d.weekday() < 5 else 20.0 for d in days]})


def _by_hand(start: dt.date, end: dt.date) -> float:
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return float(sum(100 if d.weekday() < 5 else 20 for d in days))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (DEC1, DEC31),  # next month
        (dt.date(2027, 1, 1), dt.date(2027, 3, 31)),  # a later quarter
        (dt.date(2027, 1, 1), dt.date(2027, 12, 31)),  # next year
        (dt.date(2026, 11, 1), dt.date(2026, 11, 30)),  # the month containing as_of
        (dt.date(2026, 10, 1), dt.date(2026, 12, 31)),  # a quarter containing as_of
        (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),  # a past month: what was used
    ],
)
def test_any_period_of_a_known_series(start: dt.date, end: dt.date) -> None:
    daily = _known(dt.date(2026, 9, 1), AS_OF)
    fc = metrics.forecast_credits(daily, as_of=AS_OF, period_start=start, period_end=end)
    assert fc.projected == pytest.approx(_by_hand(start, end))
    assert fc.low == pytest.approx(fc.projected) and fc.high == pytest.approx(fc.projected)
    assert fc.to_date == _by_hand(start, min(end, AS_OF)) if start <= AS_OF else fc.to_date == 0
    assert fc.daily["day"].min() == start and fc.daily["day"].max() == end


def test_a_later_period_runs_out_of_its_own_pool_on_its_own_days() -> None:
    daily = _known(dt.date(2026, 9, 1), AS_OF)
    # December 2026 starts on a Tuesday: 100 × 4 weekdays (1–4 Dec) reach 400 on the 4th
    fc = metrics.forecast_credits(daily, as_of=AS_OF, period_start=DEC1, period_end=DEC31, pool=400)
    assert fc.exhausted_on == dt.date(2026, 12, 4)
    past = metrics.forecast_credits(
        daily, as_of=AS_OF, period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31), pool=400
    )
    assert past.exhausted_on == dt.date(2026, 10, 6)  # 1 Oct 2026 is a Thursday: 100+100+20+20+100+100
