"""Chart builders: ``DataFrame -> alt.Chart``, explicit encoding types, one registered theme.

Reports render charts as static SVG (vl-convert, bundled Vega): the HTML opens offline, needs no JavaScript
and makes no request to any host. Recurring categories keep one colour in every report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import polars as pl

FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
PALETTE = ["#2f6fdf", "#e8833a", "#3aa37a", "#c2458e", "#8a63d2", "#d4a72c", "#4fb3c8", "#9b9b9b"]
COLORS: dict[str, str] = {
    # surfaces
    "Agent mode": "#2f6fdf",
    "Chat": "#e8833a",
    "CLI": "#3aa37a",
    "Code review": "#c2458e",
    "Cloud agent": "#8a63d2",
    # active-user windows
    "daily": "#9bb9ef",
    "weekly": "#2f6fdf",
    "monthly": "#173b7a",
    # features
    "code_completion": "#9b9b9b",
    "agent_edit": "#2f6fdf",
    "chat_panel_agent_mode": "#173b7a",
    "chat_panel_ask_mode": "#e8833a",
    "chat_panel_edit_mode": "#d4a72c",
    "chat_inline": "#f2b880",
    "copilot_cli": "#3aa37a",
    "chat_panel_plan_mode": "#8a63d2",
    "chat_panel_custom_mode": "#c2458e",
    "chat_panel_unknown_mode": "#cccccc",
    "others": "#bbbbbb",
    "other": "#dddddd",
    # forecast
    "actual": "#2f6fdf",
    "forecast": "#e8833a",
}


@alt.theme.register("copilot_usage", enable=False)
def _theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 640, "continuousHeight": 240},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#eeeeee", "domainColor": "#999999"},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom"},
            "title": {"fontSize": 14, "anchor": "start", "fontWeight": 600},
            "range": {"category": PALETTE},
        }
    }


def enable_theme(*, renderer: str = "svg") -> None:
    """Enable the kit's theme and the static SVG renderer (call once at the top of a report)."""
    alt.theme.enable("copilot_usage")
    alt.renderers.enable(renderer)


def _scale(values: list[str]) -> alt.Scale:
    domain = sorted(set(values), key=lambda v: (v == "other", v))
    extra = iter(PALETTE)
    return alt.Scale(domain=domain, range=[COLORS.get(v) or next(extra, "#777777") for v in domain])


def _events_layer(events: pl.DataFrame | None) -> list[alt.Chart]:
    if events is None or events.height == 0:
        return []
    base = alt.Chart(events)
    rule = base.mark_rule(color="#c2458e", strokeDash=[4, 3]).encode(alt.X("day:T"))
    text = base.mark_text(align="left", dx=4, dy=-4, color="#c2458e", fontSize=10).encode(
        alt.X("day:T"), alt.Y(value=8), alt.Text("label:N")
    )
    return [rule, text]


def credits_per_day(daily: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.LayerChart:
    """Bars of daily AI credits and the 7-day rolling mean. Expects ``day, credits, credits_7d_mean``."""
    base = alt.Chart(daily.drop_nulls("credits"))
    bars = base.mark_bar(color="#9bb9ef", opacity=0.8).encode(
        alt.X("day:T").title(None),
        alt.Y("credits:Q").title("AI credits per day"),
        tooltip=[alt.Tooltip("day:T"), alt.Tooltip("credits:Q", format=",.0f")],
    )
    line = base.mark_line(color="#173b7a", strokeWidth=2).encode(alt.X("day:T"), alt.Y("credits_7d_mean:Q"))
    return alt.layer(bars, line, *_events_layer(events)).properties(title="AI credits per day (line: 7-day mean)")


def credits_per_active_user(daily: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.LayerChart:
    """Daily credits per active user and its 7-day ratio-of-sums. Expects ``day, credits_per_active_user,
    credits_per_active_user_7d``."""
    base = alt.Chart(daily.drop_nulls("credits_per_active_user"))
    points = base.mark_circle(color="#9bb9ef", size=18).encode(
        alt.X("day:T").title(None), alt.Y("credits_per_active_user:Q").title("AI credits per active user")
    )
    line = base.mark_line(color="#173b7a", strokeWidth=2).encode(alt.X("day:T"), alt.Y("credits_per_active_user_7d:Q"))
    return alt.layer(points, line, *_events_layer(events)).properties(
        title="AI credits per active user per day (line: 7-day ratio of sums)"
    )


def active_users(frame: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.LayerChart:
    """Daily / weekly / monthly active users (distinct users over 1/7/28 days). Expects :func:`metrics.active_users`."""
    long = frame.unpivot(
        index="day",
        on=["daily_active_users", "weekly_active_users", "monthly_active_users"],
        variable_name="window",
        value_name="users",
    ).with_columns(pl.col("window").str.strip_suffix("_active_users"))
    line = (
        alt.Chart(long)
        .mark_line(strokeWidth=2)
        .encode(
            alt.X("day:T").title(None),
            alt.Y("users:Q").title("Active users (distinct)"),
            alt.Color("window:N").scale(_scale(long["window"].to_list())).title("Window"),
            tooltip=[alt.Tooltip("day:T"), alt.Tooltip("window:N"), alt.Tooltip("users:Q")],
        )
    )
    return alt.layer(line, *_events_layer(events)).properties(title="Active users: daily, 7-day and 28-day distinct")


def mix_share(frame: pl.DataFrame, *, by: str, title: str) -> alt.Chart:
    """Stacked weekly share by category. Expects ``week, <by>, share``."""
    return (
        alt.Chart(frame, title=title)
        .mark_area()
        .encode(
            alt.X("week:T").title("Week"),
            alt.Y("share:Q").title("Share of code generations").axis(format="%"),
            alt.Color(f"{by}:N").scale(_scale(frame[by].to_list())).title(by.replace("_", " ").capitalize()),
            tooltip=[alt.Tooltip("week:T"), alt.Tooltip(f"{by}:N"), alt.Tooltip("share:Q", format=".1%")],
        )
    )


def surface_adoption(frame: pl.DataFrame) -> alt.Chart:
    """Weekly share of active users who used each surface. Expects ``week, surface, share``."""
    return (
        alt.Chart(frame, title="Share of weekly active users using each surface")
        .mark_line(point=True)
        .encode(
            alt.X("week:T").title("Week"),
            alt.Y("share:Q").title("Share of active users").axis(format="%"),
            alt.Color("surface:N").scale(_scale(frame["surface"].to_list())).title("Surface"),
            tooltip=[alt.Tooltip("week:T"), alt.Tooltip("surface:N"), alt.Tooltip("share:Q", format=".1%")],
        )
    )


def phase_transitions(frame: pl.DataFrame) -> alt.Chart:
    """Heatmap of users moving between adoption phases month to month. Expects ``from_phase, to_phase, users``."""
    summed = frame.group_by("from_phase", "to_phase").agg(pl.col("users").sum())
    base = alt.Chart(summed, title="Adoption-phase transitions, month to next month (all months)")
    cells = base.mark_rect().encode(
        alt.X("to_phase:N").title("Phase next month"),
        alt.Y("from_phase:N").title("Phase this month"),
        alt.Color("users:Q").title("Users").scale(scheme="blues"),
    )
    labels = base.mark_text(fontSize=11).encode(alt.X("to_phase:N"), alt.Y("from_phase:N"), alt.Text("users:Q"))
    return (cells + labels).properties(width=420, height=200)  # type: ignore[return-value]


def seat_ramp(frame: pl.DataFrame) -> alt.Chart:
    """Distribution of days from seat grant to first use and to first agent use. Expects :func:`metrics.seat_ramp`."""
    long = (
        frame.unpivot(
            index="user_id",
            on=["days_to_first_use", "days_to_first_agent"],
            variable_name="milestone",
            value_name="days",
        )
        .drop_nulls("days")
        .with_columns(
            pl.col("milestone").replace({"days_to_first_use": "first use", "days_to_first_agent": "first agent use"}),
            bucket=pl.col("days").clip(0, 60) // 5 * 5,
        )
    )
    counts = long.group_by("milestone", "bucket").agg(users=pl.len())
    return (
        alt.Chart(counts, title="New seats: days from grant to first use / first agent use")
        .mark_bar()
        .encode(
            alt.X("bucket:O").title("Days after seat grant (5-day bins, 60+ in the last)"),
            alt.Y("users:Q").title("Users"),
            alt.XOffset("milestone:N"),
            alt.Color("milestone:N").title("Milestone"),
        )
        .properties(width=560)
    )


def forecast(
    frame: pl.DataFrame, *, pool: float | None = None, title: str = "Month-to-date AI credits and forecast"
) -> alt.LayerChart:
    """Cumulative credits: actual, forecast median and 80 % band, and the included pool as a rule."""
    base = alt.Chart(frame)
    band = (
        base.transform_filter(alt.datum.kind == "forecast")
        .mark_area(opacity=0.2, color="#e8833a")
        .encode(alt.X("day:T").title(None), alt.Y("low:Q").title("Cumulative AI credits"), alt.Y2("high:Q"))
    )
    line = base.mark_line(strokeWidth=2).encode(
        alt.X("day:T"), alt.Y("credits:Q"), alt.Color("kind:N").scale(_scale(["actual", "forecast"])).title(None)
    )
    layers: list[Any] = [band, line]
    if pool:
        rule = alt.Chart(pl.DataFrame({"pool": [pool], "label": [f"included pool {pool:,.0f}"]}))
        layers += [
            rule.mark_rule(color="#c2458e", strokeDash=[6, 3]).encode(alt.Y("pool:Q")),
            rule.mark_text(align="left", dx=4, dy=-6, color="#c2458e").encode(
                alt.Y("pool:Q"), alt.X(value=4), alt.Text("label:N")
            ),
        ]
    return alt.layer(*layers).properties(title=title)


def events_frame(events: list[Any] | None) -> pl.DataFrame:
    """``["2026-09-15: training day", ...]`` or ``[{"day": ..., "label": ...}]`` → ``day, label`` frame."""
    rows = []
    for e in events or []:
        if isinstance(e, dict):
            rows.append({"day": dt.date.fromisoformat(str(e["day"])), "label": str(e.get("label", ""))})
        else:
            day, _, label = str(e).partition(":")
            rows.append({"day": dt.date.fromisoformat(day.strip()), "label": label.strip()})
    return pl.DataFrame(rows, schema={"day": pl.Date, "label": pl.String})
