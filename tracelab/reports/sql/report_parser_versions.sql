-- name: report_parser_versions
-- description: Source files by agent, parser version and schema version, with line
--   accounting (lines_total = ingested + duplicate + rejected) and when they were last parsed.
-- returns agent VARCHAR: adapter
-- returns parser_version VARCHAR: adapter parser version
-- returns schema_version INTEGER: warehouse schema version the rows were written with
-- returns files BIGINT: files
-- returns lines_total BIGINT: non-blank lines read
-- returns lines_ingested BIGINT: lines represented in events
-- returns lines_duplicate BIGINT: lines dropped as copies
-- returns lines_rejected BIGINT: lines in rejects
-- returns last_ingested_at TIMESTAMP WITH TIME ZONE: latest parse time
SELECT
    agent, parser_version, schema_version,
    count(*) AS files,
    sum(lines_total)::BIGINT AS lines_total,
    sum(lines_ingested)::BIGINT AS lines_ingested,
    sum(lines_duplicate)::BIGINT AS lines_duplicate,
    sum(lines_rejected)::BIGINT AS lines_rejected,
    max(ingested_at) AS last_ingested_at
FROM files
GROUP BY ALL
ORDER BY agent, parser_version, schema_version
