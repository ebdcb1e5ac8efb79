"""Read gitleaks-format TOML rule files (``--rules FILE``) into tracelab detectors.

Supported (gitleaks v8 semantics, re-implemented here):

* ``[[rules]]``: ``id``, ``description``, ``regex``, ``secretGroup`` (else the first non-empty
  capture group, else the whole match), ``entropy`` (Shannon entropy of the secret must exceed
  it; ``generic*`` rules additionally need a digit), ``keywords`` (case-insensitive prefilter),
  ``path`` (the rule only applies to input files whose path matches).
* allowlists, per rule (``[[rules.allowlists]]`` and the older ``[rules.allowlist]``) and global
  (``[allowlist]`` / ``[[allowlists]]``): ``regexes`` with ``regexTarget`` = ``secret``
  (default) / ``match`` / ``line``, ``stopwords`` (case-insensitive substrings of the secret),
  ``paths``, ``condition`` = ``OR`` (default) / ``AND``. ``commits`` do not apply to traces.

Go's regexp and C++ RE2 (``google-re2``) share one syntax; the few spellings that differ are
translated (``(?<name>…)`` → ``(?P<name>…)``; a flag group in mid-pattern such as
``^/Users/(?i)…`` is legal in both but not in Python ``re``). A pattern RE2 rejects is retried
with Python ``re`` (needed only for hand-written rules that use look-arounds or
back-references; such rules are marked ``engine="re"`` and only run on strings up to
:data:`PY_RE_MAX_INPUT` characters). A rule neither engine compiles, or a rule without a regex
(gitleaks' file-name-only rules such as ``pkcs12-file``), is reported in ``errors`` — never
silently dropped.
"""

from __future__ import annotations

import contextvars
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2

from tracelab.redact import checks
from tracelab.redact.detectors import RE2_OPTIONS, Detector

__all__ = ["load_rules", "LoadedRules", "translate_go_regex", "CURRENT_PATH", "PY_RE_MAX_INPUT"]

#: The path of the file being redacted (path-scoped rules and path allowlists consult it).
CURRENT_PATH: contextvars.ContextVar[str | None] = contextvars.ContextVar("tracelab_redact_path", default=None)
#: Strings longer than this are not given to rules that had to fall back to Python ``re``.
PY_RE_MAX_INPUT = 100_000


@dataclass
class LoadedRules:
    detectors: list[Detector] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")


def translate_go_regex(pattern: str) -> str:
    """Rewrite Go-only spellings into RE2's (named groups ``(?<n>`` → ``(?P<n>``)."""
    return _NAMED_GROUP.sub(r"(?P<\1>", pattern)


_MID_FLAGS = re.compile(r"\(\?([imsU]+)\)")


def _to_python_re(pattern: str) -> str:
    """Best-effort Go → Python ``re``: scope mid-pattern ``(?i)`` to the rest of the pattern,
    ``\\z`` → ``\\Z``."""
    p = translate_go_regex(pattern).replace(r"\z", r"\Z")
    out = []
    pos = 0
    opened = 0
    for m in _MID_FLAGS.finditer(p):
        if m.start() == 0:
            continue
        flags = m.group(1).replace("U", "")
        out.append(p[pos : m.start()])
        out.append(f"(?{flags}:" if flags else "(?:")
        opened += 1
        pos = m.end()
    out.append(p[pos:])
    return "".join(out) + ")" * opened


class _Compiled:
    """A rule regex compiled by RE2, or by Python ``re`` as a documented fallback."""

    def __init__(self, pattern: str) -> None:
        self.engine = "re2"
        self.error: str | None = None
        self.rx: Any = None
        translated = translate_go_regex(pattern)
        try:
            self.rx = re2.compile(translated, RE2_OPTIONS)
            return
        except re2.error as exc:
            first = str(exc) or "RE2 rejected the pattern"
        try:
            self.rx = re.compile(_to_python_re(pattern))
            self.engine = "re"
        except re.error as exc:
            self.error = f"RE2: {first}; Python re: {exc}"

    @property
    def ok(self) -> bool:
        return self.rx is not None

    def search(self, text: str) -> bool:
        return self.rx.search(text) is not None


@dataclass
class _Allowlist:
    regexes: list[_Compiled]
    stopwords: list[str]
    paths: list[_Compiled]
    target: str = "secret"
    condition: str = "OR"

    def allows(self, secret: str, match: str, line: str, path: str | None) -> bool:
        target = {"secret": secret, "match": match, "line": line}.get(self.target, secret)
        checks_done = []
        if self.regexes:
            checks_done.append(any(r.search(target) for r in self.regexes))
        if self.stopwords:
            low = secret.lower()
            checks_done.append(any(w in low for w in self.stopwords))
        if self.paths:
            checks_done.append(path is not None and any(p.search(path) for p in self.paths))
        if not checks_done:
            return False
        return all(checks_done) if self.condition == "AND" else any(checks_done)


def _allowlists(spec: Any, errors: list[dict], owner: str) -> list[_Allowlist]:
    if spec is None:
        return []
    items = spec if isinstance(spec, list) else [spec]
    out = []
    for a in items:
        regexes = []
        for r in a.get("regexes", []):
            c = _Compiled(r)
            if c.ok:
                regexes.append(c)
            else:
                errors.append({"id": owner, "reason": f"allowlist regex not compiled: {c.error}"})
        paths = []
        for p in a.get("paths", []):
            c = _Compiled(p)
            if c.ok:
                paths.append(c)
            else:
                errors.append({"id": owner, "reason": f"allowlist path not compiled: {c.error}"})
        out.append(
            _Allowlist(
                regexes=regexes,
                stopwords=[w.lower() for w in a.get("stopwords", [])],
                paths=paths,
                target=a.get("regexTarget", "secret") or "secret",
                condition=(a.get("condition") or "OR").upper(),
            )
        )
    return out


def _line_of(text: bytes, start: int, end: int) -> str:
    ls = text.rfind(b"\n", 0, start) + 1
    le = text.find(b"\n", end)
    return text[ls : le if le >= 0 else len(text)].decode("utf-8", "replace")


class _RuleDetector(Detector):
    """A gitleaks rule as a :class:`Detector` (custom ``find`` implementing gitleaks semantics)."""

    def __init__(
        self, rule: dict, compiled: _Compiled, path_rx: _Compiled | None, allow: list[_Allowlist], global_allow: list[_Allowlist], source: str
    ) -> None:
        keywords = tuple(k.lower() for k in rule.get("keywords", []) if k)
        super().__init__(
            id=rule["id"],
            kind=rule["id"],
            pattern=translate_go_regex(rule["regex"]),
            keywords=keywords,
            prefilter=None if keywords else (translate_go_regex(rule["regex"]) if compiled.engine == "re2" else r"(?s:.)"),
            priority=38,
            description=rule.get("description", ""),
            source=source,
        )
        self.regex = compiled.rx
        self.engine = compiled.engine
        self.secret_group = int(rule.get("secretGroup", 0) or 0)
        self.entropy = float(rule.get("entropy", 0.0) or 0.0)
        self.path_rx = path_rx
        self.allow = allow
        self.global_allow = global_allow

    def compile(self) -> Detector:
        return self

    def prefilters(self) -> list[str]:
        # gitleaks semantics: a keyword anywhere, case-insensitively (no built-in refinements)
        if self.keywords:
            return ["(?i)" + re2.escape(k) for k in self.keywords]
        return [self.prefilter] if self.prefilter is not None else []

    def raw_prefilters(self) -> list[str]:
        # a rule's own regex is not escape-safe on raw JSON text: without keywords every line
        # has to be decoded and scanned
        return ["(?i)" + re2.escape(k) for k in self.keywords] if self.keywords else [r"(?s:.)"]

    def _matches(self, text: bytes) -> Iterator[tuple[tuple[int, int], list[tuple[int, int]]]]:
        if self.engine == "re2":
            for m in self.regex.finditer(text):
                spans = [m.span(i) for i in range(self.regex.groups + 1)]
                yield spans[0], spans[1:]
        else:
            if len(text) > PY_RE_MAX_INPUT * 4:
                return
            s = text.decode("utf-8", "surrogateescape")
            for m in self.regex.finditer(s):

                def bspan(i: int) -> tuple[int, int]:
                    a, b = m.span(i)  # noqa: B023
                    if a < 0:
                        return (-1, -1)
                    return (len(s[:a].encode("utf-8", "surrogateescape")), len(s[:b].encode("utf-8", "surrogateescape")))

                yield bspan(0), [bspan(i) for i in range(1, (self.regex.groups or 0) + 1)]

    def find(self, text: bytes, covered: list[tuple] | tuple = ()) -> Iterator[tuple[int, int]]:
        # ``covered`` is only used by late (heuristic) detectors; gitleaks rules never are
        path = CURRENT_PATH.get()
        if self.path_rx is not None and (path is None or not self.path_rx.search(path)):
            return
        if path is not None and any(a.paths and not a.regexes and not a.stopwords and a.allows("", "", "", path) for a in self.global_allow):
            return
        for whole, groups in self._matches(text):
            if whole[1] <= whole[0]:
                continue
            span = whole
            if groups:
                if self.secret_group:
                    if self.secret_group <= len(groups) and groups[self.secret_group - 1][0] >= 0:
                        span = groups[self.secret_group - 1]
                else:
                    for g in groups:
                        if g[0] >= 0 and g[1] > g[0]:
                            span = g
                            break
            s, e = span
            if e <= s:
                continue
            secret = text[s:e].decode("utf-8", "replace")
            if self.entropy:
                if checks.shannon_entropy(secret) <= self.entropy:
                    continue
                if self.id.startswith("generic") and not any(ch.isdigit() for ch in secret):
                    continue
            if self.allow or self.global_allow:
                match = text[whole[0] : whole[1]].decode("utf-8", "replace")
                line = _line_of(text, whole[0], whole[1])
                if any(a.allows(secret, match, line, path) for a in self.allow):
                    continue
                if any(a.allows(secret, match, line, path) for a in self.global_allow if a.regexes or a.stopwords):
                    continue
            yield s, e


def load_rules(path: str | Path) -> LoadedRules:
    """Load a gitleaks TOML file. Unusable rules are listed in ``errors`` with a reason."""
    path = Path(path)
    out = LoadedRules()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        out.errors.append({"id": "*", "file": str(path), "reason": f"cannot read rule file: {exc}"})
        return out
    global_allow = _allowlists(doc.get("allowlist"), out.errors, "[allowlist]") + _allowlists(doc.get("allowlists"), out.errors, "[[allowlists]]")
    if doc.get("extend"):
        out.warnings.append(f"{path.name}: [extend] is not supported; only the rules in this file are loaded")
    seen: set[str] = set()
    for rule in doc.get("rules", []):
        rid = rule.get("id")
        if not rid:
            out.errors.append({"id": "?", "file": str(path), "reason": "rule without id"})
            continue
        if rid in seen:
            out.warnings.append(f"{path.name}: duplicate rule id {rid}; the later one is used")
            out.detectors = [d for d in out.detectors if d.id != rid]
        seen.add(rid)
        if not rule.get("regex"):
            reason = "file-name-only rule (path without regex): traces are scanned by content" if rule.get("path") else "rule without regex"
            out.errors.append({"id": rid, "file": str(path), "reason": reason})
            continue
        compiled = _Compiled(rule["regex"])
        if not compiled.ok:
            out.errors.append({"id": rid, "file": str(path), "reason": f"regex not compiled: {compiled.error}"})
            continue
        path_rx = None
        if rule.get("path"):
            path_rx = _Compiled(rule["path"])
            if not path_rx.ok:
                out.errors.append({"id": rid, "file": str(path), "reason": f"path regex not compiled: {path_rx.error}"})
                continue
        allow = _allowlists(rule.get("allowlists"), out.errors, rid) + _allowlists(rule.get("allowlist"), out.errors, rid)
        det = _RuleDetector(rule, compiled, path_rx, allow, global_allow, source=path.name)
        if compiled.engine == "re":
            out.warnings.append(f"{rid}: RE2 could not compile the regex; using Python re (inputs capped at {PY_RE_MAX_INPUT} chars)")
        out.detectors.append(det)
    return out
