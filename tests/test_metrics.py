"""The measures the benchmarks and the model card print."""

from __future__ import annotations

from train.metrics import CUT_SNIPPET_CHARS, snippet_rates

TEXT = ("The harbour board said the old pier, closed since the winter storms, will reopen to "
        "walkers on Monday after repairs to its deck.")


def test_a_with_snippet_cut_inside_a_word_is_found():
    """WCXB cuts long `with` snippets at 80 characters, often inside a word: matched as whole
    words, such a snippet was missing even from the gold text, for every tool alike."""
    cut = TEXT[:TEXT.index("walkers") + 4]  # "… reopen to walk"
    assert len(cut) >= CUT_SNIPPET_CHARS
    assert snippet_rates(TEXT, [cut], []) == (1.0, None)
    assert snippet_rates("The harbour board said nothing.", [cut], []) == (0.0, None)
    # only its last word may be cut: its first is a whole word of the text
    assert snippet_rates("X" + TEXT[0].lower() + TEXT[1:], [cut], []) == (0.0, None)


def test_short_snippets_are_matched_as_whole_words():
    assert snippet_rates(TEXT, ["walkers on Mon"], []) == (0.0, None)
    # a `without` snippet is boilerplate: "Share" is not leaked by "shared"
    assert snippet_rates("The story was shared widely.", [], ["Share"]) == (None, 0.0)
    assert snippet_rates("Share this story", ["walkers"], ["Share"]) == (0.0, 1.0)
