"""Credits per model from billing with the estimate beside it, and an organization's bill compared like with like
(issue 25 parts 4 and 5), each against a plain-polars recomputation from the processed tables of the sample."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from copilot_usage.analysis import spend, value
from copilot_usage.cache import read
from copilot_usage.outputs.render import render
from copilot_usage.report import Report, open_report
from copilot_usage.report import spend as spend_report
from copilot_usage.report import value_per_credit as vpc

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "data" / "sample"
ENTERPRISE, ORG = "enterprise:octo-sim", "org:octo-sim-eng"


def _table(name: str) -> pl.DataFrame:
    """A processed table straight from its Delta log (not through the kit's readers), without the partition columns."""
    frame = pl.read_delta(str(SAMPLE / "processed" / name))
    return frame.drop(
        [c for c in ("scope_kind", "scope_slug", "month") if c in frame.columns and name != "billing_user_month"]
    )


def _billed_per_model(scope: str, r: Report) -> dict[str, float]:
    """Independent: the API's AI-credit items of the scope over the report's days, gross quantity per model."""
    items = _table("billing_ai_credit").filter(
        (pl.col("scope") == scope)
        & pl.col("day").is_between(r.start, r.end)
        & pl.col("sku").str.to_lowercase().str.contains("ai credit")
        & pl.col("model").is_not_null()
    )
    return dict(items.group_by("model").agg(pl.col("gross_quantity").sum()).iter_rows())


@pytest.fixture(scope="module")
def r() -> Report:
    return open_report("Value per AI credit", data_dir=str(SAMPLE), scope=ENTERPRISE, bootstrap_iterations=100)


def test_billed_credits_per_model_are_billings_and_the_estimate_covers_all_credits(r: Report) -> None:
    found = vpc.model_credits(r)
    want = _billed_per_model(ENTERPRISE, r)
    got = {m: c for m, c in found.table.select("model", "billed_credits").iter_rows() if c is not None}
    assert got.keys() == want.keys() and len(want) >= 5
    for model, credits in want.items():
        assert got[model] == pytest.approx(credits, rel=1e-9), model
    # the estimate splits every credit of the period: its model rows sum to the metrics' total
    total = (
        _table("user_day")
        .filter((pl.col("scope") == ENTERPRISE) & pl.col("day").is_between(r.start, r.end))["ai_credits_used"]
        .sum()
    )
    assert found.table["estimated_credits"].sum() == pytest.approx(total, rel=1e-9)
    assert found.table["estimated_share"].sum() == pytest.approx(1.0, rel=1e-9)
    lows, highs = found.table["estimated_low"], found.table["estimated_high"]
    assert ((lows <= found.table["estimated_credits"]) & (found.table["estimated_credits"] <= highs)).all()
    # the stated quality figure: the sum of absolute share differences against billing's split
    billed_total = sum(want.values())
    estimated = dict(found.table.select("model", "estimated_share").iter_rows())
    error = sum(abs(c / billed_total - estimated[m]) for m, c in want.items())
    assert found.error == pytest.approx(error, rel=1e-9) and found.error < 0.15
    said = " ".join(vpc.intensity(r).sentences)
    assert f"{100 * error:.1f} percentage points" in said and "billed figure is the one to use" in said


def test_each_split_sums_to_the_total_and_the_bootstrap_is_seeded(r: Report) -> None:
    design = vpc.design(r)
    for kind in ("model", "feature"):
        a = value.credit_split(design, kind=kind, iterations=50, seed=3)
        b = value.credit_split(design, kind=kind, iterations=50, seed=3)
        assert_frame_equal(a.credits, b.credits, rel_tol=1e-9)
        assert a.credits["estimated_credits"].sum() == pytest.approx(a.total, rel=1e-9)
        assert set(a.credits["kind"]) == {kind} and a.total > 0
    # one fit with both kinds shares each credit between a feature and a model: neither kind adds up
    joint = value.attributed_credits(value.credit_intensity(design))
    assert joint.filter(pl.col("kind") == "model")["credits"].sum() < 0.9 * a.total


@pytest.mark.parametrize("table", ["billing_usage", "billing_ai_credit"])
def test_model_comparison_takes_the_table_it_names(r: Report, table: str) -> None:
    bills = read.scan(SAMPLE, table, scope=ENTERPRISE, start=r.start, end=r.end)
    out = spend.model_comparison(bills, vpc.split(r, "model").credits)
    got = dict(out.select("model", "billed_credits").iter_rows())
    assert got == pytest.approx(_billed_per_model(ENTERPRISE, r), rel=1e-9)


@pytest.mark.slow
def test_the_value_reports_summary_carries_billed_and_estimated_credits_per_model(tmp_path: Path) -> None:
    out = render(
        ROOT / "notebooks" / "value_per_credit.ipynb",
        {"data_dir": str(SAMPLE), "scope": ENTERPRISE, "bootstrap_iterations": 50},
        tmp_path,
        formats="html",
    )
    summary = json.loads(next((tmp_path / "value_per_credit").glob("*.summary.json")).read_text())
    assert summary == out.summary
    models = {m["model"]: m for m in summary["models"]}
    r = open_report("v", data_dir=str(SAMPLE), scope=ENTERPRISE)
    want = _billed_per_model(ENTERPRISE, r)
    assert models.keys() == want.keys()
    for name, credits in want.items():
        row = models[name]
        assert row["billed_credits"] == pytest.approx(credits, rel=1e-9)
        assert row["estimated_low"] <= row["estimated_credits"] <= row["estimated_high"]


def test_an_organizations_bill_is_compared_with_the_users_whose_licence_it_grants() -> None:
    """Plain polars: seats (every roster) × the org's user_day × its bill. Users licensed only here are what the bill
    certainly carries; users licensed here and by another org are billed to one of them (GitHub chooses each
    month), so a day's bill between the two figures is no difference. Only the processing-lag day is left."""
    r = open_report("Spend and budget", data_dir=str(SAMPLE), scope=ORG)
    org = ORG.split(":", 1)[1]
    orgs = _table("seats").group_by("user_id").agg(pl.col("organization").unique())
    ud = (
        _table("user_day")
        .filter((pl.col("scope") == ORG) & pl.col("day").is_between(r.start, r.end))
        .join(orgs, on="user_id", how="left")
        .with_columns(
            only_here=pl.col("organization").list.eval(pl.element() == org).list.all(),
            here=pl.col("organization").list.contains(org),
        )
    )
    certain = ud.filter(pl.col("only_here")).group_by("day").agg(m=pl.col("ai_credits_used").sum())
    maybe = (
        ud.filter(~pl.col("only_here").fill_null(False) & pl.col("here").fill_null(True))
        .group_by("day")
        .agg(s=pl.col("ai_credits_used").sum())
    )
    billed = (
        _table("billing_ai_credit")
        .filter((pl.col("scope") == ORG) & (pl.col("day") >= r.start) & pl.col("sku").str.contains("AI Credits"))
        .group_by("day")
        .agg(b=pl.col("gross_quantity").sum())
    )
    days = (
        billed.join(certain, on="day", how="full", coalesce=True)
        .join(maybe, on="day", how="left")
        .with_columns(pl.col("m", "s", "b").fill_null(0.0))
        .filter(pl.col("day") <= r.end + pl.duration(days=7))
    )
    outside = days.filter((pl.col("b") < pl.col("m") - 1.0) | (pl.col("b") > pl.col("m") + pl.col("s") + 1.0))
    shared_users = ud.filter(~pl.col("only_here").fill_null(False) & pl.col("here").fill_null(True))
    assert shared_users["user_id"].n_unique() >= 1  # the sample has users licensed by two organizations

    got = spend_report._days(r)
    assert sorted(got.filter(pl.col("over_tolerance"))["day"]) == sorted(outside["day"])
    assert all(d > r.end for d in outside["day"])  # what is left is the processing lag, nothing unexplained
    said = spend_report.reconciliation(r).sentences
    (story,) = (s for s in said if s.startswith("Like with like"))
    n_certain = ud.filter(pl.col("only_here"))["user_id"].n_unique()
    assert f"the {n_certain:,} users whose only licence is from {org}" in story
    n_shared, credits_shared = shared_users["user_id"].n_unique(), shared_users["ai_credits_used"].sum()
    who = "1 user active here" if n_shared == 1 else f"{n_shared:,} users active here"
    assert f"{who} ({credits_shared:,.0f} credits) also hold a licence from another organization" in story
    assert not any("unexplained" in s for s in said)
    figures = spend_report.reconciliation(r).summary()["licences"]
    assert figures["here"]["users"] == n_certain
    assert figures["shared"] == {"users": n_shared, "credits": pytest.approx(credits_shared, rel=1e-9)}
