"""Kept for the import README gave other engines (DuckDB …) before the layout by stage: ``arrow_dataset``, from
:mod:`copilot_usage.cache.lake`."""

from .cache.lake import arrow_dataset

__all__ = ["arrow_dataset"]
