"""What a batch reads: `Document`s streamed from folders of HTML files, JSON Lines and WARC files.

Every reader is a generator that holds one document at a time, so an input of any size costs
the memory of its largest page, not of the whole input. A reader never raises for one bad
document: what it cannot turn into a page (an unreadable file, a broken JSON line, a damaged
WARC record) comes out as a `Document` with a `Failure`, so the batch reports it in the output
in its place and goes on with the next one.

Ids are stable across runs, because a resumed batch skips the ids already in its output:
folder files are named by their path from the folder's parent (``html/0001.html.gz``), JSON
Lines records by their ``id`` (else ``FILE:LINE``), WARC records by their ``WARC-Record-ID``
(a damaged record's report by its place, ``FILE@OFFSET``: see `filter.warc`).
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from .compression import HEADER_BYTES, compression_of, damage_types, decompressed, strip_suffix

LOGGER = logging.getLogger(__name__)

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
WARC_SUFFIXES = (".warc",)
#: the input name that means JSON Lines on standard input
STDIN = "-"
#: an address where a file name was expected (`not_downloaded`)
_ADDRESS = re.compile(r"(?i)^(?:https?|ftp)://")


@dataclass(frozen=True)
class Failure:
    """Why a document produced no result: an exception's class name (or a reader's own kind,
    such as ``TruncatedRecord``) and a message that says what was wrong."""

    type: str
    message: str

    def to_dict(self) -> dict:
        return {"type": self.type, "message": self.message}


@dataclass
class Document:
    """One page to clean: `html` (bytes in any charset, or str) or already-extracted `text`.
    `charset` is the one the page's HTTP header named (a WARC response's Content-Type), for
    `Cleaner.clean` to read the bytes in: ``cleaner.clean(doc.html, url=doc.url,
    charset=doc.charset)``; `Cleaner.clean_text` reads `text` bytes in it too.

    `failure` is set instead when the reader could not get a page out of the input; such a
    document is reported, not cleaned. `meta` carries facts from the container that belong in
    the output line (for WARC: the record date, and whether the crawler truncated the payload).
    `resolve_links` is False when `url` names the page in the output only and the page is
    cleaned without it: a WARC record's target URI that is no page URL the cleaner takes
    (``file:…``, ``urn:…``), which would have failed a good page; a saved page's ``file:`` URL
    from any input (its links would resolve to files).
    """

    id: str
    html: bytes | str | None = None
    text: str | None = None
    url: str | None = None
    source: str | None = None
    failure: Failure | None = None
    meta: dict = field(default_factory=dict)
    resolve_links: bool = True
    charset: str | None = None  # last: a Document made by position keeps its fields


_FIFO = "a named pipe (FIFO)"


def _special_file(path: Path) -> str | None:
    """What `path` is when it exists but is neither a regular file nor a folder (a FIFO, a
    socket, a device, directly or through a symlink), else None. Reading such a thing can
    wait forever (a FIFO without a writer) or never end (a device). A path that cannot be
    looked at (a broken symlink) is not special: reading it reports why."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return _FIFO
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def input_kind(path: str | Path) -> str:
    """``folder``, ``html``, ``jsonl`` or ``warc``, from the path (a compression suffix is
    looked through: ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` for pages and JSON Lines, ``.gz`` for
    a WARC, which `filter.warc` decompresses itself). Raises `ValueError` for anything else,
    before any work starts, including an input that is not a regular file (see
    `_special_file`), except a named pipe of JSON Lines, which streams documents from a
    producer as they come."""
    if str(path) == STDIN:
        return "jsonl"
    path = Path(path)
    if path.is_dir():
        return "folder"
    kind = kind_by_name(path.name)
    special = _special_file(path)
    if special == _FIFO and not kind:  # `<(zcat pages.jsonl.gz)`: /dev/fd/63 has no name to read
        raise ValueError(f"{path}: a named pipe without a .jsonl name, so not known to be JSON "
                         "Lines: pipe it to standard input instead (zcat pages.jsonl.gz | "
                         "noisefilter batch - …)")
    if special and not (special == _FIFO and kind == "jsonl"):
        raise ValueError(f"{path}: {special}, not a regular file")
    if kind:
        return kind
    raise ValueError(f"{path}: not a folder, an .html or .jsonl file (plain, .gz, .bz2, .xz "
                     "or .zst) or a .warc[.gz] file")


def read_inputs(paths: Iterable[str | Path], max_bytes: int = 10_000_000) -> Iterator[Document]:
    """All documents of all inputs, in the order given. `max_bytes` is the size above which a
    page is reported as too large without being read into memory."""
    for path in paths:
        kind = input_kind(path)
        if kind == "folder":
            yield from read_folder(path, max_bytes)
        elif kind == "html":
            yield read_html_file(Path(path), Path(path).name, max_bytes)
        elif kind == "jsonl":
            yield from read_jsonl(path, max_bytes)
        else:
            from .warc import read_warc  # warcio is an optional dependency (the `warc` extra)

            yield from read_warc(path, max_bytes=max_bytes)


def read_folder(folder: str | Path, max_bytes: int = 10_000_000) -> Iterator[Document]:
    """Every ``.html``/``.htm`` file (plain or compressed: see `is_page_name`) under `folder`,
    recursively, in sorted order so that the output order is the same on every run. Only
    regular files (and symlinks to them) are pages: a FIFO, socket or device of that name is
    skipped, as opening or reading it could wait forever. Symlinks to folders are followed (a
    crawl's folders linked into one tree were skipped without a word), each folder read once
    however many links lead to it, so a link back up the tree ends there. A folder that cannot be listed is an
    `UnreadableFile` document named after it (os.walk passed over it, and its pages were
    missing from the output without a word)."""
    folder = Path(folder)
    prefix = folder.resolve().name  # the folder's own name, however the path was written
    seen: set[str] = set()
    unlisted: list[OSError] = []
    pages = inputs = others = 0
    first_input: Path | None = None  # a WARC or JSON Lines file, named in the warning
    for root, dirs, files in os.walk(folder, followlinks=True, onerror=unlisted.append):
        yield from _unlisted_folders(unlisted, folder, prefix)
        real = os.path.realpath(root)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            kind = kind_by_name(name)
            if kind == "html" and not _special_file(path):
                pages += 1
                yield read_html_file(path, f"{prefix}/{path.relative_to(folder).as_posix()}",
                                     max_bytes)
            elif kind in ("jsonl", "warc"):
                inputs += 1
                first_input = first_input or path
            else:
                others += 1
    yield from _unlisted_folders(unlisted, folder, prefix)
    if not pages and inputs:
        # a folder of WARCs gave nothing, status 0, and no word why
        # (its pattern was always *.warc.gz, which named none of a folder of JSON Lines)
        LOGGER.warning("%s holds no page file (.html, .htm, .xhtml) but %d WARC or JSON Lines "
                       "file%s, which are read only when named as inputs (such as %s)",
                       folder, inputs, "s" * (inputs != 1), first_input)
    elif not pages and others:
        # a mirror saved without extensions (wget without -E: story.php?id=3, page) gave
        # nothing, status 0, and no word why
        LOGGER.warning("%s holds no page file (.html, .htm, .xhtml) but %d other file%s: pages "
                       "are read from a folder by their names (rename them, or give them as "
                       "JSON Lines)", folder, others, "s" * (others != 1))


def _unlisted_folders(errors: list[OSError], folder: Path, prefix: str) -> Iterator[Document]:
    """The folders `os.walk` could not list so far, as failures (the list is emptied)."""
    for err in errors:
        path = Path(err.filename)
        relative = path.relative_to(folder).as_posix()
        name = prefix if relative == "." else f"{prefix}/{relative}"
        yield Document(id=name, source=str(path), failure=Failure(
            "UnreadableFile", f"{path}: the folder cannot be listed: {err.strerror}"))
    errors.clear()


def is_page_name(name: str) -> bool:
    """Whether a file of this name in an input folder is read as a page: ``.html``, ``.htm`` or
    ``.xhtml``, plain or compressed (``.gz``, ``.bz2``, ``.xz``, ``.zst``)."""
    return kind_by_name(name) == "html"


def kind_by_name(name: str) -> str | None:
    """``html``, ``jsonl`` or ``warc`` by a file's name, a compression suffix looked through
    (``.gz``, ``.bz2``, ``.xz`` or ``.zst`` for pages and JSON Lines, ``.gz`` for a WARC);
    None for any other name."""
    name = name.lower()
    stem = strip_suffix(name)
    if stem.endswith(HTML_SUFFIXES):
        return "html"
    if stem.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.removesuffix(".gz").endswith(WARC_SUFFIXES):
        return "warc"
    return None


def read_at_most(fh: BinaryIO, limit: int, piece: int = 1 << 24) -> bytes:
    """Up to `limit` bytes of `fh`, read a piece at a time: `fh.read(limit)` sets `limit`
    bytes aside first, so a generous limit (`--max-bytes 100000000000`) failed with
    MemoryError on a small file."""
    parts, size = [], 0
    while size < limit and (part := fh.read(min(limit - size, piece))):
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _zstd_page(fh: BinaryIO, max_bytes: int) -> bytes:
    """A zstd page file's page, up to just past `max_bytes`, read as a zstd body sent to the
    service is (`unzstd`: at most `MAX_ZSTD_FRAMES` frames, `ValueError` past them): a page is
    one frame or a few, and through `ZstdFile` a 9 MB file of a million empty frames took 15 s
    of the batch's reader, outside any time limit. Read whole, its compressed bytes are held
    to the size a page within the limit can take (zstd adds a few bytes per 128 KB block);
    past it, the page is over the limit."""
    from .decoding import unzstd  # lazily: it imports trafilatura, which reading files needs not

    most = max_bytes + max_bytes // 64 + (1 << 16)
    packed = read_at_most(fh, most + 1)
    if len(packed) > most:
        return packed[:max_bytes + 1]  # (over the limit: its length says so)
    return unzstd(packed, max_bytes, partial_ok=False)


def read_html_file(path: Path, doc_id: str, max_bytes: int) -> Document:
    """One HTML file as a document; a compressed file (known by its first bytes, whatever its
    name) is decompressed here, with the size limit applied to the uncompressed page (a small
    .gz can hold a huge page)."""
    try:
        with open(path, "rb") as fh:
            if compression_of(fh.peek(HEADER_BYTES)[:HEADER_BYTES]) == "zstd":
                data = _zstd_page(fh, max_bytes)
            else:
                with decompressed(fh) as stream:
                    data = read_at_most(stream, max_bytes + 1)
        too_large = len(data) > max_bytes
    except (*damage_types(), ValueError) as err:  # ValueError: zstd damaged, cut, of too many
        # frames, or without a zstd module
        return Document(id=doc_id, source=str(path),
                        failure=Failure("UnreadableFile", f"{path}: {err}"))
    if too_large:
        return Document(id=doc_id, source=str(path), failure=Failure(
            "InputTooLarge", f"{path} holds more than the limit of {max_bytes:,} bytes"))
    return Document(id=doc_id, html=data, source=str(path))


def read_jsonl(path: str | Path, max_bytes: int = 10_000_000) -> Iterator[Document]:
    """Records of a JSON Lines file: objects with ``html`` (or ``text``), ``url`` and optionally
    ``id``. A line that is not such an object is reported under the id ``FILE:LINE``; a last line
    cut short (no newline, not JSON) and a read error after line N-1, under ``FILE@N``. `STDIN`
    (``-``) reads them from standard input, as another program writes them (``zcat
    pages.jsonl.gz | noisefilter batch - -o out.jsonl``), their ids ``stdin:LINE``. A file or
    stream compressed with gzip, bzip2, xz or zstd is decompressed (known by its first bytes).

    A record whose page is over `max_bytes` is reported as too large here, not sent to be
    cleaned; a line longer than the reader holds (`_line_limit`) is not even read: it is
    reported under ``FILE:LINE``, as a line that is no JSON is. A file that is no JSON Lines at
    all (UTF-16 or UTF-32, one JSON array, pretty-printed objects, a WARC, an archive or an
    image) is one report, under the place where that shows, ``FILE@1`` (the line of the ``[``
    or ``{`` after blank lines).
    """
    if str(path) == STDIN:  # a duplicate of the descriptor, so that closing it leaves stdin open
        yield from _jsonl_records(lambda: os.fdopen(os.dup(sys.stdin.fileno()), "rb"), "stdin",
                                  STDIN, max_bytes)
        return
    path = Path(path)
    yield from _jsonl_records(lambda: open(path, "rb"), path.name, str(path), max_bytes)


#: byte-order marks of the encodings a JSON Lines file is refused in (UTF-32 first: its
#: little-endian mark starts with UTF-16's)
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
#: the most of a line read at a time (`_lines`)
_PIECE = 1 << 20
#: the longest line read whatever `max_bytes` is: a record may carry fields besides its page
#: (a screenshot, the raw response), and one whose page was within the limit was refused
#: for its length, under no id, with a message blaming the page
_LINE_FLOOR = 256 << 20


def _line_limit(max_bytes: int) -> int:
    """The longest JSON line read, held whole and parsed: enough for a page of `max_bytes`
    (JSON may spell one byte of a page in six, a control character as ``\\u001f``) and the
    record's other fields, at least `_LINE_FLOOR`. A longer line is refused unread
    (`_lines`): memory, not the page's size, sets this limit."""
    return max(6 * max_bytes + _PIECE, _LINE_FLOOR)


def _jsonl_records(open_stream: Callable[[], BinaryIO], name: str, source: str,
                   max_bytes: int) -> Iterator[Document]:
    limit = _line_limit(max_bytes)
    where = "standard input" if source == STDIN else source
    lineno = 0
    started = False  # a line that is not blank was read
    try:
        with open_stream() as raw, decompressed(raw) as fh:
            for line, ended, size in _lines(fh, limit):
                lineno += 1
                if lineno == 1 and (encoding := _bom_encoding(line)):
                    # every line came out "not valid JSON", one report each
                    yield Document(id=f"{name}@1", source=source, failure=Failure(
                        "UnreadableFile", f"{where} is {encoding} text (it starts with a "
                        "byte-order mark, as PowerShell's > writes): save it as UTF-8 JSON "
                        f"Lines (iconv -f {encoding} -t UTF-8)"))
                    return
                if size > limit:
                    started = True
                    yield Document(
                        id=f"{name}:{lineno}", source=source,
                        failure=Failure("InputTooLarge", f"line {lineno} is {size:,} bytes, more "
                                        f"than the {limit:,} a record is read whole up to with "
                                        f"--max-bytes {max_bytes:,}: not read (--max-bytes "
                                        f"{size} reads it and takes its page)"))
                elif line.strip():
                    opens = opens_json_value(line) if not started and ended else None
                    if opens == "[":
                        # a pretty-printed JSON array (a .json file) was one report per line
                        yield Document(id=f"{name}@{lineno}", source=source, failure=Failure(
                            "UnreadableFile", f"{where} is one JSON array, not JSON Lines (one "
                            "object per line): write its items one per line, with jq -c '.[]'"))
                        return
                    if opens == "{":
                        # a pretty-printed object (jq's default output, json.dump(indent=…))
                        yield Document(id=f"{name}@{lineno}", source=source, failure=Failure(
                            "UnreadableFile", f"{where} is pretty-printed JSON (an object over "
                            "several lines), not JSON Lines (one object per line): write each "
                            "object on one line, with jq -c ."))
                        return
                    if not started and (kind := _not_text(line)):
                        # a tar or an image named .jsonl: a report per "line" of it (7,903
                        # for one small tar.gz)
                        yield Document(id=f"{name}@{lineno}", source=source, failure=Failure(
                            "UnreadableFile", f"{where} is {kind}, not JSON Lines"))
                        return
                    if not started and _WARC_START.match(line):
                        # a WARC piped in, or named .jsonl: a report per header and HTML line
                        yield Document(id=f"{name}@{lineno}", source=source, failure=Failure(
                            "UnreadableFile", f"{where} is a WARC, not JSON Lines: give it as a "
                            "file named .warc or .warc.gz (a WARC is read from a file, not "
                            "from standard input)"))
                        return
                    started = True
                    # A last line without "\n" that is not JSON was cut short (a stream or a
                    # download still under way, a producer that died): its report takes the id
                    # FILE@LINE, which no record has, so that the whole record, once the input
                    # is whole again, is not taken for done when resuming.
                    cut_id = None if ended else f"{name}@{lineno}"
                    yield _jsonl_document(line, f"{name}:{lineno}", source, max_bytes, cut_id)
                if not ended:
                    # the end of the file as it was: read on, the rest of a line a writer is
                    # still adding came back as a line of its own, and every later record
                    # took the number of the one after it (resuming then cleaned pages twice)
                    return
    except (*damage_types(), ValueError) as err:  # FILE@LINE too: what the record is is unknown
        yield Document(id=f"{name}@{lineno + 1}", source=source,
                       failure=Failure("UnreadableFile", f"{where} after line {lineno}: {err}"))


def _lines(fh: BinaryIO, limit: int) -> Iterator[tuple[bytes, bool, int]]:
    """The lines of `fh`, each with whether it ended (a newline came before the end of the
    input) and its length in bytes. Of a line over `limit` bytes only the first piece is kept
    and given, enough to see how the input starts: the rest is read a piece at a time and
    dropped. Read whole, a 208 MB record took 1.1 GB before the cleaner refused it (and
    `fh.readline(limit)` holds the limit twice over, in pieces and joined)."""
    parts: list[bytes] = []
    size = 0
    while piece := fh.readline(_PIECE):
        size += len(piece)
        if size <= limit:
            parts.append(piece)
        if piece.endswith(b"\n"):
            line, length = (b"".join(parts) if size <= limit else parts[0]), size
            parts, size = [], 0  # not held beside the line while it is parsed
            yield line, True, length
    if parts:  # the last line, without its newline
        yield (b"".join(parts) if size <= limit else parts[0]), False, size


def _not_text(line: bytes) -> str | None:
    """What a file whose first line is `line` is when it is surely no JSON Lines: a format
    known by its first bytes (`file_format`; a PNG's first line ends inside its signature), a
    tar archive, or UTF-16 text without a byte-order mark (every other byte NUL). Else None: a
    first line of NULs (a crash's) or in Latin-1 is that line's problem alone, the records
    after it read."""
    from .decoding import file_format  # (brings trafilatura: not for `noisefilter --help`)

    kind = file_format(line) or ("a PNG image" if line.startswith(b"\x89PNG\r\n") else None)
    if kind:
        return kind
    if line[257:262] == b"ustar":
        return "a tar archive"
    sample = line[:64].rstrip(b"\r\n")
    for nul, other in ((sample[1::2], sample[0::2]), (sample[0::2], sample[1::2])):
        if len(sample) >= 4 and not nul.strip(b"\x00") and b"\x00" not in other:
            return "UTF-16 text without a byte-order mark"
    return None


def _bom_encoding(start: bytes) -> str | None:
    """``UTF-16`` or ``UTF-32`` when `start`, a file's first bytes, is that encoding's
    byte-order mark, else None."""
    return next((encoding for bom, encoding in _BOMS if start.startswith(bom)), None)


#: a WARC record's version, as its first line gives it: the versions warcio reads (the drafts
#: 0.17 and 0.18 frame records as 1.0 does, and crawlers of their time wrote them)
WARC_VERSION = rb"WARC/(?:1\.[01]|0\.1[78])"
#: the first line of a WARC
_WARC_START = re.compile(rb"\s*" + WARC_VERSION + rb"\s*$")


def opens_json_value(line: bytes) -> str | None:
    """"[" or "{" when `line`, the first of a file, opens a JSON array or object that goes on
    in the lines after it: ``[``, or ``[{`` and more of a pretty-printed array (JSON that ends
    before it is whole), or a ``{`` alone, as pretty-printers start an object. A whole value
    on one line (``[1, 2]``), a broken one (``[1, x]``) or a record broken across lines
    (``{"id": "a",``) is one bad line of a JSON Lines file like any other."""
    line = line.removeprefix(codecs.BOM_UTF8).strip()  # PowerShell 5 writes UTF-8 with one
    if line == b"{":
        return "{"
    if not line.startswith(b"["):
        return None
    try:
        json.loads(line)
    except json.JSONDecodeError as err:
        return "[" if err.pos == len(err.doc) else None
    except (ValueError, RecursionError):  # not UTF-8; "[[[[…" nested too deeply to read
        return None
    return None


def not_downloaded(path: str) -> str:
    """What to add to "no such file" for an input named by its address: noisefilter cleans
    pages a crawler saved and downloads nothing, which "https://…: no such file" left a first
    try (`noisefilter clean https://…`) to guess."""
    if not _ADDRESS.match(path):
        return ""
    return (" (noisefilter reads saved pages and downloads nothing: save it first, e.g. curl -o "
            "page.html URL)")


def is_file_url(url: str | None) -> bool:
    """Whether `url` names a saved copy of a page (``file:…``): the output keeps it, the page is
    cleaned without it, whatever the input (a JSON Lines record failed with "not an absolute
    URL" where the same page in a WARC was cleaned)."""
    if not isinstance(url, str):
        return False
    try:
        return urlsplit(url.strip()).scheme.lower() == "file"
    except ValueError:
        return False


def given_id(value: Any) -> str | None:
    """A document's own id as the output gives it (`id_text`), or None where it gives none:
    no value, or an empty or blank string (an export's empty id column), which would name
    every such record alike, and resuming took all but the first for done."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return id_text(value)


def id_text(value: Any) -> str:
    """A document's id as the output gives it: a str as it is, anything else as JSON spells it
    (true, {"a": 1}: not Python's repr, "True", "{'a': 1}", which `clean_many` gave where a
    JSON Lines input gave JSON's), or, what JSON cannot spell (a UUID), as `str` does."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _jsonl_document(line: bytes, fallback_id: str, source: str, max_bytes: int,
                    cut_id: str | None = None) -> Document:
    """`cut_id`: the id for a line that is not JSON, if it may have been cut short. A page over
    `max_bytes` is refused here, as the cleaner would refuse it, rather than sent to a worker
    process first."""
    try:
        record = json.loads(line)
    except UnicodeDecodeError as err:  # JSON is UTF-8: a line saved in Latin-1 or windows-1252
        at = err.start + len(line) - len(err.object)  # json decodes past a byte-order mark
        return Document(id=cut_id or fallback_id, source=source, failure=Failure(
            "BadInputLine", f"not UTF-8 (byte 0x{err.object[err.start]:02x} at byte {at + 1} of "
                            "the line): JSON Lines are UTF-8; write the file so (iconv -t UTF-8)"))
    except ValueError as err:  # not JSON, or a number of over 4,300 digits
        return Document(id=cut_id or fallback_id, source=source,
                        failure=Failure("BadInputLine", f"not valid JSON: {err}"))
    except RecursionError:  # "[[[[…" thousands deep: the json module recurses per level
        return Document(id=cut_id or fallback_id, source=source, failure=Failure(
            "BadInputLine", "JSON nested too deeply to read"))
    if not isinstance(record, dict):
        return Document(id=fallback_id, source=source, failure=Failure(
            "BadInputLine", f"expected a JSON object, got {type(record).__name__}"))
    doc_id = given_id(record.get("id")) or fallback_id
    url = record.get("url")
    if url is not None and not isinstance(url, str):
        return Document(id=doc_id, source=source, failure=Failure(
            "BadInputLine", f'"url" must be a string, got {type(url).__name__}'))
    url = url or None
    html, text = record.get("html"), record.get("text")
    if html is not None and text is not None:  # which one is the page cannot be known
        return Document(id=doc_id, url=url, source=source, failure=Failure(
            "BadInputLine", 'the object has "html" and "text": give one (the service and '
                            'the examples refuse both too)'))
    # imported here: the command line imports this module at its start, and the decoding
    # module imports the pipeline's parser, which takes seconds
    from .decoding import size_error

    if isinstance(html, str):
        page, too_large = {"html": html}, size_error(html, max_bytes)
    elif isinstance(text, str):
        page, too_large = {"text": text}, size_error(text, max_bytes, text=True)
    else:
        return Document(id=doc_id, url=url, source=source, failure=Failure(
            "BadInputLine", 'the object has no "html" (or "text") string'))
    if too_large is not None:
        return Document(id=doc_id, url=url, source=source,
                        failure=Failure("InputTooLarge", str(too_large)))
    return Document(id=doc_id, url=url, source=source, resolve_links=not is_file_url(url), **page)
