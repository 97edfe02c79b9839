"""Serialise a :class:`Tenant` into GitHub's documented report files and REST bodies.

Everything here derives from ``Tenant.flags`` / ``Tenant.cells`` so that the reports reconcile: aggregate
sums equal summed user rows, active-user counts are distinct users over 1/7/28 days, org reports list a
multi-org user in each org while the enterprise counts them once (GitHub's attribution rules,
linked from https://docs.github.com/rest/copilot/copilot-usage-metrics).

Deliberate differences from GitHub, each documented in ARCHITECTURE.md: empty optional objects are
omitted (as GitHub does) by stripping ``null`` keys after serialisation; ``repos-1-day`` fields are our
guess (GitHub does not document them); aggregate ``median_minutes_to_merge*`` is the median of the
repositories' medians.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from ..analysis.pricing import CREDIT_PRICE_USD, included_amount
from ..catalog import (
    CLI_CUSTOMISATION_KINDS,
    COUNT_FIELDS,
    FIELD_STARTS,
    REVIEW_TIMES_READY_FROM,
    Scope,
)
from . import changes
from .tenant import _IDE_VERSION, COST_CENTRE_NAMES, IDES, PHASES, THIRD_PARTY_AGENTS, Tenant, stable_hash

_COUNTS = COUNT_FIELDS
_OPTIONAL_KEYS = (
    "totals_by_cli",
    "totals_by_copilot_app",
    "totals_by_3rd_party_agent",
    "daily_active_cli_users",
    "median_minutes_to_merge",
    "median_minutes_to_merge_copilot_authored",
    "median_minutes_to_merge_copilot_reviewed",
    "used_copilot_app",
    "used_vscode_agent",
    "totals_by_vscode_agent",
    *(f"totals_by_{k}" for k in CLI_CUSTOMISATION_KINDS),
    *(f"distinct_{k}_use_count" for k in CLI_CUSTOMISATION_KINDS),
)
# what a server-side-only row (GitHub's 2026-06-15 change) lacks: omitted rather than null
_DETAIL_KEYS = (
    *COUNT_FIELDS,
    "used_agent",
    "used_chat",
    "used_cli",
    "used_copilot_code_review_active",
    "used_copilot_code_review_passive",
    "used_copilot_coding_agent",
    "used_copilot_cloud_agent",
    "ai_adoption_phase",
)


def since(day: dt.date, field: str) -> bool:
    """Whether GitHub's reports carry ``field`` (a key of ``FIELD_STARTS``) on ``day``."""
    return day >= dt.date.fromisoformat(FIELD_STARTS[field])


def _tokens(requests: np.ndarray, per_in: float, per_out: float, rng: np.random.Generator) -> pl.Series:
    out_tok = rng.poisson(per_out * requests)
    in_tok = rng.poisson(per_in * requests)
    return pl.DataFrame(
        {
            "avg_tokens_per_request": np.round((out_tok + in_tok) / np.maximum(requests, 1), 1),
            "output_tokens_sum": out_tok,
            "prompt_tokens_sum": in_tok,
        }
    ).to_struct()


def app_frame(t: Tenant, day: dt.date, users: np.ndarray) -> pl.DataFrame:
    """``u, totals_by_copilot_app{session_count, request_count, prompt_count, token_usage{…}}`` of the Copilot app
    users among ``users`` (2026-07-17 changelog), from the day's own generator."""
    rng = t._rng(32, (day - t.start).days + 10_000)
    u = np.flatnonzero(t.flags(day)["copilot_app"])
    prompts = rng.poisson(4.0 * t.intensity[u]) + 1
    requests = prompts + rng.poisson(1.0 * prompts)
    frame = pl.DataFrame(
        {
            "u": u,
            "totals_by_copilot_app": pl.DataFrame(
                {
                    "prompt_count": prompts,
                    "request_count": requests,
                    "session_count": np.minimum(prompts, 1 + rng.poisson(0.6, u.size)),
                    "token_usage": _tokens(requests, 1800.0, 1400.0, rng),
                }
            ).to_struct(),
        },
        schema_overrides={"u": pl.Int64},
    )
    return frame.filter(pl.col("u").is_in(users))


def vscode_agent_frame(t: Tenant, day: dt.date, users: np.ndarray) -> pl.DataFrame:
    """``u, totals_by_vscode_agent{session_count, total_user_messages}``: the VS Code Agents window (not in-editor
    agent mode; 2026-09-11 changelog)."""
    rng = t._rng(31, (day - t.start).days + 10_000)
    u = np.flatnonzero(t.flags(day)["vscode_agent"])
    sessions = rng.poisson(1.0 * t.intensity[u]) + 1
    messages = sessions + rng.poisson(4.0 * sessions)
    frame = pl.DataFrame(
        {
            "u": u,
            "totals_by_vscode_agent": pl.DataFrame(
                {"session_count": sessions, "total_user_messages": messages}
            ).to_struct(),
        },
        schema_overrides={"u": pl.Int64},
    )
    return frame.filter(pl.col("u").is_in(users))


def _top5(frame: pl.DataFrame, kind: str, by: list[str]) -> pl.DataFrame:
    """``totals_by_<kind>``: the top 5 names by ``interaction_count`` (ties by name), per ``by``."""
    return (
        frame.filter(pl.col("kind") == kind)
        .group_by(*by, "name")
        .agg(pl.col("interaction_count").sum())
        .sort(*by, "interaction_count", "name", descending=[False] * len(by) + [True, False])
        .group_by(*by, maintain_order=True)
        .head(5)
        .rename({"name": kind})
    )


def customisation_user_frame(t: Tenant, day: dt.date, users: np.ndarray) -> pl.DataFrame:
    """Per CLI user among ``users``: ``totals_by_<kind>`` (top 5) and ``distinct_<kind>_use_count`` for each kind
    (2026-09-17 changelog); a CLI user who used none of a kind has ``[]`` and 0."""
    cli = np.flatnonzero(t.flags(day)["reported_cli"])
    cli = cli[np.isin(cli, users)]
    used = t.customisations(day).filter(pl.col("u").is_in(cli))
    out = pl.DataFrame({"u": cli}, schema={"u": pl.Int64})
    for kind in CLI_CUSTOMISATION_KINDS:  # five kinds, vectorised over users
        top = (
            _top5(used, kind, ["u"])
            .group_by("u", maintain_order=True)
            .agg(pl.struct(kind, "interaction_count").alias(f"totals_by_{kind}"))
        )
        distinct = used.filter(pl.col("kind") == kind).group_by("u").agg(pl.col("entity").n_unique().cast(pl.Int64))
        out = (
            out.join(top, on="u", how="left")
            .join(distinct.rename({"entity": f"distinct_{kind}_use_count"}), on="u", how="left")
            .with_columns(
                pl.col(f"totals_by_{kind}").fill_null(pl.lit([], dtype=top.schema[f"totals_by_{kind}"])),
                pl.col(f"distinct_{kind}_use_count").fill_null(0),
            )
        )
    return out


def _sums(*, interactions: bool = True) -> list[pl.Expr]:
    exprs = [
        pl.col("interactions").sum().alias("user_initiated_interaction_count"),
        pl.col("generations").sum().alias("code_generation_activity_count"),
        pl.col("acceptances").sum().alias("code_acceptance_activity_count"),
        pl.col("loc_suggested_add").sum().alias("loc_suggested_to_add_sum"),
        pl.col("loc_suggested_del").sum().alias("loc_suggested_to_delete_sum"),
        pl.col("loc_added").sum().alias("loc_added_sum"),
        pl.col("loc_deleted").sum().alias("loc_deleted_sum"),
    ]
    return exprs if interactions else exprs[1:]


def _nest(long: pl.DataFrame, keys: list[str], name: str, *, interactions: bool = True) -> pl.DataFrame:
    """Group ``long`` by user and ``keys`` and nest each user's groups as a list of structs."""
    grouped = long.group_by("u", *keys).agg(_sums(interactions=interactions)).sort("u", *keys)
    fields = [*keys, *(c for c in _COUNTS if interactions or c != "user_initiated_interaction_count")]
    return grouped.group_by("u", maintain_order=True).agg(pl.struct(fields).alias(name))


def scope_members(t: Tenant, scope: Scope) -> np.ndarray:
    if scope.kind == "enterprise":
        return np.ones(t.users, dtype=bool)
    return t.member[:, t.org_names.index(scope.slug)]


def _entity(t: Tenant, scope: Scope) -> dict[str, str]:
    if scope.kind == "enterprise":
        return {"enterprise_id": t.enterprise_id}
    return {"organization_id": t.org_ids[t.org_names.index(scope.slug)]}


def user_frame(t: Tenant, day: dt.date, scope: Scope) -> pl.DataFrame:
    """One nested row per active user of ``scope`` on ``day`` (the ``users-1-day`` record). Users only server-side
    telemetry reports (from 2026-06-15) carry ``user_id``, ``user_login`` and ``ai_credits_used`` only."""
    f = t.flags(day)
    members = scope_members(t, scope)
    active = np.flatnonzero(f["listed"] & members)
    detailed = np.flatnonzero(f["listed"] & ~f["server_side"] & members)
    cells = t.reported_cells(day).filter(pl.col("u").is_in(detailed))
    rng = t._rng(30, (day - t.start).days + 10_000)
    base = pl.DataFrame({"u": active}).with_columns(
        day=pl.lit(day.isoformat()),
        **{k: pl.lit(v) for k, v in _entity(t, scope).items()},
        user_id=pl.Series(t.user_id[active]),
        user_login=pl.Series(t.login[active]),
    )
    # ai_credits_used: what billing charges, less the share GitHub missed before its 2026-07-02 fix
    counted = 1.0 if day >= changes.credits_fixed() else changes.CREDITS_COUNTED_BEFORE_FIX
    credits = t.user_credits(day).group_by("u").agg(ai_credits_used=pl.col("credits").sum() * counted)
    top = cells.group_by("u").agg(*_sums()).join(credits, on="u", how="full", coalesce=True)
    phase = t.phase(day)[detailed]
    flags = pl.DataFrame(
        {
            "u": detailed,
            "used_agent": f["reported_agent"][detailed],
            "used_chat": f["chat"][detailed],
            "used_cli": f["reported_cli"][detailed],
            "used_copilot_code_review_active": f["review_active"][detailed],
            "used_copilot_code_review_passive": f["review_passive"][detailed],
            "used_copilot_coding_agent": f["cloud_agent"][detailed],
            "used_copilot_cloud_agent": f["cloud_agent"][detailed],
            "used_copilot_app": f["copilot_app"][detailed],
            "used_vscode_agent": f["vscode_agent"][detailed],
            "ai_adoption_phase": pl.DataFrame(
                {
                    "phase": np.array(PHASES)[phase],
                    "phase_number": phase,
                    "version": "v1",
                }
            ).to_struct(),
        }
    )
    ide_name = np.array(IDES)[t.ide]
    sampled = f"{day.isoformat()}T09:00:00.000Z"
    by_ide = (
        cells.filter(pl.col("feature") != "copilot_app")  # the Copilot app is no IDE
        .with_columns(ide=pl.Series(ide_name[cells.filter(pl.col("feature") != "copilot_app")["u"].to_numpy()]))
        .pipe(_nest, ["ide"], "totals_by_ide")
        .with_columns(
            pl.col("totals_by_ide").list.eval(
                pl.element().struct.with_fields(
                    last_known_ide_version=pl.struct(
                        ide_version=pl.element().struct.field("ide").replace_strict(_IDE_VERSION),
                        sampled_at=pl.lit(sampled),
                    ),
                    last_known_plugin_version=pl.struct(
                        plugin=pl.lit("copilot-chat"), plugin_version=pl.lit("0.33.1"), sampled_at=pl.lit(sampled)
                    ),
                )
            )
        )
    )
    cli = (
        cells.filter(pl.col("feature") == "copilot_cli")
        .group_by("u")
        .agg(prompt=pl.col("interactions").sum())
        .sort("u")
    )
    cu = cli["u"].to_numpy()
    prompts = cli["prompt"].to_numpy()
    requests = prompts + rng.poisson(0.5 * prompts)
    out_tok = rng.poisson(1800.0 * requests)
    in_tok = rng.poisson(2400.0 * requests)
    cli = pl.DataFrame(
        {
            "u": cu,
            "totals_by_cli": pl.DataFrame(
                {
                    "last_known_cli_version": pl.DataFrame(
                        {"cli_version": ["1.0.31"] * cu.size, "sampled_at": [sampled] * cu.size}
                    ).to_struct(),
                    "prompt_count": prompts,
                    "request_count": requests,
                    "session_count": np.minimum(prompts, 1 + rng.poisson(1.0, cu.size)),
                    "token_usage": pl.DataFrame(
                        {
                            "avg_tokens_per_request": np.round((out_tok + in_tok) / np.maximum(requests, 1), 1),
                            "output_tokens_sum": out_tok,
                            "prompt_tokens_sum": in_tok,
                        }
                    ).to_struct(),
                }
            ).to_struct(),
        },
        schema_overrides={"u": pl.Int64},
    )
    app = app_frame(t, day, detailed)
    tp_u = detailed[t.third_party[detailed] & f["agent"][detailed]]
    which = (t.user_id[tp_u] % len(THIRD_PARTY_AGENTS)).astype(int)
    third = (
        pl.DataFrame(
            {
                "u": tp_u,
                "agent_id": np.array([a for a, _ in THIRD_PARTY_AGENTS])[which],
                "agent_name": np.array([b for _, b in THIRD_PARTY_AGENTS])[which],
                "user_initiated_interaction_count": rng.poisson(2.0, tp_u.size) + 1,
            },
            schema_overrides={"u": pl.Int64},
        )
        .group_by("u", maintain_order=True)
        .agg(pl.struct("agent_id", "agent_name", "user_initiated_interaction_count").alias("totals_by_3rd_party_agent"))
    )
    frame = (
        base.join(top, on="u", how="left")
        .join(flags, on="u", how="left")
        .join(by_ide, on="u", how="left")
        .join(_nest(cells, ["feature"], "totals_by_feature"), on="u", how="left")
        .join(
            _nest(
                cells.rename({"lang": "language"}),
                ["language", "feature"],
                "totals_by_language_feature",
                interactions=False,
            ),
            on="u",
            how="left",
        )
        .join(
            _nest(
                cells.filter(pl.col("model").is_not_null()).rename({"lang": "language"}),
                ["language", "model"],
                "totals_by_language_model",
                interactions=False,
            ),
            on="u",
            how="left",
        )
        .join(
            _nest(cells.filter(pl.col("model").is_not_null()), ["model", "feature"], "totals_by_model_feature"),
            on="u",
            how="left",
        )
        .join(cli, on="u", how="left")
        .join(app, on="u", how="left")
        .join(third, on="u", how="left")
        .join(vscode_agent_frame(t, day, detailed), on="u", how="left")
        .join(customisation_user_frame(t, day, detailed), on="u", how="left")
        .sort("u")
    )
    dropped = [
        *(() if since(day, "copilot_app_user") else ("used_copilot_app", "totals_by_copilot_app")),
        *(() if since(day, "third_party_agent") else ("totals_by_3rd_party_agent",)),
        *(() if since(day, "vscode_agent") else ("used_vscode_agent", "totals_by_vscode_agent")),
        *(
            ()
            if since(day, "cli_customisation")
            else [n for k in CLI_CUSTOMISATION_KINDS for n in (f"totals_by_{k}", f"distinct_{k}_use_count")]
        ),
    ]
    frame = frame.drop(dropped)
    lists = [
        c
        for c in frame.columns
        if c.startswith("totals_by_")
        and isinstance(frame.schema[c], pl.List)
        and c != "totals_by_3rd_party_agent"
        and c.removeprefix("totals_by_") not in CLI_CUSTOMISATION_KINDS  # absent for users without CLI use
    ]
    frame = frame.with_columns(pl.col(c).fill_null(pl.lit([], dtype=frame.schema[c])) for c in lists)
    if day >= t.credits_start:
        frame = frame.with_columns(pl.col("ai_credits_used").round(3))
    else:  # the field is absent on rows before 2026-06-19, when GitHub added it
        # (https://github.blog/changelog/2026-06-19-ai-credits-consumed-per-user-now-in-the-copilot-usage-metrics-api)
        frame = frame.drop("ai_credits_used")
    return frame.drop("u")


def to_ndjson(frame: pl.DataFrame) -> bytes:
    """Serialise rows as NDJSON, omitting optional keys whose value is null (as GitHub does)."""
    buf = io.BytesIO()
    frame.write_ndjson(buf)
    data = buf.getvalue()
    for key in (*_OPTIONAL_KEYS, *_DETAIL_KEYS):
        data = data.replace(f',"{key}":null'.encode(), b"")
    return data


def users_28_day(t: Tenant, scope: Scope) -> tuple[dt.date, dt.date, pl.DataFrame]:
    end = t.newest
    begin = end - dt.timedelta(days=27)
    frames = [
        user_frame(t, d, scope).with_columns(
            report_start_day=pl.lit(begin.isoformat()), report_end_day=pl.lit(end.isoformat())
        )
        for d in _days(begin, end)
        if t.has_data(d, scope.kind)
    ]
    return begin, end, pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def _days(begin: dt.date, end: dt.date) -> list[dt.date]:
    return [begin + dt.timedelta(days=k) for k in range((end - begin).days + 1)]


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def aggregate_record(t: Tenant, day: dt.date, scope: Scope) -> dict[str, Any]:
    """The ``enterprise-1-day`` / ``organization-1-day`` record: sums of the scope's user rows."""
    members = scope_members(t, scope)
    f = t.flags(day)
    active = np.flatnonzero(f["listed"] & members)  # the users GitHub counts that day (simulate/changes.py)
    detailed = active[~f["server_side"][active]]  # server-side-only users have no breakdowns
    cells = t.reported_cells(day).filter(pl.col("u").is_in(detailed)).rename({"lang": "language"})
    tot = cells.select(_sums()).row(0, named=True) if cells.height else dict.fromkeys(_COUNTS, 0)
    ide = cells.with_columns(ide=pl.Series(np.array(IDES)[t.ide[cells["u"].to_numpy()]], dtype=pl.String))

    def grouped(frame: pl.DataFrame, keys: list[str], *, interactions: bool = True) -> list[dict[str, Any]]:
        return _rows(frame.group_by(keys).agg(_sums(interactions=interactions)).sort(keys))

    def distinct(key: str, days: int) -> int:
        return int((t.window_flags(day, days, key) & members).sum())

    user_rows = user_frame(t, day, scope)
    record: dict[str, Any] = {
        "day": day.isoformat(),
        **_entity(t, scope),
        "daily_active_users": int(active.size),
        "weekly_active_users": distinct("listed", 7),
        "monthly_active_users": distinct("listed", 28),
        "monthly_active_chat_users": distinct("chat", 28),
        "monthly_active_agent_users": distinct("reported_agent", 28),
        "daily_active_copilot_cloud_agent_users": int((f["cloud_agent"] & members).sum()),
        "weekly_active_copilot_cloud_agent_users": distinct("cloud_agent", 7),
        "monthly_active_copilot_cloud_agent_users": distinct("cloud_agent", 28),
        "daily_active_copilot_code_review_users": int((f["review_active"] & members).sum()),
        "weekly_active_copilot_code_review_users": distinct("review_active", 7),
        "monthly_active_copilot_code_review_users": distinct("review_active", 28),
        "daily_passive_copilot_code_review_users": int((f["review_passive"] & members).sum()),
        "weekly_passive_copilot_code_review_users": distinct("review_passive", 7),
        "monthly_passive_copilot_code_review_users": distinct("review_passive", 28),
        **{k: int(tot[k]) for k in _COUNTS},
        "pull_requests": pull_request_totals(repos_frame(t, day, scope)),
        "totals_by_ide": grouped(ide, ["ide"]),
        "totals_by_feature": grouped(cells, ["feature"]),
        "totals_by_language_feature": grouped(cells, ["language", "feature"], interactions=False),
        "totals_by_language_model": grouped(
            cells.filter(pl.col("model").is_not_null()), ["language", "model"], interactions=False
        ),
        "totals_by_model_feature": grouped(cells.filter(pl.col("model").is_not_null()), ["model", "feature"]),
    }
    n_cli = int((f["reported_cli"] & members).sum())
    if n_cli:
        record["daily_active_cli_users"] = n_cli
        cli = (
            user_rows["totals_by_cli"]
            .struct.unnest()
            .select(
                "prompt_count",
                "request_count",
                "session_count",
                pl.col("token_usage").struct.field("output_tokens_sum"),
                pl.col("token_usage").struct.field("prompt_tokens_sum"),
            )
            .sum()
            .row(0, named=True)
        )
        req = cli["request_count"] or 1
        record["totals_by_cli"] = {
            "prompt_count": cli["prompt_count"],
            "request_count": cli["request_count"],
            "session_count": cli["session_count"],
            "token_usage": {
                "avg_tokens_per_request": round((cli["output_tokens_sum"] + cli["prompt_tokens_sum"]) / req, 1),
                "output_tokens_sum": cli["output_tokens_sum"],
                "prompt_tokens_sum": cli["prompt_tokens_sum"],
            },
        }
    if "totals_by_3rd_party_agent" in user_rows.columns:
        tp = (
            user_rows.select(pl.col("totals_by_3rd_party_agent").explode())
            .drop_nulls()
            .unnest("totals_by_3rd_party_agent")
        )
        if tp.height:
            record["totals_by_3rd_party_agent"] = _rows(
                tp.group_by("agent_id", "agent_name")
                .agg(pl.col("user_initiated_interaction_count").sum(), pl.len().cast(pl.Int64).alias("session_count"))
                .sort("agent_id")
            )
    record.update(_new_aggregate_fields(t, day, members, detailed, record["pull_requests"]["total_merged"]))
    return record


def _new_aggregate_fields(
    t: Tenant, day: dt.date, members: np.ndarray, active: np.ndarray, merged: int
) -> dict[str, Any]:
    """The aggregate fields GitHub added June–October 2026, each from its start date (``FIELD_STARTS``)."""
    f = t.flags(day)
    out: dict[str, Any] = {}
    if since(day, "copilot_app_aggregate"):
        app_users = f["copilot_app"] & members  # app-only users too, before they count as active users (07-28)
        out["daily_active_copilot_app_users"] = int(app_users.sum())
        app = app_frame(t, day, np.flatnonzero(app_users))
        if app.height:  # null (here: omitted) when there is no app activity
            tot = app["totals_by_copilot_app"].struct.unnest()
            tok = tot["token_usage"].struct.unnest().sum().row(0, named=True)
            req = int(tot["request_count"].sum())
            out["totals_by_copilot_app"] = {
                "session_count": int(tot["session_count"].sum()),
                "request_count": req,
                "prompt_count": int(tot["prompt_count"].sum()),
                "token_usage": {
                    "prompt_tokens_sum": tok["prompt_tokens_sum"],
                    "output_tokens_sum": tok["output_tokens_sum"],
                    "avg_tokens_per_request": round((tok["prompt_tokens_sum"] + tok["output_tokens_sum"]) / req, 1),
                },
            }
    if since(day, "vscode_agent"):
        out["daily_active_vscode_agent_users"] = int((f["vscode_agent"] & members).sum())
        vs = vscode_agent_frame(t, day, active)
        if vs.height:
            out["totals_by_vscode_agent"] = vs["totals_by_vscode_agent"].struct.unnest().sum().row(0, named=True)
    if since(day, "cli_customisation"):
        used = t.customisations(day).filter(pl.col("u").is_in(active))
        for kind in CLI_CUSTOMISATION_KINDS:
            out[f"totals_by_{kind}"] = _rows(_top5(used.with_columns(k=pl.lit(0)), kind, ["k"]).drop("k"))
            # per entity: how many distinct entities the scope used, not a sum over users
            out[f"distinct_{kind}_use_count"] = used.filter(pl.col("kind") == kind)["entity"].n_unique()
    phase = t.phase(day)[active[~f["server_side"][active]]]  # server-side-only rows carry no phase
    phases = (
        pl.DataFrame({"phase_number": phase})
        .group_by("phase_number")
        .agg(engaged_users=pl.len().cast(pl.Int64))
        .sort("phase_number")
        .with_columns(phase=pl.col("phase_number").replace_strict(dict(enumerate(PHASES)), return_dtype=pl.String))
    )
    if since(day, "phase_total_pull_requests_merged") and phases.height:
        rng = t._rng(42, (day - t.start).days + 10_000)
        weight = phases["engaged_users"].to_numpy() * (1.0 + phases["phase_number"].to_numpy())
        split = rng.multinomial(merged, weight / weight.sum())
        phases = phases.with_columns(total_pull_requests_merged=pl.Series(split, dtype=pl.Int64))
        if since(day, "phase_review_times"):
            num = phases["phase_number"].to_numpy()
            minutes = np.round(rng.lognormal(np.log(300.0) - 0.15 * num, 0.2), 1)
            cycles = np.round(rng.uniform(1.2, 2.4, num.size) - 0.1 * num, 2)
            phases = phases.with_columns(
                avg_pull_requests_minutes_to_review=pl.Series(np.where(split > 0, minutes, np.nan)).fill_nan(None),
                avg_pull_requests_review_cycles=pl.Series(np.where(split > 0, cycles, np.nan)).fill_nan(None),
            )
    out["totals_by_ai_adoption_phase"] = _rows(phases)
    return out


def aggregate_28_day(t: Tenant, scope: Scope) -> dict[str, Any]:
    end = t.newest
    begin = end - dt.timedelta(days=27)
    return {
        "report_start_day": begin.isoformat(),
        "report_end_day": end.isoformat(),
        **_entity(t, scope),
        "created_at": f"{t.today.isoformat()}T04:12:00Z",
        "day_totals": [aggregate_record(t, d, scope) for d in _days(begin, end) if t.has_data(d, scope.kind)],
    }


def user_teams_frame(t: Tenant, day: dt.date, scope: Scope) -> pl.DataFrame:
    """``user-teams-1-day``: direct memberships of seated users; teams under 5 seated users dropped."""
    seated = np.flatnonzero(t.seated(day))
    m = t.team_rows(day).filter(pl.col("u").is_in(seated))
    if scope.kind == "org":
        o = t.org_names.index(scope.slug)
        m = m.filter(pl.col("t").is_in(np.flatnonzero(t.team_org == o)))
    m = m.filter(pl.len().over("t") >= 5).sort("u", "t")
    u, team = m["u"].to_numpy(), m["t"].to_numpy()
    return pl.DataFrame(
        {
            "user_id": t.user_id[u],
            "user_login": t.login[u],
            "day": [day.isoformat()] * m.height,
            **{k: [v] * m.height for k, v in _entity(t, scope).items()},
            "team_id": t.team_id[team],
            "slug": t.team_slug[team],
        },
        schema_overrides={"user_id": pl.Int64, "team_id": pl.Int64},
    )


def repos_frame(t: Tenant, day: dt.date, scope: Scope) -> pl.DataFrame:
    """``repos-1-day``: per-repository pull-request figures (field list is our guess: GitHub does not
    document it)."""
    f = t.flags(day)
    orgs = range(t.orgs) if scope.kind == "enterprise" else [t.org_names.index(scope.slug)]
    dau = np.array([int((f["active"] & t.member[:, o]).sum()) for o in range(t.orgs)])
    agents = np.array([int((f["agent"] & t.member[:, o]).sum()) for o in range(t.orgs)])
    rng = t._rng(40, (day - t.start).days + 10_000)
    r = t.repo_org.size
    created = rng.poisson(t.repo_weight * dau[t.repo_org] * 0.05)
    by_copilot = rng.binomial(created, np.clip(agents[t.repo_org] / np.maximum(dau[t.repo_org], 1) * 0.4, 0, 1))
    merged = rng.binomial(created, 0.8)
    merged_cp = np.minimum(rng.binomial(by_copilot, 0.7), merged)
    reviewed = rng.binomial(created, 0.9)
    reviewed_cp = rng.binomial(reviewed, 0.35)
    minutes = np.round(rng.lognormal(np.log(240), 0.6, r), 1)
    minutes_cp = np.round(minutes * rng.uniform(0.5, 0.9, r), 1)
    suggestions = rng.poisson(reviewed_cp * 3.0)
    frame = pl.DataFrame(
        {
            "day": [day.isoformat()] * r,
            **{k: [v] * r for k, v in _entity(t, scope).items()},
            "repository_id": t.repo_id,
            "repository_name": t.repo_name,
            "pull_requests": pl.DataFrame(
                {
                    "total_created": created,
                    "total_reviewed": reviewed,
                    "total_merged": merged,
                    "median_minutes_to_merge": np.where(merged > 0, minutes, np.nan),
                    "total_suggestions": suggestions + rng.poisson(created * 1.0),
                    "total_applied_suggestions": rng.binomial(suggestions, 0.4),
                    "total_created_by_copilot": by_copilot,
                    "total_reviewed_by_copilot": reviewed_cp,
                    "total_merged_created_by_copilot": merged_cp,
                    "total_merged_reviewed_by_copilot": np.minimum(rng.binomial(reviewed_cp, 0.8), merged),
                    "median_minutes_to_merge_copilot_authored": np.where(merged_cp > 0, minutes_cp, np.nan),
                    "median_minutes_to_merge_copilot_reviewed": np.where(reviewed_cp > 0, minutes_cp * 1.1, np.nan),
                    "total_copilot_suggestions": suggestions,
                    "total_copilot_applied_suggestions": rng.binomial(suggestions, 0.45),
                }
            )
            .with_columns(pl.selectors.float().round(1).fill_nan(None))
            .to_struct(),
        },
        schema_overrides={"repository_id": pl.Int64},
    )
    if since(day, "pull_request_review_times"):
        frame = frame.with_columns(pull_request_review_times=_review_times(t, day, merged))
    return frame.filter(pl.Series(np.isin(t.repo_org, list(orgs)) & (created > 0)))


def _review_times(t: Tenant, day: dt.date, merged: np.ndarray) -> pl.Series:
    """``pull_request_review_times[]`` per repository (2026-09-25 changelog): one entry (human authors, human
    reviewers) for the merged PRs that became ready on or after 2026-09-21, ``[]`` on a day with none. Minutes;
    first-to-final is 0 when there was a single review."""
    rng = t._rng(41, (day - t.start).days + 10_000)
    r = merged.size
    ready_days = (day - dt.date.fromisoformat(REVIEW_TIMES_READY_FROM)).days
    counted = rng.binomial(merged, min(1.0, 0.2 + ready_days / 20) * 0.85)
    first = rng.lognormal(np.log(90.0), 0.7, r)
    final = np.where(rng.random(r) < 0.3, 0.0, rng.lognormal(np.log(180.0), 0.8, r))
    merge = rng.lognormal(np.log(45.0), 0.9, r)
    spread = rng.uniform(2.0, 4.0, (3, r))
    entries = pl.DataFrame(
        {
            "authored_by": ["human"] * r,
            "reviewed_by": ["human"] * r,
            "total_merged": counted,
            "median_minutes_ready_to_first_review": np.round(first, 1),
            "p90_minutes_ready_to_first_review": np.round(first * spread[0], 1),
            "median_minutes_first_to_final_review": np.round(final, 1),
            "p90_minutes_first_to_final_review": np.round(final * spread[1], 1),
            "median_minutes_final_review_to_merge": np.round(merge, 1),
            "p90_minutes_final_review_to_merge": np.round(merge * spread[2], 1),
        },
        schema_overrides={"total_merged": pl.Int64},
    ).to_struct()
    return (
        pl.DataFrame({"e": entries, "n": counted})
        .select(
            pl.when(pl.col("n") > 0).then(pl.concat_list(pl.col("e"))).otherwise(pl.lit([], pl.List(entries.dtype)))
        )
        .to_series()
        .alias("pull_request_review_times")
    )


def pull_request_totals(repos: pl.DataFrame) -> dict[str, Any]:
    if repos.height == 0:
        return {
            "total_created": 0,
            "total_reviewed": 0,
            "total_merged": 0,
            "total_suggestions": 0,
            "total_applied_suggestions": 0,
            "total_created_by_copilot": 0,
            "total_reviewed_by_copilot": 0,
            "total_merged_created_by_copilot": 0,
            "total_merged_reviewed_by_copilot": 0,
            "total_copilot_suggestions": 0,
            "total_copilot_applied_suggestions": 0,
        }
    pr = repos["pull_requests"].struct.unnest()
    out: dict[str, Any] = pr.select(pl.selectors.integer().sum()).row(0, named=True)
    for col in (
        "median_minutes_to_merge",
        "median_minutes_to_merge_copilot_authored",
        "median_minutes_to_merge_copilot_reviewed",
    ):
        med = pr[col].drop_nulls().median()
        if med is not None:
            out[col] = round(float(med), 1)  # type: ignore[arg-type]
    return out


# ---------------------------------------------------------------------- REST resources
def _iso(t: Tenant, index: int, hour: int = 9) -> str:
    return f"{(t.start + dt.timedelta(days=int(index))).isoformat()}T{hour:02d}:00:00Z"


def last_active_index(t: Tenant) -> np.ndarray:
    """Day index of each user's newest active day in the window (-1 if none)."""
    last = np.full(t.users, -1)
    for k in range(t.days):  # a loop over days, vectorised over users
        d = t.start + dt.timedelta(days=k)
        last = np.where(t.flags(d)["active"], k, last)
    return last


def seats(t: Tenant, scope: Scope) -> list[dict[str, Any]]:
    """Seat roster as of ``today``: one entry per (user, granting org); the enterprise lists all orgs."""
    today = (t.today - t.start).days
    holding = (t.seat_start <= today) & (today < t.seat_end)
    last = last_active_index(t)
    orgs = range(t.orgs) if scope.kind == "enterprise" else [t.org_names.index(scope.slug)]
    first_team = t.memberships.group_by("u").agg(pl.col("t").min()).sort("u")
    team_of = np.full(t.users, -1)
    team_of[first_team["u"].to_numpy()] = first_team["t"].to_numpy()
    pending = _first_of_next_month(t.today).isoformat()
    out = []
    for o in orgs:  # orgs, not rows; rows are built from arrays below
        for u in np.flatnonzero(holding & t.member[:, o]).tolist():
            team = int(team_of[u])
            out.append(
                {
                    "created_at": _iso(t, t.seat_start[u]),
                    "assignee": {"login": str(t.login[u]), "id": int(t.user_id[u]), "type": "User"},
                    "organization": {"login": t.org_names[o], "id": int(t.org_ids[o])},
                    "assigning_team": None
                    if team < 0 or t.team_org[team] != o
                    else {"id": int(t.team_id[team]), "slug": str(t.team_slug[team]), "name": str(t.team_slug[team])},
                    "pending_cancellation_date": pending if t.pending_cancel[u] else None,
                    "last_activity_at": _iso(t, last[u], 15) if last[u] >= 0 else None,
                    "last_activity_editor": f"{IDES[t.ide[u]]}/{_IDE_VERSION[IDES[t.ide[u]]]}/copilot/1.380.0"
                    if last[u] >= 0
                    else None,
                    "last_authenticated_at": _iso(t, max(last[u], t.seat_start[u]), 8) if last[u] >= 0 else None,
                    "updated_at": _iso(t, t.seat_start[u]),
                    "plan_type": t.org_plan[o],
                }
            )
    return out


def _first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def teams(t: Tenant, scope: Scope) -> list[dict[str, Any]]:
    if scope.kind == "enterprise":
        idx = np.flatnonzero(t.team_org < 0)
    else:
        idx = np.flatnonzero(t.team_org == t.org_names.index(scope.slug))
    out = []
    for i in idx.tolist():
        p = int(t.team_parent[i])
        out.append(
            {
                "id": int(t.team_id[i]),
                "slug": str(t.team_slug[i]),
                "name": str(t.team_name[i]),
                "description": "",
                "privacy": "closed",
                "parent": None
                if p < 0
                else {"id": int(t.team_id[p]), "slug": str(t.team_slug[p]), "name": str(t.team_name[p])},
            }
        )
    return out


def team_members(t: Tenant, scope: Scope, team: str) -> list[dict[str, Any]] | None:
    """Current members of a team, including members of child teams (as GitHub's team-members REST API lists
    them)."""
    match = np.flatnonzero(t.team_slug == team)
    if scope.kind == "org":
        match = match[t.team_org[match] == t.org_names.index(scope.slug)]
    if match.size == 0:
        return None
    ti = int(match[0])
    family = {ti}
    for _ in range(4):  # nesting depth is small
        family |= set(np.flatnonzero(np.isin(t.team_parent, list(family))).tolist())
    today_rows = t.team_rows(t.today)
    direct = set(today_rows.filter(pl.col("t") == ti)["u"].to_list())
    users = sorted(set(today_rows.filter(pl.col("t").is_in(list(family)))["u"].to_list()))
    return [
        {
            "login": str(t.login[u]),
            "id": int(t.user_id[u]),
            "type": "User",
            "role": "member",
            "inherited": u not in direct,
        }
        for u in users
    ]


def billing_lines(t: Tenant, scope: Scope, year: int, month: int) -> pl.DataFrame:
    """Per (day, user, model) AI-credit usage of a month with the pooled included-credit discount.

    Billing entity: the enterprise (every user) or, for an organization, the users whose licence it
    grants (primary org). Pool = included credits of every licence held at month start or added
    during the month, growing on the day a seat is added (GitHub Docs, "Usage-based billing for organizations
    and enterprises", linked in ``pricing.py``).
    """
    first = dt.date(year, month, 1)
    # billing is near real time: it runs to yesterday, past the metrics' processing lag
    last = min(_first_of_next_month(first) - dt.timedelta(days=1), t.today - dt.timedelta(days=1))
    if scope.kind == "enterprise":
        billed = np.ones(t.users, dtype=bool)
    else:
        billed = t.primary_org == t.org_names.index(scope.slug)
    frames = []
    for d in _days(max(first, t.credits_start, t.start), last) if last >= first else []:
        uc = t.user_credits(d).filter(pl.col("model").is_not_null() & pl.col("u").is_in(np.flatnonzero(billed)))
        frames.append(uc.with_columns(day=pl.lit(d)))
    empty = pl.DataFrame(
        schema={"day": pl.Date, "user": pl.String, "model": pl.String, "gross": pl.Float64, "discount": pl.Float64}
    )
    if not frames:
        return empty
    lines = pl.concat(frames).with_columns(
        gross=pl.col("credits").round(3), user=pl.Series(t.login[pl.concat(frames)["u"].to_numpy()])
    )
    if scope.kind == "enterprise":
        lines = _billing_discrepancies(t, lines)
    lines = lines.sort("day", "user", "model")
    i0 = (first - t.start).days
    credits = np.array([included_amount(p, first) for p in t.plan], dtype=float)  # the allowance in force
    start_in_month = np.where(t.seat_start > i0, t.seat_start - i0, 0)
    holds = billed & (t.seat_start <= i0 + 31) & (t.seat_end > i0)
    pool_by_day = (
        pl.DataFrame({"offset": start_in_month[holds], "credits": credits[holds]})
        .group_by("offset")
        .agg(pl.col("credits").sum())
        .sort("offset")
    )
    return (
        lines.with_columns(offset=(pl.col("day") - pl.lit(first)).dt.total_days())
        .join_asof(
            pool_by_day.with_columns(pool=pl.col("credits").cum_sum()).select("offset", "pool"),
            on="offset",
            strategy="backward",
        )
        .with_columns(before=pl.col("gross").cum_sum() - pl.col("gross"))
        .with_columns(
            discount=pl.min_horizontal(pl.col("gross"), (pl.col("pool").fill_null(0) - pl.col("before")).clip(0))
        )
        .select("day", "user", "model", "gross", "discount")
    )


def billing_discrepancy_days(t: Tenant) -> dict[str, dt.date]:
    """The deliberate billing-vs-metrics differences of the enterprise (documented in ARCHITECTURE.md)."""
    return {"late_correction": t.newest - dt.timedelta(days=10), "outside_scope": t.newest - dt.timedelta(days=5)}


EXTERNAL_USER = "simdev-external"
CORRECTION_CREDITS = 12.5
EXTERNAL_CREDITS = 40.0


def _billing_discrepancies(t: Tenant, lines: pl.DataFrame) -> pl.DataFrame:
    """A late correction (billing re-rated one user's day after the metrics were final) and a user billed to
    the enterprise who is outside its metrics (e.g. licensed through another billing path). The third
    difference, days inside the metrics' processing lag, comes from billing running to yesterday."""
    days = billing_discrepancy_days(t)
    corrected = lines.filter(pl.col("day") == days["late_correction"]).sort("user", "model").head(1)
    out = lines
    if corrected.height:
        key = corrected.select("day", "user", "model")
        out = out.join(key.with_columns(_fix=pl.lit(CORRECTION_CREDITS)), on=["day", "user", "model"], how="left")
        out = out.with_columns(gross=pl.col("gross") + pl.col("_fix").fill_null(0.0)).drop("_fix")
    if lines.filter(pl.col("day") == days["outside_scope"]).height:
        extra = pl.DataFrame(
            {"day": [days["outside_scope"]], "user": [EXTERNAL_USER], "model": ["gpt-5"], "gross": [EXTERNAL_CREDITS]}
        )
        out = pl.concat([out, extra], how="diagonal_relaxed")
    return out


def billing_csv(t: Tenant, scope: Scope, year: int, month: int) -> bytes:
    """GitHub's detailed usage-report CSV for a month (UTF-8 with a byte-order mark), per user, day and model."""
    lines = billing_lines(t, scope, year, month)
    owner = t.org_names[0] if scope.kind == "enterprise" else scope.slug
    of = cost_center_of(t, t.today)
    names = np.array([d["name"] for d in cost_center_defs(t)] + [""])
    centre = pl.DataFrame({"user": t.login, "cost_center_name": names[of]})
    lines = lines.join(centre, on="user", how="left").with_columns(pl.col("cost_center_name").fill_null(""))
    frame = lines.select(
        date=pl.col("day").cast(pl.String),
        username=pl.col("user"),
        product=pl.lit("copilot"),
        sku=pl.lit("copilot_ai_credit"),
        model=pl.col("model"),
        quantity=pl.col("gross"),
        unit_type=pl.lit("ai-credits"),
        applied_cost_per_quantity=pl.lit(0.01),
        gross_amount=(pl.col("gross") * 0.01).round(5),
        discount_amount=(pl.col("discount") * 0.01).round(5),
        net_amount=((pl.col("gross") - pl.col("discount")) * 0.01).round(5),
        total_monthly_quota=pl.lit(None, dtype=pl.Float64),
        organization=pl.lit(owner),
        repository=pl.lit(""),
        cost_center_name=pl.col("cost_center_name"),
        aic_quantity=pl.col("gross"),
        aic_gross_amount=(pl.col("gross") * 0.01).round(5),
    )
    buf = io.BytesIO()
    frame.write_csv(buf)
    return b"\xef\xbb\xbf" + buf.getvalue()


def billing_usage(
    t: Tenant, scope: Scope, params: dict[str, str], lines_for: Callable[[Scope, int, int], pl.DataFrame] | None = None
) -> dict[str, Any]:
    """The ``settings/billing/ai_credit/usage`` body for the given query filters (GitHub's billing usage API)."""
    today = t.today
    year = int(params.get("year", today.year))
    month = int(params.get("month", today.month))
    lines = lines_for(scope, year, month) if lines_for else billing_lines(t, scope, year, month)
    period: dict[str, int] = {"year": year, "month": month}
    if "day" in params:
        period["day"] = int(params["day"])
        lines = lines.filter(pl.col("day").dt.day() == period["day"])
    echo: dict[str, Any] = {}
    for key in ("user", "model"):
        if key in params:
            lines = lines.filter(pl.col(key) == params[key])
            echo[key] = params[key]
    items = lines.group_by("model").agg(pl.col("gross").sum(), pl.col("discount").sum()).sort("model")
    owner = {"enterprise": t.enterprise} if scope.kind == "enterprise" else {"organization": scope.slug}
    return {
        "timePeriod": period,
        **owner,
        **echo,
        "usageItems": [
            {
                "product": "Copilot",
                "sku": "Copilot AI Credits",
                "model": r["model"],
                "unitType": "credits",
                "pricePerUnit": 0.01,
                "grossQuantity": round(r["gross"], 3),
                "grossAmount": round(r["gross"] * 0.01, 5),
                "discountQuantity": round(r["discount"], 3),
                "discountAmount": round(r["discount"] * 0.01, 5),
                "netQuantity": round(r["gross"] - r["discount"], 3),
                "netAmount": round((r["gross"] - r["discount"]) * 0.01, 5),
            }
            for r in items.iter_rows(named=True)
        ],
    }


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


# ---------------------------------------------------------------------- cost centres
# A resource's precedence when a user is reached by several (a direct assignment wins over a team, a team over an
# organization); several of the same kind: the cost centre first by name. The kit resolves members the same way.
COST_CENTER_PRECEDENCE = {"User": 0, "EnterpriseTeam": 1, "Organization": 2}


def _uuid(t: Tenant, *parts: object) -> str:
    h = f"{stable_hash(t.seed, 'cost-center', *parts):016x}{stable_hash(t.seed, 'cc2', *parts):016x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def cost_center_defs(t: Tenant) -> list[dict[str, Any]]:
    """The tenant's cost centres: organization-, enterprise-team- and user-assigned ones, one with an AI-credit
    pool, one deleted; the last organization is in none (its users are "no cost centre" unless assigned
    otherwise)."""
    orgs = t.org_names
    direct = np.flatnonzero(np.arange(t.users) % 13 == 5)
    ent_team = next((str(s) for s in t.team_slug if str(s) == "ent:ai-champions"), None)
    defs: list[dict[str, Any]] = [
        {"name": t.cost_centre_names[0], "state": "active", "pool": False, "orgs": orgs[:1], "teams": [], "users": []},
        {
            "name": t.cost_centre_names[1],
            "state": "active",
            "pool": True,
            "orgs": orgs[1:2],
            "teams": [ent_team] if ent_team else [],
            "users": [],
        },
        {
            "name": t.cost_centre_names[2],
            "state": "active",
            "pool": False,
            "orgs": [],
            "teams": [],
            "users": [str(x) for x in t.login[direct]],
            "repos": [str(t.repo_name[0])] if t.repo_name.size else [],
        },
        {
            "name": t.cost_centre_names[3],
            "state": "deleted",
            "pool": False,
            "orgs": [],
            "teams": [],
            "users": [str(x) for x in t.login[np.arange(t.users) % 29 == 3]],
        },
    ]
    for d, name in zip(defs, COST_CENTRE_NAMES, strict=True):
        d["id"] = _uuid(t, name)  # the same ids whatever the names
    return defs


def cost_center_of(t: Tenant, day: dt.date) -> np.ndarray:
    """Per user, the index (into :func:`cost_center_defs`) of the active cost centre their usage is billed to on
    ``day``, -1 for none: direct > enterprise team > organization; ties: the cost centre first by name."""
    defs = cost_center_defs(t)
    rank = np.full(t.users, 10**6)
    best = np.full(t.users, -1)
    name_rank = {d["name"]: i for i, d in enumerate(sorted(defs, key=lambda d: d["name"]))}
    members = t.team_rows(day)
    login_index = {str(x): i for i, x in enumerate(t.login)}
    for k, d in enumerate(defs):  # a handful of cost centres, each vectorised over users
        if d["state"] != "active":
            continue
        reach = {
            "User": np.isin(np.arange(t.users), [login_index[x] for x in d["users"]]),
            "EnterpriseTeam": np.isin(
                np.arange(t.users),
                members.filter(pl.col("t").is_in(np.flatnonzero(np.isin(t.team_slug, d["teams"]))))["u"].to_numpy(),
            ),
            "Organization": t.member[:, [t.org_names.index(o) for o in d["orgs"]]].any(axis=1)
            if d["orgs"]
            else np.zeros(t.users, dtype=bool),
        }
        for kind, hit in reach.items():
            key = COST_CENTER_PRECEDENCE[kind] * 100 + name_rank[d["name"]]
            better = hit & (key < rank)
            rank = np.where(better, key, rank)
            best = np.where(better, k, best)
    return best


def cost_centers(t: Tenant, state: str | None = None) -> dict[str, Any]:
    """``GET /enterprises/{enterprise}/settings/billing/cost-centers`` (optionally ``state=active|deleted``):
    ``{"costCenters": [...]}``, not paginated. The AI-credit pool's amounts are US$: target = the included credits
    of the cost centre's seated users, current = what its users used this month so far (capped at the target);
    ``ai_credit_pool_state`` is absent when the pool is disabled."""
    out = []
    defs = cost_center_defs(t)
    if any(d["pool"] for d in defs):
        of = cost_center_of(t, t.today)
        lines = billing_lines(t, Scope("enterprise", t.enterprise), t.today.year, t.today.month)
        used = lines.group_by("user").agg(pl.col("gross").sum())
        login_cc = pl.DataFrame({"user": t.login, "cc": of})
        used = used.join(login_cc, on="user")
        seated = t.seated(t.today)
        included = np.array([included_amount(p, t.today) for p in t.plan], dtype=float)
    for k, d in enumerate(defs):
        if state is not None and d["state"] != state:
            continue
        resources = (
            [{"type": "User", "name": u} for u in d["users"]]
            + [{"type": "Organization", "name": o} for o in d["orgs"]]
            + [{"type": "EnterpriseTeam", "name": s} for s in d["teams"]]
            + [{"type": "Repository", "name": r} for r in d.get("repos", [])]
        )
        cc: dict[str, Any] = {
            "id": d["id"],
            "name": d["name"],
            "state": d["state"],
            "azure_subscription": None,
            "ai_credit_pool_enabled": d["pool"],
            "resources": resources,
        }
        if d["pool"]:
            target = float(included[(of == k) & seated].sum()) * CREDIT_PRICE_USD
            current = float(used.filter(pl.col("cc") == k)["gross"].sum()) * CREDIT_PRICE_USD
            cc["ai_credit_pool_state"] = {
                "target_amount": round(target, 2),
                "current_amount": round(min(current, target), 2),
            }
        out.append(cc)
    return {"costCenters": out}


# ---------------------------------------------------------------------- budgets
PER_USER_TARGET_USD = 40
OVERRIDE_TARGET_USD = 80


def _month_spend(t: Tenant) -> tuple[pl.DataFrame, float]:
    """The enterprise's billing lines of ``today``'s month with each user's cost centre (``cc``), and the
    fraction of the month they cover (billing runs to yesterday)."""
    lines = billing_lines(t, Scope("enterprise", t.enterprise), t.today.year, t.today.month)
    of = cost_center_of(t, t.today)
    users = pl.DataFrame({"user": t.login, "cc": of, "org": t.primary_org})
    lines = lines.join(users, on="user", how="left")
    first = t.today.replace(day=1)
    days = (_first_of_next_month(first) - first).days
    elapsed = max((t.today - first).days, 1)
    return lines, elapsed / days


def _usd(credits: float) -> float:
    return round(credits * CREDIT_PRICE_USD, 2)


def budgets(t: Tenant, scope: Scope) -> list[dict[str, Any]]:
    """The budgets of the enterprise (enterprise, cost centre, a cost centre's per-user budget and one user's
    individual override) or of an organization (its own budget), consistent with billing: ``consumed_amount`` is
    what billing says the scope used this month, included and metered (US$; amounts whole US$). Targets are set
    from the month's pace so some budgets run out before the month ends and some do not."""
    lines, covered = _month_spend(t)
    defs = cost_center_defs(t)

    def target(spent: float, factor: float, step: int) -> int:
        """Whole US$, rounded up to ``step``: ``factor`` × the month's spend at its pace so far (``spent``: credits)."""
        projected = spent * CREDIT_PRICE_USD / covered
        return max(step, int(-(-projected * factor // step)) * step)

    def budget(name: str, scope_name: str, entity: str, amount: int, spent: float, **extra: Any) -> dict[str, Any]:
        return {
            "id": _uuid(t, "budget", name),
            "budget_type": "BundlePricing",
            "budget_product_sku": "ai_credits",
            "budget_scope": scope_name,
            "budget_entity_name": entity,
            "budget_amount": amount,
            "prevent_further_usage": extra.pop("blocks", True),
            "budget_alerting": {"will_alert": True, "alert_recipients": ["billing-admins"]},
            "consumed_amount": _usd(spent),
            **extra,
        }

    if scope.kind == "org":
        o = t.org_names.index(scope.slug)
        spent = float(lines.filter(pl.col("org") == o)["gross"].sum())
        return [budget(f"org:{scope.slug}", "organization", scope.slug, target(spent, 0.9, 10), spent)]
    total = float(lines["gross"].sum())
    out = [budget("enterprise", "enterprise", t.enterprise, target(total, 1.25, 100), total, blocks=False)]
    names = [d["name"] for d in defs]
    data, eng = 1, 0  # the cost centres "Data & ML" and "Engineering" (tenant.COST_CENTRE_NAMES)
    spent = float(lines.filter(pl.col("cc") == data)["gross"].sum())
    out.append(budget("cc:data", "cost_center", names[data], target(spent, 0.75, 10), spent))
    per_user = lines.filter(pl.col("cc") == eng).group_by("user").agg(pl.col("gross").sum()).sort("user")
    heavy = per_user.sort("gross", descending=True).head(1)["user"].to_list()
    shared = budget("cc:eng:per-user", "multi_user_cost_center", names[eng], PER_USER_TARGET_USD, 0.0)
    del shared["consumed_amount"]  # a per-user budget's consumption is per user: its user-states
    out.append(shared)
    if heavy:
        spent = float(per_user.filter(pl.col("user") == heavy[0])["gross"].sum())
        out.append(budget(f"user:{heavy[0]}", "user", heavy[0], OVERRIDE_TARGET_USD, spent, user=heavy[0]))
    return out


def budget_user_states(t: Tenant, budget_id: str) -> list[dict[str, Any]] | None:
    """``…/budgets/{budget_id}/user-states`` of a multi-user budget (None: no such multi-user budget): every
    member of the cost centre, with what they used this month and their target (an individual override's when
    they have one)."""
    found = [b for b in budgets(t, Scope("enterprise", t.enterprise)) if b["id"] == budget_id]
    if not found or not found[0]["budget_scope"].startswith("multi_user"):
        return None
    lines, _ = _month_spend(t)
    names = [d["name"] for d in cost_center_defs(t)]
    members = np.flatnonzero(cost_center_of(t, t.today) == names.index(found[0]["budget_entity_name"]))
    used = lines.group_by("user").agg(pl.col("gross").sum())
    spent = dict(used.iter_rows())
    overrides = {b["user"]: b for b in budgets(t, Scope("enterprise", t.enterprise)) if b["budget_scope"] == "user"}
    out = []
    for login in sorted(str(x) for x in t.login[members]):  # one entry per member: the answer's rows
        own = overrides.get(login)
        out.append(
            {
                "user": login,
                "consumed_amount": _usd(spent.get(login, 0.0)),
                "target_amount": own["budget_amount"] if own else found[0]["budget_amount"],
                "override_budget_id": own["id"] if own else None,
            }
        )
    return out
