"""See what an agent did: the session list and the step-by-step session view.

* :func:`sessions` — sessions newest first as a Polars DataFrame (``tracelab sessions``);
* :func:`session` — one session (and its subagents) as a :class:`SessionView`: ``.steps`` is a
  Polars DataFrame, ``.to_dict()`` the JSON of ``tracelab session --json``, ``.html()`` the
  self-contained page, and in a notebook the view displays as that page.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from tracelab.session.listing import sessions, sessions_table
from tracelab.session.model import Call, SessionNode, Step, Totals
from tracelab.session.timeline import AmbiguousSession, load, resolve
from tracelab.session.view import SessionView, session

__all__ = [
    "AmbiguousSession",
    "Call",
    "SessionNode",
    "SessionView",
    "Step",
    "Totals",
    "load",
    "resolve",
    "session",
    "sessions",
    "sessions_table",
]


class _CallableModule(types.ModuleType):
    """Lets ``tracelab.session(id, ...)`` be both this package and :func:`session` (the package
    becomes the attribute ``tracelab.session`` once imported, so the function has to be it)."""

    def __call__(self, id: str, warehouse: Any = None, **options: Any) -> SessionView:
        return session(id, warehouse, **options)


sys.modules[__name__].__class__ = _CallableModule
