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
adds it and its manifest to the job (``SparkContext.addFile``); executors find them by name
through ``SparkFiles`` (only there: not a file of the same name in their working folder) and
check the sha256 against the manifest before loading.

Every row yields a row: a page that cannot be cleaned gives a row with ``error`` set. Pages are
cleaned inside the Python worker, so the time limit (``timeout``) is checked between the
pipeline's stages; use `filter.batch.clean_many` where a hung page must be killed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from threadpoolctl import threadpool_limits

from ..batch import RECORD_FIELDS, Outcome, as_document
from ..cleaner import Cleaner, Limits, clean_page
from ..errors import NoiseFilterError
from ..inputs import Document, Failure
from ..modelfile import manifest_of, manifest_path

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

_cleaners: dict[tuple, Cleaner] = {}
_lock = threading.Lock()


def ship_model(spark_context, path: str | Path) -> str:
    """Send a model file and its manifest to every executor; returns what to pass as
    ``model=`` to the helpers: the file's name, marked as shipped (`_resolve_model`). A
    symbolic link with no manifest beside it is followed: the file it leads to is sent, under
    its own name, with the manifest beside it, as `filter.modelfile.manifest_of` reads one (a
    link with its own manifest beside it, as a content-addressed cache lays them out, is sent
    as it is). Files are named to Spark by ``file:`` URI (`Path.as_uri`, a space or "%" in a
    folder name quoted): a plain path it resolves itself, and a link arrived on the executors
    under its target's name, where no model of the name returned was."""
    path = Path(path).absolute()
    if manifest_of(path) != manifest_path(path):
        path = path.resolve()
    for sent in (path, manifest_path(path)):
        spark_context.addFile(sent.as_uri())
    return _SHIPPED + path.name


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
                     timeout: float = Limits.timeout) -> Cleaner:
    """The cleaner of this Python worker for these settings, loaded on first use."""
    key = (model, max_bytes, timeout)
    with _lock:
        if key not in _cleaners:
            threadpool_limits(1)
            _cleaners[key] = Cleaner(model=_resolve_model(model),
                                     limits=Limits(max_bytes=max_bytes, timeout=timeout))
        return _cleaners[key]


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
    return {name: record.get(name) for name in (*RECORD_FIELDS, *_EXTRA_FIELDS)}


def clean_rows(rows: Iterable, model: str | None = None, html_field: str = "html",
               url_field: str = "url", id_field: str = "id", max_bytes: int = Limits.max_bytes,
               timeout: float = Limits.timeout, charset_field: str = "charset") -> Iterator[dict]:
    """For ``rdd.mapPartitions``: rows (Spark ``Row``s or dicts) with HTML, URL and id fields
    in, one `OUTPUT_SCHEMA` row per input row out. HTML as bytes is read in the charset of the
    row's `charset_field` when it has one (the HTTP header's, as `clean(html, url, charset)`
    takes it: without it a page whose charset only its header named was read as another).
    A row without an id is named by its URL, else by a hash of its HTML (else of the whole
    row): ids stay the same however the rows are partitioned."""
    cleaner = executor_cleaner(model, max_bytes, timeout)
    for i, row in enumerate(rows):
        data = row.asDict() if hasattr(row, "asDict") else dict(row)
        html, url = data.get(html_field), data.get(url_field)
        doc_id = data.get(id_field)
        if doc_id is None:
            doc_id = url or _html_id(html) or _row_id(data)
        doc = as_document({"id": doc_id, "url": url, "html": html,
                           "charset": data.get(charset_field)}, i)
        yield to_row(clean_document(cleaner, doc))


def _html_id(html) -> str | None:
    if isinstance(html, str):
        html = html.encode("utf-8", "surrogatepass")
    if isinstance(html, (bytes, bytearray)):
        return "sha256:" + hashlib.sha256(html).hexdigest()[:32]
    return None  # no page to name: `_row_id`


def _row_id(data: dict) -> str:
    """The id of a row without id, URL or HTML (reported as an error): a hash of what it holds,
    not its position in its partition, which changes with the partitioning and could be
    another row's id ("1")."""
    return "row:" + hashlib.sha256(repr(sorted(data.items(), key=repr)).encode(
        "utf-8", "surrogatepass")).hexdigest()[:32]


def clean_warc_files(paths: Iterable[str], model: str | None = None,
                     max_bytes: int = Limits.max_bytes,
                     timeout: float = Limits.timeout) -> Iterator[dict]:
    """For ``rdd.mapPartitions`` over WARC paths: every page record of every file, cleaned,
    and every damaged or non-page record reported, as `OUTPUT_SCHEMA` rows; a file that cannot
    be opened is one ``UnreadableFile`` row. Paths are local (or on a file system mounted on
    every executor), or URLs that fsspec can open (``s3://``, ``hdfs://``, ``gs://``: install
    fsspec and its backend on the executors)."""
    from ..warc import read_warc

    cleaner = executor_cleaner(model, max_bytes, timeout)
    for path in paths:
        local = _local_path(path)
        docs = (_read_remote_warc(path, max_bytes) if local is None
                else read_warc(local, max_bytes=max_bytes))
        yield from (to_row(clean_document(cleaner, doc)) for doc in docs)


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
