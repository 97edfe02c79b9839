"""The kit's vocabulary of measures, one expression per name, used inside ``group_by(...).agg(...)``.

* :func:`credits_total` — the sum of ``ai_credits_used``, **null** when no row of the group carries the field
  (GitHub added it on 2026-06-19: before that the credits are missing, not zero).
* :func:`credited_users` — distinct users whose rows carry ``ai_credits_used``: the denominator of every
  per-user credit measure (a user with no credit figure cannot have consumed 0 of it).
* :func:`credits_per_active_user` — :func:`credits_total` ÷ :func:`credited_users`, a ratio of sums. A measure
  with another denominator gets another name (e.g. ``credits_per_user_week``).
* :func:`ratio` — numerator ÷ denominator, null when the denominator is 0 or null.
"""

from __future__ import annotations

import polars as pl

CREDITS = "ai_credits_used"
USER = "user_id"


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """``numerator / denominator``; null (never infinite, never 0) when the denominator is 0 or null."""
    return pl.when(denominator > 0).then(numerator / denominator)


def credits_total(column: str = CREDITS) -> pl.Expr:
    """Sum of ``column``; null when no row carries it."""
    col = pl.col(column)
    return pl.when(col.is_not_null().any()).then(col.sum())


def credited_users(*, user: str = USER, credits: str = CREDITS) -> pl.Expr:
    """Distinct ``user`` values whose rows carry ``credits``."""
    return pl.col(user).filter(pl.col(credits).is_not_null()).n_unique()


def credits_per_active_user(*, user: str = USER, credits: str = CREDITS) -> pl.Expr:
    """Credits per active user: :func:`credits_total` ÷ :func:`credited_users` (ratio of sums)."""
    return ratio(credits_total(credits), credited_users(user=user, credits=credits))


def as_float(value: object) -> float | None:
    """A polars scalar result (``Series.median()``, ``.max()``, ``.item()``) as a float, None when missing.
    polars types these as a union of every Python literal; this is the one place that narrows it."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    msg = f"expected a number, got {type(value).__name__}: {value!r}"
    raise TypeError(msg)
