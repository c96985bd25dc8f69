"""`noisefilter clean` and the top-level command: what a user at a shell sees."""

from __future__ import annotations

import json

import pytest

import filter
from filter import Cleaner
from filter.cli import main

URL = "https://coastal.example/news/2026/harbour-bridge-reopens"


def test_clean_prints_the_clean_text_of_a_file(tmp_path, article_html, capsys):
    page = tmp_path / "page.html"
    page.write_text(article_html, encoding="utf-8")
    assert main(["clean", str(page), "--url", URL]) == 0
    want = Cleaner().clean(article_html, url=URL)
    assert capsys.readouterr().out == want.text + "\n"
    assert "Harbour bridge reopens" in want.text and "Most read" not in want.text


def test_clean_json_is_the_whole_result(tmp_path, article_html, capsys):
    page = tmp_path / "page.html"
    page.write_text(article_html, encoding="utf-8")
    assert main(["clean", str(page), "--url", URL, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == json.loads(json.dumps(Cleaner().clean(article_html, url=URL).to_dict()))


@pytest.mark.parametrize("name", ["missing.html", "."])
def test_an_unreadable_file_is_a_message_and_exit_status_2(tmp_path, name, capsys):
    """A typo in a path (or a folder given by mistake) says so in one line, not a traceback."""
    assert main(["clean", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"noisefilter: cannot read {tmp_path / name}:") and "Traceback" not in err


def test_bad_input_is_a_message_and_exit_status_2(tmp_path, capsys):
    page = tmp_path / "image.html"
    page.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    assert main(["clean", str(page)]) == 2
    assert capsys.readouterr().err.startswith("noisefilter: InputError: ")


def test_text_that_is_not_utf8_is_refused_as_by_the_library(tmp_path, capsys):
    """`clean --text` takes what `clean_text` takes; it used to replace the bad bytes silently."""
    lines = tmp_path / "latin1.txt"
    lines.write_bytes("Crêpes à la carte\nLa fête du village".encode("latin-1"))
    assert main(["clean", "--text", str(lines)]) == 2
    assert "UTF-8" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"noisefilter {filter.__version__}"


def test_max_bytes_is_a_flag(tmp_path, article_html, capsys):
    """A page over the limit is refused by name; raising the limit cleans it."""
    page = tmp_path / "page.html"
    page.write_text(article_html, encoding="utf-8")
    size = page.stat().st_size
    assert main(["clean", str(page), "--max-bytes", str(size - 1)]) == 2
    assert capsys.readouterr().err.startswith("noisefilter: InputTooLarge: ")
    assert main(["clean", str(page), "--max-bytes", str(size)]) == 0
    assert "Harbour bridge reopens" in capsys.readouterr().out
