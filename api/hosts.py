"""The `Host` check of a service that listens on a loopback address only.

Such a service (`noisefilter label` on a workstation, usually without an API key) is out of
other machines' reach, but not of the web pages its user's browser opens: by DNS rebinding, a
page from a name the attacker controls has that name resolve to 127.0.0.1 and then reads and
writes the service as its own origin (the example store, a model reload). The browser still
sends the attacker's name in `Host`, so a loopback service answers only requests addressed to
a loopback name or address. A service on any other address is meant to be reached by other
names (a proxy, a DNS name) and is not checked: its protection is the API key.
"""

from __future__ import annotations

import ipaddress

from .errors import error_response

#: names that always mean this machine (RFC 6761: every name under .localhost does)
_LOCAL_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether a listening address or a `Host` name is this machine's loopback."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    """The name or address of a `Host` header, without its port (``[::1]:8000`` -> ``[::1]``).
    A bracketed address followed by anything but a port is returned whole (``[::1].evil.com``
    is no loopback address)."""
    if header.startswith("["):
        end = header.find("]") + 1
        rest = header[end:]
        if end and (not rest or (rest[0] == ":" and (rest[1:].isdigit() or not rest[1:]))):
            return header[:end]
        return header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class LoopbackHostMiddleware:
    """Refuses (421) a request whose `Host` is neither a loopback name or address nor one of
    `also` (names the operator allowed: a proxy on this machine may pass the public name on)."""

    def __init__(self, app, also: tuple[str, ...] = ()):
        self.app = app
        self.also = frozenset(name.lower() for name in also)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            header = dict(scope["headers"]).get(b"host")
            name = _host_name(header.decode("latin-1")) if header is not None else None
            # a request without a Host header (HTTP/1.0 health checkers) is answered: the check
            # is against pages in a browser, which always sends one, and no setting allowed it
            if name is not None and not (is_loopback(name) or name.lower() in self.also):
                response = error_response(
                    421, "misdirected_request", "this service listens on a loopback address and "
                    "answers only requests addressed to localhost, 127.0.0.1 or [::1] (the Host "
                    "header; a page that renamed 127.0.0.1 must not reach it); a proxy on this "
                    "machine that passes another name on needs it in --allowed-hosts")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
