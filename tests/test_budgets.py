"""Budget and pool headroom: projected consumption and exhaustion dates against hand-computed cases."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from copilot_usage import budgets

AS_OF = dt.date(2026, 11, 10)
NOV1, NOV30 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def _flat(per_day: float = 100.0) -> pl.DataFrame:
    """Every day the same credits: the forecast is then exact (no spread, no trend)."""
    return pl.DataFrame({"day": pl.date_range(dt.date(2026, 10, 1), AS_OF, eager=True)}).with_columns(
        credits=pl.lit(per_day)
    )


def _project(target: float | None, consumed: float | None, through: dt.date | None = AS_OF) -> dict:
    return budgets.projection(
        _flat(),
        target=target,
        consumed=consumed,
        consumed_through=through,
        as_of=AS_OF,
        period_start=NOV1,
        period_end=NOV30,
    )


def test_exhaustion_date_hand_computed() -> None:
    # $10 (1,000 credits) used through 10 Nov, 100 credits a day, a $15 budget (1,500 credits):
    # 11 Nov 1,100 · 12 Nov 1,200 · 13 Nov 1,300 · 14 Nov 1,400 · 15 Nov 1,500 → runs out on 15 Nov
    p = _project(1500.0, 1000.0)
    assert p["exhausted_on"] == dt.date(2026, 11, 15)
    # month end: 1,000 + 20 days × 100 = 3,000 credits; a flat history has no spread
    assert p["projected"] == pytest.approx(3000.0) and p["low"] == pytest.approx(3000.0) == p["high"]


def test_consumed_after_the_metrics_counts_only_later_days() -> None:
    # billing's figure runs two days past the metrics (through 12 Nov): 1,200 + 18 × 100 at month end
    p = _project(1500.0, 1200.0, dt.date(2026, 11, 12))
    assert p["projected"] == pytest.approx(3000.0) and p["exhausted_on"] == dt.date(2026, 11, 15)


def test_no_exhaustion_already_exhausted_and_metrics_only() -> None:
    assert _project(100_000.0, 1000.0)["exhausted_on"] is None  # will not run out this month
    assert _project(None, 1000.0)["exhausted_on"] is None
    assert _project(800.0, 1000.0)["exhausted_on"] == AS_OF  # already over: exhausted by the consumed day
    # no consumed figure: the metrics' own month to date (10 days × 100)
    p = _project(1500.0, None, None)
    assert p["consumed"] == pytest.approx(1000.0) and p["exhausted_on"] == dt.date(2026, 11, 15)
