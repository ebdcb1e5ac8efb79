"""The HTML session page: self-contained, size-bounded, and checked in headless Chromium
(loads with no console errors and no network requests, a collapsed output expands on a real
click, ``#step-N`` scrolls to that step). Browser tests skip when Debian's ``chromium`` is
not installed (``apt-get install -y chromium``)."""

from __future__ import annotations

import datetime as _dt
import re

import pytest
from click.testing import CliRunner

from tests.cdp import Browser, chromium_path
from tests.session_fixtures import build_samples_wh
from tracelab.cli import cli
from tracelab.session.model import Call, SessionNode, Step
from tracelab.session.render_html import render_html

needs_chromium = pytest.mark.skipif(chromium_path() is None, reason="Debian chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    return build_samples_wh(tmp_path_factory)


def _page(wh, tmp_path, sid: str, *extra: str):
    out = tmp_path / f"{sid.replace(':', '_')}.html"
    res = CliRunner().invoke(cli, ["session", sid, "--html", str(out), "-w", str(wh), *extra])
    assert res.exit_code == 0, res.output
    return out


def test_page_is_self_contained(wh, tmp_path):
    text = _page(wh, tmp_path, "0ccf1a04").read_text()
    # no URL the browser would fetch: no src/href to another document, no @import, no url()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", text)
    assert "@import" not in text and "url(" not in text
    assert "default-src 'none'" in text  # and the page forbids any request it might still make
    # every step has its anchor; subagent steps nest under the Task call that started them
    for n in range(1, 52):
        assert f'id="step-{n}"' in text
    assert 'id="step-4-1"' in text and 'id="step-32-4"' in text
    assert text.count('class="sub"') == 5
    assert '<body class="long"' not in text  # a short page is laid out whole


def test_html_into_a_missing_folder_is_written_and_an_unwritable_path_is_one_line(wh, tmp_path):
    out = tmp_path / "new" / "folder" / "page.html"
    res = CliRunner().invoke(cli, ["session", "0ccf1a04", "--html", str(out), "-w", str(wh)])
    assert res.exit_code == 0, res.output
    assert 'id="step-30"' in out.read_text()
    blocker = tmp_path / "a_file"
    blocker.write_text("")  # a regular file where the page's folder should be
    res = CliRunner().invoke(cli, ["session", "0ccf1a04", "--html", str(blocker / "page.html"), "-w", str(wh)])
    assert res.exit_code == 1 and "internal error" not in res.output, res.output
    assert res.stderr.strip() == f"tracelab: cannot write {blocker / 'page.html'}: File exists"


def test_edit_calls_show_a_unified_diff(wh, tmp_path):
    text = _page(wh, tmp_path, "0cf3db51").read_text()
    assert '<pre class="diff">' in text and '<span class="a">' in text and '<span class="d">' in text and '<span class="h">@@' in text


def _big_session(n_steps: int, output_bytes: int) -> SessionNode:
    t0 = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)
    facts = {
        "session_key": "claude:big",
        "session_id": "big",
        "agent": "claude",
        "agent_version": "2.1.0",
        "project": "p",
        "git_branch": "main",
        "cwd": "/p",
        "title": "a long session",
        "models": ["m"],
        "parent_session_key": None,
        "forked_from": None,
        "is_subagent": False,
        "started_at": t0,
        "ended_at": t0 + _dt.timedelta(seconds=n_steps),
        "duration_s": float(n_steps),
        "source_files": ["/x/big.jsonl"],
    }
    out = "x" * output_bytes
    steps = []
    for i in range(1, n_steps + 1):
        ts = t0 + _dt.timedelta(seconds=i)
        if i % 2:
            steps.append(
                Step(
                    n=i,
                    kind="text",
                    ts=ts,
                    offset_s=float(i),
                    summary=f"thinking about {i}",
                    source=f"big.jsonl:{i}",
                    event_key=f"e{i}",
                    text="y" * 3000,
                    text_bytes=3000,
                    call_no=i // 2 + 1,
                    call_tokens=1000,
                )
            )
        else:
            steps.append(
                Step(
                    n=i,
                    kind="tool",
                    ts=ts,
                    offset_s=float(i),
                    summary=f"cat file{i}.txt",
                    source=f"big.jsonl:{i}",
                    event_key=f"e{i}",
                    tool="Bash",
                    tool_call_key=f"k{i}",
                    status="error" if i % 100 == 0 else "ok",
                    highlight="error" if i % 100 == 0 else None,
                    input=f'{{"command": "cat file{i}.txt"}}',
                    input_bytes=30,
                    output=out,
                    output_bytes=output_bytes * 10,
                    exit_code=1 if i % 100 == 0 else 0,
                )
            )
    calls = [
        Call(
            call_no=i,
            ts=t0,
            model="m",
            is_synthetic=False,
            input_tokens=10,
            output_tokens=5,
            cache_read_tokens=1000 * i,
            cache_write_tokens=0,
            latency_ms=100.0 * (i % 7),
            cost_usd=None,
        )
        for i in range(1, n_steps // 2 + 2)
    ]
    return SessionNode(facts=facts, steps=steps, calls=calls)


def test_ten_thousand_steps_stay_under_5_mb():
    page = render_html(_big_session(10_000, 32_768))
    size = len(page.encode())
    assert size <= 5_000_000, size
    assert page.count('class="s k-') == 10_000 and 'id="step-10000"' in page
    # texts were cut, and say so with their full sizes
    assert "output · 327,680 B, first " in page
    assert page.count("s k-tool hl-error") == 100
    assert '<body class="long">' in page  # the browser may skip laying out the steps out of view


@needs_chromium
def test_page_in_headless_chromium(wh, tmp_path):
    page = _page(wh, tmp_path, "0ccf1a04")
    with Browser() as b:
        b.open(page.as_uri())
        assert b.problems() == []
        assert [u for u in b.requests() if not u.startswith(("file:", "data:", "about:"))] == []
        assert b.eval("document.querySelectorAll('.s').length") == 68  # 51 steps + 17 in the five subagents
        # a collapsed tool output opens on a real mouse click on its summary
        box = b.eval(
            "(() => { const d = document.querySelector('#step-30 details.out'); d.scrollIntoView({block: 'center'});"
            " const r = d.querySelector('summary').getBoundingClientRect(); return [d.open, r.x + 10, r.y + r.height / 2]; })()"
        )
        assert box[0] is False
        b.click(box[1], box[2])
        assert b.eval("document.querySelector('#step-30 details.out').open") is True
        assert "No task found with ID" in b.eval("document.querySelector('#step-30 details.out pre').innerText")
        # an anchor scrolls to its step (also one inside a subagent)
        for anchor in ("step-20", "step-32-4", "step-50"):
            b.open(page.as_uri() + "#" + anchor)
            top, y, bottom, view = b.eval(
                f"[document.getElementById('{anchor}').getBoundingClientRect().top, window.scrollY,"
                " document.documentElement.scrollHeight - window.innerHeight, window.innerHeight]"
            )
            # at the top of the window, or (near the end of the page) scrolled as far as it goes with the step in view
            assert y > 0 and (abs(top) < 2 or (y >= bottom - 1 and 0 <= top < view)), (anchor, top, y, bottom)
        assert b.problems() == []


@needs_chromium
def test_big_page_in_headless_chromium(tmp_path):
    page = tmp_path / "big.html"
    page.write_text(render_html(_big_session(10_000, 32_768)), encoding="utf-8")
    with Browser() as b:
        b.open(page.as_uri() + "#step-5000")
        assert b.problems() == []
        assert [u for u in b.requests() if not u.startswith(("file:", "about:"))] == []
        assert b.eval("document.querySelectorAll('.s').length") == 10_000
        assert abs(b.eval("document.getElementById('step-5000').getBoundingClientRect().top")) < 2


#: page geometry of the sample page's layout: the header, the chart, each step's row (page
#: coordinates: getBoundingClientRect plus the scroll offset)
_GEOMETRY_JS = """(() => {
  const box = el => { const r = el.getBoundingClientRect(); return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right}; };
  const rows = [...document.querySelectorAll('main > .s')].map(s => ({id: s.id, ...box(s), row: box(s.querySelector(':scope > p'))}));
  const nested = [...document.querySelectorAll('details.sub .s')].map(s => ({id: s.id, ...box(s)}));
  return {header: box(document.querySelector('header')), h1: box(document.querySelector('h1')), chart: box(document.querySelector('.chart svg')),
          rows, nested, width: document.documentElement.clientWidth, scrollWidth: document.documentElement.scrollWidth,
          lineHeight: parseFloat(getComputedStyle(document.querySelector('.s > p')).lineHeight)};
})()"""


@needs_chromium
def test_page_layout_is_stable_in_headless_chromium(wh, tmp_path):
    """The layout at a fixed 1280x900 viewport, from the DOM's geometry (not fonts or pixels of
    a stored image): the header on top with its title, the chart below it at full width, every
    step one row high, stacked in order without overlap on one left edge, subagent steps
    indented, nothing wider than the window. Screenshots then compare regions within this run:
    two loads of the page render the header and first steps identically, and expanding a tool
    output changes nothing above it while the steps below move down by exactly its height."""
    page = _page(wh, tmp_path, "0ccf1a04")
    with Browser() as b:
        b.viewport(1280, 900)
        b.open(page.as_uri())
        g = b.eval(_GEOMETRY_JS)
        header, rows = g["header"], g["rows"]
        assert abs(header["top"]) < 1 and header["left"] == 0 and header["right"] == g["width"]
        assert header["top"] <= g["h1"]["top"] < g["h1"]["bottom"] <= header["bottom"]
        assert g["chart"]["top"] >= header["bottom"] and g["chart"]["right"] - g["chart"]["left"] >= 0.9 * (g["width"] - 40)
        assert g["scrollWidth"] <= g["width"]  # no horizontal scrolling, however long a summary
        assert [r["id"] for r in rows] == [f"step-{n}" for n in range(1, 52)]
        assert rows[0]["top"] >= g["chart"]["bottom"]
        for prev, r in zip(rows, rows[1:]):
            assert r["top"] >= prev["bottom"] - 0.5, (prev["id"], r["id"])  # in order, no overlap
            assert abs(r["left"] - rows[0]["left"]) < 0.5 and abs(r["right"] - rows[0]["right"]) < 0.5
        for r in rows:  # each step's line stays one line (long summaries are cut with an ellipsis)
            assert r["row"]["bottom"] - r["row"]["top"] < 1.6 * g["lineHeight"], r["id"]
        assert len(g["nested"]) == 17 and all(n["left"] >= rows[0]["left"] + 40 for n in g["nested"])

        # two loads render the header and the first five steps pixel for pixel alike
        region = (0, 0, g["width"], rows[4]["bottom"])
        first = b.screenshot(*region)
        b.open(page.as_uri())
        assert b.screenshot(*region) == first and len(first) > 5_000

        # expanding step 30's output: everything above it unchanged, step 31 moves down by its height
        out = b.eval(
            "(() => { const d = document.querySelector('#step-30 details.out'); const r = d.getBoundingClientRect(); return [r.top + scrollY, r.height]; })()"
        )
        above = (0, 0, g["width"], out[0])
        below = (0, out[0], g["width"], 200)
        before_above, before_below = b.screenshot(*above), b.screenshot(*below)
        top31 = b.eval("document.getElementById('step-31').getBoundingClientRect().top + scrollY")
        b.eval("document.querySelector('#step-30 details.out').open = true")
        grown = b.eval("document.querySelector('#step-30 details.out').getBoundingClientRect().height") - out[1]
        assert grown > 20
        assert b.screenshot(*above) == before_above
        assert b.screenshot(*below) != before_below
        assert abs(b.eval("document.getElementById('step-31').getBoundingClientRect().top + scrollY") - (top31 + grown)) < 0.5

        # in a narrow window (a phone, a split screen) too: one line per step, no sideways scrolling
        b.viewport(480, 900)
        b.open(page.as_uri())
        narrow = b.eval(_GEOMETRY_JS)
        assert narrow["width"] < 480 and narrow["scrollWidth"] <= narrow["width"]
        cut = [r["id"] for r in narrow["rows"] if r["row"]["bottom"] - r["row"]["top"] >= 1.6 * narrow["lineHeight"]]
        assert cut == []
        assert b.problems() == []
