"""What the reports know about the processed tables they read: which fetch fills each, which are snapshots,
and the columns of an empty table when the cache lacks it (a report then says what to fetch, never fails)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from ..analysis import budgets, cost_centers
from ..cache import billing
from ..cache.tables import REGISTRY

BILLING_SCHEMA: dict[str, Any] = {
    "scope": pl.String,
    "day": pl.Date,
    "user": pl.String,
    "organization": pl.String,
    "cost_center": pl.String,
    "product": pl.String,
    "sku": pl.String,
    "model": pl.String,
    "unit_type": pl.String,
    "price_per_unit": pl.Float64,
    "quantity": pl.Float64,
    "credits": pl.Float64,
    "is_ai_credit": pl.Boolean,
    "gross_amount": pl.Float64,
    "discount_amount": pl.Float64,
    "net_amount": pl.Float64,
    "source": pl.String,
}

# which `fetch --reports` family fills each processed table a report reads (the cache's table registry)
FETCHED_BY = {n: t.source for n, t in REGISTRY.items() if t.source not in ("import", "build")}
# snapshot tables: read whole (no day filter); enterprise-level ones are read for any scope
SNAPSHOT_TABLES = tuple(n for n, t in REGISTRY.items() if not t.dated)
ANY_SCOPE_TABLES = tuple(n for n, t in REGISTRY.items() if not t.per_scope)
_UTC = pl.Datetime("us", "UTC")
# the columns the reports read from tables a cache may lack (what `build` writes for them): a report on a cache
# without them gets an empty frame of this shape and says what to fetch
EMPTY_TABLES: dict[str, Mapping[str, Any]] = {
    # GitHub added these from 2026-08-07 and 2026-06-26: a cache of older days has none
    "user_3rd_party_agent_day": {
        "scope": pl.String,
        "day": pl.Date,
        "user_id": pl.Int64,
        "agent_id": pl.String,
        "agent_name": pl.String,
        "user_initiated_interaction_count": pl.Int64,
    },
    "aggregate_3rd_party_agent_day": {
        "scope": pl.String,
        "day": pl.Date,
        "agent_id": pl.String,
        "agent_name": pl.String,
        "user_initiated_interaction_count": pl.Int64,
        "session_count": pl.Int64,
    },
    "aggregate_cli_customisation_day": {
        "scope": pl.String,
        "day": pl.Date,
        "kind": pl.String,
        "name": pl.String,
        "interaction_count": pl.Int64,
    },
    "aggregate_ai_adoption_phase_day": {
        "scope": pl.String,
        "day": pl.Date,
        "phase_number": pl.Int64,
        "phase": pl.String,
        "engaged_users": pl.Int64,
        "total_pull_requests_merged": pl.Int64,
        "avg_pull_requests_minutes_to_review": pl.Float64,
        "avg_pull_requests_review_cycles": pl.Float64,
    },
    "repo_review_times_day": {
        "scope": pl.String,
        "day": pl.Date,
        "repository_id": pl.Int64,
        "repository_name": pl.String,
        "authored_by": pl.String,
        "reviewed_by": pl.String,
        "total_merged": pl.Int64,
        **{
            f"{q}_minutes_{stage}": pl.Float64
            for stage in ("ready_to_first_review", "first_to_final_review", "final_review_to_merge")
            for q in ("median", "p90")
        },
    },
    "seats": {
        "scope": pl.String,
        "snapshot_day": pl.Date,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "organization": pl.String,
        "plan_type": pl.String,
        "created_at": _UTC,
        "last_activity_at": _UTC,
        "last_activity_editor": pl.String,
        "pending_cancellation_date": pl.Date,
        "assigning_team": pl.String,
    },
    "teams": {
        "scope": pl.String,
        "snapshot_day": pl.Date,
        "team_id": pl.Int64,
        "slug": pl.String,
        "name": pl.String,
        "parent_id": pl.Int64,
        "parent_slug": pl.String,
    },
    "team_members": {
        "scope": pl.String,
        "snapshot_day": pl.Date,
        "team_id": pl.Int64,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "inherited": pl.Boolean,
    },
    "cost_centers": cost_centers.CENTERS_SCHEMA,
    "cost_center_resources": cost_centers.RESOURCES_SCHEMA,
    "cost_center_members": cost_centers.MEMBERS_SCHEMA,
    "budgets": budgets.BUDGETS_SCHEMA,
    "budget_user_states": budgets.USER_STATES_SCHEMA,
    "billing_usage": BILLING_SCHEMA,
    "billing_user_month": billing.BILLING_USER_MONTH_SCHEMA,
    "user_team_day": {
        "scope": pl.String,
        "day": pl.Date,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "enterprise_id": pl.String,
        "organization_id": pl.String,
        "team_id": pl.Int64,
        "slug": pl.String,
    },
}
