"""Logins that differ between metrics and billing (EMU): joined through aliases, and what matches nobody shown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from copilot_usage.analysis import spend
from copilot_usage.errors import InputError

DAY = dt.date(2026, 11, 3)
USAGE = pl.DataFrame(
    {"day": [DAY, DAY], "user_id": [1, 2], "user_login": ["jdoe_acme", "ann_acme"], "ai_credits_used": [10.0, 5.0]}
)
SEATS = pl.DataFrame({"user_id": [1, 2], "user_login": ["jdoe", "ann_acme"]})  # the roster bills user 1 as "jdoe"
BILLS = pl.DataFrame(
    {
        "day": [DAY] * 4,
        "user": ["JDoe", "ann_acme", "ghost", "bob"],
        "credits": [10.0, 5.0, 3.0, 2.0],
        "is_ai_credit": [True] * 4,
    }
)


def test_roster_aliases_join_billing_to_metrics_and_the_rest_is_unmatched(tmp_path: Path) -> None:
    aliases = spend.login_aliases(SEATS, USAGE)
    assert aliases.rows() == [("jdoe", "jdoe_acme")]
    users = spend.reconcile_users(USAGE, BILLS, newest_metrics_day=DAY, aliases=aliases)
    assert "jdoe" not in set(users["user_login"]) and "jdoe_acme" not in set(users["user_login"])  # matched
    unmatched = users.filter(pl.col("cause") == spend.CAUSES["billing_only_user"])
    assert sorted(unmatched["user_login"]) == ["bob", "ghost"]  # never dropped
    assert spend.unmatched_billing(users) == (
        "Unmatched: 2 billed users, 5.0 credits, match no metrics user (another scope, or a billing username unlike "
        "the login: pass an aliases CSV)."
    )
    without = spend.reconcile_users(USAGE, BILLS, newest_metrics_day=DAY)
    assert {"jdoe", "jdoe_acme"} <= set(without["user_login"])  # what the alias join fixes


def test_an_aliases_csv_adds_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "aliases.csv"
    path.write_text("billing_username,user_login\nGhost,ann_acme\n")
    aliases = spend.login_aliases(SEATS, USAGE, path)
    assert aliases.rows() == [("ghost", "ann_acme"), ("jdoe", "jdoe_acme")]
    with pytest.raises(InputError, match="aliases"):
        spend.login_aliases(SEATS, USAGE, tmp_path / "missing.csv")


def test_per_user_billing_months_join_through_the_aliases_and_show_the_unmatched() -> None:
    """``fetch --reports billing-users`` asks billing by its username: an EMU user billed as ``jdoe`` is the
    metrics user ``jdoe_acme``, and a billed username nobody maps stays on its own line."""
    month = DAY.replace(day=1)
    asked = pl.DataFrame(
        {
            "scope": ["enterprise:acme"] * 3,
            "month": [month] * 3,
            "user_asked": ["JDoe", "ann_acme", "ghost"],
            "sku": ["copilot_ai_credits"] * 3,
            "unit_type": ["credits"] * 3,
            "price_per_unit": [0.01] * 3,
            "gross_quantity": [10.0, 5.0, 3.0],
        }
    )
    first = pl.DataFrame({"day": [month], "user_id": [2], "user_login": ["ann_acme"], "ai_credits_used": [0.0]})
    usage = pl.concat([first, USAGE])  # metrics cover the whole month
    aliases = spend.login_aliases(SEATS, usage)
    months = spend.reconcile_user_months(usage, asked, newest_metrics_day=DAY.replace(day=30), aliases=aliases)
    assert months.select("user_login", "cause").rows() == [("ghost", spend.CAUSES["billing_only_user"])]
    assert spend.unmatched_billing(months) == (
        "Unmatched: 1 billed users, 3.0 credits, match no metrics user (another scope, or a billing username unlike "
        "the login: pass an aliases CSV)."
    )
    without = spend.reconcile_user_months(usage, asked, newest_metrics_day=DAY.replace(day=30))
    assert {"jdoe", "jdoe_acme"} <= set(without["user_login"])  # what the alias join fixes


def test_a_user_budget_named_by_billing_username_finds_the_metrics_login() -> None:
    """Budgets name users as billing does: a per-user budget on ``JDoe`` forecasts ``jdoe_acme``'s usage."""
    aliases = spend.login_aliases(SEATS, USAGE)
    assert spend.metrics_login("JDoe", aliases) == "jdoe_acme"
    assert spend.metrics_login("Ann_Acme", aliases) == "ann_acme"  # no alias: the name itself, lower case
    assert spend.metrics_login("JDoe", None) == "jdoe"
