"""Write the report notebooks from their cell lists (run by hand after editing; output is committed).

Keeping the cells here makes review easy; the .ipynb files are what users open and papermill runs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from copilot_usage.value import ARCHETYPE_RULE

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


VALUE = [
    md("""
*Value per AI credit* — where credits go, what each credit buys, which work patterns drive the cost, and how
much of it the included pool covers. `ai_credits_used` is one total per user per day: the split by feature and
model in section 3 is a statistical estimate, not GitHub's billing.
"""),
    params("""
min_credits: float = 10.0  # floor: users with fewer credits in the period get no ratio
min_active_days: int = 3  # floor: users with fewer active days in the period get no ratio
bootstrap_iterations: int = 1000  # resamples for the confidence intervals
seed: int = 7  # random seed of the bootstrap
"""),
    code("""
from copilot_usage import charts, metrics, narrative, notebook, teams, value
"""),
    code("""
r = notebook.report("Value per AI credit", data_dir=data_dir, scope=scope, start=start, end=end, audience=audience, k_min=k_min, pseudonymize=pseudonymize, events=events, min_credits=min_credits, min_active_days=min_active_days, bootstrap_iterations=bootstrap_iterations, seed=seed)
usage = r.scan("user_day")
totals = value.user_totals(usage)
conc = value.concentration(totals)
per_scope = value.output_per_credit(totals, min_credits=min_credits, min_active_days=min_active_days, iterations=bootstrap_iterations, seed=seed)
design = value.intensity_design(usage, r.scan("user_feature_day"), r.scan("user_model_feature_day"))
fit = value.credit_intensity(design)
narrative.value_headline(r, totals, conc, per_scope, fit)
"""),
    md("## 1. Where do credits go?\nHow concentrated consumption is across users, and how that moves month to month."),
    code("""
r.say(*narrative.concentration_story(conc))
r.chart(charts.lorenz(conc["lorenz"]), data=conc["lorenz"])
r.table(value.monthly_concentration(usage))
"""),
    md(
        "## 2. What does a credit buy?\nOutput per 100 credits, as ratios of sums, for users above the activity floors; the bars' lines are 90% bootstrap intervals (users resampled)."
    ),
    code("""
r.say(*narrative.per_credit_story(per_scope, min_credits=min_credits, min_active_days=min_active_days))
r.chart(charts.per_100_credits(per_scope), data=per_scope.drop_nulls("per_100_credits"))
"""),
    md(
        "Per team (GitHub's daily team membership, nested teams rolled up; a user on several teams counts in each, so teams do not add up to the total):"
    ),
    code("""
unit_days = teams.team_user_days(usage, r.scan("user_team_day"), r.scan("teams"))
per_user_unit = value.user_totals(unit_days, by=["unit"])
per_team = r.protect(value.output_per_credit(per_user_unit, by="unit", min_credits=min_credits, min_active_days=min_active_days, iterations=bootstrap_iterations, seed=seed, outputs={"loc_added_sum": "accepted lines"}), group_users="users")
r.table(per_team.sort("per_100_credits", descending=True, nulls_last=True), empty="No team has k_min users above the floors.")
"""),
    md(
        "## 3. Which work patterns drive the cost?\nCredits are not split by feature or model, so this estimates each one's intensity from the user-day rows (non-negative least squares; every fifth day held out to test the fit)."
    ),
    code("""
r.say(*narrative.intensity_story(fit))
r.chart(charts.intensity(fit["coefficients"]), data=fit["coefficients"])
r.table(value.attributed_credits(design, fit["coefficients"]))
"""),
    md(
        "## 4. Cost versus output\nThresholds at the medians. Leadership sees teams (k_min applied); analysts see users."
    ),
    code("""
quad, label = narrative.quadrant_for(r, totals, value.by_group(per_user_unit, group="unit"), min_credits=min_credits, min_active_days=min_active_days)
r.say(*narrative.quadrant_story(quad, "team" if label == "unit" else "user"))
r.chart(charts.quadrant(quad, label=label), data=quad)
r.table(narrative.review_table(r, quad, label), user_column="user_login", empty="No entry in the review quadrant.")
"""),
    md(
        "## 5. Patterns and phases\n"
        + "Archetypes are derived from each user's days in the period:\n\n"
        + "\n".join(f"> {line}" for line in ARCHETYPE_RULE.splitlines())
    ),
    code("""
by_archetype = r.protect(value.by_group(value.archetypes(totals), group="archetype"), group_users="users")
r.say(*narrative.group_story(by_archetype, "archetype"))
r.chart(charts.group_bars(by_archetype, group="archetype", value="credits_per_user", title="AI credits per user by usage archetype", axis="AI credits per user in period"), data=by_archetype)
by_phase = r.protect(value.by_group(totals.join(value.last_phase(usage), on="user_id", how="left"), group="phase"), group_users="users")
r.table(by_phase)
"""),
    md(
        "## 6. Outcomes\nPull requests at the level GitHub publishes them (aggregate report), per 1,000 credits of the same scope and week."
    ),
    code("""
out = value.outcomes(r.scan("aggregate_day"), usage)
r.say(*narrative.outcomes_story(out))
r.chart(charts.outcomes(out), data=out.drop_nulls("created_per_1000_credits"))
"""),
    md(
        "## 7. Money\nCredits at list price (US$0.01) against the included pool of the current seat roster (seats × plan credits)."
    ),
    code("""
money = value.money_by_month(usage, pool=metrics.included_pool(r.scan("seats")))
r.say(*narrative.money_story(money))
r.chart(charts.money(money), data=money)
r.table(money)
"""),
    code("""
r.data_notes()
"""),
]


TEAMS = [
    md("""
*Team and department distribution* — which teams drive AI-credit spend, how it is spread inside them, where
adoption lags, what a credit buys per team, and how that moves week to week. Without an organisation map,
team figures come from GitHub's daily team membership and overlap; with one, every user-day belongs to one unit.
"""),
    params("""
org_map: str = ""  # CSV/Parquet: user_login or user_id, team, department, cost_centre, valid_from, valid_to (empty: GitHub teams)
top_n: int = 12  # units shown before the long tail is folded
seat_price_business: float = 0.0  # US$ per Business seat per month (0: not priced)
seat_price_enterprise: float = 0.0  # US$ per Enterprise seat per month (0: not priced)
min_credits: float = 10.0  # floor for the value-per-credit ratios
min_active_days: int = 3  # floor for the value-per-credit ratios
bootstrap_iterations: int = 1000  # resamples for the confidence intervals
seed: int = 7  # random seed of the bootstrap
"""),
    code("""
from copilot_usage import charts, narrative, notebook, teams, value
"""),
    code("""
r = notebook.report("Team and department distribution", data_dir=data_dir, scope=scope, start=start, end=end, audience=audience, k_min=k_min, pseudonymize=pseudonymize, events=events, org_map=org_map, top_n=top_n)
view = narrative.team_view(r, org_map=org_map)
summary = teams.with_change(teams.unit_summary(view.unit_days, view.seated, scope_credits=view.scope_credits), teams.unit_summary(view.previous, view.seated, scope_credits=None))
narrative.team_headline(r, view, summary)
"""),
    md(
        "## 1. Who spends?\nCredits, seats and active users per unit; the long tail and units under k_min users are folded into one row."
    ),
    code("""
shown = teams.fold_tail(summary, top=top_n, k_min=r.k_min)
r.say(*narrative.team_spend_story(shown, additive=view.additive))
r.chart(charts.unit_credits(shown, additive=view.additive), data=shown)
r.table(shown.select("unit", "seated_users", "active_users", "credits", "credits_per_active_user", "credits_per_seat", "share_of_total", "credits_change"))
"""),
    md("By department and cost centre (from the organisation map; additive):"),
    code("""
r.table(narrative.department_summary(r, view, level="department"), empty="Department and cost-centre levels need an org_map (GitHub has no departments).")
r.table(narrative.department_summary(r, view, level="cost_centre"), empty="No cost-centre level without an org_map.")
"""),
    md(
        "## 2. How is it spread inside teams?\nDistribution of per-user credits inside each unit with k_min or more users; analysts also see the Gini and the top user's share."
    ),
    code("""
inside = r.protect(teams.spread(view.unit_days), group_users="users", analyst_only=("gini", "top_user_share"))
r.chart(charts.unit_spread(inside), data=inside)
r.table(inside)
"""),
    md(
        "## 3. Where does adoption lag?\nSeated versus active users, surface use and adoption phase (shares of active users), and how fast seats start being used."
    ),
    code("""
adopt = r.protect(teams.adoption(view.unit_days, view.seated, r.scan("seats")), group_users="seated_users")
r.table(adopt.select("unit", "seated_users", "active_users", "active_share", "agent_share", "chat_share", "cli_share", "code_review_share", "cloud_agent_share", "phase_2_share", "phase_3_share", "median_days_to_first_use", "median_days_to_first_agent"))
support = teams.needs_support(adopt, seat_price_business=seat_price_business, seat_price_enterprise=seat_price_enterprise)
r.say(*narrative.support_story(support))
r.table(support, empty="No unit needs support.")
"""),
    md("## 4. Value by team\nThe value-per-credit measures of the value report, per unit (same functions)."),
    code("""
per_user_unit = value.user_totals(view.unit_days, by=["unit"])
per_team = r.protect(value.output_per_credit(per_user_unit, by="unit", min_credits=min_credits, min_active_days=min_active_days, iterations=bootstrap_iterations, seed=seed, outputs={"loc_added_sum": "accepted lines"}), group_users="users")
r.table(per_team.sort("per_100_credits", descending=True, nulls_last=True), empty="No unit has k_min users above the floors.")
quad = value.quadrant(r.protect(value.by_group(per_user_unit, group="unit"), group_users="users"))
r.chart(charts.quadrant(quad, label="unit"), data=quad)
"""),
    md(
        "## 5. Over time\nWeekly credits per unit, the fastest-growing units and those whose credits per active user moved most (last four weeks against the four before)."
    ),
    code("""
weekly = teams.weekly_by_unit(view.unit_days, units=shown["unit"])
r.chart(charts.unit_heatmap(weekly), data=weekly)
r.table(teams.movers(weekly).head(10), empty="Fewer than two weeks of data.")
"""),
    code("""
r.data_notes()
"""),
]


SPEND = [
    md("""
*Spend and budget* — what the usage metrics say next to what billing charged after the included pool, how much
of the pool is used and when it runs out, which seats are paid for and unused, and what next month could cost.
`ai_credits_used` is consumption; billing is the invoice. Differences are listed with their likely cause.
"""),
    params("""
seat_price_business: float = 0.0  # US$ per Business seat per month (0: not priced; no list price is assumed)
seat_price_enterprise: float = 0.0  # US$ per Enterprise seat per month (0: not priced)
credit_price: float = 0.01  # US$ per AI credit
included_business: int = 1900  # included AI credits per Business licence per month
included_enterprise: int = 3900  # included AI credits per Enterprise licence per month
promotional: bool = False  # apply the 3,000 / 7,000 promotional allowance (2026-06-01 to 2026-09-01)
inactive_days: int = 30  # a seat with no activity for this many days counts as inactive
tolerance_credits: float = 1.0  # differences up to this many credits (or 0.1%) are not reported
cap_credits: float = 3000.0  # what-if: monthly per-user budget in credits
adoption_growth: float = 0.2  # what-if: relative growth of credit use next month
"""),
    code("""
from copilot_usage import charts, metrics, narrative, notebook, spend, value
"""),
    code("""
r = notebook.report("Spend and budget", data_dir=data_dir, scope=scope, start=start, end=end, audience=audience, k_min=k_min, pseudonymize=pseudonymize, events=events, seat_price_business=seat_price_business, seat_price_enterprise=seat_price_enterprise, credit_price=credit_price, promotional=promotional, inactive_days=inactive_days)
usage = r.scan("user_day").collect()
bills, billing_note = narrative.billing(r)
days = spend.reconcile_days(usage, bills, newest_metrics_day=r.end, abs_tol=tolerance_credits)
users = spend.reconcile_users(usage, bills, newest_metrics_day=r.end, abs_tol=tolerance_credits)
pool = spend.pool_by_day(r.scan("seats"), month=r.end, as_of=r.end, promotional=promotional, included={"business": included_business, "enterprise": included_enterprise})
month = metrics.forecast_credits(narrative.recent_daily(r, days=60), as_of=r.end, period_start=r.end.replace(day=1), period_end=narrative.month_end(r.end), pool=pool["pool"].max())
idle = spend.idle_seats(r.scan("seats"), as_of=r.end, inactive_days=inactive_days, seat_price_business=seat_price_business, seat_price_enterprise=seat_price_enterprise)
narrative.spend_headline(r, metrics_mtd=month["to_date"], billing_frame=bills, pool=pool["pool"].max(), fc=month, idle=idle, days=days)
"""),
    md(
        "## 1. Does billing agree with the metrics?\nMetrics `ai_credits_used` summed per day against billing's gross AI credits; a user or day on one side only is shown, not dropped."
    ),
    code("""
r.say(billing_note, *narrative.reconcile_story(days, users))
r.table(spend.differences(days), empty="No day differs by more than the tolerance (or there is no billing data).")
r.table(narrative.user_differences(r, users), user_column="user_login", empty="No per-user difference (per-user billing comes from the usage-report CSV; the API needs one call per user).")
r.table(spend.gross_to_net(bills), empty="Gross, discount and net need billing data.")
"""),
    md(
        "Per model: billing's credits next to the metrics-side estimate (the value report's regression — `ai_credits_used` is not split by model, so this is an estimate, not a reconciliation)."
    ),
    code("""
design = value.intensity_design(usage, r.scan("user_feature_day"), r.scan("user_model_feature_day"))
r.table(spend.model_comparison(bills, value.attributed_credits(design, value.credit_intensity(design)["coefficients"])), empty="No per-model billing rows.")
"""),
    md(
        "## 2. How much of the pool is used, and when does it run out?\nThe pool is the seat roster × included credits per plan, pooled and reset on the 1st; seats added mid-month grow it at once. The projection is the trends forecast (one implementation)."
    ),
    code("""
r.say(*narrative.forecast_story(month, pool=pool["pool"].max(), period_end=narrative.month_end(r.end), label="month"))
r.chart(charts.forecast(month["daily"], pool=pool["pool"].max()), data=month["daily"])
"""),
    md("## 3. Which seats are paid for and unused?"),
    code("""
r.say(*narrative.idle_story(idle, priced=seat_price_business > 0 or seat_price_enterprise > 0))
r.table(spend.idle_cost(idle, by="plan_type"))
r.table(r.protect(spend.idle_cost(idle, by="organization"), group_users="seats"), empty="No organization has k_min or more seats in a status.")
r.analyst_table(idle.filter(idle["reassignable"]).select("user_login", "plan_type", "organization", "status", "days_since_activity", "monthly_cost"))
"""),
    md(
        "## 4. What if?\nNext month under simple assumptions (printed in the last column); deterministic arithmetic, no model."
    ),
    code("""
r.table(spend.scenarios(usage, idle, forecast=month["projected"], pool=pool["pool"].max(), cap_credits=cap_credits, growth=adoption_growth, price=credit_price, included={"business": included_business, "enterprise": included_enterprise}))
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
    write("value_per_credit", VALUE)
    write("team_distribution", TEAMS)
    write("spend", SPEND)
