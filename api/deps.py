"""FastAPI dependencies: the app's settings, pool, metrics and example store, the API key check
(a route class, `KeyedRoute`), the content-type check of JSON endpoints, and the refusal of
query parameters an endpoint does not take.

Endpoints reach shared objects only through these, so a test can build an app with other
settings (`create_app(settings)`) and nothing is a module-level global. The ones that cannot
block are coroutines, so FastAPI does not send them to a thread; opening the store may wait on
SQLite, so that one stays a plain function (FastAPI runs it in a thread).
"""

from __future__ import annotations

import hmac
import json
import re
import threading
from typing import Annotated, Any, Callable, Coroutine
from urllib.parse import unquote

import anyio
from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader
from pydantic import BeforeValidator

from train.store import ExampleStore, StoreError

from .errors import ApiError
from .metrics import Metrics
from .pool import CleaningPool
from .settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_pool(request: Request) -> CleaningPool:
    return request.app.state.pool


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


#: the key's header, as a dependency only for the OpenAPI schema (which then says which
#: endpoints take a key); `KeyedRoute` checks it
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False,
    description="Needed by write endpoints when the service has NOISEFILTER_API_KEY set.")


class KeyedRoute(APIRoute):
    """A route that needs the service's key (compared in constant time), checked before FastAPI
    reads the body: a client without the key is told that (401), not what was wrong with its
    JSON. Without a configured key the service is open, as on a developer's machine.

    A browser's request made by another site's page is refused (403) whatever the key: its
    `Sec-Fetch-Site` says so. A page can send a POST without a body and without a preflight, and
    without a key that switched the model of a service on localhost (`noisefilter label`) to
    whatever its folder's ACTIVE names. Programs send no such header; the labelling page's own
    requests are ``same-origin``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def keyed(request: Request) -> Response:
            site = request.headers.get("sec-fetch-site")
            if site not in (None, "same-origin", "none"):
                raise ApiError(403, "forbidden", f"a request from another site's page is refused "
                                                 f"here (Sec-Fetch-Site: {site[:40]})")
            expected = request.app.state.settings.api_key
            given = request.headers.get("x-api-key")
            if expected is not None and (
                    given is None or not hmac.compare_digest(given.encode(), expected.encode())):
                raise ApiError(401, "unauthorized", "this endpoint needs the service's API key "
                                                    "in the X-API-Key header.")
            return await handle(request)

        return keyed


#: what lies between two objects or arrays: JSON strings, escapes and all, and anything else
#: but a ``{`` or ``[``, in one match however many strings it holds. Possessive, so no
#: backtracking on a page-long string; a string runs to the end of the body if unterminated
#: (a lone backslash last included): a string that had to end in ``"`` failed at its end, and
#: the scan started again at each ``"`` inside it (``\\"`` 40,000 times, 80 KB: 19 s of event
#: loop); the structures after an unterminated string need no counting, as `json.loads` stops
#: at that string. Stripping each string on its own (a match and a copy per string) took 2 s
#: for 28 MB of 7 million ``"{"``, one array under every limit, before the body was parsed.
_BETWEEN_STRUCTURES = re.compile(rb'(?:"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[^"{\[]++)*+', re.S)


def check_json_structures(body: bytes, limit: int) -> None:
    """Refuse (413) a JSON body that opens more than `limit` objects and arrays. `json.loads`
    holds the GIL, and so the event loop, whatever thread it runs in: 10 million ``{}`` in a
    30 MB body took 1 s and 1 GB before any check on what they were. Objects and arrays are
    counted outside strings (the braces of a page's own scripts do not count), and only when the
    plain count of braces and brackets, which bounds them, is over the limit: no scan for the
    usual body. A body in UTF-16 or UTF-32, which `json.loads` reads too, is scanned in UTF-8:
    scanned as bytes, one character whose code holds a ``"`` byte (U+2200) hid the 200,000
    arrays after it."""
    if body.count(b"{") + body.count(b"[") <= limit:
        return
    encoding = json.detect_encoding(body)
    if encoding not in ("utf-8", "utf-8-sig"):
        try:
            body = body.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")
        except UnicodeDecodeError:  # not JSON: `json.loads` refuses it
            return
    # from one object or array to the next: at most `limit` + 1 steps, each a scan in C. No
    # exact count past the limit: counting them all (a pass over every string of the body) cost
    # 3 s of event loop for 1,001 `{}` followed by 7 million `"{"`
    at, found, end = 0, 0, len(body)
    while found <= limit:
        at = _BETWEEN_STRUCTURES.match(body, at).end()
        if at >= end:
            return
        found, at = found + 1, at + 1
    raise ApiError(413, "payload_too_large", f"the JSON body opens more than {limit:,} objects "
                   "and arrays, the limit for this endpoint")


#: the fields one object of a request body may have: no request takes more than a dozen
MAX_OBJECT_FIELDS = 100


def parse_json_body(body: bytes, limit: int = MAX_OBJECT_FIELDS) -> Any:
    """`json.loads` of a request body, refusing (422) one holding an object of more than `limit`
    fields. Each unknown field is an error of its own, and validation lists them on the event
    loop: one object of a million fields, a 10 MB body sent without a key, held the service
    (``/healthz`` too) for 10 s and took it to 4.5 GB, and was answered with a 44 MB list of
    them. Counted as each object is parsed (its fields as given, a key given twice too), at a
    cost per object: a walk of the parsed body afterwards visited every value in Python, and
    a 28 MB array of 14 million numbers (one array: under every structure limit) held the
    event loop for 2.6 s on top of its 0.8 s parse."""

    def fields(pairs: list) -> dict:
        if len(pairs) > limit:
            raise ApiError(422, "invalid_input", f"an object of the body has {len(pairs):,} "
                           f"fields, over the {limit} any request may give")
        return dict(pairs)

    return json.loads(body, object_pairs_hook=fields)


class ParsedJsonRoute(APIRoute):
    """A route whose JSON body is parsed in a thread, not on the event loop, and sized up by
    `check(data, request)` (raising `ApiError`) before FastAPI validates it.

    FastAPI validates a body on the event loop, a Python call and a few objects per item: a
    29 MB batch of 2.4 million ``{"text": ""}`` documents held it (``/healthz`` too) for 19 s
    and took 1.9 GB before its count was checked; 850,000 labelled blocks in one examples
    request, 4 s. A check on the parsed body refuses such a request before that. FastAPI then
    reads the parsed body where `Request.json()` keeps it (Starlette's ``_json``) rather than
    parsing it again; a malformed body is answered as `/v1/clean` answers it. A route that
    takes no body (`GET /v1/examples`) leaves whatever body a request carries unread."""

    #: objects and arrays a body may open (`check_json_structures`)
    max_structures = 100_000

    @staticmethod
    def check(data: Any, request: Request) -> None:
        """Raise an `ApiError` for a body too large to validate; a subclass says what that is."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        if self.body_field is None:
            return handle

        async def parsed(request: Request) -> Response:
            if is_json(media_type(request)):
                body = await request.body()
                check_json_structures(body, self.max_structures)
                try:
                    data = await anyio.to_thread.run_sync(parse_json_body, body) if body else None
                except ValueError as err:  # not JSON, or not in a Unicode encoding: FastAPI's
                    # own answer named a character offset as a field ("body.13: JSON decode error")
                    raise ApiError(422, "invalid_input", f"the body is not valid JSON: {err}") from None
                except RecursionError:  # FastAPI's own parse says only "error parsing the body"
                    raise ApiError(422, "invalid_input", "the body's JSON is nested too deeply "
                                   "to be read: arrays or objects about 1,000 levels inside "
                                   "each other") from None
                else:
                    request._json = data
                self.check(data, request)
            return await handle(request)

        return parsed


def _true_or_false(value):
    """`true` or `false`, as in a JSON body: FastAPI's own reading of a query flag also takes
    `yes`, `on` and `1`, which the JSON body refuses as mistakes."""
    if isinstance(value, str) and value.lower() not in ("true", "false"):
        raise ValueError("must be true or false")
    return value


#: a query flag (`?blocks=true`), `true` or `false` in any case and nothing else
QueryFlag = Annotated[bool | None, BeforeValidator(_true_or_false)]


def answer_head(router: APIRouter) -> None:
    """HEAD wherever `router` answers GET (RFC 9110): monitors, link checkers and load
    balancers probe `/metrics`, `/v1/model` and the health probes so too, and got 405. The same
    answer without its body (the server sends none), through the same checks (the key, the
    query); one operation each in the schema. Called once per router, when its module has
    defined every route."""
    for route in list(router.routes):
        if isinstance(route, APIRoute) and route.methods == {"GET"}:
            # the route's own dependencies: the router adds its own again
            own = route.dependencies[len(router.dependencies):]
            router.add_api_route(route.path, route.endpoint, methods=["HEAD"], response_model=None,
                                 dependencies=own, include_in_schema=False, name=route.name,
                                 route_class_override=type(route))


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(media: str) -> bool:
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def require_json(request: Request) -> None:
    """JSON endpoints answer 415 to any other content type, and to a body sent without one
    (what ``requests.post(url, data=json.dumps(...))`` does): FastAPI alone would answer 422,
    which hides the real mistake. A request without a body and without a content type is let
    through: the body model then decides whether that is valid. The body is looked at, not its
    headers (an empty chunked one, or `Content-Length: 00`, was "a body"); it has been read
    within the limit already (`BodyLimitMiddleware`)."""
    media = media_type(request)
    has_body = bool(await request.body())
    if media and not is_json(media):
        raise ApiError(415, "unsupported_media_type", f"this endpoint takes application/json, "
                                                      f"not {media}")
    if not media and has_body:
        raise ApiError(415, "unsupported_media_type", "this endpoint takes application/json; the "
                                                      "request has a body but no Content-Type")


async def known_query(request: Request) -> None:
    """Refuse query parameters the endpoint does not take (422). A misspelt option
    (``?block=true``, ``?URL=…``, ``?revieved=false``) was ignored without a word, and the client
    took the answer for the one it asked for, as a misspelt JSON field is refused."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = getattr(route, "_query_names", None)
    if known is None:
        names, todo = set(), [route.dependant]
        while todo:  # the endpoint's parameters and those of its dependencies
            dependant = todo.pop()
            names.update(p.alias for p in dependant.query_params)
            todo.extend(dependant.dependencies)
        known = route._query_names = frozenset(names)
    unknown = sorted(set(request.query_params) - known)
    twice = sorted(name for name in known if len(request.query_params.getlist(name)) > 1)
    if twice and not unknown:  # "?blocks=true&blocks=false" answered as the last one said
        raise ApiError(422, "invalid_input", f"query parameter {twice[0]!r} is given "
                       f"{len(request.query_params.getlist(twice[0]))} times: give it once")
    if unknown:
        takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
        if "url" in known and _cut_from_url(request.url.query, unknown):
            takes += " (a '&' in a url's value starts another parameter: percent-encode the value)"
        raise ApiError(422, "invalid_input", f"unknown query parameter"
                       f"{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: {takes}")


def _cut_from_url(query: str, unknown: list[str]) -> bool:
    """Whether an unknown query parameter looks cut from an unencoded `url` value: it follows
    ``url=`` and that value holds a "?" (``?url=https://a.org/?id=1&page=2``), not a misspelt
    option beside a url (``?url=https://a.org/1&block=true``)."""
    names = [pair.partition("=")[0] for pair in query.split("&")]
    values = [pair.partition("=")[2] for pair in query.split("&")]
    if "url" not in names:
        return False
    at = names.index("url")
    return "?" in unquote(values[at]) and any(name in unknown for name in map(unquote, names[at + 1:]))


#: threads for the example store's saves, and for its reads and its opening, apart from the
#: 40 AnyIO shares among FastAPI's plain handlers and dependencies (/v1/clean/batch,
#: /v1/decode, the labelling page's files): 40 saves waiting for SQLite's write lock (up to its
#: 60 s, behind a long `store import`), or 40 requests waiting to open a store locked so, held
#: them all, and every such endpoint waited with them. SQLite writes one at a time anyway.
STORE_WRITES = anyio.CapacityLimiter(4)
STORE_READS = anyio.CapacityLimiter(8)


class StoreHolder:
    """Opens the example store on first use: a service used only for cleaning never creates
    the file, and a store that cannot be opened fails only the example endpoints. A store
    whose file has gone since (moved away to start a new round of labelling, deleted) is
    opened again, which creates it as on first use: each request connects to the path anew,
    and SQLite made an empty file there, so that every example request answered 503 "no
    such table: pages" until the service was restarted."""

    def __init__(self, path):
        self.path = path
        self._store: ExampleStore | None = None
        self._lock = threading.Lock()

    def get(self) -> ExampleStore:
        """The store, opened again when its file has gone. Called in a thread: even the stat
        of a store opened before holds its caller while a network mount hangs, and on the
        event loop it held every request of the service."""
        store = self._store
        if store is not None and store.path.exists():
            return store
        with self._lock:
            if self._store is None or not self._store.path.exists():
                self._store = ExampleStore(self.path)
            return self._store


async def get_store(request: Request) -> ExampleStore:
    """The store, in a thread of `STORE_READS` (opening it waits for the write lock another
    program may hold; `StoreHolder.get`)."""
    holder: StoreHolder = request.app.state.store
    try:
        return await anyio.to_thread.run_sync(holder.get, limiter=STORE_READS)
    except (StoreError, OSError) as err:
        raise ApiError(503, "store_unavailable", f"the example store cannot be opened: {err}") from err


SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[CleaningPool, Depends(get_pool)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
StoreDep = Annotated[ExampleStore, Depends(get_store)]
