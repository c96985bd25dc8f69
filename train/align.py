"""Label blocks `content` or not by aligning them with a page's gold main text.

Gold-text data sets (WCXB and its kind) give the article as plain text, not per block. A block
is content when most of its word trigrams occur in the gold text, not when fewer do; short
blocks (headings, bylines), whose trigrams are too few to judge, must equal a gold line, or
occur in the gold text with content blocks on both sides. A block with exactly half its
trigrams there (a four-word heading with one of its two) is a tie, decided by its neighbours as
a short block found in the gold text is (355 WCXB-dev blocks, 137 of them made content so; the
shipped model's labels are made so).
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
_SHORT = 4  # tokens; below this a block is judged by exact lines and neighbours
_THRESHOLD = 0.5


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, as in the WCXB word-F1 metric."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def _trigrams(toks: list[str]) -> set[tuple[str, ...]]:
    return {tuple(toks[i:i + 3]) for i in range(len(toks) - 2)}


class GoldText:
    """Pre-computed views of one gold main text for fast block lookups."""

    def __init__(self, main_content: str):
        toks = tokens(main_content)
        self.trigrams = _trigrams(toks)
        self.joined = " " + " ".join(toks) + " "
        self.lines = {" ".join(tokens(line)) for line in main_content.splitlines() if line.strip()}

    def coverage(self, text: str) -> float:
        """Share of the block's trigrams found in the gold text: for a short block 1.0 when it is
        a gold line, the tie `_THRESHOLD` when its words are found in the gold text (across
        lines too), else 0.0."""
        toks = tokens(text)
        if not toks:
            return 0.0
        if len(toks) < _SHORT:
            joined = " ".join(toks)
            if joined in self.lines:
                return 1.0
            return _THRESHOLD if f" {joined} " in self.joined else 0.0
        grams = _trigrams(toks)
        return sum(g in self.trigrams for g in grams) / len(grams)


def align(texts: list[str], main_content: str) -> list[bool]:
    """For each block text in reading order, whether it is part of the gold main text."""
    gold = GoldText(main_content)
    cov = [gold.coverage(t) for t in texts]
    decided = [c > _THRESHOLD if c != _THRESHOLD else None for c in cov]  # a tie: the neighbours
    out = []
    for i, d in enumerate(decided):
        if d is not None:
            out.append(d)
            continue
        before = next((decided[j] for j in range(i - 1, -1, -1) if decided[j] is not None), False)
        after = next((decided[j] for j in range(i + 1, len(decided)) if decided[j] is not None), False)
        out.append(bool(before and after))
    return out
