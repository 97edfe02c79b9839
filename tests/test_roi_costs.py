"""Issue 27 §1–2: the ROI report's cost facts, per scope and per cost centre, for the last closed month, this month
to date and this month projected, recomputed independently on a small demo cache.

The recomputation reads the processed Delta tables with plain polars and never calls the kit's cost functions: each
licence (one per user, Enterprise over Business) is expanded into the days it was held, so a seat granted mid-month
counts for its days only; gross and net AI credits come from the billing table itself; the included pool from the
roster; each user's cost centre from GitHub's member list; the bill beyond the pool is shared by credits, as the
report's note says. Only the scope's projected credits (the forecaster's, checked in test_spend_cost) are taken from
the kit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import TODAY, shared_cache
from copilot_usage.report import open_report
from copilot_usage.report import roi as roi_report
from copilot_usage.report import spend as spend_report
from independent import LIST, included_pool, seat_days
from independent import month_end as _last
from independent import rows as _rows

STANDARD = {"business": 1900, "enterprise": 3900}  # included credits a licence, months after 2026-09-01
CREDIT = 0.01
NONE = "(no cost centre)"
OCT1, NOV1 = dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def centres(data: Path) -> pl.DataFrame:
    """``user_id, centre`` from GitHub's member list (one cost centre a user: checked)."""
    members = _rows(data, "cost_center_members").select("user_id", centre="cost_center_name").unique()
    assert members["user_id"].is_unique().all(), "a user in two cost centres: the recomputation needs one"
    return members


def scope_cost(
    data: Path,
    scope: str,
    month: dt.date,
    through: dt.date,
    *,
    billing: bool = True,
    prices: dict[str, float] = LIST,
    included: dict[str, int] = STANDARD,
) -> dict[str, Any]:
    """The scope's cost of [month, through]: seats by plan, gross credits, pool, net metered (billing's where
    fetched, else computed above the pool), other billed SKUs (the demo bills AI credits only), total, per
    active developer."""
    seats = seat_days(data, scope, month, through, prices)
    used = _rows(data, "user_day", scope).filter(pl.col("day").is_between(month, through))
    pool = included_pool(data, scope, month, included)
    if billing:
        bill = _rows(data, "billing_ai_credit", scope).filter(pl.col("day").is_between(month, through))
        gross, net = float(bill["gross_quantity"].sum()), float(bill["net_amount"].sum())
    else:
        gross = float(used["ai_credits_used"].sum())
        net = max(gross - pool, 0.0) * CREDIT
    by_plan = dict(seats.group_by("plan").agg(pl.col("usd").sum()).iter_rows())
    total = sum(by_plan.values()) + net
    developers = used["user_id"].n_unique()
    return {
        "seats_by_plan": by_plan,
        "seats_usd": sum(by_plan.values()),
        "seat_days": seats,
        "credits_gross": gross,
        "included_pool": pool,
        "credits_net_usd": net,
        "other_usd": 0.0,
        "total_usd": total,
        "active_developers": developers,
        "per_active_developer_usd": total / developers,
    }


def centre_cost(
    data: Path,
    scope: str,
    month: dt.date,
    through: dt.date,
    *,
    seats_through: dt.date,
    net_usd: float,
    projected_credits: float | None = None,
    prices: dict[str, float] = LIST,
) -> dict[str, dict[str, Any]]:
    """Per cost centre: its seat holders' licences, its users' credits and developers, the scope's ``net_usd``
    shared by credits; with ``projected_credits``, the projection shared by the credits to date."""
    who = centres(data)
    used = (
        _rows(data, "user_day", scope)
        .filter(pl.col("day").is_between(month, through))
        .join(who, on="user_id", how="left")
        .with_columns(pl.col("centre").fill_null(NONE))
        .group_by("centre")
        .agg(credits=pl.col("ai_credits_used").sum(), developers=pl.col("user_id").n_unique())
    )
    seats = (
        seat_days(data, scope, month, seats_through, prices)
        .join(who, on="user_id", how="left")
        .with_columns(pl.col("centre").fill_null(NONE))
        .group_by("centre")
        .agg(seats=pl.col("usd").sum())
    )
    rows = used.join(seats, on="centre", how="full", coalesce=True).fill_null(0)
    all_credits = float(rows["credits"].sum())
    out = {}
    for row in rows.iter_rows(named=True):  # a handful of cost centres
        share = row["credits"] / all_credits
        total = row["seats"] + net_usd * share
        out[row["centre"]] = {
            "seats_usd": row["seats"],
            "credits_gross": row["credits"] if projected_credits is None else projected_credits * share,
            "credits_net_usd": net_usd * share,
            "total_usd": total,
            "active_developers": None if projected_credits is not None else row["developers"],
            "per_active_developer_usd": None
            if projected_credits is not None or not row["developers"]
            else total / row["developers"],
        }
    return out


# ---------------------------------------------------------------------- the demo cache
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return shared_cache(tmp_path_factory, seed=5, users=40, days=100, today=TODAY)


def _report(data: Path, scope: str, **parameters: object):  # type: ignore[no-untyped-def]
    return open_report("t", data_dir=str(data), scope=scope, audience="analyst", k_min=1, **parameters)  # type: ignore[arg-type]


def _approx(got: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        numeric = isinstance(value, int | float)
        assert got[key] == (pytest.approx(value, rel=1e-9, abs=1e-9) if numeric else value), (key, got[key], value)


@pytest.mark.slow
def test_cost_facts_equal_an_independent_polars_computation_on_a_demo_cache(demo: tuple[Path, str]) -> None:
    data, scope = demo
    r = _report(data, scope, hourly_cost_low=60.0, hourly_cost_high=150.0)
    end = r.end
    closed = scope_cost(data, scope, OCT1, _last(OCT1))
    mtd = scope_cost(data, scope, NOV1, end)
    # the data really holds what the facts must handle: a seat granted mid-month, both plans, a month's bill
    assert ((closed["seat_days"]["days"] > 0) & (closed["seat_days"]["days"] < 31)).any()
    assert set(closed["seats_by_plan"]) == {"business", "enterprise"} and closed["credits_gross"] > 0
    fig = roi_report.headline(r).summary()
    by_plan = (
        closed["seat_days"]
        .group_by("plan")
        .agg(seats=pl.len(), seat_days=pl.col("days").sum(), seats_usd=pl.col("usd").sum())
        .sort("plan")
    )
    assert [(p["plan"], p["seats"], p["seat_days"]) for p in fig["cost"]["seats_by_plan"]] == list(
        by_plan.select("plan", "seats", "seat_days").iter_rows()
    )
    assert [p["seats_usd"] for p in fig["cost"]["seats_by_plan"]] == pytest.approx(by_plan["seats_usd"].to_list())
    _approx(
        fig["cost"],
        {
            k: closed[k]
            for k in ("seats_usd", "credits_gross", "credits_net_usd", "other_usd", "total_usd", "active_developers")
        }
        | {"per_active_developer_usd": closed["per_active_developer_usd"], "month": OCT1},
    )
    be = fig["break_even_hours_per_developer_month"]
    assert be["low"] == pytest.approx(closed["total_usd"] / (closed["active_developers"] * 150.0))
    assert be["high"] == pytest.approx(closed["total_usd"] / (closed["active_developers"] * 60.0))
    # the scope's table: the last closed month, this month to date and projected
    table = roi_report.cost(r).tables[0].frame
    assert table["period"].to_list()[0].endswith("(last closed month)")
    row = table.row(1, named=True)
    _approx(row, {k: mtd[k] for k in ("seats_usd", "included_pool", "credits_net_usd", "total_usd")})
    assert row["active_developers"] == mtd["active_developers"] and row["credits_gross"] == pytest.approx(
        mtd["credits_gross"]
    )
    projected = spend_report.headline(r).summary()["projected_month_cost"]["credits_projected"]
    whole = seat_days(data, scope, NOV1, _last(NOV1), LIST)["usd"].sum()
    net = max(projected - included_pool(data, scope, NOV1, STANDARD), 0) * CREDIT
    assert table.row(2, named=True)["total_usd"] == pytest.approx(whole + net)

    # per cost centre, each period: the independent split, and the rows add up to the scope's total
    got = roi_report.cost_by_unit(r).summary()["cost_by_cost_centre"]
    expected = {
        "closed": centre_cost(
            data, scope, OCT1, _last(OCT1), seats_through=_last(OCT1), net_usd=closed["credits_net_usd"]
        ),
        "mtd": centre_cost(data, scope, NOV1, end, seats_through=end, net_usd=mtd["credits_net_usd"]),
        "projected": centre_cost(
            data, scope, NOV1, end, seats_through=_last(NOV1), net_usd=net, projected_credits=projected
        ),
    }
    for period, by_centre in expected.items():
        rows = {g["unit"]: g for g in got if g["period"] == period}
        assert set(rows) == set(by_centre) and len(rows) >= 3, period
        for centre, want in by_centre.items():
            _approx(rows[centre], want)
            if want["per_active_developer_usd"] is not None:
                assert rows[centre]["break_even_hours_high"] == pytest.approx(want["per_active_developer_usd"] / 60.0)
        assert rows[next(iter(rows))]["month"] == (OCT1 if period == "closed" else NOV1)
    total = {p: sum(g["total_usd"] for g in got if g["period"] == p) for p in expected}
    assert total["closed"] == pytest.approx(closed["total_usd"])
    assert total["mtd"] == pytest.approx(mtd["total_usd"])
    assert total["projected"] == pytest.approx(whole + net)
    assert sum(g["credits_gross"] for g in got if g["period"] == "projected") == pytest.approx(projected)


@pytest.mark.slow
def test_a_computed_bill_beyond_the_pool_is_shared_by_credits_on_a_demo_cache(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    """Without billing and with small allowances the bill beyond the pool is computed (and above 0): the scope's
    figure and each cost centre's share of it, recomputed."""
    data, scope = demo
    bare = tmp_path / "nobilling"
    (bare / "processed").mkdir(parents=True)
    for table in (data / "processed").iterdir():
        if table.is_dir() and not table.name.startswith("billing"):
            (bare / "processed" / table.name).symlink_to(table)
    included = {"business": 100, "enterprise": 200}
    r = _report(bare, scope, included_business=100, included_enterprise=200)
    closed = scope_cost(data, scope, OCT1, _last(OCT1), billing=False, included=included)
    assert closed["credits_net_usd"] > 0
    cost = roi_report.headline(r).summary()["cost"]
    _approx(cost, {k: closed[k] for k in ("seats_usd", "credits_gross", "credits_net_usd", "total_usd")})
    got = {g["unit"]: g for g in roi_report.cost_by_unit(r).summary()["cost_by_cost_centre"] if g["period"] == "closed"}
    expected = centre_cost(data, scope, OCT1, _last(OCT1), seats_through=_last(OCT1), net_usd=closed["credits_net_usd"])
    for centre, want in expected.items():
        _approx(got[centre], want)
    assert sum(g["total_usd"] for g in got.values()) == pytest.approx(closed["total_usd"])
