"""Private booking links: an HMAC of the booking's id and version, so no link is ever stored."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _key(secret_key: str) -> bytes:
    # A key of its own, derived from SECRET_KEY, so a link never doubles as a session signature.
    return hmac.new(secret_key.encode(), b"booking-manage-link", hashlib.sha256).digest()


def manage_token(secret_key: str, kind: str, object_id: int, version: int) -> str:
    """A 192-bit URL-safe token for one version of one booking's link."""
    message = f"{kind}:{object_id}:{version}".encode()
    digest = hmac.new(_key(secret_key), message, hashlib.sha256).digest()[:24]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_matches(secret_key: str, kind: str, object_id: int, version: int, token: str) -> bool:
    """Constant-time comparison of a token from a URL with the one the booking should have."""
    expected = manage_token(secret_key, kind, object_id, version)
    return hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))
