"""What a report section shows, as values: sentences, tiles, charts and tables in display order, plus the
headline figures it contributes to the report's summary. Section functions build these; only
:func:`copilot_usage.report.display.show` displays them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import polars as pl

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


@dataclass(frozen=True)
class Table:
    """A small, already aggregated table. ``user_column`` is hidden or pseudonymised by audience;
    ``analyst_only`` tables are replaced by a note for leadership."""

    frame: pl.DataFrame
    user_column: str | None = None
    empty: str = "No rows."
    needs: tuple[str, ...] = ()
    analyst_only: bool = False


Part = Paragraph | Tiles | Chart | Table


@dataclass(frozen=True)
class Section:
    """One section of a report: its parts in display order and its headline ``figures`` (a dataclass or a
    mapping of plain values) for ``summary.json``."""

    parts: tuple[Part, ...] = ()
    figures: Any = None

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

    def summary(self) -> dict[str, Any]:
        """The headline figures as a plain mapping (empty when the section has none)."""
        if self.figures is None:
            return {}
        if dataclasses.is_dataclass(self.figures) and not isinstance(self.figures, type):
            return dataclasses.asdict(self.figures)
        return dict(self.figures)


def section(*parts: Part | Iterable[str] | str, figures: Any = None) -> Section:
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
    return Section(tuple(out), figures)


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
    tables_read: str = ""  # the Delta version of each table read ("user_day v12, seats v3")


@dataclass(frozen=True)
class Title:
    """The title block: title, scope, period, data freshness, audience, preliminary stamp."""

    facts: dict[str, Any]
