"""Mes badges → Mettre dans un portefeuille: the offer page (QR code inline, link, transaction code),
and the wallet copies listed on the badge's page."""

from __future__ import annotations

import re
from urllib.parse import unquote

from app.services.issuing import awarding
from tests.issuing_fixtures import Setup
from tests.web.csrf_support import csrf_token
from tests.web.page_support import sign_in_as


def _badge(session, issuing: Setup, settings):  # type: ignore[no-untyped-def]
    credential = awarding.award(
        session, issuing.grants(session), issuing.achievement.id, {"learner_id": issuing.learner.id}, settings=settings
    )
    session.commit()
    return credential


def test_the_learner_gets_an_offer_with_a_code_for_a_shared_screen(app, client, session, issuing, settings) -> None:
    badge = _badge(session, issuing, settings)
    sign_in_as(client, app, issuing.learner)
    page = client.get(f"/mes-badges/{badge.id}").get_data(as_text=True)
    assert "Mettre dans un portefeuille" in page and f'action="/mes-badges/{badge.id}/portefeuille"' in page
    answer = client.post(
        f"/mes-badges/{badge.id}/portefeuille", data={"csrf_token": csrf_token(client), "ecran_partage": "oui"}
    )
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    html = answer.get_data(as_text=True)
    assert "<svg" in html and 'href="openid-credential-offer://?credential_offer=' in html
    code = re.search(r'<p class="tx-code"><strong><span>(\d{3})</span><span>(\d{3})</span></strong>', html)
    assert code is not None
    assert '"tx_code"' in unquote(re.search(r'href="(openid-credential-offer://[^"]+)"', html).group(1))
    assert "valables 10 minutes" in html


def test_without_csrf_or_for_another_person_there_is_no_offer(
    app, client, session, issuing, settings, make_person
) -> None:
    badge = _badge(session, issuing, settings)
    sign_in_as(client, app, issuing.learner)
    assert client.post(f"/mes-badges/{badge.id}/portefeuille", data={}).status_code == 400
    sign_in_as(client, app, make_person())
    refused = client.post(f"/mes-badges/{badge.id}/portefeuille", data={"csrf_token": csrf_token(client)})
    assert refused.status_code == 404
