"""Write cases as OpenAI-evals-style JSONL (``openai_evals.jsonl``).

One sample per line: ``{"input": [chat messages], "ideal": expected behaviour, "metadata": …}``
— the shape the ``openai/evals`` registry's match / includes / model-graded classes read
(``input`` as a list of ``{role, content}`` messages, ``ideal`` a string); ``metadata`` carries
the links back to the trace and the checks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tracelab.evals.case import Case

FILENAME = "openai_evals.jsonl"


def sample(case: Case) -> dict[str, Any]:
    return {"input": case.messages(), "ideal": case.expected, "metadata": case.metadata()}


def write(cases: Sequence[Case], out_dir: Path) -> Path:
    path = Path(out_dir) / FILENAME
    with open(path, "w", encoding="utf-8") as fh:
        for c in cases:
            fh.write(json.dumps(sample(c), ensure_ascii=False) + "\n")
    return path
