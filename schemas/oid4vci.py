"""Wallet offers (OpenID4VCI): what a learner asks for, and the offer they get back."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import CamelSchema
from schemas.issuing import CredentialDetailSchema, CredentialSchema

CONFIGURATIONS = ("OpenBadgeCredential_ldp_vc", "OpenBadgeCredential_jwt_vc_json")


class WalletOfferCreateSchema(CamelSchema):
    tx_code = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Guard the offer with a 6-digit transaction code (an offer shown on a shared screen)."
        },
    )
    configurations = fields.List(
        fields.String(validate=validate.OneOf(CONFIGURATIONS)),
        load_default=None,
        validate=validate.Length(min=1, max=2),
        metadata={"description": "The credential configurations to offer (default: both formats)."},
    )


class WalletOfferSchema(CamelSchema):
    offer_uri = fields.String(
        metadata={"description": "The openid-credential-offer:// link (the offer by value, with its one-use code)."}
    )
    credential_offer = fields.Dict(metadata={"description": "The credential offer object the link carries."})
    qr_svg = fields.String(metadata={"description": "The offer link as a QR code (SVG) for a wallet to scan."})
    tx_code = fields.String(
        allow_none=True, metadata={"description": "The transaction code to type into the wallet, when asked for."}
    )
    expires_at = fields.DateTime(metadata={"description": "The pre-authorized code works once, until then."})


class WalletCopySchema(CamelSchema):
    id = fields.UUID(metadata={"description": "The copy's own id (its credential id is urn:uuid:<id>)."})
    format = fields.String(metadata={"description": "ldp_vc (Data Integrity) or jwt_vc_json (VC-JWT)."})
    holder_did = fields.String(
        metadata={"description": "The holder's DID the copy is bound to (credentialSubject.id)."}
    )
    created_at = fields.DateTime(metadata={"description": "When the wallet took it."})


_COPIES = (
    "The copies of this credential taken into wallets (OpenID4VCI), oldest first; revoking the credential revokes them."
)


class CredentialWithCopiesSchema(CredentialSchema):
    wallet_copies = fields.List(fields.Nested(WalletCopySchema), metadata={"description": _COPIES})


class CredentialDetailWithCopiesSchema(CredentialDetailSchema):
    wallet_copies = fields.List(fields.Nested(WalletCopySchema), metadata={"description": _COPIES})
