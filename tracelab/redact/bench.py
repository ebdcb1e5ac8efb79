"""Planted-secret benchmark: generated secrets inside realistic Claude Code / Codex / Pi lines.

Every secret is *generated* here from a seeded RNG in its vendor's documented shape (prefix,
alphabet, length, checksum-free); nothing is copied from a corpus. Each planted secret is placed
in one trace line through a realistic carrier — a shell command, a tool output, a file written by
the agent, a Codex ``arguments`` JSON string (nested JSON, so quotes are escaped twice), an old
Codex ``output`` JSON string, an ``apply_patch`` body, a user prompt — in the envelope of one of
the three agents. Hard-negative lines carry what trips naive detectors: git SHAs, sha256 sums,
UUIDs, base64 images, thinking signatures, lockfile integrity hashes, long identifiers, code that
*names* tokens without containing one, and documentation placeholders.

Scoring (:func:`evaluate`):

* **recall**: a secret counts as redacted if no 16-character window of it (taken every 8
  characters, plus the tail) survives anywhere in the decoded output line — so a partially masked
  key counts as a miss;
* **false redactions**: secret-category findings on hard-negative lines, per MB of those lines
  (identity pseudonyms of paths/emails in the negatives are reported separately: they are policy,
  not errors).
"""

from __future__ import annotations

import base64
import json
import random
import string
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from tracelab.redact.engine import Redactor

__all__ = ["Planted", "Corpus", "generate", "evaluate", "BenchResult", "SECRET_KINDS"]

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass
class Planted:
    kind: str
    value: str
    line: int
    agent: str
    carrier: str
    context: str
    category: str = "secret"


@dataclass
class Corpus:
    lines: list[bytes]
    planted: list[Planted]
    negative: list[int] = field(default_factory=list)  # hard-negative and ordinary lines
    ordinary: list[int] = field(default_factory=list)  # the ordinary subset of ``negative``

    @property
    def bytes(self) -> int:
        return sum(len(x) for x in self.lines)

    def negative_bytes(self) -> int:
        return sum(len(self.lines[i]) for i in self.negative)


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def mixed(self, alphabet: str, n: int) -> str:
        """Random string that contains upper, lower and digits (real keys almost always do)."""
        if n < 4:
            raise ValueError("mixed() needs at least 4 characters")
        while True:
            v = self.s(alphabet, n)
            if any(c.isupper() for c in v) and any(c.islower() for c in v) and sum(c.isdigit() for c in v) >= 2:
                return v

    def letters(self, n: int) -> str:
        while True:
            v = self.s(string.ascii_letters, n)
            if any(c.isupper() for c in v) and any(c.islower() for c in v):
                return v

    def password(self) -> str:
        sym = "!#%^*_-+=.,?"
        n = self.r.randint(12, 24)
        while True:
            v = self.s(ALNUM + sym, n)
            if any(c in sym for c in v) and any(c.isdigit() for c in v) and any(c.isupper() for c in v):
                return v

    def word(self) -> str:
        return self.r.choice(_WORDS)

    def uuid(self) -> str:
        h = self.s(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def b64bytes(self, n: int) -> str:
        return base64.b64encode(bytes(self.r.getrandbits(8) for _ in range(n))).decode()


_WORDS = (
    "alpha bravo charlie delta echo foxtrot report ledger invoice cart widget parser cache queue worker "
    "billing search render upload export sync session profile gateway metrics backend frontend notes"
).split()


# ---------------------------------------------------------------------------------------------
# secret kinds: value generator, env-var name, human label, and which contexts fit


def _jwt(g: _Gen) -> str:
    def enc(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    header = {"alg": g.r.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    payload = {"sub": g.uuid(), "iat": 1700000000 + g.r.randint(0, 10**7), "exp": 1800000000 + g.r.randint(0, 10**7), "scope": g.word()}
    if g.r.random() < 0.5:
        payload["email"] = f"{g.word()}.{g.word()}@{g.word()}corp.io"
    sig = base64.urlsafe_b64encode(bytes(g.r.getrandbits(8) for _ in range(32))).decode().rstrip("=")
    return f"{enc(header)}.{enc(payload)}.{sig}"


def _private_key_body(g: _Gen) -> str:
    raw = g.b64bytes(g.r.choice([900, 1190, 1700]))
    return "\n".join(raw[i : i + 64] for i in range(0, len(raw), 64))


def _openai(g: _Gen) -> str:
    if g.r.random() < 0.3:
        return "sk-" + g.mixed(ALNUM, 20) + "T3BlbkFJ" + g.mixed(ALNUM, 20)
    return "sk-proj-" + g.mixed(B64URL, g.r.randint(40, 70)) + "T3BlbkFJ" + g.mixed(B64URL, g.r.randint(40, 70))


@dataclass(frozen=True)
class Kind:
    name: str
    make: Callable[[_Gen], str]
    var: str
    label: str
    contexts: tuple[str, ...]


_TOKEN_CONTEXTS = ("env_export", "dotenv", "json_config", "yaml_config", "prose_labelled", "prose_bare", "python_client", "bearer_header")
_KEY_CONTEXTS = ("env_export", "dotenv", "json_config", "yaml_config", "prose_labelled", "python_client")

SECRET_KINDS: tuple[Kind, ...] = (
    Kind(
        "aws_access_key_id",
        lambda g: g.r.choice(["AKIA", "ASIA"]) + g.s(B32, 16),
        "AWS_ACCESS_KEY_ID",
        "AWS access key",
        _KEY_CONTEXTS + ("aws_credentials", "prose_bare"),
    ),
    Kind(
        "aws_secret_access_key",
        lambda g: g.mixed(B64, 40),
        "AWS_SECRET_ACCESS_KEY",
        "AWS secret key",
        ("env_export", "dotenv", "json_config", "aws_credentials", "yaml_config"),
    ),
    Kind(
        "github_token", lambda g: g.r.choice(["ghp_", "gho_", "ghs_"]) + g.mixed(ALNUM, 36), "GITHUB_TOKEN", "GitHub token", _TOKEN_CONTEXTS + ("git_remote",)
    ),
    Kind("github_fine_grained_pat", lambda g: "github_pat_" + g.mixed(ALNUM, 22) + "_" + g.mixed(ALNUM, 59), "GH_TOKEN", "GitHub PAT", _TOKEN_CONTEXTS),
    Kind("gitlab_token", lambda g: "glpat-" + g.mixed(ALNUM + "_-", 20), "GITLAB_TOKEN", "GitLab token", _TOKEN_CONTEXTS + ("git_remote",)),
    Kind("bitbucket_app_password", lambda g: "ATBB" + g.mixed(ALNUM, 32), "BITBUCKET_APP_PASSWORD", "Bitbucket app password", _KEY_CONTEXTS + ("prose_bare",)),
    Kind("openai_api_key", _openai, "OPENAI_API_KEY", "OpenAI key", _TOKEN_CONTEXTS),
    Kind(
        "anthropic_api_key",
        lambda g: "sk-ant-api03-" + g.mixed(B64URL, 93) + "AA",
        "ANTHROPIC_API_KEY",
        "Anthropic key",
        _TOKEN_CONTEXTS + ("x_api_key_header",),
    ),
    Kind("gcp_api_key", lambda g: "AIza" + g.mixed(B64URL, 35), "GOOGLE_API_KEY", "Google API key", _KEY_CONTEXTS + ("url_query", "prose_bare")),
    Kind(
        "slack_bot_token",
        lambda g: f"xoxb-{g.s('0123456789', 12)}-{g.s('0123456789', 13)}-{g.mixed(ALNUM, 24)}",
        "SLACK_BOT_TOKEN",
        "Slack bot token",
        _TOKEN_CONTEXTS,
    ),
    Kind(
        "slack_webhook",
        lambda g: f"https://hooks.slack.com/services/T{g.s(B32[:26], 10)}/B{g.s(B32[:26], 10)}/{g.mixed(ALNUM, 24)}",
        "SLACK_WEBHOOK_URL",
        "Slack webhook",
        ("env_export", "dotenv", "json_config", "yaml_config", "curl_post", "prose_bare"),
    ),
    Kind(
        "stripe_secret_key",
        lambda g: g.r.choice(["sk_live_", "sk_test_", "rk_live_"]) + g.mixed(ALNUM, g.r.choice([24, 99])),
        "STRIPE_SECRET_KEY",
        "Stripe key",
        _TOKEN_CONTEXTS,
    ),
    Kind("twilio_api_key", lambda g: "SK" + g.s(HEX, 32), "TWILIO_API_KEY", "Twilio API key", _KEY_CONTEXTS + ("prose_bare",)),
    Kind("sendgrid_api_key", lambda g: f"SG.{g.mixed(B64URL, 22)}.{g.mixed(B64URL, 43)}", "SENDGRID_API_KEY", "SendGrid key", _TOKEN_CONTEXTS),
    Kind("npm_token", lambda g: "npm_" + g.mixed(ALNUM, 36), "NPM_TOKEN", "npm token", _TOKEN_CONTEXTS + ("npmrc",)),
    Kind("pypi_token", lambda g: "pypi-AgEIcHlwaS5vcmc" + g.mixed(B64URL, g.r.randint(60, 160)), "PYPI_TOKEN", "PyPI token", _KEY_CONTEXTS + ("pypirc",)),
    Kind("huggingface_token", lambda g: "hf_" + g.letters(34), "HF_TOKEN", "Hugging Face token", _TOKEN_CONTEXTS),
    Kind("groq_api_key", lambda g: "gsk_" + g.mixed(ALNUM, 52), "GROQ_API_KEY", "Groq key", _TOKEN_CONTEXTS),
    Kind(
        "azure_client_secret",
        lambda g: g.s(ALNUM, 3) + str(g.r.randint(0, 9)) + "Q~" + g.mixed(ALNUM + "_~.-", 34),
        "AZURE_CLIENT_SECRET",
        "Azure client secret",
        _KEY_CONTEXTS + ("prose_bare",),
    ),
    Kind("digitalocean_token", lambda g: "dop_v1_" + g.s(HEX, 64), "DIGITALOCEAN_TOKEN", "DigitalOcean token", _TOKEN_CONTEXTS),
    Kind("jwt", _jwt, "ACCESS_TOKEN", "access token", _TOKEN_CONTEXTS + ("cookie_header",)),
    Kind("private_key", _private_key_body, "", "private key", ("pem_file", "service_account_json")),
    Kind(
        "url_password",
        lambda g: g.password().replace("#", "").replace("?", "").replace("+", ""),
        "DATABASE_URL",
        "database password",
        ("connection_env", "connection_cmd", "git_remote_password"),
    ),
    Kind("password", lambda g: g.password(), "DB_PASSWORD", "password", ("env_export", "dotenv", "json_config", "yaml_config", "cli_password_flag")),
    Kind(
        "bearer_token",
        lambda g: g.mixed(B64URL, g.r.randint(32, 64)),
        "API_TOKEN",
        "API token",
        ("bearer_header", "env_export", "json_config", "x_api_key_header"),
    ),
    Kind(
        "generic_api_key",
        lambda g: g.mixed(ALNUM, g.r.choice([32, 40])),
        "MISTRAL_API_KEY",
        "Mistral API key",
        ("env_export", "dotenv", "json_config", "yaml_config", "python_client"),
    ),
)

IDENTITY_KINDS = ("email", "home_username", "ipv4")


# ---------------------------------------------------------------------------------------------
# contexts: render a snippet of text around the secret


def _context_text(g: _Gen, kind: Kind, ctx: str, secret: str) -> str:
    var = kind.var or "SECRET"
    low = var.lower()
    w = g.word()
    if ctx == "env_export":
        return f"export {var}={secret}\nnpm run {w}"
    if ctx == "dotenv":
        return f"# {w} service\nNODE_ENV=production\nPORT=3000\n{var}={secret}\nLOG_LEVEL=debug\n"
    if ctx == "json_config":
        return json.dumps({"service": w, "region": "eu-west-1", low: secret, "retries": 3}, indent=2)
    if ctx == "yaml_config":
        return f"{w}:\n  endpoint: https://api.{w}.io/v1\n  {low}: {secret}\n  timeout: 30\n"
    if ctx == "prose_labelled":
        return f"I rotated the {kind.label} this morning, the new one is {secret} — can you update the {w} deploy?"
    if ctx == "prose_bare":
        return f"try again with {secret} please"
    if ctx == "python_client":
        return f'import {w}\nclient = {w}.Client(api_key="{secret}")\nprint(client.ping())\n'
    if ctx == "bearer_header":
        return f'curl -s https://api.{w}.io/v2/items -H "Authorization: Bearer {secret}" -H "Accept: application/json"'
    if ctx == "x_api_key_header":
        return f"curl https://api.{w}.com/v1/messages -H 'x-api-key: {secret}' -d @body.json"
    if ctx == "cookie_header":
        return f"curl https://{w}.internal/api -H 'Cookie: session={secret}; theme=dark'"
    if ctx == "aws_credentials":
        return f"[default]\n{var.lower()} = {secret}\nregion = us-east-1\n"
    if ctx == "git_remote":
        return f"git remote set-url origin https://x-access-token:{secret}@github.com/{w}/{g.word()}.git"
    if ctx == "git_remote_password":
        return f"git clone https://{w}bot:{secret}@git.{g.word()}.dev/{w}/repo.git"
    if ctx == "url_query":
        return f"GET https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={secret}"
    if ctx == "curl_post":
        return f"curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"deploy done\"}}' {secret}"
    if ctx == "npmrc":
        return f"//registry.npmjs.org/:_authToken={secret}\nregistry=https://registry.npmjs.org/\n"
    if ctx == "pypirc":
        return f"[pypi]\n  username = __token__\n  password = {secret}\n"
    if ctx == "pem_file":
        kt = g.r.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"])
        return f"-----BEGIN {kt}-----\n{secret}\n-----END {kt}-----\n"
    if ctx == "service_account_json":
        doc = {
            "type": "service_account",
            "project_id": f"{w}-prod-{g.r.randint(100, 999)}",
            "private_key_id": g.s(HEX, 40),
            "private_key": f"-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n",
            "client_email": f"deployer@{w}-prod.iam.gserviceaccount.com",
        }
        return json.dumps(doc, indent=2)
    if ctx == "connection_env":
        return f"DATABASE_URL=postgres://{w}_app:{secret}@db.{g.word()}.internal:5432/{w}\n"
    if ctx == "connection_cmd":
        return f"psql 'postgresql://admin:{secret}@10.0.3.{g.r.randint(2, 250)}:5432/{w}' -c 'select 1'"
    if ctx == "cli_password_flag":
        return f"docker login registry.{w}.io --username ci --password {secret}"
    raise ValueError(ctx)


# ---------------------------------------------------------------------------------------------
# carriers: put a text into an agent's line


def _ts(g: _Gen) -> str:
    return f"2026-0{g.r.randint(1, 9)}-1{g.r.randint(0, 9)}T1{g.r.randint(0, 9)}:{g.r.randint(10, 59)}:{g.r.randint(10, 59)}.{g.r.randint(100, 999)}Z"


def _claude_env(g: _Gen, cwd: str) -> dict:
    return {"parentUuid": g.uuid(), "isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": g.uuid(), "version": "2.1.42", "gitBranch": "main"}


def _usage(g: _Gen) -> dict:
    return {
        "input_tokens": g.r.randint(1, 50),
        "cache_creation_input_tokens": g.r.randint(0, 5000),
        "cache_read_input_tokens": g.r.randint(0, 90000),
        "output_tokens": g.r.randint(1, 900),
        "service_tier": "standard",
    }


def _carry(g: _Gen, agent: str, carrier: str, text: str, cwd: str) -> dict:
    tid = "toolu_01" + g.mixed(ALNUM, 22)
    if agent == "claude":
        if carrier == "prompt":
            return {**_claude_env(g, cwd), "type": "user", "message": {"role": "user", "content": text}, "uuid": g.uuid(), "timestamp": _ts(g)}
        if carrier == "command":
            return {
                **_claude_env(g, cwd),
                "message": {
                    "id": "msg_01" + g.mixed(ALNUM, 22),
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [{"type": "tool_use", "id": tid, "name": "Bash", "input": {"command": text, "description": "Run command"}}],
                    "stop_reason": None,
                    "usage": _usage(g),
                },
                "type": "assistant",
                "uuid": g.uuid(),
                "timestamp": _ts(g),
            }
        if carrier == "tool_output":
            return {
                **_claude_env(g, cwd),
                "type": "user",
                "message": {"role": "user", "content": [{"tool_use_id": tid, "type": "tool_result", "content": text}]},
                "uuid": g.uuid(),
                "timestamp": _ts(g),
                "toolUseResult": {"stdout": text, "stderr": "", "interrupted": False, "isImage": False},
            }
        if carrier == "file_write":
            return {
                **_claude_env(g, cwd),
                "message": {
                    "id": "msg_01" + g.mixed(ALNUM, 22),
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-opus-4-5",
                    "content": [{"type": "tool_use", "id": tid, "name": "Write", "input": {"file_path": f"{cwd}/config/{g.word()}.env", "content": text}}],
                    "usage": _usage(g),
                },
                "type": "assistant",
                "uuid": g.uuid(),
                "timestamp": _ts(g),
            }
    if agent == "codex":
        if carrier == "prompt":
            return {"timestamp": _ts(g), "type": "event_msg", "payload": {"type": "user_message", "message": text, "images": []}}
        if carrier == "command":
            args = json.dumps({"cmd": text, "workdir": cwd, "max_output_tokens": 6000})
            return {
                "timestamp": _ts(g),
                "type": "response_item",
                "payload": {"type": "function_call", "name": "exec_command", "arguments": args, "call_id": "call_" + g.mixed(ALNUM, 24)},
            }
        if carrier == "tool_output":
            if g.r.random() < 0.5:
                out = json.dumps({"output": text, "metadata": {"exit_code": 0, "duration_seconds": round(g.r.random(), 2)}})
            else:
                out = f"Chunk ID: {g.s(HEX, 6)}\nWall time: 0.{g.r.randint(10, 99)} seconds\nProcess exited with code 0\nOutput:\n{text}"
            return {
                "timestamp": _ts(g),
                "type": "response_item",
                "payload": {"type": "function_call_output", "call_id": "call_" + g.mixed(ALNUM, 24), "output": out},
            }
        if carrier == "file_write":
            patch = f"*** Begin Patch\n*** Add File: config/{g.word()}.env\n" + "".join("+" + ln + "\n" for ln in text.splitlines()) + "*** End Patch"
            return {
                "timestamp": _ts(g),
                "type": "response_item",
                "payload": {"type": "custom_tool_call", "status": "completed", "call_id": "call_" + g.mixed(ALNUM, 24), "name": "apply_patch", "input": patch},
            }
    if agent == "pi":
        eid = g.s(HEX, 8)
        if carrier == "prompt":
            return {
                "type": "message",
                "id": eid,
                "parentId": g.s(HEX, 8),
                "timestamp": _ts(g),
                "message": {"role": "user", "content": [{"type": "text", "text": text}], "timestamp": 1765233665294},
            }
        if carrier == "command":
            return {
                "type": "message",
                "id": eid,
                "parentId": g.s(HEX, 8),
                "timestamp": _ts(g),
                "message": {
                    "role": "assistant",
                    "content": [{"type": "toolCall", "id": tid, "name": "bash", "arguments": {"command": text}}],
                    "api": "anthropic-messages",
                    "provider": "anthropic",
                    "model": "claude-opus-4-5",
                    "stopReason": "toolUse",
                    "timestamp": 1765233665294,
                },
            }
        if carrier == "tool_output":
            return {
                "type": "message",
                "id": eid,
                "parentId": g.s(HEX, 8),
                "timestamp": _ts(g),
                "message": {
                    "role": "toolResult",
                    "toolCallId": tid,
                    "toolName": "bash",
                    "content": [{"type": "text", "text": text}],
                    "isError": False,
                    "timestamp": 1765233665294,
                },
            }
        if carrier == "file_write":
            return {
                "type": "message",
                "id": eid,
                "parentId": g.s(HEX, 8),
                "timestamp": _ts(g),
                "message": {
                    "role": "assistant",
                    "content": [{"type": "toolCall", "id": tid, "name": "write", "arguments": {"path": f"{cwd}/.env", "content": text}}],
                    "api": "openai-responses",
                    "provider": "openai",
                    "model": "gpt-5.2",
                    "stopReason": "toolUse",
                    "timestamp": 1765233665294,
                },
            }
    raise ValueError((agent, carrier))


_CARRIERS = ("prompt", "command", "tool_output", "file_write")
_AGENTS = ("claude", "codex", "pi")


def _dump(g: _Gen, obj: dict) -> bytes:
    """Serialise like the agents do: mostly compact JS-style; some lines escape non-ASCII."""
    r = g.r.random()
    if r < 0.8:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    if r < 0.95:
        return json.dumps(obj, ensure_ascii=True).encode() + b"\n"
    # hostile: spell some ASCII letters as \u00XX escapes so raw-byte matching cannot see them
    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    out = []
    in_str = False
    esc = False
    for ch in raw:
        if in_str and not esc and ch.isalnum() and ch.isascii() and g.r.random() < 0.15:
            out.append("\\u{:04x}".format(ord(ch)))  # noqa: UP032
            continue
        out.append(ch)
        if esc:
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == '"':
            in_str = not in_str
    return "".join(out).encode() + b"\n"


# ---------------------------------------------------------------------------------------------
# hard negatives


def _negative_text(g: _Gen) -> str:
    k = g.r.randrange(11)
    if k == 0:
        return "\n".join(
            f"commit {g.s(HEX, 40)}\nAuthor: CI Bot <ci@example.com>\nDate:   Mon Jan {g.r.randint(1, 28)} 10:0{g.r.randint(0, 9)}:00 2026\n\n    {g.word()}: fix {g.word()} handling\n"
            for _ in range(g.r.randint(2, 6))
        )
    if k == 1:
        return "\n".join(
            f"{g.s(HEX, 64)}  dist/{g.word()}-{g.r.randint(1, 9)}.{g.r.randint(0, 20)}.{g.r.randint(0, 9)}.tar.gz" for _ in range(g.r.randint(2, 8))
        )
    if k == 2:
        deps = {
            f"node_modules/{g.word()}-{g.word()}": {
                "version": f"{g.r.randint(1, 9)}.{g.r.randint(0, 30)}.{g.r.randint(0, 9)}",
                "resolved": f"https://registry.npmjs.org/{g.word()}/-/{g.word()}-1.0.0.tgz",
                "integrity": "sha512-" + g.b64bytes(64),
                "dev": True,
            }
            for _ in range(g.r.randint(2, 6))
        }
        return json.dumps({"name": g.word(), "lockfileVersion": 3, "packages": deps}, indent=2)
    if k == 3:
        return "\n".join(
            f'[[package]]\nname = "{g.word()}"\nversion = "{g.r.randint(0, 9)}.{g.r.randint(0, 9)}.{g.r.randint(0, 9)}"\nfiles = [\n    {{file = "{g.word()}-1.0-py3-none-any.whl", hash = "sha256:{g.s(HEX, 64)}"}},\n]\n'
            for _ in range(3)
        )
    if k == 4:
        return (
            f"def refresh_{g.word()}_token(session, *, max_tokens: int = 1024) -> str:\n"
            f'    token = session.get("access_token")\n'
            f"    if not token:\n"
            f'        raise AuthError("missing token for {g.word()}")\n'
            f'    password = os.environ["DB_PASSWORD"]\n'
            f"    api_key: str = settings.api_key\n"
            f'    secret_name = f"{{env}}/{g.word()}/api-key"\n'
            f"    return hmac.new(key, msg, hashlib.sha256).hexdigest()\n"
        )
    if k == 5:
        return (
            f"const apiKey = process.env.OPENAI_API_KEY;\nexport async function {g.word()}Handler(req: Request) {{\n"
            f"  const token = req.headers.get('authorization')?.replace('Bearer ', '');\n"
            f"  if (!token) return new Response('unauthorized', {{ status: 401 }});\n"
            f"  const {{ data }} = await client.{g.word()}.list({{ limit: 20, cursor: req.nextPageToken }});\n}}\n"
        )
    if k == 6:
        return (
            "## Setup\n\n1. Copy `.env.example` to `.env`\n2. Set `OPENAI_API_KEY=<your-openai-key>` and `GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`\n"
            "3. Run `export ANTHROPIC_API_KEY=sk-ant-...` then `make dev`\n4. password: ${DB_PASSWORD}\n"
        )
    if k == 7:
        names = [
            "AbstractSingletonProxyFactoryBean",
            "handleUserAuthTokenRefreshV2",
            "SimpleBeanFactoryAwareAspectInstanceFactory",
            "useInfiniteQueryWithPrefetchAndRetry",
            "TransactionAwarePersistenceManagerFactoryProxy",
            "getAccessTokenSilentlyWithPopupFallback",
        ]
        return " ".join(g.r.choice(names) + str(g.r.randint(0, 99)) for _ in range(12))
    if k == 8:
        return f"docker pull ghcr.io/{g.word()}/{g.word()}@sha256:{g.s(HEX, 64)}\nStatus: Downloaded newer image for ghcr.io/{g.word()}/{g.word()}@sha256:{g.s(HEX, 64)}"
    if k == 9:
        return "\n".join(f"{g.uuid()}  {g.word()}  running  {g.r.randint(1, 90)}m" for _ in range(g.r.randint(3, 10)))
    return f"Traceback (most recent call last):\n  File \"/app/{g.word()}/views.py\", line {g.r.randint(10, 400)}, in get\n    return self.{g.word()}(request)\nKeyError: '{g.word()}_id'\nrequest_id={g.uuid()} trace_id={g.s(HEX, 32)} span_id={g.s(HEX, 16)}"


def _negative_line(g: _Gen, cwd: str) -> dict:
    agent = g.r.choice(_AGENTS)
    k = g.r.random()
    if k < 0.12 and agent == "claude":
        return {
            **_claude_env(g, cwd),
            "type": "user",
            "message": {
                "role": "user",
                "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": g.b64bytes(g.r.randint(3000, 12000))}}],
            },
            "uuid": g.uuid(),
            "timestamp": _ts(g),
        }
    if k < 0.24 and agent == "claude":
        return {
            **_claude_env(g, cwd),
            "message": {
                "id": "msg_01" + g.mixed(ALNUM, 22),
                "type": "message",
                "role": "assistant",
                "model": "claude-opus-4-5",
                "content": [
                    {
                        "type": "thinking",
                        "thinking": f"The user wants the {g.word()} fix. Let me look at the token refresh path first.",
                        "signature": g.b64bytes(g.r.randint(300, 700)),
                    }
                ],
                "usage": _usage(g),
            },
            "type": "assistant",
            "uuid": g.uuid(),
            "timestamp": _ts(g),
        }
    if k < 0.3 and agent == "codex":
        return {
            "timestamp": _ts(g),
            "type": "response_item",
            "payload": {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": f"**Inspecting {g.word()}**"}],
                "content": None,
                "encrypted_content": "gAAAAA" + g.b64bytes(g.r.randint(400, 1200)).replace("+", "-").replace("/", "_"),
            },
        }
    if k < 0.35 and agent == "codex":
        return {
            "timestamp": _ts(g),
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {
                        "input_tokens": g.r.randint(1000, 90000),
                        "cached_input_tokens": 6912,
                        "output_tokens": 444,
                        "reasoning_output_tokens": 199,
                        "total_tokens": 9768,
                    },
                    "model_context_window": 258400,
                },
                "rate_limits": None,
            },
        }
    if k < 0.4 and agent == "pi":
        return {
            "type": "message",
            "id": g.s(HEX, 8),
            "parentId": g.s(HEX, 8),
            "timestamp": _ts(g),
            "message": {
                "role": "user",
                "content": [{"type": "image", "data": g.b64bytes(g.r.randint(3000, 9000)), "mimeType": "image/jpeg"}],
                "timestamp": 1765233665294,
            },
        }
    return _carry(g, agent, g.r.choice(_CARRIERS), _negative_text(g), cwd)


_CODE_LINES = (
    "import {w}",
    "from {w}.{w2} import {W}",
    "def {w}_{w2}(self, items: list[{W}]) -> dict[str, int]:",
    "    result = {{}}",
    "    for item in items:",
    "        if item.{w} is None:",
    "            continue",
    "        result[item.name] = result.get(item.name, 0) + 1",
    "    return result",
    "class {W}{W2}:",
    '    """Keeps the {w} state between {w2} calls."""',
    "    def __init__(self, {w}: int = 0) -> None:",
    "        self.{w} = {w}",
    "export function {w}{W2}(props: {W}Props) {{",
    "  const [{w}, set{W}] = useState<{W2} | null>(null);",
    "  useEffect(() => {{ load{W}().then(set{W}); }}, []);",
    '  return <div className="{w}-{w2}">{{{w}?.title}}</div>;',
    "}}",
    "SELECT {w}_id, count(*) FROM {w2} WHERE created_at > now() - interval '7 days' GROUP BY 1;",
    "    assert {w}.{w2}() == expected",
)


def _code_block(g: _Gen, n: int, numbered: bool) -> str:
    out = []
    for i in range(n):
        w, w2 = g.word(), g.word()
        line = g.r.choice(_CODE_LINES).format(w=w, w2=w2, W=w.title(), W2=w2.title())
        out.append(f"{i + 1:>6}\u2192{line}" if numbered else line)
    return "\n".join(out)


def _ordinary_text(g: _Gen, cwd: str) -> str:
    """Everyday trace content: prose, file reads, test runs, listings, diffs (few keywords)."""
    k = g.r.choices(range(6), weights=(15, 35, 12, 8, 15, 15))[0]
    w = g.word()
    if k == 0:
        return (
            f"I'll update the {w} module so that {g.word()} handles empty inputs, then run the tests. "
            f"The {g.word()} function currently returns early when the list is empty, which skips the "
            f"{g.word()} step. Let me read the file first and check how the {g.word()} helper is used."
        )
    if k == 1:  # a Read of a source file (the bulk of real trace bytes)
        return _code_block(g, int(g.r.lognormvariate(4.6, 0.8)) + 5, numbered=True)
    if k == 2:
        tests = "\n".join(f"tests/test_{g.word()}.py::test_{g.word()}_{g.word()} PASSED [{min(100, 5 * i)}%]" for i in range(g.r.randint(5, 20)))
        return f"============================= test session starts ==============================\n{tests}\n======================== {g.r.randint(5, 90)} passed in {g.r.random() * 9:.2f}s ========================"
    if k == 3:
        return "\n".join(
            f"-rw-r--r--  1 dev  staff  {g.r.randint(100, 99999):>6} Jan {g.r.randint(1, 28):>2} 10:{g.r.randint(10, 59)} {g.word()}_{g.word()}.py"
            for _ in range(g.r.randint(5, 25))
        )
    if k == 4:
        body = "\n".join(("+" if g.r.random() < 0.5 else "-") + ln for ln in _code_block(g, g.r.randint(4, 12), numbered=False).splitlines())
        return f"diff --git a/src/{w}.py b/src/{w}.py\nindex 3c1a2b4..8d9e0f1 100644\n--- a/src/{w}.py\n+++ b/src/{w}.py\n@@ -10,7 +10,8 @@\n{body}"
    return f"Done. I changed `{cwd}/src/{w}.py`: the `{g.word()}` loop now skips empty entries, and the {g.word()} tests cover it. All {g.r.randint(5, 90)} tests pass."


def _ordinary_line(g: _Gen, cwd: str) -> dict:
    agent = g.r.choice(_AGENTS)
    if agent == "codex" and g.r.random() < 0.25:
        return {
            "timestamp": _ts(g),
            "type": "turn_context",
            "payload": {
                "turn_id": g.uuid(),
                "cwd": cwd,
                "approval_policy": "on-request",
                "sandbox_policy": {"type": "workspace-write"},
                "model": "gpt-5.2-codex",
                "effort": "medium",
                "summary": "auto",
            },
        }
    if agent == "pi" and g.r.random() < 0.2:
        return {
            "type": "message",
            "id": g.s(HEX, 8),
            "parentId": g.s(HEX, 8),
            "timestamp": _ts(g),
            "message": {
                "role": "assistant",
                "content": [{"type": "text", "text": _ordinary_text(g, cwd)}],
                "api": "anthropic-messages",
                "provider": "anthropic",
                "model": "claude-opus-4-5",
                "usage": {
                    "input": g.r.randint(1, 9000),
                    "output": g.r.randint(1, 900),
                    "cacheRead": 0,
                    "cacheWrite": 0,
                    "totalTokens": 9900,
                    "cost": {"input": 0.01, "output": 0.02, "cacheRead": 0, "cacheWrite": 0, "total": 0.03},
                },
                "stopReason": "stop",
                "timestamp": 1765233665294,
            },
        }
    return _carry(g, agent, g.r.choice(_CARRIERS), _ordinary_text(g, cwd), cwd)


# ---------------------------------------------------------------------------------------------


def generate(n_secrets: int = 1200, *, negatives_per_secret: float = 2.0, ordinary_per_secret: float = 0.0, identities: int = 150, seed: int = 7) -> Corpus:
    """Build a corpus with ``n_secrets`` planted secrets (cycling through all kinds and
    contexts), ``identities`` planted emails/usernames/IPs, hard-negative lines and ordinary
    lines (everyday trace content with few credential words). Negative and ordinary lines both
    count as secret-free text for the false-redaction rate; :attr:`Corpus.ordinary` tells them
    apart."""
    g = _Gen(random.Random(seed))
    lines: list[bytes] = []
    planted: list[Planted] = []
    negative: list[int] = []
    home_names = [f"{g.word()}{g.r.randint(1, 99)}" for _ in range(6)]

    def cwd() -> str:
        return g.r.choice([f"/Users/{g.r.choice(home_names)}/src/{g.word()}", f"/home/{g.r.choice(home_names)}/work/{g.word()}", "/workspace/project"])

    order = [(k, c) for k in SECRET_KINDS for c in k.contexts]
    g.r.shuffle(order)
    n_neg = int(n_secrets * negatives_per_secret)
    n_ord = int(n_secrets * ordinary_per_secret)
    slots = ["s"] * n_secrets + ["n"] * n_neg + ["o"] * n_ord + ["i"] * identities
    g.r.shuffle(slots)
    si = 0
    ordinary: list[int] = []
    for slot in slots:
        if slot == "n":
            negative.append(len(lines))
            lines.append(_dump(g, _negative_line(g, cwd())))
            continue
        if slot == "o":
            negative.append(len(lines))
            ordinary.append(len(lines))
            lines.append(_dump(g, _ordinary_line(g, cwd())))
            continue
        agent = g.r.choice(_AGENTS)
        carrier = g.r.choice(_CARRIERS)
        if slot == "i":
            kind = g.r.choice(IDENTITY_KINDS)
            if kind == "email":
                value = f"{g.word()}.{g.word()}{g.r.randint(1, 99)}@{g.word()}-{g.word()}.com"
                text = f"Author: {g.word().title()} <{value}>\nDate: Tue Feb 3 2026"
            elif kind == "home_username":
                value = f"{g.word()}{g.word()}{g.r.randint(10, 99)}"
                text = f"ls: cannot access '/home/{value}/.config/{g.word()}': No such file or directory"
            else:
                value = f"{g.r.choice([g.r.randint(11, 126), g.r.randint(128, 223)])}.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(1, 254)}"
                text = f"ssh deploy@{value} 'systemctl restart {g.word()}'"
            planted.append(Planted(kind, value, len(lines), agent, carrier, "identity", category="identity"))
            lines.append(_dump(g, _carry(g, agent, carrier, text, cwd())))
            continue
        secret_kind, ctx = order[si % len(order)]
        si += 1
        secret = secret_kind.make(g)
        text = _context_text(g, secret_kind, ctx, secret)
        value = secret.replace("\n", "") if secret_kind.name == "private_key" else secret
        if secret_kind.name == "slack_webhook":
            value = secret.split("/services/", 1)[1]  # the URL prefix is public; the path is the secret
        planted.append(Planted(secret_kind.name, value, len(lines), agent, carrier, ctx))
        lines.append(_dump(g, _carry(g, agent, carrier, text, cwd())))
    return Corpus(lines=lines, planted=planted, negative=negative, ordinary=ordinary)


# ---------------------------------------------------------------------------------------------


def _decoded_text(line: bytes) -> str:
    """All string content of a JSON line (recursively into JSON-in-strings), joined."""
    parts: list[str] = []

    def walk(v, depth: int) -> None:
        if isinstance(v, str):
            parts.append(v)
            s = v.strip()
            if depth < 4 and s[:1] in "{[" and s[-1:] in "}]":
                try:
                    walk(json.loads(s), depth + 1)
                except ValueError:
                    pass
        elif isinstance(v, dict):
            for k, x in v.items():
                parts.append(k)
                walk(x, depth)
        elif isinstance(v, list):
            for x in v:
                walk(x, depth)

    try:
        walk(json.loads(line), 0)
    except ValueError:
        return line.decode("utf-8", "replace")
    return "\n".join(parts).replace("\n", "")


def _survives(secret: str, text: str, window: int = 16) -> bool:
    if len(secret) <= window:
        return secret in text
    starts = list(range(0, len(secret) - window + 1, 8)) + [len(secret) - window]
    return any(secret[i : i + window] in text for i in starts)


@dataclass
class BenchResult:
    secrets: int
    kinds: int
    recall: float
    missed: list[Planted]
    per_kind: dict[str, tuple[int, int]]
    per_carrier: dict[str, tuple[int, int]]
    identity_recall: float
    negative_mb: float
    false_redactions: int
    false_per_mb: float
    false_by_detector: dict[str, int]
    negative_identity_findings: int
    ordinary_mb: float
    false_ordinary: int
    mb: float
    cpu_seconds: float
    mb_per_s: float

    def summary(self) -> dict:
        return {
            "secrets": self.secrets,
            "kinds": self.kinds,
            "recall": round(self.recall, 4),
            "missed": len(self.missed),
            "identity_recall": round(self.identity_recall, 4),
            "negative_mb": round(self.negative_mb, 2),
            "false_redactions": self.false_redactions,
            "false_per_mb": round(self.false_per_mb, 3),
            "ordinary_mb": round(self.ordinary_mb, 2),
            "false_on_ordinary": self.false_ordinary,
            "mb": round(self.mb, 2),
            "mb_per_s": round(self.mb_per_s, 1),
        }


def evaluate(corpus: Corpus, redactor: Redactor) -> BenchResult:
    """Redact the corpus line by line (CPU time measured) and score recall and false redactions."""
    outputs: list[bytes] = []
    findings_per_line: list[list] = []
    t0 = time.process_time()
    for raw in corpus.lines:
        out, found, _ = redactor.redact_line(raw)
        outputs.append(out)
        findings_per_line.append(found)
    cpu = time.process_time() - t0
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_carrier: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed: list[Planted] = []
    ident_total = ident_hit = 0
    secrets = [p for p in corpus.planted if p.category == "secret"]
    for p in corpus.planted:
        text = _decoded_text(outputs[p.line])
        ok = not _survives(p.value, text)
        if p.category == "identity":
            ident_total += 1
            ident_hit += ok
            continue
        by_kind[p.kind][1] += 1
        by_kind[p.kind][0] += ok
        key = f"{p.agent}/{p.carrier}"
        by_carrier[key][1] += 1
        by_carrier[key][0] += ok
        if not ok:
            missed.append(p)
    false_by: Counter = Counter()
    ident_neg = 0
    ordinary = set(corpus.ordinary)
    false_ordinary = 0
    for i in corpus.negative:
        for f in findings_per_line[i]:
            if f.category == "secret":
                false_by[f.detector] += 1
                false_ordinary += i in ordinary
            else:
                ident_neg += 1
    neg_mb = corpus.negative_bytes() / 1e6
    ord_mb = sum(len(corpus.lines[i]) for i in ordinary) / 1e6
    mb = corpus.bytes / 1e6
    return BenchResult(
        secrets=len(secrets),
        kinds=len({p.kind for p in secrets}),
        recall=(len(secrets) - len(missed)) / max(1, len(secrets)),
        missed=missed,
        per_kind={k: (v[0], v[1]) for k, v in sorted(by_kind.items())},
        per_carrier={k: (v[0], v[1]) for k, v in sorted(by_carrier.items())},
        identity_recall=ident_hit / max(1, ident_total),
        negative_mb=neg_mb,
        false_redactions=sum(false_by.values()),
        false_per_mb=sum(false_by.values()) / neg_mb if neg_mb else 0.0,
        false_by_detector=dict(false_by),
        negative_identity_findings=ident_neg,
        ordinary_mb=ord_mb,
        false_ordinary=false_ordinary,
        mb=mb,
        cpu_seconds=cpu,
        mb_per_s=mb / cpu if cpu > 0 else float("inf"),
    )
