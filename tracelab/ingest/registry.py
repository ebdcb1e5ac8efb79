"""The adapter contract and the list of adapters, with detection by content."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

#: Adapter modules, in detection tie-break order. Each exposes ``ADAPTER``.
ADAPTER_MODULES = ("claude", "codex", "pi")


@dataclass(frozen=True)
class Adapter:
    name: str
    parser_version: str
    #: parse(path, start_offset, start_line, state) -> ParseResult
    parse: Callable[..., Any]
    #: score of the first decoded objects of a file (0 = not this agent)
    sniff: Callable[[list[dict[str, Any]]], int]
    default_roots: Callable[[], list[Path]]
    discover: Callable[[Path], Iterable[Path]]
    env_var: str


_CACHE: dict[str, Adapter] = {}


def adapters() -> dict[str, Adapter]:
    if not _CACHE:
        for name in ADAPTER_MODULES:
            mod = importlib.import_module(f"tracelab.ingest.{name}")
            _CACHE[name] = mod.ADAPTER
    return dict(_CACHE)


def get(name: str) -> Adapter:
    ads = adapters()
    if name not in ads:
        raise KeyError(f"unknown agent {name!r}; known: {', '.join(ads)}")
    return ads[name]


def head_objects(path: str | Path, max_lines: int = 20, max_bytes: int = 4 << 20) -> list[dict[str, Any]]:
    """Decode up to ``max_lines`` non-blank lines from the start of a file (bad lines skipped).
    Lines longer than ``max_bytes`` are skipped without being read whole."""
    out: list[dict[str, Any]] = []
    with open(path, "rb") as fh:
        seen = 0
        while seen < max_lines * 3 and len(out) < max_lines:
            raw = fh.readline(max_bytes)
            if not raw:
                break
            seen += 1
            if not raw.endswith(b"\n") and len(raw) >= max_bytes:
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(max_bytes)
                continue
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def detect(path: str | Path) -> Adapter | None:
    """The adapter whose ``sniff`` scores the file's first lines highest (None if none does)."""
    objs = head_objects(path)
    if not objs:
        return None
    best, best_score = None, 0
    for ad in adapters().values():
        score = ad.sniff(objs)
        if score > best_score:
            best, best_score = ad, score
    return best
