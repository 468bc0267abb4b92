"""Configuration: one prefix, validated at start-up, no secret defaults outside development."""
from __future__ import annotations

import pytest

from app import config
from tests.conftest import JWT_PEM, KEK


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
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["KEY_ENCRYPTION_KEYS"] == second["KEY_ENCRYPTION_KEYS"]
    assert (tmp_path / "dev-secrets" / "jwt_private_key").stat().st_mode & 0o077 == 0
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path.resolve() / 'blason.db'}"


def test_production_with_secrets_starts(tmp_path):
    values = config.load({"BLASON_ENV": "production", "BLASON_INSTANCE_DIR": str(tmp_path),
                          "BLASON_SECRET_KEY": "s" * 32, "BLASON_JWT_PRIVATE_KEY": JWT_PEM,
                          "BLASON_KEY_ENCRYPTION_KEYS": KEK,
                          "BLASON_PUBLIC_BASE_URL": "https://badges.example.fr/"})
    assert values["PUBLIC_BASE_URL"] == "https://badges.example.fr"
    assert values["KEY_ENCRYPTION_KEYS"][0][0] == "test1"


@pytest.mark.parametrize("name,value,fragment", [
    ("BLASON_MAX_UPLOAD_BYTES", "lots", "BLASON_MAX_UPLOAD_BYTES"),
    ("BLASON_MAX_UPLOAD_BYTES", "0", "BLASON_MAX_UPLOAD_BYTES"),
    ("BLASON_ENV", "staging", "BLASON_ENV"),
    ("BLASON_PUBLIC_BASE_URL", "badges.example.fr", "BLASON_PUBLIC_BASE_URL"),
    ("BLASON_KEY_ENCRYPTION_KEYS", "k1:c2hvcnQ=", "BLASON_KEY_ENCRYPTION_KEYS"),
    ("BLASON_JWT_PRIVATE_KEY", "not a pem", "BLASON_JWT_PRIVATE_KEY"),
])
def test_invalid_values_name_the_variable(tmp_path, name, value, fragment):
    with pytest.raises(config.ConfigError, match=fragment):
        config.load({"BLASON_INSTANCE_DIR": str(tmp_path), name: value})
