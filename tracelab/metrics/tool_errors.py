"""Tool error metrics on a ``tool_calls`` frame (Polars twins of ``tool_error_rates``,
``tool_retries`` and ``shell_exit_codes``).

Outcomes stay separate (status ``ok``, ``error``, ``user_rejected``, ``interrupted``,
``no_result``). ``error_rate`` is errors over *completed* calls (ok + error): a rejected,
interrupted or unanswered call never ran to completion, so it says nothing about whether the
tool works. ``failure_rate`` is everything that was not ok-or-pending over all calls.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from tracelab.metrics._frames import frame, group_cols, period_start, wilson

__all__ = ["SHELL_TOOLS", "error_rates", "exit_codes", "retry_after_error"]

#: Same list as the SQL macro ``tl_is_shell``.
SHELL_TOOLS = ("Bash", "BashOutput", "bash", "shell", "exec_command", "local_shell", "shell_command", "container.exec")

#: Order of calls within a session (same as the SQL queries).
CALL_ORDER = ("started_at", "call_line_no", "tool_call_id")


def error_rates(
    tool_calls: pl.DataFrame | pl.LazyFrame,
    by: Sequence[str] = ("agent", "model", "tool_name"),
    period: str | None = None,
) -> pl.DataFrame:
    """Counts per outcome, error and failure rates with Wilson 95 % bounds, per ``by`` (and
    ``period`` of ``started_at``: day, week, month or all)."""
    keys = group_cols(by, period)
    st = pl.col("status")
    g = frame(tool_calls)
    if period is not None:
        g = g.with_columns(period_start("started_at", period))
    out = g.group_by(keys).agg(
        pl.len().alias("calls"),
        (st == "ok").sum().alias("ok"),
        (st == "error").sum().alias("errors"),
        (st == "user_rejected").sum().alias("user_rejections"),
        (st == "interrupted").sum().alias("interruptions"),
        (st == "no_result").sum().alias("no_result"),
    )
    counts = ["calls", "ok", "errors", "user_rejections", "interruptions", "no_result"]
    out = out.with_columns([pl.col(c).cast(pl.Int64) for c in counts]).with_columns(
        (pl.col("ok") + pl.col("errors")).alias("completed"),
        (pl.col("errors") + pl.col("user_rejections") + pl.col("interruptions")).alias("_failed"),
    )
    e_lo, e_hi = wilson(pl.col("errors"), pl.col("completed"))
    f_lo, f_hi = wilson(pl.col("_failed"), pl.col("calls"))
    out = out.with_columns(
        pl.when(pl.col("completed") > 0).then(pl.col("errors") / pl.col("completed")).alias("error_rate"),
        e_lo.alias("error_rate_lo"),
        e_hi.alias("error_rate_hi"),
        (pl.col("_failed") / pl.col("calls")).alias("failure_rate"),
        f_lo.alias("failure_rate_lo"),
        f_hi.alias("failure_rate_hi"),
    ).drop("_failed")
    return out.sort([*keys], nulls_last=True).collect()


def retry_after_error(tool_calls: pl.DataFrame | pl.LazyFrame, by: Sequence[str] = ("agent", "model", "tool_name")) -> pl.DataFrame:
    """For each failed call, the next call of the same tool in the same session is its retry.

    Returns per ``by``: errors, retried, retry_rate (+ Wilson bounds), same_input_retries,
    retry_ok, retry_success_rate.
    """
    lf = frame(tool_calls).sort(["session_key", "tool_name", *CALL_ORDER], nulls_last=False)
    w = ["session_key", "tool_name"]
    lf = lf.with_columns(
        pl.col("status").shift(-1).over(w).alias("_next_status"),
        pl.col("input_json").shift(-1).over(w).alias("_next_input"),
        pl.col("tool_call_key").shift(-1).over(w).alias("_next_key"),
    ).filter(pl.col("status") == "error")
    out = lf.group_by(list(by)).agg(
        pl.len().cast(pl.Int64).alias("errors"),
        pl.col("_next_key").is_not_null().sum().cast(pl.Int64).alias("retried"),
        (pl.col("_next_key").is_not_null() & pl.col("_next_input").eq_missing(pl.col("input_json"))).sum().cast(pl.Int64).alias("same_input_retries"),
        (pl.col("_next_status") == "ok").sum().cast(pl.Int64).alias("retry_ok"),
    )
    lo, hi = wilson(pl.col("retried"), pl.col("errors"))
    out = out.with_columns(
        (pl.col("retried") / pl.col("errors")).alias("retry_rate"),
        lo.alias("retry_rate_lo"),
        hi.alias("retry_rate_hi"),
        pl.when(pl.col("retried") > 0).then(pl.col("retry_ok") / pl.col("retried")).alias("retry_success_rate"),
    )
    return out.sort(list(by), nulls_last=True).collect()


def exit_codes(
    tool_calls: pl.DataFrame | pl.LazyFrame,
    by: Sequence[str] = ("agent", "tool_name"),
    shell_tools: Sequence[str] = SHELL_TOOLS,
) -> pl.DataFrame:
    """Exit-code distribution of shell tools: calls and share per ``by`` x exit_code (null =
    not reported), plus how many of them are status error."""
    lf = frame(tool_calls).filter(pl.col("tool_name").is_in(list(shell_tools)))
    out = lf.group_by([*by, "exit_code"]).agg(
        pl.len().cast(pl.Int64).alias("calls"),
        (pl.col("status") == "error").sum().cast(pl.Int64).alias("error_status_calls"),
    )
    out = out.with_columns((pl.col("calls") / pl.col("calls").sum().over(list(by))).alias("share"))
    return out.sort([*by, "calls"], descending=[False] * len(by) + [True]).collect()
