"""Labelled pages for training and evaluation, from a gold-text data set plus hand labels.

Every block of every page is labelled `content` or `noncontent` by alignment with the page's gold
main text (`train.align`). Committed hand labels (`train/labels/*.hand.jsonl`: page id, block
hash, label) then override those of the pages they cover, giving the non-content blocks their kind
(`related`, `teaser`, `junk`) and correcting alignment where the gold text and LABELS.md differ
(an article's title and byline are content). Hand labels that match no block are reported.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from joblib import Parallel, delayed

from filter.blocks import Page
from filter.errors import NoiseFilterError
from filter.extract import html_to_page
from filter.model import KEEP_LABEL, UNKNOWN_KIND

from .align import align
from .examples import STANDARD_LABELS
from .wcxb import GoldPage, load_dataset

LOGGER = logging.getLogger(__name__)
LABELS_DIR = Path(__file__).parent / "labels"


@dataclass
class LabelledPage:
    gold: GoldPage
    page: Page
    labels: list[str]
    hand_labelled: bool = False


@dataclass
class HandLabels:
    by_page: dict[str, dict[tuple[str, int], str]] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: list[Path]) -> HandLabels:
        """Every file's labels. Raises ValueError naming the file and line of one that is not a
        label of LABELS.md (a misspelt "Junk" or "realted" became a label of the model, one no
        client knows) or not a row of page, block and label (a bare JSON error named neither)."""
        out = cls()
        for path in paths:
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    key = (str(row["block"]), int(row.get("occurrence", 0)))
                    page, label = str(row["page"]), row["label"]
                except (ValueError, KeyError, TypeError) as err:
                    why = f"no {err}" if isinstance(err, KeyError) else str(err)
                    raise ValueError(f"{path}:{n}: not a hand label (page, block, label): {why}") from None
                if label not in STANDARD_LABELS:
                    raise ValueError(f"{path}:{n}: label {label!r} is none of "
                                     f"{', '.join(STANDARD_LABELS)}")
                out.by_page.setdefault(page, {})[key] = label
        return out


def _extract(gold: GoldPage) -> Page | None:
    try:
        return html_to_page(gold.html(), url=gold.url)
    except (NoiseFilterError, OSError) as err:
        LOGGER.warning("page %s skipped: %s", gold.id, err)
        return None


def apply_labels(page: Page, aligned: list[bool], hand: dict[tuple[str, int], str] | None,
                 unmatched: Counter) -> tuple[list[str], bool]:
    """The page's labels: by alignment, overridden by its hand labels; and whether any hand
    label matched a block (a page whose labels all match none, its extraction changed since
    they were given, is not a hand-labelled page: it was trained as one, text view and all,
    and scored in the four-label figures)."""
    labels = [KEEP_LABEL if a else UNKNOWN_KIND for a in aligned]
    if not hand:
        return labels, False
    seen: Counter = Counter()
    used = set()
    for i, block in enumerate(page.blocks):
        key = (block.key, seen[block.key])
        seen[block.key] += 1
        if key in hand:
            labels[i] = hand[key]
            used.add(key)
    unmatched["hand labels"] += len(hand) - len(used)
    # a non-content block left without a hand label on a hand-labelled page keeps `noncontent`
    return labels, bool(used)


def build(data_dir: str | Path, label_files: list[Path] | None = None, n_jobs: int = 2,
          page_types: set[str] | None = None) -> tuple[list[LabelledPage], Counter]:
    """Extract and label every page of the data set that has a gold text (in parallel; see
    `GoldPage` for the pages without one); returns pages and a report of what was left out or
    could not be matched."""
    chosen = [g for g in load_dataset(data_dir) if page_types is None or g.page_type in page_types]
    golds = [g for g in chosen if g.main_content is not None]
    report: Counter = Counter()
    if len(golds) < len(chosen):
        report["pages without gold text"] = len(chosen) - len(golds)
    label_files = label_files if label_files is not None else sorted(LABELS_DIR.glob("*.hand.jsonl"))
    hand = HandLabels.load(label_files)
    pages = Parallel(n_jobs=n_jobs, batch_size=16)(delayed(_extract)(g) for g in golds)
    out = []
    for gold, page in zip(golds, pages):
        if page is None:
            report["pages not extracted"] += 1
            continue
        aligned = align([b.text for b in page.blocks], gold.main_content)
        labels, hand_labelled = apply_labels(page, aligned, hand.by_page.get(gold.id), report)
        out.append(LabelledPage(gold, page, labels, hand_labelled=hand_labelled))
    missing_pages = set(hand.by_page) - {lp.gold.id for lp in out}
    report["hand-labelled pages not found"] += len(missing_pages)
    return out, report


def label_counts(pages: list[LabelledPage]) -> dict[str, int]:
    counts: defaultdict[str, int] = defaultdict(int)
    for lp in pages:
        for lab in lp.labels:
            counts[lab] += 1
    return dict(counts)
