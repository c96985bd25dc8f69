"""The cleaning process: what runs inside each process of the service's pool.

The service never cleans in its own process. lxml and trafilatura hold the GIL and cannot be
interrupted, so a document that takes too long would freeze every other request; in a separate
process it can simply be killed (`api.pool`). This module is the child's side of that: load the
model once, then answer jobs that arrive over a pipe until told to stop. It imports only the
library, never FastAPI, because the pool preloads it into a fork server and every worker starts
from that image.

Protocol (pickled tuples over a `multiprocessing` pipe):

- child → parent once: ``("ready", info)`` or ``("failed", message)``;
- parent → child: a `Job`, or ``None`` to stop;
- child → parent per job: ``("ok", result_dict, stats)`` or ``("error", code, message, stats)``,
  where `stats` is ``{"seconds": cleaning time, "peak_rss": bytes}``.
"""

from __future__ import annotations

import resource
import signal
import sys
import time
import traceback
from typing import NamedTuple

from threadpoolctl import threadpool_limits

from filter import Cleaner, Limits, NoiseFilterError
from filter.cleaner import clean_page


class Job(NamedTuple):
    """One document to clean: `kind` is ``"html"`` or ``"text"``; `charset` is the one a raw
    body's Content-Type named, for the cleaner to read its bytes in."""

    kind: str
    document: str | bytes
    url: str | None
    blocks: bool
    charset: str | None = None
    favor_precision: bool = False


def _peak_rss() -> int:
    """Peak resident memory of this process in bytes (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def describe(cleaner: Cleaner) -> dict:
    """What the parent needs to know about the loaded model (it never loads one itself)."""
    loaded = cleaner.loaded
    return {
        "version": cleaner.model_version,
        "path": str(loaded.path),
        "labels": cleaner.labels,
        "manifest": loaded.manifest,
    }


def run_job(cleaner: Cleaner, job: Job) -> tuple:
    """Clean one document and turn every outcome into a reply; nothing escapes as an exception,
    so one bad document cannot end the process."""
    started = time.monotonic()
    try:
        html, text = (job.document, None) if job.kind == "html" else (None, job.document)
        # False as None: the cleaner's own setting (off here), the keyword left out for it
        result = clean_page(cleaner, html, job.url, job.charset, text,
                            favor_precision=job.favor_precision or None)
        reply: tuple = ("ok", result.to_dict(blocks=job.blocks))
    except NoiseFilterError as err:
        reply = ("error", type(err).__name__, str(err))
    except Exception as err:  # a library bug: report it, keep the process serving
        traceback.print_exc(file=sys.stderr)
        reply = ("error", "InternalError", f"{type(err).__name__}: {err}")
    return (*reply, {"seconds": time.monotonic() - started, "peak_rss": _peak_rss()})


def serve(conn, model_path: str, max_bytes: int, timeout: float) -> None:
    """Entry point of a pool process: load the model, then clean jobs until told to stop or
    until the parent goes away (the pipe then ends, so no worker outlives the service)."""
    # Ctrl-C in the terminal reaches the whole process group, and so does SIGTERM from a
    # supervisor that stops the group (systemd's default KillMode, `timeout`): the parent
    # decides when we stop, after the documents being cleaned are finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        cleaner = Cleaner(model=model_path, limits=Limits(max_bytes=max_bytes, timeout=timeout))
    except Exception as err:
        conn.send(("failed", f"{type(err).__name__}: {err}"))
        return
    # One document at a time per process, and as many processes as cores: OpenMP/BLAS threads
    # would only compete with the other workers (and scikit-learn's OpenMP start-up per tree
    # costs more than the prediction on one page's blocks). Set after loading, so that every
    # library the model pulled in is covered.
    threadpool_limits(1)
    conn.send(("ready", {**describe(cleaner), "peak_rss": _peak_rss()}))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(run_job(cleaner, job))
