"""``tracelab sessions``: list sessions, newest first."""

from __future__ import annotations

import click

from tracelab.cli._common import ISO_TIME, output_format, output_options, warehouse_option, write_result
from tracelab.ingest.agents import ADAPTER_MODULES


@click.command("sessions")
@click.option("--since", type=ISO_TIME, help="Sessions started at or after this (ISO date or date-time, UTC).")
@click.option("--until", type=ISO_TIME, help="Sessions started before this.")
@click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="Only this agent.")
@click.option("--project", help="Only this project.")
@click.option("--model", help="Only sessions that used this model (exact name).")
@click.option("--has-errors", is_flag=True, help="Only sessions with a tool error, rejection, API error, interrupt or interrupted tool call.")
@click.option("--min-calls", type=click.IntRange(min=0), help="Only sessions with at least this many LLM calls.")
@click.option("--subagents/--no-subagents", default=None, help="Only subagent sessions / none (default: both).")
@click.option("--search", "search", metavar="PATTERN", help="Only sessions where some prompt, output or tool input contains PATTERN (any case).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many sessions.")
@click.option("--no-index", is_flag=True, help="--search scans every event instead of using the search index (same sessions, slower).")
@warehouse_option
@output_options
def command(since, until, agent, project, model, has_errors, min_calls, subagents, search, limit, no_index, warehouse, fmt, out, as_json):
    """List sessions, newest first: start, agent, project, title (or first prompt), models,
    duration, steps, tool calls, errors, tokens and cost.

    Open one with `tracelab session ID` (a unique prefix of the key is enough). --json /
    -f csv|json|parquet give every column (`tracelab/sql/session_list.sql`).

    \b
      tracelab sessions --agent claude --since 2026-01-01
      tracelab sessions --has-errors --no-subagents -n 10
      tracelab sessions --search ENOENT --json
    """
    from tracelab import library as q
    from tracelab.errors import ParameterError
    from tracelab.session.listing import listed_page, session_tuples, sessions_table

    fmt = output_format(fmt, as_json, out)
    options = dict(
        since=since,
        until=until,
        agent=agent,
        model=model,
        project=project,
        has_errors=has_errors,
        min_calls=min_calls,
        subagents=subagents,
        search=search,
        limit=limit,
        use_index=not no_index,
    )
    try:
        if fmt == "parquet":
            table = sessions_table(warehouse, **options)
            if not table.num_rows:
                _warn_unknown(warehouse, project, model)
            write_result(table.column_names, None, fmt, out, arrow=table)
            return
        table_out = fmt == "table" and not out
        # Python rows: no Arrow to convert (which imports pandas); the table's ids on the same store
        names, found, ids = listed_page(warehouse, **options) if table_out else (*session_tuples(warehouse, **options), {})
    except q.QueryParamError as exc:  # name the option, not the query parameter
        raise ParameterError(f"--{exc.param.replace('_', '-')}: {exc.detail}", param=exc.param) from None
    if not found:
        _warn_unknown(warehouse, project, model)
    if not table_out:
        if fmt == "csv":  # a cell holds text: the models joined, not a Python list's repr
            i = names.index("models")
            found = [(*r[:i], _joined(r[i]), *r[i + 1 :]) for r in found]
        write_result(names, found, fmt, out)
        return
    rows = [dict(zip(names, r)) for r in found]
    _print(rows, ids, limit)


def _joined(models: list[str | None] | None) -> str | None:
    """The models of a CSV cell: joined with ';' (none when the list or one of its names is null)."""
    names = [m for m in models or [] if m is not None]
    return ";".join(names) if models is not None and len(names) == len(models) else None


def _warn_unknown(warehouse, project: str | None, model: str | None) -> None:
    """After an empty list: warn on stderr when --project or --model names nothing in the
    warehouse, with the closest names, as the other commands do (a typo is the usual cause)."""
    if not (project or model):
        return
    from tracelab.catalog import connect
    from tracelab.cli._common import warn_unknown_filters

    con = connect(warehouse)
    try:
        warn_unknown_filters(con, {"project": project, "model": model})
    finally:
        con.close()


def _print(rows: list[dict], ids: dict[str, str], limit: int) -> None:
    """One line per session, columns aligned, the title last (cut to the output's width)."""
    import sys

    from rich.cells import cell_len
    from rich.console import Console
    from rich.text import Text

    from tracelab.cli._common import output_width
    from tracelab.session.fmt import duration, tokens

    if not rows:
        click.echo("no sessions", err=True)
        return
    width = output_width(sys.stdout)
    # lines are cut here (the title gets what is left of the width, at least 20 cells), not by rich
    console = Console(file=sys.stdout, width=100_000, highlight=False, soft_wrap=False, emoji=False)
    cells = []
    for r in rows:
        models = r["models"] or []
        cells.append(
            [
                f"{r['started_at']:%Y-%m-%d %H:%M}" if r["started_at"] else "(no time)",
                r["agent"],
                ids[r["session_key"]],
                r["project"] or "-",
                duration(r["duration_s"]) or "-",
                f"{r['steps']} steps",
                f"{r['tool_calls']} tools",
                f"{r['errors']} err",
                f"{tokens(r['total_tokens'])} tok",
                "-" if r["cost_usd"] is None else f"${r['cost_usd']:.2f}",
                _cut(models[0], 24) + (f" +{len(models) - 1}" if len(models) > 1 else "") if models else "-",
            ]
        )
    right = {4, 5, 6, 7, 8, 9}
    widths = [max(cell_len(c[i]) for c in cells) for i in range(len(cells[0]))]
    for r, c in zip(rows, cells):
        line = Text()
        for i, v in enumerate(c):
            pad = " " * (widths[i] - cell_len(v))
            style = "bold red" if i == 7 and r["errors"] else ("dim" if i == 0 else "bold" if i == 2 else "")
            line.append(pad + v if i in right else v + pad, style=style)
            line.append("  ")
        title = ("↳ " if r["is_subagent"] else "") + " ".join((r["title"] or "").split())
        line.append(_cut(title, max(20, width - cell_len(line.plain))))
        console.print(line, no_wrap=True, crop=False)
    total = rows[0]["total_sessions"] or len(rows)
    if total > len(rows):
        click.echo(f"showing the newest {len(rows)} of {total} sessions (--limit {limit})", err=True)
    else:
        click.echo(f"{len(rows)} session{'s' if len(rows) != 1 else ''}", err=True)


def _cut(text: str, cells: int) -> str:
    from rich.cells import cell_len, set_cell_size

    return text if cell_len(text) <= cells else set_cell_size(text, cells - 1) + "…"
