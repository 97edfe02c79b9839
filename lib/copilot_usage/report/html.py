"""The HTML view of a report, as pure functions from values to markup (the stylesheet is ``report.css``).

Every text is escaped and passed through :mod:`copilot_usage.outputs.safe_text` (control and bidi characters shown as
``[U+XXXX]``); a table's text cells and headers show at most ``safe_text.DISPLAY_MAX`` characters, the full text
in their ``title`` attribute."""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from ..outputs import columns, safe_text
from .section import Notes, Tile


@cache
def stylesheet() -> str:
    return "<style>\n" + resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8") + "</style>\n"


def fmt_num(value: float | None, *, digits: int = 0, pct: bool = False) -> str:
    """``1,234`` / ``+18%``; missing values are ``n/a``, never zero."""
    if value is None:
        return "n/a"
    if pct:
        return columns.percent(value, signed=True)
    return f"{value:,.{digits}f}"


def fmt_usd(value: float | None, digits: int = 0) -> str:
    """``US$1,234`` (``digits`` decimals); a missing amount is ``n/a``, never zero."""
    return "n/a" if value is None else f"US${value:,.{digits}f}"


def cell(value: Any, meaning: columns.Kind | None = None) -> str:
    """A table cell's text by the column's meaning (:func:`copilot_usage.outputs.columns.kind`): shares and changes as
    percentages, months as months, US$ as whole dollars or cents (``cents``)."""
    return columns.show(value, meaning)


def text(value: str) -> str:
    """Any text of the report as HTML: control and bidi characters escaped, then HTML-escaped."""
    return html.escape(safe_text.clean(value))


def bounded(tag: str, cls: str, value: str) -> str:
    """``<tag class=cls>value</tag>`` for a name in a table or tile: at most ``safe_text.DISPLAY_MAX`` characters
    shown, the whole (cleaned) name in the ``title`` attribute when shortened."""
    shown = safe_text.display_name(value)
    full = safe_text.clean(value)
    hint = f' title="{html.escape(full)}"' if shown != full else ""
    return f'<{tag} class="{cls}"{hint}>{html.escape(shown)}</{tag}>'


def title(meta: dict[str, Any]) -> str:
    stamp = '<span class="cu-stamp">PRELIMINARY — fewer than 14 complete days</span> ' if meta["preliminary"] else ""
    return (
        f'{stylesheet()}<div class="cu-title"><h1>{text(meta["title"])}</h1>\n'
        f'<div class="cu-meta">{stamp}<b>Scope</b> {text(meta["scope"])} · <b>Period</b> {meta["start"]} → '
        f"{meta['end']}\n({meta['days']} days) · <b>Data through</b> {meta['data_through'] or 'n/a'} · "
        f"<b>Generated</b> {meta['generated']}\n· <b>Audience</b> {text(meta['audience'])}</div></div>"
    )


def tiles(items: tuple[Tile, ...]) -> str:
    parts = []
    for t in items:
        delta = ""
        if t.change is not None:
            cls = "d neg" if t.change < 0 else "d"
            delta = f'<div class="{cls}">{fmt_num(t.change, pct=True)} vs previous period</div>'
        parts.append(
            f'<div class="cu-tile">{bounded("div", "v", t.value)}<div class="l">{text(t.label)}</div>{delta}</div>'
        )
    return f'<div class="cu-tiles">{"".join(parts)}</div>'


def paragraph(sentences: tuple[str, ...]) -> str:
    return f'<p class="cu-narr">{" ".join(text(s) for s in sentences)}</p>'


def empty(note: str) -> str:
    return f'<div class="cu-empty">{text(note)}</div>'


def table(frame: pl.DataFrame) -> str:
    """An already aggregated, small table; numeric columns are class ``n`` (right-aligned, never wrapped), the
    others class ``t`` (left-aligned, wrapped when the page is narrow); text longer than the display bound is
    shortened with "…", the whole of it in the cell's ``title``."""
    kinds = ["n" if dtype.is_numeric() else "t" for dtype in frame.dtypes]
    meanings = columns.meanings(frame)  # money: one rule per column
    head = "".join(bounded("th", k, columns.heading(c)) for c, k in zip(frame.columns, kinds, strict=True))
    body = "".join(
        "<tr>" + "".join(bounded("td", k, cell(v, m)) for v, k, m in zip(row, kinds, meanings, strict=True)) + "</tr>"
        for row in frame.iter_rows()
    )
    return f'<table class="cu"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _items(label: str, intro: str, items: tuple[str, ...]) -> str:
    if not items:
        return ""
    listed = "".join(f"<li>{text(n)}</li>" for n in items)
    return f"<p class='cu-narr'><b>{label}</b>{intro}</p><ul class='cu-narr'>{listed}</ul>"


def source_link(title: str, href: str) -> str:
    """The line under a section composed from another report: its title, linked (``href`` is the kit's own
    relative path, never a name from the data)."""
    return f'<p class="cu-meta">From the <a href="{html.escape(href, quote=True)}">{text(title)}</a> report.</p>'


def notes(n: Notes) -> str:
    absent = ", ".join(n.not_in_cache)
    missing = (
        f" Not in the cache, so the parts using them are empty: {text(absent)}; `copilot-usage fetch` with those "
        "reports, then `copilot-usage build`, fills them."
        if absent
        else ""
    )
    if n.compact:
        return (
            f"<p class='cu-meta cu-onepage'><b>Data</b> {text(n.period)} · {text(n.health)}.{missing} Kit "
            f"{n.kit_version} · data fingerprint {n.data_fingerprint}. The prices used and the full data notes are in "
            "each linked report.</p>"
        )
    health = f"<b>Data health ({n.period}, users-1-day):</b> {text(n.health)}."
    health += f" Days not complete: {text(n.not_complete)}." if n.not_complete else " Every day is complete."
    if absent:
        health += (
            f" Not in the cache, so the sections using them are empty: {text(absent)}; "
            "`copilot-usage fetch` with those reports, then `copilot-usage build`, fills them."
        )
    return (
        "<h2 class='cu-notes'>Data notes</h2>"
        f"<p class='cu-narr'>{health}</p>"
        f"<p class='cu-narr'><b>Prices:</b> {text(n.prices)}</p>"
        + "".join(f"<p class='cu-narr'><b>History:</b> {text(h)}</p>" for h in n.history)
        + _items(
            "Corrections and quarantine",
            " (rows a newer version of a day replaced or dropped, lines not read):",
            n.corrections,
        )
        + "<ul class='cu-narr'>"
        + "".join(f"<li>{text(c)}</li>" for c in n.caveats)
        + "</ul>"
        + _items(
            "Definition changes in this period",
            " (the numbers before and after are not measured the same way):",
            n.definition_changes,
        )
        + f"<p class='cu-meta'><b>Provenance</b> · kit {n.kit_version} · data fingerprint {n.data_fingerprint} · "
        + (f"tables read (Delta version) {text(n.tables_read)} · " if n.tables_read else "")
        + f"parameters {text(_given(n.parameters))}</p>"
    )


def _given(parameters: str) -> str:
    """The run's parameters as ``name=value`` pairs, those left empty ("", [], {}, null) left out: the whole JSON
    object, quotes and empty values included, pushed the last lines of the notes onto a page of their own in
    the PDF. summary.json keeps every parameter."""
    try:
        values = json.loads(parameters)
    except ValueError:
        return parameters
    if not isinstance(values, dict):
        return parameters
    return ", ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in values.items() if v not in ("", [], {}, None)
    )


def notes_payload(n: Notes) -> dict[str, Any]:
    """The JSON copy of the data notes that the PDF, workbook and digest read back."""
    return {
        "period": n.period,
        "health": n.health,
        "not_complete": n.not_complete,
        "not_in_cache": list(n.not_in_cache),
        "caveats": list(n.caveats),
        "definition_changes": list(n.definition_changes),
        "history": list(n.history),
        "prices": n.prices,
        "corrections": list(n.corrections),
        "kit_version": n.kit_version,
        "data_fingerprint": n.data_fingerprint,
        "tables_read": n.tables_read,
        "parameters": n.parameters,
    }


def json_default(value: Any) -> Any:
    """Dates as ISO strings in summary payloads; anything else as its string."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def plain(mapping: dict[str, Any]) -> dict[str, Any]:
    """``mapping`` as JSON-safe values (dates → ISO strings), for a display payload."""
    out: dict[str, Any] = json.loads(json.dumps(mapping, default=json_default))
    return out
