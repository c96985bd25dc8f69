"""How related links are titled: the links the shipped model gives on WCXB-dev, and how many
of them read as a stock phrase or as another related link of the page does ("Learn more.",
"Read the review"), which `filter.cleaner.story_titles` titles by the link's `aria-label` or
`title`, else by its address's words.

    python benchmarks/related_titles.py

Every WCXB-dev page is cleaned with its URL, as a crawler would (the shipped model was trained
on most of these pages, so which blocks are `related` is as the training taught it; the titles
are what is measured here); each link's words as the page shows them and the title given are
recorded by wrapping `story_titles` for the run. trafilatura gives no related links, so there
is nothing to set beside it. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import filter.cleaner as cleaner_module  # noqa: E402
from filter import Cleaner, NoiseFilterError  # noqa: E402
from train.wcxb import load_dataset  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "wcxb-dev"


def main() -> None:
    # no options: the parser answers --help (which started the four-minute run) and refuses others
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    titled: list[tuple[str, str | None, str]] = []  # (words shown, label, title given)
    named = cleaner_module.story_titles

    def recording(links):
        given = list(named(links))
        titled.extend((shown, link.label, title)
                      for (link, shown, _), (title, _) in zip(links, given))
        return iter(given)

    cleaner_module.story_titles = recording
    cleaner = Cleaner()
    pages = with_links = failed = 0
    pages_titles = []  # each page's share of `titled`
    started = time.perf_counter()
    for gold in load_dataset(DATA):
        before = len(titled)
        try:
            cleaner.clean(gold.html(), url=gold.url)
        except NoiseFilterError:
            failed += 1
            continue
        pages += 1
        if len(titled) > before:
            with_links += 1
            pages_titles.append(titled[before:])
    counts: Counter[str] = Counter()
    for shown, label, title in titled:
        if title == shown:
            counts["kept as shown"] += 1
        elif title == label:
            counts["titled by its aria-label or title"] += 1
        else:
            counts["titled by its address's words"] += 1
    print(f"{pages} pages cleaned ({failed} refused), {with_links} with related links, "
          f"{len(titled)} related links ({time.perf_counter() - started:.0f} s)")
    for what in ("kept as shown", "titled by its aria-label or title",
                 "titled by its address's words"):
        print(f"  {what}: {counts[what]}")
    for name, at in (("as the pages show them", 0), ("as given", 2)):
        stock = sum(cleaner_module.is_stock_phrase(link[at]) for link in titled)
        shared = sum(n for page in pages_titles
                     for n in Counter(link[at].casefold() for link in page).values() if n > 1)
        print(f"  {name}: {stock} a stock phrase, {shared} the words of another related "
              f"link of the page")


if __name__ == "__main__":
    main()
