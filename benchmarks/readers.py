"""Read every users-1-day raw file of DATA_DIR with one reader, for side-by-side timing with `copilot-usage build`.

python benchmarks/readers.py DATA_DIR pyarrow|polars|pandas
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    data_dir, reader = Path(sys.argv[1]), sys.argv[2]
    files = sorted((data_dir / "raw").rglob("users-1-day/*/*.ndjson"))
    rows = 0
    for f in files:
        if reader == "pyarrow":  # the floor: Arrow's C++ reader with type inference
            import pyarrow.json as pj

            rows += pj.read_json(f).num_rows
        elif reader == "polars":
            import polars as pl

            rows += pl.read_ndjson(f).height
        elif reader == "pandas":  # what an analyst would write
            import pandas as pd

            raw = pd.read_json(f, lines=True)
            flat = pd.json_normalize(raw.to_dict(orient="records"))
            rows += len(flat)
    print(reader, len(files), "files", rows, "rows")


if __name__ == "__main__":
    main()
