"""*Copilot at a glance*: one page for leaders, composed from the other reports' figures.

Every figure here comes from the section function of the report it belongs to (the same function, on the same
report context, never recomputed another way), and each part links to that report: the last closed month's cost
and the month so far (spend), the coming months with how accurate the forecast has been (spend's outlook), whether
it is worth it (return on AI credits), adoption and the units that lag (team distribution), and the budgets and
pools at risk with their dates (spend). Data freshness is the title block's, the full data notes are each linked
report's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import roi, spend, team_distribution
from .common import forecast_accuracy, forecast_summary
from .context import Report
from .html import fmt_usd
from .section import Section, Tile, Tiles, section

SOURCES = {  # notebook -> the title its report carries
    "spend": "Spend and budget",
    "roi": "Return on AI credits",
    "team_distribution": "Team distribution",
}
NAMED = 3  # units, budgets and pools named on the page; the linked report lists them all


def _scope_words(scope: str | None) -> str:
    """A budget scope as GitHub names it (``multi_user_cost_center``) in words (``multi user cost centre``)."""
    return (scope or "unknown scope").replace("_", " ").replace("center", "centre")


def _month(month: str) -> str:
    """``2026-12`` as a reader says it: ``Dec 2026``."""
    return dt.date.fromisoformat(f"{month}-01").strftime("%b %Y")


def cost(r: Report) -> Section:
    """The last closed month's total cost and its change, this month so far and projected (the spend headline's
    tiles and its first sentence)."""
    head = spend.headline(r)
    figures = head.summary()
    return section(
        Tiles(head.tiles[:3]),
        head.sentences[:1],
        figures={k: figures[k] for k in ("last_closed_month", "month_to_date_cost", "projected_month_cost")},
        source="spend",
    )


def outlook(r: Report) -> Section:
    """Next month and the next three months in credits and US$ with their 80 % intervals, and how accurate the
    forecast has been on this scope's own history (the spend report's outlook)."""
    fc = forecast_summary(r)
    nxt, quarter = fc["next_month"], fc["next_quarter"]

    def band(h: dict[str, Any]) -> str:
        if h["low"] is None or h["high"] is None:
            return "preliminary, no interval"
        return f"80%: {h['low']:,.0f}–{h['high']:,.0f}"

    tiles = Tiles(
        (
            Tile(f"Next month ({_month(nxt['month'])}), total cost", fmt_usd(nxt["usd_total"])),
            Tile(f"Next month, AI credits ({band(nxt)})", f"{nxt['credits']:,.0f}"),
            Tile("Next three months, total cost", fmt_usd(quarter["usd_total"])),
        )
    )
    return section(tiles, forecast_accuracy(r), figures={"forecast": fc}, source="spend")


def worth(r: Report) -> Section:
    """Break-even hours and the return's range (the return-on-AI-credits headline's tiles and sentences)."""
    head = roi.headline(r)
    figures = head.summary()
    mc = roi.simulation(r)  # the headline's own Monte Carlo (memoised per report)
    ranged = () if not mc else (Tile(f"Return, median (P10 {mc['p10']:.0%}, P90 {mc['p90']:.0%})", f"{mc['p50']:.0%}"),)
    tiles = Tiles(
        (
            *(t for t in head.tiles if t.label.startswith(("Break-even", "Chance"))),
            *ranged,
        )
    )
    return section(
        tiles,
        figures={
            "break_even_hours_per_developer_month": figures.get("break_even_hours_per_developer_month"),
            "roi": None if not mc else {k: mc[k] for k in ("p10", "p50", "p90", "p_positive")},
        },
        source="roi",
    )


def adoption(r: Report) -> Section:
    """Adoption of the scope and the units that lag, named (the team report's figures and its support list)."""
    fig = team_distribution.figures(r)
    support = team_distribution.lagging_units(r)
    named = support.head(NAMED)
    if not r.fetched("seats"):
        story = ["Adoption needs the seat roster.", r.not_fetched("seats")]
    elif support.height == 0:
        story = ["No unit's adoption lags: none is under 60% or well below the scope's adoption."]
    else:
        listed = "; ".join(
            f"{u['unit']} ({u['active_seated']} of {u['seated_users']} seated members active, {u['adoption']:.0%})"
            for u in named.iter_rows(named=True)
        )
        more = f", and {support.height - named.height} more" if support.height > named.height else ""
        story = [f"{support.height} unit(s) lag in adoption: {listed}{more}."]
    tiles = Tiles(
        (
            Tile(
                "Adoption (active seated / seated)",
                "n/a" if fig.adoption_share is None else f"{fig.adoption_share:.0%}",
            ),
            Tile("Seated users", f"{fig.seated_users:,}" if fig.seated_users is not None else "n/a"),
            Tile("Units that lag", f"{support.height:,}"),
        )
    )
    figures = {
        "adoption_share": fig.adoption_share,
        "seated_users": fig.seated_users,
        "units_lagging": [
            {"unit": u["unit"], "adoption": u["adoption"], "seated_users": u["seated_users"]}
            for u in named.iter_rows(named=True)
        ],
        "units_lagging_count": support.height,
    }
    return section(tiles, story, figures=figures, source="team_distribution")


def risks(r: Report) -> Section:
    """The included pool, budgets and cost-centre pools that run out before the month ends, with their dates
    (P50, and P90: nine times in ten no earlier), from the spend report's budget and chargeback sections."""
    head = spend.headline(r).summary()
    budgets = spend.budget_section(r).summary().get("budgets", [])
    centres = spend.chargeback(r).summary().get("cost_centres", [])
    at_risk = [b for b in budgets if b.get("exhaustion_p50") is not None]
    pools = [c for c in centres if c.get("exhaustion_p50") is not None]
    story = []
    pool_day = head.get("projected_exhaustion_date")
    story.append(
        f"The included pool is projected to run out on {pool_day:%d %b}."
        if pool_day
        else "The included pool is projected to last the month."
    )

    def when(item: dict[str, Any]) -> str:
        p50, p90 = item["exhaustion_p50"], item.get("exhaustion_p90")
        early = f" (possibly {p90:%d %b})" if p90 and p90 != p50 else ""
        return f"{p50:%d %b}{early}"

    if at_risk:
        named = at_risk[:NAMED]
        more = f"; and {len(at_risk) - len(named)} more" if len(at_risk) > len(named) else ""
        story.append(
            "Budgets that run out this month: "
            + "; ".join(f"{b['entity']} ({_scope_words(b['scope'])}) on {when(b)}" for b in named)
            + f"{more}."
        )
    else:
        story.append("No budget runs out this month at the current pace.")
    if pools:
        more = f"; and {len(pools) - NAMED} more" if len(pools) > NAMED else ""
        story.append(
            "Cost-centre pools that run out: "
            + "; ".join(f"{c['cost_centre']} on {when(c)}" for c in pools[:NAMED])
            + f"{more}."
        )
    return section(
        story,
        figures={"budgets_at_risk": at_risk, "cost_centre_pools_at_risk": pools, "pool_exhaustion_date": pool_day},
        source="spend",
    )
