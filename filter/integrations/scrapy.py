"""A Scrapy item pipeline that cleans each item's HTML as the crawl goes.

    ITEM_PIPELINES = {"filter.integrations.scrapy.NoiseFilterPipeline": 300}

The spider yields items with the page's HTML (or the `Response` itself) in one field and its
URL in another; the pipeline adds the cleaned result under one output field and, by default,
drops the raw HTML so feeds stay small. Settings (all optional):

=============================  ==============  ================================================
``NOISEFILTER_ENABLED``        ``True``        turn the pipeline off without editing ITEM_PIPELINES
``NOISEFILTER_MODEL``          active model    model file (its manifest must sit beside it)
``NOISEFILTER_HTML_FIELD``     ``"html"``      field with the HTML (str, bytes or a Response)
``NOISEFILTER_URL_FIELD``      ``"url"``       field with the page URL (resolves related links)
``NOISEFILTER_OUTPUT_FIELD``   ``"noisefilter"`` field that receives the result (see below)
``NOISEFILTER_KEEP_HTML``      ``False``       keep the HTML field (a Response: its text)
``NOISEFILTER_DROP_EMPTY``     ``False``       drop items whose page yields no clean text
``NOISEFILTER_MAX_BYTES``      10,000,000      largest page cleaned
``NOISEFILTER_TIMEOUT``        30              seconds per page, checked after extraction
=============================  ==============  ================================================

The output field holds the same record as a line of ``noisefilter batch``: ``id`` and ``url``
(the page's URL), ``source`` (None), ``text``, ``title``, ``author``, ``date``, ``language``,
``label_counts``, ``related_links``, ``model_version``, ``empty_reason`` and ``error``
(``None``, or ``{"type", "message"}`` when the page could not be cleaned: one bad page never
fails the crawl). With ``scrapy.Item`` classes,
declare the output field. Items without the HTML field pass through untouched.

Cleaning runs in the reactor's thread pool, so downloads go on while a page is cleaned; each
cleaning thread uses one OpenMP thread (the classifier's default of one per core makes
concurrent threads fight over the cores).
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.http import Response, TextResponse
from scrapy.utils.defer import maybe_deferred_to_future
from threadpoolctl import ThreadpoolController
from twisted.internet.threads import deferToThread

from ..batch import Outcome
from ..cleaner import Cleaner, Limits
from ..errors import NoiseFilterError
from ..inputs import Failure

logger = logging.getLogger(__name__)


class NoiseFilterPipeline:
    """Cleans the HTML field of every item; see the module docstring for the settings."""

    def __init__(self, cleaner: Cleaner, html_field: str = "html", url_field: str = "url",
                 output_field: str = "noisefilter", keep_html: bool = False,
                 drop_empty: bool = False, stats=None):
        if output_field == html_field:
            raise ValueError(f"NOISEFILTER_OUTPUT_FIELD and NOISEFILTER_HTML_FIELD are both "
                             f"{html_field!r}: the result would replace the page, then be "
                             "deleted with it; name another output field")
        self.cleaner = cleaner
        self.html_field = html_field
        self.url_field = url_field
        self.output_field = output_field
        self.keep_html = keep_html
        self.drop_empty = drop_empty
        self.stats = stats
        self._threads = ThreadpoolController()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NOISEFILTER_ENABLED", True):
            raise NotConfigured("NOISEFILTER_ENABLED is off")
        limits = Limits(max_bytes=settings.getint("NOISEFILTER_MAX_BYTES", Limits.max_bytes),
                        timeout=settings.getfloat("NOISEFILTER_TIMEOUT", Limits.timeout))
        return cls(
            Cleaner(model=settings.get("NOISEFILTER_MODEL"), limits=limits),
            html_field=settings.get("NOISEFILTER_HTML_FIELD", "html"),
            url_field=settings.get("NOISEFILTER_URL_FIELD", "url"),
            output_field=settings.get("NOISEFILTER_OUTPUT_FIELD", "noisefilter"),
            keep_html=settings.getbool("NOISEFILTER_KEEP_HTML", False),
            drop_empty=settings.getbool("NOISEFILTER_DROP_EMPTY", False),
            stats=crawler.stats,
        )

    async def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        html = adapter.get(self.html_field)
        if html is None:
            return item
        url = adapter.get(self.url_field)
        if isinstance(html, Response):
            url = url or html.url
            # a TextResponse has already decoded the body with the HTTP header's charset
            html = html.text if isinstance(html, TextResponse) else html.body
        outcome = await maybe_deferred_to_future(deferToThread(self._clean, html, url))
        adapter[self.output_field] = outcome.to_record()
        if not self.keep_html:
            del adapter[self.html_field]
        elif isinstance(adapter[self.html_field], Response):  # a feed cannot write a Response
            adapter[self.html_field] = html if isinstance(html, str) else html.decode(
                "utf-8", "replace")
        self._count(outcome)
        if self.drop_empty and not (outcome.result and outcome.result.text):
            reason = outcome.error.message if outcome.error else outcome.result.empty_reason
            raise DropItem(f"noisefilter: no clean text for {url}: {reason}")
        return item

    def _clean(self, html, url) -> Outcome:
        """Runs in a reactor thread; OpenMP settings are per thread, so the limit holds here."""
        with self._threads.limit(limits=1, user_api="openmp"):
            try:
                return Outcome(id=url or "", url=url, result=self.cleaner.clean(html, url=url))
            except NoiseFilterError as err:
                logger.warning("noisefilter could not clean %s: %s", url, err)
                return Outcome(id=url or "", url=url,
                               error=Failure(type(err).__name__, str(err)))
            except Exception as err:  # a bug in the library must not cost the crawl an item
                logger.exception("noisefilter failed on %s", url)
                return Outcome(id=url or "", url=url, error=Failure(
                    type(err).__name__, f"unexpected error: {err}"))

    def _count(self, outcome: Outcome) -> None:
        if self.stats is None:
            return
        if outcome.error:
            self.stats.inc_value(f"noisefilter/error/{outcome.error.type}")
        elif outcome.result.text:
            self.stats.inc_value("noisefilter/cleaned")
        else:
            self.stats.inc_value("noisefilter/empty")
