"""Response bodies, as pydantic models (they are also the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.components import LanguageState


class _Schema(BaseModel):
    model_config = ConfigDict(frozen=True, protected_namespaces=())


class ModelInfo(_Schema):
    name: str = Field(description="Model folder name.", examples=["songid-multitask"])
    version: int = Field(description="Numbered version being served.", examples=[1])


class LabelScore(_Schema):
    label: str = Field(description="Stable label id, e.g. a language code.", examples=["en"])
    name: str = Field(description="Human-readable name.", examples=["English"])
    probability: float = Field(ge=0.0, le=1.0, examples=[0.87])


class DecisionOut(_Schema):
    status: Literal["known", "unknown", "no_evidence"] = Field(
        description="known: `label` is the answer (its score reached the threshold). unknown: the song is "
        "unlike every label the model knows (a performer or language it never learnt). no_evidence: "
        "the input has not enough usable signal (silence, noise, a single tone, clicks, too short); "
        "nothing was recognised.",
        examples=["known"],
    )
    label: str | None = Field(description="The label id when known, else null.", examples=["en"])
    name: str | None = Field(
        description="Its human-readable name when known, else null.", examples=["English"]
    )
    score: float | None = Field(
        description="The open-set score the decision compares with `threshold`: the song-level probability "
        "of the top label (the model's `max_probability` rule). Null for no_evidence.",
        examples=[0.62],
    )
    threshold: float | None = Field(
        description="The task's threshold (the model folder's calibrated one, or the operator's); null when "
        "the model sets none for this task, where every answer is known (closed set).",
        examples=[0.24],
    )
    reason: str | None = Field(default=None, description="For no_evidence: what was missing.")
    source: Literal["trained", "enrolled"] | None = Field(
        default=None,
        description="For a known artist: `trained` (a label of the model) or `enrolled` (an artist added "
        "through /artists). With enrolled artists the artist decision compares the song's embedding with "
        "every artist's (cosine, `score`), trained and enrolled alike; without, the artist head decides.",
    )


class ArtistMatch(_Schema):
    label: str = Field(description="Artist id: a trained label or an enrolled id.", examples=["Muldjord"])
    name: str = Field(examples=["Muldjord"])
    source: Literal["trained", "enrolled"]
    similarity: float = Field(ge=-1.0, le=1.0, description="Cosine of the song's and the artist's embedding.")


GALLERY_STATE_DESCRIPTION = (
    "`current`: enrolled artists are the gallery database's as last checked (every "
    "SONGID_GALLERY_POLL_S). `stale`: the database cannot be used now (down, unreadable); songs are "
    "ranked against the artists loaded last (only the trained ones if it was never read), enrolments "
    "made since are missing, and /artists answers 503. It becomes `current` again by itself within "
    "seconds of the database's return."
)


class GalleryStatus(_Schema):
    state: Literal["current", "stale"] = Field(description=GALLERY_STATE_DESCRIPTION, examples=["current"])


class SegmentPrediction(_Schema):
    start_s: float = Field(ge=0.0, description="Segment start in the analysed audio, seconds.")
    end_s: float = Field(ge=0.0, description="Segment end, seconds.")
    predictions: dict[str, list[LabelScore]] = Field(
        description="Per task head, top labels for this segment (the network's heads)."
    )
    voice: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Probability that someone sings or speaks in this segment (the network's, which "
        "gates the language expert); null when the model has no language expert loaded.",
    )


class PredictionResponse(_Schema):
    model: ModelInfo
    duration_s: float = Field(ge=0.0, description="Seconds of audio analysed (capped by the server).")
    n_segments: int = Field(ge=0, description="3-second segments classified; 0 when there was no evidence.")
    decisions: dict[str, DecisionOut] = Field(
        description="Per task, what the answer is worth: act on `known` labels; treat `unknown` as a "
        "performer (or language) outside the model; `no_evidence` as nothing to recognise."
    )
    predictions: dict[str, list[LabelScore]] = Field(
        description="Per task (artist, language), labels ranked by song-level probability: the mean "
        "of the segment probabilities, over all labels summing to 1. Empty when there was no evidence. "
        "The closed-set ranking: read it with `decisions`."
    )
    timeline: list[SegmentPrediction] | None = Field(
        default=None, description="Per-segment top labels; only when timeline=true."
    )
    artists: list[ArtistMatch] | None = Field(
        default=None,
        description="When the model has an artist gallery: trained and enrolled artists ranked together "
        "by similarity to the song (top_k). Null without a gallery; empty without evidence.",
    )
    gallery: GalleryStatus | None = Field(
        default=None,
        description="When the model has an artist gallery: whether `artists` and the artist decision come "
        "from a current gallery or the one loaded last while its database is unavailable. Null without "
        "a gallery.",
    )


class ArtistOut(_Schema):
    id: str = Field(examples=["new-artist-42"])
    name: str = Field(examples=["New Artist"])
    source: Literal["enrolled"] = "enrolled"
    songs: int = Field(ge=1, description="Songs enrolled; the artist's embedding is their mean.")
    model: str = Field(description="`<model>:<version>` whose embedding the enrolment holds.")
    stale: bool = Field(description="Enrolled with another model version: not compared until re-embedded.")
    created: str = Field(description="ISO 8601, UTC.")
    updated: str = Field(description="ISO 8601, UTC.")


class EnrolmentResponse(_Schema):
    artist: ArtistOut
    added_songs: int = Field(
        ge=0, description="Songs this request added (a file already enrolled is skipped)."
    )


class ArtistPage(_Schema):
    items: list[ArtistOut]
    total: int = Field(ge=0, description="Enrolled artists in all.")
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)
    stale: int = Field(ge=0, description="Of all, those enrolled with another model version.")


class LanguageExpertInfo(_Schema):
    state: Literal["loaded", "absent"] = Field(
        description="`loaded`: the expert names the language of songs with voice (the network's head "
        "otherwise says only `zxx`); `absent`: the model folder lists it but its files are not in place "
        "(`songid-expert fetch`), so the language is the network's alone."
    )
    name: str = Field(description="The component's name in the model folder.")


def language_expert_info(language: LanguageState) -> LanguageExpertInfo | None:
    """What /labels and /readyz say of the language expert (None: the model lists none)."""
    if language.state == "none" or language.name is None:
        return None
    return LanguageExpertInfo(state="loaded" if language.state == "loaded" else "absent", name=language.name)


class GalleryInfo(_Schema):
    enrolled: int = Field(ge=0, description="Artists enrolled with the served model (see GET /artists).")
    stale: int = Field(ge=0, description="Artists enrolled with another model version; not compared.")
    threshold: float = Field(
        description="Cosine a song needs to be a known artist when artists are enrolled."
    )
    state: Literal["current", "stale"] = Field(
        default="current",
        description=GALLERY_STATE_DESCRIPTION + " While stale, `enrolled` and `stale` are as loaded last.",
    )


class LabelInfo(_Schema):
    id: str
    name: str


class OpenSetInfo(_Schema):
    score: str = Field(
        description="The score a decision compares with the threshold.", examples=["max_probability"]
    )
    threshold: float = Field(description="A song is known for the task at or above it.", examples=[0.24])
    set_by: Literal["model", "operator"] = Field(
        description="`model` (its openset.json) or `operator` (SONGID_OPENSET_THRESHOLDS)."
    )


class LabelsResponse(_Schema):
    model: ModelInfo
    tasks: dict[str, list[LabelInfo]] = Field(description="Every label the model can answer, per task.")
    open_set: dict[str, OpenSetInfo] = Field(
        description="Per task with an open-set rule, the rule in force; a task missing here is closed set "
        "(every answer `known`)."
    )
    gallery: GalleryInfo | None = Field(
        default=None,
        description="The artist gallery: `tasks.artist` lists the trained artists, GET /artists the "
        "enrolled ones. Null when the service has no gallery.",
    )
    language_expert: LanguageExpertInfo | None = Field(
        default=None,
        description="The language expert, when the model folder lists one: with it loaded, "
        "`tasks.language` is its languages and `zxx`. Null when the model has none.",
    )


class HealthResponse(_Schema):
    status: Literal["ok"] = "ok"


class ReadinessResponse(_Schema):
    status: Literal["ready"] = "ready"
    model: ModelInfo
    providers: list[str] = Field(
        description="ONNX Runtime execution providers the session actually uses, in priority order.",
        examples=[["CPUExecutionProvider"]],
    )
    gallery: GalleryStatus | None = Field(
        default=None,
        description="The artist gallery's state; absent without a gallery. A `stale` gallery keeps the "
        "service ready (200): predictions are still answered; alert on songid_gallery_stale.",
    )
    language_expert: LanguageExpertInfo | None = Field(
        default=None,
        description="The language expert, when the model folder lists one. `absent` keeps the service "
        "ready: the language is then the network's alone.",
    )


class ErrorBody(_Schema):
    code: str = Field(description="Stable machine-readable code.", examples=["payload_too_large"])
    message: str = Field(description="What went wrong, for people.")


class ErrorResponse(_Schema):
    error: ErrorBody


_ERROR_DESCRIPTIONS = {
    400: "Missing, empty or malformed upload.",
    401: "Missing or invalid API key (only when API keys are configured).",
    403: "A gallery write without the admin key.",
    404: "No such enrolled artist.",
    409: "The artist id is taken, or enrolled with another model version.",
    408: "The upload stalled or came too slowly.",
    413: "Upload, or its decoded audio, larger than the configured limit.",
    415: "Body not multipart/form-data, or a file that cannot be decoded as audio (each named).",
    422: "Invalid query parameters or fields, audio the network cannot analyse, or (enrolment) a file "
    "without evidence.",
    503: "Model not ready, too many predictions in progress (see Retry-After), or no gallery.",
    504: "The request took longer than the configured timeout.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses, all with :class:`ErrorResponse`."""
    return {
        status: {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[status]} for status in statuses
    }
