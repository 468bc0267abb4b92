"""Issuing: one award becomes every signed form at once, in the caller's transaction.

For each credential: the OB 3.0 credential with an embedded ``eddsa-rdfc-2022`` proof (Ed25519),
the same credential as a VC-JWT (ES256), the OB 2.0 hosted assertion and its RS256-signed
twin, and a random index in the issuer's revocation list (the same index in the suspension
twin). Everything is stored on the row; nothing is recomputed when it is read.

Recipient: the hashed e-mail (sha256, fresh salt per credential) when the learner has one, and
``credentialSubject.id`` always — the learner's DID when set, otherwise a ``urn:uuid:`` derived
from (issuer, learner), so a VC-JWT always has its ``sub`` and an assisted learner with neither
e-mail nor DID still gets a credential. The derived id links one issuer's badges of a learner
together but not badges across issuers.

Status: the strict OB 3.0 schema allows one ``credentialStatus``, so the credential carries
its revocation entry only; suspension is a second signed list per issuer (same index),
recorded on the row and reflected by the verification page and the OB 2.0 documents.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import badges
from app.db import utcnow
from app.models import (
    Achievement,
    AchievementVersion,
    Credential,
    CredentialState,
    Issuer,
    IssuerIdentifier,
    KeyPurpose,
    Person,
    StatusList,
    StatusPurpose,
)
from app.platform.errors import Conflict, flush_versioned
from app.platform.urls import Urls, signed_ob2_id
from app.services.issuing import achievements as achievement_service
from app.services.issuing.keys import Keks, KeyRing, load_keyring
from badges import did_web

STATUS_LIST_SIZE = badges.status.MIN_ENTRIES
SUBJECT_NAMESPACE = uuid.UUID("8f6a3f2e-54b1-4c1e-9d59-0b1a7e2c6d10")
_SHORT_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud or typed from paper


@dataclass(frozen=True)
class IssuingSettings:
    """What issuing needs from the configuration: the public base URL, the KEKs, the clock."""

    urls: Urls
    keks: Keks
    clock: Callable[[], datetime] = utcnow


_SHORT_SPACE = len(_SHORT_ALPHABET) ** 10


def short_code() -> str:
    """Ten characters drawn uniformly from the alphabet, from one random number (not ten draws)."""
    number, digits = secrets.randbelow(_SHORT_SPACE), []
    for _ in range(10):
        number, digit = divmod(number, len(_SHORT_ALPHABET))
        digits.append(_SHORT_ALPHABET[digit])
    return "".join(digits)


def subject_id(issuer_id: uuid.UUID, learner: Person) -> str:
    """The learner's DID, or a ``urn:uuid:`` derived from (issuer, learner)."""
    return learner.did or f"urn:uuid:{uuid.uuid5(SUBJECT_NAMESPACE, f'{issuer_id}:{learner.id}')}"


def issuer_identifier(issuer: Issuer, urls: Urls) -> str:
    """The id the issuer's new OB 3.0 credentials carry: its https URL or its did:web (its choice)."""
    return urls.issuer_did(issuer.id) if issuer.identifier is IssuerIdentifier.DID_WEB else urls.issuer(issuer.id)


def signing_ids(urls: Urls, issuer_id: uuid.UUID, identifier: str, *, multibase: str, kid: str) -> tuple[str, str]:
    """The Data Integrity ``verificationMethod`` and the VC-JWT ``kid`` for a document issued as ``identifier``.

    Under a did:web both are DID URLs (``<did>#<multibase>``, ``<did>#<kid>``) answered by the DID
    document; under the https id, ``<issuer id>#<multibase>`` and the key's own URL. A copy of an
    older credential signed again (a wallet copy) keeps the id the credential carries.
    """
    if did_web.is_did_web(identifier):
        return f"{identifier}#{multibase}", f"{identifier}#{kid}"
    return urls.verification_method(issuer_id, multibase), urls.key(issuer_id, kid)


def issuer_profile(issuer: Issuer, urls: Urls) -> badges.Profile:
    """The issuer Profile embedded in every credential (its id: :func:`issuer_identifier`)."""
    return badges.Profile(
        id=issuer_identifier(issuer, urls),
        name=issuer.name,
        url=issuer.url,
        email=issuer.email,
        description=issuer.description or None,
        image=badges.Image(urls.issuer_image(issuer.id)) if issuer.image_sha256 else None,
    )


# ---------------------------------------------------------------------------------------------
# Status lists


def sign_status_list(status_list: StatusList, ring: KeyRing, settings: IssuingSettings) -> None:
    """Rebuild and sign the list's BitstringStatusListCredential from its bits."""
    bits = badges.StatusList(size=status_list.size, bits=bytearray(status_list.bits))
    now = settings.clock()
    document = badges.build_status_list_credential(
        id=settings.urls.status_list(status_list.id),
        issuer=settings.urls.issuer(status_list.issuer_id),
        status_list=bits,
        purpose=status_list.purpose.value,
        valid_from=now,
    )
    row = ring.row(KeyPurpose.DATA_INTEGRITY)
    assert row.public_key_multibase is not None
    status_list.signed_credential = badges.sign_data_integrity(
        document,
        ring.key(KeyPurpose.DATA_INTEGRITY),
        settings.urls.verification_method(status_list.issuer_id, row.public_key_multibase),
        created=now,
    )
    status_list.updated_at = now


def create_status_lists(session: Session, issuer_id: uuid.UUID, ring: KeyRing, settings: IssuingSettings) -> StatusList:
    """A new revocation list and its suspension twin, both signed; return the revocation list."""
    empty = bytes(STATUS_LIST_SIZE // 8)
    now = settings.clock()
    revocation = StatusList(
        id=uuid.uuid4(),
        issuer_id=issuer_id,
        purpose=StatusPurpose.REVOCATION,
        size=STATUS_LIST_SIZE,
        next_index=0,
        bits=empty,
        allocated=empty,
        created_at=now,
    )
    suspension = StatusList(
        id=uuid.uuid4(),
        issuer_id=issuer_id,
        purpose=StatusPurpose.SUSPENSION,
        size=STATUS_LIST_SIZE,
        next_index=0,
        bits=empty,
        created_at=now,
    )
    sign_status_list(revocation, ring, settings)
    sign_status_list(suspension, ring, settings)
    session.add_all([revocation, suspension])
    session.flush()
    revocation.twin_id, suspension.twin_id = suspension.id, revocation.id  # both rows exist now
    session.flush()
    return revocation


def resign_status_lists(session: Session, issuer_id: uuid.UUID, settings: IssuingSettings) -> int:
    """Re-sign every list of the issuer with its current key (after a key is compromised)."""
    ring = load_keyring(session, issuer_id, settings.keks)
    lists = list(
        session.scalars(
            select(StatusList)
            .where(StatusList.issuer_id == issuer_id)
            .order_by(StatusList.created_at)
            .with_for_update()
        )
    )
    for status_list in lists:
        sign_status_list(status_list, ring, settings)
    flush_versioned(session, "status list")
    return len(lists)


def set_status_bit(status_list: StatusList, index: int, value: bool) -> bool:
    """Set or clear one bit; return whether it changed."""
    bits = bytearray(status_list.bits)
    byte, mask = index >> 3, 0x80 >> (index & 7)
    before = bool(bits[byte] & mask)
    if before == value:
        return False
    bits[byte] = bits[byte] | mask if value else bits[byte] & ~mask & 0xFF
    status_list.bits = bytes(bits)
    return True


class StatusSlots:
    """Hands out random, never reused indexes of an issuer's open revocation list.

    The open list's row is locked (SELECT … FOR UPDATE) on first use and stays locked until
    the transaction ends, so concurrent awards of one issuer queue there instead of racing for
    an index; a full list rolls over to a new pair. Indexes are taken in memory: the row (its
    allocation bitmap and count) is written once, by :meth:`flush`, not once per credential.
    """

    def __init__(self, session: Session, issuer_id: uuid.UUID, ring: KeyRing, settings: IssuingSettings) -> None:
        self.session, self.issuer_id, self.ring, self.settings = session, issuer_id, ring, settings
        self._list: StatusList | None = None
        self._used = bytearray()
        self._next = 0  # indexes handed out from the open list, these included

    def _open(self) -> StatusList:
        row = self.session.scalar(
            select(StatusList)
            .where(
                StatusList.issuer_id == self.issuer_id,
                StatusList.purpose == StatusPurpose.REVOCATION,
                StatusList.next_index < StatusList.size,
            )
            .order_by(StatusList.created_at, StatusList.id)
            .limit(1)
            .with_for_update()
        )
        if row is None:
            row = create_status_lists(self.session, self.issuer_id, self.ring, self.settings)
        self._used = bytearray(row.allocated or bytes(row.size // 8))
        self._next = row.next_index
        return row

    def take(self) -> tuple[StatusList, int]:
        if self._list is None:
            self._list = self._open()
        status_list = self._list
        size, used = status_list.size, self._used
        if self._next >= size:
            self.flush()
            self._list = None
            return self.take()
        index = -1
        for _ in range(64):  # random probing is quick while the list is sparse
            candidate = secrets.randbelow(size)
            if not used[candidate >> 3] & (0x80 >> (candidate & 7)):
                index = candidate
                break
        if index < 0:
            start = secrets.randbelow(size)
            for offset in range(size):
                candidate = (start + offset) % size
                if not used[candidate >> 3] & (0x80 >> (candidate & 7)):
                    index = candidate
                    break
        used[index >> 3] |= 0x80 >> (index & 7)
        self._next += 1
        return status_list, index

    def flush(self) -> None:
        """Write the allocation bitmap and count back to the list row (flushed with the session)."""
        if self._list is not None:
            self._list.allocated = bytes(self._used)
            self._list.next_index = self._next


# ---------------------------------------------------------------------------------------------
# Credentials


@dataclass
class _Class:
    achievement: Achievement
    version: AchievementVersion
    ob3: badges.Achievement


@dataclass
class Issuance:
    """Signs credentials of one issuer: keys decrypted once, achievements built once.

    Use one per transaction; call :meth:`finish` before the final flush.
    """

    session: Session
    issuer: Issuer
    settings: IssuingSettings
    ring: KeyRing = field(init=False)
    profile: badges.Profile = field(init=False)
    _classes: dict[uuid.UUID, _Class] = field(default_factory=dict, init=False)
    _slots: StatusSlots | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.ring = load_keyring(self.session, self.issuer.id, self.settings.keks)
        self.profile = issuer_profile(self.issuer, self.settings.urls)

    @classmethod
    def for_issuer(cls, session: Session, issuer_id: uuid.UUID, settings: IssuingSettings) -> Issuance:
        issuer = session.get(Issuer, issuer_id)
        assert issuer is not None
        return cls(session, issuer, settings)

    def badge_class(self, version: AchievementVersion) -> _Class:
        cached = self._classes.get(version.id)
        if cached is None:
            achievement = self.session.get(Achievement, version.achievement_id)
            assert achievement is not None
            ob3 = achievement_service.ob3_achievement(
                achievement, version, achievement_service.alignments_of(self.session, version.id), self.settings.urls
            )
            cached = self._classes[version.id] = _Class(achievement, version, ob3)
        return cached

    @property
    def slots(self) -> StatusSlots:
        if self._slots is None:
            self._slots = StatusSlots(self.session, self.issuer.id, self.ring, self.settings)
        return self._slots

    def issue(self, credential: Credential, learner: Person, version: AchievementVersion) -> Credential:
        """Sign every form of ``credential`` (a new or proposed row) and mark it issued."""
        if credential.state not in (CredentialState.PROPOSED,):
            raise Conflict("Only a proposed award can be issued.")
        if credential.id is None:
            credential.id = uuid.uuid4()
        for name, value in self.signed_columns(credential.id, learner, version, credential.award_data).items():
            setattr(credential, name, value)
        return credential

    def signed_columns(
        self, credential_id: uuid.UUID, learner: Person, version: AchievementVersion, award_data: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Every signed form of one award and the columns that go with it, as column values.

        :meth:`issue` sets them on a row object; a bulk award inserts them as they are (no
        unit-of-work bookkeeping per credential).
        """
        urls, ring = self.settings.urls, self.ring
        now = self.settings.clock()
        klass = self.badge_class(version)
        status_list, index = self.slots.take()
        valid_until = now + timedelta(days=version.valid_for_days) if version.valid_for_days else None
        salt = secrets.token_hex(8)
        subject = subject_id(self.issuer.id, learner)
        data = award_data or {}
        evidence = tuple(
            badges.Evidence(
                id=e.get("id"),
                name=e.get("name"),
                narrative=e.get("narrative"),
                description=e.get("description"),
                genre=e.get("genre"),
            )
            for e in data.get("evidence") or []
        )
        results: tuple[badges.Result, ...] = ()
        if data.get("result") and version.result_descriptions:
            results = (
                badges.Result(
                    result_description=urls.result_description(klass.achievement.id, version.version),
                    value=str(data["result"]),
                ),
            )
        award = badges.Award(
            id=urls.credential(credential_id),
            issuer=self.profile,
            recipient=badges.Recipient(did=subject, email=learner.email, salt=salt if learner.email else None),
            achievement=klass.ob3,
            valid_from=now,
            valid_until=valid_until,
            awarded_date=now,
            evidence=evidence,
            results=results,
            narrative=data.get("narrative") or None,
            status=(badges.StatusEntry(urls.status_list(status_list.id), index=index),),
        )
        unsigned = badges.build_ob3_credential(award)
        di_row, jwt_row, ob2_row = (
            ring.row(KeyPurpose.DATA_INTEGRITY),
            ring.row(KeyPurpose.VC_JWT),
            ring.row(KeyPurpose.OB2),
        )
        assert di_row.public_key_multibase is not None
        method, kid = signing_ids(
            urls, self.issuer.id, self.profile.id, multibase=di_row.public_key_multibase, kid=jwt_row.kid
        )
        hosted, signed = self._ob2(credential_id, learner, version, subject, salt, now, valid_until, data)
        identifier = unsigned["credentialSubject"].get("identifier")
        if version.first_awarded_at is None:
            version.first_awarded_at = now
        return {
            "status_list_id": status_list.id,
            "suspension_list_id": status_list.twin_id,
            "status_index": index,
            "ob3_credential": badges.sign_data_integrity(
                unsigned, ring.key(KeyPurpose.DATA_INTEGRITY), method, created=now
            ),
            "ob3_jwt": badges.sign_vc_jwt(unsigned, ring.key(KeyPurpose.VC_JWT), kid=kid),
            "ob2_assertion": hosted,
            "ob2_jws": badges.sign_ob2_assertion(signed, ring.key(KeyPurpose.OB2)),
            "recipient_salt": salt,
            "recipient_hash": identifier[0]["identityHash"] if identifier else None,
            "recipient_did": learner.did,
            "valid_from": now,
            "valid_until": valid_until,
            "awarded_at": now,
            "signing_key_ids": [str(di_row.id), str(jwt_row.id), str(ob2_row.id)],
            "state": CredentialState.ISSUED,
        }

    def _ob2(
        self,
        credential_id: uuid.UUID,
        learner: Person,
        version: AchievementVersion,
        subject: str,
        salt: str,
        now: datetime,
        valid_until: datetime | None,
        data: dict[str, Any],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        urls = self.settings.urls
        klass = self.badge_class(version)
        common: dict[str, Any] = dict(
            badge=urls.ob2_badgeclass(version.id),
            recipient_email=learner.email or "-",
            salt=salt,
            issued_on=now,
            expires=valid_until,
            evidence=tuple(e["id"] for e in data.get("evidence") or [] if e.get("id")),
            narrative=data.get("narrative") or None,
            image=urls.achievement_image(klass.achievement.id, version.version) if version.image_sha256 else None,
        )
        hosted = badges.build_ob2_assertion(badges.OB2Assertion(id=urls.ob2_assertion(credential_id), **common))
        signed = badges.build_ob2_assertion(
            badges.OB2Assertion(
                id=signed_ob2_id(credential_id), signed_by=urls.ob2_key(self.ring.row(KeyPurpose.OB2).kid), **common
            )
        )
        if not learner.email:
            # OB 2.0 recipients are e-mail, URL or telephone; without an e-mail the subject id
            # (DID or urn:uuid) stands in, hashed like an address.
            recipient = {"type": "url", "hashed": True, "salt": salt, "identity": badges.hash_identity(subject, salt)}
            hosted["recipient"] = signed["recipient"] = recipient
        return hosted, signed

    def finish(self) -> None:
        """Write back what the batch changed on the status lists, then flush."""
        if self._slots is not None:
            self._slots.flush()
        flush_versioned(self.session, "status list")


def new_credential_values(
    *,
    issuer_id: uuid.UUID,
    version: AchievementVersion,
    learner: Person,
    origin: str,
    award_data: dict[str, Any],
    created_by_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The columns of an award row, still proposed (unsigned) until it is signed."""
    return {
        "id": uuid.uuid4(),
        "issuer_id": issuer_id,
        "achievement_version_id": version.id,
        "learner_id": learner.id,
        "state": CredentialState.PROPOSED,
        "short_code": short_code(),
        "idempotency_key": achievement_service.idempotency_key(version.id, learner.id),
        "origin": origin,
        "award_data": award_data,
        "created_by_id": created_by_id,
        "signing_key_ids": [],
    }


def new_credential(
    *,
    issuer_id: uuid.UUID,
    version: AchievementVersion,
    learner: Person,
    origin: str,
    award_data: dict[str, Any],
    created_by_id: uuid.UUID | None,
) -> Credential:
    """An award row, still proposed (unsigned) until :meth:`Issuance.issue`."""
    return Credential(
        **new_credential_values(
            issuer_id=issuer_id,
            version=version,
            learner=learner,
            origin=origin,
            award_data=award_data,
            created_by_id=created_by_id,
        )
    )
