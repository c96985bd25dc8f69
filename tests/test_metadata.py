"""The headline `CleanResult.title` reports (`filter.metadata`): the page's, not its site's or
section's name, nor a template's placeholder. `full_title`, what the shipped model's topic
features read, stays the title as the page and trafilatura give it."""

from __future__ import annotations

import datetime as datetime_module
import types

import htmldate.extractors
import pytest
from dateutil.parser import _parser as dateutil_parser

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
    """The only `<h1>`, in the article, is the headline, whatever longer part of the title an
    `<h2>` holds: the site's name, a sidebar's section, the headline's standfirst (a rule that
    let such an `<h2>` replace it, tried and reverted, gave a WordPress blog's name as every
    post's title)."""
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
    """Of several `<h1>`s in the title, a footer's or sidebar's name of the site or section is
    not the headline (a rule taking the later one in the page, tried and reverted, took it)."""
    page = _page_around(f"<title>{title}</title>", "", after)
    assert page.title == "Ferry fares rise after fuel costs climb"
    page = _page_around(f'<meta property="og:title" content="{title}">', "", after)
    assert page.title == "Ferry fares rise after fuel costs climb"


@pytest.mark.parametrize("heading", ['<h2 class="entry-title">Why we sold the boat</h2>',
                                     '<h3 class="post-title">Why we sold the boat</h3>',
                                     '<h1>Why we sold the boat</h1>'])
def test_a_title_side_the_page_shows_as_its_heading_stays_the_headline(heading):
    """trafilatura's pick, where the page shows it as its post's heading, is the headline,
    even as the shorter side of "Headline - Organisation" (a rule swapping in the longer side,
    tried and reverted, took the organisation's name)."""
    page = html_to_page('<html lang="en"><head><title>Why we sold the boat - The Harbour '
                        f"Rowing and Sailing Collective</title></head><body><article>{heading}"
                        f"{_STORY}</article></body></html>", url=_URL)
    assert page.title == "Why we sold the boat"


_PUBLISHED = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": '
              '"NewsArticle", "headline": "Harbour walks reopen", "datePublished": '
              '"2021-04-03T10:00:00Z", "dateModified": "2024-05-06T10:00:00Z"}</script>')


@pytest.mark.parametrize("updated", [
    '<meta property="og:updated_time" content="2024-05-06T10:00:00Z">',
    '<meta property="article:modified_time" content="2024-05-06">',
])
def test_the_date_is_the_publication_date_of_the_json_ld_not_the_update_in_a_meta_tag(updated):
    """htmldate, asked for the original date, gave the update time of a meta tag before the
    JSON-LD's `datePublished`: an aggregator sorting by date saw an old story as new."""
    assert _page(_PUBLISHED + updated).date == "2021-04-03"
    # a publication date in a meta tag still comes first, and an update is the date of a
    # page that gives no other
    published = '<meta property="article:published_time" content="2022-01-02T08:00:00Z">'
    assert _page(published + _PUBLISHED + updated).date == "2022-01-02"
    assert _page(updated).date == "2024-05-06"


def test_a_related_story_in_the_json_ld_does_not_date_the_page():
    """The first `datePublished` of a page's scripts may be a related story's (an `ItemList`,
    in its own script or in the `@graph`): a page dated by its meta tags kept its date."""
    related = ('{"@type": "ItemList", "itemListElement": [{"@type": "ListItem", "item": {'
               '"@type": "NewsArticle", "datePublished": "2019-03-02", "dateModified": '
               '"2024-05-01"}}], "datePublished": "2019-03-02", "dateModified": "2024-05-01"}')
    published = '<meta property="article:published_time" content="2024-05-01T08:00:00Z">'
    updated = '<meta property="article:modified_time" content="2024-05-01T08:00:00Z">'
    for scripts in (f'<script type="application/ld+json">{related}</script>',
                    f'<script type="application/ld+json">{{"@graph": [{related}]}}</script>'):
        assert _page(published + scripts).date == "2024-05-01"
        assert _page(updated + scripts).date == "2024-05-01"


@pytest.mark.parametrize("script", [
    # a raw line break in a string, an old template's wrapper, a type as an IRI, the story as a
    # web page's main entity after a graph node without dates
    '{"@type": "NewsArticle", "headline": "Harbour\n walks", "datePublished": "2021-04-03",'
    ' "dateModified": "2024-05-06"}',
    '<!--\n{"@type": "NewsArticle", "datePublished": "2021-04-03", "dateModified": "2024-05-06"}'
    '\n-->',
    '//<![CDATA[\n{"@type": "https://schema.org/NewsArticle", "datePublished": "2021-04-03",'
    ' "dateModified": "2024-05-06"}\n//]]>',
    '{"@graph": [{"@type": "WebSite", "name": "Coast Gazette"}, {"@type": "WebPage", '
    '"dateModified": null, "mainEntity": {"@type": "schema:NewsArticle", "datePublished": '
    '"2021-04-03", "dateModified": "2024-05-06"}}]}',
])
def test_the_json_ld_publication_date_is_read_as_sites_write_it(script):
    updated = '<meta property="og:updated_time" content="2024-05-06T10:00:00Z">'
    assert _page(f'<script type="application/ld+json">{script}</script>{updated}').date == \
        "2021-04-03"


@pytest.mark.parametrize("published", ["0001-01-01T00:00:00", "2024-02-30T10:00:00Z",
                                       "2024-13-45", "2099-01-01T00:00:00Z", "1970-01-01"])
def test_a_json_ld_publication_date_no_date_finder_would_take_is_not_the_pages(published):
    """The JSON-LD's `datePublished` replaced the update htmldate found unchecked: a CMS's
    unset "0001-01-01", a "2024-02-30" (which `date.fromisoformat` refuses in the user's
    code) or a far-future day that pins the story atop a feed sorted by date."""
    script = _PUBLISHED.replace("2021-04-03T10:00:00Z", published)
    updated = '<meta property="article:modified_time" content="2024-05-06T10:00:00Z">'
    assert _page(script + updated).date == "2024-05-06"


def test_a_logo_linked_to_the_language_home_is_no_headline_after_a_leading_script():
    """A script before `<html lang>` makes the parser lose the tag's attributes; the page's
    language, read from its source for the result, was not for the headline."""
    page = html_to_page('<script>var t=1;</script><html lang="en"><head><title>Storm leaves '
                        'thousands without power | Daily Courier</title></head><body><h1><a '
                        f'href="/en/">Daily Courier</a></h1><article>{_STORY}</article></body>'
                        '</html>', url="https://courier.example/en/news/storm")
    assert (page.title, page.language) == ("Storm leaves thousands without power", "en")


@pytest.mark.parametrize("title, heading", [
    ("全国人大二次会议开幕_新华网", "全国人大二次会议开幕"),
    ("全国人大二次会议开幕-新华网", "全国人大二次会议开幕"),
    ("予算案を閣議決定：朝日新聞デジタル", "予算案を閣議決定"),
    ("İstanbul'da grip aşısı kampanyası başladı | Hürriyet",
     "İSTANBUL'DA GRİP AŞISI KAMPANYASI BAŞLADI"),
    # a short one, whose dotted capitals decide it ("GRİP" is "grip" once folded)
    ("Grip bitti | Hürriyet", "GRİP BİTTİ")])
def test_the_pages_only_h1_is_its_headline_in_chinese_japanese_and_turkish_too(title, heading):
    """A Chinese or Japanese headline has no spaces, so it was one "word", never the "two
    words" the rule asks for; Turkish capitals casefold to other letters ("GRİP" to "gri" and
    a combining dot, "AŞISI" to "aşisi"). The title, with the site's name, was taken."""
    page = _page(f'<title>{title}</title><meta property="og:title" content="{title}">',
                 f"<h1>{heading}</h1>")
    assert page.title == heading
    # a short heading of a few characters that the title does not hold is not the headline
    page = _page(f'<title>{title}</title><meta property="og:title" content="{title}">',
                 "<h1>新闻</h1>")
    assert page.title == title


@pytest.mark.parametrize("title, heading, shown", [
    # a word split by inline markup runs on, as browsers show it
    ("How AI Can Cut Your Planning Cycle | Ops Weekly",
     "How AI Can Cut Your Planning <span class='dropcap'>C</span>ycle", "How AI Can Cut Your Planning Cycle"),
    ("Why H2O boils at lower temperatures on mountains",
     "Why H<sub>2</sub>O boils at lower temperatures on mountains",
     "Why H2O boils at lower temperatures on mountains"),
    ("COVID-19 cases fall for third week in a row", "COVID-<span>19</span> cases fall for third week in a row",
     "COVID-19 cases fall for third week in a row"),
    # a block element or a line break parts words
    ("Harbour walks reopen after repairs", "Harbour walks reopen<br>after repairs",
     "Harbour walks reopen after repairs"),
    # a tagline a style shows on a line of its own: the title parts the words
    ("Black Edition | Meal Replacement Protein Powder",
     "Black Edition<span class='tagline'>Complete high-protein powder meal</span>",
     "Black Edition Complete high-protein powder meal"),
    ("Minister resigns over the plan | Daily News",
     "<span class='kicker'>Exclusive</span><span>Minister resigns over the plan</span>",
     "Exclusive Minister resigns over the plan"),
    # a documentation generator's link to the heading itself, shown on hover, is no part of it
    ("Advanced Usage — Requests documentation",
     "Advanced Usage<a class='headerlink' href='#advanced-usage' title='Link'>¶</a>", "Advanced Usage"),
    # a heading the parser nests in the h1 is no part of it (browsers close the h1 there)...
    ("Top Strategies to Optimize Blockchain Performance",
     "Top Strategies to Optimize Blockchain Performance<h3>Posted on July 1, 2024 by infuy</h3>",
     "Top Strategies to Optimize Blockchain Performance"),
    # ... but one that opens it, or sits in its link, is what it shows
    ("Minister resigns over plan - Daily News", "<h2>Minister resigns over plan</h2>",
     "Minister resigns over plan"),
    ("Minister resigns over plan - Daily News",
     "<a href='/2024/minister'><h2>Minister resigns over plan</h2></a>", "Minister resigns over plan"),
])
def test_the_headline_is_its_h1_as_browsers_show_it(title, heading, shown):
    page = html_to_page(f'<html lang="en"><head><title>{title}</title></head><body><article>'
                        f"<h1>{heading}</h1>{_STORY}</article></body></html>", url=_URL)
    assert page.title == shown


def test_a_lang_value_that_is_no_language_code_gives_no_language():
    page = html_to_page(f"<html lang='english'><head><title>Walks reopen</title></head><body>"
                        f"<article>{_STORY}</article></body></html>")
    assert page.language is None


def test_a_title_is_cut_to_1000_characters():
    title = _page(f"<title>{' '.join(['Harbour'] * 400)}</title>").title
    assert len(title) == 1000 and title.endswith("…")


def test_a_headline_linked_to_its_post_by_query_is_no_logo():
    """WordPress links a headline to "/?p=123": a link home has no query or fragment."""
    page = _page("<title>Harbour walks reopen after storm | Coast Gazette</title>",
                 "<h1><a href='/?p=123'>Harbour walks reopen after storm</a></h1>")
    assert page.title == "Harbour walks reopen after storm"


def test_at_most_20_cited_authors_first_name_first():
    metas = "".join(f"<meta name='citation_author' content='Writer{k}, Ann'>" for k in range(25))
    author = _page(f"<title>Walks reopen</title>{metas}").author
    assert author.split("; ") == [f"Ann Writer{k}" for k in range(20)]


def test_a_guest_author_is_no_author():
    assert _page("<title>Walks reopen</title><meta name='author' content='Guest'>").author is None


_ZH_STORY = "<p>" + "全国人民代表大会第二次会议今天上午在北京人民大会堂开幕，近三千名代表出席会议。" * 3 + "</p>"


@pytest.mark.parametrize("title, headline", [
    ("全国人大二次会议开幕_新华网", "全国人大二次会议开幕"),
    ("全国人大二次会议开幕-新华网", "全国人大二次会议开幕"),
    ("新华网_全国人大二次会议开幕", "全国人大二次会议开幕"),
    ("Wi-Fi_6 routers compared", "Wi-Fi_6 routers compared"),  # (no part is the site's name)
])
def test_a_chinese_sites_name_after_an_underscore_or_a_bare_dash_is_cut(title, headline):
    """Chinese news sites (Xinhua, People's Daily, Sina) join headline and name with "_" or
    an unspaced "-": the title came out whole, site name included, unless an `<h1>` repeated
    the headline."""
    page = html_to_page(f'<html lang="zh"><head><title>{title}</title><meta property="og:title" '
                        f'content="{title}"><meta property="og:site_name" content="新华网"></head>'
                        f"<body><article>{_ZH_STORY}</article></body></html>", url=_URL)
    assert page.title == headline


@pytest.mark.parametrize("lang, language", [("iw", "he"), ("in-ID", "id"), ("ji", "yi"),
                                            ("jw", "jv"), ("mo", "ro"), ("he-IL", "he")])
def test_a_withdrawn_language_code_is_read_as_the_one_that_replaced_it(lang, language):
    """Older CMSs (Java's Locale) still write "iw" for Hebrew and "in" for Indonesian: a filter
    on "he" or "id" missed their pages."""
    page = html_to_page(f'<html lang="{lang}"><head><title>t</title></head><body><article>'
                        f"{_STORY}</article></body></html>", url=_URL)
    assert page.language == language


@pytest.mark.parametrize("values, author", [
    (["Fielding, Jane", "http://", "{{ author }}", "By", ","], "Jane Fielding"),
    (["http://", "By"], None),
])
def test_a_citation_author_that_names_no_one_is_left_out(values, author):
    """`citation_author` tags were taken as they came: a template's "http://", "{{" or "By"
    was an author of the page."""
    tags = "".join(f'<meta name="citation_author" content="{value}">' for value in values)
    assert _page(tags).author == author


class _SeventeenthDecember(datetime_module.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2026, 12, 17, 9, 30)


@pytest.mark.parametrize("meta", [
    '<meta property="article:published_time" content="2019-07">',
    '<meta name="date" content="2019-07">',
])
def test_a_month_only_date_does_not_take_todays_day(monkeypatch, meta):
    """htmldate gave "2023-07" today's day (dateutil's default): the same page got another
    date each day it was cleaned. Its day is the 1st, as htmldate's own year-month rule has
    it, whatever day dateutil takes for today (here the 17th)."""
    today = types.ModuleType("datetime")
    today.__dict__.update(vars(datetime_module))
    today.datetime = _SeventeenthDecember
    monkeypatch.setattr(dateutil_parser, "datetime", today)
    htmldate.extractors.try_date_expr.cache_clear()  # htmldate keeps a string's date
    assert _page(meta).date == "2019-07-01"
    # a full date and a year alone are read as before
    assert _page(meta.replace("2019-07", "2019-07-23")).date == "2019-07-23"
    assert _page(meta.replace("2019-07", "2019")).date is None


@pytest.mark.parametrize("url, title, headline", [
    ("https://www.wral.com/traffic/1", "Bridge reopens to traffic | WRAL", "Bridge reopens to traffic"),
    ("https://www.liberty.edu/online/fees", "Campus Fees and Grants | Liberty University",
     "Campus Fees and Grants"),
    ("https://apps.shopify.com/roasters", "Harbour Roasters | Shopify App Store", "Harbour Roasters"),
    ("https://news.coast-gazette.co.uk/a", "Pier repairs – Coast Gazette", "Pier repairs"),
    # a brand first is a home page's own title; a long last part is the headline's subtitle
    ("https://www.talkspace.com/", "Talkspace - Therapy Online", "Talkspace - Therapy Online"),
    ("https://www.liteaf.com/packs", "Packing light? » LiteAF Custom Ultralight Backpacks",
     "Packing light? » LiteAF Custom Ultralight Backpacks"),
    ("https://www.bbc.co.uk/news/1", "Flood warnings - BBC", "Flood warnings"),
    ("https://www.bbc.co.uk/news/2", "Flood warnings - Bbcode tips", "Flood warnings - Bbcode tips"),
    # an address outside ASCII names the site as its titles write it, in either form
    ("https://www.xn--hafenbcher-feb.de/romane/1", "Neue Romane im Herbst | Hafenbücher.de",
     "Neue Romane im Herbst"),
    ("https://küstenzeitung.de/hafen/2", "Fähre fährt wieder – Küstenzeitung", "Fähre fährt wieder"),
])
def test_a_last_title_part_naming_the_sites_address_is_cut(url, title, headline):
    """Sites without an `og:site_name` or a logo heading end their titles with their name, as
    their address gives it: the headline is the rest (on WCXB-dev, 16 more titles right)."""
    page = html_to_page(f'<html lang="en"><head><meta property="og:title" content="{title}">'
                        f"</head><body><article>{_STORY}</article></body></html>", url=url)
    assert page.title == headline


def test_an_h1_repeating_the_title_whole_keeps_its_text_but_not_the_sites_name():
    """A page whose only `<h1>` shows its title whole, site's name and all, gave that `<h1>`
    as the headline, "| WRAL" included; the `<h1>`'s own text (its capitals) is still what
    comes out when no part of it is the site's."""
    def title_of(h1: str, title: str) -> str:
        return html_to_page(f'<html lang="en"><head><meta property="og:title" content="{title}">'
                            f"</head><body><h1>{h1}</h1><article>{_STORY}</article></body></html>",
                            url="https://www.wral.com/traffic/1").title

    assert title_of("Bridge reopens | WRAL", "Bridge reopens | WRAL") == "Bridge reopens"
    assert title_of("Bridge Reopens To Traffic", "BRIDGE REOPENS TO TRAFFIC") == "Bridge Reopens To Traffic"
