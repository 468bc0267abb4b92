"""A decision on the tutor's page tells people as the API's does: the learner, with a link, then the badge it earned."""

from __future__ import annotations

from app.services.recognition import claims
from tests.mail_support import auto_badge
from tests.web.csrf_support import csrf_token
from tests.web.page_support import sign_in_as

BASE = "https://blason.test"


def test_a_validation_on_the_page_mails_the_learner_and_awards_the_rule_badge(
    app, client, session, world, grants_of, make_person, grant, outbox
):  # type: ignore[no-untyped-def]
    auto_badge(app, session, world, make_person, grant)
    data = {
        "contribution_id": world.contribution.id,
        "competency_id": world.competency.id,
        "justification": "J'ai animé.",
    }
    claim = claims.create_claim(session, grants_of(world.learner), data).value
    session.commit()
    before = len(outbox())
    sign_in_as(client, app, world.tutor)
    form = {
        "csrf_token": csrf_token(client, f"/a-valider/{claim.id}"),
        "version": str(claim.version),
        "decision": "validated",
        "level": "acquis",
        "comment": "Réunion bien menée.",
    }
    assert client.post(f"/a-valider/{claim.id}", data=form).status_code == 303
    told = outbox()[before:]
    subjects = [m["Subject"] for m in told]
    assert subjects == [
        "Compétence validée : C1.1 Animer une réunion publique",
        "Nouveau badge : Animer une réunion publique",
    ]
    assert f"{BASE}/mes-demandes/{claim.id}" in told[0].get_content()
    assert f"{BASE}/mes-badges/" in told[1].get_content() and all(m["To"] == world.learner.email for m in told)
