# syntax=docker/dockerfile:1
# songid prediction service: ONNX Runtime behind a REST API; no TensorFlow, no model inside.
#
#   docker build -t songid:cpu .
#   docker run --rm -p 8000:8000 -v "$PWD/models:/app/models:ro" songid:cpu
#
# CUDA build: --build-arg ONNXRUNTIME_PACKAGE="onnxruntime-gpu[cuda,cudnn]" (see docker-compose.yml).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY frontend/ frontend/
COPY service/ service/
# The package with only the service's extra; optionally swap in another ONNX Runtime build.
# The replacement is a requirement spec chosen (and pinned) by whoever builds, hence DL3013.
ARG ONNXRUNTIME_PACKAGE=onnxruntime
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[serve]" \
    && if [ "${ONNXRUNTIME_PACKAGE}" != "onnxruntime" ]; then \
         pip uninstall --yes onnxruntime \
         && pip install --no-cache-dir "${ONNXRUNTIME_PACKAGE}"; \
       fi

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="songid" \
      org.opencontainers.image.description="Who performs a song, and in which language: REST prediction service"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NUMBA_CACHE_DIR=/opt/numba-cache \
    SONGID_HOST=0.0.0.0 \
    SONGID_PORT=8000 \
    SONGID_MODEL_DIR=/app/models
RUN groupadd --system --gid 10001 songid \
    && useradd --system --uid 10001 --gid songid --home-dir /app --no-create-home songid \
    && mkdir -p /app/models "${NUMBA_CACHE_DIR}"
COPY --from=build /opt/venv /opt/venv
# Compile librosa's numba kernels now, into the image, so startup does not pay for it.
RUN python -c "import numpy as np; from frontend.audio import SEGMENT_SAMPLES, log_mel; \
log_mel(np.zeros(SEGMENT_SAMPLES, dtype=np.float32))" \
    && chown -R songid:songid "${NUMBA_CACHE_DIR}"
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Liveness only; /readyz says whether the model is loaded.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "service.healthcheck"]
# The model is mounted read-only at /app/models; API keys come from the environment at run time.
CMD ["songid-serve"]
