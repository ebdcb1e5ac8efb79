"""``tracelab usage session --breakdown subagent``: one row per subagent (named query
``subagent_usage``). Not a command module of its own (it defines no ``command``)."""

from __future__ import annotations

from typing import Any

import click

from tracelab.cli._common import emit_rows, fail, to_json


def _resolve(warehouse: Any, prefix: str) -> str:
    """The session key ``prefix`` names (:func:`tracelab.session.timeline.resolve`: ambiguous
    lists the candidates, unknown raises NotFound; the CLI prints either on one line)."""
    from tracelab.session.timeline import resolve
    from tracelab.store.connection import Store

    with Store(warehouse) as store:
        return resolve(store.con, prefix)


def subagent_breakdown(kw: dict[str, Any], parent: str | None) -> None:
    from tracelab import library as q
    from tracelab.errors import ParameterError

    params = {k: kw.get(k) for k in ("since", "until", "agent", "model", "project")}
    if kw.get("no_subagents"):
        fail("--no-subagents leaves no subagents to break down")
    if parent:  # a key, native id or unique prefix, as `tracelab session` takes it
        parent = _resolve(kw["warehouse"], parent)
    try:
        df = q.query("subagent_usage", warehouse=kw["warehouse"], parent=parent, **params)
    except q.QueryParamError as exc:  # name the option, not the query parameter
        raise ParameterError(f"--{exc.param.replace('_', '-')}: {exc.detail}", param=exc.param) from None
    rows = df.to_dicts()
    if kw.get("as_json"):
        click.echo(to_json(rows))
        return
    cols = ["parent", "subagent", "type", "description", "model", "calls", "tools", "errors", "total_tokens", "cost_usd"]
    out: list[tuple[Any, ...]] = [
        (
            (r["parent_session_key"] or "-").split(":", 1)[-1][:13],
            r["session_key"].rsplit("/", 1)[-1],
            r["subagent_type"],
            r["description"],
            r["model"],
            r["llm_calls"],
            r["tool_calls"],
            r["errors"],
            r["total_tokens"],
            "unknown" if r["cost_usd"] is None else f"{r['cost_usd']:.4f}",
        )
        for r in rows
    ]
    if parent:  # one parent: its column says nothing
        cols, out = cols[1:], [row[1:] for row in out]
    emit_rows(cols, out, "table")
