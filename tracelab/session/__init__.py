"""See what an agent did: the session list and the step-by-step session view.

* :mod:`tracelab.session.listing` — :func:`~tracelab.session.listing.sessions`, sessions newest
  first as Polars (``tracelab sessions``; also ``tracelab.sessions``);
* :mod:`tracelab.session.view` — :func:`~tracelab.session.view.session`, one session and its
  subagents as a :class:`~tracelab.session.view.SessionView` (``tracelab session``; also
  ``tracelab.session``): ``.steps`` is a Polars DataFrame, ``.to_dict()`` the JSON of
  ``--json``, ``.html()`` the self-contained page, which a notebook displays;
* :mod:`tracelab.session.timeline` (the queries and the tree), :mod:`~tracelab.session.model`
  (steps, calls, totals), :mod:`~tracelab.session.render_text`,
  :mod:`~tracelab.session.render_html`, :mod:`~tracelab.session.locate` (event → step).

Nothing is imported here: ``import tracelab`` binds the name ``tracelab.session`` to the function
and must stay cheap. The names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["AmbiguousSession", "Call", "SessionNode", "SessionView", "Step", "Totals", "load", "resolve", "session", "sessions", "sessions_table"]

_WHERE = {
    "AmbiguousSession": "timeline",
    "load": "timeline",
    "resolve": "timeline",
    "Call": "model",
    "SessionNode": "model",
    "Step": "model",
    "Totals": "model",
    "SessionView": "view",
    "session": "view",
    "sessions": "listing",
    "sessions_table": "listing",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"tracelab.session.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'tracelab.session' has no attribute {name!r}")
