"""Orchestration: run generator tasks (in worker processes), merge their ground truth in
task order, stream ``truth_failures.jsonl`` and write ``truth.json``.

Determinism
-----------
Task ``k`` is agent ``agents[k % len(agents)]`` with per-agent index ``k // len(agents)``;
its RNG is seeded from ``(seed, agent, index)`` only. Tasks write disjoint files, and results
are consumed strictly in task order, so the output is byte-identical for any ``jobs``.

Size mode
---------
With ``size_bytes`` the task stream is unbounded; the parent counts bytes of finished tasks
in order and stops at the first task that reaches the target. Tasks already running past
that point (at most ``2 * jobs``) are discarded and their files deleted, so the kept set of
tasks does not depend on ``jobs`` either.

Memory stays bounded: a worker holds one conversation at a time, at most ``2 * jobs`` results
are in flight, and the parent keeps only counters plus the latency samples needed for exact
percentiles (a few MB per GB of output).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from . import claude, codex, pi, planted
from .behaviour import Window
from .ids import date_to_ms
from .stats import TaskStats
from .truth import Truth, TruthBuilder

DEFAULT_SESSIONS = 60
DEFAULT_START = dt.date(2026, 10, 5)
DEFAULT_MALFORMED_RATE = 0.001
AGENT_ORDER = ("claude", "codex", "pi")
_GENERATORS: dict[str, Callable[..., TaskStats]] = {"claude": claude.generate, "codex": codex.generate, "pi": pi.generate}
_OUTPUTS = ("claude", "codex", "pi", "truth.json", "truth_failures.jsonl")

TaskArgs = tuple[str, str, int, int, int, int, float]


def _run_task(args: TaskArgs) -> TaskStats:
    root, agent, index, seed, start_ms, weeks, rate = args
    if agent.startswith(planted.AGENT_KEY):  # "claude-planted/<n>": planted session index of n
        n = int(agent.split("/", 1)[1])
        return planted.generate(Path(root), index, n, seed, Window(start_ms, weeks), rate)
    return _GENERATORS[agent](Path(root), index, seed, Window(start_ms, weeks), rate)


_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """``"2GB"`` -> 2_000_000_000 (decimal units; ``GiB`` etc. are binary)."""
    s = text.strip().upper().replace(" ", "")
    i = len(s)
    while i and not s[i - 1].isdigit() and s[i - 1] != ".":
        i -= 1
    number, unit = s[:i], s[i:]
    if unit not in _SIZE_UNITS or not number:
        raise ValueError(f"cannot parse size {text!r}; use e.g. 500MB, 2GB, 1.5GiB")
    return int(float(number) * _SIZE_UNITS[unit])


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out} exists and is not a directory")
        existing = [p for p in out.iterdir()]
        ours = [p for p in existing if p.name in _OUTPUTS]
        foreign = [p for p in existing if p.name not in _OUTPUTS]
        if ours and not overwrite:
            raise FileExistsError(f"{out} already holds a synthetic corpus; pass overwrite=True (--overwrite) to replace it")
        if foreign and not overwrite:
            raise FileExistsError(f"{out} is not empty")
        for p in ours:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _discard(root: Path, st: TaskStats) -> None:
    dirs = set()
    for rel in [f[0] for f in st.files] + [m[0] for m in st.meta_files]:
        p = root / rel
        p.unlink(missing_ok=True)
        dirs.add(p.parent)
    for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        while d != root and d.is_dir() and not any(d.iterdir()):
            d.rmdir()
            d = d.parent


def generate(
    out_dir: str | Path,
    *,
    agents: tuple[str, ...] | list[str] = AGENT_ORDER,
    sessions: int | None = None,
    size_bytes: int | None = None,
    seed: int = 0,
    start: dt.date = DEFAULT_START,
    weeks: int = 4,
    malformed_rate: float = DEFAULT_MALFORMED_RATE,
    jobs: int | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    plant: bool = False,
    plant_sessions: int = planted.DEFAULT_PLANT_SESSIONS,
) -> Truth:
    """Write a synthetic corpus under ``out_dir`` and return its ground truth.

    ``out_dir/claude`` works as ``CLAUDE_CONFIG_DIR``, ``out_dir/codex`` as ``CODEX_HOME`` and
    ``out_dir/pi`` as ``PI_AGENT_DIR``. ``out_dir/truth.json`` and ``out_dir/truth_failures.jsonl``
    hold the ground truth (see ``tracelab/synth/README.md``).

    ``sessions`` is the number of main sessions per agent (default 60); ``size_bytes`` instead
    generates until the corpus reaches that many bytes. ``progress(bytes, tasks)`` is called
    after each kept task.

    ``plant=True`` adds ``plant_sessions`` scripted Claude Code sessions in one extra project
    with known permission, instruction and loop patterns (``truth["planted"]``, see
    ``planted.py``); the ordinary sessions are unchanged by it.
    """
    unknown = set(agents) - set(AGENT_ORDER)
    agents = tuple(a for a in AGENT_ORDER if a in set(agents))
    if not agents or unknown:
        raise ValueError(f"agents must be a non-empty subset of {AGENT_ORDER}, got unknown {sorted(unknown)}")
    if sessions is not None and size_bytes is not None:
        raise ValueError("give either sessions or size_bytes, not both")
    if sessions is None and size_bytes is None:
        sessions = DEFAULT_SESSIONS
    if sessions is not None and sessions < 1:
        raise ValueError("sessions must be >= 1")
    if size_bytes is not None and size_bytes < 1:
        raise ValueError("size_bytes must be >= 1")
    if start.weekday() != 0:
        raise ValueError(f"start must be a Monday, got {start.isoformat()} ({start.strftime('%A')})")
    if weeks < 1:
        raise ValueError("weeks must be >= 1")
    if not 0.0 <= malformed_rate < 0.5:
        raise ValueError("malformed_rate must be in [0, 0.5)")
    if plant and "claude" not in agents:
        raise ValueError("plant needs the claude agent (the planted sessions are Claude Code sessions)")
    if plant and size_bytes is not None:
        raise ValueError("plant works with sessions, not size_bytes")
    if plant and plant_sessions < 1:
        raise ValueError("plant_sessions must be >= 1")
    jobs = max(1, jobs if jobs is not None else min(2, os.cpu_count() or 1))

    out = Path(out_dir)
    _prepare(out, overwrite)
    root = out.resolve()
    start_ms = date_to_ms(start)
    args: dict[str, Any] = {
        "agents": list(agents),
        "sessions": sessions,
        "size_bytes": size_bytes,
        "start": start.isoformat(),
        "weeks": weeks,
        "malformed_rate": malformed_rate,
    }
    if plant:
        args["plant_sessions"] = plant_sessions
    builder = TruthBuilder(seed=seed, args=args, agents=agents, start_ms=start_ms, weeks=weeks)

    def tasks() -> Iterator[TaskArgs]:
        k = 0
        while sessions is None or k < sessions * len(agents):
            yield (str(root), agents[k % len(agents)], k // len(agents), seed, start_ms, weeks, malformed_rate)
            k += 1
        if plant:
            for i in range(plant_sessions):
                yield (str(root), f"{planted.AGENT_KEY}/{plant_sessions}", i, seed, start_ms, weeks, malformed_rate)

    done_bytes = 0
    with (out / "truth_failures.jsonl").open("wb") as failures:

        def consume(st: TaskStats) -> bool:
            nonlocal done_bytes
            builder.add(st)
            for rec in st.failures:
                failures.write(orjson.dumps(rec) + b"\n")
            done_bytes += st.bytes
            if progress is not None:
                progress(done_bytes, builder.tasks)
            return size_bytes is not None and done_bytes >= size_bytes

        if jobs == 1:
            for t in tasks():
                if consume(_run_task(t)):
                    break
        else:
            # never plain fork: the caller may hold threads (DuckDB, a test runner), and a forked
            # child of a threaded process can deadlock on a lock some other thread held
            method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
            with mp.get_context(method).Pool(jobs) as pool:
                pending: deque[Any] = deque()
                it = tasks()
                stop = False
                exhausted = False
                while True:
                    while not stop and not exhausted and len(pending) < 2 * jobs:
                        nxt = next(it, None)
                        if nxt is None:
                            exhausted = True
                            break
                        pending.append(pool.apply_async(_run_task, (nxt,)))
                    if not pending:
                        break
                    st = pending.popleft().get()
                    if stop:
                        _discard(root, st)
                    elif consume(st):
                        stop = True
    truth = builder.build(planted=plant)
    (out / "truth.json").write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return truth
