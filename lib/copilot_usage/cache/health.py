"""Data health: the status of each scope × report × day from the raw store and the fetch log, and the readers' view
with never-requested days as ``missing``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from ..errors import NotInCache
from ..ingest import rawstore
from .daily import DAILY, is_day
from .read import scan


def data_health(data_dir: Path) -> pl.DataFrame:
    """Per scope × report × day: complete / no_data / pending / error (newest outcome), with fetched_at.

    ``missing`` days (never requested) are derived at read time by :func:`health`.
    """
    rows = []
    for report in DAILY:
        for scope, key, stored in rawstore.slot_versions(data_dir, report):
            newest = stored[-1] if stored else None
            if newest and is_day(key):
                rows.append(
                    {
                        "scope": str(scope),
                        "report": report,
                        "day": key,
                        "status": "complete",
                        "fetched_at": newest.fetched_at,
                        "versions": len(stored),
                        "api_host": newest.meta.get("api_host"),  # None for imported files and older fetches
                    }
                )
    seen = {(r["scope"], r["report"], r["day"]) for r in rows}
    latest: dict[tuple[str, str, str], str] = {}
    for rec in rawstore.read_log(data_dir):
        if rec.get("report") in DAILY:
            latest[(rec["scope"], rec["report"], rec["key"])] = rec["status"]
    for (scope_text, report, day), status in latest.items():
        if (scope_text, report, day) not in seen and status in ("no_data", "pending", "failed") and is_day(day):
            rows.append(
                {
                    "scope": scope_text,
                    "report": report,
                    "day": day,
                    "status": "error" if status == "failed" else status,
                    "fetched_at": None,
                    "versions": 0,
                    "api_host": None,
                }
            )
    schema = {
        "scope": pl.String,
        "report": pl.String,
        "day": pl.String,
        "status": pl.String,
        "fetched_at": pl.String,
        "versions": pl.Int64,
        "api_host": pl.String,
    }
    return pl.DataFrame(rows, schema=schema).with_columns(pl.col("day").str.to_date()).sort("scope", "report", "day")


def health(
    data_dir: Path | str, *, scope: str, start: dt.date, end: dt.date, reports: Iterable[str] = ("users-1-day",)
) -> pl.DataFrame:
    """Status of every day in ``[start, end]`` per report, ``missing`` where nothing was fetched."""
    days = pl.DataFrame({"day": pl.date_range(start, end, eager=True)})
    grid = days.join(pl.DataFrame({"report": list(reports)}), how="cross").with_columns(scope=pl.lit(scope))
    try:
        known = scan(data_dir, "data_health", scope=scope).collect()
    except NotInCache:
        known = pl.DataFrame(schema={"scope": pl.String, "report": pl.String, "day": pl.Date, "status": pl.String})
    return (
        grid.join(known.select("scope", "report", "day", "status"), on=["scope", "report", "day"], how="left")
        .with_columns(pl.col("status").fill_null("missing"))
        .sort("report", "day")
    )
