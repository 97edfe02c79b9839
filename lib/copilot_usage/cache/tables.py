"""The processed tables, one registry: each table's grain, storage, source and meaning (the readers, the API's
``Cache.tables``, the reports and ARCHITECTURE.md's table list read it); where they live; the side tables' schemas."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ..storage import objstore

_LINE = {"scope": pl.String, "report": pl.String, "day": pl.String}
SIDE_SCHEMAS: dict[str, dict[str, Any]] = {
    "quarantine": {**_LINE, "file": pl.String, "line": pl.Int64, "reason": pl.String},
    "schema_drift": {**_LINE, "field": pl.String},
    "late_corrections": {
        **_LINE,
        "source": pl.String,
        "file": pl.String,
        "fetched_at": pl.String,
        **{f"users_{k}": pl.Int64 for k in ("before", "after", "added", "removed", "changed")},
        "credits_before": pl.Float64,
        "credits_after": pl.Float64,
    },
}


def processed(data_dir: Path | str) -> Path:
    return objstore.path(data_dir, "processed")  # type: ignore[return-value]  # an ObjectPath on an object store


@dataclass(frozen=True)
class Table:
    """One processed table: what a row is, how it is stored, and where its rows come from."""

    name: str
    grain: str
    """One row per …"""
    stored: str
    """``daily``: a Delta partition per scope and month (``scope_kind``, ``scope_slug``, ``month``); ``side``: one
    per writer (``written_by``); ``snapshot``: the whole table replaced at each build; ``view``: not stored, computed
    when read."""
    source: str
    """The ``fetch --reports`` family that fills it, ``import`` (``copilot-usage import`` only) or ``build``."""
    description: str
    per_scope: bool = True
    """False: enterprise-wide lists (teams, cost centres) a report on any scope of the enterprise reads."""
    dated: bool = True
    """False: snapshots (``snapshot_day``) a report reads whole, never cut to its period."""


def _daily(name: str, grain: str, source: str, description: str) -> Table:
    return Table(name, grain, "daily", source, description)


_USERS = "users"
_AGG = "aggregate"
REGISTRY: dict[str, Table] = {
    t.name: t
    for t in (
        _daily("user_day", "scope × day × user", _USERS, "a user's activity, AI credits and flags that day"),
        _daily("user_ide_day", "scope × day × user × IDE", _USERS, "a user's activity per IDE"),
        _daily("user_feature_day", "scope × day × user × feature", _USERS, "a user's activity per feature"),
        _daily(
            "user_language_feature_day", "scope × day × user × language × feature", _USERS, "per language and feature"
        ),
        _daily("user_language_model_day", "scope × day × user × language × model", _USERS, "per language and model"),
        _daily("user_model_feature_day", "scope × day × user × model × feature", _USERS, "per model and feature"),
        _daily("user_3rd_party_agent_day", "scope × day × user × agent", _USERS, "third-party agents (2026-08-07 on)"),
        _daily(
            "user_cli_customisation_day", "scope × day × user × customisation", _USERS, "Copilot CLI customisations"
        ),
        _daily("aggregate_day", "scope × day", _AGG, "the scope's totals that day (active users, PR fields)"),
        _daily("aggregate_feature_day", "scope × day × feature", _AGG, "totals per feature"),
        _daily("aggregate_model_feature_day", "scope × day × model × feature", _AGG, "totals per model and feature"),
        _daily("aggregate_ide_day", "scope × day × IDE", _AGG, "totals per IDE"),
        _daily("aggregate_language_feature_day", "scope × day × language × feature", _AGG, "per language, feature"),
        _daily("aggregate_language_model_day", "scope × day × language × model", _AGG, "per language and model"),
        _daily("aggregate_3rd_party_agent_day", "scope × day × agent", _AGG, "third-party agents (2026-08-07 on)"),
        _daily("aggregate_cli_customisation_day", "scope × day × customisation", _AGG, "Copilot CLI customisations"),
        _daily("aggregate_ai_adoption_phase_day", "scope × day × adoption phase", _AGG, "PR fields by adoption phase"),
        _daily("user_team_day", "scope × day × user × team", "user-teams", "GitHub's user → team memberships"),
        _daily("repo_day", "scope × day × repository", "repos", "pull requests per repository"),
        _daily("repo_review_times_day", "scope × day × repository × review stage", "repos", "PR review stages"),
        Table("seats", "scope × snapshot day × seat", "snapshot", "seats", "the seat roster", dated=False),
        Table("teams", "scope × snapshot day × team", "snapshot", "teams", "teams", per_scope=False, dated=False),
        Table(
            "team_members",
            "scope × snapshot day × team × member",
            "snapshot",
            "teams",
            "team member lists (effective-dated)",
            per_scope=False,
            dated=False,
        ),
        Table("billing_ai_credit", "scope × day × usage item", "snapshot", "billing", "the billing API's usage items"),
        Table(
            "billing_user_month",
            "scope × month × seat holder × usage item",
            "snapshot",
            "billing-users",
            "per seat holder and month; a user asked with no usage is one row of nulls (0 billed)",
        ),
        Table("billing_usage_csv", "scope × CSV line", "snapshot", "import", "the imported usage-report CSV"),
        Table(
            "billing_usage",
            "scope × day × usage item",
            "view",
            "billing",
            "API items and CSV rows in one schema (a day an imported CSV covers comes from the CSV)",
        ),
        Table(
            "cost_centers",
            "scope × snapshot day × cost centre",
            "snapshot",
            "cost-centers",
            "cost centres, pool target/current in US$",
            per_scope=False,
            dated=False,
        ),
        Table(
            "cost_center_resources",
            "scope × snapshot day × cost centre × resource",
            "snapshot",
            "cost-centers",
            "every resource as sent, ``known_type``",
            per_scope=False,
            dated=False,
        ),
        Table(
            "cost_center_members",
            "scope × snapshot day × cost centre × user",
            "snapshot",
            "cost-centers",
            "``via`` User / EnterpriseTeam / Organization, ``candidates`` = cost centres reaching the user",
            per_scope=False,
            dated=False,
        ),
        Table(
            "budgets",
            "scope × snapshot day × budget",
            "snapshot",
            "budgets",
            "``budget_scope`` as sent, ``scope_kind`` normalised, ``known_scope``",
            dated=False,
        ),
        Table(
            "budget_user_states",
            "scope × snapshot day × budget × user",
            "snapshot",
            "budgets",
            "per-user budget states",
            dated=False,
        ),
        Table("data_health", "scope × report × day", "snapshot", "build", "complete / no_data / pending / error"),
        Table(
            "quarantine",
            "scope × report × day × file or line set aside",
            "side",
            "build",
            "what the build could not read, and why",
        ),
        Table(
            "schema_drift",
            "scope × report × day × unknown field",
            "side",
            "build",
            "fields GitHub sent that the kit lacks",
        ),
        Table(
            "late_corrections",
            "scope × report × day × new version",
            "side",
            "build",
            "a day's totals before and after a new version",
        ),
    )
}
TABLES = tuple(REGISTRY)
"""Every table's name, in the kit's order (what :func:`~copilot_usage.cache.read.scan` reads)."""


def markdown() -> str:
    """The registry as the Markdown table ARCHITECTURE.md shows (a test checks they agree)."""
    lines = ["| Table | One row per | Stored | Filled by | Per scope | What |", "|---|---|---|---|---|---|"]
    for t in REGISTRY.values():
        scoped = "yes" if t.per_scope else "any scope"
        lines.append(f"| `{t.name}` | {t.grain} | {t.stored} | {t.source} | {scoped} | {t.description} |")
    return "\n".join(lines) + "\n"
