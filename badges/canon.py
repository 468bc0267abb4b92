"""RDFC-1.0 canonicalisation with pyld over the pinned contexts, strict about undefined terms."""

from __future__ import annotations

import threading
from typing import Any

from pyld.jsonld import DEFAULT_BASE_IRI, JsonLdError, JsonLdProcessor

from . import contexts
from .errors import ContextError, UndefinedTermError

_MEMO_LIMIT = 4096
_memo: dict[tuple[object, ...], tuple[object, object, object]] = {}
_pinned_ids: set[int] = set()
_pinned_ready = threading.Event()
_pinned_lock = threading.Lock()


def _pinned_context_ids() -> set[int]:
    # Every nested object of the pinned documents stays alive in contexts._parsed, so
    # its id() is stable and cannot be reused by a caller's object.
    if not _pinned_ready.is_set():
        with _pinned_lock:
            if not _pinned_ready.is_set():

                def walk(value: object) -> None:
                    if isinstance(value, dict):
                        _pinned_ids.add(id(value))
                        for item in value.values():
                            walk(item)
                    elif isinstance(value, list):
                        for item in value:
                            walk(item)

                for url in contexts.PINNED:
                    walk(contexts.context_document(url))
                _pinned_ready.set()
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
    """
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
