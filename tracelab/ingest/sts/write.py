"""``tracelab export sts``: sessions of a warehouse as Hugging Face Hub Session Trace Simple
format files (one JSONL file per session: a ``session`` header, then ``message`` lines).

Mapping (``README.md`` beside this file): a user prompt is a ``user`` message; injected
context, compaction summaries, system lines and API errors are ``system`` messages; the rows of
one model response (one ``llm_call_key``) are one ``assistant`` message (``content`` = its
text, ``reasoningContent`` = its thinking, ``toolCalls`` = its calls, ``model``); each tool
result is a ``tool`` message with ``toolCallId``. ``timestamp`` is epoch milliseconds.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tracelab.errors import NotFound

__all__ = ["StsExport", "export_sts", "session_documents", "session_lines", "sts_documents", "sts_file_name", "sts_id"]

_SAFE = re.compile(r"[^0-9A-Za-z._-]+")
_SYSTEM_KINDS = ("user_context", "compaction_summary", "system", "api_error")


@dataclass
class StsExport:
    """What an export wrote."""

    out_dir: str
    files: list[str] = field(default_factory=list)
    sessions: int = 0
    messages: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sts_id(session_key: str, agent: str) -> str:
    """The STS session ``id``: the session key without its agent prefix (and without the
    ``sts:<harness>:`` prefix of a session that was itself read from STS)."""
    for prefix in (f"sts:{agent}:", f"{agent}:"):
        if session_key.startswith(prefix):
            return session_key[len(prefix) :]
    return session_key


def _ms(ts: Any) -> int | None:
    if isinstance(ts, _dt.datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=_dt.UTC)
        return int(ts.timestamp() * 1000)
    return None


def session_documents(rows: Iterable[tuple]) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """session_key -> (header, messages) from ``export_sts_events`` rows (in their order)."""
    out: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    open_call: dict[str, dict[str, Any]] = {}
    for sk, agent, title, kind, ts, call_key, src, line_no, text, tid, tname, tinput, model in rows:
        if sk not in out:
            header: dict[str, Any] = {"type": "session", "harness": agent, "id": sts_id(sk, agent)}
            if title:
                header["name"] = title
            header["tracelab"] = {"session_key": sk}
            out[sk] = (header, [])
            open_call = {}
        msgs = out[sk][1]
        ms = _ms(ts)
        if kind in ("assistant_text", "thinking", "tool_call"):
            key = call_key or f"{src}:{line_no}"
            m = open_call.get(key)
            if m is None:
                m = {"role": "assistant", "content": ""}
                if ms is not None:
                    m["timestamp"] = ms
                if model:
                    m["model"] = model
                open_call[key] = m
                msgs.append(m)
            if kind == "assistant_text" and text:
                m["content"] = f"{m['content']}\n\n{text}" if m["content"] else text
            elif kind == "thinking" and text:
                m["reasoningContent"] = f"{m['reasoningContent']}\n\n{text}" if m.get("reasoningContent") else text
            elif kind == "tool_call":
                m.setdefault("toolCalls", []).append({"id": tid or "", "function": {"name": tname or "", "arguments": tinput if tinput is not None else "{}"}})
            if model and "model" not in m:
                m["model"] = model
            continue
        if kind == "tool_result":
            m = {"role": "tool", "content": text or ""}
            if tid:
                m["toolCallId"] = tid
        elif kind == "user_prompt":
            m = {"role": "user", "content": text or ""}
        elif kind in _SYSTEM_KINDS:
            if not text:
                continue
            m = {"role": "system", "content": text}
        else:
            continue
        if ms is not None:
            m["timestamp"] = ms
        msgs.append(m)
    return out


def session_lines(header: dict[str, Any], messages: list[dict[str, Any]]) -> Iterable[bytes]:
    """The file's lines (with their newline): the header, then one ``message`` line each."""
    yield orjson.dumps(header) + b"\n"
    for m in messages:
        yield orjson.dumps({"type": "message", "message": m}) + b"\n"


def write_session(path: Path, header: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.writelines(session_lines(header, messages))
    os.replace(tmp, path)


def sts_file_name(header: dict[str, Any]) -> tuple[str, str]:
    """(agent folder, file stem) of a session's STS file: both safe as path parts."""
    return _SAFE.sub("_", str(header["harness"])), _SAFE.sub("_", str(header["id"])).strip("_") or "session"


def sts_documents(
    warehouse: str | os.PathLike, session_keys: list[str] | None = None, agent: str | None = None
) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """session_key -> (header, messages) of the sessions with exportable events."""
    from tracelab.catalog import connect
    from tracelab.store import sql_text

    con = connect(warehouse)
    try:
        rows = con.execute(sql_text("export_sts_events"), {"session_keys": session_keys, "agent": agent}).fetchall()
    finally:
        con.close()
    return session_documents(rows)


def export_sts(warehouse: str | os.PathLike, out_dir: str | os.PathLike, session_keys: list[str] | None = None, agent: str | None = None) -> StsExport:
    """Write one STS file per session (``<out>/<agent>/<id>.jsonl``) and say what was written.
    Raises :class:`~tracelab.errors.NotFound` when a session asked for has nothing to export."""
    docs = sts_documents(warehouse, session_keys, agent)
    if session_keys:
        missing = sorted(set(session_keys) - set(docs))
        if missing:
            raise NotFound(f'no exportable events for session {", ".join(missing)} (see: tracelab sql "SELECT session_key FROM sessions")')
    out = Path(out_dir)
    res = StsExport(out_dir=str(out))
    used: set[Path] = set()
    for _sk, (header, messages) in sorted(docs.items()):
        folder, base = sts_file_name(header)
        d = out / folder
        d.mkdir(parents=True, exist_ok=True)
        path, n = d / f"{base}.jsonl", 1
        while path in used:
            n += 1
            path = d / f"{base}-{n}.jsonl"
        used.add(path)
        write_session(path, header, messages)
        res.files.append(str(path))
        res.sessions += 1
        res.messages += len(messages)
    return res
