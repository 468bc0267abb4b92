"""Importing framework files: counts, trees, versions, unchanged re-imports, failures leave nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from app.models import Competency, CompetencyAssociation, Framework
from app.platform.errors import InvalidInput, PermissionDenied
from app.services.frameworks.imports import import_framework_file
from app.services.identity.access import Grants
from app.services.identity.audit import Actor
from tests.conftest import shared_path

ADMIN = Grants(Actor(None), platform_admin=True)
RNCP = ("frameworks", "rncp", "export-fiches-rncp-v4-1_extract_RNCP35340_RNCP40792.xml")

CUSTOM = """# title: Référentiel du tiers-lieu
# version: 2025
# identifier: https://territoire.example/referentiel
key;parent_key;kind;code;label;description;alt_labels
D1.1;D1;competence;D1.1;Animer un collectif;Faire vivre un groupe;animer | faciliter
D1;;domain;D1;Coopérer;;
"""


def _count(session, model, **where) -> int:  # type: ignore[no-untyped-def]
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return session.scalar(stmt)


def test_rncp_sample_counts_tree_and_alignment_ids(session):
    report = import_framework_file(session, ADMIN, shared_path(*RNCP))
    assert (report.counts.fiches, report.counts.blocs, report.counts.competences) == (2, 10, 145)
    assert report.created == 2 and report.unchanged == 0
    frameworks = list(session.scalars(select(Framework).order_by(Framework.source_key)))
    assert [f.source_key for f in frameworks] == ["RNCP35340", "RNCP40792"]
    assert all(f.is_current and f.version == 1 and f.case_id for f in frameworks)
    assert frameworks[1].title.startswith("BTS") or "informatique" in frameworks[1].title.lower()
    fiche = session.scalar(select(Competency).where(Competency.source_key == "RNCP40792"))
    assert fiche.parent_id is None and fiche.kind == "fiche"
    bloc = session.scalar(select(Competency).where(Competency.source_key == "RNCP40792BC01"))
    assert bloc.parent_id == fiche.id and bloc.raw_text
    orphans = session.scalar(
        select(func.count())
        .select_from(Competency)
        .where(Competency.parent_key.is_not(None), Competency.parent_id.is_(None))
    )
    assert orphans == 0
    assert _count(session, Competency) == 2 + 10 + 145
    link = session.scalar(
        select(CompetencyAssociation).where(
            CompetencyAssociation.association_type == "replacedBy", CompetencyAssociation.origin_key == "RNCP35340"
        )
    )
    assert link is not None and link.target_key == "RNCP40792"


def test_reimport_unchanged_then_changed_makes_a_new_version(session, tmp_path):
    path = shared_path(*RNCP)
    import_framework_file(session, ADMIN, path)
    again = import_framework_file(session, ADMIN, path)
    assert again.unchanged == 2 and again.created == 0
    assert _count(session, Framework) == 2 and _count(session, Competency) == 157
    changed = path.read_bytes().replace(
        "Gérer le patrimoine informatique".encode(), "Gérer le patrimoine numérique".encode(), 1
    )
    newer = tmp_path / "export_fiches_RNCP_V4_1_2026-01-01.xml"
    newer.write_bytes(changed)
    third = import_framework_file(session, ADMIN, newer)
    assert third.created == 1 and third.unchanged == 1
    created = next(f for f in third.frameworks if f.status == "created")
    versions = list(
        session.scalars(select(Framework).where(Framework.source_key == created.source_key).order_by(Framework.version))
    )
    assert [(f.version, f.is_current) for f in versions] == [(1, False), (2, True)]
    assert versions[1].version_label == "2026-01-01"


def test_esco_files_import_as_one_framework(session):
    folder = shared_path("frameworks", "esco")
    files = [
        folder / "skills_fr.first300.csv",
        folder / "skillGroups_fr.csv",
        folder / "broaderRelationsSkillPillar.sample.csv",
    ]
    report = import_framework_file(session, ADMIN, files)
    assert (report.counts.skills, report.counts.skill_groups) == (300, 17)
    assert len(report.frameworks) == 1
    framework = session.get(Framework, report.frameworks[0].id)
    assert framework.source_type.value == "esco" and framework.language == "fr"
    assert _count(session, Competency, framework_id=framework.id) == 317


def test_case_sample_imports_28_items(session):
    report = import_framework_file(
        session, ADMIN, shared_path("frameworks", "case", "opensalt_tests_Ordering_ACT-Holistic-Math.json")
    )
    assert report.counts.items == 28 and report.created == 1
    framework = session.get(Framework, report.frameworks[0].id)
    roots = session.scalar(
        select(func.count())
        .select_from(Competency)
        .where(Competency.framework_id == framework.id, Competency.parent_id.is_(None))
    )
    assert 0 < roots < 28


def test_custom_csv_with_late_parent(session):
    report = import_framework_file(session, ADMIN, CUSTOM.encode(), "tiers-lieu.csv")
    framework = session.get(Framework, report.frameworks[0].id)
    assert framework.source_key == "https://territoire.example/referentiel"
    child = session.scalar(select(Competency).where(Competency.source_key == "D1.1"))
    parent = session.scalar(select(Competency).where(Competency.source_key == "D1"))
    assert child.parent_id == parent.id
    assert "faciliter" in child.search_text and "cooperer" == parent.search_label


def test_latin1_file_is_decoded(session):
    report = import_framework_file(session, ADMIN, CUSTOM.encode("cp1252"), "tiers-lieu.csv")
    label = session.scalar(select(Competency.label).where(Competency.source_key == "D1"))
    assert label == "Coopérer"
    assert any("not UTF-8" in w.reason for w in report.warnings)


def test_rncp_csv_then_xml_completes_the_fiche(session):
    standard = (
        "Id_Fiche;Numero_Fiche;Intitule;Abrege_Libelle;Abrege_Intitule;Nomenclature_Europe_Niveau;"
        "Nomenclature_Europe_Intitule;Accessible_Nouvelle_Caledonie;Accessible_Polynesie_Francaise;"
        "Date_dernier_jo;Date_Decision;Date_Fin_Enregistrement;Date_Effet;Type_Enregistrement;"
        'Validation_Partielle;Actif\r\n"1";"RNCP40792";"BTS SIO";"BTS";"Brevet";"NIV5";"Niveau 5";;;;;;;;;'
        '"ACTIVE"\r\n'
    )
    blocs = (
        "Numero_Fiche;Bloc_Competences_Code;Bloc_Competences_Libelle\r\n"
        '"RNCP40792";"RNCP40792BC01";"Support et mise à disposition"\r\n'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export_fiches_CSV_Standard_2025_01_01.csv", standard)
        archive.writestr("export_fiches_CSV_Blocs_De_Competences_2025_01_01.csv", blocs)
    first = import_framework_file(session, ADMIN, buffer.getvalue(), "export-fiches-csv-2025-01-01.zip")
    assert (first.counts.fiches, first.counts.blocs) == (1, 1)
    import_framework_file(session, ADMIN, shared_path(*RNCP))
    versions = list(
        session.scalars(select(Framework).where(Framework.source_key == "RNCP40792").order_by(Framework.version))
    )
    assert [v.is_current for v in versions] == [False, True]
    assert _count(session, Competency, framework_id=versions[1].id) > 50


@pytest.mark.parametrize(
    "data,name,expected",
    [
        (b"", "empty.csv", "empty"),
        (b"<FICHES><FICHE><NUMERO_FICHE>RNCP1</NUMERO_FICHE></FICHE>\n<FICHE>", "trunc.xml", "line"),
        (b"key;label\n", "x.csv", "no competency"),
        (b"code;name\nA;B\n", "x.csv", "unrecognised csv header"),
    ],
)
def test_bad_files_raise_invalid_input_and_leave_nothing(session, data, name, expected):
    with pytest.raises(InvalidInput) as caught:
        import_framework_file(session, ADMIN, data, name)
    assert expected in caught.value.detail.lower()
    assert caught.value.errors[0].pointer == "#/file"
    assert _count(session, Framework) == 0 and _count(session, Competency) == 0


def test_learners_may_not_import(session, make_person):
    from app.services.identity.access import load_grants

    person = make_person()
    with pytest.raises(PermissionDenied):
        import_framework_file(session, load_grants(session, person.id), CUSTOM.encode(), "x.csv")


def test_cli_imports_files_and_folders_with_counts(runner, session, tmp_path):
    result = runner.invoke(
        args=["blason", "import-framework", str(shared_path("frameworks", "esco")), str(shared_path(*RNCP))]
    )
    assert result.exit_code == 0, result.output
    assert "2 fiches, 10 blocs, 145 compétences" in result.output
    assert "17 skill groups, 300 skills" in result.output
    again = runner.invoke(args=["blason", "import-framework", str(shared_path(*RNCP))])
    assert "0 new version(s), 2 unchanged" in again.output


def test_cli_reports_failures_with_line_and_column(runner, session, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<FICHES>\n  <FICHE></FICH>\n</FICHES>\n')
    good = tmp_path / "good.csv"
    good.write_text(CUSTOM)
    result = runner.invoke(args=["blason", "import-framework", str(bad), str(good)])
    assert result.exit_code == 1
    assert "FAILED" in result.output and "line 3" in result.output and "column" in result.output
    assert "1 import(s) failed" in result.output
    assert _count(session, Framework) == 1


def _statements(session, table: str):  # type: ignore[no-untyped-def]
    """Collect the INSERT statements run on ``table`` while the context is open."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def watching():  # type: ignore[no-untyped-def]
        seen: list[str] = []

        def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
                seen.append(statement)

        engine = session.get_bind().engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return watching()


def test_unchanged_rncp_fiches_are_decided_before_anything_is_written(session):
    path = shared_path(*RNCP)
    import_framework_file(session, ADMIN, path)
    with _statements(session, "competencies") as inserts:
        again = import_framework_file(session, ADMIN, path)
    assert again.unchanged == 2 and inserts == []


def test_report_lists_the_first_frameworks_and_counts_them_all(session, monkeypatch):
    from app.services.frameworks import store as frameworks_store

    monkeypatch.setattr(frameworks_store, "MAX_LISTED", 1)
    report = import_framework_file(session, ADMIN, shared_path(*RNCP))
    assert report.created == 2 and len(report.frameworks) == 1


def test_search_follows_new_versions(session, tmp_path):
    from app.services.frameworks.query import ANY_WORD_RANK, search_competencies

    def found(q: str, **filters) -> int:  # type: ignore[no-untyped-def]
        """How many hits hold every word (those holding some of them follow when they are few)."""
        hits = search_competencies(session, None, q=q, per_page=100, **filters).items
        return sum(1 for hit in hits if hit.rank < ANY_WORD_RANK)

    path = shared_path(*RNCP)
    import_framework_file(session, ADMIN, path)
    import_framework_file(session, ADMIN, path)  # unchanged: nothing indexed twice
    bloc = "Conception développement applications option B"
    before = found(bloc)
    assert before >= 1 and found("applications mobiles") == 0
    newer = tmp_path / "export_fiches_RNCP_V4_1_2026-01-01.xml"
    newer.write_bytes(
        path.read_bytes().replace(
            "développement d’applications (Option B".encode(), "développement d’applications mobiles (Option B".encode()
        )
    )
    assert import_framework_file(session, ADMIN, newer).created == 1
    assert found("APPLICATIONS mobiles") == 1 and found("applications mobiles", include_old=True) == 1
    assert found(bloc) == before and found(bloc, include_old=True) == before + 1
    old = session.scalar(select(Framework).where(Framework.is_current.is_(False)))
    assert found(bloc, framework_id=old.id) == 1 and found("applications mobiles", framework_id=old.id) == 0
    assert found("gérer", source_type="esco") == 0 and found("gérer", source_type="rncp") > 0


def test_sqlite_search_index_holds_every_competency_once(session, tmp_path, monkeypatch):
    from sqlalchemy import text

    from app.services.frameworks import fts as frameworks_fts, store as frameworks_store

    if not frameworks_fts.enabled(session) or session.get_bind().dialect.name != "sqlite":
        pytest.skip("the FTS5 index exists on SQLite only (tests/services/frameworks/test_search_stems.py: PostgreSQL)")
    fiche = b"<FICHE><NUMERO_FICHE>RNCP%d</NUMERO_FICHE><INTITULE>T</INTITULE></FICHE>\n"
    truncated = b'<?xml version="1.0"?>\n<FICHES>' + fiche % 1 + fiche % 2 + b"<FICHE><NUMERO"
    monkeypatch.setattr(frameworks_store, "BATCH_ROWS", 1)  # RNCP1 is written when RNCP2 starts
    with pytest.raises(InvalidInput), _statements(session, "competencies_fts_rows") as inserts:
        import_framework_file(session, ADMIN, truncated, "rncp.xml")
    assert inserts and session.scalar(text("SELECT count(*) FROM competencies_fts_rows")) == 0
    monkeypatch.undo()
    path = shared_path(*RNCP)
    import_framework_file(session, ADMIN, path)
    import_framework_file(session, ADMIN, path)
    import_framework_file(session, ADMIN, CUSTOM.encode(), "tiers-lieu.csv")  # the streamed path
    newer = tmp_path / "export_fiches_RNCP_V4_1_2026-01-01.xml"
    newer.write_bytes(path.read_bytes().replace(b"informatique", b"numerique", 1))
    import_framework_file(session, ADMIN, newer)
    rows = session.scalar(text("SELECT count(*) FROM competencies_fts_rows"))
    indexed = session.scalar(
        text("SELECT count(*) FROM competencies_fts WHERE competencies_fts MATCH 'tags : (current OR old)'")
    )
    current = session.scalar(
        text("SELECT count(*) FROM competencies_fts WHERE competencies_fts MATCH 'tags : current'")
    )
    assert rows == indexed == _count(session, Competency)
    assert current == session.scalar(
        select(func.count())
        .select_from(Competency)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Framework.is_current.is_(True))
    )
    session.execute(text("INSERT INTO competencies_fts (competencies_fts) VALUES ('integrity-check')"))


@pytest.mark.slow
def test_import_memory_does_not_grow_with_the_file(session, tmp_path, monkeypatch):
    import gc
    import tracemalloc

    from app.services.frameworks import store as frameworks_store
    from tests.rncp_bench import rncp_export

    # The shape of the real case at a fifth of its size and time (tracemalloc is slow): batches of 400
    # rows instead of 2,000, files of 80 and 240 fiches (7 and 21 batches) instead of 400 and 1,200.
    monkeypatch.setattr(frameworks_store, "BATCH_ROWS", 400)
    peaks = []
    for fiches in (80, 80, 240):  # the first run warms caches up; each is rolled back
        path = tmp_path / f"export_{fiches}.xml"
        path.write_bytes(rncp_export(fiches, 5))
        savepoint = session.begin_nested()
        gc.collect()  # garbage left by earlier tests must not be freed (or not) during the run
        tracemalloc.start()
        report = import_framework_file(session, ADMIN, path, progress_every=100_000)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        savepoint.rollback()
        assert report.created == fiches
    peaks = peaks[1:]
    assert peaks[1] < peaks[0] * 1.05, peaks  # 3x the fiches, the same peak
