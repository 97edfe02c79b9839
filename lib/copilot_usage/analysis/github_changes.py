"""The register of GitHub's definition changes: dated breaks in what a measure means.

GitHub has changed what several usage-metrics numbers count since mid-2026 (server-side users, credit attribution,
Copilot-app users, agent activity counted as CLI) and ended a price promotion. A trend that crosses such a date shows
GitHub's measurement change as a change in behaviour, so every time chart draws the entries that affect its measure,
a period-over-period sentence whose two periods straddle an entry says so, and the data notes list the entries inside
the report period.

The register is one data file shipped with the kit (``github_changes.json``; each entry: ``date``, ``measures``,
``label``, ``change``, ``source`` — a GitHub changelog or docs URL — and, for a change whose effect lasts a while
rather than stepping once, ``until``: the last day it lasts). Users may add entries of their own in a JSON file
of the same format (the reports' ``definitions`` parameter); they are drawn and named as theirs, not GitHub's.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import InputError

GITHUB = "GitHub"

#: Measure names an entry may name; the reports ask by these names.
MEASURES = frozenset(
    {
        "active_users",
        "credits",
        "credits_per_active_user",
        "loc",
        "code_generation",
        "feature_mix",
        "agent",
        "cli",
        "included_credits",
    }
)

SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "day": pl.Date,
    "measures": pl.List(pl.String),
    "label": pl.String,
    "change": pl.String,
    "source": pl.String,
    "origin": pl.String,
    "until": pl.Date,
}
FIELDS = ("date", "measures", "label", "change", "source")


def _entries(raw: Any, *, where: str, origin: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        msg = f"{where}: expected a JSON list of entries ({', '.join(FIELDS)})"
        raise InputError(msg)
    out = []
    for i, entry in enumerate(raw, start=1):
        missing = [f for f in FIELDS if not isinstance(entry, dict) or entry.get(f) in (None, "", [])]
        if missing:
            msg = f"{where}: entry {i} lacks {', '.join(missing)}"
            raise InputError(msg)
        unknown = sorted(set(entry["measures"]) - MEASURES)
        if unknown:
            msg = f"{where}: entry {i} names unknown measures {unknown}; known: {sorted(MEASURES)}"
            raise InputError(msg)
        day = _date(entry["date"], where=f"{where}: entry {i} has date")
        until = _date(entry["until"], where=f"{where}: entry {i} has until") if entry.get("until") else None
        if until is not None and until < day:
            msg = f"{where}: entry {i} ends ({until}) before it starts ({day})"
            raise InputError(msg)
        out.append(
            {
                "day": day,
                "measures": [str(m) for m in entry["measures"]],
                "label": str(entry["label"]),
                "change": str(entry["change"]),
                "source": str(entry["source"]),
                "origin": origin,
                "until": until,
            }
        )
    return out


def _date(value: Any, *, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        msg = f"{where} {value!r}, not an ISO date (YYYY-MM-DD)"
        raise InputError(msg) from None


def register(extra: str | Path | None = None) -> pl.DataFrame:
    """GitHub's register, plus the entries of a user's own JSON file ``extra`` (same format), sorted by day."""
    shipped = resources.files(__package__).joinpath("github_changes.json").read_text(encoding="utf-8")
    rows = _entries(json.loads(shipped), where="github_changes.json", origin=GITHUB)
    if extra:
        path = Path(extra)
        try:
            raw = json.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            msg = f"{path}: definitions file not found"
            raise InputError(msg) from None
        except json.JSONDecodeError as exc:
            msg = f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})"
            raise InputError(msg) from None
        rows += _entries(raw, where=str(path), origin=path.name)
    return pl.DataFrame(rows, schema=SCHEMA).sort("day", "origin")


def _affects(measures: tuple[str, ...] | list[str]) -> pl.Expr:
    """An entry affects any of ``measures`` (each a known measure name)."""
    unknown = sorted(set(measures) - MEASURES)
    if unknown:
        msg = f"unknown measures {unknown}; known: {sorted(MEASURES)}"
        raise ValueError(msg)
    return pl.col("measures").list.set_intersection(pl.lit(list(measures), dtype=pl.List(pl.String))).list.len() > 0


def affecting(reg: pl.DataFrame, *measures: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Entries that affect any of ``measures`` dated within ``start``..``end`` (inclusive), or whose lasting
    effect ends there (the day after ``until``: a second step in the measure); each entry once."""
    ends = (pl.col("until") + pl.duration(days=1)).is_between(start, end).fill_null(False)
    return reg.filter(_affects(measures), pl.col("day").is_between(start, end) | ends)


def in_period(reg: pl.DataFrame, *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Every entry dated within ``start``..``end``, or whose lasting effect (``until``) reaches into it, whatever
    it affects (the data notes list them)."""
    return reg.filter(pl.col("day") <= end, pl.coalesce("until", "day") >= start)


def overlapping(reg: pl.DataFrame, measures: list[str], *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Entries affecting any of ``measures`` whose change falls in, or whose lasting effect (``until``) reaches
    into, ``start``..``end``: the period mixes two definitions (an estimate over it is biased)."""
    return reg.filter(_affects(measures), pl.col("day") <= end, pl.coalesce("until", "day") >= start)


def bearing_on(reg: pl.DataFrame, measures: list[str], *, start: dt.date, end: dt.date, what: str) -> list[str]:
    """Sentences naming the :func:`overlapping` entries as bearing on ``what`` (e.g. "these estimates")."""
    whose = {GITHUB: "GitHub's"}
    return [
        f"{whose.get(row['origin'], 'Your')} {row['day']:%Y-%m-%d} change bears on {what}"
        + (f" (it lasts until {row['until']:%Y-%m-%d})" if row["until"] is not None else "")
        + f": {row['change']} ({row['source']})"
        for row in overlapping(reg, measures, start=start, end=end).iter_rows(named=True)
    ]


def as_events(reg: pl.DataFrame) -> pl.DataFrame:
    """Entries as a chart's ``day, label, origin`` event frame, labelled with their origin; an entry whose effect
    lasts (``until``) also marks the day it ends."""
    starts = reg.select(
        "day",
        label=pl.format("{} {}: {}", pl.col("origin"), pl.col("day").dt.strftime("%m-%d"), pl.col("label")),
        origin="origin",
    )
    ends = reg.filter(pl.col("until").is_not_null()).select(
        day=pl.col("until") + pl.duration(days=1),
        label=pl.format(
            "{} {}: end of the {} change",
            pl.col("origin"),
            (pl.col("until") + pl.duration(days=1)).dt.strftime("%m-%d"),
            pl.col("day").dt.strftime("%m-%d"),
        ),
        origin="origin",
    )
    return pl.concat([starts, ends]).sort("day")


def straddling(reg: pl.DataFrame, measure: str, *, end: dt.date, days: int) -> list[str]:
    """Sentences for entries that fall between the two periods a "last ``days`` days versus the ``days`` before"
    comparison ending on ``end`` measures: the previous period starts after its first day, or the current one
    was measured differently from it. Empty when no entry affects ``measure`` there."""
    previous_start = end - dt.timedelta(days=2 * days - 1)
    return _sentences(affecting(reg, measure, start=previous_start + dt.timedelta(days=1), end=end))


def between(reg: pl.DataFrame, measures: list[str], *, first: dt.date, end: dt.date) -> list[str]:
    """Sentences for entries affecting any of ``measures`` that fall between a first period starting on ``first``
    and a latest one ending on ``end`` (e.g. the first and the latest week of a weekly share): dated after
    ``first``, up to ``end``. Each entry once, however many of the measures it affects."""
    return _sentences(affecting(reg, *measures, start=first + dt.timedelta(days=1), end=end).sort("day", "origin"))


def _sentences(hits: pl.DataFrame) -> list[str]:
    whose = {GITHUB: "GitHub's"}
    return [
        f"Part of this change may be {whose.get(row['origin'], 'your')} {row['day']:%Y-%m-%d} change: "
        f"{row['change']} ({row['source']})"
        for row in hits.iter_rows(named=True)
    ]


def notes(reg: pl.DataFrame, *, start: dt.date, end: dt.date) -> list[str]:
    """One data-notes line per entry inside the report period (or lasting into it)."""
    return [
        f"{row['origin']} {row['day']:%Y-%m-%d}"
        + (f" (lasting until {row['until']:%Y-%m-%d})" if row["until"] is not None else "")
        + f" ({', '.join(row['measures'])}): {row['change']} Source: {row['source']}"
        for row in in_period(reg, start=start, end=end).iter_rows(named=True)
    ]


def level_shifts(reg: pl.DataFrame, measure: str = "credits") -> list[dt.date]:
    """Days a change stepped ``measure`` once and for all (entries without ``until``): a forecaster treats them as
    level shifts, not trend."""
    hits = reg.filter(pl.col("measures").list.contains(measure) & pl.col("until").is_null())
    return sorted(hits["day"].to_list())
