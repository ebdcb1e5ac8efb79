"""Full-text search benchmark: ``tracelab search`` against grep over the raw session files.

    python -m benchmarks.search_bench [--size 1GB] [--work DIR] [--repeat 3]

Writes a ``tracelab synth`` corpus of ``--size`` (seed 0) and ingests it; the real shared
samples (``../shared/samples``) are ingested too when present. For each pattern (a frequent
word, a rare phrase, a regular expression) it times, as fresh processes measured like the
ingest benchmark (:func:`benchmarks.ingest_bench.measure`; median of ``--repeat``):

* ``tracelab search PATTERN --json -n 50`` (``-E`` for the regex): interpreter start, catalog,
  the scan of every stored text and tool input, the 50 newest matches;
* baseline, what people do today: ``grep -r -c -i`` (``-E`` for the regex) over the raw JSONL
  files of the same corpus, counting matching lines.

The two count different things (events whose text matches vs. raw lines that contain the
bytes, JSON escapes and all), so both counts are shown and no equality is claimed. Results go
to ``benchmarks/results/search.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

from benchmarks import ingest_bench as IB
from benchmarks.refresh_bench import _commit, _roots, _synth

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "search.md"
PY = sys.executable

#: (label, pattern, regex?)
PATTERNS = [
    ("frequent word", "error", False),
    ("rare phrase", "permission denied", False),
    ("regex", "exit (code|status):? [1-9]", True),
]


def _median(runs: list[IB.Measured]) -> IB.Measured:
    return sorted(runs, key=lambda m: m.wall_s)[len(runs) // 2]


def _measure_corpus(name: str, roots: list[Path], wh: Path, repeat: int) -> dict:
    nbytes = IB.input_bytes(roots)
    print(f"{name}: ingest {nbytes / 1e6:.0f} MB …", flush=True)
    ing = IB.measure([PY, "-m", "tracelab", "ingest", *map(str, roots), "--warehouse", str(wh), "--json", "--quiet"])
    events = json.loads(ing.stdout)["rows"]["events"]
    rows = []
    for label, pattern, regex in PATTERNS:
        argv = [PY, "-m", "tracelab", "search", pattern, "--warehouse", str(wh), "--json", "-n", "50"] + (["-E"] if regex else [])
        ours = [IB.measure(argv) for _ in range(repeat)]
        hits = json.loads(ours[0].stdout)
        total = hits[0]["total_matches"] if hits else 0
        grep = ["grep", "-r", "-c", "-i"] + (["-E"] if regex else ["-F"]) + ["--", pattern, *map(str, roots)]
        theirs = [IB.measure(grep, check=False) for _ in range(repeat)]
        lines = sum(int(x.rsplit(":", 1)[1]) for x in theirs[0].stdout.splitlines() if ":" in x)
        o, g = _median(ours), _median(theirs)
        rows.append({"label": label, "pattern": pattern, "regex": regex, "events": total, "ours": o.brief(), "grep_lines": lines, "grep": g.brief()})
        print(f"  {label}: tracelab {o.wall_s:.2f} s ({total} events), grep {g.wall_s:.2f} s ({lines} lines)", flush=True)
    return {"name": name, "mb": nbytes / 1e6, "events": events, "rows": rows}


def run(size: str, work: Path, repeat: int, shared: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    print(f"synth {size} …", flush=True)
    _synth(corpus, size, 0)
    out = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": IB.machine(),
        "command": f"python -m benchmarks.search_bench --size {size} --repeat {repeat}",
        "commit": _commit(),
        "corpora": [],
    }
    out["corpora"].append(_measure_corpus(f"synthetic {size}", _roots(corpus), work / "wh_synth", repeat))
    samples = [shared / d for d in ("claude-code", "codex", "pi") if (shared / d).is_dir()]
    if samples:
        out["corpora"].append(_measure_corpus("real shared samples", samples, work / "wh_real", repeat))
    shutil.rmtree(work, ignore_errors=True)
    return out


def write(r: dict, path: Path = RESULTS) -> Path:
    m = r["machine"]
    lines = [
        "# Full-text search (`benchmarks/search_bench.py`)",
        "",
        f"- date: {r['date']}; machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; {m['os']}; Python {m['python']}",
        f"- command: `{r['command']}`; code: commit `{r.get('commit', 'unknown')}`",
        "- each cell: one fresh process (interpreter start included), median of the repeats; `tracelab search PATTERN --json -n 50` "
        "scans every stored text and tool input of the warehouse; the baseline `grep -r -c -i` (`-F`, or `-E` for the regex) reads "
        "the raw JSONL files of the same corpus. tracelab counts matching events, grep matching raw lines (JSON escapes, "
        "copies in resumed/forked files and non-text fields included), so the counts differ by design.",
        "",
        "| corpus | pattern | tracelab wall s (CPU s) | events found | grep wall s (CPU s) | lines found | ratio grep ÷ tracelab |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for c in r["corpora"]:
        for row in c["rows"]:
            o, g = row["ours"], row["grep"]
            pat = f"`{row['pattern']}`".replace("|", "\\|") + (" (regex)" if row["regex"] else "")
            lines.append(
                f"| {c['name']}: {c['mb']:,.0f} MB, {c['events']:,} events | {row['label']}: {pat} | {o['wall_s']:.2f} ({o['cpu_s']:.2f}) | "
                f"{row['events']:,} | {g['wall_s']:.2f} ({g['cpu_s']:.2f}) | {row['grep_lines']:,} | {g['wall_s'] / o['wall_s']:.2f}× |"
            )
    lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    path.with_suffix(".json").write_text(json.dumps(r, indent=1))
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1GB", help="synthetic corpus size (default 1GB)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per cell (median reported)")
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "search", help="scratch directory (deleted after)")
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("TRACELAB_SHARED", REPO.parent / "shared")) / "samples")
    a = ap.parse_args(argv)
    r = run(a.size, a.work, a.repeat, a.shared)
    print(write(r).read_text())
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
