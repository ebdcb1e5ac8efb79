"""Merge per-task :class:`~tracelab.synth.stats.TaskStats` into ``truth.json``.

Every key is documented in ``tracelab/synth/README.md``. Percentiles use linear
interpolation between closest ranks (numpy's default, DuckDB's ``quantile_cont``) over the
integer-millisecond latencies that are actually written in the files.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, TypeVar

import orjson

from . import config
from .families import FAMILIES, family_tools
from .ids import WEEK_MS, day_str, iso
from .planted import planted_truth
from .stats import CANONICAL_FIELDS, NATIVE_FIELDS, STATUSES, TaskStats

GENERATOR_VERSION = "1.0"
PERCENTILES = (50, 90, 95, 99)
#: Session files by origin; every agent reports every key (0 where the agent has no such thing).
SESSION_KINDS = ("main", "resumed", "forked", "subagent", "warmup")
#: Event counters reported for every agent.
EVENT_KINDS = (
    "compactions",
    "interrupts",
    "user_rejections",
    "api_errors",
    "api_error_retries",
    "model_switches",
    "resumes",
    "forks",
    "branches",
    "repeated_token_counts",
    "no_result_sessions",
)


class Truth(dict):
    """The parsed ``truth.json`` (a plain dict) with a few helpers."""

    @classmethod
    def load(cls, path: str | Path) -> Truth:
        return cls(orjson.loads(Path(path).read_bytes()))

    def agent(self, name: str) -> dict[str, Any]:
        return self["agents"][name]


def percentile(sorted_values: list[int], q: float) -> float | None:
    n = len(sorted_values)
    if n == 0:
        return None
    pos = (n - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return round(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo), 3)


def _pcts(values: list[int]) -> dict[str, Any]:
    v = sorted(values)
    out: dict[str, Any] = {"samples": len(v)}
    for q in PERCENTILES:
        out[f"p{q}"] = percentile(v, q)
    return out


class _AgentAcc:
    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.files: list[tuple[str, int, int]] = []
        self.meta_files = 0
        self.meta_bytes = 0
        self.sessions: Counter[str] = Counter()
        self.malformed: list[tuple[str, int, str]] = []
        self.duplicates: list[tuple[str, int, int, str]] = []
        self.events: Counter[str] = Counter()
        self.llm_calls: Counter[str] = Counter()
        self.llm_latency: defaultdict[str, list[int]] = defaultdict(list)
        self.tokens: dict[tuple[str, str], list[int]] = {}
        self.native: dict[tuple[str, str], list[float]] = {}
        self.undedup: dict[tuple[str, str], list[float]] = {}
        self.tool_status: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.tool_latency: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        self.weekly: dict[tuple[int, str, str], list[int]] = {}
        self.loops: list[dict[str, Any]] = []

    def add(self, st: TaskStats) -> None:
        unknown = (set(st.events) - set(EVENT_KINDS)) | (set(st.sessions) - set(SESSION_KINDS))
        if unknown:
            raise ValueError(f"generator recorded counters truth.json does not report: {sorted(unknown)}")
        self.files.extend(st.files)
        self.meta_files += len(st.meta_files)
        self.meta_bytes += sum(b for _, b in st.meta_files)
        self.sessions.update(st.sessions)
        self.malformed.extend(st.malformed)
        self.duplicates.extend(st.duplicates)
        self.events.update(st.events)
        self.llm_calls.update(st.llm_calls)
        for k, v in st.llm_latency.items():
            self.llm_latency[k].extend(v)
        _add_into(self.tokens, st.tokens)
        _add_into(self.native, st.native)
        _add_into(self.undedup, st.undedup)
        for sk, c in st.tool_status.items():
            self.tool_status[sk].update(c)
        for sk, lat in st.tool_latency.items():
            self.tool_latency[sk].extend(lat)
        _add_into(self.weekly, st.weekly)
        self.loops.extend(st.loops)


K = TypeVar("K")
N = TypeVar("N", int, float)


def _add_into(dst: dict[K, list[N]], src: dict[K, list[N]]) -> None:
    """Add ``src``'s vectors element-wise into ``dst`` (copying the ones ``dst`` lacks)."""
    for key, vals in src.items():
        acc = dst.get(key)
        if acc is None:
            dst[key] = list(vals)
        else:
            for i, x in enumerate(vals):
                acc[i] += x


class TruthBuilder:
    def __init__(self, *, seed: int, args: dict[str, Any], agents: tuple[str, ...], start_ms: int, weeks: int) -> None:
        self.seed = seed
        self.args = args
        self.agents = agents
        self.start_ms = start_ms
        self.weeks = weeks
        self.acc = {a: _AgentAcc(a) for a in agents}
        self.family_counts: Counter[tuple[str, str]] = Counter()
        self.tasks = 0
        self.planted: list[dict[str, Any]] = []

    def add(self, st: TaskStats) -> None:
        self.acc[st.agent].add(st)
        self.family_counts.update(st.family_counts)
        self.planted.extend(st.planted)
        self.tasks += 1

    # ------------------------------------------------------------------------------------

    def build(self, *, planted: bool = False) -> Truth:
        agents = {a: self._agent(self.acc[a]) for a in self.agents}
        ftools = family_tools()
        families: list[dict[str, Any]] = []
        for fid, fam in FAMILIES.items():
            by_agent = {a: self.family_counts[(fid, a)] for a in self.agents if self.family_counts[(fid, a)]}
            families.append(
                {
                    "id": fid,
                    "template": fam.template,
                    "regex": fam.regex.pattern,
                    "tools": {a: t for a, t in ftools[fid].items() if a in self.agents},
                    "count": sum(by_agent.values()),
                    "count_by_agent": by_agent,
                }
            )
        out = Truth(
            {
                "generator": {"name": "tracelab.synth", "version": GENERATOR_VERSION},
                "seed": self.seed,
                "args": self.args,
                "window": {
                    "start": iso(self.start_ms),
                    "end": iso(self.start_ms + self.weeks * WEEK_MS),
                    "weeks": [{"week": w, "start": day_str(self.start_ms + w * WEEK_MS)} for w in range(self.weeks)],
                },
                "totals": {
                    "files": sum(a["files"] for a in agents.values()),
                    "lines": sum(a["lines"] for a in agents.values()),
                    "bytes": sum(a["bytes"] for a in agents.values()),
                    "failures": sum(f["count"] for f in families),
                },
                "agents": agents,
                "failure_families": families,
                "planted_regression": self._regression(agents),
            }
        )
        if planted:
            out["planted"] = planted_truth(self.planted, self.weeks)
        return out

    def _agent(self, acc: _AgentAcc) -> dict[str, Any]:
        lines = sum(n for _, n, _ in acc.files)
        nbytes = sum(b for _, _, b in acc.files) + acc.meta_bytes
        by_status: Counter[str] = Counter()
        for c in acc.tool_status.values():
            by_status.update(c)
        kinds = Counter(k for _, _, k in acc.malformed)
        out: dict[str, Any] = {
            "files": len(acc.files),
            "meta_files": acc.meta_files,
            "lines": lines,
            "bytes": nbytes,
            "sessions": {**{k: acc.sessions[k] for k in SESSION_KINDS}, "total": sum(acc.sessions.values())},
            "malformed": {
                "count": len(acc.malformed),
                "by_kind": {k: kinds[k] for k in sorted(kinds)},
                "lines": [{"file": f, "line_no": n, "kind": k} for f, n, k in acc.malformed],
            },
            "duplicates": {
                "lines": sum(t - f + 1 for _, f, t, _ in acc.duplicates),
                "ranges": [{"file": f, "from_line": a, "to_line": b, "source_file": src} for f, a, b, src in acc.duplicates],
            },
            "llm_calls": sum(acc.llm_calls.values()),
            "llm_calls_by_model": dict(sorted(acc.llm_calls.items())),
            "tool_calls": {"total": sum(by_status.values()), "by_status": {s: by_status[s] for s in STATUSES}},
            "events": {k: acc.events[k] for k in EVENT_KINDS},
            "loops": {"count": len(acc.loops), "calls": sum(lp["length"] for lp in acc.loops), "list": acc.loops},
            "tools": self._tools(acc),
            "llm_latency": self._llm_latency(acc),
            "tokens": self._tokens(acc),
            "weekly": self._weekly(acc),
        }
        return out

    def _tools(self, acc: _AgentAcc) -> dict[str, Any]:
        agent = acc.agent
        out: dict[str, Any] = {}
        for m in config.MODELS[agent]:
            per_tool: dict[str, Any] = {}
            for t in config.TOOLS[agent]:
                c = acc.tool_status.get((m.name, t.name), Counter())
                completed = c["ok"] + c["error"]
                probs = [config.error_prob(agent, m.name, t.name, w, self.weeks) for w in range(self.weeks)]
                expected_num = sum(probs[w] * acc.weekly.get((w, m.name, t.name), [0, 0, 0])[1] for w in range(self.weeks))
                mus = [config.tool_latency_mu(agent, m.name, t.name, w)[0] for w in range(self.weeks)]
                lat: dict[str, Any] = {
                    "mu": round(mus[0], 6),
                    "sigma": t.lat_sigma,
                    "mu_by_week": [round(x, 6) for x in mus],
                    **_pcts(acc.tool_latency.get((m.name, t.name), [])),
                }
                if t.kind == "task":
                    lat["model"] = "subagent_span"
                elif t.kind == "shell":
                    lat["model"] = "lognormal_except_timeouts"
                else:
                    lat["model"] = "lognormal"
                per_tool[t.name] = {
                    "calls": sum(c.values()),
                    **{s: c[s] for s in STATUSES},
                    "errors": c["error"],
                    "completed": completed,
                    "error_prob": round(probs[0], 6),
                    "error_prob_by_week": [round(p, 6) for p in probs],
                    "expected_error_rate": round(expected_num / completed, 6) if completed else None,
                    "realized_error_rate": round(c["error"] / completed, 6) if completed else None,
                    "latency": lat,
                }
            out[m.name] = per_tool
        return out

    def _llm_latency(self, acc: _AgentAcc) -> dict[str, Any]:
        out = {}
        for m in config.MODELS[acc.agent]:
            mus = [config.llm_latency_mu(acc.agent, m.name, w)[0] for w in range(self.weeks)]
            out[m.name] = {"mu": round(mus[0], 6), "sigma": m.llm_sigma, "mu_by_week": [round(x, 6) for x in mus], **_pcts(acc.llm_latency.get(m.name, []))}
        return out

    def _tokens(self, acc: _AgentAcc) -> dict[str, Any]:
        native_fields = NATIVE_FIELDS[acc.agent]

        def table(src: dict[tuple[str, str], list], fields: tuple[str, ...]) -> dict[str, dict[str, dict[str, Any]]]:
            out: dict[str, dict[str, dict[str, Any]]] = {}
            for day, model in sorted(src):
                vals = src[(day, model)]
                out.setdefault(day, {})[model] = {f: (round(v, 6) if isinstance(v, float) else v) for f, v in zip(fields, vals, strict=False)}
            return out

        canonical = table(acc.tokens, (*CANONICAL_FIELDS, "llm_calls"))
        totals: dict[str, dict[str, Any]] = {}
        for (_day, model), vals in acc.tokens.items():
            t = totals.setdefault(model, dict.fromkeys((*CANONICAL_FIELDS, "llm_calls"), 0))
            for f, v in zip((*CANONICAL_FIELDS, "llm_calls"), vals, strict=True):
                t[f] += v
        return {
            "canonical": canonical,
            "canonical_by_model": dict(sorted(totals.items())),
            "native_fields": list(native_fields),
            "native": table(acc.native, native_fields),
            "undeduplicated": table(acc.undedup, native_fields),
        }

    def _weekly(self, acc: _AgentAcc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for week, model, tool in sorted(acc.weekly):
            calls, completed, errors = acc.weekly[(week, model, tool)]
            out.setdefault(str(week), {}).setdefault(model, {})[tool] = {
                "calls": calls,
                "completed": completed,
                "errors": errors,
                "error_prob": round(config.error_prob(acc.agent, model, tool, week, self.weeks), 6),
            }
        return out

    def _regression(self, agents: dict[str, Any]) -> dict[str, Any]:
        r = config.REGRESSION
        last = self.weeks - 1
        out: dict[str, Any] = {
            "agent": r["agent"],
            "model": r["model"],
            "tool": r["tool"],
            "week": last,
            "week_start": day_str(self.start_ms + last * WEEK_MS),
            "prob": r["prob"],
        }
        if last > 0:
            spec_prob = config.error_prob(r["agent"], r["model"], r["tool"], last - 1, self.weeks)
            out["prob_previous_week"] = round(spec_prob, 6)
        if r["agent"] not in agents:
            out["realized"] = None
            return out
        weekly = agents[r["agent"]]["weekly"]
        before = [0, 0]
        for w in range(last):
            cell = weekly.get(str(w), {}).get(r["model"], {}).get(r["tool"])
            if cell:
                before[0] += cell["completed"]
                before[1] += cell["errors"]
        cell = weekly.get(str(last), {}).get(r["model"], {}).get(r["tool"]) or {"completed": 0, "errors": 0}
        out["realized"] = {
            "before": {"completed": before[0], "errors": before[1], "rate": round(before[1] / before[0], 6) if before[0] else None},
            "last_week": {
                "completed": cell["completed"],
                "errors": cell["errors"],
                "rate": round(cell["errors"] / cell["completed"], 6) if cell["completed"] else None,
            },
        }
        return out
