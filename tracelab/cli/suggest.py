"""``tracelab suggest``: harness changes learnt from the warehouse, with evidence and a backtest."""

from __future__ import annotations

import click

from tracelab.cli._common import ISO_TIME, emit_rows, fail, to_json, warehouse_option
from tracelab.ingest.agents import ADAPTER_MODULES

_KINDS = ("permission", "instruction", "hook", "boundary", "loop")
_TABLE = ("id", "kind", "decision", "project", "pattern", "conf", "events", "sessions", "calls/wk", "min/wk", "tokens/wk", "oot", "title")


@click.command("suggest")
@warehouse_option
@click.option("--kind", "kinds", multiple=True, type=click.Choice(_KINDS), help="Only these kinds (repeatable; default all).")
@click.option("--project", default=None, help="Only this project (sessions.project).")
@click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="Only this agent.")
@click.option("--since", type=ISO_TIME, default=None, help="Learn from calls at or after this time (UTC).")
@click.option("--until", type=ISO_TIME, default=None, help="Learn from calls before this time (UTC).")
@click.option(
    "--holdout-weeks", type=click.IntRange(min=0), default=1, show_default=True, help="Out-of-time check: learn without the last N weeks, score on them."
)
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.0, show_default=True, help="Drop suggestions below this confidence.")
@click.option(
    "--min-events", type=click.IntRange(min=1), default=None, help="Evidence needed for any suggestion (default: 5 approvals, 3 rejections/pairs/failures)."
)
@click.option("--min-sessions", type=click.IntRange(min=1), default=None, help="Sessions the evidence must span (default: 3 for allow rules, 2 otherwise).")
@click.option("--id", "ids", multiple=True, help="Only these suggestion ids (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many suggestions (best first).")
@click.option("--include-rejected", is_flag=True, help="Also list suggestions labelled rejected.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "patch"]), default="table", show_default=True, help="patch writes place-ready snippets to --out."
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="tracelab-suggestions", show_default=True, help="Folder for --format patch.")
@click.option(
    "--apply",
    "apply_dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Merge the Claude Code changes into this project folder (shows the diff, keeps a backup).",
)
@click.option("--yes", is_flag=True, help="With --apply: do not ask before writing.")
def command(
    warehouse,
    kinds,
    project,
    agent,
    since,
    until,
    holdout_weeks,
    min_confidence,
    min_events,
    min_sessions,
    ids,
    limit,
    include_rejected,
    fmt,
    as_json,
    out_dir,
    apply_dir,
    yes,
):
    """Suggest permission rules, instruction rules, hooks and loop rules from past sessions.

    \b
    Every suggestion carries its evidence (failure cluster ids, counts, sessions, first/last
    seen, example steps as `tracelab session ID --around N`), a backtest (calls, minutes and
    tokens per week it would have saved) and an out-of-time check (learnt without the last
    --holdout-weeks, scored on them: holds / does not hold / untested / new). Deterministic and offline.

    \b
      tracelab suggest                         # table, best first
      tracelab suggest --json                  # every column
      tracelab suggest --format patch --out s  # s/<project>/.claude/settings.json, CLAUDE.md, ...
      tracelab suggest --project api --apply ~/src/api   # diff, confirm, backup, write

    Nothing is written to a harness configuration unless --apply is given.
    """
    import polars as pl

    from tracelab.suggest.api import suggest
    from tracelab.suggest.patch import apply, planned_changes, write_patch

    if as_json:
        fmt = "json"
    df = suggest(
        warehouse,
        kinds=kinds or _KINDS,
        project=project,
        agent=agent,
        since=since,
        until=until,
        holdout_weeks=holdout_weeks,
        min_confidence=min_confidence,
        min_events=min_events,
        min_sessions=min_sessions,
        include_rejected=include_rejected,
    )
    if ids:
        missing = sorted(set(ids) - set(df["id"].to_list()))
        if missing:
            fail(f"no suggestion {', '.join(missing)} in this warehouse (run `tracelab suggest` for the list)")
        df = df.filter(pl.col("id").is_in(list(ids)))
    if limit is not None:
        df = df.head(limit)

    if apply_dir is not None:
        changes = planned_changes(df, apply_dir)  # a TracelabError is reported at the top with its exit code
        if not changes:
            click.echo("nothing to change (no Claude Code suggestions, or they are already in place)")
            return

        def confirm(text: str) -> bool:
            click.echo(text)
            return yes or click.confirm("apply these changes?", default=False)

        done = apply(changes, confirm=confirm)
        if not done:
            click.echo("nothing written")
        for path, backup in done:
            click.echo(f"wrote {path}" + (f" (backup {backup})" if backup else " (new file)"))
        return

    if fmt == "json":
        click.echo(to_json(df.to_dicts()))
        return
    if fmt == "patch":
        files = write_patch(df, out_dir)
        for p in files:
            click.echo(str(p))
        click.echo(f"{df.height} suggestions; nothing was applied (see {out_dir}/README.md)")
        return
    if df.is_empty():
        click.echo("no suggestions (not enough repeated evidence in this warehouse)")
        return
    rows = [
        [
            r["id"],
            r["kind"],
            r["decision"],
            r["project"],
            r["pattern"][:40],
            f"{r['confidence']:.2f}",
            r["n_events"],
            r["n_sessions"],
            r["calls_per_week"],
            r["minutes_per_week"],
            r["tokens_per_week"],
            r["oot"],
            r["title"][:70],
        ]
        for r in df.iter_rows(named=True)
    ]
    emit_rows(_TABLE, rows, "table")
    click.echo("details: tracelab suggest --id ID --json; snippets: tracelab suggest --format patch --out DIR")
