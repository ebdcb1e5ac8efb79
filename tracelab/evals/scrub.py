"""Redaction of eval cases before anything is written (on by default; ``--no-redact``).

Every string of a case goes through the project's :class:`tracelab.redact.Redactor` — prompts,
tool inputs and outcomes, error texts, templates, feedback notes, file paths and ids alike.
Tool inputs that parsed as JSON go through ``redact_value`` (so a ``"password": …`` key is
redacted by its name, and JSON inside strings is walked); everything else through
``redact_text``. Checks are derived *after* scrubbing (:func:`tracelab.evals.assertions.apply`
runs on the scrubbed case), so no assertion value can carry text the prompt does not.

Pseudonyms (home-directory user names, e-mails) depend on the redaction key: set
``TRACELAB_REDACT_KEY`` to get the same pseudonyms in every export.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields, is_dataclass, replace
from typing import Any

from tracelab.evals.case import Call, Case
from tracelab.redact import Policy, Redactor


class Scrubber:
    """Redacts cases and counts findings by detector kind."""

    def __init__(self, redactor=None) -> None:
        if redactor is None:
            redactor = Redactor(Policy())
        self.redactor = redactor
        self.findings: Counter[str] = Counter()

    @property
    def policy(self) -> str | None:
        fp = getattr(self.redactor, "fingerprint", None)
        return fp() if callable(fp) else None

    def _count(self, found) -> None:
        for f in found:
            self.findings[getattr(f, "kind", None) or getattr(f, "detector", None) or "finding"] += 1

    def text(self, s: str) -> str:
        out, found = self.redactor.redact_text(s)
        self._count(found)
        return out

    def value(self, v: Any) -> Any:
        """Redact a parsed JSON value from a trace (key names count)."""
        out, found = self.redactor.redact_value(v)
        self._count(found)
        return out

    def walk(self, v: Any) -> Any:
        """Redact our own structures: strings by text; keys are ours and kept."""
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, list):
            return [self.walk(x) for x in v]
        if isinstance(v, tuple):
            return tuple(self.walk(x) for x in v)
        if isinstance(v, dict):
            return {k: self.walk(x) for k, x in v.items()}
        if is_dataclass(v) and not isinstance(v, type):
            return self.dataclass(v)
        return v

    def dataclass(self, obj):
        changes = {}
        for f in fields(obj):
            cur = getattr(obj, f.name)
            if isinstance(obj, Call) and f.name == "input" and isinstance(cur, (dict, list)):
                changes[f.name] = self.value(cur)
            else:
                changes[f.name] = self.walk(cur)
        return replace(obj, **changes)

    def case(self, case: Case) -> Case:
        return self.dataclass(case)
