"""The ``copilot-usage`` command line (thin: parses options, calls the library, prints results)."""

from __future__ import annotations

import datetime as dt

import click

from . import __version__


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        msg = f"{value!r} is not an ISO date (YYYY-MM-DD)"
        raise click.BadParameter(msg) from exc


@click.group()
@click.version_option(__version__, prog_name="copilot-usage")
def main() -> None:
    """Fetch, cache and analyse GitHub Copilot usage metrics and AI-credit spend."""


@main.group()
def simulate() -> None:
    """A simulated GitHub tenant for demos and tests (no token needed)."""


@simulate.command("serve")
@click.option("--port", type=int, default=0, show_default=True, help="TCP port on 127.0.0.1 (0 = any free port).")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed; same seed, same bytes.")
@click.option("--users", type=int, default=400, show_default=True, help="Number of users in the enterprise.")
@click.option("--days", type=int, default=120, show_default=True, help="Days of history up to the newest day.")
@click.option("--orgs", type=int, default=3, show_default=True, help="Organizations in the enterprise.")
@click.option("--today", callback=_date, help="Simulated UTC date (default: today); data ends two days before.")
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Added latency per request.")
@click.option("--fault-rate", type=float, default=0.0, show_default=True,
              help="Share of requests answered with a fault (429, 5xx, drop, truncation, slow).")
@click.option("--link-ttl", type=float, default=3600.0, show_default=True, help="Download link lifetime (s).")
@click.option("--shard-rows", type=int, default=2000, show_default=True, help="Rows per download shard.")
def simulate_serve(port: int, seed: int, users: int, days: int, orgs: int, today: dt.date | None,
                   latency_ms: float, fault_rate: float, link_ttl: float, shard_rows: int) -> None:
    """Serve the simulated tenant over loopback HTTP until interrupted.

    The first line on stdout is one JSON object: base_url, enterprise, orgs, token, billing_token, today.
    """
    from .simulate.app import SimConfig, Simulator
    from .simulate.server import serve
    from .simulate.tenant import Tenant

    tenant = Tenant(seed=seed, users=users, days=days, orgs=orgs,
                    today=today or dt.datetime.now(dt.UTC).date())
    sim = Simulator(tenant, SimConfig(latency_ms=latency_ms, fault_rate=fault_rate, link_ttl_s=link_ttl,
                                      shard_rows=shard_rows))
    serve(sim, port=port)


if __name__ == "__main__":  # pragma: no cover
    main()
