"""Shell commands and their output, for the shell-like tools of all three agents
(Claude ``Bash``, Codex ``exec_command``/``shell``, Pi ``bash``).

:func:`ok_run` makes a successful command; :func:`failing_run` makes a command whose output
contains a rendered failure family verbatim. The agent modules wrap these in their own result
format (``Exit code N`` prefix, Codex's ``Wall time`` header, Pi's ``Command exited with code``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from . import text as T
from .families import FAMILIES, Rendered

#: Shell failure families that only make sense for one language; the rest fit any project.
LANG_ONLY = {
    "py_module_not_found": "python",
    "pytest_failed": "python",
    "py_keyerror": "python",
    "ts_cannot_find_name": "ts",
    "npm_404": "ts",
    "rust_cannot_find_value": "rust",
    "go_undefined": "go",
}


@dataclass(frozen=True)
class ShellRun:
    command: str
    stdout: str
    stderr: str
    exit_code: int

    @property
    def output(self) -> str:
        if self.stdout and self.stderr:
            return self.stdout.rstrip("\n") + "\n" + self.stderr
        return self.stdout or self.stderr


def family_fits(family_id: str, lang: str) -> bool:
    need = LANG_ONLY.get(family_id)
    return need is None or need == lang


def _listing(rng: random.Random, proj: T.Project) -> str:
    rows = []
    for f in rng.sample(proj.files, min(len(proj.files), rng.randint(6, 20))):
        rows.append(
            f"-rw-r--r--  1 {proj.user}  staff  {len(f.content):>7} Oct  {rng.randint(1, 28):>2} "
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} {f.path.rsplit('/', 1)[-1]}"
        )
    return f"total {len(rows) * 8}\n" + "\n".join(rows) + "\n"


def _grep(rng: random.Random, proj: T.Project) -> tuple[str, str]:
    word = rng.choice(T.WORDS)
    out = [f"{path}:{i}:{ln.strip()}" for path, i, ln in T.word_hits(proj.name, word)[:60]]
    return f"rg -n '{word}' .", "\n".join(out) + ("\n" if out else "")


def _tests_ok(rng: random.Random, proj: T.Project) -> tuple[str, str]:
    n = rng.randint(8, 600)
    secs = rng.uniform(0.3, 40)
    if proj.lang == "python":
        dots = "".join("." for _ in range(n))
        lines = [dots[i : i + 80] for i in range(0, n, 80)]
        return "pytest -q", "\n".join(lines) + f"\n{n} passed in {secs:.2f}s\n"
    if proj.lang == "ts":
        suites = [f"PASS tests/{rng.choice(T.WORDS)}.test.ts ({rng.uniform(0.1, 4):.3f} s)" for _ in range(rng.randint(3, 30))]
        return "npm test -- --silent", "\n".join(
            suites
        ) + f"\n\nTest Suites: {len(suites)} passed, {len(suites)} total\nTests:       {n} passed, {n} total\nTime:        {secs:.3f} s\n"
    if proj.lang == "go":
        pk = [f"ok  \tgithub.com/{proj.user}/{proj.name}/internal/{rng.choice(T.WORDS)}\t{rng.uniform(0.01, 3):.3f}s" for _ in range(rng.randint(3, 14))]
        return "go test ./...", "\n".join(pk) + "\n"
    tests = [f"test {rng.choice(T.WORDS)}::{T._ident(rng)} ... ok" for _ in range(min(n, 120))]
    return "cargo test", f"running {len(tests)} tests\n" + "\n".join(
        tests
    ) + f"\n\ntest result: ok. {len(tests)} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in {secs:.2f}s\n"


def ok_run(rng: random.Random, proj: T.Project) -> ShellRun:
    r = rng.random()
    if r < 0.22:
        f = rng.choice(proj.files)
        if rng.random() < 0.5:
            return ShellRun(f"sed -n '1,200p' {f.path}", "\n".join(f.line_list[:200]) + "\n", "", 0)
        return ShellRun(f"cat {f.path}", f.content, "", 0)
    if r < 0.40:
        cmd, out = _tests_ok(rng, proj)
        return ShellRun(cmd, out, "", 0)
    if r < 0.55:
        cmd, out = _grep(rng, proj)
        return ShellRun(cmd, out, "", 0)
    if r < 0.68:
        mods = "\n".join(f"\tmodified:   {f.path}" for f in rng.sample(proj.files, rng.randint(1, 5)))
        return ShellRun(
            "git status",
            f"On branch {rng.choice(proj.branches)}\nChanges not staged for commit:\n"
            f'  (use "git add <file>..." to update what will be committed)\n{mods}\n\n'
            'no changes added to commit (use "git add" and/or "git commit -a")\n',
            "",
            0,
        )
    if r < 0.78:
        d = rng.choice(proj.files).path.rsplit("/", 1)[0] if rng.random() < 0.7 else "."
        return ShellRun(f"ls -la {d}", _listing(rng, proj), "", 0)
    if r < 0.88:
        files = rng.sample(proj.files, rng.randint(1, 6))
        body = "\n".join(f" {f.path} | {rng.randint(1, 80):>3} {'+' * rng.randint(1, 20)}{'-' * rng.randint(0, 9)}" for f in files)
        return ShellRun("git diff --stat", body + f"\n {len(files)} files changed\n", "", 0)
    cmd = {"python": "ruff check .", "ts": "npx tsc --noEmit", "go": "go vet ./...", "rust": "cargo check"}[proj.lang]
    out = {
        "python": "All checks passed!\n",
        "ts": "",
        "go": "",
        "rust": f"    Checking {proj.pkg} v0.{rng.randint(1, 9)}.0 ({proj.cwd})\n    Finished `dev` profile [unoptimized + debuginfo] target(s) in {rng.uniform(0.5, 30):.2f}s\n",
    }[proj.lang]
    return ShellRun(cmd, out, "", 0)


def failing_run(rng: random.Random, proj: T.Project, r: Rendered) -> ShellRun:
    """A command whose output contains ``r.text`` verbatim, with a plausible exit code."""
    fam = FAMILIES[r.family]
    v = r.vars
    code = fam.exit_code if fam.exit_code is not None else 1
    f = rng.choice(proj.files)
    if r.family == "py_module_not_found":
        cmd = rng.choice((f"python -m {proj.pkg}.cli sync", f"python scripts/{rng.choice(T.WORDS)}.py", f"uv run {proj.pkg}"))
        err = f'Traceback (most recent call last):\n  File "{proj.cwd}/{f.path}", line {rng.randint(1, 40)}, in <module>\n    import {v["mod"]}\n{r.text}\n'
        return ShellRun(cmd, "", err, code)
    if r.family == "pytest_failed":
        passed = rng.randint(0, 300)
        body = (
            "." * min(passed, 79) + "F\n" + "=" * 20 + " FAILURES " + "=" * 20 + f"\n____ {v['test']} ____\n\n"
            f"    def {v['test']}():\n>       assert result == expected\nE       AssertionError: assert {v['a']} == {v['b']}\n\n"
            f"tests/{v['file']}:{rng.randint(5, 300)}: AssertionError\n"
            + "=" * 12
            + " short test summary info "
            + "=" * 12
            + f"\n{r.text}\n1 failed, {passed} passed in {rng.uniform(0.2, 30):.2f}s\n"
        )
        return ShellRun(f"pytest -q tests/{v['file']}", body, "", code)
    if r.family == "npm_404":
        err = (
            f"npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://registry.npmjs.org/{v['pkg'].replace('/', '%2f')} - Not found\n"
            f"npm ERR! 404 \n{r.text}\nnpm ERR! 404 \nnpm ERR! 404 Note that you can also install from a\n"
            "npm ERR! 404 tarball, folder, http url, or git url.\n"
        )
        return ShellRun(f"npm install {v['pkg']}@{v['ver']}", "", err, code)
    if r.family == "git_not_repo":
        cmd = rng.choice(("git log --oneline -5", "git status", "git diff HEAD~1", "git stash list"))
        return ShellRun(f"cd /tmp/{rng.choice(T.WORDS)} && {cmd}", "", r.text + "\n", code)
    if r.family == "permission_denied":
        cmd = v["path"] if v["prog"] in ("bash", "/bin/sh") else f"{v['prog']} {v['path']}"
        return ShellRun(cmd, "", r.text + "\n", code)
    if r.family == "command_timeout":
        cmd = rng.choice(
            ("npm run dev", "pytest -x tests/integration", "cargo test --release", "go test ./... -run Integration", "docker compose up", "make e2e")
        )
        partial = "\n".join(f"[{i}] waiting for {rng.choice(T.WORDS)}..." for i in range(rng.randint(1, 30)))
        return ShellRun(cmd, partial + "\n", r.text + "\n", code)
    if r.family == "ts_cannot_find_name":
        src = f"src/{rng.choice(T.WORDS)}.ts"
        line, col = rng.randint(3, 400), rng.randint(1, 40)
        return ShellRun("npx tsc --noEmit", f"{src}({line},{col}): {r.text}\n\nFound 1 error in {src}:{line}\n", "", code)
    if r.family == "py_keyerror":
        err = (
            f'Traceback (most recent call last):\n  File "{proj.cwd}/{f.path}", line {rng.randint(1, 200)}, in {T._ident(rng)}\n'
            f"    value = payload[{v['key']!r}]\n            ~~~~~~~^^^^^^^^^^\n{r.text}\n"
        )
        return ShellRun(f"python -m {proj.pkg}.main --env {rng.choice(('dev', 'staging', 'prod'))}", "", err, code)
    if r.family == "command_not_found":
        return ShellRun(f"{v['cmd']} {rng.choice(('install', '--version', 'run build', 'test'))}", "", r.text + "\n", code)
    if r.family == "rust_cannot_find_value":
        err = (
            f"   Compiling {proj.pkg} v0.1.0 ({proj.cwd})\n{r.text}\n  --> {f.path}:{rng.randint(3, 900)}:{rng.randint(1, 40)}\n"
            f"   |\n   = help: a local variable with a similar name exists\n\n"
            f"error: could not compile `{proj.pkg}` (lib) due to 1 previous error\n"
        )
        return ShellRun(rng.choice(("cargo build", "cargo test", "cargo check")), "", err, code)
    if r.family == "go_undefined":
        err = f"# github.com/{proj.user}/{proj.name}/{v['gofile'].rsplit('/', 1)[0]}\n{r.text}\n"
        return ShellRun(rng.choice(("go build ./...", "go test ./...", "go vet ./...")), "", err, code)
    raise ValueError(f"not a shell family: {r.family}")
