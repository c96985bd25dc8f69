"""The HTTP service through its ASGI interface (Starlette's TestClient runs the app's lifespan,
so every test talks to real cleaning processes).

The shipped model will be retrained, so these tests assert behaviour, never particular labels:
the service returns exactly what the library returns for the same input, errors have the right
status and shape, limits hold, the pool survives a document that overruns its time limit, and a
reload is atomic.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import select
import shutil
import signal
import socket
import statistics
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_limits

from api.app import create_app
from api.pool import CRASHED, NOT_READY, CleaningPool
from api.settings import Settings
from api.worker import Job
from filter import Cleaner, ModelError
from filter.modelfile import SHIPPED_MODEL, active_model_path, manifest_path

API_KEY = "test-key-1234"
SEED = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed" / "000_aeeb56263c09fa58.txt"


def article_html(paragraphs: int = 8, title: str = "Schools budget to rise next year",
                 extra_head: str = "", url_base: str = "https://news.example.org") -> str:
    """A small news page: an article, a related list, unrelated teasers and page furniture."""
    body = "".join(
        f"<p>The education minister said on Tuesday that the budget for public schools will rise "
        f"by {i + 2} percent next year, after weeks of talks with teachers' unions and city "
        f"councils about class sizes and salaries.</p>" for i in range(paragraphs))
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title>{extra_head}</head><body>"
        f"<nav><a href='/'>Home</a> <a href='/politics'>Politics</a></nav>"
        f"<article><h1>{title}</h1><p class='byline'>By Jane Doe</p>{body}</article>"
        f"<div class='related-news'><h3>Related news</h3><ul>"
        f"<li><a href='{url_base}/schools-strike'>Teachers threaten strike over school funding</a></li>"
        f"<li><a href='/class-sizes'>Class sizes grow in city schools</a></li></ul></div>"
        f"<div class='most-read'><h3>Most read</h3><ul>"
        f"<li><a href='/football'>Local team wins the cup after penalties</a></li></ul></div>"
        f"<footer><p>Sign up for our newsletter</p><p>© 2025 Example News</p></footer>"
        f"</body></html>")


def slow_html(paragraphs: int) -> str:
    """A page big enough that cleaning it takes seconds (each paragraph is a block)."""
    return "<html><body><article>" + "".join(
        f"<p>Paragraph {i} of a very long report on the state of the national railways, its "
        f"timetables and its finances.</p>" for i in range(paragraphs)) + "</article></body></html>"


def assert_error(response, status: int, error: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert isinstance(body["detail"], str) and body["detail"]
    if error is not None:
        assert body["error"] == error, body
    return body


def jsonable(obj):
    return json.loads(json.dumps(obj))


@pytest.fixture(scope="module")
def library() -> Cleaner:
    """The library on the same model, in this process (single-threaded like the workers)."""
    return Cleaner()


def library_clean(library: Cleaner, html, url=None, blocks=True) -> dict:
    with threadpool_limits(1):
        return jsonable(library.clean(html, url=url).to_dict(blocks=blocks))


def library_clean_text(library: Cleaner, text: str, blocks=True) -> dict:
    with threadpool_limits(1):
        return jsonable(library.clean_text(text).to_dict(blocks=blocks))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(workers=2, max_bytes=200_000, max_body_bytes=500_000, max_batch=4,
                        api_key=API_KEY, examples_db=tmp_path_factory.mktemp("store") / "ex.db")
    with TestClient(create_app(settings)) as c:
        yield c


# -- cleaning --------------------------------------------------------------------------------

def test_json_html_gives_what_the_library_gives(client, library):
    html = article_html()
    url = "https://news.example.org/politics/schools-budget"
    r = client.post("/v1/clean", json={"html": html, "url": url, "blocks": True})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got == library_clean(library, html, url)
    # the result is consistent in itself, whatever labels the model gives
    labels = set(client.get("/v1/model").json()["labels"])
    assert {b["label"] for b in got["blocks"]} <= labels
    assert got["text"] == "\n".join(b["text"] for b in got["blocks"] if b["label"] == "content")
    counts = {}
    for b in got["blocks"]:
        counts[b["label"]] = counts.get(b["label"], 0) + 1
    assert got["label_counts"] == counts
    assert got["model_version"] == client.get("/v1/model").json()["version"]
    assert all(link["url"].startswith("https://news.example.org/") for link in got["related_links"])
    # blocks only on request
    assert "blocks" not in client.post("/v1/clean", json={"html": html}).json()


def test_raw_html_body_same_as_json(client, library):
    html = article_html()
    url = "https://news.example.org/a"
    r = client.post("/v1/clean", params={"url": url}, content=html.encode("utf-8"),
                    headers={"content-type": "text/html"})
    assert r.status_code == 200, r.text
    assert r.json() == library_clean(library, html, url, blocks=False)
    with_blocks = client.post("/v1/clean", params={"blocks": "true"}, content=html.encode(),
                              headers={"content-type": "text/html"}).json()
    assert with_blocks["blocks"] == library_clean(library, html)["blocks"]


def test_favor_precision_is_asked_per_document_in_json_in_the_query_and_in_a_batch(client, library):
    """`favor_precision` cleans as `Cleaner(favor_precision=True)` does: in a JSON document
    (HTML or text), as a query flag with a raw body, per document in a batch; in the query
    beside a JSON body it is refused, as `url` and `blocks` are (it would be ignored)."""
    page = (Path(__file__).parent / "fixtures" / "crawl_site" / "harbour-ferry.html").read_text()
    precise = Cleaner(model=library.loaded, favor_precision=True)
    with threadpool_limits(1):
        want = jsonable(precise.clean(page).to_dict(blocks=True))
        want_text = jsonable(precise.clean_text(library.clean(page).text).to_dict(blocks=False))
    assert want != library_clean(library, page)
    assert want_text != library_clean_text(library, library.clean(page).text, blocks=False)
    got = client.post("/v1/clean", json={"html": page, "blocks": True, "favor_precision": True})
    assert got.status_code == 200, got.text
    assert got.json() == want
    raw = client.post("/v1/clean", params={"favor_precision": "true", "blocks": "true"},
                      content=page.encode(), headers={"content-type": "text/html"})
    assert raw.json() == want
    text = client.post("/v1/clean", json={"text": library.clean(page).text, "favor_precision": True})
    assert text.json() == want_text
    both = client.post("/v1/clean/batch", json={"documents": [{"html": page, "blocks": True},
                                                        {"html": page, "blocks": True, "favor_precision": True}]})
    assert [r["result"] for r in both.json()["results"]] == [library_clean(library, page), want]
    assert_error(client.post("/v1/clean", params={"favor_precision": "true"}, json={"html": page}),
                 422, "invalid_input")
    assert_error(client.post("/v1/clean", json={"html": page, "favor_precision": "yes"}), 422)


def test_the_services_favor_precision_is_the_default_of_documents_that_do_not_say(tmp_path, library):
    """`serve --favor-precision`: a document without `favor_precision` (JSON, query, batch) is
    cleaned favouring precision; one that says `false` is not; `GET /v1/model` says which."""
    page = (Path(__file__).parent / "fixtures" / "crawl_site" / "harbour-ferry.html").read_text()
    with threadpool_limits(1):
        precise = jsonable(Cleaner(model=library.loaded, favor_precision=True).clean(page).to_dict(blocks=False))
    default = library_clean(library, page, blocks=False)
    assert precise != default
    settings = Settings(workers=1, favor_precision=True, examples_db=tmp_path / "ex.db")
    with TestClient(create_app(settings)) as strict:
        assert strict.get("/v1/model").json()["favor_precision"] is True  # a client can see it
        assert strict.post("/v1/model/reload").json()["model"]["favor_precision"] is True
        assert strict.post("/v1/clean", json={"html": page}).json() == precise
        assert strict.post("/v1/clean", json={"html": page, "favor_precision": False}).json() == default
        assert strict.post("/v1/clean", content=page.encode(),
                           headers={"content-type": "text/html"}).json() == precise
        assert strict.post("/v1/clean", params={"favor_precision": "false"}, content=page.encode(),
                           headers={"content-type": "text/html"}).json() == default
        batch = strict.post("/v1/clean/batch", json={"documents": [{"html": page},
                                                                   {"html": page, "favor_precision": False}]})
        assert [r["result"] for r in batch.json()["results"]] == [precise, default]


def test_raw_html_in_another_charset(client):
    title = "Бюджет школ вырастет в следующем году"
    page = article_html(title=title).replace("<meta charset='utf-8'>", "")
    expected = client.post("/v1/clean", json={"html": page}).json()
    encoded = page.encode("windows-1251")
    # charset from the header
    r = client.post("/v1/clean", content=encoded,
                    headers={"content-type": "text/html; charset=windows-1251"})
    assert r.status_code == 200, r.text
    assert r.json() == expected
    assert title in r.json()["text"] or r.json()["title"] == title
    # charset from the page's own declaration
    declared = page.replace("<head>", "<head><meta charset='windows-1251'>").encode("windows-1251")
    r = client.post("/v1/clean", content=declared, headers={"content-type": "text/html"})
    assert r.status_code == 200
    assert r.json()["title"] == expected["title"]


@pytest.mark.parametrize("charset, body, expected", [
    # labels mean what they mean to browsers: latin-1 and ASCII are windows-1252
    ("iso-8859-1", b"\x93Quoted\x94 prices rose by \x805 this week", "“Quoted” prices rose by €5 this week"),
    ("us-ascii", b"\x93Quoted\x94 prices rose by \x805 this week", "“Quoted” prices rose by €5 this week"),
    ("x-sjis", "東京の予算は来年増える".encode("shift_jis"), "東京の予算は来年増える"),
    # the five bytes Python's cp1252 leaves undefined are C1 controls to browsers, not errors
    ("windows-1252", b"Prices rose \x81by \x805", "Prices rose \x81by €5"),
    # a byte-order mark wins over the label
    ("windows-1252", "\ufeffThe budget isn’t final".encode("utf-8"), "The budget isn’t final"),
    ("utf-8", "The budget isn’t final".encode("utf-16"), "The budget isn’t final"),
])
def test_the_header_charset_is_read_as_browsers_read_it(client, charset, body, expected):
    r = client.post("/v1/clean", content=body, params={"blocks": "true"},
                    headers={"content-type": f"text/plain; charset={charset}"})
    assert r.status_code == 200, r.text
    assert [b["text"] for b in r.json()["blocks"]] == [expected]
    page = b"<html><body><article><p>" + body + b"</p></article></body></html>"
    if charset == "iso-8859-1":
        r = client.post("/v1/clean", content=page, params={"blocks": "true"},
                        headers={"content-type": f"text/html; charset={charset}"})
        assert r.status_code == 200, r.text
        assert expected in [b["text"] for b in r.json()["blocks"]]


@pytest.mark.parametrize("quotes", ["”", "'"])
def test_a_utf8_page_under_a_servers_default_latin1_label_is_read_as_utf8(client, library, quotes):
    """Servers label pages "iso-8859-1" by default: a UTF-8 page so labelled came out as
    mojibake, unless it held ” (its UTF-8 bytes hold one windows-1252 leaves undefined)."""
    page = article_html().replace("</p>", f" Café {quotes}Olé{quotes}.</p>", 1).encode("utf-8")
    r = client.post("/v1/clean", content=page,
                    headers={"content-type": "text/html; charset=iso-8859-1"})
    assert r.status_code == 200, r.text
    assert f"Café {quotes}Olé{quotes}." in r.json()["text"]
    assert r.json()["text"] == library.clean(page).text


@pytest.mark.parametrize("label, damage", [
    ("utf-8", lambda page: page.replace(b"</p>", b"\x92</p>", 1)),  # one stray byte
    ("undefined", lambda page: page),  # a label no browser knows
])
def test_a_page_its_header_charset_cannot_read_is_read_as_the_warc_reader_reads_it(
        client, library, label, damage):
    """A crawler posts pages as fetched: the header's charset comes first, and where it does
    not decode the page (a stray byte, a bogus label) the page's own is found, as browsers and
    the WARC reader do; these were refused with 422, and the page lost."""
    page = damage(article_html().encode("utf-8"))
    r = client.post("/v1/clean", content=page, headers={"content-type": f"text/html; charset={label}"})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == library.clean(page).text != ""



def test_a_compressed_body_is_read_in_its_header_charset(client, library):
    """A crawler posting a page as stored, gzip-compressed without its Content-Encoding, under
    its server's charset: the label was lost once `decode` inflated it (Czech came out as
    windows-1252), or the compressed bytes passed for windows-1250 text and were refused."""
    import gzip

    sentence = "M\u011bstsk\u00e1 rada v \u00fater\u00fd schv\u00e1lila rozpo\u010det na p\u0159\u00ed\u0161t\u00ed rok."
    page = article_html().replace("</article>", f"<p>{sentence}</p></article>").encode("cp1250")
    r = client.post("/v1/clean", content=gzip.compress(page),
                    headers={"content-type": "text/html; charset=windows-1250"})
    assert r.status_code == 200, r.text
    assert sentence in r.json()["text"]


def test_plain_text_as_body_and_as_json(client, library):
    text = SEED.read_text(encoding="utf-8") if SEED.exists() else "\n".join(
        ["Schools budget to rise next year", "By Jane Doe"] +
        [f"The minister said the budget will rise by {i} percent." for i in range(6)] +
        ["RELATED NEWS", "Teachers threaten strike", "Sign up for our newsletter"])
    expected = library_clean_text(library, text, blocks=False)
    r = client.post("/v1/clean", content=text.encode("utf-8"),
                    headers={"content-type": "text/plain; charset=utf-8"})
    assert r.status_code == 200, r.text
    assert r.json() == expected
    assert client.post("/v1/clean", json={"text": text}).json() == expected


def test_a_json_record_sent_as_plain_text_is_refused_not_cleaned(client):
    """`fetch(url, {method: "POST", body: JSON.stringify(doc)})` sends text/plain: the record's
    JSON source came back as the article's text, status 200; as text/html it was pointed to
    the batch route alone, which needs another wrapper."""
    record = json.dumps({"html": article_html(), "url": "https://news.example/a/1"})
    for content_type in ("text/plain;charset=UTF-8", "text/plain"):
        body = assert_error(client.post("/v1/clean", content=record, headers={"content-type": content_type}),
                            422, "invalid_input")
        assert body["detail"].startswith("text is JSON") and "application/json" in body["detail"]
    body = assert_error(client.post("/v1/clean", content=record, headers={"content-type": "text/html"}),
                        422, "invalid_input")
    assert "application/json" in body["detail"]
    item = client.post("/v1/clean/batch", json={"documents": [{"text": record}]}).json()["results"][0]
    assert item["status"] == 422 and "application/json" in item["detail"]


def test_batch_keeps_order_and_reports_each_document(client, library):
    html = article_html()
    docs = [{"html": html}, {"text": "one line\x00with a NUL"}, {"text": "Just one line of text."},
            {"html": "   "}]
    r = client.post("/v1/clean/batch", json={"documents": docs})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [item["status"] for item in results] == [200, 422, 200, 422]
    assert results[0]["result"] == library_clean(library, html, blocks=False)
    assert results[2]["result"] == library_clean_text(library, "Just one line of text.", blocks=False)
    assert results[1]["error"] == "invalid_input" and "NUL" in results[1]["detail"]
    assert results[3]["error"] == "invalid_input"


def test_a_malformed_document_in_a_batch_fails_alone(client):
    """A document that is not a document (a wrong type, both or neither of html and text, an
    unknown field) gets the 422 it would get alone, named by its place; the others are cleaned."""
    docs = [{"text": "Just one line of text."}, {"html": 5}, {"html": "<p>a</p>", "text": "b"},
            {}, {"text": "a", "block": True}, "<p>a</p>", {"text": "Another line of text."}]
    results = []
    for part in (docs[:4], docs[4:]):  # this client's batch limit is 4
        r = client.post("/v1/clean/batch", json={"documents": part})
        assert r.status_code == 200, r.text
        results += r.json()["results"]
    assert [item["status"] for item in results] == [200, 422, 422, 422, 422, 422, 200]
    details = [item.get("detail") for item in results]
    assert "body.documents.1.html: Input should be a valid string" in details[1]
    assert "not both" in details[2] and "'html' or 'text'" in details[3]
    assert "body.documents.0.block: Extra inputs" in details[4]  # the first of the second batch
    assert all(item["error"] == "invalid_input" for item in results[1:6])
    for i in (1, 2, 3, 5):  # the same verdict as alone
        alone = client.post("/v1/clean", json=docs[i])
        assert alone.status_code == 422


def test_batch_limits(client):
    body = assert_error(client.post("/v1/clean/batch", json={"documents": [{"text": "a"}] * 5}),
                        422, "invalid_input")
    assert "limit of 4" in body["detail"]
    assert_error(client.post("/v1/clean/batch", json={"documents": []}), 422, "invalid_input")


@pytest.mark.parametrize("content_type", ["application/xml", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    assert_error(client.post("/v1/clean", content=b"<p>x</p>", headers=headers), 415,
                 "unsupported_media_type")


@pytest.mark.parametrize("path", ["/v1/clean/batch", "/v1/examples", "/v1/model/reload"])
def test_json_endpoints_refuse_other_content_types(client, path):
    r = client.post(path, content=b"<p>x</p>", headers={"content-type": "text/html",
                                                        "X-API-Key": API_KEY})
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("path", ["/v1/clean/batch", "/v1/examples", "/v1/model/reload"])
def test_json_endpoints_refuse_a_body_without_content_type(client, path):
    """`requests.post(url, data=json.dumps(...))` sends no Content-Type: say so, not 422."""
    r = client.post(path, content=b'{"documents": [{"text": "a"}]}', headers={"X-API-Key": API_KEY})
    assert "no content-type" in assert_error(r, 415, "unsupported_media_type")["detail"].lower()


def test_an_empty_chunked_body_without_content_type_is_no_body(client):
    """An empty chunked body was "a body but no Content-Type" (415), while `Content-Length: 0`
    was let through: the body decides, not its headers."""
    r = client.post("/v1/model/reload", content=iter([b""]), headers={"X-API-Key": API_KEY})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/v1/clean", "/v1/clean/batch", "/v1/examples"])
def test_malformed_json_is_named_alike_on_every_endpoint(client, path):
    """The batch and examples endpoints answered "body.13: JSON decode error", a character
    offset shown as a field, where `/v1/clean` said what was wrong."""
    r = client.post(path, content=b'{"documents": ', headers={"content-type": "application/json",
                                                              "X-API-Key": API_KEY})
    detail = assert_error(r, 422, "invalid_input")["detail"]
    assert detail.startswith("the body is not valid JSON: Expecting value: line 1 column 15"), detail


def test_a_lone_surrogate_gets_the_same_answer_alone_and_in_a_batch(client):
    """JSON clients write lone surrogates as escapes; the library makes them U+FFFD."""
    body = '{"text": "Harbour bridge reopens \\udc80 after repairs."}'
    alone = client.post("/v1/clean", content=body.encode(), headers={"content-type": "application/json"})
    batch = client.post("/v1/clean/batch", content=f'{{"documents": [{body}]}}'.encode(),
                        headers={"content-type": "application/json"})
    assert alone.status_code == 200, alone.text
    assert batch.json()["results"] == [{"status": 200, "result": alone.json()}]
    assert "\ufffd" in alone.json()["text"]


@pytest.mark.parametrize("kwargs, needle", [
    ({"json": {"html": "<p>a</p>", "text": "b"}}, "not both"),
    ({"json": {"html": "<p>a</p>", "foo": 1}}, "body.foo: extra inputs"),
    ({"json": {"html": 5}}, "body.html: input should be a valid string"),
    ({"json": {"html": "<p>a</p>", "blocks": "yes"}}, "body.blocks: input should be a valid boolean"),
    ({"json": {"html": "<p>a</p>", "url": "/news/1"}}, "not an absolute url"),
    ({"json": {}}, "'html' or 'text'"),
    ({"json": ["<p>a</p>"]}, "'html' or 'text'"),
    ({"json": {"htlm": "<p>a</p>"}}, "'html' or 'text', not 'htlm'"),  # the typo named
    ({"json": {"url": "https://x.org/a", "Text": "a"}}, "not 'url', 'text'"),
    ({"json": {"html": 42}}, "string"),
    ({"json": {"html": "<p>a</p>", "block": True}}, "block"),
    ({"json": {"html": "<p>a</p>", "url": "u" * 5000}}, "url"),
    ({"content": b'{"html": ', "headers": {"content-type": "application/json"}}, "JSON"),
    ({"json": {"html": "<p>a</p>"}, "params": {"blocks": "true"}}, "query"),
    ({"json": {"text": "a\x00b"}}, "NUL"),
    ({"json": {"html": ""}}, "empty"),
    ({"json": {"html": "just words, no markup"}}, "HTML"),
    ({"content": bytes(range(256)) * 20, "headers": {"content-type": "text/html"}}, "binary"),
    ({"content": b"caf\xe9", "headers": {"content-type": "text/plain"}}, "utf-8"),
    ({"content": b"a", "headers": {"content-type": "text/plain; charset=no-such"}}, "charset"),
    ({"content": b"a", "headers": {"content-type": "text/plain; charset=undefined"}}, "undefined"),
    ({"content": b"<p>a \\ud800 b</p>", "headers": {"content-type": "text/plain; charset=unicode_escape"}},
     "unknown charset"),
    ({"content": b'{"html": ' + b"[" * 900 + b"]" * 900 + b"}",
      "headers": {"content-type": "application/json"}}, "html: Input should be a valid string"),
    ({"content": b"text", "headers": {"content-type": "text/plain"}, "params": {"url": "https://x.org"}},
     "url"),
])
def test_invalid_input_is_422_with_a_message(client, kwargs, needle):
    body = assert_error(client.post("/v1/clean", **kwargs), 422, "invalid_input")
    assert needle.lower() in body["detail"].lower(), body


def test_bodies_over_the_limit_are_413(client):
    big = b"<p>" + b"a" * 600_000 + b"</p>"
    body = assert_error(client.post("/v1/clean", content=big, headers={"content-type": "text/html"}),
                        413, "payload_too_large")
    assert "500,000" in body["detail"]

    def chunks():  # no Content-Length: the limit must hold while receiving
        for _ in range(100):
            yield b"<p>" + b"b" * 10_000 + b"</p>"

    assert_error(client.post("/v1/clean", content=chunks(), headers={"content-type": "text/html"}),
                 413, "payload_too_large")
    # under the body limit, over the document limit: the library's own check answers
    doc = article_html() + "<!--" + "c" * 250_000 + "-->"
    body = assert_error(client.post("/v1/clean", json={"html": doc}), 413, "payload_too_large")
    assert "200,000" in body["detail"]
    # and the service goes on
    assert client.post("/v1/clean", json={"text": "still here"}).status_code == 200


def test_a_body_is_limited_whatever_the_method(client):
    """A GET carrying a body is held to the body limit too, and a route that takes no body
    never reads one: a 200 MB JSON body on `GET /v1/examples` was read whole (800 MB of memory)
    and answered 200."""
    key = {"X-API-Key": API_KEY, "content-type": "application/json"}
    big = client.request("GET", "/v1/examples?limit=1", content=b" " * 600_000, headers=key)
    detail = assert_error(big, 413, "payload_too_large")["detail"]
    # what sets the limit, also when only --max-bytes was given (it named --max-body-bytes alone)
    assert "500,000" in detail and "--max-body-bytes" in detail and "3 x --max-bytes" in detail

    def chunks():  # no Content-Length: the limit holds while receiving
        for _ in range(100):
            yield b" " * 10_000

    assert_error(client.request("GET", "/v1/examples", content=chunks(), headers=key), 413,
                 "payload_too_large")
    assert_error(client.request("DELETE", "/v1/clean", content=b" " * 600_000, headers=key), 413,
                 "payload_too_large")
    # within the limit, a body the route does not take is neither parsed nor counted
    braces = b"[" + b"{}," * 150_000 + b"{}]"
    listing = client.request("GET", "/v1/examples?limit=1", content=braces, headers=key)
    assert listing.status_code == 200, listing.text


def test_a_body_of_exactly_the_limit_is_taken(client):
    """--max-body-bytes is the largest body taken, declared, sent in chunks or once
    decompressed; one byte more is 413."""
    import gzip

    key = {"X-API-Key": API_KEY, "content-type": "application/json"}
    limit = 500_000  # the module client's
    exact = client.request("GET", "/healthz", content=b" " * (limit - 2) + b"{}", headers=key)
    assert exact.status_code == 200, exact.text

    def chunks():  # no Content-Length
        for _ in range(limit // 10_000):
            yield b" " * 10_000

    assert client.request("GET", "/healthz", content=chunks(), headers=key).status_code == 200
    assert_error(client.request("GET", "/healthz", content=b" " * (limit + 1), headers=key), 413,
                 "payload_too_large")
    gz = {**key, "content-encoding": "gzip"}
    assert client.request("GET", "/healthz", content=gzip.compress(b" " * limit), headers=gz).status_code == 200
    assert_error(client.request("GET", "/healthz", content=gzip.compress(b" " * (limit + 1)), headers=gz),
                 413, "payload_too_large")


@pytest.mark.parametrize("coding", ["x-gzip", "GZIP", "identity", "identity, gzip", "gzip,gzip",
                                    "deflate, gzip"])
def test_content_codings_are_read_in_every_spelling_http_allows(client, coding):
    """Codings are case-insensitive, "x-gzip" is gzip and "identity" no coding at all: each
    was a 415 under a mutation no test caught. A list is undone last first (RFC 9110: "gzip,
    gzip" from a proxy that compressed again was a 415)."""
    import gzip
    import zlib

    doc = json.dumps({"text": "A line of text."}).encode()
    body = doc
    for name in (c.strip().lower() for c in coding.split(",")):
        body = {"identity": bytes, "deflate": zlib.compress}.get(name, gzip.compress)(body)
    r = client.post("/v1/clean", content=body, headers={"content-type": "application/json",
                                                         "content-encoding": coding})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "A line of text."


@pytest.mark.parametrize("coding", ["gzip, br", "gzip, gzip, gzip, gzip"])
def test_a_list_of_codings_is_refused_whole_when_one_is_not_undone_here(client, coding):
    import gzip

    body = gzip.compress(json.dumps({"text": "A line of text."}).encode())
    r = client.post("/v1/clean", content=body, headers={"content-type": "application/json",
                                                         "content-encoding": coding})
    assert repr(coding) in assert_error(r, 415, "unsupported_media_type")["detail"]


def test_each_outcome_has_its_status_and_a_503_says_when_to_retry(client):
    """Clients branch on the status and on Retry-After: a busy or draining service is 503 with
    Retry-After, a crashed worker or a model error 500, any other refusal of a document 422."""
    from api.errors import outcome_status

    assert outcome_status("Busy") == (503, "busy")
    assert outcome_status("NotReady") == (503, "not_ready")
    assert outcome_status("WorkerCrashed") == (500, "worker_crashed")
    assert outcome_status("ModelError") == (500, "model_error")
    assert outcome_status("SomeOtherInputProblem") == (422, "invalid_input")
    pool = client.app.state.pool
    pool._draining = True  # as on SIGTERM
    try:
        r = client.post("/v1/clean", json={"text": "a line"})
    finally:
        pool._draining = False
    assert_error(r, 503, "not_ready")
    assert r.headers["retry-after"] == "1"


def test_a_json_body_not_in_utf8_is_422(client):
    """FastAPI's own 400 for a body it cannot decode is answered as every invalid body is."""
    r = client.post("/v1/clean/batch", content='{"documents": [{"text": "é"}]}'.encode("latin-1"),
                    headers={"content-type": "application/json"})
    assert_error(r, 422, "invalid_input")


def test_no_answer_may_be_cached_or_sniffed(client):
    """Answers hold clients' pages and the example store's labels: a shared cache must not keep
    them (for the next client), and a browser must not read a JSON answer as another type."""
    key = {"X-API-Key": API_KEY}
    answers = [client.post("/v1/clean", json={"text": "a line"}),
               client.get("/v1/examples", headers=key), client.get("/v1/model"),
               client.get("/v1/nowhere"),  # 404 of the framework
               client.post("/v1/clean", content=b"<p>" + b"a" * 600_000,  # 413 before routing
                           headers={"content-type": "text/html"})]
    for r in [*answers, client.get("/docs")]:
        assert r.headers.get("cache-control") == "no-store", (r.request.url, r.status_code)
        assert r.headers.get("x-content-type-options") == "nosniff", (r.request.url, r.status_code)
        # and no other site may frame a page of the service (`/docs` sends requests)
        assert r.headers.get("content-security-policy") == "frame-ancestors 'none'"
        assert r.headers.get("x-frame-options") == "DENY"
    # an error answered outside the app's middleware: a 500 (a loopback service's 421 is
    # checked in test_api_server)
    from api.errors import error_response
    assert error_response(500, "internal_error", "x").headers["cache-control"] == "no-store"
    # the labelling page keeps its own: revalidated, not refetched
    assert client.get("/label").headers["cache-control"] == "no-cache"


def test_compressed_bodies_are_decompressed_within_the_limit(client, library):
    """A crawler that keeps responses gzipped posts them as they are; JSON can come compressed
    too. Other codings are refused, not read as if plain, and a bomb stops at the body limit."""
    import gzip
    import zlib

    html = article_html()
    expected = client.post("/v1/clean", json={"html": html}).json()
    as_json = gzip.compress(json.dumps({"html": html}).encode())
    r = client.post("/v1/clean", content=as_json, headers={
        "content-type": "application/json", "content-encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.json() == expected
    for coded in (zlib.compress(html.encode()), zlib.compress(html.encode())[2:-4]):  # zlib, raw
        r = client.post("/v1/clean", content=coded, headers={
            "content-type": "text/html", "content-encoding": "deflate"})
        assert r.status_code == 200, r.text
        assert r.json() == expected
    # gzip files written in parts (one member each) are one body: every member is read
    half = len(html) // 2
    members = gzip.compress(html[:half].encode()) + gzip.compress(html[half:].encode())
    r = client.post("/v1/clean", content=members, headers={
        "content-type": "text/html", "content-encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.json() == expected
    batch = gzip.compress(json.dumps({"documents": [{"html": html}]}).encode())
    r = client.post("/v1/clean/batch", content=batch, headers={
        "content-type": "application/json", "content-encoding": "gzip"})
    assert r.json()["results"][0]["result"] == expected
    assert_error(client.post("/v1/clean", content=html.encode(), headers={
        "content-type": "text/html", "content-encoding": "br"}), 415, "unsupported_media_type")
    assert_error(client.post("/v1/clean", content=b"not gzip at all", headers={
        "content-type": "text/html", "content-encoding": "gzip"}), 400, "bad_request")
    assert_error(client.post("/v1/clean", content=gzip.compress(html.encode())[:-20], headers={
        "content-type": "text/html", "content-encoding": "gzip"}), 400, "bad_request")
    bomb = gzip.compress(b"<p>" + b"a" * 5_000_000 + b"</p>")  # 5 KB that inflate to 5 MB
    body = assert_error(client.post("/v1/clean", content=bomb, headers={
        "content-type": "text/html", "content-encoding": "gzip"}), 413, "payload_too_large")
    assert "once decompressed" in body["detail"]


def test_a_request_without_a_body_is_not_refused_for_its_content_encoding(client):
    """Proxies and clients that set Content-Encoding on every request sent GET /healthz and
    got 415 (br) or 400 (gzip: "not valid gzip data"): there was no body to decode."""
    for coding in ("gzip", "br"):
        r = client.get("/healthz", headers={"content-encoding": coding})
        assert r.status_code == 200, r.text
        r = client.get("/v1/model", headers={"content-encoding": coding})
        assert r.status_code == 200, r.text


def test_a_gzip_body_of_countless_members_costs_work_in_proportion_to_its_size(client, monkeypatch):
    """Each gzip member was handed the whole rest of the body, which zlib then copied: work
    grew with the square of the number of members (320,000 empty ones, 6.4 MB: 41 s, /healthz
    stalled). Counted here as the bytes handed to zlib, which must stay within a few times the
    body's size."""
    import gzip
    import zlib

    handed = []
    decompressobj = zlib.decompressobj

    class Counting:
        def __init__(self, wbits):
            self._dec = decompressobj(wbits)

        def decompress(self, data, max_length=0):
            handed.append(len(data))
            return self._dec.decompress(data, max_length)

        def __getattr__(self, name):
            return getattr(self._dec, name)

    monkeypatch.setattr(zlib, "decompressobj", Counting)
    page = article_html().encode()
    body = gzip.compress(b"", mtime=0) * 20_000 + gzip.compress(page)  # 400 kB
    r = client.post("/v1/clean", content=body, headers={
        "content-type": "text/html", "content-encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Schools budget to rise next year"
    assert sum(handed) < 10 * len(body), f"{sum(handed):,} bytes handed to zlib"


def test_errors_of_the_framework_are_json_too(client):
    assert_error(client.get("/no/such/route"), 404, "not_found")
    assert_error(client.get("/v1/clean"), 405, "method_not_allowed")
    # not a 307 to an absolute URL, which behind a proxy that strips a prefix named the wrong one
    for path in ("/v1/clean/", "/healthz/"):
        assert_error(client.post(path, content=b"<p>Ferry</p>", headers={"content-type": "text/html"},
                                 follow_redirects=False), 404, "not_found")
    assert_error(client.get("/v1/examples", params={"limit": 0}, headers={"X-API-Key": API_KEY}),
                 422, "invalid_input")


def test_a_405_names_every_method_of_its_path(client):
    """Starlette named the first route's methods only: GET and POST /v1/examples are two
    routes, a probe's HEAD is a route of its own."""
    for path, allowed in (("/v1/examples", "GET, HEAD, POST"), ("/healthz", "GET, HEAD"),
                          ("/readyz", "GET, HEAD"), ("/v1/clean", "POST")):
        response = client.put(path, headers={"X-API-Key": API_KEY})
        assert_error(response, 405, "method_not_allowed")
        assert response.headers["allow"] == allowed, path


def test_a_misspelt_option_beside_a_url_is_not_blamed_on_its_encoding(client):
    """The hint to percent-encode the url is for a parameter cut from its value, not for
    `?url=https://a.org/1&block=true`."""
    response = client.post("/v1/clean?url=https://news.example.org/a/1&block=true", content=article_html(),
                           headers={"content-type": "text/html"})
    assert assert_error(response, 422, "invalid_input")["detail"] == (
        "unknown query parameter 'block': it takes blocks, favor_precision, url")


@pytest.mark.parametrize("query, needle", [
    ("block=true", "unknown query parameter 'block': it takes blocks, favor_precision, url"),  # misspelt
    ("URL=https://news.example.org/a", "unknown query parameter 'URL'"),
    ("blocks=yes", "blocks: Value error, must be true or false"),  # a mistake in JSON too
    ("blocks=1", "must be true or false"),
    ("blocks=true&blocks=false", "query parameter 'blocks' is given 2 times: give it once"),
    ("url=https://a.example/1&url=https://a.example/2", "query parameter 'url' is given 2 times"),
    # an address written unencoded: its own query is read as the service's
    ("url=https://news.example.org/a?id=1&page=2",
     "unknown query parameter 'page': it takes blocks, favor_precision, url (a '&' in a url's "
     "value starts another parameter: percent-encode the value)"),
])
def test_a_misspelt_or_unclear_query_option_is_refused_not_ignored(client, query, needle):
    """`?block=true` answered 200 without the blocks asked for, `?URL=` without the url."""
    response = client.post(f"/v1/clean?{query}", content=article_html(),
                           headers={"content-type": "text/html"})
    assert needle in assert_error(response, 422, "invalid_input")["detail"]
    listing = client.get("/v1/examples?revieved=false", headers={"X-API-Key": API_KEY})
    assert "unknown query parameter 'revieved'" in assert_error(listing, 422, "invalid_input")["detail"]
    for flag in ("yes", "1", "on"):  # the listing's flag is read as strictly
        listing = client.get(f"/v1/examples?reviewed={flag}", headers={"X-API-Key": API_KEY})
        assert "must be true or false" in assert_error(listing, 422, "invalid_input")["detail"]
    assert client.get("/v1/examples?reviewed=False", headers={"X-API-Key": API_KEY}).status_code == 200
    assert client.post("/v1/clean?blocks=TRUE", content=article_html(),
                       headers={"content-type": "text/html"}).json()["blocks"]


def test_the_schema_declares_what_the_service_can_answer(client):
    """A client generated from the schema must know every status it can get, that a 503 says
    when to retry, that the API key is needed only when the service has one, and the batch
    size; a raw page is bytes in any charset."""
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"421", "500"} <= set(responses), (method, path)
            if method == "post":
                assert "400" in responses, path
            if "503" in responses:
                assert "Retry-After" in responses["503"]["headers"], path
            if "security" in operation:
                assert {} in operation["security"], path
    components = schema["components"]["schemas"]
    assert components["BatchRequest"]["properties"]["documents"]["maxItems"] == 4
    assert [b["required"] for b in components["ExampleIn"]["oneOf"]] == [["html"], ["text"]]
    raw = schema["paths"]["/v1/clean"]["post"]["requestBody"]["content"]["text/html"]["schema"]
    assert raw["format"] == "binary"


def test_saved_labels_come_back_with_their_time_and_an_older_copy_does_not_undo_a_correction(tmp_path):
    """The answer says when the labels that stated no time were given; sent back with that
    time after someone else's correction, a label does not replace it. A time that is not ISO
    8601 is refused."""
    settings = Settings(workers=1, api_key=API_KEY, examples_db=tmp_path / "ex.db")
    with TestClient(create_app(settings)) as client:  # a store of its own
        _labels_with_times(client)


def _labels_with_times(client) -> None:
    key = {"X-API-Key": API_KEY}
    page = {"id": "times-1", "text": "Ferry returns\nSign up today"}
    first = client.post("/v1/examples", headers=key, json={"labelled_by": "alice", "examples": [
        {**page, "blocks": [{"text": "Sign up today", "label": "junk"}]}]}).json()
    given = first["labelled_at"]
    stored = client.get("/v1/examples", headers=key, params={"limit": 100}).json()["examples"]
    [block] = [e for e in stored if e["id"] == "times-1"][0]["blocks"]
    assert (block["labelled_at"], block["labelled_by"]) == (given, "alice")
    client.post("/v1/examples", headers=key, json={"labelled_by": "bob", "examples": [
        {**page, "blocks": [{"text": "Sign up today", "label": "teaser"}]}]})
    stale = client.post("/v1/examples", headers=key, json={"labelled_by": "carol", "examples": [
        {**page, "blocks": [{"text": "Sign up today", "label": "junk", "labelled_by": "alice",
                             "labelled_at": given}]}]}).json()
    assert (stale["report"]["labels_kept"], stale["report"]["labels_changed"]) == (1, 0)
    assert stale["report"]["kept"] == {"times-1": [0]}  # which label, by its place as sent
    bad = client.post("/v1/examples", headers=key, json={"examples": [
        {**page, "blocks": [{"text": "Sign up today", "label": "junk", "labelled_at": "yesterday"}]}]})
    assert "must be a time in ISO 8601" in assert_error(bad, 422, "invalid_input")["detail"]


def test_a_json_body_of_countless_tiny_objects_is_refused_before_it_is_parsed(client):
    """`json.loads` holds the event loop whatever thread it runs in: 10 million ``{}`` in
    30 MB held it for a second and took 1 GB. The braces of a page's own scripts, inside its
    string, do not count."""
    flood = b",".join([b"{}"] * 150_000)
    for path, body in (("/v1/clean", b'{"text": "a", "z": [' + flood + b"]}"),
                       ("/v1/clean/batch", b'{"documents": [' + flood + b"]}")):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert "objects and arrays, the limit for this endpoint" in assert_error(response, 413, "payload_too_large")["detail"]
    reload = b"[" + flood + b"]"
    assert_error(client.post("/v1/model/reload", content=reload,  # the key first
                             headers={"content-type": "application/json"}), 401, "unauthorized")
    response = client.post("/v1/model/reload", content=reload,
                           headers={"content-type": "application/json", "X-API-Key": API_KEY})
    assert "objects and arrays, the limit for this endpoint" in assert_error(response, 413, "payload_too_large")["detail"]
    scripted = article_html().replace("</body>", "<script>" + "var a = {b: [1]};" * 3_000 + "</script></body>")
    assert client.post("/v1/clean", json={"html": scripted}).status_code == 200


def test_another_sites_page_cannot_reload_the_model_or_write_examples(tmp_path):
    """A page can POST to a service on localhost without a body and without a preflight: on a
    service without a key (`noisefilter label`) that switched its model to whatever ACTIVE
    names. Browsers say where a request comes from (`Sec-Fetch-Site`); the labelling page's
    own requests are same-origin, and programs send no such header."""
    settings = Settings(workers=1, examples_db=tmp_path / "ex.db")
    with TestClient(create_app(settings)) as c:
        for site in ("cross-site", "same-site"):
            reload = c.post("/v1/model/reload", headers={"sec-fetch-site": site})
            assert "another site's page" in assert_error(reload, 403, "forbidden")["detail"]
            listing = c.get("/v1/examples", headers={"sec-fetch-site": site})
            assert_error(listing, 403, "forbidden")
        assert c.get("/v1/examples", headers={"sec-fetch-site": "same-origin"}).status_code == 200
        assert c.post("/v1/model/reload").status_code == 200  # a program
        assert c.post("/v1/clean", json={"text": "a line"}, headers={"sec-fetch-site": "cross-site"}).status_code == 200


def test_never_fetches_a_url(client):
    """The page names a URL on a port we listen on; cleaning must not connect to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        port = listener.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        html = article_html(url_base=base, extra_head=f"<link rel='stylesheet' href='{base}/s.css'>"
                                                      f"<script src='{base}/a.js'></script>")
        html = html.replace("</article>", f"<img src='{base}/i.png'></article>")
        r = client.post("/v1/clean", json={"html": html, "url": f"{base}/page"})
        assert r.status_code == 200
        # a URL alone is not a document: the service will not fetch it to get one
        assert_error(client.post("/v1/clean", json={"url": f"{base}/page"}), 422)
        readable, _, _ = select.select([listener], [], [], 0.5)
        assert readable == [], "the service connected to a URL named in the page"
    finally:
        listener.close()


# -- examples --------------------------------------------------------------------------------

def test_example_endpoints_need_the_api_key(client):
    example = {"examples": [{"text": "a line", "blocks": [{"text": "a line", "label": "content"}]}]}
    for headers in ({}, {"X-API-Key": "wrong"}):
        assert_error(client.post("/v1/examples", json=example, headers=headers), 401, "unauthorized")
        assert_error(client.get("/v1/examples", headers=headers), 401, "unauthorized")
        assert_error(client.post("/v1/examples/labels", json={"document": "0" * 64, "blocks": []},
                                 headers=headers), 401, "unauthorized")
        assert_error(client.post("/v1/model/reload", json={}, headers=headers), 401, "unauthorized")
        # the key is checked first: without it, nothing is said about the body
        for path in ("/v1/examples", "/v1/model/reload"):
            assert_error(client.post(path, content=b"{", headers={
                **headers, "content-type": "application/json"}), 401, "unauthorized")
    # cleaning stays open
    assert client.post("/v1/clean", json={"text": "a line"}).status_code == 200


@pytest.mark.parametrize("opened", [True, False])
def test_requests_waiting_for_the_stores_lock_hold_up_no_other_endpoint(tmp_path, opened):
    """Saves waiting for SQLite's write lock (a long `store import` holds it) each held one of
    the 40 threads AnyIO shares among plain handlers, for up to the store's 60 s: with 40 of
    them, the labelling page, reading the store and decoding a page waited as long. The same
    with requests waiting to open a store locked so (a service started during an import)."""
    import sqlite3

    from train.store import ExampleStore

    key = {"X-API-Key": API_KEY}
    settings = Settings(workers=1, api_key=API_KEY, examples_db=tmp_path / "ex.db")

    def page(i):
        return {"examples": [{"text": f"Ferry returns for summer {i}\nShare this",
                              "blocks": [{"text": "Share this", "label": "junk"}]}]}

    ExampleStore(tmp_path / "ex.db").add([], labelled_by="x")  # the store exists, empty
    with TestClient(create_app(settings)) as c:
        if opened:
            assert c.post("/v1/examples", headers=key, json=page(-1)).status_code == 200
        holder = sqlite3.connect(tmp_path / "ex.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        waiting = [threading.Thread(target=c.post, args=("/v1/examples",),
                                    kwargs={"headers": key, "json": page(i)}) for i in range(45)]
        try:
            for request in waiting:
                request.start()
            time.sleep(1.0)  # all waiting for the lock
            answers = {}

            def ask(name, method, path, **kwargs):
                started = time.monotonic()
                status = c.request(method, path, **kwargs).status_code
                answers[name] = (status, time.monotonic() - started)

            probes = [(("label page", "GET", "/label"), {}),
                      (("decode", "POST", "/v1/decode"), {"content": b"<p>Ferry</p>",
                                                          "headers": {"Content-Type": "text/html"}})]
            if opened:  # (an opened store is read while another program writes)
                probes.append((("list", "GET", "/v1/examples"), {"headers": key}))
            asks = [threading.Thread(target=ask, args=args, kwargs=kwargs) for args, kwargs in probes]
            for asking in asks:
                asking.start()
            for asking in asks:
                asking.join(20)
            assert {name: status for name, (status, _) in answers.items()} == {
                name: 200 for (name, *_), _ in probes}, answers
            assert max(seconds for _, seconds in answers.values()) < 10, answers
        finally:
            holder.execute("ROLLBACK")
            for request in waiting:
                request.join(90)
        pages = c.get("/v1/examples", headers=key, params={"limit": 100}).json()["store"]["pages"]
        assert pages == 45 + opened


def test_an_example_is_found_by_its_document_whatever_its_id(tmp_path):
    """What the labelling page asks to show the labels saved before for the page it opens."""
    import hashlib

    key = {"X-API-Key": API_KEY}
    text = "Ferry returns for the summer\nShare this"
    settings = Settings(workers=1, api_key=API_KEY, examples_db=tmp_path / "ex.db")
    with TestClient(create_app(settings)) as c:  # a store of its own
        c.post("/v1/examples", headers=key, json={"examples": [
            {"id": "ferry-by-document", "text": text,
             "blocks": [{"text": "Share this", "label": "junk"}]}]})
        digest = hashlib.sha256(f"text\0{text}".encode()).hexdigest()
        found = c.get("/v1/examples", headers=key, params={"document": digest}).json()["examples"]
        assert [e["id"] for e in found] == ["ferry-by-document"]
        other = hashlib.sha256(b"text\0another page").hexdigest()
        assert c.get("/v1/examples", headers=key, params={"document": other}).json()["examples"] == []
        assert_error(c.get("/v1/examples", headers=key, params={"document": "not-a-hash"}), 422)


def test_the_saved_labels_of_a_page_are_matched_to_its_blocks_as_training_matches_them(tmp_path):
    """What the labelling page shows a page opened again with: it matched stored labels to
    blocks itself, text for text, so the second copy of a text labelled once, and the lines of
    a paragraph labelled whole, showed the model's label (saved back as a proposal); a
    person's label is shown before a model's proposal for the same block, with its
    provenance."""
    import hashlib

    key = {"X-API-Key": API_KEY}
    text = ("Harbour crane returns\nAdvertisement\nThe crane lifts again on Monday.\n"
            "Advertisement\nRead more: tolls frozen for a year\nRead more: the bridge at night")
    lines = text.split("\n")
    settings = Settings(workers=1, api_key=API_KEY, examples_db=tmp_path / "ex.db")
    with TestClient(create_app(settings)) as c:  # a store of its own
        r = c.post("/v1/examples", headers=key, json={"labelled_by": "alice", "examples": [
            {"id": "crane", "text": text, "blocks": [
                {"text": "Advertisement", "label": "junk"},
                {"text": " ".join(lines[4:]), "label": "related"},
                {"text": lines[2], "label": "junk", "reviewed": False, "labelled_by": "model:x"},
                {"text": lines[5], "label": "content", "reviewed": False,
                 "labelled_by": "model:x"}]}]})
        assert r.status_code == 200, r.text
        digest = hashlib.sha256(f"text\0{text}".encode()).hexdigest()
        answer = c.post("/v1/examples/labels", headers=key,
                        json={"document": digest, "blocks": lines}).json()
        assert answer["id"] == "crane"
        got = [b and (b["label"], b["reviewed"], b["labelled_by"]) for b in answer["blocks"]]
        assert got == [None, ("junk", True, "alice"), ("junk", False, "model:x"),
                       ("junk", True, "alice"), ("related", True, "alice"),
                       ("related", True, "alice")]
        other = hashlib.sha256(b"text\0another page").hexdigest()
        assert c.post("/v1/examples/labels", headers=key,
                      json={"document": other, "blocks": ["a", "b"]}).json() == {
            "id": None, "blocks": [None, None]}
        assert_error(c.post("/v1/examples/labels", headers=key,
                            json={"document": "not-a-hash", "blocks": []}), 422)
        # a long page is answered, matching by exact text once the other passes would take
        # too long (100,000 blocks that matched none of 2,000 labels held a thread for 45 s)
        many = [f"Comment {n} on the crane" for n in range(20_000)]
        answer = c.post("/v1/examples/labels", headers=key,
                        json={"document": digest, "blocks": [*lines, *many]})
        assert answer.status_code == 200 and answer.json()["blocks"][1]["label"] == "junk"


def test_examples_round_trip(client):
    key = {"X-API-Key": API_KEY}
    html = article_html(title="Examples round trip")
    sent = {"labelled_by": "alice", "examples": [
        {"id": "page-1", "url": "https://news.example.org/1", "html": html, "source": "test",
         "blocks": [{"text": "Examples round trip", "label": "content"},
                    {"text": "Local team wins the cup after penalties", "label": "teaser"},
                    {"text": "   ", "label": "junk"}]},
        {"text": "line one\nline two", "blocks": [{"text": "line two", "label": "junk",
                                                   "reviewed": False}]},
    ]}
    r = client.post("/v1/examples", json=sent, headers=key)
    assert r.status_code == 200, r.text
    added = r.json()
    assert added["ids"][0] == "page-1" and added["ids"][1].startswith("doc-")
    assert added["report"]["pages_added"] == 2 and added["report"]["labels_added"] == 3
    assert [p["where"] for p in added["problems"]] == ["examples[0]"]
    assert "no text" in added["problems"][0]["message"]

    first = client.get("/v1/examples", params={"limit": 1}, headers=key).json()
    assert first["next_offset"] == 1 and first["store"]["pages"] == 2
    rest = client.get("/v1/examples", params={"offset": 1}, headers=key).json()
    assert rest["next_offset"] is None
    stored = {e["id"]: e for e in first["examples"] + rest["examples"]}
    assert set(stored) == set(added["ids"])
    page = stored["page-1"]
    assert page["html"] == html and page["source"] == "test"
    assert [(b["label"], b["labelled_by"], b["reviewed"]) for b in page["blocks"]] == \
        [("content", "alice", True), ("teaser", "alice", True)]
    assert stored[added["ids"][1]]["text"] == "line one\nline two"
    unreviewed = client.get("/v1/examples", params={"reviewed": "false"}, headers=key).json()
    assert [e["id"] for e in unreviewed["examples"]] == [added["ids"][1]]

    # a correction replaces the label (the store keeps the old one in its history)
    fix = {"examples": [{"id": "page-1", "html": html, "blocks": [
        {"text": "Local team wins the cup after penalties", "label": "junk"}]}]}
    report = client.post("/v1/examples", json=fix, headers=key).json()["report"]
    assert report["labels_changed"] == 1 and report["pages_added"] == 0


def test_a_page_left_with_no_labelled_block_is_skipped_not_stored(tmp_path):
    """A page whose every block was left out (a block of spaces only) was stored without a
    label, and `GET /v1/examples` gave it back with `"blocks": []`, which sent back failed the
    whole request with 422. Now such a page, sent with no blocks too, is skipped and reported,
    as `noisefilter train` skips such a line, and the pages beside it are stored."""
    key = {"X-API-Key": API_KEY}
    settings = Settings(workers=1, api_key=API_KEY, examples_db=tmp_path / "ex.db")
    with TestClient(create_app(settings)) as c:  # a store of its own
        r = c.post("/v1/examples", headers=key, json={"examples": [
            {"id": "spaces", "text": "Pier reopens\nShare", "blocks": [{"text": "  ", "label": "junk"}]},
            {"id": "none", "text": "Pier reopens", "blocks": []},
            {"id": "kept", "text": "Pier reopens\nShare this",
             "blocks": [{"text": "Share this", "label": "junk"}]}]})
        assert r.status_code == 200, r.text
        assert [p["where"] for p in r.json()["problems"] if p["message"].endswith("page skipped")] \
            == ["examples[0]", "examples[1]"]
        assert r.json()["ids"] == [None, None, "kept"]  # in request order: no stored id said
        listed = c.get("/v1/examples", headers=key).json()
        assert [e["id"] for e in listed["examples"]] == ["kept"] and listed["store"]["pages"] == 1


def test_a_lone_surrogate_in_a_labelled_block_is_stored_as_u_fffd(tmp_path):
    """A lone surrogate (a JSON "\\udc80" escape) in a block's text, an id or a `labelled_by`
    got 422 "unable to parse raw data as a unicode string", while `python -m train.store
    import` stored it as U+FFFD and `/v1/clean` took it; now it is stored as U+FFFD here too."""
    key = {"X-API-Key": API_KEY, "content-type": "application/json"}
    body = json.dumps({"labelled_by": "al\udc80ice", "examples": [
        {"id": "pier\udc80", "text": "Pier reopens\nShare\udc80 this",
         "url": "https://harbour.example/\udc80pier",
         "blocks": [{"text": "Share\udc80 this", "label": "junk", "source": "hand\udc80"}]}]})
    settings = Settings(workers=1, api_key=API_KEY, examples_db=tmp_path / "ex.db")
    with TestClient(create_app(settings)) as c:  # a store of its own
        r = c.post("/v1/examples", headers=key, content=body)
        assert r.status_code == 200, r.text
        [page] = c.get("/v1/examples", headers=key).json()["examples"]
    [block] = page["blocks"]
    assert (page["id"], block["text"], block["labelled_by"], block["source"]) == \
        ("pier\ufffd", "Share\ufffd this", "al\ufffdice", "hand\ufffd")
    assert page["url"] == "https://harbour.example/\ufffdpier"
    # in a label or a time it is a mistake, said as such (not "unable to parse raw data")
    for field, value in (("label", "ju\udc80nk"), ("labelled_at", "2026-12-01\udc80")):
        block = {"text": "Share this", "label": "junk", field: value}
        with TestClient(create_app(settings)) as c:
            r = c.post("/v1/examples", headers=key, content=json.dumps(
                {"examples": [{"text": "Share this", "blocks": [block]}]}))
        assert r.status_code == 422 and "unable to parse raw data" not in r.text, r.text
        assert field in r.json()["detail"], r.text


def test_an_example_id_given_as_a_whole_number_is_taken_as_in_example_files(client):
    """`{"id": 42, …}`: the example files' reader takes it as "42"; posted here, the request
    was refused, with every other page in it. A fraction or true is still refused."""
    key = {"X-API-Key": API_KEY}
    line = {"id": 42, "text": "Hello there world line\nSubscribe now",
            "blocks": [{"text": "Hello there world line", "label": "content"},
                       {"text": "Subscribe now", "label": "junk"}]}
    r = client.post("/v1/examples", json={"examples": [line]}, headers=key)
    assert r.status_code == 200 and r.json()["ids"] == ["42"], r.text
    for bad in (4.5, True):
        r = client.post("/v1/examples", json={"examples": [{**line, "id": bad}]}, headers=key)
        assert "id" in assert_error(r, 422, "invalid_input")["detail"]
    # and the schema says so, for clients generated from it
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ExampleIn"]
    assert {"type": "integer"} in schema["properties"]["id"]["anyOf"]


@pytest.mark.parametrize("example, needle", [
    ({"text": "a", "html": "<p>a</p>", "blocks": [{"text": "a", "label": "content"}]}, "not both"),
    ({"blocks": [{"text": "a", "label": "content"}]}, "'html' or 'text'"),
    ({"text": "a", "blocks": [{"text": "a", "label": "Not A Label"}]}, "label"),
    # a page the service would refuse to clean is no page to label either
    ({"html": "", "blocks": [{"text": "a", "label": "content"}]}, "'html' is empty"),
    ({"text": " \n ", "blocks": [{"text": "a", "label": "content"}]}, "'text' is empty"),
    ({"html": "\x00" * 100, "blocks": [{"text": "a", "label": "content"}]}, "binary"),
    # text `clean_text` refuses: stored, it was skipped by training ("page skipped")
    ({"text": "<!DOCTYPE html><p>A line.</p>", "blocks": [{"text": "A line.", "label": "content"}]},
     "HTML document"),
    ({"text": "A long enough line of text.\n" * 20 + "x\x00y",
      "blocks": [{"text": "A long enough line of text.", "label": "content"}]}, "NUL"),
    # true or false, as `blocks` of a document: "yes" is a mistake, not a yes
    ({"text": "a", "blocks": [{"text": "a", "label": "junk", "reviewed": "yes"}]}, "reviewed"),
    ({"text": "a", "blocks": [{"text": "a", "label": "junk", "reviewed": 1}]}, "reviewed"),
])
def test_invalid_examples_are_422(client, example, needle):
    r = client.post("/v1/examples", json={"examples": [example]}, headers={"X-API-Key": API_KEY})
    assert needle.lower() in assert_error(r, 422, "invalid_input")["detail"].lower()


# -- model, health, metrics ------------------------------------------------------------------

def test_model_info(client):
    info = client.get("/v1/model").json()
    assert info["workers"] == 2
    assert info["file"] in info["available"]
    assert info["manifest"]["sha256"] and info["labels"]
    assert info["favor_precision"] is False  # the service's default for documents that do not say


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["workers"] == 2
    # monitors and load balancers probe with HEAD as well (it was 405)
    assert client.head("/healthz").status_code == 200 and client.head("/readyz").status_code == 200


def test_every_get_answers_head_with_the_same_status_and_no_body(client):
    """HEAD got 405 on /metrics, /v1/model and /v1/examples (RFC 9110: wherever GET is), and
    goes through the same checks as GET: the key, the query."""
    for path in ("/metrics", "/v1/model", "/v1/examples"):
        get, head = client.get(path, headers={"X-API-Key": API_KEY}), client.head(path, headers={"X-API-Key": API_KEY})
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert client.head("/v1/examples").status_code == 401
    assert client.head("/v1/model", params={"verbose": "true"}).status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert all("head" not in operations for operations in paths.values())


def test_docs_and_schema(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/clean", "/v1/clean/batch", "/v1/examples", "/v1/model", "/v1/model/reload",
            "/healthz", "/readyz", "/metrics"} <= set(paths)
    assert set(paths["/v1/clean"]["post"]["requestBody"]["content"]) == \
        {"application/json", "text/html", "text/plain"}


def _metric(text: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + "$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_requests_latency_and_removed_blocks(client):
    before = client.get("/metrics").text
    result = client.post("/v1/clean", json={"html": article_html()}).json()
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    key = dict(method="POST", route="/v1/clean", status="200")
    assert _metric(text, "noisefilter_http_requests_total", **key) == \
        _metric(before, "noisefilter_http_requests_total", **key) + 1
    assert _metric(text, "noisefilter_http_request_duration_seconds_count", method="POST",
                   route="/v1/clean") >= 1
    assert 'noisefilter_http_request_duration_seconds_bucket{le="0.1",method="POST",route="/v1/clean"}' in text
    for label, count in result["label_counts"].items():
        name = "noisefilter_blocks_removed_total" if label != "content" else "noisefilter_blocks_total"
        assert _metric(text, name, label=label) - _metric(before, name, label=label) == count
    assert _metric(text, "noisefilter_workers") == 2
    # in bytes (Linux's ru_maxrss is in KiB): a cleaning process holds 20 MB and more
    assert 20 * 2**20 < _metric(text, "noisefilter_worker_peak_rss_bytes") < 1024 * 2**20


def test_clean_duration_counts_only_documents_a_cleaning_process_cleaned(client):
    """A document refused before any cleaning process saw it (over the size limit; also busy,
    client gone) was recorded as cleaned in 0 s, pulling the histogram's quantiles down."""
    before = client.get("/metrics").text
    over = article_html() + "<!--" + "c" * 250_000 + "-->"
    assert_error(client.post("/v1/clean", json={"html": over}), 413, "payload_too_large")
    assert client.post("/v1/clean", json={"html": article_html()}).status_code == 200
    text = client.get("/metrics").text
    count = "noisefilter_clean_duration_seconds_count"
    assert _metric(text, count, input="html") == _metric(before, count, input="html") + 1
    documents = "noisefilter_documents_total"  # both are counted as documents
    assert _metric(text, documents, input="html", outcome="payload_too_large") == \
        _metric(before, documents, input="html", outcome="payload_too_large") + 1


def test_metrics_name_the_route_of_requests_answered_before_routing(client):
    """A body refused by the size limit is counted under its route, as are the OpenAPI pages;
    only paths no route serves are "unmatched"."""
    before = client.get("/metrics").text
    client.post("/v1/clean", content=b"x" * 600_000, headers={"content-type": "text/html"})
    for path in ("/v1/clean/batch", "/v1/model/reload"):  # routes with a route class of their own
        client.post(path, content=b"x" * 600_000, headers={"content-type": "application/json"})
    client.get("/openapi.json")
    client.get("/no/such/route")
    text = client.get("/metrics").text
    for key in [dict(method="POST", route="/v1/clean", status="413"),
                dict(method="POST", route="/v1/clean/batch", status="413"),
                dict(method="POST", route="/v1/model/reload", status="413"),
                dict(method="GET", route="/openapi.json", status="200"),
                dict(method="GET", route="unmatched", status="404")]:
        assert _metric(text, "noisefilter_http_requests_total", **key) == \
            _metric(before, "noisefilter_http_requests_total", **key) + 1, key


# -- time limit ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """One cleaning process and a short time limit."""
    settings = Settings(workers=1, timeout=0.5, examples_db=tmp_path_factory.mktemp("s") / "ex.db")
    with TestClient(create_app(settings)) as c:
        yield c


def test_overrunning_document_gets_an_error_and_the_service_recovers(strict):
    html = slow_html(30_000)
    outcome = {}

    def post():
        started = time.monotonic()
        outcome["response"] = strict.post("/v1/clean", json={"html": html})
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=post)
    worker.start()
    # the event loop is not blocked meanwhile: health answers at once, many times
    latencies = []
    while worker.is_alive() and len(latencies) < 500:
        started = time.monotonic()
        assert strict.get("/healthz").status_code == 200
        latencies.append(time.monotonic() - started)
    worker.join(30)
    body = assert_error(outcome["response"], 422, "document_timeout")
    assert "0.5 s" in body["detail"]
    assert outcome["seconds"] < 10, outcome
    # a blocked loop would hold health checks for the whole 0.5 s of the slow document and
    # answer one or two; a busy machine may delay one now and then, hence the median
    assert len(latencies) >= 5 and statistics.median(latencies) < 0.1, (outcome, latencies)
    # the killed process is replaced; the next document is cleaned
    r = strict.post("/v1/clean", json={"html": article_html()})
    assert r.status_code == 200, r.text
    metrics = strict.get("/metrics").text
    assert _metric(metrics, "noisefilter_worker_restarts_total", reason="timeout") == 1, metrics
    assert strict.get("/readyz").json()["workers"] == 1


def test_a_request_over_the_time_limit_is_named_in_the_log_by_its_id_and_url(strict, caplog):
    """An operator could not tell which request, or page, a killed cleaning process had: the
    log said "a document took longer than the limit"; the id the client sent (or the one the
    service gave) comes back on the answer and is in the log line, with the page's address."""
    with caplog.at_level(logging.WARNING, logger="noisefilter.pool"):
        r = strict.post("/v1/clean", json={"html": slow_html(30_000), "url": "https://news.example/a/7"},
                        headers={"X-Request-ID": "crawl-42"})
        assert_error(r, 422, "document_timeout")
        deadline = time.monotonic() + 10
        while "killed cleaning process" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert r.headers["x-request-id"] == "crawl-42"
    assert "a document (request crawl-42, url 'https://news.example/a/7') took longer" in caplog.text


def test_every_answer_carries_a_request_id(client):
    """The client's id when usable, else a new one; error answers too (a 404, a 422, a 413
    refused before the app reads the body)."""
    answers = [client.post("/v1/clean", content=article_html(), headers={"content-type": "text/html"}),
               client.get("/v1/nothing-here"), client.post("/v1/clean", json={"html": 3}),
               client.post("/v1/clean", content=b"x" * (client.app.state.settings.body_limit + 1),
                           headers={"content-type": "text/html"})]
    assert [a.status_code for a in answers] == [200, 404, 422, 413]
    ids = [a.headers["x-request-id"] for a in answers]
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in ids) and len(set(ids)) == 4
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:9"})
    assert given.headers["x-request-id"] == "lb-7f3a:9"
    # an id that could forge log lines, or a very long one, is replaced
    for bad in ("a b", "x" * 200, "id\x1b[31m"):
        answer = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch("[0-9a-f]{32}", answer.headers["x-request-id"]), bad


# -- reload ----------------------------------------------------------------------------------

def _copy_model(folder: Path, name: str, version: str) -> None:
    source = active_model_path()
    shutil.copy(source, folder / f"{name}.joblib")
    manifest = json.loads(manifest_path(source).read_text())
    manifest.update(version=version, file=f"{name}.joblib")
    (folder / f"{name}.manifest.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def reloadable(tmp_path_factory):
    """A service on a models folder of its own: models a and b (the shipped model under two
    versions), a broken one, and a model outside the folder reachable by a symlink."""
    folder = tmp_path_factory.mktemp("models")
    _copy_model(folder, "a", "test-a")
    _copy_model(folder, "b", "test-b")
    _copy_model(folder, "modèle v2", "test-v2")  # a name train writes: reloadable too
    (folder / "broken.joblib").write_bytes(b"not a model")
    shutil.copy(manifest_path(folder / "a.joblib"), manifest_path(folder / "broken.joblib"))
    outside = tmp_path_factory.mktemp("outside")
    _copy_model(outside, "evil", "test-evil")
    (folder / "link.joblib").symlink_to(outside / "evil.joblib")
    (folder / "link.manifest.json").symlink_to(outside / "evil.manifest.json")
    (folder / "ACTIVE").write_text("a.joblib")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOISEFILTER_MODELS_DIR", str(folder))
        settings = Settings(workers=1, api_key=API_KEY,
                            examples_db=tmp_path_factory.mktemp("r") / "ex.db")
        with TestClient(create_app(settings), headers={"X-API-Key": API_KEY}) as c:
            yield c


def test_reload_switches_models_from_the_folder_only(reloadable):
    c = reloadable
    info = c.get("/v1/model").json()
    assert info["version"] == "test-a"
    assert {"a.joblib", "b.joblib"} <= set(info["available"])
    assert "link.joblib" not in info["available"]  # a reload refuses it: not offered either
    r = c.post("/v1/model/reload", json={"model": "b.joblib"})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] and r.json()["previous"] == "test-a"
    assert r.json()["model"]["version"] == "test-b"
    assert c.post("/v1/clean", json={"text": "a line"}).json()["model_version"] == "test-b"
    # the same model again changes nothing; no name means the folder's active model
    assert c.post("/v1/model/reload", json={"model": "b.joblib"}).json()["changed"] is False
    assert c.post("/v1/model/reload").json()["model"]["version"] == "test-a"
    assert "modèle v2.joblib" in info["available"]
    assert c.post("/v1/model/reload", json={"model": "modèle v2.joblib"}).json()["model"]["version"] == "test-v2"
    assert c.post("/v1/model/reload").json()["model"]["version"] == "test-a"


@pytest.mark.parametrize("name", ["../a.joblib", "/etc/passwd", "sub/a.joblib", "a.joblib/../b.joblib",
                                  "nothere.joblib", "a.manifest.json", ".a.joblib", "link.joblib",
                                  "a\\b.joblib", "a\nb.joblib", " a.joblib", SHIPPED_MODEL])
def test_reload_refuses_anything_but_a_model_in_the_folder(reloadable, name):
    assert_error(reloadable.post("/v1/model/reload", json={"model": name}), 404, "model_not_found")
    assert reloadable.get("/v1/model").json()["version"] == "test-a"


def test_reload_of_a_broken_model_keeps_the_old_one(reloadable):
    body = assert_error(reloadable.post("/v1/model/reload", json={"model": "broken.joblib"}),
                        422, "model_unusable")
    assert "test-a" in body["detail"]
    # named as the operator knows it, not by the private copy the processes loaded
    assert "/broken.joblib does not match its manifest" in body["detail"]
    assert "noisefilter-pool-" not in body["detail"]
    assert reloadable.get("/v1/model").json()["version"] == "test-a"
    assert reloadable.post("/v1/clean", json={"text": "a line"}).json()["model_version"] == "test-a"


def test_requests_in_flight_finish_on_the_old_model(reloadable):
    c = reloadable
    assert c.get("/v1/model").json()["version"] == "test-a"
    slow = {}
    worker = threading.Thread(target=lambda: slow.setdefault(
        "r", c.post("/v1/clean", json={"html": slow_html(3_000)})))
    worker.start()
    deadline = time.monotonic() + 10
    while _metric(c.get("/metrics").text, "noisefilter_workers_idle") != 0:
        assert time.monotonic() < deadline, "the slow document never started"
        time.sleep(0.01)
    r = c.post("/v1/model/reload", json={"model": "b.joblib"})
    assert r.status_code == 200 and r.json()["changed"]
    assert worker.is_alive(), "the slow document finished before the reload; make it slower"
    assert c.post("/v1/clean", json={"text": "a line"}).json()["model_version"] == "test-b"
    worker.join(30)
    assert slow["r"].status_code == 200
    assert slow["r"].json()["model_version"] == "test-a"
    c.post("/v1/model/reload", json={"model": "a.joblib"})


@pytest.fixture(scope="module")
def odd_folder(tmp_path_factory):
    """A service on a models folder of its own: models a and b, and a symlink loop
    (`ln -s loop.joblib loop.joblib`)."""
    folder = tmp_path_factory.mktemp("odd-models")
    _copy_model(folder, "a", "test-a")
    _copy_model(folder, "b", "test-b")
    (folder / "loop.joblib").symlink_to("loop.joblib")
    (folder / "ACTIVE").write_text("a.joblib")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOISEFILTER_MODELS_DIR", str(folder))
        settings = Settings(workers=1, examples_db=tmp_path_factory.mktemp("o") / "ex.db")
        with TestClient(create_app(settings)) as c:
            yield c, folder


@pytest.mark.parametrize("pointer", [b"../a.joblib", b".a.joblib", b"\xff\xfe.joblib",
                                     b"loop.joblib"])
def test_reload_of_an_active_pointer_that_names_no_model_keeps_the_old_one(odd_folder, pointer):
    """An ACTIVE that leads out of the folder, cannot be read or names a symlink loop: a reload
    of the active model (`{}`) answers 422 `model_unusable` and is counted failed (it was
    500), and the model served stays."""
    c, folder = odd_folder
    (folder / "ACTIVE").write_bytes(pointer)
    before = _metric(c.get("/metrics").text, "noisefilter_model_reloads_total", result="failed")
    try:
        body = assert_error(c.post("/v1/model/reload", json={}), 422, "model_unusable")
    finally:
        (folder / "ACTIVE").write_text("a.joblib")
    assert "still serving test-a" in body["detail"]
    assert _metric(c.get("/metrics").text, "noisefilter_model_reloads_total", result="failed") == before + 1
    assert c.get("/v1/model").json()["version"] == "test-a"


def test_reload_after_the_models_folder_went_keeps_the_model_served(odd_folder):
    """The folder gone (a volume unmounted): a reload of the active model switched to the
    packaged one and answered 200, where start-up refuses such a folder. It is 422
    `model_unusable`, counted failed, and the site's model stays."""
    c, folder = odd_folder
    before = _metric(c.get("/metrics").text, "noisefilter_model_reloads_total", result="failed")
    gone = folder.with_name(folder.name + "-unmounted")
    folder.rename(gone)
    try:
        for body in ({}, {"model": "b.joblib"}):
            detail = assert_error(c.post("/v1/model/reload", json=body), 422, "model_unusable")["detail"]
            assert "which is not a folder" in detail and "still serving test-a" in detail
    finally:
        gone.rename(folder)
    assert _metric(c.get("/metrics").text, "noisefilter_model_reloads_total", result="failed") == before + 2
    assert c.get("/v1/model").json()["version"] == "test-a"


def test_a_symlink_loop_in_the_models_folder_is_no_model(odd_folder):
    """`ln -s loop.joblib loop.joblib` in the folder made `GET /v1/model` and every reload
    answer 500 (even a reload that had switched the model): such a file is not offered, even
    with a manifest beside it, and a reload of it is 404 like any other name that is not a
    model in the folder."""
    c, folder = odd_folder
    shutil.copy(manifest_path(folder / "a.joblib"), manifest_path(folder / "loop.joblib"))
    try:
        info = c.get("/v1/model")
        assert info.status_code == 200, info.text
        assert info.json()["available"] == ["a.joblib", "b.joblib"]
        assert_error(c.post("/v1/model/reload", json={"model": "loop.joblib"}), 404, "model_not_found")
        switched = c.post("/v1/model/reload", json={"model": "b.joblib"})
        assert switched.status_code == 200, switched.text
        assert switched.json()["model"]["version"] == "test-b"
        assert c.post("/v1/model/reload", json={"model": "a.joblib"}).json()["model"]["version"] == "test-a"
    finally:
        manifest_path(folder / "loop.joblib").unlink()


# -- the pool itself -------------------------------------------------------------------------

def test_pool_survives_a_process_that_dies(tmp_path):
    """A cleaning process killed from outside (the OOM killer, an operator): a job it had gets
    `WorkerCrashed`, an idle one is noticed before it is given a job, and both are replaced."""
    events = []

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 60.0, on_restart=events.append)
        await pool.start(active_model_path())
        try:
            job = asyncio.ensure_future(pool.clean(Job("html", slow_html(3_000), None, False)))
            while pool.idle:
                await asyncio.sleep(0.01)
            (worker,) = pool._workers
            os.kill(worker.process.pid, signal.SIGKILL)
            crashed = await job
            assert crashed.error == CRASHED and "replaced" in crashed.detail
            assert (await pool.clean(Job("text", "a line", None, False))).result is not None

            (worker,) = pool._workers
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.join(10)
            after_idle_death = await pool.clean(Job("text", "a line", None, False))
            assert after_idle_death.result is not None
            assert pool.live == 1
        finally:
            await pool.close()
        assert pool.live == 0

    asyncio.run(scenario())
    assert events == ["crash", "crash"]


def test_requests_wait_for_the_replacement_of_a_process_killed_on_a_slow_document(monkeypatch):
    """With one process, short documents sent while a slow one overruns the time limit wait for
    the replacement and are cleaned: they are not told that no process is coming (`NotReady`)
    in the moment between the kill in the job's thread and its handling on the event loop,
    here widened to 1.2 s so that a request polling twice a second is sure to look in it."""
    from api import pool as pool_module

    kill = pool_module._Process.kill

    def slow_kill(worker):
        kill(worker)
        time.sleep(1.2)

    monkeypatch.setattr(pool_module._Process, "kill", slow_kill)

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 0.5, 30.0)
        await pool.start(active_model_path())
        try:
            slow = asyncio.ensure_future(pool.clean(Job("html", slow_html(30_000), None, False)))
            while pool.idle:
                await asyncio.sleep(0.01)
            short = [pool.clean(Job("text", "a line", None, False)) for _ in range(3)]
            outcomes = await asyncio.gather(slow, *short)
        finally:
            await pool.close()
        assert outcomes[0].error == "ExtractionTimeout"
        assert [o.error for o in outcomes[1:]] == [None] * 3

    asyncio.run(scenario())


def test_reloads_at_once_each_answer_with_their_own_before_and_after(tmp_path):
    """Two reloads sent together: each read the version served before waiting for the other,
    and the model served after both, so one answered "previous a, now a, changed"."""
    for name in ("a", "b"):
        _copy_model(tmp_path, name, f"test-{name}")

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 5.0)
        await pool.start(tmp_path / "a.joblib")
        try:
            return await asyncio.gather(pool.reload(tmp_path / "b.joblib"),
                                        pool.reload(tmp_path / "a.joblib"))
        finally:
            await pool.close()

    first, second = asyncio.run(scenario())
    assert (first.previous, first.info.version, first.changed) == ("test-a", "test-b", True)
    assert (second.previous, second.info.version, second.changed) == ("test-b", "test-a", True)


def test_pool_keeps_serving_its_model_when_the_file_changes_or_goes(tmp_path):
    """The served file retrained in place (`noisefilter train --out` the same path) or deleted:
    a process that has to be replaced loads the pool's own copy, so the service keeps serving
    the model it loaded, one model for every process, until a reload switches all of them."""
    _copy_model(tmp_path, "m", "test-m1")
    model = tmp_path / "m.joblib"
    events = []

    def kill_one(pool):
        (worker,) = pool._workers
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(10)

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 5.0, on_restart=events.append)
        await pool.start(model)
        try:
            _copy_model(tmp_path, "m", "test-m2")  # same bytes, another manifest: another model
            kill_one(pool)
            kept = await pool.clean(Job("text", "a line", None, False))
            assert kept.result["model_version"] == "test-m1" and pool.info.path == str(model)
            reloaded = await pool.reload(model)
            assert reloaded.changed and reloaded.info.version == "test-m2"
            assert reloaded.previous == "test-m1"
            model.unlink()
            kill_one(pool)
            done = await pool.clean(Job("text", "a line", None, False))
            assert done.result["model_version"] == "test-m2"
        finally:
            await pool.close()

    asyncio.run(scenario())
    assert events == ["crash", "crash"]


def test_a_pool_that_cannot_start_a_process_fails_requests_at_once(tmp_path, monkeypatch):
    """When every process is lost and none can be started, a request is told so at once rather
    than waiting out the queue timeout for a process that will never come."""
    from api import pool as pool_module

    monkeypatch.setattr(pool_module, "RESTART_BACKOFF", ())
    events = []

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 30.0, on_restart=events.append)
        await pool.start(active_model_path())
        try:
            shutil.rmtree(pool._snapshots.name)  # the copy the replacement would load is gone
            (worker,) = pool._workers
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.join(10)
            started = time.monotonic()
            first = await pool.clean(Job("text", "a line", None, False))
            while pool._replacing:
                await asyncio.sleep(0.05)
            second = await pool.clean(Job("text", "a line", None, False))
            assert second.error == "NotReady" and time.monotonic() - started < 15
            assert first.error == "NotReady"
        finally:
            await pool.close()

    asyncio.run(scenario())
    assert events == ["crash", "start_failed"]


def test_a_process_that_dies_idle_is_replaced_without_waiting_for_a_request():
    """kill -9 or the OOM killer on an idle process: it is counted lost and replaced at once,
    so /readyz and the workers gauges do not count a dead process until a request picks it
    (`noisefilter_workers_idle` counted it: 2 idle of 1 process)."""
    from prometheus_client import generate_latest

    from api.metrics import Metrics

    events = []

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 30.0, on_restart=events.append)
        await pool.start(active_model_path())
        try:
            (first,) = pool._workers
            os.kill(first.process.pid, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while first in pool._workers or pool.live != 1:
                assert time.monotonic() < deadline, "the dead process was never replaced"
                await asyncio.sleep(0.05)
            assert events == ["crash"]
            metrics = Metrics()
            metrics.watch(pool)
            text = generate_latest(metrics.registry).decode()
            assert (_metric(text, "noisefilter_workers"), _metric(text, "noisefilter_workers_idle")) == (1, 1)
            assert (await pool.clean(Job("text", "a line", None, False))).error is None
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_requests_waiting_for_a_process_get_one_in_the_order_they_came():
    """A waiting request wakes twice a second (to notice a client gone, or no process coming)
    without losing its place: `asyncio.wait_for` cancelled its queue getter each time and it
    joined the line again at the back, so waiting requests were served out of order and some
    got 503 busy that a first-come line serves (6 clients, 1 process, 4 s queue timeout: 5 to
    24 of them). A request that leaves just as a process came to it gives the process back."""

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 30.0)
        await pool.start(active_model_path())
        try:
            held = await pool._acquire()
            served = []

            async def wait(i):
                await pool.clean(Job("text", f"Line {i}", None, False))
                served.append(i)

            waiting = []
            for i in range(4):  # at 0, 0.1, 0.2 and 0.3 s
                waiting.append(asyncio.ensure_future(wait(i)))
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.25)  # the first two have woken once: they were behind
            pool._release(held)
            await asyncio.gather(*waiting)
            assert served == [0, 1, 2, 3]

            held = await pool._acquire()
            leaving = asyncio.ensure_future(pool.clean(Job("text", "a line", None, False)))
            await asyncio.sleep(0.1)
            pool._release(held)
            await asyncio.sleep(0)  # its getter takes the process; the request has not run yet
            leaving.cancel()
            await asyncio.gather(leaving, return_exceptions=True)
            assert pool.idle == 1
            assert (await pool.clean(Job("text", "a line", None, False))).error is None
        finally:
            await pool.close()

    asyncio.run(scenario())


class _FlakyContext:
    """The pool's multiprocessing context, whose next `failures` process starts fail as they
    do when the service has no file descriptor left (EMFILE from `Pipe`) or when the fork
    server is gone (EOFError from `Process.start`)."""

    def __init__(self, ctx, failures: int, where: str):
        self.ctx, self.failures, self.where = ctx, failures, where

    def __getattr__(self, name):
        return getattr(self.ctx, name)

    def _fail(self, point: str) -> bool:
        if self.where == point and self.failures:
            self.failures -= 1
            return True
        return False

    def Pipe(self, duplex=True):
        if self._fail("pipe"):
            raise OSError(24, "Too many open files")
        return self.ctx.Pipe(duplex=duplex)

    def Process(self, *args, **kwargs):
        process = self.ctx.Process(*args, **kwargs)
        if self._fail("start"):
            def start():
                raise EOFError
            process.start = start
        return process


@pytest.mark.parametrize("where", ["pipe", "start"])
def test_a_replacement_that_cannot_be_started_is_retried(where, monkeypatch, caplog):
    """A replacement whose process could not be started at all (EMFILE in a burst of client
    connections; the fork server gone) ended its background task with the exception: no retry,
    no log line, no `start_failed`, and the pool stayed without a process for good."""
    from api import pool as pool_module

    monkeypatch.setattr(pool_module, "RESTART_BACKOFF", (0.0, 0.0, 0.0))
    events = []

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 30.0, on_restart=events.append)
        await pool.start(active_model_path())
        try:
            pool._ctx = _FlakyContext(pool._ctx, 2, where)
            (first,) = pool._workers
            os.kill(first.process.pid, signal.SIGKILL)
            deadline = time.monotonic() + 120
            while first in pool._workers or pool._replacing:  # noticed, and replaced or not
                assert time.monotonic() < deadline, "the lost process was never handled"
                await asyncio.sleep(0.05)
            assert pool.live == 1 and pool._ctx.failures == 0
            assert (await pool.clean(Job("text", "a line", None, False))).error is None
        finally:
            await pool.close()

    with caplog.at_level(logging.INFO, logger="noisefilter.pool"):
        asyncio.run(scenario())
    assert events == ["crash", "start_failed", "start_failed"]
    failures = [r.getMessage() for r in caplog.records if "could not replace" in r.getMessage()]
    assert len(failures) == 2, caplog.text
    assert ("Too many open files" if where == "pipe" else "EOFError") in failures[0]


def test_reload_of_the_served_model_restores_a_pool_that_lost_processes(monkeypatch):
    """A pool whose lost processes could not be replaced tells requests to reload the model
    or restart; a reload of the model it serves was a no-op (`same_model`) and left it short
    (at 0 processes: every request 503). It now starts a complete set (`restarted`)."""
    from api import pool as pool_module

    monkeypatch.setattr(pool_module, "RESTART_BACKOFF", ())
    with TestClient(create_app(Settings(workers=2, queue_timeout=30.0))) as c:
        pool = c.app.state.pool
        # a replacement cannot start: the pool's private copy of the model is gone (a tmp
        # cleaner; a fork that fails does the same)
        shutil.rmtree(Path(pool._model_copy).parent)
        for left in (1, 0):
            lost = list(pool._workers)[0]
            os.kill(lost.process.pid, signal.SIGKILL)
            deadline = time.monotonic() + 120
            while lost in pool._workers or pool._replacing:
                assert time.monotonic() < deadline, "the lost process was never handled"
                time.sleep(0.05)
            assert c.get("/v1/model").json()["workers"] == left
            # the probe for traffic: ready while one process serves, not with none
            ready = c.get("/readyz")
            assert ready.status_code == (200 if left else 503), ready.text
            if left:  # the processes serving, not the pool's full size
                assert ready.json()["workers"] == left
            else:
                assert ready.json()["error"] == "not_ready" and c.head("/readyz").status_code == 503

        r = c.post("/v1/model/reload", json={})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["changed"], body["restarted"]) == (False, True)
        assert body["previous"] == body["model"]["version"] and body["model"]["workers"] == 2
        assert c.get("/v1/model").json()["workers"] == 2
        assert c.get("/readyz").json()["workers"] == 2
        assert c.post("/v1/clean", json={"text": "a line"}).status_code == 200

        again = c.post("/v1/model/reload", json={}).json()  # whole again: a no-op
        assert (again["changed"], again["restarted"]) == (False, False)
        text = c.get("/metrics").text
    assert _metric(text, "noisefilter_model_reloads_total", result="restarted") == 1
    assert _metric(text, "noisefilter_model_reloads_total", result="unchanged") == 1
    assert _metric(text, "noisefilter_model_reloads_total", result="changed") == 0
    assert _metric(text, "noisefilter_worker_restarts_total", reason="start_failed") == 2



def test_reload_of_the_served_model_waits_for_a_replacement_under_way(monkeypatch):
    """A reload of the served model (a deploy hook) while a process lost to a timeout or a
    crash is being replaced restarted every process, healthy ones too, and said `restarted`,
    the signal of a pool that could not replace its losses. A replacement still starting is
    waited for: the reload is a no-op."""
    import threading

    from api import pool as pool_module

    release = threading.Event()
    start = pool_module._Process.start

    def slow_start(*args, **kwargs):
        release.wait(120)  # the replacement is under way when the reload comes
        return start(*args, **kwargs)

    with TestClient(create_app(Settings(workers=2, queue_timeout=30.0))) as c:
        pool = c.app.state.pool
        kept = {w.process.pid for w in pool._workers}
        monkeypatch.setattr(pool_module._Process, "start", staticmethod(slow_start))
        lost = list(pool._workers)[0]
        os.kill(lost.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while not pool._replacing:
            assert time.monotonic() < deadline, "the lost process was never noticed"
            c.get("/v1/model")  # a request takes the dead process out of the idle queue
            time.sleep(0.05)
        threading.Timer(1.0, release.set).start()
        body = c.post("/v1/model/reload", json={}).json()
        assert release.is_set()  # answered once the replacement had started
        assert (body["changed"], body["restarted"]) == (False, False)
        while pool._replacing or pool.live < 2:
            assert time.monotonic() < deadline, "the replacement never started"
            time.sleep(0.05)
        assert kept - {lost.process.pid} <= {w.process.pid for w in pool._workers}
        text = c.get("/metrics").text
    assert _metric(text, "noisefilter_model_reloads_total", result="restarted") == 0
    assert _metric(text, "noisefilter_model_reloads_total", result="unchanged") == 1


def test_reload_of_the_served_model_restores_a_pool_whose_replacement_fails_meanwhile(
        monkeypatch):
    """A reload of the served model sent while a replacement was on its first start answered
    "unchanged" at once, taking the replacement for restored; when that start failed (and its
    retries), the pool was left without a process, every request 503, after the reload the
    error told the operator to send. It waits for that start: failed, a set starts anew."""
    import threading

    from api import pool as pool_module

    monkeypatch.setattr(pool_module, "RESTART_BACKOFF", ())  # (no retry to restore it)
    release, start = threading.Event(), pool_module._Process.start
    failures = [ModelError("a cleaning process exited while loading (exit code -9)")]

    def failing_start(*args, **kwargs):
        if failures:
            release.wait(120)  # the replacement is under way when the reload comes
            raise failures.pop()
        return start(*args, **kwargs)

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 30.0)
        await pool.start(active_model_path())
        try:
            monkeypatch.setattr(pool_module._Process, "start", staticmethod(failing_start))
            (lost,) = pool._workers
            os.kill(lost.process.pid, signal.SIGKILL)
            deadline = time.monotonic() + 120
            while not pool._replacing:
                assert time.monotonic() < deadline, "the lost process was never noticed"
                await asyncio.sleep(0.05)
            threading.Timer(1.0, release.set).start()
            reloaded = await pool.reload(active_model_path())
            assert (reloaded.changed, reloaded.restarted) == (False, True) and pool.live == 1
            assert (await pool.clean(Job("text", "a line", None, False))).error is None
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_a_failure_after_a_job_was_sent_costs_the_process_not_the_next_reply(caplog):
    """`Connection.poll` refuses a wait over 2**31 ms (OverflowError, a `--timeout` now refused
    by the settings): the request got 500 and the process went back to the pool with the
    job's reply unread in its pipe, to be read as the next job's. Any failure once a job is
    sent now costs the process, which is replaced."""
    events = []
    first_text = "The first document, which the failed request sent."
    second_text = "The second document, which another request sent afterwards."

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 30.0, on_restart=events.append)
        await pool.start(active_model_path())
        try:
            pool.timeout = 3_000_000.0  # over what poll takes
            failed = await pool.clean(Job("text", first_text, None, True))
            pool.timeout = 60.0
            second = await pool.clean(Job("text", second_text, None, True))
        finally:
            await pool.close()
        return failed, second

    with caplog.at_level(logging.INFO, logger="noisefilter.pool"):
        failed, second = asyncio.run(scenario())
    assert failed.error == "InternalError" and "OverflowError" in failed.detail, failed
    assert "replaced" in failed.detail
    assert second.error is None, second
    assert [b["text"] for b in second.result["blocks"]] == [second_text]
    assert events == ["error"]
    assert "killed cleaning process" in caplog.text and "OverflowError" in caplog.text


def test_processes_that_end_while_the_service_shuts_down_are_no_crashes(caplog):
    """SIGTERM to the whole process group ends the fork server, and every idle process then
    reads as dead: each was logged as a crash with "starting a replacement" and counted in
    `worker_restarts_total{reason="crash"}` while the service was stopping."""
    events = []

    async def scenario():
        pool = CleaningPool(2, 10_000_000, 60.0, 30.0, on_restart=events.append)
        await pool.start(active_model_path())
        try:
            job = asyncio.ensure_future(pool.clean(Job("html", slow_html(30_000), None, False)))
            while pool.idle != 1:
                await asyncio.sleep(0.01)
            (idle,) = [w for w in pool._idle._queue if w.alive]
            (busy,) = [w for w in pool._workers if w is not idle]
            pool.drain()
            for worker in (idle, busy):
                os.kill(worker.process.pid, signal.SIGKILL)
            crashed = await job
            deadline = time.monotonic() + 60
            while idle in pool._workers:
                assert time.monotonic() < deadline, "the idle process's end was never noticed"
                await asyncio.sleep(0.05)
            assert pool._replacing == 0 and pool.live == 0
            return crashed
        finally:
            await pool.close()

    with caplog.at_level(logging.INFO, logger="noisefilter.pool"):
        crashed = asyncio.run(scenario())
    assert crashed.error == CRASHED and "shutting down" in crashed.detail
    assert "replaced" not in crashed.detail
    assert events == []
    assert "starting a replacement" not in caplog.text and "died" not in caplog.text
    assert caplog.text.count("ended while the service shuts down") == 2, caplog.text


def test_a_document_still_cleaned_as_the_shutdown_grace_ends_is_answered_not_ready(caplog):
    """A request whose document was still being cleaned when the shutdown's grace period ran
    out was cancelled by the server: a plain-text 500 and a traceback in the log. The pool now
    stops it just before (`drain(cut_off_after=…)`) and answers it: retry elsewhere."""
    events = []

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 30.0, on_restart=events.append)
        await pool.start(active_model_path())
        try:
            job = asyncio.ensure_future(pool.clean(Job("html", slow_html(30_000), None, False)))
            while pool.idle != 0:
                await asyncio.sleep(0.01)
            started = time.monotonic()
            pool.drain(cut_off_after=0.5)
            outcome = await job
            return outcome, time.monotonic() - started
        finally:
            await pool.close()

    with caplog.at_level(logging.INFO, logger="noisefilter.pool"):
        outcome, waited = asyncio.run(scenario())
    assert outcome.error == NOT_READY and "shut down before this document was cleaned" in outcome.detail
    assert 0.5 <= waited < 10
    assert events == [] and "ended while the service shuts down" in caplog.text


def test_an_oversized_batch_is_refused_before_its_documents_are_validated(tmp_path):
    """The count is checked before FastAPI validates every document on the event loop: 1.2
    million tiny documents (17 MB, under the body limit) took about 9 s of event loop and
    a gigabyte of memory before they were refused; now only the JSON is parsed, in a thread."""
    settings = Settings(workers=1, max_batch=4, max_body_bytes=18_000_000,
                        examples_db=tmp_path / "ex.db")
    body = ('{"documents": [' + ", ".join(['{"text": ""}'] * 1_200_000) + "]}").encode()
    with TestClient(create_app(settings)) as c:
        r = c.post("/v1/clean/batch", content=body, headers={"content-type": "application/json"})
        # refused by the count of its structures, so neither validated nor even parsed (a bound
        # on the time taken, 4 s against 7 s before, failed on a loaded machine at 4.8 s)
        detail = assert_error(r, 413, "payload_too_large")["detail"]
        assert detail == ("the JSON body opens more than 100,000 objects and arrays, the limit for "
                          "this endpoint")
        fewer = ('{"documents": [' + ", ".join(['{"text": ""}'] * 50_000) + "]}").encode()
        r = c.post("/v1/clean/batch", content=fewer, headers={"content-type": "application/json"})
        detail = assert_error(r, 422, "invalid_input")["detail"]
        assert detail == "50000 documents in one batch, over the limit of 4"
        # a batch within the limit is read as before, once
        ok = c.post("/v1/clean/batch", json={"documents": [{"text": "Harbour bridge reopens."}]})
        assert ok.status_code == 200 and ok.json()["results"][0]["status"] == 200
        assert_error(c.post("/v1/clean/batch", content=b"[" * 100_000,
                            headers={"content-type": "application/json"}), 422, "invalid_input")


@pytest.mark.parametrize("path", ["/v1/clean/batch", "/v1/examples"])
def test_a_json_body_not_in_utf8_says_so(client, path):
    """A Latin-1 body was answered "could not be read as JSON (There was an error parsing the
    body)"; `/v1/clean` already named the byte that is not UTF-8."""
    body = '{"examples": [{"id": "a", "text": "caf\xe9", "blocks": []}], "documents": []}'
    r = client.post(path, content=body.encode("latin-1"),
                    headers={"content-type": "application/json", "X-API-Key": API_KEY})
    detail = assert_error(r, 422, "invalid_input")["detail"]
    assert "'utf-8' codec can't decode byte 0xe9" in detail


@pytest.mark.parametrize("path", ["/v1/clean/batch", "/v1/examples"])
def test_json_nested_too_deeply_to_read_says_so(client, path):
    """A body the json module cannot read for its depth (within the structure limit) was
    answered "could not be read as JSON (There was an error parsing the body)", as if it were
    not JSON at all; `/v1/clean` already named the depth."""
    depth = 995  # under `ParsedJsonRoute.max_structures`, over what json.loads can nest
    try:
        json.loads("[" * depth + "]" * depth)
    except RecursionError:
        pass
    else:  # Python 3.13's json module nests deeper: the structure limit comes first there
        pytest.skip(f"this Python's json module reads {depth} levels")
    body = b'{"documents": [{"html": ' + b"[" * depth + b"]" * depth + b"}]}"
    r = client.post(path, content=body, headers={"content-type": "application/json",
                                                 "X-API-Key": API_KEY})
    assert "nested too deeply" in assert_error(r, 422, "invalid_input")["detail"]


@pytest.mark.parametrize("body, refused", [
    (b'{"html": "' + b"{" * 2_000 + b'"}', False),  # braces in a string do not count
    (b'{"html": "\\"' + b"[" * 2_000 + b'"}', False),  # nor after an escaped quote
    (b'{"html": [' + b"[" * 1_000 + b"]}", True),
    (b"[" * 1_001 + b'"' + b'\\"' * 40_000, True),  # then an unterminated string
    (b"[" * 1_001 + b'"' + b'\\"' * 40_000 + b"\\", True),  # ending in a lone backslash
    (b"[" * 10 + b'"' + b"{" * 2_000, False),  # after it: json.loads never gets there
    # UTF-16, which json.loads reads too: the bytes of "∀" (00 22) hid the arrays after it
    (('["\u2200", ' + "[" * 1_001 + "]" * 1_001 + "]").encode("utf-16-le"), True),
])
def test_the_structures_of_a_json_body_are_counted_in_one_pass(client, body, refused):
    """An unterminated string was scanned again from every quote inside it: 80 KB of ``\\"``
    held the event loop (and ``/healthz``) for 19 to 37 s. It now runs to the end of the body;
    what is refused and what is accepted is as before."""
    started = time.monotonic()
    r = client.post("/v1/clean", content=body, headers={"content-type": "application/json"})
    assert time.monotonic() - started < 5  # a hang guard: before, 19 s
    if refused:
        assert "more than 1,000 objects and arrays, the limit" in assert_error(
            r, 413, "payload_too_large")["detail"]
    else:
        assert r.status_code in (200, 422), r.text


@pytest.mark.parametrize("path", ["/v1/clean", "/v1/clean/batch", "/v1/examples",
                                  "/v1/model/reload"])
def test_an_object_of_very_many_fields_is_refused_before_it_is_validated(client, path):
    """Each unknown field is an error of its own, listed on the event loop: one object of a
    million fields (10 MB, sent without a key) held the service, `/healthz` too, for 10 s,
    took it to 4.5 GB, and was answered by a 44 MB list of them."""
    fields = ",".join(f'"{i:x}":0' for i in range(40_000))  # under the fixture's body limit
    body = {"/v1/clean": '{"html":"<p>x</p>",%s}', "/v1/clean/batch": '{"documents":[{"text":"x",%s}]}',
            "/v1/examples": '{"examples":[{"id":"a","text":"x","blocks":[],%s}]}',
            "/v1/model/reload": '{%s}'}[path] % fields
    started = time.monotonic()
    r = client.post(path, content=body.encode(), headers={"content-type": "application/json",
                                                          "X-API-Key": API_KEY})
    detail = assert_error(r, 422, "invalid_input")["detail"]
    assert detail.startswith("an object of the body has 40,00") and len(r.content) < 1_000, detail
    assert time.monotonic() - started < 5, "a hang guard"
    # nor spread over many objects: validation stops at the first bad block (10,000 blocks of
    # 94 unknown fields each held the service 9 s), and names its first 20 errors
    extra = {f"a{i}": 0 for i in range(30)}
    for blocks, named in (([{"text": "t", "label": "junk", **extra}] * 1_000, 20),
                          ([{"text": 0, "label": 0}] * 10_000, 2)):
        r = client.post("/v1/examples", json={"examples": [{"id": "a", "text": "x", "blocks": blocks}]},
                        headers={"X-API-Key": API_KEY})
        detail = assert_error(r, 422, "invalid_input")["detail"]
        assert "body.examples.0.blocks.1." not in detail, detail
        assert detail.count("body.examples.0.blocks.0.") == named, detail
        assert detail.endswith("; and 10 more") == (named == 20), detail


def test_stored_pages_are_bounded_and_a_listing_stays_within_a_body(client):
    """A page over --max-bytes cannot be stored (it could not be cleaned or trained on), and a
    page of results stops once its text passes the body limit: before, 100 stored pages of
    30 MB made one `GET /v1/examples?limit=100` build some 12 GB of response in memory."""
    key = {"X-API-Key": API_KEY}
    too_big = {"examples": [{"id": "too-big", "text": "word " * 50_000,  # 250,000 > 200,000
                             "blocks": [{"text": "word", "label": "junk"}]}]}
    detail = assert_error(client.post("/v1/examples", json=too_big, headers=key), 413,
                          "payload_too_large")["detail"]
    assert "examples[0].text" in detail and "200,000" in detail
    gold = {"examples": [{"id": "big-gold", "text": "word", "gold": "é" * 100_001,  # 200,002 bytes
                          "blocks": [{"text": "word", "label": "junk"}]}]}
    assert_error(client.post("/v1/examples", json=gold, headers=key), 413, "payload_too_large")
    for i in range(6):  # 150,000 characters each: the body limit (500,000) passes on the fourth
        page = {"examples": [{"id": f"budget-{i}", "text": f"page {i} " + "x" * 150_000,
                              "source": "budget", "blocks": [{"text": f"page {i}", "label": "content"}]}]}
        assert client.post("/v1/examples", json=page, headers=key).status_code == 200
    first = client.get("/v1/examples", params={"source": "budget", "limit": 10}, headers=key).json()
    assert [e["id"] for e in first["examples"]] == [f"budget-{i}" for i in range(4)]
    assert first["next_offset"] == 4
    rest = client.get("/v1/examples", params={"source": "budget", "limit": 10, "offset": 4},
                      headers=key).json()
    assert [e["id"] for e in rest["examples"]] == ["budget-4", "budget-5"]
    assert rest["next_offset"] is None
    # small pages still come `limit` at a time
    two = client.get("/v1/examples", params={"source": "budget", "limit": 2}, headers=key).json()
    assert len(two["examples"]) == 2 and two["next_offset"] == 2
    # many small labels count too: 6 pages of 1,500 one-word labels (about 200,000 characters of JSON each)
    for i in range(6):
        page = {"examples": [{"id": f"labels-{i}", "text": "\n".join(f"w{i}-{n}" for n in range(1500)),
                              "source": "many-labels",
                              "blocks": [{"text": f"w{i}-{n}", "label": "junk"} for n in range(1500)]}]}
        assert client.post("/v1/examples", json=page, headers=key).status_code == 200
    first = client.get("/v1/examples", params={"source": "many-labels", "limit": 10}, headers=key)
    assert len(first.json()["examples"]) < 6 and first.json()["next_offset"] is not None
    assert len(first.content) < 3 * 500_000


def test_a_batch_longer_than_the_queue_timeout_is_not_refused_busy_by_its_own_documents(tmp_path):
    """A batch's documents queue for a process no more than there are processes: the queue
    timeout is for waiting on other clients. Queued all at once, the later documents of a batch
    taking longer than the timeout got 503 busy, though nothing else was using the service."""
    settings = Settings(workers=1, queue_timeout=1.0, timeout=60, examples_db=tmp_path / "ex.db")
    report = "\n".join(f"Line {i} of a long report on the railways." for i in range(5_000))
    with TestClient(create_app(settings)) as c:  # each document about 1 s on this machine
        r = c.post("/v1/clean/batch", json={"documents": [{"text": report}] * 4})
    assert [item["status"] for item in r.json()["results"]] == [200] * 4, r.text


def test_a_document_over_the_limit_is_refused_without_waiting_for_a_process(tmp_path):
    """The body limit is 3 x max-bytes; a document between the two is refused at once, with the
    library's own message, instead of waiting for (and being copied into) a cleaning process:
    while the only process is busy it used to get 503 busy after the queue timeout."""
    settings = Settings(workers=1, max_bytes=1_000_000, queue_timeout=1.0, timeout=20,
                        examples_db=tmp_path / "ex.db")
    over = "<html><body><p>" + "a" * 1_100_000 + "</p></body></html>"
    text = "é" * 500_001  # 1,000,002 bytes in UTF-8
    with TestClient(create_app(settings)) as c:
        busy = threading.Thread(target=lambda: c.post("/v1/clean", json={"text": "\n".join(
            f"Line {i} of a long report on the railways." for i in range(20_000))}))  # about 4 s
        busy.start()
        time.sleep(0.3)
        assert c.get("/readyz").json()["workers"] == 1
        try:
            for kwargs in ({"json": {"html": over}},
                           {"content": over.encode(), "headers": {"content-type": "text/html"}},
                           {"json": {"text": text}}):
                # (waiting for the busy process would end in 503 busy, after the queue timeout)
                body = assert_error(c.post("/v1/clean", **kwargs), 413, "payload_too_large")
                assert "over the limit of 1,000,000" in body["detail"]
            batch = c.post("/v1/clean/batch", json={"documents": [{"html": over}]}).json()
            assert batch["results"][0]["status"] == 413
        finally:
            busy.join()
    # the same messages as the library's
    from filter import InputTooLarge, Limits
    with pytest.raises(InputTooLarge, match="^input is 1,100,033 characters, over the limit of 1,000,000 bytes$"):
        Cleaner(limits=Limits(max_bytes=1_000_000)).clean(over)
    with pytest.raises(InputTooLarge, match="^text is 1,000,002 bytes in UTF-8, over the limit of 1,000,000$"):
        Cleaner(limits=Limits(max_bytes=1_000_000)).clean_text(text)


@pytest.mark.parametrize("media", ["text/html", "text/plain"])
def test_a_raw_body_over_the_limit_is_refused_as_received_before_it_is_decoded(client, media):
    """The limit counts the bytes received: 300 KB of 0x81 labelled windows-1252 was decoded
    first, on the event loop (30 MB held ``/healthz`` for 30 s), then refused as 600 KB, its
    size in UTF-8."""
    body = b"\x81" * 300_000
    r = client.post("/v1/clean", content=body,
                    headers={"content-type": f"{media}; charset=windows-1252"})
    detail = assert_error(r, 413, "payload_too_large")["detail"]
    assert detail == "input is 300,000 bytes, over the limit of 200,000 bytes"


def test_a_raw_body_is_read_in_its_cleaning_process_and_held_to_the_limit_as_received(client):
    """A legal body in a legacy charset takes a second per megabyte or so to decode (one
    error-handler call per byte windows-1252 leaves undefined): neither a page nor plain text
    is decoded in the HTTP process, their cleaning process reads them in their header's
    charset. Plain text was decoded there and counted in UTF-8: 150 KB of Russian in
    windows-1251, within the limit of 200,000 bytes, was refused as 280 KB."""
    for media, document in (("text/html", "<p>Café prices rise again.</p>"),
                            ("text/plain", "Café prices rise again.")):
        r = client.post("/v1/clean", content=document.encode("windows-1252"),
                        headers={"content-type": f"{media}; charset=windows-1252"})
        assert r.status_code == 200, r.text
        assert "Café prices" in r.json()["text"]
    line = "Цены на хлеб в городе снова выросли этой осенью.\n"
    body = (line * 3_000).encode("windows-1251")
    assert len(body) < 200_000 < len(body.decode("windows-1251").encode("utf-8"))
    r = client.post("/v1/clean", content=body, params={"blocks": "true"},
                    headers={"content-type": "text/plain; charset=windows-1251"})
    assert r.status_code == 200, r.text
    assert r.json()["blocks"][0]["text"] == line.strip()


def test_a_page_is_read_in_the_charset_its_header_names_and_held_to_the_limit_as_received(
        client, library):
    """A page without a meta charset is read in the charset its Content-Type names (handed on
    unlabelled, the library's guess made Polish "środę" "ķrodę"), and its bytes are what
    --max-bytes (200,000 here) holds: one under it in iso-8859-2 but over it in UTF-8 was
    refused, decoded first and counted as a str."""
    para = "Rada miasta zatwierdziła w środę plan remontu przystani promowej. " * 20
    small, large, huge = (("<html><head><title>Przystań</title></head><body><article>"
                           + "".join(f"<p>{para}</p>" for _ in range(n)) + "</article></body></html>")
                          for n in (3, 148, 160))
    assert len(large.encode("iso-8859-2")) < 200_000 < len(large.encode("utf-8"))
    assert len(huge.encode("iso-8859-2")) > 200_000
    headers = {"content-type": "text/html; charset=iso-8859-2"}
    for page in (small, large):
        r = client.post("/v1/clean", content=page.encode("iso-8859-2"), headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == library_clean(library, page, blocks=False)
        assert "zatwierdziła w środę" in r.json()["text"]
    r = client.post("/v1/clean", content=huge.encode("iso-8859-2"), headers=headers)
    detail = assert_error(r, 413, "payload_too_large")["detail"]
    assert detail == (f"input is {len(huge.encode('iso-8859-2')):,} bytes, over the limit of "
                      f"200,000 bytes")
    r = client.post("/v1/decode", content=large.encode("iso-8859-2"), headers=headers)
    assert r.status_code == 200 and r.json()["html"] == large


def test_model_info_does_not_tell_the_training_machine_paths_or_page_ids(tmp_path, monkeypatch):
    """`GET /v1/model` needs no key: the manifest it shows keeps file names and counts, not the
    absolute paths of the example store and files, nor the ids of the training pages."""
    folder = tmp_path / "models"
    folder.mkdir()
    _copy_model(folder, "mine", "mine-1")
    manifest = json.loads((folder / "mine.manifest.json").read_text())
    manifest["training_data"] = {
        "store": "/home/alice/private/labels.db", "pages": 2,
        "files": [{"path": "/home/alice/private/customer-x.jsonl", "sha256": "ab" * 32}],
        "example_ids": ["customer-x-internal-1", "customer-x-internal-2"]}
    scores = {"pages": 1, "summary": {"content_f1": 0.9, "macro_f1": 0.8, "word_f1": None}}
    manifest["metrics"] = {"holdout": {  # as `train --holdout` records it
        **scores, "store": None, "files": [{"path": "/home/alice/private/holdout-x.jsonl", "sha256": None}]}}
    (folder / "mine.manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(folder))
    settings = Settings(workers=1, model="mine.joblib", api_key=API_KEY,
                        examples_db=tmp_path / "ex.db")
    with TestClient(create_app(settings)) as c:
        r = c.get("/v1/model")
        assert r.status_code == 200
        assert "/home/alice" not in r.text and "customer-x-internal" not in r.text
        data = r.json()["manifest"]["training_data"]
        assert data == {"store": "labels.db", "pages": 2, "example_ids": 2,
                        "files": [{"path": "customer-x.jsonl", "sha256": "ab" * 32}]}
        assert r.json()["manifest"]["metrics"] == {"holdout": {
            **scores, "store": None, "files": [{"path": "holdout-x.jsonl", "sha256": None}]}}
        assert r.json()["manifest"]["sha256"] == manifest["sha256"]


def test_an_examples_request_of_too_many_blocks_is_refused_before_they_are_validated(tmp_path):
    """FastAPI validates every labelled block on the event loop (850,000: /healthz stalled 4 s,
    1.4 GB): the blocks are counted on the parsed body first; the key is still checked first."""
    settings = Settings(workers=1, max_body_bytes=5_000_000, api_key=API_KEY,
                        examples_db=tmp_path / "ex.db")
    blocks = [{"text": "w", "label": "junk"}] * 100_001
    body = {"examples": [{"text": "w", "blocks": blocks[:60_000]},
                         {"text": "w", "blocks": blocks[60_000:]}]}
    key = {"X-API-Key": API_KEY}
    small = {"examples": [{"text": "Pier reopens\nShare this", "blocks": [
        {"text": "Share this", "label": "junk"}]}]}
    with TestClient(create_app(settings)) as client:
        assert_error(client.post("/v1/examples", json=body), 401, "unauthorized")
        detail = assert_error(client.post("/v1/examples", json=body, headers=key), 422,
                              "invalid_input")["detail"]
        assert detail.startswith("100,001 labelled blocks in one request, over the limit of 100,000")
        assert client.post("/v1/examples", json=small, headers=key).status_code == 200


def test_decode_reads_a_page_as_the_library_reads_it(client, library):
    """The labelling page keeps the text it labels: it asks the service to decode a file, so a
    page in windows-1251 that declares nothing is stored as the library reads it, not as a
    simpler rule in the browser read it (mojibake)."""
    from filter.decoding import decode

    sentence = "Городской совет утвердил в среду план ремонта паромной пристани."
    page = (f"<html lang='ru'><head><title>Пристань</title></head><body><article><p>{sentence}"
            "</p></article></body></html>").encode("cp1251")
    r = client.post("/v1/decode", content=page, headers={"content-type": "text/html"})
    assert r.status_code == 200, r.text
    assert r.json() == {"html": decode(page, 200_000)} and sentence in r.json()["html"]
    assert_error(client.post("/v1/decode", content=page, headers={"content-type": "text/plain"}),
                 415, "unsupported_media_type")
    assert_error(client.post("/v1/decode", content=b"<p>" + b"x" * 200_000, headers={
        "content-type": "text/html"}), 413, "payload_too_large")
    assert_error(client.post("/v1/decode", content=b"\x89PNG\r\n\x1a\n" + bytes(64), headers={
        "content-type": "text/html"}), 422, "invalid_input")


def test_decode_reads_the_charset_the_header_names_as_clean_does(client):
    """`/v1/decode` left the header's charset unread: a Polish page in iso-8859-2 that declares
    none itself came back as mojibake, while `/v1/clean` read the same bytes right; now it is
    read in the header's charset, as `/v1/clean` reads it."""
    sentence = "Zażółć gęślą jaźń. Wczoraj w Łodzi odbyło się spotkanie mieszkańców z radą miasta."
    page = (f"<html><head><title>Łódź</title></head><body><article><p>{sentence}</p>"
            "</article></body></html>").encode("iso-8859-2")
    r = client.post("/v1/decode", content=page,
                    headers={"content-type": "text/html; charset=iso-8859-2"})
    assert r.status_code == 200, r.text
    assert sentence in r.json()["html"]


def test_an_empty_url_is_none_for_plain_text_and_a_bad_one_is_refused_by_decode(client):
    """`?url=` is no URL (a crawler that always appends it got 422 for plain text only), and
    `/v1/decode` refuses a URL `/v1/clean` refuses (it took "not a url" without a word)."""
    r = client.post("/v1/clean", params={"url": ""}, content=b"One line of text.",
                    headers={"content-type": "text/plain"})
    assert r.status_code == 200 and r.json()["text"] == "One line of text.", r.text
    page, html = b"<p>Ferry</p>", {"content-type": "text/html"}
    for bad in ("not a url", "/news/1"):
        assert "url" in assert_error(client.post("/v1/decode", params={"url": bad}, content=page,
                                                 headers=html), 422, "invalid_input")["detail"]
    for good in ("", "https://example.pl/news/1"):
        assert client.post("/v1/decode", params={"url": good}, content=page,
                           headers=html).json() == {"html": "<p>Ferry</p>"}


def test_an_example_training_would_skip_for_its_size_is_413_whatever_max_bytes(tmp_path, monkeypatch):
    """Training segments an example of at most `MAX_EXAMPLE_BYTES` (10 MB); with a larger
    --max-bytes the service stored an 11 MB example that training then skipped."""
    import api.examples

    monkeypatch.setattr(api.examples, "MAX_EXAMPLE_BYTES", 2000)
    client = TestClient(create_app(Settings(workers=1, max_bytes=5000, examples_db=tmp_path / "ex.db")))
    text = ("The ferry sails again in June. " * 100)[:2000]
    assert client.post("/v1/examples", json={"examples": [
        {"text": text, "blocks": [{"text": text, "label": "content"}]}]}).status_code == 200
    over = client.post("/v1/examples", json={"examples": [
        {"text": text + "x", "blocks": [{"text": text + "x", "label": "content"}]}]})
    assert "most training reads" in assert_error(over, 413, "payload_too_large")["detail"]


def test_the_same_id_twice_in_one_request_is_refused(tmp_path):
    """The second page was merged into the first: the store kept the second document with both
    pages' labels, the first label on a document it is not on, and answered 200 without a
    problem. An example file gives the same id twice as a problem too (`parse_lines`)."""
    client = TestClient(create_app(Settings(workers=1, examples_db=tmp_path / "ex.db")))
    pages = [{"id": "d", "text": "Doc one text here.",
              "blocks": [{"text": "Doc one text here.", "label": "content"}]},
             {"id": "d ", "text": "Doc two text here.",
              "blocks": [{"text": "Doc two text here.", "label": "junk"}]}]
    r = client.post("/v1/examples", json={"examples": pages})
    assert "already given at examples[0]" in assert_error(r, 422, "invalid_input")["detail"]
    assert client.get("/v1/examples").json()["examples"] == []
    # without ids: the same document twice is one page given twice
    same = [{k: v for k, v in pages[0].items() if k != "id"}] * 2
    assert_error(client.post("/v1/examples", json={"examples": same}), 422, "invalid_input")


def test_the_same_document_twice_in_one_request_is_refused_whatever_its_ids(tmp_path):
    """The store merges a document it holds under another id into that page: two ids for one
    page in a request gave 200, the second page's labels over the first's (`merged`)."""
    client = TestClient(create_app(Settings(workers=1, examples_db=tmp_path / "ex.db")))
    html = "<p>Harbour vote paragraph one of the probe.</p>"
    pages = [{"id": "p-a", "html": html, "blocks": [{"text": html[3:-4], "label": "content"}]},
             {"id": "p-b", "html": html, "blocks": [{"text": html[3:-4], "label": "junk"}]}]
    for sent in (pages, [pages[0], {k: v for k, v in pages[1].items() if k != "id"}]):
        r = client.post("/v1/examples", json={"examples": sent})
        assert "the same html as examples[0]" in assert_error(r, 422, "invalid_input")["detail"]
    assert client.get("/v1/examples").json()["examples"] == []
    # the same text under an html example and a text one is two pages
    text = {"text": html[3:-4], "blocks": [{"text": html[3:-4], "label": "content"}]}
    assert client.post("/v1/examples", json={"examples": [pages[0], text]}).status_code == 200


@pytest.mark.parametrize("document, needle", [
    ("Plain words about the harbour vote, no tags at all.", "no tags"),
    ('WARC/1.0\r\nWARC-Type: warcinfo\r\n\r\n<p>Harbour vote.</p>', "a WARC file"),
])
def test_an_html_example_that_is_not_a_page_is_refused(tmp_path, document, needle):
    """`/v1/clean` refuses such html, and training skipped the page the store had kept with an
    id and no problem."""
    client = TestClient(create_app(Settings(workers=1, examples_db=tmp_path / "ex.db")))
    r = client.post("/v1/examples", json={"examples": [
        {"html": document, "blocks": [{"text": "Harbour vote.", "label": "content"}]}]})
    assert needle in assert_error(r, 422, "invalid_input")["detail"]
    assert client.get("/v1/examples").json()["examples"] == []


def test_a_default_id_is_the_hash_of_the_document_as_stored(tmp_path):
    """A lone surrogate is stored as U+FFFD; the id was the hash of the document before, so
    it named no document `GET ?document=` could find."""
    import hashlib

    client = TestClient(create_app(Settings(workers=1, examples_db=tmp_path / "ex.db")))
    body = '{"examples": [{"html": "<p>Lone \\udc80 surrogate harbour paragraph.</p>", ' \
           '"blocks": [{"text": "Lone \\udc80 surrogate harbour paragraph.", "label": "content"}]}]}'
    r = client.post("/v1/examples", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    stored = client.get("/v1/examples").json()["examples"][0]
    assert "\ufffd" in stored["html"]
    digest = hashlib.sha256(("html\0" + stored["html"]).encode()).hexdigest()
    assert r.json()["ids"] == [stored["id"]] == ["doc-" + digest[:16]]
    assert client.get("/v1/examples", params={"document": digest}).json()["examples"][0]["id"] == stored["id"]


def test_a_page_of_exactly_max_bytes_is_stored_and_one_byte_more_is_413(tmp_path):
    """/v1/clean takes a document of exactly --max-bytes: saving that same page must too."""
    client = TestClient(create_app(Settings(workers=1, max_bytes=2000, examples_db=tmp_path / "ex.db")))
    text = ("The ferry sails again in June. " * 100)[:2000]
    whole = client.post("/v1/examples", json={"examples": [
        {"text": text, "blocks": [{"text": text, "label": "content"}]}]})
    assert whole.status_code == 200, whole.text
    over = client.post("/v1/examples", json={"examples": [
        {"text": text + "x", "blocks": [{"text": text + "x", "label": "content"}]}]})
    assert_error(over, 413, "payload_too_large")


def test_decode_reads_one_page_at_a_time_so_the_event_loop_keeps_answering(client, monkeypatch):
    """`/v1/decode` reads a page in the HTTP process, holding the GIL: 30 requests at once of a
    10 MB page in a legacy charset, each in one of AnyIO's 40 threads, held `/healthz` for up
    to 8 s. The pages are read one at a time (the app's `decodes` limiter), each answered as
    before."""
    import api.clean
    from filter.decoding import decode

    inside, most, lock = 0, 0, threading.Lock()

    def slow_decode(*args, **kwargs):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.3)
            return decode(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(api.clean, "decode", slow_decode)
    page = "<html><body><p>Café prices rose again this week.</p></body></html>".encode("cp1252")
    answers = []

    def ask():
        answers.append(client.post("/v1/decode", content=page,
                                   headers={"content-type": "text/html; charset=windows-1252"}))

    asking = [threading.Thread(target=ask) for _ in range(4)]
    for thread in asking:
        thread.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 2  # (not behind the pages being read)
    for thread in asking:
        thread.join(30)
    assert [a.status_code for a in answers] == [200] * 4
    assert all("Café" in a.json()["html"] for a in answers)
    assert most == 1


def test_the_fields_of_a_body_are_counted_as_it_is_parsed_not_by_a_walk_after():
    """The check on the fields of each object walked the parsed body in Python: a 28 MB array
    of 14 million numbers (one array: under every structure limit) held the event loop 2.6 s
    on top of its 0.8 s parse (`/v1/clean` parses on the event loop). Counted by the parser,
    as each object is made, the check costs next to nothing beside the parse; a key given
    twice counts twice (a million copies of one key made one field of an object)."""
    from api.deps import parse_json_body
    from api.errors import ApiError

    body = b"[" + b"0," * 4_000_000 + b"0]"

    def fastest(parse) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            parse(body)
            times.append(time.perf_counter() - started)
        return min(times)

    assert fastest(parse_json_body) < 2.5 * fastest(json.loads)
    assert parse_json_body(b'{"a": {"b": [1, {"c": 2}]}}') == {"a": {"b": [1, {"c": 2}]}}
    assert parse_json_body(b'{"a": 1, "a": 2}') == {"a": 2}  # the last, as json.loads reads it
    for many in (b'{"documents": [{%s}]}' % b",".join(b'"k%d": 0' % i for i in range(101)),
                 b'{"html": "<p>x</p>", %s}' % b",".join([b'"url": null'] * 100)):
        with pytest.raises(ApiError, match="an object of the body has 101 fields, over the 100"):
            parse_json_body(many)


def test_objects_and_arrays_are_counted_past_strings_and_only_up_to_the_limit():
    """The count of a body's objects and arrays stripped its strings one by one: 28 MB of 7
    million strings ``"{"`` in one array (one structure: under every limit, so the body is
    parsed next) took 2 s of event loop for the check alone; and once over the limit, every
    string was stripped again for an exact count in the answer: 1,001 ``{}`` before those
    strings cost 3 s. Strings are skipped in runs, structures counted up to the limit and no
    further; braces and brackets inside strings, escapes and an unterminated string do not
    count."""
    from api.deps import check_json_structures
    from api.errors import ApiError

    over = b"[" + b"{}," * 1_001 + b'"{",' * 2_000_000 + b'"{"]'
    started = time.perf_counter()
    with pytest.raises(ApiError, match="opens more than 1,000 objects and arrays, the limit"):
        check_json_structures(over, 1_000)
    checked = time.perf_counter() - started
    started = time.perf_counter()
    json.loads(over)
    assert checked < 0.5 * (time.perf_counter() - started)  # (before: more than the parse)
    cases = {b'["{", {"a": "[\\"{"}, [1, "x\\\\"], "\\u007b"]': 3,  # 1 array, 1 object, 1 array
             b'{"html": "<script>var a = {b: [1]};</script>"}': 1,
             b'{"a": "unterminated {[{[': 1, b'{"a": "lone backslash {\\': 1,
             b"[" * 12: 12, b'[{}, {}, "{}", {"k": [[]]}]': 6}
    for body, count in cases.items():
        check_json_structures(body, count)  # not over the limit
        with pytest.raises(ApiError, match=f"opens more than {count - 1} objects and arrays"):
            check_json_structures(body, count - 1)
    # in UTF-16 too, scanned in UTF-8
    with pytest.raises(ApiError, match="opens more than 2 objects"):
        check_json_structures('[{"\u2200": "{{"}, []]'.encode("utf-16"), 2)


def test_a_body_is_received_without_a_task_per_chunk():
    """The wait for a slow body to be cut off at the end of the shutdown's grace period raced
    each `receive()` against the pool's cut-off in tasks of their own: two tasks and an
    `asyncio.wait` per chunk of every request's body (a 10 MB upload, 160 chunks: 5 ms more of
    event loop), where receiving it had cost 1.6 ms. The cut-off now ends the wait itself;
    the body is received in the request's own task, with no task started per chunk, and a
    body still coming in when the cut-off comes is answered `503 not_ready`."""
    from types import SimpleNamespace

    from api.bodylimit import BodyLimitMiddleware

    async def run(cut_after: int | None) -> tuple[int, list, bytes]:
        loop = asyncio.get_running_loop()
        pool = CleaningPool(1, 1_000_000, 5, 5)
        started = []
        loop.set_task_factory(lambda lp, coro, **kw: started.append(coro) or asyncio.Task(
            coro, loop=lp, **kw))
        got, sent, received = [], [], 0

        async def app(scope, receive, send):
            got.append((await receive())["body"])

        async def receive():
            nonlocal received
            if received == cut_after:
                pool._cut_off()
                await asyncio.Event().wait()  # a client that stalled
            received += 1
            await asyncio.sleep(0)
            return {"type": "http.request", "body": b"x" * 1000, "more_body": received < 100}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "headers": [], "app": SimpleNamespace(state=SimpleNamespace(
            pool=pool))}
        async with asyncio.timeout(5):
            await BodyLimitMiddleware(app, 1_000_000)(scope, receive, send)
        loop.set_task_factory(None)
        status = sent[0]["status"] if sent else 0
        return status, started, got[0] if got else b"".join(m.get("body", b"") for m in sent)

    status, started, body = asyncio.run(run(None))
    assert (status, len(body), started) == (0, 100_000, [])
    status, started, body = asyncio.run(run(40))
    assert status == 503 and json.loads(body)["error"] == "not_ready", body
