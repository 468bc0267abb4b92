"""Territories, projects and contributions: create, read, update, list, paginate, filter."""

from __future__ import annotations

import pytest

from app.models import ContributionStatus, ProjectStatus
from tests.api.support import assert_problem

API = "/api/v1"


@pytest.fixture()
def admin(make_person, grant):  # type: ignore[no-untyped-def]
    person = make_person()
    grant(person, "platform_admin")
    return person


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_territory_crud(client, headers, admin):
    h = headers(admin)
    r = client.post(
        f"{API}/territories",
        json={"name": "Pays de Bray", "experimentationLevel": "made_in_local", "inseeCode": "2A004"},
        headers=h,
    )
    assert r.status_code == 201, r.json
    assert r.headers["ETag"] == '"1"'
    territory = r.json
    assert territory["experimentationLevel"] == "made_in_local" and territory["inseeCode"] == "2A004"
    got = client.get(f"{API}/territories/{territory['id']}", headers=h)
    assert got.json == territory
    r = client.patch(
        f"{API}/territories/{territory['id']}", json={"description": "Bocage"}, headers={**h, "If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json["description"] == "Bocage" and r.json["version"] == 2
    assert r.headers["ETag"] == '"2"'
    assert_problem(
        client.patch(
            f"{API}/territories/{territory['id']}", json={"description": "Vieux"}, headers={**h, "If-Match": '"1"'}
        ),
        409,
    )
    assert client.get(f"{API}/territories/{territory['id']}", headers=h).json["description"] == "Bocage"
    assert_problem(
        client.patch(f"{API}/territories/{territory['id']}", json={"description": "Sans version"}, headers=h), 428
    )


def test_territory_list_paginates_and_searches(client, headers, admin, make_territory):
    for name in ("Cévennes", "Causses", "Camargue", "Aubrac", "Vercors"):
        make_territory(name=f"Zz {name}")
    h = headers(admin)
    first = client.get(f"{API}/territories?q=zz%20c&perPage=2&page=1", headers=h).json
    assert first["total"] == 3 and first["perPage"] == 2 and first["page"] == 1
    assert [t["name"] for t in first["items"]] == ["Zz Camargue", "Zz Causses"]
    second = client.get(f"{API}/territories?q=zz%20c&perPage=2&page=2", headers=h).json
    assert [t["name"] for t in second["items"]] == ["Zz Cévennes"]
    beyond = client.get(f"{API}/territories?q=zz%20c&perPage=2&page=9", headers=h).json
    assert beyond["items"] == [] and beyond["total"] == 3
    # LIKE wildcards in q are matched literally.
    assert client.get(f"{API}/territories?q=%25", headers=h).json["total"] == 0
    assert client.get(f"{API}/territories?q=_", headers=h).json["total"] == 0


@pytest.mark.parametrize(
    "query,pointer",
    [
        ("perPage=101", "#/query/perPage"),
        ("perPage=0", "#/query/perPage"),
        ("page=0", "#/query/page"),
        ("page=abc", "#/query/page"),
    ],
)
def test_bad_pagination_is_422(client, headers, admin, query, pointer):
    for path in ("/territories", "/projects", "/contributions", "/memberships"):
        assert_problem(client.get(f"{API}{path}?{query}", headers=headers(admin)), 422, pointer)


def test_project_filters(client, headers, admin, make_territory, make_project):
    t1, t2 = make_territory(), make_territory()
    garden = make_project(t1, title="Jardin partagé", social_functions=["se_nourrir", "produire"])
    housing = make_project(t1, title="Habitat léger", social_functions=["se_loger"], status=ProjectStatus.PLANNED)
    school = make_project(t2, title="École du jardin", social_functions=["s_eduquer"])
    h = headers(admin)
    assert set(ids(client.get(f"{API}/projects?territoryId={t1.id}", headers=h))) == {str(garden.id), str(housing.id)}
    assert str(housing.id) in ids(client.get(f"{API}/projects?status=planned&territoryId={t1.id}", headers=h))
    assert ids(client.get(f"{API}/projects?status=planned&territoryId={t1.id}", headers=h)) == [str(housing.id)]
    assert ids(client.get(f"{API}/projects?socialFunction=se_nourrir&territoryId={t1.id}", headers=h)) == [
        str(garden.id)
    ]
    assert ids(client.get(f"{API}/projects?socialFunction=produire&territoryId={t2.id}", headers=h)) == []
    found = ids(client.get(f"{API}/projects?q=JARDIN", headers=h))
    assert str(garden.id) in found and str(school.id) in found and str(housing.id) not in found
    assert_problem(client.get(f"{API}/projects?socialFunction=voler", headers=h), 422, "#/query/socialFunction")
    assert_problem(client.get(f"{API}/projects?status=lost", headers=h), 422, "#/query/status")
    assert_problem(client.get(f"{API}/projects?territoryId=nope", headers=h), 422, "#/query/territoryId")


def test_project_create_update(client, headers, admin, make_territory):
    territory = make_territory()
    h = headers(admin)
    r = client.post(
        f"{API}/projects",
        json={
            "territoryId": str(territory.id),
            "title": "Tiers-lieu",
            "socialFunctions": ["s_epanouir", "produire", "produire"],
            "startDate": "2026-01-01",
            "endDate": "2026-12-31",
        },
        headers=h,
    )
    assert r.status_code == 201, r.json
    project = r.json
    assert project["socialFunctions"] == ["produire", "s_epanouir"]  # canonical order, no repeats
    assert project["status"] == "active"
    r = client.patch(
        f"{API}/projects/{project['id']}", json={"status": "completed"}, headers={**h, "If-Match": r.headers["ETag"]}
    )
    assert r.status_code == 200 and r.json["status"] == "completed" and r.json["version"] == 2
    r = client.patch(
        f"{API}/projects/{project['id']}", json={"endDate": "2025-01-01"}, headers={**h, "If-Match": '"2"'}
    )
    assert_problem(r, 422, "#/endDate")
    assert_problem(client.patch(f"{API}/projects/{project['id']}", json={"status": "archived"}, headers=h), 428)
    assert_problem(
        client.post(
            f"{API}/projects", json={"territoryId": str(territory.id), "title": "x", "socialFunctions": []}, headers=h
        ),
        422,
        "#/socialFunctions",
    )


@pytest.fixture()
def learner_setup(make_person, make_project, grant):  # type: ignore[no-untyped-def]
    project = make_project()
    learner, tutor = make_person(), make_person()
    grant(learner, "learner", project)
    grant(tutor, "tutor", project)
    return learner, tutor, project


def test_contribution_flow(client, headers, learner_setup):
    learner, tutor, project = learner_setup
    h = headers(learner)
    r = client.post(
        f"{API}/contributions",
        json={
            "projectId": str(project.id),
            "title": "Chantier participatif",
            "narrative": "J'ai posé les bottes de paille.",
            "hours": 12.5,
            "startDate": "2026-03-01",
            "endDate": "2026-03-02",
            "coContributors": [{"name": "Marcel"}, {"name": "Inès"}],
        },
        headers=h,
    )
    assert r.status_code == 201, r.json
    c = r.json
    assert c["status"] == "draft" and c["version"] == 1 and c["hours"] == 12.5
    assert [x["name"] for x in c["coContributors"]] == ["Marcel", "Inès"]
    assert r.headers["ETag"] == '"1"'

    r = client.patch(
        f"{API}/contributions/{c['id']}", json={"title": "Chantier paille"}, headers={**h, "If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json["title"] == "Chantier paille" and r.headers["ETag"] == '"2"'

    r = client.post(f"{API}/contributions/{c['id']}/submit", headers=h)
    assert r.status_code == 200 and r.json["status"] == "submitted" and r.json["submittedAt"]
    assert_problem(client.post(f"{API}/contributions/{c['id']}/submit", headers=h), 409)
    etag = client.get(f"{API}/contributions/{c['id']}", headers=h).headers["ETag"]
    assert_problem(
        client.patch(f"{API}/contributions/{c['id']}", json={"title": "Trop tard"}, headers={**h, "If-Match": etag}),
        409,
    )
    assert_problem(client.delete(f"{API}/contributions/{c['id']}", headers=h), 409)
    assert client.get(f"{API}/contributions/{c['id']}", headers=headers(tutor)).json["title"] == "Chantier paille"


def test_changing_only_co_contributors_bumps_the_version(client, headers, learner_setup):
    learner, _tutor, project = learner_setup
    h = headers(learner)
    c = client.post(f"{API}/contributions", json={"projectId": str(project.id), "title": "Repair café"}, headers=h).json
    r = client.patch(
        f"{API}/contributions/{c['id']}", json={"coContributors": [{"name": "Lou"}]}, headers={**h, "If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json["coContributors"] == [{"personId": None, "name": "Lou"}]
    assert r.headers["ETag"] == '"2"'
    # A client still holding version 1 must not overwrite that change.
    assert_problem(
        client.patch(f"{API}/contributions/{c['id']}", json={"coContributors": []}, headers={**h, "If-Match": '"1"'}),
        409,
    )


def test_deleting_a_draft(client, headers, learner_setup, make_person):
    learner, tutor, project = learner_setup
    h = headers(learner)
    c = client.post(f"{API}/contributions", json={"projectId": str(project.id), "title": "À jeter"}, headers=h).json
    assert_problem(client.delete(f"{API}/contributions/{c['id']}", headers=headers(tutor)), 404)
    r = client.delete(f"{API}/contributions/{c['id']}", headers=h)
    assert r.status_code == 204 and r.data == b""
    assert_problem(client.get(f"{API}/contributions/{c['id']}", headers=h), 404)
    assert_problem(client.delete(f"{API}/contributions/{c['id']}", headers=h), 404)


def test_contributions_only_in_projects_one_learns_in(client, headers, learner_setup, make_project):
    learner, tutor, project = learner_setup
    assert_problem(
        client.post(f"{API}/contributions", json={"projectId": str(project.id), "title": "x"}, headers=headers(tutor)),
        403,
    )
    assert_problem(
        client.post(
            f"{API}/contributions", json={"projectId": str(make_project().id), "title": "x"}, headers=headers(learner)
        ),
        404,
    )


def test_contribution_filters(client, headers, admin, make_person, make_project, grant, make_contribution):
    p1, p2 = make_project(), make_project()
    ana, ben = make_person(), make_person()
    for who in (ana, ben):
        grant(who, "learner", p1)
        grant(who, "learner", p2)
    a1 = make_contribution(ana, p1, status=ContributionStatus.SUBMITTED)
    a2 = make_contribution(ana, p2)
    b1 = make_contribution(ben, p1, status=ContributionStatus.SUBMITTED)
    h = headers(ana)
    assert set(ids(client.get(f"{API}/contributions", headers=h))) == {str(a1.id), str(a2.id)}
    assert ids(client.get(f"{API}/contributions?projectId={p2.id}", headers=h)) == [str(a2.id)]
    assert ids(client.get(f"{API}/contributions?status=draft", headers=h)) == [str(a2.id)]
    assert ids(client.get(f"{API}/contributions?learnerId={ben.id}", headers=h)) == []
    admin_h = headers(admin)
    assert set(ids(client.get(f"{API}/contributions?projectId={p1.id}", headers=admin_h))) == {str(a1.id), str(b1.id)}
    assert ids(client.get(f"{API}/contributions?projectId={p1.id}&learnerId={ben.id}", headers=admin_h)) == [str(b1.id)]
    page = client.get(f"{API}/contributions?projectId={p1.id}&perPage=1", headers=admin_h).json
    assert page["total"] == 2 and len(page["items"]) == 1 and page["perPage"] == 1
    assert_problem(client.get(f"{API}/contributions?status=published", headers=h), 422, "#/query/status")


def test_update_me(client, headers, make_person):
    person = make_person()
    etag = client.get(f"{API}/people/me", headers=headers(person)).headers["ETag"]
    r = client.patch(
        f"{API}/people/me", json={"displayName": "Renée", "locale": "en"}, headers={**headers(person), "If-Match": etag}
    )
    assert r.status_code == 200 and r.json["displayName"] == "Renée" and r.json["locale"] == "en"
    assert_problem(
        client.patch(f"{API}/people/me", json={"email": "x@example.org"}, headers=headers(person)), 422, "#/email"
    )
