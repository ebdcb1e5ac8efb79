"""Behaviour shared by the three agent generators: when sessions happen, which model and
tools are used, how tool calls end, how long things take, and how many tokens they cost.

A :class:`Session` wraps one task's RNG and knows the time window. The agent modules ask it
for decisions and do the format-specific writing themselves.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Any

from . import config
from . import text as T
from .families import FAMILIES, Rendered
from .ids import DAY_MS, WEEK_MS
from .shell import family_fits
from .stats import TaskStats


def task_seed(seed: int, agent: str, index: int, salt: str = "") -> int:
    digest = hashlib.blake2b(f"{seed}|{agent}|{index}|{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class Window:
    start_ms: int
    weeks: int

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.weeks * WEEK_MS

    def week(self, ms: int) -> int:
        return min(self.weeks - 1, max(0, (ms - self.start_ms) // WEEK_MS))


@dataclass
class Call:
    """One planned tool call. The agent module fills ``input``/``id``/result details."""

    tool: config.ToolSpec
    status: str  #: ok, error, user_rejected, interrupted
    family: Rendered | None
    latency: int  #: ms from the call line to the result line
    loop: bool = False
    input: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class Session:
    def __init__(self, agent: str, index: int, seed: int, window: Window, stats: TaskStats, malformed_rate: float, project: T.Project | None = None) -> None:
        self.agent = agent
        self.index = index
        self.window = window
        self.stats = stats
        self.rng = random.Random(task_seed(seed, agent, index))
        self.mrng = random.Random(task_seed(seed, agent, index, "malformed"))
        self.malformed_rate = malformed_rate
        self.rates = config.RATES[agent]
        self.project = project or self.rng.choice(T.projects())
        self.loop_left = 0
        self.loop_tool: config.ToolSpec | None = None
        self.loop_input: Any = None
        self.loop_results: dict[str | tuple[str, str], Any] = {}  # "error" -> family; ("io", status) -> rendered result

    # -- time ----------------------------------------------------------------------------

    def session_start(self) -> int:
        """Start of a session: weekdays 3x as likely as weekend days, peaked around 14:00 UTC."""
        rng = self.rng
        days = max(1, self.window.weeks * 7 - 2)
        while True:
            d = rng.randrange(days)
            if (d % 7) < 5 or rng.random() < 0.35:
                break
        if rng.random() < 0.7:
            hour = (rng.gauss(14.0, 3.5)) % 24
        else:
            hour = rng.uniform(0, 24)
        return self.window.start_ms + d * DAY_MS + int(hour * 3_600_000) + rng.randrange(1000)

    def week(self, ms: int) -> int:
        return self.window.week(ms)

    def think_time(self) -> int:
        r = self.rates
        return int(min(2 * 3_600_000, max(3_000, self.rng.lognormvariate(math.log(r.think_median_ms), r.think_sigma))))

    def continues(self) -> bool:
        """Whether this task's conversation gets a resume/fork (see ``Rates.continuation_every``)."""
        n = self.rates.continuation_every
        return self.index % n == n // 2

    def n_turns(self) -> int:
        r = self.rates
        return int(min(r.turns_max, max(1, round(self.rng.lognormvariate(math.log(r.turns_median), r.turns_sigma)))))

    # -- choices -------------------------------------------------------------------------

    def pick_model(self, ms: int) -> str:
        names, weights = config.model_weights(self.agent, self.week(ms))
        return self.rng.choices(names, weights)[0]

    def pick_version(self, versions: tuple[tuple[str, float, float], ...], ms: int) -> str:
        names, weights = config.weighted_by_week(versions, self.week(ms))
        return self.rng.choices(names, weights)[0]

    def pick_tool(self, tools: list[config.ToolSpec]) -> config.ToolSpec:
        return self.rng.choices(tools, [t.weight for t in tools])[0]

    def pick_family(self, tool: config.ToolSpec) -> Rendered:
        fams = [(f, w) for f, w in tool.families if tool.kind != "shell" or family_fits(f, self.project.lang)]
        fid = self.rng.choices([f for f, _ in fams], [w for _, w in fams])[0]
        return FAMILIES[fid].render(self.rng)

    def outcome(self, model: str, tool: config.ToolSpec, ms: int, allow_interrupt: bool) -> tuple[str, Rendered | None]:
        rng = self.rng
        if tool.reject_prob and rng.random() < tool.reject_prob:
            return "user_rejected", None
        if allow_interrupt and tool.interrupt_prob and rng.random() < tool.interrupt_prob:
            return "interrupted", None
        p = config.error_prob(self.agent, model, tool.name, self.week(ms), self.window.weeks)
        if p and rng.random() < p:
            return "error", self.pick_family(tool)
        return "ok", None

    def tool_latency(self, model: str, tool: config.ToolSpec, ms: int) -> int:
        mu, sigma = config.tool_latency_mu(self.agent, model, tool.name, self.week(ms))
        return max(1, int(self.rng.lognormvariate(mu, sigma)))

    def llm_latency(self, model: str, ms: int) -> int:
        mu, sigma = config.llm_latency_mu(self.agent, model, self.week(ms))
        return max(50, int(self.rng.lognormvariate(mu, sigma)))

    def output_tokens(self, model: str, final: bool) -> int:
        m = config.model(self.agent, model)
        median = m.out_median if final else m.out_median * 0.45
        return max(1, int(self.rng.lognormvariate(math.log(median), m.out_sigma)))

    def plan_round(self, model: str, tools: list[config.ToolSpec], ms: int, *, loopable: tuple[str, ...], interrupts: bool = True) -> list[Call]:
        """Tool calls of one model response. Handles planted loops (same call repeated 3-6 times)."""
        rng = self.rng
        if self.loop_left > 0 and self.loop_tool is not None:
            self.loop_left -= 1
            return [self._call(model, self.loop_tool, ms, loop=True, allow_interrupt=False)]
        if rng.random() < self.rates.loop_per_round:
            candidates = [t for t in tools if t.kind in loopable]
            if candidates:
                self.loop_tool = self.pick_tool(candidates)
                self.loop_left = rng.randint(2, 5)
                self.loop_input = None
                self.loop_results = {}
                return [self._call(model, self.loop_tool, ms, loop=True, allow_interrupt=False)]
        m = config.model(self.agent, model)
        n = rng.randint(2, 4) if rng.random() < m.parallel_prob else 1
        return [self._call(model, self.pick_tool(tools), ms, loop=False, allow_interrupt=interrupts and n == 1) for _ in range(n)]

    def _call(self, model: str, tool: config.ToolSpec, ms: int, *, loop: bool, allow_interrupt: bool) -> Call:
        status, fam = self.outcome(model, tool, ms, allow_interrupt)
        if loop and status == "error" and "error" in self.loop_results:
            fam = self.loop_results["error"]
        if loop and status == "error":
            self.loop_results.setdefault("error", fam)
        lat = self.tool_latency(model, tool, ms)
        if fam is not None and fam.family == "command_timeout":
            lat = int(fam.vars["n"]) * 1000 + self.rng.randint(5, 900)
        return Call(tool, status, fam, lat, loop=loop)

    def end_loop(self) -> None:
        self.loop_left = 0
        self.loop_tool = None
        self.loop_input = None
        self.loop_results = {}

    def more_rounds(self, model: str, rounds_done: int) -> bool:
        """Whether the model makes another tool round in this turn (geometric, mean = tool_rounds)."""
        if self.loop_left > 0:
            return True
        m = config.model(self.agent, model)
        return self.rng.random() < m.tool_rounds / (m.tool_rounds + 1.0)


def same_day_spread(end: int, start: int, n: int, rng: random.Random) -> list[int]:
    """Timestamps for ``n`` lines of one streamed response ending at ``end``, all after ``start``
    and on the same UTC day as ``end`` (so a per-day token split cannot depend on which line of
    a group a tool reads the usage from)."""
    floor = max(start + 1, end - end % DAY_MS)
    out = [end]
    t = end
    for _ in range(n - 1):
        t = max(floor, t - rng.randint(20, 900))
        out.append(t)
    out.reverse()
    return out
