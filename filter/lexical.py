"""The words of a block as evidence: a linear model over hashed word n-grams.

The features of `filter.features` describe a block's shape, markup and place, and a handful of
cue phrases; they cannot tell "Unlock up to 55% off your subscription today!" or "Free standard
shipping on orders $60 CAD+" from an article's sentence of the same shape. A logistic
regression over the block's words and word pairs can, for furniture phrased alike across sites.
Its content probability is one more column for the gradient-boosted stages (`filter.model`),
which weigh it against the rest. Hashing keeps the model a fixed size (2**18 weights, 2 MB)
with no vocabulary to store, in any language whose words `\\w+` finds.

In training, the column must come out of fold (`out_of_fold`, grouped by site): fitted on a
site's own pages, the regression learns that site's furniture word for word, and the stages
after it would learn to trust it far more than they can on a new site.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

#: the inverse regularisation strength of the regression, chosen by 5-fold cross-validation on
#: WCXB-dev (see `docs/benchmark-history.md`)
C = 0.1

#: how block texts become the regression's columns. Stateless, so not saved with a model: a
#: change here changes what a fitted regression's weights mean, and must raise
#: `filter.model.FEATURE_SCHEMA` (a saved model keeps only its regression, whose pickle, unlike
#: a fitted vectorizer's, holds no memory address, so the same training gives the same file)
_VECTORIZER = HashingVectorizer(ngram_range=(1, 2), n_features=2**18, alternate_sign=False,
                                binary=True, token_pattern=r"(?u)\b\w+\b")


def _regression() -> LogisticRegression:
    return LogisticRegression(C=C, solver="liblinear", random_state=0)


class LexicalModel:
    """A block text's probability of being content, from its words alone."""

    def __init__(self, regression: LogisticRegression):
        self.regression = regression

    @classmethod
    def fit(cls, texts: list[str], y: np.ndarray, sample_weight: np.ndarray) -> LexicalModel:
        return cls(_regression().fit(_VECTORIZER.transform(texts), y, sample_weight=sample_weight))

    def predict(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.regression.predict_proba(_VECTORIZER.transform(texts))[:, 1]

    @staticmethod
    def out_of_fold(texts: list[str], y: np.ndarray, sample_weight: np.ndarray,
                    groups: np.ndarray, folds: int) -> np.ndarray:
        """Each block's probability from a regression fitted without its group (site): what the
        column will be on a page of a site the model never saw."""
        n_groups = len(np.unique(groups))
        if n_groups < 2 or len(np.unique(y)) < 2:  # nothing to learn out of fold: the rate
            return np.full(len(y), float(np.mean(y)) if len(y) else 0.0)
        x = _VECTORIZER.transform(texts)
        out = np.zeros(len(y))
        for train, test in GroupKFold(n_splits=min(folds, n_groups)).split(x, y, groups):
            if len(np.unique(y[train])) < 2:  # a fold of one class: its rate is all it knows
                out[test] = float(y[train][0])
                continue
            out[test] = _regression().fit(x[train], y[train], sample_weight=sample_weight[train]
                                          ).predict_proba(x[test])[:, 1]
        return out
