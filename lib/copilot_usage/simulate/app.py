"""The simulated GitHub REST surface as a Starlette ASGI app.

Mount it in-process with ``httpx.ASGITransport(app=...)`` for unit tests, or serve it over loopback
with :func:`serve` (uvicorn). API calls are answered on the API host; report files on a *different*
host (``localhost`` vs ``127.0.0.1``) through signed, expiring links, as GitHub does
(https://github.blog/changelog/2026-05-20-copilot-usage-metrics-reports-now-use-github-owned-download-urls).

Chosen behaviours where GitHub's are undocumented (https://docs.github.com/rest/copilot/copilot-usage-metrics lists only
200, 204, 403, 404 and 500 for the report endpoints):

* a day not yet processed, in the future, before the data start or over a year old → ``200`` with an
  empty ``download_links`` (what integrators observe); organization and repos reports answer ``204``
  for days before their data start instead (the status GitHub documents for them);
* a missing or malformed ``day`` → ``422``; an unknown enterprise/org/team → ``404``;
* no ``Authorization`` → ``401``; a token of the wrong kind (metrics token on billing and vice versa)
  → ``403``; the metrics token is accepted on seats and teams.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
import gzip
import hashlib
import hmac
import math
import threading
import time
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope

from ..catalog import ReportKind, Scope, report_for_endpoint
from . import payloads as P
from .apps import AppTokens
from .tenant import Tenant, stable_hash

FAULTS = ("429", "500", "502", "503", "drop", "truncate", "slow")


@dataclass
class SimConfig:
    """Server behaviour knobs (the tenant's own shape lives in :class:`Tenant`)."""

    token: str = "sim-metrics-token-0123456789"
    billing_token: str = "sim-billing-token-9876543210"
    latency_ms: float = 0.0  # time to the first byte of every response (handler work included)
    fault_rate: float = 0.0
    link_ttl_s: float = 3600.0
    shard_rows: int = 2000
    gzip_reports: tuple[str, ...] = ("repos-1-day",)  # served gzip-compressed without Content-Encoding
    primary_limit: int = 5000  # per token per hour (GitHub's primary rate limit; see transport.py)
    primary_window_s: float = 3600.0  # the primary limit's window (shortened in tests)
    max_concurrent: int = 100  # secondary limit: concurrent requests
    points_per_minute: int = 900  # secondary limit per endpoint
    slow_s: float = 1.0  # delay of a "slow" fault
    expire_first_download: bool = False  # the first download of each report path answers "expired" (tests)
    cache_reports: int = 32  # generated reports kept in memory (raise it for benchmarks)
    download_host: str = "localhost"
    app_token_ttl_s: float = 3600.0  # lifetime of a GitHub App installation token
    secret: bytes = b"simulator-signing-key"


@dataclass
class Record:
    """What the server saw; read by tests at ``GET /_sim/record`` or via ``app.state.record``."""

    requests: int = 0
    api_requests: int = 0
    downloads: int = 0
    downloads_with_authorization: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    limit_violations: Counter[str] = field(default_factory=Counter)
    max_in_flight: int = 0
    served_rows: Counter[str] = field(default_factory=Counter)
    app_tokens_issued: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "api_requests": self.api_requests,
            "downloads": self.downloads,
            "downloads_with_authorization": len(self.downloads_with_authorization),
            "faults": dict(self.faults),
            "limit_violations": dict(self.limit_violations),
            "max_in_flight": self.max_in_flight,
            "served_rows": dict(self.served_rows),
            "app_tokens_issued": self.app_tokens_issued,
        }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)}
    return JSONResponse(body, status_code=status, headers=headers)


class Simulator:
    """Holds the tenant, the config, the counters, and builds the Starlette app."""

    def __init__(self, tenant: Tenant, config: SimConfig | None = None) -> None:
        self.tenant = tenant
        self.config = config or SimConfig()
        self.record = Record()
        self._lock = threading.Lock()
        self._attempts: Counter[str] = Counter()
        self._downloaded: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._used: Counter[str] = Counter()
        self._window: dict[str, deque[float]] = defaultdict(deque)
        self._org_names = {o.lower(): o for o in tenant.org_names}
        self._reset = time.time() + self.config.primary_window_s
        self.apps = AppTokens(ttl_s=self.config.app_token_ttl_s)
        self._cache: OrderedDict[tuple[Scope, ReportKind, dt.date | None], list[bytes]] = OrderedDict()
        routes = [
            Route("/_sim/record", self.sim_record),
            Route("/rate_limit", self.rate_limit),
            Route("/app/installations/{installation_id}/access_tokens", self.app_token, methods=["POST"]),
            Route("/copilot-reports/{kind}/{slug}/{endpoint}/{day}/{part}", self.download),
            Route("/enterprises/{slug}/copilot/metrics/reports/{endpoint}", self.report),
            Route("/enterprises/{slug}/copilot/metrics/reports/{endpoint}/latest", self.report_latest),
            Route("/orgs/{slug}/copilot/metrics/reports/{endpoint}", self.report),
            Route("/orgs/{slug}/copilot/metrics/reports/{endpoint}/latest", self.report_latest),
            Route("/enterprises/{slug}/copilot/billing/seats", self.seats),
            Route("/orgs/{slug}/copilot/billing/seats", self.seats),
            Route("/enterprises/{slug}/teams", self.teams),
            Route("/orgs/{slug}/teams", self.teams),
            Route("/enterprises/{slug}/teams/{team}/memberships", self.members),
            Route("/orgs/{slug}/teams/{team}/members", self.members),
            Route("/enterprises/{slug}/settings/billing/ai_credit/usage", self.billing),
            Route("/organizations/{slug}/settings/billing/ai_credit/usage", self.billing),
            Route("/enterprises/{slug}/settings/billing/cost-centers", self.cost_centers),
            Route("/enterprises/{slug}/settings/billing/budgets", self.budgets),
            Route("/organizations/{slug}/settings/billing/budgets", self.budgets),
            Route("/enterprises/{slug}/settings/billing/budgets/{budget_id}/user-states", self.user_states),
        ]
        self.starlette = Starlette(routes=routes)

    # ------------------------------------------------------------------ ASGI entry with guards
    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_sim/"):
            await self.starlette(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        is_download = path.startswith("/copilot-reports/")
        url = path + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
        with self._lock:
            self.record.requests += 1
            if is_download:
                self.record.downloads += 1
                if "authorization" in headers:
                    self.record.downloads_with_authorization.append(path)
            else:
                self.record.api_requests += 1
            self._attempts[url] += 1
            attempt = self._attempts[url]
        if self.config.latency_ms:  # the time to the response's first byte, the handler's own work included
            send = _Delayed(send, time.monotonic() + self.config.latency_ms / 1000)
        fault = self._fault(url, attempt)
        if fault:
            with self._lock:
                self.record.faults[fault] += 1
            if fault in ("429", "500", "502", "503"):
                extra = {"retry-after": "1"} if fault == "429" else None
                msg = "You have exceeded a secondary rate limit" if fault == "429" else "Server Error"
                await _error(int(fault), msg, extra)(scope, receive, send)
                return
            if fault == "slow":
                await asyncio.sleep(self.config.slow_s)
            else:
                await self.starlette(scope, receive, _Cutter(send, fault))
                return
        if is_download:
            await self.starlette(scope, receive, send)
            return
        token = headers.get("authorization", "").removeprefix("Bearer ").removeprefix("token ").strip()
        if path.startswith("/app/"):  # signed with the app's JWT: no installation token, no rate limit here
            scope.setdefault("state", {})["jwt"] = token
            await self.starlette(scope, receive, send)
            return
        denied = self._check_token(path, token)
        if denied is not None:
            await denied(scope, receive, send)
            return
        limited, rate_headers = self._rate_limit(token, path)
        if limited is not None:
            await limited(scope, receive, send)
            return
        key = token
        with self._lock:
            self._in_flight[key] += 1
            self.record.max_in_flight = max(self.record.max_in_flight, self._in_flight[key])
        try:
            await self.starlette(scope, receive, _AddHeaders(send, rate_headers))
        finally:
            with self._lock:
                self._in_flight[key] -= 1

    def _fault(self, url: str, attempt: int) -> str | None:
        p = self.config.fault_rate
        if p <= 0:
            return None
        h = stable_hash(self.tenant.seed, "fault", url, attempt)
        if (h % 1_000_000) / 1_000_000 >= p:
            return None
        return FAULTS[(h // 1_000_000) % len(FAULTS)]

    def _check_token(self, path: str, token: str) -> Response | None:
        cfg = self.config
        if not token:
            return _error(401, "Requires authentication")
        installation = self.apps.valid(token)
        if installation is False:  # issued by the app, now expired
            return _error(401, "Bad credentials")
        if installation:
            token = cfg.token  # an installation token reads what the metrics token reads
        elif token not in (cfg.token, cfg.billing_token):
            return _error(401, "Bad credentials")
        billing = "/settings/billing/" in path
        if billing and token != cfg.billing_token:
            return _error(
                403,
                "Resource not accessible by personal access token: billing needs a classic PAT "
                "with manage_billing:enterprise or manage_billing:copilot",
            )
        if not billing and token != cfg.token and path != "/rate_limit":
            return _error(
                403,
                "Resource not accessible by this token: usage metrics need read:enterprise / "
                "read:org or a GitHub App with Copilot metrics permission",
            )
        return None

    def _rate_limit(self, token: str, path: str) -> tuple[Response | None, dict[str, str]]:
        cfg, now = self.config, time.time()
        endpoint = "/".join(p if not p[:1].isdigit() else "{}" for p in path.split("/"))
        token = "installation" if self.apps.valid(token) is not None else token  # one budget per installation
        with self._lock:
            self._roll_window(now)
            if path == "/rate_limit":  # does not count against the primary limit
                used = self._used[token]
                return None, self._rate_headers(used)
            self._used[token] += 1
            used = self._used[token]
            window = self._window[endpoint]
            while window and window[0] <= now - 60:
                window.popleft()
            window.append(now)
            in_flight = self._in_flight[token]
        headers = self._rate_headers(used)
        violation = None
        if used > cfg.primary_limit:
            violation, status, wait = "primary", 403, None
        elif in_flight >= cfg.max_concurrent:
            violation, status, wait = "concurrency", 403, "2"
        elif len(window) > cfg.points_per_minute:
            violation, status, wait = "points_per_minute", 429, "5"
        if violation is None:
            return None, headers
        with self._lock:
            self.record.limit_violations[violation] += 1
        if wait:
            headers["retry-after"] = wait
        msg = (
            "API rate limit exceeded"
            if violation == "primary"
            else "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        )
        return _error(status, msg, headers), headers

    def _roll_window(self, now: float) -> None:
        """A new primary window once the old one has reset (call with the lock held)."""
        if now >= self._reset:
            self._used.clear()
            self._reset = now + self.config.primary_window_s

    def _rate_headers(self, used: int) -> dict[str, str]:
        limit = self.config.primary_limit
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(limit - used, 0)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(math.ceil(self._reset)),
            "x-ratelimit-resource": "core",
        }

    # ------------------------------------------------------------------ helpers
    def _scope(self, request: Request) -> Scope | None:
        slug = request.path_params["slug"]
        t = self.tenant
        if request.url.path.startswith("/enterprises/"):
            return Scope("enterprise", slug) if slug == t.enterprise else None
        names = self._org_names  # "The organization name is not case sensitive"
        return Scope("org", names[slug.lower()]) if slug.lower() in names else None

    def _sign(self, path: str, expires: int) -> str:
        mac = hmac.new(self.config.secret, f"{path}|{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode()

    def _link(self, request: Request, path: str) -> str:
        now = time.time()
        expires = int(now + self.config.link_ttl_s)
        scheme = request.scope["scheme"]
        _, port = request.scope.get("server") or (None, None)  # as request.url.port would say, without parsing
        default = {"http": 80, "https": 443}.get(scheme)
        host = self.config.download_host + (f":{port}" if port and port != default else "")
        query = urlencode({"st": int(now), "se": expires, "sig": self._sign(path, expires)})
        return f"{scheme}://{host}{path}?{query}"

    def _cached(self, key: tuple[Scope, ReportKind, dt.date | None]) -> list[bytes] | None:
        """A cached report's shards (now the most recently used), or None."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        return None

    async def _shards(self, scope: Scope, report: ReportKind, day: dt.date | None) -> list[bytes]:
        """``report_shards`` without a trip to the thread pool when the report is cached."""
        cached = self._cached((scope, report, day))
        return cached if cached is not None else await run_in_threadpool(self.report_shards, scope, report, day)

    def report_shards(self, scope: Scope, report: ReportKind, day: dt.date | None) -> list[bytes]:
        """The report's download shards, kept in an LRU cache of ``cache_reports`` reports."""
        key = (scope, report, day)
        cached = self._cached(key)
        if cached is not None:
            return cached
        shards = self.shards(self.report_bytes(scope, report, day), report)
        with self._lock:
            self._cache[key] = shards
            while len(self._cache) > self.config.cache_reports:
                self._cache.popitem(last=False)
        return shards

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def _billing_body(self, scope: Scope, params: tuple[tuple[str, str], ...]) -> Any:
        return P.billing_usage(self.tenant, scope, dict(params), self._billing_lines)

    @functools.lru_cache(maxsize=32)  # noqa: B019
    def _billing_lines(self, scope: Scope, year: int, month: int) -> Any:
        return P.billing_lines(self.tenant, scope, year, month)

    def report_bytes(self, scope: Scope, report: ReportKind, day: dt.date | None) -> bytes:
        """The full report file; ``day`` None = the latest 28-day window."""
        t = self.tenant
        if report.family == "users":
            frame = P.user_frame(t, day, scope) if day else P.users_28_day(t, scope)[2]
        elif report.family == "user-teams":
            frame = P.user_teams_frame(t, day, scope)  # type: ignore[arg-type]
        elif report.family == "repos":
            frame = P.repos_frame(t, day, scope)  # type: ignore[arg-type]
        else:
            obj = P.aggregate_record(t, day, scope) if day else P.aggregate_28_day(t, scope)
            return P.dumps(obj)
        return P.to_ndjson(frame)

    def shards(self, data: bytes, report: ReportKind) -> list[bytes]:
        if report.shape == "object":
            return [data]
        lines = data.splitlines(keepends=True)
        k = self.config.shard_rows
        return [_Shard.of(b"".join(lines[i : i + k])) for i in range(0, max(len(lines), 1), k)]

    # ------------------------------------------------------------------ endpoints
    async def sim_record(self, request: Request) -> Response:
        return JSONResponse(self.record.as_dict())

    async def rate_limit(self, request: Request) -> Response:
        """``GET /rate_limit``: the caller's primary budget now (https://docs.github.com/en/rest/rate-limit)."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        key = "installation" if self.apps.valid(token) is not None else token
        with self._lock:
            self._roll_window(time.time())
            used = self._used[key]
        limit = self.config.primary_limit
        core = {"limit": limit, "used": used, "remaining": max(limit - used, 0), "reset": math.ceil(self._reset)}
        return JSONResponse({"resources": {"core": core}, "rate": core})

    async def app_token(self, request: Request) -> Response:
        """``POST /app/installations/{installation_id}/access_tokens``: an installation token for a good JWT
        (https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app)."""
        jwt_token = request.scope.get("state", {}).get("jwt", "")
        if not jwt_token:
            return _error(401, "A JSON web token could not be decoded")
        problem = self.apps.check_jwt(jwt_token)
        if problem:
            return _error(401, problem)
        if request.path_params["installation_id"] != self.apps.installation_id:
            return _error(404, "Not Found")
        token, expires = self.apps.issue()
        with self._lock:
            self.record.app_tokens_issued += 1
        expires_at = dt.datetime.fromtimestamp(expires, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"token": token, "expires_at": expires_at, "permissions": {"organization_copilot_metrics": "read"}}
        return JSONResponse(body, status_code=201)

    async def report(self, request: Request) -> Response:
        scope = self._scope(request)
        try:
            report = report_for_endpoint(request.path_params["endpoint"])
        except KeyError:
            report = None
        if (
            scope is None
            or report is None
            or report.window != 1
            or report.endpoint(scope) != request.path_params["endpoint"]
        ):
            return _error(404, "Not Found")
        raw = request.query_params.get("day")
        try:
            day = dt.date.fromisoformat(raw or "")
        except ValueError:
            return _error(
                422,
                f'Invalid request.\n\n"day" {"wasn" + chr(39) + "t supplied" if not raw else "is not a YYYY-MM-DD date"}.',
            )
        t = self.tenant
        first = t.enterprise_data_start if scope.kind == "enterprise" else t.org_data_start
        if day < first and (scope.kind == "org" or report.family == "repos"):
            return Response(status_code=204)
        if not t.has_data(day, scope.kind):
            return JSONResponse({"download_links": [], "report_day": day.isoformat()})
        shards = await self._shards(scope, report, day)
        if report.family == "repos" and not any(shards):
            return Response(status_code=204)
        n = len(shards)
        links = [
            self._link(
                request,
                f"/copilot-reports/{scope.kind}/{scope.slug}/{report.endpoint(scope)}/"
                f"{day.isoformat()}/part-{i:03d}-of-{n:03d}.ndjson",
            )
            for i in range(n)
        ]
        return JSONResponse({"download_links": links, "report_day": day.isoformat()})

    async def report_latest(self, request: Request) -> Response:
        scope = self._scope(request)
        endpoint = request.path_params["endpoint"]
        try:
            report = report_for_endpoint(endpoint)
        except KeyError:
            return _error(404, "Not Found")
        if scope is None or report.window != 28 or report.endpoint(scope) != endpoint:
            return _error(404, "Not Found")
        t = self.tenant
        end = t.newest
        n = len(await run_in_threadpool(self.report_shards, scope, report, None))
        links = [
            self._link(
                request, f"/copilot-reports/{scope.kind}/{scope.slug}/{endpoint}/latest/part-{i:03d}-of-{n:03d}.ndjson"
            )
            for i in range(n)
        ]
        return JSONResponse(
            {
                "download_links": links,
                "report_start_day": (end - dt.timedelta(days=27)).isoformat(),
                "report_end_day": end.isoformat(),
            }
        )

    async def download(self, request: Request) -> Response:
        p = request.path_params
        try:
            expires = int(request.query_params.get("se", "0"))
        except ValueError:
            expires = 0
        sig = request.query_params.get("sig", "")
        if not hmac.compare_digest(sig, self._sign(request.url.path, expires)):
            return Response("<Error><Code>AuthenticationFailed</Code></Error>", 403, media_type="application/xml")
        with self._lock:
            self._downloaded[request.url.path] += 1
            first = self._downloaded[request.url.path] == 1
        if time.time() > expires or (self.config.expire_first_download and first):
            return Response(
                "<Error><Code>AuthenticationFailed</Code><Message>Signed expiry time has passed</Message></Error>",
                403,
                media_type="application/xml",
            )
        scope = Scope(p["kind"], p["slug"])
        report = report_for_endpoint(p["endpoint"])
        day = None if p["day"] == "latest" else dt.date.fromisoformat(p["day"])
        shards = await self._shards(scope, report, day)
        index = int(p["part"].split("-")[1])
        body = shards[index]
        if report.shape == "rows":
            with self._lock:
                self.record.served_rows[f"{scope}/{report.endpoint(scope)}"] += body.rows  # type: ignore[attr-defined]
        if p["endpoint"] in self.config.gzip_reports:
            body = _gzip(body)
        media = "application/json" if report.shape == "object" else "application/x-ndjson"
        return Response(body, media_type=media)

    async def seats(self, request: Request) -> Response:
        scope = self._scope(request)
        if scope is None:
            return _error(404, "Not Found")
        seats = await run_in_threadpool(P.seats, self.tenant, scope)
        total = len({s["assignee"]["id"] for s in seats})
        return self._paged(request, seats, default=50, wrap=lambda page: {"total_seats": total, "seats": page})

    async def teams(self, request: Request) -> Response:
        scope = self._scope(request)
        if scope is None:
            return _error(404, "Not Found")
        return self._paged(request, P.teams(self.tenant, scope), default=30)

    async def members(self, request: Request) -> Response:
        scope = self._scope(request)
        rows = None if scope is None else P.team_members(self.tenant, scope, request.path_params["team"])
        if rows is None:
            return _error(404, "Not Found")
        return self._paged(request, rows, default=30)

    async def billing(self, request: Request) -> Response:
        t = self.tenant
        slug = request.path_params["slug"]
        if request.url.path.startswith("/enterprises/"):
            scope = Scope("enterprise", slug) if slug == t.enterprise else None
        else:
            scope = Scope("org", slug) if slug in t.org_names else None
        if scope is None:
            return _error(404, "Not Found")
        params = dict(request.query_params)
        body = await run_in_threadpool(self._billing_body, scope, tuple(sorted(params.items())))
        return JSONResponse(body)

    async def cost_centers(self, request: Request) -> Response:
        """``GET /enterprises/{enterprise}/settings/billing/cost-centers`` (not paginated; ``state`` filters):
        https://docs.github.com/en/enterprise-cloud@latest/rest/billing/cost-centers"""
        if request.path_params["slug"] != self.tenant.enterprise:
            return _error(404, "Not Found")
        state = request.query_params.get("state")
        if state not in (None, "active", "deleted"):
            return _error(422, "Invalid request: state must be one of active, deleted")
        return JSONResponse(await run_in_threadpool(P.cost_centers, self.tenant, state))

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def _budgets(self, scope: Scope) -> list[dict[str, Any]]:
        return P.budgets(self.tenant, scope)

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def _user_states(self, budget_id: str) -> list[dict[str, Any]] | None:
        return P.budget_user_states(self.tenant, budget_id)

    async def budgets(self, request: Request) -> Response:
        """Enterprise and organization budgets, paged in the body (``page``, ``per_page`` ≤ 100;
        ``{budgets, has_next_page, total_count}``), ``scope`` filters (either spelling of cost-center):
        https://docs.github.com/en/enterprise-cloud@latest/rest/billing/budgets"""
        scope = self._scope(request)
        if scope is None:
            return _error(404, "Not Found")
        rows = await run_in_threadpool(self._budgets, scope)
        wanted = request.query_params.get("scope")
        if wanted:
            rows = [b for b in rows if b["budget_scope"].replace("-", "_") == wanted.replace("-", "_")]
        return self._body_paged(request, rows, "budgets")

    async def user_states(self, request: Request) -> Response:
        """Per-user states of a multi-user budget (``user_states``, paged in the body; ``user`` filters); 404 for
        any other budget."""
        if request.path_params["slug"] != self.tenant.enterprise:
            return _error(404, "Not Found")
        rows = await run_in_threadpool(self._user_states, request.path_params["budget_id"])
        if rows is None:
            return _error(404, "Not Found")
        user = request.query_params.get("user")
        if user:
            rows = [s for s in rows if s["user"].lower() == user.lower()]
        return self._body_paged(request, rows, "user_states")

    def _body_paged(self, request: Request, rows: list[Any], key: str) -> Response:
        q = request.query_params
        try:
            per_page = min(max(int(q.get("per_page", 30)), 1), 100)
            page = max(int(q.get("page", 1)), 1)
        except ValueError:
            return _error(422, "Invalid request: page and per_page must be integers")
        chunk = rows[(page - 1) * per_page : page * per_page]
        return JSONResponse({key: chunk, "has_next_page": page * per_page < len(rows), "total_count": len(rows)})

    def _paged(self, request: Request, rows: list[Any], *, default: int, wrap: Any = None) -> Response:
        q = request.query_params
        try:
            per_page = min(max(int(q.get("per_page", default)), 1), 100)
            page = max(int(q.get("page", 1)), 1)
        except ValueError:
            return _error(422, "Invalid request: page and per_page must be integers")
        last = max(math.ceil(len(rows) / per_page), 1)
        chunk = rows[(page - 1) * per_page : page * per_page]
        links = []
        base = str(request.url.remove_query_params(["page"]).include_query_params(per_page=per_page))
        if page < last:
            links.append(f'<{base}&page={page + 1}>; rel="next"')
            links.append(f'<{base}&page={last}>; rel="last"')
        if page > 1:
            links.append(f'<{base}&page=1>; rel="first"')
            links.append(f'<{base}&page={page - 1}>; rel="prev"')
        headers = {"link": ", ".join(links)} if links else None
        return JSONResponse(wrap(chunk) if wrap else chunk, headers=headers)


class _Shard(bytes):
    """A rows report's download shard that knows its line count: counted once when made, not on every download
    (a backfill serves ~0.5 GB)."""

    rows: int

    @classmethod
    def of(cls, body: bytes) -> _Shard:
        shard = cls(body)
        shard.rows = body.count(b"\n")
        return shard


@functools.lru_cache(maxsize=1024)
def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, mtime=0)


class _Delayed:
    """ASGI ``send`` wrapper that starts the response no earlier than ``at`` (``time.monotonic``)."""

    def __init__(self, send: Send, at: float) -> None:
        self.send, self.at = send, at

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start" and (delay := self.at - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        await self.send(message)


class _AddHeaders:
    """ASGI ``send`` wrapper adding headers to the response start message."""

    def __init__(self, send: Send, headers: dict[str, str]) -> None:
        self.send, self.headers = send, headers

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            extra = [(k.encode(), v.encode()) for k, v in self.headers.items()]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await self.send(message)


class _Cutter:
    """ASGI ``send`` wrapper that breaks a response: no body at all (drop) or half of it (truncate).

    The declared ``content-length`` stays, so the client sees the connection close early.
    """

    def __init__(self, send: Send, mode: str) -> None:
        self.send, self.mode = send, mode

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            cut = b"" if self.mode == "drop" else body[: len(body) // 2]
            await self.send({"type": "http.response.body", "body": cut, "more_body": True})
            raise _Abort
        await self.send(message)


class _Abort(Exception):
    pass
