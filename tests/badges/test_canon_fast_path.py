"""The template path of canonicalisation gives the plain PyLD path's N-Quads byte for byte (issue 18)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from badges import (
    Achievement,
    Alignment,
    Award,
    Criteria,
    Evidence,
    Profile,
    Recipient,
    StatusEntry,
    UndefinedTermError,
    build_ob3_credential,
    canon,
    sign_data_integrity,
)
from badges.keys import ed25519_key_from_seed
from badges.proofs import hash_data

from .conftest import ISSUER_ID

# Values that stress escaping and labelling: quotes, backslashes, accents, line breaks, tabs,
# empty and long strings, IRI-looking names, and values equal to one another.
AWKWARD = [
    "",
    '"',
    'Dit "bonjour"',
    "back\\slash",
    "ligne 1\nligne 2\r\nfin\t.",
    "Élodie Nguyễn-Ærø ✓ 🎓",
    "x" * 5000,
    "https://badges.example.fr/achievements/a",
    "urn:uuid:00000000-0000-0000-0000-000000000000",
    "mailto:camille@example.fr",
    "_:b0",
    "@id",
    "Note: deux-points",
    " espaces ",
]
IRIS = [
    "https://badges.example.fr/achievements/a",
    "https://badges.example.fr/achievements/b?x=1&y=%C3%A9#frag",
    "https://referentiel.example.fr/blocs/2",
    "urn:uuid:4f8c7a3e-2b1d-4c6e-9a0f-1e2d3c4b5a69",
    "did:example:learner-1234",
    "https://badges.example.fr/evidence/1",
]


TEXT_MEMBERS = frozenset({"name", "description", "narrative", "targetName", "targetCode", "targetDescription"})


def _credential(
    rng: random.Random | None = None, *, text: Any = None, iri: Any = None, alignments: int = 1, evidence: int = 1
) -> dict[str, Any]:
    pick_text = text or (lambda: rng.choice(AWKWARD) if rng.random() < 0.5 else f"Nom {rng.randrange(10**6)}")  # type: ignore[union-attr]
    safe = f"Nom {id(pick_text)}"
    pick_iri = iri or (lambda: rng.choice(IRIS) if rng.random() < 0.3 else f"https://x.example/{rng.randrange(10**9)}")  # type: ignore[union-attr]
    issuer = Profile(id=ISSUER_ID, name=safe, url="https://badges.example.fr", email="contact@example.fr")
    achievement = Achievement(
        id=pick_iri(),
        name=safe,
        description=safe,
        criteria=Criteria(narrative=safe),
        achievement_type="Competency",
        alignments=tuple(
            Alignment(
                target_name=safe,
                target_url=pick_iri(),
                target_code=safe,
                target_description=safe,
                target_type="ext:RNCPBlock",
            )
            for _ in range(alignments)
        ),
    )
    credential = build_ob3_credential(
        Award(
            id=pick_iri(),
            issuer=issuer,
            recipient=Recipient(did="did:example:learner-1234", email="camille@example.fr", salt=safe),
            achievement=achievement,
            valid_from=datetime(2025, 3, 1, 9, tzinfo=UTC),
            evidence=tuple(Evidence(id=pick_iri(), name=safe, narrative=safe) for _ in range(evidence)),
            status=(StatusEntry("https://badges.example.fr/status/1", 42),),
        )
    )
    # The builder refuses some empty values; the canonicalisation must take any string.
    _override(credential, pick_text)
    return credential


def _override(value: Any, pick_text: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _override(item, pick_text)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in TEXT_MEMBERS and isinstance(item, str):
                value[key] = pick_text()
            else:
                _override(item, pick_text)


def _fast_twice(document: dict[str, Any]) -> str | None:
    # The first call of a new template checks itself against the plain path and hides a
    # mismatch; the second call is the unchecked fast path that must stand on its own.
    canon._fast_canonize(document)
    return canon._fast_canonize(document)


def test_randomised_credentials_match_the_plain_path_and_take_the_fast_path() -> None:
    rng = random.Random(18)
    fast = 0
    for number in range(150):
        document = _credential(rng, alignments=number % 4, evidence=number % 3)
        plain = canon._plain_canonize(document, strict=True)
        result = _fast_twice(document)
        if result is not None:
            fast += 1
            assert result == plain, number
        assert canon.canonize(document) == plain
    # Only first-degree hash collisions (two identical alignments) may leave the fast path.
    assert fast >= 140


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(
        st.one_of(st.sampled_from(AWKWARD), st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)),
        min_size=1,
        max_size=30,
    ),
    iris=st.lists(
        st.one_of(
            st.sampled_from(IRIS),
            st.builds("https://x.example/{}".format, st.text("abcé%/?#=&0123456789", max_size=20)),
        ),
        min_size=1,
        max_size=10,
    ),
    alignments=st.integers(0, 4),
    evidence=st.integers(0, 3),
)
def test_generated_credentials_match_the_plain_path(
    names: list[str], iris: list[str], alignments: int, evidence: int
) -> None:
    texts, links = iter(names * 40), iter(iris * 40)
    document = _credential(text=lambda: next(texts), iri=lambda: next(links), alignments=alignments, evidence=evidence)
    result = _fast_twice(document)
    if result is not None:
        assert result == canon._plain_canonize(document, strict=True)


def test_proofs_with_a_new_created_match_the_plain_path() -> None:
    key = ed25519_key_from_seed(bytes(range(32)))
    method = f"{ISSUER_ID}#{key.public.multibase()}"
    document = _credential(random.Random(1))
    start = datetime(2025, 3, 1, 9, tzinfo=UTC)
    for second in range(5):
        created = start + timedelta(seconds=second)
        proof = sign_data_integrity(document, key, method, created=created)["proof"][0]
        config = {key_: value for key_, value in proof.items() if key_ != "proofValue"}
        config["@context"] = document["@context"]
        assert _fast_twice(config) == canon._plain_canonize(config, strict=True)
        expected = canon._plain_canonize(config, strict=True), canon._plain_canonize(document, strict=True)
        assert hash_data(document, proof) == b"".join(hashlib.sha256(part.encode()).digest() for part in expected)


def test_undefined_terms_and_relative_ids_are_refused_after_a_template_exists() -> None:
    document = _credential(random.Random(2))
    canon.canonize(document)
    canon.canonize(document)
    with pytest.raises(UndefinedTermError):
        canon.canonize({**document, "notATerm": "x"})
    relative = {**document, "credentialSubject": {**document["credentialSubject"], "id": "learners/1"}}
    with pytest.raises(UndefinedTermError):
        canon.canonize(relative)
    # An IRI slot given a value that is not an absolute IRI leaves the template path.
    spaced = {**document, "id": "https://x.example/a b"}
    assert canon._fast_canonize(spaced) is None or canon._fast_canonize(spaced) == canon._plain_canonize(
        spaced, strict=True
    )


def test_coinciding_ids_merge_as_in_the_plain_path() -> None:
    # Evidence and achievement sharing one id: pyld merges the two nodes; the template must too.
    document = _credential(random.Random(3), evidence=2)
    template_first = _credential(random.Random(4), evidence=2)
    canon.canonize(template_first)
    same = "https://badges.example.fr/shared-node"
    subject = document["credentialSubject"]
    subject["achievement"]["id"] = same
    for item in document["evidence"]:
        item["id"] = same
        item["name"] = "même nom"
    assert _fast_twice(document) in (None, canon._plain_canonize(document, strict=True))
