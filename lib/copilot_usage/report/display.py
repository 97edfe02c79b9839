"""Displaying report values in the notebook: each display carries its HTML and, beside it, a JSON copy under
the kit's own MIME type (:func:`copilot_usage.outputs.record.mime`) that the PDF, workbook, digest and
``summary.json`` read back from the executed notebook — the executed notebook is the whole record."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from IPython.display import display

from ..outputs import safe_text
from ..outputs.record import frame_payload, mime, output_stem
from . import charts, html, wording
from .section import Chart, Notes, Paragraph, Section, Table, Tiles, Title

if TYPE_CHECKING:
    from .context import Report

LEADERSHIP_ONLY_NOTE = "Per-user rankings are shown to the analyst audience only."


def _emit(markup: str, kind: str, payload: Any) -> None:
    display({"text/html": markup, mime(kind): payload}, raw=True)


def show(r: Report, item: Section | Notes | Title) -> None:
    """Display one section (its parts in order, then its figures as summary), the data notes or the title."""
    if isinstance(item, Title):
        _emit(html.title(item.facts), "title", item.facts)
    elif isinstance(item, Notes):
        _emit(html.notes(item), "notes", html.notes_payload(item))
        _emit("", "summary", html.plain(item.summary))
    else:
        said: tuple[str, ...] = ()
        for part in item.parts:
            if isinstance(part, Paragraph):
                sentences = _readable(r, part.sentences)
                if not sentences:
                    continue
                said = (*said, *sentences)  # the alt text of the next chart says all of it
                _emit(html.paragraph(sentences), "say", {"sentences": list(sentences)})
            elif isinstance(part, Tiles):
                items = part.items
                if r.audience.leadership:
                    items = tuple(
                        dataclasses.replace(t, label=wording.for_leaders(t.label, k_min=r.k_min)) for t in items
                    )
                _emit(
                    html.tiles(items),
                    "tiles",
                    [{"label": t.label, "value": t.value, "change": t.change} for t in items],
                )
            elif isinstance(part, Chart):
                _chart(r, part, said)
                said = ()
            else:
                _table(r, part)
        if item.source is not None:  # composed from another report: link to it (its output sits beside this one's)
            from .summary import SOURCES

            title = SOURCES.get(item.source, item.source)
            stem = output_stem(r.scope, r.start.isoformat(), r.end.isoformat(), r.audience.name)
            line = f"From the {title} report."
            _emit(html.source_link(title, f"../{item.source}/{stem}.html"), "say", {"sentences": [line]})
        figures = item.summary()
        if figures:
            _emit("", "summary", html.plain(figures))


def _readable(r: Report, sentences: tuple[str, ...]) -> tuple[str, ...]:
    """A paragraph as the audience reads it: each definition change explained once per report; for leadership
    no command, row count or raw field name (:mod:`.wording`). Sentences left empty are dropped."""
    sentences = wording.once(sentences, r.register, r.memo("wording.changes_said", set))
    if r.audience.leadership:
        sentences = tuple(wording.for_leaders(s, k_min=r.k_min) for s in sentences)
    return tuple(s for s in sentences if s)


def _note(r: Report, note: str) -> str:
    return wording.for_leaders(note, k_min=r.k_min) if r.audience.leadership else note


def _chart(r: Report, part: Chart, said: tuple[str, ...]) -> None:
    """A chart with its alt text (title and what the narrative before it says) and the numbers behind it; an
    explicit note instead of an empty chart."""
    if part.spec is None or (part.data is not None and part.data.height == 0):
        display({"text/html": html.empty(_note(r, r.not_fetched(*part.needs) or part.empty))}, raw=True)
        return
    # static SVG whatever renderer the kernel has on: no Vega script from a CDN, no global switched
    svg = safe_text.clean(charts.to_svg(part.spec))  # labels drawn from names: no bidi override or control
    bundle: dict[str, Any] = {"image/svg+xml": wording.plain_svg(svg) if r.audience.leadership else svg}
    title = charts.chart_title(part.spec)
    shows = " ".join(said)
    if not shows and part.data is not None:
        shows = f"{part.data.height} data points ({', '.join(c.replace('_', ' ') for c in part.data.columns[:6])})."
    shown = part.shown(r.audience)  # the chart's numbers, for the workbook (audience rules applied)
    if shown is not None:
        shown = wording.plain_frame(shown) if r.audience.leadership else shown
        bundle = {**bundle, mime("table"): {"ipc": frame_payload(shown), "note": "", "chart": title}}
    marked = charts.event_labels(part.spec)
    shows += f" Marked on the chart: {'; '.join(marked)}." if marked else ""
    alt_text = safe_text.clean(f"Chart: {title or 'untitled'}. {shows}".strip())
    alt_text = _note(r, alt_text)
    display(bundle, metadata={"image/svg+xml": {"alt": alt_text}}, raw=True)


def _table(r: Report, part: Table) -> None:
    frame = part.shown(r.audience)
    if frame is None:
        display({"text/html": html.empty(LEADERSHIP_ONLY_NOTE)}, raw=True)
        return
    if r.audience.leadership:
        frame = wording.plain_frame(frame)
    if frame.height == 0:
        note = _note(r, r.not_fetched(*part.needs) or part.empty)
        _emit(html.empty(note), "table", {"ipc": frame_payload(frame), "note": note})
        return
    _emit(html.table(frame), "table", {"ipc": frame_payload(frame), "note": ""})
