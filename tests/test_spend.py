"""Spend: reconciliation finds exactly the simulator's deliberate discrepancies; pool arithmetic; idle seats;
the billing usage-report CSV import."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from conftest import TODAY
from copilot_usage.analysis import spend
from copilot_usage.cache import builder, read
from copilot_usage.catalog import Scope
from copilot_usage.demo import simulate_cache
from copilot_usage.ingest.importer import import_file
from copilot_usage.outputs.render import render
from copilot_usage.simulate import payloads
from copilot_usage.simulate.tenant import Tenant

ROOT = Path(__file__).parents[1]
SEED, USERS, DAYS = 5, 70, 40


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fetched and built enterprise cache, plus the enterprise's usage-report CSV for November imported."""
    data = tmp_path_factory.mktemp("spend")
    simulate_cache(data, seed=SEED, users=USERS, days=DAYS, today=TODAY)
    t = Tenant(seed=SEED, users=USERS, days=DAYS, today=TODAY)
    csv = data / "usage.csv"
    csv.write_bytes(payloads.billing_csv(t, Scope("enterprise", t.enterprise), 2026, 11))
    import_file(csv, data, scope=Scope("enterprise", t.enterprise))
    builder.build(data)
    return data


def _frames(cache: Path) -> tuple[pl.DataFrame, pl.DataFrame, Tenant]:
    t = Tenant(seed=SEED, users=USERS, days=DAYS, today=TODAY)
    scope = f"enterprise:{t.enterprise}"
    usage = read.scan_user_day(cache, scope=scope).collect()
    bills = read.scan(cache, "billing_usage", scope=scope).collect()
    return usage, bills, t


def _api_only(cache: Path, tmp_path: Path) -> Path:
    """The same cache without the imported CSV: billing comes from the API's daily items only."""
    data = tmp_path / "api-only"
    (data / "processed").mkdir(parents=True)
    for table in (cache / "processed").iterdir():
        if table.is_dir() and table.name != "billing_usage_csv":
            (data / "processed" / table.name).symlink_to(table)
    return data


@pytest.mark.parametrize("source", ["api", "api+csv"])
def test_day_reconciliation_finds_exactly_the_deliberate_discrepancies(
    cache: Path, tmp_path: Path, source: str
) -> None:
    usage, bills, t = _frames(_api_only(cache, tmp_path) if source == "api" else cache)
    assert set(bills["source"]) == set(source.split("+"))
    days = spend.differences(spend.reconcile_days(usage, bills, newest_metrics_day=t.newest))
    planted = payloads.billing_discrepancy_days(t)
    lag_days = {t.newest + dt.timedelta(days=k) for k in range(1, (t.today - t.newest).days)}
    assert set(days["day"]) == {planted["late_correction"], planted["outside_scope"], *lag_days}
    causes = dict(zip(days["day"], days["cause"], strict=True))
    assert all(causes[d] == spend.CAUSES["lag"] for d in lag_days)
    diff = dict(zip(days["day"], days["difference"], strict=True))
    assert diff[planted["late_correction"]] == pytest.approx(payloads.CORRECTION_CREDITS, abs=0.05)
    assert diff[planted["outside_scope"]] == pytest.approx(payloads.EXTERNAL_CREDITS, abs=0.05)


def test_user_reconciliation_names_each_cause(cache: Path) -> None:
    usage, bills, t = _frames(cache)
    csv = bills.filter(pl.col("source") == "csv")
    users = spend.reconcile_users(usage, csv, newest_metrics_day=t.newest)
    planted = payloads.billing_discrepancy_days(t)
    not_lag = users.filter(pl.col("cause") != spend.CAUSES["lag"])
    assert sorted(zip(not_lag["day"], not_lag["cause"], strict=True)) == [
        (planted["late_correction"], spend.CAUSES["unexplained"]),
        (planted["outside_scope"], spend.CAUSES["billing_only_user"]),
    ]
    assert payloads.EXTERNAL_USER in users["user_login"].to_list()
    assert (users.filter(pl.col("cause") == spend.CAUSES["lag"])["day"] > t.newest).all()


def test_csv_import_keeps_unknown_columns_tolerates_missing_ones_and_quarantines_bad_rows(tmp_path: Path) -> None:
    f = tmp_path / "usage.csv"
    f.write_bytes(
        b"\xef\xbb\xbf"
        + (
            b"date,username,product,sku,model,quantity,unit_type,applied_cost_per_quantity,gross_amount,aic_quantity,"
            b"cost_center_name,brand_new\n"
            b"2026-11-02,alice,copilot,copilot_ai_credit,gpt-5,12.25,ai-credits,0.01,0.1225,,,x\n"
            b"2026-05-02,alice,copilot,Copilot Premium Request,gpt-5,3,requests,0.04,0.12,12,,y\n"
            b"not-a-date,bob,copilot,copilot_ai_credit,gpt-5,1,ai-credits,0.01,0.01,,,z\n"
            b"2026-11-03,bob,copilot,coding_agent_ai_credit,,2.5,ai-credits,0.01,0.025,,,\n"
        )
    )
    import_file(f, tmp_path / "data", scope=Scope("enterprise", "acme"))
    builder.build(tmp_path / "data")
    rows = read.scan(tmp_path / "data", "billing_usage_csv").collect().sort("day")
    assert rows["credits"].to_list() == [12.0, 12.25, 2.5]  # premium requests → their aic_quantity
    assert rows["is_ai_credit"].to_list() == [False, True, True]
    assert json.loads(rows["extra"][0]) == {"brand_new": "y"}
    assert rows["discount_amount"].null_count() == 3  # a missing optional column is null, not 0
    q = read.scan(tmp_path / "data", "quarantine").collect()
    assert q.select("file", "line").rows() == [(q["file"][0], 4)] and q["file"][0].endswith(".csv")


def test_pool_grows_the_day_a_seat_is_added_and_removals_wait_for_next_month() -> None:
    seats = pl.DataFrame(
        {
            "user_id": [1, 2, 3],
            "plan_type": ["business", "enterprise", "business"],
            "created_at": [
                dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                dt.datetime(2026, 11, 10, tzinfo=dt.UTC),
                dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
            ],
        }
    )
    removed = pl.DataFrame({"user_id": [9], "plan_type": ["business"], "granted": [dt.date(2025, 1, 1)]})
    pool = spend.pool_by_day(seats, month=dt.date(2026, 11, 1), as_of=dt.date(2026, 11, 30), removed=removed)
    by_day = dict(pool.iter_rows())
    assert by_day[dt.date(2026, 11, 1)] == 1900 + 1900  # user 1 and the seat removed this month
    assert by_day[dt.date(2026, 11, 9)] == 3800 and by_day[dt.date(2026, 11, 10)] == 3800 + 3900
    assert max(by_day.values()) == 7700  # the December seat is not in November's pool
    promo = spend.pool_by_day(seats, month=dt.date(2026, 7, 1), as_of=dt.date(2026, 7, 31), promotional=True)
    assert promo["pool"].max() == 3000  # only user 1 held a seat in July, promotional allowance
    sep = spend.pool_by_day(seats, month=dt.date(2026, 9, 1), as_of=dt.date(2026, 9, 30), promotional=True)
    assert sep["pool"].max() == 1900  # month boundary: the promotion ended on 2026-09-01


def test_idle_seat_counts_match_the_roster(cache: Path) -> None:
    _, _, t = _frames(cache)
    seats = read.scan_seats(cache, scope=f"enterprise:{t.enterprise}").collect()
    idle = spend.idle_seats(seats, as_of=t.newest, inactive_days=14, seat_price_business=19, seat_price_enterprise=39)
    roster = seats.group_by("user_id").agg(pl.col("last_activity_at").max(), pl.col("pending_cancellation_date").max())
    never = roster.filter(pl.col("last_activity_at").is_null() & pl.col("pending_cancellation_date").is_null()).height
    counts = dict(idle.group_by("status").len().iter_rows())
    assert counts.get("never used", 0) == never
    assert counts.get("pending cancellation", 0) == roster["pending_cancellation_date"].drop_nulls().len()
    assert idle.height == roster.height
    assert idle.filter(pl.col("reassignable"))["monthly_cost"].sum() > 0


@pytest.mark.parametrize("with_billing", [True, False])
def test_spend_renders_with_and_without_billing(cache: Path, tmp_path: Path, with_billing: bool) -> None:
    data = cache
    if not with_billing:
        data = tmp_path / "nobilling"
        (data / "processed").mkdir(parents=True)
        for table in (cache / "processed").iterdir():  # the same cache without any billing table
            if table.is_dir() and not table.name.startswith("billing"):
                (data / "processed" / table.name).symlink_to(table)
    _, _, t = _frames(cache)
    out = render(
        ROOT / "notebooks" / "spend.ipynb",
        {"data_dir": str(data), "scope": f"enterprise:{t.enterprise}"},
        tmp_path / "out",
    )
    html = out.html.read_text()
    assert ("No billing data in the cache" in html) is (not with_billing)
    assert out.summary["reconciliation"] == ("no billing data" if not with_billing else "3 days differ")
    assert "simdev-" not in html


def test_the_headline_says_code_review_minutes_are_billed_as_actions_not_credits(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot_usage.report import display as report_display
    from copilot_usage.report import open_report
    from copilot_usage.report import spend as spend_report

    monkeypatch.setattr(report_display, "display", lambda *a, **kw: None)
    r = open_report(
        "t", data_dir=str(cache), scope="enterprise:" + Tenant(seed=SEED, users=USERS, days=DAYS).enterprise
    )
    month = r.frame("user_day").filter(pl.col("day") >= r.end.replace(day=1))
    users = month.filter(pl.col("used_copilot_code_review_active").fill_null(False))["user_id"].n_unique()
    (said,) = (s for s in spend_report.headline(r).sentences if s.startswith("Copilot code review"))
    assert users > 0 and said.startswith(f"Copilot code review was used this month ({users:,} users).")
    assert "Actions usage, not AI credits" in said
    # before 2026-06-01 Copilot code review did not use Actions minutes: nothing to say
    early = open_report("t", data_dir=str(cache), scope=r.scope, start="2026-05-01", end="2026-05-31")
    assert spend_report.code_review_note(early) == ""
