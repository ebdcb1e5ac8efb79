"""OpenTelemetry GenAI adapter: span / log / metric exports of coding agents.

Reads the Copilot CLI's file exporter (``COPILOT_OTEL_FILE_EXPORTER_PATH``) and OTLP/JSON
(the collector's file exporter, Visual Studio Copilot trace files). Exports have no standard
location: name the files or their directory, or set ``COPILOT_OTEL_FILE_EXPORTER_PATH`` (the
Copilot CLI's own variable) for the default run. Format notes: ``README.md`` beside this file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tracelab.ingest.otel.parse import AGENT, PARSER_VERSION, OtelParser
from tracelab.ingest.registry import Adapter

__all__ = ["ADAPTER", "default_roots", "discover", "sniff", "sniff_document"]

_OTLP_HEAD = re.compile(rb'^\s*\{\s*"resource(Spans|Logs|Metrics)"\s*:')


def default_roots() -> list[Path]:
    env = os.environ.get("COPILOT_OTEL_FILE_EXPORTER_PATH")
    return [Path(env).expanduser()] if env else []


def discover(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    yield from sorted(p for p in root.rglob("*.jsonl") if p.is_file())


def sniff(objs: list[dict[str, Any]]) -> int:
    """OTLP/JSON requests (``resourceSpans`` / ``resourceLogs`` / ``resourceMetrics``) or the
    Copilot file exporter's ``{"type": "span" | "metric", traceId/spanId | dataPoints …}``."""
    score = 0
    for d in objs:
        if any(k in d for k in ("resourceSpans", "resourceLogs", "resourceMetrics")):
            score += 5
        elif d.get("type") == "span" and "spanId" in d and "traceId" in d:
            score += 5
        elif d.get("type") == "metric" and ("dataPoints" in d or "descriptor" in d):
            score += 3
        elif d.get("type") == "log" and ("body" in d or "attributes" in d):
            score += 2
    return score


def sniff_document(head: bytes, path: Path) -> int:
    return 6 if _OTLP_HEAD.match(head) else 0


def parse(path: str | Path, start_offset: int = 0, start_line: int = 0, state: dict | None = None):
    return OtelParser(path, state).parse(start_offset, start_line)


ADAPTER = Adapter(
    name=AGENT,
    parser_version=PARSER_VERSION,
    parse=parse,
    sniff=sniff,
    default_roots=default_roots,
    discover=discover,
    env_var="COPILOT_OTEL_FILE_EXPORTER_PATH",
    sniff_document=sniff_document,
)
