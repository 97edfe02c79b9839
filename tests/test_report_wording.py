"""What a leader reads (issue 25, parts 6 and 8): no commands, row counts or raw field names in the leadership
report and its digest, each definition change explained once, percentages as percentages, a workbook Summary of
typed cells, digests that carry each section's answer and no local path."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from copilot_usage.analysis import github_changes
from copilot_usage.cli import main
from copilot_usage.outputs import columns
from copilot_usage.report import team_distribution as td
from copilot_usage.report.wording import PLAIN_NAMES, for_leaders, once

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data" / "sample"
REPORTS = ("trends", "spend", "team_distribution", "value_per_credit", "roi", "summary")
# estimators, fit statistics and parameter names: the analyst's and the data notes', never a leader's section text
ESTIMATOR_TERMS = (
    r"NNLS",
    r"least[- ]squares",
    r"[Rr]egress",
    r"R²",
    r"Holt",
    r"Monte Carlo",
    r"bootstrap",
    r"resampl",
    r"backtest",
    r"Student",
    r"imputation",
    r"rolling-origin",
    r"WAPE",
    r"held-out",
    r"\bk_min\b",
    r"\bscenario_\w+",
)


@pytest.fixture(scope="module")
def leadership(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One leadership render per report on the sample (HTML, workbook, digest), through the CLI."""
    out = tmp_path_factory.mktemp("reports")
    found = {}
    for name in REPORTS:
        result = CliRunner().invoke(
            main,
            [
                "render",
                name,
                *("-p", "data_dir", str(SAMPLE), "-p", "scope", "enterprise:octo-sim"),
                *("--out", str(out), "--format", "html,xlsx,md"),
            ],
        )
        assert result.exit_code == 0, result.output
        found[name] = next((out / name).glob("*.html"))
    return found


def _body(path: Path) -> str:
    """The report's text up to its data notes (which keep the operator's details)."""
    page = re.sub(r"<style>.*?</style>", "", path.read_text(), flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", page)).split("Data notes")[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_leadership_text_has_no_command_row_count_or_raw_field_name(leadership: dict, name: str) -> None:
    page = leadership[name]
    for text in (_body(page), page.with_suffix(".md").read_text()):
        assert "copilot-usage " not in text
        assert not re.search(r"Billing rows: \d", text)
        raw = [n for n in PLAIN_NAMES if re.search(rf"(?<![\w-]){n}(?![\w-])", text.replace("\\_", "_"))]
        assert raw == [], raw
        jargon = [m.group(0) for t in ESTIMATOR_TERMS for m in re.finditer(t, text.replace("\\_", "_"))]
        assert jargon == [], jargon


@pytest.mark.slow
def test_the_estimator_and_its_fit_are_in_the_data_notes(leadership: dict) -> None:
    """What a leader's section 3 no longer names is still said, once, where every audience can look it up."""
    page = re.sub(r"<style>.*?</style>", "", leadership["value_per_credit"].read_text(), flags=re.DOTALL)
    notes = html.unescape(re.sub(r"<[^>]+>", " ", page)).split("Data notes")[1]
    assert re.search(r"non-negative least-squares \(NNLS\) regression .* held-out R² 0\.\d{3}", notes)
    assert notes.count("bootstrap resamples of users") == 1


def _chart_text(path: Path) -> str:
    """The words drawn in the report's charts (static SVG, embedded as data URIs) up to its data notes."""
    page = path.read_text().split("Data notes")[0]
    svgs = [base64.b64decode(b).decode() for b in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", page)]
    return " ".join(html.unescape(t) for svg in svgs for t in re.findall(r">([^<>]+)<", svg))


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_leadership_charts_name_no_estimator(leadership: dict, name: str) -> None:
    text = _chart_text(leadership[name])
    assert text.strip() or name == "summary"  # the charts were read (the one-pager has none)
    jargon = [m.group(0) for t in ESTIMATOR_TERMS for m in re.finditer(t, text)]
    assert jargon == [], jargon


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_each_definition_change_is_explained_once(leadership: dict, name: str) -> None:
    body = _body(leadership[name])
    for change in github_changes.register()["change"].to_list():
        assert body.count(change) <= 1, change[:60]


@pytest.mark.slow
def test_percentages_in_html_tables_end_with_a_percent_sign(leadership: dict) -> None:
    checked = 0
    for page in leadership.values():
        for table in re.findall(r"<table.*?</table>", page.read_text(), flags=re.DOTALL):
            heads = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
            rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)]
            for i, head in enumerate(heads):
                meaning = columns.kind(head.replace(" ", "_"), pl.Float64())
                if meaning not in ("share", "change"):
                    continue
                cells = [html.unescape(r[i]) for r in rows if len(r) == len(heads) and r[i]]
                assert all(c.endswith("%") for c in cells), (head, cells[:5])
                checked += len(cells)
    assert checked > 10  # the sample's spend and team reports have share and adoption columns


@pytest.mark.slow
def test_workbook_summary_has_typed_cells_and_own_sheets_for_records(leadership: dict) -> None:
    book = openpyxl.load_workbook(leadership["spend"].with_suffix(".xlsx"))
    summary = book["Summary"]
    cells = [c for row in summary.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert not [c for c in cells if re.search(r"[{\[]\s*'|'\s*:\s|\{.*\}|^\[.*\]$", c)]
    labels = [row[0] for row in summary.iter_rows(values_only=True)]
    assert "Price per AI credit (US$)" in labels and "Seat licence, Copilot Business (US$ a month)" in labels
    assert {"Budgets", "Cost centres"} <= set(book.sheetnames)
    budgets = book["Budgets"]
    head = [c.value for c in budgets[1]]
    target = budgets.cell(row=2, column=head.index("target (US$)") + 1)
    assert isinstance(target.value, int | float) and "$" in target.number_format


@pytest.mark.slow
def test_digests_carry_answers_and_no_local_path(leadership: dict) -> None:
    for page in leadership.values():
        digest = page.with_suffix(".md").read_text()
        assert str(page.parent) not in digest and page.name in digest
        assert not re.search(r"\bcharts?\b", digest, flags=re.IGNORECASE)
    # the one-pager's sections (bold lines, not ## headings) each carry their answer, the lagging units named
    glance = leadership["summary"].with_suffix(".md").read_text()
    assert re.search(r"^- \*What did Copilot cost\?\* .*last closed month, cost US\$[\d,]+", glance, flags=re.MULTILINE)
    assert re.search(
        r"^- \*Where does adoption lag\?\* .*(lag in adoption: \S+/|No unit's adoption lags)", glance, re.MULTILINE
    )
    assert "From the " not in glance  # a section's link to its report is no answer
    assert "Next month (Dec 2026), total cost" in glance  # months as months, not 2026-12
    spend = leadership["spend"].with_suffix(".md").read_text()
    assert re.search(r"What will the coming months cost\?\* Total cost .*US\$[\d,]+", spend)


def test_units_that_need_support_are_named() -> None:
    support = pl.DataFrame(
        {
            "unit": ["org/Web", "org/Api", "org/Ml", "org/Ops"],
            "seated_users": [10, 8, 6, 5],
            "active_seated": [3, 4, 3, 3],
            "adoption": [0.3, 0.5, 0.5, 0.6],
            "idle_seats": [7, 4, 3, 2],
            "idle_seat_cost_month": [133.0, 76.0, 57.0, 38.0],
        }
    )

    class Seats:
        def fetched(self, table: str) -> bool:
            return True

    said = td.support_story(Seats(), support)  # type: ignore[arg-type]
    assert said[0].startswith("4 units need support: org/Web (3 of 10 seated members active, 30%); org/Api")
    assert "and 1 more" in said[0] and "16 idle seats" in said[0]


def test_leader_text_rewrites_operator_clauses() -> None:
    assert for_leaders("Billing rows: 546 (api). 91 days compared.", k_min=5) == "91 days compared."
    assert (
        for_leaders("Not fetched for x: seats — `copilot-usage fetch --org x --reports seats` fills it.", k_min=5)
        == "Not fetched for x: seats."
    )
    assert for_leaders("No team has k_min users; `code_completion` leads.", k_min=5) == (
        "No team has 5 users; code completion leads."
    )
    reg = github_changes.register()
    change, source, day = reg.row(0)[reg.columns.index("change")], reg["source"][0], reg["day"][0]
    first = f"GitHub's {day} change bears on credits: {change} ({source})"
    said: set[str] = set()
    assert once((first, first), reg, said) == (first, f"GitHub's {day} change bears on credits (explained above)")


@pytest.mark.slow
def test_each_money_column_is_whole_dollars_or_cents_throughout(leadership: dict) -> None:
    """Issue 25: one rule per US$ column (the spend PDF's p. 4 mixed ``$1,234`` and ``$56.78`` in one column)."""
    checked = 0
    for page in leadership.values():
        for table in re.findall(r"<table.*?</table>", page.read_text(), flags=re.DOTALL):
            rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)]
            rows = [r for r in rows if r]
            for cells in zip(*[r for r in rows if len(r) == len(rows[0])], strict=True) if rows else ():
                money = [html.unescape(c) for c in cells if re.fullmatch(r"-?\$[\d,]+(\.\d+)?", html.unescape(c))]
                if len(money) < 2 or len(money) < len([c for c in cells if c]):
                    continue
                assert len({"." in m for m in money}) == 1, (page.parent.name, money[:8])
                checked += 1
    assert checked > 5


def test_a_price_column_is_in_cents_and_a_total_column_in_whole_dollars() -> None:
    frame = pl.DataFrame(
        {"cost_centre": ["a", "b"], "total_usd": [12_345.4, 4_500.0], "net_usd": [1_250.0, 56.78]},
        schema_overrides={"total_usd": pl.Float64},
    ).with_columns(price_per_credit_usd=pl.lit(100.0))
    assert columns.meanings(frame) == [None, "usd", "cents", "cents"]
    assert [columns.show(v, "usd") for v in frame["total_usd"]] == ["$12,345", "$4,500"]
    assert [columns.show(v, "cents") for v in frame["net_usd"]] == ["$1,250.00", "$56.78"]
    assert columns.show(-0.001, "cents") == "$0.00" and columns.show(-250.0, "usd") == "-$250"


@pytest.mark.slow
def test_the_return_on_cost_reads_as_a_percentage_in_tables_as_in_tiles(leadership: dict) -> None:
    """Issue 25 §6 on the ROI report: tiles said "1208%", its tables "12.1" and "-1.00" for the same return."""
    page = leadership["roi"].read_text()
    found = {}
    for table in re.findall(r"<table.*?</table>", page, flags=re.DOTALL):
        heads = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table)]
        rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)]
        for i, head in enumerate(heads):
            if head in ("roi", "roi at p10", "roi at p90", "roi swing"):
                found[head] = [html.unescape(r[i]) for r in rows if len(r) == len(heads)]
    assert set(found) == {"roi", "roi at p10", "roi at p90", "roi swing"}
    assert all(re.fullmatch(r"[+-][\d,]+%", c) for h in ("roi", "roi at p10", "roi at p90") for c in found[h])
    assert all(c.endswith(" pp") for c in found["roi swing"])
