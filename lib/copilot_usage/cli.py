"""The ``copilot-usage`` command line (thin: parses options, calls the library, prints results)."""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import click

from . import __version__
from .catalog import FAMILIES, OPT_IN_FAMILIES, Scope

if TYPE_CHECKING:
    from .ingest.fetch import Summary
    from .ingest.plan import Plan


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        msg = f"{value!r} is not an ISO date (YYYY-MM-DD)"
        raise click.BadParameter(msg) from exc


class _DataDir(click.ParamType):
    """``--data-dir``: a local folder, or an object-store URL (``s3://bucket/prefix``, ``gs://…``, ``az://…``,
    ``abfss://…``) kept as text; credentials come from the environment as the cloud's own tools find them."""

    name = "folder|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path | str:
        from .storage.objstore import as_data_dir

        return as_data_dir(value) if isinstance(value, str) else Path(value)


DATA_DIR = _DataDir()


def _one_line_errors(command: Callable[..., None]) -> Callable[..., None]:
    """The one place operator errors become one line and exit status 1, with no traceback: the kit's own errors
    (which name their file and line) and the operating system's (a data dir that is a file, a read-only folder,
    a full disk), named by their path, else by the command's data or output folder."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        from .errors import CopilotUsageError

        try:
            command(*args, **kwargs)
        except CopilotUsageError as exc:
            raise click.ClickException(" ".join(str(exc).split())) from exc
        except OSError as exc:
            where = exc.filename or kwargs.get("data_dir") or kwargs.get("out") or "."
            msg = f"{where}: {exc.strerror or exc}"
            raise click.ClickException(" ".join(msg.split())) from exc

    return run


def _scopes(enterprises: tuple[str, ...], orgs: tuple[str, ...]) -> list[Scope]:
    """``--enterprise`` and ``--org`` values as scopes; a value that is not a GitHub name is refused here, before
    any request (it would name another endpoint and a folder outside the data dir)."""
    try:
        return [Scope("enterprise", e) for e in enterprises] + [Scope("org", o) for o in orgs]
    except ValueError as exc:
        msg = f"--enterprise/--org: {exc}"
        raise click.ClickException(msg) from None


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
@click.option(
    "--latency-ms",
    type=float,
    default=0.0,
    show_default=True,
    help="Time to the first byte of every response (the handler's own work included).",
)
@click.option(
    "--fault-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of requests answered with a fault (429, 5xx, drop, truncation, slow).",
)
@click.option("--link-ttl", type=float, default=3600.0, show_default=True, help="Download link lifetime (s).")
@click.option("--shard-rows", type=int, default=2000, show_default=True, help="Rows per download shard.")
@click.option("--cache-reports", type=int, default=32, show_default=True, help="Generated reports kept in memory.")
@click.option(
    "--primary-limit",
    type=int,
    default=5000,
    show_default=True,
    help="Requests per token per hour (5,000 for a PAT; 15,000 for a GitHub App on GHEC).",
)
@click.option(
    "--primary-window",
    type=float,
    default=3600.0,
    show_default=True,
    help="Length of the primary rate limit's window (s); shorten it to exercise resets.",
)
@click.option(
    "--app-token-ttl", type=float, default=3600.0, show_default=True, help="GitHub App installation token lifetime (s)."
)
@click.option(
    "--hostile-names",
    is_flag=True,
    help="Name teams, cost centres, budgets and logins like formulas, Markdown links, HTML, bidi overrides and a "
    "5,000-character name (to check that every report format shows them safely).",
)
def simulate_serve(
    port: int,
    seed: int,
    users: int,
    days: int,
    orgs: int,
    today: dt.date | None,
    latency_ms: float,
    fault_rate: float,
    link_ttl: float,
    shard_rows: int,
    cache_reports: int,
    primary_limit: int,
    primary_window: float,
    app_token_ttl: float,
    hostile_names: bool,
) -> None:
    """Serve the simulated tenant over loopback HTTP until interrupted.

    The first line on stdout is one JSON object: base_url, enterprise, orgs, token, billing_token, today,
    newest_day, and the simulated GitHub App's app_id, installation_id and app_key_path.
    """
    from .simulate.app import SimConfig, Simulator
    from .simulate.server import serve
    from .simulate.tenant import Tenant

    tenant = Tenant(
        seed=seed,
        users=users,
        days=days,
        orgs=orgs,
        today=today or dt.datetime.now(dt.UTC).date(),
        hostile_names=hostile_names,
    )
    sim = Simulator(
        tenant,
        SimConfig(
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            link_ttl_s=link_ttl,
            shard_rows=shard_rows,
            cache_reports=cache_reports,
            primary_limit=primary_limit,
            primary_window_s=primary_window,
            app_token_ttl_s=app_token_ttl,
        ),
    )
    serve(sim, port=port)


@simulate.command("outcomes")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True)
@click.option("--scope", "scope_text", required=True, help='"enterprise:SLUG" or "org:NAME" of the cached metrics.')
@click.option(
    "--effect", type=float, default=1.0, show_default=True, help="Merges a week added from adoption (0: none)."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; same seed, same file.")
def simulate_outcomes(out: Path, data_dir: Path, scope_text: str, effect: float, seed: int) -> None:
    """Write an outcomes CSV (user_login, week, pull_requests_merged) for the cached users of SCOPE with a planted
    effect of known size from each user's adoption week, for the ROI report's event study (parameter outcomes)."""
    from .cache import read
    from .simulate.outcomes import write_outcomes

    user_day = read.scan(data_dir, "user_day", scope=scope_text).select("day", "user_login")
    frame = write_outcomes(out, user_day, effect=effect, seed=seed)
    click.echo(f"{out}: {frame.height:,} user-weeks, {frame['user_login'].n_unique():,} users, effect {effect:g}")


@main.command("fetch")
@click.option("--enterprise", "enterprises", multiple=True, help="Enterprise slug (repeatable).")
@click.option("--org", "orgs", multiple=True, help="Organization name (repeatable).")
@click.option(
    "--base-url",
    default="https://api.github.com",
    show_default=True,
    help="API base URL; GHE.com: https://api.SUBDOMAIN.ghe.com",
)
@click.option("--data-dir", type=DATA_DIR, default=Path("data"), show_default=True)
@click.option("--since", callback=_date, help="First day (inclusive, ISO).")
@click.option("--until", callback=_date, help="Last day (inclusive, ISO).")
@click.option(
    "--reports",
    default=",".join(FAMILIES),
    show_default=True,
    help="Comma-separated report families; add billing-users for per-user billing (one call per seat holder "
    "per month).",
)
@click.option("--concurrency", type=int, default=4, show_default=True, help="Concurrent requests (1-50).")
@click.option("--app-id", envvar="COPILOT_USAGE_APP_ID", help="GitHub App id (instead of GITHUB_TOKEN).")
@click.option(
    "--app-key",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="COPILOT_USAGE_APP_KEY",
    help="Path of the GitHub App's private key (PEM); read only to sign, never stored.",
)
@click.option("--installation-id", envvar="COPILOT_USAGE_APP_INSTALLATION_ID", help="The app's installation id.")
@click.option(
    "--limit",
    "limit_items",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a bound on what a host may send (repeatable): api_bytes, download_bytes, stored_bytes, "
    "gzip_ratio, min_bytes_per_s, slow_window_s, max_pages, max_rate_wait_s; see README.",
)
@click.option("--rate-window", type=float, default=3600.0, hidden=True, help="Primary window (s) for the ETA.")
@click.option("--today", callback=_date, hidden=True)
def fetch_cmd(
    enterprises: tuple[str, ...],
    orgs: tuple[str, ...],
    base_url: str,
    data_dir: Path,
    since: dt.date | None,
    until: dt.date | None,
    reports: str,
    concurrency: int,
    app_id: str | None,
    app_key: Path | None,
    installation_id: str | None,
    limit_items: tuple[str, ...],
    rate_window: float,
    today: dt.date | None,
) -> None:
    """Fetch reports, seats, teams and billing into DATA_DIR/raw (tokens from GITHUB_TOKEN / .env, or a GitHub
    App). Prints the plan first: API requests per scope and report, the token's budget and the ETA."""
    from .config import Settings
    from .ingest.auth import App
    from .ingest.fetch import disk_line, fetch
    from .ingest.github import GitHub
    from .ingest.limits import Limits

    try:
        limits = Limits.parse(limit_items)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--limit") from exc

    scopes = _scopes(enterprises, orgs)
    if not scopes:
        msg = "give at least one --enterprise or --org"
        raise click.UsageError(msg)
    families = [f.strip() for f in reports.split(",") if f.strip()]
    unknown = sorted(set(families) - set(FAMILIES) - set(OPT_IN_FAMILIES))
    if unknown:
        msg = f"unknown report(s) {unknown}; choose from {', '.join(FAMILIES + OPT_IN_FAMILIES)}"
        raise click.UsageError(msg)
    settings = Settings.from_env()
    app_id, app_key = app_id or settings.app_id, app_key or settings.app_key
    installation_id = installation_id or settings.app_installation_id
    app = None
    if app_id or app_key or installation_id:
        if not (app_id and app_key and installation_id):
            msg = "a GitHub App needs all three of --app-id, --app-key and --installation-id (or their COPILOT_USAGE_APP_* variables)"
            raise click.UsageError(msg)
        app = App(app_id=app_id, key_path=app_key, installation_id=installation_id)
    elif not settings.token:
        msg = (
            "GITHUB_TOKEN is not set (environment or .env), and no GitHub App is configured; see README, Configuration"
        )
        raise click.UsageError(msg)
    billing_token = settings.billing_token if (settings.billing_token != settings.token or not app) else None

    progress = _Progress(rate_window)

    async def go() -> Summary:
        async with GitHub(
            base_url,
            token=settings.token,
            billing_token=billing_token,
            app=app,
            concurrency=concurrency,
            limits=limits,
            on_wait=progress.note,
        ) as gh:
            return await fetch(
                gh,
                data_dir,
                scopes,
                families=families,
                since=since,
                until=until,
                today=today,
                on_done=progress.done,
                on_plan=progress.plan,
            )

    from .analysis.pricing import data_resident

    if data_resident(base_url):
        click.echo(
            "GHE.com (data residency): GitHub bills model usage here with a 10 % multiplier; the reports show "
            "ai_credits_used as GitHub sends it",
            err=True,
        )
    with progress:
        import asyncio  # here, not at import: commands that do not fetch start faster

        try:
            summary = asyncio.run(go())
        except OSError as exc:  # the data folder cannot be read or written before any task ran
            click.echo(f"error: {disk_line(exc, data_dir)}", err=True)
            raise SystemExit(1) from None
    _print_summary(summary)
    if summary.stopped:
        left = f", {summary.not_started:,} task(s) not started" if summary.not_started else ""
        click.echo(f"error: {summary.stopped}; the fetch stopped{left}", err=True)
    if summary.failed or summary.stopped:
        raise SystemExit(1)


class _Progress:
    """A progress bar on a terminal (failures printed above it); plain log lines otherwise."""

    def __init__(self, rate_window: float = 3600.0) -> None:
        self.rate_window = rate_window
        self.bar: Any = None
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("fetch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
            )
            self.task = self.bar.add_task("fetch", total=None)

    def __enter__(self) -> Self:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def plan(self, plan: Plan) -> None:
        import dataclasses
        import time

        lines = dataclasses.replace(plan, window_s=self.rate_window).lines(now=time.time())
        if self.bar:
            self.bar.update(self.task, total=plan.tasks)
            for line in lines:
                self.bar.console.print(line, highlight=False)
        else:
            for line in lines:
                click.echo(line, err=True)

    def note(self, line: str) -> None:
        """One line printed as it happens (a rate-limit wait as it starts), above the bar on a terminal."""
        if self.bar:
            self.bar.console.print(line, style="yellow", highlight=False)
        else:
            click.echo(line, err=True)

    def done(self, line: str) -> None:
        if self.bar:
            self.bar.advance(self.task)
            if "failed" in line:
                self.bar.console.print(line, style="red", highlight=False)
        else:
            click.echo(line, err=True)


def _print_summary(summary: Summary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="fetch summary")
    rows = summary.rows()
    for col in rows[0] if rows else ["scope", "report"]:
        key = col in ("scope", "report")
        table.add_column(col, justify="left" if key else "right", no_wrap=key)
    for row in rows:
        table.add_row(*map(str, row.values()))
    Console(width=140).print(table)
    for err in summary.errors[:20]:
        click.echo(f"error: {err}", err=True)


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--report",
    type=click.Choice(["users-1-day", "user-teams-1-day", "aggregate-1-day", "repos-1-day"]),
    help="Report kind when it cannot be read from the records.",
)
@click.option("--scope", "scope_text", help="enterprise:SLUG or org:NAME (default: from the records' ids).")
@click.option("--data-dir", type=DATA_DIR, default=Path("data"), show_default=True)
@_one_line_errors
def import_cmd(files: tuple[Path, ...], report: str | None, scope_text: str | None, data_dir: Path) -> None:
    """Import downloaded report files (NDJSON, JSON object/array, day_totals) into DATA_DIR/raw."""
    from .errors import InputError
    from .ingest.importer import import_file

    try:
        scope = Scope.parse(scope_text) if scope_text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from exc
    problems = 0
    for path in files:
        try:
            result = import_file(path, data_dir, report=report, scope=scope)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            problems += 1
            continue
        days = {(s, r) for s, r, _, _ in result.stored}
        counts = {st: sum(1 for *_, s in result.stored if s == st) for st in ("fetched", "changed", "unchanged")}
        click.echo(
            f"{path}: {len(result.stored)} day(s) in {', '.join(f'{s} {r}' for s, r in sorted(days))} "
            f"({counts['fetched']} new, {counts['changed']} merged with rows already held, "
            f"{counts['unchanged']} unchanged)"
        )
        for line in result.rejected:
            click.echo(f"rejected: {line}", err=True)
        problems += bool(result.rejected)
    if problems:
        raise SystemExit(1)


@main.command("build")
@click.option("--data-dir", type=DATA_DIR, default=Path("data"), show_default=True)
@click.option("--full", is_flag=True, help="Rebuild every partition, not only what changed in raw.")
@_one_line_errors
def build_cmd(data_dir: Path, full: bool) -> None:
    """Build typed Delta Lake tables in DATA_DIR/processed from DATA_DIR/raw (incremental)."""
    from .cache.builder import LAYOUT, build, old_layout

    if (layout := old_layout(data_dir)) is not None:
        click.echo(
            f"note: {data_dir}/processed was built by an older kit (layout {layout}); rebuilding it from raw as "
            f"Delta Lake tables (layout {LAYOUT}, as `copilot-usage build --full` does); raw is unchanged",
            err=True,
        )
    written = build(data_dir, full=full)
    click.echo(
        "nothing changed" if not written else "written: " + ", ".join(f"{t} ({n})" for t, n in sorted(written.items()))
    )
    from .cache.status import side_table

    for table, what in (("quarantine", "line(s) quarantined"), ("late_corrections", "late correction(s)")):
        if table in written and (n := side_table(data_dir, table).filter(_lines(table)).height):
            click.echo(f"note: {n} {what} in the cache; `copilot-usage status` counts them per report", err=True)
    _echo_quarantined_files(data_dir, limit=5)


def _lines(table: str) -> Any:
    """Quarantined lines, not whole files (those have no line and are listed by name)."""
    import polars as pl

    return pl.col("line").is_not_null() if table == "quarantine" else pl.lit(True)


def _echo_quarantined_files(data_dir: Path, *, limit: int | None = None) -> None:
    from .cache.status import quarantined_files

    files = quarantined_files(data_dir)
    for row in files.head(limit).iter_rows(named=True) if limit else files.iter_rows(named=True):
        click.echo(f"quarantined file: raw/{row['file']}: {row['reason']} (left out of every table)", err=True)
    if limit and files.height > limit:
        click.echo(
            f"… and {files.height - limit} more quarantined file(s): `copilot-usage status` lists them", err=True
        )


@main.command("status")
@click.option("--data-dir", type=DATA_DIR, default=Path("data"), show_default=True)
@_one_line_errors
def status_cmd(data_dir: Path) -> None:
    """Freshness per scope and report: newest complete day, gaps, pending days, quarantined lines, drift; then
    history only this cache holds, days GitHub deletes within 14 days, and days gone for good."""
    from rich.console import Console
    from rich.table import Table

    from .cache.status import retention, retention_notes, status_table, table_versions

    frame = status_table(data_dir)
    table = Table(title=f"cache status: {data_dir}")
    for col in frame.columns:
        key = col in ("scope", "report")
        table.add_column(col.replace("_", " "), justify="left" if key else "right", no_wrap=key)
    for row in frame.iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    console = Console(width=170)
    console.print(table)
    tables = Table(title="processed tables (Delta Lake): location and version")
    for col, justify in (("table", "left"), ("version", "right"), ("location", "left")):
        tables.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for name, version, location in table_versions(data_dir).iter_rows():
        tables.add_row(name, str(version), location)
    console.print(tables)
    today = dt.datetime.now(dt.UTC).date()
    for line in retention_notes(retention(data_dir, today=today), today=today):
        console.print(line, style="yellow", highlight=False)
    _echo_quarantined_files(data_dir)


def _parse_p(values: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(values)


@main.command("render")
@click.argument("notebook")
@click.option(
    "-p",
    "--parameter",
    "params",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="Notebook parameter (repeatable); names are checked against the parameters cell.",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    default=Path("notebooks/reports.yml"),
    show_default=True,
    help="Parameter sets for `render all`.",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option(
    "--notebooks-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of report notebooks [default: the notebooks shipped with the kit].",
)
@click.option(
    "--format",
    "formats",
    metavar="LIST",
    default=None,
    help="Comma-separated outputs among html,pdf,xlsx,md [default: all four; for `all`, each entry's `formats` "
    "in reports.yml]. The HTML is always written.",
)
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True, help="PDF page size.")
@click.option(
    "--pdf-engine",
    type=click.Choice(["auto", "chromium", "weasyprint"]),
    default=None,
    help="PDF engine [default: $COPILOT_USAGE_PDF_ENGINE, else auto: headless Chromium when installed, else WeasyPrint].",
)
@click.option(
    "--definitions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file of your own definition-change entries (the format of GitHub's register, "
    "copilot_usage/github_changes.json), drawn and named beside GitHub's in every report.",
)
@_one_line_errors
def render_cmd(
    notebook: str,
    params: tuple[tuple[str, str], ...],
    config: Path,
    out: Path,
    notebooks_dir: Path | None,
    formats: str | None,
    paper: str,
    pdf_engine: str | None,
    definitions: Path | None,
) -> None:
    """Render NOTEBOOK (a name in notebooks/ or a path) or `all` to HTML, PDF, Excel and a Markdown digest beside
    the executed .ipynb and summary.json.

    The PDF is printed by headless Chromium when installed, else by WeasyPrint (`--pdf-engine` chooses); with
    neither, it is skipped with a note on how to install one, the other formats are written and the exit status
    stays 0; a notebook that fails exits 1.
    """
    from .errors import CopilotUsageError
    from .outputs.render import NOTEBOOKS, parse_formats, render, render_all

    folder = notebooks_dir or NOTEBOOKS
    if pdf_engine:  # read by outputs.pdf.write_pdf for every report of this run
        os.environ["COPILOT_USAGE_PDF_ENGINE"] = pdf_engine
    if definitions is not None:  # the notebooks' `definitions` parameter, absolute: papermill runs elsewhere
        params = (*params, ("definitions", str(definitions.resolve())))
    try:
        chosen = None if formats is None else parse_formats(formats)
    except CopilotUsageError as exc:
        raise click.UsageError(str(exc)) from exc
    if notebook == "all":
        results = render_all(config, out, notebooks_dir=folder, overrides=_parse_p(params), formats=chosen, paper=paper)
    else:
        path = Path(notebook) if notebook.endswith(".ipynb") else folder / f"{notebook}.ipynb"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in folder.glob("*.ipynb"))) or "none"
            msg = f"no notebook {path} (--notebooks-dir {folder} holds: {known})"
            raise click.UsageError(msg)
        try:
            results = [render(path, _parse_p(params), out, formats=chosen, paper=paper)]
        except CopilotUsageError as exc:
            raise click.ClickException(str(exc)) from exc
    _report_results(results)


def _report_results(results: list[Any]) -> None:
    if not results:
        click.echo("error: 0 reports rendered (no entry in the config or no notebook found)", err=True)
        raise SystemExit(1)
    failed = [r for r in results if r.error]
    for r in results:
        written = " ".join(str(p) for f, p in r.outputs.items() if f != "html")
        click.echo(f"{'FAILED' if r.error else 'ok':6} {r.notebook} {r.error or r.html} {written}".rstrip())
    for message in dict.fromkeys(m for r in results for m in r.skipped.values()):
        click.echo(f"warning: {message}", err=True)
    if failed:
        raise SystemExit(1)


@main.command("watch")
@click.option("--data-dir", type=DATA_DIR, default=Path("data"), show_default=True)
@click.option(
    "--scope", "scopes", multiple=True, help="enterprise:SLUG or org:NAME (repeatable; default: every scope)."
)
@click.option(
    "--since", callback=_date, help="First day to assess (default: the day after the last run's, else 7 days)."
)
@click.option(
    "--webhook",
    envvar="COPILOT_USAGE_WEBHOOK",
    help="Slack or Microsoft Teams incoming-webhook URL (or COPILOT_USAGE_WEBHOOK); never printed.",
)
@click.option("--floor-credits", type=float, default=300.0, show_default=True, help="Smallest departure flagged.")
@click.option("--audience", type=click.Choice(["leadership", "analyst"]), default="leadership", show_default=True)
@click.option("--k-min", type=int, default=5, show_default=True, help="Smallest group named (leadership and analyst).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for the webhook.")
def watch_cmd(
    data_dir: Path,
    scopes: tuple[str, ...],
    since: dt.date | None,
    webhook: str | None,
    floor_credits: float,
    audience: str,
    k_min: int,
    out: Path,
    timeout: float,
) -> None:
    """Flag unusual AI-credit days since the last run (scope, cost centres, teams, users), write them to
    OUT/watch/ and post them once to a chat webhook. Exit status: 0 nothing flagged, 3 something flagged,
    1 an error (a failed post included: its findings are kept and posted on the next run)."""
    from .errors import CopilotUsageError
    from .outputs.watch_run import run
    from .report.privacy import Audience

    try:
        outcome = run(
            data_dir,
            out,
            scopes=list(scopes) or None,
            since=since,
            webhook=webhook,
            floor_credits=floor_credits,
            audience=Audience(audience, k_min),
            timeout=timeout,
        )
    except CopilotUsageError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    for line in outcome.lines:
        click.echo(line)
    for note in outcome.notes:
        click.echo(f"note: {note}", err=True)
    for error in outcome.errors:
        click.echo(f"error: {error}", err=True)
    raise SystemExit(outcome.status)


@main.command("demo")
@click.option("--users", type=int, default=400, show_default=True)
@click.option("--days", type=int, default=200, show_default=True)  # demo.DEMO_DAYS (not imported: slow)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--data-dir", type=DATA_DIR, default=Path("data/demo"), show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/demo"), show_default=True)
@click.option(
    "--notebooks-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of report notebooks [default: the notebooks shipped with the kit].",
)
def demo_cmd(users: int, days: int, seed: int, data_dir: Path, out: Path, notebooks_dir: Path | None) -> None:
    """Simulated tenant on loopback → fetch → build → render every report (no token needed)."""
    import time

    from .demo import run_demo
    from .outputs.render import NOTEBOOKS

    folder = notebooks_dir or NOTEBOOKS
    if not any(folder.glob("*.ipynb")):  # before a minute of fetching: "0 reports" is an error
        msg = f"no report notebook in --notebooks-dir {folder}"
        raise click.UsageError(msg)
    t0 = time.perf_counter()
    results = run_demo(data_dir=data_dir, out_dir=out, notebooks_dir=folder, seed=seed, users=users, days=days)
    for r in results:
        click.echo(" ".join(str(p) for p in r.outputs.values()))
    for message in dict.fromkeys(m for r in results for m in r.skipped.values()):
        click.echo(f"warning: {message}", err=True)
    click.echo(f"{len(results)} reports in {time.perf_counter() - t0:.0f} s", err=True)
    from .outputs.watch_run import run as watch

    seen = watch(data_dir, out)  # the demo plants one runaway user-day: the watch catches it
    for line in seen.lines:
        click.echo(line)
    click.echo(f"watch: {seen.flagged} finding(s) written to {out / 'watch'}")


if __name__ == "__main__":  # pragma: no cover
    main()
