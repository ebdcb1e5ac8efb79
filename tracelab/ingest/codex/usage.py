"""Codex ``token_count`` accounting: cumulative totals in, one usage per model request out.

Codex writes ``event_msg/token_count`` with ``info = {total_token_usage, last_token_usage,
model_context_window}``. ``total_token_usage`` is cumulative for the thread and the same total
is often written twice (once per UI refresh), ``info`` is ``null`` on rate-limit-only updates,
and forked/subagent files open with the parent's totals. :class:`TokenLedger` turns that stream
into at most one usage per line:

* a line counts only when ``total_token_usage`` *advanced*: every counter >= the previous total
  and at least one strictly greater. Its usage is ``last_token_usage`` (non-zero), else the
  difference of the two totals; an all-zero usage counts nothing;
* an identical total is a repeat (nothing); a total that went *down* means the counter
  restarted (a new process resumed the thread): the line counts (``last_token_usage``, else
  the new total) and becomes the baseline;
* a line with ``last_token_usage`` but no total (third-party writers) counts unless it repeats
  the previous such line exactly (same usage, same timestamp);
* anything else (``info: null``, shapes without these fields) counts nothing.

Codex counts cached input *inside* ``input_tokens`` and reasoning inside ``output_tokens``;
:func:`canonical` maps a usage to tracelab's columns (uncached input, cache read, cache write,
output including reasoning, reasoning).
"""

from __future__ import annotations

from typing import Any

#: Larger counts are garbage; capping keeps sums inside int64.
_MAX = 2**53

#: Counter names in a Codex usage object, in the order kept in state.
FIELDS = ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens", "reasoning_output_tokens")


def read_usage(obj: Any) -> list[int] | None:
    """The counters of a usage object as a list (missing = 0); None if it has none of them."""
    if not isinstance(obj, dict):
        return None
    vals = []
    found = False
    for k in FIELDS:
        v = obj.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            vals.append(0)
            continue
        found = True
        vals.append(min(max(int(v), 0), _MAX))
    return vals if found else None


def canonical(u: list[int]) -> dict[str, int]:
    """Token columns for one Codex usage: cached (and cache-write) input is taken out of
    ``input_tokens``; output keeps reasoning, with ``reasoning_tokens`` beside it."""
    inp, cached, cwrite, out, reasoning = u
    cached = min(cached, inp)
    cwrite = min(cwrite, inp - cached)
    return {
        "input_tokens": inp - cached - cwrite,
        "cache_read_tokens": cached,
        "cache_write_tokens": cwrite,
        "output_tokens": out,
        "reasoning_tokens": reasoning,
    }


class TokenLedger:
    """Cumulative-total bookkeeping for one thread; its state is saved between appends."""

    def __init__(self, state: dict[str, Any] | None = None):
        st = state or {}
        self.prev_total: list[int] | None = st.get("prev_total")
        self.prev_last: list | None = st.get("prev_last")

    def state(self) -> dict[str, Any]:
        return {"prev_total": self.prev_total, "prev_last": self.prev_last}

    def baseline(self, info: Any) -> None:
        """Adopt the total of a skipped (replayed) line as the baseline, counting nothing."""
        if isinstance(info, dict):
            tot = read_usage(info.get("total_token_usage"))
            if tot is not None:
                self.prev_total = tot

    def observe(self, info: Any, raw_ts: Any) -> tuple[list[int] | None, str]:
        """(usage, why) for one token_count ``info``: usage is None when the line is not a call,
        and ``why`` says which rule applied (kept in the row's ``extra``)."""
        if info is None:
            return None, "info null"
        if not isinstance(info, dict):
            return None, "info not an object"
        tot = read_usage(info.get("total_token_usage"))
        last = read_usage(info.get("last_token_usage"))
        if tot is not None:
            prev = self.prev_total
            self.prev_total = tot
            why = "total advanced"
            if prev is None:
                delta = tot
            elif tot == prev:
                return None, "repeated total"
            elif any(a < b for a, b in zip(tot, prev)):
                # the counter restarted (a new process resuming the thread): count from zero
                delta = tot
                why = "total restarted"
            else:
                delta = [a - b for a, b in zip(tot, prev)]
            use = last if last is not None and any(last) else delta
            if not any(use):
                return None, "zero usage"
            return use, why
        if last is not None:
            key = [*last, raw_ts if isinstance(raw_ts, (str, int, float)) else None]
            if key == self.prev_last:
                return None, "repeated last usage"
            self.prev_last = key
            if not any(last):
                return None, "zero usage"
            return last, "last usage without total"
        return None, "no usage fields"
