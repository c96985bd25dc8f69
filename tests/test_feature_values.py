"""The feature values the shipped model reads, pinned: a change to the extraction or to
`filter.features` that moves them changes every prediction of a model trained on the old
values, silently (it still loads and runs). Each page's column sums are compared with
`fixtures/feature_sums.json`; after a deliberate change, raise `FEATURE_SCHEMA`
(`filter/model.py`) if a column now means something else (so that models trained before are
refused, not fed it), retrain the shipped model (`python -m train.shipped`), then write the
new values:

    python tests/test_feature_values.py --write
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from filter.cleaner import text_page  # noqa: E402
from filter.extract import html_to_page  # noqa: E402
from filter.features import FEATURE_NAMES, PageFeatures  # noqa: E402

SHARED = HERE.parent.parent / "shared"
SUMS = HERE / "fixtures" / "feature_sums.json"
#: WCXB-dev pages of several kinds (read from ../shared at run time; only their ids and the
#: sums of their feature values are kept here)
WCXB_IDS = ["0004", "0016", "0105", "0273", "0562", "0653", "2849", "2969", "3014", "4120",
            "4225", "4758"]


def _pages():
    """(name, Page) of the seed text, the crawl fixtures and the WCXB-dev pages above."""
    yield "seed", text_page((SHARED / "seed" / "000_aeeb56263c09fa58.txt").read_bytes(), 10_000_000)
    for path in sorted((HERE / "fixtures" / "crawl_site").glob("*.html")):
        yield path.name, html_to_page(path.read_bytes(), url=f"http://courier.test/{path.name}")
    data = SHARED / "data" / "wcxb-dev"
    for ident in WCXB_IDS:
        url = json.loads((data / "ground-truth" / f"{ident}.json").read_text())["url"] or None
        yield ident, html_to_page(gzip.decompress((data / "html" / f"{ident}.html.gz").read_bytes()),
                                  url=url)


def feature_sums() -> dict[str, dict[str, float]]:
    """Each page's feature columns (without the topic ones, which follow the model's first
    pass) summed over its blocks, with its number of blocks."""
    sums = {}
    for name, page in _pages():
        matrix = PageFeatures(page).matrix.astype(np.float64)
        sums[name] = {"blocks": len(page.blocks),
                      **{col: round(float(v), 4) for col, v in zip(FEATURE_NAMES, matrix.sum(axis=0))}}
    return sums


def test_the_feature_values_are_those_the_shipped_model_was_trained_on():
    if not (SHARED / "data" / "wcxb-dev").is_dir():
        pytest.skip("needs ../shared/data/wcxb-dev")
    pinned = json.loads(SUMS.read_text())
    now = feature_sums()
    assert sorted(now) == sorted(pinned)
    moved = [f"{page} {col}: {pinned[page].get(col)} -> {value}"
             for page, columns in now.items() for col, value in columns.items()
             if pinned[page].get(col) is None
             or abs(value - pinned[page][col]) > 1e-3 * max(1.0, abs(pinned[page][col]))]
    assert not moved, "feature values moved (see this module's docstring):\n" + "\n".join(moved)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_feature_values.py --write")
    SUMS.write_text(json.dumps(feature_sums(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SUMS}")
