"""Cache freshness facts, shared by ``copilot-usage status`` and the reports' data-notes appendix."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .store import processed, scan


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
