from __future__ import annotations

import gzip
import random
import struct

import pytest

from badges import (
    IndexAllocator,
    KeyFormatError,
    QRCodeError,
    SigningKey,
    StatusList,
    StatusListError,
    generate_key,
    load_private_key,
    public_key_from_did_key,
    public_key_from_jwk,
    public_key_from_multibase,
    qr_png,
    qr_svg,
)
from badges.encoding import b58decode, b58encode, multibase_encode


def test_status_list_bits_and_encoding() -> None:
    bits = StatusList()
    assert bits.size == 131_072
    bits.set(0)
    bits.set(131_071)
    bits.set(9)
    bits.set(9, False)
    assert bits.get(0) and bits.get(131_071) and not bits.get(9)
    assert bits.bits[0] == 0x80  # bit 0 is the most significant bit of byte 0
    encoded = bits.encode()
    assert encoded.startswith("u") and encoded == bits.encode()  # deterministic
    decoded = StatusList.decode(encoded)
    assert decoded.bits == bits.bits
    with pytest.raises(StatusListError):
        bits.get(131_072)
    with pytest.raises(StatusListError):
        StatusList(size=1024)


def test_status_list_decode_defences() -> None:
    bomb = multibase_encode(gzip.compress(b"\0" * (9 * 1024 * 1024)), "base64url")
    with pytest.raises(StatusListError):
        StatusList.decode(bomb)
    with pytest.raises(StatusListError):
        StatusList.decode("zabc")
    with pytest.raises(StatusListError):
        StatusList.decode(multibase_encode(gzip.compress(b"\0" * 100), "base64url"))


def test_index_allocator_is_random_and_unique() -> None:
    rng = random.Random(5)
    allocator = IndexAllocator(randbelow=rng.randrange)
    indexes = {allocator.allocate() for _ in range(2000)}
    assert len(indexes) == 2000
    small = IndexAllocator(size=131_072, used=set(range(131_071)), randbelow=rng.randrange)
    assert small.allocate() == 131_071
    with pytest.raises(StatusListError):
        small.allocate()


@pytest.mark.parametrize("kind", ["Ed25519", "P-256", "RSA"])
def test_key_round_trips(kind: str, ed_key: SigningKey, p256_key: SigningKey, rsa_key: SigningKey) -> None:
    key = {"Ed25519": ed_key, "P-256": p256_key, "RSA": rsa_key}[kind]
    loaded = load_private_key(key.private_pem())
    assert loaded.public.jwk() == key.public.jwk()
    encrypted = key.private_pem(b"secret")
    assert b"ENCRYPTED" in encrypted
    assert load_private_key(encrypted, b"secret").public.pem() == key.public.pem()
    jwk = key.public.jwk("https://k.example/1")
    assert jwk["kid"] == "https://k.example/1" and "d" not in jwk
    assert public_key_from_jwk(jwk).thumbprint() == key.public.thumbprint()
    signature = key.sign(b"data")
    assert key.public.verify(signature, b"data") and not key.public.verify(signature, b"datA")
    if kind != "RSA":
        assert public_key_from_multibase(key.public.multibase()).pem() == key.public.pem()


def test_key_formats(ed_key: SigningKey) -> None:
    assert ed_key.public.multibase().startswith("z6Mk")
    did = ed_key.public.did_key()
    assert public_key_from_did_key(did).pem() == ed_key.public.pem()
    assert public_key_from_did_key(ed_key.public.did_key_verification_method()).pem() == ed_key.public.pem()
    # RFC 7638 thumbprint of the RFC 8037 example key.
    example = public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    assert example.thumbprint() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    with pytest.raises(KeyFormatError):
        public_key_from_jwk({"kty": "oct", "k": "c2VjcmV0"})
    with pytest.raises(KeyFormatError):
        public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "d": "AAAA"})
    with pytest.raises(KeyFormatError):
        load_private_key(b"not a key")
    assert generate_key("P-256").kind == "P-256"
    assert b58decode(b58encode(b"\0\0abc")) == b"\0\0abc"


def test_qr_codes() -> None:
    svg = qr_svg("https://badges.example.fr/c/123", title="Vérifier <ce badge>")
    assert svg.startswith("<svg") and "&lt;ce badge&gt;" in svg
    png = qr_png("https://badges.example.fr/c/123", module_size=4)
    assert png.startswith(b"\x89PNG")
    width = struct.unpack(">I", png[16:20])[0]
    assert width % 4 == 0 and width >= (21 + 8) * 4  # version 1 + 4-module quiet zone
    with pytest.raises(QRCodeError):
        qr_svg("x" * 2000)
    with pytest.raises(QRCodeError):
        qr_svg("")
