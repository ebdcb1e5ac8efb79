"""Claude Code transcripts (``projects/<encoded cwd>/<sessionId>.jsonl`` + subagent files).

What one task produces
----------------------
* a main session file, Claude Code 2.0.x or 2.1.x (versions drift over the weeks);
* 2.0.x: zero to two 2-line "Warmup" sidechains as flat ``agent-<8hex>.jsonl``;
* one subagent file per successful ``Task`` call: flat ``agent-<8hex>.jsonl`` (2.0.x) or
  ``<sessionId>/subagents/agent-<17hex>.jsonl`` + ``agent-<id>.meta.json`` (2.1.x);
* sometimes a resumed session: a new ``<sessionId>.jsonl`` that starts with verbatim copies
  of the original conversation lines (same uuids) and then continues.

Split assistant messages
------------------------
One API response is written as one line per content block (thinking, text, each tool_use),
all with the same ``message.id`` and ``requestId``, and **all carrying the identical, final
usage object**. So "first line per message.id" (ccusage) and "last line per message.id"
(tracelab) give the same tokens. Only ``stop_reason`` differs: null except on the last line.
"""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path
from typing import Any

import orjson

from . import config
from . import text as T
from .behaviour import Call, Session, Window, same_day_spread
from .families import FAMILIES
from .ids import anthropic_msg_id, anthropic_request_id, anthropic_tool_id, day_str, hex_id, iso, uuid4
from .shell import failing_run, ok_run
from .stats import TaskStats
from .writer import JsonlFile, write_json_file

_dumps = orjson.dumps
_REJECT_LONG = (
    "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file "
    "edit, the new_string was NOT written to the file). The user provided the following reason for the "
    "rejection:  "
)
_TODO_OK = (
    "Todos have been modified successfully. Ensure that you continue to use the todo list to track your "
    "progress. Please proceed with the current tasks if applicable"
)
_API_ERRORS = (
    '500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"%s"}',
    '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"%s"}',
)
_SUBAGENT_TYPES = ("general-purpose", "Explore", "Plan")
_TRIVIAL_TOOLS = ("Task", "TodoWrite")


def encode_cwd(cwd: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def _vt(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


class _Tokens:
    """Context-window bookkeeping that turns into Claude's additive usage fields."""

    def __init__(self, s: Session, system: int) -> None:
        self.s = s
        self.system = system
        self.ctx = 0
        self.cached = 0
        self.last_end: int | None = None

    def usage(self, start: int, output: int) -> dict[str, Any]:
        rng = self.s.rng
        prompt = self.system + self.ctx
        uncached = rng.randint(1, 12)
        if self.last_end is None or start - self.last_end > 300_000:  # first call or 5-minute cache expired
            read = self.system if rng.random() < 0.6 else 0
        else:
            read = min(self.cached, prompt - uncached)
        write = max(0, prompt - read - uncached)
        self.cached = prompt
        self.ctx += output
        return {
            "input_tokens": uncached,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output,
            "service_tier": "standard",
        }

    def add(self, text: str | int) -> None:
        self.ctx += text if isinstance(text, int) else T.tokens_of(text)


class Transcript:
    """One Claude JSONL file being written: envelope fields, parent chain, copyable lines."""

    def __init__(self, task: ClaudeTask, rel: str, session_id: str, version: str, *, agent_id: str | None = None, slug: str | None = None, seq: str) -> None:
        self.task = task
        self.f = JsonlFile(task.root, rel, task.stats, task.s.mrng, task.s.malformed_rate)
        self.rel = rel
        self.session_id = session_id
        self.version = version
        self.v = _vt(version)
        self.agent_id = agent_id
        self.sidechain = agent_id is not None
        self.slug = slug
        self.parent: str | None = None
        self.copyable: list[tuple[bytes, tuple[str, str, tuple[int, ...]] | None]] = []
        self.seq = seq
        proj = task.s.project
        self.cwd = proj.cwd
        self.branch = task.branch

    @property
    def v21(self) -> bool:
        return self.v >= (2, 1, 0)

    def env(self, typ: str, parent: Any = ...) -> dict[str, Any]:
        d: dict[str, Any] = {
            "parentUuid": self.parent if parent is ... else parent,
            "isSidechain": self.sidechain,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": self.branch,
        }
        if self.agent_id:
            d["agentId"] = self.agent_id
        if self.slug:
            d["slug"] = self.slug
        d["type"] = typ
        return d

    def conv_line(self, obj: dict[str, Any], *, raw: tuple[str, str, tuple[int, ...]] | None = None) -> int:
        """Write a conversation line (has uuid; part of what a resume copies)."""
        data = _dumps(obj)
        self.copyable.append((data, raw))
        self.parent = obj["uuid"]
        return self.f.line(data)

    def plain_line(self, obj: dict[str, Any]) -> int:
        return self.f.line(_dumps(obj))


class ClaudeTask:
    def __init__(self, root: Path, index: int, seed: int, window: Window, malformed_rate: float) -> None:
        self.root = root
        self.stats = TaskStats("claude")
        self.s = Session("claude", index, seed, window, self.stats, malformed_rate)
        self.branch = self.s.rng.choice(self.s.project.branches)
        self.tools = list(config.CLAUDE_TOOLS)
        self.sub_tools = [t for t in self.tools if t.name not in _TRIVIAL_TOOLS]
        self.proj_dir = f"claude/projects/{encode_cwd(self.s.project.cwd)}"
        self.todos: list[dict[str, str]] = []

    # ------------------------------------------------------------------------------------
    # top level
    # ------------------------------------------------------------------------------------

    def run(self) -> TaskStats:
        s, rng = self.s, self.s.rng
        now = s.session_start()
        version = s.pick_version(config.CLAUDE_VERSIONS, now)
        model = s.pick_model(now)
        sid = uuid4(rng)
        slug = T.slug(rng) if _vt(version) >= (2, 0, 50) else None
        main = Transcript(self, f"{self.proj_dir}/{sid}.jsonl", sid, version, slug=slug, seq=f"{sid}:main")
        self.stats.sessions["main"] += 1

        if main.v < (2, 1, 0) and rng.random() < s.rates.warmup_prob:
            for _ in range(rng.randint(1, 2)):
                self._warmup(main, model, now - rng.randint(200, 4000))
        if main.v < (2, 1, 23) and rng.random() < 0.15:
            main.plain_line(
                {"type": "summary", "summary": f"{rng.choice(T.VERBS).capitalize()} {rng.choice(T.WORDS)} {rng.choice(T.WORDS)}", "leafUuid": uuid4(rng)}
            )
        if main.v21:
            hook = main.env("progress", parent=None)
            hook.update(
                {
                    "data": {
                        "type": "hook_progress",
                        "hookEvent": "SessionStart",
                        "hookName": "SessionStart:startup",
                        "command": "$CLAUDE_PROJECT_DIR/.claude/hooks/session-start.sh",
                    },
                    "parentToolUseID": uuid4(rng),
                    "toolUseID": uuid4(rng),
                    "timestamp": iso(now),
                    "uuid": uuid4(rng),
                }
            )
            main.plain_line(hook)

        tokens = _Tokens(s, int(rng.gauss(config.SYSTEM_PROMPT_TOKENS["claude"], 1500)))
        n_turns = s.n_turns()
        now, model, died = self._turns(main, model, n_turns, now, tokens, allow_no_result=True)
        main.f.close()

        if not died and s.continues():
            resume_at = now + s.think_time() + rng.randint(60_000, 6 * 3_600_000)
            if resume_at < s.window.end_ms - 3_600_000:
                self._resume(main, model, resume_at, tokens)
        self.stats.finish_sequences()
        return self.stats

    def _resume(self, orig: Transcript, model: str, now: int, tokens: _Tokens) -> None:
        s, rng = self.s, self.s.rng
        version = orig.version
        if rng.random() < 0.3:
            version = s.pick_version(config.CLAUDE_VERSIONS, now)
            if _vt(version) < orig.v:
                version = orig.version
        sid = uuid4(rng)
        tr = Transcript(self, f"{self.proj_dir}/{sid}.jsonl", sid, version, slug=orig.slug, seq=f"{sid}:resume")
        self.stats.sessions["resumed"] += 1
        self.stats.events["resumes"] += 1
        if tr.v < (2, 1, 0) and rng.random() < 0.5:
            tr.plain_line({"type": "summary", "summary": f"{rng.choice(T.VERBS).capitalize()} {rng.choice(T.WORDS)}", "leafUuid": orig.parent})
        lines = [data for data, _ in orig.copyable]
        tr.f.copy(lines, orig.rel)
        for _data, raw in orig.copyable:
            if raw is not None:
                self.stats.raw_usage(raw[0], raw[1], raw[2])
        tr.parent = orig.parent
        tokens.last_end = None  # the cache is cold after a resume
        self._turns(tr, model, max(1, s.n_turns() // 2), now, tokens, allow_no_result=False)
        tr.f.close()

    # ------------------------------------------------------------------------------------
    # turns
    # ------------------------------------------------------------------------------------

    def _turns(self, tr: Transcript, model: str, n_turns: int, now: int, tokens: _Tokens, *, allow_no_result: bool) -> tuple[int, str, bool]:
        s, rng = self.s, self.s.rng
        no_result_turn = n_turns - 1 if allow_no_result and rng.random() < s.rates.no_result_per_session else -1
        for turn in range(n_turns):
            if turn:
                now += s.think_time()
            if turn and rng.random() < s.rates.model_switch_per_turn:
                new = s.pick_model(now)
                if new != model:
                    line = tr.env("system")
                    line.update(
                        {
                            "subtype": "local_command",
                            "content": "<command-name>/model</command-name>\n"
                            f"            <command-message>model</command-message>\n            <command-args>{new}</command-args>",
                            "level": "info",
                            "timestamp": iso(now),
                            "uuid": uuid4(rng),
                            "isMeta": False,
                        }
                    )
                    tr.conv_line(line)
                    model = new
                    self.stats.events["model_switches"] += 1
                    now += rng.randint(2000, 20000)
            prompt_uuid = uuid4(rng)
            tr.plain_line(
                {
                    "type": "file-history-snapshot",
                    "messageId": prompt_uuid,
                    "snapshot": {"messageId": prompt_uuid, "trackedFileBackups": self._backups(now), "timestamp": iso(now)},
                    "isSnapshotUpdate": False,
                }
            )
            path = rng.choice(s.project.files).path
            ptext = T.prompt(rng, path, first=turn == 0)
            if rng.random() < 0.05:
                tr.plain_line(
                    {
                        "type": "queue-operation",
                        "operation": "enqueue",
                        "timestamp": iso(now - rng.randint(500, 9000)),
                        "sessionId": tr.session_id,
                        "content": ptext,
                    }
                )
                tr.plain_line({"type": "queue-operation", "operation": "dequeue", "timestamp": iso(now - rng.randint(1, 400)), "sessionId": tr.session_id})
            user = tr.env("user")
            user["message"] = {"role": "user", "content": ptext}
            user["uuid"] = prompt_uuid
            user["timestamp"] = iso(now)
            if tr.v21:
                user["permissionMode"] = rng.choice(("default", "default", "acceptEdits", "plan"))
            tr.conv_line(user)
            tokens.add(ptext)
            turn_start = now
            now, model, ended, died = self._rounds(tr, model, now, tokens, die=turn == no_result_turn)
            if died:
                return now, model, True
            if tr.v21 and ended:
                if rng.random() < 0.15:
                    line = tr.env("system")
                    line.update(
                        {
                            "subtype": "stop_hook_summary",
                            "hookCount": 1,
                            "hookInfos": [{"command": "$CLAUDE_PROJECT_DIR/.claude/hooks/stop.sh"}],
                            "hookErrors": [],
                            "preventedContinuation": False,
                            "stopReason": "",
                            "hasOutput": True,
                            "level": "suggestion",
                            "timestamp": iso(now + 2),
                            "uuid": uuid4(rng),
                            "toolUseID": uuid4(rng),
                        }
                    )
                    tr.conv_line(line)
                line = tr.env("system")
                line.update({"subtype": "turn_duration", "durationMs": now - turn_start + 3, "timestamp": iso(now + 3), "uuid": uuid4(rng), "isMeta": False})
                tr.conv_line(line)
            if turn < n_turns - 1:
                now = self._maybe_compact(tr, now, tokens)
        return now, model, False

    def _maybe_compact(self, tr: Transcript, now: int, tokens: _Tokens) -> int:
        s, rng = self.s, self.s.rng
        threshold = s.rates.compaction_ctx * rng.uniform(0.85, 1.1)
        manual = rng.random() < s.rates.manual_compact_per_turn
        if tokens.ctx + tokens.system < threshold and not manual:
            return now
        now += rng.randint(15_000, 70_000)
        pre = tokens.ctx + tokens.system
        boundary = tr.env("system", parent=None)
        buuid = uuid4(rng)
        boundary.update(
            {
                "logicalParentUuid": tr.parent,
                "subtype": "compact_boundary",
                "content": "Conversation compacted",
                "isMeta": False,
                "timestamp": iso(now),
                "uuid": buuid,
                "level": "info",
                "compactMetadata": {"trigger": "manual" if manual else "auto", "preTokens": pre},
            }
        )
        # key order as Claude writes it: logicalParentUuid right after parentUuid
        boundary = {"parentUuid": None, "logicalParentUuid": tr.parent, **{k: v for k, v in boundary.items() if k not in ("parentUuid", "logicalParentUuid")}}
        tr.conv_line(boundary)
        summary = T.compact_summary(rng, s.project)
        user = tr.env("user")
        user.update(
            {
                "message": {"role": "user", "content": summary},
                "isVisibleInTranscriptOnly": True,
                "isCompactSummary": True,
                "uuid": uuid4(rng),
                "timestamp": iso(now + rng.randint(2, 40)),
            }
        )
        tr.conv_line(user)
        tokens.ctx = T.tokens_of(summary) + rng.randint(1000, 6000)
        tokens.last_end = None
        self.stats.events["compactions"] += 1
        return now + 50

    def _rounds(self, tr: Transcript, model: str, start: int, tokens: _Tokens, *, die: bool) -> tuple[int, str, bool, bool]:
        """Model responses and tool results of one user turn.

        Returns (time of the last line, model, turn ended normally, session died with a
        pending tool call)."""
        s, rng = self.s, self.s.rng
        rounds = 0
        while True:
            # interrupted while generating: no assistant line at all, just the marker
            if not tr.sidechain and rng.random() < s.rates.gen_interrupt_per_request:
                t = start + rng.randint(300, 8000)
                self._interrupt_line(tr, t, for_tool=False)
                s.end_loop()
                return t, model, False, False
            retries: list[int] = []
            fatal = False
            if rng.random() < s.rates.api_error_per_request:
                retries = [int(rng.uniform(400, 700) * 2**k) for k in range(rng.randint(1, 4))]
                fatal = rng.random() < s.rates.api_error_fatal_share
            latency = s.llm_latency(model, start)
            end = start + latency
            if retries:
                if tr.v >= (2, 1, 17):
                    self.stats.events["api_error_retries"] += len(retries)
                    for k, wait in enumerate(retries):
                        line = tr.env("system")
                        line.update(
                            {
                                "subtype": "api_error",
                                "level": "error",
                                "error": {},
                                "retryInMs": wait + rng.random(),
                                "retryAttempt": k + 1,
                                "maxRetries": 10,
                                "timestamp": iso(start + (latency * (k + 1)) // (len(retries) + 1)),
                                "uuid": uuid4(rng),
                            }
                        )
                        tr.conv_line(line)
            if fatal:
                self._api_error_message(tr, end)
                s.end_loop()
                return end, model, False, False

            want_tools = rng.random() < 0.88 if rounds == 0 else s.more_rounds(model, rounds)
            calls = (
                s.plan_round(model, self.tools if not tr.sidechain else self.sub_tools, end, loopable=("shell", "read", "grep"), interrupts=not tr.sidechain)
                if want_tools
                else []
            )
            end, uses = self._assistant_group(tr, model, start, end, calls, tokens)
            rounds += 1
            if not calls:
                s.end_loop()
                return end, model, True, False
            if die:
                for call, _use_uuid, _tid, _ts, _ln in uses:
                    self.stats.tool_call(model, call.tool.name, "no_result", s.week(start), None)
                self.stats.events["no_result_sessions"] += 1
                return end, model, False, True
            last, interrupted = self._results(tr, model, uses, tokens)
            if interrupted:
                self._interrupt_line(tr, last + rng.randint(5, 60), for_tool=True)
                s.end_loop()
                return last, model, False, False
            start = last

    # ------------------------------------------------------------------------------------
    # assistant messages
    # ------------------------------------------------------------------------------------

    def _assistant_group(
        self, tr: Transcript, model: str, start: int, end: int, calls: list[Call], tokens: _Tokens
    ) -> tuple[int, list[tuple[Call, str, str, int, int]]]:
        s, rng = self.s, self.s.rng
        spec = config.model("claude", model)
        path = rng.choice(s.project.files).path
        blocks: list[dict[str, Any]] = []
        out_tokens = s.output_tokens(model, final=not calls)
        if rng.random() < spec.thinking_prob:
            th = T.thinking(rng, path)
            blocks.append({"type": "thinking", "thinking": th, "signature": base64.b64encode(rng.randbytes(rng.randint(150, 900))).decode()})
            out_tokens += int(rng.lognormvariate(math.log(180), 0.8))
        if not calls:
            blocks.append({"type": "text", "text": T.final_answer(rng, path)})
        elif rng.random() < 0.6:
            blocks.append({"type": "text", "text": T.narration(rng, path)})
        tool_ids = []
        for call in calls:
            self._tool_io(call, start)
            tid = anthropic_tool_id(rng)
            tool_ids.append(tid)
            blocks.append({"type": "tool_use", "id": tid, "name": call.tool.name, "input": call.input})
        usage = tokens.usage(start, out_tokens)
        tokens.last_end = end
        msg_id, req_id = anthropic_msg_id(rng), anthropic_request_id(rng)
        times = same_day_spread(end, start, len(blocks), rng)
        day = day_str(end)
        native = (usage["input_tokens"], usage["cache_creation_input_tokens"], usage["cache_read_input_tokens"], usage["output_tokens"])
        lines: list[bytes] = []
        uuids: list[str] = []
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            line = tr.env("assistant")
            del line["type"]
            line["message"] = {
                "model": model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": ("tool_use" if calls else "end_turn") if last else None,
                "stop_sequence": None,
                "usage": usage,
            }
            line["requestId"] = req_id
            line["type"] = "assistant"
            u = uuid4(rng)
            line["uuid"] = u
            line["timestamp"] = iso(times[i])
            uuids.append(u)
            data = _dumps(line)
            lines.append(data)
            tr.copyable.append((data, (model, day, native)))
            tr.parent = u
        first_line = tr.f.group(lines)
        self.stats.llm_call(model, day, (native[0], native[2], native[1], native[3], 0), native, end - start)
        self.stats.raw_usage(model, day, native, times=len(blocks))
        uses = []
        offset = len(blocks) - len(calls)
        for k, call in enumerate(calls):
            i = offset + k
            uses.append((call, uuids[i], tool_ids[k], times[i], first_line + i))
            self.stats.seq_call(tr.seq, call.tool.name, call.input, model, tr.rel, first_line + i)
        return end, uses

    def _api_error_message(self, tr: Transcript, t: int) -> None:
        rng = self.s.rng
        line = tr.env("assistant")
        text = "API Error: " + (rng.choice(_API_ERRORS) % anthropic_request_id(rng))
        line.update(
            {
                "uuid": uuid4(rng),
                "timestamp": iso(t),
                "message": {
                    "id": uuid4(rng),
                    "container": None,
                    "model": "<synthetic>",
                    "role": "assistant",
                    "stop_reason": "stop_sequence",
                    "stop_sequence": "",
                    "type": "message",
                    "usage": {
                        "input_tokens": 0,
                        "output_tokens": 0,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                        "service_tier": None,
                        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
                    },
                    "content": [{"type": "text", "text": text}],
                    "context_management": None,
                },
                "error": "unknown",
                "isApiErrorMessage": True,
            }
        )
        tr.conv_line(line)
        self.stats.events["api_errors"] += 1

    def _interrupt_line(self, tr: Transcript, t: int, *, for_tool: bool) -> None:
        rng = self.s.rng
        marker = "[Request interrupted by user for tool use]" if for_tool else "[Request interrupted by user]"
        line = tr.env("user")
        content: Any = [{"type": "text", "text": marker}] if tr.v >= (2, 0, 0) else marker
        line.update({"message": {"role": "user", "content": content}, "uuid": uuid4(rng), "timestamp": iso(t)})
        tr.conv_line(line)
        self.stats.events["interrupts"] += 1

    def _warmup(self, main: Transcript, model: str, t: int) -> None:
        s, rng = self.s, self.s.rng
        aid = hex_id(rng, 8)
        tr = Transcript(self, f"{self.proj_dir}/agent-{aid}.jsonl", main.session_id, main.version, agent_id=aid, seq=f"{aid}:warmup")
        user = tr.env("user", parent=None)
        user.update({"message": {"role": "user", "content": "Warmup"}, "uuid": uuid4(rng), "timestamp": iso(t)})
        tr.conv_line(user)
        latency = s.llm_latency(model, t)
        end = t + latency
        input_tokens = rng.randint(900, 2600)
        output_tokens = rng.randint(40, 140)
        usage = {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }
        line = tr.env("assistant")
        del line["type"]
        line["message"] = {
            "model": model,
            "id": anthropic_msg_id(rng),
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "text", "text": f"I'm ready to help you search and analyze the {s.project.name} codebase. What would you like me to look at?"}
            ],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
        line.update({"requestId": anthropic_request_id(rng), "type": "assistant", "uuid": uuid4(rng), "timestamp": iso(end)})
        day = day_str(end)
        native = (input_tokens, 0, 0, output_tokens)
        tr.conv_line(line, raw=(model, day, native))
        self.stats.llm_call(model, day, (native[0], 0, 0, native[3], 0), native, latency)
        self.stats.raw_usage(model, day, native)
        tr.f.close()
        self.stats.sessions["warmup"] += 1

    # ------------------------------------------------------------------------------------
    # tool calls
    # ------------------------------------------------------------------------------------

    def _backups(self, now: int) -> dict[str, Any]:
        rng = self.s.rng
        out = {}
        for f in rng.sample(self.s.project.files, rng.randint(0, 3)):
            out[f.path] = {
                "backupFileName": f"{hex_id(rng, 16)}@v{rng.randint(1, 4)}",
                "version": rng.randint(1, 4),
                "backupTime": iso(now - rng.randint(1000, 600_000)),
            }
        return out

    def _tool_io(self, call: Call, now: int) -> None:
        """Fill ``call.input`` and ``call.extra['content'|'result'|'error_text']`` for this tool call."""
        s, rng = self.s, self.s.rng
        proj = s.project
        if call.loop and s.loop_input is not None:
            call.input = s.loop_input
            prev = s.loop_results.get(("io", call.status))
            if prev is not None:
                call.extra.update(prev)
                if call.status == "error":
                    call.family = prev["family"]
                return
        kind = call.tool.kind
        fam = call.family
        x: dict[str, Any] = {}
        if kind == "shell":
            run = failing_run(rng, proj, fam) if fam else ok_run(rng, proj)
            if call.input is None:
                call.input = {"command": run.command, "description": f"{rng.choice(T.VERBS).capitalize()} {rng.choice(T.WORDS)}"}
            if fam:
                x["content"] = f"Exit code {run.exit_code}\n{run.output}"
            else:
                x["content"] = run.output
                x["result"] = {"stdout": run.stdout, "stderr": run.stderr, "interrupted": False, "isImage": False}
        elif kind == "read":
            f = _file_for(proj, call.input) or rng.choice(proj.files)
            if fam and fam.family == "file_not_found":
                path = T.missing_path(rng, proj)
            else:
                path = f"{proj.cwd}/{f.path}"
            if call.input is None:
                call.input = {"file_path": path}
            if not fam:
                x["content"] = f.numbered
                x["result"] = {"type": "text", "file": {"filePath": path, "content": f.content, "numLines": f.lines, "startLine": 1, "totalLines": f.lines}}
        elif kind == "edit":
            f = rng.choice(proj.files)
            old = T.snippet(rng, f)
            new = old.replace(rng.choice(T.WORDS), rng.choice(T.WORDS)) if rng.random() < 0.5 else old + "\n" + T.snippet(rng, f, 1)
            path = T.missing_path(rng, proj) if fam and fam.family == "file_not_found" else f"{proj.cwd}/{f.path}"
            if call.input is None:
                call.input = {"file_path": path, "old_string": old, "new_string": new}
            if fam and fam.family in ("edit_string_not_found", "edit_multiple_matches"):
                call.family = fam = FAMILIES[fam.family].render(rng, snippet=call.input["old_string"])
            if not fam:
                line_no = max(1, f.content[: max(0, f.content.find(old))].count("\n") + 1)
                x["content"] = f"The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n" + T.numbered(
                    "\n".join(f.line_list[line_no - 1 : line_no + 8])
                )
                x["result"] = {
                    "filePath": path,
                    "oldString": old,
                    "newString": new,
                    "originalFile": f.content,
                    "structuredPatch": [
                        {
                            "oldStart": line_no,
                            "oldLines": old.count("\n") + 1,
                            "newStart": line_no,
                            "newLines": new.count("\n") + 1,
                            "lines": [f"-{ln}" for ln in old.split("\n")] + [f"+{ln}" for ln in new.split("\n")],
                        }
                    ],
                    "userModified": False,
                    "replaceAll": False,
                }
        elif kind == "write":
            f = rng.choice(proj.files)
            if fam:
                path = f"{proj.cwd}/{f.path}"
                body = T.make_source(rng, proj.lang, rng.randint(300, 3000), proj.pkg)
            else:
                path = T.missing_path(rng, proj)
                body = T.make_source(rng, proj.lang, int(rng.lognormvariate(7.5, 0.8)), proj.pkg)
            if call.input is None:
                call.input = {"file_path": path, "content": body}
            if not fam:
                x["content"] = f"File created successfully at: {path}"
                x["result"] = {"type": "create", "filePath": path, "content": body, "structuredPatch": []}
        elif kind == "grep":
            word = rng.choice(T.WORDS)
            if fam and fam.family == "input_validation":
                call.family = fam = FAMILIES["input_validation"].render(rng, tool="Grep", param="pattern")
                if call.input is None:
                    call.input = {"path": proj.cwd, "output_mode": "content"}
            elif fam:
                missing = T.missing_path(rng, proj).rsplit("/", 1)[0] + "/" + rng.choice(T.WORDS)
                call.family = fam = FAMILIES["path_not_found"].render(rng, path=missing)
                if call.input is None:
                    call.input = {"pattern": word, "path": missing}
            else:
                mode = rng.choice(("content", "files_with_matches"))
                if call.input is None:
                    call.input = {"pattern": word, "output_mode": mode, "-n": True} if mode == "content" else {"pattern": word}
                hits = T.word_hits(proj.name, word)
                names = sorted({f"{proj.cwd}/{path}" for path, _, _ in hits})
                if mode == "content":
                    body = "\n".join(f"{proj.cwd}/{path}:{i}:{ln}" for path, i, ln in hits)
                    x["content"] = body or "No matches found"
                    x["result"] = {"mode": "content", "numFiles": len(names), "filenames": [], "content": body, "numLines": len(hits)}
                else:
                    x["content"] = (f"Found {len(names)} files\n" + "\n".join(names)) if names else "No files found"
                    x["result"] = {"mode": "files_with_matches", "filenames": names, "numFiles": len(names)}
        elif kind == "glob":
            ext = {"python": "py", "ts": "ts", "go": "go", "rust": "rs"}[proj.lang]
            if fam:
                missing = T.missing_path(rng, proj).rsplit("/", 1)[0] + "/" + rng.choice(T.WORDS)
                call.family = fam = FAMILIES["path_not_found"].render(rng, path=missing)
                if call.input is None:
                    call.input = {"pattern": f"**/*.{ext}", "path": missing}
            else:
                if call.input is None:
                    call.input = {"pattern": f"**/*.{ext}"}
                names = [f"{proj.cwd}/{f.path}" for f in proj.files if f.path.endswith(ext)]
                x["content"] = "\n".join(names) if names else "No files found"
                x["result"] = {"filenames": names, "durationMs": max(1, call.latency - rng.randint(0, 20)), "numFiles": len(names), "truncated": False}
        elif kind == "task":
            desc = f"{rng.choice(T.VERBS).capitalize()} {rng.choice(T.WORDS)} {rng.choice(T.WORDS)}"
            prompt = (
                f"Investigate how the {rng.choice(T.WORDS)} {rng.choice(T.WORDS)} works in {proj.cwd}. "
                f"Start from {rng.choice(proj.files).path}, list the relevant files and summarise the data flow. "
                "Do not modify anything."
            )
            sub_type = fam.vars["agent_type"] if fam else rng.choice(_SUBAGENT_TYPES)
            call.input = {"description": desc, "prompt": prompt, "subagent_type": sub_type}
        elif kind == "web":
            url = f"https://{rng.choice(('docs.python.org/3/library', 'developer.mozilla.org/en-US/docs/Web', 'pkg.go.dev', 'docs.rs'))}/{rng.choice(T.WORDS)}"
            if call.input is None:
                call.input = {"url": url, "prompt": f"How do I configure {rng.choice(T.WORDS)}?"}
            if not fam:
                body = " ".join(T.narration(rng, rng.choice(proj.files).path) for _ in range(rng.randint(5, 40)))
                x["content"] = body
                x["result"] = {
                    "bytes": len(body) * rng.randint(3, 12),
                    "code": 200,
                    "codeText": "OK",
                    "result": body,
                    "durationMs": max(1, call.latency - rng.randint(0, 50)),
                    "url": call.input["url"],
                }
        elif kind == "todo":
            todos = [
                {
                    "content": f"{rng.choice(T.VERBS).capitalize()} {rng.choice(T.WORDS)}",
                    "status": rng.choice(("pending", "in_progress", "completed")),
                    "activeForm": f"{rng.choice(T.VERBS).capitalize()}ing {rng.choice(T.WORDS)}",
                }
                for _ in range(rng.randint(2, 7))
            ]
            if fam:
                call.family = fam = FAMILIES["input_validation"].render(rng, tool="TodoWrite", param="todos")
                if call.input is None:
                    call.input = {}
            else:
                if call.input is None:
                    call.input = {"todos": todos}
                x["content"] = _TODO_OK
                x["result"] = {"oldTodos": self.todos, "newTodos": todos}
                self.todos = todos
        elif kind == "mcp":
            if call.input is None:
                call.input = {"owner": proj.user, "repo": proj.name, "pullNumber": rng.randint(1, 900)}
            if not fam:
                pr = {
                    "number": call.input["pullNumber"],
                    "title": T.prompt(rng, rng.choice(proj.files).path, True),
                    "state": rng.choice(("open", "closed")),
                    "user": {"login": proj.user},
                    "body": "\n".join(T.narration(rng, rng.choice(proj.files).path) for _ in range(rng.randint(3, 25))),
                    "changed_files": rng.randint(1, 30),
                    "additions": rng.randint(1, 900),
                    "deletions": rng.randint(0, 400),
                }
                blocks = [{"type": "text", "text": orjson.dumps(pr, option=orjson.OPT_INDENT_2).decode()}]
                x["content"] = blocks
                x["result"] = blocks
        else:
            raise ValueError(kind)
        if fam:
            x["error_text"] = fam.text
            x["family"] = fam
        if call.loop:
            if s.loop_input is None:
                s.loop_input = call.input
            s.loop_results.setdefault(("io", call.status), dict(x))
        call.extra.update(x)

    def _results(self, tr: Transcript, model: str, uses: list[tuple[Call, str, str, int, int]], tokens: _Tokens) -> tuple[int, bool]:
        """Write the tool_result lines (in completion order). Returns (last ts, interrupted)."""
        s, rng = self.s, self.s.rng
        pending = []
        for call, use_uuid, tid, ts, _ln in uses:
            if call.tool.kind == "task" and call.status == "ok":
                call.extra["task_end"] = self._subagent(tr, model, call, tid, ts)
                result_ts = call.extra["task_end"]
            else:
                result_ts = ts + call.latency
            pending.append((result_ts, call, use_uuid, tid, ts))
        pending.sort(key=lambda p: p[0])
        interrupted = False
        last = pending[-1][0]
        for result_ts, call, use_uuid, tid, use_ts in pending:
            if tr.v21 and call.tool.kind == "shell" and call.latency > 5000:
                prog = tr.env("progress")
                out = "\n".join(f"[{i}] {rng.choice(T.WORDS)}" for i in range(rng.randint(1, 12)))
                prog.update(
                    {
                        "data": {
                            "type": "bash_progress",
                            "output": out,
                            "fullOutput": out,
                            "elapsedTimeSeconds": call.latency // 2000,
                            "totalLines": out.count("\n") + 1,
                        },
                        "toolUseID": f"bash-progress-{rng.randint(0, 9)}",
                        "parentToolUseID": tid,
                        "uuid": uuid4(rng),
                        "timestamp": iso(use_ts + call.latency // 2),
                    }
                )
                tr.plain_line(prog)
            block: dict[str, Any] = {"tool_use_id": tid, "type": "tool_result"}
            tur: Any
            status = call.status
            if status == "ok":
                content = call.extra.get("content", "")
                tur = call.extra.get("result")
                if call.tool.kind == "task":
                    content, tur = call.extra["task_content"], call.extra["task_result"]
                block["content"] = content
            elif status == "error":
                text = call.extra["error_text"]
                content = call.extra.get("content") or text
                block["content"] = content
                block["is_error"] = True
                tur = "Error: " + (text.replace("<tool_use_error>", "").replace("</tool_use_error>", "") if content == text else content)
            elif status == "user_rejected":
                reason = rng.choice(T.REJECT_REASONS)
                content = reason if tr.v < (2, 0, 40) else _REJECT_LONG + reason
                block["content"] = content
                block["is_error"] = True
                tur = "Error: " + content
                self.stats.events["user_rejections"] += 1
            else:  # interrupted: Esc while a Bash command runs (only shell calls are interrupted)
                block["content"] = "[Request interrupted by user for tool use]"
                block["is_error"] = True
                partial = "\n".join(call.extra.get("content", "").split("\n")[: rng.randint(0, 6)])
                tur = {"stdout": partial, "stderr": "", "interrupted": True, "isImage": False}
                interrupted = True
            line = tr.env("user")
            line["message"] = {"role": "user", "content": [block]}
            u = uuid4(rng)
            line["uuid"] = u
            line["timestamp"] = iso(result_ts)
            if tur is not None:
                line["toolUseResult"] = tur
            if tr.v21:
                line["sourceToolAssistantUUID"] = use_uuid
            ln = tr.conv_line(line)
            latency = result_ts - use_ts
            self.stats.tool_call(model, call.tool.name, status, s.week(use_ts), latency)
            if status == "error":
                assert call.family is not None
                self.stats.failure(
                    file=tr.rel, line_no=ln, tool_call_id=tid, family=call.family.family, tool=call.tool.name, model=model, text=call.family.text
                )
            c = block["content"]
            tokens.add(c if isinstance(c, str) else sum(T.tokens_of(b.get("text", "")) for b in c))
        return last, interrupted

    def _subagent(self, parent: Transcript, parent_model: str, call: Call, tid: str, use_ts: int) -> int:
        """Run a Task subagent in its own file; returns the Task result timestamp."""
        s, rng = self.s, self.s.rng
        model = config.CLAUDE_SUBAGENT_MODEL if rng.random() < 0.6 else parent_model
        if parent.v21:
            aid = hex_id(rng, 17)
            rel = f"{self.proj_dir}/{parent.session_id}/subagents/agent-{aid}.jsonl"
            write_json_file(
                self.root,
                f"{self.proj_dir}/{parent.session_id}/subagents/agent-{aid}.meta.json",
                {"agentType": call.input["subagent_type"], "description": call.input["description"]},
                self.stats,
            )
        else:
            aid = hex_id(rng, 8)
            rel = f"{self.proj_dir}/agent-{aid}.jsonl"
        tr = Transcript(self, rel, parent.session_id, parent.version, agent_id=aid, slug=parent.slug, seq=f"{aid}:sub")
        self.stats.sessions["subagent"] += 1
        t0 = use_ts + rng.randint(30, 300)
        user = tr.env("user", parent=None)
        user.update({"message": {"role": "user", "content": call.input["prompt"]}, "uuid": uuid4(rng), "timestamp": iso(t0)})
        tr.conv_line(user)
        tokens = _Tokens(s, int(rng.gauss(9000, 800)))
        tokens.add(call.input["prompt"])
        # the subagent's loop/tool state must not leak into the parent's
        saved = (s.loop_left, s.loop_tool, s.loop_input, s.loop_results)
        s.end_loop()
        calls_before = sum(sum(c.values()) for c in self.stats.tool_status.values())
        end, _model, _ended, _died = self._rounds(tr, model, t0, tokens, die=False)
        s.loop_left, s.loop_tool, s.loop_input, s.loop_results = saved
        tr.f.close()
        tool_count = sum(sum(c.values()) for c in self.stats.tool_status.values()) - calls_before
        final = f"## Findings\n\n{T.final_answer(rng, rng.choice(s.project.files).path)}"
        text = final + (f"\n\nagentId: {aid} (for resuming to continue this agent's work if needed)" if parent.v21 else "")
        result_ts = end + rng.randint(20, 200)
        content = [{"type": "text", "text": text}]
        call.extra["task_content"] = content
        call.extra["task_result"] = {
            "status": "completed",
            "prompt": call.input["prompt"],
            "agentId": aid,
            "content": content,
            "totalDurationMs": result_ts - t0,
            "totalTokens": tokens.system + tokens.ctx,
            "totalToolUseCount": tool_count,
            "usage": {
                "input_tokens": rng.randint(1, 9),
                "cache_creation_input_tokens": rng.randint(100, 3000),
                "cache_read_input_tokens": tokens.system + tokens.ctx,
                "output_tokens": rng.randint(200, 1500),
                "service_tier": "standard",
            },
        }
        return result_ts


def _file_for(proj: T.Project, tool_input: Any) -> T.SourceFile | None:
    """The project file a (reused) tool input points at, if any."""
    if not isinstance(tool_input, dict):
        return None
    path = tool_input.get("file_path", "")
    for f in proj.files:
        if path.endswith("/" + f.path):
            return f
    return None


def generate(root: Path, index: int, seed: int, window: Window, malformed_rate: float) -> TaskStats:
    return ClaudeTask(root, index, seed, window, malformed_rate).run()
