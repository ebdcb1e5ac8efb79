-- name: timeline_distinct_clusters
-- description: Lists of failure clusters made distinct by list_distinct (NULLs dropped), in
--   the order it gives them (its hash table's): the `clusters` of timeline_steps for the
--   steps of two or more clusters, which tracelab.session.steps puts together in Python
--   but for this order. One row per list, in the order given.
-- param lists VARCHAR = NULL: the lists as a JSON array of arrays of strings (or nulls)
-- returns i BIGINT: 1-based position of the list in `lists`
-- returns clusters VARCHAR[]: that list without duplicates and NULLs

SELECT g.i, list_distinct(j.l[g.i]) AS clusters
FROM (SELECT from_json($lists, '[["VARCHAR"]]') AS l) AS j, generate_series(1, len(j.l)) AS g(i)
ORDER BY g.i
