"""RDFC-1.0 canonicalisation with pyld over the pinned contexts, strict about undefined terms."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Callable
from typing import Any, cast

from pyld.jsonld import DEFAULT_BASE_IRI, JsonLdError, JsonLdProcessor

try:  # pyld's own N-Quads serialisation (pyld >= 3), so that both paths write the same bytes
    from pyld.nquads import RDF_LANGSTRING, XSD_STRING, escape
except ImportError:  # pragma: no cover - older pyld: the plain path only
    RDF_LANGSTRING = XSD_STRING = ""
    escape = None

from . import contexts
from .errors import ContextError, UndefinedTermError

_MEMO_LIMIT = 4096
_memo: dict[tuple[object, ...], tuple[object, object, object]] = {}
_pinned_ids: set[int] = set()
_pinned_terms: set[str] = set()
_pinned_ready = threading.Event()
_pinned_lock = threading.Lock()


def _scan_pinned_contexts() -> None:
    """Collect once the id() of every object and every key of the pinned context documents."""
    # Every nested object of the pinned documents stays alive in contexts._parsed, so
    # its id() is stable and cannot be reused by a caller's object.
    if not _pinned_ready.is_set():
        with _pinned_lock:
            if not _pinned_ready.is_set():

                def walk(value: object) -> None:
                    if isinstance(value, dict):
                        _pinned_ids.add(id(value))
                        for key, item in value.items():
                            _pinned_terms.add(key)
                            walk(item)
                    elif isinstance(value, list):
                        for item in value:
                            walk(item)

                for url in contexts.PINNED:
                    walk(contexts.context_document(url))
                _pinned_ready.set()


def _pinned_context_ids() -> set[int]:
    _scan_pinned_contexts()
    return _pinned_ids


def _context_key(local_ctx: object) -> object | None:
    """Return a memo key for a local context, or None when it must not be memoised."""
    if isinstance(local_ctx, str):
        return local_ctx
    if isinstance(local_ctx, list):
        parts: list[object] = []
        for item in local_ctx:
            key = _context_key(item)
            if key is None:
                return None
            parts.append(key)
        return tuple(parts)
    if isinstance(local_ctx, dict) and id(local_ctx) in _pinned_context_ids():
        return ("pinned", id(local_ctx))
    return None


class _Processor(JsonLdProcessor):
    """pyld processor that memoises context processing and records lost data.

    pyld re-processes every type-scoped context of the OB 3.0 context for every node
    (a fresh clone defeats its own cache); processing is a pure function of the active
    context and the (immutable, pinned) local context, so the result is memoised. This
    makes canonicalisation several times faster without touching the algorithm.
    """

    def __init__(self) -> None:
        super().__init__(on_property_dropped=self._dropped)
        self.dropped: list[str] = []
        self.relative: list[str] = []

    def _dropped(self, term: str | None) -> None:
        self.dropped.append(str(term))

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        local_key = _context_key(local_ctx)
        if local_key is None:
            return super()._process_context(
                active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
            )
        key = (
            id(active_ctx),
            local_key,
            override_protected,
            propagate,
            validate_scoped,
            options.get("base", ""),
            options.get("processingMode"),
        )
        hit = _memo.get(key)
        if hit is not None and hit[0] is active_ctx:
            return hit[2]
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        # Holding active_ctx keeps its id() from being reused while the entry lives.
        _memo[key] = (active_ctx, local_ctx, result)
        return result

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        _collect_relative(expanded, self.relative)
        return expanded


def _is_absolute(iri: str) -> bool:
    # pyld resolves relative IRIs against its placeholder base instead of keeping them.
    if iri.startswith(DEFAULT_BASE_IRI):
        return False
    scheme, sep, _ = iri.partition(":")
    return bool(sep) and scheme[:1].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


def _collect_relative(value: object, out: list[str]) -> None:
    """Record @id and @type values that RDF conversion would silently drop."""
    if isinstance(value, list):
        for item in value:
            _collect_relative(item, out)
        return
    if not isinstance(value, dict):
        return
    node_id = value.get("@id")
    if isinstance(node_id, str) and not node_id.startswith("_:") and not _is_absolute(node_id):
        out.append(node_id)
    types = value.get("@type")
    for type_ in types if isinstance(types, list) else [types]:
        if isinstance(type_, str) and not type_.startswith("_:") and not _is_absolute(type_):
            if type_ != "@json":
                out.append(type_)
    for key, item in value.items():
        if key not in ("@id", "@type", "@value", "@context"):
            _collect_relative(item, out)


def canonize(document: dict[str, Any], *, strict: bool = True) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document (pinned contexts only).

    With ``strict`` (the default, and always when signing), a term or type the contexts
    do not define raises UndefinedTermError instead of being dropped from the signature.
    Strict canonicalisation of a document whose shape was seen before takes the template path
    (see below), which gives the same N-Quads byte for byte.
    """
    if strict and escape is not None:
        nquads = _fast_canonize(document)
        if nquads is not None:
            return nquads
    return _plain_canonize(document, strict=strict)


def _plain_canonize(document: dict[str, Any], *, strict: bool) -> str:
    """RDFC-1.0 through pyld from the JSON-LD document (the reference path)."""
    processor = _Processor()
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": contexts.document_loader,
        "base": "",
    }
    try:
        nquads = processor.normalize(document, options)
    except JsonLdError as exc:
        raise ContextError(f"JSON-LD processing failed: {_root_cause(exc)}") from exc
    if strict and (processor.dropped or processor.relative):
        lost = sorted({term.removeprefix(DEFAULT_BASE_IRI) for term in processor.dropped + processor.relative})
        raise UndefinedTermError("terms not defined by the document's contexts: " + ", ".join(lost[:10]))
    if not isinstance(nquads, str):
        raise ContextError("canonicalisation returned no N-Quads")
    return nquads


def expand_strict(document: dict[str, Any]) -> list[Any]:
    """Expand a JSON-LD document over the pinned contexts as JSON-LD safe mode does.

    A term, type or id the contexts do not define (which plain expansion silently drops or
    leaves relative) raises UndefinedTermError; a context that is not pinned raises ContextError.
    """
    processor = _Processor()
    try:
        expanded = processor.expand(document, {"documentLoader": contexts.document_loader, "base": ""})
    except JsonLdError as exc:
        raise ContextError(f"JSON-LD processing failed: {_root_cause(exc)}") from exc
    if processor.dropped or processor.relative:
        lost = sorted({term.removeprefix(DEFAULT_BASE_IRI) for term in processor.dropped + processor.relative})
        raise UndefinedTermError("terms not defined by the document's contexts: " + ", ".join(lost[:10]))
    return list(expanded)


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    message = getattr(exc, "message", None) or str(exc)
    return str(message).splitlines()[0][:200]


# --- Fast path: canonicalisation from a cached RDF template of the document's shape ---------------
#
# Credentials issued for one achievement by one issuer share their JSON structure, contexts,
# types and terms; only string values (ids, names, dates) differ. JSON-LD expansion and RDF
# conversion of such a document are learnt once per shape: every string leaf is replaced by a
# unique sentinel, and a leaf whose sentinel comes out of RDF conversion unchanged, only ever as
# a whole literal's lexical form or as a whole IRI, is a *slot*: its value cannot change anything
# else, so the RDF quads of another document of that shape are the template's quads with the
# values put back. Every other leaf (a type, a vocabulary term, a language, a relative or compact
# IRI, ...) is structural: its value is part of the cache key. The quads then go through pyld's
# RDFC-1.0 as on the plain path, and the first document of every template is checked against the
# plain path byte for byte (a mismatch turns the fast path off for that template).

_TEMPLATE_LIMIT = 512
_NONCE = secrets.token_hex(6)
_MARK = f"x-blason-slot-{_NONCE}-"
_MARK_RE = re.compile(re.escape(_MARK) + r"(\d+)-")
# pyld's own test for an absolute IRI (jsonld._is_absolute_iri), kept identical on purpose.
_PYLD_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")
_XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_RDF_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
_LIT: tuple[str] = ("s",)
_OPEN_DICT, _CLOSE_DICT, _OPEN_LIST, _CLOSE_LIST = 0, 1, 2, 3
_shapes: dict[tuple[object, ...], frozenset[int]] = {}
_templates: dict[tuple[object, ...], _Template | None] = {}


class _NoFastPath(Exception):
    pass


class _Template:
    """The N-Quads lines of one shape and set of structural values, with their slots and blank nodes.

    A line is a tuple of tokens: a string is copied, ``(0, i)`` is leaf i escaped as a literal's
    lexical form, ``(1, i)`` is leaf i as an IRI, ``(2, label)`` is a blank node of the template.
    """

    __slots__ = ("lines", "iri_slots", "mentions")

    def __init__(self, lines: list[tuple[object, ...]], iri_slots: frozenset[int]) -> None:
        self.lines = lines
        self.iri_slots = iri_slots
        # The lines that name each blank node, once per position that names it (as pyld counts them).
        mentions: dict[str, list[int]] = {}
        for number, line in enumerate(lines):
            for token in line:
                if isinstance(token, tuple) and token[0] == 2:
                    mentions.setdefault(token[1], []).append(number)
        self.mentions = mentions


def _terms_of_pinned_contexts() -> set[str]:
    """Every key of every pinned context document: an IRI-looking value equal to one is a term."""
    _scan_pinned_contexts()
    return _pinned_terms


def _category(value: str) -> tuple[object, ...]:
    colon = value.find(":")
    if colon > 0:
        prefix = value[:colon]
        if prefix != "_" and _PYLD_ABSOLUTE.match(value) and _is_absolute(value):
            return ("i", prefix, value.startswith("//", colon + 1))
    return _LIT


def _shape_of(document: dict[str, Any]) -> tuple[tuple[object, ...], list[str]]:
    """Return the document's shape (structure, leaf categories, non-string values) and its string leaves."""
    context = document.get("@context")
    if isinstance(context, str):
        context_key: tuple[str, ...] = (context,)
    elif isinstance(context, list) and all(isinstance(item, str) for item in context):
        context_key = tuple(context)
    else:
        raise _NoFastPath
    parts: list[object] = [context_key]
    leaves: list[str] = []
    append = parts.append

    def walk(value: object) -> None:
        if isinstance(value, str):
            append(_category(value))
            leaves.append(value)
        elif isinstance(value, dict):
            append(_OPEN_DICT)
            for key, item in value.items():
                if key == "@context" or not isinstance(key, str):
                    raise _NoFastPath
                append(key)
                walk(item)
            append(_CLOSE_DICT)
        elif isinstance(value, list):
            append(_OPEN_LIST)
            for item in value:
                walk(item)
            append(_CLOSE_LIST)
        elif value is None:
            append(("z",))
        elif isinstance(value, bool):
            append(("b", value))
        elif isinstance(value, int):
            append(("n", value))
        elif isinstance(value, float):
            append(("f", repr(value)))
        else:
            raise _NoFastPath

    append(_OPEN_DICT)
    for key, item in document.items():
        if key == "@context":
            continue
        if not isinstance(key, str):
            raise _NoFastPath
        append(key)
        walk(item)
    append(_CLOSE_DICT)
    return tuple(parts), leaves


def _sentinel(index: int, leaf: str) -> str:
    category = _category(leaf)
    if category is _LIT:
        return f"{_MARK}{index}-"
    return f"{category[1]}:{'//' if category[2] else ''}{_MARK}{index}-"


def _replace_leaves(document: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """Return a copy of ``document`` whose string leaves (outside @context) are ``values`` in order."""
    feed = iter(values)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return next(feed)
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return {key: (item if key == "@context" else walk(item)) for key, item in document.items()}


def _to_rdf(document: dict[str, Any]) -> tuple[dict[str, list[dict[str, Any]]], bool]:
    """Return pyld's RDF dataset of ``document`` and whether strict mode would refuse it."""
    processor = _Processor()
    options = {
        "algorithm": "URDNA2015",
        "documentLoader": contexts.document_loader,
        "base": "",
        "produceGeneralizedRdf": False,
    }
    dataset = processor.to_rdf(document, options)
    return dataset, bool(processor.dropped or processor.relative)


def _classify(
    dataset: dict[str, list[dict[str, Any]]], sentinels: dict[str, int]
) -> tuple[set[int], set[int], set[int]]:
    """Return the slots seen as literals, as IRIs, and the leaves whose sentinel shows anywhere else."""
    literal: set[int] = set()
    iri: set[int] = set()
    bad: set[int] = set()

    def look(term: dict[str, Any] | None, graph: str | None = None) -> None:
        texts = [graph] if graph is not None else [term.get(f) for f in ("value", "datatype", "language")]  # type: ignore[union-attr]
        for text in texts:
            if not isinstance(text, str) or _MARK not in text:
                continue
            slot = sentinels.get(text)
            if graph is None and term is not None and text == term.get("value") and slot is not None:
                if term["type"] == "IRI":
                    iri.add(slot)
                    continue
                if term["type"] == "literal" and term.get("datatype") not in (_XSD_DOUBLE, _RDF_JSON):
                    literal.add(slot)
                    continue
            bad.update(int(found) for found in _MARK_RE.findall(text))

    for graph_name, triples in dataset.items():
        if graph_name != "@default":
            slot = sentinels.get(graph_name)
            if slot is not None and not graph_name.startswith("_:"):
                iri.add(slot)
            else:
                look(None, graph_name)
        for triple in triples:
            look(triple["subject"])
            look(triple["predicate"])
            look(triple["object"])
    return literal, iri, bad


def _compile(dataset: dict[str, list[dict[str, Any]]], sentinels: dict[str, int]) -> list[tuple[object, ...]]:
    """Turn pyld's quads into line templates, serialised exactly as pyld.nquads.serialize_nquad does."""
    lines: list[tuple[object, ...]] = []

    def node(component: dict[str, Any], out: list[object]) -> None:
        value = component["value"]
        if component["type"] == "blank node":
            out.append((2, value))
        elif value in sentinels:
            out.extend(("<", (1, sentinels[value]), ">"))
        else:
            out.append("<" + value + ">")

    for graph_name, triples in dataset.items():
        for triple in triples:
            out: list[object] = []
            node(triple["subject"], out)
            out.append(" ")
            node(triple["predicate"], out)
            out.append(" ")
            obj = triple["object"]
            if obj["type"] != "literal":
                node(obj, out)
            else:
                value = obj["value"]
                out.extend(('"', (0, sentinels[value]) if value in sentinels else escape(value), '"'))
                if obj["datatype"] == RDF_LANGSTRING:
                    if obj.get("language"):
                        out.append("@" + obj["language"])
                elif obj["datatype"] != XSD_STRING:
                    out.append("^^<" + obj["datatype"] + ">")
            if graph_name != "@default":
                out.append(" ")
                if graph_name.startswith("_:"):
                    out.append((2, graph_name))
                else:
                    node({"type": "IRI", "value": graph_name}, out)
            out.append(" .\n")
            # Adjacent constant text joined once.
            merged: list[object] = []
            for token in out:
                if isinstance(token, str) and merged and isinstance(merged[-1], str):
                    merged[-1] = str(merged[-1]) + token
                else:
                    merged.append(token)
            lines.append(tuple(merged))
    return lines


def _build_template(document: dict[str, Any], shape: tuple[object, ...], leaves: list[str]) -> _Template | None:
    structural = set(_shapes.get(shape, frozenset()))
    for _ in range(len(leaves) + 1):
        sentinels: dict[str, int] = {}
        values: list[str] = []
        for index, leaf in enumerate(leaves):
            if index in structural:
                values.append(leaf)
            else:
                sentinel = _sentinel(index, leaf)
                sentinels[sentinel] = index
                values.append(sentinel)
        try:
            dataset, refused = _to_rdf(_replace_leaves(document, values))
        except JsonLdError:
            return None
        literal, iri, bad = _classify(dataset, sentinels)
        unseen = set(sentinels.values()) - literal - iri
        # A leaf shown in another form (a type, a vocabulary term) may hide others behind it
        # (terms its type-scoped context defines): those are tried again once it is structural.
        grown = bad or unseen
        if not grown:
            if refused:
                return None
            _shapes[shape] = frozenset(structural)
            return _Template(_compile(dataset, sentinels), frozenset(iri))
        structural |= grown
    return None


def _template_key(shape: tuple[object, ...], leaves: list[str]) -> tuple[object, ...] | None:
    structural = _shapes.get(shape)
    if structural is None:
        return None
    return (shape, tuple(leaves[index] for index in sorted(structural)))


# Characters an IRI cannot hold (RFC 3987): kept out of IRI slots so that lines stay unambiguous.
_NOT_IN_IRI = frozenset('<>"{}|\\^`')


def _render(line: tuple[object, ...], leaves: list[str], escaped: dict[int, str], label: Callable[[str], str]) -> str:
    parts: list[str] = []
    for token in line:
        if isinstance(token, str):
            parts.append(token)
        else:
            kind, value = cast(tuple[int, Any], token)
            if kind == 0:
                parts.append(escaped[value])
            elif kind == 1:
                parts.append(leaves[value])
            else:
                parts.append(label(value))
    return "".join(parts)


def _first_degree_labels(node: str) -> Callable[[str], str]:
    """Hash First Degree Quads: the blank node hashed is _:a, every other one _:z."""
    return lambda value: "_:a" if value == node else "_:z"


def _canonical_from(template: _Template, leaves: list[str]) -> str | None:
    """RDFC-1.0 of the template's quads with ``leaves`` put back, or None to take the plain path.

    This is the algorithm's steps 1-5 and 7 as pyld runs them (same serialisation, same hashes,
    labels issued in the order of the sorted first-degree hashes). Step 6 (Hash N-Degree Quads)
    is only needed when first-degree hashes collide, and that case is left to the plain path.
    """
    terms = _terms_of_pinned_contexts()
    for slot in template.iri_slots:
        value = leaves[slot]
        if value in terms or not _PYLD_ABSOLUTE.match(value) or not _is_absolute(value) or _NOT_IN_IRI & set(value):
            return None
    escaped = {index: escape(value) for index, value in enumerate(leaves)}
    # The quads as a set: leaves that coincide (two nodes with one id) merge as pyld's node map does.
    keep: dict[str, int] = {}
    for number, line in enumerate(template.lines):
        keep.setdefault(_render(line, leaves, escaped, str), number)
    kept = set(keep.values())
    by_hash: dict[str, str] = {}
    for node, numbers in template.mentions.items():
        rows = sorted(
            _render(template.lines[number], leaves, escaped, _first_degree_labels(node))
            for number in numbers
            if number in kept
        )
        digest = hashlib.sha256("".join(rows).encode("utf-8")).hexdigest()
        if digest in by_hash:
            return None
        by_hash[digest] = node
    canonical = {node: f"_:c14n{index}" for index, (_, node) in enumerate(sorted(by_hash.items()))}
    return "".join(sorted(_render(template.lines[number], leaves, escaped, canonical.__getitem__) for number in kept))


def _fast_canonize(document: dict[str, Any]) -> str | None:
    """Return the canonical N-Quads from the shape's template, or None to take the plain path."""
    try:
        shape, leaves = _shape_of(document)
    except _NoFastPath:
        return None
    key = _template_key(shape, leaves)
    template = _templates.get(key) if key is not None else None
    verify = False
    if template is None:
        if key is not None and key in _templates:
            return None  # a template that once disagreed with the plain path
        template = _build_template(document, shape, leaves)
        built_key = _template_key(shape, leaves)
        if built_key is None:
            return None
        if len(_templates) >= _TEMPLATE_LIMIT:
            _templates.clear()
        _templates[built_key] = template
        if template is None:
            return None
        key, verify = built_key, True
    nquads = _canonical_from(template, leaves)
    if nquads is None:
        return None
    if verify and key is not None and nquads != _plain_canonize(document, strict=True):
        _templates[key] = None
        return None
    return str(nquads)
