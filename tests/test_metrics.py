"""The measures the benchmarks and the model card print."""

from __future__ import annotations

import pytest

from train.metrics import CUT_SNIPPET_CHARS, block_report, snippet_rates, word_prf

TEXT = ("The harbour board said the old pier, closed since the winter storms, will reopen to "
        "walkers on Monday after repairs to its deck.")


def test_a_with_snippet_cut_inside_a_word_is_found():
    """WCXB cuts long `with` snippets at 80 characters, often inside a word: matched as whole
    words, such a snippet was missing even from the gold text, for every tool alike."""
    cut = TEXT[TEXT.index("said"):TEXT.index("Monday") + 3]  # "said … walkers on Mon"
    assert len(cut) in CUT_SNIPPET_CHARS
    assert snippet_rates(TEXT, [cut], []) == (1.0, None)
    assert snippet_rates("The harbour board said nothing.", [cut], []) == (0.0, None)
    # only its last word may be cut: its first is a whole word of the text
    assert snippet_rates(TEXT.replace(" said", " unsaid"), [cut], []) == (0.0, None)


def test_a_with_snippet_longer_than_the_cut_is_matched_as_whole_words():
    """Only the 80-character cut ends inside a word: 3,806 of WCXB-dev's `with` snippets are
    longer, whole sentences, and one of them ending in "reopen to walk" is not in a text that
    says "reopen to walkers"."""
    longer = TEXT[:TEXT.index("walkers") + 4]  # "The harbour … reopen to walk"
    assert len(longer) > max(CUT_SNIPPET_CHARS)
    assert snippet_rates(TEXT, [longer], []) == (0.0, None)
    assert snippet_rates(TEXT, [TEXT[:TEXT.index("walkers") + 7]], []) == (1.0, None)


def test_short_snippets_are_matched_as_whole_words():
    assert snippet_rates(TEXT, ["walkers on Mon"], []) == (0.0, None)
    # a `without` snippet is boilerplate: "Share" is not leaked by "shared"
    assert snippet_rates("The story was shared widely.", [], ["Share"]) == (None, 0.0)
    assert snippet_rates("Share this story", ["walkers"], ["Share"]) == (0.0, 1.0)


def test_word_f1_counts_words_with_multiplicity_and_empty_against_empty_is_perfect():
    """The benchmark's rule: a page whose gold text and output are both empty is a perfect
    score, not 0 (WCXB's own metric)."""
    assert word_prf("", "") == (1.0, 1.0, 1.0)
    assert word_prf("...", "—") == (1.0, 1.0, 1.0)
    p, r, f = word_prf("the the cat", "The cat sat")
    assert (p, r) == pytest.approx((2 / 3, 2 / 3)) and f == pytest.approx(2 / 3)
    assert word_prf("The Cat", "the cat sat on") == pytest.approx((1.0, 0.5, 2 / 3))


def test_a_short_with_snippet_cut_inside_a_word_is_not_found_and_an_empty_one_not_counted():
    """Only snippets of WCXB's cut length may end inside a word; a snippet without a word (a
    dash) is no snippet at all, neither kept nor missed."""
    short = TEXT[TEXT.index("said"):TEXT.index("walkers") + 4]  # "… reopen to walk"
    assert 60 <= len(short) < min(CUT_SNIPPET_CHARS)
    assert snippet_rates(TEXT, [short], []) == (0.0, None)
    assert snippet_rates(TEXT, ["—", "walkers on Monday"], []) == (1.0, None)



def test_the_macro_f1_of_blocks_averages_the_labels_the_blocks_have():
    """The benchmark's and the model card's macro F1 (`block_report`) counted a label no block
    had as F1 0: a perfect prediction of blocks without teasers or related lists scored 0.5
    over four labels, where `evaluate` (which leaves such labels out) said 1.0."""
    labels = ["content", "related", "teaser", "junk"]
    perfect = block_report(["content", "content", "junk"], ["content", "content", "junk"], labels)
    assert perfect["macro_f1"] == 1.0
    assert perfect["per_label"]["teaser"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    # a label predicted but absent from the gold is a wrong prediction, not a row of its own
    wrong = block_report(["content", "content"], ["content", "teaser"], labels)
    assert wrong["macro_f1"] == pytest.approx(2 / 3)  # content: precision 1, recall 1/2


def test_a_block_report_has_gold_rows_and_predicted_columns_and_none_without_blocks():
    """The confusion matrix is read as rows of gold labels (the benchmark prints it so); a
    label never predicted has precision 0, not 1; and a report of no blocks (the completion
    stage restored none in a benchmark run) is empty, where scikit-learn raised at the end of
    a long run."""
    report = block_report(["junk", "junk", "content"], ["content", "junk", "content"],
                          ["content", "junk", "teaser"])
    assert report["confusion"] == [[1, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert report["per_label"]["teaser"]["precision"] == 0.0
    assert report["per_label"]["content"]["precision"] == 0.5
    assert report["macro_f1"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    empty = block_report([], [], ["content", "not content"])
    assert empty["macro_f1"] is None and empty["confusion"] == [[0, 0], [0, 0]]


def test_a_page_kept_empty_scores_nothing_against_its_gold_text():
    """An empty output against a gold text is word F1 0 (only empty against empty is 1): a
    tool that kept nothing must not look perfect."""
    assert word_prf("", "The harbour reopened on Tuesday.") == (0.0, 0.0, 0.0)
    assert word_prf("The harbour reopened.", "")[2] == 0.0


def test_a_paired_interval_resamples_sites_not_pages():
    """The interval is of the difference on the same pages, and a site's pages go together:
    one site of many pages that gains alone is one piece of evidence, not many."""
    from train.metrics import paired_interval

    same = [0.5, 0.7, 0.9, 0.6]
    assert paired_interval(same, same, ["a", "b", "c", "d"]) == (0.0, 0.0, 0.0)
    point, low, high = paired_interval([0.9, 0.8], [0.7, 0.6], ["a", "b"])
    assert round(point, 9) == round(low, 9) == round(high, 9) == 0.2  # every page gains 0.2
    # forty pages of one site gain 0.5, nine other sites' pages nothing
    ours, theirs = [0.9] * 40 + [0.5] * 9, [0.4] * 40 + [0.5] * 9
    by_page = paired_interval(ours, theirs, [f"p{i}" for i in range(49)])
    by_site = paired_interval(ours, theirs, ["big"] * 40 + [f"s{i}" for i in range(9)])
    assert by_page[0] == by_site[0] and by_site[1] < by_page[1] and by_site[2] > by_page[2]
    assert by_site[1] == 0.0  # resamples without the big site gain nothing
    # pages without a figure (None) are left out in pairs; a ratio as the statistic
    ratio = paired_interval([0.1, None, 0.3], [0.2, 0.5, None], ["a", "b", "c"],
                            statistic=lambda a, b: float(a.mean() / b.mean()))
    assert ratio == (0.5, 0.5, 0.5)
    assert all(v != v for v in paired_interval([None], [0.1], ["a"]))  # NaN: no page
