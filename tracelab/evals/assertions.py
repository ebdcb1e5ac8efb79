"""What a case expects: checks derived from the failure, and the expected behaviour.

Regression checks (always, when they can be built):

* ``no_repeat_call`` — the answer must not contain the failing call's *signature*: the one
  argument that identifies what was attempted (a shell command, an edit's ``old_string``, a
  search pattern, a URL, a path; the first line when it spans several). For a loop the failing
  call is the first repetition, so this reads "must not repeat tool call X".
* ``no_error_template`` — the answer must not show the failure again: the failure cluster's
  template (``bash: <*> command not found``) as a case-insensitive pattern, each placeholder
  matching any text and whitespace matching any run of whitespace. A template without
  placeholders that occurs verbatim in the observed text becomes a plain ``not_icontains``.
  Templates that are canned sentences (loops, retry storms, rejections, interrupts, abandoned
  sessions) are not used: they describe the episode, not text an answer could contain.

Expected behaviour: the newest, most specific feedback label that applies (one on the event
or tool call, else on the failure cluster, else on the session): its note; a label without a
note adds its words to the regression statement. Exported as a ``rubric`` check. Without
feedback the expected behaviour is the regression statement.
"""

from __future__ import annotations

import re
from typing import Any

from tracelab.evals.case import Case, Check

#: Families whose template is text the failing tool / API produced (usable as a pattern).
TEXT_FAMILIES = frozenset({"tool_error", "permission_denied", "hook_block", "hook_error", "api_error", "rate_limit", "context_exhaustion"})
#: Input keys naming what a call attempted, most telling first.
SIGNATURE_KEYS = ("command", "cmd", "old_string", "pattern", "url", "query", "file_path", "path", "notebook_path")
_SHELLS = {"bash", "sh", "zsh", "/bin/bash", "/bin/sh", "/bin/zsh", "/usr/bin/bash"}
_PLACEHOLDER = re.compile(r"<(\*|[A-Z]+)>")
_JS_SPECIAL = re.compile(r"[\\^$.|?*+()\[\]{}/-]")
#: A pattern needs this many literal characters to be specific enough to be worth asserting.
MIN_LITERAL = 8
MIN_SIGNATURE = 4


def _escape(text: str) -> str:
    """Escape for a pattern valid in both JavaScript ``RegExp`` and Python ``re``."""
    return _JS_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def template_pattern(template: str | None) -> str | None:
    """The template as a case-insensitive pattern, or None if it has too little literal text."""
    if not template:
        return None
    pieces = _PLACEHOLDER.split(template)
    out: list[str] = []
    literal = 0
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            out.append(".+?")
            continue
        words = piece.split()
        if not words:
            if piece and out:
                out.append(r"\s*")
            continue
        literal += sum(len(w) for w in words)
        body = r"\s+".join(_escape(w) for w in words)
        if piece[:1].isspace() and out:
            body = r"\s*" + body
        if piece[-1:].isspace() and i + 1 < len(pieces):
            body += r"\s*"
        out.append(body)
    if literal < MIN_LITERAL:
        return None
    return "".join(out)


def call_signature(tool_name: str | None, call_input: Any) -> str | None:
    """The argument that identifies what a call attempted (see the module docstring)."""
    value: Any = None
    if isinstance(call_input, dict):
        for key in SIGNATURE_KEYS:
            v = call_input.get(key)
            if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                v = v[2] if len(v) >= 3 and v[0] in _SHELLS and v[1] in ("-lc", "-c") else " ".join(v)
            if isinstance(v, str) and v.strip():
                value = v
                break
    elif isinstance(call_input, str):
        lines = [ln.strip() for ln in call_input.splitlines() if ln.strip()]
        # a raw patch: the first file header says what it touched
        heads = [ln for ln in lines if ln.startswith(("*** Update File:", "*** Add File:", "*** Delete File:"))]
        value = heads[0] if heads else (lines[0] if lines else None)
    if not isinstance(value, str):
        return None
    first = next((ln.strip() for ln in value.splitlines() if ln.strip()), "")
    return first if len(first) >= MIN_SIGNATURE else None


def _humanize(label: str) -> str:
    return re.sub(r"[-_]+", " ", label).strip()


def choose_feedback(rows: list[dict], case: Case) -> dict | None:
    """The newest row of the most specific level that has one (rows: feedback dicts)."""
    levels = (
        {("event", case.event_key), ("tool_call", case.tool_call_key)},
        {("cluster", case.cluster_id)},
        {("session", case.session_key)},
    )
    for level in levels:
        hits = [r for r in rows if (r["target_type"], r["target_key"]) in level]
        if hits:
            return max(hits, key=lambda r: (r["created_at"] or "", r["feedback_id"]))
    return None


def apply(case: Case) -> Case:
    """Fill ``case.checks``, ``case.expected`` and ``case.expected_source`` from its fields."""
    checks: list[Check] = []
    parts: list[str] = []
    fc = case.failing_call
    sig = call_signature(fc.tool_name, fc.input) if fc else None
    if fc is not None and sig:
        how = "identical" if case.family == "loop" else {"user_rejected": "rejected", "interrupted": "interrupted"}.get(fc.status or "", "failed")
        what = f"{how} {fc.tool_name} call"
        checks.append(Check("not_contains", "no_repeat_call", sig, f"must not repeat the {what}"))
        parts.append(f"does not repeat the {what} `{sig}`")
    if case.template and (case.family in TEXT_FAMILIES or case.family is None):
        has_placeholder = bool(_PLACEHOLDER.search(case.template))
        observed = (case.observed or case.excerpt or "").lower()
        if not has_placeholder and len(case.template) >= MIN_LITERAL and case.template.lower() in observed:
            checks.append(Check("not_icontains", "no_error_template", case.template, "must not produce the observed error again"))
            parts.append(f"does not run into “{case.template}” again")
        else:
            pat = template_pattern(case.template)
            if pat:
                checks.append(Check("not_regex", "no_error_template", pat, f"must not produce an error matching the template “{case.template}”"))
                parts.append(f"does not run into “{case.template}” again")
    if parts:
        regression = "Continues the task and " + " and ".join(parts) + "."
    else:
        lines = (case.observed or "").strip().splitlines()
        what = case.template or (lines[0] if lines else "the failure")
        regression = f"Continues the task without the failure “{what}”."
    chosen = choose_feedback(case.feedback, case)
    if chosen is not None:
        text = chosen.get("note") or f"{regression} Reviewer label: {_humanize(chosen['label'])}."
        case.expected = text
        case.expected_source = f"feedback {chosen['feedback_id']} ({chosen['target_type']} label “{chosen['label']}”)"
        checks.append(Check("rubric", "expected_behaviour", text, f"expected behaviour from feedback label “{chosen['label']}”"))
    else:
        case.expected = regression
        case.expected_source = "regression"
    case.checks = checks
    return case
