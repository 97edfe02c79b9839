"""Team attribution: additive with a map, non-additive without, moves by day, nested roll-up, validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from copilot_usage.analysis import teams
from copilot_usage.analysis.teams import NO_TEAM, NOT_FETCHED
from copilot_usage.errors import InputError
from copilot_usage.report import Report, open_report, team_distribution

D = dt.date(2026, 11, 2)
S = "org:acme"


def _ud(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "scope": S,
            "day": [D + dt.timedelta(days=r[0]) for r in rows],
            "user_id": [r[1] for r in rows],
            "user_login": [f"u{r[1]}" for r in rows],
            "ai_credits_used": [r[2] for r in rows],
        }
    )


def _membership(rows: list[tuple[int, int, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "scope": S,
            "day": [D + dt.timedelta(days=r[0]) for r in rows],
            "user_id": [r[1] for r in rows],
            "team_id": [r[2] for r in rows],
            "slug": [r[3] for r in rows],
        },
        schema_overrides={
            "scope": pl.String,
            "day": pl.Date,
            "user_id": pl.Int64,
            "team_id": pl.Int64,
            "slug": pl.String,
        },
    )


def _teams(rows: list[tuple[int, str, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "scope": S,
            "snapshot_day": D,
            "team_id": [r[0] for r in rows],
            "slug": [r[1] for r in rows],
            "name": [r[1].title() for r in rows],
            "parent_id": [r[2] for r in rows],
        },
        schema_overrides={"parent_id": pl.Int64},
    )


def test_without_a_map_a_user_on_two_teams_counts_in_both_and_no_team_bucket() -> None:
    ud = _ud([(0, 1, 10.0), (0, 2, 5.0)])
    m = _membership([(0, 1, 10, "web"), (0, 1, 11, "api")])
    out = teams.team_user_days(ud, m, _teams([(10, "web", None), (11, "api", None)]))
    per = dict(out.group_by("unit").agg(pl.col("ai_credits_used").sum()).iter_rows())
    assert per == {"Web": 10.0, "Api": 10.0, teams.NO_TEAM: 5.0}
    assert sum(per.values()) > ud["ai_credits_used"].sum()  # non-additive


def test_nested_teams_roll_up_the_parent_chain_once() -> None:
    ud = _ud([(0, 1, 10.0)])
    m = _membership([(0, 1, 12, "frontend"), (0, 1, 11, "web")])  # member of a child and its parent
    tree = _teams([(10, "eng", None), (11, "web", 10), (12, "frontend", 11)])
    per = dict(teams.team_user_days(ud, m, tree).group_by("unit").agg(pl.col("ai_credits_used").sum()).iter_rows())
    assert per == {"Eng": 10.0, "Web": 10.0, "Frontend": 10.0}


def test_membership_is_by_day_for_a_mover() -> None:
    ud = _ud([(0, 1, 10.0), (1, 1, 20.0)])
    m = _membership([(0, 1, 10, "web"), (1, 1, 11, "api")])
    per = dict(teams.team_user_days(ud, m, None).group_by("unit").agg(pl.col("ai_credits_used").sum()).iter_rows())
    assert per == {"web": 10.0, "api": 20.0}


def test_with_a_map_units_sum_exactly_to_the_scope_total(tmp_path: Path) -> None:
    f = tmp_path / "map.csv"
    f.write_text(
        "user_login,team,department,valid_from,valid_to\n"
        "u1,web,Product,,2026-11-02\nu1,api,Platform,2026-11-03,\nu2,api,Platform,,\n"
    )
    mapping, warnings = teams.load_org_map(
        f, known_users=pl.DataFrame({"user_id": [1, 2, 3], "user_login": ["u1", "u2", "u3"]})
    )
    assert warnings and "1 user(s)" in warnings[0]
    ud = _ud([(0, 1, 10.0), (1, 1, 20.0), (0, 2, 5.0), (0, 3, 1.0)])
    out = teams.map_user_days(ud, teams.units_from_mapping(mapping, unit="team"))
    assert out.height == ud.height  # exactly one unit per user-day
    per = dict(out.group_by("unit").agg(pl.col("ai_credits_used").sum()).iter_rows())
    assert per == {"web": 10.0, "api": 25.0, teams.UNMAPPED: 1.0}
    assert sum(per.values()) == ud["ai_credits_used"].sum()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user_login,team,colour\nu1,web,red\n", "unknown column.*colour"),
        ("user_login,team,valid_from,valid_to\nu1,web,,2026-11-05\nu1,api,2026-11-03,\n", "lines 2 and 3.*overlap"),
        ("department\nx\n", "needs a 'team' column"),
        ("user_login,team,valid_from,valid_to\nu1,web,2026-12-01,2026-11-01\n", "line 2: valid_from is after"),
    ],
)
def test_malformed_maps_are_named(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "map.csv"
    f.write_text(text)
    with pytest.raises(InputError, match=message):
        teams.load_org_map(f)


def test_small_teams_are_suppressed_for_leadership() -> None:
    from copilot_usage.report import Audience, protect

    frame = pl.DataFrame({"unit": ["big", "small"], "users": [7, 3], "user_login": ["x", "y"]})
    out = protect(frame, Audience("leadership", 5), group_users="users")
    assert out["unit"].to_list() == ["big"] and "user_login" not in out.columns


SAMPLE = Path(__file__).parents[1] / "data" / "sample"


def _sample_report(scope: str, data_dir: Path = SAMPLE, **parameters: object) -> Report:
    return open_report("t", data_dir=str(data_dir), scope=scope, **parameters)  # type: ignore[arg-type]


def test_idle_members_count_in_their_teams_and_adoption_is_active_seated_over_seated() -> None:
    """GitHub's team membership decides a seated user's team, activity or not (issue 14 §1)."""
    from copilot_usage.cache import read

    scope = "org:octo-sim-eng"
    r = _sample_report(scope)
    view = team_distribution.team_view(r)
    summary = teams.unit_summary(view.unit_days, view.seated, scope_credits=view.scope_credits)
    seats = read.scan(SAMPLE, "seats", scope=scope).collect()
    seated_ids = seats.filter(pl.col("snapshot_day") == pl.col("snapshot_day").max())["user_id"].unique()
    active_ids = r.frame("user_day").select("user_id").unique()["user_id"]
    names = read.scan(SAMPLE, "teams", scope=scope).collect().select("team_id", "name")
    members = (
        read.scan(SAMPLE, "team_members", scope=scope)
        .collect()
        .filter(pl.col("user_id").is_in(seated_ids.implode()))
        .join(names, on="team_id")
        .group_by(unit="name")
        .agg(
            seated_users=pl.col("user_id").n_unique(),
            active_seated=pl.col("user_id").filter(pl.col("user_id").is_in(active_ids.implode())).n_unique(),
        )
    )
    got = summary.join(members, on="unit", how="inner", suffix="_expected")
    assert got.height == members.height  # every GitHub team is a unit
    assert got["seated_users"].to_list() == got["seated_users_expected"].to_list()
    assert got["active_seated"].to_list() == got["active_seated_expected"].to_list()
    assert (got["adoption"] == got["active_seated"] / got["seated_users"]).all()
    assert (got["adoption"] < 1).any()  # idle members stay in their teams
    # nobody in a team is "(no team)"
    no_team = view.seated.filter(pl.col("unit") == teams.NO_TEAM)["user_id"]
    in_teams = read.scan(SAMPLE, "team_members", scope=scope).collect()["user_id"]
    assert not set(no_team.to_list()) & set(in_teams.to_list())


@pytest.mark.parametrize("scope", ["org:octo-sim-eng", "enterprise:octo-sim"])
def test_adoption_never_exceeds_one(scope: str) -> None:
    """Adoption is never clamped: a unit with more active seated members than seated members is a bug."""
    r = _sample_report(scope)
    view = team_distribution.team_view(r)
    summary = teams.unit_summary(view.unit_days, view.seated, scope_credits=view.scope_credits)
    rated = summary.drop_nulls("adoption")
    assert rated.height and (rated["adoption"] <= 1).all(), rated.filter(pl.col("adoption") > 1)
    assert (rated["active_seated"] <= rated["seated_users"]).all()


def _members(rows: list[tuple[int, int]], *, scope: str = S, day: dt.date = D) -> pl.DataFrame:
    """team_members snapshot rows: (team_id, user_id)."""
    return pl.DataFrame(
        {
            "scope": scope,
            "snapshot_day": day,
            "team_id": [r[0] for r in rows],
            "user_id": [r[1] for r in rows],
            "user_login": [f"u{r[1]}" for r in rows],
            "inherited": False,
        }
    )


def _seated(ids: list[int], org: str = "acme") -> pl.DataFrame:
    return pl.DataFrame(
        {"user_id": ids, "user_login": [f"u{i}" for i in ids], "plan_type": "business", "organization": org}
    )


def test_idle_member_is_seated_in_its_team_and_a_user_of_an_unfetched_org_is_not_team_less() -> None:
    ud = _ud([(0, 1, 10.0), (0, 9, 4.0)])  # user 2 (web) is idle; user 9 belongs to an org whose teams are unknown
    seated = pl.concat([_seated([1, 2, 3]), _seated([9], org="other")])
    intervals = teams.member_intervals(_members([(10, 1), (10, 2)]))
    no_team = teams.no_team_label(seated, ["acme"], enterprise_teams=False)
    tree = _teams([(10, "web", None)])
    days = teams.team_user_days(ud, _membership([]), tree, members=intervals, no_team=no_team)
    seats = teams.seated_teams(seated, intervals, tree, as_of=D, no_team=no_team)
    assert dict(seats.select("user_id", "unit").iter_rows()) == {1: "Web", 2: "Web", 3: NO_TEAM, 9: NOT_FETCHED}
    summary = {r["unit"]: r for r in teams.unit_summary(days, seats, scope_credits=14.0).iter_rows(named=True)}
    web = summary["Web"]
    assert (web["seated_users"], web["active_seated"], web["adoption"], web["credits"]) == (2, 1, 0.5, 10.0)
    assert summary[NO_TEAM]["adoption"] == 0.0 and summary[NOT_FETCHED]["credits"] == 4.0


def test_adoption_counts_only_seated_members_so_it_cannot_pass_one() -> None:
    """An active user who holds no seat (or moved in) adds activity to a team, never adoption above 1."""
    days = _ud([(0, 1, 10.0), (0, 3, 5.0)]).with_columns(unit=pl.lit("web"))
    seats = _seated([1, 2]).with_columns(unit=pl.lit("web"))
    row = teams.unit_summary(days, seats, scope_credits=15.0).row(0, named=True)
    assert (row["seated_users"], row["active_seated"], row["active_users"]) == (2, 1, 2)
    assert row["adoption"] == 0.5  # not 2 / 2, and never clamped


def test_snapshots_are_effective_dated_and_the_daily_file_wins_for_the_teams_it_lists() -> None:
    early, late = D, D + dt.timedelta(days=10)
    snaps = pl.concat([_members([(10, 1)], day=early), _members([(11, 1)], day=late)])
    intervals = teams.member_intervals(snaps)
    ud = _ud([(0, 1, 1.0), (12, 1, 2.0), (13, 1, 4.0)])
    daily = _membership([(13, 1, 12, "api")])  # day 13: GitHub's daily file lists user 1 in team 12 only
    tree = _teams([(10, "web", None), (11, "mobile", None), (12, "api", None)])
    out = teams.team_user_days(ud, daily, tree, members=intervals)
    per = dict(out.group_by("unit").agg(pl.col("ai_credits_used").sum()).iter_rows())
    assert per == {"Web": 1.0, "Mobile": 2.0 + 4.0, "Api": 4.0}  # team 11 is not in day 13's file: from the list


def test_a_mapping_is_one_unit_per_user_and_day() -> None:
    cc = pl.DataFrame({"user_login": ["U1", "u2"], "cost_center_name": ["Platform", "Product"]})
    mapping = teams.units_from_mapping(cc, unit="cost_center_name", source="cost centres")
    ud = _ud([(0, 1, 10.0), (0, 2, 5.0), (0, 3, 1.0)])
    out = teams.map_user_days(ud, mapping, unassigned="(no cost centre)")
    assert out.height == ud.height
    assert dict(out.select("user_id", "unit").iter_rows()) == {1: "Platform", 2: "Product", 3: "(no cost centre)"}
    twice = pl.DataFrame({"user_login": ["u1", "u1"], "cc": ["a", "b"]})
    with pytest.raises(InputError, match="cost centres: u1 is in two units"):
        teams.units_from_mapping(twice, unit="cc", source="cost centres")


@pytest.mark.parametrize("scope", ["enterprise:octo-sim", "org:octo-sim-eng"])
def test_cost_centres_are_additive_to_the_cent(scope: str) -> None:
    """unit=cost_centre: GitHub's cost-centre names plus (no cost centre); they sum exactly to the scope total."""
    from copilot_usage.cache import read

    r = _sample_report(scope, unit="cost_centre")
    view = team_distribution.team_view(r)
    summary = teams.unit_summary(view.unit_days, view.seated, scope_credits=view.scope_credits)
    assert view.additive and "additive" in view.mode and "cost centre" in view.mode
    assert abs(summary["credits"].sum() - r.frame("user_day")["ai_credits_used"].sum()) < 1e-6
    assert view.unit_days.collect().height == r.frame("user_day").height  # each user-day in exactly one unit
    names = set(read.scan(SAMPLE, "cost_centers").filter(pl.col("state") == "active").collect()["cost_center_name"])
    assert set(summary["unit"]) <= names | {"(no cost centre)"} and set(summary["unit"]) & names
    assert (summary.drop_nulls("adoption")["adoption"] <= 1).all()
    assert view.seated.group_by("user_id").len()["len"].max() == 1  # a seat in one cost centre


def test_a_user_direct_and_through_an_org_counts_once_in_the_direct_cost_centre() -> None:
    from copilot_usage.cache import read

    r = _sample_report("enterprise:octo-sim", unit="cost_centre")
    members = read.scan(SAMPLE, "cost_center_members").collect()
    both = members.filter((pl.col("via") == "User") & (pl.col("candidates") > 1))
    assert both.height, "the sample has directly assigned users whose organization is in another cost centre"
    view = team_distribution.team_view(r)
    usage = r.frame("user_day")
    for row in both.iter_rows(named=True):
        mine = view.unit_days.collect().filter(pl.col("user_id") == row["user_id"])
        assert mine.height == usage.filter(pl.col("user_id") == row["user_id"]).height  # not repeated
        assert set(mine["unit"]) <= {row["cost_center_name"]}
        assert view.seated.filter(pl.col("user_id") == row["user_id"])["unit"].to_list() in (
            [row["cost_center_name"]],
            [],
        )


def test_cost_centres_not_fetched_say_so_with_the_command(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(SAMPLE, tmp_path / "s", ignore=shutil.ignore_patterns("cost_center*"))
    r = _sample_report("enterprise:octo-sim", tmp_path / "s", unit="cost_centre")
    view = team_distribution.team_view(r)
    assert set(view.unit_days.collect()["unit"]) == {"(no cost centre)"}
    assert any("--reports cost-centers" in w and "manage_billing:enterprise" in w for w in view.warnings)
    assert "cost_centers" in r.notes().summary["not_fetched"]


def test_adoption_read_a_few_days_at_a_time_is_the_whole_periods() -> None:
    """First use, first agent use, the latest phase and the surfaces combine across windows of days."""
    from polars.testing import assert_frame_equal

    r = _sample_report("enterprise:octo-sim")
    view = team_distribution.team_view(r)
    whole = teams.adoption(view.unit_days, view.seated, r.frame("seats"))
    assert_frame_equal(teams.adoption(view.unit_days, view.seated, r.frame("seats"), chunk_days=6), whole)


def test_team_labels_are_unique_with_the_defaults() -> None:
    """Two different teams both named `api` (#7055, #7110 on the sample) are two labels, never added together."""
    from copilot_usage.cache import read

    scope = "enterprise:octo-sim"
    out = teams.team_user_days(
        read.scan(SAMPLE, "user_day", scope=scope),
        read.scan(SAMPLE, "user_team_day", scope=scope),
        read.scan(SAMPLE, "teams"),
    ).drop_nulls("unit_id")
    pairs = out.select("unit", "unit_id").unique()
    assert pairs["unit"].n_unique() == pairs.height == pairs["unit_id"].n_unique()
    assert {7055, 7110} <= set(pairs["unit_id"])
    # the same display name in two organizations: org/name
    two = pl.concat([_teams([(10, "api", None)]), _teams([(11, "api", None)]).with_columns(scope=pl.lit("org:beta"))])
    ud = _ud([(0, 1, 10.0), (0, 2, 5.0)])
    rows = _membership([(0, 1, 10, "api"), (0, 2, 11, "api")])
    per = dict(teams.team_user_days(ud, rows, two).group_by("unit").agg(pl.col("ai_credits_used").sum()).iter_rows())
    assert per == {"acme/Api": 10.0, "beta/Api": 5.0}
    assert teams.team_labels(teams.latest_teams(two))["unit"].to_list() == ["acme/Api", "beta/Api"]


def test_a_member_list_holds_from_its_snapshot_day_and_earlier_days_only_when_asked() -> None:
    late = D + dt.timedelta(days=5)
    intervals = teams.member_intervals(_members([(10, 1)], day=late))
    ud = _ud([(0, 1, 3.0), (5, 1, 7.0)])
    tree = _teams([(10, "web", None)])
    plain = teams.team_user_days(ud, _membership([]), tree, members=intervals)
    assert dict(plain.group_by("unit").agg(pl.col("ai_credits_used").sum()).iter_rows()) == {"Web": 7.0, NO_TEAM: 3.0}
    back = teams.team_user_days(ud, _membership([]), tree, members=intervals, backfill=True)
    assert back.select("day", "unit", "attributed_by").sort("day").rows() == [
        (D, "Web", teams.BY_FIRST_LIST_BACKWARDS),
        (late, "Web", teams.BY_MEMBER_LISTS),
    ]
