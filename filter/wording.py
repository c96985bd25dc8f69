"""The words of a block as a sparse vector: its text, the class/id words of its source element and
its ancestors, and its tag path.

The feature groups of `filter.features` know a few dozen hint and cue words chosen by hand; the
markup of the web has thousands ("uagb-column", "promo-card", "newsletter-signup", "entry-content")
and furniture has its own wording ("Get the template", "Book online"). Hashing them keeps the
vocabulary open (no fitted state, nothing to store) and lets a linear model weigh each word on the
training data; its out-of-fold probability is one column for the gradient-boosted stages
(`filter.model`). On WCXB-dev, such a model alone ranks blocks as well as all the hand-made
features together (block AUC 0.81 on article pages against 0.80).
"""

from __future__ import annotations

import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from .blocks import Page

#: how many ancestors' tags the tag-path words read (the innermost ones)
PATH_DEPTH = 4

_TEXT = HashingVectorizer(ngram_range=(1, 2), n_features=2**18, alternate_sign=False, binary=True,
                          norm=None, dtype="float32")
_HINTS = HashingVectorizer(n_features=2**16, alternate_sign=False, binary=True, norm=None,
                           token_pattern=r"[a-z0-9]{3,}", dtype="float32")
_PATH = HashingVectorizer(ngram_range=(1, 2), n_features=2**12, alternate_sign=False, binary=True,
                          norm=None, token_pattern=r"[a-z0-9]+", dtype="float32")


def block_words(page: Page) -> sp.csr_matrix:
    """One sparse row per block of the page: hashed word uni- and bigrams of its text, hint words
    and the innermost tags of its path, each group in a column range of its own."""
    blocks = page.blocks
    return sp.hstack([
        _TEXT.transform([b.text for b in blocks]),
        _HINTS.transform([b.hints for b in blocks]),
        _PATH.transform([" ".join(b.tag_path.split(">")[-PATH_DEPTH:]) for b in blocks]),
    ], format="csr")
