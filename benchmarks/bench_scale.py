"""bench_scale: a simulated tenant's raw store at enterprise scale, `build`, and the four reports, as child processes.

    nice -n 19 .venv/bin/python benchmarks/bench_scale.py --users 20000 --days 60 --work /tmp/scale --json out.json

`benchmarks/scale_raw.py` writes, with no HTTP, the raw files `copilot-usage fetch` would store for every report
kind the four reports read (see its docstring). Then `copilot-usage build` and `copilot-usage render NOTEBOOK
--format html` for the four reports (the enterprise, leadership audience, the last 90 days or D if fewer) run as
child processes: the HTML only, because the PDF adds a headless-Chromium print whose time has nothing to do with
the data's size. Each child's wall time and peak RSS are measured: ``peak_rss_mb`` is ``ru_maxrss`` from
``os.wait4`` (the largest single process among the child and the descendants it waited for, here the render CLI
and its Jupyter kernel); ``peak_tree_rss_mb`` is the largest sum of the RSS of the child and all its descendants,
sampled from /proc every 0.2 s (it can miss a short peak). This process imports nothing but the standard library:
a forked child's ``ru_maxrss`` starts at its parent's RSS, so a parent holding a tenant would inflate it.

``--monthly`` writes a month, builds it (incremental) and goes on, so a year never sits in raw whole;
``--delete-built-raw`` then deletes each month's raw users-1-day files once built and older than the reports'
window (a year of 100,000 users is about 58 GB of them), which the JSON records. The build figures are then the
sum of the monthly builds' wall times and the largest of their peaks. ``--newest-first`` (with ``--monthly``) goes from the newest month back, and renders once as soon as the
report window's months are built (``renders_window_only`` in the JSON: the reports then lack the older history
their previous-period comparisons read), so a year's run gives report figures early; the final renders run on
the whole year as usual. ``--parallel-generate`` (with ``--monthly``) has a second process write every other
month ahead into ``WORK/staged/`` (``scale_raw.take_staged`` moves it in when its turn comes): writing a
simulated year is the slow part on two cores, not the build; the generate figures of staged months are then the
move, not the writing. ``--reuse-raw`` keeps the raw store of an
earlier run in ``--work`` (and rebuilds it from scratch); ``--render-only`` keeps its raw and processed stores
and only renders (to compare report code on the same cache: the build figures are then the earlier run's, read
from ``--json`` when it exists).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
NOTEBOOKS = ("trends", "value_per_credit", "team_distribution", "spend")
REPORT_DAYS = 90


# ---------------------------------------------------------------------- measured children
def _tree_rss_kib(pid: int) -> int:
    """RSS of ``pid`` and all its descendants (KiB), from /proc; 0 for processes gone meanwhile."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")), 0)
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run(cmd: list[str], log: Path) -> dict[str, float]:
    """Wall seconds, ``ru_maxrss`` (MiB) of one child process, and the sampled peak RSS of its process tree."""
    peak = [0]
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], _tree_rss_kib(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{log.read_text()[-3000:]}")
    return {
        "s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": round(peak[0] / 1024, 1),
    }


def cli() -> str:
    return str(Path(sys.executable).with_name("copilot-usage"))


def raw_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in (data_dir / "raw").rglob("*") if p.is_file())


def build(data_dir: Path, work: Path, name: str, *, full: bool) -> dict[str, float]:
    return run([cli(), "build", "--data-dir", str(data_dir), *(["--full"] if full else [])], work / f"{name}.log")


def render(data_dir: Path, work: Path, notebook: str, scope: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    out = work / "reports"
    params = {"data_dir": str(data_dir), "scope": scope, "start": start.isoformat(), "end": end.isoformat()}
    cmd = [cli(), "render", notebook, "--format", "html", "--out", str(out), "--notebooks-dir", str(ROOT / "notebooks")]
    for k, v in params.items():
        cmd += ["-p", k, v]
    figures: dict[str, Any] = run(cmd, work / f"render-{notebook}.log")
    html = max((out / notebook).glob("*.html"), key=lambda p: p.stat().st_mtime)
    figures["html_bytes"] = html.stat().st_size
    return figures


def stage_months(ahead: list[str], gen: list[str], work: Path) -> None:
    """Write ``ahead`` months, one after the other, into ``WORK/staged/MONTH/data`` (marked started, then done
    with the bytes written), for :func:`scale_raw.take_staged`; not measured."""
    for month in ahead:
        stage = work / "staged" / month
        stage.mkdir(parents=True, exist_ok=True)
        (stage / ".started").touch()
        cmd = [gen[0], gen[1], str(stage / "data"), *gen[3:], "--month", month]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        (stage / ".done.tmp").write_text(done.stdout.split()[-1])
        (stage / ".done.tmp").rename(stage / ".done")


def months(first: dt.date, last: dt.date) -> list[str]:
    days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    return sorted({f"{d:%Y-%m}" for d in days})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--days", type=int, required=True)
    ap.add_argument("--work", type=Path, required=True, help="scratch folder (emptied): data/, reports/, logs")
    ap.add_argument("--json", type=Path, required=True, help="where to write the figures")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 26))
    ap.add_argument("--monthly", action="store_true", help="write and build month by month")
    ap.add_argument("--delete-built-raw", action="store_true", help="with --monthly: delete built raw users months")
    ap.add_argument("--newest-first", action="store_true", help="with --monthly: newest month first, early renders")
    ap.add_argument("--parallel-generate", action="store_true", help="with --monthly: a second writer, months ahead")
    ap.add_argument("--reuse-raw", action="store_true", help="keep the raw store already in --work")
    ap.add_argument("--render-only", action="store_true", help="keep --work's raw and processed; only render")
    ap.add_argument("--only", default=",".join(NOTEBOOKS), help="comma-separated reports to render")
    args = ap.parse_args()
    data_dir = args.work / "data"
    earlier = json.loads(args.json.read_text()) if args.render_only and args.json.exists() else {}
    if args.render_only:
        shutil.rmtree(args.work / "reports", ignore_errors=True)
    elif args.reuse_raw:
        shutil.rmtree(data_dir / "processed", ignore_errors=True)
        shutil.rmtree(args.work / "reports", ignore_errors=True)
    else:
        shutil.rmtree(args.work, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    # the simulated tenant's window (simulate/tenant.py: data to two days before today)
    end = args.today - dt.timedelta(days=2)
    first = end - dt.timedelta(days=args.days - 1)
    start = end - dt.timedelta(days=min(REPORT_DAYS, args.days) - 1)
    scope = "enterprise:octo-sim"
    gen = [sys.executable, str(HERE / "scale_raw.py"), str(data_dir), "--users", str(args.users)]
    gen += ["--days", str(args.days), "--seed", str(args.seed), "--today", args.today.isoformat()]
    generate: list[dict[str, Any]] = []
    builds: list[dict[str, Any]] = []
    deleted: list[str] = []
    early: dict[str, Any] = {}
    if args.render_only:
        pass
    elif not args.reuse_raw and not args.monthly:
        generate.append(run(gen, args.work / "generate.log"))
    elif args.monthly:
        generate.append(run([*gen, "--snapshots"], args.work / "generate-snapshots.log"))
        order = months(first, end)
        sequence = list(reversed(order)) if args.newest_first else order
        if args.parallel_generate:  # the second writer takes every other month, from the second on
            threading.Thread(target=stage_months, args=(sequence[1::2], gen, args.work), daemon=True).start()
        for month in sequence:
            generate.append({"month": month, **run([*gen, "--month", month], args.work / f"generate-{month}.log")})
            builds.append({"month": month, **build(data_dir, args.work, f"build-{month}", full=False)})
            print(f"{month}: raw {raw_bytes(data_dir) / 1e9:.2f} GB on disk, build {builds[-1]}", flush=True)
            if args.delete_built_raw and month < f"{start:%Y-%m}":
                for folder in (data_dir / "raw" / f"enterprise={scope.split(':')[1]}" / "users-1-day").glob(
                    f"{month}-*"
                ):
                    shutil.rmtree(folder)
                deleted.append(month)
            if args.newest_first and not early and month <= f"{start:%Y-%m}":  # the window's months are built
                for notebook in args.only.split(","):
                    early[notebook] = render(data_dir, args.work, notebook, scope, start, end)
                    print(f"render (window only) {notebook} {early[notebook]}", flush=True)
    logs = [log for log in os.listdir(args.work) if log.startswith("generate")]
    # bytes the generator wrote (its last output line); a reused raw store without its logs: its size on disk
    written = sum(int((args.work / log).read_text().split()[-1]) for log in logs) if logs else raw_bytes(data_dir)
    if args.render_only:
        build_figures = earlier.get("build", {})
    elif args.monthly:
        build_figures = {
            "s": round(sum(b["s"] for b in builds), 2),
            "peak_rss_mb": max(b["peak_rss_mb"] for b in builds),
            "peak_tree_rss_mb": max(b["peak_tree_rss_mb"] for b in builds),
            "months": builds,
        }
    else:
        build_figures = build(data_dir, args.work, "build", full=True)
    print(f"build {build_figures}", flush=True)
    renders = {}
    for notebook in args.only.split(","):
        renders[notebook] = render(data_dir, args.work, notebook, scope, start, end)
        print(f"render {notebook} {renders[notebook]}", flush=True)
    figures = {
        "users": args.users,
        "days": args.days,
        "raw_bytes": written,
        "raw_bytes_on_disk": raw_bytes(data_dir),
        "raw_users_months_deleted": earlier.get("raw_users_months_deleted", deleted),
        "generate": earlier.get("generate", generate),
        "report_period": [start.isoformat(), end.isoformat()],
        "formats": ["html"],
        "render_only": args.render_only,
        "build": build_figures,
        "renders": renders,
        "renders_window_only": earlier.get("renders_window_only", early),
        "processed_bytes": sum(p.stat().st_size for p in (data_dir / "processed").rglob("*") if p.is_file()),
        "cpus": os.cpu_count(),
        "nice": os.nice(0),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],  # a shared machine: others' load sets the pace
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
