"""The training set behind the shipped model, and the command that rebuilds it.

    python -m train.shipped [--data ../shared/data/wcxb-dev] [--out models/noisefilter-wcxb.joblib]

The set is every WCXB-dev page outside a fixed holdout of sites (one in seven registrable
domains, by a hash of the name, so that a site's subdomains are on one side; labels from
alignment with the gold text, overridden by the committed hand labels, see `train.dataset`),
plus a plain-text view of every hand-labelled page (the same blocks without their DOM, so that
`clean_text` on already-extracted text is trained too), plus the seed page's hand labels.
The holdout pages are cleaned by the new model and by `trafilatura.extract` in the same run,
and those metrics go into the manifest and the model card, so the command prints the model
card's figures again. Seeds are fixed, so the same inputs give the same model and the same
figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from threadpoolctl import threadpool_limits

from filter.blocks import Block, Page, kept_text, segment_text
from filter.model import BlockClassifier
from filter.modelfile import SHIPPED_MODEL, models_dir, save_model

from .bootstrap import example_identity
from .dataset import LabelledPage, build, label_counts
from .examples import Example
from .wcxb import load_dataset

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "wcxb-dev"
SEED_DIR = REPO.parent / "shared" / "seed"
RANDOM_STATE = 0
#: how much one page counts in training, by where its labels come from: thousands of blocks
#: are labelled by alignment, a few hundred pages by hand, one page (the seed) is the definition
WEIGHT_TEXT_VIEW = 3.0
WEIGHT_SEED = 30.0
HOLDOUT_EVERY = 7
#: the name of the model this recipe makes from WCXB-dev
VERSION = "wcxb-16"


def in_holdout(site: str) -> bool:
    """Whether a site (a registrable domain, `GoldPage.site`) belongs to the fixed evaluation
    holdout (stable across runs and machines)."""
    return int(hashlib.sha1(site.encode("utf-8")).hexdigest(), 16) % HOLDOUT_EVERY == 0


def text_view(page: Page, labels: list[str]) -> tuple[Page, list[str]]:
    """The page as an extractor's text output would give it: lines without DOM context, without
    the comment section, which extractors leave out by default (trafilatura's
    `include_comments=False`), and without the blocks only the completion stage found; the
    labels of the lines kept."""
    kept = [(b, lab) for b, lab in zip(page.blocks, labels) if b.extracted and not b.in_comments]
    view = replace(page, blocks=[Block(text=b.text, kind="line") for b, _ in kept],
                   source="text", title=None, full_title=None, url=None)
    return view, [lab for _, lab in kept]


def _seed_texts(seed_dir: Path) -> list[Path]:
    """The text file of each hand-labelled seed page, in the order of their labels files."""
    return [path.with_name(path.name.replace(".labels.jsonl", ".txt"))
            for path in sorted(seed_dir.glob("*.labels.jsonl"))]


def seed_examples(seed_dir: Path = SEED_DIR) -> list[tuple[Page, list[str], str]]:
    """The hand-labelled seed pages (text + one label per non-empty line)."""
    out = []
    labels_files = sorted(seed_dir.glob("*.labels.jsonl"))
    for labels_path, text_path in zip(labels_files, _seed_texts(seed_dir)):
        rows = [json.loads(line) for line in labels_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        blocks = segment_text(text_path.read_text(encoding="utf-8"))
        if [b.text for b in blocks] != [r["text"].strip() for r in rows]:
            raise ValueError(f"{labels_path.name} does not match the lines of {text_path.name}")
        out.append((Page(blocks=blocks, source="text"), [r["label"] for r in rows], f"seed:{text_path.stem}"))
    return out


def training_set(pages: list[LabelledPage], with_seed: bool = True):
    """Pages, label lists and group ids (sites) for `BlockClassifier.fit`."""
    xs, ys, groups, weights = [], [], [], []
    for lp in pages:
        xs.append(lp.page)
        ys.append(lp.labels)
        groups.append(lp.gold.site)
        weights.append(1.0)
        if lp.hand_labelled:
            view, view_labels = text_view(lp.page, lp.labels)
            xs.append(view)
            ys.append(view_labels)
            groups.append(lp.gold.site)
            weights.append(WEIGHT_TEXT_VIEW)
    if with_seed:
        for page, labels, group in seed_examples():
            xs.append(page)
            ys.append(labels)
            groups.append(group)
            weights.append(WEIGHT_SEED)
    return xs, ys, groups, weights


#: gradient boosting's result depends on its thread count: fixed, so any machine gives this model
TRAIN_THREADS = 2


def fit(pages: list[LabelledPage], with_seed: bool = True) -> BlockClassifier:
    xs, ys, groups, weights = training_set(pages, with_seed)
    with threadpool_limits(limits=TRAIN_THREADS, user_api="openmp"):
        return BlockClassifier(random_state=RANDOM_STATE).fit(xs, ys, groups=groups, page_weights=weights)


#: the decimals the manifest keeps of each measure: more than the model card shows (3 or 4),
#: so that the card rounds once (kept to 4, a leak rate of 0.054545 was 0.0545, shown 0.054)
_DECIMALS = 6


def holdout_metrics(model: BlockClassifier, pages: list[LabelledPage], n_jobs: int = 2) -> dict:
    """Word F1 / snippet rates beside trafilatura, and block metrics, on held-out pages; the
    word figures also with both favouring precision (``*_precise_*``: the model's
    `favor_precision` thresholds, `trafilatura.extract(html, favor_precision=True)`)."""
    import numpy as np
    import trafilatura
    from joblib import Parallel, delayed

    from .metrics import block_report, snippet_rates, word_prf

    traf = Parallel(n_jobs=n_jobs)(delayed(trafilatura.extract)(lp.gold.html()) for lp in pages)
    traf_precise = Parallel(n_jobs=n_jobs)(
        delayed(trafilatura.extract)(lp.gold.html(), favor_precision=True) for lp in pages)
    rows: dict[str, list] = {}
    y_true, y_pred, y4_true, y4_pred = [], [], [], []
    for lp, ttext, tprecise in zip(pages, traf, traf_precise):
        labels, probs = model.predict_page(lp.page)
        precise = model.labels_from_proba(lp.page, probs, favor_precision=True)
        text, ptext = (kept_text(lp.page.blocks, labs, "content") for labs in (labels, precise))
        for name, t in (("noisefilter", text), ("trafilatura", ttext or ""),
                        ("noisefilter_precise", ptext), ("trafilatura_precise", tprecise or "")):
            kept, leaked = snippet_rates(t, lp.gold.with_snippets, lp.gold.without_snippets)
            for key, value in ((f"{name}_f1", word_prf(t, lp.gold.main_content)[2]),
                               (f"{name}_with", kept), (f"{name}_without", leaked)):
                rows.setdefault(f"{lp.gold.page_type}:{key}", []).append(value)
                rows.setdefault(f"all:{key}", []).append(value)
        for truth, pred in zip(lp.labels, labels):
            y_true.append("content" if truth == "content" else "not content")
            y_pred.append("content" if pred == "content" else "not content")
            if lp.hand_labelled and truth != "noncontent":
                y4_true.append(truth)
                y4_pred.append(pred)
    words = {k: round(float(np.mean([v for v in vals if v is not None])), _DECIMALS)
             for k, vals in sorted(rows.items()) if any(v is not None for v in vals)}
    binary = block_report(y_true, y_pred, ["content", "not content"])
    metrics = {
        "holdout_pages": len(pages),
        "word_level": words,
        "blocks_content_f1": round(binary["per_label"]["content"]["f1"], _DECIMALS),
        "blocks_binary_macro_f1": round(binary["macro_f1"], _DECIMALS),
    }
    if y4_true:  # none on a holdout without hand-labelled pages (a data set of one's own)
        four = block_report(y4_true, y4_pred, ["content", "related", "teaser", "junk"])
        metrics["blocks_four_label_macro_f1"] = round(four["macro_f1"], _DECIMALS)
        metrics["blocks_four_label"] = {
            k: {m: round(v, _DECIMALS) if isinstance(v, float) else v for m, v in d.items()}
            for k, d in four["per_label"].items()}
    return metrics


def format_metrics(metrics: dict) -> str:
    """The metrics as the Markdown tables the model card shows."""
    lines = [f"Holdout: {metrics['holdout_pages']} pages from sites never seen in training.", ""]
    lines += _word_table(metrics, "noisefilter", "trafilatura")
    if any(k.endswith(":noisefilter_precise_f1") for k in metrics["word_level"]):
        lines += ["", "Both favouring precision (`favor_precision=True`):", ""]
        lines += _word_table(metrics, "noisefilter_precise", "trafilatura_precise")
    binary = (f"Blocks, content vs not: content F1 {metrics['blocks_content_f1']:.4f}, "
              f"macro F1 {metrics['blocks_binary_macro_f1']:.4f}")
    if "blocks_four_label" not in metrics:
        return "\n".join(lines + ["", f"{binary}; four labels: no hand-labelled page in the holdout"])
    lines += ["", f"{binary}; four labels on hand-labelled pages: "
              f"macro F1 {metrics['blocks_four_label_macro_f1']:.4f}", "",
              "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    order = ["content", "related", "teaser", "junk"]
    per_label = metrics["blocks_four_label"]  # the manifest stores keys sorted: show a fixed order
    for label in sorted(per_label, key=lambda lab: (order.index(lab) if lab in order else len(order), lab)):
        m = per_label[label]
        lines.append(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    return "\n".join(lines)


def _word_table(metrics: dict, ours: str, theirs: str) -> list[str]:
    """Word F1 and snippet rates per page type of `ours` beside `theirs` (their key prefixes)."""
    lines = ["| page type | pages | word F1 noisefilter | word F1 trafilatura | with kept (nf / traf) | without leaked (nf / traf) |",
             "|---|---|---|---|---|---|"]
    words = metrics["word_level"]
    types = sorted({k.split(":")[0] for k in words}, key=lambda t: (t == "all", t))
    for t in types:
        get = lambda key: words.get(f"{t}:{key}", float("nan"))  # noqa: E731
        lines.append(f"| {t} | {metrics['pages_per_type'].get(t, '')} | {get(f'{ours}_f1'):.4f} | {get(f'{theirs}_f1'):.4f} | "
                     f"{get(f'{ours}_with'):.3f} / {get(f'{theirs}_with'):.3f} | "
                     f"{get(f'{ours}_without'):.3f} / {get(f'{theirs}_without'):.3f} |")
    return lines


MODEL_CARD = REPO / "models" / "MODEL_CARD.md"
_START, _END = "<!-- metrics:start -->", "<!-- metrics:end -->"


def model_card_metrics(card: Path = MODEL_CARD) -> str:
    """The metrics table currently in the model card."""
    text = card.read_text(encoding="utf-8")
    return text[text.index(_START) + len(_START):text.index(_END)].strip()


def card_refusal(card: Path) -> str | None:
    """Why the metrics cannot be written into `card`, said before minutes of training (a card
    the run could not write ended it in a traceback after the training, the model written and
    the table not printed): a file without the metrics section, whose text is never
    overwritten, or a folder that does not exist. None when they can be written, into a new
    file too."""
    if not card.exists():
        return None if card.parent.is_dir() else f"{card}: its folder does not exist"
    try:
        text = card.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return f"{card}: cannot be read as a model card ({err})"
    if _START not in text or _END not in text.split(_START, 1)[1]:
        return f"{card}: holds no metrics section ({_START} … {_END}) to rewrite"
    return None


def write_model_card(table: str, card: Path = MODEL_CARD) -> None:
    """The metrics section of `card` rewritten with `table`, the rest kept; a card that does
    not exist is made of the section alone."""
    if not card.exists():
        card.write_text(f"{_START}\n{table}\n{_END}\n", encoding="utf-8")
        return
    text = card.read_text(encoding="utf-8")
    head, rest = text.split(_START, 1)
    card.write_text(f"{head}{_START}\n{table}\n{_END}{rest.split(_END, 1)[1]}", encoding="utf-8")


def trained_on(pages: list[LabelledPage], dataset: str,
               seed_dir: Path = SEED_DIR) -> dict[str, list[str]]:
    """The ids and document hashes `noisefilter bootstrap` gives these pages, in the manifest's
    form (`train.training`), and the document hash of each seed page as a text example of it
    has (its file's text): `evaluate` and `promote` then know which pages of a bootstrapped
    holdout the shipped model was trained on, as they know it for a model `train` made, and
    that the seed is one (a holdout of it scored 1.000 without a word)."""
    identities = [example_identity(lp.gold, dataset) for lp in pages]
    seeds = [Example(id=path.stem, text=path.read_text(encoding="utf-8"), blocks=[])
             for path in _seed_texts(seed_dir)]
    return {"example_ids": sorted(i for i, _ in identities),
            "document_hashes": sorted({h[:16] for _, h in identities}
                                      | {seed.document_sha256[:16] for seed in seeds})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--out", default=str(models_dir() / SHIPPED_MODEL))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--card", type=Path, default=MODEL_CARD,
                        help="model card whose metrics section is rewritten (made of that "
                             "section alone if the file does not exist)")
    args = parser.parse_args(argv)
    if (refusal := card_refusal(args.card)) is not None:
        parser.error(refusal)
    try:  # a missing or damaged data set: one message, not a traceback minutes in
        load_dataset(args.data)
    except ValueError as err:
        parser.error(str(err))
    if not any(SEED_DIR.glob("*.labels.jsonl")):  # trained without it: another model, silently
        parser.error(f"no seed labels in {SEED_DIR}: the recipe trains on the seed page's hand "
                     "labels (../shared/seed beside this repository)")
    started = time.perf_counter()
    try:
        pages, report = build(args.data, n_jobs=args.jobs)  # hand labels are read first
    except ValueError as err:
        parser.error(str(err))
    train_pages = [lp for lp in pages if not in_holdout(lp.gold.site)]
    test_pages = [lp for lp in pages if in_holdout(lp.gold.site)]
    print(f"pages: {len(pages)} ({len(train_pages)} train, {len(test_pages)} holdout)  "
          f"labels: {label_counts(pages)}  left out or unmatched: {dict(report)}", flush=True)
    if report["hand labels"] or report["hand-labelled pages not found"]:
        print(f"warning: {report['hand labels']} hand labels match no block and "
              f"{report['hand-labelled pages not found']} hand-labelled pages are not in the data: "
              "the extraction or the data changed since they were given, and this is not the "
              "model the card describes", file=sys.stderr, flush=True)
    model = fit(train_pages)
    fitted = time.perf_counter()
    print(f"trained in {fitted - started:.0f} s (extraction included)", flush=True)
    metrics = holdout_metrics(model, test_pages, n_jobs=args.jobs)
    metrics["pages_per_type"] = dict(Counter(lp.gold.page_type for lp in test_pages)) | {"all": len(test_pages)}
    # the shipped model's name and provenance only for the data it is made from: a model of
    # other data presented itself to `evaluate`, `promote` and `serve` as the shipped one
    shipped = Path(args.data).resolve() == DEFAULT_DATA.resolve()
    manifest = save_model(model, args.out, {
        "version": VERSION if shipped else Path(args.out).name.removesuffix(".joblib"),
        "training_data": {
            "dataset": ("WCXB dev split (CC-BY-4.0), read from ../shared/data/wcxb-dev"
                        if shipped else str(Path(args.data).resolve())),
            "pages": len(train_pages),
            "hand_labelled_pages": sum(lp.hand_labelled for lp in train_pages),
            "label_counts": label_counts(train_pages),
            "hand_label_files": sorted(p.name for p in (REPO / "train" / "labels").glob("*.hand.jsonl")),
            "seed": [g for _, _, g in seed_examples()],
            "holdout": f"sites (registrable domains) with sha1(site) % {HOLDOUT_EVERY} == 0",
            **trained_on(train_pages, Path(args.data).resolve().name),
        },
        "random_state": RANDOM_STATE,
        "train_threads": TRAIN_THREADS,
        "metrics": metrics,
    })
    table = format_metrics(metrics)
    write_model_card(table, args.card)
    print(table)
    print(f"\nwrote {args.out} (sha256 {manifest['sha256'][:12]}…) in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
