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

import pyarrow as pa
import pyarrow.compute as pc

USER_FAMILIES = frozenset({"users", "user-teams"})


def is_complete(meta: dict[str, Any]) -> bool:
    """A version fetched from the API is the whole day; an imported file (``endpoint: import:…``) is not."""
    return not str(meta.get("endpoint") or "").startswith("import:")


def last_complete(complete: list[bool]) -> int:
    """Index of the newest complete version (0 when none is): the day's rows come from it and those after it."""
    return max((i for i, whole in enumerate(complete) if whole), default=0)


def merged(tables: list[pa.Table], complete: list[bool]) -> pa.Table:
    """The day as built from its versions (oldest first): a complete version replaces it, an imported one
    overlays it per user."""
    state = tables[0]
    for table, whole in zip(tables[1:], complete[1:], strict=True):
        state = table if whole else overlay(state, table)
    return state


def overlay(old: pa.Table, new: pa.Table) -> pa.Table:
    """``new``'s rows plus ``old``'s rows of the users ``new`` does not list."""
    kept = old.filter(pc.invert(pc.is_in(old["user_id"], value_set=new["user_id"])))
    if not kept.num_rows:
        return new
    return pa.concat_tables([kept, new], promote_options="permissive")
