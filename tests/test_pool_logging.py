"""The pool logs what an operator must be able to find in the service log: a cleaning process
lost (killed at the time limit, or died: kill -9, the OOM killer) and model reloads, successful
or not. The metrics alone say neither when nor why."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal

import pytest

from api.pool import CleaningPool
from api.worker import Job
from filter.modelfile import active_model_path, manifest_path


def _slow_html(paragraphs: int) -> str:
    return "<html><body><article>" + "".join(
        f"<p>Paragraph {i} of a very long report on the state of the national railways, its "
        f"timetables and its finances.</p>" for i in range(paragraphs)) + "</article></body></html>"


def test_lost_processes_and_reloads_are_logged(tmp_path, caplog):
    other = tmp_path / "other.joblib"
    shutil.copy(active_model_path(), other)
    manifest = json.loads(manifest_path(active_model_path()).read_text())
    manifest.update(version="test-other", file="other.joblib")
    manifest_path(other).write_text(json.dumps(manifest))
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a model")
    shutil.copy(manifest_path(other), manifest_path(broken))

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 0.5, 30.0)
        await pool.start(active_model_path())
        try:
            outcome = await pool.clean(Job("html", _slow_html(30_000), None, False))
            assert outcome.error == "ExtractionTimeout"
            while pool.idle == 0:  # the replacement
                await asyncio.sleep(0.1)
            worker = next(iter(pool._workers))
            os.kill(worker.process.pid, signal.SIGKILL)  # dies while idle
            worker.process.join(5)
            outcome = await pool.clean(Job("text", "A line of text.", None, False))
            assert outcome.error is None, outcome
            await pool.reload(other)
            try:
                await pool.reload(broken)
            except Exception:
                pass
        finally:
            await pool.close()

    with caplog.at_level(logging.INFO, logger="noisefilter.pool"):
        asyncio.run(scenario())
    text = caplog.text
    assert "a document took longer than the limit of 0.5 s; starting a replacement" in text
    assert "died (exit code -9) while idle; starting a replacement" in text
    assert "now serving model test-other" in text
    assert "reload of" in text and "failed" in text and "still serving test-other" in text


@pytest.mark.parametrize("loss", ["timeout", "crash"])
def test_a_process_of_a_retired_model_lost_after_a_reload_is_not_said_to_be_replaced(tmp_path, caplog, loss):
    """A document still on the previous model's process when a reload switches, killed at the
    time limit or killed outright: no replacement starts (its model is retired), and the log
    and the request's error said one did."""
    other = tmp_path / "other.joblib"
    shutil.copy(active_model_path(), other)
    manifest = json.loads(manifest_path(active_model_path()).read_text())
    manifest.update(version="test-other", file="other.joblib")
    manifest_path(other).write_text(json.dumps(manifest))

    async def scenario():
        pool = CleaningPool(1, 10_000_000, 4.0, 30.0)
        await pool.start(active_model_path())
        try:
            stuck = asyncio.ensure_future(pool.clean(Job("html", _slow_html(30_000), None, False)))
            while pool.idle:  # until the process has taken the document
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)  # and read it whole (seconds of work are left)
            old = next(iter(pool._workers))
            if loss == "timeout":
                os.kill(old.process.pid, signal.SIGSTOP)  # the document never ends
            await pool.reload(other)
            if loss == "crash":
                os.kill(old.process.pid, signal.SIGKILL)
            outcome = await stuck
            assert outcome.error == ("ExtractionTimeout" if loss == "timeout" else "WorkerCrashed")
            if loss == "crash":
                assert outcome.detail.endswith("it is not replaced: a reload has retired its model")
        finally:
            await pool.close()

    with caplog.at_level(logging.INFO, logger="noisefilter.pool"):
        asyncio.run(scenario())
    assert ("a document took longer than the limit of 4 s; " if loss == "timeout" else "died (exit code -9) on a document; ") \
        + "not replaced: a reload has retired its model" in caplog.text
    assert "starting a replacement" not in caplog.text
