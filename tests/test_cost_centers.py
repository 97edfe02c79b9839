"""Cost centres: members resolved directly, through organizations and enterprise teams; drift kept."""

from __future__ import annotations

import datetime as dt

import polars as pl

from copilot_usage.analysis import cost_centers, teams

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 20)


def _resources(rows: list[tuple[dt.date, str, str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "scope": "enterprise:acme",
                "snapshot_day": day,
                "cost_center_id": f"id-{name}",
                "cost_center_name": name,
                "state": state,
                "type": kind,
                "name": value,
                "known_type": kind in cost_centers.KNOWN_TYPES,
            }
            for day, name, state, kind, value in rows
        ],
        schema=cost_centers.RESOURCES_SCHEMA,
    )


SEATS = pl.DataFrame(
    {
        "scope": ["enterprise:acme"] * 4,
        "snapshot_day": [D1] * 4,
        "user_id": [1, 2, 3, 4],
        "user_login": ["Ann", "bob", "cat", "dan"],
        "organization": ["acme-eng", "acme-eng", "acme-data", "acme-ops"],
    }
)
TEAMS = pl.DataFrame(
    {
        "scope": ["enterprise:acme"],
        "snapshot_day": [D1],
        "team_id": [70],
        "slug": ["ent:ml-guild"],
        "name": ["ML Guild"],
    }
)
MEMBERS = pl.DataFrame(
    {"scope": ["enterprise:acme"], "snapshot_day": [D1], "team_id": [70], "user_id": [2], "user_login": ["bob"]}
)


def _resolve(resources: pl.DataFrame) -> pl.DataFrame:
    return cost_centers.resolve(resources, SEATS, MEMBERS, TEAMS)


def test_direct_wins_over_team_over_organization_and_each_user_once() -> None:
    res = _resources(
        [
            (D1, "Eng", "active", "Organization", "ACME-ENG"),  # organization names match case-insensitively
            (D1, "Data", "active", "Organization", "acme-data"),
            (D1, "Data", "active", "EnterpriseTeam", "ML Guild"),  # by the team's name (or slug)
            (D1, "Direct", "active", "User", "ann"),
            (D1, "Old", "deleted", "User", "dan"),  # a deleted cost centre has no members
            (D1, "Direct", "active", "Repository", "acme-eng/api"),
        ]
    )
    m = _resolve(res)
    got = {r["user_login"]: (r["cost_center_name"], r["via"]) for r in m.iter_rows(named=True)}
    assert got == {
        "ann": ("Direct", "User"),  # also in Eng through acme-eng: counted once, directly
        "bob": ("Data", "EnterpriseTeam"),  # also in Eng through acme-eng: the team wins
        "cat": ("Data", "Organization"),
    }
    assert m.filter(pl.col("user_login") == "ann")["candidates"].item() == 2
    assert m.filter(pl.col("user_login") == "ann")["user_id"].item() == 1
    assert m.group_by("snapshot_day", "user_login").len()["len"].max() == 1


def test_unknown_resource_type_is_kept_and_reported_as_drift() -> None:
    res = _resources([(D1, "Eng", "active", "Organization", "acme-eng"), (D1, "Eng", "active", "Workspace", "w1")])
    assert _resolve(res)["user_login"].sort().to_list() == ["ann", "bob"]
    drift = cost_centers.drift(res)
    assert drift.height == 1 and "Workspace" in drift["field"][0] and drift["report"][0] == "cost-centers"


def test_mapping_is_effective_dated_and_plugs_into_units_from_mapping() -> None:
    res = _resources([(D1, "Eng", "active", "Organization", "acme-eng"), (D2, "Eng", "active", "User", "ann")])
    mapping = teams.units_from_mapping(cost_centers.mapping(_resolve(res)), unit="unit", source="cc")
    days = pl.DataFrame(
        {
            "scope": "enterprise:acme",
            "day": [D1 - dt.timedelta(days=5), D2 - dt.timedelta(days=1), D2, D2],
            "user_id": [2, 2, 2, 1],
            "user_login": ["bob", "bob", "bob", "ann"],
        }
    )
    mapped = teams.map_user_days(days, mapping, unassigned=cost_centers.NO_COST_CENTRE)
    units = mapped.sort("day", "user_id")["unit"].to_list()
    # the first snapshot also holds for earlier days; bob left Eng with the second snapshot
    assert units == ["Eng", "Eng", "Eng", cost_centers.NO_COST_CENTRE]


def test_chargeback_sums_to_the_total_and_reads_billed_cost_centres() -> None:
    days = pl.DataFrame(
        {
            "user_id": [1, 1, 2, 3],
            "unit": ["Eng", "Eng", "Data", cost_centers.NO_COST_CENTRE],
            "ai_credits_used": [100.0, 50.0, 200.0, 25.5],
        }
    )
    bills = pl.DataFrame(
        {
            "cost_center": ["Eng", "Data", "", None],
            "credits": [160.0, 200.0, 40.0, 999.0],  # a line without the column (API totals) is not attributed
            "net_amount": [0.0, 1.0, 0.4, 9.99],
            "is_ai_credit": [True, True, True, True],
        }
    )
    centres = pl.DataFrame(
        {
            "cost_center_name": ["Eng", "Data", "Old"],
            "state": ["active", "active", "deleted"],
            "ai_credit_pool_enabled": [False, True, False],
            "pool_target_usd": [None, 5.0, None],
            "pool_current_usd": [None, 2.5, None],
        }
    )
    cb = cost_centers.chargeback(days, bills, centres, price=0.01)
    assert cb["credits"].sum() == days["ai_credits_used"].sum()
    by = {r["cost_centre"]: r for r in cb.iter_rows(named=True)}
    assert set(by) == {"Eng", "Data", cost_centers.NO_COST_CENTRE}  # a deleted cost centre is not a unit
    assert by["Eng"]["active_users"] == 1 and by["Eng"]["list_usd"] == 1.5
    assert by["Eng"]["billed_gross_credits"] == 160.0 and by[cost_centers.NO_COST_CENTRE]["billed_gross_credits"] == 40
    assert abs(cb["share_of_bill"].sum() - 1) < 1e-12 and by["Data"]["share_of_bill"] == 0.5
    assert by["Data"]["pool_target_credits"] == 500.0 and by["Data"]["pool_current_credits"] == 250.0
    assert by["Eng"]["pool_target_credits"] is None
    # GitHub gives pools in US$: credits at the report's price, not a fixed 100 a dollar
    dearer = {
        r["cost_centre"]: r for r in cost_centers.chargeback(days, bills, centres, price=0.02).iter_rows(named=True)
    }
    assert dearer["Data"]["pool_target_credits"] == 250.0 and dearer["Eng"]["list_usd"] == 3.0
    no_csv = cost_centers.chargeback(days, bills.filter(pl.col("cost_center").is_null()), centres, price=0.01)
    assert no_csv["billed_gross_credits"].null_count() == no_csv.height and no_csv["share_of_bill"].null_count() == 3
