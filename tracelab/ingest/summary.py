"""What an ingest reports (stdlib only, so the no-op path can build one without pyarrow)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestSummary:
    warehouse: str
    files_seen: int = 0
    files_parsed: int = 0
    files_unchanged: int = 0
    files_appended: int = 0
    files_failed: int = 0
    bytes_parsed: int = 0
    lines_total: int = 0
    lines_ingested: int = 0
    lines_duplicate: int = 0
    lines_rejected: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    agents: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: with no paths: the default locations looked at (agent, root, exists, files)
    sources: list[dict] = field(default_factory=list)
    #: wall seconds per step of a run that parsed something: list (find inputs, read the
    #: manifest), parse (workers: detect, parse, stage), write (dedup, final Parquet parts),
    #: derive (llm_calls, tool_calls, sessions), failures (clusters), commit (manifest, rejects,
    #: snapshot)
    phases: dict[str, float] = field(default_factory=dict)
    #: no file changed, but the derived tables were rebuilt for a new tracelab version
    rederived: bool = False

    def to_dict(self) -> dict:
        return dict(self.__dict__)
