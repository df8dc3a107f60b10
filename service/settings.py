"""The service's one configuration object, read from ``SONGID_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.limits import (
    DEFAULT_LIMITS,
    MAX_BATCH_SIZE,
    MIB,
    MIN_DECODED_BYTES,
    AnalysisLimits,
    BodyLimits,
    ConnectionLimits,
    limits_of,
)

_CONNECTION = ConnectionLimits()

ExecutionProvider = Literal["auto", "cpu", "cuda"]
# The gallery stores' URL schemes, as service.gallery.store.open_store reads them (kept apart:
# the configuration does not import the gallery).
SQLITE_SCHEME = "sqlite:///"
STORE_SCHEMES = (SQLITE_SCHEME, "postgresql://", "postgres://")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every knob of the service; see docs/service.md for the table of variables.

    Each field is read from ``SONGID_<FIELD NAME IN CAPITALS>``.
    """

    model_config = SettingsConfigDict(
        env_prefix="SONGID_",
        env_ignore_empty=True,  # VAR= (as compose writes unset values) means the default
        extra="ignore",
        frozen=True,
        protected_namespaces=(),
    )

    # Model
    model_dir: Path = Field(
        default=Path("models"),
        description="Model folder, or a folder holding exactly one model folder (Triton repository).",
    )
    model_version: int | None = Field(
        default=None, ge=1, description="Numbered version subfolder to serve; the highest when unset."
    )
    execution_provider: ExecutionProvider = Field(
        default="auto", description="ONNX Runtime provider: auto (CUDA when available), cpu or cuda."
    )
    intra_op_threads: int = Field(
        default=0, ge=0, description="ORT threads inside one operator; 0 = ORT default."
    )
    inter_op_threads: int = Field(
        default=0, ge=0, description="ORT threads across operators; 0 = ORT default."
    )
    batch_size: int = Field(
        default=DEFAULT_LIMITS.batch_size,
        ge=1,
        le=MAX_BATCH_SIZE,
        description="Segments per ONNX Runtime call.",
    )

    openset_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="Per task, an open-set threshold replacing the model folder's, as JSON, e.g. "
        '{"artist": 0.3}; a song is known for the task when its score reaches it.',
    )

    # Artist gallery (enrolment)
    database_url: SecretStr | None = Field(
        default=None,
        description="The artist gallery's store, one URL: sqlite:///gallery.sqlite (a file, created; "
        "sqlite:////abs/path for an absolute one) or postgresql://user:password@host:port/db (shared by "
        "replicas; the postgres extra). Unset, and no SONGID_GALLERY_PATH: no gallery and no /artists. "
        "Needs a model folder with centroids.json. A database that cannot be reached does not stop the "
        "service: the gallery starts stale and is tried again every few seconds.",
    )
    gallery_path: Path | None = Field(
        default=None,
        description="The older way to name an SQLite gallery file: the same as "
        "SONGID_DATABASE_URL=sqlite:///<path>, which wins when both are set.",
    )
    gallery_poll_s: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between checks for enrolments made by other replicas; the most a change "
        "made elsewhere takes to be served here (plus the reload).",
    )
    gallery_threshold: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Cosine a song needs to be a known artist once artists are enrolled; replaces the "
        "model folder's (centroids.json).",
    )
    max_enrol_files: int = Field(
        default=10, ge=1, le=100, description="Files one enrolment request may send."
    )
    admin_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated admin keys: gallery writes (POST, DELETE /artists...) need one; with "
        "none set, the gallery is read-only. An admin key also passes where an API key is needed.",
    )
    # HTTP server
    host: str = Field(default="127.0.0.1", description="Interface to bind; the container image sets 0.0.0.0.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port to listen on.")
    docs_enabled: bool = Field(default=True, description="Serve /docs and /openapi.json.")
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a connection has to send a complete request head (after opening, or after "
        "its previous response); then 408 and closed.",
    )
    send_timeout_s: float = Field(
        default=_CONNECTION.send_timeout_s,
        gt=0,
        description="Seconds a response may wait with the client reading none of it (a client that "
        "sends requests and never reads the answers); then the connection is closed.",
    )
    keep_alive_s: int = Field(
        default=5, ge=1, description="Seconds an idle keep-alive connection stays open between requests."
    )
    max_connections: int = Field(
        default=0,
        ge=0,
        description="Open connections at most; at the cap the one waiting longest for its request head is "
        "closed. 0: as many as the open-file limit allows, less a reserve.",
    )

    # Limits
    max_upload_bytes: int = Field(
        default=100 * MIB, ge=1024, description="Largest request body accepted; larger gets 413."
    )
    max_duration_s: float = Field(
        default=DEFAULT_LIMITS.max_duration_s,
        gt=0,
        description="Seconds of audio analysed; decoding stops there.",
    )
    max_decoded_bytes: int = Field(
        default=DEFAULT_LIMITS.max_decoded_bytes,
        ge=MIN_DECODED_BYTES,
        description="Largest decoded PCM (float32, all channels) a file may expand to; larger gets 413.",
    )
    request_timeout_s: float = Field(
        default=60.0, gt=0, description="Whole /predict request (upload and analysis); then 504."
    )
    upload_idle_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request body may pause between two chunks; then 408. After this long, "
        "the body must also have come at SONGID_UPLOAD_MIN_BYTES_PER_S on average.",
    )
    upload_min_bytes_per_s: int = Field(
        default=1024,
        ge=0,
        description="Slowest average rate a request body may arrive at (after SONGID_UPLOAD_IDLE_TIMEOUT_S); "
        "then 408. 0: no minimum.",
    )
    max_concurrent_requests: int = Field(
        default=2, ge=1, description="Predictions in flight; beyond that 503 with Retry-After."
    )
    max_queued_requests: int = Field(
        default=16,
        ge=0,
        description="Predictions that may wait, in arrival order, for a slot; beyond that 503.",
    )
    retry_after_s: int = Field(default=1, ge=0, description="Retry-After seconds sent with 503 overloaded.")
    spool_max_bytes: int = Field(
        default=MIB, ge=0, description="Upload bytes kept in memory before spilling to a temporary file."
    )
    tmp_dir: Path | None = Field(
        default=None, description="Where uploads spill to; system default when unset."
    )

    # Security and logging
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated API keys; when set, every route but the health probes needs one.",
    )
    log_level: LogLevel = Field(default="INFO", description="Lowest level logged (JSON lines on stderr).")

    @property
    def gallery_url(self) -> str | None:
        """The gallery store's URL: SONGID_DATABASE_URL, else SONGID_GALLERY_PATH as an SQLite URL."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"{SQLITE_SCHEME}{self.gallery_path}" if self.gallery_path is not None else None

    @property
    def limits(self) -> AnalysisLimits:
        """The limits of one analysis, as the service and the batch tagger both take them."""
        return limits_of(self)

    @property
    def connection_limits(self) -> ConnectionLimits:
        """What one connection may cost, as the server's protocol takes it (head size limits: the
        protocol's defaults, as h11's 16 KiB was)."""
        return ConnectionLimits(
            header_timeout_s=self.header_timeout_s,
            send_timeout_s=self.send_timeout_s,
        )

    def body_limits(self, max_bytes: int | None = None) -> BodyLimits:
        """How request bodies are read; ``max_bytes`` below the upload cap for a route that needs less."""
        cap = self.max_upload_bytes if max_bytes is None else min(max_bytes, self.max_upload_bytes)
        return BodyLimits(
            max_bytes=cap,
            idle_timeout_s=self.upload_idle_timeout_s,
            min_bytes_per_s=self.upload_min_bytes_per_s,
        )

    @field_validator("api_keys", "admin_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = value.get_secret_value()
            if not url.startswith(STORE_SCHEMES) or url == SQLITE_SCHEME:
                scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
                # the error names the scheme, never the URL: it may hold a password
                raise ValueError(f"expected sqlite:///<path> or postgresql://..., got {scheme!r}")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def offline_gallery_url(database_url: str | None, sqlite_path: Path | None) -> str | None:
    """The gallery an offline tool (``songid-enrol``, ``songid-tag``) uses: its ``--database-url``,
    else its ``--gallery`` file, else the service's (:attr:`Settings.gallery_url`, from the environment).

    Raises:
        ValueError: the environment's settings are invalid (each one named).
    """
    if database_url:
        return database_url
    if sqlite_path is not None:
        return f"{SQLITE_SCHEME}{sqlite_path}"
    try:
        return Settings().gallery_url
    except ValidationError as e:
        problems = "; ".join(f"SONGID_{'_'.join(map(str, p['loc'])).upper()}: {p['msg']}" for p in e.errors())
        raise ValueError(f"invalid settings: {problems}") from e
