"""The trends report's section functions, called directly on the committed sample cache (no papermill)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from copilot_usage.analysis import metrics
from copilot_usage.cache import lake, read
from copilot_usage.outputs.record import mime
from copilot_usage.report import Chart, Report, open_report, trends
from copilot_usage.report import display as report_display

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
SCOPE = "enterprise:octo-sim"


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the report displays, as the bundles a kernel would receive."""
    out: list[dict[str, Any]] = []

    def capture(bundle: dict[str, Any], **kw: Any) -> None:
        out.append({"bundle": bundle, **kw})

    monkeypatch.setattr(report_display, "display", capture)
    return out


@pytest.fixture
def r(shown: list[dict[str, Any]]) -> Report:
    return open_report("Copilot usage trends", data_dir=str(SAMPLE), scope=SCOPE)


def test_headline_figures_match_an_independent_computation(r: Report) -> None:
    ud = read.scan(SAMPLE, "user_day", scope=SCOPE, start=r.start, end=r.end).collect()
    h = trends.headline_figures(r)
    assert h.credits_total == pytest.approx(ud["ai_credits_used"].sum())
    assert h.credits_at_list_price_usd == pytest.approx(ud["ai_credits_used"].sum() * 0.01)
    last7 = ud.filter(pl.col("day") > r.end - dt.timedelta(days=7))
    assert h.weekly_active_users == last7["user_id"].n_unique()
    per_day = ud.group_by("day").agg(pl.col("user_id").n_unique())
    assert h.credits_per_active_user_day == pytest.approx(ud["ai_credits_used"].sum() / per_day["user_id"].sum())
    assert trends.headline(r).summary()["credits_total"] == h.credits_total


def test_each_table_is_read_once_however_many_sections_use_it(r: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real = read.scan

    def counting(data_dir: Any, table: str, **kw: Any) -> pl.LazyFrame:
        reads.append(table)
        return real(data_dir, table, **kw)

    monkeypatch.setattr(read, "scan", counting)
    for build in (trends.headline, trends.active_users, trends.credits, trends.surfaces, trends.forecast):
        build(r)
    # the period once, whole; and the forecast's half year of history once, two columns summed per day lazily
    assert reads.count("user_day") == 2


def test_each_delta_table_is_opened_once_however_often_it_is_scanned(
    r: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an object store opening a table reads its log (requests); the report reads every table at one version."""
    opened: list[str] = []
    real = lake.open_table

    def counting(data_dir: Any, table: str, version: int | None = None) -> Any:
        opened.append(table)
        return real(data_dir, table, version)

    monkeypatch.setattr(lake, "open_table", counting)
    for build in (trends.headline, trends.active_users, trends.credits, trends.surfaces, trends.forecast):
        build(r)
    assert "user_day" in opened and all(opened.count(t) == 1 for t in opened), opened


def test_a_cache_without_seats_says_what_to_fetch_instead_of_failing(tmp_path: Path, shown: list[Any]) -> None:
    shutil.copytree(SAMPLE, tmp_path / "c")
    shutil.rmtree(tmp_path / "c" / "processed" / "seats")
    r = open_report("Copilot usage trends", data_dir=str(tmp_path / "c"), scope=SCOPE)
    fc = trends.forecast(r)
    assert fc.summary()["included_pool"] is None  # not fetched is not 0
    assert any("--reports seats" in s for s in fc.sentences)
    (ramp,) = trends.seat_ramp(r).charts
    assert ramp.data is not None and ramp.data.height == 0 and ramp.needs == ("seats",)
    r.show(trends.seat_ramp(r))  # leadership: what is missing, not the command (the analyst report has it)
    assert "Not fetched for enterprise:octo-sim: seats." in shown[-1]["bundle"]["text/html"]
    assert "copilot-usage" not in shown[-1]["bundle"]["text/html"]
    assert any("seats" in n for n in r.notes().not_in_cache)


def test_shown_charts_carry_alt_text_and_sections_carry_their_summary(r: Report, shown: list[Any]) -> None:
    shown.clear()
    r.show(trends.forecast(r))
    charts = [s for s in shown if "image/svg+xml" in s["bundle"]]
    assert charts and charts[0]["metadata"]["image/svg+xml"]["alt"].startswith("Chart: ")
    assert "At the current pace the month ends near" in charts[0]["metadata"]["image/svg+xml"]["alt"]
    summary = [s["bundle"][mime("summary")] for s in shown if mime("summary") in s["bundle"]]
    assert summary and "month_projected" in summary[0]


def test_leadership_never_sees_the_per_user_table(r: Report, shown: list[Any]) -> None:
    (table,) = trends.top_users(r).tables
    assert table.analyst_only and "user_login" in table.frame.columns
    shown.clear()
    r.show(trends.top_users(r))
    assert "analyst audience only" in shown[0]["bundle"]["text/html"]
    assert not any(mime("table") in s["bundle"] for s in shown)


def test_sections_never_chart_an_empty_frame() -> None:
    assert Chart(None).empty  # a chart without a spec shows its note


def test_cli_section_lists_the_top_customisations_of_each_kind_never_summed_across_kinds(r: Report) -> None:
    (table,) = [p for p in trends.cli_customisations(r).parts if hasattr(p, "frame")]
    top = table.frame
    assert set(top["kind"]) <= set(metrics.CUSTOMISATION_LABELS.values())  # labelled as the chart names them
    assert top.group_by("kind").len()["len"].max() <= 5
    raw = read.scan(SAMPLE, "aggregate_cli_customisation_day", scope=r.scope, start=r.start, end=r.end).collect()
    one = top.row(0, named=True)
    kind = {label: k for k, label in metrics.CUSTOMISATION_LABELS.items()}[one["kind"]]
    expect = raw.filter((pl.col("kind") == kind) & (pl.col("name") == one["name"]))["interaction_count"].sum()
    assert one["interaction_count"] == expect  # summed over days within a name of one kind
