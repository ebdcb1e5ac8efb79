"""Optional: collapse near-duplicate templates (``--merge``; never part of the default output).

Drain only joins lines of equal length and first token, so some templates stay apart that a
reader would call the same failure ("No such file or directory: <PATH>" with and without a
trailing detail). Here every template of one (family, tool family) is a TF-IDF vector over its
word tokens (placeholders dropped, idf computed inside the group), and templates whose cosine
similarity reaches the threshold are joined (single linkage, union-find). A merged group is
shown under the smallest id among its members — a pure function of the set of templates (not
of counts), so the view is as order-independent as the clusters themselves. It is computed at
query time and never written, so turning it on or off changes no stored id.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

import polars as pl

THRESHOLD = 0.8
_WORD = re.compile(r"[A-Za-z][A-Za-z_'-]+")


def _tokens(template: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(re.sub(r"<[A-Z*]+>", " ", template))]


def _vectors(docs: list[list[str]]) -> list[dict[str, float]]:
    df = Counter(t for d in docs for t in set(d))
    n = len(docs)
    out = []
    for d in docs:
        tf = Counter(d)
        v = {t: (c / len(d)) * (math.log((1 + n) / (1 + df[t])) + 1.0) for t, c in tf.items()} if d else {}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        out.append({t: x / norm for t, x in v.items()})
    return out


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


def merge_map(clusters: pl.DataFrame, *, threshold: float | None = None) -> pl.DataFrame:
    """``cluster_id → merged_into`` for clusters that join another one (others omitted)."""
    thr = THRESHOLD if threshold is None else threshold
    if clusters.height == 0:
        return pl.DataFrame(schema={"cluster_id": pl.String, "merged_into": pl.String})
    rows = clusters.filter(pl.col("role") == "event").select("cluster_id", "family", "tool_family", "template").to_dicts()
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["family"], r["tool_family"])].append(r)
    pairs: list[tuple[str, str]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda r: r["cluster_id"])
        vecs = _vectors([_tokens(r["template"] or "") for r in members])
        parent = list(range(len(members)))

        def find(i: int) -> int:
            while parent[i] != i:  # noqa: B023
                parent[i] = parent[parent[i]]  # noqa: B023
                i = parent[i]  # noqa: B023
            return i

        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                if vecs[i] and vecs[j] and _cosine(vecs[i], vecs[j]) >= thr:
                    a, b = find(i), find(j)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        comps: dict[int, list[dict]] = defaultdict(list)
        for i, r in enumerate(members):
            comps[find(i)].append(r)
        for comp in comps.values():
            if len(comp) < 2:
                continue
            head = min(r["cluster_id"] for r in comp)
            pairs.extend((r["cluster_id"], head) for r in comp if r["cluster_id"] != head)
    return pl.DataFrame(pairs, schema={"cluster_id": pl.String, "merged_into": pl.String}, orient="row")
