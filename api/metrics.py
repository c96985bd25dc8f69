"""Prometheus metrics of one app: requests, latency, what the filter removed, the pool's health.

Each app has its own registry (not prometheus-client's global one), so several apps in one
process (tests) do not collide and `/metrics` shows exactly this service. Route labels are the
route templates (``/v1/clean``), never raw paths, so a scanner probing random URLs cannot blow up
the number of series.
"""

from __future__ import annotations

import logging
import time

import anyio
from prometheus_client import (
    CollectorRegistry, Counter, Gauge, Histogram, Info, PlatformCollector, ProcessCollector,
)
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from .pool import CleaningPool, ModelInfo

#: latency buckets (s): cleaning a page takes tens of milliseconds to a few seconds
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: methods counted by name; anything else a client invents is counted as "other"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
#: uvicorn's access log, which writes a request's line only when its answer reaches a client
_ACCESS = logging.getLogger("uvicorn.access")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # the HTTP process's own memory and CPU
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.requests = Counter("noisefilter_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("noisefilter_http_request_duration_seconds",
                                 "Time from request to the end of the response.",
                                 ["method", "route"], buckets=_LATENCY, registry=r)
        self.documents = Counter("noisefilter_documents", "Documents cleaned, by outcome "
                                 "(ok or the error code).", ["input", "outcome"], registry=r)
        self.clean_seconds = Histogram("noisefilter_clean_duration_seconds",
                                       "Time a cleaning process spent on one document (a "
                                       "document no process cleaned is not counted).",
                                       ["input"], buckets=_LATENCY, registry=r)
        self.blocks = Counter("noisefilter_blocks", "Blocks labelled, by label.", ["label"], registry=r)
        self.removed = Counter("noisefilter_blocks_removed", "Blocks removed from the clean text, "
                               "by label.", ["label"], registry=r)
        self.restarts = Counter("noisefilter_worker_restarts", "Cleaning processes lost (and "
                                "replaced, unless a reload had retired their model), by reason "
                                "(timeout, crash, error, start_failed).",
                                ["reason"], registry=r)
        self.reloads = Counter("noisefilter_model_reloads", "Model reload requests, by result "
                               "(changed; restarted: the same model in a new set of processes, "
                               "the pool had lost some; unchanged; failed).", ["result"],
                               registry=r)
        # every known label value exported from the start (at 0): an alert on
        # rate(noisefilter_worker_restarts_total[5m]) or increase() needs the series to exist
        # before the first restart, or it never sees the first one
        for reason in ("timeout", "crash", "error", "start_failed"):
            self.restarts.labels(reason)
        for result in ("changed", "restarted", "unchanged", "failed"):
            self.reloads.labels(result)
        self.model = Info("noisefilter_model", "The model being served.", registry=r)
        self.workers = Gauge("noisefilter_workers", "Cleaning processes serving the current model.",
                             registry=r)
        self.idle = Gauge("noisefilter_workers_idle", "Cleaning processes waiting for a job.",
                          registry=r)
        self.worker_rss = Gauge("noisefilter_worker_peak_rss_bytes", "Largest peak resident "
                                "memory among the cleaning processes.", registry=r)

    def watch(self, pool: CleaningPool) -> None:
        """Read the pool's gauges at scrape time."""
        self.workers.set_function(lambda: pool.live)
        self.idle.set_function(lambda: pool.idle)
        self.worker_rss.set_function(lambda: pool.peak_rss)

    def model_loaded(self, info: ModelInfo) -> None:
        self.model.info({"version": info.version, "sha256": str(info.manifest.get("sha256", ""))})

    def cleaned(self, kind: str, outcome: str, seconds: float | None, result: dict | None,
                keep: str) -> None:
        """Count one document, and the time a cleaning process spent on it if one did (a
        document refused before reaching one took no cleaning time: recorded as 0 s, it pulled
        the quantiles down); `keep` is the label the model keeps (the first of its labels)."""
        self.documents.labels(kind, outcome).inc()
        if seconds is not None:
            self.clean_seconds.labels(kind).observe(seconds)
        if result is None:
            return
        for label, count in result["label_counts"].items():
            self.blocks.labels(label).inc(count)
            if label != keep:
                self.removed.labels(label).inc(count)


async def _read_waiting(receive: Receive) -> None:
    """Reads a message the server already holds, without waiting for one (as Starlette's
    `Request.is_disconnected` does): a client's leaving, when it has left."""
    with anyio.CancelScope() as scope:
        scope.cancel()
        await receive()


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (pure ASGI: no body
    buffering, and it sees the status of error responses made by the exception handlers)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[BaseRoute]):
        self.app = app
        self.metrics = metrics
        self.routes = routes

    def _template(self, scope: Scope) -> str:
        """The route template of the request. The router records the one it matched; a request
        answered before routing (a body over the limit) or by a route that records none (the
        OpenAPI pages) is matched here, so that only paths no route serves are "unmatched"."""
        route = scope.get("route")
        if route is None:
            partial = None
            for candidate in self.routes:
                if getattr(candidate, "path", None) is None:  # a router, not a route
                    continue
                match, _ = candidate.matches(scope)
                if match == Match.FULL:
                    route = candidate
                    break
                if match == Match.PARTIAL and partial is None:  # the path, another method
                    partial = candidate
            route = route or partial
        return getattr(route, "path", None) or "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        answered = gone = read = False

        async def send_status(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                # an answer begun after the client left reached no one: 499 (a document
                # cleaned while its client went away was counted as a 200). Only once the
                # body was read: asked for a body not yet sent, the server first tells the
                # client to send it ("100 Continue"), which an early 413 is there to spare
                if read and not gone:
                    await _read_waiting(receive_watched)  # a disconnect the server holds
                status, answered = (499 if gone else message["status"]), True
            await send(message)

        async def receive_watched() -> Message:
            nonlocal gone, read
            message = await receive()
            gone = gone or message["type"] == "http.disconnect"
            read = read or (message["type"] == "http.request" and not message.get("more_body"))
            return message

        try:
            await self.app(scope, receive_watched, send_status)
            if gone and not answered:
                # the client left before an answer (an upload it abandoned): nginx's 499, as
                # for a client gone while queued; it was counted as a 500 no log explained
                status = 499
        finally:
            template = self._template(scope)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.requests.labels(method, template, str(status)).inc()
            if status == 499:  # a crawler's timed-out requests: in the log as in the metrics
                _ACCESS.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), scope["method"],
                             get_path_with_query_string(scope), scope["http_version"], 499)
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
