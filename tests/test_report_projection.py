"""Reports read only the ``user_day`` columns they use (issue 17: 100,000 seats × 90 days is 5 M rows of about 40
columns) and say exactly what they said when they read every column."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from copilot_usage.analysis import metrics
from copilot_usage.report import Report, open_report, spend, team_distribution, trends
from copilot_usage.report.section import Chart, Paragraph, Section, Table, Tiles

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
SCOPE = "enterprise:octo-sim"


def _frame(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(df.columns, nulls_last=True)


def said(s: Section) -> list[Any]:
    """What a section shows: sentences, tiles, chart and table numbers, headline figures (not the chart specs,
    whose generated parameter names differ between calls)."""
    parts: list[Any] = []
    for p in s.parts:
        if isinstance(p, Paragraph):
            parts.append(p.sentences)
        elif isinstance(p, Tiles):
            parts.append(p.items)
        elif isinstance(p, Chart):
            parts.append((p.spec is None, None if p.data is None else _frame(p.data)))
        elif isinstance(p, Table):
            parts.append(_frame(p.frame))
    parts.append(json.loads(json.dumps(s.summary(), default=str)))
    return parts


def assert_same(a: Any, b: Any) -> None:
    """Equal, floats to 1e-9 relative (a parallel group-by sums floats in no fixed order: rounding them to a
    number of digits still flips at a boundary, as 683.782937 against 683.782938 did)."""
    if isinstance(a, pl.DataFrame):
        assert isinstance(b, pl.DataFrame)
        assert_frame_equal(a, b, rel_tol=1e-9)
    elif isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, rel=1e-9, nan_ok=True)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b


TRENDS: list[Callable[[Report], Section]] = [
    trends.headline,
    trends.active_users,
    trends.credits,
    trends.credits_per_active_user,
    lambda r: trends.mix(r, "feature"),
    trends.surfaces,
    trends.cli_customisations,
    trends.phase_transitions,
    trends.seat_ramp,
    trends.forecast,
    trends.top_users,
]
TEAMS: list[Callable[[Report], Section]] = [
    team_distribution.headline,
    team_distribution.who_spends,
    team_distribution.spread_inside,
    team_distribution.adoption_lag,
    team_distribution.value_by_team,
    team_distribution.over_time,
]


@pytest.mark.parametrize(
    ("module", "sections", "params"),
    [
        (trends, TRENDS, {}),
        (team_distribution, TEAMS, {"unit": "team", "bootstrap_iterations": 40}),
        (team_distribution, TEAMS, {"unit": "cost_centre", "bootstrap_iterations": 40}),
    ],
    ids=["trends", "team", "cost-centre"],
)
def test_projected_report_says_what_the_whole_table_said(
    module: Any, sections: list[Callable[[Report], Section]], params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def render() -> list[Any]:
        r = open_report("t", data_dir=str(SAMPLE), scope=SCOPE, audience="analyst", **params)
        return [said(build(r)) for build in sections]

    projected = render()
    monkeypatch.setattr(module, "USER_DAY", None)  # every column, as before the projection
    assert_same(projected, render())


def test_projection_reads_fewer_columns_and_skips_those_the_cache_lacks() -> None:
    r = open_report("t", data_dir=str(SAMPLE), scope=SCOPE)
    whole = r.frame("user_day")
    assert set(trends.usage(r).columns) == set(trends.USER_DAY) & set(whole.columns)
    assert len(team_distribution.USER_DAY) < len(whole.columns) / 2
    # measures that read a column only when the frame has it (older caches) must be given it: the sample cannot
    # tell (it has no row with counts but no surface flag), so the contract is checked here
    assert {*metrics.DETAIL, *metrics.SURFACES} <= set(trends.USER_DAY)
    # a cache built before GitHub added a field has no column for it: the frame has the others
    assert r.frame("user_day", columns=("day", "user_id", "not_a_column_yet")).columns == ["day", "user_id"]


def test_spend_models_reads_the_design_columns_only() -> None:
    r = open_report("t", data_dir=str(SAMPLE), scope=SCOPE)
    spend.models(r)
    read = {key[1]: key[5] for key in r._cache if key[0] == "frame"}
    assert read["user_day"] == spend.USER_DAY
    # the breakdowns (several rows per user-day) are aggregated from their scans, never collected whole
    assert "user_feature_day" not in read and "user_model_feature_day" not in read
