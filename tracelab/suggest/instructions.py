"""Instruction rules learnt from error → recovery pairs.

A *pair* is a failed tool call followed, within :data:`WINDOW` calls of the same session
(same sidechain), by a successful call that does the same job differently:

* ``replace_command``: a shell call fails; a later successful shell call contains the failing
  program as a word but runs it differently (``pytest -q`` → ``uv run pytest -q``). The
  recovery is named by its head (``uv run pytest``).
* ``read_before_edit``: an edit/write fails; the same file is then read successfully and
  edited/written successfully.
* ``path_fix``: reading a path fails; a file with the same name at another path is then read
  successfully (the agent guessed the wrong directory).

Pairs are grouped by (agent, project, kind, failing signature, recovery signature); the error
side keeps the failure cluster ids of :mod:`tracelab.failures` (the existing normalisation).
A rule needs ``Thresholds.pairs`` pairs in ``Thresholds.sessions`` sessions, and its consistency is the share of the
failing signature's errors that this recovery followed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import polars as pl

from .calls import Partitions
from .model import DEFAULT_THRESHOLDS, Suggestion, Thresholds

WINDOW = 4
_EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write", "edit", "write", "NotebookEdit"})
_READ_TOOLS = frozenset({"Read", "read", "read_file", "view"})
_MISSING = re.compile(
    r"command not found|not recognized as an internal or external command|No such file or directory \(os error 2\)|executable file not found", re.I
)


def _program(tokens: list[str]) -> str | None:
    if not tokens:
        return None
    if tokens[0] in ("python", "python3") and len(tokens) >= 3 and tokens[1] == "-m":
        return tokens[2]
    return tokens[0]


def _shell_pairs(df: pl.DataFrame) -> list[dict[str, Any]]:
    """``replace_command`` pairs, vectorised: the frame is shifted by 1 … WINDOW rows (it is
    sorted by session and call_no) and the first later call that qualifies is the recovery."""
    base = df.select(
        "tool_call_key",
        "session_key",
        "is_sidechain",
        "agent",
        "project",
        "tool_name",
        "tool_family",
        "status",
        "tokens",
        "head",
        "cluster_id",
        "error_line",
        "template",
    ).with_row_index("_i")
    first = pl.col("tokens").list.first()
    errs = base.filter((pl.col("status") == "error") & (pl.col("tool_family") == "shell") & pl.col("tokens").is_not_null()).with_columns(
        pl.when((first.is_in(["python", "python3"])) & (pl.col("tokens").list.get(1, null_on_oob=True) == "-m"))
        .then(pl.col("tokens").list.get(2, null_on_oob=True))
        .otherwise(first)
        .alias("prog"),
        (pl.col("error_line").fill_null("").str.contains(_MISSING.pattern) | pl.col("template").fill_null("").str.contains(_MISSING.pattern)).alias("missing"),
    )
    if errs.is_empty():
        return []
    rec = base.select("_i", "session_key", "is_sidechain", "tool_family", "status", "tokens", "head", "tool_call_key")
    found = []
    for k in range(1, WINDOW + 1):
        r = rec.with_columns(pl.col("_i") - k).rename({c: f"r_{c}" for c in rec.columns if c != "_i"})
        j = errs.join(r, on="_i", how="inner").filter(
            (pl.col("r_session_key") == pl.col("session_key"))
            & (pl.col("r_is_sidechain") == pl.col("is_sidechain"))
            & (pl.col("r_tool_family") == "shell")
            & (pl.col("r_status") == "ok")
            & pl.col("r_tokens").is_not_null()
            & (pl.col("r_tokens") != pl.col("tokens"))
            & (pl.col("r_tokens").list.first() != first)
            & (pl.col("r_tokens").list.contains(pl.col("prog")) | pl.col("missing"))
        )
        found.append(j.with_columns(pl.lit(k).alias("_k")))
    pairs = pl.concat(found).sort("_i", "_k").unique(subset=["_i"], keep="first", maintain_order=True)
    return [
        {
            "error_key": r["tool_call_key"],
            "session_key": r["session_key"],
            "agent": r["agent"],
            "project": r["project"],
            "cluster_id": r["cluster_id"],
            "kind": "replace_command",
            "tool": r["tool_name"],
            "failing": r["prog"],
            "recovery": r["r_head"],
            "recovery_key": r["r_tool_call_key"],
        }
        for r in pairs.select("tool_call_key", "session_key", "agent", "project", "cluster_id", "tool_name", "prog", "r_head", "r_tool_call_key").iter_rows(
            named=True
        )
    ]


def _pairs(df: pl.DataFrame) -> list[dict[str, Any]]:
    cols = [
        "tool_call_key",
        "session_key",
        "is_sidechain",
        "agent",
        "project",
        "tool_name",
        "tool_family",
        "status",
        "tokens",
        "head",
        "file_path",
        "cluster_id",
        "error_line",
    ]
    n = df.height
    # shell errors are paired vectorised; here only edits / reads of a named file (few)
    can_pair = pl.col("tool_name").is_in(list(_EDIT_TOOLS | _READ_TOOLS)) & pl.col("file_path").is_not_null()
    errs = df.with_row_index("_i").filter((pl.col("status") == "error") & can_pair)["_i"].to_list()
    need = sorted({j for i in errs for j in range(i, min(n, i + WINDOW + 2))})
    rows = df.select(cols)[need].to_dicts()
    pos = {j: k for k, j in enumerate(need)}

    def row(i: int) -> dict[str, Any]:
        return rows[pos[i]]

    out: list[dict[str, Any]] = _shell_pairs(df)
    for i in errs:
        e = row(i)
        window = []
        for j in range(i + 1, min(n, i + 1 + WINDOW + 1)):
            r = row(j)
            if r["session_key"] != e["session_key"] or r["is_sidechain"] != e["is_sidechain"]:
                break
            window.append(r)
        pair = _match(e, window)
        if pair is not None:
            out.append(
                {
                    "error_key": e["tool_call_key"],
                    "session_key": e["session_key"],
                    "agent": e["agent"],
                    "project": e["project"],
                    "cluster_id": e["cluster_id"],
                    **pair,
                }
            )
    return out


def _match(e: dict[str, Any], window: list[dict[str, Any]]) -> dict[str, Any] | None:
    if e["tool_name"] in _EDIT_TOOLS and e["file_path"]:
        read_seen = False
        for r in window:
            if r["file_path"] != e["file_path"] or r["status"] != "ok":
                continue
            if r["tool_name"] in _READ_TOOLS:
                read_seen = True
            elif read_seen and r["tool_name"] in _EDIT_TOOLS:
                reader = "Read" if e["tool_name"][:1].isupper() else "read"
                return {"kind": "read_before_edit", "tool": e["tool_name"], "failing": e["tool_name"], "recovery": reader, "recovery_key": r["tool_call_key"]}
        return None
    if e["tool_name"] in _READ_TOOLS and e["file_path"]:
        name = e["file_path"].rstrip("/").rsplit("/", 1)[-1]
        for r in window[:WINDOW]:
            if r["tool_name"] in _READ_TOOLS and r["status"] == "ok" and r["file_path"] and r["file_path"] != e["file_path"]:
                if r["file_path"].rstrip("/").rsplit("/", 1)[-1] == name:
                    return {
                        "kind": "path_fix",
                        "tool": e["tool_name"],
                        "failing": e["file_path"],
                        "recovery": r["file_path"],
                        "recovery_key": r["tool_call_key"],
                    }
        return None
    return None


def _text(kind: str, failing: str, recovery: str, tool: str, error: str | None) -> tuple[str, str]:
    err = f" (`{error[:100]}`)" if error else ""
    if kind == "replace_command":
        return f"Run `{recovery}` instead of `{failing}`", f"Run `{recovery}` instead of `{failing}`: `{failing}` on its own fails in this project{err}."
    if kind == "read_before_edit":
        reader = "Read" if tool[:1].isupper() else "read"
        return (
            f"{reader} a file before {tool}",
            f"{reader} a file with the {reader} tool right before changing it with {tool}: edits built from a guessed or stale copy fail{err}, "
            f"and they succeeded here after a {reader}.",
        )
    return f"`{recovery}`, not `{failing}`", f"The file `{recovery.rsplit('/', 1)[-1]}` is at `{recovery}`, not `{failing}`."


def _matcher(agent: str, project: str, kind: str, tool: str, failing: str, clusters: list[str]) -> Callable[[pl.DataFrame], pl.Expr]:
    def match(df: pl.DataFrame) -> pl.Expr:
        base = (pl.col("agent") == agent) & (pl.col("project") == project) & (pl.col("status") == "error") & (pl.col("tool_name") == tool)
        if kind == "replace_command":
            prog = pl.when(
                pl.col("tokens").list.get(0, null_on_oob=True).is_in(["python", "python3"]) & (pl.col("tokens").list.get(1, null_on_oob=True) == "-m")
            )
            first = prog.then(pl.col("tokens").list.get(2, null_on_oob=True)).otherwise(pl.col("tokens").list.get(0, null_on_oob=True))
            return base & (first == failing) & pl.col("cluster_id").is_in(clusters)
        if kind == "read_before_edit":
            return base & pl.col("cluster_id").is_in(clusters)
        return base & (pl.col("file_path") == failing)

    return match


def mine(df: pl.DataFrame, th: Thresholds = DEFAULT_THRESHOLDS) -> list[Suggestion]:
    pairs = _pairs(df)
    if not pairs:
        return []
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for p in pairs:
        groups[(p["agent"], p["project"], p["kind"], p["tool"], p["failing"], p["recovery"])].append(p)
    parts = Partitions(df)
    session_of = {p["error_key"]: p["session_key"] for p in pairs}
    out = []
    for (agent, project, kind, tool, failing, recovery), ps in groups.items():
        sessions = {session_of[p["error_key"]] for p in ps}
        if len(ps) < th.pairs or len(sessions) < th.sessions:
            continue
        clusters = sorted({p["cluster_id"] for p in ps if p["cluster_id"]})
        if kind != "path_fix" and not clusters:
            continue
        matcher = _matcher(agent, project, kind, tool, failing, clusters)
        part = parts.of(agent, project)
        errors = part.filter(matcher(part))
        if errors.is_empty():
            continue
        keys = {p["error_key"] for p in ps}
        evidence = errors.filter(pl.col("tool_call_key").is_in(list(keys)))
        error_line = evidence["error_line"].drop_nulls().mode().sort().to_list()
        title, rule = _text(kind, failing, recovery, tool, error_line[0] if error_line else None)
        out.append(
            Suggestion(
                kind="instruction",
                decision="rule",
                agent=agent,
                project=project,
                tool=tool,
                pattern=f"{kind}:{failing}->{recovery}",
                title=title,
                rule=rule,
                matcher=matcher,
                effect="prevented_failure",
                evidence=evidence,
                consistency=min(1.0, len(keys) / errors.height),
                details={"pair_kind": kind, "failing": failing, "recovery": recovery, "clusters": clusters, "pairs": len(ps)},
            )
        )
    return out
