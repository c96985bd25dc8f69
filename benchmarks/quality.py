"""Quality of noisefilter beside trafilatura on WCXB-dev, 5-fold cross-validation by site.

    python benchmarks/quality.py [--folds 5] [--json benchmarks/results/quality.json]
    python benchmarks/quality.py --full-pass-below 0    # the fast pass alone: what the full pass buys

Each fold trains the shipped model's recipe (`train.shipped.fit`) on the other folds' pages (no
site, the registrable domain `GoldPage.site`, is in both: subdomains of one site share its
templates; a page without a URL by the site its canonical link names, `cv_site`), then cleans the held-out pages. On the same pages in the same run it runs
`trafilatura.extract(html)` with defaults. Printed per page type: word F1 against the gold
main text, share of `with` snippets kept and of `without` snippets leaked, the word F1 a
perfect block classifier would reach on the same blocks (the ceiling the extraction sets), and
on the blocks trafilatura kept alone (what the completion stage's restored blocks add to it);
the F1 gain over trafilatura, the difference in `with` snippets kept and the ratio of `without`
snippets leaked, each with a 95% interval (`train.metrics.paired_interval`: a bootstrap over
sites, whose pages share templates);
block-level precision/recall/F1 and confusion matrices on held-out blocks (content vs not on
every page, split by whether trafilatura kept the block or the completion stage restored it;
the four labels on the hand-labelled pages); the related links a crawler would get from the
held-out hand-labelled pages (`CleanResult.related_links`) against the links of the blocks
labelled `related` by hand, on any site; and `clean_text` applied to trafilatura's own text output.
A second table gives both tools favouring precision (`favor_precision=True`: noisefilter's
stricter thresholds on the same probabilities, trafilatura's own option), with the word
precision beside word F1. Synthetic or seed examples are never scored. Nothing is asserted.

`--full-pass-below SHARE` extracts (and so trains and tests) with another trigger for
trafilatura's full pass (`filter.extract.FALLBACK_BELOW_SHARE`); 0 runs it only where the fast
pass keeps nothing. Its results go to a JSON file only when `--json` names one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import trafilatura
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from filter import extract  # noqa: E402
from filter.blocks import kept_text  # noqa: E402
from filter.cleaner import related_links  # noqa: E402
from filter.sites import site_or_host  # noqa: E402
from train.dataset import build  # noqa: E402
from train.metrics import block_report, paired_interval, snippet_rates, word_prf  # noqa: E402
from train.shipped import DEFAULT_DATA, fit  # noqa: E402
from train.wcxb import load_dataset  # noqa: E402

LABELS4 = ["content", "related", "teaser", "junk"]


def _trafilatura_precise(html: bytes) -> str:
    return trafilatura.extract(html, favor_precision=True) or ""


def _trafilatura_text(html: bytes) -> str:
    return trafilatura.extract(html) or ""


def cv_site(lp) -> str:
    """The site a page is grouped by: its URL's registrable domain (`GoldPage.site`), else, for
    a page without a URL, the one its canonical link names. The five WCXB-dev pages without a
    URL were one group, "", and two of them are pages of sites with other pages in another fold
    (a canonical link to protiviti.com, to a Discourse forum). Not `GoldPage.site` itself: the
    shipped model's training groups by that, and would change."""
    return lp.gold.site or site_or_host(lp.page.canonical_url or "") or ""


def _link_figures(counts: dict) -> dict:
    return {**counts, "precision": counts["right"] / max(counts["given"], 1),
            "recall": counts["right"] / max(counts["related"], 1)}


def _said(links: dict) -> str:
    return (f"{links['given']} given, {links['right']} of them links of hand-labelled `related` "
            f"blocks (precision {links['precision']:.3f}), of {links['related']} such links "
            f"(recall {links['recall']:.3f})")


def _mean(values) -> float:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else float("nan")


def _ratio(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(ours.mean() / theirs.mean()) if theirs.mean() else float("nan")


def _interval(point: float, low: float, high: float, sign: str = "+") -> str:
    return f"{point:{sign}.4f} [{low:{sign}.4f}, {high:{sign}.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write the figures (default: benchmarks/results/quality.json, "
                             "none with --full-pass-below)")
    parser.add_argument("--full-pass-below", type=float, default=None, metavar="SHARE",
                        help="run trafilatura's full pass when its fast pass keeps less than this "
                             "share of the page's text (default: the library's, "
                             f"{extract.FALLBACK_BELOW_SHARE})")
    args = parser.parse_args()
    try:  # a missing or damaged data set: one message, not a traceback
        load_dataset(args.data)
    except ValueError as err:
        parser.error(str(err))
    if args.json is None and args.full_pass_below is None:
        args.json = REPO / "benchmarks" / "results" / "quality.json"
    started = time.perf_counter()

    extract_jobs = args.jobs
    if args.full_pass_below is not None:
        extract.FALLBACK_BELOW_SHARE = args.full_pass_below
        extract_jobs = 1  # worker processes would import the library's own trigger
        print("full pass where the fast pass keeps " + (
            f"under {args.full_pass_below:.0%} of the page's text" if args.full_pass_below else "nothing"))
    pages, report = build(args.data, n_jobs=extract_jobs)
    print(f"{len(pages)} pages extracted ({dict(report)})", flush=True)
    traf = Parallel(n_jobs=args.jobs, batch_size=16)(delayed(_trafilatura_text)(lp.gold.html()) for lp in pages)
    traf_precise = Parallel(n_jobs=args.jobs, batch_size=16)(
        delayed(_trafilatura_precise)(lp.gold.html()) for lp in pages)

    groups = np.array([cv_site(lp) for lp in pages])
    ours: list[list[str] | None] = [None] * len(pages)
    ours_precise: list[list[str] | None] = [None] * len(pages)
    text_mode: list[str | None] = [None] * len(pages)
    from filter.cleaner import Cleaner
    from filter.modelfile import LoadedModel

    for k, (train_idx, test_idx) in enumerate(GroupKFold(n_splits=args.folds).split(pages, groups=groups)):
        model = fit([pages[i] for i in train_idx])
        cleaner = Cleaner(model=LoadedModel(model=model, manifest={"version": f"cv-fold-{k}"}, path=Path("cv")))
        for i in test_idx:
            ours[i], probs = model.predict_page(pages[i].page)
            ours_precise[i] = model.labels_from_proba(pages[i].page, probs, favor_precision=True)
            text_mode[i] = cleaner.clean_text(traf[i]).text if traf[i].strip() else ""
        print(f"fold {k + 1}/{args.folds} done ({time.perf_counter() - started:.0f} s)", flush=True)

    per_type: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    sites: dict[str, list[str]] = defaultdict(list)  # each page's site, in `per_type`'s order
    y_bin_true, y_bin_pred, y4_true, y4_pred = [], [], [], []
    by_origin: dict[bool, tuple[list, list]] = {True: ([], []), False: ([], [])}
    links = {"given": 0, "related": 0, "right": 0}
    links_precise = {"given": 0, "related": 0, "right": 0}
    for lp, labels, ttext, tclean, precise, tprecise in zip(pages, ours, traf, text_mode,
                                                            ours_precise, traf_precise):
        g = lp.gold
        text, ptext, oracle = (kept_text(lp.page.blocks, labs, "content")
                               for labs in (labels, precise, lp.labels))
        row = per_type[g.page_type]
        sites[g.page_type].append(cv_site(lp))
        row["oracle_f1"].append(word_prf(oracle, g.main_content)[2])
        extracted = [(b, lab) for b, lab in zip(lp.page.blocks, lp.labels) if b.extracted]
        kept_oracle = kept_text((b for b, _ in extracted), (lab for _, lab in extracted), "content")
        row["oracle_kept_f1"].append(word_prf(kept_oracle, g.main_content)[2])
        for name, t in (("ours", text), ("trafilatura", ttext), ("text_mode", tclean),
                        ("precise", ptext), ("trafilatura_precise", tprecise)):
            word_p, _, word_f1 = word_prf(t, g.main_content)
            row[f"{name}_f1"].append(word_f1)
            row[f"{name}_precision"].append(word_p)
            kept, leaked = snippet_rates(t, g.with_snippets, g.without_snippets)
            row[f"{name}_with"].append(kept)
            row[f"{name}_without"].append(leaked)
        for block, truth, pred in zip(lp.page.blocks, lp.labels, labels):
            y_bin_true.append("content" if truth == "content" else "not content")
            y_bin_pred.append("content" if pred == "content" else "not content")
            by_origin[block.extracted][0].append(y_bin_true[-1])
            by_origin[block.extracted][1].append(y_bin_pred[-1])
            if lp.hand_labelled and truth in LABELS4:
                y4_true.append(truth)
                y4_pred.append(pred)
        if lp.hand_labelled:
            own = {"page_url": g.url, "link_base": lp.page.link_base,  # as `Cleaner` calls it
                   "also_own": (lp.page.link_base,), "aliases": (lp.page.canonical_url,),
                   "itself": lp.page.own_urls}
            wanted = {link.url for link in related_links(lp.page.blocks, lp.labels, **own,
                                                         same_site=False)}
            for counts, predicted in ((links, labels), (links_precise, precise)):
                given = {link.url for link in related_links(lp.page.blocks, predicted, **own)}
                counts["given"] += len(given)
                counts["related"] += len(wanted)
                counts["right"] += len(given & wanted)

    summary = {"pages": len(pages), "folds": args.folds, "full_pass_below": extract.FALLBACK_BELOW_SHARE,
               "per_type": {}}
    print("\n| page type | pages | F1 noisefilter | F1 trafilatura | with kept (nf / traf) | without leaked (nf / traf) | F1 clean_text(traf) | F1 perfect classifier (kept blocks only) |")
    print("|---|---|---|---|---|---|---|---|")
    # every page's figures under "all" too, in the order of `sites`
    per_type["all"] = {k: [v for r in per_type.values() for v in r[k]]
                       for k in next(iter(per_type.values()))}
    sites["all"] = [g for t in per_type if t != "all" for g in sites[t]]
    for ptype in sorted(per_type, key=lambda t: (t == "all", -len(per_type[t]["ours_f1"]))):
        row = per_type[ptype]
        s = {k: _mean(v) for k, v in row.items()}
        summary["per_type"][ptype] = {**s, "pages": len(row["ours_f1"])}
        print(f"| {ptype} | {len(row['ours_f1'])} | {s['ours_f1']:.4f} | {s['trafilatura_f1']:.4f} | "
              f"{s['ours_with']:.3f} / {s['trafilatura_with']:.3f} | "
              f"{s['ours_without']:.3f} / {s['trafilatura_without']:.3f} | {s['text_mode_f1']:.4f} | "
              f"{s['oracle_f1']:.4f} ({s['oracle_kept_f1']:.4f}) |")

    print("\nAgainst trafilatura, with 95% intervals (paired bootstrap over sites, "
          "2,000 resamples, seed 0):\n")
    print("| page type | pages | sites | F1 gain | with kept, difference | without leaked, nf / traf |")
    print("|---|---|---|---|---|---|")
    summary["intervals"] = {}
    for ptype in summary["per_type"]:
        row, where = per_type[ptype], sites[ptype]
        found = {
            "f1_gain": paired_interval(row["ours_f1"], row["trafilatura_f1"], where),
            "with_difference": paired_interval(row["ours_with"], row["trafilatura_with"], where),
            "without_ratio": paired_interval(row["ours_without"], row["trafilatura_without"], where,
                                             statistic=_ratio),
        }
        summary["intervals"][ptype] = {**found, "sites": len(set(where))}
        print(f"| {ptype} | {len(where)} | {len(set(where))} | "
              + " | ".join(_interval(*found[k], sign="-" if k == "without_ratio" else "+")
                           for k in found) + " |")

    print("\nFavouring precision (`favor_precision=True`), the same pages and folds:\n")
    print("| page type | pages | F1 noisefilter | F1 trafilatura | word precision (nf / traf) | with kept (nf / traf) | without leaked (nf / traf) |")
    print("|---|---|---|---|---|---|---|")
    for ptype, s in summary["per_type"].items():
        print(f"| {ptype} | {s['pages']} | {s['precise_f1']:.4f} | {s['trafilatura_precise_f1']:.4f} | "
              f"{s['precise_precision']:.4f} / {s['trafilatura_precise_precision']:.4f} | "
              f"{s['precise_with']:.3f} / {s['trafilatura_precise_with']:.3f} | "
              f"{s['precise_without']:.3f} / {s['trafilatura_precise_without']:.3f} |")
    summary["related_links_precise"] = _link_figures(links_precise)
    print(f"\nRelated links of held-out hand-labelled pages, favouring precision: "
          f"{_said(summary['related_links_precise'])}")

    binary = block_report(y_bin_true, y_bin_pred, ["content", "not content"])
    kept = block_report(*by_origin[True], ["content", "not content"])
    restored = block_report(*by_origin[False], ["content", "not content"])
    four = block_report(y4_true, y4_pred, LABELS4)
    summary["blocks_binary"], summary["blocks_four_labels"] = binary, four
    summary["blocks_binary_trafilatura_kept"], summary["blocks_binary_restored"] = kept, restored
    for title, rep in (("content vs not content, all held-out blocks", binary),
                       ("content vs not content, blocks trafilatura kept", kept),
                       ("content vs not content, blocks the completion stage restored", restored),
                       ("four labels, held-out blocks of hand-labelled pages", four)):
        macro = "none: no block" if rep["macro_f1"] is None else f"{rep['macro_f1']:.3f}"
        print(f"\nBlocks: {title} (macro F1 {macro})")
        print("| label | precision | recall | F1 | support |\n|---|---|---|---|---|")
        for lab, m in rep["per_label"].items():
            print(f"| {lab} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
        print("confusion (rows = truth, columns = predicted, order as above):")
        for lab, r in zip(rep["labels"], rep["confusion"]):
            print(f"  {lab:>12}: {r}")
    summary["related_links"] = _link_figures(links)
    print(f"\nRelated links of held-out hand-labelled pages: {_said(summary['related_links'])}")
    summary["seconds"] = round(time.perf_counter() - started)
    if args.json is None:
        print(f"\n{summary['seconds']} s")
        return
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))
    print(f"\n{summary['seconds']} s; JSON in {args.json}")


if __name__ == "__main__":
    main()
