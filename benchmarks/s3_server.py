"""An S3-compatible server on loopback (moto's, as the tests use) that counts the requests it answers, by kind.

    .venv/bin/python benchmarks/s3_server.py --port 0 --bucket bench   # prints "http://127.0.0.1:PORT", serves

Run as its own process so its CPU time is its own (``bench_objstore.py`` starts it). ``GET /__stats`` answers
``{kind: {n, s, bytes_in, bytes_out}}`` since the last ``POST /__stats/reset``: kind is the HTTP method and what the
key is (a raw data file, a raw sidecar, a Delta log entry, a Parquet file, a listing …), ``s`` the server's time
answering them (a request's wall time inside moto, not the client's). Objects over about 5 MB are kept by moto in
temporary files (``SpooledTemporaryFile``), the smaller ones in memory.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any


def kind(method: str, path: str, query: str) -> str:
    """``METHOD what``: what an S3 request is about, from its key (the kit's layout) and query."""
    key = path.split("/", 2)[2] if path.count("/") >= 2 else ""
    if "list-type" in query or (method == "GET" and not key):
        what = "listing"
    elif "uploads" in query or "uploadId" in query:
        what = "multipart"
    elif "/_delta_log/" in key:
        what = "delta log " + ("checkpoint" if "checkpoint" in key else "entry")
    elif key.startswith(("processed/", "cache/processed/")) or "/processed/" in key:
        what = "processed parquet" if key.endswith(".parquet") else "processed other"
    elif key.endswith(".meta.json"):
        what = "raw sidecar"
    elif "/raw/" in f"/{key}":
        what = "raw data" if "/.tmp/" not in key else "raw tmp"
    else:
        what = "other"
    return f"{method} {what}"


class Counting:
    """WSGI middleware: per kind, requests, seconds and bytes."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.stats: dict[str, dict[str, float]] = defaultdict(lambda: {"n": 0, "s": 0.0, "bytes_in": 0, "bytes_out": 0})

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, query, method = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ["REQUEST_METHOD"]
        if path.startswith("/__stats"):
            if method == "POST":
                with self.lock:
                    self.stats.clear()
            body = json.dumps(self.stats).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        started = time.perf_counter()
        out = b"".join(self.app(environ, start_response))
        with self.lock:
            s = self.stats[kind(method, path, query)]
            s["n"] += 1
            s["s"] += time.perf_counter() - started
            s["bytes_in"] += int(environ.get("CONTENT_LENGTH") or 0)
            s["bytes_out"] += len(out)
        return [out]


def stats(endpoint: str, *, reset: bool = False) -> dict[str, dict[str, float]]:
    req = urllib.request.Request(f"{endpoint}/__stats" + ("/reset" if reset else ""), method="POST" if reset else "GET")
    with urllib.request.urlopen(req) as resp:
        got: dict[str, dict[str, float]] = json.loads(resp.read())
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bucket", action="append", default=[])
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    server = make_server(
        "127.0.0.1",
        args.port,
        Counting(DomainDispatcherApplication(create_backend_app)),  # type: ignore[arg-type]
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for bucket in args.bucket:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT"))
    print(endpoint, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
