"""Shared fixtures for the badges/ tests: fixed keys, a fixed clock, sample issuer data."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from badges import (
    Achievement,
    Alignment,
    Award,
    Criteria,
    Evidence,
    Image,
    Profile,
    Recipient,
    Resolvers,
    ResultDescription,
    SigningKey,
    StatusEntry,
    StatusList,
    build_ob3_credential,
    build_status_list_credential,
    load_private_key,
    sign_data_integrity,
)
from badges.keys import controller_document, ed25519_key_from_seed

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ISSUER_ID = "https://badges.example.fr/issuers/territoire-1"
STATUS_URL = "https://badges.example.fr/status/1"
SUSPENSION_URL = "https://badges.example.fr/status/2"
LEARNER_DID = "did:example:learner-1234"
LEARNER_EMAIL = "Camille.Martin@example.fr"

# A test-only RSA-2048 key, fixed so that the suite does not depend on key generation.
RSA_TEST_PEM = b"""-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDGgtRSE2li5UTh
eS/fVtQD8OKFdw1cUHMeM3Bcqpsj9hNoGGti+PWRe0aXyyRoGu6/sDJl25D5C8su
ARLOYc2yjQC1qf9pSh4Mt4aTkgfaqyUgF2n1CQc+WygC9XWmIhbUglDAz1a0qLC4
Bi9z2N7PYpxybmXQzDTWpzXqEWQzAlhomoVR1sNujFvVOhbN0Ufl3+mm55y4Qec8
CaWcUU6U6TPluaL79M6noHdd5jnXv7BtiEdvkfFUJAD7dlQCue8xRKYVAPYQQsy5
FGUncqCD7u1UEGW/f3xyW05PUDj0LzGYkqt+nA8bH+b3Y6YQJ9ODYC9QuOSNxw8g
kvPSOLiJAgMBAAECggEAMyuXSn7pfA4odsyT3AjYRxnJcmjxXzn3qrHMxX5O1nLA
puUgjVcqifFSjZ9WR6WlpHDpVNtH4AK7waSSMfQBH4T8SVfEWGI8I8ANJy4N6z6R
p9eRPxIwNVEvG7AlPwlrhCUBZuorag9P2mfxxHWDXccIF/FAOpXhCvH4UllgUEtV
9r1DmATd5FYwdbQvlu3UAhxspEcKfI1ljF3eXmSdLKmy3Tmn94cRrZtclvlxNL+G
/CT1rc7nSb988LKC5a6S6RKmivwglfeG1R/F3XogDCeq6V2Z7DZExiofowV1Vqf0
tXbejs01RMIcE4VIzOhRDQMOsZWOTCV2H1k0YvqP9wKBgQD9UftUIZb8g7BVp24H
xjXv7FxMpoHzyCfEuo9ScNDfjD52Gvyby5hjU5D2TNx4FqJjFuvTvKZPV72gWmd7
fXHVea4XTiLv3YDDcer0qpKbsA4qLXhxl550Xk+ZdqmT2TEiwtTRF4d0hG9Ehrdp
clDbqZwUqN2IrlOKN3Do34kuswKBgQDInGsiSb0EP8mXuYr4CDq3d4yHBooIUmIw
eyrklNfikcmjtLZMAcUuf56TTIvjExe+pd+rS0KJwLZwgekBYyvE5EpwSwFmS12u
+2YpIe4Q5qSEfU2c09dJs+GsRF64Qg/ZutPNkomVDOny1C6bdgV9p0HFZ/UPutAo
WMnaFulZ0wKBgBGrFSeCDEDignsG6YK7TWnFh46FEo1JSZTMGlD6s2bUJksgiLvp
EGDlJDg5lir+ESduItaq0sK38O7tP0h6sGTeTskrVv556ZA4MtYLy5v2RJamgz8Q
/ylIpq6ieyNnw6iUBDntNTJoRkZ2Svac1YzsoIlEWec9mXALe+GSLcRHAoGARzJU
R1/6KDbnOeTMsEhjZleUVRt6A4gRdvlPeL5me++Xq3ToOcNrEpyST96byuQsyime
XvGf1LnDRdylMCvdDcyjqoTEI2TeA8sPL8vt7KueebLqx5zbTDn9/qBpKWWwsGpA
3zWBhJeHs/mf7OaO/lBM5F2HuKRpWdhhEviMqqcCgYEAg+5WQI80dm8JXX0TSSR9
l6dftHuztoYnuMn1+3iwSwSyO6UEw8WCvf9VPp2SyVw4d0TbKGuPtlLNYHsmoV31
z6NExyiMXL+ctyA2zXENZVgj5qVibrJEP/PYzg9mNHnOx+9/0vI5ofWF4c18vH0a
4PLYK+vmzv8DzdluO3gb8cQ=
-----END PRIVATE KEY-----
"""


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(width: int = 1, height: int = 1, extra: bytes = b"") -> bytes:
    """A grey PNG of that (claimed) size, with extra chunks before its pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + extra
        + png_chunk(b"IDAT", zlib.compress(b"\0\0"))
        + png_chunk(b"IEND", b"")
    )


def shared_dir() -> Path:
    """Return ../shared (beside the repository root) or skip the test when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent: standards artefacts are not available in this checkout")
    return SHARED


def load_shared_json(*parts: str) -> Any:
    """Load a JSON file from ../shared/standards (skipping when absent)."""
    return json.loads((shared_dir() / "standards" / Path(*parts)).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    return ed25519_key_from_seed(bytes(range(32)))


@pytest.fixture(scope="session")
def other_ed_key() -> SigningKey:
    return ed25519_key_from_seed(bytes(range(1, 33)))


@pytest.fixture(scope="session")
def p256_key() -> SigningKey:
    return SigningKey(ec.derive_private_key(0x1EDBADE5 * 0x10001 + 7, ec.SECP256R1()))


@pytest.fixture(scope="session")
def other_p256_key() -> SigningKey:
    return SigningKey(ec.derive_private_key(0xC0FFEE * 31 + 3, ec.SECP256R1()))


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    return load_private_key(RSA_TEST_PEM)


@pytest.fixture(scope="session")
def issuer() -> Profile:
    return Profile(
        id=ISSUER_ID,
        name="Territoire apprenant (exemple)",
        url="https://badges.example.fr",
        email="contact@badges.example.fr",
    )


@pytest.fixture(scope="session")
def achievement() -> Achievement:
    return Achievement(
        id="https://badges.example.fr/achievements/conduite-projet",
        name="Conduite de projet collectif",
        description="Reconnaît la contribution à un projet collectif du territoire.",
        criteria=Criteria(narrative="Avoir contribué à un projet et présenté les preuves."),
        achievement_type="Competency",
        alignments=(
            Alignment(
                target_name="Bloc de compétences 2",
                target_url="https://referentiel.example.fr/blocs/2",
                target_framework="Référentiel exemple",
                target_code="BC02",
                target_type="ext:RNCPBlock",
            ),
        ),
        result_descriptions=(
            ResultDescription(
                id="https://badges.example.fr/achievements/conduite-projet/levels",
                name="Niveau",
                result_type="RubricCriterionLevel",
                allowed_value=("en cours d'acquisition", "acquis", "maîtrisé"),
            ),
        ),
        image=Image(id="https://badges.example.fr/img/conduite-projet.png"),
    )


@pytest.fixture
def make_award(issuer: Profile, achievement: Achievement) -> Callable[..., Award]:
    def make(**overrides: Any) -> Award:
        values: dict[str, Any] = dict(
            id="urn:uuid:4f8c7a3e-2b1d-4c6e-9a0f-1e2d3c4b5a69",
            issuer=issuer,
            recipient=Recipient(did=LEARNER_DID, email=LEARNER_EMAIL, salt="b0a1c2d3e4f5"),
            achievement=achievement,
            valid_from=datetime(2025, 3, 1, 9, tzinfo=UTC),
            valid_until=datetime(2027, 3, 1, 9, tzinfo=UTC),
            awarded_date=datetime(2025, 3, 1, 9, tzinfo=UTC),
            evidence=(
                Evidence(
                    id="https://badges.example.fr/evidence/123",
                    name="Rapport",
                    narrative="Dépôt du rapport et restitution orale.",
                ),
            ),
            status=(StatusEntry(STATUS_URL, 42),),
        )
        values.update(overrides)
        return Award(**values)

    return make


@pytest.fixture
def make_credential(make_award: Callable[..., Award]) -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        return build_ob3_credential(make_award(**overrides))

    return make


def vm(key: SigningKey, controller: str = ISSUER_ID) -> str:
    """Return the issuer-id#multibase verification method of an Ed25519 key."""
    return f"{controller}#{key.public.multibase()}"


@pytest.fixture
def status_documents(ed_key: SigningKey) -> Callable[..., dict[str, Any]]:
    """Return a factory of signed status list credentials keyed by URL."""

    def make(revoked: tuple[int, ...] = (), suspended: tuple[int, ...] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for url, purpose, indexes in ((STATUS_URL, "revocation", revoked), (SUSPENSION_URL, "suspension", suspended)):
            bits = StatusList()
            for index in indexes:
                bits.set(index)
            document = build_status_list_credential(
                id=url, issuer=ISSUER_ID, status_list=bits, purpose=purpose, valid_from=datetime(2025, 1, 1, tzinfo=UTC)
            )
            out[url] = sign_data_integrity(document, ed_key, vm(ed_key), created="2025-01-01T00:00:00Z")
        out[ISSUER_ID] = controller_document(ISSUER_ID, [ed_key.public])
        return out

    return make


@pytest.fixture
def resolvers(status_documents: Callable[..., dict[str, Any]]) -> Resolvers:
    return Resolvers.from_mapping(status_documents())
