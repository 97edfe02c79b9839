"""bench_objstore: `build` and a report on a local data dir and on an S3-compatible store on loopback, side by side.

    .venv/bin/python benchmarks/bench_objstore.py --raw /tmp/demo/raw --work /tmp/objbench [--json out.json]

``--raw`` is the raw store of a cache made by the kit (``demo.simulate_cache``, ``benchmarks/scale_raw.py``). It is
copied to ``WORK/local/raw`` and uploaded to ``s3://bench/cache/raw`` on moto's server (started here, in memory:
keep the raw store to a few hundred MB). Then, as child processes, ``copilot-usage build`` (from scratch) and
``copilot-usage render trends --format html`` for the enterprise scope run on each; wall time and peak RSS
(``ru_maxrss`` from ``os.wait4``: the largest process among the child and the descendants it waited for) are
recorded. The server runs in this process, so its own work is on the same two cores as the children's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BIN = Path(sys.executable).parent


def _run(cmd: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        msg = f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}"
        raise SystemExit(msg)
    return {"s": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--scope", default="enterprise:octo-sim")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1"
    )
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/bench", method="PUT"))
    import obstore
    from obstore.store import from_url

    shutil.rmtree(args.work, ignore_errors=True)
    local = args.work / "local"
    shutil.copytree(args.raw, local / "raw")
    bucket = from_url("s3://bench", client_options={"allow_http": True})
    files = [p for p in (local / "raw").rglob("*") if p.is_file() and ".tmp" not in p.parts]
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: obstore.put(bucket, f"cache/{p.relative_to(local).as_posix()}", p.read_bytes()), files))
    upload_s = round(time.perf_counter() - started, 2)
    out: dict[str, object] = {"raw_files": len(files), "raw_bytes": sum(p.stat().st_size for p in files)}
    out["upload_s"] = upload_s
    cli = str(BIN / "copilot-usage")
    for name, data_dir in (("local", str(local)), ("s3", "s3://bench/cache")):
        if os.environ.get("BENCH_ONLY", name) != name:
            continue
        build = _run([cli, "build", "--data-dir", data_dir])
        render = _run(
            [
                cli,
                "render",
                "trends",
                "-p",
                "data_dir",
                data_dir,
                "-p",
                "scope",
                args.scope,
                "--format",
                "html",
                "--out",
                str(args.work / f"reports-{name}"),
            ]
        )
        out[name] = {"build": build, "render_trends": render}
        print(name, out[name], flush=True)
    server.stop()
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
