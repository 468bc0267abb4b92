"""Issue 11, cross-territory leaks: a learner of two territories, seen from each of them.

Léa learns in a project of T1 and in one of T2. Théo tutors her T1 project, Bruno her T2 one.
Reviews, standings, claims, contributions and evidence of T2 never reach T1's tutor, T1's
coordinator or T1's issuer; an issuer answers a person it may not award exactly as an unknown one.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from app.models import (
    Competency,
    Contribution,
    ContributionStatus,
    Credential,
    Evidence,
    EvidenceKind,
    Facilitation,
    Person,
    Project,
    Territory,
    Visibility,
)
from tests.api.support import assert_problem

API = "/api/v1"
T2_SECRETS = (
    "Avis confidentiel de T2",
    "Recyclerie de T2",
    "Projet secret de T2",
    "Preuve publique de T2",
    "Bruno Tuteur-T2",
)


@dataclass
class Two:
    learner: Person
    tutor1: Person
    tutor2: Person
    coordinator1: Person
    admin: Person
    territory1: Territory
    territory2: Territory
    project1: Project
    project2: Project
    competency: Competency  # validated in both territories: maitrise in T2, en_cours in T1
    only_t2: Competency  # validated in T2 only
    t1_work: Contribution  # validated in T1
    t2_work: Contribution
    t2_evidence: Evidence
    pending: dict[str, Any]  # Léa's pending T1 claim on ``competency``, in Théo's queue
    t1_review: dict[str, Any]
    t2_claim: dict[str, Any]


def _decide(
    client,
    headers,
    learner: Person,
    tutor: Person,
    contribution: Contribution,  # type: ignore[no-untyped-def]
    competency: Competency,
    level: str,
    comment: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    r = client.post(
        f"{API}/claims",
        headers=headers(learner),
        json={
            "contributionId": str(contribution.id),
            "competencyId": str(competency.id),
            "justification": "Je l'ai fait.",
            "selfAssessment": "acquis",
        },
    )
    assert r.status_code == 201, r.json
    claim = r.json
    r = client.post(
        f"{API}/claims/{claim['id']}/reviews",
        headers={**headers(tutor), "If-Match": '"1"'},
        json={"decision": "validated", "level": level, "comment": comment},
    )
    assert r.status_code == 201, r.json
    return claim, r.json


@pytest.fixture()
def two(
    client,
    session,
    headers,
    world,
    make_person,
    make_project,
    grant,
    make_contribution,  # type: ignore[no-untyped-def]
    make_competency,
) -> Two:
    learner, tutor1 = world.learner, world.tutor
    project2 = make_project(title="Projet secret de T2")  # in a territory of its own
    tutor2 = make_person(display_name="Bruno Tuteur-T2")
    grant(tutor2, "tutor", project2)
    grant(learner, "learner", project2)
    coordinator1 = make_person(display_name="Coralie Coordinatrice")
    grant(coordinator1, "coordinator", world.territory)
    admin = make_person(display_name="Ada Admin")
    grant(admin, "platform_admin")
    only_t2 = make_competency(world.framework, world.bloc, code="C1.2", label="Tenir une recyclerie")
    session.commit()

    t2_work = make_contribution(learner, project2, title="Recyclerie de T2", status=ContributionStatus.SUBMITTED)
    t2_evidence = Evidence(
        contribution_id=t2_work.id,
        kind=EvidenceKind.LINK,
        title="Preuve publique de T2",
        url="https://t2.example.org/preuve",
        visibility=Visibility.PUBLIC,
        created_by_id=learner.id,
    )
    session.add(t2_evidence)
    session.commit()
    t2_claim, _ = _decide(
        client, headers, learner, tutor2, t2_work, world.competency, "maitrise", "Avis confidentiel de T2"
    )
    _decide(client, headers, learner, tutor2, t2_work, only_t2, "acquis", "Avis confidentiel de T2, bis")

    t1_work = make_contribution(
        learner, world.project, title="Jardin de T1", role="jardinière", status=ContributionStatus.SUBMITTED
    )
    _claim, t1_review = _decide(client, headers, learner, tutor1, t1_work, world.competency, "en_cours", "Avis de T1")
    r = client.post(
        f"{API}/claims",
        headers=headers(learner),
        json={
            "contributionId": str(world.contribution.id),
            "competencyId": str(world.competency.id),
            "justification": "Encore une fois.",
        },
    )
    assert r.status_code == 201, r.json
    return Two(
        learner,
        tutor1,
        tutor2,
        coordinator1,
        admin,
        world.territory,
        session.get(Territory, project2.territory_id),
        world.project,
        project2,
        world.competency,
        only_t2,
        t1_work,
        t2_work,
        t2_evidence,
        r.json,
        t1_review,
        t2_claim,
    )


def _text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _no_t2(text: str) -> None:
    for secret in T2_SECRETS:
        assert secret not in text, secret


# Reading


def test_the_queue_shows_only_the_reviews_of_the_tutors_territories(client, headers, two):
    queue = client.get(f"{API}/reviews/queue", headers=headers(two.tutor1))
    [item] = queue.json["items"]
    assert item["claim"]["id"] == two.pending["id"]
    assert [r["comment"] for r in item["reviews"]] == ["Avis de T1"]
    _no_t2(_text(queue))


def test_standings_are_derived_from_the_callers_territories(client, headers, two):
    url = f"{API}/people/{two.learner.id}/standings"
    for caller in (two.tutor1, two.coordinator1):
        page = client.get(url, headers=headers(caller)).json
        assert page["total"] == 1
        [entry] = page["items"]
        assert (entry["code"], entry["level"], entry["state"], entry["proficient"]) == (
            "C1.1",
            "en_cours",
            "validated",
            False,
        )
        assert entry["decidedById"] == str(two.tutor1.id) and entry["reviewId"] == two.t1_review["id"]
        assert client.get(f"{url}?proficient=true", headers=headers(caller)).json["total"] == 0
        assert client.get(f"{url}?proficient=false", headers=headers(caller)).json["total"] == 1
        assert client.get(f"{url}?frameworkId={uuid.uuid4()}", headers=headers(caller)).json["total"] == 0
    # T2's tutor sees T2's standings; the learner herself and a platform admin see the stored ones.
    t2 = client.get(url, headers=headers(two.tutor2)).json
    assert [(s["code"], s["level"], s["decidedById"]) for s in t2["items"]] == [
        ("C1.1", "maitrise", str(two.tutor2.id)),
        ("C1.2", "acquis", str(two.tutor2.id)),
    ]
    for caller in (two.learner, two.admin):
        whole = client.get(url, headers=headers(caller)).json
        assert [(s["code"], s["level"]) for s in whole["items"]] == [("C1.1", "maitrise"), ("C1.2", "acquis")]


def test_the_portfolio_shows_only_the_callers_territories(client, headers, two):
    url = f"{API}/people/{two.learner.id}/portfolio"
    text = _text(client.get(url, headers=headers(two.tutor1)))
    _no_t2(text)
    document = json.loads(text)
    assert document["standings"] == 1
    [leaf] = document["frameworks"][0]["nodes"][0]["children"]
    assert leaf["code"] == "C1.1" and leaf["standing"]["level"] == "en_cours"
    assert [r["comment"] for r in leaf["reviews"]] == ["Avis de T1"]
    mine = _text(client.get(url, headers=headers(two.learner)))
    assert "Avis confidentiel de T2" in mine and json.loads(mine)["standings"] == 2


def test_claims_contributions_and_evidence_stay_in_their_territory(client, headers, two):
    h = headers(two.tutor1)
    claims = client.get(f"{API}/claims?learnerId={two.learner.id}", headers=h)
    _no_t2(_text(claims))
    assert two.t2_claim["id"] not in _text(claims) and claims.json["total"] == 2
    assert_problem(client.get(f"{API}/claims/{two.t2_claim['id']}", headers=h), 404)
    own = client.get(f"{API}/claims/{two.pending['id']}", headers=h)
    _no_t2(_text(own))
    contributions = client.get(f"{API}/contributions?learnerId={two.learner.id}", headers=h)
    _no_t2(_text(contributions))
    assert_problem(client.get(f"{API}/contributions/{two.t2_work.id}", headers=h), 404)
    assert_problem(client.get(f"{API}/contributions/{two.t2_work.id}/evidence", headers=h), 404)
    assert_problem(client.get(f"{API}/evidence/{two.t2_evidence.id}", headers=h), 404)


def test_a_facilitator_reads_only_the_territories_lent_to_them(client, session, headers, two):
    """Léa without a login of her own: T1's coordinator, her facilitator, acts for her and sees T1 only."""
    session.execute(
        update(Person).where(Person.id == two.learner.id).values(email=None, password_hash=None, is_assisted=True)
    )
    session.add(Facilitation(facilitator_id=two.coordinator1.id, learner_id=two.learner.id))
    session.commit()
    acting = headers(two.coordinator1, act_for=two.learner)
    claims = client.get(f"{API}/claims", headers=acting)
    assert two.t2_claim["id"] not in _text(claims) and claims.json["total"] == 2
    _no_t2(_text(claims))
    assert_problem(client.get(f"{API}/claims/{two.t2_claim['id']}", headers=acting), 404)
    assert client.get(f"{API}/claims/{two.pending['id']}", headers=acting).status_code == 200
    standings = client.get(f"{API}/people/{two.learner.id}/standings", headers=acting).json
    assert [(s["code"], s["level"]) for s in standings["items"]] == [("C1.1", "en_cours")]
    _no_t2(_text(client.get(f"{API}/people/{two.learner.id}/portfolio", headers=acting)))
    record = client.get(f"{API}/people/me/record", headers=acting)
    assert record.status_code == 200
    with zipfile.ZipFile(io.BytesIO(record.get_data())) as archive:
        index = archive.read("index.json").decode()
    _no_t2(index)
    document = json.loads(index)
    assert {c["project"]["id"] for c in document["contributions"]} == {str(two.project1.id)}
    assert two.t2_claim["id"] not in index
    assert [(s["competencyId"], s["level"]) for s in document["standings"]] == [(str(two.competency.id), "en_cours")]
    # The same learner, were she to log in herself, reads all of it.
    assert "Avis confidentiel de T2" in _text(
        client.get(f"{API}/people/{two.learner.id}/portfolio", headers=headers(two.learner))
    )


# Awarding


def _issuer(client, headers, creator: Person, **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post(
        f"{API}/issuers",
        headers=headers(creator),
        json={"name": "Émetteur", "url": "https://emetteur.example.fr", **extra},
    )
    assert r.status_code == 201, r.json
    return r.json  # type: ignore[no-any-return]


def _achievement(
    client,
    headers,
    admin: Person,
    issuer: dict[str, Any],
    competency: Competency,  # type: ignore[no-untyped-def]
    **extra: Any,
) -> dict[str, Any]:
    r = client.post(
        f"{API}/achievements",
        headers=headers(admin),
        json={
            "issuerId": issuer["id"],
            "name": "Animer",
            "description": "Animer une réunion.",
            "criteria": "Validé.",
            "competencyIds": [str(competency.id)],
            **extra,
        },
    )
    assert r.status_code == 201, r.json
    return r.json  # type: ignore[no-any-return]


def _same_answer(a, b) -> None:  # type: ignore[no-untyped-def]
    assert (a.status_code, a.headers["Content-Type"], a.get_data()) == (
        b.status_code,
        b.headers["Content-Type"],
        b.get_data(),
    )


def test_a_territory_issuer_answers_a_foreign_person_as_an_unknown_one(
    client, session, headers, two, make_person, grant
):
    issuer = _issuer(client, headers, two.coordinator1, territoryId=str(two.territory1.id))
    achievement = _achievement(client, headers, two.coordinator1, issuer, two.competency)
    issuer_admin = make_person()  # administers the issuer, and nothing else
    grant(issuer_admin, "issuer_admin", uuid.UUID(issuer["id"]))
    foreign = make_person(email="etranger@t2.example.org")
    grant(foreign, "learner", two.project2)
    url = f"{API}/achievements/{achievement['id']}/awards"
    for caller in (two.coordinator1, issuer_admin):
        h = headers(caller)
        by_mail = client.post(url, json={"email": foreign.email}, headers=h)
        assert_problem(by_mail, 422, "#/email")
        _same_answer(by_mail, client.post(url, json={"email": "personne@nulle-part.example.org"}, headers=h))
        _same_answer(by_mail, client.post(url, json={"email": foreign.email.upper()}, headers=h))
        by_id = client.post(url, json={"learnerId": str(foreign.id)}, headers=h)
        assert_problem(by_id, 422, "#/learnerId")
        _same_answer(by_id, client.post(url, json={"learnerId": str(uuid.uuid4())}, headers=h))
    assert session.scalar(select(Credential).where(Credential.learner_id == foreign.id)) is None

    # Léa learns in T1: she is awarded, with T1's contribution and level only.
    r = client.post(url, json={"email": two.learner.email}, headers=headers(issuer_admin))
    assert r.status_code == 201, r.json
    detail = client.get(f"{API}/credentials/{r.json['id']}", headers=headers(issuer_admin))
    text = _text(detail)
    _no_t2(text)
    evidence = detail.json["ob3Credential"]["evidence"]
    assert [e["name"] for e in evidence] == ["Jardin de T1"]
    assert two.project1.title in evidence[0]["description"]
    # T2's "maitrise" is not the result; T1's "en cours" is not proficient, so there is none.
    assert "result" not in detail.json["ob3Credential"]["credentialSubject"]


def test_a_platform_wide_issuer_reaches_the_territories_its_admin_serves(
    client, session, headers, two, make_person, grant
):
    issuer = _issuer(client, headers, two.admin)  # no territory
    achievement = _achievement(client, headers, two.admin, issuer, two.competency)
    url = f"{API}/achievements/{achievement['id']}/awards"
    lonely = make_person()  # administers the issuer only: serves no territory
    grant(lonely, "issuer_admin", uuid.UUID(issuer["id"]))
    refused = client.post(url, json={"email": two.learner.email}, headers=headers(lonely))
    assert_problem(refused, 422, "#/email")
    _same_answer(refused, client.post(url, json={"email": "personne@nulle-part.example.org"}, headers=headers(lonely)))
    # T1's coordinator, also an admin of the issuer, reaches Léa through T1, and T1 only.
    grant(two.coordinator1, "issuer_admin", uuid.UUID(issuer["id"]))
    r = client.post(url, json={"email": two.learner.email}, headers=headers(two.coordinator1))
    assert r.status_code == 201, r.json
    _no_t2(_text(client.get(f"{API}/credentials/{r.json['id']}", headers=headers(two.coordinator1))))
    # A platform admin awards anyone, and the credential draws on every territory.
    other = _achievement(client, headers, two.admin, issuer, two.competency, name="Animer encore")
    r = client.post(
        f"{API}/achievements/{other['id']}/awards", json={"email": two.learner.email}, headers=headers(two.admin)
    )
    assert r.status_code == 201, r.json
    names = [
        e["name"]
        for e in client.get(f"{API}/credentials/{r.json['id']}", headers=headers(two.admin)).json["ob3Credential"][
            "evidence"
        ]
    ]
    assert sorted(names) == ["Jardin de T1", "Preuve publique de T2", "Recyclerie de T2"]


def _bulk(client, url, h, csv: str, mode: str = "dry_run"):  # type: ignore[no-untyped-def]
    return client.post(
        url,
        data={"mode": mode, "file": (io.BytesIO(csv.encode()), "awards.csv")},
        headers=h,
        content_type="multipart/form-data",
    )


def test_bulk_rows_of_foreign_people_read_as_unknown(client, session, headers, two, make_person, grant):
    issuer = _issuer(client, headers, two.coordinator1, territoryId=str(two.territory1.id))
    achievement = _achievement(client, headers, two.coordinator1, issuer, two.competency)
    foreign = make_person(email="etranger@t2.example.org")
    grant(foreign, "learner", two.project2)
    disabled = make_person(email="parti@t2.example.org", is_active=False)
    grant(disabled, "learner", two.project2)
    url = f"{API}/issuers/{issuer['id']}/bulk-awards"
    csv = (
        f"email,person_id,achievement_id\n"
        f"{two.learner.email},,{achievement['id']}\n"
        f"{foreign.email},,{achievement['id']}\n"
        f"personne@nulle-part.example.org,,{achievement['id']}\n"
        f"{disabled.email},,{achievement['id']}\n"
        f",{foreign.id},{achievement['id']}\n"
        f",{uuid.uuid4()},{achievement['id']}\n"
    )
    h = headers(two.coordinator1)
    report = _bulk(client, url, h, csv).json
    rows = report["rows"]
    assert [r["status"] for r in rows] == ["valid", "invalid", "invalid", "invalid", "invalid", "invalid"]
    assert rows[0]["learnerId"] == str(two.learner.id)

    def shape(row: dict[str, Any]) -> Any:
        return {k: v for k, v in row.items() if k not in ("line", "errors")}, [
            (e["pointer"].rsplit("/", 1)[1], e["detail"]) for e in row["errors"]
        ]

    assert shape(rows[1]) == shape(rows[2]) == shape(rows[3])
    assert shape(rows[4]) == shape(rows[5])
    assert "etranger" not in json.dumps(report) and str(foreign.id) not in json.dumps(report)

    report = _bulk(client, url, h, csv, mode="skip_invalid").json
    assert report["issued"] == 1
    credential = session.get(Credential, uuid.UUID(report["rows"][0]["credentialId"]))
    _no_t2(json.dumps(credential.ob3_credential, ensure_ascii=False))
    assert [e["name"] for e in credential.ob3_credential["evidence"]] == ["Jardin de T1"]


def test_a_territory_issuers_rule_counts_only_its_territory(
    client, session, headers, two, make_person, grant, make_contribution
):
    """An automatic award of T1's issuer never rests on what T2 validated."""
    territorial = _issuer(client, headers, two.coordinator1, territoryId=str(two.territory1.id))
    platform = _issuer(client, headers, two.admin)
    rule = {"awardRule": {"type": "all", "competencyIds": [str(two.only_t2.id)]}, "awardMode": "auto"}
    t1_badge = _achievement(client, headers, two.coordinator1, territorial, two.only_t2, **rule)
    wide_badge = _achievement(client, headers, two.admin, platform, two.only_t2, **rule)
    # A new T2 validation of the competency (a second contribution) sends a standing event again.
    again = make_contribution(
        two.learner, two.project2, title="Recyclerie de T2, suite", status=ContributionStatus.SUBMITTED
    )
    _decide(client, headers, two.learner, two.tutor2, again, two.only_t2, "maitrise", "Avis confidentiel de T2")
    held = {c.issuer_id for c in session.scalars(select(Credential).where(Credential.learner_id == two.learner.id))}
    assert held == {uuid.UUID(platform["id"])}
    assert t1_badge["issuerId"] == territorial["id"] and wide_badge["issuerId"] == platform["id"]
