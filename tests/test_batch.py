"""`clean_many`: worker processes, input order, time limits, error records, bounded reading."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time

import pytest

from crawl_helpers import ARTICLES, one_blas_thread, page  # noqa: F401 (autouse fixture)
from filter import Cleaner, Limits, ModelError
from filter.batch import RECORD_FIELDS, Outcome, clean_many
from filter.inputs import Document, Failure

URL = "http://courier.test/"


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
            time.sleep(1.0)
        elif url == "http://hang.test/":
            time.sleep(600)
        elif url == "http://crash.test/":
            os._exit(7)
        elif url == "http://bug.test/":
            raise RuntimeError("a bug, not a bad page")
        elif url == "http://dies-after.test/":  # answers, then its process dies while idle
            import threading

            threading.Timer(0.2, os._exit, args=(9,)).start()
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
        time.sleep(1.0)  # the worker has answered and died meanwhile
        yield {"id": "second", "html": html, "url": url}

    outcomes = list(clean_many(tripwire, docs(), workers=1, start_method="fork"))
    assert [(o.id, o.ok) for o in outcomes] == [("first", True), ("second", True)]


def test_order_holds_when_an_early_document_finishes_last(tripwire, pages):
    docs = [Document(id="slow", html=pages[0][0], url="http://slow.test/")]
    docs += [Document(id=url, html=html, url=url) for html, url in pages]
    started = time.monotonic()
    outcomes = list(clean_many(tripwire, docs, workers=2, start_method="fork"))
    assert [o.id for o in outcomes] == ["slow", *[url for _, url in pages]]
    assert all(o.ok for o in outcomes)
    assert outcomes[0].seconds >= 1.0 > max(o.seconds for o in outcomes[1:])
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


def test_reader_failures_pass_through_in_place(tripwire, pages):
    docs = [Document(id="bad", failure=Failure("DamagedRecord", "cut"), meta={"k": 1}),
            Document(id="good", html=pages[0][0], url=pages[0][1])]
    bad, good = clean_many(tripwire, docs, start_method="fork")
    assert (bad.id, bad.error.type, bad.meta) == ("bad", "DamagedRecord", {"k": 1})
    assert good.ok


def test_cleaner_clean_many_delegates(tripwire, pages):
    (outcome,) = tripwire.clean_many([pages[1][0]], workers=1, start_method="fork")
    assert outcome.ok and outcome.result.text


def test_a_model_a_worker_cannot_load_raises(tmp_path, cleaner):
    for src in (cleaner.loaded.path,
                cleaner.loaded.path.with_name(cleaner.loaded.path.stem + ".manifest.json")):
        shutil.copy(src, tmp_path / src.name)
    copy = Cleaner(model=tmp_path / cleaner.loaded.path.name)
    (tmp_path / cleaner.loaded.path.name).write_bytes(b"not the model any more")
    with pytest.raises(ModelError, match="sha256|manifest"):
        list(clean_many(copy, [b"<p>x</p>"], workers=1))


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
