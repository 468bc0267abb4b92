"""The W3C VC-API verifier service: ``POST /credentials/verify`` for a client holding the ``verify`` scope.

The credential goes through the same verification as ``POST /api/v1/verify``
(:func:`app.services.verification.verification.verify_submission`): our own documents from the
database, anybody else's through the guarded fetcher, and our database's word on our own
credentials (suspension, compromised keys). Unlike there, it is verified under ``badges``' "vc"
profile: any VC Data Model 2.0 or 1.1 credential (what the W3C test suites send) is checked on
its own terms (structure of the data model, proof, issuer and key, dates, status), and the Open
Badges structure rules apply to Open Badges and CLR credentials only. The answer is the VC-API's
verification result:
``verified``, the checks that passed, and the failures and warnings as problem details, with
Blason's verdict in words beside them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.platform.errors import FieldError
from app.platform.urls import Urls
from app.services.issuing.api_clients import ClientCaller
from app.services.issuing.vc_api import BadRequest, check_request
from app.services.verification import intake, verification

VERIFY_FIELDS = frozenset({"verifiableCredential", "options"})
VERIFY_OPTIONS = frozenset({"checks"})
PROBLEM_BASE = "https://blason.example/problems/verification/"


def _problem(check: Any) -> dict[str, str]:
    return {"type": PROBLEM_BASE + check.name.replace("_", "-"), "title": check.reason_en, "detail": check.reason_fr}


def verify_credential(
    session: Session, caller: ClientCaller, body: Any, *, urls: Urls, fetcher: Any | None, now: datetime
) -> dict[str, Any]:
    """Verify the request's credential; the VC-API result (``verified`` says whether it is genuine)."""
    caller.require("verify")
    options = check_request(body, VERIFY_FIELDS, VERIFY_OPTIONS)
    checks = options.get("checks")
    if checks is not None and not (isinstance(checks, list) and all(isinstance(c, str) for c in checks)):
        raise BadRequest(
            "checks must be a list of strings.", errors=[FieldError("#/options/checks", "A list of strings.")]
        )
    credential = body.get("verifiableCredential")
    if not isinstance(credential, dict):
        raise BadRequest(
            "verifiableCredential must be a JSON object.",
            errors=[FieldError("#/verifiableCredential", "A verifiable credential (JSON object) is required.")],
        )
    submission = intake.from_document(credential, None, pointer="#/verifiableCredential")
    outcome = verification.verify_submission(session, submission, urls=urls, fetcher=fetcher, now=now, profile="vc")
    report = outcome.report
    fr, en = verification.VERDICT_LABELS[outcome.verdict]
    errors = [_problem(c) for c in report.checks if c.outcome == "fail"]
    warnings = [_problem(c) for c in report.checks if c.outcome == "warning"]
    verified = report.valid and outcome.verdict == "genuine"
    if not verified and not errors:  # a verdict from our database alone (suspended, compromised key)
        errors = [{"type": PROBLEM_BASE + outcome.verdict.replace("_", "-"), "title": en, "detail": fr}]
    result: dict[str, Any] = {
        "verified": verified,
        "checks": [c.name for c in report.checks if c.outcome == "pass"],
        "warnings": warnings,
        "errors": errors,
        "problemDetails": errors + warnings,
        "verdict": outcome.verdict,
        "verdictFr": fr,
        "verdictEn": en,
    }
    if outcome.status is not None and outcome.status.reason and (outcome.status.revoked or outcome.status.suspended):
        result["statusReason"] = outcome.status.reason
    if outcome.credential_id is not None:
        result["verificationUrl"] = urls.credential(outcome.credential_id)
    return result
