"""``tracelab share``: write a Hub-ready, redacted and checked dataset folder from the warehouse."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tracelab.cli._common import ISO_TIME, warehouse_option
from tracelab.ingest.agents import ADAPTER_MODULES


@click.command(name="share")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@warehouse_option
@click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="Only sessions of this agent.")
@click.option("--project", help="Only sessions of this project.")
@click.option("--since", type=ISO_TIME, help="Sessions started at or after (UTC).")
@click.option("--until", type=ISO_TIME, help="Sessions started before (UTC).")
@click.option("--session", "sessions", multiple=True, metavar="ID", help="Only this session (id or key; repeatable).")
@click.option("--deny", multiple=True, metavar="PATTERN", help="Drop every session whose text matches this regex, case-insensitive (repeatable).")
@click.option("--max-sessions", type=int, default=None, help="Keep the N most recent sessions (subagents follow their parents).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "native", "sts"]),
    default="auto",
    show_default=True,
    help="native: the agents' own files; sts: every session as a Hub Session Trace Simple file; "
    "auto: native for Claude Code, Codex and Pi (which the Hub viewer detects), STS for every other agent.",
)
@click.option("--signatures/--keep-signatures", default=True, show_default=True, help="Strip encrypted reasoning and signature fields.")
@click.option("--images/--keep-images", default=True, show_default=True, help="Replace embedded images by a size marker.")
@click.option("--env-dumps/--keep-env-dumps", default=True, show_default=True, help="Replace environment dumps (NAME=value listings) by a variable count.")
@click.option(
    "--secret-file", multiple=True, type=click.Path(exists=True, dir_okay=False), help="File of exact secret values to redact, one per line (repeatable)."
)
@click.option("--redact-deny", multiple=True, metavar="WORD", help="Word to redact everywhere (a company or project name; repeatable).")
@click.option("--key", envvar="TRACELAB_REDACT_KEY", help="Pseudonym key (default: $TRACELAB_REDACT_KEY; else random per run).")
@click.option("--license", "license_", default="cc-by-4.0", show_default=True, help="License on the dataset card.")
@click.option("--name", help="Pretty name on the dataset card.")
@click.option("--no-recall", is_flag=True, help="Do not measure the policy's recall for the card (faster).")
@click.option("--yes", "-y", is_flag=True, help="Confirm: write the folder if the check is clean (otherwise asked on a terminal).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="Write what was removed, by kind (no values), as JSON.")
@click.option("--push", "push_to", metavar="ORG/NAME", help="Upload the folder to this Hub dataset (a pull request unless --no-pr).")
@click.option("--no-pr", is_flag=True, help="With --push: commit to the main branch instead of opening a pull request.")
@click.option("--dry-run", is_flag=True, help="With --push: print the planned commit operations, no network.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(
    out,
    warehouse,
    agent,
    project,
    since,
    until,
    sessions,
    deny,
    max_sessions,
    fmt,
    signatures,
    images,
    env_dumps,
    secret_file,
    redact_deny,
    key,
    license_,
    name,
    no_recall,
    yes,
    report_path,
    push_to,
    no_pr,
    dry_run,
    as_json,
):
    """Write OUT: the selected sessions' files, stripped and redacted in their native formats
    (or as Session Trace Simple files, see --format), with manifest.jsonl and a dataset card
    (README.md), ready to upload to the Hugging Face Hub.

    \b
    Nothing is written unless `redact --check` on the output is clean and you confirm
    (--yes, or the prompt on a terminal). --push uploads OUT afterwards (the only network
    access tracelab makes), as a pull request by default.

    \b
    Examples:
      tracelab share my-traces --agent claude --since 2026-11-01 --deny acme --yes
      tracelab share my-traces --max-sessions 50 --report removed.json
      tracelab share my-traces --agent gemini --format sts --yes
      tracelab share my-traces --yes --push me/my-agent-traces --dry-run
    """
    from tracelab.redact.policy import Policy, read_lines_file
    from tracelab.share import ShareOptions, ShareRefused, StripOptions, build_share, planned_operations, push
    from tracelab.share.hub import check_repo_id

    if (no_pr or dry_run) and not push_to:
        raise click.UsageError("--no-pr and --dry-run go with --push ORG/NAME")
    if push_to:
        check_repo_id(push_to)
    known: list[str] = []
    for f in secret_file:
        known += read_lines_file(f)
    policy = Policy(known_secrets=tuple(known), deny=tuple(redact_deny), key=key.encode() if key else None)
    opts = ShareOptions(
        agent=agent,
        project=project,
        since=since,
        until=until,
        sessions=tuple(sessions),
        deny=tuple(deny),
        max_sessions=max_sessions,
        strip=StripOptions(signatures=signatures, images=images, env_dumps=env_dumps),
        license=license_,
        name=name,
        measure_recall=not no_recall,
        format=fmt,
    )

    def confirm(result) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        for line in result.summary_lines()[:-1]:
            click.echo(line, err=True)
        return click.confirm(f"write {result.out}?", default=False, err=True)

    try:
        result = build_share(warehouse, out, options=opts, policy=policy, confirm=confirm, report_path=report_path)
    except ShareRefused as exc:
        res = exc.context.get("result")
        if res is not None and not as_json:
            for line in res.summary_lines():
                click.echo(line, err=True)
        if as_json and res is not None:
            click.echo(json.dumps({"written": False, "reason": res.reason, "check_clean": res.check_clean, "check_findings": res.check_counts}))
        raise
    pushed = None
    if push_to:
        if dry_run:
            ops = planned_operations(out)
            pushed = {"repo_id": push_to, "create_pr": not no_pr, "dry_run": True, "operations": [o.to_dict() for o in ops]}
        else:
            pushed = push(out, push_to, create_pr=not no_pr)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "written": True,
                    "out": str(out),
                    "sessions": result.sessions,
                    "files": result.files,
                    "removed": result.removed,
                    "policy_hash": result.policy_hash,
                    "recall": result.recall,
                    "push": pushed,
                }
            )
        )
        return
    for line in result.summary_lines():
        click.echo(line)
    if pushed and pushed.get("dry_run"):
        click.echo(f"dry run: would {'open a pull request on' if not no_pr else 'commit to'} datasets/{push_to} with {len(pushed['operations'])} operations:")
        for o in pushed["operations"]:
            click.echo(f"  add {o['path_in_repo']} ({o['bytes']:,} bytes)")
    elif pushed:
        click.echo(f"pushed to datasets/{push_to}: {pushed.get('pr_url') or pushed.get('commit_url')}")
