"""tracelab benchmarks: rerunnable scripts; results land in benchmarks/RESULTS.md."""
