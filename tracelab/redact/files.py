"""Redact (or check) trace files and directories, keeping their layout.

Inputs are JSONL files (Claude Code, Codex, Pi), ``.json`` documents (e.g. Claude's
``agent-*.meta.json``) and directories in the agents' layouts, walked recursively. Other files
are skipped and listed in the report (copying them unredacted would defeat the purpose).

Layout: a single input directory maps to ``OUT/<relative path>``; with several inputs each
goes under ``OUT/<input name>/``; a file given directly lands at ``OUT/<file name>``. Path
components are redacted too (Claude's project directories are named after the cwd, e.g.
``-Users-alice-src-app``), unless ``keep_names`` is set.

Before redacting, every input is pre-scanned for home-directory usernames so that a bare
username appearing before the first path that reveals it is also pseudonymised.

Output lines: an unchanged line is written back byte for byte; a changed JSON line differs only
inside the string tokens that were redacted; a line that is not JSON is redacted as text.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tracelab.errors import InputError
from tracelab.redact.engine import Redactor
from tracelab.redact.report import FileResult, Finding, Report
from tracelab.redact.rules_gitleaks import CURRENT_PATH

__all__ = ["plan", "Planned", "redact_paths", "redact_file", "TRACE_SUFFIXES"]

TRACE_SUFFIXES = (".jsonl", ".json", ".ndjson")


@dataclass(frozen=True)
class Planned:
    source: Path
    rel: Path  # output path relative to the output directory (before name redaction)
    kind: str  # "jsonl" | "json" | "skip"


class PlanError(InputError, ValueError):
    pass


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    return "skip"


def plan(inputs: Sequence[str | os.PathLike]) -> list[Planned]:
    """Expand inputs into files with their output-relative paths (sorted, deterministic)."""
    paths = [Path(p) for p in inputs]
    if not paths:
        raise PlanError("no inputs")
    out: list[Planned] = []
    single_dir = len(paths) == 1 and paths[0].is_dir()
    for p in paths:
        if p.is_dir():
            base = Path() if single_dir else Path(p.resolve().name)
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                out.append(Planned(f, base / f.relative_to(p), _kind(f)))
        elif p.is_file():
            out.append(Planned(p, Path(p.name), _kind(p)))
        else:
            raise PlanError(f"input not found: {p}")
    seen: dict[Path, Path] = {}
    for item in out:
        if item.rel in seen and item.kind != "skip":
            raise PlanError(f"two inputs map to the same output {item.rel}: {seen[item.rel]} and {item.source}")
        seen[item.rel] = item.source
    return out


def _redact_rel(redactor: Redactor, rel: Path) -> tuple[Path, list[Finding]]:
    parts = []
    found: list[Finding] = []
    for part in rel.parts:
        new, f = redactor.redact_text(part)
        parts.append(new.replace("/", "_").replace("\\", "_"))
        found += [x.at(file=str(rel)) for x in f]
    return Path(*parts) if parts else rel, found


def redact_file(redactor: Redactor, src: Path, dst: Path | None, *, kind: str = "jsonl", display: str | None = None) -> FileResult:
    """Redact one file to ``dst`` (``None``: check only, nothing written)."""
    name = display or str(src)
    res = FileResult(source=str(src), output=str(dst) if dst is not None else None)
    token = CURRENT_PATH.set(str(src))
    tmp = None
    try:
        fout = None
        if dst is not None:
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(dst.name + ".tracelab-tmp")
            fout = open(tmp, "wb")
        try:
            with open(src, "rb") as fin:
                if kind == "json":
                    data = fin.read()
                    res.bytes_in = len(data)
                    new, found, was_json = redactor.redact_document(data)
                    res.lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
                    res.json_lines = res.lines if was_json else 0
                    res.text_lines = 0 if was_json else res.lines
                    res.changed_lines = 0 if new is data else _changed_line_count(data, new)
                    # a whole document has one "line" per file: findings locate by JSON path
                    res.findings = [f.at(file=name) for f in found]
                    if fout is not None:
                        fout.write(new)
                    res.bytes_out = len(new)
                else:
                    for lineno, raw in enumerate(fin, 1):
                        res.lines += 1
                        res.bytes_in += len(raw)
                        new, found, was_json = redactor.redact_line(raw)
                        if was_json:
                            res.json_lines += 1
                        elif raw.strip():
                            res.text_lines += 1
                        if new is not raw:
                            res.changed_lines += 1
                        if found:
                            res.findings.extend(f.at(file=name, line=lineno) for f in found)
                        if fout is not None:
                            fout.write(new)
                        res.bytes_out += len(new)
        finally:
            if fout is not None:
                fout.close()
        if tmp is not None and dst is not None:
            os.replace(tmp, dst)
            tmp = None
    finally:
        CURRENT_PATH.reset(token)
        if tmp is not None and tmp.exists():
            tmp.unlink()
    return res


def _changed_line_count(a: bytes, b: bytes) -> int:
    la, lb = a.split(b"\n"), b.split(b"\n")
    if len(la) != len(lb):
        return max(len(la), len(lb))
    return sum(1 for x, y in zip(la, lb) if x != y)


def _check_output_location(items: Iterable[Planned], inputs: Sequence[str | os.PathLike], out_dir: Path) -> None:
    out_abs = out_dir.resolve()
    for p in inputs:
        pa = Path(p).resolve()
        if pa.is_dir() and (out_abs == pa or pa in out_abs.parents):
            raise PlanError(f"--out {out_dir} is inside input directory {p}")
    for item in items:
        if (out_abs / item.rel).resolve() == item.source.resolve():
            raise PlanError(f"output would overwrite input {item.source}")


def redact_paths(
    redactor: Redactor,
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike | None,
    *,
    check: bool = False,
    keep_names: bool = False,
    prescan: bool = True,
) -> Report:
    """Redact (``check=False``) or scan (``check=True``) files/directories; returns the report."""
    t0 = time.perf_counter()
    items = plan(inputs)
    out = None if check or out_dir is None else Path(out_dir)
    if not check and out is None:
        raise PlanError("an output directory is required (or use check mode)")
    if out is not None:
        _check_output_location(items, inputs, out)
    if prescan and redactor.policy.home_paths:
        for item in items:
            if item.kind != "skip":
                redactor.learn_usernames(str(item.rel).encode("utf-8", "surrogateescape"))
                with open(item.source, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 22), b""):
                        redactor.learn_usernames(chunk)
    results: list[FileResult] = []
    for item in items:
        # In redact mode the report names files by their (redacted) output-relative path only,
        # so it can be published with the data; check mode reports the input paths as given.
        rel, name_findings = (item.rel, []) if keep_names else _redact_rel(redactor, item.rel)
        display = str(item.source) if check else rel.as_posix()
        if item.kind == "skip":
            results.append(FileResult(source=display, output=None, skipped="not a JSON/JSONL trace file"))
            continue
        dst = None if out is None else out / rel
        res = redact_file(redactor, item.source, dst, kind=item.kind, display=display)
        if not check:
            res.source = display
            res.output = display
        if name_findings:
            res.findings = [f.at(file=display) for f in name_findings] + res.findings
        results.append(res)
    warnings = list(redactor.rule_warnings)
    if redactor.policy.ephemeral_key and not check:
        warnings.append("no --key / TRACELAB_REDACT_KEY: pseudonyms are consistent within this run only")
    return Report(
        files=results,
        policy_version=redactor.policy_version,
        policy_fingerprint=redactor.policy.policy_hash(),
        mode="check" if check else "redact",
        rule_errors=list(redactor.rule_errors),
        warnings=warnings,
        seconds=time.perf_counter() - t0,
    )
