"""From raw HTML to a `Page`: decode, parse once, let trafilatura find the article, and cut what
it keeps into blocks mapped back to their source elements.

trafilatura runs in its fast mode with its default (balanced) focus and with the comment section,
and its full mode (with readability and jusText as fallbacks) only when the fast pass keeps
little of the page. Measured on WCXB-dev with a perfect block classifier: the balanced focus
escalates to a recall retry on pages where it finds little, which the recall focus does not
(forum pages 0.75 against 0.61 word F1); comments are content on some forums and product
reviews and noise under articles, so their blocks are kept, marked `in_comments`, for the
classifier to judge (with a stricter threshold, see `filter.model`); `include_links` is left
off because it changes what trafilatura keeps (it lost whole sections on some pages), so links
are read from the source elements.
Everything trafilatura keeps becomes a block, loose text between its elements included.

trafilatura's heuristics also drop text inside the article itself: headings, list items, table
rows, paragraphs in unusual wrappers. On WCXB-dev's article pages its output misses a tenth or
more of the gold main text on one page in eight, while the page holds all of it. So a
completion stage (`complete`) adds the block elements of the article's container that
trafilatura left out, marked `extracted=False`, for the classifier to judge beside what
trafilatura kept (with a perfect classifier: article pages 0.963 -> 0.978 word F1, listings,
collections and service pages +0.07 to +0.09).
"""

from __future__ import annotations

import json
import math
import re
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.html import (HtmlComment, HtmlElement, HtmlEntity, HTMLParser,
                       HtmlProcessingInstruction, fromstring)
from trafilatura import bare_extraction
from trafilatura.utils import is_dubious_html, repair_faulty_html

from .blocks import CJK_CHARS, SOUTHEAST_ASIAN_CHARS, Block, Link, Page, has_visible_text
from .deadline import Deadline
from .decoding import decode
from .errors import InputError, InputTooLarge
from .metadata import page_metadata

#: attribute stamped on every source element so output blocks can be traced back to it
_ID = "data-nf-id"
#: trafilatura output tags that hold one block each
_BLOCK_TAGS = {"p", "head", "item", "row", "quote", "code", "cell"}
#: how many ancestors' class/id values count as hints
_HINT_DEPTH = 8
#: class/id words kept per element, and the characters of an attribute read for them (real
#: pages' longest class lists, utility-class CSS included, hold a few dozen words)
_MAX_OWN_HINTS = 200
_MAX_HINT_CHARS = 10_000
#: the characters of a link's `aria-label` or `title` read for its name (a title's length)
_MAX_LABEL = 300
#: inner tags whose start separates words (cells of a row, line breaks, nested items)
_SPACED = {"cell", "item", "p", "head", "list"}
#: white space other than a line break, in text whose lines are kept (`_element_text`)
_SPACE_RUN = re.compile(r"\s+")
#: what ends a line of a page's preformatted text
_LINE_BREAK = re.compile(r"\r\n|[\n\r]")
#: starts a line of a `<pre>` while a source element's text is read with its lines
#: (`_source_text`): such a line keeps its indentation
_PRE_LINE = "\ufdd1"  # a noncharacter: never in a page's text
#: the full trafilatura pass is tried too when the fast pass keeps less than this share of the
#: page's visible text. Measured on WCXB-dev with a perfect classifier: +0.02 word F1 on the 9%
#: of pages where it keeps 2,500+ characters; on pages where the fast pass keeps less than that
#: but over this share (a short page), the full pass lost 0.013 on average and doubled the time.
FALLBACK_BELOW_SHARE = 0.15
#: paragraph elements over which the full pass is not tried: its jusText fallback revises the
#: class of each short paragraph by walking to its neighbours, in time quadratic in a run of
#: short ones (a table row of 10,000 cells took 26 s, 20,000 over a minute and a half, all of it
#: past any time check). WCXB-dev's pages hold at most 6,119, so none of them is affected.
MAX_FALLBACK_PARAGRAPHS = 8_000
_PARAGRAPH_TAGS = frozenset({"p", "li", "td", "th", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                             "dd", "dt", "blockquote", "pre", "section", "article", "br"})
_INVISIBLE = {"script", "style", "noscript", "template"}
#: source elements that hold one block each for the completion stage; a table row is one block
#: (as in trafilatura's output), any other of these only when it holds none of the others
_LEAF_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "tr",
                          "blockquote", "pre", "figcaption", "caption", "summary"})
_LEAF_KIND = {"h1": "head", "h2": "head", "h3": "head", "h4": "head", "h5": "head", "h6": "head",
              "li": "item", "dt": "item", "dd": "item", "tr": "row", "blockquote": "quote",
              "pre": "code"}
#: subtrees the completion stage never reads: not shown, or not prose
_SKIP_SUBTREES = frozenset({"script", "style", "noscript", "template", "svg", "select", "option",
                            "textarea", "button", "iframe", "form", "head"})
#: the container is the deepest element holding this share of the text trafilatura kept
#: (measured on WCXB-dev with a perfect classifier: 0.6, 0.8 and 0.95 give article pages 0.976,
#: 0.978 and 0.976; higher shares add more noise to sort on listings)
CONTAINER_SHARE = 0.8
#: an element trafilatura's output carries over as itself is not added again when its block
#: and the parts trafilatura leaves out of it (`_left_out`) hold at least this share of
#: its characters (see `complete`)
KEPT_WHOLE_SHARE = 0.5
#: at most this many words of a kept block missing from its source element's words are looked
#: for glued to their neighbours there (`_words_within`; each a search through its text)
_GLUED_WORDS = 20
#: what trafilatura's fast pass leaves out of a paragraph it keeps (`_left_out`): the
#: subtrees the completion stage never reads, and labels, dates, form fields, ruby readings,
#: media fallback text and the other inline elements of trafilatura's `MANUALLY_CLEANED` (it
#: keeps `<meter>` text, and text under the `hidden` attribute)
_LEFT_OUT_INLINE = _SKIP_SUBTREES | {"label", "time", "input", "datalist", "output", "progress",
                                     "rt", "rp", "rtc", "video", "audio", "object", "applet",
                                     "canvas", "math", "map", "dialog", "legend", "marquee",
                                     "blink", "noindex"}
#: a part of a row or list item that trafilatura kept as a block of its own is left out of the
#: row when it is restored only if its block holds at least this many characters other than
#: white space (`_kept_within`); shorter blocks (a word in inline code) are mapped to their
#: element by their text alone, which on WCXB-dev often named another element with that word
WITHIN_MIN_CHARS = 20
#: at most this many blocks are added per page (a bound on the work a huge container can cause)
MAX_ADDED_BLOCKS = 400
#: at most this many characters of kept text are scanned per page to tell whether an element's
#: text is already kept: without a bound, a page of tens of thousands of elements makes that
#: check quadratic (a 2.7 MB page of 20,000 paragraphs took 5 s); on WCXB-dev a page scans
#: under 10 million (scanning 100 million takes about 20 ms)
MAX_SCANNED_CHARS = 100_000_000
_HINT_SPLIT = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"\w+")
#: HTML tags whose start separates words in an element's text
_SPACED_HTML = frozenset({"br", "td", "th", "div", "hr", "img"})
#: what an inline image stands for in an element's text while it is read (`_source_text`): a
#: break between words, none between two characters of a script written without spaces
#: (Chinese, Japanese, Thai), where an image inside a sentence breaks no word
_IMAGE = "\ufdd0"  # a noncharacter: never in a page's text
_IMAGE_IN_UNSPACED = re.compile(f"(?<=[{CJK_CHARS}{SOUTHEAST_ASIAN_CHARS}]){_IMAGE}+"
                                f"(?=[{CJK_CHARS}{SOUTHEAST_ASIAN_CHARS}])")
#: an element with more inline children than this (every word in its own `<span>`, as PDF
#: converters write) has them unwrapped into its text before trafilatura runs: its time grows
#: faster than quadratically with them (2,000: 0.2 s; 8,000: 3 s; 100,000: over 10 minutes).
#: The most on any WCXB-dev page is 1,521
MAX_INLINE_CHILDREN = 2000
_INLINE_TAGS = ("span", "font", "b", "strong", "i", "em", "u", "s", "small", "big", "sup", "sub",
                "mark", "abbr", "acronym", "dfn", "cite", "q", "ins", "del", "strike", "tt",
                "code", "kbd", "var", "samp", "bdi", "bdo", "time", "data", "nobr", "label",
                "wbr", "img")
#: the start of a tag, comment, doctype or processing instruction
_TAG = re.compile(r"<[A-Za-z!?/]")
#: a character reference to a character XML cannot hold (a control character other than tab
#: and line breaks, U+FFFE, U+FFFF): lxml puts it in the tree, where trafilatura then finds
#: no text at all (one "&#12;" emptied the page); raw, such characters never reach the tree
_CONTROL_REFERENCE = re.compile(
    r"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|[fF]{3}[eEfF])(?![0-9a-fA-F])"
    r"|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]|6553[45])(?!\d));?")
#: the end of a document: what follows the first `</html>` (with attributes or a slash too) is
#: dropped by libxml2, but browsers show it (a CMS appending its footer or a late article part)
_DOCUMENT_END = re.compile(r"</html(?:[\s/][^>]*)?(?:>|\Z)", re.IGNORECASE)
#: a start tag's attributes: a quote opens a value only right after `=`, as browsers read it,
#: and a `>` inside a quoted value does not end the tag
_ATTRIBUTES = r"""(?:[^>"'=]|=\s*"[^"]*(?:"|\Z)|=\s*'[^']*(?:'|\Z)|=)*+"""
#: a `</body>` or `</html>` end tag (group "end"), or markup whose text is not markup: the
#: elements libxml2 reads as raw text up to their own end tag, comments (which `<!-->` and
#: `--!>` end early) and other start tags, whose attribute values may hold "<script" or
#: "</html>". A `</html>` inside a script's string, a title or an attribute neither ends the
#: document nor is removed from it. Each alternative stops at its end or the string's, and
#: none is retried inside another: one pass, however the markup is broken.
_END_TAGS = re.compile(
    rf"<(script|style|title|textarea|xmp|iframe|noembed|noframes)(?![\w-]){_ATTRIBUTES}(?:>|\Z)"
    r".*?(?:</\1(?![\w-])[^>]*(?:>|\Z)|\Z)"
    r"|<!--(?:-?>|.*?(?:--!?>|\Z))"
    rf"|<[A-Za-z][^\s/>]*{_ATTRIBUTES}(?:>|\Z)"
    r"|(?P<end></(?:body|html)(?:[\s/][^>]*)?(?:>|\Z))",
    re.IGNORECASE | re.DOTALL)
#: markup that shows no text: scripts, styles, a title, comments, and any tag
#: (each alternative stops at its end or the string's, so one pass reads the text once)
_NOT_SHOWN = re.compile(r"<(script|style|noscript|template|title)(?![\w-]).*?(?:</\1\s*>|\Z)"
                        r"|<!--(?:-?>|.*?(?:--!?>|\Z))|<[^<>]*>", re.IGNORECASE | re.DOTALL)
_CROWDED = etree.XPath(f"//*[count(*) > {MAX_INLINE_CHILDREN}]")
#: how deep lxml reads nested elements with `huge_tree` (libxml2's limit; 256 without it)
MAX_DEPTH = 2048
#: most elements a page may hold (`_refuse_crowded`). Memory grows with them, not with the
#: page's bytes (3 to 5 KB each through the source index and trafilatura's copies of the
#: tree: 200,000 bare `<br>`s take 620 MB, as many table cells 1 GB), and 10 MB of `<br>`s, 2.4
#: million of them, took one process to 6 GB. The most crowded WCXB-dev page holds 15,793
MAX_ELEMENTS = 200_000
#: how deep a tree trafilatura is given: its loader never reads deeper (libxml2's default), and
#: its list and text-output stages recurse once or twice per level, so 500 nested lists or 1,000
#: nested headings exhaust Python's recursion limit. What lies deeper becomes plain paragraphs
#: of its text (`_flatten_deep_nesting`). The deepest WCXB-dev page nests under 64
MAX_EXTRACT_DEPTH = 256
_AT_EXTRACT_DEPTH = etree.XPath("/" + "/".join(["*"] * MAX_EXTRACT_DEPTH) + "[*]")
_PARSERS = threading.local()


def _parser() -> HTMLParser:
    """This thread's parser: trafilatura's settings, plus `huge_tree`.

    Without it libxml2 stops reading at 256 nested elements and drops the rest of the page
    without an error: 300 unclosed `<div>`s in a comment list are enough to lose every later
    comment, and the article text after them. With it the limit is `MAX_DEPTH`. One parser per
    thread, because its error log (read after each parse) is the parser's own.

    Every element is an `HtmlElement`, chosen by lxml's C code: lxml.html's own lookup, a
    Python method run for each element a tree hands out (two million times for 200 pages,
    trafilatura's passes over the copies of the tree included), only adds form-field classes
    that nothing here uses, and cost about 5% of the pipeline's time."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                                              remove_comments=True, remove_pis=True, huge_tree=True)
        parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
            element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction,
            entity=HtmlEntity))
    return parser


def _control_reference(match: re.Match) -> str:
    """A vertical tab or form feed is white space between words; the other characters, none."""
    number = match[0][2:].rstrip(";")
    code = int(number[1:], 16) if number[:1] in "xX" else int(number)
    return " " if code in (0x0B, 0x0C) else ""


def _white_space_controls(html: str) -> str:
    """The document with its raw vertical tabs and form feeds as spaces, as their references
    become (`_control_reference`): a form feed is white space in HTML, which browsers show as
    a space between the words it separates, and libxml2 drops it ("Paragraph\\x0cnumber 2" came
    out as "Paragraphnumber 2")."""
    for control in "\x0b\x0c":
        if control in html:
            html = html.replace(control, " ")
    return html


def _reopen_end(html: str) -> str:
    """The document without its closing `</body>` and `</html>` tags when text a browser shows
    follows the first `</html>`: libxml2 drops what comes after it, browsers render it as part
    of the body (a second document glued to the first too). Scripts, styles and comments after
    it (tracking code, a cache's stamp) change nothing. The plain search settles almost every
    page; only when text follows is the end looked for again outside scripts, titles, comments
    and attribute values (`_END_TAGS`)."""
    first = _DOCUMENT_END.search(html)
    if first is None or not _shown_after(html, first.end()):
        return html
    ends = (m for m in _END_TAGS.finditer(html) if m["end"])
    end = next((m for m in ends if m["end"].lower().startswith("</h")), None)
    if end is None or not _shown_after(html, end.end()):
        return html
    return _END_TAGS.sub(lambda m: "" if m["end"] else m[0], html)


def _shown_after(html: str, start: int) -> bool:
    """Whether a browser shows text after position `start` (the whole rest is read: the scan
    is linear, 10 MB take a quarter of a second)."""
    return has_visible_text(_NOT_SHOWN.sub(" ", html[start:]))


def check_html(html: str) -> None:
    """Raise `InputError` for a decoded document that is not one HTML page whatever its size:
    empty, without a tag, or a file of many pages. Examples are checked here too: the service
    stored an `html` example of plain words, which training then skipped."""
    if not html.strip():
        raise InputError("input is empty")
    if not _TAG.search(html):  # "price < 5 dollars" is not HTML either
        raise InputError("input does not look like HTML (no tags); plain text goes to "
                         "clean_text (noisefilter clean --text; to the service as text/plain "
                         "or a \"text\" field)")
    refusal = _not_one_page(html)
    if refusal:
        raise InputError(refusal)


def parse(html: str) -> HtmlElement:
    """Parse HTML once with lxml, as trafilatura's loader does (repairing common faults first),
    and refuse a page the parser could not read to its end rather than return part of it."""
    check_html(html)
    if "&#" in html:
        html = _CONTROL_REFERENCE.sub(_control_reference, html)
    html = _white_space_controls(html)
    beginning = html[:50].lower()
    html = repair_faulty_html(_reopen_end(html), beginning)
    parser = _parser()
    try:
        try:
            tree = fromstring(html, parser=parser)
        except (ValueError, etree.LxmlError):  # e.g. a str with an XML encoding declaration
            tree = None
        if tree is None or not len(tree):
            tree = fromstring(html.encode("utf-8"), parser=parser)
    except (ValueError, TypeError, etree.LxmlError) as err:
        raise InputError(f"HTML could not be parsed: {err}") from err
    for error in parser.error_log:
        if error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            why = (f"it nests elements more than {MAX_DEPTH:,} deep" if "depth" in error.message
                   else error.message.strip())
            raise InputError(f"HTML could not be read to its end ({why}): the rest of the page would be lost")
    if tree is not None and tree.tag != "html":
        # a fragment ("<p>…</p>", an article body from a CMS): lxml returns its element (or a
        # made-up container), which trafilatura would take for a failed parse; as the body of a
        # document it is the page it stands for
        tree = fromstring(f"<html><body>{html}</body></html>".encode("utf-8"), parser=parser)
    elif tree is None or (is_dubious_html(beginning) and len(tree) < 2 and not _head_only(tree)):
        raise InputError("HTML could not be parsed into a document")
    elif _head_only(tree):
        # a document of a <head> alone: a redirect stub (a meta refresh, a script that sends
        # the browser on, a "Moved" title) is a page without text, not a failed parse (it was
        # an InputError without its <html> tag, an empty result with it)
        etree.SubElement(tree, "body")
    return tree


def _refuse_crowded(tree: HtmlElement, html: str) -> None:
    """Raise `InputTooLarge` for a tree of more than `MAX_ELEMENTS` elements (counted once
    runs of inline elements are unwrapped: a PDF converter's page of a `<span>` per word
    costs little past that, 300 MB for 200,000 of them)."""
    if html.count("<") <= MAX_ELEMENTS:  # no more tags than that: no more elements either
        return
    elements = sum(1 for _ in tree.iter())
    if elements > MAX_ELEMENTS:
        raise InputTooLarge(f"HTML of {elements:,} elements, over the limit of {MAX_ELEMENTS:,}: "
                            "cleaning it would take gigabytes of memory (the most crowded real "
                            "pages hold tens of thousands)")


def _head_only(tree: HtmlElement) -> bool:
    return tree.tag == "html" and len(tree) == 1 and tree[0].tag == "head"


#: white space after a JSON value, and the reader of one (`json_kind`)
_JSON_SPACE = re.compile(r"[ \t\r\n]*")
_JSON_DECODER = json.JSONDecoder()

#: what each `json_kind` is called in a refusal
JSON_NAMES = {"array": "a JSON array", "records": "JSON Lines (records with an html or text field)",
              "object": "JSON (an object)"}


#: JSON values read before a document is taken for JSON (`json_kind`): a file of more records
#: than these with its last line cut short is still one, and a huge one is not read whole
_JSON_VALUES_READ = 8


def json_kind(doc: str) -> str | None:
    """What JSON a document is, a key of `JSON_NAMES`, or None when it is no JSON. JSON is
    what the document is when it is objects or arrays and nothing else, to its end or to the
    `_JSON_VALUES_READ`th: '{"a": 1}<p>…' is a page that starts with JSON, and "[1]\n[2] Smith,
    J. (2020) …" text that starts with a reference list. "records" are objects with an html or
    text field, the first on one line (JSON Lines)."""
    start = doc.lstrip()
    if not start.startswith(("{", "[")):
        return None
    first, end, at = None, 0, 0
    for _ in range(_JSON_VALUES_READ):
        try:
            value, after = _JSON_DECODER.raw_decode(start, at)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, (dict, list)):
            return None
        if first is None:
            first, end = value, after
        at = _JSON_SPACE.match(start, after).end()
        if at == len(start):
            break
    if isinstance(first, list):
        return "array"
    return "records" if ("html" in first or "text" in first) and "\n" not in start[:end] else "object"


def _not_one_page(html: str) -> str | None:
    """Why a document is a file of many pages, or pages wrapped in JSON, rather than one HTML
    page, or None. Read as HTML, a WARC file or JSON Lines came out as one page of every
    record's text (the WARC headers as its first line, a JSON record's escapes in it), and
    records written with an indent (``json.dump(record, indent=2)``, jq's default output) or
    as one JSON array as one page of their records, "\\u2019" escapes and all, with no error."""
    if html.lstrip().startswith(("WARC/1.", "WARC/0.")):
        return ("input is a WARC file, not one page: clean its pages with noisefilter batch "
                "(clean_many)")
    kind = json_kind(html)
    if kind is None:
        return None
    if kind == "array":
        return ("input is a JSON array, not one page: write its items one per line (jq -c '.[]') "
                "and clean them with noisefilter batch (clean_many; the service's /v1/clean/batch)")
    if kind == "records":
        return ("input is JSON Lines (records with an html or text field), not one page: clean "
                "its pages with noisefilter batch (clean_many); the service takes one record as "
                "application/json, several at /v1/clean/batch")
    return ("input is JSON (an object), not one page: give the page's HTML itself (jq -r .html "
            "for a record's html field), or records one per line (jq -c .) to noisefilter batch "
            "(clean_many; to the service as JSON)")


def _element_text(el: etree._Element, skip: frozenset = frozenset()) -> str:
    """The block's text with its line breaks, in document order: a line break (`<lb>`) starts
    a line, table cells and nested items are apart by a space, other white space is one space;
    a code block (`<code>`, trafilatura's `<pre>`) keeps its lines and indentation. Children
    tagged in `skip` (a nested list inside a list item) are left out, their tails kept.
    `_one_line` of it is the text the model reads."""
    code = el.tag == "code"
    parts = []
    walker = etree.iterwalk(el, events=("start", "end"))
    for event, node in walker:
        if event == "end":
            if node is not el and node.tail:
                parts.append(node.tail if code else _SPACE_RUN.sub(" ", node.tail))
            continue
        if node is not el and node.tag in skip and node.getparent() is el:
            walker.skip_subtree()
            continue
        if node is not el and node.tag == "lb":
            parts.append("\n")
        elif node is not el and node.tag in _SPACED:
            parts.append(" ")
        if node.text and node.tag != "lb":
            parts.append(node.text if code else _SPACE_RUN.sub(" ", node.text))
    return _lines("".join(parts), code)


def _lines(text: str, preformatted: bool = False) -> str:
    """The non-blank lines of `text`, each with its words one space apart; a preformatted line
    (all of them, or those `_PRE_LINE` starts) only stripped at its end: code keeps its
    indentation and alignment."""
    lines = []
    for line in _LINE_BREAK.split(text):
        if preformatted or line.startswith(_PRE_LINE):
            line = line.replace(_PRE_LINE, "").rstrip()
        else:
            line = _one_line(line.replace(_PRE_LINE, ""))
        if line and not line.isspace():
            lines.append(line)
    return "\n".join(lines)


def _one_line(text: str) -> str:
    """The text on one line, words one space apart: what the model reads (`Block.text`)."""
    return " ".join(text.split())


@dataclass
class _Segment:
    """One block of trafilatura's output before it is mapped to the source: its kind, the
    output element it comes from and its text. Loose text has no element of its own: `loose` then
    says whether it is the element's leading ``text`` or its ``tail``."""

    kind: str
    element: etree._Element
    text: str
    loose: str = ""
    #: the text with its line breaks (`_element_text`), when it has any (a line of code
    #: keeps its inner spacing only in a listing of several lines)
    shown: str | None = None

    @classmethod
    def of(cls, kind: str, el: etree._Element, skip: frozenset = frozenset()) -> _Segment:
        shown = _element_text(el, skip)
        text = _one_line(shown)
        return cls(kind, el, text, shown=shown if "\n" in shown else None)


def _segments(parent: etree._Element):
    """Cut trafilatura's output tree into blocks in reading order.

    Nothing of the kept text is dropped: text that trafilatura leaves loose between elements
    (after a heading, in a div) becomes a block of its own, and a list item holding a nested
    list gives its own words first, then the nested items.
    """
    if parent.text and parent.text.strip():
        yield _Segment("p", parent, " ".join(parent.text.split()), loose="text")
    for el in parent:
        tag = el.tag
        if tag == "list":
            yield from _list_segments(el)
        elif tag == "table":
            for row in el.iter("row"):
                yield _Segment.of("row", row)
        elif tag in ("div", "section") or (
                tag == "quote" and len(el) and all(c.tag in _BLOCK_TAGS | {"list"} for c in el)):
            yield from _segments(el)
        elif tag not in ("graphic", "lb"):
            yield _Segment.of(tag, el)
        if el.tail and el.tail.strip():
            yield _Segment("p", el, " ".join(el.tail.split()), loose="tail")


def _list_segments(lst: etree._Element):
    for item in lst:
        if item.tag == "item":
            nested = [c for c in item if c.tag == "list"]
            skip = frozenset({"list"}) if nested else frozenset()
            yield _Segment.of("item", item, skip)
            for sub in nested:
                yield from _list_segments(sub)
        else:
            yield _Segment.of(item.tag, item)
        if item.tail and item.tail.strip():
            yield _Segment("item", item, " ".join(item.tail.split()), loose="tail")


class _SourceIndex:
    """Finds the source element of an output block: by the stamped id when trafilatura kept the
    element's attributes, else by its text, white space aside (searching forward from the last
    match, so repeated texts map to the right occurrence); and reads an element's DOM context."""

    def __init__(self, tree: HtmlElement):
        self.tree = tree
        #: the source elements in document order; an element's stamp is its index here
        self.order: list[etree._Element] = list(tree.iter(etree.Element))
        #: the title of each card that is one link, once found (`_link_around`)
        self.card_titles: dict[etree._Element, str] = {}
        #: characters of visible text on the page (scripts and styles left out)
        self.page_chars = 0
        #: elements that make paragraphs (`MAX_FALLBACK_PARAGRAPHS`)
        self.paragraphs = 0
        for i, el in enumerate(self.order):
            el.set(_ID, str(i))
            self.paragraphs += el.tag in _PARAGRAPH_TAGS
            if el.text and el.tag not in _INVISIBLE:
                self.page_chars += len(el.text)
            if el.tail:
                self.page_chars += len(el.tail)
        self.total = max(len(self.order), 1)
        self._by_count: dict[int, list[int]] | None = None
        self._texts: dict[int, tuple[dict[str, list[int]], dict[str, list[int]]]] = {}
        self._hints: dict[etree._Element, list[str]] = {}
        self.cursor = 0

    def _candidates(self) -> dict[int, list[int]]:
        """The positions of the elements a block can be matched with by text, keyed by how many
        non-space characters their text holds.

        The counts come from one pass over the tree, children before parents; an element's text
        is then read only when a block has its count. Reading every element's text instead cost
        a pass over the page per level of wrappers around it."""
        if self._by_count is None:
            counts: dict[etree._Element, int] = {}
            for el in reversed(self.order):
                n = _solid(el.text)
                for child in el:
                    n += counts.get(child, 0) + _solid(child.tail)
                counts[el] = n
            self._by_count = {}
            for i, el in enumerate(self.order):
                # a <title> (the page's, or an SVG's tooltip) is never shown: a headline of the
                # same text maps to the heading, not to the <title> before it
                if el.tag in ("html", "body", "head", "title", "script", "style") or len(el) >= 40:
                    continue
                if counts[el]:
                    self._by_count.setdefault(counts[el], []).append(i)
        return self._by_count

    def _texts_of(self, count: int) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """The positions of the elements whose text has `count` non-space characters, in
        document order, by their text on one line and by their text without white space. The
        elements of one count are read together, once (a list of thousands of items of one
        length then costs one pass, not one per item)."""
        texts = self._texts.get(count)
        if texts is None:
            spaced: dict[str, list[int]] = {}
            solid: dict[str, list[int]] = {}
            for i in self._candidates().get(count, ()):
                words = self.order[i].text_content().split()
                spaced.setdefault(" ".join(words), []).append(i)
                solid.setdefault("".join(words), []).append(i)
            texts = self._texts[count] = (spaced, solid)
        return texts

    def all_kept(self, el: etree._Element, kept_counts: Counter) -> bool:
        """Whether trafilatura kept as many blocks of `el`'s text as the page has elements
        showing it, an element counted once with those inside it that show the same text.
        Texts are compared without white space (`kept_counts` holds the kept blocks' texts
        so): a line break or a cell adds a space to a block that the element's text lacks."""
        solid = "".join(el.text_content().split())
        same = {self.order[i] for i in self._texts_of(len(solid))[1].get(solid, ())} | {el}
        return kept_counts[solid] >= sum(1 for e in same if e.getparent() not in same)

    def context(self, el: etree._Element | None) -> tuple[str, str]:
        """The tag path of a source element and the class/id words of it and its ancestors
        (`_HINT_DEPTH` levels). Blocks share most of their ancestors, so each element's words
        are read once per page."""
        if el is None:
            return "", ""
        tags, hints = [], []
        node, depth = el, 0
        while node is not None and depth < _HINT_DEPTH:
            if isinstance(node.tag, str):
                tags.append(node.tag)
                own = self._hints.get(node)
                if own is None:
                    own = self._hints[node] = _own_hints(node)
                hints.extend(own)
            node = node.getparent()
            depth += 1
        return ">".join(reversed(tags)), " ".join(hints)

    def find(self, segment: _Segment) -> tuple[etree._Element | None, bool]:
        """The source element of a block: its own stamped id, else the element with the same
        text, else (text that only a descendant's id points to) the smallest ancestor of that
        descendant holding the whole block. Loose text maps to the element around it.

        Last, the element showing the block's text white space aside; the flag returned says
        whether the element was found before that. Only those choose the article's container
        (`complete`): a footer row or a `<br>` address matched white space aside moved the
        container to the `<body>` on some pages, and the article's restored blocks were lost."""
        el = segment.element
        if segment.loose:
            source = self._by_stamp(el)
            if source is not None and segment.loose == "tail":
                source = source.getparent()  # a tail lies in the parent of its element
            return source, True
        source = self._by_stamp(el)
        if source is not None:
            return source, True
        source = self._by_text(segment.text, as_shown=True)
        if source is not None:
            return source, True
        for node in el.iterdescendants():
            if node.get(_ID) is not None:
                source = self._by_stamp(node)
                for _ in range(4):
                    if source is None or len(source.text_content()) >= 0.9 * len(segment.text):
                        break
                    source = source.getparent()
                return source, True
        return self._by_text(segment.text, as_shown=False), False

    def _by_stamp(self, el: etree._Element) -> etree._Element | None:
        ident = el.get(_ID)
        if ident is None or not ident.isdecimal() or int(ident) >= len(self.order):
            return None
        self.cursor = int(ident)
        return self.order[self.cursor]

    def _by_text(self, text: str, as_shown: bool) -> etree._Element | None:
        """The element showing `text`: with its spaces (`as_shown`), else white space aside.
        Only the former moves the cursor: the latter is the last resort of `find`, for blocks
        whose text trafilatura joined with a space the element's own text lacks (a row's
        cells, the lines of a `<br>` paragraph: such blocks had no element, so no links, tag
        path or hints), and leaves the element every other block finds as it was."""
        spaced, solid = self._texts_of(_solid(text))
        positions = spaced.get(text) if as_shown else solid.get("".join(text.split()))
        if not positions:
            return None
        # the first element with this text at or after the cursor, else the last one before it
        # (positions are in document order: a search, not a scan, as a page may hold thousands
        # of blocks of one text)
        k = min(bisect_left(positions, self.cursor), len(positions) - 1)
        # prefer the deepest element with identical text (a <p> over its wrapping <div>)
        while k + 1 < len(positions) and positions[k + 1] == positions[k] + 1:
            k += 1
        if as_shown:
            self.cursor = positions[k]
        return self.order[positions[k]]


def _solid(text: str | None) -> int:
    """How many characters of `text` are not white space (the same before and after spaces are
    normalised, so counts of text nodes add up to the count of their joined text)."""
    return len("".join(text.split())) if text else 0


def _own_hints(el: etree._Element) -> list[str]:
    """The words of an element's class, id, role, itemprop and data-testid values, each once
    and at most `_MAX_OWN_HINTS` (the features ask which words a block has, not how often):
    every block repeats its ancestors' words, and an article inside a `<div>` of 100,000
    classes took 2.8 GB for a 1.5 MB page."""
    hints: dict[str, None] = {}
    for attr in ("class", "id", "role", "itemprop", "data-testid"):
        value = el.get(attr)
        for word in _HINT_SPLIT.split(value[:_MAX_HINT_CHARS].lower()) if value else ():
            if 2 < len(word) < 30:
                hints[word] = None
                if len(hints) == _MAX_OWN_HINTS:
                    return list(hints)
    return list(hints)


def _links(source: etree._Element | None, text: str, base: str | None,
           without: AbstractSet[etree._Element] = frozenset()) -> tuple[tuple[Link, ...], int]:
    """The links of a block, read from its source element (trafilatura's own link output
    changes what it extracts, so links come from the page, not from its output tree). The
    parts in `without` are left out: their links, and their text from a link around them.

    A link whose words the block does not show is not the block's either: the page hides it
    (trafilatura drops `display:none` elements, the element still holds them; a menu's hidden
    copy made a paragraph read as a list of links), or it lies in a part of the element that
    trafilatura left out (642 of the 35,281 links of WCXB-dev's blocks, in 39 blocks). A link
    without words (an image) stays."""
    if source is None:
        return (), 0
    links, chars = [], 0
    shown, at = "".join(text.split()), 0
    around = {up for part in without for up in part.iterancestors()} if without else ()
    for anchor in _anchors(source, without):
        inside = anchor in around
        anchor_text = (_source_text(anchor, without=without) if inside
                       else " ".join(anchor.text_content().split()))
        if inside and not anchor_text:
            continue  # all of its text is in a part: the link is the part's
        found = _shown_at(shown, anchor_text, at)
        if found < 0 and len(anchor) and not inside:
            # its text without a style or script inside the link (a price's CSS)
            anchor_text = _source_text(anchor)
            found = _shown_at(shown, anchor_text, at) if anchor_text else -1
        if found < 0:
            continue
        at = found
        # as a reader sees it: words apart at line breaks and inner blocks, without what the
        # page hides; all of its text where that is hidden (a title in an `aria-hidden` span
        # beside a screen reader's copy elsewhere)
        title = (anchor_text if inside or not len(anchor)
                 else _shown_text(anchor, _unseen(anchor)) or _source_text(anchor))
        chars += len(anchor_text)
        url = _target(anchor, base)
        if url is not None:
            label = " ".join((anchor.get("aria-label") or anchor.get("title") or "")[:_MAX_LABEL]
                             .split())
            links.append(Link(text=anchor_text, url=url, title=title, label=label or None))
    return tuple(links), min(chars, len(text))


def _shown_at(shown: str, text: str, start: int) -> int:
    """Where `text`, white space aside, ends in `shown` (a block's text without white space),
    -1 if it is not there. Looked for from `start` first, where the link before it ended: links
    come in the order of the text, so a block of thousands of links is read about once, not
    once per link (a paragraph of 20,000 links was extracted in 2.2 s searched from its start
    each time, 1.0 s so)."""
    solid = "".join(text.split())
    found = shown.find(solid, start)
    if found < 0 and start:
        found = shown.find(solid)
    return found + len(solid) if found >= 0 else -1


def _link_around(source: etree._Element | None, links: tuple[Link, ...], text: str,
                 base: str | None, titles: dict[etree._Element, str]) -> Link | None:
    """The link around a block that holds none of its own: a card whose whole markup is one
    link (`<a href><h3>title</h3><p>summary</p></a>`) gives blocks with no `<a>` in them, so
    its story never reached `related_links` (33 of the 376 hand-labelled `related` blocks of
    WCXB-dev). Its title is the card's (`_card_title`, kept in `titles` per link: every block
    of a card shares it), else the block's text."""
    if source is None or links:
        return None
    anchor = next(source.iterancestors("a"), None)
    url = _target(anchor, base) if anchor is not None else None
    if url is None:
        return None
    if anchor not in titles:
        titles[anchor] = _card_title(anchor)
    return Link(text=text, url=url, title=titles[anchor] or text)


#: a card is a link of at most this many characters other than white space (past them, the
#: link holds more than a card: an unclosed logo link holds the rest of the page); its whole
#: text is its title, without a heading, up to `CARD_TITLE_CHARS`
CARD_CHARS = 2000
CARD_TITLE_CHARS = 300


def _card_title(anchor: etree._Element) -> str:
    """The title of a card that is one link: its top heading (a card's first block is often its
    category, "Process", which titled different stories alike; a category set as a smaller
    heading than the headline loses to it), else its whole text, both as a reader sees them
    (`_shown_text`). Empty (the block's text is taken) for a link longer than a card, or
    without a heading and of more than `CARD_TITLE_CHARS`."""
    unseen = _unseen(anchor)
    if not _shown_text(anchor, unseen, CARD_CHARS):
        return ""
    headings = [(int(h.tag[1]), text) for h in anchor.iter("h1", "h2", "h3", "h4", "h5", "h6")
                if h not in unseen and not any(up in unseen for up in h.iterancestors())
                and (text := _shown_text(h, unseen))]
    if headings:
        return min(headings, key=lambda heading: heading[0])[1]
    return _shown_text(anchor, unseen, CARD_TITLE_CHARS)


def _unseen(el: etree._Element) -> set[etree._Element]:
    """The outermost elements inside `el` that a reader does not see: those the markup hides (the
    `hidden` attribute, `display:none`; not `aria-hidden`, which hides from screen readers
    only and is often on the very headline a card shows), and those the completion stage never
    reads (`_SKIP_SUBTREES`: an icon's `<svg><title>`, a button, a menu, a script)."""
    unseen = set()
    stack = list(el)
    while stack:
        node = stack.pop()
        if isinstance(node.tag, str):
            style = node.get("style") or ""
            if (node.tag in _SKIP_SUBTREES or node.get("hidden") is not None
                    or "display:none" in style.replace(" ", "").lower()):
                unseen.add(node)
            else:
                stack.extend(node)
    return unseen


def _shown_text(el: etree._Element, unseen: AbstractSet[etree._Element],
                limit: float = math.inf) -> str:
    """A link's text as a reader sees it, for its title: without what `_unseen` finds, and
    words apart before and after a nested block ("Process</div>Gutting…")."""
    return _source_text(el, limit=limit, without=unseen, blocks_apart=True)


def _target(anchor: etree._Element, base: str | None) -> str | None:
    """The absolute URL an `<a>` leads to; None for none, a script, mail, phone or a place in
    the page itself."""
    target = (anchor.get("href") or "").strip()
    if not target or target.startswith(("javascript:", "mailto:", "#", "tel:")):
        return None
    return _absolute(base, target)


def _anchors(source: etree._Element, without: AbstractSet[etree._Element]):
    """The `<a>` elements in `source` (itself included), those in `without` left out."""
    if not without:
        yield from ([source] if source.tag == "a" else source.iter("a"))
        return
    walker = etree.iterwalk(source, events=("start",))
    for _, node in walker:
        if node in without:
            walker.skip_subtree()
        elif node.tag == "a":
            yield node


def _absolute(base: str | None, target: str) -> str | None:
    """A link target resolved against the page's base URL; None for one no URL can be made of (an
    unclosed IPv6 bracket, "http://[::1", makes urljoin raise): its text still counts as link
    text, but it names no page."""
    try:  # urljoin drops tabs and line breaks, as browsers do; without a base they stayed
        return urljoin(base, target) if base else target.translate(_TAB_OR_NEWLINE)
    except ValueError:
        return None


def _bare(tree: HtmlElement, url: str | None, fast: bool) -> tuple[etree._Element | None, etree._Element | None]:
    """trafilatura's main-text and comments trees for one page (either may be None)."""
    try:
        doc = bare_extraction(
            tree, url=url, fast=fast, include_comments=True,
            include_links=False, include_tables=True, with_metadata=False, deduplicate=False,
        )
    except ValueError:  # trafilatura's way of saying "nothing worth extracting"
        return None, None
    if doc is None:
        return None, None
    comments = doc.commentsbody if doc.commentsbody is not None and len(doc.commentsbody) else None
    return doc.body, comments


def _chars(el: etree._Element | None) -> int:
    return len(" ".join(el.itertext())) if el is not None else 0


def _extract_trees(tree: HtmlElement, url: str | None, index: _SourceIndex, deadline: Deadline,
                   notes: list[str]) -> tuple[etree._Element | None, etree._Element | None]:
    """trafilatura's output trees: the fast pass, and the full pass with its fallback extractors
    only when the fast pass kept little of the page (it then missed the article on most such
    pages) and the page is not too long for them (`MAX_FALLBACK_PARAGRAPHS`, said in `notes`)."""
    body, comments = _bare(tree, url, fast=True)
    kept = _chars(body)
    if kept < FALLBACK_BELOW_SHARE * index.page_chars or not kept:
        if index.paragraphs > MAX_FALLBACK_PARAGRAPHS:
            notes.append(f"trafilatura's full pass was not tried: the page has "
                         f"{index.paragraphs:,} paragraph elements, over "
                         f"{MAX_FALLBACK_PARAGRAPHS:,} (its fallback takes minutes on such pages)")
            return body, comments
        deadline.check("trafilatura's full pass")
        fuller, fuller_comments = _bare(tree, url, fast=False)
        if _chars(fuller) > kept:
            return fuller, fuller_comments
    return body, comments


def _squash(text: str) -> str:
    """Lower-cased words joined by single spaces: the form in which texts are compared."""
    return " ".join(_WORD.findall(text.lower()))


def _hidden(el: etree._Element) -> bool:
    """Whether the markup itself hides the element (stylesheets are not read)."""
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    return bool(style) and "display:none" in style.replace(" ", "").lower()


def _source_text(el: etree._Element, limit: float = math.inf,
                 without: AbstractSet[etree._Element] = frozenset(),
                 blocks_apart: bool = False, lines: bool = False) -> str:
    """The visible text of a source element on one line, in document order: line breaks, cells
    and nested blocks separate words; comments, scripts and styles are left out, and so are the
    elements in `without` (their tails kept). Empty when it would hold more than `limit`
    characters other than white space (read only that far: the indentation of pretty-printed
    HTML does not count). With `blocks_apart`, the text after a nested block is apart from it
    too ("Gutting a bathroom</p>5 min read"); block texts are read without it, as the shipped
    model was trained on them. With `lines`, the text keeps its line breaks as `_element_text`
    does: a `<br>` starts a line, and a `<pre>` keeps its lines and indentation."""
    # how many `<pre>`s the text being read is in, when it is read with its lines
    pre = int(lines and _inside_pre(el))

    def shown(text: str) -> str:
        if not lines:
            return text
        if pre:  # each of its lines marked to keep its indentation (`_lines`)
            return _PRE_LINE + _LINE_BREAK.sub("\n" + _PRE_LINE, text)
        return _SPACE_RUN.sub(" ", text)

    parts, size = [], 0
    walker = etree.iterwalk(el, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        if event != "start":  # an element's end, or a comment or processing instruction
            if (blocks_apart and event == "end" and node is not el
                    and node.tag in _LEAF_BLOCKS | {"div", "td", "th"}):
                parts.append(" ")
            if lines and event == "end" and node.tag == "pre" and node not in without:
                pre -= 1
                parts.append("\n")
            if node is not el and node.tail:
                parts.append(shown(node.tail))
                size += _solid(node.tail)
        else:
            if node is not el and node.tag == "img":
                parts.append(_IMAGE)
            elif node is not el and lines and node.tag == "br":
                parts.append("\n")
            elif node is not el and (node.tag in _SPACED_HTML or node.tag in _LEAF_BLOCKS):
                parts.append(" ")
            if node in without:
                parts.append(" ")  # the words on either side are not one word
                walker.skip_subtree()
                continue
            if lines and node.tag == "pre":
                pre += 1
                parts.append("\n")
            if node.text and node.tag not in _INVISIBLE:
                parts.append(shown(node.text))
                size += _solid(node.text)
        if size > limit:
            return ""
    text = "".join(parts)
    if _IMAGE in text:
        text = _IMAGE_IN_UNSPACED.sub("", text).replace(_IMAGE, " ")
    return _lines(text) if lines else _one_line(text)


def _source_lines(el: etree._Element | None, text: str,
                  without: AbstractSet[etree._Element] = frozenset()) -> str | None:
    """A block's text with the line breaks of its source element (`_source_text`), when it
    has any and holds the block's words exactly: else None (the block shows `text`)."""
    if el is None or (next(el.iter("br", "pre"), None) is None and not _inside_pre(el)):
        return None
    shown = _source_text(el, without=without, lines=True)
    return shown if "\n" in shown and _one_line(shown) == text else None


def _inside_pre(el: etree._Element) -> bool:
    return any(a.tag == "pre" for a in el.iterancestors())


def _spaced(text: str, source: etree._Element | None) -> str:
    """The block's text with the word breaks its source element shows: trafilatura drops the
    break an inline image or a line break makes between two words ("climb<img>Next" comes out
    as "climbNext"). The source's text is taken only when it holds the very same characters
    with more breaks between them, so no word is added, dropped or moved."""
    if source is None or len(source) == 0:
        return text  # no child element: nothing that can have broken a word
    shown = _source_text(source, limit=_solid(text))  # a container's text is not read whole
    if len(shown) <= len(text) or shown.replace(" ", "") != text.replace(" ", ""):
        return text
    return shown


def _held(kept: list[tuple[etree._Element, int]]) -> dict[etree._Element, int]:
    """Every source element holding text trafilatura kept (given as source element and length),
    with the characters it holds."""
    held: dict[etree._Element, int] = {}
    for source, n in kept:
        for el in (source, *source.iterancestors()):
            held[el] = held.get(el, 0) + n
    return held


def _container(held: dict[etree._Element, int], total: int) -> etree._Element | None:
    """The deepest element holding `CONTAINER_SHARE` of the `total` characters trafilatura kept:
    the article's own container."""
    deepest, depth = None, -1
    for el, n in held.items():
        if n >= CONTAINER_SHARE * total:
            d = sum(1 for _ in el.iterancestors())
            if d > depth:
                deepest, depth = el, d
    return deepest


def _leaf_blocks(container: etree._Element):
    """The container's block elements in document order (`_LEAF_BLOCKS`), hidden and non-prose
    subtrees skipped. Iterative, so that pathologically deep nesting cannot exhaust the stack."""
    holders = set()
    for el in container.iter(*_LEAF_BLOCKS):
        for up in el.iterancestors():
            if up in holders:
                break
            holders.add(up)
            if up is container:
                break
    stack = [container]
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or el.tag in _SKIP_SUBTREES or _hidden(el):
            continue
        if el.tag in _LEAF_BLOCKS and (el.tag == "tr" or el not in holders):
            yield el
            continue
        stack.extend(reversed(el))


def _left_out(el: etree._Element) -> list[etree._Element]:
    """The outermost elements inside `el` whose text trafilatura leaves out of a paragraph it
    keeps: `_LEFT_OUT_INLINE` elements and those hidden by their style or `aria-hidden`."""
    found = []
    stack = list(el)
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str):
            continue
        if node.tag in _LEFT_OUT_INLINE or (_hidden(node) and node.get("hidden") is None):
            found.append(node)
        else:
            stack.extend(node)
    return found


def _words_within(text: str, source_text: str) -> bool:
    """Whether every word of a kept block is in its source element: trafilatura moves the text
    after an element it emptied into it, and such a block is not that element's. A word the
    source glues to the next ("toMorag", where trafilatura's text has a space) counts as in
    it; past `_GLUED_WORDS` such words the block is taken for another element's."""
    source = _squash(source_text)
    missing = set(_squash(text).split()) - set(source.split())
    if len(missing) > _GLUED_WORDS:
        return False
    solid = source.replace(" ", "")
    return all(word in solid for word in missing)


def _carried_whole(el: etree._Element, text: str, block: str | None) -> bool:
    """Whether trafilatura kept the element `el` (whose text is `text`) as the block `block`:
    see `complete`. The block's words are looked for in the element's text with and without
    what trafilatura leaves out: in Chinese or Japanese a clause is one "word" (no spaces), so a
    date or a reading left out of its middle made the paragraph's one word missing from the
    element, and the paragraph came out twice."""
    if block is None:
        return False
    left_out = _left_out(el)
    if _solid(block) + sum(_solid(_source_text(node)) for node in left_out) < (
            KEPT_WHOLE_SHARE * _solid(text)):
        return False
    return _words_within(block, text) or bool(left_out) and _words_within(
        block, _source_text(el, without=frozenset(left_out)))


def _kept_within(el: etree._Element, own: dict[etree._Element, list[str]], index: _SourceIndex,
                 kept_counts: Counter) -> set[etree._Element]:
    """The outermost elements inside `el` that trafilatura kept whole as a block of their own,
    of at least `WITHIN_MIN_CHARS`: whose text is that of one of the blocks mapped to them
    (`own`), and each of whose copies on the page is a kept block (`_SourceIndex.all_kept`),
    since a block is mapped to the first element showing its text (a quoted post and the post
    itself both map to the quote; a title kept as the heading maps to the same title in a list
    item before it). Not an element that is the source only of the loose text after a child, nor
    one of which trafilatura kept a sliver. An element's text is read at most to twice its
    longest block, so nested sources cost no more than their blocks."""
    within = set()
    walker = etree.iterwalk(el, events=("start",))
    for _, node in walker:
        blocks = own.get(node) if node is not el else None
        longest = max(map(_solid, blocks)) if blocks else 0
        if longest < WITHIN_MIN_CHARS:
            continue
        text = _squash(_source_text(node, limit=2 * longest))
        if (text and any(text == _squash(block) for block in blocks)
                and index.all_kept(node, kept_counts)):
            within.add(node)
            walker.skip_subtree()
    return within


class _KeptText:
    """The text of the blocks trafilatura kept (in `_squash` form), for telling whether an
    element's text is already there, whole or within or across blocks; at most
    `MAX_SCANNED_CHARS` are scanned a page."""

    def __init__(self, kept_texts: list[str]):
        #: most elements trafilatura kept are one block each: found without a scan
        self.blocks = set(kept_texts)
        self.joined = f" {' '.join(kept_texts)} "
        self.budget = MAX_SCANNED_CHARS

    @property
    def exhausted(self) -> bool:
        return self.budget < 0

    def holds(self, squashed: str) -> bool:
        if squashed in self.blocks:
            return True
        found = self.joined.find(f" {squashed} ")
        self.budget -= found + len(squashed) if found >= 0 else len(self.joined)
        return found >= 0


def _distance(el: etree._Element, held: dict[etree._Element, int]) -> int:
    """How many levels up from `el` the nearest element holding kept text is (1: `el` is a
    sibling of kept text; more: it sits in a box of its own, as calls to action do)."""
    for steps, up in enumerate(el.iterancestors(), 1):
        if up in held:
            return steps
    return 0


def complete(index: _SourceIndex, kept: list[tuple[etree._Element, int]], kept_texts: list[str],
             base: str | None, carried: dict[etree._Element, str],
             own: dict[etree._Element, list[str]]) -> list[tuple[int, Block]]:
    """The block elements of the article's container that trafilatura left out, as blocks
    marked `extracted=False` with their document positions.

    `kept` holds the source elements of trafilatura's body blocks with their text lengths,
    `kept_texts` the text of every block it kept (body and comments): an element whose text is
    already there, whole or within or across blocks, is not added again. `carried` holds the
    elements trafilatura's output carries over as themselves (their stamp came through) with the
    text of their block. Such an element is not added again when the block holds none but its
    words (`_words_within`) and, with its buttons, menus, hidden parts, labels and dates
    (`_left_out`: what trafilatura drops from a paragraph it keeps), at least
    `KEPT_WHOLE_SHARE` of its text: otherwise the paragraph, not found among the kept blocks,
    would come out twice, the dropped words with it. trafilatura also drops parts by their class
    (citation marks in a "footers" span, a "share" span) and is trusted with that; where it left
    out more (a paragraph of captions of which it kept one letter), the element is still added.
    `own` holds every element a block (other than loose text) was mapped to, with the texts of
    its blocks: of a row or list item of which trafilatura kept a cell or paragraph whole as a
    block of its own (`_kept_within`), the rest is added, without that part, even where the kept
    text holds the rest's words. Loose text trafilatura kept from inside such a row, a part it
    kept without a word it drops or split into several blocks, a part whose text the page shows
    more often than trafilatura kept it, parts kept in the comment section and parts under
    `WITHIN_MIN_CHARS` still come out twice (better than lost). Pages whose container is the
    whole body are left as trafilatura gave them (the container then says nothing about where
    the article is).
    """
    held = _held(kept)
    container = _container(held, sum(n for _, n in kept)) if kept else None
    if container is None or container.tag in ("html", "body"):
        return []
    kept_text = _KeptText([_squash(t) for t in kept_texts])
    kept_counts = Counter("".join(t.split()) for t in kept_texts)
    added = []
    for el in _leaf_blocks(container):
        text = _source_text(el)
        squashed = _squash(text)
        if (not squashed or squashed in kept_text.blocks or not has_visible_text(text)
                or _carried_whole(el, text, carried.get(el))):
            continue
        if kept_text.exhausted:
            break
        if kept_text.holds(squashed):
            continue
        within = _kept_within(el, own, index, kept_counts) if el in held else frozenset()
        if within:  # a row or item of which trafilatura kept a cell or paragraph on its own
            text = _source_text(el, without=within)
            # the rest is often a word or two ("Yes", a name): that the kept text holds those
            # words elsewhere, even as a block, does not say this copy was kept
            if not _squash(text) or not has_visible_text(text):
                continue
        tag_path, hints = index.context(el)
        links, link_chars = _links(el, text, base, within)
        position = int(el.get(_ID))
        added.append((position, Block(
            text=text, shown=_source_lines(el, text, within), kind=_LEAF_KIND.get(el.tag, "p"),
            links=links, link_chars=link_chars,
            link_around=_link_around(el, links, text, base, index.card_titles),
            tag_path=tag_path, hints=hints, dom_position=position / index.total, extracted=False,
            kept_distance=_distance(el, held),
        )))
        if len(added) >= MAX_ADDED_BLOCKS:
            break
    return added


def _merge(kept: list[tuple[int, Block]], added: list[tuple[int, Block]]) -> list[Block]:
    """trafilatura's blocks in its order, each added block placed before the first of them
    that comes later in the document."""
    out: list[Block] = []
    k = 0
    for position, block in kept:
        while k < len(added) and added[k][0] < position:
            out.append(added[k][1])
            k += 1
        out.append(block)
    out.extend(block for _, block in added[k:])
    return out


def _unwrap_inline_runs(tree: HtmlElement) -> None:
    """Unwrap the inline elements of any element that holds more than `MAX_INLINE_CHILDREN` of
    them, keeping their text: a page that is one run of tens of thousands of `<span>`s would
    otherwise keep trafilatura busy for minutes. Links and line breaks stay; an element of links
    and line breaks holding more than that many links (a paragraph of 20,000 took 68 s) is split
    into siblings of its own tag that hold at most that many children each, every word and link
    kept."""
    for el in _CROWDED(tree):
        if sum(1 for child in el if child.tag in _INLINE_TAGS) > MAX_INLINE_CHILDREN:
            _unwrap_inline_children(el)
        # many lines alone are no reason: split into many paragraphs they cost trafilatura more
        # (its `//p//text()` over them grew quadratically: 128,000 lines took 34 s, whole 7 s)
        links = sum(1 for child in el if child.tag == "a")
        if (el.getparent() is not None and links > MAX_INLINE_CHILDREN
                and all(child.tag in ("a", "br") for child in el)):
            _split_children(el)


def _unwrap_inline_children(el: etree._Element) -> None:
    """Replace the inline elements in `el` by their text. The text of each run between the
    children kept is joined here and set once: `etree.strip_tags` alone leaves thousands of
    adjacent text nodes, which keep trafilatura as slow as the elements did, and reading the
    text back over them to merge them is quadratic in lxml (256,000 spans: 33 s)."""
    runs, kept, text = [], [], [el.text or ""]
    for child in el:
        if child.tag in _INLINE_TAGS and all(d.tag in _INLINE_TAGS for d in child.iterdescendants()):
            text += ["".join(child.itertext()), child.tail or ""]
        else:  # a link, a line break, a block or comment inside an inline element: kept
            runs.append("".join(text))
            text = [child.tail or ""]
            kept.append(child)
    runs.append("".join(text))
    el[:] = kept
    el.text = runs[0]
    for child, tail in zip(kept, runs[1:]):
        child.tail = tail
    # inline elements left (a link's <b>, a <span> around a block): stripped, and the few text
    # nodes that leaves next to each other merged
    etree.strip_tags(el, *_INLINE_TAGS)
    el.text = el.text
    for child in el:
        child.tail = child.tail


def _split_children(el: etree._Element) -> None:
    """Move all but the first `MAX_INLINE_CHILDREN` children of `el` into new siblings of its
    tag and attributes, in order; the text after `el` follows the last of them."""
    children, tail, last = list(el), el.tail, el
    el.tail = None
    for start in range(MAX_INLINE_CHILDREN, len(children), MAX_INLINE_CHILDREN):
        part = el.makeelement(el.tag, dict(el.attrib))
        part.extend(children[start:start + MAX_INLINE_CHILDREN])
        last.addnext(part)
        last = part
    last.tail = tail


def _flatten_deep_nesting(tree: HtmlElement) -> None:
    """Replace what lies below `MAX_EXTRACT_DEPTH` by paragraphs of its text, one per run of
    text between block boundaries (any element but an inline one or a link), every word kept:
    unclosed `<ul><li>` or `<h2>` tags repeated a few hundred times would otherwise make
    trafilatura raise `RecursionError`, and the page is still read to its end (to `MAX_DEPTH`)."""
    for el in _AT_EXTRACT_DEPTH(tree):
        runs, run = [], []
        for event, node in etree.iterwalk(el, events=("start", "end")):
            if node is el:
                continue
            if node.tag not in _INLINE_TAGS and node.tag != "a":
                runs.append("".join(run))
                run = []
            if event == "start" and node.text:
                run.append(node.text)
            elif event == "end" and node.tail:
                run.append(node.tail)
        runs.append("".join(run))
        for child in list(el):
            el.remove(child)
        for text in runs:
            if text.strip():
                etree.SubElement(el, "p").text = " ".join(text.split())


def _link_base(tree: HtmlElement, url: str | None) -> str | None:
    """What the page's relative links are relative to: its `<base href>` resolved against its
    URL, as browsers do, else its URL. Forum software sets a base (the forum's root) and writes
    links relative to it ("threads/..."): resolved against the page's own URL they named pages
    that do not exist."""
    base = tree.find(".//base[@href]")
    href = (base.get("href") or "").strip() if base is not None else ""
    resolved = _absolute(url, href) if href else None
    return resolved if resolved and "://" in resolved else url


#: what a host name (or user info, or port) never holds
_BAD_HOST_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")
#: what browsers strip from both ends of a URL before reading it (WHATWG: C0 controls, space)
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
#: what browsers (WHATWG URL) take out of a URL wherever it is: a link wrapped over lines in
#: the page's source, or a URL read from a cell of a CSV file
_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")
#: the part of a URL before its query or fragment, where browsers read "\\" as "/" in http(s)
#: addresses (WHATWG URL)
BEFORE_QUERY = re.compile(r"[^?#]*")


def check_url(url: str) -> str:
    """Refuse a page URL that links cannot be resolved against (a page was never fetched from
    it): a malformed one, or one that is not absolute ("/news/1", "not a url", "javascript:…"),
    against which the related links would stay relative; or one whose host or port no request
    could have used (a space or control character in the host, port 99999). Spaces in the path
    are let through: pages link to such URLs and browsers fetch them. An empty string means no
    URL.

    Returns the URL as browsers read it (WHATWG URL): without the spaces and control
    characters around it and the tabs and line breaks in it, so that a URL read from a CSV
    cell or a query string with a stray "%20" is still the page's own and its links to itself
    are not listed as related; and, in an http(s) URL, with a backslash before the query as a
    slash ("https://example.com\\news\\1" is example.com's /news/1, not a host
    "example.com\\news\\1" every relative link was resolved against)."""
    if not isinstance(url, str):
        raise InputError(f"url must be a str, got {type(url).__name__}")
    url = url.strip(_C0_OR_SPACE).translate(_TAB_OR_NEWLINE)
    try:
        if urlsplit(url).scheme.lower() in ("http", "https"):
            head = BEFORE_QUERY.match(url).group()
            url = head.replace("\\", "/") + url[len(head):]
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError as err:
        raise InputError(f"url {url[:200]!r} is not a valid URL: {err}") from None
    if url and parts.scheme.lower() == "file" and not parts.netloc:
        raise InputError(f"url {url[:200]!r} names a saved file, not the page's address: its "
                         "links would resolve to files; clean it without a url (noisefilter "
                         "batch and clean_many do so, keeping the url in the output)")
    if url and not (parts.scheme and parts.netloc):
        raise InputError(f"url {url[:200]!r} is not an absolute URL (scheme://host/...): the "
                         "page's links cannot be resolved against it")
    if _BAD_HOST_CHAR.search(parts.netloc) or "\x00" in url:
        raise InputError(f"url {url[:200]!r} is not a valid URL: a space or control character "
                         "in its host, or a NUL")
    return url


def is_page_url(url: str) -> bool:
    """Whether a page is cleaned with `url` as its URL, for its links to be resolved against:
    not when the cleaner refuses it (`check_url`: a WARC of local files names them by urn:
    URIs, a crawler may record a port out of range), nor for a saved copy's file: URL (a
    spider over saved pages, a WARC of local files), whose links would resolve to files; with
    a host (``file://localhost/…``, ``file://nas/…``) the cleaner takes it, and every related
    link was lost."""
    try:
        return urlsplit(check_url(url)).scheme.lower() != "file"
    except InputError:
        return False


def html_to_page(html: bytes | str, url: str | None = None, max_bytes: int = 10_000_000,
                 deadline: Deadline | None = None, charset: str | None = None) -> Page:
    """Run the extraction stages on one HTML document (bytes read in `charset` when an HTTP
    header named one, `decode`) and return its blocks in reading order.

    Raises `InputError` (or `InputTooLarge`) for input that is not cleanable HTML. A page on
    which trafilatura finds no main text is not an error: it returns a `Page` without blocks
    and a note saying so. With a `deadline`, raises `ExtractionTimeout` between stages once it
    has passed.
    """
    deadline = deadline or Deadline(math.inf)
    if url is not None:
        url = check_url(url)
    url = url or None  # an empty URL is no URL, and the result says so
    text = decode(html, max_bytes, url, charset)
    tree = parse(text)
    _unwrap_inline_runs(tree)
    _refuse_crowded(tree, text)
    _flatten_deep_nesting(tree)
    # htmldate's search, like lxml's parser, takes time in the square of one element's
    # attributes: a page whose parsing ran out of time went on to spend 35 s more there
    deadline.check("the page's metadata")
    base = _link_base(tree, url)
    index = _SourceIndex(tree)
    meta = page_metadata(tree, url, text, base)
    page = Page(blocks=[], url=url, link_base=base, **meta)
    deadline.check("trafilatura")
    body, comments = _extract_trees(tree, url, index, deadline, page.notes)
    if body is None:
        page.notes.append("trafilatura found no main text on this page")
        return page
    in_body: set[str] = set()
    kept: list[tuple[int, Block]] = []
    in_thread: list[Block] = []
    sources: list[tuple[etree._Element, int]] = []
    carried: dict[etree._Element, str] = {}
    own: dict[etree._Element, list[str]] = {}
    position = -1
    for root, in_comments in ((body, False), (comments, True)):
        if root is None:
            continue
        for segment in _segments(root):
            if not has_visible_text(segment.text) or (in_comments and segment.text in in_body):
                continue  # a fallback extractor can put comments into the body as well
            source, as_shown = index.find(segment)
            text = segment.text if segment.loose else _spaced(segment.text, source)
            # a block trafilatura gave on one line may show lines in its element: a `<pre>` it
            # made a `<quote>` (a mail quoted in a post) lost its lines and indentation
            shown = segment.shown if text == segment.text else None
            if shown is None and not segment.loose:
                shown = _source_lines(source, text)
            tag_path, hints = index.context(source)
            links, link_chars = _links(source, text, base) if not segment.loose else ((), 0)
            block = Block(
                text=text, shown=shown, kind=segment.kind, links=links, link_chars=link_chars,
                link_around=None if segment.loose else _link_around(source, links, text, base,
                                                                    index.card_titles),
                tag_path=tag_path, hints=hints, in_comments=in_comments,
                dom_position=int(source.get(_ID)) / index.total if source is not None else -1.0,
            )
            if in_comments:
                in_thread.append(block)
                continue
            in_body.add(segment.text)
            if source is not None:
                position = max(position, int(source.get(_ID)))
                if as_shown:
                    sources.append((source, len(text)))
                if not segment.loose:
                    own.setdefault(source, []).append(text)
                    if source.get(_ID) == segment.element.get(_ID):
                        carried[source] = f"{carried[source]} {text}" if source in carried else text
            kept.append((position, block))
    deadline.check("the completion stage")
    kept_texts = [b.text for b in (*(b for _, b in kept), *in_thread)]
    page.blocks = _merge(kept, complete(index, sources, kept_texts, base, carried, own)) + in_thread
    if not page.blocks:
        page.notes.append("trafilatura kept no text blocks on this page")
    return page
