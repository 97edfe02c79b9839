"""Write a simulated tenant's users-1-day reports straight into a raw store (no HTTP), for build benchmarks.

python benchmarks/make_raw.py DATA_DIR --users 10000 --days 14
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from copilot_usage.catalog import Scope
from copilot_usage.ingest import rawstore
from copilot_usage.simulate import payloads
from copilot_usage.simulate.tenant import Tenant


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    tenant = Tenant(seed=args.seed, users=args.users, days=args.days, today=dt.date(2026, 11, 26))
    scope = Scope("enterprise", tenant.enterprise)
    total = 0
    for k in range(args.days):
        day = tenant.start + dt.timedelta(days=k)
        body = payloads.to_ndjson(payloads.user_frame(tenant, day, scope))
        rawstore.put_bytes(
            args.data_dir,
            scope,
            "users-1-day",
            day.isoformat(),
            body,
            ext="ndjson",
            provenance={"endpoint": "benchmark"},
        )
        total += len(body)
    rawstore.clean_tmp(args.data_dir)
    print(f"{args.days} days, {total / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
