"""EventBuffer (tracelab.ingest.base): the row store every adapter fills and the engine merges.

Checks the contract the adapters and the engine rely on, against values computed here
independently: rows become exactly the ``events`` schema (absent keys and ``None`` are nulls,
keys that are not columns are ignored), partition timestamps are filled per buffer, and column
lists handed out by ``cols`` (read, changed in place, or assigned) reach the table.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from tracelab import schema as S
from tracelab.ingest.base import EventBuffer, cap_text, shrink, utf8_len

DAY = 86_400_000
T0 = 1_772_359_200_000  # 2026-03-01T10:00:00Z


def _row(line_no: int, ts: int | None, **kw) -> dict:
    return {"event_key": f"k{line_no}", "session_key": "s", "agent": "claude", "source_file": "f", "line_no": line_no, "block_index": 0, "ts": ts, **kw}


def _month(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m")


def test_rows_become_the_events_schema():
    b = EventBuffer()
    b.add(_row(1, T0), kind="user_prompt", text="hi", text_bytes=2, not_a_column=object())
    b.add(_row(2, None), kind="tool_result", is_error=True, exit_code=-1, duration_ms=5, cost_usd=None)
    t = b.to_table()
    assert t.schema == S.EVENTS and t.num_rows == 2
    r1, r2 = t.to_pylist()
    assert r1["text"] == "hi" and r1["is_error"] is None and r1["ts"] == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    assert r2["exit_code"] == -1 and r2["duration_ms"] == 5.0 and r2["cost_usd"] is None and r2["ts"] is None
    # partition day of a row without ts: the previous row's; seq = line_no * 1024 + block_index
    assert [r["date"] for r in (r1, r2)] == [dt.date(2026, 3, 1)] * 2
    assert t.column("seq").to_pylist() == [1024, 2048]


def test_month_is_the_utc_month_of_the_partition_timestamp():
    b = EventBuffer()
    stamps = [T0 - 40 * DAY, T0, T0 + 31 * DAY, T0 + 31 * DAY + 1, -DAY * 365 * 100, 0]
    for i, ts in enumerate(stamps):
        b.add(_row(i + 1, ts))
    assert b.to_table().column("month").to_pylist() == [_month(ts) for ts in stamps]


def test_extend_fills_leading_rows_per_buffer():
    """Rows before a buffer's first timestamp take that timestamp, or the fallback (file mtime)
    when the buffer has none; never the previous buffer's."""
    a, b, c, merged = EventBuffer(), EventBuffer(), EventBuffer(), EventBuffer()
    a.add(_row(1, T0))
    b.add(_row(1, None))
    b.add(_row(2, T0 + 40 * DAY))
    c.add(_row(1, None))
    for buf in (a, b, c):
        merged.extend(buf, T0 + 100 * DAY)
    months = merged.to_table().column("month").to_pylist()
    assert months == [_month(T0), _month(T0 + 40 * DAY), _month(T0 + 40 * DAY), _month(T0 + 100 * DAY)]


def test_cols_reads_changes_and_assignments_reach_the_table():
    b = EventBuffer()
    for i in range(4):
        b.add(_row(i + 1, T0 + i), kind="user_prompt")
    cols = b.cols
    assert cols["line_no"] == [1, 2, 3, 4] and cols["branch"] == [None] * 4
    cols["kind"][2] = "interrupt"
    cols["line_key"] = ["a", None, "c", "d"]
    with pytest.raises(KeyError):
        cols["no_such_column"]
    b.add(_row(5, T0 + 9), kind="user_prompt")  # adding after handing out columns keeps both
    b.row(0)["title"] = "t"
    t = b.to_table()
    assert t.column("kind").to_pylist() == ["user_prompt", "user_prompt", "interrupt", "user_prompt", "user_prompt"]
    assert t.column("line_key").to_pylist() == ["a", None, "c", "d", None]
    assert t.column("title").to_pylist() == ["t", None, None, None, None]
    assert b.append(_row(6, None)) == 5 and b.n == 6


def test_check_types_raises_like_to_table():
    b = EventBuffer()
    b.add(_row(1, T0), input_tokens=2**40, exit_code=3)
    b.check_types(("input_tokens", "exit_code"))
    b.add(_row(2, T0), exit_code=2**40)
    with pytest.raises(pa.ArrowInvalid):
        b.check_types(("exit_code",))
    with pytest.raises(pa.ArrowInvalid):
        b.to_table()


@pytest.mark.parametrize("text", ["", "abc", "a" * 40_000, "é" * 20_000, "x" * 32_767 + "é", "😀" * 9_000, "\ud800" * 3])
def test_cap_text_and_utf8_len(text):
    raw = text.encode("utf-8", "surrogatepass")
    capped, n = cap_text(text)
    assert n == len(raw) == utf8_len(text)
    assert capped == raw[: S.TEXT_CAP].decode("utf-8", "ignore") if len(raw) > S.TEXT_CAP else capped == text


def test_shrink_keeps_structure_and_marks_what_it_cut():
    obj = {"a": "x" * 300, "b": 1, "c": None, "d": [1] * 51, "e": {"f": "é" * 300, "g": True}, "h": [{"i": "y" * 10}]}
    assert shrink(obj) == {
        "a": {"$truncated_bytes": 300},
        "b": 1,
        "c": None,
        "d": {"$list_len": 51, "head": [1] * 5},
        "e": {"f": {"$truncated_bytes": 600}, "g": True},
        "h": [{"i": "y" * 10}],
    }
