"""GET /labels: everything the model can answer."""

from __future__ import annotations

from fastapi import APIRouter

from service.dependencies import ReadyModelDep
from service.schemas import LabelInfo, LabelsResponse, ModelInfo, error_responses

router = APIRouter(tags=["labels"])


@router.get(
    "/labels",
    summary="Every label per task, with the model's name and version",
    response_model=LabelsResponse,
    responses=error_responses(401, 503),
)
async def labels(model: ReadyModelDep) -> LabelsResponse:
    return LabelsResponse(
        model=ModelInfo(name=model.name, version=model.version),
        tasks={
            task: [LabelInfo(id=label.id, name=label.name) for label in items]
            for task, items in model.labels.items()
        },
    )
