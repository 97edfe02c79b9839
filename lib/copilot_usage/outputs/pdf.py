"""The report as a PDF: the rendered HTML printed with a print stylesheet by headless Chromium, or by WeasyPrint.

Chromium when installed (or asked for): it draws the HTML exactly as the browser does (the same report, the same
privacy rules — the PDF is printed from the HTML and adds nothing), keeps the SVG charts as vectors and supports CSS
paged media. WeasyPrint otherwise (or asked for): it installs from the package index with the kit and needs only
the system's Pango (present on Debian/Ubuntu and macOS with Homebrew), so a fresh machine gets every format. The
printed copy's data notes end with the engine that printed it.

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

from ..errors import EngineMissing, OutputError

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
    """The print stylesheet added to the HTML (``title``: the report's title block from :mod:`outputs.record`)."""
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
/* the closing block (provenance, the engine line) in small print, kept together: at body size its last lines
   spilled onto a page of their own */
p.cu-meta:not(.cu-onepage), p.cu-engine {{ font-size: 7.5pt; line-height: 1.3; color: #555; }}
p.cu-meta:not(.cu-onepage) {{ break-inside: avoid; margin-bottom: .2em !important; }}
p.cu-engine {{ margin-top: 0 !important; }}
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
/* a heading breaks between its words (a word broken mid-way, "use rs", reads as two) unless one word alone is wider than its column */
table.cu th {{ white-space: normal; vertical-align: bottom; overflow-wrap: break-word; hyphens: manual; }}
table.cu td.n {{ white-space: nowrap; }}
/* a long unbroken name wraps anywhere, so it never pushes the number columns off the page */
table.cu td.t {{ white-space: normal; min-width: 6em; overflow-wrap: anywhere; word-break: break-word; }}
thead {{ display: table-header-group; }}
.cu-narr, .cu-tile, .cu-title, li {{ max-width: none; overflow-wrap: anywhere; }}
/* a one-page report (its compact data notes carry .cu-onepage): denser type, five tiles a row */
body:has(.cu-onepage) {{ font-size: 8.2pt; }}
body:has(.cu-onepage) .cu-tiles {{ grid-template-columns: repeat(5, minmax(0, 1fr)); gap: .3em; margin: .25em 0 .3em 0; }}
body:has(.cu-onepage) .cu-tile {{ padding: .2em .45em; }}
body:has(.cu-onepage) .cu-tile .v {{ font-size: 1.1em; }}
body:has(.cu-onepage) .cu-tile .l {{ font-size: .78em; }}
body:has(.cu-onepage) p {{ margin: .1em 0 !important; line-height: 1.25; }}
body:has(.cu-onepage) .jp-MarkdownCell {{ margin-top: .2em !important; }}
body:has(.cu-onepage) .cu-title {{ margin-bottom: .3em; }}
</style>
<title>{html.escape(head)}</title>
"""


CHOICE_ENV = "COPILOT_USAGE_PDF_ENGINE"
ENGINES = ("auto", "chromium", "weasyprint")


def _weasyprint_version() -> str | None:
    try:
        import weasyprint
    except (ImportError, OSError):  # OSError: the system's Pango is missing
        return None
    return str(weasyprint.__version__)


def _engine_note(body: str, engine: str) -> str:
    """The data notes' line saying which engine printed the PDF (added to the printed copy only)."""
    note = f'<p class="cu-engine">This PDF was printed by {html.escape(engine)}.</p>'
    return body.replace("</body>", note + "</body>", 1) if "</body>" in body else body + note


def _weasyprint(printable: str, out: Path, base: Path) -> None:
    """Print with WeasyPrint (from the package index, on the system's Pango), fetching nothing: the HTML is
    self-contained, so any other URL is refused."""
    import logging

    import weasyprint

    fetcher = getattr(weasyprint.urls, "URLFetcher", None)
    if fetcher is not None:  # WeasyPrint 66+: a fetcher object, here allowed inline data only
        no_fetch: Any = fetcher(allowed_protocols=("data",))
    else:

        def no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            if url.startswith("data:"):
                return weasyprint.default_url_fetcher(url, *args, **kwargs)
            msg = f"not fetched: {url}"
            raise ValueError(msg)

    # WeasyPrint logs each CSS rule it does not support (the print sheet serves Chromium too): not the reader's concern
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    weasyprint.HTML(string=printable, base_url=str(base), url_fetcher=no_fetch).write_pdf(out)


def write_pdf(
    html_path: Path, pdf_path: Path, *, title: dict[str, Any], paper: str = "a4", engine_choice: str | None = None
) -> Path:
    """Print ``html_path`` to ``pdf_path`` with ``engine_choice`` (``auto``: headless Chromium when installed, else
    WeasyPrint; default ``$COPILOT_USAGE_PDF_ENGINE`` or ``auto``). Raises :class:`EngineMissing` (with how to
    install one) when there is no engine, :class:`OutputError` when printing fails."""
    if paper.lower() not in PAPERS:
        msg = f"paper {paper!r} is not one of {', '.join(PAPERS)}"
        raise OutputError(msg)
    choice = (engine_choice or os.environ.get(CHOICE_ENV) or "auto").lower()
    if choice not in ENGINES:
        msg = f"PDF engine {choice!r} is not one of {', '.join(ENGINES)}"
        raise OutputError(msg)
    engine = find_engine() if choice != "weasyprint" else None
    version = _weasyprint_version() if choice != "chromium" else None
    if engine is None and version is not None:
        body = Path(html_path).read_text(encoding="utf-8")
        css = print_css(title, paper=paper)
        printable = _engine_note(
            body.replace("</head>", css + "</head>", 1) if "</head>" in body else css + body, f"WeasyPrint {version}"
        )
        with tempfile.TemporaryDirectory(prefix="copilot-usage-pdf-") as tmp:
            out = Path(tmp) / "report.pdf"
            try:
                _weasyprint(printable, out, Path(tmp))
            except Exception as exc:
                msg = f"PDF not written: WeasyPrint failed on {html_path}: {exc}"
                raise OutputError(msg) from exc
            shutil.move(str(out), pdf_path)
        return Path(pdf_path)
    if engine is None:
        where = f" ({ENGINE_ENV}={os.environ[ENGINE_ENV]!r} is not executable)" if ENGINE_ENV in os.environ else ""
        msg = (
            f"PDF not written: no headless Chromium found{where} and WeasyPrint is not usable (`pip install weasyprint`, "
            f"on the system's Pango); {INSTALL}. The other formats were written."
        )
        raise EngineMissing(msg)
    body = Path(html_path).read_text(encoding="utf-8")
    css = print_css(title, paper=paper)
    printable = body.replace("</head>", css + "</head>", 1) if "</head>" in body else css + body
    printable = _engine_note(printable, f"Chromium ({Path(engine).name})")
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
