"""Edges of reading bytes as text (filter/decoding.py, with the input checks of
filter/extract.py, filter/limits.py and filter/compression.py): each test pins one rule at an
input where it decides what text a user gets."""

from __future__ import annotations

import gzip

import pytest

from filter import InputError, clean, clean_text
from filter import decoding
from filter.decoding import decode

_FRENCH = "Le conseil municipal s'est réuni mardi soir pour voter le budget du nouveau port. "
_SENTENCE = "La réunion a été très animée à Genève."
_LIMIT = 10_000_000


def _mac_roman_page(prefix: str = "") -> bytes:
    return (prefix + "<html><head><title>Port</title></head><body>"
            f"<p>{_FRENCH * 5}</p></body></html>").encode("mac-roman")


@pytest.mark.parametrize("label", [" x-mac-roman ", "x-mac-roman\t", "\nmacintosh"])
def test_a_given_charset_label_is_read_whatever_whitespace_surrounds_it(label):
    """A label w3lib lacks is looked up stripped, as w3lib strips its own: " x-mac-roman " was
    unknown, and the page was read as undeclared windows-1252 ("rŽuni")."""
    assert _FRENCH in decode(_mac_roman_page(), _LIMIT, charset=label)


@pytest.mark.parametrize("label", ["unicode_escape", "cp037", "base64", "cp437"])
def test_a_python_only_codec_named_for_text_is_an_unknown_charset(label):
    """Codecs browsers do not know are refused by name, not used: "unicode_escape" turned
    "C:\\new" into a line break, "base64" raised a LookupError."""
    with pytest.raises(InputError, match="unknown charset"):
        clean_text(b"Saved in C:\\new folder on the shared drive, for everyone to read.",
                   charset=label)


_CUT = ("<html><head><title>Harbour news</title></head><body><p>They met at the café. "
        + "The harbour council met on Tuesday to agree the ferry budget. " * 3
        + "</p><p>Next week: the council’s").encode("utf-8")[:-2]


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-1", None])
def test_a_utf8_page_with_a_byte_order_mark_cut_inside_its_last_character(charset):
    """The byte-order mark is not counted where the cut character starts (`utf8_text` with
    "utf-8-sig" reports offsets past the mark): read so, the last three characters went too
    ("the coun\ufffd"); the page without a header is read by its mark, with U+FFFD."""
    text = decode(b"\xef\xbb\xbf" + _CUT, _LIMIT, charset=charset)
    assert text.endswith("Next week: the council\ufffd") and "café" in text


def test_a_byte_order_mark_page_with_an_invalid_byte_is_read_with_u_fffd():
    page = (b"\xef\xbb\xbf<html><body><p>Caf\xe9 and tea at the harbour, every day.</p>"
            b"</body></html>")
    assert "Caf\ufffd and tea" in decode(page, _LIMIT)


@pytest.mark.parametrize("page, end", [
    (b"<html lang=en><head><title>t</title></head><body><p>The answer, in the end, was no\x85",
     "was no…"),
    (b"<html><head><meta charset=windows-1252><title>t</title></head><body><p>Price: 5\x80",
     "Price: 5€"),
])
@pytest.mark.parametrize("charset", [None, "iso-8859-1"])
def test_a_legacy_page_whose_one_non_ascii_byte_ends_it_is_read_in_its_charset(page, end, charset):
    """Only a character cut short at the end is taken for UTF-8 (`utf8_text`): a windows-1252
    page whose last byte is its one non-ASCII one ("…", "€") is windows-1252, not UTF-8
    with U+FFFD."""
    assert decode(page, _LIMIT, charset=charset).endswith(end)


# a windows-1252 page as declared, holding text that was already UTF-8 read as windows-1252
# ("itâ€™s", whose bytes are valid UTF-8) besides its own accented letters
_DOUBLE_ENCODED = ("<p>Itâ€™s here.</p>" * 10 + "<p>Au café.</p>" * 3)


@pytest.mark.parametrize("head, html, charset", [
    ("<meta charset='windows-1252'>", "<html>", None),
    ("", "<html>", "iso-8859-1"),
    ("<meta charset='windows-1252'>", "<html>", "iso-8859-1"),
    ("", "<html lang='fr'>", None),
])
def test_a_windows_1252_page_with_utf8_sequences_keeps_its_own_letters(head, html, charset):
    """The UTF-8 tried before a single-byte charset is held to one bad sequence in twenty (the
    rule for a declared UTF-8, two valid per bad one, is for a page that declares UTF-8):
    read as UTF-8 by the looser rule, the page's own "é" became U+FFFD."""
    page = f"{html}<head>{head}<title>t</title></head><body>{_DOUBLE_ENCODED}</body></html>"
    assert "Au café." in decode(page.encode("cp1252"), _LIMIT, charset=charset)


def test_a_meta_utf8_over_a_latin_header_keeps_a_page_with_a_stray_byte_utf8():
    """A page that declares UTF-8, with five curly quotes and one stray byte (one in six, under
    one in twenty), is read by the declared-UTF-8 rule under a server's iso-8859-1 too."""
    page = (("<html><head><meta charset='utf-8'><title>t</title></head><body>"
             + "<p>It’s here.</p>" * 5).encode() + b"<p>\xa9 2024</p></body></html>")
    assert "It’s here." in decode(page, _LIMIT, charset="iso-8859-1")


def test_a_utf16_declaration_on_an_8bit_page_is_read_as_utf8_with_its_stray_byte():
    """A meta utf-16 read as ASCII is UTF-8 for browsers, and a declared UTF-8's rule for a few
    bad bytes holds for it (taken for no declaration, the page came out as "Itâ€™s")."""
    page = (("<html lang='en'><head><meta charset='utf-16'><title>t</title></head><body>"
             + "<p>It’s here.</p>" * 5).encode() + b"<p>\xa9 2024</p></body></html>")
    assert "It’s here." in decode(page, _LIMIT)


@pytest.mark.parametrize("meta", ["", "<meta charset='big5'>", "<meta charset='euc-jp'>"])
def test_a_utf8_page_with_one_stray_byte_is_utf8_when_its_declaration_fails(meta):
    """UTF-8 is the last candidate after a declared charset that does not read the page, and
    the only one of a page that declares none."""
    page = ((f"<html><head>{meta}</head><body>" + f"<p>{_SENTENCE}</p>" * 20).encode()
            + b"<p>\xa9 2024</p></body></html>")
    assert _SENTENCE in decode(page, _LIMIT)


def test_an_xml_declaration_names_the_charset_of_a_page_without_a_meta_charset():
    page = _mac_roman_page('<?xml version="1.0" encoding="macintosh"?>')
    assert _FRENCH in decode(page, _LIMIT)
    czech = "Městská rada se sešla v úterý večer. "
    page = ("<?xml version='1.0' encoding='windows-1250'?><html><head><title>t</title></head>"
            f"<body><p>{czech * 5}</p></body></html>").encode("cp1250")
    assert czech in decode(page, _LIMIT)


_RUSSIAN = "Городской совет собрался во вторник. "
_CHINESE = "市议会周二晚上开会，讨论新渡轮码头的预算。"


def test_a_double_byte_header_does_not_read_a_damaged_single_byte_page_over_its_meta():
    """A Shift_JIS header over an iso-8859-5 page that declares itself: Cyrillic bytes pair
    into enough valid Shift_JIS characters to pass the rule for a few bad bytes, so the page's
    own declaration decides."""
    page = (f"<html><head><meta charset='iso-8859-5'><title>t</title></head><body>"
            f"<p>{_RUSSIAN * 8}</p></body></html>").encode("iso-8859-5")
    assert _RUSSIAN in decode(page, _LIMIT, charset="shift_jis")


@pytest.mark.parametrize("header", ["iso-8859-7", "windows-1253"])
def test_a_single_byte_header_does_not_read_a_damaged_page_over_its_gbk_meta(header):
    """A single-byte header that leaves some of a GBK page's bytes undefined does not read it
    with U+FFFD for them over the page's own GBK declaration (it came out as Greek)."""
    page = (f"<html><head><meta charset='gbk'><title>t</title></head><body>"
            f"<p>{_CHINESE * 10}</p></body></html>").encode("gbk")
    assert _CHINESE in decode(page, _LIMIT, charset=header)


def test_a_gbk_declaration_reads_gb18030s_four_byte_characters():
    """Browsers decode a page labelled GBK (gbk, gb2312, x-gbk) with the GB18030 decoder, as the
    Encoding Standard says; read with Python's gbk codec (w3lib 2.6's name for the label), the
    characters GBK lacks became U+FFFD."""
    rare = "\u4dae\u9fa6\U00020000"  # beyond GBK: four bytes each in GB18030
    for label in ("gbk", "gb2312", "x-gbk"):
        page = (f"<html><head><meta charset='{label}'><title>t</title></head><body>"
                f"<p>{_CHINESE * 10}{rare}</p></body></html>").encode("gb18030")
        assert _CHINESE + rare in decode(page, _LIMIT), label
        assert _CHINESE + rare in decode(page, _LIMIT, charset=label), label


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_a_utf32_page_with_its_byte_order_mark_is_read(codec):
    """UTF-32LE's mark starts with UTF-16LE's: read as UTF-16 (as w3lib 2.6 reads the mark,
    and browsers, which know no UTF-32), the page was refused as binary data."""
    page = f"<html><body><article><p>{_FRENCH * 5}</p></article></body></html>"
    bom = "\ufeff".encode(codec)
    assert _FRENCH.strip() in decode(bom + page.encode(codec), _LIMIT)


def test_a_meta_charset_after_the_body_tag_is_not_the_pages():
    """Only a declaration before the body is the page's, however early the body starts: a
    koi8-r meta tag a widget wrote after the body tag read a windows-1251 page as KOI8-R
    (w3lib 2.6 reads the whole page for one, past its body)."""
    page = (f"<html lang='ru'><head><title>t</title></head><body><meta charset='koi8-r'>"
            f"<p>{_RUSSIAN * 8}</p></body></html>").encode("cp1251")
    assert len(page) < 4096
    assert _RUSSIAN in decode(page, _LIMIT)


@pytest.mark.parametrize("cut", [True, False])
def test_a_page_or_its_first_4_kb_ending_in_a_meta_tags_name_is_read(cut):
    """w3lib 2.6's scan (frostwork 0.2.2) panics on bytes that end in "<meta", with an
    exception no `except Exception` stops: a page cut there, or one whose first 4 KB end there,
    went out of `clean` as a PanicException (a batch worker died over it)."""
    text = f"<p>{_FRENCH * 5}</p>".encode("cp1252")
    if cut:  # the page ends in the tag's name
        page = b"<html>" + text + b"<META"
    else:  # its first 4 KB do, in its head: the tag goes on past them
        link = b"<link rel='preload' href='/static/app.js'>\n"
        head = b"<html><head><title>t</title>" + link * 94
        page = (head + b" " * (4091 - len(head)) + b"<meta name='x' content='y'></head><body>"
                + text + b"</body></html>")
        assert page[4091:4096] == b"<meta"
    assert _FRENCH.strip() in clean(page).text


def test_a_panic_of_w3libs_scan_is_read_as_no_declaration(monkeypatch):
    """pyo3 raises a Rust panic as PanicException, a BaseException: one out of the scan for a
    declaration would go through every handler of a crawler's loop; the page is read as one
    that declares nothing."""
    class PanicException(BaseException):
        pass

    def panic(data):
        raise PanicException("range start index 6 out of range for slice of length 5")

    monkeypatch.setattr(decoding, "html_body_declared_encoding", panic)
    page = f"<html><head><title>t</title></head><body><p>{_FRENCH * 5}</p></body></html>"
    assert _FRENCH.strip() in decode(page.encode("cp1252"), _LIMIT)
    monkeypatch.setattr(decoding, "html_body_declared_encoding", lambda data: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # a bug of ours is not taken for a panic
        decode(page.encode("cp1252"), _LIMIT)


def test_a_gzip_page_of_exactly_the_limit_is_read_in_its_header_charset():
    page = _mac_roman_page()
    assert _FRENCH in decode(gzip.compress(page, mtime=0), len(page), charset="x-mac-roman")


@pytest.mark.parametrize("start", ["80 personnes", "hb", "Xf"])
def test_a_page_starting_like_a_zlib_header_is_not_taken_for_zlib(start):
    """Two bytes pass for a zlib header in one case in 500 ("80", "hb"): only a stream whose
    first bytes inflate is compressed, else the header's charset was lost ("rŽuni")."""
    page = f"{start} <p>{_FRENCH * 5}</p>".encode("mac-roman")
    assert _FRENCH in decode(page, _LIMIT, charset="x-mac-roman")


def test_the_html_lang_after_a_long_leading_comment_still_names_the_language():
    """`<html lang>` is looked for in the first 8 KB: a doctype and a build comment before it
    are common, and without the language one stray byte windows-1252 leaves undefined sent
    the page to the detector ("Ђ3" for "€3")."""
    sentence = "Fares rise to €3 — the council’s “fair” plan. "
    lead = "<!DOCTYPE html>\n<!-- " + "build info " * 200 + "-->\n"
    page = (lead + f"<html lang='en'><head><title>Ferry fares</title></head><body><article>"
            f"<p>{sentence} The harbour council met on Tuesday.</p></article>"
            "<footer>@ Harbour News</footer></body></html>").encode("cp1252").replace(b"@", b"\x81")
    assert sentence in decode(page, _LIMIT)


def test_a_greek_page_of_short_words_marked_english_goes_to_the_detector():
    """Three-letter words ("και", "για", "του") are whole words of a Greek code page, not
    the accented letters of a windows-1252 language (`_mostly_long_runs`)."""
    greek = ("Το σπίτι και ο κήπος του, για μας και για όλους. "
             "Και εκεί ήταν και οι δύο. ")
    page = (f"<html lang='en'><head><title>t</title></head><body><p>{greek * 4}</p></body></html>"
            ).encode("iso-8859-7")
    assert greek in decode(page, _LIMIT)


def test_binary_data_after_a_textual_start_is_refused_and_one_control_in_twenty_is_not():
    """The first 4 KB decide: a file whose first few hundred bytes read as text (a data file's
    or an archive's header) is still binary; exactly one control character in twenty is text.
    A PDF is named by its first bytes."""
    header = b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" * 12
    with pytest.raises(InputError, match="binary"):
        decode(b"HARBOUR-DATA 1.4\n" + header + bytes(range(32)) * 200, _LIMIT)
    with pytest.raises(InputError, match="input is a PDF document, not HTML"):
        decode(b"%PDF-1.4\n" + header + bytes(range(32)) * 200, _LIMIT)
    assert decode(b"<p>one\x01two three</p>", _LIMIT) == "<p>one\x01two three</p>"


def test_a_country_domain_written_with_its_trailing_dot_still_hints_the_language():
    """"www.example.cz." is the same host as "www.example.cz" (its root spelt out): its domain
    is still Czech, and the page in windows-1250 ("města", not "mìsta")."""
    sentence = ("Starosta města oznámil, že oprava mostu skončí příští "
                "měsíc a doprava se vrátí do normálu.")
    page = (f"<html><head><title>News</title></head><body><article><p>{sentence}</p>"
            f"<p>{sentence}</p></article></body></html>").encode("cp1250")
    assert sentence in decode(page, _LIMIT, url="https://www.example.cz./zpravy/most")


def test_a_czech_page_rich_in_quotes_and_dashes_is_read_in_its_code_page():
    """Typography counts for a code page (`_code_page_of`): Czech text with „quotes“ and dashes
    on every line came out in windows-1252 ("otevøen") without it."""
    sentence = ("Praha – „Nový most“ – otevřen. „Ano“ – řekl. "
                "„Ne“ – „Proč?“ – „Už!“ … ")
    page = (f"<html><head><title>t</title></head><body><p>{sentence * 3}</p></body></html>"
            ).encode("cp1250")
    assert sentence in decode(page, _LIMIT, url="https://www.example.cz/a")


@pytest.mark.parametrize("meta, valid, invalid", [
    ("", 15, 1),                          # undeclared: UTF-8 with one bad sequence in twenty
    ("<meta charset='utf-8'>", 4, 3),     # declared UTF-8: two valid characters per bad one
])
def test_a_windows_1252_page_just_past_the_utf8_thresholds_stays_windows_1252(meta, valid, invalid):
    """A French windows-1252 page holding some UTF-8 read as windows-1252 ("lâ€™"), whose
    bytes are valid UTF-8, besides its own "é": one bad UTF-8 sequence in sixteen non-ASCII
    characters undeclared, or 4 valid per 3 bad under a (wrong) UTF-8 declaration, is too many
    for UTF-8, and the page's language reads it in windows-1252."""
    body = "<p>lâ€™eau</p>" * valid + "<p>Au café.</p>" * invalid
    page = f"<html lang='fr'><head>{meta}<title>t</title></head><body>{body}</body></html>"
    assert "Au café." in decode(page.encode("cp1252"), _LIMIT)


def test_text_below_the_extraction_depth_keeps_its_links_and_tails_in_its_sentences():
    """What lies below `MAX_EXTRACT_DEPTH` becomes paragraphs of its text, a link's text and the
    text after an inline element inside their sentence (a link as a block boundary cut "Read |
    the harbour report | before..." into three blocks)."""
    from filter.extract import html_to_page
    inner = ("<p>Read <a href='/r'>the harbour report</a> before the meeting on Tuesday.</p>"
             "<p>The ferry timetable changes next week.</p><b>Bold</b> tail words after it")
    html = ("<html><body><article><p>Opening paragraph of the story about the harbour.</p>"
            + "<div>" * 300 + inner + "</div>" * 300 + "</article></body></html>")
    texts = [b.text for b in html_to_page(html).blocks]
    assert "Read the harbour report before the meeting on Tuesday." in texts
    assert "Bold tail words after it" in texts


def test_the_largest_limits_documented_are_taken_and_one_more_is_refused():
    """`Limits.max_bytes` runs "from 1 to 1 TiB" and a pool may start `WORKERS_PER_CORE` processes
    per core: both ends are allowed, one past them is not."""
    from filter import Limits
    from filter.limits import MAX_BYTES, check_workers, max_workers
    assert Limits(max_bytes=MAX_BYTES).max_bytes == MAX_BYTES
    with pytest.raises(ValueError, match="max_bytes"):
        Limits(max_bytes=MAX_BYTES + 1)
    check_workers(max_workers())
    with pytest.raises(ValueError, match="at most"):
        check_workers(max_workers() + 1)


@pytest.mark.parametrize("suffix", [".xz", ".zst"])
def test_a_damaged_xz_or_zstd_page_file_is_reported_not_raised(tmp_path, suffix):
    """Reading a damaged .xz raises `LZMAError`, a damaged .zst `ZstdError` (neither an
    `OSError`): each is a failure of that file, not a crash of the batch."""
    import lzma

    from filter.decoding import zstd_module
    from filter.inputs import read_html_file
    page = (b"<html><body><p>" + b"The harbour bridge reopened on Tuesday. " * 200
            + b"</p></body></html>")
    packed = lzma.compress(page) if suffix == ".xz" else zstd_module().compress(page)
    path = tmp_path / f"page.html{suffix}"
    path.write_bytes(packed[:40] + bytes(b ^ 0x5A for b in packed[40:80]) + packed[80:])
    doc = read_html_file(path, "page", 10_000_000)
    assert doc.failure is not None and doc.failure.type == "UnreadableFile"


@pytest.mark.parametrize("meta", [
    '<meta name="description" content="Old pages in charset=koi8-r, and how to read them">',
    "<meta property='og:description' content='charset=koi'>",
    '<meta name="charset" content="charset=koi8-r">',
])
def test_charset_in_a_meta_tags_text_declares_nothing(meta):
    """Only a meta tag's `charset` attribute, or its content under `http-equiv=Content-Type`,
    declares a charset, as browsers read one: a description that mentioned "charset=koi8-r"
    was taken as the page's declaration, and its French came out in Cyrillic ("rИuni")."""
    page = (f"<html lang='fr'><head>{meta}<title>Port</title></head><body>"
            f"<p>{_FRENCH * 5}</p></body></html>").encode("cp1252")
    assert _FRENCH in decode(page, _LIMIT)


@pytest.mark.parametrize("meta", [
    "<meta http-equiv='Content-Type' content='text/html; charset=x-mac-roman'>",
    '<meta content="text/html;charset=macintosh" HTTP-EQUIV=content-type />',
    "<meta charset=x-mac-roman/>",
])
def test_a_meta_declaration_w3lib_cannot_read_is_still_read(meta):
    """A label w3lib lacks, in either form of declaration, attributes in any order or case."""
    page = (f"<html lang='fr'><head>{meta}<title>Port</title></head><body>"
            f"<p>{_FRENCH * 5}</p></body></html>").encode("mac-roman")
    assert _FRENCH in decode(page, _LIMIT)
