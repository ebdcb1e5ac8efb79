"""The built-in detector catalogue (written for tracelab; every pattern is RE2 syntax).

A :class:`Detector` is a compiled RE2 pattern plus a cheap prefilter (case-insensitive keywords
or a small regex) and a Python ``accept`` check run on each candidate. The engine puts every
prefilter into one ``re2.Set`` and runs a detector's full pattern only on text where one of its
prefilters occurred, so a string that mentions no credential vocabulary costs one linear DFA pass.

Conventions:

* The span to replace is the named group ``s`` (or ``t`` as an alternative branch); without such
  a group it is the whole match. Context that proves a value is a secret (``Authorization:``,
  ``password=``) stays visible; only the value is replaced.
* ``category`` is ``secret`` (typed marker ``[REDACTED:<kind>]``), ``identity``/``path``
  (keyed pseudonyms) or ``network`` (marker). Secret spans that overlap are merged; identity
  spans never override secrets.
* No lookarounds (RE2 has none): boundaries are consumed as plain characters outside the group.

Every pattern here is compiled by ``google-re2`` (linear time in the input). Python's ``re`` is
not used by any built-in detector; it is only a fallback for user rule files (see
:mod:`tracelab.redact.rules_gitleaks`).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2

from tracelab.redact import checks, names

__all__ = ["Detector", "Candidate", "builtin_detectors", "identity_detectors", "RE2_OPTIONS"]

RE2_OPTIONS = re2.Options()
RE2_OPTIONS.max_mem = 64 << 20  # large alternations (gitleaks generic rules) need more than 8 MiB


_UNANCHORED = re2._Anchor.UNANCHORED


def keyword_pattern(keyword: str) -> str:
    """Case-insensitive prefilter pattern for a keyword.

    ``token`` does not count in ``tokens``: usage counters (``input_tokens``, ``max_tokens``) sit
    on nearly every assistant line and a plural never names a single secret, so counting them
    would send almost every line through the full decode for nothing.
    """
    if keyword == "token":
        return r"(?i)token(?:[^s]|$)"
    return "(?i)" + re2.escape(keyword)


class M:
    """A light match over bytes: spans of all groups plus the pattern's group-name index.

    google-re2's ``finditer`` builds a Python ``_Match`` per hit and maps offsets; matching
    bytes through the low-level ``RE2.Match`` call avoids both.
    """

    __slots__ = ("text", "spans", "gi")

    def __init__(self, text: bytes, spans: list, gi: dict) -> None:
        self.text = text
        self.spans = spans
        self.gi = gi

    def span(self, g: int | str = 0) -> tuple[int, int]:
        if isinstance(g, str):
            idx = self.gi.get(g)
            return (-1, -1) if idx is None else self.spans[idx]
        return self.spans[g]

    def group(self, g: int | str = 0) -> bytes | None:
        s, e = self.span(g)
        return None if s < 0 else self.text[s:e]

    def start(self, g: int | str = 0) -> int:
        return self.span(g)[0]

    def end(self, g: int | str = 0) -> int:
        return self.span(g)[1]


def iter_matches(rx, text: bytes, pos: int = 0, endpos: int | None = None) -> Iterator[M]:
    """Non-overlapping matches of a compiled ``re2`` pattern over ``text[pos:endpos]`` (bytes)."""
    regexp = rx._regexp
    gi = _group_index(rx)
    end = len(text) if endpos is None else endpos
    match = regexp.Match
    while pos <= end:
        spans = match(_UNANCHORED, text, pos, end)
        s, e = spans[0]
        if s < 0:
            return
        yield M(text, spans, gi)
        pos = e if e > s else e + 1


_GROUP_INDEX: dict[int, tuple[object, dict]] = {}  # id -> (regexp kept alive, name -> index)


def _group_index(rx) -> dict:
    hit = _GROUP_INDEX.get(id(rx))
    if hit is None:
        hit = _GROUP_INDEX[id(rx)] = (rx, dict(rx.groupindex))
    return hit[1]


def gspan(m: M, name: str) -> tuple[int, int]:
    return m.span(name)


@dataclass
class Candidate:
    """One match handed to a detector's ``accept``: the text, the match and the chosen span."""

    text: bytes
    match: M
    start: int
    end: int

    @property
    def value(self) -> str:
        return self.text[self.start : self.end].decode("utf-8", "replace")

    def group(self, name: str) -> str | None:
        g = self.match.group(name)
        return None if g is None else g.decode("utf-8", "replace")

    def before(self, n: int) -> str:
        return self.text[max(0, self.start - n) : self.start].decode("utf-8", "replace")

    def after(self, n: int) -> str:
        return self.text[self.end : self.end + n].decode("utf-8", "replace")


Accept = Callable[[Candidate], bool]
#: An accepted span: ``(start, end)`` or ``(start, end, kind)``.
Span = tuple[int, int] | tuple[int, int, str]
#: Custom span extraction, called ``(text, match)`` or, for late detectors, ``(text, match, covered)``.
Extract = Callable[..., Iterable[tuple]]


@dataclass
class Detector:
    """A named pattern with its prefilter and acceptance check."""

    id: str
    kind: str
    pattern: str
    keywords: tuple[str, ...] = ()
    prefilter: str | None = None  # RE2 regex used instead of keywords on decoded strings
    raw_prefilter: str | None = None  # escape-safe variant for raw lines (when no keywords)
    category: str = "secret"
    priority: int = 40
    min_entropy: float = 0.0
    accept: Accept | None = None
    extract: Extract | None = None  # custom span extraction (several spans per match)
    replacement: str = "marker"  # marker | user | email | host
    description: str = ""
    source: str = "builtin"
    late: bool = False  # heuristic: runs after the others and skips spans they already found
    lead_boundary: bool = False  # the span must not follow a word character (a ``\\b`` checked in
    # Python: a leading ``\\b`` in the pattern would disable RE2's literal-prefix acceleration)
    regex: Any = field(default=None, repr=False)  # compiled re2 pattern (re2 ships no type information)

    def compile(self) -> Detector:
        if self.regex is None:
            self.regex = re2.compile(self.pattern, RE2_OPTIONS)
        return self

    def prefilters(self) -> list[str]:
        """Patterns for the prefilter Set over *decoded* strings (any one must occur)."""
        if self.prefilter is not None:
            return [self.prefilter]
        return [keyword_pattern(k) for k in self.keywords]

    def raw_prefilters(self) -> list[str]:
        """Patterns for the prefilter Set over *raw JSON lines*.

        These must survive JSON escaping at any nesting depth, so they are keywords (letters,
        digits, ``-_.=``: never escaped) or ``raw_prefilter``; a structural prefilter that
        mentions quotes, colons or line starts is only used on decoded strings.
        """
        if self.keywords:
            return [keyword_pattern(k) for k in self.keywords]
        if self.raw_prefilter is not None:
            return [self.raw_prefilter]
        return [self.prefilter] if self.prefilter is not None else []

    def find(self, text: bytes, covered: list[tuple] | tuple = ()) -> Iterable[tuple]:
        """Accepted spans in ``text``: ``(start, end)`` or ``(start, end, kind)``.

        ``covered`` holds spans other detectors already found; heuristic ("late") detectors skip
        candidates inside them instead of paying for their randomness checks.
        """
        regex = self.regex if self.regex is not None else self.compile().regex
        match = regex._regexp.Match
        gi = _group_index(regex)
        end = len(text)
        pos = 0
        out: list[tuple] = []
        extract = self.extract
        while pos <= end:
            spans = match(_UNANCHORED, text, pos, end)
            s0, e0 = spans[0]
            if s0 < 0:
                break
            pos = e0 if e0 > s0 else e0 + 1
            m = M(text, spans, gi)
            if extract is not None:
                out.extend(extract(text, m, covered) if self.late else extract(text, m))
                continue
            start, end_ = _span(m)
            if end_ <= start:
                continue
            if covered and _inside(start, end_, covered):
                continue
            if self.lead_boundary and start > 0 and _is_word(text[start - 1]):
                continue
            cand = Candidate(text, m, start, end_)
            if self.min_entropy and checks.shannon_entropy(cand.value) < self.min_entropy:
                continue
            if self.accept is not None and not self.accept(cand):
                continue
            out.append((start, end_))
        return out


def _inside(start: int, end: int, spans) -> bool:
    for sp in spans:
        if sp[0] <= start and end <= sp[1]:
            return True
    return False


def _is_word(byte: int) -> bool:
    return byte == 95 or 48 <= byte <= 57 or 65 <= byte <= 90 or 97 <= byte <= 122


def _span(m: M) -> tuple[int, int]:
    s, e = m.span("s")
    if s >= 0:
        return s, e
    s, e = m.span("t")
    if s >= 0:
        return s, e
    return m.spans[0]


# --------------------------------------------------------------------------------------------
# acceptance helpers


def _not_placeholder(c: Candidate) -> bool:
    return not checks.is_placeholder(c.value, words=False, sequential=False)


def _mixed(min_classes: int = 3, min_digits: int = 1) -> Accept:
    def accept(c: Candidate) -> bool:
        v = c.value
        return (
            not checks.is_placeholder(v, words=False, sequential=False)
            and checks.char_classes(v) >= min_classes
            and sum(ch.isdigit() for ch in v) >= min_digits
        )

    return accept


def _all(*fns: Accept) -> Accept:
    return lambda c: all(f(c) for f in fns)


_GCP_CONTEXT = ("key", "token", "secret", "api", "google", "gcp", "firebase", "gemini", "maps", "credential", "auth", "password", "=")


def _gcp_context(c: Candidate) -> bool:
    """Google API keys are often deliberately public (browser Maps/Firebase keys), so a bare
    ``AIza…`` string is only redacted when something around it says it is being used as a key."""
    if checks.is_placeholder(c.value, words=False, sequential=False):
        return False
    around = (c.before(80) + " " + c.after(40)).lower()
    return any(w in around for w in _GCP_CONTEXT)


def _jwt(c: Candidate) -> bool:
    head = c.value.split(".", 1)[0]
    return checks.decodes_to_jwt_header(head)


def _private_key_body(c: Candidate) -> bool:
    body = c.value
    if checks.MARKER_PREFIX in body:
        return False
    return sum(ch.isalnum() or ch in "+/" for ch in body) >= 32


def _vault(c: Candidate) -> bool:
    v = c.value
    if v.startswith("s."):
        return checks.char_classes(v[2:]) >= 3 and any(ch.isdigit() for ch in v)
    return _not_placeholder(c)


# --------------------------------------------------------------------------------------------
# format detectors: a vendor prefix or structure plus a random body

_TAIL = r"(?:[^A-Za-z0-9_\-]|$)"  # end of a token whose alphabet includes _ and -


def _fmt(
    id: str,
    kind: str,
    pattern: str,
    keywords: Iterable[str] = (),
    *,
    prefilter_re: str | None = None,
    entropy: float = 0.0,
    accept: Accept | None = None,
    desc: str = "",
) -> Detector:
    lead = "\\b(?P<" in pattern
    return Detector(
        id=id,
        kind=kind,
        pattern=pattern.replace("\\b(?P<", "(?P<"),
        keywords=tuple(keywords),
        prefilter=prefilter_re,
        min_entropy=entropy,
        accept=accept or _not_placeholder,
        priority=40,
        description=desc,
        lead_boundary=lead,
    )


def _format_detectors() -> list[Detector]:
    return [
        _fmt(
            "aws-access-key-id",
            "aws_access_key_id",
            r"\b(?P<s>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
            ["akia", "asia", "abia", "acca", "a3t"],
            desc="AWS access key id (AKIA…/ASIA…)",
        ),
        _fmt(
            "aws-bedrock-api-key",
            "aws_bedrock_api_key",
            r"\b(?P<s>ABSK[A-Za-z0-9+/]{109,269}={0,2})(?:[^A-Za-z0-9+/=]|$)|\b(?P<t>bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%_-]{100,})",
            ["absk", "bedrock-api-key-"],
            desc="Amazon Bedrock API key",
        ),
        _fmt(
            "github-token",
            "github_token",
            r"\b(?P<s>gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
            ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            entropy=3.0,
            desc="GitHub classic/fine-grained/OAuth/app tokens",
        ),
        _fmt(
            "gitlab-token",
            "gitlab_token",
            r"\b(?P<s>gl(?:pat|ptt|rt|dt|soat|cbt|imt|ft|agent|oas|ffct|wt)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9]{2}[A-Za-z0-9]{7})?|GR1348941[A-Za-z0-9_-]{20})"
            + _TAIL,
            ["glpat-", "glptt-", "glrt-", "gldt-", "glsoat-", "glcbt-", "glimt-", "glft-", "glagent-", "gloas-", "glffct-", "glwt-", "gr1348941"],
            entropy=3.0,
            desc="GitLab personal/pipeline/runner/deploy tokens",
        ),
        _fmt(
            "bitbucket-token",
            "bitbucket_token",
            r"\b(?P<s>ATBB[A-Za-z0-9_=.-]{28,}|ATATT3[A-Za-z0-9_=\-]{180,}|ATCTT3[A-Za-z0-9_=\-]{180,})",
            ["atbb", "atatt3", "atctt3"],
            entropy=3.0,
            desc="Bitbucket app passwords / Atlassian API tokens",
        ),
        _fmt(
            "openai-api-key",
            "openai_api_key",
            r"\b(?P<s>sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{48})"
            + _TAIL,
            prefilter_re=r"T3BlbkFJ|sk-(?:proj|svcacct|admin|None)-|sk-[A-Za-z0-9]{48}",
            entropy=3.5,
            desc="OpenAI API keys (legacy, project, service account, admin)",
        ),
        _fmt(
            "anthropic-api-key",
            "anthropic_api_key",
            r"\b(?P<s>sk-ant-(?:api|admin|oat|ort|sid)\d{2}-[A-Za-z0-9_-]{80,120}AA)" + _TAIL,
            ["sk-ant-"],
            entropy=3.5,
            desc="Anthropic API / admin / OAuth keys",
        ),
        _fmt("openrouter-api-key", "openrouter_api_key", r"\b(?P<s>sk-or-v1-[a-f0-9]{64})\b", ["sk-or-v1-"], entropy=3.0),
        _fmt(
            "llm-hex-api-key",
            "llm_api_key",
            r"\b(?P<s>sk-[a-f0-9]{32})\b",
            prefilter_re=r"sk-[a-f0-9]{32}",
            entropy=3.0,
            desc="sk- + 32 hex (DeepSeek and other OpenAI-compatible providers)",
        ),
        _fmt("groq-api-key", "groq_api_key", r"\b(?P<s>gsk_[A-Za-z0-9]{52})\b", ["gsk_"], entropy=3.5),
        _fmt("xai-api-key", "xai_api_key", r"\b(?P<s>xai-[A-Za-z0-9]{80})\b", ["xai-"], entropy=3.5),
        _fmt("perplexity-api-key", "perplexity_api_key", r"\b(?P<s>pplx-[A-Za-z0-9]{48})\b", ["pplx-"], entropy=3.5),
        _fmt("replicate-api-token", "replicate_api_token", r"\b(?P<s>r8_[A-Za-z0-9]{37})\b", ["r8_"], entropy=3.5),
        _fmt("huggingface-token", "huggingface_token", r"\b(?P<s>(?:hf_|api_org_)[A-Za-z]{34})\b", ["hf_", "api_org_"], entropy=3.8, accept=_mixed(2, 0)),
        _fmt("langsmith-api-key", "langsmith_api_key", r"\b(?P<s>lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b", ["lsv2_"], entropy=3.0),
        _fmt("fireworks-api-key", "fireworks_api_key", r"\b(?P<s>fw_[A-Za-z0-9]{24})\b", ["fw_"], entropy=3.5, accept=_mixed(3, 2)),
        _fmt("tavily-api-key", "tavily_api_key", r"\b(?P<s>tvly-(?:dev-|prod-)?[A-Za-z0-9]{32})\b", ["tvly-"], entropy=3.5),
        _fmt(
            "slack-token",
            "slack_token",
            r"\b(?P<s>xox[bp]-\d{8,13}-\d{8,13}(?:-\d{8,13})?-[A-Za-z0-9]{24,34}|xox[ar]-\d-[A-Za-z0-9-]{20,}|xox[os]-\d+-\d+-\d+-[a-fA-F0-9]{20,}|xoxe\.xox[bp]-\d-[A-Z0-9]{150,}|xoxe-\d-[A-Z0-9]{140,}|xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{40,})\b",
            ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxo-", "xoxs-", "xoxe", "xapp-"],
            entropy=3.0,
        ),
        _fmt(
            "slack-webhook", "slack_webhook", r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9+/_-]{20,})", ["hooks.slack.com"], entropy=3.0
        ),
        _fmt(
            "stripe-key",
            "stripe_key",
            r"\b(?P<s>(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{20,247}|whsec_[A-Za-z0-9]{32,})\b",
            ["sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk_prod_", "rk_prod_", "whsec_"],
            entropy=3.0,
        ),
        _fmt(
            "twilio-key",
            "twilio_key",
            r"\b(?P<s>SK[0-9a-fA-F]{32}|AC[a-f0-9]{32})\b",
            prefilter_re=r"SK[0-9a-fA-F]{32}|AC[a-f0-9]{32}",
            entropy=3.0,
            accept=_mixed(2, 1),
        ),
        _fmt(
            "sendgrid-api-key",
            "sendgrid_api_key",
            r"\b(?P<s>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})" + _TAIL,
            prefilter_re=r"SG\.[A-Za-z0-9_-]{22}\.",
            entropy=3.5,
        ),
        _fmt("npm-token", "npm_token", r"\b(?P<s>npm_[A-Za-z0-9]{36})\b", ["npm_"], entropy=3.5),
        _fmt("pypi-token", "pypi_token", r"\b(?P<s>pypi-AgE[A-Za-z0-9_-]{50,})", ["pypi-age"], entropy=3.5),
        _fmt(
            "gcp-api-key",
            "gcp_api_key",
            r"\b(?P<s>AIza[0-9A-Za-z_-]{35})" + _TAIL,
            ["aiza"],
            entropy=3.5,
            accept=_gcp_context,
            desc="Google API key, only when used as a key (see README)",
        ),
        _fmt(
            "gcp-oauth-token",
            "gcp_oauth_token",
            r"\b(?P<s>GOCSPX-[A-Za-z0-9_-]{28}|ya29\.[A-Za-z0-9_-]{30,})" + _TAIL + r"|(?:^|[^A-Za-z0-9/])(?P<t>1//0[A-Za-z0-9_-]{40,})",
            ["gocspx-", "ya29.", "1//0"],
            entropy=3.5,
        ),
        _fmt(
            "azure-client-secret",
            "azure_client_secret",
            r"(?:^|[\\'\"`\s>=:(,)~+/])(?P<s>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:$|[\\'\"`\s<),;+/])",
            ["q~"],
            entropy=3.0,
        ),
        _fmt(
            "azure-storage-key",
            "azure_storage_key",
            r"(?i)(?:AccountKey|SharedAccessKey|AccessKey)\s*=\s*(?P<s>[A-Za-z0-9+/]{40,}={0,2})",
            ["accountkey", "sharedaccesskey", "accesskey"],
            entropy=3.5,
        ),
        _fmt(
            "jwt",
            "jwt",
            r"\b(?P<s>eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})",
            ["eyj"],
            accept=_all(_not_placeholder, _jwt),
            desc="JSON Web Token (header must decode to JSON with alg/typ)",
        ),
        _fmt(
            "onepassword-token",
            "onepassword_token",
            r"\b(?P<s>ops_eyJ[A-Za-z0-9+/_-]{100,}={0,3})|\b(?P<t>A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b",
            ["ops_eyj", "a3-"],
            entropy=3.8,
        ),
        Detector(
            id="private-key",
            kind="private_key",
            pattern=r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?P<s>(?s:.)+?)-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?P<t>[\s\\A-Za-z0-9+/=:,-]{32,})",
            keywords=("private key",),
            accept=_private_key_body,
            extract=None,
            priority=45,
            description="PEM/OpenSSH/PGP private key blocks (body replaced, armour lines kept)",
        ),
        _fmt(
            "vault-token",
            "vault_token",
            r"\b(?P<s>hvs\.[A-Za-z0-9_-]{90,120}|hvb\.[A-Za-z0-9_-]{138,300}|s\.[A-Za-z0-9]{24})" + _TAIL,
            prefilter_re=r"hvs\.|hvb\.|s\.[A-Za-z0-9]{24}",
            entropy=3.0,
            accept=_vault,
        ),
        _fmt(
            "notion-token",
            "notion_token",
            r"\b(?P<s>ntn_\d{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})\b",
            ["ntn_", "secret_"],
            entropy=3.5,
            accept=_mixed(3, 2),
        ),
        _fmt("sourcegraph-token", "sourcegraph_token", r"\b(?P<s>sgp_(?:[A-Fa-f0-9]{16}|local)_[A-Fa-f0-9]{40}|sgp_[A-Fa-f0-9]{40})\b", ["sgp_"], entropy=3.0),
        _fmt("intra42-client-secret", "intra42_client_secret", r"\b(?P<s>s-s4t2(?:ud|af)-[a-f0-9]{64})\b", ["s-s4t2"], entropy=3.0),
        _fmt("octopus-deploy-api-key", "octopus_api_key", r"\b(?P<s>API-[A-Z0-9]{26})\b", prefilter_re=r"API-[A-Z0-9]{26}", entropy=3.0, accept=_mixed(2, 2)),
        _fmt(
            "facebook-token",
            "facebook_token",
            r"\b(?P<s>\d{15,16}(?:\||%7C)[A-Za-z0-9_-]{27,40})" + _TAIL + r"|\b(?P<t>EAA[A-Za-z0-9]{100,})",
            prefilter_re=r"\d{15}(?:\||%7C)|EAA[A-Za-z0-9]{50}",
            entropy=3.5,
        ),
        _fmt("mailchimp-api-key", "mailchimp_api_key", r"\b(?P<s>[a-f0-9]{32}-us\d{1,2})\b", prefilter_re=r"[a-f0-9]{8}-us\d", entropy=3.0),
        _fmt("mailgun-api-key", "mailgun_api_key", r"\b(?P<s>key-[a-f0-9]{32})\b", prefilter_re=r"key-[a-f0-9]{32}", entropy=3.0),
        _fmt("digitalocean-token", "digitalocean_token", r"\b(?P<s>do[por]_v1_[a-f0-9]{64})\b", ["dop_v1_", "doo_v1_", "dor_v1_"], entropy=3.0),
        _fmt("shopify-token", "shopify_token", r"\b(?P<s>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b", ["shpat_", "shpca_", "shppa_", "shpss_"], entropy=3.0),
        _fmt("telegram-bot-token", "telegram_bot_token", r"\b(?P<s>\d{8,10}:AA[A-Za-z0-9_-]{33})" + _TAIL, prefilter_re=r"\d:AA[A-Za-z0-9_-]{10}", entropy=3.5),
        _fmt("databricks-token", "databricks_token", r"\b(?P<s>dapi[a-f0-9]{32}(?:-\d)?)\b", ["dapi"], entropy=3.0),
        _fmt(
            "doppler-token",
            "doppler_token",
            r"\b(?P<s>dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b",
            ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
            entropy=3.5,
        ),
        _fmt("linear-api-key", "linear_api_key", r"\b(?P<s>lin_api_[A-Za-z0-9]{40})\b", ["lin_api_"], entropy=3.5),
        _fmt("postman-api-key", "postman_api_key", r"\b(?P<s>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b", ["pmak-"], entropy=3.0),
        _fmt("terraform-token", "terraform_token", r"\b(?P<s>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})" + _TAIL, ["atlasv1"], entropy=3.5),
        _fmt("grafana-token", "grafana_token", r"\b(?P<s>glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})", ["glc_", "glsa_"], entropy=3.5),
        _fmt("sentry-token", "sentry_token", r"\b(?P<s>sntr[ysu]_[A-Za-z0-9+/=_-]{40,})", ["sntry_", "sntrs_", "sntru_"], entropy=3.5),
        _fmt("age-secret-key", "age_secret_key", r"\b(?P<s>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b", ["age-secret-key-1"]),
        _fmt("supabase-token", "supabase_token", r"\b(?P<s>sbp_[a-f0-9]{40})\b", ["sbp_"], entropy=3.0),
        _fmt(
            "firebase-fcm-key",
            "firebase_fcm_key",
            r"\b(?P<s>AAAA[A-Za-z0-9_-]{7}:[A-Za-z0-9_-]{140})" + _TAIL,
            prefilter_re=r"AAAA[A-Za-z0-9_-]{7}:",
            entropy=3.5,
        ),
        _fmt("dropbox-token", "dropbox_token", r"\b(?P<s>sl\.[A-Za-z0-9_-]{130,})", prefilter_re=r"sl\.[A-Za-z0-9_-]{100}", entropy=3.5),
        _fmt("adobe-client-secret", "adobe_client_secret", r"\b(?P<s>p8e-[A-Za-z0-9]{32})\b", ["p8e-"], entropy=3.0),
        _fmt("alibaba-access-key-id", "alibaba_access_key_id", r"\b(?P<s>LTAI[A-Za-z0-9]{20})\b", ["ltai"], entropy=3.0, accept=_mixed(3, 1)),
        _fmt("artifactory-token", "artifactory_token", r"\b(?P<s>AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59})\b", ["akcp", "cmvmd"], entropy=3.5),
    ]


# --------------------------------------------------------------------------------------------
# contextual detectors: a secret-like *name* or protocol slot makes the value a secret

_SECRET_WORDS = (
    r"(?:passw(?:or)?d|passwort|passphrase|pwd|pass|secret|token|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|credentials?|creds|auth|key|cookie|dsn)"
)
_NAME_KEYWORDS = ("passw", "pwd", "pass", "secret", "token", "key", "auth", "cred", "cookie", "dsn")


def _value_ok(level: str, raw_value: str, *, quoted: bool, spaced: bool, op: str) -> bool:
    """Is ``raw_value`` (unquoted) worth redacting under a name of secrecy ``level``?"""
    v = raw_value.strip()
    # The name is the evidence: a named secret is a secret however un-random ("123456789a").
    # Only entropy-based (weak-name) decisions use the sequential-dummy test.
    if checks.is_placeholder(v, words=True, sequential=level == names.WEAK):
        return False
    if " " not in v and (v.startswith(("http://", "https://", "file://")) or _looks_like_path(v)):
        return False  # a path or URL: a reference to where the secret lives, not the secret
    if _TRACELAB_SESSION_KEY.fullmatch(v):
        return False  # tracelab's own session key ("session_key" is a strong name elsewhere)
    if not quoted:
        if op in (":=",) or spaced or op == ":":
            if checks.is_code_reference(v):
                return False
    if level == names.PASSWORD:
        return len(v) >= 4
    if level == names.STRONG:
        if v.count(" ") >= 2:
            return False  # a sentence ("a user facing error message"), not a token
        return len(v) >= 10 and not (not quoted and v.isalpha() and v.islower())
    # weak name: demand a random-looking value, not a compound identifier
    if _is_compound_identifier(v):
        return False
    return len(v) >= 16 and checks.shannon_entropy(v) >= 3.5 and any(ch.isdigit() for ch in v) and any(ch.isalpha() for ch in v)


#: tracelab's own session key (``claude:<uuid>``, a subagent's ``…/agent-…`` after it), which
#: ``session_key`` fields of its exports carry: an identifier, not a secret
_TRACELAB_SESSION_KEY = re2.compile(
    r"(?:claude|codex|pi|gemini|copilot|otel|sts):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:/[A-Za-z0-9_.-]+)*", RE2_OPTIONS
)


def _is_compound_identifier(v: str) -> bool:
    """``setup-uv-1-x86_64-unknown-linux-gnu-…``, ``claude:claude-public-example:msg_…``:
    two or more separator-delimited lowercase words make a name, not a random key."""
    words = 0
    seg: list[str] = []
    for ch in v + "-":
        if ch in "-_.:/ ":
            if len(seg) >= 3 and all("a" <= c <= "z" for c in seg):
                words += 1
            seg = []
        else:
            seg.append(ch)
    return words >= 2


_OPEN_QUOTES = b"\"'`"


def _quoted_values(text: bytes, pos: int) -> list[tuple[int, int]]:
    """Spans of a comma-separated run of quoted strings starting at ``pos`` (``'a', 'b'``)."""
    spans: list[tuple[int, int]] = []
    n = len(text)
    i = pos
    while True:
        while i < n and text[i] in b" \t":
            i += 1
        if i < n and text[i] == 0x5C:  # backslash-escaped quote in text that holds JSON
            i += 1
        if i >= n or text[i] not in _OPEN_QUOTES:
            break
        q = text[i]
        j = text.find(bytes([q]), i + 1)
        nl = text.find(b"\n", i + 1)
        if j < 0 or (0 <= nl < j):
            break
        end = j - 1 if text[j - 1] == 0x5C else j
        spans.append((i + 1, end))
        i = j + 1
        while i < n and text[i] in b" \t":
            i += 1
        if i < n and text[i] == ord(","):
            i += 1
            continue
        break
    return spans


_NAME_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$@-")


def _name_start(text: bytes, pos: int, limit: int = 60) -> int:
    """Extend an identifier that contains a secret word backwards (``DB_`` + ``PASSWORD``)."""
    i = pos
    while i > 0 and pos - i < limit and text[i - 1] in _NAME_CHARS:
        i -= 1
    return i


def _kind_for(level: str) -> str:
    return "password" if level == names.PASSWORD else "secret"


def _assignment_extract(text: bytes, m, covered=()) -> Iterator[tuple]:
    vs, ve = m.span("v")
    if covered and _inside(vs + (1 if text[vs : vs + 1] in (b'"', b"'") else 0), ve, covered):
        return  # the value is already a finding (a format detector saw it)
    ns, ne = m.span("name")
    name = text[_name_start(text, ns) : ne].decode("utf-8", "replace")
    if ne - ns > 60:
        return
    level = names.secret_level(name)
    if level is None:
        return
    op = m.group("op").decode()
    op_start, op_end = gspan(m, "op")
    if op == "=" and op_end < len(text) and text[op_end : op_end + 1] in (b"=", b"~"):
        spaced_cmp = text[op_start - 1 : op_start] in (b" ", b"\t") or text[op_end + 1 : op_end + 2] in (b" ", b"\t", b'"', b"'")
        if spaced_cmp or text[op_end : op_end + 1] == b"~":
            return  # `a == b` comparison / `=~` match; `X==+abc` (unspaced) assigns "=+abc"
    if op == "=" and op_start > 0 and text[op_start - 1 : op_start] in (b"!", b"<", b">", b"="):
        return
    spaced = text[op_start - 1 : op_start] in (b" ", b"\t") or text[op_end : op_end + 1] in (b" ", b"\t")
    vstart, vend = gspan(m, "v")
    first = text[vstart : vstart + 1]
    if first == b"\\":
        first = text[vstart + 1 : vstart + 2]
    if first == b"`":
        return  # `command substitution`, not a literal
    if first in (b'"', b"'"):
        for s, e in _quoted_values(text, vstart):
            value = text[s:e].decode("utf-8", "replace")
            if _value_ok(level, _strip_scheme(value), quoted=True, spaced=spaced, op=op):
                yield (*_skip_scheme(text, s, e), _kind_for(level))
        return
    if (not spaced and op == "=") or op == ":":
        # shell/env/YAML literal: the value runs to whitespace (commas and semicolons included)
        n = len(text)
        while vend < n and text[vend] in b",;" and vend + 1 < n and text[vend + 1] not in b" \t\r\n\"'`&":
            vend += 1
            while vend < n and text[vend] not in b" \t\r\n\"'`,;&)}]>":
                vend += 1
    value = text[vstart:vend].decode("utf-8", "replace")
    if _value_ok(level, value, quoted=False, spaced=spaced, op=op):
        yield vstart, vend, _kind_for(level)


_SCHEMES = (b"bearer ", b"basic ", b"token ", b"bot ", b"digest ", b"api-token ", b"apikey ")


def _strip_scheme(value: str) -> str:
    low = value.lower()
    for s in _SCHEMES:
        if low.startswith(s.decode()):
            return value[len(s) :]
    return value


def _skip_scheme(text: bytes, s: int, e: int) -> tuple[int, int]:
    low = text[s : s + 12].lower()
    for sch in _SCHEMES:
        if low.startswith(sch):
            return s + len(sch), e
    return s, e


def _flag_extract(text: bytes, m) -> Iterator[Span]:
    name = m.group("name").decode("utf-8", "replace")
    level = names.secret_level(name)
    if level is None:
        return
    vstart, vend = gspan(m, "v")
    raw = text[vstart:vend]
    quoted = raw[:1] in (b'"', b"'")
    if quoted:
        vstart, vend = vstart + 1, vend - 1
    value = text[vstart:vend].decode("utf-8", "replace")
    if value.startswith("-") and value.lstrip("-")[:1].isalpha() and value.lstrip("-").replace("-", "").replace("_", "").isalnum():
        return  # the next option (--verbose), not a value
    if _value_ok(level, value, quoted=True, spaced=False, op="="):
        yield vstart, vend, _kind_for(level)


def _header_accept(c: Candidate) -> bool:
    v = c.value
    scheme = (c.group("scheme") or "").lower()
    if checks.is_placeholder(v, words=True):
        return False
    if scheme == "basic":
        return checks.decodes_to_basic_auth(v)
    if len(v) < 8:
        return len(v) >= 6 and checks.char_classes(v) >= 3
    return not (v.isalpha() and v.islower())


def _url_password_accept(c: Candidate) -> bool:
    v = c.value
    colon = c.match.spans[0][0]
    scheme = c.text[max(0, colon - 20) : colon]
    if not scheme[-1:].isalnum():
        return False  # "://" must follow a scheme name (http, postgres, redis+tls, …)
    if len(v) > 256 or len(c.group("user") or "") > 128:
        return False
    user = (c.group("user") or "").lower()
    if checks.is_placeholder(v, words=True) or v.lower() in {"pass", "password", "pwd", "secret", "x-oauth-basic"}:
        return False
    if user in {"user", "username", "<user>", "$user"} and v.lower() in {"pass", "password", "secret"}:
        return False
    if not v.isdigit() or len(v) > 5:  # user:8080@ is a port typo, not a password
        return not _documentation_host(c) or len(v) >= 8
    return False


# Hosts reserved for documentation and tests (RFC 2606 / RFC 6761): no service answers there.
_DOC_HOSTS = ("example.com", "example.org", "example.net")
_AUTHORITY_REST = re2.compile(rb"[^\s/?#\"'<>\\]{0,260}", RE2_OPTIONS)
_DOC_SUFFIXES = (".example", ".test", ".invalid", ".localhost", ".example.com", ".example.org", ".example.net")


def _documentation_host(c: Candidate) -> bool:
    """``scheme://user:pass@example.com``: the URL names a reserved documentation host.

    Such URLs are test vectors and docs (URL-validator fixtures, ``urlize`` tests in the Gemini
    samples): a short ``user:pass`` there (``foo:bar``, ``me:pass``) is an example, not a
    credential. A password of 8 or more characters is still redacted (a real secret pasted into an
    example URL is still a secret; detect-secrets' ``username:whywouldyouusehttpforpasswords``).
    """
    m = _AUTHORITY_REST.match(c.text, c.end)
    # the host follows the *last* '@' of the authority (WHATWG URL parsing: foo:bar@baz@example.com)
    host = (m.group(0) if m else b"").rsplit(b"@", 1)[-1].split(b":", 1)[0]
    h = host.decode("utf-8", "replace").lower().rstrip(".")
    return h in _DOC_HOSTS or h.endswith(_DOC_SUFFIXES)


def _query_accept(c: Candidate) -> bool:
    name = (c.group("name") or "").lower()
    v = c.value
    if checks.is_placeholder(v, words=True):
        return False
    if name in {"key", "code", "state", "sig", "signature"}:
        return len(v) >= 16 and checks.shannon_entropy(v) >= 3.5
    return len(v) >= 8


def _curl_user_extract(text: bytes, m) -> Iterator[tuple[int, int]]:
    s, e = gspan(m, "s")
    word = text[s:e]
    colon = -1
    depth = 0
    for i, ch in enumerate(word):
        if ch in b"{(":
            depth += 1
        elif ch in b"})":
            depth -= 1
        elif ch == ord(":") and depth == 0:
            colon = i
            break
    if colon < 0:
        return
    ps, pe = s + colon + 1, e
    while ps < pe and text[ps] in b"\"'":
        ps += 1
    while pe > ps and text[pe - 1] in b"\"'":
        pe -= 1
    user = word[:colon].strip(b"\"'")
    closer = {b"<": b">", b"[": b"]", b"{": b"}"}.get(user[:1])
    if closer and closer not in user and word.rstrip(b"\"'").endswith(closer):
        return  # <user:password> placeholder
    password = text[ps:pe].decode("utf-8", "replace")
    if not password:
        # "token:" — the credential is the user part (API-key-as-username)
        us, ue = s, s + colon
        while us < ue and text[us] in b"\"'":
            us += 1
        while ue > us and text[ue - 1] in b"\"'":
            ue -= 1
        cand = text[us:ue].decode("utf-8", "replace")
        if len(cand) >= 8 and not checks.is_placeholder(cand) and checks.shannon_entropy(cand) >= 3.0:
            yield us, ue
        return
    low = password.lower()
    if checks.is_placeholder(password, words=True) or low in {"pass", "password", "pwd", "test", "token"}:
        return
    if password.startswith(("$", "{{", "<", "[")) or b"$" in user[:1]:
        return
    if len(password) >= 3:
        yield ps, pe


def _block_extract(text: bytes, m) -> Iterator[Span]:
    """INI continuation lines / YAML nested values under a bare ``password:`` line."""
    name = m.group("name").decode("utf-8", "replace")
    level = names.secret_level(name)
    if level not in (names.PASSWORD, names.STRONG):
        return
    indent = len(m.group("i"))
    bare_ok = m.group("op") == b"=" or m.group("blk") is not None
    pos = m.end()
    n = len(text)
    for _ in range(8):
        if pos >= n or text[pos] != 0x0A:
            break
        line_start = pos + 1
        line_end = text.find(b"\n", line_start)
        if line_end < 0:
            line_end = n
        line = text[line_start:line_end]
        stripped = line.lstrip(b" \t")
        lead = len(line) - len(stripped)
        if not stripped.strip():
            pos = line_end
            continue
        if lead <= indent or stripped.startswith((b"#", b";")):
            if lead <= indent:
                break
            pos = line_end
            continue
        body = stripped.rstrip(b" \t\r")
        start = line_start + lead
        colon = body.find(b": ")
        if colon > 0 and body[:colon].replace(b"_", b"").replace(b"-", b"").isalnum():
            sub = body[:colon].decode("utf-8", "replace")
            if names.secret_level(sub) is None and sub.lower() not in {"secure", "value", "encrypted", "data", "secret"}:
                pos = line_end
                continue
            start += colon + 2
            body = body[colon + 2 :]
        elif not bare_ok or body.endswith(b":") or body.startswith(b"- "):
            pos = line_end
            continue
        value = body.strip(b"\"'").decode("utf-8", "replace")
        if len(value) >= 4 and not checks.is_placeholder(value, words=True, sequential=False):
            q = 1 if body[:1] in (b'"', b"'") else 0
            yield start + q, start + len(body) - q, _kind_for(level)
        pos = line_end


def _xml_extract(text: bytes, m) -> Iterator[Span]:
    level = names.secret_level(m.group("name").decode("utf-8", "replace"))
    if level is None:
        return
    s, e = gspan(m, "s")
    if _value_ok(level, text[s:e].decode("utf-8", "replace"), quoted=True, spaced=False, op="="):
        yield s, e, _kind_for(level)


_CONTEXT_WORD = re2.compile(
    r"(?i)(?:passw(?:or)?d|passphrase|secret|token|api[_.\- ]?key|credentials?|private[_.\- ]?key|access[_.\- ]?key|authorization|auth)", RE2_OPTIONS
)
_TOKEN = re2.compile(r"[A-Za-z0-9+/_~.=-]{20,}", RE2_OPTIONS)


_FILE_EXTENSIONS = frozenset(
    "html htm js mjs cjs ts tsx jsx py rb go rs java kt swift c h cpp hpp cs php sh json jsonl yaml yml toml ini cfg "
    "md txt csv log png jpg jpeg gif svg webp pdf zip gz tgz tar whl lock xml css scss map wasm so dylib dll exe".split()
)


def _wordy(seg: str) -> bool:
    """A path segment like ``Users``, ``user_3f2a9c``, ``tokenizer.js`` (not ``K7MDENG``)."""
    body = seg[1:] if seg[:1].isupper() else seg
    return len(seg) >= 2 and not any(ch.isupper() for ch in body)


def _looks_like_path(v: str) -> bool:
    """``/etc/app/secret.pem``, ``~/.ssh/id_rsa`` — but not a base64 secret that starts with '/'."""
    if not v.startswith(("/", "~/", "./", "../")):
        return False
    segs = [seg for seg in v.split("/") if seg and seg not in ("~", ".", "..")]
    return not segs or sum(_wordy(seg) for seg in segs) * 3 >= len(segs) * 2


def _is_pathish(v: str) -> bool:
    """``a/b/c``-shaped tokens whose segments read like directory/file names."""
    if v.count("/") < 2:
        return False
    segs = [seg for seg in v.split("/") if seg]
    return bool(segs) and sum(_wordy(seg) for seg in segs) * 3 >= len(segs) * 2


def _looks_random(v: str, *, min_len: int = 20) -> bool:
    """Random-looking: upper+lower+digit, enough entropy for its length, not a uuid/path/version."""
    v = v.strip(".=-_~")
    if len(v) < min_len or v.isalpha() or v.islower() or v.isupper():
        return False  # cheap tests first: needs upper, lower and digits
    digits = sum(ch.isdigit() for ch in v)
    if digits < 2 or not any(ch.isupper() for ch in v) or not any(ch.islower() for ch in v):
        return False
    if checks.is_placeholder(v, words=True):
        return False
    if v.startswith(("sha1-", "sha256-", "sha384-", "sha512-")) or "://" in v or v.startswith(("/", "~/", "./")):
        return False
    if _is_pathish(v) or _is_compound_identifier(v):
        return False
    ext = v.rsplit(".", 1)[-1] if "." in v else ""
    if ext.lower() in _FILE_EXTENSIONS:
        return False  # a file name (pi-session-2025-12-08T23-22-21-320Z_0db2eb3b….html)
    return checks.shannon_entropy(v) >= min(4.3, 0.85 * math.log2(len(v)))


def _context_entropy_extract(text: bytes, m, covered=()) -> Iterator[tuple[int, int]]:
    """High-entropy tokens within 60 bytes after a secret word on the same line (prose, logs)."""
    s = m.span("kw")[1]
    if s < len(text) and (65 <= text[s] <= 90 or 97 <= text[s] <= 122):
        return  # "tokenizer", "author", "secretary": the word continues, no secret context
    line_end = text.find(b"\n", s)
    window_end = min(len(text), s + 80, line_end if line_end >= 0 else len(text))
    for t in iter_matches(_TOKEN, text, s, window_end):
        ts, te = t.spans[0]
        if ts == s:
            continue  # glued to the keyword ("api-key-Zm9v…"): part of one identifier
        while ts < te and text[ts] in b".=-_~+":
            ts += 1
        while te > ts and text[te - 1] in b".-_~/":
            te -= 1
        if text[te : te + 3] == b"..." or text[te : te + 3] == "…".encode():
            continue  # elided by a human: "ops_eyJzaWdu..."
        if covered and _inside(ts, te, covered):
            continue
        if _looks_random(text[ts:te].decode("utf-8", "replace")):
            yield ts, te


_ID_NAMES = (
    "id",
    "uuid",
    "guid",
    "hash",
    "sha",
    "digest",
    "checksum",
    "integrity",
    "commit",
    "rev",
    "revision",
    "etag",
    "nonce",
    "version",
    "image",
    "data",
    "content",
    "body",
    "path",
    "url",
    "uri",
    "signature",
    "sig",
    "resolved",
    "ref",
    "tag",
    "name",
    "title",
    "slug",
    "class",
)


def _assign_entropy_accept(c: Candidate) -> bool:
    raw_name = c.group("name") or ""
    if len(raw_name) > 60 or c.end - c.start > 400:
        return False
    if any(ch.islower() for ch in raw_name) and any(ch.isupper() for ch in raw_name):
        return False  # camelCase: a code variable holding test data, not an env/config entry
    name = raw_name.lower()
    words = names.split_words(name)
    if words and (words[-1] in _ID_NAMES or words[0] in _ID_NAMES):
        return False
    return _looks_random(c.value)


def _vendor_accept(c: Candidate) -> bool:
    start = c.match.spans[0][0]
    if start > 0 and _is_word(c.text[start - 1]):
        return False  # the vendor word must start a word
    v = c.value.strip(".=-")
    if len(v) > 200:
        return False
    if checks.is_placeholder(v, words=True):
        return False
    hexy = all(ch in "0123456789abcdefABCDEF" for ch in v)
    uuidish = len(v) == 36 and v.count("-") == 4
    if hexy and len(v) >= 32:
        return checks.shannon_entropy(v) >= 3.0
    if uuidish:
        return True
    return _looks_random(v)


# service names whose tokens have no recognisable prefix of their own
_VENDORS = (
    "sourcegraph|mailchimp|meraki|sumologic|okta|datadog|heroku|cloudflare|newrelic|pagerduty|mailgun|cohere|"
    "mistral|anyscale|pinecone|weaviate|algolia|auth0|mixpanel|amplitude|circleci|vercel|netlify|airtable|"
    "contentful|intercom|zendesk|hubspot|salesforce|braintree|plaid|coinbase|binance|elevenlabs|deepgram|"
    "assemblyai|voyageai|jina|togetherai|snyk|sonarqube|codecov|rollbar|bugsnag|launchdarkly|postmark|mandrill|mapbox"
)


def _contextual_detectors() -> list[Detector]:
    return [
        Detector(
            id="url-credentials",
            kind="url_password",
            pattern=r"://(?P<user>[^\s:/?#@\"'<>\\]+):(?P<s>[^\s/?#@\"'<>\\]+)@[A-Za-z0-9.\-\[\]_%]+",
            keywords=("://",),
            accept=_url_password_accept,
            priority=35,
            description="password in scheme://user:password@host",
        ),
        Detector(
            id="url-query-secret",
            kind="url_secret",
            pattern=r"(?i)[?&](?P<name>access_token|refresh_token|id_token|api_key|apikey|api-key|key|token|secret|client_secret|password|passwd|sig|signature|auth|code|private_token|x-amz-signature|x-amz-security-token)=(?P<s>[^&#\s\"'<>\\]{6,})",
            keywords=("token=", "key=", "secret=", "password=", "passwd=", "sig=", "signature=", "auth=", "code="),
            prefilter=r"(?i)[?&](?:access_token|refresh_token|id_token|api_key|apikey|api-key|key|token|secret|client_secret|password|passwd|sig|signature|auth|code|private_token|x-amz-signature|x-amz-security-token)=[^&#\s\"'<>\\]{6}",
            accept=_query_accept,
            priority=30,
            description="secret-named URL query parameters",
        ),
        Detector(
            id="auth-header",
            kind="auth_header",
            pattern=r"(?i)\b(?:authorization|proxy-authorization|x-[a-z0-9-]*(?:api-?key|token|secret|auth)[a-z0-9-]*|api-?key|api-token|private-token|x-auth-token|x-access-token)\\?[\"']?\s*:\s*\\?[\"']?\s*(?:(?P<scheme>bearer|basic|token|digest|bot|api-token|apikey|sso-key|otp)\s+)?(?P<s>[^\s\"'<>\\,;]{6,})",
            keywords=("authorization", "api-key", "apikey", "api-token", "private-token", "x-auth", "x-access", "token", "secret", "-key"),
            accept=_header_accept,
            priority=35,
            description="HTTP credential headers (Authorization: Bearer …, X-Api-Key: …)",
        ),
        Detector(
            id="cookie-header",
            kind="cookie",
            pattern=r"(?i)\b(?:set-)?cookie\s*:\s*(?P<s>[^\r\n\"']*=[^\r\n\"']{8,})",
            keywords=("cookie",),
            accept=lambda c: not checks.is_placeholder(c.value, words=True),
            priority=30,
            description="Cookie / Set-Cookie header values",
        ),
        Detector(
            id="curl-user",
            kind="curl_credentials",
            pattern=r"\bcurl\b(?:[^\n]|\\\n){0,400}?\s(?:-u|--user)(?:=|[ \t]+)(?P<s>(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s\"']+)+)",
            keywords=("curl",),
            extract=_curl_user_extract,
            priority=35,
            description="curl -u user:password",
        ),
        Detector(
            id="secret-assignment",
            kind="secret",
            pattern=r"(?i)(?P<name>"
            + _SECRET_WORDS
            + r"[A-Za-z0-9_.-]*)\\?[\"']?[ \t]*(?P<op>:=|=>|\?=|=|:)[ \t]*(?:!{1,2}[A-Za-z0-9_:/.-]+[ \t]+)?(?P<v>\\?\"[^\"\n]*|\\?'[^'\n]*|`[^`\n]*`|[^\s'\"`][^\s,;&'\"`)}\]<>]*)",
            keywords=_NAME_KEYWORDS,
            prefilter=r"(?i)" + _SECRET_WORDS + r"[A-Za-z0-9_.-]*\\?[\"']?[ \t]*(?::=|=>|\?=|=|:)[ \t]*[^\s]",
            extract=_assignment_extract,
            priority=30,
            late=True,
            description='NAME=value / name: value / "name": "value" with a secret-like name',
        ),
        Detector(
            id="secret-flag",
            kind="secret",
            pattern=r"(?i)(?:^|[\s\"'`])--?(?P<name>[a-z0-9_-]*" + _SECRET_WORDS + r"[a-z0-9_-]*)(?:=|[ \t]+)(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'`|;&)]+)",
            keywords=_NAME_KEYWORDS,
            prefilter=r"(?i)--?[a-z0-9_-]*" + _SECRET_WORDS + r"[a-z0-9_-]*(?:=|[ \t]+)[^\s]",
            extract=_flag_extract,
            priority=30,
            description="--token VALUE / --password=VALUE command-line options",
        ),
        Detector(
            id="secret-block",
            kind="secret",
            pattern=r"(?im)^(?P<i>[ \t]*)(?:- )?(?P<name>[A-Za-z0-9_.-]*"
            + _SECRET_WORDS
            + r"[A-Za-z0-9_.-]*)[ \t]*(?P<op>[:=])[ \t]*(?P<blk>[|>][-+]?)?[ \t]*$",
            keywords=_NAME_KEYWORDS,
            prefilter=r"(?im)" + _SECRET_WORDS + r"[A-Za-z0-9_.-]*[ \t]*[:=][ \t]*(?:[|>][-+]?)?[ \t]*$",
            extract=_block_extract,
            priority=30,
            description="INI continuation lines / YAML nested values under a secret-named key",
        ),
        Detector(
            id="secret-xml",
            kind="secret",
            pattern=r"(?i)<(?P<name>[A-Za-z0-9_:.-]*(?:passw(?:or)?d|secret|token|apikey|api_key|accesskey|access_key|privatekey|private_key)[A-Za-z0-9_:.-]*)>(?P<s>[^<\n]{4,300})</",
            keywords=("passw", "secret", "token", "apikey", "api_key", "accesskey", "access_key", "privatekey", "private_key"),
            prefilter=r"(?i)<[A-Za-z0-9_:.-]*(?:passw|secret|token|apikey|api_key|accesskey|access_key|privatekey|private_key)[A-Za-z0-9_:.-]*>[^<\n]{4}",
            extract=_xml_extract,
            priority=30,
            description="<password>…</password> style XML elements",
        ),
        Detector(
            id="vendor-token",
            kind="api_key",
            pattern=r"(?i)(?:" + _VENDORS + r")[A-Za-z0-9_ .\-]{0,20}?[\s\"']{0,3}(?:=|:|=>|:=)[\s\"'`]{0,5}(?P<s>[A-Za-z0-9_\-+/=.~]{20,})",
            keywords=tuple(_VENDORS.split("|")),
            accept=_vendor_accept,
            priority=25,
            description="random token assigned next to a service name (sourcegraph: <hex>)",
        ),
        Detector(
            id="high-entropy-context",
            kind="high_entropy",
            pattern="(?i)(?P<kw>" + _CONTEXT_WORD.pattern[4:] + r")(?:[^A-Za-z\n][^\n]*?)?[A-Za-z0-9+/_~.=-]{20}",
            keywords=("passw", "passphrase", "secret", "token", "key", "credential", "auth"),
            prefilter="(?i)" + _CONTEXT_WORD.pattern[4:] + r"[^A-Za-z\n][^\n]*?[A-Za-z0-9+/_~.=-]{20}",
            extract=_context_entropy_extract,
            priority=20,
            late=True,
            description="random-looking token shortly after a secret word on the same line",
        ),
        Detector(
            id="high-entropy-assignment",
            kind="high_entropy",
            pattern=r"(?m)^[ \t]*(?:export[ \t]+|set[ \t]+|const[ \t]+|let[ \t]+|var[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_.]*)[ \t]*[:=][ \t]*[\"']?(?P<s>[A-Za-z0-9+/=_.~-]{20,})[\"']?[ \t;,]*(?:#[^\n]*)?$",
            prefilter=r"(?m)^[ \t]*(?:export[ \t]+|set[ \t]+|const[ \t]+|let[ \t]+|var[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*[ \t]*[:=][ \t]*[\"']?[A-Za-z0-9+/=_.~-]{20}",
            raw_prefilter=r"[A-Za-z_][A-Za-z0-9_.]*[ \t]*[:=][ \t]*(?:\\*[\"'])?[A-Za-z0-9+=_.~-]{20}",
            accept=_assign_entropy_accept,
            priority=20,
            late=True,
            description="line-level NAME=<random base64/alnum> (env files, config dumps)",
        ),
    ]


# --------------------------------------------------------------------------------------------
# identities: emails, home-directory usernames, IP addresses, host names

_EMAIL_SKIP_DOMAINS = ("example.com", "example.org", "example.net", "example.invalid", "localhost")
_EMAIL_SKIP_TLDS = frozenset(
    "png jpg jpeg gif svg webp ico bmp js mjs cjs ts tsx jsx py rb go rs java kt swift c h cc cpp hpp cs php pl sh bash zsh "
    "json yaml yml toml ini cfg conf lock md txt csv tsv xml html htm css scss less map min vue svelte wasm so dll exe bin "
    "tgz gz zip tar bz2 xz whl egg jar war log tmp bak old orig pem crt key pub".split()
)
_EMAIL_SKIP_LOCAL = frozenset({"noreply", "no-reply", "git", "donotreply", "do-not-reply"})


_LOCAL_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")


def _email_extract(text: bytes, m) -> Iterator[tuple[int, int]]:
    """Emails are found from their ``@`` (RE2 then scans at memchr speed); the local part is
    read backwards here."""
    at = m.spans[0][0]
    i = at
    while i > 0 and text[i - 1] in _LOCAL_CHARS and at - i <= 64:
        i -= 1
    while i < at and text[i] in b".-+":
        i += 1
    if i == at or at - i > 64:
        return
    s, e = i, m.span("dom")[1]
    if len(m.group("dom")) > 253:
        return
    if _email_accept(Candidate(text, m, s, e)):
        yield s, e


def _email_accept(c: Candidate) -> bool:
    v = c.value.lower()
    local, _, domain = v.rpartition("@")
    if not local or not domain:
        return False
    if domain.endswith((".invalid", ".test", ".example", ".localhost")) or domain in _EMAIL_SKIP_DOMAINS:
        return False
    if domain.rsplit(".", 1)[-1] in _EMAIL_SKIP_TLDS:
        return False
    if local in _EMAIL_SKIP_LOCAL:
        return False
    return not local.startswith("user_") or len(local) != 11


_GENERIC_ACCOUNTS = frozenset(
    {
        "root",
        "user",
        "users",
        "admin",
        "ubuntu",
        "runner",
        "vscode",
        "node",
        "codespace",
        "codespaces",
        "ec2-user",
        "debian",
        "linuxbrew",
        "circleci",
        "jenkins",
        "git",
        "travis",
        "appveyor",
        "shared",
        "public",
        "default",
        "all users",
        "guest",
        "me",
        "you",
        "username",
        "yourname",
        "your-username",
        "your_username",
        "name",
        "myuser",
        "someone",
        "somebody",
        "foo",
        "bar",
        "test",
        "tester",
        "dev",
        "developer",
        "app",
        "docker",
        "build",
        "builder",
        "vagrant",
        "pi",
        "steam",
        "www-data",
        "nobody",
        "home",
        "library",
        "applications",
        "system",
        "volumes",
        "tmp",
        "agent",
        "runneradmin",
        "synthetic",
        "sandbox",
        "coder",
        "workspace",
        "project",
    }
)


def is_pseudonym(name: str) -> bool:
    return name.startswith("user_") and len(name) == 11 and all(ch in "0123456789abcdef" for ch in name[5:])


def username_ok(name: str) -> bool:
    """A home-directory component worth pseudonymising (not a placeholder/system account)."""
    n = name.strip()
    if not n or len(n) < 2 or n.lower() in _GENERIC_ACCOUNTS or is_pseudonym(n):
        return False
    if n[0] in "$<{%*.[~" or n.endswith(("}", ">", "%", "*")):
        return False
    return not n.startswith("...")


def _home_accept(c: Candidate) -> bool:
    return username_ok(c.value)


# Well-known public resolvers and the broadcast address identify nobody; documentation ranges
# (RFC 5737 / RFC 3849) are examples by definition.
_PUBLIC_SERVICE_IPS = frozenset(
    {
        "255.255.255.255",
        "8.8.8.8",
        "8.8.4.4",
        "1.1.1.1",
        "1.0.0.1",
        "9.9.9.9",
        "149.112.112.112",
        "208.67.222.222",
        "208.67.220.220",
        "2001:4860:4860::8888",
        "2001:4860:4860::8844",
        "2606:4700:4700::1111",
    }
)
_DOC_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))


def _ip_accept(c: Candidate) -> bool:
    v = c.value
    before = c.text[max(0, c.start - 1) : c.start]
    after = c.text[c.end : c.end + 2]
    if before and (before.isalnum() or before in b".-_/") and before != b"/":
        return False
    if before == b"/" and c.text[max(0, c.start - 2) : c.start - 1].isalpha():
        return False  # Chrome/120.0.0.0 style version strings
    if after[:1] in (b".", b"-") and after[1:2].isdigit():
        return False
    if after[:1].isalnum():
        return False
    try:
        ip = ipaddress.ip_address(v)
    except ValueError:
        return False
    if ip.is_loopback or ip.is_unspecified or str(ip) in _PUBLIC_SERVICE_IPS:
        return False
    if any(ip in net for net in _DOC_NETS):
        return False
    if ip.version == 6:
        groups = [g for g in v.split(":") if g]
        return len(groups) >= 4 or (v.count("::") == 1 and len(groups) >= 3)
    return not v.startswith("0.")


_PUBLIC_HOST_SUFFIXES = (
    "github.com",
    "githubusercontent.com",
    "gitlab.com",
    "bitbucket.org",
    "anthropic.com",
    "claude.ai",
    "openai.com",
    "google.com",
    "googleapis.com",
    "gstatic.com",
    "microsoft.com",
    "azure.com",
    "amazonaws.com",
    "cloudflare.com",
    "pypi.org",
    "python.org",
    "npmjs.com",
    "npmjs.org",
    "yarnpkg.com",
    "nodejs.org",
    "rust-lang.org",
    "crates.io",
    "golang.org",
    "go.dev",
    "docker.com",
    "docker.io",
    "debian.org",
    "ubuntu.com",
    "apple.com",
    "mozilla.org",
    "wikipedia.org",
    "stackoverflow.com",
    "readthedocs.io",
    "huggingface.co",
    "example.com",
    "example.org",
    "example.net",
    "example.invalid",
    "w3.org",
    "schema.org",
    "json-schema.org",
    "shields.io",
    "jsdelivr.net",
    "unpkg.com",
    "vercel.app",
    "netlify.app",
    "slack.com",
    "x.com",
    "twitter.com",
    "youtube.com",
    "apache.org",
)


def _host_accept(c: Candidate) -> bool:
    v = c.value.lower().rstrip(".")
    if v.endswith(".invalid") or v.startswith("host-"):
        return False
    if any(v == s or v.endswith("." + s) for s in _PUBLIC_HOST_SUFFIXES):
        return False
    before = c.text[max(0, c.start - 1) : c.start]
    return before not in (b"@", b".", b"-", b"_") and not before.isalnum()


def identity_detectors(*, emails: bool, ip_addresses: bool, hostnames: bool, home_paths: bool) -> list[Detector]:
    """Detectors for personal data; each family can be switched off by the policy."""
    return list(_identity_compiled(emails, ip_addresses, hostnames, home_paths))


@lru_cache(maxsize=16)
def _identity_compiled(emails: bool, ip_addresses: bool, hostnames: bool, home_paths: bool) -> tuple[Detector, ...]:
    out: list[Detector] = []
    if emails:
        out.append(
            Detector(
                id="email",
                kind="email",
                category="identity",
                pattern=r"@(?P<dom>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24})\b",
                keywords=("@",),
                extract=_email_extract,
                priority=13,  # above usernames: a known name inside an address must not split it
                replacement="email",
                description="email addresses (keyed pseudonym user_<h>@example.invalid)",
            )
        )
    if home_paths:
        out.append(
            Detector(
                id="home-path",
                kind="username",
                category="path",
                pattern=r"(?:/Users/|/home/|/var/home/|/export/home/|[A-Za-z]:\\{1,2}Users\\{1,2}|[A-Za-z]:/Users/|\\\\Users\\\\)(?P<s>[A-Za-z0-9._\-][^/\\\s\"'<>:*?|,;()\[\]{}`]{0,63})",
                keywords=("/users/", "/home/", "users\\"),
                accept=_home_accept,
                priority=12,
                replacement="user",
                description="username in /Users/<name>, /home/<name>, C:\\Users\\<name>",
            )
        )
        out.append(
            Detector(
                id="encoded-home-path",
                kind="username",
                category="path",
                pattern=r"(?:^|[/\\\s\"'=_])-(?:Users|home)-(?P<s>[A-Za-z0-9._]{2,64})(?:-|$|/|\")",
                keywords=("-users-", "-home-"),
                accept=_home_accept,
                priority=11,
                replacement="user",
                description="username in Claude Code's encoded project dirs (-Users-<name>-…)",
            )
        )
    if ip_addresses:
        out.append(
            Detector(
                id="ip-address",
                kind="ip_address",
                category="network",
                pattern=r"(?P<s>(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})\b|(?P<t>(?i:[0-9a-f]{0,4}:){2,7}(?i:[0-9a-f]{1,4}))",
                prefilter=r"\d\.\d{1,3}\.\d{1,3}\.\d|(?i:[0-9a-f]{1,4}:[0-9a-f]{0,4}:[0-9a-f]{0,4}:)",
                accept=_ip_accept,
                priority=8,
                description="IPv4/IPv6 addresses other than loopback/unspecified",
            )
        )
    if hostnames:
        out.append(
            Detector(
                id="hostname",
                kind="hostname",
                category="network",
                pattern=r"(?i)\b(?P<s>(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:com|net|org|io|dev|ai|co|app|cloud|internal|local|corp|lan|intra|intranet|home|localdomain|int|priv|private|us|uk|de|fr|eu|info|biz|tech|sh|xyz))\b",
                keywords=(
                    ".com",
                    ".net",
                    ".org",
                    ".io",
                    ".dev",
                    ".ai",
                    ".co",
                    ".app",
                    ".cloud",
                    ".internal",
                    ".local",
                    ".corp",
                    ".lan",
                    ".intra",
                    ".home",
                    ".int",
                    ".priv",
                    ".private",
                    ".us",
                    ".uk",
                    ".de",
                    ".fr",
                    ".eu",
                    ".info",
                    ".biz",
                    ".tech",
                    ".sh",
                    ".xyz",
                ),
                accept=_host_accept,
                priority=6,
                replacement="host",
                description="host names outside a public allowlist (off by default)",
            )
        )
    return tuple(d.compile() for d in out)


@lru_cache(maxsize=1)
def _builtin_compiled() -> tuple[Detector, ...]:
    return tuple(d.compile() for d in _format_detectors() + _contextual_detectors())


def builtin_detectors() -> list[Detector]:
    """The built-in secret detectors (formats first, then contextual), compiled once per process.

    The returned objects are shared between :class:`~tracelab.redact.engine.Redactor` instances
    (never mutated after compilation), so RE2's lazily built DFAs stay warm across instances.
    """
    return list(_builtin_compiled())
