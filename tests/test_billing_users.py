"""Per-user billing (``fetch --reports billing-users``): one call per seat holder and month, stored verbatim, built
into ``billing_user_month`` and reconciled with the metrics per user and month."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import small_tenant
from copilot_usage.analysis import spend
from copilot_usage.cache import builder, read
from copilot_usage.catalog import Scope
from copilot_usage.ingest import rawstore
from copilot_usage.ingest.fetch import billing_months, fetch
from copilot_usage.ingest.github import GitHub
from copilot_usage.simulate import payloads as P
from copilot_usage.simulate.app import SimConfig, Simulator
from copilot_usage.simulate.server import running

TODAY = dt.date(2026, 12, 6)  # November is complete in the metrics (newest day 2026-12-04)
NOVEMBER = dt.date(2026, 11, 1)


def _fetch(sim: Simulator, data_dir: Path, families: list[str], *, billing_token: str | None = None, **kw: Any) -> Any:
    with running(sim) as served:
        scopes = [Scope("enterprise", served.enterprise), Scope("org", served.orgs[0])]

        async def go() -> Any:
            async with GitHub(
                served.base_url, token=served.token, billing_token=billing_token or served.billing_token, concurrency=4
            ) as gh:
                return await fetch(gh, data_dir, scopes, families=families, today=TODAY, **kw)

        return asyncio.run(go()), scopes


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Simulator, list[Scope]]:
    data_dir = tmp_path_factory.mktemp("billing_users")
    sim = Simulator(small_tenant(today=TODAY), SimConfig())
    families = ["users", "seats", "billing", "billing-users"]
    summary, scopes = _fetch(sim, data_dir, families, since=NOVEMBER)
    assert summary.failed == 0, summary.errors
    builder.build(data_dir)
    return data_dir, sim, scopes


def _roster(data_dir: Path, scope: Scope) -> set[str]:
    return set(read.scan(data_dir, "seats", scope=str(scope)).collect()["user_login"])


def test_every_seat_holder_is_asked_once_a_month_and_answers_land_per_user(
    fetched: tuple[Path, Simulator, list[Scope]],
) -> None:
    data_dir, sim, scopes = fetched
    for scope in scopes:
        table = read.scan(data_dir, "billing_user_month", scope=str(scope)).collect()
        asked = table.group_by("month").agg(pl.col("user_asked").unique().sort())
        assert asked["month"].sort().to_list() == [NOVEMBER, dt.date(2026, 12, 1)]
        for users in asked["user_asked"]:
            assert set(users) == _roster(data_dir, scope)
        served = (
            P.billing_lines(sim.tenant, scope, 2026, 11)
            .filter(pl.col("user").is_in(list(_roster(data_dir, scope))))
            .group_by("user")
            .agg(pl.col("gross").sum())
        )
        got = (
            table.filter(pl.col("month") == NOVEMBER)
            .group_by(user="user_asked")
            .agg(pl.col("gross_quantity").sum())
            .filter(pl.col("gross_quantity") > 0)
        )
        joined = served.join(got, on="user", how="full", coalesce=True)
        assert joined.height == served.height == got.height
        assert (joined["gross"] - joined["gross_quantity"]).abs().max() < 0.01  # type: ignore[operator]


def test_a_user_asked_with_no_usage_is_a_zero_not_a_gap(fetched: tuple[Path, Simulator, list[Scope]]) -> None:
    data_dir, _, scopes = fetched
    table = read.scan(data_dir, "billing_user_month", scope=str(scopes[1])).collect()
    idle = table.filter(pl.col("sku").is_null())
    assert idle.height > 0
    billed = spend.reconcile_user_months(
        read.scan(data_dir, "user_day", scope=str(scopes[1])), table, newest_metrics_day=None, abs_tol=1e9
    )
    assert billed.height == 0  # nothing over an absurd tolerance, and no error on users with no items
    per_user = spend.billing_attribution(read.scan(data_dir, "billing_usage", scope=str(scopes[1])), table)
    assert (per_user["users_billed"] < per_user["users_asked"]).all()


def test_attribution_adds_up_and_names_the_unasked_rest(fetched: tuple[Path, Simulator, list[Scope]]) -> None:
    data_dir, sim, scopes = fetched
    for scope in scopes:
        att = spend.billing_attribution(
            read.scan(data_dir, "billing_usage", scope=str(scope)),
            read.scan(data_dir, "billing_user_month", scope=str(scope)),
        ).filter(pl.col("month") == NOVEMBER)
        lines = P.billing_lines(sim.tenant, scope, 2026, 11)
        unasked = lines.filter(~pl.col("user").is_in(list(_roster(data_dir, scope))))["gross"].sum()
        assert att["unattributed_credits"].item() == pytest.approx(unasked, abs=0.05)
        assert att["attributed_credits"].item() + att["unattributed_credits"].item() == pytest.approx(
            att["billed_credits"].item()
        )
    # the enterprise bills a user outside its metrics and its seats: the rest is at least that user's credits
    assert unasked >= 0
    enterprise = spend.billing_attribution(
        read.scan(data_dir, "billing_usage", scope=str(scopes[0])),
        read.scan(data_dir, "billing_user_month", scope=str(scopes[0])),
    ).filter(pl.col("month") == NOVEMBER)
    assert enterprise["unattributed_credits"].item() >= P.EXTERNAL_CREDITS - 0.05


def test_user_months_reconcile_with_each_difference_explained(fetched: tuple[Path, Simulator, list[Scope]]) -> None:
    data_dir, sim, scopes = fetched
    newest = TODAY - dt.timedelta(days=2)
    diff = spend.reconcile_user_months(
        read.scan(data_dir, "user_day", scope=str(scopes[0])),
        read.scan(data_dir, "billing_user_month", scope=str(scopes[0])),
        newest_metrics_day=newest,
    )
    november = diff.filter(pl.col("month") == NOVEMBER)
    corrected = (
        P.billing_lines(sim.tenant, scopes[0], 2026, 11)
        .filter(pl.col("day") == P.billing_discrepancy_days(sim.tenant)["late_correction"])
        .sort("user", "model")["user"][0]
    )
    unexplained = november.filter(pl.col("cause") == spend.CAUSES["unexplained"])
    assert unexplained["user_login"].to_list() == [corrected]
    assert unexplained["difference"].item() == pytest.approx(P.CORRECTION_CREDITS, abs=0.05)
    # the rest: users active in November whose seat was gone before the roster was taken
    rest = november.filter(pl.col("cause") != spend.CAUSES["unexplained"])
    assert set(rest["cause"]) == {spend.CAUSES["not_asked"]}
    assert not set(rest["user_login"]) & _roster(data_dir, scopes[0])
    assert set(diff.filter(pl.col("month") > NOVEMBER)["cause"]) <= {spend.CAUSES["month_open"]}
    # the org bills only the users whose licence it grants: the others are asked, billed 0, and explained
    org = spend.reconcile_user_months(
        read.scan(data_dir, "user_day", scope=str(scopes[1])),
        read.scan(data_dir, "billing_user_month", scope=str(scopes[1])),
        newest_metrics_day=newest,
    ).filter(pl.col("month") == NOVEMBER)
    assert org.height > 0
    assert set(org["cause"]) <= {spend.CAUSES["metrics_only_user"], spend.CAUSES["not_asked"]}


def test_settled_months_are_not_asked_again(tmp_path: Path) -> None:
    scope = Scope("org", "acme")
    today = dt.date(2026, 11, 3)
    for month in ("2026-09", "2026-10"):
        rawstore.put_bytes(
            tmp_path, scope, "billing-users", month, b'{"users":[],"responses":[]}\n', ext="json", provenance={}
        )
    months = billing_months(tmp_path, scope, today=today, since=None, until=None)
    # June-August never stored; September settled; October may still change in the first days of November
    assert [m.isoformat() for m in months] == ["2026-06-01", "2026-07-01", "2026-08-01", "2026-10-01", "2026-11-01"]
    later = billing_months(tmp_path, scope, today=dt.date(2026, 11, 20), since=None, until=None)
    assert [m.isoformat() for m in later] == ["2026-06-01", "2026-07-01", "2026-08-01", "2026-11-01"]
    given = billing_months(tmp_path, scope, today=today, since=dt.date(2026, 9, 15), until=dt.date(2026, 10, 2))
    assert [m.isoformat() for m in given] == ["2026-09-01", "2026-10-01"]


def test_without_a_seat_roster_the_month_fails_with_what_to_do(tmp_path: Path) -> None:
    summary, _ = _fetch(Simulator(small_tenant(today=TODAY)), tmp_path, ["billing-users"], since=NOVEMBER)
    assert summary.failed == 4  # 2 scopes x 2 months
    assert all("fetch --reports seats" in e for e in summary.errors)


def test_a_refused_billing_token_fails_each_month_on_its_first_call(tmp_path: Path) -> None:
    sim = Simulator(small_tenant(today=TODAY))
    _fetch(sim, tmp_path, ["seats"])
    before = sim.record.api_requests
    summary, _ = _fetch(sim, tmp_path, ["billing-users"], billing_token=sim.config.token, since=NOVEMBER)
    assert summary.failed == 4
    assert all("manage_billing" in e for e in summary.errors), summary.errors
    assert sim.record.api_requests - before == 4  # not one per seat holder
    assert not list(rawstore.slots(tmp_path, "billing-users"))
    assert json.dumps(summary.errors).count(sim.config.token) == 0


def test_cli_offers_billing_users_by_name_only() -> None:
    from click.testing import CliRunner

    from copilot_usage.cli import main

    result = CliRunner().invoke(main, ["fetch", "--org", "acme", "--reports", "seats,bogus"], env={"GITHUB_TOKEN": "x"})
    assert result.exit_code == 2 and "billing-users" in result.output and "bogus" in result.output
    default = next(p for p in main.commands["fetch"].params if p.name == "reports").default
    assert "billing-users" not in default
