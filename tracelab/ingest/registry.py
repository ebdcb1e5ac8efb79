"""The adapter contract and the list of adapters, with detection by content."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelab.ingest.base import head_objects

__all__ = ["ADAPTER_MODULES", "Adapter", "adapters", "detect", "get", "head_objects"]

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
