"""GET /labels: everything the model can answer, and the open-set rule of each task that has one."""

from __future__ import annotations

from fastapi import APIRouter

from service.decisions import rule_source
from service.dependencies import OptionalGalleryDep, PipelineDep, ReadyModelDep
from service.schemas import (
    GalleryInfo,
    LabelInfo,
    LabelsResponse,
    ModelInfo,
    OpenSetInfo,
    error_responses,
    language_expert_info,
)

router = APIRouter(tags=["labels"])


@router.get(
    "/labels",
    summary="Every label per task, with the model's name and version",
    response_model=LabelsResponse,
    responses=error_responses(401, 503),
)
def labels(model: ReadyModelDep, pipeline: PipelineDep, gallery: OptionalGalleryDep) -> LabelsResponse:
    return LabelsResponse(
        model=ModelInfo(name=model.name, version=model.version),
        tasks={
            task: [LabelInfo(id=label.id, name=label.name) for label in items]
            for task, items in model.labels.items()
        },
        open_set={
            task: OpenSetInfo(
                score=rule.score,
                threshold=rule.threshold,
                set_by=rule_source(rule),
            )
            for task, rule in pipeline.rules.items()
        },
        gallery=GalleryInfo(
            enrolled=gallery.index().n_enrolled,
            stale=gallery.stale(or_as_loaded=True),
            threshold=gallery.threshold,
            state=gallery.state,
        )
        if gallery is not None
        else None,
        language_expert=language_expert_info(model.language),
    )
