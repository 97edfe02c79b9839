"""The four outputs of a report (HTML, PDF, Excel, Markdown digest): same headline figures, PDF layout, typed
workbook, login-free digest, and a missing PDF engine that leaves the other formats written."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from copilot_usage.cli import main
from copilot_usage.errors import ConfigError
from copilot_usage.outputs.digest import digest, names_a_user
from copilot_usage.outputs.pdf import find_engine, write_pdf
from copilot_usage.outputs.record import Record, Section, Table, Tile, read_record
from copilot_usage.outputs.render import parse_formats, render, render_all
from copilot_usage.outputs.xlsx import (
    CREDITS,
    MONTH,
    PERCENT,
    USD,
    number_format,
    sheet_names,
    sheet_tables,
    summary_items,
    unique_names,
)

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
SAMPLE = ROOT / "data" / "sample"
HAVE_PDF = find_engine() is not None and shutil.which("pdftotext") is not None and shutil.which("pdfinfo") is not None
needs_pdf = pytest.mark.skipif(not HAVE_PDF, reason="needs headless Chromium and poppler-utils (pdftotext, pdfinfo)")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("reports")
    common = {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim"}
    return {
        "trends": render(NOTEBOOKS / "trends.ipynb", common, out),
        "value": render(NOTEBOOKS / "value_per_credit.ipynb", {**common, "bootstrap_iterations": 100}, out),
        "analyst": render(
            NOTEBOOKS / "trends.ipynb",
            {"data_dir": str(SAMPLE), "scope": "org:octo-sim-eng", "audience": "analyst"},
            out,
            formats="xlsx,md",
        ),
    }


def _pdf_text(path: Path, *, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def test_every_format_is_written_beside_the_html(runs: dict) -> None:
    r = runs["trends"]
    expected = {"html", "xlsx", "md"} | ({"pdf"} if HAVE_PDF else set())
    assert set(r.outputs) == expected
    for fmt, path in r.outputs.items():
        assert path == r.html.with_suffix(f".{fmt}") and path.stat().st_size > 0
    assert set(runs["analyst"].outputs) == {"html", "xlsx", "md"}  # only what was asked (HTML always)


def test_credits_total_is_the_same_in_all_four(runs: dict) -> None:
    r = runs["trends"]
    total = r.summary["credits_total"]
    shown = f"{total:,.0f}"
    assert f'<div class="v">{shown}</div><div class="l">AI credits in period' in r.html.read_text()
    assert f"- AI credits in period: **{shown}**" in r.outputs["md"].read_text()
    ws = openpyxl.load_workbook(r.outputs["xlsx"])["Summary"]
    figures = {row[0].value: row[1] for row in ws.iter_rows(min_row=2) if row[0].value}
    assert figures["AI credits total"].value == pytest.approx(total)
    assert figures["AI credits total"].number_format == CREDITS
    assert figures["AI credits in period"].value == float(shown.replace(",", ""))  # the tile, a number
    if HAVE_PDF:
        assert re.search(rf"{re.escape(shown)}\s", _pdf_text(r.outputs["pdf"], page=1))


@needs_pdf
def test_pdf_print_layout(runs: dict, tmp_path: Path) -> None:
    r = runs["trends"]
    pdf = r.outputs["pdf"]
    info = _pdfinfo(pdf)
    pages = int(info["Pages"])
    assert pages >= 3 and info["Page size"].startswith("594.96 x 841.92")  # A4
    first = _pdf_text(pdf, page=1)
    assert first.lstrip().startswith("Copilot usage trends")  # the title block first, then the introduction
    assert "AI credits in period" in first and "Active users, last 7" in first  # the label wraps
    assert f"Page 1 of {pages}" in first and f"Page {pages} of {pages}" in _pdf_text(pdf, page=pages)
    text = _pdf_text(pdf)
    notes_page = next(p for p in range(1, pages + 1) if "Data notes" in _pdf_text(pdf, page=p))
    above = [line for line in _pdf_text(pdf, page=notes_page).split("Data notes")[0].splitlines() if line.strip()]
    assert above == ["Copilot usage trends · enterprise:octo-sim · " + f"{r.summary['start']} → {r.summary['end']}"]
    assert "Provenance" in text and "simdev-" not in text  # same privacy rules as the HTML
    # charts are vectors: their axis titles are text in the PDF and no raster image is embedded
    assert "Active users (distinct)" in text and "AI credits per day" in text
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # the header lines only
    letter = write_pdf(r.html, tmp_path / "letter.pdf", title=read_record(r.executed).title, paper="letter")
    assert _pdfinfo(letter)["Page size"].startswith("612 x 792")


@needs_pdf
def test_no_chart_is_split_across_pages(runs: dict) -> None:
    """Each chart's title and its x-axis labels are on the same page (a split chart would part them)."""
    pdf = runs["trends"].outputs["pdf"]
    pages = int(_pdfinfo(pdf)["Pages"])
    for title in ("Active users: daily, 7-day and 28-day distinct", "AI credits per day"):
        on = [p for p in range(1, pages + 1) if title in _pdf_text(pdf, page=p)]
        assert len(on) == 1, (title, on)
        page = _pdf_text(pdf, page=on[0])
        assert re.search(r"Nov \d{2}", page.split(title, 1)[1]), title  # the axis below the title


def test_workbook_sheets_types_formats_and_frozen_headers(runs: dict) -> None:
    r = runs["value"]
    record = read_record(r.executed)
    tables = sheet_tables(record)
    assert {t.section for t in tables} >= {t.section for t in record.tables if t.frame.height}
    assert not any(a.frame.equals(b.frame) for i, a in enumerate(tables) for b in tables[i + 1 :])  # no twin sheets
    wb = openpyxl.load_workbook(r.outputs["xlsx"])
    names = sheet_names(tables)
    _, records = summary_items(r.summary)  # lists of records in summary.json (models, units…) have sheets of their own
    own = unique_names([n for n, _ in records], taken=names)
    assert wb.sheetnames == ["Summary", *own, *names, "Notes"]
    for name in wb.sheetnames:
        assert wb[name].freeze_panes == "A2", name
    money = next(n for n in wb.sheetnames if n.endswith("Money"))
    ws = wb[money]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, ws[2], strict=True))
    assert row["month"].is_date and row["month"].number_format == MONTH
    assert row["credits"].data_type == "n" and row["credits"].number_format == CREDITS
    assert row["credits at list price (US$)"].number_format == USD and row["covered share"].number_format == PERCENT
    assert row["days"].data_type == "n" and isinstance(row["days"].value, int)
    assert ws.max_row == next(t for t in tables if t.section.endswith("Money")).frame.height + 1
    summary = {c[0].value: c[1].value for c in wb["Summary"].iter_rows(min_row=2)}
    assert summary["Scope"] == "enterprise:octo-sim" and summary[
        "Share of AI credits used by the top 10 % of users with credits"
    ] == pytest.approx(r.summary["top10_share"])
    notes = [c.value for c in wb["Notes"]["A"]]
    assert {"Data health", "Caveat", "Provenance"} <= set(notes)
    cells = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    assert "simdev-" not in cells


def test_charts_have_alt_text_and_their_numbers_in_the_workbook(runs: dict) -> None:
    r = runs["trends"]
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', r.html.read_text())
    assert len(alts) >= 8 and all(a.startswith("Chart: ") and len(a) > 40 for a in alts), alts
    assert "Chart: Active users: daily, 7-day and 28-day distinct. On " in alts[0]  # title, then what it shows
    wb = openpyxl.load_workbook(r.outputs["xlsx"])
    ws = wb[next(n for n in wb.sheetnames if n.startswith("1.1 How many people"))]
    assert [c.value for c in ws[1]][:2] == ["day", "daily active users"] and ws["A2"].is_date  # as the HTML heads it


def test_number_formats_follow_the_column() -> None:
    assert number_format("month", pl.Date()) == MONTH
    assert number_format("adoption", pl.Float64()) == PERCENT
    assert number_format("credits_change", pl.Float64()) == PERCENT
    assert number_format("idle_seat_cost_month", pl.Float64()) == USD
    assert number_format("billed_credits", pl.Float64()) == CREDITS
    assert number_format("credits_per_active_user", pl.Float64()) == "#,##0.0"
    assert CREDITS == "#,##0.0"  # fractional credits keep one decimal (a 12.5-credit difference is not "13")
    assert number_format("users", pl.UInt32()) == "#,##0"
    assert number_format("unit", pl.String()) is None


def test_digest_never_names_a_user(runs: dict) -> None:
    analyst = runs["analyst"]
    assert "simdev-" in analyst.html.read_text()  # the analyst report itself names users
    for r in (runs["trends"], analyst):
        text = r.outputs["md"].read_text()
        assert "simdev-" not in text and not re.search(r"user-[0-9a-f]{8}", text)
        assert "Data through" in text and r.html.name in text and str(r.html.parent) not in text
        assert len(text.splitlines()) <= 30 and "|" not in text  # short, no table
    record = Record(
        {"title": "T", "scope": "org:x", "start": "2026-11-01", "end": "2026-11-07"},
        (Tile("Top user", "simdev-00001"), Tile("Credits", "1,000")),
        (
            Section("Who?", ("SimDev-00001 used the most credits. Then more.", "Everyone else used less.")),
            Section("Pseudonyms", ("user-1a2b3c4d leads.",)),
        ),
    )
    text = digest(record, logins={"simdev-00001"})
    assert "simdev" not in text.lower() and "user-1a2b3c4d" not in text
    assert "*Who?* Everyone else used less." in text and "Credits: **1,000**" in text
    assert names_a_user("simdev-00001's credits", {"simdev-00001"}) and not names_a_user("simdev team", {"sim"})


def test_missing_pdf_engine_still_writes_the_other_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_USAGE_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("COPILOT_USAGE_PDF_ENGINE", "chromium")  # asked for, and missing (WeasyPrint not a fallback)
    args = ["render", "trends", "--out", str(tmp_path), "--notebooks-dir", str(NOTEBOOKS)]
    args += ["-p", "data_dir", str(SAMPLE), "-p", "scope", "org:octo-sim-eng", "-p", "start", "2026-11-10"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output  # documented: a missing engine is a warning, not a failure
    assert "PDF not written" in result.stderr and "apt-get install chromium" in result.stderr
    written = sorted(p.suffix for p in (tmp_path / "trends").iterdir())
    assert written == [".html", ".ipynb", ".json", ".md", ".xlsx"]


def test_formats_are_checked_and_reports_yml_may_choose_them(tmp_path: Path) -> None:
    assert parse_formats(None) == ("html", "pdf", "xlsx", "md")
    assert parse_formats("md, HTML") == ("html", "md")
    with pytest.raises(ConfigError, match=r"unknown output format.*docx"):
        parse_formats("html,docx")
    config = tmp_path / "reports.yml"
    entry = {"data_dir": str(SAMPLE), "scope": "org:octo-sim-eng", "start": "2026-11-10"}
    config.write_text(yaml.safe_dump({"reports": [{"notebook": "trends", "parameters": entry, "formats": ["md"]}]}))
    [done] = render_all(config, tmp_path / "out", notebooks_dir=NOTEBOOKS)
    assert done.error is None and set(done.outputs) == {"html", "md"}
    config.write_text(yaml.safe_dump({"reports": [{"notebook": "trends", "formats": "pdf,docx"}]}))
    with pytest.raises(ConfigError, match=r"report trends: unknown output format"):
        render_all(config, tmp_path / "out", notebooks_dir=NOTEBOOKS)


def test_record_reads_tables_with_their_types(runs: dict) -> None:
    record = read_record(runs["value"].executed)
    money = next(t for t in record.tables if t.section.endswith("Money"))
    assert money.frame.schema["month"] == pl.Date and money.frame.schema["days"].is_integer()
    assert record.title["scope"] == "enterprise:octo-sim" and record.notes["caveats"]
    assert next(t.label for t in record.tiles) == "AI credits in period"
    assert json.dumps(record.notes)  # plain JSON all the way
    assert all(isinstance(t, Table) for t in record.tables)


@needs_pdf
def test_print_css_keeps_charts_whole_and_starts_the_appendix_on_a_page(tmp_path: Path) -> None:
    """Six charts of 420 px on A4 (about 990 px a page): without the print rules the third would be cut."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="420"><text x="10" y="20">TOP-{n}</text>'
        '<rect y="30" width="600" height="360" fill="#ccd"/><text x="10" y="410">BOTTOM-{n}</text></svg>'
    )
    cells = "".join(
        f'<div class="jp-Cell"><div class="jp-RenderedSVG jp-OutputArea-output">{svg.format(n=n)}</div></div>'
        for n in range(6)
    )
    notes = "<div class='jp-Cell'><h2 class='cu-notes'>Data notes</h2><p>health</p></div>"
    page = tmp_path / "synthetic.html"
    page.write_text(f"<html><head></head><body><main>{cells}{notes}</main></body></html>")
    pdf = write_pdf(page, tmp_path / "synthetic.pdf", title={"title": "T", "scope": "org:x"})
    pages = int(_pdfinfo(pdf)["Pages"])
    texts = [_pdf_text(pdf, page=p) for p in range(1, pages + 1)]
    for n in range(6):
        [where] = [i for i, t in enumerate(texts) if f"TOP-{n}" in t]
        assert f"BOTTOM-{n}" in texts[where], f"chart {n} split across pages"
    [notes_at] = [i for i, t in enumerate(texts) if "Data notes" in t]
    assert notes_at > max(i for i, t in enumerate(texts) if "BOTTOM-5" in t)


def test_cli_rejects_an_unknown_format_before_running_anything(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["render", "trends", "--format", "html,docx", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "valid formats: html, pdf, xlsx, md" in result.output
    assert not list(tmp_path.iterdir())
    result = CliRunner().invoke(main, ["render", "trends", "--paper", "a3"])
    assert result.exit_code == 2 and "'a4', 'letter'" in result.output


def test_table_cells_say_number_or_text_for_the_print_layout() -> None:
    """The PDF keeps numbers on one line and wraps text (JupyterLab's fixed table layout made wide tables'
    numbers run together on A4): each cell carries its column's kind."""
    from copilot_usage.outputs.pdf import print_css
    from copilot_usage.report import html as report_html

    out = report_html.table(pl.DataFrame({"cause": ["late correction"], "credits": [12.5]}))
    assert '<th class="t">cause</th><th class="n">credits</th>' in out
    assert '<td class="t">late correction</td><td class="n">12.5</td>' in out
    css = print_css({"title": "T"})
    assert "table-layout: auto !important" in css and "td.n { white-space: nowrap; }" in css
    assert "grid-template-columns: repeat(4" in css  # tiles four to a row on page 1


@needs_pdf
def test_a_wide_tables_headings_break_between_words_and_it_fits_the_page(tmp_path: Path) -> None:
    """Issue 25 (reading the demo's spend PDF, p. 4): the budgets table's headings broke inside words ("use rs
    ove r 80pct", "differen ce"); a heading now breaks between its words, and the table still fits A4."""
    from copilot_usage.report import html as report_html

    names = [
        "budget_scope",
        "entity",
        "target_usd",
        "consumed_usd",
        "projected_usd",
        "projected_low_usd",
        "projected_high_usd",
        "projected_exhaustion_date",
        "blocks",
        "users_over_80pct",
        "users_over_100pct",
        "difference",
        "attribution",
    ]
    frame = pl.DataFrame(
        {
            n: ([1234.56, 7.5] if n.endswith("usd") else [12, 3] if n.startswith("users") else ["org", "x"])
            for n in names
        }
    ).with_columns(difference=pl.lit(12.5))
    page = tmp_path / "table.html"
    page.write_text(f"<html><head></head><body>{report_html.stylesheet()}{report_html.table(frame)}</body></html>")
    pdf = write_pdf(page, tmp_path / "table.pdf", title={"title": "t"})
    words = set(_pdf_text(pdf).split())
    assert {"users", "over", "consumed", "projected", "difference", "attribution", "budget", "target"} <= words
    assert "$1,234.56" in words and "$7.50" in words  # every column on the page, money in cents throughout


def test_summary_tiles_are_numbers_and_headline_figures_are_named_in_words(tmp_path: Path) -> None:
    """Leader's read of the workbooks: Summary tiles were text ("US$1,522") and headline figures raw summary.json
    keys ("billed_gross_credits_mtd", "forecast · backtest · bias"); numbers are numbers with a format, figures
    are labelled in words with the key beside them."""
    from copilot_usage.outputs.record import Record, Tile
    from copilot_usage.outputs.xlsx import USD_WHOLE, write_xlsx

    tiles = (
        Tile("Total cost October 2026", "US$1,522"),
        Tile("Billed net this month (US$)", "$919.60"),
        Tile("Credits this month (metrics)", "37,015"),
        Tile("Included pool used", "22%"),
        Tile("Pool runs out", "not this month"),
    )
    summary = {
        "billed_gross_credits_mtd": 39455.5,
        "forecast": {"model": "recent_profile", "backtest": {"bias": -0.04}},
    }
    path = write_xlsx(Record(title={"title": "Spend"}, tiles=tiles), summary, tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(path)["Summary"]
    cells = {r[0].value: r[1] for r in ws.iter_rows(min_row=2) if r[0].value}
    total = cells["Total cost October 2026"]
    assert (total.value, total.number_format) == (1522, USD_WHOLE)
    assert cells["Billed net this month (US$)"].value == pytest.approx(919.60)
    assert (cells["Credits this month (metrics)"].value, cells["Included pool used"].value) == (37015, 0.22)
    assert cells["Included pool used"].number_format == PERCENT
    assert cells["Pool runs out"].value == "not this month"
    assert "billed_gross_credits_mtd" not in cells and "forecast · backtest · bias" not in cells
    assert cells["AI credits billed (gross), month to date"].value == pytest.approx(39455.5)
    assert cells["Forecast · backtest · bias (mean error, share of actual)"].value == pytest.approx(-0.04)
