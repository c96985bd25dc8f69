"""The Scrapy pipeline in a real crawl: a local HTTP server serves the fixture site, a spider
crawls it in its own process, and the items it exports carry the library's own results."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("scrapy")

from crawl_helpers import (  # noqa: E402, F401 (one_blas_thread is an autouse fixture)
    ARTICLES, SITE, one_blas_thread, page)
from filter import Cleaner  # noqa: E402
from filter.integrations.scrapy import NoiseFilterPipeline  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

SPIDER = '''
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess

base, out, keep_html = sys.argv[1], sys.argv[2], sys.argv[3] == "keep"

class CourierSpider(scrapy.Spider):
    name = "courier"
    start_urls = [base + "index.html", base + "binary.html"]

    def parse(self, response):
        # articles hand the Response itself to the pipeline, the front page its text
        html = response if "index" not in response.url else response.text
        yield {"url": response.url, "html": html}
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.parse)

process = CrawlerProcess(settings={
    "ITEM_PIPELINES": {"filter.integrations.scrapy.NoiseFilterPipeline": 300},
    "NOISEFILTER_OUTPUT_FIELD": "clean",
    "NOISEFILTER_DROP_EMPTY": True,
    "NOISEFILTER_KEEP_HTML": keep_html,
    "FEEDS": {out: {"format": "jsonlines"}},
    "ROBOTSTXT_OBEY": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
})
crawler = process.create_crawler(CourierSpider)
process.crawl(crawler)
process.start()
print(json.dumps(crawler.stats.get_stats(), default=str))
'''


def run_spider(path: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    """A spider script, written to `path`, in a process of its own that imports the library
    from this tree: it imported the copy installed in the environment, which may be older.
    (Not given with ``-c``: Scrapy reads a callback's source, and fails each response without
    it.)"""
    path.write_text(script)
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                          timeout=120, env=spider_env())


def spider_env() -> dict:
    """The environment of a spider's process, which imports the library from this tree."""
    paths = [str(REPO), *([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


@pytest.fixture(scope="module")
def cleaner():
    return Cleaner()


@pytest.fixture
def site(tmp_path):
    """The fixture site on 127.0.0.1, plus a page of binary bytes that cannot be cleaned."""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    (root / "binary.html").write_bytes(bytes(range(256)) * 20)
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.parametrize("keep_html", [False, True])
def test_a_crawl_yields_items_cleaned_exactly_as_the_library_cleans(tmp_path, site, cleaner,
                                                                    keep_html):
    out = tmp_path / "items.jsonl"
    proc = run_spider(tmp_path / "crawl.py", SPIDER, site, str(out),
                      "keep" if keep_html else "drop")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    items = {i["url"]: i for i in map(json.loads, out.read_text().splitlines())}

    # the server answers "/" (the Home link) with index.html: one more URL for the front page
    pages = {site: "index.html", **{site + name: name for name in ("index.html", *ARTICLES)}}
    for url, name in pages.items():
        item = items.pop(url)
        if keep_html:  # kept as the page's text, also where the spider handed a Response
            assert item["html"] == page(name).decode("utf-8")
        else:
            assert "html" not in item  # the raw page is not carried into the feed
        want = cleaner.clean(page(name).decode("utf-8"), url=url)
        assert item["clean"]["error"] is None
        assert item["clean"]["text"] == want.text and want.text
        assert item["clean"]["title"] == want.title
        assert item["clean"]["label_counts"] == want.label_counts
    assert items == {}  # the binary page was dropped, the 404 never became an item
    assert stats["noisefilter/error/InputError"] == 1
    assert stats["noisefilter/cleaned"] == 5
    assert stats["item_dropped_count"] == 1
    assert stats["downloader/response_status_count/404"] == 1


REACTORLESS_SPIDER = '''
import json, sys
import scrapy
from scrapy.crawler import AsyncCrawlerProcess

base, out = sys.argv[1], sys.argv[2]

class NoReactorSpider(scrapy.Spider):
    name = "no_reactor"
    start_urls = [base + "harbour-ferry.html", base + "binary.html"]

    def parse(self, response):
        yield {"url": response.url, "html": response}

process = AsyncCrawlerProcess(settings={
    "TWISTED_REACTOR_ENABLED": False,
    "ITEM_PIPELINES": {"filter.integrations.scrapy.NoiseFilterPipeline": 300},
    "NOISEFILTER_THREADS": 2,
    "FEEDS": {out: {"format": "jsonlines"}},
    "ROBOTSTXT_OBEY": False,
    "LOG_LEVEL": "WARNING",
})
crawler = process.create_crawler(NoReactorSpider)
process.crawl(crawler)
process.start()
print(json.dumps(crawler.stats.get_stats(), default=str))
'''


def test_a_crawl_without_a_twisted_reactor_cleans_its_items(tmp_path, site, cleaner):
    """Scrapy 2.15 and later can run on asyncio alone (``TWISTED_REACTOR_ENABLED = False``),
    where importing the reactor raises: every item was lost with that ImportError ("Error
    processing"), and the feed came out empty."""
    import scrapy.crawler
    from scrapy.settings import Settings

    if not hasattr(scrapy.crawler, "AsyncCrawlerProcess") or (
            Settings().get("TWISTED_REACTOR_ENABLED") is None):
        pytest.skip("this Scrapy always runs a Twisted reactor")
    out = tmp_path / "items.jsonl"
    proc = run_spider(tmp_path / "no_reactor.py", REACTORLESS_SPIDER, site, str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Error processing" not in proc.stderr, proc.stderr
    items = {i["url"]: i for i in map(json.loads, out.read_text().splitlines())}
    url = site + ARTICLES[0]
    assert items[url]["noisefilter"]["text"] == cleaner.clean(page(ARTICLES[0]), url=url).text
    assert items[site + "binary.html"]["noisefilter"]["error"]["type"] == "InputError"
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["noisefilter/cleaned"] == 1 and stats["noisefilter/error/InputError"] == 1


def test_a_page_that_cannot_be_cleaned_gives_an_error_record(cleaner):
    pipeline = NoiseFilterPipeline(cleaner)
    outcome = pipeline._clean(b"", "http://courier.test/empty")
    record = outcome.to_record()
    assert record["error"]["type"] == "InputError" and record["text"] == ""
    assert record["url"] == "http://courier.test/empty"


def test_a_bug_on_one_page_costs_no_item(cleaner):
    class Buggy(Cleaner):
        def clean(self, html, url=None):
            raise RuntimeError("a bug, not a bad page")

    outcome = NoiseFilterPipeline(Buggy(model=cleaner.loaded))._clean("<p>x</p>",
                                                                   "http://courier.test/x")
    assert outcome.error.type == "RuntimeError"


def test_a_bug_while_reading_a_response_costs_no_item(cleaner, monkeypatch):
    """A Response's page is decoded before the cleaner runs: an error of the library's own
    there (a bug) escaped the pipeline, and Scrapy dropped the item."""
    from scrapy.http import HtmlResponse

    import filter.integrations.scrapy as pipeline_module

    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not a bad page")

    monkeypatch.setattr(pipeline_module, "decode", broken)
    response = HtmlResponse("http://courier.test/x", body="<p>caf\u00e9</p>".encode("cp1252"))
    outcome, kept = NoiseFilterPipeline(cleaner)._clean_item(response, None)
    assert outcome.error.type == "RuntimeError" and outcome.url == "http://courier.test/x"
    assert kept is None


def test_an_output_field_that_is_the_html_field_is_refused(cleaner):
    """The result would replace the page and then be deleted with it: nothing would be kept."""
    with pytest.raises(ValueError, match="both 'html'"):
        NoiseFilterPipeline(cleaner, output_field="html")



def test_the_favor_precision_setting_cleans_pages_and_responses_as_the_library_does(cleaner):
    """NOISEFILTER_FAVOR_PRECISION gives the pipeline a `Cleaner(favor_precision=True)`, for
    pages and for a Response's text alike; off by default."""
    from scrapy.utils.test import get_crawler

    html = (Path(__file__).parent / "fixtures" / "crawl_site" / "harbour-ferry.html").read_bytes()
    url = "https://coastal.example/news/2026/harbour-ferry-returns"
    pipeline = NoiseFilterPipeline.from_crawler(get_crawler(settings_dict={"NOISEFILTER_FAVOR_PRECISION": True}))
    try:
        assert pipeline.cleaner.favor_precision and pipeline._text_cleaner.favor_precision
        want = Cleaner(model=cleaner.loaded, favor_precision=True).clean(html, url=url).text
        assert pipeline._clean(html, url).result.text == want != cleaner.clean(html, url=url).text
    finally:
        pipeline.close_spider()
    default = NoiseFilterPipeline.from_crawler(get_crawler())
    assert not default.cleaner.favor_precision
    default.close_spider()


def test_pages_are_cleaned_in_a_thread_pool_of_the_pipelines_own(cleaner, monkeypatch):
    """Cleaning ran in the reactor's thread pool, where Scrapy resolves host names: pages being
    cleaned held its threads and lookups timed out. One thread by default: pages cleaned at
    once share one core's worth of Python, and each ran out of its time limit."""
    import asyncio

    from scrapy.utils.test import get_crawler
    from twisted.internet import reactor

    import filter.integrations.scrapy as pipeline_module

    pipeline = NoiseFilterPipeline.from_crawler(get_crawler(settings_dict={"NOISEFILTER_THREADS": 2}))
    assert pipeline.pool is not reactor.getThreadPool() and pipeline.pool.max == 2
    assert NoiseFilterPipeline(cleaner).pool.max == 1
    # the page is handed to that pool, started for it (run here: no reactor runs in the test)
    pools = []
    monkeypatch.setattr(pipeline_module, "deferToThreadPool",
                        lambda reactor, pool, work, *args: (pools.append(pool), work(*args))[1])
    monkeypatch.setattr(pipeline_module, "maybe_deferred_to_future",
                        lambda value: asyncio.sleep(0, value))
    item = {"url": "http://courier.test/a", "html": page(ARTICLES[0]).decode("utf-8")}
    asyncio.run(pipeline.process_item(item))
    assert pools == [pipeline.pool] and pipeline.pool.started and item["noisefilter"]["text"]
    pipeline.close_spider()
    assert not pipeline.pool.started
    with pytest.raises(ValueError, match="NOISEFILTER_THREADS"):
        NoiseFilterPipeline(cleaner, threads=0)


def test_an_item_that_cannot_take_the_result_passes_through_uncleaned(cleaner, caplog):
    """A dataclass item without the output field failed with a KeyError after its page was
    cleaned; it now passes through untouched, and the missing field is named once."""
    import asyncio
    from dataclasses import dataclass

    @dataclass
    class Page:
        url: str
        html: str

    pipeline = NoiseFilterPipeline(cleaner)
    item = Page(url="http://courier.test/a", html=page(ARTICLES[0]).decode("utf-8"))
    for _ in range(2):
        assert asyncio.run(asyncio.wait_for(pipeline.process_item(item), 60)) is item
    assert item.html and [r.message for r in caplog.records].count(
        "noisefilter: Page items have no field 'noisefilter' to take the result: declare it "
        "(NOISEFILTER_OUTPUT_FIELD); such items pass through uncleaned") == 1


def test_a_dataclass_item_keeps_its_fields_when_the_html_is_dropped(cleaner, monkeypatch):
    """Dropping the HTML field deleted a dataclass item's attribute: Scrapy's log of every
    scraped item (its repr) and `dataclasses.asdict` then failed with AttributeError. The
    field is emptied instead; a dict item loses it, as before. (The page is cleaned in this
    thread: no reactor runs here to hand it to the pipeline's pool.)"""
    import asyncio
    from dataclasses import asdict, dataclass

    import filter.integrations.scrapy as pipeline_module

    monkeypatch.setattr(pipeline_module, "deferToThreadPool",
                        lambda reactor, pool, work, *args: work(*args))
    monkeypatch.setattr(pipeline_module, "maybe_deferred_to_future",
                        lambda value: asyncio.sleep(0, value))

    @dataclass
    class Article:
        url: str
        html: object
        noisefilter: object = None

    pipeline = NoiseFilterPipeline(cleaner)
    monkeypatch.setattr(pipeline, "_start_pool", lambda reactor: None)
    html = page(ARTICLES[0]).decode("utf-8")
    item = asyncio.run(pipeline.process_item(Article(url="http://courier.test/a", html=html)))
    assert "Article(url=" in repr(item) and asdict(item)["html"] is None
    assert asdict(item)["noisefilter"]["text"] == cleaner.clean(html, "http://courier.test/a").text
    plain = asyncio.run(pipeline.process_item({"url": "http://courier.test/a", "html": html}))
    assert "html" not in plain and plain["noisefilter"]["text"]
    attrs = pytest.importorskip("attr")
    pydantic = pytest.importorskip("pydantic")

    @attrs.define
    class Story:
        url: str
        html: object
        noisefilter: object = None

    item = asyncio.run(pipeline.process_item(Story(url="http://courier.test/a", html=html)))
    assert "Story(url=" in repr(item) and attrs.asdict(item)["html"] is None

    class Checked(pydantic.BaseModel, validate_assignment=True):  # None is no str: deleted
        url: str
        html: str
        noisefilter: object = None

    item = asyncio.run(pipeline.process_item(Checked(url="http://courier.test/a", html=html)))
    assert "html" not in item.model_dump() and item.noisefilter["text"]


def _inline_pipeline(cleaner, monkeypatch) -> NoiseFilterPipeline:
    """A pipeline that cleans in this thread: no reactor runs here to hand pages to its pool."""
    import asyncio

    from scrapy.utils.test import get_crawler

    import filter.integrations.scrapy as pipeline_module

    monkeypatch.setattr(pipeline_module, "deferToThreadPool",
                        lambda reactor, pool, work, *args: work(*args))
    monkeypatch.setattr(pipeline_module, "maybe_deferred_to_future",
                        lambda value: asyncio.sleep(0, value))
    pipeline = NoiseFilterPipeline(cleaner, stats=get_crawler().stats)
    monkeypatch.setattr(pipeline, "_start_pool", lambda reactor: None)
    return pipeline


def test_a_pydantic_item_that_validates_assignments_gets_its_result(cleaner, monkeypatch, caplog):
    """The pipeline tried whether an item could take the result by writing None into the
    output field: a pydantic model validating assignments refused None for a `dict` field,
    and every item of it was lost with a ValidationError. An output field of another type
    (`str`) passes the item on uncleaned, said once, as an item without the field does."""
    import asyncio

    pydantic = pytest.importorskip("pydantic")
    pipeline = _inline_pipeline(cleaner, monkeypatch)
    html = page(ARTICLES[0]).decode("utf-8")

    class Article(pydantic.BaseModel, validate_assignment=True):
        url: str
        html: str | None = None
        noisefilter: dict = {}

    item = asyncio.run(pipeline.process_item(Article(url="http://courier.test/a", html=html)))
    assert item.noisefilter["text"] == cleaner.clean(html, "http://courier.test/a").text

    class Typed(pydantic.BaseModel, validate_assignment=True):
        url: str
        html: str | None = None
        noisefilter: str = ""

    for _ in range(2):
        item = asyncio.run(pipeline.process_item(Typed(url="http://courier.test/a", html=html)))
        assert item.html == html and item.noisefilter == ""
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == [
        "noisefilter: Typed items refused the result in field 'noisefilter' (ValidationError): "
        "declare it as a dict; such items pass through uncleaned"]
    assert pipeline.stats.get_value("noisefilter/error/NoOutputField") == 2


def test_a_response_that_is_no_page_is_refused_as_the_warc_reader_refuses_it(cleaner):
    """A feed a CrawlSpider followed (`/feed/`, `application/rss+xml`) was cleaned and counted
    as an article; by its Content-Type it is `NotHTML`, as in a WARC. A page served as plain
    text, or a spider's Response without a Content-Type, is still a page."""
    from scrapy.http import HtmlResponse, TextResponse, XmlResponse

    url = "http://courier.test/feed/"
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Courier</title><item>'
            b"<title>Harbour ferry returns</title><description>" + b"The ferry returns. " * 40
            + b"</description></item></channel></rss>")
    pipeline = NoiseFilterPipeline(cleaner)
    for mime in ("application/rss+xml", "application/xml", "image/svg+xml"):
        response = XmlResponse(url, body=feed, headers={"Content-Type": mime})
        outcome, text = pipeline._clean_item(response, None)
        assert (outcome.error.type, text) == ("NotHTML", None)
        assert outcome.error.message == f"content type {mime} is not HTML"
    html = page(ARTICLES[0])
    want = cleaner.clean(html, url).text
    for response in (TextResponse(url, body=html, headers={"Content-Type": "text/plain"}),
                     HtmlResponse(url, body=html)):
        outcome, _ = pipeline._clean_item(response, None)
        assert outcome.error is None and outcome.result.text == want


def test_an_error_response_is_refused_as_the_warc_reader_refuses_it(cleaner):
    """A spider that lets error pages through (`handle_httpstatus_all`, to record them) had a
    404's "Page not found" cleaned and counted as an article; by its status it is `HTTPStatus`,
    as in a WARC."""
    from scrapy.http import HtmlResponse

    url = "http://courier.test/news/gone"
    html = page(ARTICLES[0])
    pipeline = NoiseFilterPipeline(cleaner)
    for status in (404, 500, 301):
        outcome, text = pipeline._clean_item(HtmlResponse(url, status=status, body=html), url)
        assert (outcome.error.type, outcome.error.message, text) == (
            "HTTPStatus", f"HTTP status {status}: not a page", None)
    outcome, _ = pipeline._clean_item(HtmlResponse(url, status=203, body=html), url)
    assert outcome.error is None and outcome.result.text == cleaner.clean(html, url).text


@pytest.mark.parametrize("label, body", [
    ("iso-8859-1", "utf-8"),  # a server's default label on a UTF-8 page
    ("utf-8", "cp1252"),  # a wrong label; the page declares its own charset
])
def test_a_response_is_read_as_the_warc_reader_reads_it_whatever_its_label(cleaner, label, body):
    """Scrapy's `response.text` lets the header's charset win: a UTF-8 page labelled
    iso-8859-1 came out as "cafÃ©", a windows-1252 page labelled utf-8 as "caf\ufffd", where
    the library and the WARC reader read both right."""
    from scrapy.http import HtmlResponse

    from filter.integrations.scrapy import response_page

    html = page(ARTICLES[0]).decode("utf-8").replace(
        '<meta charset="utf-8">', '<meta charset="windows-1252">').replace(
        "</p>", " Le café ouvre à Zürich.</p>", 1)
    response = HtmlResponse("http://courier.test/cafe", body=html.encode(body),
                            headers={"Content-Type": f"text/html; charset={label}"})
    text = NoiseFilterPipeline(cleaner)._clean(response_page(response), response.url).result.text
    assert "Le café ouvre à Zürich." in text
    assert text == cleaner.clean(html, "http://courier.test/cafe").text


def test_the_url_field_is_read_against_the_response_and_as_item_loaders_store_it(cleaner):
    """A relative URL field (a spider that stored an `href`) failed the page with "not an
    absolute URL" and a one-element list (an item loader without TakeFirst) with "url must be
    a str", though the Response beside them had the page's URL."""
    from scrapy.http import HtmlResponse

    from filter.integrations.scrapy import page_url

    response = HtmlResponse("http://courier.test/news/a.html", body=b"<p>x</p>")
    assert page_url("b.html", response) == "http://courier.test/news/b.html"
    assert page_url(["http://courier.test/c"], response) == "http://courier.test/c"
    assert page_url(["", "http://courier.test/c", "http://courier.test/d"]) == "http://courier.test/c"
    assert page_url(b"http://courier.test/c") == "http://courier.test/c"
    assert page_url(7, response) == page_url(None, response) == page_url(" ", response) \
        == "http://courier.test/news/a.html"
    # read as the page reads its links: under its <base href>
    based = HtmlResponse("http://courier.test/news/a.html",
                         body=b'<head><base href="http://courier.test/archive/"></head><p>x</p>')
    assert page_url("b.html", based) == "http://courier.test/archive/b.html"
    # an unusable base gives way to the Response's URL (the field was sent on as it was)
    for href in (b"javascript:void(0)", b"http://[::1/"):
        unusable = HtmlResponse("http://courier.test/news/a.html",
                                body=b'<head><base href="' + href + b'"></head><p>x</p>')
        assert page_url("/news/z.html", unusable) == "http://courier.test/news/z.html"
    # a list without a URL is refused by `clean`, as the same field alone is
    assert page_url([7]) == 7
    # a base in the page's own characters (read as Latin-1, it came out as mojibake)
    from filter.integrations.scrapy import response_page

    named = HtmlResponse("http://courier.test/news/a.html", headers={
        "Content-Type": b"text/html; charset=utf-8"},
        body='<head><base href="http://courier.test/café/"></head><p>x</p>'.encode("utf-8"))
    assert page_url("b.html", named, response_page(named)) == "http://courier.test/caf%C3%A9/b.html"
    # and without a header charset, in the charset the page declares (it was read as UTF-8)
    from scrapy.http import Response

    bare = Response("http://courier.test/news/a.html", body=b'<meta charset="windows-1252">'
                    b'<base href="http://courier.test/caf\xe9/"><p>x</p>')
    assert page_url("b.html", bare, response_page(bare)) == "http://courier.test/caf%C3%A9/b.html"
    html = page(ARTICLES[0]).decode("utf-8")
    outcome = NoiseFilterPipeline(cleaner)._clean(html, page_url("/a", response))
    assert outcome.error is None and outcome.to_record()["url"] == "http://courier.test/a"
    assert outcome.result.text == cleaner.clean(html, "http://courier.test/a").text
    # a field that cannot be joined raised out of process_item (the item lost, a traceback);
    # it is the item's error record, as without a Response
    bad = page_url("http://[::1/story", response)
    outcome = NoiseFilterPipeline(cleaner)._clean(html, bad)
    assert outcome.error.type == "InputError" and outcome.to_record()["url"] == bad


def test_the_url_field_is_joined_without_decoding_the_whole_body(cleaner, monkeypatch):
    """The URL field was joined under the page's <base href> with Scrapy's `urljoin`, which
    decodes the whole body (charset detection included: 4 s for 20 MB), on the reactor thread,
    which meanwhile downloaded nothing. The base is read from the body's first 4 KB now, and
    the field, like the page itself, in the pipeline's pool (`_clean_item`)."""
    from scrapy.http import HtmlResponse, TextResponse

    from filter.integrations.scrapy import page_url

    def whole_body(self):
        raise AssertionError("the whole body was decoded")

    body = page(ARTICLES[0]).replace(b"<head>", b'<head><base href="http://courier.test/x/">')
    response = HtmlResponse("http://courier.test/news/a.html", body=body)
    monkeypatch.setattr(TextResponse, "text", property(whole_body))
    assert page_url("b.html", response) == "http://courier.test/x/b.html"
    outcome, html = NoiseFilterPipeline(cleaner)._clean_item(response, "b.html")
    assert outcome.url == "http://courier.test/x/b.html" and outcome.result.text
    assert html == body.decode("utf-8")  # the text that was cleaned


KEEP_SPIDER = '''
import sys
import scrapy
from scrapy.crawler import CrawlerProcess

url, out = sys.argv[1], sys.argv[2]

class CafeSpider(scrapy.Spider):
    name = "cafe"
    start_urls = [url]

    def parse(self, response):
        yield {"shape": "field", "url": response.url, "html": response}
        # as an item loader without TakeFirst stores its fields
        yield {"shape": "list", "url": [response.url], "html": [response]}

process = CrawlerProcess(settings={
    "ITEM_PIPELINES": {"filter.integrations.scrapy.NoiseFilterPipeline": 300},
    "NOISEFILTER_KEEP_HTML": True,
    "FEEDS": {out: {"format": "jsonlines"}},
    "ROBOTSTXT_OBEY": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
})
process.crawl(CafeSpider)
process.start()
'''


def test_a_kept_response_is_the_text_that_was_cleaned_in_the_charset_its_page_declares(
        tmp_path, site, cleaner):
    """With NOISEFILTER_KEEP_HTML, a Response served as plain ``text/html`` whose page declares
    windows-1252 was cleaned right but kept as its bytes read as UTF-8 ("Le caf\ufffd"); it
    is kept as the text that was cleaned, also from a one-element list (which failed as
    "expected HTML as bytes or str, got list")."""
    html = page(ARTICLES[0]).decode("utf-8").replace(
        '<meta charset="utf-8">', '<meta charset="windows-1252">').replace(
        "</p>", " Le caf\u00e9 ouvre \u00e0 Z\u00fcrich \u2013 \u00ab enfin \u00bb.</p>", 1)
    (tmp_path / "site" / "cafe.html").write_bytes(html.encode("cp1252"))
    out = tmp_path / "items.jsonl"
    proc = run_spider(tmp_path / "keep.py", KEEP_SPIDER, site + "cafe.html", str(out))
    assert proc.returncode == 0, proc.stderr
    items = {i["shape"]: i for i in map(json.loads, out.read_text().splitlines())}
    want = cleaner.clean(html, url=site + "cafe.html")
    assert "Le caf\u00e9 ouvre \u00e0 Z\u00fcrich \u2013 \u00ab enfin \u00bb." in want.text
    for shape in ("field", "list"):
        assert items[shape]["html"] == html
        assert items[shape]["noisefilter"]["error"] is None
        assert items[shape]["noisefilter"]["text"] == want.text


def test_an_html_field_stored_as_a_list_is_cleaned_as_its_first_page(cleaner):
    """An item loader without TakeFirst stores the HTML in a list, as it stores the URL, which
    the pipeline already read so: every such item failed with "expected HTML as bytes or str,
    got list"."""
    html = page(ARTICLES[0]).decode("utf-8")
    pipeline = NoiseFilterPipeline(cleaner)
    want = cleaner.clean(html, "http://courier.test/a").text
    for field in ([html], ["", html.encode("utf-8")], (html,)):
        outcome, _ = pipeline._clean_item(field, ["http://courier.test/a"])
        assert outcome.error is None and outcome.result.text == want
    # a list without a page is refused by `clean`, as the same value alone is
    outcome, _ = pipeline._clean_item([7], "http://courier.test/a")
    assert outcome.error.message == "expected HTML as bytes or str, got int"


def test_a_responses_size_limit_holds_for_its_body_not_its_text_in_utf8(cleaner):
    """NOISEFILTER_MAX_BYTES is the body's size as received: a Russian page labelled
    windows-1251 within the limit was refused as "input is N bytes" for its text counted in
    UTF-8 (twice the body), while the same body declaring its charset in the page passed."""
    from scrapy.http import HtmlResponse

    from filter import Limits

    sentence = ("\u0413\u043e\u0440\u043e\u0434\u0441\u043a\u043e\u0439 \u0441\u043e\u0432\u0435\u0442 "
                "\u0443\u0442\u0432\u0435\u0440\u0434\u0438\u043b \u0431\u044e\u0434\u0436\u0435\u0442 "
                "\u043d\u0430 \u0441\u043b\u0435\u0434\u0443\u044e\u0449\u0438\u0439 \u0433\u043e\u0434. ")
    body = ("<html><head><title>\u041d\u043e\u0432\u043e\u0441\u0442\u0438</title></head><body>"
            "<article>" + f"<p>{sentence * 6}</p>" * 60 + "</article></body></html>").encode("cp1251")
    declared = body.replace(b"<head>", b"<head><meta charset='windows-1251'>")
    responses = [HtmlResponse("http://courier.test/ru", body=body,
                              headers={"Content-Type": "text/html; charset=windows-1251"}),
                 HtmlResponse("http://courier.test/ru", body=declared,
                              headers={"Content-Type": "text/html"})]
    assert len(body.decode("cp1251").encode("utf-8")) > 1.8 * len(declared)
    within = NoiseFilterPipeline(Cleaner(model=cleaner.loaded, limits=Limits(max_bytes=len(declared))))
    texts = []
    for response in responses:
        outcome, _ = within._clean_item(response, None)
        assert outcome.error is None and sentence.strip() in outcome.result.text
        texts.append(outcome.result.text)
    assert texts[0] == texts[1]
    for response in responses:
        over = NoiseFilterPipeline(Cleaner(model=cleaner.loaded,
                                           limits=Limits(max_bytes=len(response.body) - 1)))
        outcome, kept = over._clean_item(response, None)
        assert outcome.error.type == "InputTooLarge" and kept is None
        assert outcome.error.message.startswith(f"input is {len(response.body):,} bytes")


SIGINT_SPIDER = '''
import asyncio, sys
import scrapy
from scrapy.crawler import CrawlerProcess

html = open(sys.argv[1], encoding="utf-8").read()

class Stall:
    """After the cleaner: says when the first page is cleaned, and never lets the second item
    through, which the graceful shutdown of a first Ctrl-C waits for."""
    async def process_item(self, item, spider=None):
        if item["url"].endswith("/a"):
            print("first page cleaned", flush=True)
            return item
        await asyncio.get_running_loop().create_future()

class PagesSpider(scrapy.Spider):
    name = "pages"

    async def start(self):
        for name in ("a", "b"):
            yield {"url": "http://courier.test/" + name, "html": html}

process = CrawlerProcess(settings={
    "ITEM_PIPELINES": {"filter.integrations.scrapy.NoiseFilterPipeline": 300,
                       "__main__.Stall": 400},
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "INFO",
})
process.crawl(PagesSpider)
process.start()
print("reactor stopped", flush=True)
'''


def test_a_crawl_stopped_by_ctrl_c_twice_ends_its_process(tmp_path):
    """Ctrl-C twice ("forcing unclean shutdown") stops the reactor without `close_spider`: the
    pipeline's pool, whose threads are not daemons, was never stopped, and the process never
    ended (nor did a third Ctrl-C or SIGTERM end it)."""
    script = tmp_path / "sigint.py"
    script.write_text(SIGINT_SPIDER)
    proc = subprocess.Popen([sys.executable, str(script), str(SITE / ARTICLES[0])],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=spider_env())
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout],
                     daemon=True).start()
    seen = []

    def wait_for(text: str) -> None:
        while not any(text in line for line in seen):
            seen.append(lines.get(timeout=120))

    try:
        wait_for("first page cleaned")
        proc.send_signal(signal.SIGINT)
        wait_for("shutting down gracefully")
        proc.send_signal(signal.SIGINT)
        wait_for("reactor stopped")
        proc.wait(timeout=30)  # it hung here
    finally:
        proc.kill()
        proc.wait()
    assert any("forcing unclean shutdown" in line for line in seen)


def test_an_encoding_the_spider_gave_the_response_is_read(cleaner):
    """A spider sets a server's wrong charset right with ``response.replace(encoding=...)``,
    which Scrapy's `response.text` reads first: the pipeline read the header's charset (or
    guessed) instead, and the page came out as mojibake ("prost\u00f8ed\u00ed")."""
    from scrapy.http import HtmlResponse

    html = page(ARTICLES[0]).decode("utf-8").replace('<meta charset="utf-8">', "").replace(
        "</p>", " Vl\u00e1da schv\u00e1lila z\u00e1kon o \u017eivotn\u00edm "
        "prost\u0159ed\u00ed.</p>", 1)
    url = "http://courier.test/cz"
    want = cleaner.clean(html, url=url).text
    assert "prost\u0159ed\u00ed" in want
    pipeline = NoiseFilterPipeline(cleaner, keep_html=True)
    headers = {"Content-Type": "text/html; charset=iso-8859-1"}
    labelled = HtmlResponse(url, body=html.encode("cp1250"), headers=headers)
    for response in (labelled.replace(encoding="cp1250"),
                     HtmlResponse(url, body=labelled.body, headers=headers,
                                  encoding="windows-1250")):
        outcome, kept = pipeline._clean_item(response, None)
        assert outcome.result.text == want and kept == html
    # the spider's choice holds where Scrapy would have guessed the same for an undeclared page
    undeclared = HtmlResponse(url, body=html.encode("cp1250"))
    assert pipeline._clean_item(undeclared.replace(encoding="cp1250"), None)[1] == html
    # Scrapy's own reading, which `copy` hands on as an encoding, keeps a UTF-8 page UTF-8
    utf8 = HtmlResponse(url, body=html.encode("utf-8"), headers=headers)
    assert pipeline._clean_item(utf8.copy(), None)[1] == html


def test_a_saved_page_read_by_a_file_url_is_cleaned_without_it(cleaner):
    """A spider over saved pages (``file://`` URLs) had every item failed as "not an absolute
    URL": the page is cleaned as a page without a URL, as the WARC reader cleans such a
    record, and the record keeps the URL. A malformed web URL, or a field that is no URL, is
    still the item's error."""
    from scrapy.http import HtmlResponse

    url = (SITE / ARTICLES[0]).as_uri()
    html = page(ARTICLES[0])
    want = cleaner.clean(html).to_dict()
    pipeline = NoiseFilterPipeline(cleaner)
    response = HtmlResponse(url, body=html)
    for got, field in ((response, None), (response, url), ([html], [url])):
        outcome, _ = pipeline._clean_item(got, field)
        assert outcome.error is None and outcome.result.to_dict() == want
        assert outcome.to_record()["id"] == outcome.to_record()["url"] == url
    for field in ("http://[::1/story", "news/1", "javascript:void(0)",
                  "mailto:desk@courier.test", "localhost:8080/news/1"):
        outcome, _ = pipeline._clean_item(html, field)
        assert outcome.error.type == "InputError" and outcome.to_record()["url"] == field
    # a relative URL field beside a saved page's Response is a saved page too
    outcome, _ = pipeline._clean_item(response, ARTICLES[0])
    assert outcome.error is None and outcome.to_record()["url"] == url


@pytest.mark.parametrize("url", ["file:///srv/saved/news/story.html",
                                 "file://localhost/srv/saved/news/story.html",
                                 "file://nas/saved/news/story.html"])
def test_a_saved_pages_related_links_are_kept_whatever_its_file_url(cleaner, url):
    """A ``file:`` URL with a host names a saved page as one without does: every related link
    of such a page resolved against it to a file and was lost."""
    import gzip

    from scrapy.http import HtmlResponse

    from conftest import SHARED

    html = gzip.decompress((SHARED / "data" / "wcxb-dev" / "html" / "0004.html.gz").read_bytes())
    want = cleaner.clean(html).to_dict()
    assert want["related_links"]
    pipeline = NoiseFilterPipeline(cleaner)
    for got in (html, HtmlResponse(url, body=html)):
        outcome, _ = pipeline._clean_item(got, url)
        assert outcome.error is None and outcome.result.to_dict() == want


def test_pages_still_waiting_when_the_crawl_stops_are_given_up(cleaner):
    """Twisted's pool runs every job queued before it stops: after Ctrl-C twice, hundreds of
    pages were cleaned for no one before the process could exit."""
    class Counting(Cleaner):
        cleaned = 0

        def clean(self, html, url=None, **options):
            Counting.cleaned += 1
            return super().clean(html, url=url, **options)

    pipeline = NoiseFilterPipeline(Counting(model=cleaner.loaded))
    pipeline.close_spider()
    url = "http://courier.test/" + ARTICLES[0]
    outcome, _ = pipeline._clean_item(page(ARTICLES[0]), url)
    assert outcome.error.type == "Interrupted" and outcome.url == url
    assert Counting.cleaned == 0

# -- from a mutation review: each test fails on a small change of filter/integrations/scrapy.py
# -- that no other test caught

_EMPTY_PAGE = "<html><head><title>Nothing</title></head><body></body></html>"


def test_drop_empty_drops_a_page_without_clean_text(monkeypatch, cleaner):
    import asyncio

    from scrapy.exceptions import DropItem

    import filter.integrations.scrapy as pipeline_module

    monkeypatch.setattr(pipeline_module, "deferToThreadPool",
                        lambda reactor, pool, work, *args: work(*args))
    monkeypatch.setattr(pipeline_module, "maybe_deferred_to_future",
                        lambda value: asyncio.sleep(0, value))
    pipeline = NoiseFilterPipeline(cleaner, drop_empty=True)
    monkeypatch.setattr(pipeline, "_start_pool", lambda reactor: None)
    with pytest.raises(DropItem):
        asyncio.run(pipeline.process_item({"url": "http://courier.test/a", "html": _EMPTY_PAGE}))


def test_an_empty_page_is_counted_as_empty_not_cleaned(cleaner):
    class Stats:
        def __init__(self):
            self.values = {}

        def inc_value(self, key):
            self.values[key] = self.values.get(key, 0) + 1

    stats = Stats()
    pipeline = NoiseFilterPipeline(cleaner, stats=stats)
    outcome = pipeline._clean(_EMPTY_PAGE, "http://courier.test/a")
    assert outcome.error is None and not outcome.result.text
    pipeline._count(outcome)
    assert stats.values == {"noisefilter/empty": 1}


def test_a_blank_url_field_beside_a_response_is_the_responses_url():
    """Not the page's `<base href>`, which only the Response's own address gives way to."""
    from scrapy.http import HtmlResponse

    from filter.integrations.scrapy import page_url

    response = HtmlResponse("http://courier.test/news/a.html",
                            body=b'<html><head><base href="http://cdn.test/x/"></head><body></body></html>',
                            encoding="utf-8")
    assert page_url("   ", response) == "http://courier.test/news/a.html"
