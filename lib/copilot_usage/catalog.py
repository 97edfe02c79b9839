"""Catalogue of GitHub's Copilot usage-metrics report kinds.

One table of the report endpoints of https://docs.github.com/rest/copilot/copilot-usage-metrics, used by the
simulator (to serve them) and by the fetcher (to request them), so both agree on paths, windows and shapes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

ScopeKind = Literal["enterprise", "org"]

# Every value that becomes a folder name is checked here, where it enters (CLI, import, fetch, notebook
# parameters): nothing outside GitHub's own naming can name a path. An organization name is a GitHub login:
# letters, digits and single hyphens, not at either end, at most 39 characters (the rule of GitHub's sign-up
# form, https://docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication);
# an enterprise slug ("the slug version of the enterprise name",
# https://docs.github.com/en/enterprise-cloud@latest/rest/copilot/copilot-usage-metrics) is letters, digits and
# hyphens. ``id-<id>`` is the kit's own slug for a scope known only by the id its records carry.
_ORG_NAME = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9])*")
_ENTERPRISE_SLUG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_DIGITS = re.compile(r"[0-9]+")
_NAME_MAX = {"org": 39, "enterprise": 100}
ID_PREFIX = "id-"


def check_name(kind: str, name: str) -> str:
    """``name`` if it is a valid GitHub organization name (``kind`` org) or enterprise slug; else ValueError."""
    rule = _ORG_NAME if kind == "org" else _ENTERPRISE_SLUG
    if not isinstance(name, str) or len(name) > _NAME_MAX[kind] or not rule.fullmatch(name):
        what = "an organization name" if kind == "org" else "an enterprise slug"
        hyphens = "single hyphens" if kind == "org" else "hyphens"
        msg = f"{name!r} is not {what} (letters, digits and {hyphens} not at either end, at most {_NAME_MAX[kind]})"
        raise ValueError(msg)
    return name


def check_id(field: str, value: object) -> str:
    """An ``organization_id`` / ``enterprise_id`` as GitHub documents them: digits (strings in the reports, numbers
    tolerated) or a slug; anything else (a path, a control character) is a ValueError naming the field."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or len(text) > 39 or not (_DIGITS.fullmatch(text) or _ENTERPRISE_SLUG.fullmatch(text)):
        msg = f"{field} {value!r} is not a GitHub id (digits or a slug)"
        raise ValueError(msg)
    return text


@dataclass(frozen=True)
class Scope:
    """An enterprise or an organization, as the kit names it: ``enterprise:acme`` or ``org:acme-eng``."""

    kind: ScopeKind
    slug: str

    def __post_init__(self) -> None:
        """A slug names a folder of the raw store and the cache: only GitHub's own names (or ``id-<id>``) pass."""
        if self.kind not in ("enterprise", "org"):
            msg = f"scope kind {self.kind!r} is not 'enterprise' or 'org'"
            raise ValueError(msg)
        if isinstance(self.slug, str) and self.slug.startswith(ID_PREFIX):
            check_id(f"{self.kind} id", self.slug.removeprefix(ID_PREFIX))
        else:
            check_name(self.kind, self.slug)

    @classmethod
    def parse(cls, text: str) -> Scope:
        kind, sep, slug = text.partition(":")
        if not sep or kind not in ("enterprise", "org") or not slug:
            msg = f"scope {text!r} is not 'enterprise:SLUG' or 'org:NAME'"
            raise ValueError(msg)
        return cls(kind, slug)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.kind}:{self.slug}"

    @property
    def api_prefix(self) -> str:
        return f"/enterprises/{self.slug}" if self.kind == "enterprise" else f"/orgs/{self.slug}"


@dataclass(frozen=True)
class ReportKind:
    """One usage-metrics report.

    ``family`` is the scope-independent name the kit uses (``users``, ``user-teams``, ``aggregate``,
    ``repos``); ``window`` is 1 or 28 days; ``shape`` says what the downloaded file holds:
    ``rows`` (NDJSON, one record per line) or ``object`` (one JSON object; 28-day ones wrap
    ``day_totals``).
    """

    family: Literal["users", "user-teams", "aggregate", "repos"]
    window: Literal[1, 28]
    shape: Literal["rows", "object"]

    def endpoint(self, scope: Scope) -> str:
        """The API name of this report for ``scope`` (``users-1-day``, ``organization-28-day`` …)."""
        stem: str = self.family
        if self.family == "aggregate":
            stem = "enterprise" if scope.kind == "enterprise" else "organization"
        return f"{stem}-{self.window}-day"

    def path(self, scope: Scope) -> str:
        tail = "/latest" if self.window == 28 else ""
        return f"{scope.api_prefix}/copilot/metrics/reports/{self.endpoint(scope)}{tail}"

    @property
    def key(self) -> str:
        """Scope-independent key, e.g. ``users-1-day`` or ``aggregate-28-day``."""
        return f"{self.family}-{self.window}-day"


REPORTS: tuple[ReportKind, ...] = (
    ReportKind("users", 1, "rows"),
    ReportKind("users", 28, "rows"),
    ReportKind("user-teams", 1, "rows"),
    ReportKind("aggregate", 1, "object"),
    ReportKind("aggregate", 28, "object"),
    ReportKind("repos", 1, "rows"),
)
REPORTS_BY_KEY = {r.key: r for r in REPORTS}


def report_for_endpoint(endpoint: str) -> ReportKind:
    """Map an API report name (``organization-1-day``, ``users-28-day`` …) to its kind."""
    for report in REPORTS:
        for kind in ("enterprise", "org"):
            if report.endpoint(Scope(kind, "x")) == endpoint:  # type: ignore[arg-type]
                return report
    msg = f"unknown report {endpoint!r}"
    raise KeyError(msg)


# the activity counts every user row, aggregate row and breakdown entry carries
# (https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics)
COUNT_FIELDS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
)

# what `fetch --reports` fetches by default
FAMILIES = ("users", "user-teams", "aggregate", "repos", "seats", "teams", "billing", "cost-centers", "budgets")
# asked for by name only: per-user billing costs one API call per seat holder per month (GitHub's billing usage
# API has no "group by user")
OPT_IN_FAMILIES = ("billing-users",)

# First days for which GitHub publishes reports (enterprise: https://docs.github.com/rest/copilot/copilot-usage-metrics;
# organization: GitHub's Copilot metrics concepts docs).
ENTERPRISE_DATA_START = "2025-10-10"
ORG_DATA_START = "2025-12-12"


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def first_record_day(kind: str) -> dt.date:
    """The earliest ``day`` a record of a ``kind`` scope can carry: the 28-day report published on the data's first
    day reaches 27 days back (GitHub's own example-schema file has enterprise rows for 2025-10-01)."""
    start = dt.date.fromisoformat(ENTERPRISE_DATA_START if kind == "enterprise" else ORG_DATA_START)
    return start - dt.timedelta(days=27)


def check_day(value: object, kind: str, *, today: dt.date | None = None, field: str = "day") -> str:
    """``value`` if it is a real ISO day (YYYY-MM-DD) a report of a ``kind`` scope can cover: from
    :func:`first_record_day` to tomorrow (UTC, or after ``today``); else a ValueError saying why."""
    try:
        if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        msg = f"'{field}' {value!r} is not a date (YYYY-MM-DD)"
        raise ValueError(msg) from None
    first = first_record_day(kind)
    last = (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)
    if not first <= day <= last:
        msg = f"'{field}' {value} is outside the days GitHub's reports cover ({first} to {last})"
        raise ValueError(msg)
    return value


# ai_credits_used appears on rows from this day
# (https://github.blog/changelog/2026-06-19-ai-credits-consumed-per-user-now-in-the-copilot-usage-metrics-api).
AI_CREDITS_FIELD_START = "2026-06-19"
# Usage-based billing in AI credits starts on this day (GitHub Docs, "Usage-based billing for organizations and
# enterprises", linked in pricing.py).
CREDIT_BILLING_START = "2026-06-01"

# First days on which GitHub's reports carry the fields added in June–October 2026 (GitHub's changelog,
# https://github.blog/changelog/ + the slug; absent before, and absent or null on a day without that activity).
FIELD_STARTS = {
    # 2026-06-26-track-total-merges-by-adoption-phase-in-enterprise-and-organization-reports
    "phase_total_pull_requests_merged": "2026-06-26",
    # 2026-07-07-add-review-cycles-and-time-to-adoption-phases-in-the-usage-api
    "phase_review_times": "2026-07-07",
    # 2026-07-17-github-copilot-app-now-available-in-the-usage-metrics-api (aggregate reports only)
    "copilot_app_aggregate": "2026-07-17",
    # 2026-07-28-github-copilot-app-usage-metrics-now-expand-across-report-rollups (user reports; `copilot_app`
    # in the feature, model and language roll-ups; app activity in LoC and code generation)
    "copilot_app_user": "2026-07-28",
    # 2026-08-07-copilot-usage-metrics-api-adds-agent-app-activity
    "third_party_agent": "2026-08-07",
    # 2026-09-11-add-vs-code-agents-to-copilot-usage-metrics
    "vscode_agent": "2026-09-11",
    # 2026-09-17-agentic-cli-customizations-now-in-the-usage-metrics-api
    "cli_customisation": "2026-09-17",
    # 2026-09-25-usage-metrics-api-adds-pull-request-review-stages (repos-1-day; PRs ready before 2026-09-21 excluded)
    "pull_request_review_times": "2026-09-25",
}
REVIEW_TIMES_READY_FROM = "2026-09-21"
# 2026-09-17 changelog: the kinds of CLI customisation, each a top-5 `totals_by_<kind>[]` ({<kind>, interaction_count})
# and a `distinct_<kind>_use_count`. Plugins are a subset of skills (never add them); MCP counts are connection
# attempts; in aggregate reports the distinct counts are per entity, not per user.
CLI_CUSTOMISATION_KINDS = ("skill", "custom_agent", "mcp", "slash_cmd", "plugin")
