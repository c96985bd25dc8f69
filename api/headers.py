"""Headers every response of the service carries unless its route set its own (the error
answers get them from `errors.error_response`, which also makes the one no middleware of the
app sees: a 500), and the request's id (`requestid`), which every response names.

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

from .requestid import HEADER, REQUEST_ID, request_id

DEFAULTS = {"cache-control": "no-store", "x-content-type-options": "nosniff",
            "content-security-policy": "frame-ancestors 'none'", "x-frame-options": "DENY"}


class DefaultHeadersMiddleware:
    """Adds `DEFAULTS` to each HTTP response that lacks them, and gives each request its id
    (`requestid`), which the response names (pure ASGI: bodies stream through). The id is not
    reset when the request ends: a 500 is answered by Starlette outside every middleware, in
    the request's own task, and `errors.error_response` reads the id there."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope["headers"])
        REQUEST_ID.set(rid)

        async def send_with_defaults(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULTS.items():
                    if name not in headers:
                        headers.append(name, value)
                headers[HEADER] = rid
            await send(message)

        await self.app(scope, receive, send_with_defaults)
