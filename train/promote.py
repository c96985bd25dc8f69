"""Making a model the active one after it has shown it is no worse, and going back.

The models folder (`filter.modelfile.models_dir`: ``$NOISEFILTER_MODELS_DIR`` or the shipped
``models`` package) holds model files with their manifests and two pointer files: ``ACTIVE``
names the model `clean()` loads, ``PREVIOUS`` the one it replaced (empty: the shipped default).
Pointers hold a bare file name, never a path, so the active model is always inside the folder.

Promotion, in order:
1. load the candidate from the path the user named (an explicitly trusted path), which checks its
   sha256 against its manifest, and refuse a name the folder cannot take it under
   (`install_target`) before any scoring;
2. score it and the active model on the same holdout, and refuse unless no measure drops by more
   than its allowed margin (keep-or-not F1, macro F1 over the labels both models know, on the
   blocks labelled with one of them, word F1 when the holdout has gold text), and refuse a
   holdout that gives none of these for both; a holdout page the candidate was trained on is
   refused too, since it would flatter the candidate. An active model that cannot be loaded is
   no bar: the shipped default takes its place, and with neither loadable only ``--force``
   promotes;
3. copy the candidate into the folder (temporary name, fsync, rename; sha256 checked again);
4. write ``PREVIOUS``, then ``ACTIVE``, each by rename, so a reader sees the old pointer or the
   new one, never half of one; a crash between the two leaves ``PREVIOUS`` naming the model that
   is still active (the model before it is then named only in the log), which `rollback`
   refuses to go back to.
A lock file serialises promotions and rollbacks; `promotions.jsonl` logs each with its scores.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from filter.errors import ModelError, NoiseFilterError
from filter.files import sync_file, sync_folder, temporary_beside, write_synced
from filter.modelfile import (
    SHIPPED_MODEL, LoadedModel, active_model_path, is_model_file_name, load_model, manifest_of,
    manifest_path, models_dir, packaged_model_path, sha256_file,
)

from .evaluation import Evaluation
from .examples import Example

ACTIVE = "ACTIVE"
PREVIOUS = "PREVIOUS"
LOG = "promotions.jsonl"
_LOCK = ".promote.lock"


class PromotionError(RuntimeError):
    """Promotion or rollback was refused; the message says why and nothing was changed."""


@dataclass(frozen=True)
class Thresholds:
    """How much each measure may drop (absolute, 0–1) before promotion is refused."""

    content_f1: float = 0.0
    macro_f1: float = 0.0
    word_f1: float = 0.0


@dataclass(frozen=True)
class Check:
    measure: str
    candidate: float | None
    active: float | None
    allowed_drop: float
    passed: bool
    note: str = ""


#: what a damaged pointer (not text, a folder, unreadable) reads as: a name no model file has,
#: so it loads as none, as `clean()` finds none there (`active_model_path`)
_DAMAGED = "\ufffd"


def _read_pointer(folder: Path, name: str) -> str | None:
    try:
        return (folder / name).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):  # no pointer, or no folder to hold one
        return None
    except (OSError, UnicodeDecodeError):  # promote compared with the shipped default, then
        return _DAMAGED                    # ended in a traceback here


def usable_folder() -> Path:
    """The models folder, refused (`PromotionError`, one line) when its path names something
    that is not a folder, nothing (it is not created: a misspelt `NOISEFILTER_MODELS_DIR` made
    by a promotion hid the warning every later command gives, and the model promoted there was
    active for no one), or a folder that cannot be written (a read-only mount, a root-owned
    `site-packages/models` under another user): promote and rollback ended in a traceback
    there, promote after scoring every model. Without `NOISEFILTER_MODELS_DIR` the folder is
    the `models` package installed with noisefilter, which is refused too: a model promoted into
    it outlived `pip uninstall`, and a reinstall or an upgrade went on using it."""
    folder = models_dir()
    if not os.environ.get("NOISEFILTER_MODELS_DIR") or _is_packaged(folder):
        raise PromotionError(f"set NOISEFILTER_MODELS_DIR to a folder of your own first: the "
                             f"models folder installed with noisefilter ({folder}) is no place for "
                             "models of yours (they would outlive its uninstall and be used by "
                             "the next install)")
    if not folder.exists():
        raise PromotionError(f"there is no models folder {folder} (NOISEFILTER_MODELS_DIR): "
                             "make it first, or correct the setting")
    if not folder.is_dir():
        raise PromotionError(f"the models folder {folder} (NOISEFILTER_MODELS_DIR) is not a "
                             "folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PromotionError(f"the models folder {folder} cannot be written "
                             "(NOISEFILTER_MODELS_DIR names another)")
    return folder


def _is_packaged(folder: Path) -> bool:
    """Whether `folder` is the `models` package installed with noisefilter, whatever path names
    it: `NOISEFILTER_MODELS_DIR=$PWD/models`, typed in a clone, got round the refusal above."""
    try:
        return folder.samefile(packaged_model_path().parent)
    except OSError:  # either is missing: not the same folder
        return False


def _safe_name(name: str) -> str:
    if not name or Path(name).name != name or name.startswith("."):
        raise PromotionError(f"{name!r} is not a model file name inside the models folder")
    return name


def promotable_name(path: Path) -> str:
    """The file name a candidate is installed under, refused unless the service can reload a
    model by it (`POST /v1/model/reload`): `site@2.joblib` was promoted, then left out of
    `GET /v1/model`'s list and answered 404 by name."""
    if not is_model_file_name(path.name):
        raise PromotionError(f"{path.name!r} is no model file name the service can reload (a "
                             "printable name ending in .joblib, not starting with a dot): "
                             "rename the file and its .manifest.json")
    return path.name


def install_target(candidate: LoadedModel) -> Path:
    """The path in the models folder the candidate is installed at, refused (`PromotionError`)
    for the shipped default's name (in the folder it would stand for the shipped default for
    good: rollback to the default would go back to it, and the shipped model could not be
    reached again), for a name the service cannot reload (`promotable_name`), and when the
    folder holds a different model (another sha256) under the candidate's name. `promote`
    checks it before scoring: the last was found only after both models were scored on the
    whole holdout, and `--dry-run` said it would promote; `install` checks again under
    promotion's lock, as another promotion may have put a model there since."""
    if candidate.path.name == SHIPPED_MODEL:
        raise PromotionError(f"{SHIPPED_MODEL} is the shipped default model's name; rename the "
                             "candidate")
    folder = models_dir()
    target = folder / promotable_name(candidate.path)
    try:
        taken = target.exists() and sha256_file(target) != candidate.manifest["sha256"]
    except OSError as err:  # a folder of that name, say
        raise PromotionError(f"{target} cannot be read: {err.strerror or err}") from err
    if taken:
        raise PromotionError(f"a different model named {target.name} is already in {folder}; "
                             "rename the candidate")
    return target


def active_state() -> tuple[str, str | None]:
    """What `switch_to` checks has not changed since a candidate was compared: the ``ACTIVE``
    pointer and the sha256 of the file it names (None: no such file)."""
    current = active_name()
    try:
        return current, sha256_file(active_model_path())
    except (OSError, NoiseFilterError):
        return current, None


def protected_paths() -> dict[Path, str]:
    """The model files that `clean()` uses now or would go back to, each with what it is:
    training must not write over them. An empty ``PREVIOUS`` (and a missing ``ACTIVE``) means the
    shipped default, and a file of the shipped model's name in the models folder takes the place
    of the package's, so both are protected, whether or not the folder holds one yet."""
    folder = models_dir()
    roles = {folder / SHIPPED_MODEL: "the shipped default model",
             packaged_model_path(): "the shipped default model"}
    previous = _read_pointer(folder, PREVIOUS)
    if previous:
        roles[folder / previous] = "the previous model"
    roles[active_model_path()] = "the active model"
    return {path.resolve(): role for path, role in roles.items()}


def _write_pointer(folder: Path, name: str, value: str) -> None:
    tmp = temporary_beside(folder / name)  # 0644: read by every process that cleans
    try:
        write_synced(tmp, (value + "\n").encode("utf-8"))
        os.replace(tmp, folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(folder)


def check_pointers(folder: Path) -> None:
    """Refuse, before either pointer is written, a pointer path that cannot be replaced (a
    folder): a rollback wrote ``PREVIOUS`` and then failed on ``ACTIVE``, and the model to go
    back to was forgotten."""
    for name in (ACTIVE, PREVIOUS):
        if (folder / name).is_dir():
            raise PromotionError(f"{folder / name} is a folder, not a model's name: remove it")


def _unwritable(folder: Path, err: OSError) -> PromotionError:
    return PromotionError(f"the models folder {folder} cannot be written: {err.strerror or err}")


@contextmanager
def _locked(folder: Path):
    """Promotion's lock on the models folder; one that cannot be taken is a `PromotionError`
    that says why."""
    try:
        # read-only: flock needs no more, and a lock file another user created (0644 under
        # umask 022) failed everyone else's promotions and trainings into a shared folder
        fh = os.fdopen(os.open(folder / _LOCK, os.O_RDONLY | os.O_CREAT, 0o666), "rb")
    except OSError as err:
        raise _unwritable(folder, err) from err
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def writing_model(path: Path):
    """Held while `train` writes a model file: for one in the models folder, promotion's lock,
    under which the file is checked again (`protected_paths`): a file promoted while it was
    being fitted was written over, and `clean()` used a model no promotion had scored."""
    folder = models_dir()
    if path.resolve().parent != folder.resolve():
        yield
        return
    with _locked(folder):
        role = protected_paths().get(path.resolve())
        if role:
            raise PromotionError(f"{path} became {role} while the model was fitted; train to "
                                 "a new file")
        yield


def _log_line(event: dict) -> str:
    """One line of the log. Raises ValueError for a NaN or an infinity (an allowed drop of `inf`
    was written as `Infinity`, which jq and strict JSON parsers reject): compose it before
    changing anything."""
    event = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **event}
    return json.dumps(event, ensure_ascii=False, allow_nan=False) + "\n"


def _opened_log(folder: Path):
    """The log, opened for appending before a switch moves either pointer, its line written
    after: a log that could not be opened (a folder, another user's file in a shared models
    folder) failed after the switch, and promote said "not promoted" of a model then active
    (rollback, that it could not write, having rolled back)."""
    return open(folder / LOG, "a", encoding="utf-8")


def compare(candidate: Evaluation, active: Evaluation, thresholds: Thresholds) -> list[Check]:
    """The measures promotion decides on, each candidate against active on the same holdout.
    Raises `PromotionError` for models that cannot be compared: keeping different labels (a
    holdout labelled for one is no measure of the other), or sharing none, and for a holdout
    that gives no measure at all (say, blocks labelled only `noncontent` and no gold text):
    a check with nothing to compare passes, so every check passed and such a holdout promoted
    any candidate."""
    if candidate.keep_label != active.keep_label:
        raise PromotionError(f"the candidate keeps blocks labelled {candidate.keep_label!r}, the "
                             f"model it is compared with {active.keep_label!r}: one holdout cannot "
                             "score both")
    shared = set(candidate.model_labels) & set(active.model_labels)
    word_c, word_a = candidate.word_f1()[0], active.word_f1()[0]
    rows = [
        ("content_f1", candidate.keep_scores()["f1"], active.keep_scores()["f1"], ""),
        ("macro_f1", candidate.block_report(shared)["macro_f1"], active.block_report(shared)["macro_f1"],
         f"over the labels both know: {', '.join(sorted(shared))}"),
        ("word_f1", word_c, word_a, "" if word_c is not None else "no page of the holdout has gold text"),
    ]
    checks = []
    for measure, cand, act, note in rows:
        allowed = getattr(thresholds, measure)
        passed = cand is None or act is None or cand >= act - allowed - 1e-12
        checks.append(Check(measure, cand, act, allowed, passed, note))
    if all(c.candidate is None or c.active is None for c in checks):
        others = sorted(shared - {candidate.keep_label})
        known = f" or another label both models know ({', '.join(others)})" if others else ""
        raise PromotionError(f"the holdout gives no measure to compare the models on: no block is "
                             f"labelled {candidate.keep_label!r}{known}, and no page has gold text; "
                             "label the holdout's blocks with these labels")
    return checks


def overlap(candidate: LoadedModel, holdout: list[Example]) -> set[str]:
    """The ids of the holdout pages the candidate was trained on (per its manifest): by id, or
    by the document itself, whatever id it was given (a copied page renamed was let through)."""
    data = candidate.manifest.get("training_data")
    data = data if isinstance(data, dict) else {}  # a manifest edited by hand: a traceback
    ids, docs = (set(v) if isinstance(v, list) else set()
                 for v in (data.get("example_ids"), data.get("document_hashes")))
    return {e.id for e in holdout if e.id in ids or e.document_sha256[:16] in docs}


def own_proposals(model: LoadedModel, holdout: list[Example]) -> str | None:
    """A warning when holdout labels are `model`'s own unreviewed proposals (``model:<its
    version>``, as `bootstrap` and the labelling page store them), else None: on those it is
    scored against itself (bootstrap takes each non-content block's kind from the proposing
    model, which then never confuses the kinds there), and a comparison with it favours it."""
    by = f"model:{model.version}"
    labels = [block for example in holdout for block in example.blocks]
    own = sum(block.labelled_by == by and block.reviewed is not True for block in labels)
    if not own:
        return None
    return (f"{own:,} of {len(labels):,} holdout labels are {model.version}'s own unreviewed "
            f"proposals (labelled_by {by}): scored on them, it is scored against itself; review "
            "them, or score with --reviewed-only")


def install(candidate: LoadedModel) -> Path:
    """Put the candidate's file and manifest into the models folder (if not there already) and
    check the copy's sha256; returns the path in the folder (`install_target`, checked again
    under promotion's lock)."""
    folder = usable_folder()
    target = install_target(candidate)
    copies = [(candidate.path, target), (manifest_of(candidate.path), manifest_path(target))]
    if target.exists():  # the same bytes: the candidate's manifest is still installed with them
        copies = [c for c in copies[1:] if not _same_bytes(*c)]  # (a copy made by hand had none,
        #                                      one retrained under another --version the old one)
    sha = candidate.manifest["sha256"]
    for src, dst in copies:
        tmp = temporary_beside(dst)  # 0644: a service account reads the model
        try:
            shutil.copyfile(src, tmp)
            sync_file(tmp)
            if dst == target and sha256_file(tmp) != sha:
                raise PromotionError(_changed_copy(src, folder, sha))
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    sync_folder(folder)
    return target


def _changed_copy(src: Path, folder: Path, sha: str) -> str:
    """Why the copy of a candidate is not the model that was scored: the file itself was
    replaced since (a training run again into the same --out while promote scored it), or
    the copy came out other than its source. Both were said to be the copy's fault ("changed
    its bytes"), read as a failing disk."""
    now = sha256_file(src)
    if now != sha:
        return (f"{src} was replaced after it was loaded and scored (sha256 {sha[:12]}…, now "
                f"{now[:12]}…); nothing promoted: promote it again to score the new file")
    return f"copying {src} into {folder} changed its bytes; nothing promoted"


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.read_bytes() == b.read_bytes()
    except FileNotFoundError:
        return False


def active_name() -> str:
    """The ``ACTIVE`` pointer's value, or '' when the folder falls back to the shipped model."""
    return _read_pointer(models_dir(), ACTIVE) or ""


def switch_to(candidate: LoadedModel, checks: list[Check], holdout: str,
              compared_with: str | None = None,
              compared_state: tuple[str, str | None] | None = None,
              holdout_data: dict | None = None) -> Path:
    """Install the candidate and make it active; the active model becomes ``PREVIOUS``, unless
    it cannot be loaded (as `rollback` loads it): then ``PREVIOUS`` is the shipped default (what the candidate was
    compared against), as a rollback to a broken model could only fail. The log records what
    the checks compared against (None: nothing, a forced promotion). `compared_state` is
    `active_state()` from before the comparison: another promotion or a rollback since then
    (two promotions at once: the later one switched over the earlier without facing it) makes
    this one fail. `holdout` is the holdout as given; `holdout_data` its files with their
    sha256 and its store, absolute (`sources_record`), so that the log ties a promotion to the
    pages it was compared on wherever promote ran."""
    folder = usable_folder()
    try:
        with _locked(folder):
            check_pointers(folder)
            if compared_state is not None and active_state() != compared_state:
                raise PromotionError("the active model changed while the candidate was compared "
                                     f"(now {active_name() or 'the shipped default'}); run promote "
                                     "again")
            current = active_name()
            if current == candidate.path.name:  # the name it is installed under
                raise PromotionError(f"{current} is already the active model")
            target = install(candidate)
            load_model(target)  # the copy must load exactly as the original did
            previous = current
            if current:
                try:
                    load_model(folder / _safe_name(current))  # as rollback will load it
                except (ModelError, PromotionError):
                    previous = ""
            line = _log_line({"action": "promote", "model": target.name, "previous": previous or None,
                              "sha256": candidate.manifest["sha256"], "holdout": holdout,
                              "holdout_data": holdout_data, "compared_with": compared_with,
                              "checks": [asdict(c) for c in checks]})
            with _opened_log(folder) as log:
                _write_pointer(folder, PREVIOUS, previous)
                _write_pointer(folder, ACTIVE, target.name)
                log.write(line)
    except OSError as err:  # a full disk, say, while the copy or a pointer is written
        raise _unwritable(folder, err) from err
    return target


def rollback() -> tuple[str, str]:
    """Make ``PREVIOUS`` active again (after checking it loads); the model rolled back from
    becomes ``PREVIOUS``, so a second rollback undoes the first. Returns (from, to) names,
    '' standing for the shipped default."""
    folder = usable_folder()
    try:
        with _locked(folder):
            check_pointers(folder)
            previous = _read_pointer(folder, PREVIOUS)
            if previous is None:
                raise PromotionError(f"nothing to roll back to: {folder} has no {PREVIOUS} pointer")
            current = active_name()
            damaged = current == _DAMAGED
            if damaged:  # no model to go back to: the shipped default stands for it
                current = ""
            if previous == current and not damaged:  # as a switch interrupted midway leaves them
                raise PromotionError(f"nothing to roll back to: {PREVIOUS} names the active model "
                                     f"({current or 'the shipped default'}); {LOG} lists the "
                                     "models active before it: promote one of them again")
            if previous:
                try:
                    load_model(folder / _safe_name(previous))
                except ModelError as err:
                    raise PromotionError(f"the previous model cannot be loaded, not rolling back: {err}") from err
            line = _log_line({"action": "rollback", "model": previous or None,
                              "previous": current or None})
            with _opened_log(folder) as log:
                _write_pointer(folder, PREVIOUS, current)
                if previous:
                    _write_pointer(folder, ACTIVE, previous)
                else:
                    (folder / ACTIVE).unlink(missing_ok=True)
                    sync_folder(folder)
                log.write(line)
    except OSError as err:
        raise _unwritable(folder, err) from err
    return current, previous
