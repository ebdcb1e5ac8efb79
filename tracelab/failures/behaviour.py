"""Failure families: which kind of failure an event is, and failures made of several events.

Event families (every failure event gets exactly one, in this order of precedence):

``interrupt`` → ``hook_block`` → ``permission_denied`` → ``user_rejection`` → ``tool_error``
for tool results; ``interrupt`` → ``rate_limit`` → ``api_error`` for model API errors;
``hook_block`` / ``hook_error`` for hook records; ``rate_limit`` for usage-limit notices.

Episode families (sequences, detected in SQL over the session order; an event can belong to
an episode as well as to its event family): ``loop``, ``retry_storm``,
``context_exhaustion``, ``abandoned_session``. The definitions are in ``README.md`` next to
this file; the patterns that decide them are the constants below.
"""

from __future__ import annotations

import duckdb
import polars as pl

from tracelab.store import sql_text

EVENT_FAMILIES = (
    "tool_error",
    "user_rejection",
    "permission_denied",
    "hook_block",
    "hook_error",
    "api_error",
    "rate_limit",
    "interrupt",
)
EPISODE_FAMILIES = ("loop", "retry_storm", "context_exhaustion", "abandoned_session")
FAMILIES = EVENT_FAMILIES + EPISODE_FAMILIES

#: Short codes that prefix cluster ids, so an id says its family at a glance.
FAMILY_CODES = {
    "tool_error": "te",
    "user_rejection": "ur",
    "permission_denied": "pd",
    "hook_block": "hb",
    "hook_error": "he",
    "api_error": "ae",
    "rate_limit": "rl",
    "interrupt": "in",
    "loop": "lp",
    "retry_storm": "rs",
    "context_exhaustion": "cx",
    "abandoned_session": "ab",
}

#: A run of this many identical calls is a loop; this many failures in a row is a storm.
MIN_RUN = 3
#: Conversational events after a compaction within which a failure counts as context exhaustion.
CONTEXT_WINDOW = 12

INTERRUPT_RE = r"(?i)\A\s*(?:\[Request interrupted by user|Request was aborted|Request aborted|The operation was aborted|Command aborted|aborted by user|interrupted by user|Turn aborted|turn_aborted)"
#: An interrupt that stopped a tool call (rather than the model's turn).
TOOL_INTERRUPT_RE = r"(?i)(?:\[Request interrupted by user for tool use\]|\bCommand aborted\b|\btool (?:call |use )?(?:was )?(?:interrupted|aborted))"
HOOK_RE = (
    r"(?i)(?:\b(?:Pre|Post)ToolUse(?::\w+)? hook (?:error|blocked|failed)|\bblocked by (?:a |the )?\w*\s*hook|"
    r"\bhook (?:returned|reported) (?:a )?blocking error|\bhook_blocking_error\b|\bBlocked by hook\b|\bStop hook (?:error|feedback))"
)
PERMISSION_RE = (
    r"(?i)(?:Permission for this tool use was denied|requires approval|haven't granted it yet|was blocked\. For security|"
    r"Permission to use \S+ (?:has been|was) denied|not allowed by (?:the )?(?:sandbox|policy|permission)|"
    r"sandbox (?:denied|blocked)|approval (?:was )?(?:required|denied)|auto-rejected|"
    r"rejected by (?:the )?(?:policy|sandbox|approval policy)|blocked by (?:the )?(?:sandbox|permission))"
)
#: A user rejection in the harness's words (anything else under user_rejected is typed feedback).
REJECTION_PHRASE_RE = (
    r"(?i)(?:user (?:doesn't|does not|did not|didn't) want|rejected by (?:the )?user|user rejected|user declined|declined by (?:the )?user|not approved)"
)
#: The harness quoting the user's reason inside its own rejection sentence.
FEEDBACK_RE = r"(?i)(?:following reason for the rejection|the user said:|user feedback:|with feedback:)"
RATE_LIMIT_RE = r"(?i)(?:\b429\b|rate[ _-]?limit|too many requests|usage limit|quota|limit reached|limit exceeded)"
#: System lines that are usage-limit notices (e.g. "Claude Opus 4 limit reached, now using Sonnet 4").
LIMIT_NOTICE_RE = r"(?i)(?:limit reached|rate limit|usage limit|quota exceeded|limit will reset)"
OVERFLOW_RE = (
    r"(?i)(?:prompt is too long|context[ _]length|context window|maximum context|too many tokens|"
    r"exceeds? (?:the )?(?:model's )?(?:maximum )?context|input is too long|context_length_exceeded|ran out of context)"
)
HOOK_BLOCKING_RE = r"(?:hook_blocking_error|\"preventedContinuation\"\s*:\s*true)"


def family_expr() -> pl.Expr:
    """The event family of a row of ``failures_candidates`` (columns source, status, text)."""
    text = pl.col("text").fill_null("")
    # JSON keys ("rateLimits": null) are structure, not content: drop them before matching
    head = text.str.slice(0, 2000).str.replace_all(r"\"[A-Za-z_]+\"\s*:", " ")
    src = pl.col("source")
    status = pl.col("status").fill_null("")
    return (
        pl.when((src == "tool") & ((status == "interrupted") | head.str.contains(INTERRUPT_RE)))
        .then(pl.lit("interrupt"))
        .when((src == "tool") & head.str.contains(HOOK_RE))
        .then(pl.lit("hook_block"))
        .when((src == "tool") & head.str.contains(PERMISSION_RE))
        .then(pl.lit("permission_denied"))
        .when((src == "tool") & (status == "user_rejected"))
        .then(pl.lit("user_rejection"))
        .when(src == "tool")
        .then(pl.lit("tool_error"))
        .when((src == "api") & ((status == "aborted") | head.str.contains(INTERRUPT_RE)))
        .then(pl.lit("interrupt"))
        .when((src == "api") & head.str.contains(RATE_LIMIT_RE))
        .then(pl.lit("rate_limit"))
        .when(src == "api")
        .then(pl.lit("api_error"))
        .when(src == "interrupt")
        .then(pl.lit("interrupt"))
        .when((src == "hook") & head.str.contains(HOOK_BLOCKING_RE))
        .then(pl.lit("hook_block"))
        .when(src == "hook")
        .then(pl.lit("hook_error"))
        .when(src == "system")
        .then(pl.lit("rate_limit"))
        .otherwise(pl.lit("tool_error"))
    )


def canonical_text_expr() -> pl.Expr:
    """For rejections and interrupts, one canonical line per *kind* of event.

    What a harness says around a rejection or an interrupt changes with the agent and its
    version ("doesn't want to proceed" / "doesn't want to take this action right now",
    "[Request interrupted by user]" / "Request was aborted." / ``turn_aborted``), and typed
    rejection feedback is free text, one-off by nature; none of it tells failures apart.
    What does: a rejection came with typed feedback or not; an interrupt stopped a running
    tool call or the model's turn. Other families keep their text.
    """
    text = pl.col("text").fill_null("")
    head = text.str.slice(0, 1200)
    status = pl.col("status").fill_null("")
    family = pl.col("family")
    feedback = ~head.str.contains(REJECTION_PHRASE_RE) | head.str.contains(FEEDBACK_RE)
    tool_interrupt = (status == "interrupted") | text.str.contains(TOOL_INTERRUPT_RE)
    return (
        pl.when((family == "user_rejection") & feedback)
        .then(pl.lit("The user rejected the call with typed feedback"))
        .when(family == "user_rejection")
        .then(pl.lit("The user rejected the call"))
        .when((family == "interrupt") & tool_interrupt)
        .then(pl.lit("The user interrupted a running tool call"))
        .when(family == "interrupt")
        .then(pl.lit("The user interrupted the model's turn"))
        .otherwise(text)
    )


# ------------------------------------------------------------------------------ episodes
def _arrow(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> pl.DataFrame:
    return pl.DataFrame(con.sql(sql_text(name), params=params or None).to_arrow_table())


def candidates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Failure events with their family (``failures_candidates.sql`` + :func:`family_expr`)."""
    df = _arrow(con, "failures_candidates", {"limit_re": LIMIT_NOTICE_RE})
    return df.with_columns(family_expr().alias("family"))


def loops(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _arrow(con, "failures_loops", {"min_run": MIN_RUN})


def retry_storms(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Needs ``failure_events`` registered on ``con``."""
    return _arrow(con, "failures_retry_storms", {"min_run": MIN_RUN})


def context_exhaustion(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Needs ``failure_events`` registered on ``con``."""
    return _arrow(con, "failures_context", {"window": CONTEXT_WINDOW, "overflow_re": OVERFLOW_RE})


def abandoned(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Needs ``failure_events`` registered on ``con``."""
    return _arrow(con, "failures_abandoned")
