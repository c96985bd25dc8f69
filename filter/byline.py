"""The page's byline: who wrote it, read from the page itself when its meta tags and JSON-LD
name no one (`filter.metadata` reads those first).

trafilatura's `extract_author` searches the same places (an element whose class, id, `rel` or
`itemprop` says "author" or "byline"), but on a copy of the whole tree pruned of comments,
with XPath regular expressions that call back into Python: about 30 ms a page, a third of the
pipeline. Here one XPath over the attributes finds the candidates and the rest is read in
Python: about 2 ms a page. The text around a name is cut away ("By", "Written by:", the
date, "Last updated", the writer's job after a comma), and what is left must look like a
name — up to four capitalised words, no digits, no word of a menu ("Sign In", "View more
posts") — since a wrong author is worse than none for a corpus that keeps it. A one-word name
("Harbourfan") is taken only when every candidate of its kind on the page names the same
one: a forum thread names each poster so, and its first is not the thread's author often
enough.
"""

from __future__ import annotations

import re

from lxml.etree import XPath
from lxml.html import HtmlElement

#: attributes that may mark a byline ("author", "Author", "byline", "Byline"), found in one
#: pass; which attribute it is and what it says is read in Python
_MARKED = XPath("//@*[contains(., 'uthor') or contains(., 'yline')]")
_MARKING_ATTRIBUTES = frozenset({"class", "id", "rel", "itemprop", "data-component", "data-testid"})
_AUTHOR_OR_BYLINE = re.compile(r"author(?!i[tz]|ing)|byline", re.IGNORECASE)  # no "Authorized"
#: the most specific marks, read before the others (as trafilatura's first expression)
_NAME_CLASS = re.compile(r"author[-_]{0,2}name|AuthorName|authorName")
_SPECIFIC_TESTIDS = frozenset({"AuthorCard", "AuthorURL"})
#: elements whose text is no byline even when marked (a WordPress author archive marks <body>)
_NOT_TEXT = frozenset({"html", "head", "body", "meta", "link", "img", "script", "style", "svg",
                       "noscript", "input", "button", "select", "textarea", "form", "template"})
#: what trafilatura leaves out of its byline search: comments, sidebars, quotes, dates, figures
_DISCARD_CLASS = re.compile(r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|"
                            r"embedly-instagram|article-(?:share|support)|print|category|"
                            r"meta-date|meta-reviewer")
_DISCARD_ID = re.compile(r"^comments|comment-?list|ProductReviews")
_MAX_CANDIDATES = 50  # a forum thread marks every post's poster
#: a byline is short: a longer marked element (an author's archive, a bio box) is read no
#: further, so a page of nested marked containers costs no more than a small one
_MAX_BYLINE_CHARS = 300

_LEAD = re.compile(r"^(?:(?:written|posted|published|recipe|article|reviewed|reported|edited|"
                   r"photos?|story|words|text|view all posts|more from)\s+)?by\b[:\s]*"
                   r"|^authors?\b[:\s]*|^(?:von|par|por|door|av|af)\s+", re.IGNORECASE)
_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
#: where a byline's name ends: a date, a separator, "Updated", a reviewer
_AFTER_NAME = re.compile(rf"\s*(?:[|•·(\[–—/]|\s-\s|\d|\b(?:{_MONTHS})\.?\s+\d|"
                         r"\b(?:last\s+)?updated\b|\bpublished\b|\bposted\b|\bon\b|\bat\b|"
                         r"\breviewed\b|\bfact[- ]checked\b).*", re.IGNORECASE | re.DOTALL)
#: between two names ("Ann Lee and Bo Kim", "Ann Lee, MD")
_BETWEEN_NAMES = re.compile(r"\s*(?:[,;&]|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)
_PARTICLES = frozenset({"de", "van", "von", "der", "den", "da", "di", "du", "la", "le", "del",
                        "bin", "al", "dos", "das", "ten", "ter"})
_NOT_NAME_WORDS = frozenset({
    "author", "authors", "by", "written", "name", "user", "sign", "in", "view", "more", "posts",
    "the", "team", "editor", "writer", "reporter", "staff", "contributor", "member",
    "moderator", "admin", "administrator", "webmaster", "guest", "read", "about", "all",
    "profile", "follow", "share", "comments", "comment", "home", "blog", "news", "login", "log",
    "subscribe", "contact", "us", "get", "our", "your", "my", "this", "page", "website", "site",
    "unknown", "anonymous", "undefined", "null", "none", "from", "post", "reply", "online",
    "offline", "joined"})
#: words of a writer's job, which a second "name" after a comma holding one is not
_JOB_WORDS = frozenset({
    "editor", "writer", "reporter", "correspondent", "columnist", "producer", "director",
    "manager", "photographer", "journalist", "analyst", "founder", "ceo", "intern",
    "professor", "researcher", "designer", "developer", "engineer", "consultant", "officer",
    "president", "chef", "nutritionist", "dietitian", "strategist", "specialist"})
_WORD = re.compile(r"[^\W\d_][\w.'’-]*")
_ADDRESS = re.compile(r"[a-z]{2,}\.[a-z]{2,}")  # "HarbourGazette.com"; "J.R.R." is a name


def byline_author(tree: HtmlElement) -> str | None:
    """The author named by the page's byline ("; " between several), or None."""
    specific: list[HtmlElement] = []
    other: list[HtmlElement] = []
    for value in _MARKED(tree):
        element = value.getparent()
        if (value.attrname not in _MARKING_ATTRIBUTES or not isinstance(element.tag, str)
                or element.tag in _NOT_TEXT or not _AUTHOR_OR_BYLINE.search(value)):
            continue
        kind = specific if _is_specific(value.attrname, value) else other
        if len(kind) < _MAX_CANDIDATES and element not in kind:
            kind.append(element)
    for candidates in (specific, other):
        names = [name for element in candidates if not _discarded(element)
                 for name in (_name_in(element),) if name]
        if names:
            first = names[0]
            return first if " " in first or len(set(names)) == 1 else None
    return None


def _is_specific(attribute: str, value: str) -> bool:
    if attribute in ("rel", "itemprop"):  # rel="author noopener"
        return "author" in value.split()
    if attribute in ("id", "class") and value == "author":
        return True
    if attribute == "data-testid":
        return value in _SPECIFIC_TESTIDS
    return attribute == "class" and bool(_NAME_CLASS.search(value))


def _discarded(element: HtmlElement) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in ("time", "figure"):
            return True
        if node.tag in ("a", "div", "section", "span"):
            classes, ident = node.get("class") or "", node.get("id") or ""
            if (ident == "comments" or classes in ("comments", "title", "date")
                    or _DISCARD_CLASS.search(classes) or _DISCARD_ID.search(ident)
                    or "Figure" in (node.get("data-component") or "")):
                return True
    return False


def _name_in(element: HtmlElement) -> str | None:
    """The name a byline element gives: its own name part or link first (the element also
    holds "By", the date, an avatar's alt text), then its first two pieces of text (the
    writer's job in an element of its own: "Ann Lee", "Senior Reporter"), else its whole
    text."""
    pieces = _short_text(element)
    if pieces is None:
        return None
    inner = element.xpath(".//*[@itemprop='name'] | .//a")[:3]
    for node in inner:
        name = names_in(" ".join(node.itertext()))
        if name:
            return name
    for piece in [piece for piece in pieces if piece.strip()][:2]:
        name = names_in(piece)
        if name:
            return name
    return names_in(" ".join(pieces))


def _short_text(element: HtmlElement) -> list[str] | None:
    """The element's pieces of text, or None when they are longer than a byline's (read no
    further)."""
    pieces, size = [], 0
    for text in element.itertext():
        size += len(text)
        if size > _MAX_BYLINE_CHARS:
            return None
        pieces.append(text)
    return pieces


def names_in(text: str) -> str | None:
    """The names a byline's text gives ("By Ann Lee and Bo Kim | May 3, 2025" gives "Ann Lee;
    Bo Kim"), or None when what is left of it is no name."""
    text = " ".join(text.split())
    for _ in range(2):  # "Written by: Author: Ann Lee"
        text = _LEAD.sub("", text).strip()
    text = _AFTER_NAME.sub("", text).strip(" .:-")
    names: list[str] = []
    for part in _BETWEEN_NAMES.split(text):
        words = part.split()
        # "Ann Lee, MD": MD is no name; "Ann Lee, Wine Director": nor is a job
        if not _is_name(words) or names and (len(words) < 2 or _JOB_WORDS.intersection(
                word.lower() for word in words)):
            break
        names.append(part)
    return "; ".join(names) or None


def _is_name(words: list[str]) -> bool:
    if not 1 <= len(words) <= 4 or len(words) == 1 and (
            len(words[0]) < 3 or re.fullmatch(_MONTHS, words[0], re.IGNORECASE)):
        return False
    return all(_WORD.fullmatch(word) and not _ADDRESS.search(word)
               and word.lower() not in _NOT_NAME_WORDS
               and (word[0].isupper() or word.lower() in _PARTICLES) for word in words)
