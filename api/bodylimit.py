"""Refuse request bodies over the size limit before they are read into memory.

The library checks a document's size too, but only after the whole body has been received and
decoded; a client could make the service buffer gigabytes first. This middleware answers 413 as
soon as the declared length (``Content-Length``) or the bytes actually received (chunked
uploads) pass the limit, and otherwise hands the body on unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

_NO_BODY = {"GET", "HEAD", "OPTIONS", "DELETE"}


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await error_response(400, "bad_request", "Content-Length is not a number")(scope, receive, send)
                return
            if size > self.limit:
                await self._too_large(scope, receive, send, f"{size:,} bytes")
                return
        chunks, received = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.limit:
                await self._too_large(scope, receive, send, f"more than {self.limit:,} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for a disconnect, as Starlette expects

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        detail = (f"the request body is {size}, over the limit of {self.limit:,} bytes "
                  f"(set by --max-body-bytes / NOISEFILTER_MAX_BODY_BYTES)")
        await error_response(413, "payload_too_large", detail)(scope, receive, send)
