"""``tracelab index``: the search index (build it for an existing warehouse, show its state)."""

from __future__ import annotations

import click

from tracelab.cli._common import to_json, warehouse_option
from tracelab.errors import WarehouseMissing


@click.group("index")
def command():
    """The search index `tracelab search` uses: token postings per events part.

    Ingest keeps it for the parts it writes. Build it for a warehouse made before it existed (or
    copied from Parquet), and check it.
    """


def _warehouse(warehouse):
    from tracelab.store.warehouse import Warehouse

    wh = Warehouse(warehouse)
    if not wh.exists:
        raise WarehouseMissing(f"no tracelab warehouse at {wh.root} (run `tracelab ingest --warehouse {wh.root}` first)", path=str(wh.root))
    return wh


@command.command("build")
@warehouse_option
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
def build(warehouse, as_json):
    """Build the missing segments and drop stale ones.

    Indexes every events part that has no (readable, current) segment, drops segments of parts
    that are gone, and commits (atomic like an ingest)."""
    import time

    from tracelab.textindex import repair

    wh = _warehouse(warehouse)
    t = time.perf_counter()
    with wh.lock():
        snap = wh.snapshot()
        res = repair(wh, snap)
        if res.built or res.dropped:
            wh.commit(snap)
    out = {"warehouse": str(wh.root), "built": len(res.built), "dropped": len(res.dropped), "seconds": round(time.perf_counter() - t, 3)}
    if as_json:
        click.echo(to_json(out))
        return
    click.echo(f"{wh.root}: {out['built']} segment{'s' if out['built'] != 1 else ''} built, {out['dropped']} dropped in {out['seconds']:.1f} s")


@command.command("status")
@warehouse_option
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
def status_command(warehouse, as_json):
    """Show what is indexed, its size and any problem.

    Which events parts have a segment, their size, and any problem (missing, unreadable, stale
    segments; parts without one). Search scans the parts it cannot use a segment for."""
    from tracelab.textindex import check, status

    wh = _warehouse(warehouse)
    snap = wh.snapshot()
    st = status(snap)
    problems = check(wh, snap)

    def size(rels):
        return sum((wh.root / r).stat().st_size for r in rels if (wh.root / r).is_file())

    out = {
        "warehouse": str(wh.root),
        "events_parts": len(st.indexed) + len(st.unindexed),
        "indexed_parts": len(st.indexed),
        "complete": st.complete and not problems,
        "index_bytes": size(seg for _, seg in st.indexed),
        "events_bytes": size(snap.tables.get("events", [])),
        "problems": [{"kind": p.kind, "message": p.message, "path": p.path} for p in problems],
    }
    if as_json:
        click.echo(to_json(out))
        return
    share = out["index_bytes"] / out["events_bytes"] if out["events_bytes"] else 0
    click.echo(
        f"{out['indexed_parts']} of {out['events_parts']} events parts indexed; index {out['index_bytes'] / 1e6:.1f} MB "
        f"({share:.0%} of the events parts' {out['events_bytes'] / 1e6:.1f} MB)"
    )
    for p in problems[:20]:
        click.echo(f"  {p.kind}: {p.message}")
    if problems:
        click.echo("run `tracelab index build` to repair" if any(p.kind != "unindexed" for p in problems) else "run `tracelab index build` to index them")
