"""What a report shows, read back from its executed notebook for the PDF, workbook and digest.

Each display of a report (:mod:`copilot_usage.report.display`: title block, tiles, sentences, tables, data notes)
carries, beside its ``text/html``, a JSON copy under a MIME type of its own (:func:`mime`). The HTML export shows only the HTML; this
module reads the JSON copies back, in order, grouped by the notebook's ``##`` section headings (a one-page report's
bold lines). Tables travel as
Arrow IPC (base64), so their column types reach the workbook unchanged; a chart's display carries the numbers
behind it the same way. Only what the report already shows is
carried: tables after the audience rules, no analyst-only table for leadership.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

KINDS = ("title", "tiles", "say", "table", "notes", "summary")
_HEADING = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)
# a one-page report's section heading: a markdown cell of one bold line (``**What did Copilot cost?**``)
_BOLD_HEADING = re.compile(r"^\*\*([^*\n]+)\*\*$")


def mime(kind: str) -> str:
    """``application/vnd.copilot-usage.<kind>+json``: the MIME type of one kind of structured display."""
    if kind not in KINDS:
        msg = f"unknown display kind {kind!r}; expected one of {KINDS}"
        raise ValueError(msg)
    return f"application/vnd.copilot-usage.{kind}+json"


def frame_payload(frame: pl.DataFrame) -> str:
    """A frame as base64 Arrow IPC (types kept: dates stay dates, integers integers, nulls null)."""
    buf = io.BytesIO()
    frame.write_ipc(buf)
    return base64.b64encode(buf.getvalue()).decode()


def payload_frame(payload: str) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(base64.b64decode(payload)))


@dataclass(frozen=True)
class Tile:
    label: str
    value: str  # as displayed
    change: float | None = None


@dataclass(frozen=True)
class Table:
    section: str  # the ``##`` heading above it ("" before the first)
    caption: str  # the prose between the heading (or previous table) and the table, first line
    frame: pl.DataFrame  # after the audience rules; empty when the report showed a note instead
    note: str = ""  # what the report said in place of an empty table
    chart: str = ""  # the chart's title when these are the numbers behind a chart


@dataclass(frozen=True)
class Section:
    heading: str
    sentences: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Record:
    """The report as shown: title block, tiles, sections (narrative and tables) and data notes."""

    title: dict[str, Any] = field(default_factory=dict)
    tiles: tuple[Tile, ...] = ()
    sections: tuple[Section, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def tile(self, label: str) -> Tile | None:
        return next((t for t in self.tiles if t.label == label), None)


def read_record(executed: Path) -> Record:
    """The structured displays of an executed report notebook, in order."""
    nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    title: dict[str, Any] = {}
    tiles: list[Tile] = []
    notes: dict[str, Any] = {}
    sections: list[tuple[str, list[str], list[Table]]] = [("", [], [])]
    caption = ""
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            headings = _HEADING.findall(source) or _BOLD_HEADING.findall(source.strip())
            if headings:
                sections.append((headings[-1], [], []))
                source = _BOLD_HEADING.sub("", _HEADING.sub("", source).strip())
            caption = next((line.strip() for line in source.strip().splitlines() if line.strip()), "")
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if mime("title") in data:
                title = data[mime("title")]
            if mime("tiles") in data:
                tiles += [Tile(t["label"], t["value"], t.get("change")) for t in data[mime("tiles")]]
            if mime("say") in data:
                sections[-1][1].extend(data[mime("say")]["sentences"])
            if mime("table") in data:
                item = data[mime("table")]
                frame = payload_frame(item["ipc"])
                sections[-1][2].append(
                    Table(sections[-1][0], caption, frame, item.get("note") or "", item.get("chart") or "")
                )
                caption = ""
            if mime("notes") in data:
                notes = data[mime("notes")]
    return Record(
        title,
        tuple(tiles),
        tuple(Section(h, tuple(s), tuple(t)) for h, s, t in sections if h or s or t),
        notes,
    )


def read_summary(executed: Path) -> dict[str, Any]:
    """The headline figures a report displayed (every ``summary`` output, merged in order): ``summary.json``."""
    nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            out.update(output.get("data", {}).get(mime("summary"), {}))
    return out


def output_stem(scope: str, start: str, end: str, audience: str = "leadership") -> str:
    """The name every output file of one report run shares: ``<scope>_<start>_<end>`` (``:`` as ``-``), with
    ``_<audience>`` unless the audience is leadership."""
    suffix = "" if audience == "leadership" else f"_{audience}"
    return f"{scope.replace(':', '-')}_{start}_{end}{suffix}"
