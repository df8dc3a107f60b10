"""POST /predict: who performs the uploaded song, and in which language."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from service.admission import deadline
from service.analysis import Analysis
from service.dependencies import AdmissionDep, PipelineDep, SettingsDep, SpoolFactoryDep
from service.limits import MAX_TOP_K
from service.ranking import Scored
from service.schemas import (
    ArtistMatch,
    DecisionOut,
    GalleryStatus,
    LabelScore,
    ModelInfo,
    PredictionResponse,
    SegmentPrediction,
    error_responses,
)
from service.upload import FILE_FIELD, receive_upload

router = APIRouter(tags=["predict"])

_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [FILE_FIELD],
                "properties": {
                    FILE_FIELD: {
                        "type": "string",
                        "format": "binary",
                        "description": "The song: WAV, FLAC, Ogg Vorbis, Opus or MP3.",
                    }
                },
            }
        }
    },
}

TopK = Annotated[
    int,
    Query(ge=1, le=MAX_TOP_K, description="Labels returned per task (fewer when a task has fewer)."),
]
Timeline = Annotated[bool, Query(description="Also return the top labels of every 3-second segment.")]


def _scores(scored: dict[str, list[Scored]]) -> dict[str, list[LabelScore]]:
    return {
        task: [LabelScore(label=s.label.id, name=s.label.name, probability=s.probability) for s in items]
        for task, items in scored.items()
    }


def _decisions(analysis: Analysis, gallery_task: str | None) -> dict[str, DecisionOut]:
    return {
        task: DecisionOut(
            status=d.status,
            label=d.label.id if d.label else None,
            name=d.label.name if d.label else None,
            score=d.score,
            threshold=d.threshold,
            reason=d.reason,
            source=d.source if d.status == "known" and task == gallery_task else None,
        )
        for task, d in analysis.decisions.items()
    }


def build_response(
    analysis: Analysis,
    model: ModelInfo,
    *,
    top_k: int,
    timeline: bool,
    gallery: bool = False,
    gallery_task: str | None = None,
) -> PredictionResponse:
    """The answer to one analysis; ``gallery``: the service has an artist gallery, serving
    ``gallery_task`` (whose known decisions say their source)."""
    segments = None
    if timeline:
        segments = [
            SegmentPrediction(
                start_s=start,
                end_s=end,
                predictions=_scores(analysis.segment_ranked(i, top_k)),
                voice=None if analysis.voice is None else float(analysis.voice[i]),
            )
            for i, (start, end) in enumerate(analysis.segment_times)
        ]
    return PredictionResponse(
        model=model,
        duration_s=analysis.duration_s,
        n_segments=analysis.n_segments,
        decisions=_decisions(analysis, gallery_task),
        predictions=_scores(analysis.ranked(top_k)),
        timeline=segments,
        artists=[
            ArtistMatch(
                label=m.artist_id, name=m.name, source=m.source, similarity=min(max(m.similarity, -1.0), 1.0)
            )
            for m in analysis.artists[:top_k]
        ]
        if gallery
        else None,
        gallery=GalleryStatus(state=analysis.gallery_state)
        if gallery and analysis.gallery_state is not None
        else None,
    )


@router.post(
    "/predict",
    summary="Identify the artist and language of a song",
    response_model=PredictionResponse,
    responses=error_responses(400, 401, 408, 413, 415, 422, 503, 504),
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def predict(
    request: Request,
    pipeline: PipelineDep,
    admission: AdmissionDep,
    settings: SettingsDep,
    make_spool: SpoolFactoryDep,
    top_k: TopK = 5,
    timeline: Timeline = False,
) -> PredictionResponse:
    """Upload a song as multipart field `file`; the song-level probabilities are the mean of
    the 3-second segment probabilities, so each task's full list sums to 1."""
    # The deadline covers the upload, waiting in the queue for a slot and the analysis; the upload
    # is received before a slot is asked for, so a slow client never holds one.
    async with deadline(settings.request_timeout_s):
        upload = await receive_upload(request, limits=settings.body_limits(), make_spool=make_spool)
        async with admission.admit(ready=pipeline.ready, on_release=upload.close) as slot:
            analysis = await admission.run(slot, partial(pipeline.analyse, upload.file))
    model = ModelInfo(name=pipeline.model.name, version=pipeline.model.version)
    return build_response(
        analysis,
        model,
        top_k=top_k,
        timeline=timeline,
        gallery=pipeline.gallery is not None,
        gallery_task=pipeline.model.artifact.gallery_task,
    )
