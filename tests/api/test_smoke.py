def test_list_territories_needs_login(client):
    r = client.get("/api/v1/territories")
    assert r.status_code == 401
    assert r.content_type == "application/problem+json"


def test_admin_lists_territories(client, make_person, grant, make_territory, headers):
    admin = make_person()
    grant(admin, "platform_admin")
    make_territory(name="Alpha")
    r = client.get("/api/v1/territories", headers=headers(admin))
    assert r.status_code == 200, r.json
    assert r.json["total"] >= 1
