"""Scoring a model on labelled pages, cross-validating by site, and writing the report.

What is scored, and why this way:

- **blocks**: precision/recall/F1 per label and the confusion matrix, over the blocks that carry a
  label. A gold label the model does not know stays in the table (its recall is 0: the model
  cannot produce it) and is listed as unknown. A block labelled ``noncontent`` (not content, kind
  unknown: from gold-text alignment) has no row: kept, it is a false keep label (in the
  precision, not in the matrix, which says how many); removed, under whatever kind, it counts
  only in the keep-or-not score.
- **keep-or-not**: precision/recall/F1 of the keep label against everything else: what decides
  what the clean text holds, and comparable between models with different label sets.
- **pages**: word-level F1 of the clean text against the page's gold text (its ``gold`` field,
  else its kept blocks when every block is labelled), beside trafilatura's own output on the same
  page (for a text example, the text as given: what an extractor handed on).
- **worst pages**, with the blocks the model got wrong, because that is where to label next.
- **cross-validation grouped by site** (the registrable domain of the URL, `Example.site`): a
  site repeats its furniture, and a model scored on a site it was trained on looks better than
  it will be on a new site. A page without a URL is a group of its own, which the terminal and
  the report say: they called such groups sites, and pages of one site scored in a fold whose
  training held its other pages passed for a cross-validation by site (1.000 where the same
  pages with their URLs gave 0.957).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from filter.blocks import kept_text
from filter.files import written_whole
from filter.model import BlockClassifier

from .examples import UNKNOWN_KIND, LabelledPage, shorten
from .metrics import block_report, word_prf
from .progress import Progress
from .training import fit, in_fitting_order, sources_record


@dataclass
class PageResult:
    id: str
    url: str | None
    blocks: int
    wrong: list[dict]
    word_f1: float | None = None
    trafilatura_word_f1: float | None = None


@dataclass
class Evaluation:
    """Per-block gold and predicted labels of every scored block, and per-page results."""

    keep_label: str
    model_labels: list[str]
    y_true: list[str] = field(default_factory=list)
    y_pred: list[str] = field(default_factory=list)
    pages: list[PageResult] = field(default_factory=list)

    def labels(self, restrict: set[str] | None = None) -> list[str]:
        """Labels of the per-label table: the model's and the gold's, keep label first."""
        found = set(self.model_labels) | (set(self.y_true) - {UNKNOWN_KIND})
        if restrict is not None:
            found &= restrict
        rest = sorted(found - {self.keep_label})
        return [self.keep_label, *rest] if self.keep_label in found else rest

    def block_report(self, restrict: set[str] | None = None) -> dict:
        """Per-label scores and confusion matrix; the macro F1 averages the labels that occur in the
        gold labels (`train.metrics.block_report`). `restrict` (the labels two models both know, as
        `promote` compares them) narrows the labels and the blocks scored, to those whose gold label
        is one of them: a gold `comment` block, which a model without that label can only call
        `junk`, counted as a false `junk` against it and as nothing against the model that knows
        `comment`. What such a block costs the clean text, the keep-or-not F1 scores. Any other
        block the model kept (`noncontent`: not content, its kind unknown; a label outside
        `restrict`) is a false keep label, and only that: left out, a holdout labelled
        content-or-not gave its keep label precision 1.000 and a macro F1 that was its recall, so a
        model keeping every block (macro F1 1.000) blocked the promotion of a better one. Such
        blocks have no row in the confusion matrix; `kept_unlisted` counts them."""
        labels = self.labels(restrict)
        keep = self.keep_label if self.keep_label in labels else None
        pairs = [(t, p) for t, p in zip(self.y_true, self.y_pred) if t in labels or p == keep]
        report = block_report([t for t, _ in pairs], [p for _, p in pairs], labels)
        report["kept_unlisted"] = sum(t not in labels for t, _ in pairs)
        return report

    def keep_scores(self) -> dict:
        """Precision, recall and F1 of the keep label against the rest; recall and F1 are
        undefined (None) without a gold block to keep, precision without a kept block (as 0.0
        the report showed F1 0.000 where the summary showed none)."""
        keep = self.keep_label
        tp = sum(t == keep and p == keep for t, p in zip(self.y_true, self.y_pred))
        pred = sum(p == keep for p in self.y_pred)
        gold = sum(t == keep for t in self.y_true)
        precision = tp / pred if pred else None
        recall = tp / gold if gold else None
        f1 = None
        if gold:
            f1 = 2 * tp / (pred + gold)  # the F1 of precision and recall, 0.0 when tp is 0
        return {"precision": precision, "recall": recall, "f1": f1, "support": gold}

    def word_f1(self) -> tuple[float | None, float | None, int]:
        """Mean word F1 of the model and of trafilatura over pages with gold text."""
        scored = [p for p in self.pages if p.word_f1 is not None]
        if not scored:
            return None, None, 0
        beside = [p.trafilatura_word_f1 for p in scored if p.trafilatura_word_f1 is not None]
        return (float(np.mean([p.word_f1 for p in scored])),
                float(np.mean(beside)) if beside else None, len(scored))

    def summary(self) -> dict:
        """The numbers `promote` compares: keep-or-not F1, macro F1, mean word F1."""
        word, _, _ = self.word_f1()
        return {"content_f1": self.keep_scores()["f1"],
                "macro_f1": self.block_report()["macro_f1"], "word_f1": word}

    def merge(self, other: Evaluation) -> None:
        self.y_true += other.y_true
        self.y_pred += other.y_pred
        self.pages += other.pages


def _baseline_text(lp: LabelledPage, favor_precision: bool = False) -> str:
    if lp.example.html is None:
        return lp.example.text or ""
    import trafilatura

    return trafilatura.extract(lp.example.html, url=lp.example.url,
                               favor_precision=favor_precision) or ""


def evaluate(model: BlockClassifier, pages: list[LabelledPage], stream: TextIO | None = None,
             desc: str = "scoring pages", baseline: bool = True,
             favor_precision: bool = False) -> Evaluation:
    """Predict every page as the cleaner would (all its blocks, labelled or not) and score the
    labelled blocks; `baseline` also runs trafilatura for the side-by-side word F1. With
    `favor_precision`, both favour precision, as `Cleaner(favor_precision=True)` and
    ``trafilatura.extract(html, favor_precision=True)`` do."""
    extra = {"favor_precision": True} if favor_precision else {}  # as `Cleaner` passes it
    keep = str(model.classes_[0])
    result = Evaluation(keep_label=keep, model_labels=[str(c) for c in model.classes_])
    # one page is a few dozen rows: OpenMP threads only add start-up and, on a busy machine,
    # wait for each other (seen: 40x slower), so predictions run on one thread
    with Progress(len(pages), desc, stream=stream) as bar, threadpool_limits(limits=1):
        for lp in pages:
            predicted, probs = model.predict_page(lp.full_page, **extra)
            predicted = [str(p) for p in predicted]
            classes = list(result.model_labels)
            wrong = []
            for gold_label, i in zip(lp.labels, lp.kept):
                pred = predicted[i]
                result.y_true.append(gold_label)
                result.y_pred.append(pred)
                mistaken = (pred != gold_label if gold_label != UNKNOWN_KIND else pred == keep)
                if mistaken:
                    wrong.append({"text": shorten(lp.full_page.blocks[i].text, 100), "gold": gold_label,
                                  "predicted": pred, "score": round(float(probs[i][classes.index(pred)]), 3)})
            page = PageResult(id=lp.example.id, url=lp.example.url, blocks=len(lp.labels), wrong=wrong)
            gold = lp.gold(keep)
            if gold is not None:
                page.word_f1 = word_prf(kept_text(lp.full_page.blocks, predicted, keep), gold)[2]
                if baseline:
                    page.trafilatura_word_f1 = word_prf(_baseline_text(lp, favor_precision), gold)[2]
            result.pages.append(page)
            bar.update(1)
    return result


def holdout_metrics(ev: Evaluation, files: list[str] | None, store: str | None,
                    reviewed_only: bool, hashes: Mapping[str, str | None] | None = None) -> dict:
    """A trained model's scores on held-out pages (`ev`) as its manifest records them: what
    `evaluate` reports for the same examples (the keep label's scores, the per-label table, the
    summary `promote` compares), and which files (with their sha256 as read, `hashes`) and
    store they came from."""
    return {"holdout": {**sources_record(files, store, hashes), "reviewed_only": reviewed_only,
                        "pages": len(ev.pages), "blocks": len(ev.y_true), "keep": ev.keep_scores(),
                        "per_label": ev.block_report(), "summary": ev.summary()}}


def cross_validate(pages: list[LabelledPage], keep_label: str, folds: int = 5, seed: int = 0,
                   inner_folds: int = 5, stream: TextIO | None = None,
                   favor_precision: bool = False) -> dict:
    """Train and score `folds` times, each time holding out whole groups (`Example.site`: a
    site, or a page without a URL alone); returns the pooled scores and each fold's, with how
    many groups are sites and how many pages have no URL, or why cross-validation could not
    run."""
    pages = in_fitting_order(pages)
    groups = np.array([lp.example.site for lp in pages])
    n_groups = len(set(groups))
    sites = {lp.example.url_site for lp in pages} - {None}
    if folds < 2:
        return {"skipped": f"cross-validation was turned off (--cv {folds}: it needs 2 folds "
                           "or more)"}
    if n_groups < 2:
        return {"skipped": f"the pages come from {n_groups} site(s); cross-validation by site needs 2"}
    k = min(folds, n_groups)
    pooled: Evaluation | None = None
    per_fold = []
    splits = GroupKFold(n_splits=k).split(np.zeros(len(pages)), groups=groups)
    for n, (train_idx, test_idx) in enumerate(splits, 1):
        train = [pages[i] for i in train_idx]
        test = [pages[i] for i in test_idx]
        try:
            model = fit(train, keep_label=keep_label, seed=seed, folds=inner_folds)
        except ValueError as err:
            per_fold.append({"fold": n, "skipped": str(err)})
            continue
        ev = evaluate(model, test, stream=stream, desc=f"cross-validation fold {n}/{k}", baseline=False,
                      favor_precision=favor_precision)
        per_fold.append({"fold": n, "sites": sorted(set(groups[test_idx])), "pages": len(test),
                         **ev.summary()})
        if pooled is None:
            pooled = ev
        else:
            pooled.model_labels = sorted(set(pooled.model_labels) | set(ev.model_labels),
                                         key=lambda lab: (lab != keep_label, lab))
            pooled.merge(ev)
    if pooled is None:  # the first reason, in the report and on the terminal (it was in the JSON only)
        return {"skipped": f"no fold could be trained (fold 1: {per_fold[0]['skipped']})",
                "folds": per_fold}
    return {"folds": per_fold, "k": k, "groups": n_groups, "sites": len(sites),
            "pages_without_url": sum(lp.example.url_site is None for lp in pages),
            "pages": len(pages), "pages_scored": len(pooled.pages),
            "summary": pooled.summary(), "blocks": pooled.block_report(),
            "keep": pooled.keep_scores()}


def folds_left_out(cv: dict) -> str | None:
    """What the pooled cross-validation scores leave out, for the terminal and the report: the
    folds that could not be trained (their training sites held only one label, say) and their
    pages, whose scores are missing (None when every fold was scored). A fold left out said
    nothing beyond its row in the report's table, and the pooled scores, over the other folds'
    pages only, passed for all of them."""
    skipped = [f for f in cv.get("folds", ()) if "skipped" in f]
    if not skipped:
        return None
    scored = len(cv["folds"]) - len(skipped)
    first = skipped[0]
    return (f"pooled over {scored} of {len(cv['folds'])} folds, {cv['pages_scored']} of "
            f"{_pages(cv['pages'])}: fold {first['fold']} could not be trained "
            f"({first['skipped']})" + (f" nor {len(skipped) - 1} more" if len(skipped) > 1 else ""))


def not_by_site(cv: dict, pages: int) -> str | None:
    """What makes a cross-validation not one by site, for the terminal and the report: pages
    without a URL, each a group of its own (None when every page has one)."""
    n = cv.get("pages_without_url")
    if not n:
        return None
    return (f"{n} of {_pages(pages)} have no url: each is its own group, so cross-validation is "
            "not by site")


# -- the report -------------------------------------------------------------------------------

def report_dict(ev: Evaluation, model_info: dict, problems: list[str], cv: dict, worst: int = 10,
                seen_in_training: Sequence[str] = (), data: dict | None = None) -> dict:
    """Everything in the report, JSON-ready. `seen_in_training` are the ids of scored pages the
    model's manifest lists as training data: their scores flatter it, and the report says so.
    `data` says what was scored (the example files with their sha256, the store, the options
    that chose the pages and the folds), as a model's manifest records its training data: a
    report folder found later could not be tied to its holdout."""
    word, traf, n_scored = ev.word_f1()
    known = set(ev.model_labels) | {UNKNOWN_KIND}
    unknown = Counter(t for t in ev.y_true if t not in known)
    ranked = sorted(ev.pages, key=lambda p: (p.word_f1 if p.word_f1 is not None else math.inf,
                                             -len(p.wrong)))
    # a word F1 of exactly 0.0 (a page that kept none of its gold text) is the worst there is,
    # not a missing score: only None means "no gold text"
    with_errors = [p.__dict__ for p in ranked
                   if p.wrong or (p.word_f1 is not None and p.word_f1 < 1.0)]
    return {
        "model": model_info,
        "data": data,
        "pages": len(ev.pages),
        "seen_in_training": {"pages": len(seen_in_training), "ids": list(seen_in_training)},
        "blocks": len(ev.y_true),
        "blocks_by_gold_label": dict(sorted(Counter(ev.y_true).items())),
        "unknown_gold_labels": dict(unknown),
        "keep": ev.keep_scores(),
        "per_label": ev.block_report(),
        "word_f1": {"noisefilter": word, "trafilatura": traf, "pages_with_gold": n_scored},
        "summary": ev.summary(),
        "worst_pages": with_errors[:worst],
        # counted before `worst` cuts the list: "--worst 0" shows none, and says how many there are
        "pages_with_errors": len(with_errors),
        "cross_validation": cv,
        "problems": problems,
    }


#: which pages have a gold text to score word F1 against (`LabelledPage.gold`)
_GOLD_TEXT = ("a page has one in its `gold` field, or when every block is labelled and some as "
              "the keep label")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _pages(n: int) -> str:
    return f"{n} page" if n == 1 else f"{n} pages"


def _label_table(block: dict) -> list[str]:
    lines = ["| label | precision | recall | F1 | blocks |", "| --- | ---: | ---: | ---: | ---: |"]
    for label, row in block["per_label"].items():
        lines.append(f"| `{label}` | {_fmt(row['precision'])} | {_fmt(row['recall'])} | "
                     f"{_fmt(row['f1'])} | {row['support']} |")
    lines.append(f"| **macro** (labels with blocks) | | | **{_fmt(block['macro_f1'])}** | |")
    return lines


def report_markdown(rep: dict, chart: bool = True) -> str:
    """The report in Markdown; `chart` says whether report.png, which it shows, was drawn."""
    m = rep["model"]
    out = [f"# Evaluation of `{m.get('version')}`", "",
           f"Model file `{m.get('path')}` (sha256 `{str(m.get('sha256'))[:12]}…`), labels "
           f"{', '.join(f'`{x}`' for x in m.get('labels', []))}. {rep['pages']} pages, "
           f"{rep['blocks']} labelled blocks.", ""]
    data = rep.get("data")
    if data:
        sources = [f"`{f['path']}` (sha256 `{str(f['sha256'])[:12]}…`)" if f["sha256"] else
                   f"`{f['path']}`" for f in data["files"]]
        if data["store"]:
            sources.append(f"the store `{data['store']}`")
        out += [f"Scored on {', '.join(sources) or 'no file'}"
                f"{' (reviewed examples only)' if data['reviewed_only'] else ''}; "
                f"cross-validation seed {data['seed']}, inner folds {data['folds']}"
                f"{'; favouring precision (model, trafilatura and cross-validation)' if data.get('favor_precision') else ''}.",
                ""]
    seen = rep["seen_in_training"]["pages"]
    if seen:
        out += [f"**Warning: {seen} of the {rep['pages']} pages were in this model's training data** "
                "(their ids are in report.json): their scores are not an evaluation. Score on pages "
                "the model has not seen.", ""]
    out += ["![confusion matrix and scores](report.png)" if chart else
            "(No chart: report.png needs matplotlib.)", "", "## Blocks", ""]
    out += _label_table(rep["per_label"])
    k = rep["keep"]
    out += ["", f"Keep-or-not (`{rep['per_label']['labels'][0] if rep['per_label']['labels'] else ''}` "
                f"against the rest, `noncontent` included): precision {_fmt(k['precision'])}, "
                f"recall {_fmt(k['recall'])}, F1 **{_fmt(k['f1'])}**."]
    if rep["unknown_gold_labels"]:
        out += ["", "Gold labels this model does not know (it cannot predict them): " +
                ", ".join(f"`{k}` ({v})" for k, v in rep["unknown_gold_labels"].items()) + "."]
    labels = rep["per_label"]["labels"]
    if labels:
        out += ["", "### Confusion matrix (rows: gold, columns: predicted)", "",
                "| gold \\ predicted | " + " | ".join(f"`{x}`" for x in labels) + " |",
                "| --- |" + " ---: |" * len(labels)]
        for label, row in zip(labels, rep["per_label"]["confusion"]):
            out.append(f"| `{label}` | " + " | ".join(str(v) for v in row) + " |")
        unlisted = rep["per_label"].get("kept_unlisted")  # None in reports written before it
        if unlisted:
            out += ["", f"Not in the matrix: {unlisted} kept block{'s' if unlisted != 1 else ''} "
                        f"labelled `noncontent`, which count{'s' if unlisted == 1 else ''} as "
                        f"false `{labels[0]}` in its precision."]
    w = rep["word_f1"]
    out += ["", "## Pages: word F1 against the gold text", ""]
    if w["pages_with_gold"]:
        out += ["| | mean word F1 |", "| --- | ---: |",
                f"| noisefilter | **{_fmt(w['noisefilter'])}** |",
                f"| trafilatura | {_fmt(w['trafilatura'])} |",
                "", f"Over {w['pages_with_gold']} of {rep['pages']} pages with gold text ({_GOLD_TEXT})."]
    else:
        out.append(f"No page has gold text ({_GOLD_TEXT}).")
    out += ["", "## Worst pages", ""]
    errors = rep["pages_with_errors"]
    shown = len(rep["worst_pages"])
    if not errors:
        out.append("Every page is right.")
    elif not shown:
        out.append(f"{_pages(errors)} with errors (a block wrong or word F1 below 1); "
                   f"`--worst {errors}` lists them.")
    elif shown < errors:
        out += [f"The {shown} worst of {_pages(errors)} with errors (a block wrong or word F1 "
                f"below 1); `--worst {errors}` lists them all.", ""]
    for page in rep["worst_pages"]:
        out.append(f"### `{page['id']}` {page['url'] or ''}".rstrip())
        out.append("")
        out.append(f"word F1 {_fmt(page['word_f1'])} (trafilatura {_fmt(page['trafilatura_word_f1'])}), "
                   f"{len(page['wrong'])} of {page['blocks']} blocks wrong")
        out.append("")
        if page["wrong"]:
            out += ["| block | gold | predicted | score |", "| --- | --- | --- | ---: |"]
            for w_ in page["wrong"]:
                text = w_["text"].replace("|", "\\|")
                out.append(f"| {text} | `{w_['gold']}` | `{w_['predicted']}` | {w_['score']:.2f} |")
            out.append("")
    cv = rep["cross_validation"]
    caveat = not_by_site(cv, rep["pages"])
    out += ["", "## Cross-validation grouped by site" if caveat is None else
            "## Cross-validation grouped by site, or by page without a url", ""]
    if "skipped" in cv:
        out.append(f"Not run: {cv['skipped']}.")
    else:
        s = cv["summary"]
        if caveat is None:
            out.append(f"{cv['k']} folds over {cv['sites']} sites; each fold's sites are unseen "
                       "in training.")
        else:
            sites = f"{cv['sites']} site" + ("" if cv["sites"] == 1 else "s")
            out += [f"{cv['k']} folds over {cv['groups']} groups ({sites} and "
                    f"{_pages(cv['pages_without_url'])} without a url); each fold's groups are "
                    "unseen in training.", "",
                    f"**Warning: {caveat}**: a fold may train on pages of the site it is "
                    "scored on, which flatters the scores. Give the pages their `url`."]
        left_out = folds_left_out(cv)
        if left_out:
            out += ["", f"**Warning: {left_out}.**"]
        out += ["", f"Pooled: keep-or-not F1 **{_fmt(s['content_f1'])}**, macro F1 "
                    f"{_fmt(s['macro_f1'])}, word F1 {_fmt(s['word_f1'])}.", "",
                "| fold | pages | keep F1 | macro F1 | word F1 |",
                "| ---: | ---: | ---: | ---: | ---: |"]
        for f in cv["folds"]:
            if "skipped" in f:
                out.append(f"| {f['fold']} | skipped: {f['skipped']} | | | |")
            else:
                out.append(f"| {f['fold']} | {f['pages']} | {_fmt(f['content_f1'])} | "
                           f"{_fmt(f['macro_f1'])} | {_fmt(f['word_f1'])} |")
        out += [""] + _label_table(cv["blocks"])
    if rep["problems"]:
        out += ["", "## Problems in the examples", ""]
        out += [f"- {p}" for p in rep["problems"][:200]]
        if len(rep["problems"]) > 200:
            out.append(f"- … and {len(rep['problems']) - 200} more (all in report.json)")
    return "\n".join(out) + "\n"


def report_png(rep: dict, path: Path) -> None:
    """Confusion matrix (row-normalised, counts written in), F1 per label, word F1 beside
    trafilatura: the three things to look at first, in one picture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = rep["per_label"]["labels"]
    conf = np.array(rep["per_label"]["confusion"], dtype=float).reshape(len(labels), len(labels))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), gridspec_kw={"width_ratios": [1.3, 1, 0.6]})
    ax = axes[0]
    rows = conf.sum(axis=1, keepdims=True)
    ax.imshow(np.divide(conf, rows, out=np.zeros_like(conf), where=rows > 0), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("confusion (row share, counts)")
    for (i, j), v in np.ndenumerate(conf):
        share = v / rows[i, 0] if rows[i, 0] else 0
        ax.text(j, i, f"{int(v)}", ha="center", va="center", color="white" if share > 0.5 else "black")
    ax = axes[1]
    f1 = [rep["per_label"]["per_label"][x]["f1"] for x in labels]
    ax.barh(labels, f1, color="#4477aa")
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_title(f"F1 per label (macro {_fmt(rep['per_label']['macro_f1'])})")
    ax = axes[2]
    w = rep["word_f1"]
    colours = {"noisefilter": "#228833", "trafilatura": "#bbbbbb"}
    bars = [(name, w[name], colour) for name, colour in colours.items() if w[name] is not None]
    if bars:
        ax.bar(*zip(*[(n, v) for n, v, _ in bars]), color=[c for _, _, c in bars])
        ax.set_ylim(0, 1)
        ax.set_title(f"mean word F1 ({w['pages_with_gold']} pages)")
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, "no gold text", ha="center")
    fig.suptitle(f"{rep['model'].get('version')}: {rep['pages']} pages, {rep['blocks']} blocks")
    fig.tight_layout()
    with written_whole(path) as fh:
        fig.savefig(fh, dpi=100, format="png")
    plt.close(fig)


def write_report(rep: dict, folder: str | Path) -> list[Path]:
    """Write report.json, report.md and report.png into `folder`; returns their paths.
    Raises ImportError (with how to fix it) when matplotlib is missing, after the JSON and
    Markdown are written and a report.png of an earlier run is removed (the new report.md
    showed that run's chart under this one's figures)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / "report.png"
    try:
        report_png(rep, png)
        missing = None
    except ImportError as err:
        png.unlink(missing_ok=True)
        missing = err
    paths = [folder / "report.json", folder / "report.md"]
    # each whole or not at all: on a full disk, report.json was left cut short, no JSON
    for path, text in zip(paths, (json.dumps(rep, indent=2, ensure_ascii=False) + "\n",
                                  report_markdown(rep, chart=missing is None))):
        with written_whole(path) as fh:
            fh.write(text.encode("utf-8"))
    if missing is not None:
        raise ImportError("report.png needs matplotlib: pip install \".[train]\" from the "
                          "noisefilter repository (or pip install matplotlib)") from missing
    return [*paths, png]
