"""What a table column holds, read from its name and type: the one rule by which every output formats it.

The HTML (and so the PDF printed from it) writes a cell with :func:`show`; the workbook gives the column the
Excel number format of the same meaning (:mod:`copilot_usage.outputs.xlsx`). So a share reads ``86%`` and a change
``+106%`` wherever it is shown, a ``month`` column reads ``Nov 2026``, and a missing value is never 0. Money is
one rule per column (:func:`meanings`): a column of prices or with any amount under US$100 in cents, else whole
dollars, so one column never mixes ``$1,234`` and ``$56.78``; the workbook keeps every cent.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

import polars as pl

Kind = Literal[
    "date",
    "month",
    "datetime",
    "count",
    "share",
    "change",
    "points",
    "usd",
    "cents",
    "coefficient",
    "credits",
    "ratio",
]

# a fraction of a whole (0.86 = 86 %)
_SHARE = re.compile(r"(share|adoption|^top\d+$|_pct$|coverage)")
# a relative change (1.06 = +106 %)
_CHANGE = re.compile(r"(_change$|_growth$|^change$)")
_USD = re.compile(r"(usd|cost|price|amount)")
# a return on cost (value / cost - 1: 12.1 = +1210 %), and the swing between two of them (percentage points)
_ROI = re.compile(r"^roi(_|$)")
_COEFFICIENT = re.compile(r"^(gini|r2)")
# a per-unit price (per credit, per seat, per user): in cents whatever its size
_PER_UNIT = re.compile(r"(price|per_)")
# amounts from which whole dollars are precise enough (a column with any amount under it is shown in cents)
WHOLE_DOLLARS_FROM = 100.0


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
    if _ROI.search(key):
        return "points" if key.endswith("swing") else "change"
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


def meanings(frame: pl.DataFrame) -> list[Kind | None]:
    """Each column's meaning (:func:`kind`) for showing ``frame`` as a table: a US$ column is ``cents`` when it
    holds per-unit prices or any amount under :data:`WHOLE_DOLLARS_FROM`, else ``usd`` (whole dollars), one rule
    for the whole column."""
    out = []
    for name, dtype in frame.schema.items():
        meaning = kind(name, dtype)
        if meaning == "usd":
            small = frame.select((pl.col(name).abs() < WHOLE_DOLLARS_FROM).any()).item()
            meaning = "cents" if _PER_UNIT.search(name.lower()) or small else "usd"
        out.append(meaning)
    return out


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
        if meaning in ("usd", "cents"):
            amount = f"${abs(value):,.2f}" if meaning == "cents" else f"${abs(value):,.0f}"
            return ("-" if value < 0 and amount.strip("$0.,") else "") + amount
        if meaning == "coefficient":
            return f"{value:.2f}"
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# column names whose words alone mislead a reader: the heading says what the figure is
HEADINGS = {"list_usd": "credits at list price (US$)"}


def heading(name: str) -> str:
    """A column's heading in every output: its words with abbreviations spelt out (``billed_credits`` → ``billed
    credits``, ``target_usd`` → ``target (US$)``, ``users_over_100pct`` → ``users over 100 %``), or what the figure
    is where the words alone mislead (``list_usd`` is credits valued at list price, not money spent)."""
    return HEADINGS.get(name) or _in_words(name, _HEADING_WORDS)


# summary.json keys as a reader names them (the workbook's headline figures); a key not listed reads as its words
# with the abbreviations spelt out (:data:`_WORDS`)
LABELS = {
    "billed_gross_credits_mtd": "AI credits billed (gross), month to date",
    "billed_net_usd_mtd": "Billed beyond the included pool, month to date (US$)",
    "metrics_credits_mtd": "AI credits in the usage metrics, month to date",
    "idle_seat_cost_month": "Idle seats' cost a month (US$)",
    "pool_used_share": "Share of the included pool used",
    "included_pool": "Included AI-credit pool (credits)",
    "projected_month_credits": "AI credits projected this month",
    "projected_low": "AI credits projected this month, low (80 % band)",
    "projected_high": "AI credits projected this month, high (80 % band)",
    "projected_exhaustion_date": "Day the included pool runs out (projected)",
    "complete_days": "Complete days of data",
    "late_corrections": "Days GitHub corrected later",
    "data_fingerprint": "Data fingerprint",
    "kit_version": "Kit version",
    "not_fetched": "Reports not fetched",
    "definition_changes": "GitHub definition changes in the period",
    "top10_share": "Share of AI credits used by the top 10 % of users with credits",
    "forecast": "Forecast",
    "backtest": "backtest",
    "bias": "bias (mean error, share of actual)",
    "wape": "weighted absolute percentage error",
    "nominal": "nominal band coverage",
    "coverage": "measured band coverage",
    "origins": "backtest origins",
    "skill_vs_seasonal_naive": "skill against repeating last week",
}
_WORDS = {"mtd": "month to date", "pct": "%", "credits": "AI credits"}
_HEADING_WORDS = {"mtd": "month to date", "pct": "%"}  # a column heading: "credits" stays short


def _in_words(name: str, spelt: dict[str, str]) -> str:
    """``snake_case`` in words, abbreviations spelt out; money says so once, at the end ("usd total" → "total
    (US$)")."""
    words = name.split("_")
    text = " ".join(spelt.get(w, re.sub(r"(\d+)pct$", r"\1 %", w)) for w in words if w != "usd")
    if "usd" not in words:
        return text
    return f"{text} (US$)" if text else "US$"


def label(key: str) -> str:
    """A summary.json key (nested ones ``outer · inner``) in words: ``billed_gross_credits_mtd`` → "AI credits
    billed (gross), month to date", ``forecast · backtest · bias`` → "Forecast · backtest · bias (mean error, …)"."""
    parts = []
    for part in key.split(" · "):
        raw = part.replace(" ", "_")
        known = LABELS.get(raw)
        parts.append(known if known is not None else _in_words(raw, _WORDS))
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]
