"""``tracelab info``: what a warehouse holds, at a glance."""

from __future__ import annotations

import click

from tracelab.cli._common import emit_rows, to_json, warehouse_option


@click.command("info")
@warehouse_option
@click.option("--project", help="Only this project's sessions (an unknown name draws a warning listing the closest).")
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
def command(warehouse, project, as_json):
    """What the warehouse holds: snapshot, storage, per-agent counts and time span, rejected
    lines by reason, and line types kept as 'unknown' (format drift to look at)."""
    from tracelab.info import warehouse_info

    info = warehouse_info(warehouse, project=project)
    if as_json:
        click.echo(to_json(info))
        return
    snap = info["snapshot"]
    committed = (snap["committed_at"] or "never")[:16].replace("T", " ")
    click.echo(f"warehouse  {info['warehouse']}" + (f"  (project {project})" if project else ""))
    click.echo(f"snapshot   version {snap['version']}, committed {committed} UTC, schema {snap['schema_version']}")
    st = sorted(info["storage"].items(), key=lambda kv: -kv[1]["bytes"])
    total = sum(v["bytes"] for _, v in st)
    parts = sum(v["parts"] for _, v in st)
    listed = ", ".join(f"{t} {_mb(v['bytes'])} ({v['parts']})" for t, v in st if v["parts"])
    click.echo(f"storage    {_mb(total)} in {parts} Parquet parts" + (f": {listed}" if listed else ""))
    agents = info["agents"]
    if not agents:
        # with --project the warehouse may hold plenty: say which it is (the warning above lists the closest names)
        click.echo(f"agents     none: no sessions of project {project!r}" if project else "agents     none: nothing ingested yet")
    else:
        # one column per agent (few), one row per measure (many): fits any terminal
        measures = [
            ("files", lambda a: a["files"]),
            ("input", lambda a: _mb(a["bytes"])),
            ("lines read", lambda a: a["lines_total"]),
            ("  ingested", lambda a: a["lines_ingested"]),
            ("  duplicate", lambda a: a["lines_duplicate"]),
            ("  rejected", lambda a: a["lines_rejected"]),
            ("main sessions", lambda a: a["sessions"]),  # subagent sessions apart, as the share card counts them
            ("subagent sessions", lambda a: a["subagent_sessions"]),
            ("events", lambda a: a["events"]),
            ("llm_calls", lambda a: a["llm_calls"]),
            ("tool_calls", lambda a: a["tool_calls"]),
            ("first event", lambda a: _day(a["first_ts"])),
            ("last event", lambda a: _day(a["last_ts"])),
        ]
        emit_rows(["", *(a["agent"] for a in agents)], [(name, *(get(a) for a in agents)) for name, get in measures], "table")
    rejects = info["rejects"]
    if rejects:
        click.echo(
            f"rejects    {sum(r['lines'] for r in rejects)} lines: "
            + ", ".join(f"{r['agent']} {r['reason']} {r['lines']}" for r in rejects[:8])
            + (f", … ({len(rejects)} reasons)" if len(rejects) > 8 else "")
        )
    for e in info.get("entries", []):
        what = f"{e['status']:<10} "
        why = "rows kept; tracelab ingest --prune removes them" if e["status"] == "missing" else e["reason"]
        click.echo(f"{what}{e['files']} files: {why}")
    if info["unknown_types"]:
        from tracelab.ingest.summary import unknown_types_line

        click.echo(unknown_types_line(info["unknown_types"], most=8))


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _day(ts) -> str | None:
    return ts.strftime("%Y-%m-%d") if ts is not None else None
