"""The unit the classifier labels: a block of text in reading order, and the page it came from.

A `Block` carries what the features need to know about its text and, for HTML input, about the
element it came from in the source DOM (tag path, class/id hints, links). A `Page` is the ordered
list of blocks plus the page metadata. Both flow from `filter.extract` (HTML) or
`segment_text` (plain text) into `filter.features` and the model.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

_SPACE = re.compile(r"\s+")
#: character ranges of scripts written without spaces between words: Chinese and Japanese
#: (kana, CJK ideographs), and Thai, Lao, Burmese and Khmer
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
SOUTHEAST_ASIAN_CHARS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
#: characters that only steer how a browser shows text: the soft hyphen (where a word may
#: break), zero-width spaces, word joiners and byte-order marks, the marks, embeddings and
#: isolates of bidirectional text, invisible maths operators; and the two joiners, which
#: spelling needs between letters (Persian, Indic scripts) and emoji, but pages also scatter
#: alone ("reasons:\u200d")
_INVISIBLE_CHARS = ("\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
                    "\ufeff\ufff9-\ufffb")
#: a run of them, with one space where the run stood alone: between two spaces, or between a
#: space and the start or end of a line
_INVISIBLE_RUN = re.compile(rf"(?<= )[{_INVISIBLE_CHARS}]+ |^[{_INVISIBLE_CHARS}]+ "
                            rf"| [{_INVISIBLE_CHARS}]+$|[{_INVISIBLE_CHARS}]+", re.MULTILINE)
_JOINERS = frozenset("\u200c\u200d")


def normalize_text(text: str) -> str:
    """Canonical form used to match labels to blocks: NFKC, lower case, single spaces.

    Labels attach to blocks by this form (not by position), so they survive changes of
    segmentation and of whitespace or case in the source.
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def well_formed(text: str) -> str:
    """The text with its lone surrogates (a JSON "\\ud800" escape, a file decoded with
    `surrogateescape`) made U+FFFD, and a surrogate pair written as two code points made the
    character it stands for. lxml stops reading at the first lone surrogate, silently dropping
    the rest of the page, and no UTF-8 output (a JSON line, an HTTP response) can hold one."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def has_visible_text(text: str) -> bool:
    """Whether the text shows anything: pages pad layouts with paragraphs holding only a
    zero-width joiner or a soft hyphen (Unicode format characters), which are not text."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)


def visible(text: str) -> str:
    """The text without the characters that do not show (`_INVISIBLE_CHARS`), as a result
    gives it; a joiner stays between two letters, marks or symbols, where it spells.

    Pages hold them in the middle of words ("news\u00adletter", "Assis\u00adtance"), and
    stored that way a word is not found by a search for it and two copies of one text differ.
    trafilatura's own text leaves them out (it drops every format character). WCXB-dev's human
    texts, copied from a browser, keep them where a page has them (20 pages): its word F1 then
    splits a word where ours has it whole (page 4554, 93 soft hyphens: 1.00 to 0.58), while on
    its other pages they split words the human text has whole. Lines left blank go.
    The model reads the text as it was (`Block.text`), as it was trained: this is the output's
    concern, and labels match blocks without them anyway (`train.examples.label_form`)."""
    if not _INVISIBLE_RUN.search(text):
        return text
    shown = _INVISIBLE_RUN.sub(_unless_joining, text)
    return "\n".join(line for line in shown.split("\n") if line) if "\n" in shown else shown


def _unless_joining(match: re.Match) -> str:
    """Nothing for a run of invisible characters, but a lone joiner that joins: one between two
    letters, marks or symbols (emoji)."""
    run, text, start, end = match.group(), match.string, match.start(), match.end()
    if (run in _JOINERS and 0 < start and end < len(text)
            and _joinable(text[start - 1]) and _joinable(text[end])):
        return run
    return ""


def _joinable(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LM" or category in ("So", "Sk")


def kept_text(blocks: Iterable[Block], labels: Iterable[str], keep: str) -> str:
    """The clean text of a page: its blocks labelled `keep` as a reader sees them
    (`Block.as_shown`), each on its own lines. `CleanResult.text` is this, and the benchmarks
    and `noisefilter evaluate` score this, so that they measure what a caller gets."""
    return "\n".join(block.as_shown for block, label in zip(blocks, labels) if label == keep)


def text_hash(text: str) -> str:
    """Short stable id of a block's normalised text (what committed labels refer to).

    White space is left out altogether: extractors differ in where they put spaces (between
    table cells, around inline tags), and a label must survive that.
    """
    return hashlib.sha1("".join(normalize_text(text).split()).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Link:
    """A hyperlink inside a block: its anchor text, absolute target and title. `text` is what
    the link features read, the anchor's text content, which runs words together across line
    breaks and inner blocks ("Tram line 3 opensPassengers…"): the shipped model was trained on
    it. `title` is the text as a reader sees it, words apart, what `related_links` gives (None:
    `text`; empty: the link shows no text, only a script's or style's). `label` is the name its
    `aria-label` or `title` attribute gives it, which `related_links` gives instead where the
    text names no story ("Learn more", "Read the review")."""

    text: str
    url: str
    title: str | None = None
    label: str | None = None


@dataclass
class Block:
    """One block of text with the context the classifier reads.

    `kind` is the block's role in the extracted tree (``p``, ``head``, ``item``, ``row``,
    ``quote``, ``code``, ``line`` for plain text). `tag_path` and `hints` describe the source
    element and its ancestors (empty for plain text): `hints` is the space-joined class and id
    values, where words such as "related" or "promo" give teasers away. `in_comments` marks a
    block of the page's comment section (content on a forum, noise under an article).
    `extracted` is False for a block of the article's container that trafilatura left out and
    the completion stage added (`filter.extract.complete`); `kept_distance` then says how many
    levels up from its element the nearest element holding kept text is (1: a sibling of it).
    `link_around` is the link around a block that holds none of its own (a card whose whole
    markup is one `<a>`): `related_links` lists it, while the features, as the shipped model
    was trained, see no link.

    `text` is on one line, words one space apart: what the features read and labels attach to.
    `shown` is the same words as the page shows them, when that takes more than one line (a
    `<br>` paragraph, a code listing with its indentation). The result gives `as_shown`.
    """

    text: str
    shown: str | None = None
    kind: str = "p"
    links: tuple[Link, ...] = ()
    link_chars: int = 0
    link_around: Link | None = None
    tag_path: str = ""
    hints: str = ""
    dom_position: float = -1.0
    in_comments: bool = False
    extracted: bool = True
    kept_distance: int = 0

    @property
    def key(self) -> str:
        return text_hash(self.text)

    @property
    def as_shown(self) -> str:
        """The block's text as a reader sees it: with its line breaks (`shown`), without the
        characters that do not show (`visible`)."""
        return visible(self.text if self.shown is None else self.shown)


@dataclass
class Page:
    """The blocks of one document in reading order, and its metadata."""

    blocks: list[Block]
    #: the headline (the page's title without the site's name, `filter.metadata.headline`)
    title: str | None = None
    author: str | None = None
    date: str | None = None
    language: str | None = None
    url: str | None = None
    #: what the page's relative links were resolved against: its `<base href>`, else `url`
    link_base: str | None = None
    #: the address the page gives itself (`og:url`, else `<link rel="canonical">`): a feed's
    #: redirector or a cache may serve it, and tracking parameters may follow its URL
    canonical_url: str | None = None
    #: every address the page gives itself (`og:url` and `<link rel="canonical">`s), which
    #: `related_links` leaves out as the page itself
    own_urls: tuple[str, ...] = ()
    #: the title as the page gives it ("Sea Kayaks | Harbour Outfitters"): what the topic
    #: features read, since the shipped model was trained on it (the headline measured no
    #: better there)
    full_title: str | None = None
    source: str = "html"  # "html" or "text"
    notes: list[str] = field(default_factory=list)


def segment_text(text: str) -> list[Block]:
    """Split already-extracted text into blocks: one per line that shows any text.

    Extractors (trafilatura's text output, the seed) put one paragraph, heading or teaser part
    per line, so a line is the natural block.
    """
    return [Block(text=line.strip(), kind="line") for line in text.splitlines()
            if has_visible_text(line)]
