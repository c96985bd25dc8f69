"""One error shape for everything: ``{"error": code, "detail": message}`` with the right status.

Clients (crawlers, mostly) branch on `error`, a stable snake_case code, and log `detail`. FastAPI
and Starlette answer some errors themselves (unknown route, bad query parameter, invalid JSON);
the handlers here give those the same shape, so no response of the service is ever HTML or
FastAPI's default ``{"detail": [...]}``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from . import pool
from .headers import DEFAULTS
from .requestid import HEADER, REQUEST_ID
from .schemas import ErrorResponse

LOGGER = logging.getLogger("noisefilter.api")

#: codes for statuses that Starlette or FastAPI raise on their own
_STATUS_CODES = {
    401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "invalid_input", 500: "internal_error", 503: "unavailable",
}

#: outcome of a cleaning job (library exception name or pool code) -> (status, code)
OUTCOME_STATUS = {
    "InputTooLarge": (413, "payload_too_large"),
    "InputError": (422, "invalid_input"),
    pool.TIMEOUT: (422, "document_timeout"),
    "ModelError": (500, "model_error"),
    "InternalError": (500, "internal_error"),
    pool.CRASHED: (500, "worker_crashed"),
    pool.BUSY: (503, "busy"),
    pool.NOT_READY: (503, "not_ready"),
    pool.GONE: (499, "client_gone"),  # nginx's code: no one reads it, the metrics count it
}
#: other `NoiseFilterError` subclasses are about the input
_DEFAULT_OUTCOME = (422, "invalid_input")


_DESCRIPTIONS = {
    400: "The body could not be read: its Content-Encoding could not be undone, or its "
         "Content-Length is not a number.",
    401: "The API key is missing or wrong.",
    403: "A browser's request made by another site's page (Sec-Fetch-Site).",
    404: "Not found.",
    413: "The request body or the document is over the size limit.",
    415: "The content type is not one this endpoint takes.",
    421: "The Host header is not this service's (served on a loopback address, it answers only "
         "localhost, 127.0.0.1, [::1] and the names in --allowed-hosts).",
    422: "The input is invalid.",
    500: "The service failed on this request.",
    503: "The service cannot do this now; retry later.",
}


def documented(*statuses: int, **descriptions: str) -> dict:
    """OpenAPI `responses` for error statuses, all with the `ErrorResponse` body; a description
    can be given as ``s422="..."``. Declaring 422 also replaces FastAPI's own validation-error
    schema, which this service never sends."""
    return {s: {"model": ErrorResponse, "description": descriptions.get(f"s{s}", _DESCRIPTIONS[s]),
                **({"headers": _RETRY_AFTER} if s == 503 else {})}
            for s in statuses}


#: what every 503 carries (`error_response`)
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                                "schema": {"type": "integer"}}}


def outcome_status(error: str) -> tuple[int, str]:
    return OUTCOME_STATUS.get(error, _DEFAULT_OUTCOME)


class ApiError(Exception):
    """Raised by endpoints and dependencies; becomes the JSON error response."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers


def error_response(status: int, error: str, detail: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    if status == 503 and not headers:
        headers = {"Retry-After": "1"}
    # also here: a 500, answered outside every middleware of the app, carries them too, and
    # the request's id
    rid = REQUEST_ID.get()
    return JSONResponse({"error": error, "detail": detail}, status_code=status,
                        headers={**DEFAULTS, **({HEADER: rid} if rid else {}), **(headers or {})})


#: the validation errors a message spells out (the rest are counted)
MAX_DESCRIBED_ERRORS = 20


def describe_validation(errors) -> str:
    """pydantic's error list as one readable line: ``body.documents.0.html: Field required``;
    past `MAX_DESCRIBED_ERRORS`, how many more (100,000 blocks with bad fields took 4 s to
    spell out, on the event loop, into an answer larger than the request)."""
    parts = []
    for err in errors[:MAX_DESCRIBED_ERRORS]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    if len(errors) > MAX_DESCRIBED_ERRORS:
        parts.append(f"and {len(errors) - MAX_DESCRIBED_ERRORS:,} more")
    return "; ".join(parts) or "invalid input"


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.state.routes:
        if getattr(route, "methods", None) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_input", describe_validation(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _body_invalid(request: Request, exc: ValidationError) -> JSONResponse:
        return error_response(422, "invalid_input", describe_validation(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's only 400 here: a JSON body it could not even decode (not UTF-8, say).
            # To a client that is invalid input like any other, so it gets the same 422.
            return error_response(422, "invalid_input", f"the request body could not be read "
                                                        f"as JSON ({exc.detail})")
        code = _STATUS_CODES.get(exc.status_code, "error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names the methods of the first route of the path only; a path served by
            # several routes (GET and POST /v1/examples, a probe's HEAD) takes all of theirs
            headers = {"Allow": ", ".join(_allowed_methods(request))}
        return error_response(exc.status_code, code, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        LOGGER.exception("unhandled error on %s %s (request %s)", request.method, request.url.path,
                         REQUEST_ID.get())
        return error_response(500, "internal_error", "the service failed on this request; "
                                                     "the error has been logged")
