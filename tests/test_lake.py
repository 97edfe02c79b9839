"""The processed tables as Delta Lake tables on a local folder (issue 29 §3): migration from the plain-Parquet
layout, an interrupted build, two builds at once, time travel."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from copilot_usage.cache import builder, lake, read
from copilot_usage.cli import main


def _cache(tmp_path: Path, days: int = 3) -> Path:
    """A data dir with a few imported user days of two months, built."""
    rows = [
        {"day": f"2026-{m}-{d:02d}", "organization_id": "5", "user_id": u, "user_login": f"u{u}", "ai_credits_used": u}
        for m in ("10", "11")
        for d in range(1, days + 1)
        for u in (1, 2, 3)
    ]
    src = tmp_path / "in.ndjson"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = tmp_path / "data"
    out = CliRunner().invoke(main, ["import", str(src), "--data-dir", str(data), "--scope", "org:acme"])
    assert out.exit_code == 0, out.output
    return data


def _build(data: Path, *args: str) -> Any:
    out = CliRunner().invoke(main, ["build", "--data-dir", str(data), *args])
    assert out.exit_code == 0, out.output
    return out


def test_a_cache_of_the_plain_parquet_layout_is_rebuilt_from_raw_and_said_once(tmp_path: Path) -> None:
    data = _cache(tmp_path)
    old = data / "processed" / "user_day" / "scope_kind=org" / "scope_slug=acme" / "month=2026-10" / "part.parquet"
    old.parent.mkdir(parents=True)
    pl.DataFrame({"scope": ["org:acme"], "user_id": [99]}).write_parquet(old)  # a row raw does not hold
    (data / "processed" / "_manifest.json").write_text(json.dumps({"_layout": 2}))
    first = _build(data)
    assert "built by an older kit (layout 2)" in first.output and "copilot-usage build --full" in first.output
    assert not old.exists() and (data / "processed" / "user_day" / "_delta_log").is_dir()
    assert sorted(read.scan(data, "user_day").collect()["user_id"].unique()) == [1, 2, 3]
    assert "older kit" not in _build(data).output  # said once


def test_an_interrupted_build_leaves_the_last_version_whole_and_the_next_build_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _cache(tmp_path)
    _build(data)
    before = read.scan(data, "user_day").collect().sort(pl.all())
    version = lake.version(data, "user_day")
    calls = 0
    real = lake.replace

    def dies(*args: Any, **kw: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # killed between two partitions' commits
            raise KeyboardInterrupt
        real(*args, **kw)

    monkeypatch.setattr(lake, "replace", dies)
    with pytest.raises(KeyboardInterrupt):
        builder.build(data, full=True)
    monkeypatch.undo()
    assert read.scan(data, "user_day").collect().sort(pl.all()).equals(before)
    assert read.scan(data, "user_day", version=version).collect().sort(pl.all()).equals(before)
    _build(data)
    assert read.scan(data, "user_day").collect().sort(pl.all()).equals(before)


def test_two_builds_at_once_both_finish_and_a_reader_sees_whole_months(tmp_path: Path) -> None:
    data = _cache(tmp_path, days=8)
    _build(data)
    whole = read.scan(data, "user_day").collect().height
    errors: list[BaseException] = []

    def build() -> None:
        try:
            builder.build(data, full=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    builders = [threading.Thread(target=build) for _ in range(2)]
    for b in builders:
        b.start()
    heights = set()
    while any(b.is_alive() for b in builders):
        heights.add(read.scan(data, "user_day").collect().height)
    for b in builders:
        b.join()
    assert errors == []  # a commit that lost to the other build's is made again
    assert heights <= {whole} and read.scan(data, "user_day").collect().height == whole


def test_scan_returns_the_columns_of_before_without_the_partition_columns(tmp_path: Path) -> None:
    data = _cache(tmp_path)
    _build(data)
    cols = read.scan(data, "user_day").collect_schema().names()
    assert not {"scope_kind", "scope_slug", "month", "written_by"} & set(cols)
    assert {"scope", "day", "user_id", "ai_credits_used"} <= set(cols)
    oct_only = read.scan(data, "user_day", scope="org:acme", start="2026-10-01", end="2026-10-31").collect()
    assert oct_only.height == 9 and oct_only["day"].dt.month().unique().to_list() == [10]


def test_a_build_leaves_each_table_it_wrote_checkpointed_and_time_travel_unchanged(tmp_path: Path) -> None:
    """A reader opens a table from its newest checkpoint plus the entries after it: without one, every opening
    read the whole log, a request per entry on an object store."""
    data = _cache(tmp_path)
    _build(data)
    first = lake.version(data, "user_day")
    log = data / "processed" / "user_day" / "_delta_log"
    assert json.loads((log / "_last_checkpoint").read_text())["version"] == first
    (tmp_path / "more.ndjson").write_text(
        json.dumps({"day": "2026-11-20", "organization_id": "5", "user_id": 4, "user_login": "u4"}) + "\n"
    )
    out = CliRunner().invoke(
        main, ["import", str(tmp_path / "more.ndjson"), "--data-dir", str(data), "--scope", "org:acme"]
    )
    assert out.exit_code == 0, out.output
    _build(data)
    newest = lake.version(data, "user_day")
    assert newest is not None and first is not None and newest > first
    assert json.loads((log / "_last_checkpoint").read_text())["version"] == newest
    assert read.scan(data, "user_day", version=first).collect().height == 18  # the version before, as it was
    assert read.scan(data, "user_day").collect().height == 19
