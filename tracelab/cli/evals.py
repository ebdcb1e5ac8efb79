"""``tracelab evals export``: failure clusters (or any selection) as Promptfoo / Inspect / OpenAI evals."""

from __future__ import annotations

import click

from tracelab.cli._common import fail, param_pairs, to_json, warehouse_option


@click.group(name="evals")
def command() -> None:
    """Turn trace failures into runnable eval suites.

    \b
      tracelab evals export --top 5 --out evals/
      tracelab evals export --cluster te-fdd5 --cluster lp-715e --format promptfoo --out evals/
      tracelab evals export --query tool_loops --param agent=codex --out evals/
      tracelab evals export --sql "SELECT event_key FROM failure_members WHERE family = 'hook_block'" --out evals/
    """


@command.command(name="export")
@click.option("--cluster", "-c", "clusters", multiple=True, help="Failure cluster id or unique prefix; repeatable, or comma-separated.")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=None,
    help="K failure clusters, those that can become a check first (loops, tool errors with a recognisable fix, "
    "rejections with the user's reason), then by events; a cluster none of whose cases yields an assertion is "
    "passed over (and reported) for the next; interrupts only with --include-interrupts.",
)
@click.option("--include-interrupts", is_flag=True, help="Let --top pick interrupt clusters too.")
@click.option("--query", "-q", "query", default=None, help="A named query (tracelab query list) whose rows select the cases.")
@click.option("--param", "-p", "params", multiple=True, help="NAME=VALUE parameter of --query; repeatable.")
@click.option("--sql", default=None, help="SQL over the warehouse views whose rows select the cases.")
@click.option("--suggestion", default=None, help="A `tracelab suggest` id: cases at its evidence, expecting the behaviour it asks for.")
@click.option(
    "--format",
    "-f",
    "formats",
    multiple=True,
    type=click.Choice(["promptfoo", "inspect", "openai"]),
    help="Output format; repeatable (default: all three).",
)
@click.option("--out", "-o", "out", required=True, type=click.Path(file_okay=False), help="Output directory (created).")
@click.option("--per-cluster", type=click.IntRange(min=1), default=5, show_default=True, help="Cases per cluster (one per session first).")
@click.option("--context-calls", type=click.IntRange(min=0), default=8, show_default=True, help="Preceding tool calls shown in each prompt.")
@click.option("--provider", "providers", multiple=True, help="Promptfoo provider id for the config; repeatable (default: echo).")
@click.option("--no-redact", is_flag=True, help="Do not redact (exports then may contain secrets from the traces).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@warehouse_option
def export_cmd(
    clusters, top, include_interrupts, query, params, sql, suggestion, formats, out, per_cluster, context_calls, providers, no_redact, as_json, warehouse
) -> None:
    """Export eval cases: choose --cluster IDs, --top K, --query NAME, --sql TEXT or --suggestion ID."""
    from tracelab.evals import FORMATS, export

    if params and not query:
        fail("--param needs --query")
    result = export(
        warehouse,
        out,
        clusters=[c.strip() for v in clusters for c in v.split(",") if c.strip()] or None,
        top=top,
        query=query,
        params=param_pairs(params),
        sql=sql,
        formats=list(formats) or list(FORMATS),
        redact=not no_redact,
        per_cluster=per_cluster,
        context_calls=context_calls,
        providers=list(providers) or None,
        include_interrupts=include_interrupts,
        suggestion=suggestion,
    )
    if as_json:
        click.echo(to_json(result.to_dict()))
        return
    click.echo(f"Exported {result.cases} case(s) from {result.selection} to {result.out_dir}")
    if result.by_cluster:
        click.echo("Cases per cluster:")
        for cid, n in sorted(result.by_cluster.items(), key=lambda kv: (-kv[1], kv[0])):
            click.echo(f"  {cid:<20} {n}")
    click.echo("Files (cases per format):")
    for fmt in result.formats:
        for path in result.files.get(fmt, []):
            count = str(result.cases) if not path.endswith(".py") else "-"
            click.echo(f"  {fmt:<10} {count:>4}  {path}")
    click.echo(f"  {'summary':<10} {'':>4}  {result.files['manifest'][0]}")
    if result.passed_over:
        click.echo(f"Passed over {len(result.passed_over)} cluster(s) that yield no case with an assertion:")
        for line in result.passed_over:
            click.echo(f"  {line}")
    if result.skipped:
        click.echo(f"Skipped {len(result.skipped)} selected row(s) or case(s) (no failure located, or no assertion derivable), e.g. {result.skipped[0]}")
    click.echo(f"Expected behaviour from feedback labels: {result.expected_from_feedback} of {result.cases} case(s)")
    if result.redacted:
        found = ", ".join(f"{k} {v}" for k, v in result.redaction_findings.items()) or "nothing found"
        click.echo(f"Redaction: on ({found})")
    else:
        click.echo("Redaction: OFF (--no-redact): the files may contain secrets from the traces")
