"""Reading agent session files into ``events``, ``rejects`` and ``files``, as a pipeline of
stages (one module each):

* :mod:`~tracelab.ingest.plan`: list the inputs, detect each file's agent, skip unchanged files;
* :mod:`~tracelab.ingest.parse`: run the adapters (``claude/``, ``codex/``, ``pi/``, ``gemini/``,
  ``copilot/``, ``otel/``, ``sts/``, sharing :mod:`~tracelab.ingest.base`; names in
  :mod:`~tracelab.ingest.agents`) in worker processes;
* :mod:`~tracelab.ingest.stage`: the workers' rows staged as Arrow until dedup is known;
* :mod:`~tracelab.ingest.commit`: dedup, the final Parquet parts, rejects and the manifest;
* :mod:`~tracelab.ingest.run`: one run through the stages, handing the snapshot to a publish
  step, which :mod:`tracelab.pipeline` supplies (derive, failures, compaction).
"""

__all__ = ["agents", "base", "commit", "parse", "plan", "registry", "run", "stage", "summary", "unchanged"]
