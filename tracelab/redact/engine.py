"""The redaction engine: :class:`Redactor` (text, parsed JSON values, raw JSONL lines).

Work per line, cheapest first:

1. **Raw prefilter.** One ``re2.Set`` of escape-safe keywords (plus secret-name words and the
   escapes that could hide a keyword) runs over the raw line; a line without a hit, and without a
   known literal (username, known secret, recent secret), is returned untouched and unparsed.
2. **Decode.** Otherwise the line is parsed and walked. Each string goes through a two-stage
   prefilter (:class:`_Prefilter`) and only the detectors that pass run their full RE2 pattern;
   heuristic detectors run last and skip what the others found. A string under a secret-named JSON
   key (``"password": …``) is redacted as a whole; strings holding JSON are parsed and walked
   recursively.
3. **Resolve.** Candidate spans are resolved by priority: overlapping secret spans merge into one,
   identity/path spans never override a secret, spans touching an existing ``[REDACTED:…]``
   marker are dropped (so redaction is idempotent). Secrets found are also redacted where they
   recur (value propagation).
4. **Write.** Only changed string tokens are re-encoded (:mod:`tracelab.redact.jsonwalk`).

Everything matches on UTF-8 bytes: RE2 works on bytes natively, so no per-call str→bytes
conversion or offset remapping happens inside the regex library.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import re2

from tracelab.redact import checks, jsonwalk, names
from tracelab.redact.detectors import (
    _UNANCHORED,
    RE2_OPTIONS,
    Detector,
    _skip_scheme,
    _value_ok,
    builtin_detectors,
    identity_detectors,
    iter_matches,
    keyword_pattern,
    username_ok,
)
from tracelab.redact.phones import phone_detectors
from tracelab.redact.policy import POLICY_VERSION, Policy
from tracelab.redact.report import Finding

__all__ = ["Redactor", "MAX_NESTING"]

#: How many levels of JSON-inside-a-string are followed.
MAX_NESTING = 4
_MIN_STRING = 3
# Lines longer than this skip the raw-line prefilter (their bytes sit in a few big strings that
# the string prefilter reads anyway).
_RAW_PREFILTER_MAX = 16384
# Learned usernames are compiled into a small regex per _PENDING_MAX names, then merged.
_PENDING_MAX = 32
# Redacted secrets are searched for in later strings while among this many most recent ones.
_RECENT_SECRETS = 16
# Results for short strings are remembered (trace values repeat a lot: roles, types, model and
# tool names, the session's cwd). Valid because detection inside a string is context-free and a
# line's prefilter always includes every detector whose keyword occurs in the string; entries
# record the literal generation and propagated-secret count they were computed under.
_CACHE_MAX = 256
_CACHE_CAP = 200_000
# Provider-generated opaque payloads (thinking signatures, encrypted reasoning): ciphertext that
# cannot hold readable user text; scanning random base64 only costs time and risks corrupting it.
_OPAQUE_KEYS = frozenset({"signature", "thinkingSignature", "textSignature", "thoughtSignature", "encrypted_content"})
_MARKER = re2.compile(rb"\[REDACTED:[A-Za-z0-9_.\-]+\]", RE2_OPTIONS)
# escapes that could spell out prefilter keywords in raw JSON: \u0020-\u007f and \/
_HIDING_ESCAPE = r"\\u00[2-7][0-9A-Fa-f]|\\/"
_FORCE = -1
_HEX = frozenset("0123456789abcdefABCDEF")
_TS_CHARS = frozenset("0123456789-:.TZ+")


def _is_uuid(s: str) -> bool:
    return s[8] == "-" and s[13] == "-" and s[18] == "-" and s[23] == "-" and _HEX.issuperset(s.replace("-", ""))


def _is_timestamp(s: str) -> bool:
    return s[4] == "-" and s[10] == "T" and _TS_CHARS.issuperset(s)


def _propagatable(value: bytes) -> bool:
    """Worth propagating: long enough, no spaces, not a bare lowercase word, not a marker."""
    if len(value) < 10 or b" " in value or b"[REDACTED:" in value:
        return False
    return not (value.isalpha() and value.islower())


# Words that are also plausible usernames; learned usernames equal to one of these are not
# propagated to bare-word occurrences (they still get pseudonymised inside home paths).
_COMMON_WORDS = frozenset(
    """
    work code data test main home user docs temp tmp src lib node python java mark will max alex sam
    john jane dev prod stage admin root team file files path paths name note notes demo play game
    apple mac macbook mini pro air book desk desktop laptop server cloud local remote share shared
    """.split()
)


class _Prefilter:
    """Two-stage prefilter over decoded strings: which detectors could match a string?

    Stage one is one ``re2.Set`` of cheap patterns: keywords (or a small regex for detectors
    without keywords). Detectors that also have a *structural* prefilter (a secret word
    followed by an assignment operator, an XML tag, …) are confirmed by a second small Set that
    only runs when one of their keywords occurred. Putting the structural patterns into the
    first Set would multiply RE2's DFA states and slow every string down.
    """

    __slots__ = ("kw_match", "kw_owner", "struct_match", "struct_owner", "structural")
    kw_match: Any  # re2 Set.Match (re2 ships no type information)
    kw_owner: list[int]
    struct_match: Any
    struct_owner: list[int]
    structural: frozenset[int]

    def __init__(self, kw: tuple[Any, list[int]], struct: tuple[Any, list[int]] | None) -> None:
        self.kw_match, self.kw_owner = kw
        if struct is None:
            self.struct_match, self.struct_owner, self.structural = None, [], frozenset()
        else:
            self.struct_match, self.struct_owner = struct
            self.structural = frozenset(o for o in self.struct_owner if o >= 0)

    def any(self, b: bytes) -> bool:
        return bool(self.kw_match(b))

    def detectors(self, b: bytes) -> list[int]:
        hits = self.kw_match(b)
        if not hits:
            return []
        owner = self.kw_owner
        dets = {owner[h] for h in hits}
        if self.structural and not self.structural.isdisjoint(dets):
            sh = self.struct_match(b)
            ok = {self.struct_owner[h] for h in sh} if sh else set()
            dets = {d for d in dets if d not in self.structural or d in ok}
        dets.discard(_FORCE)
        return sorted(dets)


class _Scanner:
    """The prefilter and whether literal detectors need to run for the current line."""

    __slots__ = ("pre", "literals")

    def __init__(self, pre: _Prefilter, literals: bool | tuple) -> None:
        self.pre = pre
        # True: probe every literal group; a tuple: only these groups (-1 = pending secrets)
        # occur in the raw line; empty/False: none do
        self.literals = literals


class _Ctx:
    __slots__ = ("n", "changes", "findings", "depth", "scanner")

    def __init__(self, findings: list, depth: int, track: bool, scanner: _Scanner) -> None:
        self.n = 0
        self.changes: dict[int, tuple[str, str]] | None = {} if track else None
        self.findings = findings
        self.depth = depth
        self.scanner = scanner


class Redactor:
    """Apply a :class:`~tracelab.redact.policy.Policy` to text, JSON values and JSONL lines.

    >>> r = Redactor(Policy(key=b"k"))
    >>> r.redact_text("export GITHUB_TOKEN=ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5")[0]
    'export GITHUB_TOKEN=[REDACTED:github_token]'
    """

    policy_version = POLICY_VERSION

    def __init__(self, policy: Policy | None = None, *, extra_detectors: Iterable[Detector] = ()) -> None:
        self.policy = policy or Policy()
        self._pseudo = self.policy.pseudonymizer()
        dets: list[Detector] = []
        if self.policy.builtin:
            dets += [d for d in builtin_detectors() if self.policy.high_entropy or d.kind != "high_entropy"]
        dets += identity_detectors(
            emails=self.policy.emails,
            ip_addresses=self.policy.ip_addresses,
            hostnames=self.policy.hostnames,
            home_paths=self.policy.home_paths,
        )
        if self.policy.phone_numbers:
            dets += phone_detectors()
        self.rule_errors: list[dict] = []
        self.rule_warnings: list[str] = []
        if self.policy.rules_files:
            from tracelab.redact.rules_gitleaks import load_rules

            for path in self.policy.rules_files:
                loaded = load_rules(path)
                dets += loaded.detectors
                self.rule_errors += loaded.errors
                self.rule_warnings += loaded.warnings
        dets += list(extra_detectors)
        self.detectors = [d.compile() for d in dets]
        self._build_set()
        self._usernames: set[str] = set()
        self._propagate: set[str] = set()
        self._users_committed: list[str] = []
        self._users_recent: list[str] = []
        # secrets already redacted once: their other occurrences are redacted too (value
        # propagation) while they are among the most recent _RECENT_SECRETS distinct ones
        # (probed with bytes.find; a bounded window keeps the cost flat however many secrets
        # a corpus holds)
        self._pending_secrets: list[bytes] = []
        self._noted = 0  # secrets noted so far (the window holds the last _RECENT_SECRETS)
        self._noted_at: list[int] = []  # the counter value at which each window entry was noted
        self._line_noted = 0
        self._repeat_det = Detector(id="repeated-secret", kind="repeated_secret", pattern="", priority=15, source="propagation")
        self._known_det = Detector(id="known-secret", kind="known_secret", pattern="", priority=60, source="policy")
        self._deny_det = Detector(id="deny-list", kind="deny", pattern="", priority=55, source="policy")
        self._user_det = Detector(id="known-username", kind="username", pattern="", category="path", priority=11, replacement="user", source="policy")
        for u in self.policy.usernames:
            self._learn_username(u, rebuild=False)
        self._build_literals()
        self._key_cache: dict[str, tuple[str | None, tuple]] = {}
        self._str_cache: dict[str, tuple[str | None, tuple, int, int]] = {}
        self._level_cache: dict[str, str | None] = {}

    # ------------------------------------------------------------------ construction

    def _compile_set(self, patterns: list[tuple[str, int]]) -> tuple[Any, list[int]]:
        return _compiled_set(tuple(patterns))

    def _build_set(self) -> None:
        # decoded strings: keywords (or a small regex) per detector, then structural prefilters
        kw = [(p, i) for i, det in enumerate(self.detectors) for p in (det.raw_prefilters() if det.keywords else det.prefilters())]
        kw.append((_HIDING_ESCAPE, _FORCE))
        struct = [(det.prefilter, i) for i, det in enumerate(self.detectors) if det.keywords and det.prefilter is not None]
        pre = _Prefilter(self._compile_set(kw), self._compile_set(struct) if struct else None)
        self._full = _Scanner(pre, True)
        # same prefilter, literal detectors skipped (the raw line held none of their words)
        self._full_nolit = _Scanner(pre, False)
        # raw lines: escape-safe keywords only, plus secret-name words (JSON keys) and the
        # escapes that could hide a keyword
        raw = [(p, i) for i, det in enumerate(self.detectors) for p in det.raw_prefilters()]
        raw += [(keyword_pattern(w), _FORCE) for w in names.NAME_KEYWORDS]
        raw.append((_HIDING_ESCAPE, _FORCE))
        self._set_match, _ = self._compile_set(raw)

    def _line_scanner(self, body: bytes) -> _Scanner | None:
        """The scanner for one line's strings, or ``None`` if the line cannot contain a finding.

        Short lines are prefiltered as raw bytes first: a keyword inside a decoded JSON string
        also occurs in the raw line unless an escape hides it (``\\u0041KIA``, ``\\/``), and
        the Set includes those escapes, so a line without hits is returned untouched, unparsed.
        Long lines skip that pass: almost all of their bytes are in a few strings that the
        string-level prefilter reads anyway, so a raw pass would read everything twice.
        The scanner also records which literal groups (known secrets, deny words, usernames,
        repeated secrets) occur in the line, so strings are only probed for those.
        """
        if len(body) > _RAW_PREFILTER_MAX or self._always_decode:
            return self._full
        hits = self._set_match(body)
        lits = self._literal_groups(body)
        if not hits and not lits:
            return None
        if not lits:
            return self._full_nolit
        return _Scanner(self._full.pre, lits)

    def _literal_groups(self, b: bytes) -> tuple:
        """Indices of the literal regexes that occur in ``b`` (+ ``-1`` for a pending secret)."""
        n = len(b)
        found = tuple(i for i, probe in enumerate(self._lit_probes) if probe(_UNANCHORED, b, 0, n)[0][0] >= 0)
        if any(p in b for p in self._pending_secrets):
            found += (-1,)
        return found

    def _literal_regex(self, group: str, items: tuple, build) -> Any:
        """Compiled regex for one literal group, recompiled only when its items change."""
        hit = self._lit_cache.get(group)
        if hit is not None and hit[0] == items:
            return hit[1]
        rx = build(items)
        self._lit_cache[group] = (items, rx)
        return rx

    def _build_literals(self) -> None:
        """(Re)assemble the literal detectors: known secrets, deny words, learned usernames.
        Each group's regex is only recompiled when that group changed. (Recently redacted
        secrets are probed with ``bytes.find``; see :meth:`_note_secret`.)"""
        if not hasattr(self, "_lit_cache"):
            self._lit_cache: dict[str, tuple] = {}
        lits: list[tuple[Any, Detector]] = []
        known = tuple(sorted(self.policy.known_secrets, key=len, reverse=True))
        if known:
            rx = self._literal_regex("known", known, lambda k: re2.compile("|".join(re2.escape(x) for x in k), RE2_OPTIONS))
            lits.append((rx, self._known_det))
        if self.policy.deny:
            rx = self._literal_regex("deny", tuple(self.policy.deny), _deny_regex)
            lits.append((rx, self._deny_det))
        # usernames in two levels: most runs learn one or two, a shared multi-user corpus can
        # learn hundreds (the large level is rebuilt once per _PENDING_MAX names)
        for name, users in (("users", self._users_committed), ("users-recent", self._users_recent)):
            if users:
                items = tuple(sorted(users, key=len, reverse=True))
                rx = self._literal_regex(name, items, lambda u: re2.compile(r"\b(?:" + "|".join(re2.escape(x) for x in u) + r")\b", RE2_OPTIONS))
                lits.append((rx, self._user_det))
        self._literals = lits
        self._lit_probes = [rx._regexp.Match for rx, _ in lits]
        self._lit_gen = getattr(self, "_lit_gen", 0) + 1
        if not hasattr(self, "_line_gen"):
            self._line_gen = self._lit_gen
        if hasattr(self, "_key_cache"):
            self._key_cache.clear()
        hiding = any(any(ch in k for ch in '"\\') or any(ord(ch) < 0x20 for ch in k) for k in self.policy.known_secrets)
        self._always_decode = hiding

    def _learn_username(self, name: str, *, rebuild: bool = True) -> None:
        if name in self._usernames or not username_ok(name):
            return
        self._usernames.add(name)
        if self.policy.propagate_usernames and len(name) >= 4 and name.lower() not in _COMMON_WORDS:
            self._propagate.add(name)
            self._users_recent.append(name)
            if len(self._users_recent) >= _PENDING_MAX:
                self._users_committed.extend(self._users_recent)
                self._users_recent = []
            if rebuild:
                self._build_literals()

    def _note_secret(self, value: bytes) -> None:
        """Remember a redacted secret so later occurrences elsewhere are redacted as well."""
        if not _propagatable(value) or value in self._pending_secrets:
            return
        self._pending_secrets.append(value)
        self._noted_at.append(self._noted)
        self._noted += 1
        if len(self._pending_secrets) > _RECENT_SECRETS:
            del self._pending_secrets[0]
            del self._noted_at[0]

    def _noted_since(self, mark: int, b: bytes) -> bool:
        """Does ``b`` contain a secret noted after counter value ``mark``?"""
        for at, p in zip(self._noted_at, self._pending_secrets):
            if at >= mark and p in b:
                return True
        return False

    def _literal_hit(self, b: bytes) -> bool:
        n = len(b)
        for probe in self._lit_probes:
            if probe(_UNANCHORED, b, 0, n)[0][0] >= 0:
                return True
        for p in self._pending_secrets:
            if p in b:
                return True
        return False

    @property
    def usernames(self) -> frozenset[str]:
        """Usernames learned so far (from home paths and the policy)."""
        return frozenset(self._usernames)

    @property
    def propagated_usernames(self) -> frozenset[str]:
        """Learned usernames that are also redacted as bare words (4+ characters, not common words)."""
        return frozenset(self._propagate)

    def learn_usernames(self, raw: bytes) -> None:
        """Collect home-directory usernames from raw text without redacting (a pre-scan, so that
        bare occurrences earlier in a file than the first path are also pseudonymised)."""
        before = len(self._propagate)
        for det in self.detectors:
            if det.replacement != "user":
                continue
            for span in det.find(raw):
                name = raw[span[0] : span[1]].decode("utf-8", "replace")
                self._learn_username(name, rebuild=False)
        if len(self._propagate) != before:
            self._build_literals()

    def fingerprint(self) -> str:
        return self.policy.fingerprint()

    # ------------------------------------------------------------------ text

    def _may_match(self, raw: bytes, scanner: _Scanner | None = None) -> bool:
        sc = scanner or self._full
        if self._always_decode or sc.pre.any(raw):
            return True
        return bool(sc.literals or self._lit_gen != self._line_gen or self._noted != self._line_noted) and self._literal_hit(raw)

    def _candidates(self, b: bytes, scanner: _Scanner) -> list[tuple]:
        out: list[tuple] = []
        run = scanner.pre.detectors(b)
        if run:
            dets = self.detectors
            late = []
            for di in run:
                det = dets[di]
                if det.late:
                    late.append(det)
                    continue
                for span in det.find(b):
                    out.append((span[0], span[1], det, span[2] if len(span) > 2 else det.kind))
            for det in late:
                for span in det.find(b, out):
                    out.append((span[0], span[1], det, span[2] if len(span) > 2 else det.kind))
        lits = scanner.literals
        if self._lit_gen != self._line_gen:
            lits = True  # literal words changed during this line: probe everything
        if lits and self._literals:
            groups = [i for i in lits if i >= 0] if isinstance(lits, tuple) else range(len(self._literals))
            for gi in groups:
                rx, det = self._literals[gi]
                for m in iter_matches(rx, b):
                    s, e = m.spans[0]
                    if e > s:
                        out.append((s, e, det, det.kind))
        if self._pending_secrets and (lits is True or (lits and -1 in lits) or self._noted != self._line_noted):
            for p in self._pending_secrets:
                i = b.find(p)
                while i >= 0:
                    out.append((i, i + len(p), self._repeat_det, self._repeat_det.kind))
                    i = b.find(p, i + len(p))
        return out

    @staticmethod
    def _resolve(cands: list[tuple], b: bytes) -> list[tuple]:
        """Pick non-overlapping spans: priority first; overlapping secret spans merge."""
        if b"[REDACTED:" in b:
            marks = [m.spans[0] for m in iter_matches(_MARKER, b)]
            if marks:
                cands = [c for c in cands if not any(c[0] < me and ms < c[1] for ms, me in marks)]
        trimmed = []
        for s, e, det, kind in cands:
            while s < e and b[s] in b" \t\r\n":
                s += 1
            while e > s and b[e - 1] in b" \t\r\n":
                e -= 1
            if det.id == "private-key":  # literal \n escapes around a key body in raw text
                while s + 2 <= e and b[s : s + 2] in (b"\\n", b"\\r"):
                    s += 2
                while e - 2 >= s and b[e - 2 : e] in (b"\\n", b"\\r"):
                    e -= 2
            if e > s:
                trimmed.append((s, e, det, kind))
        if len(trimmed) <= 1:
            return trimmed
        trimmed.sort(key=lambda c: (-c[2].priority, c[0], c[0] - c[1]))
        accepted: list[list] = []
        for s, e, det, kind in trimmed:
            overlapping = [a for a in accepted if s < a[1] and a[0] < e]
            if not overlapping:
                accepted.append([s, e, det, kind])
                continue
            if det.category == "secret" and all(a[2].category == "secret" for a in overlapping):
                keep = overlapping[0]
                keep[0] = min([s] + [a[0] for a in overlapping])
                keep[1] = max([e] + [a[1] for a in overlapping])
                for a in overlapping[1:]:
                    accepted.remove(a)
        accepted.sort(key=lambda a: a[0])
        return [tuple(a) for a in accepted]

    def _propagate_within(self, spans: list[tuple], b: bytes) -> list[tuple]:
        """Other occurrences, in the same text, of a secret just found (``line 32: secret = X``,
        ``line 33: foreign_key_id = X``) get the same marker; the value is also remembered."""
        extra: list[tuple] = []
        for s, e, det, kind in spans:
            if det.category != "secret":
                continue
            value = b[s:e]
            if not _propagatable(value):
                continue
            self._note_secret(value)
            if b.count(value) < 2:
                continue
            i = b.find(value)
            while i >= 0:
                j = i + len(value)
                if not any(i < ae and as_ < j for as_, ae, _, _ in spans) and not any(i < ae and as_ < j for as_, ae, _, _ in extra):
                    extra.append((i, j, self._repeat_det, kind))
                i = b.find(value, j)
        return sorted(spans + extra, key=lambda sp: sp[0]) if extra else spans

    def _replacement(self, det: Detector, kind: str, original: str) -> str:
        if det.replacement == "user":
            self._learn_username(original)
            return self._pseudo.user(original)
        if det.replacement == "email":
            return self._pseudo.email(original)
        if det.replacement == "host":
            return self._pseudo.host(original)
        return f"[REDACTED:{kind}]"

    def _redact_bytes(self, b: bytes, path: Any, findings: list[Finding], scanner: _Scanner) -> bytes | None:
        cands = self._candidates(b, scanner)
        if not cands:
            return None
        spans = self._resolve(cands, b)
        if not spans:
            return None
        spans = _whole_values(spans, b)
        if self.policy.propagate_secrets:
            spans = self._propagate_within(spans, b)
        parts: list[bytes] = []
        pos = 0
        rendered = None
        for s, e, det, kind in spans:
            original = b[s:e].decode("utf-8", "surrogateescape")
            repl = self._replacement(det, kind, original)
            if repl == original:
                continue
            parts.append(b[pos:s])
            parts.append(repl.encode("utf-8"))
            pos = e
            if rendered is None and path is not None:
                rendered = jsonwalk.render_path(path)
            offset = len(b[:s].decode("utf-8", "replace"))
            findings.append(Finding(det.id, kind, det.category, rendered, offset, len(original)))
        if not parts:
            return None
        parts.append(b[pos:])
        return b"".join(parts)

    def redact_text(self, text: str) -> tuple[str, list[Finding]]:
        """Redact free text. Returns the new text and the findings (no secret text in them)."""
        findings: list[Finding] = []
        b = text.encode("utf-8", "surrogatepass")
        out = self._redact_bytes(b, None, findings, self._full)
        return (text if out is None else out.decode("utf-8", "surrogatepass")), findings

    def redact_bytes(self, data: bytes) -> tuple[bytes, list[Finding]]:
        """Redact raw (possibly non-UTF-8) text bytes; unmatched bytes are left untouched."""
        findings: list[Finding] = []
        out = self._redact_bytes(data, None, findings, self._full)
        return (data if out is None else out), findings

    # ------------------------------------------------------------------ JSON values

    def redact_value(self, obj: Any) -> tuple[Any, list[Finding]]:
        """Redact a parsed JSON value (dicts/lists/strings); unchanged subtrees are shared.

        Strings are redacted as decoded text; strings holding JSON are parsed and redacted
        structurally and re-encoded in their own style. Returns ``(new_obj, findings)``.
        """
        findings: list[Finding] = []
        ctx = _Ctx(findings, 0, False, self._full)
        return self._walk(obj, None, ctx), findings

    def _key_level(self, key: str) -> str | None:
        cache = self._level_cache
        try:
            return cache[key]
        except KeyError:
            level = names.secret_level(key) if len(key) <= 80 else None
            if len(cache) < 50000:
                cache[key] = level
            return level

    def _redact_key(self, key: str, path: Any, ctx: _Ctx) -> str:
        hit = self._key_cache.get(key)
        if hit is None:
            if len(key) < _MIN_STRING:
                return key
            tmp: list[Finding] = []
            b = key.encode("utf-8", "surrogatepass")
            out = self._redact_bytes(b, None, tmp, self._full) if self._may_match(b) else None
            new = None if out is None else out.decode("utf-8", "surrogatepass")
            hit = (new, tuple((f.detector, f.kind, f.category, f.offset, f.length) for f in tmp))
            if len(self._key_cache) < 50000:
                self._key_cache[key] = hit
        new = hit[0]
        if new is None:
            return key
        rendered = jsonwalk.render_path(path) if path is not None else "$"
        for det, kind, cat, off, ln in hit[1]:
            ctx.findings.append(Finding(det, kind, cat, rendered + "{key}", off, ln))
        return new

    def _walk(self, v: Any, path: Any, ctx: _Ctx) -> Any:
        t = type(v)
        if t is str:
            idx = ctx.n
            ctx.n = idx + 1
            nv = self._redact_string(v, path, ctx) if len(v) >= _MIN_STRING else v
            if nv is not v and ctx.changes is not None:
                ctx.changes[idx] = (v, nv)
            return nv
        if t is dict or t is jsonwalk.Pairs:
            return self._walk_object(v, path, ctx)
        if t is list:
            out = None
            walk = self._walk
            for i, item in enumerate(v):
                ni = walk(item, (path, i), ctx)
                if out is None and ni is not item:
                    out = v[:i]
                if out is not None:
                    out.append(ni)
            return v if out is None else out
        return v

    def _walk_object(self, v: Any, path: Any, ctx: _Ctx) -> Any:
        is_dict = type(v) is dict
        pairs = v.items() if is_dict else v
        skip_opaque = self.policy.skip_opaque
        skip_data = self.policy.skip_images and ("data" in v if is_dict else any(k == "data" for k, _ in v)) and jsonwalk.is_image_dict(v)
        new_items = None
        changes = ctx.changes
        key_cache = self._key_cache
        levels = self._level_cache
        cache = self._str_cache
        n = ctx.n
        for i, (k, val) in enumerate(pairs):
            kidx = n
            n += 1
            hit = key_cache.get(k)
            if hit is not None and hit[0] is None:
                nk = k
            else:
                ctx.n = n
                nk = self._redact_key(k, path, ctx)
                if nk is not k and changes is not None:
                    changes[kidx] = (k, nk)
            tv = type(val)
            if tv is str:
                idx = n
                n += 1
                level = levels[k] if k in levels else self._key_level(k)
                ln = len(val)
                if ln < _MIN_STRING or (skip_data and k == "data") or (k in _OPAQUE_KEYS and skip_opaque):
                    nval = val
                elif (
                    level is None
                    and ln <= _CACHE_MAX
                    and (vhit := cache.get(val)) is not None
                    and vhit[0] is None
                    and vhit[2] == self._lit_gen
                    and vhit[3] == self._noted
                ):
                    nval = val
                else:
                    ctx.n = n
                    cpath = (path, nk)
                    nval = self._redact_string(val, cpath, ctx)
                    n = ctx.n
                    if level is not None:
                        nval = self._redact_keyed(nval, level, cpath, ctx)
                    if nval is not val and changes is not None:
                        changes[idx] = (val, nval)
            elif tv is dict or tv is list or tv is jsonwalk.Pairs:
                ctx.n = n
                nval = self._walk(val, (path, nk), ctx)
                n = ctx.n
            else:
                nval = val
            if new_items is None and (nk is not k or nval is not val):
                new_items = list(pairs)[:i]
            if new_items is not None:
                new_items.append((nk, nval))
        ctx.n = n
        if new_items is None:
            return v
        return dict(new_items) if is_dict else jsonwalk.Pairs(new_items)

    def _redact_keyed(self, current: str, level: str, path: Any, ctx: _Ctx) -> str:
        """A string under a secret-named key (``"password": …``): the value itself is the secret."""
        b = current.encode("utf-8", "surrogatepass")
        s, e = _skip_scheme(b, 0, len(b))
        while s < e and b[s] in b" \t":
            s += 1
        value = b[s:e].decode("utf-8", "surrogatepass")
        if not value or checks.MARKER_PREFIX in value:
            return current
        if not _value_ok(level, value, quoted=True, spaced=False, op="="):
            return current
        kind = "password" if level == names.PASSWORD else "secret"
        ctx.findings.append(Finding("secret-json-key", kind, "secret", jsonwalk.render_path(path), len(b[:s].decode("utf-8", "surrogatepass")), len(value)))
        return (b[:s] + f"[REDACTED:{kind}]".encode()).decode("utf-8", "surrogatepass")

    def _redact_string(self, s: str, path: Any, ctx: _Ctx) -> str:
        n = len(s)
        if n <= _CACHE_MAX:
            hit = self._str_cache.get(s)
            if hit is not None and (hit[2] != self._lit_gen or hit[3] != self._noted):
                # cached before literal words or propagated secrets changed: still clean unless
                # one of the new ones occurs in it
                if hit[0] is None and not (
                    self._literal_hit(s.encode("utf-8", "surrogatepass"))
                    if hit[2] != self._lit_gen
                    else self._noted_since(hit[3], s.encode("utf-8", "surrogatepass"))
                ):
                    hit = self._str_cache[s] = (None, (), self._lit_gen, self._noted)
                else:
                    hit = None
            if hit is not None:
                new, found = hit[0], hit[1]
                if new is None:
                    return s
                rendered = jsonwalk.render_path(path) if path is not None else None
                for det, kind, cat, off, ln in found:
                    ctx.findings.append(Finding(det, kind, cat, rendered, off, ln))
                return new
            if n == 36 and _is_uuid(s) or 20 <= n <= 35 and _is_timestamp(s):
                return s
        b = s.encode("utf-8", "surrogatepass")
        scanner = ctx.scanner
        if ctx.depth < MAX_NESTING and (s[0] in "{[ \t\r\n") and jsonwalk.looks_like_json(s):
            if not self._may_match(b, scanner):
                return s
            res = self._redact_json_bytes(b, (path, jsonwalk.NESTED), ctx.depth + 1, ctx.findings, scanner)
            if res is not jsonwalk.NOT_JSON:
                return s if res is None else res.decode("utf-8", "surrogatepass")
        if s.startswith("data:image/") and self.policy.skip_images and ";base64," in s[:80]:
            return s
        mark = len(ctx.findings)
        gen, noted = self._lit_gen, self._noted
        out = self._redact_bytes(b, path, ctx.findings, scanner)
        new = None if out is None else out.decode("utf-8", "surrogatepass")
        if n <= _CACHE_MAX and gen == self._lit_gen:
            cache = self._str_cache
            if len(cache) >= _CACHE_CAP:
                cache.clear()
            cache[s] = (new, tuple((f.detector, f.kind, f.category, f.offset, f.length) for f in ctx.findings[mark:]), gen, noted)
        return s if new is None else new

    # ------------------------------------------------------------------ raw JSON text

    def _redact_json_bytes(self, raw: bytes, path: Any, depth: int, findings: list[Finding], scanner: _Scanner) -> Any:
        """Redact a JSON document given as bytes, patching only changed string tokens.

        Returns ``NOT_JSON`` if ``raw`` does not parse, ``None`` if nothing changed, else bytes.
        """
        try:
            obj = jsonwalk.parse(raw)
        except (ValueError, RecursionError):
            return jsonwalk.NOT_JSON
        mark = len(findings)
        ctx = _Ctx(findings, depth, True, scanner)
        self._walk(obj, path, ctx)
        if not ctx.changes:
            return None
        out = jsonwalk.patch_tokens(raw, ctx.changes)
        if out is None:
            # the document has duplicate keys (a dict kept one of them): walk every pair
            del findings[mark:]
            ctx = _Ctx(findings, depth, True, scanner)
            self._walk(jsonwalk.parse_pairs(raw), path, ctx)
            if not ctx.changes:
                return None
            out = jsonwalk.patch_tokens(raw, ctx.changes)
            if out is None:  # pragma: no cover - defensive; pairs always align with tokens
                raise AssertionError("JSON string tokens do not align with the parsed document")
        return out

    def redact_line(self, raw: bytes) -> tuple[bytes, list[Finding], bool]:
        """Redact one JSONL line (bytes, with or without its line ending).

        Returns ``(new_line, findings, was_json)``. Lines that are not valid JSON are redacted as
        raw text. Unchanged lines are returned as the very same object.
        """
        body = raw.rstrip(b"\r\n")
        eol = raw[len(body) :]
        if not body.strip():
            return raw, [], False
        scanner = self._line_scanner(body)
        if scanner is None:
            return raw, [], _probably_json(body)
        self._line_gen = self._lit_gen
        self._line_noted = self._noted
        findings: list[Finding] = []
        res = self._redact_json_bytes(body, None, 0, findings, scanner)
        if res is jsonwalk.NOT_JSON:
            out = self._redact_bytes(body, None, findings, scanner)
            return (raw if out is None else out + eol), findings, False
        if res is None:
            return raw, findings, True
        return res + eol, findings, True

    def redact_document(self, data: bytes) -> tuple[bytes, list[Finding], bool]:
        """Redact a whole JSON document (e.g. a pretty-printed ``.json`` file) or, if it does not
        parse, the bytes as text. Returns ``(new_data, findings, was_json)``."""
        findings: list[Finding] = []
        if not data.strip():
            return data, findings, False
        scanner = self._line_scanner(data)
        if scanner is None:
            return data, findings, _probably_json(data)
        self._line_gen = self._lit_gen
        self._line_noted = self._noted
        res = self._redact_json_bytes(data, None, 0, findings, scanner)
        if res is jsonwalk.NOT_JSON:
            out = self._redact_bytes(data, None, findings, scanner)
            return (data if out is None else out), findings, False
        return (data if res is None else res), findings, True


# Characters of a base64 / base64url blob. A secret span with these on either side is a slice of
# a longer value: redacting only the slice would leave the rest of a high-entropy value behind
# (which the gate then flags, issue 19), so the whole value goes.
_BLOB = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-")
_MIN_BLOB = 32


def _whole_values(spans: list[tuple], b: bytes) -> list[tuple]:
    """Widen each secret span that is a slice of a longer random base64 run to the whole run.

    The run is the maximal stretch of base64 characters around the span (plus ``=`` padding). It
    is taken whole when it is at least :data:`_MIN_BLOB` long, random-looking (Shannon entropy
    ≥ 4 bits per character) and not a path (``a/b/c`` of word-like segments), and when it holds
    no marker; otherwise the span stays as found (``github.com/org/ghp_…`` keeps its path).
    """
    out: list[tuple] = []
    changed = False
    n = len(b)
    for s, e, det, kind in spans:
        if det.category != "secret":
            out.append((s, e, det, kind))
            continue
        rs, re_ = s, e
        while rs > 0 and b[rs - 1] in _BLOB:
            rs -= 1
        while re_ < n and b[re_] in _BLOB:
            re_ += 1
        while re_ < n and b[re_] == 61:  # '=' padding
            re_ += 1
        if (rs, re_) != (s, e) and re_ - rs >= _MIN_BLOB:
            run = b[rs:re_].decode("latin-1")
            if checks.shannon_entropy(run) >= 4.0 and not _pathish(run):
                s, e = rs, re_
                changed = True
        out.append((s, e, det, kind))
    if not changed:
        return spans
    out.sort(key=lambda sp: (sp[0], -sp[1]))
    merged: list[tuple] = []
    for sp in out:
        if merged and sp[0] < merged[-1][1]:
            last = merged[-1]
            if last[2].category == "secret" and sp[2].category == "secret":
                merged[-1] = (last[0], max(last[1], sp[1]), last[2], last[3])
            elif sp[2].category == "secret":
                merged[-1] = (min(last[0], sp[0]), max(last[1], sp[1]), sp[2], sp[3])
            continue
        merged.append(sp)
    return merged


def _pathish(run: str) -> bool:
    """``org/repo/ghp_…``, ``v1/items/…``: slash-separated segments that read as names (no ``+``,
    which base64 has and paths almost never do; two thirds of the segments without capitals
    after the first character)."""
    if "/" not in run or "+" in run:
        return False
    segs = [x for x in run.split("/") if x]
    wordy = sum(1 for x in segs if len(x) >= 2 and not any(ch.isupper() for ch in x[1:]))
    return wordy * 3 >= len(segs) * 2


@lru_cache(maxsize=32)
def _deny_regex(words: tuple) -> Any:
    alts = []
    for w in sorted(words, key=len, reverse=True):
        left = r"\b" if (w[0].isalnum() or w[0] == "_") else ""
        right = r"\b" if (w[-1].isalnum() or w[-1] == "_") else ""
        alts.append(left + re2.escape(w) + right)
    return re2.compile("(?i)(?:" + "|".join(alts) + ")", RE2_OPTIONS)


def _compiled_set(patterns: tuple[tuple[str, int], ...]) -> tuple[Any, list[int]]:
    """One RE2 Set per distinct pattern list, shared by Redactor instances (warm DFA)."""
    s = re2.Set.SearchSet(RE2_OPTIONS)
    owner: list[int] = []
    for pattern, who in patterns:
        s.Add(pattern)
        owner.append(who)
    s.Compile()
    return s._set.Match, owner


def _probably_json(body: bytes) -> bool:
    """Was an untouched line JSON? Object/array lines are taken on their shape (they were not
    parsed: nothing in them could match); anything else is parsed, which is rare and cheap."""
    b = body.strip()
    if b[:1] in (b"{", b"[") and b[-1:] in (b"}", b"]"):
        return True
    try:
        jsonwalk.parse(b)
    except (ValueError, RecursionError):
        return False
    return True
