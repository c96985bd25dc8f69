"""`create_app(settings)`: the FastAPI application of the cleaning service.

The app owns a pool of cleaning processes for its whole life (FastAPI lifespan): it starts them
before the first request and stops them at shutdown, so `uvicorn`, the tests' ASGI client and
schemathesis all get a working service from the same factory.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import Depends, FastAPI

from filter import __version__
from filter.modelfile import active_model_path, resolve_model_path

from . import clean, errors, examples, label, model, ops
from .bodylimit import BodyLimitMiddleware
from .deps import StoreHolder, known_query
from .errors import documented
from .headers import DefaultHeadersMiddleware
from .hosts import LoopbackHostMiddleware, is_loopback
from .metrics import Metrics, MetricsMiddleware
from .pool import CleaningPool
from .settings import Settings

LOGGER = logging.getLogger("noisefilter.api")

DESCRIPTION = """Removes related-news lists, teasers, prompts and junk from news pages.

POST a page to `/v1/clean` (raw `text/html`, or JSON) and get its article text back, with every
block labelled `content`, `related`, `teaser` or `junk` on request. The service never fetches a
URL: a `url` only resolves the page's relative links. Errors are JSON:
`{"error": code, "detail": message}`.
"""


def startup_model(name: str | None) -> Path:
    """The model the service starts with: the active one, a file name in the models folder, or
    a path the operator gave (trusted: it comes from the command line, not from a client).
    A `NOISEFILTER_MODELS_DIR` that is not a folder is a mistake (a typo, a volume not
    mounted): `ModelError`, rather than silently serving the packaged model, where no reload
    would then find a model."""
    model.check_models_dir()
    return active_model_path() if name is None else resolve_model_path(name)


def _schema_of(app: FastAPI, settings: Settings):
    """`app.openapi` with what FastAPI cannot say from the code: the API key is needed only
    when the service has one (an alternative without it), and a batch holds at most
    `--max-batch` documents."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for path in schema["paths"].values():
                for operation in path.values():
                    if any("APIKeyHeader" in s for s in operation.get("security", ())):
                        operation["security"] = [{"APIKeyHeader": []}, {}]
            batch = schema["components"]["schemas"]["BatchRequest"]["properties"]["documents"]
            batch["maxItems"] = settings.max_batch
        return app.openapi_schema

    return openapi


def create_app(settings: Settings | None = None, check_host: bool = False) -> FastAPI:
    """The service. `check_host` (as `noisefilter serve` runs it): on a loopback address, answer
    only requests addressed to this machine (`hosts.LoopbackHostMiddleware`); in-process
    clients (tests) send other names."""
    settings = settings or Settings.from_env()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = CleaningPool(settings.workers, settings.max_bytes, settings.timeout,
                            settings.queue_timeout,
                            on_restart=lambda reason: metrics.restarts.labels(reason).inc())
        try:
            info = await pool.start(startup_model(settings.model))
        except BaseException:
            await pool.close()
            raise
        LOGGER.info("serving model %s (%s) in %d cleaning process%s", info.version, info.path,
                    pool.live, "" if pool.live == 1 else "es")
        app.state.pool = pool
        # `/v1/decode` reads one page at a time. Decoding runs in this process (in a thread,
        # but it holds the GIL: codecs and the charset detector are C code that never lets go
        # of it), so more threads decoding add no speed and only starve the event loop: 30
        # requests at once of a 10 MB page in windows-1251 that declares nothing (AnyIO's 40
        # threads) held `/healthz` for up to 8 s, and this process grew by 200 MB
        app.state.decodes = anyio.CapacityLimiter(1)
        metrics.watch(pool)
        metrics.model_loaded(info)
        try:
            yield
        finally:
            await pool.close()

    # any operation may fail (500), and `noisefilter serve` on a loopback address answers only
    # requests addressed to it (421, `hosts.LoopbackHostMiddleware`)
    # no redirect for a trailing slash: the unknown route is a 404, as documented (Starlette's
    # 307 named an absolute URL without the prefix a proxy strips)
    app = FastAPI(title="noisefilter", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, responses=documented(421, 500), redirect_slashes=False)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.store = StoreHolder(settings.examples_db)
    errors.install(app)
    routers = [module.router for module in (clean, examples, model, ops, label)]
    for router in routers:
        # the API's options are all named; probes and the page are left to their callers
        strict = router in (clean.router, examples.router, model.router)
        app.include_router(router, dependencies=[Depends(known_query)] if strict else None)
    app.openapi = _schema_of(app, settings)
    app.add_middleware(BodyLimitMiddleware, limit=settings.body_limit)
    if check_host and is_loopback(settings.host) and "*" not in settings.extra_hosts:
        # reached only from this machine: browsers' pages included. Inside the metrics, so
        # that a proxy refused for its Host (every request 421) shows in the request counts
        app.add_middleware(LoopbackHostMiddleware, also=settings.extra_hosts)
    # outermost: sees every response; it names requests answered before routing by these routes
    routes = [*app.router.routes, *(route for router in routers for route in router.routes)]
    app.state.routes = routes  # also for the methods a 405 names
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=routes)
    # outside all: every answer gets the headers and names its request
    app.add_middleware(DefaultHeadersMiddleware)
    return app
