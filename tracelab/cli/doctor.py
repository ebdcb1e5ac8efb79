"""``tracelab doctor``: check a warehouse, and repair it with ``--repair``."""

from __future__ import annotations

import sys

import click

from tracelab.cli._common import to_json, warehouse_option


@click.command("doctor")
@warehouse_option
@click.option("--repair", is_flag=True, help="Repair what can be repaired, saying what was done.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Parser processes for a rebuild (default: CPU count).")
@click.option("--json", "as_json", is_flag=True, help="Print findings and actions as JSON.")
def command(warehouse, repair, jobs, as_json):
    """Check a warehouse: the snapshot parses, every part it lists exists and reads, the
    manifest's line counts add up, nothing is left over from an interrupted ingest.

    With --repair: leftovers (staging folder, temporary and orphan files) are removed; a
    broken snapshot, a missing or unreadable part or a manifest that does not add up is
    repaired by rolling back to the snapshot the last commit replaced (kept as
    _snapshot.prev.json with its parts) and re-ingesting the input files incrementally, or,
    when that snapshot is not whole, by rebuilding the warehouse from its inputs (the files its
    manifest lists); feedback labels are kept. Each action is one line.

    Exit status: 0 when the warehouse is (now) healthy, 3 when problems remain.
    """
    from tracelab import doctor

    report = doctor.repair(warehouse, jobs=jobs) if repair else doctor.check(warehouse)
    if as_json:
        click.echo(to_json(report.to_dict()))
    else:
        click.echo(f"warehouse  {report.warehouse}")
        if not report.findings:
            click.echo("healthy: snapshot, parts, manifest and leftovers checked")
        for f in report.findings:
            click.echo(f"problem    {f.message}")
        for a in report.actions:
            click.echo(f"repaired   {a}")
        for n in report.notes:
            click.echo(f"note       {n}")
        if report.findings and report.healthy:
            click.echo("healthy now")
        elif not report.healthy:
            click.echo(f"{len(report.remaining)} problem(s) remain" + ("" if repair else "; `tracelab doctor --repair` repairs what it can"))
    if not report.healthy:
        sys.exit(3)
