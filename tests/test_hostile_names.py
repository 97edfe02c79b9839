"""Issue 24 §7: hostile names (teams, cost centres, budgets, logins) are safe in every output format — never a
formula or a link in the workbook, never Markdown or HTML in the digest, no bidi control anywhere, and a long name
never pushes a table's numbers off the PDF page."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import mistune
import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from copilot_usage.catalog import Scope
from copilot_usage.cli import main
from copilot_usage.outputs import columns, safe_text
from copilot_usage.outputs.digest import digest, names_a_user
from copilot_usage.outputs.pdf import find_engine, print_css
from copilot_usage.outputs.record import Record, Section, Table, Tile, read_record
from copilot_usage.outputs.xlsx import write_xlsx
from copilot_usage.report import html as report_html
from copilot_usage.simulate import payloads
from copilot_usage.simulate.tenant import HOSTILE_COST_CENTRES, HOSTILE_LOGINS, HOSTILE_NAMES, LONG_NAME, Tenant

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
TODAY = dt.date(2026, 11, 26)
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HAVE_PDF = find_engine() is not None and shutil.which("pdftotext") is not None
RLO = "\u202eexe.tnemyap 22"


def _rendered_markdown(text: str) -> str:
    return str(mistune.html(text))


def _workbook_findings(path: Path) -> dict[str, list[str]]:
    """Formula cells, external links, strings that would start a formula, strings with a bidi or control
    character; and every string (to check the names are there)."""
    found: dict[str, list[str]] = {"formula": [], "link": [], "starts": [], "bidi": [], "strings": []}
    for ws in openpyxl.load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for c in row:
                where = f"{ws.title}!{c.coordinate}"
                if c.data_type == "f":
                    found["formula"].append(where)
                if c.hyperlink is not None and c.hyperlink.target:  # the Summary's own links are internal
                    found["link"].append(where)
                if isinstance(c.value, str):
                    found["strings"].append(c.value)
                    if c.value.startswith(FORMULA_START):
                        found["starts"].append(where)
                    if BIDI.search(c.value) or CONTROL.search(c.value.replace("\n", "")):
                        found["bidi"].append(where)
    return found


# ---------------------------------------------------------------------------------------------- safe_text


def test_safe_text_escapes_controls_bounds_names_and_neutralises_formulas() -> None:
    assert safe_text.clean(RLO) == "[U+202E]exe.tnemyap 22"
    assert safe_text.clean("a\nb\r\tc\u2066d\x00e\x85f") == "a b  c[U+2066]d[U+0000]e f"
    assert safe_text.display_name("x" * 61) == "x" * 59 + "…" and len(safe_text.display_name(LONG_NAME)) == 60
    assert safe_text.display_name("short") == "short"
    for name in ('=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(1)", "\tx", "\rx"):
        assert safe_text.cell(name).startswith("'"), name
    assert safe_text.cell("Engineering") == "Engineering" and safe_text.cell(LONG_NAME) == LONG_NAME  # full length
    # a signed number the kit writes (a tile's "-5%") is a value and keeps its sign; a formula made of numbers is not
    assert [safe_text.cell(v) for v in ("-5%", "+1,234.5", "-2+3")] == ["-5%", "+1,234.5", "'-2+3"]
    frame = pl.DataFrame({"n": ["=cmd|' /C calc'!A0", RLO, "ok", None]})
    assert frame.select(safe_text.cell_expr(pl.col("n")))["n"].to_list() == [
        "'=cmd|' /C calc'!A0",
        "[U+202E]exe.tnemyap 22",
        "ok",
        None,
    ]


def test_markdown_text_is_never_a_link_an_image_html_or_a_heading() -> None:
    for name in (*HOSTILE_NAMES, "x | y", "`code`", "**bold**", "&amp;", "see www.evil.example"):
        out = _rendered_markdown(f"- {safe_text.markdown(name)}")
        assert "<a " not in out and "<img" not in out and "<script" not in out, (name, out)
        assert not re.search(r"<h\d|<code|<strong|<em", out), (name, out)
        assert "\n" not in safe_text.markdown(name)


# ---------------------------------------------------------------------------------------------- workbook


def _hostile_record() -> Record:
    names = [*HOSTILE_NAMES, *HOSTILE_LOGINS]
    frame = pl.DataFrame(
        {"unit": names, "credits": [float(i) for i in range(len(names))], "tags": [[n] for n in names]}
    )
    return Record(
        {"title": "Team report", "scope": "org:x", "start": "2026-11-01", "end": "2026-11-07", "audience": "analyst"},
        (Tile(HOSTILE_NAMES[0], "=1+1"), Tile("Top team", RLO)),
        (
            Section(
                "1. Who spends?",
                (f"{HOSTILE_NAMES[3]} used the most credits.",),
                (Table("1. Who spends?", "", frame),),
            ),
        ),
        {"caveats": ["-2+3 is a caveat", "@SUM(1)"], "health": "=1+2", "parameters": "{'scope': '=x'}"},
    )


def test_workbook_never_turns_a_name_into_a_formula_or_a_link(tmp_path: Path) -> None:
    path = write_xlsx(_hostile_record(), {"top_unit": HOSTILE_NAMES[0]}, tmp_path / "r.xlsx")
    found = _workbook_findings(path)
    assert found["formula"] == [] and found["link"] == [], found
    assert found["starts"] == [] and found["bidi"] == [], found
    strings = found["strings"]
    assert "'" + HOSTILE_NAMES[0] in strings and LONG_NAME in strings  # the full name, neutralised
    assert "[U+202E]exe.tnemyap 22" in strings and "'=2+5-simdev" in strings


# ---------------------------------------------------------------------------------------------- digest


def test_digest_escapes_every_interpolated_text_and_folds_newlines() -> None:
    record = Record(
        {"title": "[click](http://evil.example)", "scope": "org:<b>x</b>", "start": "2026-11-01", "end": "2026-11-07"},
        (Tile("![x](http://evil.example/x.png)", "<script>alert(1)</script>"),),
        tuple(
            Section(f"{i}. Payments\n# heading", (f"Team {name} used the most credits.",))
            for i, name in enumerate(HOSTILE_NAMES)
        ),
    )
    text = digest(record, report=Path("/r/`x`.html"))
    out = _rendered_markdown(text)
    assert "<a " not in out and "<img" not in out and "<script" not in out and "<b>" not in out, out
    assert not re.search(r"<h\d", out) and not BIDI.search(text), text
    assert "[U+202E]exe.tnemyap 22" in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert all(len(line) < 400 for line in text.splitlines())  # the 5,000-character name is shortened


def test_login_filter_matches_whole_logins_and_keeps_a_team_named_like_a_login() -> None:
    logins = {"simdev-00001", "=2+5-simdev", "platform"}
    assert names_a_user("simdev-00001's credits", logins)
    assert names_a_user("Top user: =2+5-simdev.", logins)  # a login of any characters is found
    assert not names_a_user("simdev-00001-fans lead", logins)  # a longer word is not that login
    assert not names_a_user("-simdev-00001- leads", {"simdev"})
    assert not names_a_user("Platform used the most credits.", logins, units={"platform"})  # the team
    assert names_a_user("Platform used the most credits.", logins)
    assert names_a_user("user-1a2b3c4d leads.", set())
    record = Record(
        {"title": "T", "scope": "org:x", "start": "2026-11-01", "end": "2026-11-07"},
        (),
        (Section("1. Who spends?", ("Platform used the most credits.",)),),
    )
    assert "Platform used the most credits." in digest(record, logins=logins, units={"platform"})


# ---------------------------------------------------------------------------------------------- HTML and PDF


def test_html_table_bounds_names_and_keeps_the_full_name_in_title() -> None:
    out = report_html.table(pl.DataFrame({"unit": [LONG_NAME, RLO, "<script>alert(1)</script>"], "credits": [1.0] * 3}))
    shown = "Long" + "g" * 55 + "…"
    assert f'<td class="t" title="{LONG_NAME}">{shown}</td>' in out
    assert '<td class="t">[U+202E]exe.tnemyap 22</td>' in out and not BIDI.search(out)
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert not BIDI.search(report_html.paragraph((f"{RLO} leads.",)) + report_html.tiles((Tile("Top", RLO),)))
    css = print_css({"title": "T"})
    assert re.search(r"td\.t \{[^}]*overflow-wrap: anywhere", css)


# ---------------------------------------------------------------------------------------------- simulator


def test_simulator_hostile_names_reach_teams_cost_centres_budgets_and_logins() -> None:
    plain = Tenant(seed=3, users=80, days=45, today=TODAY)
    t = Tenant(seed=3, users=80, days=45, today=TODAY, hostile_names=True)
    org = Scope("org", t.org_names[0])
    names = {team["name"] for team in payloads.teams(t, org)}
    assert {HOSTILE_NAMES[0], RLO, LONG_NAME} <= names
    assert [team["slug"] for team in payloads.teams(t, org)] == [team["slug"] for team in payloads.teams(plain, org)]
    centres = payloads.cost_centers(t)["costCenters"]
    assert [c["name"] for c in centres] == list(HOSTILE_COST_CENTRES)
    assert [c["id"] for c in centres] == [c["id"] for c in payloads.cost_centers(plain)["costCenters"]]
    entities = {b["budget_entity_name"] for b in payloads.budgets(t, Scope("enterprise", t.enterprise))}
    assert {HOSTILE_COST_CENTRES[0], HOSTILE_COST_CENTRES[1]} <= entities
    assert set(HOSTILE_LOGINS) <= set(t.login.tolist()) and len(set(t.login.tolist())) == t.users
    seats = payloads.seats(t, org)
    assert set(HOSTILE_LOGINS) & {s["assignee"]["login"] for s in seats}
    assert "Api" in {team["name"] for team in payloads.teams(plain, org)}  # default names unchanged
    assert "--hostile-names" in CliRunner().invoke(main, ["simulate", "serve", "--help"]).output


# ---------------------------------------------------------------------------------------------- the whole render


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Simulate with hostile names → fetch over loopback → build → render the team report (an organization:
    its teams unqualified), the spend report (the enterprise: cost centres, budgets) and the ROI report (its cost per
    cost centre and team in each period) for analysts, all formats."""
    from copilot_usage.demo import simulate_cache
    from copilot_usage.outputs.render import render

    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    scopes, summary = simulate_cache(data, seed=3, users=120, days=40, today=TODAY, hostile_names=True)
    assert not summary.failed, summary.errors
    enterprise, org = (str(s) for s in scopes)
    params = {"data_dir": str(data), "audience": "analyst"}
    return {
        "team": render(NOTEBOOKS / "team_distribution.ipynb", {**params, "scope": org}, root / "out"),
        "spend": render(NOTEBOOKS / "spend.ipynb", {**params, "scope": enterprise}, root / "out"),
        "roi": render(NOTEBOOKS / "roi.ipynb", {**params, "scope": enterprise}, root / "out"),
    }


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_hostile_names_render_safely_in_all_four_formats(hostile_reports: dict) -> None:
    team, spend, roi = hostile_reports["team"], hostile_reports["spend"], hostile_reports["roi"]
    every_string: list[str] = []
    for r in (team, spend, roi):
        found = _workbook_findings(r.outputs["xlsx"])
        assert found["formula"] == [] and found["link"] == [], found
        assert found["starts"] == [] and found["bidi"] == [], found
        every_string += found["strings"]
        md = r.outputs["md"].read_text()
        out = _rendered_markdown(md)
        assert "<a " not in out and "<img" not in out and "<script" not in out and not re.search(r"<h\d", out)
        assert not BIDI.search(md)
        page = r.html.read_text()
        assert not BIDI.search(page) and "<script>alert" not in page
        if HAVE_PDF:
            assert not BIDI.search(_pdf_text(r.outputs["pdf"]))
    # the names did reach the outputs (so the checks above checked something): teams, cost centres, logins
    assert "'" + HOSTILE_NAMES[0] in every_string and LONG_NAME in every_string
    assert "'" + HOSTILE_COST_CENTRES[1] in every_string and "'+simdev-plus" in every_string
    assert f'title="{LONG_NAME}"' in team.html.read_text()
    # the ROI report's cost per cost centre and per team, this month projected: the names neutralised there too
    rows = {
        tuple(row[:2])
        for ws in openpyxl.load_workbook(roi.outputs["xlsx"]).worksheets
        for row in ws.iter_rows(values_only=True)
    }
    projected = "November 2026 projected"
    assert {("'" + HOSTILE_COST_CENTRES[1], projected), ("[U+202E]exe.tnemyap 22", projected)} <= rows
    assert ("octo-sim-eng/[U+202E]exe.tnemyap 22", projected) in rows


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_PDF, reason="needs headless Chromium and poppler-utils (pdftotext)")
def test_a_long_team_name_keeps_the_first_tables_numbers_on_the_pdf_page(hostile_reports: dict) -> None:
    team = hostile_reports["team"]
    first = next(t for t in read_record(team.executed).tables if not t.chart and t.frame.height)
    assert first.frame["unit"].str.len_chars().max() == len(LONG_NAME)  # the long name is in it
    lines = _pdf_text(team.outputs["pdf"]).splitlines()
    numbers = first.frame.head(4).select(pl.selectors.numeric())
    whole = dict(zip(first.frame.columns, columns.meanings(first.frame), strict=True))  # money: per column
    meanings = [whole[c] for c in numbers.columns]
    for row in numbers.iter_rows():  # each row's numbers on one line of the page, in order (pdftotext -layout)
        shown = r"\s+".join(
            re.escape(report_html.cell(v, m)) for v, m in zip(row, meanings, strict=True) if v is not None
        )
        assert any(re.search(shown, line) for line in lines), row
