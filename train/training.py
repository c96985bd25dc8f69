"""Fitting a model on labelled examples and writing it with its manifest.

Training never touches the active model: the model is fitted in memory and written with
`filter.modelfile.save_model`, which writes to a temporary file and renames it into place, and a
path that the models folder's ``ACTIVE`` or ``PREVIOUS`` pointer names, or the shipped default
they fall back to, is refused as output (before fitting, as is a place no file can be written). A
train that dies half-way (an exception, Ctrl-C, a kill) therefore leaves at most a stray
temporary file beside the output, and the model that `clean()` uses is the one it was before.
Making a new model the active one is `train.promote`'s job, after it has been compared.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import TextIO

from filter.errors import NoiseFilterError
from filter.model import UNKNOWN_KIND, BlockClassifier, _booster, check_training_labels
from filter.modelfile import SHIPPED_MODEL, is_model_file_name, resolve_model_path, save_model

from .examples import Example, LabelledPage, Problem, label_page
from .progress import Progress, phase


@dataclass
class Prepared:
    """Examples turned into labelled pages, with everything that did not fit reported."""

    pages: list[LabelledPage] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def label_counts(self) -> Counter:
        return Counter(lab for lp in self.pages for lab in lp.labels)

    @property
    def left_out(self) -> int:
        return sum(lp.left_out for lp in self.pages)


def prepare(examples: list[Example], jobs: int = 1, stream: TextIO | None = None,
            desc: str = "segmenting pages") -> Prepared:
    """Segment every example as the cleaner would and attach its labels, with a progress bar.
    `jobs` > 1 segments in worker processes (trafilatura is the slow part)."""
    out = Prepared()
    with Progress(len(examples), desc, stream=stream) as bar:
        if jobs > 1 and len(examples) > 1:
            with get_context("spawn").Pool(jobs) as pool:
                results = pool.imap(label_page, examples, chunksize=8)
                for lp, problems in results:
                    _collect(out, lp, problems)
                    bar.update(1)
        else:
            for example in examples:
                _collect(out, *label_page(example))
                bar.update(1)
    return out


def _collect(out: Prepared, lp: LabelledPage | None, problems: list[Problem]) -> None:
    out.problems.extend(problems)
    if lp is None:
        return
    if not lp.labels:
        out.problems.append(Problem(lp.example.where, "no block of the page got a label; page skipped"))
        return
    out.pages.append(lp)


def fit(pages: list[LabelledPage], keep_label: str = "content", seed: int = 0,
        folds: int = 5) -> BlockClassifier:
    """Fit a `BlockClassifier` with a fixed seed; pages of one site share a group so the
    classifier's inner out-of-fold predictions are not flattered by a site's own furniture."""
    if not pages:
        raise ValueError("there are no labelled pages to train on")
    model = BlockClassifier(keep_label=keep_label, folds=folds, random_state=seed)
    return model.fit([lp.page for lp in pages], [lp.labels for lp in pages],
                     groups=[lp.example.site for lp in pages])


def in_fitting_order(pages: list[LabelledPage]) -> list[LabelledPage]:
    """`pages` in one order whatever order the files or the store gave them in (by document,
    then id): the boosters' bytes and the folds of a cross-validation depend on it, and the
    same pages from files given in another order, or a store filled in another order, gave
    another model, whose manifest (listing the pages sorted) could not tell it apart."""
    return sorted(pages, key=lambda lp: (lp.example.document_sha256, lp.example.id))


def file_record(path: Path) -> dict:
    """An example file as a manifest or an evaluation report records it: its path and the
    sha256 of its bytes, or no hash (None) for what is not a regular file: a pipe (`--examples
    <(jq …)`, `/dev/stdin`) was read to its end already, and hashing it again gave the hash of
    no bytes at all."""
    if not path.is_file():
        return {"path": str(path), "sha256": None}
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def sources_record(files: list[str] | None, store: str | None,
                   hashes: Mapping[str, str | None] | None = None) -> dict:
    """Example files and store as absolute paths: what a manifest, an evaluation report and the
    promotion log say the examples came from. A file's sha256 is the one `hashes` holds for it
    (`ExampleSet.file_hashes`: the bytes as read), else that of the file now (`file_record`)."""
    records = []
    for name in files or []:
        path = os.path.abspath(name)
        records.append({"path": path, "sha256": hashes[path]} if hashes and path in hashes
                       else file_record(Path(path)))
    return {"files": records, "store": os.path.abspath(store) if store else None}


def _threads_used() -> int:
    """The threads scikit-learn's boosters use now, under the command's `--threads` limit, as
    they count them (no more than the physical cores unless OMP_NUM_THREADS says so):
    ``--threads 0`` was recorded as 0, and ``--threads 4`` on 2 cores as 4, though the model
    was the one 2 threads make."""
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    return _openmp_effective_n_threads()


def too_few_to_learn(label_counts: Counter, keep_label: str) -> list[str]:
    """What the label counts are too few for, one warning each (none when they suffice). The
    model's trees put at least `min_samples_leaf` blocks in a leaf, so below twice that in all
    nothing is split: the model treats every block alike, even on its own pages (one page of
    22 blocks gave a model keeping all 22); and the kinds of noise, fewer than twice that
    together, are never split apart: every removed block gets one kind. Such sets trained
    without a word and exited 0. Fewer than that on one side alone is no such sign: a leaf may
    hold 19 blocks of one side and 1 of the other, and 44 blocks of which 16 were content
    gave a model right on every block of its pages."""
    leaf = _booster(0).min_samples_leaf
    keep = label_counts[keep_label]
    rest = sum(label_counts.values()) - keep
    said = []
    if keep + rest < 2 * leaf:
        said.append(f"only {keep + rest} labelled blocks ({keep} '{keep_label}', {rest} others): "
                    f"the model's trees need at least {2 * leaf} to split them at all, and with "
                    "fewer it keeps or removes every block alike; label more pages")
    kinds = {k: v for k, v in label_counts.items() if k not in (keep_label, UNKNOWN_KIND)}
    if len(kinds) >= 2 and sum(kinds.values()) < 2 * leaf:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        said.append(f"only {sum(kinds.values())} blocks of the kinds of noise ({listed}): the "
                    f"model needs at least {2 * leaf} together to tell the kinds apart, and with "
                    "fewer it gives every removed block one kind; label more pages")
    return said


def check_output(out: str | Path) -> None:
    """Refuse an output path before any fitting is done, not after: one that `clean()` uses or
    would go back to (see `train.promote.protected_paths`), and one where no file can be
    created. The check creates the folder, as writing the model would, and a temporary file."""
    from .promote import protected_paths

    given, out = out, Path(out)  # Path("./x") is "x": the bare name is told by what was given
    role = protected_paths().get(out.resolve())
    if role:
        raise ValueError(f"{out} is {role}; train to a new file and `noisefilter promote` it")
    if not is_model_file_name(out.name):  # which promotion and the service's reload take
        raise ValueError(f"{out.name!r} is no model file name: a printable name ending in "
                         ".joblib, not starting with a dot")
    if out.name == SHIPPED_MODEL:  # the repository's copy too, beside a non-editable install
        raise ValueError(f"{out.name} is the shipped default model's name (`python -m "
                         "train.shipped` rebuilds that one); name your model differently")
    if out.is_dir():
        raise ValueError(f"{out} is a folder, not a model file")
    meant = resolve_model_path(given)
    if meant.resolve() != out.resolve():
        # `--model NAME` (clean, evaluate, promote, serve) means the models folder's file: the
        # new model would be written here and the old one evaluated and promoted in its place
        raise ValueError(f"the models folder holds a model named {out.name} ({meant}), which "
                         f"--model {out.name} means; name this one differently (or write "
                         f"./{out.name} and name it so)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}."):
            pass
    except OSError as err:
        raise ValueError(f"cannot write {out}: no file can be created in {out.parent} "
                         f"({err.strerror or err})") from None


def train_and_save(prepared: Prepared, out: str | Path, *, keep_label: str = "content", seed: int = 0,
                   folds: int = 5, example_files: list[str] | None = None, store: str | None = None,
                   version: str | None = None, labels: set[str] | None = None,
                   reviewed_only: bool = False, read_problems: int = 0,
                   holdout: list[LabelledPage] | None = None, holdout_files: list[str] | None = None,
                   holdout_store: str | None = None, file_hashes: Mapping[str, str | None] | None = None,
                   stream: TextIO | None = None) -> dict:
    """Fit on `prepared` and write the model and its manifest to `out`; returns the manifest.

    The pages are fitted `in_fitting_order`. With `holdout` pages (read from `holdout_files`
    and `holdout_store`),
    the model is scored on them before it is written and the manifest's `metrics` hold the
    scores (`train.evaluation.holdout_metrics`), as the shipped model's manifest holds its own.

    The manifest records what the model was trained on (files with their sha256, of the bytes
    read where `file_hashes`, the `ExampleSet.file_hashes` of the example and holdout files,
    holds them; the store; the ids of the pages, so `promote` can refuse a holdout the model has
    seen; the label set and whether only reviewed labels were read, which choose the data too;
    the problems found in reading, `read_problems`, and in segmenting), the label counts, the
    seed, the threads scikit-learn used (the model's bytes depend on it; called inside the
    command's thread limit) and the time it took.
    """
    check_output(out)  # as given: "./x" is this folder's file, "x" may be the models folder's
    out = Path(out)
    if not prepared.pages:
        raise ValueError("there are no labelled pages to train on")
    check_training_labels(set(prepared.label_counts), keep_label)
    started = time.monotonic()
    pages = in_fitting_order(prepared.pages)
    with phase(f"fitting on {len(pages)} pages, "
               f"{sum(len(lp.labels) for lp in pages)} blocks", stream=stream):
        model = fit(pages, keep_label=keep_label, seed=seed, folds=folds)
    manifest = {
        "version": version or out.name.removesuffix(".joblib"),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "train_seconds": round(time.monotonic() - started, 1),
        "training_data": {
            **sources_record(example_files, store, file_hashes),
            "pages": len(prepared.pages),
            "blocks": sum(len(lp.labels) for lp in prepared.pages),
            "label_counts": dict(sorted(prepared.label_counts.items())),
            "blocks_left_out": prepared.left_out,
            "problems": read_problems + len(prepared.problems),
            "reviewed_only": reviewed_only,
            "example_ids": sorted(lp.example.id for lp in prepared.pages),
            # the pages themselves (a sha256 prefix each): a holdout page under a new id is
            # still one the model has seen (`train.promote.overlap`)
            "document_hashes": sorted({lp.example.document_sha256[:16] for lp in prepared.pages}),
        },
        "params": {"keep_label": keep_label, "labels": sorted(labels) if labels else None,
                   "seed": seed, "folds": folds, "threads": _threads_used()},
    }
    if holdout:
        from .evaluation import evaluate, holdout_metrics

        scored = evaluate(model, holdout, stream=stream, desc="scoring holdout", baseline=False)
        manifest["metrics"] = holdout_metrics(scored, holdout_files, holdout_store, reviewed_only,
                                              file_hashes)
    from .promote import PromotionError, writing_model

    try:
        with writing_model(out):  # the output checked again, where promotion cannot change it
            return save_model(model, out, manifest)
    except (PromotionError, NoiseFilterError) as err:
        raise ValueError(str(err)) from err
