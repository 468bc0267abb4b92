"""OpenID4VCI wallet copies (issue 15) beyond the protocol: signed under the identifier the original
carries (https or did:web, through ``signing_ids``), listed for the issuer's administrators (API
``walletCopies``, the *Badges émis* page) and the learner, hidden from everyone else; and the sweep
that deletes expired offers, access tokens and nonces (bounded per call, and the worker's job)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

import badges
from app.db import utcnow
from app.models import IssuerIdentifier, WalletAccessToken, WalletNonce, WalletOffer
from app.platform.urls import Urls
from app.services.identity import access
from app.services.issuing import awarding, oid4vci, oid4vci_copies
from app.services.verification import public_docs
from app.worker import sweep_wallet_secrets
from tests.issuing_fixtures import BASE, Setup
from tests.web.page_support import sign_in_as

API = "/api/v1"
DID_KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
DID_JWK = "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYkl0ZXN0In0"


def _copies(session, issuing: Setup, settings, holders=((DID_KEY, "ldp_vc"), (DID_JWK, "jwt_vc_json"))):  # type: ignore[no-untyped-def]
    """A badge of the learner and, through one offer, its wallet copies for these holders."""
    badge = awarding.award(
        session, issuing.grants(session), issuing.achievement.id, {"learner_id": issuing.learner.id}, settings=settings
    )
    made = oid4vci.create_offer(
        session, access.load_grants(session, issuing.learner.id), badge.id, with_tx_code=False, settings=settings
    )
    for did, fmt in holders:
        oid4vci_copies.sign_copy(session, badge, made.offer, did, fmt, settings=settings)
    session.commit()
    return badge


def test_a_did_web_issuers_copies_are_signed_under_its_did_and_verify(session, issuing, settings) -> None:
    issuing.issuer.identifier = IssuerIdentifier.DID_WEB
    session.commit()
    badge = _copies(session, issuing, settings)
    did = f"did:web:blason.test:issuers:{issuing.issuer.id}"
    assert badge.ob3_credential["issuer"]["id"] == did
    ldp, jwt = oid4vci_copies.copies_of(session, badge.id)
    assert ldp.document is not None and jwt.jwt is not None
    assert ldp.document["proof"][0]["verificationMethod"].startswith(did + "#z")
    assert badges.jws.decode_jws(jwt.jwt).header["kid"].startswith(did + "#")
    resolvers = public_docs.local_resolvers(session, Urls(BASE))
    for delivered in (ldp.document, jwt.jwt):
        report = badges.verify(delivered, resolvers=resolvers)
        assert report.valid, report.to_json()


def test_the_issuer_api_lists_the_wallet_copies(client, session, issuing, settings, headers, make_issuer) -> None:
    badge = _copies(session, issuing, settings)
    admin = headers(issuing.admin)
    listed = client.get(f"{API}/credentials", query_string={"issuerId": str(issuing.issuer.id)}, headers=admin)
    assert listed.status_code == 200, listed.json
    (item,) = [i for i in listed.json["items"] if i["id"] == str(badge.id)]
    assert [(c["format"], c["holderDid"]) for c in item["walletCopies"]] == [
        ("ldp_vc", DID_KEY),
        ("jwt_vc_json", DID_JWK),
    ]
    detail = client.get(f"{API}/credentials/{badge.id}", headers=admin).json
    assert [c["holderDid"] for c in detail["walletCopies"]] == [DID_KEY, DID_JWK]
    assert set(detail["walletCopies"][0]) == {"id", "format", "holderDid", "createdAt"}
    mine = client.get(f"{API}/credentials/{badge.id}", headers=headers(issuing.learner)).json
    assert len(mine["walletCopies"]) == 2
    # An administrator of another issuer sees neither the credential nor its copies.
    _other, stranger = make_issuer(name="Autre émetteur")
    grants = access.load_grants(session, stranger.id)
    outsider = access.Grants(grants.actor, issuer_admin_of=frozenset({_other.id}))
    assert oid4vci_copies.copies_by_credential(session, outsider, [badge.id]) == {}
    assert oid4vci_copies.copies_by_credential(session, issuing.grants(session), [badge.id])[badge.id]


def test_the_issued_badges_page_shows_the_copies(app, client, session, issuing, settings) -> None:
    _copies(session, issuing, settings)
    sign_in_as(client, app, issuing.admin)
    html = client.get(f"/emetteur/{issuing.issuer.id}/badges-emis").get_data(as_text=True)
    assert "2 copies dans des portefeuilles" in html
    assert "copie signée (JSON-LD)" in html and "copie signée (JWT)" in html
    assert "did:key:z6MkhaXgBZDv…ta2doK" in html and DID_JWK not in html  # shortened


def test_the_learner_sees_one_copy(app, client, session, issuing, settings) -> None:
    badge = _copies(session, issuing, settings, holders=((DID_KEY, "ldp_vc"),))
    sign_in_as(client, app, issuing.learner)
    html = client.get(f"/mes-badges/{badge.id}").get_data(as_text=True)
    assert "Déjà dans un portefeuille" in html and "did:key:z6MkhaXgBZDv…ta2doK" in html


def _offer_row(session, badge_id, *, expired_for: timedelta) -> WalletOffer:  # type: ignore[no-untyped-def]
    now = utcnow()
    row = WalletOffer(
        id=uuid.uuid4(),
        credential_id=badge_id,
        code_hash=uuid.uuid4().hex,
        configuration_ids=list(oid4vci.CONFIGURATIONS),
        created_at=now - expired_for - oid4vci.OFFER_TTL,
        expires_at=now - expired_for,
        attempts=0,
    )
    session.add(row)
    return row


@pytest.mark.parametrize("how", ["on-call", "worker"])
def test_expired_offers_tokens_and_nonces_are_deleted(app, client, session, issuing, settings, how) -> None:
    badge = _copies(session, issuing, settings, holders=())
    long_ago, just_now = timedelta(hours=1), timedelta(seconds=30)
    old, recent = (
        _offer_row(session, badge.id, expired_for=long_ago),
        _offer_row(session, badge.id, expired_for=just_now),
    )
    delivered = _offer_row(session, badge.id, expired_for=long_ago)
    session.flush()
    oid4vci_copies.sign_copy(session, badge, delivered, DID_KEY, "ldp_vc", settings=settings)
    now = utcnow()
    stale_token = WalletAccessToken(
        id=uuid.uuid4(), offer_id=recent.id, token_hash=uuid.uuid4().hex, created_at=now, expires_at=now - just_now
    )
    stale_nonce = WalletNonce(
        id=uuid.uuid4(), nonce_hash=uuid.uuid4().hex, created_at=now, expires_at=now - timedelta(seconds=1)
    )
    session.add_all([stale_token, stale_nonce])
    session.commit()
    ids = (old.id, recent.id, delivered.id, stale_token.id, stale_nonce.id)
    if how == "worker":
        assert sweep_wallet_secrets(app) == 3
    else:
        assert client.post("/api/oid4vci/nonce").status_code == 200  # sweeps on the way
    session.expire_all()
    old_, recent_, delivered_, token_, nonce_ = (
        session.get(kind, i)
        for kind, i in zip((WalletOffer, WalletOffer, WalletOffer, WalletAccessToken, WalletNonce), ids, strict=True)
    )
    assert old_ is None and token_ is None and nonce_ is None
    assert recent_ is not None  # expired, but a token of it could still be alive a moment ago
    assert delivered_ is not None  # its copy names it
    assert session.query(WalletNonce).filter(WalletNonce.expires_at > utcnow()).count() == (
        1 if how == "on-call" else 0
    )


def test_the_sweep_on_a_call_is_bounded(session, issuing, settings) -> None:
    badge = _copies(session, issuing, settings, holders=())
    for _ in range(3):
        _offer_row(session, badge.id, expired_for=timedelta(hours=1))
    session.commit()
    assert oid4vci.sweep(session, now=utcnow(), limit=2) == 2
    assert oid4vci.sweep(session, now=utcnow(), limit=2) == 1
    assert oid4vci.sweep(session, now=utcnow(), limit=2) == 0
