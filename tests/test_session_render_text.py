"""`tracelab session`'s terminal text without colour is written without rich, and must be what
rich prints, byte for byte: for any text a line can hold (hypothesis), and for every session of
the real samples, with and without --full."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from tests.session_fixtures import build_samples_wh
from tracelab.session import render_text as R

STYLES = st.sampled_from(["", "dim", "bold", "bold red", "bold cyan", "magenta", "blue", "bold blue"])
# any text, with the characters rich treats specially drawn often: tabs, the control codes it
# strips, escape, new lines, wide (2-cell) and combining characters, the box drawing we print
SPECIAL = st.sampled_from(["\t", "\x07", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\n", "\r\n", "界", "é", "e\u0301", "│", "└", " ", "[bold]", "…"])
TEXT = st.lists(st.one_of(st.text(max_size=12), SPECIAL), max_size=8).map("".join)


def _rich(items: list[R._Line | str]) -> str:
    """What rich prints for the lines: the renderer as it was before its plain path."""
    buf = io.StringIO()
    console = Console(file=buf, highlight=False, soft_wrap=True, emoji=False, no_color=True, force_terminal=None, force_jupyter=False)
    for item in items:
        if isinstance(item, R._Line):
            console.print(item.rich())
        else:
            console.print(item, markup=False)
    return buf.getvalue()


def _plain(items: list[R._Line | str]) -> str:
    buf = io.StringIO()
    printer = R._Printer(buf, False)
    for item in items:
        printer.print(item)
    return buf.getvalue()


@st.composite
def lines(draw) -> R._Line | str:
    if draw(st.booleans()):
        return draw(TEXT)
    line = R._Line(draw(TEXT), draw(STYLES))
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 3)) == 0:
            line.stylize(draw(STYLES.filter(bool)), draw(st.integers(0, 20)))
        else:
            line.append(draw(TEXT), draw(STYLES))
    return line


@settings(max_examples=400, deadline=None)
@given(st.lists(lines(), max_size=6))
def test_plain_lines_are_what_rich_prints(items):
    assert _plain(items) == _rich(items)


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_samples_wh(tmp_path_factory)


def test_every_sample_session_prints_as_through_rich(wh, monkeypatch):
    """Every session of the samples (subagents nested), as `tracelab session` prints it and with
    --full: the plain path's text equals the text of every line printed through rich."""
    from tracelab.catalog import connect
    from tracelab.session import load

    con = connect(wh)
    try:
        keys = [r[0] for r in con.execute("SELECT session_key FROM sessions WHERE NOT is_subagent ORDER BY session_key").fetchall()]
        nodes = [load(con, k) for k in keys]
    finally:
        con.close()
    assert len(nodes) > 50
    for full in (False, True):
        plain = []
        for node in nodes:
            buf = io.StringIO()
            R.render(node, full=full, cap=512, out=buf, color=False)
            plain.append(buf.getvalue())
        with monkeypatch.context() as m:
            m.setattr(R, "_RICH_REWRITES", re.compile(""))  # matches every line: all through rich
            for node, text in zip(nodes, plain):
                buf = io.StringIO()
                R.render(node, full=full, cap=512, out=buf, color=False)
                assert text == buf.getvalue(), (node.key, full)
    # the samples' bodies hold tabs and carriage returns: --full exercises the lines printed through rich
    bodies = [v for n in nodes for s in n.steps for v in (s.text, s.input, s.output) if v]
    assert any(R._RICH_REWRITES.search(v) for v in bodies)
