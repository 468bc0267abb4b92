"""VC-JWT payloads serialised by orjson are the bytes json.dumps wrote before (issue 18)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from badges import SigningKey, sign_vc_jwt
from badges.encoding import b64url_decode
from badges.jws import VC_JWT_ALGORITHMS, _dumps, verify_jws


def _reference(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def test_payload_bytes_are_unchanged_and_in_member_order(make_credential: Callable[..., dict[str, Any]]) -> None:
    credential = make_credential()
    credential["credentialSubject"]["achievement"]["name"] = 'Élan "collectif"\n\t\\ ✓ 🎓 \u2028 \x7f'
    assert _dumps(credential) == _reference(credential)
    reordered = dict(reversed(list(credential.items())))
    assert _dumps(reordered) == _reference(reordered)


def test_values_orjson_refuses_fall_back_to_json() -> None:
    value = {"big": 2**70, "list": [1, -(2**65)], "text": "é"}
    assert _dumps(value) == _reference(value)
    assert _dumps({1: "non-string key"}) == _reference({1: "non-string key"})


def test_tokens_carry_the_same_payload_and_verify(
    make_credential: Callable[..., dict[str, Any]], p256_key: SigningKey, ed_key: SigningKey
) -> None:
    credential = make_credential()
    for key in (p256_key, ed_key):
        token = sign_vc_jwt(credential, key, "https://badges.example.fr/keys/1")
        header, payload, _ = token.split(".")
        assert json.loads(b64url_decode(header))["typ"] == "JWT"
        body = b64url_decode(payload)
        assert body == _reference(json.loads(body))
        assert json.loads(body)["jti"] == credential["id"]
        verify_jws(token, key.public, VC_JWT_ALGORITHMS, strict_ob3=True)
