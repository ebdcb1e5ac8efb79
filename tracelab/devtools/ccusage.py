"""Harness for the ccusage peer CLI, used to check tracelab's token totals against it.

tracelab's per-UTC-day, per-model token totals are meant to equal
``ccusage <agent> daily --json --offline -z UTC`` on the same files, except where
``docs/ccusage-parity.md`` documents a dedup rule on which tracelab is right. This module
is the peer side of that comparison. It has four parts:

* :func:`ensure_ccusage` installs the pinned npm packages (``ccusage@20.0.24`` plus the
  native binary package for this platform) into a cache directory. The install happens
  once and is guarded by a file lock, so concurrent pytest-xdist workers can share it.
* :func:`stage_corpus` lays out session files the way each agent's discovery expects. It
  uses hardlinks, and copies when hardlinks fail. It never uses symlinks: ccusage 20.0.24
  skips symlinked files and symlinked directories during discovery (tested by us; see the
  parity doc).
* :func:`run_ccusage` runs the CLI against a staged directory only. ``HOME``, the XDG dirs
  and the working directory point at a fresh temp dir, and only the agent's own data
  variable is set, so the real machine's logs and config never get in.
* :func:`daily_model_totals` turns the two JSON shapes (Claude/Pi ``modelBreakdowns`` and
  Codex ``models``) into flat rows with one vocabulary.

The exact subcommands are ``ccusage claude daily``, ``ccusage codex daily`` and
``ccusage pi daily``. The bare ``ccusage daily`` is a unified report over every detected
agent: it uses ``period`` instead of ``date`` and would also scan ``HOME`` for the other
agents.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tracelab.errors import PeerUnavailable, TracelabError

CCUSAGE_VERSION = "20.0.24"

#: Agent name as ccusage spells the subcommand -> environment variable naming its data root.
AGENT_HOME_ENV: Mapping[str, str] = {
    "claude": "CLAUDE_CONFIG_DIR",
    "codex": "CODEX_HOME",
    "pi": "PI_AGENT_DIR",
    # ccusage's own variable for the Gemini CLI data dir (``~/.gemini``); it reads
    # ``<dir>/tmp/<project hash>/chats/session-*.json``
    "gemini": "GEMINI_DATA_DIR",
}

#: npm package holding the static native binary, keyed by (sys.platform, machine).
_NATIVE_PACKAGES: Mapping[tuple[str, str], str] = {
    ("linux", "x86_64"): "@ccusage/ccusage-linux-x64",
    ("linux", "amd64"): "@ccusage/ccusage-linux-x64",
    ("linux", "aarch64"): "@ccusage/ccusage-linux-arm64",
    ("linux", "arm64"): "@ccusage/ccusage-linux-arm64",
    ("darwin", "arm64"): "@ccusage/ccusage-darwin-arm64",
    ("darwin", "x86_64"): "@ccusage/ccusage-darwin-x64",
}

# Variables ccusage (or the agents it emulates) reads to find data or config. None of them
# is passed through from the caller's environment.
_AGENT_DATA_VARS = (*AGENT_HOME_ENV.values(), "PI_CODING_AGENT_DIR")

_INSTALL_TIMEOUT_S = 600.0
_LOCK_TIMEOUT_S = 900.0
_STAMP_NAME = ".tracelab-install-ok"

_last_unavailable_reason: str | None = None


class CcusageUnavailable(PeerUnavailable, RuntimeError):
    """ccusage could not be installed or started here. ``str(exc)`` says why."""


class CcusageError(TracelabError, RuntimeError):
    """ccusage ran but failed (non-zero exit or unparseable output)."""

    def __init__(self, message: str, *, argv: Sequence[str], returncode: int, stderr: str):
        super().__init__(message)
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr


# --------------------------------------------------------------------------------------
# install
# --------------------------------------------------------------------------------------


def _repo_root() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "tracelab").is_dir() else None


def peers_cache_dir() -> Path:
    """Directory holding the ccusage install.

    It is ``$TRACELAB_PEERS_DIR/ccusage`` if that variable is set, else ``<repo>/.peers/ccusage``
    (``.peers/`` is gitignored). The user cache dir is used only when tracelab is not running
    from a source checkout.
    """
    env = os.environ.get("TRACELAB_PEERS_DIR")
    if env:
        return Path(env).expanduser().resolve() / "ccusage"
    root = _repo_root()
    if root is not None:
        return root / ".peers" / "ccusage"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tracelab" / "peers" / "ccusage"


def native_package_name() -> str | None:
    """npm package name of the native ccusage binary for this machine, or None if unsupported."""
    return _NATIVE_PACKAGES.get((sys.platform, platform.machine().lower()))


def ccusage_unavailable_reason() -> str | None:
    """Why the last :func:`ensure_ccusage` call returned None, or None if it succeeded."""
    return _last_unavailable_reason


def _fail(reason: str) -> None:
    global _last_unavailable_reason
    _last_unavailable_reason = reason


def _wrapper_path(prefix: Path) -> Path:
    return prefix / "node_modules" / ".bin" / "ccusage"


def native_binary_path(exe: Path) -> Path:
    """Path of the native binary that the npm wrapper ``exe`` (``node_modules/.bin/ccusage``) launches."""
    package = native_package_name()
    if package is None:
        raise CcusageUnavailable(f"no native ccusage package for {sys.platform}/{platform.machine()}")
    node_modules = exe.parent.parent
    return node_modules.joinpath(*package.split("/"), "bin", "ccusage")


def _installed_version(exe: Path, env: Mapping[str, str], cwd: Path) -> str:
    proc = subprocess.run(
        [str(exe), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(env),
        cwd=cwd,
        check=False,
    )
    if proc.returncode != 0:
        raise CcusageUnavailable(f"`ccusage --version` exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return proc.stdout.strip()


def _is_installed(prefix: Path) -> bool:
    stamp = prefix / _STAMP_NAME
    return stamp.is_file() and stamp.read_text().strip() == CCUSAGE_VERSION and _wrapper_path(prefix).exists()


class _FileLock:
    """Exclusive advisory lock on a file (``flock``); blocks up to ``timeout`` seconds."""

    def __init__(self, path: Path, timeout: float):
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> _FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise TimeoutError(f"timed out after {self.timeout:.0f}s waiting for {self.path}") from exc
                time.sleep(0.2)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _npm_error_summary(text: str, limit: int = 6) -> str:
    """The informative lines of npm's error output (error code, message), without stack frames."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(("npm error     at", "at "))]
    lines = [ln for ln in lines if "complete log of this run" not in ln]
    return " | ".join(lines[:limit])[:800] or "(no output)"


_install_failure: str | None = None


def ensure_ccusage() -> Path | None:
    """Install ``ccusage@20.0.24`` and its native package if needed, then return the executable.

    The result is ``<cache>/20.0.24/node_modules/.bin/ccusage``: the npm wrapper script that
    execs the native binary, i.e. what a user runs. If node/npm are missing, the platform has
    no native package, or the install or version check fails, it returns None and
    :func:`ccusage_unavailable_reason` says why.

    Safe to call concurrently from several processes. The first caller installs into a temp
    dir next to the target while holding a ``flock``, checks ``--version``, then renames the
    temp dir into place. Other callers wait on the lock and then find the stamp file.
    """
    global _last_unavailable_reason, _install_failure
    _last_unavailable_reason = None
    base = peers_cache_dir()
    prefix = base / CCUSAGE_VERSION
    if _is_installed(prefix):
        return _wrapper_path(prefix)
    if _install_failure is not None:  # don't re-run a failed npm install in the same process
        _fail(_install_failure)
        return None
    result = _install(base, prefix)
    if result is None:
        _install_failure = _last_unavailable_reason
    return result


def _install(base: Path, prefix: Path) -> Path | None:
    """npm-install into a staging dir under ``base`` and rename it to ``prefix`` (under the lock)."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
        _fail(f"{missing} not found on PATH; ccusage {CCUSAGE_VERSION} needs Node.js and npm to install")
        return None
    native = native_package_name()
    if native is None:
        _fail(f"ccusage ships no native binary for {sys.platform}/{platform.machine()}")
        return None

    try:
        with _FileLock(base / ".install.lock", _LOCK_TIMEOUT_S):
            if _is_installed(prefix):
                return _wrapper_path(prefix)
            staging = Path(tempfile.mkdtemp(prefix=f".{CCUSAGE_VERSION}.partial-", dir=base))
            try:
                staging.chmod(0o755)
                (staging / "package.json").write_text(json.dumps({"name": "tracelab-peer-ccusage", "private": True}) + "\n")
                argv = [
                    npm,
                    "install",
                    "--prefix",
                    str(staging),
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--ignore-scripts",
                    "--loglevel=error",
                    "--prefer-offline",
                    f"ccusage@{CCUSAGE_VERSION}",
                    f"{native}@{CCUSAGE_VERSION}",
                ]
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S, cwd=staging, check=False)
                if proc.returncode != 0:
                    _fail(f"`npm install ccusage@{CCUSAGE_VERSION}` exited {proc.returncode}: " + _npm_error_summary(proc.stderr or proc.stdout))
                    return None
                binary = native_binary_path(_wrapper_path(staging))
                if not binary.is_file():
                    _fail(f"npm install finished but {binary} is missing")
                    return None
                # The npm tarball stores the binary as 0644; the wrapper would chmod it on
                # first run, racily under xdist. Do it once, here, under the lock.
                binary.chmod(0o755)
                env = {"PATH": os.environ.get("PATH", ""), "HOME": str(staging), "NO_COLOR": "1"}
                version = _installed_version(_wrapper_path(staging), env, staging)
                if CCUSAGE_VERSION not in version:
                    _fail(f"installed ccusage reports version {version!r}, expected {CCUSAGE_VERSION}")
                    return None
                (staging / _STAMP_NAME).write_text(CCUSAGE_VERSION + "\n")
                if prefix.exists():  # an earlier, interrupted install
                    shutil.rmtree(prefix)
                staging.rename(prefix)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
    except (OSError, subprocess.SubprocessError, TimeoutError, CcusageUnavailable) as exc:
        _fail(f"installing ccusage {CCUSAGE_VERSION} failed: {exc}")
        return None
    return _wrapper_path(prefix)


# --------------------------------------------------------------------------------------
# staging
# --------------------------------------------------------------------------------------

SourceSpec = Path | str | tuple[str | PurePosixPath, Path | str]


def _first_json_lines(path: Path, limit: int = 50) -> Iterable[dict[str, Any]]:
    with path.open("rb") as fh:
        for i, raw in enumerate(fh):
            if i >= limit:
                return
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict):
                yield obj


def _codex_start_date(path: Path) -> tuple[str, str, str] | None:
    """(YYYY, MM, DD) of the rollout's first timestamp, as Codex names its date dirs."""
    for obj in _first_json_lines(path):
        payload = obj.get("payload")
        stamp = None
        if obj.get("type") == "session_meta" and isinstance(payload, dict):
            stamp = payload.get("timestamp")
        stamp = stamp or obj.get("timestamp")
        if isinstance(stamp, str) and len(stamp) >= 10 and stamp[4] == "-" and stamp[7] == "-":
            return stamp[0:4], stamp[5:7], stamp[8:10]
    return None


def _pi_session_dir(path: Path) -> str:
    """Pi's directory name for a session's cwd: ``--<cwd without leading sep, [/\\:] -> ->--``."""
    for obj in _first_json_lines(path, limit=1):
        cwd = obj.get("cwd")
        if obj.get("type") == "session" and isinstance(cwd, str) and cwd:
            stripped = cwd[1:] if cwd[0] in "/\\" else cwd
            return "--" + stripped.replace("/", "-").replace("\\", "-").replace(":", "-") + "--"
    return "--unknown--"


def _gemini_project_hash(path: Path) -> str:
    """The recording's ``projectHash`` (the CLI's ``tmp/<hash>`` dir name), else ``project``."""
    try:
        doc = json.loads(path.read_bytes())
    except ValueError:
        return "project"
    h = doc.get("projectHash") if isinstance(doc, dict) else None
    return h if isinstance(h, str) and h and "/" not in h and h not in (".", "..") else "project"


def _claude_relpath(src: Path) -> PurePosixPath:
    parts = src.parts
    if "subagents" in parts[:-1]:
        i = len(parts) - 1 - parts[::-1].index("subagents")
        if i >= 2:
            session, project = parts[i - 1], parts[i - 2]
            return PurePosixPath("projects", project, session, *parts[i:])
    return PurePosixPath("projects", src.parent.name or "project", src.name)


def default_relpath(agent: str, src: Path) -> PurePosixPath:
    """Where :func:`stage_corpus` puts ``src`` under the staged home when the caller doesn't say.

    * claude: ``projects/<parent dir name>/<file>``. A file below ``<session>/subagents/`` keeps
      ``projects/<project>/<session>/subagents/…`` intact.
    * codex: ``sessions/YYYY/MM/DD/<file>``, with the date from ``session_meta`` or the first
      timestamp, else ``sessions/<file>``. ccusage 20.0.24 needs neither the date dirs nor the
      ``rollout-`` prefix: it loads every ``*.jsonl`` below ``sessions/``. The date dirs only
      matter to its ``--since`` file pre-filter.
    * pi: ``sessions/--<encoded cwd>--/<file>``, the same as pi itself.
    """
    if agent == "claude":
        return _claude_relpath(src)
    if agent == "codex":
        date = _codex_start_date(src)
        return PurePosixPath("sessions", *date, src.name) if date else PurePosixPath("sessions", src.name)
    if agent == "pi":
        return PurePosixPath("sessions", _pi_session_dir(src), src.name)
    if agent == "gemini":
        return PurePosixPath("tmp", _gemini_project_hash(src), "chats", src.name if src.name.startswith("session-") else f"session-{src.name}")
    raise ValueError(f"unknown agent {agent!r}; expected one of {sorted(AGENT_HOME_ENV)}")


def _check_dest_outside_repo(dest: Path) -> None:
    root = _repo_root()
    if root is None:
        return
    dest = dest.resolve()
    allowed = (root / ".peers", root / "benchmarks" / "work")
    if dest.is_relative_to(root) and not any(dest.is_relative_to(a) for a in allowed):
        raise ValueError(f"refusing to stage session files inside the repository: {dest}")


def _place(src: Path, target: Path) -> str:
    """Hardlink ``src`` at ``target``, else copy. Returns ``"link"`` or ``"copy"``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, target)
        return "link"
    except OSError:
        shutil.copyfile(src, target)
        return "copy"


def stage_corpus(agent: str, files: Iterable[SourceSpec], dest: Path | str) -> Path:
    """Lay out session files under ``dest`` for ``ccusage <agent>`` and return ``dest``.

    Pass the returned directory to :func:`run_ccusage` as ``home_dir``. It works as
    ``CLAUDE_CONFIG_DIR``, ``CODEX_HOME`` or ``PI_AGENT_DIR``.

    ``files`` holds source paths, which are placed by :func:`default_relpath`, and/or
    ``(relative_target, source)`` pairs for full control, e.g. a resume copy that should sit in
    the same project. Files are hardlinked, or copied when linking fails (cross-device, or
    permissions). ``dest`` must be outside the repository: staging never writes into the repo
    tree, except the gitignored ``.peers/`` and ``benchmarks/work/``.
    """
    if agent not in AGENT_HOME_ENV:
        raise ValueError(f"unknown agent {agent!r}; expected one of {sorted(AGENT_HOME_ENV)}")
    dest = Path(dest)
    _check_dest_outside_repo(dest)
    dest.mkdir(parents=True, exist_ok=True)
    seen: dict[PurePosixPath, Path] = {}
    for spec in files:
        if isinstance(spec, tuple):
            rel, src = PurePosixPath(spec[0]), Path(spec[1])
        else:
            src = Path(spec)
            rel = default_relpath(agent, src)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"relative target must stay inside dest: {rel}")
        if not src.is_file():
            raise FileNotFoundError(src)
        if rel in seen:
            raise ValueError(f"two sources map to {rel}: {seen[rel]} and {src}")
        seen[rel] = src
        _place(src, dest.joinpath(*rel.parts))
    # ccusage refuses a CLAUDE_CONFIG_DIR without projects/; an empty corpus is still valid.
    if agent == "claude":
        (dest / "projects").mkdir(exist_ok=True)
    elif agent == "gemini":
        (dest / "tmp").mkdir(exist_ok=True)
    else:
        (dest / "sessions").mkdir(exist_ok=True)
    return dest


def shared_sample_files(agent: str, samples_root: Path) -> list[Path]:
    """Every session file of ``agent`` in the shared samples tree (``samples/{claude-code,codex,pi}``).

    Only ``*.jsonl`` files count; ``*.json`` sidecars (Entire metadata, subagent ``.meta.json``,
    pi's single-message ``.json``) are not session logs.
    """
    if agent == "gemini":  # whole-JSON recordings
        return sorted(p for p in (samples_root / "gemini-cli").glob("*.json") if p.is_file())
    sub = {"claude": "claude-code", "codex": "codex", "pi": "pi"}[agent]
    return sorted(p for p in (samples_root / sub).rglob("*.jsonl") if p.is_file())


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------


def _isolated_env(agent: str, home_dir: Path, fake_home: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(fake_home),
        "XDG_CONFIG_HOME": str(fake_home / ".config"),
        "XDG_CACHE_HOME": str(fake_home / ".cache"),
        "XDG_DATA_HOME": str(fake_home / ".local" / "share"),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
    }
    for var in _AGENT_DATA_VARS:
        env.pop(var, None)
    env[AGENT_HOME_ENV[agent]] = str(Path(home_dir).resolve())
    return env


def ccusage_argv(exe: Path, agent: str, report: str = "daily", extra_args: Sequence[str] = ()) -> list[str]:
    """``[exe, agent, report, --json, --offline, -z, UTC, *extra_args]``."""
    if agent not in AGENT_HOME_ENV:
        raise ValueError(f"unknown agent {agent!r}; expected one of {sorted(AGENT_HOME_ENV)}")
    return [str(exe), agent, report, "--json", "--offline", "-z", "UTC", *extra_args]


@dataclass(frozen=True)
class _Run:
    argv: list[str]
    stdout: str
    seconds: float


def _run(
    agent: str,
    home_dir: Path | str,
    report: str,
    extra_args: Sequence[str],
    exe: Path | None,
    timeout: float,
) -> _Run:
    if exe is None:
        exe = ensure_ccusage()
        if exe is None:
            raise CcusageUnavailable(ccusage_unavailable_reason() or "ccusage unavailable")
    argv = ccusage_argv(exe, agent, report, extra_args)
    with tempfile.TemporaryDirectory(prefix="tracelab-ccusage-home-") as fake:
        fake_home = Path(fake)
        env = _isolated_env(agent, Path(home_dir), fake_home)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=fake_home, timeout=timeout, check=False)
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise CcusageError(
            f"{' '.join(argv[1:])} exited {proc.returncode}: {proc.stderr.strip()[-1000:]}",
            argv=argv,
            returncode=proc.returncode,
            stderr=proc.stderr,
        )
    return _Run(argv=argv, stdout=proc.stdout, seconds=seconds)


def run_ccusage(
    agent: str,
    home_dir: Path | str,
    report: str = "daily",
    extra_args: Sequence[str] = (),
    *,
    exe: Path | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Run ``ccusage <agent> <report> --json --offline -z UTC`` on a staged dir; return its JSON.

    ``home_dir`` is what :func:`stage_corpus` returned. It is passed as ``CLAUDE_CONFIG_DIR``,
    ``CODEX_HOME`` or ``PI_AGENT_DIR``. The process gets a throwaway ``HOME``/XDG dirs/cwd and no
    other agent variables. Raises :class:`CcusageUnavailable` when ccusage cannot be installed, and
    :class:`CcusageError` on a non-zero exit or non-JSON output.
    """
    run = _run(agent, home_dir, report, extra_args, exe, timeout)
    try:
        result = json.loads(run.stdout)
    except ValueError as exc:
        raise CcusageError(f"ccusage printed non-JSON output: {run.stdout[:300]!r}", argv=run.argv, returncode=0, stderr="") from exc
    if not isinstance(result, dict):
        raise CcusageError("ccusage JSON is not an object", argv=run.argv, returncode=0, stderr="")
    return result


def time_ccusage(
    agent: str,
    home_dir: Path | str,
    report: str = "daily",
    extra_args: Sequence[str] = (),
    *,
    exe: Path | None = None,
    repeat: int = 3,
    warmup: int = 1,
    timeout: float = 600.0,
) -> float:
    """Median wall-clock seconds of ``repeat`` whole-process runs (after ``warmup`` unmeasured runs).

    Each run is timed from spawn to exit, so the number includes node's start-up for the npm
    wrapper, file discovery, parsing, dedup and JSON output. That is what a user waits for.
    Pass ``exe=native_binary_path(ensure_ccusage())`` to time the native binary without node.
    """
    if repeat < 1:
        raise ValueError("repeat must be >= 1")
    for _ in range(warmup):
        _run(agent, home_dir, report, extra_args, exe, timeout)
    return statistics.median(_run(agent, home_dir, report, extra_args, exe, timeout).seconds for _ in range(repeat))


# --------------------------------------------------------------------------------------
# normalising
# --------------------------------------------------------------------------------------

_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def _breakdown_row(day: str, model: str | None, b: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "day": day,
        "model": model,
        "input_tokens": int(b.get("inputTokens", 0)),
        "output_tokens": int(b.get("outputTokens", 0)),
        "cache_read_tokens": int(b.get("cacheReadTokens", 0)),
        "cache_write_tokens": int(b.get("cacheCreationTokens", 0)),
        "reasoning_output_tokens": (int(b["reasoningOutputTokens"]) if "reasoningOutputTokens" in b else None),
        "cost_usd": (float(b["cost"]) if "cost" in b else None),
        "is_fallback_model": bool(b.get("isFallback", False)),
    }


def daily_model_totals(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flatten a ``ccusage <agent> daily --json`` result into one row per (day, model).

    Every row has the keys ``day`` (``YYYY-MM-DD`` in the ``-z`` timezone), ``model``,
    ``input_tokens``, ``output_tokens``, ``cache_read_tokens``, ``cache_write_tokens``,
    ``reasoning_output_tokens`` (Codex only, else None; it is part of ``output_tokens``),
    ``total_tokens``, ``cost_usd`` and ``is_fallback_model``.

    The vocabulary is the same for all agents. ``input_tokens`` is *uncached* input: for Codex,
    ccusage already subtracts ``cached_input_tokens`` from the logged ``input_tokens``. So
    ``total_tokens = input + output + cache_read + cache_write`` everywhere.

    Claude/Pi JSON has ``modelBreakdowns[]``, Codex JSON has a ``models`` object, and the
    unified report has ``period`` instead of ``date``. ccusage adds usage that has no model (for
    Claude, ``<synthetic>`` or a missing ``message.model``) to the day totals but to no breakdown.
    That remainder becomes a row with ``model=None``, so the rows of a day always sum to its totals.
    """
    rows: list[dict[str, Any]] = []
    for day_obj in result.get("daily", []):
        day = day_obj.get("date") or day_obj.get("period")
        if not isinstance(day, str):
            raise ValueError(f"daily row without date/period: {day_obj!r}")
        day_rows: list[dict[str, Any]] = []
        if isinstance(day_obj.get("modelBreakdowns"), list):
            for b in day_obj["modelBreakdowns"]:
                day_rows.append(_breakdown_row(day, b.get("modelName"), b))
        elif isinstance(day_obj.get("models"), Mapping):
            for model, b in day_obj["models"].items():
                day_rows.append(_breakdown_row(day, model, b))
        day_total = _breakdown_row(day, None, day_obj)
        residual = {f: day_total[f] - sum(r[f] for r in day_rows) for f in _TOKEN_FIELDS}
        if any(residual.values()):
            rest = dict(day_total, **residual)
            if day_total["reasoning_output_tokens"] is not None:
                rest["reasoning_output_tokens"] = day_total["reasoning_output_tokens"] - sum(r["reasoning_output_tokens"] or 0 for r in day_rows)
            rest["cost_usd"] = None
            day_rows.append(rest)
        rows.extend(day_rows)
    for r in rows:
        r["total_tokens"] = sum(r[f] for f in _TOKEN_FIELDS)
    rows.sort(key=lambda r: (r["day"], r["model"] is None, r["model"] or ""))
    return rows
