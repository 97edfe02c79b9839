"""An outcomes file for the ROI report's event study, with a planted effect of known size (or none).

Per developer per week: ``pull_requests_merged`` drawn Poisson around a user level, a common week level and, from
the user's adoption week on, ``effect`` more a week. Earlier adopters get a higher level (prolific developers adopt
first, the confounding that makes a cohort comparison overstate the effect), so only an estimator with user fixed
effects recovers ``effect``. The adoption week is the simulator's own truth from the activity it is given: the
first Monday of two active weeks in a row (the event-study reader derives its own from the metrics).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

OUTCOME = "pull_requests_merged"


def adoption_truth(user_day: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """``user_login`` (lower case), ``adoption_week``: the first week of two consecutive active weeks (null:
    never)."""
    weeks = (
        user_day.lazy()
        .select(user_login=pl.col("user_login").str.to_lowercase(), week=pl.col("day").dt.truncate("1w"))
        .unique()
        .sort("user_login", "week")
        .with_columns(next_week=pl.col("week").shift(-1).over("user_login"))
    )
    return (
        weeks.group_by("user_login")
        .agg(adoption_week=pl.col("week").filter(pl.col("next_week") - pl.col("week") == pl.duration(weeks=1)).min())
        .sort("user_login")
        .collect()
    )


def outcomes(
    adoption: pl.DataFrame,
    *,
    first_week: dt.date,
    last_week: dt.date,
    effect: float = 1.0,
    seed: int = 0,
    base: float = 3.0,
    user_sd: float = 0.8,
    week_sd: float = 0.3,
    selection: float = 0.8,
) -> pl.DataFrame:
    """``user_login, week, pull_requests_merged`` for every user of ``adoption`` (``user_login, adoption_week``)
    and every Monday from ``first_week`` to ``last_week``; ``effect`` more merges a week from the adoption week on
    (0: no effect). ``selection``: how much higher the earliest adopters' level is than the latest's."""
    rng = np.random.default_rng(seed)
    users = adoption.sort("user_login")
    weeks = pl.date_range(
        first_week - dt.timedelta(days=first_week.weekday()), last_week, interval="1w", eager=True
    ).alias("week")
    n_users, n_weeks = users.height, weeks.len()
    # earlier adoption → higher level: rank of the adoption week in [0, 1] (never adopted: the latest)
    order = users.select(
        early=1
        - (pl.col("adoption_week").rank("dense") - 1).fill_null(pl.col("adoption_week").n_unique())
        / pl.max_horizontal(pl.col("adoption_week").n_unique(), pl.lit(1))
    )["early"].to_numpy()
    level = base + user_sd * rng.standard_normal(n_users) + selection * order
    week_level = week_sd * rng.standard_normal(n_weeks)
    grid = users.join(weeks.to_frame(), how="cross").with_columns(
        _u=pl.int_range(pl.len()) // n_weeks, _t=pl.int_range(pl.len()) % n_weeks
    )
    treated = (
        grid.select(
            (pl.col("adoption_week").is_not_null() & (pl.col("week") >= pl.col("adoption_week"))).cast(pl.Float64)
        )
        .to_series()
        .to_numpy()
    )
    rate = np.clip(level[grid["_u"].to_numpy()] + week_level[grid["_t"].to_numpy()] + effect * treated, 0.05, None)
    return grid.select("user_login", "week").with_columns(pl.Series(OUTCOME, rng.poisson(rate), dtype=pl.Int64))


def staggered_adoption(
    users: int, *, first_week: dt.date, weeks: int, seed: int = 0, never: float = 0.2
) -> pl.DataFrame:
    """``users`` developers whose adoption weeks are spread evenly over weeks 2…``weeks``−2 after ``first_week``
    (a share ``never`` never adopts): a panel for the estimator's tests without a tenant."""
    rng = np.random.default_rng(seed)
    start = first_week - dt.timedelta(days=first_week.weekday())
    offset = rng.integers(2, max(weeks - 1, 3), users)
    adopted = rng.random(users) >= never
    return pl.DataFrame({"offset": offset, "adopted": adopted}).select(
        user_login=pl.format("simdev-{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(5)),
        adoption_week=pl.when(pl.col("adopted")).then(pl.lit(start) + pl.duration(weeks=pl.col("offset"))),
    )


def write_outcomes(
    path: str | Path, user_day: pl.DataFrame | pl.LazyFrame, *, effect: float = 1.0, seed: int = 0
) -> pl.DataFrame:
    """:func:`outcomes` over the weeks of ``user_day`` for its users, written as CSV to ``path``; returns it."""
    span = user_day.lazy().select(first=pl.col("day").min(), last=pl.col("day").max()).collect().row(0)
    frame = outcomes(adoption_truth(user_day), first_week=span[0], last_week=span[1], effect=effect, seed=seed)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return frame
