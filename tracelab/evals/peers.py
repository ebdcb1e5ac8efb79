"""The real Promptfoo, to check exported configs: install it, validate, run assertions.

* :func:`ensure_promptfoo` installs ``promptfoo@0.115.0`` from npm into a cache directory
  (``$TRACELAB_PEERS_DIR/promptfoo``, else ``<repo>/.peers/promptfoo``, gitignored) once,
  under a file lock so parallel test workers share it. Install scripts are skipped
  (``--ignore-scripts``): they download a Chromium build for Playwright and compile
  ``better-sqlite3`` against headers fetched from nodejs.org, neither of which validation or
  assertion grading needs (without the sqlite binding promptfoo logs a migration error on
  stderr and carries on).
* :func:`validate` runs ``promptfoo validate -c CONFIG`` (the 0.115 syntax; exit 0 and
  "Configuration is valid." on success).
* :func:`check_config` loads promptfoo as a library under Node and, for a config, parses
  every test and assertion with promptfoo's own zod schemas (``TestCaseSchema``,
  ``AssertionSchema`` — stricter than ``validate``, which accepts unknown assertion types) and
  grades given outputs with ``assertions.runAssertion`` — promptfoo's own implementation of
  ``not-contains``, ``not-icontains`` and ``javascript`` (``llm-rubric`` needs a grader model
  and is skipped).

Every promptfoo run gets a fresh ``HOME`` and ``PROMPTFOO_DISABLE_TELEMETRY=1``, so nothing is
read from or written to the real home directory (the npm install itself uses the real one, so
the user's npm registry and certificate settings apply).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tracelab.errors import PeerUnavailable

PROMPTFOO_VERSION = "0.115.0"
_STAMP = ".tracelab-install-ok"
_INSTALL_TIMEOUT_S = 900.0
_LOCK_TIMEOUT_S = 1200.0


class PromptfooUnavailable(PeerUnavailable, RuntimeError):
    """promptfoo cannot be installed or started here; ``str(exc)`` says why."""


def peers_dir() -> Path:
    env = os.environ.get("TRACELAB_PEERS_DIR")
    if env:
        return Path(env).expanduser().resolve() / "promptfoo"
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "tracelab").is_dir():
        return root / ".peers" / "promptfoo"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tracelab" / "peers" / "promptfoo"


def _bin(prefix: Path) -> Path:
    return prefix / "node_modules" / ".bin" / "promptfoo"


def _installed(prefix: Path) -> bool:
    stamp = prefix / _STAMP
    return stamp.is_file() and stamp.read_text().strip() == PROMPTFOO_VERSION and _bin(prefix).exists()


def _env(home: str | None) -> dict[str, str]:
    """The caller's environment (certificates, proxies, registry settings) with promptfoo's
    telemetry and update checks off; with ``home``, HOME and the XDG dirs point into it so a
    run reads and writes no real user state."""
    env = dict(os.environ)
    for k in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "PROMPTFOO_CONFIG_DIR"):
        env.pop(k, None)
    env.update(
        PROMPTFOO_DISABLE_TELEMETRY="1",
        PROMPTFOO_DISABLE_UPDATE="1",
        PROMPTFOO_DISABLE_REMOTE_GENERATION="1",
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
        NO_COLOR="1",
    )
    if home is not None:
        env["HOME"] = home
    return env


class _Lock:
    def __init__(self, path: Path, timeout: float) -> None:
        self.path, self.timeout, self.fd = path, timeout, -1

    def __enter__(self) -> _Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    os.close(self.fd)
                    raise
                time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def ensure_promptfoo(prefix: Path | None = None) -> Path:
    """The install prefix holding promptfoo (installing it first if needed).

    Raises :class:`PromptfooUnavailable` with the reason when node/npm are missing or the
    install fails (no network, registry unreachable)."""
    prefix = prefix or peers_dir()
    if _installed(prefix):
        return prefix
    if not shutil.which("node") or not shutil.which("npm"):
        raise PromptfooUnavailable("node and npm are needed to install promptfoo and are not on PATH")
    with _Lock(prefix.parent / f".{prefix.name}.lock", _LOCK_TIMEOUT_S):
        if _installed(prefix):
            return prefix
        prefix.mkdir(parents=True, exist_ok=True)
        # the install keeps the real HOME: the user's ~/.npmrc (registry, CA file) applies
        try:
            proc = subprocess.run(
                [
                    "npm",
                    "install",
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    "--prefix",
                    str(prefix),
                    f"promptfoo@{PROMPTFOO_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=_INSTALL_TIMEOUT_S,
                env=_env(None),
                cwd=prefix,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PromptfooUnavailable(f"npm install promptfoo@{PROMPTFOO_VERSION} timed out after {_INSTALL_TIMEOUT_S:.0f}s") from None
        if proc.returncode != 0 or not _bin(prefix).exists():
            raise PromptfooUnavailable(
                f"npm install promptfoo@{PROMPTFOO_VERSION} failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-800:]}"
            )
        (prefix / _STAMP).write_text(PROMPTFOO_VERSION + "\n")
    return prefix


def validate(config: str | os.PathLike, prefix: Path | None = None) -> subprocess.CompletedProcess:
    """``promptfoo validate -c CONFIG`` in a scratch HOME (returns the completed process)."""
    prefix = ensure_promptfoo(prefix)
    with tempfile.TemporaryDirectory(prefix="tracelab-promptfoo-") as home:
        return subprocess.run(
            [str(_bin(prefix)), "validate", "-c", str(Path(config).resolve())],
            capture_output=True,
            text=True,
            timeout=300,
            env=_env(home),
            cwd=home,
            check=False,
        )


_CHECK_JS = r"""
const path = require('path');
const fs = require('fs');
const [prefix, configPath, outputsPath] = process.argv.slice(2);
const nm = path.join(prefix, 'node_modules');
const pf = require(path.join(nm, 'promptfoo'));
const yaml = require(path.join(nm, 'js-yaml'));
const config = yaml.load(fs.readFileSync(configPath, 'utf8'));
const outputs = JSON.parse(fs.readFileSync(outputsPath, 'utf8'));
(async () => {
  const result = { config: null, tests: [] };
  const c = pf.UnifiedConfigSchema.safeParse(config);
  result.config = c.success ? null : c.error.issues.map(i => `${i.path.join('.')}: ${i.message}`);
  for (let i = 0; i < config.tests.length; i++) {
    const test = config.tests[i];
    const tc = pf.TestCaseSchema.safeParse(test);
    const entry = {
      schema: tc.success ? null : tc.error.issues.map(x => `${x.path.join('.')}: ${x.message}`),
      asserts: (test.assert || []).map(a => {
        const r = pf.AssertionSchema.safeParse(a);
        return r.success ? null : r.error.issues.map(x => `${x.path.join('.')}: ${x.message}`);
      }),
      graded: [],
    };
    for (const output of (outputs[i] || [])) {
      const row = [];
      for (const assertion of (test.assert || [])) {
        if (assertion.type === 'llm-rubric') { row.push(null); continue; }
        const g = await pf.assertions.runAssertion({ assertion, test, providerResponse: { output } });
        row.push({ pass: g.pass, reason: g.reason });
      }
      entry.graded.push(row);
    }
    result.tests.push(entry);
  }
  process.stdout.write(JSON.stringify(result));
})().catch(e => { process.stderr.write(String(e && e.stack || e)); process.exit(2); });
"""


def check_config(config: str | os.PathLike, outputs: list[list[str]], prefix: Path | None = None) -> dict[str, Any]:
    """Schema-check a config and grade ``outputs[i]`` (answers) against test ``i``'s assertions.

    Returns ``{"config": issues|None, "tests": [{"schema": issues|None, "asserts": [issues|None…],
    "graded": [[{"pass", "reason"}|None per assertion] per output]}]}``."""
    prefix = ensure_promptfoo(prefix)
    with tempfile.TemporaryDirectory(prefix="tracelab-promptfoo-") as home:
        script = Path(home) / "check.js"
        script.write_text(_CHECK_JS)
        outs = Path(home) / "outputs.json"
        outs.write_text(json.dumps(outputs))
        proc = subprocess.run(
            ["node", str(script), str(prefix), str(Path(config).resolve()), str(outs)],
            capture_output=True,
            text=True,
            timeout=300,
            env=_env(home),
            cwd=home,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"promptfoo check failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}")
    return json.loads(proc.stdout)
