"""Eval export: trace failures (or any selection) as runnable eval suites (see ``README.md``).

Public API::

    export(warehouse, out, top=5 | clusters=[...] | query="tool_loops", params={...} | sql="…",
           formats=("promptfoo", "inspect", "openai"), redact=True)        -> ExportResult
    build_cases(warehouse, …same selection…)                                 -> list[Case]

Formats: a Promptfoo config (``promptfooconfig.yaml``), an Inspect AI dataset
(``inspect_dataset.jsonl``, plus ``inspect_task.py`` to run it) and OpenAI-evals-style JSONL
(``openai_evals.jsonl``); ``export.json`` summarises the export.
"""

from tracelab.evals.case import Call, Case, Check
from tracelab.evals.export import FORMATS, ExportError, ExportResult, build_cases, export

__all__ = ["FORMATS", "Call", "Case", "Check", "ExportError", "ExportResult", "build_cases", "export"]
