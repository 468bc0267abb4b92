"""An issuer whose achievement is awarded by rule, for the tests of the e-mails a review sets off."""

from __future__ import annotations

from app.runtime import runtime
from app.services.identity import access
from app.services.issuing import achievements, issuers


def auto_badge(app, session, world, make_person, grant):  # type: ignore[no-untyped-def]
    admin = make_person(display_name="Iris Émettrice")
    grant(admin, "platform_admin")
    grants = access.load_grants(session, admin.id)
    rt = runtime(app)
    issuer = issuers.create_issuer(
        session, grants, {"name": "Collectif", "url": "https://collectif.example.fr"}, settings=rt.issuing
    )
    achievement = achievements.create_achievement(
        session,
        grants,
        issuer.id,
        {
            "name": "Animer une réunion publique",
            "description": "Animation validée par un tuteur.",
            "criteria": "Une réunion publique animée.",
            "achievement_type": "Competency",
            "competency_ids": [world.competency.id],
            "award_mode": "auto",
            "award_rule": {"type": "all", "competencyIds": [str(world.competency.id)], "minLevel": "acquis"},
        },
        storage=rt.storage,
        urls=rt.issuing.urls,
    )
    session.commit()
    return admin, achievement
