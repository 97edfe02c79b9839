"""`copilot-usage import`: every documented shape lands in the raw store and builds like fetched data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from copilot_usage import rawstore, store
from copilot_usage.cli import main
from copilot_usage.errors import InputError
from copilot_usage.importer import import_file

GH = FIXTURES / "github"


def test_official_examples_import_and_build(tmp_path: Path) -> None:
    data = tmp_path / "data"
    users = import_file(GH / "github-docs_example-schema_user-level.json", data)
    ent = import_file(GH / "github-docs_example-schema_enterprise-level.json", data)
    teams = import_file(GH / "github-docs_team-level_organization_user_teams_1_day.ndjson", data)
    assert users.stored == [("enterprise:id-1", "users-1-day", "2025-10-01", "fetched")]
    assert {s for s, *_ in ent.stored} == {"enterprise:id-1", "enterprise:id-2"}
    assert teams.stored == [("org:id-999", "user-teams-1-day", "2026-05-07", "fetched")]
    store.build(data)
    ud = store.scan_user_day(data).collect()
    assert ud.height == 1 and ud["ai_credits_used"].to_list() == [None]
    assert store.scan(data, "user_team_day").collect().height == 3
    assert store.scan_aggregate_day(data, scope="enterprise:id-2").collect()["daily_active_users"].to_list() == [2]
    # importing the same file again adds nothing
    assert import_file(GH / "github-docs_example-schema_user-level.json", data).stored[0][3] == "unchanged"


def test_bom_array_and_scope_override(tmp_path: Path) -> None:
    rows = [
        {"day": f"2026-11-0{d}", "user_id": 7, "user_login": "x", "enterprise_id": "1", "ai_credits_used": 2.5}
        for d in (1, 2)
    ]
    f = tmp_path / "export.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(rows).encode())
    result = import_file(f, tmp_path / "data", scope=store.Scope("enterprise", "acme"))
    assert [(s, d) for s, _, d, _ in result.stored] == [
        ("enterprise:acme", "2026-11-01"),
        ("enterprise:acme", "2026-11-02"),
    ]


def test_unplaceable_lines_are_named_and_the_rest_kept(tmp_path: Path) -> None:
    f = tmp_path / "mixed.ndjson"
    good = {"day": "2026-11-02", "user_id": 1, "user_login": "a", "organization_id": "5"}
    f.write_text(
        "\n".join(
            [
                json.dumps(good),
                "{oops",
                json.dumps({"day": "2026-11-02", "hello": 1}),
                json.dumps({**good, "user_id": 2}),
            ]
        )
        + "\n"
    )
    result = import_file(f, tmp_path / "data")
    assert result.stored == [("org:id-5", "users-1-day", "2026-11-02", "fetched")]
    assert [r.split(": ")[1] for r in result.rejected] == ["line 2", "line 3"]
    assert str(f) in result.rejected[0]
    bad = tmp_path / "bad.json"
    bad.write_text('{"nothing": "here"}')
    with pytest.raises(InputError, match=r"bad\.json: nothing could be imported"):
        import_file(bad, tmp_path / "data")


def test_cli_import_exit_status(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        main, ["import", str(GH / "github-docs_example-schema_user-level.json"), "--data-dir", str(tmp_path)]
    )
    assert ok.exit_code == 0 and "users-1-day" in ok.output
    f = tmp_path / "broken.ndjson"
    f.write_text("{not json\n")
    bad = runner.invoke(main, ["import", str(f), "--data-dir", str(tmp_path)])
    assert bad.exit_code == 1 and "broken.ndjson" in bad.output


def _user_rows(days: list[str], users: list[int], *, credits: float = 1.0) -> list[dict[str, object]]:
    return [
        {
            "report_start_day": "2026-10-01",
            "report_end_day": "2026-10-28",
            "day": day,
            "organization_id": "5",
            "user_id": u,
            "user_login": f"u{u}",
            "ai_credits_used": credits * u,
            "user_initiated_interaction_count": u,
        }
        for day in days
        for u in users
    ]


def _ndjson(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


DAYS_28 = [f"2026-10-{d:02d}" for d in range(1, 29)]


def test_overlapping_user_exports_merge_per_user_and_day(tmp_path: Path) -> None:
    """A 28-day export, then a smaller overlapping file (3 of each day's 4 users on 4 days, one credit changed):
    no user-day is lost, the newer file's row wins, users missing from it are kept."""
    data = tmp_path / "data"
    import_file(_ndjson(tmp_path / "month.ndjson", _user_rows(DAYS_28, [1, 2, 3, 4])), data)
    newer = _user_rows(DAYS_28[10:14], [1, 2, 3])
    newer[0]["ai_credits_used"] = 9.5  # user 1 on 2026-10-11, corrected
    result = import_file(_ndjson(tmp_path / "partial.ndjson", newer), data)
    assert [st for *_, st in result.stored] == ["changed"] * 4
    store.build(data)
    ud = store.scan_user_day(data).collect()
    assert ud.height == 28 * 4
    day11 = ud.filter(pl.col("day") == dt.date(2026, 10, 11)).sort("user_id")
    assert day11["user_id"].to_list() == [1, 2, 3, 4]
    assert day11["ai_credits_used"].to_list() == [9.5, 2.0, 3.0, 4.0]


def test_a_fetched_day_still_replaces_the_day(tmp_path: Path) -> None:
    """A fetched 1-day report is complete for its day: users it no longer lists are gone (a late correction)."""
    data = tmp_path / "data"
    import_file(_ndjson(tmp_path / "month.ndjson", _user_rows(DAYS_28, [1, 2, 3, 4])), data)
    body = "".join(json.dumps(r) + "\n" for r in _user_rows(["2026-10-12"], [1, 2])).encode()
    rawstore.put_bytes(
        data, store.Scope("org", "id-5"), "users-1-day", "2026-10-12", body, ext="ndjson",
        provenance={"endpoint": "/orgs/x/copilot/metrics/reports/users-1-day"},
    )  # fmt: skip
    store.build(data)
    ud = store.scan_user_day(data).collect()
    assert ud.filter(pl.col("day") == dt.date(2026, 10, 12))["user_id"].sort().to_list() == [1, 2]
    assert ud.height == 27 * 4 + 2
