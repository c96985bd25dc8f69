"""Retraining end to end: train, evaluate, promote, clean with the new model, roll back; and the
ways it must fail safely (a regressing or tampered model, an interrupted train)."""

import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import filter.cleaner
from filter import Cleaner
from filter.cli import main
from filter.errors import ModelError
from filter.extract import html_to_page
from filter.modelfile import (active_model_path, load_model, manifest_path, models_dir,
                              packaged_model_path, sha256_file)
from retrain_site import example, make_page, write_set, write_swapped, write_wcxb
from train.examples import BlockLabel, Example, ExampleError, label_page, parse_example
from train.promote import switch_to
from train.training import check_output
from train.store import ExampleStore

NOISEFILTER = [sys.executable, "-m", "filter.cli"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("retrain")
    write_set(d / "train.jsonl", range(0, 4), range(0, 5), comments=True)
    write_set(d / "holdout.jsonl", range(4, 6), range(0, 3), comments=True)
    write_set(d / "train-comment.jsonl", range(0, 4), range(0, 5), comments=True, with_comment_label=True)
    write_set(d / "holdout-comment.jsonl", range(4, 6), range(0, 3), comments=True, with_comment_label=True)
    write_swapped(d / "train.jsonl", d / "train-swapped.jsonl")  # a model taught the opposite
    return d


def _train(data: Path, examples: str, out: Path, *extra: str) -> Path:
    assert main(["train", "--examples", str(data / examples), "--out", str(out), "--folds", "2",
                 *extra]) == 0
    return out


@pytest.fixture(scope="module")
def good(data):
    return _train(data, "train.jsonl", data / "good.joblib")


@pytest.fixture
def models(tmp_path, monkeypatch):
    """An empty models folder: until something is promoted, the shipped model is active."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(folder))
    monkeypatch.setattr(filter.cleaner, "_default", None)  # no cleaner cached from another test
    return folder


def _promote(model: Path, holdout: Path, *extra: str) -> int:
    return main(["promote", str(model), "--holdout", str(holdout), *extra])


def test_train_writes_model_and_manifest_with_a_progress_bar(data, tmp_path, capsys):
    out = _train(data, "train.jsonl", tmp_path / "site.joblib", "--version", "site-1")
    captured = capsys.readouterr()
    assert "segmenting pages [" in captured.err and "20/20" in captured.err
    assert "fitting on 20 pages" in captured.err and "done in" in captured.err
    assert "label more pages" not in captured.err, "enough blocks: no warning about too few"
    manifest = load_model(out).manifest
    assert manifest["version"] == "site-1" and manifest["labels"] == ["content", "junk", "related", "teaser"]
    training = manifest["training_data"]
    assert training["pages"] == 20 and training["problems"] == 0
    assert training["files"][0]["sha256"] and len(training["example_ids"]) == 20
    assert training["reviewed_only"] is False
    assert manifest["params"] == {"keep_label": "content", "labels": None, "seed": 0, "folds": 2,
                                  "threads": 1}


@pytest.mark.parametrize("examples, holdout, labels", [
    ("train.jsonl", "holdout.jsonl", []),
    # a label left out of training (`comment`) is still scored, as `evaluate` scores it
    ("train-comment.jsonl", "holdout-comment.jsonl", ["--labels", "content,junk,related,teaser"]),
])
def test_train_with_a_holdout_records_evaluates_scores_in_the_manifest(data, good, tmp_path, capsys,
                                                                       examples, holdout, labels):
    """A manifest records the model's metrics (the design's contract): with --holdout, the
    scores `evaluate` gives on the same files, the model's bytes those trained without it."""
    out = _train(data, examples, tmp_path / "scored.joblib", "--holdout", str(data / holdout), *labels)
    printed = capsys.readouterr().out
    manifest = load_model(out).manifest
    if not labels:
        assert manifest["sha256"] == load_model(good).manifest["sha256"]
    scores = manifest["metrics"]["holdout"]
    assert scores["files"][0]["path"] == str(data / holdout) and scores["pages"] == 6
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(out), "--examples", str(data / holdout),
                 "--report", str(report), "--cv", "0", "--no-baseline"]) == 0
    rep = json.loads((report / "report.json").read_text())
    assert scores["summary"] == rep["summary"] and scores["per_label"] == rep["per_label"]
    assert scores["keep"] == rep["keep"] and scores["blocks"] == rep["blocks"]
    summary = rep["summary"]
    assert (f"holdout, 6 pages: keep-or-not F1 {summary['content_f1']:.3f}, macro F1 "
            f"{summary['macro_f1']:.3f}") in printed
    assert "metrics" not in load_model(good).manifest  # none without a holdout


def test_evaluate_favoring_precision_scores_what_a_precise_cleaner_keeps(data, tmp_path):
    """`evaluate --favor-precision` scores the model as `Cleaner(favor_precision=True)` cleans
    (stricter thresholds: no block kept that the default drops, some dropped that it keeps),
    and its report says so. The shipped model, which is less sure of these generated pages
    than a model trained on their site."""
    from filter.modelfile import active_model_path
    from train.evaluation import evaluate
    from train.examples import read_examples
    from train.training import prepare

    shipped = active_model_path()
    reports = {}
    for mode, extra in (("default", []), ("precise", ["--favor-precision"])):
        report = tmp_path / mode
        assert main(["evaluate", "--model", str(shipped), "--examples", str(data / "holdout.jsonl"),
                     "--report", str(report), "--cv", "0", "--no-baseline", *extra]) == 0
        reports[mode] = (json.loads((report / "report.json").read_text()),
                         (report / "report.md").read_text())
    assert reports["precise"][0]["data"]["favor_precision"] is True
    assert reports["default"][0]["data"]["favor_precision"] is False
    assert "favouring precision" in reports["precise"][1] and "favouring precision" not in reports["default"][1]
    pages = prepare(read_examples([data / "holdout.jsonl"]).examples).pages
    model = load_model(shipped).model
    strict, loose = (evaluate(model, pages, baseline=False, favor_precision=p) for p in (True, False))
    assert reports["precise"][0]["summary"] == strict.summary()
    assert reports["default"][0]["summary"] == loose.summary()
    kept = [(t == "content", s == "content") for t, s in zip(loose.y_pred, strict.y_pred)]
    assert all(a or not b for a, b in kept) and any(a and not b for a, b in kept)


def test_a_holdout_store_is_scored_too(data, tmp_path):
    store = tmp_path / "holdout.db"
    assert main(["store", "import", str(store), str(data / "holdout.jsonl")]) == 0
    out = _train(data, "train.jsonl", tmp_path / "m.joblib", "--holdout-store", str(store))
    scores = load_model(out).manifest["metrics"]["holdout"]
    assert scores["store"] == str(store) and scores["files"] == [] and scores["pages"] == 6


@pytest.mark.parametrize("holdout, says", [
    (["{data}/train.jsonl"], "20 holdout pages are in the training data"),
    (["{data}/missing.jsonl"], "example file(s) not found"),
    ([], "give --holdout FILE… and/or --holdout-store DB"),  # an empty glob after --holdout
    (["{data}/holdout.db"], "give it with --holdout-store"),  # not: as training data (--store)
])
def test_a_holdout_that_cannot_score_the_model_stops_train_before_segmenting(data, tmp_path, capsys,
                                                                          holdout, says):
    if not (data / "holdout.db").exists():
        assert main(["store", "import", str(data / "holdout.db"), str(data / "holdout.jsonl")]) == 0
        capsys.readouterr()
    out = tmp_path / "m.joblib"
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", str(out),
                 "--holdout", *(h.format(data=data) for h in holdout)]) == 2
    err = capsys.readouterr().err
    assert says in err and "segmenting pages" not in err and not out.exists()


def test_a_holdout_named_as_the_problems_file_is_refused_not_emptied(data, tmp_path, capsys):
    """The problems file is emptied at the first read: a holdout file named there (its first
    line damaged, so that no JSON-lines check saved it) was wiped before it was read."""
    holdout = tmp_path / "holdout.jsonl"
    holdout.write_text("oops not json\n" + (data / "holdout.jsonl").read_text())
    before = holdout.read_text()
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", str(tmp_path / "m.joblib"),
                 "--holdout", str(holdout), "--problems", str(holdout)]) == 2
    assert "names a file the command reads or writes" in capsys.readouterr().err
    assert holdout.read_text() == before


def test_a_holdout_without_a_block_to_keep_is_warned_about(data, tmp_path, capsys):
    holdout = tmp_path / "holdout.jsonl"
    holdout.write_text((data / "holdout.jsonl").read_text().replace('"label": "content"', '"label": "junk"'))
    _train(data, "train.jsonl", tmp_path / "m.joblib", "--holdout", str(holdout))
    assert "the holdout labels no block 'content'" in capsys.readouterr().err


def test_same_data_and_seed_give_the_same_model(data, good, tmp_path):
    again = _train(data, "train.jsonl", tmp_path / "again.joblib", "--jobs", "2")  # pages segmented in 2 processes
    assert load_model(again).manifest["sha256"] == load_model(good).manifest["sha256"]
    a, b = load_model(good).model, load_model(again).model
    url, html, _ = make_page(5, 9, comments=True)
    page = html_to_page(html, url=url)
    assert (a.predict_proba_page(page) == b.predict_proba_page(page)).all()


def test_the_same_pages_in_another_order_give_the_same_model_and_the_manifest_says_how(
        data, good, tmp_path, monkeypatch):
    """The same pages with the lines of the file reversed gave another model, its manifest
    the same as the first's; problems met in reading (a broken line) were not counted in the
    manifest, `--threads 0` was recorded as 0, `--labels` and `--reviewed-only` not at all, a
    file by the path as typed."""
    lines = (data / "train.jsonl").read_text().splitlines()
    (tmp_path / "reversed.jsonl").write_text("\n".join([*reversed(lines), "{broken"]) + "\n")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "reversed.joblib"
    assert main(["train", "--examples", "reversed.jsonl", "--out", str(out), "--folds", "2"]) == 0
    manifest = load_model(out).manifest
    assert manifest["sha256"] == load_model(good).manifest["sha256"]
    assert manifest["training_data"]["problems"] == 1
    assert manifest["training_data"]["files"][0]["path"] == str(tmp_path / "reversed.jsonl")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # scikit-learn's own count then
    import joblib

    cores = joblib.cpu_count(only_physical_cores=True)
    for threads in ("0", str(cores + 2)):  # recorded as given: 0, and more than it used
        assert main(["train", "--examples", "reversed.jsonl", "--out", str(out), "--folds", "2",
                     "--threads", threads, "--labels", "content,junk,related,teaser"]) == 0
        params = load_model(out).manifest["params"]
        assert 1 <= params["threads"] <= cores
        assert params["labels"] == ["content", "junk", "related", "teaser"]


def test_small_set_train_evaluate_promote_then_clean_uses_it(data, good, models, tmp_path, capsys):
    report = tmp_path / "report"
    # (the option given twice adds up, as `--examples A B` does: the first file was dropped;
    # and given with no file, as `--examples $MORE` may be, it adds nothing)
    assert main(["evaluate", "--model", str(good), "--examples", str(data / "holdout.jsonl"),
                 "--examples", str(data / "train.jsonl"), "--report", str(report), "--cv", "2",
                 "--folds", "2", "--examples"]) == 0
    rep = json.loads((report / "report.json").read_text())
    # train.jsonl is what `good` was trained on: said on the terminal and in the report
    assert "20 of 26 pages were in the model's training data" in capsys.readouterr().err
    assert rep["seen_in_training"]["pages"] == 20 and "s0-p0" in rep["seen_in_training"]["ids"]
    assert "**Warning: 20 of the 26 pages were in this model's training data**" in \
        (report / "report.md").read_text()
    assert set(rep["per_label"]["per_label"]) == {"content", "junk", "related", "teaser"}
    assert rep["per_label"]["per_label"]["content"]["f1"] > 0.95
    assert len(rep["per_label"]["confusion"]) == 4
    words = rep["word_f1"]
    assert words["pages_with_gold"] == 26 and words["noisefilter"] > words["trafilatura"]
    cv = rep["cross_validation"]
    assert cv["k"] == 2 and cv["sites"] == 6 and cv["summary"]["content_f1"] > 0.8
    assert all(set(f["sites"]).isdisjoint(g["sites"]) for f in cv["folds"] for g in cv["folds"] if f is not g)
    md = (report / "report.md").read_text()
    assert "| `content` |" in md and "Cross-validation grouped by site" in md and "trafilatura" in md
    assert (report / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # what was scored, as a manifest records its training data: a report folder found later
    # could not be tied to its holdout
    holdout_sha = hashlib.sha256((data / "holdout.jsonl").read_bytes()).hexdigest()
    assert rep["data"]["files"][0] == {"path": os.path.abspath(data / "holdout.jsonl"),
                                       "sha256": holdout_sha}
    assert rep["data"]["store"] is None and (rep["data"]["seed"], rep["data"]["folds"]) == (0, 2)
    assert f"(sha256 `{holdout_sha[:12]}…`)" in md and "inner folds 2" in md

    shipped = active_model_path()
    assert _promote(good, data / "holdout.jsonl") == 0
    assert "promoted" in capsys.readouterr().out
    assert (models / "ACTIVE").read_text().strip() == "good.joblib"
    assert (models / "PREVIOUS").read_text().strip() == ""  # the shipped default
    assert active_model_path() == models / "good.joblib" != shipped
    # readable by every user (a service account loads them); mkstemp had made them private
    for name in ("ACTIVE", "PREVIOUS", "good.joblib", "good.manifest.json"):
        assert (models / name).stat().st_mode & 0o777 == 0o644, name
    assert Cleaner().model_version == "good"

    url, html, blocks = make_page(5, 7, comments=True)
    result = filter.clean(html, url=url)
    assert result.model_version == "good"
    assert result.text == "\n".join(t for t, lab in blocks if lab == "content")
    # a new process finds the promoted model through the same folder
    out = subprocess.run([*NOISEFILTER, "clean", "-", "--json", "--url", url], input=html.encode(),
                         capture_output=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert json.loads(out.stdout)["model_version"] == "good"
    log = [json.loads(x) for x in (models / "promotions.jsonl").read_text().splitlines()]
    assert log[-1]["action"] == "promote" and {c["measure"] for c in log[-1]["checks"]} == \
        {"content_f1", "macro_f1", "word_f1"}
    assert log[-1]["holdout_data"] == {"files": [{"path": os.path.abspath(data / "holdout.jsonl"),
                                                  "sha256": holdout_sha}], "store": None,
                                       "reviewed_only": False}


def test_cross_validation_says_when_pages_without_a_url_make_it_not_by_site(
        data, good, tmp_path, capsys):
    """A page without a url (text from an extractor has none) is a group of its own, and
    `evaluate` reported "5 folds over 8 sites; each fold's sites are unseen in training" and
    "cross-validated by site: keep-or-not F1 1.000" for pages whose urls gave 0.957."""
    pages = [json.loads(x) for x in (data / "holdout.jsonl").read_text().splitlines()]
    for ex in pages:
        if "news5." in ex["url"]:
            del ex["url"]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("".join(json.dumps(ex) + "\n" for ex in pages))
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(good), "--examples", str(mixed), "--report",
                 str(report), "--cv", "2", "--folds", "2", "--no-baseline"]) == 0
    captured = capsys.readouterr()
    caveat = "3 of 6 pages have no url: each is its own group, so cross-validation is not by site"
    assert f"noisefilter: warning: {caveat}\n" in captured.err
    assert "; cross-validated not by site: keep-or-not F1" in captured.out
    cv = json.loads((report / "report.json").read_text())["cross_validation"]
    assert (cv["groups"], cv["sites"], cv["pages_without_url"]) == (4, 1, 3)
    md = (report / "report.md").read_text()
    assert "grouped by site\n" not in md and f"**Warning: {caveat}**" in md
    assert "2 folds over 4 groups (1 site and 3 pages without a url)" in md


def test_a_regressing_model_is_refused(data, good, models, tmp_path, capsys):
    bad = _train(data, "train-swapped.jsonl", tmp_path / "bad.joblib")
    assert _promote(good, data / "holdout.jsonl") == 0
    capsys.readouterr()
    assert _promote(bad, data / "holdout.jsonl") == 1
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "not promoted" in out
    assert (models / "ACTIVE").read_text().strip() == "good.joblib"
    assert not (models / "bad.joblib").exists()
    # thresholds are configurable: allowed to drop everything, it would pass (dry run)
    assert _promote(bad, data / "holdout.jsonl", "--max-drop", "1", "--dry-run") == 0
    assert "would promote" in capsys.readouterr().out
    assert (models / "ACTIVE").read_text().strip() == "good.joblib"


def test_a_models_folder_that_is_a_file_or_missing_is_one_line_and_not_created(
        data, good, tmp_path, monkeypatch, capsys):
    """NOISEFILTER_MODELS_DIR naming a file ended promote (after scoring) and rollback in a
    traceback; rollback on a misspelt folder created it, which hid the warning every later
    command gives."""
    afile = tmp_path / "models.txt"
    afile.write_text("")
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(afile))
    for args in (["rollback"], ["promote", str(good), "--holdout", str(data / "holdout.jsonl")]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err == f"noisefilter: the models folder {afile} (NOISEFILTER_MODELS_DIR) is not a folder\n"
    assert _train(data, "train.jsonl", tmp_path / "t.joblib").exists()  # training needs no folder
    missing = tmp_path / "modles"
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(missing))
    # promote made a misspelt folder and activated the model there, for no one
    for args in (["rollback"], ["promote", str(good), "--holdout", str(data / "holdout.jsonl")]):
        assert main(args) == 2
        assert capsys.readouterr().err.endswith(
            f"noisefilter: there is no models folder {missing} (NOISEFILTER_MODELS_DIR): make it "
            "first, or correct the setting\n")
        assert not missing.exists()
    # none: the models folder installed with noisefilter is refused (what was promoted there
    # outlived `pip uninstall`, and the next install used it)
    monkeypatch.delenv("NOISEFILTER_MODELS_DIR")
    for args in (["rollback"], ["promote", str(good), "--holdout", str(data / "holdout.jsonl")]):
        assert main(args) == 2
        assert capsys.readouterr().err == (
            "noisefilter: set NOISEFILTER_MODELS_DIR to a folder of your own first: the models "
            f"folder installed with noisefilter ({models_dir()}) is no place for models of yours "
            "(they would outlive its uninstall and be used by the next install)\n")
        assert not (models_dir() / "ACTIVE").exists() and not (models_dir() / "good.joblib").exists()


def test_rollback_goes_back_and_a_second_rollback_undoes_it(data, good, models, capsys):
    shipped = active_model_path()
    assert main(["rollback"]) == 2  # nothing promoted yet
    assert main(["promote", str(good)]) == 2  # promote's own options named
    assert "give --holdout FILE… and/or --holdout-store DB" in capsys.readouterr().err
    assert _promote(good, data / "holdout.jsonl") == 0
    assert main(["rollback"]) == 0
    assert active_model_path() == shipped and Cleaner().model_version != "good"
    assert main(["rollback"]) == 0
    assert Cleaner().model_version == "good"


def test_the_installed_models_folder_is_refused_whatever_path_names_it(data, good, tmp_path,
                                                                       monkeypatch, capsys):
    """`NOISEFILTER_MODELS_DIR=$PWD/models`, typed in a clone, named the folder the setting is
    there to keep models out of, and promote wrote into it."""
    packaged = packaged_model_path().parent
    link = tmp_path / "models-link"
    link.symlink_to(packaged)
    before = sorted(p.name for p in packaged.iterdir())
    for spelling in (f"{packaged}/.", str(link)):
        monkeypatch.setenv("NOISEFILTER_MODELS_DIR", spelling)
        for args in (["rollback"], ["promote", str(good), "--holdout", str(data / "holdout.jsonl")]):
            assert main(args) == 2
            assert "set NOISEFILTER_MODELS_DIR to a folder of your own first" in capsys.readouterr().err
    assert sorted(p.name for p in packaged.iterdir()) == before


def test_promote_installs_the_candidates_manifest_beside_the_same_bytes(data, good, models, tmp_path,
                                                                       capsys):
    """The folder's copy of the same bytes kept its own manifest, or none: a model copied in by
    hand was refused for want of one, after both models were scored; one retrained under
    another --version kept the old version's name."""
    shutil.copyfile(good, models / "good.joblib")  # the model, not its manifest
    assert _promote(good, data / "holdout.jsonl") == 0
    assert (models / "good.manifest.json").read_bytes() == good.with_name("good.manifest.json").read_bytes()
    assert Cleaner().model_version == "good"
    assert main(["rollback"]) == 0
    again = _train(data, "train.jsonl", tmp_path / "good.joblib", "--version", "site-2")
    assert sha256_file(again) == sha256_file(good)
    capsys.readouterr()
    assert _promote(again, data / "holdout.jsonl") == 0
    assert load_model(models / "good.joblib").manifest["version"] == "site-2"
    assert Cleaner().model_version == "site-2"
    # the same bytes already active are refused as such, their manifest untouched
    assert _promote(good, data / "holdout.jsonl") == 2
    assert "good.joblib is already the active model" in capsys.readouterr().err
    assert load_model(models / "good.joblib").manifest["version"] == "site-2"


def test_rollback_refuses_a_previous_pointer_naming_the_active_model(active_good, capsys):
    """A promotion or a rollback interrupted between its two pointers leaves both naming the
    active model; rollback then said it went from it to itself, and succeeded."""
    folder, _ = active_good
    (folder / "PREVIOUS").write_text("good.joblib\n")
    assert main(["rollback"]) == 2
    assert capsys.readouterr().err == (
        "noisefilter: nothing to roll back to: PREVIOUS names the active model (good.joblib); "
        "promotions.jsonl lists the models active before it: promote one of them again\n")
    assert (folder / "ACTIVE").read_text() == "good.joblib\n"


def test_rollback_to_the_shipped_default_repairs_a_damaged_active_pointer(models, capsys):
    """Right after a first promotion (PREVIOUS empty: the shipped default), an ACTIVE made
    unreadable fails every command; rollback still goes back to the shipped default."""
    (models / "PREVIOUS").write_text("")
    (models / "ACTIVE").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["rollback"]) == 0
    assert not (models / "ACTIVE").exists() and active_model_path() == packaged_model_path()


def test_an_active_model_whose_file_is_gone_says_what_to_do(active_good, capsys):
    folder, _ = active_good
    (folder / "good.joblib").unlink()
    with pytest.raises(ModelError) as err:
        Cleaner()
    assert str(err.value) == (
        f"model file not found: {folder / 'good.joblib'} ({folder / 'ACTIVE'} names it as the "
        f"active model: put the file back, run `noisefilter rollback`, or empty "
        f"{folder / 'ACTIVE'} to use the shipped model)")
    with pytest.raises(ModelError) as err:  # any other missing file: no such advice
        Cleaner(model=folder / "other.joblib")
    assert str(err.value) == f"model file not found: {folder / 'other.joblib'}"


@pytest.mark.parametrize("training_data", ["see notes", {"example_ids": 32}, ["a"]])
def test_a_hand_edited_training_data_record_is_no_traceback(data, good, models, tmp_path, capsys,
                                                             training_data):
    edited = _copy_model(good, tmp_path / "edited.joblib")
    manifest = edited.with_name("edited.manifest.json")
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()),
                                    "training_data": training_data}))
    assert _promote(edited, data / "holdout.jsonl", "--dry-run") == 0
    assert main(["evaluate", "--model", str(edited), "--examples", str(data / "holdout.jsonl"),
                 "--cv", "0", "--report", str(tmp_path / "report")]) == 0


def test_promote_refuses_tampered_or_seen_models(data, good, models, tmp_path, capsys):
    tampered = tmp_path / "tampered.joblib"
    shutil.copyfile(good, tampered)
    shutil.copyfile(good.with_name("good.manifest.json"), tmp_path / "tampered.manifest.json")
    with open(tampered, "r+b") as fh:
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    assert _promote(tampered, data / "holdout.jsonl") == 2
    assert "does not match its manifest" in capsys.readouterr().err
    assert _promote(good, data / "train.jsonl") == 2  # the holdout is its training data
    assert "were in the candidate's training data" in capsys.readouterr().err
    # scored anyway when asked to, and said so: the scores alone showed no sign of it
    assert _promote(good, data / "train.jsonl", "--allow-overlap", "--dry-run") == 0
    assert ("warning: 20 holdout pages were in the candidate's training data (e.g. 's0-p0'; "
            "--allow-overlap)") in capsys.readouterr().err
    # also named by the first of two --holdout options (all but the last were dropped, and the
    # model was promoted on the other file alone)
    assert main(["promote", str(good), "--holdout", str(data / "train.jsonl"),
                 "--holdout", str(data / "holdout.jsonl"), "--dry-run"]) == 2
    assert "were in the candidate's training data" in capsys.readouterr().err
    # ... also under other ids: a copied page renamed was scored as unseen
    renamed = tmp_path / "renamed.jsonl"
    with open(renamed, "w") as fh:
        for line in (data / "train.jsonl").read_text().splitlines():
            fh.write(json.dumps({**json.loads(line), "id": "renamed-" + json.loads(line)["id"]}) + "\n")
    assert _promote(good, renamed) == 2
    assert "20 holdout pages were in the candidate's training data (e.g. 'renamed-" in capsys.readouterr().err
    # and given twice, under two ids, a document is one page to train on
    both = tmp_path / "both.jsonl"
    both.write_text((data / "holdout.jsonl").read_text() + renamed.read_text().split("\n", 1)[0]
                    + "\n" + (data / "holdout.jsonl").read_text().split("\n", 1)[0].replace(
                        '"id": "', '"id": "again-', 1) + "\n")
    assert main(["evaluate", "--model", str(good), "--examples", str(both), "--cv", "0",
                 "--report", str(tmp_path / "report")]) == 0
    err = capsys.readouterr().err
    assert f"{both}:8: the same document as {both}:1" in err and "page skipped" in err
    assert not (models / "ACTIVE").exists()


def _copy_model(model: Path, to: Path) -> Path:
    shutil.copyfile(model, to)
    shutil.copyfile(model.with_name(model.name.removesuffix(".joblib") + ".manifest.json"),
                    to.with_name(to.name.removesuffix(".joblib") + ".manifest.json"))
    return to


def test_a_promotion_fails_when_the_active_model_changed_while_it_compared(
        data, good, models, tmp_path, monkeypatch, capsys):
    """Two promotions at once: the one that finished last switched over the other's model,
    which it had never been compared with (and a rollback meanwhile was undone so)."""
    import train.promote as promote

    compare = promote.compare

    def another_promotion_meanwhile(*args, **kwargs):
        other = promote.install(load_model(_copy_model(good, tmp_path / "other.joblib")))
        promote._write_pointer(models, "ACTIVE", other.name)
        return compare(*args, **kwargs)

    monkeypatch.setattr(promote, "compare", another_promotion_meanwhile)
    assert _promote(good, data / "holdout.jsonl") == 2
    assert "the active model changed while the candidate was compared (now other.joblib)" in \
        capsys.readouterr().err
    assert (models / "ACTIVE").read_text().strip() == "other.joblib"
    assert not (models / "good.joblib").exists()


def test_promote_refuses_a_name_the_service_cannot_reload_and_an_unwritable_folder(
        data, good, models, tmp_path, monkeypatch, capsys):
    """`site@2.joblib` was promoted and then missing from `GET /v1/model`'s list, and reload
    by its name answered 404. A models folder that cannot be written (a read-only mount, a
    root-owned site-packages) ended promote and rollback in a traceback, promote only after
    scoring every model."""
    odd = _copy_model(good, tmp_path / "site\tv2.joblib")
    assert _promote(odd, data / "holdout.jsonl") == 2
    err = capsys.readouterr().err
    assert "'site\\tv2.joblib' is no model file name the service can reload" in err
    assert "scoring" not in err  # said before the models are scored
    assert not (models / "ACTIVE").exists()
    # names of any script, with their combining marks, as train writes them, are promoted
    # and reloaded by name
    from filter.modelfile import is_model_file_name

    for name in ("मॉडल v2.joblib", "my model (v2).joblib", "_draft.joblib", "site@2.joblib",
                 "modèle.joblib"):
        assert is_model_file_name(name)
    for name in (".hidden.joblib", "a/b.joblib", "x.pkl", "a\nb.joblib", "x" * 232 + ".joblib"):
        assert not is_model_file_name(name)  # the last: no room for the temporary copy's name
    assert is_model_file_name("x" * 231 + ".joblib")
    # a dry run only compares: it needs no writable folder and no promotable name, and says
    # what a promotion would be refused for
    assert _promote(odd, data / "holdout.jsonl", "--dry-run") == 0
    out, err = capsys.readouterr()
    assert "would promote" in out and "a promotion without --dry-run would be refused" in err
    import train.promote as promote

    writable = os.access
    monkeypatch.setattr(promote.os, "access",
                        lambda path, mode: Path(path) != models and writable(path, mode))
    for command in (["promote", str(good), "--holdout", str(data / "holdout.jsonl")],
                    ["rollback"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert f"the models folder {models} cannot be written" in err and "Traceback" not in err
        assert "scoring" not in err
    assert _promote(good, data / "holdout.jsonl", "--dry-run") == 0


def test_a_damaged_active_pointer_is_compared_past_and_replaced(data, good, models, capsys):
    """An ACTIVE pointer that is not text (or a folder) is no model, as `clean()` finds none
    there: promote compares with the shipped default and replaces it, where it ended in a
    traceback."""
    (models / "ACTIVE").write_bytes(b"\xff\xfe\x00")
    assert _promote(good, data / "holdout.jsonl", "--dry-run") == 0
    assert _promote(good, data / "holdout.jsonl") == 0
    assert (models / "ACTIVE").read_text().strip() == "good.joblib"
    assert (models / "PREVIOUS").read_text().strip() == ""
    # rolled back from a damaged pointer, PREVIOUS is the shipped default, not the damage
    (models / "ACTIVE").write_bytes(b"\xff\xfe")
    (models / "PREVIOUS").write_text("good.joblib\n")
    assert main(["rollback"]) == 0
    assert (models / "PREVIOUS").read_text().strip() == ""
    assert main(["rollback"]) == 0 and not (models / "ACTIVE").exists()
    # a pointer that is a folder is refused before either pointer is written
    (models / "ACTIVE").mkdir()
    assert main(["rollback"]) == 2
    assert "ACTIVE is a folder" in capsys.readouterr().err
    assert (models / "PREVIOUS").read_text().strip() == "good.joblib"
    # ... and by promote before it scores the models (it was said after the scoring)
    assert _promote(good, data / "holdout.jsonl") == 2
    err = capsys.readouterr().err
    assert "ACTIVE is a folder" in err and "scor" not in err.replace("noisefilter: ", "")


def test_train_does_not_write_over_a_file_promoted_while_it_was_fitted(
        data, good, models, monkeypatch, capsys):
    """"Training never writes over the active model" was checked when training started only:
    a file in the models folder promoted during the fit was written over, and `clean()` used a
    model no promotion had scored."""
    import train.promote as promote
    import train.training as training

    site = _copy_model(good, models / "site-3.joblib")
    before = sha256_file(site)
    fit = training.fit

    def promoted_meanwhile(*args, **kwargs):
        model = fit(*args, **kwargs)
        promote._write_pointer(models, "ACTIVE", site.name)
        return model

    monkeypatch.setattr(training, "fit", promoted_meanwhile)
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", str(site),
                 "--folds", "2"]) == 2
    assert "site-3.joblib became the active model while the model was fitted" in \
        capsys.readouterr().err
    assert sha256_file(site) == before


def test_a_model_named_like_the_shipped_default_is_not_promoted(data, good, models, tmp_path, capsys):
    """In the models folder a file of that name stands for the shipped default: `rollback`
    would go back to it and the real shipped model could not be reached again."""
    named = tmp_path / "noisefilter-wcxb.joblib"
    shutil.copyfile(good, named)
    shutil.copyfile(good.with_name("good.manifest.json"), tmp_path / "noisefilter-wcxb.manifest.json")
    assert _promote(named, data / "holdout.jsonl") == 2
    err = capsys.readouterr().err
    assert "noisefilter-wcxb.joblib is the shipped default model's name; rename the " \
        "candidate" in err
    assert "scoring" not in err  # said before the models are scored
    assert not (models / "ACTIVE").exists() and not (models / "noisefilter-wcxb.joblib").exists()


def test_promote_refuses_a_name_another_model_has_in_the_folder_before_scoring(
        data, good, models, tmp_path, monkeypatch, capsys):
    """A different model under the candidate's name in the models folder refused promotion
    only after both models were scored on the whole holdout, and `--dry-run` said "would
    promote" (exit 0) where the promotion would be refused."""
    write_set(tmp_path / "few.jsonl", range(0, 1), range(0, 3))
    (tmp_path / "other").mkdir()
    candidate = _train(tmp_path, "few.jsonl", tmp_path / "other" / "site.joblib")
    _copy_model(good, models / "site.joblib")
    capsys.readouterr()
    refused = f"a different model named site.joblib is already in {models}; rename the candidate"
    assert _promote(candidate, data / "holdout.jsonl", "--max-drop", "1") == 2
    err = capsys.readouterr().err
    assert f"noisefilter: {refused}\n" in err and "scoring" not in err
    assert _promote(candidate, data / "holdout.jsonl", "--max-drop", "1", "--dry-run") == 0
    assert f"warning: {refused}: a promotion without --dry-run would be refused" in \
        capsys.readouterr().err
    assert sha256_file(models / "site.joblib") == sha256_file(good)
    assert not (models / "ACTIVE").exists()
    # one put there while the candidate was compared is found under promotion's lock
    import train.promote as promote

    for name in ("site.joblib", "site.manifest.json"):
        (models / name).unlink()
    compare = promote.compare

    def put_there_meanwhile(*args, **kwargs):
        _copy_model(good, models / "site.joblib")
        return compare(*args, **kwargs)

    monkeypatch.setattr(promote, "compare", put_there_meanwhile)
    assert _promote(candidate, data / "holdout.jsonl", "--max-drop", "1") == 2
    assert f"not promoted: {refused}" in capsys.readouterr().err
    assert sha256_file(models / "site.joblib") == sha256_file(good)
    assert not (models / "ACTIVE").exists()


def test_a_model_keeping_another_label_is_not_compared_but_can_be_forced(data, models, tmp_path, capsys):
    """Scores of a model keeping `body` against one keeping `content` on one holdout mean
    nothing (this crashed in scikit-learn): refused with the reason, promoted with --force."""
    def relabel(name: str) -> Path:
        out = tmp_path / name
        with open(out, "w") as fh:
            for line in (data / name).read_text().splitlines():
                ex = json.loads(line)
                for b in ex["blocks"]:
                    b["label"] = "body" if b["label"] == "content" else "other"
                fh.write(json.dumps(ex) + "\n")
        return out
    relabel("train.jsonl")
    holdout = relabel("holdout.jsonl")
    # trained without saying which label is kept, it said only that no block was 'content'
    assert main(["train", "--examples", str(tmp_path / "train.jsonl"),
                 "--out", str(tmp_path / "unsaid.joblib")]) == 2
    assert ("hold no 'content' block (labels: body, other); name the label of the text to keep "
            "(--keep-label)") in capsys.readouterr().err
    body = _train(tmp_path, "train.jsonl", tmp_path / "body.joblib", "--keep-label", "body")
    capsys.readouterr()
    # a text it keeps nothing of says so in its own label's name, not the shipped model's
    cleaner = Cleaner(model=body)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cleaner.model, "predict_page", lambda page, deadline=None: (
            ["other"] * len(page.blocks), [[0.2, 0.8]] * len(page.blocks)))
        result = cleaner.clean_text("Share this article\nSign up for our newsletter")
    assert result.text == "" and result.empty_reason == "no block was classified as body"
    assert _promote(body, holdout) == 2
    captured = capsys.readouterr()
    assert "not comparable with the active model" in captured.out
    assert ("not promoted: the candidate keeps blocks labelled 'body', the model it is compared "
            "with 'content': one holdout cannot score both; pass --force") in captured.err
    assert "Traceback" not in captured.err and not (models / "ACTIVE").exists()
    assert _promote(body, holdout, "--force") == 0
    assert (models / "ACTIVE").read_text().strip() == "body.joblib"
    # evaluated on examples labelled the other way, its keep-or-not scores are said to be void
    capsys.readouterr()
    main(["evaluate", "--model", str(body), "--examples", str(data / "holdout.jsonl"), "--cv", "0",
          "--report", str(tmp_path / "report")])
    assert ("warning: the model keeps 'body' blocks and the examples label none 'body'"
            in capsys.readouterr().err)


def test_a_label_given_to_a_few_blocks_only_is_warned_about_as_a_likely_typo(data, tmp_path, capsys):
    lines = (data / "train.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    next(b for b in first["blocks"] if b["label"] == "related")["label"] = "realted"
    (tmp_path / "typo.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    _train(tmp_path, "typo.jsonl", tmp_path / "typo.joblib")
    err = capsys.readouterr().err
    assert "warning: only 1 block(s) labelled 'realted', which becomes a class of its own: a typo?" in err
    assert "labelled 'related'" not in err
    # a label of LABELS.md given to few blocks is a thin class, not a typo
    _relabelled(data / "train.jsonl", tmp_path / "few-teasers.jsonl", 8,
                      lambda k, b: "junk" if k > 0 and b["label"] == "teaser" else b["label"])
    _train(tmp_path, "few-teasers.jsonl", tmp_path / "few.joblib")
    err = capsys.readouterr().err
    assert ("warning: only 3 block(s) labelled 'teaser': too few for the model to learn that kind"
            in err and "a typo?" not in err), err


def test_a_models_folder_setting_that_names_no_folder_is_warned_about(tmp_path, monkeypatch, caplog):
    """A typo in NOISEFILTER_MODELS_DIR silently gave the shipped model."""
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(tmp_path / "modles"))
    assert active_model_path() == packaged_model_path()
    assert f"NOISEFILTER_MODELS_DIR is {tmp_path / 'modles'}, which is not a folder" in caplog.text


def test_evaluate_refuses_a_report_folder_it_cannot_write_before_scoring(data, good, tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    assert main(["evaluate", "--model", str(good), "--examples", str(data / "holdout.jsonl"),
                 "--report", str(tmp_path / "a-file")]) == 2
    err = capsys.readouterr().err
    assert f"cannot write the report into {tmp_path / 'a-file'}: it is a file; --report names a folder" in err
    assert "segmenting" not in err and "Traceback" not in err


@pytest.fixture
def active_good(good, models):
    """A models folder whose active model is `good`; returns (folder, sha256 of the active file)."""
    switch_to(load_model(good), [], holdout="test")
    return models, sha256_file(models / "good.joblib")


def _untouched(folder: Path, sha: str) -> None:
    assert (folder / "ACTIVE").read_text().strip() == "good.joblib"
    assert sha256_file(folder / "good.joblib") == sha
    assert Cleaner().model_version == "good"
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".promote.lock") == []


def test_train_raising_mid_way_leaves_the_active_model(data, active_good, monkeypatch, capsys):
    folder, sha = active_good

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("filter.model.BlockClassifier.fit", interrupted)
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", str(folder / "new.joblib")]) == 130
    assert "noisefilter: interrupted" in capsys.readouterr().err
    assert not (folder / "new.joblib").exists()
    _untouched(folder, sha)


def test_train_failing_while_writing_leaves_no_file(data, active_good, monkeypatch):
    folder, sha = active_good
    import joblib

    def disk_full(obj, filename, **kw):
        Path(filename).write_bytes(b"half a model")
        raise OSError("No space left on device")

    monkeypatch.setattr(joblib, "dump", disk_full)
    with pytest.raises(OSError):
        main(["train", "--examples", str(data / "train.jsonl"), "--out", str(folder / "new.joblib"),
              "--folds", "2"])
    assert not (folder / "new.joblib").exists() and not (folder / "new.manifest.json").exists()
    _untouched(folder, sha)


def test_retraining_interrupted_while_writing_the_manifest_leaves_the_old_pair_loadable(
        data, good, tmp_path, monkeypatch):
    """The model used to be in place before its manifest was written: an interruption between
    them left the new model beside the old manifest, and neither loadable."""
    import filter.modelfile

    out = tmp_path / "mine.joblib"
    shutil.copy(good, out)
    shutil.copy(good.with_suffix("").with_suffix(".manifest.json"), tmp_path / "mine.manifest.json")
    before = load_model(out).manifest["sha256"]

    def interrupted(tmp, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(filter.modelfile, "write_synced", interrupted)
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", str(out),
                 "--folds", "2", "--seed", "7"]) == 130
    assert load_model(out).manifest["sha256"] == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.joblib", "mine.manifest.json"]


def test_train_killed_mid_way_leaves_the_active_model(data, active_good):
    folder, sha = active_good
    proc = subprocess.Popen([*NOISEFILTER, "train", "--examples", str(data / "train.jsonl"),
                             "--out", str(folder / "new.joblib")],
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    for line in proc.stderr:
        if line.startswith("fitting on"):
            proc.send_signal(signal.SIGKILL)
            break
    assert proc.wait(60) == -signal.SIGKILL
    assert not (folder / "new.joblib").exists()
    _untouched(folder, sha)


def test_a_promoted_model_is_named_by_its_file_name_anywhere(active_good, tmp_path, capsys, monkeypatch):
    """`serve --model mysite-1.joblib` found it in the models folder; `clean --model` and
    `Cleaner(model=...)` said "model file not found" unless run from that folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lines.txt").write_text("A line of text.\nAnother line.\n")
    assert Cleaner(model="good.joblib").model_version == "good"
    assert main(["clean", "--text", "lines.txt", "--model", "good.joblib", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model_version"] == "good"
    assert main(["clean", "--text", "lines.txt", "--model", "nowhere.joblib"]) == 3
    assert (f"model file not found: {tmp_path / 'nowhere.joblib'} (nor "
            f"{models_dir() / 'nowhere.joblib'}, in the models folder)\n") in capsys.readouterr().err
    assert main(["clean", "--text", "lines.txt", "--model", "./good.joblib"]) == 3  # here: none
    assert f"model file not found: {tmp_path / 'good.joblib'}\n" in capsys.readouterr().err


def test_train_refuses_a_bare_name_that_model_options_would_read_from_the_models_folder(
        data, active_good, tmp_path, capsys, monkeypatch):
    """`train --out good.joblib` wrote ./good.joblib while `evaluate`, `promote` and `clean
    --model good.joblib` mean the models folder's: the user scored the old model as the new."""
    folder, sha = active_good
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", "good.joblib"]) == 2
    assert "--model good.joblib means" in capsys.readouterr().err
    assert not (tmp_path / "good.joblib").exists()
    _untouched(folder, sha)
    # written as a path, it is this folder's file, and so is the model that path names
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", "./good.joblib",
                 "--folds", "2", "--version", "here"]) == 0
    assert Cleaner(model="./good.joblib").model_version == "here"
    _untouched(folder, sha)


def test_train_refuses_to_overwrite_the_active_model(data, active_good, capsys):
    folder, sha = active_good
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out",
                 str(folder / "good.joblib")]) == 2
    assert "good.joblib is the active model" in capsys.readouterr().err
    _untouched(folder, sha)


def test_train_refuses_to_overwrite_the_shipped_default_rollback_goes_back_to(data, active_good, capsys):
    """With ``PREVIOUS`` empty, `rollback` goes back to the shipped default: the folder's file
    of the shipped model's name (when there is one), else the package's."""
    folder, sha = active_good
    assert (folder / "PREVIOUS").read_text().strip() == ""
    for name in ("noisefilter-wcxb.joblib", "noisefilter-wcxb.manifest.json"):
        shutil.copyfile(packaged_model_path().with_name(name), folder / name)
    shipped_sha = sha256_file(folder / "noisefilter-wcxb.joblib")
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out",
                 str(folder / "noisefilter-wcxb.joblib")]) == 2
    err = capsys.readouterr().err
    assert "noisefilter-wcxb.joblib is the shipped default model" in err and "fitting on" not in err
    assert sha256_file(folder / "noisefilter-wcxb.joblib") == shipped_sha
    _untouched(folder, sha)
    # the package's own file too (checked without training: a failure must not overwrite it)
    with pytest.raises(ValueError, match="is the shipped default model"):
        check_output(packaged_model_path())
    # and a file of that name anywhere else: the repository's `models/` beside a non-editable
    # install was written over
    with pytest.raises(ValueError, match="is the shipped default model's name"):
        check_output(folder.parent / "repo" / "models" / "noisefilter-wcxb.joblib")


@pytest.mark.parametrize("where", ["under a file", "/proc"])
def test_train_to_an_unwritable_place_stops_before_fitting(data, tmp_path, capsys, where):
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" / "m.joblib" if where == "under a file" else Path("/proc/m.joblib")
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"noisefilter: cannot train: cannot write {out}" in err
    assert "segmenting pages" not in err and "fitting on" not in err and "Traceback" not in err


def test_train_with_a_broken_active_pointer_says_so(data, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "ACTIVE").write_text("../elsewhere.joblib")
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(folder))
    out = tmp_path / "m.joblib"
    assert main(["train", "--examples", str(data / "train.jsonl"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot train: " in err and "names '../elsewhere.joblib'" in err and "Traceback" not in err


def _flip_a_byte(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.seek(100)
        byte = fh.read(1)
        fh.seek(100)
        fh.write(bytes([byte[0] ^ 0xFF]))


def test_with_the_active_model_broken_promote_compares_against_the_shipped_default(
        data, active_good, tmp_path, capsys):
    """A broken active model is no bar at all; the shipped default (what `clean()` falls back
    to) is, so a model worse than it is still refused."""
    folder, _ = active_good
    _flip_a_byte(folder / "good.joblib")
    bad = _train(data, "train-swapped.jsonl", tmp_path / "bad.joblib")
    capsys.readouterr()
    assert _promote(bad, data / "holdout.jsonl") == 1
    captured = capsys.readouterr()
    assert "the active model cannot be loaded" in captured.err
    assert "against shipped default wcxb-" in captured.out and "REGRESSION" in captured.out
    assert (folder / "ACTIVE").read_text().strip() == "good.joblib"


def test_a_promotion_over_a_broken_active_model_rolls_back_to_the_shipped_default(
        data, good, active_good, tmp_path, capsys):
    """PREVIOUS named the broken model, so `rollback` could only fail: there was no way back
    short of editing the pointers."""
    folder, _ = active_good
    _flip_a_byte(folder / "good.joblib")
    candidate = tmp_path / "candidate.joblib"
    shutil.copyfile(good, candidate)
    shutil.copyfile(good.with_name("good.manifest.json"), tmp_path / "candidate.manifest.json")
    assert _promote(candidate, data / "holdout.jsonl", "--force") == 0
    assert (folder / "ACTIVE").read_text().strip() == "candidate.joblib"
    capsys.readouterr()
    assert main(["rollback"]) == 0, capsys.readouterr().err
    assert not (folder / "ACTIVE").exists()
    assert Cleaner().model_version.startswith("wcxb-")


def test_with_no_model_to_compare_against_promote_needs_force(data, good, active_good, tmp_path, capsys):
    folder, _ = active_good
    _flip_a_byte(folder / "good.joblib")
    for name in ("noisefilter-wcxb.joblib", "noisefilter-wcxb.manifest.json"):
        shutil.copyfile(packaged_model_path().with_name(name), folder / name)
    _flip_a_byte(folder / "noisefilter-wcxb.joblib")  # the shipped default, as this folder has it
    candidate = tmp_path / "candidate.joblib"
    shutil.copyfile(good, candidate)
    shutil.copyfile(good.with_name("good.manifest.json"), tmp_path / "candidate.manifest.json")
    assert _promote(candidate, data / "holdout.jsonl") == 2
    captured = capsys.readouterr()
    assert "cannot be loaded either" in captured.err and "pass --force" in captured.err
    assert "candidate good on 6 holdout pages (no model to compare against)" in captured.out
    assert "content_f1  1.0000" in captured.out  # the candidate's own scores
    assert (folder / "ACTIVE").read_text().strip() == "good.joblib"
    assert _promote(candidate, data / "holdout.jsonl", "--force") == 0
    assert "content_f1  1.0000" in capsys.readouterr().out
    assert (folder / "ACTIVE").read_text().strip() == "candidate.joblib"
    log = json.loads((folder / "promotions.jsonl").read_text().splitlines()[-1])
    assert log["compared_with"] is None and log["checks"] == []


def test_a_broken_shipped_default_that_is_active_is_tried_once(data, good, models, tmp_path, capsys):
    """No ACTIVE pointer: the shipped default is the active model, so when it does not load
    there is nothing else to fall back to, and promote says so once."""
    for name in ("noisefilter-wcxb.joblib", "noisefilter-wcxb.manifest.json"):
        shutil.copyfile(packaged_model_path().with_name(name), models / name)
    _flip_a_byte(models / "noisefilter-wcxb.joblib")
    assert _promote(good, data / "holdout.jsonl") == 2
    err = capsys.readouterr().err
    assert err.count("cannot be loaded") == 1 and "pass --force" in err


def test_an_extra_comment_label_works_end_to_end(data, good, models, tmp_path):
    model = _train(data, "train-comment.jsonl", tmp_path / "with-comments.joblib")
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(model), "--examples", str(data / "holdout-comment.jsonl"),
                 "--report", str(report), "--cv", "0"]) == 0
    rep = json.loads((report / "report.json").read_text())
    assert rep["seen_in_training"] == {"pages": 0, "ids": []}  # a true holdout: nothing to warn of
    assert rep["per_label"]["labels"] == ["content", "comment", "junk", "related", "teaser"]
    assert rep["per_label"]["per_label"]["comment"]["f1"] > 0.9
    # the four-label model scored on the same pages: `comment` is a gold label it cannot know
    assert main(["evaluate", "--model", str(good), "--examples", str(data / "holdout-comment.jsonl"),
                 "--report", str(tmp_path / "old"), "--cv", "0"]) == 0
    old = json.loads((tmp_path / "old" / "report.json").read_text())
    assert old["unknown_gold_labels"]["comment"] > 0 and old["per_label"]["per_label"]["comment"]["recall"] == 0

    assert _promote(good, data / "holdout.jsonl") == 0
    # keep-or-not and word F1 may not drop at all; the kinds of noise, re-learnt from fewer
    # `junk` blocks now that comments have their own label, get a per-measure margin
    assert _promote(model, data / "holdout-comment.jsonl", "--max-drop-macro-f1", "0.1") == 0
    cleaner = Cleaner()
    assert cleaner.labels == ["content", "comment", "junk", "related", "teaser"]
    url, html, blocks = make_page(4, 8, comments=True)
    result = cleaner.clean(html, url=url)
    got = [(b.label, lab) for b, (_, lab) in zip(result.blocks, blocks)]
    assert len(got) == len(blocks)
    assert all(g == want for g, want in got if want in ("content", "comment"))
    assert result.text == "\n".join(t for t, lab in blocks if lab == "content")


def test_bootstrap_proposes_unreviewed_labels(data, good, models, tmp_path, capsys):
    gold = write_wcxb(tmp_path / "mysite", [(4, 20), (5, 21), (4, 22)])
    out, db = tmp_path / "boot.jsonl", tmp_path / "boot.db"
    assert main(["bootstrap", "--data", str(gold), "--model", str(good), "--out", str(out),
                 "--store", str(db)]) == 0
    assert "3 pages" in capsys.readouterr().out
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["mysite-0001", "mysite-0002", "mysite-0003"]
    right = total = 0
    for row, (site, n) in zip(rows, [(4, 20), (5, 21), (4, 22)]):
        truth = make_page(site, n)[2]
        assert row["gold"] and row["source"] == "bootstrap:mysite"
        assert all(b["reviewed"] is False for b in row["blocks"])
        assert [b["text"] for b in row["blocks"]] == [t for t, _ in truth]
        for b, (_, lab) in zip(row["blocks"], truth):
            # content comes from alignment with the gold text, the kinds from the model
            assert (b["label"] == "content") == (lab == "content")
            assert b["labelled_by"] == ("align:mysite" if lab == "content" else "model:good")
            right += b["label"] == lab
            total += 1
    assert right / total > 0.9
    counts = ExampleStore(db).count()
    assert counts["pages"] == 3 and counts["unreviewed"] == counts["labels"] == total
    # bootstrapped examples are scored directly: labels per block, gold text per page
    capsys.readouterr()
    assert main(["evaluate", "--model", str(good), "--store", str(db), "--report", str(tmp_path / "r"),
                 "--cv", "0", "--no-baseline"]) == 0
    assert json.loads((tmp_path / "r" / "report.json").read_text())["word_f1"]["pages_with_gold"] == 3
    # scored on the kinds it proposed itself, the model cannot be wrong there: said, with how many
    own = sum(b["labelled_by"] == "model:good" for row in rows for b in row["blocks"])
    assert (f"warning: {own:,} of {total:,} holdout labels are good's own unreviewed proposals "
            "(labelled_by model:good): scored on them, it is scored against itself; review them, "
            "or score with --reviewed-only") in capsys.readouterr().err
    _promote(good, out, "--dry-run")  # against the shipped model, which proposed none of them
    err = capsys.readouterr().err
    assert f"warning: {own:,} of {total:,} holdout labels are good's own" in err and "wcxb" not in err


def test_train_reports_example_problems_and_strict_stops(data, tmp_path, capsys):
    bad = tmp_path / "mixed.jsonl"
    bad.write_text((data / "holdout.jsonl").read_text() + "{oops\n" +
                   json.dumps(example(4, 9) | {"blocks": [{"text": "Nowhere on the page", "label": "junk"}]}) + "\n")
    assert main(["train", "--examples", str(bad), "--out", str(tmp_path / "m.joblib"), "--strict"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:7: not valid JSON" in err and "--strict" in err
    assert not (tmp_path / "m.joblib").exists()
    assert main(["train", "--examples", str(bad), "--out", str(tmp_path / "m.joblib"), "--folds", "2"]) == 0
    err = capsys.readouterr().err
    assert f"{bad}:8: label 'junk' matches no block" in err and f"{bad}:8: no block of the page got a label" in err
    assert load_model(tmp_path / "m.joblib").manifest["training_data"]["pages"] == 6


def test_a_skipped_page_is_never_hidden_behind_block_warnings(data, tmp_path, capsys):
    """Only the first 20 problems were printed: a page left out whole (here a line whose
    document is under a misspelt key) hid behind the block warnings before it, and misspelt
    block keys were reported as a missing text without naming them."""
    lines = (data / "holdout.jsonl").read_text().splitlines()
    misspelt = json.loads(lines[0])
    misspelt["blocks"] = [{"txt": b["text"], "lable": b["label"]} for b in misspelt["blocks"]]
    moved = json.loads(lines[1])
    moved["body"] = moved.pop("html")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([json.dumps(misspelt), json.dumps(moved), *lines[2:]]) + "\n")
    assert len(misspelt["blocks"]) > 20
    main(["train", "--examples", str(bad), "--out", str(tmp_path / "m.joblib"), "--folds", "2"])
    err = capsys.readouterr().err
    assert f"{bad}:1: block 0: 'text' must be a string, not NoneType (unknown field(s) lable, txt)" in err
    assert f"{bad}:2: " in err and "line skipped" in err and "more problem" in err


@pytest.mark.parametrize("command", ["bootstrap", "promote"])
def test_commands_that_fit_nothing_do_not_offer_threads_and_still_take_them(command):
    """`bootstrap` and `promote` predict one page at a time on one thread: `--threads` changed
    nothing there, while their help said it set a fitting's threads. A script giving it runs."""
    import argparse

    import train.cli

    parser = argparse.ArgumentParser()
    getattr(train.cli, f"{command}_add_arguments")(parser)
    assert "--threads" not in parser.format_help()
    (threads,) = [a for a in parser._actions if "--threads" in a.option_strings]
    assert threads.type("2") == 2


@pytest.mark.parametrize("args, message", [
    (["train", "--folds", "1"], "argument --folds: must be 2 or more, not 1"),
    (["train", "--jobs", "0"], "argument --jobs: must be 1 or more, not 0"),
    (["evaluate", "--report", "r", "--cv", "-1"], "argument --cv: must be 0 or more, not -1"),
    # one fold is none: it turned cross-validation off saying so only inside the report
    (["evaluate", "--report", "r", "--cv", "1"],
     "argument --cv: must be 0 (no cross-validation) or 2 or more, not 1"),
    # a slice: -1 showed all pages but the last
    (["evaluate", "--report", "r", "--worst", "-1"], "argument --worst: must be 0 or more, not -1"),
    (["train", "--threads", "-1"], "argument --threads: must be 0 or more, not -1"),
    (["bootstrap", "--limit", "0"], "argument --limit: must be 1 or more, not 0"),  # wrote an empty file
])
def test_counts_that_cannot_work_are_refused_before_any_page_is_read(data, tmp_path, capsys,
                                                                     args, message):
    """A fold count of 1 failed only after every page was segmented, in scikit-learn's words."""
    with pytest.raises(SystemExit) as stop:
        main([*args, "--examples", str(data / "train.jsonl"), *(
            ["--out", str(tmp_path / "m.joblib")] if args[0] == "train" else ["--model", "x"])])
    assert stop.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--max-drop", "--max-drop-word-f1"])
@pytest.mark.parametrize("value", ["nan", "inf", "-0.05", "1.5", "1e400"])
def test_an_allowed_drop_must_be_a_number_from_0_to_1(data, models, capsys, option, value):
    """nan failed every check (identical scores were refused), inf wrote the non-standard token
    `Infinity` into promotions.jsonl, and a negative drop asked for an improvement while the
    output said "may drop -0.05"."""
    with pytest.raises(SystemExit) as stop:
        _promote(data / "no-such-model.joblib", data / "holdout.jsonl", option, value, "--dry-run")
    assert stop.value.code == 2
    assert f"argument {option}: must be a number from 0 to 1, not {value}" in capsys.readouterr().err


def test_the_promotions_log_holds_standard_json_or_nothing_changes(good, models):
    """A check no JSON parser can read (an infinite allowed drop, from a caller that skipped the
    command line's checks) is refused before the pointers move, not written as `Infinity`."""
    from train.promote import ACTIVE, LOG, Check

    checks = [Check("word_f1", 1.0, 1.0, float("inf"), True)]
    with pytest.raises(ValueError):
        switch_to(load_model(good), checks, holdout="test")
    assert not (models / ACTIVE).exists() and not (models / LOG).exists()


def test_a_log_that_cannot_be_written_refuses_the_switch_before_it(data, good, models, capsys):
    """promotions.jsonl that cannot be opened (here a folder; another user's file in a shared
    models folder) was found after both pointers had moved: promote said "not promoted" of a
    model it had made active, and rollback that it could not write, having rolled back."""
    (models / "promotions.jsonl").mkdir()
    assert _promote(good, data / "holdout.jsonl") == 2
    assert "not promoted: the models folder" in capsys.readouterr().err
    assert not (models / "ACTIVE").exists() and not (models / "PREVIOUS").exists()
    (models / "promotions.jsonl").rmdir()
    assert _promote(good, data / "holdout.jsonl") == 0
    (models / "promotions.jsonl").rename(models / "log-aside")
    (models / "promotions.jsonl").mkdir()
    assert main(["rollback"]) == 2
    assert (models / "ACTIVE").read_text() == "good.joblib\n"
    assert (models / "PREVIOUS").read_text() == "\n"


def test_a_candidate_replaced_while_it_was_scored_is_said_to_be(good, models, tmp_path):
    """A candidate retrained into the same file while promote scored it is not promoted; the
    message said the copy into the models folder "changed its bytes", read as a failing disk."""
    from train.promote import PromotionError

    candidate = _copy_model(good, tmp_path / "cand.joblib")
    loaded = load_model(candidate)
    candidate.write_bytes(candidate.read_bytes()[:-1])  # another file (a training's) there now
    with pytest.raises(PromotionError, match=r"cand.joblib was replaced after it was loaded and "
                                             r"scored .*promote it again"):
        switch_to(loaded, [], holdout="test")
    assert not (models / "ACTIVE").exists() and not (models / "cand.joblib").exists()


def test_a_set_labelled_all_content_is_refused(data, tmp_path, capsys):
    """A model needs blocks that are not content to learn what to remove; one trained on
    content alone kept everything with a score of 0."""
    only = tmp_path / "content-only.jsonl"
    with open(only, "w") as fh:
        for line in (data / "train.jsonl").read_text().splitlines():
            ex = json.loads(line)
            ex["blocks"] = [b for b in ex["blocks"] if b["label"] == "content"]
            fh.write(json.dumps(ex) + "\n")
    assert main(["train", "--examples", str(only), "--out", str(tmp_path / "m.joblib")]) == 2
    err = capsys.readouterr().err
    assert "only 'content' blocks" in err
    assert "fitting" not in err, "refused before the blocks' features are computed"
    assert not (tmp_path / "m.joblib").exists()


def test_a_set_labelled_content_or_noncontent_only_trains_a_model_that_removes_noise(data, active_good,
                                                                                 tmp_path, capsys):
    """Labels that say only what is not content (`noncontent`: as `bootstrap` proposes them
    from a single-label model) must still teach removal: such a model kept every block."""
    plain = tmp_path / "plain.jsonl"
    with open(plain, "w") as fh:
        for line in (data / "train.jsonl").read_text().splitlines():
            ex = json.loads(line)
            for b in ex["blocks"]:
                b["label"] = "content" if b["label"] == "content" else "noncontent"
            fh.write(json.dumps(ex) + "\n")
    model = tmp_path / "plain.joblib"
    assert main(["train", "--examples", str(plain), "--out", str(model), "--folds", "2"]) == 0
    page = json.loads((data / "holdout.jsonl").read_text().splitlines()[0])
    gold = {b["text"]: b["label"] for b in page["blocks"]}
    result = Cleaner(model=model).clean(page["html"])
    labels = {b.text: b.label for b in result.blocks}
    assert set(labels.values()) == {"content", "noncontent"}
    noise = [t for t, lab in gold.items() if lab != "content" and t in labels]
    kept = [t for t, lab in gold.items() if lab == "content" and t in labels]
    assert noise and kept
    assert sum(labels[t] == "noncontent" for t in noise) >= 0.8 * len(noise)
    assert sum(labels[t] == "content" for t in kept) >= 0.8 * len(kept)
    assert result.text.splitlines() == [t for t, lab in labels.items() if lab == "content"]
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(model), "--examples", str(data / "holdout.jsonl"),
                 "--report", str(report), "--cv", "0", "--no-baseline"]) == 0
    assert json.loads((report / "report.json").read_text())["keep"]["f1"] > 0.8
    # promoted over a four-label model, it would list no related links: said, not hidden
    capsys.readouterr()
    _promote(model, data / "holdout.jsonl", "--dry-run")
    assert ("warning: the candidate gives no 'junk', 'related', 'teaser' label, which the active "
            "model gives: cleaned pages will list no related links") in capsys.readouterr().err


def test_seed_and_folds_without_cross_validation_are_said_to_change_nothing(data, good, tmp_path,
                                                                             capsys):
    """`evaluate --cv 0 --seed 7` took the seed, recorded it in the report and used it for
    nothing: a user comparing seeds got the same scores without a word."""
    holdout = str(data / "holdout.jsonl")
    assert main(["evaluate", "--model", str(good), "--examples", holdout, "--report",
                 str(tmp_path / "a"), "--cv", "0", "--no-baseline", "--seed", "7"]) == 0
    assert ("warning: --seed and --folds choose the cross-validation's models, and --cv 0 runs "
            "none: they change nothing") in capsys.readouterr().err
    assert main(["evaluate", "--model", str(good), "--examples", holdout, "--report",
                 str(tmp_path / "b"), "--cv", "0", "--no-baseline"]) == 0
    assert "--seed" not in capsys.readouterr().err


def test_pages_with_no_block_to_keep_are_left_out_of_the_word_f1(data, good, tmp_path, capsys):
    """A page labelled with no `content` block has no gold text: scored against an empty one,
    every word the model keeps would give it a word F1 of 0."""
    first, second = (json.loads(x) for x in (data / "holdout.jsonl").read_text().splitlines()[:2])
    for block in first["blocks"]:
        block["label"] = "junk"
    examples = tmp_path / "no-content.jsonl"
    examples.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(good), "--examples", str(examples), "--report", str(report),
                 "--cv", "0", "--no-baseline"]) == 0
    words = json.loads((report / "report.json").read_text())["word_f1"]
    assert words["pages_with_gold"] == 1 and words["noisefilter"] == 1.0
    assert "Over 1 of 2 pages with gold text" in (report / "report.md").read_text()
    assert "word F1 1.000" in capsys.readouterr().out
    # with no gold block to keep at all, the keep-or-not F1 is undefined everywhere: the
    # report said F1 0.000 where the summary said none
    examples.write_text(json.dumps(first) + "\n")
    assert main(["evaluate", "--model", str(good), "--examples", str(examples), "--report", str(report),
                 "--cv", "0", "--no-baseline"]) == 0
    assert json.loads((report / "report.json").read_text())["keep"]["f1"] is None
    assert "recall –, F1 **–**" in (report / "report.md").read_text()


@pytest.mark.parametrize("worst", ["10", "0"])
def test_a_page_that_kept_none_of_its_gold_text_is_a_worst_page_whatever_worst_shows(
        data, good, tmp_path, worst):
    """Worst pages were picked by `word_f1 or 1.0`: a word F1 of 0.0, being falsy, counted as
    perfect, and the report said "Every page is right." of a page that kept none of its gold
    text. `--worst 0` cut the list before it was looked at, and said so of any model."""
    page = json.loads((data / "holdout.jsonl").read_text().splitlines()[1])
    page["blocks"] = [b for b in page["blocks"] if b["label"] == "junk"]  # all of them right
    page["gold"] = "Yesterday's quiz answers: zebra, quokka, xylophone."  # no word kept is in it
    examples = tmp_path / "zero.jsonl"
    examples.write_text(json.dumps(page) + "\n")
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(good), "--examples", str(examples), "--report", str(report),
                 "--cv", "0", "--no-baseline", "--worst", worst]) == 0
    rep = json.loads((report / "report.json").read_text())
    markdown = (report / "report.md").read_text()
    assert rep["word_f1"]["noisefilter"] == 0.0
    assert "Every page is right." not in markdown
    if worst == "0":
        assert rep["worst_pages"] == []
        assert "1 page with errors (a block wrong or word F1 below 1); `--worst 1` lists them." in markdown
    else:
        assert [(p["id"], p["word_f1"], p["wrong"]) for p in rep["worst_pages"]] == [(page["id"], 0.0, [])]
        assert "word F1 0.000 (trafilatura –), 0 of" in markdown
    assert rep["pages_with_errors"] == 1  # counted before --worst cuts the list


def test_the_worst_pages_say_how_many_more_have_errors():
    from train.evaluation import Evaluation, PageResult, report_dict, report_markdown

    wrong = [{"text": "x", "gold": "junk", "predicted": "content", "score": 0.9}]
    ev = Evaluation(keep_label="content", model_labels=["content", "junk"], y_true=["content", "junk"],
                    y_pred=["content", "content"],
                    pages=[PageResult("right", None, 1, [], 1.0), PageResult("no-gold", None, 1, []),
                           PageResult("half", None, 1, [], 0.5), PageResult("none", None, 1, [], 0.0),
                           PageResult("a-block", None, 1, wrong)])
    info = {"version": "v", "path": "m.joblib", "sha256": "0" * 64, "labels": ["content", "junk"]}
    rep = report_dict(ev, info, [], {"skipped": "not asked for"}, worst=2)
    assert [p["id"] for p in rep["worst_pages"]] == ["none", "half"]
    assert rep["pages_with_errors"] == 3
    markdown = report_markdown(rep)
    assert "The 2 worst of 3 pages with errors" in markdown and "`--worst 3` lists them all" in markdown
    assert "Every page is right." not in markdown
    ev.pages = ev.pages[:2]
    rep = report_dict(ev, info, [], {"skipped": "not asked for"}, worst=0)
    assert rep["pages_with_errors"] == 0 and "Every page is right." in report_markdown(rep)



def test_a_report_written_without_matplotlib_shows_no_earlier_runs_chart(tmp_path, monkeypatch):
    """Evaluating into the same report folder without matplotlib (a venv installed with only
    `.[api]`) left the earlier run's report.png, which the new report.md showed under its own
    figures."""
    import sys

    from train.evaluation import Evaluation, PageResult, report_dict, write_report

    ev = Evaluation(keep_label="content", model_labels=["content", "junk"], y_true=["content", "junk"],
                    y_pred=["content", "content"], pages=[PageResult("p", None, 2, [], 1.0)])
    info = {"version": "v", "path": "m.joblib", "sha256": "0" * 64, "labels": ["content", "junk"]}
    rep = report_dict(ev, info, [], {"skipped": "not asked for"}, worst=5)
    folder = tmp_path / "report"
    write_report(rep, folder)
    assert (folder / "report.png").is_file()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    with pytest.raises(ImportError, match="needs matplotlib"):
        write_report(rep, folder)
    assert not (folder / "report.png").exists()
    markdown = (folder / "report.md").read_text()
    assert "](report.png)" not in markdown and "No chart" in markdown
    assert json.loads((folder / "report.json").read_text()) == rep


def test_macro_f1_over_the_labels_both_models_know_scores_only_their_blocks():
    """Gold `comment` blocks, which a four-label model can only call `junk` and a five-label one
    calls `comment`, counted as false `junk` against the first and not at all against the
    second: the comparison favoured the model with the extra label. Blocks whose gold label one
    model lacks are left to the keep-or-not F1, which scores every block."""
    from train.evaluation import Evaluation
    from train.promote import Thresholds, compare

    y_true = ["content", "content", "junk", "comment", "comment"]
    five = Evaluation(keep_label="content", model_labels=["content", "comment", "junk"], y_true=y_true,
                      y_pred=["content", "content", "junk", "comment", "content"])
    four = Evaluation(keep_label="content", model_labels=["content", "junk"], y_true=y_true,
                      y_pred=["content", "content", "junk", "junk", "content"])
    checks = {c.measure: c for c in compare(five, four, Thresholds())}
    # both kept the last comment: a false `content` against each (content F1 0.8, junk 1.0)
    assert checks["macro_f1"].candidate == checks["macro_f1"].active == pytest.approx(0.9)
    assert checks["content_f1"].candidate == checks["content_f1"].active == pytest.approx(0.8)
    report = four.block_report(restrict={"content", "junk"})
    assert report["per_label"]["junk"]["precision"] == 1.0 and report["labels"] == ["content", "junk"]
    assert report["kept_unlisted"] == 1


def test_a_model_keeping_every_block_does_not_pass_for_perfect_over_the_shared_labels():
    """Comments kept by a model without the `comment` label were left out of the shared-label
    scores: a content/junk model keeping every block scored macro F1 1.000 there and blocked a
    candidate that removes the comments."""
    from train.evaluation import Evaluation
    from train.promote import Thresholds, compare

    y_true = ["content"] * 10 + ["comment"] * 6
    keeps_all = Evaluation(keep_label="content", model_labels=["content", "junk"], y_true=y_true,
                           y_pred=["content"] * 16)
    candidate = Evaluation(keep_label="content", model_labels=["content", "comment", "junk"],
                           y_true=y_true, y_pred=["content"] * 9 + ["junk"] + ["comment"] * 6)
    checks = {c.measure: c for c in compare(candidate, keeps_all, Thresholds())}
    assert checks["macro_f1"].active == pytest.approx(20 / 26)  # precision 10/16, recall 1
    assert checks["macro_f1"].candidate == pytest.approx(18 / 19)  # precision 1, recall 0.9
    assert all(c.passed for c in checks.values()), checks


def test_a_kept_noncontent_block_is_a_false_keep_label_in_the_per_label_scores():
    """On a holdout labelled content-or-not (`noncontent` for the rest, as `bootstrap` writes
    and the docs allow), blocks the model kept were left out of the per-label table: content
    precision 1.000 and a macro F1 that was content recall, so a model keeping every block
    (macro F1 1.000) blocked the promotion of one that removes the noise."""
    from train.evaluation import Evaluation
    from train.promote import Thresholds, compare

    y_true = ["content"] * 4 + ["noncontent"] * 6
    keeps_all = Evaluation(keep_label="content", model_labels=["content", "junk"], y_true=y_true,
                           y_pred=["content"] * 10)
    better = Evaluation(keep_label="content", model_labels=["content", "junk"], y_true=y_true,
                        y_pred=["content"] * 3 + ["junk"] + ["junk"] * 6)
    report = keeps_all.block_report()
    assert report["per_label"]["content"]["precision"] == pytest.approx(0.4)
    assert report["macro_f1"] == pytest.approx(keeps_all.keep_scores()["f1"])  # 4/7
    assert report["confusion"] == [[4, 0], [0, 0]]  # `noncontent` has no row of its own
    assert report["kept_unlisted"] == 6
    checks = {c.measure: c for c in compare(better, keeps_all, Thresholds())}
    assert checks["macro_f1"].candidate == pytest.approx(6 / 7)  # recall 0.75, precision 1
    assert checks["macro_f1"].active == pytest.approx(4 / 7)
    assert all(c.passed for c in checks.values()), checks
    # a `noncontent` block called some other kind is no error of the per-label table
    assert better.block_report()["per_label"]["junk"]["precision"] == 0.0
    only_noise = Evaluation(keep_label="content", model_labels=["content", "junk"],
                            y_true=["noncontent"] * 2, y_pred=["content", "junk"])
    assert only_noise.block_report()["macro_f1"] is None
    # the report says why its precision and its matrix differ
    from train.evaluation import report_dict, report_markdown

    info = {"version": "v", "path": "m.joblib", "sha256": "0" * 64, "labels": ["content", "junk"]}
    markdown = report_markdown(report_dict(keeps_all, info, [], {"skipped": "not asked for"}))
    assert "Not in the matrix: 6 kept blocks labelled `noncontent`, which count as false " \
           "`content` in its precision." in markdown


def test_cross_validation_groups_pages_by_site_not_by_host():
    """`benchmarks/quality.py` keeps each group on one side of a split: grouped by host name,
    the 17 substack.com blogs (one template) were in every fold, and docs.docker.com was
    trained on while docker.com was tested."""
    from pathlib import Path
    from train.wcxb import GoldPage

    def gold(url):
        return GoldPage(id="0", url=url, page_type="article", html_path=Path("x"),
                        main_content="", with_snippets=(), without_snippets=())

    assert gold("https://one.substack.com/p/a").site == gold("https://two.substack.com/p/b").site
    assert gold("https://docs.docker.com/x").site == gold("https://www.docker.com/y").site
    assert gold("https://bbc.co.uk/a").site != gold("https://itv.co.uk/b").site
    assert gold("http://10.0.0.1/a").site == "10.0.0.1"  # no registrable domain: the host
    # a data set of the user's own may hold a URL no host can be read from
    assert gold("http://[::1/a").site == gold("").site == ""


def _add_wcxb_page(folder: Path, ident: str, html: str, gold: str | None, page_type: str = "article") -> None:
    """One more page in a WCXB-layout folder (as `write_wcxb` writes them)."""
    (folder / "html" / f"{ident}.html.gz").write_bytes(gzip.compress(html.encode()))
    truth = {"url": f"https://news9.example/{ident}", "_internal": {"page_type": {"primary": page_type}},
             "ground_truth": {"main_content": gold}}
    (folder / "ground-truth" / f"{ident}.json").write_text(json.dumps(truth))


def test_bootstrap_reports_the_pages_it_skips_and_still_writes_the_rest(data, good, tmp_path, capsys):
    """A page trafilatura finds no text in crashed bootstrap after every page was done, and
    nothing was written; a page whose gold text is empty (21 in WCXB-dev) became an example with
    every block, headline too, labelled noise, which `evaluate` then scored 0 word F1. A page
    whose download was cut short stopped the run there, in a traceback, with nothing written."""
    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    _add_wcxb_page(gold, "0002", "<html><body></body></html>", "The article's text.")
    _add_wcxb_page(gold, "0003", make_page(5, 21)[1], None)
    _add_wcxb_page(gold, "0004", make_page(4, 22)[1], " \n ")
    _add_wcxb_page(gold, "0005", make_page(5, 23)[1], "The article's text.")
    cut = gold / "html" / "0005.html.gz"
    cut.write_bytes(cut.read_bytes()[:200])
    out, db = tmp_path / "boot.jsonl", tmp_path / "boot.db"
    assert main(["bootstrap", "--data", str(gold), "--model", str(good), "--out", str(out),
                 "--store", str(db)]) == 0
    captured = capsys.readouterr()
    assert ("warning: mysite page 0002: the page gives no blocks (trafilatura found no main text on "
            "this page); page skipped") in captured.err
    assert "warning: mysite page 0003: no gold text (its ground truth has no main_content); page skipped" \
        in captured.err
    assert "warning: mysite page 0004: no gold text (its main_content is empty); page skipped" \
        in captured.err
    assert (f"warning: mysite page 0005: page could not be segmented: {cut} is damaged or cut "
            "short: Compressed file ended before the end-of-stream marker was reached; page "
            "skipped") in captured.err
    assert "1 pages, " in captured.out and "4 pages skipped" in captured.out
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["mysite-0001"]
    assert [e.id for e in ExampleStore(db).list()] == ["mysite-0001"]


def test_the_shipped_training_set_leaves_out_pages_without_a_gold_text(tmp_path):
    """Two WCXB-dev pages (an article, a forum thread) have no main_content field at all: read
    as an empty gold text, every block of their articles was trained on as noise, and word F1
    scored them 1.0 or 0.0 whatever a tool kept. An empty main_content is the data set saying
    the page has no main content: such a page is trained on, every block not content."""
    from train.dataset import build

    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    _add_wcxb_page(gold, "0002", make_page(5, 21)[1], None)
    _add_wcxb_page(gold, "0003", make_page(4, 22)[1], "")
    truth = json.loads((gold / "ground-truth" / "0002.json").read_text())
    del truth["ground_truth"]["main_content"]
    (gold / "ground-truth" / "0002.json").write_text(json.dumps(truth))
    pages, report = build(gold, label_files=[], n_jobs=1)
    assert [lp.gold.id for lp in pages] == ["0001", "0003"]
    assert report["pages without gold text"] == 1
    assert "content" in pages[0].labels and set(pages[1].labels) == {"noncontent"}


def test_the_shipped_recipe_refuses_a_data_set_it_cannot_read_before_any_work(tmp_path, capsys):
    """`python -m train.shipped --data` with a typo trained on nothing and ended in a traceback
    ("the training labels hold no 'content' block"); a damaged ground-truth file, in a
    traceback from the reader. Both are one message and exit status 2, nothing written."""
    from train.shipped import main as shipped

    out = tmp_path / "model.joblib"
    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    (gold / "ground-truth" / "0002.json").write_bytes(b"null")
    for data, says in ((tmp_path / "typo", "holds no ground-truth folder"),
                       (gold, "1 ground-truth file(s) cannot be read")):
        with pytest.raises(SystemExit) as ended:
            shipped(["--data", str(data), "--out", str(out), "--card", str(tmp_path / "card.md")])
        assert ended.value.code == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "card.md").exists()


def test_the_shipped_recipe_refuses_a_card_it_cannot_write_before_any_work(tmp_path, capsys):
    """`--card` naming a file without the metrics section, or in a folder that does not exist,
    ended the run in a traceback after the training, the model already written; the file's
    text is never overwritten."""
    from train.shipped import main as shipped

    out = tmp_path / "model.joblib"
    notes = tmp_path / "notes.md"
    notes.write_text("# My notes\n", encoding="utf-8")
    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    with pytest.raises(SystemExit) as ended:
        shipped(["--data", str(gold), "--out", str(out), "--card", str(notes)])
    assert ended.value.code == 2
    assert f"{notes}: holds no metrics section" in capsys.readouterr().err
    assert not out.exists() and notes.read_text(encoding="utf-8") == "# My notes\n"
    with pytest.raises(SystemExit):
        shipped(["--data", str(gold), "--out", str(out), "--card", str(tmp_path / "no" / "card.md")])
    assert f"{tmp_path / 'no' / 'card.md'}: its folder does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_the_shipped_recipe_refuses_to_train_without_the_seed(tmp_path, capsys, monkeypatch):
    """Without ../shared/seed beside the repository the recipe trained another model, without
    the seed page's hand labels, and said nothing: its figures could never match the card's."""
    import train.shipped

    monkeypatch.setattr(train.shipped, "SEED_DIR", tmp_path / "no-seed")
    out = tmp_path / "model.joblib"
    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    with pytest.raises(SystemExit) as ended:
        train.shipped.main(["--data", str(gold), "--out", str(out), "--card", str(tmp_path / "card.md")])
    assert ended.value.code == 2
    assert f"no seed labels in {tmp_path / 'no-seed'}" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("line, says", [
    ('{"page": "0001", "block": "8b31f6e82d48bd56", "label": "Junk"}',
     "label 'Junk' is none of content, related, teaser, junk"),
    ('{"page": "0001", "block": "8b31f6e82d48bd56", "label": "realted"}', "label 'realted' is none of"),
    ('{"page": "0001", "block": "8b31f6e82d48bd56", "label": "junk"', "not a hand label (page, block, label)"),
    ('{"page": "0001", "label": "junk"}', "not a hand label (page, block, label): no 'block'"),
])
def test_a_hand_label_outside_labels_md_or_malformed_is_refused_by_file_and_line(tmp_path, line, says):
    """A misspelt label ("Junk", "realted") became a label of the shipped model, one no client
    knows; a malformed line ended the build in a bare JSON error that named no file."""
    from train.dataset import HandLabels, build

    path = tmp_path / "mine.hand.jsonl"
    path.write_text('{"page": "0001", "block": "8b31f6e82d48bd56", "label": "junk"}\n\n' + line + "\n")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}:3: .*{re.escape(says)}"):
        HandLabels.load([path])
    with pytest.raises(ValueError, match=re.escape(says)):
        build(write_wcxb(tmp_path / "mysite", [(4, 20)]), label_files=[path], n_jobs=1)


def test_a_page_whose_hand_labels_match_no_block_is_not_a_hand_labelled_page(tmp_path):
    """After the extraction changed, a page whose hand labels all match no block was still
    trained as hand-labelled (a text view of it at three times a page's weight) and scored in
    the four-label figures, with alignment's labels only."""
    from train.dataset import build

    gold = write_wcxb(tmp_path / "mysite", [(4, 20), (5, 21)])
    pages, _ = build(gold, label_files=[], n_jobs=1)
    last = pages[0].page.blocks[-1].key
    labels = tmp_path / "mine.hand.jsonl"
    labels.write_text(json.dumps({"page": "0001", "block": last, "label": "junk"}) + "\n"
                      + json.dumps({"page": "0002", "block": "0" * 16, "label": "junk"}) + "\n")
    pages, report = build(gold, label_files=[labels], n_jobs=1)
    assert [lp.hand_labelled for lp in pages] == [True, False]
    assert pages[0].labels[-1] == "junk" and report["hand labels"] == 1


def test_a_model_of_other_data_is_not_named_and_described_as_the_shipped_one(tmp_path, capsys):
    """`python -m train.shipped --data OTHER` wrote a manifest calling the model the shipped
    one (its version, "WCXB dev split … read from ../shared/data/wcxb-dev"), which `evaluate`,
    `promote` and `serve` then showed; and hand labels matching no block were only a count in
    the first line printed."""
    from train.shipped import DEFAULT_DATA, VERSION, main as shipped

    gold = write_wcxb(tmp_path / "mysite", [(site, 20) for site in range(7)] + [(6, 21), (6, 22)])
    out, card = tmp_path / "mine-1.joblib", tmp_path / "card.md"
    shutil.copyfile(Path(__file__).resolve().parent.parent / "models" / "MODEL_CARD.md", card)
    assert shipped(["--data", str(gold), "--out", str(out), "--card", str(card), "--jobs", "1"]) == 0
    manifest = json.loads(manifest_path(out).read_text())
    assert manifest["version"] == "mine-1" != VERSION
    assert manifest["training_data"]["dataset"] == str(gold.resolve())
    assert gold.resolve() != DEFAULT_DATA.resolve()
    # the committed hand labels name WCXB-dev pages 0001…: none of their blocks is here
    assert "hand labels match no block" in capsys.readouterr().err
    # no hand-labelled page in the holdout: its four-label scores are said to be missing (the
    # run ended in a traceback from scikit-learn after the training)
    assert "blocks_four_label" not in manifest["metrics"]
    assert "four labels: no hand-labelled page in the holdout" in card.read_text()


def test_bootstrap_names_every_ground_truth_file_it_cannot_read(good, tmp_path, capsys):
    """A data set made by hand in the WCXB layout stopped bootstrap at its first malformed
    ground-truth file with a bare JSON error naming no file, or a traceback ('NoneType' object
    has no attribute 'get') for one holding null; now one message names each, nothing written."""
    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    bad = {"0002": b'{"url": "https://x.example/a", "ground_truth": {"main_content": "x"},}',
           "0003": b"null", "0004": b'{"ground_truth": {"main_content": ["a", "b"]}}',
           "0005": b'{"ground_truth": "text"}', "0006": '{"url": "caf\u00e9"}'.encode("latin-1")}
    for ident, data in bad.items():
        (gold / "ground-truth" / f"{ident}.json").write_bytes(data)
    out = tmp_path / "boot.jsonl"
    assert main(["bootstrap", "--data", str(gold), "--model", str(good), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "5 ground-truth file(s) cannot be read" in err and "Traceback" not in err
    for ident in bad:
        assert str(gold / "ground-truth" / f"{ident}.json") in err
    assert "main_content must be a str, not list" in err and "not a JSON object but NoneType" in err
    assert not out.exists()


@pytest.mark.parametrize("gold", ["", "  ", "\u2014", "* * *"])
def test_an_empty_gold_text_is_no_gold_text_to_score_against(gold):
    """A `gold` of "" scored every page 0 word F1 whatever the model kept; one of no word
    ("—") scored 1.0 when nothing was kept and 0.0 otherwise."""
    ex = Example(id="g", text="Harbour regatta returns\nShare this", gold=gold,
                 blocks=[BlockLabel("Harbour regatta returns", "content"), BlockLabel("Share this", "junk")])
    lp, _ = label_page(ex)
    assert lp.gold() == "Harbour regatta returns"  # the labelled blocks, as for no gold field


@pytest.mark.parametrize("args, message", [
    (["--page-types", "articles"], "unknown page type(s) articles; this data set has: article"),
    (["--limit", "-2"], "argument --limit: must be 1 or more, not -2"),
    (["--page-types", " , "], "--page-types names no page type"),
])
def test_bootstrap_refuses_page_types_the_data_set_lacks_and_negative_limits(good, tmp_path, capsys,
                                                                              args, message):
    """A misspelt page type bootstrapped nothing, said "0 pages" and created an empty store; a
    limit of -2 took all pages but the last two."""
    gold = write_wcxb(tmp_path / "mysite", [(4, 20), (5, 21)])
    db = tmp_path / "boot.db"
    try:
        code = main(["bootstrap", "--data", str(gold), "--model", str(good), "--store", str(db), *args])
    except SystemExit as stop:
        code = stop.code
    assert code == 2 and message in capsys.readouterr().err
    assert not db.exists()


def test_bootstrap_refuses_an_out_that_is_a_store_or_cannot_be_written(good, tmp_path, capsys):
    """--out naming an example store replaced it with a JSON Lines file (exit 0), or, named
    as --store too, broke it mid-run with a traceback; an --out in a folder that cannot be
    made failed with a traceback after every page was bootstrapped."""
    from train.examples import parse_example

    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    db = tmp_path / "kept.db"
    ExampleStore(db).add([parse_example({"id": "a", "text": "A harbour line.", "blocks": [
        {"text": "A harbour line.", "label": "content"}]})[0]], labelled_by="me")
    before = db.read_bytes()
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    for extra, said in [(["--out", str(db)], "binary data"),
                        (["--out", str(db), "--store", str(db)], "is the --store"),
                        (["--out", str(blocked / "x.jsonl")], "cannot be written")]:
        assert main(["bootstrap", "--data", str(gold), "--model", str(good), *extra]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and "bootstrapping" not in err
        assert db.read_bytes() == before


def test_bootstrap_does_not_write_over_labels_a_person_gave_unless_told_to(good, tmp_path, capsys):
    """`bootstrap --out` named after a file of hand labels (the same name as last week's
    proposals, since reviewed) replaced them with a model's proposals, and any text file (a
    README tab-completed) with examples; its own earlier proposals it may replace."""
    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    out = tmp_path / "mine.jsonl"
    boot = ["bootstrap", "--data", str(gold), "--model", str(good), "--out", str(out)]
    assert main(boot) == 0  # proposals only: made again without asking
    assert main(boot) == 0
    proposals = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(b["reviewed"] is False for row in proposals for b in row["blocks"])
    # labels written by hand say nothing of review: a person gave them
    reviewed = [{**row, "blocks": [{"text": b["text"], "label": b["label"]} for b in row["blocks"]]}
                for row in proposals]
    hand = "".join(json.dumps(row) + "\n" for row in reviewed)
    notes = "# Harbour site labels\nReview the ferry pages first.\n"
    capsys.readouterr()
    for kept, said in ((hand, "labels a person gave"), (notes, "no labelled examples")):
        out.write_text(kept)
        assert main(boot) == 2
        err = capsys.readouterr().err
        assert said in err and "--overwrite" in err and "bootstrapping" not in err
        assert out.read_text() == kept
    assert main([*boot, "--overwrite"]) == 0
    assert [[(b["text"], b["label"], b["reviewed"]) for b in json.loads(line)["blocks"]]
            for line in out.read_text().splitlines()] == [
        [(b["text"], b["label"], b["reviewed"]) for b in row["blocks"]] for row in proposals]


def test_examples_are_never_written_over_a_model_or_its_manifest(good, models, tmp_path, capsys):
    """`bootstrap --out` and `store export -o` into the models folder (a tab-completed path)
    replaced a model's manifest, or the model, with JSON Lines and exited 0: from then on every
    clean, batch and serve failed to load it."""
    from train.store import main as store_main

    gold = write_wcxb(tmp_path / "mysite", [(4, 20)])
    db = tmp_path / "boot.db"
    assert main(["bootstrap", "--data", str(gold), "--model", str(good), "--store", str(db)]) == 0
    elsewhere = tmp_path / "kept"
    elsewhere.mkdir()
    shutil.copy(good, elsewhere / "mine.joblib")
    shutil.copy(str(good).removesuffix(".joblib") + ".manifest.json", elsewhere / "mine.manifest.json")
    targets = {models / "notes.jsonl": "is in the models folder",
               elsewhere / "mine.manifest.json": "is the manifest of the model beside it",
               elsewhere / "mine.joblib": "binary data"}
    capsys.readouterr()
    for target, said in targets.items():
        before = target.read_bytes() if target.exists() else None
        assert main(["bootstrap", "--data", str(gold), "--model", str(good), "--out", str(target)]) == 2
        assert said in capsys.readouterr().err
        assert store_main(["export", str(db), "-o", str(target)]) == 2
        assert said in capsys.readouterr().err
        assert (target.read_bytes() if target.exists() else None) == before
    load_model(elsewhere / "mine.joblib")


def test_examples_written_to_the_standard_output_stay_whole(good, tmp_path):
    """`bootstrap --out /dev/stdout | …` waited forever (the check for binary data read the
    command's own pipe), and `store export -o /dev/stdout > file` had the summary line written
    over the first example; the summaries now go to standard error there."""
    gold = write_wcxb(tmp_path / "mysite", [(4, 20), (5, 21)])
    db = tmp_path / "boot.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-m", "filter.cli", "bootstrap", "--data", str(gold),
                           "--model", str(good), "--out", "/dev/stdout", "--store", str(db)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == [
        "mysite-0001", "mysite-0002"]
    assert "wrote 2 examples to /dev/stdout" in proc.stderr
    exported = tmp_path / "exported.jsonl"
    with open(exported, "w") as out:
        proc = subprocess.run([sys.executable, "-m", "train.store", "export", str(db), "-o",
                               "/dev/stdout"], stdout=out, stderr=subprocess.PIPE, text=True,
                              timeout=120, env=env)
    assert proc.returncode == 0 and "2 pages written to /dev/stdout" in proc.stderr
    assert [json.loads(line)["id"] for line in exported.read_text().splitlines()] == [
        "mysite-0001", "mysite-0002"]


def test_a_broken_active_pointer_does_not_stop_a_command_that_writes_problems(data, good, models,
                                                                            tmp_path, capsys):
    """Checking that --problems names no model read the active model's pointer, and a pointer
    out of the models folder ended `evaluate` of another model in a traceback."""
    (models / "ACTIVE").write_text("../elsewhere.joblib\n")
    listing = tmp_path / "problems.txt"
    assert main(["evaluate", "--model", str(good), "--examples", str(data / "holdout.jsonl"),
                 "--report", str(tmp_path / "r"), "--cv", "0", "--no-baseline",
                 "--problems", str(listing)]) == 0
    assert listing.exists()
    # a name too long for the file system is said in one line (checking it raised OSError)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(good), "--examples", str(data / "holdout.jsonl"),
                 "--report", str(tmp_path / "r"), "--cv", "0", "--no-baseline",
                 "--problems", str(tmp_path / ("a" * 300))]) == 2
    assert "File name too long" in capsys.readouterr().err


def test_promote_refuses_a_holdout_that_gives_no_measure_to_compare(data, good, models, tmp_path, capsys):
    """Blocks labelled only `noncontent` and no gold text: every measure was "–" on both sides,
    and each check passed, so the candidate was promoted on nothing."""
    holdout = tmp_path / "noncontent.jsonl"
    with open(holdout, "w") as fh:
        for line in (data / "holdout.jsonl").read_text().splitlines():
            ex = json.loads(line)
            ex["blocks"] = [{**b, "label": "noncontent"} for b in ex["blocks"] if b["label"] != "content"]
            fh.write(json.dumps(ex) + "\n")
    assert _promote(good, holdout) == 2
    err = capsys.readouterr().err
    assert "not promoted: the holdout gives no measure to compare the models on" in err
    assert not (models / "ACTIVE").exists()


def test_a_label_used_by_an_exact_match_is_not_lent_to_another_block():
    """A block nobody labelled took the label of a labelled text that had already found its own
    block exactly, without a word."""
    ex = Example(id="t", text="Council approves new ferry timetable for the summer season\n"
                              "Council approves new ferry timetable", origin="f.jsonl", line=2,
                 blocks=[BlockLabel("Council approves new ferry timetable", "teaser")])
    lp, problems = label_page(ex)
    assert lp.labels == ["teaser"] and lp.kept == [1]
    assert [str(p) for p in problems] == [
        "f.jsonl:2: 1 of 2 blocks have no label; left out of training and scoring"]


def test_a_text_labelled_twice_still_labels_its_second_copy_split_or_merged():
    """Furniture shown twice and labelled twice, whose second copy the page now splits (or
    merges with its neighbour): the left-over label was counted as used by the exact match of
    the first copy, and the pieces went unlabelled, the page losing its gold text."""
    note = "This report is for information only and does not constitute legal advice."
    body = "The harbour board met on Tuesday and voted to extend the ferry timetable."
    split = Example(id="s", origin="f.jsonl", line=1,
                    text="\n".join([note, body, "This report is for information only",
                                    "and does not constitute legal advice."]),
                    blocks=[BlockLabel(note, "junk"), BlockLabel(body, "content"), BlockLabel(note, "junk")])
    lp, problems = label_page(split)
    assert lp.labels == ["junk", "content", "junk", "junk"] and not problems
    merged = Example(id="m", origin="f.jsonl", line=2,
                     text="\n".join(["Share on Facebook", "Share on Mastodon", body,
                                     "Share on Facebook Share on Mastodon"]),
                     blocks=[BlockLabel("Share on Facebook", "junk"), BlockLabel("Share on Mastodon", "junk"),
                             BlockLabel(body, "content"), BlockLabel("Share on Facebook", "junk"),
                             BlockLabel("Share on Mastodon", "junk")])
    lp, problems = label_page(merged)
    assert lp.labels == ["junk", "junk", "content", "junk"] and not problems


def test_a_block_made_of_texts_labelled_differently_is_reported_once_as_a_conflict():
    """The two labelled texts of such a block were also reported as matching no block."""
    ex = Example(id="m", text="Share this article | Sign up for our newsletter\nHarbour regatta returns",
                 origin="f.jsonl", line=4,
                 blocks=[BlockLabel("Share this article", "junk"),
                         BlockLabel("Sign up for our newsletter", "teaser"),
                         BlockLabel("Harbour regatta returns", "content")])
    _, problems = label_page(ex)
    assert [str(p) for p in problems] == [
        "f.jsonl:4: block 'Share this article | Sign up for our newsletter' is given different "
        "labels; left out",
        "f.jsonl:4: 1 of 2 blocks have no label; left out of training and scoring"]


def test_a_page_that_gives_no_blocks_says_why_once():
    """Each label of such a page was reported as matching no block, and the reason (what
    trafilatura said) was not shown."""
    ex = Example(id="e", html="<html><body></body></html>", origin="f.jsonl", line=5,
                 blocks=[BlockLabel("Harbour regatta returns", "content"), BlockLabel("Share this", "junk")])
    lp, problems = label_page(ex)
    assert lp is None
    assert [str(p) for p in problems] == [
        "f.jsonl:5: the page gives no blocks (trafilatura found no main text on this page); page skipped"]


def test_an_id_that_is_not_a_whole_number_says_what_an_id_must_be():
    with pytest.raises(ExampleError, match="'id' must be a string or a whole number, not 1.5"):
        parse_example({"id": 1.5, "text": "x", "blocks": []})


def test_the_keep_label_given_to_a_few_blocks_is_no_typo(data, tmp_path, capsys):
    """The rare-label warning asked whether `content` was a typo."""
    few = tmp_path / "few-content.jsonl"
    with open(few, "w") as fh:
        for line in (data / "train.jsonl").read_text().splitlines()[:3]:
            ex = json.loads(line)
            first = next(i for i, b in enumerate(ex["blocks"]) if b["label"] == "content")
            ex["blocks"] = [b for i, b in enumerate(ex["blocks"]) if b["label"] != "content" or i == first]
            fh.write(json.dumps(ex) + "\n")
    _train(tmp_path, "few-content.jsonl", tmp_path / "few.joblib")
    assert "labelled 'content'" not in capsys.readouterr().err


def test_train_with_reviewed_only_says_which_store_pages_it_leaves_out(data, good, tmp_path, capsys):
    """Store pages with no reviewed label were dropped without a word, and a store holding only
    bootstrapped pages ended in "there are no labelled pages" with no hint why."""
    db = tmp_path / "labels.db"
    gold = write_wcxb(tmp_path / "mysite", [(4, 20), (5, 21)])
    assert main(["bootstrap", "--data", str(gold), "--model", str(good), "--store", str(db)]) == 0
    capsys.readouterr()
    assert main(["train", "--store", str(db), "--reviewed-only", "--out", str(tmp_path / "m.joblib")]) == 2
    err = capsys.readouterr().err
    assert f"{db}: 2 of its 2 pages have no reviewed label (--reviewed-only), e.g. 'mysite-0001'; " \
           "pages skipped" in err
    assert "review their labels first" in err and "or drop --reviewed-only" in err
    ExampleStore(db).add([parse_example(example(site, 0))[0] for site in range(4)], labelled_by="alice")
    assert main(["train", "--store", str(db), "--reviewed-only", "--out", str(tmp_path / "m.joblib"),
                 "--folds", "2"]) == 0
    err = capsys.readouterr().err
    assert "read 4 examples" in err and f"{db}: 2 of its 6 pages have no reviewed label" in err


@pytest.mark.parametrize("command", ["train", "evaluate", "promote"])
def test_a_store_option_naming_another_kind_of_file_is_one_line(data, good, models, tmp_path, capsys,
                                                                command):
    """A file that is not a store ended in a traceback; a store given as an example file was
    read as JSON Lines, one warning per line of the database (42,467 of them)."""
    notastore = tmp_path / "notes.txt"
    notastore.write_text("not a database\n" * 200)
    store = tmp_path / "labels.db"
    ExampleStore(store).add([Example(id="a", text="x y", blocks=[BlockLabel("x y", "content")])],
                            labelled_by="alice")
    common = {"train": ["--out", str(tmp_path / "m.joblib")], "evaluate": ["--model", str(good), "--report",
                                                                            str(tmp_path / "r")],
              "promote": [str(good)]}[command]
    files, db = ("--holdout", "--holdout-store") if command == "promote" else ("--examples", "--store")
    assert main([command, *common, db, str(notastore)]) == 2
    assert capsys.readouterr().err == \
        f"noisefilter: {notastore} is not a usable example store: file is not a database\n"
    assert main([command, *common, files, str(store)]) == 2
    assert capsys.readouterr().err == \
        f"noisefilter: {store} is an example store, not a JSON Lines file: give it with {db}\n"


def test_an_examples_file_named_twice_is_read_once_and_said_so(data, tmp_path):
    """Named twice (or through a hard link), every line was "id already given at" its own
    line, a warning per page that never said the file was named twice."""
    from train.examples import read_examples

    again = tmp_path / "again.jsonl"
    os.link(data / "train.jsonl", again)
    once = read_examples([data / "train.jsonl"])
    twice = read_examples([data / "train.jsonl", data / "train.jsonl", again])
    assert [e.id for e in twice.examples] == [e.id for e in once.examples]
    assert [str(p) for p in twice.problems] == [
        f"{data / 'train.jsonl'}: is named twice (as {data / 'train.jsonl'} too): its pages are read once",
        f"{again}: is named twice (as {data / 'train.jsonl'} too): its pages are read once"]


def test_every_page_left_out_and_the_first_20_other_problems_are_shown(capsys):
    """Twenty pages left out took the place of every other problem: none was shown."""
    from train.cli import _show_problems
    from train.examples import Problem

    pages = [Problem(f"f.jsonl:{n}", "'url' is not a URL; page skipped") for n in range(25)]
    blocks = [Problem(f"f.jsonl:{n}", "block 0: unknown label 'Bad'; left out") for n in range(25, 46)]
    _show_problems(pages + blocks)
    err = capsys.readouterr().err
    assert err.count("page skipped") == 25 and err.count("unknown label") == 20
    assert err.endswith("… and 1 more problem (--problems FILE lists them all)\n")


def test_every_problem_can_be_kept_in_a_file(data, tmp_path, capsys):
    """Only the first 20 problems were shown, and the others could not be seen anywhere."""
    lines = (data / "holdout.jsonl").read_text().splitlines()
    misspelt = json.loads(lines[0])
    misspelt["blocks"] = [{"txt": b["text"], "lable": b["label"]} for b in misspelt["blocks"]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([json.dumps(misspelt), *lines[1:]]) + "\n")
    out = tmp_path / "m.joblib"
    main(["train", "--examples", str(bad), "--out", str(out), "--folds", "2"])
    hidden = len(misspelt["blocks"]) - 20  # a problem per block (the page's is shown)
    problems = "problems" if hidden > 1 else "problem"
    assert f"… and {hidden} more {problems} (--problems FILE lists them all)" in capsys.readouterr().err
    listing = tmp_path / "problems.txt"
    main(["train", "--examples", str(bad), "--out", str(out), "--folds", "2", "--problems", str(listing)])
    assert f"… and {hidden} more {problems} (all of them in {listing})" in capsys.readouterr().err
    kept = listing.read_text().splitlines()
    assert len(kept) == len(misspelt["blocks"]) + 1  # and what became of the page
    assert kept[-1] == f"{bad}:1: no labelled block left; page skipped"


def test_evaluate_and_promote_know_the_wcxb_pages_the_shipped_model_was_trained_on(
        good, models, tmp_path, capsys):
    """The shipped model's manifest listed no training pages, so `evaluate` reported none of a
    bootstrapped WCXB-dev holdout as seen, and `promote` compared a candidate with a model
    scored on its own training pages without a word."""
    from conftest import SHARED
    from train.shipped import in_holdout
    from train.wcxb import load_dataset

    source = SHARED / "data" / "wcxb-dev"
    if not source.is_dir():
        pytest.skip("needs ../shared/data/wcxb-dev")
    seen = next(g for g in load_dataset(source)
                if not in_holdout(g.site) and g.page_type == "article" and (g.main_content or "").strip())
    folder = tmp_path / "wcxb-dev"  # the folder's name is bootstrap's data set name, as in ids
    for part, suffix in (("html", ".html.gz"), ("ground-truth", ".json")):
        (folder / part).mkdir(parents=True)
        shutil.copy(source / part / f"{seen.id}{suffix}", folder / part)
    holdout = tmp_path / "holdout.jsonl"
    assert main(["bootstrap", "--data", str(folder), "--out", str(holdout)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(packaged_model_path()), "--examples", str(holdout),
                 "--report", str(tmp_path / "r"), "--cv", "0", "--no-baseline"]) == 0
    assert "1 of 1 pages were in the model's training" in capsys.readouterr().err
    main(["promote", str(good), "--holdout", str(holdout), "--dry-run"])  # compared or not
    assert (f"warning: 1 holdout pages were in the active model's training data (e.g. "
            f"'wcxb-dev-{seen.id}')") in capsys.readouterr().err
    # the seed, the README's first page, as a text example: it is training data too (it
    # scored 1.000 on every figure, nothing said)
    seed = SHARED / "seed" / "000_aeeb56263c09fa58"
    labels = [json.loads(line) for line in seed.with_suffix(".labels.jsonl").open()]
    (tmp_path / "seed.jsonl").write_text(json.dumps({
        "id": "my-first-page", "text": seed.with_suffix(".txt").read_text(encoding="utf-8"),
        "blocks": [{"text": r["text"], "label": r["label"]} for r in labels]}) + "\n")
    assert main(["evaluate", "--model", str(packaged_model_path()), "--examples",
                 str(tmp_path / "seed.jsonl"), "--report", str(tmp_path / "s"), "--cv", "0",
                 "--no-baseline"]) == 0
    assert "1 of 1 pages were in the model's training" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_problems_file_naming_an_input_is_refused_before_it_wipes_it(data, tmp_path, capsys, command):
    """--problems is emptied before the examples are read: naming the examples file by
    mistake left it empty."""
    examples = tmp_path / "mine.jsonl"
    shutil.copy(data / "holdout.jsonl", examples)
    before = examples.read_bytes()
    rest = ["--out", str(tmp_path / "m.joblib")] if command == "train" else ["--report", str(tmp_path / "r")]
    assert main([command, "--examples", str(examples), *rest, "--problems", str(examples)]) == 2
    assert "names a file the command reads or writes" in capsys.readouterr().err
    assert examples.read_bytes() == before


def test_a_problems_file_naming_another_example_file_is_refused_before_it_wipes_it(
        data, tmp_path, capsys):
    """--problems naming an example file the command does not read (the holdout, beside the
    training file) replaced its labelled pages with one line of problems; a problems list
    written before is written over, as a second run does."""
    holdout = tmp_path / "holdout.jsonl"
    shutil.copy(data / "holdout.jsonl", holdout)
    before = holdout.read_bytes()
    train = ["train", "--examples", str(data / "train.jsonl"), "--out", str(tmp_path / "m.joblib")]
    assert main([*train, "--problems", str(holdout)]) == 2
    assert (f"--problems {holdout} holds JSON lines (labelled examples?), not a list of problems"
            in capsys.readouterr().err)
    assert holdout.read_bytes() == before
    saved = tmp_path / "page.html"  # a saved page or notes were emptied with exit 0
    saved.write_text("<!DOCTYPE html>\n<html><body><p>Kept.</p></body></html>\n")
    assert main([*train, "--problems", str(saved)]) == 2
    assert (f"--problems {saved} holds text that is no list of problems"
            in capsys.readouterr().err)
    assert saved.read_text().startswith("<!DOCTYPE html>")
    listing = tmp_path / "problems.txt"
    listing.write_text("train.jsonl:6: not valid JSON (Expecting value at column 49); line skipped\n")
    assert main([*train, "--problems", str(listing)]) == 0
    assert listing.read_text() == ""


def test_a_problems_file_naming_a_model_is_refused_before_it_wipes_it(data, good, models, tmp_path,
                                                                     capsys):
    """--problems naming the model being evaluated or promoted, the active model or any model
    file emptied it, even under `promote --dry-run`: every later `clean` then refused the
    model as not matching its manifest."""
    candidate = tmp_path / "candidate.joblib"
    for suffix in (".joblib", ".manifest.json"):
        shutil.copy(str(good).removesuffix(".joblib") + suffix,
                    str(candidate).removesuffix(".joblib") + suffix)
    elsewhere = tmp_path / "kept" / "other.joblib"
    elsewhere.parent.mkdir()
    shutil.copy(good, elsewhere)
    holdout = ["--examples", str(data / "holdout.jsonl")]
    for args, victim, said in [
        (["promote", str(candidate), "--holdout", str(data / "holdout.jsonl"), "--dry-run"],
         candidate, "reads or writes"),
        (["evaluate", "--model", str(candidate), *holdout, "--report", str(tmp_path / "r")],
         candidate, "reads or writes"),
        (["train", *holdout, "--out", str(tmp_path / "t.joblib")], elsewhere, "binary data"),
        (["train", *holdout, "--out", str(tmp_path / "t.joblib")], models / "ACTIVE",
         "models folder"),
    ]:
        existed = victim.exists()
        before = victim.read_bytes() if existed else None
        assert main([*args, "--problems", str(victim)]) == 2, args
        assert said in capsys.readouterr().err
        assert (victim.read_bytes() if existed else None) == before
        assert victim.exists() == existed


def test_reviewed_only_leaving_the_holdout_empty_says_it_is_the_holdout(data, tmp_path, capsys):
    """`train --reviewed-only --holdout H` with a holdout of bootstrap's unreviewed proposals
    said "no page with a reviewed label was read" right after "read 20 examples" of reviewed
    training pages: nothing said it was the holdout --reviewed-only had emptied."""
    holdout = tmp_path / "proposed.jsonl"
    with open(holdout, "w") as fh:
        for line in (data / "holdout.jsonl").read_text().splitlines():
            ex = json.loads(line)
            for block in ex["blocks"]:
                block["reviewed"] = False
            fh.write(json.dumps(ex) + "\n")
    assert main(["train", "--examples", str(data / "train.jsonl"), "--reviewed-only", "--holdout",
                 str(holdout), "--out", str(tmp_path / "m.joblib")]) == 2
    err = capsys.readouterr().err
    assert "no holdout page with a reviewed label was read" in err
    assert "drop --reviewed-only (it applies to the holdout too)" in err
    # a file is reviewed in the file, not in the labelling page of a store it was never in
    assert 'mark the labels you checked "reviewed": true' in err and "--examples-db" not in err
    assert not (tmp_path / "m.joblib").exists()


def test_reviewed_only_blames_reviewing_only_for_pages_it_left_out(tmp_path, capsys):
    """A file of malformed lines only was answered with "review their labels first"."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    assert main(["train", "--examples", str(bad), "--reviewed-only", "--out", str(tmp_path / "m.joblib")]) == 2
    err = capsys.readouterr().err
    assert "review their labels first" not in err and "no labelled pages" in err


def _relabelled(source: Path, out: Path, pages: int, label) -> Path:
    """The first `pages` examples of `source`, each block's label given by `label(k, block)`
    (k: the page's index)."""
    with open(out, "w") as fh:
        for k, line in enumerate(source.read_text().splitlines()[:pages]):
            ex = json.loads(line)
            for b in ex["blocks"]:
                b["label"] = label(k, b)
            fh.write(json.dumps(ex) + "\n")
    return out


def test_cross_validation_says_which_folds_its_pooled_scores_leave_out(data, good, tmp_path, capsys):
    """A fold that could not be trained (its training sites hold only `content` blocks) was
    left out of the pooled scores with a row of the report's table only: the terminal's
    "cross-validated by site" figures, over the other folds' pages, passed for all of them."""
    one_site = _relabelled(data / "train.jsonl", tmp_path / "one-site.jsonl", 20,
                           lambda k, b: b["label"] if k < 5 else "content")  # site 0's 5 pages
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(good), "--examples", str(one_site), "--cv", "4",
                 "--folds", "2", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    left_out = "pooled over 3 of 4 folds, 15 of 20 pages: fold "
    assert left_out in out and "could not be trained (" in out, out
    assert f"**Warning: {left_out}" in (report / "report.md").read_text()
    cv = json.loads((report / "report.json").read_text())["cross_validation"]
    assert (cv["pages"], cv["pages_scored"]) == (20, 15)


def test_a_cross_validation_no_fold_of_which_could_be_trained_is_warned_about(data, good, tmp_path,
                                                                             capsys):
    """Every fold failing left the summary line without its cross-validated part and said
    nothing else: the reason was in report.json only."""
    only_content = _relabelled(data / "train.jsonl", tmp_path / "content.jsonl", 20,
                               lambda k, b: "content")
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(good), "--examples", str(only_content), "--cv", "2",
                 "--folds", "2", "--report", str(report)]) == 0
    err = capsys.readouterr().err
    said = "cross-validation not run: no fold could be trained (fold 1: "
    assert f"warning: {said}" in err, err
    assert "Not run: no fold could be trained (fold 1: " in (report / "report.md").read_text()


@pytest.mark.parametrize("seed", ["-1", "4294967294"])
def test_a_seed_no_model_can_take_is_refused_before_any_work(data, tmp_path, capsys, seed):
    """A seed of -1 (or 2**32 - 2: the boosters take seed + 1 and + 2) failed after every page
    was segmented, in scikit-learn's words, naming a seed the user never gave."""
    for command in (["train", "--out", str(tmp_path / "m.joblib")],
                    ["evaluate", "--report", str(tmp_path / "r")]):
        with pytest.raises(SystemExit) as exit_:
            main([*command, "--examples", str(data / "train.jsonl"), "--seed", seed])
        assert exit_.value.code == 2
        assert f"--seed: must be from 0 to 4,294,967,293, not {seed}" in capsys.readouterr().err


def test_too_few_blocks_to_split_are_warned_about_with_the_counts(data, tmp_path, capsys):
    """One page (under 40 blocks) gave a model whose trees had one leaf each: it kept every
    block, even on the page it was trained on, and `train` said nothing and exited 0. Two pages
    with fewer than 20 content blocks make a model that sets them apart: no warning there
    (the first version of this warning also fired on such sets)."""
    one = _relabelled(data / "train.jsonl", tmp_path / "one.jsonl", 1, lambda k, b: b["label"])
    out = tmp_path / "one.joblib"
    assert main(["train", "--examples", str(one), "--out", str(out), "--folds", "2"]) == 0
    err = capsys.readouterr().err
    counts = load_model(out).manifest["training_data"]["label_counts"]
    content, rest = counts.pop("content"), sum(counts.values())
    assert content + rest < 40
    assert (f"warning: only {content + rest} labelled blocks ({content} 'content', {rest} others): "
            "the model's trees need at least 40 to split them at all, and with fewer it keeps or "
            "removes every block alike; label more pages") in err
    page = json.loads(one.read_text().splitlines()[0])
    labels = [b.label for b in Cleaner(model=out).clean(page["html"], url=page.get("url")).blocks]
    assert len(set(labels)) == 1, "the warning says what the model does"

    two = _relabelled(data / "train.jsonl", tmp_path / "two.jsonl", 2, lambda k, b: b["label"])
    out = tmp_path / "two.joblib"
    assert main(["train", "--examples", str(two), "--out", str(out), "--folds", "2"]) == 0
    counts = load_model(out).manifest["training_data"]["label_counts"]
    assert counts["content"] < 20 <= sum(counts.values()) - counts["content"]
    assert "to split them at all" not in capsys.readouterr().err
    page = json.loads(two.read_text().splitlines()[0])
    wanted = [b["label"] == "content" for b in page["blocks"]]
    kept = [b.label == "content" for b in Cleaner(model=out).clean(page["html"], url=page.get("url")).blocks]
    assert sum(kept) == sum(wanted) < len(kept)


def test_too_few_blocks_to_tell_the_kinds_of_noise_apart_are_warned_about(data, tmp_path, capsys):
    """With the kinds labelled on two pages only (the rest `noncontent`), the kind stage was a
    single leaf: every removed block became `junk`, no related link was ever listed."""
    mixed = _relabelled(data / "train.jsonl", tmp_path / "mixed.jsonl", 20,
                        lambda k, b: b["label"] if b["label"] == "content" or k < 2 else "noncontent")
    out = tmp_path / "mixed.joblib"
    assert main(["train", "--examples", str(mixed), "--out", str(out), "--folds", "2"]) == 0
    err = capsys.readouterr().err
    counts = load_model(out).manifest["training_data"]["label_counts"]
    kinds = {k: v for k, v in counts.items() if k not in ("content", "noncontent")}
    listed = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    assert (f"warning: only {sum(kinds.values())} blocks of the kinds of noise ({listed}): the model "
            "needs at least 40 together to tell the kinds apart, and with fewer it gives every "
            "removed block one kind; label more pages") in err
    assert "to set them apart" not in err, "content and the rest are plenty"


def test_a_few_noncontent_blocks_are_no_typo(data, tmp_path, capsys):
    """`noncontent` is the documented label of a block whose kind nobody labelled; two of them
    were warned about as "a class of its own: a typo?", which it never becomes beside kinds."""
    _relabelled(data / "train.jsonl", tmp_path / "few-noncontent.jsonl", 4,
                lambda k, b: "noncontent" if k < 2 and b["text"].startswith("©") else b["label"])
    _train(tmp_path, "few-noncontent.jsonl", tmp_path / "few.joblib")
    err = capsys.readouterr().err
    assert "noncontent 2" in err and "labelled 'noncontent'" not in err


def test_examples_can_come_from_a_pipe_and_are_recorded_without_a_hash(data, tmp_path):
    """`--examples <(jq …)` and `/dev/stdin` were "not found" (only regular files were taken),
    though `python -m train.store import` reads them; and hashing a pipe read once already
    would record the hash of no bytes."""
    out = tmp_path / "piped.joblib"
    four = _relabelled(data / "train.jsonl", tmp_path / "four.jsonl", 4, lambda k, b: b["label"])
    run = subprocess.run(
        ["bash", "-c", 'exec "$0" -m filter.cli train --examples <(cat "$1") --out "$2" --folds 2',
         sys.executable, str(four), str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    [record] = load_model(out).manifest["training_data"]["files"]
    assert record["path"].startswith("/dev/fd/") and record["sha256"] is None
    assert load_model(out).manifest["training_data"]["pages"] == 4


def test_files_rewritten_while_a_command_runs_are_recorded_as_read(data, tmp_path, monkeypatch):
    """The manifest, the holdout's metrics and evaluate's report hashed the example files when
    the command ended: an export rewriting them meanwhile (a labeller's next save of all.jsonl)
    tied the model to bytes it never read. They record the bytes read."""
    import train.evaluation
    import train.training

    examples = _relabelled(data / "train.jsonl", tmp_path / "all.jsonl", 8, lambda k, b: b["label"])
    holdout = tmp_path / "holdout.jsonl"
    shutil.copy(data / "holdout.jsonl", holdout)
    read = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (examples, holdout)}

    def rewritten(real):
        def run(*args, **kwargs):
            for path in (examples, holdout):  # one page fewer, as a later export could write
                path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
            return real(*args, **kwargs)
        return run

    monkeypatch.setattr(train.training, "fit", rewritten(train.training.fit))
    out = tmp_path / "m.joblib"
    assert main(["train", "--examples", str(examples), "--holdout", str(holdout), "--out", str(out),
                 "--folds", "2"]) == 0
    manifest = load_model(out).manifest
    assert manifest["training_data"]["files"] == [{"path": str(examples), "sha256": read[examples]}]
    assert manifest["metrics"]["holdout"]["files"] == [{"path": str(holdout),
                                                        "sha256": read[holdout]}]

    read[holdout] = hashlib.sha256(holdout.read_bytes()).hexdigest()
    monkeypatch.setattr(train.evaluation, "evaluate", rewritten(train.evaluation.evaluate))
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(out), "--examples", str(holdout), "--report",
                 str(report), "--cv", "0", "--no-baseline"]) == 0
    rep = json.loads((report / "report.json").read_text())
    assert rep["data"]["files"] == [{"path": str(holdout), "sha256": read[holdout]}]


def test_an_examples_folder_is_said_to_be_a_folder(tmp_path, capsys):
    assert main(["train", "--examples", str(tmp_path), "--out", str(tmp_path / "m.joblib")]) == 2
    assert f"example file {tmp_path} is a folder" in capsys.readouterr().err


def test_the_train_module_runs_the_commands_it_holds():
    """`python -m train.cli train …` printed nothing and exited 0, with no model written."""
    run = subprocess.run([sys.executable, "-m", "train.cli", "train", "--examples", "absent.jsonl",
                          "--out", "absent.joblib"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr == "noisefilter: example file(s) not found: absent.jsonl\n"


def test_a_problems_file_naming_a_models_manifest_is_refused_before_it_wipes_it(data, good, tmp_path,
                                                                               capsys):
    """Another model's manifest, text beside its model, was emptied by --problems: that model no
    longer loaded. And train's own new manifest took the place of the problems written there."""
    other = tmp_path / "other.joblib"
    shutil.copy(good, other)
    shutil.copy(str(good).removesuffix(".joblib") + ".manifest.json", tmp_path / "other.manifest.json")
    before = (tmp_path / "other.manifest.json").read_bytes()
    holdout = ["--examples", str(data / "holdout.jsonl")]
    assert main(["evaluate", "--model", str(good), *holdout, "--report", str(tmp_path / "r"),
                 "--problems", str(tmp_path / "other.manifest.json")]) == 2
    assert "is the manifest of the model beside it" in capsys.readouterr().err
    assert (tmp_path / "other.manifest.json").read_bytes() == before
    load_model(other)
    new = tmp_path / "new.joblib"
    assert main(["train", *holdout, "--out", str(new), "--problems", str(tmp_path / "new.manifest.json")]) == 2
    assert "names a file the command reads or writes" in capsys.readouterr().err
    assert not new.exists()


def test_two_kinds_of_noise_with_too_few_blocks_are_warned_about():
    from collections import Counter

    from train.training import too_few_to_learn

    said = too_few_to_learn(Counter(content=200, related=5, junk=5), "content")
    assert len(said) == 1 and "kinds of noise (junk 5, related 5)" in said[0]

