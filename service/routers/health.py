"""GET /healthz (the process answers) and GET /readyz (the model can serve)."""

from __future__ import annotations

from fastapi import APIRouter

from service.dependencies import ReadyModelDep
from service.schemas import HealthResponse, ModelInfo, ReadinessResponse, error_responses

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the server is running", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/readyz",
    summary="Readiness: model loaded and warmed up; lists the execution providers in use",
    response_model=ReadinessResponse,
    responses=error_responses(503),
)
async def readyz(model: ReadyModelDep) -> ReadinessResponse:
    return ReadinessResponse(
        model=ModelInfo(name=model.name, version=model.version), providers=model.providers
    )
