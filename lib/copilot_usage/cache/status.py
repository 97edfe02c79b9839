"""Cache freshness facts, shared by ``copilot-usage status`` and the reports' data-notes appendix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from ..catalog import ENTERPRISE_DATA_START, ORG_DATA_START
from ..errors import NotInCache
from . import lake
from .read import scan
from .tables import SIDE_SCHEMAS, TABLES

_COUNTED = (
    ("quarantine", "quarantined_lines"),
    ("schema_drift", "drifted_fields"),
    ("late_corrections", "late_corrections"),
)


def side_table(
    data_dir: Path | str,
    table: str,
    *,
    scope: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """A side table (``quarantine``, ``schema_drift``, ``late_corrections``), empty with its columns when the
    build wrote none (nothing was quarantined, drifted or corrected)."""
    empty = pl.DataFrame(schema=SIDE_SCHEMAS[table])
    try:
        frame = scan(data_dir, table, scope=scope).collect()
    except NotInCache:
        return empty
    frame = pl.concat([empty, frame.select([c for c in frame.columns if c in empty.columns])], how="diagonal_relaxed")
    if start is not None:
        frame = frame.filter(pl.col("day").str.to_date(strict=False) >= start)
    if end is not None:
        frame = frame.filter(pl.col("day").str.to_date(strict=False) <= end)
    return frame


def table_versions(data_dir: Path | str) -> pl.DataFrame:
    """Each processed table the cache holds: its location (what another engine attaches) and its Delta version."""
    rows = [
        {"table": t, "version": lake.version(data_dir, t), "location": lake.uri(data_dir, t)}
        for t in TABLES
        if t != "billing_usage"  # a view over billing_ai_credit and billing_usage_csv, not a table
    ]
    schema = {"table": pl.String, "version": pl.Int64, "location": pl.String}
    return pl.DataFrame(rows, schema=schema).drop_nulls("version")


# GitHub keeps each day's usage-metrics reports for 365 days; older days cannot be fetched again
# (https://docs.github.com/en/rest/copilot/copilot-usage-metrics).
RETENTION_DAYS = 365
WARN_DAYS = 14


def status_table(data_dir: Path | str) -> pl.DataFrame:
    """Per scope × report: first/newest complete day, gaps (missing days in between), pending, no-data, errors,
    plus its quarantined lines, drifted fields and late corrections (days a newer version dropped users or
    changed their credits)."""
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
    for table, name in _COUNTED:
        counts = side_table(data_dir, table).group_by("scope", "report").agg(pl.len().alias(name))
        # full join: lines of a report without data health (the billing CSV) are shown too, never dropped
        out = out.join(counts, on=["scope", "report"], how="full", coalesce=True).with_columns(
            pl.col(name).fill_null(0)
        )
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


def _credits(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.1f}"


def quarantined_files(data_dir: Path | str, *, scope: str | None = None) -> pl.DataFrame:
    """Raw files ``build`` left out whole (a body that is not what the endpoint returns, a folder that is not a day,
    a file no line of which reads), whatever their day: one row each with its path under ``raw/`` and the reason."""
    frame = side_table(data_dir, "quarantine", scope=scope).filter(pl.col("line").is_null())
    return frame.select("scope", "report", "day", "file", "reason").unique(maintain_order=True).sort("scope", "file")


def correction_notes(data_dir: Path | str, *, scope: str, start: dt.date, end: dt.date, limit: int = 12) -> list[str]:
    """Sentences for the data notes: each late correction in the period (a newer version of a day dropped users
    or changed their credits) and the lines quarantined, so nothing leaves a report without a line saying so."""
    late = side_table(data_dir, "late_corrections", scope=scope, start=start, end=end).sort("day", "report")
    notes = [
        f"Late correction {r['day']} ({r['report']}, {r['source']}ed {str(r['fetched_at'])[:10]}): "
        f"{r['users_removed']} user(s) removed, {r['users_changed']} changed, {r['users_added']} added "
        f"({r['users_before']} → {r['users_after']} users); credits {_credits(r['credits_before'])} → "
        f"{_credits(r['credits_after'])}."
        for r in late.head(limit).iter_rows(named=True)  # a dozen sentences, not data rows
    ]
    if late.height > limit:
        notes.append(f"… and {late.height - limit} more late corrections (`copilot-usage status`).")
    files = quarantined_files(data_dir, scope=scope)
    if files.height:
        first = files.row(0, named=True)
        notes.append(
            f"{files.height} raw file(s) of this scope could not be read and are left out of these figures "
            f"(first: {first['file']}: {first['reason']}); `copilot-usage status` lists them."
        )
    quarantined = side_table(data_dir, "quarantine", scope=scope, start=start, end=end).filter(
        pl.col("line").is_not_null()
    )
    if quarantined.height:
        days = quarantined["day"].n_unique()
        notes.append(
            f"{quarantined.height} line(s) on {days} day(s) were quarantined and are not in these figures "
            f"(first: {quarantined['file'][0]} line {quarantined['line'][0]}: {quarantined['reason'][0]})."
        )
    return notes
