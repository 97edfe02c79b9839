"""Settings from the environment (and an optional ``.env``), read when asked, never at import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values


@dataclass(frozen=True)
class Settings:
    token: str | None
    billing_token: str | None
    pseudonym_key: str | None

    @classmethod
    def from_env(cls, env_file: Path | None = Path(".env")) -> Settings:
        """Environment variables win over ``.env`` values; ``COPILOT_BILLING_TOKEN`` falls back to ``GITHUB_TOKEN``."""
        file_values = dotenv_values(env_file) if env_file and env_file.exists() else {}

        def get(name: str) -> str | None:
            return os.environ.get(name) or file_values.get(name) or None

        token = get("GITHUB_TOKEN")
        return cls(
            token=token,
            billing_token=get("COPILOT_BILLING_TOKEN") or token,
            pseudonym_key=get("COPILOT_USAGE_PSEUDONYM_KEY"),
        )

    def __repr__(self) -> str:  # never print tokens
        return f"Settings(token={'***' if self.token else None}, billing_token={'***' if self.billing_token else None})"
