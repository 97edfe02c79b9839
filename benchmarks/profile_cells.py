"""Wall time and peak RSS of each code cell of a report notebook, run in this process (Linux only).

    .venv/bin/python benchmarks/profile_cells.py notebooks/value_per_credit.ipynb -p data_dir DIR -p scope S

The parameters cell runs first with the ``-p`` overrides (strings, read as Python literals where they parse);
then each code cell, with the report's ``display`` silenced (charts are still rendered to SVG, as in a render).
Peak RSS per cell is the process's high-water mark after resetting it (``/proc/self/clear_refs``), so each figure
is that cell's own peak; the first line is the RSS before the first cell (imports).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from pathlib import Path
from typing import Any


def _status(field: str) -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field))
    return int(line.split()[1]) / 1024


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebook", type=Path)
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = ap.parse_args()
    cells = [c for c in json.loads(args.notebook.read_text())["cells"] if c["cell_type"] == "code"]
    from copilot_usage.report import display as report_display

    report_display.display = lambda *a, **kw: None  # type: ignore[assignment]
    scope: dict[str, Any] = {}
    overrides = []
    for name, value in args.p:
        try:
            ast.literal_eval(value)
            overrides.append(f"{name} = {value}")
        except (ValueError, SyntaxError):
            overrides.append(f"{name} = {value!r}")
    print(f"{'cell':40} {'s':>7} {'peak MiB':>9}  (before: {_status('VmRSS:'):.0f} MiB)", flush=True)
    for i, cell in enumerate(cells):
        src = "".join(cell["source"])
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src += "\n" + "\n".join(overrides)
        _reset_peak()
        t0 = time.perf_counter()
        exec(compile(src, f"<cell {i}>", "exec"), scope)  # noqa: S102 - the kit's own notebook
        wall = time.perf_counter() - t0
        first = next((line for line in src.splitlines() if line.startswith("r.show(")), src.splitlines()[0])
        print(f"{first[:40]:40} {wall:7.1f} {_status('VmHWM:'):9.0f}", flush=True)
    print(f"RSS at the end: {_status('VmRSS:'):.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
