"""The simulator serves GitHub's definition changes (the register's entries) on the right side of their dates."""

from __future__ import annotations

import datetime as dt
import functools
import json

import numpy as np
import polars as pl

from copilot_usage.analysis import github_changes, metrics
from copilot_usage.catalog import Scope
from copilot_usage.simulate import changes
from copilot_usage.simulate import payloads as P
from copilot_usage.simulate.tenant import Tenant

D = dt.date


@functools.cache
def tenant() -> Tenant:
    """Data from 2026-05-16 to 2026-12-01 (the demo's span), fewer users."""
    return Tenant(seed=3, users=300, days=200, today=D(2026, 12, 3))


def _ent(t: Tenant) -> Scope:
    return Scope("enterprise", t.enterprise)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def _users(days: list[dt.date]) -> pl.DataFrame:
    t = tenant()
    return pl.concat([P.user_frame(t, d, _ent(t)) for d in days], how="diagonal_relaxed")


def test_the_effect_dates_are_the_registers() -> None:
    reg = github_changes.register()
    github_days = set(reg.filter(pl.col("origin") == github_changes.GITHUB)["day"].to_list())
    effects = (
        changes.server_side_users(),
        changes.credits_fixed(),
        changes.app_users_counted(),
        changes.agent_as_cli(),
    )
    assert effects == (D(2026, 6, 15), D(2026, 7, 2), D(2026, 7, 28), D(2026, 10, 6))
    assert set(effects) <= github_days


def test_server_side_only_rows_from_06_15_count_as_active_with_no_activity_detail() -> None:
    t = tenant()
    before = _users(_days(D(2026, 6, 8), D(2026, 6, 14)))
    after = _users(_days(D(2026, 6, 15), D(2026, 6, 28)))
    assert metrics.activity_detail(before)["no_detail_user_days"] == 0
    # the users GitHub sees server-side only are in no report before 06-15
    assert not before["user_id"].is_in(t.user_id[t.server_only]).any()
    detail = metrics.activity_detail(after)
    share = detail["no_detail_user_days"] / after.height
    assert 0.01 < share < 0.08, share  # a few per cent of the active user-days
    # a server-side-only row carries the ids and credits only; its breakdowns are empty
    for day in (D(2026, 6, 16), D(2026, 6, 22)):
        lines = [json.loads(x) for x in P.to_ndjson(P.user_frame(t, day, _ent(t))).splitlines()]
        bare = [row for row in lines if "used_agent" not in row]
        assert bare, day
        for row in bare:
            scalars = {k for k, v in row.items() if not isinstance(v, list)}
            assert scalars == {"day", "enterprise_id", "user_id", "user_login"} | (
                {"ai_credits_used"} if day >= D(2026, 6, 19) else set()
            )
            assert all(v == [] for v in row.values() if isinstance(v, list))
        if day >= D(2026, 6, 19):
            assert all(row["ai_credits_used"] >= 0 for row in bare) and any(row["ai_credits_used"] for row in bare)
        # counted in the aggregate's daily active users: one per row of the day
        agg = P.aggregate_record(t, day, _ent(t))
        assert agg["daily_active_users"] == len(lines) > len(lines) - len(bare)


def _billed(days: list[dt.date]) -> float:
    t = tenant()
    lines = pl.concat([P.billing_lines(t, _ent(t), m.year, m.month) for m in {d.replace(day=1) for d in days}])
    return float(lines.filter(pl.col("day").is_in(days))["gross"].sum())


def test_metrics_credits_step_up_on_07_02_and_billing_does_not() -> None:
    before = _days(D(2026, 6, 19), D(2026, 7, 1))
    after = _days(D(2026, 7, 2), D(2026, 7, 14))
    metrics_before = float(_users(before)["ai_credits_used"].sum())
    metrics_after = float(_users(after)["ai_credits_used"].sum())
    billed_before, billed_after = _billed(before), _billed(after)
    # before the fix GitHub's metrics missed a quarter of what billing charged; from 07-02 they agree
    assert abs(metrics_before / billed_before - changes.CREDITS_COUNTED_BEFORE_FIX) < 0.005
    assert abs(metrics_after / billed_after - 1) < 0.001
    # the step is in the metrics only: billing's level barely moves, the metrics' jumps
    assert metrics_after / metrics_before > 1.2 * billed_after / billed_before


def _cli_suggested(days: list[dt.date]) -> int:
    long = _users(days).select(pl.col("totals_by_feature").explode().struct.unnest()).drop_nulls("feature")
    cli = long.filter(pl.col("feature") == "copilot_cli")
    assert cli["code_generation_activity_count"].sum() > 0
    return int(cli["loc_suggested_to_add_sum"].sum() + cli["loc_suggested_to_delete_sum"].sum())


def test_cli_fills_suggested_lines_from_07_02() -> None:
    assert _cli_suggested(_days(D(2026, 6, 22), D(2026, 7, 1))) == 0
    assert _cli_suggested(_days(D(2026, 7, 2), D(2026, 7, 10))) > 0


def test_app_only_users_are_daily_active_users_from_07_28() -> None:
    t = tenant()
    seen = {False: 0, True: 0}
    for day in _days(D(2026, 7, 17), D(2026, 8, 9)):
        app_only = t.flags(day)["app_only"]
        rows = P.user_frame(t, day, _ent(t))
        agg = P.aggregate_record(t, day, _ent(t))
        listed = np.isin(t.user_id[app_only], rows["user_id"].to_numpy())
        counted = day >= D(2026, 7, 28)
        assert agg["daily_active_users"] == rows.height
        assert listed.all() if counted else not listed.any(), day
        # the aggregate's app figures carry them from 2026-07-17 either way
        assert agg["daily_active_copilot_app_users"] >= int(app_only.sum())
        seen[counted] += int(app_only.sum())
    assert seen[False] > 0 and seen[True] > 0
    # from 07-28 an app-only row has the Copilot app in its feature roll-up and nothing else
    day = next(d for d in _days(D(2026, 7, 28), D(2026, 8, 9)) if t.flags(d)["app_only"].any())
    rows = P.user_frame(t, day, _ent(t)).filter(pl.col("user_id").is_in(t.user_id[t.flags(day)["app_only"]]))
    features = rows.select(pl.col("totals_by_feature").explode().struct.field("feature"))["feature"]
    assert set(features) == {"copilot_app"} and rows["used_copilot_app"].all()


def _feature_shares(days: list[dt.date]) -> dict[str, float]:
    t = tenant()
    rows = [r for d in days for r in P.aggregate_record(t, d, _ent(t))["totals_by_feature"]]
    g = pl.DataFrame(rows).group_by("feature").agg(pl.col("code_generation_activity_count").sum())
    total = g["code_generation_activity_count"].sum()
    return {f: n / total for f, n in g.iter_rows()}


def _user_shares(days: list[dt.date]) -> tuple[float, float]:
    rows = _users(days).drop_nulls("used_agent")
    return float(rows["used_cli"].mean()), float(rows["used_agent"].mean())  # type: ignore[arg-type]


def test_agent_activity_is_partly_reported_as_cli_from_10_06_until_ides_update() -> None:
    t = tenant()
    before, after = _days(D(2026, 9, 22), D(2026, 10, 5)), _days(D(2026, 10, 6), D(2026, 10, 19))
    late = _days(D(2026, 11, 25), D(2026, 12, 1))  # every IDE updated by the end of November
    agent = ("chat_panel_agent_mode", "agent_edit")
    shares = {k: _feature_shares(v) for k, v in {"before": before, "after": after, "late": late}.items()}
    cli = {k: s["copilot_cli"] for k, s in shares.items()}
    agent_share = {k: sum(s[f] for f in agent) for k, s in shares.items()}
    assert cli["after"] > 1.4 * cli["before"] and agent_share["after"] < 0.7 * agent_share["before"]
    assert abs(cli["late"] - cli["before"]) < 0.3 * cli["before"]
    assert abs(agent_share["late"] - agent_share["before"]) < 0.3 * agent_share["before"]
    used_cli, used_agent = zip(*(_user_shares(v) for v in (before, after, late)), strict=True)
    assert used_cli[1] > used_cli[0] + 0.03 and used_agent[1] < used_agent[0] - 0.03
    # VS Code users update first: none of them is affected three weeks after the change, other IDEs still are
    vscode = t.ide == 0
    three_weeks = _days(D(2026, 10, 29), D(2026, 11, 4))
    sdk = np.any([t.flags(d)["agent_sdk"] for d in three_weeks], axis=0)
    assert not sdk[vscode].any() and sdk[~vscode].any()
    # billing is not affected: the metrics' credits still equal what billing charges
    assert abs(float(_users(after)["ai_credits_used"].sum()) / _billed(after) - 1) < 0.001
