"""Benchmark the HTML session page of a 10,000-step session in headless Chromium: the file's
size and how long the browser takes to load and lay it out (target: <= 5 MB, <= 2 s).

Not a test. Usage::

    .venv/bin/python -m benchmarks.session_page_bench                 # 10,000 steps, 5 loads
    .venv/bin/python -m benchmarks.session_page_bench --steps 20000 --repeat 3

The session is built in memory (:class:`tracelab.session.model.SessionNode`): alternately a
model text of 3,000 bytes and a shell call whose output is 32 KiB (its recorded size 320 KiB),
one failing call in 100, one LLM call per two steps; the page is rendered by
:func:`tracelab.session.render_html.render_html` as ``tracelab session --html`` does (texts
are capped so that the page stays under its budget). Each load is timed from navigation to
two animation frames after the load event (the page is laid out and painted), in a fresh
document, and also read from the page's own Navigation Timing (``domContentLoadedEventEnd``,
``loadEventEnd``). Debian's ``chromium`` is driven over the DevTools protocol
(``tests/cdp.py``).

Results go to ``benchmarks/results/session_page.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cdp import Browser, chromium_path  # noqa: E402
from tracelab.session.model import Call, SessionNode, Step  # noqa: E402
from tracelab.session.render_html import render_html  # noqa: E402

#: two frames after the load event: layout and first paint of the whole document are done
_PAINTED = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


def big_session(n_steps: int, output_bytes: int = 32_768) -> SessionNode:
    """A session of ``n_steps`` steps (see the module docstring)."""
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    facts = {
        "session_key": "claude:bench",
        "session_id": "bench",
        "agent": "claude",
        "agent_version": "2.1.0",
        "project": "bench",
        "git_branch": "main",
        "cwd": "/bench",
        "title": f"a session of {n_steps:,} steps",
        "models": ["claude-sonnet-4-5"],
        "parent_session_key": None,
        "forked_from": None,
        "is_subagent": False,
        "started_at": t0,
        "ended_at": t0 + dt.timedelta(seconds=n_steps),
        "duration_s": float(n_steps),
        "source_files": ["/bench/bench.jsonl"],
    }
    steps = []
    for i in range(1, n_steps + 1):
        ts = t0 + dt.timedelta(seconds=i)
        common = dict(n=i, ts=ts, offset_s=float(i), source=f"bench.jsonl:{i}", event_key=f"e{i}")
        if i % 2:
            steps.append(
                Step(
                    kind="text",
                    summary=f"looking at part {i}",
                    text=f"part {i}: " + "y" * 3000,
                    text_bytes=3010,
                    call_no=i // 2 + 1,
                    call_tokens=1000,
                    **common,
                )
            )
        else:
            failed = i % 100 == 0
            steps.append(
                Step(
                    kind="tool",
                    summary=f"cat file{i}.txt",
                    tool="Bash",
                    tool_call_key=f"k{i}",
                    status="error" if failed else "ok",
                    highlight="error" if failed else None,
                    exit_code=1 if failed else 0,
                    latency_ms=120.0,
                    input=f'{{"command": "cat file{i}.txt"}}',
                    input_bytes=30,
                    output="x" * output_bytes,
                    output_bytes=output_bytes * 10,
                    **common,
                )
            )
    calls = [
        Call(
            call_no=c,
            ts=t0 + dt.timedelta(seconds=2 * c),
            model="claude-sonnet-4-5",
            is_synthetic=False,
            input_tokens=10,
            output_tokens=50,
            cache_read_tokens=1000 * c,
            cache_write_tokens=200,
            latency_ms=800.0 + 100 * (c % 7),
            cost_usd=None,
        )
        for c in range(1, n_steps // 2 + 2)
    ]
    return SessionNode(facts=facts, steps=steps, calls=calls)


def chromium_version() -> str:
    exe = chromium_path()
    if not exe:
        return "?"
    return subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout.strip() or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5, help="timed loads (after one warm-up load)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "session_page.md")
    args = ap.parse_args()
    if chromium_path() is None:
        sys.exit("chromium is not installed (Debian: apt-get install -y chromium)")
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    page = render_html(big_session(args.steps))
    render_s = time.perf_counter() - t
    path = Path(tempfile.mkdtemp(prefix="tl-page-bench-")) / "session.html"
    path.write_text(page, encoding="utf-8")
    size = path.stat().st_size
    walls, dcl, loaded = [], [], []
    with Browser() as b:
        b.viewport(1280, 900)
        for i in range(args.repeat + 1):
            b.open("about:blank")
            t = time.perf_counter()
            b.open(path.as_uri())
            b.eval(_PAINTED)
            wall = time.perf_counter() - t
            nav = b.eval("(() => { const n = performance.getEntriesByType('navigation')[0]; return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()")
            steps = b.eval("document.querySelectorAll('.s').length")
            assert steps == args.steps and b.problems() == [], (steps, b.problems())
            if i:  # the first load warms the browser's caches
                walls.append(wall)
                dcl.append(nav[0] / 1000)
                loaded.append(nav[1] / 1000)
            print(f"load {i}: {wall:.3f} s to painted (DOMContentLoaded {nav[0] / 1000:.3f} s, load {nav[1] / 1000:.3f} s)", flush=True)
    load1 = os.getloadavg()[0]
    med = statistics.median(walls)
    lines = [
        "# Session page in the browser (`benchmarks/session_page_bench.py`)",
        "",
        f"Run finished {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: `python -m benchmarks.session_page_bench --steps {args.steps} --repeat {args.repeat}`.",
        "",
        f"* machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {chromium_version()} (headless, 1280x900);"
        f" 1-minute load average {load0:.1f} at the start and {load1:.1f} at the end (other jobs share the machine)",
        f"* session: {args.steps:,} steps (model texts of 3,000 B and shell calls with 32 KiB outputs recorded as 320 KiB, 1 in 100 failing),"
        f" {args.steps // 2 + 1:,} LLM calls; page rendered by `render_html` in {render_s:.2f} s",
        "* load time: navigation to two animation frames after the load event (laid out and painted), median of the timed loads after a warm-up;"
        " the page's own Navigation Timing beside it",
        "",
        "| measure | value | target | met? |",
        "|---|---:|---|---|",
        f"| page size | {size / 1e6:.2f} MB ({size:,} bytes) | <= 5 MB | {'**met**' if size <= 5_000_000 else '**not met**'} |",
        f"| load to painted (median of {len(walls)}) | {med:.3f} s (runs: {', '.join(f'{w:.3f}' for w in walls)}) | <= 2 s | {'**met**' if med <= 2 else '**not met**'} |",
        f"| DOMContentLoaded / load event (median) | {statistics.median(dcl):.3f} s / {statistics.median(loaded):.3f} s |  |  |",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"{size:,} bytes; median {med:.3f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
