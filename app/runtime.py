"""Per-app collaborators handed to services: settings, token settings, hasher, storage, clock."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app

import badges
from app.config import ConfigError, Settings
from app.db import utcnow
from app.platform import rate_limit
from app.platform.mail import Mailer, build_mailer
from app.platform.rate_limit import LoginLimits, RateLimit
from app.platform.storage import LocalStorage, Storage
from app.platform.storage_sweep import sweep_temporary
from app.platform.urls import Urls
from app.services.dossiers.lifecycle import DossierSettings
from app.services.identity.auth import Passwords, TokenSettings
from app.services.identity.web_sessions import SessionSettings
from app.services.issuing.signing import IssuingSettings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    tokens: TokenSettings
    passwords: Passwords
    storage: Storage
    clock: Callable[[], datetime]
    mailer: Mailer
    issuing: IssuingSettings
    # Signs dossier manifests and CLRs (the platform speaks for itself there, not for an issuer).
    platform_key: badges.SigningKey
    dossiers: DossierSettings
    # POST /api/v1/verify, the /verify form and POST /dossiers/verify: one window per client IP,
    # in Redis (shared by every worker) when RATE_LIMIT_REDIS_URL is set, else in this process.
    verify_limiter: RateLimit
    # POST /api/v1/auth/login: a window per account and one per client IP, checked before hashing.
    login_limits: LoginLimits
    # The web pages' server-side sessions: idle and absolute expiry.
    web_sessions: SessionSettings


def build(settings: Settings) -> Runtime:
    clock = utcnow
    tokens = TokenSettings(
        private_key=settings.jwt_private_key,
        issuer=settings.public_base_url,
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
        clock=clock,
    )
    passwords = Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib)
    urls = Urls(settings.public_base_url)
    storage = open_storage(settings)
    platform_key = settings.platform_signing_key
    mailer = build_mailer(
        smtp_url=settings.smtp_url, sender=settings.mail_from, outbox=settings.instance_dir / "outbox"
    )
    return Runtime(
        settings,
        tokens,
        passwords,
        storage,
        clock,
        mailer,
        IssuingSettings(urls=urls, keks=settings.key_encryption_keys, clock=clock),
        platform_key,
        DossierSettings(
            urls=urls,
            storage=storage,
            platform_key=platform_key,
            link_secret=settings.secret_key,
            link_ttl=settings.dossier_link_ttl,
            clock=clock,
        ),
        _verify_limiter(settings),
        login_limits(settings),
        SessionSettings(
            idle=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_max_hours),
            clock=clock,
        ),
    )


def open_storage(settings: Settings) -> Storage:
    """The local folder (the default), or the object store STORAGE_URL names, shared by every machine."""
    if settings.storage_url is None:
        return LocalStorage(settings.storage_dir)
    from app.platform import storage_s3  # boto3 is imported only when it is used

    def new_client() -> Any:
        return storage_s3.make_client(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            addressing_style=settings.s3_addressing_style,
        )

    try:
        client = new_client()
    except storage_s3.S3ConfigError as exc:
        raise ConfigError(f"BLASON_STORAGE_URL is set, but {exc}") from None
    location = storage_s3.parse_url(settings.storage_url)
    storage = storage_s3.S3Storage(client, location, settings.storage_dir, new_client=new_client)
    log.info("storage: %r, temporary files under %s", storage, settings.storage_dir / "tmp")
    return storage


def sweep_temporary_files(rt: Runtime) -> None:
    """At start-up: delete the temporary files crashed writers left in storage (never a live one's)."""
    swept = sweep_temporary(rt.storage, grace=rt.settings.storage_tmp_grace, now=time.time())
    if swept:
        log.warning(
            "storage: removed %d temporary file(s) left by interrupted writes (%d bytes)",
            len(swept),
            sum(s.file.size for s in swept),
        )


def _verify_limiter(settings: Settings) -> RateLimit:
    return rate_limit.verify_limit(
        settings.rate_limit_redis_url, settings.verify_rate_burst, settings.verify_rate_per_minute
    )


def login_limits(settings: Settings) -> LoginLimits:
    """The sign-in limits, in Redis when RATE_LIMIT_REDIS_URL is set (shared by every worker)."""
    return rate_limit.login_limits(
        settings.rate_limit_redis_url,
        account=(settings.login_account_rate_burst, settings.login_account_rate_per_minute),
        address=(settings.login_address_rate_burst, settings.login_address_rate_per_minute),
    )


def runtime(app: Flask | None = None) -> Runtime:
    return (app or current_app).extensions["blason"]  # type: ignore[no-any-return]
