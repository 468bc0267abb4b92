"""The last platform administrator cannot be removed: nobody could grant roles any more."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Membership, Person, Role
from app.platform.errors import Conflict
from app.services.identity import people
from app.services.identity.access import Grants
from app.services.identity.audit import Actor
from tests.api.support import assert_problem

API = "/api/v1"


def admin_membership(session, person: Person) -> Membership:  # type: ignore[no-untyped-def]
    return session.scalar(
        select(Membership).where(Membership.person_id == person.id, Membership.role == Role.PLATFORM_ADMIN)
    )


@pytest.fixture()
def admins(session, make_person, grant):  # type: ignore[no-untyped-def]
    # Other tests' admins are rolled back: these two are the only ones.
    for row in session.scalars(select(Membership).where(Membership.role == Role.PLATFORM_ADMIN)):
        session.delete(row)
    first, second = make_person(), make_person()
    grant(first, "platform_admin")
    grant(second, "platform_admin")
    return first, second


def test_the_last_administrator_cannot_remove_their_own_role(client, session, headers, admins):
    first, second = admins
    r = client.delete(f"{API}/memberships/{admin_membership(session, second).id}", headers=headers(first))
    assert r.status_code == 204
    r = client.delete(f"{API}/memberships/{admin_membership(session, first).id}", headers=headers(first))
    body = assert_problem(r, 409)
    assert "administrat" in body["detail"]
    assert admin_membership(session, first) is not None
    assert client.get(f"{API}/memberships", headers=headers(first)).status_code == 200


def test_an_administrator_whose_account_is_disabled_does_not_count(client, session, headers, admins):
    first, second = admins
    session.get(Person, second.id).is_active = False
    session.commit()
    r = client.delete(f"{API}/memberships/{admin_membership(session, first).id}", headers=headers(first))
    assert_problem(r, 409)
    # Removing the disabled one's role is fine: an active administrator remains.
    r = client.delete(f"{API}/memberships/{admin_membership(session, second).id}", headers=headers(first))
    assert r.status_code == 204


def test_nobody_removes_the_last_admin_membership(session, admins):
    """Not even the system (the CLI acts as platform administrator without a membership)."""
    first, second = admins
    system = Grants(Actor(None), platform_admin=True)
    people.revoke_membership(session, system, admin_membership(session, second).id)
    with pytest.raises(Conflict):
        people.revoke_membership(session, system, admin_membership(session, first).id)


def test_admin_removals_lock_the_admin_memberships(session, engine, admins):
    """Two administrators removing each other at once queue up, so one of them stays."""
    from sqlalchemy import event

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time and no row locks")
    first, second = admins
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        people.revoke_membership(
            session, Grants(Actor(None), platform_admin=True), admin_membership(session, second).id
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    locking = [s for s in statements if "FROM memberships" in s and s.rstrip().endswith("FOR UPDATE")]
    assert locking and statements.index(locking[0]) < next(
        n for n, s in enumerate(statements) if s.lstrip().startswith("DELETE FROM memberships")
    )
