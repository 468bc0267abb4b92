"""The verification page proves who got what, from whom, on what evidence — and leaks nothing private."""

from __future__ import annotations

import io
import json
import re

from PIL import Image

from app.models import Credential, Evidence, Visibility
from tests.public_fixtures import HTML, ValidatedAward


def _html(client, credential: Credential, lang: str = "fr") -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/credentials/{credential.id}?lang={lang}", headers=HTML)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_page_names_the_tutors_levels_dates_and_shows_the_evidence(client, validated_award) -> None:
    award: ValidatedAward = validated_award
    html = _html(client, award.credential)
    assert html.index("Badge authentique") < html.index("Gardienne ou gardien du lavoir")  # the verdict first
    assert "Collectif des territoires" in html
    assert "Restaurer un lavoir" in html and "Référentiel : Petit patrimoine" in html.replace("\u00a0", " ")
    assert "au niveau « acquis »" in html and "au niveau « maîtrisé »" in html and "Validée le " in html
    assert "par <strong>Théo Tuteur</strong>, tuteur ou tutrice du projet « Le lavoir du bourg »" in html
    assert "d&#39;abord par <strong>Tina Tutrice</strong>" in html and "puis confirmée par <strong>Théo Tuteur" in html
    # A photo as a reduced preview with its alternative text; a file with its type, size and name.
    assert f'src="https://blason.test/evidence/{award.photo.id}?preview=1" alt="Photo : Le lavoir remis en eau"' in html
    assert "document PDF, 1,2 Mo" in html and "image JPG" in html
    assert f'href="https://blason.test/evidence/{award.pdf.id}?download=1" download="compte-rendu.pdf"' in html
    assert "Télécharger compte-rendu.pdf" in html and "Télécharger img-2041.jpg" in html
    assert "https://journal.example.fr/lavoir" in html
    assert "<script" not in html  # readable without JavaScript

    english = _html(client, award.credential, "en")
    assert "by <strong>Théo Tuteur</strong>, tutor of the project “Le lavoir du bourg”" in english
    assert "at the level “mastered”" in english and "PDF document, 1.2 MB" in english


def test_nothing_private_leaks_into_the_page_or_the_json(client, session, validated_award) -> None:
    award: ValidatedAward = validated_award
    pages = [_html(client, award.credential), _html(client, award.credential, "en")]
    pages.append(json.dumps(client.get(f"/credentials/{award.credential.id}").json, ensure_ascii=False))
    pages.append(client.get(f"/credentials/{award.credential.id}.jwt").get_data(as_text=True))
    for text in pages:
        assert "Léa Apprenante" not in text  # she did not choose to show her name
        for person in (award.tutor, award.tutor2, award.admin, award.learner):
            assert person.email not in text
        assert "Liste des voisins" not in text and str(award.private.id) not in text  # tutors-only evidence
        assert "Chantier bien mené" not in text  # the tutors' comments
        assert "J&#39;ai organisé" not in text and "J'ai organisé" not in text  # the learner's own narrative
    assert client.get(f"/evidence/{award.private.id}").status_code == 404
    assert client.get(f"/evidence/{award.private.id}?download=1").status_code == 404

    # Made private after the award: gone from the page, its file and preview no longer served.
    session.get(Evidence, award.photo.id).visibility = Visibility.PRIVATE
    session.commit()
    assert "Le lavoir remis en eau" not in _html(client, award.credential)
    assert client.get(f"/evidence/{award.photo.id}?preview=1").status_code == 404
    assert client.get(f"/evidence/{award.photo.id}?download=1").status_code == 404


def test_the_name_shows_when_chosen_and_a_neutral_sentence_when_not(client, session, validated_award) -> None:
    award: ValidatedAward = validated_award
    session.get(Credential, award.credential.id).show_name = False
    session.commit()
    html = _html(client, award.credential)
    assert "Léa Apprenante" not in html and "le ou la titulaire a choisi de ne pas l&#39;afficher" in html
    session.get(Credential, award.credential.id).show_name = True  # (a request ends the session: load it again)
    session.commit()
    assert "<dd>Léa Apprenante</dd>" in _html(client, award.credential)


def test_the_photo_preview_is_small_and_carries_no_metadata(client, validated_award) -> None:
    award: ValidatedAward = validated_award
    preview = client.get(f"/evidence/{award.photo.id}?preview=1")
    assert preview.status_code == 200 and preview.mimetype == "image/jpeg"
    assert preview.headers["Cache-Control"] == "public, max-age=60"
    assert b"Blason-Test-Camera" not in preview.data  # the original's EXIF is not copied
    with Image.open(io.BytesIO(preview.data)) as image:
        assert max(image.size) <= 480 and image.size[0] > image.size[1]
    original = client.get(f"/evidence/{award.photo.id}?download=1")
    assert original.headers["Content-Disposition"] == 'attachment; filename="img-2041.jpg"'
    original.close()
    assert client.get(f"/evidence/{award.pdf.id}?preview=1").status_code == 404  # a PDF has no preview
