"""Open Inference Protocol (KServe v2, JSON) messages: the request and response models and the
parsing of an inference request into a log-mel batch. Knows nothing of routes."""

from __future__ import annotations

import math
from typing import Annotated, Any, Final, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    FailFast,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from frontend.audio import INPUT_SHAPE
from frontend.signature import INPUT_NAME
from service.errors import InvalidInputError
from service.json_scan import ScanLimitError, ScanLimits, scan

MAX_BATCH: Final = 64  # as config.pbtxt's max_batch_size
# The largest body a valid request can need: each value as long as a float prints
# ("-1.2345678901234567e-05, ": 25 characters; 32 to spare), plus room for names and nesting.
MAX_BODY_BYTES: Final = MAX_BATCH * math.prod(INPUT_SHAPE) * 32 + 64 * 1024
SHOWN: Final = 5  # names or problems quoted in an error message, at most
# Tensors a request may name: one input and the outputs it wants.
MAX_NAMED: Final = 16
MAX_DIMS: Final = 8
# The structure a valid request needs, with room for an id and parameters: checked by a pre-scan
# of the bytes (service.json_scan) before the parser builds anything, so that memory and time
# follow the body's size (at most a valid request's), never its structure.
SCAN_LIMITS: Final = ScanLimits(
    max_strings=256,
    max_string_bytes=4096,
    max_containers=4 * MAX_NAMED,
    max_values=MAX_BATCH * math.prod(INPUT_SHAPE) + 1024,
)
DATATYPE: Final = "FP32"
PLATFORM: Final = "onnxruntime_onnx"


class _Schema(BaseModel):
    model_config = ConfigDict(frozen=True, protected_namespaces=())


class LiveResponse(_Schema):
    live: Literal[True] = True


class ReadyResponse(_Schema):
    ready: Literal[True] = True


class TensorMetadata(_Schema):
    name: str
    datatype: str = Field(examples=[DATATYPE])
    shape: list[int] = Field(description="-1 for the batch axis.", examples=[[-1, *INPUT_SHAPE]])


class ModelMetadata(_Schema):
    name: str
    versions: list[str]
    platform: str = PLATFORM
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class OutputTensor(_Schema):
    name: str
    datatype: str = DATATYPE
    shape: list[int]
    data: list[float] = Field(description="Row-major (flattened) values.")


class InferResponse(_Schema):
    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[OutputTensor]


class _InputTensor(BaseModel):
    name: StrictStr
    shape: Annotated[list[StrictInt], Field(max_length=MAX_DIMS)]
    datatype: StrictStr
    # FP32 data is one flat list of numbers: strings, booleans and nested lists are refused at
    # the first one (FailFast: one error, not one per value).
    data: Annotated[list[StrictFloat], FailFast()]


class _RequestedOutput(BaseModel):
    name: StrictStr


class InferRequest(BaseModel):
    id: StrictStr | None = None
    inputs: list[_InputTensor] = Field(min_length=1, max_length=MAX_NAMED)
    outputs: list[_RequestedOutput] | None = Field(default=None, max_length=MAX_NAMED)


TENSOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "shape", "datatype", "data"],
    "properties": {
        "name": {"type": "string", "example": INPUT_NAME},
        "shape": {"type": "array", "items": {"type": "integer"}, "example": [1, *INPUT_SHAPE]},
        "datatype": {"type": "string", "example": DATATYPE},
        "data": {"type": "array", "items": {}, "description": "Row-major values, one flat list of numbers."},
    },
}
INFER_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["inputs"],
                "properties": {
                    "id": {"type": "string"},
                    "inputs": {"type": "array", "items": TENSOR_SCHEMA, "minItems": 1},
                    "outputs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}},
                        },
                    },
                },
            }
        }
    },
}


FLAT_DATA: Final = "FP32 data must be one flat list of numbers"
_SCAN_HINTS: Final = {
    "max_strings": f" ({FLAT_DATA}, not strings)",
    "max_containers": f" ({FLAT_DATA}, not nested lists)",
}


def _problems(error: ValidationError) -> str:
    errors = error.errors(include_input=False, include_url=False)
    # An error on one value of a tensor's data (inputs.<i>.data.<j>), not on data as a whole.
    values = [err for err in errors if err["loc"][:1] == ("inputs",) and err["loc"][2:3] == ("data",)]
    values = [err for err in values if len(err["loc"]) > 3]
    if values:
        where = ".".join(map(str, values[0]["loc"]))
        return f"{where}: {values[0]['msg']}; {FLAT_DATA} (no strings, booleans or nested lists)"
    shown = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}" for err in errors[:SHOWN])
    return shown + (f"; and {len(errors) - SHOWN} more" if len(errors) > SHOWN else "")


def parse_infer_request(body: bytes, outputs: list[str]) -> tuple[InferRequest, np.ndarray, list[str]]:
    """Validate an inference request: ``(request, mel (n, 187, 96, 1) float32, outputs wanted)``.

    The bytes are first pre-scanned (:data:`SCAN_LIMITS`): more strings, arrays and objects or
    values than a valid request needs are refused before parsing. Then parsed straight from the
    bytes (no decoded copy of the text) into a typed schema; numbers out of range and values
    that overflow float32 are refused.

    Raises:
        InvalidInputError: naming the field and the bad value.
    """
    try:
        scan(body, SCAN_LIMITS)
    except ScanLimitError as e:
        hint = _SCAN_HINTS.get(e.what, "")
        raise InvalidInputError(f"not an inference request: {e}{hint}") from e
    try:
        request = InferRequest.model_validate_json(body)
    except ValidationError as e:
        not_json = [err["msg"] for err in e.errors(include_input=False) if err["type"] == "json_invalid"]
        if not_json:
            raise InvalidInputError(f"the body is not JSON: {not_json[0]}") from e
        raise InvalidInputError(f"not an inference request: {_problems(e)}") from e
    names = [t.name for t in request.inputs]
    if names != [INPUT_NAME]:
        more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        raise InvalidInputError(f"expected one input named {INPUT_NAME!r}, got {names[:SHOWN]}{more}")
    tensor = request.inputs[0]
    if tensor.datatype != DATATYPE:
        raise InvalidInputError(
            f"input {INPUT_NAME!r}: datatype must be {DATATYPE}, got {tensor.datatype[:40]!r}"
        )
    shape = tuple(tensor.shape)
    if len(shape) != 1 + len(INPUT_SHAPE) or shape[1:] != INPUT_SHAPE or not 1 <= shape[0] <= MAX_BATCH:
        raise InvalidInputError(
            f"input {INPUT_NAME!r}: shape must be [n, {', '.join(map(str, INPUT_SHAPE))}] "
            f"with 1 <= n <= {MAX_BATCH}, got {list(shape[:8])}"
        )
    needed, got = math.prod(shape), len(tensor.data)
    if got != needed:
        raise InvalidInputError(f"input {INPUT_NAME!r}: shape {list(shape)} needs {needed} values, got {got}")
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused below
        values = np.asarray(tensor.data, dtype=np.float32)
    if not np.isfinite(values).all():
        raise InvalidInputError(
            f"input {INPUT_NAME!r}: data holds NaN or infinite values (or beyond float32's range)"
        )
    wanted = outputs if request.outputs is None else [o.name for o in request.outputs]
    unknown = [name for name in wanted if name not in outputs]
    if unknown:
        raise InvalidInputError(f"unknown output(s) {unknown[:SHOWN]}; this model has {outputs}")
    return request, values.reshape(shape), wanted
