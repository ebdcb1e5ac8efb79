"""``tracelab synth``: write a synthetic native-format corpus with ground truth."""

from __future__ import annotations

import datetime as dt
import time

import click

from tracelab.cli._common import emit_rows, fail, to_json


def _agents(value: str) -> tuple[str, ...]:
    names = tuple(a.strip() for a in value.split(",") if a.strip())
    bad = [a for a in names if a not in ("claude", "codex", "pi")]
    if bad or not names:
        raise click.BadParameter(f"expected a comma list of claude,codex,pi; got {value!r}")
    return names


@click.command("synth")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory (created).")
@click.option("--agents", default="claude,codex,pi", show_default=True, help="Comma list of agents to generate.")
@click.option("--sessions", type=int, default=None, help="Main sessions per agent (default 60).")
@click.option("--size", "size", default=None, help="Generate until the corpus reaches this size, e.g. 500MB, 2GB, 1GiB.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed => byte-identical corpus.")
@click.option("--start", default="2026-10-05", show_default=True, help="First day of the window (must be a Monday).")
@click.option("--weeks", type=int, default=4, show_default=True, help="Length of the window in weeks.")
@click.option("--malformed-rate", type=float, default=0.001, show_default=True, help="Chance of an extra malformed line before each write unit.")
@click.option("--jobs", "-j", type=int, default=None, help="Worker processes (default: min(2, CPUs)); output does not depend on it.")
@click.option("--overwrite", is_flag=True, help="Replace an existing corpus in --out.")
@click.option("--plant", is_flag=True, help="Add scripted Claude sessions with known permission/instruction/loop patterns (truth.json 'planted').")
@click.option("--plant-sessions", type=int, default=32, show_default=True, help="Number of planted sessions with --plant.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def command(out_dir, agents, sessions, size, seed, start, weeks, malformed_rate, jobs, overwrite, plant, plant_sessions, as_json):
    """Write Claude Code / Codex / Pi session files with known ground truth.

    \b
    Layout (point the real tools at it):
      OUT/claude  -> CLAUDE_CONFIG_DIR   (projects/<enc cwd>/<session>.jsonl, subagents)
      OUT/codex   -> CODEX_HOME          (sessions/YYYY/MM/DD/rollout-*.jsonl)
      OUT/pi      -> PI_AGENT_DIR        (sessions/--<enc cwd>--/<ts>_<uuid>.jsonl)
      OUT/truth.json, OUT/truth_failures.jsonl   ground truth (see tracelab/synth/README.md)
    """
    from tracelab.synth import generate, parse_size

    if sessions is not None and size is not None:
        fail("give either --sessions or --size, not both")
    try:
        size_bytes = parse_size(size) if size is not None else None
        start_date = dt.date.fromisoformat(start)
    except ValueError as exc:
        fail(str(exc))
    agent_names = _agents(agents)

    bar = None
    progress = None
    if not as_json and size_bytes is not None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        bar = Progress(TextColumn("[bold]synth"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), transient=True)
        task = bar.add_task("synth", total=size_bytes)

        def progress(done: int, _tasks: int) -> None:
            bar.update(task, completed=min(done, size_bytes))

        bar.start()
    t0 = time.perf_counter()
    try:
        truth = generate(
            out_dir,
            agents=agent_names,
            sessions=sessions,
            size_bytes=size_bytes,
            seed=seed,
            start=start_date,
            weeks=weeks,
            malformed_rate=malformed_rate,
            jobs=jobs,
            overwrite=overwrite,
            progress=progress,
            plant=plant,
            plant_sessions=plant_sessions,
        )
    except (ValueError, FileExistsError) as exc:
        fail(str(exc))
    finally:
        if bar is not None:
            bar.stop()
    seconds = time.perf_counter() - t0
    rows = []
    for name, a in truth["agents"].items():
        rows.append(
            [
                name,
                a["files"],
                a["lines"],
                a["bytes"],
                a["sessions"]["total"],
                a["llm_calls"],
                a["tool_calls"]["total"],
                a["tool_calls"]["by_status"]["error"],
                a["malformed"]["count"],
                a["duplicates"]["lines"],
            ]
        )
    summary = {
        "out": str(out_dir),
        "seconds": round(seconds, 3),
        "totals": truth["totals"],
        "agents": {
            r[0]: dict(
                zip(("files", "lines", "bytes", "sessions", "llm_calls", "tool_calls", "tool_errors", "malformed_lines", "duplicate_lines"), r[1:], strict=True)
            )
            for r in rows
        },
        "planted_regression": truth["planted_regression"],
    }
    if "planted" in truth:
        summary["planted"] = {k: len(truth["planted"][k]) for k in ("permission_rules", "instruction_rules", "loops")}
    if as_json:
        click.echo(to_json(summary))
        return
    emit_rows(["agent", "files", "lines", "bytes", "sessions", "llm_calls", "tool_calls", "tool_errors", "malformed", "duplicates"], rows, "table")
    mb = truth["totals"]["bytes"] / 1e6
    click.echo(f"{mb:.1f} MB in {seconds:.1f}s ({mb / max(seconds, 1e-9):.1f} MB/s) -> {out_dir}")
    click.echo(f"ground truth: {out_dir}/truth.json, {out_dir}/truth_failures.jsonl")
