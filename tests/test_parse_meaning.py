"""Parse by meaning, never overwrite or drop (issue 13 §7): peer-written shapes (fixtures/peer/SOURCES.txt)."""

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
from copilot_usage.cache.parse import parse_rows
from copilot_usage.cache.status import side_table, status_table
from copilot_usage.cli import main
from copilot_usage.errors import InputError
from copilot_usage.ingest import rawstore
from copilot_usage.ingest.importer import detect_report, import_file

PEER = FIXTURES / "peer"
DAY = dt.date(2026, 10, 5)


def test_repo_records_never_pass_for_an_aggregate_day(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_file(PEER / "organization-1-day_2026-10-05.json", data)
    repos = import_file(PEER / "repos-1-day_repo-keys.ndjson", data)
    assert repos.stored == [("org:id-4242", "repos-1-day", "2026-10-05", "fetched")]
    with pytest.raises(InputError, match="a repos-1-day record, not aggregate-1-day"):
        import_file(PEER / "repos-1-day_repo-keys.ndjson", data, report="aggregate-1-day")
    builder.build(data)
    agg = read.scan_aggregate_day(data).collect()
    assert agg.select("daily_active_users", "code_generation_activity_count").rows() == [(7, 50)]
    rows = read.scan_repo_day(data).collect().sort("repository_id")
    assert rows.select("repository_id", "repository_name", "repository_owner_name", "repository_visibility").rows() == [
        (9001, "octo/api", "octo", "private"),
        (9002, "octo/web", "octo", "internal"),
    ]
    assert rows["pr_total_created"].to_list() == [2, 1] and not any(c.startswith("repo_") for c in rows.columns)


def test_repo_rows_are_keyed_on_id_or_name_under_either_spelling(tmp_path: Path) -> None:
    data = tmp_path / "data"
    import_file(PEER / "repos-1-day_repo-keys.ndjson", data, report="repos-1-day")
    import_file(PEER / "repos-1-day_mixed-spellings.ndjson", data, report="repos-1-day")
    builder.build(data)
    rows = read.scan_repo_day(data).collect()
    assert rows.group_by("day").len().sort("day")["len"].to_list() == [2, 2]
    day6 = rows.filter(pl.col("day") == dt.date(2026, 10, 6)).sort("repository_name")
    assert day6.select("repository_id", "repository_name", "repository_visibility").rows() == [
        (9001, "octo/api", None),
        (None, "octo/docs", "public"),
    ]
    assert detect_report({"repo_name": "x", "pull_requests": {}}) == "repos-1-day"


def test_a_numeric_organization_id_is_read_as_a_string_id(tmp_path: Path) -> None:
    parsed = parse_rows((PEER / "users-1-day_numeric-organization-id.ndjson").read_bytes(), "users", "peer")
    assert parsed.quarantine == [] and parsed.frame["organization_id"].to_list() == ["4242"] * 3
    assert parsed.unknown_fields == ["organization_id (coerced to string)"]
    data = tmp_path / "data"
    out = CliRunner().invoke(
        main, ["import", str(PEER / "users-1-day_numeric-organization-id.ndjson"), "--data-dir", str(data)]
    )
    assert out.exit_code == 0, out.output
    builder.build(data)
    ud = read.scan_user_day(data).collect()
    assert ud.height == 3 and ud["ai_credits_used"].sum() == 22.75
    assert side_table(data, "quarantine").height == 0


def test_a_type_difference_in_one_field_never_discards_the_row() -> None:
    rows = [
        {"day": "2026-10-05", "user_id": "11", "user_login": "a", "ai_credits_used": "2.5"},
        {"day": "2026-10-05", "user_id": 12, "user_login": "b", "ai_adoption_phase": "explorer"},
    ]
    parsed = parse_rows("".join(json.dumps(r) + "\n" for r in rows).encode(), "users", "peer.ndjson")
    assert parsed.quarantine == []
    assert parsed.frame.select("user_id", "ai_credits_used", "ai_adoption_phase").rows() == [
        (11, 2.5, None),
        (12, None, None),
    ]
    assert "ai_adoption_phase (unreadable value set to null, peer.ndjson line 2)" in parsed.unknown_fields


def test_a_file_whose_rows_all_end_in_quarantine_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "all-negative.ndjson"
    row = {"day": "2026-10-05", "organization_id": "1", "user_login": "a", "loc_added_sum": -3}
    f.write_text("".join(json.dumps({**row, "user_id": u}) + "\n" for u in (1, 2)))
    out = CliRunner().invoke(main, ["import", str(f), "--data-dir", str(tmp_path / "data")])
    assert out.exit_code == 1 and "nothing could be imported" in out.output and "new" not in out.output
    assert "line 1: negative value in loc_added_sum" in out.output
    assert not rawstore.slots(tmp_path / "data", "users-1-day")


def test_negative_counts_are_quarantined_with_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = CliRunner().invoke(
        main, ["import", str(PEER / "users-1-day_negative-counts.ndjson"), "--data-dir", str(data)]
    )
    assert out.exit_code == 1  # lines were rejected: said, and the status is not success
    assert "line 2: negative value in code_generation_activity_count" in out.output
    assert "line 3: negative value in totals_by_feature[].loc_added_sum" in out.output
    # the same rows fetched (not imported) are quarantined by the build, with file and line
    body = (PEER / "users-1-day_negative-counts.ndjson").read_bytes()
    rawstore.put_bytes(data, catalog.Scope("org", "id-4242"), "users-1-day", "2026-10-05", body, ext="ndjson",
                       provenance={"endpoint": "/orgs/o/copilot/metrics/reports/users-1-day"})  # fmt: skip
    built = CliRunner().invoke(main, ["build", "--data-dir", str(data)])
    assert built.exit_code == 0 and "note: 2 line(s) quarantined" in built.output
    assert read.scan_user_day(data).collect()["user_id"].to_list() == [11]
    q = read.scan(data, "quarantine").collect().sort("line")
    assert q["line"].to_list() == [2, 3] and q["file"].str.ends_with(".ndjson").all()
    assert status_table(data).filter(pl.col("report") == "users-1-day")["quarantined_lines"].to_list() == [2]


@pytest.mark.parametrize("body", [b"", b"\n", b"\xef\xbb\xbf", b"  \r\n"])
def test_an_empty_report_file_is_zero_rows_not_a_bad_file(body: bytes) -> None:
    """A users-1-day file for a day nobody used Copilot is empty: no rows, nothing quarantined."""
    parsed = parse_rows(body, "users", "users-1-day/2026-09-12.ndjson")
    assert parsed.table.num_rows == 0 and parsed.quarantine == []
