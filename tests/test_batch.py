"""`clean_many`: worker processes, input order, time limits, error records, bounded reading."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import tempfile
import time
from pathlib import Path

import pytest

from crawl_helpers import ARTICLES, one_blas_thread, page  # noqa: F401 (autouse fixture)
from filter import Cleaner, Limits, ModelError
from filter.batch import RECORD_FIELDS, Outcome, clean_many, drop_failures
from filter.inputs import Document, Failure

URL = "http://courier.test/"
# written by a worker of the tests' process as it dies while idle (`Tripwire`)
DIED = Path(tempfile.gettempdir()) / f"noisefilter-test-died-{os.getpid()}"


@pytest.fixture(scope="module")
def cleaner():
    return Cleaner()


@pytest.fixture(scope="module")
def pages():
    return [(page(name), URL + name) for name in ARTICLES]


class Tripwire(Cleaner):
    """Stands in for the pages no test can make the real pipeline choke on: one that never
    returns (lxml looping inside C code), one that kills its process (a segfault) and one that
    hits a bug (an exception that is no `NoiseFilterError`). Only usable with the ``fork``
    start method, where workers inherit this very object."""

    def clean(self, html, url=None):
        if url == "http://slow.test/":
            time.sleep(0.8)  # well inside the 1.5 s limit, on a loaded machine too
        elif url == "http://hang.test/":
            time.sleep(600)
        elif url == "http://crash.test/":
            os._exit(7)
        elif url == "http://bug.test/":
            raise RuntimeError("a bug, not a bad page")
        elif url == "http://dies-after.test/":  # answers, then its process dies while idle
            answered = threading.Event()

            def die():
                answered.wait()
                time.sleep(0.3)  # the answer sent (a timer from the start cut a slow clean short)
                DIED.touch()
                os._exit(9)

            threading.Thread(target=die, daemon=True).start()
            try:
                return super().clean(html, url=url)
            finally:
                answered.set()
        return super().clean(html, url=url)


@pytest.fixture(scope="module")
def tripwire(cleaner):
    return Tripwire(model=cleaner.loaded, limits=Limits(timeout=1.5))


def test_results_equal_the_library_in_input_order_with_errors_in_place(cleaner, pages):
    """Default start method (forkserver): every worker loads the model itself."""
    docs = [{"id": "a", "html": pages[0][0], "url": pages[0][1]},
            b"",  # not cleanable: an error record, not an exception
            {"id": "t", "text": "First line of a story.\nSecond line of it."},
            *[Document(id=url, html=html, url=url) for html, url in pages[1:]],
            42]
    outcomes = list(clean_many(cleaner, docs, workers=2))
    assert [o.id for o in outcomes] == ["a", "1", "t", URL + ARTICLES[1], URL + ARTICLES[2], "5"]
    expected = [cleaner.clean(pages[0][0], url=pages[0][1]), None,
                cleaner.clean_text("First line of a story.\nSecond line of it."),
                *[cleaner.clean(html, url=url) for html, url in pages[1:]], None]
    for outcome, want in zip(outcomes, expected):
        if want is None:
            assert outcome.result is None and outcome.error.type == "InputError"
        else:
            assert outcome.ok and outcome.result.to_dict() == want.to_dict()


def test_documents_workers_cannot_receive_cost_only_themselves(tripwire, pages):
    """A memoryview is cleaned as the bytes it shows; an object that cannot be pickled to a
    worker (a lock where the url should be) is reported in its place."""
    import threading

    html, url = pages[0]
    docs = [memoryview(html), {"id": "mv", "html": memoryview(html), "url": url},
            {"id": "lock", "html": html, "url": threading.Lock()}, {"id": "last", "html": html}]
    outcomes = list(clean_many(tripwire, docs, workers=2, start_method="fork"))
    assert [o.id for o in outcomes] == ["0", "mv", "lock", "last"]
    assert [o.ok for o in outcomes] == [True, True, False, True]
    assert outcomes[1].result.text == tripwire.clean(html, url=url).text
    assert outcomes[2].error.type == "InputError" and "sent to a worker" in outcomes[2].error.message


def test_a_worker_that_died_while_idle_is_replaced_before_it_gets_a_document(tripwire, pages):
    """Sending to a dead worker's pipe fails; the document goes to its replacement instead of
    the error ending the batch."""
    html, url = pages[0]

    def docs():
        yield {"id": "first", "html": html, "url": "http://dies-after.test/"}
        for _ in range(600):  # the worker has answered and dies
            if DIED.exists():
                break
            time.sleep(0.05)
        time.sleep(0.3)
        yield {"id": "second", "html": html, "url": url}

    DIED.unlink(missing_ok=True)
    try:
        outcomes = list(clean_many(tripwire, docs(), workers=1, start_method="fork"))
    finally:
        DIED.unlink(missing_ok=True)
    assert [(o.id, o.ok) for o in outcomes] == [("first", True), ("second", True)]


def test_order_holds_when_an_early_document_finishes_last(tripwire, pages):
    docs = [Document(id="slow", html=pages[0][0], url="http://slow.test/")]
    docs += [Document(id=url, html=html, url=url) for html, url in pages]
    started = time.monotonic()
    outcomes = list(clean_many(tripwire, docs, workers=2, start_method="fork"))
    assert [o.id for o in outcomes] == ["slow", *[url for _, url in pages]]
    assert all(o.ok for o in outcomes)
    assert outcomes[0].seconds >= 0.8 > max(o.seconds for o in outcomes[1:])
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("marker, failure, detail", [
    ("http://hang.test/", "ExtractionTimeout", "longer than 1.5 s"),
    ("http://crash.test/", "WorkerCrashed", "exit code 7"),
    ("http://bug.test/", "RuntimeError", "a bug, not a bad page"),
])
def test_a_hung_or_crashing_document_costs_only_itself(tripwire, cleaner, pages, marker,
                                                       failure, detail):
    html, url = pages[0]
    docs = [Document(id="before", html=html, url=url),
            Document(id="bad", html=html, url=marker),
            *[Document(id=str(i), html=h, url=u) for i, (h, u) in enumerate(pages)]]
    started = time.monotonic()
    outcomes = list(clean_many(tripwire, docs, workers=1, start_method="fork"))
    assert time.monotonic() - started < 20  # the hung page was stopped at its 1.5 s limit
    assert [o.error.type if o.error else "ok" for o in outcomes] == ["ok", failure] + ["ok"] * 3
    assert detail in outcomes[1].error.message
    # the replacement worker goes on with the same model
    for outcome, (h, u) in zip(outcomes[2:], pages):
        assert outcome.result.text == cleaner.clean(h, url=u).text
    assert multiprocessing.active_children() == []


def test_input_is_read_lazily_and_workers_end_when_the_caller_stops(tripwire, pages):
    pulled = 0

    def endless():
        nonlocal pulled
        while True:
            pulled += 1
            yield Document(id=str(pulled), html=pages[pulled % 3][0], url=pages[pulled % 3][1])

    results = clean_many(tripwire, endless(), workers=2, max_in_flight=3, start_method="fork")
    first = [next(results) for _ in range(4)]
    assert [o.id for o in first] == ["1", "2", "3", "4"]
    assert pulled <= 4 + 3  # what was yielded plus the in-flight window
    results.close()
    assert multiprocessing.active_children() == []


def test_results_and_time_limits_do_not_wait_for_an_input_that_blocks(tripwire, pages):
    """An input that waits between documents (a generator fed by the network, a producer gone
    quiet): what is finished comes out and a hung document is stopped at its limit while it
    waits. The input used to be read ahead before replies were collected, so both waited for
    the next document."""
    html, url = pages[0]
    resume = threading.Event()

    def docs():
        yield Document(id="hung", html=html, url="http://hang.test/")
        yield Document(id="quick", html=html, url=url)
        resume.wait(60)
        yield Document(id="last", html=html, url=url)

    results = clean_many(tripwire, docs(), workers=2, start_method="fork")
    started = time.monotonic()
    hung, quick = next(results), next(results)
    assert time.monotonic() - started < 30  # not the 60 s the input waits
    assert (hung.id, hung.error.type) == ("hung", "ExtractionTimeout") and hung.seconds < 30
    assert (quick.id, quick.ok) == ("quick", True)
    # the hung worker's replacement is forked once the input returns, not while it runs
    assert len(multiprocessing.active_children()) == 1
    resume.set()
    assert [(o.id, o.ok) for o in results] == [("last", True)]
    assert multiprocessing.active_children() == []


def test_an_error_of_the_input_comes_after_the_outcomes_before_it(tripwire, pages):
    html, url = pages[0]

    def docs():
        yield Document(id="slow", html=html, url="http://slow.test/")
        yield Document(id="quick", html=html, url=url)
        raise LookupError("the input broke")

    results = clean_many(tripwire, docs(), workers=2, start_method="fork")
    assert [next(results).id, next(results).id] == ["slow", "quick"]
    with pytest.raises(LookupError, match="the input broke"):
        next(results)
    assert multiprocessing.active_children() == []


STOPS_WHILE_ITS_INPUT_BLOCKS = """
import multiprocessing, time
from filter import Cleaner
from filter.batch import clean_many

def docs():
    yield "<html><body><p>A line of text.</p></body></html>"
    time.sleep(600)  # a producer gone quiet
    yield "never read"

if __name__ == "__main__":
    for outcome in clean_many(Cleaner(), docs(), workers=1, start_method="fork"):
        break
    print(outcome.id, len(multiprocessing.active_children()))
"""


def test_a_caller_that_stops_while_its_input_blocks_ends_at_once(tmp_path):
    """The thread reading the input is left blocked in it: it must not keep the process
    alive, nor the workers."""
    script = tmp_path / "caller.py"
    script.write_text(STOPS_WHILE_ITS_INPUT_BLOCKS)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert (proc.returncode, proc.stdout) == (0, "0 0\n"), proc.stderr


HANGS_IN_A_WORKER = """
import os, time
from pathlib import Path
from filter.cleaner import Cleaner

_clean = Cleaner.clean

def clean(self, html, url=None):  # patched in every worker too: they import this module
    if url == "http://hang.test/":
        mark = Path(os.environ["HANG_MARK"])
        mark.with_suffix(".tmp").write_text(str(os.getpid()))
        mark.with_suffix(".tmp").rename(mark)
        time.sleep(600)
    return _clean(self, html, url=url)

Cleaner.clean = clean

if __name__ == "__main__":
    from filter.batch import clean_many
    docs = [{"html": "<p>x</p>", "url": "http://hang.test/"}]
    for outcome in clean_many(Cleaner(), docs, workers=1, timeout=600):
        pass
"""


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_mid_document_with_a_killed_caller(tmp_path):
    """Default start method (forkserver): a worker's parent is the server, which outlives a
    caller killed outright (kill -9, the OOM killer). The worker used to notice only between
    documents, so it cleaned on, without end on a hung page."""
    script, mark = tmp_path / "caller.py", tmp_path / "worker.pid"
    script.write_text(HANGS_IN_A_WORKER)
    caller = subprocess.Popen([sys.executable, str(script)],  # (its fork server's folder
                              env={**os.environ, "HANG_MARK": str(mark),  # is left: kill -9)
                                   "TMPDIR": str(tmp_path)})
    worker = None
    try:
        deadline = time.monotonic() + 120
        while not mark.exists() and caller.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = int(mark.read_text())
        caller.kill()
        caller.wait()
        deadline = time.monotonic() + 30
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker)
    finally:
        caller.kill()
        caller.wait()
        if worker is not None and alive(worker):
            os.kill(worker, signal.SIGKILL)


def test_reader_failures_pass_through_in_place(tripwire, pages):
    docs = [Document(id="bad", failure=Failure("DamagedRecord", "cut"), meta={"k": 1}),
            Document(id="good", html=pages[0][0], url=pages[0][1])]
    bad, good = clean_many(tripwire, docs, start_method="fork")
    assert (bad.id, bad.error.type, bad.meta) == ("bad", "DamagedRecord", {"k": 1})
    assert good.ok


def test_cleaner_clean_many_delegates(tripwire, pages):
    (outcome,) = tripwire.clean_many([pages[1][0]], workers=1, start_method="fork")
    assert outcome.ok and outcome.result.text


def test_cleaner_clean_many_takes_the_options_clean_many_takes_by_name():
    """`Cleaner.clean_many` spells the options out (it took `**options`, which an editor and a
    type checker know nothing of): the same names, defaults and types as `clean_many`."""
    import inspect

    ours = inspect.signature(Cleaner.clean_many).parameters
    theirs = inspect.signature(clean_many).parameters
    assert [(p.name, p.default, p.annotation) for p in list(ours.values())[2:]] == [
        (p.name, p.default, p.annotation) for p in list(theirs.values())[2:]]


def test_a_model_a_worker_cannot_load_raises(tmp_path, cleaner):
    for src in (cleaner.loaded.path,
                cleaner.loaded.path.with_name(cleaner.loaded.path.stem + ".manifest.json")):
        shutil.copy(src, tmp_path / src.name)
    copy = Cleaner(model=tmp_path / cleaner.loaded.path.name)
    (tmp_path / cleaner.loaded.path.name).write_bytes(b"not the model any more")
    with pytest.raises(ModelError, match="sha256|manifest"):
        list(clean_many(copy, [b"<p>x</p>"], workers=1))


def test_workers_refuse_a_model_retrained_in_place_and_find_one_named_relatively(tmp_path, cleaner,
                                                                              pages, monkeypatch):
    """Workers load the model again from its file: a Cleaner made with a relative path failed
    in a batch after a chdir, and a file retrained in place since the Cleaner loaded it (a new
    model and manifest) was quietly used by the workers while `clean` used the old one."""
    from filter.modelfile import manifest_path, save_model
    folder = tmp_path / "models"
    folder.mkdir()
    name = cleaner.loaded.path.name
    for src in (cleaner.loaded.path, manifest_path(cleaner.loaded.path)):
        shutil.copy(src, folder / src.name)
    monkeypatch.chdir(tmp_path)
    relative = Cleaner(model=f"models/{name}")
    monkeypatch.chdir(tmp_path.parent)
    (outcome,) = list(relative.clean_many([pages[0][0]], workers=1))
    assert outcome.ok and outcome.result.model_version == relative.model_version

    retrained = relative.model
    retrained.note_ = "retrained in place"  # other bytes, another sha256
    save_model(retrained, folder / name, {"version": "retrained"})
    with pytest.raises(ModelError, match="changed since the Cleaner loaded it"):
        list(relative.clean_many([pages[0][0]], workers=1))


def test_an_input_only_its_own_thread_may_use_is_read_in_the_callers_thread(cleaner, pages):
    """A sqlite3 cursor refuses use from any thread but its own, and the input is read in a
    thread of its own; `read_in_thread=False` reads it in the caller's."""
    import sqlite3
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE pages (html TEXT, url TEXT)")
    db.executemany("INSERT INTO pages VALUES (?, ?)", pages[:3])
    rows = ({"html": html, "url": url} for html, url in db.execute("SELECT html, url FROM pages"))
    outcomes = list(cleaner.clean_many(rows, workers=1, read_in_thread=False))
    assert [o.url for o in outcomes] == [url for _, url in pages[:3]] and all(o.ok for o in outcomes)
    with pytest.raises(sqlite3.ProgrammingError):  # what the default says to such an input
        list(cleaner.clean_many((r[0] for r in db.execute("SELECT html FROM pages")), workers=1))


def test_one_page_given_as_the_batch_is_refused_not_cleaned_character_by_character(cleaner, pages):
    # a dict was cleaned key by key: three failures, "id", "url" and "html" each no page
    for one in (pages[0][0], pages[0][0].decode("utf-8", "replace"),
                {"id": "a", "url": pages[0][1], "html": pages[0][0]}):
        with pytest.raises(TypeError, match="one document"):
            cleaner.clean_many(one, workers=1)  # at the call, not at the first outcome


def test_records_have_one_shape_for_results_and_failures(cleaner, pages):
    ok = Outcome(id="a", url=pages[0][1], result=cleaner.clean(pages[0][0], url=pages[0][1]),
                 meta={"warc_date": "2026-01-01"})
    bad = Outcome(id="b", error=Failure("InputError", "input is empty"))
    for record in (ok.to_record(), bad.to_record()):
        assert list(record)[:len(RECORD_FIELDS)] == list(RECORD_FIELDS)
    assert ok.to_record()["error"] is None and ok.to_record()["text"]
    assert ok.to_record()["warc_date"] == "2026-01-01"
    assert bad.to_record()["error"] == {"type": "InputError", "message": "input is empty"}
    assert bad.to_record()["text"] == "" and bad.to_record()["label_counts"] == {}
    assert "blocks" in ok.to_record(blocks=True)


def test_a_jsonl_record_whose_url_is_not_a_string_is_reported_not_cleaned_without_it(tmp_path):
    from filter.inputs import read_jsonl

    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (
        {"id": "a", "url": 7, "html": "<html><body><p>x</p></body></html>"},
        {"id": "b", "url": "", "text": "a line"},
    )) + "\n")
    bad, good = read_jsonl(path)
    assert bad.failure.type == "BadInputLine" and '"url" must be a string' in bad.failure.message
    assert good.failure is None and good.url is None and good.text == "a line"


def test_text_bytes_are_read_in_the_charset_given_with_them(cleaner):
    """`clean_text(body, charset=...)` reads text its transport labelled windows-1251; the
    batch dropped the charset of such a document and refused it as "text is not UTF-8"."""
    text = ("Правительство "
            "одобрило новый "
            "закон.\nМинистр "
            "сказал, что реки "
            "станут чище.\n")
    docs = [{"id": "ru", "text": text.encode("windows-1251"), "charset": "windows-1251"}]
    [outcome] = clean_many(cleaner, docs, workers=1, start_method="fork")
    assert outcome.error is None
    assert outcome.result.to_dict() == cleaner.clean_text(text).to_dict()


class OldTextCleaner(Cleaner):
    """A subclass written before `clean_text` took a charset."""

    def clean_text(self, text):
        return super().clean_text(text)


def test_a_cleaner_whose_clean_text_takes_no_charset_cleans_text_given_as_str(cleaner):
    """A text document in str holds nothing to decode: its charset is not passed on (it
    raised TypeError in such a subclass)."""
    old = OldTextCleaner(model=cleaner.loaded)
    docs = [{"id": "a", "text": "Minister says rivers will be cleaner.\nShare this",
             "charset": "windows-1251"}]
    [outcome] = clean_many(old, docs, workers=1, start_method="fork")
    assert outcome.error is None and outcome.result.text == cleaner.clean_text(
        docs[0]["text"]).text


def test_a_document_made_by_position_keeps_its_url():
    """`Document.charset` came in before `url`, so `Document(id, html, text, url)` put the URL
    in the charset and cleaned the page without one."""
    from filter.inputs import Document

    doc = Document("p1", "<p>x</p>", None, "https://example.org/news/1", "crawl-01.jsonl")
    assert (doc.url, doc.source, doc.charset) == ("https://example.org/news/1",
                                                   "crawl-01.jsonl", None)


def test_a_record_with_both_html_and_text_is_refused_not_cleaned_as_one_of_them(tmp_path):
    """Such a record was cleaned as its HTML, the text ignored without a word (an empty
    "html" failed as an empty page): which one is the page cannot be known, and the service
    and the examples refuse it too."""
    from filter.batch import as_document
    from filter.inputs import read_jsonl

    both = {"id": "a", "html": "<p>Old teaser only</p>", "text": "The ferry runs again."}
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (
        both, {**both, "id": "b", "html": ""}, {"id": "c", "html": None, "text": "A line."},
    )) + "\n")
    first, second, third = read_jsonl(path)
    for doc in (first, second):
        assert doc.failure.type == "BadInputLine" and '"html" and "text"' in doc.failure.message
    assert third.failure is None and third.text == "A line."
    doc = as_document(both, 0)
    assert doc.failure.type == "InputError" and '"html" and "text"' in doc.failure.message


def test_jsonl_ids_that_are_not_strings_keep_their_json_spelling(tmp_path):
    """An id of 7, true or {"a": 1} came out as "7", "True" and "{'a': 1}" (Python's repr)."""
    from filter.inputs import read_jsonl

    path = tmp_path / "pages.jsonl"
    ids = [7, True, {"a": 1}, [1, "é"], "plain"]
    path.write_text("".join(json.dumps({"id": i, "text": "a line"}) + "\n" for i in ids))
    assert [d.id for d in read_jsonl(path)] == ["7", "true", '{"a": 1}', '[1, "é"]', "plain"]


def test_a_jsonl_line_cut_short_is_reported_by_its_place_not_the_id_of_the_whole_record(tmp_path):
    """A last line cut short (a stream or download still under way) and a read error were
    reported as FILE:LINE, the id the whole record takes later: resuming took it for done.
    They are FILE@LINE; a complete last line without its newline keeps FILE:LINE."""
    import gzip

    from filter.inputs import read_jsonl

    records = [json.dumps({"text": f"Line {i} of the text."}) for i in range(3)]
    path = tmp_path / "pages.jsonl"
    path.write_text(records[0] + "\n" + records[1] + "\n" + records[2][:-9])
    got = [(d.id, d.failure and d.failure.type) for d in read_jsonl(path)]
    assert got == [("pages.jsonl:1", None), ("pages.jsonl:2", None),
                   ("pages.jsonl@3", "BadInputLine")]
    path.write_text("\n".join(records))  # whole, only the newline at its end missing
    assert [(d.id, d.failure) for d in read_jsonl(path)] == [
        ("pages.jsonl:1", None), ("pages.jsonl:2", None), ("pages.jsonl:3", None)]
    path.write_text("\n".join(records) + "\n" + '"just a string"')
    assert [d.id for d in read_jsonl(path)][-1] == "pages.jsonl:4"  # JSON, only not an object
    gz = tmp_path / "pages.jsonl.gz"
    whole = gzip.compress(("\n".join(records * 200) + "\n").encode())
    gz.write_bytes(whole[:len(whole) // 2])  # still downloading
    docs = list(read_jsonl(gz))
    last = docs[-1]
    assert last.failure.type == "UnreadableFile" and last.id == f"pages.jsonl.gz@{len(docs)}"
    assert all(d.failure is None and d.id == f"pages.jsonl.gz:{n}"
               for n, d in enumerate(docs[:-1], 1))



COMPRESSORS = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma", ".zst": "backports.zstd"}


@pytest.mark.parametrize("suffix", list(COMPRESSORS))
def test_pages_and_json_lines_compressed_any_way_are_read_by_their_bytes(tmp_path, suffix):
    """The batch read gzip alone, and only by a .gz name: a .jsonl.zst or a folder's
    page.html.xz was refused or skipped, a .jsonl piped through bzip2 read as "not valid JSON"
    line after line; the example files of retraining read all four. One rule for both now."""
    import importlib

    from filter.inputs import input_kind, read_inputs

    compress = importlib.import_module(COMPRESSORS[suffix]).compress
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / f"a.html{suffix}").write_bytes(compress(page(ARTICLES[0])))
    (folder / "b.html").write_bytes(compress(page(ARTICLES[1])))  # compressed, named plainly
    record = {"id": "j", "url": URL + ARTICLES[2], "html": page(ARTICLES[2]).decode()}
    jsonl = tmp_path / f"pages.jsonl{suffix}"
    jsonl.write_bytes(compress((json.dumps(record) + "\n").encode()))
    assert input_kind(jsonl) == "jsonl" and input_kind(folder / f"a.html{suffix}") == "html"
    docs = list(read_inputs([folder, jsonl]))
    assert [(d.id, d.failure) for d in docs] == [
        (f"site/a.html{suffix}", None), ("site/b.html", None), ("j", None)]
    assert [d.html for d in docs] == [page(ARTICLES[0]), page(ARTICLES[1]), record["html"]]
    cut = tmp_path / f"cut.jsonl{suffix}"
    lines = "".join(json.dumps({**record, "id": f"j{i}"}) + "\n" for i in range(4)).encode()
    whole = compress(lines)
    cut.write_bytes(whole[:len(whole) // 2])  # still downloading: one report, in its place
    docs = list(read_inputs([cut]))
    assert [d.failure for d in docs[:-1]] == [None] * (len(docs) - 1) and len(docs) < 5
    assert docs[-1].failure.type == "UnreadableFile"
    assert docs[-1].id == f"cut.jsonl{suffix}@{len(docs)}"


def test_a_compressed_page_over_the_size_limit_is_refused_unread(tmp_path):
    import bz2

    from filter.inputs import read_html_file

    path = tmp_path / "bomb.html.bz2"
    path.write_bytes(bz2.compress(b"<p>" + b"a" * 5_000_000))
    doc = read_html_file(path, "bomb", max_bytes=1_000_000)
    assert doc.failure.type == "InputTooLarge" and doc.html is None


def test_a_jsonl_file_still_being_written_is_read_to_its_cut_and_no_further(tmp_path):
    """Read while a writer appends: the rest of a cut line came back as a line of its own, and
    every later record took the number of the one after it (record 3 as FILE:4), so a resume
    cleaned pages twice under two ids. The reader stops at the cut; the rest, read on a
    resume once the file is whole, keeps its numbers."""
    from filter.inputs import read_jsonl

    records = [json.dumps({"url": f"http://x.test/{i}", "text": f"Line {i}."}) for i in range(1, 5)]
    path = tmp_path / "grow.jsonl"
    whole = "".join(r + "\n" for r in records)
    path.write_text(whole[:len(records[0]) + 1 + len(records[1]) // 2])
    reader = read_jsonl(path)
    first, cut = next(reader), next(reader)
    with open(path, "a") as fh:  # the writer goes on meanwhile
        fh.write(whole[len(path.read_text()):])
    assert [(first.id, first.url), (cut.id, cut.failure.type)] == [
        ("grow.jsonl:1", "http://x.test/1"), ("grow.jsonl@2", "BadInputLine")]
    assert list(reader) == []
    assert [(d.id, d.url) for d in read_jsonl(path)] == [
        (f"grow.jsonl:{i}", f"http://x.test/{i}") for i in range(1, 5)]


def test_a_json_lines_file_in_utf16_or_one_json_array_is_one_report_not_one_per_line(
        tmp_path, monkeypatch):
    """A .jsonl saved by PowerShell's > (UTF-16 with a byte-order mark) or a .json holding a
    pretty-printed array gave one "not valid JSON" report per line and no page. Each is one
    report, named by its place (FILE@1, which no record takes: the file is read again once it
    is JSON Lines) and saying what to do; standard input alike. A JSON array on one line is one
    bad line of a JSON Lines file, as before."""
    import gzip

    from filter.inputs import STDIN, read_jsonl

    records = [{"id": f"p{i}", "html": f"<p>Page {i}</p>"} for i in range(3)]
    lines = "".join(json.dumps(r) + "\n" for r in records)
    files = {"ps.jsonl": lines.encode("utf-16"), "wide.jsonl": lines.encode("utf-32"),
             "pages.json": json.dumps(records, indent=2).encode(),
             "packed.json": gzip.compress(json.dumps(records, indent=1).encode())}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        docs = list(read_jsonl(tmp_path / name))
        assert [(d.id, d.failure.type) for d in docs] == [(f"{name}@1", "UnreadableFile")]
        why = "UTF-8 JSON Lines" if name.endswith(".jsonl") else "jq -c '.[]'"
        assert why in docs[0].failure.message
    for name in files:
        with open(tmp_path / name, "rb") as stdin:
            monkeypatch.setattr(sys, "stdin", stdin)
            assert [d.id for d in read_jsonl(STDIN)] == ["stdin@1"]
    mixed = tmp_path / "mixed.jsonl"
    for first in ("[1, 2]", "[1, x]"):  # JSON Lines whose first line is bad, not an array file
        mixed.write_text(first + "\n" + lines)
        assert [(d.id, d.failure and d.failure.type) for d in read_jsonl(mixed)] == [
            ("mixed.jsonl:1", "BadInputLine"), ("p0", None), ("p1", None), ("p2", None)]


def test_an_archive_image_or_utf16_named_as_json_lines_is_one_report(tmp_path):
    """A tar.gz named .jsonl.gz gave 7,903 "not valid JSON" reports, one per "line" of its
    bytes, a PNG or a PDF dozens. A first line of NULs (a crash's) or in Latin-1 is that line's
    problem alone: the records after it are read."""
    import io
    import tarfile

    from filter.inputs import read_jsonl

    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        data = b'{"id": "a", "text": "Harbour news."}\n' * 50
        info = tarfile.TarInfo("pages/a.jsonl")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    record = '{"id": "a", "text": "Harbour news."}\n'
    files = {"pages.jsonl.gz": (packed.getvalue(), "a tar archive"),
             "wide.jsonl": (record.encode("utf-16-le"), "UTF-16 text without a byte-order mark"),
             "big-end.jsonl": (record.encode("utf-16-be"), "UTF-16 text without a byte-order mark"),
             "shot.jsonl": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\n" * 40, "a PNG image"),
             "paper.jsonl": (b"%PDF-1.4\n" + b"1 0 obj\n<< >>\nendobj\n" * 20, "a PDF document")}
    for name, (data, kind) in files.items():
        (tmp_path / name).write_bytes(data)
        docs = list(read_jsonl(tmp_path / name))
        assert [(d.id, d.failure.type) for d in docs] == [(f"{name}@1", "UnreadableFile")]
        assert docs[0].failure.message == f"{tmp_path / name} is {kind}, not JSON Lines"
    good = b'{"id": "b", "text": "Ferry times."}\n'
    for first in (b"\x00" * 300 + b"\n", b'{"id": "a", "text": "caf\xe9\x00"}\n',
                  b'{"id": "a", "text": "x\x00y"}\n'):
        (tmp_path / "first.jsonl").write_bytes(first + good)
        assert [(d.id, d.failure and d.failure.type) for d in read_jsonl(tmp_path / "first.jsonl")] == [
            ("first.jsonl:1", "BadInputLine"), ("b", None)]


def test_a_json_lines_record_saved_in_latin1_says_json_is_utf8(tmp_path):
    """A record written in Latin-1 was "not valid JSON: 'utf-8' codec can't decode byte…",
    Python's words; the line is JSON, in the wrong charset. The records around it are read."""
    from filter.inputs import read_jsonl

    path = tmp_path / "pages.jsonl"
    path.write_bytes(b'{"id": "a", "html": "<p>Harbour</p>"}\n'
                     + '{"id": "b", "html": "<p>Café on the harbour</p>"}\n'.encode("latin-1")
                     + b'{"id": "c", "html": "<p>Ferry</p>"}\n')
    docs = list(read_jsonl(path))
    assert [(d.id, d.failure and d.failure.type) for d in docs] == [
        ("a", None), ("pages.jsonl:2", "BadInputLine"), ("c", None)]
    assert docs[1].failure.message == ("not UTF-8 (byte 0xe9 at byte 28 of the line): JSON Lines "
                                       "are UTF-8; write the file so (iconv -t UTF-8)")
    # the same line after a byte-order mark (`cat a.jsonl b.jsonl`, b saved by a Windows editor)
    path.write_bytes(b"\xef\xbb\xbf" + '{"id": "b", "html": "<p>Café</p>"}\n'.encode("latin-1"))
    [doc] = read_jsonl(path)
    assert doc.failure.message.startswith("not UTF-8 (byte 0xe9 at byte 31 of the line)")


def test_a_warc_given_as_json_lines_is_one_report_not_one_per_line(tmp_path, monkeypatch):
    """A WARC piped in (`aws s3 cp s3://... - | noisefilter batch -`) or named .jsonl gave a
    "not valid JSON" report for every header and HTML line: thousands of failure rows per
    record, which resuming then took for done."""
    import gzip

    from crawl_helpers import build_warc, site_records
    from filter.inputs import STDIN, read_jsonl

    build_warc(tmp_path / "crawl.warc.gz", site_records(), gz=True)
    (tmp_path / "crawl.jsonl.gz").write_bytes((tmp_path / "crawl.warc.gz").read_bytes())
    docs = list(read_jsonl(tmp_path / "crawl.jsonl.gz"))
    assert [(d.id, d.failure.type) for d in docs] == [("crawl.jsonl.gz@1", "UnreadableFile")]
    assert "is a WARC, not JSON Lines: give it as a file named .warc" in docs[0].failure.message
    (tmp_path / "plain.jsonl").write_bytes(gzip.decompress((tmp_path / "crawl.warc.gz").read_bytes()))
    for name in ("crawl.warc.gz", "plain.jsonl"):
        with open(tmp_path / name, "rb") as stdin:
            monkeypatch.setattr(sys, "stdin", stdin)
            assert [(d.id, d.failure.type) for d in read_jsonl(STDIN)] == [
                ("stdin@1", "UnreadableFile")]
    # a JSON Lines file whose text mentions WARC/1.0 later on is read as ever
    (tmp_path / "ok.jsonl").write_text(json.dumps({"id": "a", "html": "<p>WARC/1.0</p>"}) + "\n"
                                       + "WARC/1.0\n")
    assert [(d.id, d.failure and d.failure.type) for d in read_jsonl(tmp_path / "ok.jsonl")] == [
        ("a", None), ("ok.jsonl:2", "BadInputLine")]


def test_a_json_lines_page_over_the_size_limit_is_refused_by_the_reader_unread(
        tmp_path, cleaner, monkeypatch):
    """A record over --max-bytes was read, parsed and sent to a worker before the cleaner
    refused it: a 208 MB line took 1.1 GB. A line longer than the reader holds is now skipped
    unread (its id cannot be read: FILE:LINE), its report naming the --max-bytes that reads
    it; a shorter one is refused after parsing, under its id and with the cleaner's own
    message, and never sent to a worker. A record whose other fields make its line long, its
    page within the limit, is read (it was refused as if its page were too large)."""
    import tracemalloc

    import filter.inputs
    from filter import InputTooLarge
    from filter.inputs import read_inputs

    shot = tmp_path / "shots.jsonl"
    shot.write_text(json.dumps({"id": "shot", "html": "<p>A page.</p>",
                                "screenshot": "A" * 8_000_000}) + "\n")
    (doc,) = read_inputs([shot], max_bytes=1000)
    assert (doc.id, doc.failure, doc.html) == ("shot", None, "<p>A page.</p>")
    monkeypatch.setattr(filter.inputs, "_LINE_FLOOR", 0)  # as if 1000 bytes were 50 MB

    small = Cleaner(model=cleaner.loaded, limits=Limits(max_bytes=1000))
    html, text = "<p>" + "word " * 400 + "</p>", "A line of text. " * 100
    path = tmp_path / "pages.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (
        {"id": "long", "url": URL, "html": html}, {"text": text},
        {"html": "\x1f" * 5_000_000, "id": "huge"}, {"id": 7, "text": "\x1f" * 5_000_000},
        {"text": "A short line."})))
    tracemalloc.start()
    try:
        docs = list(read_inputs([path], max_bytes=1000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(d.id, d.failure and d.failure.type) for d in docs] == [
        ("long", "InputTooLarge"), ("pages.jsonl:2", "InputTooLarge"),
        ("pages.jsonl:3", "InputTooLarge"), ("pages.jsonl:4", "InputTooLarge"),
        ("pages.jsonl:5", None)]
    assert all(d.html is None and d.text is None for d in docs[:4])
    assert docs[0].url == URL
    for doc, call in ((docs[0], lambda: small.clean(html)),
                      (docs[1], lambda: small.clean_text(text))):
        with pytest.raises(InputTooLarge) as refused:
            call()
        assert doc.failure.message == str(refused.value)
    # the --max-bytes the report names, pasted back as it is, reads the line and takes its page
    given = docs[2].failure.message.split("--max-bytes ")[-1].split()[0]
    assert docs[2].failure.message.startswith("line 3 is 30,") and given.isdigit()
    again = list(read_inputs([path], max_bytes=int(given)))
    assert (again[2].id, again[2].failure, len(again[2].html)) == ("huge", None, 5_000_000)
    assert peak < 8_000_000  # the 30 MB lines (their pages escaped six bytes a byte) never whole


def test_a_long_line_that_is_no_json_has_one_id_whether_it_is_read_whole_or_not(tmp_path,
                                                                                monkeypatch):
    """A line too long to read is reported under FILE:LINE, as a line that is no JSON (a byte
    that is not UTF-8, a record cut in the middle, a character JSON does not allow) is when
    read whole: a line with two ids put a stale failure back beside its line after every
    retry and resume (an id read from the line's start did, for such lines)."""
    import filter.inputs
    from filter.inputs import read_inputs

    monkeypatch.setattr(filter.inputs, "_LINE_FLOOR", 0)  # 6 x --max-bytes + 1 MiB
    whole = json.dumps({"id": "huge", "html": "<p>" + "word " * 300_000 + "</p>"})
    path = tmp_path / "pages.jsonl"
    for line in ((whole[:-2] + "\xe9\"}").encode("latin-1"), whole.encode()[:-5000],
                 b"\x0c" + whole.encode()):
        path.write_bytes(line + b"\n")
        (short,), (read,) = (list(read_inputs([path], max_bytes=m)) for m in (1000, 10_000_000))
        assert short.failure.type == "InputTooLarge" and short.id == read.id == "pages.jsonl:1"


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_a_batch_read_from_two_threads_keeps_its_workers(cleaner, pages, start_method):
    """The kernel's parent-death signal follows the thread that forked a worker: a batch whose
    first outcome was read in a thread that then ended lost the documents in flight (killed,
    WorkerCrashed) under fork and spawn. Workers are started from a thread of the batch's."""
    outcomes = cleaner.clean_many([html for html, _ in pages] * 2, workers=2,
                                  start_method=start_method)
    first = []
    reader = threading.Thread(target=lambda: first.append(next(outcomes)))
    reader.start()
    reader.join()
    got = first + list(outcomes)
    assert [o.error for o in got] == [None] * len(got) and len(got) == 2 * len(pages)


@pytest.mark.skipif((3, 12) <= sys.version_info < (3, 12, 3),
                    reason="CPython 3.12.0 to 3.12.2 start no thread once the main thread has ended "
                    "(python/cpython#113964, fixed in 3.12.3)")
def test_a_batch_in_a_thread_of_the_callers_goes_on_after_the_main_thread_ends(tmp_path):
    """A batch run in the caller's own ThreadPoolExecutor, the script's main thread ending:
    the workers were started from a thread of `concurrent.futures`, which its exit hook stops
    then; the workers died with it and the batch raised "cannot schedule new futures"."""
    script = tmp_path / "job.py"
    script.write_text(
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from filter import Cleaner\n"
        "def job(cleaner):\n"
        "    out = list(cleaner.clean_many(['<p>A line of the harbour news.</p>'] * 24,\n"
        "                                  workers=2, start_method='fork'))\n"
        "    print('outcomes', len(out), 'failed', sum(o.error is not None for o in out))\n"
        "if __name__ == '__main__':\n"
        "    ThreadPoolExecutor(1).submit(job, Cleaner())\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert proc.stdout.strip() == "outcomes 24 failed 0", proc.stderr


def test_workers_started_before_a_start_that_fails_are_stopped(cleaner, pages, monkeypatch):
    """The pool was built in a list comprehension: when its third start failed (no file
    descriptor left, Ctrl-C), the two workers started before it were in no list the batch
    stopped, and lived on."""
    import filter.batch

    real, starts = filter.batch._Worker, []

    def failing_third(*args):
        starts.append(1)
        if len(starts) == 3:
            raise OSError(24, "Too many open files")
        return real(*args)

    monkeypatch.setattr(filter.batch, "_Worker", failing_third)
    with pytest.raises(OSError, match="Too many open files"):
        list(cleaner.clean_many([html for html, _ in pages], workers=3, start_method="fork"))
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert multiprocessing.active_children() == []


def test_a_list_of_documents_starts_no_more_workers_than_it_holds(cleaner, pages, monkeypatch):
    """`clean_many([page], workers=8)` started eight processes, each loading the model, to
    clean one page. An input without a length (a generator) gets the workers asked for."""
    import filter.batch

    real, starts = filter.batch._Worker, []

    def counted(*args):
        starts.append(1)
        return real(*args)

    monkeypatch.setattr(filter.batch, "_Worker", counted)
    html = pages[0][0]
    outcomes = list(cleaner.clean_many([html, html], workers=4, start_method="fork"))
    assert len(starts) == 2 and [o.result.text for o in outcomes] == [cleaner.clean(html).text] * 2
    starts.clear()
    assert len(list(cleaner.clean_many((h for h in [html]), workers=3, start_method="fork"))) == 1
    assert len(starts) == 3


def test_a_script_read_from_standard_input_is_told_why_its_workers_cannot_start(tmp_path):
    """`python - <<EOF`: forkserver workers import the main module, `<stdin>`, which is no
    file; the error told the user to add an `if __name__ == "__main__":` guard, no help."""
    script = ("from filter import Cleaner\n"
              "list(Cleaner().clean_many(['<p>A line.</p>'] * 3, workers=2))\n")
    proc = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert "ModelError" in proc.stderr and "<stdin> is no file" in proc.stderr, proc.stderr
    assert 'start_method="fork"' in proc.stderr


def test_a_worker_killed_while_starting_is_replaced_not_taken_for_a_model_error(
        tripwire, pages, tmp_path, monkeypatch):
    """The OOM killer takes a worker mid-document, then its replacement while it starts (before
    it is ready): that ended the batch with a ModelError blaming the model and a missing
    `if __name__ == "__main__":`. A worker killed before it is ready holds no document: it is
    replaced like any other dead worker."""
    starts = tmp_path / "starts"

    def killed_on_second_and_third_start(limit):  # runs in each worker before it is ready
        with open(starts, "a") as fh:
            fh.write("x")
        if starts.stat().st_size in (2, 3):
            os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr("filter.batch.threadpool_limits", killed_on_second_and_third_start)
    (html, url), (html2, url2) = pages[:2]
    docs = [{"id": "a", "html": html, "url": url},
            {"id": "crash", "html": html, "url": "http://crash.test/"},  # its worker dies
            {"id": "b", "html": html2, "url": url2}]
    outcomes = list(clean_many(tripwire, docs, workers=1, start_method="fork"))
    assert [(o.id, o.error and o.error.type) for o in outcomes] == [
        ("a", None), ("crash", "WorkerCrashed"), ("b", None)]
    assert starts.read_text() == "xxxx"


def test_workers_killed_while_starting_again_and_again_end_the_batch(tripwire, monkeypatch):
    """...rather than being replaced forever: a ModelError saying what happened."""
    monkeypatch.setattr("filter.batch.threadpool_limits",
                        lambda limit: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(ModelError, match="in a row were killed while starting.*signal 9"):
        list(clean_many(tripwire, ["<p>x</p>"], workers=2, start_method="fork"))


@pytest.mark.parametrize("options", [
    {"timeout": 0}, {"timeout": -1}, {"timeout": float("nan")}, {"timeout": float("inf")},
    {"timeout": True}, {"timeout": 10**400}, {"max_in_flight": -1}, {"max_in_flight": 0}, {"max_in_flight": 2.5},
    {"workers": 2.0}, {"workers": True}, {"workers": 0}, {"workers": 10**6},
])
def test_a_timeout_window_or_worker_count_that_cannot_work_is_refused(cleaner, options):
    # before: 0 or -1 failed every document as a time out, NaN raised "cannot convert float
    # NaN to integer", infinity an OverflowError, max_in_flight=-1 waited forever, and
    # workers=2.0 raised a raw TypeError from range(), and a million workers were started
    # (more than 8 per core: CPU work gains nothing from them); then the errors came only with
    # the first outcome, out of reach of a `try` around the call
    with pytest.raises(ValueError, match=next(iter(options))):
        clean_many(cleaner, ["<p>x</p>"], start_method="fork", **{"workers": 1, **options})


def _clean_many_in_a_fork(results) -> None:
    try:
        [outcome] = Cleaner().clean_many(["<p>A page of a few words in a fork.</p>"], workers=1)
        results.put(("ok", outcome.error))
    except BaseException as err:  # what the parent reports
        results.put(("failed", repr(err)))


def test_clean_many_works_in_a_fork_of_a_process_that_used_it(cleaner):
    """A `ProcessPoolExecutor` worker (forked, Linux's default before Python 3.14) of a process
    that had called `clean_many` inherited its fork server, took it for its own, and its
    `clean_many` failed with a bare ``ChildProcessError: No child processes``."""
    import multiprocessing

    [first] = clean_many(cleaner, ["<p>x</p>"])  # the default start method: a fork server
    assert first.error is None
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    child = fork.Process(target=_clean_many_in_a_fork, args=(results,))
    child.start()
    try:
        assert results.get(timeout=180) == ("ok", None)
    finally:
        child.join(30)


def test_a_daemonic_process_is_told_to_clean_one_by_one(cleaner, monkeypatch):
    """Inside a `multiprocessing.Pool` worker, starting workers failed with multiprocessing's
    bare "AssertionError: daemonic processes are not allowed to have children"."""
    import multiprocessing

    monkeypatch.setitem(multiprocessing.current_process()._config, "daemon", True)
    with pytest.raises(RuntimeError, match="daemonic process .* call clean"):
        clean_many(cleaner, ["<p>x</p>"], workers=1)


def test_a_worker_count_window_and_timeout_of_numpys_types_are_taken(cleaner):
    """As `Limits` takes them (settings read from a config array): numpy's timeouts and
    windows were refused as "not a finite number" and "not a whole number"."""
    import numpy as np

    outcomes = list(clean_many(cleaner, ["<p>x</p>"], workers=np.int64(1), start_method="fork",
                               timeout=np.float32(20), max_in_flight=np.int64(2)))
    assert len(outcomes) == 1 and outcomes[0].ok
    with pytest.raises(ValueError, match="^Limits.timeout must be a finite number of seconds "
                                         "above 0, not 1000"):
        Limits(timeout=10**400)  # an OverflowError before


@pytest.mark.parametrize("start_method", ["fork", None])
def test_the_timeout_of_the_call_is_the_limit_in_the_workers_too(cleaner, pages, start_method):
    # a cleaner whose own limit every page overruns: the call's larger timeout is what holds
    # (before, the workers checked the cleaner's 0.001 s and failed every page with it)
    strict = Cleaner(model=cleaner.loaded, limits=Limits(timeout=0.001))
    outcomes = list(clean_many(strict, [html for html, _ in pages[:2]], workers=1,
                               timeout=60, start_method=start_method))
    assert [o.error for o in outcomes] == [None, None]


def test_a_folder_that_cannot_be_listed_is_reported_not_skipped(tmp_path, monkeypatch):
    """os.walk passes over a folder it cannot list (no read permission, an I/O error): its
    pages were missing from the output, and the summary said "0 failed"."""
    from filter.inputs import read_folder

    crawl = tmp_path / "crawl"
    for sub in (".locked", "open"):
        (crawl / sub).mkdir(parents=True)
        (crawl / sub / "page.html").write_bytes(page(ARTICLES[0]))
    scandir = os.scandir

    def refusing(path="."):
        if Path(path).name == ".locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    docs = list(read_folder(crawl))
    assert [(d.id, d.failure.type if d.failure else None) for d in docs] == [
        ("crawl/.locked", "UnreadableFile"), ("crawl/open/page.html", None)]
    assert docs[0].failure.message.endswith("the folder cannot be listed: Permission denied")

# -- from a mutation review: each test fails on a small change of filter/batch.py,
# -- filter/inputs.py or filter/compression.py that no other test caught

_FERRY = ("<html><body><article><p>" + "The ferry leaves the harbour at nine every morning. " * 5
          + "</p></article></body></html>")


def test_a_falsy_id_of_a_dict_item_is_kept_and_an_empty_one_is_none(cleaner):
    """0 is an id: it was replaced by the item's position. An empty or blank id (an export's
    empty column) is none: it named every such item alike."""
    items = [{"id": "a", "html": _FERRY}, {"id": 0, "html": _FERRY}, {"id": "", "html": _FERRY},
             {"id": " ", "html": _FERRY}]
    outs = list(clean_many(cleaner, items, workers=1, start_method="fork"))
    assert [o.id for o in outs] == ["a", "0", "2", "3"]


def test_retry_failed_keeps_the_outputs_mode(tmp_path):
    """The copy written without the failures keeps the mode of the file it replaces."""
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "url": None, "source": "in.jsonl", "error": None}) + "\n"
                   + json.dumps({"id": "b", "url": None, "source": "in.jsonl",
                                 "error": {"type": "ExtractionTimeout", "message": "x"}}) + "\n")
    os.chmod(out, 0o644)
    assert drop_failures(out, lambda s: True) == 1
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644


def test_a_rewritten_output_is_on_the_disk_before_it_replaces_the_old(tmp_path, monkeypatch):
    """`--retry-failed`'s copy (and an exported file) was renamed onto the output unsynced: a
    crash of the machine just after could leave the only copy of a run's records empty."""
    from filter.files import written_whole

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append("replace") or real_replace(a, b))
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "source": "in.jsonl", "error": None}) + "\n"
                   + json.dumps({"id": "b", "source": "in.jsonl", "error": {"type": "X"}}) + "\n")
    assert drop_failures(out, lambda s: True) == 1
    assert events == ["fsync", "replace", "fsync"]  # the copy, the rename, the folder
    events.clear()
    with written_whole(tmp_path / "export.jsonl") as fh:
        fh.write(b"{}\n")
    assert events == ["fsync", "replace", "fsync"]
    events.clear()  # what could be read of a damaged store is kept, synced alike
    with pytest.raises(KeyError), written_whole(tmp_path / "export.jsonl", keep_part_on=(KeyError,)) as fh:
        fh.write(b"{}\n")
        raise KeyError("damaged")
    assert events == ["fsync", "replace", "fsync"]


def test_the_summary_counts_every_failure_of_a_kind():
    import io
    from filter.batch import Progress
    from filter.inputs import Failure

    stream = io.StringIO()
    progress = Progress(stream, enabled=False)
    for i in range(3):
        progress.update(Outcome(id=str(i), error=Failure("ExtractionTimeout", "slow")))
    progress.close()
    assert "3 failed" in stream.getvalue() and "  ExtractionTimeout: 3\n" in stream.getvalue()


def test_a_page_file_of_exactly_max_bytes_is_read(tmp_path):
    from filter.inputs import read_html_file

    path = tmp_path / "a.html"
    path.write_text(_FERRY)
    doc = read_html_file(path, "a.html", len(_FERRY))
    assert doc.failure is None and doc.html == _FERRY.encode()


def test_a_jsonl_id_of_0_is_the_records_id_and_an_empty_one_is_none(tmp_path):
    """Records of an empty id were all named "": resuming took every one after the first for
    done, and they were lost without a word."""
    from filter.inputs import read_jsonl

    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": i, "html": _FERRY}) + "\n" for i in (0, "", "", "\t")))
    assert [d.id for d in read_jsonl(path)] == ["0", "in.jsonl:2", "in.jsonl:3", "in.jsonl:4"]


def test_a_folder_given_as_dot_names_its_pages_under_its_own_name(tmp_path, monkeypatch):
    from filter.inputs import read_folder

    folder = tmp_path / "crawl"
    folder.mkdir()
    (folder / "a.html").write_text(_FERRY)
    monkeypatch.chdir(folder)
    assert [d.id for d in read_folder(".")] == ["crawl/a.html"]


def test_upper_case_page_names_are_pages(tmp_path):
    from filter.inputs import input_kind, read_folder

    (tmp_path / "A.HTML").write_text(_FERRY)
    assert [d.id for d in read_folder(tmp_path)] == [f"{tmp_path.name}/A.HTML"]
    (tmp_path / "B.JSONL").write_text("")
    assert input_kind(tmp_path / "B.JSONL") == "jsonl"


def test_a_utf32_json_lines_file_is_named_utf32(tmp_path):
    """Its byte-order mark starts with UTF-16's: named UTF-16, the advice to convert it was wrong."""
    import codecs
    from filter.inputs import read_jsonl

    path = tmp_path / "in.jsonl"
    path.write_bytes(codecs.BOM_UTF32_LE + '{"id": "a", "html": "<p>x</p>"}\n'.encode("utf-32-le"))
    (doc,) = read_jsonl(path)
    assert "UTF-32" in doc.failure.message and "UTF-16" not in doc.failure.message


def test_a_page_whose_text_starts_with_BZh_is_no_bzip2(tmp_path):
    from filter.inputs import read_html_file

    path = tmp_path / "a.html"
    path.write_bytes(b"BZh9 and more text <p>The ferry leaves at nine.</p>")
    doc = read_html_file(path, "a.html", 10_000)
    assert doc.failure is None and doc.html.startswith(b"BZh9")


def test_retry_failed_without_failures_leaves_the_file_itself(tmp_path):
    """Nothing to retry: the file is not replaced (a `tail -f` and hard links stay on it)."""
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "a", "url": None, "source": "in.jsonl", "error": None}) + "\n")
    before = os.stat(out).st_ino
    assert drop_failures(out, lambda s: True) == 0
    assert os.stat(out).st_ino == before
