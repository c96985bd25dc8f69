"""From input bytes (in any charset, maybe compressed) to the str that is parsed, refusing what is
too large or binary.

Browsers decide a page's charset by its byte-order mark, its declaration, and else by a default
(windows-1252 in most of the world). Detection libraries guess from the bytes instead, and on
pages whose few non-ASCII characters are quotes and dashes among a hundred kilobytes of ASCII
markup they guess wrong or not at all; so the order here is the browsers', with the detector
consulted only where nothing is declared.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
import zlib
from typing import Any
from urllib.parse import urlsplit

import brotli
from trafilatura.utils import detect_encoding, handle_compressed_file
from w3lib.encoding import html_body_declared_encoding, resolve_encoding

from .blocks import well_formed
from .errors import InputError, InputTooLarge

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
#: how gzip data starts (magic number and the deflate method)
_GZIP_MAGIC = b"\x1f\x8b\x08"
#: what Python's UTF-8 and UTF-16 decoders say of a character cut short at the end of the data
_CUT_SHORT = ("unexpected end of data", "truncated data")
#: ISO-2022-JP's escape into JIS X 0208 (1978 or 1983), which a page in it uses for any kanji or kana
_ISO_2022_JP_ESCAPE = re.compile(rb"\x1b\$[@B]")
#: how a zstd frame starts (a zlib stream has no magic number: `_compression_failure`)
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: the page's own language, from its opening `<html>` tag
_HTML_LANG = re.compile(rb"<html\b[^>]*?(?<![\w-])lang\s*=\s*[\"']?([A-Za-z]{2,3})(?![A-Za-z])", re.IGNORECASE)
#: languages whose legacy charset is windows-1252 (the WHATWG default for their locales)
_WINDOWS_1252_LANGUAGES = frozenset({
    "af", "br", "ca", "cy", "da", "de", "en", "es", "eu", "fi", "fo", "fr", "fy", "ga", "gd", "gl",
    "id", "is", "it", "lb", "ms", "nb", "nl", "nn", "no", "oc", "pt", "rm", "sq", "sv", "sw", "tl",
    "wa",
})
#: the letters beyond ASCII of languages written in Latin script whose legacy pages are not in
#: windows-1252 (lower case), with the code page preferred on a tie (the HTML Standard's
#: suggested default for the language where it names one): which code page an undeclared page
#: in one of them is in shows in whether its non-ASCII letters are the language's own (Czech
#: "š" is "ą" in the other Central European code page, a letter too, so a page reading as
#: words is not enough there)
_LATIN_ALPHABETS: dict[str, tuple[str, str]] = {
    "cs": ("áčďéěíňóřšťúůýž", "cp1250"),
    "sk": ("áäčďéíĺľňóôŕšťúýž", "cp1250"),
    "pl": ("ąćęłńóśźż", "iso8859-2"),
    "hu": ("áéíóöőúüű", "iso8859-2"),
    "hr": ("čćđšž", "cp1250"),
    "bs": ("čćđšž", "cp1250"),
    "sl": ("čšžćđ", "iso8859-2"),
    "ro": ("ăâîșşțţ", "cp1250"),
    "tr": ("çğıöşüâîûİ", "cp1254"),  # İ itself: its lower case is two characters
    "lt": ("ąčęėįšųūž", "cp1257"),
    "lv": ("āčēģīķļņšūž", "cp1257"),
    "et": ("äõöüšž", "cp1257"),
}
#: the language of a country's top-level domain, for a page that names none: Firefox, too, takes
#: the domain as the hint for a page that declares no charset
_DOMAIN_LANGUAGES = {"cz": "cs", "sk": "sk", "pl": "pl", "hu": "hu", "hr": "hr", "ba": "bs",
                     "si": "sl", "ro": "ro", "tr": "tr", "lt": "lt", "lv": "lv", "ee": "et"}
#: the Latin-script code pages browsers decode that such a page may be in, windows-1252 first:
#: it wins a tie (a page on a `.cz` domain or marked Polish may still be in windows-1252)
_LATIN_CODE_PAGES = ("cp1252", "cp1250", "iso8859-2", "cp1254", "cp1257", "iso8859-13",
                     "iso8859-4", "iso8859-16", "iso8859-15")
#: the characters other than letters that text in any of those code pages is expected to hold
_TYPOGRAPHY = frozenset("\u00a0\u00ad\u2009\u202f“”„‘’‚«»‹›–—…•·°§©®™€£×")
#: the score a code page needs: the share of the page's non-ASCII characters that are its
#: language's letters or typography, less the share that are other letters
_ALPHABET_SHARE = 0.8
_NON_ASCII_RUN = re.compile(rb"[\x80-\xff]+")
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
#: windows-1252's punctuation and spacing beyond ASCII, which part words (`_mostly_long_runs`)
_CP1252_TYPOGRAPHY = re.compile(rb"[\x80-\xa0\xab\xbb]+")
#: a non-ASCII byte between ASCII ones (`_guesses_past_strays`)
_LONE_NON_ASCII = re.compile(rb"(?<![\x80-\xff])[\x80-\xff](?![\x80-\xff])")
#: how much of a page the detector reads: its non-ASCII runs with this many bytes around each
_DETECTOR_SAMPLE = 20_000
_SAMPLE_CONTEXT = 24
#: a symbol of windows-1252's upper half (not a letter, quote, dash, ellipsis or the Catalan
#: middle dot) between two letters: what text in another Latin code page shows when read as
#: windows-1252 (Polish "ą", "ł", "ż" come out as "¹", "³", "¿")
_SYMBOL_IN_WORD = re.compile(
    r"(?<=[^\W\d_])[\xa1-\xa9\xab-\xb3\xb6\xb8\xb9\xbb-\xbf\xd7\xf7\u2020\u2021\u2022\u2030"
    r"\u02c6\u02dc\u2122\u20ac](?=[^\W\d_])")
#: the legacy charsets browsers decode (the WHATWG Encoding Standard's), as Python names them,
#: all of which read ASCII as ASCII: detectors also offer DOS and EBCDIC code pages, which the
#: web does not use, and which they took pages of English with a few curly quotes for (DOS
#: Ukrainian, Greek, Urdu; EBCDIC, in which the page's markup would not even read as HTML)
_WEB_CHARSETS = frozenset(codecs.lookup(name).name for name in (
    "cp866", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7",
    "iso8859-8", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "koi8-r",
    "koi8-u", "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251", "cp1252", "cp1253",
    "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "gbk", "gb18030", "gb2312", "big5",
    "big5hkscs", "euc-jp", "iso2022-jp", "shift-jis", "cp932", "euc-kr", "cp949"))
#: the web charset a detector's guess stands for: it names the 2004 extensions of the Japanese
#: ones, which the web does not use (an EUC-JP page guessed as euc_jis_2004 was skipped for
#: the next guess, GB18030, and came out as Chinese)
_WEB_EQUIVALENTS = {codecs.lookup(a).name: codecs.lookup(b).name for a, b in (
    ("euc_jis_2004", "euc_jp"), ("euc_jisx0213", "euc_jp"), ("shift_jis_2004", "shift_jis"),
    ("shift_jisx0213", "shift_jis"), ("iso2022_jp_2004", "iso2022_jp"),
    ("iso2022_jp_3", "iso2022_jp"), ("iso2022_jp_ext", "iso2022_jp"))}
#: what a transport may name: the legacy charsets and the Unicode ones
_LABELLED_CHARSETS = _WEB_CHARSETS | frozenset(codecs.lookup(name).name for name in (
    "utf-8", "utf-16", "utf-16-le", "utf-16-be"))
#: the WHATWG Encoding Standard's labels w3lib's `resolve_encoding` before 2.6 does not know, with
#: the codec each stands for: browsers read "iso-8859-8-i" (old Hebrew sites), "x-mac-roman",
#: "windows-949" or "x-cp1251"; here a header's or a caller's such label was refused
#: ("unknown charset") and a meta tag's ignored (Mac Roman French came out as "dŽclarŽ")
_LABELS_W3LIB_LACKS = {
    **dict.fromkeys(("iso88591", "x-cp1252"), "cp1252"),
    "iso88592": "iso8859-2", "x-cp1250": "cp1250", "iso88595": "iso8859-5", "x-cp1251": "cp1251",
    **dict.fromkeys(("koi", "koi8"), "koi8-r"), "koi8-ru": "koi8-u",
    **dict.fromkeys(("iso88597", "sun_eu_greek"), "iso8859-7"),
    **dict.fromkeys(("iso-8859-8-i", "iso-8859-8-e", "csiso88598i", "csiso88598e", "iso88598",
                     "logical", "visual"), "iso8859-8"),
    **dict.fromkeys(("iso-8859-6-i", "iso-8859-6-e", "csiso88596i", "csiso88596e", "iso88596"),
                    "iso8859-6"),
    **dict.fromkeys(("dos-874", "iso885911"), "cp874"),
    **dict.fromkeys(("iso885915", "csisolatin9"), "iso8859-15"),
    "iso885913": "iso8859-13", "iso885910": "iso8859-10", "iso885914": "iso8859-14",
    **dict.fromkeys(("iso88599", "x-cp1254"), "cp1254"),
    **dict.fromkeys(("mac", "csmacintosh", "x-mac-roman"), "mac-roman"),
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac-cyrillic"),
    **dict.fromkeys(("x-gbk", "csgb2312", "gb_2312"), "gb18030"),
    **dict.fromkeys(("cn-big5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(("x-euc-jp", "cseucpkdfmtjapanese"), "euc_jp"),
    **dict.fromkeys(("windows-949", "cseuckr", "csksc56011987", "iso-ir-149", "ks_c_5601-1989",
                     "ksc_5601"), "cp949"),
    **dict.fromkeys(("unicode", "csunicode", "ucs-2", "iso-10646-ucs-2", "unicodefeff"),
                    "utf-16-le"),
    "unicodefffe": "utf-16-be",
    **dict.fromkeys(("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"),
                    "utf-8"),
}
#: the codec that decodes what w3lib names a label's charset, where the Encoding Standard's
#: decoder is another: GBK's is GB18030's (w3lib 2.6 names Python's gbk codec, which refuses
#: GB18030's four-byte characters; 2.5 named gb18030 itself)
_WHATWG_DECODERS = {"gbk": "gb18030", "gb2312": "gb18030"}
#: byte-order marks and their charsets, UTF-32's before UTF-16's, whose LE mark starts
#: UTF-32LE's (`read_bom`)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"),
         (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
#: the first body tag of a page's first bytes, comments read whole (a commented-out body tag
#: does not start the body): where `_prescan_declaration` stops
_BODY_START = re.compile(rb"<!--.*?(?:-->|\Z)|<\s*body(?![\w-])", re.IGNORECASE | re.DOTALL)
#: a charset label, as written after "charset=" in a Content-Type (a meta tag's content)
_META_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([^\s\"';>/]+)", re.IGNORECASE)
#: a charset label, as written at the start of a meta tag's charset attribute
_LEADING_LABEL = re.compile(r"\s*([^\s\"';>/]+)")
#: a start tag's attributes after its name: a name, and a value quoted or not
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]*))?""")
#: how far into a page a meta charset is looked for (`_late_declaration`)
_LATE_DECLARATION_LIMIT = 1024 * 1024
#: what a page's head is read as, for a meta tag in it: an element whose text is not markup
#: (a script, a style, a title, a textarea…: skipped whole), a comment, a doctype or bogus
#: comment (``<?php … ?>``), an end tag, or a start tag (its quoted attribute values read
#: whole, so a quoted ">" or "<meta" is not a tag; an apostrophe elsewhere is a character)
_HEAD_SCAN = re.compile(
    r"<(?P<raw>script|style|noscript|template|title|textarea|xmp|noframes|iframe|noembed)"
    r"(?![\w-]).*?(?:</(?P=raw)\s*>|\Z)"
    r"|<!--.*?(?:-->|\Z)"
    r"|<[!?][^>]*>?"
    r"|</(?P<end>[a-z][^\s/>]*)[^>]*>?"
    r"|<(?P<tag>[a-z][^\s/>]*)(?:=\s*\"[^\"]*\"|=\s*'[^']*'|[^<>])*>?", re.IGNORECASE | re.DOTALL)
#: the start tags a page's head may hold besides those `_HEAD_SCAN` skips whole (and
#: `object`, which Chromium's charset scan lets by); any other starts the body, where
#: browsers no longer take a meta charset
_HEAD_TAGS = frozenset({"html", "head", "meta", "link", "base", "basefont", "bgsound", "object"})
#: the valid multi-byte characters a page declared UTF-8 needs per invalid sequence to be read
#: as UTF-8 with U+FFFD for them (`_mostly_decodes`)
_UTF8_VALID_PER_INVALID = 2


#: the first piece of a gzip member handed to zlib (an empty member is 20 bytes), doubled for
#: each next piece of the same member up to `_INFLATE_PIECE`
_FIRST_INFLATE_PIECE = 64
_INFLATE_PIECE = 64 * 1024


def inflate(body: bytes, coding: str, wbits: int, limit: int, partial_ok: bool) -> bytes:
    """A gzip or deflate body (`wbits` as `zlib.decompressobj` takes them) inflated, up to just
    past `limit` bytes; `ValueError` for corrupt data, or data that ends early unless
    `partial_ok`. A gzip body of several members (what concatenated gzip files are) is read to
    its last member, as gzip -d does: reading only the first cut the page without an error.
    Bytes after the last member that start no other are ignored, as gzip -d ignores them.

    The body is handed to zlib in pieces read at an offset, each member's from 64 bytes
    doubling up to 64 KiB, so that the bytes handed over (and copied by zlib at a member's end)
    stay within a few times the body's size however many members it has. Each member was
    handed the whole rest of the body: 320,000 empty members (6.4 MB) took 41 s."""
    out = bytearray()
    data = memoryview(body)
    start = 0  # where the rest of the body begins
    while True:  # one member per pass
        dec = zlib.decompressobj(wbits)
        size = _FIRST_INFLATE_PIECE
        while not dec.eof and start < len(data) and len(out) <= limit:
            piece = data[start:start + size]
            try:
                out += dec.decompress(piece, limit + 1 - len(out))
            except zlib.error as err:
                raise ValueError(f"corrupt {coding} data: {err}") from err
            start += len(piece) - len(dec.unconsumed_tail) - len(dec.unused_data)
            size = min(2 * size, _INFLATE_PIECE)
        if not dec.eof:
            if len(out) <= limit and not partial_ok:
                raise ValueError(f"the {coding} data ends early")
            return bytes(out)
        if wbits != 31 or data[start:start + 2] != _GZIP_MAGIC[:2] or len(out) > limit:
            return bytes(out)


#: frames read of one zstd body at most: a page is one frame, or a few; trafilatura reads 1,000
MAX_ZSTD_FRAMES = 1_000


def zstd_module():
    """The zstd module: the standard library's from Python 3.14, else backports.zstd (a
    dependency below 3.14); ValueError saying so when neither is there."""
    try:
        from compression import zstd
    except ImportError:
        try:
            from backports import zstd
        except ImportError:
            raise ValueError("zstd data needs Python 3.14 or the backports.zstd package") from None
    return zstd


def unzstd(body: bytes, limit: int, partial_ok: bool) -> bytes:
    """zstd data decompressed frame after frame (several frames are one stream, as zstd -d
    reads them), up to just past `limit` bytes: each frame is read no further than the limit,
    so a bomb is not decompressed whole. `ValueError` for corrupt data, more than
    `MAX_ZSTD_FRAMES` frames, data that ends early unless `partial_ok`, or an install without
    a zstd module (`zstd_module`).

    Each frame is handed the body in pieces read at an offset, from 64 bytes doubling up to
    64 KiB, as `inflate` hands gzip members: handed the whole rest of the body, every frame
    copied it (`unused_data`), and 10 MB of empty 9-byte frames took over ten minutes."""
    zstd = zstd_module()
    out = bytearray()
    data = memoryview(body)
    start = frames = 0  # where the rest of the body begins; frames begun
    while start < len(data) and len(out) <= limit:
        frames += 1
        if frames > MAX_ZSTD_FRAMES:
            raise ValueError(f"over {MAX_ZSTD_FRAMES:,} zstd frames")
        dec = zstd.ZstdDecompressor()
        size = _FIRST_INFLATE_PIECE
        while not dec.eof and start < len(data) and len(out) <= limit:
            piece = data[start:start + size]
            try:
                out += dec.decompress(piece, limit + 1 - len(out))
            except zstd.ZstdError as err:
                raise ValueError(f"corrupt zstd data: {err}") from err
            # input past the output limit stays buffered in the decompressor: the piece is read
            start += len(piece) - len(dec.unused_data) if dec.eof else len(piece)
            size = min(2 * size, _INFLATE_PIECE)
        if not dec.eof:
            if len(out) <= limit and not partial_ok:
                raise ValueError("the zstd data ends early")
            break
    return bytes(out)


def unbrotli(body: bytes, limit: int, partial_ok: bool) -> bytes:
    """brotli data decompressed up to just past `limit` bytes (brotli stops near it, not at
    it: a bomb is not decompressed whole). `ValueError` for corrupt data, or data that ends
    early unless `partial_ok`."""
    dec = brotli.Decompressor()
    try:
        out = dec.process(body, output_buffer_limit=limit + 1)
    except brotli.error as err:
        raise ValueError(f"corrupt brotli data: {err}") from err
    if len(out) <= limit and not dec.is_finished() and not partial_ok:
        raise ValueError("the br data ends early")
    return out


def _c1_control(err: UnicodeError) -> tuple[str, int]:
    """A byte the cp1252 codec leaves undefined, as the C1 control of the same number."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return "".join(map(chr, err.object[err.start:err.end])), err.end


_C1_CONTROLS = "noisefilter.c1-controls"
codecs.register_error(_C1_CONTROLS, _c1_control)


def decode_labelled(data: bytes, charset: str) -> str:
    """Bytes whose charset a transport names (an HTTP ``Content-Type`` header), decoded as
    browsers decode them: a byte-order mark wins over the label, and the label means what the
    WHATWG Encoding Standard says (read by w3lib): "iso-8859-1" and "us-ascii" are
    windows-1252, "x-sjis" is Shift_JIS. Python's own codec names would read those three
    otherwise (C1 controls for curly quotes, a refusal of any byte over 127, an unknown name).

    Raises `InputError` for a label browsers do not know (Python-only codecs such as
    "unicode_escape" or "base64" included) or for bytes that are invalid in the charset."""
    bom_codec, bom = read_bom(data)
    if bom_codec:
        codec, data = bom_codec, data[len(bom):]
    else:
        codec = resolve_label(charset)
        if codec is None or codecs.lookup(codec).name not in _LABELLED_CHARSETS:
            raise InputError(f"unknown charset {charset!r}")
    try:
        # windows-1252 as the Encoding Standard has it: the five bytes Python's cp1252 leaves
        # undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are the C1 controls of the same number
        errors = _C1_CONTROLS if codecs.lookup(codec).name == "cp1252" else "strict"
        return decode_cut(data, codec, errors)
    except UnicodeDecodeError as err:
        raise InputError(f"the body is not valid {charset}: {err.reason} at byte "
                         f"{err.start}") from None


def resolve_label(label: str) -> str | None:
    """The Python codec a charset label stands for, as the WHATWG Encoding Standard has it
    (w3lib's reading, and the labels it lacks: `_LABELS_W3LIB_LACKS`); None for an unknown one."""
    label = label.strip()
    codec = resolve_encoding(label) or _LABELS_W3LIB_LACKS.get(label.lower())
    return _WHATWG_DECODERS.get(_codec_name(codec), codec) if codec else None


def read_bom(data: bytes) -> tuple[str, bytes] | tuple[None, None]:
    """The charset of the byte-order mark `data` starts with, and the mark; (None, None) if
    it starts with none. Read here, not by w3lib: from 2.6 it reads UTF-32LE's mark as
    UTF-16LE's, as browsers do, and a UTF-32 page (read before) was refused as binary."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, bom
    return None, None


def charset_label(charset: Any) -> str | None:
    """A charset given with bytes as a str: a header value as Scrapy keeps one (bytes) read as
    Latin-1; anything else but a str or None is refused (`InputError`), not left to fail
    where the label is read."""
    if isinstance(charset, (bytes, bytearray)):
        return bytes(charset).decode("latin-1")
    if charset is not None and not isinstance(charset, str):
        raise InputError(f"expected the charset as str, got {type(charset).__name__}")
    return charset


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value (quotes taken off), None if it
    names none."""
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def decode_by_header(page: bytes, charset: str | None, max_bytes: int | None = None) -> bytes | str:
    """An HTML page as str when the charset its HTTP header names decodes it cleanly (read as
    browsers read it, `decode_labelled`); else the bytes, for `decode` to find the charset in
    the page, as browsers do with a label they do not know: a page with one stray byte, or a
    server's bogus label, is still read. A page that is valid UTF-8 and not only ASCII is read
    as UTF-8 whatever it is labelled, as `decode` reads it whatever the page itself declares:
    servers label UTF-8 pages with their default "iso-8859-1", and legacy text is almost
    never valid UTF-8 (such a page came out as mojibake, or right only when it held a byte
    windows-1252 does not define).

    A page that holds a few invalid bytes in its header's charset (a stray byte, a last
    character cut by a crawler's size limit) is read in that charset with them as U+FFFD, by
    the rule a page's own declaration gets (`_mostly_decodes`), when the page declares no
    charset, or when the header's is UTF-8 (then over a stale ``<meta charset=iso-8859-1>``:
    the header wins, as in browsers). Handed back as bytes, one stray byte in a GBK or UTF-8
    page that declared nothing turned the whole of it into mojibake, and so did one in a UTF-8
    page under such a stale meta. A legacy header over a page's own declaration is not
    trusted so: read in the wrong double-byte charset (EUC-JP as Shift_JIS, UTF-8 as GBK) a
    page's bytes pair into valid characters often enough to pass the rule, and the page's
    declaration decides, in `decode`; but a single-byte header does win over a single-byte
    declaration (`_single_byte_label`), as it does for a page without bad bytes (a double-byte
    one does not: KOI8-R text passes for Shift_JIS with a few bad bytes). A UTF-16 label on a page without NUL bytes is
    no label (UTF-16 markup has one beside every ASCII character): the page goes to `decode`.
    UTF-8 comes first for a page that declares nothing or declares UTF-8: a UTF-8 page with a
    stray byte under a server's legacy label stays UTF-8.
    A compressed body (gzip, zstd, zlib: a WARC payload or a POST without its Content-Encoding)
    is inflated first, up to `max_bytes`, and read as above (read in a single-byte charset,
    its bytes passed for text and were refused as binary; inflated by `decode`, the label was
    lost: Polish came out as windows-1252); one that cannot be inflated within `max_bytes`
    (or with no `max_bytes` given) goes back as it came, for `decode` to say why."""
    if not charset:
        return page
    if _compressed(page):
        inflated = _inflated(page, max_bytes) if max_bytes is not None else None
        if inflated is None:
            return page
        page = inflated
    elif max_bytes is not None and looks_binary(page[:4096].decode("latin-1")):
        # brotli has no magic number for `_compressed`: read in a single-byte charset, which
        # reads any byte, its bytes passed for text and were refused as binary
        page = _inflated(page, max_bytes) or page
    codec = resolve_label(charset)
    name = _codec_name(codec) if codec else None
    if name and name.startswith("utf-16") and not read_bom(page)[0] and b"\0" not in page[:4096]:
        # UTF-16 markup has a NUL beside every ASCII character: a page without one is not in
        # it, whatever its server says (read so, an 8-bit page of even length became CJK
        # characters, one of odd length failed and went to its own declaration)
        return page
    # whether the header's charset may read the page with a few invalid bytes: not when a
    # byte-order mark outranks it (`decode` reads the page in the mark's charset, with U+FFFD
    # for those bytes), nor for an ASCII page, which has no invalid bytes in an ASCII charset
    mostly = False
    declared = None
    if not page.isascii():
        text = utf8_text(page, "utf-8-sig")
        if text is not None:
            return text
        mostly = not read_bom(page)[0]
        declared = _declared_charset(page) if mostly else None
        if mostly:
            # before the label: windows-1252, koi8-r and others read any byte, so a UTF-8 page
            # with one stray byte under a server's iso-8859-1 (or a stale meta of any charset)
            # came out whole as "rÃ©uni"; legacy text is not UTF-8 with so few bad bytes
            text = _mostly_decodes(page, "utf-8", declared=_is_utf8_label(charset)
                                   or bool(declared and _is_utf8_label(declared)))
            if text is not None:
                return text
    try:
        return decode_labelled(page, charset)
    except InputError:
        pass
    if (mostly and name in _LABELLED_CHARSETS and not name.startswith("utf-16")
            and (not declared or name == "utf-8"
                 or (name not in _MULTI_BYTE_CHARSETS and _single_byte_label(declared)))):
        text = _mostly_decodes(page, codec, declared=True)
        if text is not None:
            return text
    return page


#: the legacy charsets of more than one byte a character (`_single_byte_label`)
_MULTI_BYTE_CHARSETS = frozenset({"gb18030", "big5hkscs", "cp949", "cp932", "euc_jp",
                                  "iso2022_jp", "utf-8", "utf-16-le", "utf-16-be", "utf-16"})


def _single_byte_label(declared: str) -> bool:
    """Whether a page's declared charset is a single-byte one (windows-1252, iso-8859-x, koi8-r…),
    which a single-byte header's charset reads a page with a few invalid bytes over: a Greek
    page under a stale ``<meta charset=iso-8859-1>``, with a stray byte or a cut last
    character, came out as Latin-1 mojibake. Not over a multi-byte declaration, and not for a
    double-byte header: EUC-JP bytes pair into enough valid Shift_JIS characters to pass the
    rule, and so do KOI8-R's (a GBK page under such a stale meta, damaged, stays Latin-1)."""
    codec = resolve_label(declared)
    return bool(codec) and _codec_name(codec) not in _MULTI_BYTE_CHARSETS


def _is_utf8_label(charset: str) -> bool:
    codec = resolve_label(charset)
    return bool(codec) and _codec_name(codec) == "utf-8"


def _inflated(data: bytes, max_bytes: int) -> bytes | None:
    """A compressed page inflated, as `decode` inflates one; None when it cannot be, or would
    be over `max_bytes`."""
    if data[:3] == _GZIP_MAGIC:
        try:
            out = inflate(data, "gzip", 31, max_bytes, partial_ok=False)
        except ValueError:
            return None
    else:
        out = handle_compressed_file(data, max_bytes)
        if out is data:
            return None
    return out if len(out) <= max_bytes else None


def _compressed(data: bytes) -> bool:
    """Whether `data` starts as a gzip member, a zstd frame or a zlib stream does (a zlib
    header is two bytes that text may start with too, "hb": its first bytes must inflate)."""
    if data[:3] == _GZIP_MAGIC or data[:4] == _ZSTD_MAGIC:
        return True
    if len(data) < 2 or data[0] & 0x0F != 8 or (data[0] << 8 | data[1]) % 31:
        return False
    try:
        zlib.decompressobj().decompress(data[:256])
    except zlib.error:
        return False
    return True


def size_error(document: bytes | bytearray | memoryview | str, max_bytes: int,
               text: bool = False) -> InputTooLarge | None:
    """The error for a document over `max_bytes` (a str counted in UTF-8, encoded only when its
    UTF-8 form could be over), else None: one size rule and message for HTML (`decode`),
    already-extracted text (`text`, `Cleaner.clean_text`) and the service, which checks before
    a document waits for a cleaning process."""
    if isinstance(document, str) and len(document) > max_bytes:
        # every character takes a byte at least: encoding 300 MB of text to count it took 9 s
        # and a GB of memory before the refusal
        what = "text" if text else "input"
        return InputTooLarge(f"{what} is {len(document):,} characters, over the limit of "
                             f"{max_bytes:,} bytes")
    if isinstance(document, str):
        size = (len(document) if len(document) * 4 <= max_bytes
                else len(document.encode("utf-8", "surrogatepass")))
    else:  # a memoryview of wider items (array('I', ...)) is longer in bytes than in items
        size = document.nbytes if isinstance(document, memoryview) else len(document)
    if size <= max_bytes:
        return None
    if text:
        in_utf8 = " in UTF-8" if isinstance(document, str) else ""
        return InputTooLarge(f"text is {size:,} bytes{in_utf8}, over the limit of {max_bytes:,}")
    return InputTooLarge(f"input is {size:,} bytes, over the limit of {max_bytes:,} bytes")


def decode(data: bytes | str, max_bytes: int, url: str | None = None,
           charset: str | None = None) -> str:
    """Bytes in any charset (or str) to str, refusing what is too large or binary. The page's
    `url`, when known, hints at the language of a page that declares neither its charset nor
    its language (`_undeclared`). `charset` is the one an HTTP header named for the bytes
    (`decode_by_header`; unused for a str). Bytes are held to `max_bytes` as they came, before
    they are read in it: decoded first and then counted in UTF-8, as a str is, a page in a
    legacy charset over about half the limit was refused (Cyrillic and Greek letters take two
    bytes in UTF-8, one in windows-1251 or iso-8859-7)."""
    if not isinstance(data, (bytes, bytearray, memoryview, str)):
        raise InputError(f"expected HTML as bytes or str, got {type(data).__name__}")
    kind = file_format(data)
    if kind:
        raise InputError(f"input is {kind}, not HTML")
    too_large = size_error(data, max_bytes)  # first: making a huge str well formed took seconds
    if too_large is not None:
        raise too_large
    if isinstance(data, str):
        data = well_formed(data)
    if not isinstance(data, str):
        charset = charset_label(charset)
    if not isinstance(data, str) and charset:
        data = decode_by_header(bytes(data), charset, max_bytes)
        if isinstance(data, str):
            data = well_formed(data)
    if not isinstance(data, str):
        data = _decode_bytes(bytes(data), max_bytes, url)
    if looks_binary(data):
        raise InputError("input looks like binary data, not HTML")
    return data


#: the first bytes of documents a crawl fetches beside its pages, and what they are: named in
#: the refusal, where "binary data" (or, for a PDF of text streams, "no tags; plain text goes to
#: clean_text") left the user to find out
_FORMATS = ((b"%PDF-", "a PDF document"), (b"\x89PNG\r\n\x1a\n", "a PNG image"),
            (b"\xff\xd8\xff", "a JPEG image"), (b"GIF87a", "a GIF image"),
            (b"GIF89a", "a GIF image"),
            (b"PK\x03\x04", "a ZIP archive (a .docx, .xlsx, .epub…)"))


def file_format(data: bytes | bytearray | memoryview | str) -> str | None:
    """What a document is by its first bytes (`_FORMATS`), or None."""
    start = data[:8].encode("latin-1", "replace") if isinstance(data, str) else bytes(data[:8])
    return next((name for magic, name in _FORMATS if start.startswith(magic)), None)


def looks_binary(text: str) -> bool:
    """True when the start of a decoded document is more than one part in twenty control
    characters: binary data (an image, a PDF, UTF-16 without its byte-order mark), not text."""
    sample = text[:4096]
    return bool(sample) and len(_CONTROL.findall(sample)) > 0.05 * len(sample)


def _decode_bytes(data: bytes, max_bytes: int, url: str | None = None) -> str:
    """Decompressed bytes to str: in the charset of their byte-order mark when they start with
    one; else as UTF-8 when they are valid UTF-8 (but for a last character cut short:
    `utf8_text`), whatever the page declares (pages re-saved as UTF-8 under an old iso-8859-1
    declaration are common, the other way round such bytes are rarely valid UTF-8), also with
    a few bad bytes under any declaration (`_mostly_decodes`, as `decode_by_header` reads such
    a page: a single-byte charset reads any byte); else in the charset the page declares (its meta charset or
    XML declaration, read and mapped to a codec as browsers do, by w3lib) when that decodes them;
    else as an undeclared page (`_undeclared`). (trafilatura's own decoding guesses without
    reading the declaration: WCXB-dev pages re-encoded in the legacy charset of their language
    and declaring it came out wrong 7 times in 1,336, a Chinese page as cp775.)

    The declaration is the first meta charset of the page's `<head>`, however far into it
    (`_late_declaration`: browsers honour one after a long inline script too), else an XML
    declaration or meta tag in its first 4 KB (w3lib) (`_declared_charset`).

    A few invalid bytes (a truncated character, one stray byte) do not make a page undeclared:
    if they are at most one in twenty of its non-ASCII characters in the declared charset, or
    else in UTF-8, or, in a declared UTF-8, at most half as many as its valid multi-byte
    characters (`_mostly_decodes`), they become U+FFFD there, as browsers show them; one
    stray byte had the whole page guessed as Arabic or Cyrillic. A page whose every non-ASCII
    byte fails (latin-1 text under a utf-8 declaration) is decoded as undeclared."""
    if data[:3] == _GZIP_MAGIC:
        # read as the service and the WARC reader read a gzip body (`inflate`): every member,
        # bytes after the last ignored, as gzip -d ignores them (trafilatura refused the page)
        try:
            inflated = inflate(data, "gzip", 31, max_bytes, partial_ok=False)
        except ValueError as err:
            raise InputError(f"input is gzip data that cannot be decompressed: {err}") from None
        if len(inflated) > max_bytes:
            raise InputTooLarge(f"input is gzip data that decompresses to over the limit of "
                                f"{max_bytes:,} bytes")
    else:
        inflated = handle_compressed_file(data, max_bytes)
        failure = _compression_failure(data, max_bytes) if inflated is data else None
        if failure is not None:
            raise failure
    kind = file_format(inflated) if inflated is not data else None  # a PDF served compressed
    if kind:
        raise InputError(f"input is {kind}, not HTML")
    data = inflated
    bom_codec, bom = read_bom(data)
    if bom_codec:  # a byte-order mark decides, for browsers as here (UTF-16 pages have one)
        return data[len(bom):].decode(bom_codec, "replace")
    if b"\x1b" in data and data.isascii():
        # ISO-2022-JP is 7-bit, so its pages are valid UTF-8 too: its declaration comes first
        # (read as UTF-8, a Japanese page came out as "$B$3$s$K$A$O"), and on a page that
        # declares nothing its escapes into JIS X 0208 tell it, as browsers' detectors read them
        declared = _declared_charset(data)
        codec = resolve_label(declared) if declared else None
        if ((codec and _codec_name(codec) == "iso2022_jp")
                or (declared is None and _ISO_2022_JP_ESCAPE.search(data))):
            return data.decode("iso2022_jp", "replace")
    text = utf8_text(data)
    if text is not None:
        return text
    declared = _declared_charset(data)
    codec = (resolve_label(declared) or declared) if declared else None
    if codec and codec.lower().replace("_", "-").startswith(("utf-16", "utf-32")):
        # a declaration read as ASCII cannot be in UTF-16 or -32: browsers take it as UTF-8
        codec = "utf-8"
    if codec and _codec_name(codec) not in _LABELLED_CHARSETS:
        # a label browsers do not know ("undefined", Python-only codecs such as "idna",
        # "unicode_escape" or "cp037") is ignored, as browsers ignore it: Python's codecs
        # raised other errors than decoding ones, or turned "C:\new" into a line break
        codec = None
    # a few bad bytes: UTF-8 first, before the declaration: a single-byte charset reads any
    # byte, and GBK or Shift_JIS pair UTF-8's bytes into characters, so a UTF-8 page with one
    # stray byte under a stale ``<meta charset=iso-8859-1>`` (or gbk) came out whole as
    # "rÃ©union" ("r茅union"); legacy text is not UTF-8 with so few bad bytes (`_mostly_decodes`)
    text = _mostly_decodes(data, "utf-8", declared=False)
    if text is not None:
        return text
    if codec:
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            pass
        text = _mostly_decodes(data, codec, declared=True)
        if text is not None:
            return text
    return _undeclared(data, url)


def _declared_charset(data: bytes) -> str | None:
    """The charset a page declares: its head's first meta charset (`_late_declaration`, which
    skips scripts, styles and comments: a `document.write('<meta charset=…>')` before the real
    meta tag was taken by w3lib's scan), else its XML declaration or any meta tag before its
    body in its first 4 KB (`_prescan_declaration`)."""
    return _late_declaration(data) or _prescan_declaration(data)


def _prescan_declaration(data: bytes) -> str | None:
    """The charset the first XML declaration or meta tag in the page's first 4 KB declares,
    up to its body tag (read by w3lib). The window is cut here: w3lib 2.6 reads the whole page
    and past the body, so a meta tag in a PHP string behind a 5 KB script (no tag of the head,
    `_late_declaration`) was taken, and a Russian page came out as Latin-1."""
    window = data[:4096]
    body = next((match for match in _BODY_START.finditer(window) if match[0][:4] != b"<!--"),
                None)
    return _w3lib_declaration(window[:body.start()] if body else window)


def _w3lib_declaration(data: bytes | str) -> str | None:
    """The charset `data` declares, read by w3lib. Under w3lib 2.6, frostwork 0.2.2 panics on
    bytes that end in "<meta" (a page or a 4 KB window cut there, two WCXB-dev pages without
    their declarations among them) with pyo3's PanicException, which is no `Exception`: it
    went through every `except Exception` (out of `clean`, a crawler's loop with it; a batch
    worker died). A tag cut at its name declares nothing and is left out; any other panic of
    the scan is read as no declaration."""
    if data[-5:].lower() in ("<meta", b"<meta"):
        data = data[:-5]
    try:
        return html_body_declared_encoding(data)
    except BaseException as err:  # noqa: BLE001 -- PanicException derives from BaseException
        if type(err).__name__ != "PanicException":
            raise
        return None


def _late_declaration(data: bytes) -> str | None:
    """The charset the first meta tag to declare one declares in the page's `<head>` (up to
    its end or the start of its body), within its first `_LATE_DECLARATION_LIMIT` bytes, read
    by w3lib (or `resolve_label`, for a label w3lib lacks); None if none does. w3lib reads
    only the first 4 KB, but browsers change to the charset of a meta tag they meet in the
    head however late (after a 5 KB inline script, an iso-8859-2 Hungarian page came out in
    windows-1252). What scripts, styles, titles, comments and attribute values hold is not a
    tag; a tag that cannot be in the head ends it, as browsers stop looking once the body
    starts."""
    for match in _HEAD_SCAN.finditer(data[:_LATE_DECLARATION_LIMIT].decode("latin-1")):
        tag = (match["tag"] or "").lower()
        if (match["end"] or "").lower() == "head" or (tag and tag not in _HEAD_TAGS):
            break
        if tag == "meta" and "charset" in match[0].lower():
            label = _meta_label(match[0])
            declared = _w3lib_declaration(match[0]) or (label and resolve_label(label))
            if declared:
                return declared
    return None


def _meta_label(tag: str) -> str | None:
    """The charset label a meta tag declares, as browsers' prescan reads one: its `charset`
    attribute's, or the "charset=" in its `content` when its `http-equiv` is Content-Type; None
    if it declares none. A description whose content says "charset=koi8-r" declares nothing
    (it was taken as the page's charset when w3lib read no declaration there)."""
    attributes: dict[str, str] = {}
    for name, value in _ATTRIBUTE.findall(tag[len("<meta"):]):
        attributes.setdefault(name.lower(), value[1:-1] if value[:1] in ("'", '"') else value)
    if "charset" in attributes:
        label = _LEADING_LABEL.match(attributes["charset"])
    elif attributes.get("http-equiv", "").strip().lower() == "content-type":
        label = _META_CHARSET.search(attributes.get("content", ""))
    else:
        return None
    return label[1] if label else None


#: the five bytes windows-1252 leaves undefined
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def _stray_undefined(data: bytes) -> bool:
    """Whether the bytes windows-1252 leaves undefined are strays in `data` (one, or at most
    one in a hundred non-ASCII bytes), not the text's own: Shift_JIS (0x81 leads "、" and
    "。") and windows-1250 (0x9D is "ť", 0x8F "Ź") hold them by the tenth or fiftieth, and
    pages in them marked `lang="en"` (WCXB-dev holds such Japanese pages) are for the
    detector; a short English page with one stray is not."""
    undefined = len(_CP1252_UNDEFINED.findall(data))
    non_ascii = len(data) - len(data.decode("latin-1").encode("ascii", "ignore"))
    return undefined <= max(1, non_ascii // 100)


def _undeclared(data: bytes, url: str | None = None) -> str:
    """Bytes that are not UTF-8 and declare no charset that decodes them.

    In windows-1252 when the page says it is in a language whose legacy charset that is (as
    the browsers of that language's readers assume); in the Latin code page that reads its
    non-ASCII characters as the letters of its language when it names another language
    written in Latin script (Czech, Polish, Turkish, Latvian…: `_LATIN_ALPHABETS`), or names
    none and comes from such a language's country domain (`_DOMAIN_LANGUAGES`); else in
    the charset a detector guesses from the page's non-ASCII text (also for a page in a
    windows-1252 language whose non-ASCII bytes are mostly whole words: `_mostly_long_runs`),
    except that on a page that names no language, or a windows-1252 one, a guess of another
    Latin-script code page gives way to windows-1252 when that reads those words as words;
    else in windows-1252, the web's default, with its five unassigned bytes as U+FFFD. (So a
    page in another Latin code page that names no
    language, comes from no such country domain, and whose words hold no letter windows-1252
    reads as a symbol, comes out in windows-1252: Hungarian "ű" as "û", Turkish "ı" as "ý";
    Polish, whose "ą", "ł" and "ż" it reads as symbols, does not.)

    Why not the detector alone: given the page, it reads the first and last 5 KB, which on
    most pages are ASCII markup; it then guessed "ascii", and the page came out in UTF-8 with
    every curly quote and dash as U+FFFD (trafilatura's decoding got 943 of the 1,446 WCXB-dev
    pages with non-ASCII text wrong once re-encoded to windows-1252 without their declaration,
    most of them so). Given only the non-ASCII words, it tells scripts
    apart (Cyrillic, Chinese, Japanese) but not Latin code pages: it read half of those pages
    as Central European, Mac or DOS code pages, and a French sentence as a Baltic one ("trčs
    bon ą cōté"). `benchmarks/decoding.py` measures this beside trafilatura's decoding.
    """
    found = _HTML_LANG.search(data[:8192])
    lang = found.group(1).decode("ascii").lower() if found else None
    if lang in _WINDOWS_1252_LANGUAGES and not _mostly_long_runs(data):
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            if _stray_undefined(data):
                # as browsers read it, the undefined bytes as C1 controls: one 0x9D (in UTF-8's
                # "”") sent an English page to the detector, which read it as Cyrillic
                return data.decode("cp1252", _C1_CONTROLS)
    sample = _non_ascii_sample(data)
    hint = lang or _domain_language(url)
    if hint in _LATIN_ALPHABETS:
        codec = _code_page_of(sample, *_LATIN_ALPHABETS[hint])
        if codec is not None:
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    guesses = _web_guesses(sample)
    for guess in guesses:
        if ((lang is None or lang in _WINDOWS_1252_LANGUAGES) and _latin_script(guess)
                and _reads_as_words(sample, "cp1252")):
            guess = "cp1252"
        try:
            return data.decode(guess)
        except UnicodeDecodeError:
            continue
    # a few invalid bytes (a stray byte, a last character cut by a crawler's size limit): the
    # detector finds no charset that reads every byte, or a wrong one, so it is asked again
    # without them, and a guess is taken if it reads all but a few (`_mostly_decodes`), as
    # browsers' detectors read such pages; a GBK page with one stray byte came out whole as
    # windows-1252 mojibake, a Big5 one as Shift_JIS
    retried = _guesses_past_strays(sample, cut=data[-1:] >= b"\x80")
    for guess in dict.fromkeys([*retried, *guesses]):
        text = _mostly_decodes(data, guess, declared=False)
        if text is not None:
            return text
    return data.decode("cp1252", "replace")


def _mostly_long_runs(data: bytes) -> bool:
    """Whether most of the page's non-ASCII bytes come in runs of three or more: whole words of
    a Cyrillic, Greek, Hebrew or Arabic code page, or double-byte CJK text, not the accented
    letters and quotes of a language written in windows-1252 ("für", "ação", "“déjà”"). Such a
    page is for the detector whatever its `<html lang>` says: templates keep `lang="en"` for
    pages in every language, and a Russian page in windows-1251 so marked, whose bytes
    windows-1252 reads too, came out as "Íîâûå ìåðû" (browsers do not choose a charset by
    `lang`). Windows-1252's punctuation (0x80-0x9F: dashes, quotes, "…", "•"; no-break
    spaces, guillemets) parts runs: a rule of dashes, or leaders, is no word, and sent an
    English page to the detector, "£5" coming out as "Ł5"; runs that are UTF-8 (mojibake a
    windows-1252 page carries, "â€™"; legacy text is almost never valid UTF-8) are none
    either."""
    long = total = 0
    for run in _NON_ASCII_RUN.findall(data):
        if _is_utf8(run):
            total += len(run)
            continue
        for part in _CP1252_TYPOGRAPHY.split(run):
            total += len(part)
            long += len(part) if len(part) >= 3 else 0
    return long > total / 2


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_cut(data: bytes, codec: str, errors: str = "strict") -> str:
    """`data` in `codec` (`errors` as for `bytes.decode`), a character cut short at its very
    end (a crawler's size limit, a truncated WARC record, a UTF-16 page cut to an odd length)
    read as U+FFFD; `UnicodeDecodeError` for any other invalid sequence, and for a last byte
    over 127 after nothing but ASCII, which is as likely Latin-1 text ending in "caf\xe9" as a
    cut UTF-8 character. A page with a single valid multi-byte character besides the cut one
    failed every rule for a few invalid bytes, and came out in cp932 or windows-1252 mojibake
    ("cafﾃｩ"); a cut UTF-16 page was refused as binary data."""
    try:
        return data.decode(codec, errors)
    except UnicodeDecodeError as err:
        if (err.end != len(data) or err.reason not in _CUT_SHORT
                or (err.reason == _CUT_SHORT[0] and data[:err.start].isascii())):
            raise
        return data[:err.start].decode(codec, errors) + "\ufffd"


def utf8_text(data: bytes, codec: str = "utf-8") -> str | None:
    """`data` in UTF-8 (`codec` "utf-8-sig" to drop a byte-order mark) as `decode_cut` reads
    it; None when it is not UTF-8."""
    try:
        return decode_cut(data, codec)
    except UnicodeDecodeError:
        return None


def _web_guesses(sample: bytes) -> list[str]:
    """The web charsets (Python codec names, `_WEB_CHARSETS`) a detector guesses `sample` is
    in, likeliest first."""
    guesses = []
    for guess in detect_encoding(sample):
        try:
            guess = codecs.lookup(guess).name
        except LookupError:
            continue
        guess = _WEB_EQUIVALENTS.get(guess, guess)
        if guess in _WEB_CHARSETS and guess not in guesses:
            guesses.append(guess)
    return guesses


def _guesses_past_strays(sample: bytes, cut: bool) -> list[str]:
    """`_web_guesses` for `sample` without its lone non-ASCII bytes (a stray byte between ASCII
    ones, which no multi-byte charset reads) and, when the page is `cut` inside a non-ASCII
    run, without the one to three bytes of a character cut short at its end."""
    sample = _LONE_NON_ASCII.sub(b"", sample)
    for trim in range(4 if cut else 1):
        guesses = _web_guesses(sample[:len(sample) - trim])
        if guesses:
            return guesses
    return []


def _non_ascii_sample(data: bytes) -> bytes:
    """The page's non-ASCII runs with a few bytes of context each, joined up to
    `_DETECTOR_SAMPLE` bytes: what a detector needs to see of a page that is mostly ASCII.
    Overlapping stretches are merged, so a multi-byte character is never cut apart; the scan
    is linear (a pattern for whole non-ASCII words took 47 s on a WCXB-dev page with inline
    base64 images, each a run of hundreds of kilobytes without a space)."""
    spans: list[list[int]] = []
    size = 0
    for run in _NON_ASCII_RUN.finditer(data):
        start, end = max(run.start() - _SAMPLE_CONTEXT, 0), run.end() + _SAMPLE_CONTEXT
        if spans and start <= spans[-1][1]:
            size += end - spans[-1][1]
            spans[-1][1] = end
        else:
            spans.append([start, end])
            size += end - start
        if size >= _DETECTOR_SAMPLE:
            # the context after the last run ends before the next one: cut inside a character,
            # a GBK or Shift_JIS sample was read by no charset (a Shift_JIS character's second
            # byte may be ASCII, so the ASCII bytes after the run stay)
            following = _NON_ASCII_BYTE.search(data, run.end(), end)
            if following:
                spans[-1][1] = following.start()
            break
    return b" ".join(data[start:end] for start, end in spans)


def _domain_language(url: str | None) -> str | None:
    """The language of the country domain the page comes from (`_DOMAIN_LANGUAGES`), if any."""
    try:
        host = urlsplit(url).hostname if isinstance(url, str) and url else None
    except ValueError:
        return None
    return _DOMAIN_LANGUAGES.get(host.rstrip(".").rsplit(".", 1)[-1]) if host else None


def _code_page_of(sample: bytes, alphabet: str, default: str) -> str | None:
    """The Latin code page in which the sample's non-ASCII characters are most often the
    language's own letters (`alphabet`) or common typography and least often other letters,
    if that score is over `_ALPHABET_SHARE` (windows-1252, then the language's `default`,
    first on a tie); else None. Other letters count against a code page twice (as not the
    language's, and again), so that a page the hint is wrong for keeps windows-1252 where
    its letters say so: a French page on a `.cz` domain, read as Czech, has its "à" become
    a foreign "ŕ". Where its letters do not say so (French whose accents are mostly "è" and
    "ù", which read as Czech "č" and "ů"), the page comes out in the hinted code page, as it
    does in Firefox.

    The detector alone read Czech and Slovene in ISO-8859-2 as ISO-8859-14 ("ḿsta" for
    "města"), Latvian and Estonian in windows-1257 as a Central European code page ("lőpeb" for
    "lõpeb"), whatever the page's `lang` said."""
    best, best_share = None, _ALPHABET_SHARE
    order = ("cp1252", default, *(c for c in _LATIN_CODE_PAGES if c not in ("cp1252", default)))
    for codec in order:
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        beyond = [ch for ch in text if ord(ch) > 127]
        if not beyond:
            return None
        own = sum(1 for ch in beyond if ch in alphabet or ch.lower() in alphabet)
        typography = sum(1 for ch in beyond if ch in _TYPOGRAPHY)
        other = sum(1 for ch in beyond if ch.isalpha()) - own
        share = (own + typography - other) / len(beyond)
        if share > best_share:
            best, best_share = codec, share
    return best


@functools.lru_cache(maxsize=None)
def _latin_script(codec: str) -> bool:
    """Whether a single-byte code page's upper half is Latin letters (windows-1250, -1257, Mac
    Roman, ISO 8859-2…), not Cyrillic, Greek, Arabic, Hebrew or Thai ones (or a multi-byte
    charset's, whose bytes there are not letters on their own)."""
    try:
        upper = bytes(range(0x80, 0x100)).decode(codec, "replace")
    except LookupError:
        return False
    letters = [ch for ch in upper if ch.isalpha()]
    latin = sum(1 for ch in letters if unicodedata.name(ch, "").startswith("LATIN"))
    return bool(letters) and latin >= 0.8 * len(letters)


def _reads_as_words(sample: bytes, codec: str) -> bool:
    """Whether `codec` decodes the sample without a symbol between two letters: Polish
    in windows-1250 read as windows-1252 puts "¹" and "³" inside words ("pa³¹ka")."""
    try:
        text = sample.decode(codec)
    except UnicodeDecodeError:
        return False
    return not _SYMBOL_IN_WORD.search(text)


def _codec_name(codec: str) -> str | None:
    try:
        return codecs.lookup(codec).name
    except LookupError:
        return None


def _mostly_decodes(data: bytes, codec: str, declared: bool) -> str | None:
    """`data` in `codec` with its invalid bytes as U+FFFD, if they are at most one in twenty of
    the non-ASCII characters, or, in a declared UTF-8, if the page's valid multi-byte
    characters are at least `_UTF8_VALID_PER_INVALID` times its invalid sequences; else None.

    Why UTF-8 is judged apart when declared: browsers keep a declared UTF-8 whatever its
    invalid bytes, and a page of ASCII with five curly quotes and one stray windows-1252 byte
    (a template's "\\xa9") is one in six, not one in twenty; it was read as undeclared, and
    came out in Mac Cyrillic or windows-1252 mojibake. Text in a legacy charset (latin-1 text
    under a utf-8 declaration, what this still refuses) is not UTF-8 by chance: of the
    WCXB-dev pages re-encoded in each of 15 legacy charsets (Latin, Cyrillic, Greek, Arabic,
    Hebrew, Thai, Chinese, Japanese, Korean), none read as UTF-8 holds more than 1.2 valid
    characters per invalid sequence, except pages whose text already held UTF-8 read as
    windows-1252 ("â€™"), which re-encoding turns back into UTF-8."""
    try:
        text = data.decode(codec, "replace")
    except LookupError:
        return None
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if declared and _codec_name(codec) == "utf-8":
        return text if bad * _UTF8_VALID_PER_INVALID <= non_ascii - bad else None
    return text if bad * 20 <= non_ascii else None


def _compression_failure(data: bytes, max_bytes: int) -> InputError | None:
    """Why trafilatura handed zlib, brotli or zstd data back as it came: a zlib or brotli stream
    that decompresses to more than the size limit (a decompression bomb: a brotli one was
    refused as binary data, a 422 where a zlib one is a 413), or zstd data it could not read
    (a bomb or corrupt: trafilatura does not say which). Refused here, since what comes
    back is not always binary enough to be refused as such: the zlib stream of a page that
    repeats itself read as windows-1252 words and came out as its text. None when `data` is
    not compressed (a zlib header is two bytes that a document may also start with, so only
    a stream that inflates counts as one)."""
    if data[:4] == _ZSTD_MAGIC:
        try:
            zstd_module()
        except ValueError as err:  # no zstd decoder here: said, not taken for corrupt data
            return InputError(f"input is zstd data: {err}")
        if _zstd_over(data, max_bytes):
            return InputTooLarge(f"input is zstd data that decompresses to over the limit of "
                                 f"{max_bytes:,} bytes")
        return InputError("input is zstd data that cannot be decompressed")
    if data[:1] == b"\x78" and int.from_bytes(data[:2], "big") % 31 == 0:
        try:
            head = zlib.decompressobj(15).decompress(data, max_bytes + 1)
        except zlib.error:
            head = b""
        if len(head) > max_bytes:
            return InputTooLarge(f"input is zlib data that decompresses to over the limit of "
                                 f"{max_bytes:,} bytes")
    try:  # no magic number: a page's bytes fail as brotli at once
        if len(unbrotli(data, max_bytes, partial_ok=True)) > max_bytes:
            return InputTooLarge(f"input is brotli data that decompresses to over the limit of "
                                 f"{max_bytes:,} bytes")
    except ValueError:
        pass
    return None


def _zstd_over(data: bytes, max_bytes: int) -> bool:
    """Whether zstd data decompresses, frame after frame, to over `max_bytes` (a bomb, refused
    as too large like a gzip or zlib one) rather than failing as corrupt or cut; read no further
    than the limit (`unzstd`). Without a zstd module nothing is read, and the data is corrupt
    as far as this install knows."""
    try:
        return len(unzstd(data, max_bytes, partial_ok=False)) > max_bytes
    except ValueError:
        return False
