"""Serve a :class:`Simulator` over real loopback HTTP with uvicorn (foreground or in a thread)."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from .app import Simulator
from .apps import key_pair


@dataclass(frozen=True)
class Served:
    """Connection facts of a running simulator (the first JSON line ``simulate serve`` prints)."""

    base_url: str
    enterprise: str
    orgs: list[str]
    token: str
    billing_token: str
    today: str
    newest_day: str
    app_id: str
    installation_id: str
    app_key_path: str  # the simulated GitHub App's private key (PEM), made once per process

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP lets asyncio switch Nagle off on accepted connections (it checks the protocol); with
    # proto 0 every response waits ~40 ms for the client's delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _served(sim: Simulator, port: int) -> Served:
    t = sim.tenant
    return Served(
        base_url=f"http://127.0.0.1:{port}",
        enterprise=t.enterprise,
        orgs=list(t.org_names),
        token=sim.config.token,
        billing_token=sim.config.billing_token,
        today=t.today.isoformat(),
        newest_day=t.newest.isoformat(),
        app_id=sim.apps.app_id,
        installation_id=sim.apps.installation_id,
        app_key_path=str(key_pair()[0]),
    )


def _server(sim: Simulator) -> uvicorn.Server:
    config = uvicorn.Config(
        sim, log_level="critical", access_log=False, lifespan="off", timeout_keep_alive=30, limit_concurrency=None
    )
    return uvicorn.Server(config)


def serve(sim: Simulator, *, port: int = 0) -> None:
    """Serve until interrupted; first prints one JSON line with the connection facts."""
    sock = _bind(port)
    server = _server(sim)
    print(json.dumps(_served(sim, sock.getsockname()[1]).as_dict()), flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # pragma: no cover - interactive stop
        sys.exit(0)


@contextmanager
def running(sim: Simulator, *, port: int = 0) -> Iterator[Served]:
    """Run the simulator on a loopback socket in a background thread for the duration of a block."""
    sock = _bind(port)
    server = _server(sim)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield _served(sim, sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
