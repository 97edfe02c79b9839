"""Cache freshness facts, shared by ``copilot-usage status`` and the reports' data-notes appendix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from .reports import ENTERPRISE_DATA_START, ORG_DATA_START
from .store import processed, scan

# GitHub keeps each day's usage-metrics reports for 365 days; older days cannot be fetched again
# (https://docs.github.com/en/rest/copilot/copilot-usage-metrics).
RETENTION_DAYS = 365
WARN_DAYS = 14


def status_table(data_dir: Path | str) -> pl.DataFrame:
    """Per scope × report: first/newest complete day, gaps (missing days in between), pending, no-data, errors,
    plus the scope's quarantined lines and drifted fields."""
    health = scan(data_dir, "data_health").collect()
    complete = pl.col("status") == "complete"
    out = (
        health.group_by("scope", "report")
        .agg(
            first_day=pl.col("day").filter(complete).min(),
            newest_complete=pl.col("day").filter(complete).max(),
            complete_days=complete.sum(),
            pending=(pl.col("status") == "pending").sum(),
            no_data=(pl.col("status") == "no_data").sum(),
            errors=(pl.col("status") == "error").sum(),
        )
        .with_columns(
            gaps=((pl.col("newest_complete") - pl.col("first_day")).dt.total_days() + 1 - pl.col("complete_days"))
        )
    )
    for table, name in (("quarantine", "quarantined_lines"), ("schema_drift", "drifted_fields")):
        if (processed(data_dir) / table).exists():
            counts = scan(data_dir, table).group_by("scope").agg(pl.len().alias(name)).collect()
            out = out.join(counts, on="scope", how="left")
        else:
            out = out.with_columns(pl.lit(0, dtype=pl.UInt32).alias(name))
    return out.sort("scope", "report")


def retention_frame(health: pl.DataFrame, *, today: dt.date) -> pl.DataFrame:
    """Per scope, from ``data_health`` rows of ``users-1-day``: days of history this cache alone holds (older than
    GitHub's 365 days), days not cached that GitHub deletes within 14 days (first one named), and days gone for
    good (never fetched, now older than 365 days) with their first and last day."""
    oldest = today - dt.timedelta(days=RETENTION_DAYS)  # the oldest day GitHub still serves
    newest = today - dt.timedelta(days=2)
    cached = (
        health.filter((pl.col("report") == "users-1-day") & pl.col("status").is_in(["complete", "pending", "no_data"]))
        .select("scope", "day")
        .unique()
        .with_columns(cached=pl.lit(True))
    )
    scopes = health.select("scope").unique()
    start = pl.when(pl.col("scope").str.starts_with("enterprise:")).then(pl.lit(ENTERPRISE_DATA_START))
    days = (
        scopes.with_columns(first=start.otherwise(pl.lit(ORG_DATA_START)).str.to_date())
        .with_columns(day=pl.date_ranges(pl.col("first"), pl.lit(newest)))
        .explode("day")
        .drop_nulls("day")
        .join(cached, on=["scope", "day"], how="left")
        .with_columns(pl.col("cached").fill_null(False))
    )
    old, here = pl.col("day") < oldest, pl.col("cached")
    soon = ~here & (pl.col("day") >= oldest) & (pl.col("day") < oldest + dt.timedelta(days=WARN_DAYS))
    out = days.group_by("scope").agg(
        only_in_cache=(old & here).sum(),
        expiring_soon=soon.sum(),
        first_expiring=pl.col("day").filter(soon).min(),
        gone=(old & ~here).sum(),
        gone_first=pl.col("day").filter(old & ~here).min(),
        gone_last=pl.col("day").filter(old & ~here).max(),
    )
    return scopes.join(out, on="scope", how="left").sort("scope")


def retention_notes(frame: pl.DataFrame, *, today: dt.date) -> list[str]:
    """Sentences for ``status`` and the data notes; empty when there is nothing to say."""
    out = []
    oldest = today - dt.timedelta(days=RETENTION_DAYS)
    for row in frame.iter_rows(named=True):
        scope = row["scope"]
        if row["only_in_cache"]:
            out.append(
                f"{scope}: {row['only_in_cache']} days of history (before {oldest}) exist only in this cache: "
                "GitHub no longer serves them, so keep data/raw backed up."
            )
        if row["expiring_soon"]:
            out.append(
                f"{scope}: {row['expiring_soon']} days not in the cache fall out of GitHub's 365-day window within "
                f"{WARN_DAYS} days (the first, {row['first_expiring']}, on {row['first_expiring'] + dt.timedelta(days=RETENTION_DAYS + 1)}); "
                f"`copilot-usage fetch --since {row['first_expiring']}` keeps them."
            )
        if row["gone"]:
            out.append(
                f"{scope}: {row['gone']} days ({row['gone_first']} → {row['gone_last']}) were never fetched and are "
                "now gone from GitHub for good."
            )
    return out


def retention(data_dir: Path | str, *, today: dt.date | None = None) -> pl.DataFrame:
    """:func:`retention_frame` of the cache's ``data_health``."""
    health = scan(data_dir, "data_health").select("scope", "report", "day", "status").collect()
    return retention_frame(health, today=today or dt.datetime.now(dt.UTC).date())
