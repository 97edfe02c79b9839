"""One bad raw file never blocks later work: ``build`` leaves out (quarantines) what it cannot read, with its path and
reason, builds everything else, and ``status`` and the reports' data notes name it (issue 24, "one bad file")."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from conftest import small_tenant
from copilot_usage.cache import read
from copilot_usage.cache.status import correction_notes, quarantined_files
from copilot_usage.catalog import Scope
from copilot_usage.cli import main
from copilot_usage.ingest import rawstore
from copilot_usage.simulate.app import SimConfig, Simulator
from test_fetch_build import _run

ENT = Scope("enterprise", "octo-sim")


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few days fetched from the simulator into raw (not built)."""
    data_dir = tmp_path_factory.mktemp("fetched")
    summary = _run(Simulator(small_tenant(), SimConfig(shard_rows=20)), data_dir, since=dt.date(2026, 11, 20))
    assert summary.failed == 0, summary.errors
    return data_dir


@pytest.fixture
def data_dir(fetched: Path, tmp_path: Path) -> Path:
    shutil.copytree(fetched, tmp_path / "data")
    return tmp_path / "data"


def _build(data_dir: Path) -> str:
    result = CliRunner().invoke(main, ["build", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return result.output


def _put(data_dir: Path, report: str, key: str, body: bytes, ext: str = "json") -> Path:
    return rawstore.put_bytes(data_dir, ENT, report, key, body, ext=ext, provenance={"endpoint": "test"})[1]


def _users_line(data_dir: Path) -> dict[str, object]:
    f = next((rawstore.raw_root(data_dir) / "enterprise=octo-sim" / "users-1-day").glob("*/*.ndjson"))
    return json.loads(f.read_bytes().splitlines()[0])


def test_a_folder_that_is_not_a_day_is_quarantined_and_every_build_still_runs(data_dir: Path) -> None:
    rec = {**_users_line(data_dir), "day": "2026-13-45"}
    bad = _put(data_dir, "users-1-day", "2026-13-45", json.dumps(rec).encode() + b"\n", "ndjson")
    output = _build(data_dir)
    assert "quarantined file: raw/enterprise=octo-sim/users-1-day/2026-13-45/" in output
    assert "not a day" in output
    days = read.scan(data_dir, "user_day", scope=str(ENT)).select("day").unique().collect()
    assert days.height >= 5  # the good days are all built
    files = quarantined_files(data_dir)
    assert files["file"].to_list() == ["/".join(bad.parts[-4:])]
    _build(data_dir)  # and the next build too
    status = CliRunner().invoke(main, ["status", "--data-dir", str(data_dir)])
    assert status.exit_code == 0, status.output
    assert "2026-13-45" in status.output


def test_a_row_whose_day_is_not_a_date_is_quarantined_and_its_file_kept(data_dir: Path) -> None:
    folder = next((rawstore.raw_root(data_dir) / "enterprise=octo-sim" / "users-1-day").glob("2026-11-2*"))
    good = rawstore.newest(folder)
    assert good is not None
    lines = good.path.read_bytes().splitlines()
    first = json.loads(lines[0])
    body = b"\n".join([json.dumps({**first, "day": "2026-02-30"}).encode(), *lines[1:]]) + b"\n"
    _put(data_dir, "users-1-day", folder.name, body, "ndjson")
    _build(data_dir)
    rows = read.scan(data_dir, "user_day", scope=str(ENT), start=folder.name, end=folder.name).collect()
    assert rows.height == len(lines) - 1
    q = read.scan(data_dir, "quarantine", scope=str(ENT)).collect()
    assert q.filter(pl.col("reason").str.contains("'2026-02-30' is not a date")).height == 1


@pytest.mark.parametrize(
    "body", [b"<html><body>Sign in to the proxy</body></html>", b"", b"[1, 2"], ids=["html", "empty", "cut"]
)
def test_a_seats_snapshot_that_is_not_json_leaves_the_others_built(data_dir: Path, body: bytes) -> None:
    good_day = next((rawstore.raw_root(data_dir) / "enterprise=octo-sim" / "seats").iterdir()).name
    _put(data_dir, "seats", "2026-11-27", body)
    output = _build(data_dir)
    assert "quarantined file: raw/enterprise=octo-sim/seats/2026-11-27/" in output
    seats = read.scan(data_dir, "seats", scope=str(ENT)).collect()
    assert seats["snapshot_day"].unique().to_list() == [dt.date.fromisoformat(good_day)]
    # a good snapshot arriving later is built beside the old one; the bad one stays out and named
    later = rawstore.newest(rawstore.slot(data_dir, ENT, "seats", good_day))
    assert later is not None
    _put(data_dir, "seats", "2026-11-28", later.path.read_bytes())
    _build(data_dir)
    days = read.scan(data_dir, "seats", scope=str(ENT)).collect()["snapshot_day"].unique().sort().to_list()
    assert [d.isoformat() for d in days] == [good_day, "2026-11-28"]
    assert quarantined_files(data_dir)["day"].to_list() == ["2026-11-27"]


def test_a_bad_newer_version_of_a_snapshot_falls_back_to_the_one_before(data_dir: Path) -> None:
    key = next((rawstore.raw_root(data_dir) / "enterprise=octo-sim" / "teams").iterdir()).name
    _build(data_dir)
    before = read.scan(data_dir, "team_members", scope=str(ENT)).collect().sort(pl.all())
    _put(data_dir, "teams", key, b"")
    output = _build(data_dir)
    assert "body is empty" in output
    after = read.scan(data_dir, "team_members", scope=str(ENT)).collect().sort(pl.all())
    assert after.equals(before)


def test_a_snapshot_of_the_wrong_shape_is_left_out_by_name(data_dir: Path) -> None:
    _put(data_dir, "billing", "2026-11-27", json.dumps({"usageItems": "not a list"}).encode())
    _put(data_dir, "budgets", "2026-11-27", json.dumps([["not", "budgets"]]).encode())
    output = _build(data_dir)
    assert "raw/enterprise=octo-sim/billing/2026-11-27/" in output
    assert "raw/enterprise=octo-sim/budgets/2026-11-27/" in output
    assert read.scan(data_dir, "billing_ai_credit").collect().height > 0
    assert read.scan(data_dir, "budgets").collect().height > 0


def test_the_data_notes_name_a_quarantined_file(data_dir: Path) -> None:
    _put(data_dir, "seats", "2026-11-27", b"<html>proxy</html>")
    _build(data_dir)
    notes = correction_notes(data_dir, scope=str(ENT), start=dt.date(2026, 11, 20), end=dt.date(2026, 11, 26))
    assert any("could not be read" in n and "seats/2026-11-27" in n and "HTML" in n for n in notes), notes


def test_a_roster_in_which_no_seat_has_a_pending_cancellation_builds_typed(data_dir: Path) -> None:
    """An all-null field (no seat pending cancellation, no assigning team) is typed, not inferred as Null."""
    key = next((rawstore.raw_root(data_dir) / "enterprise=octo-sim" / "seats").iterdir()).name
    snapshot = rawstore.newest(rawstore.slot(data_dir, ENT, "seats", key))
    assert snapshot is not None
    pages = json.loads(snapshot.path.read_bytes())
    for page in pages:
        for seat in page["seats"]:
            seat["pending_cancellation_date"] = None
            seat["assigning_team"] = None
    _put(data_dir, "seats", key, json.dumps(pages).encode())  # the roster's only snapshot, as a newer version
    output = _build(data_dir)
    assert "quarantined file" not in output
    seats = read.scan(data_dir, "seats", scope=str(ENT)).collect()
    assert seats.schema["pending_cancellation_date"] == pl.Date
    assert seats.height == sum(len(p["seats"]) for p in pages)
