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
    ARTICLES, FailingDisk, Rec, build_warc, cut, one_blas_thread, page)
from filter import Cleaner  # noqa: E402
from filter.batch import RECORD_FIELDS  # noqa: E402
from filter.inputs import Document  # noqa: E402
from filter.modelfile import load_model, manifest_path  # noqa: E402
from filter.integrations.spark import (  # noqa: E402
    OUTPUT_SCHEMA, clean_document, clean_rows, executor_cleaner, ship_model)

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
    # an empty id column is no id: "" named every such row alike
    blank = [r["id"] for r in clean_rows([{**row, "id": ""} for row in rows])]
    assert blank[:2] == ids[:2] and blank[2].startswith("row:")


def test_a_rows_charset_column_reads_its_bytes_as_the_library_does(cleaner):
    """Bytes whose charset only the HTTP header named (a crawl table's column): read in it, as
    `clean(html, url, charset)` reads them, not guessed as another."""
    html = ("<html><head><title>Budżet szkół wzrośnie</title></head><body><article><h1>Budżet "
            "szkół wzrośnie w przyszłym roku</h1>" + "<p>Rada miasta przyjęła w czwartek budżet, "
            "który zwiększa wydatki na szkoły o dziesięć procent.</p>" * 6
            + "</article></body></html>").encode("iso-8859-2")
    rows = [{"id": "pl", "url": URL + "pl", "html": html, "charset": "iso-8859-2"},
            {"id": "no-column", "url": URL + "pl", "html": html}]
    got = {r["id"]: r for r in clean_rows(rows)}
    want = cleaner.clean(html, url=URL + "pl", charset="iso-8859-2")
    assert "szkół" in want.text and got["pl"]["text"] == want.text and got["pl"]["error"] is None
    assert got["no-column"]["text"] == cleaner.clean(html, url=URL + "pl").text != want.text


def test_text_bytes_are_read_in_the_charset_given_with_them(cleaner):
    """A text document's charset was dropped: its bytes were refused as "text is not UTF-8"."""
    text = "Košice schválili rozpočet.\nMesto opravuje školy a cesty.\n"
    outcome = clean_document(cleaner, Document(id="sk", text=text.encode("iso-8859-2"),
                                               charset="iso-8859-2"))
    assert outcome.error is None
    assert outcome.result.to_dict() == cleaner.clean_text(text).to_dict()


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
    precise = executor_cleaner(str(cleaner.loaded.path), timeout=5, favor_precision=True)
    assert precise is not first and precise.favor_precision and not first.favor_precision


def test_rows_are_cleaned_favoring_precision_when_asked(cleaner):
    """`clean_rows(..., favor_precision=True)` cleans as `Cleaner(favor_precision=True)` does;
    without it, as the default does (the executors' cleaners are kept apart by the setting)."""
    pages = sorted((Path(__file__).parent / "fixtures" / "crawl_site").glob("*.html"))
    rows = [{"id": p.name, "url": f"https://town.example/{p.name}", "html": p.read_bytes()} for p in pages]
    precise = Cleaner(model=cleaner.loaded, favor_precision=True)
    want = [precise.clean(r["html"], url=r["url"]).text for r in rows]
    assert [r["text"] for r in clean_rows(rows, favor_precision=True)] == want
    plain = [r["text"] for r in clean_rows(rows)]
    assert plain == [cleaner.clean(r["html"], url=r["url"]).text for r in rows] and plain != want


class _Context:
    """A SparkContext as `ship_model` uses it: what it was given to send."""

    def __init__(self):
        self.sent = []

    def addFile(self, uri):
        self.sent.append(uri)


def _model_copy(loaded, path: Path, version: str) -> Path:
    """A loadable model at `path` whose bytes differ by `version` (as a retraining's would)."""
    import copy

    from filter.modelfile import save_model

    model = copy.deepcopy(loaded.model)
    model.test_version = version  # pickled with it: another sha256
    save_model(model, path, {"version": version})
    return path


def test_a_python_worker_loads_a_model_again_when_its_file_changes(cleaner, tmp_path):
    """Cached by name alone, a model retrained into the same path was never read again by a
    Python worker Spark reuses: every later job cleaned with the first model, without a word."""
    path = _model_copy(cleaner.loaded, tmp_path / "mine.joblib", "mine-1")
    first = executor_cleaner(str(path))
    assert executor_cleaner(str(path)) is first
    _model_copy(cleaner.loaded, path, "mine-2")
    assert executor_cleaner(str(path)).loaded.manifest["version"] == "mine-2"


def test_ship_model_refuses_a_model_that_would_not_load_before_sending_anything(cleaner, tmp_path):
    """A wrong manifest was sent to every executor and failed every task there."""
    from filter.errors import ModelError

    path = _model_copy(cleaner.loaded, tmp_path / "mine.joblib", "mine-1")
    manifest = json.loads(manifest_path(path).read_text())
    manifest_path(path).write_text(json.dumps({**manifest, "sha256": "0" * 64}))
    context = _Context()
    with pytest.raises(ModelError, match="does not match its manifest"):
        ship_model(context, path)
    assert context.sent == []


def test_a_copy_cut_short_while_shipping_is_not_sent_by_the_next_ship(cleaner, tmp_path,
                                                                        monkeypatch):
    """A full disk or an interrupt while `ship_model` wrote its copy left part of a model under
    the name it sends; shipping again in the same driver sent that part, which every task
    then refused."""
    import filter.integrations.spark as spark_helpers

    path = _model_copy(cleaner.loaded, tmp_path / "mine.joblib", "mine-cut")
    real = spark_helpers.write_synced

    def full_disk(target, data):
        if not data.startswith(b"{"):  # the model's bytes, not its manifest
            real(target, data[:100])
            raise OSError(28, "No space left on device")
        real(target, data)

    monkeypatch.setattr(spark_helpers, "write_synced", full_disk)
    with pytest.raises(OSError, match="No space left"):
        ship_model(_Context(), path)
    monkeypatch.setattr(spark_helpers, "write_synced", real)
    context = _Context()
    shipped = ship_model(context, path)
    [model_uri, _] = context.sent
    staged = Path(model_uri.removeprefix("file://"))
    assert staged.name == shipped.removeprefix("sparkfiles:")
    assert load_model(staged).manifest["version"] == "mine-cut"
    assert not [p for p in staged.parent.iterdir() if p.name.startswith(".")]  # no part left


def test_rows_that_are_not_rows_are_error_rows_not_a_failed_task(cleaner):
    """An RDD made by hand may hold tuples or None: `dict(row)` raised, and after Spark's
    retries the job failed, for one row."""
    rows = list(clean_rows([("a", "b", "c"), None, {"id": "x", "html": page(ARTICLES[0])}],
                           model=str(cleaner.loaded.path)))
    assert [r["error"]["type"] if r["error"] else None for r in rows] == ["InputError", "InputError", None]
    assert "not tuple" in rows[0]["error"]["message"] and "not NoneType" in rows[1]["error"]["message"]
    assert rows[0]["id"].startswith("row:") and rows[0]["id"] != rows[1]["id"]
    assert rows[2]["id"] == "x" and rows[2]["text"]
    # a URL column of bytes: the row's error, and no bytes in its string columns (Spark wrote
    # them as "[B@75240806", in the url column and as the row's id)
    [row] = clean_rows([{"html": page(ARTICLES[0]), "url": bytearray(b"https://x.example/a")}],
                       model=str(cleaner.loaded.path))
    assert row["error"]["type"] == "InputError" and "url must be a str" in row["error"]["message"]
    assert row["url"] is None and row["id"].startswith("sha256:")


def test_warc_paths_as_spark_writes_them_are_read(cleaner, tmp_path):
    """Spark and Hadoop write local files as `file:/data/x.warc.gz` (`input_file_name()`,
    `binaryFile` paths): such a path was taken for a relative one and reported missing."""
    from filter.integrations.spark import clean_warc_files

    warc = tmp_path / "a b.warc.gz"
    build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    # a file: URL may name its host, this one (RFC 8089)
    for path in (str(warc), f"file:{warc}".replace(" ", "%20"), f"file://{warc}",
                 f"file://localhost{warc}"):
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


def test_a_read_error_partway_through_a_remote_warc_fails_the_task_for_spark_to_retry(
        cleaner, tmp_path, monkeypatch):
    """A store's timeout partway through a remote WARC: reported as a row, the task succeeded
    and the rest of the file was lost for good; raised, Spark retries the task."""
    import io
    import random
    import types

    from filter.integrations.spark import clean_warc_files

    comment = random.Random(0).randbytes(1_500_000).hex().encode()
    records = [Rec(URL + ARTICLES[0], page(ARTICLES[0])),
               Rec(URL + "big", b"<html><body><p>Big</p><!--%s--></body></html>" % comment)]
    spans = build_warc(tmp_path / "a.warc", records, gz=False)
    data, bad = (tmp_path / "a.warc").read_bytes(), (spans[1][0] + spans[1][1]) // 2

    class Opened:
        def open(self):
            return io.BufferedReader(FailingDisk(data, bad))

    monkeypatch.setitem(sys.modules, "fsspec",
                        types.SimpleNamespace(open=lambda url, mode: Opened()))
    with pytest.raises(OSError, match="Input/output error"):
        list(clean_warc_files(["s3://bucket/a.warc"], model=str(cleaner.loaded.path)))


def test_a_warc_page_named_by_a_uri_the_cleaner_refuses_is_cleaned_without_it(cleaner, tmp_path):
    from filter.integrations.spark import clean_warc_files

    warc = tmp_path / "local.warc"
    build_warc(warc, [Rec("file:///home/me/site/a.html", page(ARTICLES[0]), warc_type="resource",
                          content_type="text/html")], gz=False)
    (row,) = clean_warc_files([str(warc)], model=str(cleaner.loaded.path))
    assert row["url"] == "file:///home/me/site/a.html" and row["error"] is None
    assert row["text"] == cleaner.clean(page(ARTICLES[0])).text


def test_warc_paths_as_rows_of_a_read_text_are_read_and_anything_else_is_a_row(cleaner, tmp_path):
    """`spark.read.text("warc.paths").rdd` gives Rows: every task failed with "Attribute
    'decode' is not supported", as it did for a None or bytes path."""
    from pyspark.sql import Row

    from filter.integrations.spark import clean_warc_files

    warc = tmp_path / "a.warc"
    build_warc(warc, [Rec("http://courier.test/a", page(ARTICLES[0]))], gz=False)
    rows = list(clean_warc_files([Row(value=str(warc)), None, b"a.warc"],
                                 model=str(cleaner.loaded.path)))
    assert rows[0]["text"] == cleaner.clean(page(ARTICLES[0]), url="http://courier.test/a").text
    assert [(r["error"] or {}).get("type") for r in rows] == [None, "InputError", "InputError"]
    assert "a WARC path must be a str" in rows[2]["error"]["message"]


def test_example_job_refuses_an_output_that_would_destroy_its_inputs(tmp_path, monkeypatch,
                                                                     capsys, cleaner):
    """Spark's overwrite deleted the output folder before any task read the inputs inside it:
    `--output crawl crawl/a.warc.gz` read nothing, deleted the crawl and exited 0, and
    `--output .` emptied the working folder. Refused, like `noisefilter batch -o`, before Spark
    starts (the session builder is taken away here)."""
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    warc = crawl / "a.warc.gz"
    build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    for name in (cleaner.loaded.path, manifest_path(cleaner.loaded.path)):
        shutil.copy(name, crawl / name.name.replace(cleaner.loaded.path.stem, "my"))
    elsewhere = tmp_path / "work" / "here"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    example = load_example()
    monkeypatch.setattr(example, "SparkSession", None)
    for argv, message in [
            (["--output", str(crawl), str(warc)], f"{crawl} holds the input {warc}"),
            (["--output", str(crawl), "--overwrite", str(warc)], "holds the input"),
            (["--output", str(tmp_path), "--overwrite", f"file://{warc}"], "holds the input"),
            (["--output", f"file:{crawl}/", "--overwrite", str(warc)], "holds the input"),
            (["--output", str(warc), "--overwrite", str(warc)], f"{warc} is also an input"),
            (["--output", str(crawl), "--paths-from", str(crawl / "list"), "--overwrite"],
             "holds the paths list"),
            (["--output", str(crawl), "--model", str(crawl / "my.joblib"), "--overwrite",
              "s3://bucket/a.warc.gz"], "holds the model"),
            (["--output", ".", "--overwrite", str(warc)], "is the current folder or holds it"),
            (["--output", "..", "--overwrite", str(warc)], "is the current folder or holds it"),
            # Hadoop writes "crawl#2" where this job read "crawl" (a fragment): crawl was replaced
            (["--output", f"file://{crawl}#2", "--overwrite", str(warc)], "give the folder as a path"),
            (["--output", f"file://{tmp_path}/a%20b", str(warc)], "give the folder as a path")]:
        (crawl / "list").write_text("s3://bucket/a.warc.gz\n", encoding="utf-8")
        with pytest.raises(SystemExit) as exit_:
            example.main(argv)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and message in err and err.count("\n") == 1, (argv, err)
        assert warc.is_file() and list(elsewhere.parent.iterdir()) == [elsewhere]



def test_example_job_leaves_an_output_that_appeared_while_it_ran(tmp_path, monkeypatch, capsys):
    """Without --overwrite an output that did not exist at the start was still replaced at the
    end, when another run had written it meanwhile. This run's output stays beside it."""
    example = load_example()
    out = tmp_path / "out"

    def write(frame, path, mode, fmt):  # Spark writes the parts while another run writes out
        written = Path(path.removeprefix("file://"))
        written.mkdir()
        (written / "part-0.json").write_text("{}\n", encoding="utf-8")
        out.mkdir()
        (out / "theirs.json").write_text("theirs", encoding="utf-8")

    monkeypatch.setattr(example, "write", write)
    with pytest.raises(SystemExit) as exit_:
        example.write_local(None, out, "json", overwrite=False)
    [kept] = tmp_path.glob("out.tmp-*")
    assert exit_.value.code == 2 and f"this run's output is in {kept}" in capsys.readouterr().err
    assert (out / "theirs.json").read_text(encoding="utf-8") == "theirs"
    assert (kept / "part-0.json").is_file()


def test_example_job_refuses_a_warc_named_twice(tmp_path, monkeypatch, capsys):
    """Overlapping globs or joined `--paths-from` lists named a WARC twice: every one of its
    rows was written twice (`noisefilter batch` refuses the same)."""
    example = load_example()
    monkeypatch.setattr(example, "SparkSession", None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.warc").write_bytes(b"")
    os.link(tmp_path / "t.warc", tmp_path / "hard.warc")  # another real path to the same file
    (tmp_path / "list").write_text("s3://b/a.warc.gz\n", encoding="utf-8")
    for warcs, shown in ((["t.warc", "./t.warc"], "./t.warc is named twice (as t.warc too)"),
                         (["t.warc", "hard.warc"], "hard.warc is named twice (as t.warc too)"),
                         (["t.warc", f"file://{tmp_path}/t.warc"], "is named twice (as t.warc too)"),
                         (["s3://b/a.warc.gz", "--paths-from", "list"],
                          "s3://b/a.warc.gz is named twice (as s3://b/a.warc.gz too)")):
        with pytest.raises(SystemExit) as exit_:
            example.main(["--output", str(tmp_path / "out"), *warcs])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and shown in err and err.count("\n") == 1, err


def test_example_job_reads_a_paths_list_as_crawls_write_it_and_refuses_one_it_cannot_read(
        tmp_path, monkeypatch, capsys):
    """Common Crawl's `warc.paths.gz`, a folder or a missing list ended in a traceback; a list
    Notepad saved with a byte-order mark made its first WARC an `UnreadableFile` row."""
    import gzip

    example = load_example()
    monkeypatch.setattr(example, "SparkSession", None)
    (tmp_path / "bom.paths").write_bytes(b"\xef\xbb\xbfs3://b/a.warc.gz\r\ns3://b/b.warc.gz\n")
    (tmp_path / "warc.paths.gz").write_bytes(gzip.compress(b"s3://b/a.warc.gz\ns3://b/b.warc.gz\n"))
    for name in ("bom.paths", "warc.paths.gz"):
        args = example.parse_args(["--output", "s3://b/out", "--paths-from", str(tmp_path / name)])
        assert args.warcs == ["s3://b/a.warc.gz", "s3://b/b.warc.gz"]
    (tmp_path / "latin1.paths").write_bytes(b"caf\xe9.warc.gz\n")
    for name in ("missing.paths", ".", "latin1.paths"):
        with pytest.raises(SystemExit) as exit_:
            example.main(["--output", "s3://b/out", "--paths-from", str(tmp_path / name)])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and "cannot be read as a list of paths" in err, err
        assert "Traceback" not in err


def test_example_job_checks_its_limits_before_spark_starts(tmp_path, monkeypatch, capsys):
    """A bad --timeout or --max-bytes was only refused by the executors: every task failed
    (after the old output had been deleted)."""
    example = load_example()
    monkeypatch.setattr(example, "SparkSession", None)
    for flag, value in (("--timeout", "0"), ("--timeout", "nan"), ("--max-bytes", "0")):
        with pytest.raises(SystemExit) as exit_:
            example.main(["--output", str(tmp_path / "out"), flag, value, "a.warc.gz"])
        assert exit_.value.code == 2 and f"error: {flag}: " in capsys.readouterr().err


def test_example_job_checks_its_model_and_partitions_before_spark_starts(tmp_path, monkeypatch,
                                                                        capsys):
    """A missing model failed in Spark's addFile with a Java traceback, a model that does not
    match its manifest in every task, and --partitions 0 or -1 in Spark."""
    example = load_example()
    monkeypatch.setattr(example, "SparkSession", None)
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a model")
    (tmp_path / "broken.manifest.json").write_text('{"sha256": "0"}', encoding="utf-8")
    for flags, says in ((["--model", str(tmp_path / "missing.joblib")], "model file not found"),
                        (["--model", str(broken)], "does not match its manifest"),
                        (["--model", broken.as_uri()], "does not match its manifest"),
                        (["--model", "s3://bucket/m.joblib"], "is not on this machine"),
                        (["--partitions", "0"], "not a positive number"),
                        (["--partitions", "-2"], "not a positive number"),
                        (["--partitions", "two"], "not a positive number")):
        with pytest.raises(SystemExit) as exit_:
            example.main(["--output", str(tmp_path / "out"), *flags, "a.warc.gz"])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and says in err, (flags, err)


def test_a_failed_rerun_of_the_example_job_leaves_the_earlier_output(spark, cleaner, tmp_path,
                                                                      capsys, monkeypatch):
    """Spark's overwrite deleted the old output before the tasks ran: a re-run that failed
    (here a model that fails its sha256 check on the executors) left the folder empty. An
    existing output is now refused without --overwrite; with it, the job writes beside it and
    replaces it only once it has succeeded."""
    warc = tmp_path / "a.warc.gz"
    build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    out = tmp_path / "cleaned"
    example = load_example()
    example.main(["--output", str(out), str(warc)])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert any(name.endswith(".parquet") for name in before)

    with pytest.raises(SystemExit) as exit_:
        example.main(["--output", str(out), str(warc)])
    assert exit_.value.code == 2 and f"{out} exists: pass --overwrite" in capsys.readouterr().err

    broken = tmp_path / "models" / "broken.joblib"
    broken.parent.mkdir()
    broken.write_bytes(cleaner.loaded.path.read_bytes() + b"\0")
    shutil.copy(cleaner.loaded.path.with_name(cleaner.loaded.path.stem + ".manifest.json"),
                broken.with_name("broken.manifest.json"))
    # the driver checks the model (its executors may have another scikit-learn): skipped here
    monkeypatch.setattr(example, "check_model_file", lambda path: {})
    with pytest.raises(Exception):  # every task fails: the job fails
        example.main(["--output", str(out), "--overwrite", "--model", str(broken), str(warc)])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.warc.gz", "cleaned", "models"]

    example.main(["--output", str(out), "--overwrite", "--format", "json", str(warc)])
    (part,) = out.glob("part-*.json")
    assert json.loads(part.read_text(encoding="utf-8"))["url"] == URL + ARTICLES[0]
    assert not any(name.endswith(".parquet") for name in os.listdir(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.warc.gz", "cleaned", "models"]


def test_example_job_runs_its_workers_on_its_own_python(spark, tmp_path, monkeypatch):
    """Run as `.venv/bin/python spark_clean_warc.py` (a notebook, an IDE) with the environment
    not on PATH, PySpark started its workers with `python3` from PATH (its choice when
    PYSPARK_PYTHON is unset, kept as `SparkContext.pythonExec`), and every task failed on
    `import filter`. Here the Python PySpark chose is one that cannot start. (In a fresh process:
    `env -u PYSPARK_PYTHON PATH=<no venv> .venv/bin/python examples/spark_clean_warc.py …`.)"""
    warc = tmp_path / "a.warc.gz"
    build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    other = tmp_path / "bin" / "python3"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    other.chmod(0o755)
    monkeypatch.delenv("PYSPARK_PYTHON")
    monkeypatch.setattr(spark.sparkContext, "pythonExec", str(other))
    out = tmp_path / "cleaned"
    load_example().main(["--output", str(out), "--format", "json", str(warc)])
    (part,) = out.glob("part-*.json")
    record = json.loads(part.read_text(encoding="utf-8"))
    assert record["url"] == URL + ARTICLES[0] and record["error"] is None and record["text"]


def test_a_local_warc_with_a_colon_in_its_name_is_read(cleaner, tmp_path, monkeypatch):
    """`crawl-2026-12-03T12:00:00.warc` parses as a URL of scheme `crawl-2026-12-03t12`: it
    was sent to fsspec (without it, an UnreadableFile row) where `noisefilter batch` reads it."""
    from filter.integrations.spark import _local_path, clean_warc_files

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "fsspec", None)  # not installed: not needed for local files
    names = ["crawl-2026-12-03T12:00:00.warc", "host:8080-b.warc.gz"]
    for name in names:
        build_warc(tmp_path / name, [Rec(URL + ARTICLES[0], page(ARTICLES[0]))],
                   gz=name.endswith(".gz"))
    rows = list(clean_warc_files(names, model=str(cleaner.loaded.path)))
    assert [(r["source"], r["error"]) for r in rows] == [(name, None) for name in names]
    assert all(r["text"] for r in rows)
    assert _local_path("s3://bucket/a:b.warc") is None and _local_path("file:/x:y") == "/x:y"
    # Hadoop's one-slash form is a URL (it was written to a local folder "hdfs:"); a drive is not
    assert _local_path("hdfs:/crawl/out") is None and _local_path("C:/crawl/a.warc") == "C:/crawl/a.warc"


@pytest.mark.parametrize("layout", ["manifest beside the link", "manifest beside the target"])
def test_ship_model_sends_a_symlinked_model_with_the_manifest_loading_reads(spark, tmp_path, layout):
    """A model kept as a link: into a content-addressed cache with its manifest beside the link
    (DVC, git-annex), or `current.joblib` pointing at a model with its manifest beside it. The
    executors must find a model under the name returned, with the manifest `load_model` reads
    for it (Spark resolves a plain path itself: the files arrived under the target's names)."""
    from filter.modelfile import active_model_path, manifest_path

    src = active_model_path()
    name = "cached" if layout == "manifest beside the link" else "pointer"  # one name per file
    home = tmp_path / "My Models 100%"  # a space and a "%": a URI must quote them
    (home / "cache").mkdir(parents=True)
    if layout == "manifest beside the link":
        target = home / "cache" / "5f3a9c0e1d"
        shutil.copyfile(manifest_path(src), home / f"{name}.manifest.json")
    else:
        target = home / "cache" / "deployed.joblib"
        shutil.copyfile(manifest_path(src), manifest_path(target))
    shutil.copyfile(src, target)
    (home / f"{name}.joblib").symlink_to(target)

    shipped = ship_model(spark.sparkContext, home / f"{name}.joblib")
    versions = (spark.sparkContext.parallelize([0], 1)
                .map(lambda _: executor_cleaner(shipped).loaded.manifest["sha256"]).collect())
    assert versions == [Cleaner(model=src).loaded.manifest["sha256"]]


def test_a_model_retrained_into_the_same_path_and_shipped_again_reaches_the_executors(
        spark, cleaner, tmp_path):
    """Spark sends a file once per name and context: a model retrained into the same path and
    shipped again in a long-lived session (a notebook) reached no executor, which kept
    cleaning with the old one, without a word."""
    path = tmp_path / "notebook.joblib"

    def version_on_executors(shipped):
        return spark.sparkContext.parallelize([0], 1).map(
            lambda _: executor_cleaner(shipped).loaded.manifest["version"]).collect()

    _model_copy(cleaner.loaded, path, "notebook-1")
    first = ship_model(spark.sparkContext, path)
    assert version_on_executors(first) == ["notebook-1"]
    assert ship_model(spark.sparkContext, path) == first  # the same file: the same name
    _model_copy(cleaner.loaded, path, "notebook-2")
    second = ship_model(spark.sparkContext, path)
    assert second != first
    assert version_on_executors(second) == ["notebook-2"]
    assert version_on_executors(first) == ["notebook-1"]  # what was shipped stays as it was


def test_a_shipped_model_is_not_shadowed_by_a_file_of_its_name_where_the_executor_runs(
        spark, tmp_path):
    """`ship_model` returned the bare file name, which executors looked for in their working
    folder first (in local mode, the driver's): a file of that name there was loaded instead
    of the model shipped, without a word."""
    from filter.modelfile import active_model_path

    src = active_model_path()
    for folder in (tmp_path / "new", tmp_path / "old"):
        folder.mkdir()
    shutil.copyfile(src, tmp_path / "new" / "shadowed.joblib")
    shutil.copyfile(manifest_path(src), tmp_path / "new" / "shadowed.manifest.json")
    shipped = ship_model(spark.sparkContext, tmp_path / "new" / "shadowed.joblib")
    name = shipped.removeprefix("sparkfiles:")
    shutil.copyfile(src, tmp_path / "old" / name)  # the name sent, in the worker's folder
    shutil.copyfile(manifest_path(src), manifest_path(tmp_path / "old" / name))

    def loaded_in(folder):
        from pyspark import SparkFiles

        here = os.getcwd()
        os.chdir(folder)  # a worker's working folder that holds another file of the name
        try:
            return (executor_cleaner(shipped).loaded.path.resolve(),
                    Path(SparkFiles.get(name)).resolve())
        finally:
            os.chdir(here)

    [(loaded, sent)] = spark.sparkContext.parallelize([0], 1).map(
        lambda _: loaded_in(tmp_path / "old")).collect()
    assert loaded == sent != (tmp_path / "old" / name).resolve()


def _schema_fields(ddl: str) -> list[str]:
    """The top-level field names of a Spark DDL schema (commas inside <...> belong to a type)."""
    names, depth, field = [], 0, ""
    for ch in ddl + ",":
        depth += (ch == "<") - (ch == ">")
        if ch == "," and depth == 0:
            names.append(field.split()[0])
            field = ""
        else:
            field += ch
    return names


def test_a_warc_records_truncation_reaches_its_row_and_the_schema_names_every_field(
        cleaner, tmp_path):
    """A record the crawler cut short on purpose (``WARC-Truncated: length``) is cleaned, and
    its row says so: without the field, a job could not tell a whole page from a part. The
    schema passed to ``createDataFrame`` must name every field a row has, or the column is
    missing from the output (or Spark refuses the rows)."""
    from filter.integrations.spark import clean_warc_files

    warc = tmp_path / "cut.warc.gz"
    build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0]),
                          warc_headers={"WARC-Truncated": "length"})])
    (row,) = clean_warc_files([str(warc)], model=str(cleaner.loaded.path))
    assert row["error"] is None and row["text"] and row["warc_truncated"] == "length"
    assert _schema_fields(OUTPUT_SCHEMA) == list(row)
    (plain,) = clean_rows([{"id": "x", "html": page(ARTICLES[0])}], model=str(cleaner.loaded.path))
    assert _schema_fields(OUTPUT_SCHEMA) == list(plain)


def test_each_size_limit_has_its_own_cleaner_in_a_python_worker(cleaner):
    """Cached without its size limit, a worker that had served a job with one `max_bytes`
    cleaned the next job's pages under the first job's limit."""
    small = executor_cleaner(str(cleaner.loaded.path), max_bytes=1000)
    large = executor_cleaner(str(cleaner.loaded.path), max_bytes=2000)
    assert large is not small
    assert (small.limits.max_bytes, large.limits.max_bytes) == (1000, 2000)


def test_a_python_worker_classifies_with_one_thread(tmp_path):
    """Spark runs one Python worker per core: a worker whose classifier used every core would
    run cores × cores threads, waiting on each other at every tree. In a fresh process, since
    the tests here run under a one-thread limit of their own."""
    import subprocess
    import textwrap

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: every thread pool has one thread anyway")
    code = textwrap.dedent("""
        import json
        import threadpoolctl
        from filter.integrations.spark import executor_cleaner
        before = [p["num_threads"] for p in threadpoolctl.threadpool_info()]
        executor_cleaner()
        print(json.dumps([before, [p["num_threads"] for p in threadpoolctl.threadpool_info()]]))
    """)
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    before, after = json.loads(out.splitlines()[-1])
    if max(before, default=1) < 2:
        pytest.skip("no thread pool here has more than one thread to begin with")
    assert after and set(after) == {1}


def test_a_page_the_library_refuses_gives_its_error_as_the_library_says_it(cleaner):
    """An empty page is an input error with the library's own message, as `noisefilter batch`
    reports it, not an "unexpected error" (which reads as a bug in noisefilter)."""
    from filter.errors import NoiseFilterError

    with pytest.raises(NoiseFilterError) as refused:
        cleaner.clean("", url=URL + "empty")
    (row,) = clean_rows([{"id": "empty", "url": URL + "empty", "html": ""}],
                        model=str(cleaner.loaded.path))
    assert row["error"] == {"type": type(refused.value).__name__, "message": str(refused.value)}
    assert row["error"]["type"] == "InputError"


def test_rows_are_named_by_their_id_hash_or_contents_whatever_its_form(cleaner):
    """The id a row keeps is what a job joins its output on: an id 0 is an id (not replaced
    by the URL), HTML with a lone surrogate is still named by its hash (without failing the
    task), HTML as bytearray (PySpark's BinaryType) is named as the same bytes are, and a row
    without id, URL or HTML is named by its contents whatever the order of its fields."""
    model = str(cleaner.loaded.path)
    html = page(ARTICLES[0])
    (zero,) = clean_rows([{"id": 0, "url": URL + ARTICLES[0], "html": html}], model=model)
    assert zero["id"] == "0" and zero["error"] is None
    (lone,) = clean_rows([{"html": "\ud800<p>x</p>"}], model=model)
    assert lone["id"].startswith("sha256:")
    as_bytes, as_bytearray = clean_rows([{"html": html}, {"html": bytearray(html)}], model=model)
    assert as_bytes["id"].startswith("sha256:") and as_bytearray["id"] == as_bytes["id"]
    one, other = clean_rows([{"html": None, "lang": "en", "site": "a"},
                             {"site": "a", "lang": "en", "html": None}], model=model)
    assert one["id"].startswith("row:") and one["id"] == other["id"]


def test_the_size_limit_given_is_the_one_a_warc_is_read_with(cleaner, tmp_path, monkeypatch):
    """A job's `max_bytes` is the limit its WARCs are read with, local or remote: read with
    the default 10 MB, a job could not let larger pages through, nor refuse smaller ones as
    records before reading them whole."""
    import io
    import types

    from filter.integrations.spark import clean_warc_files

    warc = tmp_path / "a.warc.gz"
    build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    assert len(page(ARTICLES[0])) > 1000
    monkeypatch.setitem(sys.modules, "fsspec", types.SimpleNamespace(
        open=lambda url, mode: types.SimpleNamespace(
            open=lambda: io.BufferedReader(io.FileIO(warc)))))
    for path in (str(warc), "s3://bucket/a.warc.gz"):
        (row,) = clean_warc_files([path], model=str(cleaner.loaded.path), max_bytes=1000)
        assert row["error"] == {"type": "InputTooLarge",
                                "message": "the page is over the limit of 1,000 bytes"}, path


def test_a_remote_warc_without_fsspec_or_with_a_url_it_refuses_is_a_row(cleaner, monkeypatch):
    """Without fsspec installed, or with a URL fsspec refuses (a ValueError: an unknown
    protocol, a malformed bucket name), one file is one UnreadableFile row, as a missing
    local file is, not a failed task (and after Spark's retries a failed job)."""
    import types

    from filter.integrations.spark import clean_warc_files

    url = "s3://bucket/a.warc.gz"
    monkeypatch.setitem(sys.modules, "fsspec", None)
    (row,) = clean_warc_files([url], model=str(cleaner.loaded.path))
    assert row["error"]["type"] == "UnreadableFile" and "needs fsspec" in row["error"]["message"]

    def refuse(url, mode):
        raise ValueError("Protocol not known: s3")

    monkeypatch.setitem(sys.modules, "fsspec", types.SimpleNamespace(open=refuse))
    (row,) = clean_warc_files([url], model=str(cleaner.loaded.path))
    assert row["id"] == f"{url}@0" and row["error"] == {"type": "UnreadableFile",
                                                        "message": "Protocol not known: s3"}


def test_a_remote_warc_is_closed_once_read(cleaner, tmp_path, monkeypatch):
    """A remote file left open would hold a connection (and its buffer) for as long as the
    Python worker lives, one per WARC of a partition."""
    import io
    import types

    from filter.integrations.spark import clean_warc_files

    warc = tmp_path / "a.warc.gz"
    build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    opened = []

    def open_(url, mode):
        return types.SimpleNamespace(
            open=lambda: opened.append(io.BufferedReader(io.FileIO(warc))) or opened[-1])

    monkeypatch.setitem(sys.modules, "fsspec", types.SimpleNamespace(open=open_))
    rows = list(clean_warc_files(["s3://bucket/a.warc.gz"], model=str(cleaner.loaded.path)))
    assert len(rows) == 1 and rows[0]["error"] is None
    assert len(opened) == 1 and opened[0].closed
