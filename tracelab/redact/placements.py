"""Planted secrets in the placements that test the redact -> check gate (issue 19).

:func:`placed` puts a secret of one of the benchmark's kinds (:data:`tracelab.redact.bench.SECRET_KINDS`)
into a tool-result text in one of four :data:`PLACEMENTS`: JSON-escaped in its usual context,
nested in JSON inside a string, spliced into a base64 blob, inside a URL. Kinds without a format of
their own (:data:`UNFORMATTED`) only go where a slot names them. Used by
``tests/test_redact_gate_properties.py`` (hypothesis) and ``benchmarks/redact_bench.py``.
"""

from __future__ import annotations

import base64
import json
import random
from urllib.parse import quote

from tracelab.redact.bench import SECRET_KINDS, Kind, _context_text, _Gen

__all__ = ["KINDS", "PLACEMENTS", "UNFORMATTED", "blob", "formatted", "placed", "planted_secret"]

PLACEMENTS = ("escaped", "nested", "base64_blob", "url")
KINDS = [k for k in SECRET_KINDS if k.name not in ("private_key",)]  # multi-line: no single value to splice


# kinds whose value alone says what it is (a vendor prefix or structure); the others (passwords,
# bare AWS secret keys, generic hex/base64 keys, bearer bodies) are only secrets by their slot
UNFORMATTED = {"aws_secret_access_key", "password", "url_password", "generic_api_key", "bearer_token", "gcp_api_key"}


def formatted(kind: Kind) -> bool:
    return kind.name not in UNFORMATTED


def _contexts(kind: Kind) -> list[str]:
    # bare Google API keys in prose are not redacted by design (public browser keys; README)
    return [c for c in kind.contexts if (kind.name, c) != ("gcp_api_key", "prose_bare")]


def blob(rng: random.Random, value: str) -> str:
    """A base64 blob with ``value`` spliced in: random base64 on both sides, joined by the base64
    characters ``+`` or ``/`` (a value glued to letters or digits on both sides cannot be told
    from the blob's own random characters: a detector needs a boundary; see the README)."""
    left = base64.b64encode(rng.randbytes(rng.randrange(12, 90))).decode().rstrip("=")
    right = base64.b64encode(rng.randbytes(rng.randrange(12, 90))).decode()
    return left + rng.choice("+/") + value + rng.choice("+/") + right


def _url(rng: random.Random, value: str, formatted: bool) -> str:
    # a bare path segment is only a credential if its format says so (ghp_…, sk-…); a value
    # without a format needs a slot that names it: a secret-named query parameter or userinfo
    form = rng.randrange(3 if formatted else 2)
    if form == 0:
        return f"https://api.acme-corp.io/v1/items?limit=20&token={value}&page=2"
    if form == 1:
        return f"https://deploy:{quote(value, safe='')}@git.acme-corp.io/team/app.git"  # userinfo is percent-encoded
    return f"https://hooks.acme-corp.io/in/{value}/notify"


def placed(rng: random.Random, g: _Gen, kind: Kind, value: str, placement: str) -> str:
    if placement == "escaped":
        ctx = rng.choice(_contexts(kind))
        return _context_text(g, kind, ctx, value) + '\n\t"quoted"\\ end'
    if placement == "nested":
        ctx = rng.choice(_contexts(kind))
        inner = json.dumps({"cmd": _context_text(g, kind, ctx, value), "meta": {"exit_code": 0}})
        return json.dumps({"output": inner, "is_error": False})
    if placement == "base64_blob":
        if not formatted(kind):
            name = "DB_PASSWORD" if kind.name == "url_password" else kind.var or "API_KEY"  # DATABASE_URL names a URL
            return f"export {name}={blob(rng, value)}"  # no format: the blob needs its name beside it
        return f'{{"type":"image","source":{{"data":"{blob(rng, value)}"}}}}' if rng.random() < 0.3 else f"attachment: {blob(rng, value)}"
    return f"fetching {_url(rng, value, formatted(kind))} ..."


def planted_secret(kind: Kind, g: _Gen) -> tuple[str, str]:
    """(the secret as planted, the part of it that must not survive)."""
    v = kind.make(g)
    return v, (v.split("/services/", 1)[1] if kind.name == "slack_webhook" else v)
