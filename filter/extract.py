"""From raw HTML to a `Page`: decode, parse once, let trafilatura find the article, and cut what
it keeps into blocks mapped back to their source elements.

trafilatura runs in its fast, recall-leaning mode without comments: recall, because whatever it
keeps the classifier can still remove, but what it drops is lost; fast, because its fallback
extractors cost more than the whole classifier.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.utils import decode_file, load_html

from .blocks import Block, Link, Page, normalize_text
from .errors import InputError, InputTooLarge
from .metadata import page_metadata

#: attribute stamped on every source element so output blocks can be traced back to it
_ID = "data-nf-id"
#: trafilatura output tags that hold one block each
_BLOCK_TAGS = {"p", "head", "item", "row", "quote", "code", "cell"}
#: containers whose children are the blocks
_CONTAINERS = {"list", "table", "div", "quote", "body", "doc"}
#: how many ancestors' class/id values count as hints
_HINT_DEPTH = 8
#: inner tags whose start separates words (cells of a row, line breaks, nested items)
_SPACED = {"cell", "lb", "item", "p", "head", "list"}
#: below this many characters kept by the fast pass, the full trafilatura pass is tried too
FALLBACK_BELOW_CHARS = 1500
_HINT_SPLIT = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def decode(data: bytes | str, max_bytes: int) -> str:
    """Bytes in any charset (or str) to str, refusing what is too large or binary."""
    if not isinstance(data, (bytes, bytearray, memoryview, str)):
        raise InputError(f"expected HTML as bytes or str, got {type(data).__name__}")
    size = len(data) if not isinstance(data, str) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise InputTooLarge(f"input is {size:,} bytes, over the limit of {max_bytes:,} bytes")
    if not isinstance(data, str):
        data = decode_file(bytes(data), max_bytes)
    sample = data[:4096]
    if sample and len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise InputError("input looks like binary data, not HTML")
    return data


def parse(html: str) -> HtmlElement:
    """Parse HTML once with lxml (through trafilatura's loader, which repairs common faults)."""
    if not html.strip():
        raise InputError("input is empty")
    if "<" not in html:
        raise InputError("input does not look like HTML (no tags); use clean_text for plain text")
    try:
        tree = load_html(html)
    except (ValueError, TypeError, etree.LxmlError) as err:
        raise InputError(f"HTML could not be parsed: {err}") from err
    if tree is None:
        raise InputError("HTML could not be parsed into a document")
    return tree


def _element_text(el: etree._Element) -> str:
    """The block's text on one line; table cells and line breaks become spaces."""
    parts = []
    for node in el.iter():
        if node is not el and node.tag in _SPACED:
            parts.append(" ")
        if node.text and node.tag != "lb":
            parts.append(node.text)
        if node is not el and node.tail:
            parts.append(node.tail)
    return " ".join("".join(parts).split())


def _iter_block_elements(body: etree._Element):
    """Yield (kind, element) for trafilatura's output tree in reading order."""
    for el in body:
        tag = el.tag
        if tag in ("list", "table"):
            for sub in el.iter("item", "row"):
                # nested lists: an item holding a list is split into its own items
                if sub.tag == "item" and sub.find(".//item") is not None:
                    continue
                yield sub.tag, sub
        elif tag == "quote" and len(el) and all(c.tag in _BLOCK_TAGS | {"list"} for c in el):
            yield from _iter_block_elements(el)
        elif tag in ("div", "section"):
            yield from _iter_block_elements(el)
        elif tag in ("graphic", "lb"):
            continue
        else:
            yield tag, el


class _SourceIndex:
    """Finds the source element of an output block: by the stamped id when trafilatura kept the
    element's attributes, else by its normalised text (searching forward from the last match, so
    repeated texts map to the right occurrence)."""

    def __init__(self, tree: HtmlElement):
        self.tree = tree
        self.by_id: dict[str, etree._Element] = {}
        self.order: list[etree._Element] = []
        for i, el in enumerate(tree.iter(etree.Element)):
            el.set(_ID, str(i))
            self.by_id[str(i)] = el
            self.order.append(el)
        self.total = max(len(self.order), 1)
        self._texts: dict[str, list[int]] | None = None
        self.cursor = 0

    def _text_index(self) -> dict[str, list[int]]:
        if self._texts is None:
            self._texts = {}
            for i, el in enumerate(self.order):
                if el.tag in ("html", "body", "head", "script", "style"):
                    continue
                text = normalize_text(el.text_content()) if len(el) < 40 else ""
                if text:
                    self._texts.setdefault(text, []).append(i)
        return self._texts

    def find(self, block_el: etree._Element, text: str) -> etree._Element | None:
        for node in block_el.iter():
            ident = node.get(_ID)
            if ident is not None and ident in self.by_id:
                self.cursor = int(ident)
                return self.by_id[ident]
        positions = self._text_index().get(normalize_text(text))
        if not positions:
            return None
        # innermost element with this text at or after the cursor, else the first one
        after = [p for p in positions if p >= self.cursor]
        pos = (after or positions)[-1 if not after else 0]
        # prefer the deepest element with identical text (a <p> over its wrapping <div>)
        while pos + 1 in set(positions):
            pos += 1
        self.cursor = pos
        return self.order[pos]


def _dom_context(el: etree._Element | None) -> tuple[str, str]:
    if el is None:
        return "", ""
    tags, hints = [], []
    node, depth = el, 0
    while node is not None and depth < _HINT_DEPTH:
        if isinstance(node.tag, str):
            tags.append(node.tag)
            for attr in ("class", "id", "role", "itemprop", "data-testid"):
                value = node.get(attr)
                if value:
                    hints.extend(t for t in _HINT_SPLIT.split(value.lower()) if 2 < len(t) < 30)
        node = node.getparent()
        depth += 1
    return ">".join(reversed(tags)), " ".join(hints)


def _links(el: etree._Element, base: str | None) -> tuple[tuple[Link, ...], int]:
    links, chars = [], 0
    for ref in el.iter("ref"):
        text = " ".join("".join(ref.itertext()).split())
        chars += len(text)
        target = ref.get("target")
        if target and not target.startswith(("javascript:", "mailto:", "#")):
            links.append(Link(text=text, url=urljoin(base, target) if base else target))
    return tuple(links), chars


def _bare(tree: HtmlElement, url: str | None, fast: bool) -> etree._Element | None:
    try:
        doc = bare_extraction(
            tree, url=url, fast=fast, favor_recall=True, include_comments=False,
            include_links=True, include_tables=True, with_metadata=False, deduplicate=False,
        )
    except ValueError:  # trafilatura's way of saying "nothing worth extracting"
        return None
    return doc.body if doc is not None else None


def _extract_body(tree: HtmlElement, url: str | None) -> etree._Element | None:
    """trafilatura's output tree: the fast pass, and the full pass with its fallback extractors
    only when the fast pass kept too little (it then missed the article on most such pages)."""
    body = _bare(tree, url, fast=True)
    kept = len(" ".join(body.itertext())) if body is not None else 0
    if kept < FALLBACK_BELOW_CHARS:
        fuller = _bare(tree, url, fast=False)
        if fuller is not None and len(" ".join(fuller.itertext())) > kept:
            return fuller
    return body


def html_to_page(html: bytes | str, url: str | None = None, max_bytes: int = 10_000_000) -> Page:
    """Run the extraction stages on one HTML document and return its blocks in reading order.

    Raises `InputError` (or `InputTooLarge`) for input that is not cleanable HTML. A page on
    which trafilatura finds no main text is not an error: it returns a `Page` without blocks
    and a note saying so.
    """
    tree = parse(decode(html, max_bytes))
    index = _SourceIndex(tree)
    meta = page_metadata(tree, url)
    page = Page(blocks=[], url=url, **meta)
    body = _extract_body(tree, url)
    if body is None:
        page.notes.append("trafilatura found no main text on this page")
        return page
    for kind, el in _iter_block_elements(body):
        text = _element_text(el)
        if not text:
            continue
        source = index.find(el, text)
        tag_path, hints = _dom_context(source)
        links, link_chars = _links(el, url)
        position = int(source.get(_ID)) / index.total if source is not None else -1.0
        page.blocks.append(Block(
            text=text, kind=kind, links=links, link_chars=link_chars,
            tag_path=tag_path, hints=hints, dom_position=position,
        ))
    if not page.blocks:
        page.notes.append("trafilatura kept no text blocks on this page")
    return page
