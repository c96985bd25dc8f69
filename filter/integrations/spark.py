"""Cleaning on Spark: `mapPartitions` helpers that load the model once per executor process.

    from functools import partial
    from filter.integrations.spark import OUTPUT_SCHEMA, clean_rows, ship_model

    model = ship_model(spark.sparkContext, "models/my-model.joblib")  # or None: shipped model
    rows = df.select("id", "url", "html").rdd.mapPartitions(partial(clean_rows, model=model))
    spark.createDataFrame(rows, OUTPUT_SCHEMA).write.parquet("cleaned/")

`clean_warc_files` does the same for an RDD of WARC paths (see ``examples/spark_clean_warc.py``).

The model is loaded on first use in each Python worker and kept in a module-level cache, which
lives as long as the worker: PySpark reuses its Python workers between tasks
(``spark.python.worker.reuse``, on by default), so each executor core loads the model once,
not once per partition. Each worker classifies with one OpenMP thread, since Spark already runs
one worker per core.

How the model reaches the executors: with ``model=None`` each executor uses the model shipped
inside its installed noisefilter package. Another model file is sent with `ship_model`, which
checks it as loading does, then adds a copy of it and its manifest, named by the file's sha256,
to the job (``SparkContext.addFile``); executors find them by name through ``SparkFiles``
(only there: not a file of the same name in their working folder) and check the sha256 against
the manifest before loading. A model given by path (on a file system every executor mounts) is
loaded again when its file changes.

Every row yields a row: a page that cannot be cleaned gives a row with ``error`` set. Pages are
cleaned inside the Python worker, so the time limit (``timeout``) is checked between the
pipeline's stages; use `filter.batch.clean_many` where a hung page must be killed.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from threadpoolctl import threadpool_limits

from ..batch import RECORD_FIELDS, Outcome, as_document
from ..cleaner import Cleaner, Limits, clean_page
from ..errors import ModelError, NoiseFilterError
from ..files import temporary_beside, write_synced
from ..inputs import Document, Failure, given_id
from ..modelfile import LoadedModel, load_model, manifest_path

#: the rows `clean_rows` and `clean_warc_files` yield, as a Spark DDL schema
OUTPUT_SCHEMA = (
    "id string, url string, source string, text string, title string, author string, "
    "date string, language string, label_counts map<string,int>, "
    "related_links array<struct<title:string,url:string>>, model_version string, "
    "empty_reason string, error struct<type:string,message:string>, "
    "warc_date string, warc_truncated string"
)
_EXTRA_FIELDS = ("warc_date", "warc_truncated")

#: before the name `ship_model` returns: a model shipped with the job is found through
#: SparkFiles only (`_resolve_model`)
_SHIPPED = "sparkfiles:"

#: this worker's cleaners by settings, each with the identity of the model file it loaded
_cleaners: dict[tuple, tuple[tuple | None, Cleaner]] = {}
_lock = threading.Lock()
#: where `ship_model` keeps the copies it sends, for as long as this driver runs
_staging: Path | None = None


def ship_model(spark_context, path: str | Path) -> str:
    """Send a model file and its manifest to every executor; returns what to pass as
    ``model=`` to the helpers: the name they were sent under, marked as shipped
    (`_resolve_model`). The model is checked first as loading checks it (a wrong manifest or
    scikit-learn version is one `ModelError` here, not a failure in every task), and a copy of
    it is sent under a name holding its sha256 (`_stage`): Spark sends a file once per name and
    context and executors keep the first copy, so a model retrained into the same path and
    shipped again in a long-lived session (a notebook) was cleaned with the old one, without a
    word. A symbolic link is sent as the model it leads to, with the manifest loading reads for
    it. Files are named to Spark by ``file:`` URI (`Path.as_uri`, a space or "%" in a folder
    name quoted)."""
    staged = _stage(load_model(path))
    for sent in (staged, manifest_path(staged)):
        spark_context.addFile(sent.as_uri())
    return _SHIPPED + staged.name


def _stage(loaded: LoadedModel) -> Path:
    """A copy of a checked model and its manifest, named ``NAME-SHA.joblib`` (16 hex digits of
    its sha256), in a folder of this process removed when it exits. The copy is of the bytes
    checked: a file replaced since is refused."""
    global _staging
    sha = loaded.manifest["sha256"]
    with _lock:
        if _staging is None:
            _staging = Path(tempfile.mkdtemp(prefix="noisefilter-spark-"))
            atexit.register(shutil.rmtree, _staging, ignore_errors=True)
        staged = _staging / f"{loaded.path.name.removesuffix('.joblib')}-{sha[:16]}.joblib"
        if not staged.exists():
            data = loaded.path.read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                raise ModelError(f"model {loaded.path} was replaced while it was being shipped; "
                                 "ship it again")
            write_synced(manifest_path(staged), json.dumps(loaded.manifest).encode("utf-8"))
            part = temporary_beside(staged)  # renamed once whole: a copy cut short is not sent later
            try:
                write_synced(part, data)
                os.replace(part, staged)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
    return staged


def _resolve_model(model: str | None) -> Path | None:
    """The model `ship_model` shipped, through SparkFiles; else a path that exists here as
    given, else a file shipped by other means (``spark-submit --files``) by name. `ship_model`
    returned the bare name, which was looked for here first: a file of that name in an
    executor's working folder (in local mode, the driver's) was loaded instead of the model
    shipped, without a word."""
    if model is None:
        return None
    name = str(model)
    if not name.startswith(_SHIPPED) and Path(name).is_file():
        return Path(name)
    from pyspark import SparkFiles

    return Path(SparkFiles.get(name.removeprefix(_SHIPPED)))


def executor_cleaner(model: str | None = None, max_bytes: int = Limits.max_bytes,
                     timeout: float = Limits.timeout, favor_precision: bool = False) -> Cleaner:
    """The cleaner of this Python worker for these settings, loaded on first use and again
    when the model file it loaded has changed (`_identity`: kept by name alone, a model
    retrained into the same path was never read again by a reused worker)."""
    key = (model, max_bytes, timeout, favor_precision)
    path = _resolve_model(model)
    identity = _identity(path)
    with _lock:
        cached = _cleaners.get(key)
        if cached is None or cached[0] != identity:
            threadpool_limits(1)
            _cleaners[key] = (identity, Cleaner(model=path, limits=Limits(max_bytes=max_bytes,
                                                                           timeout=timeout),
                                                favor_precision=favor_precision))
        return _cleaners[key][1]


def _identity(path: Path | None) -> tuple | None:
    """What tells a model file from the one loaded before under its name: its inode, size and
    modification time (a stat per partition, not a hash of the file)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:  # the loading says what is wrong
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def clean_document(cleaner: Cleaner, doc: Document) -> Outcome:
    """Clean one document in this process; a failure becomes the outcome's error."""
    outcome = Outcome(id=doc.id, url=doc.url, source=doc.source, meta=doc.meta,
                      error=doc.failure)
    if doc.failure is None:
        try:
            outcome.result = clean_page(cleaner, doc.html, doc.url if doc.resolve_links
                                        else None, doc.charset, doc.text)
        except NoiseFilterError as err:
            outcome.error = Failure(type(err).__name__, str(err))
        except Exception as err:  # a bug on one page must not fail the task (and the job)
            outcome.error = Failure(type(err).__name__, f"unexpected error: {err}")
    return outcome


def to_row(outcome: Outcome) -> dict:
    """The outcome as a dict with exactly the fields of `OUTPUT_SCHEMA`."""
    record = outcome.to_record()
    if not isinstance(record.get("url"), str):  # a row's URL given as bytes: its error says so
        record["url"] = None
    return {name: record.get(name) for name in (*RECORD_FIELDS, *_EXTRA_FIELDS)}


def clean_rows(rows: Iterable, model: str | None = None, html_field: str = "html",
               url_field: str = "url", id_field: str = "id", max_bytes: int = Limits.max_bytes,
               timeout: float = Limits.timeout, charset_field: str = "charset",
               favor_precision: bool = False) -> Iterator[dict]:
    """For ``rdd.mapPartitions``: rows (Spark ``Row``s or dicts) with HTML, URL and id fields
    in, one `OUTPUT_SCHEMA` row per input row out. HTML as bytes is read in the charset of the
    row's `charset_field` when it has one (the HTTP header's, as `clean(html, url, charset)`
    takes it: without it a page whose charset only its header named was read as another).
    A row without an id is named by its URL, else by a hash of its HTML (else of the whole
    row): ids stay the same however the rows are partitioned. `favor_precision` as for
    `Cleaner`."""
    cleaner = executor_cleaner(model, max_bytes, timeout, favor_precision)
    for i, row in enumerate(rows):
        try:
            data = row.asDict() if hasattr(row, "asDict") else dict(row)
        except (TypeError, ValueError):  # a tuple or None in an RDD made by hand: one row, not the task
            yield to_row(_not_a_row(row))
            continue
        html, url = data.get(html_field), data.get(url_field)
        doc_id = given_id(data.get(id_field))
        if doc_id is None:  # a URL column of bytes named the row (and filled its url) [B@7524…
            doc_id = (url if isinstance(url, str) else None) or _html_id(html) or _row_id(data)
        doc = as_document({"id": doc_id, "url": url, "html": html,
                           "charset": data.get(charset_field)}, i)
        yield to_row(clean_document(cleaner, doc))


def _not_a_row(row) -> Outcome:
    return Outcome(id=_row_id(row), error=Failure("InputError", f"a row must be a Spark Row or "
                                                                f"a dict of fields, not {type(row).__name__}"))


def _html_id(html) -> str | None:
    if isinstance(html, str):
        html = html.encode("utf-8", "surrogatepass")
    if isinstance(html, (bytes, bytearray)):
        return "sha256:" + hashlib.sha256(html).hexdigest()[:32]
    return None  # no page to name: `_row_id`


def _row_id(data) -> str:
    """The id of a row without id, URL or HTML, or of one that is no row (both reported as
    errors): a hash of what it holds (a dict's fields in any order), not its position in its
    partition, which changes with the partitioning and could be another row's id ("1")."""
    shown = repr(sorted(data.items(), key=repr)) if isinstance(data, dict) else repr(data)
    return "row:" + hashlib.sha256(shown.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def clean_warc_files(paths: Iterable[str], model: str | None = None,
                     max_bytes: int = Limits.max_bytes,
                     timeout: float = Limits.timeout,
                     favor_precision: bool = False) -> Iterator[dict]:
    """For ``rdd.mapPartitions`` over WARC paths: every page record of every file, cleaned,
    and every damaged or non-page record reported, as `OUTPUT_SCHEMA` rows; a file that cannot
    be opened is one ``UnreadableFile`` row. Paths are local (or on a file system mounted on
    every executor), or URLs that fsspec can open (``s3://``, ``hdfs://``, ``gs://``: install
    fsspec and its backend on the executors). `favor_precision` as for `Cleaner`."""
    from ..warc import read_warc

    cleaner = executor_cleaner(model, max_bytes, timeout, favor_precision)
    for item in paths:
        path = _path_text(item)
        if path is None:  # one row, not a failed task (Spark's "Attribute 'decode' is not supported")
            yield to_row(Outcome(id=_row_id(item), error=Failure(
                "InputError", f"a WARC path must be a str (or a Row of one, as spark.read.text "
                              f"gives), not {type(item).__name__}")))
            continue
        local = _local_path(path)
        docs = (_read_remote_warc(path, max_bytes) if local is None
                else read_warc(local, max_bytes=max_bytes))
        yield from (to_row(clean_document(cleaner, doc)) for doc in docs)


def _path_text(item) -> str | None:
    """A path as given, or the one field of a Row (``spark.read.text("warc.paths").rdd``: a
    paths list read by Spark itself); None for anything else."""
    if isinstance(item, tuple) and len(item) == 1:  # a Row is a tuple
        item = item[0]
    return item if isinstance(item, str) and item.strip() else None


def _read_remote_warc(url: str, max_bytes: int) -> Iterator[Document]:
    """`read_warc` for a URL that fsspec opens. A file that cannot be opened or read from its
    start (missing, forbidden, a stream that cannot seek: `iter_warc`) is a row, as a local one
    is: raised, it failed the task, and after Spark's retries the job, for one file (also
    without fsspec). Backends say "missing" and "forbidden" in their own ways (gcsfs: a plain
    `OSError("Forbidden")`; fsspec's HTTP: `FileNotFoundError` for a 503 too), so an error
    there is not told apart from a passing one. An error partway through (a store's timeout)
    is raised, for Spark to retry the task: as a row, the rest of the file was lost for
    good."""
    from ..warc import iter_warc, unreadable_file

    try:
        import fsspec
    except ImportError:
        yield unreadable_file(url, ImportError("reading this URL needs fsspec and its "
                                               "filesystem (pip install fsspec s3fs, gcsfs…)"))
        return

    try:
        fh = fsspec.open(url, "rb").open()
    except (OSError, ValueError) as err:
        yield unreadable_file(url, err)
        return
    with fh:
        try:  # reads the file's start
            docs = iter_warc(fh, source=url, max_bytes=max_bytes)
        except (OSError, ValueError) as err:
            yield unreadable_file(url, err)
            return
        yield from docs


def _local_path(path: str) -> str | None:
    """The file a path or ``file:`` URL names on this machine, None for another scheme's URL.
    Spark and Hadoop write local files as ``file:/data/x.warc.gz`` (`input_file_name()`,
    `binaryFile` paths), which was read as a relative path and not found. Another scheme's URL
    has ``://`` or, as Hadoop also writes them, a scheme and an absolute path (``hdfs:/x``, which
    was written to a local folder "hdfs:"): a local name with a colon
    (``crawl-2026-12-03T12:00:00.warc``, ``host:8080-a.warc``, ``C:\\crawl\\a.warc``,
    ``C:/crawl``) parses with a "scheme" too, and was sent to fsspec (an ``UnreadableFile`` row
    without it) where `noisefilter batch` reads the file."""
    parts = urlsplit(path)
    if parts.scheme == "file":
        return unquote(parts.path)
    remote = "://" in path or (len(parts.scheme) > 1 and parts.path.startswith("/"))
    return None if remote else path
