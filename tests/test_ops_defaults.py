"""Defaults an operator relies on: metric series that exist before their first event."""

from __future__ import annotations

from prometheus_client import generate_latest

from api.metrics import Metrics


def test_restart_and_reload_counters_exist_at_zero_from_the_start():
    text = generate_latest(Metrics().registry).decode()
    for reason in ("timeout", "crash", "start_failed"):
        assert f'noisefilter_worker_restarts_total{{reason="{reason}"}} 0.0' in text
    for result in ("changed", "unchanged", "failed"):
        assert f'noisefilter_model_reloads_total{{result="{result}"}} 0.0' in text
