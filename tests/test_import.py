"""`copilot-usage import`: every documented shape lands in the raw store and builds like fetched data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from copilot_usage import catalog
from copilot_usage.cache import builder, read
from copilot_usage.cache.status import status_table
from copilot_usage.cli import main
from copilot_usage.errors import InputError
from copilot_usage.ingest import rawstore
from copilot_usage.ingest.importer import import_file
from copilot_usage.report import Report

GH = FIXTURES / "github"


def test_official_examples_import_and_build(tmp_path: Path) -> None:
    data = tmp_path / "data"
    users = import_file(GH / "github-docs_example-schema_user-level.json", data)
    ent = import_file(GH / "github-docs_example-schema_enterprise-level.json", data)
    teams = import_file(GH / "github-docs_team-level_organization_user_teams_1_day.ndjson", data)
    assert users.stored == [("enterprise:id-1", "users-1-day", "2025-10-01", "fetched")]
    assert {s for s, *_ in ent.stored} == {"enterprise:id-1", "enterprise:id-2"}
    assert teams.stored == [("org:id-999", "user-teams-1-day", "2026-05-07", "fetched")]
    builder.build(data)
    ud = read.scan_user_day(data).collect()
    assert ud.height == 1 and ud["ai_credits_used"].to_list() == [None]
    assert read.scan(data, "user_team_day").collect().height == 3
    assert read.scan_aggregate_day(data, scope="enterprise:id-2").collect()["daily_active_users"].to_list() == [2]
    # importing the same file again adds nothing
    assert import_file(GH / "github-docs_example-schema_user-level.json", data).stored[0][3] == "unchanged"


def test_bom_array_and_scope_override(tmp_path: Path) -> None:
    rows = [
        {"day": f"2026-11-0{d}", "user_id": 7, "user_login": "x", "enterprise_id": "1", "ai_credits_used": 2.5}
        for d in (1, 2)
    ]
    f = tmp_path / "export.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(rows).encode())
    result = import_file(f, tmp_path / "data", scope=catalog.Scope("enterprise", "acme"))
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
    builder.build(data)
    ud = read.scan_user_day(data).collect()
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
        data, catalog.Scope("org", "id-5"), "users-1-day", "2026-10-12", body, ext="ndjson",
        provenance={"endpoint": "/orgs/x/copilot/metrics/reports/users-1-day"},
    )  # fmt: skip
    builder.build(data)
    ud = read.scan_user_day(data).collect()
    assert ud.filter(pl.col("day") == dt.date(2026, 10, 12))["user_id"].sort().to_list() == [1, 2]
    assert ud.height == 27 * 4 + 2


def test_late_corrections_are_recorded_and_reported(tmp_path: Path) -> None:
    """A newer version that drops users or changes credits is a late correction: in the table, in status."""
    data = tmp_path / "data"
    import_file(_ndjson(tmp_path / "month.ndjson", _user_rows(DAYS_28, [1, 2, 3, 4])), data)
    newer = _user_rows(["2026-10-11"], [1, 5])
    newer[0]["ai_credits_used"] = 9.5
    import_file(_ndjson(tmp_path / "partial.ndjson", newer), data)  # user 1 changed, user 5 added
    body = "".join(json.dumps(r) + "\n" for r in _user_rows(["2026-10-12"], [1, 2])).encode()
    rawstore.put_bytes(
        data, catalog.Scope("org", "id-5"), "users-1-day", "2026-10-12", body, ext="ndjson",
        provenance={"endpoint": "/orgs/x/copilot/metrics/reports/users-1-day"},
    )  # fmt: skip
    import_file(_ndjson(tmp_path / "same.ndjson", _user_rows(["2026-10-13"], [4])), data)  # identical: no change
    builder.build(data)
    late = read.scan(data, "late_corrections").collect().sort("day")
    assert late.select("day", "report", "source").rows() == [
        ("2026-10-11", "users-1-day", "import"),
        ("2026-10-12", "users-1-day", "fetch"),
    ]
    first, second = late.to_dicts()
    assert (first["users_added"], first["users_removed"], first["users_changed"]) == (1, 0, 1)
    assert (first["credits_before"], first["credits_after"]) == (10.0, 10.0 - 1 + 9.5 + 5)
    assert (second["users_before"], second["users_after"], second["users_removed"]) == (4, 2, 2)
    assert (second["credits_before"], second["credits_after"]) == (10.0, 3.0)
    status = status_table(data).row(0, named=True)
    assert status["report"] == "users-1-day" and status["late_corrections"] == 2
    out = CliRunner().invoke(main, ["status", "--data-dir", str(data)])
    assert out.exit_code == 0 and "late" in out.output


def test_quarantine_of_one_report_survives_another_report_of_the_same_month(tmp_path: Path) -> None:
    data = tmp_path / "data"
    scope = catalog.Scope("org", "id-5")
    users = (json.dumps(_user_rows(["2026-10-01"], [1])[0]) + "\n{oops\n").encode()
    rawstore.put_bytes(data, scope, "users-1-day", "2026-10-01", users, ext="ndjson", provenance={})
    agg = json.dumps({"day": "2026-10-01", "organization_id": "5", "daily_active_users": 1}).encode()
    rawstore.put_bytes(data, scope, "aggregate-1-day", "2026-10-01", agg, ext="json", provenance={})
    builder.build(data)
    q = read.scan(data, "quarantine").collect()
    assert q.select("report", "line").rows() == [("users-1-day", 2)]
    assert status_table(data).filter(pl.col("report") == "users-1-day")["quarantined_lines"].to_list() == [1]


def test_data_notes_name_late_corrections(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_file(_ndjson(tmp_path / "month.ndjson", _user_rows(DAYS_28, [1, 2, 3, 4])), data)
    body = "".join(json.dumps(r) + "\n" for r in _user_rows(["2026-10-12"], [1, 2])).encode()
    rawstore.put_bytes(
        data, catalog.Scope("org", "id-5"), "users-1-day", "2026-10-12", body, ext="ndjson",
        provenance={"endpoint": "/orgs/x/copilot/metrics/reports/users-1-day"},
    )  # fmt: skip
    builder.build(data)
    notes = Report("t", data, "org:id-5", dt.date(2026, 10, 1), dt.date(2026, 10, 28)).notes()
    said = " ".join(notes.corrections)
    assert "Late correction 2026-10-12 (users-1-day, fetched" in said
    assert "2 user(s) removed" in said and "credits 10.0 → 3.0" in said
    assert notes.summary["late_corrections"] == 1


def test_user_teams_imports_merge_per_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    row = {"day": "2026-10-01", "organization_id": "5", "user_login": "u"}
    older = [
        {**row, "user_id": 1, "team_id": 10},
        {**row, "user_id": 1, "team_id": 11},
        {**row, "user_id": 2, "team_id": 10},
    ]
    import_file(_ndjson(tmp_path / "a.ndjson", older), data)
    import_file(_ndjson(tmp_path / "b.ndjson", [{**row, "user_id": 1, "team_id": 10}]), data)
    builder.build(data)
    teams = read.scan(data, "user_team_day").collect().sort("user_id", "team_id")
    assert teams.select("user_id", "team_id").rows() == [(1, 10), (2, 10)]
    late = read.scan(data, "late_corrections").collect()
    assert late.select("report", "users_changed", "credits_before").rows() == [("user-teams-1-day", 1, None)]
