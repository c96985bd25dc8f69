"""`noisefilter serve` as users run it: a real uvicorn process on 127.0.0.1, over real HTTP.

The server runs in its own process group, so the test can check that stopping it (SIGTERM, as a
process manager does) leaves no cleaning process behind. Every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from filter.cli import main
from filter.modelfile import active_model_path, manifest_path

START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
PAGE = ("<html><head><title>Council approves new bridge</title></head><body><article>"
        "<h1>Council approves new bridge</h1>" + "".join(
            f"<p>The city council voted on Monday to build a new bridge over the river, a project "
            f"that will take {i + 2} years and cost more than planned.</p>" for i in range(6)) +
        "</article><footer><p>Sign up for our newsletter</p></footer></body></html>")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def start_server(tmp_path, *args: str, env: dict[str, str] | None = None,
                 program: tuple[str, ...] = ("-m", "filter.cli")):
    """`noisefilter serve` with one cleaning process in its own process group, once /readyz
    answers 200; returns the process (its standard error, the log, in `.log`; its standard
    output in `.out`; its temporary folder, `TMPDIR`, in `.tmp`) and its port."""
    port = free_port()
    log, printed = tmp_path / "server.log", tmp_path / "server.out"
    tmp = server_tmp(tmp_path)
    with log.open("wb") as err, printed.open("wb") as out:  # the server has its own copies
        proc = subprocess.Popen(
            [sys.executable, *program, "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--examples-db", str(tmp_path / "ex.db"), *args],
            env={**(os.environ if env is None else env), "TMPDIR": str(tmp)},
            stdout=out, stderr=err, start_new_session=True)
    proc.log, proc.out, proc.tmp = log, printed, tmp
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                if request(port, "GET", "/readyz")[0] == 200:
                    return proc, port
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
    except BaseException:
        stop_server(proc)
        raise


def server_tmp(tmp_path):
    """A temporary folder of the server's own, so that what a server killed by the test leaves
    (the pool's model copies, the fork server's socket) is not left in /tmp, and what a server
    that stopped by itself left can be seen."""
    tmp = tmp_path / "server-tmp"
    tmp.mkdir(exist_ok=True)
    return tmp


def stop_server(proc) -> None:
    """Kill what is left of the server's process group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(STOP_TIMEOUT)
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)


def metrics_showing(port: int, text: bytes, seconds: float) -> bytes:
    """The service's metrics once they show `text`, or as they are after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        metrics = request(port, "GET", "/metrics")[2]
        if text in metrics or time.monotonic() > deadline:
            return metrics
        time.sleep(0.2)


@pytest.fixture
def server(tmp_path):
    proc, port = start_server(tmp_path, env={**os.environ, "NOISEFILTER_MAX_BYTES": "100000",
                                             "NOISEFILTER_API_KEY": "k"})
    try:
        yield proc, port
    finally:
        stop_server(proc)


def test_real_server_cleans_limits_and_stops_cleanly(server):
    proc, port = server
    status, headers, body = request(port, "POST", "/v1/clean?url=https://city.example.org/bridge",
                                    PAGE.encode(), {"Content-Type": "text/html"})
    assert status == 200, body
    result = json.loads(body)
    assert result["model_version"] and result["label_counts"]
    assert result["title"] == "Council approves new bridge"

    # the limits come from the environment: 100,000-byte documents, a 264 KiB body limit
    status, _, body = request(port, "POST", "/v1/clean", b"<p>" + b"x" * 300_000 + b"</p>",
                              {"Content-Type": "text/html"})
    assert status == 413 and json.loads(body)["error"] == "payload_too_large"
    status, _, body = request(port, "POST", "/v1/clean", b"<p>" + b"x" * 150_000 + b"</p>",
                              {"Content-Type": "text/html"})
    assert status == 413 and "100,000" in json.loads(body)["detail"]
    # and the API key
    status, _, _ = request(port, "GET", "/v1/examples")
    assert status == 401
    status, _, _ = request(port, "GET", "/v1/examples", headers={"X-API-Key": "k"})
    assert status == 200

    status, _, body = request(port, "GET", "/metrics")
    assert status == 200 and b'noisefilter_http_requests_total{method="POST",route="/v1/clean",status="200"} 1.0' in body

    # every log line on standard error, the access log's too (uvicorn wrote those to standard
    # output, which an operator sending standard error to the log lost)
    assert '"POST /v1/clean?url=https://city.example.org/bridge HTTP/1.1" 200' in proc.log.read_text()
    assert "serving model" in proc.log.read_text() and proc.out.read_text() == ""

    proc.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then ends itself with the signal it caught
    assert proc.wait(STOP_TIMEOUT) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in proc.log.read_text(errors="replace")
    deadline = time.monotonic() + STOP_TIMEOUT
    while group_alive(proc.pid):  # the fork server and the cleaning processes go too
        assert time.monotonic() < deadline, "processes of the server outlived it"
        time.sleep(0.1)
    # and nothing of theirs is left in the temporary folder (multiprocessing's exit handler,
    # which removes the fork server's folder, did not run when the process ended by SIGTERM)
    assert list(proc.tmp.iterdir()) == []


LEAVES_ITS_PROCESSES = """
import sys
import api.pool

async def close(pool):  # as when uvicorn is forced to quit: the application's shutdown is skipped
    pass

api.pool.CleaningPool.close = close
if __name__ == "__main__":
    from filter.cli import main
    sys.exit(main())
"""


def test_sigterm_ends_the_server_whose_shutdown_left_cleaning_processes(tmp_path):
    """The exit handlers that run before the server ends by SIGTERM include multiprocessing's,
    which sends SIGTERM to the processes left and waits for them; cleaning processes ignore it,
    so the server waited for ever, unless it kills them first."""
    script = tmp_path / "serve.py"
    script.write_text(LEAVES_ITS_PROCESSES)
    proc, port = start_server(tmp_path, "--workers", "2", program=(str(script),),
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(STOP_TIMEOUT) == -signal.SIGTERM
        assert list(proc.tmp.iterdir()) == []
    finally:
        stop_server(proc)


@pytest.mark.parametrize("args, env, needle", [
    (["--workers", "0"], {}, "workers must be a positive number"),
    ([], {"NOISEFILTER_TIMEOUT": "soon"}, "NOISEFILTER_TIMEOUT must be a number"),
    (["--timeout", "inf"], {}, "timeout must be a finite number of seconds above 0"),
    ([], {"NOISEFILTER_QUEUE_TIMEOUT": "nan"}, "queue_timeout must be a finite number"),
    ([], {"NOISEFILTER_LOG_LEVEL": "verbose"}, "log_level must be one of critical, error"),
    ([], {"NOISEFILTER_FAVOR_PRECISION": "yes"}, "NOISEFILTER_FAVOR_PRECISION must be true or false"),
])
def test_bad_settings_stop_serve_with_a_message(args, env, needle, monkeypatch, capsys):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", *args]) == 2
    assert needle in capsys.readouterr().err


@pytest.mark.parametrize("key", ["clé-secrète", "key\n", " key"])
def test_an_api_key_no_header_can_carry_stops_serve(key, monkeypatch, capsys):
    """A key with a non-ASCII character never matched (Starlette reads a header's bytes as
    Latin-1, the key was compared in UTF-8), nor one ending in a newline or starting with a
    space (an HTTP header carries neither): every request was refused with 401."""
    from api.settings import Settings

    with pytest.raises(ValueError, match="NOISEFILTER_API_KEY must be printable ASCII"):
        Settings.from_env({"NOISEFILTER_API_KEY": key})
    monkeypatch.setenv("NOISEFILTER_API_KEY", key)
    assert main(["serve", "--port", "0", "--workers", "1"]) == 2
    assert "NOISEFILTER_API_KEY must be printable ASCII" in capsys.readouterr().err


@pytest.mark.parametrize("args, env", [(["--timeout", "3000000"], {}),
                                       ([], {"NOISEFILTER_TIMEOUT": "1e9"})])
def test_a_timeout_the_pool_cannot_wait_for_stops_serve(args, env, monkeypatch, capsys):
    """`Connection.poll` takes at most 2**31 ms (about 24.8 days): a longer --timeout started
    the service, and then every document failed with 500 (OverflowError)."""
    from api.settings import Settings

    with pytest.raises(ValueError, match="timeout must be at most 2,147,483 seconds"):
        Settings.from_env(env, timeout=float(args[1]) if args else None)
    assert Settings.from_env({}, timeout=2_147_483.0).timeout == 2_147_483.0
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0", "--workers", "1", *args]) == 2
    err = capsys.readouterr().err
    assert "timeout must be at most 2,147,483 seconds" in err and err.count("\n") == 1


def test_favor_precision_from_a_flag_or_the_environment(monkeypatch):
    """`serve --favor-precision` or NOISEFILTER_FAVOR_PRECISION (true or false, any case) sets
    the service's default; without the flag, the variable's value stands."""
    import argparse

    from api.server import _settings, serve_add_arguments
    from api.settings import Settings

    assert Settings.from_env({"NOISEFILTER_FAVOR_PRECISION": "TRUE"}).favor_precision is True
    assert Settings.from_env({"NOISEFILTER_FAVOR_PRECISION": "false"}).favor_precision is False
    assert Settings.from_env({}).favor_precision is False
    parser = argparse.ArgumentParser()
    serve_add_arguments(parser)
    monkeypatch.delenv("NOISEFILTER_FAVOR_PRECISION", raising=False)
    assert _settings(parser.parse_args(["--favor-precision"])).favor_precision is True
    assert _settings(parser.parse_args([])).favor_precision is False
    monkeypatch.setenv("NOISEFILTER_FAVOR_PRECISION", "true")
    assert _settings(parser.parse_args([])).favor_precision is True


def test_a_body_limit_below_the_document_limit_is_warned_about(monkeypatch, capsys):
    """`serve --max-bytes 50000000 --max-body-bytes 1000000` refused every document over 1 MB
    as a body (413) with no word at start-up; the default body limit is above it."""
    import argparse

    from api.server import _settings, serve_add_arguments

    parser = argparse.ArgumentParser()
    serve_add_arguments(parser)
    monkeypatch.delenv("NOISEFILTER_MAX_BODY_BYTES", raising=False)
    monkeypatch.delenv("NOISEFILTER_MAX_BYTES", raising=False)
    _settings(parser.parse_args(["--max-bytes", "50000000", "--max-body-bytes", "1000000"]))
    assert capsys.readouterr().err == (
        "noisefilter: warning: the request body limit (1,000,000 bytes, --max-body-bytes) is below "
        "the document limit (50,000,000 bytes, --max-bytes): a larger document is refused as a body\n")
    for argv in (["--max-bytes", "50000000"], ["--max-body-bytes", "20000000"]):
        _settings(parser.parse_args(argv))
        assert "warning" not in capsys.readouterr().err


def test_log_level_from_the_environment_in_any_case():
    from api.settings import Settings

    assert Settings.from_env({"NOISEFILTER_LOG_LEVEL": "WARNING"}).log_level == "warning"
    assert Settings.from_env({"NOISEFILTER_LOG_LEVEL": "Debug"}).log_level == "debug"


def test_serve_without_a_writable_temporary_folder_says_so_in_one_line(tmp_path, monkeypatch,
                                                                        capsys):
    import tempfile

    # as on a read-only root file system with no writable /tmp: the pool cannot copy its model
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    assert main(["serve", "--port", "0", "--workers", "1"]) == 3
    err = capsys.readouterr().err
    assert "no writable temporary folder" in err and "TMPDIR" in err
    assert "Traceback" not in err


def test_a_models_folder_that_does_not_exist_stops_serve(tmp_path, monkeypatch, capsys):
    from api.app import startup_model
    from filter import ModelError

    monkeypatch.setenv("NOISEFILTER_MODELS_DIR", str(tmp_path / "not-mounted"))
    with pytest.raises(ModelError, match="not a folder"):
        startup_model(None)
    assert main(["serve", "--port", "0", "--workers", "1"]) == 3
    assert "NOISEFILTER_MODELS_DIR" in capsys.readouterr().err


def test_serve_refuses_an_altered_model_in_one_line(tmp_path, capsys):
    model = tmp_path / "mine.joblib"
    shutil.copy(active_model_path(), model)
    shutil.copy(manifest_path(active_model_path()), manifest_path(model))
    data = bytearray(model.read_bytes())
    data[-10] ^= 1
    model.write_bytes(bytes(data))
    assert main(["serve", "--model", str(model), "--workers", "1"]) == 3
    err = capsys.readouterr().err
    assert f"model {model} does not match its manifest" in err and "Traceback" not in err


def test_label_prints_the_address_it_really_listens_on(tmp_path):
    """`--port 0` lets the system pick a port: the address printed (and opened) is that one."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "filter.cli", "label", "--no-browser", "--host", "127.0.0.1",
         "--port", "0", "--workers", "1", "--examples-db", str(tmp_path / "ex.db")],
        env={**os.environ, "TMPDIR": str(server_tmp(tmp_path))},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        while "labelling page at" not in line:
            assert proc.poll() is None and time.monotonic() < deadline, "label did not start"
            line = proc.stdout.readline()
        address = line.split("labelling page at ")[1].strip()
        assert address.startswith("http://127.0.0.1:") and address.endswith("/label")
        port = int(address.rsplit(":", 1)[1].split("/")[0])
        assert port != 0
        status, headers, body = request(port, "GET", "/label")
        assert status == 200 and b"<html" in body.lower()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT)


@pytest.mark.parametrize("host, needle", [
    ("127.0.0.1", "noisefilter: cannot serve: 127.0.0.1:{port} is in use (--port)"),
    ("192.0.2.1", "noisefilter: cannot serve: cannot listen on 192.0.2.1:{port}: "),
])
def test_a_port_that_cannot_be_listened_on_stops_label_in_one_line(host, needle, tmp_path):
    """A port in use (or an address not on this machine) was found only after the cleaning
    processes had started: uvicorn logged the start-up as complete, then the error, amid
    seven lines, and label exited after seconds."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "filter.cli", "label", "--no-browser", "--host", host,
             "--port", str(port), "--workers", "1", "--examples-db", str(tmp_path / "ex.db")],
            capture_output=True, text=True, timeout=START_TIMEOUT)
    assert done.returncode == 3
    assert done.stderr.startswith(needle.format(port=port)) and done.stderr.count("\n") == 1
    assert done.stdout == ""


@pytest.mark.parametrize("store", ["file", "file/ex.db", ""])
def test_label_refuses_an_example_store_it_cannot_use(store, tmp_path, monkeypatch, capsys):
    """A file that is no store, a path under a file, or an empty path: label started, and
    every label saved from its page was refused with 503."""
    import api.server

    monkeypatch.setattr(api.server, "_run", lambda *a, **k: pytest.fail("label served"))
    (tmp_path / "file").write_text("not a database, only some text\n")
    path = str(tmp_path / store) if store else ""
    assert main(["label", "--no-browser", "--examples-db", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"noisefilter label: cannot use the example store {path}: ")
    assert err.count("\n") == 1


def test_label_creates_the_folder_of_its_example_store(tmp_path, monkeypatch):
    """Opening the store at start-up must not refuse a folder that is not there yet."""
    import api.server

    monkeypatch.setattr(api.server, "_run", lambda *a, **k: 0)
    store = tmp_path / "new" / "folder" / "ex.db"
    assert main(["label", "--no-browser", "--examples-db", str(store)]) == 0
    assert store.is_file()


@pytest.mark.parametrize("command", ["serve", "label"])
def test_an_empty_host_is_refused(command, monkeypatch, capsys):
    """`--host ''` listened on every address, and label printed its page as http://:8000/label."""
    import api.server

    monkeypatch.setattr(api.server, "_run", lambda *a, **k: pytest.fail("served"))
    assert main([command, "--host", ""]) == 2
    assert f"noisefilter {command}: host must not be empty" in capsys.readouterr().err


#: a page that takes a cleaning process seconds: requests sent after it wait in the queue
SLOW_PAGE = ("<html><body><article>" + "".join(
    f"<p>Paragraph {i} of a very long report on the state of the national railways, its "
    f"timetables and its finances.</p>" for i in range(20_000)) + "</article></body></html>").encode()


#: `noisefilter serve` with a grace period of 6 s: documents still being cleaned are cut off
#: after 4 s (GRACE - CUT_OFF_MARGIN)
SHORT_GRACE = """
import sys

import api.server

api.server.GRACE = 6
if __name__ == "__main__":
    from filter.cli import main
    sys.exit(main())
"""


def test_a_document_still_cleaned_as_the_grace_period_ends_is_answered_not_ready(tmp_path):
    """The pool's cut-off must be wired to the server's grace period: without it, a document
    still being cleaned when the grace period ended got no answer or a bare 500."""
    import threading

    script = tmp_path / "serve.py"
    script.write_text(SHORT_GRACE)
    proc, port = start_server(tmp_path, "--timeout", "120", program=(str(script),),
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        answer = {}

        def post():  # a page of 60,000 paragraphs: 11 s on this 2-core machine
            try:
                answer["r"] = request(port, "POST", "/v1/clean", SLOW_PAGE * 3,
                                      {"Content-Type": "text/html"})
            except OSError as err:
                answer["r"] = (None, {}, repr(err).encode())

        sender = threading.Thread(target=post)
        sender.start()
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        sender.join(60)
        status, _, body = answer["r"]
        assert status == 503 and json.loads(body)["error"] == "not_ready", answer["r"]
    finally:
        stop_server(proc)


def test_a_body_still_uploading_as_the_grace_period_ends_is_answered_not_ready(tmp_path):
    """A client still sending its body when the grace period ended (slowly, or stalled) had
    its request cancelled by uvicorn: a plain-text 500 and an "Exception in ASGI application"
    traceback in the log, on every shutdown with such a client. It gets the JSON 503 of a
    document cut off then, and the server ends as usual."""
    script = tmp_path / "serve.py"
    script.write_text(SHORT_GRACE)
    proc, port = start_server(tmp_path, program=(str(script),),
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(b"POST /v1/clean HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/html"
                         b"\r\nContent-Length: 5000\r\nX-Request-ID: slow-upload\r\n\r\n<html>")
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            conn.settimeout(20)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503"), answer[:400]
        assert b"\r\nx-request-id: slow-upload" in head.lower(), head
        assert json.loads(body)["error"] == "not_ready", body
        assert proc.wait(STOP_TIMEOUT) in (0, -signal.SIGTERM)
        assert "Exception in ASGI application" not in proc.log.read_text(errors="replace")
    finally:
        stop_server(proc)


def test_the_label_page_address_is_on_this_machine_when_listening_on_every_address():
    """`label --host 0.0.0.0` printed and opened http://0.0.0.0:…/label."""
    from types import SimpleNamespace

    from api.server import _page_address

    for host, shown in (("0.0.0.0", "127.0.0.1:8123"), ("::", "[::1]:8123"),
                        ("192.0.2.7", "192.0.2.7:8123")):
        socket_ = SimpleNamespace(getsockname=lambda: (host, 8123))
        server = SimpleNamespace(servers=[SimpleNamespace(sockets=[socket_])])
        assert _page_address(host, server) == f"http://{shown}/label"


@pytest.mark.parametrize("to_group", [False, True])
def test_sigterm_answers_queued_requests_at_once_and_finishes_the_running_one(tmp_path, to_group):
    """On SIGTERM the document being cleaned finishes; a request still waiting for a cleaning
    process gets 503 (retry elsewhere) at once, rather than waiting out the 30 s grace period
    and being cut off without an answer if the queue is longer than that. The same when the
    signal reaches the whole process group (systemd's default, `timeout`): it killed the
    cleaning processes, and the running document got 500."""
    import threading

    proc, port = start_server(tmp_path, "--timeout", "120", "--queue-timeout", "120")
    try:
        slow = SLOW_PAGE
        answers = {}

        def post(name):
            started = time.monotonic()
            try:
                status, _, body = request(port, "POST", "/v1/clean", slow,
                                          {"Content-Type": "text/html"})
            except OSError as err:
                status, body = None, repr(err).encode()
            answers[name] = (status, body, time.monotonic() - started)

        first = threading.Thread(target=post, args=("running",))
        first.start()
        time.sleep(1.0)  # the first is being cleaned
        second = threading.Thread(target=post, args=("queued",))
        second.start()
        time.sleep(1.0)  # the second waits for the only process
        signalled = time.monotonic()
        if to_group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        second.join(60)
        queued_after = time.monotonic() - signalled
        first.join(90)
        assert answers["running"][0] == 200, answers["running"]
        status, body, _ = answers["queued"]
        assert status == 503 and json.loads(body)["error"] == "not_ready", answers["queued"]
        assert "shutting down" in json.loads(body)["detail"]
        assert queued_after < 5
        assert proc.wait(STOP_TIMEOUT) in (0, -signal.SIGTERM)
        assert list(proc.tmp.iterdir()) == []
    finally:
        stop_server(proc)


def test_a_document_whose_client_left_while_it_waited_is_not_cleaned(tmp_path):
    """A crawler that times out and retries: its abandoned request, queued behind a slow one,
    was still cleaned when a process came free, and every later request waited for it."""
    import socket
    import threading

    proc, port = start_server(tmp_path, "--timeout", "120", "--queue-timeout", "120")
    try:
        slow = SLOW_PAGE
        answers = {}
        first = threading.Thread(target=lambda: answers.setdefault("slow", request(
            port, "POST", "/v1/clean", slow, {"Content-Type": "text/html"})))
        first.start()
        time.sleep(1.0)  # the slow one holds the only process
        with socket.create_connection(("127.0.0.1", port)) as gone:
            gone.sendall(b"POST /v1/clean HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/html\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(slow) + slow)
            time.sleep(1.0)  # queued behind the slow one; then the client gives up
        first.join(120)
        assert answers["slow"][0] == 200
        deadline = time.monotonic() + 30
        while True:
            _, _, metrics = request(port, "GET", "/metrics")
            if b'outcome="client_gone"} 1.0' in metrics or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert b'noisefilter_documents_total{input="html",outcome="client_gone"} 1.0' in metrics
        assert b'noisefilter_documents_total{input="html",outcome="ok"} 1.0' in metrics
    finally:
        stop_server(proc)


def test_a_document_whose_client_left_while_it_was_cleaned_is_counted_as_499(tmp_path):
    """Its answer reached no one; it was counted as a 200 (the client's leaving showed only to
    requests that were still waiting for a process)."""
    proc, port = start_server(tmp_path, "--timeout", "120")
    try:
        with socket.create_connection(("127.0.0.1", port)) as gone:
            gone.sendall(b"POST /v1/clean HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/html"
                         b"\r\nContent-Length: %d\r\n\r\n" % len(SLOW_PAGE) + SLOW_PAGE)
            time.sleep(1.0)  # being cleaned; then the client gives up
        metrics = metrics_showing(port, b'route="/v1/clean",status="', 120)
        assert b'route="/v1/clean",status="499"} 1.0' in metrics, metrics.decode()
        # and in the access log, where uvicorn wrote no line for it (its answer reached no one)
        assert '"POST /v1/clean HTTP/1.1" 499' in proc.log.read_text(), proc.log.read_text()
    finally:
        stop_server(proc)


def test_a_batch_whose_client_left_is_not_cleaned_to_the_end(tmp_path):
    """A batch's documents wait for the batch's own slots, not in the pool's queue: an
    abandoned batch of slow pages was cleaned in full, holding the processes for minutes."""
    import re

    proc, port = start_server(tmp_path, "--timeout", "120", "--queue-timeout", "120")
    try:
        batch = json.dumps({"documents": [{"html": SLOW_PAGE.decode()}] * 4}).encode()
        with socket.create_connection(("127.0.0.1", port)) as gone:
            gone.sendall(b"POST /v1/clean/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                         b"application/json\r\nContent-Length: %d\r\n\r\n" % len(batch) + batch)
            time.sleep(1.0)  # the first document is being cleaned; then the client gives up
        deadline = time.monotonic() + 120
        while True:
            _, _, metrics = request(port, "GET", "/metrics")
            counts = {outcome: float(n) for outcome, n in re.findall(
                rb'noisefilter_documents_total\{input="html",outcome="(\w+)"\} ([\d.]+)', metrics)}
            answered = b'route="/v1/clean/batch",status="' in metrics
            if (sum(counts.values()) >= 4 and answered) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        # the first is cleaned; the client's leaving shows by the second or third at the latest
        assert counts.get(b"client_gone", 0) >= 2 and counts.get(b"ok", 0) <= 2, counts
        # and the request is counted as one nobody received, as a single document's is
        assert b'route="/v1/clean/batch",status="499"} 1.0' in metrics, metrics.decode()
    finally:
        stop_server(proc)


def test_a_loopback_server_answers_only_requests_addressed_to_this_machine(server):
    """DNS rebinding: a web page whose own name was made to resolve to 127.0.0.1 reaches a
    loopback service with its name in Host; it must not read or write the example store."""
    _, port = server
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"[::1]:{port}", "[::1]:"):
        assert request(port, "GET", "/readyz", headers={"Host": host})[0] == 200, host
    for host in (f"rebound.example:{port}", "rebound.example", f"127.0.0.1.rebound.example:{port}",
                 "[::1].rebound.example", f"[::1]x:{port}"):
        status, _, body = request(port, "GET", "/v1/examples",
                                  headers={"Host": host, "X-API-Key": "k"})
        assert status == 421 and json.loads(body)["error"] == "misdirected_request", host
    headers = request(port, "GET", "/readyz", headers={"Host": "rebound.example"})[1]
    assert {k.lower(): v for k, v in headers.items()}.get("cache-control") == "no-store"


def test_a_service_on_every_interface_answers_any_host(tmp_path):
    """The host check is for a loopback service only: one listening on every interface (or a
    public address) is reached under names the operator chose, which it must answer."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    for host, answered in (("0.0.0.0", 200), ("127.0.0.1", 421)):
        app = create_app(Settings(host=host, workers=1, examples_db=tmp_path / "ex.db"),
                         check_host=True)
        with TestClient(app) as client:
            status = client.get("/healthz", headers={"Host": "cleaner.example.org"}).status_code
        assert status == answered, host


def test_a_request_without_a_host_header_is_answered(server):
    """HTTP/1.0 health checkers send no Host; they got 421 from a loopback service and no
    setting could allow them (browsers, which the check is against, always send one)."""
    _, port = server
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET /readyz HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_a_body_over_the_limit_by_its_length_is_refused_before_the_client_sends_it(server):
    """A client that asks first (`Expect: 100-continue`, as curl does for large bodies) is told
    413 without a "100 Continue" that would have it send 50 MB for nothing."""
    _, port = server
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST /v1/clean HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/html\r\n"
                     b"Content-Length: 50000000\r\nExpect: 100-continue\r\n\r\n")
        conn.settimeout(10)
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # a client that sends the body without asking, then another request on the connection, is
    # told the connection closes: the request it sent next was read as body and never answered
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST /v1/clean HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/html\r\n"
                     b"Content-Length: 50000000\r\n\r\n" + b"<p>" * 30000)
        conn.settimeout(10)
        answer = b""
        while chunk := conn.recv(65536):  # the server closes the connection after its answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413") and b"\r\nconnection: close\r\n" in answer.lower(), answer[:400]


def test_an_upload_the_client_abandons_is_counted_as_499_not_as_a_server_error(server):
    """A crawler that drops the connection mid-upload was counted as a 500, with no log line,
    response or error to explain the service's 5xx rate."""
    _, port = server
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(b"POST /v1/clean HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/html\r\n"
                         b"Content-Length: 50000\r\n\r\n<html><body>")
    body = metrics_showing(port, b'route="/v1/clean",status="499"} 2.0', 30)
    assert b'route="/v1/clean",status="499"} 2.0' in body, body.decode()
    assert b'route="/v1/clean",status="500"' not in body


def test_requests_refused_for_their_host_are_counted(server):
    """A proxy on this machine that passes a name not in --allowed-hosts gets 421 for every
    request: the host check sat outside the metrics, which then showed no traffic at all."""
    _, port = server
    for _ in range(3):
        status, _, _ = request(port, "POST", "/v1/clean", PAGE.encode(),
                               {"Host": "news.example.org", "Content-Type": "text/html"})
        assert status == 421
    _, _, body = request(port, "GET", "/metrics")
    assert (b'noisefilter_http_requests_total{method="POST",route="/v1/clean",status="421"} 3.0'
            in body), body.decode()


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LocalHost.", True), ("app.localhost", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("localhost.example", False), ("", False)])
def test_which_addresses_are_loopback(host, loopback):
    from api.hosts import is_loopback

    assert is_loopback(host) is loopback


def test_a_proxy_on_this_machine_may_pass_a_name_the_operator_allowed(tmp_path):
    proc, port = start_server(tmp_path, "--allowed-hosts", "News.Example, cleaner.internal")
    try:
        for host in ("news.example", f"cleaner.internal:{port}", "localhost"):
            assert request(port, "GET", "/readyz", headers={"Host": host})[0] == 200, host
        assert request(port, "GET", "/readyz", headers={"Host": "rebound.example"})[0] == 421
    finally:
        stop_server(proc)
    proc, port = start_server(tmp_path, "--allowed-hosts", "*")
    try:
        assert request(port, "GET", "/readyz", headers={"Host": "rebound.example"})[0] == 200
    finally:
        stop_server(proc)


def test_serving_beyond_this_machine_without_a_key_is_warned_about():
    """An empty NOISEFILTER_API_KEY (an unset secret passed through) is no key: on a public
    address the example store and reload are then open to anyone, which is said at start."""
    from api.server import open_to_anyone
    from api.settings import Settings
    public = Settings.from_env({"NOISEFILTER_API_KEY": ""}, host="0.0.0.0")
    assert "without NOISEFILTER_API_KEY" in open_to_anyone(public)
    assert open_to_anyone(Settings.from_env({"NOISEFILTER_API_KEY": "k"}, host="0.0.0.0")) is None
    assert open_to_anyone(Settings.from_env({}, host="127.0.0.1")) is None
