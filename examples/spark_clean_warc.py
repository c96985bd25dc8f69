"""Example Spark job: clean the pages of WARC files into Parquet (or JSON Lines).

    spark-submit examples/spark_clean_warc.py --output cleaned/ crawl-*.warc.gz
    spark-submit examples/spark_clean_warc.py --model models/my.joblib --format json \\
        --output s3://bucket/cleaned/ --paths-from warc.paths

One task per WARC file (a WARC.gz is read as a stream, one record at a time, so a 1 GB file
needs no more memory than its largest page). Each output row is one page record, or one report
of a record that held no cleanable page (``error`` set); the columns are
`filter.integrations.spark.OUTPUT_SCHEMA`. See docs/crawl-scale.md for running it on a cluster.

An output that exists is refused unless ``--overwrite`` is given. A local output (a path without
scheme under a local master, or a ``file:`` URL) is written into a sibling folder
``<output>.tmp-<random>`` that replaces the old output only once the job has succeeded; an
output that is an input, holds one (or the model, or the ``--paths-from`` list), or is the
current folder or holds it is refused before Spark starts. Elsewhere (``s3://``, ``hdfs://``, a
path on a cluster's default file system) ``--overwrite`` is Spark's own: the old output is
deleted before the tasks run.
"""

from __future__ import annotations

import argparse
import gzip
import os
import secrets
import shutil
import sys
import zlib
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from pyspark.sql import SparkSession

from filter.errors import ModelError
from filter.limits import Limits
from filter.modelfile import check_model_file, resolve_model_path
from filter.integrations.spark import OUTPUT_SCHEMA, _local_path, clean_warc_files, ship_model

PROG = "spark_clean_warc.py"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("warcs", nargs="*", help="WARC files (local paths or fsspec URLs)")
    parser.add_argument("--paths-from", help="a text file with one WARC path per line")
    parser.add_argument("--output", required=True, help="output folder (Spark writes parts)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the output folder if it exists (refused otherwise)")
    parser.add_argument("--format", choices=("parquet", "json"), default="parquet")
    parser.add_argument("--model", help="model file to ship to the executors "
                                        "(default: the model installed with noisefilter)")
    parser.add_argument("--partitions", type=_positive_int,
                        help="tasks (default: one per WARC file)")
    parser.add_argument("--timeout", type=float, default=Limits.timeout)
    parser.add_argument("--max-bytes", type=int, default=Limits.max_bytes)
    args = parser.parse_args(argv)
    # checked here, on the driver: a bad value failed every task on the executors instead
    for flag, field in (("--timeout", "timeout"), ("--max-bytes", "max_bytes")):
        try:
            Limits(**{field: getattr(args, field)})
        except ValueError as err:
            parser.error(f"{flag}: {err}")
    if args.model:
        # checked here: a missing or mismatched model failed in Spark's addFile with a Java
        # traceback, or in every task; a bare name is a model in the models folder, as for
        # `noisefilter clean --model`
        model = _local_path(args.model)  # a file: URL as the inputs and --output take one
        if model is None:
            parser.error(f"--model: {args.model} is not on this machine: the job ships the model "
                         "from here (give a path or a file: URL)")
        try:
            args.model = str(resolve_model_path(model).absolute())
            check_model_file(args.model)
        except ModelError as err:
            parser.error(f"--model: {err}")
    if args.paths_from:
        args.warcs += read_paths(args.paths_from, parser)
    if not args.warcs:
        parser.error("no WARC files given")
    problem = named_twice(args.warcs) or output_problem(args)
    if problem:
        refuse(problem)
    return args


def _positive_int(value: str) -> int:
    """--partitions: 0 failed in Spark with a Java traceback, a negative number the same."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number of tasks")
    return number


def refuse(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)
    raise SystemExit(2)


def read_paths(name: str, parser: argparse.ArgumentParser) -> list[str]:
    """The WARC paths of a `--paths-from` list, one a line: plain or gzipped (Common Crawl's
    `warc.paths.gz`), a byte-order mark at its start no part of the first path (Notepad
    writes one: that WARC was an `UnreadableFile` row). A list that cannot be read is one line
    and exit 2, as every bad argument (it was a traceback)."""
    try:
        with open(name, "rb") as fh:
            data = fh.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8-sig")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as err:
        parser.error(f"--paths-from {name}: cannot be read as a list of paths "
                     f"({getattr(err, 'strerror', None) or err})")
    return [line.strip() for line in text.splitlines() if line.strip()]


def named_twice(warcs: list[str]) -> str | None:
    """Why a WARC would be cleaned twice, or None: named twice (overlapping globs, `--paths-from`
    lists joined), by the same path or URL or, for a local file, by another path to it, as
    `noisefilter batch` refuses it. The job wrote every one of its rows twice."""
    seen: dict[object, str] = {}
    for path in warcs:
        local = _local_path(path)
        key: object = path
        if local is not None:  # the file itself: a symlink's or a hard link's path is another
            try:
                info = os.stat(local)
                key = info.st_dev, info.st_ino
            except OSError:  # not there (yet): by its path, as Spark will name it
                key = os.path.realpath(local)
        if key in seen:
            return f"{path} is named twice (as {seen[key]} too): its pages would be cleaned twice"
        seen[key] = path
    return None


def output_problem(args: argparse.Namespace) -> str | None:
    """Why a local ``--output`` cannot be written, found before Spark starts (as `noisefilter
    batch` does for ``-o``): Spark's overwrite deleted the output folder before any task read
    the inputs inside it, so the job read nothing and exited 0. Not checked for a remote
    output."""
    if urlsplit(args.output).scheme == "file" and any(c in args.output for c in "#?%"):
        # Hadoop reads a file: URL's characters as they are, this job would read "#2" as a
        # fragment ("%20" as a space): the two would name different folders, and --overwrite
        # replaced the one this job checked, not the one Spark wrote
        return (f"{args.output}: a file: URL with '#', '?' or '%' in it; give the folder as a "
                "path")
    local = _local_path(args.output)
    if local is None:
        return None
    out = Path(local).resolve()
    keep = [("input", path) for path in args.warcs]
    keep += [("model", args.model)] if args.model else []
    keep += [("paths list", args.paths_from)] if args.paths_from else []
    for kind, path in keep:
        named = _local_path(path)
        if named is None:
            continue
        named = Path(named).resolve()
        if named == out:
            return f"{args.output} is also an input: write the output to another folder"
        if out in named.parents:
            return f"{args.output} holds the {kind} {path}: write the output to another folder"
    if args.overwrite:
        here = Path.cwd().resolve()
        if out == here or out in here.parents:
            return (f"{args.output} is the current folder or holds it: write the output to "
                    "another folder")
    return None


def worker_python(spark_context) -> None:
    """Run the Python workers of a local master on this interpreter, which has noisefilter
    installed. PySpark starts them with ``PYSPARK_PYTHON``, else ``python3`` from PATH: run
    from a virtual environment that is not on PATH (``.venv/bin/python job.py``, a notebook
    kernel, an IDE), every task failed on ``import filter``."""
    if "PYSPARK_PYTHON" not in os.environ and spark_context.master.startswith("local"):
        spark_context.pythonExec = sys.executable  # read when each job's functions are sent


def main(argv=None) -> None:
    args = parse_args(argv)
    spark = SparkSession.builder.appName("noisefilter-clean-warc").getOrCreate()
    sc = spark.sparkContext
    worker_python(sc)
    local = _local_path(args.output)
    if (local is not None and urlsplit(args.output).scheme != "file"
            and not sc.master.startswith("local")):
        local = None  # a path without scheme, on a cluster: on its default file system (HDFS…)
    out = None if local is None else Path(os.path.abspath(local))
    if out is not None and (out.exists() or out.is_symlink()) and not args.overwrite:
        refuse(f"{args.output} exists: pass --overwrite to replace it, or write to another "
               "folder")
    model = ship_model(sc, args.model) if args.model else None
    paths = sc.parallelize(args.warcs, args.partitions or len(args.warcs))
    rows = paths.mapPartitions(partial(clean_warc_files, model=model, max_bytes=args.max_bytes,
                                       timeout=args.timeout))
    frame = spark.createDataFrame(rows, OUTPUT_SCHEMA)
    if out is None:
        if args.overwrite:
            print(f"{PROG}: {args.output} is not a local folder: --overwrite deletes it before "
                  "the tasks run", file=sys.stderr)
        write(frame, args.output, "overwrite" if args.overwrite else "errorifexists",
              args.format)
    else:
        write_local(frame, out, args.format, args.overwrite)


def write(frame, path: str, mode: str, fmt: str) -> None:
    writer = frame.write.mode(mode)
    if fmt == "parquet":
        writer.parquet(path)
    else:  # JSON Lines, one part file per task; null fields written, as by noisefilter batch
        writer.option("ignoreNullFields", False).json(path)


def write_local(frame, out: Path, fmt: str, overwrite: bool) -> None:
    """Write into a sibling temporary folder, then put it in the output's place: a run that
    fails leaves an earlier output as it was (Spark's overwrite deleted it first). Without
    `overwrite`, an output that appeared while the job ran (another run's) is left alone, and
    this run's output stays in the temporary folder, which is named."""
    tmp = out.with_name(f"{out.name}.tmp-{secrets.token_hex(4)}")
    try:
        write(frame, f"file://{tmp}", "errorifexists", fmt)  # not a URI: Hadoop quotes it
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replacing = out.exists() or out.is_symlink()
    if replacing and not overwrite:
        refuse(f"{out} appeared while the job ran; this run's output is in {tmp} (pass "
               "--overwrite to replace it)")
    old = out.with_name(f"{out.name}.old-{secrets.token_hex(4)}")
    if replacing:
        os.rename(out, old)
    os.rename(tmp, out)
    if replacing:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()

if __name__ == "__main__":
    main()
