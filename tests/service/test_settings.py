from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_defaults_are_safe_for_a_workstation() -> None:
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.model_dir == Path("models")
    assert settings.model_version is None
    assert settings.execution_provider == "auto"
    assert settings.api_keys == []


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGID_PORT", "9123")
    monkeypatch.setenv("SONGID_MODEL_DIR", "/srv/models")
    monkeypatch.setenv("SONGID_MODEL_VERSION", "3")
    monkeypatch.setenv("SONGID_EXECUTION_PROVIDER", "cuda")
    monkeypatch.setenv("SONGID_LOG_LEVEL", "debug")
    monkeypatch.setenv("SONGID_MAX_UPLOAD_BYTES", "2048")
    monkeypatch.setenv("PORT", "1")  # unprefixed variables are not ours
    settings = Settings()
    assert settings.port == 9123
    assert settings.model_dir == Path("/srv/models")
    assert settings.model_version == 3
    assert settings.execution_provider == "cuda"
    assert settings.log_level == "DEBUG"
    assert settings.max_upload_bytes == 2048


def test_api_keys_are_a_comma_separated_secret_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGID_API_KEYS", " first-key , second-key,, ")
    settings = Settings()
    assert [k.get_secret_value() for k in settings.api_keys] == ["first-key", "second-key"]
    assert "first-key" not in repr(settings)
    assert "second-key" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SONGID_EXECUTION_PROVIDER", "tpu"),
        ("SONGID_PORT", "0"),
        ("SONGID_MAX_CONCURRENT_REQUESTS", "0"),
        ("SONGID_REQUEST_TIMEOUT_S", "-1"),
        ("SONGID_LOG_LEVEL", "chatty"),
        ("SONGID_GALLERY_THRESHOLD", "1.5"),
        ("SONGID_GALLERY_POLL_S", "0"),
        ("SONGID_MAX_ENROL_FILES", "0"),
    ],
)
def test_rejects_invalid_values(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_empty_variables_mean_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGID_MODEL_VERSION", "")
    monkeypatch.setenv("SONGID_API_KEYS", "")
    settings = Settings()
    assert settings.model_version is None
    assert settings.api_keys == []


def test_admin_keys_are_split_like_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGID_ADMIN_KEYS", " one , two ,")
    assert [k.get_secret_value() for k in Settings().admin_keys] == ["one", "two"]


def test_the_gallery_is_one_url_and_the_older_path_maps_onto_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().gallery_url is None
    monkeypatch.setenv("SONGID_GALLERY_PATH", "/srv/gallery.sqlite")
    assert Settings().gallery_url == "sqlite:////srv/gallery.sqlite"
    monkeypatch.setenv("SONGID_DATABASE_URL", "sqlite:///data/g.sqlite")  # the URL wins
    assert Settings().gallery_url == "sqlite:///data/g.sqlite"
    monkeypatch.setenv("SONGID_DATABASE_URL", "postgresql://songid:pw@db:5432/songid")
    assert Settings().gallery_url == "postgresql://songid:pw@db:5432/songid"


def test_a_gallery_url_of_no_known_store_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SONGID_DATABASE_URL", "mysql://songid:secret-pw@db/songid")
    with pytest.raises(ValidationError, match="got 'mysql'") as refused:
        Settings()
    # songid-serve prints each error's message (never pydantic's echo of the input)
    assert all("secret-pw" not in err["msg"] for err in refused.value.errors())


def test_every_url_the_settings_accept_opens_a_store() -> None:
    from service.gallery.store import check_url
    from service.settings import STORE_SCHEMES

    for scheme in STORE_SCHEMES:
        url = f"{scheme}x"
        assert Settings(database_url=url).gallery_url == check_url(url)
