"""Every format on a fresh machine (issue 28 item 5): WeasyPrint from the package index prints the PDF when
headless Chromium is absent, Chromium when present or asked for, and the printed data notes name the engine."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from copilot_usage.errors import EngineMissing
from copilot_usage.outputs.pdf import find_engine, write_pdf

SAMPLE = Path(__file__).parents[1] / "data" / "sample"

HTML = """<html><head><title>t</title></head><body><main><div class="cu-notes"><h2>Data notes</h2>
<p>Period 2026-11-01 → 2026-11-07.</p></div></main></body></html>"""
TITLE = {"title": "Copilot usage trends", "scope": "org:x", "start": "2026-11-01", "end": "2026-11-07"}


def _text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(HTML, encoding="utf-8")
    return path


def test_without_chromium_weasyprint_prints_and_the_notes_say_so(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_USAGE_CHROMIUM", str(tmp_path / "no-such-chromium"))  # Chromium hidden
    monkeypatch.delenv("COPILOT_USAGE_PDF_ENGINE", raising=False)
    out = write_pdf(page, tmp_path / "report.pdf", title=TITLE)
    assert out.read_bytes()[:5] == b"%PDF-"
    text = _text(out)
    assert "Data notes" in text and "printed by WeasyPrint" in text


def test_chromium_asked_for_and_missing_says_how_to_install(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_USAGE_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(EngineMissing, match="apt-get install chromium"):
        write_pdf(page, tmp_path / "report.pdf", title=TITLE, engine_choice="chromium")


@pytest.mark.skipif(find_engine() is None, reason="headless Chromium is not installed")
def test_chromium_when_present_and_the_notes_say_so(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COPILOT_USAGE_PDF_ENGINE", raising=False)
    out = write_pdf(page, tmp_path / "report.pdf", title=TITLE)
    assert "printed by Chromium" in _text(out)
    forced = write_pdf(page, tmp_path / "forced.pdf", title=TITLE, engine_choice="weasyprint")
    assert "printed by WeasyPrint" in _text(forced)


@pytest.mark.slow
def test_demo_from_an_empty_directory_writes_every_format_without_chromium(tmp_path: Path) -> None:
    """``copilot-usage demo`` run outside the repository (the packaged notebooks), Chromium hidden from the
    process: every report in all four formats (PDF by WeasyPrint), and nothing on stderr but progress."""
    import os
    import sys

    from copilot_usage.outputs.render import NOTEBOOKS

    exe = Path(sys.executable).with_name("copilot-usage")
    env = {**os.environ, "COPILOT_USAGE_CHROMIUM": str(tmp_path / "no-such-chromium")}
    env.pop("COPILOT_USAGE_PDF_ENGINE", None)
    args = [str(exe), "demo", "--users", "60", "--days", "40", "--data-dir", "D", "--out", "R"]  # small: same paths
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    reports = len(list(NOTEBOOKS.glob("*.ipynb"))) * 2  # every notebook for the enterprise and its first org
    for suffix in (".html", ".pdf", ".xlsx", ".md"):
        assert len(list((tmp_path / "R").rglob(f"*{suffix}"))) == reports, suffix
    noise = [line for line in done.stderr.splitlines() if not line.endswith(" s") or "warning" in line.lower()]
    assert not noise, noise  # only "N reports in T s"


@pytest.mark.slow
@pytest.mark.skipif(find_engine() is None, reason="headless Chromium is not installed")
def test_the_spend_pdf_breaks_headings_between_words_and_prints_only_given_parameters(tmp_path: Path) -> None:
    """Leader's read of spend p.4: the budgets table's heading printed "exhaustio / n date"; p.8: the data notes'
    parameters (every empty one as JSON) spilled onto a page of their own."""
    import re

    from click.testing import CliRunner

    from copilot_usage.cli import main

    result = CliRunner().invoke(
        main, ["render", "spend", "-p", "data_dir", str(SAMPLE), "--format", "pdf", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    [pdf] = (tmp_path / "spend").glob("*.pdf")
    text = _text(pdf)
    assert "exhaustion" in text and not re.search(r"exhaustio\s", text)
    assert '"events": []' not in text and "aliases_csv" not in text
