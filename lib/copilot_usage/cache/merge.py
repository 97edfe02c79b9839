"""A day's raw versions → the rows it is built from, and the late corrections between versions.

A fetched 1-day report is complete for its day: a newer fetched version replaces the day (GitHub corrected it).
An imported file holds only the rows it carries (dashboard exports overlap, downloads are partial): a newer
imported version replaces the rows of the users it lists and keeps every other user of that day. User-level
families (``users``, ``user-teams``) are merged per (user, day) this way; the other families are one version per
day (the newest).

Whenever a newer version drops users present before or changes their credits (``user-teams``: their teams), the
change is recorded as a late correction: nothing leaves a day without a line saying so.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

USER_FAMILIES = frozenset({"users", "user-teams"})


def is_complete(meta: dict[str, Any]) -> bool:
    """A version fetched from the API is the whole day; an imported file (``endpoint: import:…``) is not."""
    return not str(meta.get("endpoint") or "").startswith("import:")


def last_complete(complete: list[bool]) -> int:
    """Index of the newest complete version (0 when none is): the day's rows come from it and those after it."""
    return max((i for i, whole in enumerate(complete) if whole), default=0)


def overlay(old: pa.Table, new: pa.Table) -> pa.Table:
    """``new``'s rows plus ``old``'s rows of the users ``new`` does not list."""
    kept = old.filter(pc.invert(pc.is_in(old["user_id"], value_set=new["user_id"])))
    if not kept.num_rows:
        return new
    return pa.concat_tables([kept, new], promote_options="permissive")


def resolve(tables: list[pa.Table], complete: list[bool], family: str) -> tuple[pa.Table, list[dict[str, Any]]]:
    """The day as built from its versions (oldest first: a complete version replaces it, an imported one overlays
    it per user), and one late correction per newer version that dropped users or changed their credits
    (``user-teams``: their teams): ``version`` (its index, oldest 0), users before / after / added / removed /
    changed, credits before / after (null when no row carries credits)."""
    state, out = tables[0], []
    for k in range(1, len(tables)):
        after = tables[k] if complete[k] else overlay(state, tables[k])
        change = compare(state, after, family)
        if change["users_removed"] or change["users_changed"]:
            out.append({"version": k, **change})
        state = after
    return state, out


def _per_user(table: pa.Table, family: str) -> pl.LazyFrame:
    frame = pl.from_arrow(
        table.select([c for c in ("user_id", "ai_credits_used", "team_id") if c in table.schema.names])
    )
    assert isinstance(frame, pl.DataFrame)
    if family == "users":  # a user repeated in a file: the last row counts, as in the build
        return (
            frame.lazy().unique("user_id", keep="last", maintain_order=True).select("user_id", value="ai_credits_used")
        )
    return frame.lazy().group_by("user_id").agg(value=pl.col("team_id").drop_nulls().unique().sort())


def compare(before: pa.Table, after: pa.Table, family: str) -> dict[str, Any]:
    """Users present before and after, added, removed, changed (credits, or teams), and the day's credits."""
    b = _per_user(before, family).with_columns(was=pl.lit(True))
    a = _per_user(after, family).with_columns(now=pl.lit(True))
    both = b.join(a, on="user_id", how="full", coalesce=True, suffix="_after", nulls_equal=True)
    credits = family == "users"
    row = (
        both.select(
            users_before=pl.col("was").sum(),
            users_after=pl.col("now").sum(),
            users_added=(pl.col("now") & pl.col("was").is_null()).sum(),
            users_removed=(pl.col("was") & pl.col("now").is_null()).sum(),
            users_changed=(pl.col("was") & pl.col("now") & pl.col("value").ne_missing(pl.col("value_after"))).sum(),
            credits_before=pl.col("value").sum() if credits else pl.lit(None, dtype=pl.Float64),
            credits_before_n=pl.col("value").count() if credits else pl.lit(0),
            credits_after=pl.col("value_after").sum() if credits else pl.lit(None, dtype=pl.Float64),
            credits_after_n=pl.col("value_after").count() if credits else pl.lit(0),
        )
        .collect()
        .row(0, named=True)
    )
    for side in ("before", "after"):  # nulls are not zeros: no credits known is null, not 0
        if not row.pop(f"credits_{side}_n"):
            row[f"credits_{side}"] = None
    return {k: (int(v) if k.startswith("users_") else v) for k, v in row.items()}
