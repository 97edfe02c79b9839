"""A hostile or broken host behind ``--base-url`` (issue 24, network side): ``copilot-usage fetch`` against a small
misbehaving HTTP/1.1 server on 127.0.0.1 never hangs, floods or stores what the endpoint does not return."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import gzip
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx
import pytest
from click.testing import CliRunner, Result

import copilot_usage.ingest.transport as transport_mod
from copilot_usage.catalog import REPORTS, Scope
from copilot_usage.cli import main
from copilot_usage.ingest import rawstore
from copilot_usage.ingest.fetch import plan_days

TODAY = "2026-11-26"
DAYS = ("2026-11-20", "2026-11-21")
SEATS = "/orgs/acme/copilot/billing/seats"
REPORT = "/orgs/acme/copilot/metrics/reports/users-1-day"
GOOD_DAY = b'{"day":"%s","user_id":1,"user_login":"a"}\n'
GOOD_SEATS = b'{"total_seats":1,"seats":[{"assignee":{"login":"a","id":1}}]}'

Body = bytes | AsyncIterator[bytes]
users_1_day = next(r for r in REPORTS if r.key == "users-1-day")


@dataclass
class Req:
    method: str
    path: str
    params: dict[str, str]
    target: str


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    body: Body = b"{}"


Handler = Callable[[Req], Awaitable[Answer | None]]


class Hostile:
    """An HTTP/1.1 server on 127.0.0.1 in its own thread: one request per connection, answered by ``handler``
    (``None`` = the default: ``/rate_limit``, report days linking to downloads on ``localhost``, good seats, and
    204 for anything else). ``seen`` records every request."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler
        self.seen: list[Req] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        start = asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(start, self.loop).result(5)
        self.port = self.server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def hits(self, path: str) -> int:
        return sum(r.path == path for r in self.seen)

    def link(self, name: str) -> str:
        return f"http://localhost:{self.port}/dl/{name}?sig=secret"

    async def default(self, req: Req) -> Answer:
        if req.path == "/rate_limit":
            core = {"limit": 5000, "remaining": 5000, "used": 0, "reset": int(time.time()) + 3600}
            return Answer(body=json.dumps({"resources": {"core": core}}).encode())
        if req.path == REPORT:
            return Answer(body=json.dumps({"download_links": [self.link(req.params["day"])]}).encode())
        if req.path.startswith("/dl/"):
            return Answer(headers={"content-type": "application/x-ndjson"}, body=GOOD_DAY % req.path[4:].encode())
        if req.path == SEATS:
            return Answer(body=GOOD_SEATS)
        return Answer(204, {}, b"")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            url = httpx.URL(target)
            req = Req(method, url.path, dict(url.params), target)
            self.seen.append(req)
            answer = (await self.handler(req) if self.handler else None) or await self.default(req)
            headers = {"connection": "close", **answer.headers}
            if isinstance(answer.body, bytes):
                headers.setdefault("content-length", str(len(answer.body)))
            writer.write(f"HTTP/1.1 {answer.status} X\r\n".encode())
            writer.write("".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n")
            if isinstance(answer.body, bytes):
                writer.write(answer.body)
            else:
                async for piece in answer.body:
                    writer.write(piece)
                    await writer.drain()
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def fetch(server: Hostile, data_dir: Path, *args: str) -> Result:
    """``copilot-usage fetch --org acme`` against ``server`` (users days DAYS unless ``--reports`` says otherwise)."""
    if "--reports" not in args:
        args = ("--reports", "users", "--since", DAYS[0], "--until", DAYS[-1], *args)
    cmd = ["fetch", "--org", "acme", "--base-url", server.base_url, "--data-dir", str(data_dir), "--today", TODAY]
    return CliRunner().invoke(main, [*cmd, *args], env={"GITHUB_TOKEN": "t0ken"})


def stored(data_dir: Path, report: str) -> list[Path]:
    return sorted(p for p in (data_dir / "raw" / "org=acme" / report).rglob("*") if p.is_file())


def no_temp_files(data_dir: Path) -> bool:
    tmp = data_dir / "raw" / ".tmp"
    return not tmp.exists() or not any(tmp.iterdir())


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport_mod, "backoff", lambda attempt: 0.0)
    monkeypatch.setattr("copilot_usage.ingest.github.backoff", lambda attempt: 0.0)


# 1. answers that are not what the endpoint returns -------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (Answer(200, {"content-type": "text/html"}, b"<html><body>Proxy login</body></html>"), "text/html, not JSON"),
        (Answer(307, {"location": "https://login.example/"}, b""), "307 redirect"),
        (Answer(200, {"content-type": "application/json"}, b""), "empty body"),
        (Answer(200, {"content-type": "application/json"}, b"[1, 2]"), "JSON list, not the dict"),
    ],
)
def test_seats_answer_that_is_not_the_endpoints_is_a_failed_retried_task_never_stored(
    tmp_path: Path, answer: Answer, says: str
) -> None:
    async def seats(req: Req) -> Answer | None:
        return answer if req.path == SEATS else None

    with Hostile(seats) as server:
        result = fetch(server, tmp_path, "--reports", "seats")
        assert result.exit_code == 1, result.output
        assert says in result.stderr and f"{SEATS} answered" in result.stderr
        assert stored(tmp_path, "seats") == []
        if answer.status != 200 or answer.body == b"":
            assert server.hits(SEATS) == 6  # retried like a 5xx: a proxy's page can be passing
        server.handler = None  # the proxy is gone: the next run asks again and stores the real snapshot
        assert fetch(server, tmp_path, "--reports", "seats").exit_code == 0
        assert len(stored(tmp_path, "seats")) == 2  # the snapshot and its sidecar


@pytest.mark.parametrize(
    ("headers", "body", "says"),
    [
        ({"content-type": "text/html"}, b"<html>500 Internal error</html>", "download answered text/html"),
        ({"content-type": "application/octet-stream"}, b"<!DOCTYPE html><html>error</html>", "not a report"),
        # mtime fixed: the parameter's bytes (and so its test id) are the same in every xdist worker
        (
            {"content-type": "application/octet-stream"},
            gzip.compress(b"<html>error</html>", mtime=0),
            "gzip download is not",
        ),
    ],
    ids=["text/html", "html as octet-stream", "gzipped html"],
)
def test_download_that_is_an_html_page_fails_the_day_and_the_day_is_asked_again(
    tmp_path: Path, headers: dict[str, str], body: bytes, says: str
) -> None:
    async def html(req: Req) -> Answer | None:
        return Answer(200, headers, body) if req.path == f"/dl/{DAYS[0]}" else None

    with Hostile(html) as server:
        result = fetch(server, tmp_path)
        assert result.exit_code == 1, result.output
        assert f"org:acme users-1-day {DAYS[0]}: " in result.stderr and says in result.stderr
        assert "sig=" not in result.output  # the signed query is never printed
        assert [p.parent.name for p in stored(tmp_path, "users-1-day")] == [DAYS[1], DAYS[1]]
        assert no_temp_files(tmp_path)
        # the next run's own plan asks for the day again (a stored day outside the last four would not be)
        plan = plan_days(
            tmp_path, Scope("org", "acme"), users_1_day, today=dt.date.fromisoformat(TODAY), since=None, until=None
        )
        assert dt.date.fromisoformat(DAYS[0]) in plan
        server.handler = None
        again = fetch(server, tmp_path)
        assert again.exit_code == 0, again.output
        assert {p.parent.name for p in stored(tmp_path, "users-1-day")} == set(DAYS)


# 2. a body trickling ----------------------------------------------------------------------------------------------


async def trickle(body: bytes, every: float) -> AsyncIterator[bytes]:
    for k in range(len(body)):
        yield body[k : k + 1]
        await asyncio.sleep(every)


def test_a_trickling_body_fails_its_task_after_the_floor_and_the_fetch_goes_on(tmp_path: Path) -> None:
    """One byte every 0.1 s (a 300-byte body would take 30 s) under a floor of 50 B/s over 0.5 s windows: the
    download and the seats answer each fail in six attempts of 0.5 s; the other day is stored meanwhile."""
    slow_day = (GOOD_DAY % DAYS[0].encode()) * 5

    async def slow(req: Req) -> Answer | None:
        if req.path == f"/dl/{DAYS[0]}":
            return Answer(200, {"content-type": "application/x-ndjson"}, trickle(slow_day, 0.1))
        if req.path == SEATS:
            return Answer(200, {"content-type": "application/json"}, trickle(GOOD_SEATS * 5, 0.1))
        return None

    limits = ("--limit", "min_bytes_per_s=100", "--limit", "slow_window_s=0.5")
    with Hostile(slow) as server:
        started = time.monotonic()
        result = fetch(server, tmp_path, "--reports", "users,seats", "--since", DAYS[0], "--until", DAYS[1], *limits)
        wall = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert "download slower than 100 B/s over 0.5 s" in result.stderr
    assert f"SlowBody: {SEATS}: body slower than 100 B/s over 0.5 s" in result.stderr
    assert [p.parent.name for p in stored(tmp_path, "users-1-day")] == [DAYS[1], DAYS[1]]
    assert stored(tmp_path, "seats") == []
    assert wall < 12, wall  # 6 attempts x 0.5 s each, both at once; the bodies alone take 30 s


# 3. rate-limit headers --------------------------------------------------------------------------------------------


class FakeClock:
    """Time that jumps instead of sleeping; every sleep recorded."""

    offset = 0.0
    slept: list[float] = []  # noqa: RUF012 -- one list per test, reset by the test

    def time(self) -> float:
        return time.time() + FakeClock.offset

    def monotonic(self) -> float:
        return time.monotonic() + FakeClock.offset

    async def sleep(self, seconds: float) -> None:
        FakeClock.slept.append(seconds)
        FakeClock.offset += seconds
        await asyncio.sleep(0)


def test_nonsense_rate_limit_waits_are_capped_and_every_wait_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport_mod, "Clock", FakeClock)
    FakeClock.slept, FakeClock.offset = [], 0.0
    limited = [
        Answer(429, {"retry-after": "999999999"}, b'{"message":"slow down"}'),
        Answer(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"}, b'{"message":"rate limit"}'),
        Answer(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "-5"}, b'{"message":"API rate limit"}'),
        Answer(429, {"retry-after": "-1"}, b"{}"),
        Answer(429, {"retry-after": "720"}, b"{}"),  # a sane one: honoured
    ]

    async def seats(req: Req) -> Answer | None:
        if req.path == "/rate_limit":  # a window that turns before the first wait ends
            core = {"limit": 5000, "remaining": 5000, "used": 0, "reset": int(time.time()) + 10}
            return Answer(body=json.dumps({"resources": {"core": core}}).encode())
        if req.path == SEATS and limited:
            return limited.pop(0)
        return None

    with Hostile(seats) as server:
        result = fetch(server, tmp_path, "--reports", "seats", "--limit", "max_rate_wait_s=3600")
    assert result.exit_code == 0, result.output
    assert len(stored(tmp_path, "seats")) == 2
    waits = [s for s in FakeClock.slept if s >= 1]
    assert len(waits) == 5, waits  # one per limited answer: never 999999999 s, nor until 2100
    assert all(59 <= w <= 62 for w in waits[:4]), waits  # nonsense: GitHub's "wait at least one minute"
    assert 719 <= waits[4] <= 721, waits
    lines = [line for line in result.stderr.splitlines() if line.startswith("waiting for the rate limit to reset")]
    assert len(lines) == 5, result.stderr
    assert lines[0].endswith(", 1 min") and lines[-1].endswith(", 12 min")


# 4. pagination ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cycle", ["self", "two pages", "endless"])
def test_a_next_link_that_cycles_or_never_ends_stops_the_listing(tmp_path: Path, cycle: str) -> None:
    async def pages(req: Req) -> Answer | None:
        if req.path != SEATS or len(server.seen) > 60:  # old code would page forever: give up after 60
            return None
        page = int(req.params.get("page", "1"))
        nxt = {"self": page, "two pages": 3 - page, "endless": page + 1}[cycle]
        link = f'<{server.base_url}{SEATS}?per_page=100&page={nxt}>; rel="next"'
        if cycle == "self" and "page" not in req.params:
            link = f'<{server.base_url}{SEATS}?per_page=100>; rel="next"'
        return Answer(200, {"content-type": "application/json", "link": link}, GOOD_SEATS)

    with Hostile(pages) as server:
        result = fetch(server, tmp_path, "--reports", "seats", "--limit", "max_pages=5")
    assert result.exit_code == 1, result.output
    says = "more than 5 pages" if cycle == "endless" else "points to a page already read"
    assert says in result.stderr
    assert server.hits(SEATS) == {"self": 1, "two pages": 3, "endless": 5}[cycle]
    assert stored(tmp_path, "seats") == []


# 5. sizes ---------------------------------------------------------------------------------------------------------


async def chunks(piece: bytes, count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield piece


def test_api_answers_are_read_within_a_size_bound(tmp_path: Path) -> None:
    big = b'{"total_seats":1,"seats":[' + b'{"assignee":null},' * 200_000 + b"{}]}"  # 3.6 MB

    async def seats(req: Req) -> Answer | None:
        if req.path != SEATS:
            return None
        if case == "chunked":
            return Answer(200, {"content-type": "application/json"}, chunks(big, 1))  # no Content-Length
        return Answer(200, {"content-type": "application/json"}, big)

    for case in ("claimed", "chunked"):
        data_dir = tmp_path / case
        with Hostile(seats) as server:
            result = fetch(server, data_dir, "--reports", "seats", "--limit", "api_bytes=1MiB")
        assert result.exit_code == 1, result.output
        assert "over the 1,048,576-byte bound (--limit api_bytes)" in result.stderr
        if case == "claimed":  # refused on its Content-Length, before the body is read
            assert "answered 3,600,030 bytes, over the" in result.stderr
        assert server.hits(SEATS) == 1  # not asked again: it would only be as big
        assert stored(data_dir, "seats") == []


def test_a_download_claiming_10_gb_fails_before_reading(tmp_path: Path) -> None:
    async def huge(req: Req) -> Answer | None:
        if req.path == f"/dl/{DAYS[0]}":
            headers = {"content-type": "application/x-ndjson", "content-length": str(10 * 10**9)}
            return Answer(200, headers, chunks(b"{" + b" " * (1 << 20), 50))  # then it hangs up
        return None

    with Hostile(huge) as server:
        started = time.monotonic()
        result = fetch(server, tmp_path)
        wall = time.monotonic() - started
        assert server.hits(f"/dl/{DAYS[0]}") == 1
    assert result.exit_code == 1, result.output
    assert "download of 10,000,000,000 bytes is over the 2,147,483,648-byte bound" in result.stderr
    assert [p.parent.name for p in stored(tmp_path, "users-1-day")] == [DAYS[1], DAYS[1]]
    assert wall < 10 and no_temp_files(tmp_path)


def gzip_bomb(mib: int) -> bytes:
    """``[`` then ``mib`` MiB of spaces, as gzip members of ~1 KB each (1,000 : 1)."""
    member = gzip.compress(b" " * (1 << 20), compresslevel=9)
    return gzip.compress(b"[") + member * mib


@pytest.mark.parametrize(
    ("limits", "says"),
    [
        ((), "expands over 200 times"),
        (("stored_bytes=8MiB", "gzip_ratio=2000"), "over the 8,388,608-byte bound as stored"),
    ],
)
def test_a_gzip_bomb_fails_fast_and_leaves_nothing_on_disk(tmp_path: Path, limits: tuple[str, ...], says: str) -> None:
    bomb = gzip_bomb(3072)  # 3 MB expanding to 3 GiB

    async def bombed(req: Req) -> Answer | None:
        if req.path == f"/dl/{DAYS[0]}":
            return Answer(200, {"content-type": "application/octet-stream"}, bomb)
        return None

    args = [a for item in limits for a in ("--limit", item)]
    with Hostile(bombed) as server:
        started = time.monotonic()
        result = fetch(server, tmp_path, *args)
        wall = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert says in result.stderr
    assert [p.parent.name for p in stored(tmp_path, "users-1-day")] == [DAYS[1], DAYS[1]]
    assert wall < 10 and no_temp_files(tmp_path)


# 6. the disk fills ------------------------------------------------------------------------------------------------


class _FullDisk:
    """A temp file whose writes fail with ENOSPC once ``room`` bytes have been written (to any temp file)."""

    room = 0

    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def write(self, data: bytes) -> int:
        if len(data) > _FullDisk.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        _FullDisk.room -= len(data)
        return int(self.fh.write(data))

    def close(self) -> None:
        self.fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_a_full_disk_stops_the_fetch_with_one_line_the_summary_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open_tmp = rawstore.open_tmp

    def open_tmp(data_dir: Path) -> tuple[Path, Any]:
        path, fh = real_open_tmp(data_dir)
        return path, _FullDisk(fh)

    monkeypatch.setattr(rawstore, "open_tmp", open_tmp)
    _FullDisk.room = 70  # one file fits (the seats snapshot or a day), then the disk is full
    with Hostile() as server:
        result = fetch(server, tmp_path, "--reports", "seats,users", "--since", DAYS[0], "--until", DAYS[1])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    errors = [line for line in result.stderr.splitlines() if "the fetch stopped" in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: cannot write {tmp_path / 'raw' / '.tmp'}/")
    assert errors[0].count("No space left on device") == 1
    assert "fetch summary" in result.stdout and "users-1-day" in result.stdout  # what finished is still reported
    assert len(stored(tmp_path, "seats") + stored(tmp_path, "users-1-day")) == 2  # the one file and its sidecar
    assert no_temp_files(tmp_path)


def test_a_raw_store_that_cannot_be_written_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "raw" / rawstore.LOG).mkdir(parents=True)  # the fetch log cannot be opened
    with Hostile() as server:
        result = fetch(server, tmp_path)
        assert not [r for r in server.seen if r.path.startswith("/dl/")]  # nothing was fetched to be lost
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    line = f"error: cannot write {tmp_path / 'raw' / rawstore.LOG}: Is a directory; the fetch stopped"
    assert line in result.stderr, result.stderr
    assert "fetch summary" in result.stdout


def test_a_reset_just_over_an_hour_ahead_is_believed_and_nothing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Right after a window opens GitHub's whole-second reset lies up to a second over an hour ahead (and clocks
    differ a little): that is a real reset, not a nonsense header (the demo printed a warning per first answer)."""
    import httpx

    from copilot_usage.ingest.transport import reset_wait

    now = 1_800_000_000.4
    assert reset_wait(str(int(now) + 3601), now=now) == pytest.approx(3600.6)
    with caplog.at_level("WARNING"):
        response = httpx.Response(
            200, headers={"x-ratelimit-remaining": "4999", "x-ratelimit-reset": str(int(now) + 3601)}, json={}
        )
        assert response.status_code == 200
        assert reset_wait(str(int(now) + 2 * 3600), now=now) == 60.0  # two hours ahead is still nonsense
    assert sum("3600.6" in r.getMessage() for r in caplog.records) == 0
