"""Reports built from the warehouse. The weekly quality report lives in
:mod:`tracelab.reports.weekly` (entry point :func:`~tracelab.reports.weekly.write_weekly_report`;
CLI ``tracelab report weekly``).

Layout: ``sql/`` holds the report's own named queries (same header format as ``queries/``),
``data`` runs them, ``sections`` formats them into sections with charts and regression flags,
``render`` fills the ``templates/`` (HTML + Markdown), ``config`` reads the regression
thresholds (``thresholds.toml`` holds the documented defaults).
"""

__all__: list[str] = []  # nothing re-exported: import the modules
