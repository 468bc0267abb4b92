"""Throughput of badges/ on one core: raw signatures as floors, then every format.

Run: python bench/bench_badges.py [--seconds 1.0] [--no-js]
The Digital Bazaar comparison runs when bench/js/node_modules exists (npm ci in bench/js).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from badges import (  # noqa: E402
    Achievement,
    Alignment,
    Award,
    Criteria,
    Evidence,
    Profile,
    Recipient,
    StatusEntry,
    StatusList,
    bake_png,
    bake_svg,
    build_ob3_credential,
    generate_key,
    sign_data_integrity,
    sign_ob2_assertion,
    sign_vc_jwt,
    unbake_png,
    verify_data_integrity,
)
from badges.jws import VC_JWT_ALGORITHMS, verify_jws  # noqa: E402
from badges.keys import ed25519_key_from_seed  # noqa: E402
from bench._common import record  # noqa: E402


def rate(function: Callable[[], object], seconds: float) -> float:
    """Return the best of three runs of calls per second of ``function``."""
    return max(_rate(function, seconds / 3) for _ in range(3))


def cpu_rate(function: Callable[[], object], seconds: float) -> float:
    """Best of three runs of calls per second of this process's CPU time.

    On a shared machine the process waits for a core now and then; CPU time leaves those waits
    out, so a measure and its baseline taken a moment apart stay comparable.
    """
    return max(_rate(function, seconds / 3, time.process_time) for _ in range(3))


def _rate(function: Callable[[], object], seconds: float, clock: Callable[[], float] = time.perf_counter) -> float:
    function()
    count, start = 0, clock()
    deadline = start + seconds
    while True:
        for _ in range(10):
            function()
        count += 10
        now = clock()
        if now >= deadline:
            return count / (now - start)


def sample_credential() -> dict[str, object]:
    issuer = Profile(
        id="https://badges.example.fr/issuers/territoire-1",
        name="Territoire apprenant (exemple)",
        url="https://badges.example.fr",
        email="contact@badges.example.fr",
    )
    achievement = Achievement(
        id="https://badges.example.fr/achievements/conduite-projet",
        name="Conduite de projet collectif",
        description="Reconnaît la contribution à un projet collectif du territoire.",
        criteria=Criteria(narrative="Avoir contribué à un projet et présenté les preuves."),
        achievement_type="Competency",
        alignments=(
            Alignment(
                target_name="Bloc de compétences 2",
                target_url="https://referentiel.example.fr/blocs/2",
                target_code="BC02",
                target_type="ext:RNCPBlock",
            ),
        ),
    )
    return build_ob3_credential(
        Award(
            id="urn:uuid:4f8c7a3e-2b1d-4c6e-9a0f-1e2d3c4b5a69",
            issuer=issuer,
            recipient=Recipient(did="did:example:learner-1234", email="camille@example.fr", salt="b0a1c2d3e4f5"),
            achievement=achievement,
            valid_from=datetime(2025, 3, 1, 9, tzinfo=UTC),
            evidence=(Evidence(id="https://badges.example.fr/evidence/123", name="Rapport"),),
            status=(StatusEntry("https://badges.example.fr/status/1", 42),),
        )
    )


def run_js(
    credential: dict[str, object],
    seed: bytes,
    vm: str,
    created: str,
    count: int,
    extra: list[dict[str, object]] | None = None,
) -> dict[str, Any] | None:
    js_dir = ROOT / "bench" / "js"
    if not (js_dir / "node_modules").is_dir() or shutil.which("node") is None:
        return None
    key = ed25519_key_from_seed(seed)
    from cryptography.hazmat.primitives import serialization

    public_hex = key.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(
            {
                "credential": credential,
                "seedHex": seed.hex(),
                "publicKeyHex": public_hex,
                "controller": vm.split("#")[0],
                "verificationMethod": vm,
                "created": created,
                "extra": extra or [],
            },
            handle,
        )
    try:
        command = ["node", str(js_dir / "bench_sign.mjs"), handle.name, str(count)]
        if hasattr(os, "sched_getaffinity"):
            command = (
                ["taskset", "-c", str(min(os.sched_getaffinity(0)))] + command if shutil.which("taskset") else command
            )
        output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=600).stdout
        return json.loads(output.strip().splitlines()[-1])
    finally:
        os.unlink(handle.name)


def randomised_credentials(count: int, seed: int = 18) -> list[dict[str, Any]]:
    """Credentials of the benchmark's shape with awkward values (quotes, accents, line breaks, empty, long)."""
    rng = random.Random(seed)
    awkward = ["", '"', 'Dit "bonjour"', "back\\slash", "l1\nl2\r\nfin\t.", "Élodie Nguyễn ✓ 🎓", "x" * 3000]
    out = []
    for number in range(count):
        document = json.loads(json.dumps(sample_credential()))
        subject = document["credentialSubject"]
        achievement = subject["achievement"]
        document["id"] = f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
        achievement["name"] = rng.choice(awkward) + f" {number}"
        achievement["description"] = rng.choice(awkward)
        achievement["criteria"]["narrative"] = rng.choice(awkward)
        alignment = achievement["alignment"][0]
        achievement["alignment"] = [
            {**alignment, "targetName": rng.choice(awkward) + str(index), "targetUrl": f"https://r.example/{index}"}
            for index in range(number % 4)
        ] or [alignment]
        document["evidence"][0]["name"] = rng.choice(awkward)
        out.append(document)
    return out


def issue_18_rows(
    credential: dict[str, Any], ed: Any, p256: Any, vm: str, seed: bytes, seconds: float, runs: int, *, with_js: bool
) -> str:
    """The issue 18 rows: each measure with its same-run baseline, median of ``runs`` runs."""
    message = b"x" * 64
    counter = [0]

    def sign_new_created() -> object:
        # A new `created` on every call, as in a bulk award spread over time.
        counter[0] += 1
        n = counter[0]
        created = f"2025-{1 + n // 2419200 % 12:02d}-{1 + n // 86400 % 28:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"
        return sign_data_integrity(credential, ed, vm, created=created)

    extra: list[dict[str, object]] = [
        {"credential": item, "created": f"2025-04-01T10:00:{index:02d}Z"}
        for index, item in enumerate(randomised_credentials(12))
    ]
    ours = [
        sign_data_integrity(item["credential"], ed, vm, created=item["created"])["proof"][0]["proofValue"]  # type: ignore[arg-type]
        for item in extra
    ]
    samples: dict[str, list[float]] = {}
    same_proofs: list[bool] = []
    kid = "https://badges.example.fr/issuers/territoire-1/keys/1"
    for _ in range(runs):
        run: dict[str, float] = {}
        run["raw Ed25519"] = cpu_rate(lambda: ed.sign(message), seconds)
        run["raw ES256"] = cpu_rate(lambda: p256.sign(message), seconds)
        run["DI sign, new created"] = cpu_rate(sign_new_created, seconds)
        run["DI sign, same created"] = cpu_rate(
            lambda: sign_data_integrity(credential, ed, vm, created="2025-03-01T09:00:05Z"), seconds
        )
        for alg, key in (("ES256", p256), ("EdDSA", ed)):
            token = sign_vc_jwt(credential, key, kid)
            signing_input = token.rsplit(".", 1)[0].encode("ascii")
            run[f"VC-JWT {alg}"] = cpu_rate(lambda key=key: sign_vc_jwt(credential, key, kid), seconds)
            run[f"raw {alg} over the token's bytes"] = cpu_rate(
                lambda key=key, data=signing_input, alg=alg: key.sign(data, alg), seconds
            )
        js = (
            run_js(credential, seed, vm, "2025-03-01T09:00:05Z", max(50, int(40 * seconds)), extra) if with_js else None
        )
        if js is not None:
            run["DB JS sign"] = js.get("signPerCpuSecond", js["signPerSecond"])
            same_proofs.append(js["extraProofValues"] == ours)
        for name, value in run.items():
            samples.setdefault(name, []).append(value)
        ratios = {
            "DI new created / DB JS": run["DI sign, new created"] / run["DB JS sign"] if "DB JS sign" in run else 0.0,
            "raw Ed25519 / DI new created": run["raw Ed25519"] / run["DI sign, new created"],
            "raw Ed25519 / DI same created": run["raw Ed25519"] / run["DI sign, same created"],
            "raw ES256 / VC-JWT ES256": run["raw ES256"] / run["VC-JWT ES256"],
            "raw Ed25519 / VC-JWT EdDSA": run["raw Ed25519"] / run["VC-JWT EdDSA"],
            "raw ES256 same bytes / VC-JWT ES256": run["raw ES256 over the token's bytes"] / run["VC-JWT ES256"],
            "raw EdDSA same bytes / VC-JWT EdDSA": run["raw EdDSA over the token's bytes"] / run["VC-JWT EdDSA"],
        }
        for name, value in ratios.items():
            samples.setdefault(name, []).append(value)

    def med(name: str) -> float:
        return statistics.median(samples[name])

    has_js = "DB JS sign" in samples
    lines = [
        f"\nIssue 18 rows (median of {runs} runs, each ratio against a baseline of the same run; "
        "rates per second of CPU time, JavaScript's included)\n",
        "| measure | per CPU-second | same-run baseline | ratio (median) | target |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    if has_js:
        lines.append(
            f"| eddsa-rdfc-2022 sign, new `created` each time | {med('DI sign, new created'):,.0f} | "
            f"Digital Bazaar JS {med('DB JS sign'):,.0f}/s | {med('DI new created / DB JS'):.1f}× faster | ≥ 10× |"
        )
    lines += [
        f"| eddsa-rdfc-2022 sign, new `created` each time | {med('DI sign, new created'):,.0f} | "
        f"raw Ed25519 {med('raw Ed25519'):,.0f}/s | {med('raw Ed25519 / DI new created'):.1f}× the signature | ≤ 10× |",
        f"| eddsa-rdfc-2022 sign, same `created` | {med('DI sign, same created'):,.0f} | "
        f"raw Ed25519 {med('raw Ed25519'):,.0f}/s | {med('raw Ed25519 / DI same created'):.1f}× the signature | ≤ 10× |",
    ]
    for alg, raw_name in (("ES256", "raw ES256"), ("EdDSA", "raw Ed25519")):
        lines.append(
            f"| VC-JWT {alg} sign | {med(f'VC-JWT {alg}'):,.0f} | {raw_name} (64 bytes) {med(raw_name):,.0f}/s | "
            f"{med(f'{raw_name} / VC-JWT {alg}'):.2f}× | ≤ 1.3× |"
        )
        lines.append(
            f"| VC-JWT {alg} sign | {med(f'VC-JWT {alg}'):,.0f} | raw {alg} over the token's own bytes "
            f"{med(f'raw {alg} over the token' + chr(39) + 's bytes'):,.0f}/s | "
            f"{med(f'raw {alg} same bytes / VC-JWT {alg}'):.2f}× | ≤ 1.3× |"
        )
    record_issue_18(samples, runs)
    if same_proofs:
        lines.append(
            f"\nProofs identical to Digital Bazaar's on {len(extra)} randomised credentials: {all(same_proofs)}"
        )
    return "\n".join(lines)


def record_issue_18(samples: dict[str, list[float]], runs: int) -> None:
    """Rows 3 and 4 of issue 18 for bench/run_all.py's table (no database: "-")."""

    def med(name: str) -> float:
        return statistics.median(samples[name])

    note = f"median of {runs} runs, CPU time"
    di = f"{med('DI sign, new created'):,.0f}/s"
    # row, measure, value, same-run baseline, ratio, at most, at least
    figures: list[tuple[int, str, str, str, float, float | None, float | None]] = []
    if "DB JS sign" in samples:
        figures.append(
            (
                3,
                "eddsa-rdfc-2022 sign (new `created`), times faster than Digital Bazaar JS",
                di,
                f"DB JS {med('DB JS sign'):,.0f}/s",
                med("DI new created / DB JS"),
                None,
                10,
            )
        )
    figures.append(
        (
            3,
            "eddsa-rdfc-2022 sign (new `created`) ÷ raw Ed25519 signature",
            di,
            f"raw Ed25519 {med('raw Ed25519'):,.0f}/s",
            med("raw Ed25519 / DI new created"),
            10,
            None,
        )
    )
    for alg, raw_name in (("ES256", "raw ES256"), ("EdDSA", "raw Ed25519")):
        value = f"{med(f'VC-JWT {alg}'):,.0f}/s"
        own_bytes = f"raw {alg} {med(f'raw {alg} over the token' + chr(39) + 's bytes'):,.0f}/s"
        figures += [
            (
                4,
                f"VC-JWT {alg} sign ÷ raw signature of 64 bytes",
                value,
                f"{raw_name} {med(raw_name):,.0f}/s",
                med(f"{raw_name} / VC-JWT {alg}"),
                1.3,
                None,
            ),
            (
                4,
                f"VC-JWT {alg} sign ÷ raw signature of the token's own bytes",
                value,
                own_bytes,
                med(f"raw {alg} same bytes / VC-JWT {alg}"),
                1.3,
                None,
            ),
        ]
    for row, measure, value, baseline, ratio, at_most, at_least in figures:
        record(
            row,
            measure,
            value=value,
            baseline=baseline,
            ratio=ratio,
            at_most=at_most,
            at_least=at_least,
            database="-",
            note=note,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--no-js", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="runs of the issue 18 rows (median printed)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    seconds = args.seconds
    seed = bytes(range(32))
    ed = ed25519_key_from_seed(seed)
    p256 = generate_key("P-256")
    rsa = generate_key("RSA")
    credential = sample_credential()
    issuer_id = "https://badges.example.fr/issuers/territoire-1"
    vm = f"{issuer_id}#{ed.public.multibase()}"
    created = "2025-03-01T09:00:05Z"
    message = b"x" * 64
    rows: list[tuple[str, float, str]] = []

    raw = {
        "EdDSA": rate(lambda: ed.sign(message), seconds),
        "ES256": rate(lambda: p256.sign(message), seconds),
        "RS256": rate(lambda: rsa.sign(message), seconds),
    }
    for alg, value in raw.items():
        rows.append((f"raw {alg} sign (floor)", value, ""))

    signed = sign_data_integrity(credential, ed, vm, created=created)
    proof = signed["proof"][0]
    di_sign = rate(lambda: sign_data_integrity(credential, ed, vm, created=created), seconds)
    di_verify = rate(lambda: verify_data_integrity(signed, proof, ed.public), seconds)
    rows.append(("OB3 eddsa-rdfc-2022 sign", di_sign, ""))
    rows.append(("OB3 eddsa-rdfc-2022 verify", di_verify, ""))

    for alg, key in (("ES256", p256), ("RS256", rsa), ("EdDSA", ed)):
        kid = f"{issuer_id}/keys/{alg.lower()}"
        token = sign_vc_jwt(credential, key, kid)
        sign_rate = rate(lambda key=key, kid=kid: sign_vc_jwt(credential, key, kid), seconds)
        verify_rate = rate(
            lambda token=token, key=key: verify_jws(token, key.public, VC_JWT_ALGORITHMS, strict_ob3=True), seconds
        )
        rows.append((f"VC-JWT {alg} sign", sign_rate, f"raw/format = {raw[alg] / sign_rate:.2f}x"))
        rows.append((f"VC-JWT {alg} verify", verify_rate, ""))

    assertion = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "urn:uuid:2f1f3a52-8d1b-4b8a-9d2f-6c1e2b0b7a11",
        "recipient": {"type": "email", "hashed": True, "salt": "s", "identity": "sha256$0"},
        "badge": "https://badges.example.org/bc.json",
        "issuedOn": "2025-01-15T10:00:00Z",
        "verification": {"type": "SignedBadge", "creator": "https://k.example/1"},
    }
    ob2_rate = rate(lambda: sign_ob2_assertion(assertion, rsa), seconds)
    rows.append(("OB2 RS256 JWS sign", ob2_rate, f"raw/format = {raw['RS256'] / ob2_rate:.2f}x"))

    png = (
        (ROOT / "bench" / "sample.png").read_bytes()
        if (ROOT / "bench" / "sample.png").exists()
        else __import__("badges").qr_png("https://badges.example.fr/c/1", module_size=8)
    )
    text = json.dumps(signed)
    baked = bake_png(png, text)
    rows.append(("bake PNG (iTXt)", rate(lambda: bake_png(png, text), seconds), ""))
    rows.append(("unbake PNG", rate(lambda: unbake_png(baked), seconds), ""))
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect/></svg>'
    rows.append(("bake SVG", rate(lambda: bake_svg(svg, text), seconds), ""))

    bits = StatusList()
    for index in range(0, bits.size, 97):
        bits.set(index)
    rows.append((f"status list encode ({bits.size} entries)", rate(bits.encode, seconds), ""))

    js = None if args.no_js else run_js(credential, seed, vm, created, max(50, int(di_sign * seconds / 3)))
    issue_rows = issue_18_rows(credential, ed, p256, vm, seed, seconds, args.runs, with_js=not args.no_js)
    print(f"Python {sys.version.split()[0]}, one core; {seconds:.1f} s per measurement\n")
    print("| operation | per second | note |")
    print("| --- | ---: | --- |")
    for name, value, note in rows:
        print(f"| {name} | {value:,.0f} | {note} |")
    if js is not None:
        print(
            f"| Digital Bazaar JS eddsa-rdfc-2022 sign (same credential) | "
            f"{js['signPerSecond']:,.0f} | Python/JS = {di_sign / js['signPerSecond']:.2f}x |"
        )
        print(
            f"| Digital Bazaar JS eddsa-rdfc-2022 verify | {js['verifyPerSecond']:,.0f} | "
            f"Python/JS = {di_verify / js['verifyPerSecond']:.2f}x |"
        )
        print(f"\nSame proofValue in Python and JS: {js['proofValue'] == proof['proofValue']}")
    else:
        print("\n(JS comparison skipped: run `npm ci` in bench/js)")
    print(issue_rows)


if __name__ == "__main__":
    main()
