"""Report-layer helpers: audience rules, pseudonyms, events, change phrases, scheduled parameter sets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml

from copilot_usage.errors import ConfigError
from copilot_usage.outputs.render import coerce
from copilot_usage.report import Audience, charts, protect
from copilot_usage.report.common import change_phrase
from copilot_usage.report.privacy import PSEUDONYM_ENV

ROOT = Path(__file__).parents[1]
D = dt.date(2026, 11, 2)


def _audience(name: str, *, k_min: int = 5, pseudonymize: bool = False) -> Audience:
    return Audience(name, k_min, pseudonymize)


def test_pseudonyms_are_stable_keyed_and_never_the_login(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pl.DataFrame({"user_login": ["alice", "bob", "alice"], "credits": [1.0, 2.0, 3.0]})
    monkeypatch.setenv(PSEUDONYM_ENV, "k1")
    a = protect(frame, _audience("analyst", pseudonymize=True), user_column="user_login")
    b = protect(frame, _audience("analyst", pseudonymize=True), user_column="user_login")
    assert a.equals(b) and a["user_login"][0] == a["user_login"][2] != a["user_login"][1]
    assert not set(a["user_login"]) & {"alice", "bob"}
    monkeypatch.setenv(PSEUDONYM_ENV, "k2")
    c = protect(frame, _audience("analyst", pseudonymize=True), user_column="user_login")
    assert c["user_login"][0] != a["user_login"][0]  # a different key gives different pseudonyms
    monkeypatch.delenv(PSEUDONYM_ENV)
    with pytest.raises(ConfigError, match="COPILOT_USAGE_PSEUDONYM_KEY"):
        protect(frame, _audience("analyst", pseudonymize=True), user_column="user_login")


def test_leadership_drops_user_columns_and_small_groups() -> None:
    frame = pl.DataFrame(
        {"unit": ["a", "b"], "users": [4, 9], "user_id": [1, 2], "user_login": ["x", "y"], "gini": [0.1, 0.2]}
    )
    out = protect(frame, _audience("leadership"), group_users="users", analyst_only=("gini",))
    assert out.columns == ["unit", "users"] and out["unit"].to_list() == ["b"]
    analyst = protect(frame, _audience("analyst"), analyst_only=("gini",))
    assert "gini" in analyst.columns and "user_login" in analyst.columns


def test_events_parameter_forms() -> None:
    ev = charts.events_frame(["2026-09-15: training day", {"day": "2026-10-01", "label": "policy"}])
    assert ev.select("day", "label").rows() == [
        (dt.date(2026, 9, 15), "training day"),
        (dt.date(2026, 10, 1), "policy"),
    ]
    assert set(ev["origin"]) == {"yours"}  # told apart from GitHub's own definition changes


def test_change_phrases_are_deterministic() -> None:
    assert (
        change_phrase("credits per active user", 0.18, "week over week")
        == "Credits per active user rose 18% week over week."
    )
    assert change_phrase("credits", -0.05, "month over month") == "Credits fell 5% month over month."
    assert change_phrase("credits", 0.001, "today") == "Credits was flat today."
    assert "not enough data" in change_phrase("credits", None, "week over week")


def test_scheduled_parameter_sets_name_real_notebooks_and_parameters() -> None:
    doc = yaml.safe_load((ROOT / "notebooks" / "reports.yml").read_text())
    for entry in doc["reports"]:
        path = ROOT / "notebooks" / f"{entry['notebook']}.ipynb"
        assert path.exists(), entry
        coerce(path, entry["parameters"])  # raises on an unknown parameter
