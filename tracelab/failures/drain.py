"""A deterministic Drain-style template miner.

Drain (He et al., ICWS 2017) parses log lines with a fixed-depth tree: first by token count,
then by the first tokens, and at a leaf it joins a line to the most similar template (share of
positions with equal tokens ≥ a threshold), turning the positions that differ into ``<*>``.

Classic Drain is *online*: the templates it ends with depend on the order lines arrive in. Here
the miner is run as a batch over the **set** of distinct fingerprints (never the multiset, so
repeating a known message changes nothing), sorted canonically (group, token count, tokens),
which makes the result a function of that set alone: the same for any ingest order, any split
into batches, any number of repetitions.

Merging is deliberately conservative, because a merge is the only way new data can change an
existing cluster's template (and so its id): lines are only compared within one group (family,
tool family, sub-kind), with equal token count and equal first token (except ``prog:``
prefixes, see :func:`_bucket`); and the share of equal tokens must reach :data:`SIMILARITY`
with at most :data:`MAX_WILDCARDS` differing positions in the resulting template.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

WILDCARD = "<*>"
SIMILARITY = 0.6
MAX_WILDCARDS = 2
#: Lines shorter than this are never merged (too little context to judge similarity).
MIN_TOKENS = 3

#: The group key of a line (any hashable, sortable by its repr).
G = TypeVar("G", bound=Hashable)


def is_placeholder(tok: str) -> bool:
    return len(tok) > 2 and tok[0] == "<" and tok[-1] == ">" and tok[1:-1].isupper()


_PROG_PREFIX = re.compile(r"^[\w.+@/<>-]+:$")


def _bucket(first: str) -> str:
    """Tree branch for a line's first token. A ``prog:`` prefix (the Unix ``name: message``
    convention: ``cat:``, ``tee:``, ``<PATH>:``) and a placeholder go to one shared branch,
    so lines that differ only in the program that printed them can still meet; any other
    first token is its own branch, as in Drain."""
    if is_placeholder(first) or _PROG_PREFIX.match(first):
        return WILDCARD
    return first


@dataclass
class _Cluster:
    tokens: list[str]
    members: list[int] = field(default_factory=list)

    @property
    def n_wild(self) -> int:
        return sum(1 for t in self.tokens if t == WILDCARD)


def _similarity(template: Sequence[str], tokens: Sequence[str]) -> tuple[float, int]:
    """(share of the template's literal positions the line repeats, positions that would
    become wildcards). A placeholder is a literal like any other token here: ``<HEX>`` and
    ``<N>`` (an id that happened to be all digits) may meet in a ``<*>``, but only under the
    same similarity bar as two words."""
    equal = 0
    differ = 0
    literal = 0
    for a, b in zip(template, tokens):
        if a == WILDCARD:
            continue
        literal += 1
        if a == b:
            equal += 1
        else:
            differ += 1
    return (equal / literal if literal else 0.0), differ


def mine(lines: Iterable[tuple[G, str]], *, similarity: float = SIMILARITY, max_wildcards: int = MAX_WILDCARDS) -> dict[tuple[G, str], str]:
    """Map each distinct ``(group, fingerprint)`` to its template.

    ``group`` is any sortable key (lines of different groups never merge). The input order
    does not matter: the distinct pairs are sorted before mining.
    """
    distinct = sorted(set(lines), key=lambda gl: (repr(gl[0]), len(gl[1].split(" ")), gl[1]))
    leaves: dict[tuple, list[_Cluster]] = defaultdict(list)
    assigned: list[tuple[tuple[G, str], _Cluster]] = []
    for item in distinct:
        group, line = item
        tokens = line.split(" ") if line else [""]
        leaf_key = (repr(group), len(tokens), _bucket(tokens[0]))
        clusters = leaves[leaf_key]
        best: _Cluster | None = None
        best_score: tuple[float, int] = (-1.0, 0)
        if len(tokens) >= MIN_TOKENS:
            for c in clusters:
                sim, differ = _similarity(c.tokens, tokens)
                if sim < similarity or c.n_wild + differ > max_wildcards:
                    continue
                score = (sim, -c.n_wild)
                if score > best_score:
                    best, best_score = c, score
        if best is None:
            best = _Cluster(list(tokens))
            clusters.append(best)
        else:
            best.tokens = [a if a == b else WILDCARD for a, b in zip(best.tokens, tokens)]
        assigned.append((item, best))
    return {item: " ".join(c.tokens) for item, c in assigned}
