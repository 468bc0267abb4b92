"""POST /api/v1/verify and the /verify form when an issuer's server cannot be reached.

Network failures (no such name, refused, reset, TLS, too slow) are the verdict "unreachable", in
words; a URL that cannot be valid (a host name IDNA refuses, a port out of range) is a 422 naming
the field. Never a 500. No network: names under the reserved ``.invalid`` TLD (RFC 6761) or an
injected resolver that fails.
"""

from __future__ import annotations

import html
import io
import json
import re
import socket
from datetime import UTC, datetime
from typing import Any

import pytest

import badges
from app.api import verification as verify_api
from app.services.verification import verification
from app.web.verification import form as verify_form
from tests.api.support import assert_problem
from tests.web.csrf_support import csrf_token

API = "/api/v1/verify"
ISSUER = "https://autre-emetteur.example/issuer"
INVALID_HOSTS = ["xn--a.com", "a" * 64 + ".example", "a..b", "exa%20mple.org"]


def _no_dns(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.fixture(autouse=True)
def dns_fails(monkeypatch):  # type: ignore[no-untyped-def]
    """The real guarded fetcher, with a resolver that finds nothing (as for an unknown name)."""
    for module in (verify_api, verify_form):
        monkeypatch.setattr(module, "verify_fetcher", lambda: badges.GuardedFetcher(resolve=_no_dns))


def _foreign(signer: badges.SigningKey | None = None) -> dict[str, Any]:
    """Another issuer's credential: its key and status list live on a server we cannot reach."""
    key = badges.generate_key("Ed25519")
    now = datetime.now(UTC)
    award = badges.Award(
        id="https://autre-emetteur.example/credentials/9",
        issuer=badges.Profile(id=ISSUER, name="Autre émetteur", url="https://autre-emetteur.example"),
        recipient=badges.Recipient(did="did:example:sam"),
        achievement=badges.Achievement(
            id="https://autre-emetteur.example/achievements/1",
            name="Jardiner",
            description="Jardin partagé.",
            criteria=badges.Criteria(narrative="Avoir jardiné."),
        ),
        valid_from=now,
        status=(badges.StatusEntry("https://autre-emetteur.example/status/1", index=7),),
    )
    return badges.sign_data_integrity(
        badges.build_ob3_credential(award), signer or key, f"{ISSUER}#{key.public.multibase()}", created=now
    )


@pytest.mark.parametrize("url", ["https://badges.example/assertions/1", "https://issuer.invalid/assertion/1"])
def test_an_unreachable_url_is_a_verdict_in_words(client, monkeypatch, url: str) -> None:
    if url.endswith(".invalid/assertion/1"):  # the system resolver: .invalid fails locally
        monkeypatch.setattr(verify_api, "verify_fetcher", lambda: badges.GuardedFetcher(total_timeout=5))
    r = client.post(API, json={"url": url})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["verdict"] == "unreachable" and r.json["valid"] is False
    assert r.json["verdictFr"] == "Émetteur injoignable" and r.json["verdictEn"] == "Issuer unreachable"
    assert any("could not be reached" in c["reasonEn"] for c in r.json["checks"])


@pytest.mark.parametrize("host", INVALID_HOSTS + ["example.org:99999"])
def test_a_url_that_cannot_be_valid_is_a_422_naming_it(client, host: str) -> None:
    body = assert_problem(client.post(API, json={"url": f"https://{host}/assertion/1"}), 422, "#/url")
    assert "not valid" in body["detail"]
    pasted = assert_problem(client.post(API, json={"credential": f"https://{host}/a"}), 422, "#/url")
    assert "not valid" in pasted["detail"]


def test_a_credential_whose_issuer_is_unreachable_says_so(client) -> None:
    r = client.post(API, json={"credential": _foreign()})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["verdict"] == "unreachable" and r.json["verdictFr"] == "Émetteur injoignable"
    # A signature that fails on its own bytes stays a forgery, reachable issuer or not.
    forged = client.post(API, json={"credential": _foreign(signer=badges.generate_key("Ed25519"))})
    assert forged.status_code == 200 and forged.json["verdict"] == "invalid"


@pytest.mark.parametrize("host", INVALID_HOSTS)
def test_an_issuer_with_an_invalid_host_name_is_no_crash(client, host: str) -> None:
    document = _foreign()
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    for proof in proofs:  # the key and the status list are looked for on that host
        proof["verificationMethod"] = proof["verificationMethod"].replace("autre-emetteur.example", host)
    status = document["credentialStatus"]
    for entry in status if isinstance(status, list) else [status]:
        entry["statusListCredential"] = f"https://{host}/status/1"
    r = client.post(API, json={"credential": document})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["valid"] is False


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def _send(client, badge: str, lang: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        "/verify" + (f"?lang={lang}" if lang else ""),
        content_type="multipart/form-data",
        data={"badge": badge, "file": (io.BytesIO(b""), ""), "csrf_token": csrf_token(client)},
    )


def test_the_form_says_unreachable_in_french_and_english(client) -> None:
    page = _send(client, "https://badges.example/assertions/1")
    assert page.status_code == 200 and "Émetteur injoignable" in _text(page)
    english = _send(client, "https://badges.example/assertions/1", lang="en")
    assert english.status_code == 200 and "Issuer unreachable" in _text(english)
    foreign = _send(client, json.dumps(_foreign()))
    assert foreign.status_code == 200 and "Émetteur injoignable" in _text(foreign)


@pytest.mark.parametrize("host", INVALID_HOSTS)
def test_the_form_answers_an_invalid_host_on_the_page(client, host: str) -> None:
    page = _send(client, f"https://{host}/assertion/1")
    assert page.status_code == 422 and "Cette adresse n'est pas valable" in _text(page)


class _Recording(badges.GuardedFetcher):
    def __init__(self) -> None:
        super().__init__()
        self.windows: list[float | None] = []

    def get_json(self, url: str, *, within: float | None = None) -> Any:
        self.windows.append(within)
        return {"id": url}


def test_the_budget_holds_each_fetch_to_what_is_left_of_its_deadline() -> None:
    now = [100.0]
    inner = _Recording()
    budget = verification.BudgetedFetcher(inner, deadline=15.0, clock=lambda: now[0])
    budget.get_json("https://a.example/1")
    now[0] += 10
    budget.get_json("https://a.example/2")
    budget.get_json("https://a.example/1#key")  # fetched once: not counted again
    assert inner.windows == [15.0, 5.0]
    now[0] += 5
    with pytest.raises(badges.Unreachable):
        budget.get_json("https://a.example/3")
    assert inner.windows == [15.0, 5.0] and budget.unreachable == {"https://a.example/3"}
