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
def command(query, warehouse, fmt, out, as_json):
    """Run SQL against the warehouse views.

    \b
      tracelab sql "SELECT agent, count(*) FROM sessions GROUP BY 1"
      tracelab sql "SELECT * FROM tool_calls" -f parquet -o tool_calls.parquet
    """
    import duckdb

    from tracelab.catalog import connect

    fmt = output_format(fmt, as_json, out)
    con = connect(warehouse)
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
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {one_line(str(exc))}") from None
    finally:
        con.close()
    write_result(cols, rows, fmt, out, arrow=arrow)
