"""PySpark in local[2] mode: the example job over a WARC built here, and `clean_rows` over a
DataFrame, each checked record by record against the library's own output."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from functools import partial
from pathlib import Path

import pytest

pytest.importorskip("pyspark")

from pyspark.sql import SparkSession  # noqa: E402

from crawl_helpers import (  # noqa: E402, F401 (one_blas_thread is an autouse fixture)
    ARTICLES, Rec, build_warc, cut, one_blas_thread, page)
from filter import Cleaner  # noqa: E402
from filter.batch import RECORD_FIELDS  # noqa: E402
from filter.inputs import Document  # noqa: E402
from filter.integrations.spark import (  # noqa: E402
    OUTPUT_SCHEMA, clean_document, clean_rows, executor_cleaner)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "spark_clean_warc.py"
URL = "http://courier.test/"


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("PySpark needs a Java runtime")
    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    # executors must run this interpreter, which has noisefilter installed
    os.environ.update(dict.fromkeys(saved, sys.executable))
    session = (SparkSession.builder.master("local[2]").appName("noisefilter-test")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def cleaner():
    return Cleaner()


def load_example():
    spec = importlib.util.spec_from_file_location("spark_clean_warc", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_job_cleans_warcs_exactly_as_the_library(spark, cleaner, tmp_path):
    first, second = tmp_path / "a.warc.gz", tmp_path / "b.warc"
    build_warc(first, [Rec(URL + ARTICLES[0], page(ARTICLES[0])),
                       Rec(URL + "logo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
                       Rec(URL + ARTICLES[1], page(ARTICLES[1]))])
    spans = build_warc(second, [Rec(URL + "cut.html", page(ARTICLES[0])),
                                Rec(URL + ARTICLES[2], page(ARTICLES[2])),
                                Rec(URL + "binary.html", bytes(range(256)) * 20)], gz=False)
    cut(second, spans[0], keep=0.7)
    # the model travels to the executors as a shipped file, not through the installed package
    shipped = tmp_path / "models"
    shipped.mkdir()
    for src in (cleaner.loaded.path, cleaner.loaded.path.with_name(
            cleaner.loaded.path.stem + ".manifest.json")):
        shutil.copy(src, shipped / src.name)
    out = tmp_path / "cleaned"
    load_example().main(["--output", str(out), "--model", str(shipped / cleaner.loaded.path.name),
                         str(first), str(second)])

    rows = [r.asDict(recursive=True) for r in spark.read.parquet(str(out)).collect()]
    by_url = {r["url"]: r for r in rows}
    assert len(rows) == 6
    for name in ARTICLES:
        row = by_url[URL + name]
        want = cleaner.clean(page(name).decode("utf-8"), url=URL + name)
        assert row["error"] is None
        assert row["text"] == want.text and row["title"] == want.title
        assert row["language"] == want.language and row["label_counts"] == want.label_counts
        assert row["related_links"] == want.to_dict()["related_links"]
        assert row["model_version"] == cleaner.model_version
        assert row["id"].startswith("urn:uuid:") and row["warc_date"]
    assert by_url[URL + "logo.png"]["error"]["type"] == "NotHTML"
    assert by_url[URL + "binary.html"]["error"]["type"] == "InputError"
    assert by_url[URL + "cut.html"]["error"]["type"] == "DamagedRecord"

    # JSON Lines: the same record shape as `noisefilter batch`, null fields included
    as_json = tmp_path / "cleaned-json"
    load_example().main(["--output", str(as_json), "--format", "json", "--model",
                         str(shipped / cleaner.loaded.path.name), str(first), str(second)])
    records = [json.loads(line) for part in sorted(as_json.glob("part-*"))
               for line in part.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 6 and all(set(RECORD_FIELDS) <= set(r) for r in records)
    assert {r["url"]: r["title"] for r in records}[URL + "logo.png"] is None


def test_clean_rows_over_a_dataframe(spark, cleaner):
    data = [(name, URL + name, page(name).decode("utf-8")) for name in ARTICLES]
    data.append(("empty", URL + "empty", ""))
    frame = spark.createDataFrame(data, "id string, url string, html string").repartition(2)
    rows = frame.rdd.mapPartitions(partial(clean_rows, model=None))
    got = {r["id"]: r.asDict(recursive=True)
           for r in spark.createDataFrame(rows, OUTPUT_SCHEMA).collect()}
    assert set(got) == {*ARTICLES, "empty"}
    for name in ARTICLES:
        want = cleaner.clean(page(name).decode("utf-8"), url=URL + name)
        assert got[name]["text"] == want.text and got[name]["error"] is None
    assert got["empty"]["error"]["type"] == "InputError" and got["empty"]["text"] == ""


def test_rows_without_an_id_are_named_the_same_however_they_are_partitioned(cleaner):
    html = page(ARTICLES[0]).decode("utf-8")
    rows = [{"url": URL + ARTICLES[0], "html": html}, {"url": None, "html": html},
            {"url": None, "html": None, "lang": "en"}]  # nothing to clean: an error row
    out = list(clean_rows(rows))
    ids = [r["id"] for r in out]
    assert ids[0] == URL + ARTICLES[0] and ids[1].startswith("sha256:")
    assert ids[2].startswith("row:") and out[2]["error"]["type"] == "InputError"
    assert [r["id"] for r in clean_rows(rows[::-1])] == ids[::-1]


def test_a_bug_on_one_page_is_a_row_not_a_failed_task(cleaner):
    class Buggy(Cleaner):
        def clean(self, html, url=None):
            raise RuntimeError("a bug, not a bad page")

    outcome = clean_document(Buggy(model=cleaner.loaded), Document(id="x", html="<p>x</p>"))
    assert outcome.error.type == "RuntimeError" and outcome.result is None


def test_a_python_worker_loads_each_model_once(cleaner):
    first = executor_cleaner(str(cleaner.loaded.path), timeout=5)
    assert executor_cleaner(str(cleaner.loaded.path), timeout=5) is first
    assert executor_cleaner(str(cleaner.loaded.path), timeout=9) is not first  # other limits
    assert first.limits.timeout == 5


def test_warc_paths_as_spark_writes_them_are_read(cleaner, tmp_path):
    """Spark and Hadoop write local files as `file:/data/x.warc.gz` (`input_file_name()`,
    `binaryFile` paths): such a path was taken for a relative one and reported missing."""
    from filter.integrations.spark import clean_warc_files

    warc = tmp_path / "a b.warc.gz"
    build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    for path in (str(warc), f"file:{warc}".replace(" ", "%20"), f"file://{warc}"):
        rows = list(clean_warc_files([path], model=str(cleaner.loaded.path)))
        assert len(rows) == 1 and rows[0]["error"] is None and rows[0]["text"], path


def test_a_remote_warc_that_cannot_be_read_is_a_row_not_a_failed_task(cleaner, tmp_path,
                                                                      monkeypatch):
    """A missing remote file, or one whose stream cannot seek, raised out of the task (and,
    after Spark's retries, failed the job), where a local one is an UnreadableFile row. fsspec
    is stood in for by a module that opens local files under the URLs' paths."""
    import io
    import types

    from filter.integrations.spark import clean_warc_files

    build_warc(tmp_path / "good.warc.gz", [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])

    class OneWay(io.BufferedReader):
        def seekable(self):
            return False

    class Opened:
        def __init__(self, url):
            self.path = tmp_path / url.rpartition("/")[2]

        def open(self):
            raw = io.FileIO(self.path)  # FileNotFoundError for a missing file
            return OneWay(raw) if self.path.name.startswith("pipe") else io.BufferedReader(raw)

    monkeypatch.setitem(sys.modules, "fsspec",
                        types.SimpleNamespace(open=lambda url, mode: Opened(url)))
    (tmp_path / "pipe.warc.gz").write_bytes((tmp_path / "good.warc.gz").read_bytes())
    urls = ["s3://bucket/missing.warc.gz", "s3://bucket/pipe.warc.gz", "s3://bucket/good.warc.gz"]
    rows = list(clean_warc_files(urls, model=str(cleaner.loaded.path)))
    assert [(r["id"], r["source"], r["error"] and r["error"]["type"]) for r in rows[:2]] == [
        (f"{url}@0", url, "UnreadableFile") for url in urls[:2]]
    assert "seekable" in rows[1]["error"]["message"]
    assert rows[2]["url"] == URL + ARTICLES[0] and rows[2]["error"] is None and rows[2]["text"]


def test_a_warc_page_named_by_a_uri_the_cleaner_refuses_is_cleaned_without_it(cleaner, tmp_path):
    from filter.integrations.spark import clean_warc_files

    warc = tmp_path / "local.warc"
    build_warc(warc, [Rec("file:///home/me/site/a.html", page(ARTICLES[0]), warc_type="resource",
                          content_type="text/html")], gz=False)
    (row,) = clean_warc_files([str(warc)], model=str(cleaner.loaded.path))
    assert row["url"] == "file:///home/me/site/a.html" and row["error"] is None
    assert row["text"] == cleaner.clean(page(ARTICLES[0])).text
