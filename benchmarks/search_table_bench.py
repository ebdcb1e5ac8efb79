"""``tracelab search WORD`` (the table output, with its ``tracelab session … --around N`` hints),
``--json`` and ``tracelab sessions --search WORD --json``: two builds of tracelab compared,
their runs alternating (A, B, A, B, …) so that a changing machine load hits both alike.

Each run is a fresh process; its wall time and CPU seconds (user + system of the process and
its threads, from ``os.wait4``) are recorded, and the table gives the median and the range of
both. On a loaded machine compare the CPU seconds: the wall time follows the load.

Not a test. Usage::

    python -m benchmarks.search_table_bench --warehouse /tmp/idx/q10b \\
        --a "main=/work/main/.venv/bin/tracelab" --b "branch=.venv/bin/tracelab" --repeat 5

``--a`` / ``--b``: ``NAME=COMMAND`` (the command may hold arguments, split like a shell's).
Writes ``benchmarks/results/search_table.md`` (``--out``) with the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import statistics
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_once(cmd: list[str], cpu: int | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``cmd``, its output thrown away; ``cpu``: pinned to
    that core (its threads share it: on a loaded machine the CPU seconds vary less)."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pin)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {shlex.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime


def _cell(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--a", required=True, help="NAME=COMMAND of the first build (e.g. main)")
    ap.add_argument("--b", required=True, help="NAME=COMMAND of the second build")
    ap.add_argument("--words", default="ENOENT")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cpu", type=int, help="pin every run to this core (both builds alike)")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "search_table.md"))
    args = ap.parse_args(argv)
    builds = [tuple(x.split("=", 1)) for x in (args.a, args.b)]
    cases: list[tuple[str, list[str]]] = []
    for w in args.words.split(","):
        cases += [
            (f"search {w} (table, hints)", ["search", w, "-w", args.warehouse]),
            (f"search {w} --json", ["search", w, "-w", args.warehouse, "--json"]),
            (f"sessions --search {w} --json", ["sessions", "--search", w, "-w", args.warehouse, "--json"]),
        ]
    load_before = os.getloadavg()
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for label, cmd in cases:
        for _name, build in builds:  # one untimed run each: the page cache holds the parts
            run_once([*shlex.split(build), *cmd], args.cpu)
        for _ in range(args.repeat):
            for name, build in builds:
                times.setdefault((label, name), []).append(run_once([*shlex.split(build), *cmd], args.cpu))
        print(label, {n: _cell([c for _, c in times[(label, n)]]) for n, _ in builds}, flush=True)
    load_after = os.getloadavg()
    names = [n for n, _ in builds]
    lines = [
        "# `tracelab search` table output vs --json, `sessions --search --json`",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, warehouse `{args.warehouse}`, {args.repeat} runs per build, "
        f"alternating{f', pinned to core {args.cpu}' if args.cpu is not None else ''}; "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores). "
        "Median (min-max) seconds; CPU = user + system of the process. "
        "Reproduce: `python -m benchmarks.search_table_bench "
        f"--warehouse {args.warehouse} --a '{args.a}' --b '{args.b}' --words {args.words} --repeat {args.repeat}"
        + (f" --cpu {args.cpu}" if args.cpu is not None else "")
        + "`.",
        "",
        "| command | " + " | ".join(f"{n} CPU s | {n} wall s" for n in names) + " | CPU " + f"{names[1]}/{names[0]} |",
        "|---|" + "---:|---:|" * len(names) + "---:|",
    ]
    for label, _ in cases:
        cells = []
        for n in names:
            t = times[(label, n)]
            cells += [_cell([c for _, c in t]), _cell([w for w, _ in t])]
        ratio = statistics.median([c for _, c in times[(label, names[1])]]) / statistics.median([c for _, c in times[(label, names[0])]])
        lines.append(f"| `tracelab {label}` | " + " | ".join(cells) + f" | {ratio:.2f} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
