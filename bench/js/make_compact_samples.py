"""Write compact signed badges (BL1) for verify_compact.mjs: EdDSA and ES256, and one with a wrong key.

Usage: python bench/js/make_compact_samples.py > samples.json
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from badges import compact, generate_key  # noqa: E402


def main() -> None:
    ed, p256 = generate_key("Ed25519"), generate_key("P-256")
    badge = compact.CompactBadge(
        issuer="https://blason.example/issuers/7d0f3c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        credential_id=uuid.UUID("4f8c7a3e-2b1d-4c6e-9a0f-1e2d3c4b5a69"),
        url="https://blason.example/c/h6k9yk7jv7",
        name="Animer une réunion publique",
        issuer_name="Collectif des territoires",
        valid_from=1740819600,
        issued_at=1740819600,
        competencies=("RNCP37873BC01", "RNCP37873BC02"),
        revocation=(compact.status_list_id("https://blason.example/status/9ae4b3d1-7cc8-4c43-b85c-91f2504e40a5"), 42),
    )
    samples = [
        {"payload": compact.sign_compact(badge, key), "jwk": key.public.jwk(alg=key.algorithm), "valid": True}
        for key in (ed, p256)
    ]
    samples.append({**samples[0], "jwk": generate_key("Ed25519").public.jwk(alg="EdDSA"), "valid": False})
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
