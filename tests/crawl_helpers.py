"""Helpers shared by the batch, WARC, Scrapy and Spark tests: the fixture site (small pages
written for these tests) and WARC files built from it with warcio's writer."""

from __future__ import annotations

import errno
import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SITE = Path(__file__).parent / "fixtures" / "crawl_site"
ARTICLES = ("harbour-ferry.html", "orchard-frost.html", "library-hours.html")


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """Tests compute reference results in this process: with the classifier's default of one
    OpenMP thread per core, a small page can take seconds on a busy machine (the threads wait
    on each other at every tree), with one it takes milliseconds. Results do not change."""
    with threadpool_limits(1):
        yield


def page(name: str) -> bytes:
    return (SITE / name).read_bytes()


@dataclass
class Rec:
    """One record to write: a response (HTTP headers and body) or, with `warc_type`, another
    kind of record whose body is written as is."""

    url: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: str = "200 OK"
    http_headers: list = field(default_factory=list)
    warc_headers: dict = field(default_factory=dict)
    warc_type: str = "response"
    protocol: str = "HTTP/1.1"


def build_warc(path: Path, records: list[Rec], gz: bool = True) -> list[tuple[int, int]]:
    """Write `records` to `path`; returns each record's (start, end) byte offsets, so a test
    can damage one record exactly."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    spans = []
    for rec in records:
        start = buf.tell()
        if rec.warc_type == "response":
            http = StatusAndHeaders(rec.status, [("Content-Type", rec.content_type),
                                                 *rec.http_headers], protocol=rec.protocol)
            record = writer.create_warc_record(rec.url, "response", payload=io.BytesIO(rec.body),
                                               http_headers=http,
                                               warc_headers_dict=rec.warc_headers)
        else:
            record = writer.create_warc_record(rec.url, rec.warc_type,
                                               payload=io.BytesIO(rec.body),
                                               warc_content_type=rec.content_type,
                                               warc_headers_dict=rec.warc_headers)
        writer.write_record(record)
        spans.append((start, buf.tell()))
    path.write_bytes(buf.getvalue())
    return spans


def cut(path: Path, span: tuple[int, int], keep: float = 0.5) -> None:
    """Truncate the record at `span` in place, keeping the first `keep` share of its bytes and
    everything after it (a record damaged in the middle of a file)."""
    data = path.read_bytes()
    start, end = span
    path.write_bytes(data[:start] + data[start:start + int((end - start) * keep)] + data[end:])


def site_records(base: str = "http://courier.test/") -> list[Rec]:
    return [Rec(base + name, page(name)) for name in ARTICLES]


class FailingDisk(io.RawIOBase):
    """A file whose bytes from `bad` on cannot be read: a bad sector, a stale NFS handle."""

    def __init__(self, data: bytes, bad: int):
        self.file, self.bad = io.BytesIO(data), bad

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, *args):
        return self.file.seek(*args)

    def tell(self):
        return self.file.tell()

    def readinto(self, buffer):
        if self.file.tell() >= self.bad:
            raise OSError(errno.EIO, "Input/output error")
        data = self.file.read(min(len(buffer), self.bad - self.file.tell()))
        buffer[:len(data)] = data
        return len(data)
