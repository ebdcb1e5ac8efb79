"""``tracelab ingest``."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import click

from tracelab.cli._common import fail, warehouse_option
from tracelab.errors import InputError
from tracelab.ingest.agents import ADAPTER_MODULES

#: what a warehouse folder may hold besides its tables (an interrupted first ingest leaves some)
_WAREHOUSE_FILES = {".lock", ".readers", ".staging", "_snapshot.json", "_unchanged.json", "_part_stats.json", ".doctor-rebuild", ".doctor-old"}


@click.command("ingest")
@click.argument("paths", nargs=-1)
@warehouse_option
@click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="Treat every input as this agent's format (default: detect by content).")
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes (default: CPU count).")
@click.option("--redact", is_flag=True, help="Redact secrets and private data before anything is written.")
@click.option("--redact-key", envvar="TRACELAB_REDACT_KEY", help="HMAC key for stable pseudonyms with --redact.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--prune",
    is_flag=True,
    help="Remove the rows of files that were ingested before and are no longer where they were listed (default: keep them, files.status = 'missing').",
)
def command(paths, warehouse, agent, jobs, redact, redact_key, as_json, quiet, prune):
    """Ingest session files into the warehouse (incremental, deduplicated, atomic).

    PATHS may be files, directories, globs or Hugging Face datasets (hf://datasets/ORG/NAME[@REV],
    through the huggingface_hub cache; HF_HUB_OFFLINE=1 uses only the cache). With none, reads the default locations:
    $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects, $CODEX_HOME/sessions or ~/.codex,
    $PI_AGENT_DIR/sessions or ~/.pi/agent/sessions, $GEMINI_CLI_HOME/.gemini/tmp or
    ~/.gemini/tmp (Gemini CLI), $COPILOT_HOME/session-state or ~/.copilot/session-state
    (Copilot CLI), $COPILOT_OTEL_FILE_EXPORTER_PATH (OpenTelemetry export). Hub STS files and
    other OpenTelemetry exports are read when named.
    """
    if any(p.startswith("hf://") for p in paths):
        from tracelab.ingest.hub import resolve_paths

        paths = tuple(resolve_paths(paths))  # a Hub dataset ingests from its local mirror folder
    _check_target(paths, warehouse)
    if not redact and not prune:
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
        summary = ingest(paths, warehouse, agent=agent, jobs=jobs, progress=progress_cb, redactor=redactor, use_cache=False, prune=prune)
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


def _check_target(paths: tuple[str, ...], warehouse: str) -> None:
    """Refuse before anything is created: an input path that does not exist, and a warehouse
    folder that holds other things than a warehouse (ingest would mix its files into them)."""
    for raw in paths:
        expanded = os.path.expanduser(raw)
        if not (glob.glob(expanded, recursive=True) if any(c in raw for c in "*?[") else os.path.lexists(expanded)):
            raise InputError(f"{raw}: no such file or directory (nothing was created)", path=raw)
    root = Path(warehouse).expanduser()
    if not root.is_dir():
        if root.exists():
            raise InputError(f"--warehouse {warehouse}: not a folder", path=str(root))
        return
    if (root / "_snapshot.json").exists():
        return
    from tracelab import schema as S
    from tracelab.store.snapshot import LAYOUT_TABLES

    known = _WAREHOUSE_FILES | set(S.TABLES) | set(S.ANALYSIS_TABLES) | LAYOUT_TABLES
    other = sorted(e.name for e in root.iterdir() if e.name not in known and not e.name.startswith(("_snapshot.json.", "_part_stats.json.")))
    if other:
        shown = ", ".join(other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
        raise InputError(
            f"--warehouse {warehouse} is a folder that is not a tracelab warehouse and not empty ({shown}); choose a new or empty folder", path=str(root)
        )
