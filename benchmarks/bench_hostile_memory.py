"""Peak memory and wall time of ``copilot-usage fetch`` against a host answering three huge API bodies (issue 24).

A loopback server streams ``--mib`` MiB of valid JSON for each of the seats, teams and budgets endpoints of one org;
the fetch runs in a subprocess under ``/usr/bin/time -v`` (its maximum resident set size is the figure). Run it with
``PYTHONPATH=<an older checkout>/lib`` to measure older code the same way::

    .venv/bin/python benchmarks/bench_hostile_memory.py --mib 800
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

CHUNK = 1 << 20


def bodies(mib: int) -> dict[str, tuple[bytes, bytes, bytes]]:
    """Per path: the opening, one repeated item (with its comma) and the close of a JSON body of ``mib`` MiB."""
    return {
        "/orgs/acme/copilot/billing/seats": (b'{"total_seats":1,"seats":[', b'{"assignee":null},', b"{}]}"),
        "/orgs/acme/teams": (b"[", b'{"id":1,"slug":"t"},', b'{"id":2,"slug":"u"}]'),
        "/organizations/acme/settings/billing/budgets": (b'{"budgets":[', b'{"id":"b"},', b'{"id":"c"}]}'),
    }


async def serve(mib: int, ready: threading.Event, port: list[int]) -> None:
    shapes = bodies(mib)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].split(b"?")[0].decode()
            if path in shapes:
                opening, item, close = shapes[path]
                chunk = item * (CHUNK // len(item))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n")
                writer.write(opening)
                for _ in range(mib):
                    writer.write(chunk)
                    await writer.drain()
                writer.write(close)
            else:
                body = json.dumps({"resources": {"core": {"limit": 5000, "remaining": 5000, "reset": 2e9}}})
                status = "200 OK" if path == "/rate_limit" else "204 No Content"
                payload = body.encode() if path == "/rate_limit" else b""
                writer.write(
                    f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n"
                    f"connection: close\r\n\r\n".encode()
                    + payload
                )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port.append(server.sockets[0].getsockname()[1])
    ready.set()
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=800, help="size of each of the three answers (MiB)")
    args = parser.parse_args()
    ready, port = threading.Event(), []
    threading.Thread(target=asyncio.run, args=(serve(args.mib, ready, port),), daemon=True).start()
    ready.wait(5)
    with tempfile.TemporaryDirectory() as data_dir:
        cmd = [
            "/usr/bin/time",
            "-v",
            sys.executable,
            "-m",
            "copilot_usage",
            "fetch",
            "--org",
            "acme",
            "--reports",
            "seats,teams,budgets",
            "--base-url",
            f"http://127.0.0.1:{port[0]}",
            "--data-dir",
            data_dir,
        ]
        started = time.monotonic()
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, env={**os.environ, "GITHUB_TOKEN": "t"})
        wall = time.monotonic() - started
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith(("error:", "Traceback", "MemoryError"))]
    result = {
        "answers_mib": [args.mib] * 3,
        "exit": done.returncode,
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(int(rss.group(1)) / 1024) if rss else None,
        "errors": errors[:5],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
