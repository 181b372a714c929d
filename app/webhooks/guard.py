"""Where a webhook may point: ``http``/``https`` URLs whose host resolves only to public addresses, unless
DECISION_LOG_WEBHOOK_ALLOW_PRIVATE_TARGETS. Checked when a subscription is saved and again at each delivery, which
then connects to the very address it checked (a name that resolves elsewhere the second time gains nothing)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.webhooks.errors import TargetRefused

# Addresses no webhook may reach without the setting: loopback, private, link-local (and with it the cloud
# metadata service at 169.254.169.254), shared (CGNAT), reserved, multicast, unspecified, and the metadata
# services that live elsewhere (AWS's IPv6 one, Alibaba's).
METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
SHARED = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as the URL names it (the Host header, the TLS server name)
    port: int
    address: str  # the checked address to connect to


def refused_address(address: str) -> str | None:
    """Why this address is no place for a webhook; None when it is public."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "a cloud metadata service"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (cloud metadata services live there)"
    if ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in SHARED):
        return "private"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "not a public unicast address"
    return None


def parse(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of a webhook URL; :class:`TargetRefused` for anything but http(s) with a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise TargetRefused(f"the scheme must be http or https, not {scheme or 'none'!r}")
    if not parts.hostname:
        raise TargetRefused("the URL names no host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not accepted: put a token in its path or query")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


async def resolve(url: str, *, allow_private: bool) -> Target:
    """The URL's target, its host resolved now; :class:`TargetRefused` when it cannot be used."""
    scheme, host, port = parse(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"the host {host!r} does not resolve: {error}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused(f"the host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            if (why := refused_address(address)) is not None:
                raise TargetRefused(
                    f"the host {host!r} resolves to {address}, {why}: set "
                    "DECISION_LOG_WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow such targets"
                )
    return Target(scheme=scheme, host=host, port=port, address=addresses[0])
