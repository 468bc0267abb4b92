"""Competency search in everyday words (issue 16): stems, accents, stop words, synonyms, ranking.

The frameworks are small custom CSV files written here, in French unless said otherwise, whose
labels and descriptions use other forms of the words the queries use (organiser / organisation,
gérer / gestion, projets / projet), accents where the query has none, and one competency whose
words are in the description only (to check that labels rank first). Runs on SQLite (FTS5 with
Snowball stems) and on PostgreSQL (text search configurations with unaccent).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.models import Competency, Framework
from app.services.frameworks import fts, stems
from app.services.frameworks.imports import import_framework_file
from app.services.frameworks.query import ANY_WORD_RANK, search_competencies
from app.services.identity.access import Grants
from app.services.identity.audit import Actor

ADMIN = Grants(Actor(None), platform_admin=True)

FRENCH = """# title: Référentiel de l'animation de projets
# language: fr
key;parent_key;kind;code;label;description
P;;domain;P;Conduite de projet;
P1;P;competence;P1;Organisation de projets culturels;Planifier les étapes et le calendrier
P2;P;competence;P2;Gérer un budget associatif;Suivre les dépenses
P3;P;competence;P3;Animer une réunion d'équipe;
P4;P;competence;P4;Accueillir le public;Organisation d'un projet d'accueil décrite dans la description
P5;P;competence;P5;Utiliser les outils numériques;Messagerie et tableur
P6;P;competence;P6;Mobiliser des bénévoles;
P7;P;competence;P7;Élaborer un plan de communication;
"""

ENGLISH = """# title: Youth work
# language: en
key;parent_key;kind;code;label;description
Y;;domain;Y;Managing projects;
Y1;Y;competence;Y1;Manage a team of volunteers;
"""


@pytest.fixture()
def imported(session):  # type: ignore[no-untyped-def]
    import_framework_file(session, ADMIN, FRENCH.encode(), "projets.csv")
    import_framework_file(session, ADMIN, ENGLISH.encode(), "youth.csv")


def labels(session, q: str, **filters) -> list[str]:  # type: ignore[no-untyped-def]
    """The hits holding every word (those holding some of them, rank 4, follow when there are few)."""
    found = search_competencies(session, None, q=q, **filters).items
    return [hit.competency.label for hit in found if hit.rank < ANY_WORD_RANK]


def test_stems_find_other_forms_of_a_word(session, imported):
    assert fts.enabled(session)
    assert "Organisation de projets culturels" in labels(session, "organiser un projet")
    assert "Gérer un budget associatif" in labels(session, "gestion du budget")  # gestion ~ gérer (synonyms)
    assert labels(session, "budgets associatifs") == ["Gérer un budget associatif"]
    assert "Managing projects" in labels(session, "manage project")
    # A stem matches whole: "mobiles" (stem "mobil") does not find "mobiliser" (stem "mobilis").
    assert labels(session, "mobiles") == []
    # The word as typed matches the start of a stem: a word being typed finds what it starts.
    assert labels(session, "mobili") == ["Mobiliser des bénévoles"]


def test_accents_and_case_do_not_matter(session, imported):
    assert labels(session, "benevoles") == labels(session, "BÉNÉVOLES") == ["Mobiliser des bénévoles"]
    assert labels(session, "elaborer") == ["Élaborer un plan de communication"]
    assert labels(session, "réunion équipe") == labels(session, "reunion equipe") == ["Animer une réunion d'équipe"]


def test_stop_words_are_ignored(session, imported):
    assert labels(session, "le plan de la communication") == ["Élaborer un plan de communication"]
    assert labels(session, "plan communication") == ["Élaborer un plan de communication"]
    # A query of stop words only still searches them (as word starts) rather than failing.
    assert search_competencies(session, None, q="de la").items is not None
    assert "de" in stems.STOP_WORDS and "the" in stems.STOP_WORDS and "para" in stems.STOP_WORDS


def test_synonyms_widen_a_query_word(session, imported):
    assert labels(session, "outils digitaux") == ["Utiliser les outils numériques"]
    assert "Animer une réunion d'équipe" in labels(session, "animation")
    assert {"Gérer un budget associatif", "Manage a team of volunteers"} <= set(labels(session, "gérer"))
    groups = stems.synonym_groups()
    assert any({"gestion", "gerer"} <= set(g) for g in groups) and any(
        {"numerique", "digital"} <= set(g) for g in groups
    )


def test_label_matches_rank_above_description_matches(session, imported):
    found = search_competencies(session, None, q="organisation projet").items
    assert [h.competency.label for h in found][:2] == ["Organisation de projets culturels", "Accueillir le public"]
    assert [h.rank for h in found][:2] == [2, 3]  # every word in the label; in the description only
    assert search_competencies(session, None, q="organisation de projets").items[0].rank == 1  # the label's start
    assert labels(session, "P4") == ["Accueillir le public"]  # a code first


def test_filters_and_language(session, imported):
    assert labels(session, "projects", lang="en") == ["Managing projects"]
    assert labels(session, "projects", lang="fr") == []
    assert labels(session, "projet", kind="domain") == ["Conduite de projet"]
    framework = session.scalar(select(Framework).where(Framework.title == "Youth work"))
    assert labels(session, "manage", framework_id=framework.id) == ["Manage a team of volunteers", "Managing projects"]


def test_total_is_counted_and_pages_follow(session, imported):
    first = search_competencies(session, None, q="projet", per_page=2)
    second = search_competencies(session, None, q="projet", per_page=2, page=2)
    assert first.total == second.total == 3 and len(second.items) == 1
    assert not {h.competency.id for h in first.items} & {h.competency.id for h in second.items}


def test_few_all_words_hits_are_followed_by_hits_with_some_of_the_words(session, imported):
    # "gestion de projet": no competency holds both words (by stem or synonym: gestion ~ gérer).
    found = search_competencies(session, None, q="gestion de projets", per_page=20)
    pairs = [(h.competency.label, h.rank) for h in found.items]
    assert {rank for _, rank in pairs} == {ANY_WORD_RANK}
    assert {label for label, _ in pairs} == {
        "Conduite de projet",
        "Organisation de projets culturels",
        "Accueillir le public",  # "projet" in its description
        "Gérer un budget associatif",
        "Managing projects",  # "management" is a synonym of "gestion"
        "Manage a team of volunteers",
    }
    assert found.total == len(pairs)
    # Labels above descriptions.
    labels_found = [label for label, _ in pairs]
    assert labels_found.index("Conduite de projet") < labels_found.index("Accueillir le public")


def test_hits_holding_more_of_the_words_come_first(session, imported):
    found = search_competencies(session, None, q="animer une réunion budget", per_page=20).items
    assert [(h.competency.label, h.rank) for h in found][:2] == [
        ("Animer une réunion d'équipe", ANY_WORD_RANK),  # two of the three words
        ("Gérer un budget associatif", ANY_WORD_RANK),
    ]
    # Only when the all-words hits are fewer than a page: here one page of one holds them all.
    only = search_competencies(session, None, q="animer reunion", per_page=1)
    assert [h.competency.label for h in only.items] == ["Animer une réunion d'équipe"] and only.total == 1


def test_pages_of_a_completed_list_follow_each_other(session, imported):
    pages = [search_competencies(session, None, q="plan projet", per_page=2, page=n) for n in (1, 2, 3, 4)]
    ids = [h.competency.id for p in pages for h in p.items]
    assert len(ids) == len(set(ids)) == pages[0].total == pages[3].total
    # "Planifier les étapes" starts with "plan": the all-words hit comes first.
    assert (pages[0].items[0].competency.label, pages[0].items[0].rank) == ("Organisation de projets culturels", 3)
    assert {h.rank for p in pages for h in p.items[1:]} | {h.rank for p in pages[1:] for h in p.items} == {4}
    whole = search_competencies(session, None, q="plan projet", per_page=20)
    assert [h.competency.id for h in whole.items] == ids and whole.total == len(ids)


def test_index_holds_every_competency_on_both_databases(session, imported):
    stored = session.scalar(select(func.count()).select_from(Competency))
    if session.get_bind().dialect.name == "sqlite":
        indexed = session.scalar(text("SELECT count(*) FROM competencies_fts_rows"))
    else:
        indexed = session.scalar(text("SELECT count(*) FROM competencies_fts_vectors"))
        # The language's configuration stems, and unaccent folds what it is given.
        vector = session.scalar(text("SELECT to_tsvector('blason_fr', 'Gérer nos équipes')::text"))
        assert vector == "'equip':3 'ger':1"
    assert indexed == stored
