"""Model files: a joblib pickle plus a JSON manifest beside it, checked before loading.

A joblib file is a pickle, and loading a pickle runs code: a model is only loaded from the models
folder or from a path the caller names explicitly, and only when its sha256 matches the manifest.
The manifest also records the scikit-learn and noisefilter versions it was made with (a pickle is
tied to the scikit-learn version; loading checks it), those of Python, trafilatura, lxml and
numpy (what the blocks and features were computed with: another trafilatura may cut other
blocks, so a model's figures are those versions'), the label set, the training data and the metrics: the
shipped model's holdout scores (`train.shipped`), a model's of `noisefilter train --holdout`
(none without one: its scores are then in `noisefilter evaluate`'s report and, once promoted,
in the models folder's `promotions.jsonl`).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import platform
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from . import __version__
from .errors import ModelError
from .files import sync_file, temporary_beside, write_synced
from .model import check_schema

try:
    import fcntl
except ImportError:  # Windows has none: saves there go unlocked
    fcntl = None

LOGGER = logging.getLogger(__name__)
MANIFEST_SUFFIX = ".manifest.json"
SHIPPED_MODEL = "noisefilter-wcxb.joblib"


def is_model_file_name(name: str) -> bool:
    """Whether `name` is a bare model file name, as `train --out` writes one, promotion
    installs one and the service reloads one by: ``*.joblib``, not hidden, no path separator,
    printable (any script, with its combining marks: "मॉडल v2.joblib", "my model (v2).joblib"),
    at most 238 bytes (a file name's limit is 255, and its manifest is written through a
    temporary ``.NAME.manifest.json.XXXXXXXX``, 17 bytes longer)."""
    return (isinstance(name, str) and name.endswith(".joblib") and name != ".joblib"
            and not name.startswith(".") and "/" not in name and "\\" not in name
            and name.isprintable() and len(name.encode("utf-8", "surrogatepass")) <= 238)


def models_dir() -> Path:
    """The models folder: `$NOISEFILTER_MODELS_DIR`, else the `models` package shipped with
    noisefilter (`_packaged_models`)."""
    env = os.environ.get("NOISEFILTER_MODELS_DIR")
    if env:
        return Path(env)
    return _packaged_models()


def _packaged_models() -> Path:
    """The `models` package installed with noisefilter, which holds the shipped model files:
    beside the `filter` package, in an editable and in a regular install alike. Not found by
    `import models`: a crawler's own `models.py` or `models/` package in the folder Python runs
    in comes first on `sys.path`, and `clean()` then looked for the model in the crawler's
    folder ("model file not found")."""
    return Path(__file__).absolute().parent.parent / "models"


# the models folders that are no folder, warned about already (`active_model_path`)
_WARNED: set[Path] = set()


def active_model_path() -> Path:
    """The model `clean()` uses: the one named in the folder's ``ACTIVE`` file, else the shipped
    one. A `$NOISEFILTER_MODELS_DIR` that is no folder (a typo, a volume not mounted) is logged
    as a warning: the shipped model is then used, which whoever set it rarely means (the
    service refuses to start on it)."""
    folder = models_dir()
    if os.environ.get("NOISEFILTER_MODELS_DIR") and not folder.is_dir() and folder not in _WARNED:
        _WARNED.add(folder)  # once: a command looks the model up more than once
        LOGGER.warning("NOISEFILTER_MODELS_DIR is %s, which is not a folder: the shipped model is "
                       "used", folder)
    pointer = folder / "ACTIVE"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):  # no pointer, or no folder
        name = ""
    except (OSError, UnicodeDecodeError) as err:  # a folder, unreadable (its folder too), not text
        raise ModelError(f"{pointer} (the active model's name) cannot be read: {err}") from err
    if name:
        # a bare file name only: the pointer must not lead out of the models folder
        if Path(name).name != name or name.startswith("."):
            raise ModelError(f"{pointer} names {name!r}, which is not a file in the models folder")
        return folder / name
    return shipped_model_path()


def packaged_model_path() -> Path:
    """The shipped model's file in the installed `models` package."""
    return _packaged_models() / SHIPPED_MODEL


def shipped_model_path() -> Path:
    """The shipped default, which `clean()` uses when no ``ACTIVE`` pointer names a model: a file
    of the shipped model's name in the models folder, else the one in the package."""
    in_folder = models_dir() / SHIPPED_MODEL
    return in_folder if in_folder.exists() else packaged_model_path()


def manifest_path(model_path: Path) -> Path:
    """Where the manifest of a model file written at `model_path` goes: beside it."""
    return model_path.with_name(model_path.name.removesuffix(".joblib") + MANIFEST_SUFFIX)


def manifest_of(model_path: Path) -> Path:
    """The manifest describing the model file at `model_path`: beside it, or, for a symbolic
    link with none beside it (a `current.joblib` pointing at the model deployed, a common
    habit), beside the file the link leads to; such a link was refused as having no manifest."""
    own = manifest_path(model_path)
    if not own.exists() and model_path.is_symlink():
        try:
            return manifest_path(model_path.resolve())
        except (OSError, RuntimeError):  # a link loop: refused as it was
            pass
    return own


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class LoadedModel:
    model: object
    manifest: dict
    path: Path

    @property
    def version(self) -> str:
        return str(self.manifest.get("version") or self.path.stem)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Holds an exclusive lock on `folder` (flock on the folder itself: no lock file is left),
    so that two processes saving the same model do not interleave their renames. Where no
    such lock can be had (no `fcntl`, a file system that refuses flock on a folder) the
    renames go ahead unlocked: a finished training is not thrown away for want of a lock."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        fd = None
    try:
        if fd is not None and fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as err:
                LOGGER.debug("saving without a lock on %s: %s", folder, err)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def save_model(model: object, path: str | Path, manifest: dict) -> dict:
    """Write the model and its manifest: both are written in full to temporary files first,
    then renamed over the old pair one right after the other, under a lock on the folder. A
    reader never sees half a file; an interruption while writing leaves the old pair, and two
    trainings saving to the same path leave one's pair, not one's model beside the other's
    manifest (the manifest was written after the model was in place, so a failure in between
    left neither model loadable).

    The model is pickled without compression: joblib compresses through the zlib Python was
    built with, and zlib-ng (the system zlib of some distributions) writes other bytes for the
    same model, so a retrained model's sha256 depended on the machine. Uncompressed, the same
    training gives the same file anywhere with the same library versions (a file about 2.3
    times larger, which loads a little faster)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_model = temporary_beside(path)
    tmp_manifest = None
    try:
        joblib.dump(model, tmp_model)
        sync_file(tmp_model)
        full = {
            "version": manifest.get("version") or path.stem,
            "file": path.name,
            "sha256": sha256_file(tmp_model),
            "sklearn_version": sklearn.__version__,
            "noisefilter_version": __version__,
            **_made_with(),
            "labels": [str(c) for c in getattr(model, "classes_", [])],
            **{k: v for k, v in manifest.items() if k != "version"},
        }
        tmp_manifest = temporary_beside(manifest_path(path))
        write_synced(tmp_manifest, json.dumps(full, indent=2, sort_keys=True).encode("utf-8"))
        with _folder_lock(path.parent):
            os.replace(tmp_model, path)
            os.replace(tmp_manifest, manifest_path(path))
    except BaseException:
        for tmp in (tmp_model, tmp_manifest):
            if tmp:
                tmp.unlink(missing_ok=True)
        raise
    return full


def _made_with() -> dict[str, str]:
    """The versions, beside scikit-learn's, that a model's blocks and figures depend on: of the
    modules imported (the distribution installed may be another under a PYTHONPATH)."""
    import lxml
    import numpy
    import trafilatura

    return {"python_version": platform.python_version(),
            **{f"{m.__name__}_version": str(m.__version__) for m in (trafilatura, lxml, numpy)}}


def read_manifest(path: str | Path) -> dict:
    mpath = manifest_of(Path(path))
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        if not str(path).endswith(".joblib"):  # `--model labels.db`, an example file: no model
            raise ModelError(f"{path} is not a model file (a model is a .joblib file with a "
                             f"{MANIFEST_SUFFIX} of its name beside it)") from err
        raise ModelError(f"model {path} has no manifest ({mpath.name}); refusing to load it") from err
    except (ValueError, OSError) as err:  # not JSON, not UTF-8, a folder, unreadable
        raise ModelError(f"manifest {mpath} cannot be read as JSON: {err}") from err
    if not isinstance(manifest, dict):
        raise ModelError(f"manifest {mpath} is not a JSON object")
    return manifest


def _model_path(path: str | Path) -> Path:
    """`path` as a Path (`resolve_model_path`); an empty one (an option left blank) is refused,
    not read as the current folder, and a bare name found in neither place names both (the
    message named only the current folder's file, though the help says a bare name is looked
    up in the models folder first). Anything but a path is a `TypeError` that says what is
    taken (bytes gave pathlib's words, and a number os.fspath's)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"model is the path of a model file (str or os.PathLike), "
                        f"not {type(path).__name__}")
    if not str(path).strip():
        raise ModelError("no model file named (an empty path)")
    resolved = resolve_model_path(path)
    if _is_bare(path) and not resolved.exists() and not resolved.is_symlink():
        raise ModelError(f"model file not found: {os.path.abspath(resolved)} (nor "
                         f"{models_dir() / resolved.name}, in the models folder)")
    return resolved


def resolve_model_path(path: str | Path) -> Path:
    """The model file a name means: a bare file name is a model in the models folder when the
    folder holds one of that name (`noisefilter clean --model mysite-1.joblib` after promoting
    it, as `serve --model` takes it), else a file here; any other path is the path as given.
    The folder comes first: a pickle someone left in the current folder under a model's name
    (with a manifest to match, which they can write too) would otherwise run its code when
    loaded; ``./name`` names the file here. The shipped model's name, found in neither the
    folder nor here, is the shipped model (`shipped_model_path`): with a model of one's own
    active, the shipped one had no name but its path in the installed package, to compare
    against or clean with."""
    bare = _is_bare(path)
    path = Path(path)
    if bare and (models_dir() / path.name).is_file():
        return models_dir() / path.name
    if bare and path.name == SHIPPED_MODEL and not path.exists():
        return shipped_model_path()
    return path


def _is_bare(path: str | Path) -> bool:
    """Whether `path` is a bare file name ("./x" is a path: the file here)."""
    return not any(sep in str(path) for sep in (os.sep, os.altsep) if sep)


def check_model_file(path: str | Path) -> dict:
    """The manifest of a model file, after checking that the file's bytes match its sha256 and
    that it was made with this scikit-learn's major.minor version: what can be known of a
    model without unpickling it (the service checks this before it starts any process)."""
    with _readable(path):
        path = _existing(_model_path(path))
        actual = sha256_file(path)
    return _checked_manifest(path, actual)


@contextmanager
def _readable(path: str | Path) -> Iterator[None]:
    """Finding and reading a model file, where permissions can keep this user out of the file or
    a folder on its way (a model promoted by another user, a mode-600 file): the error is the
    `ModelError` every command reports in one line (`clean`, `batch`, `serve` exit 3), not a
    traceback."""
    try:
        yield
    except OSError as err:
        raise ModelError(f"model {path} cannot be read: {err}") from err


def _existing(path: Path) -> Path:
    if path.is_dir():
        raise ModelError(f"model {path} is a folder, not a model file")
    if path.exists() and not path.is_file():  # /dev/null, a named pipe: there, yet no model
        raise ModelError(f"model {path} is not a regular file")
    if not path.is_file():
        # the whole path: Path drops the "./" of "./mysite-1.joblib", and the message then
        # named the models folder's file as much as the one here
        raise ModelError(f"model file not found: {os.path.abspath(path)}{_named_active(path)}")
    return path


def _named_active(path: Path) -> str:
    """What to do when the missing model is the one the models folder's ``ACTIVE`` names (its
    file deleted): every command failed on "model file not found" without saying why that
    file was wanted or how to go back to a model that is there."""
    pointer = models_dir() / "ACTIVE"
    try:
        named = pointer.read_text(encoding="utf-8").strip()
        if not named or not path.parent.samefile(pointer.parent) or path.name != named:
            return ""
    except (OSError, UnicodeDecodeError):
        return ""
    return (f" ({pointer} names it as the active model: put the file back, run `noisefilter "
            f"rollback`, or empty {pointer} to use the shipped model)")


def _checked_manifest(path: Path, actual: str) -> dict:
    """`path`'s manifest, once the sha256 of its bytes (`actual`) and the scikit-learn version
    it records match."""
    manifest = read_manifest(path)
    if manifest.get("sha256") != actual:
        raise ModelError(f"model {path} does not match its manifest (sha256 {actual[:12]}… "
                         f"vs {str(manifest.get('sha256'))[:12]}…); refusing to load it")
    made_with = str(manifest.get("sklearn_version") or "")
    if not made_with:
        raise ModelError(f"the manifest of model {path} does not say which scikit-learn made it; "
                         "retrain it")
    if made_with.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        raise ModelError(f"model {path} was made with scikit-learn {made_with}, this is "
                         f"{sklearn.__version__}; retrain it or install scikit-learn {made_with}")
    return manifest


def load_model(path: str | Path) -> LoadedModel:
    """Load a model after the checks of `check_model_file` and check that it reads the features
    this noisefilter computes. The bytes checked are the bytes unpickled (read once: a file
    replaced between a check and a second read would be loaded unchecked)."""
    with _readable(path):
        path = _existing(_model_path(path))
        data = path.read_bytes()
    manifest = _checked_manifest(path, hashlib.sha256(data).hexdigest())
    try:
        with warnings.catch_warnings():
            # its major.minor version is checked above: another patch release of it is
            # supported, and scikit-learn's warning that it "might lead to invalid results"
            # came three times at every command and start of a library user's program
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            model = joblib.load(io.BytesIO(data))
    except Exception as err:
        raise ModelError(f"model {path} could not be loaded: {str(err) or type(err).__name__}") from err
    if not hasattr(model, "predict_page"):  # a pickle of something else, manifest and all
        raise ModelError(f"{path} holds a {type(model).__name__}, not a noisefilter model")
    try:
        check_schema(model)
    except ModelError as err:
        raise ModelError(f"model {path}: {err}") from None
    labels = [str(c) for c in getattr(model, "classes_", [])]
    if "labels" in manifest and manifest["labels"] != labels:
        raise ModelError(f"model {path} labels {', '.join(labels)}, its manifest says "
                         f"{manifest['labels']}; refusing to load it")
    # absolute: worker processes load it again (`clean_many`), maybe after a chdir
    return LoadedModel(model=model, manifest=manifest, path=path.absolute())
