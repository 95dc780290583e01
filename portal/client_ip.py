"""The client's address as seen behind TRUSTED_PROXY_COUNT reverse proxies.

Each proxy appends the address it received the connection from to X-Forwarded-For, so the Nth entry
from the right (N = number of trusted proxies) is the real client; anything further left was written
by the client and cannot be trusted. A hop that is not an IP address (a forged or broken header) is
ignored: the address columns are typed, and a bad value must never turn a login into a server error.
"""
import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    proxy_count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxy_count > 0 and forwarded:
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxy_count:
            address = _valid(hops[-proxy_count])
            if address is not None:
                return address
    return _valid(request.META.get("REMOTE_ADDR", "") or "")
