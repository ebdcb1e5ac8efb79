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
import io
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from tracelab import schema as S
from tracelab.ingest.rejects import SPILL_OPTIONS, Reject, RejectBuffer, spill_dir

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
#: key of the parser state listing sessions the parse looked for and did not find (a Codex
#: fork's parent rollout): when a file that holds one of them arrives, the file is parsed again
AWAITS = "__awaits"


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


#: the exact types of decoded JSON scalars (a subclass takes :func:`shrink`'s general path)
_SCALAR_TYPES = frozenset({int, float, bool, type(None)})


def _shrink_dict(obj: dict, limit: int) -> dict:
    """:func:`shrink` of a dict; short strings and numbers (most values) are copied without
    a call per value, nested objects without going through :func:`shrink`. Tested by exact
    type (what orjson decodes to); anything else takes :func:`shrink`, so the result is
    the same."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        tv = type(v)
        if tv is str:
            out[k] = v if len(v) <= limit else {"$truncated_bytes": utf8_len(v)}
        elif tv in _SCALAR_TYPES:
            out[k] = v
        elif tv is dict:
            out[k] = _shrink_dict(v, limit)
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


#: Rows an :class:`EventBuffer` holds as dicts before :meth:`EventBuffer.settle` turns them into
#: one Arrow batch (spilled to ``.staging/`` inside an ingest worker).
EVENT_BATCH_ROWS = 32 * 1024

#: A flushed batch: the adapter's columns plus the partitioning timestamp of each row.
_FLUSH_SCHEMA = pa.schema([*_ROW_TYPE, pa.field("__fill", pa.int64())])


def _events_table(by_name: dict[str, Any], fill: pa.Array) -> pa.Table:
    """The ``events`` table of adapter columns ``by_name`` and partitioning timestamps ``fill``
    (epoch ms; leading nulls take the first timestamp after them): adds date, month, seq."""
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


class _Flushed:
    """The rows one parse flushed while it ran (:meth:`EventBuffer.settle`), as Arrow batches of
    :data:`_FLUSH_SCHEMA`: in an LZ4 IPC stream under the spill directory of
    :func:`~tracelab.ingest.rejects.spill_to` (an ingest worker), else in memory. What
    :meth:`EventBuffer.seal` decides for the whole file (line keys, the date of rows before the
    first timestamp) is applied when the batches are read back."""

    __slots__ = ("batches", "path", "writer", "n", "first_fill", "lead", "line_keys")

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []
        self.path: str | None = None
        self.writer: Any = None
        self.n = 0
        #: the partitioning timestamp of the first row (None: the file starts undated)
        self.first_fill: int | None = None
        #: the first partitioning timestamp of the batches (what undated leading rows take)
        self.lead: int | None = None
        self.line_keys: dict[int, str] = {}

    def write(self, rb: pa.RecordBatch, fill: list[int | None]) -> None:
        if not self.n:
            self.first_fill = fill[0]
        if self.lead is None:
            self.lead = next((x for x in fill if x is not None), None)
        self.n += rb.num_rows
        directory = spill_dir()
        if self.writer is None and self.path is None and directory is not None:
            os.makedirs(directory, exist_ok=True)
            self.path = os.path.join(directory, f"events-{os.getpid()}-{uuid.uuid4().hex[:12]}.arrows")
            self.writer = pa.ipc.new_stream(pa.OSFile(self.path, "wb"), _FLUSH_SCHEMA, options=SPILL_OPTIONS)
        if self.writer is not None:
            self.writer.write_batch(rb)
        else:
            self.batches.append(rb)

    def raw(self) -> Iterator[pa.RecordBatch]:
        """The flushed batches as written (a spilled stream is read back batch by batch)."""
        if self.path is not None:
            if self.writer is not None:
                self.writer.close()
                self.writer = None
            # read, not memory-mapped: a mapped file's pages would all count as this process's memory
            with pa.OSFile(self.path, "rb") as src:
                yield from pa.ipc.open_stream(src)
        yield from self.batches

    def tables(self) -> Iterator[pa.Table]:
        """The flushed rows as ``events`` tables, completed by the seal."""
        keys = self.line_keys
        for rb in self.raw():
            by_name: dict[str, Any] = dict(zip(_EVENT_COLS, rb.columns[:-1]))
            if keys:
                # looked up in C: a batch of 32k rows, of which few lines usually have a key
                where = pc.index_in(rb.column(_LINE_NO).cast(pa.int64()), value_set=pa.array(list(keys), pa.int64()))
                by_name["line_key"] = pa.array(list(keys.values()), pa.string()).take(where)
            fill = rb.column(len(_EVENT_COLS))
            if fill.null_count and self.lead is not None:
                fill = pc.fill_null(fill, self.lead)
            yield _events_table(by_name, fill)

    def close(self) -> None:
        """Drop the batches and the spill file."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.path is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            self.path = None
        self.batches = []


_LINE_NO = _EVENT_COLS.index("line_no")
_SESSION_KEY = _EVENT_COLS.index("session_key")


def _distinct(chunks: list[pa.Array]) -> pa.Array:
    """The distinct values of int64 ``chunks``. Rows come in line order, so the chunks' values
    are usually ascending: then adjacent repeats are dropped (no hash table, whose memory for
    millions of lines is several times the values'), else a hash ``unique``."""
    if not chunks:
        return pa.array([], pa.int64())
    values = pa.concat_arrays(chunks)
    if len(values) < 2:
        return values
    step = pc.pairwise_diff(values)
    if pc.min(step).as_py() >= 0:
        return values.filter(pc.fill_null(pc.not_equal(step, 0), True))
    return pc.unique(values)


class EventBuffer:
    """``events`` rows as one dict per row; cheap to append, turned into Arrow tables at the end.

    Fast path: :meth:`add` stores ``{**base, **values}`` as the row (one C-level dict merge, no
    per-column Python work), and :meth:`to_table` converts all rows at once in C++ through a
    struct array (``pa.array(rows, type=struct)`` looks up each column's key in each dict;
    absent keys and ``None`` are nulls, keys that are not ``events`` columns are ignored).

    Parsers that change a row after adding it use :meth:`row` (the row's dict). Column access
    (:attr:`cols`, :meth:`column`) is for callers that work on whole columns at the end.

    Bounded memory: an adapter that never changes rows of earlier lines calls :meth:`settle`
    between lines; every :data:`EVENT_BATCH_ROWS` rows the buffer then turns its rows into one
    Arrow batch (spilled to disk inside an ingest worker), so a file of millions of lines holds
    one batch of dicts. Rows so flushed are gone from :meth:`row` and :attr:`cols`; indices stay
    absolute (:attr:`n` counts every row). Adapters that reach back (pairing passes over the
    whole file) simply never settle. :meth:`tables` yields every row, flushed or not, and
    :meth:`line_nos_and_sessions` the two columns the engine needs of the whole file.

    Besides the columns an adapter fills, it tracks for every row the timestamp used for
    partitioning (the row's own ``ts``, else the previous timestamped row's), so the tables have
    the complete ``events`` schema including ``date``, ``month`` and ``seq``.
    """

    __slots__ = ("rows", "_fill", "_last_ts", "_cols", "_parts", "_base", "_own")

    #: rows per flushed batch (a class attribute so tests can make it small)
    batch_rows = EVENT_BATCH_ROWS

    def __init__(self, start_ts: int | None = None) -> None:
        """``start_ts``: the partitioning timestamp of the line before the first row (an
        append continues from the rows already ingested: rows without a timestamp of their
        own take the previous line's, as they would in one parse of the whole file)."""
        self.rows: list[dict[str, Any]] = []
        self._fill: list[int | None] = []
        self._last_ts: int | None = start_ts
        self._cols: _Columns | None = None
        #: rows before ``rows``, in order: flushed batches, or sealed rows of another buffer
        #: (``(rows, fill)``) that :meth:`extend` took before flushed ones
        self._parts: list[_Flushed | tuple[list[dict[str, Any]], list[int | None]]] = []
        self._base = 0  # rows in ``_parts``
        self._own: _Flushed | None = None  # this buffer's flushed rows (the adapter's settle)

    @property
    def last_ts(self) -> int | None:
        """The partitioning timestamp of the last row (what the next append starts from)."""
        return self._last_ts

    @property
    def n(self) -> int:
        return self._base + len(self.rows)

    @property
    def flushed(self) -> int:
        """Rows no longer held as dicts (indices below this are gone from :meth:`row`)."""
        return self._base

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
        return self._base + len(rows) - 1

    def add_repeats(self, row: dict[str, Any], line_nos: Any, columns: dict[str, pa.Array]) -> None:
        """Append ``len(line_nos)`` copies of ``row`` as Arrow batches (no dict per row): each
        with its line number from ``line_nos`` (ascending, NumPy) and the values of
        ``columns`` (name -> Arrow array of the same length) in place of the row's. For an
        adapter that settles: the rows held so far are flushed first."""
        if self.rows or self._cols is not None:
            self._flush()
        ts = row.get("ts")
        if ts is not None:
            self._last_ts = ts
        template = pa.array([row], type=_ROW_TYPE).flatten()
        empty = [arr.null_count == 1 for arr in template]  # null in the row: a null column, no take
        fill = self._last_ts
        if self._own is None:
            self._own = _Flushed()
            self._parts.append(self._own)
        n = len(line_nos)
        for start in range(0, n, self.batch_rows):
            k = min(self.batch_rows, n - start)
            same = pa.array(np.zeros(k, np.int32))
            cols = {name: pa.nulls(k, arr.type) if null else arr.take(same) for name, arr, null in zip(_EVENT_COLS, template, empty)}
            cols["line_no"] = pa.array(line_nos[start : start + k], pa.int32())
            for name, values in columns.items():
                cols[name] = values.slice(start, k).cast(_ROW_TYPE.field(name).type)
            fills = pa.nulls(k, pa.int64()) if fill is None else pa.array(np.full(k, fill, np.int64))
            rb = pa.record_batch([*(cols[name] for name in _EVENT_COLS), fills], schema=_FLUSH_SCHEMA)
            self._own.write(rb, [fill])
            self._base += k

    def row(self, idx: int) -> dict[str, Any]:
        """Row ``idx`` as its dict (read a column with ``.get(name)``, change it by assignment);
        a negative index counts from the end."""
        if self._cols is not None:
            self._sync()
        if idx >= 0:
            idx -= self._base
            if idx < 0:
                raise IndexError(f"row {idx + self._base} was flushed (settle)")
        return self.rows[idx]

    def settle(self) -> None:
        """The adapter will not change the rows added so far: when a batch's worth of rows is
        held, turn them into one Arrow batch (spilled inside an ingest worker)."""
        if len(self.rows) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._cols is not None:
            self._sync()
        rows, fill = self.rows, self._fill
        arrays = pa.array(rows, type=_ROW_TYPE).flatten()
        rb = pa.record_batch([*arrays, pa.array(fill, pa.int64())], schema=_FLUSH_SCHEMA)
        if self._own is None:
            self._own = _Flushed()
            self._parts.append(self._own)
        self._own.write(rb, fill)
        self._base += len(rows)
        self.rows, self._fill = [], []

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
        """Columns of the rows held as dicts (all rows unless the adapter settles) as lists
        (safe for random access and assignment), built on first lookup of each name."""
        if self._cols is None:
            self._cols = _Columns(self.rows)
        return self._cols

    def extend(self, other: EventBuffer, fallback_ts: int | None = None) -> None:
        """Append all rows of ``other`` (a sealed buffer: its flushed batches are taken over,
        not read); its rows before any timestamp take its first timestamp (or ``fallback_ts``)
        for partitioning."""
        if self._cols is not None:
            self._sync()
        if other._cols is not None:
            other._sync()
        if other._parts:
            if self.rows:
                self._parts.append((self.rows, self._fill))
                self.rows, self._fill = [], []
            self._parts.extend(other._parts)
            self._base = sum(p.n if isinstance(p, _Flushed) else len(p[0]) for p in self._parts)
            other._parts, other._own, other._base = [], None, 0
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
            if self._cols is not None:
                self._sync()
            keys: dict[Any, str] = line_keys  # a row's line_no may be missing (None: no key)
            key_of = keys.get
            for r in self.rows:  # into the rows directly (no column lists to build and write back)
                r["line_key"] = key_of(r.get("line_no"))
        own, fill = self._own, self._fill
        if own is not None:
            if line_keys:
                own.line_keys = line_keys
            if own.first_fill is None:
                if own.lead is None:
                    own.lead = next((x for x in fill if x is not None), None)
                if own.lead is None:
                    own.lead = _mtime_ms(path)
                self._fill = [own.lead if x is None else x for x in fill]
        elif fill and fill[0] is None:
            first = next((x for x in fill if x is not None), None)
            if first is None:
                first = _mtime_ms(path)
            self._fill = [first if x is None else x for x in fill]

    def set_last(self, name: str, value: Any) -> None:
        self.row(-1)[name] = value

    def column(self, name: str) -> list:
        """A column of the rows held as dicts as a list."""
        return self.cols[name]

    def check_types(self, names: tuple[str, ...]) -> None:
        """Raise as :meth:`to_table` would if column ``names`` hold a value their type cannot
        take (an int beyond int32/int64). Adapters that put unbounded numbers from the input
        into columns call it before handing the buffer over, so the failure stays with that
        file instead of the engine's merged batch."""
        if self.rows:
            pa.array(self.rows, type=pa.struct([_ROW_TYPE.field(n) for n in names]))

    def line_nos_and_sessions(self) -> tuple[pa.Array, list[str]]:
        """The distinct line numbers (int64) and the sorted distinct session keys of all rows,
        flushed ones included (read back column by column, batch by batch)."""
        if not self._parts:  # the usual case (no flushed batch): sets, no Arrow kernel per file
            if self._cols is not None:
                self._sync()
            rows = self.rows
            line_set: set[Any] = {r.get("line_no") for r in rows}
            session_set: set[Any] = {r.get("session_key") for r in rows}
            session_set.discard(None)
            return pa.array(sorted(line_set), pa.int64()), sorted(session_set)
        lines: list[pa.Array] = []
        sessions: set[Any] = set()
        for part in self._parts:
            if isinstance(part, _Flushed):
                for rb in part.raw():
                    lines.append(pc.unique(rb.column(_LINE_NO)).cast(pa.int64()))
                    sessions.update(x for x in pc.unique(rb.column(_SESSION_KEY)).to_pylist() if x is not None)
            else:
                lines.append(pa.array(sorted({r["line_no"] for r in part[0]}), pa.int64()))
                sessions.update(r.get("session_key") for r in part[0])
        if self.rows:
            lines.append(pa.array(sorted(set(self.cols["line_no"])), pa.int64()))
            sessions.update(self.cols["session_key"])
        sessions.discard(None)
        return _distinct(lines), sorted(sessions)

    def tables(self) -> Iterator[pa.Table]:
        """Every row as ``events`` tables (exactly the schema, no cast needed later), in order:
        flushed batches read back one at a time, the rows held as dicts converted at once."""
        for part in self._parts:
            if isinstance(part, _Flushed):
                yield from part.tables()
            else:
                yield self._rows_table(*part)
        if self.rows:
            if self._cols is not None:
                self._sync()
            yield self._rows_table(self.rows, self._fill)

    def to_table(self) -> pa.Table:
        """All rows as one table with exactly the ``events`` schema (no cast needed later)."""
        if not self._parts:
            if self._cols is not None:
                self._sync()
            return self._rows_table(self.rows, self._fill)
        tables = list(self.tables())
        return pa.concat_tables(tables) if tables else self._rows_table([], [])

    def close(self) -> None:
        """Drop flushed batches and their spill files (after the rows were staged)."""
        for part in self._parts:
            if isinstance(part, _Flushed):
                part.close()

    @staticmethod
    def _rows_table(rows: list[dict[str, Any]], fill: list[int | None]) -> pa.Table:
        arrays = pa.array(rows, type=_ROW_TYPE).flatten()
        by_name: dict[str, Any] = dict(zip(_EVENT_COLS, arrays))
        return _events_table(by_name, pa.array(fill, type=pa.int64()))


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


#: bytes a scan reads at a time (cut at the last newline; a longer line is read whole)
SCAN_BLOCK = 1 << 20

#: First bytes of lines the bulk reject path leaves to the per-line path: whitespace (blank
#: lines, indented JSON), the bytes a JSON value can start with, ``+`` and ``.`` (orjson words
#: their error differently) and 0xEF (a byte-order mark). Any other first byte makes orjson fail
#: at char 0 with a message that depends on that byte only.
_NOT_BULK = pa.array([bytes([b]) for b in b' \t\r\x0b\x0c{["-0123456789tfn+.\xef'], pa.binary())


#: first bytes of :data:`_NOT_BULK` as ints (the per-line watch)
_NOT_BULK_BYTES = frozenset(b[0] for b in _NOT_BULK.to_pylist())
#: the same as a lookup table by byte value (the bulk path)
_NOT_BULK_LUT = np.zeros(256, bool)
_NOT_BULK_LUT[list(_NOT_BULK_BYTES)] = True
#: bulk candidates in a row after which a scan reads the rest of the file in blocks
BULK_AFTER = 16


def _blocks(fh: IO[bytes], size: int | None = None) -> Iterator[bytes]:
    """The bytes of ``fh`` in blocks of whole lines (each ending in a newline), the last block
    possibly without one (a half-written last line); ``size``: :data:`SCAN_BLOCK`."""
    size = size or SCAN_BLOCK
    pending: list[bytes] = []
    while True:
        chunk = fh.read(size)
        if not chunk:
            break
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            pending.append(chunk)
            continue
        head = chunk if cut == len(chunk) else chunk[:cut]
        if pending:
            pending.append(head)
            head, pending = b"".join(pending), []
        yield head
        if cut < len(chunk):
            pending.append(chunk[cut:])
    if pending:
        yield b"".join(pending)


class Repeats:
    """What an adapter gives :func:`scan` to take runs of byte-identical lines without
    decoding or handling each: after handling a line, the adapter sets :attr:`row` to the one
    row that line produced when a byte-identical line right after it would produce the same
    row but for its line number (and the columns :meth:`emit` sets), and would change none of
    the adapter's state; else None. The scan then counts the copies that follow and calls
    :meth:`emit` once per run (an unknown record type repeated millions of times costs about
    what reading it costs)."""

    __slots__ = ("row",)

    def __init__(self) -> None:
        self.row: dict[str, Any] | None = None

    def emit(self, first_line: int, n: int) -> None:
        """Add the rows of ``n`` copies of the last line handled, on lines ``first_line``,
        ``first_line + 1``, …"""
        raise NotImplementedError


class _Scan:
    """The state of one :func:`scan`: counters, the position, and the per-line step."""

    __slots__ = ("path", "agent", "rejects", "handle", "repeat", "total", "rejected", "skipped", "end_offset", "end_line", "line_no", "offset", "stop")

    def __init__(
        self, path: str, agent: str, start_offset: int, start_line: int, rejects: RejectBuffer | list, handle: Callable, repeat: Repeats | None = None
    ) -> None:
        self.path, self.agent, self.rejects, self.handle, self.repeat = path, agent, rejects, handle, repeat
        self.total = self.rejected = self.skipped = 0
        self.end_offset, self.end_line = start_offset, start_line
        self.line_no, self.offset = start_line, start_offset
        self.stop = False  # a half-written last line was met: nothing after it is consumed

    def lines(self, source: bytes | IO[bytes], watch: bool = False) -> bool:
        """Every line of ``source`` (a block of whole lines, or the open file), one at a time.
        ``watch``: stop after :data:`BULK_AFTER` lines in a row that are bulk candidates (their
        first byte cannot start JSON) and return True, so the caller reads the rest in blocks
        (:meth:`bulk`); a line that starts with ``{`` costs one byte comparison more."""
        # counters and the position in locals, written back once (this runs for every line)
        line_no, offset = self.line_no, self.offset
        end_offset, end_line = self.end_offset, self.end_line
        total = rejected = skipped = 0
        loads, handle, rejects, path, agent, rep = orjson.loads, self.handle, self.rejects, self.path, self.agent, self.repeat
        reason: str | None
        streak = 0
        switch = False
        prev: bytes | None = None  # the last line, when a copy of it may be taken as a repeat
        run = run_line = 0  # copies of ``prev`` since it was handled, the first one's line
        for raw in io.BytesIO(source) if isinstance(source, bytes) else source:
            line_no += 1
            size = len(raw)
            if prev is not None:
                if raw == prev:  # a complete line (``prev`` is), taken without decoding it
                    if not run:
                        run_line = line_no
                    run += 1
                    offset += size
                    continue
                if run:  # the run's copies, on lines run_line…, ending where this line starts
                    assert rep is not None
                    rep.emit(run_line, run)
                    total += run
                    end_offset, end_line = offset, run_line + run - 1
                    run = 0
                prev = None
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
                if isinstance(obj, dict):
                    reason = None
                else:
                    obj, reason = None, f"not a JSON object (got {type(obj).__name__})"
            if reason is not None and not line.complete:
                _reject(rejects, path, agent, line, reason)
                rejected += 1
                self.stop = True
                break
            end_offset, end_line = offset, line_no
            if watch:
                streak = streak + 1 if raw[0] != 123 and raw[0] not in _NOT_BULK_BYTES else 0
            reason = handle(obj, reason, line)
            if reason is not None:
                if reason == SKIP:
                    skipped += 1
                else:
                    _reject(rejects, path, agent, line, reason)
                    rejected += 1
            elif rep is not None and rep.row is not None and line.complete:
                prev = raw
            if streak >= BULK_AFTER:
                switch = True
                break
        if run:
            assert rep is not None
            rep.emit(run_line, run)
            total += run
            end_offset, end_line = offset, run_line + run - 1
        self.line_no, self.offset = line_no, offset
        self.end_offset, self.end_line = end_offset, end_line
        self.total += total
        self.rejected += rejected
        self.skipped += skipped
        return switch

    def bulk(self, block: bytes) -> None:
        """A block of whole lines where some line cannot be a JSON object: runs of lines whose
        first byte makes them invalid JSON (see :data:`_NOT_BULK`) become rejects as Arrow
        columns (no per-line Python work, no call of the handler); the other lines take the
        per-line path, in order. Reasons are the per-line path's. The block is cut into lines
        by NumPy (newline positions), so no Python object is made per line."""
        data = np.frombuffer(block, np.uint8)
        ends = np.flatnonzero(data == 10)  # the block ends with a newline: one per line
        n = len(ends)
        starts = np.empty(n, np.int64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lens = ends - starts
        nonblank = lens > 0
        first = data[np.where(nonblank, starts, 0)]
        last = data[np.where(nonblank, ends - 1, 0)]
        fast = nonblank & (lens <= S.RAW_REJECT_CAP) & ~_NOT_BULK_LUT[first] & (last != 13)
        # runs [a, b) of lines for the per-line path
        slow = np.flatnonzero(~fast)
        cuts = np.flatnonzero(np.diff(slow) != 1) + 1 if len(slow) else slow
        groups = [(int(g[0]), int(g[-1]) + 1) for g in np.split(slow, cuts)] if len(slow) else []
        base = (self.line_no, self.offset)
        pos = 0
        for a, b in [*groups, (n, n)]:
            if a > pos:
                self._run(block, data, starts, lens, first, pos, a, base)
            if b > a:
                self._lines_of(block, starts, ends, a, b, base)
            pos = b
        self.line_no, self.offset = base[0] + n, base[1] + len(block)

    def _lines_of(self, block: bytes, starts: Any, ends: Any, a: int, b: int, base: tuple[int, int]) -> None:
        """Lines ``a``..``b-1`` of a bulk block through the per-line path."""
        self.line_no, self.offset = base[0] + a, base[1] + int(starts[a])
        self.lines(block[int(starts[a]) : int(ends[b - 1]) + 1])

    def _run(self, block: bytes, data: Any, starts: Any, lens: Any, first: Any, a: int, b: int, base: tuple[int, int]) -> None:
        """Lines ``a``..``b-1`` of a bulk block (``base``: line number and offset before the
        block), all rejected for their first byte."""
        n = b - a
        base_line, base_offset = base
        st, ln = starts[a:b], lens[a:b]
        # the lines' bytes without their newlines, one after the other: line i at offsets[i]
        offsets = np.empty(n + 1, np.int64)
        offsets[0] = 0
        np.cumsum(ln, out=offsets[1:])
        chunk = data[int(st[0]) : int(st[-1] + ln[-1])]
        values = chunk[chunk != 10] if n > 1 else chunk
        text: pa.Array | None
        try:
            raw = pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(values)])
            text = raw.cast(pa.large_string())
        except pa.ArrowInvalid:  # invalid UTF-8 somewhere: the per-line path words it
            text = None
        firsts = first[a:b]
        uniq = np.unique(firsts)
        reasons: list[str] = []
        for u in uniq.tolist() if text is not None else []:
            i = a + int(np.argmax(firsts == u))
            line = block[int(starts[i]) : int(starts[i] + lens[i]) + 1]
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                reasons.append(_json_error(RawLine(0, 0, line, True), exc))
            else:  # pragma: no cover - excluded by _NOT_BULK
                text = None
        if text is None:
            self._lines_of(block, starts, starts + lens, a, b, base)
            return
        assert isinstance(self.rejects, RejectBuffer)
        self.rejects.add_arrays(
            str(self.path),
            self.agent,
            pa.array(np.arange(base_line + a + 1, base_line + b + 1, dtype=np.int64)),
            pa.array(st + base_offset),
            pa.DictionaryArray.from_arrays(pa.array(np.searchsorted(uniq, firsts).astype(np.int32)), pa.array(reasons, pa.string())),
            text,
            pa.array(ln),
        )
        self.total += n
        self.rejected += n
        self.end_line = base_line + b
        self.end_offset = base_offset + int(st[-1] + ln[-1]) + 1


def _bulk_candidate(block: bytes) -> bool:
    """Does some line of ``block`` (whole lines) start with a byte other than ``{``? Two
    counts at memchr speed, so blocks of JSON objects (nearly every block) go straight to the
    per-line path."""
    return block.count(b"\n") != block.count(b"\n{") + (block[:1] == b"{")


def scan(
    path: str,
    agent: str,
    start_offset: int,
    start_line: int,
    rejects: RejectBuffer | list,
    handle: Callable[[Any, str | None, RawLine], str | None],
    bulk_rejects: bool = False,
    repeat: Repeats | None = None,
) -> tuple[int, int, int, int, int]:
    """The line loop every adapter shares.

    ``handle(obj, decode_error, line)`` is called for every complete non-blank line (``obj`` is
    None when the line did not decode) and returns None (ingested), :data:`SKIP` (a replayed
    copy) or a reject reason. A half-written last line is rejected but not consumed, so the
    next ingest re-reads it. Returns (lines_total, lines_rejected, lines_skipped, end_offset,
    end_line).

    ``bulk_rejects``: the handler returns the decode error of a line that did not decode and
    does nothing else with it, so runs of lines that cannot be JSON (their first byte says so)
    may be rejected as Arrow columns without calling it (see :meth:`_Scan.bulk`): millions of
    such lines cost little more than reading them.

    ``repeat``: runs of byte-identical lines after a line the adapter marked repeatable are
    added by :meth:`Repeats.emit` without decoding or handling each (see :class:`Repeats`).
    """
    sc = _Scan(path, agent, start_offset, start_line, rejects, handle, repeat)
    bulk = bulk_rejects and type(rejects) is RejectBuffer
    with open_input(path, buffering=1 << 20) as fh:
        if start_offset:
            fh.seek(start_offset)
        # line by line (a file of JSON objects never leaves this loop); after a run of lines
        # that cannot be JSON, the rest in blocks, each checked for bulk candidates
        if sc.lines(fh, watch=bulk) and not sc.stop:
            for block in _blocks(fh):
                if block.endswith(b"\n") and _bulk_candidate(block):
                    sc.bulk(block)
                else:
                    sc.lines(block)
                if sc.stop:
                    break
        if sc.stop:  # nothing after a half-written last line is consumed
            return sc.total, sc.rejected, sc.skipped, sc.end_offset, sc.end_line
    end_offset, end_line = file_end(path, sc.end_offset, sc.end_line)
    return sc.total, sc.rejected, sc.skipped, end_offset, end_line


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
