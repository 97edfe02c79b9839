"""The report as a short Markdown digest for an email or a chat message.

Aggregate-only whatever the report's audience: the title line, the data freshness, the headline tiles, one
sentence per section and the path of the full report — never a table, never a login. As a second line of defence
any tile or sentence naming a login found in the cache (or a keyed pseudonym ``user-1a2b3c4d``) is left out
(logins compared case-insensitively as whole words; a team sharing a login's name drops that sentence too).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from . import store
from .errors import NotInCache
from .output_record import Record

PSEUDONYM = re.compile(r"\buser-[0-9a-f]{8}\b")
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
MAX_SECTIONS = 9
# tables holding a login column, and its name
LOGIN_COLUMNS = {"user_day": "user_login", "seats": "user_login", "billing_usage": "user"}


def logins_in_cache(data_dir: Path | str, scope: str) -> set[str]:
    """Every login the cache holds for ``scope`` (lower case): usage rows, seat roster, billing."""
    found: set[str] = set()
    for table, column in LOGIN_COLUMNS.items():
        try:
            values = store.scan(data_dir, table, scope=scope).select(pl.col(column).drop_nulls().unique()).collect()
        except (NotInCache, pl.exceptions.ColumnNotFoundError):
            continue
        found.update(v.lower() for v in values[column].to_list())
    return found


def names_a_user(text: str, logins: set[str]) -> bool:
    """Whether ``text`` names one of ``logins`` (whole word, any case) or carries a pseudonym."""
    if PSEUDONYM.search(text):
        return True
    return any(w.lower().strip("-") in logins for w in _WORD.findall(text))


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (a full stop followed by a space and a capital or a digit ends it)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip(), maxsplit=1)
    return parts[0]


def digest(
    record: Record,
    *,
    report: Path | None = None,
    others: dict[str, Path] | None = None,
    logins: set[str] | None = None,
) -> str:
    """The digest text. ``report``: path of the full (HTML) report; ``others``: ``{"pdf": path, ...}`` beside it;
    ``logins``: names never to print (see :func:`logins_in_cache`)."""
    banned = logins or set()
    t = record.title
    lines = [f"**{t.get('title', 'Copilot report')}** — {t.get('scope', '')}, {t.get('start')} → {t.get('end')}"]
    complete = t.get("complete_days")
    fresh = f"Data through {t.get('data_through') or 'n/a'}"
    if complete is not None and t.get("days"):
        fresh += f" ({complete} of {t['days']} days complete)"
    fresh += f"; generated {t.get('generated', '')}."
    if t.get("preliminary"):
        fresh += " **Preliminary**: fewer than 14 complete days."
    missing = record.notes.get("not_in_cache") or []
    if missing:
        fresh += f" Not in the cache: {', '.join(m.split(' ')[0] for m in missing)}."
    lines += [fresh, ""]
    for tile in record.tiles:
        if names_a_user(tile.label + " " + tile.value, banned):
            continue
        change = "" if tile.change is None else f" ({tile.change:+.0%} vs previous period)"
        lines.append(f"- {tile.label}: **{tile.value}**{change}")
    said = []
    for section in record.sections:
        if not section.heading:
            continue
        sentence = next(
            (first_sentence(s) for s in section.sentences if s and not names_a_user(first_sentence(s), banned)), ""
        )
        if sentence:
            said.append(f"- *{section.heading}* {sentence}")
    if said:
        lines += ["", *said[:MAX_SECTIONS]]
    if report is not None:
        beside = ", ".join(f"{fmt.upper()} `{p.name}`" for fmt, p in (others or {}).items())
        lines += ["", f"Full report: `{report}`" + (f" (beside it: {beside})" if beside else "") + "."]
    return "\n".join(lines) + "\n"


def write_digest(
    record: Record,
    path: Path,
    *,
    report: Path | None = None,
    others: dict[str, Path] | None = None,
    logins: set[str] | None = None,
) -> Path:
    Path(path).write_text(digest(record, report=report, others=others, logins=logins), encoding="utf-8")
    return Path(path)
