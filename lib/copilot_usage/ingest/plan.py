"""A fetch's plan in API requests, against the token's primary budget: what it needs and when it will be done.

GitHub allows 5,000 REST requests an hour for a personal token and 15,000 for a GitHub App on Enterprise Cloud
(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api); a backfill's wall time is set by
that budget, not by the client. Report downloads go to signed links outside the API and are not counted.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from .transport import Budget

WINDOW_S = 3600.0  # GitHub's primary window


@dataclass(frozen=True)
class Plan:
    """API requests per ``(scope, report)`` (estimates where a count is only known after fetching), the budget
    when the fetch starts, and what one request took then."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    tasks: int = 0
    budget: Budget | None = None
    round_trip_s: float = 0.25
    concurrency: int = 4
    window_s: float = WINDOW_S

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def eta_s(self, *, now: float) -> float:
        """Seconds until done: the client's own pace, or the resets it must wait for when the budget is short."""
        pace = self.round_trip_s / self.concurrency
        b = self.budget
        if b is None or b.remaining is None or self.total <= b.remaining:
            return self.total * pace
        short = self.total - max(b.remaining, 0)
        per_window = b.limit or max(b.remaining, 1)
        resets = math.ceil(short / per_window)
        last_window = short - (resets - 1) * per_window
        return max(b.reset - now, 0.0) + (resets - 1) * self.window_s + last_window * pace

    def lines(self, *, now: float) -> list[str]:
        out = [f"plan: {self.total:,} API requests in {self.tasks:,} tasks (downloads are not rate-limited)"]
        out += [f"  {scope} {report}: {n:,}" for (scope, report), n in sorted(self.requests.items())]
        b = self.budget
        if b is None or b.remaining is None:
            out.append("budget: unknown (GET /rate_limit did not answer); GitHub's headers will pace the fetch")
        else:
            reset = dt.datetime.fromtimestamp(b.reset, dt.UTC).strftime("%H:%M UTC")
            limit = f" of {b.limit:,}" if b.limit else ""
            out.append(f"budget: {b.remaining:,}{limit} requests left in this window (resets {reset})")
        eta = self.eta_s(now=now)
        if b is not None and b.remaining is not None and self.total > b.remaining:
            resets = math.ceil((self.total - max(b.remaining, 0)) / (b.limit or max(b.remaining, 1)))
            out.append(
                f"ETA: {_duration(eta)}: {self.total - b.remaining:,} more requests than this window has, so the "
                f"fetch waits for {resets} reset{'s' if resets > 1 else ''}; newest days come first, and a rerun "
                "continues where a stopped one left off"
            )
        else:
            out.append(f"ETA: {_duration(eta)} at {self.concurrency} concurrent requests (fits in this window)")
        return out


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(round(seconds), 1)} s"
    minutes = round(seconds / 60)
    return f"about {minutes} min" if minutes < 90 else f"about {minutes // 60} h {minutes % 60:02d} min"
