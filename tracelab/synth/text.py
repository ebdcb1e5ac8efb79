"""Text the synthetic sessions are made of: projects and their source files, prompts,
assistant prose, shell commands and their output.

Nothing here is copied from real transcripts; it is assembled from small word banks and code
line templates. What matters is the *shape* (paths that look like paths, tracebacks that look
like tracebacks, multi-kilobyte file reads) because that is what parsers, failure clustering
and the byte-volume benchmark see.

Project file pools are built lazily from a fixed seed (not the corpus seed), so every worker
process builds the same pool and output stays identical whatever ``--jobs`` is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

WORDS = (
    "cache config parser client session report metrics loader index schema token render export "
    "worker queue event store router handler model record batch stream filter window budget "
    "plugin adapter limiter ledger bundle notifier summary profile invoice payment account audit "
    "search graph layout widget theme preview upload archive"
).split()
VERBS = "load parse build render fetch compute resolve apply merge flush validate encode decode sync".split()
USERS = ("alex", "sam", "priya", "jonas", "mei", "dev", "noor", "tomasz")
PY_MODULES = (
    "yaml",
    "requests",
    "pydantic_settings",
    "tomli",
    "httpx",
    "rich_click",
    "attr",
    "dateutil",
    "psycopg",
    "boto3",
    "jinja2",
    "numpy",
    "pandas",
    "orjson",
    "structlog",
    "tenacity",
)
NPM_PACKAGES = (
    "@acme/ui-kit",
    "left-padd",
    "react-query-devtoolz",
    "eslint-config-acme",
    "@internal/logger",
    "vite-plugin-svgr2",
    "tailwind-animate",
    "@types/lodash-es2",
    "node-fetch3",
    "zod-to-openapi-x",
)
MISSING_CMDS = ("pnpm", "bun", "uv", "jq", "http", "fd", "yq", "poetry", "deno", "gh", "just", "protoc")
DICT_KEYS = ("user_id", "DATABASE_URL", "items", "access_token", "region", "created_at", "payload", "tenant")
TS_NAMES = ("useSession", "ApiClient", "formatBytes", "TokenBucket", "RouteParams", "logger", "assertNever")
RUST_NAMES = ("config", "retry_budget", "conn", "buf_len", "shard_id", "deadline")
GO_NAMES = ("NewStore", "ctxKey", "ErrNotFound", "defaultTimeout", "parseHeader", "metricsRegistry")
HTTP_CODES = ("403", "404", "429", "500", "502", "503")
MCP_MESSAGES = (
    "Bad credentials",
    "Not Found",
    "API rate limit exceeded for installation",
    "Resource not accessible by integration",
    "Validation Failed: pull_number must be an integer",
)
BAD_AGENT_TYPES = ("code-reviewer", "test-runner", "explorer", "docs-writer", "refactorer")
PERM_PROGS = ("bash", "cat", "cp", "touch", "/bin/sh", "tee")
PERM_PATHS = (
    "/etc/hosts",
    "./scripts/deploy.sh",
    "/var/log/nginx/access.log",
    "/usr/local/bin/tool",
    "./bin/release",
    "/opt/data/cache.db",
    "/root/.ssh/config",
)
REJECT_REASONS = (
    "use pnpm instead",
    "don't touch the migrations",
    "please add tests first",
    "no, keep the old API",
    "wait, check the docs first",
    "not that file, the one in packages/core",
    "stop, I'll do the rebase myself",
    "don't install anything new",
    "run it with --dry-run first",
    "keep the function signature as is",
)
SLUG_WORDS = (
    "vast seeking zebra prancy stirring flurry humble fluttering metcalfe misty humming jellyfish zany "
    "churning pearl quiet drifting comet brave glowing lantern swift folding maple"
).split()


@dataclass(frozen=True)
class SourceFile:
    path: str  #: relative to the project root
    content: str
    lines: int

    @cached_property
    def line_list(self) -> list[str]:
        return self.content.split("\n")

    @cached_property
    def nonblank(self) -> list[str]:
        return [ln for ln in self.line_list if ln.strip()]

    @cached_property
    def numbered(self) -> str:
        """The content as Claude's Read tool shows it (cached: files are re-read a lot)."""
        return numbered(self.content)


@dataclass(frozen=True)
class Project:
    name: str
    user: str
    cwd: str
    lang: str
    branches: tuple[str, ...]
    pkg: str  #: importable package / crate / module name

    @property
    def files(self) -> tuple[SourceFile, ...]:
        return _project_files(self.name)


_PROJECT_SPECS = (
    ("billing-service", "python"),
    ("tracekit", "python"),
    ("atlas-web", "ts"),
    ("ledgerd", "go"),
    ("shardkv", "rust"),
    ("notes-api", "python"),
    ("dashboard-ui", "ts"),
    ("ingest-pipeline", "python"),
    ("edge-proxy", "go"),
    ("mobile-bff", "ts"),
    ("geo-tiles", "rust"),
    ("docs-site", "ts"),
    ("ml-feature-store", "python"),
    ("infra-cli", "go"),
)


#: The project of the planted sessions (``tracelab synth --plant``, see ``planted.py``); never
#: drawn by ordinary sessions.
PLANTED_PROJECT = Project("ledger-sync", "dana", "/home/dana/src/ledger-sync", "python", ("main", "dana/fix-sync"), "ledger_sync")


def _project(name: str) -> Project:
    return PLANTED_PROJECT if name == PLANTED_PROJECT.name else next(p for p in projects() if p.name == name)


@lru_cache(maxsize=1)
def projects() -> tuple[Project, ...]:
    rng = random.Random(20261005)
    out = []
    for name, lang in _PROJECT_SPECS:
        user = rng.choice(USERS)
        root = rng.choice((f"/Users/{user}/src", f"/home/{user}/work", f"/Users/{user}/code"))
        branches = ("main", f"{user}/fix-{rng.choice(WORDS)}", f"feat/{rng.choice(WORDS)}-{rng.choice(WORDS)}")
        pkg = name.replace("-", "_")
        out.append(Project(name, user, f"{root}/{name}", lang, branches, pkg))
    return tuple(out)


# ----------------------------------------------------------------------------------------
# source files
# ----------------------------------------------------------------------------------------

_EXT = {"python": ".py", "ts": ".ts", "go": ".go", "rust": ".rs"}
_DIRS = {
    "python": ("src/{pkg}", "src/{pkg}/api", "src/{pkg}/core", "tests"),
    "ts": ("src", "src/components", "src/lib", "src/routes", "tests"),
    "go": ("cmd/{pkg}", "internal/store", "internal/api", "pkg/{pkg}"),
    "rust": ("src", "src/net", "src/storage", "tests"),
}


def _ident(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)}_{rng.choice(WORDS)}"


def _camel(rng: random.Random) -> str:
    return rng.choice(VERBS) + rng.choice(WORDS).capitalize()


def _py_block(rng: random.Random) -> list[str]:
    fn = _ident(rng)
    arg = rng.choice(WORDS)
    lines = [
        f"def {fn}({arg}: dict, *, strict: bool = False) -> list[str]:",
        f'    """{rng.choice(VERBS).capitalize()} the {arg} {rng.choice(WORDS)} and return the keys that changed."""',
        "    out: list[str] = []",
    ]
    for _ in range(rng.randint(3, 14)):
        k = rng.choice(WORDS)
        lines.append(
            rng.choice(
                (
                    f"    if {arg}.get({k!r}) is None:\n        out.append({k!r})",
                    f"    {k} = {arg}.setdefault({k!r}, {rng.randint(0, 512)})",
                    f"    for item in {arg}.get({k!r}, []):\n        out.extend(str(x) for x in item)",
                    f'    logger.debug("{fn}: %s", {k!r})',
                    f"    if strict and not isinstance({arg}.get({k!r}), (int, str)):\n        raise ValueError({k!r})",
                )
            )
        )
    lines.append("    return out\n")
    return lines


def _ts_block(rng: random.Random) -> list[str]:
    fn = _camel(rng)
    t = rng.choice(WORDS).capitalize()
    lines = [f"export interface {t}Options {{"]
    lines += [f"  {rng.choice(WORDS)}{rng.choice(('', '?'))}: {rng.choice(('string', 'number', 'boolean', 'string[]'))};" for _ in range(rng.randint(2, 6))]
    lines += ["}", "", f"export function {fn}(opts: {t}Options): Promise<{t}Result> {{"]
    for _ in range(rng.randint(3, 12)):
        k = rng.choice(WORDS)
        lines.append(
            rng.choice(
                (
                    f"  const {k} = await client.get(`/api/{k}/${{opts.{rng.choice(WORDS)}}}`);",
                    f"  if (!{k}) throw new Error('missing {k}');",
                    f"  results.push(...{k}.items.map((x) => x.{rng.choice(WORDS)}));",
                    f"  logger.info('{fn}', {{ {k} }});",
                )
            )
        )
    lines += ["  return Promise.resolve({ results });", "}", ""]
    return lines


def _go_block(rng: random.Random) -> list[str]:
    fn = rng.choice(VERBS).capitalize() + rng.choice(WORDS).capitalize()
    lines = [
        f"// {fn} {rng.choice(VERBS)}s the {rng.choice(WORDS)} for a request.",
        f"func (s *Server) {fn}(ctx context.Context, req *{rng.choice(WORDS).capitalize()}Request) error {{",
    ]
    for _ in range(rng.randint(3, 12)):
        k = rng.choice(WORDS)
        lines.append(
            rng.choice(
                (
                    f'\t{k}, err := s.store.Get(ctx, req.{k.capitalize()}ID)\n\tif err != nil {{\n\t\treturn fmt.Errorf("{fn}: %w", err)\n\t}}',
                    f'\ts.metrics.Inc("{k}_total")',
                    f"\tfor _, item := range req.{k.capitalize()}s {{\n\t\ts.queue <- item\n\t}}",
                )
            )
        )
    lines += ["\treturn nil", "}", ""]
    return lines


def _rust_block(rng: random.Random) -> list[str]:
    fn = _ident(rng)
    lines = [f"/// {rng.choice(VERBS).capitalize()} the {rng.choice(WORDS)} shard.", f"pub fn {fn}(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {{"]
    for _ in range(rng.randint(3, 12)):
        k = rng.choice(WORDS)
        lines.append(
            rng.choice(
                (
                    f"    let {k} = self.{rng.choice(WORDS)}.get(key).ok_or(Error::NotFound)?;",
                    f"    if {k}.len() > {rng.randint(16, 4096)} {{\n        return Err(Error::TooLarge);\n    }}",
                    f"    self.metrics.{k}_total += 1;",
                )
            )
        )
    lines += ["    Ok(None)", "}", ""]
    return lines


_BLOCKS = {"python": _py_block, "ts": _ts_block, "go": _go_block, "rust": _rust_block}
_HEADERS = {
    "python": "from __future__ import annotations\n\nimport logging\nfrom dataclasses import dataclass\n\nlogger = logging.getLogger(__name__)\n",
    "ts": "import { client } from '../lib/client';\nimport { logger } from '../lib/logger';\n",
    "go": 'package {pkg}\n\nimport (\n\t"context"\n\t"fmt"\n)\n',
    "rust": "use crate::error::Error;\nuse std::collections::HashMap;\n",
}


def make_source(rng: random.Random, lang: str, target_bytes: int, pkg: str) -> str:
    parts = [_HEADERS[lang].replace("{pkg}", pkg)]
    size = len(parts[0])
    block = _BLOCKS[lang]
    while size < target_bytes:
        chunk = "\n".join(block(rng)) + "\n"
        parts.append(chunk)
        size += len(chunk)
    return "".join(parts)


@cache
def _project_files(name: str) -> tuple[SourceFile, ...]:
    proj = _project(name)
    rng = random.Random(f"files:{name}")
    files: list[SourceFile] = []
    seen: set[str] = set()
    ext = _EXT[proj.lang]
    while len(files) < 28:
        d = rng.choice(_DIRS[proj.lang]).replace("{pkg}", proj.pkg)
        stem = rng.choice(WORDS)
        if d == "tests":
            stem = f"test_{stem}" if proj.lang == "python" else f"{stem}.test"
        path = f"{d}/{stem}{ext}"
        if path in seen:
            continue
        seen.add(path)
        size = int(min(120_000, max(400, rng.lognormvariate(8.4, 1.0))))
        content = make_source(rng, proj.lang, size, proj.pkg)
        files.append(SourceFile(path, content, content.count("\n") + 1))
    files.append(
        SourceFile("README.md", f"# {name}\n\n" + "\n".join(f"- {rng.choice(VERBS)} {rng.choice(WORDS)} {rng.choice(WORDS)}" for _ in range(40)) + "\n", 42)
    )
    return tuple(files)


def numbered(content: str, arrow: bool = True) -> str:
    """File content as Claude's Read tool shows it: right-aligned line numbers + arrow/tab."""
    sep = "\u2192" if arrow else "\t"
    return "\n".join(f"{i:>6}{sep}{line}" for i, line in enumerate(content.split("\n"), 1))


def snippet(rng: random.Random, content: str | SourceFile, max_lines: int = 3) -> str:
    lines = content.nonblank if isinstance(content, SourceFile) else [ln for ln in content.split("\n") if ln.strip()]
    i = rng.randrange(len(lines))
    return "\n".join(lines[i : i + rng.randint(1, max_lines)])


@cache
def word_hits(project: str, word: str, limit: int = 80) -> tuple[tuple[str, int, str], ...]:
    """(path, line number, line) of the first ``limit`` lines of a project containing ``word``."""
    proj = _project(project)
    out: list[tuple[str, int, str]] = []
    for f in proj.files:
        for i, ln in enumerate(f.line_list, 1):
            if word in ln:
                out.append((f.path, i, ln))
                if len(out) >= limit:
                    return tuple(out)
    return tuple(out)


def missing_path(rng: random.Random, proj: Project) -> str:
    ext = _EXT[proj.lang]
    d = rng.choice(_DIRS[proj.lang]).replace("{pkg}", proj.pkg)
    return f"{proj.cwd}/{d}/{rng.choice(WORDS)}_{rng.choice(WORDS)}{ext}"


# ----------------------------------------------------------------------------------------
# prose
# ----------------------------------------------------------------------------------------

_PROMPTS = (
    "Fix the failing test in {path}",
    "Add a --{w1} flag to the {w2} command and document it",
    "Why does {fn} return None when the {w1} is empty?",
    "Refactor {path} so the {w1} logic lives in its own module",
    "The {w1} endpoint is slow, can you profile it and suggest a fix?",
    "Write tests for {fn} covering the edge cases",
    "Rename {fn} to {fn2} everywhere and update the callers",
    "CI is red on main, please investigate",
    "Upgrade the {w1} dependency and fix whatever breaks",
    "Add structured logging around the {w1} {w2} path",
    "Can you explain how {path} works?",
    "continue",
)
_FOLLOWUPS = ("continue", "go on", "yes, do that", "looks good, commit it", "try again", "now run the full suite")
_NARRATION = (
    "Let me look at {path} first.",
    "I'll run the tests to see what is failing.",
    "Now I understand the issue. Let me fix the {w1} handling.",
    "Let me check where {fn} is used.",
    "The error comes from the {w1} loader; I'll update it.",
    "Let me verify the change.",
    "I'll search for other usages of {fn}.",
    "Good, that worked. Next I'll update the {w2} tests.",
)
_THINKING = (
    "The user wants {w1} handled in {path}. I should read the file, find where {fn} is called, and keep "
    "the public signature stable. Running the narrow test first will be faster than the whole suite.",
    "That failed because the {w1} is not initialised before {fn} runs. Options: initialise lazily or move the call. Lazy init keeps the diff small.",
    "I need to check whether {w2} is also affected. A quick search should tell me.",
)
_FINALS = (
    "Done. I changed {path} so that {fn} handles an empty {w1}, and added a regression test.\n\n"
    "Summary:\n- `{fn}` now returns an empty list instead of None\n- new test `test_{w1}_{w2}_empty`\n"
    "- all {n} tests pass",
    "The failure was caused by a stale {w1} fixture. I updated it and the suite is green again ({n} passed).",
    "I refactored the {w1} logic into `{w2}.py`; behaviour is unchanged and the tests pass.",
    "Here's how it works: {fn} reads the {w1} config, builds a {w2} index and caches it per process. The cache is invalidated when the config file changes.",
)


def _fill(rng: random.Random, template: str, path: str) -> str:
    return template.format(
        path=path,
        w1=rng.choice(WORDS),
        w2=rng.choice(WORDS),
        fn=_ident(rng),
        fn2=_ident(rng),
        n=rng.randint(12, 480),
    )


def prompt(rng: random.Random, path: str, first: bool) -> str:
    if not first and rng.random() < 0.3:
        return rng.choice(_FOLLOWUPS)
    return _fill(rng, rng.choice(_PROMPTS[:-1]), path)


def narration(rng: random.Random, path: str) -> str:
    return _fill(rng, rng.choice(_NARRATION), path)


def thinking(rng: random.Random, path: str) -> str:
    return _fill(rng, rng.choice(_THINKING), path)


def final_answer(rng: random.Random, path: str) -> str:
    return _fill(rng, rng.choice(_FINALS), path)


def slug(rng: random.Random) -> str:
    return "-".join(rng.sample(SLUG_WORDS, 3))


def compact_summary(rng: random.Random, proj: Project) -> str:
    items = "\n".join(
        f"{i}. **{rng.choice(VERBS).capitalize()} {rng.choice(WORDS)}**: {_fill(rng, rng.choice(_NARRATION), rng.choice(proj.files).path)}"
        for i in range(1, rng.randint(4, 9))
    )
    return (
        "This session is being continued from a previous conversation that ran out of context. "
        "The summary below covers the earlier portion of the conversation.\n\nAnalysis:\n" + items
    )


def tokens_of(text: str) -> int:
    """Rough token count (4 chars per token), used to grow the synthetic context window."""
    return len(text) // 4 + 1
