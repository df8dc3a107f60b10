"""The application factory: wiring of settings, model, pipeline, admission, routers, middleware and errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from anyio import to_thread
from fastapi import Depends, FastAPI

from service.admission import Admission
from service.body import spool_factory
from service.errors import install_error_handlers
from service.framing import FramingMiddleware
from service.gallery.gallery import open_gallery
from service.metrics import Metrics
from service.middleware import RequestContextMiddleware
from service.model import ModelLoadError, SongModel
from service.pipeline import Pipeline
from service.routers import artists, health, labels, metrics, predict, v2
from service.security import ApiKeyChecker, require_api_key
from service.settings import Settings

logger = logging.getLogger(__name__)


def _version() -> str:
    try:
        return package_version("songid")
    except PackageNotFoundError:
        return "0+unknown"


def load_model(model: SongModel) -> None:
    """Load ``model`` unless it already is; log and re-raise a :class:`ModelLoadError`."""
    if model.ready:
        return
    try:
        model.load()
    except ModelLoadError as e:
        logger.critical("cannot load the model", extra={"fields": {"error": str(e)}})
        raise


def create_app(settings: Settings | None = None, *, model: SongModel | None = None) -> FastAPI:
    """Build the service.

    Args:
        settings: configuration; read from ``SONGID_*`` environment variables when omitted.
        model: a model to serve, loaded or not; built from ``settings`` when omitted.
            Startup loads it (if needed) and warms up the whole pipeline before serving.
    """
    settings = settings if settings is not None else Settings()
    served = model if model is not None else SongModel.from_settings(settings)
    app_metrics = Metrics()
    admission = Admission(
        max_concurrent=settings.max_concurrent_requests,
        max_queued=settings.max_queued_requests,
        retry_after_s=settings.retry_after_s,
        metrics=app_metrics,
    )
    pipeline = Pipeline(
        served,
        settings.limits,
        metrics=app_metrics,
        others_busy=admission.others_busy,
        thresholds=settings.openset_thresholds,
    )

    def attach_gallery() -> None:
        # A store that cannot be used now does not stop the service: the gallery starts stale
        # (trained artists only), /readyz says so, and it is tried again every few seconds.
        gallery, app.state.gallery_off = open_gallery(
            served.artifact,
            url=settings.gallery_url,
            poll_s=settings.gallery_poll_s,
            threshold=settings.gallery_threshold,
            metrics=app_metrics,
        )
        pipeline.gallery = app.state.gallery = gallery

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await to_thread.run_sync(load_model, served)
        await to_thread.run_sync(attach_gallery)
        await to_thread.run_sync(pipeline.warm_up)
        admission.start()
        logger.info("ready", extra={"fields": {"model": served.name, "version": served.version}})
        try:
            yield
        finally:
            admission.shutdown()
            if app.state.gallery is not None:
                app.state.gallery.close()

    app = FastAPI(
        title="songid",
        version=_version(),
        summary="Who performs a song, and in which language.",
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        # No redirect from /labels/ to /labels: Starlette builds its URL from the Host header.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.metrics = app_metrics
    app.state.pipeline = pipeline
    app.state.admission = admission
    app.state.api_keys = checker = ApiKeyChecker(settings.api_keys)
    app.state.admin_keys = ApiKeyChecker(settings.admin_keys)
    app.state.gallery = None
    app.state.gallery_off = "the model is not loaded yet"
    app.state.spool_factory = spool_factory(
        max_memory_bytes=settings.spool_max_bytes, tmp_dir=settings.tmp_dir
    )

    protected = [Depends(require_api_key)] if checker.enabled else []
    app.include_router(health.router)
    app.include_router(v2.health_router)
    app.include_router(predict.router, dependencies=protected)
    app.include_router(labels.router, dependencies=protected)
    app.include_router(artists.router, dependencies=protected)
    app.include_router(metrics.router, dependencies=protected)
    app.include_router(v2.router, dependencies=protected)

    install_error_handlers(app)
    app.add_middleware(FramingMiddleware)  # inside the request context: its answers get a request id
    app.add_middleware(RequestContextMiddleware, metrics=app_metrics)
    return app
