"""The one wrapping transport: GitHub's rate limits and retries over httpx's own transport.

API requests (those on the API origin) pass a gate that holds every worker while GitHub has asked for a pause, a
per-endpoint pacer (under 900 points a minute per REST endpoint), the primary budget (counted down from
``x-ratelimit-remaining`` less the requests in flight, so no request goes out to be refused) and a bounded number of
concurrent requests. Each answer is read whole here, so a dropped or truncated body is retried like a 5xx, and the
connection always goes back to the pool. Rate limits (403/429 with ``retry-after``, or ``x-ratelimit-remaining: 0``
and ``x-ratelimit-reset``, or GitHub's "rate limit" message) pause every worker and are retried; 5xx and transport
errors back off exponentially with jitter; attempts are bounded. A permission 403, a 404 and other 4xx are returned
at once for the client to explain.

Requests to any other origin (the reports' signed download links) pass straight through: they carry no rate limit,
and their retries belong to the caller, which must rewind where the body goes.

Rules from https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api and
https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import time
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)

MAX_RATE_WAIT_S = 3900.0  # longest pause honoured in one go: a full primary window and a margin
POINTS_PER_MINUTE = 850  # GitHub allows 900 points per minute per REST endpoint (a GET is 1): stay under it
SECONDARY_DEFAULT_WAIT_S = 60.0  # "wait at least one minute" when a secondary limit names no time


def rate_wait(response: httpx.Response) -> float | None:
    """Seconds GitHub asks us to wait, or None when this answer is not a rate limit (a 403 can be either).
    ``response`` has been read (its message can be the only sign)."""
    if response.status_code not in (403, 429):
        return None
    h = response.headers
    if "retry-after" in h:
        try:
            return max(float(h["retry-after"]), 0.0)
        except ValueError:
            return SECONDARY_DEFAULT_WAIT_S
    if h.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in h:
        try:
            return max(float(h["x-ratelimit-reset"]) - time.time(), 1.0)
        except ValueError:
            return SECONDARY_DEFAULT_WAIT_S
    # a 429 is "too many requests" whatever its body says (a proxy's may be empty); a 403 only with the message
    if response.status_code == 429 or b"rate limit" in response.content.lower():
        return SECONDARY_DEFAULT_WAIT_S
    return None


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
    ) -> None:
        self.inner = inner
        self.api_origin = api_origin
        self.max_attempts = max_attempts
        self.points_per_minute = points_per_minute
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
                await asyncio.sleep(backoff(attempt))
                continue
            wait = rate_wait(response)
            if wait is not None:
                self.rate_limited += 1
                self.pause(wait)
                if last:
                    return response
                log.info("rate limited on %s; pausing %.0f s", request.url.path, wait)
                continue
            if response.status_code >= 500 and not last:
                await asyncio.sleep(backoff(attempt))
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
                response = await self.inner.handle_async_request(request)
                try:
                    await response.aread()  # the whole body here: a broken one fails this attempt, not the caller
                finally:
                    await response.aclose()  # the connection goes back to the pool (or is dropped) whatever happened
            finally:
                self._in_flight -= 1
        self._track(response)
        return response

    async def _gate(self) -> None:
        """Hold every API request while GitHub has asked for a pause: one limit answer stops all workers
        (continuing while limited "may result in the banning of your integration")."""
        while (delay := self._resume_at - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    def pause(self, seconds: float) -> None:
        self._resume_at = max(self._resume_at, time.monotonic() + min(seconds, MAX_RATE_WAIT_S))

    async def _wait_for_budget(self) -> None:
        """While the window's budget is spent (or promised to requests in flight), wait for its reset."""
        while True:
            await self._gate()
            b = self.budget
            if b.remaining is None or b.remaining > 0 or (left := b.reset - time.time()) <= 0:
                return
            self.pause(left + random.uniform(0.5, 1.5))  # past the reset, and not all at the same instant

    async def _pace(self, path: str) -> None:
        """Keep each endpoint under GitHub's per-minute points (a sliding 60-second window)."""
        async with self._pace_locks[path]:
            sent = self._sent[path]
            while True:
                now = time.monotonic()
                while sent and sent[0] <= now - 60:
                    sent.popleft()
                if len(sent) < self.points_per_minute:
                    sent.append(now)
                    return
                await asyncio.sleep(sent[0] + 60 - now)

    def _track(self, response: httpx.Response) -> None:
        h = response.headers
        try:
            remaining, reset = int(h["x-ratelimit-remaining"]), float(h["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        b = self.budget
        b.limit = int(h["x-ratelimit-limit"]) if h.get("x-ratelimit-limit", "").isdigit() else b.limit
        b.used = int(h["x-ratelimit-used"]) if h.get("x-ratelimit-used", "").isdigit() else b.used
        if reset > b.reset or b.remaining is None:  # a new window
            b.remaining, b.reset = remaining - self._in_flight, reset
        else:
            b.remaining = min(b.remaining, remaining - self._in_flight)
        if b.remaining <= 0:  # spent: hold every new request (not only those that reach a slot) until the reset
            self.pause(reset - time.time() + random.uniform(0.5, 1.5))

    async def aclose(self) -> None:
        await self.inner.aclose()
