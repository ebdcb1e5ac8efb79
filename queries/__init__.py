"""The named SQL queries, shipped in the wheel as ``tracelab.queries``.

One query per ``.sql`` file; ``_macros.sql`` holds the shared macros installed on every
store connection. See :mod:`tracelab.store.sql` for the header format and :mod:`tracelab.library` for the runner.
"""

__all__: list[str] = []  # nothing re-exported: import the modules
