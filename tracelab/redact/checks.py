"""Cheap value checks shared by the detectors: entropy, placeholders, code references, decoders.

A regex says *where* something credential-shaped is; these functions decide whether the thing
found is worth redacting. They are deliberately plain Python over short strings (a candidate is at
most a few hundred characters), so their cost is negligible next to the regex pass.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import Counter

__all__ = [
    "shannon_entropy",
    "is_placeholder",
    "has_sequential_run",
    "longest_repeat_run",
    "is_code_reference",
    "char_classes",
    "decodes_to_basic_auth",
    "decodes_to_jwt_header",
    "MARKER_PREFIX",
]

#: Every marker the redactor writes starts with this; a value containing it was already redacted.
MARKER_PREFIX = "[REDACTED:"


_CLOG2C = [0.0] + [c * math.log2(c) for c in range(1, 4096)]


def shannon_entropy(value: str) -> float:
    """Shannon entropy in bits per character (0 for the empty string).

    Computed as ``log2(n) - sum(c*log2(c))/n`` over the character counts, with ``c*log2(c)``
    from a table (this runs once per candidate token).
    """
    n = len(value)
    if not n:
        return 0.0
    counts = Counter(value).values()
    if n < 4096:
        return max(0.0, math.log2(n) - sum(map(_CLOG2C.__getitem__, counts)) / n)
    return -sum(c / n * math.log2(c / n) for c in counts)


def longest_repeat_run(value: str) -> int:
    """Length of the longest run of one repeated character ("xxxx" → 4)."""
    return _repeat(value)[0]


def _repeat(value: str) -> tuple[int, str]:
    best = run = 0
    best_ch = ""
    prev = None
    for ch in value:
        run = run + 1 if ch == prev else 1
        prev = ch
        if run > best:
            best, best_ch = run, ch
    return best, best_ch


_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "9876543210")
_SEQ_WINDOWS = {n: frozenset(seq[i : i + n] for seq in _SEQUENCES for i in range(len(seq) - n + 1)) for n in range(4, 11)}


def has_sequential_run(value: str, length: int = 8) -> bool:
    """True if ``value`` contains ``length`` consecutive characters of 0-9 or a-z in order.

    Hand-typed dummies ("dapi1234567890…", "abcdefghijklmnop") contain such runs; a random token of
    a few dozen characters essentially never does (probability ~1e-12 per position).
    """
    low = value.lower()
    windows = _SEQ_WINDOWS[length]
    return any(low[i : i + length] in windows for i in range(len(low) - length + 1))


# Words that only ever appear in documentation values, never in issued credentials.
_PLACEHOLDER_WORDS = (
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yourpassword",
    "yoursecret",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "replace_me",
    "replaceme",
    "insert_",
    "dummy",
    "<",
    "xxxx",
    "****",
    "....",
    "…",
    "####",
)

_PLACEHOLDER_PREFIXES = ("${", "$(", "{{", "#{", "`", "&lt;", "process.env", "os.environ", "env.", "secrets.")

# Whole values that are clearly not secrets however they are assigned.
_PLACEHOLDER_VALUES = frozenset(
    {
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "password",
        "passwd",
        "secret",
        "token",
        "string",
        "str",
        "bytes",
        "optional",
        "required",
        "example",
        "test",
        "testing",
        "pass",
        "admin",
        "root",
        "empty",
        "unset",
        "hidden",
        "masked",
        "foobar",
        "foo",
        "bar",
        "baz",
        "qux",
        "value",
        "secretvalue",
        "mysecret",
        "mypassword",
        "secret123",
        "password123",
        "abc123",
        "123456",
        "12345678",
        "sk-...",
    }
)


# For password values only the words that name the field itself count as placeholders
# ("password=password"); "hunter2" or "123456" are (weak) passwords and are redacted.
_DOC_WORD_VALUES = frozenset(
    {
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "password",
        "passwd",
        "secret",
        "token",
        "string",
        "str",
        "bytes",
        "optional",
        "required",
        "example",
        "empty",
        "unset",
        "hidden",
        "masked",
        "value",
    }
)


def _is_variable(v: str) -> bool:
    """``$NAME``, ``%NAME%``, ``%s``, ``@NAME@``, ``<your key>`` — a slot, not a value."""
    first = v[0]
    if first == "$":
        rest = v[1:]
        return not rest or rest.replace("_", "").isalnum() and not any(ch.isdigit() for ch in rest[:1]) or rest.isdigit()
    if first == "%":
        return (len(v) >= 3 and v.endswith("%") and v[1:-1].replace("_", "").isalnum()) or (len(v) <= 3 and v[1:2].isalpha())
    if first == "@":
        return len(v) >= 3 and v.endswith("@") and v[1:-1].replace("_", "").isalnum()
    if first == "<":
        return v.endswith(">") or ">" in v
    return False


def is_placeholder(value: str, *, words: bool = True, sequential: bool = True) -> bool:
    """True if ``value`` looks like a documentation placeholder rather than a real credential.

    ``words=False`` applies only the structural tests (repeated runs, sequences, variables,
    markers); format detectors use that mode, because a vendor prefix plus a random body is never
    a doc word, while e.g. AWS's published example keys legitimately contain "EXAMPLE".
    ``sequential=False`` keeps "12345678"-style values: a weak password is still a password.
    """
    v = value.strip().strip("\"'")
    if not v:
        return True
    if MARKER_PREFIX in v or "[redacted" in v.lower():
        return True
    if v.startswith(_PLACEHOLDER_PREFIXES) or _is_variable(v):
        return True
    if v.startswith("{"):
        inner = v[1:].split("}", 1)[0]
        if inner.replace("_", "").replace("-", "").replace(".", "").isalpha():
            return True  # {SumoAccessKey} / {api-key} template slot
    if v.endswith(("...", "…")):
        return True
    run, ch = _repeat(v)
    if run >= 6 and (ch in "xX*#0._-" or run * 10 >= len(v) * 3):
        return True  # "xxxxxx", "******", "000000…" (a random token may hold "666666")
    if sequential and has_sequential_run(v):
        return True
    if len(set(v)) <= 2:
        return True
    if not words:
        return False
    low = v.lower()
    if low in (_PLACEHOLDER_VALUES if sequential else _DOC_WORD_VALUES):
        return True
    return any(w in low for w in _PLACEHOLDER_WORDS)


def char_classes(value: str) -> int:
    """Number of character classes present: lower, upper, digit, other."""
    lower = upper = digit = other = 0
    for ch in value:
        if ch.islower():
            lower = 1
        elif ch.isupper():
            upper = 1
        elif ch.isdigit():
            digit = 1
        else:
            other = 1
    return lower + upper + digit + other


_TYPE_NAMES = frozenset({"str", "string", "int", "bool", "boolean", "number", "any", "bytes", "object", "unknown", "never", "void"})


def is_code_reference(value: str) -> bool:
    """True if an unquoted assignment value reads as code (a variable, call or attribute).

    ``token = self.token``, ``password = get_password()``, ``api_key: str`` are references to
    values, not values. Literals in code are quoted; unquoted literals in shell/ini/env files are
    handled by the caller (an operator without surrounding spaces means a literal).
    """
    v = value.strip()
    if not v:
        return True
    if v.lower() in _TYPE_NAMES:
        return True
    if "(" in v or "[" in v:
        return True
    head = v.split(".")[0]
    if head in {
        "self",
        "this",
        "cls",
        "os",
        "process",
        "config",
        "settings",
        "env",
        "args",
        "opts",
        "options",
        "req",
        "request",
        "ctx",
        "context",
        "params",
        "data",
        "props",
        "window",
        "document",
    }:
        return True
    # letters/underscores/dots only, no digits: an identifier or dotted name
    return all(ch.isalpha() or ch in "_." for ch in v)


def _b64decode(value: str, *, urlsafe: bool) -> bytes | None:
    pad = "=" * (-len(value) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(value + pad)
        return base64.b64decode(value + pad, validate=True)
    except (binascii.Error, ValueError):
        return None


def decodes_to_basic_auth(value: str) -> bool:
    """True if ``value`` is plausibly the base64 ``user:password`` an HTTP Basic header carries.

    A value outside the base64 alphabet (e.g. a JWT, which has dots) is not; a decodable value
    must contain a colon among mostly printable characters.
    """
    if not value or any(ch not in _B64 for ch in value):
        return False
    raw = _b64decode(value.rstrip("="), urlsafe=False)
    if raw is None:
        return False
    text = raw.decode("latin-1")
    printable = sum(ch.isprintable() for ch in text)
    return ":" in text and printable >= 0.8 * len(text)


_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def decodes_to_jwt_header(segment: str) -> bool:
    """True if a JWT's first segment decodes to a JSON object with an ``alg`` or ``typ`` field."""
    raw = _b64decode(segment, urlsafe=True)
    if raw is None:
        return False
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and ("alg" in header or "typ" in header or "enc" in header)
