"""What a table column holds, read from its name and type: the one rule by which every output formats it.

The HTML (and so the PDF printed from it) writes a cell with :func:`show`; the workbook gives the column the
Excel number format of the same meaning (:mod:`copilot_usage.outputs.xlsx`). So a share reads ``86%`` and a change
``+106%`` wherever it is shown, a ``month`` column reads ``Nov 2026``, and a missing value is never 0.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

import polars as pl

Kind = Literal[
    "date", "month", "datetime", "count", "share", "change", "points", "usd", "coefficient", "credits", "ratio"
]

# a fraction of a whole (0.86 = 86 %)
_SHARE = re.compile(r"(share|adoption|^top\d+$|_pct$|coverage)")
# a relative change (1.06 = +106 %)
_CHANGE = re.compile(r"(_change$|_growth$|^change$)")
_USD = re.compile(r"(usd|cost|price|amount)")
_COEFFICIENT = re.compile(r"^(gini|r2)")


def kind(name: str, dtype: pl.DataType) -> Kind | None:
    """The meaning of column ``name`` of type ``dtype``; None for text (shown as it is)."""
    key = name.lower()
    if dtype == pl.Date:
        return "month" if key == "month" else "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype.is_integer():
        return "count"
    if not dtype.is_float():
        return None
    if _SHARE.search(key) and key.endswith("difference"):
        return "points"  # a difference of two shares: percentage points, not a relative change
    if _CHANGE.search(key):
        return "change"
    if _SHARE.search(key):
        return "share"
    if _USD.search(key):
        return "usd"
    if _COEFFICIENT.search(key):
        return "coefficient"
    if ("credits" in key and "per_" not in key) or key in ("included_pool", "difference"):
        return "credits"
    return "ratio"


def percent(value: float, *, signed: bool = False) -> str:
    """``86%`` / ``+106%``; under 1 % with one decimal (``0.4%``), so a small share is not ``0%``."""
    sign = "+" if signed else ""
    return f"{value:{sign}.0%}" if abs(value) >= 0.01 or value == 0 else f"{value:{sign}.1%}"


def show(value: Any, meaning: Kind | None = None) -> str:
    """A cell as text for the HTML and PDF: by ``meaning`` (:func:`kind`) when given, by the value's type
    otherwise; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if meaning == "month" and isinstance(value, dt.date):
        return f"{value:%b %Y}"
    if isinstance(value, float):
        if meaning == "share":
            return percent(value)
        if meaning == "change":
            return percent(value, signed=True)
        if meaning == "points":
            return f"{value * 100:+.1f} pp"
        if meaning == "usd":
            amount = f"${abs(value):,.0f}" if abs(value) >= 100 else f"${abs(value):,.2f}"
            return ("-" if value < 0 else "") + amount
        if meaning == "coefficient":
            return f"{value:.2f}"
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# column names whose words alone mislead a reader: the heading says what the figure is
HEADINGS = {"list_usd": "credits at list price usd"}


def heading(name: str) -> str:
    """A column's heading in every output: its words (``billed_credits`` → ``billed credits``), or what the
    figure is where the words alone mislead (``list_usd`` is credits valued at list price, not money spent)."""
    return HEADINGS.get(name, name.replace("_", " "))
