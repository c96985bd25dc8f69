"""WARC (and WARC.gz) files as a stream of `Document`s that survives damaged files.

Crawl archives are often damaged: a crawler stopped mid-write, a download cut short, a
corrupt gzip member in the middle of a file. Neither warcio nor FastWARC recovers from that
(both stop at a corrupt gzip member, losing every later page, and a record cut at the end of a
file is silently dropped by one and returned empty by the other). So this module frames the
records itself:

- **framing** (here): find each record by its ``Content-Length``, check that the block ends
  where the header says (``\\r\\n\\r\\n`` follows) and, in a ``.warc.gz``, that the gzip
  member holding it ends with a valid checksum. A record that fails is reported as a
  ``DamagedRecord`` and reading resumes at the next record start found in the uncompressed
  bytes, or after corrupt gzip data, at the next gzip member, so one damaged record loses
  that record and nothing else.
- **parsing** (warcio): each complete record goes through warcio's record loader, which parses
  the WARC and HTTP headers. The chunked transfer coding and content encodings (gzip, deflate,
  brotli, zstd) are undone here, strictly, because warcio's readers return a silently cut page
  when the body is cut or corrupt (and know no zstd).

Only ``response`` and ``resource`` records can hold pages; other record types (request,
metadata, warcinfo, revisit) are skipped without a report. A response that is not a page is
reported: ``NotHTML`` (an image, a PDF), ``HTTPStatus`` (a redirect, a 404),
``UndecodablePayload`` (a broken content encoding), ``InputTooLarge``. A record the crawler cut
short on purpose (``WARC-Truncated``) is still cleaned; its output line says so.

Memory: one record at a time, and a record over the size limit is skipped without being read
into memory.
"""

from __future__ import annotations

import io
import re
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from warcio.recordloader import ArcWarcRecordLoader

from .decoding import header_charset, inflate, unbrotli, unzstd
from .extract import is_page_url
from .inputs import WARC_VERSION, Document, Failure

_CHUNK = 1 << 20
#: most uncompressed bytes one step of decompression may produce: it guards against gzip bombs,
#: and going back to a record start inside a gzip member decompresses its step again
_OUT_CHUNK = 64 << 10
_GZIP_MAGIC = b"\x1f\x8b\x08"
#: a record's first line, white space around it aside (`WARC_VERSION`)
_VERSION = re.compile(WARC_VERSION)
#: a record's first line, where one is expected
_RECORD_LINE = re.compile(WARC_VERSION + rb"\s")
_RECORD_LINE_MAX = len(b"WARC/0.17\n")
#: where a record may start, when one is searched for after damage: a version that ends its
#: line (stray bytes before it are damage, but a "WARC/1.0" in running text is no record)
_RECORD_START = re.compile(WARC_VERSION + rb"[ \t\r]{0,8}\n")
_RECORD_START_MAX = len(b"WARC/0.17") + 9
#: what may follow the last gzip member of a .warc.gz without being damage
_PADDING = b"\x00\r\n\t "
_MAX_HEADER_LINE = 64 * 1024
#: most bytes a record's WARC header may hold (real ones hold a few hundred; one that never
#: ends would otherwise be held whole, at many times its size)
_MAX_HEADER = 1 << 20
#: fields a record's header holds once (WARC 1.1, section 5): a second is the next record's
_ONCE = ("warc-type", "warc-record-id")
#: room for the HTTP headers above the page size limit when judging a record's size
_HTTP_HEADER_ROOM = 64 * 1024
_PAGE_TYPES = ("response", "resource")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
#: the values a Content-Type header lists, split at commas outside quoted strings
_HEADER_VALUES = re.compile(r'(?:"(?:[^"\\]|\\.)*"?|[^,"])+')
#: a media type's "type/subtype", each an HTTP token
_MIME_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+/[!#$%&'*+.^_`|~0-9a-z-]+")
#: an HTML page's start, past an XHTML page's XML declaration and leading comments: a doctype,
#: or a tag that only opens an HTML document (HTML5 lets a page start at `<meta charset>` or
#: `<title>`; with only doctype, html, head and body, such pages and XHTML ones stored decoded
#: under their Content-Encoding were lost as undecodable). Each comment ends at its first "-->"
#: (the tempered dot) and the comments, once matched, are never re-split (the possessive `*+`):
#: with ``(<!--.*?-->\s*)*`` a lazy dot could run across "-->", so a body of many comments
#: followed by anything but a tag was tried in exponentially many ways (40 comments: hours).
#: A tag name ends at white space, "/" or ">", as browsers read it: `<link:linkbase>` (XBRL)
#: and `<meta-data>` are XML.
_SNIFF = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*+(?:<\?xml\s[^>]*+>\s*+)?(?:<!--(?:(?!-->).)*+-->\s*+)*+"
    rb"<(?:!doctype\s+html|(?:html|head|body|meta|title|link|base|style)(?=[\s/>]))",
    re.I | re.S)


class _RecordLoader(ArcWarcRecordLoader):
    """warcio's record loader, reading the status lines of HTTP/2 and HTTP/3 responses too
    (crawlers write "HTTP/2 200", Go's net/http "HTTP/2.0 200"; warcio expects HTTP/1.x and
    refused the whole record). warcio takes the first protocol a status line starts with, so
    the longer forms come first ("HTTP/2" read "HTTP/2.0 200" as status ".0")."""

    HTTP_TYPES = [*ArcWarcRecordLoader.HTTP_TYPES, "HTTP/2.0", "HTTP/3.0", "HTTP/2", "HTTP/3"]

    def load_http_headers(self, rec_type, uri, stream, length):
        """warcio's, for a target URI whose scheme is in any case: URI schemes are, and warcio
        read the HTTP headers of "http:" and "https:" ones only ("HTTP://site/" came out as
        content type application/http, not HTML, and its page was lost)."""
        scheme, colon, rest = uri.partition(":")
        return super().load_http_headers(rec_type, scheme.lower() + colon + rest, stream, length)


class _Damaged(Exception):
    """A record could not be read whole. `started` tells whether a valid record header was
    read (then the damage is worth a report; else the reader was only looking for a start)."""

    def __init__(self, message: str, started: bool = False, record_id: str | None = None,
                 url: str | None = None):
        super().__init__(message)
        self.started = started
        self.record_id = record_id
        self.url = url


class _GzipDamage(_Damaged):
    """The gzip data itself is corrupt or cut: nothing after the damage in its member can be
    decompressed (`_Stream.next_record` goes on at the next member)."""


@dataclass(frozen=True)
class _Step:
    """One step of gzip decompression whose output may still be needed: where that output
    starts (the file offset of its member, and the offset in the member's uncompressed bytes),
    its length, and what produces it again (a copy of the decompressor before the step, and the
    file offset of the compressed bytes it was fed)."""

    member: int
    out: int
    size: int
    dec: Any
    fed: int


@dataclass(frozen=True)
class _Place:
    """A place in a WARC file, such as where a record starts. In a plain WARC, `offset` is its
    file offset. In a .warc.gz, `offset` is the file offset of the gzip member holding it and
    `inner` its offset in that member's uncompressed bytes: 0 when a record starts its member,
    as WARC writers write them (one member per record), more when a member holds several
    records (a file gzipped whole is one member); `step` decompresses from there again."""

    offset: int
    inner: int = 0
    step: _Step | None = None

    def __str__(self) -> str:
        """As in ids: ``OFFSET``, or ``MEMBER+INNER`` inside a gzip member."""
        return f"{self.offset}+{self.inner}" if self.inner else str(self.offset)

    def describe(self) -> str:
        if not self.inner:
            return f"at byte {self.offset:,}"
        return f"at uncompressed byte {self.inner:,} of the gzip member at byte {self.offset:,}"


class _Stream:
    """The uncompressed bytes of a WARC file, with the places needed to report a record and
    to skip past damage. For ``.warc.gz`` it decompresses gzip members itself, so that it
    knows where each member starts and whether it ended with a valid checksum, and it keeps
    the decompression steps whose output is still buffered, so that it can go back to a
    record's start inside a member (`next_record`)."""

    def __init__(self, fh: BinaryIO, gz: bool):
        self.fh = fh
        self.gz = gz
        self.buf = bytearray()
        self.raw_pos = fh.tell()  # file offset of the next byte not yet taken from the file
        self.pending = b""  # gz: compressed bytes taken from the file but not yet decompressed
        self.member_open = False
        self.first_member: int | None = None  # gz: file offset of the first gzip member
        self.member_start = 0
        self.member_ended: tuple[int, int] | None = None  # gz: the last member that ended: start, end
        #: gz: records read from inside a gzip member, not found by a search after damage (a
        #: per-record writer puts at most one there: a response after warcinfo)
        self.inside_members = 0
        self.member_out = 0  # gz: uncompressed bytes the current member has given so far
        self.steps: deque[_Step] = deque()  # gz: the steps that made `buf`, oldest first
        self.used = 0  # gz: bytes of the oldest step's output already taken from `buf`
        self.dec = None
        self.failed: _GzipDamage | None = None  # corrupt data met after the buffered output

    def here(self) -> _Place:
        """The place of the next unread byte."""
        if not self.gz:
            return _Place(self.raw_pos - len(self.buf))
        if not self.buf:
            self.peek(1)
        if self.steps:
            step = self.steps[0]
            return _Place(step.member, step.out + self.used, step)
        return _Place(self.member_start, self.member_out)

    def _fill(self) -> bool:
        """Append more uncompressed bytes to the buffer; False at the end of the file."""
        if not self.gz:
            chunk = self.fh.read(_CHUNK)
            self.raw_pos += len(chunk)
            self.buf += chunk
            return bool(chunk)
        if self.failed is not None:
            raise self.failed
        while True:
            if not self.pending:
                self.pending = self.fh.read(_OUT_CHUNK)
                self.raw_pos += len(self.pending)
                if not self.pending:
                    if self.member_open:
                        raise _GzipDamage("the file ends inside a gzip member")
                    return False
            if not self.member_open:
                # white space or NULs after a member (a newline added by an editor, a block
                # device's padding) start no member: not damage
                self.pending = self.pending.lstrip(_PADDING)
                if not self.pending:
                    continue
                self.member_start = self.raw_pos - len(self.pending)
                if self.first_member is None:
                    self.first_member = self.member_start
                self.member_out = 0
                self.dec = zlib.decompressobj(31)
                self.member_open = True
            data, self.pending = self.pending, b""
            before = self.dec.copy()
            fed = self.raw_pos - len(data)
            try:
                out = self.dec.decompress(data, _OUT_CHUNK)
            except zlib.error as err:
                # what decompresses before the damage (a record's header, say) is still read,
                # so that the damage is reported against the record it hit
                self.failed = _GzipDamage(f"corrupt gzip data: {err}")
                out = _salvage(before.copy(), data)
                if not out:
                    raise self.failed from err
                self._add(out, before, fed)
                return True
            if self.dec.eof:
                self.pending = self.dec.unused_data
                self.member_open = False
                self.member_ended = (self.member_start, self.raw_pos - len(self.pending))
            else:
                self.pending = self.dec.unconsumed_tail
            if out:
                self._add(out, before, fed)
                return True

    def _add(self, out: bytes, before, fed: int) -> None:
        self.steps.append(_Step(self.member_start, self.member_out, len(out), before, fed))
        self.member_out += len(out)
        self.buf += out

    def _drop(self, n: int) -> None:
        """Take `n` buffered bytes (no more than there are) off the front."""
        del self.buf[:n]
        if self.gz:
            self.used += n
            while self.steps and self.used >= self.steps[0].size:
                self.used -= self.steps.popleft().size

    def _take(self, n: int) -> bytes:
        out = bytes(self.buf[:n])
        self._drop(n)
        return out

    def readline(self) -> bytes:
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                return self._take(end + 1)
            if len(self.buf) > _MAX_HEADER_LINE:
                raise _Damaged("a header line is longer than 64 KiB")
            if not self._fill():
                return self._take(len(self.buf))

    def read(self, n: int) -> bytes:
        """Up to `n` bytes (fewer only at the end of the file)."""
        while len(self.buf) < n and self._fill():
            pass
        return self._take(n)

    def peek(self, n: int) -> bytes:
        """Up to `n` bytes without taking them. Damage met while reading ahead is left for
        the read that needs those bytes to report."""
        try:
            while len(self.buf) < n and self._fill():
                pass
        except _Damaged:
            pass
        return bytes(self.buf[:n])

    def skip(self, n: int) -> int:
        """Discard up to `n` bytes without holding them; returns how many there were."""
        done = 0
        while done < n:
            if not self.buf and not self._fill():
                break
            step = min(n - done, len(self.buf))
            self._drop(step)
            done += step
        return done

    def skip_blank_lines(self) -> None:
        """Pass the blank lines that end the previous record."""
        while True:
            if self.peek(2) == b"\r\n":
                self._drop(2)
            elif self.peek(1) == b"\n":
                self._drop(1)
            else:
                return

    def settle(self) -> None:
        """In a ``.warc.gz``, read on to the end of the gzip member that held the record just
        read (if nothing else is buffered), so that its checksum is verified before the record
        is handed on."""
        while self.gz and not self.buf and self.member_open:
            self._fill()

    def _forget(self) -> None:
        """Drop what is buffered, before reading from another place."""
        self.buf.clear()
        self.steps.clear()
        self.used = 0
        self.pending = b""
        self.failed = None

    def _go_to(self, place: _Place) -> None:
        """Read on from `place` (before the next unread byte): in a .warc.gz, by decompressing
        its step again and dropping the output before it."""
        self._forget()
        if not self.gz:
            self.fh.seek(place.offset)
            self.raw_pos = place.offset
            return
        step = place.step
        self.fh.seek(step.fed)
        self.raw_pos = step.fed
        self.dec = step.dec.copy()
        self.member_open = True
        self.member_start, self.member_out = step.member, step.out
        self.skip(place.inner - step.out)

    def next_record(self, start: _Place, header_read: bool) -> bool:
        """Continue at the first record start (a ``WARC/`` version line) after `start`, where
        a damaged record started (`header_read`: its header was read). False if there is none.

        A record whose header starts its gzip member, in a file of several members, is taken
        to be that member's only record, as WARC writers write them, unless a record was
        already read from inside members twice (`inside_members`: files gzipped whole and
        concatenated): the reader goes on at the next member, so WARC records quoted in the
        damaged record's page are not read as records. (Where members are cut at a fixed
        size, as bgzip cuts them, a member may start inside a record: that is searched like
        any damage.)
        Otherwise the next record may start anywhere, also inside the same member (a .warc.gz
        gzipped whole is one member), so the uncompressed bytes are searched from the byte
        after `start` (a Content-Length too large read on into the records after it, which
        must not be lost too) up to corrupt gzip data, if any, past which nothing of its
        member can be decompressed: the search goes on at the next member. (A file of several
        members that each hold many records loses the rest of a member whose first record is
        damaged before two records were read from inside members: the file's first.)"""
        try:
            if self.gz and start.inner == 0 and header_read and self.inside_members < 2:
                end = self._member_end(start)
                if end is None:
                    return self.next_member(start.offset)
                if start.offset != self.first_member or self._more_after(end):
                    return self._go_to_member(end)
            self._go_to(start)
            self.skip(1)
            while True:
                hit = _RECORD_START.search(self.buf)
                if hit:
                    self._drop(hit.start())
                    return True
                self._drop(max(len(self.buf) - _RECORD_START_MAX + 1, 0))
                if not self._fill():
                    return False
        except _GzipDamage:
            return self.next_member(self.member_start)

    def _member_end(self, start: _Place) -> int | None:
        """The file offset where the gzip member that `start` begins ends, decompressing it
        again; None if it is corrupt or cut before its end."""
        self._go_to(start)
        try:
            while self.member_ended is None or self.member_ended[0] != start.offset:
                self._drop(len(self.buf))
                if not self._fill():
                    return None
        except _Damaged:
            return None
        return self.member_ended[1]

    def _more_after(self, offset: int) -> bool:
        """Whether anything but padding follows file offset `offset`."""
        self.fh.seek(offset)
        while chunk := self.fh.read(_CHUNK):
            if chunk.lstrip(_PADDING):
                return True
        return False

    def _go_to_member(self, offset: int) -> bool:
        """Read on from the gzip member (or whatever is there) at file offset `offset`."""
        self._forget()
        self.member_open = False
        self.fh.seek(offset)
        self.raw_pos = offset
        return True

    def next_member(self, after: int) -> bool:
        """Continue at the first gzip member that starts after file offset `after`: the gzip
        data is damaged, and nothing after the damage in its member can be read. False if
        there is none."""
        pos = after + 1
        self.fh.seek(pos)
        carry = b""
        while chunk := self.fh.read(_CHUNK):
            window = carry + chunk
            hit = window.find(_GZIP_MAGIC)
            if hit >= 0:
                return self._go_to_member(pos - len(carry) + hit)
            carry = window[-(len(_GZIP_MAGIC) - 1):]
            pos += len(chunk)
        self._go_to_member(self.fh.tell())
        return False

def _salvage(dec, data: bytes, step: int = 512) -> bytes:
    """The output `dec` gives for `data` up to the point where it is corrupt, fed a little at a
    time (zlib keeps back a whole call's output when the call meets corrupt data)."""
    out = bytearray()
    for i in range(0, len(data), step):
        try:
            out += dec.decompress(data[i:i + step], _OUT_CHUNK - len(out))
        except zlib.error:
            break
        if dec.eof or len(out) >= _OUT_CHUNK:
            break
    return bytes(out)


def _parse_headers(stream: _Stream) -> tuple[bytes, dict[str, str]]:
    """Read one record's header block; returns (raw header bytes, lower-cased headers: the
    first value of each, as warcio reads them). Raises `_Damaged` if what follows is not a
    WARC record start, or if the header is cut short (the next record starts inside it), over
    `_MAX_HEADER` or frames the record twice; returns empty bytes at a clean end of file."""
    line = stream.readline()
    if not line:
        return b"", {}
    if not _VERSION.fullmatch(line.strip()):
        raise _Damaged("expected a WARC record")
    raw = [line]
    size = len(line)
    headers: dict[str, str] = {}

    def damaged(message: str) -> _Damaged:
        return _Damaged(message, True, headers.get("warc-record-id", "").strip("<>") or None,
                        headers.get("warc-target-uri", "").strip("<>") or None)

    while True:
        line = stream.readline()
        if not line:
            raise damaged("the file ends inside a record header")
        if _VERSION.fullmatch(line.strip()) or (b":" not in line and _RECORD_START.search(line)):
            # (a field cut before its colon runs into the version line: "WARC-TyWARC/1.0")
            raise damaged("the record header is cut short: the next record starts inside it")
        size += len(line)
        if size > _MAX_HEADER:
            raise damaged(f"the record header is longer than {_MAX_HEADER:,} bytes")
        raw.append(line)
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        name, value = name.strip().lower(), value.strip()
        if sep and name == "content-length" and headers.get(name, value) != value:
            raise damaged("the record has two different Content-Length headers")
        if sep and name in _ONCE and name in headers:
            # a header cut inside a line ("Content-Length: 1WARC/1.0") runs on into the next
            # record's: its fields come again. (A value that merely ends in "WARC/1.0", a
            # target URI, is no sign of it.)
            raise damaged("the record header is cut short: the next record starts inside it")
        if sep:
            headers.setdefault(name, value)
    return b"".join(raw), headers


def _record_id(headers: dict[str, str], source: str, place: _Place) -> str:
    """A record's id: its `WARC-Record-ID`, or for a record without one (the standard requires
    it; some writers leave it out) ``FILE#OFFSET``, never the ``FILE@OFFSET`` that names a
    damaged record's report: a record cut by a download and then completed was taken for done
    by a resumed batch (its report's id was the whole record's), and its page never came out."""
    return headers.get("warc-record-id", "").strip("<>") or f"{source}#{place}"


def _read_block(stream: _Stream, headers: dict, rec_id: str, url: str | None,
                limit: int) -> bytes | None:
    """The record's block, or None if it is over `limit` (then it is skipped unread). Checks
    that the record ends where its Content-Length says: with the two CRLFs the standard asks
    for, or one when the next record starts right after it (as some writers end records, and
    warcio reads them)."""
    length = headers.get("content-length", "")
    if not (length.isascii() and length.isdigit()):  # int() reads "-4" and " 4_0"
        raise _Damaged("the record has no valid Content-Length", True, rec_id, url)
    length = int(length)
    if length > limit:
        got = stream.skip(length)
        block = None
    else:
        block = stream.read(length)
        got = len(block)
    if got < length:
        # said of both: a record cut short, and one whose Content-Length is wrong in the middle
        # of a file (its later records read all the same): "the file ends" read as a cut file
        raise _Damaged(f"its Content-Length ({length:,} bytes) runs {length - got:,} bytes past "
                       "the end of the file: the record is truncated, or its Content-Length is "
                       "wrong", True, rec_id, url)
    end = stream.read(2)
    if end == b"\r\n" and stream.peek(2) == b"\r\n":
        end += stream.read(2)
    elif (end == b"\r\n" and stream.peek(1)
          and not _RECORD_LINE.match(stream.peek(_RECORD_LINE_MAX))):
        end += stream.read(2)  # one CRLF is let through only before the next record
    if end not in (b"\r\n\r\n", b"\n\n", b"\r\n", b""):
        raise _Damaged(f"the block does not end where its Content-Length ({length:,}) says: "
                       "the record is truncated or corrupt", True, rec_id, url)
    try:
        stream.settle()
    except _Damaged as err:
        raise _GzipDamage(f"{err} (in the member that holds this record)", True, rec_id,
                          url) from None
    return block


def _zlib_header(data: bytes) -> bool:
    """Whether `data` starts with a zlib header (RFC 1950: deflate, a check number), for any
    window size: "deflate" bodies are zlib data or, from some servers, raw deflate."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """A Content-Type header value's media type (lower-cased) and charset, read as the Fetch
    Standard reads it ("extract a MIME type"): a value that lists several (a header doubled
    and merged by a proxy, "text/html, text/html") stands for its last valid type, with the
    last charset given for that type; one without a valid type ("html", "*/*") is no type
    (''), for the page to be sniffed as a missing one is. Such pages were "NotHTML"."""
    mime, charset = "", None
    for value in _HEADER_VALUES.findall(content_type or ""):
        essence = value.split(";", 1)[0].strip().lower()
        if not _MIME_TYPE.fullmatch(essence) or essence == "*/*":
            continue
        if essence != mime:
            mime, charset = essence, None
        charset = header_charset(value) or charset
    return mime, charset


def _undo_content_encoding(body: bytes, encoding: str | None, limit: int,
                           partial_ok: bool) -> bytes:
    """Undo an HTTP Content-Encoding, strictly: a corrupt or cut body is an error, not a page
    (warcio's own decoding prints the error and returns what it had, a silently cut page).
    Output stops just past `limit` bytes. Servers label plain pages with codings they did not
    apply; as browsers show such a page, a body labelled gzip that is not gzip at all, and one
    that fails to decode but is plainly HTML (by `_SNIFF`), are taken as they are."""
    codings = [c.strip().lower() for c in (encoding or "").split(",")]
    for coding in reversed([c for c in codings if c and c != "identity"]):
        try:
            body = _undo_coding(body, coding, limit, partial_ok)
        except ValueError:
            if not _SNIFF.match(body[:2048]):
                raise
    return body


def _undo_coding(body: bytes, coding: str, limit: int, partial_ok: bool) -> bytes:
    """One content coding of `_undo_content_encoding` undone; `ValueError` if it cannot be."""
    if coding in ("gzip", "x-gzip", "deflate"):
        if coding != "deflate" and not body.startswith(_GZIP_MAGIC[:2]):
            return body
        wbits = 31 if coding != "deflate" else (15 if _zlib_header(body) else -15)
        return inflate(body, coding, wbits, limit, partial_ok)
    if coding == "zstd":  # what Chromium-based crawlers are served by sites that offer it
        return unzstd(body, limit, partial_ok)
    if coding != "br":
        raise ValueError(f"unknown content encoding {coding!r}")
    return unbrotli(body, limit, partial_ok)


def _meta(headers: dict) -> dict:
    """What every row of a record carries from its WARC header (read as far as it was)."""
    return {"warc_date": headers.get("warc-date"),
            "warc_truncated": headers.get("warc-truncated") or None}


#: a Content-Range header's bytes: the first, the last, and the page's length ("*": unknown)
_CONTENT_RANGE = re.compile(r"\s*bytes\s+(\d+)\s*-\s*(\d+)\s*/\s*(\d+|\*)\s*$", re.IGNORECASE)


def _content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """The first and last byte a 206 response holds and the page's length (None if unknown),
    from its Content-Range header; None without one (a multipart/byteranges body) or for one
    that is not a byte range."""
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None
    return int(match[1]), int(match[2]), None if match[3] == "*" else int(match[3])


#: a chunk's size line: hex digits, maybe white space and chunk extensions, the line's end. As
#: browsers read it: servers write white space after the size, and end lines with a bare LF
_CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
_LINE_END = re.compile(rb"\r?\n")


def _dechunk(body: bytes, partial_ok: bool) -> bytes:
    """A body in HTTP's chunked transfer coding, joined, strictly: a body cut inside a chunk
    or with a chunk's framing broken is an error (warcio's reader gave a cut page, or chunk
    sizes as words of the text), unless the crawler cut it on purpose (`partial_ok`). A body
    that does not start with a chunk is taken as stored already de-chunked (WARC writers keep
    the header), and one that ends after a whole chunk without the last, empty one, as
    complete."""
    if not _CHUNK_SIZE.match(body):
        return body
    out, pos = [], 0
    while pos < len(body):
        size_line = _CHUNK_SIZE.match(body, pos)
        if size_line is None:
            raise ValueError(f"the chunked body is corrupt at byte {pos:,} (no chunk size)")
        size, start = int(size_line.group(1), 16), size_line.end()
        if size == 0:
            break  # the last chunk; trailer fields may follow
        end = start + size
        line_end = _LINE_END.match(body, end)
        if end > len(body) or line_end is None:
            if end >= len(body) and partial_ok:
                out.append(body[start:end])
                break
            raise ValueError("the chunked body ends inside a chunk" if end >= len(body) else
                             f"the chunked body is corrupt at byte {end:,} (a chunk does not "
                             "end where its size says)")
        out.append(body[start:end])
        pos = line_end.end()
    return b"".join(out)


def _page(header_raw: bytes, block: bytes, headers: dict, rec_id: str, url: str | None,
          source: str, max_bytes: int) -> Document:
    """Turn a complete response/resource record into a page document or a report."""
    meta = _meta(headers)
    doc = Document(id=rec_id, url=url, source=source, meta=meta,
                   resolve_links=url is None or is_page_url(url))
    if url is None and headers.get("warc-type") == "response":
        doc.failure = Failure("DamagedRecord", "the response record has no WARC-Target-URI "
                              "(the WARC standard requires one)")
        return doc
    try:
        record = _RecordLoader().parse_record_stream(io.BytesIO(header_raw + block))
    except Exception as err:  # warcio raises assorted types for malformed HTTP headers
        doc.failure = Failure("UndecodablePayload", f"HTTP headers could not be parsed: {err}")
        return doc
    if record.http_headers is not None:
        status = record.http_headers.get_statuscode()
        if not str(status).startswith("2"):
            doc.failure = Failure("HTTPStatus", f"HTTP status {status}: not a page")
            return doc
        if str(status) == "206":  # Partial Content: the start of a page is a page cut short
            span = _content_range(record.http_headers.get_header("content-range"))
            if span is None or span[0] != 0:
                where = "without a Content-Range" if span is None else f"from byte {span[0]:,}"
                doc.failure = Failure("HTTPStatus", f"HTTP status 206: a part of a page {where}, "
                                      "not a page")
                return doc
            if span[2] is None or span[1] + 1 < span[2]:
                meta["warc_truncated"] = meta["warc_truncated"] or "range"
        content_type = record.http_headers.get_header("content-type")
    elif (headers.get("warc-type") == "response"
          and (url or "").lower().startswith(("http:", "https:"))):
        doc.failure = Failure("UndecodablePayload", "the response has no HTTP headers")
        return doc
    else:
        content_type = headers.get("content-type")
    charset = _media_type(content_type)[1]
    http = record.http_headers
    partial_ok = bool(meta["warc_truncated"])
    try:
        payload = record.raw_stream.read()
        transfer = [c.strip().lower() for c in ((http and http.get_header("transfer-encoding"))
                                                or "").split(",") if c.strip()]
        if transfer and transfer[-1] == "chunked":
            payload = _dechunk(payload, partial_ok)
            transfer.pop()
        # transfer codings were applied after the content codings: undone first
        codings = ", ".join(c for c in (http and http.get_header("content-encoding"),
                                        *transfer) if c)
        payload = _undo_content_encoding(payload, codings, max_bytes, partial_ok)
    except ValueError as err:
        doc.failure = Failure("UndecodablePayload", f"the payload could not be decoded: {err}")
        return doc
    if len(payload) > max_bytes:
        doc.failure = Failure("InputTooLarge",
                              f"the page is over the limit of {max_bytes:,} bytes")
    elif (failure := not_html(content_type, payload)) is None:
        # read in the header's charset by the cleaner, which holds the bytes to the limit
        doc.html, doc.charset = payload, charset
    else:
        doc.failure = failure
    return doc


def not_html(content_type: str | None, payload: bytes) -> Failure | None:
    """A `NotHTML` report for a response whose Content-Type (`_media_type`) is not HTML's or
    XHTML's, None for a page: one of those, or none, a binary stream's or plain text's whose
    bytes start as an HTML page does (`_SNIFF`), as servers send pages under them. The Scrapy
    pipeline reads a Response so too: a feed (`application/rss+xml`) was cleaned as an
    article."""
    mime = _media_type(content_type)[0]
    if mime in _HTML_TYPES or (mime in ("", "application/octet-stream", "text/plain")
                               and _SNIFF.match(payload[:2048])):
        return None
    return Failure("NotHTML", f"content type {mime or 'unknown'} is not HTML")


def iter_warc(fh: BinaryIO, source: str, max_bytes: int = 10_000_000,
              report_read_errors: bool = False) -> Iterator[Document]:
    """Documents of one WARC stream (gzip or not: `_is_gzip`). `fh` must be
    seekable (a local file, or a remote one opened through pyarrow or fsspec): skipping past
    damage searches for the next record and goes back to read it. A stream that cannot seek
    raises `ValueError` here, before the first document, so that a caller reading many files
    can report that file and go on.

    A read error (`OSError`) partway through is raised, unless `report_read_errors`: then it
    ends the documents with one `UnreadableFile` report, named by the place of the record
    being read (`read_warc` does so for a local file: a bad sector or a stale NFS handle
    raised out of a batch, and every input after it was lost, again on every resume). Raised,
    a remote store's timeout fails a Spark task, which Spark retries; reported, the rest of
    the file was lost for good."""
    if not fh.seekable():
        raise ValueError(f"{source}: a WARC stream must be seekable to skip past damage")
    return _documents(_Stream(fh, gz=_is_gzip(fh, source)), source, max_bytes,
                      report_read_errors)


def _documents(stream: _Stream, source: str, max_bytes: int,
               report_read_errors: bool) -> Iterator[Document]:
    """The documents of `iter_warc`, record by record."""
    searching = False  # after damage, until a valid record start is found again
    found_any = False  # a record's header, or damage
    start = _Place(0)
    try:
        while True:
            stream.skip_blank_lines()
            start = stream.here()
            rec_id = url = None  # known once the record's header is read
            headers = {}
            try:
                header_raw, headers = _parse_headers(stream)
                if not header_raw:
                    if not found_any:
                        # an empty file (a download that failed) gave no line at all: it was
                        # missing from the output's accounting, on Spark too
                        yield Document(id=f"{source}@0", source=source, meta=_meta({}),
                                       failure=Failure("UnreadableFile",
                                                       "the file holds no WARC record: it is empty"))
                    return
                found_any = True
                rec_id = _record_id(headers, source, start)
                url = headers.get("warc-target-uri", "").strip("<>") or None
                is_page = headers.get("warc-type") in _PAGE_TYPES
                # a record that holds no page is skipped unread, but its framing is still checked
                limit = max_bytes + _HTTP_HEADER_ROOM if is_page else 0
                block = _read_block(stream, headers, rec_id, url, limit)
                stream.inside_members += start.inner > 0 and not searching
                searching = False
            except _Damaged as err:
                found_any = True
                # damage found by the gzip layer while reading a block names no record: the
                # header read before it does
                if err.started or rec_id is not None or not searching:
                    # named by its place, never by its record id: a WARC cut by a download still
                    # under way is read again once whole, and a resumed batch would take a report
                    # under the record's id for its page, done
                    place = f"{source}@{start}"
                    named = err.record_id or rec_id
                    nameless = (place, f"{source}#{start}")  # a record without an id
                    named = f"record {named}, " if named and named not in nameless else ""
                    yield Document(
                        id=place, url=err.url or url, source=source,
                        meta=_meta(headers),
                        failure=Failure("DamagedRecord", f"{err} ({named}{start.describe()})"))
                searching = True
                # the bytes from the record's start up to corrupt gzip data can be read again and
                # searched; corrupt data at the start of a gzip member leaves only the next member
                found = (stream.next_record(start, err.started or rec_id is not None)
                         if start.step or not stream.gz
                         else stream.next_member(stream.member_start))
                if not found:
                    return
                continue
            if not is_page:
                continue
            if block is None:
                yield Document(
                    id=rec_id, url=url, source=source, meta=_meta(headers), failure=Failure(
                        "InputTooLarge", f"the record is over the limit of {max_bytes:,} bytes"))
                continue
            yield _page(header_raw, block, headers, rec_id, url, source, max_bytes)
    except OSError as err:
        if not report_read_errors:
            raise
        yield Document(id=f"{source}@{start}", source=source, meta=_meta({}), failure=Failure(
            "UnreadableFile", f"read error {start.describe()}: {err}"))


def _is_gzip(fh: BinaryIO, source: str) -> bool:
    """Whether a WARC stream is gzip members: by its first bytes, or, when they are damaged or
    junk comes first, by whichever of a gzip member holding a record and a plain record starts
    first within its first MiB, else by its name. Judged by the first two bytes alone, a
    .warc.gz with three stray bytes in front was read as a plain WARC and every page in it
    was lost; judged by the first gzip signature, a plain WARC with a damaged start was read
    as gzip when a gzip-encoded page came before its next record, and every page was lost."""
    head = fh.read(_CHUNK)
    fh.seek(-len(head), io.SEEK_CUR)
    if head.startswith(_GZIP_MAGIC[:2]) or _RECORD_LINE.match(head.lstrip()):
        return head.startswith(_GZIP_MAGIC[:2])
    line = _RECORD_START.search(head)
    record = line.start() if line else len(head)
    member = head.find(_GZIP_MAGIC, 0, record)
    while member >= 0:
        if _holds_record(head[member:]):
            return True
        member = head.find(_GZIP_MAGIC, member + 1, record)
    return line is None and source.lower().endswith(".gz")


def _holds_record(member: bytes) -> bool:
    """Whether the gzip member `member` starts with a WARC record."""
    try:
        out = zlib.decompressobj(31).decompress(member[:4096], 256)
    except zlib.error:
        return False
    return _RECORD_LINE.match(out.lstrip()) is not None


def read_warc(path: str | Path, max_bytes: int = 10_000_000) -> Iterator[Document]:
    """Documents of the WARC file at `path`."""
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as err:
        yield unreadable_file(path, err)
        return
    with fh:
        try:  # reads the file's start: a read error there (EIO) raised out of the batch
            docs = iter_warc(fh, source=str(path), max_bytes=max_bytes, report_read_errors=True)
        except OSError as err:
            yield unreadable_file(path, err)
            return
        yield from docs


def unreadable_file(source: str | Path, err: Exception) -> Document:
    """The report of a WARC file, local or remote, that cannot be opened or read from its
    start: one document, named by the file's start (with the WARC fields, none known, that every
    line of a WARC input has)."""
    return Document(id=f"{source}@0", source=str(source), meta=_meta({}),
                    failure=Failure("UnreadableFile", str(err)))
