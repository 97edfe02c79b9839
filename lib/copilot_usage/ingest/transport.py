"""The one wrapping transport: GitHub's rate limits and retries over httpx's own transport.

API requests (those on the API origin) pass a gate that holds every worker while GitHub has asked for a pause, a
per-endpoint pacer (under 900 points a minute per REST endpoint), the primary budget (counted down from
``x-ratelimit-remaining`` less the requests in flight, so no request goes out to be refused) and a bounded number of
concurrent requests. Each answer is read whole here, so a dropped or truncated body is retried like a 5xx, and the
connection always goes back to the pool. Rate limits (403/429 with ``retry-after``, or ``x-ratelimit-remaining: 0``
and ``x-ratelimit-reset``, or GitHub's "rate limit" message) pause every worker and are retried; 5xx and transport
errors back off exponentially with jitter; attempts are bounded. A permission 403, a 404 and other 4xx are returned
at once for the client to explain.

An answer that is not what the REST API returns (a redirect, which the client does not follow; a 2xx that is not
JSON: a proxy's HTML page, an empty body) is retried like a 5xx and, if it outlasts every attempt, returned for the
client to explain. Every body is read within :class:`~copilot_usage.ingest.limits.Limits`: a size bound (a Content-Length
above it fails before reading) and a floor on its speed (:class:`Floor`), so no host can hang or flood the fetch.
Rate-limit headers asking for a wait beyond GitHub's own window (an hour), negative or not numbers are treated as
GitHub's "wait at least one minute"; each wait is announced (``on_wait``) when it starts.

Requests to any other origin (the reports' signed download links) pass straight through: they carry no rate limit,
and their retries belong to the caller, which must rewind where the body goes.

Rules from https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api and
https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from ..errors import ApiError
from .limits import Limits

log = logging.getLogger(__name__)

POINTS_PER_MINUTE = 850  # GitHub allows 900 points per minute per REST endpoint (a GET is 1): stay under it
SECONDARY_DEFAULT_WAIT_S = 60.0  # "wait at least one minute" when a secondary limit names no time


class Clock:
    """Time as the transport sees it; tests pass one that does not really sleep."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


# GitHub's reset is a whole epoch second and the window starts at the first request, so right after that request
# the reset can lie a little over an hour ahead; clocks also differ by a few seconds: a minute's slack is believed
CLOCK_SLACK_S = 60.0


def _sane_wait(seconds: float, header: str, cap: float) -> float:
    """A wait a header asked for, or GitHub's one-minute default when it is not a sane one: negative, not finite,
    or beyond ``cap`` (the primary window is an hour; the secondary limits' windows are a minute or an hour)."""
    if math.isfinite(seconds) and 0 <= seconds <= cap + CLOCK_SLACK_S:
        return seconds
    log.warning(
        "ignoring rate-limit header %s (a wait of %s s); waiting %.0f s", header, seconds, SECONDARY_DEFAULT_WAIT_S
    )
    return SECONDARY_DEFAULT_WAIT_S


def reset_wait(reset: str, *, now: float, cap: float = 3600.0) -> float:
    """Seconds until ``x-ratelimit-reset`` (epoch seconds), at least one; a reset not within one window of now is
    nonsense (see :func:`_sane_wait`)."""
    try:
        left = float(reset) - now
    except ValueError:
        return SECONDARY_DEFAULT_WAIT_S
    if -cap <= left < 1.0:  # just passed (or clocks a little apart): the window has turned
        return 1.0
    return _sane_wait(left, f"x-ratelimit-reset: {reset}", cap)


def rate_wait(response: httpx.Response, *, now: float | None = None, cap: float = 3600.0) -> float | None:
    """Seconds GitHub asks us to wait, or None when this answer is not a rate limit (a 403 can be either).
    ``response`` has been read (its message can be the only sign). Waits follow
    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit:
    ``retry-after`` seconds, else until ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0, else at least
    a minute; a header beyond ``cap`` is not believed."""
    if response.status_code not in (403, 429):
        return None
    h = response.headers
    if "retry-after" in h:
        try:
            return _sane_wait(float(h["retry-after"]), f"retry-after: {h['retry-after']}", cap)
        except ValueError:
            return SECONDARY_DEFAULT_WAIT_S
    if h.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in h:
        return reset_wait(h["x-ratelimit-reset"], now=time.time() if now is None else now, cap=cap)
    # a 429 is "too many requests" whatever its body says (a proxy's may be empty); a 403 only with the message
    if response.status_code == 429 or b"rate limit" in response.content.lower():
        return SECONDARY_DEFAULT_WAIT_S
    return None


def not_an_api_answer(response: httpx.Response) -> str | None:
    """Why a read answer below 400 is not what GitHub's REST API returns (None when it is): a redirect (the client
    follows none: tokens stay on the API host), or a body that is not JSON (a proxy's HTML page, an empty 200)."""
    status = response.status_code
    if status == 204 or not 200 <= status < 400:
        return None
    if status >= 300:
        return f"a {status} redirect, which the kit does not follow (check --base-url)"
    ctype = response.headers.get("content-type", "").split(";")[0].strip()
    if ctype and "json" not in ctype.lower():
        return f"{status} with {ctype}, not JSON (a proxy or login page? check --base-url)"
    if not response.content.strip():
        return f"{status} with an empty body, not JSON"
    try:
        json.loads(response.content)
    except ValueError:
        return f"{status} with a body that is not JSON"
    return None


class SlowBody(httpx.ReadTimeout):
    """A body slower than the floor: a read timeout (retried like one) that says which floor."""

    def __init__(self, message: str, *, floor: str) -> None:
        super().__init__(message)
        self.floor = floor


class Floor:
    """``async with Floor(limits, what):`` fails the block with :class:`SlowBody` when a body brings less than
    ``min_bytes_per_s * slow_window_s`` bytes in a window; a window starts with the request and again each time
    that much has come. ``got(n)`` counts bytes as they arrive. A trickle never trips httpx's own read timeout
    (each read brings a byte), so this is what ends it."""

    def __init__(self, limits: Limits, what: str) -> None:
        self.window = limits.slow_window_s
        self.need = limits.min_bytes_per_s * limits.slow_window_s
        self.floor = limits.slow_floor
        self.message = f"{what}: body slower than {self.floor}"
        self._count = 0.0
        self._timeout = asyncio.timeout(None)

    async def __aenter__(self) -> Self:
        await self._timeout.__aenter__()
        self._restart()
        return self

    def _restart(self) -> None:
        self._count = 0.0
        self._timeout.reschedule(asyncio.get_running_loop().time() + self.window)

    def got(self, n: int) -> None:
        self._count += n
        if self._count >= self.need:
            self._restart()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._timeout.__aexit__(kind, exc, tb)
        except TimeoutError as slow:
            raise SlowBody(self.message, floor=self.floor) from slow


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter before attempt ``attempt + 1`` (attempt counts from 1)."""
    base = min(0.25 * 2 ** (attempt - 1), 20.0)
    return base / 2 + random.uniform(0, base / 2)


@dataclass
class Budget:
    """The primary rate limit as the last answer gave it (``remaining`` less requests in flight)."""

    limit: int | None = None
    remaining: int | None = None
    reset: float = 0.0  # epoch seconds
    used: int | None = None


class GitHubTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=GitHubTransport(httpx.AsyncHTTPTransport(), api_origin=...))``."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        api_origin: tuple[str, str, int | None],
        concurrency: int = 4,
        max_attempts: int = 6,
        points_per_minute: int = POINTS_PER_MINUTE,
        limits: Limits | None = None,
        on_wait: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.inner = inner
        self.api_origin = api_origin
        self.max_attempts = max_attempts
        self.points_per_minute = points_per_minute
        self.limits = limits or Limits()
        self.on_wait = on_wait  # told, in one line, of each rate-limit wait as it starts
        self.clock = clock or Clock()
        self.limit = asyncio.Semaphore(concurrency)
        self.budget = Budget()
        self.api_requests = 0  # requests sent to the API origin, retries included
        self.rate_limited = 0  # answers that were a rate limit
        self._in_flight = 0
        self._resume_at = 0.0  # monotonic time before which no API request goes out
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._pace_locks: dict[str, asyncio.Lock] = collections.defaultdict(asyncio.Lock)

    def on_api(self, url: httpx.URL) -> bool:
        return (url.scheme, url.host, url.port) == self.api_origin

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.on_api(request.url):
            return await self.inner.handle_async_request(request)
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = await self._send(request)
            except httpx.TransportError as exc:
                if last:
                    raise
                log.info("%s %s: %s; retrying", request.method, request.url.path, type(exc).__name__)
                await self.clock.sleep(backoff(attempt))
                continue
            wait = rate_wait(response, now=self.clock.time(), cap=self.limits.max_rate_wait_s)
            if wait is not None:
                self.rate_limited += 1
                self.pause(wait)
                if last:
                    return response
                log.info("rate limited on %s; pausing %.0f s", request.url.path, wait)
                continue
            if (response.status_code >= 500 or not_an_api_answer(response)) and not last:
                await self.clock.sleep(backoff(attempt))
                continue
            return response
        msg = "unreachable"
        raise AssertionError(msg)  # pragma: no cover

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """One attempt: wait for the gate, the endpoint's pace and the budget, send, read the whole body."""
        await self._gate()
        await self._pace(request.url.path)
        async with self.limit:
            await self._wait_for_budget()
            if self.budget.remaining is not None:
                self.budget.remaining -= 1
            self.api_requests += 1
            self._in_flight += 1
            try:
                response = await self._receive(request)
            finally:
                self._in_flight -= 1
        self._track(response)
        return response

    async def _receive(self, request: httpx.Request) -> httpx.Response:
        """Send and read the whole body here (a broken one fails this attempt, not the caller), within the size
        bound and the speed floor; the answer comes back holding its decoded body."""
        bound = self.limits.api_bytes
        async with Floor(self.limits, request.url.path) as floor:
            response = await self.inner.handle_async_request(request)
            try:
                claimed = response.headers.get("content-length", "")
                if claimed.isdigit() and int(claimed) > bound:
                    msg = f"{request.url.path} answered {int(claimed):,} bytes, over the {bound:,}-byte bound (--limit api_bytes)"
                    raise ApiError(msg, status=response.status_code)
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():  # decoded as it comes: a gzip bomb stops at the bound
                    size += len(chunk)
                    if size > bound:
                        msg = f"{request.url.path} answered over the {bound:,}-byte bound (--limit api_bytes)"
                        raise ApiError(msg, status=response.status_code)
                    floor.got(len(chunk))
                    chunks.append(chunk)
            finally:
                await response.aclose()  # the connection goes back to the pool (or is dropped) whatever happened
        drop = ("content-encoding", "content-length")  # the body below is decoded
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in drop]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=request,
            extensions=response.extensions,
        )

    async def _gate(self) -> None:
        """Hold every API request while GitHub has asked for a pause: one limit answer stops all workers
        (continuing while limited "may result in the banning of your integration")."""
        while (delay := self._resume_at - self.clock.monotonic()) > 0:
            await self.clock.sleep(delay)

    def pause(self, seconds: float) -> None:
        """Hold every API request for ``seconds`` (at most the primary window and a margin), announced once."""
        seconds = min(seconds, self.limits.max_rate_wait_s + 5)
        until = self.clock.monotonic() + seconds
        if until <= self._resume_at:
            return
        if until > self._resume_at + 1 and self.on_wait:  # a new wait, not the same one again
            at = dt.datetime.fromtimestamp(self.clock.time() + seconds).astimezone()
            if seconds >= 60:
                self.on_wait(f"waiting for the rate limit to reset at {at:%H:%M}, {round(seconds / 60)} min")
            else:
                self.on_wait(f"waiting for the rate limit to reset at {at:%H:%M:%S}, {math.ceil(seconds)} s")
        self._resume_at = until

    async def _wait_for_budget(self) -> None:
        """While the window's budget is spent (or promised to requests in flight), wait for its reset."""
        while True:
            await self._gate()
            b = self.budget
            if b.remaining is None or b.remaining > 0 or (left := b.reset - self.clock.time()) <= 0:
                return
            self.pause(left + random.uniform(0.5, 1.5))  # past the reset, and not all at the same instant

    async def _pace(self, path: str) -> None:
        """Keep each endpoint under GitHub's per-minute points (a sliding 60-second window)."""
        async with self._pace_locks[path]:
            sent = self._sent[path]
            while True:
                now = self.clock.monotonic()
                while sent and sent[0] <= now - 60:
                    sent.popleft()
                if len(sent) < self.points_per_minute:
                    sent.append(now)
                    return
                await self.clock.sleep(sent[0] + 60 - now)

    def _track(self, response: httpx.Response) -> None:
        h = response.headers
        try:
            remaining, reset = int(h["x-ratelimit-remaining"]), float(h["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        now = self.clock.time()
        cap = self.limits.max_rate_wait_s
        if not -cap <= reset - now <= cap + CLOCK_SLACK_S:  # not within one window
            reset = now + reset_wait(h["x-ratelimit-reset"], now=now, cap=self.limits.max_rate_wait_s)
        b = self.budget
        b.limit = int(h["x-ratelimit-limit"]) if h.get("x-ratelimit-limit", "").isdigit() else b.limit
        b.used = int(h["x-ratelimit-used"]) if h.get("x-ratelimit-used", "").isdigit() else b.used
        if reset > b.reset or b.remaining is None:  # a new window
            b.remaining, b.reset = remaining - self._in_flight, reset
        else:
            b.remaining = min(b.remaining, remaining - self._in_flight)
        if b.remaining <= 0:  # spent: hold every new request (not only those that reach a slot) until the reset
            self.pause(max(reset - now, 1.0) + random.uniform(0.5, 1.5))

    async def aclose(self) -> None:
        await self.inner.aclose()
