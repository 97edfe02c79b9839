"""bench_objstore: `build` and reports on a local data dir and on an S3-compatible store on loopback, side by side.

    .venv/bin/python benchmarks/bench_objstore.py --raw /tmp/demo/raw --work /tmp/objbench [--json out.json] \\
        [--rounds 2] [--reports trends,spend] [--start 2026-09-26 --end 2026-11-24]

``--raw`` is the raw store of a cache made by the kit (``demo.simulate_cache``, ``benchmarks/scale_raw.py``). It is
hard-linked to ``WORK/local/raw`` (raw files are written once, never changed in place) and uploaded to
``s3://bench/cache/raw`` on moto's S3 server (``benchmarks/s3_server.py``, started here as its own process: objects
over ~5 MB go to temporary files, so a 20,000-seat raw store fits). Then, as child processes, ``copilot-usage build``
(from an empty ``processed/``) and ``copilot-usage render REPORT --format html`` for each report, local then S3,
``--rounds`` times (alternating, so both see the same load). ``--code NAME=LIB`` (repeatable) runs every step once per
code version (``PYTHONPATH=LIB``: a ``git archive`` of another commit's ``lib/``, with its ``notebooks/`` beside it),
alternating too, for an A-vs-B on the same raw store and load. Per step: wall time, the child's CPU time
(user + system, the steadier figure on a shared machine) and peak RSS (``ru_maxrss`` from ``os.wait4``: the
largest process among the child and the descendants it waited for), the S3 server's CPU time and its requests by
kind. The figures kept are the medians over the rounds, with each round's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from s3_server import stats  # this folder's helper, not a package


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (its threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(
    cmd: list[str], server: subprocess.Popen[str] | None, endpoint: str | None, env: dict[str, str] | None = None
) -> dict[str, Any]:
    if endpoint:
        stats(endpoint, reset=True)
    server_cpu = _cpu_s(server.pid) if server else 0.0
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        msg = f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}"
        raise SystemExit(msg)
    out: dict[str, Any] = {
        "s": round(seconds, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "load_at_start": round(load, 2),
    }
    if server and endpoint:
        out["server_cpu_s"] = round(_cpu_s(server.pid) - server_cpu, 2)
        requests = stats(endpoint)
        out["requests"] = sum(int(v["n"]) for v in requests.values())
        out["requests_by_kind"] = {
            k: {
                "n": int(v["n"]),
                "s": round(v["s"], 2),
                "mb_in": round(v["bytes_in"] / 1e6, 1),
                "mb_out": round(v["bytes_out"] / 1e6, 1),
            }
            for k, v in sorted(requests.items(), key=lambda kv: -kv[1]["s"])
        }
    return out


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("s", "cpu_s", "peak_rss_mb", "server_cpu_s", "requests")
    return {k: round(statistics.median(r[k] for r in runs), 2) for k in keys if k in runs[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--scope", default="enterprise:octo-sim")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--reports", default="trends", help="comma-separated reports to render (none: '')")
    ap.add_argument("--start", help="report period's first day (default: the report's own)")
    ap.add_argument("--end", help="report period's last day")
    ap.add_argument("--only", choices=("local", "s3"), help="one side only")
    ap.add_argument("--code", action="append", default=[], help="NAME=LIB: a code version to run (default: this one)")
    args = ap.parse_args()

    server = subprocess.Popen(
        [sys.executable, str(HERE / "s3_server.py"), "--bucket", "bench"], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    endpoint = server.stdout.readline().strip()
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1"
    )
    import obstore
    from obstore.store import from_url

    try:
        shutil.rmtree(args.work, ignore_errors=True)
        local = args.work / "local"
        shutil.copytree(args.raw, local / "raw", copy_function=os.link)
        bucket = from_url("s3://bench", client_options={"allow_http": True})
        files = [p for p in (local / "raw").rglob("*") if p.is_file() and ".tmp" not in p.parts]
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda p: obstore.put(bucket, f"cache/{p.relative_to(local).as_posix()}", p), files))
        out: dict[str, Any] = {"raw_files": len(files), "raw_bytes": sum(p.stat().st_size for p in files)}
        out["upload_s"] = round(time.perf_counter() - started, 2)
        print(f"uploaded {out}", flush=True)
        cli = str(BIN / "copilot-usage")
        codes = dict(c.split("=", 1) for c in args.code) or {"": ""}
        sides = {
            f"{side}{'-' + code if code else ''}": (side, code)
            for code in codes
            for side in ("local", "s3")
            if not args.only or side == args.only
        }
        rounds: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name in sides}
        reports = [r for r in args.reports.split(",") if r]
        period = [*(["-p", "start", args.start] if args.start else []), *(["-p", "end", args.end] if args.end else [])]
        for _ in range(args.rounds):
            for name, (side, code) in sides.items():
                env = {**os.environ, "PYTHONPATH": codes[code]} if codes[code] else None
                if side == "local":
                    data_dir = str(local)
                    shutil.rmtree(local / "processed", ignore_errors=True)
                else:  # an empty processed/ on the store too
                    data_dir = "s3://bench/cache"
                    keys = [o["path"] for batch in obstore.list(bucket, "cache/processed/") for o in batch]
                    for i in range(0, len(keys), 1000):
                        obstore.delete(bucket, keys[i : i + 1000])
                steps = {"build": [cli, "build", "--data-dir", data_dir]}
                for report in reports:
                    notebooks = ["--notebooks-dir", str(Path(codes[code]).parent / "notebooks")] if codes[code] else []
                    steps[f"render_{report}"] = [
                        cli, "render", report, "-p", "data_dir", data_dir, "-p", "scope", args.scope, *period,
                        "--format", "html", "--out", str(args.work / f"reports-{name}"), *notebooks,
                    ]  # fmt: skip
                for step, cmd in steps.items():
                    got = _run(cmd, server if side == "s3" else None, endpoint if side == "s3" else None, env)
                    rounds[name].setdefault(step, []).append(got)
                    print(name, step, {k: v for k, v in got.items() if k != "requests_by_kind"}, flush=True)
        for name, steps_run in rounds.items():
            out[name] = {step: {**_median(runs), "rounds": runs} for step, runs in steps_run.items()}
        for code in codes:
            lo, s3 = (f"{side}{'-' + code if code else ''}" for side in ("local", "s3"))
            if rounds.get(lo) and rounds.get(s3):
                out[f"s3_over_local{'-' + code if code else ''}"] = {
                    step: {
                        "wall": round(out[s3][step]["s"] / out[lo][step]["s"], 2),
                        "cpu": round(out[s3][step]["cpu_s"] / out[lo][step]["cpu_s"], 2),
                        "cpu_with_server": round(
                            (out[s3][step]["cpu_s"] + out[s3][step]["server_cpu_s"]) / out[lo][step]["cpu_s"], 2
                        ),
                    }
                    for step in out[lo]
                }
        out["cpus"] = os.cpu_count()
        out["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        server.terminate()
        server.wait()
    text = json.dumps(out, indent=1)
    print(json.dumps({k: v for k, v in out.items() if k.startswith("s3_over_local")}, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
