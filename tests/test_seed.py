"""The defining example: the seed page's tail must go, its article must stay, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filter import clean_text

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"

STEM = "000_aeeb56263c09fa58"


@pytest.fixture(scope="module")
def seed_result():
    return clean_text((SEED / f"{STEM}.txt").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hand_labels():
    lines = (SEED / f"{STEM}.labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_clean_text_returns_exactly_the_expected_clean_text(seed_result):
    expected = (SEED / f"{STEM}.clean.txt").read_text(encoding="utf-8")
    assert seed_result.text.strip() == expected.strip()


def test_labels_match_the_hand_labels(seed_result, hand_labels):
    assert [b.text for b in seed_result.blocks] == [row["text"].strip() for row in hand_labels]
    matches = sum(b.label == row["label"] for b, row in zip(seed_result.blocks, hand_labels))
    assert matches >= 48, f"only {matches} of {len(hand_labels)} hand labels matched"


def test_every_content_line_stays(seed_result, hand_labels):
    assert len(seed_result.blocks) == len(hand_labels)  # (zip stops at the shorter)
    for block, row in zip(seed_result.blocks, hand_labels):
        if row["label"] == "content":
            assert block.label == "content", block.text


def test_translation_loop_is_junk(seed_result):
    loop = [b for b in seed_result.blocks if b.text.startswith("It's a bit of a bit")]
    assert len(loop) == 1 and loop[0].label == "junk"


def test_the_readmes_before_and_after_is_what_the_shipped_model_gives(seed_result):
    """The README opens with the seed page's tail as `noisefilter clean --text --json` labels
    it: each line's label, score and text there is the shipped model's (a retrained model left
    it showing the scores of the one before)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    listing = readme.split("## Before and after", 1)[1].split("```", 2)[1].strip().splitlines()
    shown = []
    for block in seed_result.blocks[-len(listing):]:
        text = block.text if len(block.text) <= 73 else block.text[:70] + "..."
        shown.append(f"{block.label:<8} {block.score:.2f}  {text}")
    assert listing == shown
    assert len(seed_result.blocks) - len(listing) == 12  # "the article's first 12 lines"
