"""The one network seam: httpx requests to GitHub's REST API and its report download links, each sent straight to
a transport of its own (aiohttp's pool under httpx's API, see transport.py; tests pass an ASGI transport).

* The token goes only to the API origin (scheme, host, port); download links get no ``Authorization``
  (REFERENCE §2.6, §9.1). Billing paths use the billing token (REFERENCE §7.3).
* Retries (tenacity): 429/403 rate limits honour ``retry-after`` then ``x-ratelimit-reset``; 5xx, dropped
  connections and truncated bodies back off exponentially with jitter; attempts are bounded (REFERENCE §8).
* Concurrency is bounded by a semaphore (default 4, far under GitHub's 100 concurrent requests).
* The primary budget is counted down from ``x-ratelimit-remaining`` less the requests in flight; once spent,
  requests wait for ``x-ratelimit-reset`` instead of going out to be refused. Each endpoint is paced under its
  per-minute points (a sliding 60-second window).
* Signed URLs are logged without their query string and never persisted.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, Self, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from . import __version__
from .errors import ApiError, AuthError, DownloadError, NotFound, RateLimited
from .transport import AiohttpTransport

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
MAX_RATE_WAIT_S = 900.0
# REFERENCE §8: at most 900 points per minute per REST endpoint (GET = 1); stay a little under it
POINTS_PER_MINUTE = 850


def redact(url: str | httpx.URL) -> str:
    """A URL safe to log: no query string (signed links carry their signature there)."""
    u = httpx.URL(str(url))
    return str(u.copy_with(query=None))


class Sink(Protocol):
    """Where a download's bytes go: ``rewind()`` before each attempt, then ``write(chunk)`` per chunk. When
    ``write`` returns True, ``drain()`` (blocking file work) is run in a worker thread before the next chunk."""

    def rewind(self) -> None: ...

    def write(self, chunk: bytes) -> bool: ...

    def drain(self) -> None: ...


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, RateLimited):
        return True
    if isinstance(exc, DownloadError):
        return not exc.expired
    if isinstance(exc, ApiError):
        return exc.status >= 500
    return isinstance(exc, httpx.TransportError)


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RateLimited):
        return min(exc.wait, MAX_RATE_WAIT_S) + random.uniform(0, 0.25)
    base = min(0.25 * 2 ** (state.attempt_number - 1), 20.0)
    return base / 2 + random.uniform(0, base / 2)  # exponential backoff with jitter


def _rate_wait(response: httpx.Response) -> float | None:
    """Seconds GitHub asks us to wait, or None if this 403/429 is not a rate limit (REFERENCE §8)."""
    h = response.headers
    if "retry-after" in h:
        try:
            return float(h["retry-after"])
        except ValueError:
            return 60.0
    if h.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in h:
        return max(float(h["x-ratelimit-reset"]) - time.time(), 1.0)
    text = response.text.lower() if response.status_code in (403, 429) else ""
    if "rate limit" in text:
        return 60.0
    return None


def permission_hint(path: str) -> str:
    if "/settings/billing/" in path:
        return (
            "billing needs COPILOT_BILLING_TOKEN: a classic PAT with manage_billing:enterprise (enterprise) or "
            "manage_billing:copilot (standalone org); organizations billed through an enterprise answer 404"
        )
    if path.startswith("/enterprises/"):
        return (
            "enterprise reports need an enterprise owner/billing manager token: classic PAT with "
            "manage_billing:copilot or read:enterprise, or a GitHub App with 'Enterprise Copilot metrics' "
            "(read); the 'Copilot usage metrics' policy must be enabled"
        )
    return (
        "organization reports need an org owner token: classic PAT with read:org (manage_billing:copilot for "
        "seats), or a fine-grained token / GitHub App with 'Organization Copilot metrics' (read)"
    )


class GitHub:
    """Async client for the API and its download links. Use as ``async with GitHub(...) as gh``."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        token: str | None,
        billing_token: str | None = None,
        concurrency: int = 4,
        max_attempts: int = 6,
        timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not 1 <= concurrency <= 50:
            msg = f"concurrency {concurrency} is outside 1..50 (GitHub allows at most 100 concurrent requests)"
            raise ValueError(msg)
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.limit = asyncio.Semaphore(concurrency)

        # Requests go straight to their transport: the kit needs none of httpx.AsyncClient's per-request merging,
        # auth flow, cookie jar or redirects, which cost as much CPU as the transport itself at a backfill's pace.
        # By default httpx runs over aiohttp (transport.py: a third less CPU per request than httpcore), the API and
        # the signed download links each with a pool of their own and one TLS context between them (loading the CA
        # bundle takes tens of milliseconds); tests pass their own transport (an in-process ASGI app).
        self.api: httpx.AsyncBaseTransport
        self.downloads: httpx.AsyncBaseTransport
        if transport is None:
            tls = httpx.create_ssl_context()
            self.api, self.downloads = (AiohttpTransport(max_connections=concurrency, verify=tls) for _ in range(2))
        else:
            self.api = self.downloads = transport
        u = httpx.URL(self.base_url)
        self._origin = (u.scheme, u.host, u.port)
        self._token, self._billing_token = token, billing_token or token
        self._api_headers = httpx.Headers(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"copilot-usage/{__version__}",
            }
        )
        self._download_headers = httpx.Headers({"User-Agent": f"copilot-usage/{__version__}"})
        self._timeout = httpx.Timeout(timeout).as_dict()
        self.requests = 0
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._pace_locks: dict[str, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self._resume_at = 0.0  # monotonic time before which no API request goes out (rate limited)
        # the primary budget as the last answer gave it, less the API requests still in flight: when it is spent,
        # requests wait for the reset instead of going out to be refused
        self._budget: int | None = None
        self._budget_reset = 0.0  # epoch seconds (x-ratelimit-reset)
        self._api_in_flight = 0

    async def _gate(self) -> None:
        """Hold every API request while GitHub has asked us to pause: one limit answer stops all workers,
        instead of each queued request discovering the limit for itself (REFERENCE §8: continuing while
        limited risks a ban)."""
        while (delay := self._resume_at - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    def _pause(self, seconds: float) -> None:
        self._resume_at = max(self._resume_at, time.monotonic() + min(seconds, MAX_RATE_WAIT_S))

    async def _pace(self, path: str) -> None:
        """Keep each endpoint under GitHub's per-minute point budget (sliding 60-second window)."""
        async with self._pace_locks[path]:
            sent = self._sent[path]
            while True:
                now = time.monotonic()
                while sent and sent[0] <= now - 60:
                    sent.popleft()
                if len(sent) < POINTS_PER_MINUTE:
                    sent.append(now)
                    return
                await asyncio.sleep(sent[0] + 60 - now)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.api.aclose()
        await self.downloads.aclose()

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` with retries (tenacity). The first try runs bare: nearly every call succeeds at once, and
        tenacity's bookkeeping costs about as much CPU as a tenth of a request. A retryable failure is handed to
        tenacity as its first attempt, so waits and the attempt bound are the same as if it had run them all."""
        try:
            return await call()
        except Exception as exc:
            if not _retryable(exc):  # raised as it is: no retry machinery for a failure it would not retry
                raise
            first: Exception | None = exc
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable), wait=_wait, stop=stop_after_attempt(self.max_attempts), reraise=True
        )
        async for attempt in retrying:
            with attempt:
                if first is not None:
                    failed, first = first, None
                    raise failed
                return await call()
        msg = "unreachable"
        raise AssertionError(msg)  # pragma: no cover

    async def _api_once(self, path: str, params: dict[str, Any] | None) -> httpx.Response:
        await self._gate()
        # the endpoint's path (next-page links are absolute URLs; parsing every path with httpx costs CPU)
        await self._pace(httpx.URL(path).path if "://" in path else path.partition("?")[0])
        async with self.limit:
            await self._gate()
            while self._budget is not None and self._budget <= 0 and (left := self._budget_reset - time.time()) > 0:
                self._pause(left)  # the window's budget is spent or promised to requests in flight
                await self._gate()
            if self._budget is not None:
                self._budget -= 1
            self.requests += 1
            self._api_in_flight += 1
            try:
                r = await self.api.handle_async_request(self._api_request(self._url(path, params)))
                await r.aread()  # decoded as httpx would; closes the stream
            finally:
                self._api_in_flight -= 1
        self._track_budget(r)
        if r.status_code < 400:
            return r
        wait = _rate_wait(r) if r.status_code in (403, 429) else None
        message = _message(r)
        if wait is not None:
            self._pause(wait)
            msg = f"rate limited on {path}: {message}"
            raise RateLimited(msg, status=r.status_code, wait=0.0)
        if r.status_code in (401, 403):
            msg = f"{r.status_code} on {path}: {message}. {permission_hint(path)}"
            raise AuthError(msg, status=r.status_code)
        if r.status_code == 404:
            msg = f"404 on {path}: {message}. Check the name and that the token can see it; {permission_hint(path)}"
            raise NotFound(msg, status=404)
        msg = f"{r.status_code} on {path}: {message}"
        raise ApiError(msg, status=r.status_code)

    def _url(self, path: str, params: dict[str, Any] | None) -> str:
        """The request's absolute URL: httpx merging a path into ``base_url`` and params into its query costs three
        times as much per request as parsing one ready URL (measured: ~157 µs against ~57 µs)."""
        url = path if "://" in path else self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        return url

    def _api_request(self, url: str) -> httpx.Request:
        """A GET with the API's headers; the token only when the URL is on the API origin (a next-page link
        elsewhere gets none), the billing token for billing paths."""
        request = httpx.Request("GET", url, headers=self._api_headers, extensions={"timeout": self._timeout})
        u = request.url
        if (u.scheme, u.host, u.port) == self._origin:
            token = self._billing_token if "/settings/billing/" in u.path else self._token
            if token:
                request.headers["Authorization"] = f"Bearer {token}"
        return request

    def _track_budget(self, r: httpx.Response) -> None:
        try:
            remaining, reset = int(r.headers["x-ratelimit-remaining"]), float(r.headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        if reset > self._budget_reset or self._budget is None:  # a new window
            self._budget, self._budget_reset = remaining - self._api_in_flight, reset
        else:
            self._budget = min(self._budget, remaining - self._api_in_flight)
        if self._budget <= 0:  # spent: hold every new request (not only those that reach a slot) until the reset
            self._pause(reset - time.time())

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET an API path with retries; raises the error tree for failures."""
        return await self._with_retries(lambda: self._api_once(path, params))

    async def paginate(self, path: str, params: dict[str, Any] | None = None) -> AsyncIterator[httpx.Response]:
        """Every page of a ``Link``-paged list (``per_page=100``)."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        while url:
            r = await self.get(url, query)
            yield r
            url = r.links.get("next", {}).get("url")
            query = None

    async def download(self, url: str, sink: Sink) -> int:
        """Stream one signed link into ``sink`` (no token, never logged with its query); returns the bytes received.
        Each attempt first rewinds the sink, so a retried link never leaves a partial copy behind."""
        request = httpx.Request("GET", url, headers=self._download_headers, extensions={"timeout": self._timeout})
        async with self.limit:
            self.requests += 1
            sink.rewind()
            try:
                r = await self.downloads.handle_async_request(request)
                try:
                    if r.status_code in (401, 403):
                        msg = f"download link expired or refused ({r.status_code}): {redact(url)}"
                        raise DownloadError(msg, expired=True)
                    if r.status_code >= 400:
                        msg = f"download failed ({r.status_code}): {redact(url)}"
                        raise DownloadError(msg)
                    size = 0
                    async for chunk in r.aiter_raw():
                        size += len(chunk)
                        if sink.write(chunk):
                            await asyncio.to_thread(sink.drain)
                    expected = r.headers.get("content-length")
                    if expected is not None and int(expected) != size:
                        msg = f"truncated download ({size} of {expected} bytes): {redact(url)}"
                        raise DownloadError(msg)
                    return size
                finally:
                    await r.aclose()
            except httpx.TransportError as exc:
                msg = f"download interrupted ({type(exc).__name__}): {redact(url)}"
                raise DownloadError(msg) from exc

    async def download_with_retries(self, url: str, sink: Sink) -> int:
        return await self._with_retries(lambda: self.download(url, sink))


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.reason_phrase
    return str(body.get("message", r.reason_phrase)) if isinstance(body, dict) else r.reason_phrase
