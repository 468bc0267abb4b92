"""Issuing: one award yields every signed form, each verifying against the service's own documents."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import badges
from app.models import AuditEvent, Credential, CredentialState, KeyPurpose, KeyStatus, SigningKey, StatusList
from app.platform.errors import Conflict, InvalidInput, PermissionDenied
from app.services.issuing import achievements, awarding, issuers, keys, revocation
from app.services.verification import public_docs
from tests.issuing_fixtures import KEKS, Setup, issuing_settings, verify_stored


def _award(session, setup: Setup, settings, learner=None, **data):  # type: ignore[no-untyped-def]
    credential = awarding.award(
        session,
        setup.grants(session),
        setup.achievement.id,
        {"learner_id": (learner or setup.learner).id, **data},
        settings=settings,
    )
    session.commit()
    return credential


def _count(session, model=Credential) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_one_award_yields_every_signed_form(session, issuing: Setup, settings) -> None:
    credential = _award(
        session,
        issuing,
        settings,
        evidence_url="https://example.fr/photo",
        narrative="Réunion du 3 mars.",
        result_level="acquis",
    )
    assert credential.state is CredentialState.ISSUED
    document = credential.ob3_credential
    assert document["id"] == f"https://blason.test/credentials/{credential.id}"
    subject = document["credentialSubject"]
    assert subject["id"].startswith("urn:uuid:")  # no DID: a stable id derived from issuer + learner
    assert subject["identifier"][0]["identityHash"] == badges.hash_identity(
        issuing.learner.email.lower(), credential.recipient_salt
    )
    assert subject["result"][0]["value"] == "acquis"
    assert len(subject["achievement"]["alignment"]) == 2
    assert subject["achievement"]["id"].endswith(f"/achievements/{issuing.achievement.id}/v/1")
    status = document["credentialStatus"]
    assert status["statusPurpose"] == "revocation" and int(status["statusListIndex"]) == credential.status_index
    assert {"id": "https://example.fr/photo", "type": ["Evidence"], "name": "Preuve"} in document["evidence"]
    assert credential.ob2_assertion["verification"] == {"type": "HostedBadge"}
    assert credential.ob2_assertion["id"] == f"https://blason.test/ob2/assertions/{credential.id}"
    reports = verify_stored(session, credential, settings.urls, forms=("ob3", "jwt", "ob2", "ob2-hosted"))
    for form, report in reports.items():
        assert report.valid, (form, report.to_json())
        assert report.check("issuer_key").outcome == "pass", form
        assert report.check("status").outcome == "pass", form
    # Nothing is recomputed on read: the documents are on the row.
    assert credential.ob3_jwt.count(".") == 2 and credential.ob2_jws.count(".") == 2


def test_learner_without_email_gets_every_form(session, issuing: Setup, settings, make_person) -> None:
    assisted = make_person(email=None, is_assisted=True, display_name="Marcel Sans-Courriel")
    credential = _award(session, issuing, settings, learner=assisted)
    subject = credential.ob3_credential["credentialSubject"]
    assert "identifier" not in subject and subject["id"].startswith("urn:uuid:")
    assert credential.ob2_assertion["recipient"]["type"] == "url"
    assert all(r.valid for r in verify_stored(session, credential, settings.urls).values())


def test_learner_with_did_is_the_subject(session, issuing: Setup, settings, make_person) -> None:
    learner = make_person(did="did:example:lea")
    credential = _award(session, issuing, settings, learner=learner)
    assert credential.ob3_credential["credentialSubject"]["id"] == "did:example:lea"
    jwt_payload = badges.jws.decode_jws(credential.ob3_jwt).payload
    assert jwt_payload["sub"] == "did:example:lea"


def test_awarding_twice_is_a_conflict_and_issues_nothing(session, issuing: Setup, settings) -> None:
    first = _award(session, issuing, settings)
    with pytest.raises(Conflict, match=str(first.id)):
        _award(session, issuing, settings)
    session.rollback()
    assert _count(session) == 1


def test_unknown_learner_is_invalid_and_issues_nothing(session, issuing: Setup, settings) -> None:
    with pytest.raises(InvalidInput) as caught:
        awarding.award(
            session, issuing.grants(session), issuing.achievement.id, {"learner_id": uuid.uuid4()}, settings=settings
        )
    assert caught.value.errors[0].pointer == "#/learnerId"
    with pytest.raises(InvalidInput):
        awarding.award(
            session, issuing.grants(session), issuing.achievement.id, {"email": "nobody@example.org"}, settings=settings
        )
    session.rollback()
    assert _count(session) == 0


def test_only_issuer_admins_award(session, issuing: Setup, settings, make_person) -> None:
    stranger = make_person()
    with pytest.raises(PermissionDenied):
        awarding.award(
            session,
            issuing.grants(session, stranger),
            issuing.achievement.id,
            {"learner_id": issuing.learner.id},
            settings=settings,
        )


def test_editing_after_the_first_award_makes_a_new_version(session, issuing: Setup, settings) -> None:
    grants = issuing.grants(session)
    achievements.update_achievement(
        session,
        grants,
        issuing.achievement.id,
        {"description": "Avant."},
        expected_version=issuing.achievement.lock_version,
        urls=settings.urls,
    )
    assert issuing.achievement.current_version == 1
    credential = _award(session, issuing, settings)
    achievements.update_achievement(
        session,
        grants,
        issuing.achievement.id,
        {"description": "Après."},
        expected_version=issuing.achievement.lock_version,
        urls=settings.urls,
    )
    session.commit()
    assert issuing.achievement.current_version == 2
    listed = achievements.list_versions(session, grants, issuing.achievement.id, urls=settings.urls)
    versions = listed.items
    assert [(v.version, v.description) for v in versions] == [(1, "Avant."), (2, "Après.")] and listed.total == 2
    assert len(versions[1].alignments) == 2  # alignments follow the new version
    assert credential.ob3_credential["credentialSubject"]["achievement"]["description"] == "Avant."
    # The learner may now receive version 2: a new version is a new achievement to award.
    second = _award(session, issuing, settings)
    assert second.ob3_credential["credentialSubject"]["achievement"]["id"].endswith("/v/2")


def test_revocation_changes_every_format_together(session, issuing: Setup, settings) -> None:
    credential = _award(session, issuing, settings)
    revocation.revoke(session, issuing.grants(session), credential.id, "Fraude constatée", settings=settings)
    session.commit()
    status_list = session.get(StatusList, credential.status_list_id)
    bits = badges.StatusList.decode(status_list.signed_credential["credentialSubject"]["encodedList"])
    assert bits.get(credential.status_index)
    reports = verify_stored(session, credential, settings.urls, forms=("ob3", "jwt", "ob2", "ob2-hosted"))
    for form, report in reports.items():
        assert not report.valid and report.check("status").outcome == "fail", form
    assert public_docs.ob2_assertion_document(credential) == (
        410,
        {
            "@context": "https://w3id.org/openbadges/v2",
            "id": credential.ob2_assertion["id"],
            "type": "Assertion",
            "revoked": True,
            "revocationReason": "Révoqué : Fraude constatée",
        },
    )
    listing = public_docs.resolve(session, settings.urls, settings.urls.ob2_revocations(issuing.issuer.id))[1]
    assert {e["id"] for e in listing["revokedAssertions"]} == {
        credential.ob2_assertion["id"],
        f"urn:uuid:{credential.id}",
    }
    status = public_docs.credential_status(credential, [], settings.clock())
    assert status.revoked and status.reason == "Fraude constatée" and not status.valid
    with pytest.raises(Conflict, match="already revoked"):
        revocation.revoke(session, issuing.grants(session), credential.id, "Encore", settings=settings)
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == str(credential.id))))
    assert {"credential.issued", "credential.revoked"} <= actions


def test_suspension_and_unsuspension(session, issuing: Setup, settings) -> None:
    credential = _award(session, issuing, settings)
    grants = issuing.grants(session)
    revocation.suspend(session, grants, credential.id, "Vérification en cours", settings=settings)
    session.commit()
    suspension = session.get(StatusList, credential.suspension_list_id)
    assert suspension.purpose.value == "suspension"
    assert badges.StatusList.decode(suspension.signed_credential["credentialSubject"]["encodedList"]).get(
        credential.status_index
    )
    # The suspension list is itself a verifiable credential of the issuer.
    resolvers = public_docs.local_resolvers(session, settings.urls)
    assert badges.verify(suspension.signed_credential, resolvers=resolvers).valid
    assert public_docs.ob2_assertion_document(credential)[0] == 410
    assert not verify_stored(session, credential, settings.urls, forms=("ob2",))["ob2"].valid
    assert public_docs.credential_status(credential, [], settings.clock()).suspended
    with pytest.raises(Conflict):
        revocation.suspend(session, grants, credential.id, "Encore", settings=settings)
    revocation.unsuspend(session, grants, credential.id, None, settings=settings)
    session.commit()
    assert credential.state is CredentialState.ISSUED
    assert public_docs.ob2_assertion_document(credential)[0] == 200
    assert all(r.valid for r in verify_stored(session, credential, settings.urls).values())
    with pytest.raises(Conflict):
        revocation.unsuspend(session, grants, credential.id, None, settings=settings)
    # Revoking a suspended credential clears its suspension bit: revoked says it all.
    revocation.suspend(session, grants, credential.id, "Encore", settings=settings)
    revocation.revoke(session, grants, credential.id, "Définitif", settings=settings)
    assert not badges.StatusList(bits=bytearray(suspension.bits)).get(credential.status_index)


def test_rotation_keeps_old_credentials_verifying(session, issuing: Setup, settings) -> None:
    old = _award(session, issuing, settings)
    created = issuers.rotate_keys(session, issuing.grants(session), issuing.issuer.id, None, settings=settings)
    session.commit()
    assert {k.purpose for k in created} == set(KeyPurpose)
    statuses = {k.kid: k.status for k in keys.issuer_keys(session, issuing.issuer.id)}
    assert list(statuses.values()).count(KeyStatus.RETIRED) == 3
    achievements.update_achievement(
        session,
        issuing.grants(session),
        issuing.achievement.id,
        {"name": "Animer une réunion (v2)"},
        expected_version=issuing.achievement.lock_version,
        urls=settings.urls,
    )
    new = _award(session, issuing, settings)
    assert set(new.signing_key_ids) == {str(k.id) for k in created}
    assert not set(old.signing_key_ids) & set(new.signing_key_ids)
    for credential in (old, new):
        assert all(r.valid for r in verify_stored(session, credential, settings.urls).values())
    document = public_docs.resolve(session, settings.urls, settings.urls.issuer(issuing.issuer.id))[1]
    assert len(document["verificationMethod"]) == 2 and len(document["assertionMethod"]) == 2


def test_compromised_key_is_flagged_on_what_it_signed(session, issuing: Setup, settings) -> None:
    credential = _award(session, issuing, settings)
    di_key = session.scalar(
        select(SigningKey).where(
            SigningKey.issuer_id == issuing.issuer.id, SigningKey.purpose == KeyPurpose.DATA_INTEGRITY
        )
    )
    issuers.compromise_key(
        session, issuing.grants(session), issuing.issuer.id, di_key.id, "Fuite du serveur", settings=settings
    )
    session.commit()
    all_keys = keys.issuer_keys(session, issuing.issuer.id)
    status = public_docs.credential_status(credential, all_keys, settings.clock())
    assert status.key_compromised and status.compromised_kids == (di_key.kid,) and not status.valid
    controller = public_docs.controller_document(issuing.issuer, all_keys, settings.urls)
    flagged = [m for m in controller["verificationMethod"] if "revoked" in m]
    assert len(flagged) == 1 and flagged[0]["id"] not in controller["assertionMethod"]
    # The status lists were re-signed with the replacement key and still verify.
    report = verify_stored(session, credential, settings.urls, forms=("jwt",))["jwt"]
    assert report.valid and report.check("status").outcome == "pass"
    with pytest.raises(Conflict):
        issuers.compromise_key(
            session, issuing.grants(session), issuing.issuer.id, di_key.id, "Encore", settings=settings
        )


def test_key_encryption_keys_rotate(session, issuing: Setup) -> None:
    row = session.scalar(select(SigningKey).where(SigningKey.issuer_id == issuing.issuer.id))
    assert row.kek_id == "test1" and b"PRIVATE" not in row.encrypted_private_key
    new_keks = [("test2", b"n" * 32), *KEKS]
    keys.decrypt_private_key(row, new_keks)  # any listed KEK decrypts
    assert keys.rewrap_keys(session, new_keks) >= 3
    assert row.kek_id == "test2"
    keys.decrypt_private_key(row, [("test2", b"n" * 32)])
    with pytest.raises(keys.KeyUnavailable):
        keys.decrypt_private_key(row, KEKS)
    session.rollback()


def test_missing_kek_refuses_to_sign_and_issues_nothing(session, issuing: Setup) -> None:
    wrong = issuing_settings(keks=[("other", b"o" * 32)])
    with pytest.raises(Conflict, match="cannot be used"):
        awarding.award(
            session, issuing.grants(session), issuing.achievement.id, {"learner_id": issuing.learner.id}, settings=wrong
        )
    session.rollback()
    assert _count(session) == 0


def test_validity_period_sets_valid_until(session, issuing: Setup, settings) -> None:
    achievements.update_achievement(
        session,
        issuing.grants(session),
        issuing.achievement.id,
        {"valid_for_days": 365},
        expected_version=issuing.achievement.lock_version,
        urls=settings.urls,
    )
    credential = _award(session, issuing, settings)
    assert credential.valid_until - credential.valid_from == timedelta(days=365)
    assert "validUntil" in credential.ob3_credential and "expires" in credential.ob2_assertion
    later = settings.clock() + timedelta(days=400)
    report = verify_stored(session, credential, settings.urls, now=later, forms=("ob3",))["ob3"]
    assert report.check("validity").outcome == "fail"


def test_tampered_and_truncated_credentials_fail_verification(session, issuing: Setup, settings) -> None:
    credential = _award(session, issuing, settings)
    resolvers = public_docs.local_resolvers(session, settings.urls)
    tampered = {**credential.ob3_credential, "name": "Autre badge"}
    assert badges.verify(tampered, resolvers=resolvers).check("proof").outcome == "fail"
    truncated = credential.ob3_jwt[: len(credential.ob3_jwt) // 2]
    assert not badges.verify(truncated, resolvers=resolvers).valid
    assert not badges.verify(b"\x89PNG\r\n\x1a\nnot really", resolvers=resolvers).valid
    private = badges.Resolvers.from_fetcher(badges.GuardedFetcher())
    assert not badges.verify("http://127.0.0.1/ob2/assertions/x", resolvers=private).valid
    assert not badges.verify("http://169.254.169.254/latest", resolvers=private).valid


def test_public_documents_resolve(session, issuing: Setup, settings) -> None:
    credential = _award(session, issuing, settings)
    urls = settings.urls
    version = achievements.current_version(session, issuing.achievement)
    all_keys = keys.issuer_keys(session, issuing.issuer.id)
    jwt_key = next(k for k in all_keys if k.purpose is KeyPurpose.VC_JWT)
    di_key = next(k for k in all_keys if k.purpose is KeyPurpose.DATA_INTEGRITY)
    rsa_key = next(k for k in all_keys if k.purpose is KeyPurpose.OB2)
    got = {
        url: public_docs.resolve(session, urls, url)
        for url in (
            urls.issuer(issuing.issuer.id),
            urls.key(issuing.issuer.id, jwt_key.kid),
            urls.key(issuing.issuer.id, di_key.kid),
            urls.achievement(issuing.achievement.id, 1),
            urls.credential(credential.id),
            urls.status_list(credential.status_list_id),
            urls.ob2_issuer(issuing.issuer.id),
            urls.ob2_badgeclass(version.id),
            urls.ob2_key(rsa_key.kid),
            urls.ob2_revocations(issuing.issuer.id),
            urls.ob2_assertion(credential.id),
        )
    }
    assert all(answer is not None and answer[0] == 200 for answer in got.values()), got
    jwk = got[urls.key(issuing.issuer.id, jwt_key.kid)][1]
    assert jwk["kty"] == "EC" and "d" not in jwk and jwk["kid"] == urls.key(issuing.issuer.id, jwt_key.kid)
    assert got[urls.key(issuing.issuer.id, di_key.kid)][1]["type"] == "Multikey"
    assert got[urls.achievement(issuing.achievement.id, 1)][1]["name"] == version.name
    assert got[urls.ob2_key(rsa_key.kid)][1]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY")
    assert public_docs.resolve(session, urls, "https://elsewhere.example/issuers/x") is None
    assert public_docs.resolve(session, urls, urls.issuer(uuid.uuid4())) is None
    assert public_docs.resolve(session, urls, f"{urls.base}/issuers/not-a-uuid") is None


def test_recipient_name_follows_the_learners_choice(session, issuing: Setup, settings) -> None:
    credential = _award(session, issuing, settings)
    assert public_docs.public_recipient_name(credential, issuing.learner) is None
    credential.show_name = True
    assert public_docs.public_recipient_name(credential, issuing.learner) == "Léa Apprenante"
