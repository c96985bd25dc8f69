"""Edges of the SQLite label store (train/store.py): what a label's row holds after a change,
the order of a page's blocks, what a page fetched again keeps, the budget of a listing, and what
the store refuses."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from test_store import _ex
from train.examples import BlockLabel, Example
from train.store import (SCHEMA_VERSION, ExampleStore, StoreError, example_chars, examples_from,
                         main)


def test_a_changed_label_keeps_the_text_as_it_was_given_last(tmp_path):
    """A block labelled on the page ("news\u00adletter") and relabelled from a file
    ("newsletter") is one row: the row's text must become the one just given, the text
    training and the page match by; a text glued to the old one matched no block at all."""
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", "news\u00adletter", [("news\u00adletter", "content")])], labelled_by="alice")
    report = store.add([_ex("p", "news\u00adletter", [("newsletter", "junk")])], labelled_by="bob")
    assert report.labels_changed == 1
    [block] = store.get("p").blocks
    assert (block.text, block.label) == ("newsletter", "junk")


def test_a_label_stating_a_time_without_a_zone_is_weighed_against_a_reviewed_one(tmp_path):
    """An old tool's export gives `labelled_at` without a zone: it is read as UTC and,
    being older than a person's reviewed label, loses to it. Compared as a naive time with the
    stored aware one, the save ended in a TypeError and nothing of it was stored."""
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", "Harbour story", [("Harbour story", "content")])], labelled_by="alice")
    report = store.add([_ex("p", "Harbour story", [("Harbour story", "junk")],
                            labelled_at="2020-01-01T00:00:00")], labelled_by="old-tool")
    assert report.labels_kept == 1
    [block] = store.get("p").blocks
    assert (block.label, block.labelled_by) == ("content", "alice")


def test_a_block_labelled_later_is_listed_in_page_order(tmp_path):
    """The labelling page and training read a page's blocks in the order they were stored:
    a model's proposal for line 2, saved after a person's labels for lines 0 and 1, was listed
    before line 1 (given line 1's position, or read in the index's order), so a page shown
    from the store came out of order."""
    store = ExampleStore(tmp_path / "s.db")
    text = "First line of the story\nSecond line of the story\nThird line, the footer"
    store.add([_ex("p", text, [("First line of the story", "content"),
                               ("Second line of the story", "content")])], labelled_by="alice")
    store.add([_ex("p", text, [("Third line, the footer", "junk")])], labelled_by="model:v1",
              reviewed=False)
    assert [b.text for b in store.get("p").blocks] == text.split("\n")
    assert [b.text for b in store.list()[0].blocks] == text.split("\n")
    assert [b.text for b in next(store.iter_examples()).blocks] == text.split("\n")


def test_labels_are_stamped_to_the_millisecond(tmp_path):
    """A correction saved within the second of the label it replaces must be later than it: a
    reviewed label stamped to whole seconds let a tab that loaded it a moment before the
    correction send it back as no older than the correction, and undo it."""
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", "Harbour story", [("Harbour story", "content")])], labelled_by="alice")
    stamp = store.get("p").blocks[0].labelled_at
    assert re.search(r"T\d\d:\d\d:\d\d\.\d{3}\+00:00$", stamp), stamp


def test_a_corrected_gold_text_of_the_same_document_replaces_the_stored_one(tmp_path):
    """Evaluation scores the page against its gold text: the same document saved again with
    its gold text corrected kept the mistaken one."""
    store = ExampleStore(tmp_path / "s.db")
    page = dict(id="p", text="Harbour story", blocks=[BlockLabel("Harbour story", "content")])
    store.add([Example(**page, gold="Harbur story")], labelled_by="alice")
    store.add([Example(**page, gold="Harbour story")], labelled_by="alice")
    assert store.get("p").gold == "Harbour story"


def test_a_page_fetched_again_without_gold_or_address_keeps_them(tmp_path):
    """A page fetched again comes with its new document only: its gold text (what evaluation
    scores against) and address (what groups pages by site in training) were set to nothing."""
    store = ExampleStore(tmp_path / "s.db")
    store.add([Example(id="p", text="Harbour story\nShare", url="https://news.example/a",
                       gold="Harbour story", blocks=[BlockLabel("Harbour story", "content")])],
              labelled_by="alice")
    report = store.add([_ex("p", "Harbour story\nShare this", [("Share this", "junk")])],
                       labelled_by="alice")
    assert report.pages_updated == 1
    got = store.get("p")
    assert (got.text, got.gold, got.url) == ("Harbour story\nShare this", "Harbour story",
                                            "https://news.example/a")


def test_import_source_goes_only_to_pages_that_name_none(tmp_path, capsys):
    """`store import --source hand` is the source of pages that name none ("source given to
    pages that name none"): it overwrote the data set a page names itself, and training by
    source, or an export by source, mixed the data sets."""
    src, db = tmp_path / "in.jsonl", tmp_path / "s.db"
    src.write_text(
        json.dumps({"id": "own", "text": "a b c d", "source": "wcxb",
                    "blocks": [{"text": "a b c d", "label": "content"}]}) + "\n"
        + json.dumps({"id": "none", "text": "e f g h",
                      "blocks": [{"text": "e f g h", "label": "content"}]}) + "\n",
        encoding="utf-8")
    assert main(["import", str(db), str(src), "--source", "hand"]) == 0
    store = ExampleStore(db)
    assert (store.get("own").source, store.get("none").source) == ("wcxb", "hand")


def test_a_database_whose_meta_table_is_not_a_stores_is_left_as_it_was(tmp_path):
    """Another application's database with a `meta` table of its own and no other table:
    opened as a store it was switched to WAL mode and given a store's tables before the
    schema row failed to go in."""
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT, note TEXT)")
        conn.execute("INSERT INTO meta VALUES ('owner', 'app', '')")
    conn.close()
    before = other.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="not an example store .*meta table is not a store's"):
            ExampleStore(other, read_only=read_only)
    assert other.read_bytes() == before and not Path(f"{other}-wal").exists()


def test_a_stored_noncontent_label_is_kept_for_training(tmp_path):
    """"noncontent" (not content, kind unknown) is a label the model understands whatever the
    labels trained on: store pages holding it lost those blocks as "unknown label"."""
    db = tmp_path / "s.db"
    ExampleStore(db).add([_ex("p", "Harbour story\nShare", [("Harbour story", "content"),
                                                             ("Share", "noncontent")])],
                         labelled_by="alice")
    found = examples_from([], db, allowed_labels={"content", "junk"})
    assert [b.label for b in found.examples[0].blocks] == ["content", "noncontent"]
    assert found.problems == []


def test_a_file_page_and_a_store_page_of_one_document_are_one_example(tmp_path):
    """A page exported from the store, renamed and given as a file beside `--store`: one
    document under two ids was trained on, and scored, twice."""
    db, f = tmp_path / "s.db", tmp_path / "f.jsonl"
    ExampleStore(db).add([_ex("stored", "Harbour story\nShare", [("Harbour story", "content")])],
                         labelled_by="alice")
    f.write_text(json.dumps({"id": "renamed", "text": "Harbour story\nShare",
                             "blocks": [{"text": "Share", "label": "junk"}]}) + "\n",
                 encoding="utf-8")
    found = examples_from([f], db)
    assert [e.id for e in found.examples] == ["renamed"]
    [problem] = found.problems
    assert "the same document as" in str(problem) and "'renamed'" in str(problem)


def _many_labels_then_small(store: ExampleStore) -> None:
    words = [f"w{i}" for i in range(2000)]
    store.add([_ex("many", "\n".join(words), [(w, "junk") for w in words]),
               _ex("small", "Harbour story", [("Harbour story", "content")])], labelled_by="alice")


def test_a_listing_budget_counts_a_pages_labels_as_their_json_does(tmp_path):
    """`max_chars` bounds the JSON a listing sends (the labelling page's `GET /v1/examples`): a
    page of thousands of one-word labels, whose JSON is mostly the labels' keys, was counted as
    a small page and the listing went on past its budget."""
    store = ExampleStore(tmp_path / "s.db")
    _many_labels_then_small(store)
    many = store.get("many")
    sent = len(json.dumps(many.to_dict(), ensure_ascii=False))
    assert example_chars(many) >= sent
    assert [e.id for e in store.list(max_chars=sent)] == ["many"]


def test_a_listing_stops_at_the_page_that_reaches_its_budget(tmp_path):
    """A budget met exactly is spent: the listing went on for one more page."""
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex(f"p{i}", f"Story {i}", [(f"Story {i}", "content")]) for i in range(3)],
              labelled_by="alice")
    first = store.get("p0")
    assert [e.id for e in store.list(max_chars=example_chars(first))] == ["p0"]
    assert [e.id for e in store.list(max_chars=example_chars(first) + 1)] == ["p0", "p1"]


def test_a_schema_version_that_is_not_a_whole_number_is_a_store_error(tmp_path):
    """A `meta` schema row of "3.1" (written by hand, or by another tool): opening the store
    raised a bare ValueError, a traceback, where every other store that is none is one line."""
    db = tmp_path / "s.db"
    ExampleStore(db).add([_ex("p", "Harbour story", [("Harbour story", "content")])],
                         labelled_by="alice")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (f"{SCHEMA_VERSION}.1",))
    conn.close()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="names no schema version"):
            ExampleStore(db, read_only=read_only)


def test_import_takes_a_labelled_by_of_exactly_the_longest_length(tmp_path, capsys):
    """200 characters is what the service takes back (`MAX_NAME_CHARS`), so `--labelled-by`
    of exactly 200 is valid: it was refused as "over 200 characters"."""
    src, db = tmp_path / "in.jsonl", tmp_path / "s.db"
    src.write_text(json.dumps({"id": "p", "text": "a b c d",
                               "blocks": [{"text": "a b c d", "label": "content"}]}) + "\n",
                   encoding="utf-8")
    assert main(["import", str(db), str(src), "--labelled-by", "z" * 200]) == 0
    assert ExampleStore(db).get("p").blocks[0].labelled_by == "z" * 200
