"""The one-command benchmark: ``python -m benchmarks run`` (``make bench``).

One run measures, on this machine and in this order:

1. ``tracelab synth --size SIZE`` (wall, CPU, peak RSS of the process tree);
2. ingest of that synthetic corpus, every agent alone and all together: cold ingest, unchanged
   re-run, refresh after ~1% new sessions (``tracelab synth`` with another seed), with
   ``ccusage <agent> daily --json --offline`` and a DuckDB raw JSON scan of the same files
   (``benchmarks/ingest_bench.py`` does the measuring);
3. the same on a corpus built from the real shared samples (``benchmarks/corpus.py``, fresh ids
   per copy), ``--real-size`` in total, split over the agents like the synthetic corpus;
4. two query warehouses of about ``--query-events`` events (default 1M and 10M), made from the
   synthetic ``all`` warehouse by replicating its events Parquet parts with rewritten keys and
   re-running the derive step (:func:`replicate`);
5. every named query (``tracelab query list --json``) through ``tracelab.query(name, warehouse)``
   with default parameters on both, beside the same result computed by pandas over the Parquet
   files (``benchmarks/query_bench.py``'s pandas implementations);
6. ``tracelab report weekly`` on the ~1M-event warehouse;
7. ``make demo`` in a temp dir with ``CLAUDE_CONFIG_DIR``/``CODEX_HOME``/``PI_AGENT_DIR`` pointing
   at empty dirs.

It prints one table and writes ``benchmarks/results/harness.md`` (+ ``harness.json``, the raw
numbers), ``benchmarks/results/ingest.md`` (per-step ingest detail), then assembles
``benchmarks/RESULTS.md`` from ``harness.md`` and every other ``benchmarks/results/*.md``
(:func:`assemble`), so re-running any benchmark and then ``python -m benchmarks assemble``
keeps RESULTS.md current.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import ingest_bench as IB

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"
RESULTS_MD = REPO / "benchmarks" / "RESULTS.md"
HARNESS_MD = RESULTS_DIR / "harness.md"
HARNESS_JSON = RESULTS_DIR / "harness.json"
PY = sys.executable

#: per table, the columns that identify something; a replica gets a suffix on every non-null value
ID_COLUMNS = {
    "events": (
        "event_key",
        "session_key",
        "line_key",
        "uuid",
        "parent_uuid",
        "session_id",
        "subagent_id",
        "message_id",
        "request_id",
        "llm_call_key",
        "tool_call_id",
        "parent_tool_call_id",
        "parent_session_key",
        "spawned_session_key",
        "forked_from",
        "source_file",
    ),
    "llm_calls": ("llm_call_key", "session_key", "message_id", "request_id", "root_session_key", "source_file"),
    "tool_calls": ("tool_call_key", "session_key", "llm_call_key", "tool_call_id", "subagent_session_key", "source_file"),
    "sessions": ("session_key", "session_id", "subagent_id", "parent_session_key", "parent_tool_call_id", "forked_from"),
}
#: DuckDB memory limits tried, in order, when the derive step runs out of memory
DERIVE_LIMITS = ("4GB", "8GB")
#: queries whose pandas twin always runs (the acceptance asks for these at least)
CORE_PANDAS = ("tool_error_rates", "latency_percentiles", "token_usage")

TARGETS = {
    "ingest_mb_s": 150.0,
    "peak_rss_gb": 1.5,
    "rerun_pct": 2.0,
    "query_s_10m": 1.0,
    "report_s_1m": 10.0,
    "synth_1gb_s": 60.0,
}


def log(msg: str) -> None:
    print(f"[{dt.datetime.now().strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", file=sys.stderr, flush=True)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def git_state() -> dict:
    """HEAD and the tracked files under ``tracelab/`` that differ from it: other engineers
    edit the tree while benchmarks run, so the code measured is HEAD plus these edits."""

    def git(*args: str) -> str:
        p = subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO)
        return p.stdout.rstrip("\n") if p.returncode == 0 else ""

    return {
        "head": git("rev-parse", "--short", "HEAD"),
        "modified": [ln[3:] for ln in git("status", "--porcelain", "--untracked-files=no", "--", "tracelab", "queries").splitlines()],
    }


def commits_between(start: str, end: str) -> list[str]:
    """Commits touching ``tracelab/`` or ``queries/`` made between two ``git_state`` heads, as
    ``hash HH:MM:SS subject`` (the code under test changed at those times)."""
    p = subprocess.run(
        ["git", "log", "--reverse", "--format=%h %cd %s", "--date=format-local:%H:%M:%S", f"{start}..{end}", "--", "tracelab", "queries"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "TZ": "UTC"},
    )
    return p.stdout.splitlines() if p.returncode == 0 else []


# --------------------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------------------


@dataclass
class Options:
    size: str = "1GB"
    agents: list[str] = field(default_factory=lambda: list(IB.AGENTS))
    real_size: str = "500MB"
    query_events: list[int] = field(default_factory=lambda: [1_000_000, 10_000_000])
    repeat: int = 3
    pandas: str = "all"  # all | core | none
    work: Path = REPO / "benchmarks" / "work" / "harness"
    shared: Path = Path(os.environ.get("TRACELAB_SHARED", REPO.parent / "shared"))
    seed: int = 0
    demo: bool = True
    keep: bool = False
    resume: bool = False
    quick: bool = False
    command: str = "python -m benchmarks run"

    @classmethod
    def quick_defaults(cls) -> dict:
        return {"size": "100MB", "real_size": "50MB", "query_events": [50_000, 500_000], "repeat": 1, "pandas": "core"}


def parse_count(text: str) -> int:
    """``1M`` → 1_000_000, ``500k`` → 500_000, ``10000`` → 10_000."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmM]?)\s*", text)
    if not m:
        raise ValueError(f"not a count: {text!r}")
    return int(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()])


# --------------------------------------------------------------------------------------
# steps
# --------------------------------------------------------------------------------------


def step_synth(o: Options, out: Path, size: str, seed: int) -> tuple[IB.Measured, dict]:
    shutil.rmtree(out, ignore_errors=True)
    argv = [PY, "-m", "tracelab", "synth", "--out", str(out), "--size", size, "--jobs", "2", "--seed", str(seed), "--agents", ",".join(o.agents), "--json"]
    m = IB.measure(argv, cwd=REPO)
    return m, json.loads(m.stdout)


def _steps(phases: dict | None) -> str:
    """``; steps: parse 0.2 s, derive 0.7 s, …`` from an ingest summary's ``phases``."""
    return "; steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()) if phases else ""


def synth_refresh(o: Options, corpus: Path, total_bytes: int, info: dict) -> Callable[[Sequence[str]], Callable[[], list[Path]]]:
    """Refresh writers for the synthetic corpus: ~1% of its bytes generated once with another
    seed (distinct session ids), hard-linked into the corpus roots of the chosen agents."""
    extra = o.work / "synth_refresh"

    def for_agents(agents: Sequence[str]) -> Callable[[], list[Path]]:
        def add() -> list[Path]:
            if not (extra / "truth.json").exists():
                size = f"{max(1, total_bytes // 100 // 1000)}KB"
                m, summary = step_synth(o, extra, size, o.seed + 1)
                info["refresh_synth"] = {"size": size, "bytes": summary["totals"]["bytes"], "wall_s": m.wall_s}
            written = []
            for a in agents:
                src_root = extra / a
                for f in sorted(src_root.rglob("*.jsonl")):
                    dest = corpus / a / f.relative_to(src_root)
                    if dest.exists():
                        raise RuntimeError(f"refresh file {dest} already in the corpus")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.link(f, dest)
                    written.append(dest)
            return written

        return add

    return for_agents


def _suffix_ids(table, suffix: str, name_of_table: str = "events"):
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = ID_COLUMNS[name_of_table]
    cols = []
    for name in table.column_names:
        col = table.column(name)
        if name in ids:
            if not pa.types.is_string(col.type):
                raise TypeError(f"{name_of_table}.{name} is {col.type}, expected string")
            col = pc.binary_join_element_wise(col, suffix, "")  # nulls stay null
        cols.append(col)
    return pa.Table.from_arrays(cols, schema=table.schema)


def replicate(base: Path, dest: Path, copies: int, limits: Sequence[str | None] = (None, *DERIVE_LIMITS)) -> dict:
    """A warehouse holding ``copies`` replicas of ``base``'s events, derived tables rebuilt.

    Replica 0 is the base's events unchanged; replica ``i`` has ``~r<i>`` appended to every
    identifier column (:data:`ID_COLUMNS`: keys, ids, uuids, source file), so it is a distinct
    set of sessions, with the same timestamps (the same weeks, as if ``copies`` times as many
    people had worked). Each of the base's events Parquet parts is written once per replica,
    into its month partition, so the file layout is what ingesting ``copies`` times the corpus
    in batches of the same size would give. ``rejects`` and ``files`` are copied once. Then
    ``tracelab.store.derive.rebuild`` derives ``llm_calls``, ``tool_calls`` and ``sessions``
    from the events and :func:`post_derive_steps` run, as ingest does, and one snapshot is
    committed.

    When the derive step runs out of memory it is retried under the next of ``limits``
    (``None``: tracelab's own limit); every attempt is recorded. If every limit fails, the
    base's derived tables are replicated instead, with the same key rewriting (recorded as
    ``derived_by = "replicated"``).
    """
    import duckdb
    import pyarrow.parquet as pq

    from tracelab.store import derive
    from tracelab.store.warehouse import Snapshot, Warehouse

    src = Warehouse(base)
    ssnap = src.snapshot()
    shutil.rmtree(dest, ignore_errors=True)
    dst = Warehouse(dest)
    dst.root.mkdir(parents=True)
    snap = Snapshot()
    batch = dst.new_batch_id()
    t0 = time.perf_counter()
    n = 0

    def copy_table(table: str) -> list[str]:
        nonlocal n
        out = []
        for rel in ssnap.tables[table]:
            data = pq.read_table(src.root / rel)
            month = rel.split("month=", 1)[1].split("/", 1)[0] if "month=" in rel else None
            for i in range(copies):
                t = data if i == 0 else _suffix_ids(data, f"~r{i}", table)
                out.append(dst.write_part(table, t, batch, partition=month, n=n))
                n += 1
        return out

    snap.tables["events"] = copy_table("events")
    for table in ("rejects", "files"):
        snap.tables[table] = [dst.write_part(table, src.read_table(table, ssnap), batch)]
    copy_s = time.perf_counter() - t0
    attempts: list[dict] = []
    default = derive.MEMORY_LIMIT
    derived_by = None
    try:
        for limit in limits:
            derive.MEMORY_LIMIT = limit or default
            t1 = time.perf_counter()
            try:
                derive.rebuild(dst, snap, batch)
            except (duckdb.OutOfMemoryException, OSError) as exc:
                # streamed through a pyarrow reader, DuckDB's out-of-memory error arrives as OSError
                if "Out of Memory" not in str(exc):
                    raise
                attempts.append({"memory_limit": derive.MEMORY_LIMIT, "ok": False, "s": time.perf_counter() - t1, "error": str(exc).splitlines()[0][:200]})
                log(f"  derive.rebuild out of memory at memory_limit={derive.MEMORY_LIMIT} after {attempts[-1]['s']:.0f} s")
                continue
            attempts.append({"memory_limit": derive.MEMORY_LIMIT, "ok": True, "s": time.perf_counter() - t1})
            derived_by = "derive.rebuild"
            break
    finally:
        derive.MEMORY_LIMIT = default
    if derived_by is None:
        t1 = time.perf_counter()
        for table in ("llm_calls", "tool_calls", "sessions"):
            snap.tables[table] = copy_table(table)
        attempts.append({"memory_limit": None, "ok": True, "s": time.perf_counter() - t1, "replicated": True})
        derived_by = "replicated"
    post_steps: list[dict] = []
    for step in post_derive_steps() if derived_by == "derive.rebuild" else []:
        t2 = time.perf_counter()
        name = f"{step.__module__}.{step.__name__}"
        try:
            step(dst, snap, batch)
            post_steps.append({"step": name, "ok": True, "s": time.perf_counter() - t2})
        except Exception as exc:  # recorded; the warehouse is still usable for the queries
            post_steps.append({"step": name, "ok": False, "s": time.perf_counter() - t2, "error": f"{type(exc).__name__}: {exc}"[:200]})
            log(f"  {name} failed: {post_steps[-1]['error']}")
    dst.commit(snap)
    shutil.rmtree(dst.root / ".duckdb_tmp", ignore_errors=True)
    info = warehouse_info(dst.root)
    info.update(
        {
            "copies": copies,
            "copy_s": copy_s,
            "derive_attempts": attempts,
            "derived_by": derived_by,
            "derive_s": next((a["s"] for a in attempts if a["ok"] and not a.get("replicated")), None),
            "post_derive": post_steps,
            "skipped_tables": sorted(set(ssnap.tables) - set(snap.tables)),
        }
    )
    return info


def post_derive_steps() -> list[Callable]:
    """What ingest runs after ``derive.rebuild`` and before the commit, when this tree has
    it: the failure tables (``tracelab.failures.api.rebuild_in_snapshot``, called by the
    publish step of ``tracelab.pipeline``, or by ``tracelab.ingest.engine`` before it)."""
    try:
        from tracelab import pipeline as engine
    except ImportError:  # a tree before the ingest stages
        from tracelab.ingest import engine  # type: ignore[no-redef]

    steps: list[Callable] = []
    # the module's file, not inspect.getsource of a function: others edit the tree during a
    # run, and getsource maps a loaded function's old line numbers onto the edited file
    if "rebuild_in_snapshot" in Path(engine.__file__).read_text():
        from tracelab.failures.api import rebuild_in_snapshot

        steps.append(rebuild_in_snapshot)
    return steps + list(getattr(engine, "POST_DERIVE_HOOKS", []))


def warehouse_info(path: Path) -> dict:
    import pyarrow.parquet as pq

    from tracelab.store.warehouse import Warehouse

    wh = Warehouse(path)
    counts = {t: sum(pq.ParquetFile(f).metadata.num_rows for f in wh.files_of(t)) for t in ("events", "llm_calls", "tool_calls", "sessions")}
    return {
        "path": str(wh.root),
        "copies": 1,
        "counts": counts,
        "event_files": len(wh.files_of("events")),
        "parquet_bytes": sum(p.stat().st_size for p in wh.root.rglob("*.parquet")),
        "copy_s": 0.0,
        "derive_s": None,
        "derive_attempts": [],
        "derived_by": "ingest",
        "post_derive": [],
        "skipped_tables": [],
    }


def query_names() -> list[str]:
    p = subprocess.run([PY, "-m", "tracelab", "query", "list", "--json"], capture_output=True, text=True, check=True, cwd=REPO)
    return [q["name"] for q in json.loads(p.stdout)]


def time_queries(names: Sequence[str], wh: Path, repeat: int, pandas_names: set[str]) -> dict[str, dict]:
    """Per query: the first call and the median of ``repeat`` more calls (one if the first took
    over 10 s) of
    ``tracelab.query(name, warehouse)`` (each opens its own catalog connection), result rows,
    and one run of the pandas twin (reading the needed Parquet columns + computing)."""
    import tracelab
    from benchmarks import query_bench as QB

    pw = QB.PandasWarehouse(wh)
    out: dict[str, dict] = {}
    for name in names:
        r: dict = {}
        try:
            t = time.perf_counter()
            df = tracelab.query(name, str(wh))
            r["first_s"] = time.perf_counter() - t
            times = []
            # a call over 10 s is timed once more, not `repeat` times (the run must end)
            for _ in range(repeat if r["first_s"] < 10 else 1):
                t = time.perf_counter()
                df = tracelab.query(name, str(wh))
                times.append(time.perf_counter() - t)
            r["median_s"] = statistics.median(times)
            r["times"] = times
            r["rows"] = df.height
        except Exception as exc:  # a failing query is a result, not a reason to stop the run
            r["error"] = f"{type(exc).__name__}: {exc}"[:300]
        if name in pandas_names and name in QB.PANDAS:
            try:
                t = time.perf_counter()
                pdf = QB.PANDAS[name](pw)
                r["pandas_s"] = time.perf_counter() - t
                r["pandas_rows"] = len(pdf)
            except Exception as exc:
                r["pandas_error"] = f"{type(exc).__name__}: {exc}"[:300]
        log(
            f"  {name}: {r.get('median_s', float('nan')):.3f} s (first {r.get('first_s', float('nan')):.3f} s)"
            + (f", pandas {r['pandas_s']:.2f} s" if "pandas_s" in r else "")
            + (f" ERROR {r['error']}" if "error" in r else "")
        )
        out[name] = r
    return out


def step_report(wh: Path, work: Path) -> IB.Measured:
    out = work / "report"
    shutil.rmtree(out, ignore_errors=True)
    return IB.measure([PY, "-m", "tracelab", "report", "weekly", "--warehouse", str(wh), "--out", str(out), "--json"], cwd=REPO)


def step_demo() -> dict:
    """``make demo`` in a temp dir, agent homes pointing at empty dirs (so the demo generates
    its corpus). When the venv's install stamp is missing, ``make -o <stamp>`` keeps make
    from re-installing the package into the shared venv; the install is not timed."""
    stamp = REPO / ".venv" / ".installed-core"
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        homes = {}
        for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "PI_AGENT_DIR"):
            d = Path(tmp) / "homes" / var.lower()
            d.mkdir(parents=True)
            homes[var] = str(d)
        argv = ["make", "-C", str(REPO), *([] if stamp.exists() else ["-o", str(stamp.relative_to(REPO))]), "demo", f"DEMO_DIR={tmp}/demo"]
        m = IB.measure(argv, env=homes)
        report = list((Path(tmp) / "demo" / "report").glob("*.html"))
    return {
        "measured": m.brief(),
        "install_skipped": not stamp.exists(),
        "report_written": bool(report),
        "tail": m.stdout.strip().splitlines()[-1:] if m.stdout.strip() else [],
    }


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------


def run(o: Options) -> dict:
    """Run every step; after each, the results so far go to ``WORK/partial.json``, and with
    ``o.resume`` the steps recorded there (whose files are still in ``WORK``) are not re-run."""
    from tracelab.synth import parse_size

    partial = o.work / "partial.json"
    res: dict = {}
    if o.resume and partial.exists():
        res = json.loads(partial.read_text())
        if res.get("options", {}).get("size") != o.size or res["options"].get("agents") != o.agents:
            raise SystemExit(f"{partial} was written with other --size/--agents; run without --resume")
        log(f"resuming: {', '.join(k for k in STEPS if k in res)} already done")
        res.setdefault("resumed", []).append({"at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "done": [k for k in STEPS if k in res]})
    else:
        res = {
            "command": o.command,
            "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": IB.machine(),
            "load_start": _load(),
            "git": git_state(),
            "options": {
                "size": o.size,
                "agents": o.agents,
                "real_size": o.real_size,
                "query_events": o.query_events,
                "repeat": o.repeat,
                "pandas": o.pandas,
                "quick": o.quick,
                "seed": o.seed,
            },
            "elapsed_s": 0.0,
        }
    t_run = time.perf_counter() - res.get("elapsed_s", 0.0)
    o.work.mkdir(parents=True, exist_ok=True)

    def checkpoint() -> None:
        res["elapsed_s"] = time.perf_counter() - t_run
        partial.write_text(json.dumps(res, default=str))

    synth_dir = o.work / "synth"
    keep = "all" if len(o.agents) > 1 else o.agents[0]

    # 1. synthetic corpus
    if "synth" not in res:
        log(f"tracelab synth --size {o.size} …")
        m, summary = step_synth(o, synth_dir, o.size, o.seed)
        res["synth"] = {
            "measured": m.brief(),
            "bytes": summary["totals"]["bytes"],
            "files": summary["totals"]["files"],
            "lines": summary["totals"]["lines"],
            "agents": {a: v["bytes"] for a, v in summary["agents"].items()},
            "size_bytes": parse_size(o.size),
        }
        log(f"  {summary['totals']['bytes'] / 1e6:.0f} MB in {m.wall_s:.1f} s ({m.cpu_s:.1f} CPU-s)")
        checkpoint()

    exe, why = IB.ccusage_exe()
    res["ccusage"] = {"available": exe is not None, "why_not": why}
    if exe is None:
        log(f"ccusage unavailable: {why}")

    # 2. ingest of the synthetic corpus
    if "ingest_synthetic" not in res:
        roots = {a: synth_dir / a for a in o.agents}
        res["ingest_synthetic"] = IB.run_corpus(
            "synthetic", roots, o.work, synth_refresh(o, synth_dir, res["synth"]["bytes"], res["synth"]), exe, keep_scope=keep, log=log
        )
        checkpoint()

    # 3. ingest of the real-sample corpus
    if "ingest_real" not in res:
        sizes = IB.split_sizes(parse_size(o.real_size), o.agents, res["synth"]["agents"])
        real_info = IB.build_real(o.shared, o.work / "real", sizes, log=log)
        real_roots = {a: Path(real_info[a]["root"]) for a in o.agents}
        res["ingest_real"] = IB.run_corpus("real", real_roots, o.work, lambda ags: IB.real_refresh(o.shared, real_info, ags), exe, log=log)
        if not o.keep:
            shutil.rmtree(o.work / "real", ignore_errors=True)
        checkpoint()
    res["ingest"] = res["ingest_synthetic"] + res["ingest_real"]
    IB.write_results(res["ingest"], o.command, extra_notes=[f"measured by `{o.command}` (see `benchmarks/RESULTS.md`)"])

    # 4. query warehouses
    base = Path(next(r["warehouse"] for r in res["ingest_synthetic"] if r["scope"] == keep))
    base_events = warehouse_info(base)["counts"]["events"]
    res.setdefault("query_warehouses", [])
    done = {w["target"] for w in res["query_warehouses"]}
    limits: tuple[str | None, ...] = (None, *DERIVE_LIMITS)
    for target in o.query_events:
        if target in done:
            continue
        copies = max(1, round(target / base_events))
        if copies == 1:
            info = warehouse_info(base)
        else:
            log(f"replicating {base_events:,} events ×{copies} for ~{target:,} events …")
            info = replicate(base, o.work / f"wh_q{target}", copies, limits)
            log(
                f"  {info['counts']['events']:,} events by {info['derived_by']}: copy {info['copy_s']:.0f} s, attempts {info['derive_attempts']}, "
                f"post-derive {info['post_derive']}"
            )
            # a bigger warehouse starts at the limit that sufficed here (none if none did)
            limits = limits[len(info["derive_attempts"]) - 1 :] if info["derived_by"] == "derive.rebuild" else ()
        info["target"] = target
        res["query_warehouses"].append(info)
        checkpoint()
    res["query_warehouses"].sort(key=lambda w: o.query_events.index(w["target"]) if w["target"] in o.query_events else 99)

    # 5. named queries
    names = query_names()
    res.setdefault("queries", {})
    for info in res["query_warehouses"]:
        if str(info["target"]) in res["queries"]:
            continue
        pandas_names = set() if o.pandas == "none" else (set(names) if o.pandas == "all" else set(CORE_PANDAS))
        log(f"named queries on {info['counts']['events']:,} events …")
        res["queries"][str(info["target"])] = time_queries(names, Path(info["path"]), o.repeat, pandas_names)
        checkpoint()

    # 6. weekly report at the smaller warehouse
    if "report" not in res:
        small = res["query_warehouses"][0]
        log(f"tracelab report weekly on {small['counts']['events']:,} events …")
        rep = step_report(Path(small["path"]), o.work)
        res["report"] = {"measured": rep.brief(), "events": small["counts"]["events"]}
        log(f"  {rep.wall_s:.1f} s")
        checkpoint()

    # 7. make demo
    if o.demo and "demo" not in res:
        log("make demo …")
        res["demo"] = step_demo()
        log(f"  {res['demo']['measured']['wall_s']:.1f} s")
        checkpoint()

    res["load_end"] = _load()
    res["git_end"] = git_state()
    res["commits_during_run"] = commits_between(res["git"]["head"], res["git_end"]["head"])
    res["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    res["total_s"] = time.perf_counter() - t_run
    if not o.keep:
        for p in [synth_dir, o.work / "synth_refresh", base, *[Path(i["path"]) for i in res["query_warehouses"] if i["copies"] > 1]]:
            shutil.rmtree(p, ignore_errors=True)
        partial.unlink(missing_ok=True)
    return res


STEPS = ("synth", "ingest_synthetic", "ingest_real", "query_warehouses", "queries", "report", "demo")


# --------------------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------------------


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def _mb(x: float) -> str:
    return f"{x / 1e6:,.0f} MB" if x < 1e9 else f"{x / 1e9:,.2f} GB"


def _events(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def table_rows(res: dict) -> list[list[str]]:
    """measurement | input | tracelab | baseline | ratio | target | met?"""
    rows: list[list[str]] = []
    s = res["synth"]
    sm = s["measured"]
    is_1gb = s["size_bytes"] >= 1e9
    rows.append(
        [
            "`tracelab synth --size`",
            _mb(s["bytes"]),
            f"{sm['wall_s']:.1f} s wall ({sm['cpu_s']:.1f} CPU-s), peak RSS {sm['peak_rss_mb']:.0f} MB",
            "",
            "",
            f"1 GB ≤ {TARGETS['synth_1gb_s']:.0f} s",
            _met(sm["wall_s"] <= TARGETS["synth_1gb_s"] if is_1gb else None),
        ]
    )
    for r in res["ingest"]:
        d = IB.derived(r)
        c = r["cold"]
        label = f"{r['corpus']}, {r['scope']}"
        base = [f"DuckDB scan {r['duckdb']['wall_s']:.2f} s"]
        ratio = [f"DuckDB {d['vs_duckdb']:.3f}×"]
        if r["ccusage_s"]:
            base.insert(0, f"ccusage {r['ccusage_s']:.2f} s")
            ratio.insert(0, f"ccusage {d['vs_ccusage']:.3f}×")
        rows.append(
            [
                "cold ingest",
                f"{label}: {r['mb']:,.0f} MB, {r['events']:,} events",
                f"{c['wall_s']:.1f} s = **{d['mb_s']:.1f} MB/s** ({c['cpu_s']:.0f} CPU-s, {d['mb_cpu_s']:.1f} MB/CPU-s); "
                f"peak RSS {c['peak_rss_mb']:,.0f} MB (PSS {c['peak_pss_mb']:,.0f})",
                "; ".join(base),
                "; ".join(ratio),
                f"≥ {TARGETS['ingest_mb_s']:.0f} MB/s; ≤ {TARGETS['peak_rss_gb']} GB",
                f"{_met(d['mb_s'] >= TARGETS['ingest_mb_s'])}; {_met(c['peak_rss_mb'] <= TARGETS['peak_rss_gb'] * 1e3)}",
            ]
        )
        rows.append(
            [
                "unchanged re-run",
                label,
                f"{r['rerun']['wall_s']:.2f} s = **{d['rerun_pct']:.1f}%** of cold",
                f"ccusage {r['ccusage_s']:.2f} s (no state: full re-read)" if r["ccusage_s"] else "",
                f"ccusage {d['rerun_vs_ccusage']:.2f}×" if r["ccusage_s"] else "",
                f"≤ {TARGETS['rerun_pct']:.0f}% of cold",
                _met(d["rerun_pct"] <= TARGETS["rerun_pct"]),
            ]
        )
        rows.append(
            [
                "refresh, +1% new sessions",
                f"{label}: +{r['refresh_mb']:.1f} MB ({r['refresh_files']} files)",
                f"{r['refresh']['wall_s']:.1f} s = {d['refresh_pct']:.0f}% of cold"
                + (f" (derive {r['refresh_derived']}{_steps(r.get('refresh_phases'))})" if r.get("refresh_derived") else ""),
                f"ccusage {r['ccusage_s']:.2f} s (full re-read)" if r["ccusage_s"] else "",
                f"ccusage {d['refresh_vs_ccusage']:.2f}×" if r["ccusage_s"] else "",
                "",
                "",
            ]
        )
    whs = res["query_warehouses"]
    qs = res["queries"]
    big = str(whs[-1]["target"])
    sizes = " / ".join(_events(w["counts"]["events"]) for w in whs)
    for name in qs[str(whs[0]["target"])]:
        per = [qs[str(w["target"])][name] for w in whs]
        tl = " / ".join(f"{p['median_s']:.3f} s" if "median_s" in p else "error" for p in per)
        pd_ = " / ".join(f"{p['pandas_s']:.2f} s" if "pandas_s" in p else "–" for p in per)
        ratio = " / ".join(f"{p['pandas_s'] / p['median_s']:.1f}×" if "pandas_s" in p and "median_s" in p else "–" for p in per)
        last = qs[big][name]
        ok = last["median_s"] <= TARGETS["query_s_10m"] if "median_s" in last else False
        judged = whs[-1]["counts"]["events"] >= 9e6
        rows.append(
            [
                f"query `{name}`",
                f"{sizes} events",
                tl,
                f"pandas {pd_}" if any("pandas_s" in p for p in per) else "",
                f"pandas {ratio}" if any("pandas_s" in p for p in per) else "",
                f"≤ {TARGETS['query_s_10m']:.0f} s at 10M",
                _met(ok if judged else None),
            ]
        )
    rep = res["report"]
    rows.append(
        [
            "`tracelab report weekly`",
            f"{_events(rep['events'])} events",
            f"{rep['measured']['wall_s']:.1f} s ({rep['measured']['cpu_s']:.1f} CPU-s)",
            "",
            "",
            f"≤ {TARGETS['report_s_1m']:.0f} s at 1M",
            _met(rep["measured"]["wall_s"] <= TARGETS["report_s_1m"] if rep["events"] >= 0.9e6 else None),
        ]
    )
    if "demo" in res:
        dm = res["demo"]["measured"]
        rows.append(
            [
                "`make demo`",
                "empty agent homes → generated corpus",
                f"{dm['wall_s']:.1f} s ({dm['cpu_s']:.1f} CPU-s), peak RSS {dm['peak_rss_mb']:.0f} MB",
                "",
                "",
                "",
                "",
            ]
        )
    return rows


def render_table(rows: list[list[str]]) -> list[str]:
    head = ["measurement", "input", "tracelab", "baseline (same run)", "ratio baseline ÷ tracelab", "target", "met?"]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _targets_summary(res: dict) -> list[str]:
    cold = [(r, IB.derived(r)) for r in res["ingest"]]
    best = max(cold, key=lambda x: x[1]["mb_s"])
    worst_rss = max(res["ingest"], key=lambda r: r["cold"]["peak_rss_mb"])
    worst_rerun = max(cold, key=lambda x: x[1]["rerun_pct"])
    big = res["query_warehouses"][-1]
    qbig = res["queries"][str(big["target"])]
    slow = sorted(((v.get("median_s", math.inf), k) for k, v in qbig.items()), reverse=True)
    over = [k for t, k in slow if t > TARGETS["query_s_10m"]]
    s = res["synth"]
    lines = [
        f"- cold ingest ≥ {TARGETS['ingest_mb_s']:.0f} MB/s: {_met(best[1]['mb_s'] >= TARGETS['ingest_mb_s'])}. Best row "
        f"{best[1]['mb_s']:.1f} MB/s ({best[0]['corpus']}, {best[0]['scope']}); CPU-bound rate "
        f"{best[1]['mb_cpu_s']:.1f} MB per CPU-second, so even with both cores to itself (×2) it would stay far below the target.",
        f"- peak RSS ≤ {TARGETS['peak_rss_gb']} GB: {_met(worst_rss['cold']['peak_rss_mb'] <= TARGETS['peak_rss_gb'] * 1e3)}. "
        f"Largest tree sum {worst_rss['cold']['peak_rss_mb']:,.0f} MB ({worst_rss['corpus']}, {worst_rss['scope']}).",
        f"- unchanged re-run ≤ {TARGETS['rerun_pct']:.0f}% of cold: {_met(worst_rerun[1]['rerun_pct'] <= TARGETS['rerun_pct'])}. "
        f"Worst {worst_rerun[1]['rerun_pct']:.1f}% ({worst_rerun[0]['corpus']}, {worst_rerun[0]['scope']}).",
        f"- every named query ≤ {TARGETS['query_s_10m']:.0f} s at 10M events "
        f"({big['counts']['events']:,} here): {_met(not over) if big['counts']['events'] >= 9e6 else 'n/a (warehouse below 9M events)'}."
        + (" Over: " + ", ".join(f"`{k}` {qbig[k].get('median_s', math.nan):.2f} s" for k in over) + "." if over else ""),
        f"- report ≤ {TARGETS['report_s_1m']:.0f} s at 1M events ({res['report']['events']:,} here): "
        f"{_met(res['report']['measured']['wall_s'] <= TARGETS['report_s_1m']) if res['report']['events'] >= 0.9e6 else 'n/a'} "
        f"({res['report']['measured']['wall_s']:.1f} s).",
        f"- synth 1 GB ≤ {TARGETS['synth_1gb_s']:.0f} s: "
        f"{_met(s['measured']['wall_s'] <= TARGETS['synth_1gb_s']) if s['size_bytes'] >= 1e9 else 'n/a (size below 1 GB)'} "
        f"({s['measured']['wall_s']:.1f} s for {_mb(s['bytes'])}).",
    ]
    return lines


def _code_changes(res: dict) -> list[str]:
    """The commits to the code under test that landed while the run went on, with their times
    (each measured step records its own start time in ``harness.json``)."""
    commits = res.get("commits_during_run")
    if commits is None:  # a run recorded before the end state was kept: go by commit time
        p = subprocess.run(
            [
                "git",
                "log",
                "--reverse",
                "--format=%h %cd %s",
                "--date=format-local:%H:%M:%S",
                f"--since={res['started'].replace(' UTC', '')}Z",
                f"--until={res['finished'].replace(' UTC', '')}Z",
                "--",
                "tracelab",
                "queries",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "TZ": "UTC"},
        )
        commits = p.stdout.splitlines()
    if not commits:
        return ["- no commits to `tracelab/` or `queries/` landed during the run"]
    return [
        f"- **the code under test changed during the run**: {len(commits)} commits to `tracelab/` or `queries/` landed "
        "(time UTC, hash, subject); a step measured the code as it was at its start time:",
        *[f"  - {c.split(' ', 2)[1]} `{c.split(' ', 2)[0]}` {c.split(' ', 2)[2][:140]}" for c in commits],
    ]


def _real_ingest_estimate(res: dict) -> str:
    """What ingesting a corpus of the biggest warehouse's size would take, at this run's rate."""
    row = next((r for r in res["ingest"] if r["corpus"] == "synthetic" and r["scope"] == "all"), None)
    if row is None:
        return ""
    big = res["query_warehouses"][-1]["counts"]["events"]
    gb = big * row["mb"] / row["events"] / 1e3
    minutes = gb * 1e3 / IB.derived(row)["mb_s"] / 60
    return (
        f"Ingesting {big / 1e6:.0f}M events directly would take ~{gb:.0f} GB of synthetic input (this corpus's events per byte), "
        f"~{minutes:.0f} min at this run's all-agent cold-ingest rate, before the per-ingest derive over the whole warehouse."
    )


def _warehouse_line(w: dict) -> str:
    c = w["counts"]
    text = (
        f"~{_events(w['target'])}: ×{w['copies']} → {c['events']:,} events, {c['llm_calls']:,} LLM calls, {c['tool_calls']:,} tool calls, "
        f"{c['sessions']:,} sessions; {w['event_files']:,} events files, {w['parquet_bytes'] / 1e9:.2f} GB Parquet"
    )
    if w["copies"] == 1:
        return text + " (the ingested warehouse itself)"
    text += f"; events written in {w['copy_s']:.0f} s"
    for a in w["derive_attempts"]:
        if a.get("replicated"):
            text += (
                f"; **the derive step failed at every memory limit tried, so the base's derived tables were replicated "
                f"with the same key rewriting instead** ({a['s']:.0f} s)"
            )
        elif a["ok"]:
            text += f"; `derive.rebuild` with DuckDB memory_limit={a['memory_limit']}: {a['s']:.0f} s"
        else:
            text += f"; `derive.rebuild` with DuckDB memory_limit={a['memory_limit']}: **out of memory** after {a['s']:.0f} s"
    for p in w["post_derive"]:
        text += f"; `{p['step']}` " + (f"{p['s']:.0f} s" if p["ok"] else f"**failed** after {p['s']:.0f} s ({p['error']})")
    if w["skipped_tables"]:
        text += f"; tables not carried over: {', '.join(w['skipped_tables'])}"
    return text


def render_harness_md(res: dict) -> str:
    m = res["machine"]
    whs = res["query_warehouses"]
    cold_share = [r["cold"]["cpu_s"] / r["cold"]["wall_s"] for r in res["ingest"]]
    loads = [r["cold"]["load_before"] for r in res["ingest"]]
    lines = [
        "## One-command run (`python -m benchmarks run`)",
        "",
        f"- date: {res['started']} → {res['finished']} ({res['total_s'] / 60:.0f} min of measuring)"
        + "".join(f"; interrupted and resumed with `--resume` at {r['at']} (steps kept: {', '.join(r['done'])})" for r in res.get("resumed", [])),
        f"- machine: {m['cores']} cores ({m['cpu']}), {m['memory']} RAM; {m['os']}; Python {m['python']}",
        f"- command: `{res['command']}`",
        f"- code: commit `{res['git']['head']}`"
        + (
            f" plus uncommitted edits to {', '.join(f'`{x}`' for x in res['git']['modified'])} (other engineers work in the same tree)"
            if res["git"]["modified"]
            else " (no uncommitted edits under `tracelab/`)"
        ),
        *_code_changes(res),
        f"- load average (1/5/15 min) at start: {', '.join(map(str, res['load_start']))}; at end: {', '.join(map(str, res['load_end']))}",
        f"- the 1-minute load average was {min(loads):.1f}–{max(loads):.1f} when the cold ingests started (it counts this run's "
        "own previous steps as well as other engineers' jobs on the same 2 cores); the cold ingests used "
        f"{min(cold_share):.2f}–{max(cold_share):.2f} cores on average (CPU-s ÷ wall-s). Wall times, and the ratios built from "
        "them, include any contention; CPU seconds are given beside them.",
        *[f"- note: {n}" for n in res.get("notes", [])],
        "- ratios: baseline time ÷ tracelab time (above 1: tracelab is faster). Query cells: smaller / larger warehouse.",
        "",
        *render_table(table_rows(res)),
        "",
        "### Targets",
        "",
        *_targets_summary(res),
        "",
        "### How it was measured",
        "",
        "- Every command-line step (synth, ingest, ccusage, DuckDB scan, report, `make demo`) is one fresh process; wall time "
        "is spawn to exit; memory and CPU are sampled from `/proc` over the whole process tree every 50 ms (RSS summed over "
        "the processes: an upper bound, shared pages count once per process; PSS beside it). See `benchmarks/ingest_bench.py`.",
        "- Ingest: `python -m tracelab ingest ROOTS --warehouse NEW --json --quiet` (default `--jobs` = 2 here), per agent "
        "(`--agent`) and all agents together; then the same command again (unchanged re-run); then ~1% new sessions "
        "(synthetic: `tracelab synth` with seed+1 hard-linked into the corpus; real: further copies with fresh ids) and the "
        "same command (refresh). Details per step: the Ingest section below.",
        "- ccusage: `ccusage <agent> daily --json --offline -z UTC` 20.0.24 via its npm wrapper, one whole process per agent, "
        "isolated HOME; the `all` rows sum the three per-agent runs. DuckDB: one whole process, `read_ndjson_objects` over the "
        "same files, one usage field aggregated.",
        f"- Query warehouses: the synthetic `all` warehouse ({whs[0]['counts']['events'] // max(1, whs[0]['copies']):,} events) "
        "was replicated: its events Parquet parts written once per replica into a new warehouse, replica *i* > 0 with `~r<i>` "
        "appended to every id column (event/session/line/llm-call/tool-call keys, uuids, message/request ids, source file), same "
        "timestamps; `rejects`/`files` copied once; then `tracelab.store.derive.rebuild` derived `llm_calls`, `tool_calls`, "
        "`sessions` from the events, and the steps ingest runs after it (failure tables) ran. " + _real_ingest_estimate(res),
    ]
    for w in whs:
        lines.append(f"  - {_warehouse_line(w)}")
    lines += [
        f"- Queries: `tracelab.query(name, warehouse)` with default parameters, each call opening its own catalog connection; "
        f"one first call, then the median of {res['options']['repeat']} calls. pandas: the pandas implementation of the same "
        "result in `benchmarks/query_bench.py`, run once, reading only the needed Parquet columns (the read is included).",
        "- `make demo`: "
        + (
            f"{'`make -o .venv/.installed-core demo` (the venv install step skipped, not timed)' if res['demo']['install_skipped'] else '`make demo` (venv already installed)'}"
            f" with `DEMO_DIR` and the three agent homes in a temp dir; weekly report written: {'yes' if res['demo']['report_written'] else 'no'}."
            if "demo" in res
            else "not run."
        ),
        "",
        "### Query detail",
        "",
        "| query | " + " | ".join(f"{_events(w['counts']['events'])}: first / median s, rows, pandas s (rows)" for w in whs) + " |",
        "|---|" + "---|" * len(whs),
    ]
    for name in res["queries"][str(whs[0]["target"])]:
        cells = []
        for w in whs:
            q = res["queries"][str(w["target"])][name]
            if "error" in q:
                cells.append(f"error: {q['error']}")
                continue
            p = f"{q['pandas_s']:.2f} ({q['pandas_rows']:,})" if "pandas_s" in q else (q.get("pandas_error", "–"))
            cells.append(f"{q['first_s']:.3f} / {q['median_s']:.3f}, {q['rows']:,}, {p}")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# RESULTS.md
# --------------------------------------------------------------------------------------

_ORDER = ("ingest", "synth", "queries", "query", "report", "failures", "redact")


def _demote(text: str) -> str:
    """Headings one level down (outside code fences), so each section nests under RESULTS.md's."""
    out, fence = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and re.match(r"#{1,5} ", line):
            line = "#" + line
        out.append(line)
    return "\n".join(out)


def assemble(results_dir: Path = RESULTS_DIR, out: Path = RESULTS_MD) -> Path:
    """RESULTS.md = the harness section + every other ``results/*.md`` (headings one level
    down, a line under the first naming the file and when it was last written)."""

    def order(p: Path) -> tuple[int, str]:
        return (_ORDER.index(p.stem) if p.stem in _ORDER else len(_ORDER), p.stem)

    others = sorted((p for p in results_dir.glob("*.md") if p.name != HARNESS_MD.name), key=order)
    parts = [
        "# tracelab benchmark results",
        "",
        "Assembled by `python -m benchmarks run` (measures everything in the first section, then collects the rest) or "
        "`python -m benchmarks assemble` (collects only). Each later section is the file named in its heading, written by "
        "its own script (`benchmarks/<name>_bench.py`) at the time it gives.",
        "",
    ]
    if HARNESS_MD.exists() and results_dir == RESULTS_DIR:
        parts.append(HARNESS_MD.read_text())
    elif (results_dir / HARNESS_MD.name).exists():
        parts.append((results_dir / HARNESS_MD.name).read_text())
    else:
        parts.append("_No harness run recorded yet: run `python -m benchmarks run`._\n")
    for p in others:
        stamp = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        body = _demote(p.read_text().strip()).splitlines()
        source = f"_Section from `benchmarks/results/{p.name}` (file written {stamp})._"
        if body and body[0].startswith("#"):
            body = [body[0], "", source, *body[1:]]
        else:
            body = [f"## {p.stem}", "", source, "", *body]
        parts += ["", *body, ""]
    out.write_text("\n".join(parts).rstrip() + "\n")
    return out


def write_outputs(res: dict) -> str:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    HARNESS_JSON.write_text(json.dumps(res, indent=1, sort_keys=True, default=str) + "\n")
    md = render_harness_md(res)
    HARNESS_MD.write_text(md)
    assemble()
    return "\n".join(render_table(table_rows(res)))
