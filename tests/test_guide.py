"""The outputs docs/teach-your-site.md shows that depend on the shipped model: a retrained
model must leave them true (the README's seed listing has its own test in test_seed.py)."""

from __future__ import annotations

import re

import retrain_site
from conftest import REPO, SHARED
from filter.cli import main
from filter.modelfile import read_manifest, shipped_model_path

GUIDE = (REPO / "docs" / "teach-your-site.md").read_text(encoding="utf-8")


def shown(command: str) -> list[str]:
    """The lines the guide shows after the console line that starts with ``$ command``, up to
    the next command or the block's end."""
    lines = GUIDE.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"$ {command}"))
    out = []
    for line in lines[start + 1:]:
        if line.startswith(("$ ", "```")):
            break
        out.append(line)
    return out


def test_the_guides_bootstrap_counts_are_the_shipped_models(tmp_path, capsys):
    """`bootstrap --page-types article --limit 25` proposes labels with the shipped model: the
    guide's counts (and `store count` after it) were a model before's."""
    out = tmp_path / "boot.jsonl"
    assert main(["bootstrap", "--data", str(SHARED / "data" / "wcxb-dev"), "--page-types",
                 "article", "--limit", "25", "--out", str(out)]) == 0
    [counts] = [line for line in shown("noisefilter bootstrap") if line.startswith("25 pages")]
    assert counts in capsys.readouterr().out


def test_the_guides_promotion_scores_the_shipped_model_as_it_shows(tmp_path, capsys,
                                                                    monkeypatch):
    """`promote` compares a candidate with the active model, the shipped one in the guide: its
    scores there ("vs 0.5813") were a model before's."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(tmp_path / "models"))
    retrain_site.write_demo("mysite")
    assert main(["train", "--examples", "mysite/pages.jsonl", "--out", "mysite/mysite-1.joblib"]) == 0
    capsys.readouterr()
    main(["promote", "mysite/mysite-1.joblib", "--holdout", "mysite/holdout.jsonl", "--dry-run"])
    printed = capsys.readouterr().out
    guide = shown("noisefilter promote mysite/mysite-1.joblib")
    version = read_manifest(shipped_model_path())["version"]
    assert f"candidate mysite-1 against active {version} on 8 holdout pages:" in guide
    for metric in ("content_f1", "macro_f1", "word_f1"):
        [line] = [line for line in guide if line.strip().startswith(metric)]
        active = re.search(r" vs (\d\.\d{4}) ", line)[1]
        assert re.search(rf"{metric}\s+\d\.\d{{4}} vs {active} ", printed), (metric, printed)
