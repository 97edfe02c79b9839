"""Display helpers for report notebooks: the report context, title block, KPI tiles, narrative, sections,
audience rules (leadership: no logins, groups under ``k_min`` suppressed), data notes and ``summary.json``.

A report notebook builds one :class:`Report` from its parameters and then makes one-line calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
from IPython.display import HTML, display

from . import __version__, budgets, charts, cost_centers, github_changes, pricing, status, store
from .output_record import frame_payload, mime

SUMMARY_ENV = "COPILOT_USAGE_SUMMARY"
PSEUDONYM_ENV = "COPILOT_USAGE_PSEUDONYM_KEY"
MIN_DAYS_FINAL = 14
AUDIENCES = ("leadership", "analyst")

# which `fetch --reports` family fills each processed table a report reads
FETCHED_BY = {
    "user_day": "users",
    "user_ide_day": "users",
    "user_feature_day": "users",
    "user_language_feature_day": "users",
    "user_language_model_day": "users",
    "user_model_feature_day": "users",
    "user_3rd_party_agent_day": "users",
    "user_cli_customisation_day": "users",
    "aggregate_day": "aggregate",
    "aggregate_feature_day": "aggregate",
    "aggregate_model_feature_day": "aggregate",
    "aggregate_ide_day": "aggregate",
    "aggregate_language_feature_day": "aggregate",
    "aggregate_language_model_day": "aggregate",
    "aggregate_3rd_party_agent_day": "aggregate",
    "aggregate_cli_customisation_day": "aggregate",
    "aggregate_ai_adoption_phase_day": "aggregate",
    "user_team_day": "user-teams",
    "repo_day": "repos",
    "repo_review_times_day": "repos",
    "seats": "seats",
    "teams": "teams",
    "team_members": "teams",
    "billing_ai_credit": "billing",
    "billing_usage": "billing",
    "billing_user_month": "billing-users",
    "cost_centers": "cost-centers",
    "cost_center_resources": "cost-centers",
    "cost_center_members": "cost-centers",
    "budgets": "budgets",
    "budget_user_states": "budgets",
}
# snapshot tables: read whole (no day filter); enterprise-level ones are read for any scope
SNAPSHOT_TABLES = (
    "seats",
    "teams",
    "team_members",
    "cost_centers",
    "cost_center_resources",
    "cost_center_members",
    "budgets",
    "budget_user_states",
)
ANY_SCOPE_TABLES = ("teams", "team_members", "cost_centers", "cost_center_resources", "cost_center_members")
_UTC = pl.Datetime("us", "UTC")
# the columns the reports read from tables a cache may lack (what `build` writes for them): a report on a cache
# without them gets an empty frame of this shape and says what to fetch
EMPTY_TABLES = {
    "repo_review_times_day": {
        "scope": pl.String,
        "day": pl.Date,
        "repository_id": pl.Int64,
        "repository_name": pl.String,
        "authored_by": pl.String,
        "reviewed_by": pl.String,
        "total_merged": pl.Int64,
        **{
            f"{q}_minutes_{stage}": pl.Float64
            for stage in ("ready_to_first_review", "first_to_final_review", "final_review_to_merge")
            for q in ("median", "p90")
        },
    },
    "seats": {
        "scope": pl.String,
        "snapshot_day": pl.Date,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "organization": pl.String,
        "plan_type": pl.String,
        "created_at": _UTC,
        "last_activity_at": _UTC,
        "last_activity_editor": pl.String,
        "pending_cancellation_date": pl.Date,
        "assigning_team": pl.String,
    },
    "teams": {
        "scope": pl.String,
        "snapshot_day": pl.Date,
        "team_id": pl.Int64,
        "slug": pl.String,
        "name": pl.String,
        "parent_id": pl.Int64,
        "parent_slug": pl.String,
    },
    "team_members": {
        "scope": pl.String,
        "snapshot_day": pl.Date,
        "team_id": pl.Int64,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "inherited": pl.Boolean,
    },
    "cost_centers": cost_centers.CENTERS_SCHEMA,
    "cost_center_resources": cost_centers.RESOURCES_SCHEMA,
    "cost_center_members": cost_centers.MEMBERS_SCHEMA,
    "budgets": budgets.BUDGETS_SCHEMA,
    "budget_user_states": budgets.USER_STATES_SCHEMA,
    "user_team_day": {
        "scope": pl.String,
        "day": pl.Date,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "enterprise_id": pl.String,
        "organization_id": pl.String,
        "team_id": pl.Int64,
        "slug": pl.String,
    },
}

_CSS = """
<style>
.cu-title{border-bottom:3px solid #2f6fdf;padding-bottom:.4em;margin-bottom:.8em}
.cu-title h1{margin:0 0 .2em 0;font-size:1.7em}
.cu-meta{color:#555;font-size:.92em}
.cu-stamp{display:inline-block;background:#fde7c8;color:#8a4b00;border-radius:4px;padding:.1em .5em;font-weight:600}
.cu-tiles{display:flex;flex-wrap:wrap;gap:.8em;margin:.6em 0 1em 0}
.cu-tile{border:1px solid #e3e3e3;border-radius:8px;padding:.6em .9em;min-width:9.5em;background:#fafbfd}
.cu-tile .v{font-size:1.45em;font-weight:650;color:#173b7a}
.cu-tile .l{font-size:.82em;color:#555}
.cu-tile .d{font-size:.8em;color:#3aa37a}
.cu-tile .d.neg{color:#c2458e}
.cu-narr{max-width:52em;line-height:1.45}
.cu-empty{border:1px dashed #bbb;padding:.8em;color:#666;border-radius:6px;max-width:40em}
table.cu{border-collapse:collapse;font-size:.9em}
table.cu th,table.cu td{border-bottom:1px solid #eee;padding:.25em .7em;text-align:right}
table.cu th:first-child,table.cu td:first-child{text-align:left}
</style>
"""

CAVEATS = [
    (
        "GitHub publishes a day's usage metrics within about three full UTC days; the newest days can still change "
        "and are re-fetched on every run."
    ),
    (
        "Organization reports count a user in every organization they belong to; organization figures are not additive "
        "and are not comparable with enterprise totals."
    ),
    "Seat holders with no activity have no usage rows: idle seats appear only in seat-roster figures.",
    (
        "`ai_credits_used` is GitHub's consumption signal (1 credit = US$0.01 at list value), not an invoice: the "
        "included pool and billing decide what is charged."
    ),
    (
        "Rates are ratios of sums; weekly and monthly active users are distinct users, never sums of daily counts; "
        "missing values are shown as missing, never as zero."
    ),
]


def fmt_num(value: float | None, *, digits: int = 0, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    if pct:
        return f"{value:+.0%}" if abs(value) >= 0.01 else f"{value:+.1%}"
    return f"{value:,.{digits}f}"


def _show(markup: str, kind: str | None = None, payload: Any = None) -> None:
    """Display HTML; with ``kind``, also a JSON copy of what it shows for the PDF, workbook and digest
    (:mod:`output_record` reads it back from the executed notebook; the HTML export ignores it)."""
    if kind is None:
        display(HTML(markup))
        return
    display({"text/html": markup, mime(kind): payload}, raw=True)


def change_phrase(what: str, change: float | None, period: str) -> str:
    """Deterministic narrative: ``"credits per active user rose 18% week over week"``."""
    if change is None:
        return f"There is not enough data to compare {what} {period}."
    if abs(change) < 0.01:
        return f"{what[:1].upper()}{what[1:]} was flat {period}."
    verb = "rose" if change > 0 else "fell"
    return f"{what[:1].upper()}{what[1:]} {verb} {abs(change):.0%} {period}."


@dataclass
class Report:
    """Context of one report run: resolved scope and period, audience rules, headline figures."""

    title: str
    data_dir: Path
    scope: str
    start: dt.date
    end: dt.date
    audience: str = "leadership"
    k_min: int = 5
    pseudonymize: bool = False
    events: pl.DataFrame = field(default_factory=lambda: charts.events_frame([]))
    parameters: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    health: pl.DataFrame = field(default_factory=pl.DataFrame)

    missing: dict[str, str] = field(default_factory=dict)
    register: pl.DataFrame = field(default_factory=github_changes.register)  # GitHub's definition changes (+ yours)
    retention: list[str] = field(default_factory=list)  # history only this cache holds, or that GitHub will delete
    prices: pricing.Prices = field(default_factory=pricing.Prices)  # what the money figures assume
    _said: list[str] = field(default_factory=list, repr=False)  # the last narrative, for the next chart's alt text

    def events_for(self, measure: str) -> pl.DataFrame:
        """Events to draw on a time chart of ``measure``: the user's own, and every definition change in the
        register that affects ``measure`` within the period (always drawn, labelled as GitHub's)."""
        github = github_changes.affecting(self.register, measure, start=self.start, end=self.end)
        return pl.concat([self.events, github_changes.as_events(github)])

    # ------------------------------------------------------------------ data access
    def scan(self, table: str, *, lookback_days: int = 0, all_scopes: bool = False) -> pl.LazyFrame:
        """A processed table for this report's scope and period (snapshots: scope only; ``all_scopes``: every
        scope in the cache, e.g. an enterprise's organizations' team lists).

        ``lookback_days`` widens the start, e.g. 27 for 28-day distinct counts on the first day of the period.
        A table the cache lacks (in :data:`EMPTY_TABLES`) is an empty frame, noted for :meth:`not_fetched`.
        """
        dated = table not in SNAPSHOT_TABLES
        start = self.start - dt.timedelta(days=lookback_days)
        scope = None if all_scopes else self.scope
        return self._scan(table, scope, start if dated else None, self.end if dated else None)

    def scan_between(self, table: str, start: dt.date, end: dt.date) -> pl.LazyFrame:
        """A dated table for this scope over another window (e.g. the previous period)."""
        return self._scan(table, self.scope, start, end)

    def _scan(self, table: str, scope: str | None, start: dt.date | None, end: dt.date | None) -> pl.LazyFrame:
        try:
            return store.scan(self.data_dir, table, scope=scope, start=start, end=end)
        except FileNotFoundError:
            if table not in EMPTY_TABLES:
                raise
            self.missing[table] = FETCHED_BY[table]
            return pl.LazyFrame(schema=EMPTY_TABLES[table])

    def fetched(self, table: str) -> bool:
        """Whether the cache holds ``table`` with rows for this scope (team lists: for any scope)."""
        scope = None if table in ANY_SCOPE_TABLES else self.scope
        try:
            lf = store.scan(self.data_dir, table, scope=scope)
        except FileNotFoundError:
            return False
        return lf.head(1).collect().height > 0

    def not_fetched(self, *tables: str) -> str:
        """A sentence naming the tables among ``tables`` the cache lacks for this scope and the fetch that fills
        them; empty when all were fetched (``say`` skips empty sentences)."""
        missing = [t for t in tables if not self.fetched(t)]
        if not missing:
            return ""
        self.missing.update({t: FETCHED_BY.get(t, t) for t in missing})
        families = ",".join(dict.fromkeys(FETCHED_BY.get(t, t) for t in missing))
        kind, slug = self.scope.split(":", 1)
        flag = f"--{'enterprise' if kind == 'enterprise' else 'org'} {slug}"
        return (
            f"Not fetched for {self.scope}: {', '.join(missing)} — `copilot-usage fetch {flag} --reports "
            f"{families}` fills this section."
        )

    @property
    def complete_days(self) -> int:
        return int((self.health["status"] == "complete").sum()) if self.health.height else 0

    @property
    def preliminary(self) -> bool:
        return self.complete_days < MIN_DAYS_FINAL

    # ------------------------------------------------------------------ display
    def show_title(self) -> None:
        generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        newest = self.health.filter(pl.col("status") == "complete")["day"].max() if self.health.height else None
        stamp = '<span class="cu-stamp">PRELIMINARY — fewer than 14 complete days</span> ' if self.preliminary else ""
        days = (self.end - self.start).days + 1
        _show(
            f"""{_CSS}<div class="cu-title"><h1>{html.escape(self.title)}</h1>
<div class="cu-meta">{stamp}<b>Scope</b> {html.escape(self.scope)} · <b>Period</b> {self.start} → {self.end}
({days} days) · <b>Data through</b> {newest or "n/a"} · <b>Generated</b> {generated}
· <b>Audience</b> {html.escape(self.audience)}</div></div>""",
            "title",
            {
                "title": self.title,
                "scope": self.scope,
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "days": days,
                "data_through": None if newest is None else newest.isoformat(),
                "generated": generated,
                "audience": self.audience,
                "preliminary": self.preliminary,
                "complete_days": self.complete_days,
            },
        )

    def tiles(self, items: list[tuple[str, str, float | None]]) -> None:
        """KPI tiles: ``(label, formatted value, change or None)``."""
        parts = []
        for label, value, change in items:
            delta = ""
            if change is not None:
                cls = "d neg" if change < 0 else "d"
                delta = f'<div class="{cls}">{fmt_num(change, pct=True)} vs previous period</div>'
            parts.append(
                f'<div class="cu-tile"><div class="v">{html.escape(value)}</div>'
                f'<div class="l">{html.escape(label)}</div>{delta}</div>'
            )
        _show(
            f'<div class="cu-tiles">{"".join(parts)}</div>',
            "tiles",
            [{"label": label, "value": value, "change": change} for label, value, change in items],
        )

    def say(self, *sentences: str) -> None:
        """Narrative paragraph (deterministic sentences built from the numbers); nothing when all are empty."""
        if not any(sentences):
            return
        said = [s for s in sentences if s]
        self._said = said
        _show(f'<p class="cu-narr">{" ".join(html.escape(s) for s in said)}</p>', "say", {"sentences": said})

    def chart(
        self,
        chart: alt.TopLevelMixin | None,
        *,
        data: pl.DataFrame | None = None,
        empty: str = "No activity in this period for this section.",
        needs: tuple[str, ...] = (),
    ) -> None:
        """Show a chart, or an explicit no-data note when ``data`` is empty (never an empty chart); when a table
        in ``needs`` was not fetched, the note says which fetch fills it."""
        if chart is None or (data is not None and (data.height == 0)):
            display(HTML(f'<div class="cu-empty">{html.escape(self.not_fetched(*needs) or empty)}</div>'))
            return
        made = chart._repr_mimebundle_()  # the registered SVG renderer: {"image/svg+xml": ...}
        bundle: dict[str, Any] = dict((made[0] if isinstance(made, tuple) else made) or {})
        title = charts.chart_title(chart)
        if data is not None:  # the chart's numbers, for the workbook (audience rules applied)
            shown = self.protect(data, user_column="user_login")
            bundle = {**bundle, mime("table"): {"ipc": frame_payload(shown), "note": "", "chart": title}}
        display(bundle, metadata={"image/svg+xml": {"alt": self._alt_text(title, data)}}, raw=True)
        self._said = []

    def _alt_text(self, title: str, data: pl.DataFrame | None) -> str:
        """A chart's alternative text: its title and what it shows (the narrative said just before it)."""
        shows = " ".join(self._said)
        if not shows and data is not None:
            shows = f"{data.height} data points ({', '.join(c.replace('_', ' ') for c in data.columns[:6])})."
        return f"Chart: {title or 'untitled'}. {shows}".strip()

    def table(
        self,
        frame: pl.DataFrame,
        *,
        user_column: str | None = None,
        empty: str = "No rows.",
        needs: tuple[str, ...] = (),
    ) -> None:
        """An HTML table; ``user_column`` is pseudonymised or hidden according to the audience. An empty table is
        a note: ``empty``, or which fetch fills it when a table in ``needs`` was not fetched."""
        frame = self.protect(frame, user_column=user_column)
        if frame.height == 0:
            note = self.not_fetched(*needs) or empty
            _show(
                f'<div class="cu-empty">{html.escape(note)}</div>', "table", {"ipc": frame_payload(frame), "note": note}
            )
            return
        head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in frame.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in frame.iter_rows()
        )  # display of an already-aggregated, small table
        _show(
            f'<table class="cu"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>',
            "table",
            {"ipc": frame_payload(frame), "note": ""},
        )

    def analyst_table(self, frame: pl.DataFrame, *, user_column: str = "user_login") -> None:
        """A per-user table, shown to the analyst audience only (pseudonymised on request)."""
        if self.audience == "leadership":
            display(HTML('<div class="cu-empty">Per-user rankings are shown to the analyst audience only.</div>'))
            return
        self.table(frame, user_column=user_column)

    # ------------------------------------------------------------------ audience rules
    def protect(
        self,
        frame: pl.DataFrame,
        *,
        user_column: str | None = None,
        group_users: str | None = None,
        analyst_only: tuple[str, ...] = (),
    ) -> pl.DataFrame:
        """Apply the audience rules: leadership never sees logins/ids; groups under ``k_min`` users are dropped.

        ``group_users`` names a column holding the number of distinct users behind each row; ``analyst_only``
        columns are dropped for leadership.
        """
        out = frame
        if self.audience == "leadership" and analyst_only:
            out = out.drop([c for c in analyst_only if c in out.columns])
        if group_users is not None:
            out = out.filter(pl.col(group_users) >= self.k_min)
        if user_column is not None and user_column in out.columns:
            if self.audience == "leadership":
                out = out.drop(user_column)
            elif self.pseudonymize:
                out = out.with_columns(pseudonyms(out[user_column], key=_pseudonym_key()).alias(user_column))
        if self.audience == "leadership":
            out = out.drop([c for c in out.columns if c in ("user_id", "user_login", "login")])
        return out

    # ------------------------------------------------------------------ appendix and summary
    def record(self, **figures: Any) -> None:
        """Headline figures for ``summary.json`` (machine-readable; dates and numbers only)."""
        self.summary.update(figures)

    def data_notes(self) -> None:
        """The closing appendix: data health, caveats, provenance; also writes ``summary.json``."""
        counts = self.health.group_by("status").len().sort("status") if self.health.height else pl.DataFrame()
        health_txt = ", ".join(f"{r['status']}: {r['len']}" for r in counts.iter_rows(named=True)) or "no data"
        not_complete = self.health.filter(pl.col("status") != "complete") if self.health.height else self.health
        listed = ", ".join(f"{r['day']} ({r['status']})" for r in not_complete.head(12).iter_rows(named=True))
        more = f" and {not_complete.height - 12} more" if not_complete.height > 12 else ""
        fingerprint = data_fingerprint(self.data_dir)
        params = {k: v for k, v in self.parameters.items() if "token" not in k.lower()}
        absent = ", ".join(f"{t} (`--reports {f}`)" for t, f in sorted(self.missing.items()))
        changes = github_changes.notes(self.register, start=self.start, end=self.end)
        corrections = status.correction_notes(self.data_dir, scope=self.scope, start=self.start, end=self.end)
        _show(
            (
                "<h2 class='cu-notes'>Data notes</h2>"
                f"<p class='cu-narr'><b>Data health ({self.start} → {self.end}, users-1-day):</b> {html.escape(health_txt)}."
                + (f" Days not complete: {html.escape(listed + more)}." if listed else " Every day is complete.")
                + (
                    f" Not in the cache, so the sections using them are empty: {html.escape(absent)}; "
                    "`copilot-usage fetch` with those reports, then `copilot-usage build`, fills them."
                    if absent
                    else ""
                )
                + "</p>"
                + f"<p class='cu-narr'><b>Prices:</b> {html.escape(self.prices.sentence())}</p>"
                + "".join(f"<p class='cu-narr'><b>History:</b> {html.escape(n)}</p>" for n in self.retention)
                + (
                    "<p class='cu-narr'><b>Corrections and quarantine</b> (rows a newer version of a day "
                    "replaced or dropped, lines not read):</p><ul class='cu-narr'>"
                    + "".join(f"<li>{html.escape(n)}</li>" for n in corrections)
                    + "</ul>"
                    if corrections
                    else ""
                )
                + "<ul class='cu-narr'>"
                + "".join(f"<li>{html.escape(c)}</li>" for c in CAVEATS)
                + "</ul>"
                + (
                    "<p class='cu-narr'><b>Definition changes in this period</b> (the numbers before and after "
                    "are not measured the same way):</p><ul class='cu-narr'>"
                    + "".join(f"<li>{html.escape(n)}</li>" for n in changes)
                    + "</ul>"
                    if changes
                    else ""
                )
                + f"<p class='cu-meta'><b>Provenance</b> · kit {__version__} · data fingerprint {fingerprint} · "
                f"parameters {html.escape(json.dumps(params, default=str))}</p>"
            ),
            "notes",
            {
                "period": f"{self.start} → {self.end}",
                "health": health_txt,
                "not_complete": listed + more,
                "not_in_cache": [f"{t} (--reports {f})" for t, f in sorted(self.missing.items())],
                "caveats": CAVEATS,
                "definition_changes": changes,
                "history": self.retention,
                "prices": self.prices.sentence(),
                "corrections": corrections,
                "kit_version": __version__,
                "data_fingerprint": fingerprint,
                "parameters": json.dumps(params, default=str),
            },
        )
        self.record(
            scope=self.scope,
            start=self.start,
            end=self.end,
            audience=self.audience,
            preliminary=self.preliminary,
            complete_days=self.complete_days,
            data_fingerprint=fingerprint,
            kit_version=__version__,
            not_fetched=sorted(self.missing),
            prices=dataclasses.asdict(self.prices),
            late_corrections=status.side_table(
                self.data_dir, "late_corrections", scope=self.scope, start=self.start, end=self.end
            ).height,
            definition_changes=github_changes.in_period(self.register, start=self.start, end=self.end)["day"].to_list(),
        )
        path = os.environ.get(SUMMARY_ENV)
        if path:
            Path(path).write_text(json.dumps(self.summary, indent=1, default=_json_default, sort_keys=True))


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _pseudonym_key() -> bytes:
    key = os.environ.get(PSEUDONYM_ENV)
    if not key:
        msg = f"pseudonymize=True needs {PSEUDONYM_ENV} in the environment (it is never stored with the data)"
        raise RuntimeError(msg)
    return key.encode()


def pseudonyms(logins: pl.Series, *, key: bytes) -> pl.Series:
    """Stable keyed-HMAC pseudonyms (``user-1a2b3c4d``) for distinct logins."""
    distinct = logins.unique().drop_nulls().sort()
    mapping = {v: "user-" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:8] for v in distinct.to_list()}
    return logins.replace_strict(mapping, default=None, return_dtype=pl.String)


def data_fingerprint(data_dir: Path | str) -> str:
    """Short hash of the processed manifest: the same data gives the same fingerprint."""
    manifest = store.processed(data_dir) / "_manifest.json"
    if not manifest.exists():
        return "none"
    return hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]


def report(
    title: str,
    *,
    data_dir: str,
    scope: str,
    start: str = "",
    end: str = "",
    audience: str = "leadership",
    k_min: int = 5,
    pseudonymize: bool = False,
    events: list[Any] | None = None,
    definitions: str = "",
    default_days: int = 90,
    **parameters: Any,
) -> Report:
    """Build the :class:`Report` from a notebook's parameters and show its title block.

    ``start``/``end`` empty → the last ``default_days`` days up to the newest complete day of the scope.
    ``definitions``: a JSON file of your own definition-change entries, added to GitHub's register
    (:mod:`github_changes`).
    """
    if audience not in AUDIENCES:
        msg = f"audience {audience!r} is not one of {AUDIENCES}"
        raise ValueError(msg)
    data_path = Path(data_dir)
    health_all = store.scan(data_path, "data_health", scope=scope).filter(pl.col("report") == "users-1-day").collect()
    newest = health_all.filter(pl.col("status") == "complete")["day"].max()
    if newest is None and not end:
        msg = f"no complete users-1-day data for scope {scope!r} under {data_path}; fetch and build first"
        raise ValueError(msg)
    end_d = dt.date.fromisoformat(end) if end else newest
    start_d = dt.date.fromisoformat(start) if start else end_d - dt.timedelta(days=default_days - 1)  # type: ignore[operator]
    first = health_all.filter(pl.col("status") == "complete")["day"].min()
    if not start and first is not None and first > start_d:
        start_d = first
    health = store.health(data_path, scope=scope, start=start_d, end=end_d)  # type: ignore[arg-type]
    r = Report(
        title,
        data_path,
        scope,
        start_d,
        end_d,
        audience,
        k_min,
        pseudonymize,  # type: ignore[arg-type]
        charts.events_frame(events),
        {
            "data_dir": data_dir,
            "scope": scope,
            "start": start,
            "end": end,
            "audience": audience,
            "k_min": k_min,
            "pseudonymize": pseudonymize,
            "events": events or [],
            **({"definitions": definitions} if definitions else {}),
            **parameters,
        },
        {},
        health,
        register=github_changes.register(definitions or None),
        prices=pricing.Prices(
            credit=float(parameters.get("credit_price", pricing.CREDIT_PRICE_USD)),
            seat_business=float(parameters.get("seat_price_business", pricing.SEAT_PRICE_USD["business"])),
            seat_enterprise=float(parameters.get("seat_price_enterprise", pricing.SEAT_PRICE_USD["enterprise"])),
            promotional=bool(parameters.get("promotional", True)),
        ),
        retention=status.retention_notes(
            status.retention_frame(health_all, today=(today := dt.datetime.now(dt.UTC).date())), today=today
        ),
    )
    charts.enable_theme()
    r.show_title()
    return r
