"""Configuration: one prefix, typed settings validated at start-up, no secret defaults outside development."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import badges
from app import config
from tests.conftest import JWT_PEM, KEK

PRODUCTION = {
    "BLASON_ENV": "production",
    "BLASON_SECRET_KEY": "s" * 32,
    "BLASON_JWT_PRIVATE_KEY": JWT_PEM,
    "BLASON_KEY_ENCRYPTION_KEYS": KEK,
}


def test_production_without_secrets_refuses_to_start(tmp_path):
    with pytest.raises(config.ConfigError) as err:
        config.load({"BLASON_ENV": "production", "BLASON_INSTANCE_DIR": str(tmp_path)})
    message = str(err.value)
    assert "BLASON_SECRET_KEY" in message and "BLASON_JWT_PRIVATE_KEY" in message
    assert not (tmp_path / "dev-secrets").exists()


def test_development_generates_and_reuses_secrets(tmp_path, caplog):
    env = {"BLASON_INSTANCE_DIR": str(tmp_path)}
    with caplog.at_level("WARNING"):
        first = config.load(env)
    assert "development secrets generated" in caplog.text
    second = config.load(env)
    assert first.secret_key == second.secret_key
    assert first.key_encryption_keys == second.key_encryption_keys
    assert first.platform_signing_key.public.thumbprint() == second.platform_signing_key.public.thumbprint()
    assert (tmp_path / "dev-secrets" / "jwt_private_key").stat().st_mode & 0o077 == 0
    assert first.database_url == f"sqlite:///{tmp_path.resolve() / 'blason.db'}"
    assert first.storage_dir == tmp_path.resolve() / "storage"


def test_production_with_secrets_starts(tmp_path):
    settings = config.load(
        {**PRODUCTION, "BLASON_INSTANCE_DIR": str(tmp_path), "BLASON_PUBLIC_BASE_URL": "https://badges.example.fr/"}
    )
    assert settings.public_base_url == "https://badges.example.fr"
    assert settings.key_encryption_keys[0].id == "test1" and len(settings.key_encryption_keys[0].key) == 32
    assert isinstance(settings.jwt_private_key, Ed25519PrivateKey)
    assert isinstance(settings.platform_signing_key, badges.SigningKey)
    assert settings.smtp_url is None and settings.rate_limit_redis_url is None


@pytest.mark.parametrize(
    "name,value,fragment",
    [
        ("BLASON_MAX_UPLOAD_BYTES", "lots", "BLASON_MAX_UPLOAD_BYTES"),
        ("BLASON_MAX_UPLOAD_BYTES", "0", "BLASON_MAX_UPLOAD_BYTES"),
        ("BLASON_ENV", "staging", "BLASON_ENV"),
        ("BLASON_PUBLIC_BASE_URL", "badges.example.fr", "BLASON_PUBLIC_BASE_URL"),
        ("BLASON_KEY_ENCRYPTION_KEYS", "k1:c2hvcnQ=", "BLASON_KEY_ENCRYPTION_KEYS"),
        ("BLASON_JWT_PRIVATE_KEY", "not a pem", "BLASON_JWT_PRIVATE_KEY"),
        ("BLASON_PLATFORM_SIGNING_KEY", "not a pem", "BLASON_PLATFORM_SIGNING_KEY"),
        ("BLASON_SQLITE_BUSY_TIMEOUT", "0", "BLASON_SQLITE_BUSY_TIMEOUT"),
    ],
)
def test_invalid_values_name_the_variable(tmp_path, name, value, fragment):
    with pytest.raises(config.ConfigError, match=fragment):
        config.load({"BLASON_INSTANCE_DIR": str(tmp_path), name: value})


NUMBERS = [
    f.name
    for f in dataclasses.fields(config.Settings)
    if typing.get_type_hints(config.Settings)[f.name] in (int, float)
]


@pytest.mark.parametrize("field", NUMBERS)
def test_every_number_that_is_not_one_names_its_variable(tmp_path, field):
    variable = "BLASON_" + field.upper()
    with pytest.raises(config.ConfigError, match=f"^{variable}: invalid value"):
        config.load({**PRODUCTION, "BLASON_INSTANCE_DIR": str(tmp_path), variable: "douze"})


def _conforms(value: object, hint: object) -> bool:
    """Whether a value matches a (simple) annotation: classes, Literal, X | None, tuple[X, ...]."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return value in args
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if origin is tuple:
        return isinstance(value, tuple) and all(_conforms(item, args[0]) for item in value)
    if hint is type(None):
        return value is None
    if hint is float:
        return type(value) is float
    if hint is int:
        return type(value) is int  # never a bool, never a str that looks like a number
    return isinstance(value, hint)  # type: ignore[arg-type]


def test_every_setting_is_typed_and_has_its_variable(tmp_path):
    hints = typing.get_type_hints(config.Settings)
    fields = dataclasses.fields(config.Settings)
    assert [row[0] for row in config.describe()] == ["BLASON_" + f.name.upper() for f in fields]
    assert all(hints[f.name] is not typing.Any for f in fields)
    overrides = {"SMTP_URL": "smtp://mail.example.fr:25", "RATE_LIMIT_REDIS_URL": "redis://127.0.0.1:6379/0"}
    for settings in (
        config.load({**PRODUCTION, "BLASON_INSTANCE_DIR": str(tmp_path)}),
        config.load({"BLASON_INSTANCE_DIR": str(tmp_path)}, overrides=overrides),
    ):
        wrong = {
            f.name: getattr(settings, f.name) for f in fields if not _conforms(getattr(settings, f.name), hints[f.name])
        }
        assert wrong == {}
    assert isinstance(settings.instance_dir, Path) and settings.instance_dir.is_absolute()


def test_settings_are_frozen(tmp_path):
    settings = config.load({**PRODUCTION, "BLASON_INSTANCE_DIR": str(tmp_path)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_upload_bytes = 1  # type: ignore[misc]
    assert isinstance(settings.key_encryption_keys, tuple)  # no list to change behind its back either


def test_overrides_are_read_like_the_environment_and_unknown_names_refused(tmp_path):
    env = {**PRODUCTION, "BLASON_INSTANCE_DIR": str(tmp_path), "BLASON_MAX_UPLOAD_BYTES": "1000"}
    assert config.load(env).max_upload_bytes == 1000
    assert config.load(env, overrides={"MAX_UPLOAD_BYTES": 2048}).max_upload_bytes == 2048
    assert config.load(env, overrides={"TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(config.ConfigError, match="BLASON_MAX_UPLOAD_BYTES"):
        config.load(env, overrides={"MAX_UPLOAD_BYTES": "lots"})
    with pytest.raises(config.ConfigError, match="unknown setting.*MAX_UPLOAD_BYTE"):
        config.load(env, overrides={"MAX_UPLOAD_BYTE": 1})


def test_the_repr_shows_no_secret(tmp_path):
    settings = config.load(
        {
            **PRODUCTION,
            "BLASON_INSTANCE_DIR": str(tmp_path),
            "BLASON_SMTP_URL": "smtp://user:motdepasse@mail.example.fr",
        }
    )
    shown = repr(settings)
    assert "s" * 32 not in shown and "PRIVATE KEY" not in shown and "motdepasse" not in shown
    assert KEK.split(":", 1)[1] not in shown
    assert repr(settings.key_encryption_keys[0]) == "KeyEncryptionKey('test1')"
    assert "max_upload_bytes=" in shown
