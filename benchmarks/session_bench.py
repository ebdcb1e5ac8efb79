"""Benchmark the session views at >= 10M events: `tracelab session`, `tracelab sessions`
(filtered by time and agent, and with --search), the full-scan `tracelab search`, and
`grep -r` over the raw corpus beside them.

Not a test. Usage::

    .venv/bin/python benchmarks/session_bench.py --work /tmp/tl_query_bench     # builds if absent
    .venv/bin/python benchmarks/session_bench.py --work /tmp/tl_query_bench --repeat 5

The warehouse is the query benchmark's (``benchmarks/query_bench.py``: a generated corpus
ingested by tracelab, replicated with fresh keys and shifted dates to ``--target-events``).
Each command runs as a user runs it, ``tracelab …`` in a new process (start-up included),
once to warm up, then ``--repeat`` times; the median wall time is reported. ``grep -r`` runs
over the generated corpus, which holds one replica's worth of raw files (the warehouse is
~N replicas of it), so its time is also shown scaled by the replica count.

Results go to ``benchmarks/results/session.md`` (``--out``).
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
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.query_bench import build_base, build_big  # noqa: E402

TRACELAB = str(Path(sys.executable).with_name("tracelab"))


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], repeat: int) -> tuple[float, float, str]:
    """Median wall time and median CPU time (user + system, all threads) of ``repeat`` runs
    after a warm-up, and the last run's output. On a shared machine the wall time grows with
    the load; the CPU time much less."""
    ok = (0, 1) if cmd[0] == "grep" else (0,)  # grep exits 1 when nothing matches
    subprocess.run(cmd, capture_output=True, text=True, check=False)  # warm-up
    runs, cpus = [], []
    out = ""
    for _ in range(repeat):
        t, c = time.perf_counter(), _children_cpu()
        p = subprocess.run(cmd, capture_output=True, text=True, check=False)
        runs.append(time.perf_counter() - t)
        cpus.append(_children_cpu() - c)
        if p.returncode not in ok:
            raise RuntimeError(f"{cmd}: exit {p.returncode}: {p.stderr[-400:]}")
        out = p.stdout
    return statistics.median(runs), statistics.median(cpus), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/tl_query_bench"))
    ap.add_argument("--sessions", type=int, default=150)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--target-events", type=int, default=10_000_000)
    ap.add_argument("--big", default="big_wh", help="name of the replicated warehouse under --work (built there if absent)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--word", default="ENOENT", help="the word searched")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "session.md")
    ap.add_argument("--only", help="run only the commands whose label starts with this (e.g. 'tracelab session '); the results file is not written")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    base = build_base(args.work, args.sessions, args.seed)
    big = build_big(args.work, base, args.target_events, args.big)
    import tracelab

    con = tracelab.connect(big)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("events", "sessions")}
    # a large main session with subagents, and the busiest agent's last week
    key, steps = con.execute(
        "SELECT s.session_key, s.n_events FROM sessions s WHERE NOT s.is_subagent AND s.n_subagents > 0 ORDER BY s.n_events DESC, s.session_key LIMIT 1"
    ).fetchall()[0]
    agent, last = con.execute("SELECT agent, max(started_at) FROM sessions GROUP BY agent ORDER BY count(*) DESC LIMIT 1").fetchall()[0]
    since = (last - dt.timedelta(days=7)).date().isoformat()
    con.close()
    with tracelab.connect(base) as bcon:
        replicas = round(counts["events"] / bcon.execute("SELECT count(*) FROM events").fetchall()[0][0])
    size = sum(p.stat().st_size for p in big.rglob("*.parquet"))
    w = ["-w", str(big)]
    rows = []
    cases = [
        (f"tracelab session {key} (its {steps} events, subagents nested)", [TRACELAB, "session", key, *w]),
        (f"tracelab session {key} --json", [TRACELAB, "session", key, "--json", *w]),
        # the page goes to a temp dir: the warehouse's directory may be read-only (a shared benchmark warehouse)
        (f"tracelab session {key} --html", [TRACELAB, "session", key, "--html", str(Path(tempfile.mkdtemp(prefix="tl-session-bench-")) / "page.html"), *w]),
        (f"tracelab sessions --since {since} --agent {agent}", [TRACELAB, "sessions", "--since", since, "--agent", agent, *w]),
        (
            f"tracelab sessions --since {since} --agent {agent} --json -n 100000",
            [TRACELAB, "sessions", "--since", since, "--agent", agent, "--json", "-n", "100000", *w],
        ),
        (f"tracelab sessions --search {args.word}", [TRACELAB, "sessions", "--search", args.word, *w]),
        (f"tracelab search {args.word} (full scan)", [TRACELAB, "search", args.word, *w]),
        (
            f"grep -r -c {args.word} over the raw corpus (1/{replicas if replicas else '?'} of the data)",
            ["grep", "-r", "-c", args.word, str(args.work / "corpus")],
        ),
    ]
    if args.only:
        cases = [c for c in cases if c[0].startswith(args.only)]
    for label, cmd in cases:
        secs, cpu, _ = timed(cmd, args.repeat)
        rows.append((label, secs, cpu))
        print(f"{label:90s} {secs:7.3f}s wall {cpu:7.3f}s CPU  (load {os.getloadavg()[0]:.1f})", flush=True)
    load1 = os.getloadavg()[0]
    if args.only:
        return
    import duckdb

    lines = [
        "# Session views benchmark",
        "",
        f"Run finished {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, by `benchmarks/session_bench.py` "
        f"(`--work {args.work} --big {args.big} --target-events {args.target_events} --repeat {args.repeat} --word {args.word}`).",
        "",
        f"* machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, DuckDB {duckdb.__version__}; "
        f"1-minute load average {load0:.1f} at the start and {load1:.1f} at the end (other jobs share the machine)",
        f"* warehouse: {counts['events']:,} events, {counts['sessions']:,} sessions, {size / 1e9:.2f} GB of Parquet (the query benchmark's replicated warehouse)",
        "* each command in a new process as a user runs it (start-up included), median of the timed runs after one warm-up",
        "* CPU = user + system time of the process and all its threads (DuckDB runs 2): less sensitive to the load than the wall time",
        "",
        "| command | wall (s) | CPU (s) | wall <= 1 s |",
        "|---|---:|---:|:---:|",
    ]
    lines += [f"| `{label}` | {secs:.3f} | {cpu:.3f} | {'yes' if secs <= 1 else 'no'} |" for label, secs, cpu in rows]
    lines += [
        "",
        f"`grep -r` over all {replicas} replicas' worth of raw files would take about {rows[-1][1] * replicas:.1f} s (the measured time × {replicas}; estimated, not run).",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
