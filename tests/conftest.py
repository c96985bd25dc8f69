"""Shared fixtures: paths to ../shared (the seed) and a tiny original HTML page."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = SHARED / "seed"

ARTICLE_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour bridge reopens after two years of repairs | Coastal Times</title>
<meta name="author" content="Jane Fielding">
<meta property="article:published_time" content="2026-03-14T08:00:00Z">
</head><body>
<nav class="main-menu"><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article class="article-body">
<h1>Harbour bridge reopens after two years of repairs</h1>
<p class="byline">By Jane Fielding</p>
<p>The harbour bridge reopened to traffic on Saturday morning after two years of structural
repairs that cost the city more than forty million euros, officials said.</p>
<p>Engineers replaced the steel cables on the northern span and rebuilt the concrete deck, which
had cracked during the storms of the winter before last. The work ran four months late.</p>
<p>Commuters who had faced a detour of twenty minutes through the industrial district welcomed
the reopening. Buses will return to their old routes from Monday, the transport office said.</p>
<p>The mayor said the city would now inspect its other bridges every year instead of every five
years, and that a report on the cost overruns would be published before the summer.</p>
</article>
<section class="related-articles"><h2>Related news</h2>
<ul>
<li><a href="/news/2025/bridge-repairs-delayed-by-storm-damage">Bridge repairs delayed by storm damage</a></li>
<li><a href="/news/2025/harbour-bridge-cables-to-be-replaced">Harbour bridge cables to be replaced</a></li>
</ul></section>
<aside class="most-read"><h2>Most read</h2>
<ul>
<li><a href="/sport/2026/local-team-wins-cup-final">Local team wins cup final in extra time</a></li>
<li><a href="/culture/2026/film-festival-announces-programme">Film festival announces its programme</a></li>
</ul></aside>
<div class="newsletter-signup"><p>Sign up for our newsletter to get the news in your inbox every morning.</p></div>
<footer><p>© 2026 Coastal Times. All rights reserved.</p></footer>
</body></html>
"""


@pytest.fixture
def article_html() -> str:
    return ARTICLE_HTML
