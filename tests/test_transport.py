"""The aiohttp transport under httpx: URLs sent byte for byte, no cookies, httpx's exceptions, env proxies."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from copilot_usage.github import GitHub
from copilot_usage.transport import AiohttpTransport


async def _serve(answer: bytes, seen: list[bytes]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not reader.at_eof():
            try:
                seen.append(await reader.readuntil(b"\r\n\r\n"))
            except asyncio.IncompleteReadError:
                break
            writer.write(answer)
            await writer.drain()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_urls_go_out_as_encoded_and_cookies_never_come_back() -> None:
    signed = "/r/day.ndjson?sig=a%2Fb%2Bc%3D&x=%7E&se=1"  # a signed link's query: must not be re-quoted
    seen: list[bytes] = []
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: s=1; Path=/\r\n\r\nok"

    class Sink:
        body = b""

        def rewind(self) -> None:
            self.body = b""

        def write(self, chunk: bytes) -> bool:
            self.body += chunk
            return False

        def drain(self) -> None: ...

    async def go() -> list[bytes]:
        server = await _serve(answer, seen)
        port = server.sockets[0].getsockname()[1]
        async with GitHub(f"http://127.0.0.1:{port}", token="t") as gh:  # the kit's two paths, on this transport
            api = [(await gh.get(signed)).content for _ in range(2)]
            sink = Sink()
            await gh.download(f"http://127.0.0.1:{port}{signed}", sink)
        server.close()
        return [*api, sink.body]

    assert asyncio.run(go()) == [b"ok", b"ok", b"ok"]
    assert [h.split(b"\r\n")[0] for h in seen] == [f"GET {signed} HTTP/1.1".encode()] * 3
    assert all(b"cookie:" not in h.lower() for h in seen)
    assert [b"authorization: bearer t" in h.lower() for h in seen] == [True, True, False]  # the token: API only


def test_a_refused_connection_is_an_httpx_transport_error() -> None:
    async def go() -> None:
        async with httpx.AsyncClient(transport=AiohttpTransport(max_connections=1)) as client:
            await client.get("http://127.0.0.1:9/")

    with pytest.raises(httpx.TransportError):
        asyncio.run(go())


def test_a_truncated_body_is_an_httpx_read_error() -> None:
    seen: list[bytes] = []

    async def go() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with (
            httpx.AsyncClient(transport=AiohttpTransport(max_connections=1)) as client,
            client.stream("GET", f"http://127.0.0.1:{port}/") as r,
        ):
            async for _ in r.aiter_raw():
                pass
        server.close()

    with pytest.raises(httpx.TransportError):
        asyncio.run(go())
    assert seen == []


def test_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "internal.corp")
    t = AiohttpTransport(max_connections=1)
    assert t._proxy(httpx.URL("https://api.github.com/x")) == "http://proxy.corp:3128"
    assert t._proxy(httpx.URL("https://ghe.internal.corp/x")) is None
