"""`Cleaner`: the pipeline from input to `CleanResult`, with a model loaded once.

The stages are named functions elsewhere (`extract.html_to_page`, `blocks.segment_text`,
`model.BlockClassifier.predict_page`); this module joins them, applies the limits, and turns
labels into the result (clean text, related links).
"""

from __future__ import annotations

import codecs
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit

import numpy

from .blocks import (Block, Link, Page, has_visible_text, kept_text, segment_text, visible,
                     well_formed)
from .decoding import (charset_label, decode_cut, decode_labelled, file_format, read_bom,
                       size_error, utf8_text)
from .deadline import Deadline
from .errors import InputError, InputTooLarge
from .extract import BEFORE_QUERY, JSON_NAMES, MAX_ELEMENTS, html_to_page, json_kind
from .limits import MAX_BYTES, Limits  # noqa: F401 (MAX_BYTES: where callers found it)
from .modelfile import LoadedModel, active_model_path, load_model
from .result import CleanResult, LabelledBlock, RelatedLink
from .sites import ascii_host, site_of, site_or_host

if TYPE_CHECKING:
    from .batch import Outcome

RELATED = "related"
#: what `clean` and `clean_text` take: a crawler's response body is often a bytearray or a
#: memoryview, read as bytes are
Input = bytes | bytearray | memoryview | str
#: how an HTML document starts, which text an extractor produced never does: after byte-order
#: marks, zero-width spaces, white space, comments (a browser's "saved from url") and an XML
#: declaration. Each comment ends at its first "-->" and is never re-split (possessive), so
#: many comments cannot make the match backtrack
_HTML_DOCUMENT = re.compile(
    r"[\ufeff\u200b\s]*+(?:(?:<!--(?:(?!-->).)*+-->|<\?xml[^>]*+>)[\ufeff\u200b\s]*+)*+"
    r"(<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL)
#: control characters that are neither white space nor a line break (`str.splitlines` breaks
#: lines at \x0b, \x0c and \x1c-\x1e): the HTML parser drops them from a page, so text input
#: loses them too, and the two give the same clean text (XML output cannot hold them at all).
#: NEL (\x85) is a space, as in a page: `splitlines` ends a line there, and it is mostly the
#: "…" of windows-1252 text read as ISO-8859-1, which split every sentence holding one
_CONTROLS = dict.fromkeys([*range(0x01, 0x09), *range(0x0e, 0x1c), 0x1f]) | {0x85: " "}
#: query parameters that say where a reader came from, not which page they read (campaign
#: tags, ad click ids, referrers): a link to the page itself with them is no other page.
#: Whole names only: courlan's pattern, which trafilatura uses, matches by prefix and so
#: takes `?game=` for Google Analytics' `_ga`
TRACKING_PARAMETER = re.compile(
    r"utm_\w+|itm_\w+|ns_\w+|fbclid|gclid|gbraid|wbraid|dclid|msclkid|yclid|twclid|igshid"
    r"|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|mkt_tok|ref|ref_src|ref_url|cmpid|ocid|smid|xtor"
    r"|at_medium|at_campaign|sr_share|srsltid|ref_|gad_source|gclsrc|__hstc|__hssc|__hsfp",
    re.IGNORECASE)


class Cleaner:
    """Cleans documents with one model. Safe to share between threads: the model is read-only
    after loading.

    `favor_precision` holds every block to a stricter content threshold
    (`model.PRECISION_THRESHOLDS`), for every document this cleaner cleans, in worker processes
    too; a `clean` or `clean_text` call may say otherwise for its document. It leaks less of
    the page's furniture and loses a little more content: for an aggregator that shows the
    text to readers rather than a corpus that counts its words (README, "Favouring precision").
    """

    def __init__(self, model: str | Path | LoadedModel | None = None, limits: Limits | None = None,
                 favor_precision: bool | None = False):
        # refused here: a dict of limits or "no" for a flag was taken, and every later call
        # failed with an AttributeError (no `NoiseFilterError` to catch) or cleaned as if "yes"
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits must be a filter.Limits (Limits(max_bytes=…, timeout=…)), "
                            f"not {type(limits).__name__}")
        self.limits = limits or Limits()
        # None, as a call's own default: a wrapper passing an unset option on
        self.favor_precision = (favor_precision is not None
                                and _flag(favor_precision, "favor_precision"))
        if isinstance(model, LoadedModel):
            self.loaded = model
        else:
            self.loaded = load_model(model if model is not None else active_model_path())
        self.model = self.loaded.model

    @property
    def model_version(self) -> str:
        return self.loaded.version

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.model.classes_]

    def clean(self, html: Input, url: str | None = None, charset: str | None = None,
              favor_precision: bool | None = None) -> CleanResult:
        """Clean one HTML document (bytes in any charset, or str). Give the `charset` the
        HTTP response's Content-Type named with the bytes as received (not text decoded in
        it): read as browsers read it, and the size limit holds the bytes. `favor_precision`
        (None: the cleaner's own setting) as for `Cleaner`."""
        deadline = Deadline(self.limits.timeout)
        page = html_to_page(html, url=url, max_bytes=self.limits.max_bytes, deadline=deadline,
                            charset=charset)
        deadline.check("classifying its blocks")
        return self._classify(page, deadline, favor_precision)

    def clean_text(self, text: Input, charset: str | None = None,
                   favor_precision: bool | None = None) -> CleanResult:
        """Clean text that an extractor already produced: one block per non-empty line. Bytes
        are UTF-8, or UTF-16/32 with a byte-order mark, or in the `charset` a transport named
        (an HTTP ``Content-Type``), read as browsers read its label (text that is valid UTF-8
        is UTF-8 whatever the label, as a page is); the size limit holds the bytes as given.
        `favor_precision` as for `clean`."""
        deadline = Deadline(self.limits.timeout)
        page = text_page(text, self.limits.max_bytes, charset)
        deadline.check("classifying its lines")
        return self._classify(page, deadline, favor_precision)

    def clean_many(self, docs: Iterable[Any], workers: int = 1, *,
                   timeout: float | None = None, max_in_flight: int | None = None,
                   start_method: str | None = None,
                   read_in_thread: bool = True) -> Iterator[Outcome]:
        """Clean many documents in worker processes; see `filter.batch.clean_many` (its
        options spelled out here, so that an editor and a type checker know them)."""
        from .batch import clean_many

        return clean_many(self, docs, workers=workers, timeout=timeout,
                          max_in_flight=max_in_flight, start_method=start_method,
                          read_in_thread=read_in_thread)

    def _classify(self, page: Page, deadline: Deadline,
                  favor_precision: bool | None = None) -> CleanResult:
        precise = (self.favor_precision if favor_precision is None
                   else _flag(favor_precision, "favor_precision"))
        extra = {"favor_precision": True} if precise else {}  # a model of one's own may not take it
        labels, probs = self.model.predict_page(page, deadline, **extra)
        classes = self.labels
        keep = classes[0]
        blocks = []
        for block, label, row in zip(page.blocks, labels, probs):
            scores = {c: float(p) for c, p in zip(classes, row)}
            blocks.append(LabelledBlock(text=block.as_shown, label=str(label), score=scores[label],
                                        kind=block.kind, scores=scores, extracted=block.extracted))
        related = related_links(page.blocks, labels, page_url=page.url, link_base=page.link_base,
                                also_own=(page.link_base,), aliases=(page.canonical_url,),
                                itself=page.own_urls)
        text = kept_text(page.blocks, labels, keep)
        reason = None
        if not text:
            reason = page.notes[0] if page.notes else f"no block was classified as {keep}"
        return CleanResult(
            text=text, blocks=blocks, title=page.title, author=page.author, date=page.date,
            language=page.language, url=page.url, related_links=related,
            model_version=self.model_version, empty_reason=reason, keep_label=keep,
        )


def _flag(value: object, name: str) -> bool:
    """`value` as a yes or no: True or False (numpy's too), nothing read as one."""
    if isinstance(value, (bool, numpy.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {value!r}")


def check_text(text: str) -> None:
    """Raise `InputError` for decoded text `clean_text` refuses whatever its size: NUL bytes
    (binary data), an HTML document (its markup would be kept as words) or JSON (a record sent
    to the service as text/plain, `fetch`'s default for a string body, or trafilatura's JSON
    output: its source came back as the article, with status 200). Examples are checked here
    too: a text example the service stored with any of them was skipped by training later."""
    if "\x00" in text:
        raise InputError("text holds NUL bytes: binary data, not text")
    if _HTML_DOCUMENT.match(text):
        raise InputError("text is an HTML document; HTML goes to clean (noisefilter clean "
                         "without --text; to the service as text/html or an \"html\" field)")
    kind = json_kind(text)
    if kind:
        raise InputError(f"text is {JSON_NAMES[kind]}, not text: give a record's text itself "
                         "(jq -r .text), or records one per line to noisefilter batch "
                         "(clean_many); the service takes one record as application/json, "
                         "several at /v1/clean/batch")


def text_page(text: str | bytes, max_bytes: int, charset: str | None = None) -> Page:
    """Text an extractor produced as the page `clean_text` classifies: one block per line, no
    URL (text has no links to resolve). Training and evaluation build a text example's page
    here too, so that its labels meet the blocks `clean_text` shows: with its own rules,
    labels saved from the labelling page for lines holding a control character matched no
    block, and an example's URL gave the model URL features `clean_text` never has."""
    if not isinstance(text, (str, bytes, bytearray, memoryview)):
        raise InputError(f"expected text as str, got {type(text).__name__}")
    # bytes as given, before they are decoded (as for HTML: a gigabyte was decoded whole before
    # it was refused), a str in UTF-8
    too_large = size_error(text, max_bytes, text=True)
    if too_large is not None:
        raise too_large
    kind = file_format(text)  # before decoding: "not UTF-8 … name its charset" misled
    if kind:
        raise InputError(f"text is {kind}, not text")
    if not isinstance(text, str):
        charset = charset_label(charset)
        text = _labelled_text(bytes(text), charset) if charset else _decoded_text(bytes(text))
    check_text(text)
    # a byte-order mark left by the file the text came from is not part of its first line
    text = well_formed(text).removeprefix("\ufeff").translate(_CONTROLS)
    _refuse_many_lines(text)
    page = Page(blocks=segment_text(text), source="text")
    if not page.blocks:
        page.notes.append("the text is empty")
    return page


def _refuse_many_lines(text: str) -> None:
    """Raise `InputTooLarge` for text of more lines that show text than a page is cleaned with
    blocks (`MAX_ELEMENTS`, as an HTML page's elements): memory grows with them, not with the
    bytes, and 10 MB of 3.3 million short lines took a process to 2.3 GB before its time ran
    out."""
    if len(text) <= MAX_ELEMENTS:  # no more characters than that: no more lines either
        return
    lines = sum(1 for line in text.splitlines() if has_visible_text(line))  # as `segment_text`
    if lines > MAX_ELEMENTS:
        raise InputTooLarge(f"text of {lines:,} lines, over the limit of {MAX_ELEMENTS:,} "
                            "(one block each): cleaning it would take gigabytes of memory")


def clean_page(cleaner: Cleaner, html: bytes | str | None, url: str | None,
               charset: str | None, text: str | bytes | None = None,
               favor_precision: bool | None = None) -> CleanResult:
    """`cleaner.clean` of `html`, or `cleaner.clean_text` of `text` where there is no `html`, as
    the batch, Spark and service workers call them: the charset and `favor_precision` passed
    only when there are some, so that a `Cleaner` subclass overriding ``clean(html, url)`` or
    ``clean_text(text)`` (as before the charset was) keeps working in them. Text bytes get the
    charset too: the batch and Spark dropped it, and text in the charset its transport named
    was refused as "not UTF-8"."""
    given = {} if charset is None else {"charset": charset}
    if favor_precision is not None:
        given["favor_precision"] = favor_precision
    if html is None:
        if not isinstance(text, bytes):
            given.pop("charset", None)
        return cleaner.clean_text(text, **given)
    return cleaner.clean(html, url=url, **given)


#: byte-order marks that make text bytes UTF-16 or UTF-32 (as Windows tools save text); the
#: UTF-32 ones first, since UTF-32LE's begins with UTF-16LE's
_TEXT_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _labelled_text(data: bytes, charset: str) -> str:
    """Text bytes in the charset a transport named (`decode_labelled`), except that text which
    is valid UTF-8 and not only ASCII is read as UTF-8, as a page is (`decode_by_header`):
    servers label UTF-8 with their default "iso-8859-1", and legacy text is almost never
    valid UTF-8 (read in the label, "adopté" came out as "adoptÃ©")."""
    if not data.isascii() and not read_bom(data)[0]:
        text = utf8_text(data)
        if text is not None:
            return text
    return decode_labelled(data, charset)


def _decoded_text(data: bytes) -> str:
    """Text given as bytes: UTF-8, or UTF-16/32 where a byte-order mark says so. Anything else
    is refused saying what it is: "text must be str or UTF-8 bytes" told a user of
    `noisefilter clean --text` with a gzip file or a Latin-1 one nothing."""
    codec = next((codec for bom, codec in _TEXT_BOMS if data.startswith(bom)), "utf-8")
    try:
        return decode_cut(data, codec)
    except UnicodeDecodeError as err:
        if data[:2] == b"\x1f\x8b":
            raise InputError("text is gzip-compressed: decompress it first") from err
        raise InputError(f"text is not {codec.upper()} (byte 0x{data[err.start]:02x} at offset "
                         f"{err.start:,}): give it in UTF-8, or name its charset (charset=, "
                         "noisefilter clean --text --charset, a Content-Type's charset)") from err


def related_links(blocks: list[Block], labels: list[str], page_url: str | None = None,
                  same_site: bool = True, also_own: Iterable[str | None] = (),
                  aliases: Iterable[str | None] = (), itself: Iterable[str | None] = (),
                  link_base: str | None = None) -> list[RelatedLink]:
    """The links of the blocks labelled `related` (for a block that holds none, the link around it:
    a card), in page order, each target once: what a crawler follows for more on the story, at
    the address a browser follows (`followed_url`; `link_base` is what the links were resolved
    against, the page's `<base href>`, else `page_url`), which, when the page's URL is known, is
    an absolute http(s) one. Targets are told apart by `same_page`: a `#fragment`, tracking
    parameters, `http` or `https`, `www.` and a trailing slash do not make another page, so each
    story is listed once, as first written, and links to the page itself (`page_url`, one of its
    `aliases`: the address it gives itself, or one of `itself`: its other addresses, under any
    of those forms) are no related story (a relative link, when neither the page's URL nor a
    `<base href>` is known, is told apart as resolved against the first alias). Links without
    anchor text and targets that are not web pages are left out, and so, when one of the page's
    addresses is known (its URL, `also_own`, `aliases`), are links that leave its site
    (`site_of`; a link to an IP address or an intranet name leaves it too): a site offers its
    own stories as related ones. The sites of `also_own` and `aliases` count as its own too (its
    `<base href>`, and the address it gives itself, for a page fetched through a feed's
    redirector or a cache), not those of `itself` (a further canonical link may name the
    publisher a copy was syndicated from); a page on an IP address or localhost has no site to
    keep to; `same_site=False` keeps every site's links. On WCXB-dev's hand-labelled pages, 278
    of the 283 links of `related` blocks stay on the page's site, while none of the 49 off-site
    links the cross-validated model gave as related was one of them (affiliate, shop and
    reference links); `benchmarks/quality.py` prints the precision and recall of the list.
    Each is titled as its link reads, unless those words name no story (`story_titles`)."""
    aliases = [u for u in aliases if u]
    seen = {same_page(u) for u in (page_url, *aliases, *itself) if u}
    own = (page_url, *also_own, *aliases)
    base = link_base or page_url
    found = []  # (link, title, url, whether it is absolute) of each web link of related blocks
    for block, label in zip(blocks, labels):
        if label != RELATED:
            continue
        for link in block.links or ((block.link_around,) if block.link_around else ()):
            title = visible(link.text if link.title is None else link.title)
            if not (title and _is_web_link(link.url)):  # a script's text is no title
                continue
            try:
                url = followed_url(link.url, base)
                absolute = bool(urlsplit(url).hostname)
            except ValueError:  # "http:[::1": no address once read as a browser reads it
                continue
            if absolute or not page_url:
                found.append((link, title, url, absolute))
    # kept to when one of the page's addresses is on a site; an address or an intranet name
    # among them is then one of its own too (a redirector's page giving itself such a name).
    # Without the page's URL, only when a related link is on one of them: `clean(html)` of a
    # page naming its own address listed shop and affiliate links of other sites, but a
    # syndicated copy's canonical link names the publisher's site, not the one it is on
    homes = ({site_or_host(u) for u in own} - {None}
             if same_site and any(site_of(u) for u in own) else set())
    if not page_url and not any(site_or_host(url) in homes
                                for _, _, url, absolute in found if absolute):
        homes = set()
    # what a relative link (no URL, no `<base href>`) is told apart by: the address the page
    # gives itself, so that "/news/story" and its absolute form are one story, and a link back
    # to the page is no related one
    key_base = base or next(iter(aliases), None)
    kept = []
    for link, title, url, absolute in found:
        if homes and site_or_host(url) not in (None, *homes):
            continue
        target = same_page(url if absolute or not key_base else urljoin(key_base, url))
        if target not in seen:
            seen.add(target)
            kept.append((link, title, url))
    return [RelatedLink(title=title, url=url) for title, url in story_titles(kept)]


#: link texts that name no story, whichever they lead to (compared without punctuation or case)
_STOCK_TITLE = re.compile(
    r"(?:read|learn|see|view|find out|discover)(?: (?:the|our))?(?: full)?"
    r" (?:more|review|article|story|post)|continue reading|keep reading|click here|here|more"
    r"|more info|details|weiterlesen|mehr|mehr lesen|lire la suite|en savoir plus|leer más"
    r"|seguir leyendo|leggi (?:di più|tutto)|lees meer|leia mais|saiba mais", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w\s]+")


def is_stock_phrase(title: str) -> bool:
    """Whether a link's words are a stock phrase that names no story ("Learn more ›")."""
    return bool(_STOCK_TITLE.fullmatch(" ".join(_NOT_WORD.sub(" ", title).split())))


def story_titles(links: list[tuple[Link, str, str]]) -> Iterator[tuple[str, str]]:
    """(title, URL) of each related link (its `Link`, title as shown and URL), a title that
    names no story replaced: the same words leading to two stories of the page ("Learn more."
    closing each section of a guide, "Read the review" under each product) or a stock phrase
    ("Read more"). In its place the link's own `aria-label` or `title` attribute, when that
    names this link alone ("Opens in a new tab" on every link names none), else the words of
    its address's last part (`address_title`), else the words stay: a crawler stores the
    title beside the URL. `benchmarks/related_titles.py`: of the shipped model's 668 related
    links on WCXB-dev, 36 showed a stock phrase and 38 another's words, 2 and 6 are given so
    (forum replies, ids, a search)."""
    by_title: Counter[str] = Counter(title.casefold() for _, title, _ in links)
    labels = [visible(link.label or "") for link, _, _ in links]
    by_label: Counter[str] = Counter(label.casefold() for label in labels)
    for (_, title, url), label in zip(links, labels):
        if by_title[title.casefold()] > 1 or is_stock_phrase(title):
            alone = label and by_label[label.casefold()] == 1 and not is_stock_phrase(label)
            named = label if alone else address_title(url)
            title = named or title
        yield title, url


#: a file name's suffix (".html", ".php"), what separates a slug's words, and last path
#: segments that name no page of their own (the folder's page, an AMP copy)
_PAGE_SUFFIX = re.compile(r"\.[a-z]{2,5}$", re.IGNORECASE)
_SLUG_SPLIT = re.compile(r"[-_+\s]+")
_FOLDER_PAGE = frozenset({"index", "default", "amp"})


def address_title(url: str) -> str | None:
    """The words of an address's last path segment, first letter upper case
    ("/article/do-seed-oils-cause-disease.html": "Do seed oils cause disease"; before a last
    segment that is a number or the folder's page, the one before it: "/harbour-ferry-returns
    /48213/", ".../index.html"), when it holds two words of letters or more and nothing but
    words and numbers (not an id: "/p/8a7f3c", "viewtopic.php?p=77"); None otherwise."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    stem = ""
    for part in reversed(path.split("/")):
        stem = _PAGE_SUFFIX.sub("", unquote(part))
        if stem and not (stem.isdecimal() or stem.lower() in _FOLDER_PAGE):
            break
    # a number of five digits or more is an id ("/1517550-harbour-ferry-returns")
    words = [w for w in _SLUG_SPLIT.split(stem) if w and not (w.isdecimal() and len(w) > 4)]
    if sum(w.isalpha() for w in words) < 2 or not all(w.isalpha() or w.isdecimal() for w in words):
        return None
    text = " ".join(words)
    return text[0].upper() + text[1:]


def followed_url(url: str, base: str | None) -> str:
    """The address a browser follows for a link whose href `urljoin` resolved against `base`
    to `url` (what the model's link features read, left as it is). Browsers read an http(s)
    address as the WHATWG URL standard says: a backslash as a slash, before any query, and
    "http:story" on an https page as "http://story"; urljoin kept "http:story" as written and
    "https:\\\\site.example\\news\\2" on a page of site.example became the path
    "/news/\\\\site.example\\news\\2" of the page's folder. Such an href is read again from
    where urljoin joined it to the base's folder ("..\\img" is "../img" too); other links come
    back as they are."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "") or not (
            "\\" in BEFORE_QUERY.match(url).group() or (scheme and not parts.netloc)):
        return url
    href, leftover = url, False
    if base:  # an href that urljoin took for a path in the base's folder: read it again
        folder = urljoin(base, ".")
        if url.startswith(folder):
            href, leftover = url[len(folder):], True
    head = BEFORE_QUERY.match(href).group()
    head, rest = head.replace("\\", "/"), href[len(head):]
    if leftover and not head.startswith("/"):
        # a path in the folder, even with a colon in its first segment ("Category:News/2026",
        # "Talk:Bridge/archive"), which urljoin would read as a scheme
        head = "./" + head
    written, colon, after = head.partition(":")
    if (colon and written.lower() in ("http", "https")
            and (not base or urlsplit(base).scheme.lower() != written.lower())):
        head = f"{written}://{after.lstrip('/')}"  # another scheme than the base's: a host
    return urljoin(base, head + rest) if base else head + rest


def same_page(url: str) -> str:
    """What every address of one page has in common: its host (lower case, in its ASCII (IDNA)
    form as `site_of` reads it, so "bücher.de" is "xn--bcher-kva.de", without `www.` and a
    default port), its path as browsers send it (`_path_key`) without a trailing slash, and
    its query parameters, sorted, without the tracking ones (`TRACKING_PARAMETER`); the scheme
    and the `#fragment` left out. Parameters without a value are kept: forum software writes its
    paths as queries (`index.php?/topic/123-title/`). A URL whose host cannot be read is its own
    key, without its fragment."""
    try:
        parts = urlsplit(url)
        host, port = ascii_host(parts.hostname or "").removeprefix("www."), parts.port
    except ValueError:  # "http://[::1", port 99999
        return url.partition("#")[0]
    if port not in (None, 80, 443):
        host = f"{host}:{port}"
    query = sorted((key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
                   if not TRACKING_PARAMETER.fullmatch(key))
    return f"{host}{_path_key(parts.path).rstrip('/')}?{urlencode(query)}"


#: what a path keeps as written: printable ASCII (an escape "%d8" is its three characters)
_PATH_AS_WRITTEN = "".join(chr(code) for code in range(0x21, 0x7F))
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def _path_key(path: str) -> str:
    """A path as browsers send it: other characters than printable ASCII percent-encoded as
    UTF-8, and escapes in upper case, so that "/news/حمية" written in an href and the
    "/news/%D8%AD%D9%85%D9%8A%D8%A9" a crawler holds are one page (the page came back as a
    related link to itself, and a story linked both ways came twice)."""
    if "%" not in path and all("\x21" <= ch <= "\x7e" for ch in path):
        return path
    return _ESCAPE.sub(lambda m: m.group().upper(),
                       quote(path, safe=_PATH_AS_WRITTEN, errors="surrogatepass"))


def _is_web_link(url: str) -> bool:
    """A link a crawler can follow: http(s), or relative when the page's URL is not known
    (scripts, mail, data and other schemes are not articles, whatever their case)."""
    try:
        return urlsplit(url).scheme.lower() in ("http", "https", "")
    except ValueError:  # "http://[::1", kept as written when there is no base to resolve it
        return False


_default: Cleaner | None = None
_default_lock = threading.Lock()


def default_cleaner() -> Cleaner:
    """The process-wide cleaner on the active model, created on first use (thread-safe)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Cleaner()
    return _default


def clean(html: Input, url: str | None = None, charset: str | None = None,
          favor_precision: bool = False) -> CleanResult:
    """Clean one HTML document with the shipped (active) model (`Cleaner.clean`)."""
    return default_cleaner().clean(html, url=url, charset=charset, favor_precision=favor_precision)


def clean_text(text: Input, charset: str | None = None,
               favor_precision: bool = False) -> CleanResult:
    """Clean already-extracted text with the shipped (active) model (`Cleaner.clean_text`)."""
    return default_cleaner().clean_text(text, charset=charset, favor_precision=favor_precision)
