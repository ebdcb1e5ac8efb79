"""Codex CLI rollouts (``sessions/YYYY/MM/DD/rollout-<YYYY-MM-DDThh-mm-ss>-<uuid>.jsonl``),
wrapped era: every line is ``{"timestamp", "type", "payload"}``.

Per model request the file holds the response items (reasoning, commentary message,
``function_call``/``custom_tool_call``) and then one ``event_msg/token_count`` whose
``total_token_usage`` is cumulative for the thread and whose ``last_token_usage`` is that
request. ``input_tokens`` includes ``cached_input_tokens`` and ``output_tokens`` includes
``reasoning_output_tokens``. Some requests are followed by a second token_count with the same
totals (a known duplicate), and some turns start with an ``info: null`` rate-limit update.

A fork is a new file whose first line is its own ``session_meta`` (with ``forked_from_id``),
followed by a verbatim copy of the parent's lines and then the fork's own turns; its totals
continue from the parent's.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson

from . import config
from . import text as T
from .behaviour import Call, Session, Window
from .families import FAMILIES
from .ids import DAY_MS, day_str, hex_id, iso, iso_compact, openai_call_id, uuid7
from .shell import failing_run, ok_run
from .stats import TaskStats
from .writer import JsonlFile

_dumps = orjson.dumps

_BASE_PARAGRAPHS = (
    "You are a coding agent running in a terminal-based assistant. You and the user share one workspace and collaborate to reach the user's goal.",
    "Be precise, safe and helpful. Prefer small, reviewable changes. Explain what you are about to do before running commands that modify files.",
    "When searching for text or files prefer fast tools such as rg. Read files in chunks of at most 250 lines.",
    "Use the apply_patch tool to edit files. Never rewrite a whole file when a small patch is enough.",
    "Keep the plan up to date with update_plan when a task has several steps. Mark steps completed as you go.",
    "Do not commit, push or create branches unless the user asks for it explicitly.",
    "When a command fails, read the error, form a hypothesis and try a targeted fix; do not repeat the same command without changing anything.",
    "Final answers are short: what changed, why, and how it was verified. Reference files with paths.",
)
BASE_INSTRUCTIONS = "\n\n".join(
    f"## {i}. {p.split('.')[0]}\n\n{p} " + " ".join(_BASE_PARAGRAPHS[(i + k) % len(_BASE_PARAGRAPHS)] for k in range(1, 4))
    for i, p in enumerate(_BASE_PARAGRAPHS * 3)
)
_BASE_FRAGMENT = orjson.Fragment(_dumps({"text": BASE_INSTRUCTIONS}))
_PERMISSIONS = (
    "<permissions instructions>\nFilesystem sandboxing defines which files can be read or written. "
    "`sandbox_mode` is `workspace-write`: the sandbox permits reading files, and editing files in `cwd` and "
    "`writable_roots`. Network access is restricted.\n</permissions instructions>"
)
_REJECTED = {"shell": "exec command rejected by user", "patch": "patch rejected by user"}
_STREAM_ERRORS = (
    "stream disconnected before completion: error sending request for url (https://chatgpt.com/backend-api/codex/responses)",
    "Reconnecting... 5/5",
    "unexpected status 503 Service Unavailable: upstream connect error",
)


def _vt(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def _truncate(out: str, limit: int = 12_000) -> str:
    if len(out) <= limit:
        return out
    head, tail = out[: limit // 2], out[-limit // 2 :]
    omitted = out[limit // 2 : -limit // 2].count("\n")
    return f"{head}\n[... omitted {omitted} lines ...]\n{tail}"


class _Usage:
    """Cumulative Codex token accounting for one thread."""

    def __init__(self, system: int) -> None:
        self.system = system
        self.ctx = 0
        self.prev_prompt = 0
        self.last_end: int | None = None
        self.total = [0, 0, 0, 0, 0]  # input, cached, output, reasoning, total

    def request(self, s: Session, model: str, start: int, final: bool) -> tuple[dict[str, int], dict[str, int]]:
        rng = s.rng
        spec = config.model("codex", model)
        prompt = self.system + self.ctx
        if self.last_end is not None and start - self.last_end < 600_000:
            cached = (min(self.prev_prompt, prompt) // 64) * 64
        else:
            cached = (min(self.system, prompt) // 64) * 64 if rng.random() < 0.5 else 0
        visible = s.output_tokens(model, final)
        reasoning = int(visible * spec.reasoning_share / max(0.05, 1 - spec.reasoning_share) * rng.uniform(0.5, 1.5))
        output = visible + reasoning
        last = {
            "input_tokens": prompt,
            "cached_input_tokens": cached,
            "output_tokens": output,
            "reasoning_output_tokens": reasoning,
            "total_tokens": prompt + output,
        }
        for i, k in enumerate(("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")):
            self.total[i] += last[k]
        total = dict(zip(("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens"), self.total, strict=True))
        self.prev_prompt = prompt
        self.ctx += output
        return total, last


class Rollout:
    """One rollout file being written, plus what a fork needs to copy from it."""

    def __init__(self, task: CodexTask, rel: str, thread_id: str, version: str, seq: str) -> None:
        self.task = task
        self.version = version
        self.exec_end = version in config.CODEX_EXEC_END
        self.rel = rel
        self.f = JsonlFile(task.root, rel, task.stats, task.s.mrng, task.s.malformed_rate, header_lines=1)
        self.thread_id = thread_id
        self.seq = seq
        self.copyable: list[tuple[bytes, tuple[str, str, tuple[int, ...]] | None]] = []

    def line(self, ts: int, typ: str, payload: Any, raw: tuple[str, str, tuple[int, ...]] | None = None) -> int:
        data = _dumps({"timestamp": iso(ts), "type": typ, "payload": payload})
        self.copyable.append((data, raw))
        return self.f.line(data)


class CodexTask:
    def __init__(self, root: Path, index: int, seed: int, window: Window, malformed_rate: float) -> None:
        self.root = root
        self.stats = TaskStats("codex")
        self.s = Session("codex", index, seed, window, self.stats, malformed_rate)
        rng = self.s.rng
        self.branch = rng.choice(self.s.project.branches)
        self.commit = hex_id(rng, 40)

    def _tools(self, version: str) -> list[config.ToolSpec]:
        shell_era = version in config.CODEX_SHELL_ERA
        out = []
        for t in config.CODEX_TOOLS:
            if t.name == "shell" and not shell_era:
                continue
            if t.name in ("exec_command", "write_stdin") and shell_era:
                continue
            out.append(t)
        return out

    def _rel(self, ms: int, thread_id: str) -> str:
        d = day_str(ms)
        return f"codex/sessions/{d[:4]}/{d[5:7]}/{d[8:10]}/rollout-{iso_compact(ms)}-{thread_id}.jsonl"

    def _meta(self, ro: Rollout, ms: int, version: str, forked_from: str | None = None) -> None:
        s = self.s
        payload: dict[str, Any] = {"id": ro.thread_id}
        if forked_from:
            payload["forked_from_id"] = forked_from
        payload.update(
            {
                "timestamp": iso(ms - min(5, ms % DAY_MS)),
                "cwd": s.project.cwd,
                "originator": "codex_cli_rs",
                "cli_version": version,
                "source": "cli",
                "model_provider": "openai",
            }
        )
        if _vt(version) >= (0, 90):
            payload["base_instructions"] = _BASE_FRAGMENT
        else:
            payload["instructions"] = None
        payload["git"] = {"commit_hash": self.commit, "branch": self.branch, "repository_url": f"git@github.com:{s.project.user}/{s.project.name}.git"}
        ro.line(ms, "session_meta", payload)

    # ------------------------------------------------------------------------------------

    def run(self) -> TaskStats:
        s, rng = self.s, self.s.rng
        now = s.session_start()
        version = s.pick_version(config.CODEX_VERSIONS, now)
        model = s.pick_model(now)
        tid = uuid7(rng, now)
        ro = Rollout(self, self._rel(now, tid), tid, version, seq=f"{tid}:main")
        self.stats.sessions["main"] += 1
        self._meta(ro, now, version)
        if version not in config.CODEX_SHELL_ERA:
            ro.line(now, "response_item", {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": _PERMISSIONS}]})
        if rng.random() < 0.5:
            agents_md = "\n".join(f"- {T.narration(rng, f.path)}" for f in rng.sample(s.project.files, 8))
            ro.line(
                now,
                "response_item",
                {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": f"# AGENTS.md instructions for {s.project.cwd}\n\n<INSTRUCTIONS>\n{agents_md}\n</INSTRUCTIONS>"}
                    ],
                },
            )
        ro.line(
            now,
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [
                    {
                        "type": "input_text",
                        "text": (
                            f"<environment_context>\n  <cwd>{s.project.cwd}</cwd>\n  <approval_policy>on-request</approval_policy>\n"
                            "  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n"
                            "  <shell>zsh</shell>\n</environment_context>"
                        ),
                    }
                ],
            },
        )
        usage = _Usage(int(rng.gauss(config.SYSTEM_PROMPT_TOKENS["codex"], 800)))
        now, model, died = self._turns(ro, version, model, s.n_turns(), now + rng.randint(500, 60_000), usage, allow_no_result=True)
        ro.f.close()
        if not died and s.continues():
            fork_at = now + s.think_time() + rng.randint(60_000, 6 * 3_600_000)
            if fork_at < s.window.end_ms - 3_600_000:
                self._fork(ro, version, model, fork_at, usage)
        self.stats.finish_sequences()
        return self.stats

    def _fork(self, parent: Rollout, version: str, model: str, now: int, usage: _Usage) -> None:
        s, rng = self.s, self.s.rng
        tid = uuid7(rng, now)
        ro = Rollout(self, self._rel(now, tid), tid, version, seq=f"{tid}:fork")
        self.stats.sessions["forked"] += 1
        self.stats.events["forks"] += 1
        self._meta(ro, now, version, forked_from=parent.thread_id)
        ro.f.copy([d for d, _ in parent.copyable], parent.rel)
        for data, raw in parent.copyable:
            ro.copyable.append((data, raw))
            if raw is not None:
                self.stats.raw_usage(raw[0], raw[1], raw[2])
        usage.last_end = None
        self._turns(ro, version, model, max(1, s.n_turns() // 2), now, usage, allow_no_result=False)
        ro.f.close()

    # ------------------------------------------------------------------------------------

    def _turns(self, ro: Rollout, version: str, model: str, n_turns: int, now: int, usage: _Usage, *, allow_no_result: bool) -> tuple[int, str, bool]:
        s, rng = self.s, self.s.rng
        tools = self._tools(version)
        newer = version not in config.CODEX_SHELL_ERA
        no_result_turn = n_turns - 1 if allow_no_result and rng.random() < s.rates.no_result_per_session else -1
        for turn in range(n_turns):
            if turn:
                now += s.think_time()
                if rng.random() < s.rates.model_switch_per_turn:
                    new = s.pick_model(now)
                    if new != model:
                        model = new
                        self.stats.events["model_switches"] += 1
            turn_id = uuid7(rng, now)
            started: dict[str, Any] = {"type": "task_started", "turn_id": turn_id, "model_context_window": 272000}
            if _vt(version) >= (0, 90):
                started["started_at"] = now // 1000
            ro.line(now, "event_msg", started)
            ro.line(
                now,
                "turn_context",
                {
                    "turn_id": turn_id,
                    "cwd": s.project.cwd,
                    "approval_policy": "on-request",
                    "sandbox_policy": {"type": "workspace-write", "network_access": False, "exclude_tmpdir_env_var": False, "exclude_slash_tmp": False},
                    "model": model,
                    "effort": rng.choice(("medium", "high", "low")),
                    "summary": "auto",
                },
            )
            ptext = T.prompt(rng, rng.choice(s.project.files).path, first=turn == 0)
            ro.line(now, "response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ptext}]})
            um: dict[str, Any] = {"type": "user_message", "message": ptext, "images": []}
            if newer:
                um.update({"local_images": [], "text_elements": []})
            ro.line(now, "event_msg", um)
            usage.ctx += T.tokens_of(ptext)
            if rng.random() < 0.2:
                ro.line(now + 1, "event_msg", {"type": "token_count", "info": None, "rate_limits": self._rate_limits()})
            now, final, died = self._rounds(ro, model, tools, turn_id, now, usage, newer, die=turn == no_result_turn)
            if died:
                return now, model, True
            if final is not ...:
                ro.line(now + rng.randint(2, 30), "event_msg", {"type": "task_complete", "turn_id": turn_id, "last_agent_message": final})
            if turn < n_turns - 1 and usage.system + usage.ctx > s.rates.compaction_ctx * rng.uniform(0.85, 1.1):
                now += rng.randint(10_000, 60_000)
                summary = T.compact_summary(rng, s.project)
                history = [
                    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": T.prompt(rng, "x", True)}]} for _ in range(rng.randint(1, 4))
                ]
                ro.line(now, "compacted", {"message": summary, "replacement_history": history})
                ro.line(now + 1, "event_msg", {"type": "context_compacted"})
                usage.ctx = T.tokens_of(summary) + rng.randint(500, 3000)
                usage.last_end = None
                self.stats.events["compactions"] += 1
        return now, model, False

    def _rate_limits(self) -> dict[str, Any]:
        rng = self.s.rng
        return {
            "primary": {"used_percent": round(rng.uniform(0, 95), 1), "window_minutes": 300, "resets_in_seconds": rng.randint(60, 18000)},
            "secondary": {"used_percent": round(rng.uniform(0, 60), 1), "window_minutes": 10080, "resets_in_seconds": rng.randint(3600, 600000)},
        }

    def _rounds(
        self, ro: Rollout, model: str, tools: list[config.ToolSpec], turn_id: str, start: int, usage: _Usage, newer: bool, *, die: bool
    ) -> tuple[int, Any, bool]:
        """Requests of one turn. Returns (last ts, final message or ``...`` if aborted, died)."""
        s, rng = self.s, self.s.rng
        rounds = 0
        while True:
            if rng.random() < s.rates.gen_interrupt_per_request:
                t = start + rng.randint(300, 6000)
                ro.line(t, "event_msg", {"type": "turn_aborted", "turn_id": turn_id, "reason": "interrupted"})
                self.stats.events["interrupts"] += 1
                s.end_loop()
                return t, ..., False
            if rng.random() < s.rates.api_error_per_request:
                t = start + rng.randint(2000, 40000)
                ro.line(t, "event_msg", {"type": "error", "message": rng.choice(_STREAM_ERRORS)})
                ro.line(t + 5, "event_msg", {"type": "task_complete", "turn_id": turn_id, "last_agent_message": None})
                self.stats.events["api_errors"] += 1
                s.end_loop()
                return t + 5, ..., False
            latency = s.llm_latency(model, start)
            end = start + latency
            want_tools = rng.random() < 0.9 if rounds == 0 else s.more_rounds(model, rounds)
            calls = s.plan_round(model, tools, end, loopable=("shell",)) if want_tools else []
            total, last = usage.request(s, model, start, final=not calls)
            usage.last_end = end
            path = rng.choice(s.project.files).path
            # response items between start and end
            n_items = 1 + len(calls) + 2
            step = max(1, latency // (n_items + 1))
            t = start + step
            enc = "gAAAAAB" + base64.urlsafe_b64encode(rng.randbytes(min(12_000, 200 + last["reasoning_output_tokens"] * 3))).decode()
            summary = (
                [{"type": "summary_text", "text": f"**{rng.choice(T.VERBS).capitalize()}ing {rng.choice(T.WORDS)}**\n\n{T.thinking(rng, path)}"}]
                if rng.random() < 0.5
                else []
            )
            ro.line(t, "response_item", {"type": "reasoning", "summary": summary, "content": None, "encrypted_content": enc})
            if summary and not newer:
                ro.line(t, "event_msg", {"type": "agent_reasoning", "text": summary[0]["text"]})
            final = None
            message = T.final_answer(rng, path) if not calls else (T.narration(rng, path) if rng.random() < 0.5 else None)
            if message is not None:
                t = min(end - 1, t + step)
                phase = "final_answer" if not calls else "commentary"
                ro.line(
                    t, "event_msg", {"type": "agent_message", "message": message, "phase": phase} if newer else {"type": "agent_message", "message": message}
                )
                item: dict[str, Any] = {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": message}]}
                if newer:
                    item["phase"] = phase
                ro.line(t, "response_item", item)
                if not calls:
                    final = message
            call_rows = []
            for k, call in enumerate(calls):
                call_ts = end - (len(calls) - k)
                call.extra["id"] = openai_call_id(rng)
                self._tool_io(call)
                if call.tool.kind == "patch":
                    ln = ro.line(
                        call_ts,
                        "response_item",
                        {"type": "custom_tool_call", "status": "completed", "call_id": call.extra["id"], "name": "apply_patch", "input": call.input},
                    )
                else:
                    ln = ro.line(
                        call_ts,
                        "response_item",
                        {"type": "function_call", "name": call.tool.name, "arguments": _dumps(call.input).decode(), "call_id": call.extra["id"]},
                    )
                self.stats.seq_call(ro.seq, call.tool.name, call.input, model, ro.rel, ln)
                call_rows.append((call, call_ts))
            day = day_str(end)
            native = (last["input_tokens"], last["cached_input_tokens"], last["output_tokens"], last["reasoning_output_tokens"], last["total_tokens"])
            info = {"total_token_usage": total, "last_token_usage": last, "model_context_window": 272000}
            ro.line(end, "event_msg", {"type": "token_count", "info": info, "rate_limits": self._rate_limits()}, raw=(model, day, native))
            canonical = (native[0] - native[1], native[1], 0, native[2], native[3])
            self.stats.llm_call(model, day, canonical, native, latency)
            self.stats.raw_usage(model, day, native)
            if rng.random() < 0.12:  # the same totals reported again
                ro.line(
                    end + rng.randint(1, 40), "event_msg", {"type": "token_count", "info": info, "rate_limits": self._rate_limits()}, raw=(model, day, native)
                )
                self.stats.raw_usage(model, day, native)
                self.stats.events["repeated_token_counts"] += 1
            rounds += 1
            if not calls:
                s.end_loop()
                return end, final, False
            if die:
                for call, call_ts in call_rows:
                    self.stats.tool_call(model, call.tool.name, "no_result", s.week(call_ts), None)
                self.stats.events["no_result_sessions"] += 1
                return end, ..., True
            last_ts, interrupted = self._outputs(ro, model, turn_id, call_rows, usage, newer)
            if interrupted:
                s.end_loop()
                return last_ts, ..., False
            start = last_ts

    # ------------------------------------------------------------------------------------

    def _tool_io(self, call: Call) -> None:
        s, rng = self.s, self.s.rng
        proj = s.project
        reuse = call.loop and s.loop_input is not None
        kind = call.tool.kind
        fam = call.family
        if reuse:
            call.input = s.loop_input
            if call.status == "error" and ("io", "error") in s.loop_results:
                call.family, call.extra["out"], call.extra["exit"] = s.loop_results[("io", "error")]
                return
        if kind == "shell":
            run = failing_run(rng, proj, fam) if fam else ok_run(rng, proj)
            if call.input is None:
                if call.tool.name == "shell":
                    call.input = {"command": ["bash", "-lc", run.command], "workdir": proj.cwd, "timeout_ms": 120000}
                else:
                    call.input = {"cmd": run.command, "workdir": proj.cwd, "max_output_tokens": 6000, "yield_time_ms": 1000}
            call.extra["out"] = _truncate(run.output)
            call.extra["stdout"], call.extra["stderr"] = run.stdout, run.stderr
            call.extra["exit"] = run.exit_code
        elif kind == "patch":
            f = rng.choice(proj.files)
            old = T.snippet(rng, f, 2)
            new = old.replace(rng.choice(T.WORDS), rng.choice(T.WORDS))
            minus = "\n".join("-" + ln for ln in old.split("\n"))
            plus = "\n".join("+" + ln for ln in new.split("\n"))
            call.input = f"*** Begin Patch\n*** Update File: {f.path}\n@@\n{minus}\n{plus}\n*** End Patch\n"
            if fam:
                call.family = fam = FAMILIES["apply_patch_mismatch"].render(rng, path=f"{proj.cwd}/{f.path}", snippet=old)
            call.extra["out"] = (
                fam.text
                if fam
                else _dumps(
                    {
                        "output": f"Success. Updated the following files:\nM {f.path}\n",
                        "metadata": {"exit_code": 0, "duration_seconds": round(call.latency / 1000, 1)},
                    }
                ).decode()
            )
            call.extra["exit"] = 1 if fam else 0
        elif kind == "plan":
            call.input = {
                "explanation": T.narration(rng, rng.choice(proj.files).path),
                "plan": [
                    {"step": f"{rng.choice(T.VERBS).capitalize()} {rng.choice(T.WORDS)}", "status": rng.choice(("completed", "in_progress", "pending"))}
                    for _ in range(rng.randint(2, 6))
                ],
            }
            call.extra["out"] = "Plan updated"
            call.extra["exit"] = 0
        elif kind == "stdin":
            call.input = {"session_id": rng.randint(1000, 99999), "chars": "", "yield_time_ms": 1000, "max_output_tokens": 2000}
            if fam:
                call.extra["out"] = fam.text
                call.extra["exit"] = 1
            else:
                run = ok_run(rng, proj)
                call.extra["out"] = _truncate(run.output)
                call.extra["exit"] = 0
        else:
            raise ValueError(kind)
        if call.loop:
            if s.loop_input is None:
                s.loop_input = call.input
            if call.status == "error":
                s.loop_results.setdefault(("io", "error"), (call.family, call.extra["out"], call.extra["exit"]))

    def _outputs(self, ro: Rollout, model: str, turn_id: str, call_rows: list[tuple[Call, int]], usage: _Usage, newer: bool) -> tuple[int, bool]:
        s, rng = self.s, self.s.rng
        rows = sorted(((call_ts + call.latency, call, call_ts) for call, call_ts in call_rows), key=lambda r: r[0])
        last = rows[-1][0]
        for ts, call, call_ts in rows:
            cid = call.extra["id"]
            status = call.status
            if status == "interrupted":
                ro.line(ts, "event_msg", {"type": "turn_aborted", "turn_id": turn_id, "reason": "interrupted"})
                self.stats.tool_call(model, call.tool.name, "interrupted", s.week(call_ts), None)
                self.stats.events["interrupts"] += 1
                return ts, True
            if status == "user_rejected":
                out = _REJECTED["patch" if call.tool.kind == "patch" else "shell"]
                self.stats.events["user_rejections"] += 1
            elif call.tool.kind == "shell" or (call.tool.kind == "stdin" and status == "ok"):
                secs = max(0.0, (call.latency - rng.randint(0, min(40, call.latency))) / 1000)
                if call.tool.name == "shell":
                    out = f"Exit code: {call.extra['exit']}\nWall time: {secs:.1f} seconds\nOutput:\n{call.extra['out']}"
                else:
                    out = (
                        f"Chunk ID: {hex_id(rng, 6)}\nWall time: {secs:.4f} seconds\nProcess exited with code "
                        f"{call.extra['exit']}\nOriginal token count: {T.tokens_of(call.extra['out'])}\nOutput:\n{call.extra['out']}"
                    )
                if call.tool.kind == "shell" and ro.exec_end:
                    cmd = call.input["command"][-1] if "command" in call.input else call.input["cmd"]
                    ro.line(
                        ts,
                        "event_msg",
                        {
                            "type": "exec_command_end",
                            "call_id": cid,
                            "turn_id": turn_id,
                            "command": ["bash", "-lc", cmd],
                            "cwd": s.project.cwd,
                            "parsed_cmd": [{"type": "unknown", "cmd": cmd}],
                            "source": "agent",
                            "stdout": call.extra.get("stdout", ""),
                            "stderr": call.extra.get("stderr", ""),
                            "aggregated_output": call.extra["out"],
                            "exit_code": call.extra["exit"],
                            "duration": {"secs": int(secs), "nanos": int((secs % 1) * 1e9)},
                            "formatted_output": call.extra["out"],
                            "status": "completed" if call.extra["exit"] == 0 else "failed",
                        },
                    )
            else:
                out = call.extra["out"]
            typ = "custom_tool_call_output" if call.tool.kind == "patch" else "function_call_output"
            ln = ro.line(ts, "response_item", {"type": typ, "call_id": cid, "output": out})
            self.stats.tool_call(model, call.tool.name, status, s.week(call_ts), ts - call_ts)
            if status == "error":
                assert call.family is not None
                self.stats.failure(
                    file=ro.rel, line_no=ln, tool_call_id=cid, family=call.family.family, tool=call.tool.name, model=model, text=call.family.text
                )
            usage.ctx += T.tokens_of(out)
        return last, False


def generate(root: Path, index: int, seed: int, window: Window, malformed_rate: float) -> TaskStats:
    return CodexTask(root, index, seed, window, malformed_rate).run()
