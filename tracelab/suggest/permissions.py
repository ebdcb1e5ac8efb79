"""Permission rules learnt from what the user let run and what they refused.

Shell calls are grouped by (agent, project, tool, command head) (see :mod:`.shell`):

* **allow**: the group was never rejected, ran at least ``Thresholds.approvals`` times successfully
  in ``Thresholds.allow_sessions`` sessions, and at least half of the runs succeeded. The rule's prefix is
  the longest common token prefix of *every* call in the group, so it never covers a command
  shape the user did not approve; it must pass :func:`.shell.allow_safe`. When all calls were
  the same command the rule is that exact command.
* **deny**: at least ``Thresholds.rejections`` rejections in two sessions; the prefix is the longest
  common prefix of the rejected calls, and no call under that prefix ever ran.
* **ask**: same, but some calls under the prefix did run and at least a third were rejected.

MCP tools are handled the same way with the whole tool as the pattern (Claude Code rule
``mcp__server__tool``). Compound shell commands never count (see :mod:`.shell`).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from .model import DEFAULT_THRESHOLDS, Suggestion, Thresholds
from .shell import allow_safe, common_prefix


def _prefix_matcher(agent: str, project: str, tool: str, prefix: tuple[str, ...], exact: bool) -> Callable[[pl.DataFrame], pl.Expr]:
    n = len(prefix)
    lit = list(prefix)

    def match(df: pl.DataFrame) -> pl.Expr:
        base = (pl.col("agent") == agent) & (pl.col("project") == project) & (pl.col("tool_name") == tool) & pl.col("tokens").is_not_null()
        if exact:
            return base & (pl.col("simple") == " ".join(prefix))
        return base & (pl.col("tokens").list.len() >= n) & (pl.col("tokens").list.head(n) == pl.lit(lit, dtype=pl.List(pl.String)))

    return match


def _tool_matcher(agent: str, project: str, tool: str) -> Callable[[pl.DataFrame], pl.Expr]:
    def match(df: pl.DataFrame) -> pl.Expr:
        return (pl.col("agent") == agent) & (pl.col("project") == project) & (pl.col("tool_name") == tool)

    return match


def claude_rule(tool: str, prefix: str, exact: bool) -> str:
    if tool.startswith("mcp__"):
        return tool
    return f"Bash({prefix})" if exact else f"Bash({prefix}:*)"


def mine(df: pl.DataFrame, th: Thresholds = DEFAULT_THRESHOLDS) -> list[Suggestion]:
    out: list[Suggestion] = []
    keys = ["agent", "project", "tool_name", "head"]
    shell = df.filter((pl.col("tool_family") == "shell") & pl.col("head").is_not_null() & pl.col("status").is_in(["ok", "error", "user_rejected"]))
    shell = shell.join(_candidates(shell, keys, th), on=keys, how="semi")  # only groups that can pass
    for (agent, project, tool, head), g in shell.group_by(keys, maintain_order=True):
        out.extend(_shell_group(str(agent), str(project), str(tool), str(head), g, th))
    mcp = df.filter((pl.col("tool_family") == "mcp") & pl.col("status").is_in(["ok", "error", "user_rejected"]))
    mcp = mcp.join(_candidates(mcp, keys[:3], th), on=keys[:3], how="semi")
    for (agent, project, tool), g in mcp.group_by(["agent", "project", "tool_name"], maintain_order=True):
        out.extend(_mcp_group(str(agent), str(project), str(tool), g, th))
    return out


def _candidates(df: pl.DataFrame, keys: list[str], th: Thresholds) -> pl.DataFrame:
    """Keys of the groups whose counts can pass the allow or the deny/ask thresholds (the
    per-group rules then decide); one vectorised pass instead of a filter per group."""
    rej = pl.col("status") == "user_rejected"
    ok = pl.col("status") == "ok"
    stats = df.group_by(keys).agg(
        rej.sum().alias("n_rej"),
        ok.sum().alias("n_ok"),
        pl.len().alias("n"),
        pl.col("session_key").filter(ok).n_unique().alias("s_ok"),
        pl.col("session_key").filter(rej).n_unique().alias("s_rej"),
    )
    allow = (pl.col("n_rej") == 0) & (pl.col("n_ok") >= th.approvals) & (pl.col("s_ok") >= th.allow_sessions) & (pl.col("n_ok") * 2 >= pl.col("n"))
    deny = (pl.col("n_rej") >= th.rejections) & (pl.col("s_rej") >= th.sessions)
    return stats.filter(allow | deny).select(keys)


def _shell_group(agent: str, project: str, tool: str, head: str, g: pl.DataFrame, th: Thresholds) -> list[Suggestion]:
    out = []
    rej = g.filter(pl.col("status") == "user_rejected")
    ran = g.filter(pl.col("status") != "user_rejected")
    ok = ran.filter(pl.col("status") == "ok")
    if rej.is_empty():
        if ok.height >= th.approvals and ok["session_key"].n_unique() >= th.allow_sessions and ok.height >= 0.5 * ran.height:
            prefix = common_prefix(ran["tokens"].to_list())
            exact = ran["simple"].n_unique() == 1
            if allow_safe(prefix):
                text = " ".join(prefix)
                out.append(
                    Suggestion(
                        kind="permission",
                        decision="allow",
                        agent=agent,
                        project=project,
                        tool=tool,
                        pattern=text,
                        title=f"allow `{text}`{'' if exact else ' …'}: ran {ran.height}×, never rejected",
                        rule=claude_rule(tool, text, exact),
                        matcher=_prefix_matcher(agent, project, tool, prefix, exact),
                        effect="approval_wait",
                        evidence=ok,
                        consistency=ok.height / ran.height,
                        details={"prefix": list(prefix), "exact": exact, "approved": ok.height, "failed": ran.height - ok.height, "rejected": 0},
                    )
                )
        return out
    if rej.height < th.rejections or rej["session_key"].n_unique() < th.sessions:
        return out
    prefix = common_prefix(rej["tokens"].to_list())
    exact = rej["simple"].n_unique() == 1
    text = " ".join(prefix)
    under = ran.filter(pl.col("tokens").list.head(len(prefix)) == pl.lit(list(prefix), dtype=pl.List(pl.String)))
    if exact:
        under = ran.filter(pl.col("simple") == text)
    if under.is_empty():
        decision, consistency = "deny", 1.0
    elif rej.height / (rej.height + under.height) >= 1 / 3:
        decision, consistency = "ask", rej.height / (rej.height + under.height)
    else:
        return out
    out.append(
        Suggestion(
            kind="permission",
            decision=decision,
            agent=agent,
            project=project,
            tool=tool,
            pattern=text,
            title=f"{decision} `{text}`{'' if exact else ' …'}: rejected {rej.height}×, ran {under.height}×",
            rule=claude_rule(tool, text, exact),
            matcher=_prefix_matcher(agent, project, tool, prefix, exact),
            effect="blocked" if decision == "deny" else "asked",
            evidence=rej,
            consistency=consistency,
            details={"prefix": list(prefix), "exact": exact, "approved": under.height, "rejected": rej.height, "head": head},
        )
    )
    return out


def _mcp_group(agent: str, project: str, tool: str, g: pl.DataFrame, th: Thresholds) -> list[Suggestion]:
    rej = g.filter(pl.col("status") == "user_rejected")
    ran = g.filter(pl.col("status") != "user_rejected")
    ok = ran.filter(pl.col("status") == "ok")
    if rej.is_empty() and ok.height >= th.approvals and ok["session_key"].n_unique() >= th.allow_sessions and ok.height >= 0.5 * ran.height:
        decision, evidence, consistency, effect = "allow", ok, ok.height / ran.height, "approval_wait"
    elif rej.height >= th.rejections and rej["session_key"].n_unique() >= th.sessions and rej.height / g.height >= 1 / 3:
        decision = "deny" if ran.is_empty() else "ask"
        evidence, consistency, effect = rej, rej.height / g.height, "blocked" if ran.is_empty() else "asked"
    else:
        return []
    return [
        Suggestion(
            kind="permission",
            decision=decision,
            agent=agent,
            project=project,
            tool=tool,
            pattern=tool,
            title=f"{decision} MCP tool `{tool}`: ran {ran.height}×, rejected {rej.height}×",
            rule=tool,
            matcher=_tool_matcher(agent, project, tool),
            effect=effect,
            evidence=evidence,
            consistency=consistency,
            details={"prefix": [tool], "exact": True, "approved": ok.height, "rejected": rej.height},
        )
    ]
