"""Per-app collaborators handed to services: settings, token settings, hasher, storage, clock."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app

import badges
from app.db import utcnow
from app.services.identity.auth import Passwords, TokenSettings
from app.services.dossiers.lifecycle import DossierSettings
from app.services.issuing.signing import IssuingSettings
from app.platform.mail import Mailer, build_mailer
from app.platform.rate_limit import LoginLimits, RateLimiter, RedisRateLimiter
from app.platform.storage_sweep import sweep_temporary
from app.platform.urls import Urls
from app.platform.storage import LocalStorage, Storage

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: dict[str, Any]
    tokens: TokenSettings
    passwords: Passwords
    storage: Storage
    clock: Callable[[], datetime]
    mailer: Mailer
    issuing: IssuingSettings
    # Signs dossier manifests and CLRs (the platform speaks for itself there, not for an issuer).
    platform_key: badges.SigningKey
    dossiers: DossierSettings
    # POST /api/v1/verify and the /verify form: one bucket per client IP in this process.
    verify_limiter: RateLimiter | RedisRateLimiter
    # POST /api/v1/auth/login: a bucket per account and one per client IP, checked before hashing.
    login_limits: LoginLimits


def build(settings: dict[str, Any]) -> Runtime:
    key = serialization.load_pem_private_key(settings["JWT_PRIVATE_KEY"].encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    clock = settings.get("CLOCK") or utcnow
    tokens = TokenSettings(private_key=key, issuer=settings["PUBLIC_BASE_URL"],
                           access_ttl=settings["ACCESS_TOKEN_TTL"], refresh_ttl=settings["REFRESH_TOKEN_TTL"],
                           clock=clock)
    passwords = Passwords(settings["PASSWORD_HASH_TIME_COST"], settings["PASSWORD_HASH_MEMORY_KIB"])
    urls = Urls(settings["PUBLIC_BASE_URL"])
    storage = LocalStorage(settings["STORAGE_DIR"])
    platform_key = badges.load_private_key(settings["PLATFORM_SIGNING_KEY"].encode())
    return Runtime(
        settings, tokens, passwords, storage, clock, build_mailer(settings),
        IssuingSettings(urls=urls, keks=settings["KEY_ENCRYPTION_KEYS"], clock=clock),
        platform_key,
        DossierSettings(urls=urls, storage=storage, platform_key=platform_key, link_secret=settings["SECRET_KEY"],
                        link_ttl=settings["DOSSIER_LINK_TTL"], clock=clock),
        _verify_limiter(settings), login_limits(settings))


def sweep_temporary_files(rt: Runtime) -> None:
    """At start-up: delete the temporary files crashed writers left in storage (never a live one's)."""
    swept = sweep_temporary(rt.storage, grace=rt.settings["STORAGE_TMP_GRACE"], now=time.time())
    if swept:
        log.warning("storage: removed %d temporary file(s) left by interrupted writes (%d bytes)",
                    len(swept), sum(s.file.size for s in swept))


def _verify_limiter(settings: dict[str, Any]) -> RateLimiter | RedisRateLimiter:
    burst, per_minute = int(settings["VERIFY_RATE_BURST"]), float(settings["VERIFY_RATE_PER_MINUTE"])
    if settings.get("RATE_LIMIT_REDIS_URL"):
        return RedisRateLimiter.from_url(settings["RATE_LIMIT_REDIS_URL"], burst, per_minute)
    return RateLimiter(burst, per_minute)


def login_limits(settings: dict[str, Any]) -> LoginLimits:
    """The sign-in buckets, in Redis when RATE_LIMIT_REDIS_URL is set (shared by every worker)."""
    def limiter(kind: str) -> RateLimiter | RedisRateLimiter:
        burst = int(settings[f"LOGIN_{kind}_RATE_BURST"])
        per_minute = float(settings[f"LOGIN_{kind}_RATE_PER_MINUTE"])
        if settings.get("RATE_LIMIT_REDIS_URL"):
            return RedisRateLimiter.from_url(settings["RATE_LIMIT_REDIS_URL"], burst, per_minute,
                                             prefix=f"blason:rate:login-{kind.lower()}:")
        return RateLimiter(burst, per_minute)

    return LoginLimits(account=limiter("ACCOUNT"), address=limiter("ADDRESS"))


def runtime(app: Flask | None = None) -> Runtime:
    return (app or current_app).extensions["blason"]  # type: ignore[no-any-return]
