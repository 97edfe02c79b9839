"""The analyst's entry point: ``cache = copilot_usage.Cache()`` — the cache's scopes and tables, lazy reads that
never mix scopes by accident, the data behind every report section by name, and the questions analysts ask
first (top users, each user's main IDE and model, idle seats and their cost, a period's forecast, teams by day).

A thin layer over :func:`copilot_usage.cache.read.scan` and the report modules: the same numbers the reports show.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, NotInCache
from .storage.datadir import find_data_dir

if TYPE_CHECKING:  # the heavy modules are imported when first used: ``import copilot_usage`` stays quick
    import altair as alt
    import polars as pl

    from .analysis import metrics
    from .analysis.pricing import Prices
    from .report.charts import StaticChart
    from .report.context import Report
    from .report.section import Section, Tile

Day = str | dt.date | None
NOTEBOOKS = Path(__file__).parent / "notebooks"  # the report notebooks shipped with the kit


def report_names() -> tuple[str, ...]:
    """The reports :meth:`Cache.report` builds: one per report notebook the kit ships (``trends``, ``spend``, …)."""
    return tuple(
        p.stem for p in sorted(NOTEBOOKS.glob("*.ipynb")) if importlib.util.find_spec(f"copilot_usage.report.{p.stem}")
    )


def _day(value: Day) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


class Cache:
    """A processed cache (the folder holding ``processed/``): ``Cache()`` finds it from ``$COPILOT_USAGE_DATA`` or
    the kit's sample; ``Cache("path/to/data")`` names it (a relative path must exist from the working directory).

    Every read is a lazy polars query (``.collect()`` it). A cache of several scopes (an enterprise and its
    organizations) counts a user once per scope: pass ``scope=`` to every read of a per-scope table, or the read
    raises naming the scopes.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir: Path = find_data_dir(data_dir)
        """The cache folder, absolute."""

    def __repr__(self) -> str:
        return f"Cache({str(self.data_dir)!r})"

    # ------------------------------------------------------------------ what the cache holds
    @functools.cached_property
    def scopes(self) -> tuple[str, ...]:
        """The scopes fetched into this cache, e.g. ``("enterprise:octo-sim", "org:octo-sim-eng")``."""
        import polars as pl

        from .cache import read

        for table in ("data_health", "user_day"):
            try:
                found = read.scan(self.data_dir, table).select(pl.col("scope").unique()).collect()
            except NotInCache:
                continue
            return tuple(sorted(found["scope"].drop_nulls().to_list()))
        return ()

    @functools.cached_property
    def tables(self) -> tuple[str, ...]:
        """The tables this cache holds, in the kit's order (``user_day``, ``seats``, …); read one with :meth:`scan`."""
        from .cache import read, tables

        held = []
        for table in tables.TABLES:
            try:
                read.scan(self.data_dir, table)
            except NotInCache:
                continue
            held.append(table)
        return tuple(held)

    def scan(self, table: str, *, scope: str | None = None, start: Day = None, end: Day = None) -> pl.LazyFrame:
        """``table`` as a lazy query: one scope's rows, days ``start``…``end`` inclusive (ISO strings or dates;
        monthly tables: the months they touch). ``scope`` may be left out when the cache holds one scope or the
        table has no scope column."""
        import polars as pl

        from .cache import read

        lazy = read.scan(self.data_dir, table, start=start, end=end)
        if "scope" not in lazy.collect_schema().names():
            return lazy
        return lazy.filter(pl.col("scope") == self._scope(scope, table))

    def _scope(self, scope: str | None, what: str) -> str:
        """``scope`` as given (checked against the cache), or the cache's only scope."""
        if scope is not None:
            scope = str(scope)
            if self.scopes and scope not in self.scopes:
                msg = f"scope {scope!r} is not in the cache {self.data_dir}; its scopes: {', '.join(self.scopes)}"
                raise ConfigError(msg)
            return scope
        if len(self.scopes) == 1:
            return self.scopes[0]
        if not self.scopes:
            msg = f"the cache {self.data_dir} holds no scope yet: fetch and build first"
            raise ConfigError(msg)
        msg = (
            f"{what}: the cache {self.data_dir} holds {len(self.scopes)} scopes ({', '.join(self.scopes)}), and "
            f"adding them would count users twice; pass scope= one of them"
        )
        raise ConfigError(msg)

    # ------------------------------------------------------------------ reports
    def report(self, name: str, *, scope: str | None = None, **parameters: Any) -> ReportData:
        """The report ``name`` (see :func:`report_names`) built without displaying anything; its sections'
        tables and charts' numbers by name, after the audience rules. ``parameters`` are the notebook's
        (``start``, ``end``, ``audience`` = ``"leadership"`` or ``"analyst"``, ``k_min``, prices, …)."""
        if name not in report_names():
            msg = f"no report {name!r}; reports: {', '.join(report_names())}"
            raise ConfigError(msg)
        return ReportData(name, self._context(name.replace("_", " ").capitalize(), scope, parameters))

    def _context(self, title: str, scope: str | None, parameters: dict[str, Any]) -> Report:
        from .report.context import make_report

        given: dict[str, Any] = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in parameters.items()}
        return make_report(title, data_dir=self.data_dir, scope=self._scope(scope, title), **given)

    # ------------------------------------------------------------------ questions analysts ask first
    def top_users(self, *, scope: str | None = None, start: Day = None, end: Day = None, n: int = 10) -> pl.DataFrame:
        """The ``n`` users with most AI credits: ``user_id, user_login, credits, active_days,
        credits_per_active_day, agent_days`` (unknown credits stay null and rank last)."""
        from .analysis import metrics

        return metrics.top_users(self.scan("user_day", scope=scope, start=start, end=end), n=n)

    def main_ide_and_model(self, *, scope: str | None = None, start: Day = None, end: Day = None) -> pl.DataFrame:
        """Each user's most-used IDE (by code-generation events) and model (by interactions): ``user_id,
        user_login, main_ide, main_model``; null where the user has no such rows."""
        import polars as pl

        from .analysis import value

        scope = self._scope(scope, "main_ide_and_model")
        users = (
            self.scan("user_day", scope=scope, start=start, end=end)
            .group_by("user_id")
            .agg(pl.col("user_login").sort_by("day").last())
        )
        ide = value.dominant(
            self.scan("user_ide_day", scope=scope, start=start, end=end),
            key="user_id",
            by="ide",
            measure="code_generation_activity_count",
        )
        model = value.dominant(
            self.scan("user_model_feature_day", scope=scope, start=start, end=end),
            key="user_id",
            by="model",
            measure="user_initiated_interaction_count",
        )
        return (
            users.join(ide.lazy(), on="user_id", how="left")
            .join(model.lazy(), on="user_id", how="left")
            .select("user_id", "user_login", main_ide="dominant_ide", main_model="dominant_model")
            .sort("user_login")
            .collect()
        )

    def idle_seats(
        self,
        *,
        scope: str | None = None,
        as_of: Day = None,
        inactive_days: int = 30,
        prices: Prices | None = None,
    ) -> pl.DataFrame:
        """Every seat holder of the newest roster with ``status`` (never used, inactive ``inactive_days``+ days,
        pending cancellation, active), ``reassignable`` and ``monthly_cost`` at ``prices`` (default: GitHub's list
        prices). ``as_of``: the day inactivity is counted to (default: the roster's snapshot day)."""
        import polars as pl

        from .analysis import spend
        from .analysis.pricing import Prices

        seats = self.scan("seats", scope=scope)
        prices = prices or Prices()
        day = _day(as_of) or seats.select(pl.col("snapshot_day").max()).collect().item()
        return spend.idle_seats(
            seats,
            as_of=day,
            inactive_days=inactive_days,
            seat_price_business=prices.seat_business,
            seat_price_enterprise=prices.seat_enterprise,
        )

    def included_pool(self, month: Day, *, scope: str | None = None) -> float:
        """The included AI credits of ``month`` (any day in it): the scope's seat holders × their plan's credits
        in force that month (promotional amounts before 2026-09-01)."""
        from .analysis import metrics

        day = _day(month)
        assert day is not None
        return metrics.included_pool(self.scan("seats", scope=scope), month=day.replace(day=1))

    def forecast(
        self, start: Day, end: Day, *, scope: str | None = None, pool: float | None = None
    ) -> metrics.Forecast:
        """AI credits of the period ``start``…``end`` (past, current or future) by the kit's one forecaster, as the
        reports project them: ``to_date``, ``projected`` with its 80 % interval ``low``–``high``, and — given the
        period's included ``pool`` (see :meth:`included_pool`) — the days it runs out at P50 and P90
        (``exhausted_on``, ``exhausted_earliest``); ``daily`` is the cumulative path for a chart."""
        first, last = _day(start), _day(end)
        if first is None or last is None or last < first:
            msg = f"forecast needs a period: start {start!r} and end {end!r}, start first"
            raise ConfigError(msg)
        from .report import common

        r = self._context("Forecast", scope, {})
        return common.scope_forecast(r, first, last, pool=pool)

    def team_membership(self, *, scope: str | None = None, start: Day = None, end: Day = None) -> pl.DataFrame:
        """Which GitHub teams each active user was on, day by day: ``day, user_id, user_login, team, team_id,
        attributed_by`` (GitHub's daily user-teams rows first, then member lists; nested teams rolled up into
        their parents, so a user-day can be on several teams and team figures do not add up)."""
        from .report import attribution

        r = self._context("Teams", scope, {k: v for k, v in (("start", start), ("end", end)) if v is not None})
        logins = r.scan("user_day", columns=("day", "user_id", "user_login"))
        return (
            attribution.memberships(r)
            .lazy()
            .join(logins, on=["day", "user_id"], how="left")
            .select("day", "user_id", "user_login", team="unit", team_id="unit_id", attributed_by="attributed_by")
            .sort("day", "user_login", "team")
            .collect()
        )


class SectionData:
    """One section of a built report: its sentences, tiles, and its tables and charts' numbers by name, as the
    report's audience may see them."""

    def __init__(self, name: str, section: Section, report: Report) -> None:
        self.name = name
        """The section's name (its function in :mod:`copilot_usage.report`)."""
        self._section = section
        self._report = report

    def __repr__(self) -> str:
        return f"SectionData({self.name!r}, tables={list(self.tables)}, charts={list(self.charts)})"

    @property
    def sentences(self) -> tuple[str, ...]:
        """What the section says, in order."""
        return self._section.sentences

    @property
    def tiles(self) -> tuple[Tile, ...]:
        """Its headline tiles (label, value, change)."""
        return self._section.tiles

    @property
    def tables(self) -> tuple[str, ...]:
        """The names of its tables (``table_<n>`` for a table the report does not name)."""
        return self._section.table_names

    @property
    def charts(self) -> tuple[str, ...]:
        """The names of its charts (``chart_<n>`` for a chart the report does not name)."""
        return self._section.chart_names

    @property
    def figures(self) -> dict[str, Any]:
        """The headline figures it adds to the report's ``summary.json``."""
        return self._section.summary()

    def table(self, name: str) -> pl.DataFrame:
        """The table ``name`` as the report shows it (leadership: no logins or ids, no group under ``k_min``).
        Raises :class:`~copilot_usage.ConfigError` for a table shown to the analyst audience only."""
        frame = self._section.table(name).shown(self._report.audience)
        if frame is None:
            msg = f"table {name!r} of section {self.name!r} is for the analyst audience only: report(..., audience='analyst')"
            raise ConfigError(msg)
        return frame

    def chart(self, name: str) -> pl.DataFrame:
        """The numbers behind chart ``name``, as the report's audience may see them (empty when it has none)."""
        import polars as pl

        data = self._section.chart(name).shown(self._report.audience)
        return pl.DataFrame() if data is None else data

    def picture(self, name: str) -> StaticChart | None:
        """Chart ``name`` to display offline (static SVG); None when the section drew no chart there (no data)."""
        from .report import charts

        spec = self._section.chart(name).spec
        return None if spec is None else charts.static(spec)


class ReportData:
    """A report built for one scope and period, showing nothing: :meth:`section` computes a section on demand
    (each cache table is read once per report)."""

    def __init__(self, name: str, report: Report) -> None:
        self.name = name
        """The report's name (``trends``, ``spend``, …)."""
        self.context = report
        """The report's context (:class:`copilot_usage.report.Report`: scope, period, audience, prices)."""
        self._module: ModuleType = importlib.import_module(f"copilot_usage.report.{name}")
        self._built: dict[str, SectionData] = {}

    def __repr__(self) -> str:
        r = self.context
        return f"ReportData({self.name!r}, scope={r.scope!r}, {r.start}…{r.end}, audience={r.audience.name!r})"

    @property
    def scope(self) -> str:
        """The scope reported on."""
        return self.context.scope

    @property
    def start(self) -> dt.date:
        """The period's first day."""
        return self.context.start

    @property
    def end(self) -> dt.date:
        """The period's last day."""
        return self.context.end

    @property
    def sections(self) -> tuple[str, ...]:
        """The names of its sections, in the module's order (e.g. ``who_spends``)."""
        return tuple(name for name, _ in _section_functions(self._module))

    def section(self, name: str) -> SectionData:
        """Section ``name``, computed the first time it is asked for."""
        if name not in self._built:
            found = dict(_section_functions(self._module))
            if name not in found:
                msg = f"report {self.name!r} has no section {name!r}; its sections: {', '.join(found)}"
                raise KeyError(msg)
            self._built[name] = SectionData(name, found[name](self.context), self.context)
        return self._built[name]


def _section_functions(module: ModuleType) -> list[tuple[str, Callable[[Report], Section]]]:
    """A report module's section functions: public, ``(r) -> Section`` with every other parameter defaulted."""
    out = []
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != module.__name__:
            continue
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        if sig.return_annotation != "Section" or not params:  # the report modules use postponed annotations
            continue
        if all(p.default is not inspect.Parameter.empty for p in params[1:]):
            out.append((name, fn))
    order = {name: i for i, name in enumerate(module.__dict__)}
    return sorted(out, key=lambda item: order[item[0]])


def static(chart: alt.TopLevelMixin) -> StaticChart:
    """Any Altair chart, displayed offline as static SVG (no Vega script from a CDN, no global renderer
    switched): make ``copilot_usage.static(chart)`` a cell's last line."""
    from .report import charts

    return charts.static(chart)
