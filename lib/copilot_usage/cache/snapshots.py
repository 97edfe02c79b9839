"""Snapshot parsers: the stored seats, teams, cost-centre and budget bodies → their tables."""

from __future__ import annotations

import json

import polars as pl

from ..analysis import budgets, cost_centers
from ..catalog import Scope
from ..ingest import rawstore


def _cost_center_rows(files: list[tuple[Scope, str, rawstore.RawFile]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The stored ``{"costCenters": [...]}`` bodies (active, deleted) → one row per cost centre and snapshot, and
    one per resource (every type kept; ``known_type`` false for types the kit does not know)."""
    centres, resources = [], []
    for scope, key, f in files:
        seen = set()
        for body in json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf")):
            for c in body.get("costCenters") or []:
                if c.get("id") in seen:
                    continue
                seen.add(c.get("id"))
                pool = c.get("ai_credit_pool_state") or {}
                base = {"scope": str(scope), "snapshot_day": key, "cost_center_id": c.get("id")}
                centres.append(
                    {
                        **base,
                        "cost_center_name": c.get("name"),
                        "state": c.get("state"),
                        "azure_subscription": c.get("azure_subscription"),
                        "ai_credit_pool_enabled": c.get("ai_credit_pool_enabled"),
                        "pool_target_usd": pool.get("target_amount"),
                        "pool_current_usd": pool.get("current_amount"),
                        "resources": len(c.get("resources") or []),
                    }
                )
                resources += [
                    {
                        **base,
                        "cost_center_name": c.get("name"),
                        "state": c.get("state"),
                        "type": r.get("type"),
                        "name": r.get("name"),
                        "known_type": r.get("type") in cost_centers.KNOWN_TYPES,
                    }
                    for r in c.get("resources") or []
                ]
    day = pl.col("snapshot_day").str.to_date()
    as_text = {"snapshot_day": pl.String}
    return (
        pl.DataFrame(centres, schema={**cost_centers.CENTERS_SCHEMA, **as_text}).with_columns(day),
        pl.DataFrame(resources, schema={**cost_centers.RESOURCES_SCHEMA, **as_text}).with_columns(day),
    )


def _budgets(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    """Budget snapshots → ``budgets`` and ``budget_user_states`` (+ ``schema_drift/budgets`` for scopes the kit
    does not know, kept as sent)."""
    rows, states = [], []
    for scope, key, f in files:
        stored = json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        base = {"scope": str(scope), "snapshot_day": key}
        for page in stored.get("budgets") or []:
            for b in page.get("budgets") or []:
                alerting = b.get("budget_alerting") or {}
                rows.append(
                    {
                        **base,
                        "budget_id": b.get("id"),
                        "budget_type": b.get("budget_type"),
                        "budget_scope": b.get("budget_scope"),
                        "budget_entity_name": b.get("budget_entity_name"),
                        "budget_product_sku": b.get("budget_product_sku"),
                        "budget_amount": b.get("budget_amount"),
                        "prevent_further_usage": b.get("prevent_further_usage"),
                        "will_alert": alerting.get("will_alert"),
                        "consumed_amount": b.get("consumed_amount"),
                        "user": b.get("user"),
                    }
                )
        for entry in stored.get("user_states") or []:
            for page in entry.get("pages") or []:
                states += [
                    {
                        **base,
                        "budget_id": entry.get("budget_id"),
                        "user": u.get("user"),
                        "consumed_amount": u.get("consumed_amount"),
                        "target_amount": u.get("target_amount"),
                        "override_budget_id": u.get("override_budget_id"),
                    }
                    for u in page.get("user_states") or []
                ]
    as_text = {"snapshot_day": pl.String}
    typed = {k: v for k, v in budgets.BUDGETS_SCHEMA.items() if k not in ("scope_kind", "known_scope")}
    frame = pl.DataFrame(rows, schema={**typed, **as_text}).with_columns(
        pl.col("snapshot_day").str.to_date(),
        scope_kind=budgets.normalise_scope(pl.col("budget_scope")),
    )
    frame = frame.with_columns(known_scope=pl.col("scope_kind").is_in(list(budgets.BUDGET_SCOPES))).select(
        list(budgets.BUDGETS_SCHEMA)
    )
    drift = frame.filter(~pl.col("known_scope")).select(
        "scope",
        report=pl.lit("budgets"),
        day=pl.col("snapshot_day").cast(pl.String),
        field=pl.format("budgets[].budget_scope={}", pl.col("budget_scope").fill_null("null")),
    )
    return {
        "budgets": frame,
        "budget_user_states": pl.DataFrame(states, schema={**budgets.USER_STATES_SCHEMA, **as_text}).with_columns(
            pl.col("snapshot_day").str.to_date()
        ),
        "schema_drift/budgets": drift.unique(maintain_order=True),
    }


def _seats(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    rows = []
    for scope, key, f in files:
        for page in json.loads(f.path.read_bytes()):
            for s in page.get("seats", []):
                a, o, t = s.get("assignee") or {}, s.get("organization") or {}, s.get("assigning_team") or {}
                rows.append(
                    {
                        "scope": str(scope),
                        "snapshot_day": key,
                        "user_id": a.get("id"),
                        "user_login": a.get("login"),
                        "organization": o.get("login"),
                        "plan_type": s.get("plan_type"),
                        "created_at": s.get("created_at"),
                        "last_activity_at": s.get("last_activity_at"),
                        "last_activity_editor": s.get("last_activity_editor"),
                        "pending_cancellation_date": s.get("pending_cancellation_date"),
                        "assigning_team": t.get("slug"),
                    }
                )
    # typed, not inferred: a roster in which no seat has (say) a pending cancellation has an all-null column
    schema = {
        "scope": pl.String,
        "snapshot_day": pl.String,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "organization": pl.String,
        "plan_type": pl.String,
        "created_at": pl.String,
        "last_activity_at": pl.String,
        "last_activity_editor": pl.String,
        "pending_cancellation_date": pl.String,
        "assigning_team": pl.String,
    }
    frame = pl.DataFrame(rows, schema=schema, strict=False).with_columns(
        pl.col("snapshot_day").str.to_date(),
        pl.col("created_at", "last_activity_at").str.to_datetime(time_zone="UTC", strict=False),
        pl.col("pending_cancellation_date").str.to_date(strict=False),
        pl.col("user_id").cast(pl.Int64),
    )
    return {"seats": frame}


def _teams(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    teams, members = [], []
    for scope, key, f in files:
        lines = f.path.read_bytes().splitlines()
        for page in json.loads(lines[0])["teams"]:
            for t in page:
                p = t.get("parent") or {}
                teams.append(
                    {
                        "scope": str(scope),
                        "snapshot_day": key,
                        "team_id": t["id"],
                        "slug": t["slug"],
                        "name": t.get("name"),
                        "parent_id": p.get("id"),
                        "parent_slug": p.get("slug"),
                    }
                )
        for line in lines[1:]:
            doc = json.loads(line)
            for page in doc["members"]:
                for m in page:
                    members.append(
                        {
                            "scope": str(scope),
                            "snapshot_day": key,
                            "team_id": doc["team_id"],
                            "user_id": m.get("id"),
                            "user_login": m.get("login"),
                            "inherited": m.get("inherited"),
                        }
                    )
    schema_t = {
        "scope": pl.String,
        "snapshot_day": pl.String,
        "team_id": pl.Int64,
        "slug": pl.String,
        "name": pl.String,
        "parent_id": pl.Int64,
        "parent_slug": pl.String,
    }
    schema_m = {
        "scope": pl.String,
        "snapshot_day": pl.String,
        "team_id": pl.Int64,
        "user_id": pl.Int64,
        "user_login": pl.String,
        "inherited": pl.Boolean,
    }
    return {
        "teams": pl.DataFrame(teams, schema=schema_t).with_columns(pl.col("snapshot_day").str.to_date()),
        "team_members": pl.DataFrame(members, schema=schema_m).with_columns(pl.col("snapshot_day").str.to_date()),
    }
