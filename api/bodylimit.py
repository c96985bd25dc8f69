"""Refuse request bodies over the size limit before they are read into memory, and undo their
content coding.

The library checks a document's size too, but only after the whole body has been received and
decoded; a client could make the service buffer gigabytes first. This middleware answers 413 as
soon as the declared length (``Content-Length``) or the bytes actually received (chunked
uploads) pass the limit, whatever the method: a ``GET`` may carry a body too (200 MB of one
passed unchecked to ``GET /v1/examples``). A body sent with ``Content-Encoding: gzip`` or
``deflate`` (what a crawler that keeps responses compressed sends) is decompressed here, up to
the same limit, so that every endpoint, JSON ones included, reads the body it was meant to;
another coding (``br``, ``zstd``) is refused with 415 rather than read as if it were plain.
"""

from __future__ import annotations

import contextlib

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from filter.decoding import inflate

from .errors import error_response

#: content codings undone here, with zlib's window bits for each (deflate: zlib-wrapped, as
#: RFC 9110 says; raw deflate, which some clients send, is tried next)
_CODINGS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
#: most codings undone on one body ("gzip, gzip" from a proxy that compresses again; each is
#: held to the limit, and a longer list is no client's)
_MOST_CODINGS = 3


class _Refused(Exception):
    """A body that cannot be handed on: becomes the JSON error response with `status`."""

    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
        pool = getattr(getattr(scope.get("app"), "state", None), "pool", None)
        try:
            async with pool.receiving() if pool is not None else contextlib.nullcontext():
                while True:
                    message = await receive()
                    if message["type"] != "http.request":  # the client went away
                        return
                    chunk = message.get("body", b"")
                    received += len(chunk)
                    if received > self.limit:
                        break
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:  # the shutdown's grace period is nearly over (`pool.receiving`):
            # a client still sending its body then had its request cancelled by uvicorn, a
            # plain-text 500 and an "Exception in ASGI application" traceback in the log
            await error_response(
                503, "not_ready", "the service is shutting down and the request body was not "
                "received in time; retry (on another instance)",
                {"Connection": "close"})(scope, receive, send)
            return
        if received > self.limit:
            await self._too_large(scope, receive, send, f"more than {self.limit:,} bytes")
            return
        body = b"".join(chunks)
        header = dict(scope["headers"]).get(b"content-encoding", b"").decode("latin-1").lower()
        # a list, in the order the codings were applied (RFC 9110, 8.4): "identity, gzip" too
        codings = [c.strip() for c in header.split(",") if c.strip() not in ("", "identity")]
        if codings and body:  # a GET, HEAD: nothing to decode
            try:  # in a thread: inflating up to the limit takes a tenth of a second or more
                body = await anyio.to_thread.run_sync(self._undone, body, codings, header.strip())
            except _Refused as err:
                await error_response(err.status, err.error, err.detail)(scope, receive, send)
                return
            headers = [(k, v) for k, v in scope["headers"]
                       if k not in (b"content-encoding", b"content-length")]
            scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for a disconnect, as Starlette expects

        await self.app(scope, replay, send)

    def _undone(self, body: bytes, codings: list[str], header: str) -> bytes:
        """The body without its content codings, the last applied undone first. Each is checked
        before any work: a coding not undone here, or more of them than a client applies, is
        refused whole."""
        if any(c not in _CODINGS for c in codings) or len(codings) > _MOST_CODINGS:
            raise _Refused(415, "unsupported_media_type", f"Content-Encoding {header!r} is not "
                           "supported; send the body as it is, or gzip or deflate it")
        for coding in reversed(codings):
            body = self._decoded(body, coding)
        return body

    def _decoded(self, body: bytes, coding: str) -> bytes:
        """The body without one content coding, at most `limit` bytes of it (every member of a
        gzip body: reading only the first cut the page without a word)."""
        problem = ""
        for wbits in (_CODINGS[coding], -15) if coding == "deflate" else (_CODINGS[coding],):
            try:
                plain = inflate(body, coding, wbits, self.limit, partial_ok=False)
            except ValueError as err:
                problem = problem or str(err)
                continue
            if len(plain) > self.limit:
                raise _Refused(413, "payload_too_large", self._too_large_detail(
                    f"more than {self.limit:,} bytes once decompressed"))
            return plain
        raise _Refused(400, "bad_request", f"the body is not valid {coding} data ({problem})")

    def _too_large_detail(self, size: str) -> str:
        return (f"the request body is {size}, over the limit of {self.limit:,} bytes "
                "(--max-body-bytes / NOISEFILTER_MAX_BODY_BYTES; by default 3 x --max-bytes "
                "+ 64 KiB)")

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        """Answer 413 with the body unread, and close the connection: the rest of the body the
        client goes on sending was read as its next request, and a request sent after it on
        the same connection was never answered."""
        await error_response(413, "payload_too_large", self._too_large_detail(size),
                             {"Connection": "close"})(scope, receive, send)
