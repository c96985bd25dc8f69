"""`noisefilter serve` and `noisefilter label`: run the service with uvicorn.

One uvicorn process is enough: its event loop only parses requests and waits for the cleaning
processes, and `--workers` sets how many of those there are (default: one per core). Running
several uvicorn processes would multiply the pools and split the metrics.
"""

from __future__ import annotations

import argparse
import atexit
import copy
import errno
import importlib.util
import logging
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import webbrowser

from .settings import Settings, unknown_variables


#: seconds a SIGTERM/SIGINT waits for requests being cleaned to finish before cutting them off
GRACE = 30
#: seconds before the end of `GRACE` at which documents still being cleaned are stopped, so
#: that their requests are answered (503 not_ready) before the server closes the connections
CUT_OFF_MARGIN = 2


def serve_add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags override NOISEFILTER_<NAME> environment variables, which override the defaults."""
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, help="port (default 8000)")
    parser.add_argument("--workers", type=int, help="cleaning processes (default: one per core)")
    parser.add_argument("--model", help="model file name in the models folder, or a path "
                                        "(default: the active model)")
    parser.add_argument("--max-bytes", type=int, help="largest document in bytes (default 10 MB)")
    parser.add_argument("--timeout", type=float, help="seconds one document may take (default 30)")
    parser.add_argument("--max-body-bytes", type=int,
                        help="largest request body (default 3 x max-bytes + 64 KiB)")
    parser.add_argument("--max-batch", type=int, help="most documents per batch (default 64)")
    parser.add_argument("--queue-timeout", type=float,
                        help="seconds a request may wait for a free cleaning process (default 30)")
    parser.add_argument("--favor-precision", action="store_true", default=None,
                        help="favor_precision for every document that does not say otherwise: "
                             "stricter content thresholds")
    parser.add_argument("--examples-db", help="example store file (default "
                                              "~/.local/share/noisefilter/examples.db)")
    parser.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--allowed-hosts", metavar="NAMES",
                        help="on a loopback address, Host names to answer besides localhost and "
                             "loopback addresses (comma-separated; * for any), e.g. the public "
                             "name a proxy on this machine passes on")
    parser.epilog = ("The API key of the example store and reload endpoints is read from "
                     "NOISEFILTER_API_KEY only (a flag would show it in the process list).")


def _settings(args: argparse.Namespace) -> Settings:
    """The settings of flags and environment; a variable that is no setting, and a body limit
    below the document limit (documents between the two are refused as bodies, 413, whatever
    --max-bytes says), are warned about (on standard error, before anything starts)."""
    names = ("host", "port", "workers", "model", "max_bytes", "timeout", "max_body_bytes",
             "max_batch", "queue_timeout", "favor_precision", "examples_db", "log_level",
             "allowed_hosts")
    for warning in unknown_variables():
        print(f"noisefilter: warning: {warning}", file=sys.stderr)
    settings = Settings.from_env(**{n: getattr(args, n, None) for n in names})
    if settings.body_limit < settings.max_bytes:
        print(f"noisefilter: warning: the request body limit ({settings.body_limit:,} bytes, "
              f"--max-body-bytes) is below the document limit ({settings.max_bytes:,} bytes, "
              "--max-bytes): a larger document is refused as a body", file=sys.stderr)
    return settings


def open_to_anyone(settings: Settings) -> str | None:
    """The warning for a service reachable from other machines without an API key (an empty
    NOISEFILTER_API_KEY, an unset secret passed through, is no key): anyone who reaches it can
    write to the example store and switch the model."""
    from .hosts import is_loopback

    if settings.api_key is not None or is_loopback(settings.host):
        return None
    return (f"serving on {settings.host} without NOISEFILTER_API_KEY: anyone who can reach "
            "this service can add examples to its store and reload its model")


def _run(settings: Settings, on_started=None) -> int:
    import uvicorn

    from filter import ModelError
    from filter.modelfile import check_model_file

    from .app import create_app, startup_model

    try:  # a missing or altered model: one line, not uvicorn's start-up traceback
        check_model_file(startup_model(settings.model))
    except ModelError as err:
        print(f"noisefilter: cannot serve: {err}", file=sys.stderr)
        return 3

    try:  # the pool's model copies and multiprocessing's fork server socket live there
        tempfile.TemporaryDirectory(prefix="noisefilter-check-").cleanup()
    except OSError as err:
        print(f"noisefilter: cannot serve: no writable temporary folder ({err}); set TMPDIR to "
              f"a folder this user can write", file=sys.stderr)
        return 3

    try:  # a busy port: one line now, not a log of the pool starting and then failing
        _check_port(settings.host, settings.port)
    except OSError as err:
        where = _address(settings.host, settings.port)
        print(f"noisefilter: cannot serve: {where} is in use (--port)"
              if err.errno == errno.EADDRINUSE else
              f"noisefilter: cannot serve: cannot listen on {where}: {err.strerror or err}",
              file=sys.stderr)
        return 3

    logging.basicConfig(format="%(levelname)s:     %(name)s: %(message)s")
    logging.getLogger("noisefilter").setLevel(settings.log_level.upper())
    app = create_app(settings, check_host=True)  # on a loopback address: its Host check
    warning = open_to_anyone(settings)
    if warning:
        logging.getLogger("noisefilter.api").warning(warning)
    config = uvicorn.Config(app, host=settings.host, port=settings.port,
                            log_level=settings.log_level, timeout_graceful_shutdown=GRACE,
                            log_config=_log_config())

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            # requests queued for a process are answered now (503), not cut off after GRACE
            pool = getattr(app.state, "pool", None)
            if pool is not None:
                pool.drain(cut_off_after=GRACE - CUT_OFF_MARGIN)
            super().handle_exit(sig, frame)

    server = Server(config)
    if on_started is not None:
        def wait_then_call():
            while not server.started and not server.should_exit:
                time.sleep(0.1)
            if server.started:
                on_started(server)
        threading.Thread(target=wait_then_call, daemon=True).start()
    exit_handlers_first = (threading.current_thread() is threading.main_thread()
                           and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
    if exit_handlers_first:
        signal.signal(signal.SIGTERM, _end_by_signal)
    try:
        server.run()
    finally:
        if exit_handlers_first:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # uvicorn has already logged why start-up failed (a model that cannot be loaded, a port
    # taken since `_check_port`); 3 is the status its own command line exits with then
    return 0 if server.started else 3


def _end_by_signal(signum: int, frame) -> None:
    """End the process by the signal uvicorn shut down on, as it does (it raises the signal
    again once the shutdown is over, so that process managers see the status they expect),
    but after the exit handlers. By the default action they never ran, and multiprocessing's
    is the one that removes its fork server's folder: every SIGTERM left a /tmp/pymp-* behind.
    That handler also sends SIGTERM to the cleaning processes left, then waits for them; they
    ignore it (`api.pool`), so any the shutdown has not stopped is killed first."""
    signal.signal(signum, signal.SIG_DFL)
    for process in multiprocessing.active_children():
        process.kill()
    atexit._run_exitfuncs()
    os.kill(os.getpid(), signum)


def _log_config() -> dict:
    """uvicorn's logging, with its access log on standard error beside every other line of the
    service (uvicorn writes it to standard output: an operator sending standard error to the
    log, as the README says, lost every request's line)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def _check_port(host: str, port: int) -> None:
    """Raise the `OSError` that uvicorn's own binding would meet (a port in use, an address
    not on this machine, a name that does not resolve), before the cleaning processes start:
    a busy port logged the pool starting, then failed among its shutdown lines. Each address
    the host names is bound as asyncio binds it (`SO_REUSEADDR`, IPv6 only on IPv6) and let
    go at once; uvicorn binds them itself, as for any host, so names and families are read as
    before. A port taken between the two is uvicorn's to report, as it was."""
    if port == 0:  # any free port: nothing to find in use
        return
    for family, kind, proto, _, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind(address)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _page_address(host: str, server) -> str:
    """The labelling page's address on the port the server listens on (`--port 0` picks one),
    on this machine when it listens on every address, IPv6 hosts in brackets."""
    port = next(sock.getsockname()[1] for listener in server.servers for sock in listener.sockets)
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://{_address(host, port)}/label"


def _missing_extra() -> str | None:
    """What the service needs and this install lacks, or None: `pip install .` alone is the
    library, and `serve` then ended in a traceback (No module named 'uvicorn')."""
    missing = [m for m in ("fastapi", "uvicorn", "prometheus_client")
               if importlib.util.find_spec(m) is None]
    return (f"the HTTP service needs the api extra ({', '.join(missing)} missing): "
            'pip install ".[api]" from the noisefilter repository') if missing else None


def _startup_settings(args: argparse.Namespace, command: str) -> Settings | None:
    """The service's settings from `args`, or None (the reason printed for `noisefilter
    COMMAND`, which exits 2) for bad options or an install without the api extra."""
    try:
        settings = _settings(args)
    except ValueError as err:
        print(f"noisefilter {command}: {err}", file=sys.stderr)
        return None
    missing = _missing_extra()
    if missing:
        print(f"noisefilter {command}: {missing}", file=sys.stderr)
        return None
    return settings


def serve_run(args: argparse.Namespace) -> int:
    settings = _startup_settings(args, "serve")
    return 2 if settings is None else _run(settings)


def label_add_arguments(parser: argparse.ArgumentParser) -> None:
    serve_add_arguments(parser)
    parser.add_argument("--no-browser", action="store_true", help="only print the page's address")


def label_run(args: argparse.Namespace) -> int:
    """Start the service on this machine and open its labelling page once it is ready."""
    settings = _startup_settings(args, "label")
    if settings is None:
        return 2
    # saving labels is what the page is for: a store that cannot be opened stops label now,
    # not with every save answered 503 (serve opens it only on first use)
    import sqlite3

    from train.store import ExampleStore, StoreError
    try:
        ExampleStore(settings.examples_db)
    except (StoreError, sqlite3.Error, OSError) as err:
        print(f"noisefilter label: cannot use the example store {settings.examples_db}: {err}",
              file=sys.stderr)
        return 2

    def announce(server) -> None:
        address = _page_address(settings.host, server)
        print(f"noisefilter: labelling page at {address}", flush=True)
        if not args.no_browser:
            webbrowser.open(address)

    return _run(settings, on_started=announce)
