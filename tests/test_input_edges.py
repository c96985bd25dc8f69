"""Edges of reading a batch's inputs (filter/inputs.py, filter/compression.py): what a corpus
builder's files give when they are not quite JSON Lines, or damaged."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import sys

import pytest

from crawl_helpers import ARTICLES, page
from filter import Cleaner
from filter.batch import clean_many
from filter.inputs import read_jsonl

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
