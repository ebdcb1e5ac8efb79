"""``--push ORG/NAME``: upload a share folder to a Hugging Face dataset repository.

This is tracelab's only networked code path, and it only runs behind ``--push``. The folder is
uploaded as one commit of :class:`huggingface_hub.CommitOperationAdd` operations, opened as a pull
request by default (as Trace Commons does: the repository owner merges after review);
``--no-pr`` commits to the main branch. :func:`planned_operations` builds the same operations
without any network access, for ``--dry-run``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracelab.errors import ParameterError, PeerUnavailable

__all__ = ["PlannedOp", "planned_operations", "push", "check_repo_id"]


@dataclass(frozen=True)
class PlannedOp:
    op: str  # "add"
    path_in_repo: str
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "path_in_repo": self.path_in_repo, "bytes": self.bytes}


def check_repo_id(repo_id: str) -> str:
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or any(ch.isspace() for ch in repo_id):
        raise ParameterError(f"--push wants ORG/NAME (a dataset repository id), got {repo_id!r}", param="push")
    return repo_id


def planned_operations(folder: str | os.PathLike) -> list[PlannedOp]:
    """The commit operations a push of ``folder`` would make, README and manifest first."""
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    order = {"README.md": 0, "manifest.jsonl": 1}
    files.sort(key=lambda p: (order.get(p.relative_to(root).as_posix(), 2), p.relative_to(root).as_posix()))
    return [PlannedOp("add", p.relative_to(root).as_posix(), p.stat().st_size) for p in files]


def push(folder: str | os.PathLike, repo_id: str, *, create_pr: bool = True, message: str | None = None, token: str | None = None) -> dict[str, Any]:
    """Upload ``folder`` to the dataset ``repo_id`` as one commit (a pull request by default)."""
    check_repo_id(repo_id)
    try:
        from huggingface_hub import CommitOperationAdd, HfApi
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise PeerUnavailable("huggingface_hub is not installed (pip install huggingface_hub)") from exc
    root = Path(folder)
    ops = [CommitOperationAdd(path_in_repo=p.path_in_repo, path_or_fileobj=str(root / p.path_in_repo)) for p in planned_operations(root)]
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    info = api.create_commit(
        repo_id,
        ops,
        commit_message=message or "Add coding-agent traces shared with tracelab",
        repo_type="dataset",
        create_pr=create_pr,
    )
    return {"repo_id": repo_id, "commit_url": getattr(info, "commit_url", None), "pr_url": getattr(info, "pr_url", None), "operations": len(ops)}
