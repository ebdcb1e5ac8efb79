"""Cross-model comparison of any metric: side by side, with sample sizes, intervals and tests.

:func:`compare_models` fetches per-observation samples with the named query
``metric_samples`` (so the metric definitions are the SQL ones) and hands them to
:func:`compare_samples`, which is pure and works on any frame with ``model`` and ``value``
columns. For every pair of models (within each stratum when ``by`` is given):

* proportions (tool_error, session_abandoned, ...): rates with Wilson 95 % intervals, the
  difference with Newcombe's hybrid-score 95 % interval, and a two-proportion z-test, or
  Fisher's exact test when an expected cell count is below 5 (``test='auto'``) or on request;
* continuous values (latencies, tokens, cost): medians with bootstrap 95 % intervals, the
  difference of medians with a bootstrap interval, and a Mann-Whitney U test (``test='auto'``)
  or a bootstrap test on the difference of medians (``test='bootstrap'``).

Every row carries :data:`~tracelab.metrics.stats.SAMPLE_NOTE`: public or community trace
corpora are not representative samples, and calls within one session are not independent, so
the tests describe the corpus at hand and nothing beyond it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from tracelab import library as q
from tracelab.metrics import stats as st

__all__ = ["METRIC_KINDS", "compare_models", "compare_samples"]

#: Metric name (``metric_samples`` choices) -> kind.
METRIC_KINDS = {
    "llm": "continuous",
    "tool": "continuous",
    "turn": "continuous",
    "human_wait": "continuous",
    "tool_error": "proportion",
    "tool_failure": "proportion",
    "user_rejection": "proportion",
    "output_tokens": "continuous",
    "total_tokens": "continuous",
    "call_cost_usd": "continuous",
    "session_abandoned": "proportion",
    "session_interrupted": "proportion",
    "session_duration_s": "continuous",
    "session_cost_usd": "continuous",
}

_BY_COLUMN = {"agent": "agent", "tool": "tool_name", "project": "project"}

SCHEMA = {
    "metric": pl.String,
    "stratum": pl.String,
    "model_a": pl.String,
    "model_b": pl.String,
    "n_a": pl.Int64,
    "n_b": pl.Int64,
    "estimate": pl.String,
    "value_a": pl.Float64,
    "value_a_lo": pl.Float64,
    "value_a_hi": pl.Float64,
    "value_b": pl.Float64,
    "value_b_lo": pl.Float64,
    "value_b_hi": pl.Float64,
    "diff": pl.Float64,
    "diff_lo": pl.Float64,
    "diff_hi": pl.Float64,
    "test": pl.String,
    "statistic": pl.Float64,
    "p_value": pl.Float64,
    "note": pl.String,
}


def _newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Newcombe (1998) hybrid-score interval of p1 - p2 from the two Wilson intervals."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = st.wilson_interval(k1, n1)
    l2, u2 = st.wilson_interval(k2, n2)
    if l1 is None or u1 is None or l2 is None or u2 is None:  # unreachable: n1, n2 > 0 above
        raise ValueError("both samples need n > 0")
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _proportion_row(a: Any, b: Any, test: str) -> dict[str, Any]:
    k1, n1 = int(a.sum()), len(a)
    k2, n2 = int(b.sum()), len(b)
    lo1, hi1 = st.wilson_interval(k1, n1)
    lo2, hi2 = st.wilson_interval(k2, n2)
    dlo, dhi = _newcombe(k1, n1, k2, n2)
    if test == "auto":
        total_k, total = k1 + k2, n1 + n2
        expected = [n * total_k / total for n in (n1, n2)] + [n * (total - total_k) / total for n in (n1, n2)]
        test = "fisher" if min(expected) < 5 else "z"
    if test == "fisher":
        name, stat, p = "Fisher exact (two-sided)", None, st.fisher_exact(k1, n1, k2, n2)
    elif test == "z":
        z, p = st.two_proportion_z(k1, n1, k2, n2)
        name, stat = "two-proportion z (pooled)", z
    else:
        raise ValueError(f"test for proportions must be auto, z or fisher; got {test!r}")
    return {
        "n_a": n1,
        "n_b": n2,
        "estimate": "rate",
        "value_a": k1 / n1,
        "value_a_lo": lo1,
        "value_a_hi": hi1,
        "value_b": k2 / n2,
        "value_b_lo": lo2,
        "value_b_hi": hi2,
        "diff": k1 / n1 - k2 / n2,
        "diff_lo": dlo,
        "diff_hi": dhi,
        "test": name,
        "statistic": stat,
        "p_value": p,
    }


def _continuous_row(a: Any, b: Any, test: str, n_boot: int, seed: int) -> dict[str, Any]:
    lo1, hi1 = st.bootstrap_median_ci(a, n_boot=n_boot, seed=seed)
    lo2, hi2 = st.bootstrap_median_ci(b, n_boot=n_boot, seed=seed + 1)
    diff, dlo, dhi, p_boot = st.bootstrap_median_diff(a, b, n_boot=n_boot, seed=seed + 2)
    if test in ("auto", "mannwhitney"):
        _u, z, p = st.mann_whitney_u(a, b)
        name, stat = "Mann-Whitney U (normal approximation)", z
    elif test == "bootstrap":
        name, stat, p = "bootstrap difference of medians", None, p_boot
    else:
        raise ValueError(f"test for continuous metrics must be auto, mannwhitney or bootstrap; got {test!r}")
    return {
        "n_a": len(a),
        "n_b": len(b),
        "estimate": "median",
        "value_a": float(np.median(a)),
        "value_a_lo": lo1,
        "value_a_hi": hi1,
        "value_b": float(np.median(b)),
        "value_b_lo": lo2,
        "value_b_hi": hi2,
        "diff": diff,
        "diff_lo": dlo,
        "diff_hi": dhi,
        "test": name,
        "statistic": stat,
        "p_value": p,
    }


def compare_samples(
    samples: pl.DataFrame,
    kind: str,
    *,
    metric: str = "",
    models: Sequence[str] | None = None,
    stratum: str | None = None,
    test: str = "auto",
    min_n: int = 1,
    n_boot: int = 1000,
    seed: int = 0,
) -> pl.DataFrame:
    """Pairwise comparison of the ``value`` column between the models of ``samples``.

    ``kind`` is ``proportion`` (values 0/1) or ``continuous``. ``stratum`` names a column to
    compare within (None = whole frame). Pairs follow the order of ``models`` when given, else
    alphabetical order; (stratum, model) cells with fewer than ``min_n`` observations are left out.
    """
    if kind not in ("proportion", "continuous"):
        raise ValueError(f"kind must be proportion or continuous; got {kind!r}")
    df = samples.filter(pl.col("model").is_not_null() & pl.col("value").is_not_null())
    if models is not None:
        df = df.filter(pl.col("model").is_in(list(models)))
    scol = stratum if stratum is not None else "__all__"
    if stratum is None:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias(scol))
    order = {m: i for i, m in enumerate(models)} if models is not None else None
    rows: list[dict[str, Any]] = []
    strata = df.get_column(scol).unique().sort(nulls_last=False).to_list()
    for s in strata:
        part = df.filter(pl.col(scol).is_null() if s is None else pl.col(scol) == s)
        groups = {m: g.get_column("value").to_numpy() for (m,), g in part.group_by("model")}
        names = [m for m in groups if len(groups[m]) >= max(1, min_n)]
        names.sort(key=(lambda m: order[m]) if order is not None else None)
        for i, ma in enumerate(names):
            for mb in names[i + 1 :]:
                a, b = groups[ma], groups[mb]
                if kind == "proportion":
                    body = _proportion_row(a, b, test)
                else:
                    body = _continuous_row(a, b, test, n_boot, seed)
                rows.append({"metric": metric, "stratum": None if s is None else str(s), "model_a": ma, "model_b": mb, **body, "note": st.SAMPLE_NOTE})
    return pl.DataFrame(rows, schema=SCHEMA)


def compare_models(
    metric: str,
    *,
    warehouse: Any = None,
    con: Any = None,
    models: Sequence[str] | None = None,
    by: str | None = None,
    test: str = "auto",
    min_n: int = 1,
    n_boot: int = 1000,
    seed: int = 0,
    **filters: Any,
) -> pl.DataFrame:
    """Compare ``metric`` (a :data:`METRIC_KINDS` name) across ``models`` (default: all).

    ``by`` stratifies by ``agent``, ``tool`` or ``project``; ``filters`` are the usual query
    filters (since, until, agent, model, project, tool, include_subagents). Returns one row per
    pair with the columns of :data:`SCHEMA`.
    """
    if metric not in METRIC_KINDS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRIC_KINDS)}")
    if by is not None and by not in _BY_COLUMN:
        raise ValueError(f"by must be one of {', '.join(_BY_COLUMN)} or None; got {by!r}")
    samples = q.run("metric_samples", con, warehouse=warehouse, metric=metric, **filters)
    return compare_samples(
        samples,
        METRIC_KINDS[metric],
        metric=metric,
        models=models,
        stratum=_BY_COLUMN[by] if by else None,
        test=test,
        min_n=min_n,
        n_boot=n_boot,
        seed=seed,
    )
