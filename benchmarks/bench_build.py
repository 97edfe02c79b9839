"""bench_build: `copilot-usage build` beside the bare readers of the same raw NDJSON, as whole processes.

    python benchmarks/bench_build.py DATA_DIR [--runs 3]

DATA_DIR holds a raw store (benchmarks/make_raw.py). Prints, per command, the median wall time and the peak RSS
over the runs, and the ratio of each to the pyarrow floor. Run by hand; figures go in the README.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-pandas", action="store_true")
    args = ap.parse_args()
    exe = Path(sys.executable)
    readers = str(HERE / "readers.py")
    commands = {
        "(a) copilot-usage build": [
            str(exe.with_name("copilot-usage")),
            "build",
            "--full",
            "--data-dir",
            str(args.data_dir),
        ],
        "(b) pyarrow.json.read_json": [str(exe), readers, str(args.data_dir), "pyarrow"],
        "(c) polars.read_ndjson": [str(exe), readers, str(args.data_dir), "polars"],
        "(d) pandas read_json+json_normalize": [str(exe), readers, str(args.data_dir), "pandas"],
    }
    if args.skip_pandas:
        commands.pop("(d) pandas read_json+json_normalize")
    results = {}
    for name, cmd in commands.items():
        run(cmd)  # warm-up (page cache)
        runs = [run(cmd) for _ in range(args.runs if "pandas" not in name else 1)]
        results[name] = (statistics.median(w for w, _ in runs), max(m for _, m in runs))
    floor = results["(b) pyarrow.json.read_json"][0]
    size = sum(p.stat().st_size for p in (args.data_dir / "raw").rglob("*.ndjson")) / 1e6
    print(f"raw users-1-day NDJSON: {size:.0f} MB")
    for name, (wall, rss) in results.items():
        print(f"{name:40s} wall {wall:6.2f} s   x floor {wall / floor:5.2f}   peak RSS {rss:7.0f} MiB")


if __name__ == "__main__":
    main()
