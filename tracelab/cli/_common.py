"""Options and output helpers shared by commands."""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import decimal
import json
import math
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from tracelab.errors import ParameterError, TracelabError
from tracelab.library import to_datetime
from tracelab.store import sql_text

warehouse_option = click.option(
    "--warehouse",
    "-w",
    type=click.Path(file_okay=False),
    default="warehouse",
    envvar="TRACELAB_WAREHOUSE",
    show_default=True,
    help="Warehouse directory (env TRACELAB_WAREHOUSE).",
)


class IsoTime(click.ParamType):
    """An ISO date or date-time (``2026-11-01``, ``2026-11-01T12:00:00Z``; naive = UTC), checked
    when the command line is read so a bad value names its option; the value stays the string
    the user typed (the query layer converts it)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or not isinstance(value, str):
            return value
        try:
            to_datetime(value)
        except (TypeError, ValueError) as exc:
            self.fail(f"{value!r} is not an ISO date or time such as 2026-11-01 or 2026-11-01T12:00:00Z ({exc})", param, ctx)
        return value


ISO_TIME = IsoTime()


def skip_unused_schema_checkers() -> None:
    """Call before a command imports altair. altair imports jsonschema, which loads the
    optional ``rfc3987_syntax`` URI checker whenever it is installed (jupyterlab pulls it in);
    that package compiles a grammar at import, ~1.5 s of every chart or report process, for a
    format altair never validates. A command process marks it absent; library users and
    notebooks are left alone."""
    # None in sys.modules is the documented "import blocked" marker; typeshed types the values as ModuleType only
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
    """Write rows as table | csv | json (a JSON array of row objects).

    csv and json carry every value in full precision; ``table`` is for reading (see
    :func:`render_table`)."""
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
        render_table(columns, rows, out)


# -- output options shared by `sql`, `query run` and `query compare` ------------------------

OUTPUT_FORMATS = ("table", "csv", "json", "parquet")


def output_options(fn):
    """``--format/-f table|csv|json|parquet``, ``--out/-o FILE`` and ``--json`` (same as
    ``--format json``), for commands that print one result set."""
    fn = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(fn)
    fn = click.option("--out", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")(fn)
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(OUTPUT_FORMATS),
        default="table",
        show_default=True,
        help="table for reading; csv, json (array of row objects) and parquet (needs --out) keep full precision.",
    )(fn)


def output_format(fmt: str, as_json: bool, out: str | None) -> str:
    """The format the output options ask for; fails (before any work) on parquet without a file."""
    fmt = "json" if as_json else fmt
    if fmt == "parquet" and not out:
        fail("--format parquet needs --out FILE")
    return fmt


def write_result(columns: Sequence[str], rows: Sequence[Sequence[Any]] | None, fmt: str, out: str | None, arrow=None) -> None:
    """Write a result set in ``fmt`` to the file ``out`` (default stdout). ``parquet`` writes
    ``arrow`` (a pyarrow table, or a callable returning one); the other formats write
    ``rows`` (or ``arrow``'s rows when ``rows`` is None)."""
    if fmt == "parquet":
        if not out:
            fail("--format parquet needs --out FILE")
        import pyarrow.parquet as pq

        table = arrow() if callable(arrow) else arrow
        with _writing(out):
            pq.write_table(table, out)
        return
    if rows is None:
        table = arrow() if callable(arrow) else arrow
        columns = table.column_names
        rows = list(zip(*[table.column(c).to_pylist() for c in columns])) if columns else []
    if out:
        with _writing(out), open(out, "w", encoding="utf-8", newline="") as fh:
            emit_rows(columns, rows, fmt, fh)
    else:
        emit_rows(columns, rows, fmt)


@contextlib.contextmanager
def _writing(out: str) -> Iterator[None]:
    """Around writing the file ``out``: its folder is made when missing (as ``chart --out`` and
    ``report -o`` do), and a file that cannot be written is a one-line error, not a crash."""
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        yield
    except OSError as exc:
        raise TracelabError(f"cannot write {out}: {exc.strerror or exc}", path=out) from None


# -- the table renderer --------------------------------------------------------------------

NULL_MARK = "∅"
_WIDE_DEFAULT = 200  # width when the output is a pipe or file and COLUMNS is unset
_MIN_TEXT_WIDTH = 10  # a text column is wrapped down to this many cells before going record-wise


def output_width(out) -> int:
    """Cells per line for ``out``: ``COLUMNS`` when set, else the terminal's width when ``out``
    is a terminal, else a wide default (a pipe or a file)."""
    env = os.environ.get("COLUMNS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        tty = out.isatty()
    except (AttributeError, ValueError, OSError):
        tty = False
    if tty:
        return shutil.get_terminal_size((_WIDE_DEFAULT, 24)).columns
    return _WIDE_DEFAULT


def format_float(v: float) -> str:
    """A float for reading: 4 significant digits below 1 (0.3684, 0.0001234), up to 2 decimals
    (or 4 significant digits) from 1 on (1.235, 12.35, 1123.46), always with a decimal point;
    exponent notation only below 1e-4 or from 1e15."""
    if math.isnan(v) or math.isinf(v):
        return str(v)
    a = abs(v)
    if a == 0:
        return "0.0"
    if a < 1 or a >= 1e15:
        return f"{v:.4g}"
    digits = int(math.log10(a)) + 1
    text = f"{v:.{max(2, 4 - digits)}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _display(v: Any) -> tuple[str, str]:
    """(text, kind) of one value for the table: kind is ``null``, ``num`` or ``text``."""
    if v is None:
        return NULL_MARK, "null"
    if isinstance(v, bool):
        return ("true" if v else "false"), "text"
    if isinstance(v, int):
        return str(v), "num"
    if isinstance(v, float):
        return format_float(v), "num"
    if isinstance(v, decimal.Decimal):
        return (format_float(float(v)) if v.is_finite() else str(v)), "num"
    if isinstance(v, str):
        text = v
    elif isinstance(v, (bytes, bytearray)):
        text = v.decode("utf-8", "replace")
    elif isinstance(v, (list, tuple, dict)):
        text = to_json(v)
    else:
        text = str(v)
    return text.replace("\r\n", "↵").replace("\n", "↵").replace("\r", "↵"), "text"


def _fit(natural: list[int], floor: list[int], room: int) -> list[int] | None:
    """Column widths within ``room``: the widest columns cut first (to a common cap), none
    below its ``floor``; None when the floors alone are too wide."""
    if sum(floor) > room:
        return None
    lo, hi = 0, max(natural)
    while lo < hi:
        cap = (lo + hi + 1) // 2
        if sum(min(n, max(f, cap)) for n, f in zip(natural, floor)) <= room:
            lo = cap
        else:
            hi = cap - 1
    return [min(n, max(f, lo)) for n, f in zip(natural, floor)]


def _rows_label(n: int) -> str:
    return "no rows" if n == 0 else "1 row" if n == 1 else f"{n} rows"


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], out, width: int | None = None) -> None:
    """Print rows for a person to read, then a footer (``3 rows``, ``no rows``).

    Floats are rounded (:func:`format_float`), NULL shows as a dim ``∅`` (an empty string stays
    blank), numbers are right-aligned, and header names are never broken. A table that is
    wider than the output (:func:`output_width`) first wraps its longest text columns (with a
    line between rows); when even the header names do not fit side by side, rows are printed
    one record at a time (psql's expanded mode) instead.

    A table of plain ASCII that fits, written to a pipe or a file, is drawn here without rich
    (:func:`_plain_table`, the same characters; importing rich costs ~0.05 s of a command);
    anything else (a terminal, wide characters, wrapping) goes through rich."""
    width = max(20, width or output_width(out))
    columns = [str(c) for c in columns]
    cells = [[_display(v) for v in r] for r in rows]
    if _plain_table(columns, cells, out, width):
        return
    _rich_table(columns, cells, out, width)


#: characters :func:`_plain_table` draws itself: printable ASCII (one cell each) and the NULL mark
_PLAIN_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) | {NULL_MARK}


def _numeric_columns(columns: list[str], cells: list[list[tuple[str, str]]]) -> list[bool]:
    return [any(row[i][1] == "num" for row in cells) and all(row[i][1] != "text" for row in cells) for i in range(len(columns))]


def _plain_table(columns: list[str], cells: list[list[tuple[str, str]]], out, width: int) -> bool:
    """Draw the table as rich would, without rich, when that is simple: the output is not a
    terminal (so rich would draw no colours), no environment variable makes rich draw them
    anyway, not in IPython (rich displays there), every text is printable ASCII or the NULL
    mark, and the table fits ``width`` without wrapping. False (nothing written) otherwise."""
    try:
        tty = out.isatty()
    except (AttributeError, ValueError, OSError):
        tty = False
    if tty or "IPython" in sys.modules or any(os.environ.get(v) is not None for v in ("FORCE_COLOR", "TTY_COMPATIBLE")):
        return False
    texts = [*columns, *(c[0] for row in cells for c in row)]
    if any(not _PLAIN_CHARS.issuperset(t) for t in texts):
        return False
    natural = [max([len(c)] + [len(row[i][0]) for row in cells]) for i, c in enumerate(columns)]
    if sum(natural) + 3 * len(columns) + 1 > width:
        return False
    numeric = _numeric_columns(columns, cells)

    def line(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in natural) + right

    def row_line(edge: str, texts: Sequence[str]) -> str:
        # rich drops trailing blanks before aligning a cell
        return edge + edge.join(" " + (t.rstrip().rjust(w) if num else t.ljust(w)) + " " for t, w, num in zip(texts, natural, numeric)) + edge

    lines = []
    if columns:
        lines += [line("┏", "━", "┳", "┓"), row_line("┃", columns), line("┡", "━", "╇", "┩")]
        lines += [row_line("│", [c[0] for c in row]) for row in cells]
        lines.append(line("└", "─", "┴", "┘"))
    lines.append(_rows_label(len(cells)))
    out.write("\n".join(lines) + "\n")
    return True


def _rich_table(columns: list[str], cells: list[list[tuple[str, str]]], out, width: int) -> None:
    """:func:`render_table` through rich: colours on a terminal, wide characters, wrapping and
    the expanded (record-wise) layout."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, width=width, highlight=False, emoji=False, markup=False, soft_wrap=False)
    numeric = _numeric_columns(columns, cells)
    natural = [max([cell_len(c)] + [cell_len(row[i][0]) for row in cells]) for i, c in enumerate(columns)]
    # narrowest each column may get: its header, whole numbers, text wrapped to _MIN_TEXT_WIDTH
    least = [n if numeric[i] else max(cell_len(columns[i]), min(n, _MIN_TEXT_WIDTH)) for i, n in enumerate(natural)]
    chrome = 3 * len(columns) + 1  # a border and two padding cells per column, one closing border
    footer = _rows_label(len(cells))

    def text(cell: tuple[str, str]) -> Text:
        return Text(cell[0], style="dim" if cell[1] == "null" else "")

    if columns and sum(least) + chrome > width:
        # expanded: one block per record, "name │ value" per column
        name_width = max(cell_len(c) for c in columns)
        value_width = max(20, width - name_width - 3)  # a very long name pushes lines past the width
        rule = "-" * max(0, min(width, name_width + 24))
        for k, row in enumerate(cells, 1):
            head = f"-[ RECORD {k} ]"
            console.print(Text(head + rule[len(head) :], style="dim"))
            for name, cell in zip(columns, row):
                lines = text(cell).wrap(console, value_width, overflow="fold") if cell[0] else [Text("")]
                for j, line in enumerate(lines):
                    line.rstrip()
                    label = name + " " * (name_width - cell_len(name)) if j == 0 else " " * name_width
                    console.print(Text.assemble((label, "bold"), (" │ ", "dim"), line), soft_wrap=True)
        if not cells:
            console.print(Text("columns: " + ", ".join(columns), style="dim"))
            console.print(Text(footer, style="dim"))
            return
        console.print(Text(f"{footer}, shown as records: {len(columns)} columns do not fit in {width} characters", style="dim"))
        return

    widths = list(natural)
    if sum(widths) + chrome > width:
        # narrow prose (text with spaces, which wraps at words) first; identifiers, paths and
        # dates fold only if that is not enough
        prose = [not numeric[i] and any(" " in row[i][0] for row in cells) for i in range(len(columns))]
        widths = _fit(natural, [m if p else n for n, m, p in zip(natural, least, prose)], width - chrome) or _fit(natural, least, width - chrome) or least
    wrapped = any(cell_len(row[i][0]) > widths[i] for row in cells for i in range(len(columns)))
    table = Table(show_lines=wrapped, header_style="bold")
    for i, name in enumerate(columns):
        table.add_column(Text(name), width=widths[i], no_wrap=numeric[i], overflow="fold", justify="right" if numeric[i] else "left")
    for row in cells:
        table.add_row(*[text(c) for c in row])
    if columns:
        console.print(table)
    console.print(Text(footer, style="dim"))


def warn_unknown_filters(con, params: dict[str, Any]) -> None:
    """After an empty result: warn on stderr about filter values (agent, model, tool, project)
    that name nothing in the warehouse, listing what is there (a typo is the usual cause)."""
    given = {k: v for k, v in params.items() if k in ("agent", "model", "tool", "project") and isinstance(v, str) and v}
    if not given:
        return
    present: dict[str, list[str]] = {}
    for dim, value in con.execute(sql_text("filter_values")).fetchall():
        present.setdefault(dim, []).append(value)
    for dim, value in given.items():
        warn_absent(dim, [value], present.get(dim, []))


def warn_absent(dim: str, values: Sequence[str], present: Sequence[str]) -> None:
    """Warn on stderr about filter ``values`` of ``dim`` (agent, model, ...) that are not among
    the ``present`` ones, listing those and the closest to each (names are matched exactly)."""
    from tracelab.scope import closest

    missing = [v for v in values if v not in set(present)]
    for v in missing:
        near = closest(v, list(present))
        closest_names = f" (closest: {', '.join(near)})" if near else ""
        click.echo(f"warning: no {dim} {v!r} in this warehouse (names are exact); {dim}s present: {', '.join(present) or 'none'}{closest_names}", err=True)


def param_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--param NAME=VALUE`` options as a dict (a malformed one is a one-line error)."""
    out: dict[str, str] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            fail(f"--param {p!r}: expected NAME=VALUE")
        out[key.strip()] = value
    return out


def fail(message: str) -> NoReturn:
    """Stop the command: a bad combination or value of options (one line, exit 2, printed by
    the top of the CLI like every :class:`~tracelab.errors.TracelabError`)."""
    raise ParameterError(message)
