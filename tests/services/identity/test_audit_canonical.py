"""The hashed body of an audit event is the same bytes as before orjson wrote it (issue 18).

The chain's format: SHA-256 of the previous hash and ``json.dumps(body, sort_keys=True,
separators=(",", ":"), ensure_ascii=False, default=str)``. orjson now writes those bytes when it
writes them identically, json.dumps otherwise; the event's data is copied without a JSON round trip
when it is plain JSON already. Both are compared here with the former code on generated data, and
events hashed by the former code still verify.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import insert

from app.models import AuditEvent, AuditHead
from app.services.identity import audit

# Characters that stress escaping: quotes, backslash, every control character, DEL, line and
# paragraph separators, a BOM, accents, astral characters (emoji) and keys that sort apart in
# UTF-16 but not in code points.
AWKWARD = ['"', "\\", "/", *map(chr, range(0x20)), "\x7f", "\u2028", "\u2029", "\ufeff", "é", "Æ", "ễ", "«", "\uffff"]
AWKWARD += ["\ue000", "😀", "🎓", "𝔸"]


class Colour(Enum):
    RED = 1


def _former_body(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _former_digest(prev: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev + _former_body(body).decode()).encode()).hexdigest()


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the same failure is part of the same behaviour
        return type(exc)


texts = st.text(alphabet=st.one_of(st.sampled_from(AWKWARD), st.characters(exclude_categories=["Cs"])), max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(),  # beyond 64 bits too
    st.floats(),  # NaN and infinities included
    texts,
)
# What callers hand over and ``default=str`` turns into strings (or json writes its own way).
others = st.one_of(
    st.uuids(),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=2))])),
    st.dates(),
    st.decimals(allow_nan=False),
    st.just(Colour.RED),
)
plain = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=20,
)
anything = st.recursive(
    st.one_of(scalars, others),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(texts, inner, max_size=4),
        st.dictionaries(st.integers(-5, 5), inner, max_size=2),  # non-str keys: json writes them as strings
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain)
def test_plain_json_is_hashed_as_the_same_bytes(value: Any) -> None:
    body = {"seq": 1, "at": "2026-12-03T12:00:00+00:00", "action": "test", "data": {"v": value}}
    assert _outcome(audit.canonical_json, body) == _outcome(_former_body, body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(anything)
def test_any_data_is_hashed_as_the_same_bytes(value: Any) -> None:
    body = {"data": {"v": value, "list": [value]}, "subjectId": None}
    assert _outcome(audit.canonical_json, body) == _outcome(_former_body, body)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(texts, anything, max_size=5))
def test_event_data_is_what_the_json_round_trip_gave(data: dict[str, Any]) -> None:
    former = _outcome(lambda d: json.loads(json.dumps(d or {}, default=str)), data)
    now = _outcome(audit._event_data, data)
    # NaN is not equal to itself: compare what json writes of both.
    assert _outcome(json.dumps, now) == _outcome(json.dumps, former)
    if isinstance(now, dict) and data:
        assert now is not data  # a copy: the caller changing its dict later does not change the event


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(texts, plain, max_size=5), st.datetimes(timezones=st.just(UTC)), st.uuids())
def test_digest_is_the_former_digest(data: dict[str, Any], at: datetime, actor: uuid.UUID) -> None:
    prev = hashlib.sha256(b"prev").hexdigest()
    at = at.replace(microsecond=0)
    body = {
        "seq": 7,
        "at": at.isoformat(),
        "actor": str(actor),
        "for": None,
        "action": "credential.issued",
        "subjectType": "credential",
        "subjectId": "abc",
        "data": data,
    }
    expected = _outcome(_former_digest, prev, body)
    digest = _outcome(audit._digest, prev, 7, at, actor, None, "credential.issued", "credential", "abc", data)
    assert digest == expected


@pytest.mark.parametrize(
    "value",
    [
        1e-07,  # orjson writes 1e-7
        float("nan"),
        float("inf"),
        2**64,
        -(2**63) - 1,
        {1: "int key"},
        ("a", "tuple"),
        Colour.RED,  # orjson would write 1
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # orjson would write a "T"
        date(2026, 1, 2),
        Decimal("1.10"),
        uuid.UUID(int=1),
        "a\u2028b\x00c\x1fd\x7f😀",
    ],
    ids=[
        "small-float",
        "nan",
        "inf",
        "u64-plus-one",
        "i64-minus-one",
        "int-key",
        "tuple",
        "enum",
        "datetime",
        "date",
        "decimal",
        "uuid",
        "awkward-text",
    ],
)
def test_values_orjson_writes_otherwise_fall_back(value: Any) -> None:
    body = {"data": {"v": value}}
    assert audit.canonical_json(body) == _former_body(body)


def test_a_lone_surrogate_fails_as_before() -> None:
    body = {"data": {"v": "\ud800"}}
    with pytest.raises(UnicodeEncodeError):
        _former_body(body)
    with pytest.raises(UnicodeEncodeError):
        audit.canonical_json(body)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"texte": "élu « local »", "n": 3, "l": [None, True, "\u2028"], "😀": {"b": 1, "a": 2}},
            "45c188b2002785b91a49ecd9cf745ff495575302c619950faf946da5209fa2dc",
        ),
        (
            {"texte": "élu « local »", "n": 3, "x": 0.5, "l": [None, True, "\u2028"], "😀": {"b": 1, "a": 2}},
            "3e1ad5c1b2e7467d8a2555d1238d7bc4b34757294e52567c853b93f77a0ad878",
        ),
    ],
    ids=["orjson", "json-for-a-float"],
)
def test_a_known_event_keeps_its_hash(data: dict[str, Any], expected: str) -> None:
    """Hashes computed by the former code, written down: the chain's format is fixed."""
    at = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert audit._digest(audit.GENESIS, 1, at, uuid.UUID(int=5), None, "test.event", "thing", "1", data) == expected


def test_events_hashed_by_the_former_code_still_verify(session) -> None:
    """Rows as the former code wrote them (json.dumps bodies), then new events after them: one valid chain."""
    head = session.get(AuditHead, 1)
    prev, seq = (head.last_hash, head.last_seq) if head else (audit.GENESIS, 0)
    at = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    rows = []
    for n, data in enumerate(
        [{"x": 0.1, "y": 1e-07, "big": 2**62}, {"t": "é\u2028😀\x01", "l": [1, None]}, {}], start=1
    ):
        body = {
            "seq": seq + n,
            "at": at.isoformat(),
            "actor": None,
            "for": None,
            "action": "test.former",
            "subjectType": "thing",
            "subjectId": str(n),
            "data": data,
        }
        digest = _former_digest(prev, body)
        rows.append(
            {
                "seq": seq + n,
                "occurred_at": at,
                "actor_id": None,
                "on_behalf_of_id": None,
                "action": "test.former",
                "subject_type": "thing",
                "subject_id": str(n),
                "data": data,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    session.execute(insert(AuditEvent), rows)
    if head is None:
        session.add(AuditHead(id=1, last_seq=rows[-1]["seq"], last_hash=rows[-1]["hash"]))
    else:
        head.last_seq, head.last_hash = rows[-1]["seq"], rows[-1]["hash"]
    session.flush()
    audit.record(session, audit.Actor(None), "test.after", "thing", "r", {"y": 0.25, "z": "ü"})
    audit.append(session, audit.Actor(None), "test.after", "thing", "a", {"y": 1e-07})
    session.flush()
    report = audit.verify_chain(session)
    assert report.ok, report
    assert math.isclose(session.get(AuditEvent, rows[0]["seq"]).data["x"], 0.1)
