"""Small, dependency-free statistics for comparing models: intervals and tests.

Everything here is plain Python (plus NumPy for ranks and resampling) so that tracelab does not
need SciPy. The formulas are the textbook ones; where SciPy has the same test, the result
matches ``scipy.stats`` with the settings named in each docstring. The SQL twins live in
``queries/_macros.sql`` (``tl_wilson_lo/hi``, ``tl_p_two_sided``) and in the ``compare_*``
queries; ``tests/test_metrics.py`` checks that both give the same numbers.

All tests here assume independent observations. Calls within one session are not independent
(one confused session produces many failures), so p-values on trace corpora are optimistic;
:data:`SAMPLE_NOTE` says so and travels with every comparison result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "SAMPLE_NOTE",
    "Z95",
    "bootstrap_median_ci",
    "bootstrap_median_diff",
    "fisher_exact",
    "mann_whitney_u",
    "p_two_sided",
    "two_proportion_z",
    "wilson_interval",
]

#: z of a two-sided 95 % interval.
Z95 = 1.959963984540054

#: Same text as the SQL macro ``tl_sample_note()``.
SAMPLE_NOTE = (
    "Descriptive only: community or public trace corpora are not representative samples of any "
    "model's or agent's behaviour (self-selected users, tasks, versions and settings); "
    "p-values assume independent calls, which calls within a session are not."
)


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float] | tuple[None, None]:
    """Wilson score interval of a proportion ``k / n``; ``(None, None)`` when ``n == 0``."""
    if n <= 0:
        return (None, None)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    p = k / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0))
    # k = 0 and k = n have exact bounds 0 and 1; the formula leaves rounding dust there
    lo = 0.0 if k == 0 else max(0.0, (centre - half) / denom)
    hi = 1.0 if k == n else min(1.0, (centre + half) / denom)
    return (lo, hi)


def p_two_sided(z: float) -> float:
    """Two-sided p-value of a standard-normal statistic."""
    if math.isinf(z):
        return 0.0
    return min(1.0, math.erfc(abs(z) / math.sqrt(2.0)))


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> tuple[float | None, float]:
    """Pooled two-proportion z-test of ``k1/n1`` vs ``k2/n2``: ``(z, two-sided p)``.

    ``z`` is None (and p = 1) when the pooled standard error is zero (both rates 0 or both 1).
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both samples need at least one observation")
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return (None, 1.0)
    z = (k1 / n1 - k2 / n2) / se
    return (z, p_two_sided(z))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact test of the 2x2 table ``[[k1, n1-k1], [k2, n2-k2]]``.

    The p-value sums the hypergeometric probabilities of every table with the same margins
    that is no more likely than the observed one (relative tolerance 1e-7), which is what
    ``scipy.stats.fisher_exact(table, alternative='two-sided')`` does.
    """
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError("need 0 <= k <= n in both samples")
    total_k = k1 + k2
    n = n1 + n2
    lo, hi = max(0, total_k - n2), min(total_k, n1)
    denom = _log_comb(n, total_k)

    def logp(a: int) -> float:
        return _log_comb(n1, a) + _log_comb(n2, total_k - a) - denom

    observed = logp(k1)
    p = 0.0
    for a in range(lo, hi + 1):
        la = logp(a)
        if la <= observed + 1e-7 * abs(observed) + 1e-12:
            p += math.exp(la)
    return min(1.0, p)


def _average_ranks(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Ranks 1..n with ties given their average rank, and the tie term sum(t^3 - t)."""
    order = np.argsort(values, kind="mergesort")
    sorted_v = values[order]
    ranks = np.empty(len(values), dtype=float)
    # boundaries of runs of equal values
    change = np.concatenate(([True], sorted_v[1:] != sorted_v[:-1], [True]))
    idx = np.flatnonzero(change)
    tie_term = 0.0
    for start, stop in zip(idx[:-1], idx[1:]):
        avg = (start + 1 + stop) / 2.0
        ranks[order[start:stop]] = avg
        t = stop - start
        tie_term += t**3 - t
    return ranks, tie_term


def mann_whitney_u(x: Sequence[float], y: Sequence[float]) -> tuple[float, float | None, float]:
    """Two-sided Mann-Whitney U test: ``(U of x, z, p)``.

    Normal approximation with tie correction and continuity correction, as
    ``scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='asymptotic')``.
    ``z`` is None (p = 1) when every observation is tied.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    n1, n2 = len(xa), len(ya)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one observation")
    ranks, tie_term = _average_ranks(np.concatenate([xa, ya]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    n = n1 + n2
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return (u1, None, 1.0)
    diff = u1 - mu
    z = (diff - 0.5 * np.sign(diff)) / math.sqrt(var)
    return (u1, float(z), p_two_sided(float(z)))


def _boot_medians(xa: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Medians of ``n_boot`` resamples of ``xa``, drawn in chunks of <= ~4M values (bounded memory)."""
    per_chunk = max(1, 4_000_000 // max(1, len(xa)))
    out = np.empty(n_boot)
    for start in range(0, n_boot, per_chunk):
        m = min(per_chunk, n_boot - start)
        out[start : start + m] = np.median(xa[rng.integers(0, len(xa), size=(m, len(xa)))], axis=1)
    return out


def bootstrap_median_ci(x: Sequence[float], *, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the median of ``x`` (seeded: same input, same answer)."""
    xa = np.asarray(x, dtype=float)
    if len(xa) == 0:
        raise ValueError("empty sample")
    meds = _boot_medians(xa, n_boot, np.random.default_rng(seed))
    return (float(np.quantile(meds, alpha / 2)), float(np.quantile(meds, 1 - alpha / 2)))


def bootstrap_median_diff(
    x: Sequence[float], y: Sequence[float], *, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float, float, float]:
    """Bootstrap of ``median(x) - median(y)``: ``(observed diff, lo, hi, p)``.

    Each replicate resamples both groups independently. ``p`` is the two-sided bootstrap
    p-value ``2 * min(share of replicates <= 0, share >= 0)`` (capped at 1).
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if len(xa) == 0 or len(ya) == 0:
        raise ValueError("both samples need at least one observation")
    rng = np.random.default_rng(seed)
    mx = _boot_medians(xa, n_boot, rng)
    my = _boot_medians(ya, n_boot, rng)
    d = mx - my
    p = min(1.0, 2 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0))))
    return (
        float(np.median(xa) - np.median(ya)),
        float(np.quantile(d, alpha / 2)),
        float(np.quantile(d, 1 - alpha / 2)),
        p,
    )
