"""Chart builders: ``DataFrame -> alt.Chart``, explicit encoding types, one registered theme.

Reports render charts as static SVG (vl-convert, bundled Vega): the HTML opens offline, needs no JavaScript
and makes no request to any host. Recurring categories keep one colour in every report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import altair as alt
import polars as pl

# Liberation Sans (Linux) and Arial (macOS, Windows) share one set of glyph widths, the widths vl-convert measures
# labels with when it lays the SVG out: a browser printing the page then draws them at the width they were given
# room for (a "system-ui" face drawn wider made legend entries run into each other on the PDF page)
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
PALETTE = ["#2f6fdf", "#e8833a", "#3aa37a", "#c2458e", "#8a63d2", "#d4a72c", "#4fb3c8", "#9b9b9b"]
COLORS: dict[str, str] = {
    # surfaces
    "Agent mode": "#2f6fdf",
    "Chat": "#e8833a",
    "CLI": "#3aa37a",
    "Code review": "#c2458e",
    "Cloud agent": "#8a63d2",
    "Copilot app": "#d4a72c",
    "VS Code Agents window": "#4fb3c8",
    "Third-party agents": "#173b7a",
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
    "copilot_app": "#b07d12",
    "other": "#dddddd",
    # forecast
    "actual": "#2f6fdf",
    "forecast": "#e8833a",
}


@alt.theme.register("copilot_usage", enable=False)
def _theme() -> alt.theme.ThemeConfig:
    return {
        # room beside the axes: labels are measured when the SVG is drawn, in a font the printing browser may
        # render wider, and a label or title running past the edge is cut on the page
        "padding": {"left": 36, "right": 36, "top": 6, "bottom": 6},
        "config": {
            "font": FONT,
            "view": {"stroke": None, "continuousWidth": 640, "continuousHeight": 240},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#eeeeee", "domainColor": "#999999"},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "orient": "bottom", "labelLimit": 320},
            "title": {"fontSize": 14, "anchor": "start", "fontWeight": 600},
            "range": {"category": PALETTE},
        },
    }


def enable_theme(*, renderer: str = "svg") -> None:
    """Enable the kit's theme and the static SVG renderer (call once at the top of a report)."""
    alt.theme.enable("copilot_usage")
    alt.renderers.enable(renderer)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """``chart`` drawn as static SVG in the kit's theme by vl-convert (Vega bundled: no network), leaving the
    kernel's active theme and renderer as they were."""
    with alt.theme.enable("copilot_usage"), alt.renderers.enable("svg"):
        made = chart._repr_mimebundle_()
    bundle: dict[str, Any] = dict((made[0] if isinstance(made, tuple) else made) or {})
    svg: str = bundle["image/svg+xml"]
    return svg


class StaticChart:
    """A chart shown as static SVG in a notebook (no Vega script loaded from a CDN); the chart is ``.chart``."""

    def __init__(self, chart: alt.TopLevelMixin) -> None:
        self.chart = chart

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": to_svg(self.chart), "text/plain": f"<chart: {chart_title(self.chart) or 'untitled'}>"}


def static(chart: alt.TopLevelMixin) -> StaticChart:
    """``chart`` to display offline: ``static(chart)`` as a cell's last line shows it as SVG in JupyterLab, in
    an exported HTML file and in nbval, without switching Altair's renderer for the rest of the kernel."""
    return StaticChart(chart)


def _scale(values: list[str]) -> alt.Scale:
    domain = sorted(set(values), key=lambda v: (v == "other", v))
    extra = iter(PALETTE)
    return alt.Scale(domain=domain, range=[COLORS.get(v) or next(extra, "#777777") for v in domain])


# one date format per axis: Vega's default mixes month names, weekday-days and years on one time axis
# ("November", "Thu 05"), which reads as two scales; days and weeks print as "Nov 05"
DAY_FORMAT = "%b %d"

EVENT_COLORS = {"GitHub": "#555555"}  # GitHub's definition changes; the user's own events are magenta
OWN_EVENT_COLOR = "#c2458e"
EVENT_LINE_PX = 12  # one key line per event above the plot
EVENT_TAG_PX = 14  # the row of numbered tags between the key and the plot


def _events_layer(
    events: pl.DataFrame | None, *, x: alt.X | None = None, rule: dict[str, Any] | None = None
) -> list[alt.Chart]:
    """Dated rules, numbered, with a key above the plot: the user's events and GitHub's definition changes
    (grey, "GitHub MM-DD: ...", see :mod:`github_changes`), each in its own colour. A rule is drawn over the
    plot (above stacked areas) with its number on a row just above the plot; the key lists "number label" one
    line per event in date order above that row, so labels never print over each other or over the data,
    however close the days. ``x`` places them (the event's ``day`` on a time axis by default); ``rule`` adds
    mark properties to the rules."""
    if events is None or events.height == 0:
        return []
    at = x if x is not None else alt.X("day:T")
    n = events.height
    numbered = (
        events.sort("day", "origin")
        .with_columns(
            _n=pl.int_range(1, n + 1).cast(pl.String),
            _key_y=-(EVENT_TAG_PX + EVENT_LINE_PX * (n - pl.int_range(n)) - 4),
            _tag_y=pl.lit(-4),
        )
        .with_columns(  # the user's own labels carry no date: the key gives it (GitHub's say "GitHub MM-DD: …")
            _key=pl.when(pl.col("origin") == "GitHub")
            .then(pl.format("{}  {}", "_n", "label"))
            .otherwise(pl.format("{}  {}: {}", "_n", pl.col("day").dt.strftime("%m-%d"), "label"))
        )
    )
    layers = []
    for github in (False, True):
        part = numbered.filter((pl.col("origin") == "GitHub") == github)
        if part.height == 0:
            continue
        color = EVENT_COLORS["GitHub"] if github else OWN_EVENT_COLOR
        base = alt.Chart(part)
        layers.append(base.mark_rule(color=color, strokeDash=[4, 3], **(rule or {})).encode(at))
        layers.append(
            base.mark_text(align="center", baseline="bottom", color=color, fontSize=10, fontWeight="bold").encode(
                at, alt.Y("_tag_y:Q").scale(None), alt.Text("_n:N")
            )
        )
        layers.append(
            base.mark_text(align="left", baseline="bottom", color=color, fontSize=10).encode(
                alt.X(value=0), alt.Y("_key_y:Q").scale(None), alt.Text("_key:N")
            )
        )
    return layers


def _within(events: pl.DataFrame | None, days: pl.Series) -> pl.DataFrame | None:
    """The events dated inside ``days``' range: a rule outside a chart's data would stretch its time axis."""
    if events is None or days.is_empty():
        return None
    return events.filter(pl.col("day").is_between(days.min(), days.max()))


def credits_per_day(daily: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """Bars of daily AI credits and the 7-day rolling mean. Expects ``day, credits, credits_7d_mean``."""
    base = alt.Chart(daily.drop_nulls("credits"))
    bars = base.mark_bar(color="#9bb9ef", opacity=0.8).encode(
        alt.X("day:T").title(None).axis(format=DAY_FORMAT),
        alt.Y("credits:Q").title("AI credits per day"),
        tooltip=[alt.Tooltip("day:T"), alt.Tooltip("credits:Q", format=",.0f")],
    )
    line = base.mark_line(color="#173b7a", strokeWidth=2).encode(alt.X("day:T"), alt.Y("credits_7d_mean:Q"))
    return alt.layer(bars, line, *_events_layer(events)).properties(title="AI credits per day (line: 7-day mean)")


def credits_per_active_user(daily: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """Daily credits per active user and its 7-day ratio-of-sums. Expects ``day, credits_per_active_user,
    credits_per_active_user_7d``."""
    base = alt.Chart(daily.drop_nulls("credits_per_active_user"))
    points = base.mark_circle(color="#9bb9ef", size=18).encode(
        alt.X("day:T").title(None).axis(format=DAY_FORMAT),
        alt.Y("credits_per_active_user:Q").title("AI credits per active user"),
    )
    line = base.mark_line(color="#173b7a", strokeWidth=2).encode(alt.X("day:T"), alt.Y("credits_per_active_user_7d:Q"))
    return alt.layer(points, line, *_events_layer(events)).properties(
        title="AI credits per active user per day (line: 7-day ratio of sums)"
    )


def active_users(frame: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.TopLevelMixin:
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
            alt.X("day:T").title(None).axis(format=DAY_FORMAT),
            alt.Y("users:Q").title("Active users (distinct)"),
            alt.Color("window:N").scale(_scale(long["window"].to_list())).title("Window"),
            tooltip=[alt.Tooltip("day:T"), alt.Tooltip("window:N"), alt.Tooltip("users:Q")],
        )
    )
    return alt.layer(line, *_events_layer(events)).properties(title="Active users: daily, 7-day and 28-day distinct")


def _with_events(chart: alt.Chart, events: pl.DataFrame | None, title: str) -> alt.TopLevelMixin:
    """``chart`` titled ``title``, with the events' rules and labels layered over it when there are any."""
    layers = _events_layer(events)
    return alt.layer(chart, *layers).properties(title=title) if layers else chart.properties(title=title)


def mix_share(frame: pl.DataFrame, *, by: str, title: str, events: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """Stacked weekly share by category, with ``events`` drawn (e.g. GitHub's definition changes of the feature
    mix). Expects ``week, <by>, share``."""
    chart = (
        alt.Chart(frame)
        .mark_area()
        .encode(
            alt.X("week:T").title("Week").axis(format=DAY_FORMAT),
            alt.Y("share:Q").title("Share of code generations").axis(format="%"),
            alt.Color(f"{by}:N").scale(_scale(frame[by].to_list())).title(by.replace("_", " ").capitalize()),
            tooltip=[alt.Tooltip("week:T"), alt.Tooltip(f"{by}:N"), alt.Tooltip("share:Q", format=".1%")],
        )
    )
    return _with_events(chart, events, title)


def surface_adoption(frame: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """Weekly share of active users who used each surface, with ``events`` drawn (e.g. GitHub's definition
    changes of agent and CLI activity). Expects ``week, surface, share``."""
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            alt.X("week:T").title("Week").axis(format=DAY_FORMAT),
            alt.Y("share:Q").title("Share of active users").axis(format="%"),
            alt.Color("surface:N").scale(_scale(frame["surface"].to_list())).title("Surface"),
            tooltip=[alt.Tooltip("week:T"), alt.Tooltip("surface:N"), alt.Tooltip("share:Q", format=".1%")],
        )
    )
    return _with_events(chart, events, "Share of weekly active users using each surface")


def cli_customisations(frame: pl.DataFrame) -> alt.Chart:
    """Users of each kind of CLI customisation, one bar per kind (never stacked: kinds overlap, plugins are
    skills). Expects ``label, users, share_of_cli_users``."""
    return (
        alt.Chart(frame, title="CLI users who used each kind of customisation (kinds overlap)")
        .mark_bar(color="#3aa37a")
        .encode(
            alt.X("users:Q").title("Users in the period"),
            alt.Y("label:N").sort("-x").title(None).axis(labelLimit=260),
            tooltip=[
                alt.Tooltip("label:N", title="Kind"),
                alt.Tooltip("users:Q"),
                alt.Tooltip("share_of_cli_users:Q", format=".0%", title="Share of CLI users"),
                alt.Tooltip("entities_latest:Q", title="In use on the latest day"),
            ],
        )
        .properties(width=420, height=30 * max(frame.height, 1))
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
    frame: pl.DataFrame,
    *,
    pool: float | None = None,
    title: str = "Month-to-date AI credits and forecast",
    events: pl.DataFrame | None = None,
) -> alt.TopLevelMixin:
    """Cumulative credits: actual, forecast median and 80 % band, the included pool as a rule, and the ``events``
    dated within the chart's days."""
    base = alt.Chart(frame)
    band = (
        base.transform_filter(alt.datum.kind == "forecast")
        .mark_area(opacity=0.2, color="#e8833a")
        .encode(
            alt.X("day:T").title(None).axis(format=DAY_FORMAT),
            alt.Y("low:Q").title("Cumulative AI credits"),
            alt.Y2("high:Q"),
        )
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
    return alt.layer(*layers, *_events_layer(_within(events, frame["day"]))).properties(title=title)


def outlook_fan(
    frame: pl.DataFrame,
    *,
    scenarios: pl.DataFrame | None = None,
    title: str = "AI credits per month: actual, forecast and 80 % band",
) -> alt.TopLevelMixin:
    """Monthly credits from the scope's forecast (``month, credits, low, high, included_pool, planning_range``, one
    row a month): the central figure as a line, the band as an area (lighter where it is a planning range), the
    month's included pool as a dashed line; ``scenarios`` (``scenario, month, credits``) as thin dotted lines of
    their own, one colour each, outside the baseline's band."""
    base = alt.Chart(
        frame.with_columns(
            range=pl.when(pl.col("planning_range")).then(pl.lit("planning range")).otherwise(pl.lit("backtested"))
        )
    )
    band = base.mark_area(opacity=0.2, color="#e8833a").encode(
        alt.X("month:T").title(None).axis(format="%b %Y"), alt.Y("low:Q").title("AI credits a month"), alt.Y2("high:Q")
    )
    line = base.mark_line(point=alt.OverlayMarkDef(color="#e8833a"), strokeWidth=2, color="#e8833a").encode(
        alt.X("month:T"), alt.Y("credits:Q"), alt.Tooltip(["month:T", "credits:Q", "low:Q", "high:Q", "range:N"])
    )
    pool = base.mark_line(strokeDash=[6, 3], color="#c2458e").encode(alt.X("month:T"), alt.Y("included_pool:Q"))
    layers = [band, line, pool]
    if scenarios is not None and scenarios.height:
        layers.append(
            alt.Chart(scenarios.drop_nulls("credits"))
            .mark_line(strokeDash=[2, 2], strokeWidth=1.5)
            .encode(
                alt.X("month:T"),
                alt.Y("credits:Q"),
                alt.Color("scenario:N").title("Scenario"),
                alt.Tooltip(["scenario:N", "month:T", "credits:Q"]),
            )
        )
    return alt.layer(*layers).properties(title=title)


def events_frame(events: list[Any] | None) -> pl.DataFrame:
    """``["2026-09-15: training day", ...]`` or ``[{"day": ..., "label": ...}]`` → ``day, label, origin`` frame
    (origin ``"yours"``; GitHub's definition changes come from :func:`github_changes.as_events`)."""
    rows = []
    for e in events or []:
        if isinstance(e, dict):
            rows.append({"day": dt.date.fromisoformat(str(e["day"])), "label": str(e.get("label", ""))})
        else:
            day, _, label = str(e).partition(":")
            rows.append({"day": dt.date.fromisoformat(day.strip()), "label": label.strip()})
    return pl.DataFrame(rows, schema={"day": pl.Date, "label": pl.String}).with_columns(origin=pl.lit("yours"))


QUADRANT_COLORS = {
    "high cost / high output": "#2f6fdf",
    "review: exploration or waste": "#c2458e",
    "efficient": "#3aa37a",
    "adoption support": "#9b9b9b",
}


def lorenz(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """Lorenz curve of credits across users. Expects ``user_share, credit_share`` (0–1)."""
    diag = pl.DataFrame({"user_share": [0.0, 1.0], "credit_share": [0.0, 1.0]})
    line = (
        alt.Chart(frame)
        .mark_line(color="#2f6fdf", strokeWidth=2)
        .encode(
            alt.X("user_share:Q").title("Share of users (lowest to highest credits)").axis(format="%"),
            alt.Y("credit_share:Q").title("Share of AI credits").axis(format="%"),
        )
    )
    equal = (
        alt.Chart(diag)
        .mark_line(color="#bbbbbb", strokeDash=[4, 3])
        .encode(alt.X("user_share:Q"), alt.Y("credit_share:Q"))
    )
    return alt.layer(equal, line).properties(title="Concentration of AI credits (Lorenz curve)", width=360, height=300)


def per_100_credits(frame: pl.DataFrame, *, group: str | None = None) -> alt.TopLevelMixin:
    """Output per 100 credits with its bootstrap interval. Expects ``output, per_100_credits, low, high``
    (and ``group`` to facet rows by colour)."""
    data = frame.drop_nulls("per_100_credits")
    y = alt.Y("output:N").title(None).sort("-x")
    color = alt.Color(f"{group}:N").title(group.replace("_", " ")) if group else alt.value("#2f6fdf")
    bars = (
        alt.Chart(data)
        .mark_point(filled=True, size=90, opacity=0.9)
        .encode(
            alt.X("per_100_credits:Q")
            .title("Per 100 AI credits (ratio of sums, log scale)")
            .scale(type="log")
            .axis(tickCount=6, format="~s"),
            y,
            *([alt.YOffset(f"{group}:N")] if group else []),
            color=color,
            tooltip=[
                alt.Tooltip("output:N"),
                alt.Tooltip("per_100_credits:Q", format=",.1f"),
                alt.Tooltip("low:Q", format=",.1f"),
                alt.Tooltip("high:Q", format=",.1f"),
            ],
        )
    )
    ci = (
        alt.Chart(data)
        .mark_rule(color="#333333")
        .encode(alt.X("low:Q"), alt.X2("high:Q"), y, *([alt.YOffset(f"{group}:N")] if group else []))
    )
    return alt.layer(bars, ci).properties(title="What 100 AI credits buy (lines: 90% interval)", width=560)


def intensity(frame: pl.DataFrame) -> alt.Chart:
    """Estimated credits per event by feature (per generation) and model (per interaction).
    Expects ``kind, name, credits_per_event``."""
    return (
        alt.Chart(frame, title="Estimated AI credits per event (from activity, not the billed split)")
        .mark_bar()
        .encode(
            alt.X("credits_per_event:Q").title("Estimated credits per event"),
            alt.Y("name:N").title(None).sort("-x"),
            alt.Color("kind:N").title(None).scale(domain=["feature", "model"], range=["#e8833a", "#2f6fdf"]),
            alt.Row("kind:N").title(None),
            tooltip=[alt.Tooltip("name:N"), alt.Tooltip("credits_per_event:Q", format=",.2f")],
        )
        .resolve_scale(y="independent")
        .properties(width=480)
    )


POINT_LABELS = 8  # scatter points named on the chart (the largest by credits)


def quadrant(
    frame: pl.DataFrame, *, label: str, cost: str = "credits", output: str = "loc_added_sum"
) -> alt.TopLevelMixin:
    """Cost vs output scatter with median rules. Expects ``<label>, <cost>, <output>, quadrant``."""
    drawn = frame.filter((pl.col(cost) > 0) & (pl.col(output) > 0))
    base = alt.Chart(drawn)
    # few, short ticks on the log axes (10k, 100k): the default labels every power's multiples and they collide
    axis = alt.Axis(tickCount=4, format="~s", labelOverlap="greedy")
    x = alt.X(f"{cost}:Q").title("AI credits in period (log scale)").scale(type="log").axis(axis)
    y = alt.Y(f"{output}:Q").title("Accepted lines (log scale)").scale(type="log").axis(axis)
    points = base.mark_circle(size=60, opacity=0.8).encode(
        x,
        y,
        alt.Color("quadrant:N")
        .scale(domain=list(QUADRANT_COLORS), range=list(QUADRANT_COLORS.values()))
        .title("Quadrant"),
        tooltip=[
            alt.Tooltip(f"{label}:N"),
            alt.Tooltip(f"{cost}:Q", format=",.0f"),
            alt.Tooltip(f"{output}:Q", format=",.0f"),
            alt.Tooltip("quadrant:N"),
        ],
    )
    vrule = base.mark_rule(color="#999999", strokeDash=[4, 3]).encode(alt.X("mean(cost_median):Q"))
    hrule = base.mark_rule(color="#999999", strokeDash=[4, 3]).encode(alt.Y("mean(output_median):Q"))
    # the largest entries by credits carry their name beside the point
    largest = drawn.sort(cost, descending=True, nulls_last=True).head(POINT_LABELS)
    names = (
        alt.Chart(largest)
        .mark_text(align="left", dx=6, dy=-6, fontSize=10, color="#333333")
        .encode(x, y, alt.Text(f"{label}:N"))
    )
    return alt.layer(points, vrule, hrule, names).properties(
        title="Cost vs output (dashed lines: medians)", width=520, height=340
    )


def group_bars(frame: pl.DataFrame, *, group: str, value: str, title: str, axis: str) -> alt.Chart:
    """Horizontal bars of one value per group."""
    return (
        alt.Chart(frame.drop_nulls(value), title=title)
        .mark_bar(color="#2f6fdf")
        .encode(
            alt.X(f"{value}:Q").title(axis),
            alt.Y(f"{group}:N").title(None).sort("-x"),
            tooltip=[alt.Tooltip(f"{group}:N"), alt.Tooltip(f"{value}:Q", format=",.1f")],
        )
        .properties(width=480)
    )


def outcomes(frame: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """Weekly Copilot-authored PRs created and merged per 1,000 credits, with the ``events`` dated within its
    weeks. Expects :func:`value.outcomes`."""
    long = (
        frame.unpivot(
            index="week",
            on=["created_per_1000_credits", "merged_per_1000_credits"],
            variable_name="measure",
            value_name="per_1000",
        )
        .drop_nulls("per_1000")
        .with_columns(
            pl.col("measure").replace(
                {
                    "created_per_1000_credits": "created by Copilot",
                    "merged_per_1000_credits": "merged (created by Copilot)",
                }
            )
        )
    )
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            alt.X("week:T").title("Week").axis(format=DAY_FORMAT),
            alt.Y("per_1000:Q").title("Pull requests per 1,000 credits"),
            alt.Color("measure:N").title(None),
        )
    )
    marked = _events_layer(_within(events, long["week"].cast(pl.Date)))
    return alt.layer(lines, *marked).properties(
        title="Copilot-authored pull requests per 1,000 AI credits (scope-level correlation)"
    )


def money(frame: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """Monthly credits against the included pool (each month's allowance), with ``events`` drawn (e.g. the end of
    GitHub's promotional included credits). Expects :func:`value.money_by_month`."""
    base = alt.Chart(frame)
    bars = base.mark_bar(color="#2f6fdf", opacity=0.85).encode(
        alt.X("month:T").title(None).timeUnit("yearmonth"),
        alt.Y("credits:Q").title("AI credits per month"),
        tooltip=[
            alt.Tooltip("month:T", timeUnit="yearmonth"),
            alt.Tooltip("credits:Q", format=",.0f"),
            alt.Tooltip("credits_at_list_price_usd:Q", format="$,.0f"),
            alt.Tooltip("overage_usd:Q", format="$,.0f"),
        ],
    )
    pool = base.mark_tick(color="#c2458e", thickness=3, size=40).encode(
        alt.X("month:T").timeUnit("yearmonth"), alt.Y("included_pool:Q")
    )
    return alt.layer(bars, pool, *_events_layer(events)).properties(
        title="AI credits per month (pink: included pool)", width=480
    )


UNIT_LABEL_MAX = 360  # pixels of a unit's name on an axis: "org/team" names are shown whole


def unit_credits(frame: pl.DataFrame, *, additive: bool) -> alt.Chart:
    """Credits per team/department, sorted. Expects ``unit, credits, active_users``."""
    note = "" if additive else " — non-additive: a user on several teams counts in each"
    return (
        alt.Chart(frame, title=f"AI credits by unit{note}")
        .mark_bar(color="#2f6fdf")
        .encode(
            alt.X("credits:Q").title("AI credits in period"),
            alt.Y("unit:N").title(None).sort("-x").axis(labelLimit=UNIT_LABEL_MAX),
            tooltip=[
                alt.Tooltip("unit:N"),
                alt.Tooltip("credits:Q", format=",.0f"),
                alt.Tooltip("active_users:Q"),
                alt.Tooltip("credits_per_active_user:Q", format=",.0f"),
            ],
        )
        .properties(width=440)
    )


def unit_spread(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """Per-unit distribution of per-user credits: p10–p90 line, p25–p75 bar, median tick.
    Expects ``unit, p10, p25, median, p75, p90``."""
    base = alt.Chart(frame)
    y = alt.Y("unit:N").title(None).sort(field="median", order="descending").axis(labelLimit=UNIT_LABEL_MAX)
    whisker = base.mark_rule(color="#555555").encode(
        alt.X("p10:Q").title("AI credits per user in period (line p10–p90, box p25–p75, tick median)"),
        alt.X2("p90:Q"),
        y,
    )
    box = base.mark_bar(color="#9bb9ef", size=12).encode(alt.X("p25:Q"), alt.X2("p75:Q"), y)
    mid = base.mark_tick(color="#173b7a", thickness=3, size=14).encode(alt.X("median:Q"), y)
    return alt.layer(whisker, box, mid).properties(title="Spread of credits per user inside each unit", width=440)


def unit_heatmap(frame: pl.DataFrame, *, events: pl.DataFrame | None = None) -> alt.TopLevelMixin:
    """Weekly credits per unit, with ``events`` marked on the week they fall in. Expects ``week, unit, credits``
    (weeks starting on Monday, as :func:`teams.weekly_by_unit` truncates them)."""
    cells = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            alt.X("week:O").timeUnit("yearmonthdate").title("Week starting"),
            alt.Y("unit:N").title(None).axis(labelLimit=UNIT_LABEL_MAX),
            alt.Color("credits:Q").title("Credits").scale(scheme="blues"),
            tooltip=[alt.Tooltip("week:T"), alt.Tooltip("unit:N"), alt.Tooltip("credits:Q", format=",.0f")],
        )
    )
    marked = _within(events, frame["week"].cast(pl.Date))
    on_weeks = None if marked is None else marked.with_columns(week=pl.col("day").dt.truncate("1w"))
    week = alt.X("week:O").timeUnit("yearmonthdate")  # the band of the week the event falls in
    return alt.layer(cells, *_events_layer(on_weeks, x=week, rule={"strokeWidth": 2})).properties(
        title="Weekly AI credits per unit", width=560
    )


def event_labels(chart: Any) -> list[str]:
    """The labels of the dated events a chart draws (its :func:`_events_layer` text layers, in any layer or
    panel), for its alt text: a reader who cannot see the chart still learns what is marked on it."""
    found: list[str] = []
    data = getattr(chart, "data", None)
    if getattr(chart, "mark", None) is not None and isinstance(data, pl.DataFrame):
        mark = chart.mark if isinstance(chart.mark, str) else getattr(chart.mark, "type", "")
        if mark == "text" and {"day", "label", "origin"} <= set(data.columns):
            found += data["label"].to_list()
    for part in ("layer", "vconcat", "hconcat", "concat"):
        for inner in getattr(chart, part, None) or []:
            found += [label for label in event_labels(inner) if label not in found]
    return found


def chart_title(chart: Any) -> str:
    """A chart's title text (the first one found in its layers or panels), or ""."""
    title = getattr(chart, "title", alt.Undefined)
    if isinstance(title, str) and title:
        return title
    text = getattr(title, "text", alt.Undefined)
    if isinstance(text, str) and text:
        return text
    if isinstance(text, list) and text:
        return " ".join(str(t) for t in text)
    for part in ("layer", "vconcat", "hconcat", "concat"):
        for inner in getattr(chart, part, None) or []:
            found = chart_title(inner)
            if found:
                return found
    return ""


def tornado(frame: pl.DataFrame) -> alt.TopLevelMixin:
    """The ROI with each assumption at its P10 and its P90, the others at their medians: one bar per assumption
    from one end to the other, the widest first. Expects ``assumption, roi_at_p10, roi_at_p90, swing``."""
    data = frame.with_columns(
        low=pl.min_horizontal("roi_at_p10", "roi_at_p90"), high=pl.max_horizontal("roi_at_p10", "roi_at_p90")
    )
    y = (
        alt.Y("assumption:N")
        .title(None)
        .sort(data.sort("swing", descending=True)["assumption"].to_list())
        .axis(labelLimit=320)
    )
    bars = (
        alt.Chart(data)
        .mark_bar(color="#2f6fdf", height=18)
        .encode(
            alt.X("low:Q").title("Return on cost (ROI; 1 = 100 %)").axis(format="%"),
            alt.X2("high:Q"),
            y,
            tooltip=[
                alt.Tooltip("assumption:N"),
                alt.Tooltip("roi_at_p10:Q", format=".0%", title="ROI at its P10"),
                alt.Tooltip("roi_at_p90:Q", format=".0%", title="ROI at its P90"),
            ],
        )
    )
    zero = alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(color="#333333").encode(alt.X("x:Q"))
    return alt.layer(bars, zero).properties(title="Which assumption moves the ROI most", width=320)


def event_time(frame: pl.DataFrame, *, outcome: str) -> alt.TopLevelMixin:
    """The event study's effect by week since adoption with its interval. Expects ``weeks_since_adoption,
    estimate, ci_low, ci_high``."""
    base = alt.Chart(frame.drop_nulls("estimate"))
    x = alt.X("weeks_since_adoption:Q").title("Weeks since first sustained use").axis(tickMinStep=1)
    points = base.mark_point(filled=True, size=70, color="#2f6fdf").encode(
        x,
        alt.Y("estimate:Q").title(f"Change in {outcome.replace('_', ' ')} a week"),
        tooltip=[
            alt.Tooltip("weeks_since_adoption:Q"),
            alt.Tooltip("estimate:Q", format=",.2f"),
            alt.Tooltip("ci_low:Q", format=",.2f"),
            alt.Tooltip("ci_high:Q", format=",.2f"),
        ],
    )
    ci = base.mark_rule(color="#333333").encode(x, alt.Y("ci_low:Q"), alt.Y2("ci_high:Q"))
    zero = alt.Chart(pl.DataFrame({"y": [0.0]})).mark_rule(color="#999999", strokeDash=[4, 3]).encode(alt.Y("y:Q"))
    return alt.layer(ci, points, zero).properties(
        title="Effect by week since adoption (lines: 90% interval)", width=480, height=260
    )
