"""Edges of prediction (filter/model.py), of turning labels into a result (filter/cleaner.py) and
of the result (filter/result.py): the structure of the three stages, the exact bounds of the
page-shape rules, and what a caller reads off `CleanResult`."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

import filter.extract
from filter import Cleaner, clean, clean_text, default_cleaner
from filter.blocks import Block, Link, Page
from filter.cleaner import related_links
from filter.errors import ModelError
from filter.features import LONG_BLOCK_WORDS, PageFeatures
from filter.model import (ARTICLE_LONG_SHARE, NO_ARTICLE_SHARE, SLIGHT_LINK_SHARE, BlockClassifier,
                          check_schema, context_columns)
from filter.modelfile import LoadedModel
from filter.result import CleanResult, RelatedLink
from retrain_site import make_page
from test_library import _LONG_BLOCKS, _NEWS_URL, _keep_probabilities


def _words(n: int, stem: str = "w") -> str:
    return " ".join(f"{stem}{k}" for k in range(n))


def _tiny_model(keep: str = "content", other: str = "junk") -> BlockClassifier:
    """A model fitted in a second on six generated pages: `keep` for their article blocks, `other`
    for everything else (one kind of noise only)."""
    pages, labels = [], []
    for site in range(2):
        for n in range(3):
            url, _, blocks = make_page(site, n)
            pages.append(Page(blocks=[Block(text) for text, _ in blocks], url=url))
            labels.append([keep if label == "content" else other for _, label in blocks])
    return BlockClassifier(keep_label=keep, folds=2).fit(
        pages, labels, groups=[p.url.split("/")[2] for p in pages])


# -- the three stages ------------------------------------------------------------------------

def test_context_columns_are_the_neighbours_the_page_averages_and_its_likely_article():
    """12 columns per block: its first-pass probability; those of the blocks 3, 2, 1 before and
    1, 2, 3 after (-1 off the page); the mean after it and before it; whether it is after the
    last likely-content block (p > 0.5) or before the first; the page's mean."""
    got = context_columns(np.array([0.2, 0.9, 0.45, 0.1]))
    want = np.array([
        [0.2, 0.9, 0.45, 0.1],
        [-1, -1, -1, 0.2], [-1, -1, 0.2, 0.9], [-1, 0.2, 0.9, 0.45],  # 3, 2, 1 before
        [0.9, 0.45, 0.1, -1], [0.45, 0.1, -1, -1], [0.1, -1, -1, -1],  # 1, 2, 3 after
        [1.45 / 3, 0.55 / 2, 0.1, 0.0],  # mean of the blocks after it
        [0.0, 0.2, 1.1 / 2, 1.55 / 3],  # mean of the blocks before it
        [0, 0, 1, 1],  # after the last likely-content block (only 0.9 is over 0.5)
        [1, 0, 0, 0],  # before the first
        [0.4125] * 4,
    ]).T
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(context_columns(np.array([0.7])),
                               [[0.7, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0.7]])
    assert context_columns(np.array([])).shape == (0, 12)


def test_each_stage_reads_the_previous_stages_probabilities(article_html, monkeypatch):
    """As the module says: the first stage reads the features and the word stage's column, the
    context stage the first stage's probabilities (topic and sequence columns), the label stage
    the context stage's; the page's content probability is the context stage's, and the kinds
    of noise share what is left of it."""
    model = copy.deepcopy(default_cleaner().model)
    seen = {}
    for name in ("first_", "context_", "kind_"):
        booster = getattr(model, name)

        def spy(x, booster=booster, name=name, real=booster.predict_proba):
            seen[name] = (x, real(x))
            return seen[name][1]
        monkeypatch.setattr(booster, "predict_proba", spy)
    page = filter.extract.html_to_page(article_html, url=_NEWS_URL)
    probs = model.predict_proba_page(page)
    feats = PageFeatures(page)
    feats.add_column(model.lexical_.predict([block.text for block in page.blocks]))
    np.testing.assert_array_equal(seen["first_"][0], feats.matrix)
    p1 = seen["first_"][1][:, 1]
    x2, out2 = seen["context_"]
    np.testing.assert_array_equal(x2, np.hstack([feats.with_topic(p1), context_columns(p1)]))
    p_keep = out2[:, 1]
    x3, kinds = seen["kind_"]
    np.testing.assert_array_equal(x3, np.hstack([feats.with_topic(p_keep),
                                                 context_columns(p_keep)]))
    np.testing.assert_allclose(probs[:, 0], p_keep)
    cols = [list(model.classes_).index(c) for c in model.kind_.classes_]
    np.testing.assert_allclose(probs[:, cols], (1 - p_keep)[:, None] * kinds)


def test_every_blocks_scores_sum_to_one():
    url, html, _ = make_page(3, 1)
    result = clean(html, url=url)
    assert result.removed
    assert all(sum(b.scores.values()) == pytest.approx(1) for b in result.blocks)


def test_a_model_with_one_kind_of_noise_scores_it_as_what_is_not_content():
    """Trained on content and junk only (no kind stage), a block's junk score is 1 - content."""
    model = _tiny_model()
    assert list(model.classes_) == ["content", "junk"] and model.kind_ is None
    url, html, _ = make_page(3, 1)
    cleaner = Cleaner(LoadedModel(model, {"version": "tiny-1"}, Path("tiny.joblib")))
    result = cleaner.clean(html, url=url)
    assert result.text and result.removed
    for block in result.blocks:
        assert block.scores["junk"] == pytest.approx(1 - block.scores["content"])


def test_a_model_without_a_feature_schema_is_refused():
    """A model saved before models recorded their feature schema reads other columns."""
    with pytest.raises(ModelError, match="feature schema 1.*retrain"):
        check_schema(object())


# -- the expected-F1 cut and the thresholds --------------------------------------------------

def test_the_cut_takes_blocks_in_order_of_probability_not_of_the_page():
    """A doubtful 200-word block first on the page is left out; the three likely ones stay."""
    page = Page(blocks=[Block(_words(200, "x")), *_LONG_BLOCKS], url=_NEWS_URL)
    cut = BlockClassifier().expected_f1_cut(page, np.array([0.3, 0.9, 0.9, 0.9]))
    assert list(cut) == [False, True, True, True]


def _shaped(long_blocks: int, short_words: int, **slight) -> Page:
    """An HTML page with `long_blocks` blocks of exactly LONG_BLOCK_WORDS words, then a 5-word
    block (`slight` are its other Block fields), then blocks of 30 words or fewer making up
    `short_words` words with it."""
    blocks = [Block(_words(LONG_BLOCK_WORDS, f"l{i}w")) for i in range(long_blocks)]
    blocks.append(Block(_words(5, "s"), **slight))
    rest, k = short_words - 5, 0
    while rest:
        blocks.append(Block(_words(min(rest, 30), f"f{k}w")))
        rest, k = rest - min(rest, 30), k + 1
    return Page(blocks=blocks, url=_NEWS_URL)


def test_the_article_and_no_article_shares_are_bounds_the_page_reaches():
    """A page with exactly ARTICLE_LONG_SHARE of its words in blocks of exactly LONG_BLOCK_WORDS
    words has an article body (a short block needs the strict threshold, the cut applies); just
    under, it is a page in between; exactly NO_ARTICLE_SHARE is in between still, just under
    has no article body (every block, restored ones too, the looser threshold)."""
    model = BlockClassifier()
    slight = 7  # the 5-word block after the 7 long ones
    article = _shaped(7, 520)  # 280 of 800 words
    assert 280 / 800 == ARTICLE_LONG_SHARE
    assert model.thresholds(article)[slight] == model.strict_threshold
    p = np.array([0.95] * 7 + [0.2] * (len(article.blocks) - 7))
    assert list(model.expected_f1_cut(article, p)) == [True] * 7 + [False] * (len(p) - 7)
    between = _shaped(7, 540)  # 280 of 820
    assert 0.3 < 280 / 820 < ARTICLE_LONG_SHARE
    assert model.thresholds(between)[slight] == model.content_threshold
    p = np.array([0.95] * 7 + [0.2] * (len(between.blocks) - 7))
    assert model.expected_f1_cut(between, p).all()
    edge = _shaped(1, 360, extracted=False)  # 40 of 400
    assert 40 / 400 == NO_ARTICLE_SHARE
    assert model.thresholds(edge) == [model.content_threshold, model.added_threshold] + [
        model.content_threshold] * (len(edge.blocks) - 2)
    listing = _shaped(1, 400, extracted=False)  # 40 of 440
    assert 0.08 < 40 / 440 < NO_ARTICLE_SHARE
    assert model.thresholds(listing) == [model.no_article_threshold] * len(listing.blocks)


@pytest.mark.parametrize("words, link_chars, slight", [
    (10, 0, False), (9, 0, True),
    (21, "half", False), (21, "half+1", True),
])
def test_a_block_is_slight_under_slight_words_or_over_half_link_text(words, link_chars, slight):
    """On an article page a block under 10 words, or with over half its characters in links,
    needs the strict threshold; 10 words, or exactly half, the ordinary one."""
    text = " ".join(["word"] * words)  # 21 words: 104 characters, half of them 52
    half = int(SLIGHT_LINK_SHARE * len(text))
    chars = {0: 0, "half": half, "half+1": half + 1}[link_chars]
    assert not chars or half == SLIGHT_LINK_SHARE * len(text)
    page = Page(blocks=[*_LONG_BLOCKS, Block(text, link_chars=chars)], url=_NEWS_URL)
    model = BlockClassifier()
    want = model.strict_threshold if slight else model.content_threshold
    assert model.thresholds(page)[3] == want


@pytest.mark.parametrize("words, kept", [(20, False), (19, True)])
def test_a_repeat_of_20_words_or_more_is_dropped_shorter_ones_kept(words, kept):
    """A kept block of 20 words or more (the figure chosen on WCXB-dev) is kept once; a shorter
    line may repeat ("Yes", "N/A" rows)."""
    model = copy.deepcopy(default_cleaner().model)
    model.f1_cut_scale = None
    line = _words(words, "again")
    page = Page(blocks=[*_LONG_BLOCKS, Block(line), Block(line)], url=_NEWS_URL)
    labels = model.labels_from_proba(page, _keep_probabilities(model, [0.95] * 5))
    assert labels[:4] == ["content"] * 4 and (labels[4] == "content") == kept


@pytest.mark.parametrize("chars, article", [(200, True), (195, False)])
def test_thai_counts_five_characters_to_a_word(chars, article):
    """Three Thai paragraphs of 200 characters are 40 words each: an article body."""
    thai = "".join(chr(0x0E01 + k % 40) for k in range(chars))
    page = Page(blocks=[Block(thai)] * 3 + [Block("ข่าวที่เกี่ยวข้อง")], url=_NEWS_URL)
    model = BlockClassifier()
    want = model.strict_threshold if article else model.no_article_threshold
    assert model.thresholds(page)[3] == want


# -- the result ------------------------------------------------------------------------------

def test_a_blocks_kind_reaches_the_result():
    body = "".join(f"<p>Paragraph {k}: the storm closed the harbour road for two days while crews "
                   "cleared the fallen trees and repaired the sea wall.</p>" for k in range(4))
    item = "<ul><li><a href='/news/2'>Sea wall repairs delayed</a></li></ul>"
    result = clean(f"<html><head><title>Storm</title></head><body><article><h1>Storm closes the "
                   f"road</h1>{body}{item}</article></body></html>", url=_NEWS_URL)
    kinds = {b.text: b.kind for b in result.blocks}
    assert kinds["Storm closes the road"] == "head" and kinds["Sea wall repairs delayed"] == "item"


def test_removed_holds_no_kept_block_of_a_model_keeping_another_label():
    model = _tiny_model(keep="body", other="other")
    url, html, _ = make_page(3, 1)
    cleaner = Cleaner(LoadedModel(model, {"version": "body-1"}, Path("body.joblib")))
    result = cleaner.clean(html, url=url)
    assert result.keep_label == "body" and result.text
    assert result.removed and all(b.label == "other" for b in result.removed)


def test_the_empty_reason_is_the_first_thing_that_went_wrong(monkeypatch):
    """The first note says why the rest followed (no full pass, so no main text found)."""
    monkeypatch.setattr(filter.extract, "MAX_FALLBACK_PARAGRAPHS", 0)
    result = clean("<html><body><div></div></body></html>", url=_NEWS_URL)
    assert result.text == ""
    assert result.empty_reason.startswith("trafilatura's full pass was not tried")


def _related(urls: list[str], page: str = "https://site.example/news/1") -> list[str]:
    blocks = [Block("More", links=tuple(Link(f"Story {k}", u) for k, u in enumerate(urls)))]
    return [link.url for link in related_links(blocks, ["related"], page_url=page)]


def test_http_hrefs_without_their_slashes_are_the_address_a_browser_follows():
    """On an https page "http:/host/path" and "http:\\\\host\\path" name the host (WHATWG URL);
    "https:/path", the page's own scheme, is a path on the page's host."""
    assert _related(["http:/site.example/news/2"]) == ["http://site.example/news/2"]
    assert _related(["http:\\\\site.example\\news\\2"]) == ["http://site.example/news/2"]
    assert _related(["https:/site.example/news/3"]) == ["https://site.example/site.example/news/3"]


def test_related_links_leave_out_the_page_with_tracking_parameters_and_read_queries_unordered():
    page = "https://site.example/news/1"
    story = "https://site.example/news/3"
    assert _related([page + "?ref=nav", page + "?_gl=1*x1y2z3", story + "?a=1&b=2",
                     story + "?b=2&a=1"], page) == [story + "?a=1&b=2"]


def test_a_host_with_sharp_s_is_its_own_idna_2008_site():
    """Browsers read "straße.de" as "xn--strae-oqa.de" (not IDNA 2003's "strasse.de")."""
    page = "https://xn--strae-oqa.de/a"
    assert _related(["https://straße.de/b"], page) == ["https://straße.de/b"]
    assert _related(["https://strasse.de/b"], page) == []


def test_clean_text_drops_the_unit_separator_as_a_page_does():
    line = "Harbour\x1fbridge reopens on Saturday morning."
    html = f"<html><body><article><p>{line}</p></article></body></html>"
    from_html = [b.text for b in clean(html).blocks]
    assert [b.text for b in clean_text(line).blocks] == from_html == [line.replace("\x1f", "")]


def test_to_dict_gives_related_links_as_objects_with_title_and_url():
    result = CleanResult(text="", blocks=[],
                         related_links=[RelatedLink("Bridge", "https://a.example/b")])
    assert result.to_dict()["related_links"] == [{"title": "Bridge", "url": "https://a.example/b"}]
