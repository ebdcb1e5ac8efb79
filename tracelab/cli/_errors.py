"""How the ``tracelab`` command reports what went wrong: once, at the top, in one line.

:func:`report` turns whatever escaped a command into one line on stderr and an exit code:

- a :class:`~tracelab.errors.TracelabError`: ``tracelab: <message>`` and the class's exit code;
- a usage error (unknown option, bad value): ``tracelab: <message> (try 'tracelab CMD -h')``, exit 2;
- Ctrl-C: ``tracelab: Aborted``, exit 130;
- anything else is a bug: one line naming it and the file the full traceback was written to
  (under the user's cache directory, else the temp directory), exit 1.

With ``--debug`` (or ``TRACELAB_DEBUG=1``) the traceback is printed as well.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import re
import sys
from pathlib import Path
from typing import IO

import click

from tracelab.errors import Aborted, TracelabError, WarehouseCorrupt, WarehouseReadOnly

__all__ = ["EXIT_ABORTED", "EXIT_INTERNAL", "EXIT_USAGE", "crash_dir", "known_fault", "one_line", "report"]

EXIT_USAGE = 2
EXIT_ABORTED = Aborted.exit_code
EXIT_INTERNAL = 1
PREFIX = "tracelab: "


def one_line(text: str) -> str:
    """``text`` as one line: DuckDB's ``LINE 1: …`` / caret context lines dropped, the other
    lines joined with a space."""
    keep = [ln.strip() for ln in str(text).splitlines() if ln.strip() and not ln.lstrip().startswith("LINE ") and set(ln.strip()) != {"^"}]
    return " ".join(keep)


_MISSING_PART = re.compile(r'No files found that match the pattern "([^"]+)"')
_MISSING_FILE = re.compile(r"Failed to open local file '([^']+\.parquet)'")
_WRITE_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)
#: no room to write: a full disk, a quota, a file size limit
_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
#: the same from DuckDB, which reports it in its message (``Could not write file "…": No space left on device``)
_SPACE_TEXT = re.compile(r'(?:Could not write file "([^"]+)": )?(No space left on device|Disk quota exceeded|File too large)')


def known_fault(exc: BaseException) -> TracelabError | None:
    """The :class:`TracelabError` an exception from a library below means, when it is a known
    fault of the warehouse or its disk: a part listed in the snapshot that is gone (DuckDB's
    "No files found", a missing ``.parquet``), a file that cannot be written (read-only
    warehouse, no permission), a full disk."""
    text = str(exc)
    m = _MISSING_PART.search(text)
    if not m and isinstance(exc, FileNotFoundError):
        m = _MISSING_FILE.search(text)  # pyarrow names the file in its message only
    if m or (isinstance(exc, FileNotFoundError) and str(exc.filename or "").endswith(".parquet")):
        path = m.group(1) if m else str(getattr(exc, "filename", ""))
        return WarehouseCorrupt(f"a part the warehouse snapshot lists is missing: {path}; `tracelab doctor --repair` rebuilds the warehouse", path=path)
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
        return WarehouseReadOnly(f"cannot write {exc.filename or 'a file'}: {exc.strerror} (read-only warehouse or folder?)", path=str(exc.filename))
    space = _SPACE_TEXT.search(text)
    if (isinstance(exc, OSError) and exc.errno in _SPACE_ERRNOS) or (space and type(exc).__module__.startswith(("duckdb", "_duckdb"))):
        what = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno in _SPACE_ERRNOS else space.group(2) if space else "no space"
        name = (exc.filename if isinstance(exc, OSError) else None) or (space.group(1) if space else None)
        return WarehouseReadOnly(f"cannot write {name or 'to the warehouse'}: {what} (free some space and run again)", path=str(name) if name else None)
    return None


def crash_dir() -> Path:
    """Where tracebacks of unexpected errors go: ``$XDG_CACHE_HOME/tracelab`` (default
    ``~/.cache/tracelab``) when it can be created, else the temp directory."""
    import tempfile  # the error paths' imports wait for an error (start-up of every command)

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for d in (Path(base) / "tracelab", Path(tempfile.gettempdir()) / "tracelab"):
        try:
            d.mkdir(parents=True, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            continue
    return Path(tempfile.gettempdir())


def _write_traceback(exc: BaseException, argv: list[str]) -> Path | None:
    import traceback

    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = crash_dir() / f"crash-{stamp}-{os.getpid()}.txt"
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"tracelab {' '.join(argv)}\n\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        return None
    return path


def _usage_hint(exc: click.UsageError) -> str:
    ctx = exc.ctx
    if ctx is None:
        return ""
    opts = ctx.help_option_names or ["--help"]
    return f" (try '{ctx.command_path} {opts[0]}')"


def report(exc: BaseException, *, debug: bool = False, argv: list[str] | None = None, err: IO[str] | None = None) -> int:
    """Print ``exc`` as one line on ``err`` (default stderr) and return the exit code for it."""
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if debug and not isinstance(exc, (click.UsageError, KeyboardInterrupt, click.Abort)):
        import traceback

        err.write("".join(traceback.format_exception(exc)))
    exc = known_fault(exc) or exc
    if isinstance(exc, TracelabError):
        message, code = str(exc), exc.exit_code
    elif isinstance(exc, (KeyboardInterrupt, click.Abort)):
        message, code = "Aborted", EXIT_ABORTED
    elif isinstance(exc, click.UsageError):
        message, code = exc.format_message() + _usage_hint(exc), exc.exit_code
    elif isinstance(exc, click.ClickException):
        message, code = exc.format_message(), exc.exit_code
    else:
        where = None if debug else _write_traceback(exc, argv)
        what = one_line(str(exc)) or "(no message)"
        message = f"internal error: {type(exc).__name__}: {what}"
        if where is not None:
            message += f" (traceback in {where}; --debug prints it)"
        code = EXIT_INTERNAL
    err.write(PREFIX + one_line(message) + "\n")
    err.flush()
    return code
