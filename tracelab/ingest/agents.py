"""The names of the agent adapters, without importing them (the CLI's option choices and the
no-op stat cache need the names before anything heavy such as pyarrow is imported)."""

from __future__ import annotations

__all__ = ["ADAPTER_MODULES"]

#: Adapter modules (``tracelab.ingest.<name>``), in detection tie-break order. Each exposes ``ADAPTER``.
ADAPTER_MODULES = ("claude", "codex", "pi", "gemini", "copilot", "otel", "sts")
