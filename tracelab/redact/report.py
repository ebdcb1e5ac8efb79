"""Findings and the run report: where something was redacted, never what.

A :class:`Finding` records the detector, the replacement kind, the file, the 1-based line, the JSON
path inside the line (``$.message.content[0].input.command``; ``#json`` marks a step into a string
that itself holds JSON) and the span's offset and length in the decoded string. The secret text,
its hash and its surroundings are deliberately absent: a report must be safe to publish alongside
the redacted data.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

__all__ = ["Finding", "FileResult", "Report"]


@dataclass(frozen=True)
class Finding:
    detector: str
    kind: str
    category: str
    path: str | None
    offset: int
    length: int
    file: str | None = None
    line: int | None = None

    def at(self, file: str | None = None, line: int | None = None) -> Finding:
        return replace(self, file=file if file is not None else self.file, line=line if line is not None else self.line)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FileResult:
    """Outcome for one input file."""

    source: str
    output: str | None
    lines: int = 0
    changed_lines: int = 0
    json_lines: int = 0
    text_lines: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None

    def to_dict(self, *, with_findings: bool = True) -> dict:
        d: dict[str, Any] = {
            "source": self.source,
            "output": self.output,
            "lines": self.lines,
            "changed_lines": self.changed_lines,
            "json_lines": self.json_lines,
            "text_lines": self.text_lines,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "findings": len(self.findings),
        }
        if self.skipped:
            d["skipped"] = self.skipped
        if with_findings:
            d["finding_list"] = [f.to_dict() for f in self.findings]
        return d


@dataclass
class Report:
    """All files of one run plus the policy that produced them."""

    files: list[FileResult]
    policy_version: str
    policy_fingerprint: str
    mode: str  # "redact" | "check"
    rule_errors: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings]

    def counts(self, attr: str = "detector") -> Counter:
        return Counter(getattr(f, attr) for f in self.findings)

    @property
    def clean(self) -> bool:
        return not any(r.findings for r in self.files)

    def to_dict(self, *, max_findings: int | None = None) -> dict:
        findings = self.findings
        listed = findings if max_findings is None else findings[:max_findings]
        bytes_in = sum(r.bytes_in for r in self.files)
        return {
            "mode": self.mode,
            "policy_version": self.policy_version,
            "policy_fingerprint": self.policy_fingerprint,
            "clean": self.clean,
            "files": [r.to_dict(with_findings=False) for r in self.files],
            "totals": {
                "files": len(self.files),
                "skipped_files": sum(1 for r in self.files if r.skipped),
                "lines": sum(r.lines for r in self.files),
                "changed_lines": sum(r.changed_lines for r in self.files),
                "bytes": bytes_in,
                "findings": len(findings),
                "seconds": round(self.seconds, 3),
                "mb_per_s": round(bytes_in / 1e6 / self.seconds, 2) if self.seconds > 0 else None,
            },
            "by_detector": dict(sorted(self.counts("detector").items())),
            "by_kind": dict(sorted(self.counts("kind").items())),
            "by_category": dict(sorted(self.counts("category").items())),
            "findings": [f.to_dict() for f in listed],
            "findings_truncated": len(findings) - len(listed),
            "rule_errors": self.rule_errors,
            "warnings": self.warnings,
        }

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(**kw), indent=2, sort_keys=False)

    def summary(self, *, top_files: int = 10) -> str:
        """Human-readable summary (counts only)."""
        t = self.to_dict(max_findings=0)["totals"]
        lines = []
        verb = "checked" if self.mode == "check" else "redacted"
        lines.append(
            f"{verb} {t['files']} file(s), {t['lines']:,} lines, {t['bytes'] / 1e6:.2f} MB in {t['seconds']:.2f}s"
            + (f" ({t['mb_per_s']} MB/s)" if t["mb_per_s"] else "")
        )
        lines.append(f"policy {self.policy_version} {self.policy_fingerprint}")
        if self.mode == "check":
            lines.append("result: CLEAN (no detector fired)" if self.clean else f"result: NOT CLEAN ({t['findings']:,} findings)")
        else:
            lines.append(f"findings: {t['findings']:,} in {t['changed_lines']:,} changed lines")
        by = self.counts("detector")
        if by:
            width = max(len(k) for k in by)
            lines.append("by detector:")
            for det, n in by.most_common():
                lines.append(f"  {det:<{width}}  {n:>7,}")
        per_file = sorted(((len(r.findings), r.output or r.source) for r in self.files if r.findings), reverse=True)
        if per_file:
            lines.append("files with most findings:")
            for n, name in per_file[:top_files]:
                lines.append(f"  {n:>7,}  {name}")
        skipped = [r for r in self.files if r.skipped]
        if skipped:
            lines.append(f"skipped {len(skipped)} file(s) (not JSON/JSONL): " + ", ".join(r.source for r in skipped[:5]) + (" …" if len(skipped) > 5 else ""))
        for err in self.rule_errors:
            lines.append(f"rule not loaded: {err.get('id')} ({err.get('reason')})")
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


def merge_counts(reports: Iterable[Report]) -> Counter:
    c: Counter = Counter()
    for r in reports:
        c.update(r.counts())
    return c
