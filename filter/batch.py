"""Cleaning many documents: `clean_many` (worker processes) and the `noisefilter batch` command.

`clean_many` runs a small pool of its own instead of `concurrent.futures` or
`multiprocessing.Pool`, because neither can stop one hung document: a document that overruns
its time limit has its worker killed and replaced, and only that document fails. Each worker
holds one task at a time, so the parent always knows which document a worker is on and since
when. The rest follows from crawl-scale inputs:

- results come back in input order, through a reorder buffer;
- the input is read lazily and at most `max_in_flight` documents are read but not yet handed
  back, so an input of any size is streamed in bounded memory; one document per worker is read
  ahead while the workers are busy, so that no worker waits for the input to be read;
- the input is read in a thread of its own (`_Feeder`), so that an input that blocks (a
  generator waiting on the network, a named pipe waiting for its producer) holds back neither
  the results already finished nor the time limits of the documents being cleaned;
- every document yields an `Outcome`: its result, or a `Failure` (the library's error, a time
  out, a crashed worker). Only a model that cannot be loaded at all raises.

Workers run with one BLAS/OpenMP thread each: the classifier's gradient boosting uses OpenMP,
and letting every worker start as many threads as there are cores oversubscribes the machine
(on 2 cores, two workers with two OpenMP threads each ran several times slower than with one).
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import importlib.util
import json
import logging
import multiprocessing
import operator
import os
import pickle
import queue
import re
import signal
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import TextIO

from threadpoolctl import threadpool_limits

from .cleaner import Cleaner, Limits, clean_page
from .cli import (_OUTPUT_FULL, PRECISION_HELP, byte_count, positive_int, positive_seconds,
                  worker_count)
from .compression import COMPRESSIONS, compression_of
from .errors import ModelError, NoiseFilterError
from .files import sync_folder, temporary_beside
from .inputs import (STDIN, Document, Failure, given_id, input_kind, is_file_url, is_page_name,
                     not_downloaded, read_inputs)
from .jsonlines import json_line
from .limits import WORKERS_PER_CORE, check_workers, seconds, usable_cores
from .result import CleanResult

#: fields of every output line, in this order; `to_record` fills them for results and failures
#: alike, so a reader (or a Parquet schema) sees one shape
RECORD_FIELDS = ("id", "url", "source", "text", "title", "author", "date", "language",
                 "label_counts", "related_links", "model_version", "empty_reason", "error")


@dataclass
class Outcome:
    """What became of one document: `result` or `error`, never both."""

    id: str
    url: str | None = None
    result: CleanResult | None = None
    error: Failure | None = None
    seconds: float = 0.0
    source: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_record(self, blocks: bool = False) -> dict:
        """The output line of `noisefilter batch` (and a row of the Spark job)."""
        record = dict.fromkeys(RECORD_FIELDS)
        record.update(label_counts={}, related_links=[], text="")
        if blocks:
            record["blocks"] = []
        if self.result is not None:
            data = self.result.to_dict(blocks=blocks)
            record.update({k: data[k] for k in record if k in data})
        record.update(id=self.id, url=self.url or record["url"], source=self.source,
                      error=self.error.to_dict() if self.error else None)
        record.update(self.meta)
        return record


def as_document(item, index: int) -> Document:
    """Accept what callers naturally have: a `Document`, a dict with ``html`` or ``text`` (and
    ``url``, ``id``, and ``charset``, the one an HTTP header named for ``html`` or ``text``
    bytes), or the HTML itself as str or bytes (its id is then its position)."""
    if isinstance(item, Document):
        return item
    if isinstance(item, (str, bytes, bytearray, memoryview)):
        return Document(id=str(index), html=_plain(item))
    if isinstance(item, dict):
        doc_id = given_id(item.get("id")) or str(index)
        if item.get("html") is None and item.get("text") is None:
            return Document(id=doc_id, url=item.get("url"),
                            failure=Failure("InputError", 'the item has no "html" or "text"'))
        if item.get("html") is not None and item.get("text") is not None:
            # the html was cleaned and the text ignored without a word
            return Document(id=doc_id, url=item.get("url"), failure=Failure(
                "InputError", 'the item has "html" and "text": give one'))
        return Document(id=doc_id, html=_plain(item.get("html")), text=_plain(item.get("text")),
                        url=item.get("url"), charset=item.get("charset"),
                        resolve_links=not is_file_url(item.get("url")))
    return Document(id=str(index), failure=Failure(
        "InputError", f"cannot clean an item of type {type(item).__name__}"))


def _plain(value):
    """Bytes-like views as bytes: a memoryview is accepted by `clean` but cannot be sent to a
    worker process."""
    return bytes(value) if isinstance(value, (memoryview, bytearray)) else value


# -- the worker side -------------------------------------------------------------------------

def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when its parent dies, even in the middle of a
    hung document. The parent is the caller under ``fork`` and ``spawn``, the signal tied to
    the caller's thread that started the worker (`_outcomes` starts them all from one thread
    that lives as long as the batch); under ``forkserver`` it is the server: see
    `_exit_with_caller`. Under ``fork`` this is what ends the worker with the caller: the
    sentinel `_exit_with_caller` waits on stays open as long as a sibling forked later lives,
    as it inherited the caller's end."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _exit_with_caller() -> None:
    """End this worker when the process that called `clean_many` ends, even in the middle of
    a hung document, where `_die_with_parent` cannot: under ``forkserver`` the worker's parent
    is the server, which outlives the caller as long as any worker does (each holds the
    server's "alive" pipe). A daemon thread waits on multiprocessing's parent sentinel, which
    is the caller's: under ``forkserver`` it is a pipe whose other end the caller holds, not
    the server. Outside Linux, this is all that ends a worker mid-document."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_when_closed, args=(parent.sentinel,), daemon=True,
                         name="exit with the caller").start()


def _exit_when_closed(sentinel) -> None:
    wait([sentinel])
    os._exit(1)


def _worker_main(conn, inherited: Cleaner | None, model_path: str, sha256: str | None,
                 limits: Limits, favor_precision: bool = False) -> None:
    """A worker: load the model once (or use the one inherited through fork), then clean one
    task at a time until told to stop. Sends ("ready",) first, so that model loading does not
    count against the first document's time limit. A model file whose sha256 is no longer the
    one the caller's `Cleaner` loaded (retrained in place since) is refused: the batch would
    otherwise be cleaned by another model than `Cleaner.clean`, and by two once workers are
    replaced."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # SIGTERM ends a worker, whatever handler it inherited through fork (`noisefilter`'s
    # raises KeyboardInterrupt in the main thread, for the parent to stop the batch)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    _exit_with_caller()
    threadpool_limits(1)
    try:
        cleaner = inherited if inherited is not None else Cleaner(
            model=model_path, limits=limits, favor_precision=favor_precision)
    except Exception as err:
        conn.send(("failed", f"{type(err).__name__}: {err}"))
        return
    found = cleaner.loaded.manifest.get("sha256")
    if inherited is None and sha256 is not None and found != sha256:
        conn.send(("failed", f"{model_path} changed since the Cleaner loaded it (sha256 "
                             f"{sha256[:12]}…, now {str(found)[:12]}…): make a new Cleaner"))
        return
    # the batch's limits (its `timeout` may differ from the cleaner's): this process's copy
    cleaner.limits = limits
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except (EOFError, ConnectionResetError):  # the parent is gone, or closed its end
            return
        if task is None:
            return
        seq, html, text, url, charset = task
        started = time.monotonic()
        try:
            result = clean_page(cleaner, html, url, charset, text)
            reply = (seq, result, None)
        except NoiseFilterError as err:
            reply = (seq, None, Failure(type(err).__name__, str(err)))
        except Exception as err:  # a bug in the library must not end the batch
            reply = (seq, None, Failure(type(err).__name__, f"unexpected error: {err}"))
        conn.send((*reply, time.monotonic() - started))


# -- the parent side -------------------------------------------------------------------------

def _main_module_hint() -> str:
    """What to do when workers die while starting: under ``forkserver`` and ``spawn`` they
    import the caller's main module, which a script read from standard input (``python -``)
    has no file of (the advice to add a ``__main__`` guard was no help there)."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and not os.path.exists(main_file):
        return (f"The workers import the main module, and {main_file} is no file (a script "
                "read from standard input?): run the script from a file, or pass "
                "start_method=\"fork\"")
    return ("With the default start method the workers import the main module: call "
            "clean_many under `if __name__ == \"__main__\":` in a script")


class _Worker:
    """One worker process, its end of the pipe, and the task it holds (if any)."""

    def __init__(self, ctx, cleaner: Cleaner, inherit: bool, limits: Limits):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main, daemon=True,
            args=(child, cleaner if inherit else None, str(cleaner.loaded.path),
                  cleaner.loaded.manifest.get("sha256"), limits,
                  cleaner.favor_precision))
        self.process.start()
        child.close()
        self.ready = False
        self.task: int | None = None  # sequence number of the document it is cleaning
        self.started = self.deadline = 0.0

    def send(self, seq: int, doc: Document, timeout: float) -> None:
        self.conn.send((seq, doc.html, doc.text, doc.url if doc.resolve_links else None,
                        doc.charset))
        self.task = seq
        self.started = time.monotonic()
        self.deadline = self.started + timeout

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(timeout=None if kill else 5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _default_start_method() -> str:
    """``forkserver`` where there is one: workers start from a clean process that never ran
    OpenMP code (a fork of a process whose OpenMP thread pool has started can hang in the
    child) and that holds no threads of the caller's. ``spawn`` elsewhere, and in a fork of a
    process that started a fork server (`_inherited_forkserver`)."""
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods and not _inherited_forkserver() else "spawn"


def _inherited_forkserver() -> bool:
    """Whether multiprocessing's fork server is one this process inherited by a fork (a
    `ProcessPoolExecutor` worker of a process that called `clean_many`): the child takes it
    for its own, and starting a worker failed with a bare ``ChildProcessError: No child
    processes`` (multiprocessing keeps the server's pid across a fork). Asked without reaping
    the server (``WNOWAIT``), which multiprocessing waits for itself."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if pid is None or not hasattr(os, "waitid"):
        return False
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    except OSError:
        return False
    return False


def _whole_number(value: object, name: str) -> int:
    """`value` as a count above 0, numpy's integers included, or ValueError naming the setting:
    2.0 workers failed later with a raw TypeError from range(), and a `max_in_flight` below 1
    read no document (the loop waited forever)."""
    try:
        count = operator.index(value)
    except TypeError:
        count = 0
    if isinstance(value, bool) or count < 1:
        raise ValueError(f"{name} must be a whole number above 0, not {value!r}")
    return count


def clean_many(cleaner: Cleaner, docs: Iterable, workers: int = 1,
               timeout: float | None = None, max_in_flight: int | None = None,
               start_method: str | None = None, read_in_thread: bool = True) -> Iterator[Outcome]:
    """Clean `docs` in `workers` processes and yield one `Outcome` per document, in input order.

    `docs` holds `Document`s, dicts (``html`` or ``text``, ``url``, ``id``, ``charset``) or
    HTML strings or bytes, and is read lazily, in a thread of its own (`_Feeder`): while it
    waits for its next document, finished outcomes are yielded and time limits enforced all
    the same. An input
    that only the thread that made it may use (a `sqlite3` cursor, by default) needs
    ``read_in_thread=False``: the caller's thread then reads it, between outcomes (time limits
    wait while it blocks). An exception it raises is raised here after the outcomes of the
    documents before it. `timeout`
    (default: the cleaner's `Limits.timeout`) is the most seconds one document may take, and
    the limit the workers' cleaners check too; a worker that overruns is killed and replaced.
    At most `max_in_flight` documents (default ``4 × workers``) are taken from `docs` and not
    yet yielded. Of a `docs` that has a length (a list), no more workers start than it has
    documents. A `timeout` that is not a finite number above 0, or a `max_in_flight` under
    1, raises `ValueError`.

    `start_method` is the multiprocessing one. With ``fork`` the workers inherit `cleaner` as
    it is (no loading at all, and a subclass keeps its behaviour); that is only safe when the
    calling process has no other threads and has not classified anything yet (see
    `_default_start_method`). Otherwise each worker loads the model once from
    ``cleaner.loaded.path``, checking it against its manifest.

    Bad arguments raise at the call (workers start, and `ModelError` comes, only once the
    outcomes are read): `ModelError` only if a worker cannot load the model (or if
    `MAX_STARTING_DEATHS` workers in a row are killed, by a signal, before they are ready; one
    such worker is replaced like any dead worker).
    """
    workers = _whole_number(workers, "workers")
    check_workers(workers)
    if multiprocessing.current_process().daemon:
        # multiprocessing's own refusal came at the first outcome, as a bare AssertionError
        raise RuntimeError("clean_many starts worker processes, which a daemonic process (a "
                           "multiprocessing.Pool worker, a Celery prefork child) may not have: "
                           "call clean() for each document there")
    if isinstance(docs, (str, bytes, bytearray, memoryview, dict, Document)):
        # one page given where many are expected: it was cleaned character by character (a
        # dict, key by key: "id", "url" and "html" each an error)
        raise TypeError("clean_many takes an iterable of documents, and this is one document: "
                        "pass [document], or call clean(html)")
    if max_in_flight is not None:
        max_in_flight = _whole_number(max_in_flight, "max_in_flight")
    timeout = cleaner.limits.timeout if timeout is None else seconds(timeout, "timeout")
    if isinstance(docs, Sized):  # no more workers than documents: each loads the model
        workers = max(1, min(workers, len(docs)))
    window = max_in_flight or 4 * workers
    # the worker checks the time between stages with the same limit the parent
    # enforces: with the cleaner's own, a larger `timeout` failed pages at the cleaner's limit
    limits = dataclasses.replace(cleaner.limits, timeout=timeout)
    method = start_method or _default_start_method()
    ctx = multiprocessing.get_context(method)
    return _outcomes(ctx, cleaner, limits, workers, iter(docs), window, read_in_thread)


def _outcomes(ctx, cleaner: Cleaner, limits: Limits, workers: int, docs: Iterator, window: int,
              read_in_thread: bool) -> Iterator[Outcome]:
    """`clean_many`'s generator, apart so that its arguments are checked at the call (a
    generator function checks nothing before its first outcome is asked for)."""
    forks = ctx.get_start_method() == "fork"
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["filter.batch"])  # import the library once, in the server
    pool: list[_Worker] = []
    starter = _Starter()
    try:
        def new_worker() -> _Worker:
            return starter.start(lambda: _Worker(ctx, cleaner, forks, limits))

        for _ in range(workers):  # into the list `finally` stops: a later start may fail
            pool.append(new_worker())
        feeder = (_Feeder if read_in_thread else _InlineFeeder)(docs)
        yield from _run(pool, new_worker, feeder, limits.timeout, window, forks=forks)
    finally:
        for worker in pool:
            worker.stop(kill=worker.task is not None or not worker.ready)
        starter.close()


class _Starter:
    """Starts a batch's workers, all from one daemon thread that lives until the batch ends:
    the kernel's parent-death signal (`_die_with_parent`) follows the thread that forked a
    worker, not its process, so workers forked from the caller's thread were killed
    mid-document when that thread ended (a generator read first in one thread, then in
    another). A thread of `concurrent.futures` would not do: its exit hook stops it when the
    main thread ends, while a batch may still run in another thread. A worker whose start
    the caller stopped waiting for (Ctrl-C) is stopped by `close`, not left running."""

    def __init__(self):
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._abandoned: list[queue.SimpleQueue] = []
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="clean_many worker starter")
        self._thread.start()

    def _serve(self) -> None:
        while (request := self._requests.get()) is not None:
            make, reply = request
            try:
                reply.put((make(), None))
            except BaseException as err:  # the caller raises it
                reply.put((None, err))

    def start(self, make: Callable[[], _Worker]) -> _Worker:
        reply: queue.SimpleQueue = queue.SimpleQueue()
        self._requests.put((make, reply))
        try:
            worker, err = reply.get()
        except BaseException:
            self._abandoned.append(reply)
            raise
        if err is not None:
            raise err
        return worker

    def close(self) -> None:
        self._requests.put(None)
        self._thread.join()
        for reply in self._abandoned:  # answered by now: the thread has ended
            worker, _ = reply.get()
            if worker is not None:
                worker.stop(kill=True)


class _Feeder:
    """Reads the caller's input in a thread of its own, so that the scheduling loop goes on
    yielding finished results and stopping overrunning workers while the input blocks.

    It reads one document when asked (`ask`) and none otherwise, so the input is still read
    lazily and within the window. Every `next` call is made from this one thread, so no input is
    resumed twice at once (an input that only its own thread may use needs `_InlineFeeder`). `wake`
    becomes ready when the answer is there; `take` gets it. A thread blocked in the input when
    the batch ends is left there: it is a daemon, and exits once the input returns."""

    def __init__(self, docs: Iterator):
        self.wake, self._signal = multiprocessing.Pipe(duplex=False)
        self.reading = False  # asked, and the answer not yet taken
        self._docs = docs
        self._asked = threading.Semaphore(0)
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        self._closing = False
        self._thread = threading.Thread(target=self._read, daemon=True,
                                        name="clean_many input")
        self._thread.start()

    def ask(self) -> None:
        self.reading = True
        self._asked.release()

    def take(self) -> tuple[str, object]:
        """Once `wake` is ready: ("doc", item), ("end", None), or ("raised", the exception the
        input raised, for the caller's thread to raise)."""
        self.wake.recv_bytes()
        self.reading = False
        return self._answers.get_nowait()

    def close(self) -> None:
        """Stop the thread; it is joined only when it waits to be asked (then it ends at once),
        since one inside the input may never return."""
        self._closing = True
        self._asked.release()
        if not self.reading:
            self._thread.join()
        self.wake.close()

    def _read(self) -> None:
        try:
            while self._asked.acquire() and not self._closing:
                try:
                    answer = ("doc", next(self._docs))
                except StopIteration:
                    answer = ("end", None)
                except BaseException as err:  # raised again in the caller's thread
                    answer = ("raised", err)
                self._answers.put(answer)
                self._signal.send_bytes(b"")
                if answer[0] != "doc":
                    return
        except OSError:  # `close` closed the other end meanwhile
            pass
        finally:
            self._signal.close()


class _InlineFeeder:
    """A `_Feeder` that reads in the caller's thread, at once when asked (`read_in_thread=False`):
    for an input that only the thread that made it may use."""

    def __init__(self, docs: Iterator):
        self.wake, self._signal = multiprocessing.Pipe(duplex=False)
        self.reading = False
        self._docs = docs
        self._answer: tuple[str, object] = ("end", None)

    def ask(self) -> None:
        try:
            self._answer = ("doc", next(self._docs))
        except StopIteration:
            self._answer = ("end", None)
        except Exception as err:  # raised in order, as `_Feeder` has it raised; Ctrl-C at once
            self._answer = ("raised", err)
        self.reading = True
        self._signal.send_bytes(b"")

    def take(self) -> tuple[str, object]:
        self.wake.recv_bytes()
        self.reading = False
        return self._answer

    def close(self) -> None:
        self._signal.close()
        self.wake.close()


def _run(pool: list[_Worker], new_worker: Callable[[], _Worker], feeder: _Feeder | _InlineFeeder,
         timeout: float, window: int, forks: bool) -> Iterator[Outcome]:
    """The scheduling loop of `clean_many`; replaces workers in `pool` as they fail.

    With `forks` (workers forked from this process), a replacement is started only while the
    `_Feeder` thread waits to be asked, never while it runs the caller's code: a fork copies
    the locks that thread holds (of a file it reads, say), and a child that takes one hangs.
    Until the input returns, a worker short means one fewer document cleaned at a time."""
    size = len(pool)
    done: dict[int, Outcome] = {}  # finished but not yet yielded (waiting for earlier ones)
    taken: dict[int, Document] = {}  # handed to a worker and not yet finished
    queued: deque[tuple[int, Document]] = deque()  # read ahead, so no worker waits on reading
    next_seq = next_out = 0
    ended = False  # the input has no more documents
    raised: BaseException | None = None  # what the input raised at its end, raised in order
    starting_deaths = 0  # workers killed before they were ready, in a row (`_collect`)
    try:
        while True:
            if not (forks and feeder.reading):
                pool.extend(new_worker() for _ in range(size - len(pool)))
            _hand_out(pool, queued, taken, done, timeout)
            if (not ended and not feeder.reading and len(queued) < size
                    and next_seq - next_out < window):
                feeder.ask()
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
            if ended and next_out == next_seq:
                if raised is not None:
                    raise raised
                return
            # wait for a reply, a worker's death, a document read or the nearest deadline
            busy = [w for w in pool if w.task is not None]
            now = time.monotonic()
            wait_for = min((w.deadline for w in busy), default=now + 1.0) - now
            watched = [w.conn for w in pool] + ([feeder.wake] if feeder.reading else [])
            # (at most an hour at a time: a --timeout of weeks overflowed poll's milliseconds)
            ready = wait(watched, timeout=min(max(wait_for, 0), 3600))
            if feeder.wake in ready:
                kind, value = feeder.take()
                if kind == "doc":
                    doc = as_document(value, next_seq)
                    if doc.failure is not None:  # the reader could not make a page of it
                        done[next_seq] = Outcome(id=doc.id, url=doc.url, error=doc.failure,
                                                 source=doc.source, meta=doc.meta)
                    else:
                        queued.append((next_seq, doc))
                    next_seq += 1
                else:
                    ended, raised = True, value
            starting_deaths = _collect(pool, ready, taken, done, timeout, starting_deaths)
    finally:
        feeder.close()


def _hand_out(pool: list[_Worker], queued: deque[tuple[int, Document]],
              taken: dict[int, Document], done: dict[int, Outcome], timeout: float) -> None:
    """Give the documents read ahead to the idle workers."""
    idle = [w for w in pool if w.ready and w.task is None]
    while idle and queued:
        seq, doc = queued.popleft()
        try:
            idle[-1].send(seq, doc, timeout)
        except OSError:  # the worker died while idle: `_collect` replaces it
            queued.appendleft((seq, doc))
            idle.pop()
            continue
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            # an object of the caller's that cannot be pickled
            done[seq] = Outcome(id=doc.id, url=doc.url, source=doc.source, meta=doc.meta,
                                error=Failure("InputError", "the document cannot be sent "
                                              f"to a worker process: {err}"))
            continue
        taken[seq] = doc
        idle.pop()


MAX_STARTING_DEATHS = 5  # workers killed in a row before ready that end a batch (`_collect`)


def _collect(pool: list[_Worker], ready: list, taken: dict[int, Document],
             done: dict[int, Outcome], timeout: float, starting_deaths: int) -> int:
    """Take the workers' replies; stop and remove from `pool` the workers that died or overran
    their time limit (their documents fail), for `_run` to replace. Returns `starting_deaths`,
    the workers killed by a signal before they were ready since one last got ready, updated."""
    for worker in list(pool):
        failure = None
        if worker.conn in ready:
            try:
                reply = worker.conn.recv()
            except (EOFError, OSError):
                reply = None
            if reply is None:
                worker.process.join(timeout=1)
                failure = Failure("WorkerCrashed", "the worker process died while cleaning "
                                  f"this document (exit code {worker.process.exitcode})")
            elif reply[0] == "ready":
                worker.ready = True
                starting_deaths = 0
                continue
            elif reply[0] == "failed":
                raise ModelError(f"a worker could not load the model: {reply[1]}")
            else:
                seq, result, error, seconds = reply
                doc = taken.pop(seq)
                done[seq] = Outcome(id=doc.id, url=doc.url, result=result, error=error,
                                    seconds=seconds, source=doc.source, meta=doc.meta)
                worker.task = None
                continue
        elif worker.task is not None and time.monotonic() > worker.deadline:
            failure = Failure("ExtractionTimeout", f"cleaning took longer than {timeout:g} s;"
                              " the worker was stopped")
        else:
            continue
        # the worker is dead or hung: record the failure and take it out of the pool
        if not worker.ready:
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            if code is not None and code >= 0:  # it exited: its own error (printed) stopped it
                raise ModelError(f"a worker process died while starting (exit code {code})."
                                 f" Its error is printed above. {_main_module_hint()}")
            # killed by a signal (the OOM killer, a kill -9) while loading the model: it holds
            # no task, so it is replaced like any dead worker; only a run of such deaths with
            # no worker getting ready in between ends the batch, rather than looping forever
            starting_deaths += 1
            if starting_deaths >= MAX_STARTING_DEATHS:
                worker.stop(kill=True)
                pool.remove(worker)
                how = f"by signal {-code}" if code is not None else "its pipe closed"
                raise ModelError(
                    f"{starting_deaths} worker processes in a row were killed while "
                    f"starting, before the model was loaded (the last {how}): out of memory?")
        if worker.task is not None:
            doc = taken.pop(worker.task)
            done[worker.task] = Outcome(id=doc.id, url=doc.url, error=failure,
                                        seconds=time.monotonic() - worker.started,
                                        source=doc.source, meta=doc.meta)
        worker.stop(kill=True)
        pool.remove(worker)
    return starting_deaths


# -- the command -----------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="folders of .html files, .html files, .jsonl files with url and "
                             "html (pages and JSON Lines plain or compressed: gzip, bzip2, xz, "
                             "zstd), .warc[.gz] files; - for JSON Lines on standard input")
    parser.add_argument("-o", "--output", required=True,
                        help="JSON Lines file to write, uncompressed (to compress the lines as "
                             "they are written: -o - | gzip > OUT.jsonl.gz); - for standard "
                             "output")
    parser.add_argument("--workers", type=worker_count, default=usable_cores(),
                        help="worker processes (default: one per core this process may use; "
                             f"at most {WORKERS_PER_CORE} per core)")
    parser.add_argument("--model", help="model file, or the file name of one in the models "
                                         "folder, e.g. mysite-1.joblib (default: the active model)")
    parser.add_argument("--timeout", type=positive_seconds, default=Limits.timeout,
                        help="seconds one document may take (default %(default)g)")
    parser.add_argument("--max-bytes", type=byte_count, default=Limits.max_bytes,
                        help="largest page in bytes (default %(default)d)")
    parser.add_argument("--favor-precision", action="store_true", help=PRECISION_HELP)
    parser.add_argument("--max-in-flight", type=positive_int, default=None, metavar="N",
                        help="documents read ahead and held until their turn in the output "
                             "(default: 4 per worker): more keep the workers busy past a slow "
                             "page, at the memory of that many pages")
    parser.add_argument("--blocks", action="store_true",
                        help="also write every block with its label and score")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--restart", action="store_true",
                       help="overwrite OUT instead of resuming (by default, ids already in OUT "
                            "are skipped and new lines are appended)")
    again.add_argument("--retry-failed", action="store_true",
                       help="when resuming, take the failed documents' lines out of OUT and "
                            "clean those documents again (after raising --timeout or "
                            "--max-bytes, say)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress line on stderr (default: when stderr is a "
                             "terminal)")


#: how every output line starts
_RECORD_START = b'{"id": '
#: the start of every output line (`RECORD_FIELDS` order): resuming reads only this
_JSON_STR = rb'"(?:[^"\\]|\\.)*"'
_KEY_PREFIX = re.compile(rb'\{"id": (' + _JSON_STR + rb'), "url": (null|' + _JSON_STR
                         + rb'), "source": (null|' + _JSON_STR + rb')')
#: the id standard input's records without one of their own get: their line (`read_jsonl`)
_STREAM_ID = "stdin:"


@dataclass
class Done:
    """What an output file holds, for resuming: the (source, id) of its documents, how many
    more lines than one hold a (source, id) (an input that repeats an id: each of its records
    is written, and as many are skipped again as the output holds, outcomes coming out in input
    order), and the URL of each of standard input's records that was known by its line
    (`_STREAM_ID`), to tell the same stream piped again from another one (whose lines were
    skipped as done)."""

    keys: set[tuple[str | None, str]] = field(default_factory=set)
    repeats: dict[tuple[str | None, str], int] = field(default_factory=dict)
    stream_urls: dict[str, str | None] = field(default_factory=dict)

    def take(self, key: tuple[str | None, str]) -> None:
        """Count off one of the output's documents, met again in the input: a repeated id's
        records after the copies the output holds are cleaned (the records of a repeated id
        after the first were skipped as done, lost on every resume)."""
        more = self.repeats.pop(key, 0)
        if more > 1:
            self.repeats[key] = more - 1
        elif not more:
            self.keys.discard(key)


class OtherStream(Exception):
    """Standard input is not the stream an output was made from: resuming would skip its
    records as done, by their line numbers."""


def done_keys(path: Path) -> Done:
    """(source, id) of the documents already in an output file, for resuming: ids alone are not
    unique across inputs (two JSON Lines files may both number their records from 1, two folders
    may share a name). Read from the start of each line without parsing its text (an output can
    hold millions of pages). A last line of ours cut short by a crash is removed from the file,
    so that appending starts on a fresh line; any other line that is not one of ours is left
    alone (a last one without its line break is given one) and its document cleaned again.
    Each source is held once, however many lines name it (a JSON Lines input's path is on
    every line of its documents): a quarter less memory for a million lines."""
    done = Done()
    names: dict[str | None, str | None] = {}
    good_end = 0
    with open(path, "rb+") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                if _RECORD_START.startswith(line[:len(_RECORD_START)]):
                    fh.truncate(good_end)
                else:
                    fh.seek(0, os.SEEK_END)
                    fh.write(b"\n")
                return done
            good_end += len(line)
            match = _KEY_PREFIX.match(line)
            try:
                if match:
                    source, doc_id = json.loads(match.group(3)), json.loads(match.group(1))
                    url = json.loads(match.group(2))
                else:
                    record = json.loads(line)
                    source, doc_id, url = record.get("source"), str(record["id"]), record.get("url")
                key = (names.setdefault(source, source), doc_id)
                if key in done.keys:
                    done.repeats[key] = done.repeats.get(key, 0) + 1
                done.keys.add(key)
                if source == STDIN and doc_id.startswith(_STREAM_ID):
                    done.stream_urls[doc_id] = url
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                continue
    return done


class CopyRefused(OSError):
    """`drop_failures` could not make its copy of the output in the output's folder."""


def drop_failures(path: Path, ours: Callable[[object], bool]) -> int:
    """Take the lines of failed documents (an `error` that is not null) whose `source` is
    `ours` out of an output file, for `--retry-failed`: only the inputs of this run are read
    again, so the failures of others stay (taken out, they were never retried). A copy without
    them replaces the file once on the disk, so a crash midway, or the machine's just after,
    leaves it whole; an output reached through a symlink is replaced where the link points
    (replacing the link left the file it points to with the old failures and no new lines).
    Every other line is kept as it is. Returns how many lines were taken out."""
    path = Path(os.path.realpath(path))
    removed = 0
    try:
        tmp = temporary_beside(path, 0o600)  # given the file's own mode once written
    except OSError as err:  # a folder the run may not write in: the file itself is fine
        raise CopyRefused(err.errno, err.strerror) from err
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            for line in src:
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError):  # not ours, or cut short: `done_keys` decides
                    record = None
                if (isinstance(record, dict) and "id" in record
                        and record.get("error") is not None and ours(record.get("source"))):
                    removed += 1
                    continue
                dst.write(line)
            if removed:  # on the disk before the rename: a crash then left an empty output
                dst.flush()
                os.fsync(dst.fileno())
        if not removed:  # nothing to take out: the file stays as it is
            tmp.unlink()
            return 0
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
        sync_folder(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return removed


def _sources_of(inputs: list[str]) -> Callable[[object], bool]:
    """Whether an output line's `source` is a document of `inputs`: the source the readers
    write is the input's path as given (``-`` for standard input), or for a folder, the path
    of a page file or of a folder (one that could not be listed) under it (a .jsonl or WARC
    file in the folder is no document of it: it is read only as an input of its own, whose
    failures this run must not take out)."""
    folders = [Path(p) for p in inputs if p != STDIN and Path(p).is_dir()]
    files = {p if p == STDIN else str(Path(p)) for p in inputs} - {str(f) for f in folders}

    def ours(source: object) -> bool:
        return isinstance(source, str) and (
            source in files or ((is_page_name(Path(source).name) or Path(source).is_dir())
                                and any(Path(source).is_relative_to(f) for f in folders)))
    return ours


def _open_output(out: Path) -> TextIO | None:
    """OUT opened for appending, and if it is a regular file, locked (`flock`) for as long as
    it is open: two runs into one output at once wrote every document twice. None if another
    run holds the lock. A lock taken on a file that was replaced meanwhile (by the
    `--retry-failed` of another run) is taken again on the file now at that path."""
    while True:
        fh = open(out, "a", encoding="utf-8")
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # standard output, a FIFO
            return fh
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return None
        if os.path.samestat(os.fstat(fh.fileno()), os.stat(out)):
            return fh
        fh.close()


def _resume(out: Path, fh: TextIO | None,
            args: argparse.Namespace) -> tuple[TextIO | None, int, Done]:
    """Make OUT, open as `fh` (`_open_output`), ready to append to: emptied for `--restart`;
    else, for `--retry-failed`, without the failures of this run's inputs, and its documents
    read, to be skipped. Returns the file to append to (None when another run holds it), how
    many failures were taken out, and what it holds, to skip (`Done`). Standard output or a FIFO
    is written, not resumed."""
    if fh is None or not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
        return fh, 0, Done()
    if args.restart:
        fh.truncate(0)
        return fh, 0, Done()
    retried = 0
    if args.retry_failed:
        retried = drop_failures(out, _sources_of(args.inputs))
        fh.close()
        fh = _open_output(out)  # the copy that replaced OUT: the lock was on the file it replaced
        if fh is None:
            return None, retried, Done()
    return fh, retried, done_keys(out)


class Progress:
    """A one-line progress display on stderr: pages done, pages/s, failures. Redrawn at most
    twice a second, so that it costs nothing next to the cleaning."""

    def __init__(self, stream, enabled: bool):
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.pages = 0
        self.failures: dict[str, int] = {}

    def update(self, outcome: Outcome) -> None:
        """Count one outcome, and redraw the line at most twice a second."""
        self.pages += 1
        if outcome.error:
            self.failures[outcome.error.type] = self.failures.get(outcome.error.type, 0) + 1
        now = time.monotonic()
        if not self.enabled or now - self.last_draw < 0.5:
            return
        self.last_draw = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        failed = sum(self.failures.values())
        return (f"{self.pages:,} pages  {self.pages / elapsed:.1f} pages/s  "
                f"{failed:,} failed  {elapsed:.0f} s")

    def clear(self) -> None:
        """Take the progress line off the terminal (it is redrawn in place)."""
        if self.enabled:
            self.stream.write("\r\x1b[K")

    def close(self) -> None:
        self.clear()
        self.stream.write(self.line() + "\n")
        for kind, count in sorted(self.failures.items()):
            self.stream.write(f"  {kind}: {count:,}\n")
        self.stream.flush()


def _is_standard_input(path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(0), os.stat(path))
    except OSError:  # no standard input at all
        return False


def _output_problem(out: Path, inputs: list[str], shown: str | None = None) -> str | None:
    """Why OUT cannot be written, found before any work: a folder, or one of the inputs (which
    writing would destroy before it is read), or a file that an input folder's walk would read
    as a page (its own half-written output, or a page it appends to). `shown` names OUT in the
    message (default: its path)."""
    out_path, out = out, shown or out
    if out_path.is_dir():
        return f"{out} is a folder; -o takes the JSON Lines file to write"
    if out_path.exists():
        for path in inputs:
            if Path(path).is_file() and os.path.samefile(path, out_path):
                return f"{out} is also an input: write the output to another file"
        if STDIN in inputs and _is_standard_input(out_path):
            # `batch - -o out.jsonl < out.jsonl` read its own records back as pages
            return f"{out} is also the standard input: write the output to another file"
    if is_page_name(out_path.name):
        where = out_path.resolve().parent
        for path in inputs:
            folder = Path(path).resolve() if path != STDIN and Path(path).is_dir() else None
            if folder is not None and (where == folder or folder in where.parents):
                return (f"{out} is in the input folder {path}, which is read for pages of its "
                        "name: write the output to another file")
    return None


#: how much of an existing output `_output_format_problem` reads to tell text from binary
_SNIFF_BYTES = 8192


def _output_format_problem(out: Path) -> str | None:
    """Why OUT cannot be a batch output file, found before anything reads or writes it: a
    compressed name (the lines are written plain: ``-o out.jsonl.gz`` held plain JSON Lines
    under a gzip name), or an existing file that is compressed or binary, which resuming
    appended plain lines to (and cleaned everything again, reading no id in it). A FIFO or
    device is not read here: it is written, never resumed."""
    for suffix, command, _ in COMPRESSIONS:
        if out.name.lower().endswith(suffix):
            return (f"{out}: the output is written as plain JSON Lines, and a compressed "
                    f"one cannot be resumed: write {out.name[:-len(suffix)]} and compress it "
                    f"after the run, or compress standard output (-o - | {command} > "
                    f"{out.name})")
    try:
        if not stat.S_ISREG(os.stat(out).st_mode):
            return None
        with open(out, "rb") as fh:
            start = fh.read(_SNIFF_BYTES)
    except OSError:  # missing (a new output), or unreadable: opening it says why
        return None
    kind = compression_of(start)
    if kind:
        return (f"{out} is {kind} data, not JSON Lines text: the batch appends plain lines to "
                "its output and cannot resume a compressed one; decompress it first, or write "
                "to another file")
    if b"\0" in start:
        return (f"{out} is binary, not JSON Lines text (a NUL byte in its first "
                f"{_SNIFF_BYTES // 1024} KiB): write the output to another file")
    if start.strip() and not _holds_records(out, start):
        # other writers refuse such a file (`store export -o`, `bootstrap --out`); the batch
        # appended its lines to a README, and `--restart` emptied a file of labelled examples
        return (f"{out} holds something other than noisefilter batch output (its first line is "
                "none of its records): the batch appends to its output, and --restart empties "
                "it; write to another file")
    return None


def _holds_records(out: Path, start: bytes) -> bool:
    """Whether a file whose first bytes are `start` begins with a record of a batch output (in
    `RECORD_FIELDS` order, or an object with the ``error`` every record has: its fields in
    another order, or a line someone added, which resuming leaves alone), or with one cut
    short by a crash, which resuming removes."""
    first = start.lstrip(b"\n").split(b"\n", 1)[0]
    if _KEY_PREFIX.match(first) or (b"\n" not in start.lstrip(b"\n")
                                    and _RECORD_START.startswith(first[:len(_RECORD_START)])):
        return True
    try:  # a record with its fields in another order: its whole line
        with open(out, "rb") as fh:
            line = next((line for line in fh if line.strip()), b"")
        record = json.loads(line)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(record, dict) and "error" in record


class _ClosedStdout(Exception):
    """Standard output is closed (`>&-`): `-o -` cannot be written at all."""


def _stdout_problem(inputs: list[str]) -> str | None:
    """Why `-o -` must not be written, found before any work: it is a file that
    `_output_problem` refuses for `-o FILE` (one of the inputs: `batch in.jsonl -o - >>
    in.jsonl` read its own lines back as documents and grew the file without end). Raises
    `_ClosedStdout` where there is no standard output."""
    try:
        fd = sys.stdout.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError) as err:  # `>&-`: `_ClosedOutput` has no descriptor
        raise _ClosedStdout from err
    if not stat.S_ISREG(mode):  # a terminal, a pipe, a socket: nothing to read back
        return None
    path = (Path(os.path.realpath(f"/proc/self/fd/{fd}")) if os.path.exists(f"/proc/self/fd/{fd}")
            else Path(f"/dev/fd/{fd}"))
    return _output_problem(path, inputs, shown="standard output (-o -)")


def _stdout_output() -> TextIO:
    """Standard output to write the lines to: a descriptor of its own, closed at the end. Not
    locked: a lock on it belongs to the caller's opening of the file and outlived the run, a
    lock on an opening of its own needs the right to open the file (a log a service manager
    opened for a less privileged user) and refused `flock` wrappers; what the shell appends to
    is the caller's to arrange, as with any command's output."""
    return open(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")


def _maybe_same_input(before: str, now: str) -> bool:
    """Whether the source a document has in OUT and the one it is read from now may be one
    input by two paths (`in3`, then `$PWD/in3`): the same file, or, when one of the paths no
    longer names a file here (a run from another folder, a file moved), the same name. Files
    of one name in two folders (Spark writes `part-00000.jsonl` in every output) were warned
    about as the same input."""
    if os.path.basename(before) != os.path.basename(now):
        return False
    try:
        return os.path.samefile(before, now)
    except (OSError, ValueError):  # gone, or a name the file system refuses: the name decides
        return True


def _file_output(out: Path, args: argparse.Namespace) -> tuple[TextIO, Done] | int:
    """OUT opened to append to and made ready (`_open_output`, `_resume`), with what it holds,
    to be skipped (`Done`); else the exit status, said why."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fh = _open_output(out)
    except OSError as err:
        print(f"noisefilter batch: cannot write {out}: {err.strerror}", file=sys.stderr)
        return 1 if err.errno in _OUTPUT_FULL else 2
    try:
        fh, retried, done = _resume(out, fh, args)
    except OSError as err:
        if fh is not None:
            fh.close()
        if err.errno in _OUTPUT_FULL:  # `--retry-failed` writes OUT's copy: a full disk, quota
            print(f"noisefilter batch: cannot write {out}: {err.strerror}", file=sys.stderr)
            return 1
        if isinstance(err, CopyRefused):
            print(f"noisefilter batch: cannot write a copy of {out} in its folder (--retry-failed "
                  f"replaces the file with one without the failed lines): {err.strerror}",
                  file=sys.stderr)
            return 2
        print(f"noisefilter batch: cannot read {out} to resume: {err.strerror}", file=sys.stderr)
        return 2
    if fh is None:
        print(f"noisefilter batch: {out} is being written by another batch run", file=sys.stderr)
        return 2
    if retried:
        print(f"retrying: {retried:,} failed document{'s' * (retried != 1)} taken out of {out}",
              file=sys.stderr)
    return fh, done


def _read_twice(named: dict[str, tuple[str, str]]) -> str | None:
    """Why some pages would be cleaned twice, or None: a page file or a folder given as an input
    lies in an input folder too (overlapping shell globs, ``crawl crawl/2026-05``), whose walk
    reads it again under another id, so a resumed run did not skip it either. Told by the real
    paths and by the paths as written (``crawl/2026-05`` a link to a folder elsewhere, which
    the walk follows); a folder reached only through a link inside another input is not looked
    for (that would walk the whole crawl first). A JSON Lines or WARC file in an input folder
    is no page of it, and may be named on its own. `named` maps each input's real path to the
    input as given and its `input_kind`."""
    def under(path: str, folder: str) -> bool:
        return path != folder and os.path.commonpath([path, folder]) == folder

    folders = [(real, os.path.abspath(path), path)
               for real, (path, kind) in named.items() if kind == "folder"]
    for real, (path, kind) in named.items():
        if kind not in ("folder", "html"):
            continue
        written = os.path.abspath(path)
        for folder_real, folder_written, folder in folders:
            if under(real, folder_real) or (under(written, folder_written) and real != folder_real):
                return (f"{path} is in {folder}, also an input: its pages would be cleaned twice "
                        "(name one of them)")
    return None


def run(args: argparse.Namespace) -> int:
    if args.inputs.count(STDIN) > 1:
        print("noisefilter batch: standard input (-) can be read once", file=sys.stderr)
        return 2
    if STDIN in args.inputs and sys.stdin is None:  # started with it closed (`<&-`)
        print("noisefilter batch: standard input (-) is closed", file=sys.stderr)
        return 2
    kinds = set()
    named: dict[str, tuple[str, str]] = {}  # each input's real path: the input, its kind
    # and its file's identity: a hard link (or a bind mount) is another real path to it
    identities: dict[tuple[int, int], str] = {}
    for path in args.inputs:
        if path != STDIN and not Path(path).exists():
            print(f"noisefilter batch: {path}: no such file or folder{not_downloaded(path)}",
                  file=sys.stderr)
            return 2
        try:
            kind = input_kind(path)
        except ValueError as err:
            print(f"noisefilter batch: {err}", file=sys.stderr)
            return 2
        kinds.add(kind)
        real = os.path.realpath(path) if path != STDIN else STDIN
        identity = None
        if path != STDIN:
            info = os.stat(path)
            identity = info.st_dev, info.st_ino
        before = named[real][0] if real in named else identities.get(identity)
        if before is not None:
            print(f"noisefilter batch: {path} is named twice (as {before} too): its "
                  "documents would be cleaned twice", file=sys.stderr)
            return 2
        named[real] = path, kind
        if identity is not None:
            identities[identity] = path
    twice = _read_twice(named)
    if twice:
        print(f"noisefilter batch: {twice}", file=sys.stderr)
        return 2
    if "warc" in kinds and importlib.util.find_spec("warcio") is None:
        print('noisefilter batch: WARC input needs the warc extra: pip install ".[warc]" from '
              "the noisefilter repository", file=sys.stderr)
        return 2
    # warcio warns of every target URI holding a space ("Replacing spaces in invalid
    # WARC-Target-URI"), a line each through the progress line; the reader keeps such a URI
    # as written
    logging.getLogger("warcio").setLevel(logging.ERROR)
    # "-" is standard output, as it is standard input among the inputs (a file named "-" was
    # written, and the next run, resuming from it, printed nothing); it is never resumed, not
    # even when it is a file: `>>` into the output of an earlier run is the user's to arrange
    to_stdout = args.output == STDIN
    out = Path(args.output)
    if to_stdout:
        if args.restart or args.retry_failed:
            print("noisefilter batch: -o - writes standard output, which is not resumed: "
                  "--restart and --retry-failed need an output file", file=sys.stderr)
            return 2
        try:
            problem = _stdout_problem(args.inputs)
        except _ClosedStdout:  # cannot be written: 1, as `noisefilter clean` and a full disk give
            print("noisefilter batch: standard output (-o -) is closed", file=sys.stderr)
            return 1
        if problem:
            print(f"noisefilter batch: {problem}", file=sys.stderr)
            return 2
    else:
        problem = _output_problem(out, args.inputs) or _output_format_problem(out)
        if problem:
            print(f"noisefilter batch: {problem}", file=sys.stderr)
            return 2
    try:
        cleaner = Cleaner(model=args.model, limits=Limits(max_bytes=args.max_bytes,
                                                          timeout=args.timeout),
                          favor_precision=args.favor_precision)
    except NoiseFilterError as err:
        print(f"noisefilter batch: {err}", file=sys.stderr)
        return 3 if isinstance(err, ModelError) else 2
    if to_stdout:
        fh, done = _stdout_output(), Done()
    else:
        opened = _file_output(out, args)
        if isinstance(opened, int):
            return opened
        fh, done = opened
    progress = Progress(sys.stderr, sys.stderr.isatty() if args.progress is None
                        else args.progress)
    skipped = again = 0
    # the source each id in OUT was read from: an input named by another path than in the run
    # that wrote OUT (`in3` then `$PWD/in3`) matched no (source, id) and was cleaned again,
    # every page appended twice without a word
    sources = {doc_id: source for source, doc_id in done.keys}

    def not_done(docs: Iterable[Document]) -> Iterator[Document]:
        nonlocal skipped, again
        for doc in docs:
            if (doc.source, doc.id) in done.keys:
                if doc.source == STDIN and done.stream_urls.get(doc.id, doc.url) != doc.url:
                    raise OtherStream(
                        f"standard input is not the stream {out} was made from: its record "
                        f"{doc.id} has the url {doc.url}, {out}'s {done.stream_urls[doc.id]} "
                        f"(resuming would skip its records as done, by their line numbers): "
                        f"write another output, give the records ids of their own, or clean "
                        f"into {out} anew with --restart")
                done.take((doc.source, doc.id))
                skipped += 1
                continue
            before = sources.get(doc.id)
            if (before and doc.source and before != doc.source
                    and _maybe_same_input(before, doc.source)):
                if not again:
                    progress.clear()
                    print(f"noisefilter batch: warning: {doc.id} is in {out} already, read from "
                          f"{before}, and is read now from {doc.source}: if these are the same "
                          "inputs by another path, stop (Ctrl-C) and name them as that run did; "
                          "otherwise it is cleaned again", file=sys.stderr)
                again += 1
            yield doc

    def summary() -> None:
        """The documents skipped, counted as they were met (the output may hold documents of
        other inputs too), then the progress line and the failures."""
        if skipped or again:
            progress.clear()  # the note goes on a line of its own, not after the progress line
        if skipped:
            print(f"resuming: {skipped:,} document{'s' * (skipped != 1)} already in {out} "
                  "skipped", file=sys.stderr)
        if again:
            print(f"noisefilter batch: warning: {again:,} document{'s' * (again != 1)} already in "
                  f"{out} from a file of the same name elsewhere cleaned again", file=sys.stderr)
        progress.close()

    docs = not_done(read_inputs(args.inputs, max_bytes=args.max_bytes))
    # this process never classifies, and its one other thread (clean_many's input reader) is
    # idle whenever it forks, so forking it is safe (on Linux; macOS system libraries are not
    # fork-safe) and spares every worker, and every replacement of a stopped one, the model
    # loading
    method = "fork" if sys.platform.startswith("linux") else None
    with fh:
        try:
            for outcome in clean_many(cleaner, docs, workers=args.workers, start_method=method,
                                      max_in_flight=args.max_in_flight):
                # flushed line by line (a few dozen writes a second at most): a reader of the
                # output, or a resume after a hard kill, sees every page as soon as it is done,
                # also the last before a pause of a streamed input
                fh.write(json_line(outcome.to_record(blocks=args.blocks)))
                fh.flush()
                progress.update(outcome)
        except KeyboardInterrupt:
            summary()
            print("interrupted" if to_stdout else
                  f"interrupted; run the same command again to resume into {out}",
                  file=sys.stderr)
            return 130
        except (ModelError, OtherStream) as err:
            progress.clear()
            print(f"noisefilter batch: {err}", file=sys.stderr)
            return 3 if isinstance(err, ModelError) else 2
    summary()
    return 0
