"""POST /api/v1/dossiers/verify is public: a small cap without an account, the verifier's rate limit."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace

from app.platform.rate_limit import RateLimit
from app.runtime import runtime
from tests.api.support import assert_problem

URL = "/api/v1/dossiers/verify"


def _verify(client, size: int, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        URL,
        data={"file": (io.BytesIO(b"x" * size), "dossier.zip")},
        content_type="multipart/form-data",
        headers=headers or {},
    )


def test_anonymous_callers_get_the_small_cap_jury_officers_and_admins_the_big_one(
    client, app, monkeypatch, make_person, grant, headers
) -> None:  # type: ignore[no-untyped-def]
    settings = runtime(app).settings
    assert settings.max_dossier_verify_bytes_anonymous == 50 * 1024 * 1024  # the default
    # Bodies stay under 500 KB: past that the test client spools them to a file it leaves open.
    monkeypatch.setattr(
        runtime(app),
        "settings",
        replace(settings, max_dossier_verify_bytes_anonymous=16 * 1024, max_dossier_verify_bytes=128 * 1024),
    )
    small = _verify(client, 10 * 1024)
    assert small.status_code == 200 and small.get_json()["readable"] is False
    assert_problem(_verify(client, 64 * 1024), 413)
    officer, admin, learner = make_person(), make_person(), make_person()
    grant(officer, "jury_officer", uuid.uuid4())
    grant(admin, "platform_admin")
    for trusted in (officer, admin):
        r = _verify(client, 64 * 1024, headers(trusted))
        assert r.status_code == 200 and r.get_json()["readable"] is False, r.get_json()
        assert_problem(_verify(client, 200 * 1024, headers(trusted)), 413)
    assert_problem(_verify(client, 64 * 1024, headers(learner)), 413)  # an account is not enough


def test_shares_the_rate_limit_of_the_badge_verifier(client, app) -> None:  # type: ignore[no-untyped-def]
    runtime(app).verify_limiter = RateLimit(2, 1)  # the autouse fixture puts the roomy one back
    assert _verify(client, 100).status_code == 200
    assert client.post("/api/v1/verify", json={"credential": "x"}).status_code == 200
    limited = _verify(client, 100)
    body = assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1 and body["type"].endswith("/too-many-requests")
    assert_problem(client.post("/api/v1/verify", json={"credential": "x"}), 429)
    other = client.post(
        URL,
        data={"file": (io.BytesIO(b"x"), "d.zip")},
        content_type="multipart/form-data",
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 200


def test_documented_in_openapi(client) -> None:  # type: ignore[no-untyped-def]
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][URL]["post"]
    assert operation["security"] == [] and {"413", "429"} <= set(operation["responses"])
