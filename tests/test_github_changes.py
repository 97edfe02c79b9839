"""The register of GitHub's definition changes: shipped entries, user entries, charts, sentences, data notes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from copilot_usage import InputError
from copilot_usage.analysis import github_changes
from copilot_usage.report import charts, trends

D = dt.date


def test_register_has_the_dated_entries_with_github_sources() -> None:
    reg = github_changes.register()
    days = set(reg["day"].to_list())
    assert {D(2026, 6, 15), D(2026, 6, 19), D(2026, 7, 2), D(2026, 7, 28), D(2026, 9, 1), D(2026, 10, 6)} <= days
    assert reg["origin"].unique().to_list() == ["GitHub"]
    assert reg["source"].str.starts_with("https://github.blog/changelog/").sum() >= 5
    assert reg["source"].str.contains(r"^https://(github\.blog|docs\.github\.com)/").all()
    credits = github_changes.affecting(reg, "credits", start=D(2026, 6, 1), end=D(2026, 12, 1))
    assert credits["day"].to_list() == [D(2026, 6, 19), D(2026, 7, 2)]


def test_user_entries_are_added_and_bad_files_name_the_entry(tmp_path: Path) -> None:
    own = tmp_path / "ours.json"
    entry = {"date": "2026-09-15", "measures": ["credits"], "label": "SSO move", "change": "x", "source": "wiki"}
    own.write_text(json.dumps([entry]))
    reg = github_changes.register(own)
    assert reg.filter(pl.col("origin") == "ours.json")["day"].to_list() == [D(2026, 9, 15)]
    own.write_text(json.dumps([entry, {**entry, "measures": ["vibes"]}]))
    with pytest.raises(InputError, match=r"ours\.json: entry 2 names unknown measures \['vibes'\]"):
        github_changes.register(own)
    own.write_text(json.dumps([{**entry, "date": "15/09/2026"}]))
    with pytest.raises(InputError, match="entry 1 has date"):
        github_changes.register(own)
    own.write_text('[{"date": ')
    with pytest.raises(InputError, match=r"ours\.json: line 1: not valid JSON"):
        github_changes.register(own)
    own.write_text(json.dumps([{**entry, "until": "2026-09-01"}]))
    with pytest.raises(InputError, match=r"entry 1 ends \(2026-09-01\) before it starts \(2026-09-15\)"):
        github_changes.register(own)
    own.write_text(json.dumps([{**entry, "until": "2026-10-31"}]))
    lasting = github_changes.bearing_on(
        github_changes.register(own), ["credits"], start=D(2026, 10, 1), end=D(2026, 10, 31), what="x"
    )
    assert lasting == ["Your 2026-09-15 change bears on x (it lasts until 2026-10-31): x (wiki)"]


def test_a_comparison_straddling_an_entry_says_so_and_one_that_does_not_is_silent() -> None:
    reg = github_changes.register()
    # last 7 days 2026-07-03..09 versus 2026-06-26..07-02: the 07-02 attribution fix lies between them
    said = github_changes.straddling(reg, "credits", end=D(2026, 7, 9), days=7)
    assert len(said) == 1
    assert said[0].startswith("Part of this change may be GitHub's 2026-07-02 change:")
    assert "https://github.blog/changelog/2026-07-02" in said[0]
    # both weeks after the entry: nothing to say
    assert github_changes.straddling(reg, "credits", end=D(2026, 7, 16), days=7) == []
    # the entry on the first day of the previous period: both periods are measured the same way
    assert github_changes.straddling(reg, "credits", end=D(2026, 7, 15), days=7) == []
    assert github_changes.straddling(reg, "credits", end=D(2026, 7, 14), days=7) != []


def test_credit_stories_carry_the_straddle_sentence() -> None:
    days = pl.date_range(D(2026, 6, 20), D(2026, 7, 9), eager=True)
    daily = pl.DataFrame({"day": days, "credits": [100.0] * 13 + [150.0] * 7, "active_users": [10] * 20})
    reg = github_changes.register()
    story = trends.credits_story(daily, D(2026, 7, 9), register=reg)
    assert any("GitHub's 2026-07-02 change" in s for s in story)
    assert not any("GitHub" in s for s in trends.credits_story(daily, D(2026, 7, 9), register=reg.clear()))
    cpu = trends.cpu_story(daily.with_columns(pl.col("active_users")), D(2026, 7, 9), register=reg)
    assert sum("GitHub's 2026-07-02 change" in s for s in cpu) == 1  # once, not once per comparison


def test_time_charts_draw_githubs_entries_marked_as_githubs() -> None:
    reg = github_changes.register()
    events = pl.concat(
        [
            charts.events_frame(["2026-10-20: training day"]),
            github_changes.as_events(
                github_changes.affecting(reg, "active_users", start=D(2026, 9, 1), end=D(2026, 12, 5))
            ),
        ]
    )
    assert events.filter(pl.col("origin") == "GitHub")["label"].to_list() == [
        "GitHub 10-06: agent activity under-counted",
        "GitHub 12-01: end of the 10-06 change",  # the day after its until: the second step
    ]
    frame = pl.DataFrame(
        {
            "day": [D(2026, 10, 1), D(2026, 10, 2)],
            "daily_active_users": [3, 4],
            "weekly_active_users": [5, 6],
            "monthly_active_users": [7, 8],
        }
    )
    spec = charts.active_users(frame, events=events).to_dict()
    texts = [json.dumps(layer) for layer in spec["layer"]]
    github_layers = [t for t in texts if charts.EVENT_COLORS["GitHub"] in t]
    own_layers = [t for t in texts if charts.OWN_EVENT_COLOR in t]
    assert len(github_layers) == 3 and len(own_layers) == 3  # a rule, its number and its key line each
    data = json.dumps(spec.get("datasets", {}))
    assert "GitHub 10-06: agent activity under-counted" in data and "training day" in data
    # and the chart's alt text can say what is marked on it
    assert charts.event_labels(charts.active_users(frame, events=events)) == [
        "training day",
        "GitHub 10-06: agent activity under-counted",
        "GitHub 12-01: end of the 10-06 change",
    ]


def test_data_notes_list_the_entries_inside_the_period() -> None:
    reg = github_changes.register()
    notes = github_changes.notes(reg, start=D(2026, 9, 2), end=D(2026, 11, 30))
    assert len(notes) == 1
    assert notes[0].startswith("GitHub 2026-10-06 (lasting until 2026-11-30) (agent, cli, feature_mix, active_users)")
    # a change whose effect lasts is listed in every period it reaches into, and in none after
    november = github_changes.notes(reg, start=D(2026, 11, 1), end=D(2026, 11, 30))
    assert [n[:17] for n in november] == ["GitHub 2026-10-06"]
    assert github_changes.notes(reg, start=D(2026, 12, 1), end=D(2026, 12, 31)) == []


def test_forecast_and_outcome_charts_draw_only_the_entries_inside_their_days() -> None:
    events = github_changes.as_events(github_changes.register())  # 06-15 .. 10-06
    month = pl.DataFrame(
        {
            "day": pl.date_range(D(2026, 10, 1), D(2026, 10, 31), eager=True),
            "kind": ["actual"] * 20 + ["forecast"] * 11,
        }
    ).with_columns(credits=pl.lit(1.0), low=pl.lit(1.0), high=pl.lit(1.0))
    assert charts.event_labels(charts.forecast(month, pool=10.0, events=events)) == [
        "GitHub 10-06: agent activity under-counted"
    ]  # 07-02 is a credits change too, but outside October: it would stretch the axis
    weeks = pl.DataFrame({"week": [D(2026, 6, 29), D(2026, 7, 6)], "created_per_1000_credits": [1.0, 2.0]})
    weekly = weeks.with_columns(merged_per_1000_credits=pl.lit(0.5))
    assert charts.event_labels(charts.outcomes(weekly, events=events)) == ["GitHub 07-02: credit attribution fixed"]


def test_the_team_heat_map_marks_the_week_of_each_entry_inside_its_weeks() -> None:
    events = github_changes.as_events(github_changes.register())
    weeks = pl.date_range(D(2026, 6, 29), D(2026, 7, 20), interval="1w", eager=True)
    frame = pl.DataFrame({"week": weeks, "unit": ["a"] * weeks.len(), "credits": [1.0] * weeks.len()})
    chart = charts.unit_heatmap(frame, events=events)
    assert charts.event_labels(chart) == ["GitHub 07-02: credit attribution fixed"]  # 07-28 is after the weeks
    rows = [row for data in chart.to_dict().get("datasets", {}).values() for row in data if "label" in row]
    assert [row["week"][:10] for row in rows] == ["2026-06-29"]  # drawn on the week it falls in
