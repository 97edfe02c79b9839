"""The whole kit end to end with no token: simulated tenant → real fetch over loopback → build → render."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

import polars as pl

from .cache.builder import build
from .catalog import OPT_IN_FAMILIES, Scope
from .ingest.fetch import Summary, fetch
from .ingest.github import GitHub
from .outputs.render import Rendered, render
from .simulate.app import SimConfig, Simulator
from .simulate.server import running
from .simulate.tenant import Tenant
from .storage import objstore

SAMPLE = {"seed": 11, "users": 60, "days": 75, "today": dt.date(2026, 11, 26)}
# the demo's history starts before GitHub's first definition change (2026-06-15), so its trends charts show them
DEMO_DAYS = 200
WHOLE_HISTORY = ("trends",)  # reports the demo renders over every simulated day (the others: their default)


def simulate_cache(
    data_dir: Path,
    *,
    seed: int,
    users: int,
    days: int,
    today: dt.date,
    orgs: int = 3,
    concurrency: int = 4,
    hostile_names: bool = False,
    spike: tuple[str, dt.date, float] | None = None,
) -> tuple[list[Scope], Summary]:
    """Serve a simulated tenant, fetch the enterprise and its first org through the real client (every report,
    and per-user billing for the last two months), build. ``hostile_names``, ``spike``: see ``Tenant``."""
    tenant = Tenant(seed=seed, users=users, days=days, today=today, orgs=orgs, hostile_names=hostile_names, spike=spike)
    sim = Simulator(tenant, SimConfig())
    with running(sim) as served:
        scopes = [Scope("enterprise", served.enterprise), Scope("org", served.orgs[0])]

        async def go() -> Summary:
            async with GitHub(
                served.base_url, token=served.token, billing_token=served.billing_token, concurrency=concurrency
            ) as gh:
                summary = await fetch(gh, data_dir, scopes, today=today, since=today - dt.timedelta(days=days + 1))
                # per-user billing for this month and the last: one call per seat holder and month, which fits
                # in one minute of GitHub's per-endpoint budget (more months would be paced at 900 calls/min)
                previous = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
                more = await fetch(gh, data_dir, scopes, families=OPT_IN_FAMILIES, today=today, since=previous)
                for key, counts in more.counts.items():
                    summary.counts[key] = counts
                summary.errors += more.errors
                return summary

        summary = asyncio.run(go())
    build(data_dir)
    return scopes, summary


def make_sample(target: Path) -> None:
    """Regenerate the committed sample cache (processed tables only) in ``target``."""
    target = Path(target)
    shutil.rmtree(target, ignore_errors=True)
    simulate_cache(target, **SAMPLE)  # type: ignore[arg-type]
    shutil.rmtree(target / "raw")


SPIKE_FACTOR = 25.0  # the demo's runaway: one ordinary user's credits × 25 on one day of the last week
SPIKE_DAYS_BEFORE_NEWEST = 3


def demo_spike(tenant: Tenant) -> tuple[str, dt.date, float]:
    """The runaway the demo plants so the watch (and the trends report's unusual-days section) has one to catch:
    the user with the median credits among those active on a weekday of the last week."""
    day = tenant.newest - dt.timedelta(days=SPIKE_DAYS_BEFORE_NEWEST)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    per_user = tenant.user_credits(day).group_by("u").agg(pl.col("credits").sum()).filter(pl.col("credits") > 0)
    u = int(per_user.sort("credits", "u")["u"][per_user.height // 2])
    return str(tenant.login[u]), day, SPIKE_FACTOR


def run_demo(
    *,
    data_dir: Path,
    out_dir: Path,
    notebooks_dir: Path,
    seed: int = 7,
    users: int = 400,
    days: int = DEMO_DAYS,
    today: dt.date | None = None,
) -> list[Rendered]:
    """Render every report notebook for the simulated enterprise and one org (leadership audience); the
    :data:`WHOLE_HISTORY` reports cover every simulated day, so their time charts cross GitHub's definition
    changes."""
    today = today or dt.datetime.now(dt.UTC).date()
    spike = demo_spike(Tenant(seed=seed, users=users, days=days, today=today))
    scopes, summary = simulate_cache(
        objstore.as_data_dir(data_dir),  # type: ignore[arg-type]
        seed=seed,
        users=users,
        days=days,
        today=today,
        spike=spike,
    )
    if summary.failed:
        msg = "demo fetch failed: " + "; ".join(summary.errors[:3])
        raise RuntimeError(msg)
    first = Tenant(seed=seed, users=users, days=days, today=today).start
    results = []
    for nb in sorted(Path(notebooks_dir).glob("*.ipynb")):
        period = {"start": first.isoformat()} if nb.stem in WHOLE_HISTORY else {}
        for scope in scopes:
            results.append(render(nb, {"data_dir": str(data_dir), "scope": str(scope), **period}, out_dir))
    return results
