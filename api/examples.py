"""`POST /v1/examples` and `GET /v1/examples`: labelled corrections into and out of the store.

The store and the example format belong to retraining (`train.store`, `train.examples`); this
router only translates. Validation of an example's meaning (html or text, label syntax, what is
left out and why) is `train.examples.parse_example`'s, so the service accepts exactly what
`noisefilter train` reads, and every problem it reports goes back to the client. The handlers
run in threads of their own (`_in_store_threads`), so a store waiting for SQLite's write lock
holds up neither the event loop nor the other endpoints.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from typing import Annotated

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import APIRouter, Depends, Query

from filter.blocks import Block, Page, well_formed
from train.examples import MAX_EXAMPLE_BYTES, ExampleError, attach_labels, parse_example
from train.store import StoreError, example_chars, timestamp

from .deps import (
    STORE_READS, STORE_WRITES, KeyedRoute, ParsedJsonRoute, QueryFlag, SettingsDep, StoreDep,
    answer_head, api_key_header, require_json,
)
from .errors import ApiError, documented
from .schemas import ExampleIn, ExamplesAdded, ExamplesIn, ExamplesPage, SavedLabels, SavedLabelsIn

#: labelled blocks one `POST /v1/examples` may carry, over all its pages: a page has hundreds
#: at most, and FastAPI validates each on the event loop (850,000 took 4 s of it)
MAX_BLOCKS_PER_REQUEST = 100_000
#: most characters `POST /v1/examples/labels` searches across a change of segmentation
#: (`attach_labels`' `max_work`; a second or so of a thread): 100,000 blocks matching none of
#: 2,000 labels held one for 45 s. Past it, labels are matched by exact text only.
MAX_MATCHING_WORK = 1_000_000_000


class ExamplesRoute(KeyedRoute, ParsedJsonRoute):
    """The key first (`KeyedRoute`), then the body parsed in a thread and its labelled blocks
    counted before FastAPI validates them (`ParsedJsonRoute`)."""

    #: a labelled block is an object; its pages and their lists of blocks a few more
    max_structures = MAX_BLOCKS_PER_REQUEST + 10_000

    @staticmethod
    def check(data, request) -> None:
        examples = data.get("examples") if isinstance(data, dict) else None
        if not isinstance(examples, list):
            return
        blocks = sum(len(e["blocks"]) for e in examples
                     if isinstance(e, dict) and isinstance(e.get("blocks"), list))
        if blocks > MAX_BLOCKS_PER_REQUEST:
            raise ApiError(422, "invalid_input", f"{blocks:,} labelled blocks in one request, over "
                           f"the limit of {MAX_BLOCKS_PER_REQUEST:,}: send the pages in several")


router = APIRouter(tags=["examples"], route_class=ExamplesRoute, dependencies=[Depends(api_key_header)],
                   responses=documented(401, 403, 422, 503, s503="The example store cannot be used."))


def _in_store_threads(limiter: CapacityLimiter):
    """Run a plain handler in a thread of `limiter` (FastAPI reads the handler's parameters and
    docstring through `functools.wraps`)."""
    def wrap(handler):
        @functools.wraps(handler)
        async def run(**kwargs):
            return await anyio.to_thread.run_sync(functools.partial(handler, **kwargs),
                                                  limiter=limiter)
        return run
    return wrap


def _default_id(example: ExampleIn) -> str:
    """An id for a page sent without one: its document's hash, so sending the same page twice
    updates one example instead of adding two."""
    kind, doc = ("html", example.html) if example.html is not None else ("text", example.text or "")
    # hashed as stored, lone surrogates made U+FFFD: the id is what `GET ?document=` finds it by
    stored = f"{kind}\0{well_formed(doc)}".encode("utf-8", "surrogatepass")
    return "doc-" + hashlib.sha256(stored).hexdigest()[:16]


def _utf8_size(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


def _store_failed(err: Exception) -> ApiError:
    return ApiError(503, "store_unavailable", f"the example store cannot be used: {err}")


@router.post("/v1/examples", response_model=ExamplesAdded, dependencies=[Depends(require_json)],
             responses=documented(400, 413, 415),
             summary="Add labelled examples")
@_in_store_threads(STORE_WRITES)
def add_examples(body: ExamplesIn, store: StoreDep, settings: SettingsDep) -> dict:
    """Store labelled pages (all or none). A label given again replaces the stored one, except
    that a reviewed label is never replaced by an unreviewed one, nor by one whose
    `labelled_at` is earlier than its own (a copy sent back from a page loaded before a
    correction); replaced labels are kept in the store's history. `labelled_at` in the answer
    is the time given to the labels that state none. Blocks that cannot be used are left out and listed in `problems`.
    A document or gold text over `--max-bytes` (which could not be cleaned, nor trained on) is
    refused with 413, as is one over the 10 MB training segments (`MAX_EXAMPLE_BYTES`) when
    --max-bytes is larger. The same id or the same document twice in one request is refused
    (422): the store would merge the second page into the first, its labels over the first's."""
    examples, problems, given, documents = [], [], {}, {}
    limit, named = min((settings.max_bytes, "--max-bytes"),
                       (MAX_EXAMPLE_BYTES, "the most training reads of an example"))
    for n, item in enumerate(body.examples):
        for field in ("html", "text", "gold"):
            value = getattr(item, field)
            if value is not None and _utf8_size(value) > limit:
                raise ApiError(413, "payload_too_large", f"examples[{n}].{field} is "
                               f"{_utf8_size(value):,} bytes, over the limit of "
                               f"{limit:,} bytes ({named})")
        raw = item.model_dump(exclude_none=True)
        raw.setdefault("id", _default_id(item))
        try:
            example, found = parse_example(raw, origin=f"examples[{n}]")
        except ExampleError as err:
            raise ApiError(422, "invalid_input", f"examples[{n}]: {err}") from None
        if example.id in given:
            raise ApiError(422, "invalid_input", f"examples[{n}]: id {example.id!r} is already "
                           f"given at examples[{given[example.id]}]: one page per id in a request")
        if example.document_sha256 in documents:
            kind = "html" if example.html is not None else "text"
            raise ApiError(422, "invalid_input", f"examples[{n}]: the same {kind} as examples"
                           f"[{documents[example.document_sha256]}]: one example per page in a request")
        given[example.id] = n
        documents[example.document_sha256] = n
        examples.append(example)
        problems.extend({"where": p.where, "message": p.message} for p in found)
    now = timestamp()
    try:
        report = store.add(examples, labelled_by=body.labelled_by, source="api", labelled_at=now)
    except (StoreError, sqlite3.Error) as err:
        raise _store_failed(err) from err
    problems += [{"where": f"examples[{given[ident]}]", "message": f"page not stored: {why}"}
                 for ident, why in report.refused.items()]
    return {"ids": [report.merged.get(e.id, e.id) if e.blocks and e.id not in report.refused else None
                    for e in examples],
            "report": report.to_dict(),
            "problems": problems, "labelled_at": now}


@router.get("/v1/examples", response_model=ExamplesPage, summary="List labelled examples")
@_in_store_threads(STORE_READS)
def list_examples(
    store: StoreDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Pages carry their whole document, "
                                "so a page of results is kept small.")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    reviewed: Annotated[QueryFlag, Query(description="false: pages with labels left to "
                                         "review; true: pages with none")] = None,
    source: Annotated[str | None, Query(min_length=1, max_length=200,
                                        description="pages of this source")] = None,
    document: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$", description="sha256 of "
                        "the kind (`html` or `text`), a NUL and the document: the page "
                        "holding that very document, whatever its id (what the labelling page "
                        "asks to show the labels saved before)")] = None,
) -> dict:
    """Examples in the order they were added, in the JSON Lines example format with each
    label's provenance; page through with `offset` = `next_offset`. A page of results holds
    fewer than `limit` examples when their text passes the size of one request body (at least
    one example is always returned): `next_offset` then points at the rest."""
    budget = settings.body_limit
    try:
        page = store.list(limit + 1, offset, reviewed=reviewed, source=source, document=document,
                          max_chars=budget)
        count = store.count()
    except (StoreError, sqlite3.Error) as err:
        raise _store_failed(err) from err
    shown = page[:limit]
    more = len(page) > limit or sum(example_chars(e) for e in page) >= budget
    return {"examples": [e.to_dict() for e in shown],
            "next_offset": offset + len(shown) if more else None, "store": count}


@router.post("/v1/examples/labels", response_model=SavedLabels,
             dependencies=[Depends(require_json)], responses=documented(400, 413, 415),
             summary="The saved labels of the blocks a page shows")
@_in_store_threads(STORE_READS)
def saved_labels(body: SavedLabelsIn, store: StoreDep) -> dict:
    """The labels stored for the page holding `document`, matched to the blocks the page shows
    now by `train.examples.attach_labels`, the rule training follows: the labelling page
    matched them itself, text for text, and showed the model's proposal (saved back, unreviewed)
    for the second copy of a text labelled once and for each line of a paragraph labelled
    whole, where training gives the person's label."""
    try:
        found = store.list(1, 0, document=body.document)
    except (StoreError, sqlite3.Error) as err:
        raise _store_failed(err) from err
    if not found:
        return {"id": None, "blocks": [None] * len(body.blocks)}
    example = found[0]
    page = Page(blocks=[Block(text=text) for text in body.blocks])
    attached = attach_labels(page, example.blocks, max_work=MAX_MATCHING_WORK)
    return {"id": example.id,
            "blocks": [None if j is None else example.blocks[j].to_dict()
                       for j in attached.origins]}


answer_head(router)
