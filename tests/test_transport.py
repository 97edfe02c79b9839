"""The client over httpx: every status branch of the rate-limit and retry policy (``httpx.MockTransport``), which
token goes where, and a real socket whose bodies break more often than there are connections in the pool."""

from __future__ import annotations

import asyncio
import gc
import time
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import copilot_usage.ingest.transport as transport_mod
from copilot_usage.errors import ApiError, AuthError, DownloadError, NotFound, RateLimited
from copilot_usage.ingest.github import GitHub

BASE = "https://api.example.test"
LINK = "https://objects.example.test/r/day.ndjson?sig=a%2Fb%2Bc%3D&se=1"


@pytest.fixture(autouse=True)
def _no_sleep_for_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport_mod, "backoff", lambda attempt: 0.0)
    monkeypatch.setattr("copilot_usage.ingest.github.backoff", lambda attempt: 0.0)


def _client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> GitHub:
    return GitHub(BASE, token="metrics-t", billing_token="billing-t", transport=httpx.MockTransport(handler), **kw)


def _run(handler: Callable[[httpx.Request], httpx.Response], call: Callable[[GitHub], Any], **kw: Any) -> Any:
    async def go() -> Any:
        async with _client(handler, **kw) as gh:
            return await call(gh)

    return asyncio.run(go())


class Script:
    """Answers from a list, one per request (the last repeats); records what was asked."""

    def __init__(self, *answers: httpx.Response | Callable[[], httpx.Response]) -> None:
        self.answers, self.seen = list(answers), []  # type: ignore[var-annotated]
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        self.times.append(time.monotonic())
        answer = self.answers[min(len(self.seen), len(self.answers)) - 1]
        if callable(answer):
            return answer()
        # a fresh copy, streamed as from a socket
        return httpx.Response(answer.status_code, headers=answer.headers, stream=_Chunks(answer.content))


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield self.data


def ok(**headers: str) -> httpx.Response:
    return httpx.Response(200, json={"ok": True}, headers=headers)


def test_tokens_go_to_the_api_origin_only_and_billing_paths_get_the_billing_token() -> None:
    script = Script(ok())

    async def calls(gh: GitHub) -> None:
        await gh.get("/orgs/o/copilot/metrics/reports/users-1-day", {"day": "2026-11-01"})
        await gh.get("/enterprises/e/settings/billing/ai_credit/usage")
        await gh.get("https://elsewhere.example.test/next?page=2")  # a next-page link on another host
        await gh.download(LINK, _Sink())

    _run(script, calls)
    auth = [r.headers.get("authorization") for r in script.seen]
    assert auth == ["Bearer metrics-t", "Bearer billing-t", None, None]
    assert script.seen[0].headers["x-github-api-version"] == "2022-11-28"
    assert "x-github-api-version" not in script.seen[3].headers  # download links get no API headers either
    assert str(script.seen[3].url) == LINK  # the signed query goes out byte for byte


def test_primary_limit_403_pauses_then_retries() -> None:
    reset = str(int(time.time()) + 1)
    limited = httpx.Response(
        403,
        json={"message": "API rate limit exceeded"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
    )
    script = Script(limited, ok())
    r = _run(script, lambda gh: gh.get("/orgs/o/teams"))
    assert r.status_code == 200 and len(script.seen) == 2
    assert script.times[1] - script.times[0] >= 0.5  # waited for the reset


def test_permission_403_is_not_retried_and_names_the_permission() -> None:
    script = Script(httpx.Response(403, json={"message": "Resource not accessible by personal access token"}))
    with pytest.raises(AuthError, match="read:org"):
        _run(script, lambda gh: gh.get("/orgs/o/copilot/metrics/reports/users-1-day"))
    assert len(script.seen) == 1


def test_429_with_retry_after_waits_that_long() -> None:
    script = Script(httpx.Response(429, headers={"retry-after": "1"}, json={"message": "secondary"}), ok())
    assert _run(script, lambda gh: gh.get("/x")).status_code == 200
    assert script.times[1] - script.times[0] >= 0.9


def test_429_without_retry_after_is_still_a_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport_mod, "SECONDARY_DEFAULT_WAIT_S", 0.3)
    script = Script(httpx.Response(429, json={"message": "You have exceeded a secondary rate limit"}), ok())
    assert _run(script, lambda gh: gh.get("/x")).status_code == 200
    assert script.times[1] - script.times[0] >= 0.25
    bare = Script(httpx.Response(429, content=b""), ok())  # no header, no message (e.g. from a proxy)
    assert _run(bare, lambda gh: gh.get("/x")).status_code == 200
    assert bare.times[1] - bare.times[0] >= 0.25


def test_rate_limit_outlasting_every_attempt_raises_rate_limited() -> None:
    script = Script(httpx.Response(429, headers={"retry-after": "0"}, json={"message": "slow down"}))
    with pytest.raises(RateLimited):
        _run(script, lambda gh: gh.get("/x"), max_attempts=3)
    assert len(script.seen) == 3


def test_spent_budget_holds_the_next_request_until_the_reset() -> None:
    reset = str(int(time.time()) + 1)
    script = Script(ok(**{"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset, "x-ratelimit-limit": "5"}), ok())

    async def two(gh: GitHub) -> None:
        await gh.get("/a")
        await gh.get("/b")

    _run(script, two)
    assert len(script.seen) == 2 and script.times[1] >= float(reset) - time.time() + script.times[0] - 0.1
    assert script.times[1] - script.times[0] >= 0.4  # never sent into a spent window


def test_5xx_is_retried_up_to_max_attempts_then_raised() -> None:
    script = Script(httpx.Response(502, json={"message": "Server Error"}))
    with pytest.raises(ApiError, match="502"):
        _run(script, lambda gh: gh.get("/x"), max_attempts=4)
    assert len(script.seen) == 4
    recovering = Script(httpx.Response(500), httpx.Response(503), ok())
    assert _run(recovering, lambda gh: gh.get("/x")).status_code == 200 and len(recovering.seen) == 3


class _Broken(httpx.AsyncByteStream):
    def __init__(self, exc: type[httpx.TransportError]) -> None:
        self.exc = exc

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b'{"ok":'
        msg = "peer closed connection without sending complete message body"
        raise self.exc(msg)


def test_dropped_and_truncated_bodies_are_retried() -> None:
    for exc in (httpx.ReadError, httpx.RemoteProtocolError):
        script = Script(lambda e=exc: httpx.Response(200, stream=_Broken(e)), ok())
        r = _run(script, lambda gh: gh.get("/x"))
        assert r.json() == {"ok": True} and len(script.seen) == 2


def test_connection_errors_are_retried_and_bounded() -> None:
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        msg = "refused"
        raise httpx.ConnectError(msg, request=request)

    with pytest.raises(httpx.ConnectError):
        _run(refuse, lambda gh: gh.get("/x"), max_attempts=3)
    assert len(calls) == 3


def test_204_and_404() -> None:
    assert _run(Script(httpx.Response(204)), lambda gh: gh.get("/x")).status_code == 204
    script = Script(httpx.Response(404, json={"message": "Not Found"}))
    with pytest.raises(NotFound, match="Check the name"):
        _run(script, lambda gh: gh.get("/orgs/nope/copilot/metrics/reports/users-1-day"))
    assert len(script.seen) == 1


class _Sink:
    def __init__(self) -> None:
        self.data = b""
        self.rewinds = 0

    def rewind(self) -> None:
        self.data, self.rewinds = b"", self.rewinds + 1

    def write(self, chunk: bytes) -> bool:
        self.data += chunk
        return False

    def drain(self) -> None:
        pass


def test_expired_download_link_is_not_retried_and_a_truncated_one_is() -> None:
    expired = Script(httpx.Response(403, text="AuthenticationFailed: Signature not valid in the specified time frame"))
    with pytest.raises(DownloadError) as info:
        _run(expired, lambda gh: gh.download_with_retries(LINK, _Sink()))
    assert info.value.expired and len(expired.seen) == 1
    assert "sig=" not in str(info.value)  # the signed query is never in a message

    sink = _Sink()
    short = Script(
        httpx.Response(200, content=b"abc", headers={"content-length": "9"}), httpx.Response(200, content=b"123456789")
    )
    assert _run(short, lambda gh: gh.download_with_retries(LINK, sink)) == 9
    assert sink.data == b"123456789" and sink.rewinds == 2


def test_budget_and_rate_limit_endpoint() -> None:
    body = {"resources": {"core": {"limit": 5000, "remaining": 4321, "used": 679, "reset": 1_900_000_000}}}
    script = Script(httpx.Response(200, json=body))
    budget = _run(script, lambda gh: gh.rate_limit())
    assert (budget.limit, budget.remaining, budget.used, budget.reset) == (5000, 4321, 679, 1_900_000_000)


async def _serve_breaking(broken_first: int) -> tuple[asyncio.Server, list[int]]:
    """An HTTP/1.1 server whose first ``broken_first`` answers promise 100 bytes, send 10 and close."""
    count = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                count[0] += 1
                if count[0] <= broken_first:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
                    await writer.drain()
                    writer.close()
                    return
                body = b'{"ok": true}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), count


def test_more_broken_bodies_than_pool_slots_never_stall() -> None:
    """Every broken body gives its connection back: 8 broken answers over a pool of 4 connections, among 12
    requests that must all succeed at once (a leaked slot would make each wait out the pool timeout)."""

    async def go() -> tuple[float, list[int]]:
        server, _count = await _serve_breaking(8)
        port = server.sockets[0].getsockname()[1]
        try:
            async with GitHub(f"http://127.0.0.1:{port}", token="t", concurrency=2, max_attempts=10, timeout=10) as gh:
                t0 = time.monotonic()
                results = await asyncio.gather(*(gh.get(f"/r/{k}") for k in range(12)))
                return time.monotonic() - t0, [r.status_code for r in results]
        finally:
            server.close()
            await server.wait_closed()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        elapsed, statuses = asyncio.run(go())
        gc.collect()
    assert statuses == [200] * 12
    assert elapsed < 5, f"took {elapsed:.1f} s: connections leaked"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
