"""The context of one report run: resolved scope and period, audience, prices, GitHub's definition changes,
data health — and the processed tables, each read **once** per report and shared by every section.

A report notebook opens it with :func:`open_report` and hands it to section functions
(:mod:`copilot_usage.report.trends` and its siblings), then shows what they return with :meth:`Report.show`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from .. import __version__
from ..analysis import github_changes, pricing
from ..cache import health, lake, read, status, tables
from ..errors import ConfigError, NotInCache
from ..storage import objstore
from ..storage.datadir import find_data_dir
from . import charts, html
from .privacy import Audience
from .section import Notes, Title
from .tables import ANY_SCOPE_TABLES, EMPTY_TABLES, FETCHED_BY, SNAPSHOT_TABLES

T = TypeVar("T")
MIN_DAYS_FINAL = 14
CAVEATS = (
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
        "`ai_credits_used` is GitHub's consumption signal (1 credit = US${credit:g} at the report's price), not an invoice: the "
        "included pool and billing decide what is charged."
    ),
    (
        "Rates are ratios of sums; weekly and monthly active users are distinct users, never sums of daily counts; "
        "missing values are shown as missing, never as zero."
    ),
)


@dataclass(frozen=True)
class Report:
    """One report run. Its fields never change; :meth:`frame` and :meth:`memo` fill a private cache so each table
    (and each derived result) is computed once however many sections use it."""

    title: str
    data_dir: Path | str  # a folder, or an object-store URL
    scope: str
    start: dt.date
    end: dt.date
    audience: Audience = field(default_factory=Audience)
    prices: pricing.Prices = field(default_factory=pricing.Prices)
    events: pl.DataFrame = field(default_factory=lambda: charts.events_frame([]))
    register: pl.DataFrame = field(default_factory=github_changes.register)  # GitHub's definition changes (+ yours)
    health: pl.DataFrame = field(default_factory=pl.DataFrame)  # users-1-day status of every day of the period
    retention: tuple[str, ...] = ()  # history only this cache holds, or that GitHub will delete
    api_hosts: tuple[str, ...] = ()  # the API hosts the scope's reports were fetched from (GHE.com: data residency)
    parameters: dict[str, Any] = field(default_factory=dict)
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    _missing: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ the period
    @property
    def k_min(self) -> int:
        return self.audience.k_min

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def complete_days(self) -> int:
        return int((self.health["status"] == "complete").sum()) if self.health.height else 0

    @property
    def preliminary(self) -> bool:
        return self.complete_days < MIN_DAYS_FINAL

    @property
    def data_through(self) -> dt.date | None:
        if not self.health.height:
            return None
        newest: dt.date | None = self.health.filter(pl.col("status") == "complete")["day"].max()  # type: ignore[assignment]
        return newest

    def events_for(self, *measures: str) -> pl.DataFrame:
        """Events to draw on a time chart of ``measures``: the user's own, and every definition change in the
        register that affects any of them within the period (always drawn, labelled as GitHub's; an entry that
        affects several measures once)."""
        github = github_changes.affecting(self.register, *measures, start=self.start, end=self.end)
        marks = github_changes.as_events(github).filter(pl.col("day").is_between(self.start, self.end))
        return pl.concat([self.events, marks])

    # ------------------------------------------------------------------ data, read once
    def frame(
        self,
        table: str,
        *,
        lookback_days: int = 0,
        all_scopes: bool = False,
        columns: Iterable[str] | None = None,
    ) -> pl.DataFrame:
        """A processed table for this report's scope and period, collected once and cached (snapshots: the whole
        table for the scope; ``all_scopes``: every scope, e.g. an enterprise's organizations' team lists).

        ``lookback_days`` widens the start (27 for 28-day distinct counts on the period's first day); ``columns``
        reads only those the cache has (a cache built before GitHub added a field lacks its column, and the
        measures treat a missing column as not reported). A table the cache lacks is an empty frame of its columns, noted for :meth:`not_fetched`
        and the data notes.
        """
        dated = table not in SNAPSHOT_TABLES
        start = self.start - dt.timedelta(days=lookback_days) if dated else None
        return self.frame_between(table, start, self.end if dated else None, all_scopes=all_scopes, columns=columns)

    def frame_between(
        self,
        table: str,
        start: dt.date | None,
        end: dt.date | None,
        *,
        all_scopes: bool = False,
        columns: Iterable[str] | None = None,
    ) -> pl.DataFrame:
        """A table over another window (the previous period, whole months), collected once and cached."""
        cols = tuple(columns) if columns is not None else None
        key = ("frame", table, start, end, all_scopes, cols)
        if key not in self._cache:
            self._cache[key] = self.scan_between(table, start, end, all_scopes=all_scopes, columns=cols).collect()
        frame: pl.DataFrame = self._cache[key]
        return frame

    def scan(self, table: str, *, lookback_days: int = 0, columns: Iterable[str] | None = None) -> pl.LazyFrame:
        """A processed table for this report's scope and period as a lazy query, for a section that only
        aggregates it (the feature and model breakdowns are several rows per user-day: a 100,000-seat quarter is
        over 20 M rows). Projected like :meth:`frame`; not cached — collect each aggregate once (:meth:`memo`)."""
        dated = table not in SNAPSHOT_TABLES
        start = self.start - dt.timedelta(days=lookback_days) if dated else None
        return self.scan_between(table, start, self.end if dated else None, columns=columns)

    def scan_between(
        self,
        table: str,
        start: dt.date | None,
        end: dt.date | None,
        *,
        all_scopes: bool = False,
        columns: Iterable[str] | None = None,
    ) -> pl.LazyFrame:
        """:meth:`scan` over another window. A table the cache lacks is an empty frame of its columns (noted for
        the data notes); ``columns`` keeps those the cache has."""
        scope = None if all_scopes else self.scope
        try:
            version = self.version_of(table)
            lazy = read.scan(
                self.data_dir, table, scope=scope, start=start, end=end, version=version, opened=self._opened(table)
            )
        except NotInCache:
            if table not in EMPTY_TABLES:
                msg = f"{table} is not in the cache under {self.data_dir}: fetch and build first"
                raise ConfigError(msg) from None
            self._missing[table] = FETCHED_BY[table]
            lazy = pl.LazyFrame(schema=EMPTY_TABLES[table])
        if columns is not None:
            names = set(lazy.collect_schema().names())
            lazy = lazy.select(c for c in columns if c in names)
        return lazy

    def version_of(self, table: str) -> int | None:
        """The Delta version of ``table`` this report reads, fixed at its first read: every section sees the same
        data while a build commits new versions, and the data notes name it (``tables_read``)."""
        if table == "billing_usage":  # a view: the versions of the tables it is made of are recorded
            for part in ("billing_ai_credit", "billing_usage_csv"):
                self.version_of(part)
            return None
        versions: dict[str, int | None] = self._cache.setdefault("versions", {})
        if table not in versions:
            opened = lake.open_table(self.data_dir, table)
            self._cache.setdefault("opened", {})[table] = opened
            versions[table] = None if opened is None else opened.version()
        return versions[table]

    def _opened(self, table: str) -> Any:
        """The ``DeltaTable`` of :meth:`version_of`'s version, opened once per report (on an object store each
        opening reads the table's log again)."""
        opened: dict[str, Any] = self._cache.get("opened", {})
        return opened.get(table)

    @property
    def tables_read(self) -> dict[str, int]:
        """``{table: Delta version}`` of every table this report has read (time travel: ``read.scan(..., version=)``
        reads it again as it was)."""
        versions: dict[str, int | None] = self._cache.get("versions", {})
        return {t: v for t, v in sorted(versions.items()) if v is not None}

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per report (a derived frame several sections share, e.g. daily activity)."""
        if ("memo", key) not in self._cache:
            self._cache["memo", key] = compute()
        value: T = self._cache["memo", key]
        return value

    def method_note(self, note: str) -> None:
        """Say how a figure was estimated in the data notes (with the caveats), once: the estimator's name and
        fit statistics are not for a leader's section text, but every audience can look them up."""
        notes: list[str] = self.memo("methods", list)
        if note not in notes:
            notes.append(note)

    def fetched(self, table: str) -> bool:
        """Whether the cache holds ``table`` with rows for this scope (team lists: for any scope)."""
        key = ("fetched", table)
        if key not in self._cache:
            scope = None if table in ANY_SCOPE_TABLES else self.scope
            try:
                version = self.version_of(table)
                lazy = read.scan(self.data_dir, table, scope=scope, version=version, opened=self._opened(table))
                self._cache[key] = lazy.head(1).collect().height > 0
            except NotInCache:
                self._cache[key] = False
        answer: bool = self._cache[key]
        return answer

    def not_fetched(self, *tables: str) -> str:
        """A sentence naming the tables among ``tables`` the cache lacks for this scope and the fetch that fills
        them; empty when all were fetched."""
        missing = [t for t in tables if not self.fetched(t)]
        if not missing:
            return ""
        self._missing.update({t: FETCHED_BY.get(t, t) for t in missing})
        families = ",".join(dict.fromkeys(FETCHED_BY.get(t, t) for t in missing))
        return (
            f"Not fetched for {self.scope}: {', '.join(missing)} — `copilot-usage fetch {self.scope_flag} --reports "
            f"{families}` fills this section."
        )

    @property
    def scope_flag(self) -> str:
        """``--enterprise SLUG`` or ``--org NAME``: how the CLI names this scope."""
        kind, slug = self.scope.split(":", 1)
        return f"--{'enterprise' if kind == 'enterprise' else 'org'} {slug}"

    # ------------------------------------------------------------------ what is shown
    def title_block(self) -> Title:
        """The title block (shown first; the PDF's and workbook's title)."""
        through = self.data_through
        return Title(
            {
                "title": self.title,
                "scope": self.scope,
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "days": self.days,
                "data_through": None if through is None else through.isoformat(),
                "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "audience": self.audience.name,
                "preliminary": self.preliminary,
                "complete_days": self.complete_days,
            }
        )

    def notes(self, *, compact: bool = False) -> Notes:
        """The data-notes appendix: data health, what the cache lacks, prices, history, corrections, caveats,
        definition changes in the period, provenance, and the report-wide part of ``summary.json``; ``compact``
        shows only health, prices and provenance (a one-page report: its sources carry the rest)."""
        counts = self.health.group_by("status").len().sort("status") if self.health.height else pl.DataFrame()
        health = ", ".join(f"{s}: {n}" for s, n in counts.iter_rows()) or "no data"
        not_complete = (
            self.health.filter(pl.col("status") != "complete").select("day", "status")
            if self.health.height
            else pl.DataFrame(schema={"day": pl.Date, "status": pl.String})
        )
        listed = ", ".join(f"{d} ({s})" for d, s in not_complete.head(12).iter_rows())
        more = f" and {not_complete.height - 12} more" if not_complete.height > 12 else ""
        fingerprint = data_fingerprint(self.data_dir)
        params = {k: v for k, v in self.parameters.items() if "token" not in k.lower()}
        late = status.side_table(self.data_dir, "late_corrections", scope=self.scope, start=self.start, end=self.end)
        return Notes(
            period=f"{self.start} → {self.end}",
            health=health,
            not_complete=listed + more,
            not_in_cache=tuple(f"{t} (`--reports {f}`)" for t, f in sorted(self._missing.items())),
            prices=self.prices.sentence(data_resident=any(pricing.data_resident_host(h) for h in self.api_hosts)),
            history=self.retention,
            corrections=tuple(status.correction_notes(self.data_dir, scope=self.scope, start=self.start, end=self.end)),
            caveats=(*(c.format(credit=self.prices.credit) for c in CAVEATS), *self.memo("methods", list)),
            definition_changes=tuple(github_changes.notes(self.register, start=self.start, end=self.end)),
            kit_version=__version__,
            data_fingerprint=fingerprint,
            parameters=json.dumps(params, default=str),
            compact=compact,
            tables_read=", ".join(f"{t} v{v}" for t, v in self.tables_read.items()),
            summary={
                "scope": self.scope,
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "audience": self.audience.name,
                "preliminary": self.preliminary,
                "complete_days": self.complete_days,
                "data_fingerprint": fingerprint,
                "tables_read": self.tables_read,
                "kit_version": __version__,
                "not_fetched": sorted(self._missing),
                "prices": html.plain(self.prices.__dict__),
                "late_corrections": late.height,
                "definition_changes": [
                    d.isoformat()
                    for d in github_changes.in_period(self.register, start=self.start, end=self.end)["day"].to_list()
                ],
            },
        )

    def show(self, *items: Any) -> None:
        """Display sections, notes or the title block (:func:`copilot_usage.report.display.show`)."""
        from .display import show

        for item in items:
            show(self, item)


def data_fingerprint(data_dir: Path | str) -> str:
    """Short hash of the processed manifest: the same data gives the same fingerprint."""
    manifest = tables.processed(data_dir) / "_manifest.json"
    if not manifest.exists():
        return "none"
    return hashlib.sha256(manifest.read_bytes()).hexdigest()[:12]


def api_hosts(health: pl.DataFrame) -> tuple[str, ...]:
    """The API hosts a scope's reports were fetched from, from ``data_health`` (a cache built before the kit
    recorded them, and imported files, have none)."""
    if "api_host" not in health.columns:
        return ()
    return tuple(sorted(health["api_host"].drop_nulls().unique().to_list()))


def _prices(parameters: dict[str, Any]) -> pricing.Prices:
    """The prices given as notebook parameters (``credit_price``, ``seat_price_business``,
    ``seat_price_enterprise``, ``promotional``, ``included_business``, ``included_enterprise``); every other price
    is :class:`pricing.Prices`' default."""
    names = {
        "credit_price": "credit",
        "seat_price_business": "seat_business",
        "seat_price_enterprise": "seat_enterprise",
        "promotional": "promotional",
        "included_business": "included_business",
        "included_enterprise": "included_enterprise",
    }
    return pricing.Prices(**{field: parameters[p] for p, field in names.items() if p in parameters})


def open_report(title: str, **parameters: Any) -> Report:
    """The :class:`Report` of a notebook's parameters (see :func:`make_report`), its title block shown."""
    r = make_report(title, **parameters)
    r.show(r.title_block())
    return r


def make_report(
    title: str,
    *,
    data_dir: str | Path = "",
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
    """The :class:`Report` of a notebook's parameters, without displaying anything.

    ``data_dir`` empty → ``$COPILOT_USAGE_DATA`` or the kit's sample (:func:`~copilot_usage.storage.datadir.find_data_dir`).
    ``start``/``end`` empty → the last ``default_days`` days up to the newest complete day of the scope.
    ``definitions``: a JSON file of your own definition-change entries, added to GitHub's register. Price
    parameters (``credit_price``, ``seat_price_*``, ``promotional``) set :attr:`Report.prices`.
    """
    who = Audience(audience, k_min, pseudonymize)
    data_path = (
        objstore.as_data_dir(data_dir) if data_dir and objstore.is_url(str(data_dir)) else find_data_dir(data_dir)
    )
    try:
        health_all = read.scan(data_path, "data_health", scope=scope).collect()
    except NotInCache:
        msg = f"no processed data under {data_path}: run `copilot-usage fetch` and `copilot-usage build` first"
        raise ConfigError(msg) from None
    users = health_all.filter((pl.col("report") == "users-1-day") & (pl.col("status") == "complete"))
    newest: dt.date | None = users["day"].max()  # type: ignore[assignment]
    first: dt.date | None = users["day"].min()  # type: ignore[assignment]
    if end:
        end_d = dt.date.fromisoformat(end)
    elif newest is not None:
        end_d = newest
    else:
        msg = f"no complete users-1-day data for scope {scope!r} under {data_path}; fetch and build first"
        raise ConfigError(msg)
    start_d = dt.date.fromisoformat(start) if start else end_d - dt.timedelta(days=default_days - 1)
    if not start and first is not None and first > start_d:
        start_d = first
    today = dt.datetime.now(dt.UTC).date()
    given = {
        "data_dir": str(data_dir),
        "scope": scope,
        "start": start,
        "end": end,
        "audience": audience,
        "k_min": k_min,
        "pseudonymize": pseudonymize,
        "events": events or [],
        **({"definitions": definitions} if definitions else {}),
        **parameters,
    }
    r = Report(
        title,
        data_path,
        scope,
        start_d,
        end_d,
        audience=who,
        prices=_prices(parameters),
        events=charts.events_frame(events),
        register=github_changes.register(definitions or None),
        health=health.health(data_path, scope=scope, start=start_d, end=end_d),
        retention=tuple(status.retention_notes(status.retention_frame(health_all, today=today), today=today)),
        api_hosts=api_hosts(health_all),
        parameters=given,
    )
    return r
