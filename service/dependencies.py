"""Typed dependency aliases for the routers: what ``create_app`` put on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.admission import Admission
from service.body import SpoolFactory
from service.errors import GalleryUnavailableError, ModelNotReadyError
from service.gallery.gallery import Gallery
from service.metrics import Metrics
from service.model import SongModel
from service.pipeline import Pipeline
from service.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def get_admission(request: Request) -> Admission:
    admission: Admission = request.app.state.admission
    return admission


def get_ready_model(request: Request) -> SongModel:
    """The served model once the pipeline is warmed up and admission running; else 503."""
    pipeline = get_pipeline(request)
    if not (pipeline.ready and get_admission(request).running):
        raise ModelNotReadyError("the model is not loaded or not warmed up yet")
    return pipeline.model


def get_optional_gallery(request: Request) -> Gallery | None:
    """The artist gallery, or None when the service has none."""
    gallery: Gallery | None = request.app.state.gallery
    return gallery


def get_gallery(request: Request) -> Gallery:
    """The artist gallery; 503 saying why when the service has none (no store configured, a model
    that cannot compare artists, or one not loaded yet)."""
    gallery = get_optional_gallery(request)
    if gallery is None:
        raise GalleryUnavailableError(f"no artist gallery: {request.app.state.gallery_off}")
    return gallery


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def get_spool_factory(request: Request) -> SpoolFactory:
    factory: SpoolFactory = request.app.state.spool_factory
    return factory


SettingsDep = Annotated[Settings, Depends(get_settings)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
AdmissionDep = Annotated[Admission, Depends(get_admission)]
ReadyModelDep = Annotated[SongModel, Depends(get_ready_model)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
GalleryDep = Annotated[Gallery, Depends(get_gallery)]
OptionalGalleryDep = Annotated[Gallery | None, Depends(get_optional_gallery)]
SpoolFactoryDep = Annotated[SpoolFactory, Depends(get_spool_factory)]
