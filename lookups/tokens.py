"""API client tokens: a random 256-bit bearer token, shown once, stored as its keyed SHA-256."""
import hashlib
import hmac
import secrets

from django.conf import settings

TOKEN_PREFIX = "lk_"


def api_token_new() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes: 256 bits


def api_token_hash(token: str) -> str:
    """HMAC-SHA256 with a key derived from SECRET_KEY for this use only (a slow password hash would
    cost every call ~200 ms; a 256-bit random token needs no stretching)."""
    key = hmac.new(settings.SECRET_KEY.encode(), b"lookups.api_client_token", hashlib.sha256).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
