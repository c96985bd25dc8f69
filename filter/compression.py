"""Compressed input files (gzip, bzip2, xz, zstd), told by their first bytes, and example files
written compressed as their name says (`compressing`).

One place for the batch's page and JSON Lines files and for the example files of retraining:
each reader had its own rule (the batch read gzip by a ``.gz`` name, the examples by the
bytes), so a ``pages.jsonl.zst`` was refused by one and read by the other, and a ``.jsonl``
piped through ``xz`` was read by neither. A WARC is not read here: `filter.warc` decompresses
its gzip members itself, to get past damage.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
import re
import zlib
from typing import BinaryIO

#: the compressions `decompressed` reads: the suffix of a file name, the name (that of the
#: command that writes it) and the first bytes of a file in each
COMPRESSIONS = ((".gz", "gzip", b"\x1f\x8b"), (".bz2", "bzip2", b"BZh"),
                (".xz", "xz", b"\xfd7zXZ\x00"), (".zst", "zstd", b"\x28\xb5\x2f\xfd"))
#: file-name suffixes of the compressed files `decompressed` reads
SUFFIXES = tuple(suffix for suffix, _, _ in COMPRESSIONS)
#: what follows bzip2's "BZh", which alone is the start of text too: the block size digit,
#: then the magic number of the first block, or of the end (a file of no data)
_BZIP2_LEVEL = re.compile(rb"BZh(?:[1-9]|\Z)")
_BZIP2_BLOCKS = (b"1AY&SY", b"\x17rE8P\x90")
#: how many first bytes `compression_of` reads
HEADER_BYTES = 10


def strip_suffix(name: str) -> str:
    """`name` without one compression suffix (``pages.jsonl.zst`` → ``pages.jsonl``), any case."""
    lower = name.lower()
    return next((name[:-len(s)] for s in SUFFIXES if lower.endswith(s)), name)


def compression_of(start: bytes) -> str | None:
    """The compression (its `COMPRESSIONS` name) of a file that starts with the bytes `start`,
    else None; also for the batch, which refuses to append to a compressed output."""
    return next((name for _, name, magic in COMPRESSIONS if start.startswith(magic)
                 and (name != "bzip2" or _bzip2_header(start))), None)


def _bzip2_header(start: bytes) -> bool:
    """Whether `start` goes on as a bzip2 header after its "BZh" (as far as it goes: a pipe's
    first write may end inside the header)."""
    block = start[4:HEADER_BYTES]
    return bool(_BZIP2_LEVEL.match(start)) and any(
        magic.startswith(block) if len(start) < HEADER_BYTES else block == magic
        for magic in _BZIP2_BLOCKS)


def decompressed(fh: BinaryIO) -> contextlib.AbstractContextManager[BinaryIO]:
    """`fh`, or what it decompresses to when it starts as a gzip, bzip2, xz or zstd file does,
    whatever its name. `fh` must be buffered (``open(path, "rb")``, a pipe opened ``"rb"``):
    its first bytes are peeked at, not read, so a plain file is read from its start. A zstd
    file on an install without a zstd module raises `ValueError` (see `zstd_module`)."""
    kind = compression_of(fh.peek(HEADER_BYTES)[:HEADER_BYTES])
    if kind == "gzip":
        return gzip.GzipFile(fileobj=fh, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(fh)
    if kind == "xz":
        return lzma.LZMAFile(fh)
    if kind == "zstd":
        from .decoding import zstd_module  # lazily: it imports the pipeline's parser

        return zstd_module().ZstdFile(fh)
    return contextlib.nullcontext(fh)


def compressing(fh: BinaryIO, name: str) -> contextlib.AbstractContextManager[BinaryIO]:
    """A writer into `fh` that compresses as the file name `name` says (``.gz``, ``.bz2``,
    ``.xz``, ``.zst``, any case), else `fh` itself; closing it leaves `fh` open. For the files
    written whole (`store export -o`, `bootstrap --out`): ``-o labels.jsonl.gz`` held plain
    JSON Lines under a gzip name, which noisefilter read back and `zcat`, `jq` after `gunzip`
    and a backup's decompression refused. The gzip header names no file and no time, so the
    same examples give the same bytes."""
    lower = name.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0)
    if lower.endswith(".bz2"):
        return bz2.BZ2File(fh, "wb")
    if lower.endswith(".xz"):
        return lzma.LZMAFile(fh, "wb")
    if lower.endswith(".zst"):
        from .decoding import zstd_module

        return zstd_module().ZstdFile(fh, "wb")
    return contextlib.nullcontext(fh)


def damage_types() -> tuple[type[Exception], ...]:
    """What reading a file, or its compressed data, raises when it is damaged or cut short
    (gzip's `EOFError`, bzip2's `OSError`, xz's `LZMAError`, zstd's `ZstdError`)."""
    from .decoding import zstd_module

    try:
        zstd_error: tuple[type[Exception], ...] = (zstd_module().ZstdError,)
    except ValueError:  # no zstd module: no zstd file was opened either
        zstd_error = ()
    return (OSError, EOFError, zlib.error, lzma.LZMAError, *zstd_error)
