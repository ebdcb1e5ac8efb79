"""Built-in detectors: every secret kind in every context, identities, and things left alone."""

from __future__ import annotations

import random
import zlib

import pytest

from tracelab.redact import Policy, Redactor, checks, names
from tracelab.redact.bench import SECRET_KINDS, _context_text, _Gen


def _redactor(**kw) -> Redactor:
    return Redactor(Policy(key=b"detector-tests", **kw))


@pytest.fixture(scope="module")
def r() -> Redactor:
    return _redactor(propagate_secrets=False)


# (kind, context) pairs that are deliberately not redacted, with the reason
_BY_DESIGN = {("gcp_api_key", "prose_bare"): "bare AIza… keys need a key context (public browser keys are common)"}


@pytest.mark.parametrize("kind", SECRET_KINDS, ids=lambda k: k.name)
def test_every_kind_in_every_context_is_redacted(r, kind):
    g = _Gen(random.Random(zlib.crc32(kind.name.encode())))
    for ctx in kind.contexts:
        for _ in range(12):
            secret = kind.make(g)
            text = _context_text(g, kind, ctx, secret)
            out, findings = r.redact_text(text)
            core = secret.replace("\n", "")[-24:] if kind.name != "slack_webhook" else secret.rsplit("/", 1)[1]
            if (kind.name, ctx) in _BY_DESIGN:
                assert core in out.replace("\n", ""), f"{kind.name}/{ctx} now redacted: update _BY_DESIGN and the README"
                continue
            assert core not in out.replace("\n", ""), f"{kind.name} survived in context {ctx}: {text!r}"
            assert any(f.category == "secret" for f in findings)


@pytest.mark.parametrize(
    "text,marker",
    [
        ("export GITHUB_TOKEN=ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5", "[REDACTED:github_token]"),
        ("key: AKIAQYLPMN5HFIQR7XZ2 region us-east-1", "[REDACTED:aws_access_key_id]"),
        ("curl -u admin:S3cr3t-Pa55 https://host/api", "admin:[REDACTED:curl_credentials]"),
        ("postgres://app:pa55-w0rd-x@db:5432/app", "postgres://app:[REDACTED:url_password]@db"),
        ('"Authorization": "Bearer abcDEF123456ghiJKL789"', "Bearer [REDACTED:auth_header]"),
        ("DB_PASSWORD=hunter22", "DB_PASSWORD=[REDACTED:password]"),
        ("mytool --api-key 9f8e7d6c5b4a39281706f5e4d3c2b1a0 --verbose", "--api-key [REDACTED:secret] --verbose"),
        ("<password>correct-horse</password>", "<password>[REDACTED:password]</password>"),
    ],
)
def test_markers_and_kept_context(r, text, marker):
    out, _ = r.redact_text(text)
    assert marker in out, out


@pytest.mark.parametrize(
    "text",
    [
        "commit 3f786850e387550fdab836ed7e6dc881de23001b\nAuthor: CI <ci@example.com>",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  dist/app-1.2.0.tar.gz",
        "session 7acd37a8-2745-4b58-a8a9-46164b22ad9e started",
        '"integrity": "sha512-3T5UVvLhT+8n0lN1Xc4Iv7QJ0d+oWv8Fh0D5zgHk0Jq3n7n1yRWcK5NqZ8x3wBf6YQ2JqF0uPqgS5m1L7b9DkA=="',
        "def refresh_token(session, *, max_tokens: int = 1024) -> str:\n    token = session.get('access_token')",
        'password = os.environ["DB_PASSWORD"]\napi_key: str = settings.api_key',
        "const apiKey = process.env.OPENAI_API_KEY;",
        "Set `OPENAI_API_KEY=<your-openai-key>` and GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "export ANTHROPIC_API_KEY=sk-ant-... then make dev; password: ${DB_PASSWORD}",
        "useInfiniteQueryWithPrefetchAndRetry42 AbstractSingletonProxyFactoryBean handleUserAuthTokenRefreshV2",
        "docker pull ghcr.io/acme/app@sha256:9b2a3c1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "--- PASS: TestExplain_MutualExclusivity/manual-commit (0.55s)",
        "restore cache with key: setup-uv-1-x86_64-unknown-linux-gnu-0.7.13-f6c65b29c82e498115b3dc436b3a85fc046536dc",
        "the tokenizer splits secretary and author names",
        "[REDACTED:github_token] and token=[REDACTED:secret] and /home/user_3f2a9c/x user_3f2a9c@example.invalid",
        # tracelab's own session keys, as `evals export` writes them in every case's metadata
        '{"metadata": {"session_key": "claude:0ccf1a04-1b4c-43b6-8aa5-79e41db43a68/agent-a5bdbc1"}}',
        "session_key=copilot:8baa78ec-b203-4c7f-b1d3-c1170ae84b7d/agent-toolu_vrtx_01R27ZwYteU55tkfsFnfwttf",
    ],
)
def test_hard_negatives_are_left_alone(r, text):
    out, findings = r.redact_text(text)
    assert [f for f in findings if f.category == "secret"] == [], [(f.detector, text[f.offset : f.offset + f.length]) for f in findings]


def test_emails_are_pseudonymised_with_a_stable_keyed_pseudonym():
    a, b, c = _redactor(), _redactor(), Redactor(Policy(key=b"other"))
    text = "Author: Jane Roe <jane.roe@acme-corp.com>"
    out_a, f = a.redact_text(text)
    assert out_a == b.redact_text(text)[0]
    assert out_a != c.redact_text(text)[0]
    assert out_a.startswith("Author: Jane Roe <user_") and out_a.endswith("@example.invalid>")
    assert f[0].kind == "email" and f[0].category == "identity"
    for keep in ("noreply@anthropic.com", "git@github.com", "test@example.com", "logo@2x.png"):
        assert a.redact_text(keep)[0] == keep


def test_a_known_username_inside_an_email_does_not_split_the_address():
    r = _redactor(usernames=("report24",))
    out, _ = r.redact_text("Author: R <cache.report24@backend-metrics.com>")
    assert "backend-metrics" not in out and "cache." not in out and out.endswith("@example.invalid>")


def test_home_directory_usernames_are_pseudonymised_and_propagated():
    r = _redactor()
    out, f = r.redact_text("cd /Users/alicew/src/app && ls /home/alicew/.ssh")
    assert "alicew" not in out and out.count("/Users/user_") == 1 and out.count("/home/user_") == 1
    assert out.split("/Users/")[1].split("/")[0] == out.split("/home/")[1].split("/")[0]
    # learned names are replaced as whole words elsewhere (git branch, ls -l owner, Claude dirs)
    assert r.redact_text("branch alicew/feature owned by alicew")[0].count("user_") == 2
    assert "alicew" not in r.redact_text("-Users-alicew-src-app")[0]
    assert r.redact_text(r"C:\Users\Bobby\proj")[0].startswith("C:\\Users\\user_")
    for keep in ("/home/runner/work", "/Users/Shared/x", "/home/ubuntu/app", "/home/$USER/x", "/home/<name>/x"):
        assert r.redact_text(keep)[0] == keep, keep


def test_ip_addresses(r):
    assert r.redact_text("ssh deploy@203.0.114.9")[0] == "ssh deploy@[REDACTED:ip_address]"
    assert r.redact_text("fe80::1ff:fe23:4567:890a%eth0")[0].startswith("[REDACTED:ip_address]")
    for keep in (
        "127.0.0.1:8000",
        "nameserver 8.8.8.8",
        "0.0.0.0",
        "Chrome/120.0.0.0 Safari",
        "version 1.2.3.4.5",
        "doc 192.0.2.10",
        "std::vector<int>",
        "12:34:56",
    ):
        assert r.redact_text(keep)[0] == keep, keep


def test_hostnames_are_off_by_default_and_pseudonymised_when_on():
    text = "curl https://build-01.corp.acme.internal/status and https://github.com/x"
    assert _redactor().redact_text(text)[0] == text
    out = _redactor(hostnames=True).redact_text(text)[0]
    assert "acme.internal" not in out and "host-" in out and "github.com" in out


def test_known_secrets_and_deny_list():
    r = _redactor(known_secrets=("s3cr3t-value-xyz",), deny=("Acme",))
    out, f = r.redact_text("token s3cr3t-value-xyz from ACME and acme-labs, not acmeish")
    assert out == "token [REDACTED:known_secret] from [REDACTED:deny] and [REDACTED:deny]-labs, not acmeish"
    assert {x.detector for x in f} == {"known-secret", "deny-list"}


def test_value_propagation_within_a_text_and_across_calls():
    r = _redactor()
    text = "real_secret = vh987tyw9ehy8gh7ASDG\nforeign_id = vh987tyw9ehy8gh7ASDG"
    assert r.redact_text(text)[0].count("[REDACTED:secret]") == 2
    assert r.redact_text("echo vh987tyw9ehy8gh7ASDG")[0] == "echo [REDACTED:repeated_secret]"
    off = _redactor(propagate_secrets=False)
    assert off.redact_text(text)[0].count("vh987tyw9ehy8gh7ASDG") == 1


def test_secret_names():
    assert names.secret_level("DB_PASSWORD") == names.PASSWORD
    assert names.secret_level("apiKey") == names.STRONG
    assert names.secret_level("GITHUB_TOKEN") == names.STRONG
    assert names.secret_level("key") == names.WEAK
    for not_secret in (
        "max_tokens",
        "input_tokens",
        "apiKeyId",
        "token_type",
        "nextPageToken",
        "cacheKey",
        "public_key",
        "password_hash",
        "keyboard",
        "author",
        "PASS",
    ):
        assert names.secret_level(not_secret) is None, not_secret


def test_checks():
    assert checks.shannon_entropy("aaaa") == 0.0
    assert abs(checks.shannon_entropy("abcd") - 2.0) < 1e-9
    for ph in ("xxxxxxxxxxxx", "<your-key>", "${TOKEN}", "$API_KEY", "changeme", "ops_eyJzaWdu...", "[REDACTED:x]", "{SumoAccessKey}"):
        assert checks.is_placeholder(ph), ph
    for real in ("hunter22", "%U^j_rgEo2iTE", "$2b$12$Q9x", "{ZqL5kVrX1n8tA2}"):
        assert not checks.is_placeholder(real, words=False), real
    assert checks.decodes_to_basic_auth("YnJvd3Nlcjo=")  # "browser:"
    assert not checks.decodes_to_basic_auth("eyJhbGciOiJIUzI1NiJ9.e30.x")
