"""Cache: ``data/raw/`` → typed Delta Lake tables in ``data/processed/``, and the readers.

``parse`` (bytes → typed rows), ``merge`` (a day's raw versions → its rows), ``daily``, ``snapshots`` and
``billing`` (rows → tables per report family), ``builder`` (the incremental build), ``lake`` (Delta tables),
``tables`` (the table registry), ``read`` (``scan``), ``health`` and ``status`` (what the cache holds and lacks)."""
