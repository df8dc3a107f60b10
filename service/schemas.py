"""Response bodies, as pydantic models (they are also the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Schema(BaseModel):
    model_config = ConfigDict(frozen=True, protected_namespaces=())


class ModelInfo(_Schema):
    name: str = Field(description="Model folder name.", examples=["songid-multitask"])
    version: int = Field(description="Numbered version being served.", examples=[1])


class LabelScore(_Schema):
    label: str = Field(description="Stable label id, e.g. a language code.", examples=["en"])
    name: str = Field(description="Human-readable name.", examples=["English"])
    probability: float = Field(ge=0.0, le=1.0, examples=[0.87])


class SegmentPrediction(_Schema):
    start_s: float = Field(ge=0.0, description="Segment start in the analysed audio, seconds.")
    end_s: float = Field(ge=0.0, description="Segment end, seconds.")
    predictions: dict[str, list[LabelScore]] = Field(description="Per task, top labels for this segment.")


class PredictionResponse(_Schema):
    model: ModelInfo
    duration_s: float = Field(ge=0.0, description="Seconds of audio analysed (capped by the server).")
    n_segments: int = Field(ge=1, description="3-second segments classified.")
    predictions: dict[str, list[LabelScore]] = Field(
        description="Per task (artist, language), labels ranked by song-level probability: the mean "
        "of the segment probabilities, over all labels summing to 1."
    )
    timeline: list[SegmentPrediction] | None = Field(
        default=None, description="Per-segment top labels; only when timeline=true."
    )


class LabelInfo(_Schema):
    id: str
    name: str


class LabelsResponse(_Schema):
    model: ModelInfo
    tasks: dict[str, list[LabelInfo]] = Field(description="Every label the model can answer, per task.")


class HealthResponse(_Schema):
    status: Literal["ok"] = "ok"


class ReadinessResponse(_Schema):
    status: Literal["ready"] = "ready"
    model: ModelInfo
    providers: list[str] = Field(
        description="ONNX Runtime execution providers the session actually uses, in priority order.",
        examples=[["CPUExecutionProvider"]],
    )


class ErrorBody(_Schema):
    code: str = Field(description="Stable machine-readable code.", examples=["payload_too_large"])
    message: str = Field(description="What went wrong, for people.")


class ErrorResponse(_Schema):
    error: ErrorBody


_ERROR_DESCRIPTIONS = {
    400: "Missing, empty or malformed upload.",
    401: "Missing or invalid API key (only when API keys are configured).",
    408: "The upload stalled or came too slowly.",
    413: "Upload, or its decoded audio, larger than the configured limit.",
    415: "Body not multipart/form-data, or a file that cannot be decoded as audio.",
    422: "Invalid query parameters, or audio whose level the network cannot analyse.",
    503: "Model not ready, or too many predictions in progress (see Retry-After).",
    504: "The request took longer than the configured timeout.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses, all with :class:`ErrorResponse`."""
    return {
        status: {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[status]} for status in statuses
    }
