"""Per-block features: what the classifier reads about each block and its page.

`page_features(page)` turns one `Page` into a float matrix, one row per block. Columns come in
groups, each computed by a small named function:

- text shape: length, words, punctuation, case, digits;
- repetition: how much a block repeats itself (the "bit of a bit of a bit" loop), and whether the
  same text occurs elsewhere on the page;
- script: the block's mix of writing systems against the page's (an untranslated teaser);
- links: link density and what the targets look like;
- DOM hints: class/id words of the source element and its ancestors ("related", "promo"…), and
  whether trafilatura kept the block or the completion stage added it;
- cue phrases: words that give page furniture away ("advertisement", "sign up", "©");
- position: from the start and from the end of the page, in blocks and in characters;
- topic: word overlap with the page's article text and title (tells `related` from `teaser`);
- neighbours: the shape, link and hint columns of the blocks before and after, so a block inside
  a teaser list reads as part of it;
- markup: how far the block's element looks like the elements of the page's long paragraphs
  (same tag path, same parent path, shared class/id words): an author box, a caption or a
  teaser card sits in markup of its own, the article's paragraphs share theirs;
- page: what kind of page the block is on (article-like URL, share of words in long paragraphs,
  of linked blocks, of comments), the same for every block of the page: on a listing the teasers
  are the content.

The article text that topic features compare with is taken, at prediction time, from the
classifier's own first-pass `content` probabilities (see `filter.model`); `topic_features` takes
that weighting as an argument.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .blocks import Block, Page, normalize_text
from .deadline import Deadline

_WORD = re.compile(r"\w+", re.UNICODE)
#: characters that end a sentence (or a quoted one), before any trailing white space
_SENT_END = frozenset(".!?…。！？\"'”’)")
_TOPIC_WORD_MIN = 4

#: class/id words grouped by what they usually mark; one column per group
HINT_GROUPS: dict[str, tuple[str, ...]] = {
    "related": ("related", "relate", "similar", "more", "recommend", "recommended", "readmore",
                "also", "next", "prev", "previous", "suggest", "suggested", "outbrain", "taboola",
                "yarpp", "jp", "crp", "mlt", "read"),
    "teaser": ("teaser", "promo", "card", "cards", "tile", "thumbnail", "thumb", "feed", "latest",
               "popular", "trending", "most", "news", "stories", "headline", "listing",
               "carousel", "slider", "grid", "recirc", "recirculation", "river", "rail"),
    "nav": ("nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "header",
            "footer", "sidebar", "aside", "widget", "toolbar", "masthead", "skip", "pagination",
            "dropdown", "mega", "submenu"),
    "social": ("share", "sharing", "social", "facebook", "twitter", "whatsapp", "pinterest",
               "linkedin", "email", "print", "follow", "subscribe", "newsletter", "signup",
               "cta", "button", "btn", "modal", "popup", "banner", "cookie", "consent", "gdpr"),
    "ad": ("advert", "advertisement", "ads", "adslot", "sponsor", "sponsored", "dfp", "gpt",
           "ad", "adunit", "commercial", "partner", "affiliate"),
    "meta": ("author", "byline", "bio", "date", "time", "meta", "tags", "tag", "category",
             "categories", "label", "info", "avatar", "profile", "comment", "comments", "reply",
             "rating", "review", "disclaimer", "copyright", "legal"),
    "content": ("article", "content", "body", "post", "entry", "story", "text", "prose", "main",
                "blog", "rich", "paragraph", "hentry", "single", "markdown", "description"),
    "caption": ("caption", "figcaption", "figure", "credit", "image", "photo", "media", "wp"),
}
#: (a word of one group only: "story" stood in `teaser` too, where `content`'s, later, took
#: it; the shipped model was trained so)
_HINT_LOOKUP = {w: g for g, words in HINT_GROUPS.items() for w in words}

#: phrases in a block's own text that mark page furniture, one column per group; matched
#: against the lowercased text (a third faster than case-insensitive matching)
CUE_PATTERNS: dict[str, re.Pattern] = {
    "ad": re.compile(r"\b(advertisement|advertising|sponsored|anzeige|publicité|publicidad|"
                     r"quảng cáo|реклама|広告|skip advertisement)\b"),
    "subscribe": re.compile(r"\b(subscribe|sign up|newsletter|log ?in|sign in|register|"
                            r"download the app|get the app|join|inbox|đăng ký)\b"),
    "share": re.compile(r"\b(share|tweet|pin it|follow us|facebook|twitter|whatsapp|"
                        r"linkedin|email this|print|copy link)\b"),
    "related": re.compile(r"\b(related|read more|more on|see also|read also|also read|more from|"
                          r"you may also|you might also|recommended|more stories|tin liên quan|"
                          r"lire aussi|leer más|weitere|ähnliche|читайте также|next article|"
                          r"previous article|next post|previous post)\b"),
    "teaser": re.compile(r"\b(latest|most read|most popular|trending|top stories|popular|"
                         r"editor'?s picks?|don'?t miss|what'?s new|tin mới|news)\b"),
    # the word alternatives share one leading \b: tried only where a word starts (4 times faster)
    "legal": re.compile(r"©|all rights reserved|"
                        r"\b(?:copyright|privacy|terms|cookies?|disclaimer|affiliate)\b"),
    "comment": re.compile(r"\b(comments?|reply|replies|leave a comment|show new comments|"
                          r"log in to comment|bình luận)\b"),
    "meta": re.compile(r"\b(min read|minutes? read|posted|published|updated|by\s+[a-z]|"
                       r"photo:|image:|credit:|source:)"),
    "action": re.compile(r"\b(learn more|get started|contact us|book (now|online|a demo)|free trial|"
                         r"shop now|buy now|check (the )?price|click here|request a (demo|quote)|"
                         r"schedule a|call (us|now)|apply now|mailing list|get (the|your|our) |"
                         r"(get a )?free quote|order now|download now|enroll now|try (it )?(for )?free|"
                         r"save up to|limited[- ]time|\d+ ?% off)"),
    "disclosure": re.compile(r"\b(disclosure|commissions?|affiliate links?|we may earn|"
                             r"paid partnership|supported by)\b"),
}

_KINDS = ("p", "head", "item", "row", "quote", "code", "cell", "line")

SHAPE_COLUMNS = [
    "log_chars", "log_words", "mean_word_len", "punct_ratio", "digit_ratio", "upper_ratio",
    "title_case_ratio", "ends_sentence", "is_separator", "has_pipe", "comma_ratio",
]
REPEAT_COLUMNS = ["unique_word_ratio", "unique_chargram_ratio", "max_ngram_repeat", "dup_on_page"]
SCRIPT_COLUMNS = ["ascii_letter_share", "latin_ext_share", "cjk_share", "other_script_share",
                  "script_distance"]
LINK_COLUMNS = ["link_density", "n_links", "link_is_article", "link_same_text", "log_link_path"]
DOM_COLUMNS = [f"kind_{k}" for k in _KINDS] + [f"hint_{g}" for g in HINT_GROUPS] + [
    "dom_position", "has_dom", "tag_depth", "in_list", "in_header", "in_aside", "in_footer",
    "in_nav", "in_article", "in_table", "in_figure", "in_a", "in_comments", "added",
    "kept_distance",
]
CUE_COLUMNS = [f"cue_{g}" for g in CUE_PATTERNS]
POSITION_COLUMNS = ["rel_index", "rel_index_from_end", "log_index", "log_index_from_end",
                    "rel_chars_before", "rel_chars_after", "n_blocks_log", "page_chars_log",
                    "share_of_page", "inside_kept_span"]
#: the same for every block of a page: what kind of page this is (an article's long paragraphs,
#: a listing's many short linked items, a forum's comment section), which decides whether a
#: teaser-shaped block is the page's content or noise around it
PAGE_COLUMNS = ["page_url_article", "page_url_depth", "long_block_word_share", "n_long_blocks_log",
                "linked_block_share", "head_share", "item_share", "comment_share",
                "median_block_words_log", "added_share"]
#: a paragraph of at least this many words is article-like (also read by `filter.model`)
LONG_BLOCK_WORDS = 40
#: the block's markup against that of the page's long paragraphs (the article body's own)
MARKUP_COLUMNS = ["long_path_share", "long_parent_path", "long_hint_share"]
#: what `topic_features` adds once a first pass has found the article (`PageFeatures.with_topic`)
TOPIC_COLUMNS = ["topic_overlap", "title_overlap", "topic_overlap_max_nb"]
#: columns copied from the neighbours at offsets -2, -1, +1, +2
NEIGHBOUR_SOURCE = (SHAPE_COLUMNS[:3] + ["ends_sentence", "is_separator"] + LINK_COLUMNS[:2]
                    + [f"hint_{g}" for g in HINT_GROUPS] + ["kind_item", "kind_head", "kind_p", "added"])
NEIGHBOUR_OFFSETS = (-2, -1, 1, 2)

BASE_COLUMNS = (SHAPE_COLUMNS + REPEAT_COLUMNS + SCRIPT_COLUMNS + LINK_COLUMNS + DOM_COLUMNS
                + CUE_COLUMNS + POSITION_COLUMNS)
FEATURE_NAMES = (BASE_COLUMNS + [f"nb{o:+d}_{c}" for o in NEIGHBOUR_OFFSETS for c in NEIGHBOUR_SOURCE]
                 + MARKUP_COLUMNS + PAGE_COLUMNS)
_NB_INDEX = [BASE_COLUMNS.index(c) for c in NEIGHBOUR_SOURCE]


@dataclass(frozen=True)
class CharStats:
    """Per-character counts of one block, taken over its distinct characters: a block has a
    few dozen distinct characters but hundreds of characters, so the Unicode lookups run once
    per distinct character (this is most of the speed of the features)."""

    letters: int
    punct: int
    digits: int
    upper: int
    #: letters by writing system: ASCII, other Latin, CJK, any other
    scripts: tuple[int, int, int, int]

    @classmethod
    def of(cls, text: str) -> CharStats:
        letters = punct = digits = upper = 0
        ascii_l = latin = cjk = other = 0
        for ch, count in Counter(text).items():
            if unicodedata.category(ch).startswith("P"):
                punct += count
            if ch.isdigit():
                digits += count
            if ch.isupper():
                upper += count
            if not ch.isalpha():
                continue
            letters += count
            code = ord(ch)
            if code < 128:
                ascii_l += count
            elif code < 0x250 or 0x1E00 <= code < 0x1F00:
                latin += count
            elif 0x3000 <= code < 0xA000 or 0xAC00 <= code < 0xD7B0:
                cjk += count
            else:
                other += count
        return cls(letters, punct, digits, upper, (ascii_l, latin, cjk, other))

    def script_profile(self) -> np.ndarray:
        """Shares of the block's letters by writing system (zeros when it has no letters)."""
        total = sum(self.scripts)
        if not total:
            return np.zeros(4)
        return np.array(self.scripts, dtype=float) / total


def shape_features(text: str, words: list[str], chars: CharStats) -> list[float]:
    n = max(len(text), 1)
    stripped = text.strip()
    tokens = text.split()
    return [
        math.log1p(len(text)),
        math.log1p(len(words)),
        sum(map(len, words)) / len(words) if words else 0.0,
        chars.punct / n,
        chars.digits / n,
        chars.upper / max(chars.letters, 1),
        sum(w[:1].isupper() for w in tokens) / max(len(tokens), 1),
        1.0 if stripped[-1:] in _SENT_END else 0.0,
        1.0 if len(stripped) <= 3 and not any(ch.isalnum() for ch in stripped) else 0.0,
        1.0 if "|" in text else 0.0,
        text.count(",") / max(len(words), 1),
    ]


#: how many characters of a block `_chargram_ratio` reads (a loop shows within them; a long
#: paragraph then costs no more than a short one)
CHARGRAM_CHARS = 2000


def _chargram_ratio(text: str) -> float:
    """The share of distinct ones among the block's runs of four characters: a phrase looping
    ("a bit of a bit of a bit") gives the same runs over and over, in any script, with or
    without spaces. This was zlib's compression ratio, which depends on the zlib build
    (zlib-ng, the system zlib of some distributions, compresses differently): a model was fed
    values there it was not trained on."""
    head = text[:CHARGRAM_CHARS]
    n = len(head) - 3
    if n < 17:  # under 20 characters: too short to tell a loop
        return 1.0
    return len(set(zip(head, head[1:], head[2:], head[3:]))) / n


def repeat_features(text: str, words: list[str], page_counts: Counter) -> list[float]:
    """Self-repetition, which degenerate machine translation shows as loops of one phrase."""
    lw = [w.lower() for w in words]
    unique = len(set(lw)) / len(lw) if lw else 1.0
    chargrams = _chargram_ratio(text)
    max_rep = 0.0
    if len(lw) >= 6:
        for n in (2, 3):
            grams = Counter(zip(*(lw[k:] for k in range(n))))
            top = grams.most_common(1)[0][1]
            max_rep = max(max_rep, top * n / len(lw))
    return [unique, chargrams, max_rep, float(page_counts[normalize_text(text)] > 1)]


def _url_path(url: str) -> str:
    """The path of a URL, without scheme, host, query or fragment."""
    return re.sub(r"^[a-z]+://[^/]+", "", url.split("?")[0].split("#")[0])


def _link_is_article(url: str) -> float:
    """Article URLs have long slugs or ids in the path; section and home links do not."""
    path = _url_path(url)
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return 1.0 if last.count("-") >= 3 or re.search(r"\d{4,}", path) or len(last) > 30 else 0.0


def link_features(block: Block) -> list[float]:
    n = max(len(block.text), 1)
    links = block.links
    first = links[0] if links else None
    return [
        min(block.link_chars / n, 1.0),
        float(len(links)),
        _link_is_article(first.url) if first else 0.0,
        1.0 if first and normalize_text(first.text) == normalize_text(block.text) else 0.0,
        math.log1p(len(first.url)) if first else 0.0,
    ]


def dom_features(block: Block) -> list[float]:
    kinds = [1.0 if block.kind == k else 0.0 for k in _KINDS]
    groups = dict.fromkeys(HINT_GROUPS, 0.0)
    for word in block.hints.split():
        group = _HINT_LOOKUP.get(word)
        if group:
            groups[group] = 1.0
    tags = block.tag_path.split(">") if block.tag_path else []
    tagset = set(tags)
    return kinds + list(groups.values()) + [
        block.dom_position,
        1.0 if block.tag_path else 0.0,
        float(len(tags)),
        1.0 if tagset & {"ul", "ol", "li", "dl"} else 0.0,
        1.0 if "header" in tagset else 0.0,
        1.0 if "aside" in tagset else 0.0,
        1.0 if "footer" in tagset else 0.0,
        1.0 if "nav" in tagset else 0.0,
        1.0 if tagset & {"article", "main"} else 0.0,
        1.0 if tagset & {"table", "tr", "td"} else 0.0,
        1.0 if tagset & {"figure", "figcaption"} else 0.0,
        1.0 if "a" in tagset else 0.0,
        1.0 if block.in_comments else 0.0,
        0.0 if block.extracted else 1.0,
        math.log1p(block.kept_distance),
    ]


def cue_features(text: str) -> list[float]:
    short = text[:300].lower()
    return [1.0 if pattern.search(short) else 0.0 for pattern in CUE_PATTERNS.values()]


def position_features(i: int, n: int, chars_before: int, total_chars: int, length: int,
                      kept_span: tuple[int, int]) -> list[float]:
    """Where the block sits: from the start and the end, in blocks and characters, and whether
    it lies between the first and the last block trafilatura kept (`kept_span`)."""
    total = max(total_chars, 1)
    return [
        i / max(n - 1, 1),
        (n - 1 - i) / max(n - 1, 1),
        math.log1p(i),
        math.log1p(n - 1 - i),
        chars_before / total,
        (total - chars_before - length) / total,
        math.log1p(n),
        math.log1p(total_chars),
        length / total,
        1.0 if kept_span[0] < i < kept_span[1] else 0.0,
    ]


def page_features(page: Page, words: list[list[str]]) -> list[float]:
    blocks = page.blocks
    n = max(len(blocks), 1)
    counts = [len(w) for w in words]
    total = max(sum(counts), 1)
    long = [c for c in counts if c >= LONG_BLOCK_WORDS]
    path = _url_path(page.url or "")
    return [
        _link_is_article(page.url) if page.url else -1.0,
        float(len([p for p in path.split("/") if p])) if page.url else -1.0,
        sum(long) / total,
        math.log1p(len(long)),
        sum(1 for b in blocks if b.links) / n,
        sum(1 for b in blocks if b.kind == "head") / n,
        sum(1 for b in blocks if b.kind == "item") / n,
        sum(1 for b in blocks if b.in_comments) / n,
        math.log1p(float(np.median(counts))) if counts else 0.0,
        sum(1 for b in blocks if not b.extracted) / n,
    ]


def markup_features(blocks: list[Block], word_counts: list[int]) -> np.ndarray:
    """Per block: the share of the page's other long paragraphs (`LONG_BLOCK_WORDS`+ words) with
    its tag path, whether one of them has its parent path, and the share of its class/id words
    they use; -1 where there is no markup or no other long paragraph (text input, listings).

    The article's paragraphs share their markup; an author box, a caption, a call to action or a
    teaser card sits in markup of its own, however article-like its words are."""
    out = np.full((len(blocks), len(MARKUP_COLUMNS)), -1.0, dtype=np.float32)
    long = {i for i, (b, c) in enumerate(zip(blocks, word_counts))
            if b.tag_path and c >= LONG_BLOCK_WORDS}
    if not long:
        return out
    paths = Counter(blocks[i].tag_path for i in long)
    parents = Counter(blocks[i].tag_path.rsplit(">", 1)[0] for i in long)
    hints = Counter(t for i in long for t in set(blocks[i].hints.split()))
    for i, block in enumerate(blocks):
        own = 1 if i in long else 0
        others = len(long) - own
        if not block.tag_path or not others:
            continue
        out[i, 0] = (paths[block.tag_path] - own) / others
        out[i, 1] = 1.0 if parents[block.tag_path.rsplit(">", 1)[0]] - own > 0 else 0.0
        words = set(block.hints.split())
        if words:
            out[i, 2] = sum(1 for t in words if hints[t] - own > 0) / len(words)
    return out


def topic_words(words: list[str]) -> set[str]:
    return {w.lower() for w in words if len(w) >= _TOPIC_WORD_MIN and not w.isdigit()}


def topic_features(word_sets: list[set[str]], weights: np.ndarray, title: str | None) -> np.ndarray:
    """Overlap of each block's words with the article's (the other blocks, weighted by how
    likely they are content) and with the title.

    Returns the `TOPIC_COLUMNS`: overlap with the article, with the title, and the best overlap
    of the two neighbours (teasers come as title + summary, and one of them often names the
    topic).
    """
    n = len(word_sets)
    article: Counter = Counter()
    for ws, w in zip(word_sets, weights):
        if w > 0.5:
            article.update(ws)
    title_words = topic_words(_WORD.findall(title or ""))
    out = np.zeros((n, len(TOPIC_COLUMNS)))
    for i, ws in enumerate(word_sets):
        if not ws:
            continue
        own = 1 if weights[i] > 0.5 else 0
        shared = sum(1 for w in ws if article[w] - own > 0)
        out[i, 0] = shared / len(ws)
        out[i, 1] = len(ws & title_words) / len(ws) if title_words else 0.0
    for i in range(n):
        nb = [out[j, 0] for j in (i - 1, i + 1) if 0 <= j < n]
        out[i, 2] = max(nb) if nb else 0.0
    return out


#: blocks between two looks at the deadline while the rows are computed (about half a second of
#: work: a page of tens of thousands of lines takes seconds per stage)
DEADLINE_STRIDE = 1024


def _checked(items: Iterable, deadline: Deadline | None, stage: str) -> Iterator:
    """`items`, with a look at the deadline every `DEADLINE_STRIDE` of them."""
    for i, item in enumerate(items):
        if deadline is not None and i % DEADLINE_STRIDE == DEADLINE_STRIDE - 1:
            deadline.check(stage)
        yield item


class PageFeatures:
    """The feature rows of one page, with the word sets kept for the topic pass. With a
    `deadline`, raises `ExtractionTimeout` while computing the rows once it has passed."""

    def __init__(self, page: Page, deadline: Deadline | None = None):
        blocks = page.blocks
        n = len(blocks)
        words, self.word_sets, chars, profiles, counts = [], [], [], [], Counter()
        # the deadline is looked at from the first pass on: on a text of millions of short
        # lines this pass alone took a minute before the first look
        for block in _checked(blocks, deadline, "its blocks' features"):
            words.append(_WORD.findall(block.text))
            self.word_sets.append(topic_words(words[-1]))
            counts[normalize_text(block.text)] += 1
            chars.append(CharStats.of(block.text))
            profiles.append(chars[-1].script_profile())
        lengths = [len(b.text) for b in blocks]
        total = sum(lengths)
        page_profile = sum((p * ln for p, ln in zip(profiles, lengths)), np.zeros(4)) / max(total, 1)
        kept = [i for i, b in enumerate(blocks) if b.extracted]
        kept_span = (kept[0], kept[-1]) if kept else (n, -1)
        rows = []
        before = 0
        rest = _checked(zip(blocks, words, chars, profiles), deadline,
                        "the rest of its blocks' features")
        for i, (block, w, ch, prof) in enumerate(rest):
            rows.append(
                shape_features(block.text, w, ch)
                + repeat_features(block.text, w, counts)
                + list(prof) + [float(np.abs(prof - page_profile).sum())]
                + link_features(block)
                + dom_features(block)
                + cue_features(block.text)
                + position_features(i, n, before, total, lengths[i], kept_span)
            )
            before += lengths[i]
        base = np.array(rows, dtype=np.float32).reshape(n, len(BASE_COLUMNS))
        nb = np.zeros((n, len(NEIGHBOUR_OFFSETS) * len(_NB_INDEX)), dtype=np.float32)
        src = base[:, _NB_INDEX]
        for k, off in enumerate(NEIGHBOUR_OFFSETS):
            cols = slice(k * len(_NB_INDEX), (k + 1) * len(_NB_INDEX))
            if abs(off) >= n:
                continue
            if off < 0:
                nb[-off:, cols] = src[:off]
            else:
                nb[:-off or None, cols] = src[off:]
        whole = np.tile(np.array(page_features(page, words), dtype=np.float32), (n, 1))
        self.matrix = np.hstack([base, nb, markup_features(blocks, [len(w) for w in words]), whole])
        # the title as the page gives it (what the model was trained on); None without one
        self.title = page.full_title if page.source == "html" else page.title

    def add_column(self, values: np.ndarray) -> None:
        """Append a column the model computes itself (`filter.lexical`'s probability)."""
        self.matrix = np.hstack([self.matrix, np.asarray(values, dtype=np.float32)[:, None]])

    def with_topic(self, content_weights: np.ndarray) -> np.ndarray:
        """The rows plus the topic columns computed against the given content weighting."""
        topic = topic_features(self.word_sets, content_weights, self.title)
        return np.hstack([self.matrix, topic.astype(np.float32)])
