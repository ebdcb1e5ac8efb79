"""``tracelab verify``."""

from __future__ import annotations

import click

from tracelab.cli._common import fail, to_json, warehouse_option
from tracelab.errors import WarehouseMissing
from tracelab.ingest.agents import ADAPTER_MODULES


@click.command("verify")
@click.argument("paths", nargs=-1)
@warehouse_option
@click.option("--against-clean", "against_clean", is_flag=True, help="Ingest PATHS again into a temporary warehouse and compare every table.")
@click.option("--against", "other", type=click.Path(exists=True, file_okay=False), help="Compare with this other warehouse instead.")
@click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="As for tracelab ingest.")
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes for the clean ingest.")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def command(paths, warehouse, against_clean, other, agent, jobs, as_json):
    """Check that the warehouse equals one clean ingest of its inputs, row for row.

    With --against-clean, PATHS (the same paths you give `tracelab ingest`; none: the default
    locations) are ingested once into a temporary warehouse and every table is compared, all
    columns except ingest timestamps. Files kept as `missing` (deleted inputs) are a documented
    difference; run `tracelab ingest --prune` first to compare them away. Exit code 1 when the
    warehouses differ.
    """
    from tracelab import verify
    from tracelab.store.warehouse import Warehouse

    if not Warehouse(warehouse).exists:
        raise WarehouseMissing(f"no tracelab warehouse at {warehouse}", path=str(warehouse))
    Warehouse(warehouse).snapshot()  # a corrupt snapshot is reported before anything runs
    if not against_clean and not other:
        fail("give --against-clean (with the ingest's PATHS) or --against OTHER_WAREHOUSE")
    diffs = verify.compare(warehouse, other) if other else verify.against_clean(warehouse, paths, agent=agent, jobs=jobs)
    if as_json:
        click.echo(to_json({"warehouse": str(warehouse), "equal": not diffs, "differences": [d.__dict__ for d in diffs]}))
    elif not diffs:
        click.echo("equal      every table matches, row for row")
    else:
        for d in diffs:
            click.echo(f"differs    {d.describe()}")
    if diffs:
        raise SystemExit(1)
