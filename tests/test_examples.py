"""The example format: validation with line numbers, and labels finding their blocks."""

import json
import sys

import pytest

from filter.blocks import Block, Page
from retrain_site import example, make_page
from train.examples import (
    BlockLabel, Example, Problem, attach_labels, label_page, parse_example, parse_lines,
    read_examples, write_examples,
)


def _line(**obj) -> str:
    return json.dumps(obj)


GOOD = {"id": "p1", "text": "Title\nBody", "blocks": [{"text": "Title", "label": "content"}]}


def test_valid_example_round_trips_through_a_file(tmp_path):
    ex = example(0, 1)
    ex["blocks"][0].update(labelled_by="alice", reviewed=True)
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(ex) + "\n", encoding="utf-8")
    found = read_examples([path])
    assert found.problems == []
    [got] = found.examples
    assert (got.id, got.url, got.where) == ("s0-p1", ex["url"], f"{path}:1")
    assert got.blocks[0].labelled_by == "alice" and got.blocks[0].reviewed is True
    write_examples(found.examples, tmp_path / "b.jsonl")
    assert json.loads((tmp_path / "b.jsonl").read_text()) == ex


def test_malformed_lines_are_reported_with_their_line_numbers():
    lines = [
        _line(**GOOD),
        "",
        "{not json",
        "[1, 2]",
        _line(text="x", blocks=[]),
        _line(id="both", html="<p>x</p>", text="x", blocks=[]),
        _line(id="none", blocks=[]),
        _line(id="nolist", text="x", blocks="content"),
        _line(**{**GOOD, "text": "again"}),
        _line(**{**GOOD, "id": "badurl", "url": "http://[::1/page"}),
        '{"id": "big", "seq": ' + "9" * 5_000 + "}",  # over Python's 4,300 digits: a traceback
    ]
    found = parse_lines(lines, "f.jsonl")
    assert [e.id for e in found.examples] == ["p1"]
    where = {p.where: p.message for p in found.problems}
    assert set(where) == {f"f.jsonl:{n}" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11)}
    assert "not valid JSON" in where["f.jsonl:3"]
    assert "JSON object" in where["f.jsonl:4"]
    assert "'id'" in where["f.jsonl:5"]
    assert "not both" in where["f.jsonl:6"]
    assert "one of 'html' or 'text'" in where["f.jsonl:7"]
    assert "'blocks'" in where["f.jsonl:8"]
    assert "already given at f.jsonl:1" in where["f.jsonl:9"]
    assert "not a valid URL" in where["f.jsonl:10"]
    assert "not valid JSON" in where["f.jsonl:11"]


def test_a_line_cut_short_is_said_to_end_there_not_at_column_1():
    """Read with its line break, a cut line's error was at "column 1" (of a second line)."""
    line = '{"id": "cut", "text": "a page"'
    (problem,) = parse_lines([line + "\n"], "f.jsonl").problems
    assert f"delimiter at column {len(line) + 1})" in problem.message


def test_bad_blocks_and_unknown_labels_are_reported_not_dropped_silently():
    line = _line(id="p", text="a\nb\nc\nd", blocks=[
        {"text": "a", "label": "content"},
        {"text": "b", "label": "Junk!"},
        {"text": "c", "label": "commment"},
        {"label": "junk"},
        {"text": "d", "label": "junk", "reviewed": "yes"},
    ])
    found = parse_lines([line], "f.jsonl", allowed_labels={"content", "junk"})
    [ex] = found.examples
    assert [b.text for b in ex.blocks] == ["a"]
    messages = [str(p) for p in found.problems]
    assert len(messages) == 4 and all(m.startswith("f.jsonl:1: block ") for m in messages)
    assert "unknown label 'commment'" in messages[1]
    # without a declared label set any well-formed label is accepted
    assert {b.label for b in parse_lines([line], "f").examples[0].blocks} == {"content", "commment"}


def _page(*texts: str) -> Page:
    return Page(blocks=[Block(text=t) for t in texts])


def test_labels_attach_by_normalised_text_and_occurrence():
    page = _page("Share", "The  ARTICLE body.", "Share", "Share")
    labels = [BlockLabel("share", "junk"), BlockLabel("the article body.", "content"),
              BlockLabel("SHARE", "junk")]
    att = attach_labels(page, labels)
    # the third "Share" was labelled only twice, with one label: it takes that label
    assert att.labels == ["junk", "content", "junk", "junk"]
    assert att.unmatched == [] and att.unlabelled == []
    # copies of one text labelled differently take their labels in order of occurrence
    att = attach_labels(_page("Share", "The  ARTICLE body.", "Share"),
                        [BlockLabel("share", "junk"), BlockLabel("the article body.", "content"),
                         BlockLabel("SHARE", "teaser")])
    assert att.labels == ["junk", "content", "teaser"]


def test_labels_survive_a_change_of_segmentation():
    para = "The river festival came back on Saturday. Organisers counted eleven teams."
    split = _page("The river festival came back on Saturday.", "Organisers counted eleven teams.")
    assert attach_labels(split, [BlockLabel(para, "content")]).labels == ["content", "content"]
    merged = _page("Share this | Sign up now")
    att = attach_labels(merged, [BlockLabel("Share this", "junk"), BlockLabel("Sign up now", "junk")])
    assert att.labels == ["junk"] and att.unmatched == []
    clash = attach_labels(merged, [BlockLabel("Share this", "junk"), BlockLabel("Sign up now", "teaser")])
    assert clash.labels == [None] and clash.conflicts == [0]


def test_a_persons_label_is_not_replaced_by_a_proposal_saved_for_a_copy_or_a_piece_of_it():
    """The labelling page saves the model's proposals (unreviewed) for the blocks it shows
    without a stored label: the second copy of a text a person labelled once, the lines of a
    paragraph a person labelled whole. Matched exactly, those proposals took the blocks from
    the person's labels; they only label what no person's label reaches."""
    ad = "Advertisement"
    page = _page(ad, "The ferry runs again from Monday.", ad)
    att = attach_labels(page, [BlockLabel(ad, "junk"),
                               BlockLabel("The ferry runs again from Monday.", "content",
                                          reviewed=False),
                               BlockLabel(ad, "content", reviewed=False)])
    assert att.labels == ["junk", "content", "junk"]
    assert att.unmatched == [] and att.conflicts == []
    para = "Read more: tolls frozen for a year. Read more: the bridge at night."
    lines = ["Read more: tolls frozen for a year.", "Read more: the bridge at night."]
    att = attach_labels(_page(*lines, "Unlabelled."), [
        BlockLabel(para, "related", reviewed=True),
        *(BlockLabel(line, "content", reviewed=False) for line in lines),
        BlockLabel("Nowhere on the page.", "junk", reviewed=False)])
    assert att.labels == ["related", "related", None]
    assert att.unmatched == [3]  # a proposal for no block at all is still reported
    # a proposal that found its block lends its label to no longer block holding its text
    head = "Harbour regatta returns"
    att = attach_labels(_page(head, head + " in June", head),
                        [BlockLabel(head, "content"), BlockLabel(head, "teaser", reviewed=False)])
    assert att.labels == ["content", None, "content"] and att.unmatched == []
    # lines now merged into one block: labelled by all of them, the person's label deciding
    lines = ["Police closed the bridge on Monday.", "Traffic goes by the ring road.",
             "Buses keep their timetable."]
    merged = _page(" ".join(lines))
    for labels, want in ((("junk", "content", "content"), "junk"),
                         (("content", "content", None), "content")):
        # the first line's label is a person's, the others are the model's proposals
        given = [BlockLabel(line, lab, reviewed=n == 0)
                 for n, (line, lab) in enumerate(zip(lines, labels)) if lab]
        att = attach_labels(merged, given)
        assert (att.labels, att.unmatched, att.conflicts) == ([want], [], [])
    # people's labels that disagree, fewer than the copies: a proposal labels the copy after
    # them (it was set aside, and that copy left out of training)
    att = attach_labels(_page(ad, ad, "The ferry runs again from Monday.", ad),
                        [BlockLabel(ad, "junk"), BlockLabel(ad, "teaser"),
                         BlockLabel(ad, "junk", reviewed=False)])
    assert (att.labels, att.unmatched, att.conflicts) == (["junk", "teaser", None, "junk"], [], [])
    # each copy after the people's labels gets its own proposal, in order: they began at the
    # third proposal (the copies a person labelled were counted), and the last copies got none
    att = attach_labels(_page(*[ad] * 6), [BlockLabel(ad, "content"), BlockLabel(ad, "junk"),
                                           *(BlockLabel(ad, lab, reviewed=False)
                                             for lab in ("content", "junk", "teaser", "related"))])
    assert att.labels == ["content", "junk", "content", "junk", "teaser", "related"]
    assert att.origins == [0, 1, 2, 3, 4, 5] and att.unmatched == []
    # where people's labels disagree, a proposal does not decide
    sub = "Subscribe to our weekly newsletter today"
    att = attach_labels(_page(sub), [BlockLabel(sub, "junk"), BlockLabel(sub, "content"),
                                     BlockLabel(sub + " and win", "related", reviewed=False)])
    assert (att.labels, att.conflicts) == ([None], [0])


def test_a_reopened_page_of_proposals_keeps_a_persons_paragraph_label_within_the_budget():
    """The service's budget counted every block not yet labelled when people's labels were
    matched, proposals' blocks too: a page of 1,500 proposals with ten reviewed paragraphs now
    split went over it, the split pass was left out, and the proposals saved for the lines
    won over the person's label."""
    blocks, labels = [], []
    for k in range(1_500):
        line = f"Reader comment {k} says the harbour project is late again"
        blocks.append(line)
        labels.append(BlockLabel(line, "junk", reviewed=False))
    halves = [f"Paragraph {k} half {h} about the ferry, its winter repairs and the pier " * 5
              for k in range(10) for h in (1, 2)]
    for first, second in zip(halves[::2], halves[1::2]):
        blocks += [first.strip(), second.strip()]
        labels += [BlockLabel(first.strip(), "junk", reviewed=False),
                   BlockLabel(second.strip(), "junk", reviewed=False),
                   BlockLabel(f"{first.strip()} {second.strip()}", "content")]
    from api.examples import MAX_MATCHING_WORK

    att = attach_labels(_page(*blocks), labels, max_work=MAX_MATCHING_WORK)
    assert att.labels[1_500:] == ["content"] * 20 and att.unmatched == []


def test_a_caller_that_must_answer_in_time_matches_by_exact_text_past_a_budget():
    """`max_work` (the service's lookup) leaves out the split and merge passes where they
    would search more characters (blocks left x length of the labelled texts left)."""
    para = "The river festival came back on Saturday. Organisers counted eleven teams."
    split = _page("The river festival came back on Saturday.", "Organisers counted eleven teams.",
                  "Share this")
    labels = [BlockLabel(para, "content"), BlockLabel("Share this", "junk")]
    assert attach_labels(split, labels).labels == ["content", "content", "junk"]
    work = 2 * (len(para) + 1)  # two blocks left, one labelled text left
    assert attach_labels(split, labels, max_work=work - 1).labels == [None, None, "junk"]
    assert attach_labels(split, labels, max_work=work).labels == ["content", "content", "junk"]


def test_a_text_example_is_the_page_clean_text_classifies():
    """A text example's blocks are `clean_text`'s: control characters and a byte-order mark
    dropped (labels saved from the labelling page, which shows `clean_text`'s blocks, matched
    no block), no URL (the labelling page keeps one with a text example, and the model read
    URL features that `clean_text`, which has no URL, never gives it), and an HTML document
    given as text refused, not trained on as lines of markup."""
    from filter import clean_text

    text = "\ufeffTram line\x08 opens in May\nMayor\x01s budget faces a vote\nShare this"
    shown = [b.text for b in clean_text(text).blocks]
    ex = Example(id="t", text=text, url="https://news.example/tram", origin="f.jsonl", line=1,
                 blocks=[BlockLabel(t, lab) for t, lab in zip(shown, ("content", "related", "junk"))])
    lp, problems = label_page(ex)
    assert problems == [] and lp.labels == ["content", "related", "junk"]
    assert [b.text for b in lp.page.blocks] == shown and lp.page.url is None
    assert ex.site == "news.example"
    html = Example(id="h", text="<!doctype html><html><body><p>Hi</p></body></html>",
                   origin="f.jsonl", line=2, blocks=[BlockLabel("Hi", "content")])
    lp, problems = label_page(html)
    assert lp is None and "HTML document" in str(problems[0])


def test_labels_copied_from_a_browser_find_blocks_with_soft_hyphens_and_zero_width_spaces():
    """German pages put &shy; inside long words; a browser drops it (and zero-width spaces)
    from copied text, so a label written from what the page shows must still find its block."""
    page = _page("Die Hafen\u00adbehörde teilte mit, dass die Brücke öffnet.", "Mehr\u200b lesen")
    att = attach_labels(page, [BlockLabel("Die Hafenbehörde teilte mit, dass die Brücke öffnet.", "content"),
                               BlockLabel("Mehr lesen", "junk")])
    assert att.labels == ["content", "junk"] and att.unmatched == []


def test_a_block_given_two_different_labels_is_a_conflict_not_an_unmatched_label():
    """Labelled "content" and, later in the file or store, "junk": which one is meant cannot
    be known, so the block is left out and reported as given different labels."""
    ex = Example(id="c", text="First line\nSecond line", origin="f.jsonl", line=3,
                 blocks=[BlockLabel("First line", "content"), BlockLabel("Second line", "content"),
                         BlockLabel("first line", "junk")])
    lp, problems = label_page(ex)
    assert lp.labels == ["content"] and lp.kept == [1]
    assert [str(p) for p in problems] == [
        "f.jsonl:3: block 'First line' is given different labels; left out",
        "f.jsonl:3: 1 of 2 blocks have no label; left out of training and scoring"]
    # the same label twice is no conflict
    again = attach_labels(_page("First line"), [BlockLabel("First line", "junk"), BlockLabel("first  line", "junk")])
    assert again.labels == ["junk"] and again.unmatched == [] and again.conflicts == []


def test_blocks_left_without_their_unreviewed_labels_are_said_to_have_had_them(tmp_path):
    """Under --reviewed-only, a page of bootstrap's proposals and one label a person checked
    said "32 of 33 blocks have no label": they had labels, not reviewed ones."""
    from train.store import examples_from
    src = tmp_path / "f.jsonl"
    src.write_text(json.dumps({"id": "r", "text": "Harbour walks reopen\nSign up today\nMost read",
                               "blocks": [{"text": "Harbour walks reopen", "label": "content"},
                                          {"text": "Sign up today", "label": "junk", "reviewed": False},
                                          {"text": "Most read", "label": "teaser", "reviewed": False}]}) + "\n",
                   encoding="utf-8")
    [ex] = examples_from([src], None, reviewed_only=True).examples
    problems = label_page(ex)[1]
    assert [str(p) for p in problems] == [f"{src}:1: 2 of 3 blocks have no label (2 unreviewed labels "
                                          "left out: --reviewed-only); left out of training and scoring"]


def test_unmatched_labels_and_unlabelled_blocks_are_reported():
    ex = Example(id="x", text="kept line\nunlabelled line", origin="f.jsonl", line=7,
                 blocks=[BlockLabel("kept line", "content"), BlockLabel("gone line", "junk")])
    lp, problems = label_page(ex)
    assert lp.labels == ["content"] and lp.left_out == 1 and lp.kept == [0]
    assert len(lp.full_page.blocks) == 2
    text = " / ".join(str(p) for p in problems)
    assert "f.jsonl:7: label 'junk' matches no block: 'gone line'" in text
    assert "1 of 2 blocks have no label" in text
    assert lp.gold() is None  # a partly labelled page has no complete gold text


def test_html_example_labels_meet_the_cleaners_blocks():
    url, html, blocks = make_page(1, 3, comments=True)
    ex = Example(id="h", html=html, url=url, blocks=[BlockLabel(t, lab) for t, lab in blocks])
    lp, problems = label_page(ex)
    assert problems == [] and lp.left_out == 0
    assert lp.labels == [lab for _, lab in blocks]
    assert lp.gold() == "\n".join(t for t, lab in blocks if lab == "content")
    assert lp.example.site == "news1.example"


def test_pages_of_one_site_share_a_cross_validation_group():
    """Two blogs on one host's subdomains share their template: cross-validation must not put
    one in training and the other in the test fold."""
    sites = [Example(id=str(i), text="x", url=url, blocks=[]).site for i, url in enumerate((
        "https://harbour.substack.com/p/ferry", "https://kayaks.substack.com/p/a",
        "https://www.news.bbc.co.uk/x", "https://itv.co.uk/y", "http://10.0.0.5/p", None))]
    assert sites[:4] == ["substack.com", "substack.com", "bbc.co.uk", "itv.co.uk"]
    assert sites[4:] == ["10.0.0.5", "id:5"]


def test_text_trafilatura_drops_is_reported_as_unmatched():
    url, html, blocks = make_page(2, 0)
    # outside the article's container: neither trafilatura nor the completion stage keeps it
    html = html.replace("<body>", "<body><nav><h3>More on this story</h3></nav>")
    ex = Example(id="d", html=html, url=url,
                 blocks=[BlockLabel(t, lab) for t, lab in blocks] + [BlockLabel("More on this story", "related")])
    lp, problems = label_page(ex)
    assert [str(p) for p in problems] == ["example 'd': label 'related' matches no block: 'More on this story'"]


def test_a_text_example_over_the_size_limit_is_skipped_as_html_is():
    """HTML over the limit was skipped with a message; text over it (a 12 MB export) was
    segmented and trained on, for minutes and gigabytes, though `clean_text` refuses it."""
    line = "The harbour ferry runs twice a day from the old pier.\n"
    ex = Example(id="big", text=line * 200, blocks=[BlockLabel(line.strip(), "content")])
    lp, problems = label_page(ex, max_bytes=1_000)
    assert lp is None and [str(p) for p in problems] == [
        f"example 'big': page could not be segmented: text is {len(line) * 200:,} characters, "
        "over the limit of 1,000 bytes; page skipped"]
    assert label_page(ex, max_bytes=100_000)[0] is not None


def test_a_line_that_is_not_utf8_is_reported_and_the_others_are_read(tmp_path):
    """One mis-encoded line (a windows-1252 quote, say) costs that line, not the whole file."""
    path = tmp_path / "mixed.jsonl"
    latin = b'{"id": "a", "text": "caf\x92 society", "blocks": [{"text": "caf society", "label": "content"}]}'
    path.write_bytes(b"\n".join([latin, _line(**GOOD).encode()]) + b"\n")
    found = read_examples([path])
    assert [e.id for e in found.examples] == ["p1"]
    assert [str(p) for p in found.problems] == \
        [f"{path}:1: not UTF-8 (byte 0x92 at byte 25 of the line); line skipped"]


def test_a_byte_order_mark_does_not_cost_the_first_page(tmp_path):
    """Nor, two files joined by `cat`, the first page of the second."""
    path = tmp_path / "bom.jsonl"
    second = {**GOOD, "id": "p2"}
    path.write_bytes(b"\xef\xbb\xbf" + _line(**GOOD).encode() + b"\n"
                     + b"\xef\xbb\xbf" + _line(**second).encode() + b"\n")
    found = read_examples([path])
    assert found.problems == [] and [e.id for e in found.examples] == ["p1", "p2"]


@pytest.mark.parametrize("suffix", ["gz", "bz2", "xz", "zst"])
def test_a_compressed_example_file_is_read_and_a_damaged_end_costs_only_the_rest(tmp_path, suffix):
    """`pages.jsonl.gz`, as `noisefilter batch` reads it (and bzip2, xz, zstd): read, not one
    "not UTF-8" warning per line of compressed bytes; cut short (a download under way), the
    pages before the damage count (none where it is in the first block, as bzip2 and zstd
    compress this one), said once; in UTF-16 inside, said once too."""
    import bz2
    import gzip
    import lzma

    from filter.decoding import zstd_module

    compress = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress,
                "zst": zstd_module().compress}[suffix]
    text = "".join(_line(**{**GOOD, "id": f"p{k}"}) + "\n" for k in range(300))
    path = tmp_path / f"pages.jsonl.{suffix}"
    path.write_bytes(compress(text.encode()))
    found = read_examples([path])
    assert found.problems == [] and [e.id for e in found.examples] == [f"p{k}" for k in range(300)]
    assert found.examples[7].where == f"{path}:8"

    cut = tmp_path / f"cut.jsonl.{suffix}"
    cut.write_bytes(path.read_bytes()[:-40])
    found = read_examples([cut])
    assert len(found.examples) < 300 or suffix == "xz"  # xz: the index after the data is cut
    [problem] = found.problems
    assert problem.where == f"{cut}:{len(found.examples) + 1}" and problem.loses_page
    assert problem.message.startswith("cannot be read on (") and "the rest of the file's" in problem.message

    path.write_bytes(compress(text.encode("utf-16")))
    assert [str(p) for p in read_examples([path]).problems] == [
        f"{path}: is UTF-16 text (it starts with a byte-order mark); save it as UTF-8: its pages skipped"]


def test_an_example_file_in_utf16_is_one_problem_not_one_per_line(tmp_path):
    """PowerShell's `>` writes UTF-16: said once, by name, instead of a "not UTF-8" or "not
    valid JSON" warning for every line."""
    path = tmp_path / "labels.jsonl"
    path.write_bytes("".join(_line(**{**GOOD, "id": f"p{k}"}) + "\r\n" for k in range(50)).encode("utf-16"))
    found = read_examples([path])
    assert found.examples == []
    assert [str(p) for p in found.problems] == [
        f"{path}: is UTF-16 text (it starts with a byte-order mark); save it as UTF-8: its pages skipped"]
    assert found.problems[0].loses_page


def test_an_example_file_of_binary_data_is_one_problem_not_one_per_line(tmp_path):
    """200 KB of binary data given as `--examples` gave 795 warnings, one per "line"."""
    import random

    path = tmp_path / "model.bin"
    path.write_bytes(b"\0" + random.Random(3).randbytes(200_000))
    found = read_examples([path])
    assert found.examples == [] and [str(p) for p in found.problems] == [
        f"{path}: is binary data, not JSON Lines (a model, an image, an archive?): its pages skipped"]


@pytest.mark.parametrize("write, what", [
    (lambda rows: json.dumps(rows, indent=2), "is one JSON array, not JSON Lines"),
    (lambda rows: json.dumps(rows[0], indent=2), "is pretty-printed JSON"),
    (lambda rows: "<!doctype html>\n<html><body>\n<p>Harbour walks reopen.</p>\n</body></html>\n",
     "is HTML or XML, not JSON Lines"),
])
def test_a_file_that_is_no_json_lines_is_one_problem_not_one_per_line(tmp_path, write, what):
    """`noisefilter train --examples page.html` (or an indented JSON file) printed a "not valid
    JSON" warning for each of its hundreds of lines; a bad line among good ones still costs
    that line alone."""
    rows = [{**GOOD, "id": f"p{k}"} for k in range(3)]
    path = tmp_path / "labels.json"
    path.write_text(write(rows), encoding="utf-8")
    found = read_examples([path])
    assert found.examples == [] and len(found.problems) == 1
    assert str(found.problems[0]).startswith(f"{path}: {what}") and found.problems[0].loses_page
    path.write_text("".join(_line(**row) + "\n" for row in rows) + "{\n<p>\n", encoding="utf-8")
    found = read_examples([path])
    assert len(found.examples) == 3 and [p.where for p in found.problems] == [f"{path}:4", f"{path}:5"]
    path.write_text("<<<<<<< HEAD\n" + "".join(_line(**row) + "\n" for row in rows), encoding="utf-8")
    found = read_examples([path])  # a merge's conflict marker first: that line alone is lost
    assert len(found.examples) == 3 and [p.where for p in found.problems] == [f"{path}:1"]


def test_a_page_with_no_block_to_keep_has_no_gold_text():
    """Word F1 against an empty gold text would score every page the model keeps words of 0."""
    ex = Example(id="x", text="Share this\nSign up now",
                 blocks=[BlockLabel("Share this", "junk"), BlockLabel("Sign up now", "junk")])
    lp, problems = label_page(ex)
    assert problems == [] and lp.left_out == 0
    assert lp.gold() is None


def test_provenance_the_service_would_refuse_is_dropped_and_the_label_kept():
    """The labelling page sends a page's stored labels back with every save, and the service
    takes an ISO 8601 `labelled_at` and at most 200 characters of `labelled_by`: a label read
    from a file with anything else made its page unsavable there. A time that names UTC with a
    word is written in ISO 8601; anything else is dropped, said with the file and line, and the
    label kept (training never reads it: leaving the block out lost a third of a file's labels
    written with HTTP dates)."""
    blocks = [{"text": "a", "label": "content", "labelled_at": "2026-05-01 10:00:00 UTC"},
              {"text": "b", "label": "junk", "labelled_at": "2026-05-01T10:00:00+02:00"},
              {"text": "c", "label": "junk", "labelled_at": "Fri, 01 May 2026 10:00:00 GMT"},
              {"text": "d", "label": "junk", "labelled_by": "x" * 201},
              {"text": "e", "label": "junk", "labelled_by": "y" * 200, "labelled_at": ""},
              {"text": "f", "label": "junk", "labelled_at": 1764583200, "labelled_by": 42}]
    found = parse_lines([_line(**GOOD), _line(id="p2", text="a\nb\nc\nd\ne\nf", blocks=blocks)], "f.jsonl")
    [_, ex] = found.examples
    assert [(b.text, b.label, b.labelled_at) for b in ex.blocks] == [
        ("a", "content", "2026-05-01T10:00:00+00:00"), ("b", "junk", "2026-05-01T10:00:00+02:00"),
        ("c", "junk", None), ("d", "junk", None), ("e", "junk", None), ("f", "junk", None)]
    assert [b.labelled_by for b in ex.blocks] == [None, None, None, None, "y" * 200, None]
    assert [str(p) for p in found.problems] == [
        "f.jsonl:2: block 2: 'labelled_at' \"Fri, 01 May 2026 10:00:00 GMT\" is not a time in "
        "ISO 8601 (such as 2026-12-01T10:00:00+00:00); ignored",
        "f.jsonl:2: block 3: 'labelled_by' is over 200 characters; ignored",
        "f.jsonl:2: block 5: 'labelled_by' must be a string, not int; ignored; 'labelled_at' must "
        "be a string, not int; ignored"]


def test_a_zstd_example_file_without_a_zstd_module_is_one_problem(tmp_path, monkeypatch):
    """An install without a zstd module (Python below 3.14, backports.zstd missing): training
    on a .jsonl.zst ended in a traceback; it is one problem naming what is missing."""
    zstd = pytest.importorskip("backports.zstd")
    path = tmp_path / "ex.jsonl.zst"
    path.write_bytes(zstd.compress(b'{"id": "a", "text": "x", "blocks": []}\n'))
    import backports

    monkeypatch.delattr(backports, "zstd")
    monkeypatch.setitem(sys.modules, "backports.zstd", None)
    monkeypatch.setitem(sys.modules, "compression", None)
    found = read_examples([path])
    assert [(p.where, "backports.zstd package" in p.message) for p in found.problems] == [
        (str(path), True)]


def test_a_piece_of_a_labelled_paragraph_is_matched_only_at_word_boundaries_and_12_characters():
    """A block is one piece of a labelled paragraph (segmentation changed) when it holds whole
    words of it, 12 characters or more: "walk" of "walkers", "arbour" of "harbour" or a short
    "old pier" took the paragraph's label."""
    para = ("The harbour board said the old pier, closed since the winter storms, will reopen to "
            "walkers on Monday after repairs to its deck.")
    page = Page(blocks=[Block(text=t) for t in ("reopen to walk", "arbour board said", "old pier",
                                                  para[:60])])
    attached = attach_labels(page, [BlockLabel(para, "content")])
    assert attached.labels[:3] == [None, None, None] and attached.unlabelled == [0, 1, 2]


def test_noncontent_passes_a_label_list():
    """`noncontent` (not content, kind unknown) is always allowed: `train --labels` dropped it."""
    ex, problems = parse_example({"id": "p", "text": "a\nb", "blocks": [
        {"text": "a", "label": "content"}, {"text": "b", "label": "noncontent"}]},
        allowed_labels={"content", "junk"})
    assert [b.label for b in ex.blocks] == ["content", "noncontent"] and problems == []


def test_a_skipped_page_is_a_problem_that_loses_a_page():
    """Shown before the first 20 block warnings, whatever their number."""
    assert Problem("f:1", "page could not be segmented: bad; page skipped").loses_page
    assert Problem("f:1", "no labelled block left; page skipped").loses_page
    assert not Problem("f:1", "block 0: has no text; left out").loses_page



def test_a_label_saved_for_a_block_of_several_lines_finds_its_block():
    """The result (and so the labelling page) shows a `<br>` paragraph on its lines, while the
    model reads it on one: a label saved with the lines must label that block, or a person's
    correction of such a block would be lost from training."""
    from filter import clean
    from filter.extract import html_to_page

    body = "".join(f"<p>The harbour bridge reopened on Saturday after two years of work {k}.</p>"
                   for k in range(4))
    html = (f"<html><body><article><h1>Bridge reopens</h1>{body}"
            "<p>Harbour Office<br>1 Quay Street<br>Open 9 to 5</p></article></body></html>")
    [shown] = [b.text for b in clean(html).blocks if "\n" in b.text]
    assert shown == "Harbour Office\n1 Quay Street\nOpen 9 to 5"
    page = html_to_page(html)
    attached = attach_labels(page, [BlockLabel(shown, "junk")])
    assert [b.text for b, label in zip(page.blocks, attached.labels) if label == "junk"] == [
        "Harbour Office 1 Quay Street Open 9 to 5"]
    assert attached.unmatched == []


def test_each_file_read_is_hashed_as_read_compressed_skipped_or_named_twice(tmp_path):
    """The sha256 a manifest records of an example file is of the bytes read: a compressed
    file's own bytes, a file skipped as binary whole, one file named twice once, a pipe none."""
    import gzip
    import hashlib
    import os

    plain, packed, binary = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz", tmp_path / "c.jsonl"
    plain.write_text(_line(**GOOD) + "\n", encoding="utf-8")
    packed.write_bytes(gzip.compress((_line(**{**GOOD, "id": "p2"}) + "\n").encode()))
    binary.write_bytes(b"\0\1\2" * 5000)
    twice = tmp_path / "link.jsonl"
    twice.symlink_to(plain)
    found = read_examples([plain, packed, binary, twice])
    assert [e.id for e in found.examples] == ["p1", "p2"]
    assert found.file_hashes == {
        **{str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in (plain, packed, binary)},
        str(twice): hashlib.sha256(plain.read_bytes()).hexdigest()}
    assert "is named twice" in str(found.problems[-1])
    read, write = os.pipe()
    os.write(write, (_line(**GOOD) + "\n").encode())
    os.close(write)
    assert read_examples([f"/dev/fd/{read}"]).file_hashes == {f"/dev/fd/{read}": None}
    os.close(read)


def test_provenance_names_are_trimmed_and_a_blank_one_is_not_stated():
    """A file's `labelled_by` or `source` of only spaces was kept as a name (the store then
    credited "   " with the label, not the import); names lose the spaces around them."""
    obj = {**GOOD, "source": "  ", "blocks": [{"text": "Title", "label": "content",
                                               "labelled_by": "   ", "source": " crawl "}]}
    ex, problems = parse_example(obj)
    assert problems == [] and ex.source is None
    assert (ex.blocks[0].labelled_by, ex.blocks[0].source) == (None, "crawl")
