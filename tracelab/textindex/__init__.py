"""The search index: token postings per ``events`` part, kept by ingest, used by ``tracelab search``.

* :mod:`~tracelab.textindex.tokens`: what a token is, and how a pattern splits into them;
* :mod:`~tracelab.textindex.plan`: the lookups a pattern needs (or none: scan);
* :mod:`~tracelab.textindex.segments`: the segments on disk, built, synced and checked;
* :mod:`~tracelab.textindex.search`: the search over the index's candidates.

Layout and guarantees: data/README.md, "Search index".
"""

from tracelab.textindex.segments import TABLE, IndexStatus, Prebuild, Problem, build_segment, check, repair, status, sync

__all__ = ["TABLE", "IndexStatus", "Prebuild", "Problem", "build_segment", "check", "repair", "status", "sync"]
