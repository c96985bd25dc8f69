"""`noisefilter bootstrap`: a gold-text data set (WCXB layout) to unreviewed label proposals.

What a person reviewing the proposals relies on: the pages asked for (page types, a limit), the
gold text deciding what is content and the model only the kind of the rest, a summary that
counts what was proposed and where model and alignment disagree, provenance (url, time), and
ids and document hashes that `train.shipped` can list as trained on."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from filter.cli import main
from filter.extract import html_to_page
from filter.modelfile import load_model
from retrain_site import make_page, write_set, write_swapped, write_wcxb
from train.align import align
from train.bootstrap import BootstrapReport, bootstrap, bootstrap_page, example_identity, gold_pages
from train.examples import read_examples
from train.wcxb import load_dataset


def _train(examples: Path, out: Path) -> Path:
    assert main(["train", "--examples", str(examples), "--out", str(out), "--folds", "2"]) == 0
    return out


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    """A model taught the opposite of the truth (content labelled junk, junk content), as in
    `test_retrain.data`: its proposals disagree with alignment on most blocks."""
    d = tmp_path_factory.mktemp("bootstrap")
    write_set(d / "train.jsonl", range(0, 4), range(0, 4))
    return _train(write_swapped(d / "train.jsonl", d / "swapped.jsonl"), d / "swapped.joblib")


MIXED = [(4, 20, "listing"), (4, 21, "article"), (5, 22, "forum"), (5, 23, "article"), (4, 24, "article")]


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_page_types_and_limit_take_exactly_the_pages_asked_for(swapped, tmp_path, capsys):
    """`--page-types article --limit 25` (docs/teach-your-site.md) is how a user picks the pages
    to review first: another type slipping in, or a limit ignored, fills the labelling queue
    with pages they did not ask for (and a whole data set takes hours to bootstrap)."""
    gold = write_wcxb(tmp_path / "mysite", MIXED)

    def run(*args: str) -> list[str]:
        out = tmp_path / "boot.jsonl"
        assert main(["bootstrap", "--data", str(gold), "--model", str(swapped), "--out", str(out),
                     *args]) == 0
        return _ids(out)

    assert run("--page-types", "article") == ["mysite-0002", "mysite-0004", "mysite-0005"]
    assert run("--page-types", "article", "--limit", "1") == ["mysite-0002"]
    assert run("--page-types", "article,forum", "--limit", "2") == ["mysite-0002", "mysite-0003"]
    assert run("--limit", "2") == ["mysite-0001", "mysite-0002"]
    # --limit N is "the first N pages": 0 is refused (it wrote an empty file), not all of them
    with pytest.raises(SystemExit) as refused:
        main(["bootstrap", "--data", str(gold), "--model", str(swapped), "--limit", "0"])
    assert refused.value.code == 2 and "--limit: must be 1 or more" in capsys.readouterr().err
    # the library function under the command, as documented: None takes all
    assert [g.id for g in gold_pages(gold)] == ["0001", "0002", "0003", "0004", "0005"]
    assert gold_pages(gold, limit=0) == []
    # pages apart from the first ones (a holdout), of the page types asked for
    assert [g.id for g in gold_pages(gold, skip=3)] == ["0004", "0005"]
    assert [g.id for g in gold_pages(gold, limit=2, skip=1)] == ["0002", "0003"]
    assert [g.id for g in gold_pages(gold, {"listing", "forum"}, skip=1)] == ["0003"]
    assert [g.id for g in gold_pages(gold, {"listing", "forum"})] == ["0001", "0003"]


def test_alignment_decides_content_and_the_model_only_the_kind_of_the_rest(swapped, tmp_path):
    """The gold text says what the article is: a block in it is proposed `content` whatever the
    model thinks, and a block not in it is never proposed `content` (the model's own `content`
    would otherwise become the label of a block the gold text leaves out, and a reviewer would
    be shown noise as the article)."""
    gold_dir = write_wcxb(tmp_path / "mysite", [(4, 20, "article"), (5, 21, "article")])
    loaded = load_model(swapped)
    report = BootstrapReport()
    model_said_content_off_gold = model_said_noise_in_gold = 0
    for gold in load_dataset(gold_dir):
        example = bootstrap_page(gold, loaded, "mysite", report, "2026-01-01T00:00:00+00:00")
        page = html_to_page(gold.html(), url=gold.url)
        in_gold = align([b.text for b in page.blocks], gold.main_content)
        predicted = loaded.model.predict_page(page)[0]
        assert [b.text for b in example.blocks] == [b.text for b in page.blocks]
        for block, aligned, pred in zip(example.blocks, in_gold, predicted):
            if aligned:
                assert (block.label, block.labelled_by) == ("content", "align:mysite")
                model_said_noise_in_gold += pred != "content"
            else:
                assert block.label != "content" and block.label in loaded.model.classes_
                assert block.labelled_by == "model:swapped"
                model_said_content_off_gold += pred == "content"
            assert block.reviewed is False
    # the test means something only if the model disagrees both ways
    assert model_said_content_off_gold and model_said_noise_in_gold


def test_the_summary_counts_the_labels_and_the_disagreements(swapped, tmp_path, capsys):
    """The summary line is what tells a user how much to review and where to start ("model
    and alignment disagree on N blocks (worth reviewing first)"): counts per label and the
    disagreements must be the page's."""
    gold_dir = write_wcxb(tmp_path / "mysite", [(4, 20, "article")])
    out = tmp_path / "boot.jsonl"
    assert main(["bootstrap", "--data", str(gold_dir), "--model", str(swapped), "--out", str(out)]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    row = json.loads(out.read_text())
    counts = Counter(b["label"] for b in row["blocks"])
    truth = make_page(4, 20)[2]
    assert counts["content"] == sum(lab == "content" for _, lab in truth)
    # what the model would keep against what the gold text holds, block by block
    gold = load_dataset(gold_dir)[0]
    page = html_to_page(gold.html(), url=gold.url)
    predicted = load_model(swapped).model.predict_page(page)[0]
    in_gold = align([b.text for b in page.blocks], gold.main_content)
    disagree = sum((p == "content") != a for p, a in zip(predicted, in_gold))
    assert 0 < disagree < len(page.blocks)  # neither all nor none: a flipped count shows
    labels = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    assert summary == (f"1 pages, {len(truth)} blocks ({labels}); 0 pages skipped; model and "
                       f"alignment disagree on {disagree} blocks (worth reviewing first; most on "
                       f"mysite-0001 ({disagree}))")
    assert len(counts) >= 2


def test_proposals_carry_the_pages_url_and_a_utc_time(swapped, tmp_path):
    """The labelling page shows where a page came from and when a label was proposed: a
    missing url loses the link to the page, a time without its offset is read as the reader's
    local time (hours off) or refused by the service's `labelled_at` check."""
    gold_dir = write_wcxb(tmp_path / "mysite", [(4, 20, "article"), (5, 21, "article")])
    out = tmp_path / "boot.jsonl"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert main(["bootstrap", "--data", str(gold_dir), "--model", str(swapped), "--out", str(out)]) == 0
    after = datetime.now(timezone.utc)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    for row, gold in zip(rows, load_dataset(gold_dir), strict=True):
        assert row["url"] == gold.url and row["url"].startswith("https://news")
        for block in row["blocks"]:
            at = datetime.fromisoformat(block["labelled_at"])
            assert at.utcoffset() == timedelta(0) and block["labelled_at"].endswith("+00:00")
            assert before <= at <= after + timedelta(seconds=1)
    # read back as examples, the url is the example's
    assert [e.url for e in read_examples([out]).examples] == [g.url for g in load_dataset(gold_dir)]


def test_example_identity_is_the_bootstrapped_examples_id_and_hash_for_a_windows_1252_page(
        swapped, tmp_path):
    """`train.shipped` lists the pages it trained on by `example_identity`, without segmenting
    them; `evaluate` and `promote` recognise a bootstrapped holdout page as seen by the
    example's hash. Hashed from other bytes (a page not in UTF-8), a training page in a
    holdout would pass for unseen and the model be scored on what it learnt."""
    gold_dir = write_wcxb(tmp_path / "mysite", [(4, 20, "article")])
    url, html, blocks = make_page(5, 21)
    html = html.replace("<head>", "<head><meta charset='windows-1252'>").replace(
        "<h1>", "<h1>Caf\u00e9 \u201cna\u00efve\u201d \u2013 ")
    (gold_dir / "html" / "0002.html").write_bytes(html.encode("cp1252"))
    assert b"\xe9" in (gold_dir / "html" / "0002.html").read_bytes()
    (gold_dir / "ground-truth" / "0002.json").write_text(json.dumps({
        "url": url, "_internal": {"page_type": {"primary": "article"}},
        "ground_truth": {"main_content": "\n\n".join(t for t, lab in blocks if lab == "content")}}))
    golds = load_dataset(gold_dir)
    examples = bootstrap(golds, load_model(swapped), "mysite", BootstrapReport())
    assert len(examples) == 2 and "Caf\u00e9 \u201cna\u00efve\u201d" in examples[1].html
    for gold, example in zip(golds, examples):
        assert example_identity(gold, "mysite") == (example.id, example.document_sha256)
    # and as `evaluate` reads the examples back from the file bootstrap writes
    out = tmp_path / "boot.jsonl"
    assert main(["bootstrap", "--data", str(gold_dir), "--model", str(swapped), "--out", str(out)]) == 0
    read = read_examples([out]).examples
    assert [(e.id, e.document_sha256) for e in read] == [example_identity(g, "mysite") for g in golds]


def test_progress_sees_every_page_the_skipped_ones_too(swapped, tmp_path):
    """The progress bar is sized by the pages taken: counting only the pages kept, a run with
    a page without gold text would end short of 100% (`3/4`), as if it had stopped."""
    gold_dir = write_wcxb(tmp_path / "mysite", [(4, 20, "article"), (5, 21, "article"), (4, 22, "article")])
    truth = json.loads((gold_dir / "ground-truth" / "0002.json").read_text())
    truth["ground_truth"]["main_content"] = ""
    (gold_dir / "ground-truth" / "0002.json").write_text(json.dumps(truth))
    golds = load_dataset(gold_dir)
    calls: list[int] = []
    report = BootstrapReport()
    examples = bootstrap(golds, load_model(swapped), "mysite", report, calls.append)
    assert [e.id for e in examples] == ["mysite-0001", "mysite-0003"]
    assert len(report.skipped) == 1 and report.pages == 2
    assert len(calls) == len(golds) and sum(calls) == len(golds)
