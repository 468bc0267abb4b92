"""Concurrent awards and revocations of one issuer on real connections (PostgreSQL).

The issuer's open revocation list is locked (SELECT … FOR UPDATE) by every award and every
status change, so indexes are never handed out twice and no bit is lost.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import sessionmaker

import badges
from app.models import (
    Achievement,
    AchievementAlignment,
    AchievementVersion,
    AwardRuleCompetency,
    Credential,
    Issuer,
    Membership,
    Person,
    SigningKey,
    StatusList,
    StatusPurpose,
)
from app.runtime import runtime
from app.services.issuing import achievements, awarding, issuers, revocation
from tests.audit_support import audit_mark, restore_audit
from tests.issuing_fixtures import SYSTEM, issuing_settings

THREADS, PER_THREAD = 4, 3


@pytest.fixture()
def committed(app, engine) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the second would wait for the lock, not race")
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    settings = issuing_settings()
    with factory() as s:
        before = audit_mark(s)
        n = uuid.uuid4().hex[:8]
        learners = [Person(display_name=f"L{i}", email=f"race{i}-{n}@example.org") for i in range(THREADS * PER_THREAD)]
        s.add_all(learners)
        s.flush()
        issuer = issuers.create_issuer(
            s, SYSTEM, {"name": "Course", "url": "https://course.example.fr"}, settings=settings
        )
        achievement = achievements.create_achievement(
            s,
            SYSTEM,
            issuer.id,
            {"name": "Courir", "description": "Courir vite.", "criteria": "Avoir couru."},
            storage=runtime(app).storage,
            urls=settings.urls,
        )
        s.commit()
        ids = {"issuer": issuer.id, "achievement": achievement.id, "learners": [p.id for p in learners]}
    try:
        yield ids
    finally:
        with factory() as s:
            s.execute(delete(Credential).where(Credential.issuer_id == ids["issuer"]))
            versions = select(AchievementVersion.id).where(AchievementVersion.achievement_id == ids["achievement"])
            s.execute(delete(AchievementAlignment).where(AchievementAlignment.achievement_version_id.in_(versions)))
            s.execute(delete(AwardRuleCompetency).where(AwardRuleCompetency.achievement_version_id.in_(versions)))
            s.execute(delete(AchievementVersion).where(AchievementVersion.achievement_id == ids["achievement"]))
            s.execute(delete(Achievement).where(Achievement.id == ids["achievement"]))
            s.execute(update(StatusList).where(StatusList.issuer_id == ids["issuer"]).values(twin_id=None))
            s.execute(delete(StatusList).where(StatusList.issuer_id == ids["issuer"]))
            s.execute(delete(SigningKey).where(SigningKey.issuer_id == ids["issuer"]))
            s.execute(delete(Membership).where(Membership.scope_id == ids["issuer"]))
            s.execute(delete(Issuer).where(Issuer.id == ids["issuer"]))
            restore_audit(s, before)
            s.execute(delete(Person).where(Person.id.in_(ids["learners"])))
            s.commit()


def _in_threads(work: list[list[Any]], fn) -> list[BaseException]:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def run(items: list[Any]) -> None:
        barrier.wait()
        for item in items:
            try:
                fn(item)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(items,)) for items in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_awards_get_distinct_indexes_and_concurrent_revocations_lose_no_bit(engine, committed):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    settings = issuing_settings()

    def award(learner_id: uuid.UUID) -> None:
        with factory() as s:
            awarding.award(s, SYSTEM, committed["achievement"], {"learner_id": learner_id}, settings=settings)
            s.commit()

    learners = committed["learners"]
    errors = _in_threads([learners[i::THREADS] for i in range(THREADS)], award)
    assert errors == []
    with factory() as s:
        credentials = list(s.scalars(select(Credential).where(Credential.issuer_id == committed["issuer"])))
        assert len(credentials) == len(learners)
        indexes = {c.status_index for c in credentials}
        assert len(indexes) == len(learners)
        revocation_list = s.scalar(
            select(StatusList).where(
                StatusList.issuer_id == committed["issuer"], StatusList.purpose == StatusPurpose.REVOCATION
            )
        )
        assert revocation_list.next_index == len(learners)
        allocated = badges.StatusList(bits=bytearray(revocation_list.allocated))
        assert all(allocated.get(i) for i in indexes)
        ids = [c.id for c in credentials]

    def revoke(credential_id: uuid.UUID) -> None:
        with factory() as s:
            revocation.revoke(s, SYSTEM, credential_id, "Course", settings=settings)
            s.commit()

    errors = _in_threads([ids[i::THREADS] for i in range(THREADS)], revoke)
    assert errors == []
    with factory() as s:
        revocation_list = s.get(StatusList, revocation_list.id)
        signed = badges.StatusList.decode(revocation_list.signed_credential["credentialSubject"]["encodedList"])
        assert all(signed.get(i) for i in indexes)
