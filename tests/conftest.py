from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import os
from pathlib import Path

import httpx
import pytest

from copilot_usage.simulate.app import SimConfig, Simulator
from copilot_usage.simulate.tenant import Tenant

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2026, 11, 26)


def small_tenant(**kw: object) -> Tenant:
    args = {"seed": 3, "users": 80, "days": 45, "today": TODAY}
    args.update(kw)
    return Tenant(**args)  # type: ignore[arg-type]


class SyncASGI(httpx.BaseTransport):
    """Synchronous face of ``httpx.ASGITransport`` for tests (each request runs its own event loop)."""

    def __init__(self, app: object, *, raise_app_exceptions: bool = True) -> None:
        self.inner = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)  # type: ignore[arg-type]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def go() -> httpx.Response:
            request.stream = httpx.ByteStream(request.read())  # type: ignore[assignment]
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return asyncio.run(go())


def client_for(app: object, token: str | None = None, **kw: object) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(transport=SyncASGI(app, **kw), base_url="http://127.0.0.1", headers=headers)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def tenant() -> Tenant:
    return small_tenant()


@pytest.fixture
def sim(tenant: Tenant) -> Simulator:
    return Simulator(tenant, SimConfig(shard_rows=25))


@pytest.fixture
def api(sim: Simulator) -> httpx.Client:
    """In-process client for the simulator (ASGI transport), authenticated with the metrics token."""
    return client_for(sim, sim.config.token)


def load_fixture(name: str) -> object:
    return json.loads((FIXTURES / "github" / name).read_text())


def shared_cache(
    factory: pytest.TempPathFactory, *, seed: int, users: int, days: int, today: dt.date
) -> tuple[Path, str]:
    """A simulated cache (``demo.simulate_cache``) built once per test run for these arguments and shared by the
    xdist workers of the run (the first to ask builds it under a lock; the others wait and read it). Read-only for
    the tests that take it. Returns the data dir and the enterprise scope."""
    from copilot_usage.demo import simulate_cache  # the simulator's client stack, only for the tests that need it

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    # one run's workers share the parent of their base temps; without xdist, this session's own base temp
    root = factory.getbasetemp().parent / f"shared-{run}" if run else factory.getbasetemp() / "shared"
    root.mkdir(parents=True, exist_ok=True)
    data = root / f"cache-s{seed}-u{users}-d{days}-{today:%Y%m%d}"
    done = data.with_suffix(".scopes.json")
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            scopes, _ = simulate_cache(data, seed=seed, users=users, days=days, today=today)
            done.write_text(json.dumps([str(s) for s in scopes]))
    return data, json.loads(done.read_text())[0]
