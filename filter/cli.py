"""The `noisefilter` command. Each subcommand lives with the code it drives; this module only
builds the argument parser and dispatches (imports are lazy so `noisefilter clean` stays fast).

    noisefilter clean FILE|- [--text] [--url URL] [--json] [--model MODEL] [--max-bytes N] [--timeout S]
    noisefilter batch INPUT... -o OUT.jsonl [--workers N]            (filter.batch)
    noisefilter train --examples FILE... [--store DB] [--holdout FILE...] --out MODEL (train.cli)
    noisefilter evaluate --model MODEL --examples FILE... --report DIR (train.cli)
    noisefilter bootstrap / promote / rollback                        (train.cli)
    noisefilter store import DB FILE... | export DB -o FILE | count DB (train.store)
    noisefilter serve [--host H] [--port P] [--workers N] [--model M] (api.server)
    noisefilter label                                                 (api.server)

What every subcommand shares, set up here: standard output is UTF-8 whatever the locale says,
and a reader that goes away (`| head`) ends the command quietly, as it ends `cat`.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import io
import json
import logging
import math
import os
import signal
import sys
import threading

from . import InputTooLarge, Limits, ModelError, NoiseFilterError, __version__
from .compression import damage_types, decompressed
from .inputs import not_downloaded, read_at_most
from .limits import MAX_BYTES, check_workers

#: subcommand -> module that provides `add_arguments(parser)` and `run(args) -> int`
SUBCOMMANDS = {
    "clean": ("filter.cli", "Clean one HTML or text document and print the clean text."),
    "batch": ("filter.batch", "Clean many documents (folders, JSON Lines, WARC) into JSON Lines."),
    "train": ("train.cli:train", "Train a model from labelled examples."),
    "evaluate": ("train.cli:evaluate", "Evaluate a model on labelled examples and write a report."),
    "bootstrap": ("train.cli:bootstrap", "Turn a gold-text data set into labelled examples."),
    "store": ("train.store", "Import, export or count the labelled examples of an example store, or show its replaced labels."),
    "promote": ("train.cli:promote", "Make a model the active one if it does not regress."),
    "rollback": ("train.cli:rollback", "Go back to the previously active model."),
    "serve": ("api.server:serve", "Run the HTTP service."),
    "label": ("api.server:label", "Open the labelling page on a local server."),
}


#: `--favor-precision` of `clean` and `batch`
PRECISION_HELP = ("hold blocks to stricter content thresholds: less of the page's furniture "
                  "kept, a little more of its content lost (as trafilatura's favor_precision)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="HTML (or text with --text) file, plain or compressed "
                                     "(gzip, bzip2, xz, zstd), or - for standard input")
    # more files than one, which `main` puts here from what argparse does not know: said with
    # a pointer to `batch` (argparse said "unrecognized arguments")
    parser.set_defaults(more_files=[])
    parser.add_argument("--text", action="store_true",
                        help="input is already-extracted text, one block per line (UTF-8, or "
                             "UTF-16/32 with a byte-order mark)")
    parser.add_argument("--url", help="the page's URL (resolves related links)")
    parser.add_argument("--charset", type=charset_name,
                        help="the charset its HTTP response named (Content-Type), as a crawler "
                             "kept it, read as browsers read it: for HTML, first (a byte-order "
                             "mark and a page valid in UTF-8 still win); for text, where it is "
                             "not valid UTF-8")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--model", help="model file, or the file name of one in the models "
                                         "folder, e.g. mysite-1.joblib (default: the active model)")
    parser.add_argument("--max-bytes", type=byte_count, default=Limits.max_bytes,
                        help="largest page in bytes (default %(default)d)")
    parser.add_argument("--timeout", type=positive_seconds, default=Limits.timeout,
                        help="seconds the page may take, checked between cleaning stages "
                             "(default %(default)g)")
    parser.add_argument("--favor-precision", action="store_true", help=PRECISION_HELP)


def charset_name(text: str) -> str:
    """The argparse type of --charset: a label browsers know (the library ignores one they do
    not, as browsers do; given by hand, it is a typo)."""
    from .decoding import resolve_label  # here: the command starts without trafilatura

    if resolve_label(text) is None:
        raise argparse.ArgumentTypeError(f"{text!r} is no charset label browsers know "
                                         "(utf-8, windows-1252, shift_jis, gb18030…)")
    return text


def positive_int(text: str) -> int:
    """The argparse type of sizes and counts (--max-bytes, --workers). Zero or less is never
    what was meant: a negative --max-bytes crashed `clean` and had `batch` refuse every page as
    too large. argparse reports the refusal naming the option, with exit status 2."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text}")
    return value


def byte_count(text: str) -> int:
    """The argparse type of --max-bytes: a positive whole number up to `MAX_BYTES`."""
    value = positive_int(text)
    if value > MAX_BYTES:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_BYTES:,} bytes (1 TiB), not {text}")
    return value


def worker_count(text: str) -> int:
    """The argparse type of --workers: a positive whole number, at most `max_workers` (a typo
    such as 400 forked that many processes, each with its own copy of the model)."""
    value = positive_int(text)
    try:
        check_workers(value, "it")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value


def positive_seconds(text: str) -> float:
    """The argparse type of time limits (--timeout): a positive, finite number of seconds. NaN
    is never exceeded by any elapsed time and infinity never reached, so either quietly meant
    no limit at all; zero or less would fail every page."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def run(args: argparse.Namespace) -> int:
    if args.more_files:
        print("noisefilter: clean takes one document; noisefilter batch cleans many (HTML files, "
              "folders, JSON Lines, WARC files)", file=sys.stderr)
        return 2
    if args.text and args.url is not None:
        # one of the command's documented forms (a wrapper passing --url on every call, text
        # or HTML, was refused with status 2): said, not dropped silently
        print("noisefilter: warning: --url is not used with --text (plain text has no links to "
              "resolve)", file=sys.stderr)
    try:
        data = _read(args.file, args.max_bytes)
    except (*damage_types(), ValueError) as err:  # ValueError: zstd without a zstd module
        hint = (not_downloaded(args.file) if isinstance(err, FileNotFoundError)
                else " (noisefilter batch cleans the pages of a folder)"
                if isinstance(err, IsADirectoryError) else "")
        reason = getattr(err, "strerror", None) or err
        print(f"noisefilter: cannot read {args.file}: {reason}{hint}", file=sys.stderr)
        return 2
    try:
        if len(data) > args.max_bytes:
            name = "standard input" if args.file == "-" else args.file
            raise InputTooLarge(f"{name} is over the limit of {args.max_bytes:,} bytes (--max-bytes)")
        from .cleaner import Cleaner  # here, not above: `--help` needs none of the pipeline

        cleaner = Cleaner(model=args.model, limits=Limits(max_bytes=args.max_bytes, timeout=args.timeout),
                          favor_precision=args.favor_precision)
        if args.text:
            # bytes as the library takes them (UTF-8, a BOM's, or the charset given)
            result = cleaner.clean_text(data, charset=args.charset)
        else:
            result = cleaner.clean(data, url=args.url, charset=args.charset)
    except NoiseFilterError as err:
        print(f"noisefilter: {type(err).__name__}: {err}", file=sys.stderr)
        # a model that cannot be loaded fails every page: a loop over pages that skips those
        # whose status is 2 (bad input, a timeout) stops on 3, as `serve` and `label` exit
        return 3 if isinstance(err, ModelError) else 2
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        if result.empty_reason:
            print(f"noisefilter: empty result: {result.empty_reason}", file=sys.stderr)
        _write_out(result.text + ("\n" if result.text else ""))
    return 0


def _write_out(text: str, piece: int = 1 << 16) -> None:
    """Write to standard output in pieces: one write of a large text to a pipe whose reader
    goes away midway (`| head -1`) ends as a short write, which Python does not report, so the
    command exited 0 with most of its output lost; a later piece's write raises
    BrokenPipeError (status 141, see `_reader_gone`)."""
    for start in range(0, len(text), piece):
        sys.stdout.write(text[start:start + piece])


def _read(path: str, max_bytes: int) -> bytes:
    """The file's (or standard input's) bytes, at most one past `max_bytes`: that is enough to
    refuse a page over the limit, and a huge file is never read whole. A compressed page (gzip,
    bzip2, xz, zstd, known by its first bytes) is decompressed, the limit applying to the page,
    as `batch` reads the pages of a folder: the library itself reads gzip and zstd only."""
    if path == "-":
        if sys.stdin is None:  # the command was started with it closed (`<&-`)
            raise OSError(errno.EBADF, "standard input is closed")
        with decompressed(sys.stdin.buffer) as stream:
            return read_at_most(stream, max_bytes + 1)
    with open(path, "rb") as fh, decompressed(fh) as stream:
        return read_at_most(stream, max_bytes + 1)


def _load(target: str):
    module, _, prefix = target.partition(":")
    mod = importlib.import_module(module)
    add = getattr(mod, f"{prefix}_add_arguments" if prefix else "add_arguments")
    run_fn = getattr(mod, f"{prefix}_run" if prefix else "run")
    return add, run_fn


#: the status the shell reports for a program killed by SIGPIPE (128 + 13)
BROKEN_PIPE_STATUS = 141


def _utf8_stdout() -> None:
    """Write standard output as UTF-8 whatever the locale says: it is text data (clean text,
    JSON) bound for files and other programs, and under an ASCII locale (`LANG=C`,
    `PYTHONIOENCODING=ascii`) a page's first "é" ended the command with a UnicodeEncodeError.
    The one thing UTF-8 cannot hold, a lone surrogate (a --url whose bytes were not UTF-8), is
    written as its `\\udcXX` escape, which in JSON output reads back to the same string."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="backslashreplace")


#: errors of writing to a disk or quota that is full
_OUTPUT_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _reader_gone() -> int:
    """End quietly once the reader of standard output has gone (`noisefilter clean page.html |
    head -1`). Python ignores SIGPIPE and raises BrokenPipeError instead; cat, grep and the
    other filters are killed by SIGPIPE, which the shell reports as 141, so the command exits
    with that status and no message: `set -o pipefail` and $PIPESTATUS see what they see of
    any of them. Standard output is pointed at /dev/null first, so that the flush at
    interpreter exit does not fail again (the recipe of Python's signal module docs)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return BROKEN_PIPE_STATUS


class _ClosedOutput(io.TextIOBase):
    """Standard output of a command started without it (`>&-`), which Python gives as None:
    the first write raised AttributeError, a traceback. Here a write fails as writing to a
    closed descriptor does, and `main` reports it in one line; a command that writes only
    files (`batch -o FILE`) runs as usual."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def _standard_streams() -> None:
    """Stand in for standard streams the command was started without: stdout as
    `_ClosedOutput` (log records bound for it are dropped quietly), stderr as the null device
    (messages are lost, exit statuses still say what happened; every print to None raised
    AttributeError, status 1, before any work)."""
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
        logging.raiseExceptions = False  # the server's access log: dropped, not a traceback each
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")


class _CommandLog(logging.Handler):
    """Log records as the commands print their own warnings: `noisefilter: warning: ...`, on
    whatever `sys.stderr` is when the record comes (one instance, so a second `main()` in the
    same process adds nothing)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"noisefilter: {record.levelname.lower()}: {self.format(record)}",
                  file=sys.stderr)
        except Exception:  # logging's own rule: a failed record is reported, not raised
            self.handleError(record)


_COMMAND_LOG = _CommandLog()


def _library_log_to_stderr() -> None:
    """Show what the library and the training tools log (a NOISEFILTER_MODELS_DIR that is no
    folder, a page left out of training) as the command's own warnings. Without a handler,
    Python printed the bare message, which read as if it came from nowhere. `serve` and `label`
    set up the service's logging instead."""
    for name in ("filter", "train"):
        logging.getLogger(name).addHandler(_COMMAND_LOG)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a process manager, `timeout`, `kill`), raised where Ctrl-C's KeyboardInterrupt
    is, so that a command stops as it does on Ctrl-C: what it writes left whole (a batch output
    line by line, other files renamed into place), its workers stopped, the exit handlers run.
    By the default action, it died at once and left its temporary files (multiprocessing's
    `/tmp/pymp-*`, a half-written file's `.part`)."""


#: the status of a command stopped by SIGTERM, as the shell reports one killed by it
TERMINATED_STATUS = 128 + signal.SIGTERM


#: set once SIGTERM came: a command that stops on it by itself (`batch` says how to resume
#: and returns as on Ctrl-C) still exits with `TERMINATED_STATUS`
_SIGTERM_CAME = threading.Event()


def _terminate(signum: int, frame) -> None:
    _SIGTERM_CAME.set()
    raise _Terminated


def _stop_on_sigterm() -> bool:
    """Stop on SIGTERM as on Ctrl-C (`_Terminated`), unless the process has a handler of its
    own or this is not the main thread; whether it was set up."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        return False
    signal.signal(signal.SIGTERM, _terminate)
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _utf8_stdout()
    parser = argparse.ArgumentParser(
        prog="noisefilter",
        description="Remove related-news lists, teasers, prompts and junk from news pages: "
                    "trafilatura finds the article, a trained classifier labels its blocks.",
        epilog="Output is UTF-8 whatever the locale says. Exit status: 0 done (a batch: also "
               "when some of its pages failed, each a line of the output); 1 output that cannot "
               "be written (a full disk, a closed standard output), a promotion refused as a "
               "regression; 2 bad arguments, input that cannot be read or cleaned; 3 a model "
               "that cannot be loaded (clean, batch), a server that cannot start (serve, "
               "label); 130 Ctrl-C; 141 a reader that went away (| head); 143 SIGTERM.")
    parser.add_argument("--version", action="version", version=f"noisefilter {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    try:
        for name, (target, help_text) in SUBCOMMANDS.items():
            p = sub.add_parser(name, help=help_text, description=help_text)
            if name == chosen:  # only the chosen subcommand's module is imported (seconds)
                add, run_fn = _load(target)
                add(p)
                p.set_defaults(func=run_fn)
    except KeyboardInterrupt:
        print("noisefilter: interrupted", file=sys.stderr)
        return 130
    # (--version and --help go to stderr when stdout is closed)
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command == "clean" and not any(a.startswith("-") for a in unknown):
        args.more_files = unknown  # `clean a.html b.html`, `clean a.html --json b.html`
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")  # as parse_args says it
    _standard_streams()
    # (serve and label: the service stops on SIGTERM by itself, `api.server`)
    _SIGTERM_CAME.clear()  # (from an earlier `main` in this process)
    on_sigterm = args.command not in ("serve", "label") and _stop_on_sigterm()
    if args.command not in ("serve", "label"):
        _library_log_to_stderr()
    try:
        status = _run_command(args)
    finally:
        if on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return TERMINATED_STATUS if _SIGTERM_CAME.is_set() else status


def _run_command(args: argparse.Namespace) -> int:
    """The command's status; an interrupt, a reader gone or a full disk in one line."""
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # so that a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        return _reader_gone()
    except _Terminated:
        print("noisefilter: terminated", file=sys.stderr)
        return TERMINATED_STATUS
    except KeyboardInterrupt:  # every command writes its files atomically: nothing half-written
        print("noisefilter: interrupted", file=sys.stderr)
        return 130
    except OSError as err:
        if err.errno not in _OUTPUT_FULL | {errno.EBADF} or not err.strerror:
            raise
        # a full disk or quota, a closed stdout: one line, not a traceback (and not a second
        # one at exit)
        print(f"noisefilter: cannot write the output: {err.strerror}", file=sys.stderr)
        if not isinstance(sys.stdout, _ClosedOutput):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
