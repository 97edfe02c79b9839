"""bench_scale: a simulated tenant's raw store at enterprise scale, `build`, and the four reports, as child processes.

    nice -n 19 .venv/bin/python benchmarks/bench_scale.py --users 20000 --days 60 --work /tmp/scale --json out.json

Writes, with no HTTP, the raw files `copilot-usage fetch` would store for the enterprise (users-, user-teams-,
aggregate- and repos-1-day per day; the seat roster; the teams and member lists of the enterprise and of every org;
billing AI-credit usage per day), built from the simulator's own payloads (`simulate/payloads.py`) and stored with
`rawstore.put_bytes` in the shape the fetch gives them (snapshot pages joined as the fetch joins them, the repos
report un-gzipped as the fetch's sniffing leaves it). Per-user billing (`billing-users`, opt-in, one API call per seat
holder and month) and the 28-day reports (the reports do not read them) are not written.

Then it runs `copilot-usage build` and `copilot-usage render NOTEBOOK --format html` for the four reports (the
enterprise, leadership audience, the last 90 days or D if fewer) as child processes: the HTML only, because the
PDF adds a headless-Chromium print whose time has nothing to do with the data's size. Each child's wall time and
peak RSS are measured: ``peak_rss_mb`` is ``ru_maxrss`` from ``os.wait4`` (the largest single process among the
child and the descendants it waited for, here the render CLI and its Jupyter kernel); ``peak_tree_rss_mb`` is the
largest sum of the RSS of the child and all its descendants, sampled from /proc every 0.2 s.

``--monthly`` generates a month, builds it (incremental) and goes on, so a year never sits in raw whole;
``--delete-built-raw`` then deletes each month's raw users-1-day files once built and older than the reports'
window (the big report: a year of 100,000 users is about 58 GB), which the JSON records. The build figures are then
the sum of the monthly builds' wall times and the largest of their peaks.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from copilot_usage import rawstore
from copilot_usage.reports import CREDIT_BILLING_START, Scope
from copilot_usage.simulate import payloads
from copilot_usage.simulate.tenant import Tenant

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ("trends", "value_per_credit", "team_distribution", "spend")
REPORT_DAYS = 90
PAGE = 100  # the fetch asks every Link-paged list with per_page=100


# ---------------------------------------------------------------------- raw store
def _pages(rows: list[Any], wrap: Any = None) -> list[bytes]:
    """A list endpoint's pages of ``PAGE`` rows as the API sends them (one empty page for an empty list)."""
    chunks = [rows[i : i + PAGE] for i in range(0, len(rows), PAGE)] or [[]]
    return [payloads.dumps(wrap(c) if wrap else c) for c in chunks]


def _put(data_dir: Path, scope: Scope, report: str, key: str, body: bytes, ext: str, **provenance: Any) -> int:
    rawstore.put_bytes(data_dir, scope, report, key, body, ext=ext, provenance=provenance)
    return len(body)


def write_day(data_dir: Path, t: Tenant, scope: Scope, day: dt.date) -> int:
    """The four 1-day reports of one day, as the fetch stores them. Returns the bytes written."""
    if not t.has_data(day, scope.kind):
        return 0
    prefix = f"{scope.api_prefix}/copilot/metrics/reports"
    meta = {"report_day": day.isoformat(), "content_encoding": "identity", "shards": 1}
    n = _put(
        data_dir,
        scope,
        "users-1-day",
        day.isoformat(),
        payloads.to_ndjson(payloads.user_frame(t, day, scope)),
        "ndjson",
        endpoint=f"{prefix}/users-1-day",
        **meta,
    )
    n += _put(
        data_dir,
        scope,
        "user-teams-1-day",
        day.isoformat(),
        payloads.to_ndjson(payloads.user_teams_frame(t, day, scope)),
        "ndjson",
        endpoint=f"{prefix}/user-teams-1-day",
        **meta,
    )
    n += _put(
        data_dir,
        scope,
        "aggregate-1-day",
        day.isoformat(),
        payloads.dumps(payloads.aggregate_record(t, day, scope)),
        "json",
        endpoint=f"{prefix}/enterprise-1-day",
        **meta,
    )
    repos = payloads.to_ndjson(payloads.repos_frame(t, day, scope))
    if repos:  # the simulator answers 204 for a day without repository rows
        n += _put(
            data_dir, scope, "repos-1-day", day.isoformat(), repos, "ndjson", endpoint=f"{prefix}/repos-1-day", **meta
        )
    t.cells.cache_clear()  # the tenant keeps 64 days of activity cells: 100,000 users' would not fit
    return n


def write_snapshots(data_dir: Path, t: Tenant, enterprise: Scope) -> int:
    """Seat roster of the enterprise, teams and member lists of the enterprise and every org, as of ``today``."""
    key = t.today.isoformat()
    seats = payloads.seats(t, enterprise)
    total = len({s["assignee"]["id"] for s in seats})
    pages = _pages(seats, wrap=lambda page: {"total_seats": total, "seats": page})
    path = f"{enterprise.api_prefix}/copilot/billing/seats"
    n = _put(
        data_dir, enterprise, "seats", key, b"[" + b",\n".join(pages) + b"]\n", "json", endpoint=path, pages=len(pages)
    )
    for scope in [enterprise, *(Scope("org", o) for o in t.org_names)]:
        teams = payloads.teams(t, scope)
        lines = [b'{"teams":[' + b",".join(_pages(teams)) + b"]}"]
        for team in teams:
            members = payloads.team_members(t, scope, team["slug"]) or []
            lines.append(
                b'{"team_id":' + str(team["id"]).encode() + b',"members":[' + b",".join(_pages(members)) + b"]}"
            )
        body = b"\n".join(lines) + b"\n"
        n += _put(data_dir, scope, "teams", key, body, "ndjson", endpoint=f"{scope.api_prefix}/teams", teams=len(teams))
    return n


def write_billing(data_dir: Path, t: Tenant, scope: Scope, days: list[dt.date]) -> int:
    """Billing AI-credit usage of each day (one API answer a day, filtered by year, month and day)."""
    months: dict[tuple[int, int], Any] = {}

    def lines(s: Scope, year: int, month: int) -> Any:
        if (year, month) not in months:
            months.clear()
            months[(year, month)] = payloads.billing_lines(t, s, year, month)
        return months[(year, month)]

    path = f"/enterprises/{scope.slug}/settings/billing/ai_credit/usage"
    n = 0
    for day in days:
        params = {"year": day.year, "month": day.month, "day": day.day}
        body = payloads.dumps(payloads.billing_usage(t, scope, {k: str(v) for k, v in params.items()}, lines))
        n += _put(data_dir, scope, "billing", day.isoformat(), body, "json", endpoint=path, params=params)
    return n


def billing_days(t: Tenant) -> list[dt.date]:
    """The days the fetch asks billing for: from usage-based billing's start (or the tenant's) to yesterday."""
    first = max(dt.date.fromisoformat(CREDIT_BILLING_START), t.start)
    last = t.today - dt.timedelta(days=1)
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def months_of(t: Tenant) -> Iterator[list[dt.date]]:
    days = [t.start + dt.timedelta(days=k) for k in range(t.days)]
    for month in sorted({d.strftime("%Y-%m") for d in days}):
        yield [d for d in days if d.strftime("%Y-%m") == month]


def raw_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in rawstore.raw_root(data_dir).rglob("*") if p.is_file())


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


def build(data_dir: Path, work: Path, name: str) -> dict[str, float]:
    return run([cli(), "build", "--data-dir", str(data_dir)], work / f"{name}.log")


def render(data_dir: Path, work: Path, notebook: str, scope: Scope, start: dt.date, end: dt.date) -> dict[str, Any]:
    out = work / "reports"
    params = {"data_dir": str(data_dir), "scope": str(scope), "start": start.isoformat(), "end": end.isoformat()}
    cmd = [cli(), "render", notebook, "--format", "html", "--out", str(out), "--notebooks-dir", str(ROOT / "notebooks")]
    for k, v in params.items():
        cmd += ["-p", k, v]
    figures: dict[str, Any] = run(cmd, work / f"render-{notebook}.log")
    html = max((out / notebook).glob("*.html"), key=lambda p: p.stat().st_mtime)
    figures["html_bytes"] = html.stat().st_size
    return figures


# ---------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--days", type=int, required=True)
    ap.add_argument("--work", type=Path, required=True, help="scratch folder (emptied): data/, reports/, logs")
    ap.add_argument("--json", type=Path, required=True, help="where to write the figures")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 26))
    ap.add_argument("--monthly", action="store_true", help="generate and build month by month")
    ap.add_argument("--delete-built-raw", action="store_true", help="with --monthly: delete built raw users months")
    ap.add_argument("--only", default=",".join(NOTEBOOKS), help="comma-separated reports to render")
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    data_dir = args.work / "data"
    data_dir.mkdir(parents=True)
    t0 = time.perf_counter()
    t = Tenant(seed=args.seed, users=args.users, days=args.days, today=args.today)
    scope = Scope("enterprise", t.enterprise)
    end = t.newest
    start = end - dt.timedelta(days=min(REPORT_DAYS, args.days) - 1)
    written = write_snapshots(data_dir, t, scope) + write_billing(data_dir, t, scope, billing_days(t))
    builds: list[dict[str, Any]] = []
    deleted: list[str] = []
    generate_s = time.perf_counter() - t0
    for month in months_of(t):
        g0 = time.perf_counter()
        written += sum(write_day(data_dir, t, scope, day) for day in month)
        generate_s += time.perf_counter() - g0
        print(f"{month[0]:%Y-%m}: raw {written / 1e9:.2f} GB written, {generate_s:.0f} s", flush=True)
        if args.monthly:
            builds.append({"month": f"{month[0]:%Y-%m}", **build(data_dir, args.work, f"build-{month[0]:%Y-%m}")})
            print(f"  build {builds[-1]}", flush=True)
            if args.delete_built_raw and month[-1] < start:
                for _, key, folder in rawstore.slots(data_dir, "users-1-day"):
                    if key.startswith(f"{month[0]:%Y-%m}"):
                        shutil.rmtree(folder)
                deleted.append(f"{month[0]:%Y-%m}")
    rawstore.clean_tmp(data_dir)
    if args.monthly:
        build_figures = {
            "s": round(sum(b["s"] for b in builds), 2),
            "peak_rss_mb": max(b["peak_rss_mb"] for b in builds),
            "peak_tree_rss_mb": max(b["peak_tree_rss_mb"] for b in builds),
            "months": builds,
        }
    else:
        build_figures = build(data_dir, args.work, "build")
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
        "raw_users_months_deleted": deleted,
        "generate_s": round(generate_s, 1),
        "report_period": [start.isoformat(), end.isoformat()],
        "formats": ["html"],
        "build": build_figures,
        "renders": renders,
        "processed_bytes": sum(p.stat().st_size for p in (data_dir / "processed").rglob("*") if p.is_file()),
        "cpus": os.cpu_count(),
        "nice": os.nice(0),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
