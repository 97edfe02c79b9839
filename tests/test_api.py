"""The analyst API (issue 28): ``copilot_usage.Cache`` on the committed sample (an enterprise and its first
organization: a two-scope cache), the cache found without the working directory, report data by name, and the
command line finding its notebooks from any directory."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import pytest
from click.testing import CliRunner

import copilot_usage
from copilot_usage import Cache, ConfigError
from copilot_usage.cli import main
from copilot_usage.report import display
from copilot_usage.storage.datadir import DATA_ENV

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data" / "sample"
ENTERPRISE, ORG = "enterprise:octo-sim", "org:octo-sim-eng"


@pytest.fixture(scope="module")
def cache() -> Cache:
    return Cache(SAMPLE)


def test_scan_without_scope_in_a_two_scope_cache_names_both(cache: Cache) -> None:
    assert cache.scopes == (ENTERPRISE, ORG)
    with pytest.raises(ConfigError) as err:
        cache.scan("user_day")
    assert ENTERPRISE in str(err.value) and ORG in str(err.value) and "scope=" in str(err.value)
    one = cache.scan("user_day", scope=ORG, start="2026-11-01", end="2026-11-07").collect()
    assert set(one["scope"]) == {ORG}
    assert one["day"].min().isoformat() >= "2026-11-01" and one["day"].max().isoformat() <= "2026-11-07"
    with pytest.raises(ConfigError, match="org:nope"):
        cache.scan("user_day", scope="org:nope")


def test_a_one_scope_cache_needs_no_scope(tmp_path: Path) -> None:
    processed = tmp_path / "processed" / "data_health"
    processed.mkdir(parents=True)
    day = dt.date(2026, 11, 1)
    pl.DataFrame({"scope": ["org:a"], "report": ["users-1-day"], "day": [day]}).write_delta(str(processed))
    one = Cache(tmp_path)
    assert one.scopes == ("org:a",) and one.tables == ("data_health",)
    assert one.scan("data_health").collect().height == 1


def test_the_cache_is_never_found_in_the_working_directory_by_accident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=f"relative to the working directory {tmp_path}"):
        Cache("data/sample")
    monkeypatch.setenv(DATA_ENV, str(SAMPLE))
    assert Cache().data_dir == SAMPLE.resolve()
    monkeypatch.setenv(DATA_ENV, "missing")
    with pytest.raises(ConfigError, match=DATA_ENV):
        Cache()


def test_report_data_by_name_after_the_audience_rules_and_nothing_displayed(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[Any] = []
    monkeypatch.setattr(display, "display", lambda *a, **k: shown.append(a))
    renderer = alt.renderers.active
    leadership = cache.report("team_distribution", scope=ENTERPRISE)
    who = leadership.section("who_spends")
    assert "who_spends" in leadership.sections and who.tables == ("units",) and who.charts == ("credits",)
    units = who.table("units")
    assert units.height and "unit" in units.columns and not {"user_id", "user_login"} & set(units.columns)
    assert who.chart("credits").height
    trends = cache.report("trends", scope=ENTERPRISE)
    with pytest.raises(ConfigError, match="analyst audience only"):
        trends.section("top_users").table("users")
    with pytest.raises(KeyError, match="units"):
        who.table("nope")
    analyst = cache.report("trends", scope=ENTERPRISE, audience="analyst").section("top_users").table("users")
    assert {"user_id", "user_login", "credits"} <= set(analyst.columns)
    idle = cache.report("spend", scope=ENTERPRISE).section("idle_seats")
    assert idle.tables == ("by_plan", "by_organization", "reassignable")
    assert cache.report("spend", scope=ENTERPRISE).section("reconciliation").tables[0] == "table_1"
    assert shown == [] and alt.renderers.active == renderer  # no title block, no global renderer switched
    with pytest.raises(ConfigError, match="trends"):
        cache.report("nope", scope=ENTERPRISE)


def test_helpers_analysts_reach_for(cache: Cache) -> None:
    top = cache.top_users(scope=ENTERPRISE, n=3)
    assert top.columns[:3] == ["user_id", "user_login", "credits"] and top.height == 3
    main = cache.main_ide_and_model(scope=ENTERPRISE)
    assert (
        main.columns == ["user_id", "user_login", "main_ide", "main_model"]
        and main["main_ide"].null_count() < main.height
    )
    idle = cache.idle_seats(scope=ENTERPRISE)
    assert set(idle["monthly_cost"].unique()) <= {19.0, 39.0}  # GitHub's list prices, Business / Enterprise
    pool = cache.included_pool("2026-12-15", scope=ENTERPRISE)
    fc = cache.forecast("2026-12-01", "2026-12-31", scope=ENTERPRISE, pool=pool)
    assert pool > 0 and fc.projected and fc.low is not None and fc.low <= fc.projected <= fc.high
    teams = cache.team_membership(scope=ENTERPRISE, start="2026-11-01", end="2026-11-07")
    assert teams.columns == ["day", "user_id", "user_login", "team", "team_id", "attributed_by"] and teams.height
    assert teams["user_login"].null_count() == 0


def test_static_chart_is_svg_and_leaves_the_renderer_alone() -> None:
    renderer = alt.renderers.active
    chart = alt.Chart(pl.DataFrame({"a": [1, 2]})).mark_bar().encode(x="a:Q")
    bundle = copilot_usage.static(chart)._repr_mimebundle_()
    assert bundle["image/svg+xml"].startswith("<svg") and "cdn." not in str(bundle)
    assert alt.renderers.active == renderer


def test_every_public_name_is_documented() -> None:
    for name in copilot_usage.__all__:
        obj = getattr(copilot_usage, name)
        if callable(obj) and not isinstance(obj, str):
            assert (obj.__doc__ or "").strip(), name


def test_render_names_notebooks_dir_and_finds_the_packaged_notebooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)  # outside the repository: the packaged notebooks, never ./notebooks
    missing = runner.invoke(main, ["render", "nope"])
    assert missing.exit_code == 2 and "--notebooks-dir" in missing.output and "trends" in missing.output
    Path("reports.yml").write_text("reports: []\n")
    none = runner.invoke(main, ["render", "all", "--config", "reports.yml"])
    assert none.exit_code == 1 and "0 reports" in none.output
    Path("empty").mkdir()
    demo = runner.invoke(main, ["demo", "--notebooks-dir", "empty", "--data-dir", "d", "--out", "r"])
    assert demo.exit_code == 2 and "--notebooks-dir" in demo.output and not Path("d").exists()


def test_packaged_notebooks_are_the_repository_notebooks() -> None:
    from copilot_usage.outputs import render

    assert render.NOTEBOOKS.resolve() == (ROOT / "notebooks").resolve()
    shipped = sorted(p.name for p in render.NOTEBOOKS.glob("*.ipynb"))
    assert shipped == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) and "trends.ipynb" in shipped
    assert copilot_usage.report_names() == tuple(sorted(Path(n).stem for n in shipped))


@pytest.mark.slow
def test_explore_notebooks_run_from_a_copy_outside_the_repository(tmp_path: Path) -> None:
    """Every worked example, copied out of the repository and run there on the public API: no error, and no
    CDN URL in any output (charts are static SVG)."""
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    from copilot_usage.outputs.render import KERNEL_CONFIG

    folder = tmp_path / "explore"
    shutil.copytree(ROOT / "notebooks" / "explore", folder)
    books = sorted(folder.glob("*.ipynb"))
    assert len(books) >= 5
    for path in books:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            config=Config(KERNEL_CONFIG),
            resources={"metadata": {"path": str(folder)}},
        ).execute()
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], path.name
        assert "cdn." not in nbformat.writes(nb), path.name
        assert outputs, path.name


@pytest.mark.slow
def test_api_reference_builds_without_warnings(tmp_path: Path) -> None:
    """The API reference (pdoc, as CI builds it): warnings are errors, and every public name is on the page."""
    import subprocess
    import sys

    out = tmp_path / "api"
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-m", "pdoc", "-o", str(out), "copilot_usage"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "Warn" not in done.stderr, done.stderr[-2000:]
    page = (out / "copilot_usage.html").read_text()
    missing = [n for n in copilot_usage.__all__ if f'id="{n}"' not in page and n != "__version__"]
    assert not missing, missing


def test_render_all_reads_data_dir_beside_its_config_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot_usage.outputs.render import render_all

    config = tmp_path / "conf" / "reports.yml"
    config.parent.mkdir()
    config.write_text('reports:\n  - notebook: trends\n    parameters: {data_dir: ../nowhere, scope: "org:x"}\n')
    monkeypatch.chdir(ROOT)  # a ../nowhere from here would be another folder
    [done] = render_all(config, tmp_path / "out", notebooks_dir=ROOT / "notebooks")
    assert done.error and str(tmp_path / "conf" / ".." / "nowhere") in done.error


def test_make_lab_allows_root_only_as_root() -> None:
    import os
    import subprocess

    dry = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert ("--allow-root" in dry) == (os.geteuid() == 0)
