"""The report as a PDF: the rendered HTML printed by headless Chromium with a print stylesheet.

Why Chromium: it draws the HTML exactly as the browser does (the same report, the same privacy rules — the PDF is
printed from the HTML and adds nothing), keeps the SVG charts as vectors, supports CSS paged media (``@page``
size, margin boxes with page counters, ``break-*``), and is a maintained Debian package that CI already installs.
WeasyPrint would add a Python dependency with its own CSS engine and system libraries (Pango) to keep in step.

Layout: A4 or US Letter; the title block and tiles on page 1; a section heading stays with what follows it, no
chart, tile or table row is split across pages (a section flows on from the page before), charts scale to the
page width, tiles sit four to a row, wide tables get a smaller type and their text columns wrap; the data-notes
appendix starts on a new page; running head with title, scope and period; page numbers "Page n of N". Chromium is started with a throw-away profile and every host name resolving
nowhere, so printing makes no network request.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .errors import EngineMissing, OutputError

ENGINE_ENV = "COPILOT_USAGE_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MAC_APPS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
PAPERS = {"a4": "A4", "letter": "letter"}
INSTALL = (
    "install headless Chromium — Debian/Ubuntu: `sudo apt-get install chromium`; macOS: "
    "`brew install --cask chromium`; or set COPILOT_USAGE_CHROMIUM to a Chrome or Chromium executable"
)
TIMEOUT_S = 180


def find_engine() -> str | None:
    """The Chromium executable: ``$COPILOT_USAGE_CHROMIUM`` when set (a path or a command name), else the first
    of :data:`CANDIDATES` on ``PATH`` or a macOS application bundle; None when there is none."""
    configured = os.environ.get(ENGINE_ENV)
    if configured is not None:
        return shutil.which(configured)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in MAC_APPS if os.access(p, os.X_OK)), None)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def print_css(title: dict[str, Any], *, paper: str = "a4") -> str:
    """The print stylesheet added to the HTML (``title``: the report's title block from :mod:`output_record`)."""
    size = PAPERS[paper.lower()]
    head = (
        f"{title.get('title', 'Copilot report')} · {title.get('scope', '')} · {title.get('start')} → {title.get('end')}"
    )
    foot = f"Generated {title.get('generated', '')} · audience: {title.get('audience', '')}"
    return f"""<style media="print">
@page {{
  size: {size}; margin: 17mm 13mm 17mm 13mm;
  @top-left {{ content: {_css_string(head)}; font: 8pt sans-serif; color: #666; }}
  @bottom-left {{ content: {_css_string(foot)}; font: 8pt sans-serif; color: #666; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font: 8pt sans-serif; color: #666; }}
}}
@page :first {{ @top-left {{ content: none; }} }}
* {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
html, body {{ background: #fff !important; }}
body, .jp-Notebook {{ padding: 0 !important; margin: 0 !important; font-size: 10pt; }}
.jp-Cell {{ padding: 0 !important; }}  /* a cell may span pages; its charts, tiles and table rows may not */
main {{ display: flex; flex-direction: column; }}
main > .jp-Cell:has(.cu-title) {{ order: -1; }}  /* the title block first, then the notebook's introduction */
.jp-Cell:has(.cu-notes) {{ break-before: page; }}
h2 {{ break-after: avoid-page; }}
.jp-MarkdownCell {{ break-after: avoid-page; }}
img, svg, .cu-tile, .cu-tiles, .cu-title, tr, .cu-empty {{ break-inside: avoid; }}
.jp-OutputArea-output, .jp-RenderedHTMLCommon {{ overflow: visible !important; max-width: 100% !important; }}
img, svg {{ max-width: 100% !important; height: auto !important; }}  /* a chart wider than the page is scaled */
.cu-tiles {{ display: grid !important; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: .5em; }}
.cu-tile {{ min-width: 0 !important; }}
/* JupyterLab fixes table layouts: columns then overlap; let the content size them, smaller when wide */
table.cu {{ font-size: 7.5pt; width: 100%; table-layout: auto !important; }}
table.cu:has(th:nth-child(9)) {{ font-size: 6.3pt; }}
table.cu th, table.cu td {{ padding: .2em .45em !important; overflow: visible; }}
table.cu th {{ white-space: normal; vertical-align: bottom; overflow-wrap: anywhere; }}
table.cu td.n {{ white-space: nowrap; }}
/* a long unbroken name wraps anywhere, so it never pushes the number columns off the page */
table.cu td.t {{ white-space: normal; min-width: 6em; overflow-wrap: anywhere; word-break: break-word; }}
thead {{ display: table-header-group; }}
.cu-narr, .cu-tile, .cu-title, li {{ max-width: none; overflow-wrap: anywhere; }}
/* a one-page report (its compact data notes carry .cu-onepage): denser type, five tiles a row */
body:has(.cu-onepage) {{ font-size: 8.6pt; }}
body:has(.cu-onepage) .cu-tiles {{ grid-template-columns: repeat(5, minmax(0, 1fr)); gap: .3em; margin: .25em 0 .3em 0; }}
body:has(.cu-onepage) .cu-tile {{ padding: .25em .5em; }}
body:has(.cu-onepage) .cu-tile .v {{ font-size: 1.1em; }}
body:has(.cu-onepage) .cu-tile .l {{ font-size: .78em; }}
body:has(.cu-onepage) p {{ margin: .15em 0 !important; line-height: 1.3; }}
body:has(.cu-onepage) .cu-title {{ margin-bottom: .3em; }}
</style>
<title>{html.escape(head)}</title>
"""


def write_pdf(html_path: Path, pdf_path: Path, *, title: dict[str, Any], paper: str = "a4") -> Path:
    """Print ``html_path`` to ``pdf_path``. Raises :class:`EngineMissing` (with how to install Chromium) when
    there is no engine, :class:`OutputError` when printing fails."""
    if paper.lower() not in PAPERS:
        msg = f"paper {paper!r} is not one of {', '.join(PAPERS)}"
        raise OutputError(msg)
    engine = find_engine()
    if engine is None:
        where = f" ({ENGINE_ENV}={os.environ[ENGINE_ENV]!r} is not executable)" if ENGINE_ENV in os.environ else ""
        msg = f"PDF not written: no headless Chromium found{where}; {INSTALL}. The other formats were written."
        raise EngineMissing(msg)
    body = Path(html_path).read_text(encoding="utf-8")
    css = print_css(title, paper=paper)
    printable = body.replace("</head>", css + "</head>", 1) if "</head>" in body else css + body
    with tempfile.TemporaryDirectory(prefix="copilot-usage-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(printable, encoding="utf-8")
        out = Path(tmp) / "report.pdf"
        command = [
            engine,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing to fetch: the HTML is self-contained
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            *(["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),  # Chromium refuses root
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            msg = f"PDF not written: {engine} failed on {html_path}: {exc}"
            raise OutputError(msg) from exc
        if not out.exists() or out.read_bytes()[:5] != b"%PDF-":
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            msg = f"PDF not written: {engine} exited {done.returncode} on {html_path}: {tail}"
            raise OutputError(msg)
        shutil.move(str(out), pdf_path)
    return Path(pdf_path)
