"""The 1EdTech eddsa-rdfc-2022 test vectors, reproduced byte for byte."""

from __future__ import annotations

import hashlib

import pytest

from badges import canonize, sign_data_integrity, verify_data_integrity
from badges.keys import ed25519_key_from_seed
from badges.proofs import hash_data, proof_configuration

from .conftest import load_shared_json, shared_dir

pytestmark = pytest.mark.shared


def _text(*parts: str) -> str:
    return (shared_dir() / "standards" / "test-vectors").joinpath(*parts).read_text(encoding="utf-8")


def test_obv3p0_vector_byte_for_byte() -> None:
    vector = load_shared_json("test-vectors", "obv3p0", "vector.json")
    document = vector["unsignedCredential"]
    options = vector["proofOptions"]
    key = ed25519_key_from_seed(bytes.fromhex(vector["privateKeyHex"])[:32])
    assert key.public.multibase() == vector["publicKeyMultibase"]

    canon_document = canonize(document)
    canon_proof = canonize(proof_configuration(document, options))
    assert canon_document == _text("obv3p0", "document-canon.txt")
    assert canon_proof == _text("obv3p0", "proof-canon.txt")
    assert hashlib.sha256(canon_document.encode()).hexdigest() == vector["documentHashHex"]
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == vector["proofHashHex"]
    assert hash_data(document, options).hex() == vector["dataToSignHex"]

    signed = sign_data_integrity(document, key, options["verificationMethod"], created=options["created"])
    proof = signed["proof"][0]
    assert proof["proofValue"] == vector["proofValue"]
    assert key.sign(bytes.fromhex(vector["dataToSignHex"])).hex() == vector["signatureHex"]
    verify_data_integrity(signed, proof, key.public)
    # The vector's own object-form proof verifies too.
    as_object = {**document, "proof": {**options, "proofValue": vector["proofValue"]}}
    verify_data_integrity(as_object, as_object["proof"], key.public)


def test_clrv2p0_proof_configuration_vector() -> None:
    # The CLR vector's input document is not vendored (only its N-Quads), so its proof
    # configuration is what can be reproduced exactly; it uses the same key and options.
    vector = load_shared_json("test-vectors", "obv3p0", "vector.json")
    clr_context = [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    ]
    config = proof_configuration({"@context": clr_context}, vector["proofOptions"])
    assert canonize(config) == _text("clrv2p0", "proof-canon.txt")


def test_clrv2p0_document_nquads_are_canonical() -> None:
    # Re-canonicalising the expected N-Quads must be a fixed point of our RDFC-1.0 path.
    from pyld import jsonld

    expected = _text("clrv2p0", "document-canon.txt")
    again = jsonld.normalize(
        expected, {"algorithm": "URDNA2015", "inputFormat": "application/n-quads", "format": "application/n-quads"}
    )
    assert again == expected
