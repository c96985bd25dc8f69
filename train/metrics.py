"""The measures that decide: word-level F1 against gold text, snippet recall and leakage, and
block-level precision/recall/F1 per label."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from .align import tokens


def word_prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of lower-cased `\\w+` tokens counted with multiplicity (WCXB)."""
    p, g = Counter(tokens(predicted)), Counter(tokens(gold))
    if not p and not g:
        return 1.0, 1.0, 1.0
    overlap = sum((p & g).values())
    precision = overlap / sum(p.values()) if p else 0.0
    recall = overlap / sum(g.values()) if g else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _squash(text: str) -> str:
    return " ".join(tokens(text))


#: WCXB cuts its long `with` snippets at 80 characters, often inside a word: a snippet of these
#: lengths (the cut, less a space or mark at its end) may end in the start of a word ("… its
#: Online D" of "Online Data"); a longer one was not cut (3,806 of WCXB-dev's 6,659)
CUT_SNIPPET_CHARS = range(78, 81)


def snippet_rates(predicted: str, with_snippets, without_snippets) -> tuple[float | None, float | None]:
    """Share of `with` snippets found and of `without` snippets leaked (None when there are none),
    as whole words of the text, but for the last word of a cut `with` snippet
    (`CUT_SNIPPET_CHARS`), which may be the start of one: matched whole, 369 of WCXB-dev's 6,659
    `with` snippets were not found even in the gold text itself (334 of them 80 characters
    long). A `without` snippet is matched whole ("Share" is no leak of "shared")."""
    text = f" {_squash(predicted)} "
    kept = [(f" {_squash(s)}" if len(s) in CUT_SNIPPET_CHARS else f" {_squash(s)} ") in text
            for s in with_snippets if _squash(s)]
    leaked = [f" {_squash(s)} " in text for s in without_snippets if _squash(s)]
    return (float(np.mean(kept)) if kept else None, float(np.mean(leaked)) if leaked else None)


def block_report(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict:
    """Per-label precision/recall/F1/support, macro F1 and the confusion matrix (a row per gold
    label, a column per predicted one). The macro F1 averages the labels that occur in the gold
    labels: one the blocks lack would add a 0 that says nothing about the model (a perfect
    prediction of blocks without teasers or related lists scored 0.5 over four labels); None
    when none occurs. A gold label outside `labels` is no row; predicted as one of them, it is
    a false one."""
    if not any(t in labels for t in y_true):  # (scikit-learn refuses such a confusion matrix)
        p = r = f = np.zeros(len(labels))
        s = np.zeros(len(labels), dtype=int)
        confusion = [[0] * len(labels) for _ in labels]  # (nothing right, so nothing precise)
    else:
        p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                     zero_division=0)
        with warnings.catch_warnings():
            # scikit-learn warns of "a single label" even when `labels` names every one wanted
            warnings.filterwarnings("ignore", message="A single label was found",
                                    category=UserWarning)
            confusion = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    per_label = {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                       "support": int(s[i])} for i, lab in enumerate(labels)}
    present = [row["f1"] for row in per_label.values() if row["support"]]
    return {"per_label": per_label, "macro_f1": float(np.mean(present)) if present else None,
            "confusion": confusion, "labels": labels}


def paired_interval(ours, theirs, groups, statistic=None, resamples: int = 2000,
                    seed: int = 0) -> tuple[float, float, float]:
    """A statistic of two systems' per-page figures and its 95% interval, by a paired bootstrap
    over `groups` (sites): pages of one site share templates, so resampling pages alone would
    count a site's forty pages as forty pieces of evidence and give too narrow an interval. The
    statistic (default: the difference of the means, `ours` − `theirs`) is taken on the pages
    where both figures are known (not None: a page without snippets has no leak rate). Fixed
    seed: the same figures give the same interval. Returns (statistic, low, high); NaN for all
    three without a page."""
    statistic = statistic or (lambda a, b: float(np.mean(a) - np.mean(b)))
    known = [(a, b, g) for a, b, g in zip(ours, theirs, groups) if a is not None and b is not None]
    if not known:
        return float("nan"), float("nan"), float("nan")
    a = np.array([k[0] for k in known], dtype=float)
    b = np.array([k[1] for k in known], dtype=float)
    members: dict = {}
    for i, (_, _, group) in enumerate(known):
        members.setdefault(group, []).append(i)
    clusters = [np.array(m) for m in members.values()]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        pick = np.concatenate([clusters[j] for j in rng.integers(len(clusters), size=len(clusters))])
        draws.append(statistic(a[pick], b[pick]))
    draws = np.array(draws)
    if np.isnan(draws).all():  # a ratio to nothing in every resample (nothing leaked)
        return statistic(a, b), float("nan"), float("nan")
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return statistic(a, b), float(low), float(high)
