"""Session pages beside a report: each failure exemplar links to the step of its session's
page (``tracelab session KEY --html``), written next to the report as ``sessions/NAME.html``.

:func:`exemplar_pages` locates each exemplar's step (:func:`tracelab.session.locate.locate_steps`)
and renders one page per session it lands in; :func:`write_pages` writes them beside the
report. Links are relative (``sessions/NAME.html#step-N``), so the report and its pages move
together and open offline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["MAX_PAGES", "PAGES_DIR", "exemplar_pages", "page_name", "write_pages"]

#: the folder beside the report that holds the session pages
PAGES_DIR = "sessions"
#: at most this many session pages per report (exemplars beyond them keep their text only)
MAX_PAGES = 40

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def page_name(session_key: str) -> str:
    """The file name of a session's page: its key with every character outside
    ``[A-Za-z0-9._-]`` replaced by ``_`` (``claude:abc/agent-1`` -> ``claude_abc_agent-1.html``)."""
    return _UNSAFE.sub("_", session_key) + ".html"


def exemplar_pages(con: Any, event_keys: Iterable[str | None], *, max_pages: int = MAX_PAGES) -> tuple[dict[str, str], dict[str, str]]:
    """``(links, pages)``: ``links`` maps each exemplar event to ``sessions/NAME.html#step-N``
    (the step that shows it), ``pages`` maps ``NAME.html`` to the page's HTML. Sessions are
    taken in the order of their first exemplar, at most ``max_pages`` of them."""
    from tracelab.session.locate import locate_steps
    from tracelab.session.timeline import load
    from tracelab.session.view import SessionView

    keys = [k for k in dict.fromkeys(event_keys) if k]
    where = locate_steps(con, keys)
    chosen: list[str] = []
    for e in keys:
        if e in where and where[e][0] not in chosen and len(chosen) < max_pages:
            chosen.append(where[e][0])
    pages = {page_name(k): SessionView(load(con, k)).html() for k in chosen}
    links = {e: f"{PAGES_DIR}/{page_name(k)}#step-{n}" for e, (k, n) in where.items() if k in chosen}
    return links, pages


def write_pages(pages: dict[str, str], out_dir: str | Path) -> list[Path]:
    """Write ``pages`` into ``out_dir/sessions/``; returns the paths."""
    if not pages:
        return []
    d = Path(out_dir) / PAGES_DIR
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name, page in pages.items():
        p = d / name
        p.write_text(page, encoding="utf-8")
        out.append(p)
    return out
