"""Multibase (base58btc, base64url) and base64url encodings used by keys, proofs and status lists."""

from __future__ import annotations

import base64

from .errors import InvalidInput

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Encode bytes in Bitcoin base58."""
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, rest = divmod(number, 58)
        chars.append(_B58_ALPHABET[rest])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(chars))


def b58decode(text: str) -> bytes:
    """Decode Bitcoin base58 text."""
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise InvalidInput("invalid base58 character")
        number = number * 58 + digit
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


def b64url_encode(data: bytes) -> str:
    """Encode bytes in unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded (or padded) base64url text strictly."""
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=" for c in text):
        raise InvalidInput("invalid base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise InvalidInput("invalid base64url text") from exc


def multibase_encode(data: bytes, base: str = "base58btc") -> str:
    """Encode bytes as multibase: ``z`` + base58btc or ``u`` + base64url."""
    if base == "base58btc":
        return "z" + b58encode(data)
    if base == "base64url":
        return "u" + b64url_encode(data)
    raise InvalidInput(f"unsupported multibase: {base}")


def multibase_decode(text: str) -> bytes:
    """Decode a ``z`` (base58btc) or ``u`` (base64url) multibase string."""
    if text.startswith("z"):
        return b58decode(text[1:])
    if text.startswith("u"):
        return b64url_decode(text[1:])
    raise InvalidInput("unsupported multibase prefix")
