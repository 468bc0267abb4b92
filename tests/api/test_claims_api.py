"""The validation workflow through HTTP: from a contribution to a claim, a decision and a standing."""

from __future__ import annotations

import uuid

from tests.api.support import assert_problem

API = "/api/v1"


def if_match(h, version):  # type: ignore[no-untyped-def]
    return {**h, "If-Match": f'"{version}"'}


def post_claim(client, headers, world, **overrides):  # type: ignore[no-untyped-def]
    body = {
        "contributionId": str(world.contribution.id),
        "competencyId": str(world.competency.id),
        "justification": "J'ai animé la réunion.",
        "selfAssessment": "acquis",
        **overrides,
    }
    return client.post(f"{API}/claims", json=body, headers=headers(world.learner))


def test_the_whole_flow_from_contribution_to_standing(client, headers, world, outbox):
    learner, tutor = headers(world.learner), headers(world.tutor)
    c = client.post(
        f"{API}/contributions", json={"projectId": str(world.project.id), "title": "Réunion publique"}, headers=learner
    ).json
    r = client.post(
        f"{API}/contributions/{c['id']}/evidence",
        headers=learner,
        json={"kind": "text", "title": "Compte rendu", "text": "Trente habitants présents."},
    )
    assert r.status_code == 201
    assert client.post(f"{API}/contributions/{c['id']}/submit", headers=learner).status_code == 200

    r = client.post(
        f"{API}/claims",
        headers=learner,
        json={
            "contributionId": c["id"],
            "competencyId": str(world.competency.id),
            "justification": "J'ai préparé et animé la réunion.",
            "selfAssessment": "acquis",
        },
    )
    assert r.status_code == 201, r.json
    claim = r.json
    assert r.headers["ETag"] == '"1"' and claim["status"] == "pending" and claim["stage"] == "review"
    told = outbox()
    assert sorted(m["To"] for m in told) == sorted([world.tutor.email, world.tutor2.email])
    assert told[0]["Subject"] == "Nouvelle demande de validation : C1.1 Animer une réunion publique"
    assert "Léa Apprenante demande la validation" in told[0].get_content()

    queue = client.get(f"{API}/reviews/queue", headers=tutor).json
    assert queue["total"] == 1 and queue["page"] == 1 and queue["perPage"] == 20
    [item] = queue["items"]
    assert item["claim"]["id"] == claim["id"] and item["canDecide"] is True
    assert [e["title"] for e in item["evidence"]] == ["Compte rendu"]
    assert item["contribution"]["title"] == "Réunion publique" and item["learner"]["displayName"] == "Léa Apprenante"
    assert [lv["code"] for lv in item["scale"]["levels"]] == ["non_acquis", "en_cours", "acquis", "maitrise"]

    r = client.post(
        f"{API}/claims/{claim['id']}/reviews",
        headers=if_match(tutor, 1),
        json={"decision": "validated", "level": "maitrise", "comment": "Animation remarquable."},
    )
    assert r.status_code == 201, r.json
    assert r.json["decision"] == "validated" and r.json["proficient"] is True
    assert [m["Subject"] for m in outbox()[2:]] == ["Compétence validée : C1.1 Animer une réunion publique"]

    detail = client.get(f"{API}/claims/{claim['id']}", headers=learner)
    assert detail.headers["ETag"] == '"2"' and detail.json["claim"]["status"] == "validated"
    assert [rv["comment"] for rv in detail.json["reviews"]] == ["Animation remarquable."]
    assert detail.json["reviews"][0]["reviewerName"] == "Théo Tuteur"

    standings = client.get(f"{API}/people/{world.learner.id}/standings", headers=learner).json
    assert [(s["code"], s["level"], s["proficient"]) for s in standings["items"]] == [("C1.1", "maitrise", True)]
    portfolio = client.get(f"{API}/people/{world.learner.id}/portfolio", headers=tutor).json
    [tree] = portfolio["frameworks"]
    [bloc] = tree["nodes"]
    [node] = bloc["children"]
    assert bloc["code"] == "B1" and bloc["standing"] is None
    assert node["standing"]["level"] == "maitrise" and [e["title"] for e in node["evidence"]] == ["Compte rendu"]


def test_needs_evidence_then_back_to_the_queue(client, headers, world):
    claim = post_claim(client, headers, world).json
    tutor, learner = headers(world.tutor), headers(world.learner)
    r = client.post(
        f"{API}/claims/{claim['id']}/reviews",
        headers=if_match(tutor, 1),
        json={"decision": "needs_evidence", "comment": "Ajoutez le compte rendu."},
    )
    assert r.status_code == 201
    assert client.get(f"{API}/reviews/queue", headers=tutor).json["total"] == 0
    assert_problem(
        client.post(f"{API}/claims/{claim['id']}/resubmit", json={}, headers=if_match(learner, 2)), 422, "#/explanation"
    )
    r = client.post(
        f"{API}/claims/{claim['id']}/resubmit",
        headers=if_match(learner, 2),
        json={"explanation": "Le compte rendu est affiché en mairie."},
    )
    assert r.status_code == 200 and r.json["status"] == "pending" and r.json["round"] == 2
    assert client.get(f"{API}/reviews/queue", headers=tutor).json["items"][0]["claim"]["id"] == claim["id"]


def test_claiming_bad_things(client, headers, world, make_contribution, make_person, grant):
    assert_problem(post_claim(client, headers, world, competencyId=str(uuid.uuid4())), 422, "#/competencyId")
    assert_problem(post_claim(client, headers, world, selfAssessment="expert"), 422, "#/selfAssessment")
    draft = make_contribution(world.learner, world.project)
    assert_problem(post_claim(client, headers, world, contributionId=str(draft.id)), 409)
    other = make_person()
    grant(other, "learner", world.project)
    r = client.post(
        f"{API}/claims",
        headers=headers(other),
        json={
            "contributionId": str(world.contribution.id),
            "competencyId": str(world.competency.id),
            "justification": "Ce n'est pas à moi.",
        },
    )
    assert_problem(r, 404)
    assert_problem(
        client.post(f"{API}/claims", headers=headers(world.learner), json={}),
        422,
        "#/contributionId",
        "#/competencyId",
        "#/justification",
    )


def test_bad_decisions_are_422(client, headers, world):
    claim = post_claim(client, headers, world).json
    h = if_match(headers(world.tutor), 1)
    url = f"{API}/claims/{claim['id']}/reviews"
    assert_problem(client.post(url, headers=h, json={"decision": "validated", "level": "acquis"}), 422, "#/comment")
    assert_problem(
        client.post(url, headers=h, json={"decision": "validated", "level": "acquis", "comment": " "}), 422, "#/comment"
    )
    assert_problem(
        client.post(url, headers=h, json={"decision": "validated", "level": "expert", "comment": "Oui"}), 422, "#/level"
    )
    assert_problem(client.post(url, headers=h, json={"decision": "maybe", "comment": "Hm"}), 422, "#/decision")
    assert client.get(f"{API}/claims/{claim['id']}", headers=h).json["reviews"] == []


def test_reviewing_outside_ones_projects_is_404(client, headers, world, make_person, make_project, grant):
    claim = post_claim(client, headers, world).json
    stranger = make_person()
    grant(stranger, "tutor", make_project())
    r = client.post(
        f"{API}/claims/{claim['id']}/reviews",
        headers=if_match(headers(stranger), 1),
        json={"decision": "rejected", "comment": "Non."},
    )
    assert_problem(r, 404)
    assert_problem(client.get(f"{API}/claims/{claim['id']}", headers=headers(stranger)), 404)


def test_two_tutors_on_one_claim_one_wins_the_other_gets_409(client, headers, world):
    claim = post_claim(client, headers, world).json
    url = f"{API}/claims/{claim['id']}/reviews"
    etag = client.get(f"{API}/claims/{claim['id']}", headers=headers(world.tutor2)).headers["ETag"]
    r = client.post(
        url,
        headers=if_match(headers(world.tutor), 1),
        json={"decision": "validated", "level": "acquis", "comment": "Oui."},
    )
    assert r.status_code == 201
    late = client.post(
        url, headers={**headers(world.tutor2), "If-Match": etag}, json={"decision": "rejected", "comment": "Non."}
    )
    assert_problem(late, 409)
    detail = client.get(f"{API}/claims/{claim['id']}", headers=headers(world.learner)).json
    assert [rv["decision"] for rv in detail["reviews"]] == ["validated"]
    assert_problem(client.post(url, headers=headers(world.tutor2), json={"decision": "rejected", "comment": "x"}), 428)


def test_editing_and_withdrawing(client, headers, world):
    claim = post_claim(client, headers, world).json
    learner = headers(world.learner)
    url = f"{API}/claims/{claim['id']}"
    assert_problem(client.patch(url, json={"justification": "Deux"}, headers=learner), 428)
    r = client.patch(url, json={"justification": "Deux"}, headers=if_match(learner, 1))
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    assert_problem(client.patch(url, json={"justification": "Trois"}, headers=if_match(learner, 1)), 409)
    assert_problem(client.patch(url, json={"justification": "x"}, headers=if_match(headers(world.tutor), 2)), 403)
    revisions = client.get(url, headers=learner).json["revisions"]
    assert [(rv["number"], rv["kind"], rv["justification"]) for rv in revisions] == [
        (1, "created", "J'ai animé la réunion."),
        (2, "edited", "Deux"),
    ]
    r = client.post(f"{url}/withdraw", headers=if_match(learner, 2))
    assert r.status_code == 200 and r.json["status"] == "withdrawn"
    listed = client.get(f"{API}/claims", headers=learner, query_string={"status": "withdrawn"}).json
    assert [c["id"] for c in listed["items"]] == [claim["id"]]


def test_review_rules_of_a_territory(client, headers, world, make_person, grant):
    coordinator = make_person()
    grant(coordinator, "coordinator", world.territory)
    url = f"{API}/territories/{world.territory.id}/review-rules"
    assert client.get(url, headers=headers(world.tutor)).json["requiresSecondReview"] is False
    body = {
        "requiresSecondReview": True,
        "scale": {
            "name": "Deux niveaux",
            "levels": [
                {"code": "pas_encore", "labelFr": "pas encore"},
                {"code": "oui", "labelFr": "oui", "proficient": True},
            ],
        },
    }
    assert_problem(client.put(url, json=body, headers=headers(world.tutor)), 403)
    r = client.put(url, json=body, headers=headers(coordinator))
    assert r.status_code == 200 and [lv["code"] for lv in r.json["scale"]["levels"]] == ["pas_encore", "oui"]
    bad = {
        "scale": {
            "name": "x",
            "levels": [{"code": "a", "labelFr": "a", "proficient": True}, {"code": "b", "labelFr": "b"}],
        }
    }
    assert_problem(client.put(url, json=bad, headers=headers(coordinator)), 422)
    claim = post_claim(client, headers, world, selfAssessment="oui").json
    r = client.post(
        f"{API}/claims/{claim['id']}/reviews",
        headers=if_match(headers(world.tutor), 1),
        json={"decision": "validated", "level": "oui", "comment": "Oui."},
    )
    assert r.status_code == 201 and r.json["final"] is False
    item = client.get(f"{API}/reviews/queue", headers=headers(world.tutor2)).json["items"][0]
    assert item["stage"] == "second_review" and item["requiresSecondReview"] is True


def test_framework_rules_are_for_platform_admins(client, headers, world, make_person, grant):
    url = f"{API}/frameworks/{world.framework.id}/review-rules"
    assert_problem(client.put(url, json={"requiresSecondReview": True}, headers=headers(world.tutor)), 403)
    admin = make_person()
    grant(admin, "platform_admin")
    assert client.put(url, json={"requiresSecondReview": True}, headers=headers(admin)).json["requiresSecondReview"]
    assert_problem(client.put(f"{API}/frameworks/{uuid.uuid4()}/review-rules", json={}, headers=headers(admin)), 404)


def test_english_mail_for_an_english_speaking_learner(client, headers, world, outbox):
    world.learner.locale = "en"
    claim = post_claim(client, headers, world).json
    client.post(
        f"{API}/claims/{claim['id']}/reviews",
        headers=if_match(headers(world.tutor), 1),
        json={"decision": "rejected", "comment": "Not shown here."},
    )
    [to_learner] = [m for m in outbox() if m["To"] == world.learner.email]
    assert to_learner["Subject"] == "Request not accepted: C1.1 Animer une réunion publique"
    assert "Not shown here." in to_learner.get_content()


def test_a_facilitator_claims_for_the_learner_over_http(client, headers, world, make_person, session, grant):
    from app.models import Facilitation

    world.learner.is_assisted, world.learner.password_hash = True, None
    facilitator = make_person()
    grant(facilitator, "coordinator", world.territory)
    session.add(Facilitation(facilitator_id=facilitator.id, learner_id=world.learner.id))
    session.commit()
    r = client.post(
        f"{API}/claims",
        headers=headers(facilitator, act_for=world.learner),
        json={
            "contributionId": str(world.contribution.id),
            "competencyId": str(world.competency.id),
            "justification": "Dicté par Léa.",
        },
    )
    assert r.status_code == 201 and r.json["learnerId"] == str(world.learner.id)
    assert r.json["createdById"] == str(facilitator.id)
    r = client.post(
        f"{API}/claims/{r.json['id']}/reviews",
        headers=if_match(headers(facilitator, world.learner), 1),
        json={"decision": "validated", "level": "acquis", "comment": "Moi-même."},
    )
    assert_problem(r, 403)  # decisions are taken in one's own name
