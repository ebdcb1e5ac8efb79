"""Property: the output of ``redact`` always passes ``redact --check`` with the same policy, and a
planted value is either gone whole from the output or the check fails on it.

Traces are generated with planted secrets (the redaction benchmark's 26 kinds) in four placements:
JSON-escaped in a string, nested in JSON inside a string, spliced into a base64 blob (the value
split across the blob's random characters on both sides), and inside a URL (query parameter,
userinfo or path segment).
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelab.redact import Policy, Redactor
from tracelab.redact.bench import SECRET_KINDS, _context_text, _Gen
from tracelab.redact.files import redact_paths

KEY = b"gate-properties"
PLACEMENTS = ("escaped", "nested", "base64_blob", "url")
KINDS = [k for k in SECRET_KINDS if k.name not in ("private_key",)]  # multi-line: no single value to splice


# kinds whose value alone says what it is (a vendor prefix or structure); the others (passwords,
# bare AWS secret keys, generic hex/base64 keys, bearer bodies) are only secrets by their slot
UNFORMATTED = {"aws_secret_access_key", "password", "url_password", "generic_api_key", "bearer_token", "gcp_api_key"}


def _formatted(kind) -> bool:
    return kind.name not in UNFORMATTED


def _contexts(kind) -> list[str]:
    # bare Google API keys in prose are not redacted by design (public browser keys; README)
    return [c for c in kind.contexts if (kind.name, c) != ("gcp_api_key", "prose_bare")]


def _blob(rng: random.Random, value: str) -> str:
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


def _placed(rng: random.Random, g: _Gen, kind, value: str, placement: str) -> str:
    if placement == "escaped":
        ctx = rng.choice(_contexts(kind))
        return _context_text(g, kind, ctx, value) + '\n\t"quoted"\\ end'
    if placement == "nested":
        ctx = rng.choice(_contexts(kind))
        inner = json.dumps({"cmd": _context_text(g, kind, ctx, value), "meta": {"exit_code": 0}})
        return json.dumps({"output": inner, "is_error": False})
    if placement == "base64_blob":
        if not _formatted(kind):
            name = "DB_PASSWORD" if kind.name == "url_password" else kind.var or "API_KEY"  # DATABASE_URL names a URL
            return f"export {name}={_blob(rng, value)}"  # no format: the blob needs its name beside it
        return f'{{"type":"image","source":{{"data":"{_blob(rng, value)}"}}}}' if rng.random() < 0.3 else f"attachment: {_blob(rng, value)}"
    return f"fetching {_url(rng, value, _formatted(kind))} ..."


def _secret(kind, g: _Gen) -> tuple[str, str]:
    """(the secret as planted, the part of it that must not survive)."""
    v = kind.make(g)
    return v, (v.split("/services/", 1)[1] if kind.name == "slack_webhook" else v)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4))
def test_redact_output_passes_check_and_planted_values_are_gone_or_flagged(tmp_path_factory, seed, n):
    rng = random.Random(seed)
    g = _Gen(rng)
    lines, planted = [], []
    for i in range(n):
        kind = rng.choice(KINDS)
        placement = rng.choice(PLACEMENTS)
        secret, value = _secret(kind, g)
        text = _placed(rng, g, kind, secret, placement)
        obj = {"type": "user", "uuid": f"u{i}", "message": {"role": "user", "content": [{"type": "tool_result", "content": text}]}}
        lines.append(json.dumps(obj, ensure_ascii=rng.random() < 0.5))
        planted.append((kind.name, placement, value))
    src = tmp_path_factory.mktemp("in")
    (src / "s.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    red = redact_paths(Redactor(Policy(key=KEY)), [str(src)], out)
    check_out = redact_paths(Redactor(Policy(key=KEY)), [str(out)], None, check=True)
    # 1. the gate passes on what redact wrote, with the same policy (and prints the same hash)
    assert check_out.clean, (check_out.counts("detector"), planted)
    assert red.policy_fingerprint == check_out.policy_fingerprint
    # 2. each planted value: gone whole from the output, or the gate fails on the output
    written = (out / "s.jsonl").read_text(encoding="utf-8")
    decoded = "\n".join(json.dumps(json.loads(x), ensure_ascii=False) for x in written.splitlines())
    for name, placement, value in planted:
        for form in {value, quote(value, safe="")}:  # as planted (userinfo is percent-encoded)
            if form in written or form in decoded or json.dumps(form)[1:-1] in written:
                assert not check_out.clean, (name, placement)
    # and the gate fails on the input whenever anything was redacted
    check_in = redact_paths(Redactor(Policy(key=KEY)), [str(src)], None, check=True)
    assert check_in.clean == (not red.findings)


def test_a_token_shaped_slice_of_a_base64_blob_takes_the_whole_blob(tmp_path: Path):
    """The case from issue 19: a key-shaped run inside a random base64 value. Replacing only the
    slice leaves the rest of a high-entropy value; the whole blob goes (or nothing)."""
    rng = random.Random(3)
    g = _Gen(rng)
    kind = next(k for k in SECRET_KINDS if k.name == "github_token")
    value = kind.make(g)
    blob = _blob(rng, value)
    r = Redactor(Policy(key=KEY))
    out, findings = r.redact_text(f"secret: {blob} end")
    assert findings
    assert out == "secret: [REDACTED:github_token] end"
    assert Redactor(Policy(key=KEY)).redact_text(out)[1] == []
