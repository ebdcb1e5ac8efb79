"""``python -m benchmarks run|assemble``: the one-command benchmark and the RESULTS.md assembler.

    python -m benchmarks run [--size 1GB] [--agents claude,codex,pi] [--quick]
    python -m benchmarks assemble      # RESULTS.md from benchmarks/results/*.md, no measuring
    python -m benchmarks render        # re-render the last run's tables from results/harness.json

See ``benchmarks/harness.py`` for what ``run`` measures and how.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from benchmarks import harness as H


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="measure everything, print one table, write benchmarks/RESULTS.md")
    r.add_argument("--size", help="synthetic corpus size for `tracelab synth --size` (default 1GB; --quick 100MB)")
    r.add_argument("--agents", default="claude,codex,pi", help="comma-separated agents (default: all three)")
    r.add_argument("--quick", action="store_true", help="small sizes, one timed query call, pandas only for the core queries")
    r.add_argument("--real-size", help="real-sample corpus size in total (default 500MB; --quick 50MB)")
    r.add_argument("--query-events", help="comma-separated event counts of the query warehouses (default 1M,10M; --quick 50k,500k)")
    r.add_argument("--repeat", type=int, help="timed calls per query after the first (default 3; --quick 1)")
    r.add_argument("--pandas", choices=("all", "core", "none"), help="which queries get the pandas baseline (default all; --quick core)")
    r.add_argument("--work", type=Path, default=H.Options.work, help="scratch directory (default benchmarks/work/harness)")
    r.add_argument("--shared", type=Path, default=H.Options.shared, help="shared samples root (env TRACELAB_SHARED)")
    r.add_argument("--no-demo", action="store_true", help="skip the `make demo` timing")
    r.add_argument("--keep", action="store_true", help="keep corpora and warehouses in --work")
    r.add_argument("--resume", action="store_true", help="skip the steps recorded in WORK/partial.json by an interrupted run")
    sub.add_parser("assemble", help="rebuild benchmarks/RESULTS.md from benchmarks/results/*.md without measuring")
    rn = sub.add_parser("render", help="re-render the last run (benchmarks/results/harness.json) and assemble RESULTS.md")
    rn.add_argument("--note", action="append", default=[], help="add a note about the run (kept in harness.json, shown under it)")
    a = ap.parse_args(argv)
    if a.cmd == "assemble":
        print(H.assemble())
        return 0
    if a.cmd == "render":
        res = json.loads(H.HARNESS_JSON.read_text())
        res.setdefault("notes", []).extend(a.note)
        print(H.write_outputs(res))
        return 0
    o = H.Options(**(H.Options.quick_defaults() if a.quick else {}))
    o.quick = a.quick
    o.command = "python -m benchmarks " + " ".join(shlex.quote(x) for x in argv)
    if a.size:
        o.size = a.size
    if a.real_size:
        o.real_size = a.real_size
    if a.query_events:
        o.query_events = [H.parse_count(x) for x in a.query_events.split(",") if x.strip()]
    if a.repeat is not None:
        o.repeat = a.repeat
    if a.pandas:
        o.pandas = a.pandas
    o.agents = [x.strip() for x in a.agents.split(",") if x.strip()]
    unknown = set(o.agents) - set(H.IB.AGENTS)
    if unknown or not o.agents:
        ap.error(f"--agents: unknown {sorted(unknown)}; choose from {', '.join(H.IB.AGENTS)}")
    o.work, o.shared, o.demo, o.keep, o.resume = a.work, a.shared, not a.no_demo, a.keep, a.resume
    res = H.run(o)
    print(H.write_outputs(res))
    print(f"\nwrote {H.RESULTS_MD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
