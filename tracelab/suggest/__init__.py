"""Harness changes learnt from traces: permission rules, instruction rules, hooks, loop rules.

``tracelab.suggest(warehouse)`` (and ``tracelab suggest``) mines the warehouse for recurring
approvals, rejections, error → recovery pairs, always-failing calls, limit failures and loops,
backtests every suggestion on the history and checks it out of time. See ``README.md``.
"""

from .api import COLUMNS, suggest
from .model import KINDS, Suggestion, suggestion_id

__all__ = ["COLUMNS", "KINDS", "Suggestion", "suggest", "suggestion_id"]
