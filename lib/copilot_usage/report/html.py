"""The HTML view of a report, as pure functions from values to markup (the stylesheet is ``report.css``)."""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from .section import Notes, Tile


@cache
def stylesheet() -> str:
    return "<style>\n" + resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8") + "</style>\n"


def fmt_num(value: float | None, *, digits: int = 0, pct: bool = False) -> str:
    """``1,234`` / ``+18%``; missing values are ``n/a``, never zero."""
    if value is None:
        return "n/a"
    if pct:
        return f"{value:+.0%}" if abs(value) >= 0.01 else f"{value:+.1%}"
    return f"{value:,.{digits}f}"


def cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def title(meta: dict[str, Any]) -> str:
    stamp = '<span class="cu-stamp">PRELIMINARY — fewer than 14 complete days</span> ' if meta["preliminary"] else ""
    return (
        f'{stylesheet()}<div class="cu-title"><h1>{html.escape(meta["title"])}</h1>\n'
        f'<div class="cu-meta">{stamp}<b>Scope</b> {html.escape(meta["scope"])} · <b>Period</b> {meta["start"]} → '
        f"{meta['end']}\n({meta['days']} days) · <b>Data through</b> {meta['data_through'] or 'n/a'} · "
        f"<b>Generated</b> {meta['generated']}\n· <b>Audience</b> {html.escape(meta['audience'])}</div></div>"
    )


def tiles(items: tuple[Tile, ...]) -> str:
    parts = []
    for t in items:
        delta = ""
        if t.change is not None:
            cls = "d neg" if t.change < 0 else "d"
            delta = f'<div class="{cls}">{fmt_num(t.change, pct=True)} vs previous period</div>'
        parts.append(
            f'<div class="cu-tile"><div class="v">{html.escape(t.value)}</div>'
            f'<div class="l">{html.escape(t.label)}</div>{delta}</div>'
        )
    return f'<div class="cu-tiles">{"".join(parts)}</div>'


def paragraph(sentences: tuple[str, ...]) -> str:
    return f'<p class="cu-narr">{" ".join(html.escape(s) for s in sentences)}</p>'


def empty(note: str) -> str:
    return f'<div class="cu-empty">{html.escape(note)}</div>'


def table(frame: pl.DataFrame) -> str:
    """An already aggregated, small table; numeric columns are class ``n`` (right-aligned, never wrapped), the
    others class ``t`` (left-aligned, wrapped when the page is narrow)."""
    kinds = ["n" if dtype.is_numeric() else "t" for dtype in frame.dtypes]
    head = "".join(
        f'<th class="{k}">{html.escape(c.replace("_", " "))}</th>' for c, k in zip(frame.columns, kinds, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{k}">{html.escape(cell(v))}</td>' for v, k in zip(row, kinds, strict=True))
        + "</tr>"
        for row in frame.iter_rows()
    )
    return f'<table class="cu"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _items(label: str, intro: str, items: tuple[str, ...]) -> str:
    if not items:
        return ""
    listed = "".join(f"<li>{html.escape(n)}</li>" for n in items)
    return f"<p class='cu-narr'><b>{label}</b>{intro}</p><ul class='cu-narr'>{listed}</ul>"


def notes(n: Notes) -> str:
    absent = ", ".join(n.not_in_cache)
    health = f"<b>Data health ({n.period}, users-1-day):</b> {html.escape(n.health)}."
    health += f" Days not complete: {html.escape(n.not_complete)}." if n.not_complete else " Every day is complete."
    if absent:
        health += (
            f" Not in the cache, so the sections using them are empty: {html.escape(absent)}; "
            "`copilot-usage fetch` with those reports, then `copilot-usage build`, fills them."
        )
    return (
        "<h2 class='cu-notes'>Data notes</h2>"
        f"<p class='cu-narr'>{health}</p>"
        f"<p class='cu-narr'><b>Prices:</b> {html.escape(n.prices)}</p>"
        + "".join(f"<p class='cu-narr'><b>History:</b> {html.escape(h)}</p>" for h in n.history)
        + _items(
            "Corrections and quarantine",
            " (rows a newer version of a day replaced or dropped, lines not read):",
            n.corrections,
        )
        + "<ul class='cu-narr'>"
        + "".join(f"<li>{html.escape(c)}</li>" for c in n.caveats)
        + "</ul>"
        + _items(
            "Definition changes in this period",
            " (the numbers before and after are not measured the same way):",
            n.definition_changes,
        )
        + f"<p class='cu-meta'><b>Provenance</b> · kit {n.kit_version} · data fingerprint {n.data_fingerprint} · "
        f"parameters {html.escape(n.parameters)}</p>"
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
