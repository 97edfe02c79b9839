"""Every price and dated allowance the kit uses, with its source: the one place to change when GitHub does.

Sources:

* AI credits, the included pool, usage-based billing from 2026-06-01: GitHub Docs, "Usage-based billing for
  organizations and enterprises"
  (https://docs.github.com/en/copilot/concepts/billing/usage-based-billing-for-organizations-and-enterprises) and
  "About billing for GitHub Copilot in organizations and enterprises"
  (https://docs.github.com/en/copilot/concepts/billing/organizations-and-enterprises).
* Seat list prices: https://github.com/features/copilot/plans (Business US$19, Enterprise US$39 per user a month).
* Data residency (GHE.com): model usage on GitHub Enterprise Cloud with data residency carries a 10 % multiplier
  (https://docs.github.com/en/enterprise-cloud@latest/admin/data-residency/about-github-enterprise-cloud-with-data-residency).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx
import polars as pl

CREDIT_PRICE_USD = 0.01  # 1 AI credit = US$0.01 ("a $10 USD budget covers 1,000 AI credits")
SEAT_PRICE_USD = {"business": 19.0, "enterprise": 39.0}  # list price per seat per month
INCLUDED_CREDITS = {"business": 1900, "enterprise": 3900}  # per assigned licence per month, from 2026-09-01
# Existing customers' promotional allowance, 2026-06-01 to 2026-08-31 inclusive; then the standard amounts.
PROMO_CREDITS = {"business": 3000, "enterprise": 7000}
PROMO_START, PROMO_END = dt.date(2026, 6, 1), dt.date(2026, 9, 1)  # PROMO_END is the first standard day
DATA_RESIDENCY_MULTIPLIER = 1.10


@dataclass(frozen=True)
class Prices:
    """The prices a report uses, as given by its parameters (defaults: GitHub's list prices)."""

    credit: float = CREDIT_PRICE_USD
    seat_business: float = SEAT_PRICE_USD["business"]
    seat_enterprise: float = SEAT_PRICE_USD["enterprise"]
    promotional: bool = True
    included_business: int = INCLUDED_CREDITS["business"]  # standard included credits per licence a month
    included_enterprise: int = INCLUDED_CREDITS["enterprise"]

    @property
    def included(self) -> dict[str, int]:
        """The standard included credits per licence a month, by plan (the promotional ones are GitHub's)."""
        return {"business": self.included_business, "enterprise": self.included_enterprise}

    def sentence(self, *, data_resident: bool = False) -> str:
        """What the report's money figures assume, for its data notes; ``data_resident``: the data came from a
        GHE.com (data residency) API, where GitHub bills model usage with a multiplier."""
        listed = (
            self.credit == CREDIT_PRICE_USD
            and self.seat_business == SEAT_PRICE_USD["business"]
            and self.seat_enterprise == SEAT_PRICE_USD["enterprise"]
        )
        standard = f"{self.included_business:,} / {self.included_enterprise:,}"
        last_promo_day = PROMO_END - dt.timedelta(days=1)
        promo = (
            f"the promotional {PROMO_CREDITS['business']:,} / {PROMO_CREDITS['enterprise']:,} included credits per "
            f"licence (Business / Enterprise) until {last_promo_day:%Y-%m-%d}, then {standard}"
            if self.promotional
            else f"{standard} included credits per licence (Business / Enterprise; no promotional allowance)"
        )
        residency = (
            f" The data was fetched from GHE.com (data residency): GitHub bills model usage there with a "
            f"{DATA_RESIDENCY_MULTIPLIER - 1:.0%} multiplier, so US$ figures at the list price per credit may "
            f"understate the bill; billing figures are as GitHub charged them."
            if data_resident
            else ""
        )
        return (
            f"Prices used: US${self.credit:g} per AI credit, seats US${self.seat_business:g} (Business) and "
            f"US${self.seat_enterprise:g} (Enterprise) a month{' (GitHub list prices)' if listed else ''}; {promo}."
            + residency
        )


def included_credits(
    plan: pl.Expr, day: pl.Expr, *, promotional: bool = True, included: dict[str, int] | None = None
) -> pl.Expr:
    """Included AI credits of one licence for the month of ``day``: the promotional amount before 2026-09-01 when
    ``promotional``, else the standard one (``included`` overrides the standard amounts)."""
    standard = included or INCLUDED_CREDITS
    base = plan.replace_strict(standard, default=standard["business"], return_dtype=pl.Float64)
    if not promotional:
        return base
    promo = plan.replace_strict(PROMO_CREDITS, default=PROMO_CREDITS["business"], return_dtype=pl.Float64)
    return pl.when(day.is_between(pl.lit(PROMO_START), pl.lit(PROMO_END), closed="left")).then(promo).otherwise(base)


def included_amount(plan: str, day: dt.date, *, promotional: bool = True) -> int:
    """Included AI credits of one ``plan`` licence for the month of ``day`` (the scalar of
    :func:`included_credits`)."""
    table = PROMO_CREDITS if promotional and PROMO_START <= day < PROMO_END else INCLUDED_CREDITS
    return table.get(plan, table["business"])


def data_resident(base_url: str) -> bool:
    """Whether the API base URL is a GHE.com (data residency) one, where model usage costs 10 % more."""
    return data_resident_host(httpx.URL(base_url).host)


def data_resident_host(host: str) -> bool:
    """:func:`data_resident` for a bare host name (as the raw store records it)."""
    return host == "ghe.com" or host.endswith(".ghe.com")
