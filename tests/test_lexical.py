"""The words-alone stage (filter/lexical.py): what it learns from a block's words, why its
training column comes out of fold, and models fitted before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from filter import Cleaner
from filter.blocks import Block, Page
from filter.lexical import LexicalModel
from filter.model import BlockClassifier
from filter.modelfile import LoadedModel
from retrain_site import make_page

_ARTICLE = ["The council approved the budget for the new harbour wall on Tuesday.",
            "Residents said the ferry timetable had changed since the storm last winter.",
            "According to local figures, rainfall this month was twice the seasonal average.",
            "The headteacher said pupils would sit their exams in the library this term."]
_FURNITURE = ["Free standard shipping on orders over $50.", "Unlock 50% off your subscription today!",
              "Sign up for our newsletter and get 10% off.", "Free express shipping on all orders."]


def test_furniture_phrasing_scores_below_an_article_sentence_of_the_same_shape():
    """Fitted on a few sentences of each, the regression reads a new furniture line by its
    words ("free shipping", "% off") as noise and a new article sentence as content (the
    regularisation, set for WCXB-dev's hundred thousand blocks, keeps both nearer one half on so
    few)."""
    texts = _ARTICLE * 20 + _FURNITURE * 20
    y = np.array([1] * 80 + [0] * 80)
    model = LexicalModel.fit(texts, y, np.ones(160))
    furniture, article = model.predict([
        "Free shipping on orders over $80, and 50% off your first subscription!",
        "Officials said the harbour wall would be finished before the storm season next winter."])
    assert furniture < 0.5 < article and article - furniture > 0.2


def _site_lines(site: int) -> tuple[list[str], list[int]]:
    """Article sentences every site shares, and a furniture line only this site uses."""
    return _ARTICLE + [f"zq{site}club zq{site}deals zq{site}offers"], [1, 1, 1, 1, 0]


def test_the_training_column_comes_from_regressions_that_never_saw_the_site():
    """A site's own furniture words, unknown to the other sites, tell the out-of-fold column
    nothing: it is much less sure of that line than a regression fitted on every site, which
    has learnt the site's furniture word for word and would teach the next stages to trust the
    column more than they can on a new site."""
    texts, y, groups = [], [], []
    for site in range(4):
        t, labels = _site_lines(site)
        texts += t * 20
        y += labels * 20
        groups += [site] * 100
    y = np.array(y)
    oof = LexicalModel.out_of_fold(texts, y, np.ones(len(y)), np.array(groups), folds=4)
    seen = LexicalModel.fit(texts, y, np.ones(len(y))).predict(texts)
    furniture = y == 0
    assert np.all(oof[furniture] > seen[furniture] + 0.2)


def _pages(sites: range) -> tuple[list[Page], list[list[str]], list[str]]:
    pages, labels = [], []
    for site in sites:
        for n in range(3):
            url, _, blocks = make_page(site, n)
            pages.append(Page(blocks=[Block(text) for text, _ in blocks], url=url))
            labels.append(["content" if label == "content" else "junk" for _, label in blocks])
    return pages, labels, [p.url.split("/")[2] for p in pages]


def test_a_model_taught_one_site_gets_a_word_column_from_its_other_pages(monkeypatch):
    """Grouped by site, one site gives no out-of-fold regression at all (a constant column the
    next stages ignore); its pages are grouped one by one instead, as a site's new pages meet
    the furniture of its old ones."""
    columns = []
    real = LexicalModel.out_of_fold

    def spy(*args, **kwargs):
        columns.append(real(*args, **kwargs))
        return columns[-1]

    monkeypatch.setattr(LexicalModel, "out_of_fold", staticmethod(spy))
    pages, labels, groups = _pages(range(1))
    BlockClassifier(folds=3).fit(pages, labels, groups=groups)
    assert len(set(groups)) == 1 and np.ptp(columns[0]) > 0.1


def test_a_model_fitted_before_the_word_stage_still_cleans():
    """Models pickled before `lexical_` existed (a site's own model from an earlier release)
    load under the same feature schema, and their stages read no word column."""
    pages, labels, groups = _pages(range(2))
    model = BlockClassifier(folds=2)
    model._fit_lexical = lambda *args: None  # as fit was then: no word column added
    model.fit(pages, labels, groups=groups)
    del model._fit_lexical
    del model.lexical_
    url, html, _ = make_page(3, 1)
    result = Cleaner(LoadedModel(model, {"version": "old-1"}, Path("old.joblib"))).clean(html, url=url)
    assert result.text and result.removed
