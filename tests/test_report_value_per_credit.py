"""The value report's section functions on the committed sample cache: headline figures against an independent
recomputation, each table read once, audience rules, and a cache without the optional tables."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import polars as pl
import pytest

from copilot_usage.report import Report, Section, open_report
from copilot_usage.report import value_per_credit as vpc

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
SCOPE = "enterprise:octo-sim"
OPTIONAL = ("seats", "teams", "team_members", "user_team_day", "repo_review_times_day")
SECTIONS = (
    vpc.headline,
    vpc.credit_concentration,
    vpc.per_credit,
    vpc.per_team,
    vpc.intensity,
    vpc.cost_vs_output,
    vpc.patterns,
    vpc.outcomes,
    vpc.money,
)


def _open(data_dir: Path, **parameters: object) -> Report:
    return open_report(
        "Value per AI credit", data_dir=str(data_dir), scope=SCOPE, bootstrap_iterations=100, **parameters
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def r() -> Report:
    return _open(SAMPLE)


def _user_day(r: Report) -> pl.DataFrame:
    ud = pl.read_delta(str(SAMPLE / "processed" / "user_day")).drop("scope_kind", "scope_slug", "month")
    return ud.filter((pl.col("scope") == SCOPE) & pl.col("day").is_between(r.start, r.end))


def test_headline_figures_match_an_independent_computation(r: Report) -> None:
    figures = vpc.headline(r).figures
    ud = _user_day(r)
    per_user = ud.group_by("user_id").agg(
        pl.col("ai_credits_used").sum(), pl.col("loc_added_sum").sum(), days=pl.col("day").n_unique()
    )
    credited = per_user.filter(pl.col("ai_credits_used") > 0).sort("ai_credits_used", descending=True)
    total = ud["ai_credits_used"].sum()
    assert figures.credits_total == pytest.approx(total)
    assert figures.credits_at_list_price_usd == pytest.approx(total * r.prices.credit)
    assert figures.users_with_credits == credited.height
    top10 = credited.head(-(-credited.height // 10))["ai_credits_used"].sum()
    assert figures.top10_share == pytest.approx(top10 / total)
    floors = per_user.filter((pl.col("ai_credits_used") >= 10) & (pl.col("days") >= 3))  # the notebook's defaults
    ratio = 100 * floors["loc_added_sum"].sum() / floors["ai_credits_used"].sum()
    assert figures.accepted_lines_per_100_credits == pytest.approx(ratio)
    low, high = figures.accepted_lines_per_100_credits_ci90
    assert low is not None and high is not None and low < ratio < high
    assert figures.feature_intensity["code_completion"] < 0.05
    assert vpc.headline(r).tiles[0].label == "AI credits in period"


def test_users_with_credits_and_the_gini_count_only_users_with_credits_above_zero(r: Report) -> None:
    """Recomputed in plain polars on the sample: a user whose credits are 0 (not null) has none; the sample has
    such users, so counting non-null figures would give more users and a higher Gini."""
    per_user = _user_day(r).group_by("user_id").agg(credits=pl.col("ai_credits_used").sum())
    x = per_user.filter(pl.col("credits") > 0).sort("credits")["credits"]
    n = x.len()
    rank = pl.Series(range(1, n + 1), dtype=pl.Float64)
    gini = float(((2 * rank - n - 1) * x).sum() / (n * x.sum()))
    assert per_user.filter(pl.col("credits") == 0).height > 0  # the sample carries users with 0 credits
    figures = vpc.headline(r).figures
    assert figures.users_with_credits == n
    assert figures.gini == pytest.approx(gini, rel=1e-9)
    assert vpc.credit_concentration(r).sentences[0].startswith(f"{n:,} users with credits")
    assert "Gini across users with credits" in [t.label for t in vpc.headline(r).tiles]


def test_parameters_reach_the_sections() -> None:
    strict = _open(SAMPLE, min_credits=1e9)
    assert vpc.settings(strict).min_credits == 1e9
    assert vpc.headline(strict).figures.accepted_lines_per_100_credits is None
    assert vpc.per_credit(strict).sentences == ("No user passes the activity floors in this period.",)


def test_every_section_reads_each_table_once(r: Report) -> None:
    for build in SECTIONS:
        assert isinstance(build(r), Section)
    reads = [key[1] for key in r._cache if key[0] == "frame"]
    assert sorted(reads) == sorted(set(reads)), reads  # one read (one column set) per table
    assert "user_day" in reads and "repo_review_times_day" in reads


def test_outcomes_use_the_review_stage_times(r: Report) -> None:
    said = " ".join(vpc.outcomes(r).sentences)
    assert "per 1,000 credits" in said
    assert "ready for review to first review" in said and "median over repositories" in said


def test_leadership_sees_teams_and_analysts_see_users(r: Report) -> None:
    quad = vpc.quadrant(r)
    assert quad.label == "unit" and (quad.frame["users"] >= r.k_min).all()
    analyst = _open(SAMPLE, audience="analyst")
    assert vpc.quadrant(analyst).label == "user_login"
    assert "simdev-" in " ".join(vpc.quadrant(analyst).frame["user_login"].to_list())
    assert vpc.cost_vs_output(r).sentences[0].startswith("Of ") and " teams, " in vpc.cost_vs_output(r).sentences[0]


@pytest.fixture(scope="module")
def without_optional(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample cache without seats, team lists, daily team membership and review-stage times."""
    root = tmp_path_factory.mktemp("no-optional")
    for part in (SAMPLE / "processed").iterdir():
        if part.name not in OPTIONAL:
            (shutil.copytree if part.is_dir() else shutil.copy)(part, root / "processed" / part.name)
    return root


def test_a_cache_without_optional_tables_says_what_to_fetch(without_optional: Path) -> None:
    r = _open(without_optional)
    for build in SECTIONS:
        build(r)  # nothing fails
    team = vpc.per_team(r).sentences[0]
    assert team.startswith(f"Not fetched for {SCOPE}: user_team_day, teams") and "--reports user-teams,teams" in team
    stages = next(s for s in vpc.outcomes(r).sentences if "Not fetched" in s)
    assert "repo_review_times_day" in stages and "--reports repos" in stages
    assert "the seat roster was not fetched" in vpc.money(r).sentences[0]
    assert {"seats", "user_team_day", "repo_review_times_day"} <= set(r.notes().summary["not_fetched"])
    # the figures do not depend on the optional tables
    # (floats to rounding: a parallel group-by sums in no fixed order)
    got, full = dataclasses.asdict(vpc.headline(r).figures), dataclasses.asdict(vpc.headline(_open(SAMPLE)).figures)
    assert got.keys() == full.keys()
    for name, value in full.items():
        numeric = (
            isinstance(value, float)
            or (isinstance(value, tuple) and all(isinstance(v, float) for v in value))
            or (isinstance(value, dict) and all(isinstance(v, float) for v in value.values()))
        )
        assert got[name] == (pytest.approx(value, rel=1e-9) if numeric else value), name


def test_pseudonyms_are_applied_once_to_the_quadrant_chart_and_review_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The analyst quadrant is pseudonymised before its chart is built (the spec carries the labels); the chart's
    numbers and the review table must show those same pseudonyms, not pseudonyms of pseudonyms."""
    from copilot_usage.outputs.record import mime, payload_frame
    from copilot_usage.report import display, pseudonyms
    from copilot_usage.report.privacy import PSEUDONYM_ENV

    monkeypatch.setenv(PSEUDONYM_ENV, "k")
    shown: list[dict[str, object]] = []
    monkeypatch.setattr(display, "display", lambda bundle, **_: shown.append(bundle))
    r = _open(SAMPLE, audience="analyst", pseudonymize=True)
    display.show(r, vpc.cost_vs_output(r))
    logins = _user_day(r)["user_login"].unique()
    once = set(pseudonyms(logins, key=b"k").to_list())
    tables = [payload_frame(b[mime("table")]["ipc"]) for b in shown if mime("table") in b]  # type: ignore[index]
    labels = [t["user_login"] for t in tables if "user_login" in t.columns and t.height]
    assert len(labels) == 2  # the chart's numbers and the review table
    for column in labels:
        assert set(column.to_list()) <= once


def test_intensity_names_what_limits_the_estimates(r: Report) -> None:
    """The sample's period (09-11..11-24) lies in GitHub's 10-06 change and holds server-side users."""
    said = vpc.intensity(r).sentences
    assert any(s.startswith("GitHub's 2026-10-06 change bears on these estimates") for s in said)
    assert any("no activity detail" in s for s in said)
    assert vpc.no_detail_sentence(0.0) == []


def test_the_team_table_keeps_the_teams_that_used_the_most_credits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of teams at 100,000 seats: the table lists the largest by credits and says how many there are."""
    whole = next(p for p in vpc.per_team(_open(SAMPLE)).parts if hasattr(p, "frame")).frame
    monkeypatch.setattr(vpc, "FULL_TABLE_MAX", 2)
    section = vpc.per_team(_open(SAMPLE))
    (table,) = [p for p in section.parts if hasattr(p, "frame")]
    assert set(table.frame["unit"]) == set(whole.sort("credits", descending=True)["unit"].head(2))
    assert f"The 2 teams that used the most credits are listed, of {whole.height}" in " ".join(section.sentences)


def test_the_quadrant_charts_the_largest_entries_with_the_medians_of_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vpc, "CHART_POINTS_MAX", 3)
    r = _open(SAMPLE)
    quad = vpc.quadrant(r)
    section = vpc.cost_vs_output(r)
    (chart,) = section.charts
    assert chart.data is not None and chart.data.height == 3
    assert set(chart.data["credits"]) == set(quad.frame["credits"].sort(descending=True).head(3))
    assert chart.data["cost_median"].unique().to_list() == [quad.frame["credits"].median()]  # of all, not the 3
    assert f"the counts are of all {quad.frame.height}" in " ".join(section.sentences)


def test_the_quadrant_and_pattern_sentences_read_plainly_at_zero_and_name_users_as_nouns(r: Report) -> None:
    """Leader's read of value p.4 and its digest: "Of 5 teams, 0 use more credits…" says none in words, and a
    usage archetype is a group of users ("agent users get…", not "agent get…")."""
    teams = pl.DataFrame({"unit": list("abcde"), "credits": [5.0, 4, 3, 2, 1], "quadrant": ["efficient"] * 5})
    [story] = vpc._quadrant_story(vpc.Quadrant(teams, "unit"))
    assert story == (
        "Of 5 teams, none uses more credits than the median with less output than the median; "
        "5 deliver above-median output on below-median credits (efficient)."
    )
    # neither review nor efficient: where each team sits, not two "none" clauses (the demo's "Of 11 teams, none…")
    together = teams.with_columns(quadrant=pl.Series(["high cost / high output"] * 2 + ["adoption support"] * 3))
    [story] = vpc._quadrant_story(vpc.Quadrant(together, "unit"))
    assert story.startswith("Of 5 teams, each sits where credits and output go together: 2 use more credits")
    assert "3 fewer credits with less output" in story
    groups = pl.DataFrame(
        {
            "archetype": ["agent", "CLI-heavy"],
            "credits": [60.0, 40],
            "credits_per_user": [10.0, 30],
            "lines_per_100_credits": [80.0, 20],
        }
    )
    [pattern] = vpc._group_story(groups, "archetype")
    assert pattern.startswith("CLI-heavy users consume the most per person (30 credits); agent users get the most")
    [on_sample] = vpc._group_story(
        vpc.value.by_group(vpc.value.archetypes(vpc.totals(r)), group="archetype"), "archetype"
    )
    assert " users get the most accepted lines" in on_sample
