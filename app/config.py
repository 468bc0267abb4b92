"""Configuration: typed settings read once from ``BLASON_*`` variables and checked at start-up.

Every setting is one field of :class:`Settings`, read from ``BLASON_<FIELD NAME IN CAPITALS>``,
with its default and its help beside it. :func:`load` parses and validates them all once and
returns a frozen ``Settings``: a bad value stops the start with a message naming the variable.
Development generates the secrets it needs under ``instance/`` (and says so in the log); any other
environment refuses to start without them, so a production deployment can never run on a secret
nobody chose.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, NamedTuple

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import badges

log = logging.getLogger(__name__)

PREFIX = "BLASON_"
Environment = Literal["development", "testing", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "testing", "production")


class ConfigError(RuntimeError):
    """The configuration is invalid; the message says which variable and why."""


class KeyEncryptionKey(NamedTuple):
    """One key encrypting issuers' signing keys at rest, known by its id in the stored rows."""

    id: str
    key: bytes

    def __repr__(self) -> str:  # the key itself never reaches a log
        return f"KeyEncryptionKey({self.id!r})"


def _int(value: str) -> int:
    return int(value)


def _float(value: str) -> float:
    return float(value)


def _str(value: str) -> str:
    return value


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _meta(default: Any, parse: Callable[[str], Any], help: str, *, secret: bool = False) -> dict[str, Any]:
    """Describe one setting: its default and parser (for the environment's text), its help.

    ``secret``: required outside development, generated in development. Secrets, keys and URLs
    that may carry a password are declared ``repr=False``, so logging the settings is safe.
    """
    return {"default": default, "parse": parse, "help": help, "secret": secret}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The validated settings of one app; built by :func:`load`, never changed afterwards."""

    env: Environment = field(metadata=_meta("development", _str, "development, testing or production"))
    instance_dir: Path = field(
        metadata=_meta("instance", _str, "directory for the SQLite database, dev secrets and files")
    )
    database_url: str = field(
        repr=False, metadata=_meta(None, _str, "SQLAlchemy URL; default sqlite under INSTANCE_DIR")
    )
    sqlite_busy_timeout: float = field(
        metadata=_meta(10.0, _float, "SQLite: seconds a write waits for another writer's lock before answering 503")
    )
    public_base_url: str = field(metadata=_meta("http://127.0.0.1:5000", _str, "public origin of every issued URL"))
    storage_dir: Path = field(metadata=_meta(None, _str, "evidence and export files; default INSTANCE_DIR/storage"))
    storage_url: str | None = field(
        metadata=_meta(
            None,
            _str,
            "s3://bucket/prefix: files in an S3-compatible object store (STORAGE_DIR then holds only temporary "
            "files; credentials from the AWS_* variables)",
        )
    )
    s3_endpoint_url: str | None = field(
        metadata=_meta(None, _str, "the object store's endpoint when not AWS, e.g. https://s3.fr-par.scw.cloud")
    )
    s3_region: str | None = field(metadata=_meta(None, _str, "the object store's region, e.g. fr-par"))
    s3_addressing_style: str = field(
        metadata=_meta("auto", _str, "bucket in the host name (virtual) or in the path (path); auto: boto3 chooses")
    )
    max_upload_bytes: int = field(metadata=_meta(20 * 1024 * 1024, _int, "largest accepted upload, in bytes"))
    access_token_ttl: int = field(metadata=_meta(900, _int, "access token lifetime, seconds"))
    refresh_token_ttl: int = field(metadata=_meta(30 * 24 * 3600, _int, "refresh token lifetime, seconds"))
    secret_key: str = field(repr=False, metadata=_meta(None, _str, "Flask secret key (sessions, CSRF)", secret=True))
    jwt_private_key: ed25519.Ed25519PrivateKey = field(
        repr=False, metadata=_meta(None, _str, "Ed25519 private key (PEM) signing access tokens", secret=True)
    )
    key_encryption_keys: tuple[KeyEncryptionKey, ...] = field(
        repr=False,
        metadata=_meta(
            None,
            _list,
            "comma-separated id:base64 32-byte keys encrypting signing keys at rest; first encrypts",
            secret=True,
        ),
    )
    password_hash_time_cost: int = field(metadata=_meta(3, _int, "argon2id time cost"))
    password_hash_memory_kib: int = field(metadata=_meta(65536, _int, "argon2id memory cost in KiB"))
    smtp_url: str | None = field(
        repr=False, metadata=_meta(None, _str, "smtp://user:pass@host:port for e-mail; none writes to an outbox folder")
    )
    mail_from: str = field(metadata=_meta("Blason <no-reply@blason.invalid>", _str, "sender of notification e-mails"))
    log_level: str = field(metadata=_meta("INFO", _str, "logging level"))
    platform_signing_key: badges.SigningKey = field(
        repr=False,
        metadata=_meta(
            None, _str, "Ed25519 private key (PEM) signing dossier manifests and CLRs; default derived from SECRET_KEY"
        ),
    )
    dossier_link_ttl: int = field(metadata=_meta(600, _int, "lifetime of a dossier download link, seconds"))
    max_dossier_verify_bytes: int = field(
        metadata=_meta(2 * 1024**3, _int, "largest dossier ZIP accepted for verification")
    )
    max_dossier_verify_bytes_anonymous: int = field(
        metadata=_meta(
            50 * 1024**2,
            _int,
            "largest dossier ZIP verified without an account (jury officers and admins: MAX_DOSSIER_VERIFY_BYTES)",
        )
    )
    storage_tmp_grace: int = field(
        metadata=_meta(
            900, _int, "seconds without a write after which an unlocked temporary file in storage is a crash's leftover"
        )
    )
    storage_orphan_grace: int = field(
        metadata=_meta(
            3600, _int, "seconds after which a dossier archive no dossier refers to is removed by storage-sweep"
        )
    )
    audit_sign_every_events: int = field(
        metadata=_meta(1000, _int, "sign the audit chain's head after this many events (0: never)")
    )
    audit_sign_every_minutes: int = field(
        metadata=_meta(60, _int, "sign the audit chain's head when an event has waited this long unsigned (0: never)")
    )
    verify_rate_burst: int = field(metadata=_meta(20, _int, "POST /verify: requests a client may send at once"))
    verify_rate_per_minute: int = field(
        metadata=_meta(30, _int, "POST /verify: requests per minute per client, on average")
    )
    session_idle_minutes: int = field(
        metadata=_meta(120, _int, "web pages: minutes without a request after which a browser is signed out")
    )
    session_max_hours: int = field(
        metadata=_meta(12, _int, "web pages: hours after sign-in after which a browser is signed out, however active")
    )
    login_account_rate_burst: int = field(
        metadata=_meta(5, _int, "POST /auth/login: attempts on one e-mail at once, from anywhere")
    )
    login_account_rate_per_minute: int = field(
        metadata=_meta(3, _int, "POST /auth/login: attempts per minute per e-mail, on average")
    )
    login_address_rate_burst: int = field(
        metadata=_meta(20, _int, "POST /auth/login: attempts from one client IP at once")
    )
    login_address_rate_per_minute: int = field(
        metadata=_meta(10, _int, "POST /auth/login: attempts per minute per client IP, on average")
    )
    trusted_proxies: int = field(
        metadata=_meta(
            0, _int, "reverse proxies in front that set X-Forwarded-For (the client IP is read through them)"
        )
    )
    rate_limit_redis_url: str | None = field(
        repr=False,
        metadata=_meta(
            None,
            _str,
            "Redis URL holding the rate-limit windows, shared by every worker (default: each process counts)",
        ),
    )
    queue_url: str | None = field(
        repr=False,
        metadata=_meta(
            None,
            _str,
            "job queue: redis://… (shared by workers on several machines) or sqlite:///path; "
            "default sqlite under INSTANCE_DIR",
        ),
    )
    queue_name: str = field(metadata=_meta("blason", _str, "name of the job queue (its keys in Redis)"))
    job_heartbeat_timeout: float = field(
        metadata=_meta(60.0, _float, "seconds without a heartbeat after which a running job is marked failed")
    )
    job_test_step_delay: float = field(
        metadata=_meta(0.0, _float, "testing only: seconds a job sleeps between its steps")
    )
    demo_password: str = field(
        repr=False, metadata=_meta("demo-blason-2026", _str, "password of the demo accounts (development only)")
    )


@dataclass(frozen=True)
class Setting:
    """One row of the defaults table: variable name (without the prefix), default, parser, help."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name.upper(), f.metadata["default"], f.metadata["parse"], f.metadata["help"], f.metadata["secret"])
    for f in fields(Settings)
)


def load(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Return the validated settings from the environment and explicit overrides.

    ``overrides`` use the variable names without the prefix (``{"MAX_UPLOAD_BYTES": 1024}``) and win
    over the environment; a value that is not text is read as its ``str()``, so every value goes
    through the same parser and the same checks. An unknown name is an error, not a silent no-op.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - {s.name for s in SETTINGS})
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides and overrides[setting.name] is not None:
            raw: str | None = _text(overrides[setting.name])
        elif setting.name in overrides:
            raw = None
        else:
            raw = environ.get(PREFIX + setting.name)
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{PREFIX}{setting.name}: invalid value ({exc}); {setting.help}") from None
    _validate(values)
    return Settings(**{name.lower(): value for name, value in values.items()})


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def _validate(values: dict[str, Any]) -> None:
    """Check the parsed values and turn them into the types of ``Settings`` (in place)."""
    env = values["ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"{PREFIX}ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    instance = Path(values["INSTANCE_DIR"]).resolve()
    values["INSTANCE_DIR"] = instance
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'blason.db'}"
    values["STORAGE_DIR"] = Path(values["STORAGE_DIR"]) if values["STORAGE_DIR"] else instance / "storage"
    base = str(values["PUBLIC_BASE_URL"]).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"{PREFIX}PUBLIC_BASE_URL must start with http:// or https://, not {base!r}")
    values["PUBLIC_BASE_URL"] = base
    _validate_object_store(values)
    for name in ("SMTP_URL", "RATE_LIMIT_REDIS_URL", "QUEUE_URL"):
        values[name] = values[name] or None  # set but empty: not set
    for name in (
        "MAX_UPLOAD_BYTES",
        "ACCESS_TOKEN_TTL",
        "REFRESH_TOKEN_TTL",
        "DOSSIER_LINK_TTL",
        "MAX_DOSSIER_VERIFY_BYTES",
        "MAX_DOSSIER_VERIFY_BYTES_ANONYMOUS",
        "SESSION_IDLE_MINUTES",
        "SESSION_MAX_HOURS",
    ):
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
    if float(values["JOB_HEARTBEAT_TIMEOUT"]) <= 0:
        raise ConfigError(f"{PREFIX}JOB_HEARTBEAT_TIMEOUT must be positive")
    if float(values["JOB_TEST_STEP_DELAY"]) and env != "testing":
        raise ConfigError(f"{PREFIX}JOB_TEST_STEP_DELAY is for tests only (BLASON_ENV=testing)")
    if not 0 < float(values["SQLITE_BUSY_TIMEOUT"]) < 3600:
        raise ConfigError(f"{PREFIX}SQLITE_BUSY_TIMEOUT must be between 0 and 3600 seconds")

    missing = [s for s in SETTINGS if s.secret and not values.get(s.name)]
    if missing and env != "development":
        names = ", ".join(PREFIX + s.name for s in missing)
        raise ConfigError(f"missing secret(s) outside development: {names}")
    if missing:
        _generate_dev_secrets(values, instance, [s.name for s in missing])
    values["KEY_ENCRYPTION_KEYS"] = _parse_keks(values["KEY_ENCRYPTION_KEYS"])
    values["JWT_PRIVATE_KEY"] = _ed25519_key("JWT_PRIVATE_KEY", str(values["JWT_PRIVATE_KEY"]))
    values["PLATFORM_SIGNING_KEY"] = _platform_key(values)


def _validate_object_store(values: dict[str, Any]) -> None:
    """STORAGE_URL names a bucket; its credentials come from the AWS_* variables, never from here."""
    for name in ("STORAGE_URL", "S3_ENDPOINT_URL", "S3_REGION"):
        values[name] = values[name] or None  # set but empty: not set
    if values["STORAGE_URL"] is not None:
        from app.platform.storage_s3 import S3ConfigError, parse_url  # boto3 only when it is used

        try:
            parse_url(values["STORAGE_URL"])
        except S3ConfigError as exc:
            raise ConfigError(f"{PREFIX}STORAGE_URL {exc}") from None
    endpoint = values["S3_ENDPOINT_URL"]
    if endpoint is not None and not endpoint.startswith(("https://", "http://")):
        raise ConfigError(f"{PREFIX}S3_ENDPOINT_URL must start with https:// (or http:// on a private network)")
    if values["S3_ADDRESSING_STYLE"] not in ("auto", "path", "virtual"):
        raise ConfigError(f"{PREFIX}S3_ADDRESSING_STYLE must be auto, path or virtual")


def _ed25519_key(name: str, pem: str) -> ed25519.Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{PREFIX}{name} is not a PEM private key") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ConfigError(f"{PREFIX}{name} must be an Ed25519 key")
    return key


def _platform_key(values: dict[str, Any]) -> badges.SigningKey:
    """The platform's own signing key (dossier manifests, CLRs).

    Not a required secret: without it the key is derived from SECRET_KEY (HKDF), so existing
    deployments keep a stable key; set it to rotate it independently. It is never the access-token
    key, so a signed dossier manifest can never be replayed as a token (or the reverse).
    """
    raw = values.get("PLATFORM_SIGNING_KEY")
    if raw:
        return badges.SigningKey(_ed25519_key("PLATFORM_SIGNING_KEY", str(raw)))
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"blason platform signing key v1").derive(
        str(values["SECRET_KEY"]).encode()
    )
    return badges.SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(seed))


def _parse_keks(raw: list[str] | str) -> tuple[KeyEncryptionKey, ...]:
    items = _list(raw) if isinstance(raw, str) else list(raw)
    keks: list[KeyEncryptionKey] = []
    for item in items:
        kek_id, sep, b64 = item.partition(":")
        try:
            key = base64.b64decode(b64, validate=True) if sep else b""
        except ValueError:
            key = b""
        if not kek_id or len(key) != 32:
            raise ConfigError(f"{PREFIX}KEY_ENCRYPTION_KEYS: each entry is id:base64-of-32-bytes")
        keks.append(KeyEncryptionKey(kek_id, key))
    if not keks:
        raise ConfigError(f"{PREFIX}KEY_ENCRYPTION_KEYS is empty")
    return tuple(keks)


def _generate_dev_secrets(values: dict[str, Any], instance: Path, names: list[str]) -> None:
    """Create (once) and load development secrets kept under the instance folder."""
    folder = instance / "dev-secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    makers: dict[str, Callable[[], str]] = {
        "SECRET_KEY": lambda: secrets.token_urlsafe(32),
        "JWT_PRIVATE_KEY": lambda: (
            ed25519.Ed25519PrivateKey.generate()
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode()
        ),
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
