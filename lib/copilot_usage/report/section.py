"""What a report section shows, as values: sentences, tiles, charts and tables in display order, plus the
headline figures it contributes to the report's summary. Section functions build these; only
:func:`copilot_usage.report.display.show` displays them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import altair as alt
import polars as pl

from .privacy import Audience, protect

NO_ACTIVITY = "No activity in this period for this section."


@dataclass(frozen=True)
class Tile:
    """A KPI tile: label, formatted value, change against the previous period (a fraction) or None."""

    label: str
    value: str
    change: float | None = None


@dataclass(frozen=True)
class Paragraph:
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Tiles:
    items: tuple[Tile, ...]


@dataclass(frozen=True)
class Chart:
    """A chart and the numbers behind it (audience rules are applied when shown). ``spec`` None or ``data``
    empty shows ``empty`` instead — or, when a table in ``needs`` was not fetched, which fetch fills it.
    ``user_column`` is hidden or pseudonymised by audience; None when ``data`` is already protected (a chart whose
    labels are pseudonyms must not be pseudonymised twice)."""

    spec: alt.TopLevelMixin | None
    data: pl.DataFrame | None = None
    empty: str = NO_ACTIVITY
    needs: tuple[str, ...] = ()
    user_column: str | None = "user_login"
    name: str | None = None  # how :meth:`Section.chart_data` finds it (default ``chart_<n>``)

    def shown(self, audience: Audience) -> pl.DataFrame | None:
        """The chart's numbers as ``audience`` may see them (None when it has none)."""
        return None if self.data is None else protect(self.data, audience, user_column=self.user_column)


@dataclass(frozen=True)
class Table:
    """A small, already aggregated table. ``user_column`` is hidden or pseudonymised by audience;
    ``analyst_only`` tables are replaced by a note for leadership."""

    frame: pl.DataFrame
    user_column: str | None = None
    empty: str = "No rows."
    needs: tuple[str, ...] = ()
    analyst_only: bool = False
    name: str | None = None  # how :meth:`Section.table` finds it (default ``table_<n>``)

    def shown(self, audience: Audience) -> pl.DataFrame | None:
        """The table as ``audience`` may see it; None when it is for the analyst audience only."""
        if self.analyst_only and audience.leadership:
            return None
        return protect(self.frame, audience, user_column=self.user_column)


Part = Paragraph | Tiles | Chart | Table


@dataclass(frozen=True)
class Section:
    """One section of a report: its parts in display order and its headline ``figures`` (a dataclass or a
    mapping of plain values) for ``summary.json``."""

    parts: tuple[Part, ...] = ()
    figures: Any = None
    source: str | None = None  # the report (notebook name) the figures come from, when composed from another

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(s for p in self.parts if isinstance(p, Paragraph) for s in p.sentences)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(p for p in self.parts if isinstance(p, Chart))

    @property
    def tables(self) -> tuple[Table, ...]:
        return tuple(p for p in self.parts if isinstance(p, Table))

    @property
    def tiles(self) -> tuple[Tile, ...]:
        return tuple(t for p in self.parts if isinstance(p, Tiles) for t in p.items)

    @property
    def table_names(self) -> tuple[str, ...]:
        """Each table's ``name``, ``table_<n>`` (1-based, in display order) for an unnamed one."""
        return tuple(t.name or f"table_{i}" for i, t in enumerate(self.tables, 1))

    @property
    def chart_names(self) -> tuple[str, ...]:
        """Each chart's ``name``, ``chart_<n>`` (1-based, in display order) for an unnamed one."""
        return tuple(c.name or f"chart_{i}" for i, c in enumerate(self.charts, 1))

    def table(self, name: str) -> Table:
        """The table called ``name`` (see :attr:`table_names`)."""
        return _named(self.tables, self.table_names, name, "table")

    def chart(self, name: str) -> Chart:
        """The chart called ``name`` (see :attr:`chart_names`)."""
        return _named(self.charts, self.chart_names, name, "chart")

    def summary(self) -> dict[str, Any]:
        """The headline figures as a plain mapping (empty when the section has none)."""
        if self.figures is None:
            return {}
        if dataclasses.is_dataclass(self.figures) and not isinstance(self.figures, type):
            return dataclasses.asdict(self.figures)
        return dict(self.figures)


P = TypeVar("P", Table, Chart)


def _named(parts: tuple[P, ...], names: tuple[str, ...], name: str, kind: str) -> P:
    if name not in names:
        msg = f"no {kind} {name!r} in this section; its {kind}s: {', '.join(names) or 'none'}"
        raise KeyError(msg)
    return parts[names.index(name)]


def section(*parts: Part | Iterable[str] | str, figures: Any = None, source: str | None = None) -> Section:
    """A :class:`Section` from parts in order; a string or a list of strings is a paragraph (empty strings are
    skipped, and a paragraph with no sentence left is dropped)."""
    out: list[Part] = []
    for part in parts:
        if isinstance(part, Paragraph | Tiles | Chart | Table):
            out.append(part)
            continue
        sentences = tuple(s for s in ([part] if isinstance(part, str) else part) if s)
        if sentences:
            out.append(Paragraph(sentences))
    return Section(tuple(out), figures, source)


@dataclass(frozen=True)
class Notes:
    """The closing appendix of a report: data health, caveats, provenance (every field shown and recorded)."""

    period: str
    health: str
    not_complete: str
    not_in_cache: tuple[str, ...]
    prices: str
    history: tuple[str, ...]
    corrections: tuple[str, ...]
    caveats: tuple[str, ...]
    definition_changes: tuple[str, ...]
    kit_version: str
    data_fingerprint: str
    parameters: str
    summary: dict[str, Any] = field(default_factory=dict)  # the report-wide part of summary.json
    compact: bool = False  # shown as health, prices and provenance only (a one-page report); recorded whole
    tables_read: str = ""  # the Delta version of each table read ("user_day v12, seats v3")


@dataclass(frozen=True)
class Title:
    """The title block: title, scope, period, data freshness, audience, preliminary stamp."""

    facts: dict[str, Any]
