"""``tracelab ingest``."""

from __future__ import annotations

import click

from tracelab.cli._common import fail, warehouse_option


@click.command("ingest")
@click.argument("paths", nargs=-1)
@warehouse_option
@click.option("--agent", type=click.Choice(["claude", "codex", "pi"]), help="Treat every input as this agent's format (default: detect by content).")
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes (default: CPU count).")
@click.option("--redact", is_flag=True, help="Redact secrets and private data before anything is written.")
@click.option("--redact-key", envvar="TRACELAB_REDACT_KEY", help="HMAC key for stable pseudonyms with --redact.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(paths, warehouse, agent, jobs, redact, redact_key, as_json, quiet):
    """Ingest session files into the warehouse (incremental, deduplicated, atomic).

    PATHS may be files, directories or globs. With none, reads the default locations:
    $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects, $CODEX_HOME/sessions or ~/.codex,
    $PI_AGENT_DIR/sessions or ~/.pi/agent/sessions.
    """
    if not redact:
        # the common no-op re-run, answered from the stat cache before pyarrow is even imported
        from tracelab.ingest.unchanged import check

        cached = check(paths, warehouse, agent)
        if cached is not None:
            click.echo(cached.to_json()) if as_json else _print_summary(cached)
            return
    from tracelab.pipeline import ingest

    redactor = None
    if redact:
        try:
            from tracelab.ingest.redaction import IngestRedactor
        except ImportError as exc:  # pragma: no cover - redaction ships with tracelab
            fail(f"redaction is unavailable: {exc}")
        redactor = IngestRedactor(key=redact_key)
    progress_cb = None
    bar = None
    if not quiet and not as_json:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

        bar = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            transient=True,
        )
        task = None

        def progress_cb(done: int, total: int, step: str) -> None:
            # step: "" while parsing, then the name of each step after it (derive, failures, ...)
            nonlocal task
            if task is None:
                task = bar.add_task("", total=total)
            bar.update(task, completed=done, description=step)

        bar.start()
    try:
        summary = ingest(paths, warehouse, agent=agent, jobs=jobs, progress=progress_cb, redactor=redactor, use_cache=False)
    finally:
        if bar is not None:
            bar.stop()
    if as_json:
        click.echo(summary.to_json())
        return
    _print_summary(summary)


def _print_summary(s) -> None:
    out, err = s.text_lines()
    for line in out:
        click.echo(line)
    for line in err:
        click.echo(line, err=True)
