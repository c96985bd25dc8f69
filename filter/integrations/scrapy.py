"""A Scrapy item pipeline that cleans each item's HTML as the crawl goes.

    ITEM_PIPELINES = {"filter.integrations.scrapy.NoiseFilterPipeline": 300}

The spider yields items with the page's HTML (or the `Response` itself) in one field and its
URL in another; the pipeline adds the cleaned result under one output field and, by default,
drops the raw HTML so feeds stay small. Settings (all optional):

================================  =================  =============================================
``NOISEFILTER_ENABLED``           ``True``           turn the pipeline off without editing ITEM_PIPELINES
``NOISEFILTER_MODEL``             active model       model file (its manifest must sit beside it)
``NOISEFILTER_HTML_FIELD``        ``"html"``         field with the HTML (str, bytes or a Response)
``NOISEFILTER_URL_FIELD``         ``"url"``          field with the page URL (resolves related links)
``NOISEFILTER_OUTPUT_FIELD``      ``"noisefilter"``  field that receives the result (see below)
``NOISEFILTER_KEEP_HTML``         ``False``          keep the HTML field (a Response: the text cleaned);
                                                     else it is removed (set to None in dataclass
                                                     and attrs items, whose fields are fixed)
``NOISEFILTER_DROP_EMPTY``        ``False``          drop items whose page yields no clean text
``NOISEFILTER_MAX_BYTES``         10,000,000         largest page cleaned (a Response: its body)
``NOISEFILTER_TIMEOUT``           30                 seconds per page, checked between stages
``NOISEFILTER_THREADS``           1                  pages cleaned at once (a thread pool of its own)
``NOISEFILTER_FAVOR_PRECISION``   ``False``          stricter content thresholds (`Cleaner`): less
                                                     furniture kept, a little more content lost
================================  =================  =============================================

The output field holds the same record as a line of ``noisefilter batch``: ``id`` and ``url``
(the page's URL), ``source`` (None), ``text``, ``title``, ``author``, ``date``, ``language``,
``label_counts``, ``related_links``, ``model_version``, ``empty_reason`` and ``error``
(``None``, or ``{"type", "message"}`` when the page could not be cleaned: one bad page never
fails the crawl). With ``scrapy.Item``, dataclass, attrs or pydantic items, declare the output
field (a ``dict`` for pydantic; an item that cannot take the result passes through uncleaned,
with an error logged). A Response whose Content-Type is not HTML's (a feed) gets the WARC
reader's ``NotHTML`` error record, and one whose status is not 2xx its ``HTTPStatus``. Items
without the HTML field pass through untouched. Beside a Response, the URL field may be
relative (it is read as the Response reads its links) or missing (the Response's URL stands
in), and a URL the Response was redirected from names the record while its links are read at
the Response's URL (`redirected_from`). A field stored as a list (an item loader without
``TakeFirst``) is read as its first page or URL. A ``file:`` URL (a spider over saved pages)
names the page in the record, which is cleaned without it (`cleaning_url`). A Response is read
in the encoding the spider gave it, if any (`response_page`).

Cleaning runs in a thread pool of its own, so downloads go on while a page is cleaned. Not in
the reactor's: Scrapy resolves host names there, and pages being cleaned held every thread of
it, so lookups timed out. One thread by default: threads share one core's worth of Python, and
a page's time limit counts wall time, so eight pages cleaned at once each ran out of time
that one alone kept well within. Each cleaning thread uses one OpenMP thread (the
classifier's default of one per core makes concurrent threads fight over the cores). The pool
stops with the spider, or with the reactor on an unclean shutdown (`_start_pool`). Without a
Twisted reactor (``TWISTED_REACTOR_ENABLED = False``, Scrapy 2.15 and later) the pool is an
executor of as many threads on the asyncio loop (`_in_pool`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from threadpoolctl import ThreadpoolController
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool
from w3lib.html import get_base_url
from w3lib.url import safe_url_string

from ..batch import Outcome
from ..decoding import decode, decode_by_header, header_charset, size_error
from ..cleaner import Cleaner, Limits
from ..limits import MAX_BYTES
from ..errors import NoiseFilterError
from ..inputs import Failure
from ..warc import not_html

logger = logging.getLogger(__name__)
#: what the HTML field may hold
_PAGE_TYPES = (str, bytes, Response)


def response_page(response: Response, max_bytes: int | None = None) -> str | bytes:
    """A response's page, read as the WARC reader reads one (`decode_by_header`): Scrapy's
    `text` lets the header's charset win even over valid UTF-8 (servers label UTF-8 pages
    "iso-8859-1": "cafÃ©") and over bytes it cannot decode, where the page's own declaration
    would be read ("caf\ufffd"). An encoding the spider gave the Response
    (``response.replace(encoding="cp1250")``, ``HtmlResponse(..., encoding=...)``), Scrapy's
    first rule too, takes the header's place: it was ignored, and a page the spider had set
    right came out as mojibake. `Response.replace` and `copy` hand Scrapy's own reading on as
    such an encoding, its guess for a page that declares none included: a copy is read as
    `response.text` reads it (ignoring an encoding equal to the guess, tried, dropped the
    choice of a spider that set the very encoding Scrapy guesses). A page that is valid UTF-8
    is still read as UTF-8."""
    return decode_by_header(response.body, _charset(response), max_bytes)


def _charset(response: Response) -> str | None:
    """The charset a Response is read in first: the spider's encoding, else its header's."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    return getattr(response, "_encoding", None) or header_charset(content_type)


def page_url(field, response: Response | None = None, page: str | bytes | None = None):
    """The URL to clean an item's page with, from its URL field. Item loaders without
    `TakeFirst` store a list: its first URL is the page's. Beside a Response, a relative path
    (a spider that stored an `href`) is read as the page reads its links, under a `<base href>`
    in its first 4 KB as Scrapy's `urljoin` looks for one, else against the Response's URL; a
    field that holds no URL gives way to the Response's URL. The base is read from `page`, the
    Response's page as `response_page` decoded it (Scrapy's `urljoin` decoded the whole body
    again, and a non-ASCII base read as Latin-1 came out as mojibake), or, for a page refused
    before it is read (over the size limit, not HTML), from its first bytes read as
    `response_page` reads a page (in the library's guess alone, a base under a header-only
    charset named a page that does not exist in the item's error record). A field that cannot
    be joined (``http://[::1/x``), or any field without a Response, goes to `clean` as it is,
    which says what is wrong with it in the item's error record: one bad field never costs
    the item."""
    field = _first(field, (str, bytes))
    if isinstance(field, bytes):
        field = field.decode("utf-8", "replace")
    if response is None:
        return field
    if not (isinstance(field, str) and field.strip()):
        return response.url
    field = field.strip()
    head = (page if page is not None
            else decode_by_header(response.body[:4096], _charset(response), MAX_BYTES))[:4096]
    if isinstance(head, bytes):  # read as the library will read the page (its meta charset)
        try:
            head = decode(head, MAX_BYTES, url=response.url)
        except NoiseFilterError:  # binary, say: no base to find
            head = ""
    try:
        base = get_base_url(head, response.url)
    except ValueError:  # a base href urllib cannot read
        base = response.url
    for against in (base, response.url):  # an unusable base (`javascript:`) gives way
        try:
            joined = urljoin(against, field)
            parts = urlsplit(joined)
            if (parts.scheme in ("http", "https") and parts.hostname
                    or parts.scheme == "file" == urlsplit(against).scheme):  # a saved page's
                return joined
        except ValueError:  # urllib's "Invalid IPv6 URL", NFKC-invalid host names
            pass
    return field


def redirected_from(response: Response, url) -> bool:
    """Whether `url` (the item's URL field) is an address the Response was redirected from
    (Scrapy's ``redirect_urls``, of HTTP and meta-refresh redirects alike): a spider that keys
    its items by the URL it asked for (a feed's link, a short link) had the page's relative
    related links resolved against that address, naming pages that do not exist
    (``https://t.example/news/2``), and its absolute ones dropped as leaving the page's site.
    The page is then read at the Response's URL, as a browser reads it; the record keeps
    `url`."""
    if not isinstance(url, str) or url == response.url:
        return False
    try:
        chain = (response.meta or {}).get("redirect_urls") or ()
    except AttributeError:  # a Response without its Request: no redirects known
        return False
    if url in chain:
        return True
    return (wanted := _safe_url(url)) is not None and any(
        _safe_url(u) == wanted for u in chain if isinstance(u, str))


def _safe_url(url: str) -> str | None:
    """`url` as Scrapy writes a request's URL, or None for one w3lib cannot read (each such
    address in a redirect chain is told apart alone: one of them hid the item's URL)."""
    try:
        return safe_url_string(url)
    except Exception:  # urllib's ValueError, an IDNA UnicodeError: no item is lost over it
        return None


def cleaning_url(url):
    """The URL to clean a page with, of the URL its record names (`page_url`): None for a
    saved page's ``file:`` URL (``file:///home/me/saved/a.html``, from a spider over saved
    pages), which failed every such item as "not an absolute URL", and one with a host
    (``file://nas/saved/a.html``), against which every related link resolved to a file and was
    lost; the WARC reader cleans such a record's page without its URL too (`is_page_url`).
    Any other field the cleaner refuses (``news/1``, ``javascript:void(0)``, ``http://[::1/x``)
    goes to `clean` as it is, to be reported in the item's error record."""
    try:
        scheme = urlsplit(url).scheme.lower() if isinstance(url, str) else ""
    except ValueError:  # an IPv6 host without its "]": `clean` says what is wrong
        return url
    return None if scheme == "file" else url


def _reactorless() -> bool:
    """Whether Scrapy runs without a Twisted reactor (``TWISTED_REACTOR_ENABLED = False``,
    Scrapy 2.15 and later; earlier ones always have one)."""
    try:
        from scrapy.utils.reactorless import is_reactorless
    except ImportError:
        return False
    return is_reactorless()


def _is_attrs(item) -> bool:
    """Whether `item` is an attrs instance (its class carries `__attrs_attrs__`; attrs is no
    dependency of this library)."""
    return hasattr(type(item), "__attrs_attrs__")


def _first(field, kinds: tuple[type, ...]):
    """A field as item loaders without `TakeFirst` store it, a list, read as its first value
    of `kinds` that is not blank (else its first value; None for an empty list, a value the
    loader never got, as a URL field missing: it failed the page, "url must be a str"); any
    other field as it is."""
    if isinstance(field, (list, tuple)):
        filled = (f for f in field
                  if isinstance(f, kinds) and (isinstance(f, Response) or f.strip()))
        return next(filled, field[0] if field else None)
    return field


class NoiseFilterPipeline:
    """Cleans the HTML field of every item; see the module docstring for the settings."""

    def __init__(self, cleaner: Cleaner, html_field: str = "html", url_field: str = "url",
                 output_field: str = "noisefilter", keep_html: bool = False,
                 drop_empty: bool = False, stats=None, threads: int = 1):
        if output_field == html_field:
            raise ValueError(f"NOISEFILTER_OUTPUT_FIELD and NOISEFILTER_HTML_FIELD are both "
                             f"{html_field!r}: the result would replace the page, then be "
                             "deleted with it; name another output field")
        self.cleaner = cleaner
        # a Response's text, once its body passed the size limit: in UTF-8 a body decodes to
        # at most three times its size (`_clean_item`)
        self._text_cleaner = copy.copy(cleaner)
        self._text_cleaner.limits = replace(cleaner.limits,
                                            max_bytes=min(3 * cleaner.limits.max_bytes, MAX_BYTES))
        self.html_field = html_field
        self.url_field = url_field
        self.output_field = output_field
        self.keep_html = keep_html
        self.drop_empty = drop_empty
        self.stats = stats
        self._threads = ThreadpoolController()
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"NOISEFILTER_THREADS must be a whole number above 0, not {threads!r}")
        self.pool = ThreadPool(minthreads=0, maxthreads=threads, name="noisefilter")
        self._thread_count = threads
        self._executor: ThreadPoolExecutor | None = None  # the pool without a reactor
        self._shutdown_trigger = None  # the reactor's, while the pool runs (`_start_pool`)
        self._stopping = False  # once the pool is told to stop (`_stop_pool`)
        self._unfit: set[type] = set()  # item classes without the output field, said once

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NOISEFILTER_ENABLED", True):
            raise NotConfigured("NOISEFILTER_ENABLED is off")
        limits = Limits(max_bytes=settings.getint("NOISEFILTER_MAX_BYTES", Limits.max_bytes),
                        timeout=settings.getfloat("NOISEFILTER_TIMEOUT", Limits.timeout))
        return cls(
            Cleaner(model=settings.get("NOISEFILTER_MODEL"), limits=limits,
                    favor_precision=settings.getbool("NOISEFILTER_FAVOR_PRECISION", False)),
            html_field=settings.get("NOISEFILTER_HTML_FIELD", "html"),
            url_field=settings.get("NOISEFILTER_URL_FIELD", "url"),
            output_field=settings.get("NOISEFILTER_OUTPUT_FIELD", "noisefilter"),
            keep_html=settings.getbool("NOISEFILTER_KEEP_HTML", False),
            drop_empty=settings.getbool("NOISEFILTER_DROP_EMPTY", False),
            stats=crawler.stats,
            threads=settings.getint("NOISEFILTER_THREADS", 1),
        )

    def close_spider(self, spider=None) -> None:
        if self._shutdown_trigger is not None:
            from twisted.internet import reactor

            reactor.removeSystemEventTrigger(self._shutdown_trigger)
        self._stop_pool()

    def _start_pool(self, reactor) -> None:
        """Starts the pool, to be stopped when the reactor shuts down too, as Twisted stops its
        own: Scrapy does not call `close_spider` on an unclean shutdown (Ctrl-C twice), and the
        pool's threads, which are not daemons, kept the process from ever exiting. A page
        being cleaned then holds the shutdown up to its time limit."""
        self.pool.start()
        self._shutdown_trigger = reactor.addSystemEventTrigger("during", "shutdown",
                                                               self._stop_pool)

    def _stop_pool(self) -> None:
        """Stops the pool once, whichever of `close_spider` and the reactor's shutdown comes
        first (a stopped pool cannot be stopped again). Twisted's pool runs every job queued
        before it stops: the pages still waiting are given up (`_clean_item`), or an unclean
        shutdown cleaned hundreds of them for no one."""
        self._shutdown_trigger = None
        self._stopping = True
        if self.pool.started:
            self.pool.stop()
        if self._executor is not None:  # its waiting pages give themselves up at once
            self._executor.shutdown(wait=False)

    async def process_item(self, item, spider=None):
        adapter = ItemAdapter(item)
        html = adapter.get(self.html_field)
        if _first(html, _PAGE_TYPES) is None:  # (`[]`: a loader's field that got no value)
            return item
        # before the work: an item that cannot take the result is not cleaned for nothing. Read
        # from its declared fields, not tried by writing None: a pydantic model that validates
        # assignments refused None for a `dict` field, and every such item was lost
        if not (isinstance(item, dict) or self.output_field in adapter.field_names()):
            return self._unfit_item(item, f"have no field {self.output_field!r} to take the result:"
                                          " declare it (NOISEFILTER_OUTPUT_FIELD)")
        outcome, text = await self._in_pool(html, adapter.get(self.url_field))
        try:
            adapter[self.output_field] = outcome.to_record()
        except (TypeError, ValueError, AttributeError) as err:
            # a pydantic field of another type (`str`); a frozen item (a dataclass's or attrs'
            # FrozenInstanceError, an AttributeError, was raised to Scrapy and the item lost)
            frozen = isinstance(err, AttributeError) or "frozen" in str(err).lower()
            return self._unfit_item(item, f"refused the result in field {self.output_field!r} "
                                          f"({type(err).__name__}): " + (
                                              "a frozen item cannot take it: make the item mutable"
                                              if frozen else "declare it as a dict"))
        if not self.keep_html:
            if dataclasses.is_dataclass(item) or _is_attrs(item):
                # without one of its fields, the item could not be printed (Scrapy logs each
                # item) nor made a dict; a field whose validator refuses None keeps the page
                # (the item, cleaned, was lost with a TypeError)
                with contextlib.suppress(TypeError, ValueError):
                    adapter[self.html_field] = None
            else:  # a dict, a scrapy.Item, a pydantic model (which may refuse None)
                del adapter[self.html_field]
        elif isinstance(_first(html, _PAGE_TYPES), Response):  # a feed cannot write a Response
            adapter[self.html_field] = text
        self._count(outcome)
        if self.drop_empty and not (outcome.result and outcome.result.text):
            reason = outcome.error.message if outcome.error else outcome.result.empty_reason
            raise DropItem(f"noisefilter: no clean text for {outcome.url}: {reason}")
        return item

    async def _in_pool(self, html, field) -> tuple[Outcome, str | None]:
        """`_clean_item` in the pipeline's pool: Twisted's, or, in Scrapy's mode without a
        reactor (``TWISTED_REACTOR_ENABLED = False``), an executor of as many threads on the
        asyncio loop, where importing the reactor is refused and every item was lost with
        that ImportError."""
        if _reactorless():
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._thread_count,
                                                    thread_name_prefix="noisefilter")
            return await asyncio.get_running_loop().run_in_executor(
                self._executor, self._clean_item, html, field)
        from twisted.internet import reactor  # the one Scrapy installed: importing it earlier
        # would install Twisted's default instead

        if not self.pool.started:
            self._start_pool(reactor)
        return await maybe_deferred_to_future(deferToThreadPool(
            reactor, self.pool, self._clean_item, html, field))

    def _unfit_item(self, item, why: str):
        """`item` passed on uncleaned, as it came, since it cannot hold the result: said once
        per item class (`why`), counted for each item."""
        if type(item) not in self._unfit:
            self._unfit.add(type(item))
            logger.error("noisefilter: %s items %s; such items pass through uncleaned",
                         type(item).__name__, why)
        if self.stats is not None:
            self.stats.inc_value("noisefilter/error/NoOutputField")
        return item

    def _clean_item(self, html, field) -> tuple[Outcome, str | None]:
        """`_clean` with the page and its URL read from the item's fields first, in the pool
        too: reading a Response's body takes time in proportion to the page, which the
        reactor, downloading meanwhile, must not wait for. Item loaders without `TakeFirst`
        store the page in a list, as they do the URL: its first page is cleaned (a list
        failed every item, "expected HTML as bytes or str").

        A Response's page is decoded here, as the library decodes it (`response_page`, else
        `decode`), and that text is cleaned and returned, for `NOISEFILTER_KEEP_HTML` to keep
        what was cleaned (the bytes were kept as UTF-8 with U+FFFD: a windows-1252 page that
        declares its charset in the page came out as "caf\ufffd"); None when the library
        refuses the page before it is text (over the size limit, binary bytes). The size limit
        holds for the body as received, as `clean` holds bytes to it: its text, counted again
        in UTF-8 (Cyrillic twice over), refused a page labelled windows-1251 within the limit
        that the same body declaring its charset in the page passed."""
        html = _first(html, _PAGE_TYPES)
        if self._stopping:
            url = page_url(field)
            return Outcome(id=url or "", url=url, error=Failure(
                "Interrupted", "the crawl stopped before the page was cleaned")), None
        if not isinstance(html, Response):
            return self._clean(html, page_url(field)), None
        max_bytes = self.cleaner.limits.max_bytes
        too_large = size_error(html.body, max_bytes)
        if too_large is not None:
            return self._refused(page_url(field, html), too_large), None
        if not 200 <= html.status < 300:  # a spider that lets error pages through
            # (`handle_httpstatus_all`): a 404's "Page not found" was cleaned as an article
            return self._refused(page_url(field, html), Failure(
                "HTTPStatus", f"HTTP status {html.status}: not a page")), None
        content_type = html.headers.get(b"Content-Type")
        if content_type is not None:  # (none: the spider's Response, taken as its page)
            failure = not_html(content_type.decode("latin-1"), html.body)
            if failure is not None:
                return self._refused(page_url(field, html), failure), None
        url = None
        try:
            page = response_page(html, max_bytes)
            url = page_url(field, html, page)
            if isinstance(page, bytes):
                page = decode(page, max_bytes, url=url)
        except NoiseFilterError as err:
            return self._refused(url or page_url(field, html), err), None
        except Exception as err:  # a bug in the library must not cost the crawl an item
            return self._failed(url or page_url(field, html), err), None
        address = html.url if redirected_from(html, url) else url
        return self._clean(page, url, self._text_cleaner, address), page

    def _clean(self, html, url, cleaner: Cleaner | None = None, address=None) -> Outcome:
        """Runs in the pipeline's thread pool; OpenMP settings are per thread, so the limit holds
        here. `address`, where it is not `url`, is the one the page was served from, which its
        links are read against."""
        with self._threads.limit(limits=1, user_api="openmp"):
            try:
                return Outcome(id=url or "", url=url, result=(cleaner or self.cleaner).clean(
                    html, url=cleaning_url(address or url)))
            except NoiseFilterError as err:
                return self._refused(url, err)
            except Exception as err:  # a bug in the library must not cost the crawl an item
                return self._failed(url, err)

    def _failed(self, url, err: Exception) -> Outcome:
        """The outcome of a page the library failed on with an error of its own (a bug), logged
        with its traceback."""
        logger.exception("noisefilter failed on %s", url)
        return Outcome(id=url or "", url=url, error=Failure(
            type(err).__name__, f"unexpected error: {err}"))

    def _refused(self, url, err: NoiseFilterError | Failure) -> Outcome:
        """The outcome of a page the library (or, for a Response that is no page, the WARC
        reader's rule) refused, with a warning."""
        failure = err if isinstance(err, Failure) else Failure(type(err).__name__, str(err))
        logger.warning("noisefilter could not clean %s: %s", url, failure.message)
        return Outcome(id=url or "", url=url, error=failure)

    def _count(self, outcome: Outcome) -> None:
        if self.stats is None:
            return
        if outcome.error:
            self.stats.inc_value(f"noisefilter/error/{outcome.error.type}")
        elif outcome.result.text:
            self.stats.inc_value("noisefilter/cleaned")
        else:
            self.stats.inc_value("noisefilter/empty")
