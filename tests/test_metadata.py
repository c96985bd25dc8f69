"""The headline `CleanResult.title` reports (`filter.metadata`): the page's, not its site's or
section's name, nor a template's placeholder. `full_title`, what the shipped model's topic
features read, stays the title as the page and trafilatura give it."""

from __future__ import annotations

import pytest

from filter.extract import html_to_page

_STORY = "".join(f"<p>{text}</p>" for text in (
    "The coastal path between the north pier and the lighthouse reopened on Tuesday after "
    "repairs to the sea wall.",
    "Council engineers said the new stone facing should withstand waves twice the height of "
    "those that broke through last month.",
    "Walkers welcomed the news, saying the route is one of the most popular in the county.",
))
_URL = "https://coast-gazette.example/news/harbour"


def _page(head: str, body: str = ""):
    return html_to_page(f'<html lang="en"><head>{head}</head><body>{body}<article>{_STORY}'
                        "</article></body></html>", url=_URL)


@pytest.mark.parametrize(("title", "headline", "picked"), [
    ("Coast Gazette - Harbour walks reopen after storm", "Harbour walks reopen after storm",
     "Coast Gazette"),
    ("Sports - Harbour walks reopen after storm", "Harbour walks reopen after storm", "Sports"),
    ("Coast Gazette \u2022 View topic - Harbour walks reopen after storm",
     "Harbour walks reopen after storm", "Coast Gazette \u2022 View topic"),
    # trafilatura passes over a side with a "." in it, a headline cut short
    ("Harbour walks reopen after the long ... - Coast Gazette",
     "Harbour walks reopen after the long ...", "Coast Gazette"),
])
def test_a_title_without_h1_gives_its_headline_not_the_sites_or_sections_name(title, headline,
                                                                               picked):
    """Without an `<h1>` or a site name to say which part of "Site - Headline" is which, the
    result's title was trafilatura's pick, the site's or section's name; the headline is the
    longer side."""
    page = _page(f"<title>{title}</title>")
    assert page.title == headline
    assert page.full_title == picked  # trafilatura's pick, which the model reads as it did


def test_a_section_name_in_the_only_h1_gives_way_to_the_headline_in_an_h2():
    """A page whose only `<h1>` is its section's (or a book's) name, one part of the title, and
    whose headline is an `<h2>`, another, longer part of it, was titled by the section."""
    page = _page("<title>Harbour walks reopen after storm - Local News - Coast Gazette</title>",
                 "<h1>Local News</h1><h2>Harbour walks reopen after storm</h2>")
    assert page.title == "Harbour walks reopen after storm"
    # the headline's own <h1> stays the headline, whatever <h2>s follow it
    page = _page("<title>Harbour walks reopen - Local News - Coast Gazette</title>",
                 "<h1>Harbour walks reopen</h1><h2>More from Local News and the county</h2>")
    assert page.title == "Harbour walks reopen"


def test_the_site_name_in_the_pages_header_is_not_the_headline():
    """The site's name in an `<h1>` of the page's header, being longer, was taken for the
    headline."""
    page = _page("<title>Storm repairs done \u2014 Coast Gazette Community Edition</title>",
                 "<header><h1>Coast Gazette Community Edition</h1></header>"
                 "<h1>Storm repairs done</h1>")
    assert page.title == "Storm repairs done"


@pytest.mark.parametrize("meta", [
    '<meta property="og:title" content="undefined">',
    '<meta property="og:title" content="null">',
    '<meta property="og:title" content="{{ article.title }}">',
    '<meta name="twitter:title" content="Undefined">',
])
def test_a_placeholder_meta_title_is_no_headline(meta):
    """A meta title a script or a template left unfilled was the result's title; the page's
    `<title>` and `<h1>` name it. The model still reads the meta title, as it was trained."""
    page = _page(f'<title>Harbour walks reopen after storm | Coast Gazette</title>'
                 f'<meta property="og:site_name" content="Coast Gazette">{meta}',
                 "<h1>Harbour walks reopen after storm</h1>")
    assert page.title == "Harbour walks reopen after storm"
    assert page.full_title == meta.split('content="')[1].split('"')[0]


def _page_around(head: str, before: str, after: str):
    """A page with `before` and `after` around its article, whose `<h1>` is its headline."""
    return html_to_page(f'<html lang="en"><head>{head}</head><body>{before}<article>'
                        f"<h1>Ferry fares rise after fuel costs climb</h1>{_STORY}</article>"
                        f"{after}</body></html>", url=_URL)


@pytest.mark.parametrize(("title", "before", "after"), [
    # a blog's name in its header's <h2>, linked home or not, before the post's <h1>
    ("Ferry fares rise after fuel costs climb \u2013 The Wandering Islanders Travel and Food "
     "Journal",
     '<header><h2 class="site-title"><a href="https://coast-gazette.example/">The Wandering '
     "Islanders Travel and Food Journal</a></h2></header>", ""),
    ("Ferry fares rise after fuel costs climb \u2013 The Wandering Islanders Travel and Food "
     "Journal",
     '<header><h2 class="site-title">The Wandering Islanders Travel and Food Journal</h2>'
     "</header>", ""),
    # the site's name in the footer's <h2>, a section's in a sidebar's
    ("Ferry fares rise after fuel costs climb | North Sound Courier and Island Advertiser", "",
     "<footer><h2>North Sound Courier and Island Advertiser</h2></footer>"),
    ("Ferry fares rise after fuel costs climb | Politics, Transport, Housing and Local "
     "Government | Courier",
     "", "<aside><h2>Politics, Transport, Housing and Local Government</h2></aside>"),
    # a standfirst <h2> after the headline, in the title too
    ("Ferry fares rise after fuel costs climb - What the new fares mean for islanders and "
     "visitors | Courier",
     "", "<h2>What the new fares mean for islanders and visitors</h2>"),
])
def test_an_h2_after_the_headline_in_the_title_is_not_the_headline(title, before, after):
    """An `<h2>` longer than the only `<h1>` and in the title took its place even where it was
    the site's name, a sidebar's section or the headline's standfirst: only one before the
    `<h1>`'s part in the title and after the `<h1>` in the page names the page."""
    assert _page_around(f"<title>{title}</title>", before, after).title == (
        "Ferry fares rise after fuel costs climb")


@pytest.mark.parametrize(("title", "after"), [
    ("Ferry fares rise after fuel costs climb | North Sound Courier",
     "<footer><h1>North Sound Courier</h1><p>Contact us</p></footer>"),
    ("Ferry fares rise after fuel costs climb | Island News | North Sound Courier",
     "<aside><h1>Island News</h1><ul><li>Ferry timetable</li></ul></aside>"),
    ("Ferry fares rise after fuel costs climb | North Sound Courier",
     '<div role="contentinfo"><h1>North Sound Courier</h1></div>'),
    # no footer or sidebar to tell: the longer <h1>, not the later
    ("Ferry fares rise after fuel costs climb | North Sound Courier",
     "<div><h1>North Sound Courier</h1></div>"),
])
def test_an_h1_in_a_footer_or_sidebar_is_not_the_headline(title, after):
    """Of several `<h1>`s in the title the later one was taken, a footer's or sidebar's name
    of the site or section; the one in the article is the headline."""
    page = _page_around(f"<title>{title}</title>", "", after)
    assert page.title == "Ferry fares rise after fuel costs climb"
    page = _page_around(f'<meta property="og:title" content="{title}">', "", after)
    assert page.title == "Ferry fares rise after fuel costs climb"


@pytest.mark.parametrize("heading", ['<h2 class="entry-title">Why we sold the boat</h2>',
                                     '<h3 class="post-title">Why we sold the boat</h3>',
                                     '<h1>Why we sold the boat</h1>'])
def test_a_title_side_the_page_shows_as_its_heading_stays_the_headline(heading):
    """trafilatura's pick, the shorter side of "Headline - Organisation", was swapped for the
    longer side even where the page shows it as its post's heading."""
    page = html_to_page('<html lang="en"><head><title>Why we sold the boat - The Harbour '
                        f"Rowing and Sailing Collective</title></head><body><article>{heading}"
                        f"{_STORY}</article></body></html>", url=_URL)
    assert page.title == "Why we sold the boat"
