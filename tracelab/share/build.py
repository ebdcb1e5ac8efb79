"""Build a Hub-ready share folder: select, strip, redact, write, check, then publish the folder.

Everything is written into a staging directory beside the output first. The gate then runs
``redact --check`` (the same :class:`~tracelab.redact.Policy`) over the staged files; only if the
check is clean and the user confirmed (``--yes``, or answered the prompt after reading the
summary) is the staging directory renamed to the output. Otherwise it is removed and
:class:`ShareRefused` says why: nothing final is written.

Layout of the output::

    README.md              dataset card (YAML metadata + text + statistics)
    manifest.jsonl         one row per session
    <agent>/<path>         the session files, redacted in their native format; the path is the
                           file's path below the common directory of that agent's files (so
                           Claude subagent files stay in <session>/subagents/ beside their parent),
                           with usernames in directory and file names pseudonymised
    <agent>/<id>.jsonl     with ``--format sts`` (or ``auto`` for an agent the Hub viewer does not
                           detect natively): one Session Trace Simple file per session, written
                           from the warehouse's events, through the same strip, redaction and gate
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2

from tracelab.errors import InputError, ParameterError, TracelabError
from tracelab.ingest.sts.write import session_lines, sts_documents, sts_file_name, sts_id
from tracelab.redact import POLICY_VERSION, Policy, Redactor
from tracelab.redact.files import redact_paths
from tracelab.redact.rules_gitleaks import CURRENT_PATH
from tracelab.share.card import render_card
from tracelab.share.select import Selection, select_sessions
from tracelab.share.strip import StripOptions, strip_line

__all__ = ["FORMATS", "NATIVE_AGENTS", "ShareOptions", "ShareResult", "ShareRefused", "build_share", "share_format", "STAGING_SUFFIX"]

STAGING_SUFFIX = ".tracelab-staging"
FORMATS = ("auto", "native", "sts")
#: agents whose own files the Hub's trace viewer detects (Claude Code, Codex, Pi)
NATIVE_AGENTS = frozenset({"claude", "codex", "pi"})


def share_format(agent: str, fmt: str) -> str:
    """How ``agent``'s sessions travel: ``native`` (their own files) or ``sts`` (Session Trace
    Simple). ``auto`` is native for the agents the Hub viewer detects, STS for every other one."""
    if fmt not in FORMATS:
        raise ParameterError(f"--format {fmt!r}: one of {', '.join(FORMATS)}", param="format")
    if fmt == "auto":
        return "native" if agent in NATIVE_AGENTS else "sts"
    return fmt


class ShareRefused(TracelabError):
    """The gate refused: the check is not clean, or nobody confirmed. Nothing final was written."""

    exit_code = 1


@dataclass
class ShareOptions:
    agent: str | None = None
    project: str | None = None
    since: str | None = None
    until: str | None = None
    sessions: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_sessions: int | None = None
    strip: StripOptions = field(default_factory=StripOptions)
    license: str = "cc-by-4.0"
    name: str | None = None  # pretty name on the card
    measure_recall: bool = True
    recall_secrets: int = 300
    format: str = "auto"  # auto | native | sts (see share_format)


@dataclass
class ShareResult:
    out: Path
    written: bool
    sessions: int
    files: int
    bytes_in: int
    bytes_out: int
    removed: dict[str, Any]  # what was removed, by kind (no values)
    check_clean: bool
    check_counts: dict[str, int]
    policy_version: str
    policy_hash: str
    recall: dict[str, Any] | None
    denied: list[str]
    over_limit: int
    reason: str | None = None
    manifest: list[dict] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        r = self.removed
        lines = [
            f"share: {self.sessions} sessions in {self.files} files, {self.bytes_in / 1e6:.2f} MB in, {self.bytes_out / 1e6:.2f} MB out",
            f"policy {self.policy_version} {self.policy_hash}",
        ]
        if self.recall:
            lines.append(
                f"measured recall of this policy: {self.recall['recall']:.4f} on {self.recall['planted']} planted secrets; "
                f"phone numbers {self.recall['phone_recall']:.4f} on {self.recall['phones']}"
            )
        if self.denied:
            lines.append(f"dropped by --deny: {len(self.denied)} sessions (with their subagents)")
        if self.over_limit:
            lines.append(f"dropped by --max-sessions: {self.over_limit} older sessions")
        stripped = r.get("stripped", {})
        lines.append("stripped: " + (", ".join(f"{k} {v:,}" for k, v in sorted(stripped.items())) or "nothing"))
        red = r.get("redacted_by_kind", {})
        lines.append("redacted: " + (", ".join(f"{k} {v:,}" for k, v in sorted(red.items(), key=lambda kv: -kv[1])) or "nothing"))
        lines.append("gate: redact --check on the output is " + ("CLEAN" if self.check_clean else f"NOT CLEAN ({sum(self.check_counts.values())} findings)"))
        lines.append(("written: " + str(self.out)) if self.written else f"nothing written ({self.reason})")
        return lines


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _common_root(paths: list[str]) -> Path:
    if len(paths) == 1:
        return Path(paths[0]).parent
    return Path(os.path.commonpath(paths))


def _out_rel(redactor: Redactor, rel: Path, keep_names: bool) -> Path:
    if keep_names:
        return rel
    parts = []
    for part in rel.parts:
        new, _ = redactor.redact_text(part)
        parts.append(new.replace("/", "_").replace("\\", "_"))
    return Path(*parts)


def _share_lines(redactor: Redactor, lines: Iterable[bytes], dst: Path, strip: StripOptions, stripped: Counter, findings: Counter) -> tuple[int, int]:
    """Strip and redact ``lines`` (bytes, each with its newline) into ``dst``; (bytes in, bytes out)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    nin = nout = 0
    with open(dst, "wb") as fout:
        for raw in lines:
            nin += len(raw)
            s, c, _ = strip_line(raw, strip)
            if c:
                stripped.update(c)
            new, found, _ = redactor.redact_line(s)
            if found:
                findings.update(f.kind for f in found)
            fout.write(new)
            nout += len(new)
    return nin, nout


def _share_file(redactor: Redactor, src: Path, dst: Path, strip: StripOptions, stripped: Counter, findings: Counter) -> tuple[int, int]:
    """Strip and redact one file into ``dst``; returns (bytes in, bytes out)."""
    token = CURRENT_PATH.set(str(src))
    try:
        if src.suffix == ".json":
            dst.parent.mkdir(parents=True, exist_ok=True)
            data = src.read_bytes()
            s, c, _ = strip_line(data, strip)
            stripped.update(c)
            new, found, _ = redactor.redact_document(s)
            findings.update(f.kind for f in found)
            dst.write_bytes(new)
            return len(data), len(new)
        with open(src, "rb") as fin:
            return _share_lines(redactor, fin, dst, strip, stripped, findings)
    finally:
        CURRENT_PATH.reset(token)


def _companions(path: Path) -> list[Path]:
    """Files that travel with a session file: Claude's ``agent-*.meta.json`` beside a subagent."""
    meta = path.with_name(path.name[: -len(".jsonl")] + ".meta.json") if path.name.endswith(".jsonl") else None
    return [meta] if meta is not None and meta.is_file() else []


def measure_recall(policy: Policy, n_secrets: int = 300, seed: int = 19) -> dict[str, Any]:
    """Recall of ``policy`` on a freshly generated planted corpus (secrets of every built-in kind
    in their contexts, plus planted phone numbers), so the card states what *this* policy catches."""
    from tracelab.redact import bench
    from tracelab.redact.phone_corpus import planted_phones

    corpus = bench.generate(n_secrets, negatives_per_secret=0.5, identities=0, seed=seed)
    res = bench.evaluate(corpus, Redactor(policy.replace()))
    summary = res.summary()
    r = Redactor(policy.replace())
    phones = planted_phones(seed=seed, per_region=3)
    caught = 0
    for p in phones:
        out = r.redact_line(p.text.encode())[0].decode() if p.text.startswith("{") else r.redact_text(p.text)[0]
        caught += p.written.removeprefix("tel:") not in out
    return {
        "planted": summary.get("planted", len(corpus.planted)),
        "recall": summary.get("recall", 0.0),
        "kinds": len({p.kind for p in corpus.planted}),
        "phones": len(phones),
        "phone_recall": caught / len(phones) if phones else 0.0,
        "seed": seed,
    }


def _leftover_usernames(root: Path, names: frozenset[str]) -> int:
    """Whole-word occurrences of ``names`` in every file (and path) under ``root``."""
    if not names:
        return 0
    rx = re2.compile(r"\b(?:" + "|".join(re2.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b")
    n = 0
    for p in root.rglob("*"):
        n += len(rx.findall(p.relative_to(root).as_posix()))
        if p.is_file():
            n += len(rx.findall(p.read_bytes().decode("utf-8", "replace")))
    return n


def _clean(redactor: Redactor, value: str | None) -> str | None:
    return redactor.redact_text(value)[0] if value else value


def _iso(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.UTC)
        return v.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(v)


def build_share(
    warehouse: str | os.PathLike,
    out: str | os.PathLike,
    *,
    options: ShareOptions | None = None,
    policy: Policy | None = None,
    confirm: Callable[[ShareResult], bool] | None = None,
    keep_names: bool = False,
    report_path: str | os.PathLike | None = None,
) -> ShareResult:
    """Select, strip, redact and check; publish ``out`` only if the gate passes and ``confirm``
    (given the summary) returns True. ``confirm=None`` means not confirmed (``--yes`` passes a
    function returning True). Raises :class:`ShareRefused` when nothing was written."""
    opts = options or ShareOptions()
    share_format("", opts.format)  # ParameterError before anything is read
    policy = policy or Policy()
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} exists and is not empty: a share is written into a new folder", path=str(out))
    sel: Selection = select_sessions(
        warehouse,
        agent=opts.agent,
        project=opts.project,
        since=opts.since,
        until=opts.until,
        sessions=opts.sessions,
        deny=opts.deny,
        max_sessions=opts.max_sessions,
    )
    if not sel.sessions:
        raise InputError("no session matches the selection (nothing to share)")
    if sel.missing_files:
        raise InputError(f"{len(sel.missing_files)} source file(s) of the selection are gone, e.g. {sel.missing_files[0]}: re-ingest or narrow the selection")
    t0 = time.perf_counter()
    redactor = Redactor(policy)
    # pre-scan every file for home-directory usernames (bare names earlier than the first path)
    file_agent: dict[str, str] = {}
    for row in sel.sessions:
        for f in row["source_files"] or []:
            file_agent.setdefault(f, row["agent"])
    for f in sel.files:
        redactor.learn_usernames(f.encode("utf-8", "surrogateescape"))
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                redactor.learn_usernames(chunk)
    staging = out.with_name(out.name + STAGING_SUFFIX)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        by_agent: dict[str, list[str]] = defaultdict(list)
        for f in sel.files:
            by_agent[file_agent[f]].append(f)
        out_of: dict[str, str] = {}
        stripped: Counter = Counter()
        per_file_findings: dict[str, Counter] = {}
        bytes_in = bytes_out = 0
        sts_agents = {row["agent"] for row in sel.sessions if share_format(row["agent"], opts.format) == "sts"}
        for agent, files in sorted(by_agent.items()):
            if agent in sts_agents:
                continue
            root = _common_root(files)
            for f in sorted(files):
                src = Path(f)
                rel = Path(agent) / _out_rel(redactor, src.relative_to(root), keep_names)
                counts: Counter = Counter()
                nin, nout = _share_file(redactor, src, staging / rel, opts.strip, stripped, counts)
                for comp in _companions(src):
                    crel = rel.with_name(_out_rel(redactor, Path(comp.name), keep_names).name)
                    cin, cout = _share_file(redactor, comp, staging / crel, opts.strip, stripped, counts)
                    nin, nout = nin + cin, nout + cout
                    out_of[str(comp)] = crel.as_posix()
                bytes_in, bytes_out = bytes_in + nin, bytes_out + nout
                out_of[f] = rel.as_posix()
                per_file_findings[f] = counts
        # STS: one file per session, from the warehouse's events, through the same strip and redaction
        sts_rows = [row for row in sel.sessions if row["agent"] in sts_agents]
        sts_of: dict[str, str] = {}
        sts_findings: dict[str, Counter] = {}
        docs = sts_documents(warehouse, [row["session_key"] for row in sts_rows]) if sts_rows else {}
        used: set[str] = set()
        for row in sts_rows:
            sk, agent = row["session_key"], row["agent"]
            # a session with no event STS carries still travels, as its header alone
            header, messages = docs.get(sk) or ({"type": "session", "harness": agent, "id": sts_id(sk, agent)}, [])
            # the export's {"tracelab": {"session_key"}} extension stays home: the id says it, the
            # manifest has the session, and a "session_key" value reads as a secret to the policy
            header = {k: v for k, v in header.items() if k != "tracelab"}
            folder, stem = sts_file_name(header)
            stem = _out_rel(redactor, Path(stem), keep_names).as_posix().replace("/", "_")
            srel, n = f"{folder}/{stem}.jsonl", 1
            while srel in used:
                n += 1
                srel = f"{folder}/{stem}-{n}.jsonl"
            used.add(srel)
            scounts: Counter = Counter()
            token = CURRENT_PATH.set(srel)
            try:
                nin, nout = _share_lines(redactor, session_lines(header, messages), staging / srel, opts.strip, stripped, scounts)
            finally:
                CURRENT_PATH.reset(token)
            bytes_in, bytes_out = bytes_in + nin, bytes_out + nout
            sts_of[sk] = srel
            sts_findings[sk] = scounts
        hashes = {rel: _sha256_file(staging / rel) for rel in [*out_of.values(), *sts_of.values()]}
        phash = policy.policy_hash()
        manifest = []
        for row in sel.sessions:
            fmt = "sts" if row["session_key"] in sts_of else "native"
            found: Counter = Counter()
            if fmt == "sts":
                files, comps = [sts_of[row["session_key"]]], []
                found.update(sts_findings[row["session_key"]])
            else:
                files = sorted(out_of[f] for f in row["source_files"] or [] if f in out_of)
                comps = sorted(out_of[str(c)] for f in row["source_files"] or [] for c in _companions(Path(f)) if str(c) in out_of)
                for f in row["source_files"] or []:
                    found.update(per_file_findings.get(f, {}))
            content = hashlib.sha256("".join(f"{p}\0{hashes[p]}\n" for p in files + comps).encode()).hexdigest()
            manifest.append(
                {
                    # ids can hold what the files' contents did (Claude names summary-only sessions
                    # after the file: -Users-<name>-…): the same redactor, the same pseudonyms
                    "session_id": _clean(redactor, row["session_id"]),
                    "agent": row["agent"],
                    "agent_version": row["agent_version"],
                    "format": fmt,
                    "is_subagent": bool(row["is_subagent"]),
                    "parent_session_id": _clean(redactor, next((r["session_id"] for r in sel.sessions if r["session_key"] == row["parent_session_key"]), None)),
                    "models": sorted(row["models"]),
                    "model_usage": row["models"],
                    "started_at": _iso(row["started_at"]),
                    "ended_at": _iso(row["ended_at"]),
                    "counts": {k: int(row[k] or 0) for k in ("n_events", "n_user_prompts", "n_llm_calls", "n_tool_calls", "n_tool_errors")},
                    "tokens": {k: int(row[k] or 0) for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")},
                    "files": [{"path": p, "sha256": hashes[p], "bytes": (staging / p).stat().st_size} for p in files + comps],
                    "content_sha256": content,
                    "redaction": {
                        "policy_version": POLICY_VERSION,
                        "policy_hash": phash,
                        "findings_by_kind": dict(sorted(found.items())),
                        "findings_scope": "files",
                    },
                }
            )
        recall = measure_recall(policy, opts.recall_secrets) if opts.measure_recall else None
        removed = {
            "stripped": dict(sorted(stripped.items())),
            "strip_options": opts.strip.enabled(),
            "redacted_by_kind": dict(sorted(sum([*per_file_findings.values(), *sts_findings.values()], Counter()).items())),
            "sessions_denied": len(sel.denied),
            "deny_patterns": len(opts.deny),
            "sessions_over_limit": sel.over_limit,
        }
        with open(staging / "manifest.jsonl", "w", encoding="utf-8") as fh:
            for row in manifest:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
        (staging / "README.md").write_text(
            render_card(manifest, removed=removed, recall=recall, policy_version=POLICY_VERSION, policy_hash=phash, license=opts.license, name=opts.name),
            encoding="utf-8",
        )
        # the gate: the same policy, over everything that would be published; and the usernames
        # this share learned from home paths must not be left anywhere as words (a check run
        # over pseudonymised files cannot learn them again)
        check = redact_paths(Redactor(policy.replace()), [str(staging)], None, check=True, keep_names=True)
        check_counts = dict(check.counts("detector"))
        left = _leftover_usernames(staging, redactor.propagated_usernames)
        if left:
            check_counts["learned-username"] = left
        result = ShareResult(
            out=out,
            written=False,
            sessions=len(manifest),
            files=len(out_of) + len(sts_of),
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            removed=removed,
            check_clean=not check_counts,
            check_counts=check_counts,
            policy_version=POLICY_VERSION,
            policy_hash=check.policy_fingerprint,
            recall=recall,
            denied=sel.denied,
            over_limit=sel.over_limit,
            manifest=manifest,
        )
        result.removed["seconds"] = round(time.perf_counter() - t0, 2)
        if report_path is not None:
            Path(report_path).parent.mkdir(parents=True, exist_ok=True)
            Path(report_path).write_text(json.dumps(report_dict(result), indent=2) + "\n", encoding="utf-8")
        if not result.check_clean:
            result.reason = "redact --check on the output is not clean: " + ", ".join(f"{k} {v}" for k, v in sorted(result.check_counts.items()))
            raise ShareRefused(result.reason, result=result)
        if confirm is None or not confirm(result):
            result.reason = "not confirmed (pass --yes after reviewing the summary)"
            raise ShareRefused(result.reason, result=result)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
        result.written = True
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def report_dict(result: ShareResult) -> dict[str, Any]:
    """``--report``: what was removed, by kind, and the gate's verdict — never a value."""
    return {
        "policy_version": result.policy_version,
        "policy_hash": result.policy_hash,
        "sessions": result.sessions,
        "files": result.files,
        "bytes_in": result.bytes_in,
        "bytes_out": result.bytes_out,
        "removed": result.removed,
        "check": {"clean": result.check_clean, "findings_by_detector": result.check_counts},
        "recall": result.recall,
    }
