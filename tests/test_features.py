"""The columns the model reads for each block (`filter.features`): each test reads one column of
a hand-built page. A column computed wrongly changed no test of the clean text on small pages,
but changed the clean text of real ones: a mutation review found 11 columns that could be
miscomputed unnoticed, each change altering 2 to 18 of 50 WCXB-dev pages (a sign-up line kept,
a tip chart dropped)."""

from __future__ import annotations

import numpy as np

from filter.blocks import Block, Link, Page
from filter.features import FEATURE_NAMES, PageFeatures, topic_features

P = ("The harbour bridge reopened to traffic on Saturday morning after two years of structural "
     "repairs, the city council said in a statement on Friday evening, and buses return on Monday.")


def _column(page: Page, name: str) -> np.ndarray:
    return PageFeatures(page).matrix[:, FEATURE_NAMES.index(name)]


def test_a_text_shown_twice_on_the_page_is_marked_both_times():
    page = Page(blocks=[Block("Share this story"), Block(P), Block("share THIS story")])
    assert list(_column(page, "dup_on_page")) == [1.0, 0.0, 1.0]


def test_position_from_the_end_counts_the_blocks_after_the_block():
    page = Page(blocks=[Block(f"{P} {k}") for k in range(5)])
    assert np.allclose(_column(page, "log_index_from_end"), np.log1p([4, 3, 2, 1, 0]))
    assert np.allclose(_column(page, "rel_index_from_end"), [1, .75, .5, .25, 0])


def test_a_block_that_is_one_link_is_marked_as_such():
    link = Link("Ferry timetable changes",
                "https://www.example.com/news/ferry-timetable-changes-explained")
    page = Page(blocks=[Block("Ferry timetable changes", links=(link,), link_chars=23),
                        Block(f"{P} Ferry timetable changes", links=(link,), link_chars=23)])
    assert list(_column(page, "link_same_text")) == [1.0, 0.0]


def test_every_class_word_of_a_block_counts_as_a_hint():
    """A hint after the first few words of a long class list (`col md six wrapper related`)."""
    page = Page(blocks=[Block(P, hints="col md six wrapper related-box related",
                              tag_path="html>body>div>p")])
    assert _column(page, "hint_related")[0] == 1.0


def test_blocks_the_completion_stage_restored_are_marked():
    page = Page(blocks=[Block(P), Block(P + " x", extracted=False)])
    assert list(_column(page, "added")) == [0.0, 1.0]


def test_neighbour_columns_read_the_block_before_and_the_block_after():
    page = Page(blocks=[Block(P, kind="head"), Block(P), Block(P, kind="item")])
    assert list(_column(page, "nb-1_kind_head")) == [0.0, 1.0, 0.0]
    assert list(_column(page, "nb+1_kind_item")) == [0.0, 1.0, 0.0]


def test_the_distance_to_kept_text_is_read_on_a_log_scale():
    page = Page(blocks=[Block(P, extracted=False, kept_distance=3)])
    assert _column(page, "kept_distance")[0] == np.float32(np.log1p(3))


def test_cue_phrases_are_read_past_the_first_words():
    page = Page(blocks=[Block("x" * 100 + " Advertisement")])
    assert _column(page, "cue_ad")[0] == 1.0


def test_topic_overlap_leaves_the_block_itself_out_of_the_article():
    """A content block compared with an article that holds it would always match itself."""
    out = topic_features([{"harbour", "bridge"}, {"ferry", "timetable"}], np.array([1.0, 0.0]), None)
    assert out[0, 0] == 0.0


def test_a_closing_quote_or_an_ellipsis_ends_a_sentence():
    page = Page(blocks=[Block("He said “it opens on Monday.”"), Block("And then…"), Block("Read more")])
    assert list(_column(page, "ends_sentence")) == [1.0, 1.0, 0.0]


def test_a_repeated_phrase_is_the_share_of_words_it_covers():
    page = Page(blocks=[Block("one two one two one two")])
    assert _column(page, "max_ngram_repeat")[0] == 1.0


def test_a_loop_without_spaces_shows_as_repeated_character_runs():
    """A loop of one phrase in a script written without spaces is one "word" to the word
    columns; the runs of four characters show it. Short blocks read as not repeating."""
    loop, prose = "这是一个测试" * 8, "东京的早晨很安静，街上只有几个行人和一辆公共汽车慢慢开过。"
    values = _column(Page(blocks=[Block(loop), Block(prose), Block("Read more")]),
                     "unique_chargram_ratio")
    assert values[0] == np.float32(6 / 45)  # 6 distinct runs of the 45
    assert values[1] == 1.0 and values[2] == 1.0


def test_the_repetition_columns_do_not_depend_on_the_zlib_build(monkeypatch):
    """The model read zlib's compression ratio, and zlib-ng (the system zlib of some
    distributions) compresses differently: the same page gave other feature values there, so
    other labels. No column may depend on how this machine's zlib compresses."""
    import zlib

    page = Page(blocks=[Block("It's a bit of a bit of a bit of a bit of a bit of a bit."), Block(P)])
    before = PageFeatures(page).matrix
    monkeypatch.setattr(zlib, "compress", lambda data, *args, **kwargs: bytes(len(data) // 3))
    assert np.array_equal(PageFeatures(page).matrix, before)


def test_capitals_are_counted_among_letters_only():
    page = Page(blocks=[Block("ABC def, 123!")])
    assert _column(page, "upper_ratio")[0] == np.float32(0.5)


def test_each_class_word_hints_at_one_group():
    """A word listed in two groups counts for the later one only: "story" stood among the
    teaser words, where it did nothing."""
    from collections import Counter

    from filter.features import HINT_GROUPS

    listed = Counter(word for words in HINT_GROUPS.values() for word in words)
    assert [word for word, n in listed.items() if n > 1] == []
