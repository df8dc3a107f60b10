"""/artists: enrol artists from their songs, list, show and delete them (the gallery)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from service.admission import deadline
from service.cancellation import CancelToken
from service.dependencies import AdmissionDep, GalleryDep, PipelineDep, SettingsDep, SpoolFactoryDep
from service.errors import InvalidInputError
from service.gallery.enrolment import embed_songs
from service.gallery.records import ID_PATTERN, ArtistRecord, EnrolledSong
from service.schemas import ArtistOut, ArtistPage, EnrolmentResponse, error_responses
from service.security import require_admin_key
from service.upload import FILE_FIELD, Form, receive_form

router = APIRouter(prefix="/artists", tags=["artists"])
T = TypeVar("T")
admin = [Depends(require_admin_key)]

MAX_NAME_CHARS = 200
MAX_OFFSET = 2**31 - 1  # beyond any gallery; keeps the value inside every database integer
ArtistId = Annotated[str, Path(pattern=ID_PATTERN, description="The enrolled artist's id.")]


def _body(*, enrol: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        FILE_FIELD: {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "Songs by the artist (repeat the field): WAV, FLAC, Ogg Vorbis, Opus or MP3.",
        }
    }
    if enrol:
        properties["id"] = {"type": "string", "pattern": ID_PATTERN, "description": "A new, stable id."}
        properties["name"] = {"type": "string", "maxLength": MAX_NAME_CHARS, "description": "Display name."}
    required = [FILE_FIELD, "id", "name"] if enrol else [FILE_FIELD]
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def artist_out(record: ArtistRecord, model: str) -> ArtistOut:
    return ArtistOut(
        id=record.artist_id,
        name=record.name,
        songs=record.n_songs,
        model=record.model,
        stale=record.model != model,
        created=record.created.isoformat(),
        updated=record.updated.isoformat(),
    )


def _fields(form: Form) -> tuple[str, str]:
    artist_id, name = form.fields.get("id", ""), form.fields.get("name", "")
    if not re.match(ID_PATTERN, artist_id):
        raise InvalidInputError(f"field 'id' must match {ID_PATTERN}, got {artist_id[:140]!r}")
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidInputError(f"field 'name' must be 1 to {MAX_NAME_CHARS} characters")
    return artist_id, name


async def _receive(
    request: Request, settings: SettingsDep, make_spool: SpoolFactoryDep, *, text_fields: tuple[str, ...] = ()
) -> Form:
    return await receive_form(
        request,
        limits=settings.body_limits(),
        make_spool=make_spool,
        max_files=settings.max_enrol_files,
        text_fields=text_fields,
    )


async def _receive_new_artist(
    request: Request, settings: SettingsDep, make_spool: SpoolFactoryDep
) -> tuple[Form, str, str]:
    """The enrolment form with its checked ``id`` and ``name``; a refused form is closed."""
    form = await _receive(request, settings, make_spool, text_fields=("id", "name"))
    try:
        artist_id, name = _fields(form)
    except InvalidInputError:
        form.close()
        raise
    return form, artist_id, name


async def _analyse_then(
    admission: AdmissionDep,
    pipeline: PipelineDep,
    form: Form,
    write: Callable[[list[EnrolledSong]], T],
    *,
    check: Callable[[], object] = lambda: None,
) -> T:
    """In one slot: ``check`` (may refuse before any analysis), every file of ``form`` through the
    pipeline (all or nothing), then ``write`` their songs."""
    files = [(f.shown, f.file, None) for f in form.files]
    async with admission.admit(ready=pipeline.ready, on_release=form.close) as slot:

        def work(cancel: CancelToken) -> T:
            check()
            return write(embed_songs(pipeline, files, cancel))

        return await admission.run(slot, work)


@router.post(
    "",
    status_code=201,
    summary="Enrol a new artist from 1 to SONGID_MAX_ENROL_FILES of their songs",
    response_model=EnrolmentResponse,
    dependencies=admin,
    responses=error_responses(400, 401, 403, 408, 409, 413, 415, 422, 503, 504),
    openapi_extra={"requestBody": _body(enrol=True)},
)
async def enrol(
    request: Request,
    gallery: GalleryDep,
    pipeline: PipelineDep,
    admission: AdmissionDep,
    settings: SettingsDep,
    make_spool: SpoolFactoryDep,
) -> EnrolmentResponse:
    """Each song is analysed as /predict would; the artist is the mean of their embeddings. All or nothing."""
    async with deadline(settings.request_timeout_s * settings.max_enrol_files):
        form, artist_id, name = await _receive_new_artist(request, settings, make_spool)
        record = await _analyse_then(admission, pipeline, form, partial(gallery.enrol, artist_id, name))
    return EnrolmentResponse(artist=artist_out(record, gallery.model), added_songs=record.n_songs)


@router.post(
    "/{artist_id}/songs",
    summary="Add songs to an enrolled artist",
    response_model=EnrolmentResponse,
    dependencies=admin,
    responses=error_responses(400, 401, 403, 404, 408, 409, 413, 415, 422, 503, 504),
    openapi_extra={"requestBody": _body(enrol=False)},
)
async def add_songs(
    artist_id: ArtistId,
    request: Request,
    gallery: GalleryDep,
    pipeline: PipelineDep,
    admission: AdmissionDep,
    settings: SettingsDep,
    make_spool: SpoolFactoryDep,
) -> EnrolmentResponse:
    """A file already enrolled for the artist (same bytes) is skipped."""
    async with deadline(settings.request_timeout_s * settings.max_enrol_files):
        form = await _receive(request, settings, make_spool)
        write = partial(gallery.add_songs, artist_id)
        check = partial(gallery.get, artist_id)  # 404 before the analysis
        record, added = await _analyse_then(admission, pipeline, form, write, check=check)
    return EnrolmentResponse(artist=artist_out(record, gallery.model), added_songs=added)


# The reads and the deletion are plain functions: FastAPI runs them in its thread pool, so a
# database round trip never blocks the event loop.


@router.get(
    "",
    summary="Enrolled artists, by id, a page at a time",
    response_model=ArtistPage,
    responses=error_responses(401, 422, 503),
)
def list_artists(
    gallery: GalleryDep,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ArtistPage:
    records, total = gallery.page(offset=offset, limit=limit)
    items = [artist_out(r, gallery.model) for r in records]
    return ArtistPage(items=items, total=total, offset=offset, limit=limit, stale=gallery.stale())


@router.get(
    "/{artist_id}",
    summary="One enrolled artist",
    response_model=ArtistOut,
    responses=error_responses(401, 404, 503),
)
def get_artist(artist_id: ArtistId, gallery: GalleryDep) -> ArtistOut:
    return artist_out(gallery.get(artist_id), gallery.model)


@router.delete(
    "/{artist_id}",
    status_code=204,
    summary="Remove an enrolled artist and its songs",
    dependencies=admin,
    responses=error_responses(401, 403, 404, 503),
)
def delete_artist(artist_id: ArtistId, gallery: GalleryDep) -> Response:
    gallery.delete(artist_id)
    return Response(status_code=204)
