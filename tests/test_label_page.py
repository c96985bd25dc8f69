"""The labelling page as the service serves it, and `noisefilter label` opening it.

The page shows untrusted text, so what is checked here is what keeps it safe before any browser
runs it: a strict Content-Security-Policy on the page and its files, no inline script or style
the policy would have to allow, no way for the script to turn page text into markup, nothing
loaded from another origin, and no file served but the page's own. The browser test
(`test_label_browser.py`) then checks the behaviour in Chromium.

These tests use Starlette's client without entering it, so the app's lifespan (the pool of
cleaning processes) is not started: serving the page must not need it. Only the command-line
test starts a real server.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api.label import CONTENT_SECURITY_POLICY
from fastapi.testclient import TestClient

from api.app import create_app
from api.label import ASSETS, STATIC
from api.settings import Settings

REPO = Path(__file__).resolve().parent.parent
LABELS_MD = REPO / "docs" / "labels.md"
START_TIMEOUT = 60.0


# -- a real `noisefilter label` (also used by test_label_browser.py) ----------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelServer:
    """`noisefilter label` in its own process group, with the shipped model (no NOISEFILTER_*
    variable of the caller's leaks in) and its example store in `folder`. `url` is the address
    the command prints once the service is ready."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None):
        clean_env = {k: v for k, v in os.environ.items() if not k.startswith("NOISEFILTER_")}
        self.port = free_port()
        self.db = folder / "examples.db"
        self.log = folder / "label-server.log"
        with self.log.open("wb") as err:  # the server writes to its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "filter.cli", "label", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", "1", "--examples-db", str(self.db), *args],
                env={**clean_env, **(env or {})}, stdout=subprocess.PIPE, stderr=err,
                text=True, start_new_session=True)
        self.outlived = False
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._announced()

    def _read(self) -> None:
        with self.proc.stdout:  # closed at the server's end, not left to the garbage collector
            for line in self.proc.stdout:
                self.lines.put(line)

    def _announced(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            found = re.search(r"labelling page at (\S+)", line)
            if found:
                return found.group(1)
        self.stop()
        raise AssertionError("noisefilter label did not announce its page:\n"
                             + self.log.read_text(errors="replace"))

    def stop(self) -> None:
        """SIGTERM to the server, as a process manager stops it. Whatever of its process group
        is still there after a bounded wait is killed and remembered in `outlived`."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        deadline = time.monotonic() + 10
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.outlived = self._group_alive()
        if self.outlived:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    @property
    def stopped_cleanly(self) -> bool:
        """uvicorn ends itself with the SIGTERM it handled once it has shut down, hence
        -SIGTERM; the cleaning processes must have gone with it."""
        return (self.proc.returncode in (0, -signal.SIGTERM) and not self.outlived
                and "Application shutdown complete" in self.log.read_text(errors="replace"))


# -- the page as served -------------------------------------------------------------------------

class _Page(HTMLParser):
    """What the checks need from the page: its elements with their attributes, the text of
    each script element, and the `for` targets of its labels."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.script_text.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text[-1] += data


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    app = create_app(Settings(workers=1, examples_db=tmp_path_factory.mktemp("store") / "ex.db"))
    return TestClient(app)


@pytest.fixture(scope="module")
def page(client) -> _Page:
    parsed = _Page()
    parsed.feed(client.get("/label").text)
    return parsed


def csp_directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_the_page_is_served_with_a_strict_content_security_policy(client):
    response = client.get("/label")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = csp_directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    # scripts and styles from this origin only: no inline code, no eval, no other host
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["require-trusted-types-for"] == ["'script'"]
    assert policy["trusted-types"] == ["'none'"] and policy["form-action"] == ["'none'"]
    assert policy["img-src"] == ["'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_page_has_no_inline_code_and_loads_nothing_from_elsewhere(page, client):
    scripts = [attrs for tag, attrs in page.elements if tag == "script"]
    assert scripts and all(a.get("src") for a in scripts), "every script must be a file"
    assert all(not text.strip() for text in page.script_text), "inline script would be blocked"
    for tag, attrs in page.elements:
        assert not [a for a in attrs if a.startswith("on")], f"inline handler on <{tag}>"
        assert "style" not in attrs, f"inline style on <{tag}> would be blocked by style-src"
    loaded = [a.get("src") or a.get("href") for tag, a in page.elements
              if tag == "script" or (tag == "link" and a.get("rel") == "stylesheet")]
    assert sorted(loaded) == ["label/label.css", "label/label.js"]
    for ref in [*loaded, "label/icon.svg"]:  # relative to /label, as a browser resolves them
        response = client.get("/" + ref)
        assert response.status_code == 200, ref
        # the page's own headers: its policy, and revalidated (not the service's no-store)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, ref
        assert response.headers["cache-control"] == "no-cache", ref
    assert client.get("/label/label.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/label/label.css").headers["content-type"] == "text/css; charset=utf-8"


def test_the_page_names_its_icon_and_answers_head(page, client):
    """A page without an icon of its own makes every browser ask for /favicon.ico (a 404 in the
    console); uptime probes and link checkers ask with HEAD."""
    icons = [a.get("href") for tag, a in page.elements if tag == "link" and a.get("rel") == "icon"]
    assert icons == ["label/icon.svg"]
    icon = client.get("/" + icons[0])
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")
    for path in ("/label", "/label/label.js", "/label/icon.svg"):
        head = client.head(path)
        assert head.status_code == 200, path
        assert head.content == b"" and int(head.headers["content-length"]) == len(client.get(path).content)


def test_the_page_files_revalidate_without_being_sent_again(client):
    """`no-cache` has the browser ask at every load with the ETag of its copy; the answer was
    the whole file each time (the page, its 50 KB script, its style sheet), so the ETag saved
    nothing. A current copy is answered 304 with no body, and the page's own headers."""
    for path in ("/label", "/label/label.js", "/label/label.css", "/label/icon.svg"):
        first = client.get(path)
        etag = first.headers["etag"]
        for asked in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = client.get(path, headers={"If-None-Match": asked})
            assert again.status_code == 304 and again.content == b"", (path, asked)
            assert again.headers["etag"] == etag and again.headers["cache-control"] == "no-cache"
            assert again.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert client.head(path, headers={"If-None-Match": etag}).status_code == 304
        changed = client.get(path, headers={"If-None-Match": '"an-older-copy"'})
        assert changed.status_code == 200 and changed.content == first.content


def test_the_page_typed_with_a_slash_redirects_to_it_relatively(client):
    """The service redirects no trailing slash (an API client's is a 404), but a person typing
    /label/ gets the page; relative, so a proxy's prefix is kept."""
    response = client.get("/label/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "../label"
    followed = client.get("/label/")
    assert followed.status_code == 200 and str(followed.url).endswith("/label")
    assert client.head("/label/", follow_redirects=False).status_code == 307


@pytest.mark.parametrize("path", ["/label/label.html", "/label/app.py", "/label/..%2Fapp.py",
                                  "/label/%2e%2e%2flabel.py", "/label/label.js.map"])
def test_no_other_file_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_script_never_parses_strings_as_markup_or_code():
    """Page text reaches the DOM only through textContent; these are the ways it could become
    markup or code instead (the policy would stop some of them, but the script must not rely
    on that)."""
    source = (STATIC / "label.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "setAttribute(\"on", "createContextualFragment",
                 "DOMParser", "srcdoc"):
        assert sink not in source, sink
    assert re.search(r"setTimeout\(\s*[\"'`]", source) is None, "setTimeout with a string is eval"


def test_every_control_has_a_label(page):
    ids_with_label = {a.get("for") for tag, a in page.elements if tag == "label"}
    controls = [a for tag, a in page.elements if tag in ("input", "textarea", "select")]
    assert controls
    for attrs in controls:
        assert attrs.get("id") in ids_with_label, f"control {attrs} has no <label for=…>"
    html = next(a for tag, a in page.elements if tag == "html")
    assert html.get("lang") == "en"
    listbox = next(a for tag, a in page.elements if a.get("role") == "listbox")
    assert listbox.get("tabindex") == "0" and listbox.get("aria-labelledby")


def test_the_label_definitions_shipped_are_the_projects():
    """docs/labels.md is the project's LABELS.md (beside the repository in ../shared, where
    the shipped model's hand labels were given by it), for readers who have only a clone: the
    README, the model card and the retraining guide point to it."""
    shared = REPO.parent / "shared" / "LABELS.md"
    if not shared.is_file():
        pytest.skip("no ../shared/LABELS.md beside this checkout")
    assert LABELS_MD.read_bytes() == shared.read_bytes()


def test_keys_follow_the_label_order_of_labels_md():
    """Keys 1-4 are content, related, teaser, junk: the order of LABELS.md's table, which the
    page's help text repeats."""
    script = re.search(r"STANDARD_LABELS = \[([^\]]*)\]", (STATIC / "label.js").read_text())
    keyed = re.findall(r'"([a-z]+)"', script.group(1))
    assert keyed == ["content", "related", "teaser", "junk"]
    assert re.findall(r"^\| `([a-z]+)` \|", LABELS_MD.read_text(), re.M) == keyed
    help_text = re.sub(r"\s+", " ", (STATIC / "label.html").read_text())
    assert [label for _, label in re.findall(r"<kbd>(\d)</kbd> (\w+)", help_text)] == keyed


def test_the_page_files_are_installed_with_the_package():
    """`pyproject.toml` ships `api/static/*`; a file in a subfolder there would be left out
    of a wheel and the page would break only for installed users."""
    assert all(p.is_file() for p in STATIC.iterdir()), "package-data takes no subfolders"
    assert {"label.html", *ASSETS} <= {p.name for p in STATIC.iterdir()}


# -- `noisefilter label` ------------------------------------------------------------------------

def test_noisefilter_label_serves_the_page_and_opens_a_browser_on_it(tmp_path):
    """The command starts the service and hands the page's address to the `webbrowser` module;
    BROWSER points it at a script that records the address instead of opening a window."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "fake-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n')
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    server = LabelServer(tmp_path, env={"BROWSER": str(browser)})
    try:
        assert server.url == f"http://127.0.0.1:{server.port}/label"
        with urllib.request.urlopen(server.url, timeout=30) as response:
            assert response.status == 200
            assert b'<ol id="blocks"' in response.read()
        deadline = time.monotonic() + 10
        while not (opened.is_file() and opened.read_text()):
            assert time.monotonic() < deadline, "the browser was not asked to open the page"
            time.sleep(0.1)
        assert opened.read_text() == server.url
    finally:
        server.stop()
    assert server.stopped_cleanly, server.log.read_text(errors="replace")
