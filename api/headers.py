"""Headers every response of the service carries unless its route set its own (the error
answers get them from `errors.error_response`, which also makes the ones no middleware of the
app sees: a 500, a 421).

The answers hold the text of the pages clients sent and the labels of the example store, so no
cache between the service and its clients may keep them (``Cache-Control: no-store``: a shared
proxy could keep `GET /v1/examples` for the next client), no browser may read a JSON error that
echoes a client's input as a page of another type (``X-Content-Type-Options: nosniff``), and
no other site may frame a page of the service (``frame-ancestors 'none'``: `/docs`, whose
buttons send requests, could be framed for clickjacking). The labelling page's files set
their own caching and policy (`label.SECURITY_HEADERS`).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULTS = {"cache-control": "no-store", "x-content-type-options": "nosniff",
            "content-security-policy": "frame-ancestors 'none'", "x-frame-options": "DENY"}


class DefaultHeadersMiddleware:
    """Adds `DEFAULTS` to each HTTP response that lacks them (pure ASGI: bodies stream through)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULTS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_defaults)
