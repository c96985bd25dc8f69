"""Alignment of blocks with a page's gold text (`train.align`): the content-or-not labels of
the shipped model's training data, and of the labels `bootstrap` proposes."""

from __future__ import annotations

from train.align import align

_GOLD = ("Pier to reopen\n"
         "The harbour board said the old pier, closed since the winter storms, will reopen to "
         "walkers on Monday after repairs to its deck.\n"
         "Engineers replaced forty planks and two railings over the spring.")


def test_alignment_ignores_case_and_takes_an_exact_short_line():
    blocks = ["PIER TO REOPEN", _GOLD.splitlines()[1].upper(), "Share this"]
    assert align(blocks, _GOLD) == [True, True, False]


def test_a_short_quote_of_the_article_is_content_only_between_content():
    para, para2 = _GOLD.splitlines()[1:]
    quote = "walkers on Monday"  # 3 words, inside a gold line, not a line of its own
    assert align([para, quote, para2], _GOLD) == [True, True, True]
    assert align([para, quote, "Share this story with friends today"], _GOLD) == [True, False, False]
    assert align(["Share this", quote, para2], _GOLD) == [False, False, True]


def test_a_block_is_content_when_most_of_its_trigrams_are_in_the_gold_text():
    most = "The harbour board said the old pier, closed since the council vote"  # 6 of 8
    few = "The harbour board met the council on the budget for the library"  # 1 of 10
    assert align([most, few], _GOLD) == [True, False]


def test_a_block_with_exactly_half_its_trigrams_in_the_gold_text_goes_by_its_neighbours():
    """A tie, decided as a short block found in the gold text is (the shipped model's labels
    are made so: 355 WCXB-dev blocks, mostly four-word headings, 137 of them made content)."""
    para, para2 = _GOLD.splitlines()[1:]
    half = "Engineers replaced forty boats"  # 1 of 2 trigrams
    assert align([para, half, para2], _GOLD) == [True, True, True]
    assert align(["Share this story with friends today", half, para2], _GOLD) == [False, False, True]
