"""The model card shows the metrics recorded in the shipped model's manifest, and
`python -m train.shipped` reproduces them (slow: run with NOISEFILTER_SLOW_TESTS=1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from filter.modelfile import SHIPPED_MODEL, read_manifest

REPO = Path(__file__).resolve().parent.parent


def test_model_card_metrics_match_the_manifest():
    from train.shipped import format_metrics, model_card_metrics

    manifest = read_manifest(REPO / "models" / SHIPPED_MODEL)
    assert model_card_metrics() == format_metrics(manifest["metrics"])


@pytest.mark.skipif(not os.environ.get("NOISEFILTER_SLOW_TESTS"), reason="retrains the model (~10 min)")
def test_retraining_reproduces_the_model_card(tmp_path):
    from train.shipped import model_card_metrics

    card_before = model_card_metrics()
    out, card = tmp_path / SHIPPED_MODEL, tmp_path / "MODEL_CARD.md"
    shutil.copy(REPO / "models" / "MODEL_CARD.md", card)
    proc = subprocess.run([sys.executable, "-m", "train.shipped", "--out", str(out), "--card", str(card)],
                          cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    assert card_before in proc.stdout
    assert model_card_metrics(card) == card_before
