"""The Open Inference Protocol (KServe v2, JSON over HTTP): log-mel tensors in, probabilities out.

For gateways and clients that speak the protocol (KServe, Triton's HTTP API, Seldon), this
serves the network alone, without the audio front end: the client sends the ``mel`` tensor
``[n, 187, 96, 1]`` FP32 (as ``frontend.audio.segments_from_audio`` makes it) and gets one
FP32 output per task, ``[n, n_labels]``, the per-segment softmax probabilities.

Routes: ``GET /v2/health/live``, ``GET /v2/health/ready``, ``GET /v2/models/{name}``,
``GET /v2/models/{name}/ready`` and ``POST /v2/models/{name}/infer`` (each model route
also under ``/versions/{version}``). Errors keep the service's body,
``{"error": {"code", "message"}}``. An inference takes a concurrency slot like ``/predict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Annotated, Any, BinaryIO, ClassVar, Final

import numpy as np
from fastapi import APIRouter, Depends, Request

from service.admission import Admission, deadline
from service.body import SpoolFactory, spool_body
from service.cancellation import CancelToken
from service.dependencies import AdmissionDep, PipelineDep, ReadyModelDep, SettingsDep, SpoolFactoryDep
from service.errors import ServiceError
from service.model import SongModel
from service.oip import (
    DATATYPE,
    INFER_BODY,
    MAX_BODY_BYTES,
    InferRequest,
    InferResponse,
    LiveResponse,
    ModelMetadata,
    OutputTensor,
    ReadyResponse,
    TensorMetadata,
    parse_infer_request,
)
from service.pipeline import Pipeline
from service.schemas import ErrorResponse
from service.settings import Settings

router = APIRouter(prefix="/v2", tags=["open inference protocol"])
# Probes (Kubernetes, KServe) call these without credentials, as they call /healthz and /readyz.
health_router = APIRouter(prefix="/v2", tags=["open inference protocol"])

_ERRORS: Final[dict[int, str]] = {
    400: "Not an inference request for this model; the message names the field and the value.",
    401: "Missing or invalid API key (only when API keys are configured).",
    404: "No model of that name or version on this server.",
    408: "The request body stalled or came too slowly.",
    413: "Request body larger than the configured limit, or than any valid request needs.",
    422: "A version that is not a number, or outputs that are not finite numbers for this input.",
    503: "Model not ready, or too many predictions in progress (see Retry-After).",
    504: "The request took longer than the configured timeout.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses, all with the service's error body."""
    return {status: {"model": ErrorResponse, "description": _ERRORS[status]} for status in statuses}


class ModelNotFoundError(ServiceError):
    status_code: ClassVar[int] = HTTPStatus.NOT_FOUND
    code: ClassVar[str] = "not_found"


def _served(model: SongModel, name: str, version: int | None) -> SongModel:
    """The served model when ``name`` (and ``version``) designate it; else 404."""
    if name != model.name or (version is not None and version != model.version):
        wanted = name if version is None else f"{name} version {version}"
        raise ModelNotFoundError(
            f"no model {wanted!r}; this server has {model.name!r} version {model.version}"
        )
    return model


@health_router.get(
    "/health/live", summary="Open Inference Protocol: server live", response_model=LiveResponse
)
async def live() -> LiveResponse:
    return LiveResponse()


@health_router.get(
    "/health/ready",
    summary="Open Inference Protocol: server ready",
    response_model=ReadyResponse,
    responses=error_responses(503),
)
async def ready(_: ReadyModelDep) -> ReadyResponse:
    return ReadyResponse()


@router.get("/models/{name}", response_model=ModelMetadata, responses=error_responses(404, 503))
async def metadata(name: str, model: ReadyModelDep) -> ModelMetadata:
    """Open Inference Protocol: the model's input and outputs (batch axis -1)."""
    return _metadata(_served(model, name, None))


@router.get(
    "/models/{name}/versions/{version}",
    response_model=ModelMetadata,
    responses=error_responses(404, 422, 503),
)
async def version_metadata(name: str, version: int, model: ReadyModelDep) -> ModelMetadata:
    """Open Inference Protocol: the model's input and outputs, for one version."""
    return _metadata(_served(model, name, version))


def _parse_and_infer(
    pipeline: Pipeline, body: BinaryIO, outputs: list[str], cancel: CancelToken
) -> tuple[InferRequest, dict[str, np.ndarray], list[str]]:
    parsed, mel, wanted = parse_infer_request(body.read(), outputs)
    cancel.raise_if_cancelled()
    return parsed, pipeline.infer(mel, cancel), wanted


def _metadata(model: SongModel) -> ModelMetadata:
    signature = model.artifact.signature
    return ModelMetadata(
        name=model.name,
        versions=[str(model.version)],
        inputs=[
            TensorMetadata(name=t.name, datatype=DATATYPE, shape=[-1, *t.shape]) for t in signature.inputs
        ],
        outputs=[
            TensorMetadata(name=t.name, datatype=DATATYPE, shape=[-1, *t.shape]) for t in signature.outputs
        ],
    )


@router.get("/models/{name}/ready", response_model=ReadyResponse, responses=error_responses(404, 503))
async def model_ready(name: str, model: ReadyModelDep) -> ReadyResponse:
    """Open Inference Protocol: this model can serve."""
    _served(model, name, None)
    return ReadyResponse()


@router.get(
    "/models/{name}/versions/{version}/ready",
    response_model=ReadyResponse,
    responses=error_responses(404, 422, 503),
)
async def version_ready(name: str, version: int, model: ReadyModelDep) -> ReadyResponse:
    """Open Inference Protocol: this version of the model can serve."""
    _served(model, name, version)
    return ReadyResponse()


@dataclass(frozen=True)
class _InferContext:
    """What an inference needs beyond its request and model (one dependency for both routes)."""

    pipeline: Pipeline
    admission: Admission
    settings: Settings
    make_spool: SpoolFactory


def _infer_context(
    pipeline: PipelineDep, admission: AdmissionDep, settings: SettingsDep, make_spool: SpoolFactoryDep
) -> _InferContext:
    return _InferContext(pipeline, admission, settings, make_spool)


InferContextDep = Annotated[_InferContext, Depends(_infer_context)]


@router.post(
    "/models/{name}/infer",
    response_model=InferResponse,
    responses=error_responses(400, 401, 404, 408, 413, 422, 503, 504),
    openapi_extra={"requestBody": INFER_BODY},
)
async def infer(name: str, request: Request, model: ReadyModelDep, context: InferContextDep) -> InferResponse:
    """Open Inference Protocol: per-segment probabilities for a batch of log-mel segments."""
    return await _infer(_served(model, name, None), request, context)


@router.post(
    "/models/{name}/versions/{version}/infer",
    response_model=InferResponse,
    responses=error_responses(400, 401, 404, 408, 413, 422, 503, 504),
    openapi_extra={"requestBody": INFER_BODY},
)
async def version_infer(
    name: str, version: int, request: Request, model: ReadyModelDep, context: InferContextDep
) -> InferResponse:
    """Open Inference Protocol: as ``infer``, for one version."""
    return await _infer(_served(model, name, version), request, context)


async def _infer(model: SongModel, request: Request, context: _InferContext) -> InferResponse:
    # As for POST /predict: the body is read before a slot is asked for; the deadline covers all.
    # Parsing runs in the worker that holds the slot: off the event loop, and at most one body
    # per slot is being turned into objects at a time.
    pipeline, admission, settings = context.pipeline, context.admission, context.settings
    async with deadline(settings.request_timeout_s):
        body = await spool_body(request, settings.body_limits(MAX_BODY_BYTES), context.make_spool)
        async with admission.admit(ready=pipeline.ready, on_release=body.close) as slot:
            work = partial(_parse_and_infer, pipeline, body, model.artifact.signature.output_names)
            parsed, probabilities, wanted = await admission.run(slot, work)
    return InferResponse(
        model_name=model.name,
        model_version=str(model.version),
        id=parsed.id,
        outputs=[
            OutputTensor(
                name=task, shape=list(probabilities[task].shape), data=probabilities[task].ravel().tolist()
            )
            for task in wanted
        ],
    )
