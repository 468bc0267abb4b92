"""Permission matrix: every route and method of the URL map, every caller of territory A (and B's own
owner and a platform admin) against territory B's resources, with the status each must get.

Issue 11's rules, read in this table:

* what a caller may not see answers **404** (B's private data does not exist for A);
* what a caller sees but may not change answers **403** (issuer profiles and achievements are
  public, so A's people get 403 when they try to change B's);
* a route that needs a login answers **401** to the anonymous caller; public pages answer the
  same to everyone;
* the facilitator acting for A's assisted learner (``X-Act-For``) has that learner's rights, no
  more: 404 on B's data like A's learner.

Bodies: every request with a body sends a minimal *valid* one (so the status says what
authorisation decided, never what validation did); ``If-Match`` carries the target's current
version where the route wants one. A ``409`` expected for B's owner means the route let them
through and the state of the world (an issued credential cannot be approved) refused the action.

A (method, rule) of ``app.url_map`` without an entry in ``MATRIX`` fails ``test_every_route_is_declared``
with its name; a successful answer to one of A's callers on an API route must not contain any of
B's private ids (``World.private_ids``).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.db import database_of
from app.models import Facilitation
from tests.api.matrix_fixtures import Side, World
from tests.api.support import png_bytes
from tests.conftest import PASSWORD
from tests.web.csrf_support import csrf_token
from tests.web.page_support import sign_in_as

# The callers: A's people (the facilitator acting for A's assisted learner), the anonymous, the
# owner of B's resource named by each entry, and a platform administrator.
A_SIDE = ("coordinator", "tutor", "learner", "issuer_admin", "jury_officer", "facilitator")
CALLERS = (*A_SIDE, "anonymous", "owner", "admin")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Case:
    """How to call one (method, rule) against B, and what each caller gets.

    Strings starting with ``@`` are paths into the world (``@b.claim_pending.id``).
    """

    params: dict[str, Any]
    expect: dict[str, int]
    owner: str | None = None  # the person of B who owns the target (``b.learner``)
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, Any] | None = None  # multipart: values ("file", bytes, name) are files
    if_match: str | None = None  # the world path of the version to send in If-Match
    public: bool = False  # a public page: no private-id leak check (it shows what it publishes)
    xfail: dict[str, str] = field(default_factory=dict)  # caller -> reason, while a fix is pending


def hidden(by: str, ok: int, *, admin: int | None = None, **over: int) -> dict[str, Any]:
    """B's private data: 404 to all of A, 401 to the anonymous, ``ok`` to its owner (and admin)."""
    expect = {c: 404 for c in A_SIDE} | {"anonymous": 401, "owner": ok, "admin": ok if admin is None else admin}
    return {"owner": by, "expect": expect | over}


def guarded(by: str, ok: int, *, admin: int | None = None, **over: int) -> dict[str, Any]:
    """Seen by every logged-in caller, changed only by B's owner: 403 to A, 401 to the anonymous."""
    expect = {c: 403 for c in A_SIDE} | {"anonymous": 401, "owner": ok, "admin": ok if admin is None else admin}
    return {"owner": by, "expect": expect | over}


def logged_in(ok: int, by: str = "b.learner", **over: int) -> dict[str, Any]:
    """Any logged-in caller (their own view of it), 401 to the anonymous."""
    return {"owner": by, "expect": {c: ok for c in CALLERS} | {"anonymous": 401} | over}


def everyone(ok: int, **over: int) -> dict[str, Any]:
    """Public: the same answer to everyone, logged in or not."""
    return {"owner": "b.learner", "public": True, "expect": {c: ok for c in CALLERS} | over}


def platform_only(ok: int, by: str = "b.coordinator", **over: int) -> dict[str, Any]:
    """Platform administrators only: 403 to everyone else logged in."""
    return {"owner": by, "expect": {c: 403 for c in CALLERS} | {"anonymous": 401, "admin": ok} | over}


def page_for_all(ok: int, by: str = "b.learner", **over: int) -> dict[str, Any]:
    """A signed-in page, each caller's own view of it; a visitor goes to the sign-in page (303)."""
    return {"owner": by, "public": True, "expect": {c: ok for c in CALLERS} | {"anonymous": 303} | over}


def page_hidden(by: str, ok: int, *, admin: int | None = None, **over: int) -> dict[str, Any]:
    """A page about B's private data: 404 to all of A, the sign-in page to a visitor, ``ok`` to its owner."""
    expect = {c: 404 for c in A_SIDE} | {"anonymous": 303, "owner": ok, "admin": ok if admin is None else admin}
    return {"owner": by, "expect": expect | over}


V1 = "/api/v1"
REASON = {"reason": "Erreur d'attribution."}
PNG = ("file", png_bytes(4, 4), "image.png")
CSV = ("file", b"person_id,achievement_id\n", "awards.csv")  # @-paths are not read inside files
JURY_ZIP = ("file", bytes.fromhex("504b0506" + "00" * 18), "dossier.zip")  # an empty ZIP: read, nothing to trust
FRAMEWORK_CSV = ("file", "# title: Référentiel de la matrice\nkey;label\nM1;Coopérer\n".encode(), "referentiel.csv")

# Entries that fail today, marked until their fix lands (strict: the mark must then be removed).

MATRIX: dict[tuple[str, str], Case] = {}


def case(method: str, rule: str, params: dict[str, Any] | None = None, **kw: Any) -> None:
    key = (method, rule)
    assert key not in MATRIX, key
    MATRIX[key] = Case(params=params or {}, **kw)


# --- public pages and documents (no login) -----------------------------------------------------
case("GET", "/", **everyone(200))  # a visitor's home page (bearer tokens sign nobody in to the pages)
case("GET", "/connexion", **everyone(200))
# Page sign-in: a wrong password is answered on the form, to everyone alike.
case("POST", "/connexion", form={"email": "nobody@example.org", "password": "wrong"}, **everyone(401))
case("POST", "/deconnexion", form={}, **everyone(303))  # no session to end: back to the home page
case("POST", "/langue", form={"lang": "en", "next": "/"}, **page_for_all(303))  # kept, then back

# --- signed-in pages: learner's contributions and evidence ----------------------------------------
# Each caller's own projects and contributions (none of B's for A's callers).
case("GET", "/mes-contributions", **page_for_all(200))
# Only the project's learners record in it: the admin sees the project but is none of them (403).
case(
    "GET", "/mes-contributions/nouvelle", query={"projet": "@b.project.id"}, **page_hidden("b.learner", 200, admin=403)
)
case(
    "POST",
    "/mes-contributions/nouvelle",
    query={"projet": "@b.project.id"},
    form={"titre": "Atelier"},
    **page_hidden("b.learner", 303, admin=403),
)
case(
    "GET",
    "/mes-contributions/<uuid:contribution_id>",
    {"contribution_id": "@b.contribution.id"},
    **page_hidden("b.learner", 200),
)
# A draft is its learner's alone (the admin included).
case(
    "GET",
    "/mes-contributions/<uuid:contribution_id>/modifier",
    {"contribution_id": "@b.draft.id"},
    **page_hidden("b.learner", 200, admin=404),
)
case(
    "POST",
    "/mes-contributions/<uuid:contribution_id>/modifier",
    {"contribution_id": "@b.draft.id"},
    form={"titre": "Atelier couture", "version": "@b.draft.version"},
    **page_hidden("b.learner", 303, admin=404),
)
case(
    "POST",
    "/mes-contributions/<uuid:contribution_id>/soumettre",
    {"contribution_id": "@b.draft.id"},
    form={},
    **page_hidden("b.learner", 303, admin=404),
)
case(
    "POST",
    "/mes-contributions/<uuid:contribution_id>/preuves",
    {"contribution_id": "@b.contribution.id"},
    form={"photo": PNG, "visibilite": "tutors"},
    **page_hidden("b.learner", 303, admin=403),
)
case(
    "GET",
    "/preuves/<uuid:evidence_id>/apercu",
    {"evidence_id": "@b.evidence.tutors.id"},
    **page_hidden("b.learner", 200),
)
case(
    "GET",
    "/preuves/<uuid:evidence_id>/fichier",
    {"evidence_id": "@b.evidence.tutors.id"},
    **page_hidden("b.learner", 200),
)

# --- signed-in pages: learner's claims, skills and data --------------------------------------------
# Claiming is the learner's own: A's callers find no B contribution or claim (404); B's admin, who
# sees them, may not claim or resend for the learner (403). The fourth competency is not claimed yet.
case(
    "GET",
    "/mes-contributions/<uuid:contribution_id>/revendiquer",
    {"contribution_id": "@b.contribution.id"},
    query={"q": "compétence"},
    **page_hidden("b.learner", 200, admin=403),
)
case(
    "POST",
    "/mes-contributions/<uuid:contribution_id>/revendiquer",
    {"contribution_id": "@b.contribution.id"},
    form={"competence": "@b.competencies.3.id", "justification": "J'ai fait ce travail."},
    **page_hidden("b.learner", 303, admin=403),
)
case(
    "GET", "/mes-demandes/<uuid:claim_id>", {"claim_id": "@b.claim_needs_evidence.id"}, **page_hidden("b.learner", 200)
)
case(
    "POST",
    "/mes-demandes/<uuid:claim_id>/renvoyer",
    {"claim_id": "@b.claim_needs_evidence.id"},
    form={"explanation": "J'ai ajouté une photo.", "version": "@b.claim_needs_evidence.version"},
    **page_hidden("b.learner", 303, admin=403),
)
case("GET", "/mes-competences", **page_for_all(200))
case("GET", "/mes-donnees", **page_for_all(200))
case("GET", "/mes-donnees/export", **page_for_all(200))
# Consent to a jury dossier, as the API's: B's dossier is not A's to see; B's learner answers (already
# consented and generated: 409 to agreeing again); B's admin sees it but may not answer for the learner.
case(
    "POST",
    "/mes-donnees/dossiers/<uuid:dossier_id>/accord",
    {"dossier_id": "@b.dossier.id"},
    form={},
    **page_hidden("b.learner", 409, admin=403),
)
case(
    "POST",
    "/mes-donnees/dossiers/<uuid:dossier_id>/refus",
    {"dossier_id": "@b.dossier.id"},
    form={},
    **page_hidden("b.learner", 303, admin=403),
)

# --- signed-in pages: learner's badges ---------------------------------------------------------------
case("GET", "/mes-badges", **page_for_all(200))  # each person's own badges (none for most)
# B's badge is B's learner's alone: 404 to A's people and to the platform admin (it is not theirs).
case(
    "GET",
    "/mes-badges/<uuid:credential_id>",
    {"credential_id": "@b.credential.id"},
    **page_hidden("b.learner", 200, admin=404),
)
case(
    "GET",
    "/mes-badges/<uuid:credential_id>/attestation.pdf",
    {"credential_id": "@b.credential.id"},
    **page_hidden("b.learner", 200, admin=404),
)
case("POST", "/mes-badges/nom-public", form={"afficher": "non"}, **page_for_all(303))  # one's own choice, then back

# --- signed-in pages: tutor's queue and decisions -----------------------------------------------------
# À valider: each tutor's own queue (A's tutor sees A's claims); who tutors nothing, or acts for someone, is refused.
case("GET", "/a-valider", **page_for_all(200, by="b.tutor", **{c: 403 for c in A_SIDE if c != "tutor"}))
case("GET", "/a-valider/<uuid:claim_id>", {"claim_id": "@b.claim_pending.id"}, **page_hidden("b.tutor", 200))
case(
    "POST",
    "/a-valider/<uuid:claim_id>",
    {"claim_id": "@b.claim_pending.id"},
    form={"version": "@b.claim_pending.version", "decision": "validated", "level": "acquis", "comment": "Vu."},
    **page_hidden("b.tutor", 303),
)

# --- signed-in pages: facilitator acting for an assisted learner ---------------------------------------
case("GET", "/agir-pour", **page_for_all(200))  # each person's own list (empty for most)
# Only B's facilitator acts for B's assisted learner; A's facilitator (acting for A's) and everyone
# else meet the 404 page, as for a person who does not exist.
case(
    "POST",
    "/agir-pour/<uuid:learner_id>",
    {"learner_id": "@b.assisted.id"},
    form={},
    **page_hidden("b.facilitator", 303, admin=404),
)
case("POST", "/agir-pour/fin", form={}, **page_for_all(303))  # back to /agir-pour (acting or not)

# --- pages: invitations and password reset --------------------------------------------------------------
case("GET", "/mot-de-passe-oublie", **everyone(200))
# Asking for a reset link: the same answer (then the neutral message) for everyone, account or not.
case("POST", "/mot-de-passe-oublie", form={"email": "@b.learner.email"}, **everyone(303))
# A link's token is its own key: an unknown one gets the same "no longer valid" page, whoever asks.
case("GET", "/invitation/<token>", {"token": "inconnu"}, **everyone(404))
case(
    "POST",
    "/invitation/<token>",
    {"token": "inconnu"},
    form={"password": "x" * 12, "repeated": "x" * 12},
    **everyone(404),
)
case("GET", "/mot-de-passe/<token>", {"token": "inconnu"}, **everyone(404))
case(
    "POST",
    "/mot-de-passe/<token>",
    {"token": "inconnu"},
    form={"password": "x" * 12, "repeated": "x" * 12},
    **everyone(404),
)
# --- signed-in pages: the territory dashboard ------------------------------------------------------------
# B's figures for B's coordinators and the admins; A's coordinator meets the 404 page, A's others (no
# dashboard of their own: not coordinators) the 403 page, as on /tableau-de-bord without a territory.
DASHBOARD_REFUSED = {c: 403 for c in A_SIDE if c != "coordinator"}
case(
    "GET",
    "/tableau-de-bord",
    query={"territoire": "@b.territory.id"},
    **page_hidden("b.coordinator", 200, **DASHBOARD_REFUSED),
)
case(
    "GET",
    "/tableau-de-bord/<table>.csv",
    {"table": "by_project"},
    query={"territoire": "@b.territory.id"},
    **page_hidden("b.coordinator", 200, **DASHBOARD_REFUSED),
)

# --- signed-in pages: coordinator's territory, projects, rules (/territoire) ------------------------------------
# B's territory and projects for B's coordinators and the admins; A's coordinator meets the 404 page (B does
# not exist for them), A's others the 403 page: they coordinate nothing (as on /tableau-de-bord).
TERRITORY_REFUSED = {c: 403 for c in A_SIDE if c != "coordinator"}
IN_B = {"territoire": "@b.territory.id"}
B_PROJECT = {"project_id": "@b.project.id"}
case("GET", "/territoire", query=IN_B, **page_hidden("b.coordinator", 200, **TERRITORY_REFUSED))
case(
    "POST",
    "/territoire",
    form={**IN_B, "version": "@b.territory.version", "nom": "Territoire B", "niveau": "cooperation"},
    **page_hidden("b.coordinator", 303, **TERRITORY_REFUSED),
)
case("GET", "/territoire/projets", query=IN_B, **page_hidden("b.coordinator", 200, **TERRITORY_REFUSED))
case("GET", "/territoire/projets/nouveau", query=IN_B, **page_hidden("b.coordinator", 200, **TERRITORY_REFUSED))
case(
    "POST",
    "/territoire/projets/nouveau",
    form={**IN_B, "titre": "Projet nouveau", "fonctions": "produire"},
    **page_hidden("b.coordinator", 303, **TERRITORY_REFUSED),
)
case(
    "GET", "/territoire/projets/<uuid:project_id>", B_PROJECT, **page_hidden("b.coordinator", 200, **TERRITORY_REFUSED)
)
case(
    "POST",
    "/territoire/projets/<uuid:project_id>",
    B_PROJECT,
    form={"version": "@b.project.version", "titre": "Projet B", "fonctions": "produire", "etat": "active"},
    **page_hidden("b.coordinator", 303, **TERRITORY_REFUSED),
)
case(
    "GET",
    "/territoire/projets/<uuid:project_id>/cloture",
    B_PROJECT,
    **page_hidden("b.coordinator", 200, **TERRITORY_REFUSED),
)
case(
    "POST",
    "/territoire/projets/<uuid:project_id>/cloture",
    B_PROJECT,
    form={"version": "@b.project.version"},
    **page_hidden("b.coordinator", 303, **TERRITORY_REFUSED),
)
# A person of B's territory named tutor of B's project; B's tutor withdrawn from it.
case(
    "POST",
    "/territoire/projets/<uuid:project_id>/tuteurs",
    B_PROJECT,
    form={"personne": "@b.other_learner.id"},
    **page_hidden("b.coordinator", 303, **TERRITORY_REFUSED),
)
case(
    "POST",
    "/territoire/projets/<uuid:project_id>/tuteurs/<uuid:person_id>/retrait",
    {**B_PROJECT, "person_id": "@b.tutor.id"},
    form={},
    **page_hidden("b.coordinator", 303, **TERRITORY_REFUSED),
)
case("GET", "/territoire/regles", query=IN_B, **page_hidden("b.coordinator", 200, **TERRITORY_REFUSED))
case(
    "POST",
    "/territoire/regles",
    form={**IN_B, "second": "oui", "niveau-1-fr": "débutant", "niveau-2-fr": "confirmé", "niveau-2-acquis": "oui"},
    **page_hidden("b.coordinator", 303, **TERRITORY_REFUSED),
)

# --- signed-in pages: coordinator's people (/personnes) ---------------------------------------------------------
# The people of B's territory for B's coordinators; A's coordinator meets the 404 page for them, everyone
# else (no territory to coordinate, the platform admin included) the 403 page.
PEOPLE_REFUSED = {c: 403 for c in A_SIDE if c != "coordinator"} | {"admin": 403}
case("GET", "/personnes", **page_for_all(200, by="b.coordinator", **PEOPLE_REFUSED))  # each one's own territory
case("GET", "/personnes/inviter", **page_for_all(200, by="b.coordinator", **PEOPLE_REFUSED))
case("GET", "/personnes/compte-accompagne", **page_for_all(200, by="b.coordinator", **PEOPLE_REFUSED))
# The forms' role joins a role and a place ("tutor:<project id>"), which the table cannot write: the role sent
# is unreadable, so callers let through meet the form's 422 (A's coordinator here; B's for B's learner).
case(
    "POST",
    "/personnes/inviter",
    form={"nom": "Nouvelle Personne", "email": "nouvelle.personne@example.org", "role": "@b.project.id"},
    **page_for_all(422, by="b.coordinator", **PEOPLE_REFUSED),
)
case(
    "POST",
    "/personnes/compte-accompagne",
    form={"nom": "Personne Aidée", "projet": "@b.project.id", "facilitateur": "moi"},
    **page_hidden("b.coordinator", 303, **PEOPLE_REFUSED),
)
case(
    "GET",
    "/personnes/<uuid:person_id>",
    {"person_id": "@b.learner.id"},
    **page_hidden("b.coordinator", 200, **PEOPLE_REFUSED),
)
case(
    "POST",
    "/personnes/<uuid:person_id>/roles",
    {"person_id": "@b.learner.id"},
    form={"role": "@b.project.id"},
    **page_hidden("b.coordinator", 422, **PEOPLE_REFUSED),
)
case(
    "GET",
    "/personnes/<uuid:person_id>/roles/<uuid:membership_id>/retirer",
    {"person_id": "@b.learner.id", "membership_id": "@b.learner_membership.id"},
    **page_hidden("b.coordinator", 200, **PEOPLE_REFUSED),
)
case(
    "POST",
    "/personnes/<uuid:person_id>/roles/<uuid:membership_id>/retirer",
    {"person_id": "@b.learner.id", "membership_id": "@b.learner_membership.id"},
    form={},
    **page_hidden("b.coordinator", 303, **PEOPLE_REFUSED),
)
# B's learner chose a password: B's coordinator gets through, and there is no invitation to send (409).
case(
    "POST",
    "/personnes/<uuid:person_id>/invitation",
    {"person_id": "@b.learner.id"},
    form={},
    **page_hidden("b.coordinator", 409, **PEOPLE_REFUSED),
)
case(
    "POST",
    "/personnes/<uuid:person_id>/facilitateurs",
    {"person_id": "@b.assisted.id"},
    form={"facilitateur": "moi"},
    **page_hidden("b.coordinator", 303, **PEOPLE_REFUSED),
)

# --- signed-in pages: issuer administrator's profile, keys, achievements (/emetteur) ----------------------------
# B's issuer for B's issuer administrator and the admins; A's issuer administrator meets the 404 page (another
# issuer's things do not exist for them), A's others (administering no issuer) the 403 page.
ISSUER_REFUSED = {c: 403 for c in A_SIDE if c != "issuer_admin"}
ISSUER_PAGE = {"issuer_id": "@b.issuer.id"}
ACHIEVEMENT_PAGE = {"achievement_id": "@b.achievement.id"}
BADGE_FORM = {"nom": "Badge de la matrice", "description": "Un badge.", "criteres": "Avoir agi.", "type": "Badge"}
DRAWN = {"image": "dessin", "fond": "#1b3a5c", "texte": "#ffffff", "forme": "circle"}
case(
    "GET",
    "/emetteur",
    owner="b.issuer_admin",
    public=True,  # each administrator's own issuers
    expect={c: 403 for c in CALLERS} | {"issuer_admin": 200, "owner": 200, "admin": 200, "anonymous": 303},
)
case("GET", "/emetteur/<uuid:issuer_id>", ISSUER_PAGE, **page_hidden("b.issuer_admin", 200, **ISSUER_REFUSED))
case(
    "POST",
    "/emetteur/<uuid:issuer_id>",
    ISSUER_PAGE,
    form={"nom": "Émetteur B", "site": "https://b.example.fr", "version": "@b.issuer.version"},
    **page_hidden("b.issuer_admin", 303, **ISSUER_REFUSED),
)
case(
    "POST",
    "/emetteur/<uuid:issuer_id>/image",
    ISSUER_PAGE,
    form={"fichier": PNG},
    **page_hidden("b.issuer_admin", 303, **ISSUER_REFUSED),
)
case("GET", "/emetteur/<uuid:issuer_id>/cles", ISSUER_PAGE, **page_hidden("b.issuer_admin", 200, **ISSUER_REFUSED))
for method, ok in (("GET", 200), ("POST", 303)):
    case(
        method,
        "/emetteur/<uuid:issuer_id>/cles/renouveler",
        ISSUER_PAGE,
        form={} if method == "POST" else None,
        **page_hidden("b.issuer_admin", ok, **ISSUER_REFUSED),
    )
    case(
        method,
        "/emetteur/<uuid:issuer_id>/cles/<uuid:key_id>/compromise",
        {"issuer_id": "@b.issuer.id", "key_id": "@b.signing_key.id"},
        form={"raison": "Ordinateur volé."} if method == "POST" else None,
        **page_hidden("b.issuer_admin", ok, **ISSUER_REFUSED),
    )
    case(
        method,
        "/emetteur/<uuid:issuer_id>/badges/nouveau",
        ISSUER_PAGE,
        form=BADGE_FORM | DRAWN if method == "POST" else None,
        **page_hidden("b.issuer_admin", ok, **ISSUER_REFUSED),
    )
    case(
        method,
        "/emetteur/badges/<uuid:achievement_id>/modifier",
        ACHIEVEMENT_PAGE,
        form=BADGE_FORM | {"version": "@b.achievement.lock_version"} if method == "POST" else None,
        **page_hidden("b.issuer_admin", ok, **ISSUER_REFUSED),
    )
    case(
        method,
        "/emetteur/badges/<uuid:achievement_id>/regle",
        ACHIEVEMENT_PAGE,
        form={"regle": "manual", "version": "@b.achievement.lock_version"} if method == "POST" else None,
        **page_hidden("b.issuer_admin", ok, **ISSUER_REFUSED),
    )
case("GET", "/emetteur/<uuid:issuer_id>/badges", ISSUER_PAGE, **page_hidden("b.issuer_admin", 200, **ISSUER_REFUSED))
case(
    "GET",
    "/emetteur/badges/<uuid:achievement_id>",
    ACHIEVEMENT_PAGE,
    **page_hidden("b.issuer_admin", 200, **ISSUER_REFUSED),
)
case(
    "POST",
    "/emetteur/badges/<uuid:achievement_id>/image",
    ACHIEVEMENT_PAGE,
    form=DRAWN,
    **page_hidden("b.issuer_admin", 303, **ISSUER_REFUSED),
)
case(
    "GET",
    "/emetteur/badges/<uuid:achievement_id>/competences",
    ACHIEVEMENT_PAGE,
    query={"q": "compétence"},
    **page_hidden("b.issuer_admin", 200, **ISSUER_REFUSED),
)
for action in ("ajouter", "retirer"):  # (retirer: a competency not on the badge, nothing to do: back to the page)
    case(
        "POST",
        f"/emetteur/badges/<uuid:achievement_id>/competences/{action}",
        ACHIEVEMENT_PAGE,
        form={"competence": "@b.competencies.3.id", "version": "@b.achievement.lock_version"},
        **page_hidden("b.issuer_admin", 303, **ISSUER_REFUSED),
    )

# --- signed-in pages: issuer administrator's approvals, awards, credentials (/emetteur/...) ---------------------
# B's issuer's pages for its administrators and platform admins; A's issuer admin (another issuer) meets the
# 404 page; A's others, who administer no issuer (the facilitator acts as a learner), the 403 page.
AWARDS_REFUSED = {c: 403 for c in A_SIDE if c != "issuer_admin"}
AWARDS_ISSUER = {"issuer_id": "@b.issuer.id"}
case(
    "GET",
    "/emetteur/<uuid:issuer_id>/a-approuver",
    AWARDS_ISSUER,
    **page_hidden("b.issuer_admin", 200, **AWARDS_REFUSED),
)
# B's credential is issued, not proposed: its admins get the 409 page (decided meanwhile).
case(
    "POST",
    "/emetteur/<uuid:issuer_id>/a-approuver",
    AWARDS_ISSUER,
    form={"proposition": "@b.credential.id", "action": "approve"},
    **page_hidden("b.issuer_admin", 409, **AWARDS_REFUSED),
)
case(
    "GET", "/emetteur/<uuid:issuer_id>/attribuer", AWARDS_ISSUER, **page_hidden("b.issuer_admin", 200, **AWARDS_REFUSED)
)
case(
    "POST",
    "/emetteur/<uuid:issuer_id>/attribuer",
    AWARDS_ISSUER,
    form={"modele": "@b.achievement.id", "personne": "@b.other_learner.id"},
    **page_hidden("b.issuer_admin", 303, **AWARDS_REFUSED),
)
case("GET", "/emetteur/<uuid:issuer_id>/envois", AWARDS_ISSUER, **page_hidden("b.issuer_admin", 200, **AWARDS_REFUSED))
case(
    "POST",
    "/emetteur/<uuid:issuer_id>/envois",
    AWARDS_ISSUER,
    form={"csv": ("file", b"email\n", "envoi.csv"), "modele": "@b.achievement.id"},
    **page_hidden("b.issuer_admin", 303, **AWARDS_REFUSED),
)  # stored, then its preview
case(
    "GET",
    "/emetteur/<uuid:issuer_id>/envois/exemple.csv",
    AWARDS_ISSUER,
    **page_hidden("b.issuer_admin", 200, **AWARDS_REFUSED),
)
# B's admin's job (still queued): its report says so; its CSV waits for the end (409).
case(
    "GET",
    "/emetteur/<uuid:issuer_id>/envois/<uuid:job_id>",
    {**AWARDS_ISSUER, "job_id": "@b.job.id"},
    **page_hidden("b.issuer_admin", 200, **AWARDS_REFUSED),
)
case(
    "GET",
    "/emetteur/<uuid:issuer_id>/envois/<uuid:job_id>/rapport.csv",
    {**AWARDS_ISSUER, "job_id": "@b.job.id"},
    **page_hidden("b.issuer_admin", 409, **AWARDS_REFUSED),
)
case(
    "GET",
    "/emetteur/<uuid:issuer_id>/badges-emis",
    AWARDS_ISSUER,
    **page_hidden("b.issuer_admin", 200, **AWARDS_REFUSED),
)
case(
    "POST",
    "/emetteur/<uuid:issuer_id>/badges-emis",
    AWARDS_ISSUER,
    form={"badge": "@b.credential.id", "action": "suspend", "motif": "Vérification en cours."},
    **page_hidden("b.issuer_admin", 303, **AWARDS_REFUSED),
)

# --- signed-in pages: a job's progress (/taches) ----------------------------------------------------------------
# A job is its starter's (and the platform admins'): B's job is the 404 page for all of A.
case("GET", "/taches", **page_for_all(200))  # each person's own jobs (none for most)
case("GET", "/taches/<uuid:job_id>", {"job_id": "@b.job.id"}, **page_hidden("b.issuer_admin", 200))
case("GET", "/taches/<uuid:job_id>/etat", {"job_id": "@b.job.id"}, **page_hidden("b.issuer_admin", 200))

# --- signed-in pages: platform administrator (/administration) --------------------------------------------------
# Platform administrators only: the 403 page for everyone else signed in, the sign-in page for a visitor.
ADMIN_PAGE = {"owner": "b.coordinator", "expect": {c: 403 for c in CALLERS} | {"anonymous": 303, "admin": 200}}
case("GET", "/administration", **ADMIN_PAGE)
case("GET", "/administration/import", **ADMIN_PAGE)
case(
    "POST",
    "/administration/import",
    form={"fichier": FRAMEWORK_CSV, "format": "custom-csv"},
    **ADMIN_PAGE | {"expect": ADMIN_PAGE["expect"] | {"admin": 303}},
)
case("GET", "/administration/referentiels", **ADMIN_PAGE)
case("GET", "/administration/referentiels/<uuid:framework_id>", {"framework_id": "@b.framework.id"}, **ADMIN_PAGE)
case(
    "POST",
    "/administration/referentiels/<uuid:framework_id>/regles",
    {"framework_id": "@b.framework.id"},
    form={"deuxieme_avis": "oui", "echelle": "defaut"},
    **ADMIN_PAGE | {"expect": ADMIN_PAGE["expect"] | {"admin": 303}},
)

# --- signed-in pages: CNAM jury officer (/jury) -----------------------------------------------------------------
# Only jury officers use these pages: the 403 page to everyone else (the platform admin too: no certification of
# theirs to serve); A's officer meets the 404 page on B's learner, dossier and certification, as on the API.
JURY_REFUSED = {c: 403 for c in A_SIDE if c != "jury_officer"} | {"admin": 403}
case("GET", "/jury", **page_for_all(200, by="b.jury_officer", **JURY_REFUSED))
case(
    "GET",
    "/jury/personnes/<uuid:learner_id>",
    {"learner_id": "@b.learner.id"},
    **page_hidden("b.jury_officer", 200, **JURY_REFUSED),
)
case(
    "POST",
    "/jury/personnes/<uuid:learner_id>/dossiers",
    {"learner_id": "@b.learner.id"},
    form={"certification": "@b.fiche.id"},
    **page_hidden("b.jury_officer", 303, **JURY_REFUSED),
)
case(
    "GET",
    "/jury/dossiers/<uuid:dossier_id>",
    {"dossier_id": "@b.dossier.id"},
    **page_hidden("b.jury_officer", 200, **JURY_REFUSED),
)
case(  # B's dossier is consented and generated: generating again starts a job (then its page)
    "POST",
    "/jury/dossiers/<uuid:dossier_id>/generer",
    {"dossier_id": "@b.dossier.id"},
    form={},
    **page_hidden("b.jury_officer", 303, **JURY_REFUSED),
)
case(
    "GET",
    "/jury/dossiers/<uuid:dossier_id>/dossier.zip",
    {"dossier_id": "@b.dossier.id"},
    **page_hidden("b.jury_officer", 200, **JURY_REFUSED),
)
case("GET", "/jury/verifier", **page_for_all(200, by="b.jury_officer", **JURY_REFUSED))
case("POST", "/jury/verifier", form={"dossier": JURY_ZIP}, **page_for_all(200, by="b.jury_officer", **JURY_REFUSED))
case(
    "GET",
    "/jury/cohortes/<uuid:certification_id>",
    {"certification_id": "@b.fiche.id"},
    **page_hidden("b.jury_officer", 200, **JURY_REFUSED),
)
case(
    "GET",
    "/jury/cohortes/<uuid:certification_id>/cohorte.csv",
    {"certification_id": "@b.fiche.id"},
    **page_hidden("b.jury_officer", 200, **JURY_REFUSED),
)

case("GET", "/healthz", **everyone(200))
case("GET", "/static/<path:filename>", {"filename": "app.css"}, **everyone(404))  # Flask's; no static folder
case("GET", "/verify", **everyone(200))
case("POST", "/verify", form={"badge": "@b.credential_json"}, **everyone(200))
case("GET", "/frameworks", **everyone(200))
case("GET", "/frameworks/<uuid:framework_id>", {"framework_id": "@b.framework.id"}, **everyone(200))
case("GET", "/frameworks/<uuid:framework_id>/case", {"framework_id": "@b.framework.id"}, **everyone(200))
case("GET", "/competencies/<uuid:competency_id>", {"competency_id": "@b.fiche.id"}, **everyone(200))
case(
    "GET",
    "/ims/case/v1p0/<any(CFItems, CFDocuments, CFPackages):collection>/<uuid:case_id>",
    {"collection": "CFPackages", "case_id": "@b.framework.case_id"},
    **everyone(303),
)  # to the CASE document
case("GET", "/issuers/<uuid:issuer_id>", {"issuer_id": "@b.issuer.id"}, **everyone(200))
case("GET", "/issuers/<uuid:issuer_id>/image", {"issuer_id": "@b.issuer.id"}, **everyone(200))
case(
    "GET",
    "/issuers/<uuid:issuer_id>/keys/<kid>",
    {"issuer_id": "@b.issuer.id", "kid": "@b.signing_key.kid"},
    **everyone(200),
)
case(
    "GET",
    "/achievements/<uuid:achievement_id>/v/<int:version>",
    {"achievement_id": "@b.achievement.id", "version": 1},
    **everyone(200),
)
case(
    "GET",
    "/achievements/<uuid:achievement_id>/v/<int:version>/image",
    {"achievement_id": "@b.achievement.id", "version": 1},
    **everyone(200),
)
case("GET", "/status/<uuid:list_id>", {"list_id": "@b.status_list.id"}, **everyone(200))
case("GET", "/credentials/<uuid:credential_id>", {"credential_id": "@b.credential.id"}, **everyone(200))
case("GET", "/credentials/<uuid:credential_id>.json", {"credential_id": "@b.credential.id"}, **everyone(200))
case("GET", "/credentials/<uuid:credential_id>.jwt", {"credential_id": "@b.credential.id"}, **everyone(200))
case("GET", "/credentials/<uuid:credential_id>/jwt", {"credential_id": "@b.credential.id"}, **everyone(200))
case(
    "GET",
    "/credentials/<uuid:credential_id>/badge.<any(png, svg):extension>",
    {"credential_id": "@b.credential.id", "extension": "png"},
    **everyone(200),
)
case("GET", "/credentials/<uuid:credential_id>/badge-ob2.svg", {"credential_id": "@b.credential.id"}, **everyone(200))
case(
    "GET",
    "/credentials/<uuid:credential_id>/qr.<any(png, svg):extension>",
    {"credential_id": "@b.credential.id", "extension": "svg"},
    **everyone(200),
)
case("GET", "/c/<code>", {"code": "@b.credential.short_code"}, **everyone(303))
# Public evidence is public; B's other evidence has its own visibility test below.
case("GET", "/evidence/<uuid:evidence_id>", {"evidence_id": "@b.evidence.public.id"}, **everyone(200))
case("GET", "/ob2/assertions/<uuid:credential_id>", {"credential_id": "@b.credential.id"}, **everyone(200))
case(
    "GET",
    "/ob2/badgeclasses/<uuid:version_id>",
    {"version_id": "@b.credential.achievement_version_id"},
    **everyone(200),
)
case("GET", "/ob2/issuers/<uuid:issuer_id>", {"issuer_id": "@b.issuer.id"}, **everyone(200))
case("GET", "/ob2/issuers/<uuid:issuer_id>/revocations", {"issuer_id": "@b.issuer.id"}, **everyone(200))
case("GET", "/ob2/keys/<kid>", {"kid": "@b.rsa_kid"}, **everyone(200))

# --- published keys and identifiers: JWK Set, did:web (issue 15) ------------------------------
case("GET", "/issuers/<uuid:issuer_id>/jwks.json", {"issuer_id": "@b.issuer.id"}, **everyone(200))
case("GET", "/issuers/<uuid:issuer_id>/did.json", {"issuer_id": "@b.issuer.id"}, **everyone(200))

# --- wallets: OpenID4VCI issuer side (issue 15) -----------------------------------------------
# A wallet offer of B's badge: B's learner alone (the page answers the POST itself: its code is shown once).
case(
    "POST",
    "/mes-badges/<uuid:credential_id>/portefeuille",
    {"credential_id": "@b.credential.id"},
    form={},
    **page_hidden("b.learner", 200, admin=404),
)
# Wallets, not people: metadata is public; the token endpoint wants a pre-authorized code (an unknown one is
# invalid_grant to all), the nonce endpoint answers anyone, the credential endpoint only its own bearer tokens.
case("GET", "/.well-known/openid-credential-issuer", **everyone(200))
case("GET", "/.well-known/oauth-authorization-server", **everyone(200))
case(
    "POST",
    "/api/oid4vci/token",
    form={"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": "nope"},
    **everyone(400),
)
case("POST", "/api/oid4vci/nonce", **everyone(200))
case("POST", "/api/oid4vci/credential", json={"credential_configuration_id": "x"}, **everyone(401))
# An offer of B's badge: B's learner alone (the platform admin and the issuer do not carry it).
case(
    "POST",
    f"{V1}/me/badges/<uuid:credential_id>/wallet-offers",
    {"credential_id": "@b.credential.id"},
    json={},
    **hidden("b.learner", 201, admin=404),
)

# --- W3C VC-API: issue and verify with OAuth client credentials (issue 15) --------------------
# Programs only: a client's token from /oauth/token, never a person's token nor a browser cookie (401 to all).
# The matrix sends forms as multipart: the token endpoint reads only urlencoded forms (400 invalid_request).
case("POST", "/oauth/token", form={"grant_type": "client_credentials"}, **everyone(400))
case("POST", "/credentials/issue", json={"credential": {"type": ["VerifiableCredential"]}}, **everyone(401))
case("POST", "/credentials/verify", json={"verifiableCredential": {}}, **everyone(401))
# Registering clients: an issuer's own administrators (profiles are public, so A's callers get 403).
case("GET", f"{V1}/issuers/<uuid:issuer_id>/api-clients", ISSUER_PAGE, **guarded("b.issuer_admin", 200))
case(
    "POST",
    f"{V1}/issuers/<uuid:issuer_id>/api-clients",
    ISSUER_PAGE,
    json={"name": "Logiciel de la matrice", "scopes": ["verify"]},
    **guarded("b.issuer_admin", 201),
)
# The world holds no client: B's administrators get past authorisation to the unknown client (404).
case(
    "POST",
    f"{V1}/issuers/<uuid:issuer_id>/api-clients/<uuid:client_ref>/revoke",
    {**ISSUER_PAGE, "client_ref": str(uuid.UUID(int=15))},
    **guarded("b.issuer_admin", 404),
)
# The pages: B's issuer for its administrators; A's issuer administrator meets the 404 page, A's others the 403.
case(
    "GET", "/emetteur/<uuid:issuer_id>/clients-api", ISSUER_PAGE, **page_hidden("b.issuer_admin", 200, **ISSUER_REFUSED)
)
case(
    "POST",
    "/emetteur/<uuid:issuer_id>/clients-api",
    ISSUER_PAGE,
    form={"nom": "Logiciel de la matrice", "droits": "verify"},
    **page_hidden("b.issuer_admin", 200, **ISSUER_REFUSED),
)
VC_CLIENT_PAGE = {**ISSUER_PAGE, "client_ref": str(uuid.UUID(int=15))}  # no client in the world: 404 past the door
for method in ("GET", "POST"):
    case(
        method,
        "/emetteur/<uuid:issuer_id>/clients-api/<uuid:client_ref>/revoquer",
        VC_CLIENT_PAGE,
        form={} if method == "POST" else None,
        **page_hidden("b.issuer_admin", 404, **ISSUER_REFUSED),
    )

# --- offline verification: trust list and status bundle (issue 17) ---------------------------
case("GET", "/trust/issuers.jws", **everyone(200))
case("GET", "/trust/issuers.json", **everyone(200))
case("GET", "/trust/status.jws", **everyone(200))
case(
    "GET",
    "/credentials/<uuid:credential_id>/offline-qr.<any(png, svg):extension>",
    {"credential_id": "@b.credential.id", "extension": "svg"},
    **everyone(200),
)
case("GET", "/credentials/<uuid:credential_id>/offline.txt", {"credential_id": "@b.credential.id"}, **everyone(200))

# --- offline verifier page (issue 17) ----------------------------------------------------------
case("GET", "/verifier-hors-ligne/", **everyone(200))
case("GET", "/verifier-hors-ligne/sw.js", **everyone(200))
case("GET", "/verifier-hors-ligne/manifest.webmanifest", **everyone(200))
case("GET", "/verifier-hors-ligne/icon-<int:size>.png", {"size": 192}, **everyone(200))

# --- public API --------------------------------------------------------------------------------
case("GET", f"{V1}/openapi.json", **everyone(200))
case("GET", f"{V1}/docs", **everyone(200))
case("GET", f"{V1}/docs/assets/<path:filename>", {"filename": "swagger-ui.css"}, **everyone(200))
case("GET", f"{V1}/platform", **everyone(200))
case("POST", f"{V1}/verify", json={"credential": "@b.credential_json"}, **everyone(200))
case(
    "POST",
    f"{V1}/dossiers/verify",
    form={"file": ("file", b"PK\x05\x06" + b"\x00" * 18, "dossier.zip")},
    **everyone(200),
)  # a report saying the manifest is missing
# Whoever holds B's credentials (password, refresh token, download link) gets through: they are the key.
case("POST", f"{V1}/auth/login", json={"email": "@b.learner.email", "password": PASSWORD}, **everyone(200))
case("POST", f"{V1}/auth/refresh", json={"refreshToken": "@b.refresh_token"}, **everyone(200))
case("POST", f"{V1}/auth/logout", json={"refreshToken": "@b.refresh_token"}, **everyone(204))
case("POST", f"{V1}/auth/password-reset", json={"email": "@b.learner.email"}, **everyone(202))  # same for all
case(
    "POST", f"{V1}/auth/password-reset/confirm", json={"token": "inconnu", "password": "x" * 12}, **everyone(422)
)  # an unknown token, named in the problem
case(
    "GET",
    f"{V1}/dossiers/<uuid:dossier_id>/download",
    {"dossier_id": "@b.dossier.id"},
    query={"token": "@b.download_token"},
    **everyone(200),
)

# --- people, roles, facilitation ----------------------------------------------------------------
case("GET", f"{V1}/people/me", **logged_in(200))
case("PATCH", f"{V1}/people/me", json={"displayName": "Nouveau nom"}, if_match="@caller.version", **logged_in(200))
case("GET", f"{V1}/people/me/record", **logged_in(200))
case(
    "POST",
    f"{V1}/people",
    json={"displayName": "Josiane", "isAssisted": True, "projectId": "@b.project.id"},
    **hidden("b.coordinator", 201),
)
case("GET", f"{V1}/people/<uuid:person_id>", {"person_id": "@b.learner.id"}, **hidden("b.coordinator", 200))
case(
    "POST", f"{V1}/people/<uuid:person_id>/invitation", {"person_id": "@b.learner.id"}, **hidden("b.coordinator", 202)
)  # the invitation e-mail again: the person's coordinators
case("GET", f"{V1}/people/<uuid:person_id>/standings", {"person_id": "@b.learner.id"}, **hidden("b.tutor", 200))
case("GET", f"{V1}/people/<uuid:person_id>/portfolio", {"person_id": "@b.learner.id"}, **hidden("b.tutor", 200))
case("GET", f"{V1}/memberships", query={"scopeId": "@b.project.id"}, **logged_in(200, "b.coordinator"))
case(
    "POST",
    f"{V1}/memberships",
    json={"personId": "@b.other_learner.id", "role": "tutor", "scopeType": "project", "scopeId": "@b.project.id"},
    **hidden("b.coordinator", 201),
)
case(
    "DELETE",
    f"{V1}/memberships/<uuid:membership_id>",
    {"membership_id": "@b.learner_membership.id"},
    **hidden("b.coordinator", 204),
)
case(
    "POST",
    f"{V1}/facilitations",
    json={"facilitatorId": "@b.coordinator.id", "learnerId": "@b.assisted.id"},
    **hidden("b.coordinator", 201),
)

# --- territories and projects -------------------------------------------------------------------
case("GET", f"{V1}/territories", **logged_in(200, "b.coordinator"))
case("POST", f"{V1}/territories", json={"name": "Territoire nouveau"}, **platform_only(201))
case(
    "GET", f"{V1}/territories/<uuid:territory_id>", {"territory_id": "@b.territory.id"}, **hidden("b.coordinator", 200)
)
case(
    "PATCH",
    f"{V1}/territories/<uuid:territory_id>",
    {"territory_id": "@b.territory.id"},
    json={"description": "Changée"},
    if_match="@b.territory.version",
    **hidden("b.coordinator", 200),
)
case(
    "GET",
    f"{V1}/territories/<uuid:territory_id>/review-rules",
    {"territory_id": "@b.territory.id"},
    **hidden("b.coordinator", 200),
)
case(
    "PUT",
    f"{V1}/territories/<uuid:territory_id>/review-rules",
    {"territory_id": "@b.territory.id"},
    json={"requiresSecondReview": True},
    **hidden("b.coordinator", 200),
)
# Dashboards: a territory's figures for its coordinators (404 to all of A), the platform's for admins.
case(
    "GET",
    f"{V1}/territories/<uuid:territory_id>/dashboard",
    {"territory_id": "@b.territory.id"},
    **hidden("b.coordinator", 200),
)
case("GET", f"{V1}/platform/dashboard", **platform_only(200))
case("GET", f"{V1}/projects", query={"territoryId": "@b.territory.id"}, **logged_in(200, "b.coordinator"))
case(
    "POST",
    f"{V1}/projects",
    json={"territoryId": "@b.territory.id", "title": "Projet nouveau", "socialFunctions": ["produire"]},
    **hidden("b.coordinator", 201),
)
case("GET", f"{V1}/projects/<uuid:project_id>", {"project_id": "@b.project.id"}, **hidden("b.coordinator", 200))
case(
    "PATCH",
    f"{V1}/projects/<uuid:project_id>",
    {"project_id": "@b.project.id"},
    json={"description": "Changé"},
    if_match="@b.project.version",
    **hidden("b.coordinator", 200),
)

# --- contributions and evidence -------------------------------------------------------------------
case("GET", f"{V1}/contributions", query={"projectId": "@b.project.id"}, **logged_in(200))
# Only the project's learners record contributions in it: the admin sees the project but is none.
case(
    "POST",
    f"{V1}/contributions",
    json={"projectId": "@b.project.id", "title": "Atelier"},
    **hidden("b.learner", 201, admin=403),
)
case(
    "GET",
    f"{V1}/contributions/<uuid:contribution_id>",
    {"contribution_id": "@b.contribution.id"},
    **hidden("b.learner", 200),
)
# A draft is its learner's alone (no one else sees it, the admin included).
case(
    "PATCH",
    f"{V1}/contributions/<uuid:contribution_id>",
    {"contribution_id": "@b.draft.id"},
    json={"title": "Atelier couture"},
    if_match="@b.draft.version",
    **hidden("b.learner", 200, admin=404),
)
case(
    "DELETE",
    f"{V1}/contributions/<uuid:contribution_id>",
    {"contribution_id": "@b.draft.id"},
    **hidden("b.learner", 204, admin=404),
)
case(
    "POST",
    f"{V1}/contributions/<uuid:contribution_id>/submit",
    {"contribution_id": "@b.draft.id"},
    **hidden("b.learner", 200, admin=404),
)
case(
    "GET",
    f"{V1}/contributions/<uuid:contribution_id>/evidence",
    {"contribution_id": "@b.contribution.id"},
    **hidden("b.learner", 200),
)
case(
    "POST",
    f"{V1}/contributions/<uuid:contribution_id>/evidence",
    {"contribution_id": "@b.contribution.id"},
    json={"kind": "text", "title": "Récit", "text": "Nous étions vingt."},
    **hidden("b.learner", 201, admin=403),
)
case(
    "POST",
    f"{V1}/contributions/<uuid:contribution_id>/evidence/files",
    {"contribution_id": "@b.contribution.id"},
    form={"file": PNG, "title": "Photo"},
    **hidden("b.learner", 201, admin=403),
)
case("GET", f"{V1}/evidence/<uuid:evidence_id>", {"evidence_id": "@b.evidence.tutors.id"}, **hidden("b.learner", 200))
case(
    "PATCH",
    f"{V1}/evidence/<uuid:evidence_id>",
    {"evidence_id": "@b.evidence.tutors.id"},
    json={"title": "Photo de l'atelier"},
    if_match="@b.evidence.tutors.version",
    **hidden("b.learner", 200, admin=403),
)
case(
    "GET",
    f"{V1}/evidence/<uuid:evidence_id>/file",
    {"evidence_id": "@b.evidence.tutors.id"},
    **hidden("b.learner", 200),
)

# --- claims, reviews, standings ----------------------------------------------------------------
case("GET", f"{V1}/claims", query={"contributionId": "@b.contribution.id"}, **logged_in(200))
case(
    "POST",
    f"{V1}/claims",
    json={
        "contributionId": "@b.contribution.id",
        "competencyId": "@b.competencies.3.id",
        "justification": "Je l'ai fait.",
    },
    **hidden("b.learner", 201, admin=403),
)
case("GET", f"{V1}/claims/<uuid:claim_id>", {"claim_id": "@b.claim_pending.id"}, **hidden("b.learner", 200))
case(
    "PATCH",
    f"{V1}/claims/<uuid:claim_id>",
    {"claim_id": "@b.claim_pending.id"},
    json={"justification": "Je l'ai refait."},
    if_match="@b.claim_pending.version",
    **hidden("b.learner", 200, admin=403),
)
case(
    "POST",
    f"{V1}/claims/<uuid:claim_id>/withdraw",
    {"claim_id": "@b.claim_pending.id"},
    if_match="@b.claim_pending.version",
    **hidden("b.learner", 200, admin=403),
)
case(
    "POST",
    f"{V1}/claims/<uuid:claim_id>/resubmit",
    {"claim_id": "@b.claim_needs_evidence.id"},
    json={"explanation": "Voici la photo."},
    if_match="@b.claim_needs_evidence.version",
    **hidden("b.learner", 200, admin=403),
)
case(
    "POST",
    f"{V1}/claims/<uuid:claim_id>/reviews",
    {"claim_id": "@b.claim_pending.id"},
    json={"decision": "validated", "level": "acquis", "comment": "Vu."},
    if_match="@b.claim_pending.version",
    **hidden("b.tutor", 201),
)
case("GET", f"{V1}/reviews/queue", query={"projectId": "@b.project.id"}, **hidden("b.tutor", 200))

# --- competency suggestions for a contribution (issue 16) -----------------------------------------
# Whoever may read the contribution (as GET /contributions/{id}).
case(
    "GET",
    f"{V1}/contributions/<uuid:contribution_id>/suggested-competencies",
    {"contribution_id": "@b.contribution.id"},
    **hidden("b.learner", 200),
)
# --- frameworks (shared by every territory) -------------------------------------------------------
case("GET", f"{V1}/frameworks", **logged_in(200))
case(
    "POST",
    f"{V1}/frameworks/imports",
    form={"file": FRAMEWORK_CSV},
    **platform_only(201, "b.issuer_admin", issuer_admin=201, owner=201),
)
case("GET", f"{V1}/frameworks/<uuid:framework_id>", {"framework_id": "@b.framework.id"}, **logged_in(200))
case("GET", f"{V1}/frameworks/<uuid:framework_id>/tree", {"framework_id": "@b.framework.id"}, **logged_in(200))
case("GET", f"{V1}/frameworks/<uuid:framework_id>/case", {"framework_id": "@b.framework.id"}, **logged_in(200))
case(
    "PUT",
    f"{V1}/frameworks/<uuid:framework_id>/review-rules",
    {"framework_id": "@b.framework.id"},
    json={"requiresSecondReview": True},
    **platform_only(200),
)
case("GET", f"{V1}/competencies/search", query={"q": "compétence"}, **logged_in(200))
case("GET", f"{V1}/competencies/<uuid:competency_id>", {"competency_id": "@b.fiche.id"}, **logged_in(200))

# --- issuers, keys, achievements (profiles are public: A sees them, cannot change them) ----------
case("GET", f"{V1}/issuers", **logged_in(200, "b.issuer_admin"))
# A territory's issuer is created by its coordinators; B's territory does not exist for A.
case(
    "POST",
    f"{V1}/issuers",
    json={"name": "Émetteur nouveau", "url": "https://nouveau.example.fr", "territoryId": "@b.territory.id"},
    **hidden("b.coordinator", 201),
)
case("GET", f"{V1}/issuers/<uuid:issuer_id>", {"issuer_id": "@b.issuer.id"}, **logged_in(200, "b.issuer_admin"))
case(
    "PATCH",
    f"{V1}/issuers/<uuid:issuer_id>",
    {"issuer_id": "@b.issuer.id"},
    json={"description": "Changé"},
    if_match="@b.issuer.version",
    **guarded("b.issuer_admin", 200),
)
case(
    "POST",
    f"{V1}/issuers/<uuid:issuer_id>/image",
    {"issuer_id": "@b.issuer.id"},
    form={"file": PNG},
    **guarded("b.issuer_admin", 200),
)
case("GET", f"{V1}/issuers/<uuid:issuer_id>/keys", {"issuer_id": "@b.issuer.id"}, **guarded("b.issuer_admin", 200))
case(
    "POST",
    f"{V1}/issuers/<uuid:issuer_id>/keys/rotate",
    {"issuer_id": "@b.issuer.id"},
    json={"purposes": ["ob2"]},
    **guarded("b.issuer_admin", 201),
)
case(
    "POST",
    f"{V1}/issuers/<uuid:issuer_id>/keys/<uuid:key_id>/compromise",
    {"issuer_id": "@b.issuer.id", "key_id": "@b.signing_key.id"},
    json=REASON,
    **guarded("b.issuer_admin", 200),
)
case(
    "POST",
    f"{V1}/issuers/<uuid:issuer_id>/bulk-awards",
    {"issuer_id": "@b.issuer.id"},
    form={"file": CSV, "mode": "dry_run"},
    **guarded("b.issuer_admin", 200),
)
case("GET", f"{V1}/achievements", query={"issuerId": "@b.issuer.id"}, **logged_in(200, "b.issuer_admin"))
case(
    "POST",
    f"{V1}/achievements",
    json={"issuerId": "@b.issuer.id", "name": "Badge nouveau", "description": "Un badge.", "criteria": "Avoir agi."},
    **guarded("b.issuer_admin", 201),
)
case(
    "GET",
    f"{V1}/achievements/<uuid:achievement_id>",
    {"achievement_id": "@b.achievement.id"},
    **logged_in(200, "b.issuer_admin"),
)
case(
    "PATCH",
    f"{V1}/achievements/<uuid:achievement_id>",
    {"achievement_id": "@b.achievement.id"},
    json={"description": "Changé"},
    if_match="@b.achievement.lock_version",
    **guarded("b.issuer_admin", 200),
)
case(
    "GET",
    f"{V1}/achievements/<uuid:achievement_id>/versions",
    {"achievement_id": "@b.achievement.id"},
    **logged_in(200, "b.issuer_admin"),
)
case(
    "POST",
    f"{V1}/achievements/<uuid:achievement_id>/image",
    {"achievement_id": "@b.achievement.id"},
    form={"file": PNG},
    **guarded("b.issuer_admin", 200),
)
case(
    "POST",
    f"{V1}/achievements/<uuid:achievement_id>/awards",
    {"achievement_id": "@b.achievement.id"},
    json={"learnerId": "@b.other_learner.id"},
    **guarded("b.issuer_admin", 201),
)
case("POST", f"{V1}/award-events/process", json={"limit": 10}, **platform_only(200))

# --- credentials and the learner's badges -------------------------------------------------------
case("GET", f"{V1}/credentials", query={"issuerId": "@b.issuer.id"}, **logged_in(200, "b.issuer_admin"))
case(
    "GET",
    f"{V1}/credentials/<uuid:credential_id>",
    {"credential_id": "@b.credential.id"},
    **hidden("b.issuer_admin", 200),
)
case(
    "GET",
    f"{V1}/credentials/<uuid:credential_id>/certificate.pdf",
    {"credential_id": "@b.credential.id"},
    **hidden("b.issuer_admin", 200),
)
# Approve and decline apply to proposals: B's credential is issued, so its admins get 409.
case(
    "POST",
    f"{V1}/credentials/<uuid:credential_id>/approve",
    {"credential_id": "@b.credential.id"},
    **hidden("b.issuer_admin", 409),
)
case(
    "POST",
    f"{V1}/credentials/<uuid:credential_id>/decline",
    {"credential_id": "@b.credential.id"},
    json=REASON,
    **hidden("b.issuer_admin", 409),
)
case(
    "POST",
    f"{V1}/credentials/<uuid:credential_id>/revoke",
    {"credential_id": "@b.credential.id"},
    json=REASON,
    **hidden("b.issuer_admin", 200),
)
case(
    "POST",
    f"{V1}/credentials/<uuid:credential_id>/suspend",
    {"credential_id": "@b.credential.id"},
    json=REASON,
    **hidden("b.issuer_admin", 200),
)
case(
    "POST",
    f"{V1}/credentials/<uuid:credential_id>/unsuspend",
    {"credential_id": "@b.credential.id"},
    json={},
    **hidden("b.issuer_admin", 409),
)
case("GET", f"{V1}/me/badges", **logged_in(200))
# "My" badges are the learner's alone: anyone else's, the admin's included, do not exist.
case(
    "GET",
    f"{V1}/me/badges/<uuid:credential_id>",
    {"credential_id": "@b.credential.id"},
    **hidden("b.learner", 200, admin=404),
)
case(
    "PATCH",
    f"{V1}/me/badges/<uuid:credential_id>",
    {"credential_id": "@b.credential.id"},
    json={"showName": False},
    if_match="@b.credential.version",
    **hidden("b.learner", 200, admin=404),
)
case(
    "GET",
    f"{V1}/me/badges/<uuid:credential_id>/share",
    {"credential_id": "@b.credential.id"},
    **hidden("b.learner", 200, admin=404),
)

# --- background jobs: the starter (and platform admins) see a job; it does not exist for others ---
case("GET", f"{V1}/jobs", **logged_in(200, "b.issuer_admin"))
case("GET", f"{V1}/jobs/<uuid:job_id>", {"job_id": "@b.job.id"}, **hidden("b.issuer_admin", 200))
case(
    "POST",
    f"{V1}/jobs/framework-imports",
    form={"file": FRAMEWORK_CSV},
    **platform_only(202, "b.issuer_admin", issuer_admin=202, owner=202),
)
case(
    "POST",
    f"{V1}/jobs/bulk-awards",
    form={"file": CSV, "issuerId": "@b.issuer.id", "mode": "dry_run"},
    **guarded("b.issuer_admin", 202),
)
case("POST", f"{V1}/jobs/dossier-generations", json={"dossierId": "@b.dossier.id"}, **hidden("b.jury_officer", 202))

# --- jury dossiers ------------------------------------------------------------------------------
case("GET", f"{V1}/dossiers", query={"certificationId": "@b.fiche.id"}, **logged_in(200, "b.jury_officer"))
case(
    "POST",
    f"{V1}/dossiers",
    json={"certificationId": "@b.fiche.id", "learnerId": "@b.learner.id"},
    **hidden("b.jury_officer", 201),
)
case("GET", f"{V1}/dossiers/<uuid:dossier_id>", {"dossier_id": "@b.dossier.id"}, **hidden("b.jury_officer", 200))
# Consent is the learner's: B's learner already consented (409); the admin sees it, may not decide (403).
case(
    "POST",
    f"{V1}/dossiers/<uuid:dossier_id>/consent",
    {"dossier_id": "@b.dossier.id"},
    **hidden("b.learner", 409, admin=403),
)
case(
    "POST",
    f"{V1}/dossiers/<uuid:dossier_id>/refuse",
    {"dossier_id": "@b.dossier.id"},
    **hidden("b.learner", 200, admin=403),
)
case(
    "POST",
    f"{V1}/dossiers/<uuid:dossier_id>/generate",
    {"dossier_id": "@b.dossier.id"},
    **hidden("b.jury_officer", 201),
)
case("POST", f"{V1}/dossiers/<uuid:dossier_id>/link", {"dossier_id": "@b.dossier.id"}, **hidden("b.jury_officer", 201))
case("GET", f"{V1}/certifications/<uuid:fiche_id>/cohort", {"fiche_id": "@b.fiche.id"}, **hidden("b.jury_officer", 200))


# --- machinery ----------------------------------------------------------------------------------


def declared_rules(app: Any) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - IGNORED_METHODS}


def resolve(value: Any, world: World, caller: Any = None) -> Any:
    """Replace ``@a.x.y`` / ``@b.x.y`` / ``@caller.x`` strings by what they name in the world."""
    if isinstance(value, dict):
        return {k: resolve(v, world, caller) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(v, world, caller) for v in value)
    if not (isinstance(value, str) and value.startswith("@")):
        return value
    head, *rest = value[1:].split(".")
    obj: Any = {"a": world.a, "b": world.b, "caller": caller, "world": world}[head]
    for name in rest:
        if name == "version" and not hasattr(obj, name):
            return 1  # no version column (yet): the first version
        obj = obj[int(name)] if isinstance(obj, list) else obj[name] if isinstance(obj, dict) else getattr(obj, name)
    return str(obj) if not isinstance(obj, (int, bool, str)) or obj is None else obj


def caller_of(world: World, name: str, entry: Case) -> tuple[Any, Any]:
    """The person calling (None: anonymous) and the learner they act for."""
    if name == "anonymous":
        return None, None
    if name == "admin":
        return world.admin, None
    if name == "owner":
        assert entry.owner, "an entry with an owner column names its owner"
        side, name = entry.owner.split(".")
        return getattr({"a": world.a, "b": world.b}[side], name), None
    if name == "facilitator":
        return world.a.facilitator, world.a.assisted
    return getattr(world.a, name), None


def send(
    client: Any, app: Any, world: World, method: str, rule: str, entry: Case, who: Any, act_for: Any, headers: Any
) -> Any:
    endpoint = next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule and method in r.methods)
    params = resolve(entry.params, world, who)
    with app.test_request_context():
        path = app.url_map.bind("localhost").build(endpoint, params, method=method)
    h: dict[str, str] = headers(who, act_for) if who is not None else {}
    if who is not None and not rule.startswith(
        V1
    ):  # pages: the caller's browser session (bearer tokens sign nobody in)
        sign_in_as(client, app, who, act_for)
    if entry.if_match:
        h["If-Match"] = f'"{resolve(entry.if_match, world, who)}"'
    kwargs: dict[str, Any] = {"headers": h, "query_string": resolve(entry.query, world, who)}
    if entry.json is not None:
        kwargs["json"] = resolve(entry.json, world, who)
    if entry.form is not None:
        data = {}
        for key, value in entry.form.items():
            if isinstance(value, tuple) and value[0] == "file":
                data[key] = (io.BytesIO(value[1]), value[2])
            else:
                data[key] = resolve(value, world, who)
        if not rule.startswith(V1):  # a page's form carries its CSRF token, as a browser sends it
            data["csrf_token"] = csrf_token(client)
        kwargs["data"] = data
        kwargs["content_type"] = "multipart/form-data"
    return client.open(path, method=method, **kwargs)


def params() -> list[Any]:
    out = []
    for (method, rule), entry in sorted(MATRIX.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        for caller in CALLERS:
            marks = []
            if caller in entry.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=entry.xfail[caller]))
            out.append(pytest.param(method, rule, caller, id=f"{method} {rule} [{caller}]", marks=marks))
    return out


def test_every_route_is_declared(app):  # type: ignore[no-untyped-def]
    """A new route (or method) without a line in MATRIX fails here, by name."""
    missing = sorted(declared_rules(app) - set(MATRIX), key=lambda mr: (mr[1], mr[0]))
    assert not missing, "routes missing from the permission matrix: " + ", ".join(f"{m} {r}" for m, r in missing)
    stale = sorted(set(MATRIX) - declared_rules(app))
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


def test_every_entry_names_every_caller():
    for key, entry in MATRIX.items():
        assert set(entry.expect) == set(CALLERS), key


@pytest.mark.parametrize(("method", "rule", "caller"), params())
def test_permission_matrix(app, matrix, headers, method, rule, caller):  # type: ignore[no-untyped-def]
    # Not the conftest client: its session fixture would open a second connection beside the world's.
    client = app.test_client()
    entry = MATRIX[(method, rule)]
    who, act_for = caller_of(matrix, caller, entry)
    response = send(client, app, matrix, method, rule, entry, who, act_for, headers)
    response.close()  # files are streamed: the data was read into memory, the handle must go
    expected = entry.expect[caller]
    assert response.status_code == expected, (
        f"{method} {rule} as {caller}: {response.status_code}, expected {expected}: "
        f"{response.get_data(as_text=True)[:300]}"
    )
    if response.status_code >= 400 and rule.startswith(V1):
        assert response.mimetype == "application/problem+json", response.headers
    if caller in A_SIDE and response.status_code < 300 and not entry.public:
        body = response.get_data(as_text=True) if response.mimetype.endswith("json") else ""
        leaked = sorted(i for i in matrix.private_ids(matrix.b) if i in body)
        assert not leaked, f"{method} {rule} as {caller} shows B's private ids {leaked}: {body[:300]}"


def test_side_names_used_by_the_table_exist():
    names = set(Side.__dataclass_fields__)
    for entry in MATRIX.values():
        if entry.owner:
            assert entry.owner.split(".")[1] in names, entry.owner


# --- evidence visibility: each of B's four evidence items, for B's own people and for A ---------
# API: private is the learner's alone; tutors and jury add the project's tutors (and the admin);
# public adds whoever sees the contribution (its project's tutors and coordinators). Other
# learners of the project, jury officers (who read evidence through dossiers) and all of A get 404.
# The public page shows public evidence only, to everyone.
VISIBILITY = {
    #                private tutors jury public
    "b.learner": (200, 200, 200, 200),
    "b.tutor": (404, 200, 200, 200),
    "b.coordinator": (404, 404, 404, 200),
    "b.other_learner": (404, 404, 404, 404),
    "b.jury_officer": (404, 404, 404, 404),
    "a.tutor": (404, 404, 404, 404),
    "a.coordinator": (404, 404, 404, 404),
    "admin": (404, 200, 200, 200),
}
LEVELS = ("private", "tutors", "jury", "public")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("who", sorted(VISIBILITY))
def test_evidence_visibility(app, matrix, headers, who, level):  # type: ignore[no-untyped-def]
    client = app.test_client()
    person = matrix.admin if who == "admin" else getattr(getattr(matrix, who[0]), who[2:])
    item = matrix.b.evidence[level]
    api = client.get(f"{V1}/evidence/{item.id}", headers=headers(person))
    assert api.status_code == VISIBILITY[who][LEVELS.index(level)], api.get_data(as_text=True)[:300]
    page = client.get(f"/evidence/{item.id}", headers=headers(person))
    assert page.status_code == (200 if level == "public" else 404)


# --- acting for an assisted learner ---------------------------------------------------------------
# A's facilitator (a tutor of A's project) acts for A's assisted learner: the learner's rights in
# A's project, never the facilitator's own tutor rights, and nothing of B (see the matrix above).
ACTING_FOR_OWN = [
    ("GET", f"{V1}/people/me", None, 200),
    ("GET", f"{V1}/contributions/{{a.assisted_contribution.id}}", None, 200),
    ("POST", f"{V1}/contributions", {"projectId": "{a.project.id}", "title": "Atelier couture"}, 201),
    (
        "POST",
        f"{V1}/contributions/{{a.assisted_contribution.id}}/evidence",
        {"kind": "text", "title": "Récit", "text": "Nous étions vingt."},
        201,
    ),
    ("GET", f"{V1}/claims/{{a.assisted_claim.id}}", None, 200),
    (
        "POST",
        f"{V1}/claims",
        {
            "contributionId": "{a.assisted_contribution.id}",
            "competencyId": "{a.competencies[1].id}",
            "justification": "Je l'ai fait.",
        },
        201,
    ),
    ("GET", f"{V1}/people/{{a.assisted.id}}/standings", None, 200),
    ("GET", f"{V1}/people/{{a.assisted.id}}/portfolio", None, 200),
    ("GET", f"{V1}/me/badges", None, 200),
    ("GET", f"{V1}/dossiers", None, 200),
]
# What the facilitator may do in their own name but not while acting for the learner.
ACTING_FOR_REFUSED = [
    (
        "POST",
        f"{V1}/claims/{{a.assisted_claim.id}}/reviews",
        {"decision": "validated", "level": "acquis", "comment": "Vu."},
        403,
    ),
    (
        "POST",
        f"{V1}/claims/{{a.claim_pending.id}}/reviews",
        {"decision": "validated", "level": "acquis", "comment": "Vu."},
        404,
    ),
    ("GET", f"{V1}/reviews/queue?projectId={{a.project.id}}", None, 403),
    ("GET", f"{V1}/contributions/{{a.contribution.id}}", None, 404),
    ("GET", f"{V1}/claims/{{a.claim_pending.id}}", None, 404),
    ("GET", f"{V1}/evidence/{{a.evidence[tutors].id}}", None, 404),
    ("GET", f"{V1}/people/{{a.learner.id}}/standings", None, 404),
    ("PATCH", f"{V1}/projects/{{a.project.id}}", {"description": "Changé"}, 403),
    ("POST", f"{V1}/people", {"displayName": "Josiane", "isAssisted": True, "projectId": "{a.project.id}"}, 403),
    (
        "POST",
        f"{V1}/memberships",
        {"personId": "{a.other_learner.id}", "role": "tutor", "scopeType": "project", "scopeId": "{a.project.id}"},
        403,
    ),
    ("POST", f"{V1}/territories", {"name": "Territoire"}, 403),
    ("POST", f"{V1}/achievements/{{a.achievement.id}}/awards", {"learnerId": "{a.assisted.id}"}, 403),
    ("GET", f"{V1}/credentials/{{a.credential.id}}", None, 404),
    ("POST", f"{V1}/dossiers/{{a.dossier.id}}/generate", None, 404),
]


def _fill(template: Any, world: World) -> Any:
    if isinstance(template, dict):
        return {k: _fill(v, world) for k, v in template.items()}
    return template.format(a=world.a, b=world.b) if isinstance(template, str) else template


def _act(app: Any, world: World, headers: Any, method: str, path: str, body: Any, *, acting: bool = True) -> Any:
    h = headers(world.a.facilitator, world.a.assisted if acting else None)
    h["If-Match"] = '"1"'
    return app.test_client().open(_fill(path, world), method=method, headers=h, json=_fill(body, world))


@pytest.mark.parametrize(
    ("method", "path", "body", "status"), ACTING_FOR_OWN, ids=[f"{m} {p}" for m, p, _b, _s in ACTING_FOR_OWN]
)
def test_facilitator_has_the_assisted_learners_rights(
    app,
    matrix,
    headers,  # type: ignore[no-untyped-def]
    method,
    path,
    body,
    status,
):
    response = _act(app, matrix, headers, method, path, body)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if path.endswith("/people/me"):
        assert response.get_json()["id"] == str(matrix.a.assisted.id)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"), ACTING_FOR_REFUSED, ids=[f"{m} {p}" for m, p, _b, _s in ACTING_FOR_REFUSED]
)
def test_facilitator_acting_for_gets_no_more_than_the_learners_rights(
    app,
    matrix,
    headers,  # type: ignore[no-untyped-def]
    method,
    path,
    body,
    status,
):
    response = _act(app, matrix, headers, method, path, body)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"


def test_the_facilitator_reviews_in_their_own_name(app, matrix, headers):  # type: ignore[no-untyped-def]
    """The refusals above come from acting for someone: in their own name the tutor decides."""
    response = _act(
        app,
        matrix,
        headers,
        "POST",
        f"{V1}/claims/{{a.claim_pending.id}}/reviews",
        {"decision": "validated", "level": "acquis", "comment": "Vu."},
        acting=False,
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]


def test_no_one_acts_for_a_learner_without_a_facilitation(app, matrix, headers):  # type: ignore[no-untyped-def]
    response = app.test_client().get(f"{V1}/people/me", headers=headers(matrix.a.coordinator, matrix.a.learner))
    assert response.status_code == 403, response.get_data(as_text=True)[:300]


def test_a_coordinator_cannot_act_for_a_learner_who_has_a_login(app, matrix, headers):  # type: ignore[no-untyped-def]
    """Facilitation is for assisted accounts: naming oneself facilitator of a learner with a login
    is refused, and a facilitation row left from before does not let one act for them."""
    client = app.test_client()
    a = matrix.a
    asked = client.post(
        f"{V1}/facilitations",
        headers=headers(a.coordinator),
        json={"facilitatorId": str(a.coordinator.id), "learnerId": str(a.learner.id)},
    )
    assert asked.status_code in (403, 409, 422), asked.get_data(as_text=True)[:300]
    assert asked.mimetype == "application/problem+json"
    session = database_of(app).registry()
    session.add(Facilitation(facilitator_id=a.coordinator.id, learner_id=a.learner.id))
    session.commit()
    for path in (f"{V1}/people/me", f"{V1}/contributions/{a.contribution.id}", f"{V1}/me/badges"):
        response = client.get(path, headers=headers(a.coordinator, a.learner))
        assert response.status_code == 403, (path, response.get_data(as_text=True)[:300])


# --- a learner of both territories ---------------------------------------------------------------
# A's tutor and coordinator see the commuter (a learner of A's project) but nothing B holds on
# them: B's contribution, claim, review and evidence stay out of every answer A gets.
COMMUTER_READS = [
    f"{V1}/people/{{c.person.id}}",
    f"{V1}/people/{{c.person.id}}/standings",
    f"{V1}/people/{{c.person.id}}/portfolio",
    f"{V1}/contributions?learnerId={{c.person.id}}",
    f"{V1}/claims?perPage=100",
    f"{V1}/reviews/queue?learnerId={{c.person.id}}",
]


@pytest.mark.parametrize("path", COMMUTER_READS)
@pytest.mark.parametrize("who", ["tutor", "coordinator", "issuer_admin"])
def test_what_b_holds_on_a_shared_learner_stays_in_b(app, matrix, headers, who, path):  # type: ignore[no-untyped-def]
    c = matrix.commuter
    response = app.test_client().get(path.format(c=c), headers=headers(getattr(matrix.a, who)))
    assert response.status_code in (200, 403, 404), response.get_data(as_text=True)[:300]
    leaked = c.leaks(response.get_data(as_text=True), matrix.b.tutor)
    assert not leaked, (who, path, leaked, response.get_data(as_text=True)[:300])


def test_an_award_of_a_draws_nothing_from_b(app, matrix, headers):  # type: ignore[no-untyped-def]
    """A's issuer may award the commuter (a learner of A); the credential names nothing of B."""
    c = matrix.commuter
    response = app.test_client().post(
        f"{V1}/achievements/{matrix.a.achievement.id}/awards",
        headers=headers(matrix.a.issuer_admin),
        json={"learnerId": str(c.person.id)},
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    leaked = c.leaks(response.get_data(as_text=True), matrix.b.tutor)
    assert not leaked, (leaked, response.get_data(as_text=True)[:500])


def test_an_issuer_of_a_cannot_reach_a_learner_of_b(app, matrix, headers):  # type: ignore[no-untyped-def]
    """B's learner is answered exactly as an unknown id: the award form tells nothing of B."""
    client = app.test_client()
    url = f"{V1}/achievements/{matrix.a.achievement.id}/awards"
    foreign = client.post(url, headers=headers(matrix.a.issuer_admin), json={"learnerId": str(matrix.b.learner.id)})
    unknown = client.post(url, headers=headers(matrix.a.issuer_admin), json={"learnerId": str(uuid.uuid4())})
    assert foreign.status_code == unknown.status_code == 422, foreign.get_data(as_text=True)[:300]
    assert foreign.get_json()["errors"] == unknown.get_json()["errors"]
