"""The pool of cleaning processes behind the service, and its atomic model reload.

Why not `concurrent.futures.ProcessPoolExecutor`: a document that overruns the time limit must be
stopped, and the only way to stop lxml or trafilatura mid-document is to kill the process doing
it. An executor cannot kill one of its processes (the whole pool breaks), so this pool keeps its
own processes, each with one pipe, and lends them out one job at a time:

- the event loop only waits: sending a job and waiting for its reply happen in a thread, so a
  slow document never blocks other requests;
- a job that overruns its time limit gets its process killed; the request gets a clear error and
  a fresh process (same model) takes the free place in the background;
- a reload starts a complete new set of processes on the new model and swaps them in only when
  all have loaded it; jobs already running finish on the old processes, which are then retired.
  A model that fails to load leaves the running set untouched;
- each set loads a private copy of its model file, taken when the set starts, and so do the
  processes that later replace killed ones: a file retrained in place (``noisefilter train
  --out`` the served path) changes nothing until a reload, and never leaves the pool unable to
  replace a process. When no process can be started at all, requests fail at once (`NOT_READY`)
  instead of waiting out the queue timeout, and a reload, even of the model already served,
  starts a complete set again.

Processes start from a fork server that has already imported the library (`api.worker`), so a
replacement costs a fork and a model load, not a fresh interpreter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

from filter import ModelError
from filter.modelfile import manifest_of, manifest_path, read_manifest, sha256_file

from .requestid import REQUEST_ID
from .worker import Job, serve

LOGGER = logging.getLogger("noisefilter.pool")

#: how long a new process may take to import and load a model before it counts as failed
START_TIMEOUT = 120.0
#: how long a retiring process gets to exit after being asked before it is killed
STOP_GRACE = 2.0
#: waits between attempts to replace a process that was killed, when the replacement fails
RESTART_BACKOFF = (0.5, 2.0, 5.0)

#: error codes of outcomes that did not come from the library itself
TIMEOUT = "ExtractionTimeout"
CRASHED = "WorkerCrashed"
BUSY = "Busy"
NOT_READY = "NotReady"
GONE = "ClientGone"


@dataclass(frozen=True)
class ModelInfo:
    """The model a set of processes has loaded, as they reported it."""

    version: str
    path: str
    labels: list[str]
    manifest: dict
    loaded_at: float


@dataclass(frozen=True)
class Reloaded:
    """What one reload did: the model served after it, the version served before it, whether
    the model changed, and whether a new set of processes took over (always when it changed;
    for the same model, when the pool had lost processes: the reload restored them)."""

    info: ModelInfo
    previous: str
    changed: bool
    restarted: bool


@dataclass(frozen=True)
class Outcome:
    """The result of one job: `result` (the `CleanResult` dict) or an `error` code and its
    `detail`. Failures are values, not exceptions, so a batch can report each document."""

    result: dict | None = None
    error: str | None = None
    detail: str | None = None
    #: time a cleaning process spent on the document; None when none cleaned it (refused
    #: before, busy, not ready, client gone, or the process died on it): not a time of 0 s
    seconds: float | None = None


class _Crashed(Exception):
    """The process died while it had a job (segfault, out of memory, killed from outside);
    the argument is its exit code."""


class _Failed(Exception):
    """Something other than the process failed while it had a job (an exception in the pipe
    handling: the reply, if one comes, would be read by the next job); the process was killed."""


class _NoProcess(Exception):
    """No process serves the model and none is being started: waiting would be in vain."""


class _ShuttingDown(Exception):
    """The service is shutting down: a request still waiting for a process is answered now."""


class _Gone(Exception):
    """The client left while its document waited for a process."""


class _TimedOut(Exception):
    """The process did not answer within the time limit and was killed."""


@dataclass(eq=False)
class _Process:
    """One worker process, the parent's end of its pipe, and the model generation it serves."""

    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    generation: int
    peak_rss: int = 0
    alive: bool = True
    #: why the process was lost while serving ("timeout", "crash", "error"), for the metrics
    lost: str | None = None
    #: the exception that made the pool kill it, when `lost` is "error" (for the log)
    failure: BaseException | None = None
    #: the request and page of the document it is cleaning ("-" for neither), "" when idle
    #: (for the log)
    document: str = ""
    info: dict = field(default_factory=dict)

    @classmethod
    def start(cls, ctx, model_path: str, max_bytes: int, timeout: float, generation: int) -> _Process:
        """Start a process and block until it has loaded the model; raises `ModelError`, also
        when the process cannot be started at all: no descriptor left for its pipe (EMFILE,
        a burst of client connections), no memory to fork, the fork server gone (EOFError).
        Such a failure is usually passing, and the pool retries it as it retries a model load."""
        parent = child = proc = None
        try:
            parent, child = ctx.Pipe(duplex=True)
            proc = ctx.Process(target=serve, args=(child, model_path, max_bytes, timeout),
                               name=f"noisefilter-worker-g{generation}", daemon=True)
            proc.start()
        except (OSError, EOFError) as err:
            for conn in (parent, child):
                if conn is not None:
                    conn.close()
            if proc is not None and proc.pid is not None:  # started, then lost: not left behind
                proc.kill()
                proc.join()
            raise ModelError(f"cannot start a cleaning process: "
                             f"{type(err).__name__}{f': {err}' if str(err) else ''}") from err
        child.close()
        worker = cls(process=proc, conn=parent, generation=generation)
        try:
            message = parent.recv() if parent.poll(START_TIMEOUT) else (
                "failed", f"a cleaning process did not load {model_path} within {START_TIMEOUT:g} s")
        except (EOFError, OSError):
            message = None
        if message is None or message[0] != "ready":
            worker.kill()
            raise ModelError(message[1] if message else f"a cleaning process exited while loading "
                                                        f"{model_path} (exit code {proc.exitcode})")
        worker.info = message[1]
        worker.peak_rss = worker.info.pop("peak_rss", 0)
        return worker

    def call(self, job: Job, timeout: float) -> tuple:
        """Send one job and wait for its reply (blocking: runs in a thread). Whatever goes
        wrong once the job may have been sent, the process is killed (and replaced by the
        pool): a reply left unread in its pipe would be taken for the next job's."""
        try:
            self.conn.send(job)
            if not self.conn.poll(timeout):
                self.lost = "timeout"
                self.kill()
                raise _TimedOut()
            reply = self.conn.recv()
            self.peak_rss = max(self.peak_rss, reply[-1]["peak_rss"])
        except _TimedOut:
            raise
        except (EOFError, OSError) as err:
            self.lost = "crash"
            self.kill()
            raise _Crashed(self.process.exitcode) from err
        except Exception as err:
            self.lost, self.failure = "error", err
            self.kill()
            raise _Failed(f"{type(err).__name__}: {err}") from err
        return reply

    def kill(self) -> None:
        """Kill the process; only from the thread that uses the pipe (it closes it)."""
        self.alive = False
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        """Ask the process to exit, killing it if it does not within `STOP_GRACE`."""
        self.alive = False
        try:
            self.conn.send(None)
        except OSError:
            pass  # already gone
        self.process.join(STOP_GRACE)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


#: why nothing lost is replaced while the service stops (`CleaningPool._not_replaced`)
_SHUTTING_DOWN = "the service is shutting down"


def _context():
    """Fork server with the library preloaded where there is one (Linux, macOS), else spawn.
    Plain fork is not safe: the service process runs threads. Preloaded besides the worker:
    the main module (as multiprocessing does by default, else every worker imports it again)
    and `filter.model`, whose scikit-learn imports are most of the time a model load takes."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["__main__", "api.worker", "filter.model"])
        return ctx
    return multiprocessing.get_context("spawn")


def same_model(path: Path, info: ModelInfo) -> bool:
    """True when `path` holds exactly the model `info` describes (same file, same bytes, same
    manifest), so reloading it would change nothing. A path that cannot be read or resolved (a
    symlink loop: `RuntimeError`) is not: loading it then says why."""
    try:
        return (path.resolve() == Path(info.path).resolve() and read_manifest(path) == info.manifest
                and sha256_file(path) == info.manifest.get("sha256"))
    except (ModelError, OSError, RuntimeError):
        return False


class CleaningPool:
    """`size` cleaning processes on one model; `clean()` is safe to call from many requests at
    once. Start with `await start(path)`, end with `await close()`."""

    def __init__(self, size: int, max_bytes: int, timeout: float, queue_timeout: float,
                 on_restart: Callable[[str], None] | None = None):
        """`on_restart(reason)` hears of every process lost to a `"timeout"`, a `"crash"` or an
        `"error"` of the service while it had a job, and of every replacement that failed to
        start (`"start_failed"`), for the metrics; not of processes that end while the service
        shuts down (`drain`, `close`): those are neither crashes nor replaced."""
        if size < 1:
            raise ValueError("a pool needs at least one process")
        self.size = size
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.queue_timeout = queue_timeout
        self._on_restart = on_restart or (lambda reason: None)
        self._ctx = _context()
        # one thread per job in flight (old and new generation during a reload) plus starts/stops
        self._threads = ThreadPoolExecutor(max_workers=2 * size + 4, thread_name_prefix="nf-pool")
        self._idle: asyncio.Queue[_Process] = asyncio.Queue()
        self._workers: set[_Process] = set()
        self._background: set[asyncio.Future] = set()
        self._reload_lock = asyncio.Lock()
        self._generation = 0
        self._snapshots = tempfile.TemporaryDirectory(prefix="noisefilter-pool-")
        self._model_copy: str | None = None  # what replacements of the serving set load
        self._replacing = 0
        #: of those replacements, the ones whose start has failed at least once (a reload of the
        #: served model restarts the pool only for processes no replacement is about to restore)
        self._failing = 0
        #: notified when a replacement's first start has failed or the replacement has ended,
        #: for a reload of the served model to wait for those still on their first start
        self._replacements_settle = asyncio.Condition()
        self._info: ModelInfo | None = None
        self._closed = False
        #: set when the service begins to shut down: requests still waiting for a process are
        #: answered at once (`NOT_READY`), while documents already being cleaned finish
        self._draining = False
        #: set when the shutdown's grace period is nearly over and the documents still being
        #: cleaned were cut off (`_cut_off`): their requests get `NOT_READY`, not a crash
        self._cut = False
        #: the deadlines of the request bodies being received (`receiving`), brought forward
        #: to now with `_cut`: a request still receiving its body then is answered too
        self._receiving: set[asyncio.Timeout] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- state --------------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            raise RuntimeError("the pool has not been started")
        return self._info

    @property
    def live(self) -> int:
        """Processes serving the current model (idle or busy). A process killed on a job counts
        until `_release` hears of it on the event loop and counts its replacement in the same
        step: counted by `alive`, which the job's thread clears first, a request polling in
        between would see no process and none coming, and fail with `NOT_READY`."""
        return sum(1 for w in self._workers if w.generation == self._generation)

    @property
    def idle(self) -> int:
        """Live processes waiting for a job. Not the queue's length: a process that died while
        idle stays in the queue, dead, until a request takes it out (`_died_idle`)."""
        return sum(1 for w in self._idle._queue if w.alive)

    @property
    def peak_rss(self) -> int:
        """The largest peak resident memory among the live processes, in bytes."""
        return max((w.peak_rss for w in self._workers if w.alive), default=0)

    @property
    def ready(self) -> bool:
        return not self._closed and self._info is not None and self.live > 0

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self, model_path: str | Path) -> ModelInfo:
        """Start `size` processes on the model; raises `ModelError` if it cannot be loaded."""
        self._loop = asyncio.get_running_loop()
        workers = await self._start_generation(str(model_path), self._generation)
        self._install(workers, str(model_path))
        return self.info

    def drain(self, cut_off_after: float | None = None) -> None:
        """The service is shutting down (SIGTERM): requests waiting for a process get
        `NOT_READY` within half a second instead of waiting out the shutdown's grace period
        (after which they would be cut off without an answer); jobs already running finish,
        or, still running `cut_off_after` seconds from now, are cut off (`_cut_off`). Safe to
        call from a signal handler on the event loop's thread: it sets a flag and schedules
        through the loop's thread-safe door."""
        self._draining = True
        if cut_off_after is not None and self._loop is not None:
            self._call_soon(self._loop.call_later, cut_off_after, self._cut_off)

    def _cut_off(self) -> None:
        """Kill the processes still cleaning as the shutdown's grace period ends, so that their
        requests are answered (`NOT_READY`: retry on another instance) before the server
        cancels them, which answered a bare plain-text 500 and logged a traceback."""
        self._cut = True
        for deadline in self._receiving:
            deadline.reschedule(asyncio.get_running_loop().time())
        idle = []
        while not self._idle.empty():
            idle.append(self._idle.get_nowait())
        for worker in idle:
            self._idle.put_nowait(worker)
        for worker in self._workers.difference(idle):
            worker.process.kill()  # its job's thread sees the pipe end (`_Process.call`)

    @contextlib.asynccontextmanager
    async def receiving(self) -> AsyncIterator[None]:
        """Receive a request's body within this: `TimeoutError` once the shutdown's grace
        period is nearly over (`_cut_off`), when the body (from a slow client) will not come in
        time. A deadline the cut-off brings forward, not a task racing each `receive()` against
        it: two tasks and an `asyncio.wait` per chunk cost a 10 MB upload 5 ms of event loop."""
        async with asyncio.timeout(0 if self._cut else None) as deadline:
            self._receiving.add(deadline)
            try:
                yield
            finally:
                self._receiving.discard(deadline)

    async def close(self) -> None:
        """Stop every process: idle ones are asked to exit; one still busy (the server stopped
        waiting for its request) is killed, and its job thread then sees the pipe end.
        Requests still waiting for a process get a `Busy` outcome."""
        self._closed = True
        idle = []
        while not self._idle.empty():
            idle.append(self._idle.get_nowait())
        for worker in self._workers.difference(idle):
            worker.process.kill()
        stops = [self._retire(w) for w in idle]
        await asyncio.gather(*stops, *list(self._background), return_exceptions=True)
        self._threads.shutdown(wait=True)
        self._snapshots.cleanup()

    def _copy_model(self, model_path: str, generation: int) -> str:
        """The private copy of the model file and its manifest that a generation loads."""
        folder = Path(self._snapshots.name) / f"g{generation}"
        copy = folder / Path(model_path).name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(model_path, copy)
            shutil.copyfile(manifest_of(Path(model_path)), manifest_path(copy))
        except OSError as err:
            shutil.rmtree(folder, ignore_errors=True)
            raise ModelError(f"cannot read the model: {err}") from None
        return str(copy)

    async def _start_generation(self, model_path: str, generation: int) -> list[_Process]:
        loop = asyncio.get_running_loop()
        copy = await loop.run_in_executor(self._threads, self._copy_model, model_path, generation)
        starts = [loop.run_in_executor(self._threads, _Process.start, self._ctx, copy,
                                       self.max_bytes, self.timeout, generation)
                  for _ in range(self.size)]
        results = await asyncio.gather(*starts, return_exceptions=True)
        started = [r for r in results if isinstance(r, _Process)]
        failed = [r for r in results if not isinstance(r, _Process)]
        if failed:
            await asyncio.gather(*(loop.run_in_executor(self._threads, w.stop) for w in started))
            shutil.rmtree(Path(copy).parent, ignore_errors=True)
            # the processes loaded the private copy; the operator knows the file they named
            raise ModelError(str(failed[0]).replace(copy, model_path))
        return started

    def _install(self, workers: list[_Process], model_path: str) -> None:
        """Make `workers` the serving set: retire idle processes of older generations (busy ones
        are retired when their job ends) and hand out the new ones. The processes report the
        path of their copy; the model served is the file that was asked for."""
        info = workers[0].info
        self._info = ModelInfo(version=info["version"], path=model_path, labels=info["labels"],
                               manifest=info["manifest"], loaded_at=time.time())
        if self._model_copy is not None:  # the old set has its model in memory already
            shutil.rmtree(Path(self._model_copy).parent, ignore_errors=True)
        self._generation = workers[0].generation
        self._model_copy = info["path"]
        while not self._idle.empty():
            self._retire(self._idle.get_nowait())
        for w in workers:
            self._workers.add(w)
            self._park(w)

    def _park(self, worker: _Process) -> None:
        """Put an idle process in the queue, watching its exit: one that dies there (kill -9,
        the OOM killer) is replaced at once, so readiness and the workers gauge do not count it
        until a request happens to pick it."""
        self._idle.put_nowait(worker)
        try:
            self._loop.add_reader(worker.process.sentinel, self._died_idle, worker)
        except (NotImplementedError, ValueError, OSError):  # a loop without readers: on pick-up
            pass

    def _unwatch(self, worker: _Process) -> None:
        try:
            self._loop.remove_reader(worker.process.sentinel)
        except (NotImplementedError, ValueError, OSError):
            pass

    def _died_idle(self, worker: _Process) -> None:
        self._unwatch(worker)
        if worker.alive and not self._closed:
            worker.kill()  # reaps it and closes its pipe; nobody else uses an idle one's
            worker.lost = "crash"
            self._release(worker)  # counts, logs and replaces it; left in the queue as dead

    def _retire(self, worker: _Process) -> asyncio.Future:
        self._unwatch(worker)
        self._workers.discard(worker)
        fut = asyncio.get_running_loop().run_in_executor(self._threads, worker.stop)
        self._track(fut)
        return fut

    def _track(self, fut: asyncio.Future) -> None:
        self._background.add(fut)
        fut.add_done_callback(self._finished)

    def _finished(self, fut: asyncio.Future) -> None:
        """A background task ended: an exception it raised is logged, not left unread."""
        self._background.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            LOGGER.error("a background task of the cleaning pool failed", exc_info=fut.exception())

    # -- cleaning -----------------------------------------------------------------------------
    async def clean(self, job: Job, gone: Callable[[], Awaitable[bool]] | None = None) -> Outcome:
        """Clean one document in a free process, waiting up to `queue_timeout` for one. `gone`
        says whether the client has left: its document, however long it waited, is then not
        cleaned (a crawler that gives up and retries would otherwise multiply the work). It is
        asked before a process is taken too: a batch's documents wait for one of the batch's
        slots, not in this queue, and then find a process free at once."""
        try:
            if gone is not None and await gone():
                raise _Gone
            worker = await self._acquire(gone)
        except _Gone:
            return Outcome(error=GONE, detail="the client left while the document waited for a "
                                              "cleaning process; not cleaned")
        except _ShuttingDown:
            return Outcome(error=NOT_READY, detail="the service is shutting down; retry (on "
                                                   "another instance)")
        except _NoProcess:
            return Outcome(error=NOT_READY, detail="no cleaning process is running: they were "
                           "lost and could not be replaced (see the service log); reload the "
                           "model or restart the service")
        except TimeoutError:
            return Outcome(error=BUSY, detail=f"no cleaning process became free within "
                                              f"{self.queue_timeout:g} s; retry later")
        # the address as repr: it is the client's, and written into the log
        rid = REQUEST_ID.get()
        worker.document = ", ".join([*([f"request {rid}"] if rid else []),
                                     *([f"url {job.url[:300]!r}"] if job.url else [])]) or "-"
        loop = asyncio.get_running_loop()
        future = self._threads.submit(worker.call, job, self.timeout)
        # the process goes back to the pool when its job ends, even if this request was
        # cancelled meanwhile (a client that hung up must not lose us a process)
        future.add_done_callback(lambda _: self._call_soon(self._release, worker))
        try:
            reply = await asyncio.wrap_future(future, loop=loop)
        except _TimedOut:
            return Outcome(error=TIMEOUT, detail=f"cleaning this document took longer than the "
                                                 f"limit of {self.timeout:g} s; it was abandoned",
                           seconds=self.timeout)
        except _Crashed as err:
            if self._cut:
                return Outcome(error=NOT_READY, detail="the service shut down before this "
                               "document was cleaned; retry (on another instance)")
            return Outcome(error=CRASHED, detail=f"the cleaning process died on this document "
                                                 f"(exit code {err.args[0]}); {self._replaced(worker)}")
        except _Failed as err:
            return Outcome(error="InternalError", detail=f"the service failed while cleaning "
                           f"this document ({err}); its cleaning process was stopped; "
                           f"{self._replaced(worker)}")
        stats = reply[-1]
        if reply[0] == "ok":
            return Outcome(result=reply[1], seconds=stats["seconds"])
        return Outcome(error=reply[1], detail=reply[2], seconds=stats["seconds"])

    async def _acquire(self, gone: Callable[[], Awaitable[bool]] | None = None) -> _Process:
        """A live process of the current model, in the order requests asked for one: a request
        keeps its place in the queue's line of waiters (`_next_idle`) while it wakes twice a
        second to notice that no process will come, or no client waits."""
        if self._closed:
            raise TimeoutError
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.queue_timeout
        getter: asyncio.Task | None = None
        try:
            while True:
                if self._draining:
                    raise _ShuttingDown
                if self.live == 0 and not self._replacing:
                    raise _NoProcess
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                getter = getter or asyncio.ensure_future(self._idle.get())
                worker = await self._next_idle(getter, min(remaining, 0.5))
                if worker is None:
                    # (uvicorn may have stopped reading the connection after a large body, so
                    # the first check only lets it read on, and a client's leaving shows from
                    # the next)
                    if gone is not None and await gone():
                        raise _Gone
                    continue
                getter = None
                self._unwatch(worker)
                if worker.lost:  # died while idle, and replaced then (`_died_idle`)
                    continue
                if not worker.process.is_alive():  # died while idle, not yet noticed
                    worker.alive, worker.lost = False, "crash"
                    self._release(worker)  # replaces it
                    continue
                if worker.alive and worker.generation == self._generation and not self._closed:
                    return worker
                self._retire(worker)
        finally:
            if getter is not None:
                self._give_up(getter)

    @staticmethod
    async def _next_idle(getter: asyncio.Task, timeout: float) -> _Process | None:
        """The process `getter` took from the queue, or None if none came within `timeout`;
        the getter is not cancelled then. `asyncio.wait_for` cancelled it every half second,
        and the request joined the line again at its back: with 6 clients on one process and
        a 4 s queue timeout, 5 to 24 requests got 503 busy that a first-come line serves."""
        done, _ = await asyncio.wait({getter}, timeout=timeout)
        return getter.result() if done else None

    def _give_up(self, getter: asyncio.Task) -> None:
        """End a wait for a process: cancel the getter, or put back the process it took."""
        if getter.done() and not getter.cancelled():
            self._idle.put_nowait(getter.result())  # still watched: not yet `_unwatch`ed
        else:
            getter.cancel()

    def _not_replaced(self, worker: _Process) -> str | None:
        """Why a process lost now is not replaced, or None if it is: the one rule for what
        `_release` does, what the log says (`_log_loss`) and what the request's error says
        (`_replaced`), which each had their own and once disagreed (a process of a model a
        reload had retired was said to be replaced)."""
        if self._closed or self._draining:
            return _SHUTTING_DOWN
        if worker.generation != self._generation:
            return "a reload has retired its model"
        return None

    def _replaced(self, worker: _Process) -> str:
        """What became of a process lost on a job, for its request's error (a process lost
        while the service stops is no crash to replace: nothing is said of replacing)."""
        why = self._not_replaced(worker)
        return ("it has been replaced" if why is None else
                why if why == _SHUTTING_DOWN else f"it is not replaced: {why}")

    def _call_soon(self, fn, *args) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is gone: the service is shutting down
            pass

    def _release(self, worker: _Process) -> None:
        if not worker.alive:
            self._workers.discard(worker)
            # shutting down: a process that ends now is no crash and is not replaced (SIGTERM
            # to the whole process group ends the fork server, and every idle process then
            # reads as dead, exit code 255); `close` kills the busy ones itself
            stopping = self._closed or self._draining
            if worker.lost and not self._closed:
                if not stopping:
                    self._on_restart(worker.lost)
                self._log_loss(worker)
            if self._not_replaced(worker) is None:
                self._replacing += 1  # counted from now: a request must not find none coming
                self._track(asyncio.ensure_future(self._replace(worker.generation)))
        elif self._closed or worker.generation != self._generation:
            self._retire(worker)
        else:
            worker.document = ""  # done with it: a death from now on is no document's
            self._park(worker)

    def _log_loss(self, worker: _Process) -> None:
        """One log line per process lost: the metric alone tells an operator neither when nor
        why (a document over the limit, a crash: segfault, OOM killer, kill -9, or a failure
        of the service itself), and whether it is replaced (`_not_replaced`). While the
        service shuts down, a process that ends is no crash: said at `info` only."""
        pid, code = worker.process.pid, worker.process.exitcode
        stopping = self._closed or self._draining
        why = self._not_replaced(worker)
        then = "starting a replacement" if why is None else f"not replaced: {why}"
        doc = f" ({worker.document})" if worker.document not in ("", "-") else ""
        if worker.lost == "timeout":
            LOGGER.warning("killed cleaning process %s: a document%s took longer than the limit "
                           "of %g s; %s", pid, doc, self.timeout, then)
        elif worker.lost == "error":
            LOGGER.error("killed cleaning process %s: the service failed while it had a "
                         "document%s (%s: %s); %s", pid, doc, type(worker.failure).__name__,
                         worker.failure, then, exc_info=worker.failure)
        elif not stopping:
            LOGGER.warning("cleaning process %s died (exit code %s) %s; %s", pid, code,
                           f"on a document{doc}" if worker.document else "while idle", then)
        else:
            LOGGER.info("cleaning process %s ended while the service shuts down (exit code "
                        "%s); not replaced", pid, code)

    async def _replace(self, generation: int) -> None:
        """Start a process in place of one that was killed, retrying a few times. Never ends
        in an exception nobody reads: the pool would stay short without a word in the log."""
        try:
            await self._start_replacement(generation)
        except Exception:
            LOGGER.exception("replacing a cleaning process failed; %d of %d remain (a reload "
                             "starts a complete set again)", self.live, self.size)
        finally:
            self._replacing -= 1
            await self._settled()

    async def _settled(self) -> None:
        """Wake a reload waiting for the replacements under way (`reload`)."""
        async with self._replacements_settle:
            self._replacements_settle.notify_all()

    async def _start_replacement(self, generation: int) -> None:
        loop = asyncio.get_running_loop()
        failed = False
        try:
            for delay in (0.0, *RESTART_BACKOFF):
                await asyncio.sleep(delay)
                if self._closed or self._draining or generation != self._generation:
                    return  # shutting down, or a reload has already installed a complete new set
                try:
                    worker = await loop.run_in_executor(self._threads, _Process.start, self._ctx,
                                                        self._model_copy, self.max_bytes,
                                                        self.timeout, generation)
                except Exception as err:  # ModelError, and whatever else: a start that failed
                    self._on_restart("start_failed")
                    LOGGER.error("could not replace a cleaning process: %s", err
                                 if isinstance(err, ModelError) else f"{type(err).__name__}: {err}")
                    if not failed:
                        failed = True
                        self._failing += 1
                        await self._settled()
                    continue
                self._workers.add(worker)
                self._release(worker)  # installs it, or retires it if a reload came in between
                return
        finally:
            if failed:
                self._failing -= 1
        LOGGER.error("gave up replacing a cleaning process; %d of %d remain (a reload starts "
                     "a complete set again)", self.live, self.size)

    # -- reload -------------------------------------------------------------------------------
    async def reload(self, model_path: str | Path) -> Reloaded:
        """Switch every process to the model at `model_path`, atomically: returns the model now
        served, the one served before, whether it changed and whether new processes took over
        (all as of this reload: others wait for it and may follow). The model already served
        is a no-op, unless the pool has lost processes that no replacement under way is about
        to restore (none started, or its start failed): a fresh set then starts on it, which is
        how an operator restores a pool whose replacements failed. A replacement still on its
        first start after a timeout or a crash is waited for, not doubled: a reload that took
        it for restored answered "unchanged", and when its start then failed the pool was left
        short (with one process, none). Raises `ModelError` (and keeps the old model) when the
        new one cannot be loaded."""
        path = Path(model_path)
        async with self._reload_lock:
            loop = asyncio.get_running_loop()
            same = await loop.run_in_executor(self._threads, same_model, path, self.info)
            if same:
                async with self._replacements_settle:
                    await self._replacements_settle.wait_for(
                        lambda: self._replacing == self._failing or self.live >= self.size)
            if same and self.live + self._replacing - self._failing >= self.size:
                return Reloaded(self.info, self.info.version, changed=False, restarted=False)
            missing = self.size - self.live
            try:
                workers = await self._start_generation(str(path), self._generation + 1)
            except ModelError as err:
                LOGGER.warning("reload of %s failed: %s; still serving %s", path, err,
                               self.info.version)
                raise
            if self._closed:  # shut down while the new model was loading
                await asyncio.gather(*(self._retire(w) for w in workers))
                raise ModelError("the service is shutting down")
            previous = self.info.version
            self._install(workers, str(path))
            if same:
                LOGGER.info("reloaded: restarted model %s (%s) in %d cleaning processes; %d "
                            "had been lost", self.info.version, path, len(workers), missing)
            else:
                LOGGER.info("reloaded: now serving model %s (%s) in %d cleaning processes; was "
                            "%s", self.info.version, path, len(workers), previous)
            return Reloaded(self.info, previous, changed=not same, restarted=True)
