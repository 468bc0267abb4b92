"""The function that answers the current request, for hooks that read marks set on views."""

from __future__ import annotations

from typing import Any

from flask import current_app, request


def current_view() -> Any:
    """The view function of the current request; for a MethodView, the function of its method."""
    view: Any = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:  # a MethodView: the method's function carries the marks
        view = getattr(view_class, request.method.lower(), None) or getattr(view_class, "get", None)
    return view
