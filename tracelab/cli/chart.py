"""``tracelab chart``: draw one named chart to an HTML, SVG, PNG or JSON file."""

from __future__ import annotations

import click

from tracelab.cli._common import ISO_TIME, fail, skip_unused_schema_checkers, to_json, warehouse_option, warn_absent
from tracelab.ingest.agents import ADAPTER_MODULES


def _names() -> list[str]:
    from tracelab.reports.chart_names import CHARTS

    return list(CHARTS)


def _models_present(warehouse) -> list[str]:
    """Model names of the warehouse's LLM calls and sessions, sorted."""
    from tracelab.catalog import connect

    con = connect(warehouse)
    try:
        rows = con.execute(
            "SELECT model FROM llm_calls WHERE model IS NOT NULL UNION SELECT primary_model FROM sessions WHERE primary_model IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    return sorted(r[0] for r in rows)


def _check_project(warehouse, project: str) -> None:
    from tracelab.catalog import connect
    from tracelab.scope import check_project

    con = connect(warehouse)
    try:
        check_project(con, project)
    finally:
        con.close()


class _ChartName(click.ParamType):
    """A chart name, validated lazily so ``--help`` does not import the chart stack."""

    name = "NAME"

    def convert(self, value, param, ctx):
        names = _names()
        if value not in names:
            self.fail(f"{value!r} is not a chart; choose one of: {', '.join(names)}", param, ctx)
        return value


@click.command("chart")
@click.argument("name", type=_ChartName(), required=False)
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False), help="Output file; the format comes from the suffix: .html .svg .png .json")
@warehouse_option
@click.option("--since", type=ISO_TIME, help="Window start, inclusive (ISO date or date-time, UTC).")
@click.option("--until", type=ISO_TIME, help="Window end, exclusive (ISO date or date-time, UTC).")
@click.option("--agent", type=click.Choice(list(ADAPTER_MODULES)), help="Only this agent.")
@click.option("--model", help="Only this model (exact name as logged; a name absent from the warehouse draws a warning listing the models present).")
@click.option("--tool", help="Only this tool (charts of tool calls and failures).")
@click.option("--project", help="Only this project's sessions (an unknown name draws a warning listing the closest).")
@click.option("--scale", type=float, default=2.0, show_default=True, help="PNG pixel scale.")
@click.option("--list", "list_", is_flag=True, help="List the chart names and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (or --list) as JSON.")
def command(name, out, warehouse, since, until, agent, model, tool, project, scale, list_, as_json):
    """Draw the chart NAME over the warehouse (optionally filtered) into --out.

    \b
    Charts: tool-error-rates, latency-ecdf, tool-latency-ecdf, latency-box, tool-latency-box,
    tokens, tokens-weekly, cost, cost-weekly, failure-trends, model-scorecard.
    Example:
      tracelab chart tool-error-rates --since 2026-11-01 --agent claude --out errors.svg
    Rendering is offline (vl-convert): .html embeds the Vega runtime, .svg/.png are static.
    """
    skip_unused_schema_checkers()
    from pathlib import Path

    from tracelab.reports.chart_names import CHARTS, FORMATS

    if list_:
        rows = [{"name": n, "description": d} for n, d in CHARTS.items()]
        if as_json:
            click.echo(to_json(rows))
        else:
            for r in rows:
                click.echo(f"{r['name']:<20} {r['description']}")
        return
    if not name:
        fail("give a chart NAME (see --list)")
    if not out:
        fail("give --out FILE (.html, .svg, .png or .json)")
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        fail(f"cannot tell the format of {out!r}: use one of {', '.join('.' + f for f in FORMATS)}")

    from tracelab import library as Q
    from tracelab.charts.export import save
    from tracelab.reports.named_charts import Filters, build_chart

    try:
        filters = Filters(since=Q.coerce(since, "TIMESTAMP"), until=Q.coerce(until, "TIMESTAMP"), agent=agent, model=model, tool=tool, project=project)
    except ValueError as exc:
        fail(f"bad --since/--until: {exc}")
    if model:
        warn_absent("model", [model], _models_present(warehouse))
    if project:
        _check_project(warehouse, project)
    chart = build_chart(name, warehouse, filters)
    path = save(chart, out, scale=scale)
    if as_json:
        click.echo(to_json({"chart": name, "path": str(path), "format": suffix, "filters": filters.describe()}))
    else:
        click.echo(f"wrote {path} ({name}; {filters.describe()})")
