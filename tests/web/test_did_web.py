"""Published keys and identifiers (issue 15): the JWK Set, the did:web document, an issuer's
did:web choice for new credentials, and strict (safe mode) JSON-LD for every served document."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import badges
from app.models import Issuer, IssuerIdentifier, KeyPurpose, SigningKey
from app.services.issuing import issuers
from app.services.verification import public_docs
from badges.canon import expand_strict
from tests.issuing_fixtures import BASE, verify_stored
from tests.public_fixtures import HTML

API = "/api/v1"


def _http_resolvers(client: Any) -> badges.Resolvers:
    """Resolve https://blason.test/... through the public routes (what a remote verifier sees)."""

    def fetch(url: str) -> Any:
        if not url.startswith(BASE + "/"):
            raise badges.ResolutionError(f"not fetched in tests: {url}")
        answer = client.get(url.split("#", 1)[0].removeprefix(BASE), headers={"Accept": "application/json"})
        if answer.status_code == 410:
            raise badges.ResolutionError(f"{url} is gone", gone=True, document=answer.get_json())
        if answer.status_code != 200:
            raise badges.ResolutionError(f"{url} answered {answer.status_code}")
        return answer.get_json()

    return badges.Resolvers(document=fetch)


def _method(document: dict[str, Any]) -> str:
    proof = document["proof"]
    return str((proof[0] if isinstance(proof, list) else proof)["verificationMethod"])


def _choose(client: Any, headers: Any, setup: Any, identifier: str) -> Any:
    h = headers(setup.admin)
    etag = client.get(f"{API}/issuers/{setup.issuer.id}", headers=h).headers["ETag"]
    return client.patch(
        f"{API}/issuers/{setup.issuer.id}", json={"identifier": identifier}, headers={**h, "If-Match": etag}
    )


@pytest.fixture()
def did_setup(client, session, issuing, headers):  # type: ignore[no-untyped-def]
    r = _choose(client, headers, issuing, "did:web")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["identifier"] == "did:web"
    return issuing


def test_did_web_mapping() -> None:
    assert badges.did_web.did_from_url("https://blason.test/issuers/1") == "did:web:blason.test:issuers:1"
    assert (
        badges.did_web.did_from_url("https://H.example:8443/app/issuers/1") == "did:web:h.example%3A8443:app:issuers:1"
    )
    assert badges.did_web.url_from_did("did:web:h.example%3A8443:app:issuers:1#z6Mk") == (
        "https://h.example:8443/app/issuers/1/did.json"
    )
    assert badges.did_web.url_from_did("did:web:example.com") == "https://example.com/.well-known/did.json"
    for bad in ("did:web:", "did:web:a/b:c", "did:web:exa mple.com", "did:key:z6Mk", "did:web:user@host:x"):
        with pytest.raises(badges.InvalidInput):
            badges.did_web.url_from_did(bad)
    same = badges.did_web.same_identity
    assert same("did:web:blason.test:issuers:1", "https://blason.test/issuers/1")
    assert not same("did:web:blason.test:issuers:1", "https://blason.test/issuers/2")
    assert not same("did:web:blason.test:issuers:1", "https://other.test/issuers/1")
    assert not same("did:web:blason.test:issuers:1", "http://blason.test/issuers/1")


def test_jwks_lists_every_key_with_its_state(client, session, issuing, settings) -> None:  # type: ignore[no-untyped-def]
    issuer = issuing.issuer
    r = client.get(f"/issuers/{issuer.id}/jwks.json")
    assert r.status_code == 200 and r.mimetype == "application/jwk-set+json"
    assert r.headers["Cache-Control"] == "public, max-age=60" and r.headers["ETag"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    keys = r.get_json()["keys"]
    assert sorted(k["kty"] for k in keys) == ["EC", "OKP", "RSA"]
    assert {k["alg"] for k in keys} == {"EdDSA", "ES256", "RS256"}
    for key in keys:
        assert key["use"] == "sig" and key["status"] == "active" and "d" not in key and "p" not in key
        assert key["kid"].startswith(f"{BASE}/issuers/{issuer.id}/keys/")
        assert client.get(key["kid"].removeprefix(BASE)).status_code == 200  # each kid resolves
    assert (
        client.get(f"/issuers/{issuer.id}/jwks.json", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    )

    jwt_key = session.scalar(
        select(SigningKey).where(SigningKey.issuer_id == issuer.id, SigningKey.purpose == KeyPurpose.VC_JWT)
    )
    issuers.compromise_key(session, issuing.grants(session), issuer.id, jwt_key.id, "Fuite", settings=settings)
    session.commit()
    keys = client.get(f"/issuers/{issuer.id}/jwks.json").get_json()["keys"]
    listed = {k["kid"].rsplit("/", 1)[1]: k for k in keys}
    compromised = listed[jwt_key.kid]
    assert compromised["status"] == "compromised" and compromised["key_ops"] == [] and "use" not in compromised
    assert compromised["revoked"].startswith("20")
    assert sum(k["status"] == "active" for k in keys) == 3  # a replacement was made active
    assert client.get("/issuers/00000000-0000-0000-0000-000000000000/jwks.json").status_code == 404


def test_did_document(client, session, issuing) -> None:  # type: ignore[no-untyped-def]
    issuer = issuing.issuer
    did = f"did:web:blason.test:issuers:{issuer.id}"
    r = client.get(f"/issuers/{issuer.id}/did.json")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=60"
    document = r.get_json()
    assert document["id"] == did and document["alsoKnownAs"] == [f"{BASE}/issuers/{issuer.id}"]
    assert document["@context"][:2] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    kinds = {m["type"]: m for m in document["verificationMethod"]}
    assert set(kinds) == {"Multikey", "JsonWebKey2020"}
    assert kinds["Multikey"]["id"] == f"{did}#{kinds['Multikey']['publicKeyMultibase']}"
    assert kinds["JsonWebKey2020"]["publicKeyJwk"]["kty"] == "EC" and "d" not in kinds["JsonWebKey2020"]["publicKeyJwk"]
    assert all(m["controller"] == did for m in document["verificationMethod"])
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    assert badges.did_web.resolve(did, _http_resolvers(client)) == document
    ld = client.get(f"/issuers/{issuer.id}/did.json", headers={"Accept": "application/did+ld+json"})
    assert ld.mimetype == "application/did+ld+json"
    assert client.get("/issuers/00000000-0000-0000-0000-000000000000/did.json").status_code == 404
    assert client.get("/issuers/not-a-uuid/did.json").status_code == 404


def test_a_did_web_credential_verifies_locally_and_over_http(  # type: ignore[no-untyped-def]
    client, session, did_setup, award, settings
) -> None:
    credential = award()
    did = f"did:web:blason.test:issuers:{did_setup.issuer.id}"
    ob3 = credential.ob3_credential
    assert ob3["issuer"]["id"] == did and _method(ob3).startswith(did + "#z6Mk")
    header = badges.jws.decode_jws(credential.ob3_jwt)
    assert header.header["kid"].startswith(did + "#") and header.payload["iss"] == did
    assert credential.ob2_assertion["badge"].startswith(BASE + "/ob2/")  # OB 2.0 stays on https
    reports = verify_stored(session, credential, settings.urls)
    assert all(r.valid for r in reports.values()), {k: r.to_json() for k, r in reports.items()}
    remote = _http_resolvers(client)
    for form in (credential.ob3_credential, credential.ob3_jwt):
        report = badges.verify(form, resolvers=remote)
        assert report.valid, report.to_json()
        assert report.check("issuer_key").outcome == "pass" and report.check("status").outcome == "pass"
    page = client.get(f"/credentials/{credential.id}", headers=HTML)
    assert "Badge authentique" in page.get_data(as_text=True)


def test_credentials_issued_before_the_choice_keep_their_id(  # type: ignore[no-untyped-def]
    client, session, issuing, award, headers, make_person
) -> None:
    before = award()
    assert _choose(client, headers, issuing, "did:web").status_code == 200
    session.expire_all()
    assert session.get(Issuer, issuing.issuer.id).identifier is IssuerIdentifier.DID_WEB
    assert before.ob3_credential["issuer"]["id"] == f"{BASE}/issuers/{issuing.issuer.id}"
    for form in (before.ob3_credential, before.ob3_jwt):
        assert badges.verify(form, resolvers=_http_resolvers(client)).valid
    assert _choose(client, headers, issuing, "https").status_code == 200
    assert award(learner=make_person(display_name="Noé")).ob3_credential["issuer"]["id"].startswith("https://")


def test_a_compromised_key_stays_published_and_what_it_signed_is_refused(  # type: ignore[no-untyped-def]
    client, session, did_setup, award, settings, make_person
) -> None:
    credential = award()
    issuer = did_setup.issuer
    remote = _http_resolvers(client)
    assert badges.verify(credential.ob3_credential, resolvers=remote).valid
    rows = {
        k.purpose: k
        for k in session.scalars(select(SigningKey).where(SigningKey.issuer_id == issuer.id))
        if k.purpose in (KeyPurpose.DATA_INTEGRITY, KeyPurpose.VC_JWT)
    }
    for row in rows.values():
        issuers.compromise_key(session, did_setup.grants(session), issuer.id, row.id, "Fuite", settings=settings)
    session.commit()
    document = client.get(f"/issuers/{issuer.id}/did.json").get_json()
    method = _method(credential.ob3_credential)
    listed = {m["id"]: m for m in document["verificationMethod"]}
    assert listed[method]["revoked"] and method not in document["assertionMethod"]
    kid = badges.jws.decode_jws(credential.ob3_jwt).header["kid"]
    assert listed[kid]["revoked"] and kid not in document["assertionMethod"]
    for form in (credential.ob3_credential, credential.ob3_jwt):
        report = badges.verify(form, resolvers=remote)
        assert not report.valid and report.check("proof").outcome == "fail"
        assert "revoked" in report.check("proof").reason_en
    fresh = award(learner=make_person(display_name="Noé"))  # signed with the replacement keys
    assert badges.verify(fresh.ob3_credential, resolvers=remote).valid
    assert badges.verify(fresh.ob3_jwt, resolvers=remote).valid


def test_a_did_web_issuer_of_another_host_is_not_ours(client, session, did_setup, award) -> None:  # type: ignore[no-untyped-def]
    credential = award()
    forged = {**credential.ob3_credential}
    forged["issuer"] = {**forged["issuer"], "id": "did:web:evil.example:issuers:x"}
    report = badges.verify(forged, resolvers=_http_resolvers(client))
    assert not report.valid


def test_the_identifier_through_the_api(client, issuing, headers) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"{API}/issuers/{issuing.issuer.id}", headers=headers(issuing.admin))
    assert r.get_json()["identifier"] == "https"
    bad = _choose(client, headers, issuing, "did:key")
    assert bad.status_code == 422 and "identifier" in bad.get_data(as_text=True)
    spec = client.get(f"{API}/openapi.json").get_json()
    update = spec["components"]["schemas"]["IssuerUpdate"]["properties"]["identifier"]
    assert update["enum"] == ["https", "did:web"] and "did:web" in update["description"]


def test_every_served_json_ld_document_expands_in_safe_mode(  # type: ignore[no-untyped-def]
    client, session, did_setup, award, headers
) -> None:
    credential = award()
    issuer_id, achievement_id = did_setup.issuer.id, did_setup.achievement.id
    ob2 = credential.ob2_assertion
    badgeclass = client.get(ob2["badge"].removeprefix(BASE)).get_json()
    signed = badges.jws.decode_jws(credential.ob2_jws).payload
    key = client.get(f"/issuers/{issuer_id}/jwks.json").get_json()["keys"][0]["kid"]
    multikey = _method(credential.ob3_credential).split("#", 1)[1]
    paths = {
        "issuer id (controller document and profile)": f"/issuers/{issuer_id}",
        "DID document": f"/issuers/{issuer_id}/did.json",
        "Multikey document": f"/issuers/{issuer_id}/keys/{_di_kid(session, issuer_id, multikey)}",
        "achievement": f"/achievements/{achievement_id}/v/1",
        "credential": f"/credentials/{credential.id}",
        "status list": f"/status/{credential.status_list_id}",
        "suspension list": f"/status/{credential.suspension_list_id}",
        "OB 2.0 assertion": f"/ob2/assertions/{credential.id}",
        "OB 2.0 badge class": ob2["badge"].removeprefix(BASE),
        "OB 2.0 issuer": badgeclass["issuer"].removeprefix(BASE),
        "OB 2.0 key": signed["verification"]["creator"].removeprefix(BASE),
        "OB 2.0 revocation list": f"/ob2/issuers/{issuer_id}/revocations",
        "platform": f"{API}/platform",
    }
    documents = {name: client.get(path, headers={"Accept": "application/ld+json"}) for name, path in paths.items()}
    documents["OB 3.0 profile (embedded)"] = credential.ob3_credential["issuer"]
    assert client.get(key.removeprefix(BASE)).status_code == 200  # bare JWKs are not JSON-LD: no @context
    r = client.post(
        f"{API}/credentials/{credential.id}/revoke", json={"reason": "Erreur"}, headers=headers(did_setup.admin)
    )
    assert r.status_code == 200, r.get_json()
    documents["OB 2.0 revoked assertion (410)"] = client.get(f"/ob2/assertions/{credential.id}")
    documents["OB 2.0 revocation list, one revoked"] = client.get(f"/ob2/issuers/{issuer_id}/revocations")
    for name, answer in documents.items():
        document = answer if isinstance(answer, dict) else answer.get_json()
        if name == "OB 3.0 profile (embedded)":
            document = {"@context": credential.ob3_credential["@context"], **document}
        assert "@context" in document, name
        try:
            expand_strict(document)
        except badges.BadgeError as exc:
            pytest.fail(f"{name}: {exc}")


def _di_kid(session: Any, issuer_id: Any, multibase: str) -> str:
    return session.scalar(
        select(SigningKey.kid).where(SigningKey.issuer_id == issuer_id, SigningKey.public_key_multibase == multibase)
    )


def test_safe_mode_catches_an_undefined_term() -> None:
    document = public_docs.DID_CONTEXT
    with pytest.raises(badges.UndefinedTermError):
        expand_strict({"@context": list(document), "id": "did:web:x.example", "nickname": "x"})
    with pytest.raises(badges.UndefinedTermError):
        expand_strict({"@context": ["https://www.w3.org/ns/did/v1"], "id": "did:web:x.example", "type": "Profile"})
