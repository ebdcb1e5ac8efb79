"""``tracelab sql``."""

from __future__ import annotations

import click

from tracelab.cli._common import fail, output_format, output_options, warehouse_option, write_result
from tracelab.cli._errors import one_line
from tracelab.errors import QueryError


class _SqlCommand(click.Command):
    """Lists the warehouse views in ``--help`` from the catalog, so the list cannot go stale
    (looked up only when help is shown: it imports the table schemas)."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help_text(ctx, formatter)
        from tracelab.catalog import known_schemas

        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(
                "Views: " + ", ".join(known_schemas()) + " (plus any other table the warehouse snapshot lists); DESCRIBE <view> shows a view's columns."
            )


@click.command("sql", cls=_SqlCommand)
@click.argument("query")
@warehouse_option
@output_options
@click.option("--write", is_flag=True, help="Lift the read-only mode: let the SQL write files (COPY … TO), attach databases and read any file.")
def command(query, warehouse, fmt, out, as_json, write):
    """Run SQL against the warehouse views.

    Read-only unless --write: the SQL reads the warehouse's files and nothing else, and writes
    no file (COPY … TO, EXPORT, ATTACH are refused); -o FILE saves a result.

    \b
      tracelab sql "SELECT agent, count(*) FROM sessions GROUP BY 1"
      tracelab sql "SELECT * FROM tool_calls" -f parquet -o tool_calls.parquet
    """
    import duckdb

    from tracelab.store import Store
    from tracelab.store.connection import refuse_writes

    fmt = output_format(fmt, as_json, out)
    con = Store(warehouse, read_only=not write).con
    if not write:
        refuse_writes(con, query)
    try:
        if fmt == "parquet":
            rel = con.sql(query)  # straight to Arrow (a cursor's Arrow output copies the rows once more)
            if rel is None:
                fail("the statement returned no result set to write as parquet")
            cols, rows, arrow = rel.columns, None, rel.to_arrow_table()
        else:
            cur = con.execute(query)
            cols = [d[0] for d in cur.description] if cur.description else []
            rows, arrow = (cur.fetchall() if cols else []), None
    except duckdb.PermissionException as exc:
        fail(f"not allowed: the warehouse is opened read-only, so the SQL may read only its files and write none ({one_line(str(exc))}); lift it with --write")
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {one_line(str(exc))}") from None
    finally:
        con.close()
    write_result(cols, rows, fmt, out, arrow=arrow)
