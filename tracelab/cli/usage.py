"""``tracelab usage``: ccusage-compatible daily / weekly / monthly / session usage reports."""

from __future__ import annotations

import click

from tracelab.cli._common import ISO_TIME, emit_rows, fail, to_json, warehouse_option, warn_unknown_filters
from tracelab.errors import ParameterError
from tracelab.ingest.agents import ADAPTER_MODULES

_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def _options(f):
    f = click.option("--json", "as_json", is_flag=True, help="Print ccusage's JSON shape.")(f)
    f = warehouse_option(f)
    f = click.option(
        "--mode",
        "cost_mode",
        type=click.Choice(["auto", "calculate", "display"]),
        default="auto",
        show_default=True,
        help="Cost: logged cost if present (auto), price table (calculate), or logged only.",
    )(f)
    f = click.option("--start-of-week", type=click.Choice(_DAYS), default="sunday", show_default=True)(f)
    f = click.option("--timezone", "-z", default="UTC", show_default=True, help="IANA time zone for dates.")(f)
    f = click.option("--no-subagents", is_flag=True, help="Leave out calls made in subagent sessions.")(f)
    f = click.option("--project", help="Only this project.")(f)
    f = click.option("--model", help="Only this model.")(f)
    f = click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="Only this agent.")(f)
    f = click.option("--until", type=ISO_TIME, help="End (exclusive), e.g. 2025-07-01.")(f)
    f = click.option("--since", type=ISO_TIME, help="Start (inclusive), e.g. 2025-06-01.")(f)
    return f


#: usage_report parameter -> the option that sets it (errors name the option, not the parameter)
_OPTION = {
    "since": "--since",
    "until": "--until",
    "timezone": "--timezone",
    "start_of_week": "--start-of-week",
    "cost_mode": "--mode",
    "agent": "--agent",
    "model": "--model",
    "project": "--project",
}


def _run(report: str, kw: dict) -> None:
    from tracelab import library as q
    from tracelab.metrics.usage import PERIOD_KEY, REPORTS, usage_report

    as_json = kw.pop("as_json")
    warehouse = kw.pop("warehouse")
    filters = {k: v for k, v in kw.items() if v is not None and k != "no_subagents"}
    filters["include_subagents"] = not kw["no_subagents"]
    try:
        data = usage_report(report, warehouse=warehouse, **filters)
    except q.QueryParamError as exc:  # name the option, not the query parameter
        raise ParameterError(f"{_OPTION.get(exc.param, exc.param)} {filters.get(exc.param)!r}: {exc.detail}", param=exc.param) from None
    except (q.QueryError, ValueError) as exc:
        if "Unknown TimeZone" not in str(exc):
            raise
        # DuckDB's message lists the closest known zones
        raise ParameterError(
            f"--timezone {filters['timezone']!r}: unknown time zone (an IANA name: UTC, Europe/Berlin, ...)." + str(exc).split("!", 1)[-1].rstrip(),
            param="timezone",
        ) from None
    if not data[REPORTS[report][2]]:
        from tracelab.store import Store

        with Store(warehouse) as store:  # an empty result: name filter values the warehouse lacks
            warn_unknown_filters(store.con, filters)
    untimed = data["untimed"]
    if untimed["llmCalls"] and not as_json:  # JSON: the "untimed" object says it
        n = untimed["llmCalls"]
        click.echo(
            f"note: {n:,} LLM call{'s' if n != 1 else ''} ({untimed['totalTokens']:,} tokens) without a timestamp left out (no bucket to put them in, as in ccusage)",
            err=True,
        )
    if as_json:
        click.echo(to_json(data))
        return
    key = PERIOD_KEY[report]
    cols = [key.replace("sessionId", "session"), "models", "input", "output", "cache_write", "cache_read", "total_tokens", "cost_usd", "unpriced"]

    def cost(c):
        return "unknown" if c is None else f"{c:.2f}"

    def unpriced(e):
        """The share the cost leaves out: calls (and share of tokens) without a price."""
        if not e["unpricedCalls"]:
            return ""
        share = e["unpricedTokens"] / e["totalTokens"] if e["totalTokens"] else 0.0
        shown = "<1%" if 0 < share < 0.005 else f"{share:.0%}"
        n = e["unpricedCalls"]
        return f"{n:,} call{'s' if n != 1 else ''} ({shown} of tokens)"

    rows = [
        (
            e[key],
            ", ".join(e["modelsUsed"]),
            e["inputTokens"],
            e["outputTokens"],
            e["cacheCreationTokens"],
            e["cacheReadTokens"],
            e["totalTokens"],
            cost(e["totalCost"]),
            unpriced(e),
        )
        for e in data[REPORTS[report][2]]
    ]
    t = data["totals"]
    rows.append(
        ("total", "", t["inputTokens"], t["outputTokens"], t["cacheCreationTokens"], t["cacheReadTokens"], t["totalTokens"], cost(t["totalCost"]), unpriced(t))
    )
    emit_rows(cols, rows, "table")


@click.group("usage")
def command() -> None:
    """Token usage and cost, shaped like ccusage (`--json` prints ccusage's JSON shape).

    Costs are the priced part: calls of models missing from the price table add nothing to
    cost_usd and are counted under "unpriced" (calls and share of tokens; JSON unpricedCalls /
    unpricedTokens). A cost with no priced call at all is unknown / null, never 0.
    """


@command.command("daily")
@_options
def daily(**kw) -> None:
    """Usage per day."""
    _run("daily", kw)


@command.command("weekly")
@_options
def weekly(**kw) -> None:
    """Usage per week (weeks start on --start-of-week)."""
    _run("weekly", kw)


@command.command("monthly")
@_options
def monthly(**kw) -> None:
    """Usage per month."""
    _run("monthly", kw)


@command.command("session")
@_options
@click.option(
    "--breakdown",
    type=click.Choice(["subagent"]),
    help="subagent: one row per subagent (type/description, model, calls, tokens, cost, errors) instead of the roll-up (named query subagent_usage).",
)
@click.option("--session", "parent", help="With --breakdown: only the subagents of this session (its key, id or a unique prefix).")
def session(breakdown, parent, **kw) -> None:
    """Usage per session (subagents roll up into the session that spawned them)."""
    if breakdown == "subagent":
        from tracelab.cli._usage_breakdown import subagent_breakdown

        subagent_breakdown(kw, parent)
        return
    if parent:
        fail("--session needs --breakdown subagent")
    _run("session", kw)
