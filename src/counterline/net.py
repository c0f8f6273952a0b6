"""Where a request comes from: the connection's address, or a trusted proxy's word for it."""

from __future__ import annotations

import ipaddress

from starlette.requests import HTTPConnection

from counterline.config import Settings


def client_ip(connection: HTTPConnection, settings: Settings) -> str:
    """The client's IP. X-Forwarded-For counts only when the peer is a trusted proxy;
    then the nearest address in the chain that is not itself a trusted proxy wins."""
    peer = connection.client.host if connection.client else ""
    if not settings.trusted_proxy_networks or not _is_trusted(peer, settings):
        return peer or "unknown"
    chain = [peer]
    forwarded = connection.headers.get("x-forwarded-for", "")
    chain = [part.strip() for part in forwarded.split(",") if part.strip()] + chain
    for address in reversed(chain):
        if not _is_trusted(address, settings):
            return address if _is_ip(address) else peer
    return chain[0] if _is_ip(chain[0]) else peer


def request_scheme(connection: HTTPConnection, settings: Settings) -> str:
    """``http`` or ``https`` as the browser sees it: a trusted proxy's X-Forwarded-Proto,
    else the connection's own scheme (a WebSocket's ``ws``/``wss`` count as http/https)."""
    peer = connection.client.host if connection.client else ""
    if settings.trusted_proxy_networks and _is_trusted(peer, settings):
        forwarded = connection.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if forwarded in ("http", "https"):
            return forwarded
    return "https" if connection.url.scheme in ("https", "wss") else "http"


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, settings: Settings) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.trusted_proxy_networks)
