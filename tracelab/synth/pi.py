"""Pi coding-agent sessions (``sessions/--<enc cwd>--/<ts>_<uuid>.jsonl``), format v3.

Line 1 is the ``session`` header; every other line is an entry with an 8-hex ``id`` and a
``parentId``, forming a tree. Assistant messages carry ``usage`` with Anthropic semantics
(``input`` = uncached) plus a USD ``cost`` that pi computes from its price table; the
assistant ``message.timestamp`` (epoch ms) is the request start, the entry ``timestamp`` is
when the response was written, so their difference is the response latency.

Branches: occasionally the user goes back in the tree and the next user message becomes a
second child of an earlier entry (sometimes with a ``branch_summary``); the old branch stays
in the file. Forks: a new file whose header has ``parentSession`` and which starts with
verbatim copies of the entries on the path to the fork point.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import orjson

from . import config
from . import text as T
from .behaviour import Call, Session, Window
from .families import FAMILIES
from .ids import anthropic_tool_id, base62, day_str, hex_id, iso, pi_file_stamp, uuid4
from .shell import failing_run, ok_run
from .stats import TaskStats
from .writer import JsonlFile

_dumps = orjson.dumps
_THINKING = ("off", "minimal", "low", "medium", "high")
_API_ERRORS = (
    '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    "terminated",
    "Connection error.",
    '500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
)


def encode_cwd(cwd: str) -> str:
    stripped = cwd[1:] if cwd[:1] in "/\\" else cwd
    return "--" + stripped.replace("/", "-").replace("\\", "-").replace(":", "-") + "--"


class PiFile:
    """One pi session file: header + entries; remembers every entry for forks."""

    def __init__(self, task: PiTask, rel: str, seq: str) -> None:
        self.task = task
        self.rel = rel
        self.f = JsonlFile(task.root, rel, task.stats, task.s.mrng, task.s.malformed_rate, header_lines=1)
        self.seq = seq
        self.leaf: str | None = None
        #: id -> (line bytes, parentId, raw usage or None)
        self.entries: dict[str, tuple[bytes, str | None, tuple[str, str, tuple[float, ...]] | None]] = {}
        self.ids: set[str] = set()

    def new_id(self) -> str:
        rng = self.task.s.rng
        while True:
            i = hex_id(rng, 8)
            if i not in self.ids:
                self.ids.add(i)
                return i

    def entry(self, typ: str, ts: int, fields: dict[str, Any], *, parent: Any = ..., raw: tuple[str, str, tuple[float, ...]] | None = None) -> tuple[str, int]:
        eid = self.new_id()
        pid = self.leaf if parent is ... else parent
        obj = {"type": typ, "id": eid, "parentId": pid, "timestamp": iso(ts), **fields}
        data = _dumps(obj)
        self.entries[eid] = (data, pid, raw)
        self.leaf = eid
        return eid, self.f.line(data)

    @property
    def head(self) -> str:
        """Id of the last entry written (the leaf a new entry hangs from)."""
        if self.leaf is None:
            raise RuntimeError(f"{self.rel}: no entry written yet")
        return self.leaf

    def path_to(self, eid: str) -> list[str]:
        out = []
        cur: str | None = eid
        while cur is not None:
            out.append(cur)
            cur = self.entries[cur][1]
        out.reverse()
        return out


class _Tokens:
    def __init__(self, system: int) -> None:
        self.system = system
        self.ctx = 0
        self.cached = 0
        self.last_end: int | None = None

    def usage(self, s: Session, spec: config.ModelSpec, start: int, output: int) -> dict[str, Any]:
        rng = s.rng
        prompt = self.system + self.ctx
        warm = self.last_end is not None and start - self.last_end < 300_000
        if spec.provider == "anthropic":
            uncached = rng.randint(1, 12)
            read = min(self.cached, prompt - uncached) if warm else (self.system if rng.random() < 0.6 else 0)
            write = max(0, prompt - read - uncached)
        else:
            read = (min(self.cached, prompt) // 64) * 64 if warm else 0
            uncached = prompt - read
            write = 0
        self.cached = prompt
        self.ctx += output
        p_in, p_out, p_read, p_write = spec.price
        cost = {"input": uncached * p_in / 1e6, "output": output * p_out / 1e6, "cacheRead": read * p_read / 1e6, "cacheWrite": write * p_write / 1e6}
        cost["total"] = cost["input"] + cost["output"] + cost["cacheRead"] + cost["cacheWrite"]
        return {"input": uncached, "output": output, "cacheRead": read, "cacheWrite": write, "totalTokens": uncached + output + read + write, "cost": cost}


_ZERO_USAGE = {
    "input": 0,
    "output": 0,
    "cacheRead": 0,
    "cacheWrite": 0,
    "totalTokens": 0,
    "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0},
}


class PiTask:
    def __init__(self, root: Path, index: int, seed: int, window: Window, malformed_rate: float) -> None:
        self.root = root
        self.stats = TaskStats("pi")
        self.s = Session("pi", index, seed, window, self.stats, malformed_rate)
        self.dir = f"pi/sessions/{encode_cwd(self.s.project.cwd)}"
        self.tools = list(config.PI_TOOLS)

    def _header(self, pf: PiFile, sid: str, ts: int, parent_session: str | None = None) -> None:
        h: dict[str, Any] = {"type": "session", "version": 3, "id": sid, "timestamp": iso(ts), "cwd": self.s.project.cwd}
        if parent_session:
            h["parentSession"] = parent_session
        pf.f.line(_dumps(h))

    def run(self) -> TaskStats:
        s, rng = self.s, self.s.rng
        now = s.session_start()
        model = s.pick_model(now)
        sid = uuid4(rng)
        pf = PiFile(self, f"{self.dir}/{pi_file_stamp(now)}_{sid}.jsonl", seq=f"{sid}:main")
        self.stats.sessions["main"] += 1
        self._header(pf, sid, now)
        spec = config.model("pi", model)
        pf.entry("model_change", now + 3, {"provider": spec.provider, "modelId": model}, parent=None)
        level = rng.choice(_THINKING)
        pf.entry("thinking_level_change", now + 3, {"thinkingLevel": level})
        tokens = _Tokens(int(rng.gauss(config.SYSTEM_PROMPT_TOKENS["pi"], 400)))
        now, model, died, turn_ends = self._turns(pf, model, level, s.n_turns(), now + rng.randint(500, 20_000), tokens, allow_no_result=True)
        pf.f.close()
        if not died and turn_ends and s.continues():
            fork_at = now + s.think_time() + rng.randint(60_000, 6 * 3_600_000)
            if fork_at < s.window.end_ms - 3_600_000:
                self._fork(pf, sid, rng.choice(turn_ends), model, level, fork_at, tokens)
        self.stats.finish_sequences()
        return self.stats

    def _fork(self, parent: PiFile, parent_sid: str, point: str, model: str, level: str, now: int, tokens: _Tokens) -> None:
        s, rng = self.s, self.s.rng
        sid = uuid4(rng)
        pf = PiFile(self, f"{self.dir}/{pi_file_stamp(now)}_{sid}.jsonl", seq=f"{sid}:fork")
        self.stats.sessions["forked"] += 1
        self.stats.events["forks"] += 1
        home = "/".join(s.project.cwd.split("/")[:3])
        self._header(pf, sid, now, parent_session=f"{home}/.pi/agent/sessions/{encode_cwd(s.project.cwd)}/{parent.rel.rsplit('/', 1)[-1]}")
        path = parent.path_to(point)
        pf.f.copy([parent.entries[e][0] for e in path], parent.rel)
        for e in path:
            data, pid, raw = parent.entries[e]
            pf.entries[e] = (data, pid, raw)
            pf.ids.add(e)
            if raw is not None:
                self.stats.raw_usage(raw[0], raw[1], raw[2])
        pf.leaf = point
        tokens.last_end = None
        self._turns(pf, model, level, max(1, s.n_turns() // 2), now, tokens, allow_no_result=False)
        pf.f.close()

    # ------------------------------------------------------------------------------------

    def _turns(self, pf: PiFile, model: str, level: str, n_turns: int, now: int, tokens: _Tokens, *, allow_no_result: bool) -> tuple[int, str, bool, list[str]]:
        s, rng = self.s, self.s.rng
        no_result_turn = n_turns - 1 if allow_no_result and rng.random() < s.rates.no_result_per_session else -1
        turn_ends: list[str] = []
        user_parents: list[str | None] = []
        for turn in range(n_turns):
            if turn:
                now += s.think_time()
                if rng.random() < s.rates.model_switch_per_turn:
                    new = s.pick_model(now)
                    if new != model:
                        model = new
                        pf.entry("model_change", now - 5, {"provider": config.model("pi", model).provider, "modelId": model})
                        self.stats.events["model_switches"] += 1
                if rng.random() < 0.05:
                    level = rng.choice(_THINKING)
                    pf.entry("thinking_level_change", now - 4, {"thinkingLevel": level})
                if user_parents and rng.random() < s.rates.branch_per_turn:
                    # go back: the next prompt becomes a second child of an earlier entry
                    point = rng.choice(user_parents)
                    if point is not None and point != pf.leaf:
                        abandoned = pf.leaf
                        pf.leaf = point
                        if rng.random() < 0.5:
                            pf.entry(
                                "branch_summary",
                                now - 3,
                                {"fromId": abandoned, "summary": f"Tried to {rng.choice(T.VERBS)} the {rng.choice(T.WORDS)} first; abandoned."},
                            )
                        self.stats.events["branches"] += 1
            path = rng.choice(s.project.files).path
            ptext = T.prompt(rng, path, first=turn == 0)
            user_parents.append(pf.leaf)
            pf.entry("message", now, {"message": {"role": "user", "content": [{"type": "text", "text": ptext}], "timestamp": now}})
            tokens.ctx += T.tokens_of(ptext)
            now, ended, died = self._rounds(pf, model, level, now, tokens, die=turn == no_result_turn)
            if died:
                return now, model, True, turn_ends
            if ended:
                turn_ends.append(pf.head)
            if turn < n_turns - 1 and tokens.system + tokens.ctx > s.rates.compaction_ctx * rng.uniform(0.85, 1.1):
                now += rng.randint(10_000, 50_000)
                kept = pf.path_to(pf.head)[-min(6, len(pf.path_to(pf.head))) :][0]
                pf.entry(
                    "compaction",
                    now,
                    {
                        "summary": T.compact_summary(rng, s.project),
                        "firstKeptEntryId": kept,
                        "tokensBefore": tokens.system + tokens.ctx,
                        "details": {"readFiles": [f.path for f in rng.sample(s.project.files, 3)], "modifiedFiles": [rng.choice(s.project.files).path]},
                        "fromHook": False,
                    },
                )
                tokens.ctx = rng.randint(2000, 8000)
                tokens.last_end = None
                self.stats.events["compactions"] += 1
        return now, model, False, turn_ends

    def _assistant(
        self, pf: PiFile, model: str, start: int, end: int, content: list[dict[str, Any]], usage: dict[str, Any], stop: str, error: str | None = None
    ) -> tuple[str, int]:
        spec = config.model("pi", model)
        msg: dict[str, Any] = {
            "role": "assistant",
            "content": content,
            "api": spec.api,
            "provider": spec.provider,
            "model": model,
            "usage": usage,
            "stopReason": stop,
            "timestamp": start,
        }
        if error:
            msg["errorMessage"] = error
        elif spec.provider == "openai":
            msg["responseId"] = "resp_" + hex_id(self.s.rng, 48)
        raw = None
        if not error:
            raw = (model, day_str(end), self._native(usage))
        eid, ln = pf.entry("message", end, {"message": msg}, raw=raw)
        if raw is not None:
            self.stats.raw_usage(*raw)
        return eid, ln

    @staticmethod
    def _native(u: dict[str, Any]) -> tuple[float, ...]:
        return (u["input"], u["output"], u["cacheRead"], u["cacheWrite"], u["totalTokens"], u["cost"]["total"])

    def _rounds(self, pf: PiFile, model: str, level: str, start: int, tokens: _Tokens, *, die: bool) -> tuple[int, bool, bool]:
        s, rng = self.s, self.s.rng
        spec = config.model("pi", model)
        rounds = 0
        while True:
            if rng.random() < s.rates.gen_interrupt_per_request:
                t = start + rng.randint(200, 5000)
                self._assistant(pf, model, start, t, [], _ZERO_USAGE, "aborted", "Request was aborted")
                self.stats.events["interrupts"] += 1
                s.end_loop()
                return t, False, False
            if rng.random() < s.rates.api_error_per_request:
                t = start + rng.randint(1000, 30000)
                self._assistant(pf, model, start, t, [], _ZERO_USAGE, "error", rng.choice(_API_ERRORS))
                self.stats.events["api_errors"] += 1
                s.end_loop()
                return t, False, False
            latency = s.llm_latency(model, start)
            end = start + latency
            want_tools = rng.random() < 0.9 if rounds == 0 else s.more_rounds(model, rounds)
            calls = s.plan_round(model, self.tools, end, loopable=("shell", "read"), interrupts=False) if want_tools else []
            path = rng.choice(s.project.files).path
            content: list[dict[str, Any]] = []
            out = s.output_tokens(model, final=not calls)
            if level != "off" and spec.provider == "anthropic" and rng.random() < spec.thinking_prob:
                content.append(
                    {
                        "type": "thinking",
                        "thinking": T.thinking(rng, path),
                        "thinkingSignature": base64.b64encode(rng.randbytes(rng.randint(100, 600))).decode(),
                    }
                )
                out += int(rng.lognormvariate(math.log(160), 0.8))
            if not calls:
                content.append({"type": "text", "text": T.final_answer(rng, path)})
            elif rng.random() < 0.5:
                content.append({"type": "text", "text": T.narration(rng, path)})
            for call in calls:
                self._tool_io(call)
                cid = anthropic_tool_id(rng) if spec.provider == "anthropic" else f"call_{base62(rng, 24)}|fc_{hex_id(rng, 48)}"
                call.extra["id"] = cid
                content.append({"type": "toolCall", "id": cid, "name": call.tool.name, "arguments": call.input})
            usage = tokens.usage(s, spec, start, out)
            tokens.last_end = end
            _eid, ln = self._assistant(pf, model, start, end, content, usage, "toolUse" if calls else "stop")
            native = self._native(usage)
            self.stats.llm_call(model, day_str(end), (usage["input"], usage["cacheRead"], usage["cacheWrite"], usage["output"], 0), native, latency)
            for call in calls:
                self.stats.seq_call(pf.seq, call.tool.name, call.input, model, pf.rel, ln)
            rounds += 1
            if not calls:
                s.end_loop()
                return end, True, False
            if die:
                for call in calls:
                    self.stats.tool_call(model, call.tool.name, "no_result", s.week(end), None)
                self.stats.events["no_result_sessions"] += 1
                return end, False, True
            start = self._results(pf, model, end, calls, tokens)

    def _tool_io(self, call: Call) -> None:
        s, rng = self.s, self.s.rng
        proj = s.project
        fam = call.family
        kind = call.tool.kind
        if call.loop and s.loop_input is not None:
            call.input = s.loop_input
            prev = s.loop_results.get(("io", call.status))
            if prev is not None:
                call.extra.update(prev)
                if call.status == "error":
                    call.family = prev["family"]
                return
        x: dict[str, Any] = {}
        if kind == "shell":
            run = failing_run(rng, proj, fam) if fam else ok_run(rng, proj)
            if call.input is None:
                call.input = {"command": run.command}
            body = run.output[-50_000:]
            x["text"] = f"{body}\n\nCommand exited with code {run.exit_code}" if fam else (body or "(no output)")
        elif kind == "read":
            f = rng.choice(proj.files)
            if call.input is None:
                call.input = {"path": T.missing_path(rng, proj) if fam else f"{proj.cwd}/{f.path}"}
            if fam:
                call.family = fam = FAMILIES["enoent"].render(rng, path=call.input["path"])
            else:
                rel = call.input["path"].removeprefix(proj.cwd + "/")
                f = next((g for g in proj.files if g.path == rel), f)
                x["text"] = f.content
        elif kind == "edit":
            f = rng.choice(proj.files)
            old = T.snippet(rng, f)
            new = old.replace(rng.choice(T.WORDS), rng.choice(T.WORDS))
            path = T.missing_path(rng, proj) if fam and fam.family == "enoent" else f"{proj.cwd}/{f.path}"
            call.input = {"path": path, "oldText": old, "newText": new}
            if fam:
                call.family = fam = FAMILIES[fam.family].render(rng, path=path)
            else:
                x["text"] = f"Successfully replaced text in {path}."
                x["details"] = {"diff": "\n".join(f"-{ln}" for ln in old.split("\n")) + "\n" + "\n".join(f"+{ln}" for ln in new.split("\n"))}
        elif kind == "write":
            body = T.make_source(rng, proj.lang, int(rng.lognormvariate(7.5, 0.8)), proj.pkg)
            path = T.missing_path(rng, proj)
            call.input = {"path": path, "content": body}
            if fam:
                call.family = fam = FAMILIES["eacces"].render(rng, path=path)
            else:
                x["text"] = f"Successfully wrote {len(body.encode())} bytes to {path}"
        else:
            raise ValueError(kind)
        if fam:
            x["text"] = x.get("text") if kind == "shell" else fam.text
            x["family"] = fam
        if call.loop:
            if s.loop_input is None:
                s.loop_input = call.input
            s.loop_results.setdefault(("io", call.status), dict(x))
        call.extra.update(x)

    def _results(self, pf: PiFile, model: str, assistant_ts: int, calls: list[Call], tokens: _Tokens) -> int:
        s = self.s
        rows = sorted(((assistant_ts + c.latency, k, c) for k, c in enumerate(calls)), key=lambda r: (r[0], r[1]))
        for ts, _k, call in rows:
            is_error = call.status == "error"
            msg: dict[str, Any] = {
                "role": "toolResult",
                "toolCallId": call.extra["id"],
                "toolName": call.tool.name,
                "content": [{"type": "text", "text": call.extra["text"]}],
                "details": call.extra.get("details", {}),
                "isError": is_error,
                "timestamp": ts,
            }
            _eid, ln = pf.entry("message", ts, {"message": msg})
            self.stats.tool_call(model, call.tool.name, call.status, s.week(assistant_ts), call.latency)
            if is_error:
                assert call.family is not None
                self.stats.failure(
                    file=pf.rel, line_no=ln, tool_call_id=call.extra["id"], family=call.family.family, tool=call.tool.name, model=model, text=call.family.text
                )
            tokens.ctx += T.tokens_of(call.extra["text"])
        return rows[-1][0]


def generate(root: Path, index: int, seed: int, window: Window, malformed_rate: float) -> TaskStats:
    return PiTask(root, index, seed, window, malformed_rate).run()
