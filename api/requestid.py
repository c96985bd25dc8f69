"""Each request's id, to tie what a client saw to what the service logged: the client's
``X-Request-ID`` when it sends a usable one (a proxy's, a crawler's own), else a new one. It is
sent back on every response, errors included, and named in the log lines a request causes: a
cleaning process killed for a document over the time limit, or one that died on it, was
logged with no way to tell which request (or page) it was.

An id is used as sent only when it is short and made of the characters ids are made of: it is
written into the log, where a newline or an escape sequence from a client would forge lines.
`headers.DefaultHeadersMiddleware` gives each request its id and puts it on the response.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "x-request-id"

#: the id of the request being answered (each request runs in a task of its own, so one
#: request's id is never another's); None outside a request
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

_USABLE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's id when usable (`_USABLE`), else a new one (32 hex digits)."""
    for name, value in headers:
        if name.lower() == HEADER.encode():
            given = value.decode("latin-1")
            if _USABLE.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex
