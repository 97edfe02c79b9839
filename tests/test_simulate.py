"""The simulated tenant: determinism, reconciliation, GitHub's shapes, auth, links, faults."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import httpx
import jsonschema
import numpy as np
import polars as pl
import pytest

from conftest import FIXTURES, TODAY, client_for, load_fixture, small_tenant
from copilot_usage.catalog import REPORTS, Scope
from copilot_usage.simulate import payloads as P
from copilot_usage.simulate.app import SimConfig, Simulator
from copilot_usage.simulate.tenant import FEATURES

DAY = dt.date(2026, 11, 2)


def _ent(t: Any) -> Scope:
    return Scope("enterprise", t.enterprise)


def _org(t: Any, i: int = 0) -> Scope:
    return Scope("org", t.org_names[i])


def _json_type(v: object) -> str:
    return {bool: "bool", int: "int", float: "num", str: "str", list: "list", dict: "dict", type(None): "null"}[type(v)]


def test_same_seed_same_bytes() -> None:
    a, b = small_tenant(), small_tenant()
    assert P.to_ndjson(P.user_frame(a, DAY, _ent(a))) == P.to_ndjson(P.user_frame(b, DAY, _ent(b)))
    assert P.dumps(P.aggregate_record(a, DAY, _org(a))) == P.dumps(P.aggregate_record(b, DAY, _org(b)))
    assert P.to_ndjson(P.user_teams_frame(a, DAY, _ent(a))) == P.to_ndjson(P.user_teams_frame(b, DAY, _ent(b)))
    assert P.seats(a, _ent(a)) == P.seats(b, _ent(b))
    c = small_tenant(seed=4)
    assert P.to_ndjson(P.user_frame(a, DAY, _ent(a))) != P.to_ndjson(P.user_frame(c, DAY, _ent(c)))


def test_day_does_not_depend_on_generation_order() -> None:
    a, b = small_tenant(), small_tenant()
    P.user_frame(b, DAY - dt.timedelta(days=3), _ent(b))
    assert P.to_ndjson(P.user_frame(a, DAY, _ent(a))) == P.to_ndjson(P.user_frame(b, DAY, _ent(b)))


@pytest.mark.parametrize("scope_index", [None, 0, 1])
def test_aggregates_reconcile_with_user_rows(tenant: Any, scope_index: int | None) -> None:
    scope = _ent(tenant) if scope_index is None else _org(tenant, scope_index)
    users = P.user_frame(tenant, DAY, scope)
    agg = P.aggregate_record(tenant, DAY, scope)
    for field in (
        "user_initiated_interaction_count",
        "code_generation_activity_count",
        "code_acceptance_activity_count",
        "loc_added_sum",
        "loc_deleted_sum",
    ):
        assert agg[field] == users[field].sum()
    assert agg["daily_active_users"] == users.height
    by_feature = {r["feature"]: r["code_generation_activity_count"] for r in agg["totals_by_feature"]}
    long = users.select(pl.col("totals_by_feature").explode().struct.unnest())
    assert by_feature == dict(long.group_by("feature").agg(pl.col("code_generation_activity_count").sum()).iter_rows())
    # weekly / monthly active users are distinct users over 7 / 28 days, never summed dailies
    week = pl.concat([P.user_frame(tenant, DAY - dt.timedelta(days=k), scope).select("user_id") for k in range(7)])
    assert agg["weekly_active_users"] == week.n_unique()
    assert agg["weekly_active_users"] < sum(
        P.user_frame(tenant, DAY - dt.timedelta(days=k), scope).height for k in range(7)
    )


def test_org_reports_repeat_multi_org_users_enterprise_counts_once(tenant: Any) -> None:
    ent = set(P.user_frame(tenant, DAY, _ent(tenant))["user_id"])
    per_org = [set(P.user_frame(tenant, DAY, _org(tenant, i))["user_id"]) for i in range(tenant.orgs)]
    assert set().union(*per_org) == ent
    assert sum(map(len, per_org)) > len(ent)  # multi-org users appear in each of their orgs


def test_user_teams_exclude_teams_under_five_seated_users(tenant: Any) -> None:
    rows = P.user_teams_frame(tenant, DAY, _ent(tenant))
    sizes = rows.group_by("team_id").len()
    assert sizes["len"].min() >= 5
    seated = np.flatnonzero(tenant.seated(DAY))
    all_sizes = tenant.team_rows(DAY).filter(pl.col("u").is_in(seated)).group_by("t").len()
    assert (all_sizes["len"] < 5).any(), "the simulator must have small teams for this rule to matter"
    assert rows.height < tenant.team_rows(DAY).filter(pl.col("u").is_in(seated)).height


def test_credit_field_semantics(tenant: Any) -> None:
    before = P.user_frame(tenant, dt.date(2026, 6, 18), _ent(small_tenant(days=200)))
    assert "ai_credits_used" not in before.columns
    rows = P.user_frame(tenant, DAY, _ent(tenant))
    credits = rows["ai_credits_used"]
    assert credits.dtype == pl.Float64 and (credits % 1 != 0).any()
    # completion-only users are unbilled: 0, not absent (server-side-only rows, empty breakdowns, are not them)
    only_completion = rows.filter(
        pl.col("totals_by_feature").list.len() > 0,
        pl.col("totals_by_feature")
        .list.eval(pl.element().struct.field("feature") != "code_completion")
        .list.any()
        .not_(),
    )
    assert only_completion.height > 0 and (only_completion["ai_credits_used"] == 0).all()


def test_every_feature_value_appears(tenant: Any) -> None:
    seen = set()
    for k in range(10):
        agg = P.aggregate_record(tenant, DAY - dt.timedelta(days=k), _ent(tenant))
        seen |= {r["feature"] for r in agg["totals_by_feature"]}
    assert seen == set(FEATURES)


def test_official_user_example_fields_have_same_json_types(tenant: Any) -> None:
    official = load_fixture("github-docs_example-schema_user-level.json")[0]  # type: ignore[index]
    sim_rows = [json.loads(line) for line in P.to_ndjson(P.user_frame(tenant, DAY, _ent(tenant))).splitlines()]
    with_cli = next(r for r in sim_rows if "totals_by_cli" in r)
    undocumented = {"etl_id", "day_partition", "entity_id_partition"}  # internals in GitHub's example schema
    for key, value in official.items():
        if key in undocumented:
            continue
        assert key in with_cli, key
        assert _json_type(with_cli[key]) == _json_type(value), key
    for key in ("totals_by_ide", "totals_by_feature", "totals_by_language_feature"):
        for sub, v in official[key][0].items():
            assert _json_type(with_cli[key][0][sub]) == _json_type(v), (key, sub)
    assert set(official["totals_by_cli"]) <= set(with_cli["totals_by_cli"])
    assert isinstance(with_cli["ai_credits_used"], float)
    assert {"ai_adoption_phase", "totals_by_copilot_app", "totals_by_3rd_party_agent"} <= set().union(*sim_rows)


def test_official_enterprise_example_fields_have_same_json_types(tenant: Any) -> None:
    official = load_fixture("github-docs_example-schema_enterprise-level.json")[0]  # type: ignore[index]
    sim = P.aggregate_28_day(tenant, _ent(tenant))
    for key in ("report_start_day", "report_end_day", "enterprise_id", "day_totals"):
        assert _json_type(sim[key]) == _json_type(official[key])
    day_official, day_sim = official["day_totals"][0], sim["day_totals"][-1]
    for key, value in day_official.items():
        assert key in day_sim, key
        assert _json_type(day_sim[key]) == _json_type(value) or (value == [] and day_sim[key]), key
    for sub, v in day_official["pull_requests"].items():
        assert _json_type(day_sim["pull_requests"][sub]) == _json_type(v), sub
    assert len(sim["day_totals"]) == 28


def _openapi() -> dict[str, Any]:
    return json.loads((FIXTURES / "github" / "openapi-copilot-metrics.json").read_text())


@pytest.mark.parametrize("report", REPORTS, ids=lambda r: r.key)
@pytest.mark.parametrize("kind", ["enterprise", "org"])
def test_report_envelopes_validate_against_github_openapi(
    api: httpx.Client, tenant: Any, report: Any, kind: str
) -> None:
    spec = _openapi()
    scope = _ent(tenant) if kind == "enterprise" else _org(tenant)
    # the OpenAPI path template: a placeholder is not a GitHub name, so Scope takes a stand-in that is
    template = report.path(Scope(scope.kind, "SLUG")).replace(
        "SLUG", "{enterprise}" if kind == "enterprise" else "{org}"
    )
    op = spec["paths"][template]["get"]
    params = {} if report.window == 28 else {"day": DAY.isoformat()}
    r = api.get(report.path(scope), params=params)
    assert str(r.status_code) in op["responses"]
    if r.status_code == 200:
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        schema = {**spec["components"]["schemas"][ref], "components": spec["components"]}
        jsonschema.validate(r.json(), schema)
        assert r.json()["download_links"]


def test_auth_statuses(sim: Simulator, api: httpx.Client, tenant: Any) -> None:
    path = "/enterprises/octo-sim/copilot/metrics/reports/users-1-day"
    anon = client_for(sim)
    assert anon.get(path, params={"day": "2026-11-02"}).status_code == 401
    assert anon.get(path, params={"day": "2026-11-02"}, headers={"Authorization": "Bearer nope"}).status_code == 401
    billing = {"Authorization": f"Bearer {sim.config.billing_token}"}
    assert anon.get(path, params={"day": "2026-11-02"}, headers=billing).status_code == 403
    assert api.get("/enterprises/octo-sim/settings/billing/ai_credit/usage").status_code == 403
    assert anon.get("/enterprises/octo-sim/settings/billing/ai_credit/usage", headers=billing).status_code == 200
    assert (
        api.get("/enterprises/nope/copilot/metrics/reports/users-1-day", params={"day": "2026-11-02"}).status_code
        == 404
    )
    assert api.get("/orgs/nope/teams").status_code == 404
    assert api.get(path).status_code == 422
    # not yet processed: 200 with no links; org day before org data start: 204
    assert api.get(path, params={"day": TODAY.isoformat()}).json()["download_links"] == []
    old = small_tenant(days=400)
    old_api = client_for(Simulator(old), sim.config.token)
    assert (
        old_api.get(
            f"/orgs/{old.org_names[0]}/copilot/metrics/reports/users-1-day", params={"day": "2025-12-01"}
        ).status_code
        == 204
    )


def test_links_are_sharded_signed_on_another_host_and_expire(tenant: Any) -> None:
    sim = Simulator(tenant, SimConfig(shard_rows=10, link_ttl_s=-1))
    api = client_for(sim, sim.config.token)
    links = api.get("/enterprises/octo-sim/copilot/metrics/reports/users-1-day", params={"day": "2026-11-02"}).json()[
        "download_links"
    ]
    rows = P.user_frame(tenant, DAY, _ent(tenant)).height
    assert len(links) == -(-rows // 10) > 1
    assert all(httpx.URL(u).host == "localhost" and "sig=" in u and "se=" in u for u in links)
    bare = client_for(sim)
    assert bare.get(links[0]).status_code == 403  # ttl -1: already expired
    tampered = links[0].replace("part-000", "part-001")
    assert bare.get(tampered).status_code == 403
    fresh = Simulator(tenant, SimConfig(shard_rows=10))
    api2 = client_for(fresh, sim.config.token)
    links = api2.get("/enterprises/octo-sim/copilot/metrics/reports/users-1-day", params={"day": "2026-11-02"}).json()[
        "download_links"
    ]
    bare = client_for(fresh)
    body = b"".join(bare.get(u).content for u in links)
    assert len(body.splitlines()) == rows
    assert fresh.record.downloads_with_authorization == []
    api2.get(links[0])  # a download that carries the token is recorded
    assert len(fresh.record.downloads_with_authorization) == 1


def test_faults_appear_at_the_configured_rate(tenant: Any) -> None:
    sim = Simulator(tenant, SimConfig(fault_rate=0.2, slow_s=0.01))
    api = client_for(sim, sim.config.token, raise_app_exceptions=False)
    n = 400
    for k in range(n):
        with contextlib.suppress(httpx.HTTPError):
            api.get(f"/orgs/{tenant.org_names[0]}/teams", params={"page": 1, "x": k})
    total = sum(sim.record.faults.values())
    assert 0.14 * n < total < 0.26 * n
    assert len(sim.record.faults) >= 5  # 429, 5xx, drops, truncation, slow all occur
    # deterministic: a second simulator injects the same faults
    sim2 = Simulator(tenant, SimConfig(fault_rate=0.2))
    assert sim2._fault("/x?a=1", 1) == sim._fault("/x?a=1", 1)


def test_seats_paged_with_link_and_enterprise_repeats_users(api: httpx.Client, tenant: Any) -> None:
    first = api.get("/enterprises/octo-sim/copilot/billing/seats", params={"per_page": 20})
    assert 'rel="next"' in first.headers["link"]
    seats, url = [], "/enterprises/octo-sim/copilot/billing/seats?per_page=20"
    while url:
        r = api.get(url)
        seats += r.json()["seats"]
        nxt = [p for p in r.headers.get("link", "").split(",") if 'rel="next"' in p]
        url = nxt[0].split(";")[0].strip(" <>") if nxt else ""
    ids = [s["assignee"]["id"] for s in seats]
    assert r.json()["total_seats"] == len(set(ids)) < len(ids)
    assert {s["plan_type"] for s in seats} == {"business", "enterprise"}
    assert any(s["pending_cancellation_date"] for s in seats)
    assert any(s["last_activity_at"] is None for s in seats)


def test_billing_gross_equals_metrics_credits(sim: Simulator, tenant: Any) -> None:
    client = client_for(sim, sim.config.billing_token)
    body = client.get(
        "/enterprises/octo-sim/settings/billing/ai_credit/usage", params={"year": 2026, "month": 11, "day": 2}
    ).json()
    gross = sum(i["grossQuantity"] for i in body["usageItems"])
    metrics = P.user_frame(tenant, DAY, _ent(tenant))["ai_credits_used"].sum()
    assert gross == pytest.approx(metrics, abs=0.01 * len(body["usageItems"]) + 1e-6)
    assert body["timePeriod"] == {"year": 2026, "month": 11, "day": 2}
    for item in body["usageItems"]:
        assert item["netQuantity"] == pytest.approx(item["grossQuantity"] - item["discountQuantity"], abs=1e-3)


def test_served_over_a_real_socket(tenant: Any) -> None:
    from copilot_usage.simulate.server import running

    sim = Simulator(tenant, SimConfig(shard_rows=25))
    with running(sim) as served:
        h = {"Authorization": f"Bearer {served.token}"}
        r = httpx.get(
            f"{served.base_url}/orgs/{served.orgs[0]}/copilot/metrics/reports/users-1-day",
            params={"day": "2026-11-02"},
            headers=h,
        )
        assert r.status_code == 200 and r.headers["x-ratelimit-remaining"]
        assert all(httpx.get(u).status_code == 200 for u in r.json()["download_links"])
        assert httpx.get(f"{served.base_url}/_sim/record").json()["downloads_with_authorization"] == 0


@pytest.mark.parametrize("users", [1, 5, 40])
def test_tiny_tenants_serve_every_report_every_day(users: int) -> None:
    t = small_tenant(users=users, days=20, seed=1)
    for k in range(t.days):
        day = t.start + dt.timedelta(days=k)
        for scope in (_ent(t), _org(t)):
            P.to_ndjson(P.user_frame(t, day, scope))
            P.dumps(P.aggregate_record(t, day, scope))
            P.to_ndjson(P.user_teams_frame(t, day, scope))
            P.to_ndjson(P.repos_frame(t, day, scope))
    P.seats(t, _ent(t))
    P.billing_usage(t, _ent(t), {"year": "2026", "month": "11"})


CC_PATH = "/enterprises/octo-sim/settings/billing/cost-centers"


def test_cost_centers_shape_state_filter_and_auth(sim: Simulator, api: httpx.Client, tenant: Any) -> None:
    billing = client_for(sim, sim.config.billing_token)
    every = billing.get(CC_PATH).json()["costCenters"]
    active = billing.get(CC_PATH, params={"state": "active"}).json()["costCenters"]
    deleted = billing.get(CC_PATH, params={"state": "deleted"}).json()["costCenters"]
    assert len(active) >= 3 and len(deleted) == 1 and len(every) == len(active) + len(deleted)
    assert {c["state"] for c in active} == {"active"} and deleted[0]["state"] == "deleted"
    types = {r["type"] for c in active for r in c["resources"]}
    assert {"User", "Organization", "EnterpriseTeam"} <= types
    for c in every:
        assert set(c) >= {"id", "name", "state", "azure_subscription", "ai_credit_pool_enabled", "resources"}
        assert len(c["id"]) == 36 and c["id"].count("-") == 4
        # the pool's state is there exactly when the pool is enabled; amounts in US$
        assert ("ai_credit_pool_state" in c) == c["ai_credit_pool_enabled"]
    pooled = [c for c in every if c["ai_credit_pool_enabled"]]
    assert len(pooled) == 1
    pool = pooled[0]["ai_credit_pool_state"]
    assert 0 < pool["current_amount"] <= pool["target_amount"]
    assert billing.get(CC_PATH, params={"state": "gone"}).status_code == 422
    assert billing.get("/enterprises/nope/settings/billing/cost-centers").status_code == 404
    # the metrics token gets GitHub's 403, naming the billing permission
    denied = api.get(CC_PATH)
    assert denied.status_code == 403
    assert "Resource not accessible by personal access token" in denied.json()["message"]
    assert "manage_billing:enterprise" in denied.json()["message"]


def test_cost_center_of_direct_wins_and_billing_csv_names_it(tenant: Any) -> None:
    defs = P.cost_center_defs(tenant)
    of = P.cost_center_of(tenant, tenant.today)
    names = [d["name"] for d in defs]
    direct = [i for i, login in enumerate(tenant.login) if login in defs[names.index("Platform")]["users"]]
    eng_org = tenant.org_names.index(defs[names.index("Engineering")]["orgs"][0])
    both = [u for u in direct if tenant.member[u, eng_org]]
    assert both, "some directly assigned users are also in an org-assigned cost centre"
    assert all(of[u] == names.index("Platform") for u in both)  # direct assignment wins
    assert names.index("Mobile (retired)") not in set(of.tolist())  # a deleted cost centre bills nobody
    assert (of == -1).any()  # the unassigned organization's users are in no cost centre
    csv = pl.read_csv(P.billing_csv(tenant, _ent(tenant), 2026, 11)[3:])
    expected = {str(tenant.login[u]): (names[of[u]] if of[u] >= 0 else None) for u in range(tenant.users)}
    got = csv.select("username", "cost_center_name").unique()
    mismatched = [(u, c) for u, c in got.iter_rows() if u in expected and (c or None) != expected[u]]
    assert not mismatched


def _all_pages(client: httpx.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    rows, page = [], 1
    while True:
        body = client.get(path, params={**params, "page": page, "per_page": 2}).json()
        rows += body[key]
        assert body["total_count"] >= len(rows)
        if not body["has_next_page"]:
            return rows
        page += 1


def test_budgets_paged_in_the_body_consistent_with_billing(sim: Simulator, api: httpx.Client, tenant: Any) -> None:
    client = client_for(sim, sim.config.billing_token)
    path = "/enterprises/octo-sim/settings/billing/budgets"
    ent = _all_pages(client, path, "budgets")
    org = _all_pages(client, f"/organizations/{tenant.org_names[0]}/settings/billing/budgets", "budgets")
    scopes = {b["budget_scope"] for b in ent + org}
    assert {"enterprise", "organization", "cost_center", "multi_user_cost_center"} <= scopes
    for b in ent + org:
        assert isinstance(b["budget_amount"], int) and b["budget_product_sku"] == "ai_credits"
        assert set(b) >= {"id", "budget_type", "prevent_further_usage", "budget_entity_name", "budget_alerting"}
    assert len(ent) > 2 and client.get(path, params={"per_page": 2}).json()["has_next_page"] is True
    # consumed = what billing says the scope used this month (US$)
    lines = P.billing_lines(tenant, _ent(tenant), TODAY.year, TODAY.month)
    enterprise = next(b for b in ent if b["budget_scope"] == "enterprise")
    assert enterprise["consumed_amount"] == pytest.approx(lines["gross"].sum() * 0.01, abs=0.01)
    assert [b["budget_scope"] for b in _all_pages(client, path, "budgets", scope="cost-center")] == ["cost_center"]
    # per-user states of the multi-user budget; the override names the user's own budget
    multi = next(b for b in ent if b["budget_scope"] == "multi_user_cost_center")
    states = _all_pages(client, f"{path}/{multi['id']}/user-states", "user_states")
    assert len(states) > 5 and set(states[0]) == {"user", "consumed_amount", "target_amount", "override_budget_id"}
    overridden = [s for s in states if s["override_budget_id"]]
    own = next(b for b in ent if b["budget_scope"] == "user")
    assert overridden == [s for s in states if s["user"] == own["budget_entity_name"]]
    assert overridden[0]["target_amount"] == own["budget_amount"]
    assert client.get(f"{path}/{enterprise['id']}/user-states").status_code == 404  # not a multi-user budget
    denied = api.get(path)
    assert denied.status_code == 403 and "manage_billing" in denied.json()["message"]


def _keys_on(t: Any, day: dt.date) -> tuple[set[str], set[str], set[str]]:
    scope = _ent(t)
    users = set().union(*[json.loads(line) for line in P.to_ndjson(P.user_frame(t, day, scope)).splitlines()])
    agg = set(P.aggregate_record(t, day, scope))
    repos = set(P.repos_frame(t, day, scope).columns)
    return users, agg, repos


def test_fields_added_in_2026_appear_from_their_start_dates() -> None:
    t = small_tenant(days=200)  # 2026-05-11 .. 2026-11-24
    cases = [  # (field, where, first day): the day before it is absent, on it present
        ("daily_active_copilot_app_users", "agg", dt.date(2026, 7, 17)),
        ("used_copilot_app", "user", dt.date(2026, 7, 28)),
        ("totals_by_copilot_app", "user", dt.date(2026, 7, 28)),
        ("used_vscode_agent", "user", dt.date(2026, 9, 11)),
        ("daily_active_vscode_agent_users", "agg", dt.date(2026, 9, 11)),
        ("distinct_mcp_use_count", "agg", dt.date(2026, 9, 17)),
        ("totals_by_skill", "agg", dt.date(2026, 9, 17)),
        ("pull_request_review_times", "repos", dt.date(2026, 9, 25)),
    ]
    where = {"user": 0, "agg": 1, "repos": 2}
    for name, at, first in cases:
        assert name not in _keys_on(t, first - dt.timedelta(days=1))[where[at]], name
    # present on a weekday shortly after each start (some need a user of the surface that day)
    later = _keys_on(t, dt.date(2026, 10, 1))
    for name, at, _ in cases:
        assert name in later[where[at]], name
    phases = {
        d: P.aggregate_record(t, d, _ent(t))["totals_by_ai_adoption_phase"]
        for d in (dt.date(2026, 6, 25), dt.date(2026, 6, 26), dt.date(2026, 7, 7))
    }
    assert "total_pull_requests_merged" not in phases[dt.date(2026, 6, 25)][0]
    assert "total_pull_requests_merged" in phases[dt.date(2026, 6, 26)][0]
    assert "avg_pull_requests_review_cycles" not in phases[dt.date(2026, 6, 26)][0]
    assert any("avg_pull_requests_review_cycles" in p for p in phases[dt.date(2026, 7, 7)])
    # the copilot_app feature value joins the roll-ups on 2026-07-28, never the IDE breakdown
    feats = {
        d: {r["feature"] for r in P.aggregate_record(t, d, _ent(t))["totals_by_feature"]}
        for d in (dt.date(2026, 7, 27), dt.date(2026, 7, 28))
    }
    assert "copilot_app" not in feats[dt.date(2026, 7, 27)] and "copilot_app" in feats[dt.date(2026, 7, 28)]


def test_new_fields_follow_githubs_rules(tenant: Any) -> None:
    scope = _ent(tenant)
    users = P.user_frame(tenant, DAY, scope)
    agg = P.aggregate_record(tenant, DAY, scope)
    # third-party agent job starts are not part of the top-level interaction count (a user can have more)
    assert "session_count" not in users["totals_by_3rd_party_agent"].explode().struct.unnest().columns
    # plugins are a subset of skills: a user's plugin interactions never exceed their skill interactions
    long = tenant.customisations(DAY)
    per = long.group_by("u", "kind").agg(pl.col("interaction_count").sum()).pivot("kind", index="u").fill_null(0)
    assert (per["plugin"] <= per["skill"]).all() and (per["plugin"] > 0).any()
    # aggregate distinct counts are per entity: fewer than the sum of the users' distinct counts
    sums = {k: users[f"distinct_{k}_use_count"].sum() for k in ("skill", "mcp", "slash_cmd", "plugin")}
    assert all(0 < agg[f"distinct_{k}_use_count"] <= sums[k] for k in sums)
    assert agg["distinct_mcp_use_count"] < sums["mcp"]
    assert all(len(agg[f"totals_by_{k}"]) <= 5 for k in sums)
    assert agg["daily_active_vscode_agent_users"] == users["used_vscode_agent"].sum()
    assert agg["daily_active_copilot_app_users"] == users["used_copilot_app"].sum()
    ide = users.select(pl.col("totals_by_ide").explode().struct.field("ide")).to_series()
    assert "copilot_app" not in ide.to_list()
    # review times: human authors and reviewers, one entry or [] per repository
    times = P.repos_frame(tenant, DAY, scope)["pull_request_review_times"]
    assert times.list.len().max() == 1 and (times.list.len() == 0).any()
    first = times.explode().drop_nulls().struct.unnest()
    assert set(first["authored_by"]) == {"human"} and (first["median_minutes_first_to_final_review"] == 0).any()
    assert (first["p90_minutes_ready_to_first_review"] >= first["median_minutes_ready_to_first_review"]).all()
    # deterministic per seed
    again = P.aggregate_record(small_tenant(), DAY, scope)
    assert P.dumps(again) == P.dumps(agg)
