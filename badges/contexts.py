"""Pinned JSON-LD contexts and a document loader that serves only them (fails closed)."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .errors import ContextError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_V3P0_3_0_2 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
OB_V3P0_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CLR_V2P0 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
OB_V2 = "https://w3id.org/openbadges/v2"
# Controller and DID documents (issuer ids, did:web) and the JsonWebKey2020 entries they list.
DID_V1 = "https://www.w3.org/ns/did/v1"
JWS_2020_V1 = "https://w3id.org/security/suites/jws-2020/v1"
# VC Data Model 1.1 credentials (verified, never issued) and their legacy suites.
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3P0_3_0_0 = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
OB_V3P0_3_0_1 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"
DATA_INTEGRITY_V1 = "https://w3id.org/security/data-integrity/v1"
ED25519_2020_V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
STATUS_LIST_2021_V1 = "https://w3id.org/vc/status-list/2021/v1"


@dataclass(frozen=True)
class PinnedContext:
    """One context document shipped in ``badges/contexts`` with its expected SHA-256."""

    url: str
    filename: str
    sha256: str


# Provenance (package, version, licence) of every file is in badges/NOTICE.
PINNED: dict[str, PinnedContext] = {
    pin.url: pin
    for pin in (
        PinnedContext(
            VC_V2, "credentials-v2.jsonld", "8a9f494a89ecc51db093e90e84713e07e84d6d9204364a9b3c7868b21751236f"
        ),
        PinnedContext(
            OB_V3P0, "ob-v3p0-context-3.0.3.json", "3d34f4d4ef1bce691106e63798beb5e7b862ba841423f5ee1e53ab7ddf3bca84"
        ),
        PinnedContext(
            OB_V3P0_3_0_2,
            "ob-v3p0-context-3.0.2.json",
            "00666ad080ba407687ed1846b7f5e7495f5019042b202a727de47c48a1755c53",
        ),
        PinnedContext(
            OB_V3P0_EXTENSIONS,
            "ob-v3p0-extensions.json",
            "2d013f981d1f4516081a6a04e55468ba2b071d4153b794f19a79715c45a89a5e",
        ),
        PinnedContext(
            CLR_V2P0, "clr-v2p0-context-2.0.1.json", "880f1902d4158f2f33ce06af41b90719977cd1ea337a9de2e41edb3ff5e543d6"
        ),
        PinnedContext(
            DATA_INTEGRITY_V2,
            "data-integrity-v2.jsonld",
            "0f77743daf5b4e8fc067fc5ba5b21044283053aa717fc6b0219843bed3b00363",
        ),
        PinnedContext(
            MULTIKEY_V1, "multikey-v1.jsonld", "c5f3806f8286920573221938917988a18a4cc5a09e968d29649613c7a1c2b1f6"
        ),
        PinnedContext(DID_V1, "did-v1.jsonld", "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f"),
        PinnedContext(
            JWS_2020_V1, "jws-2020-v1.jsonld", "00ee65bb7307f9a01c3170b823083b0d4de68223520834b2c5eb7a09bae5dea6"
        ),
        PinnedContext(OB_V2, "ob-v2-context.json", "ee8c373cb831e92f0033b7f26b61a43b2719932a20da2c396e5dad48ec429b2d"),
        PinnedContext(
            VC_V1, "credentials-v1.jsonld", "00d7dd6d3ad8b920e3e550dd3a3d9090bffcac84cdbf943da6924b3e0a5c8bb8"
        ),
        PinnedContext(
            OB_V3P0_3_0_0,
            "ob-v3p0-context-3.0.0.json",
            "9f1c8f9f361ba2994b9b50701f41149919542c50c7b7455b2846d87959295d72",
        ),
        PinnedContext(
            OB_V3P0_3_0_1,
            "ob-v3p0-context-3.0.1.json",
            "af095468326d3449160509b26ca71576e6321d13c85b0369cfe3b654c9a48fba",
        ),
        PinnedContext(
            DATA_INTEGRITY_V1,
            "data-integrity-v1.jsonld",
            "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554",
        ),
        PinnedContext(
            ED25519_2020_V1,
            "ed25519-signature-2020-v1.jsonld",
            "b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588",
        ),
        PinnedContext(
            STATUS_LIST_2021_V1,
            "vc-status-list-2021-v1.jsonld",
            "634d71c159289f068c96012e4511c657fdf82ac4231900081bda3ba24e2e1160",
        ),
    )
}

_lock = threading.Lock()
_parsed: dict[str, dict[str, Any]] = {}


def context_bytes(url: str) -> bytes:
    """Return the pinned bytes of a context, checked against its SHA-256."""
    pin = PINNED.get(url)
    if pin is None:
        raise ContextError(f"context not allowed: {url}")
    data = resources.files(__package__).joinpath("contexts", pin.filename).read_bytes()
    if hashlib.sha256(data).hexdigest() != pin.sha256:
        raise ContextError(f"pinned context altered on disk: {pin.filename}")
    return data


def context_document(url: str) -> dict[str, Any]:
    """Return the parsed pinned context for ``url`` (cached, read-only by convention)."""
    document = _parsed.get(url)
    if document is None:
        with _lock:
            document = _parsed.get(url)
            if document is None:
                document = json.loads(context_bytes(url))
                _parsed[url] = document
    return document


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Serve a pinned context to pyld, refusing every other URL (no network, ever)."""
    # Imported here so that `badges.contexts` stays importable without pyld's start-up cost.
    from pyld.jsonld import JsonLdError

    try:
        document = context_document(url)
    except ContextError as exc:
        raise JsonLdError(str(exc), "jsonld.LoadDocumentError", {"url": url}, code="loading document failed") from exc
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": document}


def known_contexts() -> list[str]:
    """Return the URLs the loader serves."""
    return sorted(PINNED)
