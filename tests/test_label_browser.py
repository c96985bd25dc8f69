"""The labelling page end to end in real headless Chromium, against `noisefilter label` running
as users run it (uvicorn on 127.0.0.1, the shipped model, an example store in a temp folder).

What a person does is what the test does: paste a page, correct labels with the keyboard and the
mouse, save, export; the example is then looked up through the API, not through the page, so a
page that only *shows* a save would fail. A hostile page (text holding ``<script>`` and
``<img onerror>``) is rendered with the Content-Security-Policy switched off, so the test checks
that the script itself never turns page text into markup; a separate test checks that the policy
the server sends is in force. The model will be retrained, so the tests never assume which label
it gives a block: they compare the page with what the API says for the same input.

Debian's `chromium` is driven by Playwright's Python package through `executable_path`; nothing
is downloaded. Without either of them the module is skipped, saying which is missing.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from test_label_page import LabelServer
from train.examples import parse_example

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("the playwright package is not installed (pip install playwright)",
                allow_module_level=True)

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("Debian's chromium is not installed at /usr/bin/chromium "
                "(apt-get install chromium)", allow_module_level=True)

#: a host name for 127.0.0.1, as a LAN name would be: plain http to it is no secure context, so
#: the page has no crypto.subtle there (localhost and 127.0.0.1 are secure contexts)
LAN_HOST = "labelling-box.test"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run",
                 f"--host-resolver-rules=MAP {LAN_HOST} 127.0.0.1"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
WAIT_MS = 15_000

PAGE_URL = "https://harbour-post.example/2026/05/night-ferry-returns"
FERRY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Night ferry to the islands returns for the summer | Harbour Post</title>
</head><body>
<header><a href="/">Harbour Post</a> <a href="/local">Local</a> <a href="/travel">Travel</a></header>
<article>
<h1>Night ferry to the islands returns for the summer</h1>
<p>By Marta Lind</p>
<p>The night ferry between the mainland port and the outer islands will sail again from the first
week of June, the regional transport authority said on Thursday, after a two-year pause.</p>
<p>The crossing leaves the mainland at eleven in the evening and reaches the last island shortly
before dawn, calling at four smaller harbours on the way. Cabins can be booked from next month.</p>
<p>Island councils had asked for the service to return because day ferries are full in summer and
many seasonal workers cannot find a place on them.</p>
<p>Read more: Island councils ask for a second summer ferry</p>
<p>Most read: Fishing boat rescued off the northern cape</p>
<p>Sign up for our newsletter to get the news in your inbox.</p>
<p>Share this article on Facebook · Share on X · Copy link</p>
</article>
<footer><p>© 2026 Harbour Post. All rights reserved.</p></footer>
</body></html>
"""
#: the right labels (LABELS.md) of the blocks the test corrects, by their text
CORRECTIONS = {
    "Read more: Island councils ask for a second summer ferry": "related",
    "Most read: Fishing boat rescued off the northern cape": "teaser",
    "Sign up for our newsletter to get the news in your inbox.": "junk",
    "Share this article on Facebook · Share on X · Copy link": "junk",
}
KEYS = {"content": "1", "related": "2", "teaser": "3", "junk": "4"}
API_KEY = "label-page-key-5"

#: an old page in windows-1252, as many archived news pages are
CAFE_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
<title>Café in Malmö reopens</title></head><body><article>
<h1>Café in Malmö reopens after the flood</h1>
<p>The café by the harbour in Malmö reopened on Saturday, three months after the flood filled
its cellar with water; the owners, Zoë and André Müller, thanked their regulars.</p>
<p>The new menu keeps the crème brûlée that made the café known, at 45 kronor – “a price we
promised to keep”, the owners said.</p>
</article></body></html>
"""

# every way into markup a scraped page could try: a real <script> element (never rendered, the
# page is only text to the labelling page) and text that *looks* like markup in the blocks
HOSTILE_PAGE = """<html><head><title>Hostile</title>
<script>window.__pwned = "head script"; alert("head script")</script></head><body><article>
<h1>Council &lt;script&gt;window.__pwned = "title"; alert("title")&lt;/script&gt; meeting postponed</h1>
<p>The council meeting about the new library was postponed on Monday
&lt;script&gt;window.__pwned = 1; alert("script")&lt;/script&gt; after the mayor fell ill.</p>
<p>A new date will be announced next week &lt;img src=x onerror="window.__pwned = 2; alert('img')"&gt;
once the agenda has been agreed with all the parties on the council.</p>
<p>Residents can send written questions &lt;svg onload="window.__pwned = 3"&gt;&lt;/svg&gt; to the
council office until the end of the month, a spokesman said.</p>
</article></body></html>
"""
HOSTILE_TEXT = ("Council meeting postponed after the mayor fell ill\n"
                "<script>window.__pwned = 4; alert('text script')</script>\n"
                "<img src=x onerror=\"window.__pwned = 5; alert('text img')\">\n"
                "<iframe srcdoc=\"<script>parent.__pwned = 6</script>\"></iframe>\n")
#: elements that page text would create if it were ever parsed as markup
MARKUP = "main script, main img, main svg, main iframe, main object, main embed"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module (starting one takes seconds). It has an API key, as a shared
    service would: the tests enter it in the page, and one checks what happens before that."""
    server = LabelServer(tmp_path_factory.mktemp("label-browser"), "--no-browser",
                         env={"NOISEFILTER_API_KEY": API_KEY})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page with what must not happen on it recorded: dialogs (dismissed, or accepted once
    `accept_dialogs` is set), uncaught script errors, every request it makes and every response
    that failed (4xx/5xx, such as a browser's own request for a missing icon)."""

    def __init__(self, context):
        self.page = context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.accept_dialogs = False
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.page.on("response", lambda res: res.status >= 400 and self.failed.append(f"{res.status} {res.url}"))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        if self.accept_dialogs:
            dialog.accept()
        else:
            dialog.dismiss()


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield Watched(context)
    context.close()


@pytest.fixture
def watched_without_csp(browser):
    """The hostile-page test runs with the server's policy ignored, so that it fails if the
    page's own script ever parses page text as markup."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield Watched(context)
    context.close()


def api(server, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        urllib.parse.urljoin(server.url, path), method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-API-Key": API_KEY, **({"Content-Type": "application/json"} if body else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def stored_examples(server):
    """Every stored example, page by page (the export test stores more than one page)."""
    offset = 0
    while offset is not None:
        page = api(server, "GET", f"/v1/examples?limit=100&offset={offset}")
        yield from page["examples"]
        offset = page["next_offset"]


def stored_example(server, **match) -> dict:
    found = [e for e in stored_examples(server) if all(e.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} stored examples match {match}"
    return found[0]


def open_page(page, server, url: str | None = None) -> None:
    """Open the page (at `url`, default the server's) and give it the service's key where its
    message says it goes."""
    page.goto(url or server.url)
    expect(page.locator("#status")).to_contain_text("Enter the service's API key")
    key = page.get_by_label("API key")
    key.fill(API_KEY)
    key.blur()
    expect(page.locator("#status")).to_have_text("API key accepted.")


def label_blocks(page, doc: str, *, url: str | None = None, fmt: str = "auto") -> None:
    page.get_by_label("Paste the page's HTML").fill(doc)
    page.get_by_label("The input is").select_option(fmt)
    if url is not None:
        page.get_by_label("Page address").fill(url)
    page.get_by_role("button", name="Label the blocks").click()
    expect(page.locator("#status")).to_contain_text("labelled by model")


def open_file(page, name: str, data: bytes, mime: str = "text/html") -> None:
    page.get_by_label("…or open a file").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])


def store_labels(server, kind: str, doc: str, labels: dict[int, str], *, url: str | None = None,
                 **provenance) -> str:
    """Store `doc` (at `url`, if given) with the labels given by block number (blocks as the
    service segments the document now), as another tool would have saved it; returns the
    stored id."""
    blocks = api(server, "POST", "/v1/clean", {kind: doc, "blocks": True})["blocks"]
    example = {kind: doc, "blocks": [{"text": blocks[i]["text"], "label": label, **provenance}
                                     for i, label in labels.items()]}
    if url is not None:
        example["url"] = url
    return api(server, "POST", "/v1/examples", {"examples": [example], "labelled_by": "alice"})["ids"][0]


def document_hash(kind: str, doc: str) -> str:
    """What the page asks `POST /v1/examples/labels` for."""
    return hashlib.sha256(f"{kind}\0{doc}".encode()).hexdigest()


def unload_is_held(page) -> bool:
    """Whether leaving the page now would ask first (unsaved labels)."""
    return page.evaluate("""() => {
        const event = new Event('beforeunload', {cancelable: true});
        window.dispatchEvent(event);
        return event.defaultPrevented;
    }""")


def open_text_file(page, name: str, text: str) -> None:
    """Open `text` as a .txt file and wait until the form shows it (a status line may be an
    earlier page's; the box is emptied first, as it may show the same text already)."""
    textarea = page.get_by_label("Paste the page's HTML")
    textarea.fill("")
    open_file(page, name, text.encode("utf-8"), mime="text/plain")
    expect(textarea).to_have_value(text)


#: a .txt file whose first line opens with "<", as an HTML page does
NOTE = ("<Editor's note> This story was updated on Friday.\nThe night ferry will sail again "
        "from the first week of June, the transport authority said on Thursday.\n")


def edit_note(page, words: str) -> str:
    """Open `NOTE` as note.txt, type `words` over all of it after its first line (an edit of
    the file, which keeps its kind) and return the text the form then holds."""
    open_text_file(page, "note.txt", NOTE)
    textarea = page.get_by_label("Paste the page's HTML")
    textarea.evaluate("(e, at) => { e.focus(); e.setSelectionRange(at, e.value.length); }",
                      NOTE.index("The night"))
    page.keyboard.insert_text(words)
    return textarea.input_value()


def opened_form(server, watched):
    """The labelling page opened, its key given: the page, its format selector ("The input
    is") and its text box."""
    page = watched.page
    open_page(page, server)
    return page, page.get_by_label("The input is"), page.get_by_label("Paste the page's HTML")


def empty_the_file(page, name: str, text: str, key: str = "Delete") -> None:
    """Open `text` as a .txt file, then empty the box: all of it selected, then `key`."""
    open_text_file(page, name, text)
    textarea = page.get_by_label("Paste the page's HTML")
    textarea.press("Control+a")
    textarea.press(key)


def undo_until(textarea, text: str, tries: int) -> None:
    """Ctrl+Z until the box shows `text`, at most `tries` times: Chromium makes one or two undo
    steps of a real paste."""
    for _ in range(tries):
        textarea.press("Control+z")
        if textarea.input_value() == text:
            return


FRAGMENT = "Breaking news<p>The harbour will close for repairs in July.</p>\n"


def paste(page, text: str) -> None:
    """A real paste into the box (the context granted the clipboard): Playwright's insert_text
    is one undo step with a Delete before it, where Chromium makes two of a real one."""
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.get_by_label("Paste the page's HTML").press("Control+v")


def shown_blocks(page) -> list[dict]:
    return page.eval_on_selector_all("#blocks > li", """rows => rows.map(li => ({
        text: li.querySelector('.text').textContent,
        label: li.querySelector('.label-name').textContent,
        changed: li.classList.contains('changed'),
        selected: li.getAttribute('aria-selected') === 'true'}))""")


def test_correct_labels_with_the_keyboard_save_and_find_the_example_through_the_api(server, watched):
    page = watched.page
    model = api(server, "GET", "/v1/model")
    expected = api(server, "POST", "/v1/clean", {"html": FERRY_PAGE, "url": PAGE_URL, "blocks": True})
    texts = [b["text"] for b in expected["blocks"]]
    assert set(CORRECTIONS) <= set(texts), "the fixture no longer segments as the test expects"

    open_page(page, server)
    expect(page.locator("#model-version")).to_have_text(model["version"])
    page.get_by_label("Labelled by").fill("e2e-tester")
    label_blocks(page, FERRY_PAGE, url=PAGE_URL)

    # every block in reading order, labelled as the API labels it, and the API's clean text
    assert shown_blocks(page) == [{"text": b["text"], "label": b["label"], "changed": False,
                                   "selected": i == 0} for i, b in enumerate(expected["blocks"])]
    assert page.locator("#clean-text").text_content() == expected["text"]
    assert page.evaluate("document.activeElement.id") == "blocks", "the blocks take the keys"

    # keyboard only: walk to the "Read more" block, label it and the next one (a label moves on
    # to the next block), then select the last two blocks with Shift+ArrowDown and label both
    first = texts.index("Read more: Island councils ask for a second summer ferry")
    assert texts[first + 1] == "Most read: Fishing boat rescued off the northern cape"
    page.keyboard.press("Home")
    for _ in range(first):
        page.keyboard.press("ArrowDown")
    page.keyboard.press(KEYS["related"])
    page.keyboard.press(KEYS["teaser"])
    run = texts.index("Sign up for our newsletter to get the news in your inbox.")
    assert texts[run + 1] == "Share this article on Facebook · Share on X · Copy link"
    page.keyboard.press("Home")
    for _ in range(run):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    assert [b["selected"] for b in shown_blocks(page)] == [i in (run, run + 1) for i in range(len(texts))]
    page.keyboard.press(KEYS["junk"])

    labels = [CORRECTIONS.get(b["text"], b["label"]) for b in expected["blocks"]]
    shown = shown_blocks(page)
    assert [b["label"] for b in shown] == labels
    assert [b["changed"] for b in shown] == [lab != b["label"] for lab, b in zip(labels, expected["blocks"])]
    assert page.locator("#clean-text").text_content() == "\n".join(
        t for t, lab in zip(texts, labels) if lab == "content")

    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")

    example = stored_example(server, url=PAGE_URL)
    assert example["html"] == FERRY_PAGE and example["source"] == "label-page"
    assert [(b["text"], b["label"]) for b in example["blocks"]] == list(zip(texts, labels))
    # the blocks labelled with a key are reviewed; the others are the model's proposals, which
    # never replace a label a person gave (saving the page again keeps these corrections)
    touched = {first, first + 1, run, run + 1}
    assert [b["reviewed"] for b in example["blocks"]] == [i in touched for i in range(len(texts))]
    # each label says who gave it: the person, or the model whose proposal it is (the form
    # of `noisefilter bootstrap`), never the person for a label they did not look at
    assert [b["labelled_by"] for b in example["blocks"]] == [
        "e2e-tester" if i in touched else f"model:{model['version']}" for i in range(len(texts))]
    expect(page.locator("#summary")).to_contain_text("4 reviewed")
    expect(page.locator("#saved")).to_contain_text(example["id"])

    # the export is the example format `noisefilter train --examples` reads
    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON Lines").click()
    assert download.value.suggested_filename.endswith(".jsonl")
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    exported = [parse_example(json.loads(line)) for line in lines]
    assert all(not problems for _, problems in exported)
    mine = [e for e, _ in exported if e.id == example["id"]]
    assert [(b.text, b.label) for b in mine[0].blocks] == list(zip(texts, labels))

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1200})  # room for every block
    page.evaluate("window.scrollTo(0, 0); document.getElementById('blocks').scrollTop = 0")
    page.screenshot(path=str(ARTIFACTS / "label-page.png"), full_page=True)
    assert not watched.errors and not watched.dialogs
    # the 401 of the key check above is the API's answer; no file the page loads may be missing
    assert not [f for f in watched.failed if not f.startswith("401 ")]


def test_unsaved_labels_stay_marked_labels_say_what_they_mean_and_a_stalled_save_ends(server, watched):
    """The status line said "Saved" once and the next key replaced it, so a person coming back
    could not tell saved labels from unsaved ones; the labels were named, never explained
    (related against teaser); a service that stopped answering left "Saving…" and Save
    disabled for good."""
    page = watched.page
    page.clock.install()  # the page's timers, for the request given up below
    open_page(page, server)
    label_blocks(page, FERRY_PAGE, url=PAGE_URL)
    unsaved = page.locator("#unsaved")
    expect(unsaved).to_be_hidden()
    related = page.get_by_role("button", name="2 related")
    expect(related).to_have_attribute("title", re.compile("other articles on this article's story or topic"))
    expect(page.locator("#blocks > li").first.locator(".chip[data-label=teaser]")).to_have_attribute(
        "title", re.compile("^Label this block teaser: .*on other topics"))
    expect(page.locator("#blocks-help")).to_contain_text("teaser: links to stories on other topics")

    page.keyboard.press(KEYS["junk"])
    expect(unsaved).to_be_visible()
    assert page.title().startswith("• ")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    expect(unsaved).to_be_hidden()
    assert not page.title().startswith("•")
    page.keyboard.press(KEYS["teaser"])  # the status line now names the block; the mark stays
    expect(page.locator("#status")).not_to_contain_text("Saved as")
    expect(unsaved).to_be_visible()

    page.route("**/v1/examples", lambda route: None)  # a service that never answers
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saving")
    page.clock.fast_forward(121_000)
    expect(page.locator("#status")).to_contain_text("the service did not answer in 120 s; nothing on "
                                                    "this page is lost, try again")
    expect(page.get_by_role("button", name="Save labels")).to_be_enabled()
    expect(unsaved).to_be_visible()
    page.unroute("**/v1/examples")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    expect(unsaved).to_be_hidden()
    assert not watched.errors and not watched.dialogs


def saved_and_opened_again(page, server, doc: str, url: str) -> list[dict]:
    """`doc` labelled, its first block labelled junk by a person, saved, and opened again in a
    fresh page, as on another day (the status says its saved labels are shown); returns the
    blocks as the model labelled them."""
    open_page(page, server)
    label_blocks(page, doc, url=url)
    model = shown_blocks(page)
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    open_page(page, server)
    label_blocks(page, doc, url=url)
    expect(page.locator("#status")).to_contain_text("as saved before")
    return model


def test_page_down_and_page_up_move_by_what_the_list_shows(server, watched):
    """A long page took a key press per block: Page Down goes to the last block whose top is
    within one list-height, shown; Shift+Page Down selects the run; Page Up goes back."""
    page = watched.page
    doc = "\n".join(f"Notice {i}: the harbour office posts the ferry times for the week ahead."
                     for i in range(80))
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    active = lambda: int(page.locator("#blocks").get_attribute("aria-activedescendant").split("-")[1])  # noqa: E731
    page.keyboard.press("Home")
    page.keyboard.press("PageDown")
    down = active()
    assert 3 < down < 79, down
    page.wait_for_function("""i => {  // shown in the list, once its smooth scroll is over
        const list = document.getElementById('blocks').getBoundingClientRect();
        const row = document.getElementById('block-' + i).getBoundingClientRect();
        return row.top >= list.top - 1 && row.bottom <= list.bottom + 1; }""", arg=down, timeout=10_000)
    page.keyboard.press("Shift+PageDown")
    selected = [b["selected"] for b in shown_blocks(page)]
    assert selected.index(True) == down and sum(selected) == active() - down + 1 > 1
    page.keyboard.press("PageUp")
    page.keyboard.press("PageUp")
    assert active() < down and sum(b["selected"] for b in shown_blocks(page)) == 1
    page.keyboard.press("End")
    page.keyboard.press("PageDown")  # at the end it stays there
    assert active() == 79
    assert not watched.errors and not watched.dialogs


def test_a_page_opened_again_shows_its_saved_labels_and_a_new_save_keeps_them(server, watched):
    """Opening a page that is in the store shows the labels saved for it (found by its
    document), reviewed ones marked; a second save with another correction keeps the first."""
    page = watched.page
    doc = FERRY_PAGE.replace("Harbour", "Harbour-side")  # a document no other test saves
    url = PAGE_URL + "?again"
    model = saved_and_opened_again(page, server, doc, url)
    texts, model_labels = [b["text"] for b in model], [b["label"] for b in model]
    shown = shown_blocks(page)
    assert [b["label"] for b in shown] == ["junk", *model_labels[1:]]
    expect(page.locator("#summary")).to_contain_text("1 reviewed")
    # the stored label is told from the model's as the model's, not as this visit's change
    expect(page.locator("#block-0 .score")).to_contain_text(f"model: {model_labels[0]}")
    page.keyboard.press("End")
    page.keyboard.press(KEYS["content"])  # another correction, then save again
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    example = stored_example(server, url=url)
    labels = {b["text"]: (b["label"], b["reviewed"]) for b in example["blocks"]}
    assert labels[texts[0]] == ("junk", True) and labels[texts[-1]] == ("content", True)
    assert not watched.errors and not watched.dialogs


def test_a_slip_over_a_pages_saved_labels_is_taken_back_with_ctrl_z(server, watched):
    """Ctrl+A and one key relabelled every block, the labels a person had saved with them, and
    nothing took it back but opening the page again without saving; a save then replaced the
    person's labels. Ctrl+Z gives every block its label back, with who gave it and when."""
    page = watched.page
    doc = FERRY_PAGE.replace("Harbour", "Harbour-front")  # a document no other test saves
    url = PAGE_URL + "?slip"
    model_labels = [b["label"] for b in saved_and_opened_again(page, server, doc, url)]
    before = stored_example(server, url=url)["blocks"]
    page.keyboard.press("Control+a")
    page.keyboard.press(KEYS["teaser"])
    assert {b["label"] for b in shown_blocks(page)} == {"teaser"}
    page.keyboard.press("Control+z")
    expect(page.locator("#status")).to_contain_text(f"Undone: blocks 1–{len(model_labels)} as before.")
    assert [b["label"] for b in shown_blocks(page)] == ["junk", *model_labels[1:]]
    expect(page.locator("#summary")).to_contain_text("1 reviewed")
    page.keyboard.press("Control+z")
    expect(page.locator("#status")).to_contain_text("Nothing to undo.")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    expect(page.locator("#status")).to_contain_text("0 changed")
    assert stored_example(server, url=url)["blocks"] == before
    assert not watched.errors and not watched.dialogs


def test_a_page_opened_again_shows_labels_given_to_a_copy_or_a_whole_paragraph(server, watched):
    """Labels stored by another tool for an older segmentation, or once for a text the page
    shows twice, are shown on the blocks training gives them to: the page matched them text
    for text and showed (and saved back) the model's labels there."""
    page = watched.page
    doc = ("Harbour crane returns\nAdvertisement\nThe crane lifts again on Monday.\n"
           "Advertisement\nRead more: tolls frozen for a year\nRead more: the bridge at night\n")
    lines = doc.splitlines()
    stored_id = api(server, "POST", "/v1/examples", {"labelled_by": "alice", "examples": [
        {"text": doc, "blocks": [{"text": "Advertisement", "label": "junk"},
                                 {"text": " ".join(lines[4:]), "label": "related"}]}]})["ids"][0]
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    expect(page.locator("#status")).to_contain_text(f"4 labels as saved before ({stored_id})")
    shown = [b["label"] for b in shown_blocks(page)]
    assert shown[1] == shown[3] == "junk" and shown[4] == shown[5] == "related"
    expect(page.locator("#summary")).to_contain_text("4 reviewed")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    stored = stored_example(server, text=doc)["blocks"]
    by_text = {b["text"]: (b["label"], b["reviewed"], b["labelled_by"]) for b in stored}
    assert by_text["Advertisement"] == ("junk", True, "alice")
    assert by_text[lines[4]] == by_text[lines[5]] == ("related", True, "alice")
    assert not watched.errors and not watched.dialogs


def test_a_mouse_and_a_model_with_a_label_of_its_own(server, watched):
    """A run selected with click and Shift+click takes a label from the toolbar; one click on a
    block's label chip relabels it. The served model is made to report an extra label
    (`comment`, as in docs/teach-your-site.md), which the page offers on key 5."""
    page = watched.page

    def with_comment(route):
        response = route.fetch()
        model = response.json()
        model["labels"] = [*model["labels"], "comment"]
        route.fulfill(response=response, json=model)

    page.route("**/v1/model", with_comment)
    text = ("Ferry timetable changes for the summer\n"
            "The night ferry sails again from June.\n"
            "Great news, I will book a cabin! (reader, 2 hours ago)\n"
            "Finally, we waited two years. (reader, 1 hour ago)\n"
            "Cookie settings\n")
    expected = api(server, "POST", "/v1/clean", {"text": text, "blocks": True})
    open_page(page, server)
    label_blocks(page, text, fmt="text")
    comment_button = page.get_by_role("button", name="5 comment")
    expect(comment_button).to_have_attribute("aria-keyshortcuts", "5")
    rows = page.locator("#blocks > li")

    rows.nth(2).locator(".text").click()
    rows.nth(3).locator(".text").click(modifiers=["Shift"])
    comment_button.click()
    rows.nth(4).locator(".chip[data-label=junk]").click()

    labels = [b["label"] for b in expected["blocks"]]
    labels[2:5] = ["comment", "comment", "junk"]
    assert [b["label"] for b in shown_blocks(page)] == labels
    page.get_by_role("button", name="Save labels").click()
    expect(page.locator("#status")).to_contain_text("Saved as")
    example = stored_example(server, text=text)
    assert [b["label"] for b in example["blocks"]] == labels
    assert not watched.errors and not watched.dialogs


def test_a_hostile_page_runs_nothing(server, watched_without_csp):
    page = watched_without_csp.page
    open_page(page, server)
    label_blocks(page, HOSTILE_PAGE)
    page.get_by_role("button", name="Save labels").click()
    expect(page.locator("#status")).to_contain_text("Saved as")
    label_blocks(page, HOSTILE_TEXT, fmt="text")
    page.get_by_role("button", name="Save labels").click()
    expect(page.locator("#status")).to_contain_text("Saved as")

    # the markup is on the page as text: in the blocks, the clean text and the saved list
    shown = " ".join(b["text"] for b in shown_blocks(page))
    assert "<img src=x onerror=" in shown and "<script>window.__pwned = 4" in shown
    # the saved list is read again after the status line says "Saved as": wait for it
    expect(page.locator("#saved")).to_contain_text("<script>window.__pwned")
    assert '<iframe srcdoc="<script>parent.__pwned' in shown
    # and none of it became an element, loaded anything, or ran
    page.wait_for_timeout(300)  # time for an <img src=x> error or an iframe to have fired
    assert page.locator(MARKUP).count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not watched_without_csp.dialogs
    assert not watched_without_csp.errors
    origin = server.url.removesuffix("/label")
    assert {u.split("?")[0] for u in watched_without_csp.requests} <= {
        server.url, f"{server.url}/label.js", f"{server.url}/label.css", f"{origin}/v1/model",
        f"{origin}/v1/examples", f"{origin}/v1/examples/labels", f"{origin}/v1/clean",
        f"{server.url}/icon.svg"}


def test_the_policy_is_in_force_in_the_browser(server, watched):
    """Behind the script's own care: inline script does not run and strings cannot be assigned
    as markup (Trusted Types), so a future mistake fails loudly instead of running page text."""
    page = watched.page
    response = page.goto(server.url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#model-version")).not_to_have_text("…")
    outcome = page.evaluate("""() => {
        const s = document.createElement('script');
        try { s.textContent = 'window.__inline = 1'; document.body.append(s); }
        catch (err) { return err.name; }
        return 'appended';
    }""")
    assert outcome in ("TypeError", "appended")
    assert page.evaluate("typeof window.__inline") == "undefined"
    assert page.evaluate("""() => {
        try { document.getElementById('status').innerHTML = '<b>x</b>'; return 'assigned'; }
        catch (err) { return err.name; }
    }""") == "TypeError"


def test_a_file_opens_in_its_own_charset(server, watched):
    """Opening a file labels it at once; an HTML file is decoded with the charset it declares,
    so the page stored is the page as its author wrote it."""
    page = watched.page
    expected = api(server, "POST", "/v1/clean", {"html": CAFE_PAGE, "blocks": True})
    open_page(page, server)
    page.get_by_label("…or open a file").set_input_files(
        files=[{"name": "cafe.html", "mimeType": "text/html", "buffer": CAFE_PAGE.encode("cp1252")}])
    expect(page.locator("#status")).to_contain_text("labelled by model")
    assert page.get_by_label("Paste the page's HTML").input_value() == CAFE_PAGE
    assert page.get_by_label("The input is").input_value() == "html"
    assert [b["text"] for b in shown_blocks(page)] == [b["text"] for b in expected["blocks"]]
    assert not watched.errors and not watched.dialogs


def test_a_file_declaring_no_charset_opens_as_the_library_reads_it(server, watched):
    """The page decoded files itself by a simpler rule (its meta charset, else UTF-8, else
    windows-1252): a windows-1251 page declaring nothing was labelled, saved and trained on as
    mojibake. The service decodes it now, as `clean` decodes the same bytes."""
    sentence = "Городской совет утвердил в среду план ремонта паромной пристани."
    html = (f"<html lang='ru'><head><title>Пристань</title></head><body><article><h1>Пристань"
            f"</h1><p>{sentence}</p><p>{sentence}</p></article></body></html>")
    page = watched.page
    open_page(page, server)
    open_file(page, "pier.html", html.encode("cp1251"))
    expect(page.locator("#status")).to_contain_text("labelled by model")
    assert page.get_by_label("Paste the page's HTML").input_value() == html
    assert not watched.errors


def test_a_gzipped_file_opens_and_a_declined_switch_changes_nothing(server, watched):
    """Crawls store pages as .html.gz: such a file opens as the page it holds. With labels not
    yet saved, choosing another file asks first, and saying no leaves the form as it was."""
    page = watched.page
    open_page(page, server)
    page.get_by_label("…or open a file").set_input_files(files=[
        {"name": "ferry.html.gz", "mimeType": "application/gzip",
         "buffer": gzip.compress(FERRY_PAGE.encode("utf-8"))}])
    expect(page.locator("#status")).to_contain_text("labelled by model")
    assert page.get_by_label("Paste the page's HTML").input_value() == FERRY_PAGE
    blocks = shown_blocks(page)
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])  # an unsaved change
    page.get_by_label("…or open a file").set_input_files(files=[  # the question is dismissed
        {"name": "cafe.html", "mimeType": "text/html", "buffer": CAFE_PAGE.encode("cp1252")}])
    page.wait_for_timeout(300)
    assert watched.dialogs == ["Your label changes are not saved. Label the new page anyway?"]
    assert page.get_by_label("Paste the page's HTML").input_value() == FERRY_PAGE
    assert [b["text"] for b in shown_blocks(page)] == [b["text"] for b in blocks]
    assert shown_blocks(page)[0]["label"] == "junk"
    assert not watched.errors


def test_without_the_api_key_the_page_says_where_it_goes(server, watched):
    page = watched.page
    text = "Harbour crane removed after forty years\nThe crane was taken down on Sunday.\n"
    page.goto(server.url)
    label_blocks(page, text, fmt="text")
    page.get_by_role("button", name="Save labels").click()
    expect(page.locator("#status")).to_contain_text("unauthorized")
    key = page.get_by_label("API key")
    expect(key).to_be_visible()  # the settings were opened to show where the key goes
    key.fill(API_KEY)
    key.blur()
    expect(page.locator("#status")).to_have_text("API key accepted.")
    page.get_by_role("button", name="Save labels").click()
    expect(page.locator("#status")).to_contain_text("Saved as")
    example = stored_example(server, text=text)
    expect(page.locator("#saved")).to_contain_text(example["id"])
    assert not watched.errors and not watched.dialogs


def test_the_list_and_the_export_follow_every_page_of_the_store(server, watched):
    """More examples than one page of `GET /v1/examples`: "Show more" lists the rest, each
    page once however often it is clicked, and the export holds every stored example once."""
    many = [{"id": f"bulk-{n:03d}", "text": f"Bulk example number {n} for the export test",
             "source": "bulk", "blocks": [{"text": f"Bulk example number {n} for the export test",
                                           "label": "content"}]} for n in range(120)]
    # a line break JSON leaves raw (U+2028): the export's line is read whole by `splitlines`
    many.append({**many[0], "id": "bulk-line\u2028break", "text": "Bulk example with a break",
                 "blocks": [{"text": "Bulk example with a break", "label": "content"}]})
    api(server, "POST", "/v1/examples", {"examples": many})
    stored = api(server, "GET", "/v1/examples")
    total = stored["store"]["pages"]
    assert stored["next_offset"] is not None, "the store must span more than one page"

    page = watched.page
    open_page(page, server)
    rows = page.locator("#saved tr")
    expect(rows).to_have_count(len(stored["examples"]))
    more = page.get_by_role("button", name="Show more")
    more.dblclick()  # an impatient double click asks once: each page is listed once
    # its page listed before the loop reads the count: read while that page was on its way,
    # the count sent the loop to click a button the last page then hid (15 s, a timeout)
    expect(rows.nth(len(stored["examples"]))).to_be_attached()
    while rows.count() < total:
        shown = rows.count()
        more.click()
        expect(rows.nth(shown)).to_be_attached()  # one more row than before
    expect(more).to_be_hidden()
    assert rows.count() == total
    listed = rows.evaluate_all("rows => rows.map(r => r.cells[0].textContent)")
    assert len(set(listed)) == total

    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON Lines").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids)) == total
    assert {m["id"] for m in many} <= set(ids)
    assert not watched.errors and not watched.dialogs


def test_a_stored_page_opened_from_a_crlf_file_is_found_and_updated_not_saved_twice(server, watched):
    """A page stored from its file's bytes (as `noisefilter bootstrap` stores it) keeps its CRLF
    line ends, which the textarea turns into LF: the page looks up and saves the file's text as
    decoded, so it finds the stored page and a save updates it instead of adding a second."""
    page = watched.page
    doc = FERRY_PAGE.replace("Harbour Post", "Harbour Post (CRLF)").replace("\n", "\r\n")
    stored_id = store_labels(server, "html", doc, {0: "junk"}, reviewed=True)
    pages = api(server, "GET", "/v1/examples?limit=1")["store"]["pages"]

    open_page(page, server)
    with page.expect_request(lambda r: "examples/labels" in r.url) as lookup:
        open_file(page, "ferry-crlf.html", doc.encode())
    assert lookup.value.post_data_json["document"] == document_hash("html", doc)
    expect(page.locator("#status")).to_contain_text(f"as saved before ({stored_id})")
    assert shown_blocks(page)[0]["label"] == "junk"
    with page.expect_request(lambda r: "examples/labels" in r.url) as lookup:  # labelled again
        page.get_by_role("button", name="Label the blocks").click()
    assert lookup.value.post_data_json["document"] == document_hash("html", doc)

    expect(page.locator("#status")).to_contain_text("as saved before")
    page.keyboard.press("End")
    page.keyboard.press(KEYS["junk"])
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text(f"Saved as {stored_id}:")
    assert api(server, "GET", "/v1/examples?limit=1")["store"]["pages"] == pages
    assert stored_example(server, html=doc)["id"] == stored_id
    assert not watched.errors and not watched.dialogs


@pytest.fixture
def lan_server(tmp_path):
    """A service shared on the network (every address): reached by a LAN name, which a service
    listening on a loopback address refuses (it answers only this machine's names)."""
    server = LabelServer(tmp_path, "--no-browser", "--host", "0.0.0.0",
                         env={"NOISEFILTER_API_KEY": API_KEY})
    yield server
    server.stop()


def test_off_localhost_the_page_says_why_saved_labels_are_not_shown(lan_server, watched):
    """On a LAN name over plain http the browser has no crypto.subtle to hash the page with:
    the page says so and where to open it instead, and keeps the model's labels."""
    server = lan_server
    page = watched.page
    doc = "Ferry pier repaired before the summer\nThe pier reopens on Monday.\n"
    store_labels(server, "text", doc, {0: "junk", 1: "junk"})
    open_page(page, server, server.url.replace("127.0.0.1", LAN_HOST))
    assert page.evaluate("window.isSecureContext") is False
    label_blocks(page, doc, fmt="text")
    status = page.locator("#status")
    expect(status).to_contain_text("labels saved before cannot be looked up")
    expect(status).to_contain_text("localhost or over https")
    expected = api(server, "POST", "/v1/clean", {"text": doc, "blocks": True})
    assert [b["label"] for b in shown_blocks(page)] == [b["label"] for b in expected["blocks"]]
    assert not watched.errors and not watched.dialogs


def test_saved_labels_are_looked_up_once_the_key_is_accepted(server, watched):
    """Without the key the lookup is refused (401): the page says the key is needed, and looks
    the labels up as soon as a key is accepted."""
    page = watched.page
    doc = "Ferry pier painted blue\nThe harbour board chose the colour.\n"
    stored_id = store_labels(server, "text", doc, {1: "junk"})
    page.goto(server.url)
    label_blocks(page, doc, fmt="text")
    expect(page.locator("#status")).to_contain_text("once the service's API key is entered")
    key = page.get_by_label("API key")
    expect(key).to_be_visible()
    key.fill(API_KEY)
    key.blur()
    expect(page.locator("#status")).to_contain_text(f"as saved before ({stored_id})")
    assert shown_blocks(page)[1]["label"] == "junk"
    assert not watched.errors and not watched.dialogs


def test_a_store_that_fails_is_named_in_the_status_line(server, watched):
    page = watched.page
    page.route(lambda url: "examples/labels" in url, lambda route: route.fulfill(
        status=503, json={"error": "store_unavailable", "detail": "the example store cannot be used"}))
    open_page(page, server)
    label_blocks(page, "Harbour lights switched on\n", fmt="text")
    expect(page.locator("#status")).to_contain_text(
        "labels saved before cannot be looked up: store_unavailable")
    assert not watched.errors and not watched.dialogs


def test_labels_given_while_the_saved_ones_are_looked_up_are_kept(server, watched):
    """A person who labels blocks before the stored labels arrive keeps those labels; the stored
    ones fill the other blocks, and the status line says what happened."""
    page = watched.page
    doc = ("Harbour dredging starts in May\nThe channel will be two metres deeper.\n"
           "Most read: Seal spotted in the marina\n")
    stored_id = store_labels(server, "text", doc, {0: "junk", 2: "teaser"})
    held = []
    page.route(lambda url: "examples/labels" in url, lambda route: held.append(route))
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    while not held:
        page.wait_for_timeout(50)
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["related"])  # block 1, while the lookup has not answered
    held[0].continue_()
    expect(page.locator("#status")).to_contain_text(f"as saved before ({stored_id})")
    assert [b["label"] for b in shown_blocks(page)][0::2] == ["related", "teaser"]
    expect(page.locator("#status")).to_contain_text("1 block you labelled meanwhile kept your label")
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    texts = [b["text"] for b in shown_blocks(page)]
    stored = {b["text"]: (b["label"], b["reviewed"]) for b in stored_example(server, text=doc)["blocks"]}
    assert stored[texts[0]] == ("related", True) and stored[texts[2]] == ("teaser", True)
    assert not watched.errors and not watched.dialogs


def test_the_next_page_is_labelled_while_the_saved_labels_of_the_last_are_looked_up(server, watched):
    """Once a page is shown, the next one can be labelled at once: the button stayed disabled,
    and Enter did nothing, until the store answered the lookup of the shown page's saved
    labels (up to a minute when the store is busy)."""
    page = watched.page
    held: list = []
    page.route(lambda url: "examples/labels" in url, lambda route: held.append(route))
    open_page(page, server)
    label_blocks(page, "Harbour news one\nThe first page.\n", fmt="text")
    while not held:
        page.wait_for_timeout(50)
    second = "Harbour news two\nThe second page.\n"
    page.get_by_label("Paste the page's HTML").fill(second)
    with page.expect_request(lambda r: r.url.endswith("/v1/clean"), timeout=10_000):
        page.get_by_label("Page address").press("Enter")
    expect(page.locator("#blocks")).to_contain_text("The second page.")
    for route in held:
        route.continue_()
    assert not watched.errors


def test_a_late_answer_for_a_key_changed_since_does_not_call_the_new_key_accepted(server, watched):
    """The list asked for with the right key answered after a wrong key had been refused: the
    status line said "API key accepted." while the field held the wrong one."""
    page = watched.page
    lists: list = []

    def route(route):
        if route.request.method == "GET" and route.request.headers.get("x-api-key") == API_KEY and not lists:
            lists.append(route)  # the right key's list, from a busy store
        else:
            route.continue_()

    page.route(lambda url: urllib.parse.urlsplit(url).path.endswith("/v1/examples"), route)
    page.goto(server.url)
    expect(page.locator("#status")).to_contain_text("Enter the service's API key")
    key = page.get_by_label("API key")
    key.fill(API_KEY)
    key.blur()
    while not lists:
        page.wait_for_timeout(50)
    key.fill("wrong-key")
    key.blur()
    expect(page.locator("#status")).to_contain_text("unauthorized")
    with page.expect_response(lambda r: r.request.headers.get("x-api-key") == API_KEY):
        lists[0].continue_()
    page.wait_for_timeout(300)  # the answer's handling
    expect(page.locator("#status")).to_contain_text("unauthorized")


def test_a_refused_key_is_said_to_be_refused_and_an_empty_page_counts_no_labels(server, watched):
    """A wrong key got the words for no key ("Enter the service's API key"); a page without
    blocks read "0 blocks ·  · 0 reviewed"."""
    page = watched.page
    page.goto(server.url)
    key = page.get_by_label("API key")
    key.fill("wrong-key")
    key.blur()
    expect(page.locator("#status")).to_contain_text("The API key entered under Service settings was refused")
    key.fill(API_KEY)
    key.blur()
    expect(page.locator("#status")).to_have_text("API key accepted.")
    page.get_by_label("Paste the page's HTML").fill("<html><body><script>var x = 1;</script></body></html>")
    page.get_by_role("button", name="Label the blocks").click()
    expect(page.locator("#status")).to_contain_text("No blocks")
    expect(page.locator("#summary")).to_have_text("0 blocks · 0 reviewed")


def test_the_page_asked_for_last_is_shown_and_labels_given_meanwhile_are_asked_about(server, watched):
    """A slow answer for the page asked for first replaced the one asked for last; labels given
    on the page shown while the next was being labelled were lost without a question."""
    page = watched.page
    held: list = []
    hold = [True]
    page.route(lambda url: url.endswith("/v1/clean"),
               lambda route: held.append(route) if hold[0] else route.continue_())
    open_page(page, server)
    open_file(page, "first.txt", b"Slow page\nAsked for first.\n", "text/plain")
    while not held:
        page.wait_for_timeout(50)
    hold[0] = False
    open_file(page, "last.txt", b"Quick page\nAsked for last.\n", "text/plain")
    expect(page.locator("#blocks")).to_contain_text("Asked for last.")
    with page.expect_response(lambda r: r.url.endswith("/v1/clean")):
        held.pop().continue_()
    page.wait_for_timeout(300)  # the late answer's handling
    expect(page.locator("#blocks")).not_to_contain_text("Asked for first.")
    expect(page.locator("#blocks")).to_contain_text("Asked for last.")

    hold[0] = True
    open_file(page, "next.txt", b"Next page\nNot shown over labels.\n", "text/plain")
    while not held:
        page.wait_for_timeout(50)
    page.locator("#blocks").focus()
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])  # a label on the page shown, while the next is on its way
    held.pop().continue_()
    expect(page.locator("#status")).to_contain_text("your labels are still here to save")
    assert watched.dialogs[-1].startswith("You gave labels while the new page was being labelled")
    assert shown_blocks(page)[0]["label"] == "junk"
    expect(page.locator("#blocks")).to_contain_text("Asked for last.")
    assert not watched.errors


def test_a_bad_page_address_is_refused_before_labelling_and_read_again_at_save(server, watched):
    """Plain text sends no address to the service, so the page checks it before labelling; at
    Save the field is read again, so a corrected address is saved and no label is lost."""
    page = watched.page
    doc = "Lighthouse keeper retires after thirty years\nThe light on the point will be automated.\n"
    address = page.get_by_label("Page address")
    open_page(page, server)
    page.get_by_label("Paste the page's HTML").fill(doc)
    page.get_by_label("The input is").select_option("text")
    address.fill("not a url")
    page.get_by_role("button", name="Label the blocks").click()
    expect(page.locator("#status")).to_contain_text("is not an absolute URL")
    expect(page.locator("#result")).to_be_hidden()
    expect(address).to_be_focused()

    label_blocks(page, doc, url="https://harbour-post.example/lighthouse", fmt="text")
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])
    address.fill("lighthouse story")  # a slip after labelling: refused at Save, labels kept
    page.get_by_role("button", name="Save labels").click()
    expect(page.locator("#status")).to_contain_text("Saving failed: the page address")
    assert shown_blocks(page)[0]["label"] == "junk" and unload_is_held(page)
    address.fill("https://harbour-post.example/2026/lighthouse")
    page.get_by_role("button", name="Save labels").click()
    expect(page.locator("#status")).to_contain_text("Saved as")
    example = stored_example(server, text=doc)
    assert example["url"] == "https://harbour-post.example/2026/lighthouse"
    assert example["blocks"][0]["label"] == "junk"
    assert not watched.errors and not watched.dialogs


def test_a_label_only_the_store_knows_gets_a_chip_on_every_block(server, watched):
    page = watched.page
    doc = "Harbour festival this weekend\nThe festival opens on Friday.\nCannot wait! (reader)\n"
    store_labels(server, "text", doc, {2: "comment"})
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    expect(page.locator("#status")).to_contain_text("as saved before")
    expect(page.get_by_role("button", name="5 comment")).to_be_visible()
    rows = page.locator("#blocks > li")
    expect(rows.locator(".chip[data-label=comment]")).to_have_count(rows.count())
    rows.nth(1).locator(".chip[data-label=comment]").click()
    assert [b["label"] for b in shown_blocks(page)][1:] == ["comment", "comment"]
    assert rows.nth(1).locator(".chip.on").get_attribute("data-label") == "comment"
    assert not watched.errors and not watched.dialogs


def test_a_key_no_header_can_carry_is_called_invalid(server, watched):
    """fetch throws on a header value beyond Latin-1: that is a mistyped key, not a service
    that does not answer."""
    page = watched.page
    page.goto(server.url)
    key = page.get_by_label("API key")
    key.fill("ключ-5")
    key.blur()
    status = page.locator("#status")
    expect(status).to_contain_text("invalid API key")
    expect(status).not_to_contain_text("unreachable")
    assert not watched.errors and not watched.dialogs


def test_right_to_left_blocks_are_laid_out_right_to_left(server, watched):
    page = watched.page
    doc = "Ferry timetable for the summer\nהמעבורת הלילית חוזרת לפעול בקיץ הקרוב.\n"
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    directions = page.eval_on_selector_all(
        "#blocks .text", "spans => spans.map(s => getComputedStyle(s).direction)")
    assert directions == ["ltr", "rtl"]


def test_a_file_the_service_refuses_leaves_the_page_and_its_unsaved_labels(server, watched):
    """The new file goes into the form only once its page is shown: a file the service refuses
    leaves the page, the form and the unsaved labels (and the warning on leaving) as they were."""
    page = watched.page
    open_page(page, server)
    label_blocks(page, FERRY_PAGE)
    blocks = shown_blocks(page)
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])
    watched.accept_dialogs = True  # yes, label the new page
    open_file(page, "photo.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    expect(page.locator("#status")).to_contain_text("Labelling failed")
    assert watched.dialogs == ["Your label changes are not saved. Label the new page anyway?"]
    assert page.get_by_label("Paste the page's HTML").input_value() == FERRY_PAGE
    assert [b["text"] for b in shown_blocks(page)] == [b["text"] for b in blocks]
    assert shown_blocks(page)[0]["label"] == "junk"
    assert unload_is_held(page)
    assert not watched.errors


def test_a_stored_page_opens_from_the_list_with_its_labels_and_saves_onto_itself(server, watched):
    """A page in the store (as `noisefilter bootstrap` leaves it, its file elsewhere) opens from
    the saved-examples list with the keyboard: its document exactly as stored (CRLF kept) and its
    address go into the form, its labels come back, and a save updates that page. With unsaved
    labels on screen it asks first, and saying no changes nothing."""
    page = watched.page
    doc = FERRY_PAGE.replace("Harbour Post", "Harbour Post (stored)").replace("\n", "\r\n")
    url = PAGE_URL + "?stored"
    stored_id = store_labels(server, "html", doc, {0: "junk", 1: "junk"}, url=url, reviewed=True)
    pages = api(server, "GET", "/v1/examples?limit=1")["store"]["pages"]
    other = "Harbour crane painted red\nThe crane is a landmark.\n"

    open_page(page, server)
    while not page.get_by_role("button", name=f"Open {url}").count():  # listed, maybe further on
        page.get_by_role("button", name="Show more").click()
        page.wait_for_timeout(200)
    label_blocks(page, other, fmt="text")
    page.keyboard.press(KEYS["junk"])  # an unsaved change
    page.get_by_role("button", name=f"Open {url}").click()  # the question is dismissed
    page.wait_for_timeout(300)
    assert watched.dialogs == ["Your label changes are not saved. Label the new page anyway?"]
    assert page.get_by_label("Paste the page's HTML").input_value() == other
    assert shown_blocks(page)[0]["label"] == "junk" and unload_is_held(page)

    watched.accept_dialogs = True
    with page.expect_request(lambda r: "examples/labels" in r.url) as lookup:
        page.get_by_role("button", name=f"Open {url}").focus()
        page.keyboard.press("Enter")
    assert lookup.value.post_data_json["document"] == document_hash("html", doc)
    expect(page.locator("#status")).to_contain_text(f"as saved before ({stored_id})")
    assert page.get_by_label("Paste the page's HTML").input_value() == doc.replace("\r\n", "\n")
    assert page.get_by_label("Page address").input_value() == url
    assert page.get_by_label("The input is").input_value() == "html"
    assert [b["label"] for b in shown_blocks(page)][:2] == ["junk", "junk"]
    expect(page.locator("#summary")).to_contain_text("2 reviewed")
    expect(page.locator("#blocks")).to_be_focused()  # labelling goes on from the keyboard

    page.keyboard.press("End")
    page.keyboard.press(KEYS["related"])  # one more correction
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text(f"Saved as {stored_id}:")
    assert api(server, "GET", "/v1/examples?limit=1")["store"]["pages"] == pages
    example = stored_example(server, html=doc)
    assert example["id"] == stored_id and example["url"] == url
    labels = [(b["label"], b["reviewed"]) for b in example["blocks"]]
    texts = [b["text"] for b in shown_blocks(page)]
    assert [b["text"] for b in example["blocks"]] == texts
    assert labels[:2] == [("junk", True), ("junk", True)] and labels[-1] == ("related", True)
    assert len(watched.dialogs) == 2 and not watched.errors

    # a file opened next is another page: the stored page's address leaves the form with it
    # (it was sent to the service and saved as the file's); one the person typed stays
    with page.expect_request(lambda r: "v1/decode" in r.url) as decoding:
        open_file(page, "cafe.html", CAFE_PAGE.encode("cp1252"))
    expect(page.locator("#status")).to_contain_text("labelled by model")
    assert "url=" not in decoding.value.url
    assert page.get_by_label("Page address").input_value() == ""
    page.get_by_label("Page address").fill(PAGE_URL + "?cafe")
    # the status line says "labelled by model" already (the same file, opened above): wait for
    # this file's page to be shown, which asks for its saved labels next
    with page.expect_request(lambda r: "v1/decode" in r.url) as decoding, \
            page.expect_request(lambda r: "examples/labels" in r.url):
        open_file(page, "cafe.html", CAFE_PAGE.encode("cp1252"))
    expect(page.locator("#status")).to_contain_text("labelled by model")
    assert urllib.parse.quote(PAGE_URL + "?cafe", safe="") in decoding.value.url
    assert page.get_by_label("Page address").input_value() == PAGE_URL + "?cafe"


def test_the_list_can_show_only_pages_with_labels_to_review(server, watched):
    """What `noisefilter bootstrap` stores is unreviewed, for a person to check: the list can
    show only the pages with such labels (`GET /v1/examples?reviewed=false`)."""
    store_labels(server, "text", "Ferry fares rise in June\nA return costs more.\n", {0: "content"},
                 reviewed=False, labelled_by="model:test")
    store_labels(server, "text", "Ferry fares fall in May\nA return costs less.\n", {0: "content"},
                 reviewed=True)
    page = watched.page
    open_page(page, server)
    ids = page.locator("#saved td.id")
    expect(ids.first).to_be_attached()
    with page.expect_request(lambda r: "reviewed=false" in r.url):
        page.get_by_label("Only pages with labels to review").check()
    expected = [e["id"] for e in api(server, "GET", "/v1/examples?reviewed=false")["examples"]]
    expect(ids).to_have_text(expected)
    page.get_by_label("Only pages with labels to review").uncheck()
    expect(ids).to_have_text([e["id"] for e in api(server, "GET", "/v1/examples")["examples"]])
    assert not watched.errors and not watched.dialogs


def test_a_tab_opened_before_a_correction_does_not_undo_it_when_saved(server, watched):
    """Alice's labels are stored; a tab opens the page and shows them; Bob then corrects one in
    another tab. Saving the first tab (after a label given there with the toolbar, then with a
    key) must not put Alice's label back over Bob's, and the status line says a label was not
    applied. A label stored from a file, in capitals and without the page's soft hyphen, is
    shown on its block."""
    page = watched.page
    doc = FERRY_PAGE.replace("Harbour", "Quay").replace("newsletter", "news\u00adletter")
    blocks = api(server, "POST", "/v1/clean", {"html": doc, "blocks": True})["blocks"]
    texts = [b["text"] for b in blocks]
    signup = next(i for i, t in enumerate(texts) if t.startswith("Sign up"))
    share = next(i for i, t in enumerate(texts) if t.startswith("Share this"))
    as_in_a_file = texts[signup].replace("\u00ad", "").upper()
    api(server, "POST", "/v1/examples", {"labelled_by": "alice", "examples": [{"html": doc, "blocks": [
        {"text": as_in_a_file, "label": "junk"}, {"text": texts[share], "label": "junk"}]}]})

    open_page(page, server)
    label_blocks(page, doc)
    expect(page.locator("#status")).to_contain_text("2 labels as saved before")
    shown = shown_blocks(page)
    assert shown[signup]["label"] == "junk" and shown[share]["label"] == "junk"

    bob = {"html": doc, "blocks": [{"text": texts[share], "label": "teaser"}]}
    assert api(server, "POST", "/v1/examples", {"labelled_by": "bob", "examples": [bob]})["report"]["labels_changed"] == 1

    rows = page.locator("#blocks > li")
    rows.nth(0).locator(".text").click()
    page.get_by_role("button", name="3 teaser").click()  # block 1, from the toolbar
    page.keyboard.press(KEYS["related"])  # the list has the keys again: block 2
    assert [b["label"] for b in shown_blocks(page)][:2] == ["teaser", "related"]
    page.keyboard.press("Control+s")
    # the block named, as the list numbers it: which one was not applied could not be told
    expect(page.locator("#status")).to_contain_text(f"1 label not applied (block {share + 1})")

    stored = {b["text"]: b for b in stored_example(server, html=doc)["blocks"]}
    assert (stored[texts[share]]["label"], stored[texts[share]]["labelled_by"]) == ("teaser", "bob")
    assert stored[texts[0]]["label"] == "teaser" and stored[texts[1]]["label"] == "related"
    assert not watched.errors and not watched.dialogs


def hold_the_first_save(page) -> list:
    """Hold the page's first save (POST /v1/examples) until the test lets it go, as a store
    busy with another writer holds it for up to a minute; every other request goes on."""
    held: list = []

    def route(route):
        if route.request.method == "POST" and not held:
            held.append(route)
        else:
            route.continue_()

    page.route(lambda url: urllib.parse.urlsplit(url).path.endswith("/v1/examples"), route)
    return held


def test_a_label_given_while_a_save_is_on_its_way_is_not_called_saved(server, watched):
    """A save sends the labels as they were when it started. A label given before its answer
    came was not in it: the page stays unsaved (leaving it asks first), the status line says
    so, and the next save stores that label."""
    page = watched.page
    doc = ("Harbour tug retires after forty years\nThe tug will become a museum ship.\n"
           "Most read: Gulls nest on the night ferry\n")
    held = hold_the_first_save(page)
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    texts = [b["text"] for b in shown_blocks(page)]
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])  # block 1
    page.keyboard.press("Control+s")
    while not held:
        page.wait_for_timeout(50)
    page.keyboard.press(KEYS["related"])  # block 2, while the save is on its way
    held[0].continue_()
    expect(page.locator("#status")).to_contain_text("Saved as")
    assert unload_is_held(page)
    expect(page.locator("#status")).to_contain_text("not saved yet")
    stored = {b["text"]: (b["label"], b["reviewed"]) for b in stored_example(server, text=doc)["blocks"]}
    assert stored[texts[0]] == ("junk", True) and stored[texts[1]][1] is False

    page.keyboard.press("Control+s")
    # the first save's status says "Saved as" too: wait for the second's, on a busy machine
    expect(page.locator("#status")).not_to_contain_text("not saved yet", timeout=30_000)
    expect(page.locator("#status")).to_contain_text("Saved as")
    assert not unload_is_held(page)
    stored = {b["text"]: (b["label"], b["reviewed"]) for b in stored_example(server, text=doc)["blocks"]}
    assert stored[texts[0]] == ("junk", True) and stored[texts[1]] == ("related", True)
    assert not watched.errors and not watched.dialogs


def test_save_again_goes_out_at_once_while_the_saved_list_is_still_loading(server, watched):
    """Once the status line says "save again", Ctrl+S saves again, also while the list of saved
    pages that the first save refreshes is still on its way (the page counted the save as going
    on until that list came, and ignored the key)."""
    page = watched.page
    doc = ("Ferry timetable changes in spring\nThe night ferry leaves an hour later.\n"
           "Most read: Harbour seals counted\n")
    posts: list = []
    lists: list = []

    def route(route):
        if route.request.method == "POST":
            posts.append(route)
            if len(posts) > 1:
                route.continue_()
        elif posts:  # the saved list, asked for once the first save was answered
            lists.append(route)
        else:
            route.continue_()

    page.route(lambda url: urllib.parse.urlsplit(url).path.endswith("/v1/examples"), route)
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    texts = [b["text"] for b in shown_blocks(page)]
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])
    page.keyboard.press("Control+s")
    while not posts:
        page.wait_for_timeout(50)
    page.keyboard.press(KEYS["related"])
    posts[0].continue_()
    expect(page.locator("#status")).to_contain_text("not saved yet")
    while not lists:
        page.wait_for_timeout(50)
    page.keyboard.press("Control+s")
    for _ in range(200):
        if len(posts) > 1:
            break
        page.wait_for_timeout(50)
    for held in lists:
        held.continue_()
    assert len(posts) == 2, "the second save never went out"
    # "Saving…" (shown as the second save went out) holds no "not saved yet" either: wait for
    # the second save's answer before reading the store
    expect(page.locator("#status")).not_to_contain_text("not saved yet", timeout=30_000)
    expect(page.locator("#status")).to_contain_text("Saved as", timeout=30_000)
    stored = {b["text"]: (b["label"], b["reviewed"]) for b in stored_example(server, text=doc)["blocks"]}
    assert stored[texts[1]] == ("related", True)
    assert not watched.errors and not watched.dialogs


def test_a_save_answered_after_another_page_was_opened_leaves_that_page_unsaved(server, watched):
    """The answer to a save of the page shown before must not mark the labels given on the page
    shown now as saved."""
    page = watched.page
    first = "Harbour crane inspected\nThe crane passed its yearly inspection.\n"
    second = "Harbour cafe opens a terrace\nThe terrace seats forty guests.\n"
    held = hold_the_first_save(page)
    open_page(page, server)
    label_blocks(page, first, fmt="text")
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])
    page.keyboard.press("Control+s")
    while not held:
        page.wait_for_timeout(50)
    watched.accept_dialogs = True  # its labels are not saved yet: yes, label the new page
    label_blocks(page, second, fmt="text")
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])  # a label on the second page, not saved
    # the list is read again once the answer has been dealt with
    with page.expect_response(lambda r: r.request.method == "GET" and "v1/examples?offset=0" in r.url):
        held[0].continue_()
    page.wait_for_timeout(200)
    assert unload_is_held(page)
    assert shown_blocks(page)[0]["label"] == "junk"
    assert stored_example(server, text=first)["blocks"][0]["label"] == "junk"
    assert not [e for e in stored_examples(server) if e.get("text") == second]
    assert len(watched.dialogs) == 1 and not watched.errors


def test_a_page_keeps_its_address_when_another_is_typed_into_the_form_before_saving(server, watched):
    """With the next page pasted and its address typed but not yet labelled (or refused by the
    service), saving the page shown stored it under that other page's address, which training
    then read as its site."""
    page = watched.page
    open_page(page, server)
    label_blocks(page, CAFE_PAGE, url="https://cafe.example/malmo")
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])
    page.get_by_label("Paste the page's HTML").fill(FERRY_PAGE)  # the next page, not labelled yet
    page.get_by_label("Page address").fill(PAGE_URL)
    page.get_by_role("button", name="Save labels").click()
    expect(page.locator("#status")).to_contain_text("Saved as")
    expect(page.locator("#status")).to_contain_text(
        "It keeps the address it was labelled with, https://cafe.example/malmo: the form holds "
        "another page now.")
    example = stored_example(server, html=CAFE_PAGE)
    assert example["url"] == "https://cafe.example/malmo"
    assert example["blocks"][0]["label"] == "junk"
    assert not watched.errors and not watched.dialogs


def test_pasted_text_after_a_file_is_detected_again_not_held_to_the_files_kind(server, watched):
    """Opening an HTML file set "The input is" to html, and text pasted next was refused as
    "does not look like HTML" (the reverse after a .txt file): the person never chose it."""
    page = watched.page
    fmt = page.get_by_label("The input is")
    open_page(page, server)
    open_file(page, "ferry.html", FERRY_PAGE.encode("utf-8"))
    expect(page.locator("#status")).to_contain_text("labelled by model")
    assert fmt.input_value() == "html"  # what the file is, while the form shows it
    text = "Harbour crane removed after forty years\nThe crane was taken down on Sunday.\n"
    page.get_by_label("Paste the page's HTML").fill(text)
    page.get_by_role("button", name="Label the blocks").click()
    expect(page.locator("#status")).to_contain_text("2 blocks labelled by model")
    assert fmt.input_value() == "auto"
    assert [b["text"] for b in shown_blocks(page)] == text.splitlines()
    # an edit of a text file that opens with "<" keeps it text (the selector shows it so)
    notes = ("<Editor's note> This story was updated on Friday with the council's answer.\n"
             "The council said the ferry will sail from June, after a two year pause.\n")
    textarea = page.get_by_label("Paste the page's HTML")
    open_text_file(page, "notes.txt", notes)  # the status line said "2 blocks" before it too
    textarea.press("Control+End")  # after the last line break: a line of its own
    page.keyboard.type("Sign up for our newsletter.")
    assert fmt.input_value() == "text"
    page.get_by_role("button", name="Label the blocks").click()
    expect(page.locator("#status")).to_contain_text("3 blocks labelled by model")
    # another text pasted over it, then undone: the file's text, and kind, are back
    edited = textarea.input_value()
    textarea.press("Control+a")
    page.keyboard.insert_text("Ferry news in brief")
    assert fmt.input_value() == "auto"
    textarea.press("Control+z")
    assert textarea.input_value() == edited and fmt.input_value() == "text"
    # a one-line file edited in the middle of its line is still that file
    one = "<Editor's note> The ferry sails at eleven from the mainland port, the council said.\n"
    open_text_file(page, "one.txt", one)
    textarea.press("Control+Home")
    for _ in range(20):
        textarea.press("ArrowRight")
    page.keyboard.type("x")
    assert fmt.input_value() == "text"
    # a fix in the middle of a short file is an edit (a window at its start or end missed it)
    open_text_file(page, "note.txt", "<Note> The ferryq sails tonight.\n")
    textarea.press("Control+Home")
    for _ in range(17):  # after the stray "q", the middle character
        textarea.press("ArrowRight")
    textarea.press("Backspace")
    assert textarea.input_value() == "<Note> The ferry sails tonight.\n"
    assert fmt.input_value() == "text"
    # fixes far apart, and a long part deleted, are edits too (judged against the file's own
    # text, two typo fixes at both ends made it "another document", sent and saved as HTML)
    typos = ("<Editor's note> This storry was updated on Friday with the council's answer.\n"
             "The night ferry will sail again from the first week of June.\n"
             "Island councils had asked for it because day ferries are full in sumer.\n")
    open_text_file(page, "typos.txt", typos)
    for wrong, right in (("storry", "story"), ("sumer", "summer")):
        at = textarea.input_value().index(wrong) + len(wrong)
        textarea.evaluate("(e, at) => e.setSelectionRange(at, at)", at)
        for _ in wrong:
            textarea.press("Backspace")
        page.keyboard.type(right)
        assert fmt.input_value() == "text"
    at = textarea.input_value().index("The night ferry")
    textarea.evaluate("(e, at) => e.setSelectionRange(at, e.value.length)", at)
    page.keyboard.type("A ferry returns in June.")  # typed over most of the text: still the file
    assert fmt.input_value() == "text"
    at = textarea.input_value().index("A ferry")
    textarea.evaluate("(e, at) => e.setSelectionRange(at, e.value.length)", at)
    textarea.press("Delete")
    assert fmt.input_value() == "text"
    page.get_by_role("button", name="Label the blocks").click()
    expect(page.locator("#status")).to_contain_text("1 block labelled by model")
    assert shown_blocks(page)[0]["text"].startswith("<Editor's note>")
    # so is a file whose first line is short, typed over after it (the first key typed decided:
    # one unlike the character it replaced made the text HTML)
    updated = ("<Updated>\nThe council said on Friday that the night ferry will sail again.\n"
               "Island councils had asked for the service because day ferries are full.\n")
    open_text_file(page, "updated.txt", updated)
    textarea.evaluate("(e, at) => { e.focus(); e.setSelectionRange(at, e.value.length); }",
                      len("<Updated>\n"))
    page.keyboard.type("A ferry returns in June.")
    assert textarea.input_value() == "<Updated>\nA ferry returns in June."
    assert fmt.input_value() == "text"
    # typed over all of a file, another document, though its first key is the file's first
    # character (it counted as an edit of the file: text was sent as HTML and refused)
    open_file(page, "ferry.html", FERRY_PAGE.encode("utf-8"))
    expect(fmt).to_have_value("html")
    textarea.press("Control+a")
    page.keyboard.type("<3 the new ferry\nIt sails at eleven.\n")
    assert fmt.input_value() == "auto"
    page.get_by_role("button", name="Label the blocks").click()
    expect(page.locator("#status")).to_contain_text("2 blocks labelled by model")
    open_file(page, "updated.txt", updated.encode("utf-8"), mime="text/plain")
    expect(fmt).to_have_value("text")
    textarea.press("Control+a")
    page.keyboard.type("<p>The ferry sails at <b>eleven</b> tonight, the council said.</p>")
    assert fmt.input_value() == "auto"
    # undo and redo bring back the kind of the text they bring back: here the typed page after
    # the file's text was pasted back over it (the selector kept the file's kind for it)
    textarea.press("Control+a")
    page.keyboard.insert_text(updated)
    assert fmt.input_value() == "text"
    textarea.press("Control+z")
    assert textarea.input_value().startswith("<p>The ferry") and fmt.input_value() == "auto"
    textarea.press("Control+Shift+z")
    assert textarea.input_value() == updated and fmt.input_value() == "text"
    # and a page pasted over a two-character file is another document, though both end in \n
    open_text_file(page, "tiny.txt", "x\n")
    textarea.press("Control+a")
    page.keyboard.insert_text(FERRY_PAGE)
    assert fmt.input_value() == "auto"
    # a format the person chose while a file is shown stays chosen for what is pasted next
    open_file(page, "ferry.html", FERRY_PAGE.encode("utf-8"))
    expect(fmt).to_have_value("html")  # the file is in the form (its text was pasted already)
    fmt.select_option("text")
    page.get_by_label("Paste the page's HTML").fill("<3 the new ferry\nIt sails at eleven.\n")
    assert fmt.input_value() == "text"
    assert not watched.errors


def test_undo_brings_back_the_kind_of_the_text_it_restores_however_long_ago_and_alike(server, watched):
    """The kind of each text was remembered per key press, the last thousand: an edited .txt
    file undone to after a long run of keys came back as HTML. And texts were told apart by
    their length and ends: a re-fetched copy of an HTML file (another nonce) pasted over it
    took the file's own entry, and undoing it gave the file the copy's kind."""
    page, fmt, textarea = opened_form(server, watched)
    note, edited = NOTE, edit_note(page, "A ferry returns in June.")
    assert fmt.input_value() == "text"
    textarea.press("Control+a")
    page.keyboard.insert_text("<html><body><p>Island councils asked for a second ferry.</p><p>"
                              + "Footer links and share buttons. " * 40 + "</p></body></html>")
    assert fmt.input_value() == "auto"
    textarea.press("Control+End")
    for _ in range(1001):
        page.keyboard.press("Backspace")
    for _ in range(5):
        if textarea.input_value() == edited:
            break
        textarea.press("Control+z")
    assert textarea.input_value() == edited and fmt.input_value() == "text"
    # a text pasted as another document, then made again by editing the file, is the file's
    # when an undo brings it back (the kind it had first came back: sent and saved as HTML)
    other = "<Ed. note> The night ferry returns in June, the transport authority said."
    open_text_file(page, "note.txt", note)
    textarea.press("Control+a")
    page.keyboard.insert_text(other)
    assert fmt.input_value() == "auto"
    textarea.press("Control+a")
    page.keyboard.insert_text(note)
    assert fmt.input_value() == "text"
    textarea.evaluate("e => { e.focus(); e.setSelectionRange(1, e.value.length); }")
    page.keyboard.insert_text(other[1:])  # the same text, now an edit of the file
    textarea.press("Home")
    page.keyboard.type("!")
    textarea.press("Control+z")
    assert textarea.input_value() == other and fmt.input_value() == "text"
    # another fetch of the file, of its length and ends, differing in a nonce after its first
    # and before its last 300 characters, pasted over it, then undone
    rule = "<!-- " + "=" * 300 + " -->\n"
    file_html = (f"{rule}<script nonce='a1b2c3d4'>track();</script>\n{FERRY_PAGE}"
                 f"<script nonce='a1b2c3d4'>done();</script>\n{rule}")
    copy_html = file_html.replace("a1b2c3d4", "z9y8x7w6")
    fmt.select_option("text")  # a choice for what is pasted: the file shows its own kind
    open_file(page, "ferry.html", file_html.encode("utf-8"))
    expect(fmt).to_have_value("html")
    textarea.press("Control+a")
    page.keyboard.insert_text(copy_html)
    assert fmt.input_value() == "text"
    textarea.press("Control+z")
    assert textarea.input_value() == file_html and fmt.input_value() == "html"
    assert not watched.errors


def test_a_file_emptied_key_by_key_is_the_file_again_at_every_undo(server, watched):
    """Emptying the box was a change of kind, recorded for the last character before it and
    the empty box: Chromium undoes a run of Backspaces in a few steps, to texts between them,
    and those took the empty box's "auto" (an edited .txt file opening with "<" came back sent
    as HTML)."""
    page, fmt, textarea = opened_form(server, watched)
    note, edited = NOTE, edit_note(page, "A ferry returns.")
    for _ in range(len(edited)):
        page.keyboard.press("Backspace")
    assert textarea.input_value() == "" and fmt.input_value() == "text"
    page.keyboard.type("Hello")  # into the emptied box: another document
    assert fmt.input_value() == "auto"
    restored = []
    for _ in range(8):
        textarea.press("Control+z")
        text = textarea.input_value()
        restored.append(text)
        if text and text != "Hello":
            assert fmt.input_value() == "text", text
        if text == note:
            break
    assert edited in restored and restored[-1] == note
    assert not watched.errors


def test_a_format_chosen_for_a_page_pasted_over_a_file_leaves_the_file_its_kind(server, watched):
    """A format chosen by hand for a page pasted over a file ended the file's hold on its kind:
    undone back to the file, a .txt file took the page's "html" and was saved as HTML."""
    page, fmt, textarea = opened_form(server, watched)
    note = "<Editor's note> This story was updated on Friday.\nThe council said so.\n"
    open_text_file(page, "note.txt", note)
    textarea.press("Control+a")
    page.keyboard.insert_text(FERRY_PAGE)
    assert fmt.input_value() == "auto"
    fmt.select_option("html")  # for the pasted page
    textarea.press("Control+z")
    assert textarea.input_value() == note and fmt.input_value() == "text"
    with page.expect_request(lambda r: r.url.endswith("/v1/clean")) as sent:
        page.get_by_role("button", name="Label the blocks").click()
    assert sent.value.post_data_json["text"] == note
    expect(page.locator("#status")).to_contain_text("labelled by model")
    textarea.press("Control+a")  # the page again: the format chosen for it
    page.keyboard.insert_text(FERRY_PAGE)
    assert fmt.input_value() == "html"
    assert not watched.errors


def test_a_format_chosen_in_the_emptied_box_leaves_the_file_its_kind(server, watched):
    """Chosen in the emptied box, before a page was pasted into it, a format was taken for a
    choice for the file (the box still held the file's kind): undone back to the file, a .txt
    file was sent and saved as HTML."""
    page, fmt, textarea = opened_form(server, watched)
    empty_the_file(page, "note.txt", NOTE, "Backspace")
    fmt.select_option("html")  # for the page about to be pasted
    textarea.focus()
    page.keyboard.insert_text(FERRY_PAGE)
    assert fmt.input_value() == "html"
    for _ in range(2):
        textarea.press("Control+z")
    assert textarea.input_value() == NOTE and fmt.input_value() == "text"
    assert not watched.errors


def test_a_format_chosen_in_the_emptied_box_holds_for_the_files_own_text_put_back(server, watched):
    """The file's own text pasted, or typed back, into the emptied box after a format was
    chosen for it took the file's kind again, near the file's text as it is: a .txt file of
    HTML markup chosen to be read as HTML was sent and saved as text, markup and all."""
    page, fmt, textarea = opened_form(server, watched)
    markup = "<h1>Night ferry returns</h1>\n<p>The night ferry will sail again in June.</p>\n"
    empty_the_file(page, "article.txt", markup)
    fmt.select_option("html")  # for what is put into the emptied box
    textarea.focus()
    page.keyboard.insert_text(markup)
    assert fmt.input_value() == "html"
    with page.expect_request(lambda r: r.url.endswith("/v1/clean")) as sent:
        page.get_by_role("button", name="Label the blocks").click()
    assert sent.value.post_data_json["html"] == markup
    expect(page.locator("#status")).to_contain_text("labelled by model")
    empty_the_file(page, "article.txt", markup)  # typed back key by key this time
    fmt.select_option("html")
    textarea.focus()
    page.keyboard.type(markup)
    assert textarea.input_value() == markup and fmt.input_value() == "html"
    # pasted for real (an undo then goes back to the emptied box): another page, undone, then
    # the file's text; the undo showed the file's kind and dropped the choice made there
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    empty_the_file(page, "article.txt", markup)
    fmt.select_option("html")
    for pasted in ("Plain words about ferries, said the harbour master.\n", markup):
        paste(page, pasted)
        assert textarea.input_value() == pasted and fmt.input_value() == "html"
        if pasted != markup:
            textarea.press("Control+z")
            assert textarea.input_value() == "" and fmt.input_value() == "html"
    assert not watched.errors


def test_a_choice_made_in_the_emptied_box_is_the_boxs_not_the_files_brought_back(server, watched):
    """A format chosen in the emptied box stayed on the file's text that undo brought back
    part by part after a run of Backspaces (an edit of a .txt file was then sent and saved as
    HTML), and was lost when a redo went back to the emptied box (the file's own markup
    pasted there was sent as text)."""
    page, fmt, textarea = opened_form(server, watched)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    markup = "<h1>Night ferry returns</h1>\n<p>The night ferry will sail again in June.</p>\n"
    open_text_file(page, "article.txt", markup)
    textarea.press("Control+End")
    for _ in range(len(markup)):
        page.keyboard.press("Backspace")
    fmt.select_option("html")  # for what is put into the emptied box
    textarea.press("Control+z")
    assert textarea.input_value() and fmt.input_value() == "text"
    page.keyboard.type(" ferry")  # an edit of the file's text
    assert fmt.input_value() == "text"
    empty_the_file(page, "article.txt", markup)
    fmt.select_option("html")
    textarea.press("Control+z")
    assert textarea.input_value() == markup and fmt.input_value() == "text"
    textarea.press("Control+Shift+z")
    assert textarea.input_value() == "" and fmt.input_value() == "html"
    paste(page, markup)
    assert textarea.input_value() == markup and fmt.input_value() == "html"
    assert not watched.errors


def test_undo_brings_back_the_format_chosen_for_a_document_not_an_older_or_later_one(server, watched):
    """A choice made in an emptied box, undone, came back for a later emptied box undo
    reached (every emptied box is one text): the file's own text pasted there was sent and
    saved as HTML. And a document undo brought back showed the format chosen last, for a
    later document, not its own: a text labelled as text was then sent and saved as HTML."""
    page, fmt, textarea = opened_form(server, watched)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    markup = "<h1>Night ferry returns</h1>\n<p>The night ferry will sail again in June.</p>\n"
    open_text_file(page, "article.txt", markup)
    textarea.press("Control+a")
    textarea.press("Control+x")
    fmt.select_option("html")  # for what is put into the emptied box
    textarea.press("Control+z")
    assert textarea.input_value() == markup and fmt.input_value() == "text"
    textarea.press("Control+End")
    page.keyboard.type("Updated.")  # an edit of the file
    textarea.press("Control+a")
    textarea.press("Control+x")  # emptied again, no choice made
    textarea.press("Control+v")
    textarea.press("Control+z")
    assert textarea.input_value() == "" and fmt.input_value() == "text"
    textarea.press("Control+v")
    assert textarea.input_value() == markup + "Updated." and fmt.input_value() == "text"

    empty_the_file(page, "article.txt", markup)
    for chosen, doc in (("text", NOTE), ("html", FRAGMENT)):
        textarea.press("Control+a")
        textarea.press("Delete")
        fmt.select_option(chosen)
        paste(page, doc)
        assert textarea.input_value() == doc and fmt.input_value() == chosen
    undo_until(textarea, NOTE, 4)
    assert textarea.input_value() == NOTE and fmt.input_value() == "text"
    assert not watched.errors


def test_undo_brings_back_the_format_chosen_for_an_edited_document(server, watched):
    """The format chosen for a document was remembered for the text it was pasted as, not for
    its edits: an edited text undone back to took the later document's "html" and was sent
    and saved as HTML."""
    page, fmt, textarea = opened_form(server, watched)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_text_file(page, "article.txt", "<h1>Night ferry returns</h1>\n")
    textarea.press("Control+a")
    paste(page, NOTE)
    fmt.select_option("text")
    textarea.press("Control+End")
    page.keyboard.type("Updated.")
    textarea.press("Control+a")
    paste(page, FRAGMENT)
    fmt.select_option("html")
    textarea.press("Control+z")
    assert textarea.input_value() == NOTE + "Updated." and fmt.input_value() == "text"
    assert not watched.errors


def test_undo_brings_back_a_documents_format_after_one_was_chosen_for_the_file(server, watched):
    """A format chosen for the file itself turned the memory off, and with it the format
    chosen for each other document: one brought back by redo took the file's and was saved
    as HTML."""
    page, fmt, textarea = opened_form(server, watched)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    markup = "<h1>Night ferry returns</h1><p>The night ferry will sail again in June.</p>"
    open_text_file(page, "article.txt", markup)  # (one line: Chromium's redo keeps it whole)
    note = "<Editor's note> This story was updated on Friday."
    textarea.press("Control+a")
    paste(page, note)
    fmt.select_option("text")
    textarea.press("Control+z")
    assert textarea.input_value() == markup
    fmt.select_option("html")  # for the file itself
    textarea.press("Control+Shift+z")
    assert textarea.input_value() == note and fmt.input_value() == "text"
    # a choice for the file covers its edits: an undo of one did not bring back an older one
    open_text_file(page, "article.txt", markup)
    fmt.select_option("html")  # for the file itself
    textarea.press("Control+End")
    page.keyboard.type(" Updated.")
    fmt.select_option("text")  # changed the person's mind, for the file and its edits
    textarea.press("Control+z")
    assert textarea.input_value() == markup and fmt.input_value() == "text"
    assert not watched.errors


def test_a_format_chosen_for_an_edited_document_holds_for_its_earlier_versions(server, watched):
    """A format is chosen for a document, not for the text the box holds when it is chosen:
    undone back to the document as pasted, before the edit the choice was made on, the box
    showed the format of that time ("auto"), and a note opening with "<" chosen as text was
    sent and saved as HTML. The same after a format was chosen for the file itself."""
    page, fmt, textarea = opened_form(server, watched)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    markup = "<h1>Night ferry returns</h1>\n"
    for for_the_file in (None, "html"):
        open_text_file(page, "article.txt", markup)
        if for_the_file:
            fmt.select_option(for_the_file)
        textarea.press("Control+a")
        paste(page, NOTE)
        textarea.press("Control+End")
        page.keyboard.type("Updated.")
        fmt.select_option("text")  # for the note, edited or not
        textarea.press("Control+z")
        assert textarea.input_value() == NOTE and fmt.input_value() == "text", for_the_file
        if for_the_file:
            # and undone back to the file, the format chosen for the file
            textarea.press("Control+z")
            assert textarea.input_value() == markup and fmt.input_value() == for_the_file
    assert not watched.errors


def test_a_format_chosen_for_the_file_on_an_edit_covers_the_file_as_opened(server, watched):
    """A format chosen for the file while an edit of it is shown is the file's as opened too:
    undone back to it from another document, the box kept that document's format, and a .txt
    file of markup chosen as HTML was sent as text."""
    page, fmt, textarea = opened_form(server, watched)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    markup = "<h1>Night ferry returns</h1>\n<p>The night ferry will sail again in June.</p>\n"
    open_text_file(page, "article.txt", markup)
    textarea.press("Control+End")
    page.keyboard.type("Updated.")
    fmt.select_option("html")  # for the file
    textarea.press("Control+z")
    textarea.press("Control+a")
    paste(page, NOTE)
    fmt.select_option("text")  # for the note
    undo_until(textarea, markup, 3)
    assert textarea.input_value() == markup and fmt.input_value() == "html"
    assert not watched.errors


def test_a_choice_cut_off_by_an_edit_leaves_a_later_emptied_box_the_last_format(server, watched):
    """A choice made in an emptied box, undone and cut off by an edit, still came back, as
    the format remembered for the empty text, when a redo reached a later emptied box: a
    page pasted there was sent and saved as HTML where the last choice was text."""
    page, fmt, textarea = opened_form(server, watched)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    markup = "<h1>Night ferry returns</h1>\n"
    open_text_file(page, "article.txt", markup)
    note = "<Editor's note> This story was updated on Friday."
    textarea.press("Control+a")
    textarea.press("Control+x")
    fmt.select_option("html")  # for the emptied box
    textarea.press("Control+z")
    textarea.press("Control+End")
    page.keyboard.type("Updated.")  # an edit of the file: that choice is out of reach
    textarea.press("Control+a")
    paste(page, note)
    fmt.select_option("text")
    textarea.press("Control+a")
    textarea.press("Control+x")
    textarea.press("Control+z")
    textarea.press("Control+Shift+z")
    assert textarea.input_value() == "" and fmt.input_value() == "text"
    assert not watched.errors


def test_the_current_block_keeps_its_focus_ring_after_saved_labels_load_and_a_label_key(server, watched):
    """Painting a row's label replaced its classes, the `active` one too: after the saved labels
    of a page came back, or a label key on the last block, no row showed where the keys act."""
    page = watched.page
    doc = "Harbour festival this weekend\nThe festival opens on Friday with a parade.\n"
    store_labels(server, "text", doc, {0: "content", 1: "content"})
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    expect(page.locator("#status")).to_contain_text("as saved before")
    active = page.locator("#blocks > li.active")
    expect(active).to_have_count(1)
    assert active.get_attribute("id") == page.locator("#blocks").get_attribute("aria-activedescendant")
    page.keyboard.press("End")
    page.keyboard.press(KEYS["junk"])
    expect(active).to_have_count(1)
    assert active.get_attribute("id") == "block-1"


def test_a_damaged_or_empty_file_is_named_not_taken_for_a_network_failure(server, watched):
    page = watched.page
    open_page(page, server)
    open_file(page, "page.html.gz", b"<html>not gzip</html>", mime="application/gzip")
    expect(page.locator("#status")).to_have_text("Reading the file failed: page.html.gz is not gzip data.")
    open_file(page, "blank.html", b"")
    expect(page.locator("#status")).to_have_text("blank.html is empty.")
    open_file(page, "bom.txt", b"\xef\xbb\xbf\r\n  \n", mime="text/plain")
    expect(page.locator("#status")).to_have_text("bom.txt holds no text.")
    expect(page.locator("#result")).to_be_hidden()
    assert not watched.errors


def test_right_to_left_lines_of_the_clean_text_run_from_the_right(server, watched):
    page = watched.page
    doc = "המעבורת הלילית חוזרת לפעול בקיץ הקרוב, כך הודיעה הרשות.\nThe ferry returns.\n"
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    assert page.eval_on_selector("#clean-text", "e => getComputedStyle(e).unicodeBidi") == "plaintext"


def test_at_400_percent_zoom_the_blocks_text_has_the_width_of_the_window(browser, tmp_path):
    """A 1280 px window zoomed to 400 % is 320 CSS px wide: the text column of each block was
    0 px there, and the page scrolled sideways (WCAG 1.4.10, reflow). A server of its own: its
    saved list holds only the pages saved here, so each is on the list's first page."""
    server = LabelServer(tmp_path, "--no-browser", env={"NOISEFILTER_API_KEY": API_KEY})
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = Watched(context).page
        open_page(page, server)
        label_blocks(page, FERRY_PAGE, url=PAGE_URL)
        width = page.eval_on_selector("#block-0 .text", "e => e.getBoundingClientRect().width")
        assert width > 200, width
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        page.keyboard.press("Control+s")
        expect(page.locator("#status")).to_contain_text("Saved as")
        page_cell = page.locator("table.saved td.page")
        expect(page_cell).to_have_text(PAGE_URL)
        assert page_cell.bounding_box()["width"] > 90  # the address wraps, it is not cut
        assert page_cell.evaluate("e => e.scrollWidth <= e.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        # an address is shown whole, wrapped, also in a wide window: two pages of a site may
        # differ only at its end (the stylesheet cut it with an ellipsis above 600 px)
        long_url = PAGE_URL + "/" + "section-" * 12 + "story-1.4471203"
        label_blocks(page, "Ferry timetable\nThe night ferry sails at eleven.\n", url=long_url, fmt="text")
        page.keyboard.press("Control+s")
        expect(page.locator("table.saved td.page").nth(1)).to_have_text(long_url)
        page.set_viewport_size({"width": 1280, "height": 800})
        assert page.locator("table.saved td.page").nth(1).evaluate("e => e.scrollWidth <= e.clientWidth")
        page.set_viewport_size({"width": 320, "height": 640})
        # a page without an address shows the start of its first block, not all of it
        long_line = "The harbour authority said on Monday that " + "the ferry will sail again " * 30
        label_blocks(page, long_line + "\nSecond line.\n", url="", fmt="text")
        page.keyboard.press("Control+s")
        cell = page.locator("table.saved td.page").nth(2)
        expect(cell).to_have_attribute("title", long_line.strip())
        assert len(cell.text_content()) == 81 and cell.bounding_box()["height"] < 250  # was 1,477 px
        # cut by what a reader sees as characters: a flag is one, though two code points
        label_blocks(page, "x" * 79 + "\U0001F1F8\U0001F1EA Swedish ferry news\nSecond line.\n", fmt="text")
        page.keyboard.press("Control+s")
        expect(page.locator("table.saved td.page").nth(3)).to_have_text("x" * 79 + "\U0001F1F8\U0001F1EA…")
    finally:
        context.close()
        server.stop()


#: a short text document for the keyboard, mouse and save tests below (three blocks)
SHORT_DOC = ("Ferry pier closed for a week\nThe pier reopens on Monday after repairs.\n"
       "Most read: Seals return to the harbour\n")


def test_keys_past_the_labels_ctrl_a_and_arrow_up_at_the_top(server, watched):
    """A digit with no label behind it changes nothing (a label-less block could not be saved);
    ArrowUp on the first block keeps it selected; Ctrl+A in the list selects every block."""
    page = watched.page
    open_page(page, server)
    label_blocks(page, SHORT_DOC, fmt="text")
    before = shown_blocks(page)
    # a digit with no label behind it (4 labels: 5-9) changes nothing
    page.keyboard.press("Home")
    page.keyboard.press("5")
    page.keyboard.press("9")
    assert shown_blocks(page) == before and not unload_is_held(page)
    # ArrowUp on the first block stays there: the next key labels it
    page.keyboard.press("ArrowUp")
    assert [b["selected"] for b in shown_blocks(page)] == [True, False, False]
    page.keyboard.press(KEYS["junk"])
    assert shown_blocks(page)[0]["label"] == "junk"
    # Ctrl+A in the list selects every block, from wherever the focus is
    page.keyboard.press("End")
    page.keyboard.press("Control+a")
    assert all(b["selected"] for b in shown_blocks(page))
    page.keyboard.press(KEYS["teaser"])
    assert [b["label"] for b in shown_blocks(page)] == ["teaser"] * 3
    assert not watched.errors and not watched.dialogs


def test_a_chip_clicked_inside_a_selection_labels_the_whole_selection(server, watched):
    """A chip labels its block, or the whole selection it belongs to (the page's help)."""
    page = watched.page
    open_page(page, server)
    label_blocks(page, SHORT_DOC.replace("week", "fortnight"), fmt="text")
    rows = page.locator("#blocks > li")
    rows.nth(0).locator(".text").click()
    rows.nth(2).locator(".text").click(modifiers=["Shift"])
    rows.nth(1).locator(".chip[data-label=junk]").click()  # inside the run
    assert [b["label"] for b in shown_blocks(page)] == ["junk"] * 3
    assert not watched.errors and not watched.dialogs


def test_a_second_save_does_not_undo_a_correction_saved_elsewhere_after_the_first(server, watched):
    """The person's label, once saved, carries the time the store gave it: saved again from the
    same tab later, it must not replace a correction someone else saved in between."""
    page = watched.page
    doc = SHORT_DOC.replace("pier", "jetty")
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    texts = [b["text"] for b in shown_blocks(page)]
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["junk"])  # block 1
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    # bob corrects block 1 in another tab
    api(server, "POST", "/v1/examples", {"labelled_by": "bob", "examples": [
        {"text": doc, "blocks": [{"text": texts[0], "label": "teaser"}]}]})
    page.keyboard.press(KEYS["related"])  # block 2 (the page moved on), then save again
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("1 label not applied (block 1)")
    stored = {b["text"]: (b["label"], b["labelled_by"]) for b in stored_example(server, text=doc)["blocks"]}
    assert stored[texts[0]] == ("teaser", "bob")
    assert stored[texts[1]][0] == "related"


def test_a_stored_label_corrected_here_is_saved_with_the_time_of_the_correction(server, watched):
    """A correction carried the replaced label's time: a later label saved elsewhere beat it."""
    page = watched.page
    doc = SHORT_DOC.replace("pier", "slipway")
    store_labels(server, "text", doc, {0: "junk"})
    old_time = stored_example(server, text=doc)["blocks"][0]["labelled_at"]
    open_page(page, server)
    label_blocks(page, doc, fmt="text")
    expect(page.locator("#status")).to_contain_text("as saved before")
    page.keyboard.press("Home")
    page.keyboard.press(KEYS["related"])
    page.keyboard.press("Control+s")
    expect(page.locator("#status")).to_contain_text("Saved as")
    block = stored_example(server, text=doc)["blocks"][0]
    assert block["label"] == "related" and block["labelled_at"] > old_time


def test_text_files_in_utf16_or_windows_1252_open_as_their_text_and_can_be_opened_again(server, watched):
    """Notepad's "Unicode" (UTF-16 with its mark) and windows-1252 text files; the file input is
    emptied so that the same file, changed on disk, can be chosen again."""
    page = watched.page
    text = "Café in Malmö reopens\nZoë and André thanked their regulars.\n"
    box = page.get_by_label("Paste the page's HTML")
    open_page(page, server)
    open_file(page, "note-utf16.txt", b"\xff\xfe" + text.encode("utf-16-le"), mime="text/plain")
    expect(box).to_have_value(text)
    box.fill("")
    open_file(page, "note-1252.txt", text.encode("cp1252"), mime="text/plain")
    expect(box).to_have_value(text)
    # the input is emptied, so that choosing the same file again (changed on disk) opens it
    expect(page.get_by_label("…or open a file")).to_have_value("")
    assert not watched.errors


def test_the_labellers_name_is_remembered_on_the_next_visit(server, watched):
    """Forgotten, every label would be stored under the default name "api"."""
    page = watched.page
    open_page(page, server)
    name = page.get_by_label("Labelled by")
    if not name.is_visible():  # in the closed "Service settings"
        page.locator("details.service summary").click()
    name.fill("carol")
    name.blur()
    open_page(page, server)  # reloads the page
    expect(page.get_by_label("Labelled by")).to_have_value("carol")
