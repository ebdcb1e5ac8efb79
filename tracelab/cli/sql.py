"""``tracelab sql``."""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from tracelab.cli._common import OUTPUT_FORMATS, output_format, param_pairs, warehouse_option, write_result
from tracelab.cli._errors import known_fault, one_line
from tracelab.errors import InputError, ParameterError, QueryError

#: an option name as click would parse it (``--out``, ``--format=csv``); anything else that
#: starts with ``--`` (``-- a comment``, ``--comment\nSELECT 1``) is SQL
_OPTION_NAME = re.compile(r"--[A-Za-z][\w-]*(=.*)?", re.DOTALL)


def _is_sql(token: str) -> bool:
    """A command-line token that begins like an option but is SQL: a ``--`` comment, or any
    token holding white space (option names never do)."""
    if not token.startswith("-") or token in ("-", "--"):
        return False
    if token.startswith("--") and not _OPTION_NAME.fullmatch(token):
        return True
    name = token.split("=", 1)[0]
    return any(c.isspace() for c in name)


class _SqlCommand(click.Command):
    """Lists the warehouse views in ``--help`` from the catalog, so the list cannot go stale
    (looked up only when help is shown: it imports the table schemas); takes SQL that starts
    with a ``--`` comment as SQL, not as an option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        valued = {o for p in self.params if isinstance(p, click.Option) and not p.is_flag for o in p.opts}
        keep: list[str] = []
        tail: list[str] = []  # positional after a "--": the SQL tokens
        expects_value = False
        tokens = iter(args)
        for a in tokens:
            if expects_value:
                keep.append(a)
                expects_value = False
            elif a == "--":
                tail.extend(tokens)
            elif _is_sql(a):
                tail.append(a)
            else:
                keep.append(a)
                expects_value = a in valued
        if tail:
            args = [*keep, "--", *tail]
        return super().parse_args(ctx, args)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help_text(ctx, formatter)
        from tracelab.catalog import known_schemas

        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(
                "Views: " + ", ".join(known_schemas()) + " (plus any other table the warehouse snapshot lists); DESCRIBE <view> shows a view's columns."
            )


def _read_sql(query: str | None, sql_file: str | None, short_f: tuple[str, ...]) -> tuple[str, str | None]:
    """(SQL text, format) from the argument, ``--file FILE``, ``-f`` or stdin.

    ``--file`` is always a file. ``-f`` is a file too, except that ``-f table|csv|json|parquet``
    is the output format (what ``-f`` means for ``query run`` and meant for ``sql`` before it
    read files): decided by the value alone, never by which files exist, so a command line
    means one thing everywhere. A file with one of those names: ``--file csv`` or ``-f ./csv``."""
    fmts = [v for v in short_f if v in OUTPUT_FORMATS]
    paths = [v for v in short_f if v not in OUTPUT_FORMATS] + ([sql_file] if sql_file is not None else [])
    if len(paths) > 1:
        raise ParameterError(f"the SQL file given twice: {', '.join(paths)}")
    if len(fmts) > 1:
        raise ParameterError(f"-f given two formats: {', '.join(fmts)}")
    path = paths[0] if paths else None
    if path is not None and query is not None:
        raise ParameterError("give SQL either as an argument or with -f FILE, not both")
    if path == "-" or query == "-" or (path is None and query is None and not sys.stdin.isatty()):
        text = sys.stdin.read()
        where = "stdin"
    elif path is not None:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read SQL from {path}: {getattr(exc, 'strerror', None) or exc}", path=path) from None
        where = path
    elif query is not None:
        text, where = query, "the argument"
    else:
        raise ParameterError("give SQL as an argument, with -f FILE, or on stdin (-)")
    if not text.strip():
        raise ParameterError(f"no SQL: {where} is empty")
    return text, fmts[0] if fmts else None


def _bind(text: str, given: dict[str, str]) -> tuple[str, dict[str, Any] | None]:
    """The statement to run and its ``$parameters``. SQL with a named-query header
    (``-- name:`` and ``-- param`` lines, as in ``queries/*.sql``) gets the declared defaults
    overlaid with ``given`` (converted to the declared types); other SQL gets ``given`` as they
    are. Parameters the SQL does not use are an error."""
    if text.lstrip().startswith("-- name:"):
        from tracelab.library import bind
        from tracelab.store.sql import parse

        q = parse(text, "the SQL")
        if q.params:
            return q.sql, bind(q, given)
    if not given:
        return text, None
    from tracelab.store.sql import referenced_params

    unused = sorted(set(given) - referenced_params(text))
    if unused:
        raise ParameterError(f"--param {unused[0]}: the SQL has no ${unused[0]}")
    return text, dict(given)


@click.command("sql", cls=_SqlCommand)
@click.argument("query", required=False)
@click.option("--file", "sql_file", metavar="FILE", help="Read the SQL from FILE ('-' = stdin).")
@click.option(
    "-f",
    "short_f",
    multiple=True,
    metavar="FILE",
    help="Same as --file, except -f table|csv|json|parquet: the output format (as for query run); a file of one of those names: --file NAME.",
)
@warehouse_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(OUTPUT_FORMATS),
    default=None,
    help="table for reading (default); csv, json (array of row objects) and parquet (needs --out) keep full precision.",
)
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--write", is_flag=True, help="Lift the read-only mode: let the SQL write files (COPY … TO), attach databases and read any file.")
@click.option(
    "--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Bind $NAME (repeatable); a pasted queries/*.sql file takes its declared defaults."
)
def command(query, sql_file, short_f, warehouse, fmt, out, as_json, write, params):
    """Run SQL against the warehouse views. The SQL comes from QUERY, -f FILE or stdin
    (QUERY '-', or no QUERY with input piped in); several statements run in order and the
    last one's rows are printed. SQL may start with a -- comment (a queries/*.sql file pastes
    as it is).

    Read-only unless --write: the SQL reads the warehouse's files and nothing else, and writes
    no file (COPY … TO, EXPORT, ATTACH are refused); -o FILE saves a result.

    \b
      tracelab sql "SELECT agent, count(*) FROM sessions GROUP BY 1"
      tracelab sql -f queries/tool_error_rates.sql --format csv
      echo "SELECT count(*) FROM events" | tracelab sql
      tracelab sql "SELECT * FROM tool_calls" --format parquet -o tool_calls.parquet
    """
    text, short_fmt = _read_sql(query, sql_file, short_f)
    text, bound = _bind(text, param_pairs(params))
    if short_fmt is not None and fmt is not None and short_fmt != fmt:
        raise ParameterError(f"-f {short_fmt} and --format {fmt} disagree")
    fmt = output_format(fmt or short_fmt or "table", as_json, out)
    import duckdb

    try:
        # only the views and macros the SQL names (start-up); a name the plan could not see
        # (built at run time) or a misspelt one is a catalog error: run again on the whole
        # catalog, so the answer and the error message are the complete store's
        cols, rows, arrow = _run(warehouse, text, bound, fmt, write, partial=not write)
    except _PartialCatalog:
        cols, rows, arrow = _run(warehouse, text, bound, fmt, write, partial=False)
    except duckdb.PermissionException as exc:
        raise ParameterError(
            f"not allowed: the warehouse is opened read-only, so the SQL may read only its files and write none ({one_line(str(exc))}); lift it with --write"
        ) from None
    write_result(cols, rows, fmt, out, arrow=arrow)


class _PartialCatalog(Exception):
    """A catalog error on a store holding part of the catalog: run again on all of it."""


def _run(warehouse: str, text: str, bound: dict[str, Any] | None, fmt: str, write: bool, *, partial: bool) -> tuple[list[str], list | None, Any]:
    """(columns, rows, Arrow table for parquet) of the SQL on a fresh store."""
    import duckdb

    from tracelab.store import Store
    from tracelab.store.connection import refuse_writes

    store = Store(warehouse, read_only=not write, needs=text if partial else None)
    con = store.con
    try:
        if not write:
            refuse_writes(con, text)
        if fmt == "parquet":
            rel = con.sql(text, params=bound)  # straight to Arrow (a cursor's Arrow output copies the rows once more)
            if rel is None:
                raise ParameterError("the statement returned no result set to write as parquet")
            return rel.columns, None, rel.to_arrow_table()
        cur = con.execute(text, bound) if bound else con.execute(text)
        if cur is None:
            raise ParameterError("no SQL statement: only comments")
        cols = [d[0] for d in cur.description] if cur.description else []
        return cols, (cur.fetchall() if cols else []), None
    except duckdb.PermissionException:
        raise
    except duckdb.Error as exc:
        if isinstance(exc, duckdb.CatalogException) and not store.complete:
            raise _PartialCatalog from None
        if "No statement to prepare" in str(exc) or "no statements" in str(exc).lower():
            raise ParameterError("no SQL statement (only comments)") from None
        raise known_fault(exc) or QueryError(f"SQL error: {one_line(str(exc))}") from None
    finally:
        con.close()
