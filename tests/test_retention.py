"""History GitHub deletes after 365 days: what only this cache holds, what falls out soon, what is gone."""

from __future__ import annotations

import datetime as dt

import polars as pl

from copilot_usage.cache.status import retention_frame, retention_notes

TODAY = dt.date(2026, 12, 2)  # GitHub serves 2025-12-02 onwards


def _health(scope: str, days: list[dt.date]) -> pl.DataFrame:
    return pl.DataFrame(
        {"scope": scope, "report": "users-1-day", "day": days, "status": "complete"},
        schema={"scope": pl.String, "report": pl.String, "day": pl.Date, "status": pl.String},
    )


def _span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def test_days_only_cached_expiring_and_gone_are_counted() -> None:
    # org data starts 2025-12-12: nothing is older than GitHub's window, 2025-12-12..15 not cached → expiring soon
    org = _health("org:o", _span(dt.date(2025, 12, 16), dt.date(2026, 11, 30)))
    # enterprise data starts 2025-10-10: cached 2025-10-20..2025-11-30 (only here), 2025-10-10..19 gone,
    # 2025-12-01 is the last day before the window; 2025-12-02..05 not cached (expiring), rest cached
    ent = _health(
        "enterprise:e",
        _span(dt.date(2025, 10, 20), dt.date(2025, 12, 1)) + _span(dt.date(2025, 12, 6), dt.date(2026, 11, 30)),
    )
    frame = retention_frame(pl.concat([org, ent]), today=TODAY)
    rows = {r["scope"]: r for r in frame.iter_rows(named=True)}
    e, o = rows["enterprise:e"], rows["org:o"]
    assert (e["only_in_cache"], e["gone"], e["expiring_soon"]) == (43, 10, 4)
    assert (e["gone_first"], e["gone_last"], e["first_expiring"]) == (
        dt.date(2025, 10, 10),
        dt.date(2025, 10, 19),
        dt.date(2025, 12, 2),
    )
    assert (o["only_in_cache"], o["gone"], o["expiring_soon"]) == (0, 0, 4)
    notes = retention_notes(frame, today=TODAY)
    assert any("43 days of history" in n and "only in this cache" in n for n in notes)
    assert any("gone from GitHub for good" in n and "2025-10-10 → 2025-10-19" in n for n in notes)
    assert any("--since 2025-12-12" in n for n in notes)  # the org's first expiring day, and how to keep it


def test_a_fully_cached_recent_scope_says_nothing() -> None:
    frame = retention_frame(_health("org:o", _span(dt.date(2025, 12, 12), dt.date(2026, 11, 30))), today=TODAY)
    assert retention_notes(frame, today=TODAY) == []
