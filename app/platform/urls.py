"""The public URL of every issued thing, in one place: what is signed here is what is served.

Everything lives under the configured public base URL (``PUBLIC_BASE_URL``), which services
receive as an argument. These URLs are written into signed credentials, so they must never
change once a credential carries them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from badges import did_web


@dataclass(frozen=True)
class Urls:
    """Builders of the stable public URLs under ``base`` (no trailing slash)."""

    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/"))

    # Open Badges 3.0 and the controller document -------------------------------------------
    def issuer(self, issuer_id: uuid.UUID) -> str:
        """The issuer id: serves the controller document (Ed25519 Multikeys) and the Profile."""
        return f"{self.base}/issuers/{issuer_id}"

    def issuer_image(self, issuer_id: uuid.UUID) -> str:
        return f"{self.base}/issuers/{issuer_id}/image"

    def key(self, issuer_id: uuid.UUID, kid: str) -> str:
        """A key: the bare JWK (VC-JWT kid) or a Multikey document (Data Integrity)."""
        return f"{self.base}/issuers/{issuer_id}/keys/{kid}"

    def verification_method(self, issuer_id: uuid.UUID, multibase: str) -> str:
        """The Data Integrity ``verificationMethod``: ``<issuer id>#<publicKeyMultibase>``."""
        return f"{self.issuer(issuer_id)}#{multibase}"

    def jwks(self, issuer_id: uuid.UUID) -> str:
        """The issuer's public keys as a JWK Set (every purpose and state; ``status`` says which)."""
        return f"{self.issuer(issuer_id)}/jwks.json"

    def did_document(self, issuer_id: uuid.UUID) -> str:
        """The DID document of :meth:`issuer_did` (where ``did:web`` resolution fetches it)."""
        return f"{self.issuer(issuer_id)}/did.json"

    def issuer_did(self, issuer_id: uuid.UUID) -> str:
        """The issuer's ``did:web``, derived from its https id (``did:web:<host>:issuers:<uuid>``)."""
        return did_web.did_from_url(self.issuer(issuer_id))

    def achievement(self, achievement_id: uuid.UUID, version: int) -> str:
        return f"{self.base}/achievements/{achievement_id}/v/{version}"

    def achievement_image(self, achievement_id: uuid.UUID, version: int) -> str:
        return f"{self.achievement(achievement_id, version)}/image"

    def result_description(self, achievement_id: uuid.UUID, version: int) -> str:
        return f"{self.achievement(achievement_id, version)}#level"

    def credential(self, credential_id: uuid.UUID) -> str:
        """The OB 3.0 credential id, and its verification page."""
        return f"{self.base}/credentials/{credential_id}"

    def short(self, short_code: str) -> str:
        """The short URL a QR code points at; it redirects to the verification page."""
        return f"{self.base}/c/{short_code}"

    def baked(self, credential_id: uuid.UUID, extension: str) -> str:
        """A baked badge image to download (``png`` or ``svg``), built from the stored forms."""
        return f"{self.credential(credential_id)}/badge.{extension}"

    def baked_ob2_svg(self, credential_id: uuid.UUID) -> str:
        """The SVG with the signed OB 2.0 assertion baked in, for tools that read only OB 2.0.

        One SVG cannot carry both: OB 2.0 and 3.0 bind the same ``openbadges`` prefix to two namespaces.
        """
        return f"{self.credential(credential_id)}/badge-ob2.svg"

    def qr(self, credential_id: uuid.UUID, extension: str = "svg") -> str:
        """The QR code of the short URL, as an image."""
        return f"{self.credential(credential_id)}/qr.{extension}"

    def jwt(self, credential_id: uuid.UUID) -> str:
        """The VC-JWT as text (also by content negotiation on the credential URL)."""
        return f"{self.credential(credential_id)}/jwt"

    def status_list(self, status_list_id: uuid.UUID) -> str:
        return f"{self.base}/status/{status_list_id}"

    def evidence(self, evidence_id: uuid.UUID) -> str:
        """A public evidence item's page."""
        return f"{self.base}/evidence/{evidence_id}"

    # Open Badges 2.0 -------------------------------------------------------------------
    def ob2_issuer(self, issuer_id: uuid.UUID) -> str:
        return f"{self.base}/ob2/issuers/{issuer_id}"

    def ob2_assertion(self, credential_id: uuid.UUID) -> str:
        """The hosted OB 2.0 assertion (HTTP 410 once revoked or suspended)."""
        return f"{self.base}/ob2/assertions/{credential_id}"

    def ob2_badgeclass(self, achievement_version_id: uuid.UUID) -> str:
        return f"{self.base}/ob2/badgeclasses/{achievement_version_id}"

    def ob2_key(self, kid: str) -> str:
        return f"{self.base}/ob2/keys/{kid}"

    def ob2_revocations(self, issuer_id: uuid.UUID) -> str:
        return f"{self.base}/ob2/issuers/{issuer_id}/revocations"


def signed_ob2_id(credential_id: uuid.UUID) -> str:
    """The id of the signed OB 2.0 assertion (a URN, as the spec recommends for signed badges)."""
    return f"urn:uuid:{credential_id}"
