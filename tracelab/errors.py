"""One error hierarchy for everything tracelab raises on purpose.

Every error a user can cause or meet (a missing warehouse, a held lock, a bad parameter, input
that cannot be read) is a :class:`TracelabError`. Each carries its message plus structured
context (``path``, ``line``, ``param`` …) that ``--json`` output and callers can read; the CLI
turns any of them into one line on stderr and the exit code of its class, once, at the top.
Anything else that escapes is a bug: the CLI prints one line and where the traceback went.

    TracelabError
    ├── WarehouseError            the warehouse cannot be used as it is
    │   ├── WarehouseMissing      no warehouse at that path
    │   ├── WarehouseCorrupt      snapshot unreadable, a referenced part missing or unreadable
    │   ├── WarehouseLocked       another ingest holds the lock (pid, since)
    │   └── WarehouseReadOnly     the warehouse or its lock cannot be written
    ├── InputError                what the user pointed tracelab at is unusable
    ├── QueryError                a named query or SQL statement failed
    │   ├── UnknownQuery          no query of that name
    │   └── ParameterError        a parameter or option value is invalid
    ├── ConfigError               a policy, threshold or settings file is invalid
    ├── NotFound                  a session, cluster, suggestion … that does not exist
    ├── PeerUnavailable           an optional external tool (ccusage, promptfoo) is not installed
    └── Aborted                   the user interrupted (Ctrl-C, SIGTERM); nothing was committed
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Aborted",
    "ConfigError",
    "InputError",
    "NotFound",
    "ParameterError",
    "PeerUnavailable",
    "QueryError",
    "TracelabError",
    "UnknownQuery",
    "WarehouseCorrupt",
    "WarehouseError",
    "WarehouseLocked",
    "WarehouseMissing",
    "WarehouseReadOnly",
]


class TracelabError(Exception):
    """Base of every error tracelab raises on purpose.

    ``context`` holds structured facts about the error (``path=…``, ``line=…``, ``param=…``);
    ``str(err)`` is the one-line message the CLI prints.
    """

    #: the CLI's exit code for this class of error (click uses 2 for usage errors)
    exit_code: int = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = context

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data: its class, message and context."""
        return {"error": type(self).__name__, "message": self.message, **{k: _plain(v) for k, v in self.context.items()}}


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)


class WarehouseError(TracelabError):
    """The warehouse cannot be used as it is."""

    exit_code = 3


class WarehouseMissing(WarehouseError):
    """No warehouse at the given path."""


class WarehouseCorrupt(WarehouseError):
    """The snapshot does not parse, or a file it references is missing or unreadable."""


class WarehouseLocked(WarehouseError):
    """Another process holds the warehouse lock."""

    exit_code = 4


class WarehouseReadOnly(WarehouseError):
    """The warehouse (or its lock file) cannot be written."""


class InputError(TracelabError):
    """Input the user named cannot be used (no such path, unknown format, bad file)."""

    exit_code = 2


class QueryError(TracelabError):
    """A named query or SQL statement failed."""


class UnknownQuery(QueryError):
    """No named query of that name."""

    exit_code = 2


class ParameterError(QueryError):
    """A query parameter or command option has an invalid value."""

    exit_code = 2


class ConfigError(TracelabError):
    """A policy, thresholds or settings file is invalid."""

    exit_code = 2


class NotFound(TracelabError):
    """The thing asked for (session, cluster, suggestion, week …) does not exist."""


class PeerUnavailable(TracelabError):
    """An optional external tool is not installed or cannot run here."""


class Aborted(TracelabError):
    """Interrupted by the user; the previous snapshot is intact."""

    exit_code = 130
