"""OpenID4VCI 1.0 issuer side, driven over HTTP like a wallet: offer → token → nonce → credential.

A holder with its own fixed key (did:key Ed25519, did:jwk P-256, or a bare jwk header) takes an
offer of the learner's badge in both formats; the copies verify with ``badges.verify`` against
the service's own documents, carry the holder's DID and the original's status entry (revoking
the award revokes them), and every refusal the specification names is checked: replayed code,
wrong or missing transaction code, stale or replayed nonce, a proof signed by another key, wrong
audience or type, unknown configuration, missing token.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import badges
from app.db import utcnow
from app.models import WalletNonce, WalletOffer
from app.platform.errors import Conflict, NotFound
from app.platform.rate_limit import RateLimit
from app.platform.urls import Urls
from app.services.identity import access
from app.services.issuing import awarding, oid4vci, oid4vci_copies, oid4vci_proofs, revocation
from app.services.verification import public_docs
from app.web import oid4vci as views
from badges.encoding import b64url_encode
from badges.keys import ed25519_key_from_seed
from tests.issuing_fixtures import BASE, Setup

PRE = oid4vci.PRE_AUTHORIZED_GRANT
LDP, JWT = "OpenBadgeCredential_ldp_vc", "OpenBadgeCredential_jwt_vc_json"


class Holder:
    """A wallet's key: signs key proofs naming itself by did:key, did:jwk or a jwk header."""

    def __init__(self, kind: str, seed: int) -> None:
        self.kind = kind
        if kind == "did:key":
            self.key = ed25519_key_from_seed(bytes([seed]) * 32)
            self.alg, self.did = "EdDSA", self.key.public.did_key()
            self.kid = self.key.public.did_key_verification_method()
        else:
            private = ec.derive_private_key(10**20 + seed, ec.SECP256R1())
            self.key = badges.load_private_key(
                private.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            self.alg = "ES256"
            public = {k: v for k, v in self.key.public.jwk().items() if k in ("kty", "crv", "x", "y")}
            self.jwk = public
            self.did = "did:jwk:" + b64url_encode(json.dumps(public, separators=(",", ":")).encode())
            self.kid = self.did + "#0"

    def proof(self, nonce: str | None, *, aud: str = BASE, typ: str = oid4vci_proofs.PROOF_TYPE, **claims: Any) -> str:
        body = {"aud": aud, "iat": int(time.time()), **claims}
        if nonce is not None:
            body["nonce"] = nonce
        header: dict[str, Any] = {"typ": typ}
        if self.kind == "jwk":
            header["jwk"] = self.jwk
        else:
            header["kid"] = self.kid
        return pyjwt.encode(body, self.key.private_pem().decode(), algorithm=self.alg, headers=header)

    def proof_signed_by(self, other: Holder, nonce: str) -> str:
        """A proof naming this holder's key but signed with ``other``'s."""
        token = self.proof(nonce)
        forged = other.proof(nonce)
        return ".".join(token.split(".")[:2] + forged.split(".")[2:])


@pytest.fixture(autouse=True)
def roomy_token_limit(app):  # type: ignore[no-untyped-def]
    """Tests share one app and one client address: a window of their own for each test."""
    app.extensions[views._LIMIT_KEY] = RateLimit(1000, 1000, name="oid4vci-test")
    yield
    app.extensions.pop(views._LIMIT_KEY, None)


@pytest.fixture()
def badge(session, issuing: Setup, settings):  # type: ignore[no-untyped-def]
    credential = awarding.award(
        session, issuing.grants(session), issuing.achievement.id, {"learner_id": issuing.learner.id}, settings=settings
    )
    session.commit()
    return credential


def _offer(session, issuing: Setup, badge, settings, *, tx: bool = False) -> oid4vci.CreatedOffer:  # type: ignore[no-untyped-def]
    made = oid4vci.create_offer(
        session, access.load_grants(session, issuing.learner.id), badge.id, with_tx_code=tx, settings=settings
    )
    session.commit()
    return made


def _code(made: oid4vci.CreatedOffer) -> str:
    """The pre-authorized code, read back from the offer URI as a wallet does."""
    query = parse_qs(urlsplit(made.offer_uri).query)
    document = json.loads(query["credential_offer"][0])
    return document["grants"][PRE]["pre-authorized_code"]


def _token(client, made: oid4vci.CreatedOffer, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/api/oid4vci/token", data={"grant_type": PRE, "pre-authorized_code": _code(made), **extra})


def _nonce(client) -> str:  # type: ignore[no-untyped-def]
    answer = client.post("/api/oid4vci/nonce")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    return answer.json["c_nonce"]


def _credential(client, access_token: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post("/api/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {access_token}"})


def _ask(client, access_token: str, holder: Holder, configuration: str = LDP):  # type: ignore[no-untyped-def]
    proof = {"proof_type": "jwt", "jwt": holder.proof(_nonce(client))}
    return _credential(client, access_token, {"credential_configuration_id": configuration, "proof": proof})


def _verify(session, document: Any) -> badges.VerificationReport:  # type: ignore[no-untyped-def]
    return badges.verify(document, resolvers=public_docs.local_resolvers(session, Urls(BASE)))


def test_metadata_names_the_endpoints_and_configurations(client) -> None:
    issuer = client.get("/.well-known/openid-credential-issuer").json
    assert issuer["credential_issuer"] == BASE
    assert issuer["credential_endpoint"] == f"{BASE}/api/oid4vci/credential"
    assert issuer["nonce_endpoint"] == f"{BASE}/api/oid4vci/nonce"
    configurations = issuer["credential_configurations_supported"]
    assert {c["format"] for c in configurations.values()} == {"ldp_vc", "jwt_vc_json"}
    for configuration in configurations.values():
        assert configuration["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["EdDSA", "ES256"]
        assert "OpenBadgeCredential" in configuration["credential_definition"]["type"]
    server = client.get("/.well-known/oauth-authorization-server").json
    assert server["issuer"] == issuer["authorization_servers"][0] == BASE
    assert server["token_endpoint"] == f"{BASE}/api/oid4vci/token"
    assert server["pre-authorized_grant_anonymous_access_supported"] is True


@pytest.mark.parametrize("kind", ["did:key", "did:jwk", "jwk"])
def test_round_trip_delivers_a_bound_copy_in_both_formats(client, session, issuing, badge, settings, kind) -> None:
    holder = Holder(kind, 7)
    made = _offer(session, issuing, badge, settings)
    assert made.offer_uri.startswith("openid-credential-offer://?credential_offer=")
    assert made.credential_offer["credential_configuration_ids"] == [LDP, JWT]
    token = _token(client, made)
    assert token.status_code == 200, token.json
    assert token.json["token_type"] == "Bearer" and token.json["expires_in"] <= 300
    assert token.headers["Cache-Control"] == "no-store"
    access_token = token.json["access_token"]

    ldp = _ask(client, access_token, holder, LDP)
    assert ldp.status_code == 200, ldp.json
    document = ldp.json["credentials"][0]["credential"]
    assert document["credentialSubject"]["id"] == holder.did
    assert document["id"].startswith("urn:uuid:") and document["id"] != badge.ob3_credential["id"]
    assert document["credentialStatus"] == badge.ob3_credential["credentialStatus"]
    assert document["credentialSubject"]["achievement"] == badge.ob3_credential["credentialSubject"]["achievement"]
    assert [p["cryptosuite"] for p in document["proof"]] == ["eddsa-rdfc-2022"]

    jwt_answer = _ask(client, access_token, holder, JWT)
    assert jwt_answer.status_code == 200, jwt_answer.json
    token_vc = jwt_answer.json["credentials"][0]["credential"]
    assert badges.jws.decode_jws(token_vc).payload["sub"] == holder.did

    for delivered in (document, token_vc):
        report = _verify(session, delivered)
        assert report.valid, report.to_json()
        assert report.check("status").outcome == "pass"
    assert [c.format for c in oid4vci_copies.copies_of(session, badge.id)] == ["ldp_vc", "jwt_vc_json"]

    # One copy per format and offer: asking again is denied.
    again = _ask(client, access_token, holder, LDP)
    assert again.status_code == 400 and again.json["error"] == "credential_request_denied"

    # Revoking the award revokes the copies in the same step.
    revocation.revoke(session, issuing.grants(session), badge.id, "Erreur de saisie", settings=settings)
    session.commit()
    for delivered in (document, token_vc):
        report = _verify(session, delivered)
        assert not report.valid and report.check("status").outcome == "fail"


def test_the_proofs_form_of_1_0_is_accepted(client, session, issuing, badge, settings) -> None:
    holder = Holder("did:key", 3)
    access_token = _token(client, _offer(session, issuing, badge, settings)).json["access_token"]
    proofs = {"jwt": [holder.proof(_nonce(client))]}
    answer = _credential(client, access_token, {"credential_configuration_id": LDP, "proofs": proofs})
    assert answer.status_code == 200, answer.json


def test_a_replayed_pre_authorized_code_is_refused(client, session, issuing, badge, settings) -> None:
    made = _offer(session, issuing, badge, settings)
    assert _token(client, made).status_code == 200
    replay = _token(client, made)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"


def test_an_expired_offer_is_refused(client, session, issuing, badge, settings) -> None:
    made = _offer(session, issuing, badge, settings)
    offer = session.get(WalletOffer, made.offer.id)
    offer.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    answer = _token(client, made)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"


def test_transaction_code_guards_a_shared_screen_offer(client, session, issuing, badge, settings) -> None:
    made = _offer(session, issuing, badge, settings, tx=True)
    assert made.tx_code is not None and len(made.tx_code) == 6 and made.tx_code.isdigit()
    assert made.credential_offer["grants"][PRE]["tx_code"]["input_mode"] == "numeric"
    missing = _token(client, made)
    assert missing.status_code == 400 and missing.json["error"] == "invalid_request"
    wrong = "000000" if made.tx_code != "000000" else "111111"
    refused = _token(client, made, tx_code=wrong)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    assert _token(client, made, tx_code=made.tx_code).status_code == 200


def test_three_wrong_transaction_codes_end_the_offer(client, session, issuing, badge, settings) -> None:
    made = _offer(session, issuing, badge, settings, tx=True)
    wrong = "000000" if made.tx_code != "000000" else "111111"
    for _ in range(oid4vci.MAX_TX_CODE_ATTEMPTS):
        assert _token(client, made, tx_code=wrong).json["error"] == "invalid_grant"
    late = _token(client, made, tx_code=made.tx_code)
    assert late.status_code == 400 and late.json["error"] == "invalid_grant"


def test_a_transaction_code_the_offer_never_asked_is_refused(client, session, issuing, badge, settings) -> None:
    answer = _token(client, _offer(session, issuing, badge, settings), tx_code="123456")
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
        ({"grant_type": PRE}, "invalid_request"),
        ({"grant_type": PRE, "pre-authorized_code": "not-a-code"}, "invalid_grant"),
    ],
    ids=["empty", "other-grant", "no-code", "unknown-code"],
)
def test_token_endpoint_errors(client, form, error) -> None:
    answer = client.post("/api/oid4vci/token", data=form)
    assert answer.status_code == 400 and answer.json["error"] == error


def test_a_stale_or_replayed_nonce_is_refused(client, session, issuing, badge, settings) -> None:
    holder = Holder("did:key", 4)
    access_token = _token(client, _offer(session, issuing, badge, settings)).json["access_token"]
    invented = _credential(
        client,
        access_token,
        {"credential_configuration_id": LDP, "proof": {"proof_type": "jwt", "jwt": holder.proof("made-up")}},
    )
    assert invented.status_code == 400 and invented.json["error"] == "invalid_nonce"
    nonce = _nonce(client)
    first = _credential(
        client,
        access_token,
        {"credential_configuration_id": LDP, "proof": {"proof_type": "jwt", "jwt": holder.proof(nonce)}},
    )
    assert first.status_code == 200
    replayed = _credential(
        client,
        access_token,
        {"credential_configuration_id": JWT, "proof": {"proof_type": "jwt", "jwt": holder.proof(nonce)}},
    )
    assert replayed.status_code == 400 and replayed.json["error"] == "invalid_nonce"
    no_nonce = _credential(
        client,
        access_token,
        {"credential_configuration_id": JWT, "proof": {"proof_type": "jwt", "jwt": holder.proof(None)}},
    )
    assert no_nonce.json["error"] == "invalid_nonce"


def test_an_expired_nonce_is_refused(client, session, issuing, badge, settings) -> None:
    holder = Holder("did:key", 5)
    access_token = _token(client, _offer(session, issuing, badge, settings)).json["access_token"]
    nonce = _nonce(client)
    for row in session.query(WalletNonce).all():
        row.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    answer = _credential(
        client,
        access_token,
        {"credential_configuration_id": LDP, "proof": {"proof_type": "jwt", "jwt": holder.proof(nonce)}},
    )
    assert answer.status_code == 400 and answer.json["error"] == "invalid_nonce"


@pytest.mark.parametrize("kind", ["did:key", "did:jwk"])
def test_a_proof_signed_by_another_key_is_refused(client, session, issuing, badge, settings, kind) -> None:
    holder, thief = Holder(kind, 8), Holder(kind, 9)
    access_token = _token(client, _offer(session, issuing, badge, settings)).json["access_token"]
    forged = holder.proof_signed_by(thief, _nonce(client))
    answer = _credential(
        client, access_token, {"credential_configuration_id": LDP, "proof": {"proof_type": "jwt", "jwt": forged}}
    )
    assert answer.status_code == 400 and answer.json["error"] == "invalid_proof"
    assert oid4vci_copies.copies_of(session, badge.id) == []


@pytest.mark.parametrize(
    "change",
    [{"aud": "https://elsewhere.example"}, {"typ": "JWT"}, {"iat": 1_000_000_000}],
    ids=["audience", "type", "old-iat"],
)
def test_a_proof_with_a_wrong_claim_is_refused(client, session, issuing, badge, settings, change) -> None:
    holder = Holder("did:key", 10)
    access_token = _token(client, _offer(session, issuing, badge, settings)).json["access_token"]
    proof = holder.proof(_nonce(client), **change)
    answer = _credential(
        client, access_token, {"credential_configuration_id": LDP, "proof": {"proof_type": "jwt", "jwt": proof}}
    )
    assert answer.status_code == 400 and answer.json["error"] == "invalid_proof"


def test_an_hmac_proof_is_refused(client, session, issuing, badge, settings) -> None:
    holder = Holder("did:key", 11)
    access_token = _token(client, _offer(session, issuing, badge, settings)).json["access_token"]
    proof = pyjwt.encode(
        {"aud": BASE, "iat": int(time.time()), "nonce": _nonce(client)},
        "secret-secret-secret-secret-32by",
        algorithm="HS256",
        headers={"typ": oid4vci_proofs.PROOF_TYPE, "kid": holder.kid},
    )
    answer = _credential(
        client, access_token, {"credential_configuration_id": LDP, "proof": {"proof_type": "jwt", "jwt": proof}}
    )
    assert answer.json["error"] == "invalid_proof"


def test_credential_request_errors(client, session, issuing, badge, settings) -> None:
    holder = Holder("did:key", 12)
    nobody = client.post("/api/oid4vci/credential", json={"credential_configuration_id": LDP})
    assert nobody.status_code == 401 and nobody.json["error"] == "invalid_token"
    assert 'error="invalid_token"' in nobody.headers["WWW-Authenticate"]
    access_token = _token(client, _offer(session, issuing, badge, settings)).json["access_token"]
    unknown = _credential(client, access_token, {"credential_configuration_id": "Diploma"})
    assert unknown.json["error"] == "unknown_credential_configuration"
    no_proof = _credential(client, access_token, {"credential_configuration_id": LDP})
    assert no_proof.json["error"] == "invalid_proof"
    not_json = client.post("/api/oid4vci/credential", data="x", headers={"Authorization": f"Bearer {access_token}"})
    assert not_json.status_code == 400 and not_json.json["error"] == "invalid_credential_request"
    # Nothing delivered, and a later good request still works.
    assert _ask(client, access_token, holder, LDP).status_code == 200


def test_a_badge_revoked_after_the_token_is_not_delivered(client, session, issuing, badge, settings) -> None:
    access_token = _token(client, _offer(session, issuing, badge, settings)).json["access_token"]
    revocation.suspend(session, issuing.grants(session), badge.id, "Contrôle", settings=settings)
    session.commit()
    answer = _ask(client, access_token, Holder("did:key", 13))
    assert answer.status_code == 400 and answer.json["error"] == "credential_request_denied"


def test_only_the_learner_makes_offers_and_never_for_a_revoked_badge(
    session, issuing, badge, settings, make_person
) -> None:
    stranger = make_person()
    with pytest.raises(NotFound):
        oid4vci.create_offer(
            session, access.load_grants(session, stranger.id), badge.id, with_tx_code=False, settings=settings
        )
    with pytest.raises(NotFound):  # the issuer's admin manages the award, but it is not theirs to carry
        oid4vci.create_offer(session, issuing.grants(session), badge.id, with_tx_code=False, settings=settings)
    revocation.revoke(session, issuing.grants(session), badge.id, "Fraude", settings=settings)
    session.commit()
    with pytest.raises(Conflict):
        oid4vci.create_offer(
            session, access.load_grants(session, issuing.learner.id), badge.id, with_tx_code=False, settings=settings
        )


def test_the_token_endpoint_is_throttled(app, client) -> None:
    app.extensions[views._LIMIT_KEY] = RateLimit(2, 2, name="oid4vci-throttle-test")
    statuses = [client.post("/api/oid4vci/token", data={}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


def test_an_offer_narrowed_to_one_format_delivers_only_that_one(client, session, issuing, badge, settings) -> None:
    made = oid4vci.create_offer(
        session,
        access.load_grants(session, issuing.learner.id),
        badge.id,
        with_tx_code=False,
        settings=settings,
        configurations=[JWT],
    )
    session.commit()
    assert made.credential_offer["credential_configuration_ids"] == [JWT]
    access_token = _token(client, made).json["access_token"]
    holder = Holder("did:key", 14)
    refused = _ask(client, access_token, holder, LDP)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_credential_request"
    assert _ask(client, access_token, holder, JWT).status_code == 200


def test_the_learner_asks_for_an_offer_through_the_api(client, session, issuing, badge, headers) -> None:
    learner = headers(issuing.learner)
    answer = client.post(f"/api/v1/me/badges/{badge.id}/wallet-offers", json={"txCode": True}, headers=learner)
    assert answer.status_code == 201, answer.json
    assert answer.json["offerUri"].startswith("openid-credential-offer://?credential_offer=")
    assert answer.json["qrSvg"].startswith("<svg") and len(answer.json["txCode"]) == 6
    assert answer.json["credentialOffer"]["grants"][PRE]["tx_code"]["length"] == 6
    bad = client.post(
        f"/api/v1/me/badges/{badge.id}/wallet-offers", json={"configurations": ["mso_mdoc"]}, headers=learner
    )
    assert bad.status_code == 422
    other = client.post(f"/api/v1/me/badges/{badge.id}/wallet-offers", json={}, headers=headers(issuing.admin))
    assert other.status_code == 404
