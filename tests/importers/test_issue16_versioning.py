"""Issue 16, versioning: going back to earlier content, RNCP fiche identity, ESCO releases.

Every file here is built by the test (small shapes of the real exports), so nothing needs ../shared.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.importers import AssociationRecord, WarningRecord, parse_esco, parse_rncp_xml
from app.models import Competency, CompetencyAssociation, Framework
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor

from .conftest import header_of, make_zip

ADMIN = Grants(Actor(None), platform_admin=True)


def rncp_fiche(numero: str, title: str, *, old: str | None = None, new: str | None = None, liste: str = "") -> str:
    """One V4.1 FICHE with one bloc; ``old``/``new`` fill ANCIENNES/NOUVELLES_CERTIFICATIONS."""
    links = ""
    if new:
        links += (
            "<NOUVELLES_CERTIFICATIONS><NOUVELLE_CERTIFICATION><ID_FICHE_NOUVELLE_CERTIFICATION>"
            f"{new}</ID_FICHE_NOUVELLE_CERTIFICATION></NOUVELLE_CERTIFICATION></NOUVELLES_CERTIFICATIONS>"
        )
    if old:
        links += (
            "<ANCIENNES_CERTIFICATIONS><ANCIENNE_CERTIFICATION><ID_FICHE_ANCIENNE_CERTIFICATION>"
            f"{old}</ID_FICHE_ANCIENNE_CERTIFICATION></ANCIENNE_CERTIFICATION></ANCIENNES_CERTIFICATIONS>"
        )
    return (
        f"<FICHE><ID_FICHE>1</ID_FICHE><NUMERO_FICHE>{numero}</NUMERO_FICHE>{links}<INTITULE>{title}</INTITULE>"
        "<ACTIF>Oui</ACTIF><BLOCS_COMPETENCES><BLOC_COMPETENCES>"
        f"<CODE>{numero}BC01</CODE><LIBELLE>Bloc un</LIBELLE>"
        f"<LISTE_COMPETENCES>{liste or 'Gérer le patrimoine informatique'}</LISTE_COMPETENCES>"
        "</BLOC_COMPETENCES></BLOCS_COMPETENCES></FICHE>"
    )


def rncp_file(*fiches: str) -> bytes:
    return ("<?xml version='1.0' encoding='UTF-8'?><FICHES><VERSION_FLUX>4.1</VERSION_FLUX>" + "".join(fiches)).encode(
        "utf-8"
    ) + b"</FICHES>"


def _versions(session, source_key: str) -> list[tuple[int, bool]]:  # type: ignore[no-untyped-def]
    rows = session.scalars(select(Framework).where(Framework.source_key == source_key).order_by(Framework.version))
    return [(f.version, f.is_current) for f in rows]


def _current(session, source_key: str) -> Framework:  # type: ignore[no-untyped-def]
    return session.scalar(select(Framework).where(Framework.source_key == source_key, Framework.is_current.is_(True)))


# -- item 1: content equal to an older, non-current version becomes current again ----------------


def test_rncp_going_back_to_earlier_content_makes_it_current_as_a_new_version(session):
    """Shape: one fiche exported three times, A then B then A again (a correction withdrawn)."""
    first = rncp_file(rncp_fiche("RNCP90001", "Titre A"))
    second = rncp_file(rncp_fiche("RNCP90001", "Titre B"))
    import_framework_file(session, ADMIN, first, "a.xml")
    v1_node = session.scalar(select(Competency).where(Competency.source_key == "RNCP90001BC01-C01"))
    import_framework_file(session, ADMIN, second, "b.xml")
    back = import_framework_file(session, ADMIN, first, "a-again.xml")
    assert (back.created, back.unchanged) == (1, 0)
    assert back.frameworks[0].restores == 1
    assert _versions(session, "RNCP90001") == [(1, False), (2, False), (3, True)]
    current = _current(session, "RNCP90001")
    assert current.title == "Titre A" and current.meta["restores_version"] == 1
    # Credentials issued from version 1 keep pointing at version 1's rows.
    assert session.get(Competency, v1_node.id).framework_id != current.id
    again = import_framework_file(session, ADMIN, first, "a-third.xml")
    assert (again.created, again.unchanged) == (0, 1) and again.frameworks[0].version == 3


CUSTOM_A = "# title: Référentiel du tiers-lieu\n# identifier: https://territoire.example/r\nkey;label\nD1;Coopérer\n"
CUSTOM_B = CUSTOM_A.replace("Coopérer", "Coopérer ensemble")


def test_custom_going_back_to_earlier_content_makes_it_current(session):
    """Shape: a custom CSV edited, then the edit undone (streamed path)."""
    for text in (CUSTOM_A, CUSTOM_B, CUSTOM_A):
        report = import_framework_file(session, ADMIN, text.encode(), "r.csv")
    assert report.created == 1 and report.frameworks[0].restores == 1
    assert _versions(session, "https://territoire.example/r") == [(1, False), (2, False), (3, True)]
    current = _current(session, "https://territoire.example/r")
    assert current.meta["restores_version"] == 1
    assert session.scalar(select(Competency.label).where(Competency.framework_id == current.id)) == "Coopérer"


def _case(title: str) -> bytes:
    return json.dumps(
        {
            "CFDocument": {"identifier": "d1", "uri": "https://case.example/d1", "title": "Doc", "language": "fr"},
            "CFItems": [{"identifier": "i1", "fullStatement": title}],
            "CFAssociations": [
                {
                    "identifier": "a1",
                    "associationType": "isChildOf",
                    "originNodeURI": {"identifier": "i1", "uri": "https://case.example/i1", "title": "i1"},
                    "destinationNodeURI": {"identifier": "d1", "uri": "https://case.example/d1", "title": "Doc"},
                }
            ],
        }
    ).encode()


def test_case_going_back_to_earlier_content_makes_it_current(session):
    """Shape: a CASE package whose one item is edited, then restored."""
    for title in ("Lire", "Lire et écrire", "Lire"):
        report = import_framework_file(session, ADMIN, _case(title), "p.json")
    assert report.created == 1 and report.frameworks[0].restores == 1
    assert _versions(session, "https://case.example/d1")[-1] == (3, True)


def _esco(label: str) -> list[tuple[bytes, str]]:
    skills = (
        "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
        f"KnowledgeSkillCompetence,http://data.europa.eu/esco/skill/s1,skill/competence,cross-sector,{label},,\n"
    )
    return [(skills.encode(), "skills_fr.csv")]


def test_esco_going_back_to_earlier_content_makes_it_current(session, tmp_path):
    """Shape: one ESCO language file of one release, re-exported with a label edited then restored."""
    for label in ("gérer un projet", "gérer des projets", "gérer un projet"):
        paths = []
        for data, name in _esco(label):
            (tmp_path / name).write_bytes(data)
            paths.append(tmp_path / name)
        report = import_framework_file(session, ADMIN, paths, options={"version": "1.2.0"})
    assert report.created == 1 and report.frameworks[0].restores == 1
    assert _versions(session, "esco:1.2.0:fr") == [(1, False), (2, False), (3, True)]


# -- item 2: an RNCP fiche's identity and hash depend on that fiche alone -------------------------

OLD = rncp_fiche("RNCP90010", "Ancien titre", new="RNCP90020")
NEW = rncp_fiche("RNCP90020", "Nouveau titre", old="RNCP90010")


def test_replacement_links_are_kept_at_both_ends_whatever_the_order():
    """Shape: an old fiche naming its NOUVELLE_CERTIFICATION and the new one naming its ANCIENNE."""
    for fiches in ((OLD, NEW), (NEW, OLD)):
        links = {
            (a.source_key, a.kind, a.target_key)
            for a in parse_rncp_xml(rncp_file(*fiches))
            if isinstance(a, AssociationRecord)
        }
        assert links == {("RNCP90010", "replacedBy", "RNCP90020"), ("RNCP90020", "replaces", "RNCP90010")}


@pytest.mark.parametrize("later", [(NEW,), (NEW, OLD)], ids=["alone", "reordered"])
def test_a_fiche_imported_alone_or_reordered_is_unchanged(session, later):
    """Shape: the two linked fiches in one file, then the new one alone or after the old one."""
    import_framework_file(session, ADMIN, rncp_file(OLD, NEW), "both.xml")
    report = import_framework_file(session, ADMIN, rncp_file(*later), "later.xml")
    assert report.created == 0 and report.unchanged == len(later)
    new_fiche = _current(session, "RNCP90020")
    link = session.scalar(select(CompetencyAssociation).where(CompetencyAssociation.framework_id == new_fiche.id))
    assert (link.association_type, link.origin_key, link.target_key) == ("replaces", "RNCP90020", "RNCP90010")
    assert link.origin_id is not None and link.target_uri.endswith("/rncp/90010/")


# -- item 3: ESCO releases are read from the files, one framework per release ----------------------

SKILLS_7 = (
    "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
    "KnowledgeSkillCompetence,http://data.europa.eu/esco/skill/s1,skill/competence,cross-sector,gérer un projet,,\n"
)
SKILLS_13 = (
    "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,hiddenLabels,status,"
    "modifiedDate,scopeNote,definition,inScheme,description\n"
    "KnowledgeSkillCompetence,{uri},skill/competence,cross-sector,gérer un projet,,,released,{date},,,,\n"
)


def _download(release: str, skills: str = SKILLS_7) -> bytes:
    """The official download's shape: a zip named for the release, a folder of the same name inside."""
    folder = f"ESCO dataset - v{release} - classification - fr - csv"
    return make_zip({f"{folder}/skills_fr.csv": skills.encode()})


def test_esco_releases_named_by_the_download_are_separate_frameworks(session, tmp_path):
    """Shape: the v1.1.1 and v1.2.0 French downloads imported one after the other, no option."""
    for release in ("1.1.1", "1.2.0"):
        path = tmp_path / f"ESCO dataset - v{release} - classification - fr - csv.zip"
        path.write_bytes(_download(release))
        report = import_framework_file(session, ADMIN, path)
        assert report.created == 1 and report.frameworks[0].source_key == f"esco:{release}:fr"
    current = session.scalars(select(Framework).where(Framework.is_current.is_(True))).all()
    assert sorted((f.source_key, f.version_label, f.title) for f in current) == [
        ("esco:1.1.1:fr", "1.1.1", "ESCO v1.1.1"),
        ("esco:1.2.0:fr", "1.2.0", "ESCO v1.2.0"),
    ]


@pytest.mark.parametrize(
    ("uri", "expected", "where"),
    [
        ("http://data.europa.eu/esco/skill/s1", "modified-2024-05-14", "modifiedDate"),
        ("https://ec.europa.eu/esco/api/resource/skill?uri=s1&selectedVersion=v1.2.0", "1.2.0", "concept URI"),
    ],
    ids=["modified-date", "concept-uri"],
)
def test_esco_release_from_concept_uris_or_modified_dates(uri, expected, where):
    """Shape: 13-column skills_fr.csv without a release in its name; the URIs or modifiedDate tell."""
    data = SKILLS_13.format(uri=uri, date="2024-05-14T10:00:00.5Z").encode()
    items = list(parse_esco([data]))
    header = header_of(items)
    assert (header.version, header.metadata["release_from"]) == (expected, where)
    assert not any(isinstance(i, WarningRecord) and i.element == "release" for i in items)


def test_esco_unknown_release_is_said_in_the_report(session, tmp_path):
    """Shape: a 7-column skills_fr.csv (no modifiedDate) under a plain name, no version option."""
    (tmp_path / "skills_fr.csv").write_text(SKILLS_7, encoding="utf-8")
    report = import_framework_file(session, ADMIN, [tmp_path / "skills_fr.csv"])
    assert report.frameworks[0].source_key == "esco:unversioned:fr"
    assert any(w.element == "release" and "release unknown" in w.reason for w in report.warnings)
