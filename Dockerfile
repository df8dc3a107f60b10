# songid prediction service: ONNX Runtime behind a REST API; no TensorFlow, no model inside.
#
#   docker build -t songid:cpu .
#   docker run --rm -p 127.0.0.1:8000:8000 -v "$PWD/models:/app/models:ro" songid:cpu
#
# Build arguments, all optional (docs/service.md, "Building the image"):
#   PYTHON_IMAGE         base image of both stages: any Debian-based image with python3 (3.11 or
#                        newer) and its venv module, e.g. a local copy where no registry is reachable
#   ONNXRUNTIME_PACKAGE  another ONNX Runtime build, e.g. "onnxruntime-gpu[cuda,cudnn]" (docker-compose.yml)
#
# Behind a TLS-intercepting proxy between the build and the package index, put the CA
# certificates pip must also trust (PEM, one file of any size) at build-ca.pem in the build
# context; the build stage alone reads it. Without that file the build is the same.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# build-ca.pem* matches build-ca.pem when the context has it, and nothing (no error) otherwise.
COPY pyproject.toml README.md build-ca.pem* ./
COPY frontend/ frontend/
COPY service/ service/
ARG ONNXRUNTIME_PACKAGE=onnxruntime
# The package with only the service's extras (numpy, soundfile, soxr, ONNX Runtime, the web
# stack, the PostgreSQL driver of the artist gallery, faster-whisper and CTranslate2 for the
# language expert; no librosa, scipy or TensorFlow);
# optionally another ONNX Runtime build. The
# replacement is a requirement spec chosen (and pinned) by whoever builds, hence DL3013.
# pip, setuptools and the installed packages' own test suites (numpy's and others') leave the
# venv afterwards: nothing installs or runs them at run time.
# hadolint ignore=DL3013
RUN if [ -f build-ca.pem ]; then \
         export PIP_CERT=/tmp/ca-bundle.pem \
         && python -c "from pip._vendor import certifi; print(certifi.contents())" > "${PIP_CERT}" \
         && cat build-ca.pem >> "${PIP_CERT}"; \
       fi \
    && pip install --no-cache-dir ".[serve,expert,postgres]" \
    && if [ "${ONNXRUNTIME_PACKAGE}" != "onnxruntime" ]; then \
         pip uninstall --yes onnxruntime \
         && pip install --no-cache-dir "${ONNXRUNTIME_PACKAGE}"; \
       fi \
    && pip uninstall --yes setuptools pip \
    && find /opt/venv/lib -depth -type d -name tests -exec rm -rf {} + \
    && rm -f /tmp/ca-bundle.pem build-ca.pem

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="songid" \
      org.opencontainers.image.description="Who performs a song, and in which language: REST prediction service"
# HOME is the service user's own writable folder (libraries that keep a cache there do not
# warn); ONNX Runtime's usage telemetry is off: the service makes no outbound connections.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/songid \
    ORT_DISABLE_TELEMETRY=1 \
    SONGID_HOST=0.0.0.0 \
    SONGID_PORT=8000 \
    SONGID_MODEL_DIR=/app/models
RUN groupadd --system --gid 10001 songid \
    && useradd --system --uid 10001 --gid songid --home-dir /home/songid --no-create-home \
         --shell /usr/sbin/nologin songid \
    && mkdir -p /app/models /home/songid \
    && chown songid:songid /home/songid \
    && chmod 0700 /home/songid
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Liveness only; /readyz says whether the model is loaded. The service is ready about two
# seconds after start: a short interval makes it healthy (and Compose's proxy start) soon after.
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "service.healthcheck"]
# The model is mounted read-only at /app/models, with its language expert put in place beforehand
# (`songid-expert fetch --model models` on the host; without it the language is the network's);
# API keys come from the environment at run time.
CMD ["songid-serve"]
