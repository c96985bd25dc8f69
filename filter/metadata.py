"""Page metadata (title, author, date, language) from the parsed tree.

trafilatura's own `extract_metadata` also looks for categories, tags, licence and site name and
runs htmldate's extensive date search, which together cost about as much as the extraction itself.
This module calls the same trafilatura and htmldate functions for the four fields the result
carries, in their fast settings, so metadata stays a small share of the pipeline. The author
is therefore read from meta tags and JSON-LD only: `trafilatura.metadata.extract_author`, which
also searches the page's bylines (on a copy of the whole tree), is not called.
"""

from __future__ import annotations

import logging

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title

LOGGER = logging.getLogger(__name__)


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


def page_metadata(tree: HtmlElement, url: str | None) -> dict[str, str | None]:
    """Title, author, date (ISO) and language of a page, and the address it gives itself
    (`og:url`, when absolute); missing fields are None."""
    meta = examine_meta(tree)
    try:
        meta = extract_meta_json(tree, meta)
    except Exception as err:  # trafilatura's JSON-LD reader fails on some malformed blocks
        LOGGER.debug("JSON-LD metadata skipped: %s", err)
    title = meta.title or extract_title(tree)
    author = meta.author or None
    try:
        date = find_date(tree, extensive_search=False, original_date=True, url=url or meta.url)
    except Exception as err:  # htmldate on odd inputs: a missing date is not an error
        LOGGER.debug("date extraction skipped: %s", err)
        date = None
    canonical = meta.url if meta.url and meta.url.startswith(("http://", "https://")) else None
    return {"title": title, "author": author, "date": date, "language": page_language(tree),
            "canonical_url": canonical}
