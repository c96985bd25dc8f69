"""The retraining commands: ``noisefilter train|evaluate|bootstrap|promote|rollback``.

`filter.cli` dispatches to the ``<command>_add_arguments`` / ``<command>_run`` pairs here. Each
run function reads its inputs, reports every problem on standard error (never silently skipping
a line or a label), and returns the exit code: 0 done, 1 refused (promote found a regression),
2 unusable input.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from filter.compression import damage_types, decompressed
from filter.errors import NoiseFilterError
from filter.model import MAX_SEED
from filter.modelfile import LoadedModel, active_model_path, load_model, shipped_model_path

_SHOWN_PROBLEMS = 20


def _say(message: str) -> None:
    print(f"noisefilter: {message}", file=sys.stderr)


def _show_problems(problems, strict: bool = False, listing: str | None = None) -> bool:
    """Print problems: every one that left a whole page out, then the first few of the others
    and a count (a skipped page hid behind twenty block warnings); True when `strict` says
    stop. Every problem is added to the file `listing` (--problems), which the count names:
    the ones not shown could be seen nowhere."""
    room = _SHOWN_PROBLEMS  # not less for the pages left out: 20 of them hid every other one
    shown = []
    for problem in problems:
        if problem.loses_page or room > 0:
            room -= not problem.loses_page
            shown.append(problem)
    for problem in shown:
        print(f"  warning: {problem}", file=sys.stderr)
    if listing:
        with open(listing, "a", encoding="utf-8") as fh:
            fh.writelines(f"{problem}\n" for problem in problems)
    if len(problems) > len(shown):
        where = f"all of them in {listing}" if listing else "--problems FILE lists them all"
        hidden = len(problems) - len(shown)
        print(f"  … and {hidden} more problem{'s' if hidden > 1 else ''} ({where})", file=sys.stderr)
    if problems and strict:
        _say(f"{len(problems)} problems in the examples and --strict is set; stopping")
        return True
    return False


def _add_example_sources(parser: argparse.ArgumentParser, required_help: str) -> None:
    parser.add_argument("--examples", action="extend", nargs="*", default=[], metavar="FILE",
                        help=f"JSON Lines example files {required_help}")
    parser.add_argument("--store", metavar="DB", help="SQLite example store to read as well")
    parser.add_argument("--reviewed-only", action="store_true",
                        help="use only labels a person has reviewed (in files: those not "
                             "marked \"reviewed\": false)")
    parser.add_argument("--jobs", type=_at_least(1), default=1,
                        help="processes that segment pages (default 1)")
    _add_problems(parser)
    _add_threads(parser)


def _add_problems(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--problems", metavar="FILE",
                        help="write every problem in the examples to FILE, one a line (the "
                             f"terminal shows the first {_SHOWN_PROBLEMS} and every skipped page)")


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (through a symlink or a hard link too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def _not_a_problems_file(args) -> str | None:
    """Why the --problems file cannot be emptied and written, or None: it is a file the
    command reads or writes, a model's manifest (wherever the model is), anything in the models
    folder, a file of binary data (a model or a store elsewhere), or one of labelled examples
    (JSON lines: another example file, a holdout, an export), which no problems list is."""
    from filter.modelfile import manifest_of, manifest_path

    out = getattr(args, "out", None)  # train's model, written with its manifest
    stores = [args.store, getattr(args, "holdout_store", None)]  # train's holdout, read later
    own = [*args.examples, *(getattr(args, "holdout", None) or []),
           *(f"{db}{end}" for db in stores if db for end in ("", "-wal", "-shm")),
           *([out, manifest_path(Path(out))] if out else [])]
    try:
        active = active_model_path()
    except NoiseFilterError:  # a broken ACTIVE pointer: `promote` goes on without it, so here too
        active = None
    for model in (getattr(args, "model", None), active):
        if model:
            own += [model, manifest_of(Path(model))]
    if any(_same_file(args.problems, path) for path in own):
        return "names a file the command reads or writes"
    path = Path(args.problems)
    if refusal := model_file_refusal(path):
        return refusal
    if holds_binary_data(path):
        return "holds binary data (a model or a store?), not a list of problems"
    head = _first_line(path)
    if head.startswith("{"):
        # a holdout named there by mistake was replaced by one line of problems
        return "holds JSON lines (labelled examples?), not a list of problems"
    if head and ": " not in head:  # a saved page or notes named by mistake were emptied
        return "holds text that is no list of problems (FILE:LINE: message lines)"
    return None


def model_file_refusal(path: Path) -> str | None:
    """Why a text file the tools write (a problems list, bootstrap's examples, a store's
    export) may not be written at `path`, or None: it is in the models folder, or a model's
    manifest (wherever the model is). Overwritten, the model there no longer loaded, and every
    `clean`, `batch` and `serve` failed; a manifest is text, which the binary-data tests let
    through."""
    from filter.modelfile import MANIFEST_SUFFIX, models_dir

    if _same_file(path.parent, models_dir()):
        return "is in the models folder"
    beside = path.with_name(path.name.removesuffix(MANIFEST_SUFFIX) + ".joblib")
    if path.name.endswith(MANIFEST_SUFFIX) and os.path.lexists(beside):
        return "is the manifest of the model beside it"
    return None


def holds_binary_data(path: Path) -> bool:
    """Whether a file holds binary data (a NUL in its first 8 KiB, of what it decompresses to
    when it is compressed), as a model, a store or a tar archive does and no text file the
    commands write; False when it cannot be opened (writing it then fails and says why) and for
    anything but a regular file: `/dev/stdout` on a pipe opened for reading waited forever on
    the command's own output. A compressed file of text is none: `store export -o` and
    `bootstrap --out` write one for a compressed name, and refused it the next time."""
    if not os.path.isfile(path):  # False, not an OSError, for a name too long or unsearchable
        return False
    try:
        fh = open(path, "rb")
    except OSError:
        return False
    with fh:
        try:
            with decompressed(fh) as data:
                return b"\0" in data.read(8192)
        except (ValueError, *damage_types()):  # unreadable bytes: no text these commands wrote
            return True


def _first_line(path: Path) -> str:
    """A regular file's first line that is not blank (of its first 8 KiB), or "": a line of
    labelled examples opens a JSON object, and every problem line (`FILE:LINE: message`) says
    where and what, which no line of a saved page or of notes may."""
    if not os.path.isfile(path):
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(8192)
    except OSError:
        return ""
    return head.lstrip("\ufeff \t\r\n").partition("\n")[0].strip()


def _at_least(low: int, high: int | None = None):
    """An argparse type: a whole number of at least `low` and at most `high` (a fold count of
    1, 0 worker processes or a seed of -1 failed only after every page was segmented, in
    scikit-learn's words)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {low} or more, not {value}" if high is None
                                             else f"must be from {low} to {high:,}, not {value}")
        return value
    return parse


def _cv_folds(text: str) -> int:
    """The argparse type of `evaluate --cv`: 0 (none) or 2 and more. One fold is no
    cross-validation: `--cv 1` turned it off saying so only inside the report."""
    value = _at_least(0)(text)
    if value == 1:
        raise argparse.ArgumentTypeError("must be 0 (no cross-validation) or 2 or more, not 1")
    return value


def _share(text: str) -> float:
    """An argparse type: a finite number from 0 to 1, as the scores are (an allowed drop of nan
    refused even identical scores, inf wrote `Infinity` into promotions.jsonl, and a negative one
    asked for an improvement while the output said "may drop -0.05")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not 0.0 <= value <= 1.0:  # False for nan too
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text}")
    return value


def _add_threads(parser: argparse.ArgumentParser, fits: bool = True) -> None:
    """`--threads`, for the commands that fit models. `bootstrap` and `promote` only predict,
    one page at a time on one thread (`train.evaluation.evaluate`): they take the option still,
    for the scripts that give it, and do not list it (their help said it set the threads of a
    fitting, their guide the proposing model's threads: it changed nothing)."""
    parser.add_argument("--threads", type=_at_least(0), default=1, metavar="N",
                        help="threads scikit-learn may use (default 1: a model fitted then is "
                             "the same for the same data and seed on any machine, as the order "
                             "of floating-point sums depends on the thread count; 0: all cores, "
                             "faster on large sets)" if fits else argparse.SUPPRESS)


def _threads(args: argparse.Namespace):
    """Limit OpenMP threads for the fitting inside the command (0: leave scikit-learn's default)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=args.threads) if args.threads > 0 else contextlib.nullcontext()


#: a label given to fewer blocks is more likely a typo than a class to learn
RARE_LABEL_BLOCKS = 5


def _num(value: float | None, digits: int = 4) -> str:
    return "–".center(digits + 2) if value is None else f"{value:.{digits}f}"


def _read(args, allowed: set[str] | None = None,
          options: str = "--examples FILE… and/or --store DB", store_option: str = "--store",
          first: bool = True, what: str = "page", note: str = ""):
    """The examples the options name, or None (the reason said) when they cannot be read: a
    store option naming a file that is no store, an example file that is a store, nothing
    left with --reviewed-only. The `first` read of a command empties the --problems file,
    which the problems are added to. `what` names the pages when --reviewed-only leaves none
    (and `note` adds to the advice): `train --holdout` said "no page with a reviewed label was
    read" after reading the training pages, which read as if those had none."""
    from .store import StoreError, examples_from, is_store_file

    if not args.examples and not args.store:
        _say(f"give {options}")
        return None
    # anything that can be read: a pipe too (`--examples <(jq …)`, `/dev/stdin`), said "not
    # found" when only regular files were taken (os.path's tests: Path's raise on a long name)
    missing = [p for p in args.examples if not os.path.exists(p)]
    if missing:
        _say(f"example file(s) not found: {', '.join(missing)}")
        return None
    folders = [p for p in args.examples if os.path.isdir(p)]
    if folders:
        _say(f"example file {folders[0]} is a folder; name the JSON Lines files in it")
        return None
    try:
        # a pipe is read once: the bytes looked at here would be missing from the examples
        stores = [p for p in args.examples if os.path.isfile(p) and is_store_file(p)]
    except OSError as err:  # a file it may not read
        _say(f"cannot read {err.filename}: {err.strerror or err}")
        return None
    if stores:
        _say(f"{stores[0]} is an example store, not a JSON Lines file: give it with {store_option}")
        return None
    if args.store and not Path(args.store).is_file():
        _say(f"no example store at {args.store}")
        return None
    if args.problems and first:
        refusal = _not_a_problems_file(args)
        if refusal:
            # it is emptied before the examples are read: named by mistake, it wiped them, or
            # the model being evaluated or promoted (which then no longer loaded)
            _say(f"--problems {args.problems} {refusal}; name another")
            return None
        try:
            Path(args.problems).write_text("", encoding="utf-8")
        except OSError as err:
            _say(f"cannot write the problems to {args.problems}: {err.strerror or err}")
            return None
    try:
        found = examples_from(args.examples, args.store, reviewed_only=args.reviewed_only,
                              allowed_labels=allowed)
    except StoreError as err:
        _say(str(err))
        return None
    except OSError as err:
        _say(f"cannot read {err.filename or 'the examples'}: {err.strerror or err}")
        return None
    if args.reviewed_only and not found.examples and found.unreviewed:
        _show_problems(found.problems, listing=args.problems)
        # a file no store has seen (`bootstrap --out`'s) is reviewed in the file itself
        how = (f"`noisefilter label --examples-db {args.store}` marks what you check as reviewed"
               if args.store else "in a file, mark the labels you checked \"reviewed\": true")
        _say(f"no {what} with a reviewed label was read: review their labels first ({how}) or "
             f"drop --reviewed-only{note}")
        return None
    return found


# -- train ----------------------------------------------------------------------------------

def train_add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_example_sources(parser, "(and/or --store)")
    parser.add_argument("--out", required=True, metavar="MODEL", help="model file to write (.joblib)")
    parser.add_argument("--labels", help="comma-separated label set; other labels are reported "
                                         "and left out (default: every label in the examples)")
    parser.add_argument("--keep-label", default="content",
                        help="the label kept in the clean text (default content)")
    parser.add_argument("--seed", type=_at_least(0, MAX_SEED), default=0,
                        help="random seed (same data + seed = same model; default 0)")
    parser.add_argument("--folds", type=_at_least(2), default=5,
                        help="folds of the inner out-of-fold pass (2 or more; default 5)")
    parser.add_argument("--version", help="model version for the manifest (default: file name)")
    parser.add_argument("--holdout", action="extend", nargs="*", metavar="FILE",
                        help="JSON Lines examples of pages not trained on (best: of other sites): "
                             "the model is scored on them as evaluate scores it, and its manifest "
                             "records the scores")
    parser.add_argument("--holdout-store", metavar="DB", help="example store to score on as well")
    parser.add_argument("--strict", action="store_true", help="stop on any problem in the examples")


def train_run(args: argparse.Namespace) -> int:
    with _threads(args):
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    from filter.model import UNKNOWN_KIND

    from .examples import STANDARD_LABELS
    from .training import check_output, prepare, too_few_to_learn, train_and_save

    allowed = {x.strip() for x in args.labels.split(",") if x.strip()} if args.labels else None
    if allowed is not None and args.keep_label not in allowed:
        _say(f"--labels must include the keep label {args.keep_label!r}")
        return 2
    if not str(args.out).endswith(".joblib"):
        _say("--out must end in .joblib (its manifest is written beside it)")
        return 2
    try:
        check_output(args.out)  # before the examples are read and segmented, which take a while
    except (ValueError, NoiseFilterError) as err:  # NoiseFilterError: a broken ACTIVE pointer
        _say(f"cannot train: {err}")
        return 2
    found = _read(args, allowed)
    if found is None:
        return 2
    print(f"read {len(found.examples)} example{'s' * (len(found.examples) != 1)}",
          file=sys.stderr)
    if _show_problems(found.problems, args.strict, args.problems):
        return 2
    if not found.examples:  # said before a holdout is read or an empty progress bar drawn
        _say("cannot train: there are no labelled pages to train on")
        return 2
    # read and segmented before the training pages: a holdout that cannot be used stops the
    # command before the long part
    wanted = args.holdout is not None or args.holdout_store is not None
    holdout = _training_holdout(args, found) if wanted else None
    if wanted and holdout is None:
        return 2
    prepared = prepare(found.examples, jobs=args.jobs)
    if _show_problems(prepared.problems, args.strict, args.problems):
        return 2
    counts = prepared.label_counts
    if counts:
        print("labels: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)
    # the keep label is every model's class and `noncontent` the documented label of a block
    # whose kind nobody labelled; a label of LABELS.md is no typo however few its blocks, only
    # too few to learn, and a declared label set has no typo to guess at
    for label in sorted(k for k, v in counts.items() if v < RARE_LABEL_BLOCKS
                        and k not in (args.keep_label, UNKNOWN_KIND)):
        if label in STANDARD_LABELS:
            _say(f"warning: only {counts[label]} block(s) labelled {label!r}: too few for the model "
                 "to learn that kind; label more pages")
        elif allowed is None:
            _say(f"warning: only {counts[label]} block(s) labelled {label!r}, which becomes a class "
                 "of its own: a typo? (--labels names the label set)")
    try:
        manifest = train_and_save(prepared, args.out, keep_label=args.keep_label, seed=args.seed,
                                  folds=args.folds, example_files=args.examples, store=args.store,
                                  version=args.version, labels=allowed,
                                  reviewed_only=args.reviewed_only,
                                  read_problems=len(found.problems),
                                  holdout=holdout, holdout_files=args.holdout,
                                  holdout_store=args.holdout_store, file_hashes=found.file_hashes)
    except ValueError as err:
        _say(f"cannot train: {err}")
        return 2
    for warning in too_few_to_learn(counts, args.keep_label):
        _say(f"warning: {warning}")
    print(f"wrote {args.out} (version {manifest['version']}, sha256 {manifest['sha256'][:12]}…, "
          f"labels {', '.join(manifest['labels'])}) in {manifest['train_seconds']} s")
    if holdout:
        scores = manifest["metrics"]["holdout"]
        summary = scores["summary"]
        line = (f"holdout, {scores['pages']} pages: keep-or-not F1 {_num(summary['content_f1'], 3)}, "
                f"macro F1 {_num(summary['macro_f1'], 3)}")
        if summary["word_f1"] is not None:
            line += f", word F1 {_num(summary['word_f1'], 3)}"
        print(line + " (in the manifest's metrics)")
    return 0


def _training_holdout(args, training) -> list | None:
    """The segmented pages of `train --holdout` and `--holdout-store`, or None (the reason
    said): none named (`--holdout` followed by an empty glob), unreadable, none labelled,
    problems under --strict, or pages among the `training` examples (an `ExampleSet`; by id or
    by document, as `promote` refuses them), whose scores would flatter the model. Read as
    `evaluate` reads them, every label kept: left out by `--labels`, a noise block of another
    label was no longer counted when kept. The holdout files' hashes join `training`'s."""
    from .training import prepare

    holdout = argparse.Namespace(**{**vars(args), "examples": args.holdout or [],
                                    "store": args.holdout_store})
    found = _read(holdout, options="--holdout FILE… and/or --holdout-store DB",
                  store_option="--holdout-store", first=False, what="holdout page",
                  note=" (it applies to the holdout too)")
    if found is None or _show_problems(found.problems, args.strict, args.problems):
        return None
    training.file_hashes.update(found.file_hashes)
    ids = {e.id for e in training.examples}
    documents = {e.document_sha256 for e in training.examples}
    seen = [e.id for e in found.examples if e.id in ids or e.document_sha256 in documents]
    if seen:
        _say(f"{len(seen)} holdout pages are in the training data (e.g. {seen[0]!r}); a holdout "
             "must be unseen")
        return None
    held = prepare(found.examples, jobs=args.jobs, desc="segmenting holdout")
    if _show_problems(held.problems, args.strict, args.problems):
        return None
    if not held.pages:
        _say("the holdout has no labelled page")
        return None
    if args.keep_label not in held.label_counts:  # as `evaluate` says it
        _say(f"warning: the holdout labels no block '{args.keep_label}' (its labels: "
             f"{', '.join(sorted(held.label_counts))}); the model's keep-or-not scores on it say "
             "nothing")
    return held.pages


# -- evaluate -------------------------------------------------------------------------------

def evaluate_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model file to evaluate (default: the active model)")
    _add_example_sources(parser, "with gold labels (and/or --store)")
    parser.add_argument("--report", required=True, metavar="DIR",
                        help="folder for report.md, report.json and report.png")
    parser.add_argument("--cv", type=_cv_folds, default=5, metavar="K",
                        help="folds of cross-validation grouped by site: models of this recipe "
                             "retrained on the examples, each scored on sites it did not see "
                             "(how the recipe does on a new site, not a score of --model; "
                             "default 5, 0: none)")
    parser.add_argument("--seed", type=_at_least(0, MAX_SEED), default=0,
                        help="seed of the cross-validation models (default 0)")
    parser.add_argument("--folds", type=_at_least(2), default=5,
                        help="folds of the cross-validation models' inner out-of-fold pass "
                             "(default 5)")
    parser.add_argument("--worst", type=_at_least(0), default=10,
                        help="how many worst pages to show (default 10)")
    parser.add_argument("--no-baseline", action="store_true", help="do not run trafilatura beside")
    parser.add_argument("--favor-precision", action="store_true",
                        help="score the model (and trafilatura beside it, and the "
                             "cross-validation) favouring precision, as "
                             "Cleaner(favor_precision=True) cleans")


def evaluate_run(args: argparse.Namespace) -> int:
    with _threads(args):
        return _evaluate(args)


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluation import (
        cross_validate, evaluate, folds_left_out, not_by_site, report_dict, write_report,
    )
    from .promote import overlap, own_proposals
    from .training import prepare, sources_record

    try:
        loaded = load_model(args.model or active_model_path())
    except NoiseFilterError as err:
        _say(str(err))
        return 2
    if os.path.lexists(args.report) and not os.path.isdir(args.report):  # "[Errno 17] File exists"
        _say(f"cannot write the report into {args.report}: it is a file; --report names a folder")
        return 2
    if args.cv == 0 and (args.seed, args.folds) != (0, 5):  # taken, and the report recorded them
        _say("warning: --seed and --folds choose the cross-validation's models, and --cv 0 runs "
             "none: they change nothing")
    try:  # before the scoring and cross-validation, which take a while
        Path(args.report).mkdir(parents=True, exist_ok=True)
        if not os.access(args.report, os.W_OK):
            raise PermissionError("the folder is not writable")
    except OSError as err:
        _say(f"cannot write the report into {args.report}: {err}")
        return 2
    found = _read(args)
    if found is None:
        return 2
    _show_problems(found.problems, listing=args.problems)
    prepared = prepare(found.examples, jobs=args.jobs)
    _show_problems(prepared.problems, listing=args.problems)
    if not prepared.pages:
        _say("no labelled page to evaluate on")
        return 2
    seen = sorted(overlap(loaded, [lp.example for lp in prepared.pages]))
    if seen:
        _say(f"warning: {len(seen)} of {len(prepared.pages)} pages were in the model's training "
             f"data (e.g. {seen[0]!r}); their scores are not an evaluation")
    circular = own_proposals(loaded, [lp.example for lp in prepared.pages])
    if circular:
        _say(f"warning: {circular}")
    ev = evaluate(loaded.model, prepared.pages, baseline=not args.no_baseline,
                  favor_precision=args.favor_precision)
    keep = str(loaded.model.classes_[0])
    if keep not in prepared.label_counts:
        _say(f"warning: the model keeps '{keep}' blocks and the examples label none '{keep}' "
             f"(their labels: {', '.join(sorted(prepared.label_counts))}); its keep-or-not "
             "scores say nothing (a model trained with another --keep-label?)")
    cv = cross_validate(prepared.pages, keep, folds=args.cv, seed=args.seed, inner_folds=args.folds,
                        favor_precision=args.favor_precision)
    caveat = not_by_site(cv, len(prepared.pages))
    if caveat:
        _say(f"warning: {caveat}")
    if "skipped" in cv and args.cv >= 2:  # asked for and not run: the summary line lacked it alone
        _say(f"warning: cross-validation not run: {cv['skipped']}")
    info = {"path": str(loaded.path), "version": loaded.version, "sha256": loaded.manifest.get("sha256"),
            "labels": [str(c) for c in loaded.model.classes_]}
    data = {**sources_record(args.examples, args.store, found.file_hashes),
            "reviewed_only": args.reviewed_only,
            "seed": args.seed, "folds": args.folds, "favor_precision": args.favor_precision}
    rep = report_dict(ev, info, [str(p) for p in found.problems + prepared.problems], cv, worst=args.worst,
                      seen_in_training=seen, data=data)
    try:
        paths = write_report(rep, args.report)
    except ImportError as err:
        _say(f"{err} (report.md and report.json are written)")
        return 2
    s, w = rep["summary"], rep["word_f1"]
    line = f"keep-or-not F1 {_num(s['content_f1'], 3)}, macro F1 {_num(s['macro_f1'], 3)}"
    if w["pages_with_gold"]:
        line += f", word F1 {_num(w['noisefilter'], 3)}"
        if w["trafilatura"] is not None:
            line += f" (trafilatura {_num(w['trafilatura'], 3)})"
    if "summary" in cv:
        left_out = folds_left_out(cv)
        line += (f"; cross-validated {'by site' if caveat is None else 'not by site'}: "
                 f"keep-or-not F1 {_num(cv['summary']['content_f1'], 3)}, "
                 f"macro F1 {_num(cv['summary']['macro_f1'], 3)}"
                 + (f" ({left_out})" if left_out else ""))
    print(line)
    print("report: " + ", ".join(str(p) for p in paths))
    return 0


# -- bootstrap ------------------------------------------------------------------------------

def bootstrap_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="data set in WCXB layout (html/ and ground-truth/)")
    parser.add_argument("--out", metavar="FILE", help="JSON Lines file to write the examples to")
    parser.add_argument("--overwrite", action="store_true",
                        help="write --out over a file holding labels a person gave, or no "
                             "examples at all (refused otherwise)")
    parser.add_argument("--store", metavar="DB", help="example store to add the examples to")
    parser.add_argument("--model", help="model that proposes the kinds (default: the active model)")
    parser.add_argument("--name", help="data set name for ids and provenance (default: folder name)")
    parser.add_argument("--page-types", help="comma-separated page types to take (e.g. article)")
    parser.add_argument("--limit", type=_at_least(1), metavar="N", help="take only the first N pages")
    parser.add_argument("--skip", type=_at_least(0), default=0, metavar="N",
                        help="leave out the first N pages (of --page-types), before --limit: "
                             "pages for a holdout apart from those bootstrapped to train on")
    _add_threads(parser, fits=False)


def bootstrap_run(args: argparse.Namespace) -> int:
    from .bootstrap import BootstrapReport, bootstrap, gold_pages
    from .examples import summary_stream, write_examples
    from .progress import Progress
    from .store import ExampleStore, StoreError

    if not args.out and not args.store:
        _say("give --out FILE and/or --store DB")
        return 2
    if not (Path(args.data) / "ground-truth").is_dir():
        _say(f"{args.data} is not in WCXB layout (no ground-truth/ folder)")
        return 2
    refusal = args.out and _unwritable_examples(args.out, args.store, args.overwrite)
    if refusal:  # said before the pages are bootstrapped, which take a while
        _say(f"--out {args.out} {refusal}")
        return 2
    try:
        loaded = load_model(args.model or active_model_path())
    except NoiseFilterError as err:
        _say(str(err))
        return 2
    types = None if args.page_types is None else {t.strip() for t in args.page_types.split(",") if t.strip()}
    if types == set():  # "," took no page at all, and ended as if there were nothing to do
        _say("--page-types names no page type (e.g. --page-types article)")
        return 2
    try:
        golds = gold_pages(args.data, types, args.limit, args.skip)
        store = ExampleStore(args.store) if args.store else None  # a file that is none: said now
    except (ValueError, StoreError) as err:
        _say(str(err))
        return 2
    name = args.name or Path(args.data).resolve().name
    report = BootstrapReport()
    with Progress(len(golds), "bootstrapping") as bar:
        examples = bootstrap(golds, loaded, name, report, bar.update)
    _show_problems(report.skipped)
    said = sys.stdout
    if args.out:
        write_examples(examples, args.out)
        said = summary_stream(args.out)
        print(f"wrote {len(examples)} examples to {args.out}", file=said)
    if store is not None:
        try:
            added = store.add(examples, labelled_by=f"bootstrap:{name}", reviewed=False)
        except StoreError as err:  # locked by another writer all along: the work is not lost
            kept = f"; the examples are in {args.out}" if args.out else (
                "; give --out FILE to keep the examples in a file as well")
            _say(f"{err}{kept}")
            return 2
        print(f"store {args.store}: {added}", file=said)
    print(report, file=said)
    return 0


def _unwritable_examples(out: str, store: str | None, overwrite: bool = False) -> str | None:
    """Why bootstrap's --out cannot take the examples, or None. An example store named there
    was replaced by a JSON Lines file (or, being --store too, broken mid-run); without
    `overwrite`, a file of labels a person gave (reviewed, or not said otherwise) was replaced
    by a model's proposals, and any other text file (a README tab-completed for the new
    file's name) by examples: bootstrap's output is cheap to make again, a person's labels
    are not."""
    if store and any(_same_file(out, path) for path in (store, f"{store}-wal", f"{store}-shm")):
        return "is the --store; name a JSON Lines file"
    path = Path(out)
    if os.path.isdir(path):  # os.path's tests: Path's raise on a name too long
        return "is a folder"
    refusal = model_file_refusal(path)
    if refusal:
        return f"{refusal}; name a JSON Lines file elsewhere"
    if holds_binary_data(path):
        return ("holds binary data (an example store or a model?); give a store with --store "
                "to add to it, or name a new JSON Lines file")
    if not overwrite and (kept := _kept_text(path)):
        return f"{kept}; name a new file, or give --overwrite to replace it"
    try:
        if os.path.isfile(path):  # written in place: a folder it cannot write does not matter
            with open(path, "a", encoding="utf-8"):
                pass
        elif not os.path.lexists(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}."):
                pass
        # anything else (`/dev/stdout`, a pipe) is left to the writing, which says what fails
    except OSError as err:
        return f"cannot be written: {err.strerror or err}"
    return None


def _kept_text(path: Path) -> str | None:
    """What an existing text file holds that bootstrap's examples would replace and a person
    may have made: labels given by hand, or text that is no examples at all; None for none
    (no file, an empty one, or bootstrap's own unreviewed proposals)."""
    from .examples import read_examples

    try:
        if not os.path.isfile(path) or not path.stat().st_size:
            return None
        read = read_examples([path])
    except OSError:  # unreadable: writing it says what fails
        return None
    person = sum(block.reviewed is not False
                 for example in read.examples for block in example.blocks)
    if person:
        return f"holds {person:,} labels a person gave (not marked \"reviewed\": false)"
    if not read.examples and read.problems:
        return "holds text that is no labelled examples"
    return None


# -- promote / rollback ---------------------------------------------------------------------

def promote_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="the candidate model file (a path you trust)")
    parser.add_argument("--holdout", action="extend", nargs="*", default=[], metavar="FILE",
                        help="JSON Lines examples both models are scored on")
    parser.add_argument("--holdout-store", metavar="DB", help="example store to score on as well")
    parser.add_argument("--reviewed-only", action="store_true",
                        help="use only reviewed labels (in files: those not marked "
                             "\"reviewed\": false)")
    parser.add_argument("--max-drop", type=_share, default=0.0, metavar="X",
                        help="allowed drop of every measure (absolute, 0 to 1, default 0: no "
                             "regression)")
    for measure in ("content-f1", "macro-f1", "word-f1"):
        parser.add_argument(f"--max-drop-{measure}", type=_share, metavar="X",
                            help=f"allowed drop of {measure.replace('-', ' ')} (overrides --max-drop)")
    parser.add_argument("--allow-overlap", action="store_true",
                        help="score even on holdout pages the candidate was trained on")
    parser.add_argument("--force", action="store_true",
                        help="promote even when neither the active nor the shipped default model "
                             "can be loaded to compare against, or when it keeps another label "
                             "(the candidate's scores are shown)")
    parser.add_argument("--dry-run", action="store_true", help="compare only; change nothing")
    parser.add_argument("--jobs", type=_at_least(1), default=1,
                        help="processes that segment pages (default 1)")
    _add_problems(parser)
    _add_threads(parser, fits=False)


def promote_run(args: argparse.Namespace) -> int:
    from .evaluation import evaluate
    from .promote import (
        PromotionError, Thresholds, active_state, check_pointers, compare, install_target,
        overlap, own_proposals, switch_to, usable_folder,
    )
    from .training import prepare, sources_record

    try:
        if not args.dry_run:  # which only compares, also from a read-only install
            check_pointers(usable_folder())  # before any scoring
        candidate = load_model(args.model)
        if not args.dry_run:
            install_target(candidate)
        else:
            try:
                usable_folder()
                install_target(candidate)
            except PromotionError as err:
                _say(f"warning: {err}: a promotion without --dry-run would be refused")
    except PromotionError as err:
        _say(str(err))
        return 2
    except NoiseFilterError as err:
        _say(f"candidate refused: {err}")
        return 2
    args.examples, args.store = args.holdout, args.holdout_store
    found = _read(args, options="--holdout FILE… and/or --holdout-store DB",
                  store_option="--holdout-store", what="holdout page")
    if found is None:
        return 2
    _show_problems(found.problems, listing=args.problems)
    seen = overlap(candidate, found.examples)
    if seen and not args.allow_overlap:
        _say(f"{len(seen)} holdout pages were in the candidate's training data (e.g. "
             f"{sorted(seen)[0]!r}); a holdout must be unseen (or pass --allow-overlap)")
        return 2
    if seen:  # scored anyway: said, as `evaluate` says it (the scores below showed no sign)
        _say(f"warning: {len(seen)} holdout pages were in the candidate's training data (e.g. "
             f"{sorted(seen)[0]!r}; --allow-overlap): its scores on them flatter it")
    prepared = prepare(found.examples, jobs=args.jobs, desc="segmenting holdout")
    _show_problems(prepared.problems, listing=args.problems)
    if not prepared.pages:
        _say("the holdout has no labelled page")
        return 2
    drops = {m: getattr(args, f"max_drop_{m}") for m in ("content_f1", "macro_f1", "word_f1")}
    thresholds = Thresholds(**{m: args.max_drop if v is None else v for m, v in drops.items()})
    cand_ev = evaluate(candidate.model, prepared.pages, desc="scoring candidate", baseline=False)
    state = active_state()  # what is active as the bar is chosen: checked again at the switch
    bar, kind = _bar_to_clear()
    if kind == "active" and bar.manifest.get("sha256") == candidate.manifest.get("sha256"):
        _say(f"{args.model} is already the active model")
        return 2
    if bar is None:
        _show_scores(candidate.version, cand_ev, len(prepared.pages))
        if not args.force:
            _say("not promoted: no model could be loaded to compare the candidate against; "
                 "pass --force to promote it on its own scores")
            return 2
        checks = []
    else:
        seen_by_bar = overlap(bar, found.examples)
        if seen_by_bar:
            # no reason to refuse: it favours the model to beat, so a candidate that passes
            # passed a harder test; but its scores there are no measure of unseen pages
            _say(f"warning: {len(seen_by_bar)} holdout pages were in the {kind} model's training "
                 f"data (e.g. {sorted(seen_by_bar)[0]!r}): it is scored on pages it has seen")
        for model in {m.version: m for m in (candidate, bar)}.values():
            circular = own_proposals(model, [lp.example for lp in prepared.pages])
            if circular:
                _say(f"warning: {circular}")
        lost = [str(c) for c in bar.model.classes_ if c not in set(candidate.model.classes_)]
        if lost:
            # the scores compared are blind to it (macro F1 counts labels both models give), so
            # a content/noise model replaced the four-label one without a word
            _say(f"warning: the candidate gives no {', '.join(map(repr, lost))} label, which the "
                 f"{kind} model gives" + (": cleaned pages will list no related links"
                                          if "related" in lost else ""))
        act_ev = evaluate(bar.model, prepared.pages, desc=f"scoring {kind} model", baseline=False)
        try:
            checks = compare(cand_ev, act_ev, thresholds)
        except PromotionError as err:
            _show_scores(candidate.version, cand_ev, len(prepared.pages),
                         why=f"not comparable with the {kind} model")
            if not args.force:
                _say(f"not promoted: {err}; pass --force to promote it without a comparison")
                return 2
            checks = []
        else:
            print(f"candidate {candidate.version} against {kind} {bar.version} on "
                  f"{len(prepared.pages)} holdout pages:")
            _show_checks(checks)
    if not all(c.passed for c in checks):
        print("not promoted: the candidate regresses on the holdout")
        return 1
    if args.dry_run:
        print("would promote (dry run: nothing changed)")
        return 0
    try:
        holdout = ", ".join([*args.holdout, *([args.holdout_store] if args.holdout_store else [])])
        holdout_data = {**sources_record(args.holdout, args.holdout_store, found.file_hashes),
                        "reviewed_only": args.reviewed_only}
        target = switch_to(candidate, checks, holdout=holdout,
                           compared_with=f"{kind} {bar.version}" if bar is not None else None,
                           compared_state=state, holdout_data=holdout_data)
    except (PromotionError, NoiseFilterError) as err:
        _say(f"not promoted: {err}")
        return 2
    print(f"promoted: {target} is now the active model (rollback: noisefilter rollback)")
    return 0


def _show_checks(checks) -> None:
    for c in checks:
        verdict = "ok" if c.passed else "REGRESSION"
        print(f"  {c.measure:<11} {_num(c.candidate)} vs {_num(c.active)} (may drop {c.allowed_drop:g}) "
              f"{verdict}{'  ' + c.note if c.note else ''}")


def _bar_to_clear() -> tuple[LoadedModel | None, str]:
    """The model a candidate must do no worse than, and what it is ("active" or "shipped
    default"); (None, "") when none loads. A broken active model cannot be the bar (it serves
    nothing), so the shipped default, what `clean()` falls back to once the pointer is gone,
    takes its place."""
    active = None
    try:
        active = active_model_path()  # raises for an ACTIVE pointer that names no model file
        return load_model(active), "active"
    except NoiseFilterError as err:
        _say(f"the active model cannot be loaded: {err}")
    if active is not None and active.resolve() == shipped_model_path().resolve():
        return None, ""  # the shipped default is what just failed
    try:
        shipped = load_model(shipped_model_path())
    except NoiseFilterError as err:
        _say(f"the shipped default model cannot be loaded either: {err}")
        return None, ""
    _say(f"comparing against the shipped default model {shipped.version} instead")
    return shipped, "shipped default"


def _show_scores(version: str, ev, pages: int, why: str = "no model to compare against") -> None:
    """The candidate's own scores, for when there is nothing to compare them with."""
    print(f"candidate {version} on {pages} holdout pages ({why}):")
    for measure, value in ev.summary().items():
        print(f"  {measure:<11} {_num(value)}")


def rollback_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Make the previously active model active again (run twice to undo)."


def rollback_run(args: argparse.Namespace) -> int:
    from .promote import PromotionError, rollback

    try:
        was, now = rollback()
    except PromotionError as err:
        _say(str(err))
        return 2
    print(f"active model: {now or '(shipped default)'} (was {was or '(shipped default)'})")
    return 0


if __name__ == "__main__":
    # `python -m train.cli train …`, the module `noisefilter` runs these commands from, did
    # nothing and exited 0; it is `noisefilter train …`
    from filter.cli import main

    sys.exit(main())
