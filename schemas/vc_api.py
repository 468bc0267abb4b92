"""The W3C VC-API endpoints and their OAuth 2.0 token endpoint, as the OpenAPI description shows them.

``POST /oauth/token``, ``POST /credentials/issue`` and ``POST /credentials/verify`` are served
outside ``/api/v1`` (app.web.vc_api reads their bodies itself, as the VC-API and RFC 6749 shape
them); these schemas and :data:`PATHS` only describe them. They are authorised by a client of an
issuer, never by a person: HTTP Basic (or the form) with the client's secret for a token, then
that token (scheme ``vcApiClient``), so X-Act-For has no meaning there.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from schemas.base import ProblemSchema

SCOPES = {"issue": "Sign credentials as the client's issuer", "verify": "Verify credentials"}
OAUTH_ERRORS = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unsupported_grant_type",
    "invalid_scope",
    "slow_down",
)
CLIENT_SCHEME = "vcApiClient"
BASIC_SCHEME = "vcApiClientSecret"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    CLIENT_SCHEME: {
        "type": "oauth2",
        "description": "An access token of an issuer's registered VC-API client (client credentials grant).",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": SCOPES}},
    },
    BASIC_SCHEME: {
        "type": "http",
        "scheme": "basic",
        "description": "client_id:client_secret of a registered VC-API client (RFC 6749 §2.3.1); "
        "or client_id and client_secret in the form.",
    },
}


class OAuthTokenRequestSchema(Schema):
    grant_type = fields.String(required=True, validate=validate.OneOf(["client_credentials"]))
    scope = fields.String(metadata={"description": "Space-separated subset of the client's scopes (issue, verify)"})
    client_id = fields.String(metadata={"description": "client_secret_post: instead of HTTP Basic"})
    client_secret = fields.String(metadata={"description": "client_secret_post: instead of HTTP Basic"})


class OAuthTokenSchema(Schema):
    access_token = fields.String(required=True, metadata={"description": "An EdDSA JWT, audience blason-vc-api"})
    token_type = fields.String(required=True, validate=validate.OneOf(["Bearer"]))
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds (600)"})
    scope = fields.String(required=True)


class OAuthErrorSchema(Schema):
    """RFC 6749 §5.2: what the token endpoint answers instead of problem+json."""

    error = fields.String(required=True, validate=validate.OneOf(OAUTH_ERRORS))
    error_description = fields.String()


class VcApiIssueOptionsSchema(Schema):
    credentialId = fields.String()
    verificationMethod = fields.String(
        metadata={"description": "Must be the issuer's own key, in the form of the issuer id the credential uses"}
    )


class VcApiIssueRequestSchema(Schema):
    credential = fields.Dict(
        required=True,
        metadata={
            "description": "A VC Data Model 2.0 credential without proof; issuer (the client's issuer: its https "
            "URL or its did:web) and validFrom are filled in when absent"
        },
    )
    options = fields.Nested(VcApiIssueOptionsSchema)


class VcApiIssuedSchema(Schema):
    verifiableCredential = fields.Dict(
        required=True, metadata={"description": "The credential with its eddsa-rdfc-2022 DataIntegrityProof"}
    )


class VcApiVerifyOptionsSchema(Schema):
    checks = fields.List(fields.String(), metadata={"description": "Accepted; every check is always run"})


class VcApiVerifyRequestSchema(Schema):
    verifiableCredential = fields.Dict(
        required=True,
        metadata={
            "description": "A VC 2.0 or 1.1 credential with an embedded proof, or an EnvelopedVerifiableCredential"
        },
    )
    options = fields.Nested(VcApiVerifyOptionsSchema)


class VcApiProblemDetailSchema(Schema):
    type = fields.String(required=True, metadata={"description": "…/problems/verification/<check>"})
    title = fields.String(required=True, metadata={"description": "English"})
    detail = fields.String(required=True, metadata={"description": "French"})


class VcApiVerificationResultSchema(Schema):
    verified = fields.Boolean(required=True)
    checks = fields.List(fields.String(), required=True, metadata={"description": "The checks that passed"})
    warnings = fields.List(fields.Nested(VcApiProblemDetailSchema), required=True)
    errors = fields.List(fields.Nested(VcApiProblemDetailSchema), required=True)
    problemDetails = fields.List(fields.Nested(VcApiProblemDetailSchema), required=True)
    verdict = fields.String(required=True)
    verdictFr = fields.String(required=True)
    verdictEn = fields.String(required=True)
    statusReason = fields.String()
    verificationUrl = fields.String(metadata={"description": "For a credential of this service"})


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": ProblemSchema}}}


def _oauth(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": OAuthErrorSchema}}, **extra}


_BEARER_ERRORS = {
    "400": _problem("Not a JSON object of known fields and options"),
    "401": _problem("No client token, or one that is expired or revoked (WWW-Authenticate: Bearer)"),
    "403": _problem("The client lacks the scope"),
    "413": _problem("The credential is too large"),
    "415": _problem("Not application/json"),
}

PATHS: dict[str, dict[str, Any]] = {
    "/oauth/token": {
        "post": {
            "tags": ["VC-API"],
            "summary": "An access token for a registered VC-API client (OAuth 2.0 client credentials grant)",
            "operationId": "vcApiToken",
            "security": [{BASIC_SCHEME: []}, {}],
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": OAuthTokenRequestSchema}},
            },
            "responses": {
                "200": {
                    "description": "The token (Cache-Control: no-store)",
                    "content": {"application/json": {"schema": OAuthTokenSchema}},
                },
                "400": _oauth("invalid_request, unsupported_grant_type or invalid_scope"),
                "401": _oauth("invalid_client", headers={"WWW-Authenticate": {"schema": {"type": "string"}}}),
                "413": _problem("The form is too large"),
                "429": _oauth("slow_down", headers={"Retry-After": {"schema": {"type": "integer"}}}),
            },
        }
    },
    "/credentials/issue": {
        "post": {
            "tags": ["VC-API"],
            "summary": "Sign a credential as the client's issuer (W3C VC-API issuer service, eddsa-rdfc-2022)",
            "operationId": "vcApiIssueCredential",
            "security": [{CLIENT_SCHEME: ["issue"]}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": VcApiIssueRequestSchema}}},
            "responses": {
                "201": {
                    "description": "The signed credential",
                    "content": {"application/json": {"schema": VcApiIssuedSchema}},
                },
                **_BEARER_ERRORS,
                "422": _problem("A credential this issuer cannot sign, naming the field"),
            },
        }
    },
    "/credentials/verify": {
        "post": {
            "tags": ["VC-API"],
            "summary": "Verify a credential (W3C VC-API verifier service)",
            "operationId": "vcApiVerifyCredential",
            "security": [{CLIENT_SCHEME: ["verify"]}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": VcApiVerifyRequestSchema}}},
            "responses": {
                "200": {
                    "description": "Verified",
                    "content": {"application/json": {"schema": VcApiVerificationResultSchema}},
                },
                **_BEARER_ERRORS,
                "422": {
                    "description": "Not verified: the same result, each failed check in errors "
                    "(or, as problem+json, a credential nested too deeply)",
                    "content": {
                        "application/json": {"schema": VcApiVerificationResultSchema},
                        "application/problem+json": {"schema": ProblemSchema},
                    },
                },
            },
        }
    },
}
