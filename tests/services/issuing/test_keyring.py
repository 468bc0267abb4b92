"""The key ring decrypts a private key on the first use of its purpose, and only that one."""

from __future__ import annotations

import pytest

from app.models import KeyPurpose
from app.platform.errors import Conflict
from app.services.issuing import keys
from tests.issuing_fixtures import KEKS, Setup


@pytest.fixture
def decrypted(monkeypatch: pytest.MonkeyPatch) -> list[KeyPurpose]:
    """The purposes of the keys decrypted from now on, in order."""
    seen: list[KeyPurpose] = []
    real = keys.decrypt_private_key

    def counting(row, keks):  # type: ignore[no-untyped-def]
        seen.append(row.purpose)
        return real(row, keks)

    monkeypatch.setattr(keys, "decrypt_private_key", counting)
    return seen


def test_only_the_key_used_is_decrypted_and_only_once(session, issuing: Setup, decrypted) -> None:
    ring = keys.load_keyring(session, issuing.issuer.id, KEKS)
    assert decrypted == []  # loading reads the rows only
    assert {ring.row(p).purpose for p in KeyPurpose} == set(KeyPurpose)
    key = ring.key(KeyPurpose.VC_JWT)
    assert decrypted == [KeyPurpose.VC_JWT]  # the RSA and Ed25519 keys stay encrypted
    assert ring.key(KeyPurpose.VC_JWT) is key
    assert decrypted == [KeyPurpose.VC_JWT]
    assert key.public.jwk(ring.row(KeyPurpose.VC_JWT).kid) == ring.row(KeyPurpose.VC_JWT).public_jwk
    ring.key(KeyPurpose.DATA_INTEGRITY)
    assert decrypted == [KeyPurpose.VC_JWT, KeyPurpose.DATA_INTEGRITY]


def test_a_key_that_does_not_decrypt_fails_when_used(session, issuing: Setup) -> None:
    ring = keys.load_keyring(session, issuing.issuer.id, [("other", b"o" * 32)])
    with pytest.raises(Conflict, match="cannot be used"):
        ring.key(KeyPurpose.OB2)
