"""Build Open Badges 3.0 and CLR 2.0 credentials from plain dataclasses (strict OB 3.0 shape)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .contexts import CLR_V2P0, OB_V3P0, OB_V3P0_EXTENSIONS, VC_V2
from .errors import InvalidInput
from .timeutil import format_datetime

OB3_CONTEXT: list[str] = [VC_V2, OB_V3P0, OB_V3P0_EXTENSIONS]
CLR_CONTEXT: list[str] = [VC_V2, CLR_V2P0, OB_V3P0, OB_V3P0_EXTENSIONS]
OB3_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
ENDORSEMENT_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
CLR_SCHEMA = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
SCHEMA_VALIDATOR = "1EdTechJsonSchemaValidator2019"

ACHIEVEMENT_TYPES = frozenset(
    "Achievement ApprenticeshipCertificate Assessment Assignment AssociateDegree Award Badge "
    "BachelorDegree Certificate CertificateOfCompletion Certification CommunityService "
    "Competency Course CoCurricular Degree Diploma DoctoralDegree Fieldwork "
    "GeneralEducationDevelopment JourneymanCertificate LearningProgram License Membership "
    "ProfessionalDoctorate QualityAssuranceCredential MasterCertificate MasterDegree "
    "MicroCredential ResearchDoctorate SecondarySchoolDiploma".split()
)
RESULT_TYPES = frozenset(
    "GradePointAverage LetterGrade Percent PerformanceLevel PredictedScore RawScore Result "
    "RubricCriterion RubricCriterionLevel RubricScore ScaledScore Status".split()
)


def hash_identity(identity: str, salt: str, algorithm: str = "sha256") -> str:
    """Return the OB IdentityHash ``sha256$hex(sha256(utf8(identity + salt)))``."""
    if algorithm not in ("sha256", "md5"):
        raise InvalidInput("identity hashes use sha256 or md5")
    digest = hashlib.new(algorithm, (identity + salt).encode("utf-8"), usedforsecurity=False)
    return f"{algorithm}${digest.hexdigest()}"


def normalise_email(email: str) -> str:
    """Trim and lowercase an e-mail address before hashing it."""
    return email.strip().lower()


def _ext_or(value: str | None, allowed: frozenset[str], what: str) -> str | None:
    if value is None or value in allowed or value.startswith("ext:"):
        return value
    raise InvalidInput(f"unknown {what}: {value!r} (use an ext: term)")


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` unless the value is None or empty (OB: omit nulls and empty arrays)."""
    if value is None or value == [] or value == "":
        return
    target[key] = value


@dataclass(frozen=True)
class Image:
    """An image by URL or data: URI."""

    id: str
    caption: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 ``Image``."""
        out: dict[str, Any] = {"id": self.id, "type": "Image"}
        _put(out, "caption", self.caption)
        return out


@dataclass(frozen=True)
class Profile:
    """An issuer, creator or endorser profile."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    description: str | None = None
    phone: str | None = None
    image: Image | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 ``Profile`` (type as an array)."""
        out: dict[str, Any] = {"id": self.id, "type": ["Profile"], "name": self.name}
        _put(out, "url", self.url)
        _put(out, "email", self.email)
        _put(out, "phone", self.phone)
        _put(out, "description", self.description)
        if self.image:
            out["image"] = self.image.to_json()
        return out


@dataclass(frozen=True)
class Alignment:
    """An alignment to a competency, framework node or credential."""

    target_name: str
    target_url: str
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None
    target_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 ``Alignment``."""
        out: dict[str, Any] = {"type": ["Alignment"], "targetName": self.target_name, "targetUrl": self.target_url}
        _put(out, "targetDescription", self.target_description)
        _put(out, "targetFramework", self.target_framework)
        _put(out, "targetCode", self.target_code)
        if self.target_type is not None and not (
            self.target_type.startswith("ext:")
            or self.target_type
            in (
                "ceasn:Competency",
                "ceterms:Credential",
                "CFItem",
                "CFRubric",
                "CFRubricCriterion",
                "CFRubricCriterionLevel",
                "CTDL",
            )
        ):
            raise InvalidInput(f"unknown alignment targetType: {self.target_type!r}")
        _put(out, "targetType", self.target_type)
        return out


@dataclass(frozen=True)
class Criteria:
    """How the achievement is earned: a criteria page and/or a Markdown narrative."""

    narrative: str | None = None
    id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 ``Criteria``."""
        if not self.narrative and not self.id:
            raise InvalidInput("criteria need a narrative or an id")
        out: dict[str, Any] = {}
        _put(out, "id", self.id)
        _put(out, "narrative", self.narrative)
        return out


@dataclass(frozen=True)
class ResultDescription:
    """A possible result (grade, rubric level, status) of an achievement."""

    id: str
    name: str
    result_type: str
    allowed_value: tuple[str, ...] = ()
    required_value: str | None = None
    value_min: str | None = None
    value_max: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 ``ResultDescription``."""
        out: dict[str, Any] = {
            "id": self.id,
            "type": ["ResultDescription"],
            "name": self.name,
            "resultType": _ext_or(self.result_type, RESULT_TYPES, "resultType"),
        }
        _put(out, "allowedValue", list(self.allowed_value))
        _put(out, "requiredValue", self.required_value)
        _put(out, "valueMin", self.value_min)
        _put(out, "valueMax", self.value_max)
        return out


@dataclass(frozen=True)
class Result:
    """A result the learner obtained, pointing at a ResultDescription id."""

    result_description: str | None = None
    value: str | None = None
    status: str | None = None
    achieved_level: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 ``Result``."""
        out: dict[str, Any] = {"type": ["Result"]}
        _put(out, "resultDescription", self.result_description)
        _put(out, "value", self.value)
        _put(out, "status", self.status)
        _put(out, "achievedLevel", self.achieved_level)
        return out


@dataclass(frozen=True)
class Achievement:
    """What is recognised (the badge class)."""

    id: str
    name: str
    description: str
    criteria: Criteria
    achievement_type: str | None = None
    alignments: tuple[Alignment, ...] = ()
    result_descriptions: tuple[ResultDescription, ...] = ()
    image: Image | None = None
    creator: Profile | None = None
    tags: tuple[str, ...] = ()
    human_code: str | None = None
    field_of_study: str | None = None
    in_language: str | None = None
    version: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 ``Achievement``."""
        out: dict[str, Any] = {"id": self.id, "type": ["Achievement"]}
        _put(out, "achievementType", _ext_or(self.achievement_type, ACHIEVEMENT_TYPES, "achievementType"))
        out["name"] = self.name
        out["description"] = self.description
        out["criteria"] = self.criteria.to_json()
        _put(out, "alignment", [a.to_json() for a in self.alignments])
        _put(out, "resultDescription", [r.to_json() for r in self.result_descriptions])
        if self.image:
            out["image"] = self.image.to_json()
        if self.creator:
            out["creator"] = self.creator.to_json()
        _put(out, "tag", list(self.tags))
        _put(out, "humanCode", self.human_code)
        _put(out, "fieldOfStudy", self.field_of_study)
        _put(out, "inLanguage", self.in_language)
        _put(out, "version", self.version)
        return out


@dataclass(frozen=True)
class Evidence:
    """Evidence of the learner's work (a page URL or a data: URI, and/or a narrative)."""

    id: str | None = None
    name: str | None = None
    narrative: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the OB 3.0 ``Evidence``."""
        out: dict[str, Any] = {}
        _put(out, "id", self.id)
        out["type"] = ["Evidence"]
        _put(out, "name", self.name)
        _put(out, "narrative", self.narrative)
        _put(out, "description", self.description)
        _put(out, "genre", self.genre)
        _put(out, "audience", self.audience)
        return out


@dataclass(frozen=True)
class Recipient:
    """The learner: a DID and/or an e-mail address (hashed with a salt)."""

    did: str | None = None
    email: str | None = None
    salt: str | None = None

    def identity_objects(self) -> list[dict[str, Any]]:
        """Return the OB 3.0 ``IdentityObject`` list (hashed e-mail)."""
        if self.email is None:
            return []
        if not self.salt:
            raise InvalidInput("a hashed e-mail needs a salt")
        return [
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": hash_identity(normalise_email(self.email), self.salt),
                "salt": self.salt,
            }
        ]


@dataclass(frozen=True)
class StatusEntry:
    """A position in a Bitstring status list."""

    status_list_credential: str
    index: int
    purpose: str = "revocation"

    def to_json(self) -> dict[str, Any]:
        """Return the ``BitstringStatusListEntry``."""
        if self.index < 0:
            raise InvalidInput("a status list index is not negative")
        if self.purpose not in ("revocation", "suspension"):
            raise InvalidInput("status purpose must be revocation or suspension")
        return {
            "id": f"{self.status_list_credential}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.status_list_credential,
        }


@dataclass(frozen=True)
class Award:
    """One award of an achievement to a learner: the input of an OpenBadgeCredential."""

    id: str
    issuer: Profile
    recipient: Recipient
    achievement: Achievement
    valid_from: datetime
    valid_until: datetime | None = None
    name: str | None = None
    description: str | None = None
    image: Image | None = None
    awarded_date: datetime | None = None
    evidence: tuple[Evidence, ...] = ()
    results: tuple[Result, ...] = ()
    narrative: str | None = None
    status: tuple[StatusEntry, ...] = ()
    endorsements: tuple[dict[str, Any], ...] = field(default=())
    include_schema: bool = True


def _dates(out: dict[str, Any], valid_from: datetime, valid_until: datetime | None) -> None:
    out["validFrom"] = format_datetime(valid_from)
    if valid_until is not None:
        if valid_until <= valid_from:
            raise InvalidInput("validUntil must be after validFrom")
        out["validUntil"] = format_datetime(valid_until)


def _status(entries: tuple[StatusEntry, ...]) -> Any:
    # OB 3.0 allows one credentialStatus object; several entries (VC 2.0) become an
    # array, which the strict OB schema rejects: the caller chooses.
    if not entries:
        return None
    items = [entry.to_json() for entry in entries]
    return items[0] if len(items) == 1 else items


def build_ob3_credential(award: Award) -> dict[str, Any]:
    """Return an unsigned OB 3.0 ``OpenBadgeCredential`` in the strict 1EdTech shape."""
    if not award.recipient.did and not award.recipient.email:
        raise InvalidInput("the recipient needs a DID or an e-mail address")
    subject: dict[str, Any] = {}
    _put(subject, "id", award.recipient.did)
    subject["type"] = ["AchievementSubject"]
    _put(subject, "identifier", award.recipient.identity_objects())
    subject["achievement"] = award.achievement.to_json()
    _put(subject, "result", [r.to_json() for r in award.results])
    _put(subject, "narrative", award.narrative)
    out: dict[str, Any] = {
        "@context": list(OB3_CONTEXT),
        "id": award.id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": award.issuer.to_json(),
    }
    _dates(out, award.valid_from, award.valid_until)
    _put(out, "name", award.name or award.achievement.name)
    _put(out, "description", award.description)
    if award.image:
        out["image"] = award.image.to_json()
    if award.awarded_date is not None:
        out["awardedDate"] = format_datetime(award.awarded_date)
    out["credentialSubject"] = subject
    _put(out, "evidence", [e.to_json() for e in award.evidence])
    _put(out, "endorsement", list(award.endorsements))
    if award.include_schema:
        out["credentialSchema"] = [{"id": OB3_SCHEMA, "type": SCHEMA_VALIDATOR}]
    _put(out, "credentialStatus", _status(award.status))
    return out


@dataclass(frozen=True)
class Endorsement:
    """An endorsement of a profile, achievement or credential by another issuer."""

    id: str
    issuer: Profile
    subject_id: str
    name: str
    valid_from: datetime
    comment: str | None = None
    valid_until: datetime | None = None
    include_schema: bool = True


def build_endorsement_credential(endorsement: Endorsement) -> dict[str, Any]:
    """Return an unsigned OB 3.0 ``EndorsementCredential``."""
    subject: dict[str, Any] = {"id": endorsement.subject_id, "type": ["EndorsementSubject"]}
    _put(subject, "endorsementComment", endorsement.comment)
    out: dict[str, Any] = {
        "@context": list(OB3_CONTEXT),
        "id": endorsement.id,
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": endorsement.name,
        "issuer": endorsement.issuer.to_json(),
    }
    _dates(out, endorsement.valid_from, endorsement.valid_until)
    out["credentialSubject"] = subject
    if endorsement.include_schema:
        out["credentialSchema"] = [{"id": ENDORSEMENT_SCHEMA, "type": SCHEMA_VALIDATOR}]
    return out
