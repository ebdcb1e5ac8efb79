"""Command start-up: how long a fresh ``tracelab`` process takes for a trivial answer.

    python -m benchmarks.startup_bench [--repeat 10] [--shared ../shared]

Builds a warehouse from every real sample in ``SHARED/samples`` once, then times fresh processes
(interpreter start included) of ``tracelab --help``, ``tracelab sql "select 1"``, ``tracelab
info`` and ``tracelab session ID`` (the top-level session of median size) against it, the median
of ``--repeat`` runs each, wall and CPU seconds. The baseline is the DuckDB CLI
(``duckdb -c "select 1"``) when it is on PATH, else ``python -c "import duckdb; ..."`` (what any
DuckDB-based tool pays at least). Target: warehouse commands in at most 0.3 s. Writes
``benchmarks/results/startup.md`` and re-assembles ``benchmarks/RESULTS.md``.

The processes run with Python bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed, the
cache under ``--work``/pycache through ``PYTHONPYCACHEPREFIX``): as after ``pip install``, which
compiles every module; the untimed warm-up run writes the cache.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import harness as H
from benchmarks import ingest_bench as IB
from benchmarks.refresh_bench import _commit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "startup.md"
TARGET_S = 0.3
PY = sys.executable


def _once(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one fresh process; fails loudly if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # cwd: not the repository, whose tracelab/ `python -m` would import ahead of PYTHONPATH (--before)
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _stats(runs: list[tuple[float, float]]) -> dict:
    return {
        "wall": statistics.median(w for w, _ in runs),
        "wall_min": min(w for w, _ in runs),
        "cpu": statistics.median(c for _, c in runs),
        "runs": len(runs),
    }


def _interleaved(jobs: list[tuple[list[str], dict[str, str]]], repeat: int) -> list[dict]:
    """Medians of each (argv, env) job, their runs alternating (A, B, C, A, B, C …) so that all
    see the same load; one untimed warm-up each (OS file cache, bytecode cache)."""
    for argv, env in jobs:
        _once(argv, env)
    runs: list[list[tuple[float, float]]] = [[] for _ in jobs]
    for _ in range(repeat):
        for i, (argv, env) in enumerate(jobs):
            runs[i].append(_once(argv, env))
    return [_stats(r) for r in runs]


def _code_at(ref: str, work: Path) -> Path:
    """A directory holding git ``ref``'s ``tracelab`` package (``queries/`` as ``tracelab.queries``,
    as installed), to put first on PYTHONPATH: the code to compare against."""
    sha = _short(ref)
    out = work / f"code-{sha}"
    if not (out / "tracelab" / "queries").is_dir():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "--format=tar", sha, "tracelab", "queries"], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
        (out / "queries").rename(out / "tracelab" / "queries")
    return out


def run(repeat: int, shared: Path, work: Path, before: str | None = None) -> dict:
    tracelab = [PY, "-m", "tracelab"]
    wh = work / "samples-warehouse"
    # as today's ingest writes it: a warehouse from before the per-part counts (`tracelab info`'s) is rebuilt
    if not (wh / "_snapshot.json").exists() or not (wh / "_part_stats.json").exists():
        shutil.rmtree(wh, ignore_errors=True)
        subprocess.run([*tracelab, "ingest", str(shared / "samples"), "-w", str(wh), "-q"], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    session = _median_session(tracelab, wh)
    duckdb_cli = shutil.which("duckdb")
    baseline = [duckdb_cli, "-c", "select 1"] if duckdb_cli else [PY, "-c", "import duckdb; duckdb.connect().execute('select 1').fetchall()"]
    cases = {
        "tracelab --help": [*tracelab, "--help"],
        'tracelab sql "select 1"': [*tracelab, "sql", "select 1", "-w", str(wh)],
        "tracelab info": [*tracelab, "info", "-w", str(wh)],
        f"tracelab session {session}": [*tracelab, "session", session, "-w", str(wh)],
    }
    load0 = os.getloadavg()
    out: dict[str, dict] = {}
    prior: dict[str, dict] = {}
    base: dict[str, dict] = {}
    old = {**env, "PYTHONPATH": str(_code_at(before, work))} if before else None
    for name, argv in cases.items():
        # each command alternates with the baseline (and the code before), so a row's numbers share its minutes' load
        jobs = [(argv, env), (baseline, env)] + ([(argv, old)] if old is not None else [])
        got = _interleaved(jobs, repeat)
        out[name], base[name] = got[0], got[1]
        if old is not None:
            prior[name] = got[2]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": IB.machine(),
        "commit": _commit(),
        "command": f"python -m benchmarks.startup_bench --repeat {repeat}" + (f" --before {before}" if before else ""),
        "load": (load0, os.getloadavg()),
        "cases": out,
        "before": {"ref": before, "commit": _short(before), "cases": prior} if before else None,
        "baseline": {"name": 'duckdb -c "select 1"' if duckdb_cli else 'python -c "import duckdb; …select 1"', "cases": base},
    }


def _short(ref: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def _median_session(tracelab: list[str], wh: Path) -> str:
    """The id of the top-level session of median size (events) in ``wh``: a typical ``session`` call."""
    sql = "SELECT session_id FROM sessions WHERE NOT coalesce(is_subagent, false) ORDER BY n_events, session_key"
    proc = subprocess.run([*tracelab, "sql", sql, "-w", str(wh), "--format", "csv"], capture_output=True, text=True, check=True)
    ids = proc.stdout.splitlines()[1:]
    return ids[len(ids) // 2]


def write(r: dict, path: Path = RESULTS) -> Path:
    m = r["machine"]
    (l0, l1) = r["load"]
    b = r["baseline"]
    runs = next(iter(r["cases"].values()))["runs"]
    lines = [
        "# Command start-up (`benchmarks/startup_bench.py`)",
        "",
        f"- date: {r['date']}; machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; {m['os']}; Python {m['python']}",
        f"- command: `{r['command']}`; code: commit `{r['commit']}`",
        f"- load average (1/5/15 min) at start: {l0[0]:.2f}, {l0[1]:.2f}, {l0[2]:.2f}; at end: {l1[0]:.2f}, {l1[1]:.2f}, {l1[2]:.2f}"
        " (other engineers' jobs share the cores: wall times include that contention; CPU seconds do not; the fastest of the runs"
        " is closest to an idle machine)",
        f"- each cell: median of {runs} fresh processes (interpreter start included) after one untimed warm-up, each command's runs"
        " alternating with the baseline's (and the code before's), so a row shares its minutes' load; warehouse: every real"
        " sample in `../shared/samples`; Python bytecode cached (as installed by pip); baseline: "
        + f"`{b['name']}`"
        + ("" if b["name"].startswith("duckdb ") else " (no `duckdb` CLI binary on PATH on this machine)"),
        "",
        "| command | wall s (fastest) | CPU s | baseline wall s (fastest) | baseline CPU s | wall ÷ baseline | target (warehouse commands) | met (median wall)? |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, c in r["cases"].items():
        base = b["cases"][name]
        warehouse_cmd = "--help" not in name
        target = f"≤ {TARGET_S} s" if warehouse_cmd else ""
        met = ("**met**" if c["wall"] <= TARGET_S else "**not met**") if warehouse_cmd else ""
        lines.append(
            f"| `{name}` | {c['wall']:.3f} ({c['wall_min']:.3f}) | {c['cpu']:.3f} | {base['wall']:.3f} ({base['wall_min']:.3f}) | {base['cpu']:.3f} "
            f"| {c['wall'] / base['wall']:.1f}× | {target} | {met} |"
        )
    if r.get("before"):
        p = r["before"]
        lines += [
            "",
            f"Before / after: the same commands with commit `{p['commit']}` (`--before {p['ref']}`: its `tracelab/` and `queries/` from `git archive`"
            " first on `PYTHONPATH`, same virtualenv), runs alternating with this code's, median of each:",
            "",
            "| command | before wall s (fastest) | before CPU s | after wall s (fastest) | after CPU s | CPU after ÷ before |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, c in r["cases"].items():
            o = p["cases"][name]
            lines.append(
                f"| `{name}` | {o['wall']:.3f} ({o['wall_min']:.3f}) | {o['cpu']:.3f} | {c['wall']:.3f} ({c['wall_min']:.3f}) | {c['cpu']:.3f} | {c['cpu'] / o['cpu']:.2f} |"
            )
    if path.exists():  # notes written by hand below the generated part stay
        old = path.read_text()
        marker = "\n## Notes\n"
        if marker in old:
            lines += ["", old[old.index(marker) + 1 :].rstrip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("TRACELAB_SHARED", REPO.parent / "shared")))
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "startup")
    ap.add_argument("--before", metavar="REF", help="Also time git REF's code, runs interleaved with this code's (a before/after table).")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    r = run(args.repeat, args.shared, args.work, args.before)
    print(write(r).read_text())
    H.assemble()


if __name__ == "__main__":
    main()
