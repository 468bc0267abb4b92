"""Write a synthetic RNCP XML flux V4.1 export, streamed to disk in bounded memory.

    python bench/gen_rncp.py --fiches 20000 --blocs 5 --out bench/out/rncp-20000.xml [--zip]

Each bloc's LISTE_COMPETENCES takes one of the shapes seen in real exports (guide §1.4):
flattened ``*``/``o`` bullets, items separated by runs of spaces, entity-escaped HTML with
codes, line breaks with ``A1.2 –`` codes, ``1 -`` numbering, ``; `` separators. The output is
deterministic for a given ``--seed``; every fiche has exactly ``--competences`` top-level
compétences per bloc (``*``/``o`` bullets add ``--savoirs`` savoir-faire each).
"""

from __future__ import annotations

import argparse
import random
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

VERBS = [
    "Analyser",
    "Concevoir",
    "Réaliser",
    "Gérer",
    "Piloter",
    "Évaluer",
    "Organiser",
    "Accompagner",
    "Sécuriser",
    "Déployer",
    "Rédiger",
    "Contrôler",
]
OBJECTS = [
    "un besoin exprimé et son contexte juridique",
    "la relation avec les usagers",
    "une solution d’infrastructure réseau",
    "le budget d’un projet",
    "les données de l’organisation",
    "la qualité d’un service",
    "une équipe pluridisciplinaire",
    "les risques professionnels",
    "un plan d’action « qualité »",
    "la maintenance préventive",
]
SHAPES = ("bullets", "spaced", "html", "lines", "numbered", "semicolons")
# Rare trades: the first bloc of one fiche in ``RARE_EVERY`` names one of them after its usual label,
# so a search has real words with few hits (about 40 each at 20,000 fiches, 10 at 5,000).
RARE = [
    "en horlogerie de précision",
    "en tonnellerie traditionnelle",
    "en marqueterie d’art",
    "en ferronnerie d’ornement",
    "en apiculture biologique",
]
RARE_EVERY = 100


def _phrase(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}"


def liste_competences(rng: random.Random, shape: str, count: int, savoirs: int) -> str:
    """Return one LISTE_COMPETENCES text of the given shape (unescaped)."""
    items = [_phrase(rng) for _ in range(count)]
    if shape == "bullets":
        parts = []
        for item in items:
            subs = "".join(f"            o {_phrase(rng)}" for _ in range(savoirs))
            parts.append(f"    * {item}{subs}  ")
        return "".join(parts)
    if shape == "spaced":
        return "      ".join(items) + "    "
    if shape == "html":
        return "".join(f"<p>C{n}.{rng.randint(1, 9)}A {item}</p>" for n, item in enumerate(items, 1))
    if shape == "lines":
        return "\r\n".join(f"A1.{n} – {item}" for n, item in enumerate(items, 1))
    if shape == "numbered":
        return " ".join(f"{n} - {item}" for n, item in enumerate(items, 1))
    return " ; ".join(items)


def expected_competences(shape: str, count: int, savoirs: int) -> int:
    """Return how many compétence records a bloc of this shape should produce."""
    return count * (1 + savoirs) if shape == "bullets" else count


def fiche_xml(
    rng: random.Random, number: int, blocs: int, count: int, savoirs: int, shape_of: Callable[[int, int], str]
) -> str:
    """Return one FICHE element."""
    numero = f"RNCP{number}"
    out = [
        "    <FICHE>\n",
        f"        <ID_FICHE>{number - 30000}</ID_FICHE>\n",
        f"        <NUMERO_FICHE>{numero}</NUMERO_FICHE>\n",
        f"        <INTITULE>{escape(f'Titre professionnel {number} : {_phrase(rng)}')}</INTITULE>\n",
        "        <ETAT_FICHE>Publiée</ETAT_FICHE>\n",
        f"        <NOMENCLATURE_EUROPE><NIVEAU>NIV{rng.randint(3, 8)}</NIVEAU>"
        "<LIBELLE>Niveau</LIBELLE></NOMENCLATURE_EUROPE>\n",
        "        <CERTIFICATEURS><CERTIFICATEUR><SIRET_CERTIFICATEUR>19753471200017"
        "</SIRET_CERTIFICATEUR><NOM_CERTIFICATEUR>CONSERVATOIRE NATIONAL DES ARTS ET METIERS"
        "</NOM_CERTIFICATEUR></CERTIFICATEUR></CERTIFICATEURS>\n",
        "        <SI_JURY_VAE><ACTIF>Oui</ACTIF><COMPOSITION>Jury de VAE</COMPOSITION></SI_JURY_VAE>\n",
        "        <BLOCS_COMPETENCES>\n",
    ]
    for index in range(1, blocs + 1):
        text = liste_competences(rng, shape_of(number, index), count, savoirs)
        label = _phrase(rng)  # drawn for every bloc, so the rare labels leave the other draws as they were
        if index == 1 and number % RARE_EVERY == 0:
            label += " " + RARE[(number // RARE_EVERY) % len(RARE)]
        out += [
            "            <BLOC_COMPETENCES>\n",
            f"                <CODE>{numero}BC{index:02d}</CODE>\n",
            f"                <LIBELLE>{escape(label)}</LIBELLE>\n",
            f"                <LISTE_COMPETENCES>{escape(text)}</LISTE_COMPETENCES>\n",
            "                <MODALITES_EVALUATION>Mise en situation professionnelle"
            "      Entretien avec le jury</MODALITES_EVALUATION>\n",
            "            </BLOC_COMPETENCES>\n",
        ]
    out += [
        "        </BLOCS_COMPETENCES>\n",
        f"        <ACTIF>{'Oui' if number % 7 else 'Non'}</ACTIF>\n",
        "        <DATE_FIN_ENREGISTREMENT>31/12/2030</DATE_FIN_ENREGISTREMENT>\n",
        "    </FICHE>\n",
    ]
    return "".join(out)


def shape_for(number: int, index: int) -> str:
    """Return the deterministic shape of a bloc."""
    return SHAPES[(number + index) % len(SHAPES)]


def generate(fiches: int, blocs: int, *, count: int = 4, savoirs: int = 3, seed: int = 1) -> Iterator[str]:
    """Yield the export text piece by piece (one fiche at a time)."""
    rng = random.Random(seed)
    yield '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<FICHES>\n'
    yield "    <VERSION_FLUX>4.1</VERSION_FLUX>\n"
    for offset in range(fiches):
        yield fiche_xml(rng, 30000 + offset, blocs, count, savoirs, shape_for)
    yield "</FICHES>\n"


def write(out: IO[bytes], fiches: int, blocs: int, **options: int) -> None:
    """Stream the export to a binary file object."""
    for piece in generate(fiches, blocs, **options):
        out.write(piece.encode("utf-8"))


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fiches", type=int, default=20_000)
    parser.add_argument("--blocs", type=int, default=5)
    parser.add_argument("--competences", type=int, default=4)
    parser.add_argument("--savoirs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/out/export_fiches_RNCP_V4_1_bench.xml"))
    parser.add_argument("--zip", action="store_true", help="write a .zip holding the XML")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    options = {"count": args.competences, "savoirs": args.savoirs, "seed": args.seed}
    if args.zip:
        target = args.out.with_suffix(".zip")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(args.out.with_suffix(".xml").name, "w", force_zip64=True) as member:
                write(member, args.fiches, args.blocs, **options)
    else:
        target = args.out
        with open(target, "wb") as handle:
            write(handle, args.fiches, args.blocs, **options)
    print(target)


if __name__ == "__main__":
    main()
