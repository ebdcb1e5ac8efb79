"""``tracelab ingest --redact``: the warehouse never holds what the redactor detects.

Every free-text column an adapter fills (message and tool text, tool inputs, unknown fields,
titles, working directories, branches) and every reject's raw text is passed through the
project redactor (:mod:`tracelab.redact`) before anything is written. Source file paths are
kept as they are, because incremental ingest needs them to find the files again; redact the
files themselves with ``tracelab redact`` to pseudonymise paths in a shared corpus.

The policy id (redaction policy version and the policy's fingerprint, never the key) is stored
in the manifest, so changing the policy re-parses every file.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pyarrow as pa

from tracelab.redact import POLICY_VERSION, Policy, Redactor

#: events columns that hold free text
COLUMNS = ("text", "tool_input", "extra", "title", "cwd", "git_branch")


class IngestRedactor:
    """Picklable wrapper: worker processes build their own :class:`tracelab.redact.Redactor`
    from the same policy and key, so pseudonyms agree across files and processes."""

    def __init__(self, key: str | bytes | None = None):
        if key is None:
            key = os.environ.get("TRACELAB_REDACT_KEY") or secrets.token_hex(32)
        self.key = key.encode() if isinstance(key, str) else key
        self._redactor: Redactor | None = None
        self.policy_id = f"{POLICY_VERSION}:{Policy(key=self.key).fingerprint()}"

    def __getstate__(self) -> dict:
        return {"key": self.key, "policy_id": self.policy_id}

    def __setstate__(self, state: dict) -> None:
        self.key = state["key"]
        self.policy_id = state["policy_id"]
        self._redactor = None

    @property
    def redactor(self) -> Redactor:
        if self._redactor is None:
            self._redactor = Redactor(Policy(key=self.key))
        return self._redactor

    def redact_text(self, text: Any) -> Any:
        if not isinstance(text, str) or not text:
            return text
        return self.redactor.redact_text(text)[0]

    def redact_events(self, table: pa.Table) -> pa.Table:
        for name in COLUMNS:
            if name not in table.column_names:
                continue
            idx = table.schema.get_field_index(name)
            values = table.column(name).to_pylist()
            table = table.set_column(idx, table.schema.field(idx), pa.array([self.redact_text(v) for v in values], pa.string()))
        return table
