"""Open Badges 3.0 ``Alignment`` objects for imported competencies (guide §1.5, §2.3, §3.3, §6).

``targetType`` uses the OB 3.0 enumeration where one fits (``CFItem``) and ``ext:`` terms
otherwise (RNCP and ESCO have none of their own): ``ext:RNCPCertification``,
``ext:RNCPBlocCompetences``, ``ext:RNCPCompetence``, ``ext:ESCOSkill``, ``ext:EQFLevel``,
``ext:NSF``, ``ext:Formacode``, ``ext:ROME``, ``ext:CustomCompetency``. ``targetUrl`` is always a
real page: RNCP blocs point at their fiche page (France Compétences has no bloc URL) and parsed
compétences at our own resolvable URL — never at an invented fragment.
"""

from __future__ import annotations

from typing import Any

from .case_export import case_identifier, case_uri
from .records import CompetencyRecord, FrameworkHeader
from .rncp_xml import fiche_url

OB_TARGET_TYPES = {
    "ceasn:Competency",
    "ceterms:Credential",
    "CFItem",
    "CFRubric",
    "CFRubricCriterion",
    "CFRubricCriterionLevel",
    "CTDL",
}
EXTRACTOR = "Blason"
EQF_URI = "http://data.europa.eu/snb/eqf/{level}"  # commonly used; unverified per the guide


def _alignment(**fields: Any) -> dict[str, Any]:
    target_type = fields.get("targetType")
    if target_type and target_type not in OB_TARGET_TYPES and not target_type.startswith("ext:"):
        raise ValueError(f"targetType {target_type!r} must be an OB 3.0 value or start with 'ext:'")
    if not fields.get("targetName") or not fields.get("targetUrl"):
        raise ValueError("an Alignment needs targetName and targetUrl")
    return {"type": ["Alignment"], **{k: v for k, v in fields.items() if v not in (None, "")}}


def _versioned(title: str, version: str | None) -> str:
    return f"{title} {version}" if version else title


def alignment_for(
    record: CompetencyRecord,
    header: FrameworkHeader,
    public_url: str | None = None,
    *,
    case_base_url: str | None = None,
) -> dict[str, Any]:
    """Return the OB 3.0 Alignment for a record.

    ``public_url`` is the record's resolvable page in Blason, used where the source has no
    per-node URL (parsed RNCP compétences, custom frameworks without ``uri``). With
    ``case_base_url`` (where :func:`to_cfpackage` output is published) RNCP compétences align
    as ``CFItem`` to their CFItem URI.
    """
    meta = record.metadata
    if header.source_type == "rncp":
        return _rncp(record, header, public_url, case_base_url)
    if header.source_type == "esco":
        code = record.code if record.kind != "skill" else (record.uri or record.key).rsplit("/", 1)[-1]
        return _alignment(
            targetName=record.label,
            targetUrl=record.uri or record.key,
            targetCode=code or (record.uri or record.key).rsplit("/", 1)[-1],
            targetDescription=record.description,
            targetFramework=f"ESCO v{header.version}" if header.version else "ESCO",
            targetType="ext:ESCOSkill",
        )
    if header.source_type == "case":
        abbreviated = meta.get("abbreviatedStatement")
        return _alignment(
            targetName=abbreviated or meta.get("fullStatement") or record.label,
            targetUrl=record.uri or public_url,
            targetCode=meta.get("humanCodingScheme") or meta.get("identifier") or record.key,
            targetDescription=meta.get("fullStatement") if abbreviated else meta.get("notes"),
            targetFramework=_versioned(header.title, header.version),
            targetType="CFItem",
        )
    return _alignment(
        targetName=record.label,
        targetUrl=record.uri or public_url,
        targetCode=record.code,
        targetDescription=record.description,
        targetFramework=_versioned(header.title, header.version),
        targetType=str(header.metadata.get("alignment_target_type") or "ext:CustomCompetency"),
    )


def _rncp(
    record: CompetencyRecord, header: FrameworkHeader, public_url: str | None, case_base_url: str | None
) -> dict[str, Any]:
    meta = record.metadata
    if record.kind == "fiche":
        export = header.metadata.get("export_date")
        framework = "RNCP (France compétences)" + (f", export du {export}" if export else "")
        return _alignment(
            targetName=record.label,
            targetUrl=record.uri or fiche_url(record.key),
            targetCode=record.code or record.key,
            targetFramework=framework,
            targetType="ext:RNCPCertification",
        )
    fiche = str(meta.get("fiche_code") or "")
    if record.kind == "bloc":
        return _alignment(
            targetName=record.label,
            targetUrl=fiche_url(fiche),
            targetCode=record.code or record.key,
            targetFramework=f"{fiche} {meta.get('fiche_title') or ''}".strip(),
            targetType="ext:RNCPBlocCompetences",
        )
    framework = f"{fiche} référentiel (extraction {EXTRACTOR})"
    # A parsed compétence's human code (A1C1, 3.1.2) repeats from bloc to bloc: its key is unique.
    if case_base_url:
        identifier = case_identifier(header, record.key)
        return _alignment(
            targetName=record.label,
            targetUrl=case_uri(case_base_url, "CFItems", identifier),
            targetCode=record.key,
            targetFramework=framework,
            targetType="CFItem",
        )
    return _alignment(
        targetName=record.label,
        targetUrl=public_url,
        targetCode=record.key,
        targetFramework=framework,
        targetType="ext:RNCPCompetence",
    )


def extra_alignments_for(record: CompetencyRecord) -> list[dict[str, Any]]:
    """Return the optional RNCP fiche alignments: EQF level, NSF, Formacode, ROME."""
    if record.kind != "fiche":
        return []
    meta = record.metadata
    result: list[dict[str, Any]] = []
    level = meta.get("level") or {}
    if level.get("eqf"):
        result.append(
            _alignment(
                targetName=f"EQF {level['eqf']}",
                targetUrl=EQF_URI.format(level=level["eqf"]),
                targetCode=str(level["eqf"]),
                targetFramework="EQF",
                targetType="ext:EQFLevel",
            )
        )
    url = record.uri or fiche_url(record.key)
    for field, kind, framework in (
        ("nsf", "ext:NSF", "NSF"),
        ("formacodes", "ext:Formacode", "Formacode"),
        ("rome", "ext:ROME", "ROME"),
    ):
        for entry in meta.get(field) or []:
            if entry.get("code"):
                result.append(
                    _alignment(
                        targetName=entry.get("label") or entry["code"],
                        targetUrl=url,
                        targetCode=entry["code"],
                        targetFramework=framework,
                        targetType=kind,
                    )
                )
    return result
