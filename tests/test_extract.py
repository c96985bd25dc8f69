"""Extraction keeps everything trafilatura keeps: the classifier decides what goes, never the
segmentation. Text that trafilatura leaves loose between its elements, a list item's own words
before its nested list, and the comment section all become blocks."""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree
from trafilatura import bare_extraction

from filter.blocks import segment_text
from filter.extract import _segments, html_to_page

WORD = re.compile(r"\w+")

FORUM_HTML = """<html><head><title>Which tent for the Pyrenees?</title></head><body>
<div class="post"><h1>Which tent for the Pyrenees?</h1>
<p>We are planning two weeks of hiking in the Pyrenees in June and need a light tent for two
people that can cope with wind on the ridges. Any recommendations from people who went?</p></div>
<h3>Short answer</h3>Take a tunnel tent if you camp high, a dome if you stay in the valleys where
the campsites are sheltered and the ground is soft enough for pegs.
<div id="comments" class="comments"><h2>Comments</h2>
<div class="comment"><p>We used a two-person tunnel tent on the GR10 last summer and it held up
in strong wind near the Brèche de Roland. Pegs were the problem, bring longer ones.</p></div>
<div class="comment"><p>Seconded. Also check the refuges, several of them let you pitch next to
them for a small fee and you can buy dinner there.</p></div></div>
</body></html>"""


def _words(text: str) -> Counter:
    return Counter(w.lower() for w in WORD.findall(text))


def test_loose_text_and_nested_list_items_become_blocks():
    body = etree.fromstring(
        "<body><head>Title</head>Loose text after the heading"
        "<list><item>Intro <hi>words</hi><list><item>a</item><item>b</item></list> after</item></list>"
        "<p>para</p>tail text<div>div text<p>inner</p></div></body>")
    assert [s.text for s in _segments(body)] == [
        "Title", "Loose text after the heading", "Intro words after", "a", "b", "para",
        "tail text", "div text", "inner"]


def test_blocks_hold_every_word_trafilatura_keeps(article_html):
    for html in (article_html, FORUM_HTML):
        for fast in (True, False):
            doc = bare_extraction(html, fast=fast, include_comments=True, with_metadata=False)
            for tree in (doc.body, doc.commentsbody):
                if tree is None:
                    continue
                blocks = " ".join(s.text for s in _segments(tree))
                assert _words(blocks) == _words(" ".join(tree.itertext()))


def test_comment_section_is_kept_and_marked():
    page = html_to_page(FORUM_HTML, url="https://forum.example/t/123")
    texts = [b.text for b in page.blocks]
    assert any("GR10" in t for t in texts) and any("refuges" in t for t in texts)
    assert len(texts) == len(set(texts)), "a comment the body already holds is not repeated"


def test_blocks_without_visible_text_are_dropped():
    """Layout padding such as a paragraph holding only a zero-width joiner is not a block."""
    html = ("<html><body><article><h1>Harbour bridge reopens</h1>"
            "<p>The harbour bridge reopened to traffic on Saturday morning after two years of "
            "structural repairs that cost the city more than forty million euros.</p>"
            "<p>\u200d</p><p>\u00ad \u200b</p>"
            "<p>Engineers replaced the steel cables on the northern span and rebuilt the concrete "
            "deck, which had cracked during the storms of the winter before last.</p>"
            "</article></body></html>")
    texts = [b.text for b in html_to_page(html).blocks]
    assert any(t.startswith("The harbour bridge") for t in texts)
    assert any(t.startswith("Engineers replaced") for t in texts)
    assert all(any(ch.isalnum() for ch in t) for t in texts), texts
    assert [b.text for b in segment_text("First line\n\u200d\n \u200b \nSecond line")] == [
        "First line", "Second line"]


def test_full_pass_runs_only_when_the_fast_pass_keeps_little_of_the_page(monkeypatch):
    """trafilatura's slower full pass (with its fallback extractors) is tried when the fast pass
    keeps under 15% of the page's visible text, and its result is used when it keeps more."""
    import filter.extract as extract

    calls = []

    def fake_bare(tree, url, fast):
        calls.append("fast" if fast else "full")
        return etree.fromstring(f"<body><p>{'x' * (10 if fast else 500)}</p></body>"), None

    monkeypatch.setattr(extract, "_bare", fake_bare)
    tree = etree.fromstring("<html><body/></html>")
    body, _ = extract._extract_trees(tree, None, page_chars=1000)
    assert calls == ["fast", "full"] and len(body[0].text) == 500
    calls.clear()
    body, _ = extract._extract_trees(tree, None, page_chars=60)
    assert calls == ["fast"] and len(body[0].text) == 10
