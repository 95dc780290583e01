"""The client's address as seen behind TRUSTED_PROXY_COUNT reverse proxies.

Each proxy appends the address it received the connection from to X-Forwarded-For, so the Nth entry
from the right (N = number of trusted proxies) is the real client; anything further left was written
by the client and cannot be trusted.
"""
from django.conf import settings


def client_ip(request) -> str | None:
    proxy_count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxy_count > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxy_count:
            return hops[-proxy_count]
    return request.META.get("REMOTE_ADDR") or None
