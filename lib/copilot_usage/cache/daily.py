"""A daily report's parsed rows → its tables (users, aggregate, user-teams, repos), one call per family."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ..catalog import COUNT_FIELDS
from . import added_fields
from .parse import BREAKDOWNS, REPO_ALIASES

DAILY = {
    "users-1-day": "users",
    "aggregate-1-day": "aggregate",
    "user-teams-1-day": "user-teams",
    "repos-1-day": "repos",
}
_KEY = ["scope", "day", "user_id"]


def _dedupe(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Drop repeated keys (keep the last), only paying for it when a file repeats a key."""
    if frame.select(pl.struct(key).n_unique()).item() == frame.height:
        return frame
    return frame.unique(key, keep="last", maintain_order=True)


def _users_tables(frame: pl.DataFrame, scope: str) -> dict[str, pl.DataFrame]:
    base = _dedupe(frame.with_columns(scope=pl.lit(scope), day=pl.col("day").str.to_date()), _KEY).lazy()
    cli = pl.col("totals_by_cli")
    user_day = base.select(
        "scope",
        "day",
        "user_id",
        "user_login",
        "enterprise_id",
        "organization_id",
        "ai_credits_used",
        *COUNT_FIELDS,
        "used_agent",
        "used_chat",
        "used_cli",
        "used_copilot_code_review_active",
        "used_copilot_code_review_passive",
        pl.coalesce("used_copilot_cloud_agent", "used_copilot_coding_agent").alias("used_copilot_cloud_agent"),
        pl.col("ai_adoption_phase").struct.field("phase_number").cast(pl.Int8).alias("ai_adoption_phase_number"),
        pl.col("ai_adoption_phase").struct.field("phase").alias("ai_adoption_phase"),
        *[cli.struct.field(f).alias(f"cli_{f}") for f in ("session_count", "request_count", "prompt_count")],
        cli.struct.field("token_usage").struct.field("output_tokens_sum").alias("cli_output_tokens_sum"),
        cli.struct.field("token_usage").struct.field("prompt_tokens_sum").alias("cli_prompt_tokens_sum"),
        *[
            pl.col("totals_by_copilot_app").struct.field(f).alias(f"app_{f}")
            for f in ("session_count", "request_count", "prompt_count")
        ],
        *added_fields.user_day_columns(),
    )
    lazy = {"user_day": user_day, **added_fields.user_tables(base, _KEY)}
    for name in BREAKDOWNS:
        table = "user_" + name.removeprefix("totals_by_") + "_day"
        lazy[table] = (
            base.select(*_KEY, name).explode(name).drop_nulls(name).unnest(name).select(pl.exclude("^last_known_.*$"))
        )
    lazy["user_3rd_party_agent_day"] = (
        base.select(*_KEY, "totals_by_3rd_party_agent")
        .explode("totals_by_3rd_party_agent")
        .drop_nulls("totals_by_3rd_party_agent")
        .unnest("totals_by_3rd_party_agent")
        .drop("session_count")
    )
    return dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))


def _aggregate_tables(frame: pl.DataFrame, scope: str) -> dict[str, pl.DataFrame]:
    base = frame.with_columns(scope=pl.lit(scope), day=pl.col("day").str.to_date()).unique(
        ["scope", "day"], keep="last"
    )
    pr = base.select("scope", "day", pl.col("pull_requests").struct.unnest().name.prefix("pr_"))
    scalars = [
        c
        for c in base.columns
        if c not in BREAKDOWNS
        and c not in ("pull_requests", "totals_by_cli", "totals_by_3rd_party_agent", *added_fields.AGGREGATE_NESTED)
    ]
    agg = (
        base.select(*scalars, *added_fields.aggregate_day_columns())
        .join(pr, on=["scope", "day"], how="left")
        .with_columns(
            cli_prompt_count=base["totals_by_cli"].struct.field("prompt_count"),
            cli_session_count=base["totals_by_cli"].struct.field("session_count"),
        )
    )
    out = {"aggregate_day": agg, **added_fields.aggregate_tables(base)}
    for name in BREAKDOWNS:  # feature, model-feature, IDE, language-feature, language-model
        table = "aggregate_" + name.removeprefix("totals_by_") + "_day"
        out[table] = base.select("scope", "day", name).explode(name).drop_nulls(name).unnest(name)
    return out


def _simple(frame: pl.DataFrame, scope: str, table: str, key: list[str]) -> dict[str, pl.DataFrame]:
    f = frame.with_columns(scope=pl.lit(scope), day=pl.col("day").str.to_date())
    return {table: f.unique(key, keep="last").sort(key)}


def _repo_tables(frame: pl.DataFrame, scope: str) -> dict[str, pl.DataFrame]:
    """``repo_day``: either spelling of the repo fields in the ``repository_*`` columns, one row per scope, day
    and repository (its id, else its name); a row naming no repository is kept as it is, never merged."""
    present = [a for a in REPO_ALIASES if a in frame.columns]
    f = frame.with_columns(
        [pl.coalesce(REPO_ALIASES[a], a).alias(REPO_ALIASES[a]) for a in present],
        scope=pl.lit(scope),
        day=pl.col("day").str.to_date(),
    ).drop(present)
    f = f.with_columns(pl.col("pull_requests").struct.unnest().name.prefix("pr_")).drop("pull_requests")
    repo = pl.coalesce(pl.col("repository_id").cast(pl.String), "name:" + pl.col("repository_name"))
    named = f.filter(repo.is_not_null()).with_columns(_repo=repo).unique(["scope", "day", "_repo"], keep="last")
    out = pl.concat([named.drop("_repo"), f.filter(repo.is_null())])
    out = out.sort("scope", "day", "repository_id", "repository_name", nulls_last=True)
    return {"repo_day": out.drop("pull_request_review_times", strict=False), **added_fields.repo_tables(out)}


def _tables_for(family: str, frame: pl.DataFrame, scope: str) -> dict[str, pl.DataFrame]:
    if family == "users":
        return _users_tables(frame, scope)
    if family == "aggregate":
        return _aggregate_tables(frame, scope)
    if family == "user-teams":
        return _simple(frame, scope, "user_team_day", ["scope", "day", "user_id", "team_id"])
    return _repo_tables(frame, scope)


def is_day(text: str) -> bool:
    """``YYYY-MM-DD`` naming a real calendar day."""
    if len(text) != 10:
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
