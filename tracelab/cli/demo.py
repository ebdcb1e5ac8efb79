"""``tracelab demo``: the end-to-end job behind ``make demo``."""

from __future__ import annotations

from pathlib import Path

import click

from tracelab.cli._common import emit_rows, skip_unused_schema_checkers


@click.command("demo")
@click.option("--dir", "out_dir", type=click.Path(file_okay=False), default="demo", show_default=True, help="Where the corpus, warehouse and report go.")
@click.option("--synthetic", is_flag=True, help="Use a generated corpus even if this machine has agent logs.")
@click.option(
    "--sessions",
    type=int,
    default=80,
    show_default=True,
    help="Main sessions per agent in the generated corpus (80: enough calls for the weekly report to flag the planted regression).",
)
@click.option("--seed", type=int, default=7, show_default=True)
def command(out_dir, synthetic, sessions, seed):
    """Build a warehouse (your own sessions, else a generated corpus), print a summary and
    write the weekly quality report."""
    skip_unused_schema_checkers()
    from tracelab.demo import run_demo

    result = run_demo(Path(out_dir), synthetic=synthetic, sessions=sessions, seed=seed, echo=click.echo)
    click.echo("")
    click.echo(f"source     {result['source']}")
    click.echo(f"warehouse  {result['warehouse']}")
    for title, (cols, rows) in result["tables"].items():
        click.echo(f"\n{title}")
        emit_rows(cols, rows, "table")
    if result.get("report"):
        click.echo(f"\nweekly report: {result['report']}")
    click.echo(f'\nnext: tracelab sql "SELECT * FROM sessions LIMIT 5" --warehouse {result["warehouse"]}')
