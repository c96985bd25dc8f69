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


def test_of_several_h1s_in_the_title_the_later_one_is_the_headline():
    """The site's name in the page's header came first and, being longer, was taken for the
    headline; the article's `<h1>` comes after the header's."""
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
