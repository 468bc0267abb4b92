"""Claims and tutor reviews: the validation workflow."""

from __future__ import annotations

import uuid

from flask.views import MethodView

from app.api import Blueprint
from app.api.caller import IF_MATCH_PARAMETER, current_grants, expected_version, with_etag
from app.db import db
from app.mailing import award_after_commit, page_links, send_after_commit
from app.runtime import runtime
from app.services.recognition import claims, reviews, suggestions
from schemas.base import page_of
from schemas.claims import (
    ClaimCreateSchema,
    ClaimDetailSchema,
    ClaimQuerySchema,
    ClaimResubmitSchema,
    ClaimSchema,
    ClaimUpdateSchema,
    CompetencySuggestionsSchema,
    QueueItemSchema,
    QueueQuerySchema,
    ReviewCreateSchema,
    ReviewSchema,
)

blp = Blueprint("recognition", __name__, description="Claims and tutor reviews")

IF_MATCH = [IF_MATCH_PARAMETER]


@blp.route("/claims")
class Claims(MethodView):
    @blp.arguments(ClaimQuerySchema, location="query")
    @blp.response(200, page_of(ClaimSchema))
    def get(self, args):
        """One's own claims, and those of the projects one tutors or coordinates."""
        return claims.list_claims(db.session, current_grants(), **args)

    @blp.arguments(ClaimCreateSchema)
    @blp.response(201, ClaimSchema)
    def post(self, data):
        """Claim that a submitted contribution shows a competency (one claim per competency)."""
        outcome = claims.create_claim(db.session, current_grants(), data, clock=runtime().clock, links=page_links())
        send_after_commit(outcome.messages)
        db.session.commit()
        return outcome.value, with_etag(outcome.value)


@blp.route("/contributions/<uuid:contribution_id>/suggested-competencies")
class Suggestions(MethodView):
    @blp.response(200, CompetencySuggestionsSchema)
    def get(self, contribution_id: uuid.UUID):
        """The ten competencies of the project's frameworks that best match the contribution's title and narrative.

        The frameworks are those of the competencies already claimed in the project (every current
        framework while none is); the most informative words of the text are searched, stems and
        accents as in /competencies/search. For whoever may read the contribution.
        """
        hits = suggestions.suggestions_for(
            db.session, current_grants(), contribution_id, base_url=runtime().settings.public_base_url
        )
        return {"items": hits}


@blp.route("/claims/<uuid:claim_id>")
class ClaimView(MethodView):
    @blp.response(200, ClaimDetailSchema)
    def get(self, claim_id: uuid.UUID):
        """A claim with every revision of its text and every review; ETag is its version."""
        detail = claims.claim_detail(db.session, current_grants(), claim_id)
        return detail, with_etag(detail.claim)

    @blp.arguments(ClaimUpdateSchema)
    @blp.response(200, ClaimSchema)
    @blp.doc(parameters=IF_MATCH)
    def patch(self, data, claim_id: uuid.UUID):
        """Edit the justification or self-assessment until a tutor reviews it (a new revision)."""
        claim = claims.update_claim(
            db.session, current_grants(), claim_id, data, expected_version=expected_version(), clock=runtime().clock
        )
        db.session.commit()
        return claim, with_etag(claim)


@blp.route("/claims/<uuid:claim_id>/withdraw")
class Withdraw(MethodView):
    @blp.response(200, ClaimSchema)
    @blp.doc(parameters=IF_MATCH)
    def post(self, claim_id: uuid.UUID):
        """Withdraw a claim not yet decided; it stays in the history."""
        claim = claims.withdraw_claim(
            db.session, current_grants(), claim_id, expected_version=expected_version(), clock=runtime().clock
        )
        db.session.commit()
        return claim, with_etag(claim)


@blp.route("/claims/<uuid:claim_id>/resubmit")
class Resubmit(MethodView):
    @blp.arguments(ClaimResubmitSchema)
    @blp.response(200, ClaimSchema)
    @blp.doc(parameters=IF_MATCH)
    def post(self, data, claim_id: uuid.UUID):
        """After needs_evidence: send the claim back to the queue with new evidence or an explanation."""
        outcome = claims.resubmit_claim(
            db.session,
            current_grants(),
            claim_id,
            data,
            expected_version=expected_version(),
            clock=runtime().clock,
            links=page_links(),
        )
        send_after_commit(outcome.messages)
        db.session.commit()
        return outcome.value, with_etag(outcome.value)


@blp.route("/claims/<uuid:claim_id>/reviews")
class Reviews(MethodView):
    @blp.arguments(ReviewCreateSchema)
    @blp.response(201, ReviewSchema)
    @blp.doc(parameters=IF_MATCH)
    def post(self, data, claim_id: uuid.UUID):
        """Decide: validated (with a level), rejected or needs_evidence, always with a comment."""
        outcome = reviews.review_claim(
            db.session,
            current_grants(),
            claim_id,
            data,
            expected_version=expected_version(),
            clock=runtime().clock,
            links=page_links(),
        )
        send_after_commit(outcome.messages)
        award_after_commit()  # a changed standing may satisfy an award rule
        db.session.commit()
        return outcome.value


@blp.route("/reviews/queue")
class Queue(MethodView):
    @blp.arguments(QueueQuerySchema, location="query")
    @blp.response(200, page_of(QueueItemSchema))
    def get(self, args):
        """Claims of the projects one tutors, oldest first, with evidence and earlier reviews."""
        return reviews.review_queue(db.session, current_grants(), **args)
