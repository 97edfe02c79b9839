"""The team report's section functions on the committed sample cache, against independent polars recomputations."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from copilot_usage.analysis import teams
from copilot_usage.cache import read
from copilot_usage.errors import ConfigError
from copilot_usage.report import Report, open_report, team_distribution

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
SCOPE = "enterprise:octo-sim"


def _report(data_dir: Path = SAMPLE, **parameters: object) -> Report:
    return open_report("Team and department distribution", data_dir=str(data_dir), scope=SCOPE, **parameters)  # type: ignore[arg-type]


def _usage(r: Report) -> pl.DataFrame:
    return read.scan(SAMPLE, "user_day", scope=SCOPE, start=r.start, end=r.end).collect()


def test_headline_figures_match_an_independent_recomputation() -> None:
    r = _report()
    fig = team_distribution.headline(r).figures
    usage = _usage(r)
    seats = read.scan(SAMPLE, "seats", scope=SCOPE).collect()
    newest = seats.filter(pl.col("snapshot_day") == pl.col("snapshot_day").max())["user_id"].unique()
    assert fig.credits_total == pytest.approx(usage["ai_credits_used"].sum())
    assert fig.active_users == usage["user_id"].n_unique()
    assert fig.seated_users == newest.len()
    active_seated = usage.filter(pl.col("user_id").is_in(newest.implode()))["user_id"].n_unique()
    assert fig.active_seated_users == active_seated
    assert fig.adoption_share == pytest.approx(active_seated / newest.len())
    assert fig.additivity == "non-additive" and fig.units_credits_sum is None
    assert all(u.active_users >= r.k_min for u in fig.units.values())
    summary = team_distribution.headline(r).summary()
    assert set(summary) == {
        "additivity",
        "unit",
        "credits_total",
        "units_credits_sum",
        "seated_users",
        "active_users",
        "active_seated_users",
        "adoption_share",
        "units",
        "attribution",
    }


def test_credits_per_active_user_divides_by_credited_users() -> None:
    """One definition (measures.credits_per_active_user): credits ÷ distinct users whose rows carry credits."""
    r = _report()
    view = team_distribution.team_view(r)
    summary = team_distribution.unit_summary(r)
    expected = (
        view.unit_days.collect()
        .group_by("unit")
        .agg(
            credits=pl.col("ai_credits_used").sum(),
            credited=pl.col("user_id").filter(pl.col("ai_credits_used").is_not_null()).n_unique(),
        )
        .select("unit", expected=pl.col("credits") / pl.col("credited"))
    )
    got = summary.join(expected, on="unit")
    assert got.height == summary.filter(pl.col("active_users") > 0).height  # seated-only units have no ratio
    assert (got["credits_per_active_user"] - got["expected"]).abs().max() < 1e-9  # type: ignore[operator]


def test_the_long_tail_is_one_row_of_distinct_users() -> None:
    """Folded units count each user and user-day once (a user on two folded teams is not two users)."""
    r = _report(top_n=2)
    view = team_distribution.team_view(r)
    shown = team_distribution.shown_units(r)
    other = shown.filter(pl.col("unit").str.starts_with("other "))
    assert other.height == 1
    folded = team_distribution.unit_summary(r).join(shown.select("unit"), on="unit", how="anti")["unit"]
    assert other["unit"][0] == f"other {folded.len()} teams"
    days = view.unit_days.collect().filter(pl.col("unit").is_in(folded.implode()))
    assert other["active_users"][0] == days["user_id"].n_unique()
    assert other["credits"][0] == pytest.approx(days.unique(["scope", "day", "user_id"])["ai_credits_used"].sum())
    # charts draw the shown units only
    charted = team_distribution.spread_inside(r).charts[0].data
    assert charted is not None and set(charted["unit"]) <= set(shown["unit"])
    assert team_distribution.who_spends(r).tables[0].frame.height == shown.height


def test_long_tables_keep_the_top_units_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(team_distribution, "FULL_TABLE_MAX", 1)
    r = _report(top_n=2)
    part = team_distribution.spread_inside(r)
    shown = set(team_distribution.shown_units(r)["unit"])
    assert set(part.tables[0].frame["unit"]) <= shown
    assert any("largest units by credits" in s for s in part.sentences)


def test_movers_are_credits_per_user_week() -> None:
    r = _report()
    table = team_distribution.over_time(r).tables[0].frame
    assert "credits_per_user_week_change" in table.columns
    assert not any(c.startswith("credits_per_active_user") for c in table.columns)


def test_cost_centres_are_additive() -> None:
    r = _report(unit="cost_centre")
    fig = team_distribution.figures(r)
    assert fig.additivity == "additive" and fig.unit == "cost_centre"
    assert fig.units_credits_sum == pytest.approx(fig.credits_total)


def test_an_org_map_gives_teams_and_departments(tmp_path: Path) -> None:
    users = read.scan(SAMPLE, "user_day", scope=SCOPE).select("user_login").unique().sort("user_login").collect()
    mapping = users.with_columns(
        team=pl.format("t{}", pl.int_range(pl.len()) % 3),
        department=pl.format("d{}", pl.int_range(pl.len()) % 2),
        cost_centre=pl.lit("cc"),
    )
    path = tmp_path / "org_map.csv"
    mapping.write_csv(path)
    by_team = _report(org_map=str(path), unit="team")
    assert set(team_distribution.unit_summary(by_team)["unit"]) <= {"t0", "t1", "t2", teams.UNMAPPED}
    r = _report(org_map=str(path), unit="department", k_min=1)
    fig = team_distribution.figures(r)
    assert fig.additivity == "additive" and set(fig.units) <= {"d0", "d1", teams.UNMAPPED}
    assert fig.units_credits_sum == pytest.approx(fig.credits_total)
    levels = team_distribution.departments(r).tables
    assert set(levels[0].frame["unit"]) <= {"d0", "d1", teams.UNMAPPED} and levels[0].frame.height
    assert levels[1].frame["unit"].to_list() == ["cc"]
    with pytest.raises(ConfigError, match="needs org_map"):
        team_distribution.team_view(_report(unit="department"))
    with pytest.raises(ConfigError, match="not one of"):
        team_distribution.team_view(_report(unit="division"))


def test_without_seats_the_adoption_section_says_what_to_fetch(tmp_path: Path) -> None:
    shutil.copytree(SAMPLE, tmp_path / "s", ignore=shutil.ignore_patterns("seats"))
    r = _report(tmp_path / "s")
    part = team_distribution.adoption_lag(r)
    assert "Adoption needs the seat roster." in part.sentences
    assert any("--reports seats" in s for s in part.sentences)
    assert team_distribution.figures(r).seated_users == 0
    assert "seats" in r.notes().summary["not_fetched"]
    for build in (
        team_distribution.who_spends,
        team_distribution.spread_inside,
        team_distribution.value_by_team,
        team_distribution.over_time,
    ):
        build(r)  # every section still builds


def _days(rows: list[tuple[int, str, float | None]]) -> pl.DataFrame:
    """user-day rows (user_id, unit, credits) on one day."""
    return pl.DataFrame(
        {
            "scope": SCOPE,
            "day": dt.date(2026, 11, 2),
            "user_id": [u for u, _, _ in rows],
            "unit": [t for _, t, _ in rows],
            "ai_credits_used": [c for _, _, c in rows],
        },
        schema_overrides={"ai_credits_used": pl.Float64},
    )


def test_a_user_without_a_credit_figure_is_not_in_the_denominator() -> None:
    """credits per active user ÷ credited users (1), not ÷ active users (2); weekly likewise."""
    days = _days([(1, "web", 10.0), (2, "web", None)])
    seated = pl.DataFrame(schema={"user_id": pl.Int64, "unit": pl.String, "plan_type": pl.String})
    row = teams.unit_summary(days, seated, scope_credits=10.0).row(0, named=True)
    assert (row["active_users"], row["credits_per_active_user"]) == (2, 10.0)
    weekly = teams.weekly_by_unit(days).row(0, named=True)
    assert (weekly["active_users"], weekly["credited_users"], weekly["credits_per_active_user"]) == (2, 1, 10.0)


def test_the_folded_row_counts_a_user_on_two_folded_teams_once() -> None:
    days = _days([(1, "a", 4.0), (1, "b", 4.0), (2, "c", 2.0), (3, "big", 50.0)])
    seated = pl.DataFrame(
        {"user_id": [1, 1, 2, 3], "unit": ["a", "b", "c", "big"], "plan_type": "business"},
    )
    summary = teams.unit_summary(days, seated, scope_credits=56.0)
    out = teams.fold_tail(summary, days, seated, top=1, k_min=1, noun="team", scope_credits=56.0)
    other = out.filter(pl.col("unit") == "other 3 teams").row(0, named=True)
    assert (other["active_users"], other["seated_users"], other["credits"]) == (2, 2, 6.0)
    assert other["credits_per_active_user"] == 3.0


def test_period_comparisons_and_the_weekly_view_name_a_credits_change_between_them(tmp_path: Path) -> None:
    own = tmp_path / "ours.json"
    entry = {"date": "2026-11-10", "measures": ["credits"], "label": "new model", "change": "Default model changed."}
    own.write_text(json.dumps([{**entry, "source": "wiki"}]))
    # the 36 days before are cached too; the first member list placed back gives the top team a previous period
    r = _report(definitions=str(own), start="2026-10-20", end="2026-11-24", backfill_members=True)
    who = [s for s in team_distribution.who_spends(r).sentences if "2026-11-10" in s]
    assert who == ["Part of this change may be your 2026-11-10 change: Default model changed. (wiki)"]
    weekly = team_distribution.over_time(r).sentences
    assert "Your 2026-11-10 change bears on the weekly credits: Default model changed. (wiki)" in weekly
    assert "Part of this change may be your 2026-11-10 change: Default model changed. (wiki)" in weekly
    plain = _report(start="2026-10-20", end="2026-11-24", backfill_members=True)
    assert not any("2026-11-10" in s for s in team_distribution.over_time(plain).sentences)
    assert not any("2026-11-10" in s for s in team_distribution.who_spends(plain).sentences)


# ---------------------------------------------------------------------- issue 25 §2-3: attribution that says what it did
def _recipe_pairs(r: Report) -> tuple[pl.DataFrame, pl.DataFrame]:
    """GitHub's recipe, written here apart from the kit: ``user_team_day`` joined to ``user_day`` on user and day,
    a child team's rows also counted for its parent (one level: the sample's nesting); returns the (day, user_id,
    team_id) pairs with their credits and the team list."""
    usage = _usage(r).select("day", "user_id", "ai_credits_used")
    rows = read.scan(SAMPLE, "user_team_day", scope=SCOPE, start=r.start, end=r.end).collect()
    names = read.scan(SAMPLE, "teams").collect().sort("snapshot_day").unique("team_id", keep="last")
    direct = rows.select("day", "user_id", "team_id")
    parents = direct.join(names.select("team_id", "parent_id"), on="team_id").drop_nulls("parent_id")
    pairs = pl.concat([direct, parents.select("day", "user_id", team_id="parent_id")]).unique()
    return pairs.join(usage, on=["day", "user_id"]), names


def test_team_credits_follow_githubs_recipe_where_github_lists_the_team() -> None:
    """octo-sim-eng/Web: 21,668+ credits when its 11-26 member list was carried back to 1970; GitHub's recipe
    gives 10,839 (GitHub lists Web from 11-01 only)."""
    r = _report()
    pairs, names = _recipe_pairs(r)
    recipe = pairs.group_by("team_id").agg(pl.col("ai_credits_used").sum())
    labelled = recipe.join(names, on="team_id").with_columns(
        unit=pl.format("{}/{}", pl.col("scope").str.strip_prefix("org:"), "name")
    )
    units = team_distribution.headline(r).summary()["units"]
    compared = 0
    for row in labelled.filter(pl.col("scope").str.starts_with("org:")).iter_rows(named=True):
        if row["unit"] in units:
            assert units[row["unit"]]["credits"] == pytest.approx(row["ai_credits_used"]), row["unit"]
            compared += 1
    assert compared >= 3
    assert units["octo-sim-eng/Web"]["credits"] == pytest.approx(10838.762)


@pytest.mark.parametrize("backfill", [False, True])
def test_the_attribution_summary_says_what_each_source_placed(backfill: bool) -> None:
    r = _report(backfill_members=backfill)
    got = team_distribution.headline(r).summary()["attribution"]
    pairs, names = _recipe_pairs(r)
    # teams no fetched list names are one line: a user-day in two of them counts once
    listed_ids = names["team_id"].implode()
    gh = pairs.with_columns(
        key=pl.when(pl.col("team_id").is_in(listed_ids)).then(pl.col("team_id").cast(pl.String)).otherwise(pl.lit("?"))
    ).unique(["day", "user_id", "key"])
    assert got["credits_by_github_daily_rows"] == pytest.approx(gh["ai_credits_used"].sum())
    members = read.scan(SAMPLE, "team_members").collect()
    first = members["snapshot_day"].min()
    assert got["first_member_list_day"] == first.isoformat() and first > r.end  # the sample's list is after the period
    assert got["credits_by_member_lists"] == 0.0  # so no list holds inside the period
    # the first list carried back: its teams on user-days before it, less the (day, team)s GitHub lists, less what
    # GitHub's rows already place
    usage = _usage(r).filter(pl.col("day") < first).select("day", "user_id", "ai_credits_used")
    rows = read.scan(SAMPLE, "user_team_day", scope=SCOPE, start=r.start, end=r.end).collect()
    first_list = members.filter(pl.col("snapshot_day") == first).select("user_id", "team_id").unique()
    carried = usage.join(first_list, on="user_id").join(
        rows.select("day", "team_id").unique(), on=["day", "team_id"], how="anti"
    )
    up = carried.join(names.select("team_id", "parent_id"), on="team_id").drop_nulls("parent_id")
    carried = pl.concat([carried, up.drop("team_id").rename({"parent_id": "team_id"})], how="diagonal").unique(
        ["day", "user_id", "team_id"]
    )
    moved = carried.join(pairs.select("day", "user_id", "team_id"), on=["day", "user_id", "team_id"], how="anti")
    expected = moved["ai_credits_used"].sum() if backfill else 0.0
    assert got["credits_before_first_member_list"] == pytest.approx(expected)
    assert expected == 0.0 or expected > 10_000  # the assumption moves a lot on the sample
    headline = team_distribution.headline(r).sentences  # for a leader the method is in the data notes
    notes = " ".join([*headline, *r.notes().caveats])
    assert f"{got['credits_by_github_daily_rows']:,.0f} credits" in notes
    if backfill:
        assert f"Assumption: the first member list ({first})" in notes and f"{expected:,.0f} credits" in notes
        web = team_distribution.headline(r).summary()["units"]["octo-sim-eng/Web"]["credits"]
        web_moved = moved.filter(pl.col("team_id") == 7011)["ai_credits_used"].sum()
        assert web == pytest.approx(10838.762 + web_moved)
    else:
        assert "backfill_members=True places those days" in notes


def test_one_line_for_teams_the_kit_cannot_name_and_every_row_consistent() -> None:
    """Teams of organizations whose team lists were not fetched are one line naming those organizations, not
    `slug (#id)` rows; each row's counts nest (active seated ≤ active ≤ seated) or its note says why."""
    for top in (3, 12):
        r = _report(top_n=top, k_min=1)
        shown = team_distribution.shown_units(r)
        every = team_distribution.unit_summary(r)
        for frame in (shown, every):
            assert not frame.filter(pl.col("unit").str.contains(r"\(#\d+\)")).height, frame["unit"].to_list()
            line = frame.filter(pl.col("unit").str.starts_with("(teams not fetched"))
            assert line["unit"].to_list() == ["(teams not fetched: octo-sim-data, octo-sim-platform)"]
            nested = (
                (pl.col("active_seated") <= pl.col("active_users"))
                & (pl.col("active_users") <= pl.col("seated_users"))
                & (pl.col("active_seated") <= pl.col("seated_users"))
            )
            bad = frame.filter(~nested.fill_null(False) & pl.col("note").is_null())
            assert bad.height == 0, bad
        # the line holds every user-day of the unfetched organizations' teams, counted once
        days = team_distribution.team_view(r).unit_days.collect()
        unfetched = days.filter(pl.col("unit") == line["unit"][0])
        assert unfetched.unique(["day", "user_id"]).height == unfetched.height


def test_a_leader_reads_one_sentence_on_attribution_and_the_method_is_in_the_data_notes() -> None:
    """Leader's read of team p.1: the operator-style attribution paragraph (GitHub's recipe, credits per source,
    backfill_members) sat at the top of a leadership page; a leader reads one plain sentence, the method is in
    the data notes, and the analyst's section keeps the detail."""
    from copilot_usage.report import make_report

    leader = make_report("t", data_dir=str(SAMPLE), scope="enterprise:octo-sim")
    said = " ".join(team_distribution.headline(leader).sentences)
    assert "100% of team credits come from GitHub's daily team records and 0% from team member lists" in said
    assert "the method is in the data notes" in said
    assert not re.search(r"backfill_members|recipe|Attribution:|summed over teams", said), said
    assert any("backfill_members" in c for c in leader.notes().caveats)
    analyst = make_report("t", data_dir=str(SAMPLE), scope="enterprise:octo-sim", audience="analyst")
    assert "GitHub's recipe" in " ".join(team_distribution.headline(analyst).sentences)


def test_movers_rise_only_when_they_rose_fall_only_when_they_fell_and_show_their_base() -> None:
    """The leader's read of the demo's team digest: "Data's credits changed most downward (+13%)" when every unit
    grew, and "Web +9514%" with nothing saying it grew from 12 credits."""
    movers_story = team_distribution.movers_story

    def moved(*rows: tuple[str, float, float]) -> pl.DataFrame:
        frame = pl.DataFrame(rows, schema=["unit", "credits_before", "credits_recent"], orient="row")
        return frame.with_columns(credits_growth=pl.col("credits_recent") / pl.col("credits_before") - 1)

    grew = movers_story(moved(("org/Web", 12.0, 1_154.0), ("org/Data", 1_000.0, 1_130.0)))[0]
    assert "org/Web's credits rose most, from 12 to 1,154 (+9,517%)" in grew
    assert "fell" not in grew and "downward" not in grew and "every unit's rose" in grew
    mixed = movers_story(moved(("org/Web", 100.0, 150.0), ("org/Data", 1_000.0, 800.0)))[0]
    assert "org/Web's credits rose most" in mixed and "org/Data's credits fell most, from 1,000 to 800 (-20%)" in mixed
    fell = movers_story(moved(("org/Web", 100.0, 90.0), ("org/Data", 1_000.0, 800.0)))[0]
    assert "rose" not in fell and "org/Data's credits fell most" in fell and "every unit's fell" in fell
