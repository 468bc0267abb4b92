"""OpenID for Verifiable Credential Issuance 1.0: the issuer side, pre-authorized code flow.

A learner (or their facilitator) creates an *offer* for one of their badges: a single-use
pre-authorized code, valid ten minutes, optionally guarded by a transaction code for offers shown
on a shared screen. The wallet trades the code for a short-lived access token at the token
endpoint, fetches a ``c_nonce`` at the nonce endpoint and asks the credential endpoint for the
``OpenBadgeCredential`` with a key proof (:mod:`~app.services.issuing.oid4vci_proofs`). The answer
is a *wallet copy* (:mod:`~app.services.issuing.oid4vci_copies`): the same award bound to the
holder's DID, with the original's status entry — so revoking the award flips the copy in the same step.

Secrets (codes, tokens, nonces) are stored only as SHA-256 and never logged; expired ones are
deleted (:func:`sweep`: a few on each token and nonce call, the rest by the worker's periodic job).
Errors are the specification's: :class:`ProtocolError` carries the ``error`` code and HTTP status.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

import badges
from app.models import Credential, CredentialState, WalletAccessToken, WalletCopy, WalletNonce, WalletOffer
from app.platform.errors import Conflict, FieldError, InvalidInput
from app.platform.urls import Urls
from app.services.identity import audit
from app.services.identity.access import Grants
from app.services.issuing import wallet
from app.services.issuing.oid4vci_copies import sign_copy
from app.services.issuing.oid4vci_proofs import (
    NONCE_TTL,
    PROOF_ALGORITHMS,
    ProtocolError,
    check_proof,
    issue_nonce,
    proof_jwt,
    secret_hash,
)
from app.services.issuing.signing import IssuingSettings

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
# One credential type, two formats: the Data Integrity document and the VC-JWT.
CONFIGURATIONS = {"OpenBadgeCredential_ldp_vc": "ldp_vc", "OpenBadgeCredential_jwt_vc_json": "jwt_vc_json"}
OFFER_TTL = timedelta(minutes=10)
TOKEN_TTL = timedelta(minutes=5)
TX_CODE_LENGTH = 6
MAX_TX_CODE_ATTEMPTS = 3
OB3_CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
# Expired rows deleted by one token or nonce call (the worker's periodic sweep takes the rest).
SWEEP_ON_CALL = 50


# ---------------------------------------------------------------------------------------------
# Metadata


def endpoints(urls: Urls) -> dict[str, str]:
    """The credential issuer identifier and its endpoints (the issuer is Blason's base URL)."""
    base = urls.base
    return {
        "issuer": base,
        "token": f"{base}/api/oid4vci/token",
        "nonce": f"{base}/api/oid4vci/nonce",
        "credential": f"{base}/api/oid4vci/credential",
    }


def issuer_metadata(urls: Urls, *, display_name: str = "Blason") -> dict[str, Any]:
    """The credential issuer metadata (``/.well-known/openid-credential-issuer``)."""
    where = endpoints(urls)
    proof_types = {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}}
    common = {
        "scope": "OpenBadgeCredential",
        "cryptographic_binding_methods_supported": ["did:key", "did:jwk", "jwk"],
        "proof_types_supported": proof_types,
        "credential_metadata": {"display": [{"name": "Open Badge", "locale": "fr-FR"}]},
        "display": [{"name": "Open Badge", "locale": "fr-FR"}],
    }
    return {
        "credential_issuer": where["issuer"],
        "authorization_servers": [where["issuer"]],
        "credential_endpoint": where["credential"],
        "nonce_endpoint": where["nonce"],
        "display": [{"name": display_name, "locale": "fr-FR"}],
        "credential_configurations_supported": {
            "OpenBadgeCredential_ldp_vc": {
                "format": "ldp_vc",
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                "credential_definition": {"@context": OB3_CONTEXTS, "type": CREDENTIAL_TYPES},
                **common,
            },
            "OpenBadgeCredential_jwt_vc_json": {
                "format": "jwt_vc_json",
                "credential_signing_alg_values_supported": ["ES256"],
                "credential_definition": {"type": CREDENTIAL_TYPES},
                **common,
            },
        },
    }


def authorization_server_metadata(urls: Urls) -> dict[str, Any]:
    """The OAuth 2.0 authorization server metadata (RFC 8414) the issuer metadata points to."""
    where = endpoints(urls)
    return {
        "issuer": where["issuer"],
        "token_endpoint": where["token"],
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],
    }


# ---------------------------------------------------------------------------------------------
# Offers (the learner's side)


@dataclass(frozen=True)
class CreatedOffer:
    """An offer just made: the secrets in it are shown now and never again."""

    offer: WalletOffer
    credential_offer: dict[str, Any]
    offer_uri: str
    tx_code: str | None

    @property
    def expires_at(self) -> datetime:
        return self.offer.expires_at

    @property
    def qr_svg(self) -> str:
        """The offer link as a QR code for a wallet's camera (medium error correction: a long link)."""
        return badges.qr_svg(self.offer_uri, error_correction="M", title="Offre pour un portefeuille")


def _offerable(credential: Credential, now: datetime) -> None:
    if credential.state is not CredentialState.ISSUED:
        raise Conflict(f"A {credential.state.value} badge cannot be put into a wallet.")
    if credential.valid_until is not None and now > credential.valid_until:
        raise Conflict("An expired badge cannot be put into a wallet.")


def create_offer(
    session: Session,
    grants: Grants,
    credential_id: uuid.UUID,
    *,
    with_tx_code: bool,
    settings: IssuingSettings,
    configurations: Sequence[str] | None = None,
) -> CreatedOffer:
    """A credential offer for one of my badges (pre-authorized code; a transaction code if asked).

    ``configurations`` narrows the offer to some of :data:`CONFIGURATIONS` (all by default): a
    wallet takes the first one it is offered.
    """
    credential = wallet.my_credential(session, grants, credential_id)
    now = settings.clock()
    _offerable(credential, now)
    offered = list(configurations) if configurations else list(CONFIGURATIONS)
    unknown = [name for name in offered if name not in CONFIGURATIONS]
    if unknown or len(set(offered)) != len(offered):
        raise InvalidInput(
            "Unknown or repeated credential configuration.",
            errors=[FieldError("#/configurations", "One or both of: " + ", ".join(CONFIGURATIONS))],
        )
    code = secrets.token_urlsafe(32)
    tx_code = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH)) if with_tx_code else None
    offer = WalletOffer(
        id=uuid.uuid4(),
        credential_id=credential.id,
        code_hash=secret_hash(code),
        tx_code_hash=secret_hash(tx_code) if tx_code else None,
        configuration_ids=offered,
        created_by_id=grants.actor.id,
        created_at=now,
        expires_at=now + OFFER_TTL,
        attempts=0,
    )
    session.add(offer)
    session.flush()
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if tx_code:
        grant["tx_code"] = {"length": TX_CODE_LENGTH, "input_mode": "numeric", "description": "Code Blason"}
    document = {
        "credential_issuer": settings.urls.base,
        "credential_configuration_ids": offered,
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }
    uri = OFFER_SCHEME + "?credential_offer=" + quote(json.dumps(document, separators=(",", ":")), safe="")
    audit.record(
        session,
        grants.actor,
        "credential.wallet_offer",
        "credential",
        credential.id,
        {"offer": str(offer.id), "txCode": bool(tx_code)},
        clock=settings.clock,
    )
    return CreatedOffer(offer, document, uri, tx_code)


# ---------------------------------------------------------------------------------------------
# Token and nonce endpoints


def sweep(session: Session, *, now: datetime, limit: int) -> int:
    """Delete up to ``limit`` expired rows of each kind; return how many went.

    Nonces and access tokens once expired; offers once expired longer than a token they gave can
    live, unless they delivered a copy (the copy names its offer: the offer, its code long used,
    stays as the copy's record). Bounded per table, and safe to run concurrently.
    """
    gone = 0
    for table, when in (
        (WalletNonce, WalletNonce.expires_at < now),
        (WalletAccessToken, WalletAccessToken.expires_at < now),
        (
            WalletOffer,
            (WalletOffer.expires_at < now - TOKEN_TTL)
            & ~exists().where(WalletCopy.offer_id == WalletOffer.id)
            & ~exists().where(WalletAccessToken.offer_id == WalletOffer.id),
        ),
    ):
        # Rows another transaction holds (an offer at the token endpoint, another sweep's) are skipped.
        batch = select(table.id).where(when).order_by(table.id).limit(limit)
        ids = list(session.scalars(batch.with_for_update(skip_locked=True, of=table)))
        if ids:
            session.execute(delete(table).where(table.id.in_(ids)), execution_options={"synchronize_session": False})
            gone += len(ids)
    return gone


def new_nonce(session: Session, *, settings: IssuingSettings) -> dict[str, Any]:
    """The nonce endpoint's answer: a fresh ``c_nonce`` (a few expired rows are swept meanwhile)."""
    now = settings.clock()
    sweep(session, now=now, limit=SWEEP_ON_CALL)
    nonce = issue_nonce(session, now)
    session.flush()
    return {"c_nonce": nonce}


def exchange_code(session: Session, form: Mapping[str, str], *, settings: IssuingSettings) -> dict[str, Any]:
    """The token endpoint: a pre-authorized code (and its transaction code) for an access token.

    A wrong transaction code counts against the offer, which dies at the third. The caller commits
    even when this raises, so that the count sticks.
    """
    grant_type = form.get("grant_type")
    if not grant_type:
        raise ProtocolError("invalid_request", "grant_type is missing.")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise ProtocolError("unsupported_grant_type", "Only the pre-authorized code grant is supported.")
    code = form.get("pre-authorized_code")
    if not code:
        raise ProtocolError("invalid_request", "pre-authorized_code is missing.")
    now = settings.clock()
    sweep(session, now=now, limit=SWEEP_ON_CALL)
    offer = session.scalar(select(WalletOffer).where(WalletOffer.code_hash == secret_hash(code)).with_for_update())
    if offer is None or offer.used_at is not None or now >= offer.expires_at:
        raise ProtocolError("invalid_grant", "The pre-authorized code is unknown, used or expired.")
    sent_tx = form.get("tx_code")
    if offer.tx_code_hash is None and sent_tx:
        raise ProtocolError("invalid_request", "This offer expects no transaction code.")
    if offer.tx_code_hash is not None:
        if not sent_tx:
            raise ProtocolError("invalid_request", "This offer expects a transaction code (tx_code).")
        if not secrets.compare_digest(secret_hash(sent_tx), offer.tx_code_hash):
            offer.attempts += 1
            if offer.attempts >= MAX_TX_CODE_ATTEMPTS:
                offer.used_at = now  # guessing is over: the learner makes a new offer
            session.flush()
            raise ProtocolError("invalid_grant", "The transaction code does not match.")
    credential = session.get(Credential, offer.credential_id)
    assert credential is not None
    if credential.state is not CredentialState.ISSUED:
        raise ProtocolError("invalid_grant", "This badge can no longer be delivered.")
    offer.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        WalletAccessToken(
            id=uuid.uuid4(),
            offer_id=offer.id,
            token_hash=secret_hash(token),
            created_at=now,
            expires_at=now + TOKEN_TTL,
        )
    )
    session.flush()
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(TOKEN_TTL.total_seconds()),
        "c_nonce": issue_nonce(session, now),  # for wallets of the earlier drafts; 1.0 asks the nonce endpoint
        "c_nonce_expires_in": int(NONCE_TTL.total_seconds()),
    }


# ---------------------------------------------------------------------------------------------
# Credential endpoint


def _access(session: Session, access_token: str | None, now: datetime) -> WalletOffer:
    row = (
        session.scalar(select(WalletAccessToken).where(WalletAccessToken.token_hash == secret_hash(access_token)))
        if access_token
        else None
    )
    if row is None or now >= row.expires_at:
        raise ProtocolError("invalid_token", "The access token is unknown or expired.", 401)
    offer = session.get(WalletOffer, row.offer_id)
    assert offer is not None
    return offer


def _configuration(body: Mapping[str, Any]) -> str:
    if "credential_identifier" in body:
        raise ProtocolError(
            "invalid_credential_request", "No credential_identifier was issued: name the configuration."
        )
    configuration = body.get("credential_configuration_id")
    if configuration is None:  # the drafts' request by format
        by_format = {fmt: name for name, fmt in CONFIGURATIONS.items()}
        fmt = body.get("format")
        if not isinstance(fmt, str):
            raise ProtocolError("invalid_credential_request", "credential_configuration_id is missing.")
        if fmt not in by_format:
            raise ProtocolError("unsupported_credential_format", f"The format {fmt!r} is not offered.")
        configuration = by_format[fmt]
    if not isinstance(configuration, str) or configuration not in CONFIGURATIONS:
        raise ProtocolError("unknown_credential_configuration", "This credential configuration is not offered.")
    return configuration


def issue_credential(
    session: Session, access_token: str | None, body: Any, *, settings: IssuingSettings
) -> dict[str, Any]:
    """The credential endpoint: check the token, the request and the key proof; sign the wallet copy."""
    now = settings.clock()
    offer = _access(session, access_token, now)
    if not isinstance(body, Mapping):
        raise ProtocolError("invalid_credential_request", "The request body is a JSON object.")
    configuration = _configuration(body)
    if configuration not in offer.configuration_ids:
        raise ProtocolError("invalid_credential_request", "This configuration was not offered with this token.")
    fmt = CONFIGURATIONS[configuration]
    taken = session.scalar(select(WalletCopy.id).where(WalletCopy.offer_id == offer.id, WalletCopy.format == fmt))
    if taken is not None:
        raise ProtocolError("credential_request_denied", "This offer already delivered the credential in this format.")
    holder = check_proof(session, proof_jwt(body), settings=settings)
    credential = session.get(Credential, offer.credential_id)
    assert credential is not None
    if credential.state is not CredentialState.ISSUED:
        raise ProtocolError("credential_request_denied", "This badge is revoked or suspended.")
    delivered = sign_copy(session, credential, offer, holder.did, fmt, settings=settings)
    audit.record(
        session,
        None,
        "credential.wallet_copy",
        "credential",
        credential.id,
        {"copy": str(delivered.id), "format": fmt, "holder": holder.did[:200]},
        clock=settings.clock,
    )
    document = delivered.jwt if fmt == "jwt_vc_json" else delivered.document
    return {"credentials": [{"credential": document}], "notification_id": str(delivered.id)}
