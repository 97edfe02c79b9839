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
    app_id: str | None = None
    app_key: Path | None = None  # the GitHub App's private key (PEM), read only when a JWT is signed
    app_installation_id: str | None = None

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
            app_id=get("COPILOT_USAGE_APP_ID"),
            app_key=Path(key) if (key := get("COPILOT_USAGE_APP_KEY")) else None,
            app_installation_id=get("COPILOT_USAGE_APP_INSTALLATION_ID"),
        )

    def __repr__(self) -> str:  # never print tokens
        token, billing = ("***" if t else None for t in (self.token, self.billing_token))
        return f"Settings(token={token}, billing_token={billing}, app_id={self.app_id})"
