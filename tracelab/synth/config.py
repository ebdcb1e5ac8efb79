"""The generator's world: models, tools, error probabilities, latencies, versions and rates.

Everything here is fixed configuration, independent of the seed. The seed only picks the
realisation, so two corpora generated with different seeds share these parameters and
``truth.json`` reports both the configured value and what was realised.

Parameter conventions
---------------------
* Latency is lognormal in **milliseconds**: ``exp(N(mu, sigma))``. Configuration gives the
  median (``exp(mu)``); ``truth.json`` reports ``mu``/``sigma`` and ``mu`` per week.
* Drift is per week index ``w`` (0 = the week starting at ``--start``):
  latency ``mu_w = mu + lat_drift * w``; error probability
  ``p_w = p * (1 + error_drift) ** w`` (capped at 0.95).
* Tool error probability for a (model, tool) pair is ``tool.error_prob * model.error_mult``;
  it applies to calls that ran to completion (ok + error), after rejections and interrupts
  have been drawn.
* :data:`REGRESSION` overrides one (agent, model, tool) pair in the last week.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypedDict

AGENTS = ("claude", "codex", "pi")


@dataclass(frozen=True)
class ModelSpec:
    agent: str
    name: str  #: exactly as written in the files
    weight: float  #: share of main sessions in week 0 (renormalised per week)
    weight_drift: float  #: additive change of ``weight`` per week
    llm_median_ms: float
    llm_sigma: float
    llm_drift: float  #: change of the latency ``mu`` per week
    out_median: int  #: output tokens of a final answer (tool-use turns are ~45 % of it)
    out_sigma: float
    thinking_prob: float
    reasoning_share: float  #: Codex/Pi-OpenAI: share of output that is reasoning
    error_mult: float
    error_drift: float
    tool_rounds: float  #: mean number of tool rounds per user turn
    parallel_prob: float  #: chance a tool round issues 2-4 calls at once
    tool_lat_offset: float = 0.0  #: added to every tool latency ``mu`` for this model
    provider: str = ""
    api: str = ""
    price: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  #: USD/Mtok in, out, read, write

    @property
    def llm_mu(self) -> float:
        return math.log(self.llm_median_ms)


@dataclass(frozen=True)
class ToolSpec:
    agent: str
    name: str
    kind: str  #: shell, read, edit, write, grep, glob, task, web, todo, mcp, patch, plan, stdin
    weight: float
    error_prob: float
    lat_median_ms: float
    lat_sigma: float
    lat_drift: float = 0.0
    reject_prob: float = 0.0
    interrupt_prob: float = 0.0
    families: tuple[tuple[str, float], ...] = field(default_factory=tuple)

    @property
    def lat_mu(self) -> float:
        return math.log(self.lat_median_ms)


# ----------------------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------------------

CLAUDE_MODELS = (
    ModelSpec("claude", "claude-opus-4-5-20251101", 0.30, 0.03, 7500, 0.55, -0.03, 520, 0.9, 0.65, 0.0, 0.75, -0.03, 5.0, 0.30, tool_lat_offset=0.05),
    ModelSpec("claude", "claude-sonnet-4-5-20250929", 0.55, -0.02, 4200, 0.50, 0.02, 430, 0.85, 0.45, 0.0, 1.0, 0.02, 4.2, 0.25),
    ModelSpec("claude", "claude-haiku-4-5-20251001", 0.15, -0.01, 1700, 0.45, 0.0, 300, 0.8, 0.15, 0.0, 1.45, 0.0, 3.5, 0.15, tool_lat_offset=-0.10),
)
CLAUDE_SUBAGENT_MODEL = "claude-haiku-4-5-20251001"

CODEX_MODELS = (
    ModelSpec("codex", "gpt-5.1-codex", 0.45, -0.08, 9000, 0.65, 0.0, 650, 1.0, 0.0, 0.55, 1.10, 0.0, 6.0, 0.35),
    ModelSpec("codex", "gpt-5.2-codex", 0.35, 0.09, 7000, 0.60, -0.03, 700, 0.95, 0.0, 0.60, 0.85, -0.02, 6.5, 0.40),
    ModelSpec("codex", "gpt-5.1-codex-mini", 0.20, -0.01, 3200, 0.50, 0.0, 380, 0.9, 0.0, 0.40, 1.50, 0.04, 4.5, 0.20, tool_lat_offset=-0.05),
)

PI_MODELS = (
    ModelSpec(
        "pi",
        "claude-opus-4-5",
        0.40,
        0.0,
        7800,
        0.55,
        -0.02,
        500,
        0.9,
        0.5,
        0.0,
        0.80,
        -0.02,
        5.0,
        0.35,
        provider="anthropic",
        api="anthropic-messages",
        price=(5.0, 25.0, 0.5, 6.25),
    ),
    ModelSpec(
        "pi",
        "claude-sonnet-4-5",
        0.35,
        -0.03,
        4400,
        0.50,
        0.01,
        420,
        0.85,
        0.4,
        0.0,
        1.0,
        0.03,
        4.3,
        0.30,
        provider="anthropic",
        api="anthropic-messages",
        price=(3.0, 15.0, 0.3, 3.75),
    ),
    ModelSpec(
        "pi",
        "gpt-5.1-codex",
        0.25,
        0.03,
        8500,
        0.65,
        0.0,
        600,
        1.0,
        0.0,
        0.50,
        1.20,
        0.0,
        5.5,
        0.25,
        provider="openai",
        api="openai-responses",
        price=(1.25, 10.0, 0.125, 0.0),
    ),
)

MODELS: dict[str, tuple[ModelSpec, ...]] = {"claude": CLAUDE_MODELS, "codex": CODEX_MODELS, "pi": PI_MODELS}

# ----------------------------------------------------------------------------------------
# tools
# ----------------------------------------------------------------------------------------

_SHELL_FAMILIES = (
    ("py_module_not_found", 1.2),
    ("pytest_failed", 1.6),
    ("npm_404", 0.6),
    ("git_not_repo", 0.5),
    ("permission_denied", 0.6),
    ("command_timeout", 0.5),
    ("ts_cannot_find_name", 0.8),
    ("py_keyerror", 0.8),
    ("command_not_found", 0.8),
    ("rust_cannot_find_value", 0.5),
    ("go_undefined", 0.5),
)

CLAUDE_TOOLS = (
    ToolSpec("claude", "Bash", "shell", 0.27, 0.13, 1600, 1.1, 0.02, 0.03, 0.012, _SHELL_FAMILIES),
    ToolSpec("claude", "Read", "read", 0.24, 0.035, 45, 0.6, 0.0, 0.0, 0.0, (("file_not_found", 3.0), ("read_too_large", 1.0))),
    ToolSpec(
        "claude",
        "Edit",
        "edit",
        0.13,
        0.07,
        110,
        0.5,
        0.0,
        0.04,
        0.0,
        (("edit_string_not_found", 3.0), ("file_not_read_yet", 1.2), ("edit_multiple_matches", 1.0), ("file_not_found", 0.5)),
    ),
    ToolSpec("claude", "Write", "write", 0.05, 0.03, 80, 0.5, 0.0, 0.03, 0.0, (("file_not_read_yet", 1.0),)),
    ToolSpec("claude", "Grep", "grep", 0.09, 0.02, 220, 0.8, 0.0, 0.0, 0.0, (("path_not_found", 1.0), ("input_validation", 0.3))),
    ToolSpec("claude", "Glob", "glob", 0.06, 0.01, 130, 0.7, 0.0, 0.0, 0.0, (("path_not_found", 1.0),)),
    ToolSpec("claude", "Task", "task", 0.025, 0.03, 300, 0.5, 0.0, 0.0, 0.0, (("agent_type_unknown", 1.0),)),
    ToolSpec("claude", "WebFetch", "web", 0.03, 0.12, 3200, 0.8, 0.01, 0.02, 0.0, (("http_error", 1.0),)),
    ToolSpec("claude", "TodoWrite", "todo", 0.05, 0.01, 15, 0.4, 0.0, 0.0, 0.0, (("input_validation", 1.0),)),
    ToolSpec("claude", "mcp__github__get_pull_request", "mcp", 0.025, 0.09, 850, 0.7, 0.0, 0.0, 0.0, (("mcp_error", 1.0),)),
)

#: Codex tools; ``shell`` replaces ``exec_command`` (and ``write_stdin`` is absent) for CLI
#: versions in :data:`CODEX_SHELL_ERA`.
CODEX_TOOLS = (
    ToolSpec("codex", "exec_command", "shell", 0.58, 0.15, 1400, 1.2, 0.02, 0.015, 0.01, _SHELL_FAMILIES),
    ToolSpec("codex", "shell", "shell", 0.58, 0.15, 1400, 1.2, 0.02, 0.015, 0.01, _SHELL_FAMILIES),
    ToolSpec("codex", "apply_patch", "patch", 0.22, 0.06, 90, 0.5, 0.0, 0.02, 0.0, (("apply_patch_mismatch", 1.0),)),
    ToolSpec("codex", "update_plan", "plan", 0.12, 0.0, 10, 0.3),
    ToolSpec("codex", "write_stdin", "stdin", 0.05, 0.10, 2000, 0.8, 0.0, 0.0, 0.0, (("write_stdin_closed", 1.0),)),
)

PI_TOOLS = (
    ToolSpec("pi", "bash", "shell", 0.45, 0.14, 1500, 1.1, 0.02, 0.0, 0.0, _SHELL_FAMILIES),
    ToolSpec("pi", "read", "read", 0.32, 0.05, 35, 0.6, 0.0, 0.0, 0.0, (("enoent", 1.0),)),
    ToolSpec("pi", "edit", "edit", 0.17, 0.09, 60, 0.5, 0.0, 0.0, 0.0, (("pi_edit_no_match", 3.0), ("enoent", 0.5))),
    ToolSpec("pi", "write", "write", 0.06, 0.025, 50, 0.5, 0.0, 0.0, 0.0, (("eacces", 1.0),)),
)

TOOLS: dict[str, tuple[ToolSpec, ...]] = {"claude": CLAUDE_TOOLS, "codex": CODEX_TOOLS, "pi": PI_TOOLS}

#: Per (agent, model, tool) multipliers on the error probability, on top of ``error_mult``:
#: the models are not uniformly better or worse, they differ per tool.
ERROR_OVERRIDES: dict[tuple[str, str, str], float] = {
    ("claude", "claude-haiku-4-5-20251001", "Edit"): 1.6,
    ("claude", "claude-opus-4-5-20251101", "Bash"): 1.2,
    ("codex", "gpt-5.1-codex-mini", "apply_patch"): 1.8,
    ("codex", "gpt-5.2-codex", "exec_command"): 0.8,
    ("pi", "gpt-5.1-codex", "edit"): 1.7,
    ("pi", "claude-opus-4-5", "bash"): 0.8,
}


#: The one planted regression: in the last week this pair's error probability jumps to ``prob``.
class Regression(TypedDict):
    agent: str
    model: str
    tool: str
    prob: float


REGRESSION: Regression = {
    "agent": "claude",
    "model": "claude-sonnet-4-5-20250929",
    "tool": "Edit",
    "prob": 0.38,
}

# ----------------------------------------------------------------------------------------
# versions (weight in week 0, additive drift per week)
# ----------------------------------------------------------------------------------------

CLAUDE_VERSIONS = (
    ("2.0.37", 0.25, -0.06),
    ("2.0.42", 0.25, -0.05),
    ("2.0.55", 0.20, -0.02),
    ("2.1.12", 0.12, 0.03),
    ("2.1.17", 0.10, 0.04),
    ("2.1.29", 0.05, 0.05),
    ("2.1.37", 0.03, 0.05),
)
CODEX_VERSIONS = (
    ("0.46.0", 0.20, -0.05),
    ("0.53.0", 0.20, -0.04),
    ("0.63.0", 0.25, 0.0),
    ("0.77.0", 0.20, 0.04),
    ("0.98.0", 0.15, 0.05),
)
#: CLI versions that still call the shell tool ``shell`` (argv array) instead of ``exec_command``.
CODEX_SHELL_ERA = frozenset({"0.46.0", "0.53.0"})
#: CLI versions that persist ``event_msg/exec_command_end``.
CODEX_EXEC_END = frozenset({"0.46.0", "0.53.0", "0.63.0"})


# ----------------------------------------------------------------------------------------
# session shape and event rates
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rates:
    turns_median: float = 5.0
    turns_sigma: float = 0.7
    turns_max: int = 30
    think_median_ms: float = 45_000
    think_sigma: float = 1.0
    api_error_per_request: float = 0.012
    api_error_fatal_share: float = 0.35
    gen_interrupt_per_request: float = 0.006
    compaction_ctx: int = 150_000
    manual_compact_per_turn: float = 0.01
    loop_per_round: float = 0.015
    #: Every n-th conversation (index % n == n // 2) is continued later: Claude resume, Codex
    #: fork, Pi fork. A fixed schedule rather than a coin flip, so every corpus of a few
    #: sessions has some (a resume/fork needs an hour of window left, so a few are skipped).
    continuation_every: int = 8
    model_switch_per_turn: float = 0.03
    no_result_per_session: float = 0.03
    branch_per_turn: float = 0.0  #: Pi only
    warmup_prob: float = 0.8  #: Claude 2.0.x only


RATES: dict[str, Rates] = {
    "claude": Rates(),
    "codex": Rates(api_error_per_request=0.006, gen_interrupt_per_request=0.004, compaction_ctx=220_000, continuation_every=10, turns_median=4.0),
    "pi": Rates(api_error_per_request=0.006, gen_interrupt_per_request=0.01, compaction_ctx=140_000, continuation_every=10, branch_per_turn=0.05),
}

#: Median tokens of the system prompt + tool definitions sent with every request.
SYSTEM_PROMPT_TOKENS = {"claude": 17_000, "codex": 9_000, "pi": 4_500}


def model(agent: str, name: str) -> ModelSpec:
    for m in MODELS[agent]:
        if m.name == name:
            return m
    raise KeyError((agent, name))


def tool(agent: str, name: str) -> ToolSpec:
    for t in TOOLS[agent]:
        if t.name == name:
            return t
    raise KeyError((agent, name))


def error_prob(agent: str, model_name: str, tool_name: str, week: int, weeks: int) -> float:
    """Configured error probability of a completed call of ``tool_name`` by ``model_name`` in ``week``."""
    if week == weeks - 1 and agent == REGRESSION["agent"] and model_name == REGRESSION["model"] and tool_name == REGRESSION["tool"]:
        return float(REGRESSION["prob"])
    t = tool(agent, tool_name)
    if t.error_prob == 0.0:
        return 0.0
    m = model(agent, model_name)
    p = t.error_prob * m.error_mult * ERROR_OVERRIDES.get((agent, model_name, tool_name), 1.0)
    return min(0.95, p * (1.0 + m.error_drift) ** week)


def tool_latency_mu(agent: str, model_name: str, tool_name: str, week: int) -> tuple[float, float]:
    """(mu, sigma) of ln(latency ms) for a tool call in ``week``."""
    t = tool(agent, tool_name)
    m = model(agent, model_name)
    return t.lat_mu + m.tool_lat_offset + t.lat_drift * week, t.lat_sigma


def llm_latency_mu(agent: str, model_name: str, week: int) -> tuple[float, float]:
    m = model(agent, model_name)
    return m.llm_mu + m.llm_drift * week, m.llm_sigma


def weighted_by_week(items: tuple[tuple[str, float, float], ...], week: int) -> tuple[list[str], list[float]]:
    names = [i[0] for i in items]
    weights = [max(0.01, i[1] + i[2] * week) for i in items]
    return names, weights


def model_weights(agent: str, week: int) -> tuple[list[str], list[float]]:
    return weighted_by_week(tuple((m.name, m.weight, m.weight_drift) for m in MODELS[agent]), week)
