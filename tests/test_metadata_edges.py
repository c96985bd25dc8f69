"""Edges of a page's metadata (`filter.metadata`): the headline as the page and its title give it,
the author and date its JSON-LD gives, its declared language, and the addresses it gives itself,
which keep it out of its own related links."""

from __future__ import annotations

import numpy as np
import pytest

from filter import Cleaner
from filter.extract import html_to_page
from test_metadata import _STORY, _URL, _page

_UPDATED = '<meta property="og:updated_time" content="2024-05-06T10:00:00Z">'
_LONG_HEADLINE = ("Harbour walks reopen after the council finishes repairs to the storm-damaged "
                  "sea wall")


def _json_ld(data: str) -> str:
    return f'<script type="application/ld+json">{data}</script>'


def test_the_author_named_only_in_the_json_ld_is_the_pages_author():
    """Many sites name the author only in their JSON-LD (no `<meta name="author">`): read from the
    meta tags alone, the page had no author."""
    script = _json_ld('{"@context": "https://schema.org", "@type": "NewsArticle", "headline": '
                      '"Harbour walks reopen", "author": {"@type": "Person", "name": '
                      '"Jane Fielding"}}')
    assert _page(f"<title>Harbour walks reopen</title>{script}").author == "Jane Fielding"


@pytest.mark.parametrize("headline", ['["Harbour walks reopen"]', "2024", "true", '{"@value": "x"}'])
def test_a_json_ld_headline_that_is_not_text_leaves_the_page_cleaned(headline):
    """CMSes write a headline as a list, a number or an object: trafilatura hands it on as
    written, and every such page was a TypeError, not a result (an error record in a batch).
    A list gives its first text; anything else leaves the headline to the page's title."""
    script = _json_ld('{"@context": "https://schema.org", "@type": "NewsArticle", '
                      f'"headline": {headline}, "author": ["Jane Fielding"]}}')
    page = _page(f"<title>Harbour walks reopen | Coast News</title>{script}")
    assert page.title == page.full_title == "Harbour walks reopen"
    assert page.author == "Jane Fielding"


def test_a_button_in_the_headline_is_no_part_of_it():
    """rustdoc puts a "Copy item path" button in each page's `<h1>`: every such title was
    "Enum Result Copy item path" (3 WCXB-dev pages)."""
    page = _page("<title>Widget in mycrate::widgets - Rust</title>",
                 "<h1>Struct <span>Widget</span>&nbsp;<button id='copy-path' title='Copy item "
                 "path to clipboard'>Copy item path</button></h1>")
    assert page.title == "Struct Widget"


def test_a_website_after_the_authors_name_does_not_lose_the_name():
    """An address is junk in an author tag only where the tag is one ("www.facebook.com/jane"):
    a name followed by the author's website lost the name too, and the page had no author."""
    page = _page("<title>Harbour walks reopen</title>"
                 "<meta name='author' content='Jane Fielding (www.janefielding.example)'>")
    assert page.author == "Jane Fielding"


def test_a_logo_heading_inside_a_link_home_is_not_the_headline():
    """A site's name in an `<h1>` that a link home wraps (`<a href="/"><h1>…</h1></a>`) is its
    logo as much as one the link is inside: it was taken for the page's only `<h1>`, and every
    page of the site had the site's name for its title."""
    page = _page("<title>Harbour walks reopen after storm | Coast Gazette</title>",
                 "<a href='/'><h1>Coast Gazette</h1></a>")
    assert page.title == "Harbour walks reopen after storm"


def test_a_headline_linked_to_a_fragment_of_the_home_page_is_no_logo():
    """A link to a part of a page ("/#content", a skip link around the headline) is no link home:
    the headline was taken for the site's logo, and the title came out as the site's name."""
    page = _page("<title>Harbour walks reopen after storm | Coast Gazette</title>",
                 "<h1><a href='/#content'>Harbour walks reopen after storm</a></h1>")
    assert page.title == "Harbour walks reopen after storm"


@pytest.mark.parametrize("heading", [
    "<h2>Minister resigns over plan</h2>",
    "<a href='/2024/minister'><h2>Minister resigns over plan</h2></a>",
])
def test_a_heading_that_opens_the_h1_is_its_text_under_an_og_title(heading):
    """An `<h2>` the parser nests at the start of the `<h1>` (or in its link) is what the
    `<h1>` shows: read as ending the heading before any text, the `<h1>` was empty and the
    og:title came out with the site's name."""
    page = html_to_page('<html lang="en"><head><meta property="og:title" content="Minister resigns '
                        f'over plan - Daily News"></head><body><article><h1>{heading}</h1>{_STORY}'
                        "</article></body></html>", url=_URL)
    assert page.title == "Minister resigns over plan"


def test_a_placeholder_og_title_without_an_h1_gives_the_title_elements_headline():
    """Without an `<h1>` to confirm it, the headline of a page whose og:title is a template's
    "undefined" came from the meta title it replaces: the result's title was "undefined"."""
    page = _page('<meta property="og:title" content="undefined">'
                 "<title>Harbour walks reopen after storm | Coast Gazette</title>")
    assert page.title == "Harbour walks reopen after storm"


def test_a_logo_drawings_title_is_no_part_of_the_headline():
    """An inline SVG's `<title>` ("Layer 1", a drawing editor's name for it) is not shown: it was
    read into the headline before the heading's text."""
    page = _page("<title>Harbour walks reopen | Coast Gazette</title>",
                 "<h1><svg><title>Layer 1</title></svg>Harbour walks reopen</h1>")
    assert page.title == "Harbour walks reopen"


@pytest.mark.parametrize("title, heading, shown", [
    # an initial set apart that is a word of the title too runs on where the title runs on
    ("A day at Apple Park", "A day at <span class='dropcap'>A</span>pple Park",
     "A day at Apple Park"),
    # a permalink mark of two characters (an emoji with its variation selector)
    ("Advanced usage of harbour charts — Docs",
     "Advanced usage of harbour charts<a class='anchor' href='#advanced'>\U0001f517\ufe0f</a>",
     "Advanced usage of harbour charts"),
    # a word linked to a part of the page is no permalink mark
    ("Storm warning for the UK coast | Coast Gazette",
     "Storm warning for the <a href='#uk-map'>UK</a> coast", "Storm warning for the UK coast"),
])
def test_the_headline_reads_as_the_page_shows_it(title, heading, shown):
    """A word split by inline markup was parted ("A pple Park"), a documentation generator's
    link mark was glued to the headline, and a short word linked within the page was dropped
    from it ("Storm warning for the coast")."""
    assert _page(f"<title>{title}</title>", f"<h1>{heading}</h1>").title == shown


@pytest.mark.parametrize("script", [
    # a blog's post, a Yoast graph whose web page holds the dates, a type given as a list,
    # a script holding a list of objects
    '{"@context": "https://schema.org", "@type": "BlogPosting", "datePublished": '
    '"2021-04-03T10:00:00Z", "dateModified": "2024-05-06T10:00:00Z"}',
    '{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "Coast Gazette"}, '
    '{"@type": "WebPage", "datePublished": "2021-04-03T10:00:00+00:00", "dateModified": '
    '"2024-05-06T10:00:00+00:00"}]}',
    '{"@context": "https://schema.org", "@type": ["NewsArticle"], "datePublished": '
    '"2021-04-03T10:00:00Z", "dateModified": "2024-05-06T10:00:00Z"}',
    '[{"@type": "WebSite", "name": "Coast Gazette"}, {"@context": "https://schema.org", '
    '"@type": "NewsArticle", "datePublished": "2021-04-03T10:00:00Z", "dateModified": '
    '"2024-05-06T10:00:00Z"}]',
])
def test_the_json_ld_publication_date_is_read_in_the_shapes_cmss_write(script):
    """WordPress's `BlogPosting`, Yoast's `WebPage` in a `@graph`, `"@type": [...]` and a
    top-level list were not read: the page was dated by its last update (`og:updated_time`),
    and an old story sorted as new."""
    assert _page(_json_ld(script) + _UPDATED).date == "2021-04-03"


def test_a_story_giving_only_its_update_is_not_dated_by_a_related_storys_publication():
    """The first story of the JSON-LD is the page's: where it gives only `dateModified`, a later
    script's story (a related one, updated the same day) gave its own `datePublished` as the
    page's date."""
    own = _json_ld('{"@context": "https://schema.org", "@type": "NewsArticle", "headline": '
                   '"Harbour walks reopen", "dateModified": "2024-05-06T10:00:00Z"}')
    related = _json_ld('{"@context": "https://schema.org", "@type": "NewsArticle", "headline": '
                       '"Storm damages sea wall", "url": '
                       '"https://coast-gazette.example/news/storm", "datePublished": '
                       '"2021-04-03T10:00:00Z", "dateModified": "2024-05-06T09:00:00Z"}')
    assert _page(own + related + _UPDATED).date == "2024-05-06"


@pytest.mark.parametrize("head, language", [
    ('<html lang="fil">', "fil"),  # a 3-letter code: Filipino has no 2-letter one
    ('<html lang="x-klingon">', None),  # a private-use tag names no language
    ('<html><meta http-equiv="content-language" content="de, en">', "de"),  # its first one
])
def test_the_declared_language_is_read_as_iso_639(head, language):
    """A filter on `language` missed Filipino pages, took "x" for a language, and gave no
    language for a page declaring two in its content-language meta."""
    page = html_to_page(f"{head}<head><title>Harbour walks reopen</title></head><body><article>"
                        f"{_STORY}</article></body></html>", url=_URL)
    assert page.language == language


def test_a_hex_entity_escaped_twice_in_a_title_is_decoded():
    """`&amp;#xE9;` reads "&#xE9;" to the parser, "é" to the reader: decimal references were
    decoded, hexadecimal ones left in the title as written."""
    page = _page('<meta property="og:title" content="Caf&amp;#xE9; owners back harbour plan">')
    assert page.title == "Café owners back harbour plan"


def test_the_site_name_after_a_spaced_colon_is_cut():
    """"Headline : Site" is as common as "Headline | Site": the site's name stayed on."""
    page = _page('<meta property="og:site_name" content="Coast Gazette">'
                 '<meta property="og:title" content="Harbour walks reopen : Coast Gazette">')
    assert page.title == "Harbour walks reopen"


def test_a_title_of_up_to_eight_parts_is_a_headline_and_its_sites_name_and_no_more():
    """Eight parts are still a headline among a site's sections and name; a title of nine is a
    list (a shop's sections), which one of the page's section headings does not title: with a
    bound of three parts the site's name stayed on a headline, with none or a looser one a
    shop's overview page was titled "Paddles"."""
    page = _page('<meta property="og:site_name" content="Coast Gazette"><meta property='
                 '"og:title" content="Harbour walks reopen | Walks | Coast | Harbour | Local | '
                 'News | Opinion | Coast Gazette">',
                 "<h1>Harbour walks reopen</h1><h1>Most read</h1>")
    assert page.title == "Harbour walks reopen"
    listing = ("Kayaks | Canoes | Paddles | Life jackets | Dry bags | Pumps | Ropes | Charts | "
               "Harbour Outfitters")
    page = _page(f'<meta property="og:title" content="{listing}">',
                 "<h1>Kayaks</h1><h1>Canoes</h1><h1>Paddles</h1>")
    assert page.title == listing


@pytest.mark.parametrize("head", [
    "<title>Tide tables — Coast Gazette Guides</title>",
    '<meta property="og:title" content="Harbour | Tide tables | Coast Gazette Guides">',
])
def test_an_h1_ending_the_title_is_not_taken_over_a_shorter_h1_before_it(head):
    """Documentation and guide sites show their name in an `<h1>` beside the page's own: with
    each part of the title an `<h1>`'s text, the longer part was taken, the site's name."""
    page = _page(head, "<h1>Coast Gazette Guides</h1><h1>Tide tables</h1>")
    assert page.title == "Tide tables"


def _japanese_page(title: str, heading: str):
    return html_to_page(f'<html lang="ja"><head><title>{title}</title><meta property="og:title" '
                        f'content="{title}"></head><body><h1>{heading}</h1><article><p>'
                        f'{"首相は記者会見で辞任を表明し、後任の選出に向けた手続きが始まった。" * 3}'
                        "</p></article></body></html>", url=_URL)


def test_a_four_character_japanese_headline_is_the_headline_and_a_shorter_heading_is_not():
    """A Japanese headline of four characters ("首相辞任", the prime minister resigns) that the
    title holds kept the site's name after the title's full-width colon, and a section's
    two-character `<h1>` ("政治", politics) that the title happens to hold became the title."""
    assert _japanese_page("首相辞任：朝日新聞デジタル", "首相辞任").title == "首相辞任"
    title = "首相辞任、政治空白に：朝日新聞デジタル"
    assert _japanese_page(title, "政治").title == title


@pytest.mark.parametrize("title, shown", [
    # a cut with a Unicode ellipsis
    ("Harbour walks reopen after\u2026", _LONG_HEADLINE),
    # inside a word, after three words
    ("Harbour walks reo\u2026", _LONG_HEADLINE),
    # after a whole word, with fewer than three words before it
    ("Harbour walks\u2026", _LONG_HEADLINE),
])
def test_a_title_cut_short_is_the_h1_that_holds_it_whole(title, shown):
    """A CMS cuts a long og:title with "…": the `<h1>` the page shows holds it whole, and the
    result's title was the cut one."""
    assert _page(f'<meta property="og:title" content="{title}">',
                 f"<h1>{_LONG_HEADLINE}</h1>").title == shown


def test_a_title_cut_inside_a_short_words_start_is_not_another_h1():
    """"The cat…" is no cut of "The category of all things": a cut inside a word, with fewer
    than three words before it, gave another heading of the page for the title."""
    page = _page('<meta property="og:title" content="The cat\u2026">',
                 "<h1>The category of all things</h1>")
    assert page.title == "The cat\u2026"


def test_a_relative_canonical_link_keeps_the_page_out_of_its_related_links(monkeypatch):
    """A page served under another address (an AMP copy) whose `<link rel="canonical">` is
    relative: left unresolved, the address was dropped, and a link back to the page itself was
    listed as a related story."""
    cleaner = Cleaner()
    # every block labelled related: what is tested is which of their links are given
    monkeypatch.setattr(cleaner.model, "predict_page", lambda page, deadline=None: (
        ["related"] * len(page.blocks), np.full((len(page.blocks), len(cleaner.labels)), 0.25)))
    html = ("<html><head><link rel='canonical' href='/2026/bridge'><title>Bridge</title></head>"
            f"<body><article>{_STORY}<p>Read more: <a href='/2026/bridge'>This story</a> and "
            "<a href='/2025/repairs'>Repairs delayed again</a></p></article></body></html>")
    result = cleaner.clean(html, url="https://www.coastal.co.uk/amp/2026/bridge")
    assert [link.url for link in result.related_links] == ["https://www.coastal.co.uk/2025/repairs"]


@pytest.mark.parametrize("head, related", [
    ("<link rel='canonical' href='//www.coastal.co.uk/2026/bridge'>", ["/2025/repairs"]),
    ("<base href='https://www.coastal.co.uk/'><link rel='canonical' href='/2026/bridge'>",
     ["https://www.coastal.co.uk/2025/repairs"]),
])
def test_a_canonical_link_is_read_as_browsers_read_it_without_the_pages_url(monkeypatch, head,
                                                                            related):
    """`clean(html)` without a URL: a canonical link without its scheme, or relative to the
    page's `<base href>`, was left out of the page's own addresses, and the page was listed
    among its own related links."""
    cleaner = Cleaner()
    monkeypatch.setattr(cleaner.model, "predict_page", lambda page, deadline=None: (
        ["related"] * len(page.blocks), np.full((len(page.blocks), len(cleaner.labels)), 0.25)))
    html = (f"<html><head>{head}<title>Bridge</title></head><body><article>{_STORY}<p>Read "
            "more: <a href='/2026/bridge'>This story</a> and <a href='/2025/repairs'>Repairs "
            "delayed again</a></p></article></body></html>")
    assert [link.url for link in cleaner.clean(html).related_links] == related


@pytest.mark.parametrize("tag, author", [
    ("<meta name='author' content='Jane Fielding https://twitter.com/janefielding'>",
     "Jane Fielding"),
    ("<meta name='author' content='Jane Fielding, coastgazette.example/staff/'>", "Jane Fielding"),
    ("<meta name='citation_author' content='Fielding, Jane https://orcid.org/0000-0002-1825-0097'>",
     "Jane Fielding"),
])
def test_an_address_after_the_authors_name_is_no_part_of_it(tag, author):
    """An address after the name (a profile, an ORCID) was read as names: "Jane Fielding
    https; Twitter Com; Janefielding", "Jane https://orcid.org/… Fielding"."""
    assert _page(tag).author == author


@pytest.mark.parametrize("before", ['<script>var shell = "<html>";</script>',
                                    "<!-- saved from <html lang='en'> -->"])
def test_an_html_tag_in_a_script_or_comment_before_the_page_is_not_the_pages(before):
    """Anything before `<html>` makes the parser lose the tag's attributes, so its `lang` is
    read from the source: a script's string or a comment holding "<html" there was taken for
    the tag, and the page's language came out None (or the comment's)."""
    page = html_to_page(f'{before}<html lang="fr"><head><title>t</title></head><body>'
                        f"<article>{_STORY}</article></body></html>", url=_URL)
    assert page.language == "fr"
