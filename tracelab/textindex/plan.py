"""From a search pattern to the index lookups that find every event it can match.

:func:`plan` returns a :class:`Plan` (or None: the index cannot narrow this pattern down, the
search scans everything):

* a plain pattern that is one token run (``ENOENT``, ``naïve``, ``日本語``) is looked up as the
  tokens the search's own regular expression matches (``tl_search_rx``, the same case rule);
  every posting of such a token *is* a match (:attr:`Plan.proven`): a token is a substring of
  its text, and the pattern cannot match across a separator (:mod:`tracelab.textindex.tokens`);
* a plain pattern with separators (``permission denied``, ``foo.py``, ``--force``) needs each
  of its token runs in the event: the first may be the end of a token, the last its start,
  those between exactly a token (:func:`tracelab.textindex.tokens.words`); the events holding
  all of them are candidates, checked with the search's predicate;
* a regular expression is parsed (Python's ``re._parser``, on the subset of syntax where it
  reads a pattern as RE2 does) for the literal strings every match must contain; each is
  looked up like a plain pattern, case-insensitively, and the candidates are checked. A
  pattern with no required literal holding a token run (``.*``, ``a|b``, ``[0-9]+``) is scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tracelab.textindex.tokens import Word, words

__all__ = ["Lookup", "Plan", "plan", "required_literals"]


@dataclass(frozen=True)
class Lookup:
    """Tokens matching ``tl_search_rx(text, false, case_sensitive, before, after)``."""

    text: str
    case_sensitive: bool
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class Plan:
    """Events holding a token of every lookup are the candidates; ``proven``: they all match."""

    lookups: tuple[Lookup, ...]
    proven: bool


def plan(pattern: str, *, regex: bool = False, case_sensitive: bool = False) -> Plan | None:
    """The index lookups for ``pattern`` (None: scan)."""
    if not pattern:
        return None
    if not regex:
        ws = words(pattern)
        if not ws:
            return None
        if len(ws) == 1 and ws[0].open_start and ws[0].open_end:  # one token run, nothing else
            return Plan((Lookup(pattern, case_sensitive),), proven=True)
        return Plan(tuple(_lookup(w, case_sensitive) for w in ws), proven=False)
    lits = required_literals(pattern)
    if lits is None:
        return None
    # inline flags are refused by required_literals, so case follows the search's own flag
    found = {_lookup(w, case_sensitive) for lit in lits for w in words(lit)}
    if not found:
        return None
    return Plan(tuple(sorted(found, key=lambda k: (-len(k.text), k.text, k.before, k.after))), proven=False)


def _lookup(w: Word, case_sensitive: bool) -> Lookup:
    before, after = w.anchors
    return Lookup(w.text, case_sensitive, before, after)


# Syntax that Python's parser reads differently from RE2 or does not know; a pattern using any
# of it is not analysed (scanned instead): POSIX classes, \p{..}, \Q..\E, \C, \z, \x{..},
# named groups and flags (?...), and x{,n} (RE2 takes it literally).
_REFUSED = re.compile(r"\[:|\\[pPQECzAZxuUNkgGL0-9]|\(\?|\{,")


def required_literals(pattern: str) -> list[str] | None:
    """Literal strings every match of the RE2 ``pattern`` contains (possibly none), or None
    when the pattern uses syntax outside the subset read alike by Python and RE2."""
    if _REFUSED.search(pattern):
        return None
    import re._parser as sre  # type: ignore[import-not-found]  # Python >= 3.11 (the project's floor); no stub ships for it

    try:
        tree = sre.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None
    return _required(list(tree), sre)


def _required(items: list, sre: Any) -> list[str]:  # noqa: C901
    from re import _constants as c  # type: ignore[attr-defined]

    out: list[str] = []
    cur: list[str] = []

    def flush() -> None:
        if cur:
            out.append("".join(cur))
            cur.clear()

    for op, av in items:
        if op is c.LITERAL:
            cur.append(chr(av))
            continue
        flush()
        if op is c.SUBPATTERN:
            out += _required(list(av[-1]), sre)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            lo, _hi, sub = av
            if lo >= 1:
                out += _required(list(sub), sre)
        # BRANCH, IN, ANY, AT, NOT_LITERAL, CATEGORY...: nothing required (alternatives are not followed)
    flush()
    return out
