"""The block classifier: three gradient-boosted stages over `filter.features`.

0. **words**: a logistic regression over the block's hashed word n-grams (`filter.lexical`)
   gives each block a content probability from its words alone, one more column for the rest;
1. **first pass**: content or not, from the block's own features and its neighbours';
2. **context pass**: content or not again, now also reading the first pass's probabilities for
   the blocks around it, how much likely content follows, and the block's topical overlap with
   the likely article (sequence smoothing: a short line between two teasers is a teaser part);
3. **kind pass**: for what is not content, which kind of noise (`related`, `teaser`, `junk`, or
   any other label set), reading topic overlap with the article the context pass found.

Stages 2 and 3 are trained on out-of-fold first-pass probabilities, so they learn from the same
kind of noisy input they get at prediction time. Pages are the unit (`fit(pages, labels)`, as in
dragnet's `Extractor`): features depend on the whole page.

A label list may use `noncontent` for a block known not to be content whose kind nobody has
labelled (blocks from gold-text alignment): it trains stages 1-2 but not stage 3.
"""

from __future__ import annotations

import re

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from threadpoolctl import ThreadpoolController

from .blocks import CJK_CHARS, SOUTHEAST_ASIAN_CHARS, Block, Page
from .deadline import Deadline
from .errors import ModelError
from .features import LONG_BLOCK_WORDS, PageFeatures
from .lexical import LexicalModel

KEEP_LABEL = "content"
UNKNOWN_KIND = "noncontent"
_CONTEXT_OFFSETS = (-3, -2, -1, 1, 2, 3)
#: on a page with an article body (at least this share of its words in paragraphs of 40+ words),
#: blocks under this many words, or with more than this share of link text, need the stricter
#: content threshold
ARTICLE_LONG_SHARE = 0.35
#: an HTML page with less than this share of its words in such paragraphs has no article body:
#: all its blocks get the looser content threshold
NO_ARTICLE_SHARE = 0.1
#: a block of this many words or more that repeats one kept before it is kept once, on an HTML
#: page (copies a stylesheet hides: an article held once per screen size); text given to
#: `clean_text` keeps its repeats, as its extractor chose them
REPEAT_WORDS = 20
#: characters of scripts written without spaces between words, counted for the page-shape
#: rules at so many to a word: Chinese and Japanese 2; Thai, Lao, Khmer and Burmese 5 (their
#: vowel and tone marks are characters of their own: a rough figure, from a few sentences, not
#: measured on a corpus). Counted by white space, a Thai article's paragraphs were a few words
#: each, so it had no article body: the looser threshold for every block, no repeat rule
_UNSPACED = ((re.compile(f"[{CJK_CHARS}]"), 2), (re.compile(f"[{SOUTHEAST_ASIAN_CHARS}]"), 5))
_ANY_UNSPACED = re.compile("|".join(pattern.pattern for pattern, _ in _UNSPACED))
SLIGHT_WORDS = 10
SLIGHT_LINK_SHARE = 0.5
#: the least each content threshold is when a caller favours precision (`thresholds`): less
#: leaked noise for some content lost, as trafilatura's `favor_precision`. Chosen on the
#: cross-validated probabilities of `benchmarks/quality.py` (`wcxb-16`): articles' leaked
#: `without` snippets 0.036 -> 0.027 for word F1 0.9509 -> 0.9490, all pages 0.050 -> 0.035
#: for 0.8495 -> 0.8413, every page type still above trafilatura's default word F1
PRECISION_THRESHOLDS = {"content_threshold": 0.35, "strict_threshold": 0.85,
                        "added_threshold": 0.7, "no_article_threshold": 0.25}
#: found once: inspecting the loaded libraries costs milliseconds, limiting them microseconds
_THREADPOOLS = ThreadpoolController()
#: what the features of a fitted model mean; raised whenever a change in `filter.features` or
#: the extraction's block flags changes the columns a model reads (5: the repetition column
#: reads character runs, not zlib). A model fitted under another schema is refused at loading
#: (`check_schema`)
FEATURE_SCHEMA = 5


#: the largest seed a model can be trained with: its three boosters take seed, seed + 1 and
#: seed + 2, each a NumPy seed (below 2**32)
MAX_SEED = 2**32 - 3


def _booster(seed: int, balanced: bool = False, max_iter: int = 150) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=0.08, max_leaf_nodes=31, min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=False, random_state=seed,
        class_weight="balanced" if balanced else None,
    )


def _p_keep(booster: HistGradientBoostingClassifier, x: np.ndarray) -> np.ndarray:
    """The probability of class 1 (keep). A booster fitted on one class (an inner fold whose
    sites have only their kept blocks labelled) still answers two columns, the first for its
    one class: read as `[:, 1]`, every block it judged was given 0."""
    if len(booster.classes_) == 1:
        return np.full(len(x), float(booster.classes_[0]))
    return booster.predict_proba(x)[:, 1]


def check_schema(model: object) -> None:
    """Refuse a model whose features are not the ones this noisefilter computes."""
    schema = getattr(model, "feature_schema_", 1)
    if schema != FEATURE_SCHEMA:
        remedy = ("retrain it (noisefilter train) on this version" if schema < FEATURE_SCHEMA
                  else "it was made by a newer noisefilter: upgrade noisefilter to use it")
        raise ModelError(f"the model was fitted on feature schema {schema}, this noisefilter computes "
                         f"schema {FEATURE_SCHEMA}: {remedy}")


def context_columns(p1: np.ndarray) -> np.ndarray:
    """Sequence features from first-pass content probabilities of one page."""
    n = len(p1)
    cols = [p1]
    for off in _CONTEXT_OFFSETS:
        shifted = np.full(n, -1.0)
        if abs(off) >= n:
            pass
        elif off < 0:
            shifted[-off:] = p1[:off]
        else:
            shifted[:n - off] = p1[off:]
        cols.append(shifted)
    csum = np.concatenate([[0.0], np.cumsum(p1)])
    idx = np.arange(n)
    after = (csum[n] - csum[idx + 1]) / np.maximum(n - idx - 1, 1)
    before = csum[idx] / np.maximum(idx, 1)
    # the last likely-content block: everything after it is the page's tail
    likely = np.flatnonzero(p1 > 0.5)
    last = likely[-1] if len(likely) else -1
    first = likely[0] if len(likely) else n
    cols += [after, before, (idx > last).astype(float), (idx < first).astype(float),
             np.full(n, p1.mean() if n else 0.0)]
    return np.column_stack(cols)


def check_training_labels(labels: set[str], keep_label: str) -> None:
    """Refuse a label set no model can be fitted on (`ValueError`), before the features of
    thousands of blocks are computed: it must hold the label to keep and at least one other,
    since a model learns what to remove from the blocks labelled otherwise."""
    if keep_label not in labels:
        raise ValueError(f"the training labels hold no '{keep_label}' block (labels: "
                         f"{', '.join(sorted(labels))}); name the label of the text to keep "
                         "(--keep-label)")
    if not labels - {keep_label}:
        raise ValueError(f"the training labels hold only '{keep_label}' blocks: a model "
                         "learns what to remove from blocks labelled otherwise")


class BlockClassifier(BaseEstimator, ClassifierMixin):
    """Labels every block of a `Page`; `fit(pages, labels)`, `predict_page(page)`.

    `word_weighting` (0 to 1) is how far the content stages weigh blocks by their words rather
    than one each. Five content thresholds decide which blocks stay (see `thresholds`):
    `content_threshold` for ordinary blocks of a page with an article body, `strict_threshold`
    for its short or mostly-link blocks, `added_threshold` for the blocks only the completion
    stage found (`filter.extract.complete`) on any page with some article body,
    `no_article_threshold` for every block of a page without an article body (a listing, a
    shop, a collection), and `comment_threshold` for blocks of the page's comment section. The defaults were chosen by 5-fold cross-validation on
    WCXB-dev (word F1 per page type, `with` snippets kept, `without` snippets leaked): 0.5 for
    the weighting; 0.25, 0.5, 0.5, 0.15 and 0.9 for the thresholds.

    On a page with an article body the blocks over their thresholds are then cut to the set
    that maximises the page's expected word F1 (`expected_f1_cut`); `f1_cut_scale` (0.8; None
    turns the cut off) scales the content words the page is expected to hold.
    """

    def __init__(self, keep_label: str = KEEP_LABEL, folds: int = 3, random_state: int = 0,
                 word_weighting: float = 0.5, content_threshold: float = 0.25,
                 strict_threshold: float = 0.5, added_threshold: float = 0.5,
                 no_article_threshold: float = 0.15, comment_threshold: float = 0.9,
                 f1_cut_scale: float | None = 0.8):
        self.keep_label = keep_label
        self.folds = folds
        self.random_state = random_state
        self.word_weighting = word_weighting
        self.content_threshold = content_threshold
        self.strict_threshold = strict_threshold
        self.added_threshold = added_threshold
        self.no_article_threshold = no_article_threshold
        self.comment_threshold = comment_threshold
        self.f1_cut_scale = f1_cut_scale

    # -- training ---------------------------------------------------------------------------
    def fit(self, pages: list[Page], labels: list[list[str]], groups: list[str] | None = None,
            page_weights: list[float] | None = None):
        """Fit on pages and their per-block labels; `groups` (e.g. domains) keep the out-of-fold
        first-pass predictions honest when a site repeats its furniture across pages;
        `page_weights` lets a few carefully labelled pages count for more than many aligned ones."""
        if len(pages) != len(labels):
            raise ValueError("one label list per page is needed")
        feats, ys, ws, ws_kind, texts = [], [], [], [], []
        weights = page_weights if page_weights is not None else [1.0] * len(pages)
        for page, labs, w in zip(pages, labels, weights):
            if len(page.blocks) != len(labs):
                raise ValueError("one label per block is needed")
            if page.blocks:
                texts.extend(block.text for block in page.blocks)
                feats.append(PageFeatures(page))
                ys.append(np.asarray(labs, dtype=object))
                ws.append(float(w) * self._block_weights(page))
                ws_kind.append(np.full(len(labs), float(w)))
        kinds = sorted({lab for labs in ys for lab in labs} - {self.keep_label, UNKNOWN_KIND})
        check_training_labels({lab for labs in ys for lab in labs}, self.keep_label)
        # without any kind (content and `noncontent` only), what is removed is `noncontent`
        self.classes_ = np.array([self.keep_label, *(kinds or [UNKNOWN_KIND])], dtype=object)
        page_groups = np.asarray(groups if groups is not None else range(len(pages)))[
            [i for i, p in enumerate(pages) if p.blocks]]

        y_keep = np.concatenate([labs == self.keep_label for labs in ys]).astype(int)
        row_page = np.concatenate([np.full(len(labs), k) for k, labs in enumerate(ys)])
        row_groups = page_groups[row_page]
        w = np.concatenate(ws)

        self.lexical_ = self._fit_lexical(feats, texts, y_keep, row_groups, row_page, w)
        x1 = np.vstack([f.matrix for f in feats])
        self.first_ = _booster(self.random_state).fit(x1, y_keep, sample_weight=w)
        oof = self._out_of_fold(x1, y_keep, row_groups, w)
        x2 = self._stage2_matrix(feats, oof, row_page)
        self.context_ = _booster(self.random_state + 1).fit(x2, y_keep, sample_weight=w)

        y_all = np.concatenate(ys)
        known = np.isin(y_all, kinds)
        self.kind_ = None
        if len(kinds) >= 2 and known.sum():
            # trained on the out-of-fold rows of the context pass; at prediction time it reads
            # topic and context against the context pass's own (sharper) probabilities
            self.kind_ = _booster(self.random_state + 2, balanced=True).fit(
                x2[known], y_all[known], sample_weight=np.concatenate(ws_kind)[known])
        self.n_features_in_ = x1.shape[1]
        self.feature_schema_ = FEATURE_SCHEMA
        return self

    def _fit_lexical(self, feats: list[PageFeatures], texts: list[str], y_keep: np.ndarray,
                     row_groups: np.ndarray, row_page: np.ndarray, w: np.ndarray) -> LexicalModel:
        """Fit the words-alone model (`filter.lexical`) on the blocks' texts, and give each
        page's features its out-of-fold column, grouped by site as the first stage's
        out-of-fold pass is. Pages of one site only are grouped by page: a model taught one
        site meets that site's furniture again on its new pages, and so it does here."""
        groups = row_groups if len(np.unique(row_groups)) > 1 else row_page
        column = LexicalModel.out_of_fold(texts, y_keep, w, groups, self.folds)
        start = 0
        for f in feats:
            n = len(f.matrix)
            f.add_column(column[start:start + n])
            start += n
        return LexicalModel.fit(texts, y_keep, w)

    def _block_weights(self, page: Page) -> np.ndarray:
        """How much each block counts in the content-or-not stages: partly one per block, partly
        its share of the page's words (scaled so a page's total stays its number of blocks).

        Page quality is word F1: dropping a 200-word paragraph costs a hundred times more than
        keeping a two-word "Share" line, which uniform block weights ignore.
        """
        words = np.array([max(len(b.text.split()), 1) for b in page.blocks], dtype=float)
        share = words * len(words) / words.sum()
        return (1.0 - self.word_weighting) + self.word_weighting * share

    def _out_of_fold(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray, w: np.ndarray) -> np.ndarray:
        n_groups = len(np.unique(groups))
        oof = np.zeros(len(y))
        if n_groups < 2:
            return _p_keep(self.first_, x)
        for train, test in GroupKFold(n_splits=min(self.folds, n_groups)).split(x, y, groups):
            model = _booster(self.random_state).fit(x[train], y[train], sample_weight=w[train])
            oof[test] = _p_keep(model, x[test])
        return oof

    @staticmethod
    def _stage2_matrix(feats: list[PageFeatures], p1: np.ndarray, row_page: np.ndarray) -> np.ndarray:
        parts = []
        for k, f in enumerate(feats):
            probs = p1[row_page == k]
            parts.append(np.hstack([f.with_topic(probs), context_columns(probs)]))
        return np.vstack(parts)

    # -- prediction -------------------------------------------------------------------------
    def predict_proba_page(self, page: Page, deadline: Deadline | None = None) -> np.ndarray:
        """Probabilities (n_blocks × n_classes, columns in `classes_` order) for one page.
        With a `deadline`, raises `ExtractionTimeout` between the features and each stage once
        it has passed (a page of tens of thousands of blocks takes seconds in each).

        One page is a few dozen rows: OpenMP threads cost more than they save there, and on a
        busy machine (other workers, other threads of the caller) they make a page take seconds.
        Prediction therefore runs single-threaded; parallelism comes from workers.
        """
        with _THREADPOOLS.limit(limits=1, user_api="openmp"):
            return self._predict_proba_page(page, deadline or Deadline(np.inf))

    def _predict_proba_page(self, page: Page, deadline: Deadline) -> np.ndarray:
        n = len(page.blocks)
        if not n:
            return np.zeros((0, len(self.classes_)))
        f = PageFeatures(page, deadline)
        lexical_model = getattr(self, "lexical_", None)  # None in models fitted before it
        if lexical_model is not None:
            deadline.check("the classifier's word model")
            f.add_column(lexical_model.predict([block.text for block in page.blocks]))
        deadline.check("the classifier's first stage")
        p1 = _p_keep(self.first_, f.matrix)
        deadline.check("the classifier's context stage")
        x2 = np.hstack([f.with_topic(p1), context_columns(p1)])
        p_keep = _p_keep(self.context_, x2)
        out = np.zeros((n, len(self.classes_)))
        out[:, 0] = p_keep
        if len(self.classes_) == 1:
            return out
        if self.kind_ is None:
            out[:, 1] = 1.0 - p_keep
            return out
        deadline.check("the classifier's label stage")
        x3 = np.hstack([f.with_topic(p_keep), context_columns(p_keep)])
        kind_probs = self.kind_.predict_proba(x3)
        cols = [list(self.classes_).index(c) for c in self.kind_.classes_]
        out[:, cols] = (1.0 - p_keep)[:, None] * kind_probs
        return out

    def predict_page(self, page: Page, deadline: Deadline | None = None,
                     favor_precision: bool = False) -> tuple[list[str], np.ndarray]:
        """Labels and probabilities for one page (`labels_from_proba`); `deadline` as for
        `predict_proba_page`."""
        probs = self.predict_proba_page(page, deadline)
        return self.labels_from_proba(page, probs, favor_precision), probs

    def labels_from_proba(self, page: Page, probs: np.ndarray,
                          favor_precision: bool = False) -> list[str]:
        """`content` for a block whose probability is over its threshold (`thresholds`), that
        the page's expected-F1 cut keeps (`expected_f1_cut`) and that does not repeat a long
        block kept before it (`_drop_repeats`), else the most likely other label."""
        if not len(probs):
            return []
        keep = probs[:, 0] > np.asarray(self.thresholds(page, favor_precision))
        keep &= self.expected_f1_cut(page, probs[:, 0])
        if page.source == "html":
            _drop_repeats(page, keep)
        if probs.shape[1] == 1:  # a model fitted before `noncontent` had a column of its own
            return [self.classes_[0] if k else UNKNOWN_KIND for k in keep]
        others = self.classes_[1 + np.argmax(probs[:, 1:], axis=1)]
        return [self.classes_[0] if k else str(o) for k, o in zip(keep, others)]

    def expected_f1_cut(self, page: Page, p_keep: np.ndarray) -> np.ndarray:
        """Which blocks of a page with an article body are worth keeping for its word F1.

        With each block's content probability p and word count w, keeping the k most probable
        blocks is expected to keep sum(p·w) content words out of sum(w), against about sum(p·w)
        over all blocks in the page's content; the cut keeps the k with the best F1 of those
        (the plug-in rule for F1), the expected content scaled by `f1_cut_scale` (under 1 leans
        to precision). In effect a block stays when its probability is over about half the
        page's best expected F1: near 0.5 on a page whose article the model is sure of, where
        fixed thresholds of 0.25 let doubtful blocks through, and lower on a page it is unsure
        of. Pages without an article body and text from an extractor keep every block: there
        the blocks are short items whose probabilities the thresholds were tuned on. Chosen by
        5-fold cross-validation on WCXB-dev (articles +0.0012 word F1, leaked `without`
        snippets 0.044 -> 0.040) and checked on `train.shipped`'s holdout (articles +0.0016).
        """
        scale = getattr(self, "f1_cut_scale", None)  # None also in models pickled before it
        n = len(p_keep)
        everything = np.ones(n, dtype=bool)
        if (scale is None or not n or page.source != "html"
                or _long_word_share(page) < ARTICLE_LONG_SHARE):
            return everything
        words = np.array([max(_words(b.text), 1) for b in page.blocks], dtype=float)
        order = np.argsort(-p_keep, kind="stable")
        expected = (p_keep * words)[order]
        f1 = 2 * np.cumsum(expected) / (np.cumsum(words[order]) + scale * expected.sum())
        keep = np.zeros(n, dtype=bool)
        keep[order[:int(np.argmax(f1)) + 1]] = True
        return keep

    def thresholds(self, page: Page, favor_precision: bool = False) -> list[float]:
        """The content probability each block of the page must exceed to stay; with
        `favor_precision`, each of the model's thresholds at least `PRECISION_THRESHOLDS`'s.

        Thresholds under one half trade a little leaked noise for content not lost, which is
        what word F1 rewards. On a page with an article body, short blocks and link lists get a
        stricter one: wrongly dropping them costs few words, while they are what readers see as
        noise ("Share", "Advertisement", a list of related links); so do the blocks that
        trafilatura left out and the completion stage added, half of whose words are noise. On
        a page without an article body (hardly any long paragraph: a listing, a shop, a
        collection) the looser one applies to every block: what the extractor kept there is
        mostly the content, made of short items; on pages in between, and in text that already
        came out of an extractor (where it cost listings 0.007 word F1), short blocks and link
        lists keep the ordinary threshold, while restored blocks still need the added one.
        Blocks of a comment section stay only when the model is nearly sure: reader comments are
        noise under an article, and on WCXB-dev's forum pages the comment-section blocks the
        model kept were more often noise than posts.

        Chosen on the cross-validated probabilities that `benchmarks/quality.py` reports (so its
        figures are slightly optimistic for them; the holdout of `train.shipped` checks them on
        a model not trained on its sites, though its pages are among those cross-validated): on article pages, 0.5 rather than 0.4 for short blocks and 0.5 for
        added ones cut leaked `without` snippets from 0.052 to 0.044 and added 0.001 word F1.
        """
        chosen = {name: getattr(self, name) for name in PRECISION_THRESHOLDS}
        if favor_precision:
            chosen = {name: max(value, PRECISION_THRESHOLDS[name]) for name, value in chosen.items()}
        ordinary = chosen["content_threshold"]
        strict = chosen["strict_threshold"]
        added = chosen["added_threshold"]
        share = _long_word_share(page)
        if share < NO_ARTICLE_SHARE and page.source == "html":
            ordinary = strict = added = chosen["no_article_threshold"]
        elif share < ARTICLE_LONG_SHARE:
            strict = ordinary
        out = []
        for block in page.blocks:
            if block.in_comments:
                threshold = max(self.comment_threshold, ordinary)
            else:
                threshold = strict if _is_slight(block) else ordinary
                if not block.extracted:
                    threshold = max(threshold, added)
            out.append(threshold)
        return out


def _drop_repeats(page: Page, keep: np.ndarray) -> None:
    """Unkeep each block that repeats, word for word, a block of `REPEAT_WORDS`+ words kept
    before it: pages that hold their article once per screen size (responsive copies, hidden
    by a stylesheet noisefilter does not read) came out two or three times over, and a quote
    pulled out of the text repeats a paragraph. Chosen on WCXB-dev's cross-validated
    probabilities (articles 0.9475 -> 0.9485 word F1, forums +0.008, documentation -0.002,
    all pages 0.8457 -> 0.8471; 20 words did better than 10, 30 or 40) and checked on the
    holdout of `train.shipped` (all pages 0.8156 -> 0.8180)."""
    seen: set[str] = set()
    for i, block in enumerate(page.blocks):
        if keep[i] and _words(block.text) >= REPEAT_WORDS:
            text = block.text.casefold()  # on one line already (`Block`)
            if text in seen:
                keep[i] = False
            seen.add(text)


def _is_slight(block: Block) -> bool:
    """A block of few words or mostly link text: cheap to drop, typical of page furniture."""
    return _words(block.text) < SLIGHT_WORDS or block.link_chars > SLIGHT_LINK_SHARE * len(block.text)


def _long_word_share(page: Page) -> float:
    """Share of the page's words in blocks of `LONG_BLOCK_WORDS` or more: high on articles."""
    counts = [_words(b.text) for b in page.blocks]
    return sum(c for c in counts if c >= LONG_BLOCK_WORDS) / max(sum(counts), 1)


def _words(text: str) -> float:
    """How many words a block holds, for the page-shape rules: its white-space separated
    tokens, and in scripts written without spaces one word per so many characters
    (`_UNSPACED`; a Chinese paragraph of 235 characters is one token by white space: every
    such page counted as having no article body, and nothing was removed from it)."""
    if text.isascii() or not _ANY_UNSPACED.search(text):
        return len(text.split())
    words = 0.0
    for pattern, chars_per_word in _UNSPACED:
        words += len(pattern.findall(text)) / chars_per_word
        text = pattern.sub(" ", text)
    return len(text.split()) + words
