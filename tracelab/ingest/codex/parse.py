"""Codex CLI rollout JSONL → canonical events.

See ``README.md`` beside this file for the format quirks handled here and the rules chosen.

One parser handles both eras: the *wrapped* era (every line ``{timestamp, type, payload}``)
and the *bare* era (a header ``{id, timestamp, instructions, git}`` followed by bare response
items and ``{"record_type": "state"}`` lines, no per-line timestamps). A bare item is handled
exactly like the payload of a wrapped ``response_item``.

Layers: content (prompts, model output, tool calls and results) is taken from
``response_item`` lines only; ``event_msg`` lines that repeat it (``user_message``,
``agent_message``, ``agent_reasoning``, ``task_complete.last_agent_message``) become
``bookkeeping`` rows without text, and events supply timing, usage, exit codes, errors.
"""

from __future__ import annotations

import hashlib
import re
from hashlib import blake2b
from pathlib import Path
from typing import Any

import orjson

from tracelab import schema as S
from tracelab.ingest.base import (
    AWAITS,
    DEPENDS_ON,
    FILL_TS,
    JSON_SCALARS,
    SKIP,
    EventBuffer,
    ParseResult,
    RawLine,
    RejectBuffer,
    as_dict,
    cap_text,
    dumps,
    head_objects,
    parse_ts,
    scan,
    shrink,
    utf8_len,
)
from tracelab.ingest.codex import tool_output as TO
from tracelab.ingest.codex.replay import ParentPrefix, find_parent_file, line_key, thread_id_from_path
from tracelab.ingest.codex.usage import TokenLedger, canonical

AGENT = "codex"
PARSER_VERSION = "codex/2"

#: Envelope types of the wrapped era.
WRAPPED_TYPES = frozenset(
    {
        "session_meta",
        "response_item",
        "event_msg",
        "turn_context",
        "compacted",
        "world_state",
        "inter_agent_communication",
        "inter_agent_communication_metadata",
    }
)
#: ``response_item`` payload types (also the bare-era line types).
RESPONSE_ITEM_TYPES = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "local_shell_call",
        "web_search_call",
        "tool_search_call",
        "tool_search_output",
        "image_generation_call",
        "ghost_snapshot",
        "compaction",
        "context_compaction",
        "compaction_summary",
        "agent_message",
        "mcp_tool_call",
    }
)

#: What a native id looks like; placeholders such as ``[trimmed for fixture]`` are not ids.
_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:/@+=-]*$")
_CWD_RE = re.compile(r"<cwd>\s*(.*?)\s*</cwd>", re.S)

#: Start of injected user-role texts that are context, not something the human typed.
_CONTEXT_PREFIXES = (
    "<environment_context",
    "<user_instructions",
    "# AGENTS.md instructions",
    "<INSTRUCTIONS>",
    "<user_shell_command",
    "<turn_aborted",
    "<subagent_notification",
    "<permissions instructions",
    "<collaboration_mode",
    "<skill",
    "<personality",
    "<apps_instructions",
    "<model_switch",
    "<realtime_conversation",
    "<review",
    "<user_action",
    "<environment",
    "<codex_",
    "<system-reminder",
)

#: event_msg types that repeat content already taken from response items.
_ECHO_EVENTS = frozenset(
    {
        "user_message",
        "agent_message",
        "agent_reasoning",
        "agent_reasoning_raw_content",
        "agent_reasoning_section_break",
        "agent_message_delta",
        "agent_reasoning_delta",
    }
)
#: event_msg types about a tool call (by ``call_id``): become ``tool_event`` rows.
_TOOL_EVENTS = frozenset(
    {
        "exec_command_begin",
        "exec_command_end",
        "exec_command_output_delta",
        "patch_apply_begin",
        "patch_apply_end",
        "mcp_tool_call_begin",
        "mcp_tool_call_end",
        "web_search_begin",
        "web_search_end",
        "image_generation_begin",
        "image_generation_end",
        "view_image_tool_call",
        "dynamic_tool_call_request",
        "dynamic_tool_call_response",
        "collab_agent_spawn_begin",
        "collab_agent_spawn_end",
        "collab_agent_interaction_begin",
        "collab_agent_interaction_end",
        "collab_waiting_begin",
        "collab_waiting_end",
        "collab_close_begin",
        "collab_close_end",
        "terminal_interaction",
    }
)
#: event_msg types that are state / settings / UI records.
_BOOKKEEPING_EVENTS = frozenset(
    {
        "thread_name_updated",
        "session_configured",
        "thread_settings_applied",
        "thread_goal_updated",
        "sub_agent_activity",
        "plan_update",
        "turn_diff",
        "guardian_assessment",
        "exec_approval_request",
        "apply_patch_approval_request",
        "elicitation_request",
        "request_user_input",
        "mcp_startup_complete",
        "mcp_startup_update",
        "mcp_list_tools_response",
        "list_custom_prompts_response",
        "raw_response_item",
        "get_history_entry_response",
        "item_started",
        "thread_rolled_back",
    }
)
_SYSTEM_EVENTS = frozenset(
    {
        "entered_review_mode",
        "exited_review_mode",
        "undo_started",
        "undo_completed",
        "background_event",
        "warning",
        "shutdown_complete",
        "deprecation_notice",
        "stream_info",
    }
)
_ERROR_EVENTS = frozenset({"error", "stream_error"})
#: item_completed item types that describe a tool call.
_TOOL_ITEMS = frozenset(
    {
        "CommandExecution",
        "McpToolCall",
        "FileChange",
        "Extension",
        "WebSearch",
        "DynamicToolCall",
        "ImageGeneration",
        "CollabAgentToolCall",
        "ToolSearch",
        "commandExecution",
        "mcpToolCall",
        "fileChange",
        "webSearch",
    }
)

_RANK = {"ok": 0, "interrupted": 1, "error": 2, "user_rejected": 3}


def _s(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


#: Timestamps outside these bounds (epoch ms, years 1970–2200) are treated as unparseable.
_TS_MAX = 7_258_118_400_000


def _ts(raw: Any) -> int | None:
    ts = parse_ts(raw) if raw is not None else None
    return ts if ts is not None and 0 <= ts < _TS_MAX else None


def _id(v: Any) -> str | None:
    """A native call id, or None for a missing or placeholder value."""
    return v if isinstance(v, str) and _ID_RE.match(v) else None


#: Keys of a wrapped-era line envelope consumed into columns.
_ENVELOPE_KEYS = frozenset({"timestamp", "type", "payload"})


def _rest(d: dict, used: frozenset[str] | set[str] | tuple, limit: int = 256) -> dict:
    """The fields of ``d`` not in ``used``, shrunk (see :func:`shrink`); short strings and
    numbers are copied without a call per value."""
    out = {}
    for k, v in d.items():
        if k in used:
            continue
        if isinstance(v, str):
            out[k] = v if len(v) <= limit else shrink(v, limit)
        elif isinstance(v, JSON_SCALARS):
            out[k] = v
        else:
            out[k] = shrink(v, limit)
    return out


def _json_input(value: Any) -> str | None:
    """A tool input as a JSON string: a string that already is JSON is kept verbatim."""
    if value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in ("{", "[") and s[-1:] in ("}", "]"):
            try:
                orjson.loads(s)
                return value
            except orjson.JSONDecodeError:
                pass
        return dumps(value)
    return dumps(value)


def _input_and_args(value: Any) -> tuple[str | None, dict]:
    """``(_json_input(value), _args_obj(value))``, a JSON string decoded once when both would
    decode the same text (nothing stripped around it)."""
    if isinstance(value, str):
        s = value.strip()
        if len(s) == len(value) and s[:1] == "{" and s[-1:] in ("}", "]"):
            try:
                obj = orjson.loads(s)
            except orjson.JSONDecodeError:
                return dumps(value), {}
            return value, obj if isinstance(obj, dict) else {}
    return _json_input(value), _args_obj(value)


def _args_obj(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            obj = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
        return obj if isinstance(obj, dict) else {}
    return {}


def is_bare_header(d: dict) -> bool:
    return "type" not in d and "payload" not in d and isinstance(d.get("id"), str) and ("instructions" in d or "git" in d) and "timestamp" in d


class CodexParser:
    """Parses one Codex rollout file (or its appended tail, given the saved ``state``)."""

    def __init__(self, path: str | Path, state: dict[str, Any] | None = None):
        self.path = str(path)
        self.buf = EventBuffer(start_ts=(state or {}).get(FILL_TS))
        self.rejects = RejectBuffer()
        self.line_keys: dict[int, str] = {}
        self.file_tag = hashlib.blake2b(self.path.encode(), digest_size=8).hexdigest()
        st = dict(state or {})
        self.ident: dict[str, Any] = st.get("ident") or {}
        self.model: str | None = st.get("model")
        self.ledger = TokenLedger(st.get("ledger"))
        self.open_calls: dict[str, list] = st.get("open_calls", {})  # call_id -> [name, turn_no]
        self.running: dict[str, str] = st.get("running", {})  # unified-exec session id -> call_id
        self.stdin_calls: dict[str, str] = st.get("stdin_calls", {})  # write_stdin call_id -> session id
        self.hints: dict[str, dict] = st.get("hints", {})  # call_id -> facts from *_end events
        self.last_input_ts: int | None = st.get("last_input_ts")
        self.in_compaction: bool = st.get("in_compaction", False)
        self.replay: dict[str, Any] = st.get("replay", {})
        self.n_lines: int = st.get("n_lines", 0)
        self.turn_no: int = st.get("turn_no", 0)
        self.last_ts: int | None = st.get("last_ts")
        self.first_ts: int | None = None
        self.skipped = 0
        # per-parse row indexes (a response's rows are grouped when its token_count arrives)
        self.pending: list[int] = []
        self.pending_req_ts: int | None = None
        #: the ingest before this append ended with model output waiting for its token_count:
        #: if this tail closes that response, rows already written change (re-parse the file)
        self.carried_pending: bool = bool(st.get("pending_open"))
        self.needs_full_reparse = False
        self.call_rows: dict[str, int] = {}
        self.result_rows: dict[str, int] = {}
        self._prefix: ParentPrefix | None = None
        if not self.ident:
            self.ident = self._identity_from_head()
        ident = self.ident
        #: the row columns that come from the file's identity, fixed for the whole parse
        #: (identity is settled above: a later session_meta never changes it)
        self._ident_base: dict[str, Any] = {
            "session_key": self.session_key,
            "agent": AGENT,
            "source_file": self.path,
            "session_id": ident.get("thread"),
            "subagent_id": ident.get("subagent_id"),
            "parent_session_key": ident.get("parent"),
            "forked_from": ident.get("forked_from"),
            "is_sidechain": bool(ident.get("subagent_id")),
            "agent_version": ident.get("version"),
            "git_branch": ident.get("git_branch"),
        }
        self._line_key_prefix = f"codex:{ident.get('thread')}:"
        self._copies_parent = bool(ident.get("copies_parent"))

    # ------------------------------------------------------------------ identity
    def _identity_from_head(self) -> dict[str, Any]:
        """Identity of the file from its first ``session_meta`` (or bare header), else its name.

        The first meta owns identity: forked and subagent files continue with copies of their
        ancestors' metas."""
        ident: dict[str, Any] = {"thread": thread_id_from_path(self.path)}
        try:
            objs = head_objects(self.path, max_lines=10)
        except OSError:
            objs = []
        for d in objs:
            if d.get("type") == "session_meta" and isinstance(d.get("payload"), dict):
                ident.update(self._meta_identity(d["payload"]))
                break
            if is_bare_header(d):
                ident["thread"] = d["id"]
                git = as_dict(d.get("git"))
                ident["git_branch"] = _s(git.get("branch"))
                break
        return ident

    @staticmethod
    def _meta_identity(p: dict) -> dict[str, Any]:
        out: dict[str, Any] = {}
        tid = _s(p.get("id")) or _s(p.get("session_id"))
        if tid:
            out["thread"] = tid
        out["version"] = _s(p.get("cli_version"))
        out["provider"] = _s(p.get("model_provider"))
        git = as_dict(p.get("git"))
        out["git_branch"] = _s(git.get("branch"))
        src = p.get("source")
        spawn: dict = {}
        is_sub = False
        if isinstance(src, dict) and isinstance(src.get("subagent"), (dict, str)):
            is_sub = True
            sub = src["subagent"]
            if isinstance(sub, dict) and isinstance(sub.get("thread_spawn"), dict):
                spawn = sub["thread_spawn"]
        parent = _s(spawn.get("parent_thread_id")) or _s(p.get("parent_thread_id"))
        forked = _s(p.get("forked_from_id"))
        if parent:
            out["parent"] = f"codex:{parent}"
        if forked:
            out["forked_from"] = f"codex:{forked}"
        if is_sub or parent:
            out["subagent_id"] = (
                _s(p.get("agent_nickname"))
                or _s(spawn.get("agent_nickname"))
                or _s(p.get("agent_path"))
                or _s(spawn.get("agent_path"))
                or _s(p.get("agent_role"))
                or out.get("thread")
            )
        start = p.get("subagent_history_start_ordinal")
        if isinstance(start, int) and not isinstance(start, bool) and start > 0:
            out["history_start"] = start
        out["copies_parent"] = bool(parent or forked or spawn)
        return out

    def _step(self, obj: Any, err: str | None, line: RawLine) -> str | None:
        """One line for :func:`scan`: every complete line takes an ordinal (rejected ones too)."""
        ordinal = self.n_lines
        self.n_lines += 1
        if err is not None:
            return err
        reason = self._handle(obj, line, ordinal)
        if reason == _SKIP:
            return SKIP
        if reason is not None:
            self.line_keys.pop(line.line_no, None)
        return reason

    @property
    def session_key(self) -> str:
        return f"codex:{self.ident['thread']}"

    # ------------------------------------------------------------------ main loop
    def parse(self, start_offset: int = 0, start_line: int = 0) -> ParseResult:
        lines_total, lines_rejected, skipped, end_offset, end_line = scan(self.path, AGENT, start_offset, start_line, self.rejects, self._step)
        self.skipped += skipped
        state: dict[str, Any] = {
            "ident": self.ident,
            "model": self.model,
            "ledger": self.ledger.state(),
            "open_calls": self.open_calls,
            "running": self.running,
            "stdin_calls": self.stdin_calls,
            "hints": self.hints,
            "last_input_ts": self.last_input_ts,
            "in_compaction": self.in_compaction,
            "replay": self.replay,
            "n_lines": self.n_lines,
            "turn_no": self.turn_no,
            "last_ts": self.last_ts,
        }
        if self.pending:
            state["pending_open"] = True
        if self.replay.get("parent_file"):
            state[DEPENDS_ON] = [self.replay["parent_file"]]
        elif self.replay.get("awaits"):
            state[AWAITS] = [self.replay["awaits"]]
        if self.needs_full_reparse:
            state["needs_full_reparse"] = True
        return ParseResult(
            path=self.path,
            agent=AGENT,
            buffer=self.buf,
            rejects=self.rejects,
            line_keys=self.line_keys,
            lines_total=lines_total,
            lines_rejected=lines_rejected,
            lines_skipped_duplicate=self.skipped,
            bytes_ingested=end_offset,
            end_line_no=end_line,
            state=state,
            first_ts=self.first_ts,
            parser_version=PARSER_VERSION,
            session_keys=[self.session_key],
        )

    # ------------------------------------------------------------------ rows
    def _add(self, base: dict, block: int, **vals: Any) -> int:
        """Add a row (``base`` overridden by ``vals``); returns its index."""
        return self.buf.append({**base, "event_key": f"{self.file_tag}:{base['line_no']}:{block}", "block_index": block, **vals})

    def _set(self, idx: int, **vals: Any) -> None:
        self.buf.row(idx).update(vals)

    def _get(self, idx: int, name: str) -> Any:
        return self.buf.row(idx).get(name)

    def _model_output(self, idx: int) -> None:
        """A row of model output: joins the response that the next advancing token_count closes."""
        if not self.pending:
            self.pending_req_ts = self.last_input_ts
        self.pending.append(idx)

    def _input(self, ts: int | None) -> None:
        if ts is not None:
            self.last_input_ts = ts

    def _turn_boundary(self) -> None:
        """Model output not closed by a token_count before a turn boundary stays ungrouped."""
        self.carried_pending = False
        self.pending = []
        self.pending_req_ts = None

    def _content_seen(self) -> None:
        self.in_compaction = False

    # ------------------------------------------------------------------ dispatch
    def _handle(self, d: dict, line: RawLine, ordinal: int) -> str | None:
        t: Any = d.get("type")
        if t is not None and not isinstance(t, str):
            return f"field 'type' has wrong type {type(t).__name__}"
        raw_ts = d.get("timestamp")
        if raw_ts is not None and (isinstance(raw_ts, bool) or not isinstance(raw_ts, (str, int, float))):
            return f"field 'timestamp' has wrong type {type(raw_ts).__name__}"
        wrapped = t in WRAPPED_TYPES and "payload" in d
        p: Any = d.get("payload") if wrapped else None
        if wrapped and not isinstance(p, dict):
            return f"field 'payload' of a {t} line has wrong type {type(p).__name__}"
        if wrapped and p.get("type") is not None and not isinstance(p["type"], str):
            return f"field 'payload.type' of a {t} line has wrong type {type(p['type']).__name__}"
        ts = _ts(raw_ts)
        # files that copy no parent history skip the replay test once their own meta is seen
        if (self._copies_parent or "meta_ordinal" not in self.replay) and self._in_replay(t, p, d, ts, ordinal):
            self._replayed(t, p)
            return _SKIP
        if ts is not None:
            self.last_ts = ts
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
        extra: dict[str, Any] = {}
        if raw_ts is not None and ts is None:
            extra["$unparsed_timestamp"] = raw_ts
        if wrapped and not d.keys() <= _ENVELOPE_KEYS:  # envelope fields beyond the usual three
            env_rest = _rest(d, _ENVELOPE_KEYS)
            if env_rest:
                extra.update(env_rest)
        pt = p.get("type") if isinstance(p, dict) and isinstance(p.get("type"), str) else None
        line_no = line.line_no
        base: dict[str, Any] = {
            **self._ident_base,
            "ts": ts,
            "line_no": line_no,
            "line_bytes": len(line.raw),
            "native_type": f"{t}/{pt}" if pt and t in ("response_item", "event_msg") else (t or None),
            "extra": dumps(extra) if extra else None,
        }
        # a copy of the same rollout at another path (sessions/ and archived_sessions/) is the
        # same thread, line and bytes: the engine counts it once
        self.line_keys[line_no] = f"{self._line_key_prefix}{line_no}:{blake2b(line.raw.rstrip(), digest_size=8).hexdigest()}"
        if wrapped:
            return self._wrapped(t or "", p, base, extra, ordinal)
        if t in RESPONSE_ITEM_TYPES and "payload" not in d:  # bare era
            base["native_type"] = f"response_item/{t}"
            return self._response_item(d, base, extra)
        if t is None and is_bare_header(d):
            return self._bare_header(d, base, extra)
        if t is None and "record_type" in d:
            base["native_type"] = f"record/{d.get('record_type')}"
            base["extra"] = dumps({**extra, **_rest(d, ())})
            self._add(base, 0, kind="bookkeeping")
            return None
        # a line type tracelab does not know: keep everything in extra
        base["extra"] = dumps({**extra, **shrink(d, 1024)})
        self._add(base, 0, kind="unknown")
        return None

    # ------------------------------------------------------------------ replay (fork / subagent)
    def _in_replay(self, t: Any, p: Any, d: dict, ts: int | None, ordinal: int) -> bool:
        """Is this line part of the parent history a forked/subagent file opens with?

        See :mod:`tracelab.ingest.codex.replay`. In order: ``subagent_history_start_ordinal``
        on the file's own meta; the parent's rollout next to this one (the copy is the run of
        lines equal to the parent's, in order); else time, when the line after the own meta is
        another thread's ``session_meta`` (the copy's first line):

        * Codex re-stamps copied lines when it writes them, so they form a burst at the fork
          instant: every line up to one second after the copy's first line is a copy;
        * a verbatim copy (original timestamps, older than the fork) lasts while lines are older
          than the own meta.
        """
        ident = self.ident
        rp = self.replay
        if "meta_ordinal" not in rp:
            # lines before the file's own session_meta are never copies
            if t == "session_meta" and isinstance(p, dict) and (_s(p.get("id")) or _s(p.get("session_id"))) == ident.get("thread"):
                rp["meta_ordinal"] = ordinal
                rp["meta_ts"] = ts
            return False
        if not ident.get("copies_parent"):
            return False
        rel = ordinal - rp["meta_ordinal"]
        if rel <= 0:
            return False
        start = ident.get("history_start")
        if start:
            o = d.get("ordinal")
            o = o if isinstance(o, int) and not isinstance(o, bool) else rel
            return 1 <= o < start
        if rp.get("done"):
            return False
        meta_ts = rp.get("meta_ts")
        other_meta = t == "session_meta" and isinstance(p, dict) and _s(p.get("id")) not in (None, ident.get("thread"))
        if "mode" not in rp:  # the first line after the meta (that could be read) decides
            src = ident.get("forked_from") or ident.get("parent") or ""
            parent_file = find_parent_file(self.path, src.split(":", 1)[1]) if src.startswith("codex:") else None
            if parent_file is None and src.startswith("codex:"):
                rp["awaits"] = src.split(":", 1)[1]  # parsed again when that rollout arrives
            if parent_file is not None:
                self._prefix = ParentPrefix(parent_file, meta_ts)
                if other_meta or self._prefix.match(line_key(t, p, d)):
                    rp.update(mode="parent", parent_file=str(parent_file), pos=self._prefix.pos)
                    return True
                self._prefix = None  # not a copy of that file: fall back to time
            if not other_meta:
                rp["done"] = True
                return False
            rp["mode"] = "verbatim" if ts is not None and meta_ts is not None and ts < meta_ts else "burst"
            rp["anchor"] = max(x for x in (ts, meta_ts, 0) if x is not None)
            return True
        if rp.get("mode") == "parent":
            if other_meta:
                return True  # a copied ancestor meta
            if self._prefix is None:
                self._prefix = ParentPrefix(rp["parent_file"], meta_ts, rp.get("pos", 0))
            inside = self._prefix.match(line_key(t, p, d))
            rp["pos"] = self._prefix.pos
        elif ts is None:
            return True
        elif rp.get("mode") == "verbatim":
            inside = meta_ts is None or ts < meta_ts
        else:
            inside = ts <= rp["anchor"] + 1000
        if not inside:
            rp["done"] = True
        return inside

    def _replayed(self, t: Any, p: Any) -> None:
        """A skipped copy still moves the model and the token baseline forward."""
        if not isinstance(p, dict):
            return
        if t == "turn_context" and _s(p.get("model")):
            self.model = p["model"]
        elif t == "event_msg" and p.get("type") == "token_count":
            self.ledger.baseline(p.get("info"))

    # ------------------------------------------------------------------ envelope types
    def _wrapped(self, t: str, p: dict, base: dict, extra: dict, ordinal: int) -> str | None:
        if t == "response_item":
            return self._response_item(p, base, extra)
        if t == "event_msg":
            return self._event(p, base, extra)
        if t == "session_meta":
            return self._session_meta(p, base, extra, ordinal)
        if t == "turn_context":
            return self._turn_context(p, base, extra)
        if t == "compacted":
            return self._compacted(p, base, extra)
        if t in ("world_state", "inter_agent_communication"):
            base["extra"] = dumps({**extra, **shrink(p, 256)})
            self._add(base, 0, kind="user_context", text_bytes=len(dumps(p)))
            return None
        base["extra"] = dumps({**extra, **shrink(p, 256)})
        self._add(base, 0, kind="bookkeeping")
        return None

    def _session_meta(self, p: dict, base: dict, extra: dict, ordinal: int) -> str | None:
        own = _s(p.get("id")) or _s(p.get("session_id"))
        big = {"instructions", "base_instructions", "dynamic_tools"}
        info = _rest(p, big)
        for k in [k for k in p if k in big]:  # payload order: a set would vary with the hash seed
            info[f"${k}_bytes"] = len(dumps(p[k]))
        base["extra"] = dumps({**extra, **info})
        base["cwd"] = _s(p.get("cwd"))
        if own == self.ident.get("thread") and not self.ident.get("started"):
            self.ident["started"] = True
            self._add(base, 0, kind="session_start")
        else:
            # a later meta (a resumed file's or a copied ancestor's) does not change identity
            self._add(base, 0, kind="bookkeeping")
        return None

    def _bare_header(self, d: dict, base: dict, extra: dict) -> str | None:
        info = _rest(d, {"instructions"})
        if "instructions" in d:
            info["$instructions_bytes"] = len(dumps(d["instructions"]))
        base["native_type"] = "session_header"
        base["extra"] = dumps({**extra, **info})
        self._add(base, 0, kind="session_start")
        return None

    def _turn_context(self, p: dict, base: dict, extra: dict) -> str | None:
        model = _s(p.get("model"))
        kind = "bookkeeping"
        if model and self.model and model != self.model:
            kind = "model_change"
        if model:
            self.model = model
        base["cwd"] = _s(p.get("cwd"))
        keep = {
            k: p[k] for k in ("turn_id", "model", "effort", "approval_policy", "sandbox_policy", "summary", "personality", "current_date", "timezone") if k in p
        }
        base["extra"] = dumps({**extra, **shrink(keep, 256), "$payload_bytes": len(dumps(p))})
        self._add(base, 0, kind=kind, model=self.model, text=model)
        return None

    def _compacted(self, p: dict, base: dict, extra: dict) -> str | None:
        msg = p.get("message") if isinstance(p.get("message"), str) else None
        hist = p.get("replacement_history")
        info = _rest(p, {"message", "replacement_history"})
        if isinstance(hist, list):
            info["$replacement_history_items"] = len(hist)
            info["$replacement_history_bytes"] = len(dumps(hist))
        base["extra"] = dumps({**extra, **info})
        self._compaction_row(base, 0)
        if msg:
            text, nbytes = cap_text(msg)
            self._add(base, 1, kind="compaction_summary", text=text, text_bytes=nbytes, role="user")
            self._input(base["ts"])
        return None

    def _compaction_row(self, base: dict, block: int, **vals: Any) -> None:
        """One ``compaction`` per episode: ``compacted``, ``context_compacted`` and a remote
        ``compaction`` item written for the same compaction count once (the later ones of an
        episode — no conversation content in between — are ``bookkeeping``)."""
        kind = "bookkeeping" if self.in_compaction else "compaction"
        self.in_compaction = True
        self._add(base, block, kind=kind, **vals)

    # ------------------------------------------------------------------ response items
    def _response_item(self, p: dict, base: dict, extra: dict) -> str | None:
        it = p.get("type")
        if it == "message":
            return self._message(p, base, extra)
        if it == "reasoning":
            self._content_seen()
            parts = []
            for key in ("summary", "content"):
                v = p.get(key)
                if isinstance(v, list):
                    for b in v:
                        if isinstance(b, dict) and isinstance(b.get("text"), str):
                            parts.append(b["text"])
            enc = p.get("encrypted_content")
            info = _rest(p, {"type", "summary", "content", "encrypted_content"})
            if isinstance(enc, str):
                info["$encrypted_bytes"] = len(enc)
            base["extra"] = dumps({**extra, **info}) if (extra or info) else None
            text, nbytes = cap_text("\n".join(parts) if parts else None)
            idx = self._add(base, 0, kind="thinking", role="assistant", text=text, text_bytes=nbytes, model=self.model)
            self._model_output(idx)
            return None
        if it in ("function_call", "custom_tool_call", "local_shell_call", "tool_search_call", "mcp_tool_call"):
            return self._call_item(it, p, base, extra)
        if it in ("function_call_output", "custom_tool_call_output", "tool_search_output"):
            return self._output_item(it, p, base, extra)
        if it in ("web_search_call", "image_generation_call"):
            return self._server_tool(it, p, base, extra)
        if it in ("compaction", "context_compaction", "compaction_summary"):
            enc = p.get("encrypted_content")
            info = _rest(p, {"encrypted_content"})
            if isinstance(enc, str):
                info["$encrypted_bytes"] = len(enc)
            base["extra"] = dumps({**extra, **info})
            self._compaction_row(base, 0)
            return None
        if it == "agent_message":
            # a message from another agent thread, injected into this one's context
            self._content_seen()
            text, _ = TO._content_text(p["content"]) if isinstance(p.get("content"), list) else (None, 0)
            capped, nbytes = cap_text(text or None)
            base["extra"] = dumps({**extra, **_rest(p, {"content"})})
            self._add(base, 0, kind="user_context", role="user", text=capped, text_bytes=nbytes)
            self._input(base["ts"])
            return None
        if it == "ghost_snapshot":
            base["extra"] = dumps({**extra, **_rest(p, ())})
            self._add(base, 0, kind="bookkeeping")
            return None
        base["extra"] = dumps({**extra, **shrink(p, 1024)})
        self._add(base, 0, kind="unknown")
        return None

    def _message(self, p: dict, base: dict, extra: dict) -> str | None:
        role = p.get("role") if isinstance(p.get("role"), str) else None
        content = p.get("content")
        if isinstance(content, str):
            content = [{"type": "input_text" if role != "assistant" else "output_text", "text": content}]
        elif content is None:
            content = []
        elif not isinstance(content, list):
            return f"field 'content' of a message has wrong type {type(content).__name__}"
        self._content_seen()
        info = _rest(p, {"type", "role", "content"})
        base = {**base, "role": role, "extra": dumps({**extra, **info}) if (extra or info) else None}
        if role == "assistant":
            self._turn_output_rows(content, base)
            return None
        # each text block on its own: Codex packs AGENTS.md and <environment_context> into one
        # user message, and a prompt can carry images
        kinds = [
            "user_prompt" if role == "user" and not self._is_context(b["text"]) else "user_context"
            for b in content
            if isinstance(b, dict) and isinstance(b.get("text"), str)
        ]
        msg_kind = "user_prompt" if "user_prompt" in kinds else "user_context"
        if msg_kind == "user_prompt":
            self._turn_boundary()
        if not content:
            self._add(base, 0, kind=msg_kind)
        for i, b in enumerate(content):
            kind = msg_kind
            if isinstance(b, dict) and isinstance(b.get("text"), str) and role == "user":
                kind = "user_context" if self._is_context(b["text"]) else "user_prompt"
            self._user_block(b, i, kind, base)
        self._input(base["ts"])
        return None

    @staticmethod
    def _is_context(text: str) -> bool:
        return text.lstrip().startswith(_CONTEXT_PREFIXES)

    def _user_block(self, b: Any, i: int, kind: str, base: dict) -> None:
        if not isinstance(b, dict):
            text, nbytes = cap_text(str(b))
            self._add(base, i, kind="unknown", text=text, text_bytes=nbytes)
            return
        bt = b.get("type")
        if isinstance(b.get("text"), str):
            raw = b["text"]
            text, nbytes = cap_text(raw)
            row_base = base
            if raw.lstrip().startswith("<environment_context"):
                m = _CWD_RE.search(raw)
                if m:
                    row_base = {**base, "cwd": m.group(1)}
            self._add(row_base, i, kind=kind, text=text, text_bytes=nbytes)
        elif bt in ("input_image", "image"):
            url = b.get("image_url")
            self._add(
                {**base, "extra": dumps({"detail": b.get("detail"), "has_url": isinstance(url, str)})},
                i,
                kind="image",
                text_bytes=len(url) if isinstance(url, str) else None,
            )
        else:
            self._add({**base, "extra": dumps(shrink(b, 1024))}, i, kind="unknown", native_type=f"{base['native_type']}/{bt}")

    def _turn_output_rows(self, content: list, base: dict) -> None:
        base = {**base, "model": self.model}
        if not content:
            self._model_output(self._add(base, 0, kind="assistant_text"))
            return
        for i, b in enumerate(content):
            if isinstance(b, dict) and isinstance(b.get("text"), str):
                text, nbytes = cap_text(b["text"])
                self._model_output(self._add(base, i, kind="assistant_text", text=text, text_bytes=nbytes))
            elif isinstance(b, dict) and isinstance(b.get("refusal"), str):
                text, nbytes = cap_text(b["refusal"])
                self._model_output(self._add(base, i, kind="assistant_text", text=text, text_bytes=nbytes, stop_reason="refusal"))
            elif isinstance(b, dict) and b.get("type") in ("input_image", "output_image", "image"):
                url = b.get("image_url")
                self._model_output(self._add(base, i, kind="image", text_bytes=len(url) if isinstance(url, str) else None))
            else:
                self._model_output(self._add({**base, "extra": dumps(shrink(b, 1024))}, i, kind="unknown"))

    # ------------------------------------------------------------------ tools
    def _call_item(self, it: str, p: dict, base: dict, extra: dict) -> str | None:
        call_id = p.get("call_id")
        if call_id is not None and not isinstance(call_id, str):
            return f"field 'call_id' of a {it} has wrong type {type(call_id).__name__}"
        call_id = _id(call_id) or _id(p.get("id")) or f"{it}@{base['line_no']}"
        self._content_seen()
        if it == "function_call":
            name = _s(p.get("name"))
            ns = _s(p.get("namespace"))
            if ns and name and ns.startswith("mcp__") and not name.startswith("mcp__"):
                # 2026 builds name MCP tools {namespace: "mcp__server", name: "tool"}
                name = f"{ns.rstrip('_')}__{name}"
            inp, args = _input_and_args(p.get("arguments"))
        elif it == "custom_tool_call":
            name = _s(p.get("name"))
            inp, args = _input_and_args(p.get("input"))
        elif it == "local_shell_call":
            name = "local_shell"
            inp = _json_input(p.get("action"))
            args = {}
        elif it == "mcp_tool_call":
            name = f"mcp__{p.get('server')}__{p.get('name') or p.get('tool')}"
            inp = _json_input(p.get("arguments"))
            args = {}
        else:  # tool_search_call
            name = "tool_search"
            inp = _json_input(p.get("arguments"))
            args = {}
        used = {"type", "name", "namespace", "arguments", "input", "action", "call_id"}
        info = _rest(p, used)
        base = {**base, "extra": dumps({**extra, **info}) if (extra or info) else None}
        capped, nbytes = cap_text(inp, S.TOOL_INPUT_CAP)
        idx = self._add(
            base, 0, kind="tool_call", role="assistant", tool_call_id=call_id, tool_name=name, tool_input=capped, text_bytes=nbytes, model=self.model
        )
        self._model_output(idx)
        self.open_calls[call_id] = [name, self.turn_no]
        self.call_rows[call_id] = idx
        if name and name.endswith("write_stdin") and args.get("session_id") is not None:
            self.stdin_calls[call_id] = str(args["session_id"])
        return None

    def _output_item(self, it: str, p: dict, base: dict, extra: dict) -> str | None:
        call_id = p.get("call_id")
        if call_id is not None and not isinstance(call_id, str):
            return f"field 'call_id' of a {it} has wrong type {type(call_id).__name__}"
        call_id = _id(call_id)
        self._content_seen()
        if it == "tool_search_output" and "output" not in p:
            out = TO.Output(text=dumps(shrink(p.get("tools"), 256)) if p.get("tools") is not None else "")
        else:
            out = TO.parse_output(p.get("output"))
        name = self.open_calls.pop(call_id, [None])[0] if call_id else None
        info = _rest(p, {"type", "call_id", "output", "tools"})
        if out.n_images:
            info["$images"] = out.n_images
        base = {**base, "extra": dumps({**extra, **info}) if (extra or info) else None, "role": "tool"}
        exit_code = out.exit_code
        tool_event: tuple[str, int] | None = None
        sess = self.stdin_calls.pop(call_id, None) if call_id else None
        if out.running_session is not None and sess is None and call_id:
            self.running[out.running_session] = call_id
        if sess is not None and exit_code is not None:
            orig = self.running.pop(sess, None)
            if orig and orig != call_id:
                # the process a write_stdin polled has exited: its exit code belongs to the
                # exec_command call that started it
                tool_event = (orig, exit_code)
                exit_code = None
        status = out.status or "ok"
        hint = self.hints.pop(call_id, None) if call_id else None
        duration = out.duration_ms
        spawned = None
        if hint:
            if _RANK.get(hint.get("status") or "ok", 0) > _RANK[status]:
                status = hint["status"]
            if exit_code is None and hint.get("exit_code") is not None:
                exit_code = hint["exit_code"]
            duration = duration if duration is not None else hint.get("duration_ms")
            spawned = hint.get("spawned")
        if status == "ok" and exit_code not in (None, 0):
            status = "error"
        text, nbytes = cap_text(out.text)
        idx = self._add(
            base,
            0,
            kind="tool_result",
            tool_call_id=call_id,
            tool_name=name,
            text=text,
            text_bytes=nbytes,
            status=status,
            is_error=status != "ok",
            exit_code=exit_code,
            duration_ms=duration,
            spawned_session_key=spawned,
        )
        if call_id:
            self.result_rows[call_id] = idx
        if tool_event is not None:
            self._add(
                {**base, "role": None, "extra": dumps({"$from_write_stdin": call_id, "$session_id": sess})},
                1,
                kind="tool_event",
                tool_call_id=tool_event[0],
                exit_code=tool_event[1],
                status="ok" if tool_event[1] == 0 else "error",
            )
        self._input(base["ts"])
        return None

    def _server_tool(self, it: str, p: dict, base: dict, extra: dict) -> str | None:
        """``web_search_call`` / ``image_generation_call``: run by the API, request and result
        in one item — a tool_call row and (once it has a final status) a tool_result row."""
        self._content_seen()
        call_id = _id(p.get("call_id")) or _id(p.get("id")) or f"{it}@{base['line_no']}"
        name = "web_search" if it == "web_search_call" else "image_generation"
        if it == "web_search_call":
            inp = _json_input(p.get("action"))
            out_text = None
        else:
            inp = _json_input({"revised_prompt": p.get("revised_prompt")}) if "revised_prompt" in p else None
            res = p.get("result")
            out_text = f"<image result: {len(res)} bytes>" if isinstance(res, str) else None
        info = _rest(p, {"type", "action", "result", "revised_prompt"})
        base = {**base, "extra": dumps({**extra, **info})}
        capped, nbytes = cap_text(inp, S.TOOL_INPUT_CAP)
        idx = self._add(
            base, 0, kind="tool_call", role="assistant", tool_call_id=call_id, tool_name=name, tool_input=capped, text_bytes=nbytes, model=self.model
        )
        self._model_output(idx)
        st = TO.event_status(p.get("status"))
        if st is not None:
            self._add(base, 1, kind="tool_result", tool_call_id=call_id, tool_name=name, status=st, is_error=st != "ok", text=out_text)
        return None

    def _hint(self, call_id: str | None, **facts: Any) -> None:
        """Facts about a call from an event (status, exit code, duration, spawned thread): put
        on its result row — now if that row is in this parse, else when it arrives."""
        if not call_id:
            return
        facts = {k: v for k, v in facts.items() if v is not None}
        if not facts:
            return
        idx = self.result_rows.get(call_id)
        if idx is None:
            if call_id not in self.open_calls:
                return  # no such call (yet): the tool_event row keeps the facts
            h = self.hints.setdefault(call_id, {})
            for k, v in facts.items():
                if k == "status" and _RANK.get(h.get("status") or "ok", 0) > _RANK.get(v, 0):
                    continue
                h[k] = v
            return
        st = facts.get("status")
        if st and _RANK.get(st, 0) > _RANK.get(self._get(idx, "status") or "ok", 0):
            self._set(idx, status=st, is_error=True)
        if facts.get("exit_code") is not None and self._get(idx, "exit_code") is None:
            self._set(idx, exit_code=facts["exit_code"])
            if facts["exit_code"] != 0 and self._get(idx, "status") == "ok":
                self._set(idx, status="error", is_error=True)
        if facts.get("duration_ms") is not None and self._get(idx, "duration_ms") is None:
            self._set(idx, duration_ms=facts["duration_ms"])
        if facts.get("spawned"):
            self._set(idx, spawned_session_key=facts["spawned"])

    # ------------------------------------------------------------------ events
    def _event(self, p: dict, base: dict, extra: dict) -> str | None:
        et = p.get("type")
        if et == "token_count":
            return self._token_count(p, base, extra)
        if et in _ECHO_EVENTS:
            # the same text is in a response_item: keep the line, not a second copy of its text
            msg = p.get("message") if isinstance(p.get("message"), str) else p.get("text") if isinstance(p.get("text"), str) else None
            info = _rest(p, {"type", "message", "text"})
            if et == "user_message":
                self._content_seen()
            base["extra"] = dumps({**extra, **info}) if (extra or info) else None
            self._add(base, 0, kind="bookkeeping", text_bytes=utf8_len(msg) if msg else None)
            return None
        if et in ("task_started", "turn_started"):
            self._content_seen()
            self._turn_boundary()
            self.turn_no += 1
            base["extra"] = dumps({**extra, **_rest(p, {"type"})})
            self._add(base, 0, kind="turn_start")
            return None
        if et in ("task_complete", "turn_complete"):
            return self._turn_end(p, base, extra)
        if et == "turn_aborted":
            return self._turn_aborted(p, base, extra)
        if et in _ERROR_EVENTS:
            err = p.get("error")
            msg = _s(p.get("message")) or (_s(err.get("message")) if isinstance(err, dict) else _s(err)) or et
            text, nbytes = cap_text(msg)
            base["extra"] = dumps({**extra, **_rest(p, {"type", "message"})})
            self._add(base, 0, kind="api_error", is_error=True, text=text, text_bytes=nbytes)
            return None
        if et == "context_compacted":
            base["extra"] = dumps({**extra, **_rest(p, {"type"})}) if (extra or len(p) > 1) else None
            self._compaction_row(base, 0)
            return None
        if et in _TOOL_EVENTS:
            return self._tool_event(et, p, base, extra)
        if et == "item_completed":
            return self._item_completed(p, base, extra)
        if et in _BOOKKEEPING_EVENTS:
            title = (_s(p.get("thread_name")) or _s(p.get("name"))) if et == "thread_name_updated" else None
            if et == "thread_settings_applied":
                ts_ = as_dict(p.get("thread_settings"))
                base["model"] = _s(ts_.get("model"))
            base["extra"] = dumps({**extra, **_rest(p, ())})
            self._add(base, 0, kind="bookkeeping", title=title, text=title)
            return None
        if et in _SYSTEM_EVENTS:
            msg = _s(p.get("message")) or _s(p.get("user_facing_hint"))
            text, nbytes = cap_text(msg)
            base["extra"] = dumps({**extra, **_rest(p, ())})
            self._add(base, 0, kind="system", text=text, text_bytes=nbytes)
            return None
        base["extra"] = dumps({**extra, **shrink(p, 1024)})
        self._add(base, 0, kind="unknown")
        return None

    def _token_count(self, p: dict, base: dict, extra: dict) -> str | None:
        info = p.get("info")
        if info is not None and not isinstance(info, dict):
            return f"field 'info' of a token_count has wrong type {type(info).__name__}"
        usage, why = self.ledger.observe(info, base["ts"] if base["ts"] is not None else None)
        model = None
        if isinstance(info, dict):
            model = _s(info.get("model")) or _s(info.get("model_name"))
        model = model or _s(p.get("model")) or self.model
        keep = {k: v for k, v in (info or {}).items() if k not in ("total_token_usage", "last_token_usage")}
        rl = p.get("rate_limits")
        ex = {**extra, "$usage_rule": why, **shrink(keep, 256)}
        if rl is not None:
            ex["rate_limits"] = shrink(rl, 256)
        if isinstance(info, dict):
            for k in ("total_token_usage", "last_token_usage"):
                if k in info:
                    ex[k] = shrink(info[k], 64)
        base["extra"] = dumps(ex)
        if usage is None:
            self._add(base, 0, kind="token_usage", model=model)
            return None
        self._content_seen()
        key = f"codex:{self.ident.get('thread')}:{base['line_no']}"
        if self.carried_pending:
            self.needs_full_reparse = True
        req_ts = self.pending_req_ts if self.pending else self.last_input_ts
        for idx in self.pending:
            self._set(idx, llm_call_key=key)
        self.pending = []
        self.pending_req_ts = None
        self._add(
            base,
            0,
            kind="token_usage",
            model=model,
            provider=self.ident.get("provider"),
            llm_call_key=key,
            request_ts=req_ts if req_ts is not None and (base["ts"] is None or req_ts <= base["ts"]) else None,
            is_synthetic=False,
            **canonical(usage),
        )
        return None

    def _turn_end(self, p: dict, base: dict, extra: dict) -> str | None:
        dur = p.get("duration_ms")
        dur = float(dur) if isinstance(dur, (int, float)) and not isinstance(dur, bool) else None
        err = p.get("error")
        info = _rest(p, {"type", "last_agent_message", "error"})
        lam = p.get("last_agent_message")
        if isinstance(lam, str):
            info["$last_agent_message_bytes"] = utf8_len(lam)
        text = None
        if err is not None:
            info["error"] = shrink(err, 1024)
            text = _s(err.get("message")) if isinstance(err, dict) else _s(err)
        base["extra"] = dumps({**extra, **info})
        capped, nbytes = cap_text(text)
        self._add(base, 0, kind="turn_end", duration_ms=dur, is_error=True if err is not None else None, text=capped, text_bytes=nbytes)
        self._turn_boundary()
        return None

    def _turn_aborted(self, p: dict, base: dict, extra: dict) -> str | None:
        reason = _s(p.get("reason"))
        dur = p.get("duration_ms")
        dur = float(dur) if isinstance(dur, (int, float)) and not isinstance(dur, bool) else None
        base["extra"] = dumps({**extra, **_rest(p, {"type"})})
        block = 0
        if reason in (None, "interrupted"):
            self._add(base, block, kind="interrupt", text=reason)
            block += 1
            # calls of this turn still waiting for output were cut off
            for cid, (name, turn) in list(self.open_calls.items()):
                if turn == self.turn_no:
                    self._add(base, block, kind="tool_event", tool_call_id=cid, tool_name=name, status="interrupted")
                    block += 1
        self._add(base, block, kind="turn_end", duration_ms=dur, text=reason)
        self._turn_boundary()
        return None

    def _tool_event(self, et: str, p: dict, base: dict, extra: dict) -> str | None:
        call_id = _id(p.get("call_id")) or _id(p.get("callId"))
        status = TO.event_status(p.get("status"))
        exit_code = TO.exit_code(p.get("exit_code"))
        duration = TO.duration_ms(p.get("duration"))
        name = None
        spawned = None
        text = None
        if et == "patch_apply_end":
            if p.get("success") is False and status in (None, "ok"):
                status = "error"
            elif p.get("success") is True and status is None:
                status = "ok"
            text = _s(p.get("stderr")) if status == "error" else None
        elif et == "mcp_tool_call_end":
            inv = as_dict(p.get("invocation"))
            server, tool = _s(inv.get("server")), _s(inv.get("tool"))
            if server and tool:
                name = f"mcp__{server}__{tool}"
                self._rename_call(call_id, name)
            res = p.get("result")
            if isinstance(res, dict) and "Err" in res:
                status = "error"
                text = res["Err"] if isinstance(res["Err"], str) else dumps(res["Err"])
            elif isinstance(res, dict) and isinstance(res.get("Ok"), dict):
                status = "error" if res["Ok"].get("isError") is True else "ok"
        elif et == "dynamic_tool_call_response":
            if p.get("success") is False:
                status = "error"
            elif p.get("success") is True:
                status = "ok"
        elif et == "collab_agent_spawn_end":
            nt = _s(p.get("new_thread_id"))
            spawned = f"codex:{nt}" if nt else None
        elif et == "exec_command_end" and status is None and exit_code is not None:
            status = "ok" if exit_code == 0 else "error"
        if et.endswith("_end") or et in ("dynamic_tool_call_response", "view_image_tool_call"):
            self._hint(call_id, status=status if status != "ok" else None, exit_code=exit_code, duration_ms=duration, spawned=spawned)
        big = {"stdout", "stderr", "aggregated_output", "formatted_output", "result", "results", "changes", "content_items"}
        info = _rest(p, big)
        for k in [k for k in p if k in big]:  # payload order: a set would vary with the hash seed
            info[f"${k}_bytes"] = len(dumps(p[k]))
        base["extra"] = dumps({**extra, **info})
        capped, nbytes = cap_text(text)
        self._add(
            base,
            0,
            kind="tool_event",
            tool_call_id=call_id,
            tool_name=name,
            status=status,
            exit_code=exit_code,
            duration_ms=duration,
            spawned_session_key=spawned,
            text=capped,
            text_bytes=nbytes,
            is_error=True if status in ("error", "user_rejected") else None,
        )
        return None

    def _rename_call(self, call_id: str | None, name: str) -> None:
        """MCP calls: the end event names server and tool; the call row gets ``mcp__server__tool``."""
        if not call_id:
            return
        if call_id in self.open_calls:
            self.open_calls[call_id][0] = name
        idx = self.call_rows.get(call_id)
        if idx is not None and not (self._get(idx, "tool_name") or "").startswith("mcp__"):
            self._set(idx, tool_name=name)
        ridx = self.result_rows.get(call_id)
        if ridx is not None:
            self._set(ridx, tool_name=name)

    def _item_completed(self, p: dict, base: dict, extra: dict) -> str | None:
        item = as_dict(p.get("item"))
        itype = item.get("type") if isinstance(item.get("type"), str) else None
        base["native_type"] = f"event_msg/item_completed/{itype}"
        if itype in _TOOL_ITEMS:
            status = TO.event_status(item.get("status"))
            code = TO.exit_code(item.get("exit_code", item.get("exitCode")))
            res = item.get("result")
            if isinstance(res, dict) and res.get("isError") is True:
                status = "error"
            base["extra"] = dumps({**extra, **_rest(p, {"type", "item"}), "item": shrink(item, 256)})
            self._add(
                base, 0, kind="tool_event", tool_call_id=_id(item.get("id")), status=status, exit_code=code, duration_ms=TO.duration_ms(item.get("duration"))
            )
            return None
        parts: list[str] = []
        for key in ("content", "summary_text", "raw_content"):
            v = item.get(key)
            if isinstance(v, list):
                t, _ = TO._content_text(v)
                if t:
                    parts.append(t)
        if isinstance(item.get("text"), str):
            parts.append(item["text"])
        text, nbytes = cap_text("\n".join(parts) if parts else None)
        base["extra"] = dumps({**extra, **_rest(p, {"type", "item"}), "item": shrink(item, 128)})
        self._add(base, 0, kind="bookkeeping", text=text, text_bytes=nbytes)
        return None


_SKIP = "\x00skip"
