"""``tracelab label``: attach feedback labels to sessions, events, tool calls, failure clusters and suggestions.

``tracelab label TARGET --label …`` adds one label (the ``add`` subcommand is implied);
``tracelab label import FILE`` imports a CSV/JSONL file; ``tracelab label list`` shows them.
"""

from __future__ import annotations

import click

from tracelab.cli._common import emit_rows, to_json, warehouse_option


class _DefaultToAdd(click.Group):
    """A group whose first argument, when it is not a subcommand, is the target of ``add``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


@click.group(name="label", cls=_DefaultToAdd)
def command() -> None:
    """Label sessions, events, tool calls or failure clusters (the feedback table).

    \b
    TARGET is TYPE:KEY or a bare key, TYPE one of session, event, tool_call, cluster:
      tracelab label cluster:te-fdd5 --label should-check-tool --score 0 \\
          --note "Check the tool is installed before running it"
      tracelab label 01a10cdf-f7a9-796e-8644-08394ecb0a55 --label good-recovery --score 1
      tracelab label suggestion:sg-0123456789ab --label rejected   # tracelab suggest hides it
      tracelab label import labels.csv          # columns: target_type,target_key,label,score,note,author,source,created_at
      tracelab label list --json

    Labels are stored in the warehouse (SQL view `feedback`), survive re-ingest, and become the
    expected behaviour of exported eval cases (`tracelab evals export`).
    """


def _report(result, as_json: bool, what: str) -> None:
    if as_json:
        click.echo(to_json({"added": result.added, "existing": result.existing, "feedback_ids": result.feedback_ids}))
        return
    click.echo(f"{what}: {result.added} added, {result.existing} already present")


@command.command(name="add")
@click.argument("target")
@click.option("--label", "-l", "label", required=True, help="The label (short text, e.g. should-ask-first).")
@click.option("--score", type=float, default=None, help="Optional numeric score (e.g. 0 = bad, 1 = good).")
@click.option("--note", "-n", default=None, help="Free text; exported as the case's expected behaviour.")
@click.option("--author", default=None, help="Who says so (default: $TRACELAB_AUTHOR or the login name).")
@click.option("--source", type=click.Choice(["human", "model"]), default="human", show_default=True)
@click.option(
    "--type",
    "target_type",
    type=click.Choice(["session", "event", "tool_call", "cluster", "suggestion"]),
    default=None,
    help="Target type, instead of a TYPE: prefix.",
)
@click.option("--no-check", is_flag=True, help="Do not require the target to exist in the warehouse (needs a type).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@warehouse_option
def add_cmd(target, label, score, note, author, source, target_type, no_check, as_json, warehouse) -> None:
    """Label one TARGET."""
    from tracelab import feedback as F

    row, added = F.add_row(warehouse, target, label, score=score, note=note, author=author, source=source, target_type=target_type, check=not no_check)
    if as_json:
        click.echo(to_json({**row.as_row(), "added": added}))
        return
    state = "added" if added else "already present"
    click.echo(f"{row.feedback_id} {state}: {row.target_type}:{row.target_key} = {row.label}")


@command.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None, help="Default: from the file suffix.")
@click.option("--author", default=None, help="Author for records that leave it empty.")
@click.option("--source", type=click.Choice(["human", "model"]), default=None, help="Source for records that leave it empty (else human).")
@click.option("--no-check", is_flag=True, help="Do not require targets to exist (each record then needs target_type).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@warehouse_option
def import_cmd(file, fmt, author, source, no_check, as_json, warehouse) -> None:
    """Import labels from a CSV or JSONL FILE (all-or-nothing; re-importing adds nothing)."""
    from tracelab import feedback as F

    result = F.import_file(warehouse, file, format=fmt, check=not no_check, author=author, source=source)
    _report(result, as_json, file)


@command.command(name="list")
@click.option("--type", "target_type", type=click.Choice(["session", "event", "tool_call", "cluster", "suggestion"]), default=None)
@click.option("--label", "-l", "label", default=None, help="Only this label.")
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON.")
@warehouse_option
def list_cmd(target_type, label, as_json, warehouse) -> None:
    """List labels, oldest first."""
    from tracelab import feedback as F

    df = F.load(warehouse, target_type=target_type, label=label)
    emit_rows(df.columns, df.rows(), "json" if as_json else "table")
