"""The labelled-example store: one SQLite file, safe for several writers at once.

Why SQLite: labels come from several places at the same time (the labelling page of the HTTP
service, `noisefilter bootstrap`, imports), and must never be lost; one embedded file needs no
server, and in WAL mode readers never block the writer. Every write is one ``BEGIN IMMEDIATE``
transaction, which takes the write lock up front, so two processes adding at once queue for the
lock (up to `timeout` seconds) instead of failing half-way or overwriting each other.

Pages are listed in the order they were added: by `added_at` (to the millisecond; stores written
before 0.7.5 hold whole seconds, which sort before the milliseconds of their second), then by
SQLite's rowid, which grows with every insert (the id would sort one moment's pages
alphabetically instead).

Deduplication: a page is known by its example id, and a page whose document (HTML or text) is
byte-for-byte one already stored under another id is merged into that one. A block is known by
the hash of its text in the form labels are matched in (`block_key`) and its occurrence on the
page, so labelling the same block twice updates one row. Provenance is kept per label: `source`
(the data set or tool), `labelled_by` (a person, ``model:<version>``, ``align:…``),
`labelled_at` and `reviewed`. A reviewed label is never replaced by an unreviewed one (a model's
proposal cannot overwrite a person's decision), nor by a label that states it was given before
the stored one (a labelling tab open since before a colleague's correction sends the labels it
loaded back with their `labelled_at`); a label that is replaced goes to `label_history`, so
nothing is lost.

The Python API (used by `noisefilter` commands and by the HTTP service)::

    store = ExampleStore("labels.db")
    report = store.add(examples, labelled_by="alice")      # AddReport
    store.list(limit=50, offset=0)                         # [Example]
    store.count()                                          # {"pages": …, "labels": …, …}
    store.export_jsonl("out.jsonl")
    ExampleStore("labels.db", read_only=True)              # reading only, also on a read-only disk

and ``noisefilter store import|export|count DB …`` (or ``python -m train.store …``) for the
command line (`export` and `count` only read the store, as `noisefilter train --store` does: a
store mounted read-only into a training job can be read).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import groupby, islice
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from filter.cli import _OUTPUT_FULL
from filter.compression import compressing, damage_types, decompressed
from filter.errors import NoiseFilterError
from filter.files import written_whole
from filter.jsonlines import json_line

from .examples import (
    MAX_NAME_CHARS, BlockLabel, Example, ExampleSet, Problem, label_form, parse_lines,
    read_examples, summary_stream,
)

#: 3: blocks keyed by `block_key` (1 kept format characters such as soft hyphens in the key;
#: 2 left white space out, which `label_form` keeps)
SCHEMA_VERSION = 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    id TEXT PRIMARY KEY,
    url TEXT,
    html TEXT,
    text TEXT,
    source TEXT,
    gold TEXT,
    doc_sha256 TEXT NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_doc ON pages (doc_sha256);
-- the order pages are listed in (`list`): skipping to an offset reads this index alone, where
-- it read every page before it, document and all, to reach its `added_at` (an export paging
-- through the service slowed with every page: 0.19 s at offset 1,980 of 20 KB pages)
CREATE INDEX IF NOT EXISTS pages_added ON pages (added_at);
CREATE TABLE IF NOT EXISTS labels (
    page_id TEXT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    block TEXT NOT NULL,
    occurrence INTEGER NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    source TEXT,
    labelled_by TEXT NOT NULL,
    labelled_at TEXT NOT NULL,
    reviewed INTEGER NOT NULL,
    PRIMARY KEY (page_id, block, occurrence)
);
CREATE INDEX IF NOT EXISTS labels_reviewed ON labels (reviewed);
-- a page's reviewed or unreviewed labels (`list(reviewed=…)`, `iter_examples(reviewed_only=
-- True)`): without it SQLite looked them up through labels_reviewed, reading every label of that
-- state in the store for each page (`reviewed=false` on 1,300 pages of 80 unreviewed labels took
-- 22 s); labels_reviewed stays for `count`. A store made before gets it when opened: this runs
-- then.
CREATE INDEX IF NOT EXISTS labels_page_reviewed ON labels (page_id, reviewed);
CREATE TABLE IF NOT EXISTS label_history (
    page_id TEXT NOT NULL,
    block TEXT NOT NULL,
    occurrence INTEGER NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    source TEXT,
    labelled_by TEXT NOT NULL,
    labelled_at TEXT NOT NULL,
    reviewed INTEGER NOT NULL,
    replaced_at TEXT NOT NULL,
    replaced_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_page ON label_history (page_id);
-- a block's history (`_edited`, asked for each label an import states the provenance of):
-- through history_page alone, each lookup read the page's whole history, and imports slowed
-- as bootstraps filled it
CREATE INDEX IF NOT EXISTS history_block ON label_history (page_id, block, occurrence);
"""


def timestamp() -> str:
    """Now, as labels' `labelled_at` records it: to the millisecond, so that a correction
    saved a moment after the label it replaces is later than it (see `add`)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _moment(stamp: str | None) -> datetime | None:
    """A `labelled_at` as a time (UTC when it names no zone); None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def block_key(text: str) -> str:
    """A block's key in the store: a hash of the very form in which labels are matched to
    blocks (`label_form`: format characters such as soft hyphens and zero-width spaces left
    out, white space made single spaces). A block labelled on the page ("news\u00adletter")
    and in a file ("newsletter") is one row; with the soft hyphen in the key they were two,
    given two labels, and training left the block out. Two texts the matching tells apart are
    two keys: keyed without white space (`text_hash`, which committed labels use), "Log in"
    and "Login" on one page were one block's two occurrences, numbered in the order a file
    gave them, and a save in page order put each one's label on the other."""
    return hashlib.sha1(label_form(text).encode("utf-8")).hexdigest()[:16]


@dataclass
class AddReport:
    """What one `add` did. `labels_confirmed` counts stored proposals given again as they
    were, now reviewed: a person who checked 30 labels and corrected 1 read "31 changed".
    `labels_kept` counts incoming labels that lost to a label already stored (`_stands`: an
    unreviewed label, or one given before it, to a reviewed label; a model's proposal to an
    alignment's), `kept` says which; `merged` maps incoming ids to the stored id holding the
    same document; `refused` incoming ids to why the page was not stored (its id holds
    another page)."""

    pages_added: int = 0
    pages_updated: int = 0
    labels_added: int = 0
    labels_changed: int = 0
    labels_confirmed: int = 0
    labels_unchanged: int = 0
    labels_kept: int = 0
    merged: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    #: incoming id -> the positions (in its `blocks` as given) of the labels counted in
    #: `labels_kept`: a labeller told "1 label not applied" could not tell which
    kept: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def merge(self, other: AddReport) -> None:
        """Count `other` (another file's `add`) in this report."""
        for key, value in other.to_dict().items():
            if key in ("merged", "refused"):
                getattr(self, key).update(value)
            elif key == "kept":  # one id in two files: both files' places
                for ident, places in value.items():
                    self.kept.setdefault(ident, []).extend(places)
            else:
                setattr(self, key, getattr(self, key) + value)

    def __str__(self) -> str:
        text = (f"{self.pages_added} pages added, {self.pages_updated} updated; "
                f"{self.labels_added} labels added, {self.labels_changed} changed, "
                f"{self.labels_confirmed} confirmed, {self.labels_unchanged} unchanged, "
                f"{self.labels_kept} kept (a reviewed or aligned label already stored)")
        if self.merged:
            text += f"; {len(self.merged)} pages merged into a stored page with the same document"
        if self.refused:
            text += f"; {len(self.refused)} pages refused (their id holds another page)"
        return text


def _stands(old: sqlite3.Row, new: tuple, stated: datetime | None) -> bool:
    """Whether a stored label stays against a new one (`new`: label, source, labelled_by,
    labelled_at, reviewed; `stated`: the moment the new one says it was given): a person's
    reviewed label against a proposal, and against an older copy of another label; an
    alignment's (`bootstrap`: content or not, read from a person's gold text) against a
    model's proposal made elsewhere than in a bootstrap (the labelling page saves one for
    every block a person left alone, and without the stored labels to start from, where it
    cannot look them up, it replaced bootstrap's labels with its model's guesses). A bootstrap
    run again (a gold text corrected) aligns every block anew, and its proposals replace."""
    if old["reviewed"] and not new[4]:
        return True
    if (not old["reviewed"] and not new[4] and old["labelled_by"].startswith("align:")
            and new[2].startswith("model:") and not (new[1] or "").startswith("bootstrap:")):
        return True
    stored = _moment(old["labelled_at"])
    return bool(old["reviewed"] and old["label"] != new[0] and stated is not None
                and stored is not None and stated < stored)


def _edited(conn: sqlite3.Connection, page_id: str, key: str, occurrence: int, block: BlockLabel,
            old: sqlite3.Row | None) -> bool:
    """Whether `block` is a label changed by hand in an exported file: it states who gave it
    and when as a label the store holds or held for the block did (an export writes them), but
    another label. Its provenance is then a copy, not the person's: such a correction was
    stored as the model's unreviewed proposal, credited to the model, left out by
    `--reviewed-only`, and replaced by the next bootstrap's proposal. It is taken as a label
    stating no provenance (the importer's, now, reviewed unless the import says otherwise);
    its stated time still decides against a correction stored since (`_stands`). The copy of
    a text is compared with its own history (`occurrence`): a text shown twice, given two
    labels by one model's run, matched the other copy's."""
    if block.labelled_by is None or block.labelled_at is None or old is None:
        return False  # (a block without a stored label is added as given; rare after an export)
    if (old["labelled_by"], old["labelled_at"]) == (block.labelled_by, block.labelled_at):
        return old["label"] != block.label
    return conn.execute("SELECT 1 FROM label_history WHERE page_id = ? AND block = ? AND "
                        "occurrence = ? AND labelled_by = ? AND labelled_at = ? AND label != ? "
                        "LIMIT 1", (page_id, key, occurrence, block.labelled_by,
                                    block.labelled_at, block.label)).fetchone() is not None


def _another_page(url: str | None, stored: str | None) -> bool:
    """Whether a page at `url` is another page than the stored one at `stored` (both known):
    another host, path or query; a page fetched again by https or with a slash added or a
    fragment is the same page."""
    if not url or not stored:
        return False
    here, there = urlsplit(url), urlsplit(stored)
    return ((here.netloc.lower(), here.path.rstrip("/"), here.query)
            != (there.netloc.lower(), there.path.rstrip("/"), there.query))


def _retire(conn: sqlite3.Connection, old: sqlite3.Row, now: str, replaced_by: str) -> None:
    """Keep a stored label that is replaced or removed in the label history."""
    conn.execute("INSERT INTO label_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (old["page_id"], old["block"], old["occurrence"], old["text"], old["label"],
                  old["source"], old["labelled_by"], old["labelled_at"], old["reviewed"], now,
                  replaced_by))


class StoreError(RuntimeError):
    """The store file cannot be used (not a store, newer schema, locked for too long)."""


#: the tables of a store (`_SCHEMA`); indexes a user adds, and SQLite's own tables, aside
_STORE_TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", _SCHEMA))

#: how every SQLite database file begins
_SQLITE_HEADER = b"SQLite format 3\x00"


def _on_read_only_mount(path: Path) -> bool:
    """Whether `path` lies on a file system mounted read-only (False where that cannot be told:
    `os.statvfs` is POSIX's)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):
        return False


def is_store_file(path: str | Path) -> bool:
    """Whether the file is an SQLite database, such as a store: read as JSON Lines, a store
    given where example files go gave a warning for each of its tens of thousands of lines."""
    with open(path, "rb") as fh:
        return fh.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER


#: what a block costs in JSON besides its strings (keys, quotes, `reviewed`, separators)
_BLOCK_OVERHEAD = 96


def example_chars(example: Example) -> int:
    """About the characters of an example's JSON (document, gold text, url, and every block's
    strings and keys), escaping aside: a page of a million one-word labels is large too."""
    return (len(example.html or "") + len(example.text or "") + len(example.gold or "")
            + len(example.url or "") + sum(
                len(b.text) + len(b.label) + len(b.source or "") + len(b.labelled_by or "")
                + len(b.labelled_at or "") + _BLOCK_OVERHEAD for b in example.blocks))


class ExampleStore:
    """Labelled examples in one SQLite file. Every method opens its own connection, so one
    instance may be shared by threads and a forked process may use a copy.

    `read_only`: for reading only (`count`, `list`, `get`, `iter_examples`, `export_jsonl`):
    the store must exist, its schema is checked but never written, and every connection refuses
    to change it (``PRAGMA query_only``). A store on a read-only file system (mounted read-only
    into a training job) is read too: WAL mode needs a ``-shm`` file beside the store, and when
    none can be created there the store is opened as immutable (`_open_for_reading`)."""

    def __init__(self, path: str | Path, timeout: float = 60.0, *, read_only: bool = False):
        self.path = Path(path)
        self.timeout = timeout
        self.read_only = read_only
        #: what connections open: the path, or a ``file:`` URI for reading only
        self._target: str = str(self.path)
        #: an empty file read with `read_only` (no schema yet): read as an empty store
        self._empty = False
        self._refuse_non_database()
        if read_only:
            self._open_for_reading()
        else:
            try:  # a typo in the path: one line, not a traceback
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"{self.path} cannot be created: its folder cannot be made "
                                 f"({err.strerror or err}: {err.filename})") from None
            self._init_schema()

    # -- connections ----------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self._empty:
            conn = sqlite3.connect(":memory:", isolation_level=None)
            conn.executescript(_SCHEMA)
        else:
            conn = sqlite3.connect(self._target, timeout=self.timeout, isolation_level=None,
                                   uri=self.read_only)
        try:
            conn.row_factory = sqlite3.Row
            if self.read_only:
                conn.execute("PRAGMA query_only = ON")
            else:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoint
            yield conn
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError):
                raise  # locked, busy, read-only: each caller says (or retries) what it means
            # "database disk image is malformed" while reading labels: one line, as for a
            # store that cannot be opened, not a traceback
            raise StoreError(f"{self.path} is not a usable example store: {err}") from err
        finally:
            conn.close()

    def _refuse_non_database(self) -> None:
        """Raise `StoreError` for a file that holds bytes but no SQLite database's header,
        before SQLite sees it: a file shorter than a header (one byte) SQLite took for an empty
        database and made a store of it, the bytes lost. An empty file is a store to be. Only
        a regular file is read here: opening a FIFO waits for a writer, for ever."""
        if not self.path.is_file():  # none yet, a folder, a FIFO: opening it says what
            return
        try:
            with open(self.path, "rb") as fh:
                start = fh.read(len(_SQLITE_HEADER))
        except OSError:  # unreadable: opening it says why
            return
        if start and start != _SQLITE_HEADER:
            raise StoreError(f"{self.path} is not a usable example store: file is not a "
                             "database")

    def _open_for_reading(self) -> None:
        """Find how the store can be read, without writing it. First as usual (``mode=rw``,
        which never creates the file; queries only): the last connection to close tidies the
        ``-wal`` and ``-shm`` files away. Then ``mode=ro``, which reads a store whose ``-shm``
        exists but cannot be written. Last ``immutable=1``, for a store on a read-only file
        system with no ``-shm`` beside it (WAL mode cannot create one there; no process can
        write the store there either): all it holds is in the file itself, unless a ``-wal``
        with changes lies beside it, which an immutable store would not read, so that is
        refused. Raises `StoreError`."""
        if not self.path.is_file():
            raise StoreError(f"no store at {self.path}")
        uri = self.path.resolve().as_uri()
        wal = Path(f"{self.path}-wal")
        refused: sqlite3.Error | None = None
        for how in ("mode=rw", "mode=ro", "immutable=1"):
            if how == "immutable=1" and wal.is_file() and wal.stat().st_size:
                raise StoreError(f"{self.path} cannot be read on a read-only file system: its "
                                 f"write-ahead log {wal.name} holds changes that only a writable "
                                 f"copy reads ({refused})")
            self._target = f"{uri}?{how}"
            try:
                with self._connect() as conn:
                    tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
                    if not tables:
                        self._empty = True  # an empty file, a store never opened yet
                        return
                    self._refuse_foreign(conn)
                    found = self._schema_version(conn)
            except sqlite3.OperationalError as err:
                if "unable to open" not in str(err) and "readonly" not in str(err):
                    raise StoreError(f"{self.path} is not a usable example store: {err}") from err
                refused = err
                continue
            except sqlite3.DatabaseError as err:
                raise StoreError(f"{self.path} is not a usable example store: {err}") from err
            if found > SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema {found}; this noisefilter knows up "
                                 f"to {SCHEMA_VERSION}: upgrade noisefilter")
            return
        raise StoreError(f"{self.path} is not a usable example store, even read-only: {refused}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the write lock from its first statement. A lock
        another writer held past `timeout` is a `StoreError` (it was SQLite's bare
        "database is locked", a traceback that lost a whole `bootstrap`)."""
        with self._connect() as conn:
            self._locking(conn, "BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._locking(conn, "COMMIT")

    def _locking(self, conn: sqlite3.Connection, statement: str) -> None:
        try:
            conn.execute(statement)
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise StoreError(f"{self.path} stayed locked for {self.timeout:g} s (another "
                                 "program writing to it); nothing was written") from err
            raise

    def _init_schema(self) -> None:
        # Switching to WAL needs a moment alone with the file: when two processes create the
        # store at once the loser may get SQLITE_BUSY without the busy handler, so retry.
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                with self._connect() as conn:
                    # another application's database is left as it was: it was given a store's
                    # tables, its `meta` a schema row, and WAL mode
                    self._refuse_foreign(conn)
                    conn.execute("PRAGMA journal_mode = WAL")
                    # statement by statement in autocommit: IF NOT EXISTS and OR IGNORE make a
                    # concurrent creation by another process harmless
                    conn.executescript(_SCHEMA)
                    conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                    found = self._schema_version(conn)
                if found > SCHEMA_VERSION:
                    raise StoreError(f"{self.path} has schema {found}; this noisefilter knows up "
                                     f"to {SCHEMA_VERSION}: upgrade noisefilter")
                if found < SCHEMA_VERSION:
                    self._upgrade()
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err):
                    raise StoreError(self._write_refusal(err)) from err
                if time.monotonic() > deadline:
                    raise StoreError(f"{self.path} stayed locked for {self.timeout:g} s") from err
                time.sleep(0.05)
            except sqlite3.DatabaseError as err:
                raise StoreError(f"{self.path} is not a usable example store: {err}") from err

    def _write_refusal(self, err: sqlite3.Error) -> str:
        """What to say when SQLite will not open the store for writing. A store on a read-only
        mount, or in a folder this process may not write (SQLite writes the ``-wal`` and
        ``-shm`` files beside it), is no damaged file: said so, and that reading it works (the
        message was "not a usable example store", which sent users looking for corruption).
        A file or folder only another user may write is said to be that, not read-only."""
        for target, what in ((self.path, "the file"), (self.path.parent, "its folder")):
            if target.exists() and not os.access(target, os.W_OK):
                why = ("is on a read-only file system" if _on_read_only_mount(target)
                       else "is not writable by this user")
                if not self.path.is_file():
                    return f"{self.path} cannot be created: {what} {why} ({err})"
                return (f"{self.path} cannot be written: {what} {why} ({err}); "
                        "store count, store export and train --store read it")
        return f"{self.path} is not a usable example store: {err}"

    def _refuse_foreign(self, conn: sqlite3.Connection) -> None:
        """Raise `StoreError` for a database that is not a store: one whose `meta` table is not
        a store's, or one with tables a store does not have (a browser's history, another
        tool's database) that is not a store already (a user's full-text index on a store's
        labels stays). A store another process is creating holds only a store's tables.

        A store of a newer schema is refused first, and so also left as it is: it was given
        the tables and indexes it had dropped, and WAL mode, before the refusal, or called no
        store for the tables it added."""
        names = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'")}
        meta = [row[1] for row in conn.execute("PRAGMA table_info(meta)")]
        if meta and meta != ["key", "value"]:
            raise StoreError(f"{self.path} is an SQLite database but not an example store (its "
                             "meta table is not a store's); it was left as it is")
        schema = (conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                  if meta else None)
        if schema is not None and str(schema[0]).isdigit() and int(schema[0]) > SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema {schema[0]}; this noisefilter knows up to "
                             f"{SCHEMA_VERSION}: upgrade noisefilter (the store was left as it is)")
        others = sorted(names - _STORE_TABLES)
        if not others or (_STORE_TABLES <= names and conn.execute(
                "SELECT 1 FROM meta WHERE key = 'schema'").fetchone()):
            return
        shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise StoreError(f"{self.path} is an SQLite database but not an example store (it has "
                         f"tables a store has not: {shown}); it was left as it is")

    def _schema_version(self, conn: sqlite3.Connection) -> int:
        """The schema version the store's `meta` names; `StoreError` when it names none."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or not str(row[0]).isdigit():
            raise StoreError(f"{self.path} is not an example store: its meta table names no "
                             "schema version")
        return int(row[0])

    def _upgrade(self) -> None:
        """Re-key the labels whose stored key is not their text's `block_key` (schema 1: texts
        with format characters; 2: texts with white space). Rows that the old keys kept apart
        and the new one joins (the same block labelled with and without a soft hyphen) keep
        every label, numbered as occurrences in the order they were stored; the block's next
        save settles them. Rows the old key joined and the new one parts ("Log in", "Login")
        are numbered apart, each text's in the order stored."""
        with self._write() as conn:
            found = int(conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])
            if found >= SCHEMA_VERSION:
                return  # another process upgraded it meanwhile
            rows = conn.execute("SELECT page_id, block, occurrence, text FROM labels "
                                "ORDER BY page_id, occurrence, position").fetchall()
            for page, group in groupby(rows, key=lambda r: r["page_id"]):
                mine = list(group)
                if all(block_key(r["text"]) == r["block"] for r in mine):
                    continue
                conn.execute("UPDATE labels SET block = '~' || block WHERE page_id = ?", (page,))
                taken: dict[str, int] = {}
                for r in mine:
                    key = block_key(r["text"])
                    occurrence = taken.get(key, 0)
                    taken[key] = occurrence + 1
                    conn.execute("UPDATE labels SET block = ?, occurrence = ? WHERE page_id = ? "
                                 "AND block = ? AND occurrence = ?",
                                 (key, occurrence, page, "~" + r["block"], r["occurrence"]))
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))

    # -- writing --------------------------------------------------------------------------
    def add(self, examples: Iterable[Example], *, labelled_by: str, source: str | None = None,
            reviewed: bool = True, labelled_at: str | None = None) -> AddReport:
        """Add or update examples in one transaction (all or nothing); a page with no labelled
        block is left out.

        `labelled_by`, `source`, `reviewed` and `labelled_at` (default: now) are the provenance
        given to every label that does not state its own.
        """
        report = AddReport()
        with self._write() as conn:
            # taken with the write lock held: pages are listed in the order they were added,
            # and a save that had waited for the lock was listed before the pages committed
            # meanwhile, which a reader following `next_offset` had already passed
            now = timestamp()
            for example in examples:
                if example.blocks:  # a page with no label is no example (`parse_example`)
                    self._add_one(conn, example, labelled_by, source, reviewed,
                                  labelled_at or now, now, report)
        return report

    def _add_one(self, conn: sqlite3.Connection, ex: Example, labelled_by: str, source: str | None,
                 reviewed: bool, labelled: str, now: str, report: AddReport) -> None:
        """`labelled` is the time given to labels that state none; `now`, when the page is
        added or changed."""
        doc = ex.document_sha256
        page_source = ex.source or source
        row = conn.execute("SELECT id, doc_sha256, url FROM pages WHERE id = ?", (ex.id,)).fetchone()
        if row is None or row["doc_sha256"] != doc:
            # a document stored under another id is merged into that page, also when this id
            # holds another document (a page fetched again whose new version was labelled
            # under another id: two pages held one document, and training left one out)
            same = conn.execute("SELECT id, doc_sha256, url FROM pages WHERE doc_sha256 = ? "
                                "ORDER BY added_at, rowid LIMIT 1", (doc,)).fetchone()
            if same is not None:
                report.merged[ex.id] = same["id"]
                row = same
        page_id = row["id"] if row is not None else ex.id
        if row is None:
            conn.execute("INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (page_id, ex.url, ex.html, ex.text, page_source, ex.gold, doc, now, now))
            report.pages_added += 1
        elif row["doc_sha256"] != doc:
            if _another_page(ex.url, row["url"]):
                # another page under a stored page's id (two labelling sessions' "page-1"): it
                # replaced that page's document and address, kept its gold text (scored
                # against the other page's) and left its labels matching nothing
                report.refused[ex.id] = (f"id {ex.id!r} holds another page ({row['url']}); give "
                                         f"this one ({ex.url}) an id of its own")
                return
            # the page was fetched again: keep the newest document, labels attach by text anyway
            conn.execute("UPDATE pages SET url = COALESCE(?, url), html = ?, text = ?, "
                         "gold = COALESCE(?, gold), doc_sha256 = ?, updated_at = ? WHERE id = ?",
                         (ex.url, ex.html, ex.text, ex.gold, doc, now, page_id))
            report.pages_updated += 1
        else:
            # the same document: a corrected address or gold text still counts (the address
            # groups pages by site in training and gives the URL features)
            conn.execute("UPDATE pages SET url = COALESCE(?, url), gold = COALESCE(?, gold) "
                         "WHERE id = ?", (ex.url, ex.gold, page_id))
        next_pos = conn.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM labels WHERE page_id = ?",
                                (page_id,)).fetchone()[0]
        occurrences: dict[str, int] = {}
        last: dict[str, tuple] = {}  # each text's last label given, and when it says it was given
        for offset, block in enumerate(ex.blocks):
            key = block_key(block.text)
            occ = occurrences.get(key, 0)
            occurrences[key] = occ + 1
            old = conn.execute("SELECT * FROM labels WHERE page_id = ? AND block = ? AND occurrence = ?",
                               (page_id, key, occ)).fetchone()
            if _edited(conn, page_id, key, occ, block, old):  # its provenance, a copy: none stated
                new = (block.label, block.source or page_source, labelled_by, labelled, int(reviewed))
            else:
                new = (block.label, block.source or page_source, block.labelled_by or labelled_by,
                       block.labelled_at or labelled, int(reviewed if block.reviewed is None else block.reviewed))
            stated = _moment(block.labelled_at)
            last[key] = (new, stated)
            if old is None:
                conn.execute("INSERT INTO labels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (page_id, key, occ, next_pos + offset, block.text, *new))
                report.labels_added += 1
                continue
            if _stands(old, new, stated):
                if old["label"] != new[0]:
                    report.labels_kept += 1
                    report.kept.setdefault(ex.id, []).append(
                        offset if block.position is None else block.position)
                report.labels_unchanged += (old["label"] == new[0])
                continue
            if old["label"] == new[0] and old["reviewed"] == new[4]:
                report.labels_unchanged += 1
                continue
            _retire(conn, old, now, new[2])
            # the text as given too: a row's text is what training and the page match by
            conn.execute("UPDATE labels SET text = ?, label = ?, source = ?, labelled_by = ?, "
                         "labelled_at = ?, reviewed = ? WHERE page_id = ? AND block = ? AND "
                         "occurrence = ?", (block.text, *new, page_id, key, occ))
            if old["label"] == new[0]:
                report.labels_confirmed += 1
            else:
                report.labels_changed += 1
        self._settle(conn, ex, page_id, occurrences, last, now, report)
        conn.execute("UPDATE pages SET updated_at = ? WHERE id = ?", (now, page_id))

    @staticmethod
    def _settle(conn: sqlite3.Connection, ex: Example, page_id: str, occurrences: dict[str, int],
                last: dict[str, tuple], now: str, report: AddReport) -> None:
        """Retire the stored labels of a text past both the copies the save gives and the
        copies the page shows, when they disagree with the label given. Such a label (a file
        that gave a block twice by mistake, a page fetched again with the text once, the schema
        1 to 2 upgrade joining two spellings) disagreed with the block's other label for good,
        and training left the block out whatever was saved after. It goes to the history, as a
        replaced label does, unless it stands (a person's label against a proposal, or newer).
        The copies a page shows count: a save that names a text once, on a page that shows it
        twice, leaves the label of the second copy alone. The page is segmented only when a
        save finds such labels, which is rare."""
        stale = []
        for key, given in occurrences.items():
            new, stated = last[key]
            stale += [(old, new) for old in conn.execute(
                "SELECT * FROM labels WHERE page_id = ? AND block = ? AND occurrence >= ?",
                (page_id, key, given)).fetchall()
                if old["label"] != new[0] and not _stands(old, new, stated)]
        if not stale:
            return
        try:
            shown = Counter(block_key(block.text) for block in ex.to_page().blocks)
        except NoiseFilterError:
            shown = Counter()  # a page that cannot be segmented shows no copy of anything
        for old, new in stale:
            if old["occurrence"] < shown[old["block"]]:
                continue
            _retire(conn, old, now, new[2])
            conn.execute("DELETE FROM labels WHERE page_id = ? AND block = ? AND occurrence = ?",
                         (page_id, old["block"], old["occurrence"]))
            report.labels_changed += 1

    def import_jsonl(self, paths: Iterable[str | Path], *, labelled_by: str | None = None,
                     source: str | None = None, reviewed: bool = True,
                     allowed_labels: set[str] | None = None) -> tuple[AddReport, list[Problem]]:
        """Read JSON Lines files and add what is valid; returns the problems met (with line
        numbers) beside the report. `labelled_by` defaults to ``import:<file name>``, cut to
        `MAX_NAME_CHARS` characters; a longer one given is refused (ValueError)."""
        if labelled_by is not None and len(labelled_by) > MAX_NAME_CHARS:
            raise ValueError(f"labelled_by is over {MAX_NAME_CHARS} characters")
        report = AddReport()
        problems: list[Problem] = []
        for path in paths:  # a file at a time: one file's examples in memory, not all
            found = read_examples([path], allowed_labels)
            problems.extend(found.problems)
            report.merge(self.add_file(path, found, labelled_by=labelled_by, source=source,
                                       reviewed=reviewed))
        return report, problems

    def add_file(self, path: str | Path, found: ExampleSet, *, labelled_by: str | None = None,
                 source: str | None = None, reviewed: bool = True) -> AddReport:
        """Add the examples read from the file `path`, labelled by `labelled_by`, else
        ``import:<file name>`` (cut to the length the service takes: the labelling page sends
        it back on save)."""
        default = f"import:{Path(path).name}"[:MAX_NAME_CHARS]
        return self.add(found.examples, labelled_by=labelled_by or default, source=source,
                        reviewed=reviewed)

    # -- reading --------------------------------------------------------------------------
    def count(self) -> dict:
        """Pages, labels, labels per label value, and labels not yet reviewed."""
        with self._connect() as conn:
            pages = conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
            by_label = {r[0]: r[1] for r in conn.execute(
                "SELECT label, COUNT(*) FROM labels GROUP BY label ORDER BY label")}
            unreviewed = conn.execute("SELECT COUNT(*) FROM labels WHERE reviewed = 0").fetchone()[0]
        return {"pages": pages, "labels": sum(by_label.values()), "by_label": by_label,
                "unreviewed": unreviewed}

    def list(self, limit: int = 100, offset: int = 0, *, reviewed: bool | None = None,
             source: str | None = None, document: str | None = None,
             max_chars: int | None = None) -> list[Example]:
        """A page of examples in the order they were added. `reviewed=False` lists pages with
        at least one unreviewed label (what is left to check), `True` pages with none;
        `document` (the sha256 of ``kind + "\\0" + document``, `Example.document_sha256`)
        finds the page holding that very document, whatever its id. `max_chars` stops the page after the
        example that brings its text (`example_chars`) to that many characters (at least one
        example is returned): rows are read one at a time, so memory follows the budget."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        where, args = self._filters(reviewed, source, document)
        out: list[Example] = []
        chars = 0
        with self._connect() as conn:
            # the page's rows found first by the order alone, then read (`pages_added`)
            rows = conn.execute(f"SELECT * FROM pages WHERE rowid IN (SELECT rowid FROM pages "
                                f"{where} ORDER BY added_at, rowid LIMIT ? OFFSET ?) "
                                "ORDER BY added_at, rowid", (*args, limit, offset))
            for row in rows:
                out.append(self._example(conn, row))
                chars += example_chars(out[-1])
                if max_chars is not None and chars >= max_chars:
                    break
        return out

    def unheld(self, examples: Iterable[Example]) -> tuple[list[str], int]:
        """What of `examples` the store would not give back: the ids of those it holds neither
        under their id nor as their document (an import merges a page into the stored page of
        the same document; one at another address under a stored page's id is refused), and
        how many labels of the others it neither holds nor held for their block, nor would
        keep its own label against (`_stands`: a label corrected in an exported file and not
        imported yet; an imported one the store kept out is held), counting a label the store
        holds unreviewed that the file marks `"reviewed": true` (confirmed, not imported yet)."""
        missing, labels = [], 0
        with self._connect() as conn:
            for ex in examples:
                row = conn.execute("SELECT id, url, doc_sha256 FROM pages WHERE doc_sha256 = ? "
                                   "ORDER BY added_at, rowid LIMIT 1", (ex.document_sha256,)).fetchone()
                row = row or conn.execute("SELECT id, url, doc_sha256 FROM pages WHERE id = ?",
                                          (ex.id,)).fetchone()
                if row is None or (row["doc_sha256"] != ex.document_sha256
                                   and _another_page(ex.url, row["url"])):
                    missing.append(ex.id)
                    continue
                # each text's labels, with who gave them when: a label stating who gave it
                # (an export's) is held as given by them; one stating nobody, as any such label
                held: dict[tuple, set] = {}
                for table in ("labels", "label_history"):
                    for r in conn.execute(f"SELECT block, label, labelled_by, labelled_at FROM {table} "
                                          "WHERE page_id = ?", (row["id"],)):
                        held.setdefault((r[0], r[1]), set()).add((r[2], r[3]))
                # the page's labels now, read at once (a query per block slowed an export
                # over the last one, which holds every block of the store)
                current = {(r["block"], r["occurrence"]): r for r in conn.execute(
                    "SELECT * FROM labels WHERE page_id = ?", (row["id"],))}
                occurrences: Counter = Counter()
                for b in ex.blocks:
                    key = block_key(b.text)
                    occurrences[key] += 1
                    old = current.get((key, occurrences[key] - 1))
                    if (old is not None and old["label"] == b.label
                            and (old["reviewed"] or b.reviewed is not None)):
                        # the store's label is this one: held, unless the file marks it
                        # reviewed and the store does not (a label confirmed in an export,
                        # `"reviewed": true`, not imported yet: replaced, the review was lost).
                        # A correction imported is stored as the importer's, not with the
                        # provenance the file still states, and was held to be missing. A
                        # label that does not say (import takes it as reviewed) is judged by
                        # who gave it, below
                        labels += bool(b.reviewed is True and not old["reviewed"])
                        continue
                    given_by = held.get((key, b.label), set())
                    if given_by and (b.labelled_by is None or b.labelled_at is None
                                     or (b.labelled_by, b.labelled_at) in given_by):
                        continue
                    given = (b.label, b.source or ex.source, b.labelled_by or "", b.labelled_at or "",
                             int(b.reviewed is not False))
                    labels += old is None or not _stands(old, given, _moment(b.labelled_at))
        return missing, labels

    def __contains__(self, example_id: str) -> bool:
        """Whether the store holds a page of this id, without reading its document."""
        with self._connect() as conn:
            row = conn.execute("SELECT 1 FROM pages WHERE id = ?", (example_id,)).fetchone()
        return row is not None

    def get(self, example_id: str) -> Example | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM pages WHERE id = ?", (example_id,)).fetchone()
            return self._example(conn, row) if row is not None else None

    def iter_examples(self, *, reviewed_only: bool = False) -> Iterator[Example]:
        """Every example, read in one snapshot (a concurrent writer does not tear it).
        `reviewed_only` keeps only reviewed labels (a page left with none is skipped)."""
        with self._connect() as conn:
            conn.execute("BEGIN")
            try:
                # page by page (their documents: a store of bootstrapped pages held whole in
                # memory took more than the store's size); the labels are read beside the cursor
                for row in conn.execute("SELECT * FROM pages ORDER BY added_at, rowid"):
                    example = self._example(conn, row, reviewed_only)
                    if example.blocks:
                        yield example
            finally:
                conn.execute("COMMIT")

    def export_jsonl(self, out: str | Path | BinaryIO, *, reviewed_only: bool = False) -> int:
        """Write every example as JSON Lines (UTF-8), provenance included, to the file `out`
        (compressed as its name says: `filter.compression.compressing`) or an open binary
        stream (standard output's buffer: left open, written where it stands, so `>> FILE`
        appends); returns how many pages. A store damaged past its first pages raises
        `StoreError` saying how many pages were written before the damage: they stay where
        they were written, what can be saved of the store."""
        if not isinstance(out, (str, bytes, os.PathLike)):
            if isinstance(out, io.TextIOBase):
                raise TypeError("export_jsonl writes UTF-8 bytes: pass a binary stream "
                                "(sys.stdout.buffer) or a path")
            return self._export(out, reviewed_only, "the output")
        with (written_whole(out, keep_part_on=(StoreError,)) as fh,
              compressing(fh, str(out)) as zfh):
            return self._export(zfh, reviewed_only, str(out))

    def _export(self, fh: BinaryIO, reviewed_only: bool, where: str) -> int:
        count = 0
        try:
            for example in self.iter_examples(reviewed_only=reviewed_only):
                fh.write(json_line(example.to_dict()).encode("utf-8"))
                count += 1
        except StoreError as err:
            raise StoreError(f"{err}; the {count} pages read before it are in {where}") from err
        fh.flush()
        return count

    def history(self, example_id: str | None = None) -> list[dict]:
        """The labels of a page (of every page: None) that were replaced or removed, oldest
        first, each with who replaced it and when (`noisefilter store history`): what a
        colleague's correction or a bootstrap changed, and what to put back."""
        where, args = ("WHERE page_id = ?", (example_id,)) if example_id is not None else ("", ())
        with self._connect() as conn:
            rows = conn.execute(f"SELECT * FROM label_history {where} ORDER BY rowid",
                                args).fetchall()
        return [dict(r) | {"reviewed": bool(r["reviewed"])} for r in rows]

    @staticmethod
    def _filters(reviewed: bool | None, source: str | None,
                 document: str | None = None) -> tuple[str, tuple]:
        clauses, args = [], []
        if document is not None:
            clauses.append("doc_sha256 = ?")
            args.append(document)
        if reviewed is not None:
            op = "NOT EXISTS" if reviewed else "EXISTS"
            clauses.append(f"{op} (SELECT 1 FROM labels l WHERE l.page_id = pages.id AND l.reviewed = 0)")
        if source is not None:
            clauses.append("source = ?")
            args.append(source)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", tuple(args)

    @staticmethod
    def _example(conn: sqlite3.Connection, row: sqlite3.Row, reviewed_only: bool = False) -> Example:
        # "+reviewed": looked up by page (the primary key), never through `labels_reviewed`,
        # which reads every reviewed label for each page where `labels_page_reviewed` is
        # missing (a store of before it, opened read-only: 40 s instead of 5 on 1,300 pages)
        query = "SELECT * FROM labels WHERE page_id = ?" + (" AND +reviewed = 1" if reviewed_only else "")
        blocks = [
            BlockLabel(text=r["text"], label=r["label"],
                       source=r["source"] if r["source"] != row["source"] else None,
                       labelled_by=r["labelled_by"], labelled_at=r["labelled_at"],
                       reviewed=bool(r["reviewed"]))
            for r in conn.execute(query + " ORDER BY position", (row["id"],))
        ]
        return Example(id=row["id"], blocks=blocks, html=row["html"], text=row["text"],
                       url=row["url"], source=row["source"], gold=row["gold"], origin=f"store:{row['id']}")


def examples_from(paths: Iterable[str | Path], store: str | Path | None, *, reviewed_only: bool = False,
                  allowed_labels: set[str] | None = None) -> ExampleSet:
    """Examples from JSON Lines files and/or a store, as `noisefilter train|evaluate` read them.
    An id in both is taken from the files (what the user named on the command line wins) and
    the overlap is reported; a document given again under another id is left out.
    `reviewed_only` leaves out the labels marked unreviewed, in the files as in the store (the
    labelling page's export holds the model's proposals beside the labels a person gave), and
    the pages left with none, which are reported: a file's page by page, the store's in one
    line (a store fills with bootstrapped pages by the thousand). Raises `StoreError` for a
    store file that is not one."""
    found = read_examples(paths, allowed_labels)
    if reviewed_only:
        for example in found.examples:
            reviewed = [b for b in example.blocks if b.reviewed is not False]
            example.unreviewed, example.blocks = len(example.blocks) - len(reviewed), reviewed
            if not example.blocks:
                found.problems.append(Problem(example.where, "no reviewed label (--reviewed-only); "
                                                             "page skipped"))
                found.unreviewed += 1
        found.examples = [e for e in found.examples if e.blocks]
    if store is not None:
        from_files = {e.id for e in found.examples}
        pages, unreviewed = 0, []
        for example in ExampleStore(store, read_only=True).iter_examples():
            pages += 1
            if example.id in from_files:
                found.problems.append(Problem(example.where, f"id {example.id!r} is also in the "
                                                             "example files; the files' version is used"))
                continue
            if reviewed_only:
                reviewed = [b for b in example.blocks if b.reviewed]
                example.unreviewed, example.blocks = len(example.blocks) - len(reviewed), reviewed
                if not example.blocks:
                    unreviewed.append(example.id)
                    continue
            if allowed_labels is not None:
                bad = [b for b in example.blocks if b.label not in allowed_labels | {"noncontent"}]
                for b in bad:
                    found.problems.append(Problem(example.where, f"unknown label {b.label!r}; left out"))
                example.blocks = [b for b in example.blocks if b not in bad]
            found.examples.append(example)
        found.unreviewed += len(unreviewed)
        if unreviewed:
            found.problems.append(Problem(str(store), f"{len(unreviewed)} of its {pages} pages "
                                                      f"{'has' if len(unreviewed) == 1 else 'have'} "
                                                      "no reviewed label (--reviewed-only), e.g. "
                                                      f"{unreviewed[0]!r}; pages skipped"))
    # one document under two ids (a page copied and renamed) is one page, as the store keeps
    # it: trained on twice, or scored twice, it counted double without a word
    firsts: dict[str, Example] = {}
    unique = []
    for example in found.examples:
        first = firsts.setdefault(example.document_sha256, example)
        if first is not example:
            found.problems.append(Problem(example.where, f"the same document as {first.where} "
                                                         f"(id {first.id!r}); page skipped"))
            continue
        unique.append(example)
    found.examples = unique
    return found


def _holds_a_store(path: str, db: str) -> bool:
    """Whether `path` is the store `db` (or one of its journal files) or another store."""
    for own in (db, f"{db}-wal", f"{db}-shm"):
        try:
            if os.path.samefile(path, own):
                return True
        except OSError:  # one of them does not exist
            pass
    try:
        return Path(path).is_file() and is_store_file(path)
    except OSError:  # unreadable: writing it fails and says so
        return False


def main(argv: list[str] | None = None) -> int:
    """``python -m train.store import DB FILE… | export DB -o FILE | count DB``. A reader of
    standard output that goes away (`count DB | head -3`) ends it quietly, with the status of
    a command killed by SIGPIPE, as `noisefilter` does (`filter.cli._reader_gone`)."""
    try:
        status = _main(argv)
        if sys.stdout is not None:  # closed (`>&-`): nothing to flush
            sys.stdout.flush()  # so that a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        from filter.cli import _reader_gone

        return _reader_gone()
    return status


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.store", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The store's commands, for ``python -m train.store`` and ``noisefilter store``."""
    # (metavar: without one, a missing action was "required: store_command")
    sub = parser.add_subparsers(dest="store_command", required=True,
                                metavar="{import,export,count,history}")
    db_help = "the example store (an SQLite file; `import` makes it)"
    imp = sub.add_parser("import", help="add JSON Lines examples to the store")
    imp.add_argument("db", metavar="DB", help=db_help)
    imp.add_argument("files", nargs="+", metavar="FILE",
                     help="JSON Lines examples (.gz, .bz2, .xz, .zst too)")
    imp.add_argument("--labelled-by", help="who labelled them (default: import:<file name>)")
    imp.add_argument("--source", help="source given to pages that name none")
    imp.add_argument("--unreviewed", action="store_true",
                     help="mark labels that do not say otherwise as not reviewed")
    exp = sub.add_parser("export", help="write the store as JSON Lines")
    exp.add_argument("db", metavar="DB", help=db_help)
    exp.add_argument("-o", "--out", required=True,
                     help="JSON Lines file to write (-: standard output)")
    exp.add_argument("--reviewed-only", action="store_true",
                     help="only the labels a person gave or confirmed")
    exp.add_argument("--overwrite", action="store_true",
                     help="replace the file even when it holds pages the store does not")
    cnt = sub.add_parser("count", help="print what the store holds (JSON)")
    cnt.add_argument("db", metavar="DB", help=db_help)
    his = sub.add_parser("history", help="print the labels that were replaced or removed, "
                                         "oldest first (JSON Lines)")
    his.add_argument("db", metavar="DB", help=db_help)
    his.add_argument("page", nargs="?", metavar="PAGE", help="only this page's (its id)")


def run(args: argparse.Namespace) -> int:
    if args.store_command != "import" and not os.path.exists(args.db):  # False for a name too long
        print(f"no store at {args.db}", file=sys.stderr)
        return 2
    if args.store_command == "import":
        # every file checked before any is imported: a missing second file came as a
        # traceback after the first had been committed
        missing = [f for f in args.files if not os.path.exists(f) or os.path.isdir(f)]
        if missing:
            print(f"example file(s) not found: {', '.join(missing)}", file=sys.stderr)
            return 2
        try:  # a pipe (`/dev/stdin`) is read as it is: peeking at it would lose its start
            stores = [f for f in args.files if os.path.isfile(f) and is_store_file(f)]
        except OSError as err:  # a file it may not read
            print(f"cannot read {err.filename}: {err.strerror or err}", file=sys.stderr)
            return 2
        if stores:
            print(f"{stores[0]} is an example store, not a JSON Lines file: export it first "
                  f"(noisefilter store export {stores[0]} -o FILE)", file=sys.stderr)
            return 2
    if args.store_command == "import" and args.labelled_by and len(args.labelled_by) > MAX_NAME_CHARS:
        # the labelling page sends it back with the page's labels, and the service refuses it
        print(f"--labelled-by is over {MAX_NAME_CHARS} characters", file=sys.stderr)
        return 2
    if args.store_command == "export" and _holds_a_store(args.out, args.db):
        # opened for writing, the store itself was emptied: every page and label lost
        print(f"{args.out} is an example store; export to a JSON Lines file", file=sys.stderr)
        return 2
    if args.store_command == "export" and args.out != "-":
        from .cli import holds_binary_data, model_file_refusal

        refusal = model_file_refusal(Path(args.out)) or (
            "holds binary data (a model?)" if holds_binary_data(Path(args.out)) else None)
        if refusal:  # a model overwritten with JSON Lines: every clean failed after
            print(f"{args.out} {refusal}; export to a JSON Lines file elsewhere", file=sys.stderr)
            return 2
    try:
        if args.store_command == "import":
            return _import(args)
        # export and count only read it, also on a read-only file system
        return _run(ExampleStore(args.db, read_only=True), args)
    except StoreError as err:  # not a store, or damaged past its first pages: one line
        print(err, file=sys.stderr)
        return 2


def _import(args: argparse.Namespace) -> int:
    """The import command. A store that exists is opened first (a file that is none is said
    before the files are read, a pipe among them); a new one is made only once a file gave an
    example: an import whose every line is a problem exits 2 (`import … && noisefilter train
    --store …` stops there) and leaves no empty store behind."""
    store = ExampleStore(args.db) if os.path.lexists(args.db) else None
    report, problems, read = AddReport(), 0, False
    for path in args.files:  # a file at a time, as `import_jsonl` reads them
        found = read_examples([path])
        for problem in found.problems:
            print(f"warning: {problem}", file=sys.stderr)
        problems += len(found.problems)
        if found.examples:
            read = True
            store = store or ExampleStore(args.db)
            report.merge(store.add_file(path, found, labelled_by=args.labelled_by,
                                        source=args.source, reviewed=not args.unreviewed))
    if problems and not read:
        print(f"no example could be read from {', '.join(map(str, args.files))}", file=sys.stderr)
        return 2
    if store is None:  # only empty files: the store they were to go into, empty
        ExampleStore(args.db)
    for why in report.refused.values():
        print(f"warning: page not stored: {why}", file=sys.stderr)
    print(report)
    return 0


def _run(store: ExampleStore, args: argparse.Namespace) -> int:
    if args.store_command == "export" and args.out == "-":
        # standard output as `noisefilter batch -o -` writes it: its own stream, not
        # /dev/stdout opened again (which emptied a file `>>` appended to, and cannot be
        # opened on a socket); the summary then goes to standard error
        if getattr(sys.stdout, "buffer", None) is None:  # None, or `noisefilter`'s stand-in
            print("standard output is closed: name a file with -o", file=sys.stderr)
            return 2
        try:
            sys.stdout.flush()
            written = store.export_jsonl(sys.stdout.buffer, reviewed_only=args.reviewed_only)
        except BrokenPipeError:
            raise  # -o - | head
        except OSError as err:  # a full disk (1, as for every command), a read-only stdout
            print(f"cannot write standard output: {err.strerror or err}", file=sys.stderr)
            return 1 if err.errno in _OUTPUT_FULL else 2
        print(f"{written} pages written to standard output", file=sys.stderr)
    elif args.store_command == "export":
        kept = None if args.overwrite else _pages_not_stored(Path(args.out), store)
        if kept:
            print(f"{args.out} {kept}; name a new file, or give --overwrite to replace it",
                  file=sys.stderr)
            return 2
        try:
            written = store.export_jsonl(args.out, reviewed_only=args.reviewed_only)
        except BrokenPipeError:
            raise  # -o /dev/stdout | head
        except OSError as err:
            print(f"cannot write {args.out}: {err.strerror or err}", file=sys.stderr)
            return 1 if err.errno in _OUTPUT_FULL else 2
        print(f"{written} pages written to {args.out}", file=summary_stream(args.out))
    elif args.store_command == "history":
        return _history(store, args.page, args.db)
    else:
        print(json.dumps(store.count(), indent=2))
    return 0


def _history(store: ExampleStore, page: str | None, where: str) -> int:
    """The history command: a line per replaced label, a count on standard error. A page id
    the store does not hold is an error (a mistyped id printed nothing, like a page never
    corrected)."""
    rows = store.history(page)
    if page is not None and not rows and page not in store:
        print(f"no page {page!r} in {where}", file=sys.stderr)
        return 2
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    print(f"{len(rows)} replaced label{'s' * (len(rows) != 1)}", file=sys.stderr)
    return 0


#: lines of a file read and looked up at a time (`_pages_not_stored`): one page's HTML each
_CHECKED_LINES = 256


def _pages_not_stored(path: Path, store: ExampleStore) -> str | None:
    """What an existing file holds that an export over it would lose, or None. Exporting over
    the last export, or over a file that was imported, loses nothing (its pages and labels are
    in the store, as corrected since); a file of labels made elsewhere (a holdout, a
    colleague's pages), labels corrected in the file and not imported yet, or lines that are
    no examples, were replaced without a word, where `bootstrap --out` refuses such a file.
    Read a few lines at a time: an earlier export holds every page's HTML."""
    missing, labels, unread = [], 0, 0
    try:
        if not path.is_file() or not path.stat().st_size:
            return None
        with open(path, "rb") as fh, decompressed(fh) as stream:
            while lines := list(islice(stream, _CHECKED_LINES)):
                found = parse_lines(lines, str(path))
                pages, unheld = store.unheld(found.examples)
                missing += pages
                labels += unheld
                unread += sum(problem.loses_page for problem in found.problems)
    except (OSError, ValueError, *damage_types()):  # unreadable: writing it says what fails
        return None
    if missing:
        return (f"holds {len(missing):,} page{'s' if len(missing) > 1 else ''} the store does not "
                f"(such as {missing[0]!r})")
    if labels:
        return (f"holds {labels:,} label{'s' if labels > 1 else ''} the store does not (corrected "
                "or marked reviewed in the file? `store import` it first)")
    if unread:
        return "holds text that is no labelled examples"
    return None


if __name__ == "__main__":
    sys.exit(main())
