"""``copilot-usage fetch``: every report, day by day, into the raw store.

The report endpoints: https://docs.github.com/rest/copilot/copilot-usage-metrics.

The plan: for each scope and each 1-day report, every day from the data start (or one year back) to the
newest possibly available day that is not cached yet, plus the last four days again (late finalisation:
GitHub's docs say a day's data typically finalises within three full UTC days); the 28-day reports' latest
window; seat, team and billing snapshots. Each task does the two-step flow (API → signed links → streamed
bodies) and records its outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from ..catalog import (
    CREDIT_BILLING_START,
    ENTERPRISE_DATA_START,
    FAMILIES,
    ORG_DATA_START,
    REPORTS,
    ReportKind,
    Scope,
    check_day,
)
from ..errors import ApiError, AuthError, CopilotUsageError, DownloadError, InputError, NotFound
from ..storage import objstore
from . import rawstore
from .github import GitHub, redact
from .plan import Plan
from .transport import Budget

log = logging.getLogger(__name__)
T = TypeVar("T")

REFETCH_DAYS = 4
HISTORY_DAYS = 365
ADMIT_PER_SLOT = 2  # tasks in progress per request slot


@dataclass
class Summary:
    """Outcome counts per ``(scope, report)``: fetched / changed / unchanged / no_data / pending / failed."""

    counts: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the fetch stopped early (the raw store could not be written), one line
    not_started: int = 0  # tasks left out once it stopped

    def add(self, scope: Scope, report: str, status: str) -> None:
        self.counts.setdefault((str(scope), report), Counter())[status] += 1

    @property
    def failed(self) -> int:
        return sum(c["failed"] for c in self.counts.values())

    def rows(self) -> list[dict[str, Any]]:
        cols = ("fetched", "changed", "unchanged", "no_data", "pending", "failed")
        return [{"scope": s, "report": r, **{c: n[c] for c in cols}} for (s, r), n in sorted(self.counts.items())]


def one_line(exc: BaseException) -> str:
    """A failure as one line: the kit's own errors by their message, anything else by its type too (a network
    timeout's message alone can be empty). Signed URLs lose their query."""
    text = " ".join(str(exc).split()) or "no detail"
    if not isinstance(exc, CopilotUsageError):
        text = f"{type(exc).__name__}: {text}"
    return re.sub(r"(https?://[^\s?]+)\?\S*", r"\1", text)


def disk_line(exc: OSError, data_dir: Path) -> str:
    """A raw-store write that failed, as one line naming the path (the raw folder when the error names none)."""
    where = exc.filename if exc.filename is not None else rawstore.raw_root(data_dir)
    return f"cannot write {where}: {exc.strerror or type(exc).__name__}"


def data_start(scope: Scope) -> dt.date:
    return dt.date.fromisoformat(ENTERPRISE_DATA_START if scope.kind == "enterprise" else ORG_DATA_START)


def plan_days(
    data_dir: Path, scope: Scope, report: ReportKind, *, today: dt.date, since: dt.date | None, until: dt.date | None
) -> list[dt.date]:
    """Days to request: explicit range as given; default = uncached days plus the last four."""
    newest = today - dt.timedelta(days=2)
    last = min(until or newest, newest)
    first = since or max(data_start(scope), today - dt.timedelta(days=HISTORY_DAYS))
    days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    if since or until:
        return days
    settled = last - dt.timedelta(days=REFETCH_DAYS)
    done = _settled_days(data_dir, scope, report.key)
    return [d for d in days if d > settled or d not in done]


def _settled_days(data_dir: Path, scope: Scope, report: str) -> set[dt.date]:
    """Days with a stored file, or recorded as having no data (outside the lag window)."""
    done = {
        dt.date.fromisoformat(key)
        for s, key, folder in rawstore.slots(data_dir, report)
        if s == scope and key[:1].isdigit() and rawstore.newest(folder)
    }
    for rec in rawstore.read_log(data_dir):
        if rec.get("scope") == str(scope) and rec.get("report") == report and rec.get("status") == "no_data":
            done.add(dt.date.fromisoformat(rec["key"]))
    return done


async def _download_all(gh: GitHub, data_dir: Path, links: list[str]) -> rawstore.Incoming:
    """Stream every shard, one after another, into one :class:`rawstore.Incoming` (its file work runs in worker
    threads, and what is left of it when :func:`_store` finishes it)."""
    incoming = rawstore.Incoming(data_dir, gh.limits)
    try:
        for url in links:
            incoming.start_part()
            await gh.download_with_retries(url, incoming)
    except BaseException:
        incoming.discard()
        raise
    return incoming


def _store(
    data_dir: Path, scope: Scope, report: ReportKind, key: str, incoming: rawstore.Incoming, provenance: dict[str, Any]
) -> str:
    """Finish a download (the rest of its writing, its hash) and move it into the store; blocking file work."""
    try:
        sha256 = incoming.finish()
    except BaseException:
        incoming.discard()
        raise
    assert incoming.path is not None
    status, _ = rawstore.put(
        data_dir,
        scope,
        report.key,
        key,
        incoming.path,
        ext="ndjson" if report.shape == "rows" else "json",
        provenance={**provenance, "content_encoding": incoming.encoding},
        sha256=sha256,
    )
    return status


async def fetch_report_day(
    gh: GitHub, data_dir: Path, scope: Scope, report: ReportKind, day: dt.date | None, *, today: dt.date
) -> tuple[str, str]:
    """Fetch one report for one day (``None`` = latest 28-day window). Returns ``(status, key)``."""
    path = report.path(scope)
    params = {"day": day.isoformat()} if day else None
    key = day.isoformat() if day else "latest"
    for _ in range(3):  # fresh links when one expired between the two steps
        r = await gh.get(path, params, expect=dict)
        if r.status_code == 204:
            return "no_data", key
        body = r.json()
        links = body.get("download_links") or []
        if not links:
            recent = day is None or day >= today - dt.timedelta(days=REFETCH_DAYS + 1)
            return ("pending" if recent else "no_data"), key
        if day is None:  # the window's key is the answer's own end day: a folder name, so checked like an import's
            try:
                key = check_day(body["report_end_day"], scope.kind, today=today, field="report_end_day")
            except (KeyError, ValueError) as exc:
                msg = f"{redact(path)}: the answer's report_end_day does not name a day ({exc})"
                raise InputError(msg) from None
        try:
            incoming = await _download_all(gh, data_dir, links)
        except DownloadError as exc:
            if exc.expired:
                log.info("links expired for %s %s; requesting fresh ones", redact(path), key)
                continue
            raise
        provenance = {
            "endpoint": path,
            "api_host": httpx.URL(gh.base_url).host,  # GHE.com (data residency) is billed differently
            "report_day": body.get("report_day"),
            "report_start_day": body.get("report_start_day"),
            "report_end_day": body.get("report_end_day"),
            "shards": len(links),
        }
        return await asyncio.to_thread(_store, data_dir, scope, report, key, incoming, provenance), key
    msg = f"download links for {path} {key} kept expiring"
    raise DownloadError(msg)


async def _snapshot(
    gh: GitHub,
    data_dir: Path,
    scope: Scope,
    name: str,
    path: str,
    *,
    today: dt.date,
    params: dict[str, Any] | None = None,
    paged: bool = True,
) -> str:
    """Store a list endpoint's pages verbatim as one JSON array of page bodies."""
    if paged:
        pages = [r.content async for r in gh.paginate(path, params, expect=dict)]
    else:
        pages = [(await gh.get(path, params, expect=dict)).content]
    status, _ = await asyncio.to_thread(
        rawstore.put_bytes,
        data_dir,
        scope,
        name,
        today.isoformat(),
        b"[" + b",\n".join(pages) + b"]\n",
        ext="json",
        provenance={"endpoint": path, "pages": len(pages), "params": params or {}},
    )
    return status


async def _teams(gh: GitHub, data_dir: Path, scope: Scope, *, today: dt.date) -> str:
    list_path = f"{scope.api_prefix}/teams"
    pages = [r async for r in gh.paginate(list_path)]
    teams = [t for p in pages for t in p.json()]
    lines = [b'{"teams":[' + b",".join(p.content for p in pages) + b"]}"]
    member_path = "memberships" if scope.kind == "enterprise" else "members"

    async def members(team: dict[str, Any]) -> bytes:
        pages = [r.content async for r in gh.paginate(f"{list_path}/{team['slug']}/{member_path}")]
        return b'{"team_id":' + str(team["id"]).encode() + b',"members":[' + b",".join(pages) + b"]}"

    lines += await _all(members(t) for t in teams)  # in team order, whatever order they finish in
    status, _ = await asyncio.to_thread(
        rawstore.put_bytes,
        data_dir,
        scope,
        "teams",
        today.isoformat(),
        b"\n".join(lines) + b"\n",
        ext="ndjson",
        provenance={"endpoint": list_path, "teams": len(teams)},
    )
    return status


async def _all(coros: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Every result in order; on the first failure the others are cancelled and that failure is raised alone."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coros]
    except BaseExceptionGroup as eg:
        raise eg.exceptions[0] from None
    return [t.result() for t in tasks]


def _billing_path(scope: Scope) -> str:
    prefix = f"/enterprises/{scope.slug}" if scope.kind == "enterprise" else f"/organizations/{scope.slug}"
    return f"{prefix}/settings/billing/ai_credit/usage"


async def _billing(gh: GitHub, data_dir: Path, scope: Scope, day: dt.date) -> str:
    path = _billing_path(scope)
    params = {"year": day.year, "month": day.month, "day": day.day}
    r = await gh.get(path, params, expect=dict)
    status, _ = await asyncio.to_thread(
        rawstore.put_bytes,
        data_dir,
        scope,
        "billing",
        day.isoformat(),
        r.content,
        ext="json",
        provenance={"endpoint": path, "params": params},
    )
    return status


async def _cost_centers(gh: GitHub, data_dir: Path, scope: Scope, *, today: dt.date, notes: list[str]) -> str:
    """The enterprise's cost centres, active and deleted (two asks, not paginated), stored as one JSON array of
    the two bodies: https://docs.github.com/en/enterprise-cloud@latest/rest/billing/cost-centers. A token that
    cannot read them (403/404) does not fail the fetch: the task is ``not_fetched`` and ``notes`` gets one line
    naming the permission it needs."""
    path = f"/enterprises/{scope.slug}/settings/billing/cost-centers"
    try:
        bodies = [(await gh.get(path, {"state": state}, expect=dict)).content for state in ("active", "deleted")]
    except (AuthError, NotFound) as exc:
        reason = " ".join(f"{scope} cost-centers not fetched: {exc}".split())
        log.warning("%s", reason)
        notes.append(reason)
        return "not_fetched"
    status, _ = await asyncio.to_thread(
        rawstore.put_bytes,
        data_dir,
        scope,
        "cost-centers",
        today.isoformat(),
        b"[" + b",\n".join(bodies) + b"]\n",
        ext="json",
        provenance={"endpoint": path, "params": {"state": ["active", "deleted"]}},
    )
    return status


async def _body_pages(gh: GitHub, path: str, key: str) -> list[bytes]:
    """Every page of a list GitHub pages in the body (``{key: [...], "has_next_page": …}``), verbatim."""
    pages, page = [], 1
    while True:
        r = await gh.get(path, {"page": page, "per_page": 100}, expect=dict)
        pages.append(r.content)
        body = r.json()
        if not body.get("has_next_page") or not body.get(key):
            return pages
        if page >= gh.limits.max_pages:
            msg = f"{path}: more than {gh.limits.max_pages:,} pages (--limit max_pages); listing stopped"
            raise ApiError(msg, status=r.status_code)
        page += 1


def _budgets_prefix(scope: Scope) -> str:
    return f"/enterprises/{scope.slug}" if scope.kind == "enterprise" else f"/organizations/{scope.slug}"


async def _budgets(gh: GitHub, data_dir: Path, scope: Scope, *, today: dt.date, notes: list[str]) -> str:
    """The scope's budgets (in-body paging) and, for the enterprise's multi-user budgets, their per-user states,
    stored as ``{"budgets": [pages], "user_states": [{"budget_id", "pages"}]}`` with every page verbatim:
    https://docs.github.com/en/enterprise-cloud@latest/rest/billing/budgets. A 403/404 on the list is
    ``not_fetched`` with a one-line reason in ``notes`` (never a failed fetch); one on a budget's user-states is a
    note and that budget's states are left out."""
    path = f"{_budgets_prefix(scope)}/settings/billing/budgets"
    try:
        pages = await _body_pages(gh, path, "budgets")
    except (AuthError, NotFound) as exc:
        reason = " ".join(f"{scope} budgets not fetched: {exc}".split())
        log.warning("%s", reason)
        notes.append(reason)
        return "not_fetched"
    multi = [
        b["id"]
        for p in pages
        for b in json.loads(p).get("budgets") or []
        if str(b.get("budget_scope", "")).replace("-", "_").startswith("multi_user") and b.get("id")
    ]
    states = []
    for budget_id in multi if scope.kind == "enterprise" else []:  # user-states exist for enterprise budgets
        try:
            got = await _body_pages(gh, f"{path}/{budget_id}/user-states", "user_states")
        except (AuthError, NotFound) as exc:
            notes.append(" ".join(f"{scope} budget {budget_id} user-states not fetched: {exc}".split()))
            continue
        states.append(b'{"budget_id":' + json.dumps(budget_id).encode() + b',"pages":[' + b",".join(got) + b"]}")
    body = b'{"budgets":[' + b",\n".join(pages) + b'],\n"user_states":[' + b",\n".join(states) + b"]}\n"
    status, _ = await asyncio.to_thread(
        rawstore.put_bytes,
        data_dir,
        scope,
        "budgets",
        today.isoformat(),
        body,
        ext="json",
        provenance={"endpoint": path, "pages": len(pages), "user_states": len(states)},
    )
    return status


def _billing_span(*, today: dt.date, since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date]:
    """First and last day billing can be asked for: from usage-based billing's start (or one year back, or
    ``since``) to yesterday (or ``until``); billing is near real time."""
    first = max(since or today - dt.timedelta(days=HISTORY_DAYS), dt.date.fromisoformat(CREDIT_BILLING_START))
    return first, min(until or today - dt.timedelta(days=1), today - dt.timedelta(days=1))


def billing_months(
    data_dir: Path, scope: Scope, *, today: dt.date, since: dt.date | None, until: dt.date | None
) -> list[dt.date]:
    """First days of the months of :func:`_billing_span` to ask per-user billing for. By default a month already
    stored is asked again only while it may still change: the current month, and the previous one in the first
    days of a month."""
    first, last = _billing_span(today=today, since=since, until=until)
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    if since or until:
        return months
    cached = {
        key for s, key, folder in rawstore.slots(data_dir, "billing-users") if s == scope and rawstore.newest(folder)
    }
    settled_before = (today - dt.timedelta(days=REFETCH_DAYS + 1)).replace(day=1)
    return [m for m in months if m >= settled_before or m.strftime("%Y-%m") not in cached]


def seat_logins(data_dir: Path, scope: Scope, month: dt.date) -> list[str]:
    """Seat holders to ask per-user billing for: everyone in a stored seat snapshot of ``scope`` taken in or
    after ``month`` (or in the newest snapshot when none is). Someone who lost a seat before the first snapshot
    was taken cannot be named; their credits show as the unattributed rest of the month's bill."""
    snapshots = [(key, rawstore.newest(folder)) for s, key, folder in rawstore.slots(data_dir, "seats") if s == scope]
    stored = [(key, f) for key, f in snapshots if f is not None]
    chosen = [f for key, f in stored if key >= month.isoformat()] or [f for _, f in stored[-1:]]
    logins: set[str] = set()
    for f in chosen:
        for page in json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf")):
            logins.update(
                s["assignee"]["login"] for s in page.get("seats", []) if (s.get("assignee") or {}).get("login")
            )
    return sorted(logins)


async def _billing_users(gh: GitHub, data_dir: Path, scope: Scope, month: dt.date) -> str:
    """One month of per-user AI-credit billing: one call per seat holder (GitHub's billing usage API has
    no "group by user"), stored as ``{"users": [...], "responses": [...]}`` with each answer verbatim."""
    logins = await asyncio.to_thread(seat_logins, data_dir, scope, month)
    if not logins:
        msg = f"no seat roster for {scope}: per-user billing asks for each seat holder; fetch --reports seats first"
        raise CopilotUsageError(msg)
    path = _billing_path(scope)
    asks = [{"user": login, "year": month.year, "month": month.month} for login in logins]
    first = await gh.get(path, asks[0], expect=dict)  # a 403/404 would come back for every user: fail on the first
    rest = await _all(gh.get(path, params, expect=dict) for params in asks[1:])
    bodies = [first.content] + [r.content for r in rest]
    # the logins asked, then each answer verbatim in the same order (an answer need not echo its user)
    body = b'{"users":' + json.dumps(logins).encode() + b',\n"responses":[' + b",\n".join(bodies) + b"]}\n"
    status, _ = await asyncio.to_thread(
        rawstore.put_bytes,
        data_dir,
        scope,
        "billing-users",
        month.strftime("%Y-%m"),
        body,
        ext="json",
        provenance={"endpoint": path, "params": {"year": month.year, "month": month.month}, "users": len(logins)},
    )
    return status


def _requests_for(data_dir: Path, scope: Scope, report: str, month: dt.date | None) -> int:
    """API requests one task needs: one for a report day or a billing day; a snapshot's pages as last stored
    (seats, teams and their member lists); one per seat holder for a month of per-user billing."""
    if report == "billing-users" and month is not None:
        return max(len(seat_logins(data_dir, scope, month)), 1)
    if report not in ("seats", "teams"):
        return 1
    stored = [rawstore.newest(folder) for s, _, folder in rawstore.slots(data_dir, report) if s == scope]
    last = next((f for f in reversed(stored) if f is not None), None)
    if last is None:
        return 1 if report == "seats" else 2  # not known before the first fetch
    return int(last.meta.get("pages", 1)) if report == "seats" else 1 + int(last.meta.get("teams", 0))


async def _plan(gh: GitHub, data_dir: Path, tasks: list[tuple[Scope, str, dt.date | None]]) -> Plan:
    def count() -> Counter[tuple[str, str]]:
        requests: Counter[tuple[str, str]] = Counter()
        for scope, report, month in tasks:
            requests[(str(scope), report)] += _requests_for(data_dir, scope, report, month)
        return requests

    requests = await asyncio.to_thread(count)
    started = time.monotonic()
    try:
        budget: Budget | None = dataclasses.replace(await gh.rate_limit())  # as it was now
    except (CopilotUsageError, httpx.HTTPError) as exc:
        log.warning("GET /rate_limit failed (%s); the fetch is paced by GitHub's headers", one_line(exc))
        budget = None
    rtt = max(time.monotonic() - started, 0.01)
    return Plan(requests, tasks=len(tasks), budget=budget, round_trip_s=rtt, concurrency=gh.concurrency)


async def fetch(
    gh: GitHub,
    data_dir: Path,
    scopes: Iterable[Scope],
    *,
    families: Iterable[str] = FAMILIES,
    since: dt.date | None = None,
    until: dt.date | None = None,
    today: dt.date | None = None,
    on_done: Callable[[str], None] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> Summary:
    """Fetch everything planned for ``scopes`` into ``data_dir/raw``; never raises for a single task.

    ``on_plan`` receives the :class:`~copilot_usage.ingest.plan.Plan` (API requests per scope and report, the token's
    budget, the ETA) before anything is fetched, ``on_done`` one line per finished task (no URLs). The newest days
    go first, so this week's reports work early in a long backfill. A second fetch of the same data dir meanwhile
    is refused (:class:`~copilot_usage.ingest.rawstore.FetchLock`)."""
    data_dir = objstore.as_data_dir(data_dir)  # type: ignore[assignment]  # an object-store URL stays text
    with rawstore.FetchLock(data_dir):
        return await _fetch(
            gh,
            data_dir,
            scopes,
            families=families,
            since=since,
            until=until,
            today=today,
            on_done=on_done,
            on_plan=on_plan,
        )


async def _fetch(
    gh: GitHub,
    data_dir: Path,
    scopes: Iterable[Scope],
    *,
    families: Iterable[str],
    since: dt.date | None,
    until: dt.date | None,
    today: dt.date | None,
    on_done: Callable[[str], None] | None,
    on_plan: Callable[[Plan], None] | None,
) -> Summary:
    """:func:`fetch`, holding the data dir's lock."""
    scopes = list(scopes)
    today = today or dt.datetime.now(dt.UTC).date()
    families = set(families)
    summary = Summary()
    rawstore.clean_tmp(data_dir)
    tasks: list[tuple[Scope, str, str, Any]] = []
    for scope in scopes:
        for report in REPORTS:
            if report.family not in families:
                continue
            if report.window == 28:
                tasks.append(
                    (scope, report.key, "latest", fetch_report_day(gh, data_dir, scope, report, None, today=today))
                )
                continue
            for day in plan_days(data_dir, scope, report, today=today, since=since, until=until):
                tasks.append(
                    (
                        scope,
                        report.key,
                        day.isoformat(),
                        fetch_report_day(gh, data_dir, scope, report, day, today=today),
                    )
                )
        if "seats" in families:
            tasks.append(
                (
                    scope,
                    "seats",
                    today.isoformat(),
                    _snapshot(gh, data_dir, scope, "seats", f"{scope.api_prefix}/copilot/billing/seats", today=today),
                )
            )
        if "teams" in families:
            tasks.append((scope, "teams", today.isoformat(), _teams(gh, data_dir, scope, today=today)))
        if "cost-centers" in families and scope.kind == "enterprise":
            tasks.append(
                (
                    scope,
                    "cost-centers",
                    today.isoformat(),
                    _cost_centers(gh, data_dir, scope, today=today, notes=summary.errors),
                )
            )
        if "budgets" in families:
            tasks.append(
                (scope, "budgets", today.isoformat(), _budgets(gh, data_dir, scope, today=today, notes=summary.errors))
            )
        if "billing" in families:
            first, last = _billing_span(today=today, since=since, until=until)
            cached = {key for s, key, folder in rawstore.slots(data_dir, "billing") if s == scope}
            for k in range((last - first).days + 1):
                day = first + dt.timedelta(days=k)
                if since or until or day.isoformat() not in cached or day > last - dt.timedelta(days=REFETCH_DAYS):
                    tasks.append((scope, "billing", day.isoformat(), _billing(gh, data_dir, scope, day)))

    # Tasks are let in a few at a time (twice the request concurrency): enough to keep every request slot busy,
    # few enough that a task's next request (a shard, a page, a team's members) waits behind a short queue, not
    # behind the whole backfill. Chained snapshots start first so they finish alongside the days; then the newest
    # days, so a backfill bound by the rate limit serves this week's reports first.
    tasks.sort(key=lambda t: t[2], reverse=True)
    tasks.sort(key=lambda t: t[1] not in ("seats", "teams"))
    admit = asyncio.Semaphore(ADMIT_PER_SLOT * gh.concurrency)

    def stop(reason: str) -> None:
        """The raw store cannot be written (a full disk, a read-only folder): no task that has not started will
        start; those under way finish (or fail) and the summary says what was stored."""
        if summary.stopped is None:
            summary.stopped = reason
            log.error("%s; the fetch stops", reason)

    async def run(scope: Scope, report: str, key: str, coro: Any) -> None:
        try:
            async with admit:
                if summary.stopped is not None:
                    coro.close()
                    summary.not_started += 1
                    return
                result = await coro
            status, key = result if isinstance(result, tuple) else (result, key)
        except Exception as exc:  # noqa: BLE001 -- any failure is this task's alone: recorded with its reason, the others go on
            status = "failed"
            reason = disk_line(exc, data_dir) if isinstance(exc, OSError) else one_line(exc)
            if isinstance(exc, OSError):
                stop(reason)
            summary.errors.append(f"{scope} {report} {key}: {reason}")
            log.warning("%s %s %s failed: %s", scope, report, key, reason)
        summary.add(scope, report, status)
        fetch_log.add({"scope": str(scope), "report": report, "key": key, "status": status})
        if fetch_log.error is not None:
            stop(disk_line(fetch_log.error, data_dir))
        if on_done:
            on_done(f"{scope} {report} {key}: {status}")

    # per-user billing asks every seat holder, so it runs once this run's seat snapshots are stored
    later = []
    if "billing-users" in families:
        for scope in scopes:
            for month in billing_months(data_dir, scope, today=today, since=since, until=until):
                later.append((scope, "billing-users", month.strftime("%Y-%m"), month))
    if on_plan:
        planned: list[tuple[Scope, str, dt.date | None]] = [(s, r, None) for s, r, _, _ in tasks]
        planned += [(s, r, m) for s, r, _, m in later]
        on_plan(await _plan(gh, data_dir, planned))
    with rawstore.FetchLog(data_dir) as fetch_log:
        if fetch_log.error is not None:
            stop(disk_line(fetch_log.error, data_dir))
        await asyncio.gather(*(run(*t) for t in tasks))
        await asyncio.gather(*(run(s, r, k, _billing_users(gh, data_dir, s, m)) for s, r, k, m in later))
    if fetch_log.error is not None:  # its last lines could not be written
        stop(disk_line(fetch_log.error, data_dir))
    rawstore.clean_tmp(data_dir)
    return summary
