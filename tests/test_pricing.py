"""Dated prices: the allowance in force on each day, list prices by default, the credit price in every sentence."""

from __future__ import annotations

import datetime as dt

import polars as pl

from copilot_usage.analysis import metrics, pricing, spend, value
from copilot_usage.report.common import forecast_story
from copilot_usage.report.context import api_hosts

SEATS = pl.DataFrame(
    {
        "user_id": [1, 2, 3],
        "plan_type": ["business", "enterprise", "business"],
        "created_at": [dt.datetime(2026, 5, 1), dt.datetime(2026, 5, 1), dt.datetime(2026, 8, 20)],
    }
)


def test_the_allowance_steps_down_on_2026_09_01() -> None:
    aug = metrics.included_pool(SEATS, month=dt.date(2026, 8, 31))
    sep = metrics.included_pool(SEATS, month=dt.date(2026, 9, 1))
    assert (aug, sep) == (3000 + 7000 + 3000, 1900 + 3900 + 1900)
    assert metrics.included_pool(SEATS, month=dt.date(2026, 8, 1), promotional=False) == sep
    assert pricing.included_amount("enterprise", dt.date(2026, 6, 1)) == 7000
    assert pricing.included_amount("enterprise", dt.date(2026, 5, 31)) == 3900


def test_a_pool_of_august_and_one_of_september_use_their_own_month() -> None:
    aug = spend.pool_by_day(SEATS, month=dt.date(2026, 8, 1), as_of=dt.date(2026, 8, 31))  # promotional by default
    sep = spend.pool_by_day(SEATS, month=dt.date(2026, 9, 1), as_of=dt.date(2026, 9, 30))
    # the August seat added on the 20th grows the pool that day
    assert aug.filter(pl.col("day") == dt.date(2026, 8, 19))["pool"].item() == 10_000
    assert aug["pool"].max() == 13_000 and sep["pool"].max() == 7_700


def test_list_prices_by_default_and_the_credit_price_reaches_the_forecast_sentence() -> None:
    prices = pricing.Prices()
    assert (prices.credit, prices.seat_business, prices.seat_enterprise) == (0.01, 19.0, 39.0)
    assert "GitHub list prices" in prices.sentence() and "until 2026-08-31" in prices.sentence()
    assert "GitHub list prices" not in pricing.Prices(seat_business=21.0).sentence()
    fc = metrics.Forecast(6_000.0, projected=12_000.0, low=11_000.0, high=13_000.0, exhausted_on=dt.date(2026, 11, 20))
    said = " ".join(forecast_story(fc, pool=10_000, period_end=dt.date(2026, 11, 30), label="month", credit_price=0.02))
    assert "US$0.02 a credit" in said and "US$40" in said  # 2,000 credits over the pool × 0.02


def test_ghe_com_is_data_resident() -> None:
    assert pricing.data_resident("https://api.octo.ghe.com")
    assert not pricing.data_resident("https://api.github.com")


def test_each_month_of_the_money_table_has_its_own_pool_across_2026_09_01() -> None:
    days = pl.date_range(dt.date(2026, 8, 25), dt.date(2026, 9, 5), eager=True)
    usage = pl.DataFrame({"day": days, "user_id": [1] * len(days), "ai_credits_used": [1_000.0] * len(days)})
    months = [dt.date(2026, 8, 1), dt.date(2026, 9, 1)]
    pools = pl.DataFrame({"month": months, "included_pool": [metrics.included_pool(SEATS, month=m) for m in months]})
    table = value.money_by_month(usage, pools=pools, price=0.02)
    assert table["included_pool"].to_list() == [13_000.0, 7_700.0]
    assert table["overage_credits"].to_list() == [0.0, 0.0] and table["credits_at_list_price_usd"].to_list() == [
        140.0,
        100.0,
    ]
    # a month the pools lack (no seat roster then) is null, never a pool of 0
    assert value.money_by_month(usage, pools=pools.head(1))["included_pool"].to_list() == [13_000.0, None]
    assert value.money_by_month(usage, pools=None)["covered_share"].to_list() == [None, None]


def test_reports_fetched_from_ghe_com_say_the_multiplier_applies() -> None:
    health = pl.DataFrame({"api_host": ["api.octo.ghe.com", None, "api.octo.ghe.com"]})
    hosts = api_hosts(health)
    assert hosts == ("api.octo.ghe.com",)
    said = pricing.Prices().sentence(data_resident=any(pricing.data_resident_host(h) for h in hosts))
    assert "GHE.com (data residency)" in said and "10% multiplier" in said
    assert "GHE.com" not in pricing.Prices().sentence()
    assert api_hosts(pl.DataFrame({"day": [dt.date(2026, 9, 1)]})) == ()  # a cache built before hosts were kept


def test_what_ifs_for_september_use_septembers_allowance_for_the_pool_and_the_removed_seats() -> None:
    sep = dt.date(2026, 9, 1)
    pool = spend.pool_by_day(SEATS, month=sep, as_of=sep)["pool"].max()
    assert pool == 7_700  # an August report's "next month": 1,900 + 3,900 + 1,900, not August's 13,000
    usage = pl.DataFrame({"day": [dt.date(2026, 8, 20)], "user_id": [1], "ai_credits_used": [100.0]})
    idle = pl.DataFrame({"reassignable": [True], "monthly_cost": [19.0], "plan_type": ["business"]})
    table = spend.scenarios(usage, idle, forecast=12_000.0, pool=pool, month=sep, cap_credits=3_000, growth=0.2)
    rows = {r["scenario"]: r for r in table.iter_rows(named=True)}
    assert rows["baseline"]["overage_credits"] == 4_300
    assert rows["remove reassignable seats"]["included_pool"] == 7_700 - 1_900  # September's amount leaves
    aug = spend.scenarios(
        usage, idle, forecast=12_000.0, pool=13_000, month=dt.date(2026, 8, 1), cap_credits=3_000, growth=0.2
    )
    assert aug.filter(pl.col("scenario") == "remove reassignable seats")["included_pool"].item() == 10_000
    not_eligible = spend.scenarios(
        usage,
        idle,
        forecast=0.0,
        pool=7_700,
        month=dt.date(2026, 8, 1),
        cap_credits=3_000,
        growth=0.2,
        promotional=False,
    )
    assert not_eligible.filter(pl.col("scenario") == "remove reassignable seats")["included_pool"].item() == 5_800
