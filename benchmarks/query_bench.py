"""Benchmark every named query on a warehouse of >= 10M events, with pandas-over-Parquet beside it.

Not a test. Usage::

    .venv/bin/python benchmarks/query_bench.py --work /tmp/tl_bench            # build + measure
    .venv/bin/python benchmarks/query_bench.py --work /tmp/tl_bench --skip-build
    .venv/bin/python benchmarks/query_bench.py --work /tmp/tl_bench --no-pandas --repeat 5

Building the warehouse
    1. ``tracelab.synth.generate`` writes a corpus (``--sessions`` main sessions per agent) and
       the real ingest turns it into ``WORK/base_wh``;
    2. the base warehouse is replicated until it holds ``--target-events`` events: replica ``i``
       gets ``~r<i>`` appended to every key (session, event, llm call, tool call, session id)
       and every timestamp moved ``i mod 13`` weeks later, so replicas are distinct sessions
       (many users over ~4 months; the shape of each session is the generator's). The copies
       go to ``WORK/big_wh`` in the warehouse layout (declared schema, ``month=`` partitions,
       one committed ``_snapshot.json``), one file per table and month as a single bulk
       ingest would write them.

Measuring
    Each query runs with its default parameters on one catalog connection (``catalog.connect``,
    views over the snapshot's files, macros installed), once to warm up and then ``--repeat``
    times; the median wall time includes fetching the result into Polars. The pandas column is
    a straightforward pandas implementation of the same result (in this file) that reads the
    snapshot's Parquet files (only the columns it needs) and computes with pandas/NumPy; its
    time includes the read, as a pandas notebook would. ``rows`` compares result row counts.

Results go to ``benchmarks/results/queries.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import tracelab.library as Q  # noqa: E402
from tracelab import schema as S  # noqa: E402
from tracelab.catalog import connect  # noqa: E402
from tracelab.store.warehouse import BLOOM_FILTERS, Snapshot, Warehouse  # noqa: E402

KEY_COLS = (
    "session_key",
    "event_key",
    "llm_call_key",
    "tool_call_key",
    "parent_session_key",
    "spawned_session_key",
    "root_session_key",
    "subagent_session_key",
    "forked_from",
    "session_id",
)
TS_COLS = ("ts", "request_ts", "started_at", "ended_at", "next_same_tool_at")


# --------------------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------------------


def build_base(work: Path, sessions: int, seed: int) -> Path:
    from tracelab.pipeline import ingest
    from tracelab.synth import generate

    corpus, base = work / "corpus", work / "base_wh"
    if not (base / "_snapshot.json").exists():
        t = time.perf_counter()
        generate(corpus, sessions=sessions, seed=seed, overwrite=True)
        print(f"generated corpus ({sessions} main sessions/agent) in {time.perf_counter() - t:.1f}s", flush=True)
        t = time.perf_counter()
        summary = ingest([str(corpus / a) for a in ("claude", "codex", "pi")], base)
        print(f"ingested in {time.perf_counter() - t:.1f}s: {summary.files_failed} failed", flush=True)
    return base


def _replica_sql(con, table: str, files: list[str], i: int, shift_days: int) -> pa.Table:
    cols = [f.name for f in S.TABLES[table]]
    shift = f"INTERVAL {shift_days} DAY"
    anchor = "ts" if "ts" in cols else "started_at"
    exprs = []
    for c in cols:
        if c in KEY_COLS:
            exprs.append(f"CASE WHEN {c} IS NULL THEN NULL ELSE {c} || '~r{i}' END AS {c}")
        elif c in TS_COLS:
            exprs.append(f"{c} + {shift} AS {c}")
        elif c == "turns":  # sessions.turns: list of structs with two timestamps
            exprs.append(f"list_transform(turns, lambda t: struct_update(t, started_at := t.started_at + {shift}, ended_at := t.ended_at + {shift})) AS turns")
        elif c == "date":
            exprs.append(f"CAST({anchor} + {shift} AS DATE) AS date")
        elif c == "month":
            exprs.append(f"strftime({anchor} + {shift}, '%Y-%m') AS month")
        else:
            exprs.append(c)
    lst = ", ".join("'" + f.replace("'", "''") + "'" for f in files)  # benchmark-local paths
    sql = f"SELECT {', '.join(exprs)} FROM read_parquet([{lst}], union_by_name = true)"
    return S.cast_table(con.sql(sql).to_arrow_table(), table)


def build_big(work: Path, base: Path, target_events: int, name: str = "big_wh") -> Path:
    """Replicate ``base`` into one bulk-ingest-like warehouse ``WORK/NAME``: one Parquet file per
    table and month (many row groups), as a single ingest of the whole corpus would write."""
    import duckdb
    import pyarrow.compute as pc

    big = Warehouse(work / name)
    if big.exists:
        return big.root
    src = Warehouse(base)
    base_events = pq.ParquetDataset([str(p) for p in src.files_of("events")], partitioning=None).read(columns=["event_key"]).num_rows
    replicas = max(1, math.ceil(target_events / base_events))
    print(f"base warehouse: {base_events} events; writing {replicas} replicas", flush=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    big.root.mkdir(parents=True, exist_ok=True)
    snap = Snapshot()
    batch = big.new_batch_id()
    t = time.perf_counter()
    for table in ("events", "llm_calls", "tool_calls", "sessions"):
        files = [str(p) for p in src.files_of(table)]
        writers: dict[str, pq.ParquetWriter] = {}
        rels: dict[str, str] = {}
        for i in range(replicas):
            # replica i: fresh keys, moved (i mod 13) weeks later -> many users over ~4 months
            data = _replica_sql(con, table, files, i, 7 * (i % 13))
            parts = [(None, data)]
            if table in S.PARTITIONED:
                months = data.column("month")
                parts = [(m or "unknown", data.filter(pc.equal(months, m) if m else pc.is_null(months))) for m in months.unique().to_pylist()]
            for m, part in parts:
                key = m or "_"
                if key not in writers:
                    sub = Path(table) / f"month={m}" if m else Path(table)
                    rel = (sub / f"part-{batch}-{len(writers):04d}.parquet").as_posix()
                    (big.root / rel).parent.mkdir(parents=True, exist_ok=True)
                    # as the ingest writes parts: with a Bloom filter on session_key (tracelab.store.warehouse.BLOOM_FILTERS)
                    writers[key] = pq.ParquetWriter(big.root / rel, S.TABLES[table], compression="zstd", bloom_filter_options=BLOOM_FILTERS.get(table))
                    rels[key] = rel
                writers[key].write_table(part, row_group_size=256 * 1024)
        for w in writers.values():
            w.close()
        snap.tables[table] = sorted(rels.values())
        print(f"  {table}: {len(rels)} files ({time.perf_counter() - t:.0f}s)", flush=True)
    for table in ("rejects", "files"):
        files = src.files_of(table)
        snap.tables[table] = [big.write_part(table, S.cast_table(pq.read_table(files[0]), table), batch)] if files else []
    big.commit(snap)
    return big.root


# --------------------------------------------------------------------------------------
# pandas implementations (same results as the named queries with default parameters)
# --------------------------------------------------------------------------------------

Z = 1.959963984540054
SHELL = ["Bash", "BashOutput", "bash", "shell", "exec_command", "local_shell", "shell_command", "container.exec"]


class PandasWarehouse:
    def __init__(self, root: Path):
        self.wh = Warehouse(root)

    def read(self, table: str, columns: list[str]) -> pd.DataFrame:
        files = [str(p) for p in self.wh.files_of(table)]
        return pq.ParquetDataset(files, partitioning=None).read(columns=columns).to_pandas()


def wilson(k, n):
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        c = p + Z * Z / (2 * n)
        h = Z * np.sqrt(np.maximum(p * (1 - p) / n + Z * Z / (4 * n * n), 0))
        d = 1 + Z * Z / n
        return np.where(k == 0, 0.0, np.maximum((c - h) / d, 0)), np.where(k == n, 1.0, np.minimum((c + h) / d, 1))


def week_start(ts: pd.Series) -> pd.Series:
    day = ts.dt.floor("D")
    return (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date


def pd_tool_error_rates(w: PandasWarehouse) -> pd.DataFrame:
    t = w.read("tool_calls", ["started_at", "agent", "model", "tool_name", "status"])
    t["period_start"] = week_start(t["started_at"])
    g = pd.crosstab([t["period_start"], t["agent"], t["model"].fillna("∅"), t["tool_name"]], t["status"]).reset_index()
    for s in ("ok", "error", "user_rejected", "interrupted", "no_result"):
        if s not in g:
            g[s] = 0
    g["calls"] = g[["ok", "error", "user_rejected", "interrupted", "no_result"]].sum(axis=1)
    g["completed"] = g["ok"] + g["error"]
    g["error_rate"] = g["error"] / g["completed"].replace(0, np.nan)
    g["error_rate_lo"], g["error_rate_hi"] = wilson(g["error"], g["completed"])
    f = g["error"] + g["user_rejected"] + g["interrupted"]
    g["failure_rate"] = f / g["calls"]
    g["failure_rate_lo"], g["failure_rate_hi"] = wilson(f, g["calls"])
    return g


def _template(s: pd.Series) -> pd.Series:
    s = s.fillna("").str.replace(r"</?tool_use_error>", "", regex=True).str.extract(r"^\s*([^\n]*\S)", expand=False).fillna("")
    s = s.str.replace(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "'…'", regex=True)
    s = s.str.replace(r"\b[0-9a-fA-F]{8,}\b", "H", regex=True).str.replace(r"[0-9]+", "N", regex=True)
    return s.str.replace(r"\s+", " ", regex=True).str.strip().str.slice(0, 160)


def pd_tool_error_messages(w):
    t = w.read("tool_calls", ["agent", "tool_name", "status", "session_key", "started_at", "error_text"])
    t = t[t["status"].isin(["error", "user_rejected", "interrupted"])].copy()
    t["message"] = _template(t["error_text"])
    g = t.groupby(["agent", "tool_name", "status", "message"]).agg(n=("session_key", "size"), sessions=("session_key", "nunique")).reset_index()
    g["share"] = g["n"] / g.groupby(["agent", "tool_name"])["n"].transform("sum")
    g = g.sort_values(["agent", "tool_name", "n", "status", "message"], ascending=[True, True, False, True, True])
    g["rank"] = g.groupby(["agent", "tool_name"]).cumcount() + 1
    return g[g["rank"] <= 10]


def pd_shell_exit_codes(w):
    t = w.read("tool_calls", ["agent", "tool_name", "exit_code", "status"])
    t = t[t["tool_name"].isin(SHELL)].assign(err=lambda d: d["status"] == "error")
    g = t.groupby(["agent", "tool_name", "exit_code"], dropna=False).agg(calls=("status", "size"), err=("err", "sum")).reset_index()
    g["share"] = g["calls"] / g.groupby(["agent", "tool_name"])["calls"].transform("sum")
    return g


def pd_tool_retries(w):
    t = w.read(
        "tool_calls", ["session_key", "agent", "model", "tool_name", "status", "input_json", "started_at", "call_line_no", "tool_call_id", "tool_call_key"]
    )
    t = t.sort_values(["session_key", "tool_name", "started_at", "call_line_no", "tool_call_id"])
    g = t.groupby(["session_key", "tool_name"], sort=False)
    t["next_key"], t["next_status"], t["next_input"] = g["tool_call_key"].shift(-1), g["status"].shift(-1), g["input_json"].shift(-1)
    e = t[t["status"] == "error"].copy()
    e["same"] = e["next_key"].notna() & ((e["next_input"] == e["input_json"]) | (e["next_input"].isna() & e["input_json"].isna()))
    e["next_ok"] = e["next_status"] == "ok"
    out = (
        e.groupby(["agent", "model", "tool_name"], dropna=False)
        .agg(errors=("status", "size"), retried=("next_key", "count"), same_input_retries=("same", "sum"), retry_ok=("next_ok", "sum"))
        .reset_index()
    )
    out["retry_rate"] = out["retried"] / out["errors"]
    out["lo"], out["hi"] = wilson(out["retried"], out["errors"])
    return out


def _llm(w, columns):
    t = w.read("llm_calls", columns + ["is_synthetic"])
    return t[~t["is_synthetic"].fillna(False)]


def _pcts(df, value, by):
    g = df.dropna(subset=[value]).groupby(by, dropna=False)[value]
    out = g.agg(["size", "mean", "max"])
    for q in (0.5, 0.9, 0.95, 0.99):
        out[f"p{round(q * 100)}"] = g.quantile(q)
    return out.reset_index()


def pd_latency_percentiles(w):
    return _pcts(_llm(w, ["agent", "model", "latency_ms"]), "latency_ms", ["agent", "model"])


def pd_latency_histogram(w):
    t = _llm(w, ["agent", "model", "latency_ms"]).dropna(subset=["latency_ms"])
    x = np.log10(np.maximum(t["latency_ms"].to_numpy(), 1.0))
    lo, hi = x.min(), x.max()
    t["bin"] = np.minimum(np.floor((x - lo) / (hi - lo) * 30), 29).astype(int) if hi > lo else 0
    g = t.groupby(["agent", "model", "bin"], dropna=False).size().reset_index(name="n")
    g["share"] = g["n"] / g.groupby(["agent", "model"], dropna=False)["n"].transform("sum")
    return g


def pd_latency_ecdf(w):
    t = _llm(w, ["agent", "model", "latency_ms"]).dropna(subset=["latency_ms"])
    d = t.groupby(["agent", "model", "latency_ms"], dropna=False).size().reset_index(name="c").sort_values(["agent", "model", "latency_ms"])
    g = d.groupby(["agent", "model"], dropna=False)["c"]
    d["cum"], d["n"] = g.cumsum(), g.transform("sum")
    keep = (d["cum"] == d["n"]) | (np.floor(d["cum"] * 100 / d["n"]) > np.floor((d["cum"] - d["c"]) * 100 / d["n"]))
    return d[keep]


def _prices() -> pd.DataFrame:
    from tracelab.pricing import price_table

    return price_table().to_pandas()


def _with_cost(t: pd.DataFrame) -> pd.DataFrame:
    p = _prices().sort_values("effective_from")
    t = t.copy()
    t["key"] = t["model"].str.strip().str.lower().str.replace(r"^.*/", "", regex=True)
    t["_row"] = np.arange(len(t))
    has = t["ts"].notna()
    m = pd.merge_asof(t[has].sort_values("ts"), p, left_on="ts", right_on="effective_from", left_by="key", right_by="match_key")
    cost = (
        m["input_tokens"] * m["input_per_mtok"]
        + m["output_tokens"] * m["output_per_mtok"]
        + m["cache_read_tokens"] * m["cache_read_per_mtok"].fillna(0)
        + m["cache_write_tokens"] * m["cache_write_per_mtok"].fillna(0)
    ) / 1e6
    m["cost_usd"] = cost.where(m["price_model"].notna())
    return pd.concat([m, t[~has]]).sort_values("_row")


TOK = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "total_tokens"]


def pd_token_usage(w):
    t = _with_cost(_llm(w, ["ts", "agent", "model", "session_key", *TOK, "cost_usd_reported"]))
    t["period_start"] = t["ts"].dt.date
    t["unpriced"] = t["cost_usd"].isna()
    g = (
        t.groupby(["period_start", "agent", "model"], dropna=False)
        .agg(
            llm_calls=("agent", "size"),
            sessions=("session_key", "nunique"),
            **{c: (c, "sum") for c in TOK},
            cost_usd=("cost_usd", "sum"),
            unpriced=("unpriced", "sum"),
        )
        .reset_index()
    )
    g["cache_hit_ratio"] = g["cache_read_tokens"] / (g["input_tokens"] + g["cache_read_tokens"] + g["cache_write_tokens"]).replace(0, np.nan)
    return g


def pd_token_usage_by_project(w):
    t = _with_cost(_llm(w, ["ts", "agent", "model", "session_key", *TOK]))
    s = w.read("sessions", ["session_key", "project"])
    t = t.merge(s, on="session_key", how="left")
    return (
        t.groupby(["project", "agent", "model"], dropna=False)
        .agg(sessions=("session_key", "nunique"), llm_calls=("agent", "size"), **{c: (c, "sum") for c in TOK}, cost_usd=("cost_usd", "sum"))
        .reset_index()
    )


def pd_pricing_coverage(w):
    t = _with_cost(_llm(w, ["ts", "agent", "model", *TOK]))
    return (
        t.groupby(["agent", "model"], dropna=False)
        .agg(calls=("agent", "size"), priced=("cost_usd", "count"), tokens=("total_tokens", "sum"), cost=("cost_usd", "sum"))
        .reset_index()
    )


def pd_usage_report(w):
    t = _with_cost(w.read("llm_calls", ["ts", "model", "is_synthetic", "cost_usd_reported", *TOK]))
    t = t[t["ts"].notna()].copy()
    t["model"] = t["model"].where(~t["is_synthetic"].fillna(False))
    t["bucket"] = t["ts"].dt.strftime("%Y-%m-%d")
    t["cost"] = t["cost_usd_reported"].fillna(t["cost_usd"])
    return (
        t.groupby(["bucket", "model"], dropna=False)
        .agg(first=("ts", "min"), last=("ts", "max"), calls=("ts", "size"), **{c: (c, "sum") for c in TOK[:4] + ["total_tokens"]}, cost=("cost", "sum"))
        .reset_index()
    )


def _runs(w) -> pd.DataFrame:
    t = w.read("tool_calls", ["session_key", "agent", "model", "tool_name", "input_json", "status", "started_at", "call_line_no", "tool_call_id"])
    t = t.sort_values(["session_key", "started_at", "call_line_no", "tool_call_id"])
    g = t.groupby("session_key", sort=False)
    same = (t["tool_name"] == g["tool_name"].shift(1)) & (
        (t["input_json"] == g["input_json"].shift(1)) | (t["input_json"].isna() & g["input_json"].shift(1).isna())
    )
    t["run_id"] = (~same).astype(int).groupby(t["session_key"]).cumsum()
    t["err"] = t["status"] == "error"
    t["intr"] = t["status"] == "interrupted"
    return (
        t.groupby(["session_key", "run_id"], sort=False)
        .agg(
            agent=("agent", "first"),
            model=("model", "first"),
            tool_name=("tool_name", "first"),
            input_json=("input_json", "first"),
            repeats=("agent", "size"),
            errors=("err", "sum"),
            interrupted=("intr", "max"),
            first_at=("started_at", "min"),
            last_at=("started_at", "max"),
        )
        .reset_index()
    )


def pd_tool_loops(w):
    r = _runs(w)
    return r[r["repeats"] >= 3]


def _session_outcomes(w):
    s = w.read(
        "sessions",
        [
            "session_key",
            "agent",
            "session_id",
            "project",
            "primary_model",
            "is_subagent",
            "started_at",
            "duration_s",
            "n_user_prompts",
            "n_llm_calls",
            "n_tool_calls",
            "n_tool_errors",
            "n_user_rejections",
            "n_interrupts",
            "n_api_errors",
            "n_compactions",
            "n_subagents",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
        ],
    )
    r = _runs(w)
    loops = r.assign(loop=r["repeats"] >= 3).groupby("session_key").agg(loops=("loop", "sum"), tint=("interrupted", "any")).reset_index()
    e = w.read("events", ["session_key", "ts", "seq", "kind", "status", "exit_code", "is_error"])
    e = e[e["ts"].notna() & e["kind"].isin(["user_prompt", "assistant_text", "thinking", "tool_call", "tool_result", "api_error", "interrupt"])]
    e = e.sort_values(["session_key", "ts", "seq"]).groupby("session_key").tail(1)
    st = e["status"]
    e["abandoned"] = (e["kind"] == "api_error") | (
        (e["kind"] == "tool_result")
        & ((st == "error") | ((st.fillna("ok") == "ok") & (e["exit_code"].fillna(0) != 0)) | (st.isna() & e["is_error"].fillna(False)))
    )
    c = _with_cost(_llm(w, ["ts", "model", "session_key", *TOK])).assign(unpriced=lambda d: d["cost_usd"].isna())
    c = c.groupby("session_key").agg(cost=("cost_usd", "sum"), unpriced=("unpriced", "sum")).reset_index()
    out = (
        s.merge(loops, on="session_key", how="left")
        .merge(e[["session_key", "kind", "abandoned"]], on="session_key", how="left")
        .merge(c, on="session_key", how="left")
    )
    out["interrupted"] = (out["n_interrupts"] > 0) | out["tint"].fillna(False).astype(bool)
    return out


def pd_session_summary(w):
    return _session_outcomes(w).sort_values("started_at", ascending=False)


def pd_session_stats(w):
    o = _session_outcomes(w)
    o["period_start"] = week_start(o["started_at"])
    g = o.groupby(["period_start", "agent", "primary_model"], dropna=False)
    p90 = g["duration_s"].quantile(0.9).rename("p90")
    return (
        g.agg(
            sessions=("session_key", "size"),
            med=("duration_s", "median"),
            turns=("n_user_prompts", "mean"),
            loops=("loops", "sum"),
            interrupted=("interrupted", "sum"),
            abandoned=("abandoned", "sum"),
            subagents=("n_subagents", "sum"),
        )
        .join(p90)
        .reset_index()
    )


def pd_compare_tool_errors(w):
    t = w.read("tool_calls", ["model", "status"])
    t = t[t["model"].notna()]
    g = t.assign(n=t["status"].isin(["ok", "error"]), k=t["status"] == "error").groupby("model")[["n", "k"]].sum().reset_index()
    g = g[g["n"] > 0]
    p = g.merge(g, how="cross", suffixes=("_a", "_b"))
    p = p[p["model_a"] < p["model_b"]].copy()
    pooled = (p["k_a"] + p["k_b"]) / (p["n_a"] + p["n_b"])
    se = np.sqrt(pooled * (1 - pooled) * (1 / p["n_a"] + 1 / p["n_b"]))
    p["z"] = (p["k_a"] / p["n_a"] - p["k_b"] / p["n_b"]) / se
    p["p"] = [math.erfc(abs(z) / math.sqrt(2)) for z in p["z"]]
    return p


def pd_compare_latency(w):
    t = _llm(w, ["model", "latency_ms"]).dropna()
    models = sorted(t["model"].unique())
    rows = []
    for i, a in enumerate(models):
        for b in models[i + 1 :]:
            x, y = t.loc[t["model"] == a, "latency_ms"], t.loc[t["model"] == b, "latency_ms"]
            pooled = pd.concat([x, y])
            ranks = pooled.rank(method="average")
            n1, n2 = len(x), len(y)
            u = ranks.iloc[:n1].sum() - n1 * (n1 + 1) / 2
            ties = pooled.value_counts()
            n = n1 + n2
            var = n1 * n2 / 12 * ((n + 1) - ((ties**3 - ties).sum()) / (n * (n - 1)))
            z = (u - n1 * n2 / 2 - 0.5 * np.sign(u - n1 * n2 / 2)) / math.sqrt(var)
            rows.append((a, b, n1, n2, x.median(), y.median(), u, z, math.erfc(abs(z) / math.sqrt(2))))
    return pd.DataFrame(rows)


def pd_metric_samples(w):
    t = w.read("tool_calls", ["agent", "model", "tool_name", "session_key", "started_at", "status"])
    s = w.read("sessions", ["session_key", "project"])
    t = t[t["status"].isin(["ok", "error"])].merge(s, on="session_key", how="left")
    t["value"] = (t["status"] == "error").astype(float)
    return t


PANDAS = {name[3:]: fn for name, fn in globals().items() if name.startswith("pd_") and callable(fn)}


# --------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)  # DuckDB's threads run in this process
    return r.ru_utime + r.ru_stime


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """(median wall seconds, median CPU seconds of this process, last result)."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        c, t = _cpu(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/tl_query_bench"))
    ap.add_argument("--sessions", type=int, default=150, help="main sessions per agent in the generated base corpus")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--target-events", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--only", help="comma-separated query names")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "queries.md")
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    args.load_at_start = os.getloadavg()[0]
    if not args.skip_build:
        base = build_base(args.work, args.sessions, args.seed)
        build_big(args.work, base, args.target_events)
    big = args.work / "big_wh"
    con = connect(big)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("events", "llm_calls", "tool_calls", "sessions")}
    size = sum(p.stat().st_size for p in big.rglob("*.parquet"))
    print(f"warehouse {big}: {counts}, {size / 1e9:.2f} GB parquet", flush=True)

    names = sorted(Q.load_all()) if not args.only else args.only.split(",")
    extra = (
        [
            ("latency_percentiles", {"metric": "turn"}),
            ("latency_percentiles", {"metric": "human_wait"}),
            ("latency_percentiles", {"metric": "tool", "by": "model,tool"}),
        ]
        if not args.only
        else []
    )
    results = []
    pw = PandasWarehouse(big)
    for name, params in [(n, {}) for n in names] + extra:
        label = name + (f" ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else "")
        Q.run(name, con, **params)  # warm-up (OS cache, DuckDB metadata)
        secs, cpu, df = timed(lambda: Q.run(name, con, **params), args.repeat)  # noqa: B023
        pandas_s = pandas_cpu = pandas_rows = None
        if not args.no_pandas and not params and name in PANDAS:
            pandas_s, pandas_cpu, pdf = timed(lambda: PANDAS[name](pw), 1)  # noqa: B023
            pandas_rows = len(pdf)
        results.append((label, df.height, secs, cpu, pandas_s, pandas_cpu, pandas_rows))
        ratio = f"{pandas_s / secs:.1f}x" if pandas_s else "-"
        print(
            f"{label:50s} {df.height:8d} rows  duckdb {secs:6.3f}s (cpu {cpu:6.2f}s)  "
            f"pandas {pandas_s or float('nan'):7.2f}s (cpu {pandas_cpu or float('nan'):6.2f}s)  {ratio}",
            flush=True,
        )
    con.close()
    write_report(args, counts, size, results)


def write_report(args, counts, size, results) -> None:
    import duckdb
    import polars

    lines = [
        "# Named query benchmark",
        "",
        f"Run finished {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, by `benchmarks/query_bench.py` "
        f"(`--sessions {args.sessions} --seed {args.seed} --target-events {args.target_events} --repeat {args.repeat}`).",
        "",
        f"* machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, pandas {pd.__version__}, Polars {polars.__version__}; 1-minute load average "
        f"{args.load_at_start:.1f} when the run started and {os.getloadavg()[0]:.1f} when it ended (other jobs share the machine)",
        f"* warehouse: {counts['events']:,} events, {counts['llm_calls']:,} LLM calls, {counts['tool_calls']:,} tool calls, "
        f"{counts['sessions']:,} sessions; {size / 1e9:.2f} GB of Parquet (a generated corpus ingested by tracelab, "
        "replicated with fresh keys and shifted dates, see the script's docstring)",
        "* DuckDB: median of the timed runs after one warm-up, default parameters, one catalog connection, result "
        "fetched into Polars; pandas: one run of the pandas implementation in the script, including reading the "
        "needed Parquet columns. Wall = elapsed seconds; CPU = CPU seconds of the process (all DuckDB threads; "
        "pandas is single-threaded). On a shared machine wall time includes waiting for a core, CPU time does not.",
        "",
        "| query | rows | DuckDB wall (s) | DuckDB CPU (s) | wall <= 1 s | pandas wall (s) | pandas CPU (s) | pandas / DuckDB (wall) | pandas rows |",
        "|---|---:|---:|---:|:---:|---:|---:|---:|---:|",
    ]
    for label, rows, secs, cpu, pandas_s, pandas_cpu, pandas_rows in results:
        lines.append(
            f"| {label} | {rows:,} | {secs:.3f} | {cpu:.2f} | {'yes' if secs <= 1.0 else '**no**'} | "
            f"{'' if pandas_s is None else f'{pandas_s:.2f}'} | {'' if pandas_cpu is None else f'{pandas_cpu:.2f}'} | "
            f"{'' if pandas_s is None else f'{pandas_s / secs:.1f}x'} | "
            f"{'' if pandas_rows is None else f'{pandas_rows:,}'} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
