"""The data dir on an object store (issue 29): a real S3-compatible server (moto's, from PyPI) on loopback, reached
through ``AWS_ENDPOINT_URL`` as the AWS tools reach one, with the kit's own fetch, build, status, reports and
another engine (DuckDB) on ``s3://``."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import obstore
import polars as pl
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from conftest import TODAY, small_tenant
from copilot_usage.cache import builder, lake, read
from copilot_usage.catalog import Scope
from copilot_usage.cli import main
from copilot_usage.errors import StoreError
from copilot_usage.ingest import rawstore
from copilot_usage.simulate.app import SimConfig, Simulator
from copilot_usage.simulate.server import running
from copilot_usage.storage import objstore

SECRET = "loopback-secret-never-stored-9f3e"  # the secret access key: no object, file or output may hold it
SINCE = dt.date(2026, 11, 12)
BUCKET = "org-cache"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """An S3-compatible server on 127.0.0.1 with one bucket; the AWS variables point the kit at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        mp.setenv("AWS_ACCESS_KEY_ID", "AKIALOOPBACKTEST")
        mp.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        mp.setenv("AWS_REGION", "us-east-1")
        objstore._bucket.cache_clear()
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{BUCKET}", method="PUT"))
        yield f"s3://{BUCKET}"
        objstore._bucket.cache_clear()
    server.stop()


def _fetch(served: object, data_dir: str | Path) -> None:
    args = ["fetch", "--enterprise", served.enterprise, "--org", served.orgs[0], "--base-url", served.base_url]  # type: ignore[attr-defined]
    args += ["--data-dir", str(data_dir), "--today", TODAY.isoformat(), "--since", SINCE.isoformat()]
    env = {"GITHUB_TOKEN": served.token, "COPILOT_BILLING_TOKEN": served.billing_token}  # type: ignore[attr-defined]
    out = CliRunner().invoke(main, args, env=env)
    assert out.exit_code == 0, out.output
    assert SECRET not in out.output


@pytest.fixture(scope="module")
def caches(s3: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The same simulated tenant fetched and built twice: into the bucket and into a local folder."""
    url, local = f"{s3}/team-a", tmp_path_factory.mktemp("local")
    for data_dir in (url, local):  # a simulator each: the second fetch does not meet the first's rate limits
        with running(Simulator(small_tenant(), SimConfig(shard_rows=20))) as served:
            _fetch(served, data_dir)
    for data_dir in (url, str(local)):
        out = CliRunner().invoke(main, ["build", "--data-dir", data_dir])
        assert out.exit_code == 0, out.output
    return url, local


def _objects(s3: str) -> list[str]:
    bucket = objstore._bucket("s3:", BUCKET)
    return [o["path"] for batch in obstore.list(bucket) for o in batch]


@pytest.mark.slow  # the module's fetch of two caches: about 30 s, shared
def test_fetch_and_build_on_s3_give_the_tables_of_a_local_folder(caches: tuple[str, Path], s3: str) -> None:
    url, local = caches
    for table in ("user_day", "aggregate_day", "user_team_day", "seats", "data_health", "billing_ai_credit"):
        a = read.scan(url, table).collect().drop("fetched_at", strict=False).sort(pl.all())
        b = read.scan(local, table).collect().drop("fetched_at", strict=False).sort(pl.all())
        assert a.equals(b), table
    keys = _objects(s3)
    assert any(k.startswith("team-a/processed/user_day/_delta_log/") for k in keys)
    assert any(k.startswith("team-a/raw/_fetch_log/") for k in keys)  # one object per run and flush
    assert not any(k.endswith(rawstore.LOCK) for k in keys)  # released
    log = rawstore.read_log(url)
    assert log and {r["status"] for r in log} <= {"fetched", "unchanged", "no_data", "pending", "failed", "changed"}


@pytest.mark.slow  # the module's fetch of two caches: about 30 s, shared
def test_status_prints_each_tables_location_and_version(caches: tuple[str, Path]) -> None:
    url, _ = caches
    out = CliRunner().invoke(main, ["status", "--data-dir", url])
    assert out.exit_code == 0, out.output
    assert f"{url}/processed/user_day" in out.output
    row = next(line for line in out.output.splitlines() if f"{url}/processed/user_day " in line)
    assert str(lake.version(url, "user_day")) in row.split()


def test_two_writers_racing_on_one_raw_object_one_wins_and_nothing_is_replaced(s3: str) -> None:
    url = f"{s3}/race"
    scope = Scope("org", "racers")
    results: dict[int, list[tuple[str, str]]] = {0: [], 1: []}
    for round_ in range(6):
        start = threading.Barrier(2)
        body = json.dumps({"round": round_}).encode()

        def writer(
            n: int, body: bytes = body, start: threading.Barrier = start, key: str = f"2026-11-0{round_ + 1}"
        ) -> None:
            start.wait()
            status, path = rawstore.put_bytes(url, scope, "seats", key, body, ext="json", provenance={"writer": n})
            results[n].append((status, str(path)))

        threads = [threading.Thread(target=writer, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for round_ in range(6):
        statuses = sorted([results[0][round_][0], results[1][round_][0]])
        assert statuses == ["fetched", "unchanged"], statuses  # exactly one stored it
    folder = rawstore.slot(url, scope, "seats", "2026-11-01")
    [version] = rawstore.versions(folder)
    before = (folder / version.path.name).read_bytes(), (folder / f"{version.path.stem}.meta.json").read_bytes()
    # a third writer with other bytes under the same name is refused by the store itself (If-None-Match)
    assert version.path.write_bytes(b'{"replaced": true}', create=True) is False  # type: ignore[call-arg]
    after = (folder / version.path.name).read_bytes(), (folder / f"{version.path.stem}.meta.json").read_bytes()
    assert after == before


@pytest.mark.slow  # the module's fetch of two caches: about 30 s, shared
def test_a_reader_during_a_build_always_sees_one_whole_version(caches: tuple[str, Path]) -> None:
    url, _ = caches
    first = lake.version(url, "user_day")
    assert first is not None
    whole = read.scan(url, "user_day").collect().sort(pl.all())
    seen: set[int | None] = set()
    heights: list[int] = []
    done = threading.Event()

    def rebuild() -> None:
        try:
            builder.build(url, full=True)  # every month's partition replaced again, one transaction each
        finally:
            done.set()

    rebuilding = threading.Thread(target=rebuild)
    rebuilding.start()
    while not done.is_set() or not heights:
        version = lake.version(url, "user_day")
        seen.add(version)
        heights.append(read.scan(url, "user_day", version=version).collect().height)
    rebuilding.join()
    assert set(heights) == {whole.height}  # never half a month
    assert lake.version(url, "user_day") > first  # type: ignore[operator]
    # time travel: the version read before the build, as it was
    assert read.scan(url, "user_day", version=first).collect().sort(pl.all()).equals(whole)


def test_two_fetches_of_one_data_dir_are_kept_apart_and_a_dead_lock_expires(s3: str) -> None:
    url = f"{s3}/locked"
    with rawstore.FetchLock(url), pytest.raises(StoreError, match="another fetch"):
        rawstore.FetchLock(url).__enter__()
    with rawstore.FetchLock(url):  # released: free again
        pass
    stale = {"owner": "gone-host:1:x", "expires": "2026-01-01T00:00:00+00:00"}
    rawstore.raw_root(url).joinpath(rawstore.LOCK).write_bytes(json.dumps(stale).encode())
    with rawstore.FetchLock(url) as lock:  # a crashed fetch's lock: taken over once its lease ran out
        assert json.loads(lock.path.read_bytes())["owner"] == lock.owner


def test_a_bucket_the_kit_cannot_use_is_one_line(s3: str) -> None:
    for command in (["build"], ["status"]):
        out = CliRunner().invoke(main, [*command, "--data-dir", "s3://no-such-bucket/cache"])
        assert out.exit_code == 1, out.output
        assert len(out.output.strip().splitlines()) == 1 and "Traceback" not in out.output, out.output
        assert "no-such-bucket" in out.output and SECRET not in out.output


@pytest.mark.slow  # the module's fetch of two caches: about 30 s, shared
def test_duckdb_queries_the_processed_tables_locally_and_on_s3(caches: tuple[str, Path]) -> None:
    """DuckDB's own ``delta`` extension is downloaded at first use (no network at test time), so DuckDB scans the
    Arrow dataset of the table's current files that deltalake lists, as the README shows."""
    totals = []
    for data_dir in caches:
        user_day = lake.arrow_dataset(data_dir, "user_day")
        totals.append(
            duckdb.sql(
                "select scope, count(*) as n, sum(ai_credits_used) as credits from user_day group by scope order by scope"
            ).pl()
        )
        del user_day
    assert totals[0].equals(totals[1]) and totals[0].height == 2
    expected = read.scan(caches[1], "user_day").group_by("scope").agg(n=pl.len()).sort("scope").collect()
    assert totals[0]["n"].to_list() == expected["n"].to_list()


@pytest.mark.slow
def test_a_report_on_s3_names_the_delta_version_of_each_table_it_read(
    caches: tuple[str, Path], s3: str, tmp_path: Path
) -> None:
    from copilot_usage.outputs.render import render

    url, _ = caches
    scopes = read.scan(url, "data_health").select("scope").unique().collect()["scope"]
    scope = next(s for s in scopes if s.startswith("enterprise:"))
    notebook = Path(__file__).parents[1] / "notebooks" / "trends.ipynb"
    done = render(notebook, {"data_dir": url, "scope": scope}, tmp_path, formats="html")
    assert done.error is None and done.html is not None, done.error
    versions = done.summary["tables_read"]
    assert versions["user_day"] == lake.version(url, "user_day") and "aggregate_day" in versions
    assert f"user_day v{versions['user_day']}" in done.html.read_text()
    # credentials are never stored: not in the bucket, not in the report's files
    for key in _objects(s3):
        assert SECRET.encode() not in objstore.path(s3, key).read_bytes(), key  # type: ignore[union-attr]
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
