"""What a leader reads (issue 25, parts 6 and 8): no commands, row counts or raw field names in the leadership
report and its digest, each definition change explained once, percentages as percentages, a workbook Summary of
typed cells, digests that carry each section's answer and no local path."""

from __future__ import annotations

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
REPORTS = ("trends", "spend", "team_distribution")


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
    target = budgets.cell(row=2, column=head.index("target usd") + 1)
    assert isinstance(target.value, int | float) and "$" in target.number_format


@pytest.mark.slow
def test_digests_carry_answers_and_no_local_path(leadership: dict) -> None:
    for page in leadership.values():
        digest = page.with_suffix(".md").read_text()
        assert str(page.parent) not in digest and page.name in digest
        assert not re.search(r"\bcharts?\b", digest, flags=re.IGNORECASE)
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
