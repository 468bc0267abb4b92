"""The jury PDF, rendered from hand-built content and read back with poppler (pdftotext, pdffonts,
pdfinfo, pdftoppm) and zbarimg; each of those tests is skipped when its tool is absent."""

from __future__ import annotations

import html
import random
import re
import shutil
import subprocess
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth

from app.platform.pdf_layout import BOLD, FONT, LEFT, RIGHT, register_fonts, wrap, wrap_anywhere, wrap_runs
from app.services.dossiers.build import (
    Annex,
    BadgeRef,
    BlocEntry,
    Certification,
    CompetenceEntry,
    DossierContent,
    Support,
    Validation,
)
from app.services.dossiers.pdf import render_pdf

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
FOOTER = "Dossier de validation — Zoé Lefèvre-Œuvrard — RNCP40792"
LONG_URL = "https://depot.example.fr/" + "x" * 1960 + "?fin=1"  # an evidence URL is at most 2,000 characters
LONG_PATH = "annexes/A003-" + "tres-long-nom-de-fichier-sans-espace-" * 12 + ".pdf"
SHA = "ab" * 32


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (poppler-utils / zbar-tools)")
    return path


def pdftotext(pdf: bytes, *args: str) -> str:
    return subprocess.run(
        [tool("pdftotext"), *args, "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def pages_of(pdf: bytes) -> list[str]:
    return pdftotext(pdf).split("\f")[:-1]


def flat(value: str) -> str:
    return " ".join(value.split())


def badge(name: str, code: str) -> BadgeRef:
    return BadgeRef(
        uuid.uuid4(),
        name,
        "Tiers-lieu « La Fabrique »",
        T0,
        f"https://blason.test/credentials/{code}",
        f"https://blason.test/c/{code}",
    )


def support(title: str, narrative: str, annexes: list[str], validated: bool = True) -> Support:
    validations = (
        [
            Validation(
                "Théo Tuteur",
                T0,
                "validated",
                "acquis",
                "acquis",
                "Inventaire rigoureux ; l’équipe l’utilise « au quotidien ».",
            )
        ]
        if validated
        else []
    )
    return Support(
        uuid.uuid4(),
        title,
        "Tiers-lieu numérique « La Fabrique »",
        "Communauté de communes du Val de Brenne",
        "animatrice du parc informatique",
        date(2025, 9, 1),
        date(2025, 12, 30),
        35.5,
        narrative,
        "validated" if validated else "pending",
        "J’ai fait cela moi-même, de bout en bout.",
        "acquis",
        annexes,
        validations,
    )


def competence(
    code: str,
    label: str,
    state: str,
    supports: list[Support],
    badges: list[BadgeRef] | None = None,
    raw_text: str | None = None,
    depth: int = 0,
) -> CompetenceEntry:
    level = {"acquis": "acquis", "partiellement": "en_cours", "non": None}[state]
    return CompetenceEntry(
        uuid.uuid4(),
        code,
        label,
        raw_text or label,
        depth,
        state,
        level,
        {"acquis": "Acquis", "en_cours": "En cours d’acquisition", None: None}[level],
        supports,
        badges or [],
    )


def content(
    blocs: list[BlocEntry], annexes: list[Annex] | None = None, certification_badges: list[BadgeRef] | None = None
) -> DossierContent:
    certification = Certification(
        uuid.uuid4(),
        "RNCP40792",
        "BTS Services informatiques aux organisations",
        "NIV5",
        "Niveau 5",
        uuid.uuid4(),
        2,
        "export du 12/01/2026",
        None,
    )
    return DossierContent(
        uuid.uuid4(),
        T0,
        uuid.uuid4(),
        "Zoé Lefèvre-Œuvrard",
        certification,
        True,
        blocs,
        certification_badges or [],
        annexes or [],
        [],
    )


def annex(
    number: str,
    title: str,
    kind: str,
    *,
    path: str | None = None,
    url: str | None = None,
    size: int | None = None,
    missing: bool = False,
) -> Annex:
    return Annex(
        number,
        uuid.uuid4(),
        uuid.uuid4(),
        title,
        kind,
        "jury",
        size=size,
        url=url,
        path=path,
        missing=missing,
        sha256=SHA if kind == "file" else None,
        filename="attestation.pdf" if kind == "file" else None,
    )


def full_content() -> DossierContent:
    """Every section once: badges at three levels, a missing file, a link, a text, long values."""
    shared = badge("Gestion de parc informatique", "GPI42")
    first = competence(
        "RNCP40792BC01-C01",
        "Gérer le patrimoine informatique",
        "acquis",
        [
            support(
                "Inventaire du parc informatique de la médiathèque",
                "J’ai recensé les 42 postes et imprimantes de la médiathèque.\n\nPuis j’ai mis en "
                "place un inventaire partagé : « chaque poste a sa fiche ». Dépôt : " + LONG_URL,
                ["A001", "A002"],
            )
        ],
        [shared],
        raw_text="Gérer le patrimoine informatique (texte publié intégral)",
    )
    second = competence(
        "RNCP40792BC01-C02",
        "Répondre aux incidents et aux demandes d’assistance et d’évolution",
        "partiellement",
        [
            support(
                "Permanence d’assistance numérique",
                "Chaque mardi, j’ai tenu la permanence.",
                ["A003", "A004"],
                validated=False,
            )
        ],
        depth=1,
    )
    third = competence(
        "RNCP40792BC01-C03", "Développer la présence en ligne de l’organisation « grand public »", "non", []
    )
    bloc = BlocEntry(
        uuid.uuid4(),
        "RNCP40792BC01",
        "Support et mise à disposition de services informatiques",
        "* Gérer le patrimoine informatique * Répondre aux incidents",
        "Épreuve E5 : oral de 40 minutes.",
        [first, second, third],
        [badge("Support informatique (bloc)", "BLOC1")],
    )
    other = BlocEntry(
        uuid.uuid4(),
        "RNCP40792BC02",
        "Administration des systèmes et des réseaux",
        None,
        None,
        [competence("RNCP40792BC02-C01", "Concevoir une solution d’infrastructure réseau", "non", [])],
    )
    annexes = [
        annex("A001", "Tableau d’inventaire", "file", path="annexes/A001-tableau-d-inventaire.pdf", size=2048),
        annex("A002", "Article du journal local", "link", url=LONG_URL),
        annex("A003", "Attestation de la mairie", "file", path=LONG_PATH, size=1234, missing=True),
        annex("A004", "Guide « pas à pas »", "text", path="annexes/A004-guide-pas-a-pas.txt", size=57),
    ]
    return content([bloc, other], annexes, [shared, badge("BTS SIO (certification)", "CERT7")])


def test_every_section_reads_back_in_french():
    pdf = render_pdf(full_content())
    text = flat(pdftotext(pdf))
    for phrase in (
        # header
        "Dossier de validation des acquis de l'expérience",
        "Candidat·e Zoé Lefèvre-Œuvrard",
        "RNCP40792 — BTS Services informatiques aux organisations",
        "Niveau 5",
        "version 2 (export du 12/01/2026)",
        "validation partielle : RNCP40792BC01 Support et mise à disposition",
        "2 mars 2026",
        "Badges couvrant la certification",
        "BTS SIO (certification)",
        "Attention : 1 pièce(s) jointe(s) manquent",
        # synthesis, blocs, compétences and their states
        "Synthèse par bloc",
        "Bloc RNCP40792BC01 — Support et mise à disposition de services informatiques",
        "1 compétence(s) acquise(s), 1 partiellement, 1 non acquise(s)",
        "Compétences telles que publiées au RNCP (texte intégral)",
        "Modalités d'évaluation Épreuve E5",
        "Badges couvrant l'ensemble du bloc",
        "Support informatique (bloc)",
        "RNCP40792BC01-C01 — Gérer le patrimoine informatique",
        "État : Acquis (niveau validé : Acquis)",
        "Texte publié : Gérer le patrimoine informatique (texte publié intégral)",
        "État : Partiellement acquis (niveau validé : En cours d’acquisition)",
        "l’organisation « grand public »",
        "État : Non acquis",
        "Aucune contribution déclarée pour cette compétence.",
        # contributions, evidence, validations
        "Contribution : Inventaire du parc informatique de la médiathèque (revendication validée)",
        "Projet : Tiers-lieu numérique « La Fabrique » — Territoire : Communauté de communes du Val de Brenne",
        "Rôle : animatrice du parc informatique — Période : du 1er septembre 2025 au 30 décembre 2025 — Durée : 35,5 h",
        "Récit du candidat J’ai recensé les 42 postes",
        "« chaque poste a sa fiche »",
        "En quoi cette contribution montre la compétence J’ai fait cela moi-même",
        "Pièces : A001, A002",
        "Validé le 2 mars 2026 par Théo Tuteur, niveau « acquis » — « Inventaire rigoureux",
        "(revendication en attente de décision)",
        "Pas encore de décision d'un tuteur.",
        "d’assistance",
        "Badges couvrant la compétence RNCP40792BC01-C01",
        "Gestion de parc informatique",
        "Émetteur : Tiers-lieu « La Fabrique »",
        "Vérification : https://blason.test/c/GPI42",
        # annexes and gaps
        "Index des annexes",
        "N° Pièce Emplacement Taille",
        "Tableau d’inventaire (fichier)",
        "annexes/A001-tableau-d-inventaire.pdf",
        "2 Ko",
        "Article du journal local (lien)",
        "Attestation de la mairie (fichier) MANQUANTE",
        "Guide « pas à pas » (texte)",
        "57 o",
        "Pièces manquantes",
        f"A003 — Attestation de la mairie (attestation.pdf) SHA-256 {SHA}",
    ):
        assert phrase in text, phrase
    assert (
        text.index("Support et mise à disposition de services informatiques 1 1 1")
        < text.index("Bloc RNCP40792BC01")
        < text.index("RNCP40792BC01-C01")
        < text.index("RNCP40792BC01-C02")
        < text.index("Bloc RNCP40792BC02")
        < text.index("Index des annexes")
        < text.index("Pièces manquantes")
    )


def test_the_metadata_and_fonts_are_those_of_a_french_document():
    pdf = render_pdf(full_content())
    info = subprocess.run([tool("pdfinfo"), "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Title:           Dossier de validation — Zoé Lefèvre-Œuvrard" in info
    assert "Author:          Blason" in info and "Subject:         RNCP40792 BTS Services" in info
    assert b"/Lang (fr-FR)" in pdf
    fonts = subprocess.run([tool("pdffonts"), "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert {row.split()[0].split("+")[1] for row in rows} == {
        "BitstreamVeraSans-Roman",
        "BitstreamVeraSans-Bold",
        "BitstreamVeraSans-Oblique",
        "BitstreamVeraSans-BoldOblique",
    }
    assert all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in rows), fonts  # embedded, subset, unicode


def test_each_bloc_starts_a_page_and_every_page_has_its_footer():
    pages = pages_of(render_pdf(full_content()))
    starts = [flat(page) for page in pages]
    assert len(pages) == 6
    assert starts[0].startswith("Dossier de validation des acquis")
    assert starts[1].startswith("Bloc RNCP40792BC01")
    assert starts[2].startswith("Badges couvrant la compétence RNCP40792BC01-C01")  # the first one's end
    assert starts[3].startswith("Bloc RNCP40792BC02")
    assert starts[4].startswith("Index des annexes N° Pièce Emplacement") and "Taille" in starts[4]
    assert starts[5].startswith("N° Pièce Emplacement") and "Taille" in starts[5]  # A003 moved on, after A002
    assert "A003" in starts[5] and "A003" not in starts[4]
    for number, page in enumerate(pages, 1):
        assert FOOTER in page and f"page {number}" in page


def test_a_long_narrative_breaks_across_pages_line_by_line_complete_and_in_order():
    words = [f"mot{n:04d}" for n in range(2500)]
    long = support("Un très long récit", " ".join(words[:1200]) + "\n" + " ".join(words[1200:]), ["A001"])
    bloc = BlocEntry(uuid.uuid4(), "BC01", "Bloc", None, None, [competence("BC01-C01", "Compétence", "acquis", [long])])
    pages = pages_of(render_pdf(content([bloc])))
    narrative_pages = [n for n, page in enumerate(pages) if "mot" in page]
    assert len(narrative_pages) >= 3
    found = re.findall(r"mot\d{4}", " ".join(pages))
    assert found == words
    for n in narrative_pages[:-1]:  # each page filled down to the margin before the next one starts
        body = [
            line
            for line in pages[n].splitlines()
            if line.strip() and FOOTER not in line and not line.startswith("page ")
        ]
        assert body[-1].startswith("mot")


def test_nothing_is_drawn_past_the_margins():
    pdf = render_pdf(full_content())
    boxes = [
        (float(x0), float(x1), html.unescape(word))
        for x0, x1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', pdftotext(pdf, "-bbox")
        )
    ]
    assert len(boxes) > 300
    outside = [(x0, x1, word) for x0, x1, word in boxes if x0 < LEFT - 0.5 or x1 > RIGHT + 0.5]
    assert not outside
    # The unbroken URL and path come back whole once their lines are joined.
    joined = "".join(word for _, _, word in boxes)
    assert LONG_URL in joined and LONG_PATH in joined


def test_wrapped_lines_fit_their_width_and_lose_nothing():
    register_fonts()
    for value, width in ((LONG_URL, 70 * mm), (LONG_PATH, 62 * mm), ("a" * 400, 20 * mm), ("///", 1)):
        lines = wrap_anywhere(value, width)
        assert "".join(lines) == value
        assert all(stringWidth(line, FONT, 8.5) <= width for line in lines if len(line) > 1)
    prose = "J’ai recensé les postes, puis " + LONG_URL + " et « enfin » l’inventaire partagé."
    lines = wrap(prose + "\n" + prose, 120 * mm, FONT, 9.5)
    assert all(stringWidth(line, FONT, 9.5) <= 120 * mm for line in lines)
    assert "".join(lines).replace(" ", "").replace("\u00a0", "") == (prose + prose).replace(" ", "")
    runs = [(BOLD, None, "Projet : "), (FONT, None, "Tiers-lieu « La Fabrique » " * 20), (BOLD, None, "— Fin")]
    lines_of_runs = wrap_runs(runs, 100 * mm, 9.5)  # type: ignore[arg-type]
    assert len(lines_of_runs) > 5
    assert all(sum(stringWidth(t, f, 9.5) for f, _, t in line) <= 100 * mm for line in lines_of_runs)
    assert lines_of_runs[0][0] == (BOLD, None, "Projet\u00a0:")  # French punctuation never starts a line
    assert (
        " ".join("".join(t for _, _, t in line) for line in lines_of_runs).replace("\u00a0", " ").split()
        == "".join(t for _, _, t in runs).split()
    )
    assert not any(line[0][2].startswith(("»", ":")) or line[-1][2].endswith("«") for line in lines_of_runs)


def test_a_competence_heading_is_never_left_alone_at_the_foot_of_a_page():
    rng = random.Random(7)
    blocs = []
    for b in range(2):
        entries = []
        for c in range(45):
            supports = [
                support(f"Contribution {b}.{c}.{s}", "Phrase du récit. " * rng.randint(1, 40), ["A001"])
                for s in range(rng.randint(0, 2))
            ]
            entries.append(
                competence(
                    f"B{b}-C{c:02d}",
                    f"Compétence numéro {c} du bloc {b}",
                    rng.choice(["acquis", "partiellement", "non"]),
                    supports,
                    raw_text="Texte publié distinct " * rng.randint(0, 12) or None,
                )
            )
        blocs.append(BlocEntry(uuid.uuid4(), f"B{b}", f"Bloc {b}", None, None, entries))
    pages = pages_of(render_pdf(content(blocs)))
    assert len(pages) > 10
    headings = 0
    for page in pages:
        body = [
            line
            for line in page.splitlines()
            if line.strip() and FOOTER not in line and not re.fullmatch(r"page \d+", line)
        ]
        for i, line in enumerate(body):
            if re.match(r"B\d-C\d\d — ", line):
                headings += 1
                # its state, then at least two lines of what follows (or all there is), on the same page
                assert body[i + 1 : i + 2] and body[i + 1].startswith("État : "), body[i:]
                rest = body[i + 2 :]
                assert len(rest) >= 2 or rest[:1] == ["Aucune contribution déclarée pour cette compétence."], body[i:]
    assert headings == 90  # each heading was seen once, whole, on its page


def test_badge_qr_codes_scan_to_their_short_url_and_are_drawn_once_per_url(tmp_path: Path) -> None:
    pdf = render_pdf(full_content())
    # The certification badge and the compétence badge share one URL: one form, drawn twice.
    assert pdf.count(b"/Subtype /Form") == 3
    (tmp_path / "d.pdf").write_bytes(pdf)
    subprocess.run(
        [tool("pdftoppm"), "-r", "150", "-png", "-f", "1", "-l", "2", str(tmp_path / "d.pdf"), str(tmp_path / "p")],
        check=True,
    )
    zbarimg = tool("zbarimg")
    found = set()
    for image in sorted(tmp_path.glob("p-*.png")):
        result = subprocess.run([zbarimg, "-q", "--raw", str(image)], capture_output=True)
        found |= set(result.stdout.decode().split())
    assert found == {"https://blason.test/c/GPI42", "https://blason.test/c/CERT7", "https://blason.test/c/BLOC1"}


def test_every_character_of_the_font_comes_back_even_beyond_its_first_subset():
    register_fonts()
    chars = sorted(
        chr(c)
        for c in pdfmetrics.getFont(FONT).face.charToGlyph
        if c > 32 and not 0x7F <= c < 0xA1 and chr(c).isprintable()
    )
    assert len(chars) > 256  # more than one TrueType subset of 256 codes
    narrative = " ".join("".join(chars[i : i + 20]) for i in range(0, len(chars), 20))
    bloc = BlocEntry(
        uuid.uuid4(),
        "BC01",
        "Bloc",
        None,
        None,
        [competence("BC01-C01", "Compétence", "acquis", [support("Tous les glyphes", narrative, [])])],
    )
    assert narrative in flat(pdftotext(render_pdf(content([bloc]))))


def test_an_empty_dossier_still_renders():
    bloc = BlocEntry(uuid.uuid4(), None, "Bloc sans code", None, None, [])
    text = flat(pdftotext(render_pdf(content([bloc]))))
    assert "Aucune pièce visible du jury." in text and "Bloc — Bloc sans code" in text


def test_the_annex_index_repeats_its_header_row_on_each_page():
    annexes = [
        annex(f"A{n:03d}", f"Pièce n° {n}", "file", path=f"annexes/A{n:03d}-piece-{n}.pdf", size=n * 1000)
        for n in range(1, 161)
    ]
    bloc = BlocEntry(uuid.uuid4(), "BC01", "Bloc", None, None, [competence("BC01-C01", "Compétence", "acquis", [])])
    pages = pages_of(render_pdf(content([bloc], annexes)))
    index = [flat(page) for page in pages[2:]]
    assert len(index) >= 3 and index[0].startswith("Index des annexes N° Pièce Emplacement Taille")
    assert all(page.startswith("N° Pièce Emplacement Taille A") for page in index[1:])
    assert [word for word in " ".join(index).split() if re.fullmatch(r"A\d{3}", word)] == [a.number for a in annexes]
