"""The issuer administrator's award pages, server side: the approval queue (approve, decline with a
reason), a manual award (choose the badge, find the person within reach, confirm), bulk award from a
CSV file (upload, dry-run preview in words, confirm as a job, the report and its CSV, a second run
issuing nothing twice) and the badges issued (search, filter, revoke, suspend, unsuspend); who may
open them (403 without an issuer, 404 for another issuer's) and 422 with nothing written."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Credential, CredentialState, Issuer, Job, JobState, Person
from app.runtime import runtime
from app.services.identity import access
from app.services.issuing import achievements, awarding
from app.services.issuing.signing import new_credential
from app.services.jobs import bulk_previews
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as


@dataclass
class Desk:
    issuer: Issuer
    iris: Person  # the issuer's administrator (no other role)
    achievement: Any
    other_achievement: Any
    lea: Person
    marc: Person
    stranger: Person  # in another territory: out of this issuer's reach
    base: str
    settings: Any


@pytest.fixture()
def desk(app, session, make_issuer, make_achievement, make_person, make_territory, make_project, grant) -> Desk:  # type: ignore[no-untyped-def]
    territory = make_territory(name="Territoire des Glycines")
    project = make_project(territory, title="Jardin partagé")
    issuer, creator = make_issuer(name="Tiers-lieu des Glycines", territory_id=territory.id)
    n = uuid.uuid4().hex[:6]
    iris = make_person(display_name="Iris Émettrice", email=f"iris.{n}@example.fr")
    grant(iris, "issuer_admin", issuer)
    achievement = make_achievement(issuer, creator, name="Animer une réunion publique")
    other = make_achievement(issuer, creator, name="Tenir un budget associatif")
    lea = make_person(display_name="Léa Apprenante", email=f"lea.{n}@example.fr")
    marc = make_person(display_name="Marc Dubois", email=f"marc.{n}@example.fr")
    for person in (lea, marc):
        grant(person, "learner", project)
    stranger = make_person(display_name="Léon Ailleurs", email=f"leon.{n}@example.fr")
    grant(stranger, "learner", make_project(title="Ailleurs"))
    return Desk(issuer, iris, achievement, other, lea, marc, stranger, f"/emetteur/{issuer.id}", runtime(app).issuing)


def credentials(session: Any, **where: Any) -> int:
    stmt = select(func.count()).select_from(Credential)
    for name, value in where.items():
        stmt = stmt.where(getattr(Credential, name) == value)
    return session.scalar(stmt) or 0


def propose(session: Any, desk: Desk, learner: Person) -> Credential:
    """A proposal, as an approval-mode rule leaves it: unsigned, with what the rule found."""
    version = achievements.current_version(session, desk.achievement)
    credential = new_credential(
        issuer_id=desk.issuer.id,
        version=version,
        learner=learner,
        origin="auto",
        award_data={
            "evidence": [
                {"name": "Réunion de quartier", "description": "Projet : Jardin partagé, 3 h", "genre": "Contribution"},
                {"id": "https://exemple.fr/compte-rendu", "name": "Compte rendu", "genre": "Lien"},
            ],
            "result": "Acquis",
            "level": "acquis",
        },
        created_by_id=None,
    )
    session.add(credential)
    session.commit()
    return credential


def award(session: Any, desk: Desk, learner: Person, achievement: Any = None) -> Credential:
    grants = access.load_grants(session, desk.iris.id)
    credential = awarding.award(
        session, grants, (achievement or desk.achievement).id, {"learner_id": learner.id}, settings=desk.settings
    )
    session.commit()
    return credential


def fresh(session: Any, row: Any) -> Any:
    """The row as the database has it now (a request's end detached the test's copy)."""
    return session.get(type(row), row.id, populate_existing=True)


def post(client: Any, path: str, **form: Any) -> Any:
    data = {"csrf_token": csrf_token(client, path.split("?")[0]), **form}
    return client.post(path, data=data, content_type="multipart/form-data")


# --- who may open the pages --------------------------------------------------------------------------

PAGES = ("a-approuver", "attribuer", "envois", "badges-emis")


@pytest.mark.parametrize("page", PAGES)
def test_each_page_opens_for_its_issuer_admin_in_french_and_english(client, app, desk, page):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.iris)
    response = client.get(f"{desk.base}/{page}")
    assert response.status_code == 200
    assert "Tiers-lieu des Glycines" in page_text(response)
    assert response.headers["Cache-Control"] == "private, no-store"
    english = client.get(f"{desk.base}/{page}?lang=en")
    assert english.status_code == 200 and '<html lang="en">' in english.get_data(as_text=True)


@pytest.mark.parametrize("page", [*PAGES, "envois/exemple.csv"])
def test_without_an_issuer_the_pages_are_refused_and_another_issuers_are_not_found(  # type: ignore[no-untyped-def]
    client, app, desk, make_issuer, make_person, grant, page
):
    sign_in_as(client, app, desk.lea)  # a learner: no issuer to administer
    refused = client.get(f"{desk.base}/{page}")
    assert refused.status_code == 403
    other_issuer, _creator = make_issuer(name="Un autre émetteur")
    other_admin = make_person()
    grant(other_admin, "issuer_admin", other_issuer)
    sign_in_as(client, app, other_admin)
    assert client.get(f"{desk.base}/{page}").status_code == 404
    assert client.get(f"/emetteur/{uuid.UUID(int=5)}/{page}").status_code == 404


def test_a_visitor_goes_to_the_sign_in_page(app, desk):  # type: ignore[no-untyped-def]
    response = app.test_client().get(f"{desk.base}/a-approuver")
    assert response.status_code == 303 and response.headers["Location"].startswith("/connexion?next=")


# --- the approval queue --------------------------------------------------------------------------------


def test_the_queue_shows_who_which_badge_and_what_the_rule_found(client, app, session, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.iris)
    assert "Aucun badge n'attend votre approbation." in page_text(client.get(f"{desk.base}/a-approuver"))
    propose(session, desk, desk.lea)
    text = page_text(client.get(f"{desk.base}/a-approuver"))
    assert "1 badge attend votre approbation." in text
    assert "Animer une réunion publique" in text and "Pour Léa Apprenante" in text
    assert "Niveau reconnu : Acquis" in text and "Réunion de quartier — Projet : Jardin partagé, 3 h" in text
    assert "Compte rendu" in text


def test_approving_issues_the_badge_and_mails_the_holder(client, app, session, desk, outbox):  # type: ignore[no-untyped-def]
    proposal = propose(session, desk, desk.lea)
    sign_in_as(client, app, desk.iris)
    response = post(client, f"{desk.base}/a-approuver", proposition=str(proposal.id), action="approve")
    assert response.status_code == 303 and response.headers["Location"] == f"{desk.base}/a-approuver?fait=approved"
    proposal = fresh(session, proposal)
    assert proposal.state is CredentialState.ISSUED and proposal.ob3_credential and proposal.ob2_jws
    told = outbox()
    assert [m["To"] for m in told] == [desk.lea.email] and "Animer une réunion publique" in told[0]["Subject"]
    assert "Le badge est émis." in page_text(client.get(response.headers["Location"]))


def test_declining_needs_a_reason_then_keeps_it(client, app, session, desk):  # type: ignore[no-untyped-def]
    proposal = propose(session, desk, desk.lea)
    sign_in_as(client, app, desk.iris)
    refused = post(client, f"{desk.base}/a-approuver", proposition=str(proposal.id), action="decline", motif="  ")
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert f'<p class="field-error" id="motif-{proposal.id}-error">Indiquez le motif.</p>' in body
    assert f'aria-describedby="motif-{proposal.id}-error motif-{proposal.id}-hint" aria-invalid="true"' in body
    proposal = fresh(session, proposal)
    assert proposal.state is CredentialState.PROPOSED  # nothing written
    done = post(
        client, f"{desk.base}/a-approuver", proposition=str(proposal.id), action="decline", motif="Hors périmètre."
    )
    assert done.status_code == 303
    proposal = fresh(session, proposal)
    assert proposal.state is CredentialState.DECLINED and proposal.status_reason == "Hors périmètre."
    # Deciding again (another administrator, meanwhile): the queue as it is now, with a word.
    again = post(client, f"{desk.base}/a-approuver", proposition=str(proposal.id), action="approve")
    assert again.status_code == 409 and "déjà été traitée" in page_text(again)


def test_a_proposal_of_another_issuer_is_not_found_here(client, app, session, desk, make_issuer, make_achievement):  # type: ignore[no-untyped-def]
    other_issuer, creator = make_issuer(name="Autre")
    other = make_achievement(other_issuer, creator)
    version = achievements.current_version(session, other)
    theirs = new_credential(
        issuer_id=other_issuer.id, version=version, learner=desk.lea, origin="auto", award_data={}, created_by_id=None
    )
    session.add(theirs)
    session.commit()
    sign_in_as(client, app, desk.iris)
    response = post(client, f"{desk.base}/a-approuver", proposition=str(theirs.id), action="approve")
    assert response.status_code == 404
    assert post(client, f"{desk.base}/a-approuver", proposition="pas-un-id", action="approve").status_code == 404


def test_the_queue_is_paged(client, app, session, desk, make_person, grant):  # type: ignore[no-untyped-def]
    for i in range(22):
        propose(session, desk, make_person(display_name=f"Personne {i:02d}"))
    sign_in_as(client, app, desk.iris)
    first = page_text(client.get(f"{desk.base}/a-approuver"))
    assert "22 badges attendent votre approbation." in first and "Page 1 sur 2" in first
    assert "Page 2 sur 2" in page_text(client.get(f"{desk.base}/a-approuver?page=2"))


# --- a manual award ----------------------------------------------------------------------------------------


def test_finding_a_person_shows_only_those_within_reach(client, app, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.iris)
    page = client.get(f"{desk.base}/attribuer?modele={desk.achievement.id}&q=l%C3%A9")
    text = page_text(page)
    assert "Léa Apprenante" in text and "Léon Ailleurs" not in text  # Léon is of another territory
    by_mail = page_text(client.get(f"{desk.base}/attribuer?q={desk.marc.email}"))
    assert "Marc Dubois" in by_mail
    assert f"personne={desk.lea.id}" in page.get_data(as_text=True)
    short = client.get(f"{desk.base}/attribuer?q=l")
    assert short.status_code == 422 and "Tapez au moins 2 caractères." in page_text(short)


def test_a_manual_award_confirms_then_issues_in_every_format_and_mails(client, app, session, desk, outbox):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.iris)
    confirm = client.get(f"{desk.base}/attribuer?modele={desk.achievement.id}&personne={desk.lea.id}")
    text = page_text(confirm)
    assert "2. Vérifier et émettre" in text and "Léa Apprenante" in text and "Animer une réunion publique" in text
    response = post(
        client,
        f"{desk.base}/attribuer",
        modele=str(desk.achievement.id),
        personne=str(desk.lea.id),
        recit="A animé trois réunions.",
        preuve="https://exemple.fr/photo",
    )
    assert response.status_code == 303 and "/badges-emis?emis=" in response.headers["Location"]
    credential = session.scalar(select(Credential).where(Credential.learner_id == desk.lea.id))
    assert credential is not None and credential.state is CredentialState.ISSUED
    assert credential.ob3_credential and credential.ob3_jwt and credential.ob2_assertion and credential.ob2_jws
    assert credential.award_data["narrative"] == "A animé trois réunions."
    assert [m["To"] for m in outbox()] == [desk.lea.email]
    assert "Le badge est émis." in page_text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"personne": "LEA"}, "modele", "Choisissez un modèle de badge de cet émetteur."),
        ({"modele": "ACH"}, "personne", "Choisissez une personne dans la recherche."),
        ({"modele": "ACH", "personne": "LEA", "preuve": "pas une adresse"}, "preuve", "commençant par https://"),
        ({"modele": "ACH", "personne": "STRANGER"}, "personne", "Choisissez une personne dans la recherche."),
        ({"modele": "OTHER_ISSUER", "personne": "LEA"}, "modele", "Choisissez un modèle de badge de cet émetteur."),
    ],
    ids=["no-badge", "no-person", "bad-link", "out-of-reach", "other-issuers-badge"],
)
def test_a_manual_award_refused_says_why_next_to_the_field_and_writes_nothing(  # type: ignore[no-untyped-def]
    client, app, session, desk, make_issuer, make_achievement, form, field, message
):
    other_issuer, creator = make_issuer(name="Autre")
    names = {
        "LEA": desk.lea.id,
        "ACH": desk.achievement.id,
        "STRANGER": desk.stranger.id,
        "OTHER_ISSUER": make_achievement(other_issuer, creator).id,
    }
    sign_in_as(client, app, desk.iris)
    before = credentials(session)
    response = post(client, f"{desk.base}/attribuer", **{k: str(names.get(v, v)) for k, v in form.items()})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field}-error">' in body and message in page_text(response)
    assert credentials(session) == before


def test_awarding_twice_is_refused_in_words(client, app, session, desk):  # type: ignore[no-untyped-def]
    award(session, desk, desk.lea)
    sign_in_as(client, app, desk.iris)
    response = post(client, f"{desk.base}/attribuer", modele=str(desk.achievement.id), personne=str(desk.lea.id))
    assert response.status_code == 409 and "Cette personne a déjà ce badge" in page_text(response)
    assert credentials(session, learner_id=desk.lea.id) == 1


# --- the badges issued ----------------------------------------------------------------------------------


def test_the_badges_issued_are_searched_and_filtered_by_state(client, app, session, desk):  # type: ignore[no-untyped-def]
    award(session, desk, desk.lea)
    award(session, desk, desk.marc, desk.other_achievement)
    expired = award(session, desk, desk.marc)
    expired.valid_until = datetime.now(UTC) - timedelta(days=1)
    propose(session, desk, desk.stranger)  # a proposal is not an issued badge
    session.commit()
    sign_in_as(client, app, desk.iris)
    everything = page_text(client.get(f"{desk.base}/badges-emis"))
    assert "3 badges émis." in everything and "Léon" not in everything
    assert "1 badge correspond." in page_text(client.get(f"{desk.base}/badges-emis?q=budget"))
    by_name = page_text(client.get(f"{desk.base}/badges-emis?q=marc"))
    assert "2 badges correspondent." in by_name and "Léa" not in by_name
    gone = page_text(client.get(f"{desk.base}/badges-emis?etat=expired"))
    assert "1 badge correspond." in gone and "expiré" in gone
    assert "2 badges correspondent." in page_text(client.get(f"{desk.base}/badges-emis?etat=active"))
    assert "Aucun badge ne correspond." in page_text(client.get(f"{desk.base}/badges-emis?etat=revoked"))
    assert "3 badges émis." in page_text(client.get(f"{desk.base}/badges-emis?etat=nimporte"))


def test_suspend_unsuspend_and_revoke_with_a_reason_each_mailed(client, app, session, desk, outbox):  # type: ignore[no-untyped-def]
    credential = award(session, desk, desk.lea)
    sign_in_as(client, app, desk.iris)
    path = f"{desk.base}/badges-emis"
    missing = post(client, path, badge=str(credential.id), action="suspend", motif="", q="léa")
    assert missing.status_code == 422 and "Indiquez le motif." in page_text(missing)
    assert f'id="motif-{credential.id}-error"' in missing.get_data(as_text=True)
    credential = fresh(session, credential)
    assert credential.state is CredentialState.ISSUED  # nothing written
    suspended = post(client, path, badge=str(credential.id), action="suspend", motif="Vérification en cours.", q="léa")
    assert suspended.status_code == 303 and suspended.headers["Location"] == f"{path}?q=l%C3%A9a&fait=suspend"
    credential = fresh(session, credential)
    assert credential.state is CredentialState.SUSPENDED and credential.status_reason == "Vérification en cours."
    assert "Suspendu le" in page_text(client.get(path)) and "Motif : Vérification en cours." in page_text(
        client.get(path)
    )
    assert post(client, path, badge=str(credential.id), action="unsuspend").status_code == 303
    credential = fresh(session, credential)
    assert credential.state is CredentialState.ISSUED
    assert (
        post(client, path, badge=str(credential.id), action="revoke", motif="Attribué par erreur.").status_code == 303
    )
    credential = fresh(session, credential)
    assert credential.state is CredentialState.REVOKED and credential.status_reason == "Attribué par erreur."
    assert [m["To"] for m in outbox()] == [desk.lea.email] * 3  # suspended, valid again, revoked
    again = post(client, path, badge=str(credential.id), action="revoke", motif="Encore.")
    assert again.status_code == 409 and "Ce badge a changé entre-temps" in page_text(again)


def test_the_badges_issued_are_paged(client, app, session, desk, make_person, grant):  # type: ignore[no-untyped-def]
    for i in range(21):
        person = make_person(display_name=f"Personne {i:02d}")
        version = achievements.current_version(session, desk.achievement)
        credential = new_credential(
            issuer_id=desk.issuer.id,
            version=version,
            learner=person,
            origin="manual",
            award_data={},
            created_by_id=None,
        )
        credential.state = CredentialState.ISSUED
        session.add(credential)
    session.commit()
    sign_in_as(client, app, desk.iris)
    first = page_text(client.get(f"{desk.base}/badges-emis?q=personne"))
    assert "21 badges correspondent." in first and "Page 1 sur 2" in first
    assert 'href="/emetteur/' in client.get(f"{desk.base}/badges-emis?q=personne").get_data(as_text=True)
    assert "Page 2 sur 2" in page_text(client.get(f"{desk.base}/badges-emis?q=personne&page=2"))


# --- bulk award ---------------------------------------------------------------------------------------------


def csv_of(*emails: str, header: str = "email") -> bytes:
    return ("\n".join([header, *emails]) + "\n").encode()


def upload(client: Any, desk: Desk, data: bytes, *, modele: Any = None, name: str = "envoi.csv") -> Any:
    form: dict[str, Any] = {"csv": (io.BytesIO(data), name)}
    if modele is not None:
        form["modele"] = str(modele)
    return post(client, f"{desk.base}/envois", **form)


def test_the_upload_page_explains_the_columns_and_offers_an_example(client, app, desk):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.iris)
    text = page_text(client.get(f"{desk.base}/envois"))
    assert "Les colonnes du fichier" in text and "email" in text and "evidence_url" in text
    example = client.get(f"{desk.base}/envois/exemple.csv")
    assert example.status_code == 200 and example.mimetype == "text/csv"
    assert example.get_data(as_text=True).startswith("email,evidence_url,narrative")


def test_a_preview_names_the_bad_rows_in_french_then_a_job_issues_and_a_second_run_issues_nothing(  # type: ignore[no-untyped-def]
    client, app, session, desk, drain, outbox
):
    sign_in_as(client, app, desk.iris)
    data = csv_of(desk.lea.email, "personne@inconnue.fr", desk.marc.email, desk.lea.email, desk.stranger.email)
    sent = upload(client, desk, data, modele=desk.achievement.id)
    assert sent.status_code == 303 and "/envois?envoi=" in sent.headers["Location"]
    preview = client.get(sent.headers["Location"])
    text = page_text(preview)
    assert preview.status_code == 200 and "Rien n'est encore émis." in text
    # The rows that are not right come first, each with its line and its reason in French.
    rows = re.findall(r"<tr[^>]*>\s*<th scope=\"row\" class=\"n\">(\d+)</th>", preview.get_data(as_text=True))
    assert rows == ["3", "5", "6"]
    assert "Aucune personne que cet émetteur peut récompenser n'a cette adresse e-mail." in text
    assert "personne@inconnue.fr" in text and "en double dans le fichier" in text
    assert "Émettre 2 badges" in text
    assert credentials(session) == 0  # a dry run
    everything = page_text(client.get(sent.headers["Location"] + "&voir=tout"))
    assert "Léa Apprenante sera émis" in everything and "Marc Dubois sera émis" in everything

    token = re.search(r"envoi=([0-9a-f.]+)", sent.headers["Location"]).group(1)  # type: ignore[union-attr]
    confirmed = post(client, f"{desk.base}/envois", envoi=token, modele=str(desk.achievement.id))
    assert confirmed.status_code == 303 and confirmed.headers["Location"].startswith("/taches/")
    job_id = uuid.UUID(confirmed.headers["Location"].rsplit("/", 1)[1])
    job = session.get(Job, job_id)
    assert job is not None and job.kind == "bulk_award" and job.params["mode"] == "skip_invalid"
    # A second click on the same preview leads to the same job, never a second one.
    twice = post(client, f"{desk.base}/envois", envoi=token, modele=str(desk.achievement.id))
    assert twice.headers["Location"] == confirmed.headers["Location"]
    assert session.scalar(select(func.count()).select_from(Job)) == 1

    running = page_text(client.get(f"{desk.base}/envois/{job_id}"))
    assert "Le traitement est en cours." in running
    assert client.get(f"{desk.base}/envois/{job_id}/rapport.csv").status_code == 409
    assert drain() >= 1
    job = fresh(session, job)
    assert job.state is JobState.SUCCEEDED
    assert credentials(session, state=CredentialState.ISSUED) == 2
    assert sorted(m["To"] for m in outbox()) == sorted([desk.lea.email, desk.marc.email])
    assert not runtime(app).storage.keyed_exists(job.params["key"])  # the file is gone with its job
    report = page_text(client.get(f"{desk.base}/envois/{job_id}?voir=tout"))
    assert "Badges émis 2" in report and "Déjà émis 0" in report and "Lignes refusées 3" in report
    assert "Léa Apprenante émis" in report
    csv = client.get(f"{desk.base}/envois/{job_id}/rapport.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Ligne;Personne;Résultat;Raison" and lines[1] == "2;Léa Apprenante;émis;"
    assert lines[2].startswith("3;;refusée;Aucune personne")

    # The same file again: nothing is issued twice, the rows read « déjà émis ».
    again = client.get(upload(client, desk, data, modele=desk.achievement.id).headers["Location"])
    assert "Ce fichier n'émettrait aucun badge." in page_text(again) and "Déjà émis 2" in page_text(again)
    second = upload(client, desk, data, modele=desk.achievement.id)
    token2 = re.search(r"envoi=([0-9a-f.]+)", second.headers["Location"]).group(1)  # type: ignore[union-attr]
    confirmed2 = post(client, f"{desk.base}/envois", envoi=token2, modele=str(desk.achievement.id))
    job2 = uuid.UUID(confirmed2.headers["Location"].rsplit("/", 1)[1])
    drain()
    assert credentials(session) == 2
    report2 = page_text(client.get(f"{desk.base}/envois/{job2}?voir=tout"))
    assert "Badges émis 0" in report2 and "Déjà émis 2" in report2 and "Léa Apprenante déjà émis" in report2
    assert "Aucun badge n'a été émis deux fois" in report2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Le fichier est vide"),
        (b"nom,prenom\nDupont,Jean\n", "La ligne d'en-tête doit contenir une colonne email"),
        (b"email\n\xff\xfe\n", "Le fichier n'est pas du texte UTF-8"),
    ],
    ids=["empty", "no-email-column", "not-utf8"],
)
def test_an_unusable_file_is_refused_next_to_the_field_and_not_kept(client, app, desk, data, message):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.iris)
    storage = runtime(app).storage
    before = {f.name for f in storage.list_keyed("jobs")}
    response = upload(client, desk, data)
    assert response.status_code == 422
    assert 'id="csv-error">' in response.get_data(as_text=True) and message in page_text(response)
    assert {f.name for f in storage.list_keyed("jobs")} == before


def test_upload_form_errors(client, app, desk, make_issuer, make_achievement):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.iris)
    missing = post(client, f"{desk.base}/envois", modele="")
    assert missing.status_code == 422 and "Choisissez un fichier CSV." in page_text(missing)
    other_issuer, creator = make_issuer(name="Autre")
    foreign = upload(client, desk, csv_of(desk.lea.email), modele=make_achievement(other_issuer, creator).id)
    assert foreign.status_code == 422 and 'id="modele-error"' in foreign.get_data(as_text=True)
    too_big = upload(client, desk, b"email\n" + b"x@example.fr\n" * 30000)
    assert too_big.status_code == 413 and "Le fichier est trop lourd" in page_text(too_big)


def test_a_preview_token_is_bound_to_its_issuer_and_its_sender(  # type: ignore[no-untyped-def]
    client, app, session, desk, make_person, grant, make_issuer
):
    sign_in_as(client, app, desk.iris)
    location = upload(client, desk, csv_of(desk.lea.email), modele=desk.achievement.id).headers["Location"]
    token = re.search(r"envoi=([0-9a-f.]+)", location).group(1)  # type: ignore[union-attr]
    colleague = make_person(display_name="Colette Collègue")
    grant(colleague, "issuer_admin", desk.issuer)
    other_issuer, _creator = make_issuer(name="Autre")
    grant(colleague, "issuer_admin", other_issuer)
    sign_in_as(client, app, colleague)
    assert client.get(location).status_code == 404  # another person's file
    assert post(client, f"{desk.base}/envois", envoi=token).status_code == 404
    assert client.get(f"/emetteur/{other_issuer.id}/envois?envoi={token}").status_code == 404  # another issuer
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    sign_in_as(client, app, desk.iris)
    assert client.get(f"{desk.base}/envois?envoi={forged}").status_code == 404
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    # The file gone (its job ended, or swept): the page says so, and asks for it again.
    key = bulk_previews.staged_key(
        runtime(app).storage, token, issuer_id=desk.issuer.id, person_id=desk.iris.id, secret="test-secret"
    )
    runtime(app).storage.delete_keyed(key)
    gone = post(client, f"{desk.base}/envois", envoi=token)
    assert gone.status_code == 422 and "Ce fichier n'est plus disponible" in page_text(gone)


def test_a_report_is_its_starters_and_its_issuers_only(client, app, session, desk, make_person, grant, make_issuer):  # type: ignore[no-untyped-def]
    sign_in_as(client, app, desk.iris)
    location = upload(client, desk, csv_of(desk.lea.email), modele=desk.achievement.id).headers["Location"]
    token = re.search(r"envoi=([0-9a-f.]+)", location).group(1)  # type: ignore[union-attr]
    job_id = post(client, f"{desk.base}/envois", envoi=token).headers["Location"].rsplit("/", 1)[1]
    other_issuer, _creator = make_issuer(name="Autre")
    grant(desk.iris, "issuer_admin", other_issuer)
    assert client.get(f"/emetteur/{other_issuer.id}/envois/{job_id}").status_code == 404  # not that issuer's job
    colleague = make_person()
    grant(colleague, "issuer_admin", desk.issuer)
    sign_in_as(client, app, colleague)
    assert client.get(f"{desk.base}/envois/{job_id}").status_code == 404  # the starter's own, as in the API
    assert client.get(f"{desk.base}/envois/{uuid.UUID(int=9)}").status_code == 404
