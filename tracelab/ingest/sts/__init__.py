"""Hugging Face Hub Session Trace Simple format (STS): read (``agent`` = the ``harness``) and
write (``tracelab export sts``, :func:`tracelab.ingest.sts.write.export_sts`).

STS files have no standard location: name them or their directory. Format notes: ``README.md``
beside this file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelab.ingest.registry import Adapter
from tracelab.ingest.sts.parse import AGENT, PARSER_VERSION, ROLES, StsParser

__all__ = ["ADAPTER", "sniff"]


def default_roots() -> list[Path]:
    return []


def discover(root: Path) -> Iterable[Path]:
    yield from sorted(p for p in root.rglob("*.jsonl") if p.is_file())


def sniff(objs: list[dict[str, Any]]) -> int:
    """The header ``{"type": "session", "harness": …}`` and ``{"type": "message", "message":
    {"role": …}}`` lines without Pi's ``id``/``parentId`` envelope."""
    score = 0
    for d in objs:
        t = d.get("type")
        if t == "session" and isinstance(d.get("harness"), str):
            score += 10
        elif t == "message" and "id" not in d and "parentId" not in d and isinstance(d.get("message"), dict) and d["message"].get("role") in ROLES:
            score += 3
    return score


def parse(path: str | Path, start_offset: int = 0, start_line: int = 0, state: dict | None = None):
    return StsParser(path, state).parse(start_offset, start_line)


ADAPTER = Adapter(
    name=AGENT,
    parser_version=PARSER_VERSION,
    parse=parse,
    sniff=sniff,
    default_roots=default_roots,
    discover=discover,
    env_var="",
)
