"""Error text → one informative *key line* → a masked *fingerprint*.

This is the first, purely per-message stage of failure clustering. Nothing here looks at
any other message, so a message's fingerprint can never change because other data arrived
or arrived in another order; only a change to the rules (and :data:`RULES_VERSION`) does.

Three steps, all Polars expressions so a million messages run in Rust regex, in parallel:

1. **clean**: drop ANSI escapes, ``<tool_use_error>`` tags and carriage returns; cap the text
   to its head and tail (:data:`HEAD_CHARS` / :data:`TAIL_CHARS`: the informative parts of a
   long output are where a command starts failing and the summary / traceback at the end);
   strip harness wrappers that every agent puts around shell output (Claude ``Exit code N``,
   Codex ``Chunk ID / Wall time / Process exited with code N / Output:``, Pi's trailing
   ``Command exited with code N``).
2. **key line**: pick the one line that says what went wrong. Program output (shell tools)
   goes through a priority list after source excerpts (``12 │ code``) are dropped: Python
   exception at the end of a traceback, Go ``--- FAIL``, an ``ERROR:``/``fatal:`` label, a
   pytest summary, compiler/linter diagnostics (``…error[…]:``, ``× …``,
   ``file.go:12:3: …``), a line with a failure keyword, else the first line; an output
   that is empty once the harness wrapper is gone becomes ``exit code N (no output)``. The tools' own
   messages (Read/Edit/WebFetch/MCP …) use their first line; API errors are rebuilt from
   their JSON fields (``status``, error ``type``, ``message``); hook records from theirs.
   The extractor that fired is the *sub-kind*, which keeps e.g. a Python exception from
   being merged with a compiler diagnostic later on.
3. **mask**: timestamps, UUIDs, URLs, e-mails, quoted strings, pytest node ids and assertion
   details, paths and bare file names (both ``<PATH>``: one segment or five, it is the same
   slot), temp names, ``line:col``, hex, versions and numbers, identifiers containing digits
   → placeholders (``<TS> <UUID> <URL> <EMAIL> <Q> <TEST> <MSG> <PATH> <TMP> <LC> <HEX> <N>
   <ID>``); whitespace is collapsed, trailing punctuation dropped, and the line cut to
   :data:`MAX_TOKENS` tokens.
"""

from __future__ import annotations

import polars as pl

#: Bump when any rule below changes meaning: it is part of every cluster id.
RULES_VERSION = "1"

HEAD_CHARS = 6000
TAIL_CHARS = 2500
KEY_CHARS = 400
MAX_TOKENS = 30

# ------------------------------------------------------------------------------ tool families
#: Tool name → tool family. Families are coarse on purpose: the same failure (a missing file,
#: a failing test run) reads the same whichever agent's tool hit it, so Claude ``Bash``, Codex
#: ``exec_command`` and Pi ``bash`` share one family and can share a cluster.
TOOL_FAMILIES: dict[str, str] = {
    # shell
    "Bash": "shell",
    "bash": "shell",
    "shell": "shell",
    "shell_command": "shell",
    "exec_command": "shell",
    "local_shell": "shell",
    "local_shell_call": "shell",
    "container.exec": "shell",
    "BashOutput": "shell",
    "KillShell": "shell",
    "KillBash": "shell",
    "write_stdin": "shell",
    "unified_exec": "shell",
    # files: read / write / edit / search
    "Read": "file",
    "read": "file",
    "read_file": "file",
    "view_image": "file",
    "NotebookRead": "file",
    "Write": "file",
    "write": "file",
    "write_file": "file",
    "Edit": "file",
    "MultiEdit": "file",
    "edit": "file",
    "NotebookEdit": "file",
    "apply_patch": "file",
    "Grep": "file",
    "grep": "file",
    "Glob": "file",
    "glob": "file",
    "LS": "file",
    "ls": "file",
    "find": "file",
    # web
    "WebFetch": "web",
    "WebSearch": "web",
    "web_search": "web",
    "web_fetch": "web",
    "fetch": "web",
    # subagents / skills
    "Task": "agent",
    "Agent": "agent",
    "spawn_agent": "agent",
    "Skill": "agent",
    "SlashCommand": "agent",
    # planning / interaction
    "TodoWrite": "plan",
    "TodoRead": "plan",
    "update_plan": "plan",
    "ExitPlanMode": "plan",
    "EnterPlanMode": "plan",
    "AskUserQuestion": "plan",
}


def tool_family(tool_name: str | None) -> str:
    """The family of one tool name (``mcp`` for ``mcp__server__tool``, ``other`` if unknown)."""
    if not tool_name:
        return "none"
    fam = TOOL_FAMILIES.get(tool_name)
    if fam is not None:
        return fam
    if tool_name.startswith("mcp__") or tool_name.startswith("mcp:"):
        return "mcp"
    low = tool_name.lower()
    for needle, fam in (
        ("shell", "shell"),
        ("exec", "shell"),
        ("bash", "shell"),
        ("read", "file"),
        ("write", "file"),
        ("edit", "file"),
        ("patch", "file"),
        ("grep", "file"),
        ("glob", "file"),
        ("web", "web"),
        ("fetch", "web"),
        ("search", "web"),
        ("todo", "plan"),
        ("plan", "plan"),
        ("agent", "agent"),
    ):
        if needle in low:
            return fam
    return "other"


# ------------------------------------------------------------------------------ 1. clean
_ANSI = r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[@-Z\\-_]"
_TAGS = r"</?(?:tool_use_error|error|stderr|stdout|system-reminder)>"
# harness wrappers around shell output
_HDR_EXIT = r"\A\s*(?:Error: )?Exit code:? -?\d+[ \t]*\n?"
_HDR_CODEX = (
    r"\A\s*(?:Chunk ID: \S+\s*\n)?(?:Wall time: [\d.]+ \w+\s*\n)?(?:Process exited with code -?\d+\s*\n)?"
    r"(?:Process running with session ID \S+\s*\n)?(?:Original token count: \d+\s*\n)?Output:[ \t]*\n?"
)
_TRL_PI = r"(?:\n|\A)\s*(?:\(no output\)\s*)?Command exited with code -?\d+\s*\z"
_NO_OUTPUT = r"\A\s*\(no output\)\s*\z"


def clean_expr(text: pl.Expr) -> pl.Expr:
    """Text without escapes/tags, capped to head + tail."""
    t = text.fill_null("").str.replace_all(_ANSI, "").str.replace_all(_TAGS, "").str.replace_all("\r\n?", "\n")
    n = t.str.len_chars()
    return pl.when(n > HEAD_CHARS + TAIL_CHARS).then(pl.concat_str([t.str.slice(0, HEAD_CHARS), pl.lit("\n"), t.str.slice(-TAIL_CHARS)])).otherwise(t)


def strip_harness_expr(t: pl.Expr) -> pl.Expr:
    return t.str.replace(_HDR_CODEX, "").str.replace(_HDR_EXIT, "").str.replace(_TRL_PI, "").str.replace(_NO_OUTPUT, "")


# ------------------------------------------------------------------------------ 2. key line
#: Python: the exception line that ends a traceback (the last one wins).
_PY_EXC = r"(?m)^[ \t]*((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Fault)\b(?::[^\n]*)?)[ \t]*$"
#: A line that starts with an error label: ``ERROR: …``, ``fatal: …``, ``Error: …``, ``panic: …``.
_LABEL = r"(?m)^[ \t]*((?:ERROR|Error|error|FATAL|Fatal|fatal|panic|PANIC|npm ERR!|E)(?:\[[\w-]+\])?:[ \t]*\S[^\n]*)$"
#: pytest's closing summary line ``==== 1 failed, 2 passed in 0.5s ====`` (``-q`` drops the ``=``).
_PYTEST_SUMMARY = r"(?m)^=*[ \t]*([^\n=]*?\b(?:failed|passed|error|errors|no tests ran|deselected|skipped)\b[^\n=]*? in [\d.]+s[^\n=]*?)[ \t]*=*[ \t]*$"
#: Output that is a pytest run: its header, its section rules, or a short-summary ``FAILED node::id`` line.
_PYTEST_RUN = r"(?m)test session starts|^=+ (?:FAILURES|ERRORS|short test summary info) =+[ \t]*$|^(?:FAILED|ERROR) \S+::\S+"
#: Go: ``--- FAIL: TestName (0.00s)``.
_GO_FAIL = r"(?m)^[ \t]*(--- FAIL: \S+)"
#: Compiler / linter diagnostics: ``file.ts(3,4): error TS2304: …``, ``x.rs:1:2: error[E0425]: …``, ``- error: …``.
_DIAG = r"(?m)^([^\n]*?\b(?:error|Error|ERROR)(?:\[[\w-]+\]| TS\d+| [A-Z]+\d+)?:[ \t]+\S[^\n]*)$"
#: Modern diagnostic renderers (biome, uv, miette) mark errors with a cross.
_CROSS = r"(?m)^[ \t]*[×✖✗✘][ \t]+(\S[^\n]*)$"
#: ``path/file.ext:line[:col]: message`` (Go, gcc, many linters).
_LOCATED = r"(?m)^[ \t]*(\S+\.(?:go|rs|c|cc|cpp|h|hpp|py|ts|tsx|js|jsx|java|kt|swift|rb|php|cs):\d+(?::\d+)?:?[ \t]+\S[^\n]*)$"
#: Source excerpts in diagnostics (``  > 16 │ import …``, ``190 |     try:``): never the key line.
_CODE_FRAME = r"(?m)^[ \t]*(?:>[ \t]*)?\d*[ \t]*[│|┃][^\n]*(?:\n|\z)"
#: Any line with a failure keyword.
_KEYWORD = (
    r"(?mi)^([^\n]*\b(?:not found|no such file|no such|permission denied|access denied|denied|cannot|can't|could not|"
    r"couldn't|unable to|failed|failure|fails|invalid|unknown|undefined|not permitted|refused|timed out|timeout|"
    r"exception|does not exist|doesn't exist|not a git repository|missing|unexpected|unrecognized|not supported|"
    r"errors?|abort(?:ed)?|killed|segmentation fault|out of memory)\b[^\n]*)$"
)
_FIRST = r"\A\s*([^\n]*\S)"

#: JSON error payloads (API errors, MCP results): fields worth keeping.
_J_STATUS = r"\"(?:status|status_code|statusCode|code)\"\s*:\s*\"?(\d{3})\b"
_J_TYPE = r"\"type\"\s*:\s*\"(\w*(?:error|Error|_exceeded|overloaded)\w*)\""
_J_MSG = r"\"(?:message|error_message|errorMessage|detail|reason)\"\s*:\s*\"((?:[^\"\\]|\\.)*)\""
_J_ERRSTR = r"\"error\"\s*:\s*\"((?:[^\"\\]|\\.)*)\""
#: A non-null connection object: the request failed at the network level.
_J_CONN = r"\"connection\"\s*:\s*\{"
_API_PREFIX = r"\A\s*(?:API Error:?\s*)?(\d{3})\b"

_HOOK_NAME = r"\"hookName\"\s*:\s*\"([^\"]*)\""
_HOOK_EVENT = r"\"hookEvent\"\s*:\s*\"([^\"]*)\""
_HOOK_MSG = r"\"(?:blockingError|stderr|stopReason|message)\"\s*:\s*\"((?:[^\"\\]|\\.)+)\""
_HOOK_ERRORS = r"\"hookErrors\"\s*:\s*\[\s*\"((?:[^\"\\]|\\.)*)\""


def _x(t: pl.Expr, pattern: str) -> pl.Expr:
    return t.str.extract(pattern, 1)


def _shell_keys(df: pl.DataFrame, body: str) -> pl.DataFrame:
    """Add ``key``/``subkind`` for program output in column ``body``, by priority.

    Every rule's match is materialised once as a column and the priority is applied over
    those columns: one regex pass per rule, however many times a rule is consulted.
    """
    df = df.with_columns(pl.col(body).str.replace_all(_CODE_FRAME, "").alias("_b"))
    b = pl.col("_b")
    df = df.with_columns(
        b.str.contains("Traceback (most recent call last)", literal=True).alias("_tb"),
        b.str.extract_all(_PY_EXC).list.last().str.strip_chars().alias("_py"),
        b.str.extract_all(_PYTEST_SUMMARY).list.last().alias("_pys"),
        b.str.contains(_PYTEST_RUN).alias("_ispy"),
        _x(b, _LABEL).alias("_label"),
        _x(b, _GO_FAIL).alias("_go"),
        _x(b, _DIAG).alias("_diag"),
        _x(b, _CROSS).alias("_cross"),
        _x(b, _LOCATED).alias("_loc"),
        _x(b, _KEYWORD).alias("_kw"),
        _x(b, _FIRST).alias("_first"),
    )
    pys = pl.col("_pys")
    pytest_key = (
        pl.when(pys.str.contains(r"\bfailed\b"))
        .then(pl.lit("pytest: tests failed"))
        .when(pys.str.contains(r"\berrors?\b"))
        .then(pl.lit("pytest: errors"))
        .when(pys.str.contains(r"no tests ran|no tests collected|deselected"))
        .then(pl.lit("pytest: no tests ran"))
        .otherwise(pl.lit("pytest: run failed"))
    )
    py = pl.col("_py")
    cases = [
        (pl.col("_tb") & py.is_not_null(), py, "py_exception"),
        (pl.col("_go").is_not_null(), pl.col("_go"), "go_test"),
        (pl.col("_label").is_not_null(), pl.col("_label"), "labelled"),
        (pl.col("_ispy"), pytest_key, "pytest"),
        (pl.col("_diag").is_not_null(), pl.col("_diag"), "diagnostic"),
        (pl.col("_cross").is_not_null(), pl.col("_cross"), "diagnostic"),
        (pl.col("_loc").is_not_null(), pl.col("_loc"), "diagnostic"),
        (py.is_not_null(), py, "py_exception"),
        (pl.col("_kw").is_not_null(), pl.col("_kw"), "keyword"),
        (pl.col("_first").is_not_null(), pl.col("_first"), "first_line"),
    ]
    # the first matching case wins: fold from the last case outwards
    key: pl.Expr = pl.lit("")
    kind: pl.Expr = pl.lit("empty")
    for cond, val, name in reversed(cases):
        key = pl.when(cond).then(val).otherwise(key)
        kind = pl.when(cond).then(pl.lit(name)).otherwise(kind)
    df = df.with_columns(key.alias("key"), kind.alias("subkind"))
    return df.drop("_b", "_tb", "_py", "_pys", "_ispy", "_label", "_go", "_diag", "_cross", "_loc", "_kw", "_first")


def _json_msg(t: pl.Expr) -> pl.Expr:
    return pl.coalesce(_x(t, _J_MSG), _x(t, _J_ERRSTR))


def _api_key(raw: pl.Expr) -> pl.Expr:
    """``API error [connection] [status] [error type]: message`` from an API error payload; plain-text
    notices (no JSON, no status) keep their first line."""
    status = pl.coalesce(_x(raw, _API_PREFIX), _x(raw, _J_STATUS))
    etype = raw.str.extract_all(_J_TYPE).list.last().str.extract(_J_TYPE, 1)
    msg = _json_msg(raw)
    first = _x(raw, _FIRST)
    looks_json = raw.str.contains(r"[{\[]\s*\"")
    body = pl.when(looks_json & msg.is_not_null()).then(msg).when(looks_json).then(pl.lit("")).otherwise(first.str.replace(_API_PREFIX, ""))
    connection = raw.str.contains(_J_CONN)
    structured = pl.concat_str(
        [
            pl.lit("API error"),
            pl.when(connection).then(pl.lit(" connection")).otherwise(pl.lit("")),
            pl.when(status.is_not_null()).then(pl.concat_str([pl.lit(" "), status])).otherwise(pl.lit("")),
            pl.when(etype.is_not_null()).then(pl.concat_str([pl.lit(" "), etype])).otherwise(pl.lit("")),
            pl.lit(": "),
            body.fill_null("").str.replace_all(r"\\n", " ").str.strip_chars(),
        ]
    )
    plain = ~looks_json & status.is_null() & ~raw.str.contains(r"(?i)\AAPI Error")
    return pl.when(plain).then(first).otherwise(structured)


def _hook_key(raw: pl.Expr) -> pl.Expr:
    """``<hook name>: <what the harness says about it>`` from a hook record (blocking or
    not is the family's business); stop-hook summaries (no name) are ``Stop`` hooks."""
    is_summary = raw.str.contains(r"\"hookInfos\"")
    name = pl.coalesce(_x(raw, _HOOK_NAME), _x(raw, _HOOK_EVENT), pl.when(is_summary).then(pl.lit("Stop")), pl.lit("hook"))
    msg = pl.coalesce(_x(raw, _HOOK_ERRORS), _x(raw, _HOOK_MSG)).str.replace_all(r"\\n", "\n").str.extract(_FIRST, 1)
    first = _x(raw, _FIRST)
    looks_json = raw.str.contains(r"\A\s*\{")
    # the harness's framing sentence ends at the first ": "; what follows is the hook's own output
    framing = msg.str.replace(r":\s.*$", "")
    return pl.when(looks_json).then(pl.concat_str([name, pl.lit(": "), framing.fill_null("")])).otherwise(first)


#: Which extractor a failure goes through: API payloads, hook records, program output of a
#: shell tool, or a tool's own message.
ROUTES = ("api", "hook", "shell", "message")


def route_expr(family: pl.Expr, tool_fam: pl.Expr) -> pl.Expr:
    return (
        pl.when(family.is_in(["api_error", "rate_limit"]))
        .then(pl.lit("api"))
        .when(family.is_in(["hook_block", "hook_error"]))
        .then(pl.lit("hook"))
        .when((tool_fam == "shell") & (family == "tool_error"))
        .then(pl.lit("shell"))
        .otherwise(pl.lit("message"))
    )


def route_keys(df: pl.DataFrame, text: str, route: str) -> pl.DataFrame:
    """Add ``key`` (the informative line) and ``subkind`` to rows that all take ``route``
    (see :data:`ROUTES`). Routes are evaluated separately (:func:`normalize_frame` splits the
    rows), so the program-output rules only ever run on program output."""
    df = df.with_columns(clean_expr(pl.col(text)).alias("_clean"))
    cleaned = pl.col("_clean")
    if route == "api":
        df = df.with_columns(_api_key(cleaned).alias("key"), pl.lit("api").alias("subkind"))
    elif route == "hook":
        df = df.with_columns(_hook_key(cleaned).alias("key"), pl.lit("hook").alias("subkind"))
    else:
        df = df.with_columns(
            strip_harness_expr(cleaned).alias("_body"),
            pl.coalesce(
                _x(cleaned, r"\A\s*(?:Error: )?(Exit code:? -?\d+)"),
                _x(cleaned, r"(Process exited with code -?\d+)"),
                _x(cleaned, r"(Command exited with code -?\d+)\s*\z"),
            )
            .str.extract(r"(-?\d+)", 1)
            .alias("_exit"),
        )
        body = pl.col("_body")
        if route == "shell":
            df = _shell_keys(df, "_body")
        else:
            df = df.with_columns(_json_msg(body).alias("_jmsg"))
            df = df.with_columns(
                pl.when(body.str.contains(r"\A\s*[{\[]\s*\"") & pl.col("_jmsg").is_not_null()).then(pl.col("_jmsg")).otherwise(_x(body, _FIRST)).alias("key"),
                pl.lit("message").alias("subkind"),
            ).drop("_jmsg")
        empty = body.str.strip_chars().str.len_chars() == 0
        df = df.with_columns(
            pl.when(empty & pl.col("_exit").is_not_null())
            .then(pl.concat_str([pl.lit("exit code "), pl.col("_exit"), pl.lit(" (no output)")]))
            .when(empty)
            .then(pl.lit("(empty error)"))
            .otherwise(pl.col("key"))
            .alias("key"),
            pl.when(empty).then(pl.lit("no_output")).otherwise(pl.col("subkind")).alias("subkind"),
        ).drop("_body", "_exit")
    return df.with_columns(pl.col("key").fill_null("").str.slice(0, KEY_CHARS)).drop("_clean")


# ------------------------------------------------------------------------------ 3. mask
#: (pattern, replacement), applied in order. Rust regex syntax (no look-around), so the
#: "preceded by" conditions are capture groups put back with ``${1}``.
MASKS: tuple[tuple[str, str], ...] = (
    (r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?", "<TS>"),
    (r"\b\d{4}/\d{2}/\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?", "<TS>"),
    (r"\b\d{4}-\d{2}-\d{2}\b", "<TS>"),
    (r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<TS>"),
    (r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<UUID>"),
    (r"(?i)\b(?:https?|ftp|file|wss?|git|ssh|unix)://[^\s'\"<>)\]]+", "<URL>"),
    (r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", "<EMAIL>"),
    (r"\"[^\"\n]{0,300}\"", "<Q>"),
    (r"`[^`\n]{0,300}`", "<Q>"),
    (r"“[^”\n]{0,300}”", "<Q>"),
    (r"‘[^’\n]{0,300}’", "<Q>"),
    (r"(^|[\s(\[{=:,])'[^'\n]{0,300}'($|[\s)\]},.:;!?])", "${1}<Q>${2}"),
    (r"(^|[\s(\[{=:,])'[^'\n]{0,300}'($|[\s)\]},.:;!?])", "${1}<Q>${2}"),
    (r"\b[\w./-]+\.py::[\w:.\[\]-]+", "<TEST>"),
    (r"\b(AssertionError:?)[ \t]+\S.*$", "${1} <MSG>"),
    (r"\b[A-Za-z]:\\[^\s'\"]+", "<PATH>"),
    (r"(^|[\s'\"(=:,\[{<>])(?:~|\.{1,2})?/[^\s'\"(),\[\]{}<>:;]+", "${1}<PATH>"),
    (r"(?:~|\.{1,2})/[^\s'\"(),\[\]{}<>:;]+", "<PATH>"),
    (r"[\w@.+-]*[\w@+-]/[\w@.+-]+(?:/[\w@.+-]+)*/?", "<PATH>"),
    (
        r"\b[\w.-]+\.(?:py|pyi|pyc|go|rs|ts|tsx|mts|cts|js|jsx|mjs|cjs|json|jsonl|ya?ml|toml|md|txt|sh|bash|zsh|c|h|cc|cpp|hpp|"
        r"java|kt|rb|php|cs|swift|lock|html?|css|scss|sql|ini|cfg|conf|xml|csv|log|ipynb|vue|svelte|env|tf|proto|gradle)\b",
        "<PATH>",
    ),
    (r"(?i)\btmp[\w.-]*", "<TMP>"),
    (r"\(\d+,\s*\d+\)", "(<LC>)"),
    (r"\b\d+:\d+(?::\d+)?\b", "<LC>"),
    (r"\b0x[0-9a-fA-F]+\b", "<HEX>"),
    (r"\b[0-9a-f]*(?:[0-9][a-f]|[a-f][0-9])[0-9a-f]*\b", "<HEX>"),
    (r"\bv?\d+(?:\.\d+)+(?:[-+.][\w.]+)?\b", "<N>"),
    (r"\b\d+(?:\.\d+)?(?:ms|s|m|h|d|kb|mb|gb|KB|MB|GB|k|K|M|B|%|x)?\b", "<N>"),
    (r"\b\w*\d\w*\b", "<ID>"),
    (r"(<[A-Z]+>)(?:[ \t]*[,;]?[ \t]*<[A-Z]+>)+", "${1}"),
    (r"\s+", " "),
    (r"[\s.,;:!]+$", ""),
)


def mask_expr(key: pl.Expr) -> pl.Expr:
    out = key
    for pat, rep in MASKS:
        out = out.str.replace_all(pat, rep)
    out = out.str.strip_chars()
    # keep the first MAX_TOKENS whitespace-separated tokens
    return out.str.split(" ").list.head(MAX_TOKENS).list.join(" ")


def _fingerprint_expr(key: pl.Expr, subkind: pl.Expr) -> pl.Expr:
    """Masked key line. The structured head of an API error key (``API error 529
    overloaded_error:``) is kept as is — its status code is a category, not a variable —
    and only the message after it is masked."""
    head = key.str.extract(r"\A(API error[^:]*:)", 1)
    rest = key.str.replace(r"\AAPI error[^:]*:", "")
    return (
        pl.when((subkind == "api") & head.is_not_null()).then(pl.concat_str([head, pl.lit(" "), mask_expr(rest)]).str.strip_chars()).otherwise(mask_expr(key))
    )


# ------------------------------------------------------------------------------ frames
def normalize_frame(df: pl.DataFrame | pl.LazyFrame, *, text: str = "text", family: str = "family", tool_family: str = "tool_family") -> pl.DataFrame:
    """Add ``key`` (the informative line, unmasked), ``subkind`` and ``fingerprint`` (masked).

    Work is done once per distinct (text, family, tool family), so repeated identical error
    texts cost nothing extra, and each route's rules run only on that route's rows.
    """
    lf = df.lazy()
    distinct = lf.select(text, family, tool_family).unique().with_columns(route_expr(pl.col(family), pl.col(tool_family)).alias("_route")).collect()
    parts = []
    for route in ROUTES:
        sub = distinct.filter(pl.col("_route") == route)
        if sub.height == 0:
            continue
        parts.append(route_keys(sub, text, route))
    if parts:
        norm = pl.concat(parts).drop("_route")
    else:
        norm = distinct.drop("_route").with_columns(pl.lit(None, pl.String).alias("key"), pl.lit(None, pl.String).alias("subkind"))
    norm = norm.with_columns(_fingerprint_expr(pl.col("key"), pl.col("subkind")).alias("fingerprint"))
    return lf.join(norm.lazy(), on=[text, family, tool_family], how="left", nulls_equal=True).collect()


def normalize(text: str, *, family: str = "tool_error", tool: str | None = None, tool_fam: str | None = None) -> str:
    """The fingerprint of one message (convenience wrapper over :func:`normalize_frame`)."""
    fam = tool_fam if tool_fam is not None else tool_family(tool)
    df = normalize_frame(pl.DataFrame({"text": [text], "family": [family], "tool_family": [fam]}))
    return df["fingerprint"][0]


def key_line(text: str, *, family: str = "tool_error", tool: str | None = None, tool_fam: str | None = None) -> tuple[str, str]:
    """(key line, sub-kind) of one message."""
    fam = tool_fam if tool_fam is not None else tool_family(tool)
    df = normalize_frame(pl.DataFrame({"text": [text], "family": [family], "tool_family": [fam]}))
    return df["key"][0], df["subkind"][0]
