"""Edges of the Scrapy pipeline (filter/integrations/scrapy.py) that a spider relies on: the
URL field as spiders store it (spaces, a `<base href>` in the page's charset or unusable, an
empty list), the settings' defaults, the reactor's shutdown trigger, items the pipeline
leaves alone, the count of items that cannot take the result, and why an item is dropped."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import pytest

pytest.importorskip("scrapy")

from scrapy.exceptions import DropItem  # noqa: E402
from scrapy.http import HtmlResponse, Response  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402

from crawl_helpers import (  # noqa: E402, F401 (one_blas_thread is an autouse fixture)
    ARTICLES, one_blas_thread, page)
from filter import Cleaner, Limits  # noqa: E402
from filter.integrations.scrapy import NoiseFilterPipeline, page_url, response_page  # noqa: E402
from filter.limits import MAX_BYTES  # noqa: E402
from test_scrapy_pipeline import _EMPTY_PAGE, _inline_pipeline, cleaner  # noqa: E402, F401

URL = "http://courier.test/news/a.html"


# -- the URL field ---------------------------------------------------------------------------

def test_a_url_field_with_spaces_around_it_names_the_page_without_them(cleaner):
    """A spider that stores an `href` as the page wrote it (``" /c "``, ``"http://.../c\\n"``)
    beside the Response: the record's `id` and `url` kept the trailing space, so the item no
    longer matched the same page crawled elsewhere, and a join on `id` missed it."""
    response = HtmlResponse(URL, body=page(ARTICLES[0]))
    assert page_url("http://courier.test/c ", response) == "http://courier.test/c"
    assert page_url(" b.html ", response) == "http://courier.test/news/b.html"
    outcome, _ = NoiseFilterPipeline(cleaner)._clean_item(response, " http://courier.test/c ")
    record = outcome.to_record()
    assert outcome.error is None and record["id"] == record["url"] == "http://courier.test/c"


def test_a_base_href_in_the_header_charset_is_read_in_it(cleaner):
    """A koi8-r page (its charset in the Content-Type only) whose `<base href>` has a Russian
    path: read from the raw body in the library's guess, the base came out as mojibake and the
    relative URL field named a page that does not exist."""
    body = ('<html><head><base href="http://courier.test/\u043d\u043e\u0432\u043e\u0441\u0442'
            '\u0438/"></head><body><p>x</p></body></html>').encode("koi8-r")
    want = "http://courier.test/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/b.html"
    for kind in (Response, HtmlResponse):
        response = kind(URL, body=body, headers={"Content-Type": "text/html; charset=koi8-r"})
        assert page_url("b.html", response, response_page(response)) == want
        outcome, _ = NoiseFilterPipeline(cleaner)._clean_item(response, "b.html")
        assert outcome.url == want and outcome.to_record()["id"] == want


def test_a_refused_responses_record_reads_its_base_href_in_the_header_charset(cleaner):
    """A page refused before it is read (here over the size limit) is still named in its error
    record by the URL field joined under its `<base href>`: read from its first bytes in the
    library's guess, not in the Content-Type's koi8-r, the base came out as mojibake, and the
    record named a page that does not exist."""
    base = ('<html><head><base href="http://courier.test/\u043d\u043e\u0432\u043e\u0441\u0442'
            '\u0438/"></head><body>').encode("koi8-r")
    want = "http://courier.test/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/b.html"
    headers = {"Content-Type": "text/html; charset=koi8-r"}
    large = HtmlResponse(URL, body=base + b"<p>x</p>" * 400 + b"</body></html>", headers=headers)
    small = NoiseFilterPipeline(Cleaner(model=cleaner.loaded, limits=Limits(max_bytes=1000)))
    outcome, kept = small._clean_item(large, "b.html")
    assert outcome.error.type == "InputTooLarge" and kept is None
    assert outcome.url == want and outcome.to_record()["id"] == want


def test_a_base_href_without_a_host_gives_way_to_the_responses_url(cleaner):
    """``<base href="https:/x/">`` (one slash) joined the URL field into ``https:///x/b.html``
    with w3lib before 2.6, and a page that cleans fine became an InputError record; a base
    without a host is unusable, as ``javascript:`` is, and the Response's own URL is read
    instead. (w3lib 2.6 reads ``https:/x/`` as browsers do, with the host ``x``; ``https://``
    has no host in either reading.)"""
    body = page(ARTICLES[0]).replace(b"<head>", b'<head><base href="https://">')
    response = HtmlResponse(URL, body=body)
    assert page_url("b.html", response) == "http://courier.test/news/b.html"
    outcome, _ = NoiseFilterPipeline(cleaner)._clean_item(response, "b.html")
    assert outcome.error is None and outcome.url == "http://courier.test/news/b.html"
    assert outcome.result.text == cleaner.clean(body, "http://courier.test/news/b.html").text


def test_an_empty_list_in_the_html_or_url_field_costs_no_item(cleaner, monkeypatch):
    """An item loader without TakeFirst stores a field it got no value for as ``[]``: its
    "first value" must not be read (an IndexError out of `process_item` loses the item). An
    empty HTML field is no HTML (the item passes through untouched, as one without the
    field), an empty URL field no URL (the page is cleaned without one; both were error
    records, "expected HTML as bytes or str, got list", "url must be a str, got list")."""
    pipeline = _inline_pipeline(cleaner, monkeypatch)
    item = asyncio.run(pipeline.process_item({"url": "http://courier.test/a", "html": []}))
    assert item == {"url": "http://courier.test/a", "html": []}
    html = page(ARTICLES[0]).decode("utf-8")
    item = asyncio.run(pipeline.process_item({"url": [], "html": html}))
    assert "html" not in item and item["noisefilter"]["error"] is None
    assert item["noisefilter"]["text"] == cleaner.clean(html).text
    # beside a Response an empty list is no URL: the Response's stands in
    outcome, _ = pipeline._clean_item([HtmlResponse(URL, body=page(ARTICLES[0]))], [])
    assert outcome.error is None and outcome.url == URL and outcome.result.text


# -- settings --------------------------------------------------------------------------------

def test_the_settings_defaults_are_the_documented_ones(cleaner):
    """A project that sets none of the NOISEFILTER_ settings gets the module docstring's table:
    the raw HTML dropped from the feed (not kept), no item dropped for an empty page, fields
    ``html``, ``url`` and ``noisefilter``, one cleaning thread, the `Limits` defaults and the
    active model. Any other default changed every such crawl's output without a word."""
    crawler = get_crawler()
    pipeline = NoiseFilterPipeline.from_crawler(crawler)
    assert (pipeline.keep_html, pipeline.drop_empty) == (False, False)
    assert (pipeline.html_field, pipeline.url_field, pipeline.output_field) == (
        "html", "url", "noisefilter")
    assert pipeline.pool.max == 1
    assert pipeline.cleaner.limits == Limits() == Limits(max_bytes=10_000_000, timeout=30.0)
    assert pipeline.cleaner.loaded.path == cleaner.loaded.path
    assert pipeline.stats is crawler.stats


@pytest.mark.parametrize("max_bytes", [MAX_BYTES, MAX_BYTES // 2])
def test_the_largest_size_limit_is_accepted(cleaner, max_bytes):
    """NOISEFILTER_MAX_BYTES up to `Limits`' own largest (1 TiB): the limit for a Response's
    text (three times its body's) went over it and the pipeline could not be built, so the
    crawl did not start."""
    pipeline = NoiseFilterPipeline(Cleaner(model=cleaner.loaded,
                                           limits=Limits(max_bytes=max_bytes)))
    crawled = NoiseFilterPipeline.from_crawler(get_crawler(settings_dict={
        "NOISEFILTER_MAX_BYTES": max_bytes, "NOISEFILTER_MODEL": str(cleaner.loaded.path)}))
    for each in (pipeline, crawled):
        assert each.cleaner.limits.max_bytes == max_bytes
        outcome, _ = each._clean_item(HtmlResponse(URL, body=page(ARTICLES[0])), None)
        assert outcome.error is None and outcome.result.text


# -- the pool and the reactor ----------------------------------------------------------------

def test_a_closed_spiders_pipeline_leaves_the_reactors_shutdown(cleaner):
    """`close_spider` takes back the shutdown trigger `_start_pool` gave the reactor: left
    there, every crawl of a process that runs several (CrawlerRunner) kept its pipeline, its
    model and its stopped pool alive until the reactor stopped."""
    from twisted.internet import reactor

    def triggers():
        return [call for call, *_ in reactor._eventTriggers["shutdown"].during]

    pipeline = NoiseFilterPipeline(cleaner)
    try:
        pipeline._start_pool(reactor)
        assert pipeline._stop_pool in triggers()  # (the trigger is where the test looks)
        pipeline.close_spider()
        assert pipeline._stop_pool not in triggers() and not pipeline.pool.started
    finally:  # not left behind when the test fails
        for trigger in reactor._eventTriggers["shutdown"].during[:]:
            if trigger[0] == pipeline._stop_pool:
                reactor._eventTriggers["shutdown"].during.remove(trigger)
        if pipeline.pool.started:
            pipeline.pool.stop()


# -- items ------------------------------------------------------------------------------------

def test_an_item_without_the_html_field_passes_through_untouched(cleaner, monkeypatch):
    """A spider's other items (a link list, a sitemap entry) have no HTML field: they got an
    InputError record ("expected HTML as bytes or str, got NoneType") and were counted as
    errors, though there was no page to clean."""
    pipeline = _inline_pipeline(cleaner, monkeypatch)
    item = {"url": "http://courier.test/a"}
    assert asyncio.run(pipeline.process_item(item)) is item
    assert item == {"url": "http://courier.test/a"}
    assert not [key for key in pipeline.stats.get_stats() if key.startswith("noisefilter")]


def test_items_that_cannot_take_the_result_are_counted(cleaner, monkeypatch):
    """A dataclass item without the output field passes through uncleaned with an error logged
    once; the stat ``noisefilter/error/NoOutputField`` counts every such item, which is how a
    crawl's summary shows that none of its pages were cleaned."""
    @dataclass
    class Page:
        url: str
        html: str

    pipeline = _inline_pipeline(cleaner, monkeypatch)
    for _ in range(3):
        asyncio.run(pipeline.process_item(Page(url="http://courier.test/a", html="<p>x</p>")))
    assert pipeline.stats.get_value("noisefilter/error/NoOutputField") == 3


def test_a_frozen_item_passes_through_uncleaned_and_counted(cleaner, monkeypatch, caplog):
    """A frozen dataclass (or attrs class) raised FrozenInstanceError, an AttributeError, to
    Scrapy: the item was lost, nothing counted; a frozen pydantic model was told to "declare
    it as a dict", which its field was."""
    @dataclass(frozen=True)
    class Page:
        url: str
        html: str
        noisefilter: dict | None = None

    pipeline = _inline_pipeline(cleaner, monkeypatch)
    item = Page(url="http://courier.test/a", html=page(ARTICLES[0]).decode("utf-8"))
    assert asyncio.run(pipeline.process_item(item)) is item and item.noisefilter is None
    assert pipeline.stats.get_value("noisefilter/error/NoOutputField") == 1
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == [
        "noisefilter: Page items refused the result in field 'noisefilter' (FrozenInstanceError): "
        "a frozen item cannot take it: make the item mutable; such items pass through uncleaned"]


def test_an_attrs_item_whose_html_field_refuses_none_keeps_its_page_and_its_result(cleaner,
                                                                                  monkeypatch):
    """Without NOISEFILTER_KEEP_HTML the page's field is emptied with None: a validator refusing
    it raised a TypeError after cleaning, and the item was lost."""
    attrs = pytest.importorskip("attrs")

    @attrs.define
    class Page:
        url: str
        html: str = attrs.field(validator=attrs.validators.instance_of(str))
        noisefilter: dict | None = None

    pipeline = _inline_pipeline(cleaner, monkeypatch)
    pipeline.keep_html = False
    html = page(ARTICLES[0]).decode("utf-8")
    item = asyncio.run(pipeline.process_item(Page(url="http://courier.test/a", html=html)))
    assert item.html == html
    assert item.noisefilter["text"] == cleaner.clean(html, "http://courier.test/a").text


def test_a_dropped_empty_page_says_why(cleaner, monkeypatch):
    """With NOISEFILTER_DROP_EMPTY, Scrapy logs the DropItem's reason for each item dropped: it
    must name the page and why it had no clean text (an error's message, or the result's
    `empty_reason`), or the log said only that an item was dropped."""
    pipeline = _inline_pipeline(cleaner, monkeypatch)
    pipeline.drop_empty = True
    reason = cleaner.clean(_EMPTY_PAGE, "http://courier.test/a").empty_reason
    assert reason
    with pytest.raises(DropItem, match=r"^noisefilter: no clean text for http://courier\.test/a: "
                                       + re.escape(reason) + "$"):
        asyncio.run(pipeline.process_item({"url": "http://courier.test/a", "html": _EMPTY_PAGE}))
    with pytest.raises(DropItem, match=r"^noisefilter: no clean text for http://courier\.test/b: "
                                       r"expected HTML as bytes or str, got int$"):
        asyncio.run(pipeline.process_item({"url": "http://courier.test/b", "html": 7}))
    assert pipeline.stats.get_value("noisefilter/empty") == 1


# -- redirects -------------------------------------------------------------------------------

def test_a_url_field_the_response_was_redirected_from_does_not_resolve_its_links(cleaner,
                                                                                  monkeypatch):
    """A spider that keys items by the URL it asked for (a feed's short link) stores it beside
    the Response that was redirected to the page: the page's relative related links were read
    against the short link (``https://go.example/news/2026/roads``, no such page) and its
    absolute ones dropped as leaving that site. The links are read at the Response's URL, as a
    browser reads them; the record keeps the item's URL. A URL the Response was not redirected
    from (a page fetched through a rendering service) still resolves the links."""
    import numpy as np
    from scrapy import Request

    # every block labelled related: what is tested is which address the links are read at
    monkeypatch.setattr(cleaner.model, "predict_page", lambda page, deadline=None, **_: (
        ["related"] * len(page.blocks), np.full((len(page.blocks), len(cleaner.labels)), 0.25)))
    words = "The tram depot reopened on Monday after a winter of rebuilding, the city said. "
    html = (f"<html><head><title>Depot</title></head><body><article><p>{words * 3}</p><p>More: "
            "<a href='roads-closed'>Roads closed near the depot</a> and "
            "<a href='https://www.city-news.co.uk/2026/trams/night-service'>Night trams return"
            "</a></p></article></body></html>").encode()
    final = "https://www.city-news.co.uk/2026/trams/depot"
    short = "https://go.example.net/r/8Hq2"
    response = HtmlResponse(final, body=html, headers={"Content-Type": "text/html"},
                            request=Request(final, meta={"redirect_urls": [short]}))
    want = ["https://www.city-news.co.uk/2026/trams/roads-closed",
            "https://www.city-news.co.uk/2026/trams/night-service"]
    pipeline = NoiseFilterPipeline(cleaner)
    for field in (None, final, short, [short]):
        record = pipeline._clean_item(response, field)[0].to_record()
        assert [link["url"] for link in record["related_links"]] == want, field
        assert record["url"] == (final if field in (None, final) else short)
    # an address w3lib cannot read in the chain does not hide the item's URL
    odd = HtmlResponse(final, body=html, headers={"Content-Type": "text/html"},
                       request=Request(final, meta={"redirect_urls": ["http://[::1/x", short]}))
    record = pipeline._clean_item(odd, short)[0].to_record()
    assert [link["url"] for link in record["related_links"]] == want
    rendered = HtmlResponse("http://render.local:8050/render.html?url=x", body=html,
                            headers={"Content-Type": "text/html"})
    record = pipeline._clean_item(rendered, final)[0].to_record()
    assert [link["url"] for link in record["related_links"]] == want
