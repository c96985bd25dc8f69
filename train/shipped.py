"""The training set behind the shipped model, and the command that rebuilds it.

    python -m train.shipped [--data ../shared/data/wcxb-dev] [--out models/noisefilter-wcxb.joblib]

The set is every WCXB-dev page (labels from alignment with the gold text, overridden by the
committed hand labels, see `train.dataset`), plus a plain-text view of every hand-labelled page
(the same blocks without their DOM, so that `clean_text` on already-extracted text is trained
too), plus the seed page's hand labels. Seeds are fixed, so the same inputs give the same model.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from filter.blocks import Block, Page, segment_text
from filter.model import BlockClassifier
from filter.modelfile import SHIPPED_MODEL, models_dir, save_model

from .dataset import LabelledPage, build, label_counts

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "wcxb-dev"
SEED_DIR = REPO.parent / "shared" / "seed"
RANDOM_STATE = 0


def text_view(page: Page) -> Page:
    """The page as an extractor's text output would give it: lines without DOM context."""
    return replace(page, blocks=[Block(text=b.text, kind="line") for b in page.blocks],
                   source="text", title=None)


def seed_examples(seed_dir: Path = SEED_DIR) -> list[tuple[Page, list[str], str]]:
    """The hand-labelled seed pages (text + one label per non-empty line)."""
    out = []
    for labels_path in sorted(seed_dir.glob("*.labels.jsonl")):
        text_path = labels_path.with_name(labels_path.name.replace(".labels.jsonl", ".txt"))
        rows = [json.loads(line) for line in labels_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        blocks = segment_text(text_path.read_text(encoding="utf-8"))
        if [b.text for b in blocks] != [r["text"].strip() for r in rows]:
            raise ValueError(f"{labels_path.name} does not match the lines of {text_path.name}")
        out.append((Page(blocks=blocks, source="text"), [r["label"] for r in rows], f"seed:{text_path.stem}"))
    return out


def training_set(pages: list[LabelledPage], with_seed: bool = True):
    """Pages, label lists and group ids (domains) for `BlockClassifier.fit`."""
    xs, ys, groups = [], [], []
    for lp in pages:
        xs.append(lp.page)
        ys.append(lp.labels)
        groups.append(lp.gold.domain)
        if lp.hand_labelled:
            xs.append(text_view(lp.page))
            ys.append(lp.labels)
            groups.append(lp.gold.domain)
    if with_seed:
        for page, labels, group in seed_examples():
            xs.append(page)
            ys.append(labels)
            groups.append(group)
    return xs, ys, groups


def fit(pages: list[LabelledPage], with_seed: bool = True) -> BlockClassifier:
    xs, ys, groups = training_set(pages, with_seed)
    return BlockClassifier(random_state=RANDOM_STATE).fit(xs, ys, groups=groups)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--out", default=str(models_dir() / SHIPPED_MODEL))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pages, report = build(args.data, n_jobs=args.jobs)
    print(f"pages: {len(pages)}  labels: {label_counts(pages)}  unmatched: {dict(report)}", flush=True)
    model = fit(pages)
    manifest = save_model(model, args.out, {
        "version": "wcxb-1",
        "training_data": {
            "dataset": "WCXB dev split (CC-BY-4.0), read from ../shared/data/wcxb-dev",
            "pages": len(pages),
            "hand_labelled_pages": sum(lp.hand_labelled for lp in pages),
            "label_counts": label_counts(pages),
            "hand_label_files": sorted(p.name for p in (REPO / "train" / "labels").glob("*.hand.jsonl")),
            "seed": [g for _, _, g in seed_examples()],
        },
        "random_state": RANDOM_STATE,
    })
    print(f"wrote {args.out} sha256={manifest['sha256'][:12]}  in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
