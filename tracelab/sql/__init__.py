"""Internal SQL of tracelab (derive, failures, info, search, ingest, demo); read by :mod:`tracelab.store.sql`."""

__all__: list[str] = []  # SQL files only; see tracelab.store.sql
