"""Labelled examples: the JSON Lines format, its validation, and how labels find their blocks.

One page per line (``../shared/DESIGN.md``)::

    {"id": "site-42", "url": "https://…", "html": "<html>…" | "text": "line\\nline",
     "blocks": [{"text": "…", "label": "content"}, …], "source": "hand"}

Strings are taken as the library takes them: a lone surrogate (a JSON ``\\udc80`` escape)
becomes U+FFFD, which every store and output can hold.

Optional extras that this module reads and writes: per block ``source``, ``labelled_by``
(each at most 200 characters), ``labelled_at`` (ISO 8601) and ``reviewed`` (the provenance the
store keeps; the service takes no other values, and the labelling page sends a page's stored
labels back with every save, so a file may not give others either), and per page
``gold`` (the page's gold main text, which bootstrapped examples carry so evaluation can score
word F1 against it).

Labels attach to the blocks of the page *as segmented now* by normalised text
(`filter.blocks.normalize_text`), not by position, so they survive a change of extractor or of
segmentation: an exact match first (the k-th occurrence of a text takes the k-th label given for
it), then a block that is a piece of a labelled text (a paragraph now split in two), then a block
that is several labelled texts joined (two lines now merged) when their labels agree. Nothing is
dropped silently: malformed lines, unknown labels, labels that match no block and blocks that
get no label are all reported with the file and line they came from.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import os
import re
import stat
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, TextIO

from filter.blocks import Page, normalize_text, well_formed
from filter.cleaner import check_text, text_page
from filter.sites import site_or_host
from filter.compression import compressing, damage_types, decompressed
from filter.decoding import looks_binary
from filter.errors import InputError, NoiseFilterError
from filter.extract import check_html, check_url, html_to_page
from filter.files import written_whole
from filter.inputs import opens_json_value
from filter.limits import Limits
from filter.jsonlines import json_line

from .align import tokens

#: the largest document training segments (`Example.to_page`: the library's default
#: `Limits.max_bytes`); the service refuses a larger example whatever its own --max-bytes,
#: as training would skip it
MAX_EXAMPLE_BYTES = Limits.max_bytes
#: a label is a short identifier; anything else is almost certainly a mistake in the file
LABEL_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
#: the label-less "not content, kind unknown" label that `filter.model` understands
UNKNOWN_KIND = "noncontent"
#: the four labels of LABELS.md (in its order): a few blocks of one is a thin class, no typo
STANDARD_LABELS = ("content", "related", "teaser", "junk")
_PAGE_KEYS = {"id", "url", "html", "text", "blocks", "source", "gold"}
_BLOCK_KEYS = {"text", "label", "source", "labelled_by", "labelled_at", "reviewed"}
#: a page block this short must equal a labelled text; as a fragment it would match anywhere
_MIN_FRAGMENT_CHARS = 12
#: the longest `labelled_by` or `source` of a label, and `labelled_at`, that the service takes
#: (`api.schemas.Short`, `api.schemas.Moment`): the labelling page sends the labels stored for
#: a page back with every save, so a label imported with a longer one made that page unsavable
MAX_NAME_CHARS = 200
MAX_MOMENT_CHARS = 64
#: a time written with its zone as a word ("2026-05-01 10:00:00 UTC"), as some tools export it
_UTC_WORD = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)


class ExampleError(ValueError):
    """An example that does not follow the format; the message says which field and why."""


@dataclass
class BlockLabel:
    """One labelled block text and who labelled it (None: not stated, the store fills it in)."""

    text: str
    label: str
    source: str | None = None
    labelled_by: str | None = None
    labelled_at: str | None = None
    reviewed: bool | None = None
    #: its place in the example's `blocks` as given, blocks left out included (what a report
    #: names it by: `AddReport.kept`); None when not read from one
    position: int | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        out = {"text": self.text, "label": self.label}
        for key in ("source", "labelled_by", "labelled_at", "reviewed"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class Example:
    """One labelled page. `origin` and `line` say where it was read from, for messages;
    `unreviewed` counts the labels `--reviewed-only` took from it (`train.store.examples_from`),
    which the blocks left without a label are said to have had."""

    id: str
    blocks: list[BlockLabel]
    html: str | None = None
    text: str | None = None
    url: str | None = None
    source: str | None = None
    gold: str | None = None
    origin: str | None = None
    line: int | None = None
    unreviewed: int = 0

    @property
    def where(self) -> str:
        if self.origin and self.line:
            return f"{self.origin}:{self.line}"
        return self.origin or f"example {self.id!r}"

    @property
    def document_sha256(self) -> str:
        """The sha256 of the labelled document (``kind + "\\0" + document``): the same page
        under two ids is one page, to the store and to promote's check for an unseen holdout."""
        kind, doc = ("html", self.html) if self.html is not None else ("text", self.text or "")
        return hashlib.sha256(f"{kind}\0{doc}".encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def url_site(self) -> str | None:
        """The site of the page's URL, its registrable domain (`filter.sites.site_or_host`:
        "news.example.co.uk" and "www.example.co.uk" are one site; a host without one, an
        address or a name on an intranet, is its own site); None without a URL (a text
        example, as an extractor hands text on, has none)."""
        return site_or_host(self.url)

    @property
    def site(self) -> str:
        """The page's group in cross-validation and in training's out-of-fold pass: its
        `url_site`, since a site repeats its furniture and a model would otherwise be scored on
        pages it has all but seen. A page without a URL is a group of its own (its id): nothing
        in the example says which site it is from."""
        return self.url_site or f"id:{self.id}"

    def to_dict(self) -> dict:
        out: dict = {"id": self.id}
        if self.url:
            out["url"] = self.url
        if self.html is not None:
            out["html"] = self.html
        if self.text is not None:
            out["text"] = self.text
        out["blocks"] = [b.to_dict() for b in self.blocks]
        if self.source:
            out["source"] = self.source
        if self.gold is not None:
            out["gold"] = self.gold
        return out

    def to_page(self, max_bytes: int = MAX_EXAMPLE_BYTES) -> Page:
        """Segment the page the way the cleaner does, so labels meet the blocks the model sees
        (`html_to_page`; for text, `text_page`, without the example's URL, which only says
        which site the text came from, as `clean_text` has none). Raises
        `filter.errors.NoiseFilterError` for a page that cannot be cleaned: HTML, or text
        as `clean_text` refuses it (over `max_bytes`: a 12 MB text example took 7 minutes and
        4 GB to train on, where the same as HTML was skipped; an HTML document given as text)."""
        if self.html is not None:
            return html_to_page(self.html, url=self.url, max_bytes=max_bytes)
        return text_page(self.text or "", max_bytes)


@dataclass(frozen=True)
class Problem:
    """Something in the input that was not used as given, and where it is."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    @property
    def loses_page(self) -> bool:
        """Whether a whole page (a line of a file) or several were left out, not a block or a
        field."""
        return self.message.endswith(("line skipped", "page skipped", "pages skipped"))


def _optional_str(obj: dict, key: str, errors: list[str]) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"'{key}' must be a string, not {type(value).__name__}")
        return None
    return well_formed(value)


def parse_example(obj: object, allowed_labels: set[str] | None = None,
                  origin: str | None = None, line: int | None = None) -> tuple[Example, list[Problem]]:
    """Validate one decoded JSON value as an example.

    Raises `ExampleError` when the page as a whole is unusable (no id, no document, no block
    list). Problems that concern single blocks (a bad block, an unknown label) do not reject the
    page: the block is left out and a `Problem` says which one and why. A page left with no
    block is returned with a problem saying it is skipped, and its readers (`parse_lines`,
    `train.store.ExampleStore.add`) leave it out.
    """
    if not isinstance(obj, dict):
        raise ExampleError(f"an example must be a JSON object, not {type(obj).__name__}")
    errors: list[str] = []
    ident = obj.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if ident is not None and not isinstance(ident, str):
        # 1.5 or true was reported as missing, which sent the user looking for a typo in the key
        errors.append(f"'id' must be a string or a whole number, not {shorten(json.dumps(ident))}")
    elif ident is None or not ident.strip():
        errors.append("'id' is missing or empty")
    else:
        ident = well_formed(ident)
    html = _optional_str(obj, "html", errors)
    text = _optional_str(obj, "text", errors)
    if obj.get("html") is None and obj.get("text") is None:
        errors.append("one of 'html' or 'text' is needed")
    if html is not None and text is not None:
        errors.append("give 'html' or 'text', not both (which one would the labels refer to?)")
    for key, document in (("html", html), ("text", text)):
        if document is not None and not document.strip():
            errors.append(f"'{key}' is empty: there is no page to label")
        elif document is not None and looks_binary(document):
            errors.append(f"'{key}' looks like binary data, not a page")
        elif document is not None:
            try:
                (check_text if key == "text" else check_html)(document)
            except InputError as err:
                errors.append(f"'{key}': {err}")
    url = _optional_str(obj, "url", errors)
    if url is not None:
        try:
            url = check_url(url)
        except InputError as err:
            errors.append(str(err))
    source = _optional_str(obj, "source", errors)
    source = source.strip() or None if source is not None else None  # as a label's (`_parse_block`)
    gold = _optional_str(obj, "gold", errors)
    raw_blocks = obj.get("blocks")
    if not isinstance(raw_blocks, list):
        errors.append("'blocks' must be a list of {\"text\", \"label\"} objects")
    if errors:
        raise ExampleError("; ".join(errors))
    where = f"{origin}:{line}" if origin and line else (origin or f"example {ident!r}")
    problems = [Problem(where, f"unknown field '{k}' ignored") for k in sorted(set(obj) - _PAGE_KEYS)]
    blocks = []
    for n, raw in enumerate(raw_blocks):
        block, message = _parse_block(raw, allowed_labels)
        if message:
            problems.append(Problem(where, f"block {n}: {message}"))
        if block is not None:
            block.position = n
            blocks.append(block)
    if not blocks:
        # a page without a label teaches nothing, and cannot be sent back: the store kept it,
        # left it out of its exports and listed it with no blocks, which the service refused
        problems.append(Problem(where, "no labelled block left; page skipped"))
    example = Example(id=ident.strip(), blocks=blocks, html=html, text=text, url=url,
                      source=source, gold=gold, origin=origin, line=line)
    return example, problems


def labelled_time(value: str) -> str | None:
    """A `labelled_at` as the store keeps it: an ISO 8601 time as written (what
    `datetime.fromisoformat` reads, which is what the service checks), or one that names UTC
    with a word ("2026-05-01 10:00:00 UTC") in ISO 8601; None for anything else."""
    if len(value) > MAX_MOMENT_CHARS:
        return None
    try:
        datetime.fromisoformat(value)
        return value
    except ValueError:
        pass
    bare = _UTC_WORD.sub("", value)
    if bare == value:
        return None
    try:
        moment = datetime.fromisoformat(bare)
    except ValueError:
        return None
    return None if moment.tzinfo else moment.replace(tzinfo=timezone.utc).isoformat()


def _parse_block(raw: object, allowed: set[str] | None) -> tuple[BlockLabel | None, str | None]:
    if not isinstance(raw, dict):
        return None, f"must be an object, not {type(raw).__name__}; left out"
    text, label = raw.get("text"), raw.get("label")
    extra = set(raw) - _BLOCK_KEYS
    # a missing text or label is most often a misspelt key ("txt", "lable"): named
    unknown = f" (unknown field(s) {', '.join(sorted(extra))})" if extra else ""
    if not isinstance(text, str):
        return None, f"'text' must be a string, not {type(text).__name__}{unknown}; left out"
    if not normalize_text(text):
        return None, "has no text; left out"
    # fullmatch: `$` also matches before a final newline, and "content\n" was stored
    if not isinstance(label, str) or not LABEL_PATTERN.fullmatch(label):
        return None, (f"label {label!r} is not a label (lower-case letters, digits, '-' or "
                      f"'_'){unknown}; left out")
    if allowed is not None and label not in allowed and label != UNKNOWN_KIND:
        return None, f"unknown label {label!r} (known: {', '.join(sorted(allowed))}); left out"
    reviewed = raw.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, bool):
        return None, "'reviewed' must be true or false; left out"
    src, by, at = raw.get("source"), raw.get("labelled_by"), raw.get("labelled_at")
    # provenance the service would refuse back is dropped, the label kept: training never
    # reads it, and a store then gives the import's own (what the labelling page sends back)
    notes = [f"unknown field(s) {', '.join(sorted(extra))} ignored"] if extra else []
    for key in ("source", "labelled_by", "labelled_at"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):  # an epoch time, a user number
            notes.append(f"'{key}' must be a string, not {type(value).__name__}; ignored")
    # names without white space around them, and blank ones not stated (the store's own then)
    src, by = (v.strip() or None if isinstance(v, str) else None for v in (src, by))
    at = at if isinstance(at, str) else None
    if src is not None and len(src) > MAX_NAME_CHARS:
        src = None
        notes.append(f"'source' is over {MAX_NAME_CHARS} characters; ignored")
    if by is not None and len(by) > MAX_NAME_CHARS:
        by = None
        notes.append(f"'labelled_by' is over {MAX_NAME_CHARS} characters; ignored")
    if at is not None and at.strip():
        readable = labelled_time(at.strip())
        if readable is None:
            notes.append(f"'labelled_at' {shorten(json.dumps(at, ensure_ascii=False))} is not a "
                         "time in ISO 8601 (such as 2026-12-01T10:00:00+00:00); ignored")
        at = readable
    else:
        at = None  # empty: not stated, the store gives the time of the import
    note = "; ".join(notes) or None
    src, by, at = (well_formed(v) if v is not None else None for v in (src, by, at))
    return BlockLabel(text=well_formed(text), label=label, source=src, labelled_by=by,
                      labelled_at=at, reviewed=reviewed), note


@dataclass
class ExampleSet:
    """Examples read from one or more files, and every problem met on the way."""

    examples: list[Example] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: pages read and then left out for having no reviewed label (`--reviewed-only`)
    unreviewed: int = 0
    #: the sha256 of each file's bytes as they were read, by absolute path (None: not a regular
    #: file, a pipe), for the manifest and reports (`train.training.sources_record`): hashed
    #: again when the command ended, a file rewritten meanwhile (an export under way) was
    #: recorded with bytes the model never saw
    file_hashes: dict[str, str | None] = field(default_factory=dict)


def _decode(raw: str | bytes) -> str:
    """One line as text. Files are read as bytes so that a line that is not UTF-8 costs that
    line, not the file; a byte-order mark at the start of the file (Windows editors write one)
    is not part of the first page, nor one at the start of a later line (`cat a.jsonl
    b.jsonl`, b saved by such an editor, lost b's first page; `noisefilter batch` reads such
    a line too). Raises UnicodeDecodeError."""
    line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return line.removeprefix("\ufeff")


def parse_lines(lines: Iterable[str | bytes], origin: str, allowed_labels: set[str] | None = None,
                into: ExampleSet | None = None) -> ExampleSet:
    """Parse JSON Lines (text, or UTF-8 bytes). A malformed line is reported with its number and
    skipped; a repeated id is reported and the later line skipped, so each page is counted once."""
    out = into if into is not None else ExampleSet()
    seen = {e.id: e.where for e in out.examples}
    started = False  # a line that is not blank was read
    for number, raw in enumerate(lines, 1):
        where = f"{origin}:{number}"
        try:
            line = _decode(raw)
        except UnicodeDecodeError as err:
            out.problems.append(Problem(where, f"not UTF-8 (byte 0x{raw[err.start]:02x} at byte "
                                               f"{err.start + 1} of the line); line skipped"))
            continue
        if not line.strip():
            continue
        first, started = not started, True
        try:
            # without its line break: a line cut short was "at column 1" of a second line
            obj = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as err:
            if first and (what := _not_json_lines(line)):
                out.problems.append(Problem(origin, f"is {what}; its pages skipped"))
                return out
            out.problems.append(Problem(where, f"not valid JSON ({err.msg} at column {err.colno}); "
                                               "line skipped"))
            continue
        except ValueError as err:  # a number of over 4,300 digits (Python's limit)
            out.problems.append(Problem(where, f"not valid JSON ({err}); line skipped"))
            continue
        except RecursionError:  # "[[[[…" thousands deep: the json module recurses per level
            out.problems.append(Problem(where, "JSON nested too deeply to read; line skipped"))
            continue
        try:
            example, problems = parse_example(obj, allowed_labels, origin, number)
        except ExampleError as err:
            out.problems.append(Problem(where, f"{err}; line skipped"))
            continue
        out.problems.extend(problems)
        if not example.blocks:
            continue
        if example.id in seen:
            out.problems.append(Problem(where, f"id {example.id!r} already given at "
                                               f"{seen[example.id]}; line skipped"))
            continue
        seen[example.id] = where
        out.examples.append(example)
    return out


def _not_json_lines(first: str) -> str | None:
    """What a file is whose first line shows it is no JSON Lines at all, or None: read line by
    line, an HTML page or a pretty-printed JSON file (`json.dump(examples, indent=2)`) gave a
    "not valid JSON" warning per line, hundreds of them, where one says what to do."""
    opens = opens_json_value(first.encode("utf-8", "surrogatepass"))
    if opens == "[":
        return ("one JSON array, not JSON Lines (an example per line): write its items one per "
                "line, with jq -c '.[]'")
    if opens == "{":
        return ("pretty-printed JSON (an object over several lines), not JSON Lines (an example "
                "per line): write each on one line, with jq -c .")
    if _DOCUMENT_START.match(first):  # not any "<": a conflict marker "<<<<<<<" costs its line
        return ("HTML or XML, not JSON Lines: an example is a JSON object on one line, its page in "
                "an `html` field beside its labelled blocks (docs/teach-your-site.md)")
    return None


#: how an HTML or XML document starts
_DOCUMENT_START = re.compile(r"\s*<(?:!doctype|html|\?xml|head|body)\b", re.IGNORECASE)


def read_examples(paths: Iterable[str | Path], allowed_labels: set[str] | None = None,
                  into: ExampleSet | None = None) -> ExampleSet:
    """Read JSON Lines files, plain or compressed (gzip, bzip2, xz, zstd), into one
    `ExampleSet` (ids are unique across all of them). The files are read as bytes and decoded
    line by line (see `parse_lines`); one in UTF-16 or UTF-32 is skipped, said in one problem.
    Each file's sha256 is taken from the bytes read (`ExampleSet.file_hashes`)."""
    out = into if into is not None else ExampleSet()
    read: dict[tuple[int, int], Path] = {}  # the files read, by identity: any path to one
    for path in paths:
        path = Path(path)
        with open(path, "rb", buffering=0) as raw:
            info = os.fstat(raw.fileno())
            identity = info.st_dev, info.st_ino
            if identity in read:  # every line of it was "id already given at" its own line
                out.problems.append(Problem(str(path), f"is named twice (as {read[identity]} "
                                                       "too): its pages are read once"))
                first = os.path.abspath(read[identity])
                out.file_hashes[os.path.abspath(path)] = out.file_hashes[first]
                continue
            read[identity] = path
            hashed = _Hashed(raw)
            fh = io.BufferedReader(hashed)
            _read_file(fh, path, allowed_labels, out)
            regular = stat.S_ISREG(info.st_mode)
            if regular:  # what was left unread (a file skipped, damaged data) is hashed too
                while fh.read(1 << 20):
                    pass
            out.file_hashes[os.path.abspath(path)] = hashed.digest.hexdigest() if regular else None
    return out


class _Hashed(io.RawIOBase):
    """A file whose bytes are hashed as they are read, for `ExampleSet.file_hashes`."""

    def __init__(self, raw: io.RawIOBase):
        self.raw, self.digest = raw, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        count = self.raw.readinto(buffer)
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count


def _read_file(fh: io.BufferedReader, path: Path, allowed_labels: set[str] | None,
               out: ExampleSet) -> None:
    """The pages of one opened file into `out`, or the problem that skips them."""
    try:
        opened = decompressed(fh)
    except ValueError as err:  # zstd data, and no zstd module to read it
        out.problems.append(Problem(str(path), f"cannot be read ({err}); its pages skipped"))
        return
    with opened as stream:
        try:  # a pipe too: peeked bytes stay in the stream
            start = stream.peek(_SNIFFED)[:_SNIFFED]
        except damage_types() as err:  # compressed data damaged in its first block
            out.problems.append(_damage(path, 1, err))
            return
        wide = next((name for bom, name in _WIDE_BOMS if start.startswith(bom)), None)
        if wide:  # read as UTF-8, every line was "not UTF-8" or "not valid JSON"
            out.problems.append(Problem(str(path), f"is {wide} text (it starts with a byte-order "
                                                   "mark); save it as UTF-8: its pages skipped"))
            return
        if b"\0" in start:  # no JSON holds a NUL byte: each "line" was a problem
            out.problems.append(Problem(str(path), "is binary data, not JSON Lines (a model, an "
                                                   "image, an archive?): its pages skipped"))
            return
        parse_lines(_lines_until_damaged(stream, path, out.problems), str(path),
                    allowed_labels, into=out)


#: the first bytes of an example file looked at for a byte-order mark or binary data
_SNIFFED = 4096
#: byte-order marks of encodings other than UTF-8 (PowerShell's `>` writes UTF-16); UTF-32's
#: first, as UTF-32LE's begins with UTF-16LE's
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def _lines_until_damaged(stream: BinaryIO, path: Path, problems: list[Problem]) -> Iterator[bytes]:
    """The lines of a file up to where its compressed data is damaged or cut short (a download
    still under way), or it cannot be read on, which is said as a problem: the pages before it
    are used."""
    number = 0
    try:
        for number, line in enumerate(stream, 1):
            yield line
    except damage_types() as err:
        problems.append(_damage(path, number + 1, err))


def _damage(path: Path, number: int, err: Exception) -> Problem:
    return Problem(f"{path}:{number}", f"cannot be read on ({err}); the rest of the file's "
                                       "pages skipped")


def summary_stream(path: str | Path) -> TextIO:
    """Where a command says what it wrote to `path`: standard error when `path` is the standard
    output (`-o /dev/stdout > file`: the file, opened again and written from its start, had its
    first example overwritten by the summary printed through `sys.stdout` at offset 0), else
    standard output."""
    try:
        written, shown = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no such file yet; stdout closed or replaced
        return sys.stdout
    same = (written.st_dev, written.st_ino) == (shown.st_dev, shown.st_ino)
    return sys.stderr if same else sys.stdout


def write_examples(examples: Iterable[Example], path: str | Path) -> int:
    """Write examples as JSON Lines (UTF-8, one page per line), whole or not at all
    (`written_whole`), compressed as the file's name says (`compressing`); returns how many."""
    count = 0
    with written_whole(path) as raw, compressing(raw, str(path)) as fh:
        for example in examples:
            fh.write(json_line(example.to_dict()).encode("utf-8"))
            count += 1
    return count


# -- attaching labels to blocks ---------------------------------------------------------------

@dataclass
class Attachment:
    """The outcome of matching an example's labels to a page's blocks.

    `labels[i]` is the label of page block i (None: no labelled text covers it); `unmatched`
    holds the indices of labelled texts that found no block; `conflicts` the indices of page
    blocks made of labelled texts that disagree (left without a label); `origins[i]` the
    index of the labelled text block i took its label from (the first, for a block made of
    several, or a piece of one given twice), whose provenance the labelling page shows."""

    labels: list[str | None]
    unmatched: list[int]
    conflicts: list[int]
    origins: list[int | None]

    @property
    def unlabelled(self) -> list[int]:
        return [i for i, lab in enumerate(self.labels) if lab is None]


#: most places of one text inside another that `_at_word_boundary` looks at: a short text
#: found at every character of a long one ("aaa…") took a Python step per place, 40 s for 200
#: blocks against five labels of 100,000 characters; real texts recur a few times at most
_MAX_PLACES = 1_000


def _at_word_boundary(haystack: str, needle: str) -> bool:
    start = haystack.find(needle)
    for _ in range(_MAX_PLACES):
        if start < 0:
            break
        end = start + len(needle)
        if (start == 0 or not haystack[start - 1].isalnum()) and \
                (end == len(haystack) or not haystack[end].isalnum()):
            return True
        start = haystack.find(needle, start + 1)
    return False


def label_form(text: str) -> str:
    """The form in which labelled texts and blocks are compared: `normalize_text` without
    format characters (soft hyphens, zero-width spaces and joiners), which pages hold in the
    middle of words and text copied from a browser does not."""
    return normalize_text("".join(ch for ch in text if unicodedata.category(ch) != "Cf"))


def attach_labels(page: Page, labelled: list[BlockLabel],
                  max_work: int | None = None) -> Attachment:
    """Give each block of `page` the label of the labelled text it corresponds to. With
    `max_work`, the split and merge passes are left out where they would search more
    characters (blocks left times the length of the labelled texts left: a search costs up to
    a text's length) than that (a caller that must answer in time: the service).

    A label a person gave (`reviewed`, or not stated) comes before a model's unreviewed
    proposal. The labelling page saves its proposals for the blocks it shows, and a proposal
    saved for the second copy of a text a person labelled once, or for one line of a paragraph
    a person labelled whole, matched exactly and won over the person's label (the store's
    rule, that a reviewed label never gives way to an unreviewed one, held block by block
    only). So the people's labels find their blocks first, by every pass; the proposals for a
    text the people labelled on every copy are set aside (they found their block, and lend
    their label to no other); the other proposals then find the blocks left, and a block left
    that is made of or cut from texts of both is labelled by all of them, the people's label
    deciding where they disagree."""
    return _Attacher(page, labelled, max_work).run()


class _Attacher:
    """The passes of `attach_labels` and what they share."""

    def __init__(self, page: Page, labelled: list[BlockLabel], max_work: int | None = None):
        self.labelled = labelled
        self.texts = [label_form(b.text) for b in page.blocks]
        self.wanted = [label_form(b.text) for b in labelled]
        self.person = [b.reviewed is not False for b in labelled]
        self.on_page = Counter(self.texts)
        self.labels: list[str | None] = [None] * len(self.texts)
        self.origins: list[int | None] = [None] * len(self.texts)
        self.used: set[int] = set()
        self.conflicts: list[int] = []
        self.spare: set[int] = set()
        #: blocks no later stage may label (people's labels in conflict on them)
        self.settled: set[int] = set()
        #: most characters the split and merge passes may search (`attach_labels`), None: all
        self.max_work = max_work

    def run(self) -> Attachment:
        people = [j for j, p in enumerate(self.person) if p]
        proposals = [j for j, p in enumerate(self.person) if not p]
        if people and proposals:
            self.exact(people)
            self.pieces(people)
            # where the people's labels disagree, no proposal decides
            self.settled = {i for i in self.conflicts if self.labels[i] is None}
            theirs: dict[str, list[str]] = defaultdict(list)
            for j in people:
                theirs[self.wanted[j]].append(self.labelled[j].label)
            self.used.update(j for j in proposals if self._every_copy_labelled(theirs, j))
            self.exact([j for j in proposals if j not in self.used])
            self.pieces(range(len(self.labelled)))
        else:
            self.exact(range(len(self.labelled)))
            self.pieces(range(len(self.labelled)))
        unmatched = [j for j in range(len(self.labelled)) if j not in self.used | self.spare]
        return Attachment(labels=self.labels, unmatched=unmatched, conflicts=self.conflicts,
                          origins=self.origins)

    def _every_copy_labelled(self, theirs: dict[str, list[str]], j: int) -> bool:
        """Whether the people's labels (`theirs`, by text) reach every copy of proposal j's
        text on the page, so that the proposal is set aside: one label (it labels every copy),
        or a label for each copy. Labels that disagree, fewer than the copies (an ad shown
        three times, labelled junk and teaser), leave the copies after them to the proposals;
        set aside, they left the third copy without a label, out of training."""
        given = theirs.get(self.wanted[j])
        return bool(given) and (len(set(given)) == 1 or len(given) >= self.on_page[self.wanted[j]])

    def exact(self, group: Iterable[int]) -> None:
        """1. Exact text; a text repeated on the page more often than it was labelled
        (furniture shown twice) takes the label it was given, if it was given only one; a text
        labelled more often than the page holds it is a conflict if the labels disagree (which
        one is meant cannot be known), else its one label."""
        by_text: dict[str, list[int]] = defaultdict(list)
        for j in group:
            by_text[self.wanted[j]].append(j)
        seen: Counter = Counter()  # the copies of each text this pass may label, so far
        for i, t in enumerate(self.texts):
            js = by_text.get(t)
            if not js:
                continue
            if self.labels[i] is not None or i in self.conflicts:
                # its block was settled at an earlier stage (found), and is no copy of this
                # pass's: counted, it made the proposals for the copies after the people's
                # labels start at the third, and the last copies got none
                self.used.update(js)
                continue
            k = seen[t]
            seen[t] += 1
            given = {self.labelled[j].label for j in js}
            if len(js) > self.on_page[t] and len(given) > 1:
                self.conflicts.append(i)
                self.used.update(js)
            elif k < len(js):
                self.labels[i], self.origins[i] = self.labelled[js[k]].label, js[k]
                self.used.add(js[k])
            elif len(given) == 1:
                self.labels[i], self.origins[i] = self.labelled[js[0]].label, js[0]
            if len(given) == 1 and len(js) > self.on_page[t]:
                # one label given more often than the page now holds the text: the copies
                # left over may have been split or merged into other blocks (passes 2 and 3),
                # and are no unmatched label if they were not
                self.spare.update(js[self.on_page[t]:])

    def pieces(self, group: Iterable[int]) -> None:
        """2. A block that is a piece of labelled text (one labelled paragraph, now split);
        3. a block made of several labelled texts (labelled lines, now merged). Only texts no
        block matched exactly take part: a labelled headline that found its block must not
        also label a longer block holding it ("… timetable for the summer season"), which
        nobody labelled. Texts that meet in a conflict did find a block: reported as the
        conflict, not as matching none."""
        wanted = self.wanted
        free = [j for j in group if j not in self.used]
        blocks = [i for i, lab in enumerate(self.labels) if lab is None and i not in self.settled]
        if (self.max_work is not None
                and len(blocks) * sum(len(wanted[j]) + 1 for j in free) > self.max_work):
            return
        for i in blocks:  # a conflict of exact texts may still be a piece
            t = self.texts[i]
            if len(t) >= _MIN_FRAGMENT_CHARS:
                holders = [j for j in free
                           if len(wanted[j]) > len(t) and _at_word_boundary(wanted[j], t)]
                if holders:
                    self.used.update(holders)
                    self._decide(i, holders)
                    continue
            parts = [j for j in free if len(wanted[j]) < len(t) and _at_word_boundary(t, wanted[j])]
            covered = sum(len(wanted[j]) for j in {wanted[j]: j for j in parts}.values())
            if not parts or covered < 0.6 * len(t):
                continue
            self.used.update(parts)
            self._decide(i, parts)

    def _decide(self, i: int, sources: list[int]) -> None:
        """Block i labelled from `sources`, the labelled texts it is a piece of or made of:
        their one label, else the one label of the people among them, else a conflict."""
        for group in (sources, [j for j in sources if self.person[j]]):
            found = {self.labelled[j].label for j in group}
            if len(found) == 1:
                label = found.pop()
                self.labels[i] = label
                self.origins[i] = next(j for j in group if self.labelled[j].label == label)
                return
        self.conflicts.append(i)


@dataclass
class LabelledPage:
    """An example segmented into the model's blocks, with one label per kept block.

    Blocks that no label reaches are left out of `page` (a model must not learn them as any
    class) and counted in `left_out`. `full_page` keeps every block, for evaluation, which
    predicts on the page as the cleaner sees it and scores the blocks at `kept`."""

    example: Example
    page: Page
    labels: list[str]
    left_out: int
    full_page: Page
    kept: list[int]

    def gold(self, keep_label: str = "content") -> str | None:
        """The example's own gold text, else its kept blocks when every block of the page is
        labelled (with blocks missing, the gold text would be incomplete) and some are labelled
        `keep_label` (with none, a model labelled otherwise has no main text to be scored
        against: any word it keeps would score 0 against nothing). A `gold` without a word
        (blank, "—", "* * *") is no gold text, for the same reason: such a page scored 1.0
        when nothing was kept and 0.0 otherwise."""
        if self.example.gold is not None and tokens(self.example.gold):
            return self.example.gold
        if self.left_out:
            return None
        kept = [b.text for b, lab in zip(self.page.blocks, self.labels) if lab == keep_label]
        return "\n".join(kept) if kept else None


def label_page(example: Example, max_bytes: int = MAX_EXAMPLE_BYTES) -> tuple[LabelledPage | None, list[Problem]]:
    """Segment one example and attach its labels; returns the problems instead of hiding them."""
    problems: list[Problem] = []
    try:
        page = example.to_page(max_bytes)
    except NoiseFilterError as err:
        return None, [Problem(example.where, f"page could not be segmented: {err}; page skipped")]
    if not page.blocks:  # said once, with the reason, not as each label matching no block
        why = f" ({'; '.join(page.notes)})" if page.notes else ""
        return None, [Problem(example.where, f"the page gives no blocks{why}; page skipped")]
    att = attach_labels(page, example.blocks)
    for j in att.unmatched:
        text = example.blocks[j].text
        problems.append(Problem(example.where, f"label {example.blocks[j].label!r} matches no block: "
                                               f"{shorten(text)!r}"))
    for i in att.conflicts:
        problems.append(Problem(example.where, f"block {shorten(page.blocks[i].text)!r} is given "
                                               "different labels; left out"))
    keep = [i for i, lab in enumerate(att.labels) if lab is not None]
    left_out = len(att.unlabelled)
    if left_out:
        why = (f" ({example.unreviewed:,} unreviewed labels left out: --reviewed-only)"
               if example.unreviewed else "")
        problems.append(Problem(example.where, f"{left_out} of {len(page.blocks)} blocks have no "
                                               f"label{why}; left out of training and scoring"))
    kept = replace(page, blocks=[page.blocks[i] for i in keep], notes=list(page.notes))
    labels = [att.labels[i] for i in keep]
    return LabelledPage(example, kept, labels, left_out, page, keep), problems


def shorten(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"
