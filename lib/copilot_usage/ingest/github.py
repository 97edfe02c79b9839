"""The one network seam: an ``httpx.AsyncClient`` for GitHub's REST API and its report download links.

* :class:`~copilot_usage.ingest.auth.GitHubAuth` puts the right token on API requests only (the billing token on billing
  paths, a GitHub App's installation token when an app is configured); download links get none.
* :class:`~copilot_usage.ingest.transport.GitHubTransport` wraps httpx's own transport: the rate-limit gate, per-endpoint
  pacing, the primary budget and retries of API requests. Downloads are retried here, each attempt rewinding its
  sink, so a retried link never leaves a partial copy behind.
* Errors come out as the kit's exception tree: a rate limit that outlasted every retry, a permission 403/401 naming
  the permission needed, a 404 naming what to check, other statuses with GitHub's message.
* An answer that is not what the endpoint returns (a redirect, HTML, an empty body, JSON of another shape) is an
  error, never a body to store; listings stop at a next link already seen and at ``Limits.max_pages``; downloads are
  read within ``Limits`` (size, speed) and refused when they are an HTML page.
* Signed URLs are logged without their query string and never persisted; tokens are never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, Self, TypeVar

import httpx

from .. import __version__
from ..errors import ApiError, AuthError, DownloadError, NotFound, RateLimited
from .auth import App, GitHubAuth, origin
from .limits import Limits
from .transport import Budget, Clock, Floor, GitHubTransport, SlowBody, backoff, not_an_api_answer, rate_wait

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}


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
    """Async client for the API and its download links. Use as ``async with GitHub(...) as gh``.

    ``transport`` replaces httpx's own network transport under the rate-limit policy (tests pass an
    ``httpx.MockTransport`` or an ASGI app)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        token: str | None,
        billing_token: str | None = None,
        app: App | None = None,
        concurrency: int = 4,
        max_attempts: int = 6,
        timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: Limits | None = None,
        on_wait: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not 1 <= concurrency <= 50:
            msg = f"concurrency {concurrency} is outside 1..50 (GitHub allows at most 100 concurrent requests)"
            raise ValueError(msg)
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.app = app
        self.limits = limits or Limits()
        # API requests and downloads each hold at most `concurrency` connections: the pool never makes one wait
        inner = transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=2 * concurrency, max_keepalive_connections=2 * concurrency)
        )
        self.policy = GitHubTransport(
            inner,
            api_origin=origin(httpx.URL(self.base_url)),
            concurrency=concurrency,
            max_attempts=max_attempts,
            limits=self.limits,
            on_wait=on_wait,
            clock=clock,
        )
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            auth=GitHubAuth(self.base_url, token=token, billing_token=billing_token, app=app),
            transport=self.policy,
            headers={"User-Agent": f"copilot-usage/{__version__}"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )
        self.downloads = asyncio.Semaphore(concurrency)

    @property
    def requests(self) -> int:
        """API requests sent so far (retries included)."""
        return self.policy.api_requests

    @property
    def budget(self) -> Budget:
        return self.policy.budget

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def get(
        self, path: str, params: dict[str, Any] | None = None, *, expect: type[dict[str, Any] | list[Any]] | None = None
    ) -> httpx.Response:
        """GET an API path (or an absolute next-page URL); retried by the transport; raises the error tree. A 2xx
        other than 204 is JSON (of type ``expect`` when given): anything else raises :class:`ApiError`."""
        r = await self.client.get(path, params=params, headers=API_HEADERS)
        where = httpx.URL(path).path if "://" in path else path
        if r.status_code < 400:
            wrong = not_an_api_answer(r)
            if wrong is None and expect is not None and r.status_code != 204 and not isinstance(r.json(), expect):
                wrong = f"{r.status_code} with a JSON {type(r.json()).__name__}, not the {expect.__name__} it returns"
            if wrong is not None:
                msg = f"{where} answered {wrong}; nothing stored"
                raise ApiError(msg, status=r.status_code)
            return r
        message = _message(r)
        wait = rate_wait(r, now=self.policy.clock.time(), cap=self.limits.max_rate_wait_s)
        if wait is not None:
            msg = f"rate limited on {where} after {self.max_attempts} attempts: {message}"
            raise RateLimited(msg, status=r.status_code, wait=wait)
        if r.status_code in (401, 403):
            msg = f"{r.status_code} on {where}: {message}. {permission_hint(where)}"
            raise AuthError(msg, status=r.status_code)
        if r.status_code == 404:
            msg = f"404 on {where}: {message}. Check the name and that the token can see it; {permission_hint(where)}"
            raise NotFound(msg, status=404)
        msg = f"{r.status_code} on {where}: {message}"
        raise ApiError(msg, status=r.status_code)

    async def rate_limit(self) -> Budget:
        """The token's primary budget now (``GET /rate_limit``, which does not count against it)."""
        r = await self.get("/rate_limit", expect=dict)
        core = (r.json().get("resources") or {}).get("core") or r.json().get("rate") or {}
        b = self.policy.budget
        if isinstance(core.get("remaining"), int):
            b.limit, b.remaining, b.used = core.get("limit"), core["remaining"], core.get("used")
            b.reset = float(core.get("reset") or b.reset)
        return b

    async def paginate(
        self, path: str, params: dict[str, Any] | None = None, *, expect: type[list[Any] | dict[str, Any]] = list
    ) -> AsyncIterator[httpx.Response]:
        """Every page of a ``Link``-paged list (``per_page=100``). A next link already followed (a page pointing
        back to itself or to an earlier one) or more than ``Limits.max_pages`` pages raise :class:`ApiError`."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        seen: set[httpx.URL] = set()
        while url:
            r = await self.get(url, query, expect=expect)
            seen.add(r.request.url)
            yield r
            url = r.links.get("next", {}).get("url")
            query = None
            if url is None:
                return
            where = httpx.URL(path).path
            if self.client.base_url.join(url) in seen:
                msg = f"{where}: the next-page link points to a page already read (page {len(seen)}); listing stopped"
                raise ApiError(msg, status=r.status_code)
            if len(seen) >= self.limits.max_pages:
                msg = f"{where}: more than {self.limits.max_pages:,} pages (--limit max_pages); listing stopped"
                raise ApiError(msg, status=r.status_code)

    async def download(self, url: str, sink: Sink) -> int:
        """Stream one signed link into ``sink`` (no token, never logged with its query); returns the bytes received.
        The sink is rewound first, so a retried link never leaves a partial copy behind. An HTML page, a body over
        ``Limits.download_bytes`` (a Content-Length over it is refused before reading) or slower than the floor
        fails the attempt."""
        bound = self.limits.download_bytes
        async with self.downloads:
            sink.rewind()
            try:
                async with Floor(self.limits, redact(url)) as floor, self.client.stream("GET", url) as r:
                    if r.status_code in (401, 403):
                        msg = f"download link expired or refused ({r.status_code}): {redact(url)}"
                        raise DownloadError(msg, expired=True)
                    if r.status_code >= 400:
                        msg = f"download failed ({r.status_code}): {redact(url)}"
                        raise DownloadError(msg)
                    if r.status_code != 200 or "html" in r.headers.get("content-type", "").lower():
                        what = r.headers.get("content-type", "") if r.status_code == 200 else f"a {r.status_code}"
                        msg = f"download answered {what}, not a report: {redact(url)}"
                        raise DownloadError(msg)
                    expected = r.headers.get("content-length")
                    if expected is not None and expected.isdigit() and int(expected) > bound:
                        msg = f"download of {int(expected):,} bytes is over the {bound:,}-byte bound (--limit download_bytes): {redact(url)}"
                        raise DownloadError(msg, final=True)
                    size = 0
                    async for chunk in r.aiter_raw():
                        size += len(chunk)
                        if size > bound:
                            msg = f"download over the {bound:,}-byte bound (--limit download_bytes): {redact(url)}"
                            raise DownloadError(msg, final=True)
                        floor.got(len(chunk))
                        if sink.write(chunk):
                            await asyncio.to_thread(sink.drain)
                    if expected is not None and expected != str(size):
                        msg = f"truncated download ({size} of {expected} bytes): {redact(url)}"
                        raise DownloadError(msg)
                    return size
            except SlowBody as exc:
                msg = f"download slower than {exc.floor}: {redact(url)}"
                raise DownloadError(msg) from exc
            except httpx.TransportError as exc:
                msg = f"download interrupted ({type(exc).__name__}): {redact(url)}"
                raise DownloadError(msg) from exc

    async def download_with_retries(self, url: str, sink: Sink) -> int:
        """:meth:`download`, retried with backoff unless the link expired (then the caller asks for fresh links)."""
        return await _retry(lambda: self.download(url, sink), self.max_attempts)


async def _retry(call: Callable[[], Awaitable[T]], attempts: int) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except DownloadError as exc:
            if exc.expired or exc.final or attempt == attempts:
                raise
            log.info("%s; retrying", exc)
            await asyncio.sleep(backoff(attempt))
    msg = "unreachable"
    raise AssertionError(msg)  # pragma: no cover


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.reason_phrase
    return str(body.get("message", r.reason_phrase)) if isinstance(body, dict) else r.reason_phrase
