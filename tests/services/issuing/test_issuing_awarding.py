"""Automatic awards from standing events, approvals, bulk CSV awards and badge images."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.models import (
    Achievement,
    Claim,
    ClaimStatus,
    Contribution,
    ContributionStatus,
    Credential,
    CredentialState,
    DomainEvent,
    Evidence,
    EvidenceKind,
    Standing,
    Visibility,
)
from app.platform import images
from app.platform.errors import Conflict, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from app.runtime import runtime
from app.services.issuing import achievements, awarding, bulk, wallet
from app.services.verification import public_docs
from tests.issuing_fixtures import Setup, verify_stored


def _credentials(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(Credential)) or 0


def _validate(session, setup: Setup, competency, level="acquis", hours=None, public_link=None):  # type: ignore[no-untyped-def]
    """What the review workflow leaves behind: a validated claim, the standing, the event."""
    project_id = _project(session, setup)
    contribution = Contribution(
        project_id=project_id,
        learner_id=setup.learner.id,
        created_by_id=setup.learner.id,
        title=f"Atelier {competency.code}",
        role="animatrice",
        status=ContributionStatus.SUBMITTED,
        hours=Decimal(hours) if hours is not None else None,
    )
    session.add(contribution)
    session.flush()
    if public_link:
        session.add(
            Evidence(
                contribution_id=contribution.id,
                kind=EvidenceKind.LINK,
                title="Compte rendu",
                url=public_link,
                visibility=Visibility.PUBLIC,
                created_by_id=setup.learner.id,
            )
        )
        session.add(
            Evidence(
                contribution_id=contribution.id,
                kind=EvidenceKind.TEXT,
                title="Notes privées",
                text="secret",
                visibility=Visibility.PRIVATE,
                created_by_id=setup.learner.id,
            )
        )
    session.add(
        Claim(
            contribution_id=contribution.id,
            project_id=project_id,
            competency_id=competency.id,
            learner_id=setup.learner.id,
            justification="J'ai animé.",
            status=ClaimStatus.VALIDATED,
            created_by_id=setup.learner.id,
        )
    )
    standing = session.scalar(
        select(Standing).where(Standing.learner_id == setup.learner.id, Standing.competency_id == competency.id)
    )
    if standing is None:
        standing = Standing(learner_id=setup.learner.id, competency_id=competency.id, state="validated")
        session.add(standing)
    standing.level, standing.proficient = level, level in ("acquis", "maitrise")
    session.add(
        DomainEvent(
            kind="standing.changed",
            payload={
                "learner": str(setup.learner.id),
                "competency": str(competency.id),
                "level": level,
                "proficient": level in ("acquis", "maitrise"),
                "state": "validated",
            },
        )
    )
    session.commit()


_projects: dict[uuid.UUID, uuid.UUID] = {}


def _project(session, setup: Setup) -> uuid.UUID:  # type: ignore[no-untyped-def]
    from app.models import Project, Territory

    if setup.issuer.id not in _projects or session.get(Project, _projects[setup.issuer.id]) is None:
        territory = Territory(name="Territoire des tests")
        session.add(territory)
        session.flush()
        project = Project(territory_id=territory.id, title="Tiers-lieu", social_functions=["produire"])
        session.add(project)
        session.flush()
        _projects[setup.issuer.id] = project.id
    return _projects[setup.issuer.id]


def _ruled(session, setup: Setup, settings, mode: str, **rule) -> Achievement:  # type: ignore[no-untyped-def]
    ids = [c.id for c in setup.competencies]
    return achievements.create_achievement(
        session,
        setup.grants(session),
        setup.issuer.id,
        {
            "name": "Faciliter",
            "description": "Faciliter un collectif.",
            "criteria": "Deux compétences acquises.",
            "award_rule": {"type": "all", "competency_ids": ids[:2], **rule},
            "award_mode": mode,
        },
        storage=_storage(),
        urls=settings.urls,
    )


def _storage():  # type: ignore[no-untyped-def]
    from flask import current_app

    return runtime(current_app).storage


@pytest.fixture()
def app_ctx(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield


def test_rule_satisfied_by_standing_events_issues_once(session, issuing: Setup, settings, app_ctx) -> None:
    achievement = _ruled(session, issuing, settings, "auto")
    session.commit()
    first, second, _third = issuing.competencies
    _validate(session, issuing, first, public_link="https://example.fr/compte-rendu")
    report = awarding.process_award_events(session, settings=settings)
    session.commit()
    assert report.processed == 1 and report.issued == []  # one of two competencies: not yet
    _validate(session, issuing, second, level="maitrise", hours="3.5")
    report = awarding.process_award_events(session, settings=settings)
    session.commit()
    assert report.processed == 1 and len(report.issued) == 1
    credential = session.get(Credential, report.issued[0])
    assert credential.origin == "auto" and credential.state is CredentialState.ISSUED
    document = credential.ob3_credential
    assert document["credentialSubject"]["result"][0]["value"] == "acquis"  # the lowest level that counts
    names = [e.get("name") for e in document["evidence"]]
    assert "Compte rendu" in names and "Notes privées" not in names  # public evidence only
    assert all(r.valid for r in verify_stored(session, credential, settings.urls).values())
    # Replaying the queue awards nobody twice; a new event for the same learner neither.
    assert awarding.process_award_events(session, settings=settings).events == 0
    session.add(
        DomainEvent(
            kind="standing.changed",
            payload={"learner": str(issuing.learner.id), "competency": str(first.id), "state": "validated"},
        )
    )
    report = awarding.process_award_events(session, settings=settings)
    assert report.processed == 1 and report.issued == []
    assert (
        session.scalar(
            select(func.count())
            .select_from(Credential)
            .where(
                Credential.achievement_version_id.in_(
                    select(achievements.AchievementVersion.id).where(
                        achievements.AchievementVersion.achievement_id == achievement.id
                    )
                )
            )
        )
        == 1
    )
    assert session.scalar(select(func.count()).select_from(DomainEvent).where(DomainEvent.processed_at.is_(None))) == 0


def test_approval_mode_proposes_then_issues(session, issuing: Setup, settings, app_ctx) -> None:
    _ruled(session, issuing, settings, "approval", min_hours=2)
    session.commit()
    first, second, _ = issuing.competencies
    _validate(session, issuing, first, hours="1")
    _validate(session, issuing, second, hours="0.5")
    report = awarding.process_award_events(session, settings=settings)
    session.commit()
    assert report.processed == 2 and report.proposed == []  # 1.5 h < 2 h
    _validate(session, issuing, second, hours="1")  # a second contribution on the same competency
    report = awarding.process_award_events(session, settings=settings)
    session.commit()
    assert len(report.proposed) == 1
    proposal = session.get(Credential, report.proposed[0])
    assert proposal.state is CredentialState.PROPOSED and proposal.ob3_credential is None
    assert public_docs.ob2_assertion_document(proposal) is None
    assert wallet.my_badges(session, issuing.grants(session, issuing.learner), urls=settings.urls).total == 0
    issued = awarding.approve(session, issuing.grants(session), proposal.id, settings=settings)
    session.commit()
    assert issued.state is CredentialState.ISSUED and issued.ob3_jwt
    with pytest.raises(Conflict):
        awarding.approve(session, issuing.grants(session), proposal.id, settings=settings)


def test_declined_proposal_is_not_proposed_again(session, issuing: Setup, settings, app_ctx) -> None:
    _ruled(session, issuing, settings, "approval")
    session.commit()
    for competency in issuing.competencies[:2]:
        _validate(session, issuing, competency)
    proposal_id = awarding.process_award_events(session, settings=settings).proposed[0]
    awarding.decline(session, issuing.grants(session), proposal_id, "Pas encore", settings=settings)
    session.add(
        DomainEvent(
            kind="standing.changed",
            payload={
                "learner": str(issuing.learner.id),
                "competency": str(issuing.competencies[0].id),
                "state": "validated",
            },
        )
    )
    assert awarding.process_award_events(session, settings=settings).proposed == []


def test_malformed_events_are_consumed_without_awarding(session, issuing: Setup, settings) -> None:
    session.add_all(
        [
            DomainEvent(kind="standing.changed", payload={"learner": "x"}),
            DomainEvent(
                kind="standing.changed", payload={"learner": str(uuid.uuid4()), "competency": str(uuid.uuid4())}
            ),
        ]
    )
    report = awarding.process_award_events(session, settings=settings)
    assert report.processed == 2 and report.failed == 0 and _credentials(session) == 0


# Bulk -------------------------------------------------------------------------------------------


def _csv(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))


def test_bulk_dry_run_then_skip_invalid_then_resend(session, issuing: Setup, settings, make_person) -> None:
    other = make_person(email="Marc@Example.org")
    a = issuing.achievement.id
    lines = [
        "Email,Achievement_ID,evidence_url,narrative",
        f"{issuing.learner.email},{a},https://example.fr/p,Bravo",
        f"marc@example.org,{a},,",
        f"inconnu@example.org,{a},,",
        f"{issuing.learner.email},{a},,",  # the same learner twice in the file
        f"{other.email},not-a-uuid,,",
        f"{other.email},{a},javascript:alert(1),",
    ]
    grants = issuing.grants(session)
    report = bulk.bulk_award(
        session, grants, issuing.issuer.id, _csv(*lines), mode="dry_run", settings=settings, max_bytes=10**6
    )
    assert [r.status for r in report.rows] == ["valid", "valid", "invalid", "duplicate", "invalid", "invalid"]
    assert report.rows[2].errors[0].pointer == "#/rows/4/email"
    assert _credentials(session) == 0
    with pytest.raises(InvalidInput) as caught:
        bulk.bulk_award(
            session,
            grants,
            issuer_id=issuing.issuer.id,
            stream=_csv(*lines),
            mode="all_or_nothing",
            settings=settings,
            max_bytes=10**6,
        )
    assert "nothing was awarded" in caught.value.detail and len(caught.value.errors) == 3
    session.rollback()
    assert _credentials(session) == 0
    report = bulk.bulk_award(
        session, grants, issuing.issuer.id, _csv(*lines), mode="skip_invalid", settings=settings, max_bytes=10**6
    )
    session.commit()
    assert report.issued == 2 and _credentials(session) == 2
    again = bulk.bulk_award(
        session, grants, issuing.issuer.id, _csv(*lines), mode="skip_invalid", settings=settings, max_bytes=10**6
    )
    session.commit()
    assert again.issued == 0 and again.already_awarded == 2 and _credentials(session) == 2


def test_bulk_refuses_bad_files(session, issuing: Setup, settings) -> None:
    grants = issuing.grants(session)

    def run(data: bytes, **kwargs):  # type: ignore[no-untyped-def]
        return bulk.bulk_award(
            session,
            grants,
            issuing.issuer.id,
            io.BytesIO(data),
            mode="dry_run",
            settings=settings,
            **{"max_bytes": 10**6, **kwargs},
        )

    with pytest.raises(InvalidInput, match="email or person_id"):
        run(b"name,achievement_id\nx,y\n")
    with pytest.raises(InvalidInput, match="UTF-8"):
        run(b"email,achievement_id\n\xff\xfe\xfa,x\n")
    with pytest.raises(InvalidInput, match="empty"):
        run(b"")
    too_many = "email\n" + "a@example.org\n" * (bulk.MAX_ROWS + 1)
    with pytest.raises(InvalidInput, match="5000"):
        run(too_many.encode(), achievement_id=issuing.achievement.id)
    with pytest.raises(PayloadTooLarge):
        run(b"email\n" + b"a" * 5000, max_bytes=1000)
    assert _credentials(session) == 0


# Images ------------------------------------------------------------------------------------------


def _png(width: int, height: int, pixels: bytes | None = None) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = pixels if pixels is not None else b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def test_images_are_checked_defensively() -> None:
    assert images.check_image(io.BytesIO(_png(4, 4)), 10**6).media_type == "image/png"
    with pytest.raises(UnsupportedMediaType):
        images.check_image(io.BytesIO(b"GIF89a not a badge"), 10**6)
    with pytest.raises(UnsupportedMediaType):
        images.check_image(io.BytesIO(_png(4, 4)[:40]), 10**6)  # truncated
    with pytest.raises(PayloadTooLarge):
        images.check_image(io.BytesIO(_png(100_000, 100_000, pixels=b"\x00")), 10**6)  # declared giant
    bomb = _png(10, 10, pixels=b"\x00" * 50_000_000)  # small header, pixel data that inflates to 50 MB
    assert len(bomb) < 100_000
    with pytest.raises(PayloadTooLarge, match="bomb"):
        images.check_image(io.BytesIO(bomb), 10**6)
    with pytest.raises(PayloadTooLarge):
        images.check_image(io.BytesIO(_png(4, 4)), 10)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4"/></svg>'
    assert images.check_image(io.BytesIO(svg), 10**6).media_type == "image/svg+xml"
    for bad in (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        b'<image x:href="https://evil.example/t.png"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil.example/a)"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
        b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
        b"<html><body>not svg</body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"',
    ):
        with pytest.raises(UnsupportedMediaType):
            images.check_image(io.BytesIO(bad), 10**6)


def test_default_badge_escapes_the_name() -> None:
    svg = images.default_badge_svg('<script>alert("x")</script> & Cie', "Émetteur")
    images.check_svg(svg)  # our own output passes our own checks
    assert b"<script>" not in svg and b"&lt;script&gt;" in svg


def test_achievement_image_upload_and_versioning(session, issuing: Setup, settings, app_ctx) -> None:
    achievement = achievements.set_image(
        session,
        issuing.grants(session),
        issuing.achievement.id,
        io.BytesIO(_png(8, 8)),
        storage=_storage(),
        max_bytes=10**6,
    )
    version = achievements.current_version(session, achievement)
    assert achievement.current_version == 1 and version.image_sha256
    with pytest.raises(UnsupportedMediaType):
        achievements.set_image(
            session,
            issuing.grants(session),
            issuing.achievement.id,
            io.BytesIO(b"%PDF-1.4"),
            storage=_storage(),
            max_bytes=10**6,
        )
