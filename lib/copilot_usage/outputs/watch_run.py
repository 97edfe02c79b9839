"""One scheduled run of the watch (``copilot-usage watch``): read the cache, flag the days since the last run, write
them as JSON beside the reports and post them once.

Files, all under ``<out>/watch/`` (the reports directory, not the data directory: the cache stays rebuildable from
raw): ``<scope>_<day>.json`` per scope and day with findings (``:`` in the scope as ``-``, as the reports name
files), and ``state.json``: per scope the last day assessed (``through``) and the days whose findings a failed post
did not deliver (``unsent``). A day up to ``through`` and not unsent was reported already and is never posted again;
an unsent day is posted again on the next run, read back from its JSON file.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..analysis import cost_centers, teams, watch
from ..cache import read
from ..errors import ConfigError, NotInCache
from ..report import attribution
from ..report.context import Report
from ..report.privacy import Audience
from . import watch_notify

DEFAULT_DAYS = 7  # the first run looks at the last week
USER_DAY = ("scope", "day", "user_id", "user_login", "ai_credits_used")
WATCH_COLUMNS = ("day", "user_id", "user_login", "ai_credits_used")  # what findings() reads of user_day
EXIT_FLAGGED = 3  # something was flagged (0: nothing; 1: an error, a failed post included)


@dataclass
class Outcome:
    """What one run found and said: ``lines`` for stdout, ``errors`` (one line each), the findings posted or due."""

    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    flagged: int = 0

    @property
    def status(self) -> int:
        return 1 if self.errors else EXIT_FLAGGED if self.flagged else 0


def complete_days(data_dir: Path) -> pl.DataFrame:
    """``scope, day`` of every complete ``users-1-day`` day in the cache."""
    try:
        health = read.scan(data_dir, "data_health").collect()
    except NotInCache:
        msg = f"no processed data under {data_dir}: run `copilot-usage fetch` and `copilot-usage build` first"
        raise ConfigError(msg) from None
    return health.filter((pl.col("report") == "users-1-day") & (pl.col("status") == "complete")).select("scope", "day")


def assess(
    data_dir: Path, scope: str, days: list[dt.date], fetched: pl.Series, *, floor_credits: float, price: float
) -> watch.Findings:
    """The watch's findings for ``scope`` on ``days`` (:func:`findings`), the history read from the
    :data:`watch.HISTORY_DAYS` before the first of them; ``fetched``: the scope's complete days."""
    first, last = min(days) - dt.timedelta(days=watch.HISTORY_DAYS), max(days)
    r = Report("watch", data_dir, scope, first, last)
    usage = r.frame("user_day", columns=USER_DAY)
    return findings(r, usage, days, fetched, floor_credits=floor_credits, price=price)


def findings(
    r: Report,
    usage: pl.DataFrame,
    days: list[dt.date],
    fetched: pl.Series,
    *,
    floor_credits: float = watch.FLOOR_CREDITS,
    price: float = watch.CREDIT_PRICE_USD,
) -> watch.Findings:
    """The watch's findings on ``days`` at every level (the scope, GitHub's cost centres, GitHub's teams through the
    reports' attribution, users) for report ``r``'s scope; ``usage`` is its ``user_day`` (``day, user_id,
    user_login, ai_credits_used``) from :data:`watch.HISTORY_DAYS` before the first of ``days``, ``fetched`` its
    complete days (the others are gaps)."""
    first, last = min(days) - dt.timedelta(days=watch.HISTORY_DAYS), max(days)
    fetched = fetched.filter(fetched.is_between(first, last))
    # only the columns the watch reads: a report passes its whole user_day (about 40 columns), and the filter, the
    # cost-centre mapping and the team join below would each copy all of them
    usage = usage.select(c for c in WATCH_COLUMNS if c in usage.columns).filter(pl.col("day").is_in(fetched.implode()))

    heavy = watch.heavy_user_day(usage)

    def flagged(series: pl.DataFrame, level: str) -> watch.Findings:
        return watch.series_findings(
            series, days, level=level, floor_credits=floor_credits, price=price, min_half_width=heavy
        )

    scoped = usage.with_columns(unit=pl.lit(r.scope))
    found = flagged(watch.daily_series(scoped, fetched), "scope")
    users = watch.user_findings(usage, days, floor_credits=floor_credits, price=price)
    runaways = users.frame.select("day", "user_login").unique()

    def of_runaways(mapped: pl.DataFrame, level: str) -> pl.DataFrame:
        """The units the flagged users' days count in at ``level``, read off the user-days already mapped."""
        return mapped.join(runaways, on=["day", "user_login"], how="semi").select(
            "day", "user_login", level=pl.lit(level), unit="unit"
        )

    members = [of_runaways(scoped, "scope")]
    centres = r.frame("cost_center_members", all_scopes=True)
    if centres.height:
        mapping = teams.units_from_mapping(cost_centers.mapping(centres), source="GitHub's cost centres")
        centred = teams.map_user_days(usage, mapping, unassigned=cost_centers.NO_COST_CENTRE)
        found += flagged(watch.daily_series(centred, fetched), "cost_centre")
        members.append(of_runaways(centred, "cost_centre"))
    src = attribution.sources(r)
    if src.fetched:
        teamed = attribution.team_days(r, usage, first, last)
        found += flagged(watch.daily_series(teamed, fetched), "team")
        members.append(of_runaways(teamed, "team"))
    else:
        found += watch.Findings(notes=(src.note(r),))
    return watch.link(found + users, pl.concat(members))


def _file(out: Path, scope: str, day: dt.date) -> Path:
    return out / f"{scope.replace(':', '-')}_{day.isoformat()}.json"


def _write(out: Path, scope: str, findings: pl.DataFrame, audience: Audience) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for (day,), rows in findings.partition_by("day", as_dict=True, maintain_order=True).items():
        body = {"scope": scope, "day": str(day), "audience": audience.name, "findings": rows.to_dicts()}
        _file(out, scope, day).write_text(json.dumps(body, indent=1, default=str) + "\n")  # type: ignore[arg-type]


def _read(out: Path, scope: str, day: dt.date) -> pl.DataFrame | None:
    path = _file(out, scope, day)
    if not path.exists():
        return None
    rows = json.loads(path.read_text())["findings"]
    frame = pl.DataFrame(rows, schema=watch.FINDINGS_SCHEMA | {"day": pl.String})
    return frame.with_columns(pl.col("day").str.to_date())


def _state(out: Path) -> dict[str, Any]:
    path = out / "state.json"
    if not path.exists():
        return {}
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        msg = f"{path}: not a watch state file ({exc}); remove it to start again from the last {DEFAULT_DAYS} days"
        raise ConfigError(msg) from None
    return state


def run(
    data_dir: Path,
    out: Path,
    *,
    scopes: list[str] | None = None,
    since: dt.date | None = None,
    webhook: str | None = None,
    floor_credits: float = watch.FLOOR_CREDITS,
    price: float = watch.CREDIT_PRICE_USD,
    audience: Audience | None = None,
    timeout: float = 10.0,
) -> Outcome:
    """Assess every scope (or ``scopes``) from ``since`` (default: the day after the last run's, else the last
    :data:`DEFAULT_DAYS` days) to its newest complete day; write, print and post what is new (module docstring)."""
    who = audience or Audience()
    folder = out / "watch"
    complete = complete_days(data_dir)
    known = sorted(complete["scope"].unique().to_list())
    chosen = scopes or known
    unknown = [s for s in chosen if s not in known]
    if unknown:
        msg = f"no complete users-1-day data for {', '.join(unknown)} under {data_dir} (the cache holds: {', '.join(known) or 'none'})"
        raise ConfigError(msg)
    state = _state(folder)
    result, due = Outcome(), []
    for scope in chosen:
        fetched = complete.filter(pl.col("scope") == scope)["day"].sort()
        newest: dt.date = fetched.max()  # type: ignore[assignment]
        mine = state.get(scope, {})
        through = dt.date.fromisoformat(mine["through"]) if mine.get("through") else None
        unsent = [dt.date.fromisoformat(d) for d in mine.get("unsent", [])]
        start = since or (through + dt.timedelta(days=1) if through else newest - dt.timedelta(days=DEFAULT_DAYS - 1))
        days = fetched.filter(fetched.is_between(start, newest)).to_list()
        if not days:
            result.lines.append(f"{scope}: no new day since the last run (data through {newest})")
        else:
            found = watch.for_audience(
                assess(data_dir, scope, days, fetched, floor_credits=floor_credits, price=price), who
            )
            frame = found.frame.with_columns(scope=pl.lit(scope))
            _write(folder, scope, frame.drop("scope"), who)
            result.notes += [f"{scope}: {n}" for n in found.notes]
            if frame.height:
                result.lines += watch_notify.lines(frame)
            else:
                result.lines.append(f"{scope}: nothing unusual on {days[0]} … {days[-1]}")
            new = frame.filter((pl.col("day") > through) if through else pl.lit(True))
            due.append(new.filter(~pl.col("day").is_in(unsent)))
            result.flagged += watch.events(frame)
        for day in unsent:  # findings a failed post did not deliver: sent again (not printed again if re-assessed)
            again = _read(folder, scope, day)
            if again is None:
                result.notes.append(f"{scope}: the findings of {day} were not delivered and their file is gone")
                continue
            due.append(again.with_columns(scope=pl.lit(scope)))
            result.flagged += 0 if days and day in days else watch.events(again)
        state[scope] = {"through": str(max(newest, through) if through else newest), "unsent": [str(d) for d in unsent]}
    pending = pl.concat(due, how="diagonal_relaxed") if due else pl.DataFrame()
    if webhook and pending.height:
        pending = pending.unique(["scope", "level", "unit", "user_login", "day"], keep="last").sort("day", "scope")
        text = watch_notify.message(pending, sorted(pending["scope"].unique().to_list()), where=str(folder))
        error = watch_notify.post(webhook, text, timeout=timeout)
        for scope in chosen:  # delivered: nothing is due; not delivered: every day of the message stays due
            due_days = pending.filter(pl.col("scope") == scope)["day"].unique().sort().to_list()
            state[scope]["unsent"] = [str(d) for d in due_days] if error else []
        if error:
            result.errors.append(f"webhook: {error}; the findings are kept in {folder} and will be posted next run")
        else:
            result.lines.append(f"posted {watch.events(pending)} finding(s) to the webhook")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    return result
