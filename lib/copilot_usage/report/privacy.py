"""Audience rules as pure functions: what a leadership or analyst reader may see of a frame.

Leadership never sees logins or user ids, and never a group of fewer than ``k_min`` users; the analyst audience
sees logins, or keyed pseudonyms of them when asked (the key comes from the environment and is never stored).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

import polars as pl

from ..errors import ConfigError

AUDIENCES = ("leadership", "analyst")
PSEUDONYM_ENV = "COPILOT_USAGE_PSEUDONYM_KEY"
IDENTIFYING = ("user_id", "user_login", "login")


@dataclass(frozen=True)
class Audience:
    """Who reads the report: ``name`` (leadership or analyst), the smallest group shown, and whether an analyst
    sees pseudonyms instead of logins."""

    name: str = "leadership"
    k_min: int = 5
    pseudonymize: bool = False

    def __post_init__(self) -> None:
        if self.name not in AUDIENCES:
            msg = f"audience {self.name!r} is not one of {AUDIENCES}"
            raise ConfigError(msg)
        if self.k_min < 1:
            msg = f"k_min must be at least 1, got {self.k_min}"
            raise ConfigError(msg)

    @property
    def leadership(self) -> bool:
        return self.name == "leadership"


def protect(
    frame: pl.DataFrame,
    audience: Audience,
    *,
    user_column: str | None = None,
    group_users: str | None = None,
    analyst_only: tuple[str, ...] = (),
) -> pl.DataFrame:
    """``frame`` as ``audience`` may see it: rows whose ``group_users`` count is under ``k_min`` dropped,
    ``analyst_only`` columns and every identifying column dropped for leadership, ``user_column`` pseudonymised
    for an analyst who asked for pseudonyms. The input is never changed."""
    out = frame
    if group_users is not None:
        out = out.filter(pl.col(group_users) >= audience.k_min)
    if audience.leadership:
        hidden = {*analyst_only, *IDENTIFYING, *([user_column] if user_column else [])}
        return out.drop([c for c in out.columns if c in hidden])
    if audience.pseudonymize and user_column is not None and user_column in out.columns:
        out = out.with_columns(pseudonyms(out[user_column], key=pseudonym_key()).alias(user_column))
    return out


def pseudonym_key() -> bytes:
    """The HMAC key for pseudonyms, from :data:`PSEUDONYM_ENV`."""
    key = os.environ.get(PSEUDONYM_ENV)
    if not key:
        msg = f"pseudonymize=True needs {PSEUDONYM_ENV} in the environment (it is never stored with the data)"
        raise ConfigError(msg)
    return key.encode()


def pseudonyms(logins: pl.Series, *, key: bytes) -> pl.Series:
    """Stable keyed-HMAC pseudonyms (``user-1a2b3c4d``) for distinct logins; nulls stay null."""
    distinct = logins.unique().drop_nulls().sort()
    mapping = {v: "user-" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:8] for v in distinct.to_list()}
    return logins.replace_strict(mapping, default=None, return_dtype=pl.String)
