"""Issue 24, input side: hostile or broken input never writes outside the data dir, never poisons the cache, and
operator errors are one line. Each test is one row of the issue's table, through `copilot-usage import` (or
fetch/build) with a temp data dir."""

from __future__ import annotations

import errno
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from copilot_usage.cache import read
from copilot_usage.catalog import Scope
from copilot_usage.cli import main
from copilot_usage.errors import InputError
from copilot_usage.ingest import importer, rawstore


def _row(user: int, **kw: Any) -> dict[str, Any]:
    return {"day": "2026-11-02", "organization_id": "5", "user_id": user, "user_login": f"u{user}", **kw}


def _ndjson(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _tree(root: Path, skip: Path) -> set[Path]:
    """Every path under ``root`` outside ``skip`` (the data dir)."""
    return {p for p in root.rglob("*") if not p.is_relative_to(skip)}


def _import(tmp_path: Path, *files: Path, args: tuple[str, ...] = ()) -> Result:
    return CliRunner().invoke(main, ["import", *map(str, files), "--data-dir", str(tmp_path / "data"), *args])


def _stored_users(data: Path) -> set[int]:
    return {
        json.loads(line)["user_id"]
        for _, _, folder in rawstore.slots(data, "users-1-day")
        for f in rawstore.versions(folder)
        for line in f.path.read_text().splitlines()
    }


def _no_temp_files(data: Path) -> bool:
    tmp = data / "raw" / ".tmp"
    return not tmp.exists() or not any(tmp.iterdir())


def test_a_day_that_is_a_path_is_rejected_with_its_line_and_nothing_escapes(tmp_path: Path) -> None:
    outside = Path(f"/tmp/{uuid.uuid4().hex[:5]}")  # 10 characters, as a day is
    f = _ndjson(tmp_path / "in.ndjson", [_row(1), _row(2, day=str(outside)), _row(3, day="../../../x"), _row(4)])
    before = _tree(tmp_path, tmp_path / "data")
    try:
        out = _import(tmp_path, f)
        assert not outside.exists()
    finally:
        if outside.exists():  # the old code wrote there
            import shutil

            shutil.rmtree(outside)
    assert _tree(tmp_path, tmp_path / "data") == before
    assert not (tmp_path / "data" / "x").exists()
    assert f"{f}: line 2: 'day' '{outside}' is not a date" in out.output
    assert f"{f}: line 3: 'day' '../../../x' is not a date" in out.output
    assert _stored_users(tmp_path / "data") == {1, 4}  # the rest of the file is imported
    assert out.exit_code == 1  # lines were rejected (said on stderr); the rest is stored


@pytest.mark.parametrize("field", ["organization_id", "enterprise_id"])
def test_an_id_that_is_a_path_is_rejected_with_its_line(tmp_path: Path, field: str) -> None:
    bad = {k: v for k, v in _row(2).items() if k != "organization_id"} | {field: "../../../../ESCAPED"}
    f = _ndjson(tmp_path / "in.ndjson", [_row(1), bad, _row(3, organization_id="5\x00x")])
    before = _tree(tmp_path, tmp_path / "data")
    out = _import(tmp_path, f)
    assert _tree(tmp_path, tmp_path / "data") == before
    assert not list(tmp_path.rglob("ESCAPED"))
    assert f"{f}: line 2: {field} '../../../../ESCAPED' is not a GitHub id (digits or a slug)" in out.output
    assert f"{f}: line 3: organization_id '5\\x00x' is not a GitHub id" in out.output  # NUL shown escaped
    assert _stored_users(tmp_path / "data") == {1}


def test_fetch_refuses_an_org_that_is_a_path_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test")
    data = tmp_path / "data"
    out = CliRunner().invoke(
        main, ["fetch", "--org", "../../etc", "--base-url", "http://127.0.0.1:9", "--data-dir", str(data)]
    )
    assert out.exit_code == 1
    assert out.output.strip().splitlines() == [
        "Error: --enterprise/--org: '../../etc' is not an organization name (letters, digits and single hyphens "
        "not at either end, at most 39)"
    ]
    assert not data.exists()  # nothing asked, nothing written


def test_scope_accepts_githubs_names_and_the_kits_own_slugs() -> None:
    for text in ("org:octo-sim-eng", "enterprise:octo-sim", "org:id-5", "enterprise:billing-export", "org:a"):
        assert str(Scope.parse(text)) == text
    for text in (
        "org:../x",
        "org:a--b",
        "org:-a",
        "org:a-",
        "org:" + "a" * 40,
        "enterprise:a/b",
        "org:id-..",
        "org:a b",
    ):
        with pytest.raises(ValueError, match="is not"):
            Scope.parse(text)
    out = _import(Path("."), Path(__file__), args=("--scope", "org:../../x"))
    assert out.exit_code == 2 and "is not an organization name" in out.output


def test_rawstore_refuses_a_folder_outside_raw_whatever_the_caller_let_through(tmp_path: Path) -> None:
    data = tmp_path / "data"
    scope = Scope("org", "acme")
    for key in ("../../../x", "/tmp/x", "a\x00b", ".."):
        with pytest.raises(InputError, match="refused to write"):
            rawstore.put_bytes(data, scope, "users-1-day", key, b"{}\n", ext="ndjson", provenance={})
    unchecked = object.__new__(Scope)  # a scope an upstream check missed
    object.__setattr__(unchecked, "kind", "org")
    object.__setattr__(unchecked, "slug", "x/../../../../escaped")
    with pytest.raises(InputError, match="refused to write"):
        rawstore.put_bytes(data, unchecked, "users-1-day", "2026-11-02", b"{}\n", ext="ndjson", provenance={})
    (data / "raw").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (data / "raw" / "org=acme").symlink_to(tmp_path / "elsewhere")  # a link planted inside the store
    with pytest.raises(InputError, match="refused to write"):
        rawstore.put_bytes(data, scope, "users-1-day", "2026-11-02", b"{}\n", ext="ndjson", provenance={})
    assert not any((tmp_path / "elsewhere").iterdir())
    assert _no_temp_files(data)


def test_a_day_that_is_not_a_date_is_rejected_and_build_still_works(tmp_path: Path) -> None:
    f = _ndjson(tmp_path / "in.ndjson", [_row(1), _row(2, day="2026-13-45"), _row(3, day="2031-01-01")])
    out = _import(tmp_path, f)
    assert f"{f}: line 2: 'day' '2026-13-45' is not a date (YYYY-MM-DD)" in out.output
    assert f"{f}: line 3: 'day' 2031-01-01 is outside the days GitHub's reports cover" in out.output
    assert "1 new" in out.output
    build = CliRunner().invoke(main, ["build", "--data-dir", str(tmp_path / "data")])
    assert build.exit_code == 0, build.output
    assert read.scan(tmp_path / "data", "user_day").collect()["user_id"].to_list() == [1]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_a_credit_that_is_not_finite_is_rejected_with_its_line(tmp_path: Path, value: str) -> None:
    bad = json.dumps(_row(2, ai_credits_used=0.0)).replace("0.0", value)
    f = _ndjson(tmp_path / "in.ndjson", [_row(1, ai_credits_used=1.5), bad, _row(3, ai_credits_used=2.0)])
    out = _import(tmp_path, f)
    assert f"{f}: line 2: non-finite value (NaN or infinite) in ai_credits_used" in out.output
    assert _stored_users(tmp_path / "data") == {1, 3}


def test_a_fetched_body_with_nan_is_quarantined_at_build_not_summed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    body = b'{"day":"2026-11-02","organization_id":"5","user_id":1,"ai_credits_used":NaN}\n'
    body += b'{"day":"2026-11-02","organization_id":"5","user_id":2,"ai_credits_used":2.5}\n'
    rawstore.put_bytes(data, Scope("org", "acme"), "users-1-day", "2026-11-02", body, ext="ndjson", provenance={})
    assert CliRunner().invoke(main, ["build", "--data-dir", str(data)]).exit_code == 0
    assert read.scan(data, "user_day").collect()["ai_credits_used"].sum() == 2.5
    q = read.scan(data, "quarantine").collect()
    assert q["line"].to_list() == [1] and "non-finite" in q["reason"][0]


CSV_HEAD = "date,username,product,sku,model,quantity,unit_type,applied_cost_per_quantity,gross_amount\n"


def test_a_billing_csv_quantity_that_is_not_finite_is_rejected_with_its_line(tmp_path: Path) -> None:
    f = tmp_path / "usage.csv"
    f.write_text(
        CSV_HEAD
        + "2026-11-02,alice,copilot,copilot_ai_credit,gpt-5,12.25,ai-credits,0.01,0.1225\n"
        + "2026-11-02,bob,copilot,copilot_ai_credit,gpt-5,NaN,ai-credits,0.01,0.1\n"
        + "2026-11-03,carol,copilot,copilot_ai_credit,gpt-5,-1e309,ai-credits,0.01,0.1\n"
        + "2026-11-03,dave,copilot,copilot_ai_credit,gpt-5,2.5,ai-credits,0.01,0.025\n"
    )
    out = _import(tmp_path, f, args=("--scope", "enterprise:acme"))
    assert f"{f}: line 3: not a finite number (NaN or infinite): quantity" in out.output
    assert f"{f}: line 4: not a finite number (NaN or infinite): quantity" in out.output
    assert CliRunner().invoke(main, ["build", "--data-dir", str(tmp_path / "data")]).exit_code == 0
    rows = read.scan(tmp_path / "data", "billing_usage_csv").collect()
    assert sorted(rows["user"].to_list()) == ["alice", "dave"] and rows["quantity"].sum() == 14.75


@pytest.mark.parametrize("missing", ["quantity", "username", "date"])
def test_a_billing_csv_without_a_required_column_is_an_error_naming_it(tmp_path: Path, missing: str) -> None:
    cols = [c for c in CSV_HEAD.strip().split(",") if c != missing]
    values = {"date": "2026-11-02", "username": "alice", "quantity": "3", "sku": "copilot_ai_credit"}
    f = tmp_path / "usage.csv"
    f.write_text(",".join(cols) + "\n" + ",".join(values.get(c, "x") for c in cols) + "\n")
    out = _import(tmp_path, f)
    assert out.exit_code == 1
    assert f"usage.csv: no '{missing}' column" in out.output
    assert not list((tmp_path / "data").rglob("*.csv"))


def test_utf16_with_a_bom_is_decoded_and_another_encoding_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "utf16.ndjson"
    f.write_bytes(("\ufeff" + json.dumps(_row(1, user_login="zoë")) + "\r\n").encode("utf-16-le"))
    out = _import(tmp_path, f)
    assert out.exit_code == 0, out.output
    assert _stored_users(tmp_path / "data") == {1}
    latin = tmp_path / "latin1.ndjson"
    latin.write_bytes(json.dumps(_row(2, user_login="zoë"), ensure_ascii=False).encode("latin-1") + b"\n")
    out = _import(tmp_path, latin)
    assert out.exit_code == 1
    [line] = out.output.strip().splitlines()
    assert f"{latin}: not utf-8 text" in line and "save the file as UTF-8" in line
    assert _no_temp_files(tmp_path / "data")


def test_a_data_dir_that_is_a_file_or_read_only_is_one_line(tmp_path: Path) -> None:
    f = _ndjson(tmp_path / "in.ndjson", [_row(1)])
    (tmp_path / "data").write_text("not a folder")
    out = _import(tmp_path, f)
    assert out.exit_code == 1
    [line] = out.output.strip().splitlines()
    assert "data" in line and "Traceback" not in out.output
    for command in (["build"], ["status"]):
        out = CliRunner().invoke(main, [*command, "--data-dir", str(tmp_path / "data")])
        assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1, out.output
    if os.geteuid() == 0:
        return  # root writes into read-only folders
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    out = CliRunner().invoke(main, ["import", str(f), "--data-dir", str(ro)])
    assert out.exit_code == 1 and "Permission denied" in out.output


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_full_disk_or_read_only_store_is_one_line_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    f = _ndjson(tmp_path / "in.ndjson", [_row(1), _row(2, day="2026-11-03")])
    real_replace = os.replace

    def failing(src: Any, dst: Any) -> None:
        if str(dst).endswith(".ndjson"):
            raise OSError(code, os.strerror(code))
        real_replace(src, dst)

    monkeypatch.setattr(rawstore.os, "replace", failing)
    out = _import(tmp_path, f)
    assert out.exit_code == 1
    [line] = out.output.strip().splitlines()
    assert line == f"Error: {tmp_path / 'data'}: {os.strerror(code)}"
    assert _no_temp_files(tmp_path / "data")


def test_a_large_one_line_array_streams_and_an_oversized_record_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "_CHUNK", 64)  # items cross many buffer refills
    monkeypatch.setattr(importer._Slots, "SPILL_BYTES", 200)  # slots spill to temp files and are read back
    monkeypatch.setenv(importer.MAX_RECORD_MB_ENV, str(2000 / (1 << 20)))  # a 2,000-character bound
    rows = [_row(u, day=f"2026-11-0{1 + u % 3}") for u in range(1, 40)]
    rows[10]["padding"] = ['x"]}\\{[' * 1000]  # brackets, quotes and escapes inside its strings
    f = tmp_path / "big.json"
    f.write_text(json.dumps(rows))
    out = _import(tmp_path, f)
    assert f"{f}: item 11: larger than" in out.output
    assert _stored_users(tmp_path / "data") == set(range(1, 40)) - {11}  # skipped, not decoded; the rest read
    assert _no_temp_files(tmp_path / "data")
    g = tmp_path / "wrapped.json"  # day_totals wrappers and a pretty-printed array, no bound hit
    g.write_text(json.dumps([{"organization_id": "5", "day_totals": [_row(u) for u in (50, 51)]}], indent=2))
    monkeypatch.delenv(importer.MAX_RECORD_MB_ENV)
    assert _import(tmp_path, g).exit_code == 0
    assert {50, 51} <= _stored_users(tmp_path / "data")


def test_render_refuses_report_name_parameters_that_are_paths(tmp_path: Path) -> None:
    notebooks = Path(__file__).parents[1] / "notebooks"
    for name, value in (("scope", "org:../../../x"), ("start", "../../../x"), ("audience", "../../x")):
        out = CliRunner().invoke(
            main,
            ["render", "trends", "-p", name, value, "--notebooks-dir", str(notebooks), "--out", str(tmp_path / "r")],
        )
        assert out.exit_code == 1, out.output
        [line] = out.output.strip().splitlines()
        assert line.startswith("Error: trends.ipynb: parameter") and value.split(":")[-1] in line
    assert not list(tmp_path.rglob("*.ipynb"))


def test_a_billing_answer_with_nan_is_quarantined_at_build_not_summed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    item = {"product": "copilot", "sku": "copilot_ai_credit", "unitType": "ai-credits", "pricePerUnit": 0.01}
    body = json.dumps({"usageItems": [{**item, "grossQuantity": float("nan")}, {**item, "grossQuantity": 4.0}]})
    assert "NaN" in body  # as Python's json writes it, and reads it back
    rawstore.put_bytes(
        data, Scope("enterprise", "acme"), "billing", "2026-11-02", body.encode(), ext="json", provenance={}
    )
    assert CliRunner().invoke(main, ["build", "--data-dir", str(data)]).exit_code == 0
    assert read.scan(data, "billing_ai_credit").collect()["gross_quantity"].to_list() == [4.0]
    q = read.scan(data, "quarantine").collect()
    assert q.select("report", "line", "reason").rows() == [
        ("billing", 1, "not a finite number (NaN or infinite): gross_quantity")
    ]


def test_a_per_user_billing_answer_with_infinity_is_quarantined_at_build(tmp_path: Path) -> None:
    data = tmp_path / "data"
    item = {"product": "copilot", "sku": "copilot_ai_credit", "unitType": "ai-credits", "pricePerUnit": 0.01}
    answers = [{"usageItems": [{**item, "grossQuantity": 1e309}]}, {"usageItems": [{**item, "grossQuantity": 3.0}]}]
    body = json.dumps({"users": ["alice", "bob"], "responses": answers}).encode()
    rawstore.put_bytes(data, Scope("enterprise", "acme"), "billing-users", "2026-11", body, ext="json", provenance={})
    assert CliRunner().invoke(main, ["build", "--data-dir", str(data)]).exit_code == 0
    rows = read.scan(data, "billing_user_month").collect()
    assert rows.select("user_asked", "gross_quantity").rows() == [("bob", 3.0)]
    q = read.scan(data, "quarantine").collect()
    assert q.select("report", "line").rows() == [("billing-users", 1)] and "gross_quantity" in q["reason"][0]
