"""Catalogue of GitHub's Copilot usage-metrics report kinds.

One table of the report endpoints of https://docs.github.com/rest/copilot/copilot-usage-metrics, used by the
simulator (to serve them) and by the fetcher (to request them), so both agree on paths, windows and shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScopeKind = Literal["enterprise", "org"]


@dataclass(frozen=True)
class Scope:
    """An enterprise or an organization, as the kit names it: ``enterprise:acme`` or ``org:acme-eng``."""

    kind: ScopeKind
    slug: str

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
