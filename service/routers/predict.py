"""POST /predict: who performs the uploaded song, and in which language."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request

from frontend.labels import Label
from service.dependencies import InferenceDep, SettingsDep, SpoolFactoryDep
from service.inference import Analysis, deadline
from service.schemas import (
    LabelScore,
    ModelInfo,
    PredictionResponse,
    SegmentPrediction,
    error_responses,
)
from service.upload import FILE_FIELD, receive_upload

MAX_TOP_K = 100

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


def ranked(probabilities: np.ndarray, labels: list[Label], top_k: int) -> list[LabelScore]:
    """The ``top_k`` labels by probability, highest first (ties keep label order)."""
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    return [
        LabelScore(
            label=labels[i].id,
            name=labels[i].name,
            probability=min(max(float(probabilities[i]), 0.0), 1.0),
        )
        for i in order
    ]


def build_response(
    analysis: Analysis, model: ModelInfo, labels: dict[str, list[Label]], *, top_k: int, timeline: bool
) -> PredictionResponse:
    segments = None
    if timeline:
        segments = [
            SegmentPrediction(
                start_s=start,
                end_s=end,
                predictions={
                    task: ranked(probs[i], labels[task], top_k)
                    for task, probs in analysis.segment_probs.items()
                },
            )
            for i, (start, end) in enumerate(analysis.segment_times)
        ]
    return PredictionResponse(
        model=model,
        duration_s=analysis.duration_s,
        n_segments=analysis.n_segments,
        predictions={task: ranked(probs, labels[task], top_k) for task, probs in analysis.song_probs.items()},
        timeline=segments,
    )


@router.post(
    "/predict",
    summary="Identify the artist and language of a song",
    response_model=PredictionResponse,
    responses=error_responses(400, 401, 413, 415, 422, 503, 504),
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def predict(
    request: Request,
    inference: InferenceDep,
    settings: SettingsDep,
    make_spool: SpoolFactoryDep,
    top_k: TopK = 5,
    timeline: Timeline = False,
) -> PredictionResponse:
    """Upload a song as multipart field `file`; the song-level probabilities are the mean of
    the 3-second segment probabilities, so each task's full list sums to 1."""
    # The deadline covers waiting in the queue for a slot, the upload and the analysis.
    async with deadline(settings.request_timeout_s), inference.admit() as slot:
        upload = await receive_upload(request, max_bytes=settings.max_upload_bytes, make_spool=make_spool)
        slot.on_release(upload.close)
        analysis = await inference.run(upload.file, slot)
    model = inference.model
    return build_response(
        analysis,
        ModelInfo(name=model.name, version=model.version),
        model.labels,
        top_k=top_k,
        timeline=timeline,
    )
