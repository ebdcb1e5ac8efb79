"""``tracelab report weekly``: the weekly quality report as HTML and Markdown."""

from __future__ import annotations

import click

from tracelab.cli._common import fail, skip_unused_schema_checkers, to_json, warehouse_option


@click.group("report")
def command() -> None:
    """Reports over the warehouse."""


def _iso_week(ctx, param, value: str | None) -> str | None:
    """--week checked before the warehouse is opened: a malformed week is a bad option (exit 2)."""
    if value is None:
        return None
    from tracelab.reports.weeks import IsoWeek

    try:
        IsoWeek.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


@command.command("weekly")
@click.option(
    "--week",
    callback=_iso_week,
    help="ISO week, e.g. 2026-W47 (default: the latest week that has events, i.e. the week of the last day with events, whatever today's date is).",
)
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False), default="reports", show_default=True, help="Output directory.")
@click.option("--format", "-f", "formats", default="html,md", show_default=True, help="Comma-separated: html, md.")
@warehouse_option
@click.option(
    "--thresholds",
    "thresholds_file",
    type=click.Path(exists=True, dir_okay=False),
    help="TOML or YAML file of regression thresholds (see tracelab/reports/thresholds.toml).",
)
@click.option("--min-increase-pp", type=float, help="Tool error rate: smallest rise (percentage points) that counts.")
@click.option("--alpha", type=float, help="Significance level of the error-rate and latency tests.")
@click.option("--correction", type=click.Choice(["bh", "holm", "none"]), help="Multiple-testing adjustment of the p-values.")
@click.option("--min-calls", type=int, help="Tool error rate: completed calls each week needs to be tested.")
@click.option("--latency-min-increase-pct", type=float, help="Latency: smallest rise of p50 or p95 (percent) that counts.")
@click.option("--latency-min-samples", type=int, help="Latency: observations each week needs to be tested.")
@click.option("--md-images", type=click.Choice(["png", "svg"]), default="png", show_default=True, help="Image format of the Markdown version.")
@click.option("--fail-on-regression", is_flag=True, help="Exit with status 3 when a regression is flagged (for CI).")
@click.option("--project", help="Only this project's sessions (an unknown name draws a warning listing the closest).")
@click.option("--json", "as_json", is_flag=True, help="Print files, week and regressions as JSON.")
def weekly(
    week,
    out_dir,
    formats,
    warehouse,
    thresholds_file,
    min_increase_pp,
    alpha,
    correction,
    min_calls,
    latency_min_increase_pct,
    latency_min_samples,
    md_images,
    fail_on_regression,
    project,
    as_json,
):
    """Write the weekly quality report: headline KPIs with week-over-week deltas, tool error
    rates, latency percentiles, tokens and cost, failure clusters, model comparison and data
    quality, with regressions flagged.

    \b
    Week: --week, or by default the latest ISO week (Monday-Sunday, UTC) that has events:
    the week of the last day with events. Data ending on Monday 2026-08-03 reports on
    2026-W32, marked incomplete (a warning on stderr says where the data ends). A chosen
    week without events still gets a report, marked "No sessions in this week", and a
    warning naming the nearest weeks with events.

    \b
    Files: OUT/weekly-<week>.html (self-contained, renders offline),
           OUT/weekly-<week>.md + OUT/weekly-<week>_files/ (chart images),
           OUT/sessions/*.html: the session pages the failure exemplars link to
           (`tracelab session KEY --html`, opened at the failing step).
    """
    skip_unused_schema_checkers()
    from tracelab.catalog import connect
    from tracelab.errors import NotFound
    from tracelab.reports import sections
    from tracelab.reports.config import load_thresholds
    from tracelab.reports.data import assemble
    from tracelab.reports.weekly import write_report
    from tracelab.scope import check_project, is_known_project, restrict_to_project

    th = load_thresholds(
        thresholds_file,
        tool_error_rate__min_increase_pp=min_increase_pp,
        tool_error_rate__alpha=alpha,
        tool_error_rate__correction=correction,
        tool_error_rate__min_calls=min_calls,
        tool_error_rate__min_calls_previous=min_calls,
        latency__alpha=alpha,
        latency__correction=correction,
        latency__min_increase_pct=latency_min_increase_pct,
        latency__min_samples=latency_min_samples,
    )
    con = connect(warehouse)
    try:
        if project:
            check_project(con, project)  # an unknown name: a warning listing the closest
            if not is_known_project(con, project):
                raise NotFound(f"no sessions of project {project!r} in this warehouse: nothing to report", project=project)
            restrict_to_project(con, project)
        data = assemble(warehouse, week, th, con=con)
    finally:
        con.close()
    try:
        paths = write_report(data, out_dir, formats, md_images=md_images)
    except ValueError as exc:  # a bad --format list
        fail(str(exc))
    regressions = sections.regressions_of(data)
    for w in data.warnings:
        click.echo(f"warning: {w}", err=True)
    if as_json:
        click.echo(
            to_json(
                {
                    "week": str(data.week),
                    "project": project,
                    "since": data.week.since,
                    "until": data.week.until,
                    "files": {k: str(v) for k, v in paths.items()},
                    "events": data.events,
                    "previous_events": data.previous_events,
                    "warnings": list(data.warnings),
                    "regressions": [{"section": r.section, "text": r.text} for r in regressions],
                    "thresholds": th.to_dict(),
                }
            )
        )
    else:
        click.echo(f"weekly report {data.week} ({data.week.span}) vs {data.previous}" + (f", project {project}" if project else ""))
        for fmt_, p in paths.items():
            click.echo(f"  {fmt_:<4} {p}")
        if regressions:
            click.echo(f"{len(regressions)} regression(s):")
            for r in regressions:
                click.echo(f"  - {r.text}")
        elif not data.events:
            click.echo("no regressions flagged (no sessions in this week)")
        else:
            click.echo("no regressions flagged")
    if fail_on_regression and regressions:
        raise SystemExit(3)
