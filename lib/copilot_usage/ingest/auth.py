"""Credentials: which token goes on which request, and GitHub App installation tokens.

* A token goes only to the API origin (scheme, host, port); the reports' signed download links and any other host
  get no ``Authorization`` (https://docs.github.com/en/rest/copilot/copilot-usage-metrics: the links are signed).
* Billing paths (``/settings/billing/``) get the billing token when one is set: GitHub's billing endpoints want a
  classic token with ``manage_billing:enterprise`` (https://docs.github.com/en/rest/billing/usage).
* A GitHub App signs a JWT (RS256, issued 60 s in the past, valid under 10 minutes) and exchanges it at
  ``POST /app/installations/{installation_id}/access_tokens`` for an installation token, which is used until
  shortly before it expires, and renewed at once when GitHub answers 401
  (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app).
  The private key is read from its file each time a JWT is signed and is never logged or kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ..errors import AuthError, ConfigError

JWT_LIFETIME_S = 540  # GitHub allows at most 10 minutes
JWT_BACKDATE_S = 60  # "to protect against clock drift"
RENEW_BEFORE_S = 300  # renew an installation token five minutes before it expires


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


@dataclass
class App:
    """A GitHub App installation: ``app_id`` (or the app's client ID), the PEM key's path, the installation."""

    app_id: str
    key_path: Path
    installation_id: str
    _token: str | None = field(default=None, repr=False)
    _expires: float = 0.0  # epoch seconds
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    issued: int = 0  # installation tokens obtained in this run

    def jwt(self, now: float | None = None) -> str:
        """A fresh RS256 JWT for this app, signed with the key read from ``key_path`` now."""
        import jwt  # PyJWT; only GitHub App users pay for the import

        now = time.time() if now is None else now
        try:
            key = self.key_path.read_bytes()
        except OSError as exc:
            msg = f"cannot read the GitHub App key {self.key_path}: {exc.strerror}"
            raise ConfigError(msg) from None
        claims = {"iat": int(now) - JWT_BACKDATE_S, "exp": int(now) + JWT_LIFETIME_S, "iss": self.app_id}
        try:
            return jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError) as exc:
            msg = f"the GitHub App key {self.key_path} is not an RSA private key in PEM format ({type(exc).__name__})"
            raise ConfigError(msg) from None

    def exchange_request(self, base_url: httpx.URL) -> httpx.Request:
        url = base_url.join(f"{base_url.path.rstrip('/')}/app/installations/{self.installation_id}/access_tokens")
        headers = {"Authorization": f"Bearer {self.jwt()}", "Accept": "application/vnd.github+json"}
        return httpx.Request("POST", url, headers=headers)

    def fresh(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self._token is not None and now < self._expires - RENEW_BEFORE_S

    def accept(self, response: httpx.Response) -> str:
        """Take the token out of the exchange's answer (201), or raise naming what to check."""
        if response.status_code != 201:
            try:
                message = response.json().get("message", response.reason_phrase)
            except ValueError:
                message = response.reason_phrase
            msg = (
                f"{response.status_code} exchanging the GitHub App JWT for an installation token: {message}. "
                "Check --app-id, --installation-id and that --app-key is the app's current private key"
            )
            raise AuthError(msg, status=response.status_code)
        body = response.json()
        self._token = str(body["token"])
        expires = body.get("expires_at")
        self._expires = dt.datetime.fromisoformat(expires).timestamp() if expires else time.time() + 3600
        self.issued += 1
        return self._token

    def forget(self) -> None:
        self._token, self._expires = None, 0.0


class GitHubAuth(httpx.Auth):
    """``httpx.AsyncClient(auth=GitHubAuth(base_url, token=..., billing_token=..., app=...))``."""

    requires_response_body = True  # the installation-token exchange is read in the flow

    def __init__(
        self, base_url: str | httpx.URL, *, token: str | None, billing_token: str | None = None, app: App | None = None
    ) -> None:
        self.base_url = httpx.URL(str(base_url))
        self.origin = origin(self.base_url)
        self.token, self.billing_token, self.app = token, billing_token, app

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if origin(request.url) != self.origin:
            request.headers.pop("Authorization", None)  # download links and other hosts: never a token
            yield request
            return
        if "/settings/billing/" in request.url.path and self.billing_token:
            request.headers["Authorization"] = f"Bearer {self.billing_token}"
            yield request
            return
        if self.app is None:
            if self.token:
                request.headers["Authorization"] = f"Bearer {self.token}"
            yield request
            return
        app = self.app
        async with app._lock:  # one exchange at a time; the others then find the token fresh
            if not app.fresh():
                app.accept((yield app.exchange_request(self.base_url)))
            token = app._token
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:  # revoked or expired early: one new token, one more try
            async with app._lock:
                if app._token == token:
                    app.forget()
                    app.accept((yield app.exchange_request(self.base_url)))
                token = app._token
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def sync_auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def,override]
        msg = "GitHubAuth is for httpx.AsyncClient"
        raise RuntimeError(msg)
