"""Part of the **plan** stage: which entries are inputs. Files, directories and globs are
expanded into (file, adapter) pairs; every entry that cannot be read as a session file is
recorded with a reason instead of aborting the run (symbolic link loops, dangling links,
directories named ``*.jsonl``, FIFOs, sockets and devices, which are never opened, unreadable
files, files that vanished while listed, files of no known format)."""

from __future__ import annotations

import errno
import glob
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from tracelab.errors import InputError
from tracelab.ingest import registry
from tracelab.ingest.base import open_input

__all__ = ["MISSING", "OK", "SKIPPED", "UNRECOGNISED", "IngestError", "Listing", "Skip", "entry_problem", "list_inputs", "unmatched_detail"]

#: ``files.status``: parsed (rows in the warehouse)
OK = "ok"
#: ``files.status``: was ingested, no longer found where it was listed (its rows are kept)
MISSING = "missing"
#: ``files.status``: an entry that cannot be read as a file (never parsed), see ``reason``
SKIPPED = "skipped"
#: ``files.status``: a readable file whose content matches no known agent format
UNRECOGNISED = "unrecognised"

#: names that are never sessions (Claude workflow journals, prompt histories)
NOT_SESSIONS = ("journal.jsonl", "history.jsonl")
SUFFIXES = (".jsonl", ".jsonl.gz")
#: whole-document formats (Gemini CLI, OTLP/JSON) and databases, offered to detection too; one
#: that matches no adapter is passed over silently unless it is a recognised unsupported format
#: (see :func:`unmatched_detail`)
DOCUMENT_SUFFIXES = (".json", ".db", ".sqlite")


class IngestError(InputError):
    """An input path named by the user does not exist."""


@dataclass
class Skip:
    """An entry that is not ingested, and why."""

    path: str
    #: :data:`SKIPPED` or :data:`UNRECOGNISED`
    status: str
    #: a short class of the reason, for counts ("symbolic link loop", "FIFO", ...)
    reason: str
    #: why, in words ("a symbolic link loop"); empty for an empty file of no known format,
    #: which is neither reported nor recorded
    detail: str
    #: the path as the user gave it, when it differs from ``path``
    shown: str = ""

    @property
    def message(self) -> str:
        """The one line the user sees: ``<path>: <why>``."""
        return f"{self.shown or self.path}: {self.detail}" if self.detail else ""


@dataclass
class Listing:
    inputs: list[tuple[Path, registry.Adapter | None]] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    #: directories listed (resolved): a manifest file below one that is not listed has vanished
    roots: list[str] = field(default_factory=list)
    #: files named explicitly (resolved)
    named: set[str] = field(default_factory=set)

    def in_scope(self, path: str) -> bool:
        """Was ``path`` looked for by this listing (so its absence means it vanished)?"""
        return path in self.named or any(path.startswith(r.rstrip("/") + "/") for r in self.roots)


_KINDS = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))


def entry_problem(path: str | os.PathLike) -> tuple[str, str] | None:
    """Why ``path`` cannot be read as a session file, as (reason, detail); None for a readable
    regular file. Never opens the entry (a FIFO would block)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop", "a symbolic link loop"
        if os.path.islink(path):
            return "dangling symbolic link", f"a symbolic link to {os.readlink(os.fspath(path))}, which does not exist"
        if exc.errno == errno.ENOENT:
            return "vanished", "deleted before it could be read"
        return "unreadable", f"cannot be read: {exc.strerror}"
    if stat.S_ISDIR(st.st_mode):
        return "directory", "a directory, not a session file"
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "special file")
        return kind, f"a {kind}, not a regular file (never opened)"
    if not os.access(path, os.R_OK):
        return "unreadable", "cannot be read: permission denied"
    return None


def _why_unrecognised(p: Path) -> str:
    """A short reason a file matched no adapter (a recognised format tracelab does not read, a
    whole JSON document that is no session, …)."""
    known = registry.unsupported_format(p)
    if known:
        return known
    try:
        with open_input(p) as fh:
            head = fh.read(1 << 20)
        if len(head) < (1 << 20):
            obj = orjson.loads(head)
            return f"a single JSON {type(obj).__name__} document, not a JSONL session file"
    except (orjson.JSONDecodeError, OSError, EOFError):
        pass
    return f"content matches no known agent format ({registry.known_formats()})"


def unmatched_detail(p: str | Path) -> str:
    """Why a file found in a directory walk is not ingested; "" passes it over silently (a
    ``.json`` file no adapter reads is usually configuration or metadata beside sessions)."""
    known = registry.unsupported_format(p)
    if known:
        return known
    return "content matches no known agent format" if str(p).endswith(SUFFIXES) else ""


def _detect(p: Path, out: Listing, shown: Path) -> registry.Adapter | None | bool:
    """The adapter of a readable file; False (recorded as skipped) if reading it failed."""
    try:
        return registry.detect(p)
    except (OSError, EOFError) as exc:
        out.skips.append(Skip(str(shown), SKIPPED, "unreadable", f"cannot be read: {exc}"))
        return False


def _walk(p: Path, out: Listing) -> list[Path]:
    """``*.jsonl`` / ``*.jsonl.gz`` entries below directory ``p`` (symbolic links to directories
    are not followed), and the files among ``*.json`` / ``*.db`` / ``*.sqlite``; unreadable
    subdirectories are recorded."""

    def onerror(exc: OSError) -> None:
        if exc.filename and os.path.abspath(exc.filename) != os.path.abspath(p):
            out.skips.append(Skip(str(exc.filename), SKIPPED, "unreadable directory", f"directory cannot be listed: {exc.strerror}"))

    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(p, onerror=onerror):
        for name in dirnames + filenames:
            if name.endswith(SUFFIXES) and name not in NOT_SESSIONS:
                found.append(Path(dirpath) / name)
        found.extend(Path(dirpath) / name for name in filenames if name.endswith(DOCUMENT_SUFFIXES))
    return sorted(found)


def _list_dir(p: Path, forced: registry.Adapter | None, ads: dict[str, registry.Adapter], known: dict[str, str], defer: bool, out: Listing) -> None:
    root = p.resolve()
    out.roots.append(str(root))
    for f in _walk(p, out):
        shown = root / f.relative_to(p)
        problem = entry_problem(f)
        if problem is not None:
            out.skips.append(Skip(str(shown), SKIPPED, problem[0], problem[1]))
            continue
        # resolve() stats every path component; only links need it
        rf = f.resolve() if f.is_symlink() else shown
        # a file already in the manifest keeps its agent: no need to read its head
        ad = forced or (ads.get(known[str(rf)]) if str(rf) in known else None)
        if ad is None and defer:
            out.inputs.append((rf, None))
            continue
        found = ad or _detect(f, out, shown)
        if found is False:
            continue
        if found:
            out.inputs.append((rf, found))  # type: ignore[arg-type]
        elif f.stat().st_size > 0:
            out.skips.append(Skip(str(rf), UNRECOGNISED, "unrecognised format", unmatched_detail(f), shown=str(f)))


def _list_file(p: Path, forced: registry.Adapter | None, ads: dict[str, registry.Adapter], out: Listing) -> None:
    shown = Path(os.path.abspath(p))
    problem = entry_problem(p)
    if problem is not None:
        out.named.add(str(shown))
        out.skips.append(Skip(str(shown), SKIPPED, problem[0], problem[1]))
        return
    rp = p.resolve()
    out.named.add(str(rp))
    ad = forced or _detect(p, out, shown)
    if ad is False:
        return
    if ad is None:
        if p.stat().st_size == 0:
            ad = next(iter(ads.values()))  # an empty file: recorded with 0 lines
        else:
            why = f"{_why_unrecognised(p)}; pass --agent to force an adapter"
            out.skips.append(Skip(str(rp), UNRECOGNISED, "unrecognised format", why, shown=str(p)))
            return
    out.inputs.append((rp, ad))  # type: ignore[arg-type]


def list_inputs(
    paths: list[str], agent: str | None = None, known: dict[str, str] | None = None, sources: list[dict] | None = None, defer_detection: bool = False
) -> Listing:
    """Expand files, directories and globs into (file, adapter) pairs; with no paths, every
    adapter's default locations. Content decides the agent unless ``agent`` is given. With
    ``defer_detection`` a new file found in a directory comes back with adapter None: the
    parser process reads its head (in parallel) and skips it there if it matches no adapter.
    A path that does not exist raises :class:`IngestError`; every other odd entry becomes a
    :class:`Skip`."""
    ads = registry.adapters()
    forced = registry.get(agent) if agent else None
    known = known or {}
    out = Listing()
    if not paths:
        for ad in [forced] if forced else ads.values():
            for root in ad.default_roots():
                n = 0
                if root.is_dir():
                    out.roots.append(str(root.resolve()))
                    for p in ad.discover(root):
                        problem = entry_problem(p)
                        if problem is not None:
                            out.skips.append(Skip(str(p), SKIPPED, problem[0], problem[1]))
                            continue
                        out.inputs.append((p.resolve(), ad))
                        n += 1
                if sources is not None:
                    sources.append({"agent": ad.name, "root": str(root), "exists": root.is_dir(), "files": n})
    for raw in paths:
        expanded = [Path(p) for p in glob.glob(os.path.expanduser(raw), recursive=True)] if any(c in raw for c in "*?[") else [Path(os.path.expanduser(raw))]
        if not expanded:
            raise IngestError(f"{raw}: no such file or directory", path=raw)
        for p in expanded:
            if p.is_dir():
                _list_dir(p, forced, ads, known, defer_detection, out)
            elif os.path.lexists(p):
                _list_file(p, forced, ads, out)
            else:
                raise IngestError(f"{p}: no such file or directory", path=str(p))
    seen: dict[Path, registry.Adapter | None] = {}
    for path, found in out.inputs:
        seen.setdefault(path, found)
    out.inputs = sorted(seen.items(), key=lambda kv: str(kv[0]))
    return out
