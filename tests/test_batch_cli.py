"""`noisefilter batch`, run as a user runs it (a subprocess): inputs of every kind, a damaged
WARC, resuming, and output lines equal to the library's own results."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawl_helpers import (  # noqa: F401 (one_blas_thread is an autouse fixture)
    ARTICLES, SITE, Rec, build_warc, cut, one_blas_thread, page)
from filter import Cleaner, InputError
from filter.batch import RECORD_FIELDS, done_keys
from filter.cli import main

URL = "http://courier.test/"


@pytest.fixture(scope="module")
def cleaner():
    return Cleaner()


def batch(*args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "filter.cli", "batch", *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def damaged_warc(tmp_path_factory) -> Path:
    """A WARC.gz with a truncated record in the middle, a non-HTML record and two undecodable
    pages (a corrupt gzip body, and binary bytes served as HTML) among good pages."""
    path = tmp_path_factory.mktemp("warc") / "crawl.warc.gz"
    noise = bytes(range(256)) * 40
    spans = build_warc(path, [
        Rec(URL + ARTICLES[0], page(ARTICLES[0])),
        Rec(URL + "doomed.html", page(ARTICLES[1])),  # truncated below
        Rec(URL + "logo.png", b"\x89PNG\r\n\x1a\n" + noise, content_type="image/png"),
        Rec(URL + "garbled.html", gzip.compress(noise)[:300] + noise,
            http_headers=[("Content-Encoding", "gzip")]),
        Rec(URL + "binary.html", noise),
        Rec(URL + ARTICLES[1], page(ARTICLES[1])),
        Rec(URL + ARTICLES[2], page(ARTICLES[2])),
    ])
    cut(path, spans[1], keep=0.5)
    return path


def test_damaged_warc_finishes_reports_each_and_loses_no_good_page(tmp_path, damaged_warc,
                                                                   cleaner):
    out = tmp_path / "out.jsonl"
    proc = batch(damaged_warc, "-o", out, "--workers", "2")
    records = lines(out)
    by_url = {r["url"]: r for r in records}
    errors = {r["url"]: r["error"]["type"] for r in records if r["error"]}
    assert errors == {URL + "doomed.html": "DamagedRecord",  # named: its header survived
                      URL + "logo.png": "NotHTML",
                      URL + "garbled.html": "UndecodablePayload",
                      URL + "binary.html": "InputError"}
    for name in ARTICLES:
        want = cleaner.clean(page(name).decode("utf-8"), url=URL + name)
        got = by_url[URL + name]
        assert got["error"] is None
        assert got["text"] == want.text and got["text"]
        assert got["title"] == want.title and got["language"] == want.language
        assert got["label_counts"] == want.label_counts
        assert got["related_links"] == want.to_dict()["related_links"]
    assert len(records) == 7  # one line per record that held (or should have held) a page
    assert "DamagedRecord: 1" in proc.stderr and "NotHTML: 1" in proc.stderr


def test_folders_and_json_lines_in_one_run(tmp_path, cleaner):
    folder = tmp_path / "site"
    (folder / "sub").mkdir(parents=True)
    (folder / ARTICLES[0]).write_bytes(page(ARTICLES[0]))
    (folder / "sub" / (ARTICLES[1] + ".gz")).write_bytes(gzip.compress(page(ARTICLES[1])))
    (folder / "notes.txt").write_text("not a page")
    (folder / "linked.html").symlink_to(SITE / ARTICLES[2])  # named by the link, not its target
    (folder / "broken.html.gz").write_bytes(b"\x1f\x8b not really gzip")
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"id": "j1", "url": URL + ARTICLES[2], "html": page(ARTICLES[2]).decode()}),
        "{not json",
        json.dumps({"id": "j3", "url": URL + "x"}),
        "[" * 100_000 + "]" * 100_000,  # too deep for the json module: ended the batch
        '{"id": "j5", "crawl_seq": ' + "9" * 5_000 + "}",  # over Python's 4,300 digits: too
        json.dumps({"id": "j6", "text": "The line after it."}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "j1", "url": None, "source": str(jsonl),
                               "text": "from an older run", "error": None}) + "\n")
    proc = batch(folder, jsonl, "-o", out, "--workers", "1", "--blocks", "--progress",
                 "--restart")
    assert "pages/s" in proc.stderr and "\x1b[K" in proc.stderr  # redrawn in place
    records = lines(out)  # --restart overwrote the older line instead of skipping its id
    assert [r["id"] for r in records] == [
        "site/broken.html.gz", f"site/{ARTICLES[0]}", "site/linked.html",
        f"site/sub/{ARTICLES[1]}.gz", "j1", "pages.jsonl:2", "j3", "pages.jsonl:4",
        "pages.jsonl:5", "j6"]
    assert [r["error"]["type"] if r["error"] else None for r in records] == [
        "UnreadableFile", None, None, None, None, "BadInputLine", "BadInputLine", "BadInputLine",
        "BadInputLine", None]
    assert records[1]["text"] == cleaner.clean(page(ARTICLES[0])).text
    assert records[2]["text"] == cleaner.clean(page(ARTICLES[2])).text
    assert records[3]["text"] == cleaner.clean(page(ARTICLES[1])).text
    assert records[4]["text"] == cleaner.clean(page(ARTICLES[2]).decode(), URL + ARTICLES[2]).text
    assert all(list(r)[:len(RECORD_FIELDS)] == list(RECORD_FIELDS) for r in records)
    assert records[1]["blocks"] and records[1]["blocks"][0]["label"]
    assert records[0]["blocks"] == []  # a failure has the same fields


def test_a_second_run_resumes_where_the_first_stopped(tmp_path, damaged_warc):
    out = tmp_path / "out.jsonl"
    batch(damaged_warc, "-o", out)
    full = lines(out)
    # as if the first run had been killed: two lines done, the third cut mid-line
    text = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(text[:2]) + text[2][:25], encoding="utf-8")
    proc = batch(damaged_warc, "-o", out)
    assert "2 documents already in" in proc.stderr
    resumed = lines(out)
    assert [r["id"] for r in resumed] == [r["id"] for r in full]
    assert resumed == full


def test_a_warc_read_while_still_downloading_gives_its_last_page_once_whole(tmp_path):
    """A record cut by the end of a WARC still being written was reported under its record
    id, so the run after the download finished took the record's page for done and never
    cleaned it: the report is named by its place in the file, the page by its record id."""
    path = tmp_path / "grow.warc.gz"
    build_warc(path, [Rec(URL + name, page(name)) for name in ARTICLES[:2]])
    whole = path.read_bytes()
    path.write_bytes(whole[:-100])  # the second record cut, mid-download, after its header
    out = tmp_path / "out.jsonl"
    batch(path, "-o", out, "--workers", "1")
    assert [r["error"] and r["error"]["type"] for r in lines(out)] == [None, "DamagedRecord"]
    path.write_bytes(whole)
    batch(path, "-o", out, "--workers", "1")
    records = lines(out)
    assert [(r["url"], r["error"] and r["error"]["type"]) for r in records] == [
        (URL + ARTICLES[0], None), (URL + ARTICLES[1], "DamagedRecord"),
        (URL + ARTICLES[1], None)]
    assert records[2]["text"] and records[2]["id"].startswith("urn:uuid:")
    assert records[1]["id"].startswith(f"{path}@")


def test_resuming_tells_apart_inputs_that_share_ids(tmp_path):
    """Two JSON Lines files both numbering their records from 1: after a crash, resuming must
    not take the second file's record 1 for the first's."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"id": "1", "text": "Alpha line one.\nAlpha line two."}) + "\n")
    b.write_text(json.dumps({"id": "1", "text": "Gamma line one.\nGamma line two."}) + "\n")
    out = tmp_path / "out.jsonl"
    batch(a, b, "-o", out, "--workers", "1")
    full = lines(out)
    out.write_text(out.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")
    proc = batch(a, b, "-o", out, "--workers", "1")
    assert "1 document already in" in proc.stderr and "warning" not in proc.stderr
    assert lines(out) == full and [r["source"] for r in full] == [str(a), str(b)]


def test_resuming_cleans_the_records_of_a_repeated_id_the_output_lacks(tmp_path):
    """An input that repeats an id (a crawl that fetched a page twice, numbered by its URL)
    gets every record written; stopped after the first of them, the resume skipped the second
    as done as well, lost for good. As many are skipped as the output holds, no more, and no
    warning about the same input by another path."""
    src = tmp_path / "pages.jsonl"
    texts = ["Alpha line one.\nAlpha line two.", "Beta line one.\nBeta line two.",
             "Gamma line one.\nGamma line two.", "Delta line one.\nDelta line two."]
    src.write_text("".join(json.dumps({"id": doc_id, "text": text}) + "\n"
                           for doc_id, text in zip(["x", "x", "y", "x"], texts)))
    out = tmp_path / "out.jsonl"
    batch(src, "-o", out, "--workers", "1")
    full = lines(out)
    assert [r["text"].split()[0] for r in full] == ["Alpha", "Beta", "Gamma", "Delta"]
    for kept in range(5):
        out.write_text("".join(out.read_text(encoding="utf-8").splitlines(keepends=True)[:kept]),
                       encoding="utf-8")
        proc = batch(src, "-o", out, "--workers", "1")
        assert lines(out) == full, kept
        assert "warning" not in proc.stderr and (
            f"resuming: {kept} document{'s' * (kept != 1)} already in" in proc.stderr
            if kept else "resuming" not in proc.stderr)


def test_the_same_folder_by_another_path_is_warned_about_as_it_is_cleaned_again(tmp_path):
    """Resuming knows a document by its input's path as given: the same folder named another
    way (`in3`, then `$PWD/in3`; here a link to it) appended every page a second time without
    a word. Its ids are the same, read from files of the same names: the run says so at the
    first, while it can still be stopped, and counts them at the end."""
    site = tmp_path / "site"
    site.mkdir()
    for name in ARTICLES[:2]:
        (site / name).write_bytes(page(name))
    (tmp_path / "alias").symlink_to(site)
    out = tmp_path / "out.jsonl"
    assert "warning" not in batch(site, "-o", out, "--workers", "1").stderr
    proc = batch(tmp_path / "alias", "-o", out, "--workers", "1")
    first = f"site/{ARTICLES[0]}"
    assert (f"warning: {first} is in {out} already, read from {site / ARTICLES[0]}, and is read now "
            f"from {tmp_path / 'alias' / ARTICLES[0]}: if these are the same inputs by another path, "
            "stop (Ctrl-C)") in proc.stderr
    assert f"warning: 2 documents already in {out} from a file of the same name elsewhere cleaned again" in proc.stderr
    assert [r["id"] for r in lines(out)] == [first, f"site/{ARTICLES[1]}"] * 2
    proc = batch(site, "-o", out, "--workers", "1")  # named as before: resumed, no warning
    assert "resuming: 2 documents" in proc.stderr and "warning" not in proc.stderr


def test_files_of_one_name_in_two_folders_are_no_warning(tmp_path):
    """Spark writes `part-00000.jsonl` in every output folder: a second folder's shard into the
    same output was warned about as "the same inputs by another path" at its first record, and
    counted "cleaned again" at the end, though it is another file."""
    for folder, word in (("s1", "Alpha"), ("s2", "Gamma")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "part-00000.jsonl").write_text(
            json.dumps({"text": f"{word} line one.\n{word} line two."}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    batch(tmp_path / "s1" / "part-00000.jsonl", "-o", out, "--workers", "1")
    proc = batch(tmp_path / "s2" / "part-00000.jsonl", "-o", out, "--workers", "1")
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    assert [(r["id"], r["text"].split()[0]) for r in lines(out)] == [
        ("part-00000.jsonl:1", "Alpha"), ("part-00000.jsonl:1", "Gamma")]


def test_an_id_with_a_unicode_line_separator_stays_on_its_line(tmp_path):
    """JSON writes U+2028, U+2029 and U+0085 raw in a string, and `str.splitlines` (an editor,
    a reader of the output) breaks lines there: such an id cut its record in two."""
    jsonl = tmp_path / "pages.jsonl"
    ids = ["a\u2028b", "c\x85d", "e\u2029f"]
    jsonl.write_text("".join(json.dumps({"id": i, "text": "A line.\nAnother."}) + "\n"
                             for i in ids), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    batch(jsonl, "-o", out, "--workers", "1")
    text = out.read_text(encoding="utf-8")
    assert [json.loads(line)["id"] for line in text.splitlines()] == ids
    proc = batch(jsonl, "-o", out, "--workers", "1")  # resumes: the ids read back the same
    assert "3 documents already in" in proc.stderr and out.read_text(encoding="utf-8") == text


def test_a_lone_surrogate_in_an_id_or_url_does_not_stop_the_batch(tmp_path):
    """JSON escapes can carry lone surrogates (JavaScript strings do); such an id cannot be
    written as UTF-8, so its line is written with JSON escapes, and reads back to the same id."""
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"id": "bad\ud800", "url": URL + "\udc80", "text": "A line.\nAnother."}),
        json.dumps({"id": "ok", "html": page(ARTICLES[0]).decode()}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    batch(jsonl, "-o", out, "--workers", "1")
    records = lines(out)
    assert [r["id"] for r in records] == ["bad\ud800", "ok"]
    assert records[0]["error"] is None and records[1]["text"]
    proc = batch(jsonl, "-o", out, "--workers", "1")  # resumes: both ids are known
    assert "2 documents already in" in proc.stderr and lines(out) == records


@pytest.mark.parametrize("args, message", [
    (["missing-folder/", "-o", "o.jsonl"], "no such file"),
    (["notes.txt", "-o", "o.jsonl"], "not a folder"),
    (["pages.jsonl", "-o", "o.jsonl", "--model", "nowhere.joblib"], "model file not found"),
    (["pages.jsonl", "-o", "."], "is a folder"),
    (["pages.jsonl", "-o", "pages.jsonl"], "is also an input"),
    (["pages.jsonl", "-o", "./pages.jsonl", "--restart"], "is also an input"),
    (["crawl", "-o", "crawl/a.html"], "is in the input folder crawl"),  # would append to a page
    (["crawl", "-o", "crawl/deeper/new.html.gz"], "is in the input folder crawl"),  # read back
])
def test_bad_arguments_fail_before_any_work(tmp_path, monkeypatch, capsys, args, message):
    """In this process: these paths return before any worker is started, and touch nothing;
    status 2, or 3 for the model (a loop over inputs that goes on after a 2 stops on it)."""
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "pages.jsonl").write_text('{"id": "1", "text": "kept"}\n')
    (tmp_path / "crawl" / "deeper").mkdir(parents=True)
    (tmp_path / "crawl" / "a.html").write_text("<p>a page</p>")
    monkeypatch.chdir(tmp_path)
    assert main(["batch", *args]) == (3 if "--model" in args else 2)
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()
    assert (tmp_path / "pages.jsonl").read_text() == '{"id": "1", "text": "kept"}\n'
    assert (tmp_path / "crawl" / "a.html").read_text() == "<p>a page</p>"
    assert not (tmp_path / "crawl" / "deeper" / "new.html.gz").exists()


@pytest.mark.parametrize("name, options", [
    ("out.jsonl.gz", []), ("OUT.JSONL.ZST", ["--restart"]), ("out.jsonl.bz2", []),
    ("earlier.jsonl", []), ("earlier.jsonl", ["--retry-failed"]), ("earlier.jsonl", ["--restart"]),
    ("notes.bin", []),
])
def test_a_compressed_or_binary_output_is_refused_and_left_as_it_is(tmp_path, monkeypatch,
                                                                     capsys, name, options):
    """`-o out.jsonl.gz` wrote plain JSON Lines under a gzip name, and resuming into an output
    gzipped after an earlier run appended plain lines after the gzip data (which zcat drops)
    and cleaned every page again, as it read no id in it. Both are refused before any work,
    the file read only, not changed; so is an output that is binary."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pages.jsonl").write_text('{"id": "1", "text": "A line of text."}\n')
    earlier = json.dumps({"id": "1", "url": None, "source": "pages.jsonl", "text": "x"}) + "\n"
    (tmp_path / "earlier.jsonl").write_bytes(gzip.compress(earlier.encode()))
    (tmp_path / "notes.bin").write_bytes(b"header\x00\x01" + b"binary " * 100)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert main(["batch", "pages.jsonl", "-o", name, "--workers", "1", *options]) == 2
    err = capsys.readouterr().err
    if name in before:
        assert "not JSON Lines text" in err
    else:
        assert "-o - | " in err and "compress it after the run" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("options", [[], ["--restart"], ["--retry-failed"]])
def test_an_output_that_holds_something_else_is_refused_and_left_as_it_is(tmp_path, monkeypatch,
                                                                         capsys, options):
    """`-o` naming a file that is no batch output (a README, a file of labelled examples): the
    batch appended its lines to it, and `--restart` emptied it (8 labelled pages lost), where
    `store export -o` and `bootstrap --out` refuse such a file. An output of its own, also one
    whose only line a crash cut short, or one written with its fields in another order, is
    resumed as before."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pages.jsonl").write_text('{"id": "1", "text": "A line of text."}\n')
    example = {"id": "p1", "url": "https://example.org/a", "html": "<p>x</p>",
               "blocks": [{"text": "x", "label": "content"}]}
    (tmp_path / "labels.jsonl").write_text(json.dumps(example) + "\n")
    (tmp_path / "README.md").write_text("# My crawl\n\nNotes.\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for name in ("labels.jsonl", "README.md"):
        assert main(["batch", "pages.jsonl", "-o", name, "--workers", "1", *options]) == 2
        assert "holds something other than noisefilter batch output" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    ours = {"cut.jsonl": '{"id": "1", "ur', "reordered.jsonl": json.dumps(
        {"text": "", "id": "0", "source": "x", "error": None}) + "\n", "empty.jsonl": "\n",
        "noted.jsonl": json.dumps({"note": "checked by hand", "error": None}) + "\n"}
    for name, text in ours.items():
        (tmp_path / name).write_text(text)
        assert main(["batch", "pages.jsonl", "-o", name, "--workers", "1", *options]) == 0, name
        assert json.loads((tmp_path / name).read_text().splitlines()[-1])["id"] == "1"


def test_retry_failed_cleans_the_failed_documents_again_and_keeps_one_line_each(
        tmp_path, monkeypatch, capsys):
    """Resuming skips failed documents too; after raising a limit, `--retry-failed` takes their
    lines out and cleans them again, so each document has one line, the new one. That holds
    for a line too long to be read at the lower limit, reported by its place (FILE:LINE, as
    its id is not read): read again, it is cleaned under its own id."""
    import filter.inputs

    monkeypatch.setattr(filter.inputs, "_LINE_FLOOR", 0)  # lines held whole: 6 x --max-bytes

    def batch(*args) -> subprocess.CompletedProcess:  # in this process, for the floor
        status = main(["batch", *map(str, args)])
        assert status == 0
        return subprocess.CompletedProcess(args, status, "", capsys.readouterr().err)

    big = "A line of the article about the harbour and its ferries. " * 40
    huge = ("<html><body><p>A line of the article about the harbour.</p><!-- "
            + "a comment " * 110_000 + "--></body></html>")  # over the line limit at 1000
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text(json.dumps({"id": "small", "text": "A short line of text.\nAnother line."}) + "\n"
                     + json.dumps({"id": "big", "text": big}) + "\n"
                     + json.dumps({"id": "huge", "html": huge}) + "\n")
    out = tmp_path / "out.jsonl"
    batch(jsonl, "-o", out, "--workers", "1", "--max-bytes", "1000")
    first = {r["id"]: r for r in lines(out)}
    assert first["big"]["error"]["type"] == "InputTooLarge" and first["small"]["error"] is None
    assert first["pages.jsonl:3"]["error"]["type"] == "InputTooLarge"
    proc = batch(jsonl, "-o", out, "--workers", "1", "--max-bytes", "1000")  # retries nothing
    assert lines(out) == list(first.values()) and "3 documents already in" in proc.stderr
    proc = batch(jsonl, "-o", out, "--workers", "1", "--retry-failed")
    assert "retrying: 2 failed documents taken out" in proc.stderr
    records = lines(out)
    assert [r["id"] for r in records] == ["small", "big", "huge"]
    assert records[1]["error"] is None and records[2]["error"] is None
    assert records[0] == first["small"] and records[1]["text"] and records[2]["text"]


def test_an_output_that_is_also_the_standard_input_is_refused(tmp_path):
    """`batch - -o out.jsonl < out.jsonl` read its own records back as pages as it wrote them."""
    out = tmp_path / "loop.jsonl"
    out.write_text('{"id": "a", "text": "A line of an article.\\nAnother line."}\n')
    with open(out, "rb") as stdin:
        proc = subprocess.run([sys.executable, "-m", "filter.cli", "batch", "-", "-o", str(out)],
                              stdin=stdin, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "is also the standard input" in proc.stderr
    assert out.read_text().count("\n") == 1


@pytest.mark.parametrize("option, value, message", [
    ("--max-bytes", "-1", "must be a positive whole number"),
    ("--workers", "0", "must be a positive whole number"),
    ("--timeout", "nan", "must be a positive number of seconds"),
    ("--timeout", "inf", "must be a positive number of seconds"),
    ("--timeout", "0", "must be a positive number of seconds"),
])
def test_a_limit_that_is_not_a_positive_number_is_refused_by_name(tmp_path, capsys, option,
                                                                   value, message):
    """--max-bytes -1 used to be taken, and every page came out as InputTooLarge; a NaN or
    infinite --timeout quietly meant no limit. argparse refuses them, with exit status 2."""
    (tmp_path / "pages.jsonl").write_text('{"id": "1", "text": "kept"}\n')
    with pytest.raises(SystemExit) as stop:
        main(["batch", str(tmp_path / "pages.jsonl"), "-o", str(tmp_path / "o.jsonl"),
              option, value])
    assert stop.value.code == 2
    assert f"error: argument {option}: {message}" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


def test_linked_folders_are_read_once_each(tmp_path):
    """A folder linked into the input tree was skipped without a word; a link back up the
    tree must not read it over and over."""
    folder, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (folder / ARTICLES[0]).write_bytes(page(ARTICLES[0]))
    (elsewhere / ARTICLES[1]).write_bytes(page(ARTICLES[1]))
    (folder / "linked").symlink_to(elsewhere)
    (elsewhere / "loop").symlink_to(folder)
    out = tmp_path / "out.jsonl"
    batch(folder, "-o", out, "--workers", "1")
    assert [r["id"] for r in lines(out)] == [f"site/{ARTICLES[0]}", f"site/linked/{ARTICLES[1]}"]


def test_a_folder_of_warcs_says_why_it_gives_no_page(tmp_path):
    """Pointed at the folder of a crawl's WARCs, batch wrote nothing, status 0, without a word:
    a folder is read for its page files only."""
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    build_warc(crawl / "a.warc.gz", [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    (crawl / "b.jsonl").write_text("", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = batch(crawl, "-o", out)
    assert (f"noisefilter: warning: {crawl} holds no page file (.html, .htm, .xhtml) but 2 WARC "
            f"or JSON Lines files, which are read only when named as inputs (such as {crawl}/a.warc.gz)"
            in proc.stderr)
    assert lines(out) == []
    (crawl / ARTICLES[1]).write_bytes(page(ARTICLES[1]))  # a folder of pages says nothing
    proc = batch(crawl, "-o", out)
    assert "warning" not in proc.stderr and len(lines(out)) == 1


def test_a_folder_of_pages_saved_without_extensions_says_why_it_gives_no_page(tmp_path):
    """A mirror saved by wget without -E names its pages `story.php?id=3`, `item.asp`, `page`:
    batch wrote nothing, status 0, without a word."""
    mirror = tmp_path / "mirror" / "courier.test" / "news"
    mirror.mkdir(parents=True)
    for name in ("story.php?id=3", "item.asp", "page"):
        (mirror / name).write_bytes(page(ARTICLES[0]))
    out = tmp_path / "out.jsonl"
    proc = batch(tmp_path / "mirror", "-o", out)
    assert (f"noisefilter: warning: {tmp_path / 'mirror'} holds no page file (.html, .htm, "
            ".xhtml) but 3 other files: pages are read from a folder by their names (rename "
            "them, or give them as JSON Lines)" in proc.stderr), proc.stderr
    assert lines(out) == []


def test_fifos_are_skipped_in_a_folder_and_refused_by_name(tmp_path):
    """Opening a FIFO waits for a writer forever: a folder holding one hung the batch. The walk
    takes regular files only; a FIFO named as an HTML input is refused before any work, one of
    JSON Lines is read as a stream."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / ARTICLES[0]).write_bytes(page(ARTICLES[0]))
    os.mkfifo(folder / "pipe.html")
    out = tmp_path / "out.jsonl"
    batch(folder, "-o", out, "--workers", "1")
    assert [r["id"] for r in lines(out)] == [f"site/{ARTICLES[0]}"]
    proc = subprocess.run([sys.executable, "-m", "filter.cli", "batch", str(folder / "pipe.html"),
                           "-o", str(tmp_path / "other.jsonl")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == (f"noisefilter batch: {folder / 'pipe.html'}: "
                           "a named pipe (FIFO), not a regular file\n")
    # one without a name to read, as `<(zcat pages.jsonl.gz)` gives (/dev/fd/63): the reason
    # given is its name, with the way that works, not that it is a pipe
    nameless = tmp_path / "63"
    os.mkfifo(nameless)
    proc = subprocess.run([sys.executable, "-m", "filter.cli", "batch", str(nameless),
                           "-o", str(tmp_path / "other.jsonl")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "without a .jsonl name" in proc.stderr
    assert "noisefilter batch - " in proc.stderr
    # a named pipe of JSON Lines streams documents from a producer as they come
    stream = tmp_path / "docs.jsonl"
    os.mkfifo(stream)
    proc = subprocess.Popen([sys.executable, "-m", "filter.cli", "batch", str(stream), "-o",
                             str(tmp_path / "streamed.jsonl"), "--workers", "1"])
    with open(stream, "w") as producer:
        producer.write(json.dumps({"id": "s1", "text": "Streamed line.\nAnother line."}) + "\n")
    assert proc.wait(timeout=120) == 0
    assert [r["id"] for r in lines(tmp_path / "streamed.jsonl")] == ["s1"]


def open_fifo_for_writing(path: Path, within: float):
    """The writing end of a named pipe, once a reader has opened it (an error rather than a
    test that hangs when no reader comes)."""
    deadline = time.monotonic() + within
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        os.set_blocking(fd, True)
        return os.fdopen(fd, "w")


def ids_written(path: Path, count: int, within: float) -> list[str]:
    """The ids of the complete lines in `path`, once there are `count` of them or `within`
    seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        ids = [json.loads(line)["id"] for line in text.splitlines(keepends=True)
               if line.endswith("\n")]
        if len(ids) >= count or time.monotonic() > deadline:
            return ids
        time.sleep(0.1)


def test_a_named_pipe_is_cleaned_as_the_producer_writes(tmp_path):
    """Each document's line is written while the producer waits before sending the next: the
    batch used to read ahead before writing what was done, and stayed behind the producer."""
    stream, out = tmp_path / "docs.jsonl", tmp_path / "out.jsonl"
    os.mkfifo(stream)
    proc = subprocess.Popen([sys.executable, "-m", "filter.cli", "batch", str(stream), "-o",
                             str(out), "--workers", "1"])
    try:
        with open_fifo_for_writing(stream, within=60) as producer:
            for i in range(3):
                producer.write(json.dumps({"id": f"s{i}", "text": "A line.\nAnother."}) + "\n")
                producer.flush()
                assert ids_written(out, i + 1, within=60) == [f"s{j}" for j in range(i + 1)]
                time.sleep(1)  # past the half second between two flushes of the output
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_stops_a_batch_as_ctrl_c_does_and_it_resumes(tmp_path):
    """A process manager or `timeout` stops a batch with SIGTERM: it ended at once by the
    default action, without its exit handlers (its fork server's folder left in the temporary
    folder). It now stops as on Ctrl-C: the lines done are whole, it says how to resume, and
    it exits with 143; the same command then resumes."""
    import signal

    stream, out, tmp = tmp_path / "docs.jsonl", tmp_path / "out.jsonl", tmp_path / "tmp"
    os.mkfifo(stream)
    tmp.mkdir()
    command = [sys.executable, "-m", "filter.cli", "batch", str(stream), "-o", str(out),
               "--workers", "1"]
    proc = subprocess.Popen(command, env={**os.environ, "TMPDIR": str(tmp)},
                            stderr=subprocess.PIPE, text=True)
    try:
        with open_fifo_for_writing(stream, within=60) as producer:
            producer.write(json.dumps({"id": "s0", "text": "A line.\nAnother."}) + "\n")
            producer.flush()
            assert ids_written(out, 1, within=60) == ["s0"]
            proc.send_signal(signal.SIGTERM)  # while it waits for the next document
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert f"interrupted; run the same command again to resume into {out}" in err
        assert "noisefilter: terminated" not in err and "Traceback" not in err, err
        assert list(tmp.iterdir()) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stream.unlink()
    stream.write_text("".join(json.dumps({"id": f"s{i}", "text": "A line.\nAnother."}) + "\n"
                              for i in range(2)))
    assert main(["batch", str(stream), "-o", str(out), "--workers", "1"]) == 0
    assert [line["id"] for line in lines(out)] == ["s0", "s1"]


def test_output_to_standard_output_and_a_reader_that_goes_away(tmp_path):
    """-o /dev/stdout streams the lines to the next program (there is nothing to resume from:
    it used to fail with "cannot read /dev/stdout to resume"), and once that program has gone
    (`| head -1`) the batch ends quietly with the status cat has there (141), not a traceback."""
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text("".join(json.dumps({"id": str(i), "text": f"Line {i}.\nAnother line."})
                             + "\n" for i in range(3)))
    proc = batch(jsonl, "-o", "/dev/stdout", "--workers", "1")
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == ["0", "1", "2"]
    # "-" is standard output, as among the inputs it is standard input: a file named "-"
    # was written, and the same command again resumed from it and printed nothing. It is
    # never resumed, even when it is a file (a retry replaced the file and lost documents)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "filter.cli", "batch", str(jsonl), "-o", "-", "--workers", "1"]
    for _ in range(2):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
        assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == ["0", "1", "2"]
    assert not (tmp_path / "-").exists()
    saved = tmp_path / "saved.jsonl"
    for _ in range(2):
        with saved.open("a") as fh:
            assert subprocess.run(command, stdout=fh, timeout=120, env=env).returncode == 0
    assert [json.loads(line)["id"] for line in saved.read_text().splitlines()] == ["0", "1", "2"] * 2
    # such a file is not locked: a lock taken on standard output's descriptor belonged to the
    # caller's open file and outlived the run
    with saved.open("a") as fh:
        assert subprocess.run(command, stdout=fh, timeout=120, env=env).returncode == 0
        proc = subprocess.run([*command[:-4], "-o", str(saved), "--workers", "1"],
                              capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([*command, "--retry-failed"], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 2 and "need an output file" in proc.stderr
    # appended to its own input it read its lines back as documents, without end
    spaced = tmp_path / "my pages.jsonl"
    shutil.copyfile(jsonl, spaced)
    with spaced.open("a") as fh:
        proc = subprocess.run([*command[:4], str(spaced), *command[5:]], stdout=fh,
                              stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    assert (proc.returncode, proc.stderr.strip()) == (
        2, "noisefilter batch: standard output (-o -) is also an input: write the output to "
           "another file")
    assert spaced.read_text() == jsonl.read_text()
    proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=120, env=env, preexec_fn=lambda: os.close(1))
    assert (proc.returncode, proc.stderr.strip()) == (  # 1, as documented and as `clean` exits
        1, "noisefilter batch: standard output (-o -) is closed")
    for output in ("/dev/stdout", "-"):
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader has gone before the first line is written
        try:
            proc = subprocess.run([sys.executable, "-m", "filter.cli", "batch", str(jsonl), "-o",
                                   output, "--workers", "1"], stdout=write_end,
                                  stderr=subprocess.PIPE, text=True, timeout=120, env=env)
        finally:
            os.close(write_end)
        assert (proc.returncode, proc.stderr) == (141, "")


def _children(pid: int) -> list[int]:
    """The child processes of any thread of `pid` (the batch starts its workers from a thread
    of its own)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # a thread that ended meanwhile
            pass
    return found


def test_workers_die_with_a_killed_batch(tmp_path):
    """A batch killed outright (OOM killer, kill -9) must not leave workers behind."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(200):
        (folder / f"{i:03}.html").write_bytes(page(ARTICLES[i % 3]))
    proc = subprocess.Popen([sys.executable, "-m", "filter.cli", "batch", str(folder), "-o",
                             str(tmp_path / "out.jsonl"), "--workers", "2"],
                            stderr=subprocess.DEVNULL)
    children: list[int] = []
    deadline = time.monotonic() + 60
    while len(children) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        children = _children(proc.pid)
    assert len(children) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{c}").exists() for c in children)


def test_resuming_reads_ids_and_cuts_only_a_last_partial_line(tmp_path):
    out = tmp_path / "out.jsonl"
    good = [json.dumps({"id": 'quote " and \\ slash', "text": "…"}, ensure_ascii=False),
            "a line someone else wrote",
            json.dumps({"text": "no id", "id": 7})]
    out.write_text("\n".join(good) + "\n" + '{"id": "cut', encoding="utf-8")
    assert done_keys(out).keys == {(None, 'quote " and \\ slash'), (None, "7")}
    assert out.read_text(encoding="utf-8") == "\n".join(good) + "\n"
    # a last line that is not one of ours (notes someone keeps in the file) stays: it only gets
    # the line break that lets the records appended start on a line of their own
    out.write_text("my notes\nmy last line", encoding="utf-8")
    assert done_keys(out).keys == set()
    assert out.read_text(encoding="utf-8") == "my notes\nmy last line\n"
    out.write_text('{"i', encoding="utf-8")  # ours, cut after three bytes
    assert done_keys(out).keys == set() and out.read_text(encoding="utf-8") == ""


def test_resuming_holds_each_source_once(tmp_path):
    """A JSON Lines input's path is on every output line of its documents: the resume set of a
    million lines held a million copies of it, a quarter of its memory."""
    out = tmp_path / "out.jsonl"
    lines = [json.dumps({"id": str(i), "url": None, "source": f"/crawl/part-{i % 2}.jsonl",
                         "error": None}) for i in range(6)]
    lines.append(json.dumps({"text": "fields in another order", "id": "6",
                             "source": "/crawl/part-0.jsonl"}))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    keys = done_keys(out).keys
    assert keys == {(f"/crawl/part-{i % 2}.jsonl", str(i)) for i in range(7)}
    assert len({id(source) for source, _ in keys}) == 2


def test_json_lines_on_standard_input(tmp_path):
    """`zcat pages.jsonl.gz | noisefilter batch - -o out.jsonl`: another program's output is
    cleaned as it comes; ids are the lines' (`stdin:N`) unless a record has its own, and the
    same stream piped again, plain or compressed, is resumed, not cleaned twice."""
    records = [{"id": "a", "html": page(ARTICLES[0]).decode("utf-8"), "url": "http://courier.test/a"},
               {"text": "A line of text.\nAnother line."}]
    stream = "".join(json.dumps(r) + "\n" for r in records)
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "filter.cli", "batch", "-", "-o", str(out), "--workers", "1"]
    proc = subprocess.run(command, input=stream, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = lines(out)
    assert [(r["id"], r["source"]) for r in got] == [("a", "-"), ("stdin:2", "-")]
    assert got[0]["text"] and got[0]["error"] is None
    again = subprocess.run(command, input=stream, capture_output=True, text=True, timeout=120)
    assert "resuming: 2 documents" in again.stderr and len(lines(out)) == 2
    # `cat pages.jsonl.gz | noisefilter batch -`: the same records, read through the gzip
    # (they were "not valid JSON" line after line, and those lines were added to the output)
    packed = subprocess.run(command, input=gzip.compress(stream.encode()), capture_output=True,
                            timeout=120)
    assert b"resuming: 2 documents" in packed.stderr and lines(out) == got
    twice = subprocess.run([*command[:5], "-", "-", "-o", str(out)], capture_output=True, text=True,
                           timeout=120)
    assert twice.returncode == 2 and "standard input (-) can be read once" in twice.stderr


def test_another_stream_on_standard_input_is_not_taken_for_the_one_resumed(tmp_path):
    """Records without ids are known by their lines (`stdin:N`): `cat s1/part.jsonl | batch -
    -o out`, then `cat s2/part.jsonl | batch - -o out`, skipped every record of the second
    stream as done, and said only "resuming: 3 documents already in out skipped". A record
    whose URL is not the one OUT holds for its line is another stream: the run stops, before
    anything is skipped or written."""
    first = [{"html": page(name).decode("utf-8"), "url": URL + name} for name in ARTICLES[:2]]
    second = [{"html": page(name).decode("utf-8"), "url": URL + "other/" + name}
              for name in ARTICLES[:2]]
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "filter.cli", "batch", "-", "-o", str(out), "--workers", "1"]

    def pipe(records):
        return subprocess.run(command, input="".join(json.dumps(r) + "\n" for r in records),
                              capture_output=True, text=True, timeout=120)

    assert pipe(first).returncode == 0
    written = out.read_bytes()
    proc = pipe(second)
    assert proc.returncode == 2 and out.read_bytes() == written
    assert (f"standard input is not the stream {out} was made from: its record stdin:1 has the "
            f"url {URL}other/{ARTICLES[0]}, {out}'s {URL}{ARTICLES[0]}") in proc.stderr
    assert "--restart" in proc.stderr and "Traceback" not in proc.stderr
    # the same stream again, and one that goes on past it, resume
    proc = pipe(first + second[:1])
    assert proc.returncode == 0 and "resuming: 2 documents" in proc.stderr
    assert [r["id"] for r in lines(out)] == ["stdin:1", "stdin:2", "stdin:3"]


def test_a_json_lines_stream_cut_short_gives_its_last_record_once_whole(tmp_path):
    """Standard input cut in the middle of a record without an id: the cut line was reported
    as `stdin:N`, the id of the whole record, so piping the whole stream again (the way to
    resume) took the record for done and never cleaned it. The report is `stdin@N`."""
    records = [{"html": page(name).decode("utf-8"), "url": URL + name} for name in ARTICLES[:3]]
    whole = "".join(json.dumps(r) + "\n" for r in records)
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "filter.cli", "batch", "-", "-o", str(out), "--workers", "1"]
    for stream in (whole[:-len(json.dumps(records[-1])) // 2], whole):
        proc = subprocess.run(command, input=stream, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
    got = [(r["id"], r["error"] and r["error"]["type"]) for r in lines(out)]
    assert got == [("stdin:1", None), ("stdin:2", None), ("stdin@3", "BadInputLine"),
                   ("stdin:3", None)]
    # a .jsonl.gz still downloading: its read error is named by its place too
    gz = tmp_path / "pages.jsonl.gz"
    data = gzip.compress(whole.encode())
    gz.write_bytes(data[:len(data) * 3 // 4])
    out2 = tmp_path / "out2.jsonl"
    batch(gz, "-o", out2, "--workers", "1")
    failed = [r["id"] for r in lines(out2) if r["error"]]
    assert len(failed) == 1 and failed[0].startswith("pages.jsonl.gz@")
    gz.write_bytes(data)
    batch(gz, "-o", out2, "--workers", "1")
    assert sorted(r["id"] for r in lines(out2) if not r["error"]) == [
        f"pages.jsonl.gz:{n}" for n in (1, 2, 3)]


def test_a_worker_count_far_above_the_cores_is_refused_before_any_starts(tmp_path, monkeypatch,
                                                                         capsys):
    """`--workers 400` on a two-core machine forked 400 processes, even for three documents."""
    import filter.limits

    monkeypatch.setattr(filter.limits, "usable_cores", lambda: 2)
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text(json.dumps({"id": "x", "html": "<p>x</p>"}) + "\n")
    with pytest.raises(SystemExit) as exit_:
        main(["batch", str(jsonl), "-o", str(tmp_path / "out.jsonl"), "--workers", "400"])
    assert exit_.value.code == 2
    assert "--workers: it must be at most 16 (8 per core" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_an_input_named_twice_is_refused_not_cleaned_twice(tmp_path, capsys):
    """Overlapping shell globs name a file twice: every document of it was written twice."""
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text(json.dumps({"id": "x", "html": "<p>x</p>"}) + "\n")
    status = main(["batch", str(jsonl), str(tmp_path / "." / "pages.jsonl"),
                   "-o", str(tmp_path / "out.jsonl")])
    assert status == 2 and "is named twice" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()
    # a page or a folder inside an input folder is read by its walk too (under another id);
    # a JSON Lines file there is no page of it and may be named on its own
    crawl = tmp_path / "crawl"
    (crawl / "2026-05").mkdir(parents=True)
    (crawl / "2026-05" / "a.html").write_text("<p>x</p>")
    jsonl.rename(crawl / "pages.jsonl")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.html").write_text("<p>y</p>")
    (crawl / "linked").symlink_to(tmp_path / "elsewhere")  # the walk follows it
    for inner in ("2026-05", "2026-05/a.html", "linked"):
        status = main(["batch", str(crawl), str(crawl / inner), "-o", str(tmp_path / "out.jsonl")])
        assert status == 2, inner
        assert f"{crawl / inner} is in {crawl}, also an input" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()
    assert main(["batch", str(crawl), str(crawl / "pages.jsonl"), "-o", str(tmp_path / "out.jsonl"),
                 "--workers", "1"]) == 0
    assert len(lines(tmp_path / "out.jsonl")) == 3


def test_retry_failed_in_a_folder_it_cannot_write_in_says_so(tmp_path, monkeypatch, capsys):
    """OUT readable and writable, its folder not: the copy `--retry-failed` writes cannot be
    made, and the message named reading OUT, a file that is fine. Nothing is lost."""
    import errno
    import tempfile

    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text(json.dumps({"id": "x", "html": ""}) + "\n")
    out = tmp_path / "out.jsonl"
    before = json.dumps({"id": "x", "source": str(jsonl),
                         "error": {"type": "InputError", "message": "empty"}}) + "\n"
    out.write_text(before)

    def mkstemp(*args, **kwargs):  # as in a read-only folder (root ignores the mode bits)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    status = main(["batch", str(jsonl), "-o", str(out), "--workers", "1", "--retry-failed"])
    err = capsys.readouterr().err
    assert status == 2 and f"cannot write a copy of {out} in its folder" in err, err
    assert "cannot read" not in err and out.read_text() == before


def test_retry_failed_on_a_full_disk_is_a_write_failure(tmp_path, monkeypatch, capsys):
    """`--retry-failed` writes a copy of OUT without the failures: on a full disk that exited 2
    ("bad arguments") with "cannot read OUT to resume"; it is 1, "cannot write", as documented
    for an output that cannot be written."""
    import errno
    import io

    import filter.batch

    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text(json.dumps({"id": "x", "html": ""}) + "\n")
    out = tmp_path / "out.jsonl"
    before = (json.dumps({"id": "y", "source": "other.jsonl", "error": None}) + "\n"
              + json.dumps({"id": "x", "source": str(jsonl),
                            "error": {"type": "InputError", "message": "empty"}}) + "\n")
    out.write_text(before)

    class FullDisk(io.BufferedWriter):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full_open(file, mode="r", *args, **kwargs):
        if mode == "wb" and Path(file).name.startswith(f".{out.name}."):  # the copy of OUT
            return FullDisk(io.FileIO(file, "w"))
        return open(file, mode, *args, **kwargs)

    monkeypatch.setattr(filter.batch, "open", full_open, raising=False)
    status = main(["batch", str(jsonl), "-o", str(out), "--workers", "1", "--retry-failed"])
    err = capsys.readouterr().err
    assert status == 1 and f"cannot write {out}: {os.strerror(errno.ENOSPC)}" in err, err
    assert out.read_text() == before  # kept whole, and the copy taken away
    assert sorted(os.listdir(tmp_path)) == ["out.jsonl", "pages.jsonl"]


def test_a_warc_of_local_files_is_cleaned_with_their_uris_kept(tmp_path, cleaner):
    """A WARC of local files names its pages by file: or urn: URIs (and a crawler may record a
    port out of range), which the cleaner refuses as page URLs: every such page failed as an
    InputError. They are cleaned without a URL, and the URI is kept."""
    uris = ["file:///home/me/site/index.html", "urn:x-local:index.html",
            "http://courier.test:99999/a"]
    warc = tmp_path / "local.warc"
    build_warc(warc, [Rec(uri, page(ARTICLES[0]), warc_type="resource", content_type="text/html")
                      for uri in uris], gz=False)
    out = tmp_path / "out.jsonl"
    batch(warc, "-o", out, "--workers", "1")
    want = cleaner.clean(page(ARTICLES[0]))
    assert [(r["url"], r["error"], r["text"]) for r in lines(out)] == [
        (uri, None, want.text) for uri in uris]


def test_a_saved_pages_file_url_is_kept_and_the_page_cleaned_from_any_input(tmp_path, cleaner):
    """A JSON Lines record (or a `clean_many` item) of a saved page failed with "not an absolute
    URL" where the same page in a WARC was cleaned: its links would resolve to files, so it is
    cleaned without the URL, which the output keeps."""
    uris = ["file:///home/me/site/index.html", "file://nas/site/index.html"]
    html = page(ARTICLES[0]).decode("utf-8")
    jsonl = tmp_path / "saved.jsonl"
    jsonl.write_text("".join(json.dumps({"id": str(i), "url": u, "html": html}) + "\n"
                             for i, u in enumerate(uris)))
    out = tmp_path / "out.jsonl"
    batch(jsonl, "-o", out, "--workers", "1")
    want = cleaner.clean(html)
    assert [(r["url"], r["error"], r["text"]) for r in lines(out)] == [
        (uri, None, want.text) for uri in uris]
    items = [{"id": "a", "url": uris[0], "html": html}]
    [outcome] = cleaner.clean_many(items, workers=1)
    assert outcome.error is None and outcome.url == uris[0] and outcome.result.text == want.text
    with pytest.raises(InputError, match="names a saved file, not the page's address"):
        cleaner.clean(html, url=uris[0])


def test_a_warc_target_uri_with_spaces_is_kept_without_a_warning_line_each(tmp_path, cleaner):
    """warcio printed "Replacing spaces in invalid WARC-Target-URI" for every such record,
    through the progress line."""
    uris = [f"http://courier.test/{name} copy" for name in ARTICLES]
    warc = tmp_path / "spaces.warc"
    build_warc(warc, [Rec(uri, page(name)) for uri, name in zip(uris, ARTICLES)], gz=False)
    out = tmp_path / "out.jsonl"
    proc = batch(warc, "-o", out, "--workers", "1")
    assert "WARC-Target-URI" not in proc.stderr, proc.stderr
    assert [(r["url"], r["error"]) for r in lines(out)] == [(uri, None) for uri in uris]


def failing_lines(path: Path, count: int) -> None:
    """A JSON Lines input of `count` lines that fail (not JSON) and one good text record."""
    path.write_text("{not json\n" * count + json.dumps({"id": "ok", "text": "A line.\nMore."})
                    + "\n")


def test_retry_failed_retries_and_removes_only_the_failures_of_its_own_inputs(tmp_path):
    """An output shared by runs over different inputs: retrying the failures of one input
    took every other input's failure lines out of the file too, and never retried them."""
    first, second, out = tmp_path / "first.jsonl", tmp_path / "second.jsonl", tmp_path / "out.jsonl"
    failing_lines(first, 3)
    failing_lines(second, 1)
    batch(first, "-o", out, "--workers", "1")
    batch(second, "-o", out, "--workers", "1")
    before = lines(out)
    proc = batch(second, "-o", out, "--workers", "1", "--retry-failed")
    assert "retrying: 1 failed document taken out" in proc.stderr
    after = lines(out)
    assert [r for r in after if r["source"] == str(first)] == before[:4]
    assert sorted(r["id"] for r in after if r["source"] == str(second)) == ["ok", "second.jsonl:1"]


def test_retry_failed_over_a_folder_keeps_the_failures_of_files_it_does_not_read(tmp_path):
    """A folder input is read for its HTML files only. Its `--retry-failed` also took out the
    failures of a .jsonl file that lay in it (cleaned by a run of its own), and they were
    never retried: they were lost from the output."""
    crawl, out = tmp_path / "crawl", tmp_path / "out.jsonl"
    crawl.mkdir()
    (crawl / "broken.html").write_bytes(b"\x00\x01\x02binary\xff" * 50)
    failing_lines(crawl / "extra.jsonl", 2)
    batch(crawl / "extra.jsonl", "-o", out, "--workers", "1")
    batch(crawl, "-o", out, "--workers", "1")
    before = lines(out)
    proc = batch(crawl, "-o", out, "--workers", "1", "--retry-failed")
    assert "retrying: 1 failed document taken out" in proc.stderr
    assert [r for r in lines(out) if r["source"].endswith("extra.jsonl")] == before[:3]


def test_retry_failed_on_an_output_reached_through_a_symlink_rewrites_its_target(tmp_path):
    """The copy without the failures replaced the symlink: the file it pointed to kept the
    old failure lines and got none of the new lines."""
    first, store, out = tmp_path / "first.jsonl", tmp_path / "store", tmp_path / "out.jsonl"
    failing_lines(first, 2)
    store.mkdir()
    out.symlink_to(store / "out.jsonl")
    batch(first, "-o", out, "--workers", "1")
    batch(first, "-o", out, "--workers", "1", "--retry-failed")
    assert out.is_symlink()
    assert [r["id"] for r in lines(store / "out.jsonl")] == ["ok", "first.jsonl:1", "first.jsonl:2"]


def test_a_time_limit_of_weeks_is_a_limit_not_a_crash(tmp_path):
    """The scheduler waited up to the nearest deadline at once: poll() takes milliseconds in a
    C int, so a --timeout above 24.8 days (a natural "no limit") ended the batch with
    OverflowError before the first line."""
    pages = tmp_path / "pages.jsonl"
    pages.write_text(json.dumps({"id": "1", "text": "A line.\nMore."}) + "\n")
    out = tmp_path / "out.jsonl"
    batch(pages, "-o", out, "--workers", "1", "--timeout", "3000000")
    assert [r["id"] for r in lines(out)] == ["1"]


def test_the_resume_note_is_not_written_onto_the_progress_line(tmp_path):
    """With --progress the line is redrawn in place; "resuming: …" was printed after it, on
    the same terminal line."""
    first, second, out = tmp_path / "first.jsonl", tmp_path / "second.jsonl", tmp_path / "out.jsonl"
    failing_lines(first, 2)
    failing_lines(second, 1)
    batch(first, "-o", out, "--workers", "1")
    proc = subprocess.run([sys.executable, "-m", "filter.cli", "batch", first, second, "-o", out,
                           "--workers", "1", "--progress"], capture_output=True, timeout=120)
    drawn, _, rest = proc.stderr.partition(b"resuming: 3 documents")
    assert rest and drawn.startswith(b"\r") and drawn.endswith(b"\x1b[K\r\x1b[K")


def test_resuming_reports_the_documents_it_skipped(tmp_path):
    """"resuming: N documents … skipped" counted every line of the output, also those of other
    inputs, which this run never reads."""
    first, second, out = tmp_path / "first.jsonl", tmp_path / "second.jsonl", tmp_path / "out.jsonl"
    failing_lines(first, 3)
    failing_lines(second, 1)
    batch(first, "-o", out, "--workers", "1")
    proc = batch(second, "-o", out, "--workers", "1")
    assert "resuming" not in proc.stderr
    proc = batch(first, second, "-o", out, "--workers", "1")
    assert "resuming: 6 documents already in" in proc.stderr


def test_a_warc_input_without_warcio_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    """Without the warc extra a WARC input ended the batch with a traceback, after the inputs
    before it had been cleaned."""
    (tmp_path / "pages.jsonl").write_text('{"id": "1", "text": "kept"}\n')
    build_warc(tmp_path / "a.warc.gz", [Rec(URL + ARTICLES[0], page(ARTICLES[0]))])
    monkeypatch.setitem(sys.modules, "warcio", None)  # as if not installed
    out = tmp_path / "o.jsonl"
    assert main(["batch", str(tmp_path / "pages.jsonl"), str(tmp_path / "a.warc.gz"),
                 "-o", str(out)]) == 2
    assert capsys.readouterr().err == ("noisefilter batch: WARC input needs the warc extra: "
                                       "pip install \".[warc]\" from the noisefilter "
                                       "repository\n")
    assert not out.exists()


def test_an_output_another_batch_is_writing_is_refused(tmp_path):
    """Two runs into the same output at once wrote every document twice, without a word."""
    import fcntl

    jsonl, out = tmp_path / "pages.jsonl", tmp_path / "out.jsonl"
    failing_lines(jsonl, 1)
    older = '{"id": "older", "url": null, "source": "x", "text": "x", "error": null}\n'
    out.write_text(older)
    with open(out, "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held as a running batch holds it
        proc = subprocess.run([sys.executable, "-m", "filter.cli", "batch", str(jsonl), "-o",
                               str(out), "--workers", "1"], capture_output=True, text=True,
                              timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == f"noisefilter batch: {out} is being written by another batch run\n"
    assert out.read_text() == older
    batch(jsonl, "-o", out, "--workers", "1")  # once it is done, the output is resumed
    assert len(lines(out)) == 3


def test_closed_standard_input_is_a_message_not_a_traceback(tmp_path):
    """`noisefilter batch - -o out.jsonl <&-` ended in an AttributeError traceback."""
    proc = subprocess.run(['sh', '-c', 'exec "$0" "$@" <&-', sys.executable, "-m", "filter.cli",
                           "batch", "-", "-o", str(tmp_path / "out.jsonl")],
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (
        2, "noisefilter batch: standard input (-) is closed\n")
    assert not (tmp_path / "out.jsonl").exists()


def test_a_warc_page_is_held_to_the_size_limit_in_the_bytes_its_header_labels(tmp_path,
                                                                              cleaner):
    """A page whose charset only its HTTP header names is read in it and held to --max-bytes
    as recorded: the reader decoded it and the cleaner counted the text in UTF-8, so a Greek
    page in iso-8859-7 over half the limit was refused as too large (Greek letters take two
    bytes in UTF-8, one in iso-8859-7)."""
    para = "Το δημοτικό συμβούλιο ενέκρινε χθες το σχέδιο για την ανακαίνιση του λιμανιού. "
    html = ("<html><head><title>Λιμάνι</title></head><body><article>"
            + "".join(f"<p>{para * 8}</p>" for _ in range(20)) + "</article></body></html>")
    body = html.encode("iso-8859-7")
    limit = len(body) + 1_000
    assert len(html.encode("utf-8")) > limit
    warc = tmp_path / "greek.warc.gz"
    build_warc(warc, [Rec(URL + "limani", body, content_type="text/html; charset=iso-8859-7"),
                      Rec(URL + "big", body + b" " * 2_000,
                          content_type="text/html; charset=iso-8859-7")])
    out = tmp_path / "out.jsonl"
    batch(warc, "-o", out, "--workers", "1", "--max-bytes", limit)
    first, second = lines(out)
    assert first["error"] is None
    assert first["text"] == cleaner.clean(html, url=URL + "limani").text
    assert "ενέκρινε χθες το σχέδιο" in first["text"]
    assert second["error"]["type"] == "InputTooLarge"


def test_batch_favoring_precision_cleans_as_the_library_does(cleaner, tmp_path):
    """`noisefilter batch --favor-precision` cleans every page as `Cleaner(favor_precision=True)`
    does, in its worker processes, and `clean_many` of such a cleaner does so in workers that
    load the model themselves (spawned) as in forked ones."""
    site = Path(__file__).parent / "fixtures" / "crawl_site"
    out = tmp_path / "out.jsonl"
    batch(site, "-o", out, "--workers", "2", "--favor-precision")
    got = {line["id"]: line["text"] for line in lines(out)}
    precise = Cleaner(model=cleaner.loaded, favor_precision=True)
    pages = sorted(site.glob("*.html"))
    want = {p.name: precise.clean(p.read_bytes()).text for p in pages}
    assert {Path(k).name: v for k, v in got.items()} == want
    assert want != {p.name: cleaner.clean(p.read_bytes()).text for p in pages}
    for method in ("spawn", "fork"):
        outcomes = precise.clean_many([p.read_bytes() for p in pages], workers=1, start_method=method)
        assert [o.result.text for o in outcomes] == [want[p.name] for p in pages], method


def test_max_in_flight_sets_the_read_ahead_window(tmp_path, monkeypatch, capsys):
    """A slow page held both workers once the default window (4 per worker) filled behind it:
    `--max-in-flight N` gives a wider one, passed to `clean_many`; nothing else changes, and
    anything but a whole number above 0 is refused before any work."""
    import filter.batch

    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text("".join(json.dumps({"id": str(i), "text": f"Line {i} of the notices."}) + "\n"
                             for i in range(6)))
    seen = []
    real = filter.batch.clean_many

    def spy(*args, **kwargs):
        seen.append(kwargs.get("max_in_flight"))
        return real(*args, **kwargs)

    monkeypatch.setattr(filter.batch, "clean_many", spy)
    for window, out in ((None, "default.jsonl"), ("1", "narrow.jsonl")):
        extra = ["--max-in-flight", window] if window else []
        assert main(["batch", str(jsonl), "-o", str(tmp_path / out), "--workers", "1", *extra]) == 0
    assert seen == [None, 1]
    assert lines(tmp_path / "default.jsonl") == lines(tmp_path / "narrow.jsonl")
    for wrong in ("0", "-2", "many"):
        with pytest.raises(SystemExit) as exit_:
            main(["batch", str(jsonl), "-o", str(tmp_path / "x.jsonl"), "--max-in-flight", wrong])
        assert exit_.value.code == 2
    assert "--max-in-flight" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()
