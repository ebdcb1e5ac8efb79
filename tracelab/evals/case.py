"""One eval case: the situation an agent was in, what went wrong, and what should happen instead.

A :class:`Case` is format-neutral; the writers (:mod:`~tracelab.evals.promptfoo`,
:mod:`~tracelab.evals.inspect_dataset`, :mod:`~tracelab.evals.openai_evals`) render the same
case three ways. Its parts:

* **task context** — the user request (the session's last user prompt before the failure), the
  working directory / project / git branch, and the tool calls made since that request
  (oldest first, each with its outcome);
* **failing call** — the tool call that failed (its input), when the failure was a tool call;
* **observed failure** — the error text, the failure cluster and its template;
* **expected behaviour** — from a feedback label when one applies, otherwise a regression
  statement built from the failure (:mod:`~tracelab.evals.assertions`);
* **checks** — format-neutral assertions (:class:`Check`), mapped to each tool's own types;
* **links** — session key and id, source file, line of the failure and of the call.

The prompt (:meth:`Case.messages`) shows the context *up to* the failing call and asks for the
next step, so a run of the eval asks: given the same situation, does the model make the same
mistake?
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

#: Caps on text put into prompts (characters); the full texts are not needed to pose the task.
REQUEST_CAP = 4000
INPUT_CAP = 1500
OUTCOME_CAP = 300
OBSERVED_CAP = 2000


def clip(text: str | None, cap: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= cap else text[: cap - 1] + "…"


@dataclass
class Call:
    """A tool call in the context (or the failing call)."""

    tool_name: str | None
    input: Any  # parsed JSON input when it parses, else the raw text
    status: str | None
    outcome: str | None  # first characters of the error / output text
    tool_call_key: str | None = None
    tool_call_id: str | None = None
    line_no: int | None = None

    def render(self) -> str:
        if isinstance(self.input, str):
            shown = self.input
        else:
            shown = json.dumps(self.input, ensure_ascii=False, sort_keys=True)
        text = f"{self.tool_name} {clip(shown, INPUT_CAP)}"
        if self.status:
            text += f"\n   → {self.status}"
            if self.outcome:
                text += ": " + (clip(" ".join(self.outcome.split()), OUTCOME_CAP) or "")
        return text


@dataclass
class Check:
    """A format-neutral assertion about the model's answer.

    ``kind``: ``not_contains`` (case-sensitive substring must be absent), ``not_icontains``
    (case-insensitive), ``not_regex`` (JavaScript/Python-compatible pattern, case-insensitive,
    must not match) or ``rubric`` (a grader model judges the answer against ``value``).
    ``name`` is the metric (``no_repeat_call``, ``no_error_template``, ``expected_behaviour``).
    """

    kind: str
    name: str
    value: str
    description: str


@dataclass
class Case:
    case_id: str
    origin: str  # how it was selected: "cluster te-…", "query tool_loops row 3", "sql row 1"
    # failure
    cluster_id: str | None
    family: str | None
    cluster_name: str | None
    template: str | None
    excerpt: str | None
    status: str | None
    observed: str | None
    # where
    agent: str | None
    model: str | None
    session_key: str
    session_id: str | None
    project: str | None
    cwd: str | None
    git_branch: str | None
    event_key: str | None
    tool_call_key: str | None
    source_file: str | None
    line_no: int | None
    call_line_no: int | None
    ts: str | None
    # task context
    user_request: str | None
    preceding_calls: list[Call] = field(default_factory=list)
    omitted_calls: int = 0
    failing_call: Call | None = None
    # expectation
    feedback: list[dict] = field(default_factory=list)
    expected: str = ""
    expected_source: str = "regression"
    checks: list[Check] = field(default_factory=list)

    # ------------------------------------------------------------------ rendering
    def system_prompt(self) -> str:
        where = self.cwd or (f"the project {self.project}" if self.project else "a repository")
        extra = []
        if self.project:
            extra.append(f"project {self.project}")
        if self.git_branch:
            extra.append(f"git branch {self.git_branch}")
        more = f" ({', '.join(extra)})" if extra else ""
        return (
            f"You are a coding agent working in {where}{more}. You can run tools (shell commands, "
            "file reads and edits). Decide your next step for the user's request below: answer "
            'with the single tool call you would make next, as JSON {"tool": NAME, "input": {...}}, '
            "or with your reply to the user if no tool call is needed."
        )

    def user_prompt(self) -> str:
        parts = [clip(self.user_request, REQUEST_CAP) or "(The session's request was not recorded; continue the task shown below.)"]
        if self.preceding_calls:
            lines = []
            if self.omitted_calls:
                lines.append(f"({self.omitted_calls} earlier tool calls not shown)")
            for i, c in enumerate(self.preceding_calls, 1):
                lines.append(f"{i}. {c.render()}")
            parts.append("Tool calls you have made so far for this request (oldest first):\n" + "\n".join(lines))
        parts.append("What is your next step?")
        return "\n\n".join(parts)

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system_prompt()}, {"role": "user", "content": self.user_prompt()}]

    def links(self) -> dict[str, Any]:
        return {
            "session_key": self.session_key,
            "session_id": self.session_id,
            "source_file": self.source_file,
            "line_no": self.line_no,
            "call_line_no": self.call_line_no,
            "event_key": self.event_key,
            "tool_call_key": self.tool_call_key,
        }

    def metadata(self) -> dict[str, Any]:
        """Everything but the prompt, JSON-ready (writers put it in each format's metadata)."""
        return {
            "case_id": self.case_id,
            "origin": self.origin,
            "cluster_id": self.cluster_id,
            "family": self.family,
            "cluster_name": self.cluster_name,
            "template": self.template,
            "agent": self.agent,
            "model": self.model,
            "project": self.project,
            "cwd": self.cwd,
            "git_branch": self.git_branch,
            "ts": self.ts,
            **self.links(),
            "status": self.status,
            "observed_failure": self.observed,
            "failing_call": asdict(self.failing_call) if self.failing_call else None,
            "preceding_calls": len(self.preceding_calls) + self.omitted_calls,
            "expected": self.expected,
            "expected_source": self.expected_source,
            "feedback": self.feedback,
            "checks": [asdict(c) for c in self.checks],
        }
