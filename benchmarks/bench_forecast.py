"""bench_forecast: the one forecaster's time (projection with its rolling-origin backtest) and the spend sections
that use it, on a cache.

    nice -n 19 .venv/bin/python benchmarks/bench_forecast.py --data /tmp/demo --json out.json
    nice -n 19 .venv/bin/python benchmarks/bench_forecast.py --data /tmp/scale/data --json out.json

Without ``--data``'s ``processed/``, the enterprise demo tenant is simulated into it first
(``demo.simulate_cache``, ``--seed``, ``--users``, ``--days``, ``--today``; about two minutes for 400 × 200).
``forecast.project`` runs three times on the scope's credit history (the first includes importing statsmodels
and scipy: a report pays that once); then the spend report's outlook (baseline and the three kinds of scenario),
budgets and chargeback sections once each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--scope", default="enterprise:octo-sim")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--users", type=int, default=400)
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--today", default="2026-12-01")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from copilot_usage.analysis import forecast, github_changes, outlook
    from copilot_usage.demo import simulate_cache
    from copilot_usage.report import common, make_report, spend

    out: dict[str, object] = {"data": str(args.data), "scope": args.scope}
    if not (args.data / "processed").exists():
        t = time.perf_counter()
        simulate_cache(
            args.data, seed=args.seed, users=args.users, days=args.days, today=dt.date.fromisoformat(args.today)
        )
        out["simulate_s"] = round(time.perf_counter() - t, 1)
    r = make_report(
        "bench",
        data_dir=str(args.data),
        scope=args.scope,
        scenario_seats=50,
        scenario_included_business=1000,
        scenario_included_enterprise=2000,
    )
    history = common.credit_history(r)
    until = outlook.month_end(outlook.add_months(r.end, 12))
    breaks = github_changes.level_shifts(github_changes.register())
    runs = []
    for _ in range(3):  # three timings
        t = time.perf_counter()
        p = forecast.project(history, as_of=r.end, until=until, breaks=breaks)
        runs.append(round(time.perf_counter() - t, 2))
    out |= {"history_days": history.height, "project_s": runs, "model": p.model}
    out["backtest"] = p.backtest.as_dict() if p.backtest else None
    for name in ("outlook", "budget_section", "chargeback"):  # three sections
        t = time.perf_counter()
        getattr(spend, name)(r)
        out[f"spend.{name}_s"] = round(time.perf_counter() - t, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
