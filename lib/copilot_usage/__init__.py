"""copilot_usage — fetch, cache and analyse GitHub Copilot usage metrics and AI-credit spend.

Start with :class:`Cache`::

    import copilot_usage

    cache = copilot_usage.Cache()  # $COPILOT_USAGE_DATA, or the kit's sample cache
    cache.scopes  # ("enterprise:octo-sim", "org:octo-sim-eng")
    cache.top_users(scope="enterprise:octo-sim", n=5)
    cache.scan("user_day", scope="enterprise:octo-sim", start="2026-10-01").collect()
    cache.report("team_distribution", scope="enterprise:octo-sim").section("who_spends").table("units")
"""

from __future__ import annotations

from .catalog import REPORTS, ReportKind, Scope
from .errors import (
    ApiError,
    AuthError,
    ConfigError,
    CopilotUsageError,
    DownloadError,
    InputError,
    NotFound,
    NotInCache,
    RateLimited,
)

__version__ = "0.1.0"  # before the submodules: rawstore and the reports record it

from .api import Cache, ReportData, SectionData, report_names, static
from .storage.datadir import find_data_dir

__all__ = [
    "REPORTS",
    "ApiError",
    "AuthError",
    "Cache",
    "ConfigError",
    "CopilotUsageError",
    "DownloadError",
    "InputError",
    "NotFound",
    "NotInCache",
    "RateLimited",
    "ReportData",
    "ReportKind",
    "Scope",
    "SectionData",
    "__version__",
    "find_data_dir",
    "report_names",
    "static",
]
