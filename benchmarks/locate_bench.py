"""Benchmark the ``tracelab session KEY --around N`` hints of ``tracelab search`` (issue #16):
the search alone, then the hint step (:func:`tracelab.session.locate.locate_steps`) for its
hits, with the hits' sessions given (what ``search``, ``failures show`` and the report do)
and, with ``--by-key``, looked up by event key (the list scan of ``events`` the hints used
to start with).

Not a test. Usage::

    .venv/bin/python benchmarks/locate_bench.py -w /work/bench/q10m/big_wh ENOENT
    .venv/bin/python benchmarks/locate_bench.py -w WH ENOENT --no-index --by-key

Prints wall and CPU seconds (process CPU, all threads) of each step; the warehouse is only read.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _timed(label: str, fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    print(f"{label:<40} wall {time.perf_counter() - t:7.2f} s   cpu {time.process_time() - c:7.2f} s", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    from tracelab.fulltext import search_table
    from tracelab.session.locate import locate_steps
    from tracelab.store.connection import Store

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pattern")
    ap.add_argument("-w", "--warehouse", required=True)
    ap.add_argument("-n", "--limit", type=int, default=50, help="hits (the search command's default: 50)")
    ap.add_argument("--no-index", action="store_true", help="full-scan search")
    ap.add_argument("--by-key", action="store_true", help="also time the hints looked up by event key only")
    a = ap.parse_args(argv)
    table = _timed("search", lambda: search_table(a.pattern, a.warehouse, limit=a.limit, use_index=not a.no_index))
    keys = table.column("event_key").to_pylist()
    sessions = dict(zip(keys, table.column("session_key").to_pylist()))
    print(f"{len(keys)} hits in {len(set(sessions.values()))} sessions")
    with Store(a.warehouse) as store:
        got = _timed("hints (sessions given)", lambda: locate_steps(store.con, keys, sessions))
        if a.by_key:
            slow = _timed("hints (by event key: list scan)", lambda: locate_steps(store.con, keys))
            assert slow == got
    print(f"{len(got)} hints")


if __name__ == "__main__":
    main()
