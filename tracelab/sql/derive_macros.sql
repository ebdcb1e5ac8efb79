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
