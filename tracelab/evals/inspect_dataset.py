"""Write cases as an Inspect AI dataset (``inspect_dataset.jsonl``) plus a task file.

One JSON object per line, in the fields ``inspect_ai.dataset.json_dataset`` reads by default:
``id`` (the case id), ``input`` (chat messages: system + user), ``target`` (the expected
behaviour) and ``metadata`` (links back to the trace, the observed failure, the checks).

``inspect_task.py`` beside it is a runnable Inspect task over that file: the model's answer is
scored by the case's own checks (:mod:`tracelab.evals.inspect_task`), no grader model needed
for the regression checks; cases whose expected behaviour comes from feedback are also graded
against it by ``model_graded_qa`` when ``-T rubric=true`` is given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracelab.evals.case import Case

FILENAME = "inspect_dataset.jsonl"
TASK_FILENAME = "inspect_task.py"

TASK_SOURCE = '''"""Inspect task over the tracelab eval export beside this file.

    inspect eval inspect_task.py --model openai/gpt-4.1-mini            # regression checks
    inspect eval inspect_task.py --model openai/gpt-4.1-mini -T rubric=true
"""

from pathlib import Path

from inspect_ai import task

from tracelab.evals.inspect_task import failure_replay


@task
def tracelab_failures(rubric: bool = False):
    return failure_replay(str(Path(__file__).resolve().parent / "inspect_dataset.jsonl"), rubric=rubric)
'''


def sample(case: Case) -> dict[str, Any]:
    return {"id": case.case_id, "input": case.messages(), "target": case.expected, "metadata": case.metadata()}


def write(cases: Sequence[Case], out_dir: Path) -> list[Path]:
    path = Path(out_dir) / FILENAME
    with open(path, "w", encoding="utf-8") as fh:
        for c in cases:
            fh.write(json.dumps(sample(c), ensure_ascii=False) + "\n")
    task = Path(out_dir) / TASK_FILENAME
    task.write_text(TASK_SOURCE, encoding="utf-8")
    return [path, task]
