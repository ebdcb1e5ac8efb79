"""Per-task ground-truth accumulator.

One generator task (a conversation and everything it spawns: subagents, resumes, forks)
fills one :class:`TaskStats`. Workers return it to the parent, which merges them in task
order into :class:`~tracelab.synth.truth.TruthBuilder`. Keeping the accumulator a plain,
picklable bag of counters and lists is what lets ``--jobs`` change nothing in the output.

Everything is recorded once, where it is generated. Copies of lines written into resumed or
forked files are recorded only as duplicates (and in the "undeduplicated" token view).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import orjson

#: Native token field names per agent, in the order the ``native``/``undeduplicated`` sums use.
NATIVE_FIELDS: dict[str, tuple[str, ...]] = {
    "claude": ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"),
    "codex": ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens"),
    "pi": ("input", "output", "cacheRead", "cacheWrite", "totalTokens", "cost_total"),
}
#: tracelab canonical token fields (plus the call count) in the order ``tokens`` sums use.
CANONICAL_FIELDS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")

STATUSES = ("ok", "error", "user_rejected", "interrupted", "no_result")


class TaskStats:
    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.files: list[tuple[str, int, int]] = []  # (relpath, lines, bytes)
        self.meta_files: list[tuple[str, int]] = []
        self.sessions: Counter[str] = Counter()
        self.malformed: list[tuple[str, int, str]] = []
        self.duplicates: list[tuple[str, int, int, str]] = []  # file, from_line, to_line, source file
        self.events: Counter[str] = Counter()
        self.llm_calls: Counter[str] = Counter()
        self.llm_latency: defaultdict[str, list[int]] = defaultdict(list)
        self.tokens: dict[tuple[str, str], list[int]] = {}
        self.native: dict[tuple[str, str], list[float]] = {}
        self.undedup: dict[tuple[str, str], list[float]] = {}
        self.tool_status: dict[tuple[str, str], Counter[str]] = {}
        self.tool_latency: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        self.weekly: dict[tuple[int, str, str], list[int]] = {}  # calls, completed, errors
        self.failures: list[dict[str, Any]] = []
        self.family_counts: Counter[tuple[str, str]] = Counter()  # (family, agent)
        self.loops: list[dict[str, Any]] = []
        self.planted: list[dict[str, Any]] = []  #: planted-pattern calls (``--plant`` sessions only)
        self._seqs: dict[str, list[tuple[str, bytes, str, str, int]]] = {}
        self.bytes = 0

    # -- files ---------------------------------------------------------------------------

    def add_file(self, rel: str, lines: int, nbytes: int) -> None:
        self.files.append((rel, lines, nbytes))
        self.bytes += nbytes

    def add_meta_file(self, rel: str, nbytes: int) -> None:
        self.meta_files.append((rel, nbytes))
        self.bytes += nbytes

    # -- llm calls -----------------------------------------------------------------------

    def llm_call(self, model: str, day: str, canonical: tuple[int, int, int, int, int], native: tuple[float, ...], latency_ms: int | None) -> None:
        """One deduplicated, real (non-synthetic, non-aborted) model response."""
        self.llm_calls[model] += 1
        if latency_ms is not None:
            self.llm_latency[model].append(latency_ms)
        key = (day, model)
        acc = self.tokens.get(key)
        if acc is None:
            acc = self.tokens[key] = [0, 0, 0, 0, 0, 0]
        for i, v in enumerate(canonical):
            acc[i] += v
        acc[5] += 1
        nat = self.native.get(key)
        if nat is None:
            nat = self.native[key] = [0] * len(native)
        for i, x in enumerate(native):
            nat[i] += x

    def raw_usage(self, model: str, day: str, native: tuple[float, ...], times: int = 1) -> None:
        """A token-bearing record as written (every line/event/entry, copies included)."""
        key = (day, model)
        acc = self.undedup.get(key)
        if acc is None:
            acc = self.undedup[key] = [0] * len(native)
        for i, v in enumerate(native):
            acc[i] += v * times

    # -- tool calls ----------------------------------------------------------------------

    def tool_call(self, model: str, tool: str, status: str, week: int, latency_ms: int | None) -> None:
        c = self.tool_status.get((model, tool))
        if c is None:
            c = self.tool_status[(model, tool)] = Counter()
        c[status] += 1
        w = self.weekly.get((week, model, tool))
        if w is None:
            w = self.weekly[(week, model, tool)] = [0, 0, 0]
        w[0] += 1
        if status in ("ok", "error"):
            w[1] += 1
            if latency_ms is not None:
                self.tool_latency[(model, tool)].append(latency_ms)
        if status == "error":
            w[2] += 1

    def failure(self, *, file: str, line_no: int, tool_call_id: str, family: str, tool: str, model: str, text: str) -> None:
        self.failures.append(
            {
                "agent": self.agent,
                "file": file,
                "line_no": line_no,
                "tool_call_id": tool_call_id,
                "family": family,
                "tool": tool,
                "model": model,
                "text": text,
            }
        )
        self.family_counts[(family, self.agent)] += 1

    # -- loops ---------------------------------------------------------------------------

    def seq_call(self, seq: str, tool: str, tool_input: Any, model: str, file: str, line_no: int) -> None:
        """Append a tool call to call sequence ``seq`` (one per file segment) for loop detection."""
        key = tool_input.encode() if isinstance(tool_input, str) else orjson.dumps(tool_input, option=orjson.OPT_SORT_KEYS)
        self._seqs.setdefault(seq, []).append((tool, key, model, file, line_no))

    def finish_sequences(self) -> None:
        """Record every maximal run of >= 3 identical consecutive calls as a loop."""
        for calls in self._seqs.values():
            i = 0
            while i < len(calls):
                j = i + 1
                while j < len(calls) and calls[j][0] == calls[i][0] and calls[j][1] == calls[i][1]:
                    j += 1
                if j - i >= 3:
                    tool, _key, model, file, line_no = calls[i]
                    self.loops.append({"file": file, "first_line": line_no, "tool": tool, "model": model, "length": j - i})
                i = j
        self._seqs.clear()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["llm_latency"] = dict(self.llm_latency)
        state["tool_latency"] = dict(self.tool_latency)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.llm_latency = defaultdict(list, state["llm_latency"])
        self.tool_latency = defaultdict(list, state["tool_latency"])
