"""Authentication, people, memberships and facilitations."""

from __future__ import annotations

import uuid

from flask import Response, jsonify, request
from flask.views import MethodView
from werkzeug.exceptions import TooManyRequests

from app.api import Blueprint
from app.api.caller import ETAG_HEADER, IF_MATCH_PARAMETER, current_grants, etag, expected_version, with_etag
from app.db import db, reads_only, start_writing
from app.mailing import send_after_commit
from app.runtime import runtime
from app.services.identity import account_links, auth, people
from app.services.recognition import standing
from schemas.account_links import PasswordResetConfirmSchema, PasswordResetRequestSchema
from schemas.accounts import (
    FacilitationCreateSchema,
    FacilitationSchema,
    LoginSchema,
    MembershipCreateSchema,
    MembershipQuerySchema,
    MembershipSchema,
    MeSchema,
    PersonCreateSchema,
    PersonSchema,
    PersonUpdateSchema,
    RefreshSchema,
    TokenPairSchema,
)
from schemas.base import page_of
from schemas.claims import PortfolioQuerySchema, PortfolioSchema, StandingEntrySchema, StandingQuerySchema

blp = Blueprint(
    "identity", __name__, description="Log in, people, roles, facilitation, and a person's standings and portfolio"
)


def _check_login_rate(email: str) -> None:
    """Throttle before the password is hashed; the same answer whether the account exists or not."""
    wait = runtime().login_limits.take(email, request.remote_addr or "-")
    if wait is not None:
        raise TooManyRequests(
            "Trop de tentatives de connexion ; réessayez plus tard. (Too many sign-in attempts; try again later.)",
            retry_after=wait,
        )


def _link_settings() -> account_links.LinkSettings:
    rt = runtime()
    return account_links.LinkSettings(base_url=rt.settings.public_base_url, clock=rt.clock)


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(429, description="Too many attempts on this account or from this address (Retry-After)")
    @blp.public
    @reads_only  # the password is hashed outside the write transaction, which opens only to record
    def post(self, data):
        """Log in with e-mail and password; returns an access and a refresh token."""
        _check_login_rate(data["email"])
        rt = runtime()
        check = auth.check_password(db.session, data["email"], data["password"], passwords=rt.passwords)
        start_writing(db.session)
        pair = auth.login(db.session, check, settings=rt.tokens)
        db.session.commit()
        return pair


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenPairSchema)
    @blp.public
    def post(self, data):
        """Exchange a refresh token for a new pair (the old one stops working)."""
        pair = auth.refresh(db.session, data["refresh_token"], settings=runtime().tokens)
        db.session.commit()
        return pair


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(204)
    @blp.public
    def post(self, data):
        """Revoke a refresh token and every token rotated from the same login."""
        auth.logout(db.session, data["refresh_token"], settings=runtime().tokens)
        db.session.commit()


@blp.route("/auth/password-reset")
class PasswordReset(MethodView):
    @blp.arguments(PasswordResetRequestSchema)
    @blp.response(202)
    @blp.alt_response(429, description="Too many requests for this e-mail or from this address (Retry-After)")
    @blp.public
    def post(self, data):
        """E-mail a password reset link (valid 1 hour) to the account of this address, if there is one.

        The answer is the same whether the account exists or not; throttled like logging in.
        """
        _check_login_rate(data["email"])
        send_after_commit(account_links.request_reset(db.session, data["email"], settings=_link_settings()))
        db.session.commit()
        return Response(status=202)  # accepted, no body


@blp.route("/auth/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @blp.arguments(PasswordResetConfirmSchema)
    @blp.response(204)
    @blp.alt_response(429, description="Too many attempts from this address (Retry-After)")
    @blp.public
    @reads_only  # the password is hashed outside the write transaction, which opens only to save it
    def post(self, data):
        """Choose a new password with a reset link's token (once); every session of the account ends."""
        rt = runtime()
        wait = rt.login_limits.address.take(request.remote_addr or "-")
        if wait is not None:
            raise TooManyRequests("Too many attempts; try again later.", retry_after=wait)
        account_links.find(db.session, data["token"], account_links.RESET, clock=rt.clock)  # 422 before hashing
        chosen = account_links.new_password(data["password"], passwords=rt.passwords)
        start_writing(db.session)
        account_links.use(db.session, data["token"], account_links.RESET, chosen, settings=_link_settings())
        db.session.commit()


@blp.route("/people/me")
class Me(MethodView):
    @blp.response(200, MeSchema, headers=ETAG_HEADER)
    def get(self):
        """The caller's account and roles (the learner's when acting for them); ETag for If-Match."""
        me = people.get_me(db.session, current_grants())
        return me, etag(me.person.version)

    @blp.arguments(PersonUpdateSchema)
    @blp.response(200, PersonSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_PARAMETER])
    def patch(self, data):
        """Change one's display name, language, public name choice or DID (If-Match required)."""
        person = people.update_me(db.session, current_grants(), data, expected_version=expected_version())
        db.session.commit()
        return person, with_etag(person)


@blp.route("/people")
class People(MethodView):
    @blp.arguments(PersonCreateSchema)
    @blp.response(201, PersonSchema)
    def post(self, data):
        """Create an account (assisted accounts need no e-mail; their creator facilitates).

        An account with an e-mail is sent an invitation to choose its password (a link valid 7 days).
        """
        grants = current_grants()
        person = people.create_person(db.session, grants, data, passwords=runtime().passwords)
        send_after_commit(account_links.invite(db.session, grants, person, settings=_link_settings()))
        db.session.commit()
        return person


@blp.route("/people/<uuid:person_id>")
class PersonView(MethodView):
    @blp.response(200, PersonSchema)
    def get(self, person_id: uuid.UUID):
        """A person sharing a territory with the caller."""
        return people.get_person(db.session, current_grants(), person_id)


@blp.route("/people/<uuid:person_id>/invitation")
class Invitation(MethodView):
    @blp.response(202)
    def post(self, person_id: uuid.UUID):
        """Send a person a new invitation e-mail (the earlier link stops working): their coordinators only."""
        messages = account_links.resend_invitation(db.session, current_grants(), person_id, settings=_link_settings())
        send_after_commit(messages)
        db.session.commit()
        return Response(status=202)  # accepted, no body


@blp.route("/memberships")
class Memberships(MethodView):
    @blp.arguments(MembershipQuerySchema, location="query")
    @blp.response(200, page_of(MembershipSchema))
    def get(self, args):
        """Memberships the caller may see, filtered by person or scope."""
        return people.list_memberships(db.session, current_grants(), **args)

    @blp.arguments(MembershipCreateSchema)
    @blp.response(201, MembershipSchema)
    def post(self, data):
        """Give a person a role in a scope."""
        membership = people.grant_membership(db.session, current_grants(), data)
        db.session.commit()
        return membership


@blp.route("/memberships/<uuid:membership_id>")
class MembershipView(MethodView):
    @blp.response(204)
    def delete(self, membership_id: uuid.UUID):
        """Withdraw a role."""
        people.revoke_membership(db.session, current_grants(), membership_id)
        db.session.commit()


@blp.route("/facilitations")
class Facilitations(MethodView):
    @blp.arguments(FacilitationCreateSchema)
    @blp.response(201, FacilitationSchema)
    def post(self, data):
        """Let a facilitator act for a learner (send X-Act-For: <learner id> then)."""
        facilitation = people.grant_facilitation(db.session, current_grants(), data)
        db.session.commit()
        return facilitation


@blp.route("/people/<uuid:person_id>/standings")
class Standings(MethodView):
    @blp.arguments(StandingQuerySchema, location="query")
    @blp.response(200, page_of(StandingEntrySchema))
    def get(self, args, person_id: uuid.UUID):
        """A learner's current standing on each competency."""
        return standing.list_standings(db.session, current_grants(), person_id, **args)


@blp.route("/people/<uuid:person_id>/portfolio")
class Portfolio(MethodView):
    @blp.arguments(PortfolioQuerySchema, location="query")
    @blp.response(200, PortfolioSchema)
    def get(self, args, person_id: uuid.UUID):
        """A learner's competencies as framework trees, with reviews and evidence behind each node."""
        # The service writes the document itself (thousands of nodes); PortfolioSchema documents
        # it, and a Response is returned as is.
        return jsonify(standing.portfolio(db.session, current_grants(), person_id, **args))
