-- name: derive_macros
-- description: Macros shared by the derive step and the query library (error templates, …);
--   a script, not a query (see the notes below).

-- Macros shared by the derive step (tracelab.store.derive) and the query library
-- (tracelab.store.connection.install runs this file before queries/_macros.sql), so a value stored at
-- derive time and the same value computed at query time have one definition.

-- Error text reduced to a message template: first non-blank line, tool-use wrapper tags
-- removed, numbers -> N, long hex ids -> H, quoted strings -> '…', at most 160 characters.
CREATE OR REPLACE MACRO tl_error_template(txt) AS left(trim(
    regexp_replace(
    regexp_replace(
    regexp_replace(
    regexp_replace(
        coalesce(regexp_extract(regexp_replace(txt, '</?tool_use_error>', '', 'g'), '^\s*([^\n]*\S)', 1), ''),
        '''[^'']*''|"[^"]*"|`[^`]*`', '''…''', 'g'),
        '\b[0-9a-f]{8,}\b', 'H', 'gi'),
        '[0-9]+', 'N', 'g'),
        '\s+', ' ', 'g')), 160);

-- Project identity (sessions.project / project_root / worktree / repository; rule in data/README.md).
-- A path as recorded, with backslashes as '/' and trailing separators removed; NULL when blank.
CREATE OR REPLACE MACRO tl_norm_path(p) AS
    CASE WHEN p IS NULL OR trim(p) = '' THEN NULL ELSE regexp_replace(replace(trim(p), '\', '/'), '(.)/+$', '\1') END;

-- The directory a cwd belongs to: the cwd with any worktree or git-admin suffix removed
-- (`<root>/.worktrees/<x>…`, `<root>/.claude/worktrees/<x>…`, `<root>/.git…`, the first such
-- segment wins). A plain `worktrees/` folder is not a marker: people keep checkouts in one.
CREATE OR REPLACE MACRO tl_project_dir(cwd) AS
    coalesce(
        nullif(regexp_extract(tl_norm_path(cwd), '^(.+?)/(?:\.claude/worktrees|\.worktrees|\.git)(?:/|$)', 1), ''),
        tl_norm_path(cwd));

-- The worktree a cwd is in (NULL when none): the part after the worktree marker, cut at the
-- session's git branch when the branch names a leading part of it (`.worktrees/soph/fix-x` on
-- branch `soph/fix-x`), else its first component.
CREATE OR REPLACE MACRO tl_worktree(cwd, branch) AS (
    WITH t AS (SELECT regexp_extract(tl_norm_path(cwd), '^.+?/(?:\.claude/worktrees|\.worktrees|\.git/worktrees)/(.+)$', 1) AS rest)
    SELECT CASE
        WHEN rest = '' THEN NULL
        WHEN coalesce(branch, '') <> '' AND (rest = branch OR starts_with(rest, branch || '/')) THEN branch
        ELSE split_part(rest, '/', 1)
    END
    FROM t
);

-- A git remote URL normalised to `host/path` (host lower-cased; scheme, user, port, `.git` and
-- trailing slashes removed): `https://github.com/o/r.git`, `ssh://git@github.com:22/o/r` and
-- `git@github.com:o/r.git` all give `github.com/o/r`. NULL when it is not a host remote
-- (local paths, `file://`, placeholders such as `[trimmed for fixture]`).
CREATE OR REPLACE MACRO tl_remote_root(url) AS (
    WITH u AS (SELECT trim(coalesce(url, '')) AS u),
    hp AS (
        SELECT CASE
            WHEN regexp_matches(u, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/\s]*@)?[^/:@\s]+(?::[0-9]*)?/')
                THEN regexp_replace(u, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/\s]*@)?([^/:@\s]+)(?::[0-9]*)?/+(.*)$', '\1' || chr(9) || '\2')
            WHEN regexp_matches(u, '^[^@/:\s]+@[^/:@\s]+:')
                THEN regexp_replace(u, '^[^@/:\s]+@([^/:@\s]+):/*(.*)$', '\1' || chr(9) || '\2')
        END AS hp
        FROM u
    ),
    parts AS (
        SELECT lower(split_part(hp, chr(9), 1)) AS host,
               regexp_replace(regexp_replace(split_part(hp, chr(9), 2), '/+$', ''), '\.git$', '') AS path
        FROM hp
    )
    SELECT CASE WHEN regexp_matches(path, '^[A-Za-z0-9_.~-]+(/[A-Za-z0-9_.~-]+)*$') AND path NOT IN ('.', '..') THEN host || '/' || path END
    FROM parts
);

-- A project root shortened for display: a home directory (`/Users/<u>`, `/home/<u>`,
-- `C:/Users/<u>`) becomes `~`.
CREATE OR REPLACE MACRO tl_home_abbrev(root) AS
    regexp_replace(root, '^(?:/Users/[^/]+|/home/[^/]+|[A-Za-z]:/Users/[^/]+)(/|$)', '~\1');
