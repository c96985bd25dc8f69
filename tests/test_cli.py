"""`noisefilter clean` and the top-level command: what a user at a shell sees."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import subprocess
import sys

import pytest

import filter
from filter import Cleaner, InputError
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
    # every field of the result with its value (compared with `to_dict` alone, a field lost
    # there went unseen)
    assert set(result) == {"text", "title", "author", "date", "language", "url", "related_links",
                           "label_counts", "model_version", "empty_reason", "blocks"}
    assert (result["title"], result["author"], result["date"], result["language"], result["url"]) == (
        "Harbour bridge reopens after two years of repairs", "Jane Fielding", "2026-03-14", "en", URL)
    assert result["text"].startswith("Harbour bridge reopens after two years of repairs\n")
    assert result["model_version"] == Cleaner().model_version and result["empty_reason"] is None
    assert result["blocks"] and {"text", "label", "score"} <= set(result["blocks"][0])


@pytest.mark.parametrize("name", ["missing.html", "."])
def test_an_unreadable_file_is_a_message_and_exit_status_2(tmp_path, name, capsys):
    """A typo in a path (or a folder given by mistake) says so in one line, not a traceback."""
    assert main(["clean", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"noisefilter: cannot read {tmp_path / name}:") and "Traceback" not in err
    assert ("noisefilter batch cleans the pages of a folder" in err) == (name == ".")


@pytest.mark.parametrize("command", [["clean"], ["batch", "-o", "out.jsonl"]])
def test_an_address_given_for_a_file_says_nothing_is_downloaded(tmp_path, monkeypatch, command, capsys):
    """A first try, `noisefilter clean https://…`, was told only "No such file or directory"."""
    monkeypatch.chdir(tmp_path)
    assert main([command[0], URL, *command[1:]]) == 2
    err = capsys.readouterr().err
    assert URL in err and "downloads nothing" in err and "curl -o page.html" in err
    assert main([command[0], "harbour.html", *command[1:]]) == 2  # a file name: no such advice
    assert "downloads nothing" not in capsys.readouterr().err


@pytest.mark.parametrize("compress", [bz2.compress, lzma.compress, lambda data: gzip.compress(
    gzip.compress(data))], ids=["bzip2", "xz", "gzip-twice"])
def test_a_compressed_page_is_cleaned_as_batch_cleans_it(tmp_path, article_html, compress, capsys):
    """`batch` reads a folder's compressed pages; `clean` on one of them said "binary data"."""
    page = tmp_path / "page.html.z"
    page.write_bytes(compress(article_html.encode()))
    assert main(["clean", str(page)]) == 0
    assert capsys.readouterr().out == Cleaner().clean(article_html).text + "\n"
    page.write_bytes(compress(article_html.encode())[:60])  # cut short: a message, status 2
    assert main(["clean", str(page)]) == 2
    assert capsys.readouterr().err.startswith(f"noisefilter: cannot read {page}: ")


def test_closed_standard_input_is_a_message_and_exit_status_2(monkeypatch, capsys):
    """`noisefilter clean - <&-` ended in an AttributeError traceback (Python starts without
    `sys.stdin` when its descriptor is closed)."""
    monkeypatch.setattr(sys, "stdin", None)
    assert main(["clean", "-"]) == 2
    assert capsys.readouterr().err == "noisefilter: cannot read -: standard input is closed\n"


def test_bad_input_is_a_message_and_exit_status_2(tmp_path, capsys):
    page = tmp_path / "image.html"
    page.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    assert main(["clean", str(page)]) == 2
    assert capsys.readouterr().err.startswith("noisefilter: InputError: ")


def test_a_model_that_cannot_be_loaded_is_exit_status_3_not_a_bad_page(tmp_path, article_html,
                                                                        capsys):
    """A loop cleaning page by page skips a page on status 2; a broken model fails every page,
    and was status 2 as well, so the loop went through the whole crawl for nothing."""
    page = tmp_path / "page.html"
    page.write_text(article_html)
    assert main(["clean", str(page), "--model", str(tmp_path / "nowhere.joblib")]) == 3
    assert capsys.readouterr().err.startswith("noisefilter: ModelError: model file not found")


def test_text_that_is_not_utf8_is_refused_as_by_the_library(tmp_path, capsys):
    """`clean --text` takes what `clean_text` takes; it used to replace the bad bytes silently."""
    lines = tmp_path / "latin1.txt"
    lines.write_bytes("Crêpes à la carte\nLa fête du village".encode("latin-1"))
    assert main(["clean", "--text", str(lines)]) == 2
    assert "text is not UTF-8 (byte 0xea at offset 2)" in capsys.readouterr().err
    # the library names gzip data as such ("text must be str or UTF-8 bytes" said neither);
    # the command decompresses a file, as it does an HTML one; text saved as UTF-16 with its
    # byte-order mark, as Windows tools save it, is read
    packed = gzip.compress("La fête du village a lieu samedi sur la place du port.\n".encode())
    with pytest.raises(InputError, match="text is gzip-compressed: decompress it first"):
        Cleaner().clean_text(packed)
    lines.write_bytes(packed)
    assert main(["clean", "--text", str(lines)]) == 0
    assert capsys.readouterr().out == "La fête du village a lieu samedi sur la place du port.\n"
    lines.write_bytes("La fête du village a lieu samedi sur la place du port.\n".encode("utf-16"))
    assert main(["clean", "--text", "--json", str(lines)]) == 0
    assert json.loads(capsys.readouterr().out)["blocks"] is not None


def test_charset_names_what_the_bytes_are_in(tmp_path, capsys):
    """Text or a page saved with the charset its response named: `--charset` reads it as
    `clean_text(…, charset=)` and `clean(…, charset=)` do (there was no way to name it, and the
    refusal said only "give it in UTF-8"); a label no browser knows is a typo, refused."""
    text = "La fête du village a lieu samedi sur la place du port.\nCrêpes et cidre.\n"
    lines = tmp_path / "latin1.txt"
    lines.write_bytes(text.encode("latin-1"))
    assert main(["clean", "--text", str(lines)]) == 2
    assert "--charset" in capsys.readouterr().err
    assert main(["clean", "--text", "--charset", "iso-8859-1", str(lines)]) == 0
    assert capsys.readouterr().out == Cleaner().clean_text(text).text + "\n"
    page = tmp_path / "page.html"  # no declaration of its own: the header's charset wins
    body = ("<html><body><h1>Праздник в порту</h1>"
            + "<p>В субботу на площади у порта пройдёт праздник деревни.</p>" * 5).encode("koi8-r")
    page.write_bytes(body)
    assert main(["clean", "--charset", "windows-1251", str(page)]) == 0
    out = capsys.readouterr().out
    assert out == Cleaner().clean(body, charset="windows-1251").text + "\n"
    assert "Праздник" not in out and "Праздник" in Cleaner().clean(body).text  # the guess, unnamed
    with pytest.raises(SystemExit):
        main(["clean", "--charset", "latin-one", str(page)])
    assert "'latin-one' is no charset label browsers know" in capsys.readouterr().err


def test_two_files_to_clean_point_to_batch(tmp_path, capsys):
    """`noisefilter clean a.html b.html` showed the top-level usage and "unrecognized
    arguments"."""
    for argv in (["a.html", "b.html"], ["a.html", "--json", "b.html"]):
        assert main(["clean", *argv]) == 2
        assert capsys.readouterr().err == ("noisefilter: clean takes one document; noisefilter batch "
                                           "cleans many (HTML files, folders, JSON Lines, WARC files)\n")
    with pytest.raises(SystemExit):  # an unknown option is argparse's to say
        main(["clean", "a.html", "--jsn"])
    assert "unrecognized arguments: --jsn" in capsys.readouterr().err


def test_a_url_given_with_text_is_said_to_be_unused_and_the_text_cleaned(capsys):
    """`noisefilter clean FILE [--text] [--url URL]` is a form the design keeps working (a
    wrapper passing --url on every call): it was refused with status 2. Plain text has no links
    to resolve, so the URL changes nothing, and the command says so."""
    from conftest import SEED

    source = SEED / "000_aeeb56263c09fa58.txt"
    assert main(["clean", "--text", "--url", "https://news.example.org/1", str(source)]) == 0
    out, err = capsys.readouterr()
    assert out == (SEED / "000_aeeb56263c09fa58.clean.txt").read_text(encoding="utf-8")
    assert err == "noisefilter: warning: --url is not used with --text (plain text has no links to resolve)\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"noisefilter {filter.__version__}"


def test_the_command_line_starts_without_importing_the_pipeline():
    """`noisefilter --help` and `--version` took 2.4 s, importing scikit-learn and trafilatura
    before `main` ran, and Ctrl-C in those seconds printed a 44-line traceback: the pipeline is
    imported by the command that needs it, where an interrupt is one line."""
    probe = ("import sys, filter.cli; from filter import Limits, NoiseFilterError; "
             "print(sorted(m for m in ('sklearn', 'trafilatura', 'lxml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    assert out.strip() == "[]"
    # and the package still offers its submodules and every name, as when it imported them all
    probe = ("import filter; print(filter.extract.__name__, 'Cleaner' in dir(filter), "
             "filter.Cleaner.__module__)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    assert out.split() == ["filter.extract", "True", "filter.cleaner"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_interrupt_while_the_pipeline_loads_is_one_line(tmp_path, article_html):
    import signal
    import time
    from pathlib import Path

    page = tmp_path / "page.html"
    page.write_text(article_html)
    proc = subprocess.Popen([sys.executable, "-m", "filter.cli", "clean", str(page)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # inside importing the pipeline (seconds): once scikit-learn's first extension is mapped
    # (after lxml's, whose module setup swallows an interrupt). A fixed 0.8 s fell before
    # `main` on a loaded machine, where the interpreter's start took longer
    maps = Path(f"/proc/{proc.pid}/maps")
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if "/sklearn/" in maps.read_text():
                break
        except OSError:  # it ended meanwhile
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    # 130, or the signal itself: CPython 3.11 ends a process by SIGINT when a KeyboardInterrupt
    # passed out of code run by exec() or eval() (numpy, scipy and collections.namedtuple use
    # them while importing), even one caught later; a shell reports both as status 130
    assert (proc.returncode, err) in ((130, "noisefilter: interrupted\n"),
                                      (-signal.SIGINT, "noisefilter: interrupted\n"), (0, "")), err


def test_max_bytes_is_a_flag(tmp_path, article_html, capsys):
    """A page over the limit is refused by name; raising the limit cleans it."""
    page = tmp_path / "page.html"
    page.write_text(article_html, encoding="utf-8")
    size = page.stat().st_size
    assert main(["clean", str(page), "--max-bytes", str(size - 1)]) == 2
    assert capsys.readouterr().err.startswith("noisefilter: InputTooLarge: ")
    assert main(["clean", str(page), "--max-bytes", str(size)]) == 0
    assert "Harbour bridge reopens" in capsys.readouterr().out


@pytest.mark.parametrize("option, value, message", [
    ("--max-bytes", "-5", "must be a positive whole number"),
    ("--max-bytes", "0", "must be a positive whole number"),
    ("--max-bytes", "1e6", "invalid int value"),
    ("--max-bytes", str(2 ** 63 - 1), "must be at most"),  # overflowed zlib: a traceback
    ("--timeout", "nan", "must be a positive number of seconds"),
    ("--timeout", "inf", "must be a positive number of seconds"),
    ("--timeout", "0", "must be a positive number of seconds"),
    ("--timeout", "-1", "must be a positive number of seconds"),
    ("--timeout", "soon", "invalid float value"),
])
def test_a_limit_that_is_not_a_positive_number_is_refused_by_name(tmp_path, article_html, capsys,
                                                                   option, value, message):
    """A negative size used to crash with a traceback, and a NaN or infinite timeout quietly
    meant no limit: argparse now refuses them, naming the option, with exit status 2."""
    page = tmp_path / "page.html"
    page.write_text(article_html, encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["clean", str(page), option, value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {option}: {message}" in err and "Traceback" not in err


def run_cli(*args, stdout=subprocess.PIPE, env=None) -> subprocess.CompletedProcess:
    """The command as a user runs it, in a process of its own."""
    return subprocess.run([sys.executable, "-m", "filter.cli", *args], stdout=stdout,
                          stderr=subprocess.PIPE, env=env, timeout=120)


def closed_pipe() -> int:
    """The write end of a pipe whose reader has already gone, as after `| head -1` has read
    its line: every write to it fails, so the test does not depend on timing."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path, article_html, extra):
    """`noisefilter clean page.html | head -1` printed a BrokenPipeError traceback; now it exits
    as cat does in that place (status 141, as if killed by SIGPIPE) and says nothing."""
    page = tmp_path / "page.html"
    page.write_text(article_html, encoding="utf-8")
    pipe = closed_pipe()
    try:
        proc = run_cli("clean", str(page), *extra, stdout=pipe)
    finally:
        os.close(pipe)
    assert (proc.returncode, proc.stderr) == (141, b"")


def test_a_reader_that_goes_away_midway_through_a_long_text_ends_the_command_with_141(tmp_path):
    """The text went out in one write; cut short by the reader leaving, it failed silently and
    the command exited 0 with most of the page lost."""
    page = tmp_path / "long.html"
    page.write_text("<html><body><article>" + "".join(
        f"<p>Paragraph {i} of a long report on the state of the national railways, its "
        "timetables and its finances.</p>" for i in range(3000)) + "</article></body></html>")
    proc = subprocess.Popen([sys.executable, "-m", "filter.cli", "clean", str(page)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(100).startswith(b"Paragraph 0 ")
    proc.stdout.close()  # as `head -c 100` does once it has its bytes
    assert proc.wait(120) == 141 and proc.stderr.read() == b""
    proc.stderr.close()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["clean", "--text", "{seed}"], ["batch", "{jsonl}", "-o", "/dev/full"]])
def test_a_full_disk_ends_the_command_with_one_line_not_a_traceback(tmp_path, command):
    jsonl = tmp_path / "one.jsonl"
    jsonl.write_text('{"id": "1", "text": "A line of text."}\n')
    seed = tmp_path / "seed.txt"
    seed.write_text("A line of text.\nAnother line.\n")
    args = [a.format(seed=seed, jsonl=jsonl) for a in command]
    if command[0] == "batch":
        args += ["--workers", "1"]
    with open("/dev/full", "wb") as full:
        proc = run_cli(*args, stdout=full)
    assert proc.returncode == 1
    assert proc.stderr.decode() == "noisefilter: cannot write the output: No space left on device\n"


def test_a_limit_far_above_the_page_reads_only_the_page(tmp_path, article_html, capsys):
    """`fh.read(max_bytes + 1)` set the limit's bytes aside first: `--max-bytes 100000000000`
    (a generous "no limit") ended `clean` with MemoryError, on any page."""
    page = tmp_path / "page.html"
    page.write_text(article_html, encoding="utf-8")
    assert main(["clean", str(page), "--max-bytes", "100000000000"]) == 0
    assert "Harbour bridge reopens" in capsys.readouterr().out


def test_a_command_started_without_stdout_or_stderr_says_so_or_runs(tmp_path, article_html):
    """Started with `>&-` or `2>&-`, Python has None for the stream: the first print to it
    ended the command with an AttributeError traceback (status 1; `batch` before any work)."""
    page = tmp_path / "page.html"
    page.write_text(article_html, encoding="utf-8")
    proc = subprocess.run(f'"{sys.executable}" -m filter.cli clean "{page}" >&-', shell=True,
                          stderr=subprocess.PIPE, timeout=120)
    assert (proc.returncode, proc.stderr) == (
        1, b"noisefilter: cannot write the output: standard output is closed\n")
    proc = subprocess.run(f'"{sys.executable}" -m filter.cli --version >&-', shell=True,
                          stderr=subprocess.PIPE, timeout=120)  # argparse's own: to stderr
    assert (proc.returncode, proc.stderr) == (0, f"noisefilter {filter.__version__}\n".encode())
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(f'"{sys.executable}" -m filter.cli batch "{page}" -o "{out}" '
                          "--workers 1 2>&-", shell=True, timeout=120)
    assert proc.returncode == 0
    assert "Harbour bridge reopens" in json.loads(out.read_text())["text"]


def test_output_is_utf8_whatever_the_locale(tmp_path):
    """Under an ASCII locale a page's first "é" ended the command with a UnicodeEncodeError;
    the output is UTF-8 regardless, and a --url whose bytes are not UTF-8 comes out of the JSON
    as the same string instead of a crash."""
    page = tmp_path / "latin1.html"
    page.write_bytes("""<html><head><meta charset="iso-8859-1"></head><body><article>
        <h1>La fête du village à Nîmes</h1>
        <p>Les crêpes étaient délicieuses et la fête a duré jusqu'à minuit, dit le maire.</p>
        <p>Plus de mille invités sont venus de toute la région, plus que l'année passée.</p>
        </article></body></html>""".encode("latin-1"))
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"}
    proc = run_cli("clean", str(page), env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "La fête du village à Nîmes" in proc.stdout.decode("utf-8")
    proc = run_cli("clean", str(page), "--json", "--url", os.fsencode("https://x.test/\udcff"),
                   env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    result = json.loads(proc.stdout.decode("utf-8"))
    assert result["url"] == "https://x.test/\udcff" and "fête" in result["text"]


def test_a_warning_the_library_logs_reads_as_the_commands_own(tmp_path, monkeypatch, capsys):
    """A NOISEFILTER_MODELS_DIR that is no folder was printed as a bare sentence from nowhere."""
    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(tmp_path / "not-mounted"))
    page = tmp_path / "page.txt"
    page.write_text("A line of text that is an article.\n", encoding="utf-8")
    assert main(["clean", "--text", str(page)]) == 0
    assert capsys.readouterr().err == (
        f"noisefilter: warning: NOISEFILTER_MODELS_DIR is {tmp_path / 'not-mounted'}, which is "
        "not a folder: the shipped model is used\n")
    # once in a process, however often the model is looked up (promote printed it twice)
    assert main(["clean", "--text", str(page)]) == 0
    assert capsys.readouterr().err == ""


def test_a_page_that_starts_as_bzip2_does_is_still_text(tmp_path, capsys):
    """bzip2 was told by "BZh" alone, so a text file opening with that word was refused as
    damaged bzip2 data."""
    page = tmp_path / "notes.txt"
    page.write_text("BZh9 is the strongest setting of bzip2, and this line is an article.\n",
                    encoding="utf-8")
    assert main(["clean", "--text", str(page)]) == 0
    assert capsys.readouterr().out.startswith("BZh9 is the strongest setting")
    # bzip2 data on a pipe whose first write ends inside its header is still read as bzip2
    packed = tmp_path / "page.txt.bz2"
    packed.write_bytes(bz2.compress(page.read_bytes()))
    for cut in (3, 4, 7):
        proc = subprocess.run(f'(head -c {cut} "{packed}"; sleep 0.3; tail -c +{cut + 1} "{packed}") | '
                              f'"{sys.executable}" -m filter.cli clean --text -', shell=True,
                              capture_output=True, text=True, timeout=120,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        assert (proc.returncode, proc.stdout) == (0, capsys.readouterr().out or proc.stdout), proc.stderr
        assert proc.stdout.startswith("BZh9 is the strongest setting")


def test_clean_favoring_precision_prints_what_the_library_keeps_so(tmp_path, capsys):
    """`noisefilter clean --favor-precision` (and with --text) is `Cleaner(favor_precision=True)`."""
    from pathlib import Path

    page = Path(__file__).parent / "fixtures" / "crawl_site" / "harbour-ferry.html"
    precise = Cleaner(favor_precision=True)
    want = precise.clean(page.read_bytes(), url=URL)
    assert main(["clean", str(page), "--url", URL, "--favor-precision"]) == 0
    assert capsys.readouterr().out == want.text + "\n"
    assert want.text != Cleaner().clean(page.read_bytes(), url=URL).text
    text = tmp_path / "page.txt"
    text.write_text(Cleaner().clean(page.read_bytes(), url=URL).text, encoding="utf-8")
    assert main(["clean", "--text", str(text), "--favor-precision"]) == 0
    assert capsys.readouterr().out == precise.clean_text(text.read_bytes()).text + "\n"
