"""E-mailed single-use links (invitations, password resets): hash-only storage, expiry, single use, sessions ended."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AccountLink, AuditEvent, LinkPurpose, Person, RefreshToken, WebSession
from app.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.runtime import runtime
from app.services.identity import access, account_links, auth, web_sessions
from app.services.identity.audit import Actor

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NEW_PASSWORD = "une phrase assez longue"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def settings(clock: Clock) -> account_links.LinkSettings:
    return account_links.LinkSettings(base_url="https://blason.test/", clock=clock)


@pytest.fixture()
def passwords(app):  # type: ignore[no-untyped-def]
    return runtime(app).passwords


def token_of(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The page path and the token of the link a message carries."""
    found = re.search(r"https://blason\.test(/(?:invitation|mot-de-passe)/)([\w-]+)", message.body)
    assert found, message.body
    return found.group(1), found.group(2)


def admin() -> access.Grants:
    return access.Grants(Actor(None), platform_admin=True)


def test_a_reset_link_is_stored_only_as_its_hash_and_leads_to_the_reset_page(session, make_person, settings):
    person = make_person(locale="fr")
    (message,) = account_links.request_reset(session, person.email.upper(), settings=settings)
    path, token = token_of(message)
    assert path == "/mot-de-passe/" and message.to == person.email
    assert message.subject == "Choisir un nouveau mot de passe Blason"
    assert "valable 60 minutes" in message.body and person.display_name in message.body
    rows = session.scalars(select(AccountLink).where(AccountLink.person_id == person.id)).all()
    assert [(r.purpose, r.token_hash, r.used_at) for r in rows] == [
        (LinkPurpose.RESET, hashlib.sha256(token.encode()).hexdigest(), None)
    ]
    assert rows[0].expires_at == NOW + timedelta(hours=1)
    stored = session.scalars(select(AccountLink.token_hash)).all()
    assert token not in stored


def test_an_english_account_gets_its_e_mail_and_link_in_english(session, make_person, settings):
    person = make_person(locale="en")
    (message,) = account_links.request_reset(session, person.email, settings=settings)
    assert message.subject == "Choose a new Blason password"
    assert "?lang=en" in message.body and "Hello " in message.body


def test_no_reset_for_an_unknown_address_an_assisted_or_a_disabled_account(session, make_person, settings):
    assisted = make_person(is_assisted=True, password_hash=None)
    disabled = make_person(is_active=False)
    for email in ("personne@example.org", assisted.email, disabled.email):
        assert account_links.request_reset(session, email, settings=settings) == ()
    assert session.scalar(select(AccountLink.id)) is None


def test_a_link_works_once(session, make_person, settings, passwords):
    person = make_person()
    _, token = token_of(account_links.request_reset(session, person.email, settings=settings)[0])
    chosen = account_links.new_password(NEW_PASSWORD, NEW_PASSWORD, passwords=passwords)
    assert account_links.use(session, token, LinkPurpose.RESET, chosen, settings=settings).id == person.id
    assert passwords.verify(person.password_hash, NEW_PASSWORD)
    assert account_links.lookup(session, token, LinkPurpose.RESET, clock=settings.clock) is None
    with pytest.raises(InvalidInput) as refused:
        account_links.use(session, token, LinkPurpose.RESET, chosen, settings=settings)
    assert [e.pointer for e in refused.value.errors] == ["#/token"]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "account.password_chosen")).one()
    assert event.data == {"via": "reset"} and event.subject_id == str(person.id)


def test_a_link_expires_on_the_clock(session, make_person, settings, clock, passwords):
    person = make_person()
    _, token = token_of(account_links.request_reset(session, person.email, settings=settings)[0])
    clock.now = NOW + timedelta(minutes=59)
    assert account_links.lookup(session, token, LinkPurpose.RESET, clock=clock) is not None
    clock.now = NOW + timedelta(minutes=60)
    assert account_links.lookup(session, token, LinkPurpose.RESET, clock=clock) is None
    chosen = account_links.new_password(NEW_PASSWORD, passwords=passwords)
    with pytest.raises(account_links.LinkNotValid):
        account_links.use(session, token, LinkPurpose.RESET, chosen, settings=settings)


def test_an_unknown_token_or_one_of_the_other_purpose_is_not_valid(session, make_person, settings):
    person = make_person()
    _, token = token_of(account_links.request_reset(session, person.email, settings=settings)[0])
    assert account_links.lookup(session, token, LinkPurpose.INVITATION, clock=settings.clock) is None
    assert account_links.lookup(session, "inconnu", LinkPurpose.RESET, clock=settings.clock) is None


def test_a_new_link_replaces_the_unused_one(session, make_person, settings):
    person = make_person()
    _, first = token_of(account_links.request_reset(session, person.email, settings=settings)[0])
    _, second = token_of(account_links.request_reset(session, person.email, settings=settings)[0])
    assert account_links.lookup(session, first, LinkPurpose.RESET, clock=settings.clock) is None
    assert account_links.lookup(session, second, LinkPurpose.RESET, clock=settings.clock) is not None


def test_a_reset_ends_every_session_and_refresh_token_of_the_person(app, session, make_person, settings, passwords):
    person, other = make_person(), make_person()
    rt = runtime(app)
    for who in (person, person, other):
        web_sessions.start(session, who.id, replacing=None, settings=rt.web_sessions)
    pair = auth.login(
        session,
        auth.check_password(session, person.email, "correct horse battery staple", passwords=passwords),
        settings=rt.tokens,
    )
    _, token = token_of(account_links.request_reset(session, person.email, settings=settings)[0])
    chosen = account_links.new_password(NEW_PASSWORD, passwords=passwords)
    account_links.use(session, token, LinkPurpose.RESET, chosen, settings=settings)
    assert session.scalars(select(WebSession.person_id)).all() == [other.id]
    revoked = session.scalars(select(RefreshToken.revoked_at).where(RefreshToken.person_id == person.id)).all()
    assert revoked and all(revoked)
    with pytest.raises(Exception, match="already used|closed"):
        auth.refresh(session, pair.refresh_token, settings=rt.tokens)


def test_password_rules_are_those_of_the_api(passwords):
    assert account_links.password_problems("") == {"password": "missing"}
    assert account_links.password_problems("a" * 11) == {"password": "too_short"}
    assert account_links.password_problems("a" * 1025) == {"password": "too_long"}
    assert account_links.password_problems("a" * 12, "b" * 12) == {"repeated": "mismatch"}
    assert account_links.password_problems("a" * 12, "a" * 12) == {}
    with pytest.raises(InvalidInput) as refused:
        account_links.new_password("court", passwords=passwords)
    assert [e.pointer for e in refused.value.errors] == ["#/password"]


def test_a_new_account_with_an_e_mail_is_invited_one_without_is_not(session, make_person, settings):
    coordinator = make_person(display_name="Karim Benali")
    grants = access.Grants(Actor(coordinator.id), platform_admin=True)
    invited = make_person(password_hash=None, locale="fr")
    (message,) = account_links.invite(session, grants, invited, settings=settings)
    path, _ = token_of(message)
    assert path == "/invitation/" and message.subject == "Votre compte Blason vous attend"
    assert "Karim Benali vous a créé un compte" in message.body and "valable 7 jours" in message.body
    link = session.scalars(select(AccountLink).where(AccountLink.person_id == invited.id)).one()
    assert link.expires_at == NOW + timedelta(days=7)
    assisted = make_person(email=None, password_hash=None, is_assisted=True)
    assert account_links.invite(session, grants, assisted, settings=settings) == ()


def test_an_invitation_is_resent_by_the_person_s_coordinator_only(
    session, make_person, make_project, make_territory, grant, settings, passwords
):
    territory = make_territory()
    project = make_project(territory)
    invited = make_person(password_hash=None)
    grant(invited, "learner", project)
    coordinator, stranger, tutor = make_person(), make_person(), make_person()
    grant(coordinator, "coordinator", territory)
    grant(stranger, "coordinator", make_territory())
    grant(tutor, "tutor", project)
    with pytest.raises(NotFound):
        account_links.resend_invitation(
            session, access.load_grants(session, stranger.id), invited.id, settings=settings
        )
    with pytest.raises(PermissionDenied):
        account_links.resend_invitation(session, access.load_grants(session, tutor.id), invited.id, settings=settings)
    grants = access.load_grants(session, coordinator.id)
    _, first = token_of(account_links.resend_invitation(session, grants, invited.id, settings=settings)[0])
    _, second = token_of(account_links.resend_invitation(session, grants, invited.id, settings=settings)[0])
    assert account_links.lookup(session, first, LinkPurpose.INVITATION, clock=settings.clock) is None
    chosen = account_links.new_password(NEW_PASSWORD, passwords=passwords)
    account_links.use(session, second, LinkPurpose.INVITATION, chosen, settings=settings)
    with pytest.raises(Conflict):  # accepted: from now on, "forgotten password" is the way
        account_links.resend_invitation(session, grants, invited.id, settings=settings)
    assert session.get(Person, invited.id).password_hash
