"""The processed tables: their names, where they live, the side tables' schemas."""

from __future__ import annotations

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


TABLES = (
    "user_day",
    "user_ide_day",
    "user_feature_day",
    "user_language_feature_day",
    "user_language_model_day",
    "user_model_feature_day",
    "user_3rd_party_agent_day",
    "user_cli_customisation_day",
    "aggregate_day",
    "aggregate_feature_day",
    "aggregate_model_feature_day",
    "aggregate_ide_day",
    "aggregate_language_feature_day",
    "aggregate_language_model_day",
    "aggregate_3rd_party_agent_day",
    "aggregate_cli_customisation_day",
    "aggregate_ai_adoption_phase_day",
    "user_team_day",
    "repo_day",
    "repo_review_times_day",
    "seats",
    "teams",
    "team_members",
    "billing_ai_credit",
    "billing_user_month",
    "billing_usage_csv",
    "billing_usage",
    "cost_centers",
    "cost_center_resources",
    "cost_center_members",
    "budgets",
    "budget_user_states",
    "data_health",
    "quarantine",
    "schema_drift",
    "late_corrections",
)
