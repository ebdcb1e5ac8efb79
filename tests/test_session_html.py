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
