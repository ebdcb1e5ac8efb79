"""``tracelab sql``."""

from __future__ import annotations

import click

from tracelab.cli._common import emit_rows, fail, warehouse_option


@click.command("sql")
@click.argument("query")
@warehouse_option
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def command(query, warehouse, fmt):
    """Run SQL against the warehouse views (sessions, events, llm_calls, tool_calls, rejects, files)."""
    import duckdb

    from tracelab.catalog import CatalogError, connect

    try:
        con = connect(warehouse)
    except CatalogError as exc:
        fail(str(exc))
    try:
        cur = con.execute(query)
        cols = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchall() if cols else []
    except duckdb.Error as exc:
        fail(f"SQL error: {exc}")
    emit_rows(cols, rows, fmt)
