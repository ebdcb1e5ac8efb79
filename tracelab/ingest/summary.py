"""What an ingest reports (stdlib only, so the no-op path can build one without pyarrow)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class IngestSummary:
    warehouse: str
    files_seen: int = 0
    files_parsed: int = 0
    files_unchanged: int = 0
    files_appended: int = 0
    files_failed: int = 0
    #: files ingested before and no longer found where they were listed: rows kept, ``files.status = 'missing'``
    files_missing: int = 0
    #: missing files whose content is now at another input path (parsed there, old rows removed)
    files_moved: int = 0
    #: missing files whose rows ``--prune`` removed
    files_pruned: int = 0
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
    #: entries not ingested, counted by reason ("symbolic link loop", "FIFO", "unrecognised format", ...)
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    #: with no paths: the default locations looked at (agent, root, exists, files)
    sources: list[dict] = field(default_factory=list)
    #: wall seconds per step of a run that parsed something: list (find inputs, read the
    #: manifest), parse (workers: detect, parse, stage), write (dedup, final Parquet parts),
    #: derive (llm_calls, tool_calls, sessions), failures (clusters), compact (merge small
    #: parts), commit (manifest, rejects, snapshot)
    phases: dict[str, float] = field(default_factory=dict)
    #: no file changed, but the derived tables were rebuilt for a new tracelab version
    rederived: bool = False
    #: how the derived tables were brought up to date: "full" (from all events) or
    #: "incremental: N sessions" (only the sessions this ingest touched and those linked to
    #: them); empty when nothing was derived
    derived: str = ""
    #: agent -> native line type -> lines kept as kind 'unknown' by this ingest (types the
    #: adapter does not know yet: format drift to look at)
    unknown_types: dict[str, dict[str, int]] = field(default_factory=dict)
    #: values the publisher of a file redacted (``"[REDACTED]"`` token counts, texts) that this
    #: ingest read as NULL, never as 0 (adapters report them as ``redacted_values`` in their state)
    redacted_values: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def to_json(self) -> str:
        """The ``--json`` output: one JSON object (every value is a plain JSON type)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def text_lines(self) -> tuple[list[str], list[str]]:
        """The human summary ``tracelab ingest`` prints: (stdout lines, stderr lines)."""
        out: list[str] = [f"warehouse  {self.warehouse}"]
        for src in self.sources:
            state = f"{src['files']} files" if src["exists"] else "not found"
            out.append(f"looked in  {src['agent']:<6} {src['root']}: {state}")
        found = ", ".join(f"{k}: {v}" for k, v in sorted(self.agents.items())) or "none parsed"
        out.append(
            f"files      {self.files_seen} found; {self.files_parsed} parsed ({found}), {self.files_appended} appended, "
            f"{self.files_unchanged} unchanged, {self.files_failed} failed"
            + (f", {self.files_missing} missing (rows kept; --prune removes them)" if self.files_missing else "")
            + (f", {self.files_moved} moved" if self.files_moved else "")
            + (f", {self.files_pruned} pruned" if self.files_pruned else "")
        )
        if self.skipped_by_reason:
            by_count = sorted(self.skipped_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
            out.append(f"skipped    {sum(self.skipped_by_reason.values())} entries: " + ", ".join(f"{k} {v}" for k, v in by_count))
        out.append(f"lines      {self.lines_total} read: {self.lines_ingested} ingested, {self.lines_duplicate} duplicate, {self.lines_rejected} rejected")
        mb = self.bytes_parsed / 1e6
        rate = f" ({mb / self.seconds:.1f} MB/s)" if self.seconds > 0 and mb else ""
        out.append(f"parsed     {mb:.1f} MB in {self.seconds:.2f}s" + rate)
        if self.rederived:
            out.append("derived    no file changed; derived tables rebuilt for this tracelab version")
        if self.derived and not self.rederived:
            out.append(f"derived    {self.derived}")
        if self.phases:
            out.append("steps      " + ", ".join(f"{k} {v:.2f}s" for k, v in self.phases.items()))
        if self.rows:
            out.append("rows       " + ", ".join(f"{k} {v}" for k, v in self.rows.items()))
        if self.unknown_types:
            out.append(unknown_types_line(self.unknown_types))
        if self.redacted_values:
            out.append(f"redacted   {self.redacted_values} values redacted by their publisher, read as NULL (not 0)")
        if self.rejects_by_reason:
            by_count = sorted(self.rejects_by_reason.items(), key=lambda kv: -kv[1])
            out.append("rejects    " + ", ".join(f"{k}: {v}" for k, v in by_count))
        err = [f"skipped    {e}" for e in self.skipped] + [f"error      {e}" for e in self.errors]
        if not self.files_seen:
            where = "the default locations" if self.sources else "the given paths"
            err.append(f"warning    no session files found in {where}; the warehouse has no rows")
        return out, err


def unknown_types_line(unknown: dict[str, dict[str, int]], most: int = 6) -> str:
    """The ``unknown    …`` summary line for agent -> native type -> lines kept as kind
    'unknown' (the most frequent ``most`` types named); ``tracelab info`` prints it too."""
    flat = sorted(((n, a, t) for a, types in unknown.items() for t, n in types.items()), key=lambda x: (-x[0], x[1], x[2]))
    shown = ", ".join(f"{a} {t} {n}" for n, a, t in flat[:most]) + (f", … ({len(flat)} types)" if len(flat) > most else "")
    return f"unknown    {sum(n for n, _, _ in flat)} lines of types tracelab does not know yet, kept as kind 'unknown': {shown}"


class Clock:
    """Wall seconds per ingest step into ``summary.phases``; tells the progress callback which
    step runs once parsing is done (``progress(total, total, step)``)."""

    def __init__(self, summary: IngestSummary, progress: Callable[[int, int, str], None] | None):
        self.summary, self.progress = summary, progress
        self.t = time.perf_counter()

    def lap(self, finished: str, next_step: str | None = None) -> None:
        now = time.perf_counter()
        self.summary.phases[finished] = round(self.summary.phases.get(finished, 0.0) + now - self.t, 3)
        self.t = now
        if next_step and self.progress:
            total = max(self.summary.bytes_parsed, 1)
            self.progress(total, total, next_step)
