from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import badges
from badges import ContextError, UndefinedTermError, canonize
from badges.contexts import PINNED, context_bytes, document_loader

from .conftest import shared_dir

CONTEXT_DIR = Path(badges.__file__).parent / "contexts"

# Our file -> the file in ../shared/standards/contexts it must match (JSON or bytes).
SHARED_COPIES = {
    "credentials-v2.jsonld": ("credentials-v2.jsonld", "json"),
    "ob-v3p0-context-3.0.3.json": ("ob-v3p0-context-3.0.3.json", "bytes"),
    "ob-v3p0-context-3.0.2.json": ("ob-v3p0-context-3.0.2.json", "bytes"),
    "ob-v3p0-extensions.json": ("ob-v3p0-extensions.json", "json"),
    "clr-v2p0-context-2.0.1.json": ("clr-v2p0-context-2.0.1.json", "bytes"),
    "data-integrity-v2.jsonld": ("data-integrity-v2.jsonld", "bytes"),
    "multikey-v1.jsonld": ("multikey-v1.jsonld", "bytes"),
}


def test_every_shipped_file_is_pinned_and_matches_its_hash() -> None:
    shipped = {p.name for p in CONTEXT_DIR.iterdir() if p.suffix in (".json", ".jsonld")}
    assert shipped == {pin.filename for pin in PINNED.values()}
    for pin in PINNED.values():
        data = (CONTEXT_DIR / pin.filename).read_bytes()
        assert hashlib.sha256(data).hexdigest() == pin.sha256
        assert context_bytes(pin.url) == data


def test_notice_names_every_file() -> None:
    notice = (Path(badges.__file__).parent / "NOTICE").read_text(encoding="utf-8")
    for pin in PINNED.values():
        assert pin.filename in notice


@pytest.mark.shared
@pytest.mark.parametrize("ours", sorted(SHARED_COPIES))
def test_contexts_match_the_shared_standards(ours: str) -> None:
    theirs, mode = SHARED_COPIES[ours]
    reference = (shared_dir() / "standards" / "contexts" / theirs).read_bytes()
    mine = (CONTEXT_DIR / ours).read_bytes()
    if mode == "bytes":
        assert mine == reference
    assert json.loads(mine) == json.loads(reference)


def test_loader_fails_closed() -> None:
    with pytest.raises(Exception, match="not allowed"):
        document_loader("https://example.org/evil-context.json")


def test_altered_context_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from badges import contexts

    url = next(iter(PINNED))
    monkeypatch.setitem(PINNED, url, contexts.PinnedContext(url, PINNED[url].filename, "0" * 64))
    with pytest.raises(ContextError, match="altered"):
        context_bytes(url)


def test_unknown_remote_context_makes_canonicalisation_fail() -> None:
    doc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(ContextError):
        canonize(doc)


def test_undefined_terms_and_types_are_refused() -> None:
    base = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1"},
    }
    canonize(base)
    with pytest.raises(UndefinedTermError, match="favouriteColour"):
        canonize({**base, "favouriteColour": "blue"})
    with pytest.raises(UndefinedTermError, match="MadeUpType"):
        canonize({**base, "type": ["VerifiableCredential", "MadeUpType"]})
    with pytest.raises(UndefinedTermError):
        canonize({**base, "credentialSubject": {"id": "did:example:1", "nickname": "x"}})
