"""The core metrics as ibis expressions: one definition that runs on DuckDB and on Spark.

On one machine the named SQL (``queries/``) over DuckDB is the fastest way to answer a
question. When the warehouse outgrows a machine (many users' traces in object storage), the
same four core metrics run unchanged on Spark through ibis, over the same Parquet files:

* :func:`tool_error_rates`: counts per outcome, error rate (errors / completed), Wilson bounds;
* :func:`latency_percentiles`: n, mean, p50/p90/p95/p99, max of a latency column;
* :func:`token_totals`: token sums per model/agent (optionally per day/week/month);
* :func:`compare_error_rates`: models side by side, pairwise two-proportion z-test with its
  two-sided p-value computed in the expression (so it runs on the cluster too).

Only portable operations are used (group-by, filters, arithmetic, ``sqrt``/``exp``, exact
``quantile``), and every division is guarded, because Spark 4 runs in ANSI mode where a
division by zero fails the job. On DuckDB, ``quantile`` compiles to ``quantile_cont``; on
Spark to ``percentile``; both interpolate linearly between closest ranks. Pass
``approx=True`` to use ``approx_quantile`` (Spark ``percentile_approx``) on very large data.

Tables come from :func:`duckdb_tables` / :func:`spark_tables`, which read exactly the Parquet
files listed in the warehouse snapshot (``_snapshot.json``), locally or in object storage.
``tests/test_spark.py`` runs every function here on both backends and asserts equal results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
from pyarrow import fs as pafs

from tracelab.errors import WarehouseMissing
from tracelab.metrics.stats import SAMPLE_NOTE, Z95
from tracelab.store.connection import scratch_connection

__all__ = [
    "compare_error_rates",
    "duckdb_tables",
    "latency_percentiles",
    "snapshot_files",
    "spark_tables",
    "token_totals",
    "tool_error_rates",
]

CORE_TABLES = ("tool_calls", "llm_calls")


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------


def snapshot_files(root: str, table: str) -> list[str]:
    """URIs of the Parquet files of ``table`` in the committed snapshot of the warehouse at
    ``root`` (a local path or a URI pyarrow understands: ``s3://bucket/wh``, ``gs://...``).

    Reading the snapshot, not listing directories, keeps readers off the files of an ingest
    that has not committed yet, exactly like the DuckDB catalog does.
    """
    filesystem, base = pafs.FileSystem.from_uri(root) if "://" in root else (pafs.LocalFileSystem(), root)
    try:
        with filesystem.open_input_stream(f"{base.rstrip('/')}/_snapshot.json") as fh:
            snap = json.loads(fh.read())
    except FileNotFoundError:
        raise WarehouseMissing(f"no tracelab warehouse at {root} (run `tracelab ingest --warehouse {root}` first)", path=root) from None
    rels = snap.get("tables", {}).get(table, [])
    return [f"{root.rstrip('/')}/{rel}" for rel in rels]


def duckdb_tables(warehouse: str, con: Any = None, tables: Sequence[str] = CORE_TABLES) -> dict[str, ir.Table]:
    """ibis tables over the warehouse on an ibis DuckDB backend (by default a new one over a
    :func:`tracelab.store.scratch_connection`, without its memory limit)."""
    con = con if con is not None else ibis.duckdb.from_connection(scratch_connection(memory_limit=None))
    root = str(Path(warehouse).expanduser().resolve())
    return {t: con.read_parquet(snapshot_files(root, t), table_name=t, union_by_name=True) for t in tables}


def spark_tables(
    warehouse: str,
    session: Any,
    con: Any = None,
    tables: Sequence[str] = CORE_TABLES,
    uri_prefix: tuple[str, str] | None = None,
) -> dict[str, ir.Table]:
    """ibis tables over the warehouse on Spark.

    ``session`` is a ``pyspark.sql.SparkSession``; ``con`` an ibis pyspark backend over it
    (made if None). ``uri_prefix=("s3://", "s3a://")`` rewrites the snapshot's URIs for
    Hadoop's connectors when pyarrow and Spark name the same store differently.
    """
    con = con if con is not None else ibis.pyspark.connect(session)
    out = {}
    for t in tables:
        files = snapshot_files(warehouse, t)
        if uri_prefix:
            files = [f.replace(uri_prefix[0], uri_prefix[1], 1) for f in files]
        # mergeSchema: files written by different tracelab versions may differ in columns
        df = session.read.option("mergeSchema", "true").parquet(*files)
        # one view name per (table, file set): views are looked up by name when a query runs,
        # so two warehouses must never share one
        view = f"tracelab_{t}_{hashlib.sha1(chr(0).join(files).encode()).hexdigest()[:12]}"
        df.createOrReplaceTempView(view)
        out[t] = con.table(view)
    return out


# --------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------


def _ratio(k: ir.NumericValue, n: ir.NumericValue) -> ir.FloatingValue:
    nf = n.cast("float64")
    return ibis.ifelse(nf > 0, k.cast("float64") / ibis.ifelse(nf > 0, nf, 1.0), ibis.null("float64"))


def _wilson(k: ir.NumericValue, n: ir.NumericValue, z: float = Z95) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    nf = n.cast("float64")
    safe_n = ibis.ifelse(nf > 0, nf, 1.0)
    p = k.cast("float64") / safe_n
    centre = p + z * z / (2 * safe_n)
    radicand = p * (1 - p) / safe_n + z * z / (4 * safe_n * safe_n)
    half = z * ibis.ifelse(radicand > 0, radicand, 0.0).sqrt()
    denom = 1 + z * z / safe_n
    lo = ibis.cases((nf <= 0, ibis.null("float64")), (k == 0, 0.0), else_=ibis.greatest((centre - half) / denom, 0.0))
    hi = ibis.cases((nf <= 0, ibis.null("float64")), (k == n, 1.0), else_=ibis.least((centre + half) / denom, 1.0))
    return lo, hi


def tool_error_rates(tool_calls: ir.Table, by: Sequence[str] = ("agent", "model", "tool_name")) -> ir.Table:
    """Outcome counts, error rate (errors / (ok + errors)) and its Wilson 95 % bounds per ``by``."""
    st = tool_calls.status
    g = tool_calls.group_by(list(by)).aggregate(
        calls=tool_calls.count(),
        ok=(st == "ok").sum(),
        errors=(st == "error").sum(),
        user_rejections=(st == "user_rejected").sum(),
        interruptions=(st == "interrupted").sum(),
        no_result=(st == "no_result").sum(),
    )
    g = g.mutate(completed=g.ok + g.errors)
    lo, hi = _wilson(g.errors, g.completed)
    return g.mutate(error_rate=_ratio(g.errors, g.completed), error_rate_lo=lo, error_rate_hi=hi).order_by(list(by))


def latency_percentiles(
    table: ir.Table,
    value: str = "latency_ms",
    by: Sequence[str] = ("agent", "model"),
    quantiles: Sequence[float] = (0.5, 0.9, 0.95, 0.99),
    approx: bool = False,
) -> ir.Table:
    """n, mean, percentiles and max of ``value`` per ``by`` (null values left out)."""
    t = table.filter(table[value].notnull())
    v = t[value]
    aggs: dict[str, Any] = {"n": t.count(), "mean_ms": v.mean()}
    for q in quantiles:
        aggs[f"p{round(q * 100):d}_ms"] = v.approx_quantile(q) if approx else v.quantile(q)
    aggs["max_ms"] = v.max().cast("float64")
    return t.group_by(list(by)).aggregate(**aggs).order_by(list(by))


_UNITS = {"day": "D", "week": "W", "month": "M"}


def token_totals(llm_calls: ir.Table, by: Sequence[str] = ("agent", "model"), period: str | None = None) -> ir.Table:
    """Token sums, calls and cache hit ratio per ``by`` (and ``period`` of ``ts``), synthetic
    responses left out."""
    t = llm_calls.filter(~llm_calls.is_synthetic.fill_null(False))
    keys = list(by)
    if period is not None:
        if period not in _UNITS:
            raise ValueError(f"period must be day, week or month; got {period!r}")
        t = t.mutate(period_start=t.ts.truncate(_UNITS[period]).date())
        keys = ["period_start", *keys]
    cols = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "total_tokens")
    g = t.group_by(keys).aggregate(llm_calls=t.count(), **{c: t[c].sum() for c in cols})
    return g.mutate(cache_hit_ratio=_ratio(g.cache_read_tokens, g.input_tokens + g.cache_read_tokens + g.cache_write_tokens)).order_by(keys)


def _erfcc_core(t: ir.FloatingValue, ax: ir.FloatingValue) -> ir.FloatingValue:
    """Numerical Recipes ``erfcc`` for ``ax >= 0`` given ``t = 1 / (1 + ax / 2)`` (relative error
    < 1.2e-7); the same polynomial as the SQL macro ``tl_erfc_core``."""
    poly = (
        -ax * ax
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))
        )
    )
    return t * poly.exp()


def compare_error_rates(tool_calls: ir.Table, models: Sequence[str] | None = None, by: str | None = None) -> ir.Table:
    """Tool error rate of every pair of models (within each value of ``by``, e.g. ``agent`` or
    ``tool_name``): sample sizes, rates, Wilson bounds, difference, pooled z and two-sided p,
    plus the sampling note. Pairs are ordered alphabetically (model_a < model_b); rows come
    ordered by stratum, model_a, model_b."""
    t = tool_calls.filter(tool_calls.model.notnull())
    if models is not None:
        t = t.filter(t.model.isin(list(models)))
    # join key: '' stands for "no stratum" so the pair join is a plain equi-join on every engine
    t = t.mutate(stratum=t[by].cast("string").fill_null("") if by else ibis.literal(""))
    c = t.group_by(["stratum", "model"]).aggregate(n=t.status.isin(["ok", "error"]).sum(), k=(t.status == "error").sum())
    c = c.filter(c.n > 0)
    a = c.rename(model_a="model", n_a="n", k_a="k")
    b = c.rename(stratum_b="stratum", model_b="model", n_b="n", k_b="k")
    p = a.join(b, [a.stratum == b.stratum_b, a.model_a < b.model_b]).drop("stratum_b")
    # stepwise columns keep the generated code small (Spark compiles every expression)
    p = p.mutate(
        rate_a=p.k_a.cast("float64") / p.n_a.cast("float64"),
        rate_b=p.k_b.cast("float64") / p.n_b.cast("float64"),
        pooled=(p.k_a + p.k_b).cast("float64") / (p.n_a + p.n_b).cast("float64"),
    )
    p = p.mutate(var=p.pooled * (1 - p.pooled) * (1.0 / p.n_a.cast("float64") + 1.0 / p.n_b.cast("float64")))
    p = p.mutate(z=ibis.ifelse(p.var > 0, (p.rate_a - p.rate_b) / ibis.ifelse(p.var > 0, p.var, 1.0).sqrt(), ibis.null("float64")))
    p = p.mutate(_x=p.z.abs() / 2**0.5).mutate(_t=lambda r: 1.0 / (1.0 + 0.5 * r._x))
    p = p.mutate(_r=_erfcc_core(p._t, p._x))
    lo_a, hi_a = _wilson(p.k_a, p.n_a)
    lo_b, hi_b = _wilson(p.k_b, p.n_b)
    return p.select(
        stratum=ibis.ifelse(p.stratum == "", ibis.null("string"), p.stratum) if by else ibis.null("string"),
        model_a=p.model_a,
        model_b=p.model_b,
        completed_a=p.n_a,
        errors_a=p.k_a,
        rate_a=p.rate_a,
        rate_a_lo=lo_a,
        rate_a_hi=hi_a,
        completed_b=p.n_b,
        errors_b=p.k_b,
        rate_b=p.rate_b,
        rate_b_lo=lo_b,
        rate_b_hi=hi_b,
        diff=p.rate_a - p.rate_b,
        z=p.z,
        p_value=ibis.ifelse(p.var > 0, ibis.least(p._r, 1.0), 1.0),
        note=ibis.literal(SAMPLE_NOTE),
    ).order_by(["stratum", "model_a", "model_b"])
