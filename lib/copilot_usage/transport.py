"""An httpx transport over aiohttp's connection pool and C HTTP parser.

The kit's network code is written against httpx (requests, responses, streaming, exceptions, ``ASGITransport`` in
tests) and sends its requests straight to a transport (github.py); this transport only replaces what sits under it.
A year's backfill at concurrency 32 spends about a third less client CPU per request than with httpcore
(``benchmarks/bench_backfill.py``), which is what decides its wall time on a small machine.

What it keeps from httpx's own transport: certificate verification (``httpx.create_ssl_context``, honouring
``SSL_CERT_FILE``/``SSL_CERT_DIR``), proxies from the environment (``HTTPS_PROXY``, ``NO_PROXY``), no redirects,
connect/read/pool timeouts, raw (undecoded) bodies for httpx to decode, and httpx's exception classes (so retries see
``httpx.TransportError``). What it adds: no cookie jar at all, and URLs sent byte for byte as httpx encoded them —
aiohttp would otherwise re-quote them (``%2F`` → ``/`` in a query), which breaks signed download links.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
import yarl


@contextmanager
def _mapped(request: httpx.Request) -> Iterator[None]:
    """aiohttp's exceptions as httpx's (the retry policy and error messages speak httpx)."""
    try:
        yield
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise httpx.RemoteProtocolError(str(exc) or "server disconnected", request=request) from exc
    except aiohttp.ClientPayloadError as exc:
        raise httpx.ReadError(str(exc), request=request) from exc
    except aiohttp.ClientResponseError as exc:  # a malformed response
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.NetworkError(str(exc), request=request) from exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self.response, self.request = response, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self.request):
            async for chunk in self.response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self.response.release()  # back to the pool if fully read, else the connection is closed


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=AiohttpTransport(max_connections=n))``. The session is made on first use,
    inside the running event loop."""

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | str | bool = True) -> None:
        self.max_connections = max_connections
        self.ssl_context = httpx.create_ssl_context(verify=verify)
        self._session: aiohttp.ClientSession | None = None
        self._env_proxies = urllib.request.getproxies_environment()
        self._proxy_for: dict[tuple[str, str], str | None] = {}

    def _proxy(self, url: httpx.URL) -> str | None:
        """The proxy for this origin from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``, looked up once per origin
        (aiohttp's own ``trust_env`` re-reads the environment and ``~/.netrc`` in a thread for every request)."""
        origin = (url.scheme, url.host)
        if origin not in self._proxy_for:
            bypass = urllib.request.proxy_bypass_environment(url.host, self._env_proxies)  # type: ignore[attr-defined]
            self._proxy_for[origin] = None if bypass else self._env_proxies.get(url.scheme)
        return self._proxy_for[origin]

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections, ssl=self.ssl_context),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,  # proxies from the environment are looked up by _proxy
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent"),
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        with _mapped(request):
            response = await self._client().request(
                request.method,
                yarl.URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                proxy=self._proxy(request.url),
                timeout=aiohttp.ClientTimeout(
                    connect=timeout.get("pool"), sock_connect=timeout.get("connect"), sock_read=timeout.get("read")
                ),
            )
        extensions = {"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()}
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
