"""Planted harness-change patterns (``tracelab synth --plant``): the ground truth for ``tracelab suggest``.

With planting on, the corpus gets ``plant_sessions`` extra Claude Code sessions in one dedicated
project (:data:`PLANTED_PROJECT`, never used by the ordinary sessions). Their tool rounds are
scripted, not drawn, so ``truth.json["planted"]`` can say exactly which harness change the
history supports:

* **permission rules**: commands the simulated user always approves (each approval waits
  ``approval_wait_ms`` before the command runs) → Claude Code ``allow`` rules; commands the
  user always rejects → ``deny`` rules. Arguments vary after the planted prefix, so the most
  specific prefix the evidence supports is exactly the planted one.
* **instruction rules**: error → recovery pairs (``pytest: command not found`` → ``uv run
  pytest``; Edit before Read → Read, then Edit; ``black: command not found`` → ``uv run ruff
  format``, the last only in the first half of the window: the out-of-time pattern).
* **loops**: the same failing ``uv run pytest … -x`` repeated four times.

Sessions are spread evenly over the window (session ``i`` starts on day ``i × days / n``) and
the patterns are assigned by index, so every pattern appears in every week it is planted in.
The sessions reuse the Claude Code writer (:class:`~tracelab.synth.claude.ClaudeTask`), so they
count in every other truth key like any session; their RNG is seeded from
``(seed, "claude-planted", index)`` and the ordinary sessions are byte-identical with or
without planting.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from . import config
from . import text as T
from .behaviour import Call, Session, Window, task_seed
from .claude import ClaudeTask, encode_cwd
from .families import FAMILIES
from .ids import DAY_MS, WEEK_MS, iso
from .stats import TaskStats

#: The planted project: a python project no ordinary session uses.
PLANTED_PROJECT = T.PLANTED_PROJECT
AGENT_KEY = "claude-planted"
DEFAULT_PLANT_SESSIONS = 32

#: Commands the user always approves: (rule id, planted prefix, argument variants).
ALLOW = (
    ("allow-ruff-check", "uv run ruff check", ("src/", "src/ tests/", "--fix src/", "tests/ --statistics")),
    ("allow-uv-pytest", "uv run pytest", ("-q", "-q tests/test_sync.py", "-x tests/", "-q -k ledger")),
    ("allow-git-diff", "git diff", ("--stat", "HEAD~1", "--cached", "-- src/ledger_sync/core")),
)
#: Commands the user always rejects.
DENY = (
    ("deny-git-push-force", "git push --force", ("origin main", "", "upstream HEAD", "-u origin dana/fix-sync")),
    ("deny-rm-rf", "rm -rf", ("build/", "dist/", ".venv", "/tmp/ledger-cache")),
)
#: Error -> recovery pairs: (rule id, failing command, error family vars, recovery command, kind).
_PYTEST_MISSING = ("instr-uv-pytest", "pytest -q", "pytest", "uv run pytest -q")
_BLACK_MISSING = ("instr-uv-ruff-format", "black src/", "black", "uv run ruff format src/")
_RUFF_FORMAT_VARIANTS = ("src/", "tests/", "src/ tests/", "--check src/")
_LOOP_CMD = "uv run pytest tests/test_sync.py -x"


def _plan(index: int, n: int, weeks: int, rng: random.Random) -> list[list[list[dict[str, Any]]]]:
    """The scripted rounds of planted session ``index``: a list of turns, each a list of rounds,
    each round a list of call specs."""
    first_half = index * weeks * 7 < n * weeks * 7 // 2
    turns: list[list[list[dict[str, Any]]]] = []
    proj = PLANTED_PROJECT
    files = [f for f in proj.files if f.path.endswith(".py")]

    def shell(cmd: str, status: str, plant: str, **kw: Any) -> dict[str, Any]:
        return {"tool": "Bash", "command": cmd, "status": status, "plant": plant, **kw}

    # permission patterns: each allow command in 2 of every 3 sessions, each deny in every other
    for k, (rid, prefix, variants) in enumerate(ALLOW):
        if (index + k) % 3 != 2:
            turns.append([[shell(f"{prefix} {rng.choice(variants)}".strip(), "ok", rid, approval=True)]])
    for k, (rid, prefix, variants) in enumerate(DENY):
        if (index + k) % 2 == 0:
            turns.append([[shell(f"{prefix} {rng.choice(variants)}".strip(), "user_rejected", rid)]])
    # error -> recovery: pytest missing in 2 of 3 sessions
    if index % 3 != 1:
        rid, bad, cmd, good = _PYTEST_MISSING
        turns.append([[shell(bad, "error", rid, family="command_not_found", vars={"cmd": cmd})], [shell(good, "ok", rid, approval=True, recovery=True)]])
    # edit before read in every other session
    if index % 2 == 1:
        f = rng.choice(files)
        path = f"{proj.cwd}/{f.path}"
        old = T.snippet(rng, f)
        edit = {"file_path": path, "old_string": old, "new_string": old + "\n" + T.snippet(rng, f, 1)}
        turns.append(
            [
                [{"tool": "Edit", "input": edit, "status": "error", "plant": "instr-read-before-edit", "family": "file_not_read_yet", "vars": {}}],
                [{"tool": "Read", "input": {"file_path": path}, "status": "ok", "plant": "instr-read-before-edit", "recovery": True}],
                [{"tool": "Edit", "input": edit, "status": "ok", "plant": "instr-read-before-edit", "recovery": True}],
            ]
        )
    # the out-of-time pattern: only in the first half of the window
    if first_half and index % 4 != 3:
        rid, bad, cmd, good = _BLACK_MISSING
        good = f"uv run ruff format {rng.choice(_RUFF_FORMAT_VARIANTS)}"
        turns.append([[shell(bad, "error", rid, family="command_not_found", vars={"cmd": cmd})], [shell(good, "ok", rid, approval=True, recovery=True)]])
    # a loop: the same failing test command four times, in every fourth session
    if index % 4 == 0:
        fam = FAMILIES["pytest_failed"].render(rng, file="test_sync.py")
        turns.append([[shell(_LOOP_CMD, "error", "loop-pytest-x", rendered=fam)] for _ in range(4)])
    rng.shuffle(turns)
    return turns


class _PlantedSession(Session):
    """A :class:`Session` whose tool rounds come from a script instead of the dice."""

    def __init__(self, index: int, n: int, seed: int, window: Window, stats: TaskStats, malformed_rate: float) -> None:
        super().__init__("claude", index, seed, window, stats, malformed_rate, project=PLANTED_PROJECT)
        self.rng = random.Random(task_seed(seed, AGENT_KEY, index))
        self.mrng = random.Random(task_seed(seed, AGENT_KEY, index, "malformed"))
        self.n = n
        self.turn_rounds: list[list[list[dict[str, Any]]]] = []
        self.current: list[list[dict[str, Any]]] = []
        self.calls: list[Call] = []

    def session_start(self) -> int:
        days = self.window.weeks * 7
        day = self.index * days // self.n
        hour = 9 + self.rng.random() * 8
        return self.window.start_ms + day * DAY_MS + int(hour * 3_600_000)

    def next_turn(self) -> None:
        self.current = self.turn_rounds.pop(0) if self.turn_rounds else []

    def plan_round(self, model: str, tools: list[config.ToolSpec], ms: int, *, loopable: tuple[str, ...], interrupts: bool = True) -> list[Call]:
        if not self.current:
            return []
        specs = self.current.pop(0)
        out = []
        for spec in specs:
            tool = config.tool("claude", spec["tool"])
            fam = spec.get("rendered")
            if fam is None and spec.get("family"):
                fam = FAMILIES[spec["family"]].render(self.rng, **spec.get("vars", {}))
            lat = self.tool_latency(model, tool, ms)
            wait = 0
            if spec.get("approval"):
                wait = int(self.rng.lognormvariate(9.4, 0.6))  # median about 12 s
                lat += wait
            call = Call(tool, spec["status"], fam, lat)
            call.input = spec.get("input") or {"command": spec["command"], "description": "Run " + spec["command"].split()[0]}
            call.extra["plant"] = spec["plant"]
            call.extra["approval_wait_ms"] = wait
            out.append(call)
            self.calls.append(call)
        return out

    def more_rounds(self, model: str, rounds_done: int) -> bool:
        return bool(self.current)


class PlantedClaudeTask(ClaudeTask):
    def __init__(self, root: Path, index: int, n: int, seed: int, window: Window, malformed_rate: float) -> None:
        self.root = root
        self.stats = TaskStats("claude")
        self.s = _PlantedSession(index, n, seed, window, self.stats, malformed_rate)
        self.branch = self.s.rng.choice(PLANTED_PROJECT.branches)
        self.tools = list(config.CLAUDE_TOOLS)
        self.sub_tools = [t for t in self.tools if t.name not in ("Task", "TodoWrite")]
        self.proj_dir = f"claude/projects/{encode_cwd(PLANTED_PROJECT.cwd)}"
        self.todos = []

    def _turns(self, tr: Any, model: str, n_turns: int, now: int, tokens: Any, *, allow_no_result: bool) -> tuple[int, str, bool]:
        s = self.s
        assert isinstance(s, _PlantedSession)
        s.turn_rounds = _plan(s.index, s.n, s.window.weeks, s.rng)
        end, model_out, died = now, model, False
        first = True
        for _ in range(4 * len(s.turn_rounds) + 8):
            if not s.current:
                if not s.turn_rounds:
                    break
                s.next_turn()
            # one scripted turn per call of the writer (its own prompt, turn bookkeeping,
            # compaction); a turn the writer ends without tools keeps its rounds for the next
            end, model_out, died = super()._turns(tr, model_out, 1, end if first else end + s.think_time(), tokens, allow_no_result=False)
            first = False
        return end, model_out, died

    def run(self) -> TaskStats:
        s = self.s
        # interrupts, fatal API errors, random loops and resumes are the dice's business; a
        # scripted turn must run to its end
        s.rates = config.Rates(
            api_error_per_request=0.0,
            gen_interrupt_per_request=0.0,
            loop_per_round=0.0,
            continuation_every=10**9,
            manual_compact_per_turn=0.0,
            no_result_per_session=0.0,
        )
        stats = super().run()
        assert isinstance(s, _PlantedSession)
        for call in s.calls:
            stats.planted.append(
                {
                    "plant": call.extra["plant"],
                    "tool": call.tool.name,
                    "status": call.status,
                    "input": call.input,
                    "approval_wait_ms": call.extra["approval_wait_ms"],
                    "ts": call.extra.get("ts"),
                    "week": call.extra.get("week"),
                    "session_id": call.extra.get("session_id"),
                }
            )
        return stats

    def _assistant_group(self, tr: Any, model: str, start: int, end: int, calls: list[Call], tokens: Any) -> Any:
        out_end, uses = super()._assistant_group(tr, model, start, end, calls, tokens)
        for call, _uuid, _tid, ts, _ln in uses:
            call.extra["ts"] = iso(ts)
            call.extra["week"] = min(self.s.window.weeks - 1, max(0, (ts - self.s.window.start_ms) // WEEK_MS))
            call.extra["session_id"] = tr.session_id
        return out_end, uses


def generate(root: Path, index: int, n: int, seed: int, window: Window, malformed_rate: float) -> TaskStats:
    return PlantedClaudeTask(root, index, n, seed, window, malformed_rate).run()


#: Allow rules the planted history supports: every command the user let run, by prefix.
#: ``uv run ruff format`` comes from the recoveries of the out-of-time pattern.
ALLOW_RULES = (*((rid, prefix) for rid, prefix, _ in ALLOW), ("allow-uv-ruff-format", "uv run ruff format"))
#: Instruction rules: (id, kind, failing tool, failing program, recovery prefix, the rule).
INSTRUCTION_RULES = (
    ("instr-uv-pytest", "missing_tool", "Bash", "pytest", "uv run pytest", "Run `pytest` as `uv run pytest`."),
    ("instr-read-before-edit", "read_before_edit", "Edit", None, "Read", "Read a file before editing it."),
    ("instr-uv-ruff-format", "missing_tool", "Bash", "black", "uv run ruff format", "Run `black` as `uv run ruff format`."),
)


def _starts(command: str, prefix: str) -> bool:
    return command == prefix or command.startswith(prefix + " ")


def _span(recs: list[dict[str, Any]]) -> dict[str, Any]:
    ts = sorted(r["ts"] for r in recs)
    return {
        "sessions": len({r["session_id"] for r in recs}),
        "first_seen": ts[0] if ts else None,
        "last_seen": ts[-1] if ts else None,
        "weeks": sorted({r["week"] for r in recs}),
    }


def planted_truth(records: list[dict[str, Any]], weeks: int) -> dict[str, Any]:
    """``truth.json["planted"]`` from the planted calls as written."""
    shell = [r for r in records if r["tool"] == "Bash"]
    rules: list[dict[str, Any]] = []
    for rid, prefix in ALLOW_RULES:
        ran = [r for r in shell if _starts(r["input"]["command"], prefix) and r["status"] != "user_rejected"]
        ok = [r for r in ran if r["status"] == "ok"]
        rules.append(
            {
                "id": rid,
                "decision": "allow",
                "tool": "Bash",
                "prefix": prefix,
                "claude_rule": f"Bash({prefix}:*)",
                "approvals": len(ok),
                "ran": len(ran),
                "rejections": sum(1 for r in shell if _starts(r["input"]["command"], prefix) and r["status"] == "user_rejected"),
                "approval_wait_ms": sum(r["approval_wait_ms"] for r in ok),
                **_span(ran),
            }
        )
    for rid, prefix, _ in DENY:
        rej = [r for r in shell if _starts(r["input"]["command"], prefix)]
        rules.append(
            {
                "id": rid,
                "decision": "deny",
                "tool": "Bash",
                "prefix": prefix,
                "claude_rule": f"Bash({prefix}:*)",
                "approvals": sum(1 for r in rej if r["status"] != "user_rejected"),
                "rejections": sum(1 for r in rej if r["status"] == "user_rejected"),
                **_span(rej),
            }
        )
    instructions = []
    for rid, kind, tool, failing, recovery, text in INSTRUCTION_RULES:
        errs = [r for r in records if r["plant"] == rid and r["status"] == "error"]
        span = _span(errs)
        instructions.append(
            {
                "id": rid,
                "kind": kind,
                "tool": tool,
                "failing": failing,
                "recovery": recovery,
                "rule": text,
                "errors": len(errs),
                **span,
                "holds_in_last_week": (weeks - 1) in span["weeks"],
            }
        )
    loops = [r for r in records if r["plant"] == "loop-pytest-x"]
    return {
        "agent": "claude",
        "project": PLANTED_PROJECT.name,
        "cwd": PLANTED_PROJECT.cwd,
        "calls": len(records),
        "permission_rules": rules,
        "instruction_rules": instructions,
        "loops": [{"id": "loop-pytest-x", "tool": "Bash", "command": _LOOP_CMD, "length": 4, "count": len(loops) // 4, **_span(loops)}],
        "stops_halfway": ["instr-uv-ruff-format"],
    }
