"""What the fetch accepts from whatever host is behind ``--base-url``: every bound on time and size in one place.

Defaults are generous for real GitHub answers (a 100,000-seat ``users-1-day`` report is a few hundred MB; API JSON
answers are pages of at most 100 items) and small enough that a broken or hostile host cannot hang, flood or fill
the machine. ``fetch --limit NAME=VALUE`` overrides one (sizes take ``KiB``/``MiB``/``GiB`` suffixes).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

_UNITS = {"": 1, "b": 1, "kib": 1 << 10, "kb": 1000, "mib": 1 << 20, "mb": 1000**2, "gib": 1 << 30, "gb": 1000**3}


@dataclass(frozen=True)
class Limits:
    """Bounds of one fetch. Each is a failure of that request (and so of its task), never of the whole fetch."""

    api_bytes: int = 64 << 20  # one API answer, decompressed (a page of 100 seats is ~150 KB)
    download_bytes: int = 2 << 30  # one download link as received (a Content-Length above it fails before reading)
    stored_bytes: int = 2 << 30  # one day's report as stored, after gzip is undone (all its shards)
    gzip_ratio: float = 200.0  # decompressed : compressed, checked past the first 16 MiB (JSON compresses ~10-30x)
    min_bytes_per_s: float = 1024.0  # a body must bring this much per window on average, or the request fails
    slow_window_s: float = 60.0  # ... measured over windows this long (from the request, so slow headers count too)
    max_pages: int = 10_000  # pages of one listing (1,000,000 items at 100 a page); a next link seen before stops it
    max_rate_wait_s: float = 3600.0  # GitHub's primary window; a rate-limit header asking for longer is nonsense

    @property
    def slow_floor(self) -> str:
        return f"{self.min_bytes_per_s:,.0f} B/s over {self.slow_window_s:g} s"

    @classmethod
    def parse(cls, items: list[str] | tuple[str, ...]) -> Limits:
        """``["api_bytes=8MiB", "slow_window_s=30"]`` over the defaults; a bad name or value is a ValueError."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        given: dict[str, float | int] = {}
        for item in items:
            name, _, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if name not in known or not value:
                msg = f"--limit {item!r}: give NAME=VALUE with NAME one of {', '.join(known)}"
                raise ValueError(msg)
            m = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([a-z]*)\s*", value.lower())
            if not m or m.group(2) not in _UNITS or float(m.group(1)) <= 0:
                msg = f"--limit {item!r}: {value!r} is not a positive number (sizes may end in KiB, MiB or GiB)"
                raise ValueError(msg)
            number = float(m.group(1)) * _UNITS[m.group(2)]
            given[name] = int(number) if known[name].type in ("int", int) else number
        return cls(**given)  # type: ignore[arg-type]
