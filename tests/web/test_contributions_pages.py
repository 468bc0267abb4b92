"""The learner's contribution pages, server side: /mes-contributions, creating and editing a draft,
submitting it, adding evidence (photo, file, link, text), the reduced preview and the file itself."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.models import Contribution, ContributionStatus, Evidence, EvidenceKind, StoredFile, Visibility
from app.services.contributions import evidence as evidence_service
from app.services.recognition import create_claim
from tests.api.support import png_bytes
from tests.web.csrf_support import csrf_token
from tests.web.page_support import page_text, sign_in_as

NARRATIVE = "J'ai préparé les semis avec les enfants de l'école."


def jpeg_with_exif(width: int = 1200, height: int = 900, orientation: int = 1) -> bytes:
    """A photo as a phone takes it: a JPEG with EXIF naming the camera and, maybe, a rotation."""
    across, down = Image.linear_gradient("L").rotate(90).resize((width, height)), Image.linear_gradient("L")
    image = Image.merge("RGB", (across, down.resize((width, height)), Image.new("L", (width, height), 120)))
    exif = Image.Exif()
    exif[0x010F] = "TelephoneSecret"  # Make
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, exif=exif)
    return out.getvalue()


@pytest.fixture()
def lucie(make_person, make_project, grant, client, app) -> Any:  # type: ignore[no-untyped-def]
    person = make_person(display_name="Lucie Perrin")
    person.project = make_project(title="Jardin partagé")
    grant(person, "learner", person.project)
    sign_in_as(client, app, person)
    return person


def post(client: Any, path: str, data: dict[str, Any], page: str = "/mes-contributions") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)}, content_type="multipart/form-data")


def fresh(session: Any, row: Any) -> Any:
    """The row as the database now holds it (the views committed in sessions of their own)."""
    return session.get(type(row), row.id, populate_existing=True)


def field_error(response: Any, name: str) -> str:
    """The message shown next to a field, after checking the field points at it."""
    body = response.get_data(as_text=True)
    tag = re.search(rf'<(?:input|textarea)[^>]*\bid="{name}"[^>]*>', body)
    assert tag, f"no field {name}"
    assert 'aria-invalid="true"' in tag.group(0) and f"{name}-error" in tag.group(0), tag.group(0)
    message = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', body)
    assert message, f"no message next to {name}"
    return message.group(1).replace("&#39;", "'")


def test_someone_without_a_project_is_told_what_to_do(client, app, make_person):
    sign_in_as(client, app, make_person())
    page = client.get("/mes-contributions")
    assert page.status_code == 200
    assert "Vous ne participez encore à aucun projet" in page_text(page)


def test_a_visitor_goes_to_the_sign_in_page_first(client):
    response = client.get("/mes-contributions")
    assert response.status_code == 303 and response.headers["Location"] == "/connexion?next=%2Fmes-contributions"


def test_my_projects_and_my_contributions_with_their_state(client, lucie, make_project, make_contribution, session):
    make_contribution(lucie, lucie.project, title="Planter les fraisiers")
    make_contribution(lucie, lucie.project, title="Réparer la grelinette", status=ContributionStatus.SUBMITTED)
    page = client.get("/mes-contributions")
    text = page_text(page)
    assert "Mes projets" in text and "Jardin partagé (2 contributions)" in text
    assert "Planter les fraisiers Brouillon" in text and "Réparer la grelinette Soumise" in text
    assert f'href="/mes-contributions/nouvelle?projet={lucie.project.id}"' in page.get_data(as_text=True)
    assert "Nouvelle contribution dans Jardin partagé" in text  # the button says which project
    other = make_project(title="Repair café")
    from app.models import Membership, Role, ScopeType

    session.add(Membership(person_id=lucie.id, role=Role.LEARNER, scope_type=ScopeType.PROJECT, scope_id=other.id))
    session.commit()
    assert "Aucune contribution dans ce projet pour l'instant" in page_text(client.get("/mes-contributions"))


def test_recording_a_contribution(client, lucie, session):
    form = client.get(f"/mes-contributions/nouvelle?projet={lucie.project.id}")
    assert form.status_code == 200
    assert "Racontez avec « je » ce que vous avez fait" in page_text(form)
    response = post(
        client,
        f"/mes-contributions/nouvelle?projet={lucie.project.id}",
        {
            "projet": str(lucie.project.id),
            "titre": "Semis de printemps",
            "recit": NARRATIVE,
            "role": "animatrice",
            "debut": "2026-06-02",
            "fin": "2026-06-05",
            "heures": "3,5",
            "co": ["Karim Benali", "", "Marcel Dubreuil"],
        },
    )
    assert response.status_code == 303
    row = session.scalars(select(Contribution).where(Contribution.learner_id == lucie.id)).one()
    assert response.headers["Location"] == f"/mes-contributions/{row.id}"
    assert (row.title, row.narrative, row.role, row.hours) == (
        "Semis de printemps",
        NARRATIVE,
        "animatrice",
        Decimal("3.5"),
    )
    assert (row.start_date, row.end_date, row.status) == (date(2026, 6, 2), date(2026, 6, 5), ContributionStatus.DRAFT)
    assert [c.name for c in row.co_contributors] == ["Karim Benali", "Marcel Dubreuil"]
    text = page_text(client.get(f"/mes-contributions/{row.id}"))
    assert "Du 2 juin 2026 au 5 juin 2026" in text and "3,5 h" in text and "Karim Benali, Marcel Dubreuil" in text
    assert "Brouillon" in text and "Soumettre" in text


def test_errors_are_shown_next_to_each_field_and_what_was_typed_is_kept(client, lucie, session):
    response = post(
        client,
        f"/mes-contributions/nouvelle?projet={lucie.project.id}",
        {"titre": "", "recit": NARRATIVE, "debut": "2026-06-05", "fin": "2026-06-02", "heures": "beaucoup"},
    )
    assert response.status_code == 422
    assert field_error(response, "titre") == "Donnez un titre à votre contribution."
    assert field_error(response, "fin") == "La fin est avant le début : vérifiez les deux dates."
    assert field_error(response, "heures").startswith("Écrivez un nombre d'heures entre 0 et 10 000")
    body = response.get_data(as_text=True)
    assert "J&#39;ai préparé les semis" in body and 'value="beaucoup"' in body and 'value="2026-06-05"' in body
    assert "aria-invalid" not in re.search(r'<textarea[^>]*id="recit"[^>]*>', body).group(0)
    assert "Vérifiez ces points" in page_text(response) and 'href="#titre"' in body  # the summary links to them
    assert session.scalar(select(func.count()).select_from(Contribution)) == 0


def test_only_a_learner_of_the_project_records_in_it(client, lucie, make_project):
    assert client.get(f"/mes-contributions/nouvelle?projet={make_project().id}").status_code == 404
    assert client.get("/mes-contributions/nouvelle?projet=pas-un-id").status_code == 404
    missing = client.get("/mes-contributions/nouvelle")
    assert missing.status_code == 303 and missing.headers["Location"] == "/mes-contributions"


def test_editing_a_draft_from_the_version_read(client, lucie, make_contribution, session):
    draft = make_contribution(lucie, lucie.project, title="Semis", hours=Decimal("2.00"))
    form = client.get(f"/mes-contributions/{draft.id}/modifier")
    body = form.get_data(as_text=True)
    assert 'name="version" value="1"' in body and 'value="Semis"' in body and 'value="2"' in body
    response = post(client, f"/mes-contributions/{draft.id}/modifier", {"titre": "Semis de tomates", "version": "1"})
    assert response.status_code == 303 and response.headers["Location"] == f"/mes-contributions/{draft.id}"
    draft = fresh(session, draft)
    assert (draft.title, draft.version, draft.hours) == ("Semis de tomates", 2, None)


def test_a_change_made_meanwhile_is_explained_and_nothing_typed_is_lost(client, lucie, make_contribution, session):
    draft = make_contribution(lucie, lucie.project, title="Semis")
    post(client, f"/mes-contributions/{draft.id}/modifier", {"titre": "Changé dans un autre onglet", "version": "1"})
    stale = post(
        client, f"/mes-contributions/{draft.id}/modifier", {"titre": "Mon titre", "recit": NARRATIVE, "version": "1"}
    )
    assert stale.status_code == 409
    assert "a été modifiée ailleurs" in page_text(
        stale
    ) and "Vos changements ne sont pas encore enregistrés" in page_text(stale)
    body = stale.get_data(as_text=True)
    assert 'value="Mon titre"' in body and "J&#39;ai préparé les semis" in body and 'name="version" value="2"' in body
    draft = fresh(session, draft)
    assert draft.title == "Changé dans un autre onglet"
    again = post(client, f"/mes-contributions/{draft.id}/modifier", {"titre": "Mon titre", "version": "2"})
    assert again.status_code == 303
    draft = fresh(session, draft)
    assert draft.title == "Mon titre"


def test_submitting_then_claiming(client, lucie, make_contribution, session):
    draft = make_contribution(lucie, lucie.project)
    response = post(client, f"/mes-contributions/{draft.id}/soumettre", {})
    assert response.status_code == 303 and response.headers["Location"] == f"/mes-contributions/{draft.id}"
    draft = fresh(session, draft)
    assert draft.status is ContributionStatus.SUBMITTED
    page = client.get(f"/mes-contributions/{draft.id}")
    body, text = page.get_data(as_text=True), page_text(page)
    assert f'href="/mes-contributions/{draft.id}/revendiquer"' in body
    assert "Demander la validation d'une compétence" in text and "Aucune demande pour l'instant." in text
    assert "/modifier" not in body and "/soumettre" not in body
    assert post(client, f"/mes-contributions/{draft.id}/soumettre", {}).status_code == 303  # a second click: nothing
    edit = client.get(f"/mes-contributions/{draft.id}/modifier")
    assert edit.status_code == 303 and edit.headers["Location"] == f"/mes-contributions/{draft.id}"


def test_the_claims_of_a_contribution_are_listed(client, app, world, grants_of, session):
    claim = create_claim(
        session,
        grants_of(world.learner),
        {
            "contribution_id": world.contribution.id,
            "competency_id": world.competency.id,
            "justification": "J'ai animé.",
        },
    ).value
    session.commit()
    sign_in_as(client, app, world.learner)
    page = client.get(f"/mes-contributions/{world.contribution.id}")
    assert f'href="/mes-demandes/{claim.id}"' in page.get_data(as_text=True)
    assert f"{world.competency.code} — {world.competency.label} En attente d'avis" in page_text(page)


def test_a_photo_with_its_visibility_and_its_reduced_preview(client, lucie, make_contribution, session):
    draft = make_contribution(lucie, lucie.project)
    photo = jpeg_with_exif(orientation=6)  # taken with the phone on its side
    response = post(
        client,
        f"/mes-contributions/{draft.id}/preuves",
        {"photo": (io.BytesIO(photo), "IMG_2041.jpg"), "visibilite": "tutors"},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/mes-contributions/{draft.id}#preuves"
    item = session.scalars(select(Evidence).where(Evidence.contribution_id == draft.id)).one()
    assert (item.kind, item.visibility, item.title, item.filename) == (
        EvidenceKind.FILE,
        Visibility.TUTORS,
        "IMG_2041.jpg",
        "IMG_2041.jpg",
    )
    body = client.get(f"/mes-contributions/{draft.id}").get_data(as_text=True)
    assert f'<img src="/preuves/{item.id}/apercu" alt="Aperçu\u00a0: IMG_2041.jpg"' in body
    assert f'href="/preuves/{item.id}/fichier" target="_blank"' in body
    preview = client.get(f"/preuves/{item.id}/apercu")
    assert preview.status_code == 200 and preview.mimetype == "image/jpeg"
    assert preview.headers["Cache-Control"] == "no-store" and "Cookie" in preview.headers["Vary"]
    data = preview.get_data()
    assert data != photo and len(data) < len(photo) and b"TelephoneSecret" not in data and b"Exif" not in data
    shown = Image.open(io.BytesIO(data))
    assert shown.size == (360, 480)  # upright, at most 480 px a side
    assert not shown.getexif()


def test_a_link_and_a_text(client, lucie, make_contribution, session):
    draft = make_contribution(lucie, lucie.project)
    url = f"/mes-contributions/{draft.id}/preuves"
    assert post(client, url, {"lien": "https://video.example.org/semis", "visibilite": "public"}).status_code == 303
    assert (
        post(client, url, {"texte": "Nous étions vingt.", "titre": "Témoignage", "visibilite": "jury"}).status_code
        == 303
    )
    rows = session.scalars(select(Evidence).where(Evidence.contribution_id == draft.id).order_by(Evidence.created_at))
    found = sorted((e.kind.value, e.title, e.visibility.value, e.url or e.text) for e in rows)
    assert found == [
        ("link", "video.example.org", "public", "https://video.example.org/semis"),
        ("text", "Témoignage", "jury", "Nous étions vingt."),
    ]
    text = page_text(client.get(f"/mes-contributions/{draft.id}"))
    assert "visibilité : Publique" in text and "Nous étions vingt." in text


def test_evidence_needs_one_thing_a_web_address_and_a_visibility(client, lucie, make_contribution, session):
    draft = make_contribution(lucie, lucie.project)
    url = f"/mes-contributions/{draft.id}/preuves"
    nothing = post(client, url, {"visibilite": "tutors"})
    assert nothing.status_code == 422 and field_error(nothing, "photo").startswith("Prenez une photo")
    both = post(client, url, {"lien": "https://example.org", "texte": "Et un texte", "visibilite": "tutors"})
    assert both.status_code == 422 and field_error(both, "texte").startswith("Une seule preuve à la fois")
    assert 'value="https://example.org"' in both.get_data(as_text=True)  # kept as typed
    bad = post(client, url, {"lien": "javascript:alert(1)", "visibilite": "tutors"})
    assert (
        bad.status_code == 422 and field_error(bad, "lien") == "Écrivez une adresse complète, qui commence par https://"
    )
    odd = post(client, url, {"texte": "Texte", "visibilite": "tout le monde"})
    assert odd.status_code == 422 and "Choisissez qui peut voir cette preuve." in page_text(odd)
    assert session.scalar(select(func.count()).select_from(Evidence)) == 0


PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 8


@pytest.mark.parametrize(
    ("content", "name"), [(PROGRAM, "facture.exe"), (b"<!doctype html><script>alert(1)</script>", "page.html")]
)
def test_a_forbidden_file_type_is_refused_next_to_the_field_and_nothing_is_kept(
    client, lucie, make_contribution, session, content, name
):
    draft = make_contribution(lucie, lucie.project)
    response = post(
        client,
        f"/mes-contributions/{draft.id}/preuves",
        {"fichier": (io.BytesIO(content), name), "visibilite": "tutors", "retour": f"/mes-contributions/{draft.id}"},
    )
    assert response.status_code == 415 and response.mimetype == "text/html"
    assert field_error(response, "fichier").startswith("Ce type de fichier n'est pas accepté.")
    assert 'name="retour"' in response.get_data(as_text=True)  # the form is there again, as it was sent
    assert session.scalar(select(func.count()).select_from(Evidence).where(Evidence.contribution_id == draft.id)) == 0
    # This upload's bytes are nowhere (other tests' files may be, committed by apps of their own).
    stored = (
        select(func.count()).select_from(StoredFile).where(StoredFile.sha256 == hashlib.sha256(content).hexdigest())
    )
    assert session.scalar(stored) == 0


@pytest.mark.parametrize("size", [300 * 1024, 400 * 1024])  # past the upload limit; past the whole request's limit
def test_a_file_too_large_is_refused_next_to_the_field(client, lucie, make_contribution, session, size):
    draft = make_contribution(lucie, lucie.project)
    big = b"%PDF-1.4\n" + b"0" * size
    response = post(
        client,
        f"/mes-contributions/{draft.id}/preuves",
        {"fichier": (io.BytesIO(big), "gros.pdf"), "visibilite": "jury"},
    )
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert field_error(response, "fichier").startswith("Ce fichier est trop lourd : 256 ko au plus.")
    assert session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_after_saving_evidence_the_form_goes_back_where_it_came_from(client, lucie, make_contribution):
    draft = make_contribution(lucie, lucie.project, status=ContributionStatus.SUBMITTED)
    url = f"/mes-contributions/{draft.id}/preuves"
    back = post(client, url, {"texte": "Une preuve", "visibilite": "tutors", "retour": "/mes-demandes/1234"})
    assert back.status_code == 303 and back.headers["Location"] == "/mes-demandes/1234"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = post(client, url, {"texte": "Une preuve", "visibilite": "tutors", "retour": elsewhere})
        assert response.headers["Location"] == f"/mes-contributions/{draft.id}#preuves", elsewhere


def test_the_file_itself_is_named_safely_and_never_run(client, lucie, make_contribution, session):
    draft = make_contribution(lucie, lucie.project)
    url = f"/mes-contributions/{draft.id}/preuves"
    post(
        client,
        url,
        {"fichier": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "../../Compte rendu été.pdf"), "visibilite": "tutors"},
    )
    post(client, url, {"fichier": (io.BytesIO(b"Notes du chantier\n"), "notes.html"), "visibilite": "tutors"})
    post(client, url, {"fichier": (io.BytesIO(png_bytes(8, 8)), "plan (v2).png"), "visibilite": "tutors"})
    items = {e.filename: e for e in session.scalars(select(Evidence).where(Evidence.contribution_id == draft.id))}
    assert set(items) == {"Compte rendu été.pdf", "notes.html", "plan (v2).png"}
    pdf = client.get(f"/preuves/{items['Compte rendu été.pdf'].id}/fichier")
    assert pdf.mimetype == "application/pdf" and pdf.get_data() == b"%PDF-1.4\n%%EOF\n"
    assert pdf.headers["Content-Disposition"] == (
        "inline; filename=\"Compte rendu ete.pdf\"; filename*=UTF-8''Compte%20rendu%20%C3%A9t%C3%A9.pdf"
    )
    assert pdf.headers["Content-Security-Policy"].startswith("sandbox")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get(f"/preuves/{items['notes.html'].id}/fichier")
    assert page.mimetype == "text/plain" and page.headers["Content-Disposition"].startswith("attachment;")
    assert page.headers["Content-Security-Policy"].startswith("sandbox")
    quoted = items["plan (v2).png"]
    image = client.get(f"/preuves/{quoted.id}/fichier")
    assert image.mimetype == "image/png" and image.headers["Content-Disposition"].startswith(
        'inline; filename="plan _v2_.png"'
    )
    assert "sandbox" not in image.headers.get("Content-Security-Policy", "")
    assert client.get(f"/preuves/{items['Compte rendu été.pdf'].id}/apercu").status_code == 404  # no preview of a PDF
    text = page_text(client.get(f"/mes-contributions/{draft.id}"))
    assert "Ouvrir « Compte rendu été.pdf »" in text and "(1 ko)" in text


def test_tutors_see_the_preview_of_what_they_may_read_only(client, app, world, make_person, grant, session):
    def upload(visibility: str) -> Evidence:
        from app.runtime import runtime
        from app.services.identity import access

        item = evidence_service.upload_evidence(
            session,
            access.load_grants(session, world.learner.id),
            world.contribution.id,
            io.BytesIO(jpeg_with_exif(640, 480)),
            "photo.jpg",
            {"title": "Photo", "visibility": visibility},
            storage=runtime(app).storage,
            max_bytes=runtime(app).settings.max_upload_bytes,
        )
        session.commit()
        return item

    shared, private = upload("tutors"), upload("private")
    sign_in_as(client, app, world.tutor)
    assert client.get(f"/preuves/{shared.id}/apercu").status_code == 200
    assert client.get(f"/preuves/{private.id}/apercu").status_code == 404
    assert client.get(f"/preuves/{private.id}/fichier").status_code == 404
    page = client.get(f"/mes-contributions/{world.contribution.id}")  # a tutor reads it, without the forms
    assert page.status_code == 200 and "Ajouter une preuve" not in page_text(page)
    assert str(private.id) not in page.get_data(as_text=True)
    other_learner = make_person()
    grant(other_learner, "learner", world.project)
    sign_in_as(client, app, other_learner)
    assert client.get(f"/preuves/{shared.id}/apercu").status_code == 404


def test_another_learners_contribution_does_not_exist_for_me(client, lucie, make_person, make_contribution, session):
    other = make_person()
    theirs = make_contribution(other, lucie.project)
    item = Evidence(contribution_id=theirs.id, kind=EvidenceKind.TEXT, title="T", text="T", created_by_id=other.id)
    session.add(item)
    session.commit()
    for path in (f"/mes-contributions/{theirs.id}", f"/mes-contributions/{theirs.id}/modifier"):
        assert client.get(path).status_code == 404, path
    for path, data in (
        (f"/mes-contributions/{theirs.id}/modifier", {"titre": "Pris", "version": "1"}),
        (f"/mes-contributions/{theirs.id}/soumettre", {}),
        (f"/mes-contributions/{theirs.id}/preuves", {"texte": "Pris"}),
    ):
        assert post(client, path, data).status_code == 404, path
    assert client.get(f"/preuves/{item.id}/apercu").status_code == 404
    assert client.get(f"/preuves/{item.id}/fichier").status_code == 404
    theirs = fresh(session, theirs)
    assert (theirs.title, theirs.status) == ("Animer un atelier", ContributionStatus.DRAFT)


def test_the_pages_in_english(client, lucie, make_contribution):
    draft = make_contribution(lucie, lucie.project, start_date=date(2026, 6, 2), end_date=date(2026, 6, 2))
    text = page_text(client.get(f"/mes-contributions/{draft.id}?lang=en"))
    assert "Draft" in text and "On 2 June 2026" in text and "Who can see this evidence?" in text
    assert "Tell with “I” what you did" in page_text(client.get(f"/mes-contributions/{draft.id}/modifier?lang=en"))
    index = client.get("/mes-contributions?lang=en")
    assert f'href="/mes-contributions/{draft.id}?lang=en"' in index.get_data(as_text=True)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` pixels (a decompression bomb's shape)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def transparent_png() -> bytes:
    image = Image.new("RGBA", (900, 600), (200, 40, 40, 0))
    image.paste((30, 90, 200, 255), (100, 100, 500, 400))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (transparent_png(), ("image/png", (480, 320), "RGBA")),  # transparency kept: a PNG
        (jpeg_with_exif()[:600], None),  # cut short
        (png_claiming(10_000, 5_000), None),  # too many pixels to decode whole
        (png_claiming(30_000, 30_000), None),  # past Pillow's own bomb limit
    ],
    ids=["transparent", "truncated", "many-pixels", "bomb"],
)
def test_previews_of_odd_images(client, lucie, make_contribution, session, content, shown):
    draft = make_contribution(lucie, lucie.project)
    response = post(client, f"/mes-contributions/{draft.id}/preuves", {"fichier": (io.BytesIO(content), "image.png")})
    assert response.status_code == 422  # no visibility chosen: nothing saved, said beside the radios
    response = post(
        client,
        f"/mes-contributions/{draft.id}/preuves",
        {"fichier": (io.BytesIO(content), "image.png"), "visibilite": "private"},
    )
    assert response.status_code == 303
    item = session.scalars(select(Evidence).where(Evidence.contribution_id == draft.id)).one()
    preview = client.get(f"/preuves/{item.id}/apercu")
    if shown is None:
        assert preview.status_code == 404  # no preview, never a 500 nor the upload itself
        return
    assert preview.status_code == 200 and preview.get_data() != content
    image = Image.open(io.BytesIO(preview.get_data()))
    assert (preview.mimetype, image.size, image.mode) == shown


def test_a_facilitator_records_for_the_person_they_assist(client, app, make_person, make_project, grant, session):
    from app.models import AuditEvent, Facilitation

    project = make_project(title="Repair café")
    helene = make_person(display_name="Hélène Martin")
    marcel = make_person(display_name="Marcel Dubreuil", email=None, password_hash=None, is_assisted=True)
    grant(helene, "tutor", project)
    grant(marcel, "learner", project)
    session.add(Facilitation(facilitator_id=helene.id, learner_id=marcel.id))
    session.commit()
    sign_in_as(client, app, helene, act_for=marcel)
    assert "Repair café (aucune contribution)" in page_text(client.get("/mes-contributions"))
    response = post(client, f"/mes-contributions/nouvelle?projet={project.id}", {"titre": "Réparer un grille-pain"})
    assert response.status_code == 303
    row = session.scalars(select(Contribution).where(Contribution.learner_id == marcel.id)).one()
    assert (row.title, row.created_by_id) == ("Réparer un grille-pain", helene.id)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "contribution.created_for")).one()
    assert (event.actor_id, event.subject_id) == (helene.id, str(row.id))
    assert (
        post(client, f"/mes-contributions/{row.id}/preuves", {"texte": "Fait", "visibilite": "tutors"}).status_code
        == 303
    )
