"""The SQLite example store: provenance, deduplication, import/export, concurrent writers."""

import io
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrain_site import example
from train.examples import BlockLabel, Example, parse_example, write_examples
from train.store import SCHEMA_VERSION, ExampleStore, StoreError, examples_from


def _ex(ident: str, text: str, labels: list[tuple[str, str]], **kw) -> Example:
    return Example(id=ident, text=text, blocks=[BlockLabel(t, lab, **kw) for t, lab in labels])


def test_labels_kept_are_named_by_their_place_as_given_and_counted_across_files(tmp_path):
    """`kept` names the labels that lost to stored ones by their place in the blocks as sent:
    counted among the blocks left after a bad one was dropped, it named another block; and a
    page in two files kept only the second file's places."""
    from train.examples import parse_example
    from train.store import AddReport

    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", "headline\nmore news", [("headline", "content")])], labelled_by="alice")
    raw = {"id": "p", "text": "headline\nmore news", "blocks": [
        {"text": "", "label": "junk"}, {"text": "headline", "label": "junk"}]}
    example, problems = parse_example(raw)
    assert "has no text" in problems[0].message
    report = store.add([example], labelled_by="model:v1", reviewed=False)
    assert (report.labels_kept, report.kept) == (1, {"p": [1]})
    both = AddReport(labels_kept=2, kept={"p": [0, 3]})
    both.merge(AddReport(labels_kept=1, kept={"p": [1], "q": [2]}))
    assert (both.labels_kept, both.kept) == (3, {"p": [0, 3, 1], "q": [2]})


def test_a_save_that_waited_for_the_lock_is_listed_after_what_was_saved_meanwhile(tmp_path):
    """Pages are listed in the order they were added, and readers page through them with an
    offset: a save stamped before it waited for another writer's lock was listed before the
    pages committed meanwhile, which a reader following `next_offset` had passed already."""
    import threading

    from train.store import timestamp

    db = tmp_path / "s.db"
    store = ExampleStore(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, e.g. a long import
    saving = threading.Thread(target=store.add, args=([_ex("late", "a b", [("a b", "junk")])],),
                              kwargs={"labelled_by": "alice"})
    saving.start()
    time.sleep(0.3)
    released = timestamp()
    holder.execute("COMMIT")
    saving.join(30)
    (late,) = store.list()
    with sqlite3.connect(db) as conn:
        added = conn.execute("SELECT added_at FROM pages WHERE id = 'late'").fetchone()[0]
    assert added >= released
    # (the labels it gives keep the time the save names, or else that same time)
    assert late.blocks[0].labelled_at == added


def test_a_write_that_waits_out_the_lock_is_a_store_error(tmp_path):
    """SQLite's bare "database is locked" ended `store import` and `bootstrap --store` in a
    traceback (a lock held from before the store was opened was already one line)."""
    db = tmp_path / "s.db"
    store = ExampleStore(db, timeout=0.3)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match=r"s\.db stayed locked for 0\.3 s .*nothing was written"):
        store.add([_ex("p", "a b", [("a b", "junk")])], labelled_by="alice")
    holder.execute("ROLLBACK")
    store.add([_ex("p", "a b", [("a b", "junk")])], labelled_by="alice")
    assert [e.id for e in store.list()] == ["p"]


def test_store_file_is_in_wal_mode(tmp_path):
    ExampleStore(tmp_path / "s.db")
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_add_count_list_get_with_provenance(tmp_path):
    store = ExampleStore(tmp_path / "s.db")
    report = store.add([_ex(f"p{i}", f"title {i}\nshare", [(f"title {i}", "content"), ("share", "junk")])
                        for i in range(5)], labelled_by="alice", source="hand")
    assert (report.pages_added, report.labels_added) == (5, 10)
    assert store.count() == {"pages": 5, "labels": 10, "by_label": {"content": 5, "junk": 5}, "unreviewed": 0}
    page = store.list(limit=2, offset=1)
    assert [e.id for e in page] == ["p1", "p2"]
    got = store.get("p3")
    assert got.source == "hand" and got.text == "title 3\nshare"
    block = got.blocks[0]
    assert (block.label, block.labelled_by, block.reviewed) == ("content", "alice", True)
    assert block.labelled_at.endswith("+00:00")
    assert store.get("nope") is None
    with pytest.raises(ValueError):
        store.list(limit=-1)


def test_a_proposal_never_overwrites_a_reviewed_label_and_changes_keep_history(tmp_path):
    store = ExampleStore(tmp_path / "s.db")
    labels = [("headline", "content"), ("more news", "teaser")]
    store.add([_ex("p", "headline\nmore news", labels)], labelled_by="alice")
    proposal = _ex("p", "headline\nmore news", [("headline", "junk"), ("more news", "teaser")])
    report = store.add([proposal], labelled_by="model:v1", reviewed=False)
    assert (report.labels_kept, report.labels_unchanged, report.labels_changed) == (1, 1, 0)
    assert report.kept == {"p": [0]}  # the proposal's first label lost; its second was the same
    assert [b.label for b in store.get("p").blocks] == ["content", "teaser"]
    correction = _ex("p", "headline\nmore news", [("more news", "related")])
    report = store.add([correction], labelled_by="bob")
    assert report.labels_changed == 1
    assert [(b.label, b.labelled_by) for b in store.get("p").blocks] == [("content", "alice"), ("related", "bob")]
    [old] = store.history("p")
    assert (old["label"], old["labelled_by"], old["replaced_by"], old["reviewed"]) == ("teaser", "alice", "bob", True)


def test_the_history_command_shows_who_replaced_which_label(tmp_path, capsys):
    """The store kept every replaced label, but only SQL could read it: a colleague's
    correction or a bootstrap over reviewed pages could not be checked or put back."""
    from train.store import main

    db = tmp_path / "s.db"
    store = ExampleStore(db)
    store.add([_ex("p", "headline\nmore news", [("headline", "content"), ("more news", "teaser")]),
               _ex("q", "other page", [("other page", "content")])], labelled_by="alice")
    store.add([_ex("p", "headline\nmore news", [("more news", "related")])], labelled_by="bob")
    store.add([_ex("q", "other page", [("other page", "junk")])], labelled_by="carol")
    assert main(["history", str(db), "p"]) == 0
    out, err = capsys.readouterr()
    [row] = map(json.loads, out.splitlines())
    assert (row["page_id"], row["text"], row["label"], row["labelled_by"], row["replaced_by"]) == (
        "p", "more news", "teaser", "alice", "bob")
    assert err == "1 replaced label\n"
    assert main(["history", str(db)]) == 0
    out, err = capsys.readouterr()
    assert [(r["page_id"], r["replaced_by"]) for r in map(json.loads, out.splitlines())] == [
        ("p", "bob"), ("q", "carol")]
    assert main(["history", str(db), "nope"]) == 2  # a mistyped id is not a page never corrected
    assert capsys.readouterr().err == f"no page 'nope' in {db}\n"
    store.add([_ex("r", "never corrected", [("never corrected", "content")])], labelled_by="alice")
    assert main(["history", str(db), "r"]) == 0 and capsys.readouterr().err == "0 replaced labels\n"
    assert ("r" in store, "nope" in store) == (True, False)


def test_unreviewed_labels_are_replaced_by_a_review(tmp_path):
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", "a line here", [("a line here", "junk")])], labelled_by="model:v1", reviewed=False)
    assert store.count()["unreviewed"] == 1 and [e.id for e in store.list(reviewed=False)] == ["p"]
    store.add([_ex("p", "a line here", [("a line here", "content")])], labelled_by="alice")
    assert store.count()["unreviewed"] == 0 and store.list(reviewed=False) == []
    assert store.get("p").blocks[0].label == "content"


def test_a_person_giving_a_proposals_own_label_makes_it_reviewed(tmp_path):
    """Confirming the model's label with its key (the labelling page's help: "its key also
    confirms the model's label") is a review: counted as unchanged, the block stayed
    unreviewed under "model:…", and reviewed-only training left it out. It is counted as
    confirmed, apart from the labels changed: a person who checked every label and
    corrected one was told they all changed."""
    store = ExampleStore(tmp_path / "s.db")
    text = "a line here\nanother line"
    store.add([_ex("p", text, [("a line here", "content"), ("another line", "junk")])],
              labelled_by="model:v1", reviewed=False)
    report = store.add([_ex("p", text, [("a line here", "content"), ("another line", "content")])],
                       labelled_by="dana")
    assert (report.labels_changed, report.labels_confirmed, report.labels_unchanged) == (1, 1, 0)
    assert "1 changed, 1 confirmed, 0 unchanged" in str(report)
    block = store.get("p").blocks[0]
    assert (block.label, block.reviewed, block.labelled_by) == ("content", True, "dana")
    assert store.count()["unreviewed"] == 0 and store.list(reviewed=False) == []


def test_pages_dedup_by_id_and_by_document(tmp_path):
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("a", "one\ntwo", [("one", "content")])], labelled_by="x")
    # same document under another id: merged into the stored page
    report = store.add([_ex("b", "one\ntwo", [("two", "junk")])], labelled_by="x")
    assert report.merged == {"b": "a"} and report.pages_added == 0
    # same id, document fetched again: updated in place, labels kept
    report = store.add([_ex("a", "one\ntwo\nthree", [("three", "junk")])], labelled_by="x")
    assert report.pages_updated == 1
    assert store.count()["pages"] == 1
    got = store.get("a")
    assert got.text == "one\ntwo\nthree" and [b.text for b in got.blocks] == ["one", "two", "three"]
    # the same block text twice on a page is two blocks (by occurrence), not one
    store.add([_ex("c", "x\nx", [("Share", "junk"), ("share", "junk")])], labelled_by="x")
    assert len(store.get("c").blocks) == 2


def test_another_page_under_a_stored_pages_id_is_refused_not_put_in_its_place(tmp_path, capsys):
    """Two labelling sessions' "page-1": the second page replaced the first's document and
    address, kept the first's gold text (the second page was scored against it, word F1 0.53
    for 1.00) and left the first's labels matching nothing, reported as "1 updated"."""
    first = {**example(1, 2), "id": "page-1", "gold": "Harbour walks reopen"}
    second = {**example(2, 3), "id": "page-1"}
    files = []
    for n, record in enumerate((first, second)):
        files.append(tmp_path / f"{n}.jsonl")
        files[-1].write_text(json.dumps(record) + "\n", encoding="utf-8")
    db = tmp_path / "s.db"
    from train.store import main
    assert main(["import", str(db), str(files[0])]) == 0
    capsys.readouterr()
    assert main(["import", str(db), str(files[1])]) == 0
    out, err = capsys.readouterr()
    assert "0 pages added, 0 updated" in out and "1 pages refused (their id holds another page)" in out
    assert (f"warning: page not stored: id 'page-1' holds another page ({first['url']}); give this "
            f"one ({second['url']}) an id of its own") in err
    kept = ExampleStore(db).get("page-1")
    assert (kept.url, kept.html, kept.gold) == (first["url"], first["html"], first["gold"])
    # the file holding it is a page the store does not hold, for an export over it
    refused = subprocess.run([sys.executable, "-m", "train.store", "export", str(db), "-o", str(files[1])],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "holds 1 page the store does not (such as 'page-1')" in refused.stderr
    # the same page fetched again (its address unchanged but for https, a slash or a fragment;
    # its document not) is still updated
    again = {**first, "html": first["html"].replace("</body>", "<p>Updated at noon.</p></body>"),
             "url": first["url"].replace("http://", "https://") + "/#top"}
    assert again["url"] != first["url"]
    report = ExampleStore(db).add([parse_example(again)[0]], labelled_by="x")
    assert (report.pages_updated, report.refused) == (1, {})


def test_import_export_round_trip_reports_problems(tmp_path):
    src = tmp_path / "in.jsonl"
    good = example(0, 0, as_text=True)
    src.write_text(json.dumps(good) + "\n{broken\n", encoding="utf-8")
    store = ExampleStore(tmp_path / "s.db")
    report, problems = store.import_jsonl([src])
    assert report.pages_added == 1 and [p.where for p in problems] == [f"{src}:2"]
    assert store.get("s0-p0").blocks[0].labelled_by == "import:in.jsonl"
    out = tmp_path / "out.jsonl"
    assert store.export_jsonl(out) == 1
    back = json.loads(out.read_text())
    assert [(b["text"], b["label"]) for b in back["blocks"]] == [(b["text"], b["label"]) for b in good["blocks"]]
    assert back["url"] == good["url"] and back["source"] == "test"
    ex, problems = parse_example(back)  # what is exported reads back as a valid example
    assert problems == [] and ex.blocks[0].reviewed is True


def test_exported_and_written_examples_hold_one_page_a_line_for_any_line_splitter(tmp_path):
    """A page's text with U+2028 or U+2029 in it (pasted from a word processor) or an id with
    U+0085 was written raw, as JSON allows: an editor or `str.splitlines` cut the page in two.
    They are escaped and read back the same, by this store and by plain `json`."""
    ex = _ex("a\x85b", "Bridge\u2029 reopens x\u2028y\nShare", [("Bridge\u2029 reopens x\u2028y", "content")])
    store = ExampleStore(tmp_path / "s.db")
    store.add([ex], labelled_by="alice")
    exported, written = tmp_path / "out.jsonl", tmp_path / "written.jsonl"
    assert store.export_jsonl(exported) == 1 and write_examples([ex], written) == 1
    for path in (exported, written):
        (line,) = path.read_text(encoding="utf-8").splitlines()
        back, problems = parse_example(json.loads(line))
        assert problems == [] and (back.id, back.text) == (ex.id, ex.text)
        assert back.blocks[0].text == ex.blocks[0].text


def test_reviewed_only_reading_and_files_win_over_store(tmp_path):
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", "a b c d\ne f g h", [("a b c d", "content")])], labelled_by="alice")
    store.add([_ex("p", "a b c d\ne f g h", [("e f g h", "junk")])], labelled_by="model", reviewed=False)
    store.add([_ex("q", "only unreviewed", [("only unreviewed", "junk")])], labelled_by="model", reviewed=False)
    assert [len(e.blocks) for e in store.iter_examples()] == [2, 1]
    assert [(e.id, len(e.blocks)) for e in store.iter_examples(reviewed_only=True)] == [("p", 1)]
    f = tmp_path / "f.jsonl"
    f.write_text(json.dumps({"id": "q", "text": "x y", "blocks": [{"text": "x y", "label": "content"}]}) + "\n")
    found = examples_from([f], tmp_path / "s.db", allowed_labels={"content"})
    assert sorted(e.id for e in found.examples) == ["p", "q"]
    messages = " | ".join(str(p) for p in found.problems)
    assert "'q' is also in the example files" in messages and "unknown label 'junk'" in messages


def test_reviewed_only_also_leaves_out_the_proposals_in_files(tmp_path):
    """The labelling page's export holds the model's proposals ("reviewed": false) beside what
    a person labelled; `--reviewed-only` trained on both when they came from a file."""
    f = tmp_path / "export.jsonl"
    f.write_text(json.dumps({"id": "p", "text": "a b c d\ne f g h", "blocks": [
        {"text": "a b c d", "label": "content"},
        {"text": "e f g h", "label": "junk", "reviewed": False, "labelled_by": "model:wcxb-5"}]}) + "\n"
        + json.dumps({"id": "q", "text": "x y", "blocks": [{"text": "x y", "label": "junk", "reviewed": False}]}) + "\n")
    found = examples_from([f], None, reviewed_only=True)
    assert [(e.id, [b.text for b in e.blocks]) for e in found.examples] == [("p", ["a b c d"])]
    assert "no reviewed label (--reviewed-only); page skipped" in str(found.problems[0])
    assert [len(e.blocks) for e in examples_from([f], None).examples] == [2, 1]


def test_not_a_store_is_refused(tmp_path):
    """Also a file shorter than a database's header: SQLite took one byte for an empty
    database, and the file became a store, its byte lost. An empty file becomes one."""
    bad = tmp_path / "bad.db"
    for data in (b"this is not sqlite at all" * 100, b"x", b"SQLite format"):
        bad.write_bytes(data)
        for read_only in (False, True):
            with pytest.raises(StoreError, match="file is not a database"):
                ExampleStore(bad, read_only=read_only)
        assert bad.read_bytes() == data
    bad.write_bytes(b"")
    assert ExampleStore(bad).count()["pages"] == 0
    # a FIFO is refused at once (reading its header waited for a writer, for ever)
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo)
    for read_only in (False, True):
        proc = subprocess.run([sys.executable, "-c", "import sys; from train.store import "
                               f"ExampleStore; ExampleStore(sys.argv[1], read_only={read_only})",
                               str(fifo)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1 and "StoreError" in proc.stderr, proc.stderr


def _writer(path: str, worker: int, pages: int, start) -> None:
    store = ExampleStore(path)
    start.wait()
    for i in range(pages):
        # each writer adds its own pages, and both label the shared page's blocks
        own = _ex(f"w{worker}-{i}", f"page {worker} {i}\nfooter", [(f"page {worker} {i}", "content"),
                                                                   ("footer", "junk")])
        shared = _ex("shared", "\n".join(f"line {k}" for k in range(2 * pages)),
                     [(f"line {2 * i + worker}", "content")])
        store.add([own, shared], labelled_by=f"writer{worker}")


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "s.db")
    pages = 60
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(path, w, pages, start)) for w in (0, 1)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = ExampleStore(path)
    counts = store.count()
    assert counts["pages"] == 2 * pages + 1
    assert counts["labels"] == 2 * pages * 2 + 2 * pages
    assert len(store.get("shared").blocks) == 2 * pages


def test_an_interrupted_export_leaves_the_earlier_file_whole(tmp_path, monkeypatch):
    """Ctrl-C during `store export -o FILE` replaced a complete earlier export of 23,008
    pages by 4,643 lines; the file is now written beside it and renamed once whole, with the
    earlier file's mode. A symbolic link keeps pointing where it did."""
    db = tmp_path / "s.db"
    store = ExampleStore(db)
    store.add([_ex(f"p{i}", f"page {i}", [(f"page {i}", "junk")]) for i in range(5)], labelled_by="a")
    out = tmp_path / "out.jsonl"
    assert store.export_jsonl(out) == 5
    out.chmod(0o640)
    earlier = out.read_bytes()
    pages = iter(store.iter_examples())

    def interrupted(**kwargs):
        yield next(pages)
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "iter_examples", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.export_jsonl(out)
    assert out.read_bytes() == earlier
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".part")]
    monkeypatch.undo()
    store.add([_ex("p5", "page 5", [("page 5", "junk")])], labelled_by="a")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(out)
    assert store.export_jsonl(link) == 6
    assert link.is_symlink() and len(out.read_text().splitlines()) == 6
    assert oct(out.stat().st_mode & 0o777) == "0o640"
    # a link to a file not made yet makes the file, and stays a link
    (tmp_path / "exports").mkdir()
    ahead = tmp_path / "current.jsonl"
    ahead.symlink_to(tmp_path / "exports" / "new.jsonl")
    assert store.export_jsonl(ahead) == 6
    assert ahead.is_symlink() and len((tmp_path / "exports" / "new.jsonl").read_text().splitlines()) == 6
    # a file this user may not write stays as it is (renaming onto it needs only the folder)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == os.fspath(out)
                        else real_access(p, mode, **kw))
    with pytest.raises(PermissionError):
        store.export_jsonl(out)
    assert len(out.read_text().splitlines()) == 6


def test_store_without_an_action_names_the_actions(capsys):
    """It said "the following arguments are required: store_command", a name of the code."""
    from filter.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["store"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "store_command" not in err
    assert err.endswith("error: the following arguments are required: "
                        "{import,export,count,history}\n")


def test_command_line_import_count_export(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(example(1, 2, as_text=True)) + "\n", encoding="utf-8")
    db, out = tmp_path / "s.db", tmp_path / "out.jsonl"
    run = lambda *a: subprocess.run([sys.executable, "-m", "train.store", *a],  # noqa: E731
                                    capture_output=True, text=True, check=True).stdout
    assert "1 pages added" in run("import", str(db), str(src), "--unreviewed")
    counts = json.loads(run("count", str(db)))
    assert counts["pages"] == 1 and counts["unreviewed"] == counts["labels"] > 0
    assert "1 pages written" in run("export", str(db), "-o", str(out))
    assert json.loads(out.read_text())["id"] == "s1-p2"
    # "-" is standard output (as for `noisefilter batch -o -`), the summary then on stderr
    done = subprocess.run([sys.executable, "-m", "train.store", "export", str(db), "-o", "-"],
                          capture_output=True, text=True, check=True, cwd=tmp_path)
    assert json.loads(done.stdout)["id"] == "s1-p2" and "1 pages written" in done.stderr
    assert not (tmp_path / "-").exists()
    # appended to (`>> FILE`), as its own stream: /dev/stdout opened again emptied the file
    both = tmp_path / "both.jsonl"
    both.write_text('{"id": "earlier"}\n', encoding="utf-8")
    with open(both, "ab") as fh:
        subprocess.run([sys.executable, "-m", "train.store", "export", str(db), "-o", "-"],
                       stdout=fh, check=True)
    assert [json.loads(line)["id"] for line in both.read_text().splitlines()] == ["earlier", "s1-p2"]
    # a standard output that cannot be written is one line, as a file that cannot be
    with open("/dev/full", "wb") as full:
        failed = subprocess.run([sys.executable, "-m", "train.store", "export", str(db), "-o", "-"],
                                stdout=full, stderr=subprocess.PIPE, text=True)
    assert (failed.returncode, failed.stderr) == (1, "cannot write standard output: No space left on device\n")
    # from Python: any path-like, or a binary stream; a text stream is refused before writing
    store = ExampleStore(db, read_only=True)

    class Where:
        def __fspath__(self):
            return str(tmp_path / "pathlike.jsonl")

    assert store.export_jsonl(Where()) == 1 and (tmp_path / "pathlike.jsonl").read_text().count("\n") == 1
    with pytest.raises(TypeError, match="binary stream"):
        store.export_jsonl(io.StringIO())


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zst"])
def test_an_export_or_examples_file_with_a_compressed_name_is_compressed(tmp_path, suffix):
    """`store export -o all.jsonl.gz` and `bootstrap --out b.jsonl.gz` wrote plain JSON Lines
    under a compressed name: noisefilter read it back, `zcat` and the like refused it. Written
    compressed, it is exported over again as a plain export is (a check for binary data took
    the compressed bytes for a model), and a compressed file of something else is refused."""
    import gzip

    from filter.compression import decompressed
    from train.cli import holds_binary_data
    from train.examples import read_examples, write_examples

    src, db = tmp_path / "pages.jsonl", tmp_path / "s.db"
    src.write_text(json.dumps(example(1, 2, as_text=True)) + "\n", encoding="utf-8")
    run = lambda *a: subprocess.run([sys.executable, "-m", "train.store", *a],  # noqa: E731
                                    capture_output=True, text=True)
    assert run("import", str(db), str(src)).returncode == 0
    plain, packed = tmp_path / "all.jsonl", tmp_path / f"all.jsonl{suffix}"
    for out in (plain, packed, packed):  # the second time over its own export
        done = run("export", str(db), "-o", str(out))
        assert done.returncode == 0, done.stderr
    with open(packed, "rb") as fh, decompressed(fh) as data:
        assert fh.peek(4)[:1] != b"{" and data.read() == plain.read_bytes()
    written = tmp_path / f"b.jsonl{suffix}"
    assert write_examples(read_examples([src]).examples, written) == 1
    assert [e.id for e in read_examples([written]).examples] == ["s1-p2"]
    assert not holds_binary_data(written)
    if suffix == ".gz":  # the same examples, the same bytes; a model compressed is still binary
        again = tmp_path / "again.jsonl.gz"
        write_examples(read_examples([src]).examples, again)
        assert again.read_bytes() == written.read_bytes()
        model = tmp_path / "model.gz"
        model.write_bytes(gzip.compress(b"\x80\x04binary\x00pickle"))
        assert holds_binary_data(model)
        refused = run("export", str(db), "-o", str(model))
        assert refused.returncode == 2 and "holds binary data" in refused.stderr


def test_export_over_a_file_of_pages_the_store_lacks_is_refused(tmp_path):
    """`store export -o holdout.jsonl` (a tab-completed name) replaced a file of hand labels
    the store never held; an export over the last export, or over the file that was imported,
    loses nothing and is the normal refresh."""
    src, db = tmp_path / "pages.jsonl", tmp_path / "s.db"
    src.write_text(json.dumps(example(1, 2, as_text=True)) + "\n", encoding="utf-8")
    held = tmp_path / "holdout.jsonl"
    held.write_text(json.dumps(example(7, 1, as_text=True)) + "\n", encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("what to label next\n", encoding="utf-8")
    run = lambda *a: subprocess.run([sys.executable, "-m", "train.store", *a],  # noqa: E731
                                    capture_output=True, text=True)
    assert run("import", str(db), str(src)).returncode == 0
    before = held.read_bytes(), notes.read_bytes()
    refused = run("export", str(db), "-o", str(held))
    assert (refused.returncode, refused.stderr) == (2, f"{held} holds 1 page the store does not (such as "
                                                       "'s7-p1'); name a new file, or give --overwrite to "
                                                       "replace it\n")
    refused = run("export", str(db), "-o", str(notes))
    assert refused.returncode == 2 and "holds text that is no labelled examples" in refused.stderr
    assert (held.read_bytes(), notes.read_bytes()) == before
    for out in (src, src, tmp_path / "new.jsonl"):  # over what was imported, then over the export
        assert "1 pages written" in run("export", str(db), "-o", str(out)).stdout
    # a file whose page was merged into the stored page of the same document (another id) was
    # imported too; a line that is no example among good ones would be lost
    again = tmp_path / "again.jsonl"
    again.write_text(json.dumps({**example(1, 2, as_text=True), "id": "renamed"}) + "\n", encoding="utf-8")
    assert "merged" in run("import", str(db), str(again)).stdout
    assert "1 pages written" in run("export", str(db), "-o", str(again)).stdout
    again.write_text(src.read_text() + "{not json\n", encoding="utf-8")
    refused = run("export", str(db), "-o", str(again))
    assert refused.returncode == 2 and "holds text that is no labelled examples" in refused.stderr
    assert "1 pages written" in run("export", str(db), "-o", str(held), "--overwrite").stdout
    assert json.loads(held.read_text())["id"] == "s1-p2"


def test_lone_surrogates_are_stored_as_the_library_reads_them(tmp_path):
    """A JSON "\\udc80" escape (what `json.dumps` writes for text read with `surrogateescape`)
    becomes U+FFFD, as in `clean`, instead of failing the SQLite write."""
    line = '{"id": "s\\udc80", "text": "Bridge \\udc80 reopens\\nShare", ' \
           '"blocks": [{"text": "Bridge \\udc80 reopens", "label": "content"}]}'
    example, problems = parse_example(json.loads(line))
    assert problems == []
    store = ExampleStore(tmp_path / "s.db")
    assert store.add([example], labelled_by="alice").labels_added == 1
    got = store.get("s\ufffd")
    assert got.text == "Bridge \ufffd reopens\nShare" and got.blocks[0].text == "Bridge \ufffd reopens"


def test_pages_are_listed_in_the_order_they_were_added(tmp_path):
    """`added_at` has one-second resolution: pages added within a second must not come out
    sorted by id (the labelling page and `export` show them as they were added)."""
    store = ExampleStore(tmp_path / "s.db")
    for ident in ("zulu", "mike"):
        store.add([_ex(ident, f"{ident} page", [(f"{ident} page", "content")])], labelled_by="x")
    store.add([_ex(i, f"{i} page", [(f"{i} page", "content")]) for i in ("kilo", "alpha")], labelled_by="x")
    order = ["zulu", "mike", "kilo", "alpha"]
    assert [e.id for e in store.list()] == order
    assert [e.id for e in store.list(limit=2, offset=1)] == order[1:3]
    assert [e.id for e in store.iter_examples()] == order
    store.export_jsonl(tmp_path / "out.jsonl")
    assert [json.loads(x)["id"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == order


def test_import_of_a_file_with_a_line_not_in_utf8_reports_it(tmp_path, capsys):
    from train.store import main

    src = tmp_path / "in.jsonl"
    latin = b'{"id": "a", "text": "caf\x92 society", "blocks": [{"text": "caf society", "label": "content"}]}'
    src.write_bytes(latin + b"\n" + json.dumps(example(1, 2, as_text=True)).encode() + b"\n")
    assert main(["import", str(tmp_path / "s.db"), str(src)]) == 0
    captured = capsys.readouterr()
    assert f"warning: {src}:1: not UTF-8" in captured.err and "1 pages added" in captured.out
    assert [e.id for e in ExampleStore(tmp_path / "s.db").list()] == ["s1-p2"]


def _edit_label(path: Path, page: str, label: str) -> str:
    """Change the label of `page`'s first block labelled otherwise in the exported file
    `path`, as a person in an editor does: the label alone, its provenance left as exported."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        record = json.loads(line)
        if record["id"] == page:
            block = next(b for b in record["blocks"] if b["label"] != label)
            block["label"] = label
            lines[i] = json.dumps(record)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return block["text"]
    raise AssertionError(page)


def test_a_label_corrected_in_an_export_is_not_exported_over(tmp_path):
    """Export, correct a label in the file, export again (to refresh it): the second export
    replaced the correction with the store's label, exit 0, as its pages were all stored."""
    db, out = tmp_path / "s.db", tmp_path / "all.jsonl"
    store = ExampleStore(db)
    store.add([parse_example(example(1, 2, as_text=True))[0]], labelled_by="model:m1", reviewed=False)
    run = lambda *a: subprocess.run([sys.executable, "-m", "train.store", *a],  # noqa: E731
                                    capture_output=True, text=True)
    assert "1 pages written" in run("export", str(db), "-o", str(out)).stdout
    _edit_label(out, "s1-p2", "teaser")
    before = out.read_bytes()
    refused = run("export", str(db), "-o", str(out))
    assert (refused.returncode, refused.stderr) == (
        2, f"{out} holds 1 label the store does not (corrected or marked reviewed in the file? "
           "`store import` it first); name a new file, or give --overwrite to replace it\n")
    assert out.read_bytes() == before
    assert run("import", str(db), str(out)).returncode == 0
    assert "1 pages written" in run("export", str(db), "-o", str(out)).stdout  # held now
    # a file exported before the store changed holds labels the store held then: no refusal
    store.add([parse_example(example(1, 2, as_text=True))[0]], labelled_by="model:m2", reviewed=False)
    assert "1 pages written" in run("export", str(db), "-o", str(out)).stdout
    # a colleague's proposals the store kept out (a reviewed label stands) were imported: the
    # file is no correction waiting for an import, which would keep them out again
    theirs = tmp_path / "colleague.jsonl"
    record = json.loads(out.read_text().splitlines()[0])
    text = record["blocks"][0]["text"]
    store.add([Example(id="s1-p2", text=record["text"], blocks=[BlockLabel(text, "teaser")])], labelled_by="ann")
    colleague = {**record, "blocks": [{"text": text, "label": "junk", "reviewed": False}]}
    theirs.write_text(json.dumps(colleague) + "\n", encoding="utf-8")
    assert "1 kept" in run("import", str(db), str(theirs)).stdout
    assert "1 pages written" in run("export", str(db), "-o", str(theirs)).stdout


def test_labels_reviewed_in_an_export_are_not_exported_over_until_imported(tmp_path):
    """The guide's review of an export: correct a label, or leave it, and mark it
    `"reviewed": true`. Exporting over the file before importing it replaced those review
    marks without a word (the labels were the store's); after importing it, exporting over it
    was refused for the corrected labels, the store holding them as the importer's rather than
    with the provenance the file still states, and importing again did not help."""
    db, out = tmp_path / "s.db", tmp_path / "all.jsonl"
    store = ExampleStore(db)
    store.add([parse_example(example(1, 2, as_text=True))[0], parse_example(example(2, 3, as_text=True))[0]],
              labelled_by="model:m1", reviewed=False)
    run = lambda *a: subprocess.run([sys.executable, "-m", "train.store", *a],  # noqa: E731
                                    capture_output=True, text=True)
    assert "2 pages written" in run("export", str(db), "-o", str(out)).stdout
    records = [json.loads(line) for line in out.read_text().splitlines()]
    for block in records[1]["blocks"]:
        block["reviewed"] = True  # every label of the second page checked, none changed
    out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    before = out.read_bytes()
    refused = run("export", str(db), "-o", str(out))
    assert refused.returncode == 2 and "the store does not" in refused.stderr, refused
    assert out.read_bytes() == before
    _edit_label(out, "s1-p2", "teaser")  # and a label of the first corrected, marked reviewed
    records = [json.loads(line) for line in out.read_text().splitlines()]
    for block in records[0]["blocks"]:
        block["reviewed"] = True
    out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert run("import", str(db), str(out), "--labelled-by", "bob").returncode == 0
    assert store.count()["unreviewed"] == 0
    assert "2 pages written" in run("export", str(db), "-o", str(out)).stdout, "held now"
    # a label that does not say whether it was reviewed is taken as reviewed on import: one the
    # store holds as a proposal, given in a file by someone else, is not held
    store.add([parse_example(example(3, 4, as_text=True))[0]], labelled_by="model:m1",
              reviewed=False)
    page = json.loads(json.dumps(example(3, 4, as_text=True)))
    for block in page["blocks"]:
        block.pop("reviewed", None)
        block.update(labelled_by="carol", labelled_at="2026-12-07T09:00:00+00:00")
    [stated] = parse_example(page)[:1]
    assert all(b.reviewed is None for b in stated.blocks)
    assert store.unheld([stated]) == ([], len(stated.blocks))


def test_a_label_corrected_in_an_export_is_stored_as_the_importers_reviewed_label(tmp_path):
    """A label changed in an exported file keeps the provenance it was exported with, the
    model's and unreviewed: imported so, the correction was credited to the model, left out
    by --reviewed-only and replaced by the next bootstrap's proposal."""
    store = ExampleStore(tmp_path / "s.db")
    page = example(1, 2, as_text=True)
    store.add([parse_example(page)[0]], labelled_by="model:m1", labelled_at="2026-12-01T10:00:00+00:00",
              reviewed=False)
    out = tmp_path / "all.jsonl"
    store.export_jsonl(out)
    store.add([parse_example(page)[0]], labelled_by="model:m2", reviewed=False)  # since: m2's
    text = _edit_label(out, "s1-p2", "teaser")  # in the export of m1's proposals
    report, problems = store.import_jsonl([out], labelled_by="erin")
    assert not problems and report.labels_changed == 1
    corrected = next(b for b in store.get("s1-p2").blocks if b.text == text)
    assert (corrected.label, corrected.labelled_by, corrected.reviewed) == ("teaser", "erin", True)
    assert corrected.labelled_at > "2026-12-01T10:00:00+00:00"
    store.add([parse_example(page)[0]], labelled_by="model:m3", reviewed=False)  # bootstrap again
    assert next(b for b in store.get("s1-p2").blocks if b.text == text).label == "teaser"
    assert text in {b.text for b in next(store.iter_examples(reviewed_only=True)).blocks}
    # the other labels, as exported, are no correction: still the proposals they were
    assert sum(b.reviewed for b in store.get("s1-p2").blocks) == 1


def test_a_models_proposal_does_not_replace_a_label_aligned_with_gold_text(tmp_path):
    """The labelling page saves its model's proposal for every block a person leaves alone;
    where it could not look up the stored labels first, those replaced bootstrap's labels, read
    from a person's gold text (11 blocks of furniture became content on one WCXB page)."""
    store = ExampleStore(tmp_path / "s.db")
    text = "Harbour walks reopen\nSign up for our newsletter"
    boot = Example(id="p", text=text, blocks=[BlockLabel("Harbour walks reopen", "content", labelled_by="align:ds"),
                                               BlockLabel("Sign up for our newsletter", "junk", labelled_by="model:m1")])
    store.add([boot], labelled_by="bootstrap:ds", reviewed=False)
    guess = _ex("p", text, [("Harbour walks reopen", "junk"), ("Sign up for our newsletter", "teaser")],
                labelled_by="model:m2")
    report = store.add([guess], labelled_by="page", reviewed=False)
    assert (report.labels_kept, report.labels_changed) == (1, 1)  # a model's over a model's: newer
    assert [(b.label, b.labelled_by) for b in store.get("p").blocks] == [("content", "align:ds"),
                                                                          ("teaser", "model:m2")]
    # a bootstrap run again (its gold text corrected) aligns anew: its proposals replace
    again = Example(id="p", text=text, source="bootstrap:ds", blocks=[
        BlockLabel("Harbour walks reopen", "junk", labelled_by="model:m1"),
        BlockLabel("Sign up for our newsletter", "junk", labelled_by="model:m1")])
    assert store.add([again], labelled_by="bootstrap:ds", reviewed=False).labels_changed == 2
    assert store.get("p").blocks[0].labelled_by == "model:m1"
    # a person's label replaces it as before
    assert store.add([_ex("p", text, [("Harbour walks reopen", "content")])], labelled_by="ann").labels_changed == 1
    assert store.get("p").blocks[0].labelled_by == "ann"


def test_an_old_export_of_a_repeated_text_imported_unchanged_is_no_correction(tmp_path):
    """A text shown twice, given two labels by one model's run: each copy's exported label
    matched the other copy's history, and an unchanged old export came back as the importer's
    reviewed corrections, which no bootstrap could replace."""
    store = ExampleStore(tmp_path / "s.db")
    text = "Read more\nHarbour walks reopen\nRead more"
    labels = [("Read more", "teaser"), ("Harbour walks reopen", "content"), ("Read more", "related")]
    store.add([_ex("p", text, labels)], labelled_by="model:m1", labelled_at="2026-12-01T10:00:00+00:00",
              reviewed=False)
    out = tmp_path / "old.jsonl"
    store.export_jsonl(out)
    store.add([_ex("p", text, [(t, "junk" if t == "Read more" else lab) for t, lab in labels])],
              labelled_by="model:m2", reviewed=False)
    store.import_jsonl([out])
    assert [(b.label, b.labelled_by, b.reviewed) for b in store.get("p").blocks if b.text == "Read more"] == [
        ("teaser", "model:m1", False), ("related", "model:m1", False)]


def test_a_label_sent_back_from_before_a_correction_does_not_undo_it(tmp_path):
    """Two labelling tabs open on one page: Bob corrects a block in one, Carol saves the other,
    which still holds Alice's label as loaded. Sent back with the time Alice gave it, it is
    older than Bob's correction and must not replace it (nor be credited to Alice again)."""
    store = ExampleStore(tmp_path / "s.db")
    text = "headline\nsign up today"
    store.add([_ex("p", text, [("headline", "content"), ("sign up today", "junk")])],
              labelled_by="alice", labelled_at="2026-12-01T10:00:00+00:00")
    loaded = {b.text: b for b in store.get("p").blocks}
    store.add([_ex("p", text, [("sign up today", "teaser")])], labelled_by="bob",
              labelled_at="2026-12-01T10:05:00+00:00")
    stale = Example(id="p", text=text, blocks=[
        BlockLabel("headline", "related"),  # what Carol changed: given now
        BlockLabel("sign up today", "junk", labelled_by=loaded["sign up today"].labelled_by,
                   labelled_at=loaded["sign up today"].labelled_at),
    ])
    report = store.add([stale], labelled_by="carol")
    assert (report.labels_changed, report.labels_kept) == (1, 1)
    assert [(b.label, b.labelled_by) for b in store.get("p").blocks] == [("related", "carol"), ("teaser", "bob")]
    # a label edited in an exported file keeps the time of the label it was exported from: it
    # is no older than the stored one, so it applies
    edited = _ex("p", text, [("sign up today", "junk")], labelled_at="2026-12-01T10:05:00Z")
    assert store.add([edited], labelled_by="dave").labels_changed == 1


def test_a_block_labelled_with_and_without_a_soft_hyphen_is_one_block(tmp_path):
    """Pages hold soft hyphens that text copied from a browser loses; labels are matched to
    blocks without them, and the store keyed them with them: two rows, two labels, and the
    block was left out of training."""
    store = ExampleStore(tmp_path / "s.db")
    text = "headline\nSign up for our news\u00adletter today"
    store.add([_ex("p", text, [("headline", "content"), ("Sign up for our newsletter today", "junk")])],
              labelled_by="alice")
    report = store.add([_ex("p", text, [("headline", "content"), ("Sign up for our news\u00adletter today", "teaser")])],
                       labelled_by="bob")
    assert (report.labels_added, report.labels_changed, report.labels_unchanged) == (0, 1, 1)
    assert [b.label for b in store.get("p").blocks] == ["content", "teaser"]


def test_a_store_of_schema_1_is_rekeyed_without_losing_a_label(tmp_path):
    """Stores written before block keys ignored format characters: their rows are re-keyed on
    opening, the two rows of one block both kept, and the next save of the block settles it."""
    from filter.blocks import text_hash
    path = tmp_path / "old.db"
    store = ExampleStore(path)
    text = "headline\nSign up for our news\u00adletter today"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
        conn.execute("INSERT INTO pages VALUES ('p', NULL, NULL, ?, NULL, NULL, 'x', 't', 't')", (text,))
        rows = [("headline", "content", 0), ("Sign up for our newsletter today", "junk", 1),
                ("Sign up for our news\u00adletter today", "teaser", 2)]
        for block, label, position in rows:
            conn.execute("INSERT INTO labels VALUES ('p', ?, 0, ?, ?, ?, NULL, 'alice', 't', 1)",
                         (text_hash(block), position, block, label))
    store = ExampleStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == str(SCHEMA_VERSION)
        keys = conn.execute("SELECT block, occurrence, label FROM labels ORDER BY position").fetchall()
    assert [k[2] for k in keys] == ["content", "junk", "teaser"]
    assert keys[1][0] == keys[2][0] and (keys[1][1], keys[2][1]) == (0, 1)
    report = store.add([_ex("p", text, [("headline", "content"), ("Sign up for our news\u00adletter today", "teaser")])],
                       labelled_by="bob")
    assert (report.labels_added, report.labels_changed) == (0, 1)
    assert [b.label for b in store.get("p").blocks][:2] == ["content", "teaser"]


LOGIN_PAGE = ("Harbour Post\nLog in\nQuay lights switched on for the winter\n"
              "The harbour office switched on the new quay lights on Friday evening, two weeks "
              "early.\nLogin\n")


def _labels(store: ExampleStore, page_id: str) -> dict[str, str]:
    return {b.text: b.label for b in store.get(page_id).blocks}


def test_texts_apart_only_by_white_space_keep_their_own_labels_through_a_save(tmp_path):
    """"Log in" and "Login" were one key (white space left out), two occurrences numbered in
    the order a file gave them; the labelling page's save of the same labels, in page order,
    swapped them: each text held the other's label, reviewed, and training learnt it so."""
    from train.examples import label_page

    store = ExampleStore(tmp_path / "s.db")
    stamp = "2026-05-01T10:00:00+00:00"
    store.add([_ex("p", LOGIN_PAGE, [("Login", "related"), ("Log in", "junk"),
                                     ("Quay lights switched on for the winter", "content")])],
              labelled_by="alice", labelled_at=stamp)
    want = {"Login": "related", "Log in": "junk", "Quay lights switched on for the winter": "content"}
    assert _labels(store, "p") == want
    stored = {b.text: b for b in store.get("p").blocks}
    back = [BlockLabel(t, stored[t].label, labelled_by="alice", labelled_at=stamp, reviewed=True)
            for t in ("Log in", "Quay lights switched on for the winter", "Login")]
    report = store.add([Example(id="p", text=LOGIN_PAGE, blocks=back)], labelled_by="api")
    assert (report.labels_changed, report.labels_added) == (0, 0)
    assert _labels(store, "p") == want
    page, _ = label_page(store.get("p"))
    assert {b.text: label for b, label in zip(page.page.blocks, page.labels)
            if b.text in want} == want
    # a person labels the header's "Sign up"; the footer's "Signup" keeps its own label
    store.add([_ex("q", "Sign up\nA long enough line of article text here.\nSignup",
                   [("Signup", "related")])], labelled_by="alice")
    store.add([_ex("q", "Sign up\nA long enough line of article text here.\nSignup",
                   [("Sign up", "junk")])], labelled_by="bob")
    assert _labels(store, "q") == {"Signup": "related", "Sign up": "junk"}


def test_a_store_of_schema_2_parts_texts_apart_only_by_white_space(tmp_path):
    """A schema 2 store holds "Login" and "Log in" as occurrences 0 and 1 of one key: opening
    it gives each text its own key, its label kept."""
    from filter.blocks import text_hash

    path = tmp_path / "old.db"
    store = ExampleStore(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
        conn.execute("INSERT INTO pages VALUES ('p', NULL, NULL, ?, NULL, NULL, 'x', 't', 't')",
                     (LOGIN_PAGE,))
        for occurrence, (block, label) in enumerate([("Login", "related"), ("Log in", "junk")]):
            conn.execute("INSERT INTO labels VALUES ('p', ?, ?, ?, ?, ?, NULL, 'alice', 't', 1)",
                         (text_hash(block), occurrence, occurrence, block, label))
    store = ExampleStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "3"
        assert conn.execute("SELECT occurrence FROM labels ORDER BY position").fetchall() == [
            (0,), (0,)]
    store.add([_ex("p", LOGIN_PAGE, [("Log in", "junk"), ("Login", "related")])],
              labelled_by="alice")
    assert _labels(store, "p") == {"Login": "related", "Log in": "junk"}


def test_a_text_labelled_twice_by_mistake_is_settled_by_the_next_save_that_gives_it_once(tmp_path):
    """A file gave one block two labels (or a page fetched again shows twice-given text once):
    the stored pair disagreed for good, the block left out of training, whatever a corrected
    import or the labelling page saved. The save that gives the text once settles it; the
    label it removes goes to the history; a person's label is not removed by a proposal."""
    from train.examples import label_page

    text = "Harbour regatta returns\nSign up for our newsletter"
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", text, [("Harbour regatta returns", "content"), ("Sign up for our newsletter", "junk"),
                               ("Sign up for our newsletter", "teaser")])], labelled_by="import:mistake.jsonl")
    assert "given different labels" in str(label_page(store.get("p"))[1])
    # a proposal (the labelling page's unreviewed save) does not remove a person's label
    report = store.add([_ex("p", text, [("Harbour regatta returns", "content"),
                                        ("Sign up for our newsletter", "related")], reviewed=False)],
                       labelled_by="model")
    assert report.labels_changed == 0 and len(store.get("p").blocks) == 3
    report = store.add([_ex("p", text, [("Harbour regatta returns", "content"),
                                        ("Sign up for our newsletter", "junk")])], labelled_by="alice")
    assert (report.labels_changed, report.labels_unchanged) == (1, 2)
    assert [(b.text, b.label) for b in store.get("p").blocks] == [
        ("Harbour regatta returns", "content"), ("Sign up for our newsletter", "junk")]
    assert label_page(store.get("p"))[1] == []
    [removed] = store.history("p")
    assert (removed["label"], removed["occurrence"], removed["replaced_by"]) == ("teaser", 1, "alice")
    # a page that shows a text twice keeps its second copy's label when a save names it once
    twice = "Storm hits the coast\nThe storm reached the coast at dawn.\nStorm hits the coast"
    store.add([_ex("q", twice, [("Storm hits the coast", "content"),
                                ("The storm reached the coast at dawn.", "content"),
                                ("Storm hits the coast", "related")])], labelled_by="alice")
    report = store.add([_ex("q", twice, [("Storm hits the coast", "content")])], labelled_by="bob")
    assert (report.labels_changed, report.labels_unchanged) == (0, 1)
    assert [b.label for b in store.get("q").blocks] == ["content", "content", "related"]
    assert store.history("q") == []


def test_another_applications_database_is_refused_and_left_as_it_was(tmp_path):
    """A browser's history given as the store: refused, not given a store's tables, a schema
    row in its own `meta` table and WAL mode; read, one line instead of a TypeError."""
    other = tmp_path / "History"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE meta (key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)")
        conn.execute("INSERT INTO meta VALUES ('version', '46')")
        conn.execute("CREATE TABLE urls (id INTEGER PRIMARY KEY, url LONGVARCHAR)")
    conn.close()
    before = other.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="not an example store .*urls"):
            ExampleStore(other, read_only=read_only)
    assert other.read_bytes() == before
    # a `meta` table of a store's shape that names no schema: not a store either
    bare = tmp_path / "bare.db"
    with sqlite3.connect(bare) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.close()
    with pytest.raises(StoreError, match="names no schema version"):
        ExampleStore(bare, read_only=True)
    # a store given a table of the user's own (a full-text index of its labels) is a store
    mine = tmp_path / "mine.db"
    ExampleStore(mine).add([_ex("p", "a b c d", [("a b c d", "content")])], labelled_by="alice")
    with sqlite3.connect(mine) as conn:
        conn.execute("CREATE TABLE label_notes (page_id TEXT, note TEXT)")
    conn.close()
    for read_only in (False, True):
        assert ExampleStore(mine, read_only=read_only).count()["labels"] == 1


def test_a_store_damaged_past_its_first_pages_is_one_line_and_its_export_keeps_what_was_read(tmp_path, capsys):
    """A page of the file overwritten (a disk fault): `export` and training said so in a
    traceback; the export's lines before the damage are kept, and counted."""
    from train.store import main

    db = tmp_path / "s.db"
    store = ExampleStore(db)
    store.add([_ex(f"p{i:03}", f"title {i}\n" + "body words " * 400, [(f"title {i}", "content")])
               for i in range(300)], labelled_by="alice")
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    # the last file page holding labels (their labelled_by), its header scribbled over
    page = db.read_bytes().rindex(b"alice") // 4096 * 4096
    with open(db, "r+b") as fh:
        fh.seek(page)
        fh.write(b"\xa5" * 64)
    out = tmp_path / "out.jsonl"
    assert main(["export", str(db), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    written = len(out.read_text(encoding="utf-8").splitlines())
    assert 0 < written < 300
    assert err == (f"{db} is not a usable example store: database disk image is malformed; the "
                   f"{written} pages read before it are in {out}\n")
    with pytest.raises(StoreError, match="malformed"):
        examples_from([], db)


def test_a_corrected_address_of_a_stored_page_is_kept(tmp_path):
    """The same document saved again with its address corrected: the address groups pages by
    site in training and gives the URL features, so the correction must not be dropped."""
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", "headline", [("headline", "content")], )], labelled_by="alice")
    first = Example(id="p", text="headline", url="https://wrong.example/typo", blocks=[BlockLabel("headline", "content")])
    store.add([first], labelled_by="alice")
    fixed = Example(id="p", text="headline", url="https://news.example/2026/story", blocks=[BlockLabel("headline", "content")])
    store.add([fixed], labelled_by="alice")
    assert store.get("p").url == "https://news.example/2026/story"


def test_reviewed_only_reports_the_store_pages_it_leaves_out(tmp_path):
    """Files reported each page with no reviewed label; the store's were dropped silently."""
    store = ExampleStore(tmp_path / "s.db")
    store.add([_ex("p", "a b c d", [("a b c d", "content")])], labelled_by="alice")
    store.add([_ex(f"q{i}", f"proposal {i}", [(f"proposal {i}", "junk")]) for i in range(3)],
              labelled_by="model:v1", reviewed=False)
    found = examples_from([], tmp_path / "s.db", reviewed_only=True)
    assert [e.id for e in found.examples] == ["p"]
    assert [str(p) for p in found.problems] == [
        f"{tmp_path / 's.db'}: 3 of its 4 pages have no reviewed label (--reviewed-only), e.g. 'q0'; "
        "pages skipped"]
    assert found.problems[0].loses_page


def test_command_line_on_a_file_that_is_not_a_store_is_one_line(tmp_path, capsys):
    from train.store import main

    bad = tmp_path / "notes.txt"
    bad.write_text("not a database\n" * 200)
    for args in (["count", str(bad)], ["export", str(bad), "-o", str(tmp_path / "out.jsonl")]):
        assert main(args) == 2
        assert capsys.readouterr().err == f"{bad} is not a usable example store: file is not a database\n"
    # a store whose folder cannot be made (a file on its path): one line too, nothing made
    examples = tmp_path / "examples.jsonl"
    examples.write_text(json.dumps({"id": "q", "text": "x y",
                                    "blocks": [{"text": "x y", "label": "content"}]}) + "\n")
    assert main(["import", str(bad / "s.db"), str(examples)]) == 2
    assert capsys.readouterr().err == (f"{bad / 's.db'} cannot be created: its folder cannot be "
                                       f"made (File exists: {bad})\n")
    # and a store given where JSON Lines files go is named as one, not read line by line
    other = tmp_path / "other.db"
    ExampleStore(other)
    assert main(["import", str(tmp_path / "s.db"), str(other)]) == 2
    assert capsys.readouterr().err == (f"{other} is an example store, not a JSON Lines file: export "
                                       f"it first (noisefilter store export {other} -o FILE)\n")
    assert not (tmp_path / "s.db").exists()


def test_command_line_refuses_what_would_lose_the_store_or_half_an_import(tmp_path, capsys):
    """`export DB -o DB` emptied the store (every page lost, then a traceback); an import whose
    second file was missing or a folder committed the first and ended in a traceback; an export
    into a folder that does not exist was a traceback too."""
    from train.store import main

    db = tmp_path / "s.db"
    ExampleStore(db).add([_ex("p", "a b c d", [("a b c d", "content")])], labelled_by="alice")
    before = db.read_bytes()
    other = tmp_path / "other.db"
    ExampleStore(other)
    for out in (db, other):
        assert main(["export", str(db), "-o", str(out)]) == 2
        assert capsys.readouterr().err == f"{out} is an example store; export to a JSON Lines file\n"
    assert db.read_bytes() == before
    assert main(["export", str(db), "-o", str(tmp_path / "no" / "x.jsonl")]) == 2
    assert capsys.readouterr().err.startswith(f"cannot write {tmp_path / 'no' / 'x.jsonl'}: ")
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(example(1, 2, as_text=True)) + "\n")
    for missing in (tmp_path / "missing.jsonl", tmp_path):
        assert main(["import", str(db), str(good), str(missing)]) == 2
        assert capsys.readouterr().err == f"example file(s) not found: {missing}\n"
    assert [e.id for e in ExampleStore(db).list()] == ["p"]
    # a pipe is a file to read all the same (the check above first called it "not found")
    proc = subprocess.run([sys.executable, "-m", "train.store", "import", str(db), "/dev/stdin"],
                          input=good.read_text(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "1 pages added" in proc.stdout, proc.stderr


def test_an_import_that_reads_no_example_fails_and_leaves_no_empty_store(tmp_path, capsys):
    """A file with no usable line (a model given by mistake) was 553 warnings, then exit 0 and
    a new empty store: `import … && noisefilter train --store …` went on to fail there."""
    from train.store import main

    junk = tmp_path / "model.joblib"
    junk.write_bytes(b"\x80\x04\x95" + bytes(range(256)) * 4 + b"\n" + b"\xff\xfe\n" * 3)
    db = tmp_path / "new.db"
    assert main(["import", str(db), str(junk)]) == 2
    assert f"no example could be read from {junk}" in capsys.readouterr().err
    assert not db.exists()
    # into a store that exists, it is kept as it was
    ExampleStore(db).add([_ex("p", "a b c d", [("a b c d", "content")])], labelled_by="alice")
    assert main(["import", str(db), str(junk)]) == 2
    assert [e.id for e in ExampleStore(db).list()] == ["p"]
    # a file read whole again (nothing new to add) is no failure
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(example(1, 2, as_text=True)) + "\n")
    assert main(["import", str(db), str(good)]) == 0
    assert main(["import", str(db), str(good)]) == 0


def _traced(monkeypatch) -> list[str]:
    """The statements that SQLite connections opened from now on run (with their values)."""
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    return statements


def test_a_page_of_the_list_at_an_offset_skips_the_pages_before_it_by_an_index(tmp_path,
                                                                               monkeypatch):
    """`GET /v1/examples?offset=N` read every page before the offset, document and all (the
    order's `added_at` comes after them in a row): paging through a store to export it slowed
    with each page (0.19 s at offset 1,980 of 20 KB pages, 0.04 s at 0). The pages are skipped
    in an index of the order, in a store made before that index too; the query plan says so."""
    path = tmp_path / "s.db"
    store = ExampleStore(path)
    store.add([_ex(f"p{i}", f"title {i}\nshare", [(f"title {i}", "content")]) for i in range(5)],
              labelled_by="alice")
    with sqlite3.connect(path) as conn:  # as a store made before the index holds it
        conn.execute("DROP INDEX pages_added")
    store = ExampleStore(path)
    statements = _traced(monkeypatch)
    assert [e.id for e in store.list(2, 3)] == ["p3", "p4"]
    monkeypatch.undo()
    [listing] = [s for s in statements if "OFFSET" in s]
    with sqlite3.connect(path) as conn:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + listing)]
    assert any("COVERING INDEX pages_added" in step for step in plan), plan


def test_filtered_reads_look_up_a_pages_labels_by_its_id(tmp_path, monkeypatch):
    """`list(reviewed=…)` (`GET /v1/examples?reviewed=false`) and `iter_examples(reviewed_only=
    True)` found each page's labels through the index on `reviewed` alone, reading every label
    of that state in the store for each page: 1,300 pages of 80 unreviewed labels took 22 s
    against 0.1 s unfiltered. Now they go by the page's id, in a store made before the index
    too. The query plan says so; a time would not, on a shared machine."""
    path = tmp_path / "s.db"
    store = ExampleStore(path)
    store.add([_ex(f"p{i}", f"title {i}\nshare", [(f"title {i}", "content"), ("share", "junk")])
               for i in range(3)], labelled_by="model:v1", reviewed=False)
    with sqlite3.connect(path) as conn:  # as a store made before the index holds it
        conn.execute("DROP INDEX IF EXISTS labels_page_reviewed")
    store = ExampleStore(path)
    statements = _traced(monkeypatch)
    assert len(store.list(reviewed=False)) == 3 and store.list(reviewed=True) == []
    assert list(store.iter_examples(reviewed_only=True)) == []
    monkeypatch.undo()
    reads = [s for s in statements if s.startswith("SELECT") and "labels" in s]
    # the two lists' pages, and the reviewed labels of each page
    assert sum("l.reviewed = 0" in s for s in reads) == 2 and sum("reviewed = 1" in s for s in reads) == 3
    with sqlite3.connect(path) as conn:
        for statement in reads:
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement)]
            assert not any("labels_reviewed" in step or step.startswith("SCAN l") for step in plan), \
                (statement, plan)


def test_a_page_left_with_no_labelled_block_is_not_stored(tmp_path):
    """A line whose every block was left out (a block of spaces only), or that gave none, was
    stored as a page without a label: left out of the store's exports, but listed by `GET
    /v1/examples` with `"blocks": []`, which the service refused when it was sent back. Now
    such a line is skipped and reported, from a file as from the service."""
    src = tmp_path / "in.jsonl"
    lines = [{"id": "spaces", "text": "Pier reopens\nShare", "blocks": [{"text": "  ", "label": "junk"}]},
             {"id": "none", "text": "Pier reopens", "blocks": []},
             {"id": "kept", "text": "Pier reopens\nShare this", "blocks": [{"text": "Share this", "label": "junk"}]}]
    src.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    store = ExampleStore(tmp_path / "s.db")
    report, problems = store.import_jsonl([src])
    assert [e.id for e in store.list()] == ["kept"] and report.pages_added == 1
    assert [str(p) for p in problems if p.loses_page] == [
        f"{src}:1: no labelled block left; page skipped", f"{src}:2: no labelled block left; page skipped"]
    example, _ = parse_example(lines[0])
    assert store.add([example], labelled_by="alice").pages_added == 0 and store.get("spaces") is None


def test_a_label_with_a_final_newline_is_not_a_label(tmp_path):
    """`$` matches before a final newline too: the label "content\\n" was imported and stored,
    a label no model knows; now it is left out and reported."""
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "p", "text": "a b\nc d", "blocks": [
        {"text": "a b", "label": "content\n"}, {"text": "c d", "label": "junk"}]}) + "\n")
    store = ExampleStore(tmp_path / "s.db")
    _, problems = store.import_jsonl([src])
    assert [b.label for b in store.get("p").blocks] == ["junk"]
    assert "label 'content\\n' is not a label" in str(problems[0])


def test_imported_provenance_is_what_the_service_takes_back(tmp_path, capsys):
    """The labelling page sends a page's stored labels back with every save: an import that
    stored a `labelled_at` the service cannot read, or a `labelled_by` over its 200 characters
    (the default `import:<file name>`, of a long file name), made that page unsavable there."""
    from api.schemas import ExampleIn
    from train.store import main

    db = tmp_path / "s.db"
    page = {"id": "legacy", "text": "Library hours extended\nAdvertisement",
            "blocks": [{"text": "Library hours extended", "label": "content",
                        "labelled_at": "2026-05-01 10:00:00 UTC"},
                       {"text": "Advertisement", "label": "junk"}]}
    src = tmp_path / ("labels-exported-from-our-old-annotation-tool-" + "x" * 190 + ".jsonl")
    src.write_text(json.dumps(page) + "\n", encoding="utf-8")
    assert main(["import", str(db), str(src)]) == 0
    [stored] = ExampleStore(db).list()
    by = [b.labelled_by for b in stored.blocks]
    assert by == [f"import:{src.name}"[:200]] * 2 and len(by[0]) == 200
    assert stored.blocks[0].labelled_at == "2026-05-01T10:00:00+00:00"
    # what the page sends back, as `POST /v1/examples` checks it
    ExampleIn.model_validate({"text": stored.text, "blocks": [b.to_dict() for b in stored.blocks]})
    capsys.readouterr()
    assert main(["import", str(db), str(src), "--labelled-by", "z" * 201]) == 2
    assert capsys.readouterr().err == "--labelled-by is over 200 characters\n"


def _store_with_a_page(path) -> None:
    ExampleStore(path).add([_ex("p", "Harbour news\nShare", [("Harbour news", "content"), ("Share", "junk")])],
                           labelled_by="alice")


def test_reading_commands_never_write_the_store(tmp_path, capsys):
    """`count`, `export` and `train --store` only read: they wrote the schema on every open
    (here: the index a store made by an older version lacks), which a store on a read-only file
    system cannot take. The -wal and -shm files are tidied away after them, as before."""
    from train.store import main

    db = tmp_path / "s.db"
    _store_with_a_page(db)
    with sqlite3.connect(db) as conn:
        conn.execute("DROP INDEX labels_page_reviewed")  # as a store of before 0.8 is
    conn.close()
    before = db.read_bytes()
    assert main(["count", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["pages"] == 1
    assert main(["export", str(db), "-o", str(tmp_path / "out.jsonl")]) == 0
    assert [e.id for e in examples_from([], db).examples] == ["p"]
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "s.db"]
    # a store that is not there is not created, and an empty file reads as an empty store
    with pytest.raises(StoreError, match="no store at"):
        ExampleStore(tmp_path / "none.db", read_only=True)
    assert not (tmp_path / "none.db").exists()
    (tmp_path / "empty.db").touch()
    assert ExampleStore(tmp_path / "empty.db", read_only=True).count()["pages"] == 0
    assert (tmp_path / "empty.db").stat().st_size == 0
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        with ExampleStore(db, read_only=True)._connect() as conn:
            conn.execute("DELETE FROM labels")


def test_a_store_without_a_writable_folder_is_read_as_immutable(tmp_path, monkeypatch):
    """Where no -shm file can be created beside the store (a read-only file system), SQLite
    cannot open a WAL store at all, read-only or not; it is then opened as immutable, unless a
    -wal file beside it holds changes that this would not read."""
    import train.store

    db = tmp_path / "s.db"
    _store_with_a_page(db)
    opened = []
    connect = sqlite3.connect

    def no_shm(target, *args, **kwargs):
        opened.append(str(target))
        if "immutable=1" not in str(target):
            raise sqlite3.OperationalError("unable to open database file")
        return connect(target, *args, **kwargs)

    monkeypatch.setattr(train.store.sqlite3, "connect", no_shm)
    store = ExampleStore(db, read_only=True)
    assert [e.id for e in store.iter_examples()] == ["p"] and store.count()["labels"] == 2
    assert [t.rsplit("?", 1)[1] for t in opened[:3]] == ["mode=rw", "mode=ro", "immutable=1"]
    (tmp_path / "s.db-wal").write_bytes(b"\0" * 100)
    with pytest.raises(StoreError, match="read-only file system"):
        ExampleStore(db, read_only=True)


def test_a_store_on_a_read_only_mount_can_be_counted_exported_and_trained_on(tmp_path):
    """As a training job sees a store mounted read-only: a bind mount, where permitted."""
    src, mnt = tmp_path / "src", tmp_path / "mnt"
    src.mkdir()
    mnt.mkdir()
    _store_with_a_page(src / "s.db")
    if os.geteuid() != 0 or not shutil.which("mount") or subprocess.run(
            ["mount", "--bind", str(src), str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here (needs root and the permission to mount)")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)], capture_output=True).returncode:
            pytest.skip("cannot remount read-only here")
        run = lambda *a: subprocess.run([sys.executable, "-m", "train.store", *a],  # noqa: E731
                                        capture_output=True, text=True)
        counted = run("count", str(mnt / "s.db"))
        assert counted.returncode == 0, counted.stderr
        assert json.loads(counted.stdout)["labels"] == 2
        exported = run("export", str(mnt / "s.db"), "-o", str(tmp_path / "out.jsonl"))
        assert exported.returncode == 0, exported.stderr
        assert json.loads((tmp_path / "out.jsonl").read_text())["id"] == "p"
        assert [e.id for e in examples_from([], mnt / "s.db").examples] == ["p"]
        # writing it is refused as what it is, not as a damaged store
        (tmp_path / "more.jsonl").write_text(json.dumps(example(1, 2, as_text=True)) + "\n")
        imported = run("import", str(mnt / "s.db"), str(tmp_path / "more.jsonl"))
        assert imported.returncode == 2
        assert "s.db cannot be written: the file is on a read-only file system" in imported.stderr
        assert "not a usable" not in imported.stderr
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_a_store_only_another_user_may_write_is_not_called_read_only(tmp_path, monkeypatch):
    """A store owned by another user (mode 644) was refused as "read-only", and its owner
    found nothing read-only about it. (The file's mode is not enough here: root, which the
    tests may run as, writes any file, so `os.access` answers as for another user.)"""
    _store_with_a_page(tmp_path / "s.db")
    store = ExampleStore(tmp_path / "s.db")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    message = store._write_refusal(sqlite3.OperationalError("attempt to write a readonly database"))
    assert message.startswith(f"{tmp_path / 's.db'} cannot be written: the file is not writable "
                              "by this user (attempt to write a readonly database)")
    (tmp_path / "s.db").unlink()
    message = store._write_refusal(sqlite3.OperationalError("unable to open database file"))
    assert message.startswith(f"{tmp_path / 's.db'} cannot be created: its folder is not "
                              "writable by this user")


def test_count_into_a_pipe_whose_reader_went_away_ends_quietly(tmp_path):
    """`python -m train.store count DB | head -3`: the reader gone, the command ends as one
    killed by SIGPIPE does (status 141, no message), not with a BrokenPipeError traceback."""
    db = tmp_path / "s.db"
    _store_with_a_page(db)
    proc = subprocess.Popen([sys.executable, "-m", "train.store", "count", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before it writes: starting Python and importing takes far longer
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == ""


def test_the_store_commands_are_noisefilter_store_too(tmp_path, capsys):
    """`noisefilter --help` lists every command a user labelling a site needs; the store's
    were reachable only as `python -m train.store`."""
    from filter.cli import main

    src, db, out = tmp_path / "in.jsonl", tmp_path / "s.db", tmp_path / "out.jsonl"
    src.write_text(json.dumps(example(1, 2, as_text=True)) + "\n", encoding="utf-8")
    assert main(["store", "import", str(db), str(src), "--labelled-by", "alice"]) == 0
    assert "1 pages added" in capsys.readouterr().out
    assert main(["store", "count", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["pages"] == 1
    assert main(["store", "export", str(db), "-o", str(out)]) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["s1-p2"]
    assert main(["store", "count", str(tmp_path / "none.db")]) == 2
    # exported to a standard output the command was started without: said, as by train.store
    for command in (["-m", "filter.cli", "store"], ["-m", "train.store"]):
        proc = subprocess.run([sys.executable, *command, "export", str(db), "-o", "-"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=120, preexec_fn=lambda: os.close(1),
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        assert (proc.returncode, proc.stderr) == (
            2, "standard output is closed: name a file with -o\n")


@pytest.mark.parametrize("change", [
    "DROP TABLE label_history",  # a newer schema without a table of this one
    "CREATE TABLE reviewers (name TEXT)",  # and one with a table of its own
])
def test_a_store_of_a_newer_schema_is_refused_and_left_as_it_is(tmp_path, change):
    """An older noisefilter (a teammate's `store import`, a job's `bootstrap --store`, the
    service) refused a newer store only after writing it: the tables and indexes it had
    dropped were made again and WAL mode set; or it called the store no store at all for a
    table the newer schema added."""
    path = tmp_path / "labels.db"
    ExampleStore(path).add([_ex("a", "Harbour story\nShare", [("Harbour story", "content")])],
                           labelled_by="alice")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    conn.execute(change)
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError, match=f"has schema {SCHEMA_VERSION + 1}; .*upgrade noisefilter"):
            ExampleStore(path, read_only=read_only)
        assert path.read_bytes() == before and not Path(f"{path}-wal").exists()


def test_a_page_fetched_again_whose_new_version_is_stored_under_another_id_is_merged_into_it(
        tmp_path):
    """Page A fetched again came with the document already stored, and labelled, as page B:
    A was given B's document, two pages held one document, and training left B out ("the
    same document as store:A"), Bob's labels with it. The new version is merged into B, as a
    new id with a stored document is."""
    store = ExampleStore(tmp_path / "labels.db")
    store.add([_ex("A", "Old story text\nShare", [("Old story text", "content")])], labelled_by="alice")
    store.add([_ex("B", "New story text\nShare", [("New story text", "content"), ("Share", "junk")])],
              labelled_by="bob")
    report = store.add([_ex("A", "New story text\nShare", [("New story text", "teaser")])],
                       labelled_by="carol")
    assert report.merged == {"A": "B"} and report.pages_updated == 0
    assert store.get("A").text == "Old story text\nShare"
    assert [(b.text, b.label) for b in store.get("B").blocks] == [("New story text", "teaser"),
                                                                  ("Share", "junk")]
    found = examples_from([], tmp_path / "labels.db")
    assert sorted(e.id for e in found.examples) == ["A", "B"] and not found.problems
