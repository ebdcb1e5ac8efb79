"""Property: the output of ``redact`` always passes ``redact --check`` with the same policy, and a
planted value is either gone whole from the output or the check fails on it.

Traces are generated with planted secrets (the redaction benchmark's 26 kinds) in four placements:
JSON-escaped in a string, nested in JSON inside a string, spliced into a base64 blob (the value
split across the blob's random characters on both sides), and inside a URL (query parameter,
userinfo or path segment).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelab.redact import Policy, Redactor
from tracelab.redact.bench import SECRET_KINDS, _Gen
from tracelab.redact.files import redact_paths
from tracelab.redact.placements import KINDS, PLACEMENTS, blob, planted_secret
from tracelab.redact.placements import placed as _placed

KEY = b"gate-properties"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4))
def test_redact_output_passes_check_and_planted_values_are_gone_or_flagged(tmp_path_factory, seed, n):
    rng = random.Random(seed)
    g = _Gen(rng)
    lines, planted = [], []
    for i in range(n):
        kind = rng.choice(KINDS)
        placement = rng.choice(PLACEMENTS)
        secret, value = planted_secret(kind, g)
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
    spliced = blob(rng, value)
    r = Redactor(Policy(key=KEY))
    out, findings = r.redact_text(f"secret: {spliced} end")
    assert findings
    assert out == "secret: [REDACTED:github_token] end"
    assert Redactor(Policy(key=KEY)).redact_text(out)[1] == []
