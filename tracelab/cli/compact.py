"""``tracelab compact``."""

from __future__ import annotations

import click

from tracelab.cli._common import to_json, warehouse_option
from tracelab.errors import WarehouseMissing


@click.command("compact")
@warehouse_option
@click.option("--min-parts", type=click.IntRange(min=2), default=2, show_default=True, help="Merge a month's small parts once it has this many.")
@click.option("--small-mb", type=click.FloatRange(min=0, min_open=True), default=32, show_default=True, help="Parts below this size (MB) count as small.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
def command(warehouse, min_parts, small_mb, as_json):
    """Merge small Parquet parts of events, llm_calls and tool_calls, month by month.

    Every ingest adds a few parts; ingest merges them itself once a month has 8 small ones.
    This does it now (same rows, fewer files, atomic like an ingest).
    """
    from tracelab.failures import api as failures
    from tracelab.store.compact import compact
    from tracelab.store.warehouse import Warehouse
    from tracelab.textindex import sync

    wh = Warehouse(warehouse)
    if not wh.exists:
        raise WarehouseMissing(f"no tracelab warehouse at {wh.root} (run `tracelab ingest --warehouse {wh.root}` first)", path=str(wh.root))
    with wh.lock():
        snap = wh.snapshot()
        current = failures.failures_current(snap)
        res = compact(wh, snap, wh.new_batch_id(), small_bytes=int(small_mb * 1e6), min_parts=min_parts)
        if res.changed:
            if current:
                failures.restamp(snap)
            sync(wh, snap, parts=set(snap.tables.get("events", [])) - set(wh.snapshot().tables.get("events", [])))  # the merged parts' search index
            wh.commit(snap)
    out = {"warehouse": str(wh.root), "merged": res.merged, "parts_before": res.parts_before, "parts_after": res.parts_after}
    if as_json:
        click.echo(to_json(out))
        return
    for t in res.parts_before:
        click.echo(f"{t:<11} {res.parts_before[t]} parts -> {res.parts_after[t]}")
