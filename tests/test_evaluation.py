"""Scores of a model on labelled pages (`train.evaluation`) and what `promote` makes of them
(`train.promote.compare`), on hand-built predictions: no model is trained."""

from __future__ import annotations

import numpy as np

from train.evaluation import Evaluation, PageResult, cross_validate, evaluate
from train.examples import BlockLabel, Example, label_page
from train.promote import Thresholds, compare


def test_precision_is_undefined_when_nothing_is_kept():
    ev = Evaluation("content", ["content", "junk"], ["content", "junk"], ["junk", "junk"])
    assert ev.keep_scores() == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}


class _Fixed:
    """A model that predicts fixed labels."""

    classes_ = np.array(["content", "junk"])

    def __init__(self, labels):
        self.labels = labels

    def predict_page(self, page):
        probs = np.array([[0.9, 0.1] if lab == "content" else [0.1, 0.9] for lab in self.labels])
        return list(self.labels), probs


def test_a_noncontent_block_is_wrong_only_when_kept():
    """`noncontent` is any label but the keep label: a worst page lists it only when kept."""
    ex = Example(id="p", text="The article body is here.\nShare this\nSign up now", blocks=[
        BlockLabel("The article body is here.", "content"), BlockLabel("Share this", "noncontent"),
        BlockLabel("Sign up now", "noncontent")])
    lp, problems = label_page(ex)
    assert problems == [] and lp.labels == ["content", "noncontent", "noncontent"]
    ev = evaluate(_Fixed(["content", "content", "junk"]), [lp], baseline=False)
    assert [w["text"] for w in ev.pages[0].wrong] == ["Share this"]


def test_cross_validation_of_one_site_is_skipped_with_the_reason():
    pages = []
    for n in range(3):
        ex = Example(id=f"p{n}", text=f"Body {n} is here.\nShare this", url=f"https://a.example.com/{n}",
                     blocks=[BlockLabel(f"Body {n} is here.", "content"), BlockLabel("Share this", "junk")])
        pages.append(label_page(ex)[0])
    assert cross_validate(pages, "content", folds=2) == {
        "skipped": "the pages come from 1 site(s); cross-validation by site needs 2"}


def _scores(predicted: list[str], word_f1: float) -> Evaluation:
    gold = ["content"] * 50 + ["junk"] * 50
    return Evaluation("content", ["content", "junk"], gold, predicted,
                      [PageResult("p", None, 100, [], word_f1=word_f1)])


def test_a_small_regression_is_refused_and_each_measure_has_its_own_allowed_drop():
    """With the default --max-drop 0 a candidate 0.01 worse is refused; --max-drop-word-f1
    allows a drop of that measure only."""
    active = _scores(["content"] * 50 + ["junk"] * 50, 0.90)
    candidate = _scores(["content"] * 49 + ["junk"] * 51, 0.87)  # content F1 1.000 -> 0.990

    def passed(thresholds):
        return {c.measure: c.passed for c in compare(candidate, active, thresholds)}

    assert passed(Thresholds()) == {"content_f1": False, "macro_f1": False, "word_f1": False}
    assert passed(Thresholds(content_f1=0.0, macro_f1=0.0, word_f1=0.05)) == {
        "content_f1": False, "macro_f1": False, "word_f1": True}
    assert passed(Thresholds(content_f1=0.05, macro_f1=0.05, word_f1=0.0)) == {
        "content_f1": True, "macro_f1": True, "word_f1": False}
