"""Write a sample of badges/ signed output for the independent JavaScript check."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_badges import sample_credential  # noqa: E402

from badges import (StatusList, build_status_list_credential, controller_document,  # noqa: E402
                    generate_key, sign_data_integrity, sign_vc_jwt)


def main() -> None:
    issuer_id = "https://badges.example.fr/issuers/territoire-1"
    ed = generate_key("Ed25519")
    p256 = generate_key("P-256")
    rsa = generate_key("RSA")
    method = f"{issuer_id}#{ed.public.multibase()}"
    created = datetime(2025, 3, 1, 9, 0, 5, tzinfo=timezone.utc)
    credential = sample_credential()
    bits = StatusList()
    bits.set(7)
    status = build_status_list_credential(
        id="https://badges.example.fr/status/1", issuer=issuer_id, status_list=bits,
        purpose="revocation", valid_from=datetime(2025, 1, 1, tzinfo=timezone.utc))
    es_kid = f"{issuer_id}/keys/es256"
    rs_kid = f"{issuer_id}/keys/rs256"
    samples = {
        "now": "2025-06-01T12:00:00Z",
        "documents": {issuer_id: controller_document(issuer_id, [ed.public])},
        "dataIntegrity": {
            "OpenBadgeCredential": sign_data_integrity(credential, ed, method, created=created),
            "BitstringStatusListCredential": sign_data_integrity(status, ed, method,
                                                                 created=created),
        },
        "jwt": {
            "ES256": {"token": sign_vc_jwt(credential, p256, es_kid),
                      "jwk": p256.public.jwk(es_kid)},
            "RS256": {"token": sign_vc_jwt(credential, rsa, rs_kid),
                      "jwk": rsa.public.jwk(rs_kid)},
        },
    }
    json.dump(samples, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
