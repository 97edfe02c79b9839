"""GitHub's definition changes as the simulated tenant serves them, each from the day of its register entry.

Real GitHub does not backfill: a day is served as GitHub measured it then. The dates come from the kit's register
(``github_changes.json``), so the simulator and the reports draw the same dates; the shares below are the
simulator's assumptions, not GitHub's figures.

- server-side users counted, 2026-06-15
  (https://github.blog/changelog/2026-06-15-copilot-usage-metrics-now-include-more-of-your-active-users):
  a few per cent of users (whose client sends no usage telemetry) are in no report before that day, though billing
  charges them; from it their active days appear with ``user_id``, ``user_login`` and ``ai_credits_used`` only
  (empty breakdowns), counted in ``daily_active_users``.
- credit attribution fixed, 2026-07-02
  (https://github.blog/changelog/2026-07-02-improved-accuracy-and-coverage-in-copilot-usage-metrics-reports):
  before that day ``ai_credits_used`` misses a share of the credits billing charges, and the CLI reports no
  ``loc_suggested_to_*``.
- Copilot app users counted, 2026-07-28
  (https://github.blog/changelog/2026-07-28-github-copilot-app-usage-metrics-now-expand-across-report-rollups):
  before that day users whose only activity is the Copilot app are not in ``daily_active_users`` (nor in the
  per-user reports), though the aggregate's app figures (from 2026-07-17) include them.
- agent activity under-counted, 2026-10-06
  (https://github.blog/changelog/2026-10-06-update-your-ide-to-restore-agent-activity-in-copilot-usage-metrics):
  from that day, until the user's IDE updates (VS Code first, the others by the end of November), part of a
  user's agent-mode days are reported as CLI (``used_cli``, feature ``copilot_cli``) with only part of their
  counts; billing is not affected.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import polars as pl

from ..analysis.github_changes import GITHUB, register


@functools.cache
def on(label: str) -> dt.date:
    """The day of GitHub's register entry labelled ``label``."""
    reg = register()
    day: dt.date = reg.filter((pl.col("origin") == GITHUB) & (pl.col("label") == label))["day"].item()
    return day


def server_side_users() -> dt.date:
    return on("server-side users counted")


def credits_fixed() -> dt.date:
    return on("credit attribution fixed")


def app_users_counted() -> dt.date:
    return on("Copilot app users counted")


def agent_as_cli() -> dt.date:
    return on("agent activity under-counted")


SERVER_SIDE_SHARE = 0.04  # share of users whose client sends no usage telemetry (GitHub sees them server-side)
CREDITS_COUNTED_BEFORE_FIX = 0.75  # share of the billed credits ``ai_credits_used`` carried before the fix
APP_ONLY_P = 0.35  # chance a Copilot app user who is otherwise inactive on a weekday uses the app alone
AGENT_AS_CLI_P = 0.5  # chance an agent-mode day of a not-yet-updated IDE goes through the SDK without IDE identity
AGENT_COUNTED = 0.6  # share of such a day's agent-mode counts that reach the metrics (as CLI)
AGENT_FEATURES = ("chat_panel_agent_mode", "agent_edit")
# days after the 2026-10-06 entry over which users' IDEs update (uniform): VS Code 1.139.0 first, the others by
# the end of November 2026 (the changelog's "by November")
IDE_UPDATE_DAYS = {"vscode": (8, 22), "other": (22, 55)}


def ide_updated(agent_as_cli_day: dt.date, is_vscode: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per user, the day their IDE reports agent activity with its identity again."""
    lo = np.where(is_vscode, IDE_UPDATE_DAYS["vscode"][0], IDE_UPDATE_DAYS["other"][0])
    hi = np.where(is_vscode, IDE_UPDATE_DAYS["vscode"][1], IDE_UPDATE_DAYS["other"][1])
    offset = rng.integers(lo, hi + 1)
    return np.datetime64(agent_as_cli_day, "D") + offset.astype("timedelta64[D]")


_THINNED = ("interactions", "generations", "loc_suggested_add", "loc_suggested_del", "loc_added", "loc_deleted")


def as_reported(cells: pl.DataFrame, day: dt.date, sdk: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """The day's activity cells as GitHub's metrics report them (``cells``: :meth:`Tenant.cells`, ground truth;
    ``sdk``: per user, whether their agent-mode activity lacked IDE identity that day)."""
    out = cells
    if day < credits_fixed():  # the CLI did not fill the suggested lines before the fix
        cli = pl.col("feature") == "copilot_cli"
        out = out.with_columns(pl.when(cli).then(0).otherwise(pl.col(c)).alias(c) for c in _SUGGESTED)
    if day < agent_as_cli() or not sdk.any():
        return out
    moved = out["feature"].is_in(AGENT_FEATURES).to_numpy() & sdk[out["u"].to_numpy()]
    thinned = {c: rng.binomial(out[c].to_numpy(), AGENT_COUNTED) for c in _THINNED}
    kept_acc = np.minimum(rng.binomial(out["acceptances"].to_numpy(), AGENT_COUNTED), thinned["generations"])
    m = pl.Series(moved)
    return out.with_columns(
        *(pl.when(m).then(pl.Series(v)).otherwise(pl.col(c)).alias(c) for c, v in thinned.items()),
        pl.when(m).then(pl.Series(kept_acc)).otherwise(pl.col("acceptances")).alias("acceptances"),
        pl.when(m).then(pl.lit("copilot_cli")).otherwise(pl.col("feature")).alias("feature"),
    ).filter((pl.col("interactions") > 0) | (pl.col("generations") > 0))


_SUGGESTED = ("loc_suggested_add", "loc_suggested_del")
