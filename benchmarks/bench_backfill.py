"""bench_backfill: a backfill at GitHub's real primary rate limit, time-scaled, against its floor.

    python benchmarks/bench_backfill.py [--users 400] [--days 30] [--latency-ms 50] [--scale 200] [--fault-rate 0]

Real GitHub allows a personal token 5,000 REST requests an hour: that budget, not the client, sets a backfill's
wall time. The simulator (its own process) serves the limit scaled down in time by ``--scale``: 5,000/scale
requests per 3,600/scale-second window, the same requests-to-budget ratio as the real hour. The fetch (the
``copilot-usage fetch`` command, one enterprise + one org, every default report) is timed against its floor: the
full windows it must wait, ``(ceil(api_requests / limit) - 1) × window``. Prints the plan's first lines, the
requests, the floor, the wall time, wall − floor, the simulator's limit violations (must be 0), and what the
run stands for at the real limit (a backfill ``scale`` times as many requests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REAL_LIMIT, REAL_WINDOW_S = 5000, 3600.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=400)
    ap.add_argument("--days", type=int, default=30, help="days to backfill (the tenant has 365)")
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--scale", type=float, default=200, help="time compression of GitHub's hour")
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    limit, window = max(int(REAL_LIMIT / args.scale), 1), REAL_WINDOW_S / args.scale
    today = dt.date(2026, 11, 26)
    exe = str(Path(sys.executable).with_name("copilot-usage"))
    serve = [exe, "simulate", "serve", "--users", str(args.users), "--days", "365", "--today", today.isoformat()]
    serve += ["--latency-ms", str(args.latency_ms), "--fault-rate", str(args.fault_rate), "--cache-reports", "6000"]
    serve += ["--primary-limit", str(limit), "--primary-window", str(window)]
    server = subprocess.Popen(serve, stdout=subprocess.PIPE, text=True)
    try:
        served = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        env = {**os.environ, "GITHUB_TOKEN": served["token"], "COPILOT_BILLING_TOKEN": served["billing_token"]}
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [exe, "fetch", "--enterprise", served["enterprise"], "--org", served["orgs"][0]]
            cmd += ["--base-url", served["base_url"], "--data-dir", tmp, "--today", today.isoformat()]
            cmd += ["--since", (today - dt.timedelta(days=args.days + 1)).isoformat()]
            cmd += ["--concurrency", str(args.concurrency), "--rate-window", str(window)]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - t0
        record = httpx.get(f"{served['base_url']}/_sim/record").json()
    finally:
        server.terminate()
        server.wait()
    for line in done.stderr.splitlines():
        if line.startswith(("plan:", "budget:", "ETA:")):
            print(line)
    api = record["api_requests"]
    floor = (math.ceil(api / limit) - 1) * window
    violations = sum(record["limit_violations"].values())
    print(
        f"limit {limit}/{window:.0f} s (5,000/h ÷ {args.scale:g}), exit {done.returncode}: {api} API requests, "
        f"{record['downloads']} downloads, floor {floor:.1f} s, wall {wall:.1f} s, wall - floor {wall - floor:.1f} s, "
        f"limit violations {violations}, faults {sum(record['faults'].values())}"
    )
    print(
        f"as at GitHub's real 5,000/h: a backfill of {api * args.scale:,.0f} requests, which waits at least "
        f"{floor * args.scale / 3600:.1f} h for resets (wall - floor here: {wall - floor:.1f} s)"
    )


if __name__ == "__main__":
    main()
