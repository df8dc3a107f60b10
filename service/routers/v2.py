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

import asyncio
import threading
from concurrent.futures import Future
from http import HTTPStatus
from typing import Any, ClassVar, Final

import numpy as np
from fastapi import APIRouter, Request

from frontend.artifact import INPUT_NAME
from frontend.audio import INPUT_SHAPE
from service.cancellation import CancelToken
from service.dependencies import InferenceDep, SettingsDep
from service.errors import ModelNotReadyError, PayloadTooLargeError, ServiceError
from service.inference import Slot, deadline
from service.model import SongModel
from service.oip import (
    DATATYPE,
    INFER_BODY,
    InferResponse,
    LiveResponse,
    ModelMetadata,
    OutputTensor,
    ReadyResponse,
    TensorMetadata,
    parse_infer_request,
)
from service.schemas import ErrorResponse

router = APIRouter(prefix="/v2", tags=["open inference protocol"])

_ERRORS: Final[dict[int, str]] = {
    400: "Not an inference request for this model; the message names the field and the value.",
    401: "Missing or invalid API key (only when API keys are configured).",
    404: "No model of that name or version on this server.",
    413: "Request body larger than the configured limit.",
    422: "A version that is not a number.",
    503: "Model not ready, or too many predictions in progress (see Retry-After).",
    504: "The request took longer than the configured timeout.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses, all with the service's error body."""
    return {status: {"model": ErrorResponse, "description": _ERRORS[status]} for status in statuses}


class ModelNotFoundError(ServiceError):
    status_code: ClassVar[int] = HTTPStatus.NOT_FOUND
    code: ClassVar[str] = "not_found"


def _served(inference: InferenceDep, name: str, version: int | None) -> SongModel:
    """The served model when ``name`` (and ``version``) designate it; else 404."""
    if not inference.ready:
        raise ModelNotReadyError("the model is not loaded yet")
    model = inference.model
    if name != model.name or (version is not None and version != model.version):
        wanted = name if version is None else f"{name} version {version}"
        raise ModelNotFoundError(
            f"no model {wanted!r}; this server has {model.name!r} version {model.version}"
        )
    return model


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 at the first byte past ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"request body exceeds the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _predict(model: SongModel, mel: np.ndarray, slot: Slot) -> dict[str, np.ndarray]:
    """Run the model in a thread that owns ``slot`` until it has finished (even when abandoned)."""
    token = CancelToken()
    done: Future[dict[str, np.ndarray]] = Future()

    def work() -> None:
        try:
            done.set_result(model.predict(mel, cancel=token))
        except BaseException as e:  # handed to the awaiting request
            done.set_exception(e)

    threading.Thread(target=work, name="songid-v2-infer", daemon=True).start()
    slot.hand_off(done)
    try:
        return await asyncio.wrap_future(done)
    except asyncio.CancelledError:  # timeout or client gone: stop the work, keep the slot until it stops
        token.cancel()
        raise


@router.get("/health/live", summary="Open Inference Protocol: server live", response_model=LiveResponse)
async def live() -> LiveResponse:
    return LiveResponse()


@router.get(
    "/health/ready",
    summary="Open Inference Protocol: server ready",
    response_model=ReadyResponse,
    responses=error_responses(503),
)
async def ready(inference: InferenceDep) -> ReadyResponse:
    if not inference.ready:
        raise ModelNotReadyError("the model is not loaded or not warmed up yet")
    return ReadyResponse()


@router.get("/models/{name}", response_model=ModelMetadata, responses=error_responses(404, 503))
async def metadata(name: str, inference: InferenceDep) -> ModelMetadata:
    """Open Inference Protocol: the model's input and outputs (batch axis -1)."""
    return _metadata(_served(inference, name, None))


@router.get(
    "/models/{name}/versions/{version}",
    response_model=ModelMetadata,
    responses=error_responses(404, 422, 503),
)
async def version_metadata(name: str, version: int, inference: InferenceDep) -> ModelMetadata:
    """Open Inference Protocol: the model's input and outputs, for one version."""
    return _metadata(_served(inference, name, version))


def _metadata(model: SongModel) -> ModelMetadata:
    return ModelMetadata(
        name=model.name,
        versions=[str(model.version)],
        inputs=[TensorMetadata(name=INPUT_NAME, datatype=DATATYPE, shape=[-1, *INPUT_SHAPE])],
        outputs=[
            TensorMetadata(name=task, datatype=DATATYPE, shape=[-1, len(labels)])
            for task, labels in model.labels.items()
        ],
    )


@router.get("/models/{name}/ready", response_model=ReadyResponse, responses=error_responses(404, 503))
async def model_ready(name: str, inference: InferenceDep) -> ReadyResponse:
    """Open Inference Protocol: this model can serve."""
    _served(inference, name, None)
    return ReadyResponse()


@router.get(
    "/models/{name}/versions/{version}/ready",
    response_model=ReadyResponse,
    responses=error_responses(404, 422, 503),
)
async def version_ready(name: str, version: int, inference: InferenceDep) -> ReadyResponse:
    """Open Inference Protocol: this version of the model can serve."""
    _served(inference, name, version)
    return ReadyResponse()


@router.post(
    "/models/{name}/infer",
    response_model=InferResponse,
    responses=error_responses(400, 401, 404, 413, 503, 504),
    openapi_extra={"requestBody": INFER_BODY},
)
async def infer(name: str, request: Request, inference: InferenceDep, settings: SettingsDep) -> InferResponse:
    """Open Inference Protocol: per-segment probabilities for a batch of log-mel segments."""
    return await _infer(_served(inference, name, None), request, inference, settings)


@router.post(
    "/models/{name}/versions/{version}/infer",
    response_model=InferResponse,
    responses=error_responses(400, 401, 404, 413, 422, 503, 504),
    openapi_extra={"requestBody": INFER_BODY},
)
async def version_infer(
    name: str, version: int, request: Request, inference: InferenceDep, settings: SettingsDep
) -> InferResponse:
    """Open Inference Protocol: as ``infer``, for one version."""
    return await _infer(_served(inference, name, version), request, inference, settings)


async def _infer(
    model: SongModel, request: Request, inference: InferenceDep, settings: SettingsDep
) -> InferResponse:
    # The deadline covers waiting in the queue for a slot, as for POST /predict.
    async with deadline(settings.request_timeout_s), inference.admit() as slot:
        body = await _read_body(request, settings.max_upload_bytes)
        parsed, mel, wanted = parse_infer_request(body, model.artifact.tasks)
        probabilities = await _predict(model, mel, slot)
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
