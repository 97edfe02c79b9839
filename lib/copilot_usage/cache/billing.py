"""Billing parsers: the billing API's usage items (per scope and per user) and the usage-report CSV → their
tables; what counts as AI credits."""

from __future__ import annotations

import io
import json
from typing import Any

import polars as pl

from ..analysis.pricing import CREDIT_PRICE_USD
from ..catalog import Scope
from ..ingest import rawstore

_BILLING_ITEM_SCHEMA = {
    "user": pl.String,
    "product": pl.String,
    "sku": pl.String,
    "model": pl.String,
    "unit_type": pl.String,
    **dict.fromkeys(
        (
            "price_per_unit",
            "gross_quantity",
            "discount_quantity",
            "net_quantity",
            "gross_amount",
            "discount_amount",
            "net_amount",
        ),
        pl.Float64,
    ),
}


_BILLING_NUMBERS = [c for c, t in _BILLING_ITEM_SCHEMA.items() if t == pl.Float64]
_NOT_FINITE = "not a finite number (NaN or infinite): "


def not_finite(columns: list[str]) -> pl.Expr:
    """Per row, the names of ``columns`` holding NaN or an infinity, comma-separated ('' when none; null is fine)."""
    return pl.concat_str(
        [pl.when(~pl.col(c).is_finite()).then(pl.lit(c)) for c in columns], separator=", ", ignore_nulls=True
    )


BILLING_USER_MONTH_SCHEMA = {"scope": pl.String, "month": pl.Date, "user_asked": pl.String, **_BILLING_ITEM_SCHEMA}


def _billing_items(body: dict[str, Any], user: str | None = None) -> list[dict[str, Any]]:
    """The ``usageItems`` of one AI-credit usage answer as rows (GitHub's billing usage API); an item's own
    ``user`` wins over the answer's echo, which wins over the user asked for."""
    echo = body.get("user", user)
    return [
        {
            "user": item.get("user", echo),
            "product": item.get("product"),
            "sku": item.get("sku"),
            "model": item.get("model"),
            "unit_type": item.get("unitType"),
            "price_per_unit": item.get("pricePerUnit"),
            "gross_quantity": item.get("grossQuantity"),
            "discount_quantity": item.get("discountQuantity"),
            "net_quantity": item.get("netQuantity"),
            "gross_amount": item.get("grossAmount"),
            "discount_amount": item.get("discountAmount"),
            "net_amount": item.get("netAmount"),
        }
        for item in body.get("usageItems") or []
    ]


def _billing(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    """Billing answers → ``billing_ai_credit`` (+ ``quarantine/billing``: an item with a number that is not finite,
    by file and its place among ``usageItems``; Python's json reads ``NaN`` and ``1e309``)."""
    rows = []
    for scope, key, f in files:
        body = json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        rows += [
            {"scope": str(scope), "day": key, "file": f.path.name, "line": i, **item}
            for i, item in enumerate(_billing_items(body), start=1)
        ]
    schema = {"scope": pl.String, "day": pl.String, "file": pl.String, "line": pl.Int64, **_BILLING_ITEM_SCHEMA}
    frame = pl.DataFrame(rows, schema=schema).with_columns(reason=not_finite(_BILLING_NUMBERS))
    bad = frame.filter(pl.col("reason") != "").select(
        "scope", report=pl.lit("billing"), day="day", file="file", line="line", reason=_NOT_FINITE + pl.col("reason")
    )
    good = frame.filter(pl.col("reason") == "").drop("file", "line", "reason")
    return {"billing_ai_credit": good.with_columns(pl.col("day").str.to_date()), "quarantine/billing": bad}


def _billing_users(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    """Per-user billing months → ``billing_user_month``: one row per scope × month × user × usage item, and one
    row with null item fields for a user asked who had no usage (billed nothing, which is not unknown)."""
    rows = []
    for scope, key, f in files:
        stored = json.loads(f.path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        for n, (user, body) in enumerate(zip(stored["users"], stored["responses"], strict=True), start=1):
            items = _billing_items(body, user)
            base = {"scope": str(scope), "month": f"{key}-01", "user_asked": user, "file": f.path.name, "line": n}
            rows += [{**base, **item} for item in items] or [{**base, "user": body.get("user", user)}]
    schema = {**BILLING_USER_MONTH_SCHEMA, "month": pl.String, "file": pl.String, "line": pl.Int64}
    frame = pl.DataFrame(rows, schema=schema).with_columns(reason=not_finite(_BILLING_NUMBERS))
    bad = frame.filter(pl.col("reason") != "").select(  # line: the answer's place in the stored file
        "scope",
        report=pl.lit("billing-users"),
        day="month",
        file="file",
        line="line",
        reason=_NOT_FINITE + pl.col("reason"),
    )
    good = frame.filter(pl.col("reason") == "").drop("file", "line", "reason")
    return {
        "billing_user_month": good.with_columns(pl.col("month").str.to_date()),  # read as text, then typed
        "quarantine/billing_users": bad,
    }


BILLING_CSV_COLUMNS = {
    "date": pl.String,
    "username": pl.String,
    "product": pl.String,
    "sku": pl.String,
    "model": pl.String,
    "quantity": pl.Float64,
    "unit_type": pl.String,
    "applied_cost_per_quantity": pl.Float64,
    "gross_amount": pl.Float64,
    "discount_amount": pl.Float64,
    "net_amount": pl.Float64,
    "total_monthly_quota": pl.Float64,
    "organization": pl.String,
    "repository": pl.String,
    "cost_center_name": pl.String,
    "aic_quantity": pl.Float64,
    "aic_gross_amount": pl.Float64,
}


def is_ai_credit(sku: pl.Expr, unit_type: pl.Expr, price: pl.Expr) -> pl.Expr:
    """An AI-credit line, matched case-insensitively by SKU, unit type or price (the spellings GitHub's billing
    returns vary and are not all documented)."""
    s = sku.str.to_lowercase().str.replace_all(r"[\s_-]+", " ")
    u = unit_type.str.to_lowercase().str.replace_all(r"[\s_-]+", " ")
    return (
        s.str.contains("ai credit").fill_null(False)
        | u.is_in(["credits", "ai credits"]).fill_null(False)
        | (price.round(6) == CREDIT_PRICE_USD).fill_null(False)  # GitHub's list price per credit
    )


# the columns a usage-report row cannot mean anything without (an import without one is refused)
BILLING_CSV_REQUIRED = ("date", "username", "quantity")


def billing_csv_missing(data: bytes) -> list[str]:
    """The columns of :data:`BILLING_CSV_REQUIRED` a usage-report CSV's header lacks."""
    header = pl.read_csv(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")), n_rows=0, infer_schema_length=0).columns
    present = {c.strip().lower() for c in header}
    return [c for c in BILLING_CSV_REQUIRED if c not in present]


def billing_csv_rows(data: bytes, file: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One usage-report CSV typed: its readable rows and the unreadable ones (``line``, ``reason``). A row whose
    date does not read, or whose quantity does not read or is not a finite number (NaN, ±inf, an overflow such as
    1e309), is unreadable. Columns are matched case- and space-insensitively; missing ones are null."""
    raw = pl.read_csv(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")), infer_schema_length=0, truncate_ragged_lines=True)
    raw = raw.rename({c: c.strip().lower() for c in raw.columns}).with_columns(
        line=pl.int_range(2, pl.len() + 2), file=pl.lit(file)
    )
    extra_cols = [c for c in raw.columns if c not in BILLING_CSV_COLUMNS and c not in ("line", "file")]
    typed = raw.with_columns(
        [
            pl.col(c).cast(t, strict=False) if c in raw.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in BILLING_CSV_COLUMNS.items()
        ],
        day=pl.col("date").str.slice(0, 10).str.to_date(strict=False) if "date" in raw.columns else pl.lit(None),
        extra=pl.struct(extra_cols).struct.json_encode() if extra_cols else pl.lit(None, dtype=pl.String),
    )
    bad_numbers = not_finite([c for c, t in BILLING_CSV_COLUMNS.items() if t == pl.Float64])
    reason = (
        pl.when(pl.col("day").is_null())
        .then(pl.lit("date is not readable"))
        .when(pl.col("quantity").is_null())
        .then(pl.lit("quantity is not readable"))
        .when(bad_numbers != "")
        .then(_NOT_FINITE + bad_numbers)
    )
    typed = typed.with_columns(reason=reason)
    bad = typed.filter(pl.col("reason").is_not_null()).select("line", "reason")
    return typed.filter(pl.col("reason").is_null()).drop("reason"), bad


def _billing_csv(files: list[tuple[Scope, str, rawstore.RawFile]]) -> dict[str, pl.DataFrame]:
    """GitHub's billing usage-report CSVs → ``billing_usage_csv`` (+ ``quarantine/billing_csv``).

    Unknown columns are kept as JSON in ``extra``; missing optional columns are null; a row whose date or
    quantity cannot be read (or a number that is not finite) is quarantined with file and line
    (:func:`billing_csv_rows`). ``credits`` is the quantity of AI-credit lines and ``aic_quantity`` (the AI-credit
    equivalent) of older premium-request lines.
    """
    frames, bad = [], []
    for scope, _key, f in files:
        rows, unreadable = billing_csv_rows(f.path.read_bytes(), f.path.name)
        bad.append(
            unreadable.select(
                scope=pl.lit(str(scope)),
                report=pl.lit("billing-csv"),
                day=pl.lit(None, dtype=pl.String),
                file=pl.lit(f.path.name),
                line="line",
                reason="reason",
            )
        )
        frames.append(rows.with_columns(scope=pl.lit(str(scope))))
    rows = pl.concat(frames, how="diagonal_relaxed")
    ai = is_ai_credit(pl.col("sku"), pl.col("unit_type"), pl.col("applied_cost_per_quantity"))
    usage = rows.select(
        "scope",
        "day",
        user="username",
        organization="organization",
        cost_center="cost_center_name",
        product="product",
        sku="sku",
        model="model",
        unit_type="unit_type",
        price_per_unit="applied_cost_per_quantity",
        quantity="quantity",
        credits=pl.when(ai).then(pl.col("quantity")).otherwise(pl.col("aic_quantity")),
        is_ai_credit=ai,
        gross_amount="gross_amount",
        discount_amount="discount_amount",
        net_amount="net_amount",
        source=pl.lit("csv"),
        file="file",
        line="line",
        extra="extra",
    )
    return {"billing_usage_csv": usage, "quarantine/billing_csv": pl.concat(bad)}
