"""GET /healthz (the process answers) and GET /readyz (the model can serve; the gallery's state)."""

from __future__ import annotations

from fastapi import APIRouter

from service.dependencies import OptionalGalleryDep, ReadyModelDep
from service.schemas import (
    GalleryStatus,
    HealthResponse,
    ModelInfo,
    ReadinessResponse,
    error_responses,
    language_expert_info,
)

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the server is running", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/readyz",
    summary="Readiness: model loaded and warmed up; lists the execution providers in use",
    response_model=ReadinessResponse,
    response_model_exclude_none=True,
    responses=error_responses(503),
)
async def readyz(model: ReadyModelDep, gallery: OptionalGalleryDep) -> ReadinessResponse:
    """200 while the model serves, even with a stale gallery (predictions are still answered)."""
    return ReadinessResponse(
        model=ModelInfo(name=model.name, version=model.version),
        providers=model.providers,
        gallery=GalleryStatus(state=gallery.state) if gallery is not None else None,
        language_expert=language_expert_info(model.language),
    )
