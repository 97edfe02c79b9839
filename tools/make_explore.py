"""Write notebooks/explore/start.ipynb, the analysts' starter (scan a table, compute a metric, draw a chart)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# Start here\nThe library calls behind the reports, on the committed sample cache. "
        "Point `data_dir` at your own cache (`copilot-usage fetch` then `build`)."
    ),
    new_code_cell(
        "import datetime as dt\n\nimport polars as pl\n\nfrom copilot_usage import charts, metrics, store\n\n"
        'charts.enable_theme(renderer="default")\ndata_dir = "../../data/sample"\nscope = "enterprise:octo-sim"'
    ),
    new_markdown_cell("Every processed table is a lazy polars scan, filtered by scope and day range:"),
    new_code_cell(
        'usage = store.scan_user_day(data_dir, scope=scope)\nusage.select(pl.len(), first=pl.col("day").min(), '
        'last=pl.col("day").max(), credits=pl.col("ai_credits_used").sum()).collect()'
    ),
    new_markdown_cell("Metrics are pure functions of frames; charts are functions of the metric's output:"),
    new_code_cell(
        'end = usage.select(pl.col("day").max()).collect().item()\nstart = end - dt.timedelta(days=41)\n'
        "daily = metrics.daily_activity(usage, start=start, end=end)\ncharts.credits_per_day(daily)"
    ),
    new_code_cell("metrics.top_users(usage, n=5)"),
    new_markdown_cell(
        "Tables: "
        + ", ".join(
            f"`{t}`"
            for t in (
                "user_day",
                "user_feature_day",
                "user_model_feature_day",
                "user_ide_day",
                "aggregate_day",
                "user_team_day",
                "repo_day",
                "seats",
                "teams",
                "team_members",
                "billing_ai_credit",
                "data_health",
            )
        )
        + " — `store.scan(data_dir, name, scope=..., start=..., end=...)`."
    ),
]

if __name__ == "__main__":
    nb = new_notebook(cells=CELLS)
    for i, cell in enumerate(nb.cells):
        cell.id = f"start-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, Path(__file__).parents[1] / "notebooks" / "explore" / "start.ipynb")
