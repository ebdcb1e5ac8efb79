"""Options and output helpers shared by commands."""

from __future__ import annotations

import csv
import datetime as _dt
import decimal
import io
import json
import sys
from typing import Any, Sequence

import click

warehouse_option = click.option(
    "--warehouse",
    "-w",
    type=click.Path(file_okay=False),
    default="warehouse",
    envvar="TRACELAB_WAREHOUSE",
    show_default=True,
    help="Warehouse directory (env TRACELAB_WAREHOUSE).",
)


def skip_unused_schema_checkers() -> None:
    """Call before a command imports altair. altair imports jsonschema, which loads the
    optional ``rfc3987_syntax`` URI checker whenever it is installed (jupyterlab pulls it in);
    that package compiles a grammar at import, ~1.5 s of every chart or report process, for a
    format altair never validates. A command process marks it absent; library users and
    notebooks are left alone."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _default(o: Any) -> Any:
    if isinstance(o, (_dt.datetime, _dt.date, _dt.time)):
        return o.isoformat()
    if isinstance(o, decimal.Decimal):
        return float(o)
    if isinstance(o, (bytes, bytearray)):
        return o.decode("utf-8", "replace")
    if isinstance(o, _dt.timedelta):
        return o.total_seconds()
    return str(o)


def to_json(obj: Any) -> str:
    return json.dumps(obj, default=_default, ensure_ascii=False)


def emit_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out=None) -> None:
    """Write rows as table | csv | json (a JSON array of row objects)."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(to_json([dict(zip(columns, r)) for r in rows]))
        out.write("\n")
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in r])
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(show_lines=False, header_style="bold")
        for c in columns:
            t.add_column(str(c), overflow="fold")
        for r in rows:
            t.add_row(*["" if v is None else str(v) for v in r])
        Console(file=out, width=max(100, min(200, 24 * len(columns)))).print(t)


def fail(message: str) -> None:
    raise click.ClickException(message)
