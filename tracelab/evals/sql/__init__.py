"""SQL of the eval export (read by :mod:`tracelab.store.sql`)."""

__all__: list[str] = []  # SQL files only; see tracelab.store.sql
