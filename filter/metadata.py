"""Page metadata (title, author, date, language) from the parsed tree.

trafilatura's own `extract_metadata` also looks for categories, tags, licence and site name and
runs htmldate's extensive date search, which together cost about as much as the extraction itself.
This module calls the same trafilatura and htmldate functions for the four fields the result
carries, in their fast settings, so metadata stays a small share of the pipeline. The author
is read from meta tags and JSON-LD, else from the page's byline (`filter.byline`, in place of
`trafilatura.metadata.extract_author`, which searches a pruned copy of the whole tree).

The title is the page's headline: sites add their own name to `<title>` and `og:title`
("Sea Kayaks | Harbour Outfitters"), which an aggregator's list of headlines does not want,
and word it for search engines; the page's own `<h1>` says which is the headline
(`headline`). Fields come out as a reader sees them: entities decoded, white space collapsed,
no placeholder author.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from datetime import datetime, timedelta
from html import unescape
from itertools import islice
from typing import Any
from urllib.parse import urljoin, urlsplit

import htmldate.extractors
from dateutil.parser import parse as dateutil_parse
from htmldate import find_date
from htmldate.settings import MIN_DATE
from lxml.html import HtmlElement
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, normalize_authors

from .blocks import CJK_CHARS, SOUTHEAST_ASIAN_CHARS, visible
from .byline import byline_author
from .sites import site_label

LOGGER = logging.getLogger(__name__)
#: what sites put between a headline and their name: "Headline | Site", "Site - Headline";
#: a dash or colon only with spaces around it, so "Wi-Fi" and "Guide 2025: Learn" stay whole,
#: except a dash between Chinese or Japanese characters, which have no spaces; an underscore
#: ("开幕_新华网", as Chinese news sites write it) with or without (matched on a title whose
#: white space is collapsed: runs of it would make the match quadratic)
_TITLE_SEPARATOR = re.compile(r" [-|:/~\u00b7\u2022\u00bb\u2013\u2014] | ?[|_\u00b7\u2022\u00bb\uff5c] ?"
                              f"|(?<=[{CJK_CHARS}])-(?=[{CJK_CHARS}])")
_WORD = re.compile(r"\w+")
_UNSPACED_CHAR = re.compile(f"[{CJK_CHARS}{SOUTHEAST_ASIAN_CHARS}]")
#: a title of more parts than this is not "headline + site name"
_MAX_TITLE_PARTS = 8
_MAX_HEADINGS = 10
#: the share of an <h1>'s letters in words of the title that makes it the headline (0.3, 0.5,
#: 0.7 and 0.9 tried on WCXB-dev: 0.5 gave the best title word F1)
_SHOWN_OVERLAP = 0.5
#: the document's `<html>` tag, looked for in its first characters only
_HTML_TAG = re.compile(r"<html\b[^<>]{0,2000}>", re.IGNORECASE)  # bounded: no quadratic scan
#: what may come before the document's `<html>` tag and hold the text "<html>" (a script's
#: string, a comment): skipped whole when looking for the tag
_BEFORE_HTML_TAG = re.compile(r"<script\b.*?(?:</script\s*>|\Z)|<!--.*?(?:-->|\Z)",
                              re.IGNORECASE | re.DOTALL)
_HTML_TAG_WITHIN = 100_000
#: ISO 639 codes withdrawn in 1989 and 2008 that older CMSs (Java's Locale) still write
_RETIRED_LANGUAGE_CODES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
_LANG_ATTRIBUTE = re.compile(r"""\s(?:xml:)?lang\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)
#: author "names" that name no one; compared lower-cased with each name trafilatura gives
_PLACEHOLDER_AUTHORS = frozenset({"admin", "administrator", "webmaster", "undefined", "null",
                                  "none", "unknown", "name", "author", "user", "guest", "by"})
#: what a template writes where it left a variable unfilled: "{{ article.title }}", "${name}"
_TEMPLATE_VARIABLE = r"\{\{|\$\{|<%|%\w+%"
#: meta values that are an address or a template variable, not a name
_NOT_A_NAME = re.compile(r"https?://|www\.|@?[\w-]+\.[\w.-]*/"  # an address
                         rf"|(\w+\.)+(author|name|creator)$|.*({_TEMPLATE_VARIABLE})",  # template
                         re.IGNORECASE)
#: meta titles that title nothing, compared lower-cased: what a script or template wrote
#: where it had no title ("undefined", "null"), and any title holding a template variable
_PLACEHOLDER_TITLES = frozenset({"undefined", "null", "none", "nan", "untitled", "title"})
_UNFILLED_TITLE = re.compile(_TEMPLATE_VARIABLE)
_MAX_AUTHORS = 20
#: a whole character reference: "&reg;", "&#8217;" ("News&notices" stays as it is, not "¬ices")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
#: the most characters of a title or author: a page's whole text in its <title> is no title
_MAX_FIELD = 1_000
#: the path of a link to a site's home page: "/", "./", "/index.php", "https://site.example"
_HOME_PATH = re.compile(r"\.?/?((index|default)\.\w+)?")
#: the path of a link to a language's home page on a multilingual site: "/en/", "/pt-BR"
_LANGUAGE_HOME_PATH = re.compile(r"/([a-z]{2,3})([-_][a-z]{2,4})?/?((index|default)\.\w+)?",
                                 re.IGNORECASE)
_HIDDEN_IN_HEADINGS = frozenset({"svg", "script", "style",
                                 # a control, no words of the headline: rustdoc's "Copy item path"
                                 "button"})
#: an inline style that lays an element out as a box of its own, which parts words
_SHOWN_AS_BOX = re.compile(r"display\s*:\s*(?:block|inline-block|flex|inline-flex|grid)",
                           re.IGNORECASE)
#: what ends a heading read for its text (`_heading_text`)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: the elements in a heading whose start and end part words: line breaks and block elements
_BREAKS_IN_HEADINGS = frozenset({
    "br", "div", "p", "li", "ul", "ol", "dl", "dt", "dd", "section", "article", "header",
    "footer", "aside", "nav", "blockquote", "figure", "figcaption", "table", "tr", "td", "th",
    "hr", "address", "main", "pre"})


def _words(text: str) -> str:
    """The text's words, lower case, one space apart. Turkish capitals are read as their small
    letters are written: "GRİP" casefolds to "gri" + a combining dot, which split the word,
    and "AŞISI" to "aşisi", which is not the title's "aşısı"."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("\u0307", "")
    return " ".join(_WORD.findall(folded.replace("\u0131", "i")))


def _shown_in_title(words: str, title_words: str) -> bool:
    """Whether an `<h1>`'s words (`_words`) are the title's: half their letters or more in
    words of the title, and two of them not numbers ("March 5, 2024" is a date, not a
    headline). By letters, not words: "Top of the News" shares "of" and "the" with a headline.
    Chinese, Japanese or Thai has no spaces, so a headline is one "word" there: it is the
    title's when the title holds it whole and it has four such characters or more."""
    if _UNSPACED_CHAR.search(words):
        return (len(_UNSPACED_CHAR.findall(words)) >= 4
                and words.replace(" ", "") in title_words.replace(" ", ""))
    shown, in_title = set(words.split()), set(title_words.split())
    letters = sum(len(w) for w in shown & in_title)
    return (sum(not w.isdigit() for w in shown) >= 2
            and letters >= _SHOWN_OVERLAP * sum(len(w) for w in shown))


def headline(title: str, tree: HtmlElement, site_name: str | None,
             language: str | None = None, site: str | None = None) -> str:
    """The page's headline, from its title and its `<h1>` headings (the first
    `_MAX_HEADINGS`), none of which is one of the site's names: its `og:site_name` or the text
    of a logo `<h1>` (one linked to the site's home page, or to its `language`'s).

    - The page's only such `<h1>`, when half its letters or more are in words of the title
      (and two of its words are not numbers; in Chinese, Japanese or Thai, when the title
      holds it whole: `_shown_in_title`): the headline as the page shows it, where the
      title is often worded for search engines ("Ten Quiet Harbour Walks" over "Best Harbour
      Walks 2026 – Ten Quiet Routes Near You"). One repeating the title whole, site's name
      and all, does not say which part is the headline: the rules below cut its text.
    - A title cut short ("…") that an `<h1>` holds whole: that `<h1>`.
    - The longest run of the title's separator-delimited parts that is the text of an `<h1>`,
      of those before the title's last part when there are some: a title ends with its site's
      name, which the page may show in an `<h1>` of its own too (a documentation page titled
      "ORM Quick Start — SQLAlchemy 2.0 Documentation", with an `<h1>` of each part, came out
      titled with the site's name).
    - All but a first or last part of the title that is one of the site's names.
    - All but a last part that names the site's address (`site`, `filter.sites.site_label`):
      its letters are the address's name, or begin with it in three words or fewer
      ("… | WRAL" on wral.com, "… | Liberty University" on liberty.edu, "… - AliExpress 7").
      Sites that give no `og:site_name` and no logo heading still end their titles so.
    - Else the title whole: a part may be the headline's own subtitle ("Hybrid Cars: A Buying
      Guide").

    White space comes out collapsed. On WCXB-dev the gold title is the headline so found on
    1,171 of 1,497 pages, the page's title on 767 (`benchmarks/metadata.py`)."""
    title = " ".join(title.split())
    h1s = [(_heading_text(h1, title), _links_home(h1, language))
           for h1 in islice(tree.iter("h1"), _MAX_HEADINGS)]
    names = ({_words(site_name or "")} | {_words(text) for text, logo in h1s if logo}) - {""}
    headings: dict[str, str] = {}  # words: text, of the headings that are not the site's names
    for text, logo in h1s:
        if not logo and (words := _words(text)) and words not in names:
            headings.setdefault(words, text)
    if len(headings) == 1:
        (words, text), = headings.items()
        if _shown_in_title(words, _words(title)):
            if words != _words(title):
                return text
            title = text  # the title as the page shows it, whose parts may still hold a name
    if title.endswith(("...", "\u2026")):
        stem = _words(title.rstrip(".\u2026"))
        # "The cat..." is no cut of "The category of all things": a cut inside a word needs
        # three words before it to be told apart from another title
        whole = [text for words, text in headings.items()
                 if stem and words.startswith(stem) and len(text) > len(title)
                 and (words[len(stem):len(stem) + 1] in ("", " ") or len(stem.split()) >= 3)]
        if whole:
            return whole[0]
    cuts = [m.span() for m in _TITLE_SEPARATOR.finditer(title)]
    if not cuts or len(cuts) >= _MAX_TITLE_PARTS:
        return title
    bounds = [0, *(x for span in cuts for x in span), len(title)]
    parts = [(bounds[k], bounds[k + 1]) for k in range(0, len(bounds), 2)]
    parts = [(start, end) for start, end in parts if title[start:end].strip()]
    runs = [(last, title[parts[first][0]:parts[last][1]].strip())
            for first in range(len(parts)) for last in range(first, len(parts))
            if last - first + 1 < len(parts)]
    found = [(last, run) for last, run in runs if _words(run) in headings]
    if found:
        before_end = [run for last, run in found if last < len(parts) - 1]
        return max(before_end or [run for _, run in found], key=len)
    if names and len(parts) > 1:
        if _words(title[parts[-1][0]:parts[-1][1]]) in names:
            return title[:parts[-2][1]].strip()
        if _words(title[parts[0][0]:parts[0][1]]) in names:
            return title[parts[1][0]:].strip()
    if site and len(parts) > 1 and _names_site(title[parts[-1][0]:parts[-1][1]], site):
        return title[:parts[-2][1]].strip()
    return title


def _names_site(part: str, site: str) -> bool:
    """Whether a title's part is the name of the site at address `site` (`site_label`): its
    letters are the address's ("Alison", alison), or begin with them in a part of three words
    or fewer ("Liberty University", liberty; "Shopify App Store", shopify). A first part is
    left alone: brand-first titles ("Talkspace - Therapy Online") are a home page's own."""
    words = _words(part).split()
    squashed = "".join(words)
    return squashed == site or (len(site) >= 4 and squashed.startswith(site) and len(words) <= 3)


def _links_home(h1: HtmlElement, language: str | None) -> bool:
    """Whether a heading is linked to a site's home page (``/``, ``https://site.example/``),
    or to the home of the page's `language` (``/en/`` on an English page, or the link's
    `hreflang`'s): a logo, which names the site, not the page. Two letters alone make no
    language's home: a headline linked to a section (``/us``, ``/tv``) is no logo."""
    for link in (*h1.iterancestors("a"), *h1.iter("a")):
        href = (link.get("href") or "").strip()
        if not href or href.startswith(("#", "?")):  # no address, or the page itself
            continue
        try:
            parts = urlsplit(href)
        except ValueError:
            continue
        if parts.scheme.lower() not in ("", "http", "https") or parts.query or parts.fragment:
            continue
        if _HOME_PATH.fullmatch(parts.path):
            return True
        home = _LANGUAGE_HOME_PATH.fullmatch(parts.path)
        hreflang = (link.get("hreflang") or "").split("-")[0].lower()
        if home and home.group(1).lower() in {language, hreflang} - {None, ""}:
            return True
    return False


def _heading_text(h1: HtmlElement, title: str = "") -> str:
    """A heading's visible text, white space collapsed: without an inline SVG's `<title>` and
    `<desc>` (a logo drawing's "Layer 1 created with an editor" before the site's name),
    scripts, styles and a permalink mark (`_is_permalink_mark`). A block element, a `<br>` or
    an element styled as a box of its own (`display: block`, `inline-block`…) parts words;
    text in inline elements runs on as browsers show it ("Planning <span>C</span>ycle" was
    "Planning C ycle", "H<sub>2</sub>O" "H 2 O"), unless the page's `title` parts them there
    (a tagline in a `<span>` a style shows on a line of its own: "Black
    Edition<span>Complete meal</span>" under the title "Black Edition | …"). A heading
    inside it after its text ends it, as browsers close the `<h1>` there (the parser nests
    `<h1>Title<h3>Posted on July 1 by …</h3>`, and the byline was the title's)."""
    pieces: list[str | None] = []  # texts, None where a block element parts words
    stack: list = [h1]  # elements to read, and the tails to add once their element is read
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, str):
            pieces.append(item)
            continue
        if item is not h1 and item.tag in _HEADINGS and any(p and p.strip() for p in pieces):
            break  # (one that opens the `<h1>`, or sits in its link, is what it shows)
        pieces.append(item.text or "")
        for child in reversed(item):  # each node once: an XPath asking every text node
            stack.append(child.tail or "")  # for its ancestors took seconds on nested headings
            parts_words = (child.tag in _BREAKS_IN_HEADINGS
                           or _SHOWN_AS_BOX.search(child.get("style") or "") is not None)
            if parts_words:
                stack.append(None)
            if (isinstance(child.tag, str) and child.tag not in _HIDDEN_IN_HEADINGS
                    and not _is_permalink_mark(child)):
                stack.append(child)
            if parts_words:
                stack.append(None)
    title = title.lower()
    text, parted = "", False
    for piece in pieces:
        if piece is None:
            parted = True
            continue
        if not piece:
            continue
        if text and not (parted or text[-1].isspace() or piece[0].isspace()):
            parted = _parted_in_title(text.split()[-1], piece.split()[0], title)
        text += (" " if parted else "") + piece
        parted = False
    return " ".join(text.split())


def _is_permalink_mark(element: HtmlElement) -> bool:
    """Whether an element of a heading is the link to the heading itself that documentation
    generators add, shown on hover (Sphinx's and MkDocs' "¶", "#", an icon font's glyph): no
    part of the headline ("Advanced Usage ¶")."""
    if element.tag != "a" or not (element.get("href") or "").startswith("#"):
        return False
    mark = "".join(element.itertext()).strip()
    return len(mark) <= 2 and not any(ch.isalnum() for ch in mark)


def _parted_in_title(before: str, after: str, title: str) -> bool:
    """Whether the words on either side of an inline element's edge in a heading, both ending
    there in a letter or digit, are two words in the page's (lower-cased) `title`: one of them
    a word of its own there ("Black Edition", "Minister" after a kicker's "Exclusive"), the two
    run on nowhere. Punctuation at the edge runs on ("Category:", "Insurance*")."""
    before, after = before.lower(), after.lower()
    if not (before[-1].isalnum() and after[0].isalnum()) or before + after in title:
        return False
    return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", title)
               for word in (before, after))


def page_language(tree: HtmlElement, source: str | None = None) -> str | None:
    """The page's declared language: the primary subtag of ``<html lang>`` (or of its
    content-language meta), lower-cased: ISO 639-1 where the page gives it (``en``), the
    3-letter code of a language that has no 2-letter one (``fil``); None for none or
    ``und`` (undetermined); a withdrawn code as the one that replaced it (``iw``: ``he``). It
    is what the page says, not a detection.

    `source` is the document's text: where anything comes before ``<html>`` (a script, a
    comment the parser keeps), the parser makes a root of its own and the tag's attributes are
    lost, as browsers do not lose them; the tag is then read from the text."""
    lang = tree.get("lang") or tree.get("xml:lang")
    if not lang and source:
        tag = _HTML_TAG.search(_BEFORE_HTML_TAG.sub("", source[:_HTML_TAG_WITHIN]))
        lang = tag and _LANG_ATTRIBUTE.search(tag.group())
        lang = lang and lang.group(1)
    if not lang:
        for meta in tree.iterfind(".//meta[@http-equiv]"):
            if meta.get("http-equiv", "").lower() == "content-language":
                lang = meta.get("content")
                break
    if not lang:
        return None
    code = lang.strip().split(",")[0].split("-")[0].split("_")[0].lower()
    code = _RETIRED_LANGUAGE_CODES.get(code, code)
    return code if 2 <= len(code) <= 3 and code.isalpha() and code != "und" else None


def _title_element_headline(tree: HtmlElement, site_name: str | None, fallback: str | None,
                            language: str | None) -> str | None:
    """Without a title in the meta tags: the `<title>` element's headline where the page confirms
    it, else `fallback` (trafilatura's choice: the only `<h1>`, a title-like element, a part of
    `<title>`)."""
    element = tree.find(".//head//title")
    text = " ".join(element.text_content().split()) if element is not None else ""
    cut = headline(text, tree, site_name, language) if text else text
    if cut != text or (text and _words(text) in {
            _words(_heading_text(h1, text)) for h1 in islice(tree.iter("h1"), _MAX_HEADINGS)}):
        return cut  # (an `<h1>` showing the title whole confirms it too: trafilatura's pick
        # was that `<h1>` with the byline the parser nests in it)
    def squashed(words: str) -> str:  # trafilatura joins a heading's text nodes without spaces
        return "".join(_words(words).split())

    logos = {squashed("".join(h1.itertext())) for h1 in islice(tree.iter("h1"), _MAX_HEADINGS)
             if _links_home(h1, language)}
    if text and fallback and squashed(fallback) in logos:
        return text  # trafilatura took the page's only <h1>, its logo
    return fallback


def page_metadata(tree: HtmlElement, url: str | None, source: str | None = None,
                  link_base: str | None = None) -> dict[str, str | tuple[str, ...] | None]:
    """Title (the headline), author, date (ISO) and language of a page, its title as it gives it
    (`full_title`, with the site's name: what the model's topic features were trained on), and
    the address it gives itself (`canonical_url`) and all it gives (`own_urls`); missing fields
    are None. `source` is the document's text the tree was parsed from (`page_language`);
    `link_base` what its links are relative to (its `<base href>`, else `url`)."""
    meta = examine_meta(tree)
    # read once, from the source too: the tree loses `<html lang>` after a leading script, and
    # a logo linked to the page's language's home was then taken for the headline
    language = page_language(tree, source)
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as err:  # trafilatura's JSON-LD reader fails on some malformed blocks
        LOGGER.debug("JSON-LD metadata skipped: %s", err)
    for name in ("title", "sitename", "author", "url"):
        setattr(meta, name, _json_ld_text(getattr(meta, name)))
    full_title = meta.title or extract_title(tree)
    site_name, meta_title = _field(meta.sitename), _field(meta.title)
    if meta_title and not _is_placeholder_title(meta_title):
        title = headline(meta_title, tree, site_name, language, site_label(url or meta.url))
    else:  # none, or a placeholder, which `full_title` keeps: the model was trained on it
        # (the site's address does not cut this `<title>`: a cut one overrides trafilatura's
        # pick, and on WCXB-dev that won 4 titles and lost 3)
        fallback = extract_title(tree) if meta_title else full_title
        title = _title_element_headline(tree, site_name, _field(fallback), language)
    title = _field(title)
    author = _field(_author(tree, meta.author)) or _field(byline_author(tree))
    try:
        date = publication_date(tree, url or meta.url)
    except Exception as err:  # htmldate on odd inputs: a missing date is not an error
        LOGGER.debug("date extraction skipped: %s", err)
        date = None
    own = own_addresses(tree, link_base or url, meta.url)
    return {"title": title, "full_title": full_title, "author": author, "date": date,
            "language": language, "canonical_url": own[0] if own else None, "own_urls": own}


def publication_date(tree: HtmlElement, url: str | None) -> str | None:
    """The day the page was published (htmldate's fast path, the original date first), or
    None. htmldate reads the meta tags before the JSON-LD, and it holds a modification time
    among them (`og:updated_time`, `article:modified_time`) in reserve only until the end of
    the meta tags, not of the JSON-LD: a page that gives its `datePublished` in JSON-LD alone
    was dated by its last update. So where the date found is the article's `dateModified` in
    its own JSON-LD (`_json_ld_dates`), the `datePublished` beside it is taken instead: on
    WCXB-dev that changes 56 pages' dates, and 636 of the 743 gold dates are found, against
    631 (the gold is at times the day of the update). A JSON-LD date is never taken on its
    own: the first `datePublished` in a page's scripts may be a related story's, and it is
    taken only as htmldate takes a date (`_believable_day`): a CMS's unset "0001-01-01", a
    "2024-02-30" or a "2099-01-01" came out as the page's date."""
    latest = _latest_date()
    date = find_date(tree, extensive_search=False, original_date=True, url=url, max_date=latest)
    dates = _json_ld_dates(tree)
    if (date is not None and dates and dates[1] == date and dates[0] not in (None, date)
            and _believable_day(dates[0], latest)):
        return dates[0]
    return date


#: what dateutil takes for the parts a date string leaves out: the 1st, as htmldate's own rule
#: for a year and month gives, and the year 1, which htmldate's earliest date (1995) refuses
_MISSING_PARTS = datetime(1, 1, 1)


def _parse_without_today(timestr: str, **kwargs: Any) -> datetime:
    """dateutil's `parse`, the parts a string leaves out taken from `_MISSING_PARTS`, not from
    today. htmldate's shortcut for strings that open with a year hands them to dateutil with no
    default, so a month-only date ("2023-07" in `article:published_time`) came out with today's
    day, and a page got another date each day it was cleaned: an aggregator's dates and
    de-duplication differed between runs. Put in htmldate's module once, when this module is
    imported (with the extraction), so it holds for trafilatura's metadata in the same process
    too (nothing else there changes: no WCXB-dev page's date does)."""
    kwargs.setdefault("default", _MISSING_PARTS)
    return dateutil_parse(timestr, **kwargs)


htmldate.extractors.dateutil_parse = _parse_without_today


def _believable_day(day: str, latest: datetime) -> bool:
    """Whether `day` (YYYY-MM-DD) is a day of the calendar within htmldate's bounds: not
    before its earliest date (1995), not after `latest` (`_latest_date`)."""
    try:
        return MIN_DATE <= datetime.strptime(day, "%Y-%m-%d") <= latest
    except ValueError:
        return False


#: the JSON-LD types of a page's own story; an `ItemList` of related ones is none of them
_ARTICLE_TYPE = re.compile(r"(\w*Article|\w*Posting|Report|WebPage)")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: what old templates wrap a script's JSON in: `<!-- -->`, `//<![CDATA[ //]]>`
_JSON_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
#: the most characters of JSON-LD read for dates (a catalogue page's is megabytes)
_MAX_JSON_LD = 1_000_000


def _json_ld_dates(tree: HtmlElement) -> tuple[str | None, str | None] | None:
    """The days (YYYY-MM-DD) of `datePublished` and `dateModified` of the page's own story in
    its JSON-LD: the first object with either date, at the top of a script or of its `@graph`
    or as a web page's `mainEntity`, whose type is an article's or a web page's (``NewsArticle``,
    ``schema:NewsArticle``, ``https://schema.org/NewsArticle``); None without one. Objects
    inside it (a list of related stories, each with its own dates) are not read. Read as
    leniently as sites write it: raw line breaks inside strings, and the `<!-- -->` or CDATA
    wrappers of old templates."""
    for script in tree.iter("script"):
        text = script.text
        if ((script.get("type") or "").strip().lower() != "application/ld+json" or not text
                or "dateModified" not in text or len(text) > _MAX_JSON_LD):
            continue
        try:
            data = json.loads(_JSON_WRAPPER.sub("", text), strict=False)
        except (ValueError, RecursionError):
            continue
        tops = data if isinstance(data, list) else [data]
        graph = [node for top in tops if isinstance(top, dict)
                 for node in (top.get("@graph") if isinstance(top.get("@graph"), list) else ())]
        for item in [*tops, *graph]:
            for story in (item, item.get("mainEntity")) if isinstance(item, dict) else ():
                days = _story_days(story)
                if days is not None:
                    return days
    return None


def _story_days(item: Any) -> tuple[str | None, str | None] | None:
    """The publication and modification days of a JSON-LD object of an article's or a web
    page's type that gives either; None for any other."""
    if not isinstance(item, dict):
        return None
    kinds = item.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if not any(isinstance(k, str) and _ARTICLE_TYPE.fullmatch(re.split(r"[/:#]", k)[-1])
               for k in kinds):
        return None
    days = tuple(d[:10] if isinstance(d, str) and _DAY.match(d) else None
                 for d in (item.get("datePublished"), item.get("dateModified")))
    return days if any(days) else None


def _is_placeholder_title(title: str) -> bool:
    """Whether a meta title (`og:title`, `twitter:title`) is what a template left instead of
    one ("undefined", "{{ article.title }}"): taken as the headline, it named every such page
    alike, while the page's `<title>` and `<h1>` hold its real title."""
    return title.casefold() in _PLACEHOLDER_TITLES or bool(_UNFILLED_TITLE.search(title))


def _latest_date() -> datetime:
    """The latest publication date believed: two days after this machine's, at the day's end.
    htmldate's own bound, the end of this machine's day, took fresh news from time zones ahead
    of it for a made-up date (a Sydney page dated tomorrow by UTC came out as the 1st of the
    month) or none; two days cover any two time zones. Day-granular like htmldate's, so its
    caches serve a whole day's pages."""
    return (datetime.now() + timedelta(days=2)).replace(hour=23, minute=59, second=59,
                                                         microsecond=999999)


def _author(tree: HtmlElement, found: str | None) -> str | None:
    """The author trafilatura read from the meta tags and JSON-LD (names joined by "; "),
    without what is no one's name: placeholders a template left ("Undefined", "Admin",
    "Webmaster", the "Name" of a form field; "Anonymous" is a name authors choose) and the
    words trafilatura made of an address or a template variable (``www.facebook.com/jane``
    became "Www Facebook Com; Jane", ``site.meta.author`` "Site Meta Author"), the name before
    such an address kept ("Jane Fielding https://x.com/jf" became "Jane Fielding https; X
    Com; Jf").
    Scholarly pages name each author in a `citation_author` meta tag as "Last, First", which
    trafilatura split into two names: they are read from those tags, first name first."""
    cited, stated = [], []
    for meta in tree.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        value = (meta.get("content") or "").strip()
        if value and name == "citation_author":
            cut = _NOT_A_NAME.search(value)  # an ORCID or a template's "http://", "{{": no name
            value = value[:cut.start()] if cut else value
            last, _, given = value.partition(",")  # "Smith, John, Jr." is John Smith Jr.
            given, _, suffix = given.partition(",")
            cited_name = " ".join(f"{given} {last} {suffix}".split())
            if (any(c.isalpha() for c in cited_name)
                    and cited_name.casefold() not in _PLACEHOLDER_AUTHORS):
                cited.append(cited_name)  # ("By": a template's, no one's)
        elif value and ("author" in name or "creator" in name):
            stated.append(value)
    if cited:
        return "; ".join(cited[:_MAX_AUTHORS])
    if not found:
        return None
    junk, named = set(_PLACEHOLDER_AUTHORS), []
    for value in stated:
        cut = _NOT_A_NAME.search(value)
        if cut:  # the names before an address ("Jane Fielding https://x.com/jf"), if any
            before = (normalize_authors(None, value[:cut.start()]) or "").split("; ")
            named += [name for name in before if name]
            made = normalize_authors(None, value) or ""
            junk.update(part.casefold() for part in made.split("; ") if part not in before)
    given = found.split("; ")
    names = [name for name in given if name.strip().casefold() not in junk]
    if len(names) < len(given):  # some were made of an address: the names before it stand
        names += [name for name in named if name.casefold() not in {n.casefold() for n in names}]
    return "; ".join(names) or None


def _json_ld_text(value: object) -> str | None:
    """A metadata field as text: trafilatura's JSON-LD reader hands on a value as the page
    wrote it, and a CMS writes `"headline": ["…"]`, a number or an object too (a list
    headline made every such page a TypeError). A list gives its first text; anything else
    that is not text, nothing."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    return value if isinstance(value, str) else None


def _field(text: str | None) -> str | None:
    """A field as the result gives it: entities a site escaped twice decoded (``&amp;reg;``
    reads ``&reg;`` to the parser, "®" to the reader, as trafilatura gives it), characters
    that do not show left out (`visible`: "Assis\u00adtance"), white space collapsed, at most
    `_MAX_FIELD` characters; None when nothing is left."""
    if not text:
        return None
    text = " ".join(visible(_ENTITY.sub(lambda m: unescape(m.group()), text)).split())
    if len(text) > _MAX_FIELD:
        text = text[:_MAX_FIELD - 1].rstrip() + "…"
    return text or None


def own_addresses(tree: HtmlElement, base: str | None, og_url: str | None) -> tuple[str, ...]:
    """The addresses the page gives itself: its `og:url`, then its `<link rel="canonical">`s
    (resolved against `base` when relative: its `<base href>`, else its URL, as browsers
    resolve them; without either, one without its scheme, ``//site.example/story``, read as
    https), those that are absolute web URLs. Without the page's URL, such a canonical link
    was left out, and the page was listed among its own related links. They
    name the page without the tracking parameters or the redirector it was fetched through, so
    the related links can leave out the page itself under those other addresses; all of them,
    as an `og:url` is sometimes the site's home page while the canonical link names the page.
    The first is `Page.canonical_url`."""
    candidates = [og_url] if og_url else []
    candidates += [link.get("href") or "" for link in tree.iterfind(".//link[@rel][@href]")
                   if "canonical" in (link.get("rel") or "").lower().split()]
    found: list[str] = []
    for candidate in candidates:
        candidate = candidate.strip()
        try:
            absolute = urljoin(base or "https:", candidate)
            host = urlsplit(absolute).hostname
        except ValueError:  # "http://[::1": no address
            continue
        if (absolute.lower().startswith(("http://", "https://")) and host
                and absolute not in found):
            found.append(absolute)
    return tuple(found)
