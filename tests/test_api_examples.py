"""`POST /v1/examples`, `GET /v1/examples` and `POST /v1/examples/labels` (api/examples.py):
what a client of the example store relies on. The clients are built without `with`, so no
cleaning pool starts: these endpoints only use the store."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from fastapi.testclient import TestClient

import api.examples
from api.app import create_app
from api.settings import Settings
from test_api import API_KEY, assert_error
from train.store import ExampleStore

KEY = {"X-API-Key": API_KEY}


@pytest.fixture
def client(tmp_path) -> TestClient:
    # an unexpected exception is the 500 a client gets, not an exception in the test
    return TestClient(create_app(Settings(workers=1, api_key=API_KEY,
                                          examples_db=tmp_path / "ex.db")),
                      raise_server_exceptions=False)


def text_page(text: str, **extra) -> dict:
    """A text page labelling its first line as content."""
    return {"text": text, "blocks": [{"text": text.splitlines()[0], "label": "content"}], **extra}


def test_a_bad_page_is_named_by_its_place_in_the_request(client):
    """A client sending many pages learns which one was refused from the detail's prefix."""
    bad = {"text": " \n ", "blocks": [{"text": "a", "label": "content"}]}
    r = client.post("/v1/examples", headers=KEY,
                    json={"examples": [text_page("A good page."), bad]})
    assert assert_error(r, 422, "invalid_input")["detail"].startswith("examples[1]:")


def test_a_document_stored_under_another_id_answers_with_the_stored_id(client):
    """The same document sent under a new id is merged into the stored page: the answer gives
    the id the labels are stored under, which the client uses to find them again."""
    page = text_page("The same document twice.")
    assert client.post("/v1/examples", headers=KEY,
                       json={"examples": [{**page, "id": "a"}]}).json()["ids"] == ["a"]
    r = client.post("/v1/examples", headers=KEY, json={"examples": [{**page, "id": "b"}]})
    assert r.status_code == 200, r.text
    assert r.json()["ids"] == ["a"]
    assert r.json()["report"]["merged"] == {"b": "a"}


def test_another_page_under_a_stored_id_is_refused_with_a_problem(client):
    """A page under the id of a stored page at another address replaced that page, its
    labels left matching nothing; now it is not stored, its id null, a problem says why."""
    html = "<html><body><article><p>{}</p></article></body></html>"
    first = {"id": "page-1", "url": "https://news.example/a/1", "html": html.format("Harbour walks reopen."),
             "blocks": [{"text": "Harbour walks reopen.", "label": "content"}]}
    second = {**first, "url": "https://gazette.example/b/9", "html": html.format("The pier is mended."),
              "blocks": [{"text": "The pier is mended.", "label": "content"}]}
    assert client.post("/v1/examples", headers=KEY, json={"examples": [first]}).json()["ids"] == ["page-1"]
    r = client.post("/v1/examples", headers=KEY, json={"examples": [text_page("Another page."), second]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ids"][1] is None and list(body["report"]["refused"]) == ["page-1"]
    assert {"where": "examples[1]", "message": "page not stored: id 'page-1' holds another page "
            "(https://news.example/a/1); give this one (https://gazette.example/b/9) an id of its own"} \
        in body["problems"]
    [stored] = [e for e in client.get("/v1/examples", headers=KEY).json()["examples"] if e["id"] == "page-1"]
    assert stored["url"] == first["url"] and "Harbour" in stored["html"]


def test_labels_from_the_service_have_source_api(client):
    """Pages and labels saved through the service without a source of their own are told
    apart from those of imports and bootstrap by their source, "api" (a label's source is its
    page's unless it states another)."""
    r = client.post("/v1/examples", headers=KEY, json={"examples": [text_page("From the api.")]})
    assert r.status_code == 200, r.text
    [page] = client.get("/v1/examples", headers=KEY).json()["examples"]
    assert page["source"] == "api"
    assert [b["source"] or page["source"] for b in page["blocks"]] == ["api"]


def test_the_answers_labelled_at_is_the_stored_labels_time(client, monkeypatch):
    """`labelled_at` in the answer is the time stored with labels that state none: the
    labelling page sends it back with them. (The clock ticks a millisecond at each reading, so
    two readings are never the same.)"""
    ticks = iter(range(1, 1000))
    monkeypatch.setattr(api.examples, "timestamp",
                        lambda: f"2026-01-01T00:00:00.{next(ticks):03d}+00:00")
    r = client.post("/v1/examples", headers=KEY, json={"examples": [text_page("Timed page.")]})
    assert r.status_code == 200, r.text
    [page] = client.get("/v1/examples", headers=KEY).json()["examples"]
    assert [b["labelled_at"] for b in page["blocks"]] == [r.json()["labelled_at"]]


def test_sqlite_failure_while_adding_is_503_store_unavailable(client, monkeypatch):
    """A store SQLite cannot write (disk full, read-only) is the service's 503, which a client
    may retry, not a 500."""
    def fail(self, *args, **kwargs):
        raise sqlite3.OperationalError("attempt to write a readonly database")
    monkeypatch.setattr(ExampleStore, "add", fail)
    r = client.post("/v1/examples", headers=KEY, json={"examples": [text_page("Not saved.")]})
    assert "readonly" in assert_error(r, 503, "store_unavailable")["detail"]


def test_next_offset_is_none_only_when_nothing_is_left(client):
    """A client follows `next_offset` until it is null: exactly `limit` pages stored is the
    last page of results; one more leaves a next one."""
    pages = [text_page(f"Page number {i}.", id=f"p{i}") for i in range(3)]
    assert client.post("/v1/examples", headers=KEY, json={"examples": pages[:2]}).status_code == 200
    assert client.get("/v1/examples", headers=KEY, params={"limit": 2}).json()["next_offset"] is None
    assert client.post("/v1/examples", headers=KEY, json={"examples": pages[2:]}).status_code == 200
    listing = client.get("/v1/examples", headers=KEY, params={"limit": 2}).json()
    assert listing["next_offset"] == 2 and len(listing["examples"]) == 2


@pytest.mark.parametrize("params", [{"limit": 101}, {"offset": 10**19}, {"offset": 1_000_000_001}])
def test_listing_limits_are_refused_not_clamped(client, params):
    """`limit` is at most 100 and `offset` at most a billion; past them the request is
    refused (422) rather than served or failing in SQLite."""
    assert_error(client.get("/v1/examples", headers=KEY, params=params), 422, "invalid_input")


def test_listing_limits_accept_their_maximum(client):
    for params in ({"limit": 100}, {"offset": 1_000_000_000}):
        assert client.get("/v1/examples", headers=KEY, params=params).status_code == 200


def test_saved_labels_bound_the_matching_work(client, monkeypatch):
    """Matching saved labels to a page's blocks is bounded (`MAX_MATCHING_WORK`), so one page
    cannot hold a store thread for long."""
    text = "Saved labels page."
    assert client.post("/v1/examples", headers=KEY, json={"examples": [text_page(text)]}).status_code == 200
    [page] = client.get("/v1/examples", headers=KEY).json()["examples"]
    seen = []
    real = api.examples.attach_labels

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)
    monkeypatch.setattr(api.examples, "attach_labels", spy)
    digest = hashlib.sha256(f"text\0{text}".encode()).hexdigest()
    r = client.post("/v1/examples/labels", headers=KEY, json={"document": digest, "blocks": [text]})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == page["id"] and r.json()["blocks"][0]["label"] == "content"
    assert seen == [{"max_work": api.examples.MAX_MATCHING_WORK}]


def test_labelled_blocks_per_request_limit_is_inclusive(client, monkeypatch):
    """Up to `MAX_BLOCKS_PER_REQUEST` labelled blocks (over all pages) are accepted; one more
    is refused with 422 before they are validated."""
    monkeypatch.setattr(api.examples, "MAX_BLOCKS_PER_REQUEST", 3)
    lines = [f"Line {i} of the page." for i in range(4)]
    blocks = [{"text": t, "label": "content"} for t in lines]
    x, y = {"text": "\n".join(lines[:2])}, {"text": "\n".join(lines[2:])}
    ok = client.post("/v1/examples", headers=KEY, json={"examples": [
        {**x, "blocks": blocks[:2]}, {**y, "blocks": blocks[2:3]}]})
    assert ok.status_code == 200, ok.text
    over = client.post("/v1/examples", headers=KEY, json={"examples": [
        {**x, "blocks": blocks[:2]}, {**y, "blocks": blocks[2:]}]})
    assert "limit of 3" in assert_error(over, 422, "invalid_input")["detail"]


def test_html_and_text_of_one_string_get_two_ids(client):
    """Without ids, a string sent as HTML and the same string sent as text are two documents
    and get two ids."""
    s = "<p>Plain words on a page.</p>"
    r = client.post("/v1/examples", headers=KEY, json={"examples": [
        {"html": s, "blocks": [{"text": s[3:-4], "label": "content"}]},
        {"text": s, "blocks": [{"text": s, "label": "content"}]}]})
    assert r.status_code == 200, r.text
    first, second = r.json()["ids"]
    assert first.startswith("doc-") and second.startswith("doc-") and first != second


def test_a_store_file_removed_while_serving_is_created_again(client, tmp_path):
    """An operator who moves the store away to start a new round of labelling (or deletes it)
    while the service runs gets a new store on the next request, as on first use: the service
    had opened the store once and every connection after made an empty file, every example
    request answered 503 "no such table: pages" until a restart."""
    assert client.post("/v1/examples", headers=KEY,
                       json={"examples": [text_page("Before the move.")]}).status_code == 200
    (tmp_path / "ex.db").rename(tmp_path / "round-1.db")
    r = client.post("/v1/examples", headers=KEY, json={"examples": [text_page("After the move.")]})
    assert r.status_code == 200, r.text
    listed = client.get("/v1/examples", headers=KEY).json()
    assert [e["text"] for e in listed["examples"]] == ["After the move."]
    assert [e.id for e in ExampleStore(tmp_path / "round-1.db").iter_examples()]  # kept whole


def test_the_store_files_check_runs_off_the_event_loop(client, tmp_path):
    """Each example request checks that the store's file is still there (a stat): done on the
    event loop, a store on a network mount that hangs held every request of the service, the
    cleaning ones and `/healthz` too. It runs in the example endpoints' threads."""
    import asyncio
    from pathlib import Path

    assert client.post("/v1/examples", headers=KEY,
                       json={"examples": [text_page("Stored once.")]}).status_code == 200
    on_loop = []

    class Watched(type(Path())):
        def exists(self, **kwargs):
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return super().exists(**kwargs)

    store = client.app.state.store.get()
    store.path = Watched(store.path)
    assert client.get("/v1/examples", headers=KEY).status_code == 200
    assert on_loop and not any(on_loop)


def test_names_of_labellers_and_sources_are_trimmed_and_a_blank_one_refused(client):
    """`labelled_by` of only spaces was stored as a labeller's name (the labelling page trims
    its field, the API did not); `?source=` (empty) listed nothing where no filter was meant."""
    page = text_page("Named by a person.", source=" survey ")
    page["blocks"][0]["labelled_by"] = "  ann  "
    r = client.post("/v1/examples", headers=KEY, json={"examples": [page], "labelled_by": " bob "})
    assert r.status_code == 200, r.text
    [stored] = client.get("/v1/examples", headers=KEY).json()["examples"]
    assert stored["source"] == "survey" and stored["blocks"][0]["labelled_by"] == "ann"
    for body in ({"examples": [text_page("Blank.")], "labelled_by": "   "},
                 {"examples": [{**text_page("Blank."), "source": " "}]}):
        assert_error(client.post("/v1/examples", headers=KEY, json=body), 422, "invalid_input")
    assert_error(client.get("/v1/examples?source=", headers=KEY), 422, "invalid_input")
    assert client.get("/v1/examples?source=survey", headers=KEY).json()["examples"] == [stored]
