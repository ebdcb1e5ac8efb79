"""What every agent adapter shares: line reading, rejects, the columnar event buffer.

An adapter turns one session file (or the appended tail of one) into canonical ``events`` rows
plus ``rejects``. Everything downstream (``llm_calls``, ``tool_calls``, ``sessions``) is derived
from ``events`` by the SQL in ``tracelab/sql/derive_*.sql``, so an adapter's whole job is to put
each agent's meaning into the event columns declared in :mod:`tracelab.schema`.

Line accounting contract: every non-blank physical line of the file ends up in exactly one of
``lines_ingested`` (it produced at least one event row), ``lines_duplicate`` (all its rows were
copies of rows already in the warehouse, decided by the caller from ``line_keys``) or
``lines_rejected`` (a ``rejects`` row says why).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson
import pyarrow as pa

from tracelab import schema as S

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

#: Event columns an adapter fills (everything in ``events`` except the derived date/month/seq).
_EVENT_COLS = [f.name for f in S.EVENTS if f.name not in ("date", "month", "seq")]


def parse_ts(value: Any) -> int | None:
    """ISO-8601 string (or epoch seconds/ms number) to epoch milliseconds, UTC. None if unusable."""
    if isinstance(value, str):
        if not value:
            return None
        try:
            dt = _dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=_dt.timezone.utc)
        return int(dt.timestamp() * 1000)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        # heuristics: > 1e11 means milliseconds
        return int(value if value > 1e11 else value * 1000)
    return None


def cap_text(text: str | None, cap: int = S.TEXT_CAP) -> tuple[str | None, int | None]:
    """Return (text capped to ``cap`` UTF-8 bytes, full byte length)."""
    if text is None:
        return None, None
    n = len(text)
    if n * 4 <= cap:  # certainly under the cap, skip the encode
        return text, len(text.encode("utf-8", "surrogatepass")) if not text.isascii() else n
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= cap:
        return text, len(raw)
    return raw[:cap].decode("utf-8", "ignore"), len(raw)


def shrink(obj: Any, limit: int = 256) -> Any:
    """Copy of ``obj`` with long strings replaced by a size marker and long lists cut to their
    head (for ``extra``: unknown fields are kept without keeping megabytes of payload)."""
    if isinstance(obj, str):
        if len(obj) > limit:
            return {"$truncated_bytes": len(obj.encode("utf-8", "surrogatepass"))}
        return obj
    if isinstance(obj, dict):
        return {k: shrink(v, limit) for k, v in obj.items()}
    if isinstance(obj, list):
        if len(obj) > 50:
            return {"$list_len": len(obj), "head": [shrink(v, limit) for v in obj[:5]]}
        return [shrink(v, limit) for v in obj]
    return obj


def file_end(path: str | os.PathLike, end_offset: int, end_line: int) -> tuple[int, int]:
    """Where the next append starts after a complete parse that consumed up to ``end_offset``
    (line ``end_line``): trailing blank lines are consumed too, but only up to the last newline,
    so whitespace still being written is read again."""
    size = os.path.getsize(path)
    if size <= end_offset:
        return end_offset, end_line
    with open(path, "rb") as fh:
        fh.seek(end_offset)
        tail = fh.read()
    if not tail.isspace():  # a non-blank tail was yielded (and rejected) by the caller
        return end_offset, end_line
    cut = tail.rfind(b"\n") + 1
    return end_offset + cut, end_line + tail.count(b"\n")


def dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


class EventBuffer:
    """Column lists for ``events`` rows; cheap to append, turned into one Arrow table at the end.

    Besides the columns an adapter fills, it tracks for every row the timestamp used for
    partitioning (the row's own ``ts``, else the previous timestamped row's), so ``to_table``
    returns the complete ``events`` schema including ``date``, ``month`` and ``seq``.
    """

    __slots__ = ("_cols", "n", "_fill", "_last_ts")

    def __init__(self) -> None:
        self._cols: dict[str, list] = {c: [] for c in _EVENT_COLS}
        self.n = 0
        self._fill: list[int | None] = []
        self._last_ts: int | None = None

    def add(self, _base: dict[str, Any] | None = None, /, **values: Any) -> None:
        """Append a row: ``_base`` (shared line fields) overridden by ``values``.

        Only the columns given are touched; the others are padded with nulls lazily (a row
        sets ~20 of ~60 columns, so this is several times cheaper than filling every column).
        """
        if _base is not None:
            values = {**_base, **values}
        n = self.n
        cols = self._cols
        for name, v in values.items():
            if v is None:
                continue
            lst = cols.get(name)
            if lst is None:
                continue
            if len(lst) < n:
                lst.extend([None] * (n - len(lst)))
            lst.append(v)
        ts = values.get("ts")
        if ts is not None:
            self._last_ts = ts
        self._fill.append(self._last_ts)
        self.n = n + 1

    def _pad(self) -> None:
        n = self.n
        for lst in self._cols.values():
            if len(lst) < n:
                lst.extend([None] * (n - len(lst)))

    @property
    def cols(self) -> dict[str, list]:
        """All columns as full-length lists (safe for random access and assignment)."""
        self._pad()
        return self._cols

    def extend(self, other: "EventBuffer", fallback_ts: int | None = None) -> None:
        """Append all rows of ``other``; its rows before any timestamp take its first timestamp
        (or ``fallback_ts``) for partitioning."""
        self._pad()
        ocols = other.cols
        for name, lst in self._cols.items():
            lst.extend(ocols[name])
        fill = other._fill
        if fill and fill[0] is None:
            first = next((x for x in fill if x is not None), fallback_ts)
            fill = [first if x is None else x for x in fill]
        self._fill.extend(fill)
        self.n += other.n

    def set_last(self, name: str, value: Any) -> None:
        self._pad()
        self.cols[name][-1] = value

    def column(self, name: str) -> list:
        """A column as a full-length list (pads first)."""
        self._pad()
        return self.cols[name]

    def to_table(self) -> pa.Table:
        """The rows as a table with exactly the ``events`` schema (no cast needed later)."""
        import pyarrow.compute as pc

        self._pad()
        by_name: dict[str, pa.Array] = {}
        for f in S.EVENTS:
            if f.name in ("date", "month", "seq"):
                continue
            data = self._cols[f.name]
            if f.type == S.TS:
                by_name[f.name] = pa.array(data, type=pa.int64()).cast(S.TS)
            else:
                by_name[f.name] = pa.array(data, type=f.type)
        fill = pa.array(self._fill, type=pa.int64())
        if fill.null_count and len(fill):
            fill = pc.fill_null_backward(fill)  # leading rows without any timestamp
        fill_ts = fill.cast(S.TS)
        by_name["date"] = pc.cast(fill_ts, pa.date32())
        by_name["month"] = pc.strftime(fill_ts, format="%Y-%m") if len(fill) else pa.array([], pa.string())
        ln = by_name["line_no"].cast(pa.int64())
        by_name["seq"] = pc.add(pc.multiply(ln, 1024), by_name["block_index"].cast(pa.int64()))
        return pa.Table.from_arrays([by_name[f.name] for f in S.EVENTS], schema=S.EVENTS)


@dataclass
class Reject:
    source_file: str
    line_no: int
    byte_offset: int
    agent: str
    reason: str
    raw_text: str
    raw_bytes: int


@dataclass
class ParseResult:
    """What an adapter returns for one file (or one appended tail)."""

    path: str
    agent: str
    events: pa.Table
    rejects: list[Reject]
    #: line_no -> dedup key for lines that may be copies of lines in other files (Claude uuid,
    #: Pi entry id); the caller drops every event of a line whose key it has already seen.
    line_keys: dict[int, str]
    lines_total: int
    lines_rejected: int
    #: lines the adapter itself recognised as replayed copies (Codex fork/subagent prefixes)
    lines_skipped_duplicate: int
    bytes_ingested: int
    end_line_no: int
    state: dict[str, Any]
    first_ts: int | None
    parser_version: str
    session_keys: list[str] = field(default_factory=list)
    #: adapters may hand back their EventBuffer instead of a table (``events`` is then None):
    #: the engine merges the buffers of a whole batch and builds one table, which is much
    #: cheaper than one table per small file
    buffer: "EventBuffer | None" = None


class RawLine:
    """One non-blank physical line: 1-based number, byte offset, bytes, newline-terminated?"""

    __slots__ = ("line_no", "offset", "raw", "complete")

    def __init__(self, line_no: int, offset: int, raw: bytes, complete: bool):
        self.line_no = line_no
        self.offset = offset
        self.raw = raw
        self.complete = complete


def iter_lines(path: str | os.PathLike, start_offset: int = 0, start_line: int = 0) -> Iterator[RawLine]:
    """Yield the non-blank physical lines of ``path`` from ``start_offset``.

    Line numbers are 1-based physical line numbers (blank lines count toward numbering but are
    not yielded). ``start_line`` is the number of physical lines before ``start_offset``.
    """
    line_no = start_line
    offset = start_offset
    with open(path, "rb", buffering=1 << 20) as fh:
        if start_offset:
            fh.seek(start_offset)
        for raw in fh:
            line_no += 1
            if not raw.isspace():
                yield RawLine(line_no, offset, raw, raw[-1:] == b"\n")
            offset += len(raw)


#: returned by a line handler for a line that is a replayed copy (counted as duplicate, no rows)
SKIP = "\x00skip"


def scan(
    path: str,
    agent: str,
    start_offset: int,
    start_line: int,
    rejects: list,
    handle: Callable[[Any, "str | None", RawLine], "str | None"],
) -> tuple[int, int, int, int, int]:
    """The line loop every adapter shares.

    ``handle(obj, decode_error, line)`` is called for every complete non-blank line (``obj`` is
    None when the line did not decode) and returns None (ingested), :data:`SKIP` (a replayed
    copy) or a reject reason. A half-written last line is rejected but not consumed, so the
    next ingest re-reads it. Returns (lines_total, lines_rejected, lines_skipped, end_offset,
    end_line).
    """
    total = rejected = skipped = 0
    end_offset, end_line = start_offset, start_line
    for line in iter_lines(path, start_offset, start_line):
        obj, reason = decode_line(line)
        total += 1
        if reason is not None and not line.complete:
            rejects.append(make_reject(path, agent, line, reason))
            return total, rejected + 1, skipped, end_offset, end_line
        end_offset, end_line = line.offset + len(line.raw), line.line_no
        reason = handle(obj, reason, line)
        if reason == SKIP:
            skipped += 1
        elif reason is not None:
            rejects.append(make_reject(path, agent, line, reason))
            rejected += 1
    end_offset, end_line = file_end(path, end_offset, end_line)
    return total, rejected, skipped, end_offset, end_line


def make_reject(path: str, agent: str, line: RawLine, reason: str) -> Reject:
    raw = line.raw.rstrip(b"\r\n")
    text = raw[: S.RAW_REJECT_CAP].decode("utf-8", "replace")
    return Reject(str(path), line.line_no, line.offset, agent, reason, text, len(raw))


def decode_line(line: RawLine) -> tuple[Any, str | None]:
    """Decode one line. Returns (object, None) or (None, reason)."""
    try:
        obj = orjson.loads(line.raw)
    except orjson.JSONDecodeError as exc:
        msg = str(exc)
        try:
            line.raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, "invalid UTF-8"
        if not line.complete:
            return None, f"truncated last line (no newline, invalid JSON: {msg})"
        return None, f"invalid JSON: {msg}"
    if not isinstance(obj, dict):
        return None, f"not a JSON object (got {type(obj).__name__})"
    return obj, None


class AdapterError(Exception):
    """A file could not be read at all (I/O error); carries the path."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


def file_identity(path: str | os.PathLike) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def home_path(*parts: str) -> Path:
    return Path(os.path.expanduser("~")).joinpath(*parts)
