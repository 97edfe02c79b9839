"""Every chart builder produces a valid spec whose encoded fields exist in its data."""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
import re
from pathlib import Path

import altair as alt
import polars as pl
import pytest

from copilot_usage.analysis import metrics
from copilot_usage.report import charts

D = dt.date(2026, 11, 2)


def _fields(spec: dict) -> set[str]:
    out = set()
    for layer in spec.get("layer", [spec]):
        for enc in layer.get("encoding", {}).values():
            if isinstance(enc, dict) and "field" in enc:
                out.add(enc["field"])
    return out


def _frames() -> dict[str, pl.DataFrame]:
    days = pl.date_range(D, D + dt.timedelta(days=20), eager=True)
    ud = pl.DataFrame(
        {
            "day": days,
            "user_id": range(21),
            "ai_credits_used": [float(i) for i in range(21)],
            "ai_adoption_phase_number": [1] * 21,
            **{k: [True] * 21 for k in metrics.SURFACES},
        }
    )
    daily = metrics.daily_activity(ud, start=D, end=days[-1])
    fc = metrics.forecast_credits(daily, as_of=days[-1], period_start=D, period_end=D + dt.timedelta(days=28))
    return {
        "daily": daily,
        "au": metrics.active_users(ud, start=D, end=days[-1]),
        "adoption": metrics.surface_adoption(ud),
        "forecast": fc.daily,
    }


@pytest.mark.parametrize(
    "name", ["credits_per_day", "credits_per_active_user", "active_users", "surface_adoption", "forecast"]
)
def test_builders_produce_specs_with_existing_fields(name: str) -> None:
    f = _frames()
    data = {
        "credits_per_day": f["daily"],
        "credits_per_active_user": f["daily"],
        "active_users": f["au"],
        "surface_adoption": f["adoption"],
        "forecast": f["forecast"],
    }[name]
    chart = getattr(charts, name)(data)
    spec = chart.to_dict()
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert isinstance(chart, alt.TopLevelMixin)


def test_mix_share_fields_exist_and_colours_are_fixed() -> None:
    frame = pl.DataFrame({"week": [D, D], "feature": ["agent_edit", "code_completion"], "share": [0.4, 0.6]})
    spec = charts.mix_share(frame, by="feature", title="t").to_dict()
    assert _fields(spec) <= set(frame.columns)
    scale = spec["encoding"]["color"]["scale"]
    assert scale["range"][scale["domain"].index("agent_edit")] == charts.COLORS["agent_edit"]


def test_theme_is_registered_once_and_enabled_with_svg() -> None:
    charts.enable_theme()
    assert alt.theme.active == "copilot_usage" and alt.renderers.active == "svg"


def _encoded(layer: dict) -> set[str]:
    out = set()
    for enc in layer.get("encoding", {}).values():
        for e in enc if isinstance(enc, list) else [enc]:
            if isinstance(e, dict) and "field" in e:
                out.add(e["field"])
    return out


def _layers(spec: dict) -> list[dict]:
    found = [spec] if "mark" in spec else []
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for inner in spec.get(key, []):
            found += _layers(inner)
    return found


def test_every_chart_of_every_report_encodes_only_fields_its_data_has(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every layer of every chart the four reports draw on the sample (analyst audience: the most charts) reads
    fields its own dataset carries: a renamed column cannot leave a chart silently empty."""
    from copilot_usage.report import display as report_display
    from copilot_usage.report import open_report, roi, spend, team_distribution, trends, value_per_credit

    monkeypatch.setattr(report_display, "display", lambda *a, **kw: None)
    sample = Path(__file__).parents[1] / "data" / "sample"
    checked = 0
    for module in (trends, value_per_credit, team_distribution, spend, roi):
        r = open_report("t", data_dir=str(sample), scope="enterprise:octo-sim", audience="analyst")
        sections = [
            f
            for name, f in inspect.getmembers(module, inspect.isfunction)
            if f.__module__ == module.__name__
            and not name.startswith("_")
            and list(inspect.signature(f).parameters) == ["r"]
            and inspect.signature(f).return_annotation == "Section"
        ]
        for build in sections:
            for chart in build(r).charts:
                if chart.spec is None:
                    continue
                spec = chart.spec.to_dict()
                for layer in _layers(spec):
                    name = (layer.get("data") or spec.get("data") or {}).get("name")
                    rows = spec.get("datasets", {}).get(name) or []
                    if not rows:
                        continue
                    made = {t.get("as") for t in layer.get("transform", []) + spec.get("transform", [])}
                    assert _encoded(layer) - set(rows[0]) - made == set(), (module.__name__, build.__name__)
                    checked += 1
    assert checked > 40


def test_change_markers_are_numbered_with_a_key_above_the_plot_never_overprinted() -> None:
    """Issue 25: on the trends PDF's stacked areas, GitHub's change labels printed over each other and the data.
    Now each rule carries a number just above the plot and a key lists the labels one line each above it."""
    import re

    days = pl.date_range(dt.date(2026, 9, 1), dt.date(2026, 10, 31), eager=True)
    daily = pl.DataFrame({"day": days, "credits": [100.0] * len(days), "credits_7d_mean": [100.0] * len(days)})
    events = pl.concat(
        [
            charts.events_frame(["2026-10-01: training day", "2026-10-03: new default model"]),
            pl.DataFrame(
                {
                    "day": [dt.date(2026, 10, 2), dt.date(2026, 10, 6)],
                    "label": ["GitHub 10-02: app users counted", "GitHub 10-06: agent activity under-counted"],
                    "origin": ["GitHub", "GitHub"],
                }
            ),
        ]
    )
    svg = charts.to_svg(charts.credits_per_day(daily, events=events))
    placed = {
        text: (float(x), float(y))
        for x, y, text in re.findall(r'<text[^>]*transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*>([^<]*)</text>', svg)
    }
    keys = ["GitHub 10-02: app users counted", "GitHub 10-06: agent activity under-counted"]
    keys += ["10-01: training day", "10-03: new default model"]
    lines = {k: next((xy for t, xy in placed.items() if t.endswith(k)), None) for k in keys}
    assert all(lines.values()), placed
    rows = sorted(y for _, y in lines.values())  # type: ignore[misc]
    assert rows[-1] < 0  # above the plot's top edge (y = 0), not over the data
    assert all(b - a >= 10 for a, b in itertools.pairwise(rows))  # one line each: never printed over each other
    numbers = sorted(t for t in placed if t in {"1", "2", "3", "4"})
    assert numbers == ["1", "2", "3", "4"]
    assert [t.split("  ")[0] for t in sorted(placed, key=lambda t: placed[t][1]) if "  " in t] == ["1", "2", "3", "4"]
    assert set(charts.event_labels(charts.credits_per_day(daily, events=events))) == set(events["label"])


def test_chart_text_is_drawn_in_the_face_it_was_measured_in() -> None:
    """vl-convert lays labels out with Liberation Sans' widths (Arial's); a chart asking for ``system-ui`` was
    drawn wider by the printing browser (DejaVu Sans here), so the team report's quadrant legend ran its entries
    into each other on the PDF page. Every text of a chart names a face with those widths first."""
    import re

    frame = pl.DataFrame({"day": [dt.date(2026, 10, 1)], "credits": [1.0], "credits_7d_mean": [1.0]})
    svg = charts.to_svg(charts.credits_per_day(frame))
    faces = set(re.findall(r'font-family="([^",]+)', svg))
    assert faces and faces <= {"Liberation Sans", "Arial"}, faces


def test_a_time_axis_of_days_has_one_date_format() -> None:
    """Leader's read of spend p.3: the pool chart's axis read "November", "Thu 05" (Vega's multi-format
    default); every tick of a day axis is printed the same way."""
    days = pl.date_range(dt.date(2026, 10, 20), dt.date(2026, 11, 24), eager=True)
    frame = pl.DataFrame(
        {
            "day": days,
            "credits": [float(i * 100) for i in range(days.len())],
            "low": [float(i * 90) for i in range(days.len())],
            "high": [float(i * 110) for i in range(days.len())],
            "kind": ["actual"] * 20 + ["forecast"] * (days.len() - 20),
            "credits_7d_mean": [50.0] * days.len(),
        }
    )
    for chart in (charts.forecast(frame, pool=3000.0), charts.credits_per_day(frame)):
        svg = charts.to_svg(chart)
        labels = [
            t
            for g in re.findall(r'<g class="mark-text role-axis-label"[^>]*>(.*?)</g>', svg, flags=re.DOTALL)
            for t in re.findall(r"<text[^>]*>([^<]*)</text>", g)
        ]
        dates = [t for t in labels if not re.fullmatch(r"[\d,.k]+", t)]
        assert len(dates) >= 3, labels
        assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{2}", t) for t in dates), dates
