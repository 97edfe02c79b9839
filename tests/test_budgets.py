"""Budget and pool headroom: projected consumption and exhaustion dates against hand-computed cases."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from copilot_usage.analysis import budgets

AS_OF = dt.date(2026, 11, 10)
NOV1, NOV30 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def _flat(per_day: float = 100.0) -> pl.DataFrame:
    """Every day the same credits: the forecast is then exact (no spread, no trend)."""
    return pl.DataFrame({"day": pl.date_range(dt.date(2026, 10, 1), AS_OF, eager=True)}).with_columns(
        credits=pl.lit(per_day)
    )


def _project(target: float | None, consumed: float | None, through: dt.date | None = AS_OF) -> dict:
    return budgets.projection(
        _flat(),
        target=target,
        consumed=consumed,
        consumed_through=through,
        as_of=AS_OF,
        period_start=NOV1,
        period_end=NOV30,
    )


def test_exhaustion_date_hand_computed() -> None:
    # $10 (1,000 credits) used through 10 Nov, 100 credits a day, a $15 budget (1,500 credits):
    # 11 Nov 1,100 · 12 Nov 1,200 · 13 Nov 1,300 · 14 Nov 1,400 · 15 Nov 1,500 → runs out on 15 Nov
    p = _project(1500.0, 1000.0)
    assert p["exhausted_on"] == dt.date(2026, 11, 15)
    # month end: 1,000 + 20 days × 100 = 3,000 credits; a flat history has no spread
    assert p["projected"] == pytest.approx(3000.0) and p["low"] == pytest.approx(3000.0) == p["high"]


def test_consumed_after_the_metrics_counts_only_later_days() -> None:
    # billing's figure runs two days past the metrics (through 12 Nov): 1,200 + 18 × 100 at month end
    p = _project(1500.0, 1200.0, dt.date(2026, 11, 12))
    assert p["projected"] == pytest.approx(3000.0) and p["exhausted_on"] == dt.date(2026, 11, 15)


def test_no_exhaustion_already_exhausted_and_metrics_only() -> None:
    assert _project(100_000.0, 1000.0)["exhausted_on"] is None  # will not run out this month
    assert _project(None, 1000.0)["exhausted_on"] is None
    assert _project(800.0, 1000.0)["exhausted_on"] == AS_OF  # already over: exhausted by the consumed day
    # no consumed figure: the metrics' own month to date (10 days × 100)
    p = _project(1500.0, None, None)
    assert p["consumed"] == pytest.approx(1000.0) and p["exhausted_on"] == dt.date(2026, 11, 15)


def _sample_report(scope: str, **kw: object):  # type: ignore[no-untyped-def]
    from test_teams import _sample_report as base

    return base(scope, **kw)


def test_budget_section_on_the_sample() -> None:
    from copilot_usage.report import spend

    r = _sample_report("enterprise:octo-sim")
    got = spend.budget_section(r)
    note, counting = got.sentences  # the second: budgets count use the included pool covers, the bill does not
    assert "including the use the included pool covers" in counting
    table, users = (t.frame for t in got.tables)
    by = {t["budget_scope"]: t for t in table.iter_rows(named=True)}
    assert {"enterprise", "cost_center", "multi_user_cost_center", "user"} <= set(by)
    # a budget already over its target ran out on the day its consumed figure runs to
    cc = by["cost_center"]
    assert cc["consumed_usd"] >= cc["target_usd"] and cc["projected_exhaustion_date"] == dt.date(2026, 11, 25)
    ent = by["enterprise"]
    assert ent["projected_low_usd"] <= ent["projected_usd"] <= ent["projected_high_usd"]
    assert ent["projected_usd"] >= ent["consumed_usd"] and ent["blocks"] == "no"
    assert ent["projected_exhaustion_date"] is None  # will not run out this month
    multi = by["multi_user_cost_center"]
    assert multi["projected_usd"] is None and multi["users_over_80pct"] >= multi["users_over_100pct"] >= 0
    # at month end, at the scope's pace: no fewer users over 100 % than today (the month only adds consumption)
    assert multi["users_over_100pct_at_month_end"] >= multi["users_over_100pct"]
    assert "Per-user budgets at month end: each user's consumption so far ×" in note
    assert by["user"]["entity"] == "(one user)"  # leadership: no login
    assert users.height == multi["users_over_80pct"]  # the analyst list, when shown
    summary = {b["scope"]: b for b in got.summary()["budgets"]}
    assert set(summary["cost_center"]) == {
        "id",
        "scope",
        "entity",
        "target_usd",
        "consumed_usd",
        "projected_usd",
        "projected_exhaustion_date",
        "exhaustion_p50",
        "exhaustion_p90",
        "blocks",
        "users_over_100pct_at_month_end",
    }
    assert summary["cost_center"]["exhaustion_p50"] == summary["cost_center"]["exhaustion_p90"] == dt.date(2026, 11, 25)
    assert "Data & ML on 25 Nov" in note


def test_budgets_not_fetched_say_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from copilot_usage.report import spend
    from test_teams import SAMPLE

    shutil.copytree(SAMPLE, tmp_path / "s", ignore=shutil.ignore_patterns("budget*"))
    r = _sample_report("org:octo-sim-eng", data_dir=tmp_path / "s")
    got = spend.budget_section(r)
    (note,) = got.sentences
    table = got.tables[0].frame
    assert table.height == 0 and "--org octo-sim-eng --reports budgets" in note and "manage_billing" in note


def test_scope_spellings_and_unknown_scopes() -> None:
    got = pl.DataFrame({"s": ["cost-center", "Cost_Center", "multi_user_customer", "team"]}).select(
        budgets.normalise_scope(pl.col("s"))
    )["s"]
    assert got.to_list()[:2] == ["cost_center", "cost_center"]
    assert [x in budgets.BUDGET_SCOPES for x in got] == [True, True, True, False]


def test_unknown_budget_scope_is_kept_and_reported_as_drift(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from copilot_usage.cache import builder, read
    from copilot_usage.catalog import Scope
    from copilot_usage.ingest import rawstore

    page = {
        "budgets": [
            {"id": "b1", "budget_scope": "cost-center", "budget_entity_name": "Eng", "budget_amount": 10},
            {"id": "b2", "budget_scope": "team", "budget_entity_name": "x", "budget_amount": 5},
        ],
        "has_next_page": False,
        "total_count": 2,
    }
    body = json.dumps({"budgets": [page], "user_states": []}).encode()
    rawstore.put_bytes(tmp_path, Scope("enterprise", "acme"), "budgets", "2026-11-20", body, ext="json", provenance={})
    builder.build(tmp_path)
    got = read.scan(tmp_path, "budgets").collect().sort("budget_id")
    assert got["scope_kind"].to_list() == ["cost_center", "team"] and got["known_scope"].to_list() == [True, False]
    assert got["budget_scope"].to_list() == ["cost-center", "team"]  # kept as GitHub sent it
    drift = read.scan(tmp_path, "schema_drift").collect()
    assert drift.filter(pl.col("report") == "budgets")["field"].to_list() == ["budgets[].budget_scope=team"]


def test_exhaustion_p90_is_never_later_than_p50_and_equal_on_a_flat_history() -> None:
    flat = _project(1500.0, 1000.0)
    assert flat["exhausted_p90"] == flat["exhausted_on"] == dt.date(2026, 11, 15)  # no spread: one day
    days = pl.date_range(dt.date(2026, 8, 1), AS_OF, eager=True)
    rng = __import__("numpy").random.default_rng(0)
    noisy = pl.DataFrame({"day": days, "credits": 100.0 * rng.lognormal(0, 0.4, len(days))})
    p = budgets.projection(
        noisy, target=2500.0, consumed=1000.0, consumed_through=AS_OF, as_of=AS_OF, period_start=NOV1, period_end=NOV30
    )
    assert p["exhausted_p90"] is not None and p["exhausted_on"] is not None
    assert p["exhausted_p90"] <= p["exhausted_on"]


def test_users_over_100pct_at_month_end_by_hand() -> None:
    """Issue 26 §2: each user's month to date × the scope's projected-to-date ratio, against their target."""
    states = pl.DataFrame(
        {
            "budget_id": ["a", "a", "a", "a", "b"],
            "user": ["u1", "u2", "u3", "u4", "u5"],
            "consumed_amount": [10.0, 6.0, 4.9, None, 1.0],
            "target_amount": [10.0, 12.0, 10.0, 10.0, 0.0],
        }
    )
    # ratio 2: u1 20 ≥ 10, u2 12 ≥ 12, u3 9.8 < 10, u4 unknown; u5 a zero target is reached at once
    got = dict(budgets.users_over_at_month_end(states, ratio=2.0).iter_rows())
    assert got == {"a": 2, "b": 1}
    unknown = dict(budgets.users_over_at_month_end(states, ratio=None).iter_rows())
    assert unknown == {"a": None, "b": None}


def test_a_cost_centre_created_mid_month_is_projected_from_its_own_days_with_a_plain_sentence() -> None:
    """Bad input: a cost centre created on 2026-11-16 (first in that day's member snapshot). Its pool is projected
    from its 9 days since, not from 51 days of zeros before it existed: preliminary, by hand, and said so."""
    from copilot_usage.analysis import cost_centers
    from copilot_usage.report.spend import young_centre_sentence

    as_of, created, first = dt.date(2026, 11, 24), dt.date(2026, 11, 16), dt.date(2026, 9, 26)
    members = pl.DataFrame(
        {
            "snapshot_day": [dt.date(2026, 9, 1), dt.date(2026, 11, 16), dt.date(2026, 11, 16)],
            "user_login": ["a", "a", "b"],
            "user_id": [1, 1, 2],
            "cost_center_name": ["Old", "Old", "New"],
        }
    )
    mapping = cost_centers.mapping(members)
    assert cost_centers.created_on(mapping, "New") == created and cost_centers.created_on(mapping, "Old") is None
    unit_days = pl.DataFrame(
        {"day": pl.date_range(created, as_of, eager=True), "unit": "New", "user_id": 2, "ai_credits_used": 100.0}
    )
    daily = cost_centers.daily_credits(unit_days, "New", first=max(first, created), end=as_of)
    assert daily.height == 9 and daily["credits"].sum() == 900
    p = budgets.projection(
        daily,
        target=1200.0,
        consumed=900.0,
        consumed_through=as_of,
        as_of=as_of,
        period_start=NOV1,
        period_end=NOV30,
    )
    # 900 so far + 6 days × 100 = 1,500 at month end; 1,200 is reached on the 27th; no band (9 days)
    assert p["projected"] == pytest.approx(1500) and p["exhausted_on"] == dt.date(2026, 11, 27)
    assert p["low"] is None and p["exhausted_p90"] is None
    said = young_centre_sentence("New", created, daily.height)
    assert said == (
        "Cost centre New was created on 2026-11-16: its pool is projected from its 9 day(s) since (a preliminary "
        "run-out, with no interval), not from days before it existed."
    )
    empty = cost_centers.daily_credits(unit_days, "New", first=dt.date(2026, 12, 1), end=as_of)
    assert (
        empty.height == 0
        and budgets.projection(
            empty, target=1.0, consumed=None, consumed_through=None, as_of=as_of, period_start=NOV1, period_end=NOV30
        )["projected"]
        is None
    )
