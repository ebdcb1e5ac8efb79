"""Benchmark ``tracelab suggest``: accuracy on planted truth (3 seeds) and time on 1M events.

Not a test. Usage::

    .venv/bin/python -m benchmarks.suggest_bench --work /tmp/tl_suggest            # both parts
    .venv/bin/python -m benchmarks.suggest_bench --work /tmp/tl_suggest --no-timing

Accuracy
    For each seed, ``tracelab synth --plant`` writes a corpus (``--sessions`` ordinary sessions
    per agent + ``--plant-sessions`` planted ones), the real ingest builds a warehouse, and
    ``tracelab.suggest`` runs on it. :func:`tracelab.suggest.measure.score` compares the
    suggestions in the planted project with ``truth.json["planted"]``: precision and recall of
    the permission rules and instruction rules, allow rules broader than planted, and the
    out-of-time verdict of the pattern that stops halfway.

Timing
    A planted corpus is ingested (with its failure tables) and replicated to at least
    ``--target-events`` events with ``benchmarks/query_bench.build_big`` (fresh keys per
    replica, timestamps moved (i mod 13) weeks); the failure tables are then rebuilt on the big
    warehouse (``tracelab.failures.api.build``). ``tracelab suggest --json`` runs ``--repeat``
    times in a fresh process each; the median wall time is reported (interpreter start included).

Results go to ``benchmarks/results/suggest.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "suggest.md"


def _git() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.1f} GiB RAM; {platform.system()} {platform.release()} {platform.machine()}; Python {platform.python_version()}"


def _corpus(work: Path, seed: int, sessions: int, plant_sessions: int) -> tuple[Path, dict]:
    from tracelab.pipeline import ingest
    from tracelab.synth import Truth, generate

    corpus, wh = work / f"corpus{seed}", work / f"wh{seed}"
    if not (wh / "_snapshot.json").exists():
        generate(corpus, sessions=sessions, seed=seed, plant=True, plant_sessions=plant_sessions, overwrite=True)
        summary = ingest([str(corpus / a) for a in ("claude", "codex", "pi")], wh)
        if summary.files_failed:
            raise SystemExit(f"ingest failed: {summary.errors}")
    return wh, Truth.load(corpus / "truth.json")


def accuracy(work: Path, seeds: list[int], sessions: int, plant_sessions: int) -> list[dict]:
    import tracelab
    from tracelab.suggest import measure

    rows = []
    for seed in seeds:
        wh, truth = _corpus(work, seed, sessions, plant_sessions)
        t = time.perf_counter()
        df = tracelab.suggest(wh)
        secs = time.perf_counter() - t
        s = measure.score(df, truth["planted"])
        rows.append({"seed": seed, "suggestions": df.height, "seconds": secs, **s})
        p, i = s["permission"], s["instruction"]
        print(
            f"seed {seed}: permission P={p['precision']:.2f} R={p['recall']:.2f}  instruction P={i['precision']:.2f} R={i['recall']:.2f}"
            f"  broader={len(s['broader_allow'])}  oot={s['oot']}",
            flush=True,
        )
    return rows


def timing(work: Path, target_events: int, repeat: int) -> dict:
    from benchmarks.query_bench import build_big
    from tracelab.failures import api as failures

    base, _truth = _corpus(work, 11, 40, 32)
    big = build_big(work, base, target_events)
    import tracelab

    con = tracelab.connect(big)
    n_events, n_calls = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("events", "tool_calls"))  # type: ignore[index]
    n_members = con.execute("SELECT count(*) FROM failure_members").fetchone()[0]  # type: ignore[index]
    con.close()
    if not n_members:
        t = time.perf_counter()
        failures.build(big)
        print(f"failure tables built in {time.perf_counter() - t:.1f}s", flush=True)
    walls, cpus, loads = [], [], []
    for _ in range(repeat):
        loads.append(os.getloadavg()[0])
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "tracelab", "suggest", "-w", str(big), "--json"], capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        if out.returncode:
            raise SystemExit(out.stderr)
    import json

    n = len(json.loads(out.stdout))
    print(
        f"tracelab suggest on {n_events:,} events / {n_calls:,} tool calls: median wall {statistics.median(walls):.2f}s,"
        f" CPU {statistics.median(cpus):.2f}s, load {loads} ({n} suggestions)",
        flush=True,
    )
    return {
        "events": n_events,
        "tool_calls": n_calls,
        "walls": walls,
        "cpus": cpus,
        "loads": loads,
        "median": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "suggestions": n,
    }


def write(args: argparse.Namespace, acc: list[dict], tim: dict | None) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# `tracelab suggest`",
        "",
        f"- date: {now}; machine: {_machine()}",
        f"- command: `python -m benchmarks.suggest_bench --work {args.work} --sessions {args.sessions} --plant-sessions {args.plant_sessions}"
        f" --target-events {args.target_events}`; code: commit `{_git()}`",
        '- accuracy: suggestions in the planted project scored against `truth.json["planted"]` (`tracelab/suggest/measure.py`);'
        " target ≥ 0.9 precision and recall for permission and instruction rules, no allow rule broader than planted",
        "",
        "| seed | suggestions | permission P | permission R | instruction P | instruction R | broader allow rules | halfway pattern out of time | suggest s |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in acc:
        p, i = r["permission"], r["instruction"]
        lines.append(
            f"| {r['seed']} | {r['suggestions']} | {p['precision']:.2f} | {p['recall']:.2f} | {i['precision']:.2f} | {i['recall']:.2f} | {len(r['broader_allow'])}"
            f" | {r['oot'].get('instr-uv-ruff-format')} | {r['seconds']:.2f} |"
        )
    if tim is not None:
        lines += [
            "",
            f"Timing (target ≤ 10 s): `tracelab suggest --json` on a warehouse of {tim['events']:,} events and {tim['tool_calls']:,} tool calls"
            f" (planted corpus replicated with `benchmarks/query_bench.build_big`, failure tables rebuilt), one fresh process per run:"
            f" median **{tim['median']:.2f} s** wall of {len(tim['walls'])} ({', '.join(f'{w:.2f}' for w in tim['walls'])}),"
            f" median CPU {tim['cpu']:.2f} s (user + system of the process, DuckDB threads included; {', '.join(f'{c:.2f}' for c in tim['cpus'])});"
            f" 1-minute load average before each run {', '.join(f'{x:.1f}' for x in tim['loads'])} on {os.cpu_count()} cores; {tim['suggestions']} suggestions.",
        ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/tl_suggest_bench"))
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--sessions", type=int, default=20, help="ordinary main sessions per agent")
    ap.add_argument("--plant-sessions", type=int, default=32)
    ap.add_argument("--target-events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--no-accuracy", action="store_true", help="timing only (keeps the accuracy rows of an earlier results file out)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    acc = [] if args.no_accuracy else accuracy(args.work, [int(s) for s in args.seeds.split(",")], args.sessions, args.plant_sessions)
    tim = None if args.no_timing else timing(args.work, args.target_events, args.repeat)
    if not args.no_write:
        write(args, acc, tim)


if __name__ == "__main__":
    main()
