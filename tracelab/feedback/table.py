"""The ``feedback`` table: its pyarrow schema, vocabularies, and how one row is normalised.

A feedback row is one statement about one thing in the warehouse: *this session / event /
tool call / failure cluster* gets *this label* (optionally a score and a free-text note), said
by *this author*, a person (``source = 'human'``) or a model (``'model'``), at a time.

``feedback_id`` is content-derived: a hash of (target_type, target_key, label, score, note,
author, source) — not of the time. Importing the same file twice, or running the same
``tracelab label`` command twice, therefore adds nothing the second time; changing any of those
fields makes a new statement with a new id. An import may carry its own ``feedback_id`` (for
example when copying rows from another warehouse), which is kept as given.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

import pyarrow as pa

from tracelab import schema as S
from tracelab.errors import InputError

TABLE = "feedback"

#: What a label can be attached to, and the warehouse key it names.
TARGET_TYPES: dict[str, str] = {
    "session": "sessions.session_key",
    "event": "events.event_key",
    "tool_call": "tool_calls.tool_call_key",
    "cluster": "failure_clusters.cluster_id",
    "suggestion": "tracelab suggest id (sg-…)",
}
SOURCES = ("human", "model")

#: The table's schema is declared with the others in :mod:`tracelab.schema`.
FEEDBACK = S.FEEDBACK

#: Longest label / author accepted; notes are free text and uncapped.
MAX_LABEL = 200


class FeedbackError(InputError, ValueError):
    """Invalid feedback (the message names the field and, for imports, the row)."""


@dataclass(frozen=True)
class Feedback:
    """One normalised feedback row (see the module docstring)."""

    feedback_id: str
    target_type: str
    target_key: str
    label: str
    score: float | None
    note: str | None
    author: str | None
    source: str
    created_at: _dt.datetime

    def as_row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in FEEDBACK}


def feedback_id(target_type: str, target_key: str, label: str, score: float | None, note: str | None, author: str | None, source: str) -> str:
    """``fb-`` + 16 hex of BLAKE2b over the statement's fields (never the time)."""
    blob = json.dumps([target_type, target_key, label, score, note, author, source], ensure_ascii=False, separators=(",", ":"))
    return "fb-" + hashlib.blake2b(blob.encode("utf-8"), digest_size=8).hexdigest()


def parse_time(value: Any) -> _dt.datetime:
    """ISO 8601 (``Z`` or offset; a naive value is UTC; a bare date is midnight UTC), a
    datetime, or epoch seconds (int/float, or a numeric string)."""
    if isinstance(value, _dt.datetime):
        d = value
    elif isinstance(value, _dt.date):
        d = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise FeedbackError(f"created_at: not a finite number: {value!r}")
        d = _dt.datetime.fromtimestamp(float(value), _dt.UTC)
    else:
        s = str(value).strip()
        try:
            return parse_time(float(s))
        except ValueError:
            pass
        try:
            d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise FeedbackError(f"created_at: not an ISO 8601 time or epoch seconds: {s!r}") from None
    d = d if d.tzinfo else d.replace(tzinfo=_dt.UTC)
    d = d.astimezone(_dt.UTC)
    return d.replace(microsecond=d.microsecond // 1000 * 1000)


@overload
def _text(value: Any, field: str, *, required: Literal[True], cap: int | None = None) -> str: ...
@overload
def _text(value: Any, field: str, *, required: bool = False, cap: int | None = None) -> str | None: ...
def _text(value: Any, field: str, *, required: bool = False, cap: int | None = None) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = None
    elif not isinstance(value, str):
        if isinstance(value, (dict, list, bool)):
            raise FeedbackError(f"{field}: expected text, got {type(value).__name__}")
        value = str(value)
    if value is not None:
        value = value.strip()
        if not value:
            value = None
    if value is None:
        if required:
            raise FeedbackError(f"{field}: required")
        return None
    if cap is not None and len(value) > cap:
        raise FeedbackError(f"{field}: longer than {cap} characters")
    return value


def _score(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise FeedbackError("score: expected a number, got a boolean")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise FeedbackError(f"score: not a number: {value!r}") from None
    if not math.isfinite(x):
        raise FeedbackError(f"score: not a finite number: {value!r}")
    return x


def make(
    target_type: Any,
    target_key: Any,
    label: Any,
    *,
    score: Any = None,
    note: Any = None,
    author: Any = None,
    source: Any = "human",
    created_at: Any = None,
    feedback_id_: Any = None,
) -> Feedback:
    """Validate and normalise one row (text stripped, empty text → null, time → UTC ms)."""
    tt = _text(target_type, "target_type", required=True)
    if tt not in TARGET_TYPES:
        raise FeedbackError(f"target_type: {tt!r} is not one of {', '.join(TARGET_TYPES)}")
    key = _text(target_key, "target_key", required=True)
    lab = _text(label, "label", required=True, cap=MAX_LABEL)
    src = _text(source, "source") or "human"
    if src not in SOURCES:
        raise FeedbackError(f"source: {src!r} is not one of {', '.join(SOURCES)}")
    sc = _score(score)
    nt = _text(note, "note")
    au = _text(author, "author", cap=MAX_LABEL)
    when = parse_time(created_at) if created_at not in (None, "") else _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    fid = _text(feedback_id_, "feedback_id") or feedback_id(tt, key, lab, sc, nt, au, src)
    return Feedback(fid, tt, key, lab, sc, nt, au, src, when)


def to_arrow(rows: list[Feedback] | list[Mapping[str, Any]]) -> pa.Table:
    dicts = [r.as_row() if isinstance(r, Feedback) else dict(r) for r in rows]
    return pa.Table.from_pylist(dicts, schema=FEEDBACK) if dicts else FEEDBACK.empty_table()


def cast(table: pa.Table) -> pa.Table:
    """Cast a stored part to :data:`FEEDBACK` (column order and types; missing → nulls)."""
    cols = []
    for f in FEEDBACK:
        if f.name in table.column_names:
            c = table.column(f.name)
            cols.append(c.cast(f.type) if c.type != f.type else c)
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=FEEDBACK)
