"""Edges of reading a batch's inputs (filter/inputs.py, filter/compression.py): what a corpus
builder's files give when they are not quite JSON Lines, or damaged."""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import lzma
import sys

import pytest

from crawl_helpers import ARTICLES, page
from filter import Cleaner
from filter.batch import clean_many
from filter.inputs import input_kind, read_folder, read_jsonl

_RECORDS = [{"id": f"r{i}", "html": f"<html><body><p>Story {i}</p></body></html>"}
            for i in range(3)]


@pytest.mark.parametrize("indent", [2, "\t"])
def test_pretty_printed_json_objects_are_one_report_saying_what_to_do(tmp_path, indent):
    """`jq .` and `json.dump(indent=…)` write an object over several lines: every line was a
    `BadInputLine` of its own ("Expecting property name…", three records gave twelve), and
    none said why."""
    path = tmp_path / "pages.jsonl"
    path.write_text("".join(json.dumps(r, indent=indent) + "\n" for r in _RECORDS))
    [doc] = read_jsonl(path)
    assert doc.id == "pages.jsonl@1" and doc.failure.type == "UnreadableFile"
    assert "pretty-printed JSON" in doc.failure.message and "jq -c ." in doc.failure.message
    # JSON Lines whose first record is broken across lines is still read line by line
    path.write_text('{"id": "a", "html": \n' + json.dumps(_RECORDS[1]) + "\n")
    assert [d.failure.type if d.failure else d.id for d in read_jsonl(path)] == ["BadInputLine", "r1"]


def _corrupt(kind: str) -> bytes:
    """JSON Lines compressed by `kind`, with bytes in the middle of the stream overwritten."""
    data = "".join(json.dumps(r) + "\n" for r in _RECORDS * 200).encode()
    packed = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}.get(kind)
    if packed is None:
        zstd = pytest.importorskip("backports.zstd" if sys.version_info < (3, 14) else "compression.zstd")
        packed = zstd.compress
    blob = bytearray(packed(data))
    # (the deflate and zstd data of these repetitive lines is a few blocks: their damage goes
    # into the first, just past the gzip header or the zstd frame header)
    at = {"gz": 10, "zst": 12}.get(kind, len(blob) // 2)
    blob[at:at + 16] = b"\xff" * 16
    return bytes(blob)


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zst"])
def test_a_corrupt_compressed_input_is_one_report_not_a_crash(tmp_path, kind):
    """Damage inside a compressed stream (not only a stream cut short) must end its file with
    an `UnreadableFile` report: an error type of the codec's own left out of what is caught
    raised out of the reader and ended the whole batch with a traceback."""
    path = tmp_path / f"pages.jsonl.{kind}"
    path.write_bytes(_corrupt(kind))
    docs = list(read_jsonl(path))
    assert docs and docs[-1].failure is not None and docs[-1].failure.type == "UnreadableFile"
    assert docs[-1].id.startswith("pages.jsonl")


def test_a_damaged_stream_on_standard_input_is_named_so(tmp_path, monkeypatch):
    """The report of a damaged stream piped in named its source "-"."""
    path = tmp_path / "in.bz2"
    path.write_bytes(b"BZh")
    with open(path, "rb") as fh:
        monkeypatch.setattr(sys, "stdin", fh)
        [doc] = read_jsonl("-")
    assert doc.failure.type == "UnreadableFile"
    assert doc.failure.message.startswith("standard input after line 0: ")


def test_ids_that_are_not_strings_are_spelt_as_json_spells_them():
    """`clean_many` gave Python's spelling of an id ("True", "{'a': 1}") where the same record
    read from JSON Lines gives JSON's ("true", '{"a": 1}'): the two outputs of one corpus did
    not join on id."""
    html = page(ARTICLES[0])
    docs = [{"id": {"a": 1}, "html": html}, {"id": True, "html": html}, {"id": 7, "html": html}]
    assert [o.id for o in clean_many(Cleaner(), docs)] == ['{"a": 1}', "true", "7"]


@pytest.mark.parametrize("value", [_RECORDS, _RECORDS[0]], ids=["array", "object"])
def test_pretty_printed_json_with_a_utf8_bom_is_one_report(tmp_path, value):
    """PowerShell 5 writes UTF-8 with a byte-order mark: a pretty-printed `.json` file it wrote
    was a `BadInputLine` per line, the mark hiding the "[" or "{" that opens it, instead of the
    one report saying to write it with jq -c."""
    path = tmp_path / "pages.json"
    path.write_bytes(codecs.BOM_UTF8 + json.dumps(value, indent=2).encode() + b"\n")
    [doc] = read_jsonl(path)
    assert doc.id == "pages.json@1" and doc.failure.type == "UnreadableFile"
    assert "jq -c" in doc.failure.message


def test_a_line_starting_with_utf16_bytes_past_the_first_is_one_bad_line(tmp_path):
    """Only a file's first bytes are a byte-order mark: a damaged line further on that starts
    with the same bytes is one bad line, and the records after it are read; taken for a UTF-16
    file, the rest of the file was dropped."""
    path = tmp_path / "pages.jsonl"
    path.write_bytes(json.dumps(_RECORDS[0]).encode() + b"\n\xff\xfe junk\n"
                     + json.dumps(_RECORDS[1]).encode() + b"\n")
    docs = list(read_jsonl(path))
    assert [d.failure.type if d.failure else d.id for d in docs] == ["r0", "BadInputLine", "r1"]
    assert docs[1].id == "pages.jsonl:2"


@pytest.mark.parametrize("suffix", [".zst", ".bz2", ".xz"])
def test_a_warc_compressed_other_than_by_gzip_is_refused_before_any_work(tmp_path, suffix):
    """A WARC is read plain or gzipped only: `x.warc.zst` was taken for a WARC and, once the
    inputs before it had been cleaned, reported as a damaged record ("expected a WARC record")
    where the file was whole, instead of refused at the start, naming the inputs read."""
    path = tmp_path / f"crawl.warc{suffix}"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"\.warc\[\.gz\] file"):
        input_kind(path)
    assert input_kind(tmp_path / "crawl.warc.gz") == "warc"


@pytest.mark.parametrize("other, warning", [
    ("robots.txt", "but 1 other file: pages are read from a folder by their names"),
    ("crawl.warc.gz", "but 1 WARC or JSON Lines file, which are read only when named as inputs "
                      "(such as {folder}/crawl.warc.gz)"),
    ("pages.jsonl", "but 1 WARC or JSON Lines file, which are read only when named as inputs "
                    "(such as {folder}/pages.jsonl)"),
])
def test_a_folder_warns_of_no_page_only_when_it_holds_none(tmp_path, caplog, other, warning):
    """A folder of pages that also holds a crawl's WARC or a `robots.txt` is read as it is
    meant to be: warning that it "holds no page file" sent a user looking for pages that were
    all there."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "a.html").write_bytes(page(ARTICLES[0]))
    (tmp_path / "site" / other).write_bytes(b"x")
    with caplog.at_level("WARNING", logger="filter.inputs"):
        docs = list(read_folder(tmp_path / "site"))
    assert [d.id for d in docs] == ["site/a.html"] and caplog.records == []
    (tmp_path / "site" / "a.html").unlink()  # and with no page, the warning comes
    with caplog.at_level("WARNING", logger="filter.inputs"):
        assert list(read_folder(tmp_path / "site")) == []
    warning = warning.format(folder=tmp_path / "site")
    assert f"holds no page file (.html, .htm, .xhtml) {warning}" in caplog.text
    (tmp_path / "site" / other).unlink()  # an empty folder: no "but 0 other files"
    caplog.clear()
    with caplog.at_level("WARNING", logger="filter.inputs"):
        assert list(read_folder(tmp_path / "site")) == []
    assert "but 0 " not in caplog.text


def test_a_zstd_page_file_is_read_frame_by_frame_within_the_frame_limit(tmp_path):
    """A page file compressed with zstd is read as a zstd body sent to the service is: a page
    in a few frames (as `pzstd` writes it) whole, a file of a million empty frames (9 MB,
    which took the batch's reader 15 s outside any time limit) as one `UnreadableFile` report
    naming the frame limit, a page over the size limit as `InputTooLarge`."""
    zstd = pytest.importorskip("backports.zstd" if sys.version_info < (3, 14) else "compression.zstd")
    html = page(ARTICLES[0])
    half = len(html) // 2
    (tmp_path / "a.html.zst").write_bytes(zstd.compress(html[:half]) + zstd.compress(html[half:]))
    (tmp_path / "b.html.zst").write_bytes(zstd.compress(html) + zstd.compress(b"") * 1_000_000)
    (tmp_path / "c.html.zst").write_bytes(zstd.compress(html + b"<p>x</p>" * 1_300_000))
    docs = {doc.id.rpartition("/")[2]: doc for doc in read_folder(tmp_path)}  # 10 MB at most
    assert docs["a.html.zst"].failure is None and docs["a.html.zst"].html == html
    assert docs["b.html.zst"].failure.type == "UnreadableFile"
    assert "over 1,000 zstd frames" in docs["b.html.zst"].failure.message
    assert docs["c.html.zst"].failure.type == "InputTooLarge"
