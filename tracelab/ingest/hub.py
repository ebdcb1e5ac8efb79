"""``hf://datasets/ORG/NAME[@REV]`` inputs: a Hugging Face dataset becomes a local folder before
the ingest plans anything, so a shared dataset ingests by content detection like any directory.

The dataset is resolved through ``huggingface_hub``'s own cache (``snapshot_download``): a
revision already there is not fetched again, and with ``HF_HUB_OFFLINE=1`` only the cache is used
(a revision that is not cached is an :class:`~tracelab.errors.InputError`). The cache stores files
as symlinks into content-addressed blobs, which would lose the names and the layout the adapters
read (Claude's ``<session>/subagents/``), so the snapshot is mirrored, by hard links where the
file system allows and copies otherwise, into::

    $TRACELAB_HUB_DIR (default ~/.cache) / tracelab-hub / datasets / ORG / NAME@<commit sha> / …

That path *is* the provenance: ``sessions.source`` reads ``hf://datasets/ORG/NAME@<sha>`` from it
(``derive_sessions.sql``), and the local directory for every other session, so reports can tell
community datasets from a team's own sessions. A mirror is written once per commit and reused.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from tracelab.errors import InputError, PeerUnavailable

__all__ = ["HF_PREFIX", "hub_dir", "parse_url", "resolve_dataset", "resolve_paths"]

HF_PREFIX = "hf://datasets/"
#: the directory name that marks a mirrored dataset in a path (read by derive_sessions.sql)
MARKER = "tracelab-hub"


def hub_dir() -> Path:
    """Where mirrors live: ``$TRACELAB_HUB_DIR`` (default ``$XDG_CACHE_HOME`` or ``~/.cache``) /
    ``tracelab-hub`` — the marker directory is always part of the path."""
    base = os.environ.get("TRACELAB_HUB_DIR") or os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base).expanduser() / MARKER


def parse_url(url: str) -> tuple[str, str | None]:
    """``hf://datasets/ORG/NAME[@REV]`` → (``ORG/NAME``, ``REV`` or None)."""
    if not url.startswith(HF_PREFIX):
        raise InputError(f"{url}: not an hf://datasets/ORG/NAME[@REV] URL", path=url)
    rest = url[len(HF_PREFIX) :].strip("/")
    repo, _, rev = rest.partition("@")
    parts = repo.split("/")
    if len(parts) != 2 or not all(parts) or "--" in repo:
        raise InputError(f"{url}: expected hf://datasets/ORG/NAME[@REV]", path=url)
    return repo, (rev or None)


def _mirror(snapshot: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for src in sorted(snapshot.rglob("*")):
        rel = src.relative_to(snapshot)
        if rel.parts and rel.parts[0] == ".cache":
            continue
        target = tmp / rel
        if src.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        real = src.resolve()
        try:
            os.link(real, target)
        except OSError:
            shutil.copy2(real, target)
    tmp.mkdir(parents=True, exist_ok=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)


def resolve_dataset(url: str) -> Path:
    """The local mirror folder of the dataset ``url`` (downloaded or taken from the Hub cache)."""
    repo, rev = parse_url(url)
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise PeerUnavailable("huggingface_hub is not installed (pip install huggingface_hub)") from exc
    try:
        snap = Path(snapshot_download(repo_id=repo, repo_type="dataset", revision=rev))
    except LocalEntryNotFoundError as exc:
        raise InputError(f"{url}: not in the Hugging Face cache and HF_HUB_OFFLINE is set (or the Hub is unreachable)", path=url) from exc
    except Exception as exc:  # huggingface_hub raises many HTTP/repository errors
        raise InputError(f"{url}: {type(exc).__name__}: {exc}".splitlines()[0], path=url) from exc
    sha = snap.name  # snapshots/<commit sha>
    org, name = repo.split("/")
    dest = hub_dir() / "datasets" / org / f"{name}@{sha}"
    if not dest.is_dir():
        _mirror(snap, dest)
    return dest


def resolve_paths(paths: Iterable[str]) -> list[str]:
    """``paths`` with every ``hf://datasets/…`` URL replaced by its local mirror folder."""
    return [str(resolve_dataset(p)) if p.startswith("hf://") else p for p in paths]
