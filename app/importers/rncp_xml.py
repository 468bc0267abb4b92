"""RNCP XML flux V4.x importer (a bare ``.xml`` or the published ``.zip``).

Streams ``FICHE`` elements one at a time through a hardened expat parser (defusedxml: any
DOCTYPE, entity declaration or external reference is refused) so memory stays bounded by the
largest fiche. Yields, per fiche: the fiche, its blocs, the compétences parsed out of each
bloc's ``LISTE_COMPETENCES`` (the bloc keeps the raw text verbatim), ``replacedBy``
``replaces``/``replacedBy`` associations for ANCIENNES/NOUVELLES_CERTIFICATIONS (each fiche its
own), and warnings.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .errors import ImportFormatError, TruncatedInputError, UnsafeInputError
from .records import (
    AssociationRecord,
    CompetencyRecord,
    FrameworkHeader,
    ProgressCallback,
    StreamItem,
    WarningRecord,
    tracked,
)
from .rncp_text import SplitResult, split_competences
from .sources import (
    CHUNK,
    ByteSource,
    Input,
    as_source,
    detect_encoding,
    ensure_not_empty,
    is_zip,
    list_zip,
    open_utf8,
    read_head,
)
from .text import parse_french_date, parse_yes_no

RNCP_TITLE = "Répertoire national des certifications professionnelles (France compétences)"
COMPETENCE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://blason.example/ns/rncp-competence")
JURY_ROUTES = ("FI", "CA", "FC", "CQ", "CL", "VAE")
_LONG_TEXTS = (
    "ACTIVITES_VISEES",
    "CAPACITES_ATTESTEES",
    "SECTEURS_ACTIVITE",
    "TYPE_EMPLOI_ACCESSIBLES",
    "OBJECTIFS_CONTEXTE",
    "PREREQUIS_ENTREE_FORMATION",
    "PREREQUIS_VALIDATION_CERTIFICATION",
)
_DATES = (
    "DATE_FIN_ENREGISTREMENT",
    "DATE_EFFET",
    "DATE_DE_PUBLICATION",
    "DATE_LIMITE_DELIVRANCE",
    "DATE_DECISION",
    "DATE_DERNIER_JO",
)
_HANDLED = {
    "ID_FICHE",
    "NUMERO_FICHE",
    "NOUVELLES_CERTIFICATIONS",
    "ANCIENNES_CERTIFICATIONS",
    "INTITULE",
    "ABREGE",
    "ETAT_FICHE",
    "FORMACODES",
    "NOMENCLATURE_EUROPE",
    "CODES_NSF",
    "CERTIFICATEURS",
    "EXISTENCE_PARTENAIRES",
    "PARTENAIRES",
    "CODES_ROME",
    "LIEN_URL_DESCRIPTION",
    "TYPE_ENREGISTREMENT",
    "BLOCS_COMPETENCES",
    "ACTIF",
    "ACCESSIBLE_NOUVELLE_CALEDONIE",
    "ACCESSIBLE_POLYNESIE_FRANCAISE",
    *(f"SI_JURY_{r}" for r in JURY_ROUTES),
    *_LONG_TEXTS,
    *_DATES,
}
_BLOC_CODE = re.compile(r"^(?P<fiche>(?:RNCP|RS)\d+)BC(?P<n>\d{2})$")
_EXPORT_DATE = re.compile(r"(20\d{2})[-_](\d{2})[-_](\d{2})")
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def fiche_url(numero: str) -> str:
    """Return the public France Compétences page of a fiche (``RNCP40792`` or ``RS5000``)."""
    match = re.match(r"^(RNCP|RS)(\d+)$", numero.strip().upper())
    if not match:
        return f"https://www.francecompetences.fr/recherche/rncp/{numero}/"
    return f"https://www.francecompetences.fr/recherche/{match.group(1).lower()}/{match.group(2)}/"


def competence_stable_id(bloc_code: str, label: str) -> str:
    """Return the deterministic id of a compétence: UUIDv5 of bloc code + normalised label."""
    from .text import normalise_for_matching

    return str(uuid.uuid5(COMPETENCE_NAMESPACE, f"{bloc_code}|{normalise_for_matching(label)}"))


class _SeenFiches:
    """The fiche numbers met so far, one bit per number: memory follows the numbering, not the file.

    A set grows by ~90 bytes a fiche; a bitmap takes 12.5 kB per 100,000 numbers whatever the
    file holds (RNCP and RS numbers are below 100,000). Other spellings go to a set.
    """

    _NUMBER = re.compile(r"^(RNCP|RS)([1-9]\d{0,5})$")

    def __init__(self) -> None:
        self.bits: dict[str, bytearray] = {"RNCP": bytearray(), "RS": bytearray()}
        self.others: set[str] = set()

    def __contains__(self, numero: str) -> bool:
        match = self._NUMBER.match(numero)
        if match is None:
            return numero in self.others
        bits, number = self.bits[match.group(1)], int(match.group(2))
        return number >> 3 < len(bits) and bool(bits[number >> 3] & 1 << (number & 7))

    def add(self, numero: str) -> None:
        match = self._NUMBER.match(numero)
        if match is None:
            self.others.add(numero)
            return
        bits, number = self.bits[match.group(1)], int(match.group(2))
        if number >> 3 >= len(bits):
            bits.extend(bytes((number >> 3) + 1 - len(bits)))
        bits[number >> 3] |= 1 << (number & 7)


class _Collector:
    """Parser target: builds one ``FICHE`` element at a time, remembers its start line."""

    def __init__(self) -> None:
        self.depth = 0
        self.root: str | None = None
        self.version: str | None = None
        self.version_seen = False
        self.builder: ET.TreeBuilder | None = None
        self.fiche_line = 0
        self.ready: list[tuple[ET.Element, int]] = []
        self.expat: Any = None
        self._version_text: list[str] | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            self.root = tag
            if tag != "FICHES":
                raise ImportFormatError(f"expected root element FICHES, found {tag}", line=self.expat.CurrentLineNumber)
        elif self.depth == 2 and tag == "FICHE":
            self.builder = ET.TreeBuilder()
            self.fiche_line = self.expat.CurrentLineNumber
        elif self.depth == 2 and tag == "VERSION_FLUX":
            self._version_text = []
        if self.builder is not None:
            self.builder.start(tag, attrib)

    def data(self, text: str) -> None:
        if self.builder is not None:
            self.builder.data(text)
        elif self._version_text is not None:
            self._version_text.append(text)

    def end(self, tag: str) -> None:
        if self.builder is not None:
            self.builder.end(tag)
            if self.depth == 2:
                self.ready.append((self.builder.close(), self.fiche_line))
                self.builder = None
        elif self._version_text is not None and self.depth == 2:
            self.version = "".join(self._version_text).strip() or None
            self.version_seen = True
            self._version_text = None
        self.depth -= 1

    def close(self) -> None:
        return None


def parse_rncp_xml(
    source: Input | ByteSource,
    filename: str | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 1000,
) -> Iterator[StreamItem]:
    """Stream an RNCP XML export: header first, then records and warnings."""
    return tracked(_stream(as_source(source, filename)), on_progress, progress_every)


def _xml_source(source: ByteSource) -> ByteSource:
    if not is_zip(source):
        return source
    members = [m for m in list_zip(source) if m.name.lower().endswith(".xml")]
    if not members:
        raise ImportFormatError(f"{source.name} holds no XML file")
    members.sort(key=lambda m: ("fiches" not in m.name.lower(), m.name))
    return members[0]


def _stream(outer: ByteSource) -> Iterator[StreamItem]:
    ensure_not_empty(outer)
    source = _xml_source(outer)
    ensure_not_empty(source)
    declared = _DECLARED.match(read_head(source, 200))
    encoding = "utf-8"
    if declared is None or declared.group(1).decode("ascii").lower().replace("_", "-") in {"utf-8", "utf8"}:
        encoding = detect_encoding(source)
    collector = _Collector()
    parser = DefusedXMLParser(target=collector, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    collector.expat = parser.parser
    date = _EXPORT_DATE.search(source.name) or _EXPORT_DATE.search(outer.name)
    export_date = "-".join(date.groups()) if date else None
    header_sent = False
    seen_fiches = _SeenFiches()
    with open_utf8(source, encoding if encoding not in ("utf-8", "utf-8-sig") else "utf-8") as raw:
        eof = False
        while not eof:
            chunk = raw.read(CHUNK)
            eof = not chunk
            _feed(parser, chunk, eof)
            if not header_sent and (collector.version_seen or collector.ready or eof):
                header_sent = True
                yield _header(collector.version, outer, source, export_date)
                if encoding not in ("utf-8", "utf-8-sig"):
                    yield WarningRecord(f"file is not UTF-8; decoded as {encoding}", file=source.name)
                if not collector.version_seen:
                    yield WarningRecord(
                        "no VERSION_FLUX element before the first FICHE", element="VERSION_FLUX", file=source.name
                    )
            ready, collector.ready = collector.ready, []
            for element, line in ready:
                yield from _fiche_records(element, line, seen_fiches, source.name)


def _feed(parser: DefusedXMLParser, chunk: bytes, eof: bool) -> None:
    try:
        if eof:
            parser.close()
        else:
            parser.feed(chunk)
    except DefusedXmlException as exc:
        raise UnsafeInputError(f"XML refused: {exc}") from exc
    except SyntaxError as exc:  # xml.etree ParseError, from defusedxml's private ElementTree copy
        line, column = getattr(exc, "position", (None, None))
        message = str(exc).split(":")[0]
        error = TruncatedInputError if eof else ImportFormatError
        raise error(f"malformed XML: {message}", line=line, column=None if column is None else column + 1) from exc


def _header(version: str | None, outer: ByteSource, source: ByteSource, export_date: str | None) -> FrameworkHeader:
    metadata: dict[str, Any] = {"file": outer.name, "version_flux": version}
    if source is not outer:
        metadata["member"] = source.name
    if export_date:
        metadata["export_date"] = export_date
    return FrameworkHeader(
        source_type="rncp",
        title=RNCP_TITLE,
        source_format=f"rncp-xml-{version}" if version else "rncp-xml",
        version=version,
        language="fr",
        source_id=outer.name,
        metadata=metadata,
    )


def _text(element: ET.Element, path: str) -> str | None:
    value = element.findtext(path)
    return value.strip() if value and value.strip() else None


def _pairs(element: ET.Element, path: str) -> list[dict[str, str | None]]:
    return [
        {"code": _text(node, "CODE"), "label": _text(node, "LIBELLE") or _text(node, "INTITULE")}
        for node in element.iterfind(path)
    ]


def _generic(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip() or None
    result: dict[str, Any] = {}
    for child in children:
        value = _generic(child)
        if child.tag in result:
            if not isinstance(result[child.tag], list):
                result[child.tag] = [result[child.tag]]
            result[child.tag].append(value)
        else:
            result[child.tag] = value
    return result


def _level(element: ET.Element) -> dict[str, Any] | None:
    node = element.find("NOMENCLATURE_EUROPE")
    if node is None:
        return None
    code = _text(node, "NIVEAU")
    match = re.match(r"^NIV(\d)$", code or "")
    return {
        "code": code,
        "label": _text(node, "LIBELLE") or _text(node, "INTITULE"),
        "eqf": int(match.group(1)) if match else None,
    }


def _siret(value: str | None) -> str | None:
    return re.sub(r"\s+", "", value) if value else None


def _fiche_metadata(fiche: ET.Element, numero: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "id_fiche": _text(fiche, "ID_FICHE"),
        "etat_fiche": _text(fiche, "ETAT_FICHE"),
        "abrege": {"code": _text(fiche, "ABREGE/CODE"), "label": _text(fiche, "ABREGE/LIBELLE")}
        if fiche.find("ABREGE") is not None
        else None,
        "level": _level(fiche),
        "nsf": _pairs(fiche, "CODES_NSF/NSF"),
        "formacodes": _pairs(fiche, "FORMACODES/FORMACODE"),
        "rome": _pairs(fiche, "CODES_ROME/ROME"),
        "certificateurs": [
            {
                "siret": _siret(_text(n, "SIRET_CERTIFICATEUR")),
                "name": _text(n, "NOM_CERTIFICATEUR"),
                "state": _text(n, "ETAT_CERTIFICATEUR"),
                "state_date": parse_french_date(_text(n, "DATE_DERNIERE_MODIFICATION_ETAT")),
            }
            for n in fiche.iterfind("CERTIFICATEURS/CERTIFICATEUR")
        ],
        "partenaires_exist": parse_yes_no(_text(fiche, "EXISTENCE_PARTENAIRES")),
        "partenaires": [
            {
                "siret": _siret(_text(n, "SIRET_PARTENAIRE")),
                "name": _text(n, "NOM_PARTENAIRE"),
                "habilitation": _text(n, "HABILITATION_PARTENAIRE"),
            }
            for n in fiche.iterfind("PARTENAIRES/PARTENAIRE")
        ],
        "jury_routes": {},
        "accessible_nouvelle_caledonie": parse_yes_no(_text(fiche, "ACCESSIBLE_NOUVELLE_CALEDONIE")),
        "accessible_polynesie_francaise": parse_yes_no(_text(fiche, "ACCESSIBLE_POLYNESIE_FRANCAISE")),
        "urls": (_text(fiche, "LIEN_URL_DESCRIPTION") or "").split(),
        "type_enregistrement": _text(fiche, "TYPE_ENREGISTREMENT"),
        "old_fiches": [
            v.strip()
            for v in (
                n.text
                for n in fiche.iterfind(
                    "ANCIENNES_CERTIFICATIONS/ANCIENNE_CERTIFICATION/ID_FICHE_ANCIENNE_CERTIFICATION"
                )
            )
            if v
        ],
        "new_fiches": [
            v.strip()
            for v in (
                n.text
                for n in fiche.iterfind(
                    "NOUVELLES_CERTIFICATIONS/NOUVELLE_CERTIFICATION/ID_FICHE_NOUVELLE_CERTIFICATION"
                )
            )
            if v
        ],
        "public_url": fiche_url(numero),
    }
    for route in JURY_ROUTES:
        node = fiche.find(f"SI_JURY_{route}")
        if node is not None:
            meta["jury_routes"][route] = {
                "active": parse_yes_no(_text(node, "ACTIF")),
                "composition": _text(node, "COMPOSITION"),
            }
    vae = meta["jury_routes"].get("VAE")
    meta["vae"] = None if vae is None else vae["active"]
    for tag in _DATES:
        raw = _text(fiche, tag)
        if raw is not None:
            meta[tag.lower()] = parse_french_date(raw) or raw
    for tag in _LONG_TEXTS:
        raw_text = fiche.findtext(tag)
        if raw_text is not None:
            meta[tag.lower()] = raw_text
    for child in fiche:
        if child.tag not in _HANDLED:
            meta[child.tag.lower()] = _generic(child)
    return meta


def replacement_links(numero: str, old_fiches: list[str], new_fiches: list[str]) -> Iterator[AssociationRecord]:
    """The fiche's own replacement links, from its node: ``replaces`` (ANCIENNES) and ``replacedBy`` (NOUVELLES).

    Each fiche keeps the links it states, never de-duplicated against other fiches of the file,
    so its content (and hash) is the same whatever the file or the order; the other fiche is
    another framework, hence ``external``.
    """
    for kind, others in (("replaces", old_fiches), ("replacedBy", new_fiches)):
        for other in dict.fromkeys(others):
            if other != numero:
                yield AssociationRecord(kind, numero, other, target_uri=fiche_url(other), external=True)


def _fiche_records(fiche: ET.Element, line: int, seen: _SeenFiches, file: str) -> Iterator[StreamItem]:
    numero = (_text(fiche, "NUMERO_FICHE") or "").upper()
    if not numero:
        yield WarningRecord("FICHE without NUMERO_FICHE skipped", line=line, element="FICHE", file=file)
        return
    if numero in seen:
        yield WarningRecord(
            f"duplicate fiche {numero} skipped", line=line, element="FICHE", source_key=numero, file=file
        )
        return
    seen.add(numero)
    title = (fiche.findtext("INTITULE") or "").strip()
    if not title:
        yield WarningRecord("fiche has no INTITULE", line=line, element="INTITULE", source_key=numero, file=file)
    meta = _fiche_metadata(fiche, numero)
    blocs = list(fiche.iterfind("BLOCS_COMPETENCES/BLOC_COMPETENCES"))
    capacites = None
    if numero.startswith("RS") and not blocs and meta.get("capacites_attestees"):
        # An RS fiche has no blocs: its CAPACITES_ATTESTEES are its compétences, so badges can align.
        capacites = split_competences(meta["capacites_attestees"])
        meta["competences_shape"] = capacites.shape
        if capacites.introduction:
            meta["introduction"] = capacites.introduction
        if capacites.evaluation_text:
            meta["evaluation_in_capacites_attestees"] = capacites.evaluation_text
    yield CompetencyRecord(
        key=numero,
        parent_key=None,
        kind="fiche",
        label=title or numero,
        code=numero,
        uri=fiche_url(numero),
        language="fr",
        active=parse_yes_no(_text(fiche, "ACTIF")),
        metadata=meta,
        line=line,
    )
    yield from replacement_links(numero, meta["old_fiches"], meta["new_fiches"])
    short = (meta["abrege"] or {}).get("code")
    if capacites is not None:
        for note in capacites.notes:
            yield WarningRecord(note, line=line, element="CAPACITES_ATTESTEES", source_key=numero, file=file)
        yield from _competence_records(capacites, numero, numero, title, short, line)
    bloc_keys: set[str] = set()
    for position, bloc in enumerate(blocs):
        yield from _bloc_records(bloc, position, numero, title, short, line, bloc_keys, file)


def _bloc_records(
    bloc: ET.Element,
    position: int,
    numero: str,
    fiche_title: str,
    short: str | None,
    line: int,
    keys: set[str],
    file: str,
) -> Iterator[StreamItem]:
    code = (_text(bloc, "CODE") or "").upper()
    key = code or f"{numero}-BLOC{position + 1:02d}"
    if not code:
        yield WarningRecord(
            "bloc without CODE; a positional key was used",
            line=line,
            element="BLOC_COMPETENCES",
            source_key=key,
            file=file,
        )
    else:
        match = _BLOC_CODE.match(code)
        if not match or match.group("fiche") != numero:
            yield WarningRecord(
                f"unexpected bloc code {code} in fiche {numero}", line=line, element="CODE", source_key=code, file=file
            )
    if key in keys:
        key = f"{key}-{position + 1:02d}"
        yield WarningRecord(
            f"duplicate bloc code {code} in fiche {numero}; renamed {key}",
            line=line,
            element="CODE",
            source_key=key,
            file=file,
        )
    keys.add(key)
    label = (bloc.findtext("LIBELLE") or "").strip()
    raw = bloc.findtext("LISTE_COMPETENCES")
    split = split_competences(raw)
    option = re.search(r"\bOption\s+([A-Z])\b", label)
    meta: dict[str, Any] = {
        "fiche_code": numero,
        "fiche_title": fiche_title,
        "fiche_short_title": short,
        "modalites_evaluation": bloc.findtext("MODALITES_EVALUATION"),
        "competences_shape": split.shape,
        "option": option.group(1) if option else None,
        "optional": "facultatif" in label.lower(),
    }
    if split.evaluation_text:
        meta["evaluation_in_liste_competences"] = split.evaluation_text
    if split.ignored:
        meta["ignored_headings"] = list(split.ignored)
    if split.introduction:
        meta["introduction"] = split.introduction
    yield CompetencyRecord(
        key=key,
        parent_key=numero,
        kind="bloc",
        label=label or key,
        code=code or None,
        uri=fiche_url(numero),
        raw_text=raw,
        language="fr",
        position=position,
        metadata=meta,
        line=line,
    )
    if raw is None:
        yield WarningRecord(
            "bloc has no LISTE_COMPETENCES", line=line, element="LISTE_COMPETENCES", source_key=key, file=file
        )
    for note in split.notes:
        yield WarningRecord(note, line=line, element="LISTE_COMPETENCES", source_key=key, file=file)
    yield from _competence_records(split, key, numero, fiche_title, short, line)


def _competence_records(
    split: SplitResult, key: str, numero: str, fiche_title: str, short: str | None, line: int
) -> Iterator[StreamItem]:
    """The compétences parsed out of a bloc's (or an RS fiche's) text, nested by depth under ``key``."""
    stack: list[tuple[int, str, list[int]]] = [(0, key, [0])]
    for item in split.items:
        while len(stack) > 1 and stack[-1][0] >= item.depth:
            stack.pop()
        parent_depth, parent_key, counter = stack[-1]
        counter[0] += 1
        child_key = f"{key}-C{counter[0]:02d}" if parent_key == key else f"{parent_key}.{counter[0]:02d}"
        yield CompetencyRecord(
            key=child_key,
            parent_key=parent_key,
            kind="competence",
            label=item.label,
            # The human code where the text gives one (A1C1, 3.1.2); else the key, as before.
            code=item.code or child_key,
            uri=None,
            raw_text=item.raw,
            confidence=item.confidence,
            language="fr",
            position=counter[0] - 1,
            metadata={
                "depth": len(stack),
                "source_code": item.code,
                "bloc_code": key,
                "fiche_code": numero,
                "fiche_title": fiche_title,
                "fiche_short_title": short,
                "parse_shape": split.shape,
                "stable_id": competence_stable_id(key, item.label),
            },
            line=line,
        )
        stack.append((item.depth, child_key, [0]))
