"""The watch (issue 26 §3): the band and the per-user test on synthetic frames, the simulator's planted spike, and
``copilot-usage watch`` against a small simulated cache posting to a local receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from conftest import TODAY, small_tenant
from copilot_usage.analysis import watch
from copilot_usage.cache import builder
from copilot_usage.cache.health import health as day_health
from copilot_usage.catalog import Scope
from copilot_usage.cli import main
from copilot_usage.ingest.fetch import fetch
from copilot_usage.ingest.github import GitHub
from copilot_usage.outputs import watch_notify
from copilot_usage.report.privacy import Audience
from copilot_usage.simulate.app import SimConfig, Simulator
from copilot_usage.simulate.server import running

SPIKE_USER, SPIKE_DAY = "simdev-00056", dt.date(2026, 11, 20)  # active that day in small_tenant()
SCOPE = "enterprise:octo-sim"


# ---------------------------------------------------------------------- synthetic frames
def _series(days: int = 61, *, spike: dt.date | None = None, seed: int = 1) -> pl.DataFrame:
    """A team's daily credits: ~1,000 on weekdays, ~200 at weekends, 10 % noise; ×3 on ``spike``."""
    rng = np.random.default_rng(seed)
    day = pl.date_range(dt.date(2026, 9, 1), dt.date(2026, 9, 1) + dt.timedelta(days=days - 1), eager=True)
    base = np.where((day.dt.weekday() >= 6).to_numpy(), 200.0, 1000.0) * rng.lognormal(0, 0.1, days)
    frame = pl.DataFrame({"unit": "Platform", "day": day, "credits": base, "users": 20}).cast({"users": pl.UInt32})
    if spike is None:
        return frame
    return frame.with_columns(
        pl.when(pl.col("day") == spike).then(pl.col("credits") * 3).otherwise("credits").alias("credits")
    )


def test_band_is_computed_only_from_the_days_before() -> None:
    series = _series(spike=dt.date(2026, 10, 14))
    days = [dt.date(2026, 10, 14), dt.date(2026, 10, 18)]  # a Wednesday (the spike) and a Sunday
    b = watch.band(series.select("day", "credits"), days)
    wed, sun = b.row(0, named=True), b.row(1, named=True)
    assert wed["history_days"] == 43  # every day since 2026-09-01 (all within the 56 days before)
    # the spike itself is not in its own band; a 99 % band on 10 % noise: within ±40 %
    assert 900 < wed["expected"] < 1100 and wed["expected"] * 1.2 < wed["high"] < wed["expected"] * 1.4
    assert 150 < sun["expected"] < 250 and sun["high"] < 450  # weekends against weekends
    # the band is the same without the day itself and what comes after it
    later = watch.band(series.filter(pl.col("day") < dt.date(2026, 10, 14)).select("day", "credits"), days[:1])
    assert later.row(0, named=True) == wed


def test_a_spike_is_flagged_with_its_size_in_credits_and_dollars() -> None:
    series = _series(spike=dt.date(2026, 10, 14))
    found = watch.series_findings(series, series["day"].tail(21), level="team")
    assert found.frame.height == 1 and not found.notes
    row = found.frame.row(0, named=True)
    assert (row["day"], row["unit"], row["direction"]) == (dt.date(2026, 10, 14), "Platform", "above")
    assert row["excess_credits"] == pytest.approx(row["credits"] - row["expected"])
    assert row["usd"] == pytest.approx(row["credits"] * 0.01)


def test_a_normal_week_is_not_flagged() -> None:
    for seed in range(5):
        series = _series(seed=seed)
        assert watch.series_findings(series, series["day"].tail(7), level="team").frame.height == 0


def test_one_week_of_history_gives_no_finding_and_says_why() -> None:
    series = _series(days=14, spike=dt.date(2026, 9, 14))
    found = watch.series_findings(series, series["day"].tail(7), level="team")
    assert found.frame.height == 0
    assert len(found.notes) == 1
    assert "team Platform: no finding for 2026-09-08 … 2026-09-14: too little history" in found.notes[0]
    assert "at least 14 needed" in found.notes[0]


def test_a_gap_is_not_history_and_not_a_finding() -> None:
    series = _series(spike=dt.date(2026, 10, 14))
    gappy = series.filter(~pl.col("day").is_between(dt.date(2026, 9, 20), dt.date(2026, 10, 10)))
    found = watch.series_findings(gappy, [dt.date(2026, 10, 14)], level="team")
    # 22 days with data in the 56 before, but only 7 of the 28 on which one-day forecasts are checked
    assert found.frame.height == 0 and "too little history (22 day(s)" in found.notes[0]
    missing = watch.series_findings(
        series.filter(pl.col("day") != dt.date(2026, 10, 14)), [dt.date(2026, 10, 14)], level="team"
    )
    assert missing.frame.height == 0 and not missing.notes


def _user_days(login: str, credits: list[float], *, user_id: int = 1) -> pl.DataFrame:
    day = [dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(len(credits))]
    return pl.DataFrame({"day": day, "user_id": user_id, "user_login": login, "ai_credits_used": credits})


def test_a_user_far_above_their_own_baseline_and_the_floor_is_flagged() -> None:
    frame = pl.concat(
        [
            _user_days("runaway", [60.0] * 20 + [2400.0]),  # 40× the baseline, over the floor
            _user_days("light", [10.0] * 20 + [120.0], user_id=2),  # 12× but under 300 credits
            _user_days("steady", [400.0] * 20 + [900.0], user_id=3),  # over the floor but 2.25×
        ]
    )
    last = dt.date(2026, 10, 21)
    found = watch.user_findings(frame, [last])
    assert found.frame["user_login"].to_list() == ["runaway"]
    row = found.frame.row(0, named=True)
    assert row["expected"] == 60.0 and row["excess_credits"] == 2340.0
    assert row["usd"] == pytest.approx(24.0) and row["excess_usd"] == pytest.approx(23.4)
    assert "runaway: 2,400 credits (US$24.00), 40× their baseline of 60" in watch_notify.line(row)


def test_a_group_lifted_only_by_a_runaway_user_is_that_users_event() -> None:
    """The team is above its band only through its runaway user: one event (the user's line names the team), not two;
    a user whose excess does not account for the team's leaves the team a finding of its own."""
    spike = dt.date(2026, 10, 14)
    team = watch.series_findings(_series(spike=spike), [spike], level="team")  # ~+1,700 credits over its usual
    members = pl.DataFrame({"level": "team", "unit": "Platform", "day": [spike], "user_login": "runaway"})
    for extra, events in ((2000.0, 1), (400.0, 2)):
        user = watch.user_findings(_user_days("runaway", [60.0] * 13 + [60.0 + extra] + [60.0] * 7), [spike])
        linked = watch.link(team + user, members)
        assert watch.events(linked.frame) == events
        lines = watch_notify.lines(linked.frame)
        assert len(lines) == events
        lifted = "; this runaway's credits alone put team Platform above the usual band"
        assert (lifted in lines[-1]) == (events == 1), lines


def test_leadership_sees_users_as_a_count_and_no_small_group() -> None:
    users = watch.user_findings(_user_days("simdev-00001", [60.0] * 20 + [2400.0]), [dt.date(2026, 10, 21)])
    teams = watch.series_findings(
        _series(spike=dt.date(2026, 10, 14)).with_columns(users=pl.lit(3, dtype=pl.UInt32)),
        [dt.date(2026, 10, 14)],
        level="team",
    )
    lead = watch.for_audience(users + teams, Audience("leadership", 5))
    assert lead.frame["level"].to_list() == ["users"] and lead.frame["users"].to_list() == [1]
    assert lead.frame["user_login"].null_count() == 1
    assert "1 finding(s) for groups of fewer than 5 active users are not shown." in lead.notes
    analyst = watch.for_audience(users + teams, Audience("analyst", 3))
    assert sorted(analyst.frame["level"].to_list()) == ["team", "user"]
    assert analyst.frame["user_login"].drop_nulls().to_list() == ["simdev-00001"]


def test_hostile_names_are_escaped_for_slack_and_teams() -> None:
    name = "<!channel> R&D @here <https://evil.example|click>\nfake line"
    text = watch_notify.escape(name)
    assert "<" not in text and ">" not in text and "\n" not in text
    assert "&amp;" in text and "&lt;!channel&gt;" in text
    assert "@here" not in text and "@\u200bhere" in text


def test_the_simulator_plants_a_spike_on_one_user_day_only() -> None:
    plain, spiked = small_tenant(), small_tenant(spike=(SPIKE_USER, SPIKE_DAY, 20.0))
    u = int(np.flatnonzero(plain.login == SPIKE_USER)[0])

    def per_user(t: Any, day: dt.date) -> pl.DataFrame:
        return t.user_credits(day).group_by("u").agg(pl.col("credits").sum()).sort("u")

    before, after = per_user(plain, SPIKE_DAY), per_user(spiked, SPIKE_DAY)
    assert after.filter(pl.col("u") == u)["credits"].item() == pytest.approx(
        20 * before.filter(pl.col("u") == u)["credits"].item()
    )
    assert_frame_equal(after.filter(pl.col("u") != u), before.filter(pl.col("u") != u), check_exact=False)
    eve = SPIKE_DAY - dt.timedelta(days=1)
    assert_frame_equal(per_user(spiked, eve), per_user(plain, eve), check_exact=False)


# ---------------------------------------------------------------------- the command against a simulated cache
@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """45 days of an 80-user enterprise whose user simdev-00056 uses 20× their credits on 2026-11-20."""
    data_dir = tmp_path_factory.mktemp("watch")
    sim = Simulator(small_tenant(spike=(SPIKE_USER, SPIKE_DAY, 20.0)), SimConfig(shard_rows=200))
    with running(sim) as served:

        async def go() -> Any:
            async with GitHub(served.base_url, token=served.token, billing_token=served.billing_token) as gh:
                families = ["users", "user-teams", "teams", "seats", "cost-centers"]
                return await fetch(
                    gh, data_dir, [Scope("enterprise", served.enterprise)], today=TODAY, families=families
                )

        assert asyncio.run(go()).failed == 0
    builder.build(data_dir)
    return data_dir


class Receiver:
    """An incoming webhook on 127.0.0.1: records each JSON body; answers ``status`` after ``delay`` seconds."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status, self.delay = 200, 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(receiver.delay)
                if receiver.status == 200:
                    receiver.bodies.append(body)
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # type: ignore[method-assign]  # the hung answer's broken pipe
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/secret"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _watch(cache: Path, out: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["watch", "--data-dir", str(cache), "--out", str(out), *args])


@pytest.mark.slow
def test_watch_prints_posts_and_writes_the_planted_spike_once(cache: Path, tmp_path: Path, receiver: Receiver) -> None:
    first = _watch(cache, tmp_path, "--webhook", receiver.url)
    assert first.exit_code == 3, first.output
    spike_lines = [line for line in first.stdout.splitlines() if "2026-11-20" in line]
    assert any("1 user(s) far above their own baseline" in line for line in spike_lines)
    assert any("cost centre Data & ML" in line for line in spike_lines)
    assert SPIKE_USER not in first.stdout  # leadership by default
    assert len(receiver.bodies) == 1
    text = receiver.bodies[0]["text"]
    assert "2026-11-20" in text and "Data &amp; ML" in text and "simdev-" not in text
    assert "secret" not in first.output  # the webhook URL is never printed
    saved = json.loads((tmp_path / "watch" / "enterprise-octo-sim_2026-11-20.json").read_text())
    assert {f["level"] for f in saved["findings"]} >= {"scope", "cost_centre", "users"}
    state = json.loads((tmp_path / "watch" / "state.json").read_text())
    assert state[SCOPE] == {"through": "2026-11-24", "unsent": []}

    second = _watch(cache, tmp_path, "--webhook", receiver.url)
    assert second.exit_code == 0, second.output
    assert "no new day since the last run (data through 2026-11-24)" in second.stdout
    assert len(receiver.bodies) == 1

    again = _watch(cache, tmp_path, "--webhook", receiver.url, "--since", "2026-11-18")  # days already reported
    assert again.exit_code == 3 and "2026-11-20" in again.stdout
    assert len(receiver.bodies) == 1


@pytest.mark.slow
def test_the_analyst_sees_the_user_and_the_team(cache: Path, tmp_path: Path) -> None:
    out = _watch(cache, tmp_path, "--audience", "analyst", "--k-min", "1", "--since", "2026-11-20")
    assert out.exit_code == 3, out.output
    day = [line for line in out.stdout.splitlines() if "2026-11-20" in line]
    assert any(f"user {SPIKE_USER}: " in line and "their baseline" in line for line in day)
    assert any(" team " in line and "above the usual" in line for line in day)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "delay", "why"), [(500, 0.0, "answered 500"), (200, 3.0, "did not answer within 0.5 s")]
)
def test_a_failed_post_keeps_the_findings_and_the_next_run_sends_them(
    cache: Path, tmp_path: Path, receiver: Receiver, status: int, delay: float, why: str
) -> None:
    receiver.status, receiver.delay = status, delay
    failed = _watch(cache, tmp_path, "--webhook", receiver.url, "--timeout", "0.5")
    assert failed.exit_code == 1
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and why in errors[0] and "Traceback" not in failed.output
    assert "kept in" in errors[0] and "posted next run" in errors[0]
    assert "2026-11-20" in failed.stdout  # printed all the same
    state = json.loads((tmp_path / "watch" / "state.json").read_text())
    assert "2026-11-20" in state[SCOPE]["unsent"]

    receiver.status, receiver.delay = 200, 0.0
    retry = _watch(cache, tmp_path, "--webhook", receiver.url)
    assert retry.exit_code == 3, retry.output
    assert len(receiver.bodies) == 1 and "2026-11-20" in receiver.bodies[0]["text"]
    assert json.loads((tmp_path / "watch" / "state.json").read_text())[SCOPE]["unsent"] == []

    quiet = _watch(cache, tmp_path, "--webhook", receiver.url)
    assert quiet.exit_code == 0 and len(receiver.bodies) == 1


@pytest.mark.slow
def test_bad_input_is_one_line(cache: Path, tmp_path: Path) -> None:
    unknown = _watch(cache, tmp_path, "--scope", "org:nope")
    assert unknown.exit_code == 1 and "no complete users-1-day data for org:nope" in unknown.stderr
    empty = _watch(tmp_path / "nothing", tmp_path)
    assert empty.exit_code == 1 and "no processed data under" in empty.stderr
    assert "Traceback" not in unknown.output + empty.output


@pytest.mark.slow
def test_the_trends_section_shows_the_spike_by_audience(cache: Path) -> None:
    from copilot_usage.report import Report, trends

    start, end = dt.date(2026, 10, 11), dt.date(2026, 11, 24)
    health = day_health(cache, scope=SCOPE, start=start, end=end)

    def unusual(audience: Audience) -> Any:
        return trends.unusual(Report("t", cache, SCOPE, start, end, audience=audience, health=health))

    lead = unusual(Audience("leadership", 5))
    (table,) = lead.tables
    spike = table.frame.filter(pl.col("day") == SPIKE_DAY)
    assert {"scope", "cost_centre", "users"} <= set(spike["level"].to_list())
    assert "user" not in table.frame["level"].to_list() and table.frame["user_login"].null_count() == table.frame.height
    # the scope and the cost centre are above their band only through the runaway: one event, the user's
    assert set(spike.filter(pl.col("level") != "users")["explained_by"].to_list()) == {1}, [
        (r["level"], r["unit"], r["credits"], r["high"], r["excess_credits"], r["explained_by"])
        for r in spike.to_dicts()
    ]
    events = table.frame.filter(pl.col("explained_by").is_null()).height
    assert lead.summary()["findings"] == events < table.frame.height and "unusual finding(s)" in lead.sentences[0]
    analyst = unusual(Audience("analyst", 1))
    rows = analyst.tables[0].frame.filter(pl.col("day") == SPIKE_DAY)
    assert SPIKE_USER in rows["user_login"].to_list() and "team" in rows["level"].to_list()


def test_the_demo_plants_a_runaway_on_an_ordinary_active_user() -> None:
    """The demo's spike (what `copilot-usage demo` shows the watch catching): a weekday of the last week, a user
    active that day with the median credits, × the demo's factor."""
    from copilot_usage.demo import SPIKE_FACTOR, demo_spike

    tenant = small_tenant()
    login, day, factor = demo_spike(tenant)
    assert day.weekday() < 5 and tenant.newest - dt.timedelta(days=7) <= day <= tenant.newest
    per_user = tenant.user_credits(day).group_by("u").agg(pl.col("credits").sum())
    u = int(np.flatnonzero(tenant.login == login)[0])
    mine = per_user.filter(pl.col("u") == u)["credits"].item()
    active = per_user.filter(pl.col("credits") > 0)["credits"]
    assert mine > 0 and factor == SPIKE_FACTOR
    assert (active < mine).sum() <= active.len() // 2 <= (active <= mine).sum()  # the median user


# ---------------------------------------------------------------------- the demo's tenant, quiet and with a runaway
def _tenant_findings(spike: bool) -> tuple[watch.Findings, tuple[str, dt.date, float]]:
    """The watch on the last 7 days of a 200-user version of the demo's tenant (seed 7), straight from the simulated
    credits (no fetch): the scope, each organisation as a unit (a stand-in for cost centres) and the users."""
    from copilot_usage.demo import demo_spike
    from copilot_usage.simulate.tenant import Tenant

    args: dict[str, Any] = {"seed": 7, "users": 200, "days": 70, "today": dt.date(2026, 12, 6)}
    planted = demo_spike(Tenant(**args))
    tenant = Tenant(**args, spike=planted if spike else None)
    fetched = pl.date_range(tenant.start, tenant.newest, eager=True)
    usage = pl.concat(
        tenant.user_credits(day)
        .group_by("u")
        .agg(ai_credits_used=pl.col("credits").sum())
        .with_columns(day=pl.lit(day))
        for day in fetched
    ).select(
        "day",
        user_id=pl.col("u").replace_strict(np.arange(tenant.login.size), tenant.user_id),
        user_login=pl.col("u").replace_strict(np.arange(tenant.login.size), tenant.login),
        unit=pl.col("u").replace_strict(np.arange(tenant.login.size), np.array(tenant.org_names)[tenant.primary_org]),
        ai_credits_used="ai_credits_used",
    )
    days = fetched.tail(7)
    heavy = watch.heavy_user_day(usage)
    found = watch.series_findings(
        watch.daily_series(usage.with_columns(unit=pl.lit(SCOPE)), fetched), days, level="scope", min_half_width=heavy
    )
    found += watch.series_findings(watch.daily_series(usage, fetched), days, level="cost_centre", min_half_width=heavy)
    users = watch.user_findings(usage, days)
    members = pl.concat(
        [
            usage.select("day", "user_login", level=pl.lit("scope"), unit=pl.lit(SCOPE)),
            usage.select("day", "user_login", level=pl.lit("cost_centre"), unit="unit"),
        ]
    )
    return watch.link(found + users, members), planted


def test_the_demo_tenant_without_a_spike_gives_no_finding_and_its_runaway_is_one_event() -> None:
    """Issue 26 §3 on the demo's tenant: a quiet week flags nothing (the median ± MAD band flagged 5 unit-days here),
    and the planted runaway is found once: the user, with the groups its credits alone lift linked to it."""
    quiet, _ = _tenant_findings(spike=False)
    assert quiet.frame.height == 0, quiet.frame
    found, (login, day, _) = _tenant_findings(spike=True)
    user = found.frame.filter(pl.col("level") == "user")
    assert user.select("user_login", "day").rows() == [(login, day)]
    groups = found.frame.filter(pl.col("level") != "user")
    assert groups.height == 0 or set(groups["explained_by"].to_list()) == {1}
    assert watch.events(found.frame) == 1
    (line,) = watch_notify.lines(found.frame)  # one line for the event; the groups it lifts are named on it
    assert line.startswith(f"{day} user {login}: ")
    assert groups.height == 0 or "credits alone put" in line


def test_a_cost_centre_created_mid_window_is_not_a_jump_from_zero() -> None:
    """A unit's series starts on its first day with rows: a cost centre created ten days ago has too little history
    for a band (a note says so), not four weeks of zeros that make its first ordinary day a runaway."""
    old = _series().with_columns(unit=pl.lit("Engineering"))
    new = _series(seed=2).filter(pl.col("day") >= dt.date(2026, 10, 22)).with_columns(unit=pl.lit("Research"))
    rows = pl.concat([old, new]).select(
        "day", "unit", user_id=pl.lit(1), ai_credits_used="credits"
    )  # one user-day per unit and day is enough for daily_series
    series = watch.daily_series(rows, old["day"])
    assert series.filter(pl.col("unit") == "Research")["day"].min() == dt.date(2026, 10, 22)
    found = watch.series_findings(series, old["day"].tail(7), level="cost_centre")
    assert found.frame.height == 0
    assert [n for n in found.notes if n.startswith("cost centre Research: no finding for 2026-10-25 … 2026-10-31")]
