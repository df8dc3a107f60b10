"""GET /metrics: Prometheus text exposition."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.dependencies import MetricsDep
from service.schemas import error_responses

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **error_responses(401)},
)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(content=metrics.render(), media_type=CONTENT_TYPE_LATEST)
