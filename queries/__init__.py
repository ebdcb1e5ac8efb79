"""The named SQL queries, shipped in the wheel as ``tracelab.queries``.

One query per ``.sql`` file; ``_macros.sql`` holds the shared macros installed on every
catalog connection. See :mod:`tracelab.query` for the header format and the runner.
"""
