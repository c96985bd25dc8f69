"""`POST /v1/clean` and `POST /v1/clean/batch`: documents in, clean text out.

The work happens in the pool's processes; these handlers only parse, wait and map outcomes to
responses. A crawler can post a page exactly as it fetched it (``text/html`` body, any charset)
without wrapping it in JSON; JSON carries the same options for clients that prefer it.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from filter import NoiseFilterError
from filter.decoding import decode, header_charset, size_error
from filter.extract import check_url

from .deps import (
    MetricsDep, ParsedJsonRoute, PoolDep, QueryFlag, SettingsDep, check_json_structures,
    is_json, media_type, parse_json_body, require_json,
)
from .errors import ApiError, describe_validation, documented, error_response, outcome_status
from .metrics import Metrics
from .pool import CleaningPool, Outcome
from .schemas import (
    PRECISION, BatchRequest, BatchResponse, CleanRequest, CleanResponse, DecodedPage,
    HtmlDocument, InvalidDocument, TextDocument,
)
from .settings import Settings
from .worker import Job

router = APIRouter(tags=["clean"])


class BatchRoute(ParsedJsonRoute):
    """The batch endpoint's route: a batch of more than `--max-batch` documents is refused
    before FastAPI validates its documents."""

    @staticmethod
    def check(data, request: Request) -> None:
        documents = data.get("documents") if isinstance(data, dict) else None
        limit = request.app.state.settings.max_batch
        if isinstance(documents, list) and len(documents) > limit:
            raise _too_many(len(documents), limit)


def _too_many(count: int, limit: int) -> ApiError:
    return ApiError(422, "invalid_input", f"{count} documents in one batch, over the limit of {limit}")


_document = TypeAdapter(CleanRequest)
#: objects and arrays the JSON body of one document may open: it needs one
MAX_DOCUMENT_STRUCTURES = 1_000

_INVALID = ("The input is not a cleanable document, or cleaning it took longer than the time "
            "limit (`document_timeout`).")
_CRASHED = "The cleaning process failed on this document; it has been replaced."
_BUSY = "No cleaning process became free in time; retry later."

_CLEAN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/HtmlDocument"},
                                                  {"$ref": "#/components/schemas/TextDocument"}]}},
        # bytes as they are: a page in any charset (the header's, else its own declaration)
        "text/html": {"schema": {"type": "string", "format": "binary"},
                      "example": "<html><body><p>…</p></body></html>"},
        "text/plain": {"schema": {"type": "string", "format": "binary"}},
    },
}
#: `/v1/decode` takes the page as `/v1/clean` takes a raw one (without it in the schema, a
#: generated client sent no body and got 415)
_DECODE_BODY = {"required": True, "content": {"text/html": _CLEAN_BODY["content"]["text/html"]}}


def _precision(given: bool | None, settings: Settings) -> bool:
    """A document's `favor_precision`, else the service's (`serve --favor-precision`)."""
    return settings.favor_precision if given is None else given


def _job(doc: HtmlDocument | TextDocument, settings: Settings) -> Job:
    precise = _precision(doc.favor_precision, settings)
    if isinstance(doc, HtmlDocument):
        return Job("html", doc.html, doc.url, doc.blocks, favor_precision=precise)
    return Job("text", doc.text, None, doc.blocks, favor_precision=precise)


def _over_the_limit(job: Job, max_bytes: int) -> Outcome | None:
    """The library's own answer (`InputTooLarge`, same message) to a document over `max_bytes`,
    given here: the body limit is three times `max_bytes` (for labelled pages), and such a
    document would otherwise wait for a cleaning process and be copied into it only to be
    refused there (30 bodies of 28 MB at once took the HTTP process to 2.5 GB). A document
    in bytes is a raw body, counted as received (`_raw_job`)."""
    too_large = size_error(job.document, max_bytes,
                           text=job.kind == "text" and isinstance(job.document, str))
    return None if too_large is None else Outcome(error="InputTooLarge", detail=str(too_large))


async def _run(pool: CleaningPool, metrics: Metrics, job: Job, request: Request) -> Outcome:
    outcome = (_over_the_limit(job, pool.max_bytes)
               or await pool.clean(job, gone=request.is_disconnected))
    metrics.cleaned(job.kind, "ok" if outcome.error is None else outcome_status(outcome.error)[1],
                    outcome.seconds, outcome.result, keep=pool.info.labels[0])
    return outcome


def _json_document(body: bytes) -> HtmlDocument | TextDocument:
    """The JSON body of `/v1/clean`, read as FastAPI reads the batch endpoint's (`json.loads`),
    so that a document gets the same answer alone and in a batch: a lone surrogate escape
    (``"\\udc80"``, which JavaScript and Python clients write) reaches the library, which makes
    it U+FFFD, where pydantic's own JSON parser would refuse the whole body."""
    check_json_structures(body, MAX_DOCUMENT_STRUCTURES)
    try:
        data = parse_json_body(body)
    except ValueError as err:  # not JSON, or not in a Unicode encoding
        raise ApiError(422, "invalid_input", f"the body is not valid JSON: {err}") from None
    except RecursionError:  # arrays or objects nested thousands deep
        raise ApiError(422, "invalid_input", "the body is not a document: its JSON is nested "
                                             "too deeply") from None
    if isinstance(data, dict) and "html" in data and "text" in data:
        raise ApiError(422, "invalid_input", "a document has 'html' or 'text', not both")
    try:
        return _document.validate_python(data)
    except ValidationError as err:
        # the first part of each location is the union's tag ("html" or "text"); the client
        # knows the place as the body's
        errors = [{**e, "loc": ("body", *e["loc"][1:])} for e in err.errors()]
        raise ApiError(422, "invalid_input", describe_validation(errors)) from None


def _raw_job(request: Request, media: str, body: bytes, url: str | None, blocks: bool,
             favor_precision: bool = False) -> Job:
    """A raw body as a job: its bytes, with the charset its header names, for the cleaning
    process to read them in (`Cleaner.clean`, `Cleaner.clean_text`), held to `max_bytes` as
    received. A page decoded here and counted in UTF-8 was refused in a legacy charset over
    about half the limit (Cyrillic in windows-1251), and so was plain text, which was decoded
    here too; handing a page's bytes on without the label left the charset to a guess (Polish
    came out as mojibake). Decoding came first, on the event loop, and 30 MB held it (and
    ``/healthz``) for 30 s only to be refused; in the cleaning process it is under the time
    limit."""
    kind = "html" if media == "text/html" else "text"
    if kind == "text" and url is not None and url.strip():  # `?url=` is none, as in the library
        raise ApiError(422, "invalid_input", "'url' applies to HTML; plain text has no links to resolve")
    return Job(kind, body, url, blocks, header_charset(request.headers.get("content-type")),
               favor_precision)


@router.post(
    "/v1/clean", response_model=None, openapi_extra={"requestBody": _CLEAN_BODY},
    responses={200: {"model": CleanResponse, "description": "The cleaned document."},
               **documented(400, 413, 415, 422, 500, 503, s422=_INVALID, s500=_CRASHED, s503=_BUSY)},
    summary="Clean one document",
)
async def clean(
    request: Request, pool: PoolDep, metrics: MetricsDep, settings: SettingsDep,
    url: Annotated[str | None, Query(max_length=4096, description="For a raw text/html body "
                                     "only (with JSON it goes in the body): the page's address, "
                                     "used to resolve links (never fetched).")] = None,
    blocks: Annotated[QueryFlag, Query(description="For a raw body only (with JSON it goes in "
                                       "the body): `true` returns every block with its label "
                                       "and score.")] = None,
    favor_precision: Annotated[QueryFlag, Query(description="For a raw body only (with JSON it "
                                                "goes in the body): " + PRECISION)] = None,
) -> JSONResponse:
    """Send a page as JSON (`{"html": ..., "url": ..., "blocks": true}` or `{"text": ...}`) or as
    the raw body: `text/html` in any charset (the header's `charset`, else the page's own
    declaration) or `text/plain` (UTF-8 unless the header says otherwise)."""
    media = media_type(request)
    if media not in ("text/html", "text/plain") and not is_json(media):
        raise ApiError(415, "unsupported_media_type", f"send application/json, text/html or "
                                                      f"text/plain, not {media or 'no content type'}")
    body = await request.body()
    if is_json(media):
        if url is not None or blocks is not None or favor_precision is not None:
            raise ApiError(422, "invalid_input", "with a JSON body, give 'url', 'blocks' and "
                                                 "'favor_precision' in the body, not in the query")
        job = _job(_json_document(body), settings)
    else:
        job = _raw_job(request, media, body, url, bool(blocks), _precision(favor_precision, settings))
    outcome = await _run(pool, metrics, job, request)
    if outcome.result is not None:
        return JSONResponse(outcome.result)
    return error_response(*outcome_status(outcome.error), outcome.detail)


@router.post(
    "/v1/decode", response_model=None, openapi_extra={"requestBody": _DECODE_BODY},
    responses={200: {"model": DecodedPage, "description": "The page as text."},
               **documented(400, 413, 415, 422)},
    summary="Read a page's bytes as the library reads them",
)
async def decode_page(
    request: Request, pool: PoolDep,
    url: Annotated[str | None, Query(max_length=4096, description="The page's address: its "
                                     "country domain hints at the charset of a page that "
                                     "declares none (never fetched).")] = None,
) -> JSONResponse:
    """A raw `text/html` body in any charset, decoded as `clean` decodes it (the charset the
    header names, else a byte-order mark, the page's own declaration, else as browsers read an
    undeclared page), for a client that keeps the text it cleans: the labelling page decoded
    files itself, by a simpler rule, and a windows-1251 page declaring nothing was labelled,
    stored and trained on as mojibake while `clean` read the same bytes right. (Read without
    its header's charset, an iso-8859-2 page came back as mojibake here too.)"""
    if media_type(request) != "text/html":
        raise ApiError(415, "unsupported_media_type", "send the page's bytes as text/html")
    job = _raw_job(request, "text/html", await request.body(), url, False)
    try:
        # refused as `/v1/clean` refuses it: the labelling page cleans what it decoded here
        url = (check_url(url) or None) if url is not None else None
        html = await anyio.to_thread.run_sync(decode, job.document, pool.max_bytes, url,
                                              job.charset, limiter=request.app.state.decodes)
    except NoiseFilterError as err:
        return error_response(*outcome_status(type(err).__name__), str(err))
    return JSONResponse({"html": html})


async def clean_batch(batch: BatchRequest, request: Request, pool: PoolDep, metrics: MetricsDep,
                      settings: SettingsDep) -> JSONResponse:
    """Documents are cleaned in parallel on the pool; one that fails does not fail the others:
    each item has the status it would have had alone."""
    if len(batch.documents) > settings.max_batch:  # checked before validation too (`BatchRoute`)
        raise _too_many(len(batch.documents), settings.max_batch)
    # no more of a batch's documents queue for a process than there are processes: the queue
    # timeout is for waiting on other clients, not on the batch's own earlier documents
    slots = asyncio.Semaphore(pool.size)

    async def one(i: int, doc) -> Outcome:
        if isinstance(doc, InvalidDocument):
            errors = [{**e, "loc": ("body", "documents", i, *e["loc"])} for e in doc.errors]
            return Outcome(error="InputError", detail=describe_validation(errors))
        async with slots:
            return await _run(pool, metrics, _job(doc, settings), request)

    outcomes = await asyncio.gather(*(one(i, d) for i, d in enumerate(batch.documents)))
    results = []
    for outcome in outcomes:
        if outcome.result is not None:
            results.append({"status": 200, "result": outcome.result})
        else:
            status, code = outcome_status(outcome.error)
            results.append({"status": status, "error": code, "detail": outcome.detail})
    return JSONResponse({"results": results})


# a route of `router` with its own route class (not a router included in it: the metrics
# could not name what such a router answered before routing, a body over the limit)
router.add_api_route(
    "/v1/clean/batch", clean_batch, methods=["POST"], route_class_override=BatchRoute,
    response_model=None, dependencies=[Depends(require_json)],
    responses={200: {"model": BatchResponse, "description": "One result or error per document."},
               **documented(400, 413, 415, 422)},
    summary="Clean several documents",
)
