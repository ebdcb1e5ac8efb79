"""An Inspect AI task over an exported dataset, scored by the cases' own checks.

``failure_replay(path)`` loads ``inspect_dataset.jsonl`` with ``json_dataset``, asks the model
for its next step (``generate()``), and scores the answer with :func:`trace_checks`: *correct*
when no check fails — the answer does not contain the failed call's signature, does not match
the error template — and *incorrect* otherwise, with the failed checks in the explanation.
``rubric=True`` adds ``model_graded_qa`` against the target (the expected behaviour, from a
feedback label when there is one). Needs ``inspect-ai`` (the ``dev`` extra).
"""

from __future__ import annotations

import re
from typing import Any


def failed_checks(answer: str, checks: list[dict[str, Any]]) -> list[str]:
    """Names of the non-rubric checks that ``answer`` fails (rubrics need a grader model)."""
    out = []
    low = answer.lower()
    for c in checks:
        kind, value = c["kind"], c["value"]
        if kind == "not_contains" and value in answer:
            out.append(c["name"])
        elif kind == "not_icontains" and value.lower() in low:
            out.append(c["name"])
        elif kind == "not_regex" and re.search(value, answer, re.IGNORECASE):
            out.append(c["name"])
    return out


def trace_checks():
    from inspect_ai.scorer import CORRECT, INCORRECT, Score, accuracy, scorer, stderr

    @scorer(metrics=[accuracy(), stderr()])
    def _trace_checks():
        async def score(state, target):
            answer = state.output.completion
            failed = failed_checks(answer, (state.metadata or {}).get("checks", []))
            return Score(
                value=INCORRECT if failed else CORRECT,
                answer=answer,
                explanation=("failed: " + ", ".join(failed)) if failed else "no check failed",
            )

        return score

    return _trace_checks()


def failure_replay(dataset_path: str, *, rubric: bool = False):
    from inspect_ai import Task
    from inspect_ai.dataset import json_dataset
    from inspect_ai.scorer import model_graded_qa
    from inspect_ai.solver import generate

    scorers = [trace_checks()] + ([model_graded_qa()] if rubric else [])
    return Task(dataset=json_dataset(dataset_path), solver=generate(), scorer=scorers)
