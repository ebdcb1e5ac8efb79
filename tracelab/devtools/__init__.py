"""Developer tooling that is not part of tracelab's runtime: peer-tool harnesses used by
tests and benchmarks to check tracelab's numbers against other implementations.

Nothing here is imported by the ingest/store/query code paths; modules in this package may
shell out to external programs (npm, node) and must degrade to "unavailable, because …"
rather than fail when those programs are missing.
"""

__all__: list[str] = []  # nothing re-exported: import the modules
