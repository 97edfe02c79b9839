"""copilot_usage — fetch, cache and analyse GitHub Copilot usage metrics and AI-credit spend."""

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
    "NotInCache",
    "RateLimited",
    "ReportKind",
    "Scope",
    "__version__",
]
