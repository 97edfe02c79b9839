"""Report pipeline: parameters checked, HTML self-contained and audience-safe, summary.json correct, failures loud."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from copilot_usage.cache import read
from copilot_usage.errors import ConfigError
from copilot_usage.outputs.render import RenderError, coerce, render, render_all

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
SAMPLE = ROOT / "data" / "sample"
REPORT_NOTEBOOKS = sorted(p for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("reports")
    leader = render(NOTEBOOKS / "trends.ipynb", {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim"}, out)
    analyst = render(
        NOTEBOOKS / "trends.ipynb", {"data_dir": str(SAMPLE), "scope": "org:octo-sim-eng", "audience": "analyst"}, out
    )
    return {"leader": leader, "analyst": analyst, "out": out}


def test_outputs_named_by_scope_and_period(rendered: dict) -> None:
    r = rendered["leader"]
    s = r.summary
    assert r.html.name == f"enterprise-octo-sim_{s['start']}_{s['end']}.html"
    assert r.executed.exists() and r.html.with_name(r.html.stem + ".summary.json").exists()
    nb = json.loads(r.executed.read_text())
    assert nb["metadata"]["papermill"]["parameters"]["scope"] == "enterprise:octo-sim"


def test_html_has_no_code_no_remote_requests_and_charts(rendered: dict) -> None:
    html = rendered["leader"].html.read_text()
    assert "hl-ipython3" not in html and "from copilot_usage import" not in html
    assert not re.search(r"""(?:src|href)=["']https?://""", html)
    assert "import(" not in html
    assert html.count("data:image/svg+xml") >= 8
    assert "Data notes" in html and "PRELIMINARY" not in html


def test_leadership_report_names_no_user(rendered: dict) -> None:
    leader = rendered["leader"]
    assert "simdev-" not in leader.html.read_text()
    assert "simdev-" not in json.dumps(leader.summary)
    assert "simdev-" in rendered["analyst"].html.read_text()  # the analyst audience may name users


def test_summary_matches_an_independent_computation(rendered: dict) -> None:
    s = rendered["leader"].summary
    ud = pl.read_delta(str(SAMPLE / "processed" / "user_day")).drop("scope_kind", "scope_slug", "month")
    ud = ud.filter(
        (pl.col("scope") == "enterprise:octo-sim")
        & pl.col("day").is_between(pl.lit(s["start"]).str.to_date(), pl.lit(s["end"]).str.to_date())
    )
    assert s["credits_total"] == pytest.approx(ud["ai_credits_used"].sum())
    end = ud["day"].max()
    wau = ud.filter(pl.col("day") > end - pl.duration(days=7))["user_id"].n_unique()
    assert s["weekly_active_users"] == wau


def test_unknown_parameter_is_an_error_listing_valid_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) scop; valid parameters: data_dir \(str\)"):
        coerce(NOTEBOOKS / "trends.ipynb", {"scop": "org:x"})
    assert coerce(NOTEBOOKS / "trends.ipynb", {"k_min": "7", "events": "['2026-11-01: x']"}) == {
        "k_min": 7,
        "events": ["2026-11-01: x"],
    }
    with pytest.raises(ConfigError, match="expects int"):
        coerce(NOTEBOOKS / "trends.ipynb", {"k_min": "many"})


def test_failing_cell_fails_the_run_and_keeps_the_notebook(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"trends\.ipynb failed with parameters") as info:
        render(NOTEBOOKS / "trends.ipynb", {"data_dir": str(SAMPLE), "scope": "org:nope"}, tmp_path)
    assert info.value.executed is not None and info.value.executed.exists()


def test_the_kernels_own_log_stays_off_the_terminal_and_is_kept_when_the_run_fails(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The kernel process's stderr (its log: "KeyboardInterrupt caught in kernel." when a loaded machine is slow to
    shut it down) reached the user's terminal through `render` and `demo`; it goes to a log kept beside a failed
    notebook. Written at the descriptor, as the kernel's log is, so ipykernel's capture of cell output misses it."""
    import nbformat

    def notebook(name: str, *cells: str) -> Path:
        path = tmp_path / name
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, path)
        return path

    noise = "import os; os.write(2, b'kernel log line\\n')"
    render(notebook("quiet.ipynb", noise, "1 + 1"), {}, tmp_path / "out", formats="html")
    assert "kernel log line" not in capfd.readouterr().err
    with pytest.raises(RenderError) as info:
        render(notebook("fails.ipynb", noise, "1 / 0"), {}, tmp_path / "out", formats="html")
    assert "kernel log line" not in capfd.readouterr().err
    executed = info.value.executed
    assert executed is not None and "kernel log line" in executed.with_suffix(".kernel.log").read_text()


def test_render_all_reports_each_outcome(tmp_path: Path) -> None:
    config = tmp_path / "reports.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "reports": [
                    {"notebook": "trends", "parameters": {"data_dir": str(SAMPLE), "scope": "org:nope"}},
                    {
                        "notebook": "trends",
                        "parameters": {
                            "data_dir": str(SAMPLE),
                            "scope": "org:octo-sim-eng",
                            "start": "2026-11-01",
                            "end": "2026-11-07",
                        },
                    },
                ]
            }
        )
    )
    results = render_all(config, tmp_path / "out", notebooks_dir=NOTEBOOKS)
    assert [r.error is None for r in results] == [False, True]
    assert "PRELIMINARY" in results[1].html.read_text()  # 7 days: stamped preliminary


HOUSE_BANNED = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Try,
    ast.For,
    ast.While,
    ast.Lambda,
    ast.If,  # branches over data belong in lib/, where tests reach them
    ast.IfExp,
    ast.BoolOp,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Match,
)
MAX_LINE = 120


def _house_rule_breaks(src: str) -> list[str]:
    """What in one code cell breaks the report-notebook house rules (empty: none)."""
    out = [f"line over {MAX_LINE} characters: {line[:40]}…" for line in src.splitlines() if len(line) > MAX_LINE]
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, HOUSE_BANNED):
            out.append(f"{type(node).__name__} belongs in lib/")
        name = getattr(node, "attr", getattr(node, "id", ""))
        if name in ("filterwarnings", "simplefilter"):
            out.append("silenced warnings")
    return out


@pytest.mark.parametrize(
    "src",
    [
        "x = 1 if r.days > 7 else 2",
        "r.show(a or b)",
        "if r.preliminary:\n    r.show(x)",
        "[r.show(s) for s in sections]",
        "r.show(" + "x" * 130 + ")",
        "import warnings\nwarnings.simplefilter('ignore')",
    ],
)
def test_house_rules_catch_branches_loops_and_long_lines(src: str) -> None:
    assert _house_rule_breaks(src)


def test_committed_report_notebooks_follow_the_house_rules() -> None:
    for path in REPORT_NOTEBOOKS:
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1, path
        assert "parameters" in code[0]["metadata"].get("tags", []), path
        for c in code:
            src = "".join(c["source"])
            assert not c.get("outputs") and c.get("execution_count") is None, f"{path.name}: outputs committed"
            assert not _house_rule_breaks(src), f"{path.name}: {_house_rule_breaks(src)}"


def test_readme_lists_every_report_notebook() -> None:
    readme = (ROOT / "README.md").read_text()
    for path in REPORT_NOTEBOOKS:
        assert f"`notebooks/{path.name}`" in readme


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (CI installs it)")
def test_report_renders_in_headless_chromium_without_console_errors(rendered: dict, tmp_path: Path) -> None:
    html = rendered["leader"].html
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1100,3000",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={shot}",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.exists() and shot.stat().st_size > 50_000
    console = [
        line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line or "net::ERR_" in line
    ]
    assert console == []
    dom = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--dump-dom",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    assert dom.count("<img") >= 8 and "Data notes" in dom


def test_sample_data_is_what_the_simulator_makes(tmp_path: Path) -> None:
    from copilot_usage.demo import make_sample

    make_sample(tmp_path / "sample")
    for table in ("user_day", "aggregate_day", "user_team_day", "seats", "billing_user_month", "cost_center_members"):
        a = read.scan(SAMPLE, table).collect()
        b = read.scan(tmp_path / "sample", table).collect()
        assert a.sort(pl.all()).equals(b.sort(pl.all())), table


def test_summary_records_changes_since_the_last_run(tmp_path: Path) -> None:
    nb = NOTEBOOKS / "trends.ipynb"
    base = {"data_dir": str(SAMPLE), "scope": "org:octo-sim-eng"}
    first = render(nb, {**base, "start": "2026-10-01", "end": "2026-10-31"}, tmp_path)
    assert first.summary["changes_since_last_run"] is None
    second = render(nb, {**base, "start": "2026-11-01", "end": "2026-11-24"}, tmp_path)
    changes = second.summary["changes_since_last_run"]
    assert changes["previous"] == first.html.name.replace(".html", ".summary.json")
    figure = changes["figures"]["credits_total"]
    assert figure["previous"] == pytest.approx(first.summary["credits_total"])
    assert figure["change"] == pytest.approx(second.summary["credits_total"] / first.summary["credits_total"] - 1)


@pytest.fixture(scope="module")
def report_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], object]:
    out = tmp_path_factory.mktemp("all-reports")
    runs = {}
    for name in ("value_per_credit", "team_distribution", "spend", "roi", "summary"):
        runs[(name, "leadership")] = render(
            NOTEBOOKS / f"{name}.ipynb", {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim"}, out
        )
        runs[(name, "analyst")] = render(
            NOTEBOOKS / f"{name}.ipynb",
            {"data_dir": str(SAMPLE), "scope": "org:octo-sim-eng", "audience": "analyst"},
            out,
        )
    return runs


def _user_day(scope: str, start: str, end: str) -> pl.DataFrame:
    ud = pl.read_delta(str(SAMPLE / "processed" / "user_day")).drop("scope_kind", "scope_slug", "month")
    return ud.filter(
        (pl.col("scope") == scope) & pl.col("day").is_between(pl.lit(start).str.to_date(), pl.lit(end).str.to_date())
    )


@pytest.mark.parametrize("name", ["value_per_credit", "team_distribution", "spend", "roi", "summary"])
def test_every_report_renders_for_both_audiences_and_leadership_names_no_one(report_runs: dict, name: str) -> None:
    leader, analyst = report_runs[(name, "leadership")], report_runs[(name, "analyst")]
    assert "simdev-" not in leader.html.read_text() and "simdev-" not in json.dumps(leader.summary)
    assert leader.summary["scope"] == "enterprise:octo-sim" and analyst.summary["scope"] == "org:octo-sim-eng"
    assert not re.search(r"""(?:src|href)=["']https?://""", leader.html.read_text())


def test_value_summary_matches_an_independent_computation(report_runs: dict) -> None:
    s = report_runs[("value_per_credit", "leadership")].summary
    ud = _user_day("enterprise:octo-sim", s["start"], s["end"])
    assert s["credits_total"] == pytest.approx(ud["ai_credits_used"].sum())
    per_user = ud.group_by("user_id").agg(pl.col("ai_credits_used").sum()).sort("ai_credits_used", descending=True)
    top = per_user.head(-(-per_user.height // 10))["ai_credits_used"].sum()
    assert s["top10_share"] == pytest.approx(top / per_user["ai_credits_used"].sum())
    lines = (
        ud.group_by("user_id")
        .agg(pl.col("ai_credits_used").sum(), pl.col("loc_added_sum").sum(), pl.col("day").n_unique())
        .filter((pl.col("ai_credits_used") >= 10) & (pl.col("day") >= 3))
    )
    assert s["accepted_lines_per_100_credits"] == pytest.approx(
        100 * lines["loc_added_sum"].sum() / lines["ai_credits_used"].sum()
    )
    low, high = s["accepted_lines_per_100_credits_ci90"]
    assert low < s["accepted_lines_per_100_credits"] < high
    assert s["feature_intensity"]["code_completion"] < 0.05


def test_team_summary_matches_an_independent_computation_and_hides_small_teams(report_runs: dict) -> None:
    s = report_runs[("team_distribution", "leadership")].summary
    assert s["additivity"] == "non-additive"
    assert all(u["active_users"] >= 5 for u in s["units"].values())
    ud = _user_day("enterprise:octo-sim", s["start"], s["end"])
    daily = pl.read_delta(str(SAMPLE / "processed" / "user_team_day")).drop("scope_kind", "scope_slug", "month")
    daily = daily.filter(pl.col("scope") == "enterprise:octo-sim")
    names = pl.read_delta(str(SAMPLE / "processed" / "teams"))
    members = pl.read_delta(str(SAMPLE / "processed" / "team_members"))
    seats = pl.read_delta(str(SAMPLE / "processed" / "seats"))
    seated = seats.filter(pl.col("scope") == "enterprise:octo-sim")["user_id"].unique()
    # an organization's leaf team (no children), named org/Name in the enterprise report
    leaves = names.filter(
        pl.col("scope").str.starts_with("org:") & ~pl.col("team_id").is_in(names["parent_id"].implode())
    )
    checked = 0
    for team in leaves.iter_rows(named=True):  # a handful of teams
        unit = f"{team['scope'].removeprefix('org:')}/{team['name']}"
        if unit not in s["units"]:
            continue
        # credits: the daily user-teams rows, and the member list on days the daily file does not list the team,
        # from the list's snapshot day on (backfill_members is off by default)
        listed = daily.filter(pl.col("team_id") == team["team_id"]).select("day").unique()
        team_members = members.filter(pl.col("team_id") == team["team_id"])
        on_list = team_members.select("user_id").unique()
        by_list = (
            ud.join(listed, on="day", how="anti")
            .filter(pl.col("day") >= team_members["snapshot_day"].min())
            .join(on_list, on="user_id")
            .select("day", "user_id")
        )
        by_day = daily.filter(pl.col("team_id") == team["team_id"]).select("day", "user_id")
        expected = ud.join(pl.concat([by_day, by_list]).unique(), on=["day", "user_id"])["ai_credits_used"].sum()
        got = s["units"][unit]
        assert got["credits"] == pytest.approx(expected), unit
        # seats: every seated member, active or idle; adoption = active seated / seated
        seated_members = on_list.filter(pl.col("user_id").is_in(seated.implode()))
        active = seated_members.filter(pl.col("user_id").is_in(ud["user_id"].implode()))
        assert (got["seated_users"], got["active_seated"]) == (seated_members.height, active.height), unit
        assert got["adoption_share"] == pytest.approx(active.height / seated_members.height)
        checked += 1
    assert checked >= 2


def test_team_report_with_an_org_map_is_additive(tmp_path: Path) -> None:
    ud = pl.read_delta(str(SAMPLE / "processed" / "user_day")).drop("scope_kind", "scope_slug", "month")
    logins = ud.filter(pl.col("scope") == "enterprise:octo-sim")["user_login"].unique().sort()
    mapping = pl.DataFrame({"user_login": logins}).with_columns(
        team=pl.format("squad-{}", pl.int_range(pl.len()) % 4),
        department=pl.when(pl.int_range(pl.len()) % 4 < 2).then(pl.lit("Product")).otherwise(pl.lit("Platform")),
    )
    path = tmp_path / "org_map.csv"
    mapping.write_csv(path)
    out = render(
        NOTEBOOKS / "team_distribution.ipynb",
        {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim", "org_map": str(path)},
        tmp_path / "out",
    )
    s = out.summary
    assert s["additivity"] == "additive"
    assert sum(u["credits"] for u in s["units"].values()) == pytest.approx(s["credits_total"])
    html = out.html.read_text()
    assert "Product" in html and "Platform" in html and "simdev-" not in html
    by_department = render(
        NOTEBOOKS / "team_distribution.ipynb",
        {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim", "org_map": str(path), "unit": "department"},
        tmp_path / "out",
    ).summary
    assert by_department["unit"] == "department" and set(by_department["units"]) <= {
        "Product",
        "Platform",
        "(unmapped)",
    }
    assert sum(u["credits"] for u in by_department["units"].values()) == pytest.approx(s["credits_total"])
    assert all(u["adoption_share"] <= 1 for u in by_department["units"].values())
    with pytest.raises(RenderError, match="needs org_map"):
        render(
            NOTEBOOKS / "team_distribution.ipynb",
            {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim", "unit": "department"},
            tmp_path / "out",
        )


@pytest.fixture(scope="module")
def users_and_aggregate_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample cache cut down to what `fetch --reports users,aggregate` builds (no seats, teams, billing)."""
    root = tmp_path_factory.mktemp("subset")
    src = SAMPLE / "processed"
    for part in src.iterdir():
        keep = part.name in ("_manifest.json", "data_health") or (
            part.name.startswith(("user_", "aggregate_")) and part.name != "user_team_day"
        )
        if keep:
            target = root / "processed" / part.name
            (shutil.copytree if part.is_dir() else shutil.copy)(part, target)
    return root


@pytest.mark.parametrize("name", ["trends", "value_per_credit", "team_distribution", "spend", "roi", "summary"])
def test_every_report_renders_on_users_and_aggregate_only(users_and_aggregate_only: Path, name: str) -> None:
    """Issue 13 §6: a report renders on whatever was fetched and says which fetch fills the rest."""
    out = render(
        NOTEBOOKS / f"{name}.ipynb",
        {"data_dir": str(users_and_aggregate_only), "scope": "enterprise:octo-sim"},
        users_and_aggregate_only / "out",
    )
    html = out.html.read_text()
    assert "seats" in out.summary["not_fetched"]
    assert "--reports seats" in html and "Not in the cache" in html
    if name in ("value_per_credit", "team_distribution"):
        assert "user_team_day" in out.summary["not_fetched"] and "--reports" in html and "user-teams" in html
    if name == "spend":
        assert "--reports cost-centers" in html and "cost_centers" in out.summary["not_fetched"]
        assert "--reports budgets" in html and "budgets" in out.summary["not_fetched"]


def test_team_report_by_cost_centre_is_additive(tmp_path: Path) -> None:
    out = render(
        NOTEBOOKS / "team_distribution.ipynb",
        {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim", "unit": "cost_centre"},
        tmp_path / "out",
    )
    s = out.summary
    assert s["unit"] == "cost_centre" and s["additivity"] == "additive"
    assert abs(s["units_credits_sum"] - s["credits_total"]) < 1e-6  # to the cent, and then some
    assert {"Engineering", "Data & ML"} <= set(s["units"])
    html = out.html.read_text()
    assert "GitHub&#x27;s cost centres" in html or "GitHub's cost centres" in html
    assert "(no cost centre)" in html and "simdev-" not in html


def test_spend_report_chargeback_by_cost_centre(tmp_path: Path) -> None:
    out = render(NOTEBOOKS / "spend.ipynb", {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim"}, tmp_path)
    rows = {c["cost_centre"]: c for c in out.summary["cost_centres"]}
    assert {"Engineering", "Data & ML"} <= set(rows)
    assert rows["Data & ML"]["pool_target_credits"] > 0 and rows["Engineering"]["pool_target_credits"] is None
    html = out.html.read_text()
    assert "chargeback by cost centre" in html and "usage-report CSV" in html and "simdev-" not in html
    budgets = {b["scope"]: b for b in out.summary["budgets"]}
    assert {"enterprise", "cost_center", "multi_user_cost_center", "user"} <= set(budgets)
    assert budgets["user"]["entity"] == "(one user)" and budgets["cost_center"]["blocks"] is True
    assert "Budgets: how much headroom" in html


def test_every_report_takes_definitions_and_prices() -> None:
    given = {"definitions": "ours.json", "credit_price": "0.02", "promotional": "False"}
    for notebook in REPORT_NOTEBOOKS:
        assert coerce(notebook, given) == {"definitions": "ours.json", "credit_price": 0.02, "promotional": False}


def test_render_definitions_option_draws_and_names_your_own_entry(tmp_path: Path) -> None:
    own = tmp_path / "ours.json"
    entry = {"date": "2026-10-20", "measures": ["credits"], "label": "SSO move", "change": "Login moved to SSO."}
    own.write_text(json.dumps([{**entry, "source": "https://wiki.example/sso"}]))
    cli = [sys.executable, "-m", "copilot_usage", "render", "trends", "--notebooks-dir", str(NOTEBOOKS)]
    args = ["-p", "data_dir", str(SAMPLE), "-p", "scope", "enterprise:octo-sim", "--format", "html"]
    done = subprocess.run(
        [*cli, *args, "--definitions", str(own), "--out", str(tmp_path / "r")], capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    page = next((tmp_path / "r").rglob("*.html")).read_text()
    assert "ours.json 2026-10-20" in page and "Login moved to SSO." in page  # named in the data notes
    credits_alt = re.search(r'alt="(Chart: AI credits per day[^"]*)"', page)
    assert credits_alt and "Marked on the chart: ours.json 10-20: SSO move" in credits_alt.group(1)  # drawn
    missing = subprocess.run(
        [*cli, *args, "--definitions", str(tmp_path / "nope.json")], capture_output=True, check=False
    )
    assert missing.returncode == 2 and b"nope.json" in missing.stderr


def test_the_one_pager_states_the_figures_of_the_reports_it_links_to(report_runs: dict) -> None:
    """Issue 27 §5: Copilot at a glance is composed from the other reports' figures, not recomputed differently,
    and each part links to the report it comes from (rendered beside it with the same parameters)."""
    glance = report_runs[("summary", "leadership")]
    spend, roi, team = (report_runs[(n, "leadership")].summary for n in ("spend", "roi", "team_distribution"))
    s = glance.summary
    for key in ("last_closed_month", "month_to_date_cost", "projected_month_cost", "forecast"):
        assert s[key] == spend[key], key
    assert s["break_even_hours_per_developer_month"] == roi["break_even_hours_per_developer_month"]
    assert s["roi"] == {k: roi["roi"][k] for k in ("p10", "p50", "p90", "p_positive")}
    assert s["adoption_share"] == team["adoption_share"] and s["seated_users"] == team["seated_users"]
    at_risk = [b for b in spend["budgets"] if b["exhaustion_p50"] is not None]
    assert s["budgets_at_risk"] == at_risk
    page = glance.html.read_text()
    for source in ("spend", "roi", "team_distribution"):
        href = f"../{source}/{glance.html.name}"
        assert f'href="{href}"' in page
        assert (glance.html.parent / href).resolve().exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed (CI installs it)")
def test_the_one_pager_pdf_is_one_page(tmp_path: Path) -> None:
    from copilot_usage.outputs.pdf import find_engine

    if find_engine() is None:
        pytest.skip("no PDF engine")
    out = render(
        NOTEBOOKS / "summary.ipynb",
        {"data_dir": str(SAMPLE), "scope": "enterprise:octo-sim"},
        tmp_path,
        formats="html,pdf",
    )
    pdf = out.html.with_suffix(".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, flags=re.MULTILINE), info
