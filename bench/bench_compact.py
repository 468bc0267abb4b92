"""The compact signed badge (BL1, issue 17): signing cost against VC-JWT, payload bytes, QR versions.

In the same run, on the demo data set: signing the compact form of a credential (claims built from
the stored OB 3.0 credential, CBOR, COSE_Sign1, zlib, Base45) against signing the same credential
as a VC-JWT (badges.sign_vc_jwt) with the same algorithm (ES256 as issued, and EdDSA). Target: the
compact form within 1.5x of the VC-JWT. Then the compact form of every demo credential: characters, COSE bytes and
QR version (alphanumeric, error correction M) for the typical (median) and the longest.
Run: .venv/bin/python bench/bench_compact.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import base45  # noqa: E402
from sqlalchemy import select  # noqa: E402

import badges  # noqa: E402
from app.db import db  # noqa: E402
from app.demo import load_demo  # noqa: E402
from app.models import Credential  # noqa: E402
from app.runtime import runtime  # noqa: E402
from app.services.verification import offline  # noqa: E402
from badges import compact  # noqa: E402
from badges.qr import qr_version  # noqa: E402
from bench._common import bench_app, pin_one_core, table  # noqa: E402


def rate(fn: object, seconds: float, batch: int = 100) -> float:
    """Calls a second, from the best batch of ``batch`` calls within ``seconds`` (the machine is shared)."""
    call = fn  # type: ignore[assignment]
    call()  # type: ignore[operator]
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds:
        began = time.perf_counter()
        for _ in range(batch):
            call()  # type: ignore[operator]
        best = min(best, time.perf_counter() - began)
    return batch / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    pin_one_core()
    with bench_app() as app, app.app_context():
        rt = runtime()
        load_demo(
            db.session,
            passwords=rt.passwords,
            password=rt.settings.demo_password,
            storage=rt.storage,
            issuing=rt.issuing,
        )
        db.session.commit()
        credentials = list(db.session.scalars(select(Credential).where(Credential.state.in_(offline.PUBLIC_STATES))))
        sizes = []
        for credential in credentials:
            text = offline.compact_of(db.session, credential, rt.issuing)
            cose = zlib.decompress(base45.b45decode(text[4:]))
            sizes.append((len(text), len(cose), qr_version(text, error_correction="M"), credential))
        sizes.sort(key=lambda row: row[0])
        typical, longest = sizes[len(sizes) // 2], sizes[-1]

        credential = typical[3]
        document = dict(credential.ob3_credential or {})
        document.pop("proof", None)
        badge = offline.compact_badge(db.session, credential, rt.issuing.urls)
        ed, p256 = badges.generate_key("Ed25519"), badges.generate_key("P-256")
        kid = "https://host/issuers/1/keys/es"
        rows = []
        vc_es = rate(lambda: badges.sign_vc_jwt(document, p256, kid=kid), args.seconds)
        vc_ed = rate(lambda: badges.sign_vc_jwt(document, ed, kid=kid, algorithm="EdDSA"), args.seconds)

        def from_credential() -> compact.CompactBadge:
            return compact.badge_from_credential(
                document, url=badge.url, credential_id=credential.id, suspension=suspension
            )

        suspension = (rt.issuing.urls.status_list(credential.suspension_list_id), credential.status_index)
        column = "× the VC-JWT of the same algorithm"
        for label, key, build, vc in (
            ("compact EdDSA (claims built)", ed, False, vc_ed),
            ("compact EdDSA, claims from the credential", ed, True, vc_ed),
            ("compact ES256 (claims built)", p256, False, vc_es),
            ("compact ES256, claims from the credential", p256, True, vc_es),
        ):
            per_second = rate(
                (lambda key=key: compact.sign_compact(from_credential(), key))
                if build
                else (lambda key=key: compact.sign_compact(badge, key)),
                args.seconds,
            )
            rows.append({"signing": label, "per second": per_second, column: vc / per_second})
        rows.append({"signing": "VC-JWT EdDSA", "per second": vc_ed, column: 1.0})
        rows.append({"signing": "VC-JWT ES256 (as issued)", "per second": vc_es, column: 1.0})
        print("Signing one credential, badges/ alone, one core:")
        print(table(rows, ["signing", "per second", column]))
        print()
        print(f"Compact forms of the {len(sizes)} demo credentials (QR alphanumeric, error correction M):")
        size_rows = [
            {
                "badge": name,
                "characters": row[0],
                "COSE bytes": row[1],
                "QR version": row[2],
                "modules": 17 + 4 * row[2],
            }
            for name, row in (("typical (median)", typical), ("longest", longest))
        ]
        print(table(size_rows, ["badge", "characters", "COSE bytes", "QR version", "modules"]))
        print(
            f"median characters {statistics.median(r[0] for r in sizes):.0f}, all QR versions {sorted({r[2] for r in sizes})}"
        )
        for name, row in (("typical", typical), ("longest", longest)):
            modules = 17 + 4 * row[2]
            print(
                f"The {name} code 35 mm wide (its quiet zone around it): {35 / modules:.2f} mm a module; "
                f"35 mm quiet zone included: {35 / (modules + 8):.2f} mm."
            )


if __name__ == "__main__":
    main()
