"""The verification page is kept rendered while nothing it shows changes: one statement per view.

Every write that changes what the page says shows on the very next view: revocation, suspension
and its end, the learner's name choice (profile and badge), evidence made private, a key reported
compromised, expiry; the language and the signed-in header are never mixed up. A repeat scan
with the page's ETag answers 304.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app.db import utcnow
from app.models import Credential
from app.runtime import runtime
from app.services.contributions import evidence as evidence_service
from app.services.identity import access
from app.services.issuing import issuers, revocation, wallet
from tests.issuing_fixtures import issuing_settings
from tests.public_fixtures import HTML, Issued, ValidatedAward
from tests.web.page_support import sign_in_as

# Statements of a first view of the richest page (tutors per competency, evidence previews):
# the evidence ids and the state (taken before rendering, so a write in between is never hidden),
# then the page itself. The same whatever the number of competencies or evidence items.
FIRST_VIEW = 11


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _path(credential: Credential) -> str:
    return f"/credentials/{credential.id}"


def _sql(engine: Any, fn: Callable[[], Any]) -> list[str]:
    """The statements ``fn`` sends, without the test harness's savepoints around each request."""
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return [s for s in seen if "SAVEPOINT" not in s.upper()]


def test_a_repeat_view_is_one_statement_and_the_same_page(client, engine, validated_award: ValidatedAward):  # type: ignore[no-untyped-def]
    path = _path(validated_award.credential)
    pages: list[bytes] = []
    first = _sql(engine, lambda: pages.append(client.get(path, headers=HTML).get_data()))
    again = _sql(engine, lambda: pages.append(client.get(path, headers=HTML).get_data()))
    assert len(first) <= FIRST_VIEW, first
    assert len(again) == 1 and again[0].lstrip().upper().startswith("SELECT"), again
    assert pages[0] == pages[1]
    html = pages[1].decode()
    assert "Théo Tuteur" in html and "Le lavoir remis en eau" in html and "Badge authentique" in html


def test_a_repeat_scan_with_the_etag_answers_304(client, engine, issued: Issued) -> None:
    first = client.get(issued.path, headers=HTML)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    assert "must-revalidate" in first.headers["Cache-Control"]
    answers = []
    statements = _sql(engine, lambda: answers.append(client.get(issued.path, headers={**HTML, "If-None-Match": etag})))
    assert answers[0].status_code == 304 and answers[0].get_data() == b""
    assert answers[0].headers["ETag"] == etag
    assert len(statements) == 1
    # The same ETag from a cold render: it names the page, not the way it was produced.
    runtime_pages = client.application.extensions["blason.rendered_pages"]
    runtime_pages._pages.clear()
    assert client.get(issued.path, headers=HTML).headers["ETag"] == etag


def test_revocation_shows_at_once(client, session, issued: Issued, settings) -> None:
    for _ in range(2):
        assert "Badge authentique" in _text(client.get(issued.path, headers=HTML))
    etag = client.get(issued.path, headers=HTML).headers["ETag"]
    revocation.revoke(
        session, issued.setup.grants(session), issued.credential.id, "Obtenu par erreur", settings=settings
    )
    session.commit()
    after = client.get(issued.path, headers={**HTML, "If-None-Match": etag})
    assert after.status_code == 200  # the old ETag no longer matches
    html = _text(after)
    assert "Badge révoqué" in html and "Obtenu par erreur" in html and "authentique" not in html


def test_suspension_and_its_end_show_at_once(client, session, issued: Issued, settings) -> None:
    grants = issued.setup.grants(session)
    assert "Badge authentique" in _text(client.get(issued.path, headers=HTML))
    revocation.suspend(session, grants, issued.credential.id, "Enquête en cours", settings=settings)
    session.commit()
    html = _text(client.get(issued.path, headers=HTML))
    assert "Badge suspendu" in html and "Enquête en cours" in html
    revocation.unsuspend(session, grants, issued.credential.id, None, settings=settings)
    session.commit()
    assert "Badge authentique" in _text(client.get(issued.path, headers=HTML))


def test_the_learners_name_choice_shows_at_once(client, session, validated_award: ValidatedAward) -> None:
    path = _path(validated_award.credential)
    learner = validated_award.learner
    assert "Léa Apprenante" not in _text(client.get(path, headers=HTML))
    wallet.choose_name_display(session, access.load_grants(session, learner.id), True, now=utcnow())
    session.commit()
    assert "Léa Apprenante" in _text(client.get(path, headers=HTML))
    wallet.choose_name_display(session, access.load_grants(session, learner.id), False, now=utcnow())
    session.commit()
    assert "Léa Apprenante" not in _text(client.get(path, headers=HTML))
    # The badge's own choice wins over the profile's, and shows at once too.
    session.get(Credential, validated_award.credential.id).show_name = True
    session.commit()
    assert "Léa Apprenante" in _text(client.get(path, headers=HTML))


def test_evidence_made_private_disappears_at_once(client, session, validated_award: ValidatedAward) -> None:
    path = _path(validated_award.credential)
    photo = validated_award.photo
    for _ in range(2):
        assert "Le lavoir remis en eau" in _text(client.get(path, headers=HTML))
    evidence_service.update_evidence(
        session,
        access.load_grants(session, validated_award.learner.id),
        photo.id,
        {"visibility": "tutors"},
        expected_version=photo.version,
    )
    session.commit()
    html = _text(client.get(path, headers=HTML))
    assert "Le lavoir remis en eau" not in html and "Compte rendu" in html


def test_a_compromised_key_shows_at_once(client, session, issued: Issued, settings) -> None:
    issuer_id = issued.setup.issuer.id
    for _ in range(2):
        assert "Badge authentique" in _text(client.get(issued.path, headers=HTML))
    key_id = uuid.UUID(str(issued.credential.signing_key_ids[0]))
    issuers.compromise_key(session, issued.setup.grants(session), issuer_id, key_id, "Fuite", settings=settings)
    session.commit()
    assert "Signature douteuse" in _text(client.get(issued.path, headers=HTML))


def test_expiry_shows_when_the_day_comes(app, client, session, issuing, award, make_achievement, monkeypatch) -> None:
    expiring = make_achievement(issuing.issuer, issuing.admin, name="Badge éphémère", valid_for_days=2)
    credential = award(achievement=expiring, settings_=issuing_settings())
    path = _path(credential)
    for _ in range(2):
        assert "Badge authentique" in _text(client.get(path, headers=HTML))
    later = utcnow() + timedelta(days=3)
    monkeypatch.setattr(runtime(app), "clock", lambda: later)
    assert "Badge expiré" in _text(client.get(path, headers=HTML))


@pytest.mark.parametrize(
    ("query", "language", "expected", "other"),
    [
        ("", "fr-FR,fr;q=0.9", "Badge authentique", "Genuine badge"),
        ("", "en-GB,en;q=0.9", "Genuine badge", "Badge authentique"),
        ("?lang=en", "fr-FR,fr;q=0.9", "Genuine badge", "Badge authentique"),
        ("?lang=fr", "en-GB,en;q=0.9", "Badge authentique", "Genuine badge"),
    ],
    ids=["accept-fr", "accept-en", "lang-en", "lang-fr"],
)
def test_each_language_gets_its_own_page(client, issued: Issued, query, language, expected, other) -> None:  # type: ignore[no-untyped-def]
    # Warm every language first: a kept page must never answer in the wrong one.
    for warm in ("fr", "en"):
        client.get(issued.path, headers={**HTML, "Accept-Language": warm})
        client.get(f"{issued.path}?lang={warm}", headers=HTML)
    html = _text(client.get(issued.path + query, headers={**HTML, "Accept-Language": language}))
    assert expected in html and other not in html


def test_a_signed_in_reader_gets_their_header_and_it_is_never_kept(app, client, issued: Issued) -> None:
    anonymous = _text(client.get(issued.path, headers=HTML))
    assert "Iris Émettrice" not in anonymous
    sign_in_as(client, app, issued.setup.admin)
    mine = _text(client.get(issued.path, headers=HTML))
    assert "Iris Émettrice" in mine and "csrf" in mine
    client.delete_cookie("blason_session")
    for cookie in list(client._cookies):  # whatever the cookie's name: back to anonymous
        client._cookies.pop(cookie)
    again = _text(client.get(issued.path, headers=HTML))
    assert "Iris Émettrice" not in again


def test_other_queries_are_rendered_and_not_kept(client, engine, issued: Issued) -> None:
    path = f"{issued.path}?utm_source=qr"
    client.get(path, headers=HTML)
    assert len(_sql(engine, lambda: client.get(path, headers=HTML))) > 1
    assert len(_sql(engine, lambda: client.get(issued.path, headers=HTML))) > 1  # first plain view
    assert len(_sql(engine, lambda: client.get(issued.path, headers=HTML))) == 1
