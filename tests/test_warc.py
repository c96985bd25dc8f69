"""The WARC reader: every good page comes out whole, everything else is reported in place."""

from __future__ import annotations

import gzip
import io
import os
import random
import re
import time
import tracemalloc
import zlib

import pytest

from crawl_helpers import ARTICLES, FailingDisk, Rec, build_warc, cut, page, site_records
from filter.decoding import decode
from filter.warc import _media_type, iter_warc, read_warc


def read(doc) -> str:
    """A record's page as the cleaner reads it: in the charset its HTTP header named."""
    return decode(doc.html, 10**9, doc.url, doc.charset)


def read_with_peak(path, **options) -> tuple[list, int]:
    """The documents of a WARC file and the most memory reading them allocated."""
    tracemalloc.start()
    try:
        docs = list(read_warc(path, **options))
        return docs, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def summary(docs):
    return [(d.url, d.failure.type if d.failure else "page") for d in docs]


def summary_of(records: list[Rec]) -> list[tuple[str, str]]:
    """The summary of `records` read whole."""
    return [(r.url, "page") for r in records]


@pytest.mark.parametrize("gz", [True, False])
def test_good_records_come_out_with_their_payload_and_ids(tmp_path, gz):
    path = tmp_path / ("a.warc.gz" if gz else "a.warc")
    records = site_records()
    for n, rec in enumerate(records):  # the capture date each record's WARC-Date gives
        rec.warc_headers = {"WARC-Date": f"2026-05-0{n + 1}T10:00:00Z"}
    records.insert(1, Rec("http://courier.test/robots.txt", b"GET /robots.txt HTTP/1.1\r\n"
                          b"Host: courier.test\r\n\r\n", warc_type="request",
                          content_type="application/http; msgtype=request"))
    build_warc(path, records, gz=gz)
    docs = list(read_warc(path))
    assert [d.url for d in docs] == [f"http://courier.test/{n}" for n in ARTICLES]
    assert all(d.failure is None for d in docs)
    assert [read(d) for d in docs] == [page(n).decode("utf-8") for n in ARTICLES]
    assert all(d.id.startswith("urn:uuid:") for d in docs)
    assert len({d.id for d in docs}) == 3
    assert [d.meta for d in docs] == [{"warc_date": f"2026-05-0{n}T10:00:00Z", "warc_truncated": None}
                                      for n in (1, 2, 3)]


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("where", ["middle", "end"])
def test_a_truncated_record_is_reported_and_no_other_page_is_lost(tmp_path, gz, where):
    path = tmp_path / ("a.warc.gz" if gz else "a.warc")
    spans = build_warc(path, site_records(), gz=gz)
    victim = 1 if where == "middle" else 2
    cut(path, spans[victim], keep=0.6)
    docs = list(read_warc(path))
    kept = [d.url for d in docs if d.failure is None]
    assert kept == [f"http://courier.test/{n}" for i, n in enumerate(ARTICLES) if i != victim]
    damaged = [d for d in docs if d.failure is not None]
    assert len(damaged) == 1 and damaged[0].failure.type == "DamagedRecord"
    # the report stands where the record stood, so the output keeps the archive's order
    assert docs.index(damaged[0]) == victim
    # its header survived the cut, so the report names the record (also when the damage is
    # found by the gzip layer, below the record's own framing); its id is its place, so that
    # the record's page, once the file is whole, is not taken for done (see test_batch_cli)
    assert damaged[0].url == f"http://courier.test/{ARTICLES[victim]}"
    assert damaged[0].id == f"{path}@{spans[victim][0]}"
    assert "(record urn:uuid:" in damaged[0].failure.message


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("extra", [5_000, 99_999_999])
def test_a_content_length_too_large_costs_only_its_record(tmp_path, gz, extra):
    """A record whose WARC Content-Length runs past its end (into the records after it, or
    past the end of the file) is reported, and every later record still comes out: in a
    .warc.gz the reader used to resume after the member it had read on into, losing the next
    record, or all of them."""
    path = tmp_path / ("a.warc.gz" if gz else "a.warc")
    records = site_records() + site_records("http://other.test/")
    spans = build_warc(path, records, gz=gz)
    data = path.read_bytes()
    start, end = spans[1]
    member = gzip.decompress(data[start:end]) if gz else data[start:end]
    head, sep, rest = member.partition(b"\r\n\r\n")
    lines = [line if not line.lower().startswith(b"content-length:") else
             b"Content-Length: %d" % (int(line.split(b":")[1]) + extra) for line in head.split(b"\r\n")]
    member = b"\r\n".join(lines) + sep + rest
    path.write_bytes(data[:start] + (gzip.compress(member) if gz else member) + data[end:])
    docs = list(read_warc(path))
    assert summary(docs) == [(r.url, "DamagedRecord" if i == 1 else "page") for i, r in enumerate(records)]
    assert docs[1].meta["warc_date"]  # what was read of its header is kept
    if extra > 5_000:  # past the file's end, mid-file: not said as a file cut short
        assert "file ends" not in docs[1].failure.message
        assert "the record is truncated, or its Content-Length is wrong" in docs[1].failure.message


def corrupt_gzip_body() -> bytes:
    """A gzip body that breaks after its first 20 kB (past warcio's first read, which would
    otherwise take undecompressable data to be uncompressed)."""
    filler = "".join(f"<p>{os.urandom(40).hex()}</p>" for _ in range(800))
    html = page("library-hours.html").replace(b"</main>", filler.encode() + b"</main>")
    body = gzip.compress(html)
    return body[:20_000] + b"\x00garbage" * 2000


def test_pages_that_are_not_pages_are_reported_by_kind(tmp_path):
    corrupt_gzip = corrupt_gzip_body()
    path = tmp_path / "mixed.warc.gz"
    build_warc(path, [
        Rec("http://courier.test/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
            content_type="image/png"),
        Rec("http://courier.test/old", b"", status="301 Moved Permanently",
            http_headers=[("Location", "/new")]),
        Rec("http://courier.test/broken", corrupt_gzip,
            http_headers=[("Content-Encoding", "gzip")]),
        Rec("http://courier.test/orchard-frost.html", page("orchard-frost.html")),
    ])
    assert summary(read_warc(path)) == [
        ("http://courier.test/logo.png", "NotHTML"),
        ("http://courier.test/old", "HTTPStatus"),
        ("http://courier.test/broken", "UndecodablePayload"),
        ("http://courier.test/orchard-frost.html", "page"),
    ]


def test_a_partial_content_response_is_a_page_only_from_its_first_byte(tmp_path):
    """A 206 response holds the bytes its Content-Range names: its page's start is cleaned as a
    page the crawler cut (`warc_truncated` "range"), the whole page as a page, and a part from
    further in, or one without a range, is no page (the middle of an article was cleaned and
    stored as if it were the article)."""
    html = page("orchard-frost.html")
    gz = gzip.compress(html)
    records = [
        Rec("http://courier.test/start", html[:600],
            status="206 Partial Content", http_headers=[("Content-Range", f"bytes 0-599/{len(html)}")]),
        Rec("http://courier.test/whole", html,
            status="206 Partial Content", http_headers=[("Content-Range", f"bytes 0-{len(html) - 1}/{len(html)}")]),
        Rec("http://courier.test/start-gz", gz[:len(gz) // 2], status="206 Partial Content",
            http_headers=[("Content-Range", f"bytes 0-{len(gz) // 2 - 1}/*"), ("Content-Encoding", "gzip")]),
        Rec("http://courier.test/middle", html[600:],
            status="206 Partial Content", http_headers=[("Content-Range", f"bytes 600-{len(html) - 1}/{len(html)}")]),
        Rec("http://courier.test/unranged", html, status="206 Partial Content"),
    ]
    path = tmp_path / "ranges.warc.gz"
    build_warc(path, records)
    docs = list(read_warc(path))
    assert summary(docs) == [(r.url, "HTTPStatus" if i > 2 else "page") for i, r in enumerate(records)]
    assert [d.meta["warc_truncated"] for d in docs[:3]] == ["range", None, "range"]
    assert read(docs[0]) == html[:600].decode() and read(docs[1]) == html.decode()
    assert html.decode().startswith(read(docs[2])) and len(read(docs[2])) > 600
    assert "from byte 600, not a page" in docs[3].failure.message
    assert "without a Content-Range" in docs[4].failure.message


def test_encodings_of_the_http_layer_are_undone(tmp_path):
    html = page("orchard-frost.html").replace(b'<meta charset="utf-8">', b"")
    latin = html.decode("utf-8").replace("valley's", "vallée's").encode("cp1252")
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                       for part in (html[:500], html[500:])) + b"0\r\n\r\n"
    path = tmp_path / "enc.warc.gz"
    build_warc(path, [
        Rec("http://courier.test/gz", gzip.compress(html[:700]) + gzip.compress(html[700:]),
            http_headers=[("Content-Encoding", "gzip")]),  # two members: gzip -d reads both
        Rec("http://courier.test/chunked", chunked,
            http_headers=[("Transfer-Encoding", "chunked")]),
        Rec("http://courier.test/latin", latin, content_type="text/html; charset=windows-1252"),
        Rec("http://courier.test/untyped", html, content_type="application/octet-stream"),
        # the label as browsers read it: iso-8859-1 is windows-1252, whose curly quotes Python's
        # latin-1 codec would make C1 control characters
        Rec("http://courier.test/labelled", latin.replace(b"'", b"\x92"),
            content_type="text/html; charset=iso-8859-1"),
    ])
    docs = list(read_warc(path))
    assert [d.failure for d in docs] == [None] * 5
    assert read(docs[0]) == read(docs[1]) == html.decode("utf-8")
    assert docs[3].html == html and docs[3].charset is None  # the library detects it
    assert "vallée's" in read(docs[2])  # decoded with the charset the HTTP header names
    assert "vallée’s" in read(docs[4])


def test_a_broken_chunked_body_is_reported_not_cleaned_cut_or_with_chunk_sizes_as_words(tmp_path):
    """warcio's chunked reader returned a body cut inside a chunk as a shorter page, and one
    whose chunk framing broke with the chunk sizes in its text. A body stored already
    de-chunked under its Transfer-Encoding header, or chunked under another transfer coding,
    is read."""
    html = page("orchard-frost.html")
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(html[i:i + 500]), html[i:i + 500])
                       for i in range(0, len(html), 500)) + b"0\r\n\r\n"
    gz = gzip.compress(html)
    gz_chunked = b"".join(b"%x\r\n%s\r\n" % (len(gz[i:i + 300]), gz[i:i + 300])
                          for i in range(0, len(gz), 300)) + b"0\r\n\r\n"
    te = [("Transfer-Encoding", "chunked")]
    path = tmp_path / "chunks.warc.gz"
    build_warc(path, [
        Rec("http://courier.test/cut", chunked[:len(chunked) // 2], http_headers=te),
        Rec("http://courier.test/framing", chunked[:1000] + chunked[1100:], http_headers=te),
        Rec("http://courier.test/stored-dechunked", html, http_headers=te),
        Rec("http://courier.test/gzip-chunked", gz_chunked,
            http_headers=[("Transfer-Encoding", "gzip, chunked")]),
        Rec("http://courier.test/cut-on-purpose", chunked[:len(chunked) // 2], http_headers=te,
            warc_headers={"WARC-Truncated": "length"}),
    ])
    docs = list(read_warc(path))
    assert summary(docs)[:2] == [("http://courier.test/cut", "UndecodablePayload"),
                                 ("http://courier.test/framing", "UndecodablePayload")]
    assert "ends inside a chunk" in docs[0].failure.message
    assert read(docs[2]) == read(docs[3]) == html.decode("utf-8")
    assert docs[4].failure is None and html.decode("utf-8").startswith(read(docs[4]))


def test_http2_responses_and_records_ended_by_one_crlf_are_read(tmp_path):
    """Crawlers speaking HTTP/2 write "HTTP/2 200" or "HTTP/2.0 200" (warcio's loader expected
    HTTP/1.x and the page was lost; then "HTTP/2.0 200" was read as status ".0"), and some writers end a record with one CRLF instead of two (a valid
    block: warcio reads it; every such record but the last was reported damaged)."""
    path = tmp_path / "h2.warc"
    versions = ("HTTP/2", "HTTP/3", "HTTP/2.0", "HTTP/3.0")  # "HTTP/2.0": Go's net/http
    build_warc(path, [Rec(f"http://courier.test/{v}", page("orchard-frost.html"), protocol=v)
                      for v in versions], gz=False)
    assert summary(read_warc(path)) == [(f"http://courier.test/{v}", "page") for v in versions]
    spans = build_warc(path, site_records(), gz=False)
    data = path.read_bytes()
    one_crlf = b"".join(data[start:end - 2] for start, end in spans)  # each ends "\r\n\r\n"
    for name, blob in (("one.warc", one_crlf),
                       ("one.warc.gz", b"".join(gzip.compress(data[start:end - 2])
                                                for start, end in spans))):
        (tmp_path / name).write_bytes(blob)
        assert summary(read_warc(tmp_path / name)) == [
            (f"http://courier.test/{n}", "page") for n in ARTICLES], name
    # a block that ends early is still damage, with one CRLF or none after it
    (tmp_path / "short.warc").write_bytes(one_crlf.replace(b"</html>", b"</html>\r\nXX", 1))
    assert [t for _, t in summary(read_warc(tmp_path / "short.warc"))][0] == "DamagedRecord"


@pytest.mark.parametrize("damage", ["junk before", "first byte", "padding after"])
def test_a_warc_gz_damaged_at_its_ends_loses_at_most_its_first_record(tmp_path, damage):
    """The file's first two bytes decided whether it was gzip: three stray bytes in front, or
    a damaged first byte, had a .warc.gz read as a plain WARC and every page in it lost; a
    newline or NULs after its last member were reported as a damaged record."""
    path = tmp_path / "a.warc.gz"
    build_warc(path, site_records())
    data = path.read_bytes()
    path.write_bytes({"junk before": b"xyz" + data, "first byte": b"\x00" + data[1:],
                      "padding after": data + b"\n\x00\x00\n"}[damage])
    docs = list(read_warc(path))
    pages = [d.url for d in docs if d.failure is None]
    want = [f"http://courier.test/{n}" for n in ARTICLES]
    assert pages == (want[1:] if damage == "first byte" else want)
    assert [d.failure.type for d in docs if d.failure] == (
        [] if damage == "padding after" else ["DamagedRecord"])


def test_a_page_starting_with_a_byte_order_mark_is_sniffed_as_html(tmp_path):
    path = tmp_path / "bom.warc"
    build_warc(path, [Rec("http://courier.test/bom", b"\xef\xbb\xbf" + page("orchard-frost.html"),
                          content_type="")], gz=False)
    assert summary(read_warc(path)) == [("http://courier.test/bom", "page")]


def test_crawler_truncation_is_kept_and_flagged(tmp_path):
    path = tmp_path / "t.warc.gz"
    build_warc(path, [Rec("http://courier.test/long", page("harbour-ferry.html")[:1500],
                          warc_headers={"WARC-Truncated": "length"})])
    (doc,) = read_warc(path)
    assert doc.failure is None and doc.meta["warc_truncated"] == "length"
    assert read(doc) == page("harbour-ferry.html")[:1500].decode("utf-8")  # all of what was kept


def test_a_record_over_the_size_limit_is_skipped_unread(tmp_path):
    path = tmp_path / "big.warc"
    build_warc(path, [Rec("http://courier.test/big", b"<html>" + b"x" * 200_000),
                      *site_records()[:1]], gz=False)
    docs = list(read_warc(path, max_bytes=100_000))
    assert summary(docs)[0] == ("http://courier.test/big", "InputTooLarge")
    assert docs[0].meta["warc_date"]
    assert docs[1].failure is None


def test_compressed_bombs_stop_at_the_size_limit(tmp_path):
    """A small compressed body that inflates past the limit is refused without being inflated
    whole (40 MB of HTML in 40 kB of brotli or gzip), and a brotli body cut short is an error."""
    brotli = pytest.importorskip("brotli")
    huge = b"<html><body>" + b"<p>again</p>" * 3_500_000
    html = page("orchard-frost.html")
    path = tmp_path / "bomb.warc.gz"
    build_warc(path, [
        Rec("http://courier.test/br-bomb", brotli.compress(huge),
            http_headers=[("Content-Encoding", "br")]),
        Rec("http://courier.test/gz-bomb", gzip.compress(huge),
            http_headers=[("Content-Encoding", "gzip")]),
        Rec("http://courier.test/br", brotli.compress(html), http_headers=[("Content-Encoding", "br")]),
        Rec("http://courier.test/br-cut", brotli.compress(html)[:-40],
            http_headers=[("Content-Encoding", "br")]),
    ])
    docs, peak = read_with_peak(path, max_bytes=1_000_000)
    assert peak < 10_000_000, f"{peak:,} bytes allocated while reading"
    assert summary(docs) == [("http://courier.test/br-bomb", "InputTooLarge"),
                             ("http://courier.test/gz-bomb", "InputTooLarge"),
                             ("http://courier.test/br", "page"),
                             ("http://courier.test/br-cut", "UndecodablePayload")]
    assert read(docs[2]) == html.decode("utf-8")


def test_garbage_between_records_is_skipped_with_one_report(tmp_path):
    path = tmp_path / "g.warc.gz"
    spans = build_warc(path, site_records())
    data = path.read_bytes()
    path.write_bytes(data[:spans[1][0]] + b"\x00not a gzip member" * 20 + data[spans[1][0]:])
    docs = list(read_warc(path))
    assert [d.url for d in docs if not d.failure] == [
        f"http://courier.test/{n}" for n in ARTICLES]
    assert [d.failure.type for d in docs if d.failure] == ["DamagedRecord"]


def test_a_stream_that_cannot_seek_is_refused_before_the_first_document():
    class Pipe(io.RawIOBase):
        def readable(self):
            return True

    with pytest.raises(ValueError, match="seekable"):
        iter_warc(Pipe(), source="pipe")


@pytest.mark.parametrize("gz", [True, False])
def test_a_read_error_inside_a_warc_ends_its_documents_with_one_report(tmp_path, gz):
    """It raised out of the reader, stopping a batch at that file and every input after it."""
    path = tmp_path / "a.warc"
    # the disk fails halfway through a page larger than the reader reads at once
    comment = random.Random(0).randbytes(3_000_000).hex().encode()
    records = [*site_records(), Rec("http://courier.test/big",
                                    b"<html><body><p>Big</p><!--%s--></body></html>" % comment)]
    spans = build_warc(path, records, gz=gz)
    bad = (spans[3][0] + spans[3][1]) // 2
    docs = list(iter_warc(io.BufferedReader(FailingDisk(path.read_bytes(), bad)), "a.warc",
                          report_read_errors=True))
    assert summary(docs) == summary_of(site_records()) + [(None, "UnreadableFile")]
    assert docs[3].id == f"a.warc@{spans[3][0]}"
    assert "Input/output error" in docs[3].failure.message
    # every line of a WARC input has its WARC fields, as documented, known or not
    assert docs[3].meta == {"warc_date": None, "warc_truncated": None}
    assert docs[3].meta.keys() == docs[0].meta.keys()
    # raised by default: a remote store's timeout fails a Spark task, which Spark retries
    with pytest.raises(OSError, match="Input/output error"):
        list(iter_warc(io.BufferedReader(FailingDisk(path.read_bytes(), bad)), "a.warc"))


def test_a_warc_whose_start_cannot_be_read_is_reported_and_the_batch_goes_on(tmp_path, monkeypatch):
    import filter.warc

    build_warc(tmp_path / "bad.warc", site_records())
    build_warc(tmp_path / "good.warc", site_records("http://other.test/"))
    real_open = open

    def failing_open(path, *args, **kwargs):
        fh = real_open(path, *args, **kwargs)
        if str(path).endswith("bad.warc"):
            return io.BufferedReader(FailingDisk(fh.read(), 0))
        return fh

    monkeypatch.setattr(filter.warc, "open", failing_open, raising=False)
    docs = [d for name in ("bad.warc", "good.warc") for d in read_warc(tmp_path / name)]
    assert summary(docs) == [(None, "UnreadableFile")] + [
        ("http://other.test/" + n, "page") for n in ARTICLES]
    assert docs[0].id == f"{tmp_path / 'bad.warc'}@0"
    assert docs[0].meta == {"warc_date": None, "warc_truncated": None}


def test_leading_comments_cannot_make_the_html_sniff_backtrack(tmp_path):
    """A body served as text/plain (or untyped) is sniffed for HTML; one of many comments
    followed by something that is not a tag must be refused at once, not after hours of
    regex backtracking (the reader has no time limit)."""
    comments = b"<!--a-->" * 27  # before the fix: about a minute; each one more doubles it
    path = tmp_path / "comments.warc.gz"
    build_warc(path, [
        Rec("http://courier.test/evil", comments + b"x", content_type="text/plain"),
        Rec("http://courier.test/commented", comments + b" <!-- b --> <html><body><p>Hi</p>",
            content_type="application/octet-stream"),
        Rec("http://courier.test/orchard-frost.html", page("orchard-frost.html")),
    ])
    started = time.monotonic()
    assert summary(read_warc(path)) == [
        ("http://courier.test/evil", "NotHTML"),
        ("http://courier.test/commented", "page"),
        ("http://courier.test/orchard-frost.html", "page"),
    ]
    assert time.monotonic() - started < 5


def with_content_length(record: bytes, change: int) -> bytes:
    """A plain WARC record whose Content-Length header is off by `change`."""
    head, sep, rest = record.partition(b"\r\n\r\n")
    lines = [line if not line.lower().startswith(b"content-length:") else
             b"Content-Length: %d" % (int(line.split(b":")[1]) + change)
             for line in head.split(b"\r\n")]
    return b"\r\n".join(lines) + sep + rest


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("damage", ["stray byte", "content length"])
def test_a_warc_gzipped_whole_loses_only_its_damaged_record(tmp_path, gz, damage):
    """`gzip crawl.warc` makes the whole file one gzip member. A record with broken framing in
    it (a stray byte before its `WARC/1.0` line, a wrong Content-Length) lost every record after
    it: the reader went on at the next gzip member, and there was none. As in a plain WARC, it
    goes on at the next record in the uncompressed bytes; a report names its place in them, so
    two damaged places in one member are two documents, not one id twice."""
    records = site_records() + site_records("http://other.test/")[:2]
    spans = build_warc(tmp_path / "built.warc", records, gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    start, end = spans[2]
    if damage == "stray byte":  # before the third record and the fifth
        data = data[:start] + b"x" + data[start:spans[4][0]] + b"x" + data[spans[4][0]:]
        want = [*summary_of(records[:2]), (None, "DamagedRecord"), *summary_of(records[2:4]),
                (None, "DamagedRecord"), *summary_of(records[4:])]
    else:
        data = data[:start] + with_content_length(data[start:end], 10) + data[end:]
        want = [*summary_of(records[:2]), (records[2].url, "DamagedRecord"),
                *summary_of(records[3:])]
    path = tmp_path / ("whole.warc.gz" if gz else "a.warc")
    path.write_bytes(gzip.compress(data) if gz else data)
    docs = list(read_warc(path))
    assert summary(docs) == want
    if damage == "stray byte":  # a place in the uncompressed bytes of the one member
        place = f"0+{start}" if gz else str(start)
        assert docs[2].id == f"{path}@{place}" != docs[5].id
        assert docs[2].failure.message.endswith(
            f"(at uncompressed byte {start:,} of the gzip member at byte 0)" if gz
            else f"(at byte {start:,})")


def test_warc_0_17_and_0_18_records_are_read_and_damage_is_placed_once(tmp_path):
    """warcio reads the WARC/0.17 and WARC/0.18 drafts' records, which are framed as 1.0's;
    files of them were reported damaged whole. A report said "(at byte N)" twice."""
    spans = build_warc(tmp_path / "built.warc", site_records(), gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    old = b"".join(data[s:e].replace(b"WARC/1.0", v, 1)
                   for (s, e), v in zip(spans, (b"WARC/0.17", b"WARC/0.18", b"WARC/0.18")))
    (tmp_path / "old.warc").write_bytes(old)
    assert summary(read_warc(tmp_path / "old.warc")) == summary_of(site_records())
    (tmp_path / "junk.warc").write_bytes(b"junk\r\n" + data)
    (report, *_) = read_warc(tmp_path / "junk.warc")
    assert report.failure.type == "DamagedRecord"
    assert report.failure.message.count("at byte") == 1, report.failure.message


@pytest.mark.parametrize("scheme", ["HTTP", "Https"])
def test_a_target_uri_with_an_upper_case_scheme_is_a_page(tmp_path, scheme):
    """URI schemes are case-insensitive; the HTTP headers of such a record were left unread and
    its page reported as `application/http`, not HTML."""
    path = tmp_path / "upper.warc"
    build_warc(path, site_records(f"{scheme}://courier.test/"))
    docs = list(read_warc(path))
    assert summary(docs) == summary_of(site_records(f"{scheme}://courier.test/"))
    assert [read(d) for d in docs] == [page(n).decode("utf-8") for n in ARTICLES]
    assert all(d.resolve_links for d in docs)


def test_chunk_size_lines_are_read_as_browsers_read_them(tmp_path):
    """Servers write white space after a chunk's size (`fa0 \\r\\n`) or end its lines with a
    bare LF; such bodies were taken for de-chunked ones and the sizes came out as words."""
    html = page("orchard-frost.html")
    parts = [html[i:i + 500] for i in range(0, len(html), 500)]
    te = [("Transfer-Encoding", "chunked")]
    path = tmp_path / "chunks.warc"
    build_warc(path, [
        Rec("http://courier.test/space", b"".join(b"%x \t\r\n%s\r\n" % (len(p), p) for p in parts)
            + b"0\r\n\r\n", http_headers=te),
        Rec("http://courier.test/lf", b"".join(b"%x\n%s\n" % (len(p), p) for p in parts)
            + b"0\n\n", http_headers=te),
        Rec("http://courier.test/ext", b"".join(b"%x;name=value\r\n%s\r\n" % (len(p), p)
                                               for p in parts) + b"0\r\n\r\n", http_headers=te),
    ], gz=False)
    docs = list(read_warc(path))
    assert [read(d) for d in docs] == [html.decode("utf-8")] * 3


@pytest.mark.parametrize("coding", ["deflate", "br", "gzip"])
def test_a_plain_page_labelled_with_a_content_encoding_is_read_as_it_is(tmp_path, coding):
    """Servers label plain pages with a Content-Encoding they did not apply. Browsers show the
    page; a gzip-labelled one was read, a deflate- or br-labelled one lost."""
    html = page("orchard-frost.html")
    path = tmp_path / "labelled.warc"
    build_warc(path, [Rec("http://courier.test/plain", html,
                          http_headers=[("Content-Encoding", coding)])], gz=False)
    (doc,) = read_warc(path)
    assert doc.failure is None and read(doc) == html.decode("utf-8")


@pytest.mark.parametrize("start", [
    b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">',
    b'<?xml version="1.0"?>\n<!-- saved -->\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0'
    b' Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html>',
    b'<meta charset="utf-8">\n<title>Orchards</title>\n<html>',
    b"<title>Orchards</title>\n<html>"])
def test_a_page_that_starts_without_a_doctype_is_taken_as_html_when_sniffed(tmp_path, start):
    """An XHTML page (an XML declaration first) or an HTML5 page opening with its `<meta
    charset>` or `<title>`, stored decoded under the Content-Encoding it was served with or
    without a content type: only a doctype, html, head or body start was taken for HTML, and
    such pages were lost as undecodable or not HTML."""
    html = page("orchard-frost.html")
    body = start + html[html.index(b"<html") + len(b"<html lang=\"en\">"):]
    path = tmp_path / "xhtml.warc"
    build_warc(path, [Rec("http://courier.test/br", body, http_headers=[("Content-Encoding", "br")]),
                      Rec("http://courier.test/none", body, content_type="")], gz=False)
    docs = list(read_warc(path))
    assert [d.failure for d in docs] == [None, None]
    assert all("frost" in read(d) for d in docs)
    for xml in (b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>x</title></channel>'
                b"</rss>", b'<?xml version="1.0"?>\n<link:linkbase xmlns:link="x"></link:linkbase>',
                b"<meta-data><title-list/></meta-data>"):
        build_warc(path, [Rec("http://courier.test/feed", xml, content_type="")], gz=False)
        assert next(read_warc(path)).failure.type == "NotHTML"


@pytest.mark.parametrize("uri", ["file:///home/me/site/index.html", "urn:x-local:index.html",
                                 "http://courier.test:99999/a", "file://localhost/site/a.html",
                                 "FILE://nas/site/a.html"])
def test_a_target_uri_the_cleaner_refuses_is_kept_but_not_used_for_links(tmp_path, uri):
    """An archive of local files (`resource` records) names them by file: or urn: URIs, which
    the cleaner refuses as page URLs (as it refuses a port out of range): the page was lost as
    an InputError. It is cleaned as a page given without a URL, and the URI is kept in the
    output. A file: URI with a host is no page's URL either: its links would resolve to files."""
    path = tmp_path / "local.warc"
    build_warc(path, [Rec(uri, page("orchard-frost.html"), warc_type="resource",
                          content_type="text/html")], gz=False)
    (doc,) = read_warc(path)
    assert doc.failure is None and doc.url == uri and doc.resolve_links is False
    build_warc(path, site_records()[:1], gz=False)
    assert next(read_warc(path)).resolve_links is True


def warc_text_page(fake_records: int = 1) -> bytes:
    """An article that quotes WARC records in a <pre>, each line starting its own line, as a
    page about web archiving does."""
    quoted = b"".join(b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://invented.test/"
                      b"%d\r\nContent-Type: application/http; msgtype=response\r\n"
                      b"Content-Length: 60\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                      b"\r\n<html><body>x</body></html>\r\n\r\n" % i for i in range(fake_records))
    return page("harbour-ferry.html").replace(b"</main>", b"<pre>\n" + quoted + b"</pre></main>")


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("change", [-200, 10])
def test_warc_text_inside_a_damaged_record_of_a_warc_gz_invents_no_record(tmp_path, change, shared):
    """In a .warc.gz written a gzip member per record, a record whose Content-Length is wrong
    is reported and the reader goes on at the next member. Searching the damaged record's own
    bytes for the next record start found the WARC records a page quoted, and handed them on
    as pages of the archive; so did it when the first two records shared a member (a warcinfo
    and a response may), once that was taken for a file of many records per member."""
    records = [*site_records("http://other.test/")[:1], *site_records()]
    records[2] = Rec("http://courier.test/warc-howto.html", warc_text_page())
    spans = build_warc(tmp_path / "built.warc.gz", records, gz=True)
    data = (tmp_path / "built.warc.gz").read_bytes()
    members = [data[s:e] for s, e in spans]
    members[2] = gzip.compress(with_content_length(gzip.decompress(members[2]), change))
    if shared:
        members[:2] = [gzip.compress(gzip.decompress(members[0]) + gzip.decompress(members[1]))]
    (tmp_path / "a.warc.gz").write_bytes(b"".join(members))
    assert summary(read_warc(tmp_path / "a.warc.gz")) == [
        (r.url, "DamagedRecord" if i == 2 else "page") for i, r in enumerate(records)]


@pytest.mark.parametrize("gz", [True, False])
def test_many_damaged_records_and_record_lines_in_text_do_not_stall_the_reader(tmp_path, gz):
    """After damage the reader searches the uncompressed bytes for the next record start, and
    reads each candidate from its place again. A `WARC/1.0` in running text is no candidate
    (5,000 of them in a page took 52 s), and going back inside a WARC gzipped whole
    decompresses a small step again, not 4 MiB (4,000 damaged records took 33 s)."""
    records = site_records()
    spans = build_warc(tmp_path / "built.warc", records, gz=False)
    built = (tmp_path / "built.warc").read_bytes()
    start, end = spans[1]
    body = built[start:end].replace(b"</main>", b"see WARC/1.0 " * 5_000 + b"</main>")
    broken = b"".join(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\n%s\r\n\r\n"
                      % os.urandom(500).hex().encode() for _ in range(4_000))
    data = built[:start] + with_content_length(body, -300) + broken + built[end:]
    path = tmp_path / ("whole.warc.gz" if gz else "a.warc")
    path.write_bytes(gzip.compress(data) if gz else data)
    started = time.monotonic()
    docs = list(read_warc(path))
    assert time.monotonic() - started < 20
    assert summary(docs) == [(records[0].url, "page"), (records[1].url, "DamagedRecord"),
                             *[(None, "DamagedRecord")] * 4_000, *summary_of(records[2:])]


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("cut", ["after a line", "inside a line"])
def test_a_record_cut_inside_its_header_is_reported_and_the_next_one_read(tmp_path, gz, cut):
    """A record cut inside its WARC header and followed by the next record: the header ran on
    into the next record's, so the cut record went unreported and the next one was framed by
    a mix of both headers ("the response has no HTTP headers")."""
    records = site_records()
    spans = build_warc(tmp_path / "built.warc", records, gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    parts = [data[start:end] for start, end in spans]
    at = parts[0].index(b"Content-Length:") + (0 if cut == "after a line" else 17)
    parts[0] = parts[0][:at]
    path = tmp_path / ("a.warc.gz" if gz else "a.warc")
    path.write_bytes(b"".join(gzip.compress(p) for p in parts) if gz else b"".join(parts))
    docs = list(read_warc(path))
    assert summary(docs) == [(records[0].url, "DamagedRecord"), *summary_of(records[1:])]
    assert "next record starts inside it" in docs[0].failure.message


def test_a_record_header_that_never_ends_is_damage_of_bounded_size(tmp_path):
    """A WARC header of 8 MB of short lines (a 9 KB gzip member) was held whole, at about 66
    times its size (529 MB), before it was found to frame nothing."""
    records = site_records()
    spans = build_warc(tmp_path / "built.warc", records, gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    endless = b"WARC/1.0\r\nWARC-Type: response\r\n" + b"a\r\n" * 2_000_000
    path = tmp_path / "a.warc.gz"
    path.write_bytes(gzip.compress(data[:spans[1][0]]) + gzip.compress(endless)
                     + gzip.compress(data[spans[1][0]:]))
    docs, peak = read_with_peak(path)
    assert summary(docs) == [(records[0].url, "page"), (None, "DamagedRecord"),
                             *summary_of(records[1:])]
    assert "longer than" in docs[1].failure.message
    assert peak < 30_000_000, f"{peak:,} bytes"


def test_a_content_length_that_is_no_number_of_bytes_is_damage(tmp_path):
    """int() reads "-4" and "4_0": a negative length took the records after it into the
    block, and they were lost without a word."""
    records = site_records()
    spans = build_warc(tmp_path / "built.warc", records, gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    for bad in (b"-4", b"1_0"):
        start, end = spans[1]
        record = data[start:end]
        at = record.index(b"Content-Length: ") + len(b"Content-Length: ")
        record = record[:at] + bad + record[record.index(b"\r\n", at):]
        (tmp_path / "a.warc").write_bytes(data[:start] + record + data[end:])
        assert summary(read_warc(tmp_path / "a.warc")) == [
            (r.url, "DamagedRecord" if i == 1 else "page") for i, r in enumerate(records)], bad


def test_a_plain_warc_with_a_damaged_start_is_not_taken_for_gzip(tmp_path):
    """A plain WARC whose first bytes are damaged was judged gzip by the first gzip signature
    in it, that of a gzip-encoded page before the next record: every record was lost as
    corrupt gzip data."""
    html = page("orchard-frost.html")
    records = [Rec(f"http://courier.test/{i}", gzip.compress(html),
                   http_headers=[("Content-Encoding", "gzip")]) for i in range(4)]
    build_warc(tmp_path / "built.warc", records, gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    (tmp_path / "a.warc").write_bytes(b"X" + data[1:])
    docs = list(read_warc(tmp_path / "a.warc"))
    assert summary(docs) == [(None, "DamagedRecord"), *summary_of(records[1:])]
    assert all(read(d) == html.decode("utf-8") for d in docs[1:])


def test_deflate_bodies_with_any_zlib_window_are_read(tmp_path):
    """A zlib header was known only by its first byte 0x78 (a 32 KiB window): zlib data made
    with a smaller window was read as raw deflate and reported undecodable."""
    import zlib

    html = page("orchard-frost.html")
    records = []
    for wbits in (15, 12, 9, -15):
        coder = zlib.compressobj(wbits=wbits)
        records.append(Rec(f"http://courier.test/w{wbits}", coder.compress(html) + coder.flush(),
                           http_headers=[("Content-Encoding", "deflate")]))
    build_warc(tmp_path / "a.warc", records, gz=False)
    docs = list(read_warc(tmp_path / "a.warc"))
    assert summary(docs) == summary_of(records)
    assert all(read(d) == html.decode("utf-8") for d in docs)


def test_a_response_record_without_a_target_uri_is_reported_as_damaged(tmp_path):
    """The standard requires a WARC-Target-URI on a response; without one warcio failed on
    it, and the report said "'NoneType' object has no attribute 'startswith'"."""
    records = site_records()
    spans = build_warc(tmp_path / "built.warc", records, gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    start, end = spans[1]
    record = data[start:end]
    at = record.index(b"WARC-Target-URI:")
    cut = record.index(b"\r\n", at) + 2
    record = with_content_length(record[:at] + record[cut:], 0)
    (tmp_path / "a.warc").write_bytes(data[:start] + record + data[end:])
    docs = list(read_warc(tmp_path / "a.warc"))
    assert summary(docs) == [(records[0].url, "page"), (None, "DamagedRecord"),
                             (records[2].url, "page")]
    assert "WARC-Target-URI" in docs[1].failure.message


def test_gzip_members_cut_at_a_fixed_size_lose_at_most_the_damaged_records_member(tmp_path):
    """bgzip and `split | gzip` cut a WARC into members of a fixed size, so members start
    inside records. A damaged record read from a member's start had the reader go on at the
    next member, which started inside a record, and so on: the rest of the file was lost."""
    records = [Rec(f"http://courier.test/{i}", page(ARTICLES[i % 3])) for i in range(12)]
    spans = build_warc(tmp_path / "built.warc", records, gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    start, end = spans[0]
    data = with_content_length(data[start:end], 10) + data[end:]
    size = 16_384
    (tmp_path / "a.warc.gz").write_bytes(b"".join(
        gzip.compress(data[i:i + size]) for i in range(0, len(data), size)))
    docs = list(read_warc(tmp_path / "a.warc.gz"))
    assert docs[0].failure.type == "DamagedRecord"
    # the records that start in the damaged record's member go with it; every later one is read
    assert summary(docs[1:]) == [(r.url, "page") for r, (s, _) in zip(records, spans) if s >= size]


def test_a_header_value_ending_in_a_warc_version_is_no_record_start(tmp_path):
    """A record whose target URI ends in "/WARC/1.0" was reported as cut short, its page lost:
    only a version line of its own, or a field a header holds once coming again, shows that
    the next record starts inside a header."""
    records = [Rec("http://courier.test/spec/WARC/1.0", page(ARTICLES[0])),
               Rec("http://courier.test/b", page(ARTICLES[1]),
                   warc_headers={"X-Note": "copy of WARC/1.1"}),
               Rec("http://courier.test/c", page(ARTICLES[2]))]
    for gz in (True, False):
        path = tmp_path / ("a.warc.gz" if gz else "a.warc")
        build_warc(path, records, gz=gz)
        assert summary(read_warc(path)) == summary_of(records), gz


def test_gzip_files_gzipped_whole_and_concatenated_lose_only_the_damaged_record(tmp_path):
    """`cat a.warc.gz b.warc.gz`: two members of many records each. A damaged first record of
    the second member cost every record after it in that member, without a word: once a
    record was read from inside a member, the next record is searched for inside it too."""
    first, second = site_records(), site_records("http://other.test/")
    build_warc(tmp_path / "a.warc", first, gz=False)
    spans = build_warc(tmp_path / "b.warc", second, gz=False)
    data = (tmp_path / "b.warc").read_bytes()
    start, end = spans[0]
    damaged = with_content_length(data[start:end], -300) + data[end:]
    path = tmp_path / "both.warc.gz"
    path.write_bytes(gzip.compress((tmp_path / "a.warc").read_bytes()) + gzip.compress(damaged))
    assert summary(read_warc(path)) == [*summary_of(first), (second[0].url, "DamagedRecord"),
                                        *summary_of(second[1:])]


@pytest.mark.parametrize("gz", [True, False])
def test_a_record_cut_inside_a_field_name_is_reported(tmp_path, gz):
    """Cut after "WARC-Ty", the next record's version line ran on from it ("WARC-TyWARC/1.0"),
    which no check caught: the cut record went unreported."""
    records = site_records()
    spans = build_warc(tmp_path / "built.warc", records, gz=False)
    data = (tmp_path / "built.warc").read_bytes()
    parts = [data[s:e] for s, e in spans]
    parts[0] = parts[0][:parts[0].index(b"WARC-Type") + 7]
    path = tmp_path / ("a.warc.gz" if gz else "a.warc")
    path.write_bytes(b"".join(gzip.compress(p) for p in parts) if gz else b"".join(parts))
    assert summary(read_warc(path)) == [(None, "DamagedRecord"), *summary_of(records[1:])]


def test_missing_warc_files_of_one_name_in_two_folders_get_two_ids(tmp_path):
    """A file that cannot be opened was named by its base name alone: two missing crawl files
    `a/x.warc.gz` and `b/x.warc.gz` gave one id, and a resume skips ids it has written."""
    docs = [next(read_warc(tmp_path / d / "x.warc.gz")) for d in ("a", "b")]
    assert [d.failure.type for d in docs] == ["UnreadableFile"] * 2
    assert docs[0].id != docs[1].id and docs[0].id == f"{tmp_path / 'a' / 'x.warc.gz'}@0"


def test_a_remote_warc_without_fsspec_is_a_row_not_a_failed_task(monkeypatch):
    """`import fsspec` sat outside the error handling: one s3:// path without fsspec installed
    failed the Spark task, and after its retries the job."""
    import sys

    from filter.integrations.spark import _read_remote_warc

    monkeypatch.setitem(sys.modules, "fsspec", None)  # as if not installed
    [row] = list(_read_remote_warc("s3://crawl/x.warc.gz", 10_000_000))
    assert (row.id, row.failure.type) == ("s3://crawl/x.warc.gz@0", "UnreadableFile")
    assert "needs fsspec" in row.failure.message


def test_a_compressed_payload_without_its_content_encoding_is_read_in_the_header_charset(tmp_path):
    """A gzip payload whose Content-Encoding a crawler dropped, under a windows-1250 header:
    inflated by the library alone, the label was lost and the Czech came out as windows-1252."""
    sentence = "M\u011bstsk\u00e1 rada v \u00fater\u00fd schv\u00e1lila rozpo\u010det na p\u0159\u00ed\u0161t\u00ed rok."
    html = f"<html><head><title>Rada</title></head><body><p>{sentence}</p></body></html>"
    warc = tmp_path / "cz.warc.gz"
    build_warc(warc, [Rec("http://radnice.test/rozpocet", gzip.compress(html.encode("cp1250")),
                          content_type="text/html; charset=windows-1250")])
    with open(warc, "rb") as fh:
        [doc] = list(iter_warc(fh, str(warc)))
    assert doc.failure is None and sentence in read(doc)


def test_a_zstd_content_encoding_is_undone_within_the_size_limit(tmp_path):
    """Sites serve zstd to browsers that ask for it (Chromium-based crawlers do), and such a
    response was reported as "unknown content encoding 'zstd'" and lost. It is decompressed
    like gzip and brotli: every frame, stopped just past the size limit (a 42 MB bomb in a few
    kB is refused without being decompressed), a body cut short an error unless the crawler
    cut it (`WARC-Truncated`)."""
    zstd = pytest.importorskip("backports.zstd")  # what trafilatura's dependencies install
    html = page("orchard-frost.html")
    packed = zstd.compress(html[:900]) + zstd.compress(html[900:])  # two frames: zstd -d reads both
    huge = b"<html><body>" + b"<p>again</p>" * 3_500_000
    path = tmp_path / "zstd.warc.gz"
    build_warc(path, [
        Rec("http://courier.test/zstd", packed, http_headers=[("Content-Encoding", "zstd")]),
        Rec("http://courier.test/zstd-bomb", zstd.compress(huge),
            http_headers=[("Content-Encoding", "zstd")]),
        Rec("http://courier.test/zstd-cut", packed[:-40], http_headers=[("Content-Encoding", "zstd")]),
        Rec("http://courier.test/zstd-truncated", packed[:-40],
            http_headers=[("Content-Encoding", "zstd")], warc_headers={"WARC-Truncated": "length"}),
        Rec("http://courier.test/zstd-corrupt", packed[:4] + b"\0" * 40,
            http_headers=[("Content-Encoding", "zstd")]),
    ])
    docs, peak = read_with_peak(path, max_bytes=1_000_000)
    assert peak < 10_000_000, f"{peak:,} bytes allocated while reading"
    assert summary(docs) == [("http://courier.test/zstd", "page"),
                             ("http://courier.test/zstd-bomb", "InputTooLarge"),
                             ("http://courier.test/zstd-cut", "UndecodablePayload"),
                             ("http://courier.test/zstd-truncated", "page"),
                             ("http://courier.test/zstd-corrupt", "UndecodablePayload")]
    assert read(docs[0]) == html.decode("utf-8")
    # what was decompressed before the cut: the first frame whole, at least
    assert html.decode("utf-8").startswith(read(docs[3])) and len(read(docs[3])) >= 900


@pytest.mark.parametrize("content_type, outcome", [
    ("text/html, text/html", "page"), ("text/html,text/html; charset=utf-8", "page"),
    ("image/png, text/html", "page"), ('"text/html"', "page"), ("html", "page"), ("*/*", "page"),
    ("text/html, image/png", "NotHTML"), ("application/pdf", "NotHTML"),
])
def test_a_content_type_listing_several_types_is_read_as_browsers_read_it(tmp_path, content_type,
                                                                          outcome):
    """A Content-Type header doubled and merged by a proxy ("text/html, text/html") stands for
    its last valid type (the Fetch Standard), one with no valid type for none (the page is
    sniffed): such pages were "NotHTML" ("content type text/html, text/html is not HTML")."""
    path = tmp_path / "ct.warc"
    build_warc(path, [Rec("http://courier.test/a", page("orchard-frost.html"),
                          content_type=content_type)], gz=False)
    [doc] = read_warc(path)
    assert summary([doc]) == [("http://courier.test/a", outcome)]
    if outcome == "page":
        assert "frost" in read(doc)


def test_the_charset_of_a_merged_content_type_is_its_last_types():
    assert _media_type("text/html; charset=koi8-r, text/html") == ("text/html", "koi8-r")
    assert _media_type('text/plain; charset="a,b", text/html; charset=utf-8') == ("text/html", "utf-8")
    assert _media_type("text/plain; charset=koi8-r, text/html") == ("text/html", None)
    # a comma inside a quoted parameter parts no values
    assert _media_type('text/html; foo="x, text/plain; y"') == ("text/html", None)


def test_a_record_without_an_id_is_not_named_as_its_damage_report_is(tmp_path):
    """A record without a WARC-Record-ID (the standard requires one; some writers leave it out)
    was named FILE@OFFSET, as the report of that record damaged is: cut by a download, then
    completed, it was taken for done on resuming and its page never came out."""
    path = tmp_path / "a.warc"
    build_warc(path, site_records(), gz=False)
    whole = re.sub(rb"WARC-Record-ID: <[^>]*>\r\n", b"", path.read_bytes())
    starts = [m.start() for m in re.finditer(rb"WARC/1\.\d\r\n", whole)]
    path.write_bytes(whole[:(starts[1] + starts[2]) // 2])  # a download under way
    report = [d for d in read_warc(path) if d.failure][0]
    assert report.id == f"{path}@{starts[1]}" and report.failure.type == "DamagedRecord"
    assert "(record " not in report.failure.message
    path.write_bytes(whole)
    docs = list(read_warc(path))
    assert [d.id for d in docs] == [f"{path}#{s}" for s in starts]
    assert report.id not in {d.id for d in docs} and all(d.failure is None for d in docs)

# -- from a mutation review: each test fails on a small change of filter/warc.py that no other
# -- test caught

_FROST = page("orchard-frost.html")


def _kinds(docs):
    return [(d.url, d.failure.type if d.failure else "page") for d in docs]


def test_text_plain_html_is_sniffed(tmp_path):
    """A page served as text/plain (a misconfigured server) is read when its body is HTML."""
    p = tmp_path / "a.warc.gz"
    build_warc(p, [Rec("http://courier.test/a", _FROST, content_type="text/plain")])
    assert _kinds(read_warc(p)) == [("http://courier.test/a", "page")]


def test_xhtml_content_type_is_a_page(tmp_path):
    p = tmp_path / "a.warc.gz"
    body = b"<p>an XHTML fragment served as XHTML</p>"
    build_warc(p, [Rec("http://courier.test/a", body, content_type="application/xhtml+xml")])
    assert _kinds(read_warc(p)) == [("http://courier.test/a", "page")]


def test_a_page_of_exactly_max_bytes_is_taken(tmp_path):
    """--max-bytes is the largest page taken."""
    p = tmp_path / "a.warc.gz"
    build_warc(p, [Rec("http://courier.test/a", _FROST)])
    (doc,) = read_warc(p, max_bytes=len(_FROST))
    assert doc.failure is None and doc.html == _FROST


def test_angle_bracketed_target_uri(tmp_path):
    p = tmp_path / "a.warc.gz"
    build_warc(p, [Rec("<http://courier.test/a>", _FROST)])
    (doc,) = read_warc(p)
    assert doc.url == "http://courier.test/a" and doc.resolve_links


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "identity"])
def test_a_plain_page_labelled_with_a_coding_is_read_as_it_is(tmp_path, coding):
    """A body labelled gzip that is not gzip (a proxy inflated it and kept the header) is taken
    as it is; "identity" is no coding at all."""
    p = tmp_path / "a.warc.gz"
    body = b"<p>The ferry leaves at nine.</p>"
    build_warc(p, [Rec("http://courier.test/a", body, http_headers=[("Content-Encoding", coding)])])
    (doc,) = read_warc(p)
    assert doc.failure is None and doc.html == body


def test_truncated_chunked_body_cut_right_after_chunk_data(tmp_path):
    """A truncated record cut right after a chunk's data still gives the page it holds."""
    p = tmp_path / "a.warc.gz"
    body = b"%x\r\n%s" % (len(_FROST), _FROST)
    build_warc(p, [Rec("http://courier.test/a", body, http_headers=[("Transfer-Encoding", "chunked")],
                       warc_headers={"WARC-Truncated": "length"})])
    (doc,) = read_warc(p)
    assert doc.failure is None and doc.html == _FROST


def test_stacked_content_codings_are_undone_last_first(tmp_path):
    p = tmp_path / "a.warc.gz"
    body = gzip.compress(zlib.compress(_FROST))
    build_warc(p, [Rec("http://courier.test/a", body, http_headers=[("Content-Encoding", "deflate, gzip")])])
    (doc,) = read_warc(p)
    assert doc.failure is None and doc.html == _FROST


def test_resource_record_charset_from_its_warc_content_type(tmp_path):
    p = tmp_path / "a.warc.gz"
    body = "<html><body><p>Привет, мир</p></body></html>".encode("cp1251")
    build_warc(p, [Rec("file:///site/a.html", body, warc_type="resource",
                       content_type="text/html; charset=windows-1251")])
    (doc,) = read_warc(p)
    assert doc.failure is None and doc.charset == "windows-1251"


def test_junk_holding_corrupt_gzip_magic_before_a_plain_warc_is_not_taken_for_gzip(tmp_path):
    """Bytes that look like a gzip header but do not inflate do not make a plain WARC gzip."""
    p = tmp_path / "a.warc"
    build_warc(p, [Rec("http://courier.test/a", _FROST)], gz=False)
    p.write_bytes(b"junk\x1f\x8b\x08\x00garbage\n" + p.read_bytes())
    docs = list(read_warc(p))
    assert ("http://courier.test/a", "page") in _kinds(docs)


def test_records_ended_by_two_bare_line_feeds_are_read(tmp_path):
    p = tmp_path / "a.warc"
    spans = build_warc(p, [Rec("http://courier.test/a", _FROST), Rec("http://courier.test/b", _FROST)], gz=False)
    data = p.read_bytes()
    out = b"".join(data[s:e - 4] + b"\n\n" for s, e in spans if data[e - 4:e] == b"\r\n\r\n")
    p.write_bytes(out)
    assert _kinds(read_warc(p)) == [("http://courier.test/a", "page"), ("http://courier.test/b", "page")]


def test_two_different_content_lengths_are_damage(tmp_path):
    """Which length frames the record is unknown: reported, not guessed."""
    p = tmp_path / "a.warc"
    spans = build_warc(p, [Rec("http://courier.test/a", _FROST), Rec("http://courier.test/b", _FROST)], gz=False)
    data = p.read_bytes()
    first = data[spans[0][0]:spans[0][1]]
    length = first.split(b"Content-Length: ")[1].split(b"\r\n")[0]
    doubled = first.replace(b"Content-Length: " + length + b"\r\n",
                            b"Content-Length: " + length + b"\r\nContent-Length: 12\r\n", 1)
    p.write_bytes(doubled + data[spans[1][0]:])
    assert [k for _, k in _kinds(read_warc(p))] == ["DamagedRecord", "page"]


def test_a_warc_gz_after_more_than_a_mib_of_junk_is_still_read_as_gzip(tmp_path):
    p = tmp_path / "a.warc.gz"
    build_warc(p, [Rec("http://courier.test/a", _FROST)])
    junk = bytes(random.Random(1).choice(b"abcdefgh \n") for _ in range((1 << 20) + 1000))
    p.write_bytes(junk + p.read_bytes())
    assert ("http://courier.test/a", "page") in _kinds(read_warc(p))


def test_a_repeated_header_keeps_its_first_value(tmp_path):
    p = tmp_path / "a.warc"
    build_warc(p, [Rec("http://courier.test/a", _FROST)], gz=False)
    data = p.read_bytes()
    p.write_bytes(data.replace(b"WARC-Target-URI: http://courier.test/a\r\n",
                               b"WARC-Target-URI: http://courier.test/a\r\nWARC-Target-URI: http://other.test/z\r\n", 1))
    (doc,) = read_warc(p)
    assert doc.url == "http://courier.test/a"


def test_a_content_length_in_non_ascii_digits_is_damage(tmp_path):
    """Python's int() reads full-width digits; the WARC format does not."""
    p = tmp_path / "a.warc"
    build_warc(p, [Rec("http://courier.test/a", _FROST), Rec("http://courier.test/b", _FROST)], gz=False)
    data = p.read_bytes()
    length = data.split(b"Content-Length: ")[1].split(b"\r\n")[0]
    wide = "".join(chr(0xFF10 + int(c)) for c in length.decode()).encode("utf-8")
    p.write_bytes(data.replace(b"Content-Length: " + length + b"\r\n", b"Content-Length: " + wide + b"\r\n", 1))
    assert [k for _, k in _kinds(read_warc(p))] == ["DamagedRecord", "page"]


def test_an_x_gzip_body_is_inflated(tmp_path):
    p = tmp_path / "a.warc.gz"
    build_warc(p, [Rec("http://courier.test/a", gzip.compress(_FROST), http_headers=[("Content-Encoding", "x-gzip")])])
    (doc,) = read_warc(p)
    assert doc.failure is None and doc.html == _FROST


@pytest.mark.parametrize("content", [b"", gzip.compress(b"")], ids=["empty", "empty-gzip"])
def test_an_empty_warc_is_one_report_not_nothing(tmp_path, content):
    """A zero-byte .warc.gz (a download that failed) gave no line at all: it was missing from
    the output's accounting, in a batch and on Spark. A WARC of records that hold no page
    (warcinfo, requests) still gives none."""
    warc = tmp_path / "crawl.warc.gz"
    warc.write_bytes(content)
    [doc] = list(read_warc(warc))
    assert (doc.id, doc.failure.type) == (f"{warc}@0", "UnreadableFile")
    assert doc.failure.message == "the file holds no WARC record: it is empty"
    info = (b"WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
            b"Content-Length: 4\r\n\r\nabcd\r\n\r\n")
    warc.write_bytes(info)
    assert list(read_warc(warc)) == []
