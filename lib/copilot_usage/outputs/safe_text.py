"""Text from the tenant (team, cost-centre and budget names, logins) made safe for every output: one place.

Names are whatever an administrator typed (or whatever a host behind ``--base-url`` sent), so they may carry:

* control and bidirectional-formatting characters: a right-to-left override (U+202E) makes
  ``"\\u202eexe.tnemyap 22"`` read "22 payment.exe" (https://www.unicode.org/reports/tr9/, "Explicit Directional
  Formatting"; CVE-2021-42574). Line breaks and tabs fold to a space; every other control or bidi character is
  shown escaped as ``[U+202E]``, so a reader sees that the name holds one;
* spreadsheet formulas: a cell beginning with ``= + - @`` (or a tab or CR) runs as a formula in Excel, also after a
  CSV save (https://owasp.org/www-community/attacks/CSV_Injection): such text gets a leading ``'``;
* Markdown and HTML: a link, a remote image, a script or a heading in the digest. Every Markdown punctuation mark
  is backslash-escaped (https://spec.commonmark.org/0.31.2/#backslash-escapes) and URL schemes are defanged so
  GitHub-flavoured autolinks (https://github.github.com/gfm/#autolinks-extension-) do not fire;
* any length: display is bounded at :data:`DISPLAY_MAX` characters with "…" (the full name stays in the workbook
  cell and the HTML ``title``).

Each rule is one function on a Python string and, where the workbook needs it, the same rule as a polars
expression built from the same table.
"""

from __future__ import annotations

import re

import polars as pl

DISPLAY_MAX = 60
ELLIPSIS = "…"
# folded to one space: line and paragraph breaks, tabs (C0 and C1, and Unicode's own separators)
_SPACES = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + list(_BIDI)
# one table for both the Python and the polars form
REPLACEMENTS: dict[str, str] = {c: " " if c in _SPACES else f"[U+{ord(c):04X}]" for c in _CONTROLS}
_TRANSLATE = str.maketrans(REPLACEMENTS)
_FORMULA = re.compile(r"^([=+\-@\t\r])")  # what starts a formula in Excel, LibreOffice and Sheets (OWASP)
# a signed number as the kit writes one ("-5%", "+1,234.5"): a value, not a formula, so it keeps its sign as shown
_NUMBER = r"^[-+]?[0-9][0-9,]*(\.[0-9]+)?%?$"
# the marks that can start a link, an image, emphasis, code, HTML, an entity, a heading or a table cell
_MARKDOWN = re.compile(r"([\\`*_\[\]#|<>~&])")
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)|\b(www)\.")


def clean(text: str) -> str:
    """``text`` with line breaks and tabs as spaces and every other control or bidi character as ``[U+XXXX]``."""
    return text.translate(_TRANSLATE)


def clean_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`clean` as a polars expression on a String column."""
    return expr.str.replace_many(list(REPLACEMENTS), list(REPLACEMENTS.values()))


def shorten(text: str, max_len: int = DISPLAY_MAX) -> str:
    """``text`` cut to at most ``max_len`` characters, the last one "…" when cut."""
    return text if len(text) <= max_len else text[: max_len - 1].rstrip() + ELLIPSIS


def display_name(text: str, max_len: int = DISPLAY_MAX) -> str:
    """A name as every view shows it: :func:`clean`, then shortened to ``max_len`` characters with "…"."""
    return shorten(clean(text), max_len)


def cell(text: str) -> str:
    """A workbook text cell: a leading ``'`` when it would start a formula, then :func:`clean` (full length)."""
    return clean(text if re.match(_NUMBER, text) else _FORMULA.sub(r"'\1", text))


def cell_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`cell` as a polars expression on a String column (nulls stay null, the name kept)."""
    return clean_expr(
        pl.when(expr.str.contains(_NUMBER)).then(expr).otherwise(expr.str.replace(_FORMULA.pattern, "'$1"))
    )


def markdown(text: str, max_len: int | None = None) -> str:
    """``text`` as literal Markdown text: cleaned (newlines folded), optionally shortened, every Markdown and HTML
    punctuation mark backslash-escaped and URL schemes defanged (``http[:]//``, ``www[.]``), so it renders as
    the same words and never as a link, an image, raw HTML, a heading or a table cell."""
    shown = clean(text) if max_len is None else display_name(text, max_len)
    defanged = _SCHEME.sub(lambda m: f"{m.group(1)}[:]" if m.group(1) else f"{m.group(2)}[.]", shown)
    return _MARKDOWN.sub(r"\\\1", defanged)


def markdown_code(text: str) -> str:
    """``text`` as a Markdown code span (a path): cleaned; escaped text instead when it holds a backtick."""
    shown = clean(text)
    return markdown(shown) if "`" in shown else f"`{shown}`"
