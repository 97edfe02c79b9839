"""Project-level promises: dependency lists agree, public surface is explicit, no side effects at import."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ ;\[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_and_pyproject_list_the_same_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = {_name(d) for d in project["dependencies"]} | {_name(d) for d in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert pip == conda, f"only in pyproject: {sorted(pip - conda)}; only in environment.yml: {sorted(conda - pip)}"


def test_public_api_is_unique_and_importable() -> None:
    import copilot_usage

    assert len(set(copilot_usage.__all__)) == len(copilot_usage.__all__)
    for name in copilot_usage.__all__:
        assert hasattr(copilot_usage, name)


def test_import_has_no_side_effects(tmp_path: Path) -> None:
    code = "import copilot_usage, copilot_usage.cli, logging; assert not logging.getLogger().handlers; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok" and not list(tmp_path.iterdir())


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_package_is_laid_out_by_stage_and_the_documented_lake_import_still_works() -> None:
    pkg = ROOT / "lib" / "copilot_usage"
    front = ["__init__.py", "__main__.py", "api.py", "catalog.py", "cli.py", "config.py", "demo.py", "errors.py"]
    assert sorted(p.name for p in pkg.glob("*.py")) == sorted([*front, "lake.py"]), (
        "a module outside its stage's folder"
    )
    stages = {p.name for p in pkg.iterdir() if (p / "__init__.py").is_file()}
    assert stages == {"storage", "ingest", "cache", "analysis", "report", "outputs", "simulate"}
    from copilot_usage.cache.lake import arrow_dataset as real
    from copilot_usage.lake import arrow_dataset  # README's example before the layout by stage; relayout: keep

    assert arrow_dataset is real
