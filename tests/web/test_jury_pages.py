"""The jury officer's pages (/jury) with the Flask test client: find a learner in scope, ask for a
dossier (e-mail and home page of the learner), the consent in words (with the learner's reason),
generate as a job run by the queue, download, check a ZIP sent back, the cohort and its CSV; the
403 page without a certification, the 404 page outside it, 422 next to the field with nothing written.

The world is the dossier tests' ``vae``: Zoé, learner with claims on the fiche RNCP40792; Agnès, its
jury officer.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Dossier, DossierStatus, Job, Person
from app.services.dossiers import lifecycle as dossiers
from app.services.identity import access
from app.worker import queue_of
from tests.dossier_fixtures import make_fiche, rewrite_zip
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as


@pytest.fixture()
def run_jobs(app):  # type: ignore[no-untyped-def]
    """Run the jobs waiting in the test app's queue here, as a worker would."""
    queue = queue_of(app)
    queue.huey.flush()  # messages of earlier tests, whose rows were rolled back
    yield queue.drain
    queue.huey.flush()


def _dossiers(session: Any) -> int:
    return session.scalar(select(func.count()).select_from(Dossier)) or 0


def _ask(session: Any, vae: Any) -> Dossier:
    dossier = dossiers.request_dossier(
        session,
        access.load_grants(session, vae.officer.id),
        {"certification_id": vae.fiche.id, "learner_id": vae.learner.id},
    )
    session.commit()
    return dossier


def _consent(session: Any, vae: Any, dossier: Dossier) -> None:
    dossiers.consent(session, access.load_grants(session, vae.learner.id), dossier.id)
    session.commit()


def _post(client: Any, path: str, page: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kw)


def test_the_officer_finds_a_learner_in_scope_by_name_or_email(app, client, session, vae, make_person) -> None:  # type: ignore[no-untyped-def]
    make_person(display_name="Zoé Ailleurs")  # same name, nothing to do with the fiche: not found
    sign_in_as(client, app, vae.officer)
    page = client.get("/jury")
    assert page.status_code == 200
    text = page_text(page)
    assert "Dossiers pour le jury (VAE)" in text and "Aucun dossier demandé pour l'instant." in text
    assert f"/jury/cohortes/{vae.fiche.id}" in page.get_data(as_text=True)

    found = client.get("/jury", query_string={"q": "zoé"})
    assert "1 personne correspond à « zoé »." in page_text(found)
    assert f"/jury/personnes/{vae.learner.id}" in found.get_data(as_text=True)
    assert "Zoé Ailleurs" not in page_text(found)
    by_mail = client.get("/jury", query_string={"q": vae.learner.email.split("@")[0].upper()})
    assert f"/jury/personnes/{vae.learner.id}" in by_mail.get_data(as_text=True)
    assert "Personne ne correspond à « 50% »." in page_text(client.get("/jury", query_string={"q": "50%"}))


def test_pages_without_a_certification_are_refused_and_outside_it_hidden(
    app, client, session, vae, make_person, grant
) -> None:  # type: ignore[no-untyped-def]
    dossier = _ask(session, vae)
    sign_in_as(client, app, vae.learner)  # a learner: no jury page
    for path in ("/jury", "/jury/verifier", f"/jury/personnes/{vae.learner.id}", f"/jury/dossiers/{dossier.id}"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert refused.mimetype == "text/html"
    # An officer of another certification: the learner, the dossier and the cohort do not exist for them.
    _framework, other_fiche, _blocs, _competences = make_fiche(session, key="RNCP35340")
    other = make_person(display_name="Paul Autre-Jury")
    grant(other, "jury_officer", other_fiche)
    session.commit()
    sign_in_as(client, app, other)
    for path in (
        f"/jury/personnes/{vae.learner.id}",
        f"/jury/dossiers/{dossier.id}",
        f"/jury/dossiers/{dossier.id}/dossier.zip",
        f"/jury/cohortes/{vae.fiche.id}",
        f"/jury/cohortes/{vae.fiche.id}/cohorte.csv",
        f"/jury/personnes/{uuid.uuid4()}",
    ):
        assert client.get(path).status_code == 404, path
    assert "Personne ne correspond" in page_text(client.get("/jury", query_string={"q": "Zoé"}))
    before = _dossiers(session)
    form = {"certification": str(vae.fiche.id)}
    assert _post(client, f"/jury/personnes/{vae.learner.id}/dossiers", "/jury", form).status_code == 404
    assert _post(client, f"/jury/dossiers/{dossier.id}/generer", "/jury").status_code == 404
    assert _dossiers(session) == before


def test_asking_for_a_dossier_tells_the_learner_by_email_and_on_their_home(app, client, session, vae, outbox) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, vae.officer)
    page = client.get(f"/jury/personnes/{vae.learner.id}")
    assert page.status_code == 200
    assert "Aucun dossier n'a encore été demandé pour cette personne." in page_text(page)
    assert "RNCP40792 — BTS Services informatiques" in page_text(page)

    before = _dossiers(session)
    response = _post(
        client,
        f"/jury/personnes/{vae.learner.id}/dossiers",
        f"/jury/personnes/{vae.learner.id}",
        {"certification": str(vae.fiche.id)},
    )
    assert response.status_code == 303
    dossier_id = re.fullmatch(r"/jury/dossiers/([0-9a-f-]+)\?fait=demande", response.location).group(1)  # type: ignore[union-attr]
    assert _dossiers(session) == before + 1
    dossier = session.get(Dossier, uuid.UUID(dossier_id))
    assert dossier.status is DossierStatus.AWAITING_CONSENT and dossier.learner_id == vae.learner.id
    [mail] = outbox()
    assert mail["To"] == vae.learner.email and "/mes-donnees" in mail.get_content()

    shown = page_text(client.get(response.location))
    assert "Demande envoyée : un e-mail part vers Zoé Lefèvre-Œuvrard" in shown
    assert "En attente de son accord" in shown and "n'a pas encore répondu" in shown
    assert "Générer le dossier" not in shown  # nothing is generated without the learner's consent
    assert _post(client, f"/jury/dossiers/{dossier_id}/generer", response.location).status_code == 403

    sign_in_as(client, app, vae.learner)
    home = client.get("/")
    assert "1 dossier pour le jury attend votre accord" in page_text(home)
    assert 'href="/mes-donnees"' in home.get_data(as_text=True)


def test_a_request_without_a_certification_is_answered_next_to_the_field(app, client, session, vae) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, vae.officer)
    path = f"/jury/personnes/{vae.learner.id}"
    before = (_dossiers(session), session.scalar(select(func.count()).select_from(AuditEvent)))
    for form in ({}, {"certification": "pas-un-uuid"}, {"certification": str(uuid.uuid4())}):
        response = _post(client, f"{path}/dossiers", path, form)
        assert response.status_code == 422, form
        body = response.get_data(as_text=True)
        assert 'id="certification-error"' in body and 'aria-describedby="certification-error"' in body
        assert "Choisissez la certification pour laquelle vous demandez le dossier." in page_text(response)
    assert (_dossiers(session), session.scalar(select(func.count()).select_from(AuditEvent))) == before


def test_a_refusal_is_shown_with_the_learners_reason(app, client, session, vae) -> None:  # type: ignore[no-untyped-def]
    dossier = _ask(session, vae)
    dossiers.refuse(
        session,
        access.load_grants(session, vae.learner.id),
        dossier.id,
        reason="Je préfère attendre la fin de mon contrat.",
    )
    session.commit()
    sign_in_as(client, app, vae.officer)
    text = page_text(client.get(f"/jury/dossiers/{dossier.id}"))
    assert "Accord refusé" in text and "Sa raison : Je préfère attendre la fin de mon contrat." in text
    assert "Générer le dossier" not in text
    listed = page_text(client.get("/jury"))
    assert "1 dossier, le plus récent en premier." in listed and "Je préfère attendre" in listed
    english = page_text(client.get(f"/jury/dossiers/{dossier.id}", query_string={"lang": "en"}))
    assert "Consent refused" in english and "Their reason:" in english


def test_generate_as_a_job_then_download_and_check_the_zip(app, client, session, vae, run_jobs) -> None:  # type: ignore[no-untyped-def]
    dossier = _ask(session, vae)
    _consent(session, vae, dossier)
    sign_in_as(client, app, vae.officer)
    page = f"/jury/dossiers/{dossier.id}"
    assert "Accord donné" in page_text(client.get(page))
    response = _post(client, f"{page}/generer", page)
    assert response.status_code == 303
    job_id = uuid.UUID(re.fullmatch(r"/taches/([0-9a-f-]+)", response.location).group(1))  # type: ignore[union-attr]
    job = session.get(Job, job_id)
    assert job.kind == "dossier_generation" and job.params == {"dossier_id": str(dossier.id)}
    assert "Le dossier est en cours de génération." in page_text(client.get(page))
    assert run_jobs() >= 1
    session.expire_all()
    assert session.get(Dossier, dossier.id).status is DossierStatus.READY

    text = page_text(client.get(page))
    assert "Dossier prêt" in text and "Télécharger le dossier (ZIP)" in text and "Générer à nouveau" in text
    download = client.get(f"{page}/dossier.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    data = download.get_data()
    assert "dossier.pdf" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "dossier.downloaded"))

    checked = _post(
        client,
        "/jury/verifier",
        "/jury/verifier",
        {"dossier": (io.BytesIO(data), "dossier.zip")},
        content_type="multipart/form-data",
    )
    assert checked.status_code == 200
    text = page_text(checked)
    assert "Dossier intact" in text and "Signé par la plateforme Blason (https://blason.test)." in text
    assert "C'est le dossier de Zoé Lefèvre-Œuvrard pour RNCP40792" in text

    tampered = rewrite_zip(data, replace={"dossier.pdf": b"%PDF-1.4 faux"})
    checked = _post(
        client,
        "/jury/verifier",
        "/jury/verifier",
        {"dossier": (io.BytesIO(tampered), "renvoye.zip")},
        content_type="multipart/form-data",
    )
    text = page_text(checked)
    assert checked.status_code == 200 and "Dossier modifié" in text
    assert "Fichiers modifiés (1) dossier.pdf" in text


def test_the_verify_form_answers_a_missing_or_unreadable_file_next_to_the_field(app, client, session, vae) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, vae.officer)
    assert "Le dossier (fichier ZIP)" in page_text(client.get("/jury/verifier"))
    missing = _post(client, "/jury/verifier", "/jury/verifier", {}, content_type="multipart/form-data")
    assert missing.status_code == 422 and "Choisissez le fichier ZIP du dossier à vérifier." in page_text(missing)
    assert 'aria-describedby="dossier-hint dossier-error"' in missing.get_data(as_text=True)
    unreadable = _post(
        client,
        "/jury/verifier",
        "/jury/verifier",
        {"dossier": (io.BytesIO(b"pas un zip"), "x.zip")},
        content_type="multipart/form-data",
    )
    assert unreadable.status_code == 422 and "n'est pas une archive ZIP lisible" in page_text(unreadable)
    empty = _post(
        client,
        "/jury/verifier",
        "/jury/verifier",
        {"dossier": (io.BytesIO(bytes.fromhex("504b0506" + "00" * 18)), "vide.zip")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 200 and "Dossier impossible à vérifier" in page_text(empty)


def test_the_cohort_shows_those_who_consented_and_exports_csv(app, client, session, vae) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, app, vae.officer)
    assert "Personne n'a encore donné son accord" in page_text(client.get(f"/jury/cohortes/{vae.fiche.id}"))
    _consent(session, vae, _ask(session, vae))
    page = client.get(f"/jury/cohortes/{vae.fiche.id}")
    text = page_text(page)
    assert page.status_code == 200 and "1 personne." in text and "Zoé Lefèvre-Œuvrard" in text
    assert "1 acquises, 1 en partie, sur 3" in text  # bloc 1: one acquired, one in progress, one pending
    csv = client.get(f"/jury/cohortes/{vae.fiche.id}/cohorte.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "Zoé Lefèvre-Œuvrard;RNCP40792BC01" in csv.get_data().decode("utf-8-sig")


def test_the_demo_jury_officer_finds_lucie_and_can_ask_for_her_dossier(app, client, session, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["blason", "load-demo"])
    assert result.exit_code == 0 and "sophie.laurent@demo.blason.fr" in result.output
    sophie = session.scalar(select(Person).where(Person.email == "sophie.laurent@demo.blason.fr"))
    lucie = session.scalar(select(Person).where(Person.email == "lucie.perrin@demo.blason.fr"))
    sign_in_as(client, app, sophie)
    found = client.get("/jury", query_string={"q": "lucie"})
    assert f"/jury/personnes/{lucie.id}" in found.get_data(as_text=True)
    assert "Personne ne correspond" in page_text(client.get("/jury", query_string={"q": "Marcel"}))
    page = page_text(client.get(f"/jury/personnes/{lucie.id}"))
    assert "RNCP99001 — Animateur ou animatrice de projets de territoire (fiche de démonstration)" in page
