"""Format preservation: decoded matching, nested JSON, byte-identical untouched content, API."""

from __future__ import annotations

import json

import pytest

from tracelab.redact import POLICY_VERSION, Policy, Redactor

GH = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
AWS = "AKIAQYLPMN5HFIQR7XZ2"


@pytest.fixture()
def r() -> Redactor:
    return Redactor(Policy(key=b"engine-tests"))


def _strip_tokens(line: bytes) -> bytes:
    """The line with every JSON string token blanked (what must not change)."""
    import re

    return re.sub(rb'"[^"\\]*(?:\\.[^"\\]*)*"', b'""', line)


def test_unchanged_line_is_the_same_object(r):
    line = b'{"type":"user","n": 1.50,"x":[1, 2 ,3],"s":"hello world"}\n'
    out, findings, was_json = r.redact_line(line)
    assert out is line and findings == [] and was_json


def test_only_the_redacted_string_token_changes(r):
    line = b'{ "b" : 1.50 , "a":"\\u00e9t\\u00e9 token=' + GH.encode() + b'", "c":[true,null,1e3],"d":"\\u2028"}\r\n'
    out, findings, was_json = r.redact_line(line)
    assert was_json and out.endswith(b"\r\n")
    assert _strip_tokens(out) == _strip_tokens(line)  # numbers, spacing, order, literals intact
    obj = json.loads(out)
    assert list(obj) == ["b", "a", "c", "d"]
    assert obj["a"] == "\u00e9t\u00e9 token=[REDACTED:github_token]"
    assert b"\\u00e9t\\u00e9" in out  # the original ASCII-escaping style is kept for that token
    assert obj["d"] == "\u2028" and b'"d":"\\u2028"' in out
    assert findings[0].path == "$.a" and findings[0].detector == "github-token"


def test_nested_json_arguments_are_redacted_structurally_and_keep_their_style(r):
    args_compact = json.dumps({"cmd": f"export GH={GH} && ls", "workdir": "/tmp/x"}, separators=(",", ":"))
    args_spaced = json.dumps({"cmd": f"export GH={GH} && ls", "workdir": "/tmp/x"})
    for args in (args_compact, args_spaced):
        line = json.dumps({"type": "response_item", "payload": {"type": "function_call", "arguments": args}}, separators=(",", ":")).encode()
        out, findings, _ = r.redact_line(line)
        new_args = json.loads(out)["payload"]["arguments"]
        assert json.loads(new_args) == {"cmd": "export GH=[REDACTED:github_token] && ls", "workdir": "/tmp/x"}
        assert (", " in new_args) == (", " in args)  # same separators as the original
        assert findings[0].path == "$.payload.arguments#json.cmd"


def test_escaping_cannot_hide_a_secret(r):
    # every letter of the key spelled as \\u00XX in the raw line
    hidden = "".join("\\u{:04x}".format(ord(c)) for c in AWS)  # noqa: UP032
    line = ('{"text":"key ' + hidden + '"}').encode()
    out, findings, _ = r.redact_line(line)
    assert json.loads(out)["text"] == "key [REDACTED:aws_access_key_id]"
    # a secret split by \\n and \\" escapes (private key inside a JSON string inside a JSON string)
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEpAIBAAKCAQEA7x1q" * 5 + "\n-----END RSA PRIVATE KEY-----\n"
    inner = json.dumps({"private_key": pem, "type": "service_account"})
    line = json.dumps({"output": inner}).encode()
    out, findings, _ = r.redact_line(line)
    assert "MIIEpAIBAAKCAQEA7x1q" not in json.loads(json.loads(out)["output"])["private_key"]
    # a slash-escaped home path
    out, _, _ = r.redact_line(b'{"cwd":"\\/Users\\/alicew\\/src"}')
    assert b"alicew" not in out and b"\\/Users\\/user_" in out


def test_secret_named_keys_redact_their_whole_value(r):
    obj = {"env": {"DB_PASSWORD": "hunter22", "PATH": "/usr/bin"}, "headers": {"Authorization": "Bearer abc.def-123"}, "max_tokens": "1024"}
    new, findings = r.redact_value(obj)
    assert new["env"] == {"DB_PASSWORD": "[REDACTED:password]", "PATH": "/usr/bin"}
    assert new["headers"]["Authorization"] == "Bearer [REDACTED:secret]"
    assert new["max_tokens"] == "1024"
    assert {f.path for f in findings} == {"$.env.DB_PASSWORD", "$.headers.Authorization"}


def test_redact_value_shares_unchanged_subtrees(r):
    clean = {"model": "claude-opus-4-5", "usage": {"input_tokens": 3}}
    obj = {"a": clean, "b": [f"token {GH}"]}
    new, _ = r.redact_value(obj)
    assert new["a"] is clean and new is not obj and obj["b"][0].endswith(GH)  # input not mutated


def test_duplicate_keys_are_all_visited(r):
    line = b'{"password": "hunter22", "password": "second-pass1"}'
    out, findings, _ = r.redact_line(line)
    assert out == b'{"password": "[REDACTED:password]", "password": "[REDACTED:password]"}'
    assert len(findings) == 2


def test_non_json_lines_are_redacted_as_bytes(r):
    line = b"\xff\xfe broken line token=abcDEF123456ghiJKL " + GH.encode() + b" tail\n"
    out, findings, was_json = r.redact_line(line)
    assert not was_json and out.startswith(b"\xff\xfe broken line token=") and out.endswith(b" tail\n")
    assert GH.encode() not in out and findings
    half = b'{"type":"assistant","message":{"content":"export GH=' + GH.encode()  # half-written last line
    out, _, was_json = r.redact_line(half)
    assert not was_json and GH.encode() not in out


def test_images_and_opaque_blobs_are_not_scanned(r):
    data = "QUJD" + AWS + "QUJD"  # looks like an AWS key inside base64 image data
    claude = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    pi = {"type": "image", "data": data, "mimeType": "image/jpeg"}
    thinking = {"type": "thinking", "thinking": "ok", "signature": "x " + AWS}
    for obj in (claude, pi, thinking):
        new, findings = r.redact_value(obj)
        assert new is obj and findings == []
    # a text block with the same string is redacted
    assert r.redact_value({"type": "text", "text": "x " + AWS})[1]


def test_markers_and_pseudonyms_never_fire_again(r):
    once, _, _ = r.redact_line(json.dumps({"cwd": "/Users/alicew/x", "t": f"GH={GH} mail bob.k@acme.io at 10.2.3.4"}).encode())
    fresh = Redactor(Policy(key=b"engine-tests"))
    twice, findings, _ = fresh.redact_line(once)
    assert twice is once and findings == []


def test_pseudonym_key_from_environment(monkeypatch):
    monkeypatch.setenv("TRACELAB_REDACT_KEY", "k1")
    a = Redactor(Policy()).redact_text("/home/alicew/x")[0]
    b = Redactor(Policy()).redact_text("/home/alicew/x")[0]
    monkeypatch.setenv("TRACELAB_REDACT_KEY", "k2")
    c = Redactor(Policy()).redact_text("/home/alicew/x")[0]
    assert a == b != c
    monkeypatch.delenv("TRACELAB_REDACT_KEY")
    p = Policy()
    assert p.ephemeral_key and len(p.key) == 32 and "key=" not in repr(p)
    assert not Policy(key=b"explicit").ephemeral_key


def test_policy_fingerprint_is_stable_and_reveals_nothing():
    p1 = Policy(key=b"k", known_secrets=("my-very-secret-value",), deny=("Acme",))
    p2 = Policy(key=b"k", known_secrets=("my-very-secret-value",), deny=("Acme",))
    assert p1.fingerprint() == p2.fingerprint()
    assert p1.fingerprint() != Policy(key=b"k", known_secrets=("my-very-secret-value",), deny=("Acme",), emails=False).fingerprint()
    assert p1.fingerprint() != Policy(key=b"k2", known_secrets=("my-very-secret-value",), deny=("Acme",)).fingerprint()
    desc = json.dumps(p1.describe())
    assert "my-very-secret-value" not in desc and "Acme" not in desc
    assert p1.describe()["policy_version"] == POLICY_VERSION


def test_findings_never_contain_the_secret(r):
    _, findings = r.redact_text(f"export GH={GH} and password=hunter22 and mail jane@acme-corp.com")
    blob = json.dumps([f.to_dict() for f in findings])
    assert GH not in blob and "hunter22" not in blob and "jane@acme" not in blob
    assert {f.length for f in findings} >= {len(GH), len("hunter22")}


def test_whole_json_documents(r):
    doc = json.dumps({"agentType": "general-purpose", "worktreePath": "/Users/alicew/wt", "token": "tok-9f8e7d6c5b4a3"}, indent=2).encode()
    out, findings, was_json = r.redact_document(doc)
    assert was_json and out.count(b"\n") == doc.count(b"\n")
    assert json.loads(out)["token"] == "[REDACTED:secret]" and b"alicew" not in out


def test_policy_hash_is_what_is_detected_not_the_pseudonym_key():
    """``redact`` and ``redact --check`` print ``policy_hash()``: a run without a key draws a random
    one, and a check does not pseudonymise, so the key must not change the printed hash."""
    p1, p2 = Policy(key=b"k"), Policy(key=b"k2")
    assert p1.policy_hash() == p2.policy_hash() == Policy().policy_hash()
    assert p1.fingerprint() != p2.fingerprint()  # the fingerprint still names the key (ingest --redact)
    assert p1.policy_hash() != Policy(key=b"k", phone_numbers=False).policy_hash()
    assert p1.policy_hash() != Policy(key=b"k", deny=("Acme",)).policy_hash()
