"""Typed tables for the fields GitHub added to the usage-metrics reports in June–October 2026.

Start days and sources are in :data:`copilot_usage.catalog.FIELD_STARTS` (GitHub's changelog). ``build`` calls
these from :mod:`copilot_usage.cache.daily`; the raw files stay verbatim. GitHub's rules kept here:

* ``totals_by_3rd_party_agent[].user_initiated_interaction_count`` counts agent **job starts**: it is kept in its
  own table and never added to the top-level interaction count; the list is not a partition (unidentified agents
  are omitted), and series are keyed on ``agent_id``
  (https://github.blog/changelog/2026-08-07-copilot-usage-metrics-api-adds-agent-app-activity/).
* CLI customisations: one long table per level with a ``kind`` column; plugins are a subset of skills, MCP counts
  are connection attempts, and an aggregate's ``distinct_<kind>_use_count`` counts entities, not users — so
  nothing here sums across kinds or over users
  (https://github.blog/changelog/2026-09-17-agentic-cli-customizations-now-in-the-usage-metrics-api/).
* ``pull_request_review_times[]`` (repos-1-day): human reviews, attributed to the merge day, PRs ready before
  2026-09-21 excluded; medians and p90s are kept per entry, never averaged here
  (https://github.blog/changelog/2026-09-25-usage-metrics-api-adds-pull-request-review-stages/).
"""

from __future__ import annotations

import polars as pl

from ..catalog import CLI_CUSTOMISATION_KINDS

# list/struct columns of the aggregate record that become their own tables or typed columns
AGGREGATE_NESTED = (
    "totals_by_copilot_app",
    "totals_by_vscode_agent",
    "totals_by_ai_adoption_phase",
    *(f"totals_by_{k}" for k in CLI_CUSTOMISATION_KINDS),
)
_APP = pl.col("totals_by_copilot_app")
_VSA = pl.col("totals_by_vscode_agent")


def _app_tokens() -> list[pl.Expr]:
    return [
        _APP.struct.field("token_usage").struct.field(f).alias(f"app_{f}")
        for f in ("prompt_tokens_sum", "output_tokens_sum")
    ]


def _vscode_agent_columns() -> list[pl.Expr]:
    return [_VSA.struct.field(f).alias(f"vscode_agent_{f}") for f in ("session_count", "total_user_messages")]


def user_day_columns() -> list[pl.Expr]:
    """The ``user_day`` columns for the added fields (``app_{session,request,prompt}_count`` are older):
    ``used_copilot_app``, ``used_vscode_agent``, the app's token sums, the Agents-window totals and one
    ``distinct_<kind>_use_count`` per customisation kind."""
    return [
        pl.col("used_copilot_app"),
        pl.col("used_vscode_agent"),
        # the kit's flag (not GitHub's): a user with a third-party agent entry that day; null when GitHub omits it
        pl.when(pl.col("totals_by_3rd_party_agent").list.len() > 0).then(True).alias("used_3rd_party_agent"),
        *_app_tokens(),
        *_vscode_agent_columns(),
        *[pl.col(f"distinct_{k}_use_count") for k in CLI_CUSTOMISATION_KINDS],
    ]


def aggregate_day_columns() -> list[pl.Expr]:
    """The ``aggregate_day`` columns made from the added structs (scalars such as ``daily_active_*`` and the
    per-entity ``distinct_<kind>_use_count`` pass through as they are)."""
    return [
        *[_APP.struct.field(f).alias(f"app_{f}") for f in ("session_count", "request_count", "prompt_count")],
        *_app_tokens(),
        *_vscode_agent_columns(),
    ]


def _customisations(base: pl.LazyFrame, key: list[str]) -> pl.LazyFrame:
    """Long form of the ``totals_by_<kind>`` lists: ``*key, kind, name, interaction_count``."""
    parts = [
        base.select(*key, f"totals_by_{k}")
        .explode(f"totals_by_{k}")
        .drop_nulls(f"totals_by_{k}")
        .unnest(f"totals_by_{k}")
        .select(*key, kind=pl.lit(k), name=pl.col(k), interaction_count=pl.col("interaction_count"))
        for k in CLI_CUSTOMISATION_KINDS
    ]
    return pl.concat(parts)


def user_tables(base: pl.LazyFrame, key: list[str]) -> dict[str, pl.LazyFrame]:
    """``user_cli_customisation_day``: per user, day, kind and name GitHub shows, the interaction count."""
    return {"user_cli_customisation_day": _customisations(base, key)}


def aggregate_tables(base: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """``aggregate_3rd_party_agent_day``, ``aggregate_cli_customisation_day`` and
    ``aggregate_ai_adoption_phase_day`` (with the PR fields added 2026-06-26 and 2026-07-07)."""
    key = ["scope", "day"]
    lazy = base.lazy()
    return {
        "aggregate_3rd_party_agent_day": base.select(*key, "totals_by_3rd_party_agent")
        .explode("totals_by_3rd_party_agent")
        .drop_nulls("totals_by_3rd_party_agent")
        .unnest("totals_by_3rd_party_agent"),
        "aggregate_cli_customisation_day": _customisations(lazy, key).collect(),
        "aggregate_ai_adoption_phase_day": base.select(*key, "totals_by_ai_adoption_phase")
        .explode("totals_by_ai_adoption_phase")
        .drop_nulls("totals_by_ai_adoption_phase")
        .unnest("totals_by_ai_adoption_phase"),
    }


def repo_tables(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """``repo_review_times_day``: one row per repository, day and (authored_by, reviewed_by) entry."""
    if "pull_request_review_times" not in frame.columns:
        return {}
    key = ["scope", "day", "repository_id", "repository_name"]
    return {
        "repo_review_times_day": frame.select(*key, "pull_request_review_times")
        .explode("pull_request_review_times")
        .drop_nulls("pull_request_review_times")
        .unnest("pull_request_review_times")
        .sort(key, nulls_last=True)
    }
