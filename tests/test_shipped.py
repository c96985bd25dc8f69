"""`python -m train.shipped`: the recipe behind the shipped model and its model card.

What a user of the shipped model relies on: its figures are measured on sites it never saw
(one in seven registrable domains), its manifest names the pages it was trained on (so that
`evaluate` and `promote` know a bootstrapped WCXB-dev page or the seed as seen), the model
card shows the manifest's figures, and the same inputs give the same model. Run here on a
few generated pages in the WCXB layout, with hand labels of their own."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from threadpoolctl import threadpool_limits

import train.dataset
import train.shipped
from conftest import REPO, SEED
from filter.blocks import Block, Page, text_hash
from filter.model import BlockClassifier
from filter.modelfile import load_model, save_model
from retrain_site import make_page, write_wcxb
from train.bootstrap import example_identity
from train.dataset import LabelledPage, build
from train.examples import Example
from train.shipped import (WEIGHT_SEED, WEIGHT_TEXT_VIEW, format_metrics, in_holdout, main,
                           model_card_metrics, seed_examples, text_view, training_set)
from train.wcxb import GoldPage, load_dataset

START, END = "<!-- metrics:start -->", "<!-- metrics:end -->"


def _one_in_seven(site: str) -> bool:
    """The holdout as the module's docstring and the manifest define it."""
    return int(hashlib.sha1(site.encode("utf-8")).hexdigest(), 16) % 7 == 0


# (site, page number, page type): news6.example and news23.example hash into the holdout,
# news0…news3 do not (news0 would under a holdout of one in six or one in eight)
PAGES = [(0, 1, "article"), (0, 2, "listing"), (1, 3, "article"), (1, 4, "article"),
         (2, 5, "article"), (2, 6, "listing"), (3, 7, "article"), (3, 8, "article"),
         (6, 9, "article"), (6, 10, "listing"), (23, 11, "article")]
HOLDOUT_SITES = {"news6.example", "news23.example"}
#: pages (ids) whose every block gets a hand label, as train/labels/*.hand.jsonl give them
HAND_LABELLED = {"0001", "0003", "0009"}


def _write_set(folder: Path, hand_file: Path) -> None:
    write_wcxb(folder, PAGES)
    hand = []
    for k, (site, n, _) in enumerate(PAGES, 1):
        ident = f"{k:04d}"
        if ident in HAND_LABELLED:
            blocks = make_page(site, n)[2]
            seen: dict[str, int] = {}
            for text, label in blocks:
                key = text_hash(text)
                hand.append({"page": ident, "block": key, "occurrence": seen.get(key, 0), "label": label})
                seen[key] = seen.get(key, 0) + 1
    hand_file.write_text("".join(json.dumps(row) + "\n" for row in hand))


def test_the_shipped_recipe_holds_out_sites_lists_its_training_pages_and_rewrites_the_card(
        tmp_path, monkeypatch, capsys):
    """A rebuild of the shipped model: the holdout sites are neither trained on nor listed as
    trained on (the card's figures would be on seen pages, and `promote` would warn of a
    fresh holdout page), the training pages and the seed are listed (else a holdout of them
    passes for unseen), the card's table is the manifest's metrics over the holdout pages only,
    its markers kept for the next rebuild, and the thread count does not change the model."""
    labels = tmp_path / "labels"
    labels.mkdir()
    folder = tmp_path / "wcxb-dev"  # the folder's name is the data set's in bootstrap's ids
    _write_set(folder, labels / "test.hand.jsonl")
    monkeypatch.setattr(train.dataset, "LABELS_DIR", labels)
    # two OpenMP threads on a loaded test machine spin for minutes over these few pages; the
    # count is fixed for the real set, any fixed count shows what this test checks
    monkeypatch.setattr(train.shipped, "TRAIN_THREADS", 1)
    golds = load_dataset(folder)
    assert {g.site for g in golds if _one_in_seven(g.site)} == HOLDOUT_SITES
    assert all(in_holdout(g.site) == _one_in_seven(g.site) for g in golds)
    holdout = [g for g in golds if g.site in HOLDOUT_SITES]
    trained = [g for g in golds if g.site not in HOLDOUT_SITES]
    card = tmp_path / "MODEL_CARD.md"
    shutil.copy(REPO / "models" / "MODEL_CARD.md", card)
    before = card.read_text(encoding="utf-8")

    out = tmp_path / "model.joblib"
    assert main(["--data", str(folder), "--out", str(out), "--card", str(card), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"pages: {len(golds)} ({len(trained)} train, {len(holdout)} holdout)" in printed
    manifest = load_model(out).manifest
    data = manifest["training_data"]
    assert data["pages"] == len(trained) and data["hand_labelled_pages"] == 2
    ids = set(data["example_ids"])
    assert ids == {f"wcxb-dev-{g.id}" for g in trained}
    assert not ids & {f"wcxb-dev-{g.id}" for g in holdout}
    hashes = set(data["document_hashes"])
    for gold in golds:
        ident, sha = example_identity(gold, "wcxb-dev")
        assert (sha[:16] in hashes) == (gold in trained), ident
    seed = sorted(SEED.glob("*.labels.jsonl"))[0].name.replace(".labels.jsonl", "")
    seed_text = (SEED / f"{seed}.txt").read_text(encoding="utf-8")
    assert Example(id="my-first-page", text=seed_text, blocks=[]).document_sha256[:16] in hashes
    assert data["seed"] == [f"seed:{seed}"]

    metrics = manifest["metrics"]
    assert metrics["holdout_pages"] == 3
    assert metrics["pages_per_type"] == {"article": 2, "listing": 1, "all": 3}
    assert metrics["blocks_four_label"]["content"]["support"] > 0  # the hand-labelled holdout page
    # the word figures also with both tools favouring precision, in a table of their own
    words = metrics["word_level"]
    assert {"all:noisefilter_precise_f1", "all:trafilatura_precise_f1"} <= set(words)
    assert "Both favouring precision (`favor_precision=True`):" in format_metrics(metrics)

    after = card.read_text(encoding="utf-8")
    assert after.count(START) == 1 and after.count(END) == 1
    assert after.split(START)[0] == before.split(START)[0]
    assert after.split(END)[1] == before.split(END)[1]
    assert model_card_metrics(card) == format_metrics(metrics)
    assert format_metrics(metrics) in printed

    # the same inputs on two workers: the same model, byte for byte, and the same figures in a
    # card of its own (a card that did not exist ended the run in a traceback)
    again, new_card = tmp_path / "again.joblib", tmp_path / "check" / "CARD.md"
    new_card.parent.mkdir()
    assert main(["--data", str(folder), "--out", str(again), "--card", str(new_card), "--jobs", "2"]) == 0
    assert load_model(again).manifest["sha256"] == manifest["sha256"]
    assert model_card_metrics(new_card) == model_card_metrics(card)
    assert card.read_text(encoding="utf-8") == after

    # and it is the model the manifest's recipe gives: its random state, fitted on the
    # training sites' pages only (plus their text views and the seed)
    pages, _ = build(folder, n_jobs=1)
    with threadpool_limits(limits=1, user_api="openmp"):
        xs, ys, groups, weights = training_set([lp for lp in pages if lp.gold.site not in HOLDOUT_SITES])
        expected = BlockClassifier(random_state=manifest["random_state"]).fit(
            xs, ys, groups=groups, page_weights=weights)
    assert save_model(expected, tmp_path / "expected.joblib", {})["sha256"] == manifest["sha256"]


def _page(*blocks: Block) -> Page:
    return Page(blocks=list(blocks), title="Harbour regatta returns", full_title="Harbour | Gazette",
                url="https://news1.example/a")


def test_the_text_view_leaves_out_comments_and_completed_blocks_and_keeps_their_labels_in_step():
    """The plain-text view trains `clean_text` on what an extractor hands on: its comment
    section and the blocks only the completion stage found are not in such text. Kept in, or
    with the labels of the dropped lines shifted onto the kept ones, the model would learn to
    keep noise in the text it is given."""
    page = _page(Block("Harbour regatta returns", kind="head", hints="headline", tag_path="h1"),
                 Block("Rowing boats filled the quay on Saturday.", tag_path="p"),
                 Block("jdoe wrote: great news!", in_comments=True),
                 Block("Subscribe to our newsletter", extracted=False, kept_distance=1),
                 Block("The ferry ran late all day.", tag_path="p"),
                 Block("Most read", kind="head"))
    labels = ["content", "content", "junk", "junk", "content", "teaser"]
    view, view_labels = text_view(page, labels)
    assert [b.text for b in view.blocks] == ["Harbour regatta returns", "Rowing boats filled the quay on Saturday.",
                                             "The ferry ran late all day.", "Most read"]
    assert view_labels == ["content", "content", "content", "teaser"]
    assert all(b.kind == "line" and not b.hints and not b.tag_path for b in view.blocks)
    assert view.source == "text" and view.title is None and view.url is None
    assert labels == ["content", "content", "junk", "junk", "content", "teaser"]  # not changed
    assert len(page.blocks) == 6


def _labelled(site: str, ident: str, hand: bool) -> LabelledPage:
    gold = GoldPage(id=ident, url=f"https://{site}/{ident}", page_type="article", html_path=Path("x"),
                    main_content="", with_snippets=(), without_snippets=())
    page = _page(Block("Rowing boats filled the quay."), Block("Comments", in_comments=True),
                 Block("Most read"))
    return LabelledPage(gold, page, ["content", "junk", "teaser"], hand_labelled=hand)


def test_training_weighs_text_views_and_the_seed_above_aligned_pages():
    """Thousands of blocks are labelled by alignment, a few pages by hand, one page (the seed)
    is the definition: each hand-labelled page is trained on twice (its DOM, and its text view
    counting WEIGHT_TEXT_VIEW), the seed counts WEIGHT_SEED. Without the view, `clean_text`
    would never be trained on text; at weight 1, the seed and the hand labels would be drowned out."""
    assert WEIGHT_SEED > WEIGHT_TEXT_VIEW > 1
    pages = [_labelled("news1.example", "0001", hand=True), _labelled("news2.example", "0002", hand=False)]
    xs, ys, groups, weights = training_set(pages)
    seeds = seed_examples()
    assert len(seeds) == len(list(SEED.glob("*.labels.jsonl"))) >= 1
    assert len(xs) == len(ys) == len(groups) == len(weights) == 3 + len(seeds)
    assert xs[0] is pages[0].page and xs[2] is pages[1].page
    assert xs[1].source == "text" and [b.text for b in xs[1].blocks] == ["Rowing boats filled the quay.", "Most read"]
    assert ys[1] == ["content", "teaser"]
    assert groups[:3] == ["news1.example", "news1.example", "news2.example"]
    assert weights == [1.0, WEIGHT_TEXT_VIEW, 1.0] + [WEIGHT_SEED] * len(seeds)
    for (page, labels, group), x, y, g in zip(seeds, xs[3:], ys[3:], groups[3:]):
        assert [b.text for b in x.blocks] == [b.text for b in page.blocks] and y == labels and g == group
        assert g.startswith("seed:") and "content" in y
    assert training_set(pages, with_seed=False)[3] == [1.0, WEIGHT_TEXT_VIEW, 1.0]
