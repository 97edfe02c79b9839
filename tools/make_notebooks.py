"""Write the report notebooks from their cell lists (run by hand after editing; output is committed).

Keeping the cells here makes review easy; the .ipynb files are what users open and papermill runs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).parents[1] / "notebooks"

COMMON_PARAMETERS = """data_dir: str = "../data/sample"  # processed cache (Parquet) to read; scheduled runs pass data/processed's parent
scope: str = "enterprise:octo-sim"  # "enterprise:SLUG" or "org:NAME"
start: str = ""  # first day, inclusive ISO date (empty: 90 days before end)
end: str = ""  # last day, inclusive ISO date (empty: newest complete day in the cache)
audience: str = "leadership"  # "leadership" (no logins or ids, groups under k_min hidden) or "analyst"
k_min: int = 5  # smallest group of users shown to a leadership audience
pseudonymize: bool = False  # analyst audience: replace logins by keyed pseudonyms (COPILOT_USAGE_PSEUDONYM_KEY)
events: list = []  # dated annotations drawn on time charts, e.g. ["2026-09-15: training day"]"""


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip())


def params(extra: str = "") -> nbformat.NotebookNode:
    cell = new_code_cell((COMMON_PARAMETERS + ("\n" + extra.strip() if extra.strip() else "")).strip())
    cell.metadata["tags"] = ["parameters"]
    return cell


TRENDS = [
    md("""
*Copilot usage trends* — who uses Copilot, how much AI-credit consumption that drives, which features, models and surfaces are taking
over, how new seats ramp up, and what the month and quarter will cost. Re-run with other parameters:
`copilot-usage render trends -p scope org:NAME -p start 2026-09-01`.
"""),
    params(),
    code("""
from copilot_usage import charts, metrics, narrative, notebook
"""),
    code("""
r = notebook.report("Copilot usage trends", data_dir=data_dir, scope=scope, start=start, end=end, audience=audience, k_min=k_min, pseudonymize=pseudonymize, events=events)
usage = r.scan("user_day")
daily = metrics.daily_activity(usage, start=r.start, end=r.end)
au = metrics.active_users(r.scan("user_day", lookback_days=27), start=r.start, end=r.end)
headline = narrative.trends_headline(r, daily, au)
"""),
    md(
        "## How many people use Copilot?\nDistinct users active on the day, in the trailing 7 days and in the trailing 28 days."
    ),
    code("""
r.say(*narrative.active_story(au, r.end))
r.chart(charts.active_users(au, events=r.events), data=au)
"""),
    md("## How many AI credits are used, and when?"),
    code("""
r.say(*narrative.credits_story(daily, r.end))
r.chart(charts.credits_per_day(daily, events=r.events), data=daily.drop_nulls("credits"))
"""),
    md(
        "## What does an active user consume?\nCredits divided by the users whose rows carry `ai_credits_used` (ratio of sums)."
    ),
    code("""
r.say(*narrative.cpu_story(daily, r.end))
r.chart(charts.credits_per_active_user(daily, events=r.events), data=daily.drop_nulls("credits_per_active_user"))
"""),
    md(
        "## Which features, models and IDEs generate the code?\nWeekly share of code-generation events; small categories are folded into *other*."
    ),
    code("""
feature_mix = metrics.mix(r.scan("user_feature_day"), by="feature", k_min=r.k_min)
r.say(*narrative.mix_story(feature_mix, "feature", "feature"))
r.chart(charts.mix_share(feature_mix, by="feature", title="Code generations by feature (weekly share)"), data=feature_mix)
"""),
    code("""
model_mix = metrics.mix(r.scan("user_model_feature_day"), by="model", k_min=r.k_min)
r.say(*narrative.mix_story(model_mix, "model", "model"))
r.chart(charts.mix_share(model_mix, by="model", title="Code generations by model (weekly share, chat models)"), data=model_mix)
"""),
    code("""
ide_mix = metrics.mix(r.scan("user_ide_day"), by="ide", k_min=r.k_min)
r.chart(charts.mix_share(ide_mix, by="ide", title="Code generations by IDE (weekly share)"), data=ide_mix)
"""),
    md(
        "## Which surfaces are people adopting?\nShare of each week's active users who used agent mode, chat, the CLI, code review or the cloud agent."
    ),
    code("""
adoption = metrics.surface_adoption(usage)
r.say(*narrative.surface_story(adoption))
r.chart(charts.surface_adoption(adoption), data=adoption)
"""),
    md(
        "## How do users move between adoption phases?\nGitHub's rolling 28-day cohort (Phase 0 none, 1 code-first, 2 agent-first, 3 multi-agent): last phase seen in a month against the next month."
    ),
    code("""
transitions = r.protect(metrics.phase_transitions(usage), group_users="users")
r.chart(charts.phase_transitions(transitions), data=transitions, empty="Fewer than two months of adoption-phase data (or groups under k_min) in this period.")
"""),
    md("## How fast do new seats ramp up?"),
    code("""
ramp = metrics.seat_ramp(r.scan("seats"), r.scan("user_day"), since=r.start)
r.say(*narrative.ramp_story(ramp))
r.chart(charts.seat_ramp(ramp), data=ramp if ramp.height >= r.k_min else ramp.clear(), empty="Fewer than k_min seats were granted in this period.")
"""),
    md(
        "## What will the month and the quarter cost?\nForecast from the last 28 days (weekday/weekend mix and recent trend), with an 80% prediction interval; the included pool is the seat roster × plan credits."
    ),
    code("""
pool = metrics.included_pool(r.scan("seats"))
month = metrics.forecast_credits(daily, as_of=r.end, period_start=r.end.replace(day=1), period_end=narrative.month_end(r.end), pool=pool)
quarter = metrics.forecast_credits(daily, as_of=r.end, period_start=narrative.quarter_start(r.end), period_end=narrative.quarter_end(r.end))
r.record(included_pool=pool, month_projected=month["projected"], month_low=month["low"], month_high=month["high"], pool_exhausted_on=month["exhausted_on"], quarter_projected=quarter["projected"], quarter_low=quarter["low"], quarter_high=quarter["high"])
r.say(*narrative.forecast_story(month, pool=pool, period_end=narrative.month_end(r.end), label="month"))
r.say(*narrative.forecast_story(quarter, pool=None, period_end=narrative.quarter_end(r.end), label="quarter"))
r.chart(charts.forecast(month["daily"], pool=pool), data=month["daily"])
"""),
    md("## Who consumes the most? (analyst audience)"),
    code("""
r.analyst_table(metrics.top_users(usage, n=10))
"""),
    code("""
r.data_notes()
"""),
]


def write(name: str, cells: list[nbformat.NotebookNode]) -> None:
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):  # stable ids keep diffs readable
        cell.id = f"{name}-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, ROOT / f"{name}.ipynb")


if __name__ == "__main__":
    write("trends", TRENDS)
