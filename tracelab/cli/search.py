"""``tracelab search``: full-text search over every session's prompts, outputs and tool calls."""

from __future__ import annotations

import click

from tracelab.cli._common import ISO_TIME, output_format, output_options, warehouse_option, write_result
from tracelab.errors import ParameterError
from tracelab.ingest.agents import ADAPTER_MODULES


@click.command("search")
@click.argument("pattern")
@click.option("--regex", "-E", is_flag=True, help="PATTERN is an RE2 regular expression (default: a plain substring).")
@click.option("--case-sensitive", "-s", is_flag=True, help="Match case exactly (default: ignore case).")
@click.option("--since", type=ISO_TIME, help="Window start on the event's time, inclusive (ISO date or date-time, UTC).")
@click.option("--until", type=ISO_TIME, help="Window end, exclusive.")
@click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="Only this agent.")
@click.option("--project", help="Only sessions of this project.")
@click.option("--session", help="Only this session: its session_key or native session id, or a unique prefix of either.")
@click.option("--kind", "kinds", multiple=True, help="Only events of this kind (repeatable): user_prompt, tool_result, ...")
@click.option("--tool", help="Only tool calls and results of this tool.")
@click.option("--no-subagents", is_flag=True, help="Leave out subagent sessions.")
@click.option("--context", "-C", type=click.IntRange(min=0), default=60, show_default=True, help="Characters shown around each match.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many events, newest first.")
@click.option("--no-index", is_flag=True, help="Scan every event instead of using the search index (same results, slower).")
@warehouse_option
@output_options
def command(
    pattern, regex, case_sensitive, since, until, agent, project, session, kinds, tool, no_subagents, context, limit, no_index, warehouse, fmt, out, as_json
):
    """Find PATTERN in prompts, model text and thinking, tool inputs and outputs, errors.

    Newest matches first, one block per event: time, agent, kind (and tool), where it is
    (file:line), then the text around the first match. --json / -f csv|json|parquet give every
    column (session keys, event key, match position, ...: `tracelab/sql/search_events.sql`).
    Text is searched as stored: each item's text is capped at 32 KiB. The warehouse's search
    index (kept by ingest; `tracelab index build` for older warehouses) finds the same events
    without reading every text; --no-index scans. A pattern that starts with `-` goes after
    `--`, which ends the options: `tracelab search -- --force`.

    \b
      tracelab search "permission denied"
      tracelab search -E "exit code [1-9][0-9]*" --kind tool_result --since 2026-11-01
      tracelab search ENOSPC --agent codex --json
      tracelab search --kind tool_call -- --force
    """
    from tracelab import library as q
    from tracelab.fulltext import check_pattern, search_needs, search_table
    from tracelab.store.connection import Store

    fmt = output_format(fmt, as_json, out)
    check_pattern(pattern, regex)  # before the warehouse is opened
    if session or project:
        from tracelab.catalog import connect
        from tracelab.scope import check_project, resolve_session

        con = connect(warehouse)
        try:
            session = resolve_session(con, session) if session else None
            check_project(con, project)
        finally:
            con.close()
    hints = fmt == "table" and not out  # the terminal listing: a `tracelab session … --around N` under each hit
    needs = search_needs()
    if hints:
        from tracelab.session.locate import locate_needs

        needs += locate_needs()
    # one store for the search and its hints: one snapshot read, one set of footers bound
    with Store(warehouse, needs=needs) as store:
        try:
            result = search_table(
                pattern,
                store=store,
                regex=regex,
                case_sensitive=case_sensitive,
                since=since,
                until=until,
                agent=agent,
                project=project,
                session=session,
                kinds=kinds or None,
                tool=tool,
                include_subagents=not no_subagents,
                context=context,
                limit=limit,
                use_index=not no_index,
                rows=fmt != "parquet",  # Python rows: no pyarrow to import (a fifth of an indexed search)
            )
        except q.QueryParamError as exc:  # name the option, not the query parameter
            raise ParameterError(f"--{exc.param.replace('_', '-')}: {exc.detail}", param=exc.param) from None
        if hints:
            names, rows = result
            hits = [dict(zip(names, r)) for r in rows]
            open_cmds = _open_commands(hits, store.con)
    if hints:
        _print_hits(hits, context, open_cmds)
    elif fmt == "parquet":
        write_result(result.column_names, None, fmt, out, arrow=result)
    else:
        names, rows = result
        write_result(names, rows, fmt, out)


def _open_commands(hits: list[dict], con) -> dict[str, str]:
    """``tracelab session … --around N`` for each hit (by event key), on the search's
    connection: each hit carries its session, so the steps come from one scan of those
    sessions' events (a hit of no session gets no command)."""
    from tracelab.session.locate import around_command, locate_steps

    sessions = {h["event_key"]: h["session_key"] for h in hits if h["event_key"] and h["session_key"]}
    if not sessions:
        return {}
    return {e: around_command(k, n) for e, (k, n) in locate_steps(con, list(sessions), sessions).items()}


def match_span(row: dict, context: int) -> tuple[int, int]:
    """Where the first match sits in ``row["snippet"]`` (start, end character offsets): the
    snippet is '…' (when cut) + the field's characters from lo = max(match_at - context, 1)."""
    lo = max(row["match_at"] - context, 1)
    start = (1 if lo > 1 else 0) + row["match_at"] - lo
    return start, start + row["match_len"]


def _print_hits(rows: list[dict], context: int, open_cmds: dict[str, str] | None = None) -> None:
    """One block per matching event, the match highlighted (plain text when not a terminal)."""
    import os

    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False)
    if not rows:
        err.print("no matches")
        return
    for r in rows:
        when = r["ts"].strftime("%Y-%m-%d %H:%M:%S") if r["ts"] is not None else "(no time)"
        head = Text(f"{when}  {r['agent']:<6}  ")
        head.append(r["kind"] + (f" {r['tool_name']}" if r["tool_name"] else ""), style="bold")
        head.append(f"  {r['project'] or '-'}  {os.path.basename(r['source_file'])}:{r['line_no']}", style="dim")
        if r["field"] == "tool_input":
            head.append("  (tool input)", style="dim")
        console.print(head)
        start, end = match_span(r, context)
        body = Text("    " + r["snippet"])
        body.stylize("bold red", 4 + start, 4 + end)
        console.print(body)
        if open_cmds and r["event_key"] in open_cmds:
            console.print(Text("    → " + open_cmds[r["event_key"]], style="dim"))
    total, shown = rows[0]["total_matches"], len(rows)
    err.print(f"{total} matching event{'s' if total != 1 else ''}" + (f"; showing the newest {shown} (--limit)" if shown < total else ""))
