-- name: derive_project_names
-- description: Project root and name of every (dir, repository) pair of `session_roots` and
--   `_prior_roots` (the pairs of sessions kept from an earlier derive: a refresh; empty on a
--   rebuild), as temp table `project_names`; rule in data/README.md "Projects".
--   project_root: the repository, else the one repository every session of the same dir
--   recorded between them, else the dir; project: the root's name (the remote's path, e.g.
--   owner/name, for a repository; the last path component of a dir), followed by the root
--   (home as ~) in parentheses when another root has the same name.
WITH pairs AS (
    SELECT dir, repository FROM session_roots
    UNION
    SELECT dir, repository FROM _prior_roots
),
-- a directory whose sessions recorded exactly one repository belongs to it (sessions there
-- that recorded none, e.g. another agent's, join the repository's project)
dir_repo AS (
    SELECT dir, min(repository) AS repository
    FROM pairs
    WHERE dir IS NOT NULL AND repository IS NOT NULL
    GROUP BY dir
    HAVING count(DISTINCT repository) = 1
),
rooted AS (
    SELECT
        p.dir,
        p.repository,
        coalesce(p.repository, r.repository, p.dir) AS project_root,
        coalesce(p.repository, r.repository) IS NOT NULL AS is_repo
    FROM pairs p
    LEFT JOIN dir_repo r USING (dir)
),
based AS (
    SELECT DISTINCT
        project_root,
        is_repo,
        CASE WHEN is_repo THEN regexp_extract(project_root, '^[^/]+/(.+)$', 1)
             ELSE coalesce(nullif(regexp_extract(project_root, '([^/]+)/*$', 1), ''), project_root) END AS base
    FROM rooted
    WHERE project_root IS NOT NULL
),
named AS (
    SELECT project_root, is_repo,
        CASE WHEN count(*) OVER (PARTITION BY base) > 1 THEN base || ' (' || tl_home_abbrev(project_root) || ')' ELSE base END AS project
    FROM based
)
SELECT r.dir, r.repository, r.project_root, n.project
FROM rooted r
LEFT JOIN named n ON n.project_root = r.project_root AND n.is_repo = r.is_repo
