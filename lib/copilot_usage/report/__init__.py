"""The report layer: the context of one report run, section values, the HTML view, audience rules, and one
module of section functions per report notebook (named after it)."""

from __future__ import annotations

from .context import Report, make_report, open_report
from .privacy import Audience, protect, pseudonyms
from .section import Chart, Notes, Paragraph, Section, Table, Tile, Tiles, Title, section

__all__ = [
    "Audience",
    "Chart",
    "Notes",
    "Paragraph",
    "Report",
    "Section",
    "Table",
    "Tile",
    "Tiles",
    "Title",
    "make_report",
    "open_report",
    "protect",
    "pseudonyms",
    "section",
]
