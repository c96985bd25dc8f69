"""`GET /label`: the labelling page, where a person sees how the model labelled a page's blocks
and corrects them, and its three static files (`api/static/`).

The page is plain HTML, CSS and JavaScript served by the app itself: no build step and nothing
fetched from elsewhere, so it works on a machine without internet access and a reviewer can read
all of it. It talks only to this service's own JSON endpoints (`/v1/clean`, `/v1/examples`,
`/v1/model`).

The pages it shows are untrusted (a scraped page can hold any text, ``<script>`` included). The
JavaScript only ever puts page text into the DOM as text (``textContent``); the
Content-Security-Policy below is the second line of defence: scripts only from this origin (no
inline script, no ``eval``), nothing loaded from anywhere else, and Trusted Types required, so
that even a future ``innerHTML = …`` with a string would throw in browsers that enforce it
instead of parsing markup.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from .errors import ApiError

STATIC = Path(__file__).resolve().parent / "static"

#: the policy of the page and its files; `connect-src 'self'` lets the script call the API
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # revalidate on every load (the ETag makes that cheap: `_file` answers a current copy 304),
    # so an upgraded service never runs a new page against an old cached script
    "Cache-Control": "no-cache",
}

#: the only files served besides the page; a fixed table, so no request path reaches the disk
ASSETS = {
    "label.js": "text/javascript; charset=utf-8",
    "label.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",  # named by the page, so browsers do not ask for /favicon.ico
}

router = APIRouter(tags=["labelling page"], include_in_schema=False)


def _file(request: Request, path: Path, media: str) -> Response:
    """The file with the page's headers, or 304 without it when the browser's copy is current
    (its `If-None-Match` names the file's ETag). `no-cache` has the browser ask at every load,
    and `FileResponse` answered each time with the whole file, the ETag notwithstanding."""
    response = FileResponse(path, media_type=media, headers=SECURITY_HEADERS,
                            stat_result=path.stat())
    etag = response.headers["etag"]
    if _current(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={**SECURITY_HEADERS, "ETag": etag})
    return response


def _current(header: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` matches `etag`: one of its list, compared weakly, or `*`
    (RFC 9110, 13.1.2)."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


@router.api_route("/label", methods=["GET", "HEAD"], response_class=FileResponse)
def label_page(request: Request) -> Response:
    """The page itself (not part of the API schema: it is for people, not clients). HEAD is
    answered too, as link checkers and uptime probes ask that way."""
    return _file(request, STATIC / "label.html", "text/html; charset=utf-8")


@router.api_route("/label/", methods=["GET", "HEAD"], response_class=RedirectResponse)
def label_page_slash() -> RedirectResponse:
    """The page at its address typed with a slash (the service redirects no other path: an API
    client's slash is a 404). Relative, so that it holds behind a proxy serving the service
    under a prefix, as the page's own addresses do."""
    return RedirectResponse("../label", status_code=307)


@router.api_route("/label/{asset}", methods=["GET", "HEAD"], response_class=FileResponse)
def label_asset(asset: str, request: Request) -> Response:
    """The page's script, style sheet and icon, with the same headers (``nosniff`` matters here: a
    browser must not run anything but a JavaScript response as script)."""
    media = ASSETS.get(asset)
    if media is None:
        raise ApiError(404, "not_found", f"the labelling page has no file {asset!r}")
    return _file(request, STATIC / asset, media)
