"""Where the cache is: the folder given, else ``$COPILOT_USAGE_DATA``, else the kit's sample cache — never the
working directory by accident (a notebook copied elsewhere, or ``render`` run from another folder, would silently
read an empty or a different cache)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError

DATA_ENV = "COPILOT_USAGE_DATA"
# the committed sample cache of a source checkout (``lib/copilot_usage`` → ``data/sample``); absent from a wheel
SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"


def find_data_dir(data_dir: str | Path | None = None) -> Path:
    """The cache folder (the one holding ``processed/``), as an absolute path.

    ``data_dir`` when given (a relative path is taken from the working directory and must exist there); else
    the ``COPILOT_USAGE_DATA`` environment variable; else the kit's sample cache when the kit runs from a source
    checkout. Raises :class:`~copilot_usage.ConfigError` saying where it looked when the folder does not exist.
    """
    if data_dir not in (None, ""):
        return _existing(Path(str(data_dir)).expanduser(), "data_dir")
    from_env = os.environ.get(DATA_ENV, "")
    if from_env:
        return _existing(Path(from_env).expanduser(), DATA_ENV)
    if SAMPLE.is_dir():
        return SAMPLE
    msg = f"no cache given: pass data_dir (a folder holding processed/) or set {DATA_ENV}"
    raise ConfigError(msg)


def _existing(path: Path, given_as: str) -> Path:
    full = path if path.is_absolute() else Path.cwd() / path
    if not full.is_dir():
        where = "" if path.is_absolute() else f" (relative to the working directory {Path.cwd()})"
        msg = f"no cache folder at {full}{where}, given as {given_as}={str(path)!r}; pass an existing folder or set {DATA_ENV}"
        raise ConfigError(msg)
    return full.resolve()
