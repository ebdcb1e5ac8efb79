"""Harness changes learnt from traces: permission rules, instruction rules, hooks, loop rules.

``tracelab.suggest(warehouse)`` (and ``tracelab suggest``) mines the warehouse for recurring
approvals, rejections, error → recovery pairs, always-failing calls, limit failures and loops,
backtests every suggestion on the history and checks it out of time. See ``README.md``.
"""

import sys
import types
from typing import Any

import polars as pl

from .api import COLUMNS, suggest
from .model import KINDS, Suggestion, suggestion_id

__all__ = ["COLUMNS", "KINDS", "Suggestion", "suggest", "suggestion_id"]


class _CallableModule(types.ModuleType):
    """``tracelab.suggest(warehouse, ...)`` calls :func:`suggest` (the package is also a module
    of submodules, so the attribute ``tracelab.suggest`` is this package once imported)."""

    def __call__(self, *args: Any, **kwargs: Any) -> pl.DataFrame:
        return suggest(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
