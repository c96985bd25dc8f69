"""Operations: `/healthz` (the process answers), `/readyz` (it can clean now), `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .deps import MetricsDep, answer_head
from .errors import documented, error_response
from .schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut, summary="Liveness")
async def healthz() -> dict:
    """Answers as long as the event loop runs: cleaning never happens on it, so a slow document
    does not make the service look dead."""
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyOut, summary="Readiness",
            responses=documented(503, s503="Not ready to clean."))
async def readyz(request: Request) -> dict | JSONResponse:
    """Ready when at least one cleaning process serves the model (none are while starting, or
    if every process was lost and none could be replaced)."""
    pool = getattr(request.app.state, "pool", None)
    if pool is None or not pool.ready:
        return error_response(503, "not_ready", "no cleaning process is serving a model (starting, "
                                                "or lost and not replaced: see the log)")
    return {"status": "ready", "model_version": pool.info.version, "workers": pool.live}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "Prometheus text format."}})
async def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


answer_head(router)
