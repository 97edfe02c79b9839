"""The report as an Excel workbook: a Summary sheet (title block, tiles, headline figures, list of tables), one
sheet per table of the report (and per chart: the numbers it draws) with typed columns and number formats, and a Notes sheet (data health, caveats,
provenance). Header rows are frozen. Written with xlsxwriter (tables through polars ``write_excel``,
https://docs.pola.rs/api/python/stable/reference/api/polars.DataFrame.write_excel.html).

Number formats follow the column: dates as dates (``month`` columns as months), integers as counts, shares and
changes as %, US$ amounts as dollars, credits as whole credits, other ratios with one decimal. Missing values are
empty cells, never 0.

Text is never a formula or a link: xlsxwriter's ``strings_to_formulas`` and ``strings_to_urls`` are off (its
``write()`` and the tables polars adds would otherwise turn ``=HYPERLINK(…)`` into a live formula), and every text
cell goes through :func:`copilot_usage.outputs.safe_text.cell` (controls escaped, a leading ``'`` before ``= + - @``) so a
CSV save of any sheet stays safe too (https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl

from . import columns, safe_text
from .record import Record, Table

COUNT = "#,##0"
CREDITS = "#,##0.0"  # GitHub reports credits to three decimals: a 12.5-credit gap must not read "13"
RATIO = "#,##0.0"
PERCENT = "0.0%"
USD = "$#,##0.00"
USD_WHOLE = "$#,##0"  # a tile shown in whole dollars ("US$1,522")
COEFFICIENT = "0.00"
DATE = "yyyy-mm-dd"
MONTH = "mmm yyyy"
DATETIME = "yyyy-mm-dd hh:mm"
_INVALID_SHEET = re.compile(r"[\[\]:*?/\\]")
# the Excel format of each column meaning (:func:`copilot_usage.outputs.columns.kind`, the rule the HTML shows by too)
FORMATS: dict[str, str] = {
    "date": DATE,
    "month": MONTH,
    "datetime": DATETIME,
    "count": COUNT,
    "share": PERCENT,
    "change": PERCENT,
    "points": PERCENT,
    "usd": USD,
    "cents": USD,
    "coefficient": COEFFICIENT,
    "credits": CREDITS,
    "ratio": RATIO,
}


def number_format(name: str, dtype: pl.DataType) -> str | None:
    """The Excel number format of a column, from its meaning (None: text, left as Excel shows it)."""
    meaning = columns.kind(name, dtype)
    return None if meaning is None else FORMATS[meaning]


def heading(column: str) -> str:
    """A column's header as the HTML and PDF show it (``billed_credits`` → ``billed credits``), as a safe cell."""
    return safe_text.cell(columns.heading(column))


def sheet_names(tables: list[Table]) -> list[str]:
    """One valid, unique sheet name (≤ 31 characters) per table: ``<section>.<table> <heading words>``, the section
    number from the heading (``## 2. What …``) or its order, cut at a word."""
    names: list[str] = []
    sections: dict[str, int] = {}
    for table in tables:
        numbered = re.match(r"^(\d+)\.\s*", table.section)
        number = numbered.group(1) if numbered else str(sections.setdefault(table.section, len(sections) + 1))
        sections.setdefault(table.section, int(number))
        index = sum(1 for t in tables[: len(names)] if t.section == table.section) + 1
        words = _INVALID_SHEET.sub(" ", table.section[numbered.end() if numbered else 0 :]).rstrip("?").split()
        name = f"{number}.{index}"
        for word in words:
            if len(name) + 1 + len(word) > 31:
                break
            name += " " + word
        names.append(name.strip("' "))
    return names


def sheet_tables(record: Record) -> list[Table]:
    """The tables that get a sheet: those with rows, less a chart's numbers already on a sheet (a chart drawn
    from the table shown beside it, or from another chart's frame)."""
    shown: list[Table] = []
    for table in record.tables:
        if table.frame.height and table.frame.width and not any(table.frame.equals(t.frame) for t in shown):
            shown.append(table)
    return shown


def excel_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists, structs) as text, text as safe cells (:func:`copilot_usage.outputs.safe_text.cell`);
    everything else unchanged."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List | pl.Array):
            out.append(safe_text.cell_expr(col.cast(pl.List(pl.String)).list.join(" – ")).alias(name))
        elif isinstance(dtype, pl.Struct):
            out.append(safe_text.cell_expr(col.struct.json_encode()).alias(name))
        elif dtype in (pl.String, pl.Categorical, pl.Enum):
            out.append(safe_text.cell_expr(col.cast(pl.String)).alias(name))
        elif dtype == pl.Null:
            out.append(col.cast(pl.String))
        else:
            out.append(col)
    return frame.select(out)


def write_xlsx(record: Record, summary: dict[str, Any], path: Path, *, html: Path | None = None) -> Path:
    """Write the workbook; returns ``path``."""
    import xlsxwriter

    shown = sheet_tables(record)
    names = sheet_names(shown)
    # no string becomes a formula, a link or a number, whichever write method polars or we call
    options = {"remove_timezone": True, "strings_to_formulas": False, "strings_to_urls": False}
    wb = xlsxwriter.Workbook(str(path), {**options, "strings_to_numbers": False})
    fmt = _Formats(wb)
    figures, records = summary_items(summary)
    record_sheets = dict(zip((n for n, _ in records), unique_names([n for n, _ in records], taken=names), strict=True))
    _summary_sheet(
        wb, fmt, record, summary, list(zip(names, shown, strict=True)), html, (figures, records, record_sheets)
    )
    for name, frame in records:
        _frame_sheet(wb, record_sheets[name], frame)
    for name, table in zip(names, shown, strict=True):
        _frame_sheet(wb, name, table.frame)
    _notes_sheet(wb, fmt, record, html)
    wb.close()
    return path


def _frame_sheet(wb: Any, name: str, frame: pl.DataFrame) -> None:
    """One typed sheet: a header row, the column formats of :func:`number_format`."""
    frame = excel_ready(frame)
    formats = {heading(c): f for c, d in frame.schema.items() if (f := number_format(c, d))}
    frame.rename(heading).write_excel(
        wb,
        name,
        column_formats=formats,  # type: ignore[arg-type]
        dtype_formats={pl.Date: DATE},
        table_style="Table Style Light 9",
        freeze_panes=(1, 0),
        autofit=True,
    )


# summary.json's prices as the Summary sheet names them, with their formats
PRICE_LABELS: dict[str, tuple[str, str | None, str]] = {
    "credit": ("Price per AI credit (US$)", USD, "GitHub's list price unless the report was given another"),
    "seat_business": ("Seat licence, Copilot Business (US$ a month)", USD, ""),
    "seat_enterprise": ("Seat licence, Copilot Enterprise (US$ a month)", USD, ""),
    "included_business": ("Included AI credits per Business licence a month", COUNT, "after the promotion"),
    "included_enterprise": ("Included AI credits per Enterprise licence a month", COUNT, "after the promotion"),
    "promotional": ("Promotional included credits until 2026-08-31", None, "3,000 / 7,000 per licence when TRUE"),
}
_SKIP = {"scope", "start", "end", "audience", "preliminary", "changes_since_last_run", "prices"}
_ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"


def summary_items(summary: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, pl.DataFrame]]]:
    """``summary.json`` as the Summary sheet shows it: scalar figures (nested ones named ``outer · inner``; a list
    of plain values as one text) and record lists (a list of mappings, or a mapping of mappings such as the
    units) as frames for sheets of their own — never a mapping's text in one cell."""
    figures: list[tuple[str, Any]] = []
    records: list[tuple[str, pl.DataFrame]] = []

    def walk(name: str, value: Any) -> None:
        if isinstance(value, dict):
            if value and all(isinstance(v, dict) for v in value.values()):
                records.append((name, _records([{"name": k, **v} for k, v in value.items()])))
                return
            for key, inner in value.items():
                walk(f"{name} · {key.replace('_', ' ')}" if name else key, inner)
        elif isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
            records.append((name, _records(list(value))))
        elif isinstance(value, list | tuple):
            shown = ("n/a" if v is None else f"{v:,.1f}" if isinstance(v, float) else str(v) for v in value)
            figures.append((name, "; ".join(shown)))
        else:
            figures.append((name, _as_date(value)))

    for key, value in sorted(summary.items()):
        if key not in _SKIP:
            walk(key, value)
    return figures, records


def _records(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows of mappings as a typed frame: nested mappings as ``outer · inner`` columns, ISO days as dates."""
    frame = pl.json_normalize(rows, separator=" · ", infer_schema_length=None)
    days = [
        c
        for c, d in frame.schema.items()
        if d == pl.String and frame[c].drop_nulls().len() and frame[c].drop_nulls().str.contains(_ISO_DAY).all()
    ]
    return frame.with_columns(pl.col(days).str.to_date()) if days else frame


def unique_names(wanted: list[str], *, taken: list[str]) -> list[str]:
    """Valid sheet names (≤ 31 characters, no ``[]:*?/\\``) for ``wanted``, unique among themselves and ``taken``."""
    used = {t.lower() for t in taken} | {"summary", "notes"}
    out = []
    for want in wanted:
        base = _INVALID_SHEET.sub(" ", want.replace("_", " ")).strip()[:31].strip() or "Figures"
        base = base[:1].upper() + base[1:]
        name, n = base, 2
        while name.lower() in used:
            name = f"{base[: 31 - len(str(n)) - 1]} {n}"
            n += 1
        used.add(name.lower())
        out.append(name)
    return out


class _Formats:
    def __init__(self, wb: Any) -> None:
        self.header = wb.add_format({"bold": True, "bg_color": "#dce6f7", "bottom": 1})
        self.block = wb.add_format({"bold": True, "font_color": "#173b7a", "top": 1})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"bold": True})
        self.by_code = {
            code: wb.add_format({"num_format": code})
            for code in (COUNT, RATIO, PERCENT, USD, USD_WHOLE, DATE, COEFFICIENT)
        }


def _figure_format(name: str, value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return COUNT
    if not isinstance(value, float):
        return None
    found = number_format(name, pl.Float64())
    if found == RATIO and re.search(r"(projected|_low$|_high$|pool)", name):  # forecast figures are credits
        return CREDITS
    return found


def _write_value(ws: Any, row: int, col: int, value: Any, fmt: _Formats, code: str | None) -> None:
    if value is None:
        ws.write_blank(row, col, None)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt.by_code.get(code or RATIO))
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt.by_code[DATE])
    else:
        _write_text(ws, row, col, str(value))


def _write_text(ws: Any, row: int, col: int, text: str, cell_format: Any = None) -> None:
    """Every text cell of the Summary and Notes sheets: a safe cell (never a formula, no control character)."""
    ws.write_string(row, col, safe_text.cell(text), cell_format)


# a tile as the report prints it: "US$1,522", "$0", "$919.60", "37,015", "22%", "+5.1%" (else it stays text)
_TILE_NUMBER = re.compile(r"(?P<sign>[-+]?)(?P<usd>US\$|\$)?(?P<n>\d[\d,]*(?:\.\d+)?)\s?(?P<pct>%)?")


def tile_number(shown: str) -> tuple[float, str] | None:
    """A tile's displayed value as a number and its Excel format (money, count, ratio or share), so the Summary
    sheet holds numbers, not text; None when the tile is words ("not this month", "3 days differ")."""
    m = _TILE_NUMBER.fullmatch(shown.strip())
    if m is None:
        return None
    value = float(m["n"].replace(",", "")) * (-1 if m["sign"] == "-" else 1)
    if m["pct"]:
        return value / 100, PERCENT
    if m["usd"]:
        return value, USD if "." in m["n"] else USD_WHOLE
    return value, COUNT if "." not in m["n"] else RATIO


def _as_date(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value)
    return value


def _summary_sheet(
    wb: Any,
    fmt: _Formats,
    record: Record,
    summary: dict[str, Any],
    tables: list[tuple[str, Table]],
    html: Path | None,
    items: tuple[list[tuple[str, Any]], list[tuple[str, pl.DataFrame]], dict[str, str]],
) -> None:
    figures, records, record_sheets = items
    ws = wb.add_worksheet("Summary")
    ws.write_row(0, 0, ["Item", "Value", "Note"], fmt.header)
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 70)
    t = record.title
    row = 1
    facts = [
        ("Report", t.get("title"), ""),
        ("Scope", t.get("scope"), ""),
        ("Period start", _as_date(t.get("start")), ""),
        ("Period end", _as_date(t.get("end")), f"{t.get('days')} days"),
        ("Data through", _as_date(t.get("data_through")), "newest complete day in the cache"),
        ("Generated", t.get("generated"), ""),
        ("Audience", t.get("audience"), ""),
        ("Preliminary", t.get("preliminary"), "fewer than 14 complete days" if t.get("preliminary") else ""),
        ("Full report", None if html is None else html.name, "the HTML beside this workbook"),
    ]
    for label, value, note in facts:
        _write_text(ws, row, 0, label)
        _write_value(ws, row, 1, value, fmt, None)
        _write_text(ws, row, 2, note)
        row += 1
    row += 1
    ws.write_row(row, 0, ["Tiles (as shown in the report)", "", "change vs previous period"], fmt.block)
    row += 1
    for tile in record.tiles:
        _write_text(ws, row, 0, tile.label)
        number = tile_number(tile.value)
        if number is None:
            _write_text(ws, row, 1, tile.value)
        else:
            _write_value(ws, row, 1, number[0], fmt, number[1])
        _write_value(ws, row, 2, tile.change, fmt, PERCENT)
        row += 1
    row += 1
    ws.write_row(row, 0, ["Prices used", "", ""], fmt.block)
    row += 1
    for name, value in (summary.get("prices") or {}).items():
        label, code, note = PRICE_LABELS.get(name, (name.replace("_", " "), None, ""))
        _write_text(ws, row, 0, label)
        _write_value(ws, row, 1, value, fmt, code)
        _write_text(ws, row, 2, note)
        row += 1
    if record.notes.get("prices"):
        _write_text(ws, row, 0, "As the report says it")
        _write_text(ws, row, 2, str(record.notes["prices"]))
        row += 1
    row += 1
    ws.write_row(row, 0, ["Headline figures", "", "key in summary.json"], fmt.block)
    row += 1
    for name, value in figures:
        _write_text(ws, row, 0, columns.label(name))
        _write_value(ws, row, 1, value, fmt, _figure_format(name.rsplit(" · ", 1)[-1].replace(" ", "_"), value))
        _write_text(ws, row, 2, f"summary.json: {name}")
        row += 1
    for name, frame in records:
        _write_text(ws, row, 0, columns.label(name))
        ws.write_url(row, 1, f"internal:'{record_sheets[name]}'!A1", string=f"{frame.height} rows: see sheet")
        row += 1
    row += 1
    ws.write_row(row, 0, ["Tables (one sheet each)", "rows", "section"], fmt.block)
    row += 1
    for name, table in tables:
        ws.write_url(row, 0, f"internal:'{name}'!A1", string=name)
        ws.write_number(row, 1, table.frame.height, fmt.by_code[COUNT])
        what = f"numbers of the chart “{table.chart}”" if table.chart else table.caption
        _write_text(ws, row, 2, table.section + (f" — {what}" if what else ""))
        row += 1
    for table in record.tables:
        if table.note:
            _write_text(ws, row, 0, "(no sheet)")
            _write_text(ws, row, 2, f"{table.section}: {table.note}")
            row += 1


def _notes_sheet(wb: Any, fmt: _Formats, record: Record, html: Path | None) -> None:
    ws = wb.add_worksheet("Notes")
    ws.write_row(0, 0, ["Topic", "Note"], fmt.header)
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 120, fmt.wrap)
    n = record.notes
    rows: list[tuple[str, str]] = [
        ("Data health", f"{n.get('period', '')}, users-1-day: {n.get('health', 'no data')}"),
        ("Days not complete", n.get("not_complete") or "none: every day is complete"),
    ]
    rows += [("Not in the cache", item) for item in n.get("not_in_cache", [])]
    rows += [("Caveat", c) for c in n.get("caveats", [])]
    rows += [("Definition change", c) for c in n.get("definition_changes", [])]
    rows += [
        ("Provenance", f"kit {n.get('kit_version', '?')} · data fingerprint {n.get('data_fingerprint', '?')}"),
        ("Parameters", str(n.get("parameters", ""))),
    ]
    if html is not None:
        rows.append(("Full report", html.name))
    for i, (topic, text) in enumerate(rows, start=1):
        _write_text(ws, i, 0, topic, fmt.bold)
        _write_text(ws, i, 1, text)
