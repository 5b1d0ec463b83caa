"""Which URLs a webhook may be sent to: http(s) on a public address.

A URL is refused when it is not http or https, has no host, or when its host is (or resolves
to) a loopback, private, link-local, multicast, reserved or unspecified address, or a cloud
metadata address: a subscription must not make Linli reach into the network it runs in. A
deployment whose receivers live on its own network (and the tests' local receiver) allows
private addresses with `LINLI_WEBHOOK_ALLOW_PRIVATE=true`; even then a URL naming the server
itself (the host and port it was asked at) is refused.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from ledger.errors import WebhookUrlRefused

# Cloud instance-metadata endpoints, refused whatever `allow_private` says.
METADATA_HOSTS = frozenset({"169.254.169.254", "fd00:ec2::254", "100.100.100.200",
                            "metadata.google.internal", "metadata"})
URL_MAX_CHARS = 500


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_loopback or address.is_private or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified)


def addresses_of(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses `host` names or resolves to (none when it does not resolve)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_webhook_url(url: str, *, allow_private: bool, server: str | None = None) -> str:
    """`url` if Linli may send webhooks to it; else `InvalidRequest("webhook-url-…")`.
    `server` is the `host:port` the server was asked at (refused as a target)."""
    if len(url) > URL_MAX_CHARS:
        raise WebhookUrlRefused("webhook-url-scheme", url=url[:80])
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlRefused("webhook-url-scheme", url=url)
    host = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookUrlRefused("webhook-url-scheme", url=url) from None
    if server is not None and server.lower() in (f"{host}:{port}", host if port in (80, 443)
                                                 else ""):
        raise WebhookUrlRefused("webhook-url-self", url=url)
    if host in METADATA_HOSTS:
        raise WebhookUrlRefused("webhook-url-private", url=url, host=host)
    found = addresses_of(host)
    if any(str(a) in METADATA_HOSTS for a in found):
        raise WebhookUrlRefused("webhook-url-private", url=url, host=host)
    if allow_private:
        return url
    if host == "localhost" or host.endswith(".localhost"):
        raise WebhookUrlRefused("webhook-url-private", url=url, host=host)
    if not found:
        raise WebhookUrlRefused("webhook-url-unresolved", url=url, host=host)
    if not all(_public(a) for a in found):
        raise WebhookUrlRefused("webhook-url-private", url=url, host=host)
    return url
