"""The verification page's view model: who validated each competency, the public evidence, the holder's name."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import utcnow
from app.models import Contribution, ContributionStatus, Credential, Evidence, Visibility
from app.platform.urls import Urls
from app.services.identity import access
from app.services.recognition import claims, reviews
from app.services.verification import public_pages
from tests.public_fixtures import BASE, ValidatedAward, seed_validated_award

URLS = Urls(BASE)


def _view(session, credential: Credential) -> public_pages.CredentialPage:  # type: ignore[no-untyped-def]
    return public_pages.credential_page(session, credential, urls=URLS, now=utcnow())


def _by_code(view: public_pages.CredentialPage) -> list[public_pages.CompetencyLine]:
    """The competencies in code order (the credential keeps the order its alignments were signed in)."""
    return sorted(view.competencies, key=lambda line: line.code or "")


def test_each_aligned_competency_says_who_validated_it_when_and_at_what_level(session, validated_award) -> None:
    award: ValidatedAward = validated_award
    view = _view(session, award.credential)
    first, second = _by_code(view)
    assert (first.code, first.name, first.framework) == ("L1", "Restaurer un lavoir", "Petit patrimoine")
    assert first.validation is not None
    assert [(v.name, v.role) for v in first.validation.by] == [("Théo Tuteur", "tutor")]
    assert first.validation.level == "acquis" and first.validation.level_in("fr") == "acquis"
    assert first.validation.level_in("en") == "acquired" and first.validation.project == "Le lavoir du bourg"
    assert first.validation.date is not None and abs(first.validation.date - utcnow()) < timedelta(minutes=5)
    # Under the second-review rule: the first tutor, then the one who confirmed (the deciding review).
    assert (second.code, second.framework) == ("R1", "Vie locale") and second.validation is not None
    assert [(v.name, v.role) for v in second.validation.by] == [("Tina Tutrice", "tutor"), ("Théo Tuteur", "tutor")]
    assert second.validation.level_in("fr") == "maîtrisé" and second.validation.level_in("en") == "mastered"
    # What was awarded, by whom: from the signed credential.
    assert view.version.name == "Gardienne ou gardien du lavoir" and view.issuer.name == "Collectif des territoires"
    # Recorded with the award: names and roles only, never an address or the tutor's comment.
    recorded = str(award.credential.award_data["validations"])
    assert "@" not in recorded and "Chantier bien mené" not in recorded


def test_a_later_review_or_renaming_does_not_rewrite_what_the_badge_proves(session, validated_award) -> None:
    award: ValidatedAward = validated_award
    later = utcnow() + timedelta(days=3)
    other = Contribution(
        project_id=award.project.id,
        learner_id=award.learner.id,
        created_by_id=award.learner.id,
        title="Second chantier",
        status=ContributionStatus.SUBMITTED,
    )
    session.add(other)
    session.commit()
    claim = claims.create_claim(
        session,
        access.load_grants(session, award.learner.id),
        {"contribution_id": other.id, "competency_id": award.competencies[0].id, "justification": "Encore."},
    ).value
    reviews.review_claim(
        session,
        access.load_grants(session, award.tutor2.id),
        claim.id,
        {"decision": "validated", "level": "maitrise", "comment": "Très bien."},
        expected_version=claim.version,
        clock=lambda: later,
    )
    award.tutor.display_name = "Théo Nouveau-Nom"
    session.commit()
    first = _by_code(_view(session, award.credential))[0]
    assert first.validation is not None and first.validation.level == "acquis"
    assert [v.name for v in first.validation.by] == ["Théo Tuteur"]

    # A badge awarded before validations were recorded reads the reviews given by its award date.
    credential = session.get(Credential, award.credential.id)
    credential.award_data = {k: v for k, v in credential.award_data.items() if k != "validations"}
    session.commit()
    first, second = _by_code(_view(session, credential))
    assert first.validation is not None and first.validation.level == "acquis"
    assert [v.name for v in first.validation.by] == ["Théo Nouveau-Nom"]  # today's name: nothing else recorded it
    assert second.validation is not None and len(second.validation.by) == 2


def test_public_evidence_only_with_previews_types_sizes_and_names(session, validated_award) -> None:
    award: ValidatedAward = validated_award
    lines = _view(session, award.credential).evidence
    by_name = {line.name: line for line in lines}
    assert "Liste des voisins" not in by_name  # visible to tutors only: never in the badge
    photo = by_name["Le lavoir remis en eau"]
    assert photo.kind == "image" and photo.file_type == "image" and photo.extension == "jpg"
    assert photo.preview_url == f"{BASE}/evidence/{award.photo.id}?preview=1"
    assert photo.download_url == f"{BASE}/evidence/{award.photo.id}?download=1"
    assert photo.download_name == "img-2041.jpg" and photo.size == award.photo.size
    pdf = by_name["Compte rendu"]
    assert (pdf.kind, pdf.file_type, pdf.extension, pdf.preview_url) == ("file", "pdf", "pdf", None)
    assert pdf.download_name == "compte-rendu.pdf" and pdf.size == 1_250_009
    link = by_name["Article du journal"]
    assert link.kind == "link" and link.url == "https://journal.example.fr/lavoir"
    contribution = by_name["Remise en eau du lavoir"]
    assert contribution.kind == "contribution" and "Le lavoir du bourg" in (contribution.description or "")

    # Made private since: the page stops showing it (the signed credential cannot change).
    session.get(Evidence, award.photo.id).visibility = Visibility.TUTORS
    session.commit()
    assert "Le lavoir remis en eau" not in {line.name for line in _view(session, award.credential).evidence}


@pytest.mark.parametrize(
    "show_name, shown, by_choice", [(True, True, False), (False, False, True), (None, False, False)]
)
def test_the_holder_s_name_only_when_chosen(app, session, settings, show_name, shown, by_choice) -> None:
    from app.runtime import runtime

    award = seed_validated_award(session, settings=settings, storage=runtime(app).storage, show_name=show_name)
    view = _view(session, award.credential)
    assert view.recipient_name == ("Léa Apprenante" if shown else None)
    assert view.name_withheld_by_choice is by_choice


@pytest.mark.parametrize(
    "filename, title, media_type, expected",
    [
        ("Compte rendu.PDF", "Compte rendu", "application/pdf", "compte-rendu.pdf"),
        ("../../cr.pdf", "CR", "application/pdf", "cr.pdf"),
        ("photo.exe", "Photo", "image/jpeg", "photo.jpg"),  # the extension of what the file is
        (None, "Tableau des heures", "application/vnd.oasis.opendocument.spreadsheet", "tableau-des-heures.ods"),
        ("notes", "Notes", "text/plain", "notes.txt"),
        (
            "???.docx",
            "Rapport d'été",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "preuve.docx",
        ),
        ("x.bin", "X", "application/x-unknown", "x.bin"),
    ],
)
def test_download_names_carry_the_real_extension(filename, title, media_type, expected) -> None:
    assert public_pages.download_name(filename, title, media_type) == expected


def test_file_types_in_words() -> None:
    assert public_pages.file_type("application/pdf") == ("pdf", "pdf")
    assert public_pages.file_type("application/vnd.oasis.opendocument.spreadsheet") == ("spreadsheet", "ods")
    assert public_pages.file_type("image/webp") == ("image", "webp")
    assert public_pages.file_type(None) == ("file", "bin")
