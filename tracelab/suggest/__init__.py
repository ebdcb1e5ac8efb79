"""Harness changes learnt from traces: permission rules, instruction rules, hooks, loop rules.

``tracelab.suggest(warehouse)`` (and ``tracelab suggest``) mines the warehouse for recurring
approvals, rejections, error → recovery pairs, always-failing calls, limit failures and loops,
backtests every suggestion on the history and checks it out of time. See ``README.md``.

The package itself imports nothing heavy (``import tracelab`` imports it to bind the name
``tracelab.suggest`` to the function); the miner lives in ``api.py`` and the modules beside it.
"""

__all__ = ["api", "backtest", "calls", "hooks", "instructions", "measure", "model", "patch", "permissions", "render", "shell"]
