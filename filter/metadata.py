"""Page metadata (title, author, date, language) from the parsed tree.

trafilatura's own `extract_metadata` also looks for categories, tags, licence and site name and
runs htmldate's extensive date search, which together cost about as much as the extraction itself.
This module calls the same trafilatura and htmldate functions for the four fields the result
carries, in their fast settings, so metadata stays a small share of the pipeline. The author
is therefore read from meta tags and JSON-LD only: `trafilatura.metadata.extract_author`, which
also searches the page's bylines (on a copy of the whole tree), is not called.

The title is the page's headline: sites add their own name to `<title>` and `og:title`
("Kayaks | REI Co-op"), which an aggregator's list of headlines does not want. The name comes
off only when the page itself confirms which part is the headline (`headline`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from itertools import islice
from urllib.parse import urljoin

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title

LOGGER = logging.getLogger(__name__)
#: what sites put between a headline and their name: "Headline | Site", "Site - Headline";
#: a dash or colon only with spaces around it, so "Wi-Fi" and "Guide 2025: Learn" stay whole
#: (matched on a title whose white space is collapsed: runs of it would make the match quadratic)
_TITLE_SEPARATOR = re.compile(r" [-|:/~\u00b7\u2022\u00bb\u2013\u2014] | ?[|\u00b7\u2022\u00bb\uff5c] ?")
_WORD = re.compile(r"\w+")
#: a title of more parts than this is not "headline + site name"
_MAX_TITLE_PARTS = 8
_MAX_HEADINGS = 10


def _words(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def headline(title: str, tree: HtmlElement, site_name: str | None) -> str:
    """The page's title without the site's name: the longest run of its separator-delimited
    parts that is the text of one of the page's `<h1>` headings (one that is not the site's
    name: a logo), else (no such heading) all but a first or last part that is the site's name
    (`og:site_name`). Without that evidence the title stays whole: a part may be the headline's
    own subtitle ("Hybrid Cars: A Buying Guide"). White space comes out collapsed.

    On WCXB-dev the gold title is the page's title on 1,073 of 1,497 pages cut this way, on 767
    uncut (`benchmarks/metadata.py`)."""
    title = " ".join(title.split())
    cuts = [m.span() for m in _TITLE_SEPARATOR.finditer(title)]
    if not cuts or len(cuts) >= _MAX_TITLE_PARTS:
        return title
    bounds = [0, *(x for span in cuts for x in span), len(title)]
    parts = [(bounds[k], bounds[k + 1]) for k in range(0, len(bounds), 2)]
    parts = [(start, end) for start, end in parts if title[start:end].strip()]
    site = _words(site_name or "")
    headings = {_words(" ".join(h1.itertext())) for h1 in islice(tree.iter("h1"), _MAX_HEADINGS)} - {"", site}
    runs = [title[parts[first][0]:parts[last][1]].strip()
            for first in range(len(parts)) for last in range(first, len(parts))
            if last - first + 1 < len(parts)]
    found = [run for run in runs if _words(run) in headings]
    if found:
        return max(found, key=len)
    if site and len(parts) > 1:
        if _words(title[parts[-1][0]:parts[-1][1]]) == site:
            return title[:parts[-2][1]].strip()
        if _words(title[parts[0][0]:parts[0][1]]) == site:
            return title[parts[1][0]:].strip()
    return title


def page_language(tree: HtmlElement) -> str | None:
    """The page's declared language (``<html lang>`` or content-language meta), as ISO 639-1."""
    lang = tree.get("lang") or tree.get("xml:lang")
    if not lang:
        for meta in tree.iterfind(".//meta[@http-equiv]"):
            if meta.get("http-equiv", "").lower() == "content-language":
                lang = meta.get("content")
                break
    if not lang:
        return None
    code = lang.strip().split(",")[0].split("-")[0].split("_")[0].lower()
    return code if 2 <= len(code) <= 3 and code.isalpha() else None


def _title_element_headline(tree: HtmlElement, site_name: str | None, fallback: str | None) -> str | None:
    """Without a title in the meta tags: the `<title>` element's headline where the page confirms
    it, else `fallback` (trafilatura's choice: the only `<h1>`, a title-like element, a part of
    `<title>`)."""
    element = tree.find(".//head//title")
    text = " ".join(element.text_content().split()) if element is not None else ""
    cut = headline(text, tree, site_name) if text else text
    return cut if cut != text else fallback


def page_metadata(tree: HtmlElement, url: str | None) -> dict[str, str | None]:
    """Title (the headline), author, date (ISO) and language of a page, its title as it gives it
    (`full_title`, with the site's name: what the model's topic features were trained on), and
    the address it gives itself (`canonical_url`); missing fields are None."""
    meta = examine_meta(tree)
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as err:  # trafilatura's JSON-LD reader fails on some malformed blocks
        LOGGER.debug("JSON-LD metadata skipped: %s", err)
    full_title = meta.title or extract_title(tree)
    title = (headline(meta.title, tree, meta.sitename) if meta.title
             else _title_element_headline(tree, meta.sitename, full_title))
    author = meta.author or None
    try:
        date = find_date(tree, extensive_search=False, original_date=True, url=url or meta.url)
    except Exception as err:  # htmldate on odd inputs: a missing date is not an error
        LOGGER.debug("date extraction skipped: %s", err)
        date = None
    return {"title": title, "full_title": full_title, "author": author, "date": date,
            "language": page_language(tree), "canonical_url": canonical_url(tree, url, meta.url)}


def canonical_url(tree: HtmlElement, url: str | None, og_url: str | None) -> str | None:
    """The address the page gives itself: its `og:url`, else its `<link rel="canonical">`
    (resolved against the page's URL when relative); None unless that is an absolute web URL.
    Both name the page without the tracking parameters or the redirector it was fetched
    through, so the related links can leave out the page itself under those other addresses."""
    candidates = [og_url] if og_url else []
    candidates += [link.get("href") or "" for link in tree.iterfind(".//link[@rel][@href]")
                   if "canonical" in (link.get("rel") or "").lower().split()]
    for candidate in candidates:
        candidate = candidate.strip()
        try:
            absolute = urljoin(url, candidate) if url else candidate
        except ValueError:  # "http://[::1": no address
            continue
        if absolute.lower().startswith(("http://", "https://")):
            return absolute
    return None
