"""Defaults an operator relies on: metric series that exist before their first event, one
cleaning process per core the service may actually use, settings that keep the service off the
network and refuse values that would make it refuse everything."""

from __future__ import annotations

import os

import pytest
from prometheus_client import generate_latest

from api.metrics import Metrics
from api.settings import Settings


def test_restart_and_reload_counters_exist_at_zero_from_the_start():
    text = generate_latest(Metrics().registry).decode()
    for reason in ("timeout", "crash", "start_failed", "error"):
        assert f'noisefilter_worker_restarts_total{{reason="{reason}"}} 0.0' in text
    for result in ("changed", "unchanged", "restarted", "failed"):
        assert f'noisefilter_model_reloads_total{{result="{result}"}} 0.0' in text


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_default_workers_follow_the_cpu_affinity_not_the_machine(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert Settings().workers == 2
    assert Settings.from_env({}).workers == 2
    assert Settings(workers=3).workers == 3


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_more_than_eight_cleaning_processes_per_core_are_refused(monkeypatch):
    """A mistyped NOISEFILTER_WORKERS=400 started 400 processes, each with its own model."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert Settings(workers=16).workers == 16
    with pytest.raises(ValueError, match="workers must be at most 16 .*not 17"):
        Settings.from_env({"NOISEFILTER_WORKERS": "17"})


def test_a_misspelt_variable_is_warned_about_with_the_setting_it_resembles(tmp_path):
    """NOISEFILTER_APIKEY was ignored without a word: the write endpoints stayed open."""
    import subprocess
    import sys

    from api.settings import unknown_variables

    environ = {"NOISEFILTER_APIKEY": "s3cret", "NOISEFILTER_WORKERS": "1", "NOISEFILTER_MODELS_DIR": "m",
               "NOISEFILTER_SOMETHING_ELSE": "x", "HOME": "/root"}
    assert unknown_variables(environ) == [
        "NOISEFILTER_APIKEY is no setting of the service (did you mean NOISEFILTER_API_KEY?); "
        "it is ignored",
        "NOISEFILTER_SOMETHING_ELSE is no setting of the service; it is ignored"]
    # `serve` says so before anything starts (here it then stops on a bad port)
    run = subprocess.run([sys.executable, "-m", "filter.cli", "serve", "--port", "99999"],
                         env={**os.environ, "NOISEFILTER_QUEUETIMEOUT": "5"}, capture_output=True,
                         text=True, timeout=60)
    assert "warning: NOISEFILTER_QUEUETIMEOUT is no setting of the service (did you mean " \
           "NOISEFILTER_QUEUE_TIMEOUT?)" in run.stderr and run.returncode == 2


@pytest.mark.parametrize("command", ["serve", "label"])
def test_serve_without_the_api_extra_says_which_extra_to_install(command, monkeypatch, capsys):
    """`pip install .` alone is the library; `serve` then ended in a traceback (No module
    named 'uvicorn')."""
    import importlib.util

    import api.server
    from filter.cli import main

    monkeypatch.setattr(api.server, "_run", lambda *args, **kwargs: pytest.fail("it started"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main([command, "--port", "0", "--no-browser"] if command == "label" else
                [command, "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"noisefilter {command}: the HTTP service needs the api extra (uvicorn missing): "
        'pip install ".[api]" from the noisefilter repository\n')


@pytest.mark.parametrize("setting, needle", [
    ({"port": 65536}, "port"), ({"max_body_bytes": 0}, "max_body_bytes"),
    ({"max_batch": 0}, "max_batch"), ({"max_bytes": 2**40 + 1}, "max_bytes"),
    ({"timeout": 0}, "timeout"), ({"queue_timeout": 0}, "queue_timeout")])
def test_settings_out_of_range_are_refused_at_start(setting, needle):
    """Each would start a service that refuses everything (a batch limit of 0, a timeout of 0),
    mean the default without a word (a body limit of 0) or fail later in the pool."""
    with pytest.raises(ValueError, match=needle):
        Settings.from_env({}, **setting)


def test_the_defaults_and_empty_variables():
    """An empty variable (passed through by a container's environment) means the default;
    the default host keeps the service off the network."""
    settings = Settings.from_env({"NOISEFILTER_PORT": "", "NOISEFILTER_HOST": "",
                                  "NOISEFILTER_WORKERS": "", "NOISEFILTER_API_KEY": ""})
    assert (settings.host, settings.port, settings.max_batch, settings.queue_timeout,
            settings.api_key) == ("127.0.0.1", 8000, 64, 30.0, None)
    assert settings.body_limit == 3 * settings.max_bytes + 65536
