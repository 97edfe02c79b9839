"""The report as a short Markdown digest for an email or a chat message.

Aggregate-only whatever the report's audience: the title line, the data freshness, the headline tiles, one
sentence per section (its answer: the first sentence that points at no chart or table the digest lacks) and the
full report's file name (no local path) — never a table, never a login. As a second line of defence
any tile or sentence naming a login found in the cache (or a keyed pseudonym ``user-1a2b3c4d``) is left out:
a login counts where it stands whole (any case, not inside a longer login-like word), whatever characters it holds;
the names of teams and cost centres are read as those units, so a team named like a login keeps its sentence.

Every interpolated text (title, scope, tiles, headings, sentences, notes, paths) is literal Markdown text
(:func:`copilot_usage.outputs.safe_text.markdown`): no name becomes a link, an image, HTML, a heading or a table, and
newlines fold to spaces.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import polars as pl

from ..cache import read
from ..errors import NotInCache
from .record import Record
from .safe_text import markdown, markdown_code

PSEUDONYM = re.compile(r"\buser-[0-9a-f]{8}\b")
MAX_SECTIONS = 9
# a sentence pointing at a chart or table the digest does not carry
SHOWN_ELSEWHERE = re.compile(
    r"\b(charts?|the table|tables?\s+(?:below|lists?)|listed below|shown below)\b", re.IGNORECASE
)
# a composed section's link to the report it comes from: where the answer is, not the answer
SOURCE_LINE = re.compile(r"^From the .+ report\.$")
SENTENCE_MAX = 300  # characters of one section's sentence (a name of any length must not make an email of it)
# tables holding a login column, and its name
LOGIN_COLUMNS = {"user_day": "user_login", "seats": "user_login", "billing_usage": "user"}
# tables naming units (teams, cost centres) that sentences may name, and their name columns
UNIT_COLUMNS = {"teams": ("name", "slug"), "cost_centers": ("name",)}


def logins_in_cache(data_dir: Path | str, scope: str) -> set[str]:
    """Every login the cache holds for ``scope`` (lower case): usage rows, seat roster, billing."""
    found: set[str] = set()
    for table, column in LOGIN_COLUMNS.items():
        try:
            values = read.scan(data_dir, table, scope=scope).select(pl.col(column).drop_nulls().unique()).collect()
        except (NotInCache, pl.exceptions.ColumnNotFoundError):
            continue
        found.update(v.lower() for v in values[column].to_list())
    return found


def units_in_cache(data_dir: Path | str) -> set[str]:
    """Every team (name and slug) and cost-centre name the cache holds (lower case)."""
    found: set[str] = set()
    for table, columns in UNIT_COLUMNS.items():
        try:
            values = read.scan(data_dir, table).select(pl.concat_list(columns).alias("n")).explode("n").collect()
        except (NotInCache, pl.exceptions.ColumnNotFoundError):
            continue
        found.update(v.lower() for v in values["n"].drop_nulls().unique().to_list())
    return found


@lru_cache(maxsize=8)
def _whole(names: frozenset[str]) -> re.Pattern[str] | None:
    """One pattern finding any of ``names`` standing whole: not inside a longer run of letters, digits, ``_`` or
    ``-`` (a login's own characters); longest first, so a login that extends another is found as itself."""
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def names_a_user(text: str, logins: set[str], units: set[str] | None = None) -> bool:
    """Whether ``text`` names one of ``logins`` (the whole login, any case) or carries a pseudonym; the names in
    ``units`` (teams, cost centres) are read as units first, so a team named like a login is not a user."""
    if PSEUDONYM.search(text):
        return True
    unit_names = _whole(frozenset(u.lower() for u in units or ()))
    rest = text if unit_names is None else unit_names.sub(" ", text)
    pattern = _whole(frozenset(login.lower() for login in logins))
    return pattern is not None and pattern.search(rest) is not None


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
    units: set[str] | None = None,
) -> str:
    """The digest text. ``report``: path of the full (HTML) report; ``others``: ``{"pdf": path, ...}`` beside it;
    ``logins``: names never to print (see :func:`logins_in_cache`); ``units``: team and cost-centre names, never
    taken for a login (see :func:`units_in_cache`)."""
    banned = logins or set()
    t = record.title
    md = markdown
    lines = [
        f"**{md(str(t.get('title', 'Copilot report')))}** — {md(str(t.get('scope', '')))}, "
        f"{md(str(t.get('start')))} → {md(str(t.get('end')))}"
    ]
    complete = t.get("complete_days")
    fresh = f"Data through {md(str(t.get('data_through') or 'n/a'))}"
    if complete is not None and t.get("days"):
        fresh += f" ({complete} of {t['days']} days complete)"
    fresh += f"; generated {md(str(t.get('generated', '')))}."
    if t.get("preliminary"):
        fresh += " **Preliminary**: fewer than 14 complete days."
    missing = record.notes.get("not_in_cache") or []
    if missing:  # by count: the tables' names are the operator's business, listed in the report's data notes
        fresh += f" {len(missing)} table(s) not in the cache: the report's data notes list them."
    lines += [fresh, ""]
    for tile in record.tiles:
        if names_a_user(tile.label + " " + tile.value, banned, units):
            continue
        change = "" if tile.change is None else f" ({tile.change:+.0%} vs previous period)"
        lines.append(f"- {md(tile.label)}: **{md(tile.value)}**{change}")
    said = []
    for section in record.sections:
        if not section.heading:
            continue
        sentence = next(
            (
                s
                for s in map(first_sentence, section.sentences)
                if s
                and not SHOWN_ELSEWHERE.search(s)
                and not SOURCE_LINE.match(s)
                and not names_a_user(s, banned, units)
            ),
            "",
        )
        if sentence:
            said.append(f"- *{md(section.heading)}* {md(sentence, SENTENCE_MAX)}")
    if said:
        lines += ["", *said[:MAX_SECTIONS]]
    if report is not None:  # by file name: a digest is read where the sender's disk is not
        beside = " and ".join(fmt.upper() for fmt in (others or {}))
        lines += [
            "",
            f"Full report: {markdown_code(Path(report).name)}"
            + (f" (also as {beside} of the same name)" if beside else "")
            + ".",
        ]
    return "\n".join(lines) + "\n"


def write_digest(
    record: Record,
    path: Path,
    *,
    report: Path | None = None,
    others: dict[str, Path] | None = None,
    logins: set[str] | None = None,
    units: set[str] | None = None,
) -> Path:
    text = digest(record, report=report, others=others, logins=logins, units=units)
    Path(path).write_text(text, encoding="utf-8")
    return Path(path)
