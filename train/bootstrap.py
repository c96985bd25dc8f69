"""Examples from a gold-text data set (WCXB layout), so labelling starts from proposals.

A gold-text data set says what the article is, not what each block is. Alignment with the gold
text (`train.align`) decides content or not for every block; for the blocks that are not content,
the current model proposes the kind (`related`, `teaser`, `junk`, or whatever its labels are).
Both are machine decisions, so every label is written ``reviewed: false`` and names who made it
(``align:<data set>``, ``model:<version>``): a person confirms or corrects them on the labelling
page, and the store never lets such a proposal overwrite a reviewed label.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from filter.errors import NoiseFilterError
from filter.decoding import decode
from filter.extract import html_to_page
from filter.modelfile import LoadedModel

from .align import align
from .examples import UNKNOWN_KIND, BlockLabel, Example, Problem
from .wcxb import GoldPage, load_dataset


@dataclass
class BootstrapReport:
    pages: int = 0
    #: the pages left out and why, shown as `train` shows the problems of its examples
    skipped: list[Problem] = field(default_factory=list)
    labels: Counter = field(default_factory=Counter)
    #: per example id, the blocks the model would keep but alignment says are not in the gold
    #: text, and the reverse
    disagreeing: Counter = field(default_factory=Counter)

    @property
    def disagreements(self) -> int:
        return sum(self.disagreeing.values())

    def __str__(self) -> str:
        labels = ", ".join(f"{k} {v}" for k, v in sorted(self.labels.items()))
        # where to start: the count alone gave no way to find the blocks among the pages
        most = ", ".join(f"{page} ({n})" for page, n in self.disagreeing.most_common(3) if n)
        return (f"{self.pages} pages, {sum(self.labels.values())} blocks ({labels}); "
                f"{len(self.skipped)} pages skipped; model and alignment disagree on "
                f"{self.disagreements} blocks (worth reviewing first{f'; most on {most}' if most else ''})")


def gold_pages(root: str | Path, page_types: set[str] | None = None,
               limit: int | None = None, skip: int = 0) -> list[GoldPage]:
    """The data set's pages of `page_types` (None: all), the first `limit` of them after the
    first `skip` (`--limit 200` to train on, then `--skip 200 --limit 50` for a holdout of
    other pages). Raises ValueError for a page type the data set does not have: a misspelt one
    took no page and bootstrap ended as if there were nothing to do."""
    pages = load_dataset(root)
    if page_types is not None:
        known = {g.page_type for g in pages}
        if page_types - known:
            raise ValueError(f"unknown page type(s) {', '.join(sorted(page_types - known))}; this "
                             f"data set has: {', '.join(sorted(known)) or 'no pages'}")
        pages = [g for g in pages if g.page_type in page_types]
    pages = pages[skip:]
    return pages[:limit] if limit is not None else pages


def example_id(gold: GoldPage, dataset: str) -> str:
    return f"{dataset}-{gold.id}"


def example_identity(gold: GoldPage, dataset: str) -> tuple[str, str]:
    """The id and the document sha256 the example made of `gold` gets (as `bootstrap_page`
    makes it), without segmenting the page: `train.shipped` lists them in the shipped model's
    manifest, so that `evaluate` and `promote` know a bootstrapped page it was trained on."""
    example = Example(id=example_id(gold, dataset), blocks=[], html=decode(gold.html(), 10_000_000))
    return example.id, example.document_sha256


def bootstrap_page(gold: GoldPage, model: LoadedModel, dataset: str, report: BootstrapReport,
                   now: str) -> Example | None:
    """One gold page to one unreviewed example (None, noted in the report, if it has no gold
    text, cannot be segmented or trafilatura keeps nothing of it). Without a gold text every
    block, the headline too, would be proposed as noise, and `evaluate` would score the page
    0 word F1 whatever a model kept."""
    where = f"{dataset} page {gold.id}"
    if gold.main_content is None or not gold.main_content.strip():
        why = "its ground truth has no main_content" if gold.main_content is None else "its main_content is empty"
        report.skipped.append(Problem(where, f"no gold text ({why}); page skipped"))
        return None
    try:
        html = decode(gold.html(), 10_000_000)
        page = html_to_page(html, url=gold.url)
    except (NoiseFilterError, OSError) as err:
        report.skipped.append(Problem(where, f"page could not be segmented: {err}; page skipped"))
        return None
    if not page.blocks:
        why = f" ({'; '.join(page.notes)})" if page.notes else ""
        report.skipped.append(Problem(where, f"the page gives no blocks{why}; page skipped"))
        return None
    in_gold = align([b.text for b in page.blocks], gold.main_content)
    predicted, probs = model.model.predict_page(page)
    classes = [str(c) for c in model.model.classes_]
    keep = classes[0]
    blocks = []
    for block, aligned, pred, row in zip(page.blocks, in_gold, predicted, probs):
        if aligned:
            label, by = keep, f"align:{dataset}"
        elif len(classes) > 1:
            label, by = classes[1 + int(np.argmax(row[1:]))], f"model:{model.version}"
        else:
            label, by = UNKNOWN_KIND, f"align:{dataset}"
        report.disagreeing[example_id(gold, dataset)] += (pred == keep) != aligned
        report.labels[label] += 1
        blocks.append(BlockLabel(text=block.text, label=label, source=None, labelled_by=by,
                                 labelled_at=now, reviewed=False))
    report.pages += 1
    return Example(id=example_id(gold, dataset), blocks=blocks, html=html, url=gold.url or None,
                   source=f"bootstrap:{dataset}", gold=gold.main_content)


def bootstrap(golds: list[GoldPage], model: LoadedModel, dataset: str, report: BootstrapReport,
              progress=None) -> list[Example]:
    """`bootstrap_page` over a data set; `progress` (a callable taking a count) sees each page."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = []
    # one page at a time is too little work for OpenMP threads (see `train.evaluation.evaluate`)
    with threadpool_limits(limits=1):
        for gold in golds:
            example = bootstrap_page(gold, model, dataset, report, now)
            if progress is not None:
                progress(1)
            if example is not None:
                out.append(example)
    return out
