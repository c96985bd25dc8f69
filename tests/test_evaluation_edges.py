"""Edges of scoring (`train.metrics`, `train.align`, `train.evaluation`): the exact snippet cut,
the alignment of word-less, partial-word and page-edge blocks, and what `evaluate`,
`cross_validate` and the report say, on hand-built pages and fake models: no model is trained."""

from __future__ import annotations

import numpy as np
import pytest

import train.evaluation
from test_align import _GOLD
from test_evaluation import _Fixed
from test_metrics import TEXT
from train.align import align
from train.evaluation import (Evaluation, PageResult, cross_validate, evaluate, folds_left_out,
                              not_by_site, report_dict, report_markdown)
from train.examples import BlockLabel, Example, label_page
from train.metrics import snippet_rates, word_prf

_INFO = {"version": "v", "path": "m.joblib", "sha256": "0" * 64, "labels": ["content", "junk"]}
_PARA, _PARA2 = _GOLD.splitlines()[1:]


# -- snippets and words ------------------------------------------------------------------------

def _cut_snippet(length: int) -> str:
    """A snippet of TEXT of exactly `length` characters that starts at a word and ends inside
    one, as WCXB's cut snippets do."""
    for start in (i for i in range(len(TEXT)) if i == 0 or TEXT[i - 1] == " "):
        end = start + length
        if end < len(TEXT) and TEXT[end - 1].isalpha() and TEXT[end].isalpha():
            return TEXT[start:end]
    raise AssertionError(f"TEXT has no {length}-character snippet ending inside a word")


@pytest.mark.parametrize("length, found", [(77, 0.0), (78, 1.0), (80, 1.0), (81, 0.0)])
def test_only_snippets_of_the_cut_length_may_end_inside_a_word(length, found):
    """WCXB cuts at 80 characters, less a space or mark at the end (78 to 80): a 78-character
    cut snippet counted as missed made every tool's recall look worse, and a 77- or 81-character
    one ending in the start of a word ("reopen to walk") is no cut and must not pass for found."""
    cut = _cut_snippet(length)
    assert len(cut) == length
    assert snippet_rates(TEXT, [cut], []) == (found, None)


def test_a_without_snippet_without_a_word_is_not_counted():
    """A `without` snippet of a dash is no snippet: counted, a page of nothing but such
    snippets showed a leakage of 0.0 where it has none to measure."""
    assert snippet_rates("a b", [], ["—"]) == (None, None)
    assert snippet_rates("a b", [], ["—", "b"]) == (None, 1.0)


def test_words_are_compared_after_compatibility_normalisation():
    """A gold text typeset with the "ﬁ" ligature is the same word as "fine": compared as
    written, a perfect output scored word F1 0 against it."""
    assert word_prf("ﬁne", "fine")[2] == 1.0
    gold = "The fine harbour pier reopened on Monday"
    assert align([gold.replace("fi", "ﬁ")], gold) == [True]


# -- alignment ---------------------------------------------------------------------------------

def test_a_block_without_a_word_is_never_content():
    """A separator ("—", "* * *") between two paragraphs has no word of the gold text: taken as
    content, it became a training example of content."""
    assert align(["—"], _GOLD) == [False]
    assert align([_PARA, "* * *", _PARA2], _GOLD) == [True, False, True]


def test_a_short_block_must_be_whole_words_of_the_gold_text():
    """"walk" is no word of a gold text that says "walkers": found as a substring, a short
    block between content was made content too."""
    assert align([_PARA, "walk", _PARA2], _GOLD) == [True, False, True]
    assert align([_PARA, "walkers", _PARA2], _GOLD) == [True, True, True]


def test_a_tie_at_the_edge_of_the_page_has_no_content_neighbour_on_that_side():
    """A short quote of the article or a half-found block is content only between content: at
    the first or last block of a page it has no neighbour there, which is not content."""
    quote, half = "walkers on Monday", "Engineers replaced forty boats"
    assert align([quote, _PARA2], _GOLD) == [False, True]
    assert align([_PARA, quote], _GOLD) == [True, False]
    assert align([half, _PARA2], _GOLD) == [False, True]
    assert align([_PARA, half], _GOLD) == [True, False]


# -- Evaluation --------------------------------------------------------------------------------

def test_the_keep_label_leads_the_labels_even_when_it_does_not_sort_first():
    """The report's keep-or-not line reads the keep label off the first label: sorted, a model
    with a `comment` label was reported as keeping `comment`."""
    ev = Evaluation("content", ["content", "comment", "junk"], ["content", "comment", "junk"],
                    ["content", "comment", "content"])
    assert ev.labels() == ["content", "comment", "junk"]
    assert ev.block_report()["confusion"] == [[1, 0, 0], [0, 1, 0], [1, 0, 0]]
    markdown = report_markdown(report_dict(ev, _INFO, [], {"skipped": "not asked for"}))
    assert "Keep-or-not (`content` against the rest" in markdown


def test_restricted_scores_leave_out_a_block_of_a_label_outside_them_that_was_not_kept():
    """Over the labels two models share, a gold `comment` the five-label model called `junk`
    is no false `junk` (the four-label model cannot say `comment`) and no kept block: counted,
    the comparison went against the model that knows more labels."""
    five = Evaluation("content", ["content", "comment", "junk"], ["content", "junk", "comment"],
                      ["content", "junk", "junk"])
    report = five.block_report(restrict={"content", "junk"})
    assert report["per_label"]["junk"]["precision"] == 1.0
    assert report["kept_unlisted"] == 0


def test_the_summary_content_f1_is_the_keep_label_f1():
    """`promote` compares the summary's content F1: as precision, a model keeping one right
    block out of ten passed for perfect."""
    ev = Evaluation("content", ["content", "junk"], ["content"] * 10, ["content"] + ["junk"] * 9)
    assert ev.keep_scores()["precision"] == 1.0
    assert ev.summary()["content_f1"] == ev.keep_scores()["f1"] == pytest.approx(2 / 11)


def test_pages_without_gold_text_give_no_word_f1_and_no_baseline_gives_none():
    """Pages with no gold text have no mean word F1: None (shown as "–"), not NaN with a numpy
    warning; a run with `--no-baseline` has no trafilatura score, not 0.0."""
    no_gold = Evaluation("content", ["content", "junk"], pages=[PageResult("p", None, 1, [])])
    assert no_gold.word_f1() == (None, None, 0)
    assert no_gold.summary()["word_f1"] is None
    no_baseline = Evaluation("content", ["content", "junk"], pages=[PageResult("p", None, 1, [], 0.5)])
    assert no_baseline.word_f1() == (0.5, None, 1)


def test_a_wrong_block_shows_the_score_of_the_label_predicted_and_of_the_blocks_scored():
    """The worst pages list a wrong block with the model's probability of what it predicted
    (0.9 for `junk`, not its 0.1 for the keep label) and as wrong among the page's labelled
    blocks, not among all its blocks (one left unlabelled made "1 of 3")."""
    ex = Example(id="p", text="The article body is here.\nShare this\nSign up now", blocks=[
        BlockLabel("The article body is here.", "content"), BlockLabel("Share this", "junk")])
    lp, _ = label_page(ex)
    assert lp.left_out == 1
    ev = evaluate(_Fixed(["junk", "junk", "junk"]), [lp], baseline=False)
    page = ev.pages[0]
    assert page.blocks == 2
    assert page.wrong == [{"text": "The article body is here.", "gold": "content",
                           "predicted": "junk", "score": 0.9}]
    markdown = report_markdown(report_dict(ev, _INFO, [], {"skipped": "not asked for"}))
    assert "1 of 2 blocks wrong" in markdown
    assert "| The article body is here. | `content` | `junk` | 0.90 |" in markdown


def test_a_page_word_f1_is_the_f1_of_the_kept_text_not_its_precision():
    """A page keeping one of its two paragraphs kept only right words (precision 1) and lost a
    third of them: its word F1 is 0.8, not the 1.0 of its precision."""
    first, second = "The harbour board said the pier will reopen.", "Engineers replaced forty planks."
    ex = Example(id="p", text=f"{first}\n{second}\nShare this", blocks=[
        BlockLabel(first, "content"), BlockLabel(second, "content"), BlockLabel("Share this", "junk")])
    lp, _ = label_page(ex)
    ev = evaluate(_Fixed(["content", "junk", "junk"]), [lp], baseline=False)
    assert ev.pages[0].word_f1 == pytest.approx(0.8)
    assert ev.summary()["word_f1"] == pytest.approx(0.8)


# -- cross-validation --------------------------------------------------------------------------

class _ByText:
    """A fitted model that predicts each block by its text (the keep label otherwise)."""

    def __init__(self, classes: list[str], by_text: dict[str, str] | None = None):
        self.classes_ = np.array(classes)
        self.by_text = by_text or {}

    def predict_page(self, page):
        predicted = [self.by_text.get(b.text, str(self.classes_[0])) for b in page.blocks]
        probs = np.array([[0.8 if c == p else 0.2 / (len(self.classes_) - 1) for c in self.classes_]
                          for p in predicted])
        return predicted, probs


def _site_pages(urls: list[str | None]) -> list:
    pages = []
    for n, url in enumerate(urls):
        ex = Example(id=f"p{n}", text=f"Body {n} is here.\nShare this", url=url,
                     blocks=[BlockLabel(f"Body {n} is here.", "content"), BlockLabel("Share this", "junk")])
        pages.append(label_page(ex)[0])
    return pages


@pytest.fixture
def fits(monkeypatch):
    """Replaces training in `cross_validate`: each call to `fit` is recorded and returns the
    next of the models the test puts in `fits["models"]` (a content/junk model that gets every
    block right by default)."""
    state = {"calls": [], "models": []}

    def fake_fit(train, keep_label="content", seed=0, folds=5):
        state["calls"].append({"pages": [lp.example.id for lp in train], "keep_label": keep_label,
                               "seed": seed, "folds": folds})
        if state["models"]:
            return state["models"].pop(0)
        return _ByText(["content", "junk"], {"Share this": "junk"})
    monkeypatch.setattr(train.evaluation, "fit", fake_fit)
    return state


@pytest.mark.parametrize("folds", [0, 1])
def test_cross_validation_with_fewer_than_two_folds_is_turned_off(fits, folds):
    """`--cv 1` (or 0) turns cross-validation off, and says so, rather than training anything."""
    assert cross_validate(_site_pages(["https://a.example/1", "https://b.example/1"]), "content",
                          folds=folds) == {"skipped": f"cross-validation was turned off (--cv {folds}: "
                                                      "it needs 2 folds or more)"}
    assert fits["calls"] == []


def test_cross_validation_has_no_more_folds_than_groups_and_passes_its_options_to_training(fits):
    """With the default 5 folds and pages of 3 sites there are 3 folds (asked for 5,
    cross-validation ended in scikit-learn's error), each trained with the seed and inner folds
    the user gave."""
    urls = ["https://a.example/1", "https://a.example/2", "https://b.example/1", "https://c.example/1"]
    cv = cross_validate(_site_pages(urls), "content", folds=5, seed=7, inner_folds=3)
    assert cv["k"] == 3 and [f["fold"] for f in cv["folds"]] == [1, 2, 3]
    assert (cv["groups"], cv["sites"], cv["pages_without_url"]) == (3, 3, 0)
    assert [(c["seed"], c["folds"], c["keep_label"]) for c in fits["calls"]] == [(7, 3, "content")] * 3
    assert cv["summary"] == {"content_f1": 1.0, "macro_f1": 1.0, "word_f1": 1.0}


def test_pooled_cross_validation_knows_the_labels_of_every_folds_model(fits):
    """A later fold's model that calls a `junk` block `teaser` made a wrong prediction: with the
    first fold's labels only, the pooled table had no `teaser` column and lost that block."""
    fits["models"] = [_ByText(["content", "junk"], {"Share this": "junk"}),
                      _ByText(["content", "junk", "teaser"], {"Share this": "teaser"})]
    cv = cross_validate(_site_pages(["https://a.example/1", "https://b.example/1"]), "content", folds=2)
    assert cv["blocks"]["labels"] == ["content", "junk", "teaser"]
    assert cv["blocks"]["confusion"] == [[2, 0, 0], [0, 1, 1], [0, 0, 0]]
    assert cv["blocks"]["per_label"]["junk"]["recall"] == 0.5


def test_cross_validation_counts_the_pages_without_a_url(fits):
    """Two sites and one page without a url: one page makes the cross-validation not by site
    (counted the other way round, the warning named the pages that have a url)."""
    pages = _site_pages(["https://a.example/1", "https://b.example/1", None])
    cv = cross_validate(pages, "content", folds=3)
    assert (cv["groups"], cv["sites"], cv["pages_without_url"]) == (3, 2, 1)
    assert not_by_site(cv, 3) == ("1 of 3 pages have no url: each is its own group, so "
                                  "cross-validation is not by site")
    markdown = report_markdown(report_dict(Evaluation("content", ["content", "junk"]), _INFO, [], cv))
    assert "3 folds over 3 groups (2 sites and 1 page without a url)" in markdown


def test_one_site_is_said_as_one_site(fits):
    """The report's cross-validation line said "(1 sites and 1 page without a url)"."""
    pages = _site_pages(["https://a.example/1", "https://a.example/2", None])
    cv = cross_validate(pages, "content", folds=2)
    assert (cv["groups"], cv["sites"], cv["pages_without_url"]) == (2, 1, 1)
    markdown = report_markdown(report_dict(Evaluation("content", ["content", "junk"]), _INFO, [], cv))
    assert "2 folds over 2 groups (1 site and 1 page without a url)" in markdown


def test_a_cross_validation_with_every_url_is_by_site():
    """`pages_without_url` 0 is no caveat: the report warned "0 of 5 pages have no url"."""
    assert not_by_site({"pages_without_url": 0}, 5) is None
    assert not_by_site({"skipped": "the pages come from 1 site(s)"}, 5) is None


def test_one_fold_left_out_is_said_without_more():
    """One fold that could not be trained is said alone: the warning ended in "nor 0 more"."""
    cv = {"folds": [{"fold": 1, "skipped": "only one label"}, {"fold": 2, "pages": 3}],
          "pages": 6, "pages_scored": 3}
    assert folds_left_out(cv) == ("pooled over 1 of 2 folds, 3 of 6 pages: fold 1 could not be "
                                  "trained (only one label)")


# -- the report --------------------------------------------------------------------------------

def test_noncontent_gold_labels_are_no_unknown_labels():
    """`noncontent` (not content, kind unknown) is a label every model scores against: listed
    as a gold label the model does not know, the report said the model cannot predict it."""
    ev = Evaluation("content", ["content", "junk"], ["content", "noncontent", "comment"],
                    ["content", "junk", "junk"])
    rep = report_dict(ev, _INFO, [], {"skipped": "not asked for"})
    assert rep["unknown_gold_labels"] == {"comment": 1}
    assert "does not know (it cannot predict them): `comment` (1)." in report_markdown(rep)


def test_worst_pages_of_equal_word_f1_put_the_one_with_more_wrong_blocks_first():
    """Among pages of one word F1 (or none), the one with more wrong blocks is worse and is
    listed first: the other way round, `--worst 1` showed the page with fewer errors."""
    wrong = [{"text": "x", "gold": "junk", "predicted": "content", "score": 0.9}]
    ev = Evaluation("content", ["content", "junk"], pages=[
        PageResult("one", None, 3, wrong, 0.5), PageResult("two", None, 3, wrong * 2, 0.5),
        PageResult("none-gold-one", None, 3, wrong), PageResult("none-gold-two", None, 3, wrong * 2)])
    rep = report_dict(ev, _INFO, [], {"skipped": "not asked for"})
    assert [p["id"] for p in rep["worst_pages"]] == ["two", "one", "none-gold-two", "none-gold-one"]


def test_a_report_without_gold_text_kept_unlisted_blocks_or_hidden_pages_says_nothing_of_them():
    """The Markdown report says only what there is: no word-F1 table over 0 pages, no "0 kept
    blocks" outside the matrix, no "The 3 worst of 3" when every page with errors is shown."""
    wrong = [{"text": "x", "gold": "junk", "predicted": "content", "score": 0.9}]
    ev = Evaluation("content", ["content", "junk"], ["content", "junk"], ["content", "junk"],
                    pages=[PageResult(f"p{n}", None, 1, wrong) for n in range(3)])
    rep = report_dict(ev, _INFO, [], {"skipped": "not asked for"}, worst=10)
    assert rep["per_label"]["kept_unlisted"] == 0 and len(rep["worst_pages"]) == 3
    markdown = report_markdown(rep)
    assert "No page has gold text" in markdown and "mean word F1" not in markdown
    assert "Not in the matrix" not in markdown
    assert "worst of" not in markdown and "### `p2`" in markdown


def test_a_report_stopped_by_a_full_disk_leaves_the_earlier_files_whole(tmp_path):
    """`evaluate --report` on a full disk exited 1 but left report.json cut short (16 KiB, no
    JSON) beside a new report.png: each file is now written whole or not at all. The disk is
    made full by a file size limit (`RLIMIT_FSIZE`) in a child process."""
    import json
    import subprocess
    import sys

    wrong = [{"text": "x" * 400, "gold": "junk", "predicted": "content", "score": 0.9}]
    ev = Evaluation("content", ["content", "junk"], pages=[
        PageResult(f"page-{n}", None, 3, wrong * 20, 0.5) for n in range(60)])
    rep = report_dict(ev, _INFO, [], {"skipped": "not asked for"}, worst=60)
    (tmp_path / "rep.json").write_text(json.dumps(rep), encoding="utf-8")
    earlier = {"report.json": '{"earlier": true}\n', "report.md": "# earlier\n"}
    for name, text in earlier.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    script = (
        "import json, resource, signal, sys\n"
        "from train.evaluation import write_report\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"rep = json.load(open({str(tmp_path / 'rep.json')!r}))\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        f"try:\n    write_report(rep, {str(tmp_path)!r})\n"
        "except OSError as err:\n    sys.exit(f'failed: {err}')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert "failed: [Errno 27] File too large" in proc.stderr, proc.stderr
    assert {name: (tmp_path / name).read_text(encoding="utf-8") for name in earlier} == earlier
    assert not list(tmp_path.glob(".report*"))  # no part left behind
