"""The ibis core metrics give the same answers on DuckDB and on Spark (local mode), over the
same Parquet files, and the same answers as the named SQL.

Counts must be equal; rates, z and p-values equal to floating-point noise; exact percentiles
(DuckDB ``quantile_cont``, Spark ``percentile``) equal to 1e-9; Spark's approximate
percentiles (``percentile_approx``) at the right rank (within 1/n). One small Spark session
(local[1], one shuffle partition, no UI) serves the whole module.
"""

from __future__ import annotations

import math
import shutil

import polars as pl
import pytest
from test_queries import build_samples_wh, build_synth

import tracelab.library as Q
from tracelab.catalog import connect

pytestmark = pytest.mark.spark

pyspark = pytest.importorskip("pyspark")
ibis_core = pytest.importorskip("tracelab.metrics.ibis_core")


@pytest.fixture(scope="session")
def spark():
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: Spark needs a JVM (Java 17)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("tracelab-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def both(spark, tmp_path_factory):
    """(duckdb tables, spark tables, catalog connection) for the generated and the real warehouse."""
    out = {}
    for name, wh in (("synth", build_synth(tmp_path_factory)[0]), ("samples", build_samples_wh(tmp_path_factory))):
        out[name] = (ibis_core.duckdb_tables(str(wh)), ibis_core.spark_tables(str(wh), spark), connect(wh))
    yield out
    for _, _, con in out.values():
        con.close()


def _equal(a: pl.DataFrame, b: pl.DataFrame, keys: list[str], rel: float = 1e-9) -> None:
    assert a.columns == b.columns
    a, b = a.sort(keys, nulls_last=True), b.sort(keys, nulls_last=True)
    assert a.height == b.height
    for c in a.columns:
        for x, y in zip(a[c].to_list(), b[c].to_list()):
            if isinstance(x, float) or isinstance(y, float):
                assert (x is None) == (y is None), (c, x, y)
                if x is not None:
                    assert math.isclose(x, y, rel_tol=rel, abs_tol=1e-12), (c, x, y)
            else:
                assert x == y, (c, x, y)


def _run(expr) -> pl.DataFrame:
    df = expr.to_polars()
    # Spark returns integer sums as int64 and DuckDB as int64/HUGEINT-cast; compare values
    return df.with_columns([pl.col(c).cast(pl.Int64) for c, t in df.schema.items() if t.is_integer()])


@pytest.mark.parametrize("wh", ["synth", "samples"])
def test_tool_error_rates_duckdb_equals_spark_equals_sql(both, wh):
    dk, sp, con = both[wh]
    keys = ["agent", "model", "tool_name"]
    d = _run(ibis_core.tool_error_rates(dk["tool_calls"]))
    _equal(d, _run(ibis_core.tool_error_rates(sp["tool_calls"])), keys)
    sql = Q.run("tool_error_rates", con, period="all").select(d.columns)
    _equal(d, sql, keys)


@pytest.mark.parametrize("wh", ["synth", "samples"])
def test_token_totals_duckdb_equals_spark_equals_sql(both, wh):
    dk, sp, con = both[wh]
    keys = ["period_start", "agent", "model"]
    d = _run(ibis_core.token_totals(dk["llm_calls"], period="day"))
    _equal(d, _run(ibis_core.token_totals(sp["llm_calls"], period="day")), keys)
    sql = Q.run("token_usage", con, period="day").select(d.columns)
    _equal(d, sql, keys)
    w = _run(ibis_core.token_totals(sp["llm_calls"], period="week"))
    assert w["total_tokens"].sum() == d["total_tokens"].sum()


def test_latency_percentiles_duckdb_equals_spark_equals_sql(both):
    dk, sp, con = both["synth"]

    def completed(t):
        return t.filter(t.status.isin(["ok", "error"]))

    for table, by, metric, sql_by in (("llm_calls", ["agent", "model"], "llm", "model"), ("tool_calls", ["agent", "model", "tool_name"], "tool", "model,tool")):
        dt_, st_ = dk[table], sp[table]
        if table == "llm_calls":
            dt_, st_ = dt_.filter(~dt_.is_synthetic), st_.filter(~st_.is_synthetic)
        else:
            dt_, st_ = completed(dt_), completed(st_)
        d = _run(ibis_core.latency_percentiles(dt_, by=by))
        _equal(d, _run(ibis_core.latency_percentiles(st_, by=by)), by)
        sql = Q.run("latency_percentiles", con, metric=metric, by=sql_by).select(d.columns)
        _equal(d, sql, by)
    # Spark's approximate percentiles (percentile_approx returns an observed value) sit at the
    # right rank: the share of observations <= the approximate p-th percentile is p within 1/n
    llm = dk["llm_calls"].filter(~dk["llm_calls"].is_synthetic & dk["llm_calls"].latency_ms.notnull())
    values = llm.select("agent", "model", "latency_ms").to_polars()
    approx = _run(ibis_core.latency_percentiles(sp["llm_calls"].filter(~sp["llm_calls"].is_synthetic), approx=True))
    assert approx.height >= 5
    for r in approx.iter_rows(named=True):
        v = values.filter((pl.col("agent") == r["agent"]) & (pl.col("model") == r["model"]))["latency_ms"]
        n = v.len()
        for q in (50, 90, 95, 99):
            x = r[f"p{q}_ms"]
            below, at_or_below = (v < x).sum() / n, (v <= x).sum() / n
            assert below - 1 / n <= q / 100 <= at_or_below + 1 / n, (r["model"], q, x)


def test_model_comparison_duckdb_equals_spark_equals_sql(both):
    dk, sp, con = both["synth"]
    keys = ["stratum", "model_a", "model_b"]
    d = _run(ibis_core.compare_error_rates(dk["tool_calls"], by="agent"))
    s = _run(ibis_core.compare_error_rates(sp["tool_calls"], by="agent"))
    _equal(d, s, keys)
    sql = Q.run("compare_tool_errors", con, by="agent").select([c for c in d.columns])
    _equal(d, sql, keys, rel=2e-7)  # p-values: same polynomial, summed in a different order
    assert d.height == 9 and d["note"].str.contains("not representative samples").all()
