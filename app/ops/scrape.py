"""Who may read /metrics: an address in METRICS_ALLOWED_IPS (addresses or networks, comma
separated), or a request with `Authorization: Bearer <METRICS_TOKEN>`. Nobody by default."""

import hmac
from functools import cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from flask import Request


@cache
def networks(allowed: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Parsed once per setting; an entry that is not an address or network is ignored."""
    parsed = []
    for entry in allowed.split(","):
        try:
            parsed.append(ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return tuple(parsed)


def address_allowed(address: str | None, allowed: str) -> bool:
    if not address or not allowed.strip():
        return False
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks(allowed))


def token_allowed(header: str, token: str) -> bool:
    if not token:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def may_scrape(request: Request, config) -> bool:
    return token_allowed(
        request.headers.get("Authorization", ""), config.get("METRICS_TOKEN") or ""
    ) or address_allowed(request.remote_addr, config.get("METRICS_ALLOWED_IPS") or "")
