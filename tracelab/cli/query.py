"""``tracelab query``: list, show and run the named SQL in ``queries/``; compare models."""

from __future__ import annotations

from typing import Any

import click

from tracelab.cli._common import (
    emit_rows,
    fail,
    output_format,
    output_options,
    param_pairs,
    to_json,
    warehouse_option,
    warn_unknown_filters,
    write_result,
)


def _write(table, fmt: str, out: str | None) -> None:
    """Write a pyarrow table as table | csv | json | parquet to ``out`` (default stdout)."""
    write_result(table.column_names, None, fmt, out, arrow=table)


@click.group("query")
def command() -> None:
    """Named, parameterized SQL queries (queries/*.sql) and model comparisons.

    \b
      tracelab query list
      tracelab query show tool_error_rates
      tracelab query run tool_error_rates -p period=day -p agent=claude -f csv
      tracelab query compare tool_error --models gpt-5.1-codex,gpt-5.2-codex --by tool
    """


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print name, description, params and returns as JSON.")
def list_cmd(as_json: bool) -> None:
    """List the named queries."""
    from tracelab import library as q

    queries = q.load_all()
    if as_json:
        click.echo(to_json([_describe(x) for x in queries.values()]))
        return
    emit_rows(["name", "summary"], [(x.name, x.summary) for x in queries.values()], "table")


def _describe(x) -> dict:
    return {
        "name": x.name,
        "description": x.description,
        "params": [
            {"name": p.name, "type": p.type, "default": p.default, "choices": list(p.choices), "minimum": p.minimum, "description": p.description}
            for p in x.params
        ],
        "returns": [{"name": c.name, "type": c.type, "description": c.description} for c in x.returns],
        "file": x.source,
    }


@command.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed header and SQL as JSON.")
def show_cmd(name: str, as_json: bool) -> None:
    """Show a query: description, parameters, returned columns and SQL."""
    from tracelab import library as q

    x = q.get(name)
    if as_json:
        click.echo(to_json({**_describe(x), "sql": x.sql}))
        return
    click.echo(f"{x.name}: {x.description}\n")
    click.echo("parameters:")
    for p in x.params:
        default = "NULL" if p.default is None else repr(p.default)
        choices = f" {{{'|'.join(p.choices)}}}" if p.choices else ""
        bound = f" (>= {p.minimum})" if p.minimum is not None else ""
        click.echo(f"  {p.name} {p.type} = {default}{choices}{bound}  {p.description}")
    click.echo("returns:")
    for c in x.returns:
        click.echo(f"  {c.name} {c.type}  {c.description}")
    click.echo("\n" + x.sql)


@command.command("run")
@click.argument("name")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Query parameter (repeatable).")
@warehouse_option
@output_options
def run_cmd(name: str, params: tuple[str, ...], warehouse: str, fmt: str, out: str | None, as_json: bool) -> None:
    """Run a named query. Values are bound as parameters, never pasted into SQL."""
    from tracelab import library as q
    from tracelab.store import Store, sql_text

    fmt = output_format(fmt, as_json, out)
    x = q.get(name)
    kwargs = param_pairs(params)
    q.bind(x, kwargs)  # fail on a bad value before opening the warehouse
    # only the views and macros the query and the empty-result check read (start-up)
    con = Store(warehouse, needs=[x.sql, sql_text("filter_values")]).con
    try:
        table = q.run_arrow(x, con, **kwargs)
        if table.num_rows == 0:
            warn_unknown_filters(con, kwargs)
    finally:
        con.close()
    _write(table, fmt, out)


@command.command("compare")
@click.argument("metric")
@click.option("--models", "-m", help="Comma-separated models, in display order (default: all).")
@click.option("--by", type=click.Choice(["agent", "tool", "project"]), help="Compare within each value of this dimension.")
@click.option(
    "--test",
    "test",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "z", "fisher", "mannwhitney", "bootstrap"]),
    help="Significance test (auto: z or Fisher for rates, Mann-Whitney for continuous values).",
)
@click.option("--min-n", type=int, default=1, show_default=True, help="Smallest sample per model and stratum.")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="Filter: since, until, agent, model, project, tool, include_subagents.")
@warehouse_option
@output_options
def compare_cmd(metric, models, by, test, min_n, params, warehouse, fmt, out, as_json) -> None:
    """Compare METRIC across models, pairwise, with intervals and a significance test.

    METRIC is one of the metric_samples choices (tool_error, llm, tool, turn, human_wait,
    output_tokens, session_abandoned, ...). Results describe this corpus only (see the note column).
    """
    from tracelab.catalog import connect
    from tracelab.metrics.compare import METRIC_KINDS, compare_models

    fmt = output_format(fmt, as_json, out)
    if metric not in METRIC_KINDS:
        fail(f"unknown metric {metric!r}; choose one of {', '.join(METRIC_KINDS)}")
    con = connect(warehouse)
    try:
        filters: dict[str, Any] = param_pairs(params)  # query filters; compare_models binds and checks them
        df = compare_models(metric, con=con, models=[m for m in (models or "").split(",") if m] or None, by=by, test=test, min_n=min_n, **filters)
    except ValueError as exc:  # compare_models checks its arguments with ValueError
        fail(str(exc))
    finally:
        con.close()
    if fmt == "table":
        from tracelab.metrics.stats import SAMPLE_NOTE

        _write(df.drop("note").to_arrow(), fmt, out)
        click.echo(f"note: {SAMPLE_NOTE}", err=True)
        return
    _write(df.to_arrow(), fmt, out)
