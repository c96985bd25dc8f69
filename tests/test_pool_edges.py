"""Edges of the service's cleaning processes (api/pool.py, api/worker.py): a reload is all or
nothing and retires the previous model's processes however their jobs end, a lost process is
restored through a passing outage but not after a reload has replaced the set, processes asked
to stop exit on their own, and the clean-duration histogram counts what the processes spent."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from fastapi.testclient import TestClient

from api import pool as pool_module
from api.app import create_app
from api.pool import CleaningPool
from api.settings import Settings
from api.worker import Job, run_job
from filter import ModelError
from filter.modelfile import active_model_path
from test_api import _copy_model, _FlakyContext, _metric, article_html, slow_html


def _models(folder) -> tuple:
    """Models a and b: the shipped model under two versions."""
    _copy_model(folder, "a", "test-a")
    _copy_model(folder, "b", "test-b")
    return folder / "a.joblib", folder / "b.joblib"


async def _until(condition, what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


class _Backoff:
    """Stands in for `asyncio` in api.pool, where only the waits between attempts to start a
    replacement (`RESTART_BACKOFF`) sleep: they are recorded and end at once, or, with a
    `gate`, when the test opens it."""

    def __init__(self):
        self.delays: list[float] = []
        self.gate: asyncio.Event | None = None

    def __getattr__(self, name):
        return getattr(asyncio, name)

    async def sleep(self, delay):
        if delay:
            self.delays.append(delay)
            if self.gate is not None:
                await self.gate.wait()
        await asyncio.sleep(0)


# -- reload ----------------------------------------------------------------------------------

def test_a_reload_whose_new_processes_do_not_all_start_keeps_the_old_model_in_full(tmp_path):
    """One of the new set's processes cannot start (no file descriptor left, the fork server
    gone): the reload must fail and leave the old model on every process. Installing the
    processes that did start would serve the new model on fewer processes than configured,
    and answer the reload as a success."""
    a, b = _models(tmp_path)

    async def scenario():
        pool = CleaningPool(2, 10_000_000, 60.0, 60.0)
        await pool.start(a)
        try:
            kept = {w.process.pid for w in pool._workers}
            pool._ctx = _FlakyContext(pool._ctx, 1, "pipe")
            with pytest.raises(ModelError, match="Too many open files"):
                await pool.reload(b)
            assert pool._ctx.failures == 0  # (the failure did happen, in this reload)
            assert pool.info.version == "test-a" and pool.live == 2 and pool.idle == 2
            assert {w.process.pid for w in pool._workers} == kept
            outcomes = await asyncio.gather(*(pool.clean(Job("text", "a line", None, False))
                                              for _ in range(2)))
            assert [o.result["model_version"] for o in outcomes] == ["test-a", "test-a"]
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_a_process_of_the_previous_model_that_finishes_its_job_after_a_reload_is_retired(tmp_path):
    """A document still being cleaned when a reload switches models finishes on the old model;
    its process must then stop, not go back to the idle queue: there it counted as an idle
    process (`noisefilter_workers_idle` above the pool's size) and held its memory until a
    request happened to pick it."""
    a, b = _models(tmp_path)

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 300.0, 60.0)
        await pool.start(a)
        try:
            (old,) = pool._workers
            job = asyncio.ensure_future(pool.clean(Job("html", slow_html(6_000), None, False)))
            await _until(lambda: pool.idle == 0, "the document never reached the process")
            os.kill(old.process.pid, signal.SIGSTOP)  # its document lasts until the reload is done
            try:
                reloaded = await pool.reload(b)
                assert reloaded.info.version == "test-b"
                assert not job.done(), "the document was cleaned before the reload: no test"
            finally:
                os.kill(old.process.pid, signal.SIGCONT)
            outcome = await job
            assert outcome.error is None and outcome.result["model_version"] == "test-a"
            assert pool.idle == 1 and pool.live == 1
            await _until(lambda: not old.process.is_alive(), "the old process was never stopped", 60)
            assert old.process.exitcode == 0  # asked to stop, not killed
            assert (await pool.clean(Job("text", "a line", None, False))).result["model_version"] \
                == "test-b"
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_a_request_handed_a_process_as_a_reload_switches_is_cleaned_on_the_new_model(tmp_path):
    """A request that was handed the old model's process in the moment a reload swaps in the
    new set: once the reload has answered, every document must be cleaned on the new model,
    so the old process is retired and the request waits for a new one. It was cleaned on the
    model the reload had just replaced. (The moment is made here by freeing the process while
    the reload installs its set: the request's wait for a process ends in between.)"""
    a, b = _models(tmp_path)

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 60.0)
        await pool.start(a)
        try:
            old = await pool._acquire()  # another request has the only process
            waiting = asyncio.ensure_future(pool.clean(Job("text", "a line", None, False)))
            await asyncio.sleep(0.2)  # waiting for a process
            start_generation = pool._start_generation

            async def new_set_ready_as_the_old_process_is_freed(*args):
                workers = await start_generation(*args)
                pool._release(old)
                await asyncio.sleep(0)  # the waiting request's getter takes it
                assert not waiting.done()
                return workers

            pool._start_generation = new_set_ready_as_the_old_process_is_freed
            reloaded = await pool.reload(b)
            assert reloaded.info.version == "test-b"
            outcome = await waiting
            assert outcome.error is None and outcome.result["model_version"] == "test-b"
            await _until(lambda: not old.process.is_alive(), "the old process was never stopped", 60)
            assert pool.live == 1
        finally:
            await pool.close()

    asyncio.run(scenario())


# -- replacing lost processes ----------------------------------------------------------------

def test_a_replacement_is_restored_through_three_failed_starts(monkeypatch):
    """A lost process whose replacement cannot start for a while (a burst of client connections
    takes every file descriptor, the fork server is busy): the pool retries it over several
    seconds and is whole again. Giving up after two attempts left a one-process service
    without any until an operator reloaded the model. (The waits between attempts are cut
    short here.)"""
    backoff = _Backoff()
    monkeypatch.setattr(pool_module, "asyncio", backoff)
    events = []

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 60.0, on_restart=events.append)
        await pool.start(active_model_path())
        try:
            pool._ctx = _FlakyContext(pool._ctx, 3, "pipe")
            (first,) = pool._workers
            os.kill(first.process.pid, signal.SIGKILL)
            await _until(lambda: first not in pool._workers and not pool._replacing,
                         "the lost process was never handled")
            assert pool.live == 1 and pool._ctx.failures == 0
            assert (await pool.clean(Job("text", "a line", None, False))).error is None
        finally:
            await pool.close()

    asyncio.run(scenario())
    assert events == ["crash", "start_failed", "start_failed", "start_failed"]
    assert len(backoff.delays) == 3


def test_a_replacement_waiting_to_retry_starts_nothing_once_a_reload_has_replaced_the_set(
        tmp_path, monkeypatch):
    """A replacement whose first start failed waits before trying again; a reload of another
    model meanwhile installs a complete set. The replacement must then give up: it started
    a process anyway (to be retired at once), and when that start failed too it counted
    `start_failed` and logged "could not replace a cleaning process" for a pool that was whole."""
    a, b = _models(tmp_path)
    backoff = _Backoff()
    monkeypatch.setattr(pool_module, "asyncio", backoff)
    events = []

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 60.0, on_restart=events.append)
        await pool.start(a)
        try:
            backoff.gate = asyncio.Event()
            real = pool._ctx
            pool._ctx = _FlakyContext(real, 1, "pipe")
            (first,) = pool._workers
            os.kill(first.process.pid, signal.SIGKILL)
            await _until(lambda: backoff.delays, "the replacement never failed its first start")
            assert events == ["crash", "start_failed"] and pool._replacing == 1
            reloaded = await pool.reload(b)
            assert reloaded.info.version == "test-b" and pool.live == 1
            pool._ctx = _FlakyContext(real, 1, "pipe")  # a start from now on would show
            backoff.gate.set()
            await _until(lambda: not pool._replacing, "the replacement never ended")
            assert pool._ctx.failures == 1, "the replacement tried to start a process"
            assert pool.live == 1
            assert (await pool.clean(Job("text", "a line", None, False))).result["model_version"] \
                == "test-b"
        finally:
            await pool.close()

    asyncio.run(scenario())
    assert events == ["crash", "start_failed"]


# -- the cleaning process ---------------------------------------------------------------------

class _BrokenCleaner:
    """A cleaner with a bug: an exception that is no `NoiseFilterError`."""

    def clean_text(self, text, charset=None):
        raise RuntimeError("a bug in the library")


def test_a_library_bug_is_an_internal_error_reply_not_the_end_of_the_process(capsys):
    """An unexpected exception while cleaning one document (a bug in the library, lxml or
    trafilatura) must come back as that document's `InternalError`, with the traceback in the
    service log: escaping `run_job` it ended the cleaning process, which the pool then took
    for a crash on the document (and the next request paid the replacement's start)."""
    reply = run_job(_BrokenCleaner(), Job("text", "a line", None, False))
    assert reply[:3] == ("error", "InternalError", "RuntimeError: a bug in the library")
    assert set(reply[3]) == {"seconds", "peak_rss"}
    assert "RuntimeError: a bug in the library" in capsys.readouterr().err


def test_processes_asked_to_stop_exit_on_their_own(tmp_path):
    """A process retired by a reload, and every process at shutdown, is asked to stop and
    should exit at once. One that kept reading its pipe was killed after the grace period
    (exit code -9): every reload and every shutdown took seconds longer."""
    a, b = _models(tmp_path)

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 60.0, 60.0)
        await pool.start(a)
        (old,) = pool._workers
        await pool.reload(b)
        (new,) = pool._workers
        await pool.close()
        return old, new

    old, new = asyncio.run(scenario())
    assert (old.process.exitcode, new.process.exitcode) == (0, 0)


# -- the clean-duration histogram ------------------------------------------------------------

@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    """One cleaning process and a time limit of 1 s."""
    settings = Settings(workers=1, timeout=1.0, examples_db=tmp_path_factory.mktemp("t") / "ex.db")
    with TestClient(create_app(settings)) as c:
        yield c


def _durations(client) -> tuple[float, float]:
    text = client.get("/metrics").text
    return (_metric(text, "noisefilter_clean_duration_seconds_count", input="html"),
            _metric(text, "noisefilter_clean_duration_seconds_sum", input="html"))


def test_the_clean_duration_histogram_holds_the_time_spent_on_each_page(timed):
    """Each page cleaned adds the time its process spent on it: recorded as 0 s, the histogram
    showed every page cleaned in no time."""
    count, total = _durations(timed)
    r = timed.post("/v1/clean", json={"html": article_html()})
    assert r.status_code == 200, r.text
    after_count, after_total = _durations(timed)
    assert after_count == count + 1
    assert after_total > total


def test_a_document_abandoned_at_the_time_limit_counts_the_limit_in_the_clean_duration(timed):
    """A document killed at the time limit cost its process the whole limit: left out of the
    histogram, the slowest documents disappeared from it, and its quantiles said cleaning was
    fast while requests timed out."""
    count, total = _durations(timed)
    r = timed.post("/v1/clean", json={"html": slow_html(30_000)})
    assert r.status_code == 422 and r.json()["error"] == "document_timeout", r.text
    after_count, after_total = _durations(timed)
    assert after_count == count + 1
    assert after_total - total == pytest.approx(1.0)
