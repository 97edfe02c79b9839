"""The watch's words: one line per finding, and the short message posted to a chat webhook.

The post is a JSON body with ``text``, which both incoming webhooks accept: Slack
(https://api.slack.com/messaging/webhooks) and Microsoft Teams
(https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#post-a-message-to-the-webhook-using-curl).
Names come from the customer's tenant and may be hostile: ``&``, ``<`` and ``>`` are escaped as Slack asks
(https://api.slack.com/reference/surfaces/formatting#escaping), which also disarms ``<!channel>`` and links; an
``@`` is followed by a zero-width space so no ``@channel``/``@here`` ever pings; line breaks and control
characters become spaces so a name cannot forge lines. The webhook URL is a secret (it carries its token): it is
never printed, only its host.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import polars as pl

MAX_LINES = 20  # a chat message, not a report: the rest is in the JSON files
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def plain(name: str) -> str:
    """A name for a terminal line: control characters and line breaks as spaces."""
    return _CONTROL.sub(" ", name)


def escape(name: str) -> str:
    """A name safe inside a Slack or Teams message (module docstring)."""
    text = plain(name).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("@", "@\u200b")


def _n(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _usd(value: float | None) -> str:
    return "–" if value is None else f"US${value:,.2f}"


def line(row: dict[str, Any], name: Callable[[str], str] = plain) -> str:
    """One finding (a :data:`copilot_usage.analysis.watch.FINDINGS_SCHEMA` row) as a sentence; ``name`` escapes names."""
    day, level = row["day"], row["level"]
    size = f"{_n(row['credits'])} credits ({_usd(row['usd'])})"
    if level == "users":
        return (
            f"{day} {row['users']} user(s) far above their own baseline: {size} together, "
            f"{_n(row['excess_credits'])} credits ({_usd(row['excess_usd'])}) over it"
        )
    if level == "user":
        base = row["expected"]
        against = (
            f"{row['credits'] / base:,.0f}× their baseline of {_n(base)}"
            if base
            else "no usual level to compare (under 3 active days in the 28 before)"
            if base is None
            else "a baseline of 0"
        )
        return (
            f"{day} user {name(str(row['user_login']))}: {size}, {against} "
            f"(+{_n(row['excess_credits'])} credits, {_usd(row['excess_usd'])})"
        )
    what = {"scope": "", "cost_centre": "cost centre ", "team": "team "}.get(level, f"{level} ")
    return (
        f"{day} {what}{name(str(row['unit']))}: {size}, {row['direction']} the usual {_n(row['expected'])} "
        f"(band {_n(row['low'])}–{_n(row['high'])}; {'+' if row['excess_credits'] >= 0 else ''}"
        f"{_n(row['excess_credits'])} credits, {_usd(row['excess_usd'])})"
    )


def _unit(row: dict[str, Any], name: Callable[[str], str]) -> str:
    if row["level"] == "scope":
        return "the scope"
    return f"{'cost centre' if row['level'] == 'cost_centre' else row['level']} {name(str(row['unit']))}"


def lines(findings: pl.DataFrame, name: Callable[[str], str] = plain) -> list[str]:
    """One line per event of ``findings`` (:func:`line`; with a ``scope`` column, each line starts with it): a unit
    finding its day's flagged users explain (``explained_by``) is not a line of its own but said on the users'
    line, which names the units their credits put above their band."""
    rows = list(findings.iter_rows(named=True))

    def key(row: dict[str, Any]) -> tuple[Any, Any]:
        return row.get("scope"), row["day"]

    lifted: dict[tuple[Any, Any], list[str]] = {}
    for row in rows:
        if row.get("explained_by") is not None:
            lifted.setdefault(key(row), []).append(_unit(row, name))
    said: set[tuple[Any, Any]] = set()
    out = []
    for row in rows:
        if row.get("explained_by") is not None:
            continue
        text = line(row, name)
        if row["level"] in ("user", "users") and key(row) in lifted and key(row) not in said:
            said.add(key(row))
            units = lifted[key(row)]
            who = "these users'" if row["level"] == "users" and row["users"] > 1 else "this runaway's"
            text += f"; {who} credits alone put {', '.join(units)} above the usual band"
        out.append(f"{name(str(row['scope']))} · {text}" if row.get("scope") is not None else text)
    return out


def message(findings: pl.DataFrame, scopes: list[str], *, where: str) -> str:
    """The webhook's text: a headline, one line per event (:func:`lines`, at most :data:`MAX_LINES`), where the
    rest is."""
    events = lines(findings, escape)
    days = findings["day"].n_unique()
    head = f"Copilot usage watch: {len(events)} unusual finding(s) on {days} day(s) in " + ", ".join(
        escape(s) for s in scopes
    )
    shown = [f"• {text}" for text in events[:MAX_LINES]]
    more = [f"… and {len(events) - MAX_LINES} more"] if len(events) > MAX_LINES else []
    return "\n".join([head, *shown, *more, f"Details: {escape(where)}"])


def post(url: str, text: str, *, timeout: float) -> str | None:
    """Post ``text`` to the webhook; ``None`` when it took it, else one line saying why not (never the URL)."""
    host = httpx.URL(url).host or "the webhook"
    try:
        response = httpx.post(url, json={"text": text}, timeout=timeout)
    except httpx.TimeoutException:
        return f"the webhook at {host} did not answer within {timeout:g} s"
    except httpx.HTTPError as exc:
        return f"the webhook at {host} could not be reached ({type(exc).__name__})"
    if response.is_success:
        return None
    return f"the webhook at {host} answered {response.status_code}"
