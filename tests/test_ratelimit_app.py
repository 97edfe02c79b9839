"""A fetch bound by the primary rate limit (plan, ETA, newest first, no violation) and GitHub App authentication
against the simulator's own app (JWT exchange, renewal before expiry and on 401, nothing secret kept)."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, small_tenant
from copilot_usage.catalog import Scope
from copilot_usage.ingest.auth import App
from copilot_usage.ingest.fetch import fetch
from copilot_usage.ingest.github import GitHub
from copilot_usage.ingest.plan import Plan
from copilot_usage.ingest.transport import Budget
from copilot_usage.simulate.app import SimConfig, Simulator
from copilot_usage.simulate.server import running


def test_eta_counts_the_resets_a_short_budget_must_wait_for() -> None:
    now = 1_000_000.0
    budget = Budget(limit=5000, remaining=1000, reset=now + 1200)
    plan = Plan(Counter({("org:o", "users-1-day"): 12_000}), tasks=12_000, budget=budget, round_trip_s=0.4)
    # 11,000 beyond this window: 5,000 after the reset in 20 min, 5,000 an hour later, the last 1,000 after the
    # third reset, at 0.4 s / 4 concurrent = 0.1 s each
    assert plan.eta_s(now=now) == pytest.approx(1200 + 2 * 3600 + 1000 * 0.1)
    lines = plan.lines(now=now)
    assert lines[0].startswith("plan: 12,000 API requests") and "waits for 3 resets" in lines[-1]
    assert "budget: 1,000 of 5,000" in lines[2]
    fits = Plan(Counter({("org:o", "x"): 100}), tasks=100, budget=budget, round_trip_s=0.4)
    assert fits.eta_s(now=now) == pytest.approx(10.0) and "fits in this window" in fits.lines(now=now)[-1]
    unknown = Plan(Counter({("org:o", "x"): 3}), tasks=3, budget=None)
    assert "unknown" in unknown.lines(now=now)[2]


def test_fetch_at_the_rate_floor_never_violates_the_limit_and_goes_newest_first(tmp_path: Path) -> None:
    limit, window = 100, 15.0
    sim = Simulator(small_tenant(days=90), SimConfig(primary_limit=limit, primary_window_s=window))
    plans: list[Plan] = []
    done: list[str] = []
    with running(sim) as served:

        async def go() -> Any:
            async with GitHub(served.base_url, token=served.token, concurrency=4) as gh:
                return await fetch(
                    gh,
                    tmp_path,
                    [Scope("org", served.orgs[0])],
                    families=["users", "aggregate"],
                    since=TODAY - dt.timedelta(days=80),
                    today=TODAY,
                    on_plan=plans.append,
                    on_done=done.append,
                )

        started = time.monotonic()
        summary = asyncio.run(go())
        wall = time.monotonic() - started
    assert summary.failed == 0, summary.errors
    api = sim.record.api_requests
    assert api >= 150 and plans[0].total >= 150
    assert plans[0].budget is not None and plans[0].budget.remaining == limit  # /rate_limit itself is free
    floor = (math.ceil(api / limit) - 1) * window  # the full windows it must wait
    assert wall <= floor + 25, (wall, floor)
    assert sim.record.limit_violations.get("primary", 0) == 0
    days = [line.split()[2] for line in done if "-1-day 2" in line]
    # the newest days came back first (four requests in flight: a slow one may finish after the next day's)
    newest = sorted(set(days), reverse=True)[:3]
    assert days[0] == newest[0] and all(d in newest for d in days[:4]), days[:6]


@pytest.fixture(scope="module")
def app_sim() -> Simulator:
    return Simulator(small_tenant(), SimConfig(app_token_ttl_s=400.0))


def test_github_app_tokens_are_exchanged_renewed_and_never_kept(app_sim: Simulator, tmp_path: Path) -> None:
    with running(app_sim) as served:
        app = App(app_id=served.app_id, key_path=Path(served.app_key_path), installation_id=served.installation_id)

        async def go() -> Any:
            async with GitHub(served.base_url, token=None, app=app, concurrency=2) as gh:
                return await fetch(
                    gh,
                    tmp_path,
                    [Scope("org", served.orgs[0])],
                    families=["users", "aggregate"],
                    since=TODAY - dt.timedelta(days=5),
                    today=TODAY,
                )

        summary = asyncio.run(go())
        assert summary.failed == 0, summary.errors
        # a 400 s token is renewed five minutes before it expires: after 100 s it is no longer fresh
        assert app.issued == 1 and app.fresh(time.time() + 50) and not app.fresh(time.time() + 150)
        issued = app_sim.record.app_tokens_issued
        token = app._token
        assert token is not None and token.startswith("ghs_")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert token.encode() not in data and b"PRIVATE KEY" not in data
    assert issued == 1


def test_an_expired_installation_token_is_renewed_on_401(tmp_path: Path) -> None:
    sim = Simulator(small_tenant(), SimConfig(app_token_ttl_s=1.0))
    with running(sim) as served:
        app = App(app_id=served.app_id, key_path=Path(served.app_key_path), installation_id=served.installation_id)

        async def go() -> tuple[int, int]:
            async with GitHub(served.base_url, token=None, app=app, concurrency=1) as gh:
                first = await gh.get(f"/orgs/{served.orgs[0]}/teams")
                app._expires = time.time() + 10_000  # the client believes it fresh; the server knows better
                await asyncio.sleep(1.2)
                second = await gh.get(f"/orgs/{served.orgs[0]}/teams")
                return first.status_code, second.status_code

        assert asyncio.run(go()) == (200, 200)
    assert sim.record.app_tokens_issued == 2


def test_a_jwt_from_another_key_is_refused_with_the_apps_message(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from copilot_usage.errors import AuthError

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = tmp_path / "other.pem"
    key.write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    sim = Simulator(small_tenant())
    with running(sim) as served:
        app = App(app_id=served.app_id, key_path=key, installation_id=served.installation_id)

        async def go() -> Any:
            async with GitHub(served.base_url, token=None, app=app, concurrency=1) as gh:
                return await gh.get(f"/orgs/{served.orgs[0]}/teams")

        with pytest.raises(AuthError, match="--app-key"):
            asyncio.run(go())
    assert sim.record.app_tokens_issued == 0


def test_cli_fetch_with_an_app_prints_the_plan_and_never_the_key(tmp_path: Path) -> None:
    sim = Simulator(small_tenant())
    with running(sim) as served:
        env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "COPILOT_BILLING_TOKEN")}
        env |= {
            "COPILOT_USAGE_APP_ID": served.app_id,
            "COPILOT_USAGE_APP_KEY": served.app_key_path,
            "COPILOT_USAGE_APP_INSTALLATION_ID": served.installation_id,
        }
        cmd = [sys.executable, "-m", "copilot_usage", "fetch", "--org", served.orgs[0], "--base-url", served.base_url]
        cmd += ["--data-dir", str(tmp_path), "--today", TODAY.isoformat(), "--reports", "aggregate"]
        cmd += ["--since", (TODAY - dt.timedelta(days=4)).isoformat()]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout + done.stderr
    assert "plan: " in out and "budget: " in out and "ETA: " in out
    assert "PRIVATE KEY" not in out and "ghs_" not in out
    assert sim.record.app_tokens_issued == 1
