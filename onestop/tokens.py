"""Short HMAC tokens that make public URLs unguessable (ticket pages, dossier lookups).

``short_mac(secret, "ticket", "123")`` is a URL-safe, ASCII string. A purpose string keeps
a token for one kind of object from being valid for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

DEFAULT_LENGTH = 12  # 72 bits: far beyond guessing through a rate-limited endpoint


def short_mac(secret: str, purpose: str, value: str, length: int = DEFAULT_LENGTH) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def verify_mac(secret: str, purpose: str, value: str, token: str | None,
               length: int = DEFAULT_LENGTH) -> bool:
    if not token or len(token) != length:
        return False
    return hmac.compare_digest(short_mac(secret, purpose, value, length), token)


def ticket_token(secret: str, ticket_id: int) -> str:
    return short_mac(secret, "ticket", str(ticket_id))


def ticket_url(base_url: str, secret: str, ticket_id: int) -> str:
    """The public page of a ticket (the QR on the printed ticket leads here)."""
    return f"{base_url.rstrip('/')}/t/{ticket_id}?k={ticket_token(secret, ticket_id)}"
