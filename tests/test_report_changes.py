"""The trends report draws and names GitHub's definition changes on data the simulator serves across them: a small
simulated cache for June–July 2026 (server-side users, the credit fix, app users) and the committed sample
(September–November, the agent-as-CLI change)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from copilot_usage.cache import read
from copilot_usage.demo import simulate_cache
from copilot_usage.report import Report, Section, open_report, trends
from copilot_usage.report import display as report_display

D = dt.date
SCOPE = "enterprise:octo-sim"
SAMPLE = Path(__file__).parents[1] / "data" / "sample"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_display, "display", lambda *a, **kw: None)


@pytest.fixture(scope="module")
def summer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Days 2026-05-31..07-29 of a small simulated tenant, fetched and built."""
    data = tmp_path_factory.mktemp("summer")
    simulate_cache(data, seed=4, users=60, days=60, today=D(2026, 7, 31))
    return data


def _spec(section: Section) -> str:
    (chart,) = section.charts
    assert chart.spec is not None
    return json.dumps(chart.spec.to_dict())


def _rules(section: Section, label: str) -> list[Any]:
    """The days of the event rows labelled ``label`` in the section's chart."""
    (chart,) = section.charts
    assert chart.spec is not None
    spec = chart.spec.to_dict()
    rows = [row for data in spec.get("datasets", {}).values() for row in data if isinstance(row, dict)]
    return [row["day"][:10] for row in rows if row.get("label") == label]


def _report(data: Path, **kw: str) -> Report:
    return open_report("Copilot usage trends", data_dir=str(data), scope=SCOPE, **kw)


def test_credits_chart_shows_the_step_on_07_02_and_draws_and_names_githubs_change(summer: Path) -> None:
    r = _report(summer)
    ud = read.scan(summer, "user_day", scope=SCOPE).collect()
    weekday = ud.filter(pl.col("day").dt.weekday() <= 5).group_by("day").agg(pl.col("ai_credits_used").sum())
    mean = {
        side: weekday.filter(pl.col("day").is_between(a, b))["ai_credits_used"].mean()
        for side, (a, b) in {
            "before": (D(2026, 6, 19), D(2026, 7, 1)),
            "after": (D(2026, 7, 2), D(2026, 7, 15)),
        }.items()
    }
    assert mean["after"] / mean["before"] > 1.15  # type: ignore[operator]
    credits = trends.credits(r)
    assert _rules(credits, "GitHub 07-02: credit attribution fixed") == ["2026-07-02"]
    assert "GitHub 06-19: ai_credits_used appears" in _spec(credits)
    # a week-over-week comparison straddling the fix says so, in GitHub's words with the changelog
    straddling = trends.credits(_report(summer, end="2026-07-08"))
    said = [s for s in straddling.sentences if s.startswith("Part of this change may be GitHub's 2026-07-02 change")]
    assert len(said) == 1 and "https://github.blog/changelog/2026-07-02" in said[0]
    assert not any("GitHub's 2026-07-02" in s for s in credits.sentences)  # both weeks after it: silent
    cpu = trends.credits_per_active_user(r)  # last 28 days versus the 28 before: both entries between them
    assert _rules(cpu, "GitHub 07-02: credit attribution fixed") == ["2026-07-02"]
    assert sum("part of this change may be github's 2026-07-02 change" in s.lower() for s in cpu.sentences) == 1


def test_active_users_chart_draws_the_server_side_and_app_user_changes(summer: Path) -> None:
    section = trends.active_users(_report(summer))
    assert _rules(section, "GitHub 06-15: server-side users counted") == ["2026-06-15"]
    assert _rules(section, "GitHub 07-28: Copilot app users counted") == ["2026-07-28"]
    assert any("appear with credits but no activity detail" in s for s in section.sentences)
    ud = read.scan(summer, "user_day", scope=SCOPE).collect()
    bare = ud.filter(pl.col("used_agent").is_null() & pl.col("code_generation_activity_count").is_null())
    assert bare.height and bare["day"].min() >= D(2026, 6, 15)  # type: ignore[operator]


def _cli_share(sample: Path, first: dt.date, last: dt.date) -> float:
    f = read.scan(sample, "user_feature_day", scope=SCOPE, start=first, end=last).collect()
    g = f.group_by("feature").agg(pl.col("code_generation_activity_count").sum())
    return float(g.filter(pl.col("feature") == "copilot_cli")["code_generation_activity_count"].sum()) / float(
        g["code_generation_activity_count"].sum()
    )


def test_feature_mix_and_surfaces_draw_and_name_the_10_06_agent_as_cli_change() -> None:
    before = _cli_share(SAMPLE, D(2026, 9, 22), D(2026, 10, 5))
    after = _cli_share(SAMPLE, D(2026, 10, 6), D(2026, 10, 19))
    assert after > 1.3 * before  # the sample carries the shift the charts annotate
    r = _report(SAMPLE)
    label = "GitHub 10-06: agent activity under-counted"
    # an under-count of agent activity moves every share of code generations: by feature, model and IDE
    for section in (trends.mix(r, "feature"), trends.mix(r, "model"), trends.mix(r, "ide"), trends.surfaces(r)):
        assert _rules(section, label) == ["2026-10-06"]
        said = [s for s in section.sentences if s.startswith("Part of this change may be GitHub's 2026-10-06 change")]
        assert len(said) == 1 and "https://github.blog/changelog/2026-10-06" in said[0]


def test_headline_and_active_users_name_the_changes_between_their_comparisons(summer: Path) -> None:
    # the tiles compare the week to 07-08 with the week before: the 07-02 fix lies between them
    head = trends.headline(_report(summer, end="2026-07-08"))
    assert [s[:55] for s in head.sentences] == ["Part of this change may be GitHub's 2026-07-02 change: "]
    assert trends.headline(_report(summer, end="2026-07-29")).sentences == ()  # both weeks after it: silent
    # 28-day active users against four weeks earlier (07-29 vs 07-01): the 07-28 app-user change lies between
    active = trends.active_users(_report(summer, end="2026-07-29"))
    assert any(s.startswith("Part of this change may be GitHub's 2026-07-28 change") for s in active.sentences)


def test_model_mix_draws_and_names_the_copilot_app_change_of_07_28(summer: Path) -> None:
    section = trends.mix(_report(summer), "model")
    assert _rules(section, "GitHub 07-28: Copilot app users counted") == ["2026-07-28"]
    assert any(s.startswith("Part of this change may be GitHub's 2026-07-28 change") for s in section.sentences)


def test_a_lasting_change_marks_its_end_only_inside_the_period() -> None:
    r = _report(SAMPLE)  # through 2026-11-24: the 10-06 effect lasts until 11-30
    assert r.events_for("agent")["label"].to_list() == ["GitHub 10-06: agent activity under-counted"]
    late = open_report("Copilot usage trends", data_dir=str(SAMPLE), scope=SCOPE, start="2026-11-01", end="2026-12-03")
    assert late.events_for("agent")["label"].to_list() == ["GitHub 12-01: end of the 10-06 change"]
