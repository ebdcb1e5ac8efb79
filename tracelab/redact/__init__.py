"""Redaction for coding-agent traces: safe-to-share JSONL, format-preserving, measured.

Public API (see ``tracelab/redact/README.md``)::

    from tracelab.redact import Redactor, Policy, POLICY_VERSION
    r = Redactor(Policy(key=b"..."))
    obj, findings = r.redact_value(parsed_json_line)     # decoded strings, nested JSON
    text, findings = r.redact_text("export TOKEN=...")
    line, findings, was_json = r.redact_line(raw_bytes)  # byte-preserving JSONL line
    r.fingerprint()                                       # record in the manifest

File/directory processing lives in :mod:`tracelab.redact.files`; the planted-secret benchmark in
:mod:`tracelab.redact.bench`.
"""

from tracelab.redact.engine import Redactor
from tracelab.redact.policy import POLICY_VERSION, Policy, env_secrets
from tracelab.redact.report import FileResult, Finding, Report

__all__ = ["Redactor", "Policy", "POLICY_VERSION", "Finding", "FileResult", "Report", "env_secrets"]
