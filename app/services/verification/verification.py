"""Verify anything: our own credentials from the database, anybody else's through the guarded fetcher.

``badges.verify`` does the cryptography and returns a report check by check; this module chooses
where documents come from and turns the report into one verdict a non-specialist understands.

* Documents under our public base URL (issuer and controller documents, keys, status lists,
  OB 2.0 documents) are answered from the database by :func:`app.services.verification.public_docs.resolve`,
  never over the network — even when the URL is unknown here.
* Any other URL goes through ``badges.GuardedFetcher`` only (no private, loopback, link-local
  or reserved address, timeouts, size cap, checked redirects), wrapped in a per-verification
  budget: at most ``MAX_FETCHES`` distinct URLs and ``FETCH_DEADLINE`` seconds in all (one
  deadline, down to every read), each URL fetched once. A network failure (unknown name, refused,
  reset, TLS, too slow) is the verdict "unreachable", never an error; a URL that cannot be valid
  is a 422.
* A credential of ours also carries what its signed form cannot: suspension (the credential
  embeds only its revocation entry) and a signing key reported compromised since.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

import badges
from app.db import utcnow
from app.models import Credential, CredentialState, StatusList
from app.platform.errors import FieldError, InvalidInput, UnsupportedMediaType
from app.platform.i18n import translator
from app.platform.images import check_png
from app.platform.urls import Urls
from app.services.issuing.keys import issuer_keys
from app.services.verification import offline, public_docs

MAX_FETCHES = 8
FETCH_DEADLINE = 15.0

# Verdict codes; their words are the catalogue's ``verdict_<code>`` (and ``verdict_<code>_more``).
VERDICTS = (
    "genuine",
    "revoked",
    "suspended",
    "expired",
    "not_yet_valid",
    "unknown_key",
    "key_compromised",
    "status_unknown",
    "wrong_recipient",
    "invalid",
    "unreadable",
    "unreachable",
)
# Verdict code → (French, English), as the API's verdictFr / verdictEn fields give them.
VERDICT_LABELS: dict[str, tuple[str, str]] = {
    code: (translator("fr")(f"verdict_{code}"), translator("en")(f"verdict_{code}")) for code in VERDICTS
}


# ---------------------------------------------------------------------------------------------
# Verdicts


def verdict_of(report: badges.VerificationReport, status: public_docs.CredentialStatus | None = None) -> str:
    """One verdict code for a report (and, for our own credentials, their row's status)."""
    failed = {c.name: c for c in report.checks if c.outcome == "fail"}
    if "format" in failed:
        return "unreadable"
    gone = "status" in failed and "410" in failed["status"].reason_en
    if "structure" in failed or ("proof" in failed and not gone):
        return "invalid"
    if status is not None:
        if status.revoked:
            return "revoked"
        if status.suspended:
            return "suspended"
        if status.key_compromised:
            return "key_compromised"
    if "issuer_key" in failed:
        return "key_compromised" if failed["issuer_key"].reason_en.startswith("Compromised key") else "unknown_key"
    if "status" in failed:
        reason = failed["status"].reason_en
        if reason.startswith("Revoked"):
            return "revoked"
        if reason.startswith("Suspended"):
            return "suspended"
        return "status_unknown"
    if "validity" in failed:
        reason = failed["validity"].reason_en
        if reason.startswith("Expired"):
            return "expired"
        if reason.startswith(("Not yet valid", "Issued in the future")):
            return "not_yet_valid"
        return "invalid"
    if "recipient" in failed:
        return "wrong_recipient"
    return "genuine" if report.valid else "invalid"


@dataclass
class Outcome:
    """A verification report, its verdict, and what our database adds for our own credentials."""

    report: badges.VerificationReport
    verdict: str
    status: public_docs.CredentialStatus | None = None
    credential_id: uuid.UUID | None = None

    def summary(self, urls: Urls) -> dict[str, Any]:
        """The verdict, the report's checks and the verified document, for the API to serialise."""
        fr, en = VERDICT_LABELS[self.verdict]
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "verdict_fr": fr,
            "verdict_en": en,
            "valid": self.report.valid and self.verdict == "genuine",
            "format": self.report.format,
            "checks": list(self.report.checks),
            "credential": self.report.credential,
        }
        if self.status is not None and self.status.reason and (self.status.revoked or self.status.suspended):
            out["status_reason"] = self.status.reason
        if self.credential_id is not None:
            out["verification_url"] = urls.credential(self.credential_id)
        return out


def _apply_status(report: badges.VerificationReport, status: public_docs.CredentialStatus) -> None:
    """Add what the signed documents cannot say: suspension and a compromised signing key."""
    if status.suspended:
        reason = f" : {status.reason}" if status.reason else ""
        report.add(
            "status",
            "fail",
            f"Ce badge est suspendu{reason}.",
            f"Suspended{': ' + status.reason if status.reason else ''}.",
        )
    if status.key_compromised:
        report.add(
            "issuer_key",
            "warning",
            "La clé qui a signé ce badge a été déclarée compromise.",
            "The key that signed this credential was reported compromised.",
        )


# ---------------------------------------------------------------------------------------------
# Where documents come from


def is_ours(urls: Urls, url: str) -> bool:
    """Whether ``url`` lies under our public base URL (so it is answered from the database)."""
    base, parts = urlsplit(urls.base), urlsplit(url)
    return (parts.scheme.lower(), parts.netloc.lower()) == (base.scheme.lower(), base.netloc.lower()) and (
        parts.path == base.path or parts.path.startswith(base.path.rstrip("/") + "/")
    )


@dataclass
class BudgetedFetcher:
    """A guarded fetcher that fetches each URL once, at most ``max_fetches`` of them, before a deadline."""

    fetcher: Any
    max_fetches: int = MAX_FETCHES
    deadline: float = FETCH_DEADLINE
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, Any] = field(default_factory=dict)
    _started: float | None = None
    unreachable: set[str] = field(default_factory=set)  # URLs not fetched for a network reason

    def get_json(self, url: str) -> Any:
        key = url.split("#", 1)[0]
        if key not in self._cache:
            self._started = self._started if self._started is not None else self.clock()
            if len(self._cache) >= self.max_fetches:
                raise badges.ResolutionError("too many documents to fetch for one verification")
            left = self.deadline - (self.clock() - self._started)
            if left <= 0:
                self.unreachable.add(key)
                raise badges.Unreachable("unreachable: the verification took too long")
            try:
                self._cache[key] = ("ok", self._fetch(key, left))
            except badges.ResolutionError as exc:
                if isinstance(exc, badges.Unreachable):
                    self.unreachable.add(key)
                self._cache[key] = ("error", exc)
        kind, value = self._cache[key]
        if kind == "error":
            raise value
        return value

    def _fetch(self, url: str, left: float) -> Any:
        # The guarded fetcher holds every read to what is left of this verification's deadline.
        if isinstance(self.fetcher, badges.GuardedFetcher):
            return self.fetcher.get_json(url, within=left)
        return self.fetcher.get_json(url)


def resolvers_for(session: Session, urls: Urls, fetcher: Any | None, now: datetime | None = None) -> badges.Resolvers:
    """Our URLs from the database (unknown ones fail, never fetched); others through ``fetcher``."""

    def fetch(url: str) -> Any:
        if is_ours(urls, url):
            trust = offline.resolve(session, urls, url, now or utcnow())  # BL1: our trust list, status bundle
            if trust is not None:
                return trust
            answer = public_docs.resolve(session, urls, url)
            if answer is None:
                raise badges.ResolutionError(f"unknown URL {url}")
            status, document = answer
            if status == 410:
                raise badges.ResolutionError(f"{url} is gone", gone=True, document=document)
            return document
        if fetcher is None:
            raise badges.ResolutionError("documents of other issuers are not fetched here")
        return fetcher.get_json(url)

    return badges.Resolvers(document=fetch)


# ---------------------------------------------------------------------------------------------
# Our own credentials


def _own_credential_id(urls: Urls, document: dict[str, Any] | None) -> uuid.UUID | None:
    """The id of our credential row behind a verified document, if it is one of ours."""
    if not isinstance(document, dict):
        return None
    ident = document.get("id")
    if not isinstance(ident, str):
        return None
    prefixes = (urls.credential(uuid.UUID(int=0))[:-36], urls.ob2_assertion(uuid.UUID(int=0))[:-36])
    for prefix in prefixes:
        if ident.startswith(prefix):
            return _uuid(ident[len(prefix) :])
    badge = document.get("badge")
    if ident.startswith("urn:uuid:") and isinstance(badge, str) and is_ours(urls, badge):
        return _uuid(ident[len("urn:uuid:") :])
    return None


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class ReportCache:
    """Reports on our own credentials, keyed by everything that can change them.

    A stored credential never changes, so its report changes only with its row's state, its
    revocation list's version (re-signed at every change), the state of its issuer's keys, and
    which side of its validity dates "now" falls. Keyed on those, a cached report is as live
    as a fresh one; it spares the two RDF canonicalisations (credential and status list) that
    dominate a verification page. Bounded (least recently used first out) and thread-safe.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], tuple[str, tuple[badges.Check, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> badges.VerificationReport | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
        fmt, checks, credential = found
        return badges.VerificationReport(format=fmt, checks=list(checks), credential=credential)

    def put(self, key: tuple[Any, ...], report: badges.VerificationReport) -> None:
        with self._lock:
            self._items[key] = (report.format, tuple(report.checks), report.credential)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _report_key(session: Session, credential: Credential, keys: list[Any], now: datetime) -> tuple[Any, ...]:
    status_list = session.get(StatusList, credential.status_list_id) if credential.status_list_id else None
    return (
        credential.id,
        credential.state.value,
        status_list.version if status_list else None,
        tuple((str(k.id), k.status.value) for k in keys),
        credential.valid_from is not None and now < credential.valid_from,
        credential.valid_until is not None and now > credential.valid_until,
    )


def verify_own(
    session: Session, credential: Credential, urls: Urls, *, now: datetime, cache: ReportCache | None = None
) -> Outcome:
    """Verify a stored credential live against our own documents (no network)."""
    keys = issuer_keys(session, credential.issuer_id)
    key = _report_key(session, credential, keys, now) if cache is not None else ()
    report = cache.get(key) if cache is not None else None
    if report is None:
        report = badges.verify(credential.ob3_credential or {}, resolvers=resolvers_for(session, urls, None), now=now)
        status_check = report.check("status")
        if cache is not None and not (status_check and status_check.reason_en.startswith("Cannot")):
            cache.put(key, report)
    status = public_docs.credential_status(credential, keys, now)
    _apply_status(report, status)
    return Outcome(report, verdict_of(report, status), status, credential.id)


def _with_own_state(
    session: Session, urls: Urls, report: badges.VerificationReport, now: datetime, hint: uuid.UUID | None = None
) -> Outcome:
    """Add our database's word on a credential of ours (``hint``: the one a submitted URL named)."""
    ident = _own_credential_id(urls, report.credential) or hint
    credential = session.get(Credential, ident) if ident else None
    if credential is None or credential.state in (CredentialState.PROPOSED, CredentialState.DECLINED):
        return Outcome(report, verdict_of(report))
    status = public_docs.credential_status(credential, issuer_keys(session, credential.issuer_id), now)
    proof, state = report.check("proof"), report.check("status")
    if proof is not None and proof.outcome == "pass":
        _apply_status(report, status)
        return Outcome(report, verdict_of(report, status), status, credential.id)
    if state is not None and state.outcome == "fail" and "410" in state.reason_en:
        # Our hosted OB 2.0 assertion answers 410 for suspended badges too: say which it is.
        return Outcome(report, verdict_of(report, status), status, credential.id)
    return Outcome(report, verdict_of(report), None, credential.id)


# ---------------------------------------------------------------------------------------------
# The POST /verify use case


@dataclass(frozen=True)
class Submission:
    """What was sent: a credential (object or text), a URL, or a file's bytes; and a recipient to match."""

    credential: dict[str, Any] | str | None = None
    url: str | None = None
    file: bytes | None = None
    recipient: str | None = None


_REFUSALS = (
    (
        "refusing non-public address",
        "This URL points at a private, loopback, link-local or reserved address; it was not fetched.",
    ),
    ("scheme not allowed", "Only http and https URLs are fetched."),
    ("URL without a host", "This URL has no host name, or carries credentials."),
    ("response larger", "The document at this URL is too large."),
    ("too many redirects", "This URL redirects too many times."),
    ("invalid URL", "This URL is not valid: check its host name, port and characters."),
)


def _refusal(exc: badges.BadgeError) -> InvalidInput:
    message = str(exc)
    for prefix, detail in _REFUSALS:
        if message.startswith(prefix):
            return InvalidInput(detail, errors=[FieldError("#/url", detail)])
    detail = "This URL could not be fetched, or did not answer a JSON document."
    return InvalidInput(detail, errors=[FieldError("#/url", detail)])


def _from_url(session: Session, urls: Urls, url: str, fetcher: BudgetedFetcher | None) -> dict[str, Any] | str:
    """What to hand to ``badges.verify`` for a submitted URL (fetched once, through the guard)."""
    if is_ours(urls, url):
        path = urlsplit(url).path[len(urlsplit(urls.base).path) :]
        if path.startswith("/c/"):
            credential = public_docs.credential_by_short_code(session, path[3:].strip("/"))
            document = public_docs.credential_document(credential) if credential else None
            if document is None:
                raise InvalidInput(
                    "No badge of this service has this address.", errors=[FieldError("#/url", "Unknown short address.")]
                )
            return document
        answer = public_docs.resolve(session, urls, url)
        if answer is None:
            raise InvalidInput(
                "No badge of this service has this address.",
                errors=[FieldError("#/url", "Unknown address of this service.")],
            )
        status, document = answer
        return url if status == 410 or _is_assertion(document) else document
    if fetcher is None:
        raise _refusal(badges.ResolutionError("no fetcher"))
    try:
        document = fetcher.get_json(url)
    except badges.Unreachable:
        raise  # a verdict, not a bad request: see verify_submission
    except badges.FetchRefused as exc:
        raise _refusal(exc) from None
    except badges.ResolutionError as exc:
        if exc.gone:
            return url  # a hosted OB 2.0 assertion answering 410: verify reports it revoked
        raise _refusal(exc) from None
    if not isinstance(document, dict):
        raise _refusal(badges.ResolutionError("not a JSON object"))
    return url if _is_assertion(document) else document


def _is_assertion(document: Any) -> bool:
    kinds = document.get("type") if isinstance(document, dict) else None
    return kinds == "Assertion" or (isinstance(kinds, list) and "Assertion" in kinds)


def _from_file(data: bytes) -> bytes | str:
    """Check an uploaded file: a PNG or SVG image, or a JSON / JWT text file."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        check_png(data)  # 415 for a broken PNG, 413 for oversized images and decompression bombs
        return data
    head = data[:1024].lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):
        try:
            badges.unbake_svg(data)
        except badges.ImageTooLarge:
            raise InvalidInput("The image is too large.") from None
        except badges.BakingError:
            raise UnsupportedMediaType("This file is not a valid SVG image.") from None
        return data
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        text = ""
    if text.startswith("{") or text.count(".") == 2 and " " not in text:
        return text
    raise UnsupportedMediaType("Send a PNG or SVG badge image, or a JSON or JWT badge file.")


def verify_submission(
    session: Session, submission: Submission, *, urls: Urls, fetcher: Any | None, now: datetime, profile: str = "badge"
) -> Outcome:
    """Verify what was sent: ours from the database, others through the guarded fetcher only.

    ``profile`` is ``badges.verify``'s: "badge" here, "vc" for the W3C VC-API verifier.
    """
    budget = BudgetedFetcher(fetcher) if fetcher is not None else None
    data: dict[str, Any] | str | bytes
    hint = None
    if isinstance(submission.url, str) and is_ours(urls, submission.url.strip()):
        hint = _own_credential_id(urls, {"id": submission.url.strip()})
    url = submission.url
    if (
        url is None
        and isinstance(submission.credential, str)
        and submission.credential.strip().startswith(("https://", "http://"))
    ):
        url = submission.credential
    if submission.file is not None:
        data = _from_file(submission.file)
    elif url is not None:
        try:
            data = _from_url(session, urls, url.strip(), budget)
        except badges.Unreachable:
            return Outcome(_unreachable_report(), "unreachable")
    elif submission.credential is not None:
        data = submission.credential  # its size was checked by the intake (app.services.verification.intake)
    else:
        raise InvalidInput(
            "Send a credential, a URL or a file.",
            errors=[FieldError("#/credential", "credential, url or file is required.")],
        )
    try:
        report = badges.verify(
            data,
            resolvers=resolvers_for(session, urls, budget, now),
            now=now,
            recipient=submission.recipient or None,
            profile=profile,
        )
    except RecursionError:  # JSON baked in an image can still nest past the interpreter's limit
        report = badges.VerificationReport(format="unknown")
        report.add("format", "fail", "Document imbriqué trop profondément.", "Document nested too deeply.")
    outcome = _with_own_state(session, urls, report, now, hint)
    if budget is not None and budget.unreachable and _for_want_of_network(outcome, budget.unreachable):
        outcome.verdict = "unreachable"
    return outcome


def _unreachable_report() -> badges.VerificationReport:
    report = badges.VerificationReport(format="unknown")
    report.add(
        "proof",
        "fail",
        "Le serveur à cette adresse n'a pas pu être joint (nom inconnu, connexion "
        "refusée ou interrompue, TLS, trop lent) : rien n'a pu être vérifié.",
        "The server at this address could not be reached (unknown name, connection refused or "
        "reset, TLS, too slow): nothing could be verified.",
    )
    return report


def _for_want_of_network(outcome: Outcome, unreachable: set[str]) -> bool:
    """Whether a failed verdict comes from an issuer's document that could not be fetched.

    A proof that fails on its own bytes stays "invalid": only a failure whose reason is the
    unreachable document (a key, a hosted assertion, a status list) becomes "unreachable".
    """
    failed = {c.name: c.reason_en for c in outcome.report.checks if c.outcome == "fail"}
    if outcome.verdict == "invalid":
        return "structure" not in failed and "unreachable" in failed.get("proof", "")
    if outcome.verdict == "status_unknown":
        return "unreachable" in failed.get("status", "")
    if outcome.verdict == "unknown_key":  # the issuer's document that links the key did not come
        return any(url in failed.get("issuer_key", "") for url in unreachable)
    return False


MAX_DEPTH = 64


def check_depth(value: Any, pointer: str = "#/credential") -> None:
    """Refuse a credential nested deeper than ``MAX_DEPTH`` levels (422 naming the field)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput(
                "The credential is nested too deeply.", errors=[FieldError(pointer, f"Deeper than {MAX_DEPTH} levels.")]
            )
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)


def parse_text_credential(text: str) -> dict[str, Any] | str:
    """A credential pasted as text: JSON parsed when it is JSON, otherwise kept (JWT, URL)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            parsed = json.loads(stripped)
        except (ValueError, RecursionError):
            return stripped
        return parsed if isinstance(parsed, dict) else stripped
    return stripped
