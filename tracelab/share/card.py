"""The dataset card (``README.md``) of a share: Hub YAML metadata, what the data is and is not,
how it was collected, redacted and checked, and statistics computed from the manifest alone
(so anyone can recompute them from ``manifest.jsonl``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import yaml

__all__ = ["render_card", "size_category", "card_stats"]

_AGENT_TAGS = {"claude": "claude-code", "codex": "codex", "pi": "pi", "gemini": "gemini-cli", "copilot": "copilot-cli"}


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value for ``n`` rows (here: sessions)."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"


def card_stats(manifest: list[dict]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per-agent and per-model statistics, summed from manifest rows. ``sessions`` counts every
    row (subagent sessions included; ``subagent_sessions`` of them are subagents), per model the
    sessions that used it."""
    agents: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"sessions": 0, "subagent_sessions": 0, "llm_calls": 0, "tool_calls": 0, "tokens": 0, "first": None, "last": None}
    )
    models: dict[str, dict[str, Any]] = defaultdict(lambda: {"sessions": 0, "llm_calls": 0, "tokens": 0})
    for row in manifest:
        a = agents[row["agent"]]
        a["sessions"] += 1
        a["subagent_sessions"] += int(row["is_subagent"])
        a["llm_calls"] += row["counts"]["n_llm_calls"]
        a["tool_calls"] += row["counts"]["n_tool_calls"]
        a["tokens"] += sum(row["tokens"][k] for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"))
        for key, pick in (("first", min), ("last", max)):
            v = row["started_at" if key == "first" else "ended_at"]
            if v:
                a[key] = v[:10] if a[key] is None else pick(a[key], v[:10])
        for model, u in row["model_usage"].items():
            m = models[model]
            m["sessions"] += 1
            m["llm_calls"] += u["calls"]
            m["tokens"] += u["input_tokens"] + u["output_tokens"] + u["cache_read_tokens"] + u["cache_write_tokens"]
    return {"agents": dict(sorted(agents.items())), "models": dict(sorted(models.items(), key=lambda kv: (-kv[1]["llm_calls"], kv[0])))}


def render_card(
    manifest: list[dict],
    *,
    removed: dict[str, Any],
    recall: dict[str, Any] | None,
    policy_version: str,
    policy_hash: str,
    license: str = "cc-by-4.0",
    name: str | None = None,
) -> str:
    stats = card_stats(manifest)
    agents = sorted(stats["agents"])
    meta = {
        "license": license,
        "pretty_name": name or "Coding-agent session traces (" + ", ".join(_AGENT_TAGS.get(a, a) for a in agents) + ")",
        "tags": ["traces", "agent-traces", "coding-agents", "tracelab"] + sorted({_AGENT_TAGS.get(a, a) for a in agents}),
        "size_categories": [size_category(len(manifest))],
        "language": ["en"],
    }
    total_calls = sum(a["llm_calls"] for a in stats["agents"].values())
    sts = sorted({r["agent"] for r in manifest if r.get("format") == "sts"})
    native = sorted({r["agent"] for r in manifest if r.get("format", "native") == "native"})
    lines = ["---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]
    lines.append(f"# {meta['pretty_name']}")
    lines.append("")
    lines.append(
        f"{len(manifest)} coding-agent sessions ({total_calls:,} LLM calls) "
        + (
            "in the agents' own file formats"
            if not sts
            else ("in the Hub's Session Trace Simple format" if not native else "in the agents' own file formats or the Hub's Session Trace Simple format")
        )
        + ", shared voluntarily by their author with `tracelab share`."
    )
    lines += [
        "",
        "## What this dataset is, and is not",
        "",
        "These are **voluntarily shared evaluation material and demand signals**: real sessions that show what one "
        "person or team asked coding agents to do and how the agents behaved. They are **not official model facts "
        "and not provider telemetry**: the sessions were chosen by whoever shared them, from their own work, so the "
        "rates below (tool errors, tokens per call, models used) describe this sample only and say nothing "
        "representative about a model, an agent or its users. Quote them with their sample sizes.",
        "",
        "## How it was collected",
        "",
        "The files were read by tracelab (`tracelab ingest`) from the agents' local session logs (Claude Code "
        "`~/.claude/projects`, Codex `~/.codex/sessions`, Pi `~/.pi/agent/sessions`) into a local warehouse, and "
        "this selection was written back out file by file: one folder per agent, the on-disk layout kept below the "
        "agents' common directory (subagent files beside their parent session), every line in its original order "
        "and format, so the Hub's trace viewer recognises them. `manifest.jsonl` has one row per session: agent and "
        "version, models, start and end, counts, tokens, redaction findings by kind, the files with their SHA-256, "
        "and the redaction policy.",
        "",
    ]
    if sts:
        lines += [
            "Sessions of "
            + ", ".join(f"`{a}`" for a in sts)
            + " are Session Trace Simple files instead (`format: sts` in the manifest): one `<agent>/<session id>.jsonl` per "
            "session, written from the warehouse's events (a `session` header, then user, assistant, tool and system "
            "messages with reasoning and tool calls), so the Hub's trace viewer shows them too. STS carries no token "
            "counts, tool status or timings: those are in the manifest, counted from the agents' original logs.",
            "",
        ]
    lines += [
        "## How it was redacted and checked",
        "",
        f"Redaction policy `{policy_version}` (`{policy_hash}`), format-preserving: only detected spans changed, to typed "
        "markers (`[REDACTED:github_token]`, `[REDACTED:phone_number]`) or keyed pseudonyms for usernames and e-mail "
        "addresses (`user_3f2a9c`); directory and file names too.",
        "",
    ]
    stripped = removed.get("stripped", {})
    opts = removed.get("strip_options", [])
    what = {
        "signatures": "encrypted reasoning and signature fields (emptied)",
        "images": "embedded images (replaced by a size marker)",
        "env_dumps": "environment dumps (replaced by a variable count)",
    }
    lines.append("Stripped before redaction: " + ("; ".join(f"{what[k]}: {stripped.get(k, 0):,}" for k in opts) if opts else "nothing") + ".")
    red = removed.get("redacted_by_kind", {})
    if red:
        lines.append("Redacted, by kind: " + ", ".join(f"{k} {v:,}" for k, v in sorted(red.items(), key=lambda kv: (-kv[1], kv[0]))) + ".")
    if removed.get("sessions_denied"):
        lines.append(f"{removed['sessions_denied']} sessions were dropped whole because they matched a deny pattern.")
    lines.append("")
    if recall:
        lines.append(
            f"Measured recall of this policy when the share was built: **{recall['recall']:.4f}** on {recall['planted']:,} planted secrets "
            f"of {recall['kinds']} kinds in their usual contexts, and **{recall['phone_recall']:.4f}** on {recall['phones']} planted phone "
            "numbers in international formats. What the policy does not cover (secrets with no format and no context, names in prose, "
            "postal addresses) is listed in tracelab's redaction README; read before reuse."
        )
        lines.append("")
    lines.append(
        "The gate: `tracelab redact --check` with the same policy ran over every file of this folder and found nothing, "
        "and the author confirmed the summary, before anything was written."
    )
    lines += [
        "",
        "## Statistics",
        "",
        "Per agent: main sessions and subagent sessions counted apart, as `tracelab info` counts them (their sum is the "
        "agent's rows of `manifest.jsonl`); calls and tokens of both:",
        "",
    ]
    lines.append("| agent | main sessions | subagent sessions | LLM calls | tool calls | tokens | first day | last day |")
    lines.append("|---|---:|---:|---:|---:|---:|---|---|")
    for a, s in stats["agents"].items():
        main = s["sessions"] - s["subagent_sessions"]
        lines.append(
            f"| {a} | {main} | {s['subagent_sessions']} | {s['llm_calls']} | {s['tool_calls']} | {s['tokens']} | {s['first'] or ''} | {s['last'] or ''} |"
        )
    lines += ["", "Per model (n = sessions that used the model, subagent sessions included):", ""]
    lines.append("| model | sessions with it | LLM calls | tokens |")
    lines.append("|---|---:|---:|---:|")
    for m, s in stats["models"].items():
        lines.append(f"| {m} | {s['sessions']} | {s['llm_calls']} | {s['tokens']} |")
    lines += [
        "",
        "Tokens are input (uncached) + output + cache read + cache write, as each agent reported them.",
        "",
        "## License",
        "",
        f"`{license}`, as chosen by the author. The sessions contain code and text written by the author and by the models.",
        "",
    ]
    return "\n".join(lines)
