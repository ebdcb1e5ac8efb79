"""Agreement between a clustering and reference labels: adjusted Rand index and purity.

Both are computed from the contingency table of (predicted, reference) label pairs, so they
take any hashable labels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def _comb2(n: int) -> float:
    return n * (n - 1) / 2.0


def adjusted_rand_index(reference: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Hubert & Arabie's ARI: 1 for identical partitions, about 0 for chance agreement.

    When both partitions are trivial in the same way (everything in one cluster, or every item
    alone) the index is defined as 1.
    """
    if len(reference) != len(predicted):
        raise ValueError("reference and predicted must have the same length")
    n = len(reference)
    if n < 2:
        return 1.0
    pairs = Counter(zip(reference, predicted))
    a = Counter(reference)
    b = Counter(predicted)
    index = sum(_comb2(v) for v in pairs.values())
    sum_a = sum(_comb2(v) for v in a.values())
    sum_b = sum(_comb2(v) for v in b.values())
    expected = sum_a * sum_b / _comb2(n)
    maximum = (sum_a + sum_b) / 2.0
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def purity(reference: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Share of items whose predicted cluster's majority reference label is their own."""
    if len(reference) != len(predicted):
        raise ValueError("reference and predicted must have the same length")
    if not reference:
        return 1.0
    by_cluster: dict[Hashable, Counter] = {}
    for r, p in zip(reference, predicted):
        by_cluster.setdefault(p, Counter())[r] += 1
    return sum(c.most_common(1)[0][1] for c in by_cluster.values()) / len(reference)


def inverse_purity(reference: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Purity with the roles swapped: how whole each reference class stays (1 = never split)."""
    return purity(predicted, reference)
