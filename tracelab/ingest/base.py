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
import gzip
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tracelab import schema as S
from tracelab.ingest.rejects import Reject, RejectBuffer

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

#: Event columns an adapter fills (everything in ``events`` except the derived date/month/seq).
_EVENT_COLS = [f.name for f in S.EVENTS if f.name not in ("date", "month", "seq")]
_EVENT_COL_SET = frozenset(_EVENT_COLS)
#: One ``events`` row as an Arrow struct (timestamps convert from epoch-ms ints directly).
_ROW_TYPE = pa.struct([f for f in S.EVENTS if f.name in _EVENT_COL_SET])


GZIP_MAGIC = b"\x1f\x8b"
#: key of the parser state (``files.parser_state``) holding the partitioning timestamp of the
#: last row ingested, which the next append's :class:`EventBuffer` starts from
FILL_TS = "__fill_ts"
#: key of the parser state listing other files whose content the parse read (a Codex fork's
#: parent rollout): when one of them changes, the file is parsed again
DEPENDS_ON = "__depends_on"


def is_gzip(path: str | os.PathLike) -> bool:
    """Does the file start with the gzip magic bytes (whatever its name)?"""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_input(path: str | os.PathLike, buffering: int = -1) -> IO[bytes]:
    """Open a session file for reading bytes; gzip-compressed content (``.jsonl.gz``, or gzip
    bytes under any name) is decompressed transparently, and offsets are then offsets into the
    decompressed bytes."""
    fh = open(path, "rb", buffering=buffering)  # noqa: SIM115 - returned to the caller
    try:
        magic = fh.read(2)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    if magic != GZIP_MAGIC:
        return fh
    fh.close()
    return gzip.open(path, "rb")  # type: ignore[return-value]


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
            dt = dt.replace(tzinfo=_dt.UTC)
        return int(dt.timestamp() * 1000)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        # heuristics: > 1e11 means milliseconds
        return int(value if value > 1e11 else value * 1000)
    return None


def as_dict(value: Any) -> dict:
    """``value`` if it is a JSON object, else an empty one (fields of the wrong type are ignored)."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    """``value`` if it is a string, else an empty one."""
    return value if isinstance(value, str) else ""


def cap_text(text: str | None, cap: int = S.TEXT_CAP) -> tuple[str | None, int | None]:
    """Return (text capped to ``cap`` UTF-8 bytes, full byte length)."""
    if text is None:
        return None, None
    n = len(text)
    if text.isascii():  # O(1) flag check: bytes are chars, so no encode (of maybe megabytes)
        return (text, n) if n <= cap else (text[:cap], n)
    if n * 4 <= cap:  # certainly under the cap, skip the encode
        return text, len(text.encode("utf-8", "surrogatepass"))
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= cap:
        return text, len(raw)
    return raw[:cap].decode("utf-8", "ignore"), len(raw)


def utf8_len(text: str) -> int:
    """UTF-8 byte length of ``text`` (lone surrogates count as 3 bytes); no encode for ASCII."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def shrink(obj: Any, limit: int = 256) -> Any:
    """Copy of ``obj`` with long strings replaced by a size marker and long lists cut to their
    head (for ``extra``: unknown fields are kept without keeping megabytes of payload)."""
    if isinstance(obj, str):
        if len(obj) > limit:
            return {"$truncated_bytes": utf8_len(obj)}
        return obj
    if isinstance(obj, dict):
        return _shrink_dict(obj, limit)
    if isinstance(obj, list):
        if len(obj) > 50:
            return {"$list_len": len(obj), "head": [shrink(v, limit) for v in obj[:5]]}
        return [shrink(v, limit) for v in obj]
    return obj


#: JSON values that :func:`shrink` returns unchanged (besides short strings).
JSON_SCALARS = (int, float, bool, type(None))


def _shrink_dict(obj: dict, limit: int) -> dict:
    """:func:`shrink` of a dict; short strings and numbers (most values) are copied without
    a call per value."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if isinstance(v, str):
            out[k] = v if len(v) <= limit else {"$truncated_bytes": utf8_len(v)}
        elif isinstance(v, JSON_SCALARS):
            out[k] = v
        else:
            out[k] = shrink(v, limit)
    return out


def head_objects(path: str | os.PathLike, max_lines: int = 20, max_bytes: int = 4 << 20) -> list[dict[str, Any]]:
    """Decode up to ``max_lines`` non-blank lines from the start of a file (bad lines skipped).
    Lines longer than ``max_bytes`` are skipped without being read whole."""
    out: list[dict[str, Any]] = []
    with open_input(path) as fh:
        seen = 0
        while seen < max_lines * 3 and len(out) < max_lines:
            raw = fh.readline(max_bytes)
            if not raw:
                break
            seen += 1
            if not raw.endswith(b"\n") and len(raw) >= max_bytes:
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(max_bytes)
                continue
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def file_end(path: str | os.PathLike, end_offset: int, end_line: int) -> tuple[int, int]:
    """Where the next append starts after a complete parse that consumed up to ``end_offset``
    (line ``end_line``): trailing blank lines are consumed too, but only up to the last newline,
    so whitespace still being written is read again."""
    with open_input(path) as fh:
        fh.seek(end_offset)
        tail = fh.read()
    if not tail or not tail.isspace():  # a non-blank tail was yielded (and rejected) by the caller
        return end_offset, end_line
    cut = tail.rfind(b"\n") + 1
    return end_offset + cut, end_line + tail.count(b"\n")


def _mtime_ms(path: str | os.PathLike) -> int:
    """The file's modification time in epoch ms (0 if it vanished): the date of rows of a file
    without any timestamp."""
    try:
        return os.stat(path).st_mtime_ns // 1_000_000
    except OSError:
        return 0


def dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


class _Columns(dict):
    """Column view of an :class:`EventBuffer` handed out by ``EventBuffer.cols``.

    A column is built from the rows the first time it is looked up; the lists handed out (and
    lists assigned to a name) are authoritative until the buffer next adds, extends or builds
    a table, when they are written back into the rows. A copy of each built column is kept so
    that columns only read (the usual case) are not written back."""

    __slots__ = ("_rows", "_built")

    def __init__(self, rows: list[dict[str, Any]]):
        super().__init__()
        self._rows = rows
        self._built: dict[str, list] = {}

    def __missing__(self, name: str) -> list:
        if name not in _EVENT_COL_SET:
            raise KeyError(name)
        col = self[name] = [r.get(name) for r in self._rows]
        self._built[name] = col.copy()
        return col

    def changed(self) -> Iterator[tuple[str, list]]:
        """(name, column) for every column assigned or changed since it was built."""
        built = self._built
        for name, col in self.items():
            if built.get(name) != col:
                yield name, col


class EventBuffer:
    """``events`` rows as one dict per row; cheap to append, turned into one Arrow table at the end.

    Fast path: :meth:`add` stores ``{**base, **values}`` as the row (one C-level dict merge, no
    per-column Python work), and :meth:`to_table` converts all rows at once in C++ through a
    struct array (``pa.array(rows, type=struct)`` looks up each column's key in each dict;
    absent keys and ``None`` are nulls, keys that are not ``events`` columns are ignored).

    Parsers that change a row after adding it use :meth:`row` (the row's dict). Column access
    (:attr:`cols`, :meth:`column`) is for callers that work on whole columns at the end (the
    engine reads ``line_no`` / ``session_key`` and assigns ``line_key``).

    Besides the columns an adapter fills, it tracks for every row the timestamp used for
    partitioning (the row's own ``ts``, else the previous timestamped row's), so ``to_table``
    returns the complete ``events`` schema including ``date``, ``month`` and ``seq``.
    """

    __slots__ = ("rows", "_fill", "_last_ts", "_cols")

    def __init__(self, start_ts: int | None = None) -> None:
        """``start_ts``: the partitioning timestamp of the line before the first row (an
        append continues from the rows already ingested: rows without a timestamp of their
        own take the previous line's, as they would in one parse of the whole file)."""
        self.rows: list[dict[str, Any]] = []
        self._fill: list[int | None] = []
        self._last_ts: int | None = start_ts
        self._cols: _Columns | None = None

    @property
    def last_ts(self) -> int | None:
        """The partitioning timestamp of the last row (what the next append starts from)."""
        return self._last_ts

    @property
    def n(self) -> int:
        return len(self.rows)

    def add(self, _base: dict[str, Any] | None = None, /, **values: Any) -> None:
        """Append a row: ``_base`` (shared line fields) overridden by ``values``.

        The merged dict is the row (the keyword dict itself when there is no base), so a
        caller's ``base`` is never aliased by a row."""
        if _base is not None:
            values = {**_base, **values}
        if self._cols is not None:
            self._sync()
        self.rows.append(values)
        ts = values.get("ts")
        if ts is not None:
            self._last_ts = ts
        self._fill.append(self._last_ts)

    def append(self, row: dict[str, Any]) -> int:
        """Append ``row`` itself (a dict built for this row only, which the buffer now owns);
        returns its index. Saves :meth:`add`'s merge for callers that build the dict anyway."""
        if self._cols is not None:
            self._sync()
        rows = self.rows
        rows.append(row)
        ts = row.get("ts")
        if ts is not None:
            self._last_ts = ts
        self._fill.append(self._last_ts)
        return len(rows) - 1

    def row(self, idx: int) -> dict[str, Any]:
        """Row ``idx`` as its dict (read a column with ``.get(name)``, change it by assignment)."""
        if self._cols is not None:
            self._sync()
        return self.rows[idx]

    def _sync(self) -> None:
        """Write column lists handed out by :attr:`cols` back into the rows."""
        cols, self._cols = self._cols, None
        if not cols:
            return
        rows = self.rows
        for name, col in cols.changed():
            for r, v in zip(rows, col):
                r[name] = v

    @property
    def cols(self) -> dict[str, list]:
        """Columns as full-length lists (safe for random access and assignment), built on
        first lookup of each name."""
        if self._cols is None:
            self._cols = _Columns(self.rows)
        return self._cols

    def extend(self, other: EventBuffer, fallback_ts: int | None = None) -> None:
        """Append all rows of ``other``; its rows before any timestamp take its first timestamp
        (or ``fallback_ts``) for partitioning."""
        if self._cols is not None:
            self._sync()
        if other._cols is not None:
            other._sync()
        self.rows.extend(other.rows)
        fill = other._fill
        if fill and fill[0] is None:
            first = next((x for x in fill if x is not None), fallback_ts)
            fill = [first if x is None else x for x in fill]
        self._fill.extend(fill)

    def seal(self, path: str | os.PathLike, line_keys: dict[int, str]) -> None:
        """Complete the rows of one parsed file: each row's ``line_key`` from ``line_keys``
        (line_no -> key); rows before the file's first timestamp are dated by it, or by the
        file's mtime when no row has one (see :class:`ParseResult`)."""
        if line_keys and self.rows:
            self.cols["line_key"] = [line_keys.get(x) for x in self.cols["line_no"]]
        fill = self._fill
        if fill and fill[0] is None:
            first = next((x for x in fill if x is not None), None)
            if first is None:
                first = _mtime_ms(path)
            self._fill = [first if x is None else x for x in fill]

    def set_last(self, name: str, value: Any) -> None:
        self.row(-1)[name] = value

    def column(self, name: str) -> list:
        """A column as a full-length list."""
        return self.cols[name]

    def check_types(self, names: tuple[str, ...]) -> None:
        """Raise as :meth:`to_table` would if column ``names`` hold a value their type cannot
        take (an int beyond int32/int64). Adapters that put unbounded numbers from the input
        into columns call it before handing the buffer over, so the failure stays with that
        file instead of the engine's merged batch."""
        if self.rows:
            pa.array(self.rows, type=pa.struct([_ROW_TYPE.field(n) for n in names]))

    def to_table(self) -> pa.Table:
        """The rows as a table with exactly the ``events`` schema (no cast needed later)."""
        if self._cols is not None:
            self._sync()
        arrays = pa.array(self.rows, type=_ROW_TYPE).flatten()
        by_name: dict[str, pa.Array] = dict(zip(_EVENT_COLS, arrays))
        fill = pa.array(self._fill, type=pa.int64())
        if fill.null_count and len(fill):
            fill = pc.fill_null_backward(fill)  # leading rows without any timestamp
        fill_ts = fill.cast(S.TS.arrow())
        date = pc.cast(fill_ts, pa.date32())
        by_name["date"] = date
        if len(fill):
            # a batch spans few days: format each distinct day once, then take
            days = pc.unique(date)
            months = pc.strftime(days.cast(S.TS.arrow()), format="%Y-%m")
            by_name["month"] = pc.take(months, pc.index_in(date, days))
        else:
            by_name["month"] = pa.array([], pa.string())
        ln = by_name["line_no"].cast(pa.int64())
        by_name["seq"] = pc.add(pc.multiply(ln, 1024), by_name["block_index"].cast(pa.int64()))
        return pa.Table.from_arrays([by_name[f.name] for f in S.EVENTS], schema=S.EVENTS)


@dataclass
class ParseResult:
    """What an adapter returns for one file (or one appended tail): its rows in an
    :class:`EventBuffer`, complete when the result is made (each row's dedup ``line_key`` set from
    ``line_keys``; rows before the file's first timestamp dated by it, or by the file's mtime when
    the file has none), so the engine merges the buffers of a batch without touching rows."""

    path: str
    agent: str
    buffer: EventBuffer
    #: the rejected lines (a :class:`RejectBuffer` from the adapters; any iterable of
    #: :class:`Reject` is accepted)
    rejects: RejectBuffer
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

    def __post_init__(self) -> None:
        self.buffer.seal(self.path, self.line_keys)


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
    with open_input(path, buffering=1 << 20) as fh:
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
    rejects: RejectBuffer | list,
    handle: Callable[[Any, str | None, RawLine], str | None],
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
    # iter_lines and decode_line inlined: this loop runs once per line of every file
    loads = orjson.loads
    line_no, offset = start_line, start_offset
    reason: str | None
    with open_input(path, buffering=1 << 20) as fh:
        if start_offset:
            fh.seek(start_offset)
        for raw in fh:
            line_no += 1
            size = len(raw)
            if raw.isspace():
                offset += size
                continue
            line = RawLine(line_no, offset, raw, raw[-1:] == b"\n")
            offset += size
            total += 1
            try:
                obj = loads(raw)
            except orjson.JSONDecodeError as exc:
                obj, reason = None, _json_error(line, exc)  # worded as decode_line words it
            else:
                reason = None if isinstance(obj, dict) else f"not a JSON object (got {type(obj).__name__})"
                if reason is not None:
                    obj = None
            if reason is not None and not line.complete:
                _reject(rejects, path, agent, line, reason)
                return total, rejected + 1, skipped, end_offset, end_line
            end_offset, end_line = offset, line_no
            reason = handle(obj, reason, line)
            if reason is None:
                continue
            if reason == SKIP:
                skipped += 1
            else:
                _reject(rejects, path, agent, line, reason)
                rejected += 1
    end_offset, end_line = file_end(path, end_offset, end_line)
    return total, rejected, skipped, end_offset, end_line


def _reject(rejects: RejectBuffer | list, path: str, agent: str, line: RawLine, reason: str) -> None:
    """Append the reject of ``line`` to ``rejects`` (into a buffer's columns directly)."""
    if type(rejects) is RejectBuffer:
        raw = line.raw.rstrip(b"\r\n")
        rejects.add(str(path), line.line_no, line.offset, agent, reason, raw[: S.RAW_REJECT_CAP].decode("utf-8", "replace"), len(raw))
    else:
        rejects.append(make_reject(path, agent, line, reason))


def make_reject(path: str, agent: str, line: RawLine, reason: str) -> Reject:
    raw = line.raw.rstrip(b"\r\n")
    text = raw[: S.RAW_REJECT_CAP].decode("utf-8", "replace")
    return Reject(str(path), line.line_no, line.offset, agent, reason, text, len(raw))


def _json_error(line: RawLine, exc: orjson.JSONDecodeError) -> str:
    """The reject reason of a line orjson could not decode."""
    try:
        line.raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    if not line.complete:
        return f"truncated last line (no newline, invalid JSON: {exc})"
    return f"invalid JSON: {exc}"


def decode_line(line: RawLine) -> tuple[Any, str | None]:
    """Decode one line. Returns (object, None) or (None, reason)."""
    try:
        obj = orjson.loads(line.raw)
    except orjson.JSONDecodeError as exc:
        return None, _json_error(line, exc)
    if not isinstance(obj, dict):
        return None, f"not a JSON object (got {type(obj).__name__})"
    return obj, None
