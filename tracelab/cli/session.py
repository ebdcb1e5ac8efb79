"""``tracelab session ID``: one session as a timeline (terminal, JSON or an HTML page)."""

from __future__ import annotations

import click

from tracelab.cli._common import fail, to_json, warehouse_option


@click.command("session")
@click.argument("session_id", metavar="ID")
@click.option("--depth", type=click.IntRange(min=0), help="Levels of subagents to nest (default: all; 0: none, only their totals).")
@click.option("--full", is_flag=True, help="Show prompts, model text, thinking and tool input/output, each capped at --cap bytes.")
@click.option(
    "--cap", type=click.IntRange(min=16), default=4096, show_default=True, help="Bytes of each text shown by --full (the full size is printed beside it)."
)
@click.option("--step", type=click.IntRange(min=1), help="Only step N.")
@click.option("--around", type=click.IntRange(min=1), help="Steps N-5 .. N+5.")
@click.option("--json", "as_json", is_flag=True, help="The timeline as JSON (same structure; bodies with --full).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write a self-contained HTML page of the session to this file.")
@warehouse_option
def command(session_id, depth, full, cap, step, around, as_json, html_file, warehouse):
    """Show what the agent did in session ID, step by step.

    ID is a session key, the agent's session id, or a unique prefix of either (an ambiguous
    prefix lists the candidates). One line per step: time and offset from the start, kind,
    tool and a summary of its input (the command, the path), status, exit code, latency, and
    the tokens of the LLM call that issued it. Subagents are nested under the call that
    started them. Errors are red, rejections and interrupts yellow; a failure that belongs to
    a cluster shows its id (`tracelab failures show ID`).

    \b
      tracelab session 0ccf1a04
      tracelab session 0ccf1a04 --around 26 --full
      tracelab session codex:01a7c9e4 --json
      tracelab session 0ccf1a04 --html session.html
    """
    import sys
    from pathlib import Path

    from tracelab.errors import TracelabError
    from tracelab.session.view import focus, session

    if step is not None and around is not None:
        fail("give --step or --around, not both")
    view = session(session_id, warehouse, depth=depth)
    if html_file:
        at = step or around
        if at:
            focus(view.root.steps, step=at)  # a step the session does not have is an error
        page = view.html(focus_step=at)
        try:  # a missing folder is made, as `chart --out` and `report -o` do
            Path(html_file).parent.mkdir(parents=True, exist_ok=True)
            Path(html_file).write_text(page, encoding="utf-8")
        except OSError as exc:
            raise TracelabError(f"cannot write {html_file}: {exc.strerror or exc}", path=html_file) from None
        click.echo(f"wrote {html_file} ({Path(html_file).stat().st_size:,} bytes)" + (f"; it opens at step {at}" if at else ""), err=True)
        return
    if as_json:
        click.echo(to_json(view.to_dict(full=full, cap=cap, step=step, around=around)))
        return
    click.echo(view.text(full=full, cap=cap, step=step, around=around, color=sys.stdout.isatty()), nl=False)
