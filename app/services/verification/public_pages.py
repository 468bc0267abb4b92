"""What the public pages show: a credential's verification page, images, baked badges, public evidence.

Read-only and anonymous: nothing here needs a login, and nothing is shown that the learner kept
private (their name only if they allowed it, evidence only while it is public). The JSON
documents themselves come from :mod:`app.services.verification.public_docs`.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import badges
from app.models import (
    Achievement,
    AchievementVersion,
    Credential,
    CredentialState,
    Evidence,
    EvidenceKind,
    Issuer,
    KeyStatus,
    Person,
    SigningKey,
    StatusList,
    StoredFile,
    Visibility,
)
from app.platform.errors import PayloadTooLarge, UnsupportedMediaType
from app.platform.filenames import slug
from app.platform.images import default_badge_svg, reduce_image
from app.platform.storage import Storage
from app.platform.urls import Urls
from app.services.issuing import validations as award_validations
from app.services.issuing.achievements import alignments_of
from app.services.issuing.keys import issuer_keys
from app.services.recognition.scales import DEFAULT_SCALE
from app.services.verification import public_docs
from app.services.verification.verification import Outcome, ReportCache, verify_own
from badges.baking import write_png
from badges.qr import qr_matrix

PUBLIC_STATES = (CredentialState.ISSUED, CredentialState.SUSPENDED, CredentialState.REVOKED)


@dataclass(frozen=True)
class Image:
    data: bytes
    media_type: str
    sha256: str | None  # None for generated images


@dataclass
class CredentialPage:
    """Everything the verification page shows, with the live verdict."""

    credential: Credential
    achievement: Achievement
    version: AchievementVersion
    issuer: Issuer
    recipient_name: str | None
    document: dict[str, Any]
    outcome: Outcome
    alignments: list[dict[str, Any]]
    competencies: list[CompetencyLine]
    evidence: list[EvidenceLine]
    result: str | None
    narrative: str | None
    links: dict[str, str | None]
    checked_at: datetime
    name_withheld_by_choice: bool = False  # the holder said no: the page may say so

    def result_in(self, lang: str) -> str | None:
        """The level reached, in the page's language when it is one of the default scale's levels."""
        return level_in(self.result, lang)


@dataclass(frozen=True)
class Validator:
    name: str
    role: str  # tutor, platform_admin (the project's tutors and platform admins decide)


@dataclass(frozen=True)
class Validation:
    """How a competency was validated, as recorded when the badge was awarded."""

    by: tuple[Validator, ...]  # the deciding tutor last; before them the first tutor of a second review
    date: datetime | None
    level: str | None
    level_labels: dict[str, str]  # {"fr": ..., "en": ...} on the scale in force then
    project: str | None

    def level_in(self, lang: str) -> str | None:
        return self.level_labels.get(lang) or level_in(self.level, lang)


@dataclass(frozen=True)
class CompetencyLine:
    """An aligned competency (as signed in the credential) and who validated it."""

    name: str
    code: str | None
    url: str | None
    framework: str | None
    validation: Validation | None


@dataclass(frozen=True)
class EvidenceLine:
    """A public evidence item as the page shows it: a preview for an image, type and size for a file."""

    kind: str  # contribution, link, text, image, file
    name: str
    url: str | None = None  # its page (our own evidence) or the link it is
    description: str | None = None
    narrative: str | None = None
    media_type: str | None = None
    file_type: str | None = None  # pdf, image, spreadsheet, document, presentation, text, audio, video, file
    extension: str | None = None
    size: int | None = None
    download_url: str | None = None
    download_name: str | None = None
    preview_url: str | None = None


def level_in(value: str | None, lang: str) -> str | None:
    """A level of the default scale (by its code or French label) in ``lang``; any other value as it is."""
    for level in DEFAULT_SCALE.levels:
        if value in (level.code, level.label_fr):
            return level.label_en if lang == "en" else level.label_fr
    return value


def public_credential(session: Session, credential_id: uuid.UUID) -> Credential | None:
    """An issued (or since revoked or suspended) credential; proposals and declined awards do not exist here."""
    credential = session.get(Credential, credential_id)
    if credential is None or credential.state not in PUBLIC_STATES or credential.ob3_credential is None:
        return None
    return credential


def linkedin_url(credential: Credential, name: str, issuer_name: str, urls: Urls) -> str:
    """LinkedIn's "add a certification" form, filled in (a plain link: LinkedIn is never called)."""
    issued = credential.awarded_at
    fields: dict[str, Any] = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": issuer_name,
        "issueYear": issued.year,
        "issueMonth": issued.month,
        "certUrl": urls.credential(credential.id),
        "certId": credential.short_code,
    }
    if credential.valid_until is not None:
        fields.update(expirationYear=credential.valid_until.year, expirationMonth=credential.valid_until.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(fields)


# What kind of file each accepted media type is (app.platform.storage.sniff_media_type), and its extension.
FILE_TYPES: dict[str, tuple[str, str]] = {
    "image/png": ("image", "png"),
    "image/jpeg": ("image", "jpg"),
    "image/gif": ("image", "gif"),
    "image/webp": ("image", "webp"),
    "application/pdf": ("pdf", "pdf"),
    "video/mp4": ("video", "mp4"),
    "audio/mpeg": ("audio", "mp3"),
    "audio/ogg": ("audio", "ogg"),
    "text/plain": ("text", "txt"),
    "application/vnd.oasis.opendocument.text": ("document", "odt"),
    "application/vnd.oasis.opendocument.spreadsheet": ("spreadsheet", "ods"),
    "application/vnd.oasis.opendocument.presentation": ("presentation", "odp"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", "docx"),
}
PREVIEWABLE = ("image/png", "image/jpeg", "image/gif", "image/webp")


def file_type(media_type: str | None) -> tuple[str, str]:
    """(kind of file, extension) of a media type; an unknown one is a "file" with the extension "bin"."""
    return FILE_TYPES.get((media_type or "").split(";")[0].strip().lower(), ("file", "bin"))


def download_name(filename: str | None, title: str, media_type: str | None) -> str:
    """The name a download is saved under: ASCII, with the extension of what the file really is.

    The learner's file name (without its own extension, which may not match its content) or the
    title, then the extension of the sniffed media type: « Compte rendu.PDF » → compte-rendu.pdf.
    """
    stem = (filename or "").rsplit(".", 1)[0] if filename and "." in filename.strip(".") else (filename or "")
    return f"{slug(stem or title, fallback='preuve')}.{file_type(media_type)[1]}"


def _evidence_lines(session: Session, items: list[Any], urls: Urls) -> list[EvidenceLine]:
    """The credential's evidence as signed, without our own items the learner has made private since.

    Names come from the signed credential (what was awarded); an own file's type, size and
    preview from its row (a stored file never changes, only its title and visibility do).
    """
    prefix = urls.evidence(uuid.UUID(int=0))[:-36]
    wanted: dict[str, uuid.UUID] = {}
    for item in items:
        ident = item.get("id") if isinstance(item, dict) else None
        if isinstance(ident, str) and ident.startswith(prefix):
            try:
                wanted[ident] = uuid.UUID(ident[len(prefix) :])
            except ValueError:
                continue
    rows = (
        {
            e.id: e
            for e in session.scalars(
                select(Evidence).where(Evidence.id.in_(list(wanted.values())), Evidence.visibility == Visibility.PUBLIC)
            )
        }
        if wanted
        else {}
    )
    lines: list[EvidenceLine] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        ident = item.get("id") if isinstance(item.get("id"), str) else None
        name = str(item.get("name") or ident or "")
        description = item.get("description") if isinstance(item.get("description"), str) else None
        narrative = item.get("narrative") if isinstance(item.get("narrative"), str) else None
        if ident in wanted:
            row = rows.get(wanted[ident])
            if row is None:
                continue  # made private (or deleted) since: the page no longer shows it
            lines.append(_own_evidence(row, name, description, urls))
        elif item.get("genre") == "Contribution":
            lines.append(EvidenceLine("contribution", name, description=description, narrative=narrative))
        elif narrative and not ident:
            lines.append(EvidenceLine("text", name, description=description, narrative=narrative))
        else:
            lines.append(EvidenceLine("link", name, url=ident, description=description, narrative=narrative))
    return lines


def _own_evidence(row: Evidence, name: str, description: str | None, urls: Urls) -> EvidenceLine:
    page = urls.evidence(row.id)
    if row.kind is not EvidenceKind.FILE or not row.file_sha256:
        kind = "link" if row.kind is EvidenceKind.LINK else "text"
        return EvidenceLine(
            kind, name, url=page, description=description, narrative=row.text if kind == "text" else None
        )
    kind, extension = file_type(row.media_type)
    return EvidenceLine(
        "image" if row.media_type in PREVIEWABLE else "file",
        name,
        url=page,
        description=description,
        media_type=row.media_type,
        file_type=kind,
        extension=extension,
        size=row.size,
        download_url=page + "?download=1",
        download_name=download_name(row.filename, name, row.media_type),
        preview_url=page + "?preview=1" if row.media_type in PREVIEWABLE else None,
    )


def _when(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed is not None and parsed.tzinfo is None else parsed


def _validation(entry: dict[str, Any]) -> Validation:
    labels = entry.get("levelLabel") if isinstance(entry.get("levelLabel"), dict) else {}
    return Validation(
        by=tuple(
            Validator(str(v.get("name") or ""), str(v.get("role") or award_validations.TUTOR))
            for v in entry.get("by") or []
            if isinstance(v, dict)
        ),
        date=_when(entry.get("date")),
        level=entry.get("level"),
        level_labels={k: str(v) for k, v in (labels or {}).items() if v},
        project=entry.get("project"),
    )


def _competency_lines(
    session: Session, credential: Credential, version: AchievementVersion, signed: list[dict[str, Any]], urls: Urls
) -> list[CompetencyLine]:
    """The signed alignments, each with its validation as the award recorded it.

    A badge awarded before validations were recorded reads them from the reviews given by its
    award date: nothing decided later rewrites what it proves.
    """
    aligned = {
        a.alignment.get("targetUrl"): a.competency_id
        for a in alignments_of(session, version.id)
        if a.competency_id is not None and isinstance(a.alignment, dict)
    }
    recorded = (credential.award_data or {}).get("validations")
    if not isinstance(recorded, list):
        recorded = award_validations.validations(
            session, credential.learner_id, list(aligned.values()), until=credential.awarded_at
        )
    by_competency = {str(v.get("competency")): v for v in recorded if isinstance(v, dict)}
    lines: list[CompetencyLine] = []
    shown: set[str] = set()
    for alignment in signed:
        competency_id = aligned.get(alignment.get("targetUrl"))
        entry = by_competency.get(str(competency_id)) if competency_id else None
        if entry is not None:
            shown.add(str(competency_id))
        lines.append(
            CompetencyLine(
                name=str(alignment.get("targetName") or ""),
                code=alignment.get("targetCode"),
                url=alignment.get("targetUrl"),
                framework=alignment.get("targetFramework"),
                validation=_validation(entry) if entry is not None else None,
            )
        )
    for key, entry in by_competency.items():  # a rule's competency that the badge does not align to
        if key not in shown:
            lines.append(
                CompetencyLine(
                    name=str(entry.get("label") or ""),
                    code=entry.get("code"),
                    url=f"{urls.base}/competencies/{key}",
                    framework=entry.get("framework"),
                    validation=_validation(entry),
                )
            )
    return lines


def credential_page(
    session: Session, credential: Credential, *, urls: Urls, now: datetime, cache: ReportCache | None = None
) -> CredentialPage:
    """The verification page of a public credential, verified now against our own documents."""
    version = session.get(AchievementVersion, credential.achievement_version_id)
    issuer = session.get(Issuer, credential.issuer_id)
    learner = session.get(Person, credential.learner_id)
    assert version is not None and issuer is not None and learner is not None
    achievement = session.get(Achievement, version.achievement_id)
    assert achievement is not None
    document = credential.ob3_credential or {}
    subject = document.get("credentialSubject") or {}
    embedded = subject.get("achievement") or {}
    results = subject.get("result") or []
    outcome = verify_own(session, credential, urls, now=now, cache=cache)
    alignments = [a for a in embedded.get("alignment") or [] if isinstance(a, dict)]
    shareable = credential.state is CredentialState.ISSUED
    links: dict[str, str | None] = {
        "page": urls.credential(credential.id),
        "short": urls.short(credential.short_code),
        "qr_svg": urls.qr(credential.id, "svg"),
        "qr_png": urls.qr(credential.id, "png"),
        "json": urls.credential(credential.id) + "?format=json",
        "jwt": urls.jwt(credential.id) if credential.ob3_jwt else None,
        "baked_png": urls.baked(credential.id, "png") if shareable else None,
        "baked_svg": urls.baked(credential.id, "svg") if shareable else None,
        "baked_svg_ob2": urls.baked_ob2_svg(credential.id) if shareable and credential.ob2_jws else None,
        "ob2": urls.ob2_assertion(credential.id) if credential.ob2_assertion else None,
        "issuer": urls.issuer(issuer.id),
        "achievement": urls.achievement(achievement.id, version.version),
        "image": urls.achievement_image(achievement.id, version.version),
        "linkedin": linkedin_url(credential, version.name, issuer.name, urls) if shareable else None,
    }
    return CredentialPage(
        credential=credential,
        achievement=achievement,
        version=version,
        issuer=issuer,
        recipient_name=public_docs.public_recipient_name(credential, learner),
        document=document,
        outcome=outcome,
        alignments=alignments,
        competencies=_competency_lines(session, credential, version, alignments, urls),
        evidence=_evidence_lines(session, list(document.get("evidence") or []), urls),
        result=next((str(r.get("value")) for r in results if isinstance(r, dict) and r.get("value")), None),
        narrative=subject.get("narrative") if isinstance(subject.get("narrative"), str) else None,
        links=links,
        checked_at=now,
        name_withheld_by_choice=public_docs.recipient_chose_to_hide(credential, learner),
    )


# ---------------------------------------------------------------------------------------------
# The rendered verification page, kept while nothing it shows has changed


def own_evidence_ids(document: dict[str, Any] | None, urls: Urls) -> tuple[uuid.UUID, ...]:
    """Our own evidence items a signed credential lists (the page shows them while they stay public)."""
    prefix = urls.evidence(uuid.UUID(int=0))[:-36]
    found: list[uuid.UUID] = []
    for item in (document or {}).get("evidence") or []:
        ident = item.get("id") if isinstance(item, dict) else None
        if isinstance(ident, str) and ident.startswith(prefix):
            try:
                found.append(uuid.UUID(ident[len(prefix) :]))
            except ValueError:
                continue
    return tuple(sorted(found))


def credential_evidence_ids(session: Session, credential_id: uuid.UUID, urls: Urls) -> tuple[uuid.UUID, ...]:
    document = session.scalar(select(Credential.ob3_credential).where(Credential.id == credential_id))
    return own_evidence_ids(document if isinstance(document, dict) else None, urls)


def page_state(
    session: Session, credential_id: uuid.UUID, evidence_ids: tuple[uuid.UUID, ...], *, engine: Engine | None = None
) -> tuple[Any, ...] | None:
    """Everything the verification page depends on that can change, in one statement.

    A signed credential never changes; what its page shows can, and every such write goes
    through a row whose optimistic-lock version it bumps: the credential (revocation,
    suspension, the badge's name choice), the learner (name, profile name choice), the issuer,
    the achievement, both status lists (re-signed at every change), the evidence items (title,
    visibility). The issuer's keys have no version: their count and how many are retired or
    compromised, and when, stand for it. ``None``: no such credential.

    ``engine``: read on a connection of its own rather than in ``session``'s transaction.
    """
    params: dict[str, Any] = {"credential_id": credential_id}
    if evidence_ids:
        params["evidence_ids"] = list(evidence_ids)
    statement = _state_statement(bool(evidence_ids))
    if engine is None:
        row = session.connection().execute(statement, params).first()
    else:
        # Outside the request's unit of work (a page served from the cache opens none). On
        # PostgreSQL one statement reads one snapshot: no BEGIN and ROLLBACK, two round trips fewer.
        options = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}
        with engine.connect().execution_options(**options) as connection:
            row = connection.execute(statement, params).first()
    return tuple(row) if row is not None else None


@lru_cache(maxsize=2)
def _state_statement(with_evidence: bool) -> Any:
    """:func:`page_state`'s statement, built once (Core tables: no ORM work per request)."""
    credentials, people, issuers = _table(Credential), _table(Person), _table(Issuer)
    versions, achievements, keys = _table(AchievementVersion), _table(Achievement), _table(SigningKey)
    revocation, suspension = _table(StatusList).alias("revocation"), _table(StatusList).alias("suspension")
    evidence = _table(Evidence)

    def of_keys(column: Any, *where: Any) -> Any:
        return (
            select(column)
            .where(keys.c.issuer_id == credentials.c.issuer_id, *where)
            .correlate(credentials)
            .scalar_subquery()
        )

    columns: list[Any] = [
        credentials.c.state,
        credentials.c.version,
        credentials.c.valid_from,
        credentials.c.valid_until,
        people.c.version,
        issuers.c.version,
        achievements.c.lock_version,
        revocation.c.version,
        suspension.c.version,
        of_keys(func.count()),
        of_keys(func.count(), keys.c.status == KeyStatus.COMPROMISED),
        of_keys(func.count(), keys.c.status == KeyStatus.RETIRED),
        of_keys(func.max(keys.c.compromised_at)),
        of_keys(func.max(keys.c.retired_at)),
    ]
    if with_evidence:
        mine = evidence.c.id.in_(bindparam("evidence_ids", expanding=True))
        columns += [
            select(func.count()).where(mine, evidence.c.visibility == Visibility.PUBLIC).scalar_subquery(),
            select(func.coalesce(func.sum(evidence.c.version), 0)).where(mine).scalar_subquery(),
        ]
    return (
        select(*columns)
        .select_from(
            credentials.join(people, people.c.id == credentials.c.learner_id)
            .join(issuers, issuers.c.id == credentials.c.issuer_id)
            .join(versions, versions.c.id == credentials.c.achievement_version_id)
            .join(achievements, achievements.c.id == versions.c.achievement_id)
            .outerjoin(revocation, revocation.c.id == credentials.c.status_list_id)
            .outerjoin(suspension, suspension.c.id == credentials.c.suspension_list_id)
        )
        .where(credentials.c.id == bindparam("credential_id", type_=credentials.c.id.type))
    )


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def page_key(state: tuple[Any, ...], now: datetime) -> tuple[Any, ...]:
    """The state and what "now" changes on the page: the day it says it was checked, expiry, start."""
    valid_from, valid_until = state[2], state[3]
    return (
        *state,
        now.date(),
        valid_from is not None and now < _aware(valid_from, now),
        valid_until is not None and now > _aware(valid_until, now),
    )


def _aware(value: datetime, now: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored in UTC); compare like with like.
    if value.tzinfo is None and now.tzinfo is not None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class RenderedPage:
    html: bytes
    etag: str
    stored_at: float


class RenderedPages:
    """This process's rendered verification pages, keyed by everything that can change them.

    The key is the credential's :func:`page_state` (one statement), the day, which side of its
    validity dates "now" falls, the language and the query: a hit costs that statement and no
    rendering. What no version tracks (a tutor renamed since an old badge was awarded) shows
    within ``max_age`` seconds. Bounded (least recently used first out) and thread-safe; each
    gunicorn worker keeps its own.
    """

    def __init__(self, size: int = 2048, max_age: float = 600.0, clock: Any = time.monotonic) -> None:
        self.size = size
        self.max_age = max_age
        self.clock = clock
        self._pages: OrderedDict[tuple[Any, ...], RenderedPage] = OrderedDict()
        self._evidence: OrderedDict[uuid.UUID, tuple[uuid.UUID, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def evidence_of(self, credential_id: uuid.UUID) -> tuple[uuid.UUID, ...] | None:
        """The own evidence ids of a credential already seen (its signed document never changes)."""
        with self._lock:
            return self._evidence.get(credential_id)

    def remember_evidence(self, credential_id: uuid.UUID, ids: tuple[uuid.UUID, ...]) -> None:
        with self._lock:
            self._evidence[credential_id] = ids
            self._evidence.move_to_end(credential_id)
            while len(self._evidence) > self.size:
                self._evidence.popitem(last=False)

    def get(self, key: tuple[Any, ...]) -> RenderedPage | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            if self.clock() - found.stored_at > self.max_age:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], html: bytes, etag: str) -> RenderedPage:
        page = RenderedPage(html, etag, self.clock())
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return page


# ---------------------------------------------------------------------------------------------
# Issuers, keys, status lists


@dataclass
class IssuerView:
    issuer: Issuer
    keys: list[SigningKey]
    achievements: list[tuple[Achievement, AchievementVersion]]


def issuer_view(session: Session, issuer_id: uuid.UUID) -> IssuerView | None:
    """An issuer with every published key and its current, unarchived badges."""
    issuer = session.get(Issuer, issuer_id)
    if issuer is None:
        return None
    rows = session.execute(
        select(Achievement, AchievementVersion)
        .join(
            AchievementVersion,
            (AchievementVersion.achievement_id == Achievement.id)
            & (AchievementVersion.version == Achievement.current_version),
        )
        .where(Achievement.issuer_id == issuer.id, Achievement.is_archived.is_(False))
        .order_by(AchievementVersion.name, Achievement.id)
        .limit(200)
    )
    return IssuerView(issuer, issuer_keys(session, issuer.id), [(a, v) for a, v in rows])


def issuer_key(session: Session, issuer_id: uuid.UUID, kid: str) -> tuple[Issuer, SigningKey] | None:
    issuer = session.get(Issuer, issuer_id)
    key = public_docs.find_key(session, issuer_id, kid) if issuer else None
    return (issuer, key) if issuer is not None and key is not None else None


def status_list(session: Session, list_id: uuid.UUID) -> StatusList | None:
    return session.get(StatusList, list_id)


# ---------------------------------------------------------------------------------------------
# Images


def stored_image(session: Session, storage: Storage, sha256: str | None) -> Image | None:
    if not sha256:
        return None
    row = session.get(StoredFile, sha256)
    if row is None or not storage.exists(sha256):
        return None
    with storage.open(sha256) as handle:
        return Image(handle.read(), row.media_type, sha256)


def achievement_image(session: Session, storage: Storage, achievement_id: uuid.UUID, version: int) -> Image | None:
    """A version's badge image, or the generated one showing its name."""
    loaded = public_docs.achievement_version(session, achievement_id, version)
    if loaded is None:
        return None
    achievement, row, _alignments = loaded
    image = stored_image(session, storage, row.image_sha256)
    if image is None:
        issuer = session.get(Issuer, achievement.issuer_id)
        image = Image(default_badge_svg(row.name, issuer.name if issuer else ""), "image/svg+xml", None)
    return image


def issuer_image(session: Session, storage: Storage, issuer_id: uuid.UUID) -> Image | None:
    issuer = session.get(Issuer, issuer_id)
    return stored_image(session, storage, issuer.image_sha256) if issuer else None


def qr_image(target: str, extension: str, *, title: str) -> Image:
    """The QR code of a URL: an SVG titled for screen readers, or a PNG."""
    if extension == "svg":
        return Image(badges.qr_svg(target, title=title).encode("utf-8"), "image/svg+xml", None)
    return Image(badges.qr_png(target), "image/png", None)


def public_evidence(session: Session, evidence_id: uuid.UUID) -> Evidence | None:
    """An evidence item while its learner keeps it public."""
    item = session.get(Evidence, evidence_id)
    return item if item is not None and item.visibility is Visibility.PUBLIC else None


def evidence_preview(storage: Storage, item: Evidence) -> Image | None:
    """A reduced copy of a public photo, sized for a phone, without its metadata (no place, no device)."""
    if item.media_type not in PREVIEWABLE or not item.file_sha256 or not storage.exists(item.file_sha256):
        return None
    with storage.open(item.file_sha256) as handle:
        try:
            reduced = reduce_image(handle)
        except (UnsupportedMediaType, PayloadTooLarge):
            return None
    return Image(reduced.data, reduced.media_type, None)


# ---------------------------------------------------------------------------------------------
# Baked badges


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return width, height


_SIZE = 400
_NAVY, _GOLD, _CREAM, _WHITE, _BLACK = (
    (0x1B, 0x3A, 0x5C, 255),
    (0xF4, 0xC5, 0x42, 255),
    (0xFF, 0xF8, 0xE1, 255),
    (255, 255, 255, 255),
    (0, 0, 0, 255),
)


@lru_cache(maxsize=1)
def _disc() -> bytes:
    """The round badge of the generated image (as the default SVG), RGBA rows without filter bytes."""
    out = bytearray(_SIZE * _SIZE * 4)
    centre = (_SIZE - 1) / 2
    for y in range(_SIZE):
        for x in range(_SIZE):
            r = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            colour = (
                _CREAM
                if r < 158.5
                else _NAVY
                if r < 161.5
                else _GOLD
                if r < 184
                else _NAVY
                if r < 196
                else (0, 0, 0, 0)
            )
            out[(y * _SIZE + x) * 4 : (y * _SIZE + x) * 4 + 4] = bytes(colour)
    return bytes(out)


def generated_badge_png(short_url: str) -> bytes:
    """A round PNG badge carrying the QR code of the badge's short URL (for badges drawn in SVG)."""
    pixels = bytearray(_disc())
    matrix = qr_matrix(short_url)
    modules = len(matrix) + 8  # with the quiet zone
    module = max(1, 224 // modules)
    side = modules * module
    origin = (_SIZE - side) // 2
    for y in range(side):
        row = (y // module) - 4
        start = ((origin + y) * _SIZE + origin) * 4
        line = bytearray()
        for x in range(side):
            column = (x // module) - 4
            dark = 0 <= row < len(matrix) and 0 <= column < len(matrix) and matrix[row][column]
            line += bytes(_BLACK if dark else _WHITE)
        pixels[start : start + side * 4] = line
    raw = b"".join(b"\0" + bytes(pixels[y * _SIZE * 4 : (y + 1) * _SIZE * 4]) for y in range(_SIZE))
    return write_png(_SIZE, _SIZE, raw, bit_depth=8, colour_type=6)  # RGBA


def _svg_around_png(png: bytes) -> bytes:
    width, height = _png_size(png)
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><image width="{width}" height="{height}" '
        f'href="data:image/png;base64,{data}"/></svg>'
    ).encode("ascii")


def baked_badge(
    session: Session, storage: Storage, credential: Credential, kind: str, *, urls: Urls, ob2: bool = False
) -> bytes:
    """The badge image with the signed credential baked in (PNG: OB 3.0 and the signed OB 2.0 too).

    A PNG is asked of a badge drawn in SVG: the PNG is a generated round badge whose QR code
    leads to the verification page. An SVG is asked of a PNG badge: the PNG is embedded in an SVG.
    An SVG carries one version: OB 3.0, or with ``ob2`` the signed OB 2.0 assertion (the credential
    must have one).
    """
    version = session.get(AchievementVersion, credential.achievement_version_id)
    assert version is not None
    image = achievement_image(session, storage, version.achievement_id, version.version)
    assert image is not None
    # "\u003e" keeps "]]>" out of the text, so it always fits in the SVG's CDATA section.
    text = json.dumps(credential.ob3_credential, ensure_ascii=False, separators=(",", ":")).replace(">", "\\u003e")
    if kind == "png":
        png = image.data if image.media_type == "image/png" else generated_badge_png(urls.short(credential.short_code))
        baked = badges.bake_png(png, text, "ob3")
        return badges.bake_png(baked, credential.ob2_jws, "ob2") if credential.ob2_jws else baked
    svg = image.data if image.media_type == "image/svg+xml" else _svg_around_png(image.data)
    if ob2:
        assert credential.ob2_jws is not None
        return badges.bake_svg(svg, credential.ob2_jws, "ob2", is_jws=True)
    return badges.bake_svg(svg, text, "ob3", is_jws=False)


def badge_name(session: Session, credential: Credential) -> str:
    version = session.get(AchievementVersion, credential.achievement_version_id)
    return version.name if version else "badge"


def evidence_document(item: Evidence, urls: Urls) -> dict[str, Any]:
    """A public evidence item as OB 3.0 Evidence fields (plus where its link or file is)."""
    out: dict[str, Any] = {
        "id": urls.evidence(item.id),
        "type": ["Evidence"],
        "name": item.title,
        "genre": {"file": "Fichier", "link": "Lien", "text": "Texte"}[item.kind.value],
    }
    if item.text:
        out["narrative"] = item.text
    if item.url:
        out["url"] = item.url
    if item.file_sha256:
        out["file"] = {
            "url": urls.evidence(item.id) + "?download=1",
            "mediaType": item.media_type,
            "size": item.size,
            "sha256": item.file_sha256,
        }
    return out
