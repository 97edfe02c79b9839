"""The fields GitHub added June–October 2026: typed in their tables, and never summed where GitHub says not to."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from conftest import small_tenant
from copilot_usage.cache import daily
from copilot_usage.cache.parse import parse_rows
from copilot_usage.catalog import CLI_CUSTOMISATION_KINDS, Scope
from copilot_usage.simulate import payloads as P

DAY = dt.date(2026, 11, 2)


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    t = small_tenant()
    scope = Scope("enterprise", t.enterprise)
    users = parse_rows(P.to_ndjson(P.user_frame(t, DAY, scope)), "users", "sim")
    agg = parse_rows(P.dumps(P.aggregate_record(t, DAY, scope)), "aggregate", "sim")
    repos = parse_rows(P.to_ndjson(P.repos_frame(t, DAY, scope)), "repos", "sim")
    assert users.unknown_fields == agg.unknown_fields == repos.unknown_fields == []  # all typed, none drift
    return {
        "tenant": t,
        "record": P.aggregate_record(t, DAY, scope),
        **daily._users_tables(users.frame, str(scope)),
        **daily._aggregate_tables(agg.frame, str(scope)),
        **daily._repo_tables(repos.frame, str(scope)),
    }


def test_copilot_app_is_typed_in_user_day_and_aggregate_day(built: dict[str, Any]) -> None:
    ud, ad = built["user_day"], built["aggregate_day"]
    assert ud.schema["used_copilot_app"] == pl.Boolean and ud["used_copilot_app"].sum() > 0
    assert ud.schema["app_prompt_tokens_sum"] == pl.Int64
    assert ad["daily_active_copilot_app_users"].item() == ud["used_copilot_app"].sum()
    assert ad["app_request_count"].item() == built["record"]["totals_by_copilot_app"]["request_count"]
    # the copilot_app value of the roll-ups is kept, the language roll-ups of the aggregate too
    assert "copilot_app" in built["aggregate_feature_day"]["feature"].to_list()
    for table in ("aggregate_language_feature_day", "aggregate_language_model_day"):
        assert built[table].height > 0 and built[table].schema["code_generation_activity_count"] == pl.Int64
    assert "copilot_app" in built["aggregate_language_feature_day"]["feature"].to_list()


def test_third_party_agent_job_starts_stay_out_of_the_interaction_count(built: dict[str, Any]) -> None:
    tp = built["aggregate_3rd_party_agent_day"]
    assert tp.schema["session_count"] == pl.Int64 and tp.height > 0
    ud, feat = built["user_day"], built["user_feature_day"]
    # top-level interactions are the features' sum, with no agent job starts added
    assert ud["user_initiated_interaction_count"].sum() == feat["user_initiated_interaction_count"].sum()
    assert (
        built["aggregate_day"]["user_initiated_interaction_count"].item()
        == ud["user_initiated_interaction_count"].sum()
    )
    assert "session_count" not in built["user_3rd_party_agent_day"].columns  # aggregate-only


def test_vscode_agents_window_is_typed(built: dict[str, Any]) -> None:
    ud, ad = built["user_day"], built["aggregate_day"]
    assert ud.schema["used_vscode_agent"] == pl.Boolean
    assert ud.schema["vscode_agent_total_user_messages"] == pl.Int64
    assert ad["daily_active_vscode_agent_users"].item() == ud["used_vscode_agent"].sum()
    assert ad["vscode_agent_session_count"].item() == ud["vscode_agent_session_count"].sum()


def test_cli_customisations_typed_per_kind_and_distinct_counts_per_entity(built: dict[str, Any]) -> None:
    ud, ad = built["user_day"], built["aggregate_day"]
    long = built["aggregate_cli_customisation_day"]
    assert dict(long.schema) == {
        "scope": pl.String,
        "day": pl.Date,
        "kind": pl.String,
        "name": pl.String,
        "interaction_count": pl.Int64,
    }
    assert set(long["kind"]) <= set(CLI_CUSTOMISATION_KINDS) and long.group_by("kind").len()["len"].max() <= 5
    for kind in CLI_CUSTOMISATION_KINDS:
        assert ud.schema[f"distinct_{kind}_use_count"] == pl.Int64
        # the aggregate's distinct count is GitHub's per-entity figure, not the users' counts summed
        assert ad[f"distinct_{kind}_use_count"].item() == built["record"][f"distinct_{kind}_use_count"]
    assert ad["distinct_mcp_use_count"].item() < ud["distinct_mcp_use_count"].sum()
    user_long = built["user_cli_customisation_day"]
    assert set(user_long.columns) == {"scope", "day", "user_id", "kind", "name", "interaction_count"}


def test_adoption_phase_pr_fields_typed(built: dict[str, Any]) -> None:
    ph = built["aggregate_ai_adoption_phase_day"]
    assert ph.schema["total_pull_requests_merged"] == pl.Int64
    assert ph.schema["avg_pull_requests_minutes_to_review"] == pl.Float64
    assert ph["total_pull_requests_merged"].sum() == built["aggregate_day"]["pr_total_merged"].item()


def test_review_times_in_their_own_table(built: dict[str, Any]) -> None:
    rt, repo = built["repo_review_times_day"], built["repo_day"]
    assert "pull_request_review_times" not in repo.columns
    assert rt.schema["p90_minutes_final_review_to_merge"] == pl.Float64 and rt.height > 0
    assert set(rt["repository_id"]) <= set(repo["repository_id"])


def test_official_examples_carry_none_of_the_new_tables() -> None:
    from conftest import FIXTURES

    data = (FIXTURES / "github" / "github-docs_example-schema_enterprise-level.json").read_bytes()
    parsed = parse_rows(data, "aggregate", "fixture")
    tables = daily._aggregate_tables(parsed.frame, "enterprise:x")
    assert tables["aggregate_day"].height > 0 and tables["aggregate_cli_customisation_day"].height == 0
    assert tables["aggregate_day"]["daily_active_copilot_app_users"].is_null().all()  # absent: null, never 0


def _user_rows() -> pl.DataFrame:
    d1, d2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
    full = {"user_initiated_interaction_count": 3, "used_chat": True, "used_agent": False, "used_cli": True}
    none = dict.fromkeys(full)
    rows = [
        {"day": d1, "user_id": 1, "ai_credits_used": 5.0, **full},
        {"day": d2, "user_id": 1, "ai_credits_used": 4.0, **full},
        {"day": d1, "user_id": 2, "ai_credits_used": 9.0, **none},  # server-side only
        {"day": d2, "user_id": 2, "ai_credits_used": 7.0, **none},
        {"day": d2, "user_id": 3, "ai_credits_used": 1.0, **none},  # server-side only on one day, not the other
        {"day": d1, "user_id": 3, "ai_credits_used": 1.0, **full},
    ]
    return pl.DataFrame(rows)


def test_server_side_only_users_are_active_with_no_activity_detail() -> None:
    from copilot_usage.analysis import metrics
    from copilot_usage.report import trends

    ud = _user_rows()
    detail = metrics.activity_detail(ud)
    assert detail == {"active_users": 3, "no_detail_user_days": 3, "no_detail_users": 1}
    daily = metrics.daily_activity(ud, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 2))
    assert daily["active_users"].to_list() == [3, 3]  # still counted as active
    (sentence,) = trends.no_detail_story(detail)
    assert sentence.startswith("1 of the 3 active users (33%)") and "no activity detail" in sentence
    assert trends.no_detail_story(metrics.activity_detail(ud.filter(pl.col("user_id") == 1))) == []


def test_new_surfaces_share_only_days_that_report_them() -> None:
    from copilot_usage.analysis import metrics

    ud = _user_rows().filter(~((pl.col("user_id") == 3) & (pl.col("day") == dt.date(2026, 10, 2))))
    ud = ud.with_columns(
        used_copilot_cloud_agent=pl.lit(False),
        used_copilot_code_review_active=pl.lit(False),
        # GitHub reports the app flag on 2026-10-02 only: 1 of that day's 2 users (3 in the week)
        used_copilot_app=pl.when(pl.col("day") == dt.date(2026, 10, 2)).then(pl.col("user_id") == 1),
    )
    adoption = metrics.surface_adoption(ud)
    share = dict(zip(adoption["surface"], adoption["share"], strict=True))
    assert share["Copilot app"] == pytest.approx(1 / 2)
    assert share["VS Code Agents window"] is None and share["Third-party agents"] is None  # not reported: not 0 %
    assert share["Cloud agent"] == 0.0


def test_cli_customisations_per_kind_never_summed(built: dict[str, Any]) -> None:
    from copilot_usage.analysis import metrics
    from copilot_usage.report import charts, trends

    kinds = metrics.cli_customisations(built["user_day"], built["aggregate_day"])
    assert kinds["kind"].to_list() == list(CLI_CUSTOMISATION_KINDS)  # one row per kind, no total row
    ad = built["aggregate_day"]
    for r in kinds.iter_rows(named=True):
        assert r["entities_latest"] == ad[f"distinct_{r['kind']}_use_count"].item()  # GitHub's per-entity count
        assert r["users"] == (built["user_day"][f"distinct_{r['kind']}_use_count"] > 0).sum()
    assert kinds["users"].max() <= kinds["cli_users"].max()
    story = " ".join(trends.customisation_story(kinds))
    assert "not added up" in story and "connection attempts" in story
    assert charts.cli_customisations(kinds).to_dict()["mark"]["type"] == "bar"
    top = metrics.top_customisations(built["aggregate_cli_customisation_day"])
    assert top.group_by("kind").len()["len"].max() <= 5
    long = built["aggregate_cli_customisation_day"]
    mcp = long.filter(pl.col("kind") == "mcp").group_by("name").agg(pl.col("interaction_count").sum())
    assert dict(top.filter(pl.col("kind") == "MCP servers").select("name", "interaction_count").iter_rows()) == dict(
        mcp.sort("interaction_count", descending=True).head(5).iter_rows()
    )
    # a cache built before GitHub added the fields: nothing, not zeros
    old = built["user_day"].select(pl.exclude("^distinct_.*$"))
    assert metrics.cli_customisations(old, ad).height == 0


def test_review_stages_weekly_medians_and_summed_merges(built: dict[str, Any]) -> None:
    from copilot_usage.analysis import value
    from copilot_usage.report.value_per_credit import review_stages_story

    rt = built["repo_review_times_day"]
    stages = value.review_stages(rt)
    assert stages["stage"].to_list() == list(value.REVIEW_STAGES.values())  # one day: one week, three stages
    counted = rt.filter(pl.col("total_merged") > 0)
    assert stages["total_merged"].unique().to_list() == [counted["total_merged"].sum()]
    first = stages.row(0, named=True)
    assert first["median_minutes"] == counted["median_minutes_ready_to_first_review"].median()
    assert first["p90_minutes"] == counted["p90_minutes_ready_to_first_review"].median()
    story = review_stages_story(stages)
    assert "ready for review to first review" in story[0] and "authored by human" in story[0]
    assert "human reviews only" in story[-1]
    # Copilot-authored PRs are timed apart: their medians never pool with human-authored ones
    both = pl.concat([rt, rt.with_columns(authored_by=pl.lit("copilot"), median_minutes_ready_to_first_review=0.0)])
    split = value.review_stages(both)
    assert sorted(split["authored_by"].unique()) == ["copilot", "human"]
    human = split.filter(pl.col("authored_by") == "human").row(0, named=True)
    assert human["median_minutes"] == first["median_minutes"]
    assert len(review_stages_story(split)) == 3
    assert "from 2026-09-25" in review_stages_story(value.review_stages(rt.clear()))[0]


def test_third_party_agents_count_distinct_users_and_job_starts_never_interactions() -> None:
    from copilot_usage.analysis import metrics

    d1, d2 = dt.date(2026, 9, 1), dt.date(2026, 9, 2)
    users = pl.DataFrame(
        {
            "day": [d1, d2, d2],
            "user_id": [1, 1, 2],
            "agent_id": ["a", "a", "a"],
            "agent_name": ["Claude", "Claude (Anthropic)", "Claude (Anthropic)"],  # renamed: the latest name
            "user_initiated_interaction_count": [2, 3, 1],
        }
    )
    agg = pl.DataFrame(
        {
            "day": [d1, d2, d2],
            "agent_id": ["a", "a", "b"],
            "agent_name": ["Claude", "Claude (Anthropic)", "Codex"],
            "user_initiated_interaction_count": [2, 4, 5],
            "session_count": [1, 2, 3],
        }
    )
    out = {r["agent"]: r for r in metrics.third_party_agents(users, agg).iter_rows(named=True)}
    assert out["Claude (Anthropic)"]["users"] == 2  # distinct over the days, not 1 + 2
    assert out["Claude (Anthropic)"]["job_starts"] == 6 and out["Claude (Anthropic)"]["sessions"] == 3
    assert out["Codex"]["users"] is None  # in the aggregate only: users unknown, not zero


def test_phase_outcomes_weight_daily_averages_by_merges_and_never_sum_daily_users() -> None:
    from copilot_usage.analysis import value

    d1, d2 = dt.date(2026, 7, 1), dt.date(2026, 7, 2)
    phases = pl.DataFrame(
        {
            "day": [d1, d2, d1],
            "phase_number": [1, 1, 2],
            "phase": ["Phase 1", "Phase 1", "Phase 2"],
            "engaged_users": [10, 20, 5],
            "total_pull_requests_merged": [1, 3, 0],
            "avg_pull_requests_minutes_to_review": [100.0, 200.0, None],
            "avg_pull_requests_review_cycles": [1.0, 2.0, None],
        }
    )
    out = value.phase_outcomes(phases)
    one = out.row(0, named=True)
    assert one["mean_daily_engaged_users"] == 15.0 and one["pull_requests_merged"] == 4
    assert one["avg_minutes_to_review"] == 175.0  # (100×1 + 200×3) / 4, not the mean of the averages (150)
    assert one["avg_review_cycles"] == 1.75
    assert out.row(1, named=True)["avg_minutes_to_review"] is None  # no merges: no average, not zero
