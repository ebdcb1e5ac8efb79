"""``tracelab export sts``: sessions in the Hugging Face Hub's Session Trace Simple format."""

from __future__ import annotations

import click

from tracelab.cli._common import to_json, warehouse_option
from tracelab.ingest.agents import ADAPTER_MODULES


@click.group(name="export")
def command() -> None:
    """Write sessions in other tools' formats.

    \b
      tracelab export sts --out traces/                 # every session, one .jsonl each
      tracelab export sts --agent gemini --out traces/
      tracelab export sts --session claude:0ccf1a04-… --out traces/
    """


@command.command(name="sts")
@click.option(
    "--out", "-o", "out", required=True, type=click.Path(file_okay=False), help="Output directory (created); files are <out>/<agent>/<session id>.jsonl."
)
@click.option(
    "--session", "-s", "sessions", multiple=True, help="Only this session: a key, a native id or a unique prefix, as `tracelab session` takes (repeatable)."
)
@click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="Only sessions of this agent.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@warehouse_option
def sts_cmd(out, sessions, agent, as_json, warehouse) -> None:
    """Export sessions as Session Trace Simple format (STS) files for the Hugging Face Hub's trace
    viewer: a session header line, then one line per message (user, assistant with reasoning and
    tool calls, tool results, system). Tokens, tool status and timings are not part of STS."""
    from tracelab.ingest.sts.write import export_sts

    res = export_sts(warehouse, out, _keys(warehouse, sessions) or None, agent)
    if as_json:
        click.echo(to_json(res.to_dict()))
    else:
        click.echo(f"wrote {res.sessions} sessions ({res.messages} messages) to {res.out_dir}")


def _keys(warehouse, given: tuple[str, ...]) -> list[str]:
    """The session keys the --session values name, resolved as `tracelab session ID` resolves
    its ID (an unknown or ambiguous one is a one-line error listing the candidates)."""
    if not given:
        return []
    from tracelab.session.timeline import resolve
    from tracelab.store.connection import Store

    with Store(warehouse) as store:
        return [resolve(store.con, s) for s in given]
