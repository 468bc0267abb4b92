"""Configuration: a defaults table, environment variables prefixed ``BLASON_``, fail-fast checks.

Every setting has one name, read from ``BLASON_<NAME>``. Development generates the secrets it
needs under ``instance/`` (and says so in the log); any other environment refuses to start
without them, so a production deployment can never run on a secret nobody chose.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

PREFIX = "BLASON_"
ENVIRONMENTS = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """The configuration is invalid; the message says which variable and why."""


def _int(value: str) -> int:
    return int(value)


def _float(value: str) -> float:
    return float(value)


def _str(value: str) -> str:
    return value


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "development", _str, "development, testing or production"),
    Setting("INSTANCE_DIR", "instance", _str, "directory for the SQLite database, dev secrets and files"),
    Setting("DATABASE_URL", None, _str, "SQLAlchemy URL; default sqlite under INSTANCE_DIR"),
    Setting("SQLITE_BUSY_TIMEOUT", 10.0, _float,
            "SQLite: seconds a write waits for another writer's lock before answering 503"),
    Setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000", _str, "public origin of every issued URL"),
    Setting("STORAGE_DIR", None, _str, "evidence and export files; default INSTANCE_DIR/storage"),
    Setting("MAX_UPLOAD_BYTES", 20 * 1024 * 1024, _int, "largest accepted upload, in bytes"),
    Setting("ACCESS_TOKEN_TTL", 900, _int, "access token lifetime, seconds"),
    Setting("REFRESH_TOKEN_TTL", 30 * 24 * 3600, _int, "refresh token lifetime, seconds"),
    Setting("SECRET_KEY", None, _str, "Flask secret key (sessions, CSRF)", secret=True),
    Setting("JWT_PRIVATE_KEY", None, _str, "Ed25519 private key (PEM) signing access tokens", secret=True),
    Setting("KEY_ENCRYPTION_KEYS", None, _list,
            "comma-separated id:base64 32-byte keys encrypting signing keys at rest; first encrypts",
            secret=True),
    Setting("PASSWORD_HASH_TIME_COST", 3, _int, "argon2id time cost"),
    Setting("PASSWORD_HASH_MEMORY_KIB", 65536, _int, "argon2id memory cost in KiB"),
    Setting("SMTP_URL", None, _str, "smtp://user:pass@host:port for e-mail; none writes to an outbox folder"),
    Setting("MAIL_FROM", "Blason <no-reply@blason.invalid>", _str, "sender of notification e-mails"),
    Setting("LOG_LEVEL", "INFO", _str, "logging level"),
    Setting("PLATFORM_SIGNING_KEY", None, _str,
            "Ed25519 private key (PEM) signing dossier manifests and CLRs; default derived from SECRET_KEY"),
    Setting("DOSSIER_LINK_TTL", 600, _int, "lifetime of a dossier download link, seconds"),
    Setting("MAX_DOSSIER_VERIFY_BYTES", 2 * 1024 ** 3, _int, "largest dossier ZIP accepted for verification"),
    Setting("MAX_DOSSIER_VERIFY_BYTES_ANONYMOUS", 50 * 1024 ** 2, _int,
            "largest dossier ZIP verified without an account (jury officers and admins: MAX_DOSSIER_VERIFY_BYTES)"),
    Setting("STORAGE_TMP_GRACE", 900, _int,
            "seconds without a write after which an unlocked temporary file in storage is a crash's leftover"),
    Setting("STORAGE_ORPHAN_GRACE", 3600, _int,
            "seconds after which a dossier archive no dossier refers to is removed by storage-sweep"),
    Setting("AUDIT_SIGN_EVERY_EVENTS", 1000, _int, "sign the audit chain's head after this many events (0: never)"),
    Setting("AUDIT_SIGN_EVERY_MINUTES", 60, _int,
            "sign the audit chain's head when an event has waited this long unsigned (0: never)"),
    Setting("VERIFY_RATE_BURST", 20, _int, "POST /verify: requests a client may send at once"),
    Setting("VERIFY_RATE_PER_MINUTE", 30, _int, "POST /verify: requests per minute refilled per client"),
    Setting("LOGIN_ACCOUNT_RATE_BURST", 5, _int, "POST /auth/login: attempts on one e-mail at once, from anywhere"),
    Setting("LOGIN_ACCOUNT_RATE_PER_MINUTE", 3, _int, "POST /auth/login: attempts per minute refilled per e-mail"),
    Setting("LOGIN_ADDRESS_RATE_BURST", 20, _int, "POST /auth/login: attempts from one client IP at once"),
    Setting("LOGIN_ADDRESS_RATE_PER_MINUTE", 10, _int, "POST /auth/login: attempts per minute refilled per client IP"),
    Setting("TRUSTED_PROXIES", 0, _int,
            "reverse proxies in front that set X-Forwarded-For (the client IP is read through them)"),
    Setting("RATE_LIMIT_REDIS_URL", None, _str,
            "Redis URL holding the rate-limit buckets, shared by every worker (default: each process counts)"),
    Setting("DEMO_PASSWORD", "demo-blason-2026", _str, "password of the demo accounts (development only)"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def load(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the validated settings from the environment and explicit overrides."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            values[setting.name] = overrides.pop(setting.name)
            continue
        raw = environ.get(PREFIX + setting.name)
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}{setting.name}: invalid value ({exc}); {setting.help}") from None
    values.update(overrides)  # free-form extras (e.g. test switches)
    _validate(values)
    return values


def _validate(values: dict[str, Any]) -> None:
    env = values["ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"{PREFIX}ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    instance = Path(values["INSTANCE_DIR"]).resolve()
    values["INSTANCE_DIR"] = str(instance)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'blason.db'}"
    if not values["STORAGE_DIR"]:
        values["STORAGE_DIR"] = str(instance / "storage")
    base = str(values["PUBLIC_BASE_URL"]).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"{PREFIX}PUBLIC_BASE_URL must start with http:// or https://, not {base!r}")
    values["PUBLIC_BASE_URL"] = base
    for name in ("MAX_UPLOAD_BYTES", "ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL", "DOSSIER_LINK_TTL",
                 "MAX_DOSSIER_VERIFY_BYTES", "MAX_DOSSIER_VERIFY_BYTES_ANONYMOUS"):
        if int(values[name]) <= 0:
            raise ConfigError(f"{PREFIX}{name} must be positive")
    for name in ("STORAGE_TMP_GRACE", "STORAGE_ORPHAN_GRACE", "AUDIT_SIGN_EVERY_EVENTS", "AUDIT_SIGN_EVERY_MINUTES"):
        if int(values[name]) < 0:
            raise ConfigError(f"{PREFIX}{name} must not be negative")
    for name in ("LOGIN_ACCOUNT_RATE_BURST", "LOGIN_ADDRESS_RATE_BURST"):
        if int(values[name]) < 1:
            raise ConfigError(f"{PREFIX}{name} must be at least 1 (or no one could ever log in)")
    for name in ("LOGIN_ACCOUNT_RATE_PER_MINUTE", "LOGIN_ADDRESS_RATE_PER_MINUTE"):
        if int(values[name]) < 0:
            raise ConfigError(f"{PREFIX}{name} must not be negative")
    if not 0 < float(values["SQLITE_BUSY_TIMEOUT"]) < 3600:
        raise ConfigError(f"{PREFIX}SQLITE_BUSY_TIMEOUT must be between 0 and 3600 seconds")

    missing = [s for s in SETTINGS if s.secret and not values.get(s.name)]
    if missing and env != "development" and not values.get("GENERATE_SECRETS"):
        names = ", ".join(PREFIX + s.name for s in missing)
        raise ConfigError(f"missing secret(s) outside development: {names}")
    if missing:
        _generate_dev_secrets(values, instance, [s.name for s in missing])
    values["KEY_ENCRYPTION_KEYS"] = _parse_keks(values["KEY_ENCRYPTION_KEYS"])
    try:
        key = serialization.load_pem_private_key(values["JWT_PRIVATE_KEY"].encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{PREFIX}JWT_PRIVATE_KEY is not a PEM private key") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ConfigError(f"{PREFIX}JWT_PRIVATE_KEY must be an Ed25519 key")
    values["PLATFORM_SIGNING_KEY"] = _platform_key(values)


def _platform_key(values: dict[str, Any]) -> str:
    """The platform's own signing key (dossier manifests, CLRs), as PEM.

    Not a required secret: without it the key is derived from SECRET_KEY (HKDF), so existing
    deployments keep a stable key; set it to rotate it independently. It is never the access-token
    key, so a signed dossier manifest can never be replayed as a token (or the reverse).
    """
    raw = values.get("PLATFORM_SIGNING_KEY")
    if raw:
        try:
            key = serialization.load_pem_private_key(str(raw).encode(), password=None)
        except (ValueError, TypeError):
            raise ConfigError(f"{PREFIX}PLATFORM_SIGNING_KEY is not a PEM private key") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ConfigError(f"{PREFIX}PLATFORM_SIGNING_KEY must be an Ed25519 key")
        return str(raw)
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"blason platform signing key v1").derive(str(values["SECRET_KEY"]).encode())
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def _parse_keks(raw: list[str] | str) -> list[tuple[str, bytes]]:
    items = _list(raw) if isinstance(raw, str) else list(raw)
    keks: list[tuple[str, bytes]] = []
    for item in items:
        kek_id, sep, b64 = item.partition(":")
        try:
            key = base64.b64decode(b64, validate=True) if sep else b""
        except ValueError:
            key = b""
        if not kek_id or len(key) != 32:
            raise ConfigError(f"{PREFIX}KEY_ENCRYPTION_KEYS: each entry is id:base64-of-32-bytes")
        keks.append((kek_id, key))
    if not keks:
        raise ConfigError(f"{PREFIX}KEY_ENCRYPTION_KEYS is empty")
    return keks


def _generate_dev_secrets(values: dict[str, Any], instance: Path, names: list[str]) -> None:
    """Create (once) and load development secrets kept under the instance folder."""
    folder = instance / "dev-secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    makers: dict[str, Callable[[], str]] = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(32),
        "JWT_PRIVATE_KEY": lambda: ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode(),
        "KEY_ENCRYPTION_KEYS": lambda: "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    created = []
    for name in names:
        path = folder / name.lower()
        if not path.exists():
            path.write_text(makers[name]())
            path.chmod(0o600)
            created.append(name)
        values[name] = path.read_text()
    if created:
        log.warning("development secrets generated under %s: %s", folder, ", ".join(created))


def describe() -> list[tuple[str, str, str]]:
    """Return (variable, default, help) rows for documentation."""
    return [(PREFIX + s.name, "(secret)" if s.secret else repr(s.default), s.help) for s in SETTINGS]
