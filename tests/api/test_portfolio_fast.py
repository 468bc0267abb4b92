"""The portfolio service writes the JSON document itself, without marshmallow: the response must
stay byte for byte what the nested schemas produced. The former service and its dump through
PortfolioSchema are kept here, and only here, as the reference every response is compared with:
hand-made edge cases, generated trees, every kind of caller, with and without ``?frameworkId=``."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    ContributionStatus,
    Decision,
    Evidence,
    EvidenceKind,
    Facilitation,
    Framework,
    Person,
    Project,
    Review,
    SourceType,
    Standing,
    Visibility,
)
from app.platform.errors import NotFound
from app.services.contributions import evidence as evidence_service
from app.services.identity.access import Grants
from app.services.recognition.claims import ReviewEntry, review_entries
from app.services.recognition.standing import check_can_view_learner
from schemas.claims import PortfolioSchema

API = "/api/v1"
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


# The reference: the service and the marshmallow dump as they were before the fast path.


@dataclass
class RefEvidence:
    id: uuid.UUID
    contribution_id: uuid.UUID
    kind: str
    title: str


@dataclass
class RefNode:
    id: uuid.UUID
    code: str | None
    label: str
    kind: str
    standing: Any = None
    reviews: list[ReviewEntry] = field(default_factory=list)
    evidence: list[RefEvidence] = field(default_factory=list)
    children: list[RefNode] = field(default_factory=list)
    position: int = 0


@dataclass
class RefTree:
    id: uuid.UUID
    title: str
    source_type: str
    version: int
    version_label: str | None
    nodes: list[RefNode]


@dataclass
class RefPortfolio:
    learner_id: uuid.UUID
    standings: int
    frameworks: list[RefTree]


def reference_portfolio(
    session,
    grants: Grants,
    learner_id: uuid.UUID,
    *,  # type: ignore[no-untyped-def]
    framework_id: uuid.UUID | None = None,
) -> RefPortfolio:
    check_can_view_learner(session, grants, learner_id)
    scope = reference_scope(session, grants, learner_id)
    stmt = (
        select(
            Standing.competency_id,
            Standing.level,
            Standing.state,
            Standing.proficient,
            Standing.decided_at,
            Standing.decided_by_id,
            Standing.review_id,
            Competency.framework_id,
        )
        .join(Competency, Competency.id == Standing.competency_id)
        .where(Standing.learner_id == learner_id)
    )
    every = {row.competency_id: row for row in session.execute(stmt)}
    if scope is not None:
        every = reference_scoped_standings(session, learner_id, scope, every)
    standings = {c: row for c, row in every.items() if not framework_id or row.framework_id == framework_id}
    if not standings:
        return RefPortfolio(learner_id, 0, [])
    held = list(every)
    tree = select(Competency.id, Competency.parent_id).where(Competency.id.in_(held)).cte("tree", recursive=True)
    tree = tree.union(select(Competency.id, Competency.parent_id).join(tree, Competency.id == tree.c.parent_id))
    competencies = list(
        session.execute(
            select(
                Competency.id,
                Competency.parent_id,
                Competency.framework_id,
                Competency.code,
                Competency.label,
                Competency.kind,
                Competency.position,
            ).where(Competency.id.in_(select(tree.c.id)))
        )
    )
    framework_ids = {c.framework_id for c in competencies}
    if framework_id:
        framework_ids &= {framework_id}
    frameworks = list(
        session.scalars(
            select(Framework).where(Framework.id.in_(framework_ids)).order_by(Framework.title, Framework.id)
        )
    )
    validated = list(
        session.execute(
            select(Claim.id, Claim.competency_id, Claim.contribution_id).where(
                Claim.learner_id == learner_id, Claim.status == ClaimStatus.VALIDATED
            )
        )
    )
    review_rows = [
        (row, row.competency_id)
        for row in session.execute(
            select(
                Review.id,
                Review.claim_id,
                Review.reviewer_id,
                Review.decision,
                Review.level,
                Review.proficient,
                Review.comment,
                Review.round,
                Review.final,
                Review.created_at,
                Claim.competency_id,
                Project.territory_id,
            )
            .join(Claim, Claim.id == Review.claim_id)
            .join(Project, Project.id == Claim.project_id)
            .where(Claim.learner_id == learner_id)
            .order_by(Review.created_at, Review.id)
        )
        if scope is None or row.territory_id in scope
    ]
    evidence_by_contribution = reference_visible_evidence(session, grants, learner_id)
    nodes = {
        c.id: RefNode(c.id, c.code, c.label, c.kind, standings.get(c.id), position=c.position) for c in competencies
    }
    for entry in review_entries(session, review_rows):
        if entry.competency_id in nodes:
            nodes[entry.competency_id].reviews.append(entry)
    for _claim_id, competency_id, contribution_id in validated:
        node = nodes.get(competency_id)
        if node is not None:
            known = {e.id for e in node.evidence}
            node.evidence.extend(e for e in evidence_by_contribution.get(contribution_id, []) if e.id not in known)
    roots: dict[uuid.UUID, list[RefNode]] = {f: [] for f in framework_ids}
    for c in competencies:
        if c.framework_id not in roots:
            continue
        if c.parent_id in nodes:
            nodes[c.parent_id].children.append(nodes[c.id])
        else:
            roots[c.framework_id].append(nodes[c.id])
    for node in nodes.values():
        node.children.sort(key=reference_order)
    return RefPortfolio(
        learner_id,
        len(standings),
        [
            RefTree(
                f.id, f.title, f.source_type.value, f.version, f.version_label, sorted(roots[f.id], key=reference_order)
            )
            for f in frameworks
        ],
    )


def reference_scope(session, grants: Grants, learner_id: uuid.UUID) -> set[uuid.UUID] | None:  # type: ignore[no-untyped-def]
    """The territories whose reviews a caller reads of someone else: coordinated, or of a tutored project;
    a facilitator acting for the learner reads the territories of the projects lent to them."""
    if grants.actor.id == learner_id and grants.actor.acting_for:
        return set(session.scalars(select(Project.territory_id).where(Project.id.in_(grants.learner_in))))
    if grants.platform_admin or grants.actor.id == learner_id:
        return None
    tutored = {p.territory_id for p in session.scalars(select(Project).where(Project.id.in_(grants.tutor_of)))}
    return set(grants.coordinator_of) | tutored


def reference_scoped_standings(
    session,
    learner_id: uuid.UUID,
    scope: set[uuid.UUID],  # type: ignore[no-untyped-def]
    stored: dict[uuid.UUID, Any],
) -> dict[uuid.UUID, Any]:
    """Stored standings no foreign review went into; the others derived from the reviews in scope alone."""
    finals = session.execute(
        select(Review, Claim.competency_id, Project.territory_id)
        .join(Claim, Claim.id == Review.claim_id)
        .join(Project, Project.id == Claim.project_id)
        .where(Claim.learner_id == learner_id, Review.final.is_(True))
    ).all()
    out: dict[uuid.UUID, Any] = {}
    for competency_id, row in stored.items():
        mine = [(r, t) for r, c, t in finals if c == competency_id]
        if all(t in scope for _r, t in mine):
            out[competency_id] = row
            continue
        inside = sorted((r for r, t in mine if t in scope), key=lambda r: (r.created_at, str(r.id)))
        if not inside:
            continue
        validated = [
            (bool(r.proficient), -1 if r.level_rank is None else r.level_rank, n, r)
            for n, r in enumerate(inside)
            if r.decision is Decision.VALIDATED
        ]
        best = max(validated, key=lambda v: v[:3])[3] if validated else None
        chosen = best or inside[-1]
        out[competency_id] = SimpleNamespace(
            competency_id=competency_id,
            framework_id=row.framework_id,
            level=best.level if best else None,
            state="validated" if best else chosen.decision.value,
            proficient=bool(best and best.proficient),
            decided_at=chosen.created_at,
            decided_by_id=chosen.reviewer_id,
            review_id=chosen.id,
        )
    return out


def reference_order(node: RefNode) -> tuple[int, str, str]:
    return node.position, node.code or "", str(node.id)


def reference_visible_evidence(
    session,
    grants: Grants,  # type: ignore[no-untyped-def]
    learner_id: uuid.UUID,
) -> dict[uuid.UUID, list[RefEvidence]]:
    behind = select(Claim.contribution_id).where(Claim.learner_id == learner_id, Claim.status == ClaimStatus.VALIDATED)
    contributions = {c.id: c for c in session.scalars(select(Contribution).where(Contribution.id.in_(behind)))}
    projects = (
        {
            p.id: p
            for p in session.scalars(
                select(Project).where(Project.id.in_({c.project_id for c in contributions.values()}))
            )
        }
        if contributions
        else {}
    )
    out: dict[uuid.UUID, list[RefEvidence]] = {}
    for item in session.scalars(
        select(Evidence).where(Evidence.contribution_id.in_(behind)).order_by(Evidence.created_at, Evidence.id)
    ):
        contribution = contributions[item.contribution_id]
        if evidence_service.can_read(grants, item, contribution, projects[contribution.project_id]):
            out.setdefault(item.contribution_id, []).append(
                RefEvidence(item.id, item.contribution_id, item.kind.value, item.title)
            )
    return out


# Comparison


def key_paths(value: Any, path: str = "$") -> list[str]:
    """Every key of every object, in document order: equal lists mean equal key order."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in [f"{path}.{k}", *key_paths(v, f"{path}.{k}")]]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in key_paths(v, f"{path}[{i}]")]
    return []


def assert_same_portfolio(
    app,
    client,
    session,
    caller: Person,
    learner: Person,  # type: ignore[no-untyped-def]
    headers,
    grants_of,
    framework_id: uuid.UUID | None = None,
    act_for: Person | None = None,
) -> dict[str, Any]:
    query = f"?frameworkId={framework_id}" if framework_id else ""
    response = client.get(f"{API}/people/{learner.id}/portfolio{query}", headers=headers(caller, act_for))
    assert response.status_code == 200, response.json
    expected = PortfolioSchema().dump(
        reference_portfolio(session, grants_of(caller, act_for), learner.id, framework_id=framework_id)
    )
    got = json.loads(response.data)
    assert got == expected
    assert key_paths(got) == key_paths(expected)
    assert response.data == app.json.response(expected).get_data()  # same bytes, not only the same data
    assert response.mimetype == "application/json"
    return got


def assert_same_refusal(
    client,
    session,
    caller: Person,
    learner_id: uuid.UUID,  # type: ignore[no-untyped-def]
    headers,
    grants_of,
) -> None:
    with pytest.raises(NotFound):
        reference_portfolio(session, grants_of(caller), learner_id)
    response = client.get(f"{API}/people/{learner_id}/portfolio", headers=headers(caller))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


# Data


@dataclass
class Cast:
    learner: Person
    tutor: Person
    tutor2: Person
    other_tutor: Person  # tutors only the second project
    coordinator: Person
    admin: Person
    facilitator: Person
    outsider: Person
    newcomer: Person  # a learner with no standing at all
    frameworks: list[Framework]
    second: Project  # the other project the learner works in


def add(session: Session, *rows: Any) -> None:
    session.add_all(rows)
    session.commit()  # only a SAVEPOINT (see conftest): the rows outlive each request's session cleanup


def make_claim(
    session: Session,
    learner: Person,
    contribution: Contribution,
    competency: Competency,
    status: ClaimStatus,
    at: datetime,
) -> Claim:
    claim = Claim(
        contribution_id=contribution.id,
        project_id=contribution.project_id,
        competency_id=competency.id,
        learner_id=learner.id,
        justification="Voir le compte rendu.",
        status=status,
        created_by_id=learner.id,
        created_at=at,
        updated_at=at,
    )
    add(session, claim)
    return claim


def make_review(
    session: Session,
    claim: Claim,
    reviewer: Person,
    decision: Decision,
    at: datetime,
    *,
    level: str | None = None,
    proficient: bool | None = None,
    final: bool = True,
    round_: int = 1,
    comment: str = "Vu.",
) -> Review:
    review = Review(
        claim_id=claim.id,
        reviewer_id=reviewer.id,
        decision=decision,
        level=level,
        level_rank=None,
        proficient=proficient,
        comment=comment,
        round=round_,
        final=final,
        created_at=at,
    )
    add(session, review)
    return review


def make_standing(
    session: Session,
    learner: Person,
    competency: Competency,
    state: str,
    *,
    review: Review | None = None,
    level: str | None = None,
    proficient: bool = False,
    decided_at: datetime | None = None,
) -> Standing:
    row = Standing(
        learner_id=learner.id,
        competency_id=competency.id,
        state=state,
        level=level,
        proficient=proficient,
        decided_at=decided_at if decided_at or not review else review.created_at,
        decided_by_id=review.reviewer_id if review else None,
        review_id=review.id if review else None,
    )
    add(session, row)
    return row


def make_evidence(
    session: Session,
    contribution: Contribution,
    visibility: Visibility,
    title: str,
    at: datetime,
    kind: EvidenceKind = EvidenceKind.TEXT,
) -> Evidence:
    item = Evidence(
        contribution_id=contribution.id,
        kind=kind,
        title=title,
        visibility=visibility,
        text="…" if kind is EvidenceKind.TEXT else None,
        url="https://example.org/a" if kind is EvidenceKind.LINK else None,
        created_by_id=contribution.learner_id,
        created_at=at,
    )
    add(session, item)
    return item


@pytest.fixture()
def cast(
    session,
    world,
    make_person,
    make_project,
    make_framework,  # type: ignore[no-untyped-def]
    grant,
    make_contribution,
) -> Cast:
    second = make_project()
    other_tutor = make_person(display_name="Ōtsuka « Ops » Tuteur")
    grant(other_tutor, "tutor", second)
    grant(world.learner, "learner", second)
    coordinator = make_person(display_name="Coralie Coordinatrice")
    grant(coordinator, "coordinator", world.territory)
    admin = make_person(display_name="Ada Admin")
    grant(admin, "platform_admin")
    # A facilitator acts only for an assisted account (no login of its own), in their own projects.
    world.learner.is_assisted, world.learner.password_hash = True, None
    facilitator = make_person(display_name="Fanny Facilitatrice")
    grant(facilitator, "tutor", world.project)
    add(session, Facilitation(facilitator_id=facilitator.id, learner_id=world.learner.id))
    outsider = make_person()
    grant(outsider, "tutor", make_project())
    newcomer = make_person(display_name="Noé Nouveau")
    grant(newcomer, "learner", world.project)
    newcomers = make_contribution(newcomer, world.project, status=ContributionStatus.SUBMITTED)
    make_claim(session, newcomer, newcomers, world.competency, ClaimStatus.PENDING, T0)
    # A pending claim in the second project, so that its tutor may see the learner.
    pending = make_contribution(world.learner, second, status=ContributionStatus.SUBMITTED)
    make_claim(session, world.learner, pending, world.competency, ClaimStatus.PENDING, T0)
    f2 = make_framework(
        title="Äpfel & « Birnen » 🍐", source_type=SourceType.RNCP, version=3, version_label="v3 — 2026"
    )
    f3 = make_framework(title=world.framework.title)  # same title: ordered by id
    return Cast(
        world.learner,
        world.tutor,
        world.tutor2,
        other_tutor,
        coordinator,
        admin,
        facilitator,
        outsider,
        newcomer,
        [world.framework, f2, f3],
        second,
    )


def competency(
    session: Session,
    framework: Framework,
    parent: Competency | None,
    code: str | None,
    label: str,
    position: int = 0,
    kind: str = "competence",
) -> Competency:
    row = Competency(
        framework_id=framework.id,
        parent_id=parent.id if parent else None,
        source_key=f"k-{uuid.uuid4().hex}",
        kind=kind,
        code=code,
        label=label,
        position=position,
    )
    add(session, row)
    return row


@pytest.fixture()
def rich(session, world, cast, make_contribution) -> Cast:  # type: ignore[no-untyped-def]
    """Hand-made edge cases: a deep tree, ties in the order, every state, visibility and kind."""
    learner = cast.learner
    f1, f2, f3 = cast.frameworks
    own = world.contribution
    draft = make_contribution(learner, world.project)  # never submitted: tutors cannot see it
    elsewhere = make_contribution(learner, cast.second, status=ContributionStatus.SUBMITTED)

    make_evidence(session, own, Visibility.TUTORS, "Compte rendu", T0)
    make_evidence(session, own, Visibility.PRIVATE, "Brouillon privé", T0)  # same instant: by id
    make_evidence(session, own, Visibility.JURY, "Pour le jury", T0 + timedelta(microseconds=7))
    make_evidence(session, own, Visibility.PUBLIC, "Lien « public » ✓", T0 + timedelta(seconds=1), EvidenceKind.LINK)
    make_evidence(session, draft, Visibility.PUBLIC, "Sur un brouillon", T0)
    make_evidence(session, elsewhere, Visibility.TUTORS, "Ailleurs, tuteurs", T0 - timedelta(days=3))
    make_evidence(session, elsewhere, Visibility.PUBLIC, 'Ailleurs "public" \\ \n\t\u2028', T0)

    bloc, leaf = world.bloc, world.competency
    deep = bloc
    chain = []
    for depth in range(1, 7):
        deep = competency(session, f1, deep, f"D{depth}", f"Profondeur {depth}", position=depth % 2)
        chain.append(deep)
    tie_a = competency(session, f1, bloc, "C1.2", "Même code", position=0)
    tie_b = competency(session, f1, bloc, "C1.2", "Même code encore", position=0)
    no_code = competency(session, f1, bloc, None, 'Savoir-être 🎉 "cité" \\ ligne\nsuivante', position=0)
    ten = competency(session, f1, bloc, "C1.10", "Dix", position=0)
    late = competency(session, f1, bloc, "A0", "Placée après", position=5)
    root2 = competency(session, f1, None, "B2", "Bloc 2 : sans parent connu", position=-1, kind="bloc")
    lone = competency(session, f2, None, "R1", "Racine seule", kind="fiche")
    mid = competency(session, f2, lone, "R1.1", "Milieu", position=2)
    bottom = competency(session, f2, mid, "R1.1.1", "Tout en bas", position=2)
    other_bottom = competency(session, f2, mid, "R1.1.0", "À côté", position=2)
    only_f3 = competency(session, f3, None, "X", "Seul dans son référentiel")

    at = T0 + timedelta(hours=1)
    # A validated leaf with a second review round, on the learner's own contribution.
    claim = make_claim(session, learner, own, leaf, ClaimStatus.VALIDATED, at)
    make_review(session, claim, cast.tutor, Decision.NEEDS_EVIDENCE, at, comment="Ajoutez une preuve.")
    make_review(
        session,
        claim,
        cast.tutor,
        Decision.VALIDATED,
        at + timedelta(minutes=1),
        level="acquis",
        proficient=True,
        final=False,
        round_=2,
        comment="D'accord ✓",
    )
    last = make_review(
        session,
        claim,
        cast.tutor2,
        Decision.VALIDATED,
        at + timedelta(minutes=1),
        level="maitrise",
        proficient=True,
        round_=2,
        comment="Confirmé.\nDeux lignes.",
    )
    make_standing(session, learner, leaf, "validated", review=last, level="maitrise", proficient=True)
    # The same competency validated again elsewhere: the evidence of both contributions.
    again = make_claim(session, learner, elsewhere, leaf, ClaimStatus.VALIDATED, at + timedelta(hours=1))
    make_review(
        session,
        again,
        cast.other_tutor,
        Decision.VALIDATED,
        at + timedelta(hours=1),
        level="en_cours",
        proficient=False,
    )
    # The deepest node validated on a draft contribution; an ancestor reviewed but held by no standing.
    deepest = make_claim(session, learner, draft, chain[-1], ClaimStatus.VALIDATED, at)
    review = make_review(
        session, deepest, cast.tutor, Decision.VALIDATED, at + timedelta(seconds=30), level="acquis", proficient=True
    )
    make_standing(session, learner, chain[-1], "validated", review=review, level="acquis", proficient=True)
    middle = make_claim(session, learner, own, chain[2], ClaimStatus.VALIDATED, at)
    make_review(
        session, middle, cast.tutor, Decision.VALIDATED, at + timedelta(seconds=30), level="acquis", proficient=None
    )
    # Rejected, needs-evidence, and standings without any review.
    rejected = make_claim(session, learner, own, tie_a, ClaimStatus.REJECTED, at)
    review = make_review(session, rejected, cast.tutor2, Decision.REJECTED, at + timedelta(days=2), comment="Non.")
    make_standing(session, learner, tie_a, "rejected", review=review)
    make_standing(session, learner, tie_b, "needs_evidence", decided_at=at)
    make_standing(session, learner, no_code, "validated", level="acquis", proficient=True)
    pending = make_claim(session, learner, own, ten, ClaimStatus.PENDING, at)
    make_review(session, pending, cast.tutor, Decision.VALIDATED, at, level="acquis", proficient=True, final=False)
    make_standing(session, learner, ten, "validated", level="en_cours", decided_at=at + timedelta(microseconds=123456))
    make_standing(session, learner, late, "rejected")
    make_standing(session, learner, root2, "validated", level="acquis", proficient=True)
    # The second framework: both leaves held, validated on the second project's contribution.
    for node in (bottom, other_bottom):
        c = make_claim(session, learner, elsewhere, node, ClaimStatus.VALIDATED, at)
        r = make_review(session, c, cast.other_tutor, Decision.VALIDATED, at, level="acquis", proficient=True)
        make_standing(session, learner, node, "validated", review=r, level="acquis", proficient=True)
    make_claim(session, learner, own, only_f3, ClaimStatus.WITHDRAWN, at)
    make_standing(session, learner, only_f3, "validated", level="acquis")
    return cast


def viewers(cast: Cast) -> list[tuple[Person, Person | None]]:
    return [
        (cast.learner, None),
        (cast.tutor, None),
        (cast.tutor2, None),
        (cast.other_tutor, None),
        (cast.coordinator, None),
        (cast.admin, None),
        (cast.facilitator, cast.learner),
    ]


def test_every_caller_sees_the_same_json_as_before(app, client, session, rich, headers, grants_of):
    filters = [None, *(f.id for f in rich.frameworks), uuid.uuid4()]
    for caller, act_for in viewers(rich):
        for framework_id in filters:
            assert_same_portfolio(app, client, session, caller, rich.learner, headers, grants_of, framework_id, act_for)


def test_the_edge_cases_are_really_in_the_response(app, client, session, rich, headers, grants_of):
    mine = assert_same_portfolio(app, client, session, rich.learner, rich.learner, headers, grants_of)
    tutors = assert_same_portfolio(app, client, session, rich.tutor, rich.learner, headers, grants_of)
    text = json.dumps(mine, ensure_ascii=False)
    assert mine["standings"] == 11 and len(mine["frameworks"]) == 3
    assert "Brouillon privé" in text and "Sur un brouillon" in text and "Ailleurs, tuteurs" in text
    assert '"standing": null' in text and '"code": null' in text and '"proficient": null' in text
    assert '"versionLabel": null' in text and "v3 — 2026" in text and "+00:00" in text and ".123456+00:00" in text
    tutor_text = json.dumps(tutors, ensure_ascii=False)
    assert "Compte rendu" in tutor_text and "Pour le jury" in tutor_text
    assert "Brouillon privé" not in tutor_text and "Sur un brouillon" not in tutor_text
    assert "Ailleurs" not in tutor_text  # the second project is not the tutor's

    def depth(nodes: list[dict[str, Any]]) -> int:
        return max((1 + depth(n["children"]) for n in nodes), default=0)

    assert depth(mine["frameworks"][0]["nodes"]) >= 7 or depth(mine["frameworks"][1]["nodes"]) >= 7


def test_no_standing_unknown_learner_and_outsiders(app, client, session, rich, headers, grants_of):
    empty = assert_same_portfolio(app, client, session, rich.newcomer, rich.newcomer, headers, grants_of)
    assert empty == {"learnerId": str(rich.newcomer.id), "standings": 0, "frameworks": []}
    assert_same_portfolio(app, client, session, rich.tutor, rich.newcomer, headers, grants_of)
    assert_same_refusal(client, session, rich.outsider, rich.learner.id, headers, grants_of)
    assert_same_refusal(client, session, rich.admin, uuid.uuid4(), headers, grants_of)
    assert_same_refusal(client, session, rich.other_tutor, rich.newcomer.id, headers, grants_of)


@pytest.mark.parametrize("seed", range(6))
def test_generated_portfolios(app, client, session, cast, world, make_contribution, headers, grants_of, seed):
    """Random trees (ties in position and code, missing codes), states, rounds, instants and visibilities."""
    rng = random.Random(seed)
    learner = cast.learner
    tutors = [cast.tutor, cast.tutor2, cast.other_tutor]
    contributions = [
        world.contribution,
        make_contribution(learner, world.project),
        make_contribution(learner, world.project, status=ContributionStatus.SUBMITTED),
    ]
    instants = [T0 + timedelta(seconds=rng.randrange(5), microseconds=rng.choice([0, 1, 999999])) for _ in range(4)]
    for contribution in contributions:
        for _ in range(rng.randrange(4)):
            make_evidence(
                session,
                contribution,
                rng.choice(list(Visibility)),
                rng.choice(["Preuve", "Été ☀", "b"]),
                rng.choice(instants),
                rng.choice([EvidenceKind.TEXT, EvidenceKind.LINK]),
            )
    nodes: list[Competency] = []
    for i in range(rng.randrange(15, 40)):
        framework = rng.choice(cast.frameworks)
        parents = [n for n in nodes if n.framework_id == framework.id]
        parent = rng.choice(parents) if parents and rng.random() < 0.75 else None
        nodes.append(
            competency(
                session,
                framework,
                parent,
                rng.choice([None, "A", "B", f"C{i}", "ç"]),
                rng.choice(["Savoir", "Savoir-faire « x »", f"N°{i}"]),
                rng.randrange(3),
                rng.choice(["bloc", "competence", "skill"]),
            )
        )
    used: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for node in rng.sample(nodes, k=len(nodes) // 2):
        reviews = []
        for _ in range(rng.randrange(3)):
            contribution = rng.choice(contributions)
            if (contribution.id, node.id) in used:
                continue
            used.add((contribution.id, node.id))
            claim = make_claim(
                session, learner, contribution, node, rng.choice(list(ClaimStatus)), rng.choice(instants)
            )
            for round_ in range(rng.randrange(3)):
                decision = rng.choice(list(Decision))
                valid = decision is Decision.VALIDATED
                reviews.append(
                    make_review(
                        session,
                        claim,
                        rng.choice(tutors),
                        decision,
                        rng.choice(instants),
                        level=rng.choice(["acquis", "en_cours"]) if valid else None,
                        proficient=rng.choice([True, False, None]) if valid else None,
                        final=rng.random() < 0.8,
                        round_=round_ + 1,
                        comment=rng.choice(["Oui.", "Non ✗", ""]),
                    )
                )
        if rng.random() < 0.85:
            review = rng.choice(reviews) if reviews and rng.random() < 0.8 else None
            make_standing(
                session,
                learner,
                node,
                rng.choice(["validated", "rejected", "needs_evidence"]),
                review=review,
                level=rng.choice([None, "acquis"]),
                proficient=rng.random() < 0.5,
                decided_at=rng.choice([None, *instants]) if review is None else None,
            )
    filters = [None, rng.choice(cast.frameworks).id]
    for caller, act_for in viewers(cast):
        for framework_id in filters:
            assert_same_portfolio(app, client, session, caller, learner, headers, grants_of, framework_id, act_for)


def test_the_openapi_description_of_the_portfolio_is_unchanged(client):
    spec = client.get(f"{API}/openapi.json").json
    get = spec["paths"]["/api/v1/people/{person_id}/portfolio"]["get"]
    assert get["responses"]["200"] == {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Portfolio"}}},
    }
    assert [p.get("name", p.get("$ref")) for p in get["parameters"]] == [
        "frameworkId",
        "#/components/parameters/ActFor",
    ]
    schemas = spec["components"]["schemas"]
    assert list(schemas["Portfolio"]["properties"]) == ["learnerId", "standings", "frameworks"]
    assert list(schemas["Node"]["properties"]) == [
        "id",
        "code",
        "label",
        "kind",
        "standing",
        "reviews",
        "evidence",
        "children",
    ]
    assert schemas["Portfolio"]["properties"]["frameworks"]["items"] == {"$ref": "#/components/schemas/FrameworkTree"}
