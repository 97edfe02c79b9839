"""`copilot-usage import`: every documented shape lands in the raw store and builds like fetched data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from copilot_usage import store
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
