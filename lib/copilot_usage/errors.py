"""The kit's exception tree.

::

    CopilotUsageError
     ├── ConfigError            bad parameters, missing token, unreadable settings
     ├── ApiError(status)       GitHub answered with an error status
     │    ├── AuthError         401/403 that is not a rate limit: names the permission needed
     │    ├── NotFound          404: unknown enterprise/org, or a policy/billing setup that hides it
     │    └── RateLimited       403/429 with rate-limit headers; carries the wait GitHub asked for
     ├── DownloadError          a signed link failed (expired, truncated, dropped)
     ├── InputError             a file the kit cannot read or place (names file and line)
     ├── StoreError             the data dir's store refused a read or write (names the location)
     └── OutputError            a report format could not be written (the PDF engine failed)
          └── EngineMissing     the tool a format needs is not installed: says how to install it
"""

from __future__ import annotations


class CopilotUsageError(Exception):
    """Base class of every error the kit raises on purpose."""


class NotInCache(CopilotUsageError, FileNotFoundError):
    """A processed table the cache does not hold (not fetched, or not built yet); the message says how to fill it.
    A ``FileNotFoundError`` too, for callers written before it existed."""


class StoreError(CopilotUsageError):
    """The data dir's store (a folder or an object-store URL) refused a read or write: no permission on the bucket,
    a path that is not a folder, a store that cannot be reached. The message names the location."""


class ConfigError(CopilotUsageError):
    """Configuration or parameters are wrong; the message says what to change."""


class ApiError(CopilotUsageError):
    """GitHub's REST API answered with an error status."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class AuthError(ApiError):
    """The token is missing, invalid, or lacks the permission for this report."""


class NotFound(ApiError):
    """The enterprise, organization or endpoint does not exist for this token."""


class RateLimited(ApiError):
    """Primary or secondary rate limit; ``wait`` is how long GitHub asked us to pause (s)."""

    def __init__(self, message: str, *, status: int, wait: float) -> None:
        super().__init__(message, status=status)
        self.wait = wait


class DownloadError(CopilotUsageError):
    """A report download link failed (expired, truncated, dropped, too slow, not a report); ``final`` when asking
    again cannot help (over a size bound)."""

    def __init__(self, message: str, *, expired: bool = False, final: bool = False) -> None:
        super().__init__(message)
        self.expired = expired
        self.final = final


class InputError(CopilotUsageError):
    """A file or table cannot be read or placed; the message names file and line."""


class OutputError(CopilotUsageError):
    """One output format of a report could not be written; the message says why and what to do."""


class EngineMissing(OutputError):
    """The program an output format needs (headless Chromium for PDF) is not installed; says how to install it."""
