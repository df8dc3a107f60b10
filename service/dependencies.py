"""Typed dependency aliases for the routers: what ``create_app`` put on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.inference import InferenceService
from service.metrics import Metrics
from service.model import SongModel
from service.settings import Settings
from service.upload import SpoolFactory


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_inference(request: Request) -> InferenceService:
    inference: InferenceService = request.app.state.inference
    return inference


def get_model(request: Request) -> SongModel:
    return get_inference(request).model


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def get_spool_factory(request: Request) -> SpoolFactory:
    factory: SpoolFactory = request.app.state.spool_factory
    return factory


SettingsDep = Annotated[Settings, Depends(get_settings)]
InferenceDep = Annotated[InferenceService, Depends(get_inference)]
ModelDep = Annotated[SongModel, Depends(get_model)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
SpoolFactoryDep = Annotated[SpoolFactory, Depends(get_spool_factory)]
