"""Edges of `noisefilter batch`, the WARC reader and `noisefilter clean` that a crawler relies
on: WARC fields on every line, failures named by their input, how a run ends (Ctrl-C, a model
that cannot load, an output that cannot be written), `--retry-failed`, and damaged WARCs."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crawl_helpers import (  # noqa: F401 (one_blas_thread is an autouse fixture)
    ARTICLES, Rec, build_warc, cut, one_blas_thread, page)
from filter import Cleaner, Limits
from filter.batch import clean_many
from filter.cli import main
from filter.inputs import Document
from filter.warc import read_warc
from test_batch import Tripwire
from test_batch_cli import ids_written, lines, open_fifo_for_writing

URL = "http://courier.test/"
REPO = Path(__file__).resolve().parents[1]


def run_batch(capsys, *args) -> tuple[int, str]:
    """`noisefilter batch` in this process (workers forked from it): status and stderr."""
    status = main(["batch", *map(str, args)])
    return status, capsys.readouterr().err


def text_jsonl(path: Path, *ids: str) -> Path:
    path.write_text("".join(json.dumps({"id": i, "text": "A line.\nAnother line."}) + "\n"
                            for i in ids))
    return path


def test_a_warc_pages_line_carries_its_warc_date_and_truncation(tmp_path, capsys):
    """A cleaned WARC page's line keeps the record's WARC-Date, and says when the crawler cut
    the record short (`WARC-Truncated`), so a reader can tell a partial page from a whole one."""
    warc = tmp_path / "crawl.warc.gz"
    build_warc(warc, [
        Rec(URL + ARTICLES[0], page(ARTICLES[0]),
            warc_headers={"WARC-Date": "2026-03-14T08:00:00Z"}),
        Rec(URL + ARTICLES[1], page(ARTICLES[1]),
            warc_headers={"WARC-Date": "2026-03-15T09:30:00Z", "WARC-Truncated": "length"}),
    ])
    out = tmp_path / "out.jsonl"
    assert run_batch(capsys, warc, "-o", out, "--workers", "1")[0] == 0
    whole, truncated = lines(out)
    assert whole["error"] is None and whole["text"]
    assert (whole["warc_date"], whole["warc_truncated"]) == ("2026-03-14T08:00:00Z", None)
    assert truncated["error"] is None and truncated["text"]
    assert (truncated["warc_date"], truncated["warc_truncated"]) == ("2026-03-15T09:30:00Z",
                                                                      "length")


def test_a_crashed_documents_failure_is_named_by_its_input():
    """A document whose worker died has its failure row under its own input (`source`) and
    WARC fields, as a cleaned one has: `--retry-failed` picks failures out by their source."""
    cleaner = Cleaner()
    tripwire = Tripwire(model=cleaner.loaded, limits=Limits(timeout=60))  # a crash needs none
    meta = {"warc_date": "2026-03-14T08:00:00Z", "warc_truncated": None}
    docs = [Document(id="bad", html=page(ARTICLES[0]), url="http://crash.test/",
                     source="crawl.warc.gz", meta=meta),
            Document(id="good", html=page(ARTICLES[1]), url=URL + ARTICLES[1],
                     source="crawl.warc.gz", meta=meta)]
    bad, good = clean_many(tripwire, docs, workers=1, start_method="fork")
    assert bad.error.type == "WorkerCrashed"
    assert (bad.source, bad.meta) == ("crawl.warc.gz", meta)
    assert good.ok and (good.source, good.meta) == ("crawl.warc.gz", meta)


def test_ctrl_c_stops_a_batch_with_130_and_says_how_to_resume(tmp_path):
    """Ctrl-C (SIGINT) while the batch waits for its input: the lines done are whole, it says
    to run the same command again, and exits with 130, as a shell reports an interrupted
    command."""
    stream, out = tmp_path / "docs.jsonl", tmp_path / "out.jsonl"
    os.mkfifo(stream)
    proc = subprocess.Popen(
        [sys.executable, "-m", "filter.cli", "batch", str(stream), "-o", str(out),
         "--workers", "1"],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE, text=True,
        # a test run in the background may have SIGINT ignored, which the child would inherit
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        with open_fifo_for_writing(stream, within=60) as producer:
            producer.write(json.dumps({"id": "s0", "text": "A line.\nAnother."}) + "\n")
            producer.flush()
            assert ids_written(out, 1, within=60) == ["s0"]
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert f"interrupted; run the same command again to resume into {out}" in err
        assert "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert [line["id"] for line in lines(out)] == ["s0"]


def test_a_model_the_workers_cannot_load_ends_the_batch_with_3_and_one_line(tmp_path, capsys,
                                                                           monkeypatch):
    """A worker that cannot load the model ends the batch with status 3 (as a bad --model
    does) and one line saying why, not a traceback or status 1 (a write failure)."""
    import filter.batch

    def broken_worker(conn, *args):
        conn.send(("failed", "ValueError: the model file is damaged"))

    monkeypatch.setattr(filter.batch, "_worker_main", broken_worker)
    jsonl = text_jsonl(tmp_path / "pages.jsonl", "a")
    status, err = run_batch(capsys, jsonl, "-o", tmp_path / "out.jsonl", "--workers", "1")
    assert (status, err) == (3, "noisefilter batch: a worker could not load the model: "
                                "ValueError: the model file is damaged\n")


@pytest.mark.parametrize("code, status", [(errno.ENOSPC, 1), (errno.EDQUOT, 1),
                                          (errno.EACCES, 2)])
def test_an_output_that_cannot_be_opened_says_so_with_its_status(tmp_path, capsys, monkeypatch,
                                                                  code, status):
    """Opening OUT on a full disk or quota is a write failure (1, "cannot write"); a file the
    run may not open is a bad argument (2)."""
    import filter.batch

    def refuse(out):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(filter.batch, "_open_output", refuse)
    jsonl = text_jsonl(tmp_path / "pages.jsonl", "a")
    out = tmp_path / "out.jsonl"
    got, err = run_batch(capsys, jsonl, "-o", out, "--workers", "1")
    assert (got, err) == (status, f"noisefilter batch: cannot write {out}: {os.strerror(code)}\n")


def test_the_output_locked_is_the_file_now_at_its_path(tmp_path, monkeypatch):
    """Another run's `--retry-failed` may replace OUT between this run opening it and locking
    it: the lines must go to the file now at OUT's path, not to the replaced one, which no
    one will read again."""
    import filter.batch

    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old"}\n')
    real_flock = fcntl.flock
    replaced = []

    def flock(fh, operation):
        if not replaced:  # the other run's copy lands on OUT's path just before the lock
            (tmp_path / "copy").write_text('{"id": "new"}\n')
            os.replace(tmp_path / "copy", out)
            replaced.append(True)
        return real_flock(fh, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    fh = filter.batch._open_output(out)
    try:
        assert os.path.samestat(os.fstat(fh.fileno()), os.stat(out))
        fh.write('{"id": "appended"}\n')
    finally:
        fh.close()
    assert out.read_text() == '{"id": "new"}\n{"id": "appended"}\n'


def test_retry_failed_keeps_a_line_that_is_no_record_of_the_batch(tmp_path, capsys):
    """A line someone else wrote into OUT (no `id`), even with an `error` field and the source
    of an input, is not a failed document: `--retry-failed` leaves it where it is."""
    jsonl = text_jsonl(tmp_path / "pages.jsonl", "a")
    out = tmp_path / "out.jsonl"
    note = json.dumps({"source": str(jsonl), "error": {"type": "Note", "message": "mine"},
                       "note": "checked by hand"})
    out.write_text(note + "\n")
    status, err = run_batch(capsys, jsonl, "-o", out, "--workers", "1", "--retry-failed")
    assert status == 0 and "retrying" not in err, err
    assert out.read_text().splitlines()[0] == note
    assert [r.get("id") for r in lines(out)] == [None, "a"]


def test_retry_failed_retries_a_folder_that_could_not_be_listed(tmp_path, capsys, monkeypatch):
    """A sub-folder that could not be listed is one failure row, under the folder's path: once
    it can be listed, `--retry-failed` takes that row out and cleans the pages in it."""
    crawl = tmp_path / "crawl"
    for sub in (".locked", "open"):
        (crawl / sub).mkdir(parents=True)
        (crawl / sub / "page.html").write_bytes(page(ARTICLES[0]))
    scandir = os.scandir

    def refusing(path="."):  # as without read permission (root may list any folder)
        if Path(path).name == ".locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    out = tmp_path / "out.jsonl"
    assert run_batch(capsys, crawl, "-o", out, "--workers", "1")[0] == 0
    assert [(r["id"], r["error"] and r["error"]["type"]) for r in lines(out)] == [
        ("crawl/.locked", "UnreadableFile"), ("crawl/open/page.html", None)]
    monkeypatch.setattr(os, "scandir", scandir)  # permission given
    status, err = run_batch(capsys, crawl, "-o", out, "--workers", "1", "--retry-failed")
    assert status == 0 and "retrying: 1 failed document taken out" in err, err
    assert [(r["id"], r["error"]) for r in lines(out)] == [
        ("crawl/open/page.html", None), ("crawl/.locked/page.html", None)]


def test_a_folder_and_a_link_to_it_are_one_input_named_twice(tmp_path, capsys):
    """A folder given again through a symlink to it is the same input named twice, said so
    before any work; two folders side by side are two inputs, both read."""
    site, other = tmp_path / "site", tmp_path / "other"
    for folder, name in ((site, ARTICLES[0]), (other, ARTICLES[1])):
        folder.mkdir()
        (folder / name).write_bytes(page(name))
    (tmp_path / "link").symlink_to(site)
    out = tmp_path / "out.jsonl"
    for inputs in ((site, tmp_path / "link"), (tmp_path / "link", site)):
        status, err = run_batch(capsys, *inputs, "-o", out)
        assert status == 2 and f"{inputs[1]} is named twice (as {inputs[0]} too)" in err, err
        assert "also an input" not in err
    assert not out.exists()
    assert run_batch(capsys, site, other, "-o", out, "--workers", "1")[0] == 0
    assert [r["id"] for r in lines(out)] == [f"site/{ARTICLES[0]}", f"other/{ARTICLES[1]}"]


def test_a_file_and_a_hard_link_to_it_are_one_input_named_twice(tmp_path, capsys):
    """A symlink to an input was refused as the same input named twice, a hard link (another
    real path to the same file) was read twice and every record written twice."""
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text(json.dumps({"id": "a", "html": page(ARTICLES[0]).decode()}) + "\n")
    os.link(jsonl, tmp_path / "again.jsonl")
    out = tmp_path / "out.jsonl"
    status, err = run_batch(capsys, jsonl, tmp_path / "again.jsonl", "-o", out)
    assert status == 2 and f"again.jsonl is named twice (as {jsonl} too)" in err, err
    assert not out.exists()


def test_a_plain_warc_named_gz_with_junk_in_front_gives_its_pages(tmp_path):
    """A WARC saved uncompressed under a .warc.gz name, with stray bytes before its first record
    (a download with a proxy's leftovers in front): read as the plain WARC it is."""
    warc = tmp_path / "crawl.warc.gz"
    build_warc(warc, [Rec(URL + name, page(name)) for name in ARTICLES], gz=False)
    warc.write_bytes(b"\x00garbage from a proxy\r\n" + warc.read_bytes())
    pages = [d for d in read_warc(warc) if d.failure is None]
    assert [d.url for d in pages] == [URL + name for name in ARTICLES]
    assert [d.html for d in pages] == [page(name) for name in ARTICLES]


def test_a_corrupt_gzip_member_after_a_damaged_record_is_reported_too(tmp_path):
    """Damage right after damage: a record cut short, then a record whose gzip member is corrupt
    in the middle of its block. Each is a `DamagedRecord` row (a run is judged by its report
    of what it lost), and the pages around them are read."""
    warc = tmp_path / "crawl.warc.gz"
    spans = build_warc(warc, [Rec(URL + ARTICLES[0], page(ARTICLES[0])),
                              Rec(URL + "cut.html", page(ARTICLES[1])),
                              Rec(URL + "corrupt.html", page(ARTICLES[1])),
                              Rec(URL + ARTICLES[2], page(ARTICLES[2]))])
    data = bytearray(warc.read_bytes())
    middle = sum(spans[2]) // 2
    data[middle:middle + 40] = b"\xff" * 40  # corrupt deflate data mid-member
    warc.write_bytes(bytes(data))
    cut(warc, spans[1], keep=0.5)
    got = [(d.url, d.failure and d.failure.type) for d in read_warc(warc)]
    assert got == [(URL + ARTICLES[0], None), (URL + "cut.html", "DamagedRecord"),
                   (URL + "corrupt.html", "DamagedRecord"), (URL + ARTICLES[2], None)]


def test_a_truncated_records_chunk_that_overstates_its_size_is_undecodable(tmp_path):
    """`WARC-Truncated` lets a chunked body end inside its last chunk (the crawler cut it), but
    a chunk whose size runs past where its data ends, with more chunks after it, is corrupt:
    an `UndecodablePayload`, not a page with chunk framing cut into its text."""
    html = page(ARTICLES[0])
    first, second = html[:len(html) // 2], html[len(html) // 2:]

    def chunked(sizes):
        return b"".join(b"%x\r\n" % size + part + b"\r\n"
                        for size, part in zip(sizes, (first, second))) + b"0\r\n\r\n"

    warc = tmp_path / "crawl.warc"
    build_warc(warc, [Rec(URL + name, body, http_headers=[("Transfer-Encoding", "chunked")],
                          warc_headers={"WARC-Truncated": "length"})
                      for name, body in (
                          ("whole", chunked((len(first), len(second)))),
                          ("overstated", chunked((len(first) + 100, len(second)))),
                          ("cut", chunked((len(first), len(second)))[:len(first) + 200]))],
               gz=False)
    whole, overstated, cut_short = read_warc(warc)
    assert whole.failure is None and whole.html == html
    assert overstated.failure.type == "UndecodablePayload"
    assert "a chunk does not end where its size says" in overstated.failure.message
    assert cut_short.failure is None and html.startswith(cut_short.html)


def test_clean_of_a_page_without_an_article_prints_nothing_and_says_why(tmp_path, capsys):
    """`noisefilter clean page.html > page.txt` of a page with no article: the text file is
    empty (not one blank line, which counts as a line of text), and the reason is on stderr."""
    empty = tmp_path / "empty.html"
    empty.write_text("<html><head><title>x</title></head><body><div></div></body></html>")
    assert main(["clean", str(empty)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("noisefilter: empty result: trafilatura found no main text on this "
                            "page\n")
