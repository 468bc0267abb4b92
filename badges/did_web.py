"""did:web identifiers (W3C CCG did:web method): URL mapping, resolution and key lookup.

A ``did:web`` names a web location: ``did:web:<host, ':' of a port as %3A>[:<path segment>…]``
resolves to ``https://<host>/<path segments>/did.json`` (``/.well-known/did.json`` without a
path). Resolution goes through the caller's :class:`~badges.report.Resolvers`, so the guarded
fetcher (or a local resolver) fetches the https URL; the document must carry the DID as its id.

A key is trusted for an assertion only when the DID document lists it for ``assertionMethod``
and does not mark it ``revoked`` (a compromised key stays published, with its date).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .errors import InvalidInput, KeyFormatError, ProofError
from .keys import PublicKey, public_key_from_jwk, public_key_from_multibase
from .report import Resolvers

PREFIX = "did:web:"
# A host name or address (IPv6 in brackets), optionally with a port: what may stand before the path.
_HOST = re.compile(
    r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)(:\d{1,5})?$"
)
_IDCHARS = re.compile(r"^([A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$")


def is_did_web(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def did_from_url(url: str) -> str:
    """The did:web of an http(s) location: host (port as ``%3A``) then each path segment.

    ``https://blason.example/issuers/1`` → ``did:web:blason.example:issuers:1``;
    ``https://h.example:8443/app/issuers/1`` → ``did:web:h.example%3A8443:app:issuers:1``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInput(f"not a web location for a did:web: {url}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(host, safe="[]") + (f"%3A{parts.port}" if parts.port else "")
    segments = [quote(unquote(s), safe="") for s in parts.path.split("/") if s]
    return PREFIX + ":".join([netloc, *segments])


def url_from_did(did: str) -> str:
    """The https URL of a did:web's DID document (the part after ``#`` or ``?`` is ignored)."""
    if not is_did_web(did):
        raise InvalidInput(f"not a did:web: {did}")
    body = re.split(r"[#?]", did[len(PREFIX) :], maxsplit=1)[0]
    pieces = body.split(":")
    if not pieces[0] or not all(_IDCHARS.match(p) for p in pieces):
        raise InvalidInput(f"malformed did:web: {did}")
    host = unquote(pieces[0])
    if not _HOST.match(host):
        raise InvalidInput(f"malformed did:web host: {did}")
    path = "/".join(quote(unquote(p), safe="") for p in pieces[1:]) or ".well-known"
    return f"https://{host}/{path}/did.json"


def same_identity(first: str | None, second: str | None) -> bool:
    """Whether two issuer ids name the same party: equal, or a did:web and the https URL it maps to.

    Whoever serves ``https://host/p/did.json`` controls ``https://host/p`` too, so a credential
    issued as ``did:web:host:p`` may rely on a status list issued as ``https://host/p`` (and back).
    """
    if first is None or second is None:
        return False
    if first == second:
        return True
    for did, url in ((first, second), (second, first)):
        if is_did_web(did) and url.startswith("https://"):
            try:
                return url_from_did(did) == url.split("#", 1)[0].rstrip("/") + "/did.json"
            except InvalidInput:
                return False
    return False


def resolve(did: str, resolvers: Resolvers) -> dict[str, Any]:
    """Fetch the DID document of a did:web and check that it is the document of that DID."""
    url = url_from_did(did)
    document = resolvers.get_key(url)
    if not isinstance(document, dict):
        raise KeyFormatError(f"the DID document at {url} is not a JSON object")
    if document.get("id") != did.split("#", 1)[0]:
        raise KeyFormatError(f"the DID document at {url} is the document of another DID")
    return document


def _ids(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _matches(entry_id: Any, method: str, did: str) -> bool:
    """An id in a DID document, absolute or relative (``#fragment``), naming ``method``."""
    return isinstance(entry_id, str) and (entry_id == method or did + entry_id == method)


def key_for_method(method: str, resolvers: Resolvers) -> tuple[PublicKey, str]:
    """The key of a ``did:web:…#fragment`` verification method and its controller.

    Raises ProofError for a key the DID document marks ``revoked``; the controller is ""
    (the key is tied to no one) when the document does not list the key for ``assertionMethod``.
    """
    did, sep, fragment = method.partition("#")
    if not sep or not fragment:
        raise KeyFormatError("a did:web verification method needs a #fragment")
    document = resolve(did, resolvers)
    entry: dict[str, Any] | None = None
    for candidate in _ids(document.get("verificationMethod")):
        if isinstance(candidate, dict) and _matches(candidate.get("id"), method, did):
            entry = candidate
            break
    asserted = False
    for item in _ids(document.get("assertionMethod")):
        if isinstance(item, dict) and _matches(item.get("id"), method, did):
            entry, asserted = entry or item, True
        elif _matches(item, method, did):
            asserted = True
    if entry is None:
        raise KeyFormatError(f"the DID document of {did} does not list {method}")
    if entry.get("revoked"):
        raise ProofError(f"the key {method} was revoked on {entry['revoked']} (reported compromised)")
    if isinstance(entry.get("publicKeyMultibase"), str):
        key = public_key_from_multibase(entry["publicKeyMultibase"])
    elif isinstance(entry.get("publicKeyJwk"), dict):
        key = public_key_from_jwk(entry["publicKeyJwk"])
    else:
        raise KeyFormatError(f"no public key for {method} in the DID document")
    controller = entry.get("controller", did)
    return key, controller if asserted and isinstance(controller, str) else ""


__all__ = ["did_from_url", "is_did_web", "key_for_method", "resolve", "same_identity", "url_from_did"]
