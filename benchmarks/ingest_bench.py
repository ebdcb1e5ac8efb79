"""Ingest benchmark: cold ingest MB/s, CPU and peak memory, unchanged re-run, +1% refresh, side
by side with ccusage (whole process) and a DuckDB raw JSON scan of the same files.

    python -m benchmarks.ingest_bench --size-mb 500 [--agents claude,codex,pi] [--work DIR]

Standalone, it builds a corpus from the real shared samples (fresh ids per copy,
``benchmarks/corpus.py``), split over the agents, and measures every agent alone and (with
more than one agent) all of them in one warehouse. ``python -m benchmarks run`` uses the same
functions on a ``tracelab synth`` corpus as well. Results go to ``benchmarks/results/ingest.md``.

How processes are measured (:func:`measure`)
    Every measured step is one fresh child process. While it runs, a thread samples ``/proc``
    every 50 ms: the child and *all its descendants* (the ingest's forkserver, its pool
    workers, ccusage's node wrapper and native binary). Reported per step:

    * ``peak RSS``: the largest **sum** of VmRSS over the live processes of the tree at one
      sample. Pages shared between processes (the forkserver's preloaded modules, inherited
      copy-on-write by every worker) are counted once per process, so this is an upper bound
      of the memory the step needs.
    * ``peak PSS``: the largest sum of PSS (``/proc/<pid>/smaps_rollup``, shared pages divided
      among the processes sharing them), sampled every 200 ms: the better estimate of real
      memory use; it can miss a spike shorter than the interval.
    * ``largest process``: the largest single-process VmRSS seen.
    * ``CPU``: user + system seconds of every process of the tree, from ``/proc/<pid>/stat`` at
      the last sample each process was seen alive (``ru_*`` of waited children would miss the
      pool workers: they are children of the forkserver, which nobody waits for). A process
      can lose up to one interval of CPU after its last sample.

    CPU seconds matter because the box these runs share is loaded: wall time is what a user
    waits, CPU time is what the work costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks import corpus as C

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
RESULTS = REPO / "benchmarks" / "results" / "ingest.md"
AGENTS = ("claude", "codex", "pi")
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------------------
# measuring one process tree
# --------------------------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, CPU seconds so far) for every live process (Linux /proc)."""
    out: dict[int, tuple[int, float]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: split after the last ')'
        fields = stat.rsplit(b")", 1)[1].split()
        out[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
    return out


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


@dataclass
class Measured:
    """One child process tree, start to exit."""

    argv: list[str]
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    largest_process_mb: float
    processes: int
    returncode: int
    load_before: float
    started: str = ""  # UTC, ISO seconds
    stdout: str = field(repr=False, default="")
    stderr: str = field(repr=False, default="")

    def brief(self) -> dict:
        d = asdict(self)
        d.pop("stdout")
        d.pop("stderr")
        return d


class _TreeSampler(threading.Thread):
    def __init__(self, root: int, interval: float, pss_every: int):
        super().__init__(daemon=True)
        self.root, self.interval, self.pss_every = root, interval, pss_every
        self.stop = threading.Event()
        self.cpu: dict[int, float] = {}
        self.peak_rss = self.peak_pss = self.largest = 0

    def sample(self, n: int) -> None:
        table = _proc_table()
        kids: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            kids.setdefault(ppid, []).append(pid)
        tree, stack = [], [self.root]
        while stack:
            pid = stack.pop()
            if pid in table:
                tree.append(pid)
                stack.extend(kids.get(pid, ()))
        rss = [_rss_bytes(p) for p in tree]
        self.peak_rss = max(self.peak_rss, sum(rss))
        self.largest = max(self.largest, max(rss, default=0))
        if n % self.pss_every == 0:
            self.peak_pss = max(self.peak_pss, sum(_pss_bytes(p) for p in tree))
        for p in tree:
            self.cpu[p] = max(self.cpu.get(p, 0.0), table[p][1])

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            self.sample(n)
            n += 1
            self.stop.wait(self.interval)


def measure(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    replace_env: bool = False,
    interval: float = 0.05,
    check: bool = True,
) -> Measured:
    """Run ``argv`` as a fresh child and measure wall time, CPU and memory of its process tree
    (see the module docstring). ``env`` is added to this process's environment, or replaces
    it with ``replace_env``."""
    full_env = dict(env or {}) if replace_env else {**os.environ, **(env or {})}
    load = os.getloadavg()[0]
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=cwd)
    sampler = _TreeSampler(proc.pid, interval, pss_every=max(1, round(0.2 / interval)))
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv[:6]))} … exited {proc.returncode}:\n{stderr[-3000:]}")
    return Measured(
        argv=[str(a) for a in argv],
        wall_s=wall,
        cpu_s=sum(sampler.cpu.values()),
        peak_rss_mb=sampler.peak_rss / 1e6,
        peak_pss_mb=sampler.peak_pss / 1e6,
        largest_process_mb=sampler.largest / 1e6,
        processes=len(sampler.cpu),
        returncode=proc.returncode,
        load_before=load,
        started=started,
        stdout=stdout,
        stderr=stderr,
    )


# --------------------------------------------------------------------------------------
# the measured commands
# --------------------------------------------------------------------------------------


def jsonl_files(roots: Sequence[Path]) -> list[Path]:
    return sorted(p for r in roots for p in Path(r).rglob("*.jsonl"))


def input_bytes(roots: Sequence[Path]) -> int:
    return sum(p.stat().st_size for p in jsonl_files(roots))


def ingest_argv(roots: Sequence[Path], warehouse: Path, agent: str | None) -> list[str]:
    argv = [PY, "-m", "tracelab", "ingest", *map(str, roots), "--warehouse", str(warehouse), "--json", "--quiet"]
    return argv + (["--agent", agent] if agent else [])


_DUCKDB_SCAN = """
import sys, time, duckdb
t = time.perf_counter()
con = duckdb.connect()
rows, tokens = con.execute(
    "SELECT count(*), sum(TRY_CAST(json_extract(json, '$.message.usage.output_tokens') AS BIGINT)) "
    "FROM read_ndjson_objects(?, ignore_errors = true)", [sys.argv[1:]]).fetchone()
print(rows, tokens, time.perf_counter() - t)
"""


def duckdb_scan(roots: Sequence[Path]) -> Measured:
    """DuckDB's newline-delimited JSON reader over the same files, as one whole process: read
    every line as a JSON object and aggregate one usage field from it (the floor for "just
    read the JSON"; no schema, no dedup, no Parquet written)."""
    globs = [str(Path(r) / "**" / "*.jsonl") for r in roots]
    return measure([PY, "-c", _DUCKDB_SCAN, *globs])


def ccusage_exe() -> tuple[Path | None, str | None]:
    """The pinned ccusage (npm wrapper, as users run it), or (None, why not)."""
    from tracelab.devtools import ccusage as cc

    exe = cc.ensure_ccusage()
    return exe, (None if exe else cc.ccusage_unavailable_reason())


def ccusage_run(exe: Path, agent: str, home: Path) -> Measured:
    """``ccusage <agent> daily --json --offline -z UTC`` over ``home`` as one whole process,
    with a throwaway HOME/XDG dirs and only the agent's own data variable set (the isolation
    of ``tracelab.devtools.ccusage.run_ccusage``)."""
    from tracelab.devtools import ccusage as cc

    with tempfile.TemporaryDirectory(prefix="bench-ccusage-home-") as fake:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": fake,
            "XDG_CONFIG_HOME": f"{fake}/.config",
            "XDG_CACHE_HOME": f"{fake}/.cache",
            "XDG_DATA_HOME": f"{fake}/.local/share",
            "TZ": "UTC",
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            cc.AGENT_HOME_ENV[agent]: str(Path(home).resolve()),
        }
        m = measure(cc.ccusage_argv(exe, agent, "daily"), env=env, replace_env=True, cwd=fake)
    json.loads(m.stdout)  # it answered
    return m


# --------------------------------------------------------------------------------------
# one scope: a set of roots in one warehouse
# --------------------------------------------------------------------------------------


def bench_scope(
    corpus: str,
    scope: str,
    roots: dict[str, Path],
    work: Path,
    add_refresh: Callable[[], list[Path]],
    *,
    exe: Path | None,
    ccusage: dict[str, Measured] | None = None,
    keep_warehouse: bool = False,
    log: Callable[[str], None] = print,
) -> dict:
    """Cold ingest, unchanged re-run and +1% refresh of ``roots`` (agent -> home dir) into a
    fresh warehouse, plus ccusage per agent (unless given) and a DuckDB scan of the same files.

    ``add_refresh()`` writes ~1% new sessions into the roots and returns the files it wrote;
    they are deleted again after the refresh so the corpus is unchanged for the next scope.
    """
    wh = work / f"wh_{corpus}_{scope}"
    shutil.rmtree(wh, ignore_errors=True)
    paths = [roots[a] for a in roots]
    agent = scope if scope in AGENTS else None
    nbytes = input_bytes(paths)
    nfiles = len(jsonl_files(paths))
    log(f"[{corpus}/{scope}] cold ingest of {nbytes / 1e6:.0f} MB ({nfiles} files) …")
    cold = measure(ingest_argv(paths, wh, agent))
    summ = json.loads(cold.stdout)
    log(f"[{corpus}/{scope}]   {cold.wall_s:.1f} s wall, {cold.cpu_s:.1f} CPU-s, peak RSS {cold.peak_rss_mb:.0f} MB")
    rerun = measure(ingest_argv(paths, wh, agent))
    rerun_summ = json.loads(rerun.stdout)
    if rerun_summ["files_parsed"] != 0:
        raise RuntimeError(f"unchanged re-run parsed {rerun_summ['files_parsed']} files")
    log(f"[{corpus}/{scope}]   unchanged re-run {rerun.wall_s:.2f} s")
    added = add_refresh()
    try:
        added_bytes = sum(p.stat().st_size for p in added)
        refresh = measure(ingest_argv(paths, wh, agent))
        refresh_summ = json.loads(refresh.stdout)
        if refresh_summ["files_parsed"] != len(added):
            raise RuntimeError(f"refresh parsed {refresh_summ['files_parsed']} files, {len(added)} were added")
    finally:
        for p in added:
            p.unlink(missing_ok=True)
    log(f"[{corpus}/{scope}]   +{added_bytes / 1e6:.1f} MB refresh {refresh.wall_s:.2f} s")
    if ccusage is None:
        ccusage = {}
        if exe is not None:
            for a, home in roots.items():
                ccusage[a] = ccusage_run(exe, a, home)
                log(f"[{corpus}/{scope}]   ccusage {a} {ccusage[a].wall_s:.2f} s")
    scan = duckdb_scan(paths)
    log(f"[{corpus}/{scope}]   DuckDB scan {scan.wall_s:.2f} s")
    row = {
        "corpus": corpus,
        "scope": scope,
        "agents": list(roots),
        "mb": nbytes / 1e6,
        "files": nfiles,
        "lines": summ["lines_total"],
        "events": summ["rows"]["events"],
        "rows": summ["rows"],
        "cold": cold.brief(),
        "rerun": rerun.brief(),
        "refresh": refresh.brief(),
        "refresh_mb": added_bytes / 1e6,
        "refresh_files": len(added),
        "refresh_events": refresh_summ["rows"]["events"],
        "refresh_derived": refresh_summ.get("derived", ""),
        "refresh_phases": refresh_summ.get("phases", {}),
        "ccusage": {a: m.brief() for a, m in ccusage.items()},
        "ccusage_s": sum(m.wall_s for m in ccusage.values()) if ccusage else None,
        "ccusage_cpu_s": sum(m.cpu_s for m in ccusage.values()) if ccusage else None,
        "ccusage_rss_mb": max((m.peak_rss_mb for m in ccusage.values()), default=None),
        "duckdb": scan.brief(),
        "duckdb_query_s": float(scan.stdout.split()[-1]),
        "warehouse": str(wh),
    }
    if not keep_warehouse:
        shutil.rmtree(wh, ignore_errors=True)
    return row


def derived(row: dict) -> dict:
    """Throughput, percentages and ratios of a :func:`bench_scope` row (baseline / tracelab:
    above 1 means tracelab is faster)."""
    cold, rerun, refresh = row["cold"]["wall_s"], row["rerun"]["wall_s"], row["refresh"]["wall_s"]
    d = {
        "mb_s": row["mb"] / cold,
        "mb_cpu_s": row["mb"] / row["cold"]["cpu_s"] if row["cold"]["cpu_s"] else None,
        "rerun_pct": 100 * rerun / cold,
        "refresh_pct": 100 * refresh / cold,
        "vs_duckdb": row["duckdb"]["wall_s"] / cold,
        "vs_ccusage": row["ccusage_s"] / cold if row["ccusage_s"] else None,
        "refresh_vs_ccusage": row["ccusage_s"] / refresh if row["ccusage_s"] else None,
        "rerun_vs_ccusage": row["ccusage_s"] / rerun if row["ccusage_s"] else None,
    }
    return d


# --------------------------------------------------------------------------------------
# the real-sample corpus
# --------------------------------------------------------------------------------------


def build_real(shared: Path, dest: Path, sizes: dict[str, int], log: Callable[[str], None] = print) -> dict[str, dict]:
    """Per agent, copies of the real samples with fresh ids (``benchmarks/corpus.py``)."""
    out = {}
    for agent, nbytes in sizes.items():
        t = time.perf_counter()
        out[agent] = C.build(shared, dest, agent, nbytes)
        log(f"real-sample corpus {agent}: {out[agent]['bytes'] / 1e6:.0f} MB, {out[agent]['files']} files ({time.perf_counter() - t:.0f} s)")
    return out


def real_refresh(shared: Path, info: dict[str, dict], agents: Sequence[str], fraction: float = 0.01) -> Callable[[], list[Path]]:
    """A refresh writer for the real-sample corpus: new copies of sample files (a copy index
    after the corpus's own, so every id is new) until ``fraction`` of each agent's bytes."""

    def add() -> list[Path]:
        written: list[Path] = []
        for agent in agents:
            root = Path(info[agent]["root"])
            want = info[agent]["bytes"] * fraction
            got, k = 0, info[agent]["copies"]
            files = C.sample_files(shared, agent)
            while got < want:
                for src, rel in files:
                    if got >= want:
                        break
                    out = root / C._copy_name(rel, k)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    data = src.read_bytes()
                    out.write_bytes(C._rewrite(data, k))
                    written.append(out)
                    got += len(data)
                k += 1
        return written

    return add


# --------------------------------------------------------------------------------------
# reporting
# --------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem:.1f} GiB",
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
    }


def _f(x: float | None, fmt: str = ".2f", none: str = "n/a") -> str:
    return none if x is None else format(x, fmt)


def ingest_table(rows: list[dict]) -> list[str]:
    lines = [
        "| corpus | scope | input MB | files | lines | events | cold s | MB/s | CPU s | MB per CPU-s | peak RSS MB (tree sum) | peak PSS MB | largest process MB "
        "| unchanged re-run s (% of cold) | refresh: +MB, s (% of cold) | ccusage s (ratio) | ccusage peak RSS MB | DuckDB scan s (ratio) | load at cold start | cold started (UTC) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        d = derived(r)
        c = r["cold"]
        cc = f"{r['ccusage_s']:.2f} ({d['vs_ccusage']:.3f}×)" if r["ccusage_s"] else "n/a"
        lines.append(
            f"| {r['corpus']} | {r['scope']} | {r['mb']:.0f} | {r['files']:,} | {r['lines']:,} | {r['events']:,} | {c['wall_s']:.1f} | {d['mb_s']:.1f} "
            f"| {c['cpu_s']:.1f} | {_f(d['mb_cpu_s'], '.1f')} | {c['peak_rss_mb']:.0f} | {c['peak_pss_mb']:.0f} | {c['largest_process_mb']:.0f} "
            f"| {r['rerun']['wall_s']:.2f} ({d['rerun_pct']:.1f}%) | +{r['refresh_mb']:.1f}, {r['refresh']['wall_s']:.1f} ({d['refresh_pct']:.0f}%) "
            f"| {cc} | {_f(r['ccusage_rss_mb'], '.0f')} | {r['duckdb']['wall_s']:.2f} ({d['vs_duckdb']:.3f}×) | {c['load_before']:.1f} "
            f"| {c.get('started', '')[11:19] or 'n/a'} |"
        )
    return lines


def write_results(rows: list[dict], cmd: str, extra_notes: Sequence[str] = (), path: Path = RESULTS) -> Path:
    m = machine()
    lines = [
        "# Ingest",
        "",
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {m['os']}, {m['cores']} cores ({m['cpu']}), {m['memory']} RAM, Python {m['python']}",
        f"- command: `{cmd}`",
        "- corpora: `real` = the shared real samples copied with fresh ids until the size is reached "
        "(`benchmarks/corpus.py`); `synthetic` = `tracelab synth --size …`",
        "- each step is one fresh process (`python -m tracelab ingest … --json --quiet`, default `--jobs`); "
        "peak RSS is the largest sum of VmRSS over the process tree (main process, forkserver, pool workers) "
        "sampled every 50 ms, an upper bound because shared pages count once per process; peak PSS "
        "divides shared pages among their processes (sampled every 200 ms); CPU is user+system of every process of the tree",
        "- ratios: baseline wall time / tracelab cold-ingest wall time (above 1: tracelab is faster); ccusage "
        "is `ccusage <agent> daily --json --offline -z UTC` through its npm wrapper, one whole process per "
        "agent (summed for `all`); the DuckDB scan is one whole process reading every line with "
        "`read_ndjson_objects` and aggregating one usage field",
        "- refresh: ~1% new sessions added to the corpus, then the same ingest command; it is compared with "
        "ccusage's time on the unrefreshed corpus, since ccusage keeps no state and re-reads everything",
        *[f"- {n}" for n in extra_notes],
        "",
        *ingest_table(rows),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def split_sizes(total: int, agents: Sequence[str], shares: dict[str, float] | None = None) -> dict[str, int]:
    """``total`` bytes split over ``agents`` by ``shares`` (default: equal)."""
    w = {a: (shares or {}).get(a, 1.0) for a in agents}
    s = sum(w.values())
    return {a: int(total * w[a] / s) for a in agents}


def run_corpus(
    corpus: str,
    roots: dict[str, Path],
    work: Path,
    refresh_for: Callable[[Sequence[str]], Callable[[], list[Path]]],
    exe: Path | None,
    *,
    keep_scope: str | None = None,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Every agent alone, then (with more than one) all agents in one warehouse; the ``all``
    row's ccusage is the per-agent runs summed (same files, ccusage reads one agent per run).
    The warehouse of scope ``keep_scope`` is kept (its path is the row's ``warehouse``)."""
    rows = []
    for agent, root in roots.items():
        rows.append(bench_scope(corpus, agent, {agent: root}, work, refresh_for([agent]), exe=exe, keep_warehouse=agent == keep_scope, log=log))
    if len(roots) > 1:
        per_agent = {r["scope"]: Measured(**r["ccusage"][r["scope"]]) for r in rows if r["ccusage"]}
        all_row = bench_scope(
            corpus,
            "all",
            dict(roots),
            work,
            refresh_for(list(roots)),
            exe=exe,
            ccusage=per_agent if exe is not None else {},
            keep_warehouse=keep_scope == "all",
            log=log,
        )
        rows.append(all_row)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=500, help="total real-sample corpus size, split equally over the agents")
    ap.add_argument("--agents", default="claude,codex,pi")
    ap.add_argument("--work", default=str(REPO / "benchmarks" / "work" / "ingest"))
    ap.add_argument("--shared", default=os.environ.get("TRACELAB_SHARED", str(REPO.parent / "shared")))
    a = ap.parse_args(argv)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    shared = Path(a.shared)
    agents = [x for x in a.agents.split(",") if x]
    info = build_real(shared, work / "corpus", split_sizes(int(a.size_mb * 1e6), agents))
    exe, why = ccusage_exe()
    if exe is None:
        print(f"ccusage unavailable: {why}", file=sys.stderr)
    roots = {ag: Path(info[ag]["root"]) for ag in agents}
    rows = run_corpus("real", roots, work, lambda ags: real_refresh(shared, info, ags), exe)
    for r in rows:
        print(json.dumps({k: v for k, v in r.items() if k not in ("ccusage",)}))
    cmd = "python -m benchmarks.ingest_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print(write_results(rows, cmd.strip()))


if __name__ == "__main__":
    main()
