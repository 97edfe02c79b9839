"""A simulated tenant's raw store as `copilot-usage fetch` would leave it, written with no HTTP (for bench_scale).

    python benchmarks/scale_raw.py DATA_DIR --users 20000 --days 60 [--month 2026-10 | --snapshots]

Without ``--month``/``--snapshots`` it writes everything; ``--month`` writes the 1-day reports of that month only,
``--snapshots`` the seat roster, teams and billing only (so a year can be written and built month by month).

The enterprise's users-, user-teams-, aggregate- and repos-1-day reports per day; its seat roster; the teams and
member lists of the enterprise and of every org; billing AI-credit usage per day: the simulator's own payloads
(`simulate/payloads.py`), stored with `rawstore.put_bytes` in the shape the fetch gives them (list pages of 100
joined as the fetch joins them, the repos report un-gzipped as the fetch's sniffing leaves it). Not written:
per-user billing (`billing-users`, opt-in: one API call per seat holder and month) and the 28-day reports (no
report reads them). Prints the bytes written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from copilot_usage.catalog import CREDIT_BILLING_START, Scope
from copilot_usage.ingest import rawstore
from copilot_usage.simulate import payloads
from copilot_usage.simulate.tenant import Tenant

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


def take_staged(data_dir: Path, month: str) -> int | None:
    """A month another generator process wrote ahead into ``DATA_DIR/../staged/MONTH/data`` (``bench_scale
    --parallel-generate``): wait for it to finish, move its day slots into ``data_dir`` (a rename each) and return
    the bytes it wrote; None when nobody staged ``month``."""
    stage = data_dir.parent / "staged" / month
    if not (stage / ".started").exists():
        return None
    while not (stage / ".done").exists():
        time.sleep(2)
    root = rawstore.raw_root(stage / "data")
    for folder in sorted(root.glob("*=*/*/*")):
        if folder.is_dir():
            target = rawstore.raw_root(data_dir) / folder.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(target)
    return int((stage / ".done").read_text().split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--days", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 26))
    ap.add_argument("--month", help="YYYY-MM: only this month's 1-day reports")
    ap.add_argument("--snapshots", action="store_true", help="only seats, teams and billing")
    args = ap.parse_args()
    staged = take_staged(args.data_dir, args.month) if args.month else None
    if staged is not None:
        print(staged)
        return
    t = Tenant(seed=args.seed, users=args.users, days=args.days, today=args.today)
    scope = Scope("enterprise", t.enterprise)
    written = 0
    if not args.month:
        written += write_snapshots(args.data_dir, t, scope) + write_billing(args.data_dir, t, scope, billing_days(t))
    if not args.snapshots:
        for month in months_of(t):
            if args.month in (None, f"{month[0]:%Y-%m}"):
                written += sum(write_day(args.data_dir, t, scope, day) for day in month)
    rawstore.clean_tmp(args.data_dir)
    print(written)


if __name__ == "__main__":
    main()
