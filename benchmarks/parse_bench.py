"""CPU seconds of the ingest's parse step alone (adapters, rows → Arrow, staging, line keys,
fingerprints), in one process (jobs=1), alternating this checkout with another Python
environment (``--before-python``, e.g. main's ``.venv/bin/python``) on the same corpus.

    python -m benchmarks.parse_bench CORPUS [--before-python PY] [--repeat 3]

Each run is a fresh child process (``python -I``: it imports the tracelab its interpreter has
installed, not this checkout's) that plans the corpus as a cold ingest would, then runs the
parse workers' batch function over every batch into a scratch warehouse; it reports the CPU
seconds (user + system) of the parse only. Wall time is printed too but is noise on a shared
machine: compare CPU, and quote the load average printed with each run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, os, resource, sys, time
import tracelab
from tracelab.ingest import registry
from tracelab.ingest.parse import BatchJob, _parse_batch, batches
from tracelab.ingest.plan import make_plan
from tracelab.ingest.summary import IngestSummary
corpus, wh = sys.argv[1], sys.argv[2]
os.makedirs(wh, exist_ok=True)
plan = make_plan([corpus], None, {}, None, IngestSummary(warehouse=wh))
for ad in registry.adapters().values():
    if ad.begin is not None:
        ad.begin()
groups = batches(plan.tasks, 1)
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
files = sum(len(_parse_batch(BatchJob(g, wh, f"bench-w{i:05d}", None)).files) for i, g in enumerate(groups))
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({"files": files, "cpu_s": round(cpu, 3), "wall_s": round(time.perf_counter() - t0, 3), "load": round(os.getloadavg()[0], 2), "tracelab": os.path.dirname(tracelab.__file__)}))
"""


def run_once(python: str, corpus: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="parse_bench_") as tmp:
        out = subprocess.run([python, "-I", "-c", _CHILD, corpus, os.path.join(tmp, "wh")], check=True, capture_output=True, text=True, cwd=tmp)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--before-python", help="interpreter of the 'before' side (another checkout's venv)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    sides = [("before", args.before_python)] if args.before_python else []
    sides.append(("after", sys.executable))
    cpu: dict[str, list[float]] = {name: [] for name, _ in sides}
    for i in range(args.repeat):
        for name, python in sides:
            r = run_once(python, args.corpus)
            cpu[name].append(r["cpu_s"])
            print(f"round {i + 1} {name}: cpu {r['cpu_s']:.2f} s, wall {r['wall_s']:.2f} s, load {r['load']}, files {r['files']}, {r['tracelab']}", flush=True)
    for name, values in cpu.items():
        print(f"{name}: cpu min {min(values):.2f} s, median {statistics.median(values):.2f} s over {len(values)} runs")


if __name__ == "__main__":
    main()
