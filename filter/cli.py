"""The `noisefilter` command. Each subcommand lives with the code it drives; this module only
builds the argument parser and dispatches (imports are lazy so `noisefilter clean` stays fast).

    noisefilter clean FILE|- [--text] [--url URL] [--json] [--model MODEL] [--max-bytes N] [--timeout S]
    noisefilter batch INPUT... -o OUT.jsonl [--workers N]            (filter.batch)
    noisefilter train --examples FILE... [--store DB] --out MODEL     (train.cli)
    noisefilter evaluate --model MODEL --examples FILE... --report DIR (train.cli)
    noisefilter bootstrap / promote / rollback                        (train.cli)
    noisefilter serve [--host H] [--port P] [--workers N] [--model M] (api.server)
    noisefilter label                                                 (api.server)
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from . import Cleaner, InputTooLarge, Limits, NoiseFilterError, __version__

#: subcommand -> module that provides `add_arguments(parser)` and `run(args) -> int`
SUBCOMMANDS = {
    "clean": ("filter.cli", "Clean one HTML or text document and print the clean text."),
    "batch": ("filter.batch", "Clean many documents (folders, JSON Lines, WARC) into JSON Lines."),
    "train": ("train.cli:train", "Train a model from labelled examples."),
    "evaluate": ("train.cli:evaluate", "Evaluate a model on labelled examples and write a report."),
    "bootstrap": ("train.cli:bootstrap", "Turn a gold-text data set into labelled examples."),
    "promote": ("train.cli:promote", "Make a model the active one if it does not regress."),
    "rollback": ("train.cli:rollback", "Go back to the previously active model."),
    "serve": ("api.server:serve", "Run the HTTP service."),
    "label": ("api.server:label", "Open the labelling page on a local server."),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="HTML (or text with --text) file, or - for standard input")
    parser.add_argument("--text", action="store_true",
                        help="input is already-extracted UTF-8 text, one block per line")
    parser.add_argument("--url", help="the page's URL (resolves related links)")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--model", help="model file (default: the active model)")
    parser.add_argument("--max-bytes", type=int, default=Limits.max_bytes,
                        help="largest page in bytes (default %(default)d)")
    parser.add_argument("--timeout", type=float, default=Limits.timeout,
                        help="seconds the page may take, checked once extraction is done "
                             "(default %(default)g)")


def run(args: argparse.Namespace) -> int:
    try:
        data = _read(args.file, args.max_bytes)
    except OSError as err:
        print(f"noisefilter: cannot read {args.file}: {err.strerror or err}", file=sys.stderr)
        return 2
    try:
        if len(data) > args.max_bytes:
            name = "standard input" if args.file == "-" else args.file
            raise InputTooLarge(f"{name} is over the limit of {args.max_bytes:,} bytes (--max-bytes)")
        cleaner = Cleaner(model=args.model, limits=Limits(max_bytes=args.max_bytes, timeout=args.timeout))
        if args.text:
            result = cleaner.clean_text(data)  # UTF-8, as the library and the service take it
        else:
            result = cleaner.clean(data, url=args.url)
    except NoiseFilterError as err:
        print(f"noisefilter: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        if result.empty_reason:
            print(f"noisefilter: empty result: {result.empty_reason}", file=sys.stderr)
        sys.stdout.write(result.text + ("\n" if result.text else ""))
    return 0


def _read(path: str, max_bytes: int) -> bytes:
    """The file's (or standard input's) bytes, at most one past `max_bytes`: that is enough to
    refuse a page over the limit, and a huge file is never read whole."""
    if path == "-":
        return sys.stdin.buffer.read(max_bytes + 1)
    with open(path, "rb") as fh:
        return fh.read(max_bytes + 1)


def _load(target: str):
    module, _, prefix = target.partition(":")
    mod = importlib.import_module(module)
    add = getattr(mod, f"{prefix}_add_arguments" if prefix else "add_arguments")
    run_fn = getattr(mod, f"{prefix}_run" if prefix else "run")
    return add, run_fn


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="noisefilter",
        description="Remove related-news lists, teasers, prompts and junk from news pages: "
                    "trafilatura finds the article, a trained classifier labels its blocks.")
    parser.add_argument("--version", action="version", version=f"noisefilter {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    for name, (target, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == chosen:  # only the chosen subcommand's module is imported
            add, run_fn = _load(target)
            add(p)
            p.set_defaults(func=run_fn)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
