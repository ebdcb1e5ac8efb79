"""Is this identifier the name of a secret? (``DB_PASSWORD`` yes, ``max_tokens`` no.)

Used for ``KEY=value`` assignments, ``--flag value`` options, XML elements, YAML/INI blocks and,
structurally, for JSON object keys. The answer is a *level* that sets how much evidence the value
needs before it is redacted:

``password``  any non-placeholder value of 4+ characters (passwords are often short and plain)
``strong``    any non-placeholder value of 10+ characters (secret, token, api key, credential …)
``weak``      only high-entropy values (a bare ``key`` or ``auth`` is usually not a secret name)

Names are split into words (``apiKeyId`` → api, key, id; ``DB_PASSWORD`` → db, password) and the
*last* word decides exclusions: ``token_count``, ``secret_name`` and ``api_key_id`` describe a
secret without holding one. Results are memoised; the set of distinct names in a trace is small.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["secret_level", "split_words", "PASSWORD", "STRONG", "WEAK"]

PASSWORD = "password"
STRONG = "strong"
WEAK = "weak"

_PASSWORD_SUBSTR = ("password", "passwd", "passphrase", "passwort")
_PASSWORD_WORDS = frozenset({"pass", "pwd", "pword", "passcode"})
_STRONG_SUBSTR = (
    "secret",
    "token",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "credential",
    "authkey",
    "sessionkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "clientsecret",
    "authorization",
    "bearer",
)
_STRONG_WORDS = frozenset({"creds", "cred", "dsn", "connstr", "connectionstring", "cookie", "jwt", "psk", "totp"})

#: Literal words at least one of which occurs in every name :func:`secret_level` accepts — the
#: raw-line prefilter for secret-named JSON keys uses them.
NAME_KEYWORDS = (
    "passw",
    "passphrase",
    "pass",
    "pwd",
    "pword",
    "secret",
    "token",
    "key",
    "cred",
    "auth",
    "bearer",
    "dsn",
    "connstr",
    "connectionstring",
    "cookie",
    "jwt",
    "psk",
    "totp",
)
# "<qualifier> key" pairs that name a secret key (api key, access key, private key, …)
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "access",
        "secret",
        "private",
        "auth",
        "session",
        "signing",
        "encryption",
        "encrypt",
        "master",
        "app",
        "client",
        "account",
        "license",
        "subscription",
        "service",
        "admin",
        "root",
        "hmac",
        "aes",
        "shared",
        "webhook",
        "deploy",
        "ssh",
        "gpg",
        "pgp",
        "rsa",
        "ed25519",
        "storage",
        "sas",
        "sk",
    }
)
# "<qualifier> key" pairs that name something that is not a secret
_NON_SECRET_KEY_QUALIFIERS = frozenset(
    {
        "public",
        "pub",
        "cache",
        "sort",
        "partition",
        "primary",
        "foreign",
        "unique",
        "hot",
        "shortcut",
        "lookup",
        "map",
        "dict",
        "object",
        "row",
        "column",
        "index",
        "group",
        "idempotency",
        "dedup",
        "dedupe",
        "query",
        "route",
        "i18n",
        "translation",
        "composite",
        "natural",
        "surrogate",
        "react",
        "list",
        "item",
        "cursor",
        "range",
        "hash",
        "sharding",
        "shard",
        "bucket",
        "schema",
        "config",
        "setting",
        "settings",
        "env",
        "registry",
        "metric",
        "label",
        "field",
        "message",
        "event",
        "json",
        "yaml",
        "toml",
        "local",
        "storage",
    }
)
_LAST_WORD_EXCLUDED = frozenset(
    {
        "id",
        "ids",
        "name",
        "names",
        "type",
        "types",
        "kind",
        "count",
        "counts",
        "num",
        "number",
        "length",
        "len",
        "size",
        "file",
        "files",
        "filename",
        "path",
        "paths",
        "dir",
        "url",
        "uri",
        "endpoint",
        "host",
        "field",
        "fields",
        "env",
        "var",
        "variable",
        "ref",
        "prefix",
        "suffix",
        "format",
        "pattern",
        "regex",
        "header",
        "label",
        "hint",
        "placeholder",
        "policy",
        "mode",
        "expiry",
        "expires",
        "expiration",
        "expired",
        "ttl",
        "timeout",
        "limit",
        "limits",
        "max",
        "min",
        "usage",
        "budget",
        "index",
        "idx",
        "hash",
        "digest",
        "version",
        "scope",
        "scopes",
        "provider",
        "store",
        "manager",
        "service",
        "handler",
        "helper",
        "class",
        "schema",
        "validator",
        "validation",
        "rotation",
        "required",
        "enabled",
        "disabled",
        "error",
        "errors",
        "message",
        "msg",
        "status",
        "state",
        "input",
        "output",
        "stdin",
        "location",
        "source",
        "config",
        "settings",
        "option",
        "options",
        "flag",
        "flags",
        "width",
        "height",
        "color",
        "style",
        "button",
        "form",
        "dialog",
        "modal",
        "text",
        "tooltip",
        "icon",
        "link",
        "page",
        "reset",
        "changed",
        "change",
        "strength",
        "rules",
        "rule",
        "check",
        "checks",
        "verify",
        "verified",
        "valid",
        "invalid",
        "set",
        "exists",
        "present",
        "missing",
        "prompt",
        "visible",
        "visibility",
        "toggle",
        "mask",
        "masked",
        "hidden",
        "date",
        "time",
        "timestamp",
        "at",
        "by",
        "algorithm",
        "alg",
        "method",
        "methods",
        "command",
        "cmd",
        "script",
        "fn",
        "func",
        "function",
        "callback",
        "cb",
        "list",
        "lifetime",
        "duration",
        "generator",
        "factory",
        "util",
        "utils",
        "module",
        "test",
        "tests",
        "spec",
        "mock",
        "fixture",
        "example",
        "sample",
        "dummy",
        "fake",
        "stub",
        "bits",
        "bytes",
        "encoding",
        "encoded",
        "hashed",
        "sha",
        "sha1",
        "sha256",
        "md5",
        "fingerprint",
        "storage",
        "cache",
        "user",
        "username",
        "login",
        "account",
        "email",
        "owner",
        "issuer",
        "audience",
        "subject",
        "region",
        "zone",
        "project",
        "org",
        "team",
        "level",
        "tier",
        "plan",
        "quota",
        "rate",
        "window",
        "remaining",
        "used",
        "total",
        "cost",
        "price",
        "estimate",
        "estimated",
    }
)
_PLURAL_EXCLUDED = frozenset({"tokens", "secrets", "keys", "passwords", "credentials_list", "creds_list", "cookies"})
_WORD_EXCLUDED = frozenset(
    {
        "tokenizer",
        "tokenize",
        "tokenized",
        "tokenizing",
        "tokenization",
        "keyboard",
        "keyword",
        "keywords",
        "monkey",
        "turkey",
        "donkey",
        "hotkey",
        "keystroke",
        "keypress",
        "keydown",
        "keyup",
        "keymap",
        "keybinding",
        "keybindings",
        "author",
        "authors",
        "authority",
        "authorities",
        "authenticated",
        "authentication",
        "authenticate",
        "authenticator",
        "authorize",
        "authorized",
        "authorizer",
        "csrf",
        "xsrf",
        "publickey",
        "pubkey",
        "pagination",
        "continuation",
        "bypass",
        "compass",
        "passenger",
        "passive",
        "passthrough",
        "passport",
        "password_hash",
        "secretary",
        "secretion",
        "tokenusage",
        "hashed",
        "hash",
        "digest",
        "checksum",
        "fingerprint",
        "md5",
        "sha1",
        "sha256",
        "sha512",
    }
)
_CONTEXT_EXCLUDED = frozenset({"page", "cursor", "next", "prev", "previous", "sync", "continuation", "public", "pub", "max", "min", "num", "total"})


def split_words(name: str) -> list[str]:
    """Split an identifier into lowercase words on separators and camelCase boundaries."""
    words: list[str] = []
    cur: list[str] = []

    def flush() -> None:
        if cur:
            words.append("".join(cur).lower())
            cur.clear()

    n = len(name)
    for i, ch in enumerate(name):
        if not ch.isalnum():
            flush()
            continue
        if cur:
            prev = cur[-1]
            if ch.isupper() and prev.islower():
                flush()
            elif ch.isupper() and prev.isupper() and i + 1 < n and name[i + 1].islower():
                flush()
        cur.append(ch)
    flush()
    return words


@lru_cache(maxsize=8192)
def secret_level(name: str) -> str | None:
    """Level (``password``/``strong``/``weak``) if ``name`` names a secret, else ``None``."""
    if not name or len(name) > 120:
        return None
    words = split_words(name)
    if not words:
        return None
    last = words[-1]
    if last in _LAST_WORD_EXCLUDED or last in _PLURAL_EXCLUDED:
        return None
    if any(w in _WORD_EXCLUDED for w in words):
        return None
    joined = "".join(words)
    if "publickey" in joined or "pubkey" in joined:
        return None
    if any(w in _CONTEXT_EXCLUDED for w in words) and ("token" in joined or "key" in joined):
        return None
    if words == ["pass"]:
        return None  # "PASS:" in test output; DB_PASS=, pass_word= still count
    if any(s in w for w in words for s in _PASSWORD_SUBSTR) or any(w in _PASSWORD_WORDS for w in words):
        return PASSWORD
    if any(s in w for w in words for s in _STRONG_SUBSTR) or any(w in _STRONG_WORDS for w in words):
        return STRONG
    for i, w in enumerate(words):
        if w == "key" or w.endswith("key"):
            qualifier = words[i - 1] if i else (w[:-3] if len(w) > 3 else "")
            if qualifier in _NON_SECRET_KEY_QUALIFIERS:
                return None
            if qualifier in _KEY_QUALIFIERS:
                return STRONG
    if "key" in words or "auth" in words or "apikey" in words:
        return WEAK
    return None
