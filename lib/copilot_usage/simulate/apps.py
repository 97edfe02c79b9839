"""The simulated GitHub App: its key pair, the JWT check and the installation tokens it issues.

As https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
and ``POST /app/installations/{installation_id}/access_tokens`` describe: an RS256 JWT whose ``iss`` is the app's
id, issued no later than now and expiring at most 10 minutes after it was issued, buys an installation token
(``ghs_…``, valid one hour unless configured otherwise); an expired token is refused with 401 "Bad credentials".
"""

from __future__ import annotations

import functools
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

APP_ID = "424242"
INSTALLATION_ID = "31337"
MAX_JWT_LIFETIME_S = 600


@functools.cache
def key_pair() -> tuple[Path, bytes]:
    """The simulator's private key (a PEM file, written once per process) and its public key in PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    path = Path(tempfile.mkdtemp(prefix="copilot-usage-sim-app-")) / "app-private-key.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, public


@dataclass
class AppTokens:
    """Installation tokens issued so far and when each expires."""

    ttl_s: float = 3600.0
    app_id: str = APP_ID
    installation_id: str = INSTALLATION_ID
    issued: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_jwt(self, token: str) -> str | None:
        """None when the JWT is good, else GitHub's message."""
        import jwt

        _, public = key_pair()
        try:
            claims = jwt.decode(
                token, public, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}, leeway=0
            )
        except jwt.ExpiredSignatureError:
            return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
        except jwt.PyJWTError:
            return "A JSON web token could not be decoded"
        if str(claims["iss"]) != self.app_id:
            return "Integration not found"
        if claims["exp"] - claims["iat"] > MAX_JWT_LIFETIME_S or claims["iat"] > time.time() + 1:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None

    def issue(self) -> tuple[str, float]:
        token = "ghs_" + secrets.token_hex(18)
        expires = time.time() + self.ttl_s
        with self._lock:
            self.issued[token] = expires
        return token, expires

    def valid(self, token: str) -> bool | None:
        """True/False for an installation token (by expiry), None for a token this app did not issue."""
        with self._lock:
            expires = self.issued.get(token)
        return None if expires is None else time.time() < expires
