"""Fetch through the real client over a real socket into raw, build Parquet, and check what users rely on."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import FIXTURES, TODAY, small_tenant
from copilot_usage.cache import builder, read
from copilot_usage.cache.parse import parse_rows
from copilot_usage.catalog import Scope
from copilot_usage.ingest.fetch import fetch
from copilot_usage.ingest.github import GitHub
from copilot_usage.simulate.app import SimConfig, Simulator
from copilot_usage.simulate.server import running

SINCE = dt.date(2026, 11, 12)


def _run(sim: Simulator, data_dir: Path, **kw: Any) -> Any:
    with running(sim) as served:
        scopes = [Scope("enterprise", served.enterprise), Scope("org", served.orgs[0])]

        async def go() -> Any:
            async with GitHub(
                served.base_url, token=served.token, billing_token=served.billing_token, concurrency=4
            ) as gh:
                return await fetch(gh, data_dir, scopes, today=TODAY, **kw)

        return asyncio.run(go())


def _fetch_cli(served: Any, data_dir: Path, *scopes: str) -> tuple[dict[str, str], list[str]]:
    """The environment (tokens) and command line of ``copilot-usage fetch`` against a running simulator."""
    env = {**os.environ, "GITHUB_TOKEN": served.token, "COPILOT_BILLING_TOKEN": served.billing_token}
    cmd = [sys.executable, "-m", "copilot_usage", "fetch", *scopes, "--base-url", served.base_url]
    return env, [*cmd, "--data-dir", str(data_dir), "--today", TODAY.isoformat()]


def _tables(data_dir: Path) -> dict[str, pl.DataFrame]:
    out = {}
    for table in ("user_day", "user_feature_day", "aggregate_day", "user_team_day", "repo_day"):
        out[table] = read.scan(data_dir, table).collect().sort(pl.all())
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Simulator]:
    data_dir = tmp_path_factory.mktemp("clean")
    sim = Simulator(small_tenant(), SimConfig(shard_rows=20))
    summary = _run(sim, data_dir, since=SINCE)
    assert summary.failed == 0, summary.errors
    builder.build(data_dir)
    return data_dir, sim


def test_user_day_rows_equal_rows_served(clean: tuple[Path, Simulator]) -> None:
    data_dir, sim = clean
    user_day = read.scan_user_day(data_dir).collect()
    served = {k: v for k, v in sim.record.served_rows.items() if k.endswith("/users-1-day")}
    for key, rows in served.items():
        scope = key.split("/")[0]
        assert user_day.filter(pl.col("scope") == scope).height == rows
    assert user_day["ai_credits_used"].null_count() == 0  # all days after 2026-06-19


def test_aggregates_rebuilt_from_user_day_equal_aggregate_day(clean: tuple[Path, Simulator]) -> None:
    data_dir, _ = clean
    rebuilt = (
        read.scan_user_day(data_dir)
        .group_by("scope", "day")
        .agg(
            pl.len().alias("daily_active_users"),
            pl.col("code_generation_activity_count").sum(),
            pl.col("loc_added_sum").sum(),
        )
        .collect()
    )
    agg = read.scan_aggregate_day(data_dir).select(rebuilt.columns).collect()
    # a day with no active user has an aggregate row (all zero) and no user rows
    joined = agg.join(rebuilt, on=["scope", "day"], how="left", suffix="_users").fill_null(0)
    for col in ("daily_active_users", "code_generation_activity_count", "loc_added_sum"):
        assert (joined[col] == joined[f"{col}_users"]).all(), col
    assert joined.height == agg.height > 0


def test_no_token_on_downloads_and_none_stored(clean: tuple[Path, Simulator]) -> None:
    data_dir, sim = clean
    assert sim.record.downloads > 0 and sim.record.downloads_with_authorization == []
    for path in data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert sim.config.token.encode() not in data and sim.config.billing_token.encode() not in data
            assert b"sig=" not in data, f"signed URL persisted in {path}"


def test_second_run_adds_nothing_and_rewrites_nothing(clean: tuple[Path, Simulator]) -> None:
    data_dir, sim = clean
    before = {p: p.stat().st_mtime_ns for p in (data_dir / "processed").rglob("*.parquet")}
    raw_before = sorted(p for p in (data_dir / "raw").rglob("*") if p.is_file() and p.name != "_fetch_log.jsonl")
    summary = _run(sim, data_dir, since=SINCE)
    assert sum(c["fetched"] + c["changed"] for c in summary.counts.values()) == 0
    assert builder.build(data_dir) == {}
    assert (
        sorted(p for p in (data_dir / "raw").rglob("*") if p.is_file() and p.name != "_fetch_log.jsonl") == raw_before
    )
    assert {p: p.stat().st_mtime_ns for p in (data_dir / "processed").rglob("*.parquet")} == before


def test_fault_run_gives_identical_tables(clean: tuple[Path, Simulator], tmp_path: Path) -> None:
    data_dir, _ = clean
    faulty = Simulator(small_tenant(), SimConfig(shard_rows=20, fault_rate=0.2, slow_s=0.05, link_ttl_s=3600))
    summary = _run(faulty, tmp_path, since=SINCE)
    assert summary.failed == 0, summary.errors
    assert sum(faulty.record.faults.values()) > 20
    builder.build(tmp_path)
    a, b = _tables(data_dir), _tables(tmp_path)
    for table in a:
        assert a[table].equals(b[table]), table
    assert not list((tmp_path / "raw").rglob(".tmp/*"))


def test_unauthorised_scope_is_named_with_the_permission(tmp_path: Path) -> None:
    sim = Simulator(small_tenant())
    with running(sim) as served:

        async def go() -> Any:
            async with GitHub(served.base_url, token="wrong", concurrency=2) as gh:
                return await fetch(
                    gh,
                    tmp_path,
                    [Scope("org", served.orgs[0])],
                    families=["users"],
                    since=TODAY - dt.timedelta(days=5),
                    today=TODAY,
                )

        summary = asyncio.run(go())
    assert summary.failed and "read:org" in summary.errors[0] and "org:" in summary.errors[0]


def test_malformed_line_unknown_field_and_truncation_lose_nothing_else() -> None:
    good = json.dumps(
        {
            "day": "2026-11-02",
            "enterprise_id": "1",
            "user_id": 1,
            "user_login": "a",
            "ai_credits_used": 1.5,
            "brand_new_field": {"x": 1},
        }
    )
    data = (good + "\n{not json\n" + good.replace('"user_id": 1', '"user_id": 2') + "\n" + good[:40]).encode()
    parsed = parse_rows(data, "users", "raw/x.ndjson")
    assert parsed.frame["user_id"].to_list() == [1, 2]
    assert [q["line"] for q in parsed.quarantine] == [2, 4]
    assert all(q["file"] == "raw/x.ndjson" for q in parsed.quarantine)
    assert parsed.unknown_fields == ["brand_new_field"]


def test_official_examples_land_in_typed_columns() -> None:
    users = parse_rows(
        (FIXTURES / "github" / "github-docs_example-schema_user-level.json").read_bytes(), "users", "official"
    )
    assert users.quarantine == [] and users.unknown_fields == []
    row = users.frame.row(0, named=True)
    assert row["user_id"] == 1 and row["enterprise_id"] == "1" and row["totals_by_cli"]["prompt_count"] == 2
    assert row["ai_credits_used"] is None  # absent in this older example: null, never 0
    ent = parse_rows(
        (FIXTURES / "github" / "github-docs_example-schema_enterprise-level.json").read_bytes(), "aggregate", "official"
    )
    assert ent.frame.height == 2 and ent.unknown_fields == []
    assert ent.frame["pull_requests"].struct.field("median_minutes_to_merge").to_list()[0] == 2.5
    teams = parse_rows(
        (FIXTURES / "github" / "github-docs_team-level_organization_user_teams_1_day.ndjson").read_bytes(),
        "user-teams",
        "official",
    )
    assert teams.frame.schema["team_id"] == pl.Int64 and teams.frame["organization_id"].to_list() == ["999"] * 3


def test_killed_fetch_resumes_to_identical_tables(clean: tuple[Path, Simulator], tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    data_dir, _ = clean
    sim = Simulator(small_tenant(), SimConfig(shard_rows=20, latency_ms=20))
    with running(sim) as served:
        env, cmd = _fetch_cli(served, tmp_path, "--enterprise", served.enterprise, "--org", served.orgs[0])
        cmd += ["--since", SINCE.isoformat()]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(tmp_path.rglob("*.meta.json"))) < 20:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert len(list(tmp_path.rglob("*.meta.json"))) > 0, "the kill came before any file was stored"
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
    builder.build(tmp_path)
    a, b = _tables(data_dir), _tables(tmp_path)
    for table in a:
        assert a[table].equals(b[table]), table
    assert not list((tmp_path / "raw").rglob(".tmp/*"))
    for meta in (tmp_path / "raw").rglob("*.meta.json"):  # every stored file is whole: its sha256 matches
        import hashlib

        info = json.loads(meta.read_text())
        assert hashlib.sha256((meta.parent / info["file"]).read_bytes()).hexdigest() == info["sha256"]


def test_primary_limit_pauses_every_worker_until_reset(tmp_path: Path) -> None:
    sim = Simulator(small_tenant(), SimConfig(primary_limit=8, primary_window_s=2.0))
    summary = _run(sim, tmp_path, families=["aggregate"], since=TODAY - dt.timedelta(days=12))
    assert summary.failed == 0, summary.errors
    # the client counts the budget down (less its requests in flight) and waits for the reset: none is refused
    assert sim.record.limit_violations.get("primary", 0) == 0
    assert sim.record.api_requests > 8


def test_expired_links_are_requested_again_and_nothing_secret_is_logged(tmp_path: Path) -> None:
    import subprocess

    sim = Simulator(small_tenant(), SimConfig(expire_first_download=True))
    with running(sim) as served:
        env, cmd = _fetch_cli(served, tmp_path, "--org", served.orgs[0])
        cmd += ["--since", (TODAY - dt.timedelta(days=6)).isoformat(), "--reports", "users,aggregate,billing,seats"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    api_calls = sim.record.api_requests
    assert sim.record.downloads >= 2 * 8 and api_calls > 2 * 5  # every day's links were fetched twice
    output = done.stdout + done.stderr
    for secret in (served.token, served.billing_token, "sig=", "se="):
        assert secret not in output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert b"sig=" not in text and served.token.encode() not in text


def test_days_batched_together_or_apart_by_schema_lose_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Days of a month are turned into tables in batches; a day with unknown fields is its own batch and its extra
    columns survive beside the other days' nulls."""
    from copilot_usage.ingest import rawstore
    from copilot_usage.simulate import payloads

    tenant = small_tenant(users=30, days=6)
    scope = Scope("enterprise", tenant.enterprise)
    served = 0
    for k in range(6):
        day = tenant.start + dt.timedelta(days=k)
        lines = payloads.to_ndjson(payloads.user_frame(tenant, day, scope)).splitlines()
        served += len(lines)
        if k == 3:  # a new top-level field and a new field inside a breakdown, on one day only
            docs = [json.loads(line) for line in lines]
            for doc in docs:
                doc["new_top"] = "x"
                for row in doc.get("totals_by_feature") or []:
                    row["new_inner"] = 7
            lines = [json.dumps(d).encode() for d in docs]
        body = b"\n".join(lines) + b"\n"
        rawstore.put_bytes(tmp_path, scope, "users-1-day", day.isoformat(), body, ext="ndjson", provenance={})
    monkeypatch.setattr(builder, "_BATCH_ROWS", 25)  # several flushes within the month
    builder.build(tmp_path, full=True)
    assert read.scan_user_day(tmp_path).collect().height == served
    feature = read.scan(tmp_path, "user_feature_day").collect()
    drift_day = tenant.start + dt.timedelta(days=3)
    assert feature.filter(pl.col("day") == drift_day)["new_inner"].drop_nulls().unique().to_list() == [7]
    assert (
        feature.filter(pl.col("day") != drift_day)["new_inner"].null_count()
        == feature.filter(pl.col("day") != drift_day).height
    )
    drift = read.scan(tmp_path, "schema_drift").collect()
    assert set(drift["field"]) == {"new_top", "totals_by_feature[].new_inner"}
    assert set(drift["day"]) == {drift_day.isoformat()}


def test_chained_snapshots_do_not_wait_behind_the_backfill(tmp_path: Path) -> None:
    """Seats pages and team members are requests that follow one another: they start first and are not queued
    behind every day of the backfill (tasks are admitted two per request slot)."""
    sim = Simulator(small_tenant(), SimConfig(latency_ms=5))
    done: list[str] = []
    with running(sim) as served:

        async def go() -> Any:
            async with GitHub(served.base_url, token=served.token, concurrency=2) as gh:
                return await fetch(
                    gh,
                    tmp_path,
                    [Scope("enterprise", served.enterprise)],
                    families=["users", "teams"],
                    since=TODAY - dt.timedelta(days=40),
                    today=TODAY,
                    on_done=done.append,
                )

        summary = asyncio.run(go())
    assert summary.failed == 0, summary.errors
    teams = next(i for i, line in enumerate(done) if " teams " in line)
    assert len(done) > 40 and teams < len(done) // 2, (teams, len(done))


def test_a_task_failing_for_any_reason_is_recorded_and_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timeout or any unexpected exception fails its own task with a one-line reason; the run carries on."""
    import httpx

    import copilot_usage.ingest.fetch as fetch_mod

    real = fetch_mod.fetch_report_day
    bad = {TODAY - dt.timedelta(days=5): httpx.ReadTimeout(""), TODAY - dt.timedelta(days=6): RuntimeError("boom\nx")}

    async def flaky(gh: Any, data_dir: Path, scope: Scope, report: Any, day: Any, *, today: dt.date) -> Any:
        if day in bad:
            raise bad[day]
        return await real(gh, data_dir, scope, report, day, today=today)

    monkeypatch.setattr(fetch_mod, "fetch_report_day", flaky)
    sim = Simulator(small_tenant())
    summary = _run(sim, tmp_path, families=["aggregate"], since=TODAY - dt.timedelta(days=8))
    assert summary.failed == 2 * 2  # two days, two scopes
    assert sum(c["fetched"] for c in summary.counts.values()) == 2 * (5 + 1)  # the other days and the 28-day window
    reasons = sorted({e.split(": ", 1)[1] for e in summary.errors})
    assert reasons == ["ReadTimeout: no detail", "RuntimeError: boom x"]


def test_cost_centers_fetched_active_and_deleted(clean: tuple[Path, Simulator]) -> None:
    data_dir, _ = clean
    files = sorted((data_dir / "raw").glob("enterprise=*/cost-centers/*/*.json"))
    bodies = json.loads(next(f for f in files if not f.name.endswith(".meta.json")).read_bytes())
    states = [{c["state"] for c in body["costCenters"]} for body in bodies]
    assert states == [{"active"}, {"deleted"}]
    assert not list((data_dir / "raw").glob("org=*/cost-centers"))  # an enterprise object only


def test_cost_centers_403_does_not_fail_the_fetch(tmp_path: Path) -> None:
    sim = Simulator(small_tenant())
    with running(sim) as served:

        async def go() -> Any:  # the metrics token on billing: GitHub's 403
            async with GitHub(served.base_url, token=served.token, billing_token=served.token) as gh:
                return await fetch(
                    gh,
                    tmp_path,
                    [Scope("enterprise", served.enterprise)],
                    families=["seats", "cost-centers", "budgets"],
                    today=TODAY,
                )

        summary = asyncio.run(go())
    assert summary.failed == 0
    assert summary.counts[("enterprise:octo-sim", "cost-centers")]["not_fetched"] == 1
    assert summary.counts[("enterprise:octo-sim", "budgets")]["not_fetched"] == 1
    assert summary.counts[("enterprise:octo-sim", "seats")]["fetched"] == 1
    assert len(summary.errors) == 2
    for reason, what in zip(sorted(summary.errors), ("budgets", "cost-centers"), strict=True):
        assert "\n" not in reason and f"{what} not fetched" in reason and "403" in reason
        assert "manage_billing:enterprise" in reason
    assert not list((tmp_path / "raw").rglob("cost-centers")) and not list((tmp_path / "raw").rglob("budgets"))


def test_cost_center_members_match_the_simulated_billing(clean: tuple[Path, Simulator]) -> None:
    from copilot_usage.simulate import payloads

    data_dir, sim = clean
    t = sim.tenant
    centres = read.scan(data_dir, "cost_centers").collect()
    assert centres.height == 4 and centres.filter(pl.col("ai_credit_pool_enabled"))["pool_target_usd"].item() > 0
    members = read.scan(data_dir, "cost_center_members").collect()
    assert members.group_by("snapshot_day", "user_login").len()["len"].max() == 1  # at most one cost centre
    assert set(members["via"]) == {"User", "Organization", "EnterpriseTeam"}
    names = [d["name"] for d in payloads.cost_center_defs(t)]
    of = payloads.cost_center_of(t, TODAY)
    seated = t.seated(TODAY)
    truth = {str(t.login[u]): names[of[u]] for u in range(t.users) if seated[u] and of[u] >= 0}
    got = dict(members.select("user_login", "cost_center_name").iter_rows())
    assert {u: got.get(u) for u in truth} == truth  # every seated user where billing puts them
    assert not set(got) - set(truth) - {str(x) for x in t.login[~seated]}
    assert "Mobile (retired)" not in set(members["cost_center_name"])


def test_budgets_and_user_states_built_as_billing_says(clean: tuple[Path, Simulator]) -> None:
    from copilot_usage.simulate import payloads

    data_dir, sim = clean
    got = read.scan(data_dir, "budgets").collect()
    assert set(got["scope"]) == {"enterprise:octo-sim", f"org:{sim.tenant.org_names[0]}"}
    assert got["known_scope"].all() and "multi_user_cost_center" in set(got["scope_kind"])
    served = payloads.budgets(sim.tenant, Scope("enterprise", sim.tenant.enterprise))
    ent = got.filter(pl.col("scope") == "enterprise:octo-sim").sort("budget_id")
    assert ent["consumed_amount"].to_list() == [b.get("consumed_amount") for b in sorted(served, key=lambda b: b["id"])]
    states = read.scan(data_dir, "budget_user_states").collect()
    multi = next(b for b in served if b["budget_scope"] == "multi_user_cost_center")
    expected = payloads.budget_user_states(sim.tenant, multi["id"]) or []
    assert states.height == len(expected) > 30  # every page (30 a page by default) of the in-body paging
    assert states.filter(pl.col("override_budget_id").is_not_null()).height == 1


def test_the_api_host_is_recorded_for_each_day_and_nothing_else_of_the_url(clean: tuple[Path, Simulator]) -> None:
    """data_health carries the host the day came from (a GHE.com host puts the data-residency note in reports)."""
    data_dir, _ = clean
    health = read.scan(data_dir, "data_health").collect()
    assert health.filter(pl.col("status") == "complete")["api_host"].unique().to_list() == ["127.0.0.1"]
