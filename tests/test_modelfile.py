"""Model files are only loaded when their bytes match the manifest."""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from filter import Cleaner, ModelError
from filter.modelfile import active_model_path, load_model, manifest_path, read_manifest


@pytest.fixture
def model_copy(tmp_path):
    src = active_model_path()
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    shutil.copy(manifest_path(src), manifest_path(dst))
    return dst


def test_shipped_model_has_a_complete_manifest():
    manifest = read_manifest(active_model_path())
    for key in ("sha256", "sklearn_version", "noisefilter_version", "trafilatura_version",
                "lxml_version", "numpy_version", "python_version", "labels", "training_data"):
        assert key in manifest, key
    assert manifest["labels"] == ["content", "junk", "related", "teaser"]


def test_tampered_model_is_refused(model_copy):
    with open(model_copy, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelError, match="does not match its manifest"):
        load_model(model_copy)


def test_model_without_manifest_is_refused(model_copy):
    manifest_path(model_copy).unlink()
    with pytest.raises(ModelError, match="no manifest"):
        Cleaner(model=model_copy)


def test_a_file_that_is_no_model_is_said_to_be_none(tmp_path, capsys):
    """`--model labels.db` (the example store named by mistake) was refused as a model with
    "no manifest", which sent the user looking for one."""
    from train.store import ExampleStore

    store = tmp_path / "labels.db"
    ExampleStore(store)
    with pytest.raises(ModelError, match=r"labels.db is not a model file \(a model is a .joblib "
                                         r"file with a .manifest.json of its name beside it\)"):
        Cleaner(model=store)
    from filter.cli import main
    assert main(["clean", "--model", str(store), "--text", str(store)]) == 3
    assert "is not a model file" in capsys.readouterr().err


def test_model_from_another_sklearn_minor_version_is_refused(model_copy):
    """The minor version is what keeps a pickle loadable: one of the same major version and
    another minor (1.8 under 1.9) is refused as much as one of another major version."""
    import sklearn

    major, minor = (int(n) for n in sklearn.__version__.split(".")[:2])
    mpath = manifest_path(model_copy)
    manifest = json.loads(mpath.read_text())
    for other in ("0.24.2", f"{major}.{minor - 1}.0", f"{major}.{minor + 1}.0"):
        mpath.write_text(json.dumps({**manifest, "sklearn_version": other}))
        with pytest.raises(ModelError, match=f"scikit-learn {re.escape(other)}"):
            load_model(model_copy)


def test_a_model_from_another_patch_release_loads_without_scikit_learns_warning(monkeypatch):
    """The minor version is what is pinned (pyproject, the manifest check): with scikit-learn
    1.9.0 a model made with 1.9.1 loads, and scikit-learn's warning that it "might lead to
    breaking code or invalid results" came three times at every command."""
    import gc
    import warnings

    import sklearn.base

    # what unpickling compares each estimator's recorded version with
    monkeypatch.setattr(sklearn.base, "__version__", sklearn.__version__ + ".post9")
    gc.collect()  # a file another test left open warns when collected: not here
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(active_model_path())
    assert [str(w.message) for w in caught] == []
    # (scikit-learn does warn about it, outside the loader)
    import io

    import joblib
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        joblib.load(io.BytesIO(active_model_path().read_bytes()))
    assert any("Trying to unpickle estimator" in str(w.message) for w in caught)


def test_a_manifest_that_does_not_name_its_scikit_learn_is_refused_in_plain_words(model_copy):
    # it said "install scikit-learn an unknown version"
    mpath = manifest_path(model_copy)
    manifest = json.loads(mpath.read_text())
    del manifest["sklearn_version"]
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="does not say which scikit-learn made it; retrain it$"):
        load_model(model_copy)


@pytest.mark.parametrize("content", [b"[1, 2]", b"null", b"\xff\xfe{", b"{not json"])
def test_a_malformed_manifest_is_a_model_error(model_copy, content):
    """Not a ValueError or AttributeError: `noisefilter batch` and the service report a
    ModelError as a model that cannot be loaded (exit status 3, a clear message)."""
    manifest_path(model_copy).write_bytes(content)
    with pytest.raises(ModelError, match="manifest"):
        Cleaner(model=model_copy)


def test_a_manifest_that_names_other_labels_is_refused(model_copy):
    mpath = manifest_path(model_copy)
    manifest = json.loads(mpath.read_text())
    manifest["labels"] = ["content", "spam"]
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="its manifest says"):
        load_model(model_copy)


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        Cleaner(model=tmp_path / "nope.joblib")


@pytest.mark.parametrize("model, error, words", [
    ("/dev/null", ModelError, "/dev/null is not a regular file"),
    (123, TypeError, "model is the path of a model file (str or os.PathLike), not int"),
    (b"models/x.joblib", TypeError, "not bytes"),
])
def test_a_model_argument_that_is_no_model_file_says_what_it_is(model, error, words):
    """/dev/null was "not found" (it is there: no regular file); bytes and numbers gave
    pathlib's and os.fspath's words, not which argument was wrong."""
    with pytest.raises(error) as caught:
        Cleaner(model=model)
    assert words in str(caught.value)


def test_model_fitted_on_other_features_is_refused(tmp_path):
    """A model from an earlier noisefilter reads other feature columns: loading it fails with a
    message that says to retrain, not later with a shape error inside scikit-learn."""
    from filter.modelfile import save_model

    old = load_model(active_model_path()).model
    old.feature_schema_ = 1
    save_model(old, tmp_path / "old.joblib", {"version": "old-1"})
    with pytest.raises(ModelError, match="feature schema 1.*retrain"):
        Cleaner(model=tmp_path / "old.joblib")
    # one from a newer noisefilter cannot be retrained into loading: upgrading is the remedy
    old.feature_schema_ = 99
    save_model(old, tmp_path / "new.joblib", {"version": "new-1"})
    with pytest.raises(ModelError, match="feature schema 99.*newer noisefilter: upgrade"):
        Cleaner(model=tmp_path / "new.joblib")


def test_a_model_file_is_the_same_bytes_whatever_zlib_writes(tmp_path, monkeypatch):
    """Retraining the shipped model must re-make its file, sha256 included, on any machine with
    the same library versions. zlib builds differ in the bytes they write for the same data
    (zlib-ng, the system zlib of some distributions): the model was saved through zlib, so its
    sha256 moved with the machine. Here a zlib that compresses at another level stands in for
    one: any zlib that writes other bytes for the same data would do."""
    import zlib

    from filter.modelfile import save_model

    model = load_model(active_model_path()).model
    first = save_model(model, tmp_path / "here.joblib", {"version": "here"})
    built_otherwise = zlib.compressobj
    monkeypatch.setattr(zlib, "compressobj", lambda level=-1, *rest: built_otherwise(1, *rest))
    second = save_model(model, tmp_path / "there.joblib", {"version": "there"})
    assert second["sha256"] == first["sha256"]
    assert Cleaner(model=tmp_path / "there.joblib").clean_text("One line.").model_version == "there"


def test_a_model_file_saved_compressed_by_an_earlier_version_still_loads(tmp_path):
    """noisefilter 0.9.3 and earlier wrote model files through zlib: a user's own retrained
    model must keep loading after an upgrade."""
    import hashlib

    import joblib

    from filter.modelfile import save_model

    model = load_model(active_model_path()).model
    path = tmp_path / "mine.joblib"
    save_model(model, path, {"version": "mine-1"})
    joblib.dump(model, path, compress=3)  # as earlier versions wrote it
    fields = json.loads(manifest_path(path).read_text())
    fields["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest_path(path).write_text(json.dumps(fields))
    assert path.read_bytes()[:1] == b"x"  # a zlib stream
    result = Cleaner(model=path).clean_text("One line.\nAnother line.")
    assert result.model_version == "mine-1"


def test_a_truncated_model_file_says_why_it_cannot_be_loaded(tmp_path):
    """A pickle cut early raised EOFError(), whose message is empty: "could not be loaded: "
    ended the sentence with nothing."""
    from filter.modelfile import save_model

    model = load_model(active_model_path()).model
    save_model(model, tmp_path / "cut.joblib", {"version": "cut-1"})
    data = (tmp_path / "cut.joblib").read_bytes()
    (tmp_path / "cut.joblib").write_bytes(data[:50])
    manifest = tmp_path / "cut.manifest.json"
    import hashlib
    import json
    fields = json.loads(manifest.read_text())
    fields["sha256"] = hashlib.sha256(data[:50]).hexdigest()
    manifest.write_text(json.dumps(fields))
    with pytest.raises(ModelError, match=r"could not be loaded: \w"):
        Cleaner(model=tmp_path / "cut.joblib")


def test_an_empty_path_a_folder_or_a_pickle_of_something_else_is_named_as_such(tmp_path):
    """What a mistyped option gives: "model file not found: ." for an empty path, "not found"
    for a folder, and a feature-schema complaint for a pickle of another object once a
    manifest matched it said nothing of what was wrong."""
    from filter.modelfile import save_model

    with pytest.raises(ModelError, match="no model file named"):
        Cleaner(model="")
    with pytest.raises(ModelError, match="is a folder, not a model file"):
        Cleaner(model=tmp_path)
    save_model({"not": "a model"}, tmp_path / "dict.joblib", {"version": "dict-1"})
    with pytest.raises(ModelError, match="holds a dict, not a noisefilter model"):
        Cleaner(model=tmp_path / "dict.joblib")


@pytest.mark.parametrize("make", [
    lambda p: p.mkdir(),                      # a folder
    lambda p: p.write_bytes(b"\xff\xfe\xfa"),  # not text
])
def test_an_active_pointer_that_cannot_be_read_is_a_model_error(tmp_path, monkeypatch, make):
    """An ACTIVE that is a folder, not UTF-8 or unreadable raised IsADirectoryError or
    UnicodeDecodeError, which `except NoiseFilterError` and the CLI's exit 2 did not catch."""
    make(tmp_path / "ACTIVE")
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelError, match="the active model's name"):
        active_model_path()


def test_a_bare_model_name_means_the_models_folders_file_before_one_here(tmp_path, monkeypatch):
    """A pickle left in the current folder under a model's name, with a manifest to match,
    was loaded (and its code run) in place of the models folder's model of that name."""
    from filter.modelfile import resolve_model_path
    folder, here = tmp_path / "models", tmp_path / "work"
    folder.mkdir()
    here.mkdir()
    for place in (folder, here):
        (place / "mine.joblib").write_bytes(b"x")
    (here / "only-here.joblib").write_bytes(b"x")
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(folder))
    monkeypatch.chdir(here)
    assert resolve_model_path("mine.joblib") == folder / "mine.joblib"
    assert resolve_model_path("./mine.joblib").resolve() == (here / "mine.joblib").resolve()
    assert resolve_model_path("only-here.joblib").resolve() == (here / "only-here.joblib").resolve()


def test_the_shipped_models_name_names_it_with_a_model_of_ones_own_active(tmp_path, monkeypatch):
    """With a promoted model active, `clean --model noisefilter-wcxb.joblib` (to compare with
    the shipped model) was "model file not found" here and in the models folder."""
    from filter.modelfile import SHIPPED_MODEL, load_model, packaged_model_path, resolve_model_path
    folder, here = tmp_path / "models", tmp_path / "work"
    folder.mkdir()
    here.mkdir()
    (folder / "ACTIVE").write_text("mine.joblib\n")
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(folder))
    monkeypatch.chdir(here)
    assert resolve_model_path(SHIPPED_MODEL) == packaged_model_path()
    assert load_model(SHIPPED_MODEL).path == packaged_model_path()
    (here / SHIPPED_MODEL).write_bytes(b"x")  # a file of that name here is still that file
    assert resolve_model_path(SHIPPED_MODEL).resolve() == (here / SHIPPED_MODEL).resolve()


def test_a_symbolic_link_to_a_model_loads_it_with_the_manifest_beside_its_target(model_copy, tmp_path):
    """A `current.joblib` link to the model deployed, a common habit, was refused as having no
    manifest: the manifest was looked for beside the link."""
    deployed = tmp_path / "deploy"
    deployed.mkdir()
    link = deployed / "current.joblib"
    link.symlink_to(model_copy)
    cleaner = Cleaner(model=link)
    assert cleaner.loaded.manifest == read_manifest(model_copy)
    assert cleaner.clean_text("The council met on Tuesday to agree the budget.").blocks


def test_a_symbolic_link_without_a_target_or_in_a_loop_is_still_refused(tmp_path):
    dangling = tmp_path / "current.joblib"
    dangling.symlink_to(tmp_path / "gone.joblib")
    with pytest.raises(ModelError, match="not found"):
        Cleaner(model=dangling)
    loop = tmp_path / "loop.joblib"
    loop.symlink_to(loop)
    with pytest.raises(ModelError):
        Cleaner(model=loop)
    with pytest.raises(ModelError, match="no manifest"):
        read_manifest(loop)


def test_the_shipped_model_is_found_beside_a_crawlers_own_models_module(tmp_path):
    """`import models` found the shipped model's folder: run in a crawler's folder holding its
    own `models.py` (or a `models/` package), `clean()` looked for the model there and failed
    with "model file not found"."""
    (tmp_path / "models.py").write_text("class Article: pass\n")
    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "NOISEFILTER_MODELS_DIR"}
    env["PYTHONPATH"] = str(repo)
    run = subprocess.run(
        [sys.executable, "-c", "from filter import clean; "
         "print(clean('<html><body><p>' + 'The harbour bridge reopened on Saturday. ' * 5 + "
         "'</p></body></html>').model_version)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == Cleaner().model_version


def _kept_out() -> list[str]:
    """A command prefix under which file modes bind: root's override of them dropped (CI runs
    as root, for whom a mode-000 file is readable)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: file modes cannot be made to bind")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}"]


@pytest.mark.parametrize("locked", ["model file", "models folder"])
def test_a_model_this_user_cannot_read_is_a_one_line_error(model_copy, tmp_path, article_html,
                                                          locked):
    """A model promoted by another user, or a mode-600 file, gave a PermissionError traceback
    and exit 1 from every command; a model that cannot be loaded is exit 3, `clean`'s as
    `serve`'s (a page that cannot be cleaned is `clean`'s 2)."""
    page = tmp_path.parent / f"{tmp_path.name}-page.html"  # outside the folder locked below
    page.write_text(article_html)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    if locked == "model file":
        model_copy.chmod(0)
        model = ["--model", str(model_copy)]
    else:
        env["NOISEFILTER_MODELS_DIR"] = str(model_copy.parent)
        model_copy.parent.chmod(0)
        model = []
    try:
        for command, status in ((["clean", str(page)], 3), (["serve", "--port", "0"], 3)):
            run = subprocess.run([*_kept_out(), sys.executable, "-m", "filter.cli", *command, *model],
                                 env=env, capture_output=True, text=True, timeout=120)
            assert run.returncode == status, run.stderr
            assert "Traceback" not in run.stderr and "Permission denied" in run.stderr, run.stderr
            assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    finally:
        model_copy.chmod(0o644)
        model_copy.parent.chmod(0o755)
