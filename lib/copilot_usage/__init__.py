"""copilot_usage — fetch, cache and analyse GitHub Copilot usage metrics and AI-credit spend."""

from __future__ import annotations

from .errors import (
    ApiError,
    AuthError,
    ConfigError,
    CopilotUsageError,
    DownloadError,
    InputError,
    NotFound,
    RateLimited,
)
from .reports import REPORTS, ReportKind, Scope

__version__ = "0.1.0"

__all__ = [
    "REPORTS",
    "ApiError",
    "AuthError",
    "ConfigError",
    "CopilotUsageError",
    "DownloadError",
    "InputError",
    "NotFound",
    "RateLimited",
    "ReportKind",
    "Scope",
    "__version__",
]
