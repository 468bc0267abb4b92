"""Frameworks API: upload imports, browse, tree, competency, search, and every bad file as 422."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from app.models import Competency, Framework
from app.runtime import runtime
from tests.conftest import shared_path

RNCP = ("frameworks", "rncp", "export-fiches-rncp-v4-1_extract_RNCP35340_RNCP40792.xml")
CUSTOM = (
    "key;parent_key;kind;code;label;description\n"
    "D1;;domain;D1;Coopérer;\nD1.1;D1;competence;D1.1;Animer un collectif;Faire vivre un groupe\n"
)


@pytest.fixture()
def admin(make_person, grant, headers):  # type: ignore[no-untyped-def]
    person = make_person()
    grant(person, "platform_admin")
    return headers(person)


@pytest.fixture()
def learner(make_person, headers):  # type: ignore[no-untyped-def]
    return headers(make_person())


def upload(client, auth, data: bytes, name: str, **form):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/frameworks/imports",
        headers=auth,
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


def nothing_imported(session) -> bool:  # type: ignore[no-untyped-def]
    return (
        session.scalar(select(func.count()).select_from(Framework)) == 0
        and session.scalar(select(func.count()).select_from(Competency)) == 0
    )


def test_upload_rncp_then_browse_tree_competency_and_search(client, session, admin, learner):
    response = upload(client, admin, shared_path(*RNCP).read_bytes(), "export.xml")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["counts"]["fiches"] == 2 and body["counts"]["blocs"] == 10
    assert body["counts"]["competences"] == 145 and body["created"] == 2
    listed = client.get("/api/v1/frameworks?sourceType=rncp", headers=learner).json
    assert listed["total"] == 2 and listed["items"][0]["versions"][0]["isCurrent"]
    new = next(f for f in listed["items"] if f["sourceKey"] == "RNCP40792")
    assert new["url"] == f"https://blason.test/frameworks/{new['id']}"
    tree = client.get(f"/api/v1/frameworks/{new['id']}/tree?depth=3", headers=learner).json
    fiche = tree["items"][0]
    assert tree["total"] == 1 and fiche["kind"] == "fiche" and fiche["childrenCount"] == 5
    bloc = fiche["children"][0]
    assert bloc["code"] == "RNCP40792BC01" and bloc["children"]
    competence_id = bloc["children"][0]["id"]
    detail = client.get(f"/api/v1/competencies/{competence_id}", headers=learner).json
    assert [p["code"] for p in detail["parents"]] == ["RNCP40792", "RNCP40792BC01"]
    assert detail["rawText"] and detail["confidence"] in ("high", "low")
    alignment = detail["alignments"][0]
    assert alignment["type"] == ["Alignment"] and alignment["targetType"] == "CFItem"
    assert alignment["targetUrl"].startswith("https://blason.test/ims/case/v1p0/CFItems/")
    bloc_detail = client.get(f"/api/v1/competencies/{bloc['id']}", headers=learner).json
    assert bloc_detail["alignments"][0]["targetType"] == "ext:RNCPBlocCompetences"
    assert bloc_detail["alignments"][0]["targetUrl"] == "https://www.francecompetences.fr/recherche/rncp/40792/"
    hits = client.get("/api/v1/competencies/search?q=GERER%20patrimoine&perPage=5", headers=learner).json
    every_word = [h for h in hits["items"] if h["rank"] < 4]  # then hits holding one of the words (rank 4)
    assert len(every_word) >= 2 and all("patrimoine" in h["label"].lower() for h in every_word)
    assert hits["items"][0]["rank"] <= hits["items"][-1]["rank"]
    package = client.get(f"/api/v1/frameworks/{new['id']}/case", headers=learner).json
    assert package["CFDocument"]["title"] == new["title"]
    kinds = client.get(f"/api/v1/frameworks/{new['id']}", headers=learner).json["kinds"]
    assert kinds["fiche"] == 1 and kinds["bloc"] == 5
    assert len(package["CFItems"]) == sum(kinds.values())
    assert {a["associationType"] for a in package["CFAssociations"]} >= {"isChildOf"}


def test_search_is_accent_and_case_insensitive_and_filtered(client, session, admin, learner):
    upload(client, admin, CUSTOM.encode(), "tiers.csv")
    for q in ("cooperer", "COOPÉRER", "coopérer"):
        hits = client.get(f"/api/v1/competencies/search?q={q}", headers=learner).json
        assert hits["total"] == 1 and hits["items"][0]["rank"] == 0, q
    assert client.get("/api/v1/competencies/search?q=groupe&sourceType=custom", headers=learner).json["total"] == 1
    assert client.get("/api/v1/competencies/search?q=groupe&sourceType=rncp", headers=learner).json["total"] == 0
    assert client.get("/api/v1/competencies/search?q=%21%21", headers=learner).status_code == 422


def test_reads_need_login_and_imports_need_admin(client, learner):
    assert client.get("/api/v1/frameworks").status_code == 401
    response = upload(client, learner, CUSTOM.encode(), "tiers.csv")
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"


def test_issuer_admin_may_import(client, session, make_person, grant, headers):
    from app.models import Issuer

    issuer = Issuer(name="CNAM", url="https://cnam.example")
    session.add(issuer)
    session.commit()
    person = make_person()
    grant(person, "issuer_admin", issuer)
    assert upload(client, headers(person), CUSTOM.encode(), "tiers.csv").status_code == 201


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


BAD_FILES = {
    "malformed-xml": (
        b'<?xml version="1.0"?>\n<FICHES>\n<FICHE><NUMERO_FICHE>RNCP1</FICHE>\n</FICHES>',
        "rncp.xml",
        "line 3",
    ),
    "entity-expansion": (
        b'<?xml version="1.0"?>\n<!DOCTYPE FICHES [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>\n<FICHES>&b;</FICHES>',
        "rncp.xml",
        "unsafe",
    ),
    "external-entity": (
        b'<?xml version="1.0"?>\n<!DOCTYPE FICHES [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<FICHES>&x;</FICHES>',
        "rncp.xml",
        "unsafe",
    ),
    "zip-traversal": (_zip({"../../evil.xml": b"<FICHES/>"}), "export.zip", "unsafe"),
    "zip-bomb": (_zip({"export_fiches.xml": b"<FICHES>" + b" " * (50 << 20) + b"</FICHES>"}), "export.zip", "unsafe"),
    "wrong-csv-header": (
        b"conceptType,conceptUri,skillType,reuseLevel\nKnowledgeSkillCompetence,x,y,z\n",
        "skills_fr.csv",
        "preferredlabel",
    ),
    "empty": (b"", "empty.csv", "empty"),
    "truncated-json": (
        b'{"format": "blason-framework", "framework": {"title": "T"}, "competencies": [{"key": "A",',
        "f.json",
        "cannot be imported",
    ),
    # The first fiche is complete (its rows are written) before the end of file is found missing.
    "truncated-xml": (
        b'<?xml version="1.0"?>\n<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>\n<FICHE><NUMERO_FICHE>'
        b"RNCP1</NUMERO_FICHE><INTITULE>T</INTITULE></FICHE>\n<FICHE><NUMERO_FICHE>RNCP2",
        "rncp.xml",
        "line",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_422_problems_and_import_nothing(client, session, admin, case):
    data, name, expected = BAD_FILES[case]
    response = upload(client, admin, data, name)
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json
    assert expected in (body["detail"] + " ".join(e["detail"] for e in body["errors"])).lower(), body
    assert body["errors"][0]["pointer"] == "#/file"
    assert nothing_imported(session)


def test_latin1_upload_is_decoded(client, session, admin, learner):
    response = upload(client, admin, CUSTOM.encode("latin-1"), "tiers.csv")
    assert response.status_code == 201
    assert response.json["warningsTotal"] >= 1
    hit = client.get("/api/v1/competencies/search?q=cooperer", headers=learner).json["items"][0]
    assert hit["label"] == "Coopérer"


def test_too_large_upload_is_413(client, admin, app):
    limit = runtime(app).settings.max_upload_bytes
    response = upload(client, admin, b"x" * (limit + 1), "big.csv")
    assert response.status_code == 413


RANKED = (
    "key;parent_key;kind;code;label;description\n"
    "A;;domain;A;Savoir gérer une équipe;\n"
    "B;A;competence;B;Gérer;\n"
    "C;A;competence;C;Gérer une équipe pluridisciplinaire;\n"
    "D;A;competence;D;Gérer un budget d'équipe;\n"
    "E;A;competence;D-GER;Animer;Gérer les conflits de l'équipe\n"
    "F;A;competence;F;Digérer une équipe;\n"
    "G;;domain;MGT1;Managing people;Lead and manage a team\n"
    "H;G;competence;H;Manage;\n"
)


def test_search_ranks_exact_then_prefix_then_label_then_elsewhere(client, session, admin, learner):
    assert upload(client, admin, RANKED.encode(), "ranked.csv").status_code == 201

    def search(q: str) -> list[tuple[str, int]]:
        body = client.get(f"/api/v1/competencies/search?q={q}", headers=learner).json
        assert body["total"] == len(body["items"])
        return [(hit["label"], hit["rank"]) for hit in body["items"]]

    # Accents and case ignored; words match at the start of a word ("digérer" is not "gérer").
    # Both words in the label, ranked by BM25 (SQLite) or cover density (PostgreSQL), then elsewhere.
    found = search("GERER equipe")
    assert found[0] == ("Savoir gérer une équipe", 2) and found[3] == ("Animer", 3)
    assert sorted(found[1:3]) == [("Gérer un budget d'équipe", 2), ("Gérer une équipe pluridisciplinaire", 2)]
    # Fewer all-words hits than a page: the list goes on with those holding one of the words (rank 4).
    assert {label for label, rank in found[4:]} >= {"Digérer une équipe", "Gérer"}
    assert {rank for _, rank in found[4:]} == {4}
    assert search("gérer UNE")[0] == ("Gérer une équipe pluridisciplinaire", 1)
    first = search("gérer")[:3]  # after the exact label, the labels starting with it, by BM25 or cover density
    assert first[0] == ("Gérer", 0)
    assert sorted(first[1:]) == [("Gérer un budget d'équipe", 1), ("Gérer une équipe pluridisciplinaire", 1)]
    assert ("Digérer une équipe", 2) not in search("gérer")
    # Then what the synonyms (app/services/frameworks/synonyms_fr.txt) find: management ~ gérer.
    assert search("manag")[:2] == [("Manage", 1), ("Managing people", 1)]
    assert search("mgt1") == [("Managing people", 0)]
    assert search("team lead") == [("Managing people", 3)]
